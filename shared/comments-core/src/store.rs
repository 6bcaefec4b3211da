//! A post's comments in D1 (migrations/0007_comments.sql): the writes the
//! post's Durable Object makes — create (with its serial), delete — and the
//! reads of the lists and the live backfill, plus the post's page paths on
//! the site (a read of content's `post_translations`, docs/adr/0002), which
//! show its comments. Every statement is scoped to the site (`SiteDb`).
//!
//! A create is one batch, so one transaction: the post's counter in
//! `comment_serials` goes up by one (only while the post is published and
//! the parent, if any, is a live comment of the same post), and the comment
//! row takes that value — but only if the increment was this create's own
//! (`last_comment_id`). Serials are therefore gap-free in commit order and
//! never reused, whatever restarts, hibernation or even a second instance
//! of the object do.
use sealpost_api::Locale;
use sealpost_api::pages::post_path;
use sealpost_ports::{MAX_SAFE_INTEGER, PortError, SiteDb, Sql};
use serde::Deserialize;

use crate::model::{AUTHOR_JOIN, COMMENT_COLUMNS, CommentRow, NewComment};

/// One post's comments.
#[derive(Debug)]
pub struct Thread<'a, S: Sql> {
    pub db: SiteDb<'a, S>,
    pub post_id: &'a str,
}

/// Why a create wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The post does not exist or is not published.
    NoPost,
    /// `parentId` is not a live comment of this post.
    NoParent,
}

#[derive(Debug, Deserialize)]
struct Serial {
    serial: i64,
}

#[derive(Debug, Deserialize)]
struct Last {
    last: i64,
}

#[derive(Debug, Deserialize)]
struct Found {
    #[allow(dead_code, reason = "read for its presence")]
    found: i64,
}

