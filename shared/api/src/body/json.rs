//! JSON request bodies: well-formedness (400 `MALFORMED_JSON`) and typed
//! decoding whose failures name the field by its path (400
//! `VALIDATION_FAILED`, paths as described in [`super`]), in words without
//! Rust type names and without echoing the body.

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;
use serde_path_to_error::{Path, Segment};

use crate::error::{ApiError, ErrorCode, FieldError};

fn is_json_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| is_json_whitespace(*b))
}

fn empty_body() -> ApiError {
    ApiError::new(ErrorCode::MalformedJson).with_message("Request body is empty; expected JSON")
}

fn malformed(err: &serde_json::Error) -> ApiError {
    let message = match err.classify() {
        Category::Eof => "Request body is not valid JSON (unexpected end of input)".to_owned(),
        _ if err.line() > 0 => format!(
            "Request body is not valid JSON (line {}, column {})",
            err.line(),
            err.column()
        ),
        _ => ErrorCode::MalformedJson.default_message().to_owned(),
    };
    ApiError::new(ErrorCode::MalformedJson).with_message(message)
}

/// 400 `MALFORMED_JSON` unless `bytes` is exactly one well-formed JSON value
/// (surrounding whitespace allowed). An empty body is malformed.
pub fn check_json_syntax(bytes: &[u8]) -> Result<(), ApiError> {
    if is_blank(bytes) {
        return Err(empty_body());
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde::Deserialize::deserialize(&mut de)
        .map(|_: IgnoredAny| ())
        .and_then(|()| de.end())
        .map_err(|e| malformed(&e))
}

/// Decodes a JSON request body into `T`. Request bodies of this API are always JSON
/// objects, so anything else at the top level is rejected (use [`parse_json_any`]
/// for other shapes).
///
/// - empty body, syntax error, truncated input, trailing data → 400 `MALFORMED_JSON`
///   (the message may give line and column; it never echoes the body). Syntax wins:
///   a body that is both malformed and of the wrong shape is `MALFORMED_JSON`;
/// - well-formed but not an object → 400 `VALIDATION_FAILED`, field `""`,
///   message `"Expected an object"`;
/// - wrong shape inside → 400 `VALIDATION_FAILED` with one [`FieldError`] whose `field`
///   is the path (see [`crate::body`]) and whose message is one of `"Unknown field"`
///   (the path names the unknown field itself), `"Required"` (the path names the
///   missing field), `"Duplicate field"`, `"Expected a string"` / `"Expected an
///   object"` / …, `"Must be one of: a, b"` for an unknown enum value, or the text of
///   a custom `serde::de::Error::custom` raised by the target type.
///
/// Known leniency (serde's): a nested struct also accepts a JSON array of its
/// fields in declaration order.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !is_json_whitespace(**b)) {
        None => Err(empty_body()),
        Some(b'{') => parse_json_any(bytes),
        Some(_) => {
            check_json_syntax(bytes)?;
            Err(ApiError::field("", "Expected an object"))
        }
    }
}

/// Like [`parse_json`], without requiring an object at the top level.
pub fn parse_json_any<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if is_blank(bytes) {
        return Err(empty_body());
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => value,
        Err(err) => {
            let path = format_path(err.path());
            // Only on this failure path: a syntax error anywhere in the body wins, and
            // a "syntax" error on a well-formed body (serde_json reports e.g. a number
            // where an enum is expected that way) is a shape error.
            check_json_syntax(bytes)?;
            return Err(classify(path, &err.into_inner()));
        }
    };
    de.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

fn format_path(path: &Path) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => {}
        }
    }
    out
}

fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

fn join_path(parent: &str, key: &str) -> String {
    let mut out = parent.to_owned();
    push_key(&mut out, key);
    out
}

fn ends_with_key(path: &str, key: &str) -> bool {
    path == key || path.ends_with(&format!(".{key}"))
}

/// Text between the first pair of backticks.
fn first_quoted(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(&s[start..start + len])
}

