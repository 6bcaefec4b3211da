//! The browser's session endpoints (docs/adr/0019). The refresh token lives
//! in an HttpOnly cookie scoped to `/session`, out of reach of the page's
//! scripts; a page trades it here for short-lived access tokens. The site
//! makes the sealed `/auth/refresh` call itself, so the refresh token never
//! re-enters the page. Every call must come from the site's own origin with
//! `X-Sealpost-Session: 1`, which a cross-site form cannot send.
use rand_core::CryptoRngCore;
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode, Failure, Upstream};
use sealpost_seal::KeyConfig;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::request::PageRequest;
use crate::routing::SessionAction;

/// The cookie holding the refresh token.
pub const COOKIE: &str = "sealpost_refresh";
/// The header every session call carries.
pub const CSRF_HEADER: &str = "x-sealpost-session";
/// The longest refresh token taken into the cookie.
pub const TOKEN_MAX: usize = 1024;
/// How long the browser keeps the cookie: a session's absolute lifetime.
pub const COOKIE_MAX_AGE_SECS: i64 = sealpost_guard::session::ABSOLUTE_TTL_MS / 1000;

/// One session call of a site whose origin is `base_url`.
#[derive(Debug)]
pub struct SessionCall<'a, U> {
    pub upstream: &'a U,
    /// The site's canonical origin (`sites.base_url`): the only `Origin`
    /// accepted, and whether the cookie is `Secure`.
    pub base_url: &'a str,
    /// Unix seconds, for the seal's timestamp.
    pub now_secs: i64,
}

