//! Encryption at rest: AES-256-GCM under a 32-byte [`AtRestKey`], stored as
//! `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)` — as bytes ([`seal`],
//! [`open`]) or as base64url text without padding for a text column
//! ([`seal_to_text`], [`open_text`]). Every value is bound to associated
//! data naming what it is and whose it is, so a sealed value copied to
//! another row does not open. The nonce is 96 random bits from the caller's
//! `Rng` port, fresh for every value.
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpost_ports::{PortError, Rng};
use zeroize::Zeroizing;

/// Bytes of the nonce that starts every sealed value.
pub const NONCE_LEN: usize = 12;
/// Bytes of the authentication tag that ends every sealed value.
pub const TAG_LEN: usize = 16;

/// A key that encrypts at rest: 32 bytes, zeroized on drop, never printed.
pub struct AtRestKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for AtRestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AtRestKey(..)")
    }
}

impl From<Zeroizing<[u8; 32]>> for AtRestKey {
    fn from(bytes: Zeroizing<[u8; 32]>) -> AtRestKey {
        AtRestKey(bytes)
    }
}

impl AtRestKey {
    /// From raw bytes.
    pub fn new(bytes: [u8; 32]) -> AtRestKey {
        AtRestKey(Zeroizing::new(bytes))
    }

    /// From a secret: 32 bytes, base64url without padding (see
    /// [`crate::decode_secret`]).
    pub fn from_base64url(secret: &str) -> Option<AtRestKey> {
        crate::decode_secret(secret).map(AtRestKey)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.as_ref().into())
    }
}

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AtRestError {
    /// The stored text is not base64url without padding.
    #[error("sealed value is not base64url")]
    Malformed,
    /// Shorter than a nonce and a tag: nothing to open.
    #[error("sealed value is shorter than a nonce and a tag")]
    TooShort,
    /// Another key, other associated data, or altered bytes.
    #[error("sealed value does not authenticate")]
    Authentication,
    /// AES-GCM refused to encrypt (a plaintext beyond its length limit).
    #[error("encryption failed")]
    Seal,
    /// The random source gave no nonce.
    #[error("no nonce: {0}")]
    Nonce(PortError),
}

/// Encrypts `plaintext` bound to `aad`: `nonce ‖ ciphertext ‖ tag`, with a
/// fresh nonce from `rng`.
pub fn seal(
    key: &AtRestKey,
    aad: &[u8],
    plaintext: &[u8],
    rng: &impl Rng,
) -> Result<Vec<u8>, AtRestError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).map_err(AtRestError::Nonce)?;
    let ciphertext = key
        .cipher()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| AtRestError::Seal)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Decrypts what [`seal`] made under `key` for the same `aad`.
pub fn open(key: &AtRestKey, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, AtRestError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(AtRestError::TooShort);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    key.cipher()
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| AtRestError::Authentication)
}

/// [`seal`], written as base64url without padding.
pub fn seal_to_text(
    key: &AtRestKey,
    aad: &[u8],
    plaintext: &[u8],
    rng: &impl Rng,
) -> Result<String, AtRestError> {
    seal(key, aad, plaintext, rng).map(|sealed| URL_SAFE_NO_PAD.encode(sealed))
}

/// [`open`] of what [`seal_to_text`] wrote.
pub fn open_text(
    key: &AtRestKey,
    aad: &[u8],
    sealed: &str,
) -> Result<Zeroizing<Vec<u8>>, AtRestError> {
    let raw = URL_SAFE_NO_PAD
        .decode(sealed)
        .map_err(|_| AtRestError::Malformed)?;
    open(key, aad, &raw)
}
