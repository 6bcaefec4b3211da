//! The global send-rate cap: provider calls per second across every
//! consumer invocation, as a GCRA (a token bucket in one number) kept in the
//! one row `send_rate('provider')`. Taking a slot is ONE statement — an
//! upsert whose `DO UPDATE … WHERE` admits the call only while the
//! theoretical arrival time is within the burst tolerance — so concurrent
//! consumers never take more than the cap between them (D1 applies
//! statements one at a time). A refusal reads the cell once more to say how
//! long to wait. A request that can wait a moment (a subscribe's email)
//! reserves the next slot within a short wait instead ([`reserve_slot`]),
//! through the same cell.
use sealpost_ports::{PortError, Sql, Statement};
use serde::Deserialize;

use crate::settings::Settings;

/// The `send_rate` row of the email provider.
pub const PROVIDER: &str = "provider";

#[derive(Deserialize)]
struct Tat {
    tat_ms: i64,
}

/// Milliseconds between two calls at the sustained rate (rounded up, so
/// the cap is never exceeded).
fn interval_ms(settings: &Settings) -> i64 {
    let per_sec = i64::from(settings.send_rate_per_sec.max(1));
    (1000 + per_sec - 1) / per_sec
}

/// Takes one provider-call slot at `now_ms`: `None` = go; `Some(n)` = the
/// cap is reached, try again in `n` ≥ 1 seconds. Allows
/// `send_rate_burst` calls back to back, then `send_rate_per_sec` a second.
pub async fn take_slot<S: Sql>(
    sql: &S,
    now_ms: i64,
    settings: &Settings,
) -> Result<Option<u32>, PortError> {
    Ok(match reserve_slot(sql, now_ms, settings, 0).await? {
        Reservation::Reserved { .. } => None,
        Reservation::Full { retry_after_secs } => Some(retry_after_secs),
    })
}

/// Waits a little: a request that reserved a slot a few hundred
/// milliseconds ahead ([`reserve_slot`]) waits for it (the worker: a
/// timer; the tests: their manual clock).
#[allow(async_fn_in_trait)]
pub trait Pause {
    async fn pause_ms(&self, ms: u32);
}

/// The answer of [`reserve_slot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// A slot is taken for the caller: make the call after `wait_ms`
    /// (0 = now).
    Reserved { wait_ms: u32 },
    /// No slot comes within the wait: nothing is taken; try again in
    /// `retry_after_secs` ≥ 1 seconds.
    Full { retry_after_secs: u32 },
}

/// Takes the first provider-call slot that comes within `max_wait_ms` of
/// `now_ms` with ONE conditional upsert of the cell ([`take_slot`] is the
/// case `max_wait_ms` = 0), admitting a call whose conforming time (the theoretical
/// arrival time less the burst tolerance) is at most `now + max_wait`.
/// The cell moves one interval either way, so a reserved call counts
/// against the cap exactly like an immediate one and the consumers wait
/// behind it.
pub async fn reserve_slot<S: Sql>(
    sql: &S,
    now_ms: i64,
    settings: &Settings,
    max_wait_ms: u32,
) -> Result<Reservation, PortError> {
    let interval = interval_ms(settings);
    let tolerance = interval * (i64::from(settings.send_rate_burst.max(1)) - 1);
    let taken: Option<Tat> = sql
        .query_one(
            &Statement::new(
                "INSERT INTO send_rate (id, tat_ms) VALUES (?1, ?2 + ?3) \
                 ON CONFLICT (id) DO UPDATE SET tat_ms = max(tat_ms, ?2) + ?3 \
                 WHERE max(tat_ms, ?2) - ?4 <= ?2 + ?5 \
                 RETURNING tat_ms",
            )
            .bind(PROVIDER)
            .bind(now_ms)
            .bind(interval)
            .bind(tolerance)
            .bind(i64::from(max_wait_ms)),
        )
        .await?;
    if let Some(t) = taken {
        // The call conforms at (new tat − interval − tolerance).
        let wait = (t.tat_ms - interval - tolerance - now_ms).clamp(0, i64::from(max_wait_ms));
        return Ok(Reservation::Reserved {
            wait_ms: u32::try_from(wait).unwrap_or(max_wait_ms),
        });
    }
    let cell: Option<Tat> = sql
        .query_one(&Statement::new("SELECT tat_ms FROM send_rate WHERE id = ?1").bind(PROVIDER))
        .await?;
    let wait_ms = cell.map_or(0, |c| c.tat_ms - tolerance - now_ms);
    let secs = (wait_ms.max(1) + 999) / 1000;
    Ok(Reservation::Full {
        retry_after_secs: u32::try_from(secs).unwrap_or(u32::MAX).max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_testkit::{SqliteDb, block_on};

    const NOW: i64 = 1_795_000_000_000;

    fn reserve(db: &SqliteDb, now: i64, max_wait: u32) -> Reservation {
        block_on(reserve_slot(db, now, &Settings::default(), max_wait)).expect("reserve")
    }

    #[test]
    fn reservations_queue_behind_each_other_at_the_cap() {
        // 2 calls a second, a burst of 2: two now, then one every 500 ms.
        let db = SqliteDb::open_migrated();
        let waits: Vec<Reservation> = (0..5).map(|_| reserve(&db, NOW, 2_000)).collect();
        let expected = [0, 0, 500, 1_000, 1_500].map(|wait_ms| Reservation::Reserved { wait_ms });
        assert_eq!(waits, expected);
    }

    #[test]
    fn a_slot_beyond_the_wait_is_refused_and_takes_nothing() {
        let db = SqliteDb::open_migrated();
        for _ in 0..3 {
            reserve(&db, NOW, 500);
        }
        let full = reserve(&db, NOW, 500);
        assert_eq!(
            full,
            Reservation::Full {
                retry_after_secs: 1
            }
        );
        // Nothing was taken: the consumers' next slot is where it was.
        assert_eq!(
            block_on(take_slot(&db, NOW + 1_000, &Settings::default())).expect("slot"),
            None
        );
        assert_eq!(
            block_on(take_slot(&db, NOW + 1_000, &Settings::default())).expect("slot"),
            Some(1)
        );
    }
}
