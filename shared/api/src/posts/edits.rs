//! What an editor sends to change a post: a new post, a partial update
//! naming the version it edits, the workflow actions, and a preview. The
//! content worker reads these exact types (unknown fields refused) and the
//! console writes them.
use serde::{Deserialize, Deserializer, Serialize};

/// `Some(x)` for a present value (also `null`), `None` when absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// One language version, as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationInput {
    pub title: String,
    pub slug: String,
    #[serde(default)]
    pub excerpt: String,
    pub body: String,
}

/// `translations` of a new post: at least one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationsInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<TranslationInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vi: Option<TranslationInput>,
}

/// `POST /admin/posts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInput {
    pub translations: TranslationsInput,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One language version in a PATCH: only the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// `translations` of a PATCH: a language absent is unchanged, `null`
/// removes it, an object changes (or adds) it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationsPatch {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub en: Option<Option<TranslationPatch>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub vi: Option<Option<TranslationPatch>>,
}

/// `PATCH /admin/posts/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchInput {
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translations: Option<TranslationsPatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// `POST …/publish` and `…/unpublish` (the body is optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// `POST …/schedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScheduleInput {
    pub publish_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// `POST /admin/preview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    pub body: String,
}

/// `POST /admin/preview`'s answer: the Markdown rendered as the site shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub html: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_sends_only_what_changed_and_null_for_a_removed_language() {
        let patch = PatchInput {
            version: 3,
            translations: Some(TranslationsPatch {
                en: Some(Some(TranslationPatch {
                    title: Some("New".into()),
                    ..TranslationPatch::default()
                })),
                vi: Some(None),
            }),
            tags: None,
        };
        let wire = serde_json::to_value(&patch).unwrap();
        assert_eq!(
            wire,
            json!({"version": 3, "translations": {"en": {"title": "New"}, "vi": null}})
        );
        assert_eq!(serde_json::from_value::<PatchInput>(wire).unwrap(), patch);
    }

    #[test]
    fn a_language_left_out_of_a_patch_reads_as_unchanged_not_removed() {
        let read: TranslationsPatch = serde_json::from_value(json!({"en": {"body": "x"}})).unwrap();
        assert_eq!(read.vi, None);
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_value::<PreviewInput>(json!({"body": "x", "html": "y"})).is_err());
    }
}
