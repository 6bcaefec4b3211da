//! The content routes: public reads (`GET /posts`, `GET /posts/{slug}`)
//! and the editors' admin routes. Platform-free: everything goes through the
//! ports, so the whole flow runs natively against SQLite in tests. Contract:
//! API.md (Content); decisions where it is silent: docs/api.md (Content),
//! docs/adr/0011.
use sealpost_api::body::parse_json;
use sealpost_api::page::offset_page;
use sealpost_api::query::{OffsetPaging, Query};
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiResponse, ErrorCode, FieldError, PageInfo, Validator};
use sealpost_guard::{AccessClaims, Role, Verifier, live_caller, require_role, require_staff};
use sealpost_ports::{
    Clock, PortError, RateLimiter, Rng, SiteDb, Sql, SqlValue, parse_rfc3339, rfc3339,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cache;
use crate::model::{
    self, ActionInput, Author, CreateInput, LANGS, POST_COLUMNS, PatchInput, PostRow, PublicItem,
    QUERY_MAX, ScheduleInput, Status, Translation, TranslationRow,
};

pub use sealpost_api::Fault;

pub(crate) type Answer = Result<ApiResponse, Fault>;

/// One content request, after routing.
#[derive(Debug, Clone, Copy)]
pub struct Input<'r> {
    pub route: RouteId,
    /// The JSON body; may be empty.
    pub body: &'r [u8],
    /// The `Authorization` header.
    pub authorization: Option<&'r str>,
    /// The `{id}` path parameter.
    pub id: Option<&'r str>,
    /// The `{slug}` path parameter.
    pub slug: Option<&'r str>,
    pub query: &'r Query,
    /// The `If-None-Match` header.
    pub if_none_match: Option<&'r str>,
    /// The client's IP (the views throttle's key); may be empty.
    pub client_ip: &'r str,
}

/// The content service for one request.
pub struct Content<'a, S: Sql, C: Clock, R: Rng, L: RateLimiter> {
    pub db: SiteDb<'a, S>,
    pub clock: &'a C,
    pub rng: &'a R,
    /// The access-token keys; needed only by the editor and member routes
    /// (the worker fetches them from auth when a request carries a token).
    pub verifier: Option<&'a Verifier>,
    /// `VISITOR_KEY` (32 bytes), the key of the visitor-id hashes; needed
    /// only by `POST /posts/{id}/views`.
    pub visitor_key: Option<&'a [u8]>,
    /// The per-IP throttle of `POST /posts/{id}/views`; none: unthrottled.
    pub views_limiter: Option<&'a L>,
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter> std::fmt::Debug for Content<'_, S, C, R, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Content")
            .field("site", self.db.site())
            .finish_non_exhaustive()
    }
}

/// A post's state transition (publish, schedule, unpublish, delete).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
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

pub(crate) fn not_found() -> Fault {
    ApiError::not_found().with_message("No such post").into()
}

fn stale() -> Fault {
    ApiError::new(ErrorCode::UpdateConflict).into()
}

/// A body that may be absent (publish, unpublish).
fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(body)
}

fn check_version(v: &mut Validator, version: Option<i64>) {
    if let Some(version) = version {
        v.check(version >= 1, "version", "Must be an integer of at least 1");
    }
}

/// An FTS5 query for the words of `q`: each word quoted (no operator of the
/// user's reaches FTS5), all required, the last one as a prefix. `None` when
/// `q` has no word at all.
pub fn fts_query(q: &str) -> Option<String> {
    let words: Vec<&str> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .collect();
    let last = words.len().checked_sub(1)?;
    let parts: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == last {
                format!("\"{w}\"*")
            } else {
                format!("\"{w}\"")
            }
        })
        .collect();
    Some(parts.join(" "))
}

#[derive(Deserialize)]
pub(crate) struct Total {
    total: i64,
}

pub(crate) fn total(t: Option<Total>) -> u64 {
    t.map_or(0, |t| u64::try_from(t.total).unwrap_or(0))
}

pub(crate) fn offset(paging: &OffsetPaging) -> i64 {
    i64::try_from(paging.offset()).unwrap_or(i64::MAX)
}

/// A row of `GET /posts`.
#[derive(Deserialize)]
struct PublicRow {
    id: String,
    slug: String,
    lang: String,
    title: String,
    excerpt: String,
    #[serde(default)]
    body_html: String,
    published_at: Option<i64>,
    updated_at: i64,
    author_id: String,
    author_name: Option<String>,
    tags: String,
    rating_sum: i64,
    rating_count: i64,
    view_count: i64,
}

