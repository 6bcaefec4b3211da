//! Query strings ([`Query`]) and the two paging schemes of the API: offset paging
//! (`page`, `pageSize`; [`OffsetPaging`], [`PageInfo`]) and keyset paging (`limit`,
//! `before`; [`KeysetPaging`]).
//!
//! A parameter that is absent takes its default; a parameter that is present must be
//! valid, so `?page=` (empty) is a validation error, not page 1.

use serde::Serialize;

use crate::error::{ApiError, FieldError};

/// A decoded query string: `+` is a space, `%XX` is decoded (invalid UTF-8 is
/// replaced with U+FFFD), order and repeats are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a
/// path segment or a query value, as the API's clients write them).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Query {
    /// The raw query string (without `?`) that parses back to these pairs.
    pub fn to_raw(&self) -> String {
        self.pairs
            .iter()
            .map(|(n, v)| format!("{}={}", encode_component(n), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Parses a raw query string, with or without its leading `?`.
    pub fn parse(raw: &str) -> Query {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        Query {
            pairs: form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of `name`, trimmed, or `None` when absent or blank
    /// (convenient for optional filters such as `q` or `tag`).
    pub fn get_nonblank(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// All pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Default `pageSize`.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest `pageSize`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Largest `page`. Caps the offset at (2^31 − 2) × 100, far inside `i64` (and inside
/// JavaScript's exact integers, as D1 bindings pass numbers through JS).
pub const MAX_PAGE: u32 = i32::MAX as u32;

/// Offset paging from `?page&pageSize` (1-based `page`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPaging {
    pub page: u32,
    pub page_size: u32,
}

impl Default for OffsetPaging {
    fn default() -> OffsetPaging {
        OffsetPaging {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Parses an optional integer parameter in `min..=max`.
fn int_param(
    query: &Query,
    name: &str,
    default: u32,
    min: u32,
    max: u32,
    errors: &mut Vec<FieldError>,
) -> u32 {
    let Some(raw) = query.get(name) else {
        return default;
    };
    let digits_only = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<u32>() {
        Ok(n) if digits_only && (min..=max).contains(&n) => n,
        _ => {
            errors.push(FieldError::new(
                name,
                format!("Must be an integer between {min} and {max}"),
            ));
            default
        }
    }
}

impl OffsetPaging {
    /// `page` ≥ 1 (default 1, at most [`MAX_PAGE`]), `pageSize` 1–100 (default 20).
    /// Anything else is `VALIDATION_FAILED` naming each bad parameter.
    pub fn from_query(query: &Query) -> Result<OffsetPaging, ApiError> {
        let mut errors = Vec::new();
        let page = int_param(query, "page", 1, 1, MAX_PAGE, &mut errors);
        let page_size = int_param(
            query,
            "pageSize",
            DEFAULT_PAGE_SIZE,
            1,
            MAX_PAGE_SIZE,
            &mut errors,
        );
        if errors.is_empty() {
            Ok(OffsetPaging { page, page_size })
        } else {
            Err(ApiError::validation(errors))
        }
    }

    /// Rows to skip: `(page − 1) × pageSize`.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }

    /// Rows to take: `pageSize`.
    pub fn limit(&self) -> u32 {
        self.page_size
    }
}

/// The `pagination` object of an offset-paged list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub page: u32,
    pub page_size: u32,
    pub total_items: u64,
    pub total_pages: u64,
}

impl PageInfo {
    /// `totalPages` = ⌈totalItems / pageSize⌉ (0 when there are no items).
    pub fn new(paging: &OffsetPaging, total_items: u64) -> PageInfo {
        let size = u64::from(paging.page_size.max(1));
        PageInfo {
            page: paging.page,
            page_size: paging.page_size,
            total_items,
            total_pages: total_items.div_ceil(size),
        }
    }
}

/// Longest accepted `before` cursor, in characters.
pub const MAX_CURSOR_CHARS: usize = 200;

/// Keyset paging from `?limit&before` (`before` is an opaque cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysetPaging {
    pub limit: u32,
    pub before: Option<String>,
}

impl KeysetPaging {
    /// `limit` 1..=`max_limit` (default `default_limit`); `before`, when present,
    /// non-empty and at most 200 characters. Reports both when both are bad.
    pub fn from_query(
        query: &Query,
        default_limit: u32,
        max_limit: u32,
    ) -> Result<KeysetPaging, ApiError> {
        let mut errors = Vec::new();
        let limit = int_param(query, "limit", default_limit, 1, max_limit, &mut errors);
        let before = query.get("before");
        if let Some(b) = before
            && (b.is_empty() || b.chars().count() > MAX_CURSOR_CHARS)
        {
            errors.push(FieldError::new(
                "before",
                format!("Must be a cursor of 1 to {MAX_CURSOR_CHARS} characters"),
            ));
        }
        if errors.is_empty() {
            Ok(KeysetPaging {
                limit,
                before: before.map(str::to_owned),
            })
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn fields(err: &ApiError) -> Vec<(&str, &str)> {
        err.errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect()
    }

    #[test]
    fn query_decodes_percent_and_plus_and_keeps_repeats() {
        let q = Query::parse("?q=hello+world%21&tag=a&tag=b%20c&empty=&flag");
        assert_eq!(q.get("q"), Some("hello world!"));
        assert_eq!(q.get("tag"), Some("a"));
        assert_eq!(q.get_all("tag"), vec!["a", "b c"]);
        assert_eq!(q.get("empty"), Some(""));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("missing"), None);
        assert!(q.get_all("missing").is_empty());
        assert_eq!(q.get_nonblank("empty"), None);
        assert_eq!(q.get_nonblank("q"), Some("hello world!"));
        assert_eq!(q.pairs().len(), 5);
    }

    #[test]
    fn query_without_question_mark_and_empty_query_parse() {
        assert_eq!(Query::parse("a=1").get("a"), Some("1"));
        assert!(Query::parse("").is_empty());
        assert!(Query::parse("?").is_empty());
        assert_eq!(Query::parse("x=%E1%BB%87").get("x"), Some("ệ"));
    }

    #[test]
    fn offset_paging_defaults_to_page_one_of_twenty() {
        let p = OffsetPaging::from_query(&Query::parse("")).unwrap();
        assert_eq!(
            p,
            OffsetPaging {
                page: 1,
                page_size: 20
            }
        );
        assert_eq!(p, OffsetPaging::default());
        assert_eq!((p.offset(), p.limit()), (0, 20));
    }

    #[test]
    fn offset_paging_reads_page_and_page_size() {
        let p = OffsetPaging::from_query(&Query::parse("page=3&pageSize=100")).unwrap();
        assert_eq!(
            p,
            OffsetPaging {
                page: 3,
                page_size: 100
            }
        );
        assert_eq!(p.offset(), 200);
        assert_eq!(p.limit(), 100);
        let p = OffsetPaging::from_query(&Query::parse("pageSize=1")).unwrap();
        assert_eq!(p.page_size, 1);
    }

    #[test]
    fn out_of_range_page_size_is_a_validation_error() {
        for raw in [
            "pageSize=0",
            "pageSize=101",
            "pageSize=-1",
            "pageSize=abc",
            "pageSize=",
            "pageSize=2.5",
        ] {
            let err = OffsetPaging::from_query(&Query::parse(raw)).unwrap_err();
            assert_eq!(err.code, ErrorCode::ValidationFailed, "{raw}");
            assert_eq!(
                fields(&err),
                vec![("pageSize", "Must be an integer between 1 and 100")],
                "{raw}"
            );
        }
    }

    #[test]
    fn bad_page_is_a_validation_error() {
        for raw in [
            "page=0",
            "page=-3",
            "page=x",
            "page=+2",
            "page=99999999999",
            "page=2147483648",
        ] {
            let err = OffsetPaging::from_query(&Query::parse(raw)).unwrap_err();
            assert_eq!(
                fields(&err),
                vec![("page", "Must be an integer between 1 and 2147483647")],
                "{raw}"
            );
        }
    }

    #[test]
    fn both_bad_paging_parameters_are_reported_together() {
        let err = OffsetPaging::from_query(&Query::parse("page=0&pageSize=500")).unwrap_err();
        let f: Vec<&str> = fields(&err).into_iter().map(|(f, _)| f).collect();
        assert_eq!(f, vec!["page", "pageSize"]);
    }

    #[test]
    fn largest_page_offset_fits_i64_and_javascript_numbers() {
        let p = OffsetPaging::from_query(&Query::parse("page=2147483647&pageSize=100")).unwrap();
        assert_eq!(p.offset(), 214_748_364_600);
        assert!(i64::try_from(p.offset()).is_ok());
        assert!(p.offset() < (1u64 << 53));
    }

    #[test]
    fn page_info_rounds_total_pages_up_and_is_zero_for_no_items() {
        let p = OffsetPaging {
            page: 1,
            page_size: 20,
        };
        assert_eq!(PageInfo::new(&p, 57).total_pages, 3);
        assert_eq!(PageInfo::new(&p, 60).total_pages, 3);
        assert_eq!(PageInfo::new(&p, 61).total_pages, 4);
        assert_eq!(PageInfo::new(&p, 1).total_pages, 1);
        assert_eq!(PageInfo::new(&p, 0).total_pages, 0);
        assert_eq!(
            serde_json::to_value(PageInfo::new(
                &OffsetPaging {
                    page: 2,
                    page_size: 10
                },
                15
            ))
            .unwrap(),
            serde_json::json!({"page":2,"pageSize":10,"totalItems":15,"totalPages":2})
        );
    }

    #[test]
    fn keyset_paging_defaults_and_reads_limit_and_before() {
        let k = KeysetPaging::from_query(&Query::parse(""), 50, 100).unwrap();
        assert_eq!(
            k,
            KeysetPaging {
                limit: 50,
                before: None
            }
        );
        let k =
            KeysetPaging::from_query(&Query::parse("limit=100&before=abc%3D"), 50, 100).unwrap();
        assert_eq!(
            k,
            KeysetPaging {
                limit: 100,
                before: Some("abc=".into())
            }
        );
    }

    #[test]
    fn keyset_paging_rejects_bad_limit_and_cursor() {
        let err =
            KeysetPaging::from_query(&Query::parse("limit=101&before="), 50, 100).unwrap_err();
        assert_eq!(
            fields(&err),
            vec![
                ("limit", "Must be an integer between 1 and 100"),
                ("before", "Must be a cursor of 1 to 200 characters"),
            ]
        );
        let long = format!("before={}", "x".repeat(201));
        let err = KeysetPaging::from_query(&Query::parse(&long), 50, 100).unwrap_err();
        assert_eq!(fields(&err)[0].0, "before");
        let ok = format!("before={}", "ệ".repeat(200));
        assert!(KeysetPaging::from_query(&Query::parse(&ok), 50, 100).is_ok());
        let err = KeysetPaging::from_query(&Query::parse("limit=0"), 50, 100).unwrap_err();
        assert_eq!(
            fields(&err),
            vec![("limit", "Must be an integer between 1 and 100")]
        );
    }
}
