//! Creating or promoting an admin without hand-written SQL: the operator's
//! input checked (address, password), the password hashed, and the SQL of
//! [`sql`] built from them. An address that already has an account is
//! refused unless the operator asks for a promotion ([`Existing`]).
#![forbid(unsafe_code)]

pub mod site;
pub mod sql;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sealpost_api::Email;
use sealpost_auth_core::password::{OUTPUT_LEN, PasswordPolicy};
use sealpost_ports::SiteId;

pub use sql::{Existing, Ids, REFUSED_MARKER, REVOKE_REASON};

/// Why an admin cannot be written.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminError {
    Email,
    Password,
    Hash(String),
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminError::Email => write!(f, "not a valid email address"),
            AdminError::Password => write!(f, "the password must be 8 to 128 characters"),
            AdminError::Hash(e) => write!(f, "password hashing failed: {e}"),
        }
    }
}

impl std::error::Error for AdminError {}

/// Normalises and checks the operator's address with the one e-mail rule
/// of every service ([`Email::parse`]).
pub fn normalize_email(email: &str) -> Result<Email, AdminError> {
    Email::parse(email).map_err(|_| AdminError::Email)
}

/// An Argon2id PHC string for `password` with a fresh random salt, at the
/// auth service's parameters ([`PasswordPolicy::OWASP_MIN`]), so that the
/// account verifies there.
pub fn hash_password(password: &str) -> Result<String, AdminError> {
    let len = password.chars().count();
    if !(8..=128).contains(&len) {
        return Err(AdminError::Password);
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| AdminError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AdminError::Hash(e.to_string()))?;
    let policy = PasswordPolicy::OWASP_MIN;
    let params = Params::new(
        policy.m_cost_kib,
        policy.t_cost,
        policy.p_cost,
        Some(OUTPUT_LEN),
    )
    .map_err(|e| AdminError::Hash(e.to_string()))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Hash(e.to_string()))
}

/// The SQL for `wrangler d1 execute --file` that makes `email` an admin of
/// `site` with `password` (see [`sql`] for what happens to an existing
/// account under each [`Existing`]).
pub fn admin_sql(
    site: &SiteId,
    email: &str,
    password: &str,
    existing: Existing,
    ids: &Ids,
    now_ms: i64,
) -> Result<String, AdminError> {
    let email = normalize_email(email)?;
    let hash = hash_password(password)?;
    Ok(sql::account_sql(
        site,
        email.as_str(),
        &hash,
        existing,
        ids,
        now_ms,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_junk_is_refused() {
        assert_eq!(
            normalize_email("  Admin@Example.COM ").unwrap().as_str(),
            "admin@example.com"
        );
        for bad in [
            "", "no-at", "a@b", "a@@b.c", "x'@b.c", "a b@c.d", "@b.c", "a@.c",
        ] {
            assert_eq!(normalize_email(bad), Err(AdminError::Email), "{bad}");
        }
    }

    #[test]
    fn the_hash_is_argon2id_at_owasp_parameters_and_short_passwords_are_refused() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(hash_password("short"), Err(AdminError::Password));
    }
}
