//! Assertions on the answers' envelopes: an error envelope with its status
//! and code, a validation failure naming a field, a mutation envelope with
//! its data — on a plain [`Reply`] or on the inner envelope of a sealed one.
use serde_json::{Value, json};

use crate::http::Reply;

impl Reply {
    /// Asserts the status and the error envelope
    /// `{"success":false,"message":"…","error":{"code":CODE}}`; returns the body.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected status: {self}");
        let body = self.json();
        assert_eq!(body["success"], json!(false), "{self}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error envelope without a message: {self}"
        );
        assert_eq!(body["error"]["code"], json!(code), "{self}");
        body
    }

    /// Asserts a 400 `VALIDATION_FAILED` naming `field` (see
    /// [`assert_validation_body`]); returns the body.
    #[track_caller]
    pub fn assert_validation(&self, field: &str) -> Value {
        let body = self.assert_error(400, "VALIDATION_FAILED");
        assert_validation_body(&body, field);
        body
    }
}

/// Asserts the validation part of an error body: the message
/// `Validation failed`, every entry of `errors[]` with a field and a
/// message, and one of them naming exactly `field`.
#[track_caller]
pub fn assert_validation_body(body: &Value, field: &str) {
    assert_eq!(body["message"], "Validation failed", "{body:#}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors[]: {body:#}"));
    assert!(
        errors
            .iter()
            .all(|e| e["field"].is_string() && e["message"].as_str().is_some_and(|m| !m.is_empty())),
        "every error has a field and a message: {body:#}"
    );
    assert!(
        errors.iter().any(|e| e["field"] == field),
        "no error for field {field:?}: {body:#}"
    );
}

/// Asserts an inner (or plain) error envelope with `status` and `code`.
#[track_caller]
pub fn assert_error(reply: &Reply, inner: &Value, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{inner:#}\n{reply}");
    assert_eq!(inner["success"], json!(false), "{inner:#}");
    assert!(
        inner["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an error without a message: {inner:#}"
    );
    assert_eq!(inner["error"]["code"], json!(code), "{inner:#}");
}

/// Asserts a 400 `VALIDATION_FAILED` naming `field` in `errors[].field`.
#[track_caller]
pub fn assert_validation(reply: &Reply, inner: &Value, field: &str) {
    assert_error(reply, inner, 400, "VALIDATION_FAILED");
    assert_validation_body(inner, field);
}

/// Asserts a mutation envelope `{"success":true,"message":"…","data":…}`
/// with `status`; returns `data`.
#[track_caller]
pub fn assert_mutation(reply: &Reply, inner: &Value, status: u16) -> Value {
    assert_eq!(reply.status, status, "{inner:#}\n{reply}");
    assert_eq!(inner["success"], json!(true), "{inner:#}");
    assert!(
        inner["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a mutation without a message: {inner:#}"
    );
    inner
        .get("data")
        .cloned()
        .unwrap_or_else(|| panic!("a mutation without data: {inner:#}"))
}
