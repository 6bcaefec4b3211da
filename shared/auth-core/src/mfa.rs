//! The second factor's storage: TOTP secrets on the user row (sealed with
//! the data key), single-use codes (`users.mfa_last_step`), recovery codes
//! (`recovery_codes`, keyed hashes) and the login challenge behind an
//! `mfaToken` (`mfa_challenges`: 5 minutes, single use, at most
//! [`MAX_CODE_ATTEMPTS`] codes, bound to its user).
use sealpost_ports::{PortError, Rng, SiteDb, Sql, Statement};
use zeroize::Zeroizing;

use crate::accounts::UserRow;
use crate::secrets::AuthSecrets;
use crate::tokens::{hash_refresh_token, new_refresh_token};
use crate::totp;

/// How long an `mfaToken` lives.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60_000;
/// Wrong codes one `mfaToken` survives.
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// The `issuer` of `otpauth://` URIs.
pub const ISSUER: &str = "Sealpost";

/// A typed second-factor code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// Six digits.
    Totp(String),
    /// A recovery code, normalised.
    Recovery(String),
}

impl Code {
    /// Six digits are a TOTP code; 8 Crockford base32 characters (dashes,
    /// spaces and case ignored) a recovery code; anything else is refused.
    pub fn parse(raw: &str, allow_recovery: bool) -> Option<Code> {
        let trimmed = raw.trim();
        if trimmed.len() == 6 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Code::Totp(trimmed.to_owned()));
        }
        let normal = totp::normalize_recovery_code(trimmed);
        let valid = normal.len() == 8
            && normal
                .bytes()
                .all(|b| b"0123456789abcdefghjkmnpqrstvwxyz".contains(&b));
        (allow_recovery && valid).then_some(Code::Recovery(normal))
    }
}

/// Opens the user's enabled TOTP secret.
pub fn secret(secrets: &AuthSecrets, user: &UserRow) -> Option<Zeroizing<Vec<u8>>> {
    totp::open_secret(&secrets.totp, &user.id, user.mfa_secret.as_deref()?)
}

/// Opens the secret of a setup not yet enabled.
pub fn pending_secret(secrets: &AuthSecrets, user: &UserRow) -> Option<Zeroizing<Vec<u8>>> {
    totp::open_secret(&secrets.totp, &user.id, user.mfa_pending.as_deref()?)
}

/// Spends TOTP step `step` for `user_id`: `false` when that step (or a later
/// one) was already used — a concurrent use of the same code loses here.
pub async fn spend_step<S: Sql>(
    db: &SiteDb<'_, S>,
    user_id: &str,
    step: u64,
) -> Result<bool, PortError> {
    let step = i64::try_from(step).map_err(|_| PortError::Decode("totp step".into()))?;
    let r = db
        .execute(
            &db.statement(
                "UPDATE users SET mfa_last_step = ?3 WHERE site_id = ?1 AND id = ?2 \
                 AND (mfa_last_step IS NULL OR mfa_last_step < ?3)",
            )
            .bind(user_id)
            .bind(step),
        )
        .await?;
    Ok(r.changes == 1)
}

/// Spends recovery code `code` (normalised) of `user_id`: `false` when it is
/// not one of theirs or already used.
pub async fn spend_recovery<S: Sql>(
    db: &SiteDb<'_, S>,
    secrets: &AuthSecrets,
    user_id: &str,
    code: &str,
    now_ms: i64,
) -> Result<bool, PortError> {
    let r = db
        .execute(
            &db.statement(
                "UPDATE recovery_codes SET used_at = ?4 WHERE site_id = ?1 AND user_id = ?2 \
                 AND code_hash = ?3 AND used_at IS NULL",
            )
            .bind(user_id)
            .bind(totp::hash_recovery_code(secrets.recovery_key(), code))
            .bind(now_ms),
        )
        .await?;
    Ok(r.changes == 1)
}

/// Checks `code` against the user's enabled factor and spends it. Returns
/// whether it was accepted and whether it was a recovery code.
pub async fn check_and_spend<S: Sql>(
    db: &SiteDb<'_, S>,
    secrets: &AuthSecrets,
    user: &UserRow,
    code: &Code,
    now_ms: i64,
) -> Result<Option<bool>, PortError> {
    match code {
        Code::Totp(digits) => {
            let Some(secret) = secret(secrets, user) else {
                return Ok(None);
            };
            let last = user.mfa_last_step.and_then(|s| u64::try_from(s).ok());
            let Some(step) = totp::verify(&secret, digits, now_ms / 1000, last) else {
                return Ok(None);
            };
            Ok(spend_step(db, &user.id, step).await?.then_some(false))
        }
        Code::Recovery(normal) => Ok(spend_recovery(db, secrets, &user.id, normal, now_ms)
            .await?
            .then_some(true)),
    }
}

