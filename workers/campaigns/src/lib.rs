//! The campaigns worker: owns subscribers, campaigns and their delivery ledger.
//! Reached only through the gateway's service binding (see docs/adr/0001);
//! every request runs through the shared scaffold `sealpost_cf::domain`. The
//! logic lives in `sealpost-campaigns-core`; this file wires it to D1, the
//! clock, WebCrypto randomness, the `JOBS` queue, the email provider, the
//! Turnstile verifier and the access-token keys (from auth, through the
//! `AUTH` binding).
//!
//! Three entry points: `fetch` (the routes), `queue` (the delivery consumer
//! and the dead-letter consumer) and `scheduled` (the reconciliation cron).
//! With `DEV_MODE` on, the provider is the local fake (`outbox`, read back
//! through `GET /__dev/mail`) and Turnstile takes the contract's dev tokens.
mod adapters;

use sealpost_api::routes::{RouteId, Service};
use sealpost_api::{ApiRequest, Failure, Outcome};
use sealpost_campaigns_core::campaigns::{Sending, TestSends};
use sealpost_campaigns_core::delivery::{self, Verdict};
use sealpost_campaigns_core::keys::CampaignKeys;
use sealpost_campaigns_core::ports::{DevTurnstile, Job};
use sealpost_campaigns_core::settings::Settings;
use sealpost_campaigns_core::subscribers::Subscriptions;
use sealpost_campaigns_core::{access, bot_check};
use sealpost_campaigns_core::{cron, outbox};
use sealpost_cf::domain;
use sealpost_cf::{CryptoRng, D1Sql, PlatformResult, SystemClock, WorkersRateLimiter, log};
use sealpost_ports::{Clock, SiteDb};
use worker::{
    Context, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Request, Response, Result,
    event,
};

use adapters::{AnyMailer, AnyTurnstile, CfQueue, TimerPause};

const SERVICE: Service = Service::Campaigns;

/// The per-IP throttle of `POST /subscribe` (wrangler.toml).
const SUBSCRIBE_LIMITER: &str = "SUBSCRIBE_LIMITER";
/// The delivery queue's producer binding.
const JOBS: &str = "JOBS";
/// The dead-letter queue's name (wrangler.toml).
const DEAD_LETTER_QUEUE: &str = "sealpost-campaign-jobs-dlq";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    domain::serve(
        req,
        SERVICE,
        dev_mode(&env),
        || domain::standard_health(&env, SERVICE, true),
        |r| handle(r, &env),
    )
    .await
}

/// `DEV_MODE` is `true` or `1`.
fn dev_mode(env: &Env) -> bool {
    env.var("DEV_MODE")
        .map(|v| matches!(v.to_string().trim(), "true" | "1"))
        .unwrap_or(false)
}

fn text(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .filter(|s| !s.trim().is_empty())
}

fn settings(env: &Env) -> Settings {
    Settings::from_vars(|name| text(env, name))
}

/// `CAMPAIGNS_KEY` (README, secrets).
fn keys(env: &Env) -> std::result::Result<CampaignKeys, Failure> {
    CampaignKeys::from_secret(&text(env, "CAMPAIGNS_KEY").unwrap_or_default())
        .map_err(|e| Failure::Config(e.to_string()))
}

