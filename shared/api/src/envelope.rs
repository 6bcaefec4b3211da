//! The error envelope: how an [`ApiError`] is rendered as a response —
//! `{"success":false,"message","error":{"code","requestId"?},"errors"?}`
//! with its status, `Retry-After` and `Allow` — and the rule that an
//! `INTERNAL` answer never carries a custom message or field errors.
use serde::Serialize;

use crate::error::{ApiError, ErrorCode, FieldError};
use crate::response::{ApiResponse, CONTENT_TYPE_JSON, FALLBACK_INTERNAL_BODY};

impl ApiError {
    /// Renders the error envelope with its status and headers.
    pub fn into_response(self) -> ApiResponse {
        let internal = self.code == ErrorCode::Internal;
        let message = if internal {
            ErrorCode::Internal.default_message()
        } else {
            self.message.as_str()
        };
        let errors = if internal {
            None
        } else if !self.errors.is_empty() || self.code == ErrorCode::ValidationFailed {
            Some(self.errors.as_slice())
        } else {
            None
        };
        let body = ErrorBody {
            success: false,
            message,
            error: ErrorInfo {
                code: self.code,
                request_id: self.request_id.as_deref(),
            },
            errors,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| FALLBACK_INTERNAL_BODY.to_vec());
        let mut response = ApiResponse {
            status: self.code.status(),
            headers: vec![("content-type".to_owned(), CONTENT_TYPE_JSON.to_owned())],
            body: bytes,
        };
        if let Some(secs) = self.retry_after_secs {
            response = response.with_header("retry-after", secs.to_string());
        }
        if !self.allow.is_empty() {
            let allow: Vec<&str> = self.allow.iter().map(|m| m.as_str()).collect();
            response = response.with_header("allow", allow.join(", "));
        }
        response
    }
}

impl From<ApiError> for ApiResponse {
    fn from(error: ApiError) -> ApiResponse {
        error.into_response()
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    success: bool,
    message: &'a str,
    error: ErrorInfo<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorInfo<'a> {
    code: ErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::Method;
    use serde_json::{Value, json};

    fn body(r: &ApiResponse) -> Value {
        serde_json::from_slice(&r.body).expect("body is JSON")
    }

    #[test]
    fn plain_error_renders_the_error_envelope() {
        let r = ApiError::not_found().into_response();
        assert_eq!(r.status, 404);
        assert_eq!(
            r.header("Content-Type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(
            body(&r),
            json!({"success":false,"message":"Not found","error":{"code":"NOT_FOUND"}})
        );
        assert_eq!(r.header("retry-after"), None);
        assert_eq!(r.header("allow"), None);
    }

    #[test]
    fn custom_message_replaces_the_default() {
        let r = ApiError::new(ErrorCode::EmailTaken)
            .with_message("That address is taken")
            .into_response();
        assert_eq!(r.status, 409);
        assert_eq!(
            body(&r),
            json!({"success":false,"message":"That address is taken","error":{"code":"EMAIL_TAKEN"}})
        );
    }

    #[test]
    fn validation_error_lists_field_errors() {
        let r = ApiError::validation(vec![
            FieldError::new("email", "Must be a valid email address"),
            FieldError::new("password", "Required"),
        ])
        .into_response();
        assert_eq!(r.status, 400);
        assert_eq!(
            body(&r),
            json!({
                "success": false,
                "message": "Validation failed",
                "error": {"code": "VALIDATION_FAILED"},
                "errors": [
                    {"field": "email", "message": "Must be a valid email address"},
                    {"field": "password", "message": "Required"}
                ]
            })
        );
    }

    #[test]
    fn single_field_constructor_is_a_validation_error() {
        let e = ApiError::field("pageSize", "Too big");
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert_eq!(e.message, "Validation failed");
        assert_eq!(e.errors, vec![FieldError::new("pageSize", "Too big")]);
    }

    #[test]
    fn internal_error_never_carries_a_custom_message_or_field_errors() {
        let mut e =
            ApiError::internal(Some("req-123".into())).with_message("db exploded: SELECT …");
        assert_eq!(e.message, "Internal error");
        // Even if someone pokes the public fields directly, nothing leaks.
        e.message = "stack trace".into();
        e.errors.push(FieldError::new("sql", "secret"));
        let r = e.into_response();
        assert_eq!(r.status, 500);
        assert_eq!(
            body(&r),
            json!({"success":false,"message":"Internal error","error":{"code":"INTERNAL","requestId":"req-123"}})
        );
    }

    #[test]
    fn request_id_goes_inside_error() {
        let r = ApiError::new(ErrorCode::Forbidden)
            .with_request_id("abc")
            .into_response();
        assert_eq!(
            body(&r),
            json!({"success":false,"message":"Forbidden","error":{"code":"FORBIDDEN","requestId":"abc"}})
        );
    }

    #[test]
    fn rate_limited_sets_retry_after() {
        let r = ApiError::rate_limited(42).into_response();
        assert_eq!(r.status, 429);
        assert_eq!(r.header("Retry-After"), Some("42"));
        assert_eq!(
            body(&r),
            json!({"success":false,"message":"Too many requests","error":{"code":"RATE_LIMITED"}})
        );
    }

    #[test]
    fn method_not_allowed_sets_allow_joined_by_comma_space() {
        let r = ApiError::method_not_allowed(vec![Method::Get, Method::Post]).into_response();
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("GET, POST"));
        assert_eq!(body(&r)["error"]["code"], json!("METHOD_NOT_ALLOWED"));
    }

    #[test]
    fn fallback_internal_body_is_the_internal_envelope() {
        let v: Value = serde_json::from_slice(FALLBACK_INTERNAL_BODY).unwrap();
        assert_eq!(v, body(&ApiError::internal(None).into_response()));
    }
}
