//! The sealed response (the edge-seal contract's "Sealed response"),
//! modelled on RFC 9458 §4.4:
//! `secret = Export("edge-seal v1 response", 32)`, `salt = enc || response_nonce`,
//! `prk = HKDF-Extract(salt, secret)`, `key = HKDF-Expand(prk, "key", 32)`,
//! `iv = HKDF-Expand(prk, "nonce", 12)`, `aad_res = aad || "." || status`, and
//! AES-256-GCM over the inner JSON. The server side is [`ResponseSealer`], the
//! client side [`ResponseOpener`]; both wipe their secrets on drop.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::hpke::{self, Aead as _, Aes256Gcm, NN};
use crate::{POINT_BYTES, RESPONSE_NONCE_BYTES, SealError, TAG_BYTES, VERSION, b64, unb64};

/// The `data` of a sealed response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedResponse {
    /// Version, 1.
    pub v: u8,
    /// The 32-byte response nonce, base64url.
    pub nonce: String,
    /// Ciphertext and tag of the inner JSON, base64url.
    pub ct: String,
}

/// The response key material shared by both sides.
#[derive(Zeroize, ZeroizeOnDrop)]
struct ResponseKeys {
    /// `Export("edge-seal v1 response", 32)`.
    secret: [u8; 32],
    /// The request's `enc`.
    enc: [u8; POINT_BYTES],
    /// The request's `aad` (`TS.NONCE`).
    aad: Vec<u8>,
}

/// A derived response key and IV, wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
struct KeyIv {
    key: [u8; 32],
    iv: [u8; NN],
}

impl ResponseKeys {
    /// Steps 3–4: the AEAD key, IV and `aad_res` for one response.
    fn derive(
        &self,
        status: u16,
        response_nonce: &[u8; RESPONSE_NONCE_BYTES],
    ) -> Result<(KeyIv, Vec<u8>), SealError> {
        let prk = hpke::hkdf_extract(
            &[&self.enc[..], &response_nonce[..]].concat(),
            &[&self.secret],
        );
        let mut k = KeyIv {
            key: [0; 32],
            iv: [0; NN],
        };
        hpke::hkdf_expand(&prk, &[b"key"], &mut k.key)?;
        hpke::hkdf_expand(&prk, &[b"nonce"], &mut k.iv)?;
        let mut aad_res = Vec::with_capacity(self.aad.len() + 4);
        aad_res.extend_from_slice(&self.aad);
        aad_res.push(b'.');
        aad_res.extend_from_slice(status.to_string().as_bytes());
        Ok((k, aad_res))
    }
}

/// Server: holds what the response needs (the exported response secret, `enc`,
/// the request `aad`); wiped on drop.
pub struct ResponseSealer {
    keys: ResponseKeys,
}

impl std::fmt::Debug for ResponseSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseSealer(..)")
    }
}

impl ResponseSealer {
    pub(crate) fn new(
        secret: Zeroizing<[u8; 32]>,
        enc: [u8; POINT_BYTES],
        aad: Vec<u8>,
    ) -> ResponseSealer {
        ResponseSealer {
            keys: ResponseKeys {
                secret: *secret,
                enc,
                aad,
            },
        }
    }

    /// Seals `inner` (the UTF-8 JSON of the ordinary response envelope) for the
    /// HTTP `status` it is sent with; `response_nonce` must be 32 fresh random
    /// bytes.
    pub fn seal(&self, status: u16, inner: &[u8], response_nonce: [u8; 32]) -> SealedResponse {
        // Neither HKDF (fixed lengths) nor AES-GCM (inputs far below 2^36 bytes)
        // can fail here; if one did, an empty `ct` makes the client's open fail
        // rather than the worker panic.
        let ct = self
            .keys
            .derive(status, &response_nonce)
            .and_then(|(k, aad_res)| Aes256Gcm::seal(&k.key, &k.iv, &aad_res, inner))
            .unwrap_or_default();
        SealedResponse {
            v: VERSION,
            nonce: b64(&response_nonce),
            ct: b64(&ct),
        }
    }
}

