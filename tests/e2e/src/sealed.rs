//! The sealed-request client of the e2e suite: the crate's own client
//! (`sealpost_seal`), exactly as an app would use it.
use rand_core::OsRng;
use sealpost_seal::{KeyConfig, ResponseOpener, seal_request};

use crate::{Reply, Stack, Value, unix_now};

/// The first key of `GET /auth/keys`.
pub fn first_key(stack: &Stack) -> KeyConfig {
    let reply = stack.get("/auth/keys");
    assert_eq!(reply.status, 200, "{reply}");
    let keys = reply.json()["data"]["keys"].clone();
    serde_json::from_value::<Vec<KeyConfig>>(keys)
        .expect("key configurations")
        .into_iter()
        .next()
        .expect("at least one key")
}

/// The envelope (as JSON) sealing `inner` for `POST path` at time `ts`.
pub fn envelope(key: &KeyConfig, path: &str, inner: &Value, ts: i64) -> (Value, ResponseOpener) {
    let req = seal_request(
        key,
        "POST",
        path,
        inner.to_string().as_bytes(),
        ts,
        &mut OsRng,
    )
    .expect("sealing a request");
    (
        serde_json::to_value(&req.envelope).expect("envelope JSON"),
        req.opener,
    )
}

/// Seals `inner` with the current key, posts it to `path`, and returns
/// the reply with what opens it.
pub fn post(stack: &Stack, path: &str, inner: &Value) -> (Reply, ResponseOpener) {
    let key = first_key(stack);
    let now = i64::try_from(unix_now()).expect("time fits");
    let (env, opener) = envelope(&key, path, inner, now);
    (stack.request("POST", path).json(&env).send(), opener)
}

/// Opens a sealed reply into its inner envelope.
pub fn open(opener: &ResponseOpener, reply: &Reply) -> Value {
    let inner = opener
        .open(reply.status, &reply.body)
        .unwrap_or_else(|e| panic!("the sealed answer does not open ({e:?}): {reply}"));
    serde_json::from_slice(&inner).expect("inner JSON")
}
