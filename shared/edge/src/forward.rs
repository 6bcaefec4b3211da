//! Which request headers cross from the edge to a domain worker. An
//! allow-list: anything else (cookies, forged `X-Sealpost-*`, hop-by-hop
//! headers) stays at the edge; the edge adds what it established itself.
use sealpost_api::routes::RouteId;
use sealpost_ports::SiteId;

/// Client headers the domain workers may see.
pub const PASSED: [&str; 13] = [
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "origin",
    "user-agent",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
];

/// Headers for the forwarded request: the passed client headers, then the
/// request id, the site, the client's key and the route the edge resolved
/// (the domain worker does not resolve the path again).
pub fn headers(
    incoming: &[(String, String)],
    request_id: &str,
    site: &SiteId,
    client_key: &str,
    route: RouteId,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = incoming
        .iter()
        .filter(|(name, _)| PASSED.iter().any(|p| name.eq_ignore_ascii_case(p)))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    out.push(("x-request-id".into(), request_id.into()));
    out.push(("x-sealpost-site".into(), site.as_str().into()));
    out.push(("cf-connecting-ip".into(), client_key.into()));
    out.push(("x-sealpost-route".into(), route.as_str().into()));
    out
}

/// Client headers a page request passes to the site worker: what a page
/// is negotiated and revalidated on.
pub const PAGE_PASSED: [&str; 4] = ["accept", "accept-language", "if-none-match", "user-agent"];
/// What a session endpoint also sees: its cookie and the proofs that the
/// call comes from the site's own script.
pub const SESSION_PASSED: [&str; 5] = [
    "cookie",
    "origin",
    "content-type",
    "authorization",
    "x-sealpost-session",
];

/// Headers for a page request forwarded to the site worker (`session`: a
/// session endpoint), then the request id, the site and the client's key.
pub fn page_headers(
    incoming: &[(String, String)],
    request_id: &str,
    site: &SiteId,
    client_key: &str,
    session: bool,
) -> Vec<(String, String)> {
    let passes = |name: &str| {
        PAGE_PASSED.iter().any(|p| name.eq_ignore_ascii_case(p))
            || (session && SESSION_PASSED.iter().any(|p| name.eq_ignore_ascii_case(p)))
    };
    let mut out: Vec<(String, String)> = incoming
        .iter()
        .filter(|(name, _)| passes(name))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    out.push(("x-request-id".into(), request_id.into()));
    out.push(("x-sealpost-site".into(), site.as_str().into()));
    out.push(("cf-connecting-ip".into(), client_key.into()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_internal_headers_and_cookies_never_cross() {
        let incoming = vec![
            ("X-Sealpost-Site".to_owned(), "other".to_owned()),
            ("X-Sealpost-Route".to_owned(), "AdminUsers".to_owned()),
            ("X-Request-Id".to_owned(), "forged".to_owned()),
            ("Cookie".to_owned(), "s=1".to_owned()),
            ("Authorization".to_owned(), "Bearer t".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ];
        let site = SiteId::parse("default").unwrap();
        let out = headers(&incoming, "rid", &site, "203.0.113.9", RouteId::AuthMe);
        let get = |n: &str| {
            out.iter()
                .filter(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("x-sealpost-site"), vec!["default"]);
        assert_eq!(get("x-request-id"), vec!["rid"]);
        assert_eq!(get("x-sealpost-route"), vec!["AuthMe"]);
        assert_eq!(get("cf-connecting-ip"), vec!["203.0.113.9"]);
        assert_eq!(get("authorization"), vec!["Bearer t"]);
        assert!(get("cookie").is_empty());
    }

    #[test]
    fn a_page_never_sees_cookies_or_credentials_but_a_session_endpoint_does() {
        let incoming = vec![
            ("Cookie".to_owned(), "sp_refresh=t".to_owned()),
            ("Authorization".to_owned(), "Bearer a".to_owned()),
            ("Accept-Language".to_owned(), "vi".to_owned()),
            ("X-Sealpost-Site".to_owned(), "forged".to_owned()),
            ("X-Sealpost-Session".to_owned(), "1".to_owned()),
        ];
        let site = SiteId::parse("default").unwrap();
        let names = |h: Vec<(String, String)>| h.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        let page = names(page_headers(&incoming, "rid", &site, "ip", false));
        assert_eq!(
            page,
            [
                "accept-language",
                "x-request-id",
                "x-sealpost-site",
                "cf-connecting-ip"
            ]
        );
        let session = names(page_headers(&incoming, "rid", &site, "ip", true));
        assert!(
            session.contains(&"cookie".to_owned())
                && session.contains(&"x-sealpost-session".to_owned())
        );
        assert_eq!(
            session.iter().filter(|n| *n == "x-sealpost-site").count(),
            1
        );
    }
}
