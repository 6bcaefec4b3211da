//! Login sessions and their refresh tokens (`sessions`, `refresh_tokens`).
//!
//! A session is one refresh-token family. Refresh rotates the token with an
//! atomic claim: one batch (a D1 transaction) marks the presented token
//! rotated *only if it was not already* and, in the same transaction, inserts
//! its successor and touches the session only if that mark is ours — so two
//! concurrent uses of one token cannot both rotate it. A rotated token
//! presented again ends the whole session (theft), except the immediately
//! previous token within [`GRACE_MS`] of its rotation (parallel tabs, a
//! retried request): that answers `AUTH_REFRESH_SUPERSEDED` and revokes
//! nothing. Lifetimes: [`ABSOLUTE_TTL_MS`] from login, [`IDLE_TTL_MS`]
//! without a refresh.
use sealpost_api::account::SessionItem;
use sealpost_ports::{PortError, Rng, SiteDb, Sql, Statement, rfc3339};

pub use sealpost_guard::session::{ABSOLUTE_TTL_MS, IDLE_TTL_MS, SessionState};

use crate::audit::Origin;
use crate::tokens::{hash_refresh_token, new_refresh_token};

/// How long after its rotation the previous token is a harmless retry.
pub const GRACE_MS: i64 = 10_000;
/// Most sessions listed by `GET /auth/sessions`.
pub const MAX_LISTED: i64 = 100;

