//! The content worker: owns posts, publishing, ratings, read counts and activity.
//! Reached only through the gateway's service binding (see docs/adr/0001);
//! every request runs through the shared scaffold `sealpost_cf::domain`. The
//! logic, the edge cache of public posts included, lives in
//! `sealpost-content-core`; this file wires it to D1, the clock, WebCrypto
//! randomness, the data centre's cache, the site worker's page purge (the
//! `SITE` service binding, `sealpost_cf::site_purge`), the views limiter,
//! `VISITOR_KEY` and the access-token keys (fetched from auth through the
//! `AUTH` service binding, `sealpost_cf::auth`).
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpost_api::routes::Service;
use sealpost_api::{ApiRequest, Failure, Outcome};
use sealpost_cf::domain;
use sealpost_cf::{
    CryptoRng, D1Sql, EdgePageCache, SiteWorkerPurge, SystemClock, WorkersRateLimiter, log,
};
use sealpost_content_core::service::{Content, is_view, key_need};
use sealpost_content_core::{publish, stale};
use sealpost_ports::{Clock, SiteDb};
use worker::{Context, Env, Request, Response, Result, event};

const SERVICE: Service = Service::Content;

/// The per-IP throttle of `POST /posts/{id}/views` (wrangler.toml).
const VIEWS_LIMITER: &str = "VIEWS_LIMITER";

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    domain::serve(
        req,
        SERVICE,
        false,
        || domain::standard_health(&env, SERVICE, true),
        |r| handle(r, &env, &ctx),
    )
    .await
}

async fn handle(r: ApiRequest, env: &Env, ctx: &Context) -> Outcome {
    let sql = D1Sql::from_env(env)?;
    let verifier = sealpost_cf::auth::keys_for(env, &r, key_need(&r)).await?;
    let (visitor_key, limiter) = if is_view(&r) {
        (Some(visitor_key(env)?), Some(rate_limiter(env)?))
    } else {
        (None, None)
    };
    let pages = EdgePageCache::for_request(ctx);
    let site_purge = SiteWorkerPurge::from_env(env);
    Content {
        db: SiteDb::new(&sql, r.site.clone()),
        clock: &SystemClock,
        rng: &CryptoRng,
        verifier: verifier.as_deref(),
        visitor_key: visitor_key.as_deref(),
        views_limiter: limiter.as_ref(),
        pages: &pages,
        site_purge: &site_purge,
    }
    .serve(&r)
    .await
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
            Failure::Config("VISITOR_KEY is missing or not 32 bytes of base64url".into())
        })
}

fn rate_limiter(env: &Env) -> std::result::Result<WorkersRateLimiter, Failure> {
    env.rate_limiter(VIEWS_LIMITER)
        .map(WorkersRateLimiter)
        .map_err(|e| Failure::Config(format!("binding {VIEWS_LIMITER}: {e}")))
}

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    domain::run_cron(&env, SERVICE, &event.cron(), async {
        let sql = D1Sql::from_env(&env)?;
        let published = publish::publish_due(&sql, &CryptoRng, SystemClock.now_ms()).await?;
        stale::purge_published(
            &sql,
            &EdgePageCache::purge_only(),
            &SiteWorkerPurge::from_env(&env),
            &published,
        )
        .await?;
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