impl<S: Sql> Thread<'_, S> {
    /// Whether the post exists and is published.
    pub async fn is_published(&self) -> Result<bool, PortError> {
        let found: Option<Found> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT 1 AS found FROM posts \
                         WHERE site_id = ?1 AND id = ?2 AND status = 'published'",
                    )
                    .bind(self.post_id),
            )
            .await?;
        Ok(found.is_some())
    }

    /// The site's pages that show this post's comments: the post's page
    /// in each language it has (`/{lang}/posts/{slug}`).
    pub async fn page_paths(&self) -> Result<Vec<String>, PortError> {
        #[derive(Deserialize)]
        struct Version {
            lang: String,
            slug: String,
        }
        let versions: Vec<Version> = self
            .db
            .query_as(
                &self
                    .db
                    .statement(
                        "SELECT lang, slug FROM post_translations \
                         WHERE site_id = ?1 AND post_id = ?2 ORDER BY lang",
                    )
                    .bind(self.post_id),
            )
            .await?;
        Ok(versions
            .iter()
            .filter_map(|v| Some(post_path(Locale::parse(&v.lang)?, &v.slug)))
            .collect())
    }

    /// Writes `comment` by `author_id` as `id` at `now_ms`, with the next
    /// serial; the row as the API shows it.
    pub async fn create(
        &self,
        id: &str,
        author_id: &str,
        comment: &NewComment,
        now_ms: i64,
    ) -> Result<Result<CommentRow, Refusal>, PortError> {
        let take_serial = self
            .db
            .statement(
                "INSERT INTO comment_serials (site_id, post_id, last, last_comment_id) \
                 SELECT ?1, ?2, 1, ?3 FROM posts p \
                 WHERE p.site_id = ?1 AND p.id = ?2 AND p.status = 'published' \
                 AND (?4 IS NULL OR EXISTS (SELECT 1 FROM comments c WHERE c.site_id = ?1 \
                 AND c.post_id = ?2 AND c.id = ?4 AND c.deleted_at IS NULL)) \
                 ON CONFLICT (site_id, post_id) DO UPDATE SET last = last + 1, \
                 last_comment_id = excluded.last_comment_id WHERE site_id = ?1",
            )
            .bind(self.post_id)
            .bind(id)
            .bind(comment.parent_id.as_deref());
        let insert = self
            .db
            .statement(
                "INSERT INTO comments (site_id, id, post_id, serial, author_id, parent_id, body, \
                 created_at) SELECT ?1, ?3, ?2, s.last, ?5, ?4, ?6, ?7 FROM comment_serials s \
                 WHERE s.site_id = ?1 AND s.post_id = ?2 AND s.last_comment_id = ?3",
            )
            .bind(self.post_id)
            .bind(id)
            .bind(comment.parent_id.as_deref())
            .bind(author_id)
            .bind(comment.body.as_str())
            .bind(now_ms);
        let results = self.db.batch(&[take_serial, insert]).await?;
        if results.get(1).is_some_and(|r| r.changes == 1) {
            return match self.get(id).await? {
                Some(row) => Ok(Ok(row)),
                None => Err(PortError::Unavailable(
                    "a comment just written could not be read".into(),
                )),
            };
        }
        Ok(Err(if self.is_published().await? {
            Refusal::NoParent
        } else {
            Refusal::NoPost
        }))
    }

    /// One live comment of this post.
    pub async fn get(&self, id: &str) -> Result<Option<CommentRow>, PortError> {
        self.db
            .query_one(
                &self
                    .db
                    .statement(&format!(
                        "SELECT {COMMENT_COLUMNS} FROM comments c {AUTHOR_JOIN} \
                         WHERE c.site_id = ?1 AND c.post_id = ?2 AND c.id = ?3 \
                         AND c.deleted_at IS NULL"
                    ))
                    .bind(self.post_id)
                    .bind(id),
            )
            .await
    }

    /// Removes a live comment (soft: the row keeps its serial); its serial,
    /// or `None` when there is no such live comment.
    pub async fn delete(
        &self,
        comment_id: &str,
        actor_id: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, PortError> {
        let row: Option<Serial> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "UPDATE comments SET deleted_at = ?4, deleted_by = ?5 \
                         WHERE site_id = ?1 AND post_id = ?2 AND id = ?3 AND deleted_at IS NULL \
                         RETURNING serial",
                    )
                    .bind(self.post_id)
                    .bind(comment_id)
                    .bind(now_ms)
                    .bind(actor_id),
            )
            .await?;
        Ok(row.map(|r| r.serial))
    }

    /// The last serial handed out (0 before the first comment).
    pub async fn high_water(&self) -> Result<i64, PortError> {
        let last: Option<Last> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT last FROM comment_serials WHERE site_id = ?1 AND post_id = ?2",
                    )
                    .bind(self.post_id),
            )
            .await?;
        Ok(last.map_or(0, |l| l.last))
    }

    /// Live comments with `after < serial <= upto`, ascending, at most `limit`.
    pub async fn ascending(
        &self,
        after: i64,
        upto: i64,
        limit: u32,
    ) -> Result<Vec<CommentRow>, PortError> {
        self.db
            .query_as(
                &self
                    .db
                    .statement(&format!(
                        "SELECT {COMMENT_COLUMNS} FROM comments c {AUTHOR_JOIN} \
                         WHERE c.site_id = ?1 AND c.post_id = ?2 AND c.serial > ?3 \
                         AND c.serial <= ?4 AND c.deleted_at IS NULL \
                         ORDER BY c.serial LIMIT ?5"
                    ))
                    .bind(self.post_id)
                    .bind(after)
                    .bind(upto)
                    .bind(limit),
            )
            .await
    }

    /// Where a backfill of at most `max` live comments in `(since, upto]`
    /// starts: the serial of the newest one it leaves out, or `None` when
    /// all fit.
    pub async fn backfill_cut(
        &self,
        since: i64,
        upto: i64,
        max: u32,
    ) -> Result<Option<i64>, PortError> {
        let cut: Option<Serial> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT serial FROM comments WHERE site_id = ?1 AND post_id = ?2 \
                         AND serial > ?3 AND serial <= ?4 AND deleted_at IS NULL \
                         ORDER BY serial DESC LIMIT 1 OFFSET ?5",
                    )
                    .bind(self.post_id)
                    .bind(since)
                    .bind(upto)
                    .bind(max),
            )
            .await?;
        Ok(cut.map(|c| c.serial))
    }

    /// A keyset page, newest first: live comments with `serial < before`
    /// (all without), at most `limit`, and the cursor of the next page
    /// (`None` on the last).
    pub async fn page(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<(Vec<CommentRow>, Option<i64>), PortError> {
        let mut rows: Vec<CommentRow> = self
            .db
            .query_as(
                &self
                    .db
                    .statement(&format!(
                        "SELECT {COMMENT_COLUMNS} FROM comments c {AUTHOR_JOIN} \
                         WHERE c.site_id = ?1 AND c.post_id = ?2 AND c.serial <= ?3 \
                         AND c.deleted_at IS NULL ORDER BY c.serial DESC LIMIT ?4"
                    ))
                    .bind(self.post_id)
                    .bind(before.map_or(MAX_SAFE_INTEGER, |b| b - 1))
                    .bind(limit + 1),
            )
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = more.then(|| rows.last().map(|r| r.serial)).flatten();
        Ok((rows, next))
    }
}
