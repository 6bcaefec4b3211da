//! The content worker: owns posts, publishing, ratings, read counts and activity.
//! Reached only through the gateway's service binding (see docs/adr/0001);
//! every request runs through the shared scaffold `sealpost_cf::domain`. The
//! logic lives in `sealpost-content-core`; this file wires it to D1, the
//! clock, WebCrypto randomness and the access-token keys (fetched from auth
//! through the `AUTH` service binding, `sealpost_cf::auth`).
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpost_api::routes::{RouteId, Service};
use sealpost_cf::domain::{self, DomainRequest, Failure, Outcome};
use sealpost_cf::{CryptoRng, D1Sql, SystemClock, WorkersRateLimiter, http, log};
use sealpost_content_core::publish;
use sealpost_content_core::service::{Content, Input};
use sealpost_ports::{Clock, SiteDb};
use worker::{Context, Env, Request, Response, Result, event};

const SERVICE: Service = Service::Content;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    domain::serve(
        req,
        SERVICE,
        || domain::standard_health(&env, SERVICE, true),
        |r| handle(r, &env),
    )
    .await
}

/// The per-IP throttle of `POST /posts/{id}/views` (wrangler.toml).
const VIEWS_LIMITER: &str = "VIEWS_LIMITER";

/// Dispatches a catalogue route of this worker.
async fn handle(mut r: DomainRequest, env: &Env) -> Outcome {
    let sql = D1Sql(env.d1(domain::DB_BINDING)?);
    let authorization = http::header(&r.req, "authorization");
    let if_none_match = http::header(&r.req, "if-none-match");
    let route = r.route.id;
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
    content
        .handle(Input {
            route: r.route.id,
            body: &body,
            authorization: authorization.as_deref(),
            id: r.params.get("id"),
            slug: r.params.get("slug"),
            query: &r.query,
            if_none_match: if_none_match.as_deref(),
            client_ip: &r.client_ip,
        })
        .await
        .map_err(Failure::from)
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
