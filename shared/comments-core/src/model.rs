//! Comments as members write them (validation and normalisation of `body`
//! and `parentId`), the rows as stored and the objects the API and the live
//! events carry (docs/api.md, Comments).
use sealpost_api::body::parse_json;
use sealpost_api::{ApiError, Validator};
use sealpost_ports::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Longest comment body, in Unicode scalar values (after normalisation).
pub const BODY_MAX: usize = 2_000;
/// `GET /posts/{id}/comments`: default and largest `limit`.
pub const LIST_DEFAULT: u32 = 50;
pub const LIST_MAX: u32 = 100;
/// Longest id accepted in a path or `parentId` (ours are 32 hex digits).
pub const ID_MAX: usize = 64;

/// `POST /posts/{id}/comments` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewCommentBody {
    body: Value,
    #[serde(default)]
    parent_id: Option<Value>,
}

/// A validated new comment: what the post's object is asked to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewComment {
    /// Normalised: LF line ends, trimmed, 1–[`BODY_MAX`] characters.
    pub body: String,
    pub parent_id: Option<String>,
}

impl NewComment {
    /// Parses and validates a request body; every problem is reported.
    pub fn parse(bytes: &[u8]) -> Result<NewComment, ApiError> {
        let raw: NewCommentBody = parse_json(bytes)?;
        let mut v = Validator::new();
        let body = match raw.body.as_str() {
            Some(text) => match normalize_body(text) {
                Ok(body) => Some(body),
                Err(why) => {
                    v.add("body", why);
                    None
                }
            },
            None => {
                v.add("body", "Must be a string");
                None
            }
        };
        let parent_id = match raw.parent_id {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if is_id(&id) => Some(id),
            Some(_) => {
                v.add(
                    "parentId",
                    "Must be the id of a comment on this post, or null",
                );
                None
            }
        };
        v.finish()?;
        Ok(NewComment {
            body: body.unwrap_or_default(),
            parent_id,
        })
    }
}

/// The stored form of a comment body: CRLF and CR become LF, leading and
/// trailing whitespace goes, and what remains must be 1–[`BODY_MAX`]
/// characters with no control character but LF and TAB.
pub fn normalize_body(text: &str) -> Result<String, &'static str> {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let body = unified.trim();
    if body
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("Must not contain control characters");
    }
    let n = body.chars().count();
    if n == 0 || n > BODY_MAX {
        return Err("Must be between 1 and 2000 characters");
    }
    Ok(body.to_owned())
}

/// Whether `s` can be an id of ours: 1–[`ID_MAX`] of `[A-Za-z0-9_-]`.
/// Anything else is answered without touching storage.
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= ID_MAX
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The columns [`CommentRow`] reads (`c` = comments, `u` = users).
pub const COMMENT_COLUMNS: &str = "c.id, c.post_id, c.serial, c.author_id, \
     u.display_name AS author_name, c.body, c.parent_id, c.created_at";

/// The join that gives a comment its author (`c` = comments).
pub const AUTHOR_JOIN: &str = "JOIN users u ON u.id = c.author_id AND u.site_id = c.site_id";

/// A comment as read from D1.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommentRow {
    pub id: String,
    pub post_id: String,
    pub serial: i64,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    pub parent_id: Option<String>,
    pub created_at: i64,
}

impl CommentRow {
    /// The API object: `{id, serial, postId, author:{id, displayName}, body,
    /// parentId, createdAt}`.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "serial": self.serial,
            "postId": self.post_id,
            "author": {"id": self.author_id, "displayName": self.author_name},
            "body": self.body,
            "parentId": self.parent_id,
            "createdAt": rfc3339(self.created_at),
        })
    }
}

/// The live frame of a new comment.
pub fn created_frame(comment: &CommentRow) -> String {
    json!({"type": "comment.created", "comment": comment.to_json()}).to_string()
}

/// The live frame of a removed comment; `serial` is the comment's own.
pub fn deleted_frame(post_id: &str, comment_id: &str, serial: i64) -> String {
    json!({
        "type": "comment.deleted",
        "postId": post_id,
        "commentId": comment_id,
        "serial": serial,
    })
    .to_string()
}

