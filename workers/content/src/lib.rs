//! The content worker: owns posts, publishing, ratings, read counts and activity.
//! Reached only through the gateway's service binding (see docs/adr/0001);
//! every request runs through the shared scaffold `sealpost_cf::domain`. The
//! logic lives in `sealpost-content-core`; this file wires it to D1, the
//! clock, WebCrypto randomness and the access-token keys (fetched from auth
//! through the `AUTH` service binding, `sealpost_cf::auth`).
use sealpost_api::routes::Service;
use sealpost_cf::domain::{self, DomainRequest, Failure, Outcome};
use sealpost_cf::{CryptoRng, D1Sql, SystemClock, http, log};
use sealpost_content_core::publish;
use sealpost_content_core::service::{Content, Fault, Input};
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

/// Dispatches a catalogue route of this worker. Ratings, views and
/// activity answer 501 `NOT_IMPLEMENTED` until they land.
async fn handle(mut r: DomainRequest, env: &Env) -> Outcome {
    let sql = D1Sql(env.d1(domain::DB_BINDING)?);
    let authorization = http::header(&r.req, "authorization");
    let if_none_match = http::header(&r.req, "if-none-match");
    // Keys only for editor routes that carry a token: public reads never
    // wait for (or depend on) auth.
    let verifier = match authorization.as_deref() {
        Some(a) if r.route.pattern.starts_with("/admin/") => {
            Some(sealpost_cf::auth::verifier(env, &r.site, &r.request_id, Some(a)).await?)
        }
        _ => None,
    };
    let body = r.req.bytes().await?;
    let content = Content {
        db: SiteDb::new(&sql, r.site.clone()),
        clock: &SystemClock,
        rng: &CryptoRng,
        verifier: verifier.as_deref(),
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
        })
        .await
        .map_err(|fault| match fault {
            Fault::Api(e) => Failure::Api(e),
            Fault::Port(e) => Failure::Internal(e.to_string()),
        })
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
