//! The one error catalogue shared by every service ([`ErrorCode`]), and the API error
//! value ([`ApiError`]) that renders to the public error envelope.
//!
//! Envelope: `{"success":false,"message":"…","error":{"code":"UPPER_SNAKE"}}`, plus
//! `"errors":[{"field","message"}]` for validation failures and `"requestId"` inside
//! `error` when known. An `INTERNAL` error never carries anything but its fixed
//! message, its code and the request id. `ERRORS.md` documents the catalogue; a test
//! keeps the two in step.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::method::Method;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $wire:literal, $status:literal, $message:literal; )+) => {
        /// A stable, machine-readable error code. Serializes as its wire string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )+ ];

            /// The wire string, e.g. `"VALIDATION_FAILED"`.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $wire, )+ }
            }

            /// The HTTP status this code is answered with.
            pub fn status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )+ }
            }

            /// A short, human, English message that reveals no internals.
            pub fn default_message(self) -> &'static str {
                match self { $( ErrorCode::$variant => $message, )+ }
            }

            /// Parses a wire string (exact match); unknown strings are `None`.
            pub fn parse(s: &str) -> Option<ErrorCode> {
                match s { $( $wire => Some(ErrorCode::$variant), )+ _ => None }
            }
        }
    };
}

error_codes! {
    /// A request field failed validation; `errors` lists which.
    ValidationFailed => "VALIDATION_FAILED", 400, "Validation failed";
    /// The request body is not well-formed JSON.
    MalformedJson => "MALFORMED_JSON", 400, "Request body is not valid JSON";
    /// The request `Content-Type` is not accepted by the route.
    UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported content type";
    /// The request body exceeds the route's limit.
    PayloadTooLarge => "PAYLOAD_TOO_LARGE", 413, "Request body is too large";
    /// No such path (or resource).
    NotFound => "NOT_FOUND", 404, "Not found";
    /// The path exists but not for this method; `Allow` lists the methods.
    MethodNotAllowed => "METHOD_NOT_ALLOWED", 405, "Method not allowed";
    /// Too many requests; `Retry-After` says when to retry.
    RateLimited => "RATE_LIMITED", 429, "Too many requests";
    /// A WebSocket route was requested without a WebSocket upgrade.
    UpgradeRequired => "UPGRADE_REQUIRED", 426, "This route needs a WebSocket upgrade";
    /// An unexpected failure; details are logged, never returned.
    Internal => "INTERNAL", 500, "Internal error";
    /// The route exists but is not implemented yet.
    NotImplemented => "NOT_IMPLEMENTED", 501, "Not implemented";
    /// A downstream worker or third-party service failed.
    UpstreamUnavailable => "UPSTREAM_UNAVAILABLE", 502, "Upstream service unavailable";
    /// The service is temporarily unable to answer.
    ServiceUnavailable => "SERVICE_UNAVAILABLE", 503, "Service unavailable";
    /// No (usable) bearer token was presented.
    Unauthorized => "AUTH_REQUIRED", 401, "Authentication required";
    /// Authenticated, but lacking the role or second factor the route needs.
    Forbidden => "FORBIDDEN", 403, "Forbidden";
    /// Unknown email or wrong password (deliberately indistinguishable).
    AuthInvalidCredentials => "AUTH_INVALID_CREDENTIALS", 401, "Invalid email or password";
    /// Too many failed attempts; the account is temporarily locked.
    AuthLocked => "AUTH_LOCKED", 423, "Account temporarily locked";
    /// Wrong or expired one-time code, or unusable MFA token.
    AuthMfaInvalid => "AUTH_MFA_INVALID", 401, "Invalid verification code";
    /// The access token is malformed, badly signed or expired.
    AuthTokenInvalid => "AUTH_TOKEN_INVALID", 401, "Invalid or expired token";
    /// The token's session has been revoked.
    AuthTokenRevoked => "AUTH_TOKEN_REVOKED", 401, "Token has been revoked";
    /// A rotated refresh token was presented again; the session is ended.
    AuthRefreshReused => "AUTH_REFRESH_REUSED", 401, "Refresh token was already used; session ended";
    /// The immediately previous refresh token, again within 10 s of its rotation
    /// (parallel tabs, a retry): not theft, nothing revoked; use the newest token.
    AuthRefreshSuperseded => "AUTH_REFRESH_SUPERSEDED", 409, "This refresh token was just rotated; use the newest one";
    /// Enrolling a second factor from a session whose login is not recent
    /// without confirming the current password.
    ReauthRequired => "REAUTH_REQUIRED", 403, "Confirm your current password to continue";
    /// Signup with an email that already has an account.
    EmailTaken => "EMAIL_TAKEN", 409, "Email is already registered";
    /// Optimistic concurrency: the given `version` is stale.
    UpdateConflict => "UPDATE_CONFLICT", 409, "The resource was changed by someone else; reload and retry";
    /// The request conflicts with the current state (e.g. a taken slug).
    Conflict => "CONFLICT", 409, "Conflict";
    /// The sealed envelope is not of the expected shape or sizes.
    SealMalformed => "SEAL_MALFORMED", 400, "Malformed sealed request";
    /// The sealed envelope's `v` is not 1.
    SealUnsupportedVersion => "SEAL_UNSUPPORTED_VERSION", 400, "Unsupported seal version";
    /// The sealed envelope's `kid` is not a live key.
    SealUnknownKey => "SEAL_UNKNOWN_KEY", 400, "Unknown seal key";
    /// The sealed envelope could not be opened.
    SealInvalid => "SEAL_INVALID", 400, "Sealed request could not be opened";
    /// The sealed envelope's timestamp is outside the allowed window.
    SealStale => "SEAL_STALE", 400, "Sealed request is too old or too far in the future";
    /// The sealed envelope's nonce was already used.
    SealReplay => "SEAL_REPLAY", 409, "Sealed request was already used";
    /// A sealed route received an unsealed body.
    SealRequired => "SEAL_REQUIRED", 400, "This route requires a sealed request";
    /// The Turnstile token did not verify.
    TurnstileFailed => "TURNSTILE_FAILED", 400, "Bot check failed";
    /// A confirmation or unsubscribe token is malformed, forged or expired.
    TokenInvalid => "TOKEN_INVALID", 400, "Invalid or expired link";
    /// The requested site does not exist.
    SiteNotFound => "SITE_NOT_FOUND", 404, "Site not found";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One field-level validation problem. `field` is a dotted camelCase path
/// (`"translations.en.title"`, array indices as `"tags[2]"`); `""` is the body itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An API failure, rendered by [`ApiError::into_response`] as the error envelope.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Field errors (only rendered for non-`INTERNAL` codes; always rendered,
    /// possibly empty, for `VALIDATION_FAILED`).
    pub errors: Vec<FieldError>,
    /// Rendered as a `Retry-After` header.
    pub retry_after_secs: Option<u32>,
    /// Rendered as an `Allow` header (for 405).
    pub allow: Vec<Method>,
    /// Rendered as `error.requestId`.
    pub request_id: Option<String>,
}