/// Maps a decoding error on a well-formed body to a validation error.
fn classify(path: String, err: &serde_json::Error) -> ApiError {
    if err.classify() != Category::Data {
        return ApiError::field(path, "Invalid value");
    }
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let raw = full.strip_suffix(&suffix).unwrap_or(&full);

    let (field, message) = if raw.starts_with("unknown field `") {
        // serde_path_to_error already appended the offending key to the path.
        (path, "Unknown field".to_owned())
    } else if let Some(rest) = raw.strip_prefix("missing field ") {
        let name = first_quoted(rest).unwrap_or("");
        (join_path(&path, name), "Required".to_owned())
    } else if let Some(rest) = raw.strip_prefix("duplicate field ") {
        let name = first_quoted(rest).unwrap_or("");
        let field = if ends_with_key(&path, name) {
            path
        } else {
            join_path(&path, name)
        };
        (field, "Duplicate field".to_owned())
    } else if raw.starts_with("unknown variant `") {
        // The variant (user input) comes first; the allowed list (ours) comes after
        // the last ", expected ".
        let message = match raw.rfind(", expected ") {
            Some(at) => {
                let allowed: Vec<&str> = raw[at..].split('`').skip(1).step_by(2).collect();
                if allowed.is_empty() {
                    "Invalid value".to_owned()
                } else {
                    format!("Must be one of: {}", allowed.join(", "))
                }
            }
            None => "Invalid value".to_owned(),
        };
        (path, message)
    } else if raw.starts_with("invalid type: ")
        || raw.starts_with("invalid value: ")
        || raw.starts_with("invalid length ")
    {
        let message = match raw.rfind(", expected ") {
            Some(at) => format!("Expected {}", humanize_expected(&raw[at + 11..])),
            None => "Invalid value".to_owned(),
        };
        (path, message)
    } else if raw.starts_with("data did not match any variant") {
        (path, "Invalid value".to_owned())
    } else {
        // A custom message raised by the target type's own validation.
        (path, raw.to_owned())
    };
    ApiError::validation(vec![FieldError::new(field, message)])
}

