//! The browser build of edge-seal v1: the client half of `sealpost-seal`
//! (seal a request body to the server's key, open the sealed response) for
//! JavaScript, through wasm-bindgen. Built by `scripts/build-seal-js` into
//! `pkg/web` (ES module for apps) and `pkg/node` (CommonJS, for the tests).
//!
//! ```js
//! const keys = (await (await fetch("/auth/keys")).json()).data.keys;
//! const { body, opener } = seal(keys[0], "POST", "/auth/login", JSON.stringify(creds));
//! const res = await fetch("/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body });
//! const inner = JSON.parse(opener.read(res.status, await res.text()));
//! opener.free();
//! ```
//!
//! `opener.read` believes only what the contract lets an answer to a sealed
//! request be: a sealed answer that authenticates, or an unsealed error
//! envelope with a 4xx/5xx status (errors raised before the server opened the
//! request, and the edge's). Anything else unsealed — above all a 2xx — is
//! refused (`SEAL_UNSEALED`): anyone on the path could have written it.
//!
//! Errors are thrown as `Error`s named `SealError` with a `code` property: the
//! contract's code (`SEAL_MALFORMED`, `SEAL_INVALID`, …), `SEAL_UNSEALED` (this
//! client's refusal of an unsealed answer) or `TYPE_ERROR` for arguments of
//! the wrong form.

use sealpost_seal::{KeyConfig, PublicKey, ReadError, ResponseOpener, SealError, SecretKey, unb64};
use wasm_bindgen::prelude::*;

/// A thrown `Error` named `SealError`, with `code`.
fn error(code: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("SealError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    e.into()
}

fn seal_error(e: SealError) -> JsValue {
    error(e.code(), &e.to_string())
}

fn type_error(message: &str) -> JsValue {
    error("TYPE_ERROR", message)
}

/// A key configuration given as an object (one entry of `GET /auth/keys`) or
/// as its JSON text.
fn key_config(value: &JsValue) -> Result<KeyConfig, JsValue> {
    let text = match value.as_string() {
        Some(s) => s,
        None => js_sys::JSON::stringify(value)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| type_error("keyConfig must be an object or JSON text"))?,
    };
    serde_json::from_str(&text)
        .map_err(|_| type_error("keyConfig is not an entry of GET /auth/keys"))
}

fn check_json(json: &str) -> Result<(), JsValue> {
    serde_json::from_str::<serde::de::IgnoredAny>(json)
        .map(|_| ())
        .map_err(|_| type_error("the request body must be JSON text"))
}

/// Unix seconds from a JS number (`ts`), or now.
fn unix_seconds(ts: Option<f64>) -> Result<i64, JsValue> {
    let t = ts.unwrap_or_else(|| (js_sys::Date::now() / 1000.0).floor());
    if !t.is_finite() || t.fract() != 0.0 || t.abs() > 9.0e15 {
        return Err(type_error("ts must be an integer number of seconds"));
    }
    // Exact: an integer below 2^53 in magnitude.
    #[allow(clippy::cast_possible_truncation)]
    Ok(t as i64)
}

/// `{ body, opener }`.
fn sealed_request(req: sealpost_seal::ClientRequest) -> Result<JsValue, JsValue> {
    let out = js_sys::Object::new();
    js_sys::Reflect::set(&out, &"body".into(), &req.envelope.to_json().into())?;
    js_sys::Reflect::set(&out, &"opener".into(), &Opener { inner: req.opener }.into())?;
    Ok(out.into())
}

/// Seals `json` (the request body, JSON text) for `METHOD PATH` to `keyConfig`
/// (an entry of `GET /auth/keys`, object or JSON text). `ts` is the Unix time in
/// seconds to stamp (default: this machine's clock; after a `SEAL_STALE` answer
/// pass the server's time, from its `Date` header, plus the time since).
/// Returns `{ body, opener }`: POST `body` (the envelope JSON) as
/// `application/json`, then give the response to `opener.open`.
#[wasm_bindgen]
pub fn seal(
    #[wasm_bindgen(js_name = keyConfig)] key_config_value: JsValue,
    method: &str,
    path: &str,
    json: &str,
    ts: Option<f64>,
) -> Result<JsValue, JsValue> {
    let config = key_config(&key_config_value)?;
    check_json(json)?;
    let ts = unix_seconds(ts)?;
    let req = sealpost_seal::seal_request(
        &config,
        method,
        path,
        json.as_bytes(),
        ts,
        &mut rand_core::OsRng,
    )
    .map_err(seal_error)?;
    sealed_request(req)
}

