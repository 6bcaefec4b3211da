//! The platform-neutral response ([`ApiResponse`]) and the success envelopes of the
//! public API (query, offset list, keyset list, mutation). Adapters turn it into a
//! platform response; nothing here knows about Workers.

use serde::Serialize;

use crate::query::PageInfo;

/// `content-type` of every JSON response.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";

/// The `INTERNAL` envelope, used only if serializing a body ever fails (it
/// cannot for the types the API sends).
pub(crate) const FALLBACK_INTERNAL_BODY: &[u8] =
    br#"{"success":false,"message":"Internal error","error":{"code":"INTERNAL"}}"#;
/// `content-type` of HTML pages.
pub const CONTENT_TYPE_HTML: &str = "text/html; charset=utf-8";

/// A status, headers (names as given, compared case-insensitively) and a body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Serialize)]
struct QueryEnvelope<'a, T: ?Sized> {
    data: &'a T,
}

#[derive(Serialize)]
struct ListEnvelope<'a, T, P> {
    success: bool,
    data: &'a [T],
    pagination: P,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeysetPagination<'a> {
    limit: u32,
    next_cursor: Option<&'a str>,
}

#[derive(Serialize)]
struct MutationEnvelope<'a, T: ?Sized> {
    success: bool,
    message: &'a str,
    data: &'a T,
}

/// Whether an `If-None-Match` value matches `tag` (RFC 9110 §13.1.2: weak
/// comparison, `*` matches anything, a comma-separated list).
pub fn none_match(header: &str, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let want = bare(tag);
    header
        .split(',')
        .any(|candidate| candidate.trim() == "*" || bare(candidate) == want)
}

impl ApiResponse {
    /// 200 `{"data": …}` — a single resource.
    pub fn query<T: Serialize + ?Sized>(data: &T) -> ApiResponse {
        ApiResponse::json(200, &QueryEnvelope { data })
    }

    /// 200 `{"success":true,"data":[…],"pagination":{"page","pageSize","totalItems","totalPages"}}`.
    pub fn offset_list<T: Serialize>(items: &[T], page: PageInfo) -> ApiResponse {
        ApiResponse::json(
            200,
            &ListEnvelope {
                success: true,
                data: items,
                pagination: page,
            },
        )
    }

    /// 200 `{"success":true,"data":[…],"pagination":{"limit","nextCursor"}}`
    /// (`nextCursor` is `null` on the last page).
    pub fn keyset_list<T: Serialize>(
        items: &[T],
        limit: u32,
        next_cursor: Option<String>,
    ) -> ApiResponse {
        ApiResponse::json(
            200,
            &ListEnvelope {
                success: true,
                data: items,
                pagination: KeysetPagination {
                    limit,
                    next_cursor: next_cursor.as_deref(),
                },
            },
        )
    }

    /// `status` `{"success":true,"message":"…","data":…}` — the result of a change.
    pub fn mutation<T: Serialize + ?Sized>(status: u16, message: &str, data: &T) -> ApiResponse {
        ApiResponse::json(
            status,
            &MutationEnvelope {
                success: true,
                message,
                data,
            },
        )
    }

    /// A raw JSON value with no envelope (e.g. `/health`, which has its own shape).
    pub fn json_value(status: u16, value: &serde_json::Value) -> ApiResponse {
        ApiResponse::json(status, value)
    }

    /// Serializes any value as the JSON body. On the (should-not-happen) failure,
    /// answers the `INTERNAL` error envelope instead of panicking.
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> ApiResponse {
        match serde_json::to_vec(value) {
            Ok(body) => ApiResponse {
                status,
                headers: vec![("content-type".to_owned(), CONTENT_TYPE_JSON.to_owned())],
                body,
            },
            Err(_) => ApiResponse {
                status: 500,
                headers: vec![("content-type".to_owned(), CONTENT_TYPE_JSON.to_owned())],
                body: FALLBACK_INTERNAL_BODY.to_vec(),
            },
        }
    }

