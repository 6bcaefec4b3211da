//! Fuzz target: typed JSON request bodies (`api::body::parse_json`) into the
//! real request types of content (create, patch, schedule, rating) and the
//! comment parser. Input: one byte choosing the type, then the body.
//! Oracle: no panic; the verdict agrees with serde_json itself (a body
//! decodes exactly when serde_json decodes it and it is an object; it is
//! `MALFORMED_JSON` exactly when it is not well-formed JSON); a validation
//! error carries one field whose path exists in the body as sent (its
//! parent, for `Required`), and a message from the fixed catalogue, so no
//! body text is echoed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpost_api::body::parse_json;
use sealpost_api::{ApiError, ErrorCode};
use sealpost_comments_core::model::NewComment;
use sealpost_content_core::engagement::RateInput;
use sealpost_content_core::model::{CreateInput, PatchInput, ScheduleInput};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The values a path (`a.b[2].c`; `""` is the whole body) can name in `v`.
/// Keys may themselves hold `.` or `[` (or be empty), so every way of
/// splitting the path is tried.
fn resolve<'a>(v: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    if path.is_empty() {
        out.push(v);
    } else {
        // A leading `[` is an index, or the start of a key such as `[x`.
        resolve_index(v, path, out);
        resolve_key(v, path, out);
    }
}

/// After a value: the end, `[i]…` or `.key…`.
fn resolve_rest<'a>(child: &'a Value, rest: &str, out: &mut Vec<&'a Value>) {
    if rest.is_empty() {
        out.push(child);
    } else if rest.starts_with('[') {
        resolve_index(child, rest, out);
    } else if let Some(rest) = rest.strip_prefix('.') {
        resolve_key(child, rest, out);
    }
}

/// `path` starts with a key of the object `v` (possibly the empty key).
fn resolve_key<'a>(v: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    if let Value::Object(map) = v {
        for (k, child) in map {
            if let Some(rest) = path.strip_prefix(k.as_str()) {
                resolve_rest(child, rest, out);
            }
        }
    }
}

/// `path` starts with `[i]`, an index of the array `v`.
fn resolve_index<'a>(v: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    if let (Value::Array(items), Some((i, rest))) =
        (v, path.strip_prefix('[').and_then(|p| p.split_once(']')))
        && let Some(child) = i.parse::<usize>().ok().and_then(|i| items.get(i))
    {
        resolve_rest(child, rest, out);
    }
}

fn resolves(v: &Value, path: &str) -> bool {
    let mut out = Vec::new();
    resolve(v, path, &mut out);
    !out.is_empty()
}

/// Whether `path` is `parent.key` (or just `key`) with `parent` resolving to an
/// object, under some split of the path.
fn parent_is_object(v: &Value, path: &str) -> bool {
    path.char_indices()
        .filter(|&(_, c)| c == '.')
        .map(|(i, _)| &path[..i])
        .chain(std::iter::once(""))
        .any(|parent| {
            let mut out = Vec::new();
            resolve(v, parent, &mut out);
            out.iter().any(|p| p.is_object())
        })
}

/// Deserialises any JSON, failing on an object with a repeated key (where
/// `Value` keeps only the last one, so a path into an earlier one cannot be
/// resolved).
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = NoDuplicateKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                while a.next_element::<NoDuplicateKeys>()?.is_some() {}
                Ok(NoDuplicateKeys)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some((k, NoDuplicateKeys)) = a.next_entry::<String, NoDuplicateKeys>()? {
                    if !seen.insert(k) {
                        return Err(serde::de::Error::custom("repeated key"));
                    }
                }
                Ok(NoDuplicateKeys)
            }
        }
        d.deserialize_any(V)
    }
}

const MESSAGES: &[&str] = &[
    "Unknown field",
    "Required",
    "Duplicate field",
    "Invalid value",
    "Expected an object",
    // the comment parser's own checks
    "Must be a string",
];

fn message_is_ours(m: &str) -> bool {
    MESSAGES.contains(&m)
        || m.strip_prefix("Expected ").is_some_and(|rest| {
            [
                "a string",
                "a boolean",
                "a single character",
                "a non-negative integer",
                "an integer",
                "a number",
                "null",
                "an object",
                "an array",
                "one of the allowed values",
                "a valid value",
                "an integer between ",
            ]
            .iter()
            .any(|e| rest.starts_with(e))
        })
}

fn check<T: DeserializeOwned>(body: &[u8], custom_messages: bool) {
    let got: Result<T, ApiError> = parse_json(body);
    let syntax = serde_json::from_slice::<Value>(body);
    let object_first = body
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        == Some(&b'{');
    match &got {
        Ok(_) => {
            assert!(object_first, "a non-object body decoded");
            assert!(
                serde_json::from_slice::<T>(body).is_ok(),
                "serde_json refuses what parse_json took"
            );
        }
        Err(e) => {
            if object_first && !custom_messages {
                assert!(
                    serde_json::from_slice::<T>(body).is_err(),
                    "serde_json decodes what parse_json refused: {e:?}"
                );
            }
            match e.code {
                ErrorCode::MalformedJson => {
                    assert!(syntax.is_err(), "well-formed JSON called malformed");
                    assert!(e.errors.is_empty());
                }
                ErrorCode::ValidationFailed => {
                    assert!(!e.errors.is_empty());
                    if !custom_messages {
                        assert_eq!(e.errors.len(), 1, "{e:?}");
                    }
                    let Ok(value) = &syntax else {
                        // serde_json's Value refuses some well-formed JSON (numbers beyond f64).
                        return;
                    };
                    if serde_json::from_slice::<NoDuplicateKeys>(body).is_err() {
                        // A repeated key: the path may name the copy Value dropped.
                        return;
                    }
                    for f in &e.errors {
                        if f.message == "Required" {
                            assert!(
                                parent_is_object(value, &f.field),
                                "Required {:?} has no parent object",
                                f.field
                            );
                        } else {
                            assert!(
                                resolves(value, &f.field),
                                "field {:?} is not in the body",
                                f.field
                            );
                        }
                        assert!(
                            custom_messages || message_is_ours(&f.message),
                            "message {:?} is not from the catalogue",
                            f.message
                        );
                    }
                }
                other => panic!("unexpected code {other:?}"),
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 5 {
        0 => check::<CreateInput>(body, false),
        1 => check::<PatchInput>(body, false),
        2 => check::<ScheduleInput>(body, false),
        3 => check::<RateInput>(body, false),
        _ => {
            // NewComment::parse adds its own validation after parse_json.
            if let Err(e) = NewComment::parse(body) {
                assert!(
                    matches!(
                        e.code,
                        ErrorCode::MalformedJson | ErrorCode::ValidationFailed
                    ),
                    "{e:?}"
                );
                if e.code == ErrorCode::MalformedJson {
                    assert!(serde_json::from_slice::<Value>(body).is_err());
                }
            }
        }
    }
});
