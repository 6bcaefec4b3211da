//! Ratings (`PUT /posts/{id}/rating`), read counts (`POST /posts/{id}/views`)
//! and the caller's activity (`GET /me/activity`). Storage:
//! migrations/0006_engagement.sql; decisions: docs/adr/0011 (Engagement).
//!
//! The aggregates on `posts` stay exact under concurrency: a rating is one
//! D1 batch (one transaction) that upserts the user's row and recomputes
//! `rating_sum`/`rating_count` from `post_ratings`; a view is one batch whose
//! `view_count + 1` applies only when its own insert (recognised by a random
//! `marker`) made the row.
use hmac::{Hmac, Mac};
use sealpost_api::body::parse_json;
use sealpost_api::query::OffsetPaging;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, Failure, PageInfo, Validator};
use sealpost_ports::{Clock, PageCache, PortError, RateLimiter, Rng, SitePurge, Sql, rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::model;
use crate::service::{Answer, Content, Total, not_found, offset, total};

/// Shortest `visitorId`.
pub const VISITOR_ID_MIN: usize = 8;
/// Longest `visitorId`.
pub const VISITOR_ID_MAX: usize = 128;
/// `Retry-After` of a throttled view: the binding's window (60 s).
pub const VIEWS_RETRY_AFTER_SECS: u32 = 60;

/// `PUT /posts/{id}/rating`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateInput {
    pub score: Value,
}

/// `POST /posts/{id}/views`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ViewInput {
    pub visitor_id: Value,
}

