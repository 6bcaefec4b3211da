//! The auth worker: owns accounts, the sealed handshake, tokens, sessions, MFA,
//! roles and the audit log. Reached only through the gateway's service binding
//! (see docs/adr/0001); every request runs through the shared scaffold
//! `sealpost_cf::domain`. The logic lives in `sealpost-auth-core`; this file
//! wires it to D1, the clock, WebCrypto randomness and the worker's secrets.
use std::cell::RefCell;
use std::rc::Rc;

use sealpost_api::health::Indicator;
use sealpost_api::routes::{BodyPolicy, RouteId, Service};
use sealpost_api::{ApiError, ApiResponse};
use sealpost_auth_core::audit::Origin;
use sealpost_auth_core::password::PasswordPolicy;
use sealpost_auth_core::secrets::AuthSecrets;
use sealpost_auth_core::service::{Auth, Input};
use sealpost_auth_core::{KeyCache, KeyPolicy, SealContext, WrapKey, keys, replay, tokens};
use sealpost_auth_core::{limits, seal_layer, sessions};
use sealpost_cf::domain::{self, DomainRequest, Failure, Outcome};
use sealpost_cf::{CryptoRng, D1Sql, SystemClock, http, log};
use sealpost_ports::{Clock, SiteDb};
use worker::{Context, Env, Request, Response, Result, event};

const SERVICE: Service = Service::Auth;

thread_local! {
    /// This isolate's copy of the seal keys, shared by its requests (when to
    /// re-read them is `KeyCache`'s policy).
    static KEYS: Rc<KeyCache> = Rc::default();
}

/// This isolate's key cache (a handle: every request shares one cache).
fn key_cache() -> Rc<KeyCache> {
    KEYS.with(Rc::clone)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    domain::serve(req, SERVICE, || health(&env), |r| handle(r, &env)).await
}

async fn health(env: &Env) -> sealpost_api::health::HealthReport {
    let mut report = domain::standard_health(env, SERVICE, true).await;
    let seal = match Platform::new(env) {
        Ok(p) => match with_keys(&p, None).await {
            Ok(ring) => Indicator::up().with("keys", ring.kids().len()),
            Err(e) => Indicator::down(&failure_text(&e)),
        },
        Err(e) => Indicator::down(&failure_text(&e)),
    };
    report.add("seal", seal);
    report
}

fn failure_text(f: &Failure) -> String {
    match f {
        Failure::Api(e) => e.message.clone(),
        Failure::Internal(cause) => cause.clone(),
    }
}

/// The bindings and secrets the handshake needs.
struct Platform {
    sql: D1Sql,
    wrap: WrapKey,
    policy: KeyPolicy,
}

impl Platform {
    fn new(env: &Env) -> std::result::Result<Self, Failure> {
        let wrap = env
            .secret("SEAL_KEY_WRAP")
            .ok()
            .and_then(|s| WrapKey::from_secret(&s.to_string()))
            .ok_or_else(|| {
                Failure::Internal("SEAL_KEY_WRAP is missing or not 32 bytes of base64url".into())
            })?;
        // Optional (blank = unset): the replaced wrap secret, while keys
        // wrapped under it remain.
        let previous = env
            .secret("SEAL_KEY_WRAP_PREVIOUS")
            .ok()
            .map(|s| s.to_string())
            .filter(|s| !s.trim().is_empty());
        let wrap = match previous {
            None => wrap,
            Some(previous) => {
                wrap.with_previous(WrapKey::from_secret(&previous).ok_or_else(|| {
                    Failure::Internal(
                        "SEAL_KEY_WRAP_PREVIOUS is set but not 32 bytes of base64url".into(),
                    )
                })?)
            }
        };
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
        Ok(Self {
            sql: D1Sql(env.d1(domain::DB_BINDING)?),
            wrap,
            policy: KeyPolicy::from_vars(
                var("SEAL_ROTATE_HOURS").as_deref(),
                var("SEAL_GRACE_MINUTES").as_deref(),
            ),
        })
    }

    fn context(&self) -> SealContext<'_, D1Sql, SystemClock, CryptoRng> {
        SealContext {
            sql: &self.sql,
            clock: &SystemClock,
            rng: &CryptoRng,
            wrap: &self.wrap,
            policy: self.policy,
        }
    }
}

