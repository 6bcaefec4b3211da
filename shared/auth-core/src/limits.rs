//! Strongly consistent counters in D1 (`auth_counters`): per-IP limits on
//! signup, login, MFA and refresh, and the login lockout (5 failures per
//! e-mail in 15 minutes lock it for 15 minutes). Each check is one atomic
//! upsert with `RETURNING`, so a burst of parallel requests cannot overshoot:
//! D1 applies writes one at a time on its primary. KV could not do this
//! (eventually consistent, one write per key per second) — docs/adr/0010.
//!
//! The lockout counts *attempts before* the password is verified: an attempt
//! first claims a slot, and only claimed attempts reach Argon2id; a success
//! clears the counter ([`reset`]). So 50 parallel wrong logins make at most
//! five password verifications.
use sealpost_api::{ApiError, ErrorCode};
use std::collections::HashMap;

use sealpost_ports::{MAX_BOUND_PARAMS, PortError, SiteDb, Sql, Statement};

/// A fixed-window limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Counter key prefix.
    pub name: &'static str,
    pub max: i64,
    pub window_ms: i64,
}

const MINUTE_MS: i64 = 60_000;

/// Signups per IP: 10 per hour.
pub const SIGNUP_PER_IP: Limit = Limit {
    name: "ip:signup",
    max: 10,
    window_ms: 60 * MINUTE_MS,
};
/// Logins per IP: 60 per 10 minutes.
pub const LOGIN_PER_IP: Limit = Limit {
    name: "ip:login",
    max: 60,
    window_ms: 10 * MINUTE_MS,
};
/// Second-factor attempts per IP (login/mfa, TOTP enable/disable): 30 per 10 minutes.
pub const MFA_PER_IP: Limit = Limit {
    name: "ip:mfa",
    max: 30,
    window_ms: 10 * MINUTE_MS,
};
/// Refreshes per IP: 120 per 10 minutes.
pub const REFRESH_PER_IP: Limit = Limit {
    name: "ip:refresh",
    max: 120,
    window_ms: 10 * MINUTE_MS,
};

/// Second-factor attempts per account (login/mfa, TOTP enable/disable): 10
/// per 15 minutes, whatever the address — with the password known, new
/// `mfaToken`s are cheap, so the code itself needs a per-account bound.
pub const MFA_PER_USER: Limit = Limit {
    name: "user:mfa",
    max: 10,
    window_ms: 15 * MINUTE_MS,
};

/// Failed logins per e-mail before the lock.
pub const MAX_LOGIN_FAILURES: i64 = 5;
/// The window those failures are counted in.
pub const FAILURE_WINDOW_MS: i64 = 15 * MINUTE_MS;
/// How long the lock lasts, from the attempt that reached the limit.
pub const LOCK_MS: i64 = 15 * MINUTE_MS;

#[derive(serde::Deserialize)]
struct Counter {
    count: i64,
    window_at: i64,
    locked_until: Option<i64>,
}

fn retry_after_secs(until_ms: i64, now_ms: i64) -> u32 {
    let ms = (until_ms - now_ms).max(1_000);
    u32::try_from((ms + 999) / 1_000).unwrap_or(u32::MAX)
}

/// Counts one request of `subject` (a keyed hash) against `limit`:
/// `Err(429 RATE_LIMITED with Retry-After)` once over it.
pub async fn hit<S: Sql>(
    db: &SiteDb<'_, S>,
    limit: Limit,
    subject: &str,
    now_ms: i64,
) -> Result<Result<(), ApiError>, PortError> {
    let stmt = db
        .statement(
            "INSERT INTO auth_counters (site_id, key, window_at, count) VALUES (?1, ?2, ?3, 1) \
             ON CONFLICT (site_id, key) DO UPDATE SET \
               count = CASE WHEN window_at <= ?4 THEN 1 ELSE count + 1 END, \
               window_at = CASE WHEN window_at <= ?4 THEN ?3 ELSE window_at END \
             WHERE site_id = ?1 \
             RETURNING count, window_at, locked_until",
        )
        .bind(format!("{}:{subject}", limit.name))
        .bind(now_ms)
        .bind(now_ms - limit.window_ms);
    let row: Counter = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| PortError::Sql("counter upsert returned no row".into()))?;
    if row.count > limit.max {
        let secs = retry_after_secs(row.window_at + limit.window_ms, now_ms);
        return Ok(Err(ApiError::rate_limited(secs)));
    }
    Ok(Ok(()))
}

/// The lockout counter's key for a normalised e-mail's keyed hash.
pub fn login_key(email_hash: &str) -> String {
    format!("login:{email_hash}")
}

