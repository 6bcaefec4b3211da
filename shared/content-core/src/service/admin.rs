//! The editors' routes: the admin list, create, patch (optimistic
//! concurrency on `version`) and the state transitions (publish, schedule,
//! unpublish, delete).

use sealpost_api::body::parse_json;
use sealpost_api::query::OffsetPaging;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode, Locale, PageInfo, Validator};
use sealpost_ports::{
    Clock, PageCache, PortError, RateLimiter, Rng, SitePurge, Sql, SqlValue, parse_rfc3339,
};
use serde::Deserialize;
use serde_json::Value;

use super::{Answer, Content, check_version, fts_query, optional_body, stale};
use crate::model::{
    self, ActionInput, CreateInput, POST_COLUMNS, PatchInput, PostRow, QUERY_MAX, ScheduleInput,
    Status, Translation, TranslationRow,
};

/// A post's state transition (publish, schedule, unpublish, delete).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Publish,
    Schedule,
    Unpublish,
    Delete,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Schedule => "schedule",
            Action::Unpublish => "unpublish",
            Action::Delete => "delete",
        }
    }

    /// The `SET` of its UPDATE (`?3` is now, `?6` the publish time).
    fn set(self) -> &'static str {
        match self {
            Action::Publish => "status = 'published', publish_at = NULL, published_at = ?3",
            Action::Schedule => "status = 'scheduled', publish_at = ?6, published_at = NULL",
            Action::Unpublish => "status = 'draft', publish_at = NULL, published_at = NULL",
            Action::Delete => "status = 'deleted', publish_at = NULL, deleted_at = ?3",
        }
    }

    /// The statuses it starts from.
    fn from(self) -> &'static str {
        match self {
            Action::Publish | Action::Schedule => "'draft', 'scheduled'",
            Action::Unpublish => "'published', 'scheduled'",
            Action::Delete => "'draft', 'scheduled', 'published'",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Action::Publish => "Post published",
            Action::Schedule => "Post scheduled",
            Action::Unpublish => "Post unpublished",
            Action::Delete => "Post deleted",
        }
    }
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge>
    Content<'_, S, C, R, L, P, U>
{
    // ---- admin -------------------------------------------------------------

    pub(super) async fn admin_list(&self, input: &ApiRequest) -> Answer {
        self.editor(input).await?;
        let paging = OffsetPaging::from_query(&input.query)?;
        let mut v = Validator::new();
        let status = input.query.get_nonblank("status");
        if let Some(status) = status {
            v.one_of("status", status, &Status::ALL.map(Status::as_str));
        }
        let q = input.query.get_nonblank("q");
        if let Some(q) = q {
            v.text_len("q", q, 1, QUERY_MAX);
        }
        v.finish()?;
        let fts = match q.map(fts_query) {
            Some(None) => {
                return Ok(ApiResponse::offset_list::<Value>(
                    &[],
                    PageInfo::new(&paging, 0),
                ));
            }
            Some(Some(m)) => Some(m),
            None => None,
        };
        // Without `status`: every post but the deleted ones.
        let mut filter = String::from("WHERE p.site_id = ?1");
        let mut n = 1;
        match status {
            Some(_) => {
                n += 1;
                filter.push_str(&format!(" AND p.status = ?{n}"));
            }
            None => filter.push_str(" AND p.status <> 'deleted'"),
        }
        if fts.is_some() {
            n += 1;
            filter.push_str(&format!(
                " AND p.id IN (SELECT t.post_id FROM post_translations t WHERE t.site_id = ?1 \
                 AND t.id IN (SELECT rowid FROM post_fts WHERE post_fts MATCH ?{n}))"
            ));
        }
        let mut binds: Vec<SqlValue> = status.map(SqlValue::from).into_iter().collect();
        binds.extend(fts.as_deref().map(SqlValue::from));
        let (posts, total): (Vec<PostRow>, _) = self
            .db
            .offset_page(
                POST_COLUMNS,
                &format!("FROM posts p {filter}"),
                &binds,
                "p.updated_at DESC, p.id DESC",
                paging.limit(),
                paging.offset(),
            )
            .await?;
        let page = PageInfo::new(&paging, total);
        // One query for the translations of the whole page.
        #[derive(Deserialize)]
        struct Row {
            post_id: String,
            #[serde(flatten)]
            t: TranslationRow,
        }
        let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
        let rows: Vec<Row> = self
            .db
            .query_for_ids(
                "SELECT post_id, lang, slug, title, excerpt FROM post_translations \
                 WHERE site_id = ?1 AND post_id IN (SELECT value FROM json_each(?2)) \
                 ORDER BY lang",
                &ids,
            )
            .await?;
        let items: Vec<Value> = posts
            .iter()
            .map(|p| {
                let mine: Vec<TranslationRow> = rows
                    .iter()
                    .filter(|r| r.post_id == p.id)
                    .map(|r| r.t.clone())
                    .collect();
                model::admin_view(p, &mine, false)
            })
            .collect();
        Ok(ApiResponse::offset_list(&items, page))
    }

    pub(super) async fn create(&self, input: &ApiRequest) -> Answer {
        let claims = self.editor(input).await?;
        let body: CreateInput = parse_json(&input.body)?;
        let post = model::NewPost::validate(&body)?;
        let id = self.rng.id()?;
        let refs: Vec<&Translation> = post.translations.iter().collect();
        self.check_slugs_free(&refs, &id).await?;
        let now = self.now();
        let mut batch = vec![
            self.db
                .statement(
                    "INSERT INTO posts (site_id, id, status, version, edit_id, author_id, \
                     created_at, updated_at) VALUES (?1, ?2, 'draft', 1, ?3, ?4, ?5, ?5)",
                )
                .bind(id.as_str())
                .bind(self.rng.id()?)
                .bind(claims.sub.as_str())
                .bind(now),
        ];
        for t in &post.translations {
            batch.push(
                self.db
                    .statement(
                        "INSERT INTO post_translations (site_id, post_id, lang, slug, title, \
                         excerpt, body, body_html) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )
                    .bind(id.as_str())
                    .bind(t.lang)
                    .bind(t.slug.as_str())
                    .bind(t.title.as_str())
                    .bind(t.excerpt.as_str())
                    .bind(t.body.as_str())
                    .bind(t.body_html.as_str()),
            );
        }
        for (i, tag) in post.tags.iter().enumerate() {
            batch.push(
                self.db
                    .statement(
                        "INSERT INTO post_tags (site_id, post_id, tag, position) \
                         VALUES (?1, ?2, ?3, ?4)",
                    )
                    .bind(id.as_str())
                    .bind(tag.as_str())
                    .bind(i64::try_from(i).unwrap_or(0)),
            );
        }
        match self.db.batch(&batch).await {
            Ok(_) => {}
            // A concurrent editor took a slug between the check and the write.
            Err(PortError::Constraint(_)) => return Err(Self::slug_conflict()),
            Err(e) => return Err(e.into()),
        }
        Ok(ApiResponse::mutation(
            201,
            "Post created",
            &self.admin_object(&id).await?,
        ))
    }

    pub(super) async fn patch(&self, input: &ApiRequest) -> Answer {
        self.editor(input).await?;
        let body: PatchInput = parse_json(&input.body)?;
        let id = input.param("id").unwrap_or_default();
        let mut v = Validator::new();
        check_version(&mut v, Some(body.version));
        let post = self.live(id).await?;
        let existing = self.translations(id).await?;
        // What each language becomes: unchanged, removed, or this version.
        enum Change {
            Keep,
            Remove,
            Write { t: Translation, insert: bool },
        }
        let mut changes = Vec::new();
        let mut remaining = 0;
        for lang in Locale::NAMES {
            let current = existing.iter().find(|t| t.lang == lang);
            let patch = body.translations.as_ref().and_then(|t| {
                if lang == "en" {
                    t.en.as_ref()
                } else {
                    t.vi.as_ref()
                }
            });
            let change = match (patch, current) {
                (None, _) => Change::Keep,
                (Some(None), _) => Change::Remove,
                (Some(Some(p)), cur) => {
                    let mut complete = true;
                    if cur.is_none() {
                        for (name, given) in [
                            ("title", p.title.is_some()),
                            ("slug", p.slug.is_some()),
                            ("body", p.body.is_some()),
                        ] {
                            complete &= given;
                            v.check(
                                given,
                                &format!("translations.{lang}.{name}"),
                                "Required when adding a language",
                            );
                        }
                    }
                    let pick = |new: &Option<String>, old: Option<&String>| {
                        new.clone().or_else(|| old.cloned()).unwrap_or_default()
                    };
                    let t = complete.then(|| {
                        model::translation(
                            &mut v,
                            lang,
                            &pick(&p.title, cur.map(|c| &c.title)),
                            &pick(&p.slug, cur.map(|c| &c.slug)),
                            &pick(&p.excerpt, cur.map(|c| &c.excerpt)),
                            &pick(&p.body, cur.map(|c| &c.body)),
                        )
                    });
                    match t.flatten() {
                        Some(t) => Change::Write {
                            t,
                            insert: cur.is_none(),
                        },
                        None => Change::Keep,
                    }
                }
            };
            let stays = match &change {
                Change::Keep => current.is_some(),
                Change::Remove => false,
                Change::Write { .. } => true,
            };
            remaining += usize::from(stays);
            let removes = matches!(change, Change::Remove) && current.is_some();
            if removes || matches!(change, Change::Write { .. }) {
                changes.push((lang, change));
            }
        }
        v.check(
            remaining > 0 || !v.is_empty(),
            "translations",
            "A post keeps at least one of: en, vi",
        );
        let tags = body.tags.as_ref().map(|raw| model::tags(&mut v, raw));
        v.finish()?;
        if post.version != body.version {
            return Err(stale());
        }
        let written: Vec<&Translation> = changes
            .iter()
            .filter_map(|(_, c)| match c {
                Change::Write { t, .. } => Some(t),
                _ => None,
            })
            .collect();
        self.check_slugs_free(&written, id).await?;

        let edit = self.rng.id()?;
        let now = self.now();
        // The version check; every later statement applies only if this one
        // changed the row (its edit mark is ours), so a stale edit writes
        // nothing at all.
        let mut batch = vec![
            self.db
                .statement(
                    "UPDATE posts SET version = version + 1, updated_at = ?3, edit_id = ?4 \
                     WHERE site_id = ?1 AND id = ?2 AND version = ?5 AND status <> 'deleted'",
                )
                .bind(id)
                .bind(now)
                .bind(edit.as_str())
                .bind(body.version),
        ];
        let ours = "EXISTS (SELECT 1 FROM posts WHERE site_id = ?1 AND id = ?2 AND edit_id = ?3)";
        for (lang, change) in &changes {
            match change {
                Change::Remove => batch.push(
                    self.db
                        .statement(&format!(
                            "DELETE FROM post_translations WHERE site_id = ?1 AND post_id = ?2 \
                             AND {ours} AND lang = ?4"
                        ))
                        .bind(id)
                        .bind(edit.as_str())
                        .bind(*lang),
                ),
                Change::Write { t, insert } => {
                    // The same nine values; either applies only if the edit (`?3`) is ours.
                    let sql = if *insert {
                        "INSERT INTO post_translations (site_id, post_id, lang, slug, title, \
                         excerpt, body, body_html) SELECT ?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9 \
                         FROM posts WHERE site_id = ?1 AND id = ?2 AND edit_id = ?3"
                            .to_owned()
                    } else {
                        format!(
                            "UPDATE post_translations SET slug = ?5, title = ?6, excerpt = ?7, \
                             body = ?8, body_html = ?9 \
                             WHERE site_id = ?1 AND post_id = ?2 AND {ours} AND lang = ?4"
                        )
                    };
                    batch.push(
                        self.db
                            .statement(&sql)
                            .bind(id)
                            .bind(edit.as_str())
                            .bind(*lang)
                            .bind(t.slug.as_str())
                            .bind(t.title.as_str())
                            .bind(t.excerpt.as_str())
                            .bind(t.body.as_str())
                            .bind(t.body_html.as_str()),
                    );
                }
                Change::Keep => {}
            }
        }
        if let Some(tags) = &tags {
            batch.push(
                self.db
                    .statement(&format!(
                        "DELETE FROM post_tags WHERE site_id = ?1 AND post_id = ?2 AND {ours}"
                    ))
                    .bind(id)
                    .bind(edit.as_str()),
            );
            for (i, tag) in tags.iter().enumerate() {
                batch.push(
                    self.db
                        .statement(
                            "INSERT INTO post_tags (site_id, post_id, tag, position) \
                             SELECT ?1, ?2, ?4, ?5 FROM posts \
                             WHERE site_id = ?1 AND id = ?2 AND edit_id = ?3",
                        )
                        .bind(id)
                        .bind(edit.as_str())
                        .bind(tag.as_str())
                        .bind(i64::try_from(i).unwrap_or(0)),
                );
            }
        }
        let results = match self.db.batch(&batch).await {
            Ok(r) => r,
            Err(PortError::Constraint(_)) => return Err(Self::slug_conflict()),
            Err(e) => return Err(e.into()),
        };
        if results.first().is_none_or(|r| r.changes != 1) {
            // Lost to a concurrent change (or the post was deleted meanwhile).
            self.live(id).await?;
            return Err(stale());
        }
        Ok(ApiResponse::mutation(
            200,
            "Post updated",
            &self.admin_object(id).await?,
        ))
    }

    pub(super) async fn action(&self, input: &ApiRequest, action: Action) -> Answer {
        self.editor(input).await?;
        let id = input.param("id").unwrap_or_default();
        let mut v = Validator::new();
        let (version, publish_at) = match action {
            Action::Publish | Action::Unpublish => {
                let body: ActionInput = optional_body(&input.body)?;
                (body.version, None)
            }
            Action::Schedule => {
                let body: ScheduleInput = parse_json(&input.body)?;
                let at = parse_rfc3339(&body.publish_at);
                match at {
                    None => v.add("publishAt", "Must be an RFC 3339 date-time"),
                    Some(at) => v.check(at > self.now(), "publishAt", "Must be in the future"),
                }
                (body.version, at)
            }
            Action::Delete => (None, None),
        };
        check_version(&mut v, version);
        v.finish()?;
        let mut stmt = self
            .db
            .statement(&format!(
                "UPDATE posts SET {}, version = version + 1, updated_at = ?3, edit_id = ?4 \
                 WHERE site_id = ?1 AND id = ?2 AND status IN ({}) AND (?5 IS NULL OR version = ?5)",
                action.set(),
                action.from()
            ))
            .bind(id)
            .bind(self.now())
            .bind(self.rng.id()?)
            .bind(version);
        if let Some(at) = publish_at {
            stmt = stmt.bind(at);
        }
        let changed = self.db.execute(&stmt).await?;
        if changed.changes != 1 {
            let post = self.live(id).await?;
            if version.is_some_and(|v| v != post.version) {
                return Err(stale());
            }
            return Err(ApiError::new(ErrorCode::Conflict)
                .with_message(format!(
                    "A {} post cannot be {}ed",
                    post.status,
                    action.verb().trim_end_matches('e')
                ))
                .into());
        }
        Ok(ApiResponse::mutation(
            200,
            action.message(),
            &self.admin_object(id).await?,
        ))
    }
}
