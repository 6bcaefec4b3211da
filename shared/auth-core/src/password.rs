//! Passwords: Argon2id PHC strings, rehash detection, an optional pepper, the
//! dummy verification that makes unknown e-mails cost as much as wrong
//! passwords, and the rules for a new password.
//!
//! Parameters are OWASP's minimum for Argon2id ([`PasswordPolicy::OWASP_MIN`]:
//! m = 19456 KiB, t = 2, p = 1, 32-byte output, 16-byte salt from the
//! [`Rng`] port) — the same as `sealpost-admin` writes, so an admin seeded by
//! `scripts/dev`/`scripts/admin` verifies here.
//!
//! Pepper: an optional deployment secret fed to Argon2 as its `secret` input.
//! A peppered hash records which pepper in the PHC `keyid` parameter (6 bytes
//! of SHA-256 over the pepper: identifies, reveals nothing usable). So:
//! - a hash without `keyid` (every admin seeded by `sealpost-admin`, every
//!   hash made before a pepper was configured) verifies without the pepper,
//!   whether or not one is configured now; with a pepper configured, a
//!   successful login reports `needs_rehash` and the caller re-hashes it
//!   peppered;
//! - a hash with `keyid` verifies only with that same pepper. Losing or
//!   changing the pepper therefore locks those accounts out (password reset
//!   needed): rotate only by adding support for the previous pepper first.
//!
//! Unknown e-mails: call [`verify_dummy`], which does exactly the work of a
//! real verification against [`DUMMY_HASH`], and answer the same error.
//! A stored hash that does not parse costs the same work too.
//!
//! The common-password list (`common_passwords.txt`) holds the 1,000 most
//! common passwords of 8–128 characters, lower-cased, in frequency order,
//! taken from the 20,000-entry list Django ships (`common-passwords.txt.gz`,
//! Royce Williams' compilation of breach corpora; BSD-licensed). Shorter
//! ones are refused by the length rule anyway.
use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, KeyId, Params, ParamsBuilder, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpost_api::FieldError;
use sealpost_ports::{PortError, Rng};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl PasswordPolicy {
    /// OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
    pub const OWASP_MIN: PasswordPolicy = PasswordPolicy {
        m_cost_kib: 19_456,
        t_cost: 2,
        p_cost: 1,
    };
}

impl Default for PasswordPolicy {
    /// [`PasswordPolicy::OWASP_MIN`].
    fn default() -> Self {
        PasswordPolicy::OWASP_MIN
    }
}

/// Length of a new salt, in bytes.
pub const SALT_LEN: usize = 16;
/// Length of the Argon2 output, in bytes.
pub const OUTPUT_LEN: usize = 32;

/// An Argon2id PHC string at [`PasswordPolicy::OWASP_MIN`] of a random,
/// discarded password: [`verify_dummy`] verifies against it.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$1rkFK/QL7K9bKpJGY/DVIA$Ry6SRA7f1vVSxksWGIRxMK+EdY/VlUlfISUlohLRboA";

/// The optional pepper: secret bytes fed to Argon2 as its `secret`.
pub struct Pepper {
    bytes: Zeroizing<Vec<u8>>,
    id: [u8; 6],
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper(..)")
    }
}

impl Pepper {
    /// From raw secret bytes (16–64 bytes).
    pub fn new(bytes: &[u8]) -> Option<Pepper> {
        if !(16..=64).contains(&bytes.len()) {
            return None;
        }
        let mut h = Sha256::new();
        h.update(b"sealpost password pepper id\0");
        h.update(bytes);
        let digest = h.finalize();
        let mut id = [0u8; 6];
        id.copy_from_slice(&digest[..6]);
        Some(Pepper {
            bytes: Zeroizing::new(bytes.to_vec()),
            id,
        })
    }

    /// From a secret given as base64url without padding (like
    /// `SEAL_KEY_WRAP`: 32 random bytes recommended; 16–64 accepted).
    pub fn from_secret(secret: &str) -> Option<Pepper> {
        let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(secret.trim()).ok()?);
        Pepper::new(&bytes)
    }

    fn keyid(&self) -> Option<KeyId> {
        KeyId::new(&self.id).ok()
    }
}

/// An Argon2 PHC string for storage. `Debug` hides it (no hash in logs).
#[derive(Clone, PartialEq, Eq)]
pub struct PhcString(String);

impl PhcString {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for PhcString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhcString(..)")
    }
}

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq)]
pub enum HashError {
    /// The random source failed.
    Rng(PortError),
    /// Argon2 refused its inputs (cannot happen with the policies here).
    Argon2(String),
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::Rng(e) => write!(f, "password hashing: {e}"),
            HashError::Argon2(e) => write!(f, "password hashing: argon2: {e}"),
        }
    }
}

impl std::error::Error for HashError {}

impl From<PortError> for HashError {
    fn from(e: PortError) -> Self {
        HashError::Rng(e)
    }
}

/// The outcome of a verification.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches.
    pub ok: bool,
    /// Only when `ok`: the stored hash is weaker than the policy, not
    /// Argon2id v1.3, or unpeppered while a pepper is configured — store
    /// [`hash`] of the password just verified.
    pub needs_rehash: bool,
}

const FAIL: Verified = Verified {
    ok: false,
    needs_rehash: false,
};

impl PasswordPolicy {
    fn params(&self, pepper: Option<&Pepper>) -> Result<Params, HashError> {
        let mut b = ParamsBuilder::new();
        b.m_cost(self.m_cost_kib)
            .t_cost(self.t_cost)
            .p_cost(self.p_cost)
            .output_len(OUTPUT_LEN);
        if let Some(keyid) = pepper.and_then(Pepper::keyid) {
            b.keyid(keyid);
        }
        b.build().map_err(|e| HashError::Argon2(e.to_string()))
    }

