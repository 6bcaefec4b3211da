//! Conversions between `worker` HTTP types and the platform-neutral
//! `sealpost-api` types, and the header names workers exchange.
use sealpost_api::{ApiResponse, Method};
use worker::{Headers, Request, Response, ResponseBuilder};

/// Set by the gateway on every forwarded request; clients cannot set it.
pub const HEADER_REQUEST_ID: &str = "x-request-id";
/// The site the gateway resolved from the host; stripped from client requests.
pub const HEADER_SITE: &str = "x-sealpost-site";
/// The catalogue route the gateway resolved (`RouteId::as_str`); set only
/// by the gateway (clients' copies never cross the edge).
pub const HEADER_ROUTE: &str = "x-sealpost-route";
/// The client's IP, set by Cloudflare (locally: whatever the client sends).
pub const HEADER_CLIENT_IP: &str = "cf-connecting-ip";

/// The request method as the catalogue knows it (`None` for methods Sealpost never serves).
pub fn method(req: &Request) -> Option<Method> {
    Method::parse(req.inner().method().as_str())
}

/// One header value, `None` when absent or unreadable.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// All headers as (lower-case name, value) pairs.
pub fn header_pairs(headers: &Headers) -> Vec<(String, String)> {
    headers.entries().collect()
}

/// Builds a `worker::Response` from an `ApiResponse`.
pub fn to_response(api: ApiResponse) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &api.headers {
        headers.append(name, value)?;
    }
    let builder = ResponseBuilder::new()
        .with_status(api.status)
        .with_headers(headers);
    Ok(if api.body.is_empty() {
        builder.empty()
    } else {
        builder.fixed(api.body)
    })
}

/// The raw query string of a request URL, without the `?`.
pub fn raw_query(req: &Request) -> String {
    req.url()
        .ok()
        .and_then(|u| u.query().map(str::to_owned))
        .unwrap_or_default()
}
