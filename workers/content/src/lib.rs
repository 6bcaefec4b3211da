//! The content worker: owns posts, publishing, ratings, read counts and activity.
//! Reached only through the gateway's service binding (see docs/adr/0001);
//! every request runs through the shared scaffold `sealpost_cf::domain`. The
//! logic lives in `sealpost-content-core`; this file wires it to D1, the
//! clock, WebCrypto randomness and the access-token keys (fetched from auth
//! through the `AUTH` service binding, `sealpost_cf::auth`).
//!
//! `GET /posts/{slug}` is also kept in this data centre's edge cache
//! (`sealpost_cf::page_cache`, docs/adr/0011): a hit costs no D1 read. Every
//! admin change of a post, and the cron's publishing, deletes the entries of
//! every slug the post has or had; ratings and views do not (their counts in
//! a cached copy may lag up to its max-age, 60 s).
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpost_api::ApiResponse;
use sealpost_api::routes::{RouteId, Service};
use sealpost_cf::domain::{self, DomainRequest, Failure, Outcome};
use sealpost_cf::{CryptoRng, D1Sql, SystemClock, WorkersRateLimiter, http, log, page_cache};
use sealpost_content_core::cache::{PUBLIC_CACHE_CONTROL, none_match};
use sealpost_content_core::model::{self, LANGS};
use sealpost_content_core::publish;
use sealpost_content_core::service::{Content, Input, post_slugs};
use sealpost_ports::{Clock, SiteDb, SiteId};
use worker::{Context, Env, Request, Response, Result, event};

const SERVICE: Service = Service::Content;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    domain::serve(
        req,
        SERVICE,
        || domain::standard_health(&env, SERVICE, true),
        |r| handle(r, &env, &ctx),
    )
    .await
}

/// The per-IP throttle of `POST /posts/{id}/views` (wrangler.toml).
const VIEWS_LIMITER: &str = "VIEWS_LIMITER";

/// The response header that says whether the edge cache answered.
const CACHE_STATUS: &str = "X-Sealpost-Cache";

/// Dispatches a catalogue route of this worker.
async fn handle(mut r: DomainRequest, env: &Env, ctx: &Context) -> Outcome {
    let sql = D1Sql(env.d1(domain::DB_BINDING)?);
    let authorization = http::header(&r.req, "authorization");
    let if_none_match = http::header(&r.req, "if-none-match");
    let route = r.route.id;
    // The edge cache of the public single post: a hit answers here.
    let cache_key = (route == RouteId::PostGet).then(|| post_key(&r)).flatten();
    if let Some(key) = &cache_key
        && let Some(hit) = page_cache::get(key).await
    {
        return Ok(cached(hit, if_none_match.as_deref(), "hit"));
    }
    let mutation = is_post_mutation(route);
    // A PATCH may rename slugs: note the old ones (only for a caller with
    // a token; without one the change is refused anyway).
    let before = match (route, r.params.get("id")) {
        (RouteId::AdminPostUpdate, Some(id)) if authorization.is_some() => {
            post_slugs(&SiteDb::new(&sql, r.site.clone()), id).await?
        }
        _ => Vec::new(),
    };
    let is_view = route == RouteId::PostView;
    // Keys only for token-carrying requests off the public reads: those
    // never wait for (or depend on) auth. A view's token is optional, so
    // keys that cannot be had only mean the read is not attributed.
    let verifier = match authorization.as_deref() {
        Some(a) if !matches!(route, RouteId::PostsList | RouteId::PostGet) => {
            match sealpost_cf::auth::verifier(env, &r.site, &r.request_id, Some(a)).await {
                Ok(v) => Some(v),
                Err(_) if is_view => None,
                Err(e) => return Err(e),
            }
        }
        _ => None,
    };
    let (visitor_key, limiter) = if is_view {
        (Some(visitor_key(env)?), Some(rate_limiter(env)?))
    } else {
        (None, None)
    };
    let body = r.req.bytes().await?;
    let content = Content {
        db: SiteDb::new(&sql, r.site.clone()),
        clock: &SystemClock,
        rng: &CryptoRng,
        verifier: verifier.as_deref(),
        visitor_key: visitor_key.as_deref(),
        views_limiter: limiter.as_ref(),
    };
    let resp = content
        .handle(Input {
            route: r.route.id,
            body: &body,
            authorization: authorization.as_deref(),
            id: r.params.get("id"),
            slug: r.params.get("slug"),
            query: &r.query,
            // With the edge cache, the 304 is decided below, on the full answer.
            if_none_match: if cache_key.is_some() {
                None
            } else {
                if_none_match.as_deref()
            },
            client_ip: &r.client_ip,
        })
        .await
        .map_err(Failure::from)?;
    if let Some(key) = cache_key {
        if resp.status == 200 {
            let copy = resp.clone();
            ctx.wait_until(async move { page_cache::put(key, &copy).await });
        }
        return Ok(cached(resp, if_none_match.as_deref(), "miss"));
    }
    if mutation && (200..300).contains(&resp.status) {
        let mut slugs = before;
        slugs.extend(response_slugs(&resp));
        purge(&r.site, slugs).await;
    }
    Ok(resp)
}

