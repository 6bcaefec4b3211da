//! The auth worker: owns accounts, the sealed handshake, tokens, sessions, MFA, roles and the audit log.
//! Reached only through the gateway's service binding (see docs/adr/0001);
//! every request runs through the shared scaffold `sealpost_cf::domain`.
use sealpost_api::routes::Service;
use sealpost_cf::domain::{self, DomainRequest, Outcome};
use worker::{Context, Env, Request, Response, Result, event};

const SERVICE: Service = Service::Auth;

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

/// Dispatches a catalogue route of this worker. Routes whose issue has not
/// landed yet answer 501 `NOT_IMPLEMENTED`.
async fn handle(_r: DomainRequest, _env: &Env) -> Outcome {
    domain::not_implemented()
}

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    domain::run_cron(&env, SERVICE, &event.cron(), async { Ok(()) }).await;
}
