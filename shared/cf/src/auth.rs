//! Access-token keys for workers other than auth. Auth alone holds the
//! signing key; every other worker verifies with its public half, which it
//! fetches from `GET /auth/jwks` through its `AUTH` service binding and keeps
//! per isolate for [`JWKS_TTL_MS`]. A token whose `kid` the cached set does
//! not know (a signing-key rotation) triggers a re-fetch, at most once per
//! [`REFETCH_MIN_MS`], so forged kids cannot make a worker hammer auth.
//! Revocation is then checked against D1 (`sealpost_guard::live_caller`,
//! docs/adr/0009).
use std::cell::RefCell;
use std::rc::Rc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiRequest, ErrorCode, Failure};
use sealpost_guard::{KeyNeed, Verifier, bearer};
use sealpost_ports::{Clock, SiteId};
use worker::{Env, Headers, Method, Request, RequestInit};

use crate::http::{HEADER_REQUEST_ID, HEADER_ROUTE, HEADER_SITE};
use crate::log;
use crate::sys::SystemClock;

/// The service binding to the auth worker.
pub const AUTH_BINDING: &str = "AUTH";
/// How long a fetched key set is used without asking again.
pub const JWKS_TTL_MS: i64 = 5 * 60_000;
/// Shortest interval between two fetches (for unknown kids or failures).
pub const REFETCH_MIN_MS: i64 = 10_000;

struct Cached {
    /// The last key set fetched, and when.
    verifier: Option<(Rc<Verifier>, i64)>,
    /// The last attempt, successful or not.
    attempted_at: i64,
}

thread_local! {
    static KEYS: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// The `kid` of a JWT's header, if it has one (no verification).
pub fn token_kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("kid")?.as_str().map(str::to_owned)
}

/// Whether to fetch the key set now, given the cached one (if any), the
/// kid the request's token names and the time. Pure, for tests.
pub fn should_fetch(
    cached: Option<(&Verifier, i64)>,
    last_attempt: Option<i64>,
    kid: Option<&str>,
    now_ms: i64,
) -> bool {
    let recently = last_attempt.is_some_and(|at| now_ms - at < REFETCH_MIN_MS);
    match cached {
        None => !recently,
        Some((verifier, fetched_at)) => {
            let expired = now_ms - fetched_at >= JWKS_TTL_MS;
            let unknown = kid.is_some_and(|k| !verifier.kids().any(|known| known == k));
            (expired || unknown) && !recently
        }
    }
}

async fn fetch(env: &Env, site: &SiteId, request_id: &str) -> Result<Verifier, String> {
    let fetcher = env
        .service(AUTH_BINDING)
        .map_err(|e| format!("binding {AUTH_BINDING}: {e}"))?;
    let headers = Headers::new();
    // The auth worker's scaffold wants what the gateway normally sets.
    headers
        .set(HEADER_SITE, site.as_str())
        .and_then(|()| headers.set(HEADER_REQUEST_ID, request_id))
        .and_then(|()| headers.set(HEADER_ROUTE, RouteId::AuthJwks.as_str()))
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init("https://auth.internal/auth/jwks", &init)
        .map_err(|e| e.to_string())?;
    let mut resp = fetcher
        .fetch_request(req)
        .await
        .map_err(|e| e.to_string())?;
    if resp.status_code() != 200 {
        return Err(format!("GET /auth/jwks answered {}", resp.status_code()));
    }
    let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
    // Enveloped like every route but /health: {"data":{"keys":[…]}}.
    Verifier::from_jwks(body.get("data").unwrap_or(&serde_json::Value::Null))
        .map_err(|e| e.to_string())
}

