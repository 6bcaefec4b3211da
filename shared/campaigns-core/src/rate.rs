//! The global send-rate cap: provider calls per second across every
//! consumer invocation, as a GCRA (a token bucket in one number) kept in the
//! one row `send_rate('provider')`. Taking a slot is ONE statement — an
//! upsert whose `DO UPDATE … WHERE` admits the call only while the
//! theoretical arrival time is within the burst tolerance — so concurrent
//! consumers never take more than the cap between them (D1 applies
//! statements one at a time). A refusal reads the cell once more to say how
//! long to wait.
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
    let interval = interval_ms(settings);
    let tolerance = interval * (i64::from(settings.send_rate_burst.max(1)) - 1);
    let taken: Option<Tat> = sql
        .query_one(
            &Statement::new(
                "INSERT INTO send_rate (id, tat_ms) VALUES (?1, ?2 + ?3) \
                 ON CONFLICT (id) DO UPDATE SET tat_ms = max(tat_ms, ?2) + ?3 \
                 WHERE max(tat_ms, ?2) - ?4 <= ?2 \
                 RETURNING tat_ms",
            )
            .bind(PROVIDER)
            .bind(now_ms)
            .bind(interval)
            .bind(tolerance),
        )
        .await?;
    if taken.is_some() {
        return Ok(None);
    }
    let cell: Option<Tat> = sql
        .query_one(&Statement::new("SELECT tat_ms FROM send_rate WHERE id = ?1").bind(PROVIDER))
        .await?;
    let wait_ms = cell.map_or(0, |c| c.tat_ms - tolerance - now_ms);
    let secs = (wait_ms.max(1) + 999) / 1000;
    Ok(Some(u32::try_from(secs).unwrap_or(u32::MAX).max(1)))
}
