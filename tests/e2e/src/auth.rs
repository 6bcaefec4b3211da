//! Auth clients for the e2e scenarios: how a call reaches the auth service
//! — sealed through the real edge-seal envelope ([`sealed_call`]), with a
//! bearer token on the outer HTTP request — and what its tokens say; the
//! accounts and their sessions (`session`: signup, login, refresh), TOTP
//! enrolment and second-factor logins (`mfa`), and a shared admin that
//! logged in with its second factor (`admin`: every `/admin/*` route needs
//! one).
//!
//! Every helper that expects a success asserts it and shows the whole answer
//! when it is not one.
mod admin;
mod mfa;
mod session;

use sealpost_seal::unb64;

pub use admin::{AdminInfo, PwdOnlyView, admin_get, admin_set_roles, admin_with_mfa};
pub use mfa::{
    TOTP_STEP_SECS, Totp, enable_totp, fresh_code, login_with_totp, setup_totp, totp_code,
};
pub use session::{
    ACCESS_TTL_SECS, Session, assert_tokens, login, login_for_mfa_token, login_mfa, login_via,
    new_member, refresh, refreshed, signup, try_login, try_login_mfa, try_login_via, try_signup,
};

pub use crate::assertions::{assert_error, assert_mutation, assert_validation};
use crate::sealed::{self, envelope, first_key};
use crate::{Call, Reply, Stack, Value, random_hex, unix_now};

/// A unique e-mail address for scenario `name`.
pub fn unique_email(name: &str) -> String {
    format!("{name}-{}@e2e.test", random_hex(4))
}

/// A fresh password that passes the policy (not common, not the e-mail).
pub fn strong_password() -> String {
    format!("E2e-pass-{}", random_hex(8))
}

/// How a call is sent besides its body: client address, user agent, bearer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Via<'a> {
    /// `CF-Connecting-IP`; a fresh unique address when `None`.
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The access token for `Authorization: Bearer …`.
    pub bearer: Option<&'a str>,
}

impl<'a> Via<'a> {
    pub fn ip(ip: &'a str) -> Self {
        Via {
            ip: Some(ip),
            ..Via::default()
        }
    }

    pub fn bearer(token: &'a str) -> Self {
        Via {
            bearer: Some(token),
            ..Via::default()
        }
    }

    fn apply(self, mut call: Call) -> Call {
        if let Some(ip) = self.ip {
            call = call.client_ip(ip);
        }
        if let Some(ua) = self.user_agent {
            call = call.header("User-Agent", ua);
        }
        if let Some(token) = self.bearer {
            call = call.header("Authorization", &format!("Bearer {token}"));
        }
        call
    }
}

/// Whether an outer body is a sealed response (`{"success","data":{v,nonce,ct}}`).
pub fn is_sealed(reply: &Reply) -> bool {
    serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|b| {
            let d = b.get("data")?;
            Some(d.get("ct")?.is_string() && d.get("nonce")?.is_string())
        })
        .unwrap_or(false)
}

/// Seals `inner` for `POST path`, sends it as `via` says, and opens the
/// sealed answer: `(outer reply, inner envelope)`. Panics when the answer is
/// not sealed (every answer to a request that opened is).
pub fn sealed_call(stack: &Stack, path: &str, inner: &Value, via: Via<'_>) -> (Reply, Value) {
    let key = first_key(stack);
    let now = i64::try_from(unix_now()).expect("time fits");
    let (env, opener) = envelope(&key, path, inner, now);
    let reply = via.apply(stack.request("POST", path)).json(&env).send();
    let opened = sealed::open(&opener, &reply);
    (reply, opened)
}

/// Like [`sealed_call`], but an unsealed answer (a refusal made before the
/// request was opened, which SEAL.md allows) is returned as is.
pub fn sealed_call_any(stack: &Stack, path: &str, inner: &Value, via: Via<'_>) -> (Reply, Value) {
    let key = first_key(stack);
    let now = i64::try_from(unix_now()).expect("time fits");
    let (env, opener) = envelope(&key, path, inner, now);
    let reply = via.apply(stack.request("POST", path)).json(&env).send();
    let body = if is_sealed(&reply) {
        sealed::open(&opener, &reply)
    } else {
        reply.json()
    };
    (reply, body)
}

/// A sealed route that also needs the bearer `token` (TOTP, password).
pub fn sealed_bearer_post(stack: &Stack, path: &str, token: &str, inner: &Value) -> (Reply, Value) {
    sealed_call(stack, path, inner, Via::bearer(token))
}

/// A bearer request being built (`method path` with `Authorization`).
pub fn bearer_request(stack: &Stack, method: &str, path: &str, token: &str) -> Call {
    stack
        .request(method, path)
        .header("Authorization", &format!("Bearer {token}"))
}

/// `GET path` with the bearer `token`.
pub fn bearer_get(stack: &Stack, path: &str, token: &str) -> Reply {
    bearer_request(stack, "GET", path, token).send()
}

/// `GET /auth/me` with `token`.
pub fn me(stack: &Stack, token: &str) -> Reply {
    bearer_get(stack, "/auth/me", token)
}

/// The header and payload of a JWT, decoded (not verified).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token:.40}…");
    let decode = |part: &str, what: &str| -> Value {
        let bytes = unb64(part).unwrap_or_else(|_| panic!("JWT {what} is not base64url"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JWT {what} is not JSON: {e}"))
    };
    (decode(parts[0], "header"), decode(parts[1], "payload"))
}

/// The claims (payload) of an access token.
pub fn claims(token: &str) -> Value {
    jwt_parts(token).1
}