/// A session about to be opened: its id, the refresh token to hand out
/// (shown once, stored hashed) and the statements that create it.
pub struct NewSession {
    pub id: String,
    pub refresh_token: String,
    pub statements: Vec<Statement>,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Prepares a new session for `user_id` with second factor `amr`.
pub fn open<S: Sql>(
    db: &SiteDb<'_, S>,
    rng: &impl Rng,
    now_ms: i64,
    user_id: &str,
    amr: &[&str],
    origin: &Origin,
) -> Result<NewSession, PortError> {
    let id = rng.id()?;
    let (refresh_token, hash) = new_refresh_token(rng)?;
    let amr = serde_json::Value::Array(amr.iter().map(|m| (*m).into()).collect()).to_string();
    let statements = vec![
        db.statement(
            "INSERT INTO sessions (site_id, id, user_id, amr, created_at, last_used_at, \
             expires_at, user_agent, ip_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
        )
        .bind(id.as_str())
        .bind(user_id)
        .bind(amr)
        .bind(now_ms)
        .bind(now_ms + ABSOLUTE_TTL_MS)
        .bind(origin.user_agent.as_str())
        .bind(origin.ip_hash.as_str()),
        db.statement(
            "INSERT INTO refresh_tokens (site_id, hash, session_id, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(hash)
        .bind(id.as_str())
        .bind(now_ms),
    ];
    Ok(NewSession {
        id,
        refresh_token,
        statements,
    })
}

#[derive(serde::Deserialize)]
struct TokenRow {
    session_id: String,
    rotated_at: Option<i64>,
    next_hash: Option<String>,
    next_rotated_at: Option<i64>,
    next_exists: i64,
    user_id: String,
    amr: String,
    revoked_at: Option<i64>,
    expires_at: i64,
    last_used_at: i64,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Refresh {
    /// Rotated: the session continues with `refresh_token`.
    Rotated {
        session_id: String,
        user_id: String,
        amr: Vec<String>,
        refresh_token: String,
    },
    /// Unknown token, or its session expired: `AUTH_TOKEN_INVALID`.
    Invalid,
    /// Its session was ended: `AUTH_TOKEN_REVOKED`.
    Revoked,
    /// The immediately previous token within the grace period:
    /// `AUTH_REFRESH_SUPERSEDED`, nothing revoked.
    Superseded,
    /// A rotated token used again: the session is now revoked
    /// (`AUTH_REFRESH_REUSED`, audited by the caller).
    Reused { session_id: String, user_id: String },
}

/// Presents refresh token `token` at `now_ms`.
pub async fn refresh<S: Sql>(
    db: &SiteDb<'_, S>,
    rng: &impl Rng,
    now_ms: i64,
    token: &str,
) -> Result<Refresh, PortError> {
    let hash = hash_refresh_token(token);
    let row: Option<TokenRow> = db
        .query_one(
            &db.statement(
                "SELECT t.session_id, t.rotated_at, t.next_hash, \
                   n.rotated_at AS next_rotated_at, (n.hash IS NOT NULL) AS next_exists, \
                   s.user_id, s.amr, s.revoked_at, s.expires_at, s.last_used_at \
                 FROM refresh_tokens t \
                 JOIN sessions s ON s.id = t.session_id AND s.site_id = t.site_id \
                 LEFT JOIN refresh_tokens n ON n.hash = t.next_hash AND n.site_id = t.site_id \
                 WHERE t.site_id = ?1 AND t.hash = ?2",
            )
            .bind(hash.as_str()),
        )
        .await?;
    let Some(row) = row else {
        return Ok(Refresh::Invalid);
    };
    if row.revoked_at.is_some() {
        return Ok(Refresh::Revoked);
    }
    if now_ms >= row.expires_at || now_ms >= row.last_used_at.saturating_add(IDLE_TTL_MS) {
        return Ok(Refresh::Invalid);
    }
    if let Some(rotated_at) = row.rotated_at {
        return rotated_again(db, now_ms, &row, rotated_at).await;
    }

    // The atomic claim: the successor and the touch apply only if our mark
    // on the presented token is the one that landed.
    let (next_token, next_hash) = new_refresh_token(rng)?;
    let owned =
        "EXISTS (SELECT 1 FROM refresh_tokens WHERE site_id = ?1 AND hash = ?2 AND next_hash = ?3)";
    let results = db
        .batch(&[
            db.statement(
                "UPDATE refresh_tokens SET rotated_at = ?4, next_hash = ?3 \
                 WHERE site_id = ?1 AND hash = ?2 AND rotated_at IS NULL",
            )
            .bind(hash.as_str())
            .bind(next_hash.as_str())
            .bind(now_ms),
            db.statement(
                "INSERT INTO refresh_tokens (site_id, hash, session_id, created_at) \
                 SELECT ?1, ?3, ?4, ?5 FROM refresh_tokens \
                 WHERE site_id = ?1 AND hash = ?2 AND next_hash = ?3",
            )
            .bind(hash.as_str())
            .bind(next_hash.as_str())
            .bind(row.session_id.as_str())
            .bind(now_ms),
            db.statement(&format!(
                "UPDATE sessions SET last_used_at = ?5 \
                 WHERE site_id = ?1 AND id = ?4 AND revoked_at IS NULL AND {owned}"
            ))
            .bind(hash.as_str())
            .bind(next_hash.as_str())
            .bind(row.session_id.as_str())
            .bind(now_ms),
        ])
        .await?;
    let won = results.first().is_some_and(|r| r.changes == 1);
    if !won {
        // Someone rotated it between our read and our claim: a parallel use.
        return Ok(Refresh::Superseded);
    }
    Ok(Refresh::Rotated {
        session_id: row.session_id,
        user_id: row.user_id,
        amr: serde_json::from_str(&row.amr).unwrap_or_default(),
        refresh_token: next_token,
    })
}

async fn rotated_again<S: Sql>(
    db: &SiteDb<'_, S>,
    now_ms: i64,
    row: &TokenRow,
    rotated_at: i64,
) -> Result<Refresh, PortError> {
    // "Immediately previous": its successor is the family's current token
    // (or was never written: the rotating request died mid-way).
    let successor_current =
        row.next_hash.is_some() && (row.next_exists == 0 || row.next_rotated_at.is_none());
    if successor_current && now_ms - rotated_at <= GRACE_MS {
        return Ok(Refresh::Superseded);
    }
    revoke(db, now_ms, &row.session_id, "refresh_reuse").await?;
    Ok(Refresh::Reused {
        session_id: row.session_id.clone(),
        user_id: row.user_id.clone(),
    })
}

/// Ends session `id` (any user): the statement, to join a batch.
pub fn revoke_statement<S: Sql>(
    db: &SiteDb<'_, S>,
    now_ms: i64,
    id: &str,
    reason: &str,
) -> Statement {
    db.statement(
        "UPDATE sessions SET revoked_at = ?3, revoke_reason = ?4 \
         WHERE site_id = ?1 AND id = ?2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(now_ms)
    .bind(reason)
}

/// Ends session `id`; whether it was live.
pub async fn revoke<S: Sql>(
    db: &SiteDb<'_, S>,
    now_ms: i64,
    id: &str,
    reason: &str,
) -> Result<bool, PortError> {
    Ok(db
        .execute(&revoke_statement(db, now_ms, id, reason))
        .await?
        .changes
        == 1)
}

/// Ends every live session of `user_id` except `keep` (password change).
pub fn revoke_others_statement<S: Sql>(
    db: &SiteDb<'_, S>,
    now_ms: i64,
    user_id: &str,
    keep: &str,
    reason: &str,
) -> Statement {
    db.statement(
        "UPDATE sessions SET revoked_at = ?4, revoke_reason = ?5 \
         WHERE site_id = ?1 AND user_id = ?2 AND id <> ?3 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(keep)
    .bind(now_ms)
    .bind(reason)
}

#[derive(serde::Deserialize)]
struct SessionRow {
    id: String,
    created_at: i64,
    last_used_at: i64,
    user_agent: String,
}

/// The live sessions of `user_id`, most recently used first.
pub async fn list<S: Sql>(
    db: &SiteDb<'_, S>,
    now_ms: i64,
    user_id: &str,
    current: &str,
) -> Result<Vec<SessionItem>, PortError> {
    let rows: Vec<SessionRow> = db
        .query_as(
            &db.statement(
                "SELECT id, created_at, last_used_at, user_agent FROM sessions \
                 WHERE site_id = ?1 AND user_id = ?2 AND revoked_at IS NULL \
                   AND expires_at > ?3 AND last_used_at > ?4 \
                 ORDER BY last_used_at DESC, id LIMIT ?5",
            )
            .bind(user_id)
            .bind(now_ms)
            .bind(now_ms - IDLE_TTL_MS)
            .bind(MAX_LISTED),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionItem {
            current: r.id == current,
            id: r.id,
            created_at: rfc3339(r.created_at),
            last_used_at: rfc3339(r.last_used_at),
            user_agent: r.user_agent,
        })
        .collect())
}

/// Whether `id` is a live session of `user_id`.
pub async fn is_live_of<S: Sql>(
    db: &SiteDb<'_, S>,
    now_ms: i64,
    id: &str,
    user_id: &str,
) -> Result<bool, PortError> {
    let state = sealpost_guard::session::load(db, id, user_id).await?;
    Ok(state.is_some_and(|s| s.is_live(now_ms)))
}

/// Deletes sessions (and their tokens) that ended more than a day ago, and
/// spent MFA challenges (the auth cron). Global: every site.
pub async fn purge<S: Sql>(sql: &S, now_ms: i64) -> Result<u64, PortError> {
    let day = 24 * 3_600_000;
    let dead =
        "SELECT id FROM sessions WHERE expires_at <= ?1 OR last_used_at <= ?2 OR revoked_at <= ?1";
    let results = sql
        .batch(&[
            Statement::new(format!(
                "DELETE FROM refresh_tokens WHERE session_id IN ({dead})"
            ))
            .bind(now_ms - day)
            .bind(now_ms - day - IDLE_TTL_MS),
            Statement::new(format!("DELETE FROM sessions WHERE id IN ({dead})"))
                .bind(now_ms - day)
                .bind(now_ms - day - IDLE_TTL_MS),
            Statement::new("DELETE FROM mfa_challenges WHERE expires_at <= ?1").bind(now_ms),
        ])
        .await?;
    Ok(results.iter().map(|r| r.changes).sum())
}