impl<U: Upstream> SessionCall<'_, U> {
    /// The answer to `action`; the contract's envelope on every refusal.
    pub async fn serve(
        &self,
        req: &PageRequest,
        action: SessionAction,
        rng: &mut impl CryptoRngCore,
    ) -> Result<ApiResponse, Failure> {
        if let Err(refused) = self.check_caller(req) {
            return Ok(refused.into_response());
        }
        match action {
            SessionAction::Start => Ok(self.start(req)),
            SessionAction::Refresh => self.refresh(req, rng).await,
            SessionAction::End => self.end(req).await,
        }
    }

    /// Same origin and the session header, or 403.
    fn check_caller(&self, req: &PageRequest) -> Result<(), ApiError> {
        let forbidden = |why: &str| Err(ApiError::new(ErrorCode::Forbidden).with_message(why));
        if req.header("origin") != Some(self.base_url) {
            return forbidden("Session calls are taken from the site's own pages only");
        }
        if req.header(CSRF_HEADER) != Some("1") {
            return forbidden("Session calls need the X-Sealpost-Session header");
        }
        Ok(())
    }

    /// `POST /session {"refreshToken"}`: 204 and the cookie.
    fn start(&self, req: &PageRequest) -> ApiResponse {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            refresh_token: String,
        }
        let body =
            serde_json::from_slice::<Body>(&req.body).map(|b| Zeroizing::new(b.refresh_token));
        match body {
            Ok(token) if is_token(&token) => {
                ApiResponse::empty(204).with_header("Set-Cookie", self.cookie(&token))
            }
            _ => ApiError::field("refreshToken", "Must be the refresh token auth gave")
                .into_response(),
        }
    }

    /// `POST /session/refresh`: a sealed `/auth/refresh` with the cookie's
    /// token; the new access token, and the rotated cookie. A refused token
    /// clears the cookie and answers auth's code.
    async fn refresh(
        &self,
        req: &PageRequest,
        rng: &mut impl CryptoRngCore,
    ) -> Result<ApiResponse, Failure> {
        let Some(token) = cookie_token(req) else {
            return Ok(self.signed_out(ErrorCode::AuthTokenInvalid));
        };
        let key = self.seal_key(req).await?;
        let inner = serde_json::to_vec(&json!({"refreshToken": token.as_str()}))
            .map(Zeroizing::new)
            .map_err(|e| Failure::Codec(e.to_string()))?;
        let path = RouteId::AuthRefresh.spec().pattern;
        let sealed = sealpost_seal::seal_request(&key, "POST", path, &inner, self.now_secs, rng)
            .map_err(|e| Failure::Codec(format!("sealing the refresh: {e}")))?;
        let call = forwarded(req, RouteId::AuthRefresh).with_body(sealed.envelope.to_json());
        let answer = self.upstream.call(call).await?;
        // Auth seals its answer, unless it refused before it could open the
        // request (SEAL_*, RATE_LIMITED): those are plain error envelopes.
        let opened = sealed
            .opener
            .read(answer.status, &answer.body)
            .map(Zeroizing::new)
            .map_err(|e| Failure::Codec(format!("reading the refresh answer: {e}")))?;
        let inner: serde_json::Value =
            serde_json::from_slice(&opened).map_err(|e| Failure::Codec(e.to_string()))?;
        let tokens = &inner["data"]["tokens"];
        match (
            answer.status,
            tokens["accessToken"].as_str(),
            tokens["refreshToken"].as_str(),
        ) {
            (200, Some(access), Some(refresh)) if is_token(refresh) => {
                let body = json!({"success": true, "data": {
                    "accessToken": access,
                    "expiresIn": tokens["expiresIn"],
                }});
                Ok(ApiResponse::json_value(200, &body)
                    .with_header("Cache-Control", "no-store")
                    .with_header("Set-Cookie", self.cookie(refresh)))
            }
            (401, ..) => {
                let code = inner["error"]["code"]
                    .as_str()
                    .and_then(ErrorCode::parse)
                    .unwrap_or(ErrorCode::AuthTokenInvalid);
                Ok(self.signed_out(code))
            }
            (status, ..) if status >= 400 => Ok(ApiResponse::json_value(status, &inner)),
            _ => Err(Failure::Codec("auth's refresh answer has no tokens".into())),
        }
    }

    /// `POST /session/end`: auth's logout when a bearer is given, and the
    /// cookie cleared either way.
    async fn end(&self, req: &PageRequest) -> Result<ApiResponse, Failure> {
        if let Some(bearer) = req.header("authorization") {
            let call = forwarded(req, RouteId::AuthLogout)
                .with_header("authorization", bearer)
                .with_body(b"{}".to_vec());
            // A token that no longer works has nothing left to end.
            self.upstream.call(call).await?;
        }
        Ok(ApiResponse::empty(204).with_header("Set-Cookie", self.cleared()))
    }

    /// The first key of `GET /auth/keys` (SEAL.md: the one clients use).
    async fn seal_key(&self, req: &PageRequest) -> Result<KeyConfig, Failure> {
        #[derive(Deserialize)]
        struct Keys {
            data: KeyList,
        }
        #[derive(Deserialize)]
        struct KeyList {
            keys: Vec<KeyConfig>,
        }
        let answer = self
            .upstream
            .call(forwarded(req, RouteId::AuthKeys))
            .await?;
        let keys: Keys = serde_json::from_slice(&answer.body)
            .map_err(|e| Failure::Codec(format!("GET /auth/keys: {e}")))?;
        keys.data
            .keys
            .into_iter()
            .next()
            .ok_or_else(|| Failure::Config("auth publishes no seal key".into()))
    }

    fn signed_out(&self, code: ErrorCode) -> ApiResponse {
        let mut resp = ApiError::new(code).into_response();
        resp = resp.with_header("Set-Cookie", self.cleared());
        resp
    }

    fn cookie(&self, token: &str) -> String {
        format!(
            "{COOKIE}={token}; Max-Age={COOKIE_MAX_AGE_SECS}; {}",
            self.attributes()
        )
    }

    fn cleared(&self) -> String {
        format!("{COOKIE}=; Max-Age=0; {}", self.attributes())
    }

    /// HttpOnly, SameSite=Strict, only for the session paths, and Secure
    /// unless the site is served from this machine (ADR 0016).
    fn attributes(&self) -> &'static str {
        let local = sealpost_ports::BaseUrl::parse(self.base_url).is_ok_and(|b| b.is_local());
        if local {
            "Path=/session; HttpOnly; SameSite=Strict"
        } else {
            "Path=/session; HttpOnly; SameSite=Strict; Secure"
        }
    }
}

/// A call to auth on behalf of the page's visitor (its address and request
/// id, so auth's limits count the visitor, not the site).
fn forwarded(req: &PageRequest, route: RouteId) -> ApiRequest {
    ApiRequest::new(route, req.site.clone())
        .with_client_ip(req.client_ip.clone())
        .with_request_id(req.request_id.clone())
}

/// The refresh token in the request's cookie, if it looks like one.
fn cookie_token(req: &PageRequest) -> Option<Zeroizing<String>> {
    req.header("cookie")?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, v)| Zeroizing::new(v.to_owned()))
        .filter(|v| is_token(v))
}

/// Whether `t` can be a refresh token: non-empty, bounded, and only the
/// characters a cookie value takes unquoted (base64url and `.`).
fn is_token(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= TOKEN_MAX
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
