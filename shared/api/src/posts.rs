//! The shapes of a post in the API's answers: the public ones (`GET /posts`
//! items, and the author and rating every public post carries) and the
//! admin post object editors read and write. One definition for the
//! content worker that writes them and the site and console that read them.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod edits;

/// Who wrote a post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Author {
    pub id: String,
    pub display_name: String,
}

/// `{average, count}`: the average to one decimal, `null` while nobody rated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub average: Option<f64>,
    pub count: u64,
}

impl Rating {
    /// The rating of `count` scores adding up to `sum`; the average is
    /// rounded half up to tenths in integers (no float drift).
    pub fn of(sum: i64, count: i64) -> Rating {
        let Ok(n) = u64::try_from(count) else {
            return Rating::default();
        };
        if n == 0 {
            return Rating::default();
        }
        let tenths = (sum * 20 + count) / (count * 2);
        #[allow(clippy::cast_precision_loss)]
        let average = tenths as f64 / 10.0;
        Rating {
            average: Some(average),
            count: n,
        }
    }
}

/// One item of `GET /posts`: a published post in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostItem {
    pub id: String,
    pub slug: String,
    pub lang: String,
    pub title: String,
    pub excerpt: String,
    pub tags: Vec<String>,
    pub published_at: String,
    pub author: Author,
    #[serde(default)]
    pub rating: Rating,
    pub views: u64,
}

/// The admin post object: every language's version, its workflow state and
/// the version a `PATCH` must name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminPost {
    pub id: String,
    /// `draft`, `scheduled`, `published` or `deleted`.
    pub status: String,
    pub version: i64,
    /// By language code (`en`, `vi`).
    pub translations: BTreeMap<String, AdminTranslation>,
    pub tags: Vec<String>,
    /// RFC 3339, while scheduled.
    pub publish_at: Option<String>,
    pub published_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub author_id: String,
}

/// One language of an [`AdminPost`]; `body` (the Markdown as saved) is left
/// out of lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminTranslation {
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_unrated_post_has_a_null_average_and_a_zero_count() {
        assert_eq!(
            serde_json::to_value(Rating::of(0, 0)).unwrap(),
            json!({"average": null, "count": 0})
        );
    }

    #[test]
    fn the_average_is_rounded_half_up_to_tenths() {
        assert_eq!(Rating::of(9, 2).average, Some(4.5));
        assert_eq!(Rating::of(10, 3).average, Some(3.3));
        assert_eq!(Rating::of(11, 3).average, Some(3.7));
        assert_eq!(
            Rating::of(4, 1),
            Rating {
                average: Some(4.0),
                count: 1
            }
        );
    }

    #[test]
    fn an_item_reads_back_as_it_was_written() {
        let item = PostItem {
            id: "p1".into(),
            slug: "hello".into(),
            lang: "vi".into(),
            title: "Xin chào".into(),
            excerpt: "Tóm tắt".into(),
            tags: vec!["edge".into()],
            published_at: "2026-12-03T10:00:00Z".into(),
            author: Author {
                id: "u1".into(),
                display_name: "Lan".into(),
            },
            rating: Rating::of(9, 2),
            views: 7,
        };
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["publishedAt"], "2026-12-03T10:00:00Z");
        assert_eq!(json["author"]["displayName"], "Lan");
        assert_eq!(serde_json::from_value::<PostItem>(json).unwrap(), item);
    }

    #[test]
    fn an_admin_post_in_a_list_carries_no_body_key() {
        let t = AdminTranslation {
            title: "Phở".into(),
            slug: "pho".into(),
            excerpt: "".into(),
            body: None,
        };
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"title": "Phở", "slug": "pho", "excerpt": ""})
        );
        let back: AdminTranslation = serde_json::from_value(
            json!({"title": "a", "slug": "a", "excerpt": "", "body": "# a"}),
        )
        .unwrap();
        assert_eq!(back.body.as_deref(), Some("# a"));
    }
}
