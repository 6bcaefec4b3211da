//! The edge cache of the public single post (`GET /posts/{slug}`,
//! docs/adr/0011), kept in each data centre through the [`PageCache`] port:
//! a hit costs no D1 read.
//!
//! - The key is the site, the slug and the language (empty without one;
//!   nothing else of the query matters). What content refuses (a bad
//!   language or slug) is never cached.
//! - Only 200 answers are stored, with their `Content-Type` and `ETag`, for
//!   [`STORE_MAX_AGE_SECS`]; the client's 304 is decided on the full answer,
//!   hit or miss, and `X-Sealpost-Cache` says which.
//! - Every admin change of a post, and the cron's publishing, deletes the
//!   entries of every slug the post has or had, with and without `lang`
//!   (with the site's pages that show it: [`crate::stale`]); ratings and
//!   views do not (their counts in a cached copy may lag up to the entry's
//!   lifetime).
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, ApiResponse, Outcome};
use sealpost_ports::{Clock, PageCache, RateLimiter, Rng, SiteId, SitePurge, Sql};

use crate::cache::{PUBLIC_CACHE_CONTROL, none_match};
use sealpost_api::Locale;

use crate::model;
use crate::service::Content;

/// The host of every key; not a real origin.
const KEY_ORIGIN: &str = "https://content-cache.internal";

/// How long a stored copy lives (it bounds the staleness of every entry).
pub const STORE_MAX_AGE_SECS: u32 = 60;

/// The headers of an answer that are stored (the rest is rebuilt).
const KEPT: [&str; 2] = ["content-type", "etag"];

/// The response header that says whether the edge cache answered.
pub const CACHE_STATUS: &str = "X-Sealpost-Cache";

/// The key of post `slug` in `lang` (empty: without `lang`) of `site`.
pub fn key(site: &SiteId, slug: &str, lang: &str) -> String {
    format!("{KEY_ORIGIN}/{}/posts/{slug}?lang={lang}", site.as_str())
}

/// The key of a `GET /posts/{slug}` request; `None` for any other route
/// and for what content refuses (those are never cached).
pub fn request_key(req: &ApiRequest) -> Option<String> {
    if req.id() != RouteId::PostGet {
        return None;
    }
    let slug = req.param("slug")?;
    let lang = match req.query.get("lang") {
        None => "",
        Some(l) => Locale::parse(l)?.as_str(),
    };
    model::is_slug(slug, model::SLUG_MAX).then(|| key(&req.site, slug, lang))
}

/// The admin routes that change what `GET /posts/{slug}` answers.
pub fn is_post_mutation(route: RouteId) -> bool {
    matches!(
        route,
        RouteId::AdminPostUpdate
            | RouteId::AdminPostPublish
            | RouteId::AdminPostSchedule
            | RouteId::AdminPostUnpublish
            | RouteId::AdminPostDelete
    )
}

/// The client's answer for a public post: a 200 with `ETag` and
/// `Cache-Control`, or a 304 when `If-None-Match` matches; `state` (`hit` or
/// `miss`) in `X-Sealpost-Cache`.
pub fn conditional(resp: ApiResponse, if_none_match: Option<&str>, state: &str) -> ApiResponse {
    let Some(tag) = resp
        .header("etag")
        .filter(|_| resp.status == 200)
        .map(str::to_owned)
    else {
        return resp.with_header(CACHE_STATUS, state);
    };
    let resp = if if_none_match.is_some_and(|h| none_match(h, &tag)) {
        ApiResponse::empty(304).with_header("ETag", tag)
    } else if resp.header("cache-control").is_some() {
        return resp.with_header(CACHE_STATUS, state);
    } else {
        resp
    };
    resp.with_header("Cache-Control", PUBLIC_CACHE_CONTROL)
        .with_header(CACHE_STATUS, state)
}

/// Deletes this data centre's entries of every slug in `slugs`, with and
/// without `lang`.
pub async fn purge(pages: &impl PageCache, site: &SiteId, mut slugs: Vec<String>) {
    slugs.sort();
    slugs.dedup();
    let keys: Vec<String> = slugs
        .iter()
        .flat_map(|s| {
            std::iter::once("")
                .chain(Locale::NAMES)
                .map(move |l| key(site, s, l))
        })
        .collect();
    if !keys.is_empty() {
        pages.delete(&keys).await;
    }
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge>
    Content<'_, S, C, R, L, P, U>
{
    /// Serves `req` with the edge cache: a cached public post answers
    /// without the database; a miss is stored; a change of a post goes
    /// through [`Content::serve_post_mutation`], which purges what it showed.
    pub async fn serve(&self, req: &ApiRequest) -> Outcome {
        let if_none_match = req.header("if-none-match");
        if let Some(key) = request_key(req) {
            if let Some(hit) = self.pages.get(&key).await {
                return Ok(conditional(
                    ApiResponse::from_cached(hit, &KEPT),
                    if_none_match,
                    "hit",
                ));
            }
            // The 304 is decided on the full answer, below.
            let resp = self.handle_unconditional(req).await?;
            if resp.status == 200 {
                self.pages
                    .put(key, resp.to_cached(&KEPT), STORE_MAX_AGE_SECS)
                    .await;
            }
            return Ok(conditional(resp, if_none_match, "miss"));
        }
        if is_post_mutation(req.id()) {
            return self.serve_post_mutation(req).await;
        }
        self.handle(req).await
    }
}
