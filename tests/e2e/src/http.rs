//! The HTTP client of the e2e suite: a request being built ([`Call`]), sent
//! from a client address of its own unless told otherwise, and the answer
//! ([`Reply`]) with its status, headers and body.
use std::fmt;
use std::io::Cursor;
use std::time::Duration;

use serde_json::Value;

use crate::fresh::unique_ip;

/// Timeout of one HTTP call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The header the gateway takes the client's address from.
pub const CLIENT_IP_HEADER: &str = "CF-Connecting-IP";

/// The agent every call of a stack shares: statuses are never errors,
/// redirects are not followed, and each call has [`CALL_TIMEOUT`].
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(CALL_TIMEOUT))
        .max_redirects(0)
        .build()
        .into()
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics, showing the answer, when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {self}"))
    }

    /// `error.code` of an error envelope, if any.
    pub fn error_code(&self) -> Option<String> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()?
            .pointer("/error/code")?
            .as_str()
            .map(str::to_owned)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        for (n, v) in &self.headers {
            write!(f, "\n  {n}: {v}")?;
        }
        let text = self.text();
        let cut: String = text.chars().take(2000).collect();
        write!(f, "\n  body: {cut}")
    }
}

/// The body of a [`Call`].
#[derive(Debug, Clone)]
enum CallBody {
    None,
    /// Sent with a `Content-Length`.
    Sized(Vec<u8>),
    /// Sent with `Transfer-Encoding: chunked` (no declared length).
    Chunked(Vec<u8>),
}

/// A request being built; [`Call::send`] runs it.
#[derive(Debug, Clone)]
#[must_use = "a call does nothing until sent"]
pub struct Call {
    agent: ureq::Agent,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: CallBody,
}

impl Call {
    /// `method url` from a fresh [`unique_ip`], without a body.
    pub(crate) fn new(agent: ureq::Agent, method: &str, url: String) -> Call {
        Call {
            agent,
            method: method.to_owned(),
            url,
            headers: vec![(CLIENT_IP_HEADER.to_owned(), unique_ip())],
            body: CallBody::None,
        }
    }

    /// Adds a header (`Host`, `Origin`, `Content-Type`, `CF-Connecting-IP`…).
    /// A `CF-Connecting-IP` replaces the call's default unique address.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if name.eq_ignore_ascii_case(CLIENT_IP_HEADER) {
            self.headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(CLIENT_IP_HEADER));
        }
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends as client `ip` (the `CF-Connecting-IP` header).
    pub fn client_ip(self, ip: &str) -> Self {
        self.header(CLIENT_IP_HEADER, ip)
    }

    /// Sends without any `CF-Connecting-IP` (the edge's shared `unknown` client).
    pub fn without_client_ip(mut self) -> Self {
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(CLIENT_IP_HEADER));
        self
    }

    /// Raw body bytes, sent with a `Content-Length`.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = CallBody::Sized(bytes.into());
        self
    }

    /// Raw body bytes, sent chunked (no `Content-Length`).
    pub fn chunked_body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = CallBody::Chunked(bytes.into());
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, value: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(value.to_string())
    }

    /// Sends the request; panics on a transport failure (no HTTP answer).
    pub fn send(self) -> Reply {
        let what = format!("{} {}", self.method, self.url);
        self.try_send()
            .unwrap_or_else(|e| panic!("{what}: no HTTP answer: {e}"))
    }

    /// Sends the request; any HTTP status is an `Ok`.
    pub fn try_send(self) -> Result<Reply, ureq::Error> {
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(self.url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = match self.body {
            CallBody::None => self.agent.run(builder.body(())?),
            CallBody::Sized(bytes) => self.agent.run(builder.body(bytes)?),
            CallBody::Chunked(bytes) => self
                .agent
                .run(builder.body(ureq::SendBody::from_owned_reader(Cursor::new(bytes)))?),
        };
        let mut response = response?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.body_mut().read_to_vec()?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}