/// The outcome of claiming a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt may verify the password; `last` when it is the one that
    /// reached the limit (its failure locks the account).
    Granted { last: bool },
    /// Locked: 423 `AUTH_LOCKED` for this many seconds.
    Locked { retry_after_secs: u32 },
}

impl Attempt {
    /// The 423 answer of a locked attempt.
    pub fn locked_error(retry_after_secs: u32) -> ApiError {
        ApiError::new(ErrorCode::AuthLocked)
            .with_message("Too many failed logins; try again later")
            .with_retry_after(retry_after_secs)
    }
}

/// Claims one login attempt for `key` (see [`login_key`]) before the
/// password is verified. The attempt that reaches [`MAX_LOGIN_FAILURES`]
/// starts the lock at once, so parallel attempts behind it are refused
/// without verification; a success lifts it ([`reset`]).
pub async fn claim_attempt<S: Sql>(
    db: &SiteDb<'_, S>,
    key: &str,
    now_ms: i64,
) -> Result<Attempt, PortError> {
    // A counter restarts once both its window and any lock are over.
    let stmt = db
        .statement(
            "INSERT INTO auth_counters (site_id, key, window_at, count) VALUES (?1, ?2, ?3, 1) \
             ON CONFLICT (site_id, key) DO UPDATE SET \
               count = CASE WHEN window_at <= ?4 AND (locked_until IS NULL OR locked_until <= ?3) \
                            THEN 1 ELSE count + 1 END, \
               locked_until = CASE \
                   WHEN window_at <= ?4 AND (locked_until IS NULL OR locked_until <= ?3) THEN NULL \
                   WHEN locked_until IS NULL AND count + 1 >= ?5 THEN ?3 + ?6 \
                   ELSE locked_until END, \
               window_at = CASE WHEN window_at <= ?4 AND (locked_until IS NULL OR locked_until <= ?3) \
                                THEN ?3 ELSE window_at END \
             WHERE site_id = ?1 \
             RETURNING count, window_at, locked_until",
        )
        .bind(key)
        .bind(now_ms)
        .bind(now_ms - FAILURE_WINDOW_MS)
        .bind(MAX_LOGIN_FAILURES)
        .bind(LOCK_MS);
    let row: Counter = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| PortError::Sql("counter upsert returned no row".into()))?;
    if row.count <= MAX_LOGIN_FAILURES {
        return Ok(Attempt::Granted {
            last: row.count == MAX_LOGIN_FAILURES,
        });
    }
    let until = row.locked_until.unwrap_or(now_ms + LOCK_MS);
    Ok(Attempt::Locked {
        retry_after_secs: retry_after_secs(until, now_ms),
    })
}

/// Clears a counter (a successful login). A statement, to join a batch.
pub fn reset<S: Sql>(db: &SiteDb<'_, S>, key: &str) -> Statement {
    db.statement("DELETE FROM auth_counters WHERE site_id = ?1 AND key = ?2")
        .bind(key)
}

/// Which of `keys` are locked at `now_ms`, and until when (ms): for the admin
/// table. At most two statements for a page of 100 (D1's 100 bound
/// parameters: the site, `now` and 98 keys per statement).
pub async fn locked_until<S: Sql>(
    db: &SiteDb<'_, S>,
    keys: &[String],
    now_ms: i64,
) -> Result<HashMap<String, i64>, PortError> {
    #[derive(serde::Deserialize)]
    struct Row {
        key: String,
        locked_until: i64,
    }
    let mut locked = HashMap::new();
    for chunk in keys.chunks(MAX_BOUND_PARAMS - 2) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("?{}", i + 3)).collect();
        let mut stmt = db
            .statement(&format!(
                "SELECT key, locked_until FROM auth_counters WHERE site_id = ?1 \
                 AND locked_until > ?2 AND key IN ({})",
                marks.join(", ")
            ))
            .bind(now_ms);
        for key in chunk {
            stmt = stmt.bind(key.as_str());
        }
        let rows: Vec<Row> = db.query_as(&stmt).await?;
        locked.extend(rows.into_iter().map(|r| (r.key, r.locked_until)));
    }
    Ok(locked)
}

/// Deletes counters whose window and lock are both over (the auth cron).
/// The longest window is an hour.
pub async fn purge<S: Sql>(sql: &S, now_ms: i64) -> Result<u64, PortError> {
    let stmt = Statement::new(
        "DELETE FROM auth_counters WHERE window_at <= ?1 AND (locked_until IS NULL OR locked_until <= ?2)",
    )
    .bind(now_ms - SIGNUP_PER_IP.window_ms.max(FAILURE_WINDOW_MS))
    .bind(now_ms);
    Ok(sql.execute(&stmt).await?.changes)
}
