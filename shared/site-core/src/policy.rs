//! How a rendered page leaves the site: its Content-Security-Policy (no
//! inline script or style anywhere, so no nonce is needed and a cached page
//! stays valid; Turnstile's origin only when a site key is configured), its
//! `ETag` and caching headers, and the 304 a matching `If-None-Match` gets.
use sealpost_api::ApiResponse;
use sealpost_api::response::none_match;
use sha2::{Digest, Sha256};

/// Turnstile's origin, for its script and its frame.
pub const TURNSTILE_ORIGIN: &str = "https://challenges.cloudflare.com";

/// The CSP of every page. `'wasm-unsafe-eval'` lets the page compile the
/// edge-seal wasm (nothing else is evaluated); `connect-src 'self'` covers
/// the API and the live comments' WebSocket on the page's own origin.
pub fn csp(turnstile: bool) -> String {
    let (script_extra, frame) = if turnstile {
        (format!(" {TURNSTILE_ORIGIN}"), TURNSTILE_ORIGIN.to_owned())
    } else {
        (String::new(), "'none'".to_owned())
    };
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{script_extra}; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         frame-src {frame}; form-action 'self'; base-uri 'none'; manifest-src 'self'; \
         object-src 'none'; frame-ancestors 'none'"
    )
}

/// How browsers keep a page: always revalidated (a 304 is cheap), so a
/// purged page is never shown stale from a browser's cache.
pub const PAGE_CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";

/// A strong `ETag` of `body`.
pub fn etag(body: &[u8]) -> String {
    let hash = Sha256::digest(body);
    let hex: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// A 304 when the client's copy is current, else `resp`.
pub fn conditional(resp: ApiResponse, if_none_match: Option<&str>) -> ApiResponse {
    let Some(tag) = resp.header("etag").map(str::to_owned) else {
        return resp;
    };
    if resp.status == 200 && if_none_match.is_some_and(|h| none_match(h, &tag)) {
        let mut out = ApiResponse::empty(304);
        for (name, value) in &resp.headers {
            if !name.eq_ignore_ascii_case("content-type") {
                out = out.with_header(name.clone(), value.clone());
            }
        }
        return out;
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_allow_no_inline_code_and_no_third_party_without_turnstile() {
        let policy = csp(false);
        assert!(!policy.contains("unsafe-inline"));
        assert!(!policy.contains("https://"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(
            csp(true).contains(
                "script-src 'self' 'wasm-unsafe-eval' https://challenges.cloudflare.com;"
            )
        );
    }

    #[test]
    fn a_current_copy_gets_a_304_with_its_tag_and_no_body() {
        let tag = etag(b"<p>hi</p>");
        let resp = ApiResponse::html(200, "<p>hi</p>".into()).with_header("ETag", tag.clone());
        let out = conditional(resp.clone(), Some(&format!("W/{tag}, \"other\"")));
        assert_eq!(out.status, 304);
        assert!(out.body.is_empty());
        assert_eq!(out.header("etag"), Some(tag.as_str()));
        assert_eq!(conditional(resp, Some("\"stale\"")).status, 200);
    }
}