/// Turns serde's "expected …" text into user language without Rust type names.
fn humanize_expected(expected: &str) -> String {
    let e = expected.trim();
    let text = match e {
        "a string" | "a borrowed string" | "string" => "a string",
        "a boolean" | "bool" => "a boolean",
        "a character" | "char" => "a single character",
        "u8" => "an integer between 0 and 255",
        "u16" => "an integer between 0 and 65535",
        "u32" => "an integer between 0 and 4294967295",
        "u64" | "u128" | "usize" => "a non-negative integer",
        "i8" => "an integer between -128 and 127",
        "i16" => "an integer between -32768 and 32767",
        "i32" => "an integer between -2147483648 and 2147483647",
        "i64" | "i128" | "isize" => "an integer",
        "f32" | "f64" => "a number",
        "unit" => "null",
        "a map" | "map" => "an object",
        "a sequence" | "sequence" => "an array",
        "variant identifier" | "field identifier" => "a string",
        _ if e.starts_with("struct ") || e.starts_with("struct variant ") => "an object",
        _ if e.starts_with("tuple")
            || e.starts_with("a tuple")
            || e.starts_with("an array")
            || e.starts_with("array") =>
        {
            "an array"
        }
        _ if e.contains("enum ") => "one of the allowed values",
        _ if e.starts_with("a ") || e.starts_with("an ") => return e.to_owned(),
        _ => "a valid value",
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Signup {
        email: String,
        password: String,
        display_name: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Translation {
        title: String,
        slug: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct NewPost {
        translations: BTreeMap<String, Translation>,
        tags: Vec<String>,
        #[serde(default)]
        status: Option<Status>,
        #[serde(default)]
        version: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Status {
        Draft,
        Scheduled,
        Published,
    }

    fn field_error<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> (String, String) {
        let err = parse_json::<T>(body.as_bytes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed, "{err:?}");
        assert_eq!(err.errors.len(), 1, "{err:?}");
        (err.errors[0].field.clone(), err.errors[0].message.clone())
    }

    fn code_of<T: DeserializeOwned + std::fmt::Debug>(body: &[u8]) -> ErrorCode {
        parse_json::<T>(body).unwrap_err().code
    }

    fn code_of_any<T: DeserializeOwned + std::fmt::Debug>(body: &[u8]) -> ErrorCode {
        parse_json_any::<T>(body).unwrap_err().code
    }

    #[test]
    fn well_formed_body_decodes() {
        let s: Signup =
            parse_json(br#" {"email":"a@b.c","password":"pw","displayName":"A"} "#).unwrap();
        assert_eq!(
            s,
            Signup {
                email: "a@b.c".into(),
                password: "pw".into(),
                display_name: Some("A".into())
            }
        );
    }

    #[test]
    fn empty_or_blank_body_is_malformed_json() {
        assert_eq!(code_of::<Signup>(b""), ErrorCode::MalformedJson);
        assert_eq!(code_of::<Signup>(b" \n\t"), ErrorCode::MalformedJson);
    }

    #[test]
    fn syntax_errors_truncation_and_trailing_data_are_malformed_json() {
        for body in [
            &b"{"[..],
            b"{\"email\":",
            b"{email:1}",
            b"{} {}",
            b"{}x",
            b"\xff",
        ] {
            let err = parse_json::<Signup>(body).unwrap_err();
            assert_eq!(err.code, ErrorCode::MalformedJson, "{:?}", body);
            assert_eq!(err.status(), 400);
            assert!(
                err.message.starts_with("Request body is not valid JSON"),
                "{}",
                err.message
            );
            assert!(err.errors.is_empty());
        }
    }

    #[test]
    fn malformed_json_message_never_echoes_the_body() {
        let err = parse_json::<Signup>(br#"{"email":"secret-password-xyz" oops}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedJson);
        assert_eq!(
            err.message,
            "Request body is not valid JSON (line 1, column 32)"
        );
    }

    #[test]
    fn unknown_field_is_a_validation_error_naming_the_field() {
        assert_eq!(
            field_error::<Signup>(r#"{"email":"a","password":"b","extra":1}"#),
            ("extra".into(), "Unknown field".into())
        );
    }

    #[test]
    fn nested_unknown_field_is_named_by_its_full_path() {
        let body = r#"{"translations":{"en":{"title":"t","slug":"s","extra":true}},"tags":[]}"#;
        assert_eq!(
            field_error::<NewPost>(body),
            ("translations.en.extra".into(), "Unknown field".into())
        );
    }

    #[test]
    fn missing_field_is_required_at_its_path() {
        assert_eq!(
            field_error::<Signup>(r#"{"email":"a"}"#),
            ("password".into(), "Required".into())
        );
        let body = r#"{"translations":{"vi":{"slug":"s"}},"tags":[]}"#;
        assert_eq!(
            field_error::<NewPost>(body),
            ("translations.vi.title".into(), "Required".into())
        );
    }

    #[test]
    fn wrong_type_says_what_was_expected_without_echoing_the_value() {
        assert_eq!(
            field_error::<Signup>(r#"{"email":12,"password":"b"}"#),
            ("email".into(), "Expected a string".into())
        );
        assert_eq!(
            field_error::<NewPost>(r#"{"translations":{},"tags":"x"}"#),
            ("tags".into(), "Expected an array".into())
        );
        assert_eq!(
            field_error::<NewPost>(r#"{"translations":[],"tags":[]}"#),
            ("translations".into(), "Expected an object".into())
        );
        assert_eq!(
            field_error::<NewPost>(r#"{"translations":{"en":"x"},"tags":[]}"#),
            ("translations.en".into(), "Expected an object".into())
        );
    }

    #[test]
    fn array_elements_are_named_with_bracketed_indices() {
        assert_eq!(
            field_error::<NewPost>(r#"{"translations":{},"tags":["a","b",3]}"#),
            ("tags[2]".into(), "Expected a string".into())
        );
    }

    #[test]
    fn numbers_out_of_range_name_the_range() {
        assert_eq!(
            field_error::<NewPost>(r#"{"translations":{},"tags":[],"version":-1}"#),
            (
                "version".into(),
                "Expected an integer between 0 and 4294967295".into()
            )
        );
    }

    #[test]
    fn unknown_enum_value_lists_the_allowed_values() {
        assert_eq!(
            field_error::<NewPost>(r#"{"translations":{},"tags":[],"status":"gone"}"#),
            (
                "status".into(),
                "Must be one of: draft, scheduled, published".into()
            )
        );
        // A hostile value cannot inject its own list.
        assert_eq!(
            field_error::<NewPost>(
                r#"{"translations":{},"tags":[],"status":"x`, expected one of `evil"}"#
            ),
            (
                "status".into(),
                "Must be one of: draft, scheduled, published".into()
            )
        );
    }

    #[test]
    fn top_level_non_object_is_reported_on_the_empty_field() {
        assert_eq!(
            field_error::<Signup>(r#"[1,2]"#),
            ("".into(), "Expected an object".into())
        );
        assert_eq!(
            field_error::<Signup>(r#""hello""#),
            ("".into(), "Expected an object".into())
        );
        // Even an array that would fit the struct positionally.
        assert_eq!(
            field_error::<Signup>(r#" ["a@b.c","pw",null]"#),
            ("".into(), "Expected an object".into())
        );
        // A non-object that is also malformed is malformed.
        assert_eq!(code_of::<Signup>(b"[1,"), ErrorCode::MalformedJson);
    }

    #[test]
    fn parse_json_any_accepts_other_top_level_shapes() {
        let v: Vec<u8> = parse_json_any(b"[1,2]").unwrap();
        assert_eq!(v, vec![1, 2]);
        let err = parse_json_any::<Vec<u8>>(b"[1,\"x\"]").unwrap_err();
        assert_eq!(
            err.errors,
            vec![FieldError::new(
                "[1]",
                "Expected an integer between 0 and 255"
            )]
        );
        assert_eq!(code_of_any::<Vec<u8>>(b"[1,"), ErrorCode::MalformedJson);
    }

    #[test]
    fn a_shape_error_followed_by_a_syntax_error_is_malformed_json() {
        assert_eq!(
            code_of::<Signup>(br#"{"email":1,"password":"x"} trailing"#),
            ErrorCode::MalformedJson
        );
        assert_eq!(
            code_of::<Signup>(br#"{"email":1, oops"#),
            ErrorCode::MalformedJson
        );
    }

    #[test]
    fn a_well_formed_value_serde_json_calls_a_syntax_error_is_a_validation_error() {
        // serde_json reports "expected value" for a number where an enum is expected.
        assert_eq!(
            field_error::<NewPost>(r#"{"translations":{},"tags":[],"status":5}"#),
            ("status".into(), "Invalid value".into())
        );
    }

    #[test]
    fn duplicate_field_is_named() {
        assert_eq!(
            field_error::<Signup>(r#"{"email":"a","email":"b","password":"c"}"#),
            ("email".into(), "Duplicate field".into())
        );
    }

    #[test]
    fn custom_deserialize_errors_keep_their_message() {
        #[derive(Debug)]
        struct Score;
        impl<'de> Deserialize<'de> for Score {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let n = u8::deserialize(d)?;
                if (1..=5).contains(&n) {
                    Ok(Score)
                } else {
                    Err(serde::de::Error::custom("Must be between 1 and 5"))
                }
            }
        }
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Rating {
            score: Score,
        }
        assert_eq!(
            field_error::<Rating>(r#"{"score":9}"#),
            ("score".into(), "Must be between 1 and 5".into())
        );
    }

    #[test]
    fn validation_error_renders_the_contract_envelope() {
        let r = parse_json::<Signup>(br#"{"email":"a","password":"b","x":1}"#)
            .unwrap_err()
            .into_response();
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body_json().unwrap(),
            json!({"success":false,"message":"Validation failed","error":{"code":"VALIDATION_FAILED"},"errors":[{"field":"x","message":"Unknown field"}]})
        );
    }

    #[test]
    fn check_json_syntax_accepts_any_single_value() {
        assert!(check_json_syntax(br#"{"a":[1,{"b":null}]}"#).is_ok());
        assert!(check_json_syntax(b" 3 ").is_ok());
        for bad in [&b""[..], b"{", b"{}}", b"nul", b"{'a':1}"] {
            assert_eq!(
                check_json_syntax(bad).unwrap_err().code,
                ErrorCode::MalformedJson
            );
        }
    }
}
