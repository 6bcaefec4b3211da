//! The auth worker's secrets and the keys derived from them: the ES256
//! signing key (`JWT_SIGNING_KEY`), the optional password pepper
//! (`PASSWORD_PEPPER`) and `AUTH_DATA_KEY`, from which HKDF-SHA-256 derives
//! one key per purpose — the TOTP secret encryption key, the recovery-code
//! HMAC key, the IP-hash key and the e-mail-hash key (lockout counters) — so
//! that no key serves two purposes. `Debug` never prints key material.
use std::fmt;

use hmac::{Hmac, Mac};
use sealpost_crypto::AtRestKey;
use sealpost_guard::Verifier;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::password::Pepper;
use crate::tokens::SigningKey;
use crate::totp::DataKey;

/// Which secret is missing or malformed (names only, never values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretError {
    SigningKey,
    DataKey,
    Pepper,
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretError::SigningKey => "JWT_SIGNING_KEY is missing or not a P-256 scalar",
            SecretError::DataKey => "AUTH_DATA_KEY is missing or not 32 bytes of base64url",
            SecretError::Pepper => "PASSWORD_PEPPER is set but not 16-64 bytes of base64url",
        })
    }
}

impl std::error::Error for SecretError {}

/// Everything secret the auth routes use.
pub struct AuthSecrets {
    pub signing: SigningKey,
    /// Verifies what `signing` signed (built once, not per request).
    pub verifier: Verifier,
    pub pepper: Option<Pepper>,
    /// Encrypts TOTP secrets at rest (AES-256-GCM).
    pub totp: DataKey,
    recovery: Zeroizing<[u8; 32]>,
    ip: Zeroizing<[u8; 32]>,
    email: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for AuthSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthSecrets(..)")
    }
}

impl AuthSecrets {
    /// From the secrets' text values (`pepper` may be absent or empty).
    pub fn from_values(
        signing: &str,
        data_key: &str,
        pepper: Option<&str>,
    ) -> Result<AuthSecrets, SecretError> {
        let signing = SigningKey::from_secret(signing).map_err(|_| SecretError::SigningKey)?;
        let raw = sealpost_crypto::decode_secret(data_key).ok_or(SecretError::DataKey)?;
        let pepper = match pepper.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(Pepper::from_secret(p).ok_or(SecretError::Pepper)?),
            None => None,
        };
        Self::from_parts(signing, raw.as_ref(), pepper)
    }

    /// From an already decoded 32-byte data key (tests).
    pub fn from_parts(
        signing: SigningKey,
        data_key: &[u8],
        pepper: Option<Pepper>,
    ) -> Result<AuthSecrets, SecretError> {
        let verifier = Verifier::from_sec1_points(&[signing.public_sec1()])
            .map_err(|_| SecretError::SigningKey)?;
        let [totp, recovery, ip, email] = sealpost_crypto::derive_keys(
            data_key,
            b"sealpost-auth v1",
            [b"totp-secret", b"recovery-code", b"ip-hash", b"email-hash"],
        );
        Ok(AuthSecrets {
            signing,
            verifier,
            pepper,
            totp: DataKey::from(AtRestKey::from(totp)),
            recovery,
            ip,
            email,
        })
    }

    /// The HMAC key of stored recovery codes.
    pub fn recovery_key(&self) -> &[u8] {
        self.recovery.as_ref()
    }

    /// The keyed hash of a client address (audit, per-IP counters): 32 hex
    /// characters. Empty for an empty address.
    pub fn ip_hash(&self, ip: &str) -> String {
        if ip.is_empty() {
            return String::new();
        }
        keyed_hash(self.ip.as_ref(), ip.as_bytes())
    }

    /// The keyed hash of a normalised e-mail address (lockout counters, which
    /// exist for unknown addresses too): 32 hex characters.
    pub fn email_hash(&self, email: &str) -> String {
        keyed_hash(self.email.as_ref(), email.as_bytes())
    }
}

fn keyed_hash(key: &[u8], data: &[u8]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return String::new(); // unreachable: HMAC takes keys of any length
    };
    mac.update(data);
    let tag = mac.finalize().into_bytes();
    crate::totp::hex(tag.get(..16).unwrap_or(&tag))
}
