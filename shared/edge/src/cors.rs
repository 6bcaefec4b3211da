//! CORS preflight answers. Only allow-listed origins get CORS headers; any
//! other origin gets a plain answer the browser will refuse to use.
use sealpost_api::{ApiResponse, Method};

use crate::EdgeConfig;

/// Request headers a browser may send cross-origin.
pub const ALLOWED_HEADERS: &str = "Authorization, Content-Type";
/// How long a browser may cache a preflight, in seconds.
pub const MAX_AGE: &str = "600";

fn join(methods: &[Method]) -> String {
    methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The allow-listed origin of a request, if any.
pub fn allowed_origin<'a>(config: &EdgeConfig, origin: Option<&'a str>) -> Option<&'a str> {
    origin.filter(|o| config.origin_allowed(o))
}

/// Answers `OPTIONS` for a path whose routes accept `allow`.
pub fn preflight(
    config: &EdgeConfig,
    origin: Option<&str>,
    requested_method: Option<&str>,
    allow: &[Method],
) -> ApiResponse {
    let mut methods = allow.to_vec();
    methods.push(Method::Options);
    let resp = ApiResponse {
        status: 204,
        headers: vec![("Allow".to_owned(), join(&methods))],
        body: Vec::new(),
    };
    let requested_ok = requested_method
        .and_then(Method::parse)
        .is_some_and(|m| allow.contains(&m));
    match allowed_origin(config, origin) {
        Some(_) if requested_ok => resp
            .with_header("Access-Control-Allow-Methods", join(&methods))
            .with_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            .with_header("Access-Control-Max-Age", MAX_AGE),
        _ => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EdgeConfig {
        EdgeConfig::from_vars(|k| (k == "CORS_ORIGINS").then(|| "https://app.example".into()))
    }

    #[test]
    fn an_allowed_origin_gets_the_methods_of_the_path() {
        let r = preflight(
            &config(),
            Some("https://app.example"),
            Some("POST"),
            &[Method::Post],
        );
        assert_eq!(r.status, 204);
        assert_eq!(
            r.header("Access-Control-Allow-Methods"),
            Some("POST, OPTIONS")
        );
        assert_eq!(
            r.header("Access-Control-Allow-Headers"),
            Some(ALLOWED_HEADERS)
        );
    }

    #[test]
    fn an_unknown_origin_or_method_gets_no_cors_headers() {
        let r = preflight(
            &config(),
            Some("https://evil.example"),
            Some("POST"),
            &[Method::Post],
        );
        assert_eq!(r.header("Access-Control-Allow-Methods"), None);
        let r = preflight(
            &config(),
            Some("https://app.example"),
            Some("DELETE"),
            &[Method::Post],
        );
        assert_eq!(r.header("Access-Control-Allow-Methods"), None);
        assert_eq!(r.header("Allow"), Some("POST, OPTIONS"));
    }
}
