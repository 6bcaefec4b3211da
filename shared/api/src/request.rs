//! [`ApiRequest`]: one request after routing, as every domain core receives
//! it — the catalogue route and its decoded path parameters, the query, the
//! site and request id the gateway established, the client's address key,
//! the headers that crossed the edge and the body. Platform-free: adapters
//! build it from the runtime's request; tests build it with the `with_*`
//! methods.
use sealpost_ports::SiteId;
use zeroize::Zeroize;

use crate::query::Query;
use crate::routes::{Params, RouteId, RouteSpec};

/// A routed request. Its body is wiped when it is dropped (bodies carry
/// passwords, codes and tokens, and a sealed route's plaintext).
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub route: &'static RouteSpec,
    pub params: Params,
    pub query: Query,
    pub site: SiteId,
    /// The gateway's request id (`-` when there is none).
    pub request_id: String,
    /// The client's address key (the limiters' key); may be empty.
    pub client_ip: String,
    /// Header names are lower case.
    headers: Vec<(String, String)>,
    /// The body (for a sealed route, once opened, its plaintext); may be empty.
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// A request for `route` of `site` without parameters, query, headers or
    /// body.
    pub fn new(route: RouteId, site: SiteId) -> ApiRequest {
        ApiRequest {
            route: route.spec(),
            params: Params::new(),
            query: Query::default(),
            site,
            request_id: "-".to_owned(),
            client_ip: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The route's id.
    pub fn id(&self) -> RouteId {
        self.route.id
    }

    /// The decoded path parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name)
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Authorization` header.
    pub fn authorization(&self) -> Option<&str> {
        self.header("authorization")
    }

    /// Every header, as (lower-case name, value).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    pub fn with_param(mut self, name: &'static str, value: impl Into<String>) -> ApiRequest {
        self.params.push(name, value);
        self
    }

    pub fn with_params(mut self, params: Params) -> ApiRequest {
        self.params = params;
        self
    }

    /// Sets the query from its raw text (with or without `?`).
    pub fn with_query(mut self, raw: &str) -> ApiRequest {
        self.query = Query::parse(raw);
        self
    }

    /// Adds a header (its name is kept in lower case).
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> ApiRequest {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn with_bearer(self, token: &str) -> ApiRequest {
        self.with_header("authorization", format!("Bearer {token}"))
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> ApiRequest {
        self.body = body.into();
        self
    }

    pub fn with_request_id(mut self, id: impl Into<String>) -> ApiRequest {
        self.request_id = id.into();
        self
    }

    pub fn with_client_ip(mut self, ip: impl Into<String>) -> ApiRequest {
        self.client_ip = ip.into();
        self
    }
}

impl Drop for ApiRequest {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SiteId {
        SiteId::parse("default").unwrap()
    }

    #[test]
    fn headers_are_found_whatever_their_case() {
        let req = ApiRequest::new(RouteId::AuthMe, site()).with_header("Authorization", "Bearer t");
        assert_eq!(req.authorization(), Some("Bearer t"));
        assert_eq!(req.header("AUTHORIZATION"), Some("Bearer t"));
        assert_eq!(req.headers()[0].0, "authorization");
    }

    #[test]
    fn a_new_request_carries_its_route_and_nothing_else() {
        let req = ApiRequest::new(RouteId::PostGet, site());
        assert_eq!(req.id(), RouteId::PostGet);
        assert_eq!(req.route.pattern, "/posts/{slug}");
        assert!(req.params.is_empty() && req.query.is_empty() && req.body.is_empty());
        assert_eq!(req.authorization(), None);
    }
}
