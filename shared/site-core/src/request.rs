//! [`PageRequest`]: one request for a page, as the site worker hands it
//! over — method, path and query, the site and request id the gateway
//! established, the client's key, the headers that crossed the edge and the
//! body (only the session endpoints take one). Platform-free.
use sealpost_api::{Method, Query};
use sealpost_ports::SiteId;
use zeroize::Zeroize;

/// A request for a page. Its body is wiped when dropped (a session body
/// carries a refresh token).
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub method: Method,
    pub path: String,
    pub query: Query,
    pub site: SiteId,
    pub request_id: String,
    pub client_ip: String,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl PageRequest {
    /// `method path?query` of `site`, without headers or body.
    pub fn new(method: Method, path_and_query: &str, site: SiteId) -> PageRequest {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        PageRequest {
            method,
            path: path.to_owned(),
            query: Query::parse(query),
            site,
            request_id: "-".to_owned(),
            client_ip: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> PageRequest {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> PageRequest {
        self.body = body.into();
        self
    }

    pub fn with_request_id(mut self, id: impl Into<String>) -> PageRequest {
        self.request_id = id.into();
        self
    }

    pub fn with_client_ip(mut self, ip: impl Into<String>) -> PageRequest {
        self.client_ip = ip.into();
        self
    }
}

impl Drop for PageRequest {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}
