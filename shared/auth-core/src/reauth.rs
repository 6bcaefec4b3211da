//! Recent authentication: changes that would let a stolen access token take
//! the account over (enrolling a second factor, which hands out its
//! recovery codes) need a session whose login is recent, or the current
//! password in the same request.
//!
//! A session's login time is `sessions.created_at`: it is written once, when
//! the login (password, and second factor where enrolled) completes, and a
//! refresh keeps it — a refreshed access token is as old as its login. The
//! policy is a pure function of that time and the clock; the password check
//! itself (Argon2id, counted against the login lockout) is the service's.
use sealpost_ports::{PortError, SiteDb, Sql};

/// How long after its login a session counts as recently authenticated.
pub const RECENT_LOGIN_MS: i64 = 5 * 60_000;

/// What a sensitive change needs of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The login is less than [`RECENT_LOGIN_MS`] old: nothing more.
    Recent,
    /// Older (or the session's time is unusable): the current password too.
    NeedsPassword,
}

/// The freshness of a session that logged in at `login_ms`, at `now_ms`.
/// The age is computed with checked arithmetic; a login time in the future
/// (another clock ahead of ours) or out of range is not trusted as recent.
pub fn freshness(login_ms: i64, now_ms: i64) -> Freshness {
    match now_ms.checked_sub(login_ms) {
        Some(age) if (0..RECENT_LOGIN_MS).contains(&age) => Freshness::Recent,
        _ => Freshness::NeedsPassword,
    }
}

/// The login time of session `sid` of user `sub`, if it exists.
pub async fn login_time<S: Sql>(
    db: &SiteDb<'_, S>,
    sid: &str,
    sub: &str,
) -> Result<Option<i64>, PortError> {
    #[derive(serde::Deserialize)]
    struct Row {
        created_at: i64,
    }
    let row: Option<Row> = db
        .query_one(
            &db.statement(
                "SELECT created_at FROM sessions WHERE site_id = ?1 AND id = ?2 AND user_id = ?3",
            )
            .bind(sid)
            .bind(sub),
        )
        .await?;
    Ok(row.map(|r| r.created_at))
}

#[cfg(test)]
mod tests {
    use super::{Freshness, RECENT_LOGIN_MS, freshness};

    /// (login time, now, freshness): the window is `[login, login + 5 min)`.
    const VECTORS: [(i64, i64, Freshness); 8] = [
        (1_000, 1_000, Freshness::Recent),
        (1_000, 1_000 + RECENT_LOGIN_MS - 1, Freshness::Recent),
        (1_000, 1_000 + RECENT_LOGIN_MS, Freshness::NeedsPassword),
        (1_000, 999, Freshness::NeedsPassword),
        (i64::MIN, 0, Freshness::NeedsPassword),
        (i64::MAX, i64::MIN, Freshness::NeedsPassword),
        (i64::MIN, i64::MAX, Freshness::NeedsPassword),
        (0, i64::MAX, Freshness::NeedsPassword),
    ];

    #[test]
    fn a_login_is_recent_for_five_minutes_and_no_time_wraps_into_that() {
        for (login, now, expected) in VECTORS {
            assert_eq!(freshness(login, now), expected, "login {login}, now {now}");
        }
    }
}
