//! Request body rules: size limits (413), media types (415), JSON well-formedness
//! (400 `MALFORMED_JSON`), typed JSON decoding with field-path validation errors
//! (400 `VALIDATION_FAILED`), and form decoding. The edge applies them per
//! route (`sealpost_edge::body`, the one body-policy checker).
//!
//! Field paths in validation errors are the JSON path as sent (camelCase keys), dotted,
//! with array indices in brackets: `translations.en.title`, `tags[2]`,
//! `items[0].name`. An error about the body as a whole (e.g. an array sent where an
//! object is expected) has the field `""`.

use crate::error::{ApiError, ErrorCode};

mod json;

pub use json::{check_json_syntax, parse_json, parse_json_any};

/// The only JSON media type accepted.
pub const JSON_MEDIA_TYPE: &str = "application/json";
/// The form media type (RFC 8058 one-click unsubscribe).
pub const FORM_MEDIA_TYPE: &str = "application/x-www-form-urlencoded";

/// 413 `PAYLOAD_TOO_LARGE` when `len` exceeds `limit` bytes.
pub fn check_size(len: usize, limit: usize) -> Result<(), ApiError> {
    if len > limit {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge)
            .with_message(format!("Request body exceeds the limit of {limit} bytes")));
    }
    Ok(())
}

/// The lower-cased media type essence (`type/subtype`) of a `Content-Type` value,
/// without parameters; `None` when absent or not of the form `type/subtype`.
pub fn media_type(content_type: Option<&str>) -> Option<String> {
    let raw = content_type?;
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim_matches([' ', '\t']);
    let (ty, sub) = essence.split_once('/')?;
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if is_token(ty) && is_token(sub) {
        Some(essence.to_ascii_lowercase())
    } else {
        None
    }
}

/// Accepts `application/json` (any case, any parameters); anything else, or no
/// header at all, is 415 `UNSUPPORTED_MEDIA_TYPE`.
pub fn require_json(content_type: Option<&str>) -> Result<(), ApiError> {
    if media_type(content_type).as_deref() == Some(JSON_MEDIA_TYPE) {
        Ok(())
    } else {
        Err(unsupported(&format!(
            "Content-Type must be {JSON_MEDIA_TYPE}"
        )))
    }
}

fn unsupported(message: &str) -> ApiError {
    ApiError::new(ErrorCode::UnsupportedMediaType).with_message(message)
}

/// Decodes an `application/x-www-form-urlencoded` body (`+` is a space,
/// invalid UTF-8 is replaced).
pub fn parse_form(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_size_allows_the_limit_and_rejects_one_more() {
        assert!(check_size(1024, 1024).is_ok());
        let err = check_size(1025, 1024).unwrap_err();
        assert_eq!(err.code, ErrorCode::PayloadTooLarge);
        assert_eq!(err.status(), 413);
        assert_eq!(err.message, "Request body exceeds the limit of 1024 bytes");
    }

    #[test]
    fn media_type_is_the_lower_cased_essence() {
        assert_eq!(
            media_type(Some("Application/JSON; charset=UTF-8")).as_deref(),
            Some("application/json")
        );
        assert_eq!(
            media_type(Some("  text/html ")).as_deref(),
            Some("text/html")
        );
        assert_eq!(
            media_type(Some("application/json;")).as_deref(),
            Some("application/json")
        );
        assert_eq!(media_type(None), None);
        assert_eq!(media_type(Some("")), None);
        assert_eq!(media_type(Some("json")), None);
        assert_eq!(media_type(Some("application/")), None);
        assert_eq!(media_type(Some("application/json x")), None);
    }

    #[test]
    fn require_json_accepts_only_application_json() {
        for ok in [
            "application/json",
            "APPLICATION/Json",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            " application/json ; charset=utf-8",
        ] {
            assert!(require_json(Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/jsonp"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/merge-patch+json"),
        ] {
            let err = require_json(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedMediaType, "{bad:?}");
            assert_eq!(err.status(), 415);
            assert_eq!(err.message, "Content-Type must be application/json");
        }
    }

    #[test]
    fn parse_form_decodes_plus_and_percent() {
        assert_eq!(
            parse_form(b"List-Unsubscribe=One-Click&a=b+c%21&a=%E2%9C%93"),
            vec![
                ("List-Unsubscribe".to_owned(), "One-Click".to_owned()),
                ("a".to_owned(), "b c!".to_owned()),
                ("a".to_owned(), "\u{2713}".to_owned()),
            ]
        );
        assert!(parse_form(b"").is_empty());
    }
}
