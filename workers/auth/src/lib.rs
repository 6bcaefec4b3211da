//! The auth worker: owns accounts, the sealed handshake, tokens, sessions, MFA,
//! roles and the audit log. Reached only through the gateway's service binding
//! (see docs/adr/0001); every request runs through the shared scaffold
//! `sealpost_cf::domain`. The logic, the sealed wiring included, lives in
//! `sealpost-auth-core` (`Endpoint`); this file reads the worker's bindings
//! and secrets and hands them over.
use std::cell::RefCell;
use std::rc::Rc;

use sealpost_api::routes::Service;
use sealpost_api::{ApiRequest, Failure, Outcome};
use sealpost_auth_core::password::PasswordPolicy;
use sealpost_auth_core::secrets::AuthSecrets;
use sealpost_auth_core::{Endpoint, KeyCache, SealSetup, keys, limits, replay, sessions};
use sealpost_cf::domain;
use sealpost_cf::{CryptoRng, D1Sql, SystemClock, log};
use sealpost_ports::Clock;
use worker::{Context, Env, Request, Response, Result, event};

const SERVICE: Service = Service::Auth;

thread_local! {
    /// This isolate's copy of the seal keys, shared by its requests (when to
    /// re-read them is `KeyCache`'s policy).
    static KEYS: Rc<KeyCache> = Rc::default();
    /// The secrets, parsed once per isolate (they change only with a deploy).
    static SECRETS: RefCell<Option<Rc<AuthSecrets>>> = const { RefCell::new(None) };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    domain::serve(req, SERVICE, false, || health(&env), |r| handle(r, &env)).await
}

async fn health(env: &Env) -> sealpost_api::health::HealthReport {
    let mut report = domain::standard_health(env, SERVICE, true).await;
    let seal = match D1Sql::from_env(env) {
        Ok(sql) => {
            endpoint(env, &sql, &KEYS.with(Rc::clone))
                .seal_health()
                .await
        }
        Err(f) => sealpost_api::health::Indicator::down(&f.cause().unwrap_or_default()),
    };
    report.add("seal", seal);
    report
}

async fn handle(r: ApiRequest, env: &Env) -> Outcome {
    let sql = D1Sql::from_env(env)?;
    let keys = KEYS.with(Rc::clone);
    endpoint(env, &sql, &keys).serve(&r).await
}

fn endpoint<'a>(
    env: &Env,
    sql: &'a D1Sql,
    keys: &'a KeyCache,
) -> Endpoint<'a, D1Sql, SystemClock, CryptoRng> {
    Endpoint {
        sql,
        clock: &SystemClock,
        rng: &CryptoRng,
        keys,
        seal: seal_setup(env),
        secrets: secrets(env),
        policy: PasswordPolicy::default(),
    }
}

fn text(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

/// `SEAL_KEY_WRAP`, `SEAL_KEY_WRAP_PREVIOUS`, `SEAL_ROTATE_HOURS`,
/// `SEAL_GRACE_MINUTES`.
fn seal_setup(env: &Env) -> std::result::Result<SealSetup, Failure> {
    SealSetup::from_values(
        text(env, "SEAL_KEY_WRAP").as_deref(),
        text(env, "SEAL_KEY_WRAP_PREVIOUS").as_deref(),
        text(env, "SEAL_ROTATE_HOURS").as_deref(),
        text(env, "SEAL_GRACE_MINUTES").as_deref(),
    )
}

/// `JWT_SIGNING_KEY` (only auth holds it), `AUTH_DATA_KEY` and the optional
/// `PASSWORD_PEPPER`.
fn secrets(env: &Env) -> std::result::Result<Rc<AuthSecrets>, Failure> {
    if let Some(s) = SECRETS.with(|c| c.borrow().clone()) {
        return Ok(s);
    }
    let parsed = AuthSecrets::from_values(
        &text(env, "JWT_SIGNING_KEY").unwrap_or_default(),
        &text(env, "AUTH_DATA_KEY").unwrap_or_default(),
        text(env, "PASSWORD_PEPPER").as_deref(),
    )
    .map_err(|e| Failure::Config(e.to_string()))?;
    let parsed = Rc::new(parsed);
    SECRETS.with(|c| *c.borrow_mut() = Some(parsed.clone()));
    Ok(parsed)
}

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    domain::run_cron(&env, SERVICE, &event.cron(), async {
        let sql = D1Sql::from_env(&env)?;
        let seal = seal_setup(&env)?;
        let rotation =
            keys::rotate(&sql, &SystemClock, &CryptoRng, &seal.wrap, seal.policy).await?;
        let purged = replay::purge(&sql, SystemClock.now_secs()).await?;
        let now = SystemClock.now_ms();
        let counters = limits::purge(&sql, now).await?;
        let ended = sessions::purge(&sql, now).await?;
        log::line("info", "seal keys")
            .field("created", rotation.created.map(u64::from))
            .field(
                "destroyed",
                rotation
                    .destroyed
                    .iter()
                    .map(|k| u64::from(*k))
                    .collect::<Vec<_>>(),
            )
            .field("keysUnderPreviousWrap", rotation.under_previous_wrap)
            .field("noncesPurged", purged)
            .field("countersPurged", counters)
            .field("sessionRowsPurged", ended)
            .emit();
        Ok(())
    })
    .await;
}
