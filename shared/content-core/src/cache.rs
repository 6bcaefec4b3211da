//! HTTP caching of public reads (docs/adr/0011): a strong `ETag` that is a
//! hash of the exact body sent, `Cache-Control`, and 304 for a matching
//! `If-None-Match`. The tag changes exactly when the representation does
//! (an edit, a publish, another page of results), and costs no storage.
use sealpost_api::ApiResponse;
use sha2::{Digest, Sha256};

/// `Cache-Control` of public post reads: shared caches and browsers may
/// keep an answer 60 s and serve it stale for 5 minutes while revalidating.
pub const PUBLIC_CACHE_CONTROL: &str = "public, max-age=60, stale-while-revalidate=300";

/// The strong entity tag of `body`: the first 16 bytes of its SHA-256, hex,
/// quoted.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut s = String::with_capacity(34);
    s.push('"');
    for b in &digest[..16] {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('"');
    s
}

pub use sealpost_api::response::none_match;

/// Adds `ETag` and `Cache-Control` to a 200 answer, or turns it into a 304
/// with the same headers and no body when `if_none_match` matches.
pub fn conditional(resp: ApiResponse, if_none_match: Option<&str>) -> ApiResponse {
    if resp.status != 200 {
        return resp;
    }
    let tag = etag(&resp.body);
    if if_none_match.is_some_and(|h| none_match(h, &tag)) {
        return ApiResponse::empty(304)
            .with_header("ETag", tag)
            .with_header("Cache-Control", PUBLIC_CACHE_CONTROL);
    }
    resp.with_header("ETag", tag)
        .with_header("Cache-Control", PUBLIC_CACHE_CONTROL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_hashes_of_the_body() {
        let a = etag(b"{}");
        assert_eq!(a.len(), 34);
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert_eq!(a, etag(b"{}"));
        assert_ne!(a, etag(b"{ }"));
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        let t = "\"abc\"";
        assert!(none_match("\"abc\"", t));
        assert!(none_match("W/\"abc\"", t));
        assert!(none_match("\"x\", \"abc\"", t));
        assert!(none_match("*", t));
        assert!(!none_match("\"abd\"", t));
        assert!(!none_match("", t));
    }
}