impl PublicRow {
    fn item(&self) -> PublicItem {
        PublicItem {
            id: self.id.clone(),
            slug: self.slug.clone(),
            lang: self.lang.clone(),
            title: self.title.clone(),
            excerpt: self.excerpt.clone(),
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
            published_at: model::published(self.published_at),
            author: Author {
                id: self.author_id.clone(),
                display_name: self.author_name.clone().unwrap_or_default(),
            },
            rating: model::rating(self.rating_sum, self.rating_count),
            views: u64::try_from(self.view_count).unwrap_or(0),
        }
    }
}

const PUBLIC_COLUMNS: &str = "p.id, t.slug, t.lang, t.title, t.excerpt, p.published_at, \
     p.updated_at, p.author_id, u.display_name AS author_name, \
     p.rating_sum, p.rating_count, p.view_count, \
     (SELECT json_group_array(tag) FROM (SELECT g.tag FROM post_tags g \
       WHERE g.post_id = p.id ORDER BY g.position)) AS tags";

const PUBLIC_FROM: &str = "FROM posts p \
     JOIN post_translations t ON t.post_id = p.id AND t.site_id = p.site_id \
     LEFT JOIN users u ON u.id = p.author_id AND u.site_id = p.site_id";

/// The URL of a language version (relative to the API's origin).
pub fn post_url(slug: &str, lang: &str) -> String {
    format!("/posts/{slug}?lang={lang}")
}

