//! Revocation, shared by every worker: an access token is live only while
//! its session is (`sessions` in D1, written by auth alone) and while the
//! user's roles and the session's second factor are still those the token
//! carries. One indexed read per authenticated request, strongly consistent
//! (D1's primary), so logout and revocation take effect at once everywhere —
//! docs/adr/0009.
use sealpost_api::{ApiError, ErrorCode, Failure};
use sealpost_ports::{Clock, SiteDb, Sql};

use crate::{AccessClaims, RevocationCheck, Role, Verifier, bearer};

/// A session ends 30 days after its login, whatever happens.
pub const ABSOLUTE_TTL_MS: i64 = 30 * 24 * 3_600_000;
/// A session ends after 7 days without a refresh.
pub const IDLE_TTL_MS: i64 = 7 * 24 * 3_600_000;

/// What revocation needs of a session (and its user's roles).
#[derive(Debug, serde::Deserialize)]
pub struct SessionState {
    pub amr: String,
    pub revoked_at: Option<i64>,
    pub expires_at: i64,
    pub last_used_at: i64,
    pub roles: String,
}

impl SessionState {
    /// Whether the session still lives at `now_ms`.
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.revoked_at.is_none()
            && now_ms < self.expires_at
            && now_ms < self.last_used_at.saturating_add(IDLE_TTL_MS)
    }

    /// Whether a token with these claims matches the session's current
    /// second factor and the user's current roles.
    pub fn matches(&self, claims: &AccessClaims) -> bool {
        let amr: Vec<String> = serde_json::from_str(&self.amr).unwrap_or_default();
        let stored: Vec<String> = serde_json::from_str(&self.roles).unwrap_or_default();
        sorted(amr) == sorted(claims.amr.clone()) && role_set(&stored) == role_set(&claims.roles)
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn role_set(names: &[String]) -> Vec<Role> {
    let mut roles: Vec<Role> = names.iter().filter_map(|n| Role::parse(n)).collect();
    if roles.is_empty() {
        roles.push(Role::Member);
    }
    roles.sort_by_key(|r| r.as_str());
    roles.dedup();
    roles
}

/// Reads the state of session `sid` of user `sub`, if it exists.
pub async fn load<S: Sql>(
    db: &SiteDb<'_, S>,
    sid: &str,
    sub: &str,
) -> Result<Option<SessionState>, sealpost_ports::PortError> {
    db.query_one(
        &db.statement(
            "SELECT s.amr, s.revoked_at, s.expires_at, s.last_used_at, u.roles \
             FROM sessions s JOIN users u ON u.id = s.user_id AND u.site_id = s.site_id \
             WHERE s.site_id = ?1 AND s.id = ?2 AND s.user_id = ?3",
        )
        .bind(sid)
        .bind(sub),
    )
    .await
}

/// The caller of a bearer route: the `Authorization` header's token,
/// authentic and unexpired at `clock`'s time, its session live in `db` with
/// the token's roles and second factor. No usable token is
/// `AUTH_REQUIRED` (checked first), no `verifier` (the keys could not be
/// had) a platform failure, a bad token `AUTH_TOKEN_INVALID`, an ended
/// session `AUTH_TOKEN_REVOKED`. Role checks are the route's.
pub async fn live_caller<S: Sql>(
    verifier: Option<&Verifier>,
    authorization: Option<&str>,
    db: &SiteDb<'_, S>,
    clock: &impl Clock,
) -> Result<AccessClaims, Failure> {
    let token = bearer(authorization)?;
    let verifier = verifier.ok_or_else(|| Failure::Config("no access-token keys".into()))?;
    let check = SessionCheck {
        db,
        now_ms: clock.now_ms(),
    };
    Ok(verifier
        .verify_live(token, clock.now_secs(), &check)
        .await?)
}

/// The [`RevocationCheck`] over the shared database, at `now_ms`.
#[derive(Debug)]
pub struct SessionCheck<'a, 'b, S: Sql> {
    pub db: &'a SiteDb<'b, S>,
    pub now_ms: i64,
}

impl<S: Sql> RevocationCheck for SessionCheck<'_, '_, S> {
    async fn is_revoked(&self, claims: &AccessClaims) -> Result<bool, ApiError> {
        // Fail closed: a store that cannot answer admits no one.
        let state = load(self.db, &claims.sid, &claims.sub)
            .await
            .map_err(|_| ApiError::new(ErrorCode::ServiceUnavailable))?;
        Ok(!state.is_some_and(|s| s.is_live(self.now_ms) && s.matches(claims)))
    }
}
