//! The public shapes of a post in the API's answers (`GET /posts` items,
//! and the author and rating every public post carries), one definition
//! for the content worker that writes them and the site that reads them.
use serde::{Deserialize, Serialize};

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
}
