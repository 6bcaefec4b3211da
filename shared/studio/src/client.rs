//! The console's one way to the API: bearer calls that renew an expired
//! access token once through the site's `/session/refresh` cookie, sealed
//! calls (edge-seal v1 through `sealpost-seal`, retried once on a stale
//! clock or a rotated key), and the session's start and end. The access
//! token lives only in this page's memory; the refresh token only in the
//! HttpOnly cookie the site keeps for it.
use std::cell::RefCell;

use base64::Engine;
use sealpost_api::account::Tokens;
use sealpost_seal::KeyConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::hint;
use crate::net::{self, Listed, Reply};
use crate::problem::Problem;

/// The header every `/session` call carries (the site refuses others).
const SESSION_HEADER: (&str, &str) = ("X-Sealpost-Session", "1");

#[derive(Debug, Default)]
struct State {
    access: Option<Zeroizing<String>>,
    key: Option<KeyConfig>,
}

thread_local! {
    /// The page's one session (the console runs on the browser's one thread).
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// The page's API client: a handle on its one session, free to copy into
/// every screen and task.
#[derive(Debug, Clone, Copy, Default)]
pub struct Client;

#[derive(Deserialize)]
struct KeyList {
    keys: Vec<KeyConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Renewed {
    access_token: String,
}

impl Client {
    /// Whether an access token is held.
    pub fn signed_in(&self) -> bool {
        STATE.with_borrow(|s| s.access.is_some())
    }

    /// Whether the held access token was issued after a second factor
    /// (its `amr` claim names `otp`), which every `/admin/*` route needs.
    /// The server checks the token; this only decides what to show.
    pub fn has_second_factor(&self) -> bool {
        STATE.with_borrow(|s| s.access.as_deref().is_some_and(|t| amr_has_otp(t)))
    }

    fn bearer(&self) -> Option<Zeroizing<String>> {
        STATE.with_borrow(|s| {
            s.access
                .as_ref()
                .map(|t| Zeroizing::new(format!("Bearer {}", t.as_str())))
        })
    }

    fn set_access(&self, token: Option<String>) {
        STATE.with_borrow_mut(|s| s.access = token.map(Zeroizing::new));
    }

    /// Holds `tokens`' access token and hands the refresh token to the
    /// site's cookie, so a reload keeps the session.
    pub async fn keep(&self, tokens: &Tokens) -> Result<(), Problem> {
        self.set_access(Some(tokens.access_token.clone()));
        let body = serde_json::json!({ "refreshToken": tokens.refresh_token });
        let reply = net::send(
            "POST",
            "/session",
            &[SESSION_HEADER],
            Some(&body.to_string()),
        )
        .await?;
        if reply.status == 204 {
            hint::set(true);
            Ok(())
        } else {
            net::decode::<serde_json::Value>(reply.status, &reply.body).map(|_| ())
        }
    }

    /// A new access token from the cookie; `false` when there is no session.
    pub async fn resume(&self) -> Result<bool, Problem> {
        if !hint::get() {
            return Ok(false);
        }
        let reply = hint::locked(hint::REFRESH_LOCK, || async {
            net::send("POST", "/session/refresh", &[SESSION_HEADER], Some("{}")).await
        })
        .await
        .ok_or(Problem::Network)??;
        match net::decode::<Renewed>(reply.status, &reply.body) {
            Ok(renewed) => {
                self.set_access(Some(renewed.items.access_token));
                Ok(true)
            }
            // The cookie is gone, spent or refused: signed out.
            Err(_) if reply.status == 401 || reply.status == 403 => {
                hint::set(false);
                self.set_access(None);
                Ok(false)
            }
            Err(p) => Err(p),
        }
    }

    /// Ends the session at auth and clears the cookie.
    pub async fn end(&self) {
        let bearer = self.bearer();
        let mut headers = vec![SESSION_HEADER];
        if let Some(b) = bearer.as_deref() {
            headers.push(("Authorization", b.as_str()));
        }
        // Signing out never fails for the person: the token is dropped here
        // whatever the network does.
        let _ = net::send("POST", "/session/end", &headers, Some("{}")).await;
        hint::set(false);
        self.set_access(None);
    }

    /// A bearer exchange; an answer saying the access token expired renews
    /// it once and repeats the call.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        text: Option<&str>,
    ) -> Result<net::Reply, Problem> {
        let mut renewed = false;
        loop {
            let bearer = self.bearer();
            let headers: Vec<(&str, &str)> = bearer
                .as_deref()
                .map(|b| ("Authorization", b.as_str()))
                .into_iter()
                .collect();
            let reply = net::send(method, path, &headers, text).await?;
            let expired = net::decode::<serde_json::Value>(reply.status, &reply.body)
                .err()
                .is_some_and(|p| p.is_signed_out());
            if expired && !renewed && self.resume().await? {
                renewed = true;
                continue;
            }
            return Ok(reply);
        }
    }

    /// A bearer call; an expired access token is renewed once and the call
    /// repeated.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<Listed<T>, Problem> {
        let text = body
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Problem::Unexpected(e.to_string()))?;
        let reply = self.exchange(method, path, text.as_deref()).await?;
        net::decode::<T>(reply.status, &reply.body)
    }

    /// A bearer `GET` of a file (not an envelope): its bytes on 200, the
    /// API's problem otherwise.
    pub async fn download(&self, path: &str) -> Result<Vec<u8>, Problem> {
        let reply = self.exchange("GET", path, None).await?;
        if reply.status == 200 {
            return Ok(reply.body);
        }
        net::decode::<serde_json::Value>(reply.status, &reply.body)?;
        Err(Problem::Unexpected(format!(
            "{path} answered {}",
            reply.status
        )))
    }

    /// `GET path` with the bearer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Listed<T>, Problem> {
        self.call::<T>("GET", path, None::<&()>).await
    }

    async fn key(&self, fresh: bool) -> Result<KeyConfig, Problem> {
        if !fresh && let Some(key) = STATE.with_borrow(|s| s.key.clone()) {
            return Ok(key);
        }
        let reply = net::send("GET", "/auth/keys", &[], None).await?;
        let keys = net::decode::<KeyList>(reply.status, &reply.body)?;
        let key = keys
            .items
            .keys
            .into_iter()
            .next()
            .ok_or_else(|| Problem::Unexpected("auth publishes no seal key".into()))?;
        STATE.with_borrow_mut(|s| s.key = Some(key.clone()));
        Ok(key)
    }

    /// A sealed `POST path` of `body`, with the bearer when `bearer`. One
    /// retry after `SEAL_STALE` (stamped with the server's clock) or
    /// `SEAL_UNKNOWN_KEY` (keys fetched again).
    pub async fn sealed<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        bearer: bool,
    ) -> Result<T, Problem> {
        let plain = Zeroizing::new(
            serde_json::to_vec(body).map_err(|e| Problem::Unexpected(e.to_string()))?,
        );
        let mut now = now_secs();
        let mut fresh_key = false;
        let mut retried = false;
        loop {
            let key = self.key(fresh_key).await?;
            let sealed =
                sealpost_seal::seal_request(&key, "POST", path, &plain, now, &mut rand_core::OsRng)
                    .map_err(|e| Problem::Seal(e.code().to_owned()))?;
            let auth = if bearer { self.bearer() } else { None };
            let headers: Vec<(&str, &str)> = auth
                .as_deref()
                .map(|b| ("Authorization", b.as_str()))
                .into_iter()
                .collect();
            let Reply { status, date, body } =
                net::send("POST", path, &headers, Some(&sealed.envelope.to_json())).await?;
            let opened = Zeroizing::new(
                sealed
                    .opener
                    .read(status, &body)
                    .map_err(|e| Problem::Seal(e.to_string()))?,
            );
            match net::decode::<T>(status, &opened) {
                Err(p) if !retried && p.code() == Some("SEAL_STALE") => {
                    now = date.as_deref().and_then(http_date_secs).unwrap_or(now);
                    retried = true;
                }
                Err(p) if !retried && p.code() == Some("SEAL_UNKNOWN_KEY") => {
                    fresh_key = true;
                    retried = true;
                }
                other => return other.map(|l| l.items),
            }
        }
    }
}