/// Deterministic [`seal`] for test vectors: the nonce (16 bytes) and the
/// ephemeral secret key (32 bytes) are given, base64url. Never use it to send
/// real requests.
#[wasm_bindgen(js_name = sealWith)]
pub fn seal_with(
    #[wasm_bindgen(js_name = keyConfig)] key_config_value: JsValue,
    method: &str,
    path: &str,
    json: &str,
    ts: f64,
    #[wasm_bindgen(js_name = nonceB64)] nonce_b64: &str,
    #[wasm_bindgen(js_name = ephemeralSecretB64)] eph_b64: &str,
) -> Result<JsValue, JsValue> {
    let config = key_config(&key_config_value)?;
    check_json(json)?;
    let ts = unix_seconds(Some(ts))?;
    let pk = PublicKey::from_sec1(&unb64(&config.public_key).map_err(seal_error)?)
        .map_err(seal_error)?;
    let nonce: [u8; 16] = unb64(nonce_b64)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| type_error("nonce must be 16 bytes, base64url"))?;
    let eph = SecretKey::from_bytes(&unb64(eph_b64).map_err(seal_error)?).map_err(seal_error)?;
    let req = sealpost_seal::seal_request_with(
        &pk,
        config.kid,
        method,
        path,
        json.as_bytes(),
        ts,
        nonce,
        &eph,
    )
    .map_err(seal_error)?;
    sealed_request(req)
}

/// Whether a response body is a sealed response (`{"success":…,"data":{"v":…,
/// "nonce":…,"ct":…}}`) rather than an ordinary, unsealed one (errors the
/// server answers before it could open the request: `SEAL_*`,
/// `PAYLOAD_TOO_LARGE`, `RATE_LIMITED`, …). Only a classification: whether
/// to believe an answer is `Opener.read`'s decision.
#[wasm_bindgen(js_name = isSealed)]
pub fn is_sealed(response_text: &str) -> bool {
    sealpost_seal::is_sealed(response_text.as_bytes())
}

/// Opens the sealed response to one request. Call `free()` when done (or let
/// the garbage collector do it): that wipes the key.
#[wasm_bindgen]
pub struct Opener {
    inner: ResponseOpener,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opener(..)")
    }
}

#[wasm_bindgen]
impl Opener {
    /// Opens the response body `responseText` received with HTTP `status` and
    /// returns the inner JSON text (the ordinary response envelope). Throws a
    /// `SealError` with `code` `SEAL_MALFORMED` when the body is not a sealed
    /// response (see `isSealed`), `SEAL_INVALID` when it does not authenticate
    /// (tampered, wrong status, another request's answer).
    pub fn open(
        &self,
        status: u16,
        #[wasm_bindgen(js_name = responseText)] response_text: &str,
    ) -> Result<String, JsValue> {
        let inner = self
            .inner
            .open(status, response_text.as_bytes())
            .map_err(seal_error)?;
        String::from_utf8(inner).map_err(|_| seal_error(SealError::Malformed))
    }

    /// The answer to this request received with HTTP `status`, as JSON text,
    /// if the contract lets a client believe it: a sealed answer is opened
    /// (as `open` does, with its errors); an unsealed one is returned as it is
    /// only when it is an error envelope (`success: false` with an
    /// `error.code`) under a 4xx/5xx status. Any other unsealed answer — a
    /// 2xx above all — throws a `SealError` with `code` `SEAL_UNSEALED`.
    pub fn read(
        &self,
        status: u16,
        #[wasm_bindgen(js_name = responseText)] response_text: &str,
    ) -> Result<String, JsValue> {
        let inner = self
            .inner
            .read(status, response_text.as_bytes())
            .map_err(|e| match e {
                ReadError::Sealed(e) => seal_error(e),
                unsealed => error("SEAL_UNSEALED", &unsealed.to_string()),
            })?;
        String::from_utf8(inner).map_err(|_| seal_error(SealError::Malformed))
    }
}