    /// An HTML page.
    pub fn html(status: u16, html: String) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("content-type".to_owned(), CONTENT_TYPE_HTML.to_owned())],
            body: html.into_bytes(),
        }
    }

    /// No body and no headers (e.g. 204 for a CORS preflight).
    pub fn empty(status: u16) -> ApiResponse {
        ApiResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// This answer as a cache entry: its body and the headers named in
    /// `kept` (lower case) that it has; the rest is rebuilt on a hit.
    pub fn to_cached(&self, kept: &[&str]) -> sealpost_ports::CachedPage {
        sealpost_ports::CachedPage {
            headers: kept
                .iter()
                .filter_map(|n| self.header(n).map(|v| ((*n).to_owned(), v.to_owned())))
                .collect(),
            body: self.body.clone(),
        }
    }

    /// A cache entry as the 200 it was stored from: its body and the headers
    /// named in `kept` (a cache may hand back more than was stored).
    pub fn from_cached(page: sealpost_ports::CachedPage, kept: &[&str]) -> ApiResponse {
        let mut resp = ApiResponse::empty(200);
        for name in kept {
            if let Some(value) = page.header(name) {
                resp = resp.with_header(*name, value);
            }
        }
        resp.body = page.body;
        resp
    }

    /// Sets a header, replacing any existing header of that name (case-insensitive).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> ApiResponse {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// Adds a header, keeping existing ones of the same name (e.g. `set-cookie`).
    pub fn append_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> ApiResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON (convenient in tests and adapters).
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{OffsetPaging, PageInfo};
    use serde::ser::Error as _;
    use serde_json::{Value, json};

    #[test]
    fn a_cache_entry_keeps_and_restores_only_the_named_headers() {
        let resp = ApiResponse::html(200, "<p>hi</p>".to_owned())
            .with_header("ETag", "\"v1\"")
            .with_header("Set-Cookie", "secret=1");
        let mut copy = resp.to_cached(&["content-type", "etag"]);
        assert_eq!(copy.headers.len(), 2);
        // What a cache adds on its way back is not part of the answer.
        copy.headers
            .push(("cf-cache-status".to_owned(), "HIT".to_owned()));
        let back = ApiResponse::from_cached(copy, &["content-type", "etag"]);
        assert_eq!(back.status, 200);
        assert_eq!(back.header("etag"), Some("\"v1\""));
        assert_eq!(back.header("content-type"), resp.header("content-type"));
        assert_eq!(back.header("cf-cache-status"), None);
        assert_eq!(back.header("set-cookie"), None);
        assert_eq!(back.body, b"<p>hi</p>");
    }

    fn body(r: &ApiResponse) -> Value {
        r.body_json().expect("body is JSON")
    }

    #[test]
    fn query_wraps_data() {
        let r = ApiResponse::query(&json!({"id":"p1","title":"Hi"}));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some(CONTENT_TYPE_JSON));
        assert_eq!(body(&r), json!({"data":{"id":"p1","title":"Hi"}}));
    }

    #[test]
    fn offset_list_carries_page_info() {
        let paging = OffsetPaging {
            page: 1,
            page_size: 20,
        };
        let r = ApiResponse::offset_list(&["a", "b"], PageInfo::new(&paging, 57));
        assert_eq!(r.status, 200);
        assert_eq!(
            body(&r),
            json!({"success":true,"data":["a","b"],"pagination":{"page":1,"pageSize":20,"totalItems":57,"totalPages":3}})
        );
    }

    #[test]
    fn keyset_list_has_limit_and_next_cursor_or_null() {
        let r = ApiResponse::keyset_list(&[1, 2], 50, Some("c42".into()));
        assert_eq!(
            body(&r),
            json!({"success":true,"data":[1,2],"pagination":{"limit":50,"nextCursor":"c42"}})
        );
        let last = ApiResponse::keyset_list::<u8>(&[], 50, None);
        assert_eq!(
            body(&last),
            json!({"success":true,"data":[],"pagination":{"limit":50,"nextCursor":null}})
        );
    }

    #[test]
    fn mutation_has_status_message_and_data() {
        let r = ApiResponse::mutation(201, "Post created", &json!({"id":"p1"}));
        assert_eq!(r.status, 201);
        assert_eq!(r.header("Content-Type"), Some(CONTENT_TYPE_JSON));
        assert_eq!(
            body(&r),
            json!({"success":true,"message":"Post created","data":{"id":"p1"}})
        );
    }

    #[test]
    fn json_value_is_sent_verbatim() {
        let v = json!({"status":"ok","info":{}});
        let r = ApiResponse::json_value(503, &v);
        assert_eq!(r.status, 503);
        assert_eq!(body(&r), v);
    }

    #[test]
    fn html_sets_html_content_type() {
        let r = ApiResponse::html(200, "<p>hi</p>".into());
        assert_eq!(r.header("CONTENT-TYPE"), Some("text/html; charset=utf-8"));
        assert_eq!(r.body, b"<p>hi</p>");
    }

    #[test]
    fn with_header_replaces_and_append_header_keeps() {
        let r = ApiResponse::empty(204)
            .with_header("X-A", "1")
            .with_header("x-a", "2")
            .append_header("Vary", "Origin")
            .append_header("vary", "Accept");
        assert_eq!(r.header("x-A"), Some("2"));
        assert_eq!(
            r.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("x-a"))
                .count(),
            1
        );
        assert_eq!(
            r.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("vary"))
                .count(),
            2
        );
        assert_eq!(r.header("missing"), None);
    }

    struct Unserializable;
    impl Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("boom"))
        }
    }

    #[test]
    fn serialization_failure_becomes_an_internal_error_not_a_panic() {
        let r = ApiResponse::query(&Unserializable);
        assert_eq!(r.status, 500);
        assert_eq!(
            body(&r),
            json!({"success":false,"message":"Internal error","error":{"code":"INTERNAL"}})
        );
    }
}
