//! Headers the edge puts on every response: the request id, the security
//! headers, and CORS for allow-listed origins.

/// CSP for JSON API responses.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// HSTS: two years, subdomains included.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";
/// Response headers a browser on an allowed origin may read (`Date` lets a
/// sealed client resync its clock after `SEAL_STALE`).
pub const EXPOSED: &str = "X-Request-Id, Retry-After, Date, ETag, X-Sealpost-Cache";

fn set(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.to_owned()));
}

fn set_default(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
        headers.push((name.to_owned(), value.to_owned()));
    }
}

/// Adds `Origin` to `Vary`, keeping what the answer already varies on (a
/// page varies on `Accept-Language`).
fn vary_origin(headers: &mut Vec<(String, String)>) {
    let mut names: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("vary"))
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|p| p.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case("origin"))
        .collect();
    names.push("Origin".to_owned());
    set(headers, "Vary", &names.join(", "));
}

/// Drops CORS headers a domain worker set: CORS is the edge's alone.
pub fn strip_cors(headers: &mut Vec<(String, String)>) {
    headers.retain(|(n, _)| !n.to_ascii_lowercase().starts_with("access-control-"));
}

/// Completes a response's headers. `cors_origin` is the request's `Origin`
/// when it is allow-listed. A domain worker may set its own
/// `Content-Security-Policy` (HTML pages do); everything else is the edge's.
pub fn finish(headers: &mut Vec<(String, String)>, request_id: &str, cors_origin: Option<&str>) {
    set(headers, "X-Request-Id", request_id);
    set(headers, "Strict-Transport-Security", HSTS);
    set(headers, "X-Content-Type-Options", "nosniff");
    set(headers, "Referrer-Policy", "no-referrer");
    set(headers, "X-Frame-Options", "DENY");
    set_default(headers, "Content-Security-Policy", API_CSP);
    vary_origin(headers);
    if let Some(origin) = cors_origin {
        set(headers, "Access-Control-Allow-Origin", origin);
        set(headers, "Access-Control-Expose-Headers", EXPOSED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
        h.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn every_response_gets_the_request_id_and_security_headers() {
        let mut h = vec![("x-request-id".to_owned(), "forged".to_owned())];
        finish(&mut h, "abc123", None);
        assert_eq!(get(&h, "X-Request-Id"), Some("abc123"));
        assert_eq!(
            h.iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("x-request-id"))
                .count(),
            1
        );
        assert_eq!(get(&h, "X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(get(&h, "Referrer-Policy"), Some("no-referrer"));
        assert_eq!(get(&h, "Content-Security-Policy"), Some(API_CSP));
        assert_eq!(get(&h, "Strict-Transport-Security"), Some(HSTS));
        assert_eq!(get(&h, "Access-Control-Allow-Origin"), None);
    }

    #[test]
    fn a_page_keeps_its_own_csp_and_allowed_origins_get_cors() {
        let mut h = vec![
            (
                "content-security-policy".to_owned(),
                "default-src 'none'; form-action 'self'".to_owned(),
            ),
            ("access-control-allow-origin".to_owned(), "*".to_owned()),
        ];
        finish(&mut h, "id", Some("https://app.example"));
        assert_eq!(
            get(&h, "Content-Security-Policy"),
            Some("default-src 'none'; form-action 'self'")
        );
        assert_eq!(
            get(&h, "Access-Control-Allow-Origin"),
            Some("https://app.example")
        );
        assert_eq!(get(&h, "Vary"), Some("Origin"));
        assert_eq!(
            h.iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("access-control-allow-origin"))
                .count(),
            1
        );
    }

    #[test]
    fn a_preflight_keeps_the_cors_headers_the_edge_set() {
        let mut h = vec![(
            "Access-Control-Allow-Methods".to_owned(),
            "POST, OPTIONS".to_owned(),
        )];
        finish(&mut h, "id", Some("https://app.example"));
        assert_eq!(
            get(&h, "Access-Control-Allow-Methods"),
            Some("POST, OPTIONS")
        );
    }

    #[test]
    fn vary_keeps_what_the_answer_varies_on_and_adds_origin_once() {
        let mut h = vec![("vary".to_owned(), "Accept-Language, Origin".to_owned())];
        finish(&mut h, "id", None);
        assert_eq!(get(&h, "Vary"), Some("Accept-Language, Origin"));
    }
}