fn now_secs() -> i64 {
    // Whole seconds since 1970 fit an i64 exactly.
    #[allow(clippy::cast_possible_truncation)]
    let secs = (js_sys::Date::now() / 1000.0).floor() as i64;
    secs
}

/// Seconds since 1970 of an HTTP `Date` header, read by the browser.
fn http_date_secs(date: &str) -> Option<i64> {
    let ms = js_sys::Date::parse(date);
    #[allow(clippy::cast_possible_truncation)]
    (!ms.is_nan()).then(|| (ms / 1000.0).floor() as i64)
}

/// Whether a JWT's payload has `otp` in its `amr` claim (no verification:
/// the server verifies; this decides only what the console shows).
pub fn amr_has_otp(token: &str) -> bool {
    #[derive(Deserialize)]
    struct Claims {
        #[serde(default)]
        amr: Vec<String>,
    }
    token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())
        .is_some_and(|c| c.amr.iter().any(|m| m == "otp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b64(r#"{"alg":"ES256"}"#), b64(payload))
    }

    #[test]
    fn a_token_issued_after_a_code_has_a_second_factor() {
        assert!(amr_has_otp(&token(r#"{"amr":["pwd","otp"]}"#)));
    }

    #[test]
    fn a_password_only_or_malformed_token_has_none() {
        assert!(!amr_has_otp(&token(r#"{"amr":["pwd"]}"#)));
        assert!(!amr_has_otp("not-a-jwt"));
    }
}