async fn with_keys(
    p: &Platform,
    kid: Option<u8>,
) -> std::result::Result<Rc<keys::KeyRing>, Failure> {
    key_cache()
        .get(&p.sql, &SystemClock, &CryptoRng, &p.wrap, p.policy, kid)
        .await
        .map_err(Failure::from)
}

/// Dispatches a catalogue route of this worker.
async fn handle(mut r: DomainRequest, env: &Env) -> Outcome {
    if r.route.id == RouteId::AuthKeys {
        let p = Platform::new(env)?;
        let ring = with_keys(&p, None).await?;
        let keys = ring.configs(SystemClock.now_ms());
        return Ok(ApiResponse::query(&serde_json::json!({ "keys": keys }))
            .with_header("Cache-Control", "public, max-age=60"));
    }
    let secrets = secrets(env)?;
    if r.route.id == RouteId::AuthJwks {
        // Enveloped like every route but /health: {"data":{"keys":[JWK…]}}.
        return Ok(ApiResponse::query(&tokens::jwks(&[&secrets.signing]))
            .with_header("Cache-Control", "public, max-age=300"));
    }
    let p = Platform::new(env)?;
    let authorization = http::header(&r.req, "authorization");
    let user_agent = http::header(&r.req, "user-agent").unwrap_or_default();
    let body = r.req.bytes().await?;
    let auth = Auth {
        db: SiteDb::new(&p.sql, r.site.clone()),
        clock: &SystemClock,
        rng: &CryptoRng,
        secrets: &secrets,
        origin: Origin::new(&r.request_id, secrets.ip_hash(&r.client_ip), &user_agent),
        policy: PasswordPolicy::default(),
    };
    let (r, authorization, auth) = (&r, authorization.as_deref(), &auth);
    if r.route.body != BodyPolicy::Sealed {
        return auth
            .handle(input(r, authorization, &body))
            .await
            .map_err(Failure::from);
    }
    let ctx = p.context();
    let (method, path) = (r.route.method.as_str(), r.route.pattern);
    let request_id = r.request_id.as_str();
    let cache = key_cache();
    let answer = seal_layer::serve(&ctx, &cache, method, path, &body, |plaintext| async move {
        // Sealed answers carry internal failures sealed, like any other.
        match auth.handle(input(r, authorization, &plaintext)).await {
            Ok(resp) => resp,
            Err(fault) => match Failure::from(fault) {
                Failure::Api(e) => e.into_response(),
                Failure::Internal(cause) => {
                    log::internal_failure(SERVICE.as_str(), request_id, path, cause);
                    ApiError::internal(Some(request_id.to_owned())).into_response()
                }
            },
        }
    })
    .await?;
    Ok(answer)
}

fn input<'r>(r: &'r DomainRequest, authorization: Option<&'r str>, body: &'r [u8]) -> Input<'r> {
    Input {
        route: r.route.id,
        body,
        authorization,
        id: r.params.get("id"),
        query: &r.query,
    }
}

thread_local! {
    /// The secrets, parsed once per isolate (they change only with a deploy).
    static SECRETS: RefCell<Option<Rc<AuthSecrets>>> = const { RefCell::new(None) };
}

/// The auth secrets: `JWT_SIGNING_KEY` (only auth holds it),
/// `AUTH_DATA_KEY` and the optional `PASSWORD_PEPPER`.
fn secrets(env: &Env) -> std::result::Result<Rc<AuthSecrets>, Failure> {
    if let Some(s) = SECRETS.with(|c| c.borrow().clone()) {
        return Ok(s);
    }
    let text = |name: &str| env.secret(name).ok().map(|s| s.to_string());
    let parsed = AuthSecrets::from_values(
        &text("JWT_SIGNING_KEY").unwrap_or_default(),
        &text("AUTH_DATA_KEY").unwrap_or_default(),
        text("PASSWORD_PEPPER").as_deref(),
    )
    .map_err(|e| Failure::Internal(e.to_string()))?;
    let parsed = Rc::new(parsed);
    SECRETS.with(|c| *c.borrow_mut() = Some(parsed.clone()));
    Ok(parsed)
}

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    domain::run_cron(&env, SERVICE, &event.cron(), async {
        let p = Platform::new(&env)?;
        let rotation = keys::rotate(&p.sql, &SystemClock, &CryptoRng, &p.wrap, p.policy).await?;
        let purged = replay::purge(&p.sql, SystemClock.now_secs()).await?;
        let now = SystemClock.now_ms();
        let counters = limits::purge(&p.sql, now).await?;
        let ended = sessions::purge(&p.sql, now).await?;
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
