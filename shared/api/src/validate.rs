//! Field validation after decoding: a [`Validator`] collects every problem so a
//! client gets all of them in one `VALIDATION_FAILED` answer.

use crate::error::{ApiError, FieldError};

/// Accumulates [`FieldError`]s; [`Validator::finish`] turns them into one error.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Validator {
        Validator::default()
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Records `message` for `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Requires `min_chars..=max_chars` Unicode scalar values; otherwise records
    /// "Must be between X and Y characters".
    pub fn text_len(&mut self, field: &str, value: &str, min_chars: usize, max_chars: usize) {
        let n = value.chars().count();
        if n < min_chars || n > max_chars {
            self.add(
                field,
                format!("Must be between {min_chars} and {max_chars} characters"),
            );
        }
    }

    /// Requires `value` to be one of `allowed` (exact match); otherwise records
    /// "Must be one of: a, b".
    pub fn one_of(&mut self, field: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.add(field, format!("Must be one of: {}", allowed.join(", ")));
        }
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The problems recorded so far.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// `Ok` when nothing was recorded, else `VALIDATION_FAILED` with every problem
    /// in the order recorded.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_validator_with_no_problems_finishes_ok() {
        let mut v = Validator::new();
        v.check(true, "a", "never");
        v.text_len("title", "Hello", 1, 5);
        v.one_of("lang", "vi", &["en", "vi"]);
        assert!(v.is_empty());
        assert!(v.finish().is_ok());
    }

    #[test]
    fn every_problem_is_reported_in_order() {
        let mut v = Validator::new();
        v.check(false, "email", "Must be a valid email address");
        v.text_len("title", "", 1, 200);
        v.one_of("lang", "fr", &["en", "vi"]);
        v.add("tags[3]", "Too long");
        assert!(!v.is_empty());
        assert_eq!(v.errors().len(), 4);
        let err = v.finish().unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(err.message, "Validation failed");
        assert_eq!(
            err.errors,
            vec![
                FieldError::new("email", "Must be a valid email address"),
                FieldError::new("title", "Must be between 1 and 200 characters"),
                FieldError::new("lang", "Must be one of: en, vi"),
                FieldError::new("tags[3]", "Too long"),
            ]
        );
    }

    #[test]
    fn text_len_counts_characters_not_bytes() {
        let mut v = Validator::new();
        v.text_len("name", "Việt", 4, 4); // 4 chars, 6 bytes
        assert!(v.is_empty());
        v.text_len("name", "abcde", 1, 4);
        v.text_len("name", "ab", 3, 4);
        assert_eq!(v.errors().len(), 2);
    }

    #[test]
    fn one_of_is_case_sensitive() {
        let mut v = Validator::new();
        v.one_of("status", "Draft", &["draft", "published"]);
        assert_eq!(
            v.errors(),
            &[FieldError::new(
                "status",
                "Must be one of: draft, published"
            )]
        );
    }
}
