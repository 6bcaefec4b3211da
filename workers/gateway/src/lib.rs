//! The gateway worker: the one public entry. It gives every request an id,
//! applies the coarse per-client rate limit, resolves the route in the shared
//! catalogue (its dev-only routes only in dev mode) and the site from the
//! host, enforces the route's body policy, answers `/health` (from a
//! per-isolate report of a few seconds) and CORS preflights itself, checks
//! once per isolate that every site has a usable base URL, forwards
//! everything else to the owning domain worker over its service binding, and
//! finishes every response with the security headers. The decisions live in
//! `sealpost-edge`; this file only wires them to the platform.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::StreamExt;
use futures_util::future::join_all;
use sealpost_api::health::{HealthReport, Indicator};
use sealpost_api::routes::{BodyPolicy, RouteSpec, Service};
use sealpost_api::{ApiError, ApiResponse, ErrorCode, Failure};
use sealpost_cf::{
    CfKv, CryptoRng, D1Sql, PlatformResult, SystemClock, WorkersRateLimiter, http, log,
};
use sealpost_cf::{domain, upstream};
use sealpost_edge::health::{self, Downstream, HealthCache, Workers};
use sealpost_edge::route::{self, Decision};
use sealpost_edge::site::{self, SiteCache};
use sealpost_edge::{EdgeConfig, body, cors, forward, headers, ip, limit};
use sealpost_ports::{Clock, Rng, SiteId};
use worker::{
    Context, Env, Headers, Request, RequestInit, Response, ResponseBuilder, Result, event,
};

/// The `[[ratelimits]]` binding.
const LIMITER_BINDING: &str = "EDGE_LIMITER";

thread_local! {
    /// Host → site answers, per isolate.
    static SITES: RefCell<SiteCache> = RefCell::default();
    /// The last `/health` report, per isolate (`sealpost_edge::health::CACHE_TTL_MS`).
    static HEALTH: Rc<RefCell<HealthCache>> = Rc::default();
    /// Whether this isolate has run its start-up configuration check.
    static CHECKED_AT_START: Cell<bool> = const { Cell::new(false) };
}

/// Once per isolate, after its first answer: logs an error naming every site
/// without a base URL its links may use (`/health` reports it too).
async fn check_sites_at_start(env: Env, dev_mode: bool) {
    let sites = match env.d1(domain::DB_BINDING) {
        Ok(db) => health::check_sites(&D1Sql(db), dev_mode).await,
        Err(e) => Indicator::down(&format!("binding {}: {e}", domain::DB_BINDING)),
    };
    if !sites.up {
        log::line("error", "configuration: sites without a usable base URL")
            .field("service", "gateway")
            .field("sites", serde_json::Value::Object(sites.details))
            .emit();
    }
}

/// A response on its way out: built here, or relayed from a domain worker.
enum Reply {
    Local(ApiResponse),
    Relayed(Response),
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Self {
        Reply::Local(e.into_response())
    }
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let started = SystemClock.now_ms();
    let request_id = CryptoRng.token(16).unwrap_or_else(|_| "-".to_owned());
    let config = EdgeConfig::from_vars(|k| env.var(k).ok().map(|v| v.to_string()));
    if !CHECKED_AT_START.replace(true) {
        ctx.wait_until(check_sites_at_start(env.clone(), config.dev_mode));
    }
    let cors_origin =
        cors::allowed_origin(&config, http::header(&req, "origin").as_deref()).map(str::to_owned);
    let method_name = req.inner().method();
    let path = req.path();

    let mut upstream = None;
    let reply = match handle(req, &env, &config, &request_id, &mut upstream).await {
        Ok(reply) => reply,
        Err(f) => Reply::Local(domain::answer_failure("gateway", &request_id, &path, f)),
    };
    let response = finish(reply, &request_id, cors_origin.as_deref())?;
    let mut line = log::line("info", "request")
        .field("service", "gateway")
        .field("requestId", request_id)
        .field("method", method_name)
        .field("path", path)
        .field("status", response.status_code())
        .field("durMs", SystemClock.now_ms() - started);
    if let Some(service) = upstream {
        line = line.field("upstream", service);
    }
    line.emit();
    Ok(response)
}