/// Every slug post `id` has now, in any language (the content worker purges
/// its edge-cache entries of `GET /posts/{slug}` after a change, docs/adr/0011).
pub async fn post_slugs<S: Sql>(db: &SiteDb<'_, S>, id: &str) -> Result<Vec<String>, PortError> {
    #[derive(Deserialize)]
    struct Row {
        slug: String,
    }
    let rows: Vec<Row> = db
        .query_as(
            &db.statement(
                "SELECT DISTINCT slug FROM post_translations WHERE site_id = ?1 AND post_id = ?2",
            )
            .bind(id),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.slug).collect())
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter> Content<'_, S, C, R, L> {
    /// Serves `input`.
    pub async fn handle(&self, input: Input<'_>) -> Answer {
        match input.route {
            RouteId::PostsList => self.public_list(input).await,
            RouteId::PostGet => self.public_get(input).await,
            RouteId::AdminPostsList => self.admin_list(input).await,
            RouteId::AdminPostCreate => self.create(input).await,
            RouteId::AdminPostUpdate => self.patch(input).await,
            RouteId::AdminPostPublish => self.action(input, Action::Publish).await,
            RouteId::AdminPostSchedule => self.action(input, Action::Schedule).await,
            RouteId::AdminPostUnpublish => self.action(input, Action::Unpublish).await,
            RouteId::AdminPostDelete => self.action(input, Action::Delete).await,
            RouteId::PostView => self.view(input).await,
            RouteId::PostRate => self.rate(input).await,
            RouteId::MeActivity => self.activity(input).await,
            _ => Err(ApiError::not_found().into()),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The caller of an editor route: a live session (docs/adr/0009) with
    /// the editor role (or admin) and a second factor.
    async fn editor(&self, input: Input<'_>) -> Result<AccessClaims, Fault> {
        let claims = self.caller(input).await?;
        require_staff(&claims, Role::Editor)?;
        Ok(claims)
    }

    /// The caller of a member route: a live session with any role (no
    /// second factor needed).
    pub(crate) async fn member(&self, input: Input<'_>) -> Result<AccessClaims, Fault> {
        let claims = self.caller(input).await?;
        require_role(&claims, Role::Member)?;
        Ok(claims)
    }

    /// The bearer token's claims, its session still live.
    pub(crate) async fn caller(&self, input: Input<'_>) -> Result<AccessClaims, Fault> {
        live_caller(self.verifier, input.authorization, &self.db, self.clock).await
    }

    // ---- reading rows ----------------------------------------------------

    async fn load(&self, id: &str) -> Result<Option<PostRow>, PortError> {
        self.db
            .query_one(
                &self
                    .db
                    .statement(&format!(
                        "SELECT {POST_COLUMNS} FROM posts p WHERE p.site_id = ?1 AND p.id = ?2"
                    ))
                    .bind(id),
            )
            .await
    }

    /// The post unless it is missing or deleted.
    async fn live(&self, id: &str) -> Result<PostRow, Fault> {
        match self.load(id).await? {
            Some(p) if p.status() != Some(Status::Deleted) => Ok(p),
            _ => Err(not_found()),
        }
    }

    async fn translations(&self, id: &str) -> Result<Vec<TranslationRow>, PortError> {
        self.db
            .query_as(
                &self
                    .db
                    .statement(
                        "SELECT lang, slug, title, excerpt, body, body_html FROM post_translations \
                         WHERE site_id = ?1 AND post_id = ?2 ORDER BY lang",
                    )
                    .bind(id),
            )
            .await
    }

    /// The admin object of post `id` as stored now.
    async fn admin_object(&self, id: &str) -> Result<Value, Fault> {
        let post = self.load(id).await?.ok_or_else(not_found)?;
        let translations = self.translations(id).await?;
        Ok(model::admin_view(&post, &translations, true))
    }

    /// 409 `CONFLICT` naming every slug another post holds in its language.
    async fn check_slugs_free(
        &self,
        translations: &[&Translation],
        own: &str,
    ) -> Result<(), Fault> {
        #[derive(Deserialize)]
        struct Holder {
            post_id: String,
        }
        let mut taken = Vec::new();
        for t in translations {
            let holder: Option<Holder> = self
                .db
                .query_one(
                    &self
                        .db
                        .statement(
                            "SELECT post_id FROM post_translations \
                             WHERE site_id = ?1 AND lang = ?2 AND slug = ?3",
                        )
                        .bind(t.lang)
                        .bind(t.slug.as_str()),
                )
                .await?;
            if holder.is_some_and(|h| h.post_id != own) {
                taken.push(FieldError::new(
                    format!("translations.{}.slug", t.lang),
                    "Is already used by another post in this language",
                ));
            }
        }
        if taken.is_empty() {
            return Ok(());
        }
        let mut e = ApiError::new(ErrorCode::Conflict).with_message("Slug already in use");
        e.errors = taken;
        Err(e.into())
    }

    fn slug_conflict() -> Fault {
        ApiError::new(ErrorCode::Conflict)
            .with_message("Slug already in use")
            .into()
    }

    // ---- public reads ------------------------------------------------------

    fn lang(query: &Query, v: &mut Validator) -> Option<&'static str> {
        let lang = query.get("lang")?;
        let found = LANGS.iter().copied().find(|l| *l == lang);
        if found.is_none() {
            v.one_of("lang", lang, &LANGS);
        }
        found
    }

    async fn public_list(&self, input: Input<'_>) -> Answer {
        let paging = OffsetPaging::from_query(input.query)?;
        let mut v = Validator::new();
        let lang = Self::lang(input.query, &mut v).unwrap_or("en");
        let tag = input.query.get_nonblank("tag").map(str::to_lowercase);
        if let Some(tag) = &tag {
            v.check(
                model::is_slug(tag, model::TAG_MAX),
                "tag",
                "Must be a tag: a-z, 0-9 and '-'",
            );
        }
        let q = input.query.get_nonblank("q");
        if let Some(q) = q {
            v.text_len("q", q, 1, QUERY_MAX);
        }
        v.finish()?;
        let fts = match q {
            Some(q) => match fts_query(q) {
                Some(m) => Some(m),
                // Nothing searchable: no result, no query.
                None => {
                    let resp =
                        ApiResponse::offset_list::<PublicItem>(&[], PageInfo::new(&paging, 0));
                    return Ok(cache::conditional(resp, input.if_none_match));
                }
            },
            None => None,
        };
        let mut filter =
            String::from("WHERE p.site_id = ?1 AND p.status = 'published' AND t.lang = ?2");
        let mut n = 2;
        if tag.is_some() {
            n += 1;
            filter.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM post_tags g WHERE g.site_id = ?1 \
                 AND g.post_id = p.id AND g.tag = ?{n})"
            ));
        }
        if fts.is_some() {
            n += 1;
            filter.push_str(&format!(
                " AND t.id IN (SELECT rowid FROM post_fts WHERE post_fts MATCH ?{n})"
            ));
        }
        let mut binds = vec![SqlValue::from(lang)];
        binds.extend(tag.as_deref().map(SqlValue::from));
        binds.extend(fts.as_deref().map(SqlValue::from));
        let (rows, page): (Vec<PublicRow>, _) = offset_page(
            &self.db,
            PUBLIC_COLUMNS,
            &format!("{PUBLIC_FROM} {filter}"),
            &binds,
            "p.published_at DESC, p.id DESC",
            &paging,
        )
        .await?;
        let items: Vec<PublicItem> = rows.iter().map(PublicRow::item).collect();
        let resp = ApiResponse::offset_list(&items, page);
        Ok(cache::conditional(resp, input.if_none_match))
    }

    async fn public_get(&self, input: Input<'_>) -> Answer {
        let mut v = Validator::new();
        let lang = Self::lang(input.query, &mut v);
        v.finish()?;
        let slug = input.slug.unwrap_or_default();
        if !model::is_slug(slug, model::SLUG_MAX) {
            return Err(not_found());
        }
        // Without `lang`, the slug in any language, English first.
        let stmt = match lang {
            Some(lang) => self
                .db
                .statement(&format!(
                    "SELECT {PUBLIC_COLUMNS}, t.body_html {PUBLIC_FROM} \
                     WHERE p.site_id = ?1 AND p.status = 'published' AND t.lang = ?2 AND t.slug = ?3"
                ))
                .bind(lang)
                .bind(slug),
            None => self
                .db
                .statement(&format!(
                    "SELECT {PUBLIC_COLUMNS}, t.body_html {PUBLIC_FROM} \
                     WHERE p.site_id = ?1 AND p.status = 'published' AND t.slug = ?2 \
                     ORDER BY t.lang = 'en' DESC LIMIT 1"
                ))
                .bind(slug),
        };
        let row: PublicRow = self.db.query_one(&stmt).await?.ok_or_else(not_found)?;
        #[derive(Deserialize)]
        struct Alt {
            lang: String,
            slug: String,
        }
        let alternates: Vec<Alt> = self
            .db
            .query_as(
                &self
                    .db
                    .statement(
                        "SELECT lang, slug FROM post_translations WHERE site_id = ?1 AND post_id = ?2 \
                         ORDER BY lang",
                    )
                    .bind(row.id.as_str()),
            )
            .await?;
        let item = row.item();
        let url = post_url(&row.slug, &row.lang);
        let json_ld = json!({
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            "headline": item.title,
            "description": item.excerpt,
            "inLanguage": item.lang,
            "datePublished": item.published_at,
            "dateModified": rfc3339(row.updated_at),
            "author": {"@type": "Person", "name": item.author.display_name},
            "keywords": item.tags.join(", "),
            "url": url,
            "mainEntityOfPage": url,
        });
        let mut data = serde_json::to_value(&item).map_err(|e| PortError::Decode(e.to_string()))?;
        data["bodyHtml"] = Value::String(row.body_html.clone());
        data["alternates"] = alternates
            .iter()
            .map(|a| json!({"lang": a.lang, "slug": a.slug, "url": post_url(&a.slug, &a.lang)}))
            .collect();
        data["jsonLd"] = json_ld;
        Ok(cache::conditional(
            ApiResponse::query(&data),
            input.if_none_match,
        ))
    }

    // ---- admin -------------------------------------------------------------

    async fn admin_list(&self, input: Input<'_>) -> Answer {
        self.editor(input).await?;
        let paging = OffsetPaging::from_query(input.query)?;
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
        let (posts, page): (Vec<PostRow>, _) = offset_page(
            &self.db,
            POST_COLUMNS,
            &format!("FROM posts p {filter}"),
            &binds,
            "p.updated_at DESC, p.id DESC",
            &paging,
        )
        .await?;
        // One query for the translations of the whole page.
        #[derive(Deserialize)]
        struct Row {
            post_id: String,
            #[serde(flatten)]
            t: TranslationRow,
        }
        let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
        let rows: Vec<Row> = if ids.is_empty() {
            Vec::new()
        } else {
            self.db
                .query_as(
                    &self
                        .db
                        .statement(
                            "SELECT post_id, lang, slug, title, excerpt FROM post_translations \
                             WHERE site_id = ?1 AND post_id IN (SELECT value FROM json_each(?2)) \
                             ORDER BY lang",
                        )
                        .bind(json!(ids).to_string()),
                )
                .await?
        };
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

    async fn create(&self, input: Input<'_>) -> Answer {
        let claims = self.editor(input).await?;
        let body: CreateInput = parse_json(input.body)?;
        let post = body.validate()?;
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

    async fn patch(&self, input: Input<'_>) -> Answer {
        self.editor(input).await?;
        let body: PatchInput = parse_json(input.body)?;
        let id = input.id.unwrap_or_default();
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
        for lang in LANGS {
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

    async fn action(&self, input: Input<'_>, action: Action) -> Answer {
        self.editor(input).await?;
        let id = input.id.unwrap_or_default();
        let mut v = Validator::new();
        let (version, publish_at) = match action {
            Action::Publish | Action::Unpublish => {
                let body: ActionInput = optional_body(input.body)?;
                (body.version, None)
            }
            Action::Schedule => {
                let body: ScheduleInput = parse_json(input.body)?;
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