/// The access-token verifier for a request whose bearer token is
/// `authorization` (its `kid` decides whether a re-fetch is worth it).
/// Without any usable key set: 503 `SERVICE_UNAVAILABLE` (fail closed).
pub async fn verifier(
    env: &Env,
    site: &SiteId,
    request_id: &str,
    authorization: Option<&str>,
) -> Result<Rc<Verifier>, Failure> {
    let now = SystemClock.now_ms();
    let kid = bearer(authorization).ok().and_then(token_kid);
    let (current, last_attempt) = KEYS.with(|k| {
        let k = k.borrow();
        (
            k.as_ref().and_then(|c| c.verifier.clone()),
            k.as_ref().map(|c| c.attempted_at),
        )
    });
    let wanted = should_fetch(
        current.as_ref().map(|(v, at)| (v.as_ref(), *at)),
        last_attempt,
        kid.as_deref(),
        now,
    );
    let unavailable = || Failure::Api(ApiError::new(ErrorCode::ServiceUnavailable));
    if !wanted {
        return current.map(|(v, _)| v).ok_or_else(unavailable);
    }
    let fetched = fetch(env, site, request_id).await;
    let (verifier, out) = match fetched {
        Ok(v) => {
            let v = Rc::new(v);
            (Some((v.clone(), now)), Ok(v))
        }
        Err(cause) => {
            log::line("error", "jwks fetch failed")
                .field("requestId", request_id)
                .field("cause", cause)
                .emit();
            // Keep serving with the keys we had (public keys do not go bad
            // by age); the next attempt waits REFETCH_MIN_MS.
            let out = current
                .as_ref()
                .map(|(v, _)| v.clone())
                .ok_or_else(unavailable);
            (current, out)
        }
    };
    KEYS.with(|k| {
        *k.borrow_mut() = Some(Cached {
            verifier,
            attempted_at: now,
        });
    });
    out
}

/// The keys `req` needs, as its core decided ([`KeyNeed`]): none, the
/// keys or the failure, or the keys if they can be had.
pub async fn keys_for(
    env: &Env,
    req: &ApiRequest,
    need: KeyNeed,
) -> Result<Option<Rc<Verifier>>, Failure> {
    let fetch = || verifier(env, &req.site, &req.request_id, req.authorization());
    match need {
        KeyNeed::None => Ok(None),
        KeyNeed::Required => fetch().await.map(Some),
        KeyNeed::BestEffort => Ok(fetch().await.ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The P-256 base point, a valid public key.
    const G: &str = "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

    fn verifier() -> Verifier {
        let bytes: Vec<u8> = (0..G.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&G[i..i + 2], 16).unwrap())
            .collect();
        Verifier::from_sec1_points(&[bytes]).unwrap()
    }

    #[test]
    fn the_kid_comes_from_the_jwt_header() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"k1"}"#);
        assert_eq!(
            token_kid(&format!("{header}.e30.sig")).as_deref(),
            Some("k1")
        );
        assert_eq!(token_kid("garbage"), None);
        assert_eq!(token_kid(""), None);
    }

    #[test]
    fn keys_are_fetched_when_missing_expired_or_missing_the_kid_but_at_most_every_10_s() {
        let v = verifier();
        let known = v.kids().next().unwrap().to_owned();
        let t = 1_000_000;
        assert!(should_fetch(None, None, None, t));
        assert!(!should_fetch(None, Some(t - 5_000), None, t));
        assert!(should_fetch(None, Some(t - REFETCH_MIN_MS), None, t));
        // Fresh and the kid is known: no fetch.
        assert!(!should_fetch(
            Some((&v, t - 1_000)),
            Some(t - 1_000),
            Some(&known),
            t
        ));
        assert!(!should_fetch(
            Some((&v, t - 1_000)),
            Some(t - 1_000),
            None,
            t
        ));
        // Expired after 5 minutes.
        let old = t - JWKS_TTL_MS;
        assert!(should_fetch(Some((&v, old)), Some(old), Some(&known), t));
        // An unknown kid: once, then not again within 10 s.
        assert!(should_fetch(
            Some((&v, t - 60_000)),
            Some(t - 60_000),
            Some("new"),
            t
        ));
        assert!(!should_fetch(
            Some((&v, t - 60_000)),
            Some(t - 3_000),
            Some("new"),
            t
        ));
    }
}