/// The statements that replace a user's recovery codes with `codes`.
pub fn store_recovery_codes<S: Sql>(
    db: &SiteDb<'_, S>,
    secrets: &AuthSecrets,
    user_id: &str,
    codes: &[String],
) -> Vec<Statement> {
    let mut insert =
        String::from("INSERT INTO recovery_codes (site_id, user_id, code_hash) VALUES ");
    let tuples: Vec<String> = (0..codes.len())
        .map(|i| format!("(?1, ?2, ?{})", i + 3))
        .collect();
    insert.push_str(&tuples.join(", "));
    let mut stmt = db.statement(&insert).bind(user_id);
    for code in codes {
        stmt = stmt.bind(totp::hash_recovery_code(secrets.recovery_key(), code));
    }
    vec![delete_recovery_codes(db, user_id), stmt]
}

/// Deletes every recovery code of `user_id`.
pub fn delete_recovery_codes<S: Sql>(db: &SiteDb<'_, S>, user_id: &str) -> Statement {
    db.statement("DELETE FROM recovery_codes WHERE site_id = ?1 AND user_id = ?2")
        .bind(user_id)
}

/// A new `mfaToken` for `user_id` and the statement that stores its hash.
pub fn new_challenge<S: Sql>(
    db: &SiteDb<'_, S>,
    rng: &impl Rng,
    user_id: &str,
    now_ms: i64,
) -> Result<(String, Statement), PortError> {
    let (token, hash) = new_refresh_token(rng)?;
    let stmt = db
        .statement(
            "INSERT INTO mfa_challenges (site_id, hash, user_id, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(hash)
        .bind(user_id)
        .bind(now_ms)
        .bind(now_ms + CHALLENGE_TTL_MS);
    Ok((token, stmt))
}

/// Counts one code attempt on the challenge behind `token`: its user while
/// the challenge is unexpired, unused and has attempts left.
pub async fn claim_challenge<S: Sql>(
    db: &SiteDb<'_, S>,
    token: &str,
    now_ms: i64,
) -> Result<Option<String>, PortError> {
    #[derive(serde::Deserialize)]
    struct Row {
        user_id: String,
    }
    let row: Option<Row> = db
        .query_one(
            &db.statement(
                "UPDATE mfa_challenges SET attempts = attempts + 1 \
                 WHERE site_id = ?1 AND hash = ?2 AND used_at IS NULL AND expires_at > ?3 \
                   AND attempts < ?4 \
                 RETURNING user_id",
            )
            .bind(hash_refresh_token(token))
            .bind(now_ms)
            .bind(MAX_CODE_ATTEMPTS),
        )
        .await?;
    Ok(row.map(|r| r.user_id))
}

/// Marks the challenge behind `token` used: `false` if it already was.
pub async fn finish_challenge<S: Sql>(
    db: &SiteDb<'_, S>,
    token: &str,
    now_ms: i64,
) -> Result<bool, PortError> {
    let r = db
        .execute(
            &db.statement(
                "UPDATE mfa_challenges SET used_at = ?3 \
                 WHERE site_id = ?1 AND hash = ?2 AND used_at IS NULL",
            )
            .bind(hash_refresh_token(token))
            .bind(now_ms),
        )
        .await?;
    Ok(r.changes == 1)
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn codes_are_six_digits_or_recovery_codes() {
        assert_eq!(
            Code::parse(" 123456 ", true),
            Some(Code::Totp("123456".into()))
        );
        assert_eq!(
            Code::parse("AB12-CD34", true),
            Some(Code::Recovery("ab12cd34".into()))
        );
        assert_eq!(Code::parse("ab12-cd34", false), None);
        for bad in [
            "12345",
            "1234567",
            "12345a",
            "ab12-cd3u",
            "",
            "ab12-cd34-ef",
        ] {
            assert_eq!(Code::parse(bad, true), None, "{bad}");
        }
    }
}