/// The admin routes that change what `GET /posts/{slug}` answers.
fn is_post_mutation(route: RouteId) -> bool {
    matches!(
        route,
        RouteId::AdminPostUpdate
            | RouteId::AdminPostPublish
            | RouteId::AdminPostSchedule
            | RouteId::AdminPostUnpublish
            | RouteId::AdminPostDelete
    )
}

/// The edge-cache key of `GET /posts/{slug}?lang=`: the site, the slug and
/// the language (empty without one; nothing else of the query matters).
/// `None` for what content-core refuses (a bad language or slug): those are
/// never cached.
fn post_key(r: &DomainRequest) -> Option<String> {
    let slug = r.params.get("slug")?;
    let lang = match r.query.get("lang") {
        None => "",
        Some(l) => LANGS.iter().copied().find(|x| *x == l)?,
    };
    model::is_slug(slug, model::SLUG_MAX).then(|| slug_key(&r.site, slug, lang))
}

fn slug_key(site: &SiteId, slug: &str, lang: &str) -> String {
    page_cache::key(site, &format!("/posts/{slug}"), &format!("lang={lang}"))
}

/// The client's answer for a public post from the edge cache's point of
/// view: a 200 with `ETag` and `Cache-Control`, or a 304 when
/// `If-None-Match` matches; `X-Sealpost-Cache` says `hit` or `miss`.
fn cached(resp: ApiResponse, if_none_match: Option<&str>, state: &str) -> ApiResponse {
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

/// The slugs in a mutation's answer (`data.translations.<lang>.slug`).
fn response_slugs(resp: &ApiResponse) -> Vec<String> {
    let Some(body) = resp.body_json() else {
        return Vec::new();
    };
    LANGS
        .iter()
        .filter_map(|l| body["data"]["translations"][l]["slug"].as_str())
        .map(str::to_owned)
        .collect()
}

/// Deletes this data centre's cached answers of every slug in `slugs`, with
/// and without `lang`.
async fn purge(site: &SiteId, mut slugs: Vec<String>) {
    slugs.sort();
    slugs.dedup();
    let keys: Vec<String> = slugs
        .iter()
        .flat_map(|s| {
            std::iter::once("")
                .chain(LANGS)
                .map(move |l| slug_key(site, s, l))
        })
        .collect();
    page_cache::delete(&keys).await;
}

/// `VISITOR_KEY`: 32 bytes, base64url (README, secrets).
fn visitor_key(env: &Env) -> std::result::Result<Vec<u8>, Failure> {
    let text = env
        .secret("VISITOR_KEY")
        .map(|s| s.to_string())
        .unwrap_or_default();
    URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| {
            Failure::Internal("VISITOR_KEY is missing or not 32 bytes of base64url".into())
        })
}

fn rate_limiter(env: &Env) -> std::result::Result<WorkersRateLimiter, Failure> {
    env.rate_limiter(VIEWS_LIMITER)
        .map(WorkersRateLimiter)
        .map_err(|e| Failure::Internal(format!("{VIEWS_LIMITER}: {e}")))
}

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    domain::run_cron(&env, SERVICE, &event.cron(), async {
        let sql = D1Sql(env.d1(domain::DB_BINDING)?);
        let published = publish::publish_due(&sql, &CryptoRng, SystemClock.now_ms()).await?;
        // A newly public post may take over the `lang`-less key of a slug
        // another post shares: purge its slugs like an editor's publish.
        for p in &published {
            let Ok(site) = SiteId::parse(&p.site_id) else {
                continue;
            };
            let slugs = post_slugs(&SiteDb::new(&sql, site.clone()), &p.id).await?;
            purge(&site, slugs).await;
        }
        log::line("info", "scheduled posts")
            .field(
                "published",
                published
                    .iter()
                    .map(|p| format!("{}/{}", p.site_id, p.id))
                    .collect::<Vec<_>>(),
            )
            .emit();
        Ok(())
    })
    .await;
}
