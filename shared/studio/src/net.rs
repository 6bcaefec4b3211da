//! One HTTP exchange with the site's own origin through the browser's
//! `fetch`, and reading the API's envelope into the API's own types. The
//! console calls nothing but its own origin (its CSP allows nothing else).
use sealpost_api::PageInfo;
use sealpost_api::error::FieldError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

use crate::problem::Problem;

/// What came back: the status, the server's `Date` (for a stale seal) and
/// the body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub date: Option<String>,
    pub body: Vec<u8>,
}

/// `method path` with `headers` and a JSON `body`, same-origin credentials.
pub async fn send(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Reply, Problem> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(body) = body {
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(|_| Problem::Network)?;
    let h = request.headers();
    h.set("Accept", "application/json")
        .map_err(|_| Problem::Network)?;
    if body.is_some() {
        h.set("Content-Type", "application/json")
            .map_err(|_| Problem::Network)?;
    }
    for (name, value) in headers {
        h.set(name, value).map_err(|_| Problem::Network)?;
    }
    let window = web_sys::window().ok_or(Problem::Network)?;
    let answer = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| Problem::Network)?;
    let response: Response = answer.dyn_into().map_err(|_| Problem::Network)?;
    let date = response.headers().get("date").ok().flatten();
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| Problem::Network)?)
        .await
        .map_err(|_| Problem::Network)?;
    Ok(Reply {
        status: response.status(),
        date,
        body: js_sys::Uint8Array::new(&buffer).to_vec(),
    })
}

/// A success envelope: `data`, and `pagination` on lists.
#[derive(Debug, Deserialize)]
struct Success<T> {
    data: T,
    #[serde(default)]
    pagination: Option<PageInfo>,
}

/// The error envelope (`sealpost_api::envelope` writes it).
#[derive(Debug, Deserialize)]
struct Refusal {
    #[serde(default)]
    message: String,
    error: Code,
    #[serde(default)]
    errors: Vec<FieldError>,
}

#[derive(Debug, Deserialize)]
struct Code {
    code: String,
}

/// A list's items and where they sit among all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: T,
    pub page: Option<PageInfo>,
}

/// The `data` of a 2xx answer as `T`, or the API's refusal.
pub fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<Listed<T>, Problem> {
    if (200..300).contains(&status) {
        let ok: Success<T> = serde_json::from_slice(body)
            .map_err(|e| Problem::Unexpected(format!("HTTP {status}: {e}")))?;
        return Ok(Listed {
            items: ok.data,
            page: ok.pagination,
        });
    }
    match serde_json::from_slice::<Refusal>(body) {
        Ok(r) => Err(Problem::Api {
            status,
            code: r.error.code,
            message: r.message,
            errors: r.errors,
        }),
        Err(_) => Err(Problem::Unexpected(format!(
            "HTTP {status} without the error envelope"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_api::ApiError;

    #[test]
    fn a_refusal_the_api_writes_reads_back_with_its_code_and_fields() {
        let sent = ApiError::field("code", "Must be six digits").into_response();
        let problem = decode::<serde_json::Value>(sent.status, &sent.body).unwrap_err();
        assert_eq!(problem.code(), Some("VALIDATION_FAILED"));
        assert_eq!(problem.field("code"), Some("Must be six digits"));
    }

    #[test]
    fn a_list_keeps_its_pagination() {
        let body = br#"{"success":true,"data":[1,2],"pagination":{"page":2,"pageSize":2,"totalItems":5,"totalPages":3}}"#;
        let listed = decode::<Vec<u8>>(200, body).unwrap();
        assert_eq!(listed.items, vec![1, 2]);
        assert_eq!(listed.page.map(|p| p.total_pages), Some(3));
    }

    #[test]
    fn a_success_whose_data_is_not_the_type_is_unexpected() {
        let err = decode::<Vec<u8>>(200, br#"{"success":true,"data":{"x":1}}"#).unwrap_err();
        assert!(matches!(err, Problem::Unexpected(_)));
    }
}