/// Whether `s` is a visitor id: 8–128 characters of `[A-Za-z0-9_-]`.
pub fn is_visitor_id(s: &str) -> bool {
    (VISITOR_ID_MIN..=VISITOR_ID_MAX).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The stored form of a visitor id: HMAC-SHA-256 under `VISITOR_KEY` of
/// `site:visitorId`, 64 lower-case hex characters.
pub fn visitor_hash(key: &[u8], site: &str, visitor_id: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(site.as_bytes());
    mac.update(b":");
    mac.update(visitor_id.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Deserialize)]
struct Aggregate {
    rating_sum: i64,
    rating_count: i64,
}

#[derive(Deserialize)]
struct Published {
    status: String,
}

/// A row of `GET /me/activity`.
#[derive(Deserialize)]
struct ActivityRow {
    kind: String,
    post_id: String,
    at: i64,
    score: Option<i64>,
    comment_id: Option<String>,
    slug: Option<String>,
    title: Option<String>,
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge>
    Content<'_, S, C, R, L, P, U>
{
    async fn is_published(&self, id: &str) -> Result<bool, PortError> {
        let row: Option<Published> = self
            .db
            .query_one(
                &self
                    .db
                    .statement("SELECT status FROM posts WHERE site_id = ?1 AND id = ?2")
                    .bind(id),
            )
            .await?;
        Ok(row.is_some_and(|r| r.status == "published"))
    }

    pub(crate) async fn rate(&self, input: &ApiRequest) -> Answer {
        let claims = self.member(input).await?;
        let body: RateInput = parse_json(&input.body)?;
        let score = body.score.as_i64().filter(|s| (1..=5).contains(s));
        let mut v = Validator::new();
        v.check(score.is_some(), "score", "Must be an integer from 1 to 5");
        v.finish()?;
        let score = score.unwrap_or_default();
        let id = input.param("id").unwrap_or_default();
        let now = self.now();
        let batch = [
            // Only a published post takes a rating; a second one replaces it.
            self.db
                .statement(
                    "INSERT INTO post_ratings (site_id, post_id, user_id, score, created_at, \
                     updated_at) SELECT ?1, ?2, ?3, ?4, ?5, ?5 FROM posts \
                     WHERE site_id = ?1 AND id = ?2 AND status = 'published' \
                     ON CONFLICT (site_id, post_id, user_id) DO UPDATE \
                     SET score = excluded.score, updated_at = excluded.updated_at \
                     WHERE site_id = ?1",
                )
                .bind(id)
                .bind(claims.sub.as_str())
                .bind(score)
                .bind(now),
            // Recomputed in the same transaction: always exact.
            self.db
                .statement(
                    "UPDATE posts SET rating_sum = agg.total, rating_count = agg.n \
                     FROM (SELECT COALESCE(SUM(score), 0) AS total, COUNT(*) AS n \
                       FROM post_ratings WHERE site_id = ?1 AND post_id = ?2) AS agg \
                     WHERE posts.site_id = ?1 AND posts.id = ?2",
                )
                .bind(id),
        ];
        let results = self.db.batch(&batch).await?;
        if results.first().is_none_or(|r| r.changes != 1) {
            return Err(not_found());
        }
        let agg: Aggregate = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT rating_sum, rating_count FROM posts WHERE site_id = ?1 AND id = ?2",
                    )
                    .bind(id),
            )
            .await?
            .ok_or_else(not_found)?;
        Ok(ApiResponse::mutation(
            200,
            "Rating saved",
            &json!({
                "postId": id,
                "score": score,
                "rating": model::Rating::of(agg.rating_sum, agg.rating_count),
            }),
        ))
    }

    pub(crate) async fn view(&self, input: &ApiRequest) -> Answer {
        // Abuse damping, not a quota: a limiter that cannot answer lets the
        // view through.
        if let Some(limiter) = self.views_limiter
            && !limiter
                .allow(&format!("views:{}", input.client_ip))
                .await
                .unwrap_or(true)
        {
            return Err(ApiError::rate_limited(VIEWS_RETRY_AFTER_SECS).into());
        }
        let body: ViewInput = parse_json(&input.body)?;
        let visitor = body.visitor_id.as_str().filter(|s| is_visitor_id(s));
        let mut v = Validator::new();
        v.check(
            visitor.is_some(),
            "visitorId",
            &format!(
                "Must be {VISITOR_ID_MIN} to {VISITOR_ID_MAX} characters of A-Z, a-z, 0-9, '_' and '-'"
            ),
        );
        v.finish()?;
        let visitor = visitor.unwrap_or_default();
        let key = self
            .visitor_key
            .ok_or_else(|| Failure::Config("VISITOR_KEY is not configured".into()))?;
        // A valid token records the reader (activity); never required, and a
        // bad one is ignored rather than refused.
        let user = if input.authorization().is_some() && self.verifier.is_some() {
            self.caller(input).await.ok().map(|c| c.sub)
        } else {
            None
        };
        let id = input.param("id").unwrap_or_default();
        let hash = visitor_hash(key, self.db.site().as_str(), visitor);
        let marker = self.rng.id()?;
        let batch = [
            self.db
                .statement(
                    "INSERT INTO post_views (site_id, post_id, visitor_hash, user_id, marker, \
                     created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6 FROM posts \
                     WHERE site_id = ?1 AND id = ?2 AND status = 'published' \
                     ON CONFLICT (site_id, post_id, visitor_hash) DO NOTHING",
                )
                .bind(id)
                .bind(hash.as_str())
                .bind(user.as_deref())
                .bind(marker.as_str())
                .bind(self.now()),
            // Counts only if the row above is the one this request made.
            self.db
                .statement(
                    "UPDATE posts SET view_count = view_count + 1 \
                     WHERE site_id = ?1 AND id = ?2 AND EXISTS (SELECT 1 FROM post_views v \
                     WHERE v.site_id = ?1 AND v.post_id = ?2 AND v.visitor_hash = ?3 \
                     AND v.marker = ?4)",
                )
                .bind(id)
                .bind(hash.as_str())
                .bind(marker.as_str()),
        ];
        let results = self.db.batch(&batch).await?;
        let counted = results.get(1).is_some_and(|r| r.changes == 1);
        if !counted && !self.is_published(id).await? {
            return Err(not_found());
        }
        Ok(ApiResponse::mutation(
            202,
            "View recorded",
            &json!({"postId": id, "counted": counted}),
        ))
    }

    pub(crate) async fn activity(&self, input: &ApiRequest) -> Answer {
        let claims = self.member(input).await?;
        let paging = OffsetPaging::from_query(&input.query)?;
        let user = claims.sub.as_str();
        let count: Option<Total> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT (SELECT COUNT(*) FROM post_ratings WHERE site_id = ?1 AND user_id = ?2) \
                         + (SELECT COUNT(*) FROM post_views WHERE site_id = ?1 AND user_id = ?2) \
                         + (SELECT COUNT(*) FROM comments WHERE site_id = ?1 AND author_id = ?2 \
                         AND deleted_at IS NULL) AS total",
                    )
                    .bind(user),
            )
            .await?;
        // One UNION ALL arm per activity kind, each written by its owner
        // (docs/adr/0011, Engagement). The post's slug and title (first
        // language, English first) only while it is published.
        let first = |col: &str| {
            format!(
                "(SELECT t.{col} FROM post_translations t JOIN posts p \
                 ON p.id = t.post_id AND p.site_id = t.site_id \
                 WHERE t.site_id = ?1 AND t.post_id = a.post_id AND p.status = 'published' \
                 ORDER BY t.lang = 'en' DESC, t.lang LIMIT 1) AS {col}"
            )
        };
        let rows: Vec<ActivityRow> = self
            .db
            .query_as(
                &self
                    .db
                    .statement(&format!(
                        "SELECT a.kind, a.post_id, a.at, a.score, a.comment_id, {}, {} FROM ( \
                         SELECT 'rating' AS kind, r.post_id, r.updated_at AS at, r.score, \
                         NULL AS comment_id \
                         FROM post_ratings r WHERE r.site_id = ?1 AND r.user_id = ?2 \
                         UNION ALL \
                         SELECT 'read' AS kind, v.post_id, v.created_at AS at, NULL AS score, \
                         NULL AS comment_id \
                         FROM post_views v WHERE v.site_id = ?1 AND v.user_id = ?2 \
                         UNION ALL \
                         SELECT 'comment' AS kind, c.post_id, c.created_at AS at, NULL AS score, \
                         c.id AS comment_id \
                         FROM comments c WHERE c.site_id = ?1 AND c.author_id = ?2 \
                         AND c.deleted_at IS NULL \
                         ) a ORDER BY a.at DESC, a.kind, a.post_id, a.comment_id LIMIT ?3 OFFSET ?4",
                        first("slug"),
                        first("title")
                    ))
                    .bind(user)
                    .bind(i64::from(paging.limit()))
                    .bind(offset(&paging)),
            )
            .await?;
        let items: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut item = json!({
                    "type": r.kind,
                    "postId": r.post_id,
                    "at": rfc3339(r.at),
                    "slug": r.slug,
                    "title": r.title,
                });
                if let Some(score) = r.score {
                    item["score"] = json!(score);
                }
                if let Some(comment) = &r.comment_id {
                    item["commentId"] = json!(comment);
                }
                item
            })
            .collect();
        Ok(ApiResponse::offset_list(
            &items,
            PageInfo::new(&paging, total(count)),
        ))
    }
}
