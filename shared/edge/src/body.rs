//! The request body policy of each route, enforced at the edge before a body
//! crosses to a domain worker: size (413), media type (415) and, for JSON
//! routes, well-formed JSON (400 `MALFORMED_JSON`). Sealed routes leave the
//! JSON shape to the seal layer, which answers `SEAL_MALFORMED`.
use sealpost_api::body::{check_json_syntax, check_size, media_type, require_json};
use sealpost_api::routes::BodyPolicy;
use sealpost_api::{ApiError, ErrorCode};

const FORM_TYPES: [&str; 3] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// Checks what the headers declare, before the body is read.
pub fn check_declared(
    policy: BodyPolicy,
    content_type: Option<&str>,
    content_length: Option<u64>,
) -> Result<(), ApiError> {
    let limit = policy.max_bytes();
    if let Some(len) = content_length {
        check_size(usize::try_from(len).unwrap_or(usize::MAX), limit)?;
    }
    let has_body = content_length.is_some_and(|l| l > 0);
    match policy {
        BodyPolicy::None => Ok(()),
        BodyPolicy::Json { required, .. } if required || has_body || content_type.is_some() => {
            require_json(content_type)
        }
        BodyPolicy::Json { .. } => Ok(()),
        BodyPolicy::Sealed => require_json(content_type),
        BodyPolicy::FormOrJson { .. } => match media_type(content_type) {
            Some(t) if FORM_TYPES.contains(&t.as_str()) => Ok(()),
            // No type: fine for an empty body (the unsubscribe token in the
            // query); decided on the body when its length is not declared.
            None if content_length.is_none_or(|l| l == 0) => Ok(()),
            _ => Err(form_or_json_expected()),
        },
    }
}

fn form_or_json_expected() -> ApiError {
    ApiError::new(ErrorCode::UnsupportedMediaType).with_message(
        "Expected application/x-www-form-urlencoded, multipart/form-data or application/json",
    )
}

/// Checks the body itself once read.
pub fn check_body(
    policy: BodyPolicy,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), ApiError> {
    check_size(body.len(), policy.max_bytes())?;
    match policy {
        BodyPolicy::Json {
            required: false, ..
        } if body.is_empty() => Ok(()),
        BodyPolicy::Json { .. } => check_json_syntax(body),
        BodyPolicy::FormOrJson { .. }
            if media_type(content_type).as_deref() == Some("application/json") =>
        {
            check_json_syntax(body)
        }
        BodyPolicy::FormOrJson { .. } if content_type.is_none() && !body.is_empty() => {
            Err(form_or_json_expected())
        }
        BodyPolicy::None | BodyPolicy::Sealed | BodyPolicy::FormOrJson { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: BodyPolicy = BodyPolicy::Json {
        max_bytes: 16,
        required: true,
    };
    const OPTIONAL: BodyPolicy = BodyPolicy::Json {
        max_bytes: 16,
        required: false,
    };

    fn code(r: Result<(), ApiError>) -> Option<ErrorCode> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn a_declared_length_over_the_limit_is_413_before_reading() {
        assert_eq!(
            code(check_declared(JSON, Some("application/json"), Some(17))),
            Some(ErrorCode::PayloadTooLarge)
        );
        assert_eq!(
            code(check_declared(JSON, Some("application/json"), Some(16))),
            None
        );
    }

    #[test]
    fn a_json_route_refuses_other_media_types_with_415() {
        assert_eq!(
            code(check_declared(JSON, Some("text/plain"), Some(2))),
            Some(ErrorCode::UnsupportedMediaType)
        );
        assert_eq!(
            code(check_declared(JSON, None, Some(2))),
            Some(ErrorCode::UnsupportedMediaType)
        );
        assert_eq!(
            code(check_declared(
                JSON,
                Some("Application/JSON; charset=utf-8"),
                Some(2)
            )),
            None
        );
    }

    #[test]
    fn an_optional_json_body_may_be_absent_but_not_malformed() {
        assert_eq!(code(check_declared(OPTIONAL, None, None)), None);
        assert_eq!(code(check_body(OPTIONAL, None, b"")), None);
        assert_eq!(
            code(check_body(OPTIONAL, Some("application/json"), b"{")),
            Some(ErrorCode::MalformedJson)
        );
        assert_eq!(
            code(check_body(JSON, Some("application/json"), b"")),
            Some(ErrorCode::MalformedJson)
        );
    }

    #[test]
    fn a_streamed_body_over_the_limit_is_413() {
        assert_eq!(
            code(check_body(JSON, Some("application/json"), &[b' '; 17])),
            Some(ErrorCode::PayloadTooLarge)
        );
    }

    #[test]
    fn routes_without_a_body_refuse_one() {
        assert_eq!(
            code(check_declared(BodyPolicy::None, None, Some(1))),
            Some(ErrorCode::PayloadTooLarge)
        );
        assert_eq!(
            code(check_body(BodyPolicy::None, None, b"x")),
            Some(ErrorCode::PayloadTooLarge)
        );
        assert_eq!(code(check_body(BodyPolicy::None, None, b"")), None);
    }

    #[test]
    fn sealed_routes_leave_the_shape_to_the_seal_layer() {
        assert_eq!(
            code(check_body(
                BodyPolicy::Sealed,
                Some("application/json"),
                b"not json"
            )),
            None
        );
        assert_eq!(
            code(check_declared(
                BodyPolicy::Sealed,
                Some("text/plain"),
                Some(3)
            )),
            Some(ErrorCode::UnsupportedMediaType)
        );
    }

    #[test]
    fn one_click_unsubscribe_accepts_forms_and_json() {
        let p = BodyPolicy::FormOrJson { max_bytes: 64 };
        assert_eq!(
            code(check_declared(
                p,
                Some("application/x-www-form-urlencoded"),
                Some(26)
            )),
            None
        );
        assert_eq!(
            code(check_declared(
                p,
                Some("multipart/form-data; boundary=x"),
                Some(26)
            )),
            None
        );
        assert_eq!(
            code(check_declared(p, Some("text/plain"), Some(26))),
            Some(ErrorCode::UnsupportedMediaType)
        );
        assert_eq!(
            code(check_body(p, Some("application/json"), b"{")),
            Some(ErrorCode::MalformedJson)
        );
    }

    #[test]
    fn one_click_unsubscribe_takes_an_empty_body_without_a_type_and_nothing_else() {
        let p = BodyPolicy::FormOrJson { max_bytes: 64 };
        assert_eq!(code(check_declared(p, None, Some(0))), None);
        assert_eq!(code(check_declared(p, None, None)), None);
        assert_eq!(code(check_body(p, None, b"")), None);
        assert_eq!(
            code(check_declared(p, None, Some(3))),
            Some(ErrorCode::UnsupportedMediaType)
        );
        assert_eq!(
            code(check_body(p, None, b"abc")),
            Some(ErrorCode::UnsupportedMediaType)
        );
    }
}
