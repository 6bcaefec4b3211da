//! The auth worker: owns accounts, the sealed handshake, tokens, sessions, MFA,
//! roles and the audit log. Reached only through the gateway's service binding
//! (see docs/adr/0001); every request runs through the shared scaffold
//! `sealpost_cf::domain`. The logic lives in `sealpost-auth-core`; this file
//! wires it to D1, the clock, WebCrypto randomness and the worker's secrets.
use std::cell::RefCell;

use sealpost_api::health::Indicator;
use sealpost_api::routes::{BodyPolicy, RouteId, Service};
use sealpost_api::{ApiError, ApiResponse, ErrorCode};
use sealpost_auth_core::seal_layer;
use sealpost_auth_core::{KeyCache, KeyPolicy, SealContext, WrapKey, keys, replay, tokens};
use sealpost_cf::domain::{self, DomainRequest, Failure, Outcome};
use sealpost_cf::{CryptoRng, D1Sql, SystemClock, log};
use sealpost_ports::Clock;
use worker::{Context, Env, Request, Response, Result, event};

const SERVICE: Service = Service::Auth;

thread_local! {
    /// This isolate's copy of the seal keys (re-read every 30 s or on an unknown kid).
    static KEYS: RefCell<KeyCache> = RefCell::default();
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

/// Runs `f` with this isolate's key cache taken out of its cell (no borrow
/// is held across an await), then puts it back.
async fn with_cache<T, F, Fut>(f: F) -> T
where
    F: FnOnce(KeyCache) -> Fut,
    Fut: std::future::Future<Output = (KeyCache, T)>,
{
    let cache = KEYS.with(|c| c.take());
    let (cache, out) = f(cache).await;
    KEYS.with(|c| *c.borrow_mut() = cache);
    out
}

async fn with_keys(
    p: &Platform,
    kid: Option<u8>,
) -> std::result::Result<std::rc::Rc<keys::KeyRing>, Failure> {
    with_cache(|mut cache| async move {
        let ring = cache
            .get(&p.sql, &SystemClock, &CryptoRng, &p.wrap, p.policy, kid)
            .await;
        (cache, ring)
    })
    .await
    .map_err(Failure::from)
}

/// Dispatches a catalogue route of this worker. Routes whose issue has not
/// landed yet answer 501 `NOT_IMPLEMENTED` (sealed, on sealed routes).
async fn handle(mut r: DomainRequest, env: &Env) -> Outcome {
    if r.route.id == RouteId::AuthKeys {
        let p = Platform::new(env)?;
        let ring = with_keys(&p, None).await?;
        let keys = ring.configs(SystemClock.now_ms());
        return Ok(ApiResponse::query(&serde_json::json!({ "keys": keys }))
            .with_header("Cache-Control", "public, max-age=60"));
    }
    if r.route.id == RouteId::AuthJwks {
        // Enveloped like every route but /health: {"data":{"keys":[JWK…]}}.
        let key = signing_key(env)?;
        return Ok(ApiResponse::query(&tokens::jwks(&[&key]))
            .with_header("Cache-Control", "public, max-age=300"));
    }
    if r.route.body == BodyPolicy::Sealed {
        let p = Platform::new(env)?;
        let body = r.req.bytes().await?;
        let method = r.route.method.as_str();
        let path = r.route.pattern;
        let ctx = p.context();
        let route = r.route.id;
        let answer = with_cache(|mut cache| async move {
            let out = seal_layer::serve(&ctx, &mut cache, method, path, &body, |plaintext| {
                sealed_route(route, plaintext)
            })
            .await;
            (cache, out)
        })
        .await?;
        return Ok(answer);
    }
    domain::not_implemented()
}

/// The access-token signing key, from the `JWT_SIGNING_KEY` secret (a P-256
/// scalar, 32 bytes base64url). Only auth holds it.
fn signing_key(env: &Env) -> std::result::Result<tokens::SigningKey, Failure> {
    env.secret("JWT_SIGNING_KEY")
        .ok()
        .and_then(|s| tokens::SigningKey::from_secret(&s.to_string()).ok())
        .ok_or_else(|| Failure::Internal("JWT_SIGNING_KEY is missing or not a P-256 scalar".into()))
}

/// The handlers of sealed routes, on the opened plaintext.
async fn sealed_route(_route: RouteId, _plaintext: zeroize::Zeroizing<Vec<u8>>) -> ApiResponse {
    ApiError::new(ErrorCode::NotImplemented).into_response()
}

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    domain::run_cron(&env, SERVICE, &event.cron(), async {
        let p = Platform::new(&env)?;
        let rotation = keys::rotate(&p.sql, &SystemClock, &CryptoRng, &p.wrap, p.policy).await?;
        let purged = replay::purge(&p.sql, SystemClock.now_secs()).await?;
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
            .field("noncesPurged", purged)
            .emit();
        Ok(())
    })
    .await;
}
