//! edge-seal v1: the sealed request/response envelope of Sealpost, as the
//! edge-seal contract defines it.
//!
//! A client seals a JSON request body to the server's published key with HPKE
//! base mode (RFC 9180: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM);
//! the server opens it and seals its response with a key exported from the same
//! HPKE context (modelled on RFC 9458, Oblivious HTTP). Both sides live here:
//!
//! - server: [`parse_envelope`] (row 1 of the contract's check table),
//!   [`looks_sealed`], [`validate_enc`] (row 4), [`ts_is_fresh`] (row 5),
//!   [`open_request`] (row 6),
//!   [`ResponseSealer::seal`] and [`outer_body`];
//! - client: [`seal_request`] / [`seal_request_with`] and [`ResponseOpener`].
//!
//! The HPKE layer itself is in [`hpke`]; it is written on RustCrypto's `p256`,
//! `hkdf`, `sha2` and `aes-gcm` and checked against RFC 9180's test vectors.
//! The crate has no platform dependency and builds natively and for
//! `wasm32-unknown-unknown` (the browser build is `sealpost-seal-js`).
//! `docs/protocol.md` explains the protocol with a worked example.
//!
//! ```
//! use rand_core::{OsRng, RngCore};
//! use sealpost_seal::*;
//!
//! let sk = SecretKey::generate(&mut OsRng);
//! let config = KeyConfig {
//!     kid: 1, kem: KEM_ID, kdf: KDF_ID, aead: AEAD_ID,
//!     public_key: b64(&sk.public_key().to_sec1()),
//!     expires_at: "2030-01-01T00:00:00Z".into(),
//! };
//! // Client: seal the body the route would otherwise take.
//! let login = br#"{"email":"ada@example.com","password":"pw"}"#;
//! let req = seal_request(&config, "POST", "/auth/login", login, 1_795_000_000, &mut OsRng)?;
//! let body = req.envelope.to_json();
//!
//! // Server, in the contract's order.
//! let env = parse_envelope(body.as_bytes())?; // row 1
//! assert_eq!((env.v, env.kid), (1, 1)); // rows 2-3: the caller's
//! validate_enc(&env.enc)?; // row 4
//! assert!(ts_is_fresh(env.ts, 1_795_000_030)); // row 5, against the server's clock
//! let (plaintext, sealer) = open_request(&sk, &env, "POST", "/auth/login")?; // row 6
//! assert_eq!(plaintext.as_slice(), login);
//! let inner = br#"{"success":false,"message":"Invalid email or password","error":{"code":"AUTH_INVALID_CREDENTIALS"}}"#;
//! let mut response_nonce = [0u8; 32];
//! OsRng.fill_bytes(&mut response_nonce);
//! let out = outer_body(inner, &sealer.seal(401, inner, response_nonce));
//!
//! // Client: open the answer with the status it came with.
//! assert_eq!(req.opener.open(401, &out)?, inner);
//! # Ok::<(), SealError>(())
//! ```
#![forbid(unsafe_code)]

mod answer;
pub mod hpke;
mod keys;
mod request;
mod response;
mod wire;

pub use answer::{ReadError, is_sealed};
pub use keys::{PublicKey, SecretKey};
pub use request::{
    ClientRequest, open_request, request_aad, request_info, seal_request, seal_request_with,
    validate_enc,
};
pub use response::{ResponseOpener, ResponseSealer, SealedResponse, outer_body};
pub use wire::{Envelope, KeyConfig, ParsedEnvelope, b64, looks_sealed, parse_envelope, unb64};

/// HPKE KEM id: DHKEM(P-256, HKDF-SHA256).
pub const KEM_ID: u16 = 0x0010;
/// HPKE KDF id: HKDF-SHA256.
pub const KDF_ID: u16 = 0x0001;
/// HPKE AEAD id: AES-256-GCM.
pub const AEAD_ID: u16 = 0x0002;
/// The envelope version (`v`) this crate speaks.
pub const VERSION: u8 = 1;
/// The largest request body a sealable route accepts (64 KiB).
pub const MAX_ENVELOPE_BYTES: usize = 64 * 1024;
/// How far `ts` may be from the server's clock, in seconds (either way).
pub const MAX_SKEW_SECS: i64 = 60;

/// Whether an envelope's `ts` is within [`MAX_SKEW_SECS`] of the server's
/// clock `now_secs`, either way. The distance is taken unsigned, so no pair
/// of `i64`s (`i64::MIN`, `i64::MAX`, `now - 2^63`) can overflow or wrap
/// into the window.
pub fn ts_is_fresh(ts: i64, now_secs: i64) -> bool {
    ts.abs_diff(now_secs) <= MAX_SKEW_SECS.unsigned_abs()
}

/// The ASCII label that starts a request's HPKE `info` (the contract's step 2).
pub const REQUEST_INFO_LABEL: &[u8] = b"edge-seal v1 request";
/// The exporter context of the response secret (the contract's response step 2).
pub const RESPONSE_EXPORT_LABEL: &[u8] = b"edge-seal v1 response";
/// Length of the response nonce in bytes.
pub const RESPONSE_NONCE_BYTES: usize = 32;
/// Length of the request nonce in bytes.
pub const REQUEST_NONCE_BYTES: usize = 16;
/// Length of an uncompressed SEC1 P-256 point (`enc`, public keys).
pub const POINT_BYTES: usize = 65;
/// Length of the AES-GCM tag that ends every ciphertext.
pub const TAG_BYTES: usize = 16;

/// Why sealing or opening failed. The messages say no more than the contract's
/// error codes do (see [`SealError::code`]): in particular an open failure never
/// says which check failed.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// Not an envelope of the contract's shape and sizes.
    #[error("malformed sealed envelope")]
    Malformed,
    /// `v` is not [`VERSION`] (or a key configuration names another suite).
    #[error("unsupported envelope version")]
    UnsupportedVersion,
    /// `kid` names no live key.
    #[error("unknown key")]
    UnknownKey,
    /// `enc` (or a public key) is not a valid uncompressed P-256 point.
    #[error("invalid sealed envelope")]
    InvalidPoint,
    /// `ts` is too far from the server's clock (decided by the caller).
    #[error("stale sealed envelope")]
    Stale,
    /// The AEAD open failed: wrong key, tampered field, wrong method/path/status.
    #[error("invalid sealed envelope")]
    Invalid,
    /// An internal cryptographic failure that valid inputs cannot cause.
    #[error("cryptographic failure")]
    Crypto,
}

impl SealError {
    /// The contract's error code for this failure (the edge-seal contract); `Crypto` is an
    /// internal error.
    pub const fn code(self) -> &'static str {
        match self {
            SealError::Malformed => "SEAL_MALFORMED",
            SealError::UnsupportedVersion => "SEAL_UNSUPPORTED_VERSION",
            SealError::UnknownKey => "SEAL_UNKNOWN_KEY",
            SealError::InvalidPoint | SealError::Invalid => "SEAL_INVALID",
            SealError::Stale => "SEAL_STALE",
            SealError::Crypto => "INTERNAL",
        }
    }

    /// The HTTP status the contract gives this failure.
    pub const fn status(self) -> u16 {
        match self {
            SealError::Crypto => 500,
            _ => 400,
        }
    }
}