/// Dispatches a catalogue route of this worker.
async fn handle(r: ApiRequest, env: &Env) -> Outcome {
    let dev = dev_mode(env);
    let sql = D1Sql::from_env(env)?;
    let route = r.id();
    let verifier = sealpost_cf::auth::keys_for(env, &r, access::key_need(&r)).await?;
    match route {
        RouteId::DevMail => return outbox::dev_mail(&sql, &r.query).await,
        RouteId::DevMailFaults => return outbox::set_fault(&sql, &r.body).await,
        _ if access::is_campaign_admin(&r) => {
            let queue = CfQueue(env.queue(JOBS).platform()?);
            let settings = settings(env);
            let sending = Sending {
                db: SiteDb::new(&sql, r.site.clone()),
                clock: &SystemClock,
                rng: &CryptoRng,
                queue: &queue,
                verifier: verifier.as_deref(),
                settings: &settings,
            };
            return sending.handle(&r).await;
        }
        _ => {}
    }
    let keys = keys(env)?;
    let limiter = if route == RouteId::Subscribe {
        Some(
            env.rate_limiter(SUBSCRIBE_LIMITER)
                .map(WorkersRateLimiter)
                .map_err(|e| Failure::Config(format!("binding {SUBSCRIBE_LIMITER}: {e}")))?,
        )
    } else {
        None
    };
    let db = SiteDb::new(&sql, r.site.clone());
    let mailer = AnyMailer::new(env, &sql, dev);
    let settings = settings(env);
    if route == RouteId::AdminCampaignTest {
        let tests = TestSends {
            db,
            rate_sql: &sql,
            settings: &settings,
            pause: &TimerPause,
            clock: &SystemClock,
            rng: &CryptoRng,
            keys: &keys,
            mailer: &mailer,
            verifier: verifier.as_deref(),
        };
        return tests.handle(&r).await;
    }
    // Locally the dev tokens count as solved on a host of the request's site.
    let dev_turnstile = if dev {
        Some(DevTurnstile::solved_on(
            bot_check::dev_page_host(&db).await?,
        ))
    } else {
        None
    };
    let turnstile = AnyTurnstile::new(dev_turnstile, text(env, "TURNSTILE_SECRET"));
    let subscriptions = Subscriptions {
        db,
        rate_sql: &sql,
        settings: &settings,
        pause: &TimerPause,
        clock: &SystemClock,
        rng: &CryptoRng,
        keys: &keys,
        turnstile: &turnstile,
        mailer: &mailer,
        limiter: limiter.as_ref(),
        verifier: verifier.as_deref(),
        dev,
    };
    subscriptions.handle(&r).await
}

/// The delivery consumer (`sealpost-campaign-jobs`) and the dead-letter
/// consumer. Each message is acked or retried on its own; a `Crash` verdict
/// (a dev fault: the consumer dies between the provider's answer and
/// recording it) fails the whole invocation, as a real crash would — every
/// message of the batch not yet acked is delivered again.
#[event(queue)]
async fn queue(batch: MessageBatch<Job>, env: Env, _ctx: Context) -> Result<()> {
    let sql = D1Sql(env.d1(domain::DB_BINDING)?);
    let dead = batch.queue() == DEAD_LETTER_QUEUE;
    let dev = dev_mode(&env);
    let settings = settings(&env);
    let keys = keys(&env).map_err(|e| worker::Error::RustError(format!("{e:?}")))?;
    let mailer = AnyMailer::new(&env, &sql, dev);
    for message in batch.messages()? {
        let job = message.body();
        if dead {
            match delivery::dead_letter(&sql, job).await {
                Ok(()) => {
                    log::line("error", "campaign job dead-lettered")
                        .field("site", job.site.as_str())
                        .field("campaign", job.campaign.as_str())
                        .field("rows", job.subscribers.len())
                        .emit();
                    message.ack();
                }
                Err(e) => {
                    log::line("error", "dead-letter handling failed")
                        .field("cause", e.to_string())
                        .emit();
                    message.retry();
                }
            }
            continue;
        }
        let verdict = delivery::deliver(
            &sql,
            &SystemClock,
            &CryptoRng,
            &keys,
            &mailer,
            &settings,
            job,
            dev,
        )
        .await;
        match verdict {
            Ok(Verdict::Ack) => message.ack(),
            Ok(Verdict::Retry { delay_secs }) => {
                log::line("warn", "campaign job retried")
                    .field("campaign", job.campaign.as_str())
                    .field("delaySecs", delay_secs)
                    .emit();
                message.retry_with_options(
                    &QueueRetryOptionsBuilder::new()
                        .with_delay_seconds(delay_secs)
                        .build(),
                );
            }
            Ok(Verdict::Crash) => {
                log::line("error", "campaign consumer crashed (dev fault)")
                    .field("campaign", job.campaign.as_str())
                    .emit();
                return Err(worker::Error::RustError("injected consumer crash".into()));
            }
            Err(e) => {
                log::line("error", "campaign job failed")
                    .field("campaign", job.campaign.as_str())
                    .field("cause", e.to_string())
                    .emit();
                message.retry();
            }
        }
    }
    Ok(())
}

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    domain::run_cron(&env, SERVICE, &event.cron(), async {
        let sql = D1Sql::from_env(&env)?;
        let queue = CfQueue(env.queue(JOBS).platform()?);
        let report = cron::reconcile(&sql, &queue, &settings(&env), SystemClock.now_ms()).await?;
        log::line("info", "campaigns reconciled")
            .field("started", report.started)
            .field("resumed", report.resumed)
            .field("reclaimed", report.reclaimed)
            .field("finished", report.finished)
            .field("abandoned", report.abandoned)
            .emit();
        Ok(())
    })
    .await;
}
