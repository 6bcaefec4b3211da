//! Creating or promoting an admin without hand-written SQL: the operator's
//! input checked (address, password), the password hashed, and the SQL of
//! [`sql`] built from them. An address that already has an account is
//! refused unless the operator asks for a promotion ([`Existing`]).
#![forbid(unsafe_code)]

pub mod site;
pub mod sql;

use sealpost_api::Email;
use sealpost_auth_core::password::{PasswordPolicy, PhcString};
use sealpost_ports::{PortError, Rng, SiteId};

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

/// The operating system's random source, as the `Rng` port (the salt).
struct OsEntropy;

impl Rng for OsEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
        getrandom::getrandom(buf).map_err(|e| PortError::Rng(e.to_string()))
    }
}

/// An Argon2id PHC string for `password` with a fresh random salt, hashed
/// by the auth service's own hasher at its parameters
/// ([`PasswordPolicy::OWASP_MIN`], no pepper: the first login adds it), so
/// that the account verifies there.
pub fn hash_password(password: &str) -> Result<String, AdminError> {
    let len = password.chars().count();
    if !(8..=128).contains(&len) {
        return Err(AdminError::Password);
    }
    PasswordPolicy::OWASP_MIN
        .hash(password, None, &OsEntropy)
        .map(PhcString::into_string)
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
