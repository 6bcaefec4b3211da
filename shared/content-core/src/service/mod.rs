//! The content routes: public reads (`GET /posts`, `GET /posts/{slug}`)
//! and the editors' admin routes. Platform-free: everything goes through the
//! ports, so the whole flow runs natively against SQLite in tests.
//! Decisions where the API contract is silent: docs/api.md (Content),
//! docs/adr/0011.
use sealpost_api::body::parse_json;
use sealpost_api::query::OffsetPaging;
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode, FieldError, Locale, Validator};
use sealpost_guard::{
    AccessClaims, KeyNeed, Role, Verifier, live_caller, require_role, require_staff,
};
use sealpost_ports::{
    BaseUrl, Clock, PageCache, PortError, RateLimiter, Rng, SiteDb, SitePurge, Sql,
};
use serde::Deserialize;
use serde_json::Value;

use crate::model::{self, POST_COLUMNS, PostRow, Status, Translation, TranslationRow};

pub use sealpost_api::Failure;

mod admin;
mod editor_reads;
mod public;

use admin::Action;

pub(crate) type Answer = Result<ApiResponse, Failure>;

/// Whether `req` needs the access-token keys: only a token-carrying request
/// off the public reads (those never wait for, or depend on, auth). A
/// view's token is optional: keys that cannot be had only mean the read is
/// not attributed.
pub fn key_need(req: &ApiRequest) -> KeyNeed {
    match req.id() {
        _ if req.authorization().is_none() => KeyNeed::None,
        RouteId::PostsList | RouteId::PostGet => KeyNeed::None,
        RouteId::PostView => KeyNeed::BestEffort,
        _ => KeyNeed::Required,
    }
}

/// Whether `req` is a read view (it needs `VISITOR_KEY` and the views
/// limiter).
pub fn is_view(req: &ApiRequest) -> bool {
    req.id() == RouteId::PostView
}

/// The content service for one request.
pub struct Content<'a, S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge> {
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
    /// This data centre's cache of public answers (`GET /posts/{slug}`).
    pub pages: &'a P,
    /// The site worker's cached pages, purged after a post changes.
    pub site_purge: &'a U,
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge> std::fmt::Debug
    for Content<'_, S, C, R, L, P, U>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Content")
            .field("site", self.db.site())
            .finish_non_exhaustive()
    }
}

pub(crate) fn not_found() -> Failure {
    ApiError::not_found().with_message("No such post").into()
}

fn stale() -> Failure {
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

/// The API's URL of a language version (relative to the API's origin).
pub fn api_url(slug: &str, lang: &str) -> String {
    format!("/posts/{slug}?lang={lang}")
}

/// The site page of a language version: absolute under the site's base
/// URL, or the bare path for a site that has none (relative to its origin).
pub fn page_url(base: Option<&BaseUrl>, lang: Locale, slug: &str) -> String {
    let path = sealpost_api::pages::post_path(lang, slug);
    match base {
        Some(base) => format!("{base}{path}"),
        None => path,
    }
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge>
    Content<'_, S, C, R, L, P, U>
{
    /// Serves `input` (without the edge cache: [`Content::serve`] adds it).
    pub async fn handle(&self, input: &ApiRequest) -> Answer {
        match input.id() {
            RouteId::PostsList => self.public_list(input).await,
            RouteId::PostGet => self.public_get(input, input.header("if-none-match")).await,
            RouteId::AdminPostsList => self.admin_list(input).await,
            RouteId::AdminPostCreate => self.create(input).await,
            RouteId::AdminPostUpdate => self.patch(input).await,
            RouteId::AdminPostPublish => self.action(input, Action::Publish).await,
            RouteId::AdminPostSchedule => self.action(input, Action::Schedule).await,
            RouteId::AdminPostUnpublish => self.action(input, Action::Unpublish).await,
            RouteId::AdminPostDelete => self.action(input, Action::Delete).await,
            RouteId::AdminPostGet => self.admin_get(input).await,
            RouteId::AdminPreview => self.preview(input).await,
            RouteId::PostView => self.view(input).await,
            RouteId::PostRate => self.rate(input).await,
            RouteId::MeActivity => self.activity(input).await,
            _ => Err(ApiError::not_found().into()),
        }
    }

    /// `GET /posts/{slug}` answered in full, never as a 304: what the edge
    /// cache stores.
    pub(crate) async fn handle_unconditional(&self, input: &ApiRequest) -> Answer {
        self.public_get(input, None).await
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The caller of an editor route: a live session (docs/adr/0009) with
    /// the editor role (or admin) and a second factor.
    async fn editor(&self, input: &ApiRequest) -> Result<AccessClaims, Failure> {
        let claims = self.caller(input).await?;
        require_staff(&claims, Role::Editor)?;
        Ok(claims)
    }

    /// The caller of a member route: a live session with any role (no
    /// second factor needed).
    pub(crate) async fn member(&self, input: &ApiRequest) -> Result<AccessClaims, Failure> {
        let claims = self.caller(input).await?;
        require_role(&claims, Role::Member)?;
        Ok(claims)
    }

    /// The bearer token's claims, its session still live.
    pub(crate) async fn caller(&self, input: &ApiRequest) -> Result<AccessClaims, Failure> {
        live_caller(self.verifier, input.authorization(), &self.db, self.clock).await
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
    async fn live(&self, id: &str) -> Result<PostRow, Failure> {
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
    async fn admin_object(&self, id: &str) -> Result<Value, Failure> {
        let post = self.load(id).await?.ok_or_else(not_found)?;
        let translations = self.translations(id).await?;
        Ok(model::admin_view(&post, &translations, true))
    }

    /// 409 `CONFLICT` naming every slug another post holds in its language.
    async fn check_slugs_free(
        &self,
        translations: &[&Translation],
        own: &str,
    ) -> Result<(), Failure> {
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

    fn slug_conflict() -> Failure {
        ApiError::new(ErrorCode::Conflict)
            .with_message("Slug already in use")
            .into()
    }
}
