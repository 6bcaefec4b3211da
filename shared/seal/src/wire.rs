//! The wire formats: base64url without padding, the key configuration of
//! `GET /auth/keys`, and the request envelope (its strict parser, row 1 of the
//! contract's check table).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::{MAX_ENVELOPE_BYTES, POINT_BYTES, REQUEST_NONCE_BYTES, SealError, TAG_BYTES};

/// base64url without padding (RFC 4648 §5).
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict inverse of [`b64`]: rejects padding, the standard alphabet's `+`/`/`,
/// whitespace, and non-canonical trailing bits (so every byte string has exactly
/// one accepted spelling) → [`SealError::Malformed`].
pub fn unb64(s: &str) -> Result<Vec<u8>, SealError> {
    URL_SAFE_NO_PAD.decode(s).map_err(|_| SealError::Malformed)
}

/// One entry of `GET /auth/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyConfig {
    /// Key identifier, 0–255.
    pub kid: u8,
    /// KEM id, 16 (`0x0010`).
    pub kem: u16,
    /// KDF id, 1.
    pub kdf: u16,
    /// AEAD id, 2.
    pub aead: u16,
    /// The 65-byte uncompressed point, base64url without padding.
    pub public_key: String,
    /// RFC 3339 UTC time after which the server stops accepting the key.
    pub expires_at: String,
}

/// The wire request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Version, 1.
    pub v: u8,
    /// Key id of the server key sealed to.
    pub kid: u8,
    /// The encapsulated key: 65-byte point, base64url.
    pub enc: String,
    /// Unix time in whole seconds.
    pub ts: i64,
    /// 16 random bytes, base64url.
    pub nonce: String,
    /// Ciphertext and tag, base64url.
    pub ct: String,
}

impl Envelope {
    /// The JSON body as sent (`{"v":…,"kid":…,"enc":…,"ts":…,"nonce":…,"ct":…}`).
    pub fn to_json(&self) -> String {
        // Serializing a struct of integers and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A request envelope whose shape and sizes are checked (row 1 of the contract's check table) — but
/// not `v`, `kid`, the point, or `ts`.
#[derive(Debug, Clone)]
pub struct ParsedEnvelope {
    /// `v` as sent (row 2 checks it is 1).
    pub v: u64,
    /// `kid` as sent (row 3 checks it names a live key, so 0–255).
    pub kid: u64,
    /// The 65 bytes of `enc` (row 4 checks the point).
    pub enc: Vec<u8>,
    /// `ts` as sent (row 5 is the caller's).
    pub ts: i64,
    /// The 16 bytes of `nonce`.
    pub nonce: [u8; 16],
    /// `nonce` exactly as sent (part of the AAD).
    pub nonce_b64: String,
    /// Ciphertext and tag (at least 16 bytes).
    pub ct: Vec<u8>,
}

/// The envelope as it is read: exactly these six fields (duplicates and
/// unknown fields refused by serde), integers as integers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope<'a> {
    v: u64,
    kid: u64,
    #[serde(borrow)]
    enc: std::borrow::Cow<'a, str>,
    ts: i64,
    #[serde(borrow)]
    nonce: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    ct: std::borrow::Cow<'a, str>,
}

/// Row 1 only: JSON of the shape (exactly the six fields, types right: `v`/`kid`
/// non-negative integers, `ts` an integer, the strings base64url), `enc` decodes
/// to 65 bytes, `nonce` to 16, `ct` to at least 16 (the tag); body ≤
/// [`MAX_ENVELOPE_BYTES`]. Anything else → [`SealError::Malformed`] (the caller
/// answers 413 for size before calling this). `v` and `kid` are not range-checked
/// here, so that rows 2 and 3 can answer with their own codes; integers beyond
/// `u64`/`i64` and integers written as floats (`1.0`, `1e0`) are malformed.
pub fn parse_envelope(body: &[u8]) -> Result<ParsedEnvelope, SealError> {
    if body.len() > MAX_ENVELOPE_BYTES {
        return Err(SealError::Malformed);
    }
    // serde accepts a struct from a JSON array too; the envelope is an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(SealError::Malformed);
    }
    let raw: RawEnvelope<'_> = serde_json::from_slice(body).map_err(|_| SealError::Malformed)?;
    let enc = unb64(&raw.enc)?;
    let nonce: [u8; REQUEST_NONCE_BYTES] = unb64(&raw.nonce)?
        .try_into()
        .map_err(|_| SealError::Malformed)?;
    let ct = unb64(&raw.ct)?;
    if enc.len() != POINT_BYTES || ct.len() < TAG_BYTES {
        return Err(SealError::Malformed);
    }
    Ok(ParsedEnvelope {
        v: raw.v,
        kid: raw.kid,
        enc,
        ts: raw.ts,
        nonce,
        nonce_b64: raw.nonce.into_owned(),
        ct,
    })
}

/// The envelope's field names: any of them at the top level of a JSON object
/// marks an attempt at an envelope.
const ENVELOPE_FIELDS: [&str; 6] = ["v", "kid", "enc", "ct", "nonce", "ts"];

/// Whether a body looks like an attempt at an envelope at all: a JSON object
/// with any of `v`, `kid`, `enc`, `ct`, `nonce`, `ts` as top-level keys, or not
/// JSON at all. A JSON value without any of them (a plain request body) → false.
/// Chooses between `SEAL_REQUIRED` (false) and `SEAL_MALFORMED` (true).
pub fn looks_sealed(body: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => ENVELOPE_FIELDS.iter().any(|k| map.contains_key(*k)),
        Ok(_) => false,
        Err(_) => true,
    }
}