    /// A PHC string for `password` with a fresh salt, at this policy.
    pub fn hash(
        &self,
        password: &str,
        pepper: Option<&Pepper>,
        rng: &impl Rng,
    ) -> Result<PhcString, HashError> {
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt)?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| HashError::Argon2(e.to_string()))?;
        let argon = argon2(pepper, Algorithm::Argon2id, self.params(pepper)?)?;
        argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| PhcString(h.to_string()))
            .map_err(|e| HashError::Argon2(e.to_string()))
    }

    /// Verifies `password` against a stored PHC string (see the module doc
    /// for how the pepper is chosen). Anything unparsable is `ok: false`
    /// after the same work as a real verification.
    pub fn verify(&self, password: &str, phc: &str, pepper: Option<&Pepper>) -> Verified {
        match self.try_verify(password, phc, pepper) {
            Some(v) => v,
            None => {
                self.verify_dummy(password, pepper);
                FAIL
            }
        }
    }

    /// `None` when nothing was computed (the caller then does dummy work).
    fn try_verify(&self, password: &str, phc: &str, pepper: Option<&Pepper>) -> Option<Verified> {
        let parsed = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from);
        let version = version.ok()?;
        let params = Params::try_from(&parsed).ok()?;
        let secret = if params.keyid().is_empty() {
            None
        } else {
            // Peppered: only the pepper it names can verify it.
            Some(pepper.filter(|p| p.id.as_slice() == params.keyid())?)
        };
        let ok = argon2(secret, algorithm, params.clone())
            .ok()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        let weaker = algorithm != Algorithm::Argon2id
            || version != Version::V0x13
            || params.m_cost() < self.m_cost_kib
            || params.t_cost() < self.t_cost
            || params.p_cost() < self.p_cost
            || parsed.hash.is_none_or(|h| h.len() < OUTPUT_LEN)
            || (pepper.is_some() && secret.is_none());
        Some(Verified {
            ok,
            needs_rehash: ok && weaker,
        })
    }

    /// The work of one verification at this policy, for an unknown account:
    /// hashes `password` with [`DUMMY_HASH`]'s salt and compares. The result
    /// is meaningless and not returned.
    pub fn verify_dummy(&self, password: &str, pepper: Option<&Pepper>) {
        let Ok(dummy) = PasswordHash::new(DUMMY_HASH) else {
            return;
        };
        let (Some(salt), Some(expected)) = (dummy.salt, dummy.hash) else {
            return;
        };
        let Ok(params) = self.params(pepper) else {
            return;
        };
        if let Ok(argon) = argon2(pepper, Algorithm::Argon2id, params) {
            let computed = argon.hash_password(password.as_bytes(), salt);
            let equal = computed.is_ok_and(|h| h.hash == Some(expected));
            std::hint::black_box(equal);
        }
    }
}

fn argon2(
    pepper: Option<&Pepper>,
    algorithm: Algorithm,
    params: Params,
) -> Result<Argon2<'_>, HashError> {
    match pepper {
        Some(p) => Argon2::new_with_secret(&p.bytes, algorithm, Version::V0x13, params)
            .map_err(|e| HashError::Argon2(e.to_string())),
        None => Ok(Argon2::new(algorithm, Version::V0x13, params)),
    }
}

/// [`PasswordPolicy::hash`] at the default policy.
pub fn hash(
    password: &str,
    pepper: Option<&Pepper>,
    rng: &impl Rng,
) -> Result<PhcString, HashError> {
    PasswordPolicy::default().hash(password, pepper, rng)
}

/// [`PasswordPolicy::verify`] at the default policy.
pub fn verify(password: &str, phc: &str, pepper: Option<&Pepper>) -> Verified {
    PasswordPolicy::default().verify(password, phc, pepper)
}

/// [`PasswordPolicy::verify_dummy`] at the default policy.
pub fn verify_dummy(password: &str, pepper: Option<&Pepper>) {
    PasswordPolicy::default().verify_dummy(password, pepper);
}

/// Shortest and longest accepted new password, in characters.
pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPassword {
    /// Fewer than 8 or more than 128 characters.
    Length,
    /// In the common-password list (case-insensitive).
    Common,
    /// The account's e-mail address or its local part.
    Email,
}

impl WeakPassword {
    /// The user-facing message.
    pub fn message(self) -> &'static str {
        match self {
            WeakPassword::Length => "Must be 8 to 128 characters",
            WeakPassword::Common => "Is too common; choose a less guessable password",
            WeakPassword::Email => "Must not be your email address",
        }
    }

    /// As a field error (`"password"` on signup, `"newPassword"` on change).
    pub fn field_error(self, field: &str) -> FieldError {
        FieldError::new(field, self.message())
    }
}

impl fmt::Display for WeakPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Whether `password` is in the common-password list (case-insensitive).
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON_PASSWORDS.lines().any(|l| l == lower)
}

/// The rules for a new password (signup, change): 8–128 characters (Unicode
/// scalar values, not bytes), not a common password, not the account's
/// e-mail address nor its local part (case-insensitive, trimmed).
pub fn validate_new_password(password: &str, email: &str) -> Result<(), WeakPassword> {
    let chars = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
        return Err(WeakPassword::Length);
    }
    if is_common(password) {
        return Err(WeakPassword::Common);
    }
    let email = email.trim().to_lowercase();
    let candidate = password.trim().to_lowercase();
    let local = email.split_once('@').map_or("", |(local, _)| local);
    if !email.is_empty() && (candidate == email || (!local.is_empty() && candidate == local)) {
        return Err(WeakPassword::Email);
    }
    Ok(())
}