/// The live notice of a cut backfill: the live comments with
/// `since < serial < before` were not sent; the list pages them
/// (`GET /posts/{postId}/comments?before={before}`).
pub fn truncated_frame(post_id: &str, since: i64, before: i64) -> String {
    json!({
        "type": "backfill.truncated",
        "postId": post_id,
        "since": since,
        "before": before,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: &ApiError) -> Vec<&str> {
        err.errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_body_is_trimmed_and_its_line_ends_become_lf() {
        assert_eq!(
            normalize_body("  hello\r\nworld\rbye\n\t ").unwrap(),
            "hello\nworld\nbye"
        );
        assert_eq!(normalize_body("a\tb").unwrap(), "a\tb");
    }

    #[test]
    fn blank_overlong_and_control_character_bodies_are_refused() {
        assert!(normalize_body("").is_err());
        assert!(normalize_body(" \n\t\r\n ").is_err());
        assert!(normalize_body("bell\u{7}").is_err());
        assert!(normalize_body("nul\u{0}").is_err());
        assert!(normalize_body("del\u{7f}").is_err());
        assert!(normalize_body("c1\u{85}c2").is_err());
        let max: String = "ệ".repeat(BODY_MAX);
        assert_eq!(normalize_body(&max).unwrap().chars().count(), BODY_MAX);
        assert!(normalize_body(&format!("{max}x")).is_err());
        // Trimmed before counting.
        assert!(normalize_body(&format!("  {max}  ")).is_ok());
    }

    #[test]
    fn a_new_comment_needs_a_string_body_and_takes_an_optional_parent() {
        let c = NewComment::parse(br#"{"body":" hi ","parentId":null}"#).unwrap();
        assert_eq!(c.body, "hi");
        assert_eq!(c.parent_id, None);
        let c = NewComment::parse(br#"{"body":"re","parentId":"abc123"}"#).unwrap();
        assert_eq!(c.parent_id.as_deref(), Some("abc123"));
        let err = NewComment::parse(br#"{"body":5,"parentId":7}"#).unwrap_err();
        assert_eq!(fields(&err), vec!["body", "parentId"]);
        let err = NewComment::parse(br#"{"body":"x","parentId":"a b"}"#).unwrap_err();
        assert_eq!(fields(&err), vec!["parentId"]);
        let err = NewComment::parse(br#"{"body":"x","extra":1}"#).unwrap_err();
        assert_eq!(err.code, sealpost_api::ErrorCode::ValidationFailed);
        let err = NewComment::parse(b"{").unwrap_err();
        assert_eq!(err.code, sealpost_api::ErrorCode::MalformedJson);
    }

    #[test]
    fn ids_are_short_url_safe_tokens() {
        assert!(is_id("0123abcdef"));
        assert!(is_id("a_b-C"));
        assert!(!is_id(""));
        assert!(!is_id("a/b"));
        assert!(!is_id(&"a".repeat(ID_MAX + 1)));
    }

    #[test]
    fn frames_have_the_contract_shapes() {
        let row = CommentRow {
            id: "c1".into(),
            post_id: "p1".into(),
            serial: 3,
            author_id: "u1".into(),
            author_name: "Lan".into(),
            body: "xin chào".into(),
            parent_id: None,
            created_at: 0,
        };
        let created: Value = serde_json::from_str(&created_frame(&row)).unwrap();
        assert_eq!(
            created,
            json!({"type": "comment.created", "comment": {
                "id": "c1", "serial": 3, "postId": "p1",
                "author": {"id": "u1", "displayName": "Lan"},
                "body": "xin chào", "parentId": null,
                "createdAt": "1970-01-01T00:00:00Z"}})
        );
        let deleted: Value = serde_json::from_str(&deleted_frame("p1", "c1", 3)).unwrap();
        assert_eq!(
            deleted,
            json!({"type": "comment.deleted", "postId": "p1", "commentId": "c1", "serial": 3})
        );
    }
}