async fn handle(
    mut req: Request,
    env: &Env,
    config: &EdgeConfig,
    request_id: &str,
    upstream: &mut Option<&'static str>,
) -> std::result::Result<Reply, Failure> {
    let path = req.path();
    let method = http::method(&req);

    let client = ip::client_key(http::header(&req, http::HEADER_CLIENT_IP).as_deref());
    rate_limit(env, &client).await?;

    let route = match route::decide(config, method, &path) {
        Decision::Forward { route, .. } => route,
        Decision::Page { session } => {
            let site = resolve_site(&req, env).await?;
            let body = if session {
                read_body(&mut req, SESSION_BODY).await?
            } else {
                Vec::new()
            };
            *upstream = Some(Service::Site.as_str());
            return relay_page(req, env, &site, &client, request_id, session, body).await;
        }
        Decision::Health => {
            let report = health(env, config, request_id).await;
            return Ok(Reply::Local(report.into_response()));
        }
        Decision::Preflight { allow } => {
            return Ok(Reply::Local(cors::preflight(
                config,
                http::header(&req, "origin").as_deref(),
                http::header(&req, "access-control-request-method").as_deref(),
                &allow,
            )));
        }
        Decision::MethodNotAllowed { allow } => {
            return Ok(ApiError::method_not_allowed(allow).into());
        }
        Decision::NotFound => return Ok(ApiError::not_found().into()),
    };

    let site = resolve_site(&req, env).await?;
    let body = read_body(&mut req, route.body).await?;

    *upstream = Some(route.service.as_str());
    relay(req, env, route, &site, &client, request_id, body).await
}

async fn rate_limit(env: &Env, client: &str) -> std::result::Result<(), Failure> {
    let verdict = match env.rate_limiter(LIMITER_BINDING) {
        Ok(binding) => limit::check(&WorkersRateLimiter(binding), client).await,
        Err(e) => limit::Verdict::LimiterDown(e.to_string()),
    };
    match verdict {
        limit::Verdict::Allowed => Ok(()),
        limit::Verdict::Limited(e) => Err(e.into()),
        limit::Verdict::LimiterDown(cause) => {
            log::line("warn", "rate limiter unavailable; request allowed")
                .field("cause", cause)
                .emit();
            Ok(())
        }
    }
}

async fn resolve_site(req: &Request, env: &Env) -> std::result::Result<SiteId, Failure> {
    let host = http::header(req, "host")
        .or_else(|| req.url().ok().and_then(|u| u.host_str().map(str::to_owned)))
        .and_then(|h| site::normalize_host(&h))
        .ok_or_else(|| ApiError::new(ErrorCode::SiteNotFound))?;
    let now = SystemClock.now_ms();
    let cached = SITES.with(|c| c.borrow().get(&host, now));
    let found = match cached {
        Some(found) => found,
        None => {
            let found = site::lookup(&D1Sql::from_env(env)?, &host).await?;
            SITES.with(|c| c.borrow_mut().put(&host, found.clone(), now));
            found
        }
    };
    found.ok_or_else(|| ApiError::new(ErrorCode::SiteNotFound).into())
}

/// Reads the body within the route's limit, refusing early on what the
/// headers declare and streaming so an undeclared oversize body is cut off.
async fn read_body(req: &mut Request, policy: BodyPolicy) -> std::result::Result<Vec<u8>, Failure> {
    let content_type = http::header(req, "content-type");
    let declared = http::header(req, "content-length").and_then(|l| l.trim().parse::<u64>().ok());
    body::check_declared(policy, content_type.as_deref(), declared)?;
    if policy == BodyPolicy::None && declared.unwrap_or(0) == 0 && req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let limit = policy.max_bytes();
    let mut bytes = Vec::new();
    let mut stream = req.stream().platform()?;
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.platform()?);
        if bytes.len() > limit {
            break;
        }
    }
    body::check_body(policy, content_type.as_deref(), &bytes)?;
    Ok(bytes)
}

async fn relay(
    req: Request,
    env: &Env,
    route: &RouteSpec,
    site: &SiteId,
    client: &str,
    request_id: &str,
    body: Vec<u8>,
) -> std::result::Result<Reply, Failure> {
    let headers = forward::headers(
        &http::header_pairs(req.headers()),
        request_id,
        site,
        client,
        route.id,
    );
    send(&req, env, route.service, headers, body, request_id).await
}

