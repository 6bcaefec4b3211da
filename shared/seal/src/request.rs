//! Sealing a request (client) and opening it (server): the request `info` and
//! `aad` of the edge-seal contract's steps 2–3, `SetupBaseS`/`SetupBaseR` and the single
//! `Seal`/`Open`; each side keeps what the response needs (the exported
//! response secret, `enc` and the request `aad`).

use crate::hpke::{self, Aes256Gcm};
use crate::response::{ResponseOpener, ResponseSealer};
use crate::{
    AEAD_ID, Envelope, KDF_ID, KEM_ID, KeyConfig, MAX_ENVELOPE_BYTES, ParsedEnvelope, PublicKey,
    REQUEST_INFO_LABEL, REQUEST_NONCE_BYTES, RESPONSE_EXPORT_LABEL, SealError, SecretKey, VERSION,
    b64, unb64,
};
use zeroize::Zeroizing;

/// The request's HPKE `info` (the contract's step 2): `"edge-seal v1 request" || 0x00 ||
/// kid || 0x0010 || 0x0001 || 0x0002 || METHOD || " " || PATH`. `path` is the
/// path without query string; anything from a `?` on is dropped here, so that
/// both sides agree even if one passes the full request target. `method` is
/// used as given (HTTP methods are case-sensitive: `POST`).
pub fn request_info(kid: u8, method: &str, path: &str) -> Vec<u8> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let mut info = Vec::with_capacity(REQUEST_INFO_LABEL.len() + 8 + method.len() + 1 + path.len());
    info.extend_from_slice(REQUEST_INFO_LABEL);
    info.push(0x00);
    info.push(kid);
    info.extend_from_slice(&KEM_ID.to_be_bytes());
    info.extend_from_slice(&KDF_ID.to_be_bytes());
    info.extend_from_slice(&AEAD_ID.to_be_bytes());
    info.extend_from_slice(method.as_bytes());
    info.push(b' ');
    info.extend_from_slice(path.as_bytes());
    info
}

/// The request's AAD (the contract's step 3): ASCII `TS.NONCE`, the decimal `ts`, a dot,
/// and the nonce exactly as sent (base64url).
pub fn request_aad(ts: i64, nonce_b64: &str) -> Vec<u8> {
    format!("{ts}.{nonce_b64}").into_bytes()
}

/// Exports the response secret (the contract's response step 2).
fn response_secret(ctx: &hpke::Context<Aes256Gcm>) -> Result<Zeroizing<[u8; 32]>, SealError> {
    let mut secret = Zeroizing::new([0u8; 32]);
    ctx.export(RESPONSE_EXPORT_LABEL, secret.as_mut())?;
    Ok(secret)
}

/// Server, row 4: `enc` must be a valid uncompressed P-256 point (not the
/// identity) → [`SealError::InvalidPoint`] otherwise.
pub fn validate_enc(enc: &[u8]) -> Result<PublicKey, SealError> {
    PublicKey::from_sec1(enc)
}

/// Server, row 6: `SetupBaseR(enc, skR, info)` and `Open(aad, ct)`. Returns the
/// plaintext (wiped on drop) and what sealing the response needs. Failures:
/// [`SealError::InvalidPoint`] for a bad `enc` (row 4, normally checked before
/// with [`validate_enc`]), [`SealError::Invalid`] for any open failure. As a
/// safety net `v ≠ 1` → `UnsupportedVersion` and `kid > 255` → `UnknownKey`,
/// though rows 2–3 are the caller's (it picks `sk` by `kid`).
pub fn open_request(
    sk: &SecretKey,
    env: &ParsedEnvelope,
    method: &str,
    path: &str,
) -> Result<(Zeroizing<Vec<u8>>, ResponseSealer), SealError> {
    if env.v != u64::from(VERSION) {
        return Err(SealError::UnsupportedVersion);
    }
    let kid = u8::try_from(env.kid).map_err(|_| SealError::UnknownKey)?;
    let enc: [u8; crate::POINT_BYTES] = env
        .enc
        .as_slice()
        .try_into()
        .map_err(|_| SealError::InvalidPoint)?;
    let info = request_info(kid, method, path);
    let aad = request_aad(env.ts, &env.nonce_b64);
    let mut ctx = hpke::setup_base_r::<Aes256Gcm>(&enc, sk, &info)?;
    let plaintext = ctx.open(&aad, &env.ct)?;
    let sealer = ResponseSealer::new(response_secret(&ctx)?, enc, aad);
    Ok((plaintext, sealer))
}

/// What a client sends, and what it keeps to open the answer.
#[derive(Debug)]
pub struct ClientRequest {
    /// The body to POST (serialize with [`Envelope::to_json`] or serde).
    pub envelope: Envelope,
    /// Opens the sealed response to this request.
    pub opener: ResponseOpener,
}

/// Client: seals `plaintext` (the UTF-8 JSON body the route takes) for `METHOD
/// PATH` to the key of `config`, with a fresh ephemeral key and nonce from `rng`
/// and the given `ts` (Unix seconds, the client's idea of server time).
/// A configuration of another suite → [`SealError::UnsupportedVersion`]; a bad
/// `publicKey` → `Malformed` (not base64url) or `InvalidPoint`; an envelope that
/// would exceed [`MAX_ENVELOPE_BYTES`] → `Malformed`.
pub fn seal_request(
    config: &KeyConfig,
    method: &str,
    path: &str,
    plaintext: &[u8],
    ts: i64,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<ClientRequest, SealError> {
    if (config.kem, config.kdf, config.aead) != (KEM_ID, KDF_ID, AEAD_ID) {
        return Err(SealError::UnsupportedVersion);
    }
    let pk = PublicKey::from_sec1(&unb64(&config.public_key)?)?;
    let eph = SecretKey::generate(rng);
    let mut nonce = [0u8; REQUEST_NONCE_BYTES];
    rng.fill_bytes(&mut nonce);
    seal_request_with(&pk, config.kid, method, path, plaintext, ts, nonce, &eph)
}

/// Deterministic [`seal_request`] for test vectors: the ephemeral secret key and
/// the nonce are given. Never reuse either outside tests.
#[allow(clippy::too_many_arguments)]
pub fn seal_request_with(
    pk: &PublicKey,
    kid: u8,
    method: &str,
    path: &str,
    plaintext: &[u8],
    ts: i64,
    nonce: [u8; 16],
    eph: &SecretKey,
) -> Result<ClientRequest, SealError> {
    let nonce_b64 = b64(&nonce);
    let info = request_info(kid, method, path);
    let aad = request_aad(ts, &nonce_b64);
    let (enc, mut ctx) = hpke::setup_base_s::<Aes256Gcm>(pk, &info, eph)?;
    let ct = ctx.seal(&aad, plaintext)?;
    let envelope = Envelope {
        v: VERSION,
        kid,
        enc: b64(&enc),
        ts,
        nonce: nonce_b64,
        ct: b64(&ct),
    };
    if envelope.to_json().len() > MAX_ENVELOPE_BYTES {
        return Err(SealError::Malformed);
    }
    let opener = ResponseOpener::new(response_secret(&ctx)?, enc, aad);
    Ok(ClientRequest { envelope, opener })
}