/// Client: opens the sealed response to one request; wiped on drop.
pub struct ResponseOpener {
    keys: ResponseKeys,
}

impl std::fmt::Debug for ResponseOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseOpener(..)")
    }
}

/// The outer body as read by the client.
#[derive(Deserialize)]
struct OuterIn {
    success: bool,
    data: SealedResponse,
}

/// The outer body as written by the server (field order as in the edge-seal contract).
#[derive(Serialize)]
struct OuterOut<'a> {
    success: bool,
    data: &'a SealedResponse,
}

impl ResponseOpener {
    pub(crate) fn new(
        secret: Zeroizing<[u8; 32]>,
        enc: [u8; POINT_BYTES],
        aad: Vec<u8>,
    ) -> ResponseOpener {
        ResponseOpener {
            keys: ResponseKeys {
                secret: *secret,
                enc,
                aad,
            },
        }
    }

    /// Opens a whole response body `{"success":…,"data":{"v":1,"nonce":…,"ct":…}}`
    /// received with HTTP `status`; returns the inner JSON. A body of another
    /// shape (for example an unsealed error answered before the server could
    /// open the request) → [`SealError::Malformed`]; an outer `success` that does
    /// not mirror the inner one → [`SealError::Invalid`] (the outer field is not
    /// authenticated, so it is checked against the inner one).
    pub fn open(&self, status: u16, outer_body: &[u8]) -> Result<Vec<u8>, SealError> {
        let outer: OuterIn =
            serde_json::from_slice(outer_body).map_err(|_| SealError::Malformed)?;
        let inner = self.open_sealed(status, &outer.data)?;
        if inner_success(&inner) != outer.success {
            return Err(SealError::Invalid);
        }
        Ok(inner)
    }

    /// Opens the `data` of a sealed response received with HTTP `status`.
    /// `v ≠ 1` → `UnsupportedVersion`; a nonce not of 32 bytes or a `ct` shorter
    /// than the tag → `Malformed`; any authentication failure (tampered nonce,
    /// ct or status, another request's response) → `Invalid`.
    pub fn open_sealed(&self, status: u16, sealed: &SealedResponse) -> Result<Vec<u8>, SealError> {
        if sealed.v != VERSION {
            return Err(SealError::UnsupportedVersion);
        }
        let nonce: [u8; RESPONSE_NONCE_BYTES] = unb64(&sealed.nonce)?
            .try_into()
            .map_err(|_| SealError::Malformed)?;
        let ct = unb64(&sealed.ct)?;
        if ct.len() < TAG_BYTES {
            return Err(SealError::Malformed);
        }
        let (k, aad_res) = self.keys.derive(status, &nonce)?;
        let mut pt = Aes256Gcm::open(&k.key, &k.iv, &aad_res, &ct)?;
        Ok(std::mem::take(&mut *pt))
    }
}

/// The inner envelope's `success`: its boolean `success` field, else `true`
/// (query envelopes `{"data":…}` have none).
fn inner_success(inner: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Success {
        #[serde(default)]
        success: Option<bool>,
    }
    // A `success` that is not a boolean (not an envelope) counts as absent.
    serde_json::from_slice::<Success>(inner)
        .ok()
        .and_then(|s| s.success)
        .unwrap_or(true)
}

/// The outer body the server sends: `{"success":<mirrors inner>,"data":{"v":1,
/// "nonce":…,"ct":…}}`, where `success` is the inner envelope's `success`
/// (true when it has none, as query envelopes `{"data":…}` do).
pub fn outer_body(inner: &[u8], sealed: &SealedResponse) -> Vec<u8> {
    let outer = OuterOut {
        success: inner_success(inner),
        data: sealed,
    };
    // Serializing a bool and three plain fields cannot fail.
    serde_json::to_vec(&outer).unwrap_or_default()
}