/// Sends `req` on to `service` with `headers` and `body`; an unreachable
/// worker is 503 `UPSTREAM_UNAVAILABLE`.
async fn send(
    req: &Request,
    env: &Env,
    service: Service,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    request_id: &str,
) -> std::result::Result<Reply, Failure> {
    let fetcher = env.service(upstream::binding(service)).platform()?;
    let out = Headers::new();
    for (name, value) in headers {
        out.append(&name, &value).platform()?;
    }
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(out);
    if !body.is_empty() {
        init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    }
    let query = http::raw_query(req);
    let url = format!(
        "https://{}.internal{}{}{}",
        service.as_str(),
        req.path(),
        if query.is_empty() { "" } else { "?" },
        query
    );
    let forwarded = Request::new_with_init(&url, &init).platform()?;
    match fetcher.fetch_request(forwarded).await {
        Ok(resp) => Ok(Reply::Relayed(resp)),
        Err(e) => {
            log::line("error", "upstream unreachable")
                .field("requestId", request_id)
                .field("upstream", service.as_str())
                .field("cause", e.to_string())
                .emit();
            Ok(ApiError::new(ErrorCode::UpstreamUnavailable).into())
        }
    }
}

/// What a session endpoint's `POST` may carry: optional JSON, small.
const SESSION_BODY: BodyPolicy = BodyPolicy::Json {
    max_bytes: route::SESSION_BODY_MAX,
    required: false,
};

/// Forwards a page request to the site worker.
async fn relay_page(
    req: Request,
    env: &Env,
    site: &SiteId,
    client: &str,
    request_id: &str,
    session: bool,
    body: Vec<u8>,
) -> std::result::Result<Reply, Failure> {
    let headers = forward::page_headers(
        &http::header_pairs(req.headers()),
        request_id,
        site,
        client,
        session,
    );
    send(&req, env, Service::Site, headers, body, request_id).await
}

/// The domain workers' `/health`, over their service bindings, at once.
struct BoundWorkers<'a>(&'a Env);

impl Workers for BoundWorkers<'_> {
    async fn reports(&self) -> Vec<(String, Downstream)> {
        let env = self.0;
        let calls = Service::BEHIND_GATEWAY.iter().map(|service| async move {
            let result = match env.service(upstream::binding(*service)) {
                Ok(fetcher) => match fetcher.fetch("https://internal/health", None).await {
                    Ok(mut resp) => Downstream::Answered {
                        status: resp.status_code(),
                        body: resp.json::<serde_json::Value>().await.ok(),
                    },
                    Err(e) => Downstream::Unreachable(e.to_string()),
                },
                Err(e) => Downstream::Unreachable(e.to_string()),
            };
            (service.as_str().to_owned(), result)
        });
        join_all(calls).await
    }
}

/// The system's health (`sealpost_edge::health`), from this isolate's cache
/// while fresh; each computed report's details go to the log, not the answer.
async fn health(env: &Env, config: &EdgeConfig, request_id: &str) -> HealthReport {
    let (report, computed) = match (env.d1(domain::DB_BINDING), env.kv(domain::KV_BINDING)) {
        (Ok(db), Ok(kv)) => {
            let cache = HEALTH.with(Rc::clone);
            let workers = BoundWorkers(env);
            health::cached(
                &cache,
                &SystemClock,
                &D1Sql(db),
                &CfKv(kv),
                config.dev_mode,
                &workers,
            )
            .await
        }
        (db, kv) => {
            let mut report = HealthReport::new();
            let binding_down =
                |name: &str, e: worker::Error| Indicator::down(&format!("binding {name}: {e}"));
            report.add(
                "d1",
                db.map_or_else(|e| binding_down(domain::DB_BINDING, e), |_| Indicator::up()),
            );
            report.add(
                "kv",
                kv.map_or_else(|e| binding_down(domain::KV_BINDING, e), |_| Indicator::up()),
            );
            (report, true)
        }
    };
    if computed {
        domain::log_health(Service::Gateway, request_id, &report);
    }
    report
}

/// Adds the request id, security and CORS headers to whatever goes out.
fn finish(reply: Reply, request_id: &str, cors_origin: Option<&str>) -> Result<Response> {
    match reply {
        Reply::Local(mut api) => {
            headers::finish(&mut api.headers, request_id, cors_origin);
            http::to_response(api)
        }
        Reply::Relayed(resp) => {
            let status = resp.status_code();
            let mut pairs = http::header_pairs(resp.headers());
            headers::strip_cors(&mut pairs);
            headers::finish(&mut pairs, request_id, cors_origin);
            let out = Headers::new();
            for (name, value) in &pairs {
                out.append(name, value)?;
            }
            let builder = ResponseBuilder::new().with_status(status).with_headers(out);
            if status == 101 {
                return match resp.websocket() {
                    Some(ws) => Ok(builder.with_websocket(ws).empty()),
                    None => http::to_response(
                        ApiError::internal(Some(request_id.to_owned())).into_response(),
                    ),
                };
            }
            let (_, body) = resp.into_parts();
            Ok(builder.body(body))
        }
    }
}