impl ApiError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> ApiError {
        ApiError {
            code,
            message: code.default_message().to_owned(),
            errors: Vec::new(),
            retry_after_secs: None,
            allow: Vec::new(),
            request_id: None,
        }
    }

    /// Replaces the message. Ignored for `INTERNAL`, whose message is fixed.
    pub fn with_message(mut self, message: impl Into<String>) -> ApiError {
        if self.code != ErrorCode::Internal {
            self.message = message.into();
        }
        self
    }

    /// `VALIDATION_FAILED` with the message "Validation failed" and these field errors.
    pub fn validation(errors: Vec<FieldError>) -> ApiError {
        ApiError {
            errors,
            ..ApiError::new(ErrorCode::ValidationFailed)
        }
    }

    /// `VALIDATION_FAILED` for a single field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::validation(vec![FieldError::new(field, message)])
    }

    /// `INTERNAL` ("Internal error"), optionally with the request id for support.
    pub fn internal(request_id: Option<String>) -> ApiError {
        ApiError {
            request_id,
            ..ApiError::new(ErrorCode::Internal)
        }
    }

    /// `METHOD_NOT_ALLOWED` with the methods that the path does accept.
    pub fn method_not_allowed(allow: Vec<Method>) -> ApiError {
        ApiError {
            allow,
            ..ApiError::new(ErrorCode::MethodNotAllowed)
        }
    }

    /// `RATE_LIMITED` with a `Retry-After` of `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u32) -> ApiError {
        ApiError::new(ErrorCode::RateLimited).with_retry_after(retry_after_secs)
    }

    /// `NOT_FOUND` with the default message.
    pub fn not_found() -> ApiError {
        ApiError::new(ErrorCode::NotFound)
    }

    /// Sets the `Retry-After` seconds (any code, e.g. `AUTH_LOCKED`).
    pub fn with_retry_after(mut self, secs: u32) -> ApiError {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Sets the request id rendered as `error.requestId`.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> ApiError {
        self.request_id = Some(request_id.into());
        self
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        self.code.status()
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> ApiError {
        ApiError::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashSet;

    #[test]
    fn every_code_round_trips_through_its_wire_string() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
        assert_eq!(ErrorCode::parse("validation_failed"), None);
        assert_eq!(ErrorCode::parse("UNAUTHORIZED"), None);
    }

    #[test]
    fn wire_strings_are_unique_upper_snake_and_statuses_are_errors() {
        let mut seen = HashSet::new();
        for &code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate wire code {s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()),
                "{s} is not UPPER_SNAKE"
            );
            assert!((400..600).contains(&code.status()), "{s}");
            let msg = code.default_message();
            assert!(!msg.is_empty() && msg.len() < 80, "{s}: {msg}");
        }
    }

    #[test]
    fn contract_codes_have_their_contract_statuses() {
        let expected = [
            ("VALIDATION_FAILED", 400),
            ("MALFORMED_JSON", 400),
            ("UNSUPPORTED_MEDIA_TYPE", 415),
            ("PAYLOAD_TOO_LARGE", 413),
            ("NOT_FOUND", 404),
            ("METHOD_NOT_ALLOWED", 405),
            ("RATE_LIMITED", 429),
            ("INTERNAL", 500),
            ("AUTH_REQUIRED", 401),
            ("AUTH_INVALID_CREDENTIALS", 401),
            ("AUTH_LOCKED", 423),
            ("AUTH_MFA_INVALID", 401),
            ("AUTH_TOKEN_INVALID", 401),
            ("AUTH_TOKEN_REVOKED", 401),
            ("AUTH_REFRESH_REUSED", 401),
            ("AUTH_REFRESH_SUPERSEDED", 409),
            ("FORBIDDEN", 403),
            ("EMAIL_TAKEN", 409),
            ("UPDATE_CONFLICT", 409),
            ("UPGRADE_REQUIRED", 426),
            ("SEAL_MALFORMED", 400),
            ("SEAL_UNSUPPORTED_VERSION", 400),
            ("SEAL_UNKNOWN_KEY", 400),
            ("SEAL_INVALID", 400),
            ("SEAL_STALE", 400),
            ("SEAL_REPLAY", 409),
            ("SEAL_REQUIRED", 400),
        ];
        for (wire, status) in expected {
            let code = ErrorCode::parse(wire).unwrap_or_else(|| panic!("{wire} missing"));
            assert_eq!(code.status(), status, "{wire}");
        }
        assert_eq!(ErrorCode::ALL.len(), 35);
    }

    #[test]
    fn display_names_code_and_message() {
        let e = ApiError::new(ErrorCode::AuthLocked);
        assert_eq!(e.to_string(), "AUTH_LOCKED: Account temporarily locked");
        let as_std: &dyn std::error::Error = &e;
        assert!(as_std.source().is_none());
    }

    #[test]
    fn errors_md_documents_every_code_with_its_status() {
        let doc = include_str!("../ERRORS.md");
        let mut documented = Vec::new();
        for line in doc.lines() {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            if cells.len() < 4 {
                continue;
            }
            let code = cells[0].trim_matches('`');
            if let Some(parsed) = ErrorCode::parse(code) {
                documented.push((parsed, cells[1].to_owned()));
            } else if code.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !code.is_empty() {
                panic!("ERRORS.md documents unknown code {code}");
            }
        }
        for &code in ErrorCode::ALL {
            let rows: Vec<&(ErrorCode, String)> =
                documented.iter().filter(|(c, _)| *c == code).collect();
            assert_eq!(
                rows.len(),
                1,
                "{code} must appear exactly once in ERRORS.md"
            );
            assert_eq!(
                rows[0].1,
                code.status().to_string(),
                "{code} status in ERRORS.md"
            );
        }
    }
}
