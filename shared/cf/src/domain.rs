//! The scaffold every domain worker (auth, content, comments, campaigns) runs
//! requests through: its own `/health`, the route the gateway resolved (named
//! in a header, so no worker resolves a path a second time), the site and
//! request id the gateway forwarded, the one log-and-answer path for
//! failures, and one JSON log line per request.
use std::future::Future;

use sealpost_api::health::{HealthReport, Indicator};
use sealpost_api::routes::{RouteId, Service};
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode, Failure};
use sealpost_ports::{Clock, Kv, PortError, SiteId};
use worker::{Request, Response};

use crate::http::{self, HEADER_CLIENT_IP, HEADER_REQUEST_ID, HEADER_ROUTE, HEADER_SITE};
use crate::log;
use crate::sys::SystemClock;

/// Converts the runtime's errors into [`Failure::Platform`] (`?` cannot:
/// both types are foreign to this crate).
pub trait PlatformResult<T> {
    fn platform(self) -> Result<T, Failure>;
}

impl<T> PlatformResult<T> for worker::Result<T> {
    fn platform(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Platform(e.to_string()))
    }
}

/// A handler's answer: an API response, or a platform response passed on
/// as it is (a WebSocket upgrade, or an answer a Durable Object built).
#[derive(Debug)]
pub enum Answer {
    Api(ApiResponse),
    Raw(Response),
}

impl From<ApiResponse> for Answer {
    fn from(resp: ApiResponse) -> Self {
        Answer::Api(resp)
    }
}

impl From<Response> for Answer {
    fn from(resp: Response) -> Self {
        Answer::Raw(resp)
    }
}

/// The one path of a failure to the client: an internal one is logged with
/// its cause under the request id; the answer is the failure's own
/// ([`Failure::into_response`]).
pub fn answer_failure(service: &str, request_id: &str, path: &str, f: Failure) -> ApiResponse {
    if let Some(cause) = f.cause() {
        log::internal_failure(service, request_id, path, cause);
    }
    f.into_response(request_id)
}

/// Serves one request for `service`: `GET /health` runs `health`; every
/// other request carries the route the gateway resolved and is handed to
/// `handler`. Dev-only routes exist only when `dev_mode` (otherwise 404,
/// exactly like a path the catalogue lacks).
pub async fn serve<H, F, T, C, CF>(
    req: Request,
    service: Service,
    dev_mode: bool,
    health: C,
    handler: H,
) -> worker::Result<Response>
where
    H: FnOnce(ApiRequest) -> F,
    F: Future<Output = Result<T, Failure>>,
    T: Into<Answer>,
    C: FnOnce() -> CF,
    CF: Future<Output = HealthReport>,
{
    let started = SystemClock.now_ms();
    let request_id = http::header(&req, HEADER_REQUEST_ID).unwrap_or_else(|| "-".to_owned());
    let path = req.path();
    let method = http::method(&req);
    let method_name = req.inner().method();

    let outcome = match method {
        Some(sealpost_api::Method::Get) if path == "/health" => {
            let report = health().await;
            log_health(service, &request_id, &report);
            Ok(Answer::Api(report.into_response()))
        }
        Some(m) => match routed(req, service, dev_mode, m, &path, &request_id).await {
            Ok(r) => handler(r).await.map(Into::into),
            Err(f) => Err(f),
        },
        None => Err(Failure::Api(ApiError::new(ErrorCode::MethodNotAllowed))),
    };
    let response = match outcome {
        Ok(Answer::Api(resp)) => http::to_response(resp)?,
        Ok(Answer::Raw(resp)) => resp,
        Err(f) => http::to_response(answer_failure(service.as_str(), &request_id, &path, f))?,
    };
    log::line("info", "request")
        .field("service", service.as_str())
        .field("requestId", request_id)
        .field("method", method_name)
        .field("path", path)
        .field("status", response.status_code())
        .field("durMs", SystemClock.now_ms() - started)
        .emit();
    Ok(response)
}

/// The one log line of a health check: every indicator with its details
/// (error text, counts, times), which the answer leaves out.
pub fn log_health(service: Service, request_id: &str, report: &HealthReport) {
    log::line(if report.is_ok() { "info" } else { "warn" }, "health")
        .field("service", service.as_str())
        .field("requestId", request_id)
        .field("checks", report.to_log_json()["details"].clone())
        .emit();
}

/// The request as the core sees it: the route the gateway named (it must be
/// this worker's, for this method and path), the site, the client's key,
/// the headers that crossed the edge and the body.
async fn routed(
    mut req: Request,
    service: Service,
    dev_mode: bool,
    method: sealpost_api::Method,
    path: &str,
    request_id: &str,
) -> Result<ApiRequest, Failure> {
    let from_gateway = |what: &str| Failure::Platform(format!("request arrived without {what}"));
    let route = http::header(&req, HEADER_ROUTE)
        .and_then(|name| RouteId::parse(&name))
        .map(RouteId::spec)
        .ok_or_else(|| from_gateway("a route from the gateway"))?;
    if route.service != service || route.method != method || (route.dev_only && !dev_mode) {
        return Err(ApiError::not_found().into());
    }
    let params = route
        .params(path)
        .ok_or_else(|| from_gateway("a path matching its route"))?;
    let site = http::header(&req, HEADER_SITE)
        .and_then(|s| SiteId::parse(&s).ok())
        .ok_or_else(|| from_gateway("a site from the gateway"))?;
    let mut api = ApiRequest::new(route.id, site)
        .with_params(params)
        .with_query(&http::raw_query(&req))
        .with_request_id(request_id)
        .with_client_ip(http::header(&req, HEADER_CLIENT_IP).unwrap_or_default());
    for (name, value) in http::header_pairs(req.headers()) {
        api = api.with_header(&name, value);
    }
    let body = req.bytes().await.platform()?;
    Ok(api.with_body(body))
}

pub use sealpost_api::health::{check_kv, check_sql};

/// Records that `service`'s scheduled handler ran (KV: one write per run).
pub async fn record_cron_run(
    kv: &impl Kv,
    clock: &impl Clock,
    service: Service,
) -> Result<(), PortError> {
    sealpost_api::health::record_cron_run(kv, clock, service.as_str()).await
}

/// The cron indicator: up, with the last run time for the logs.
pub async fn check_cron(kv: &impl Kv, service: Service) -> Indicator {
    sealpost_api::health::check_cron(kv, service.as_str()).await
}

/// The bindings every domain worker has: the D1 database `DB` and the KV
/// namespace `KV`.
pub const DB_BINDING: &str = "DB";
pub const KV_BINDING: &str = "KV";

/// A domain worker's own health: D1, KV, and (for workers with a cron) the
/// last scheduled run.
pub async fn standard_health(env: &worker::Env, service: Service, has_cron: bool) -> HealthReport {
    let d1 = match env.d1(DB_BINDING) {
        Ok(db) => check_sql(&crate::D1Sql(db)).await,
        Err(e) => Indicator::down(&format!("binding {DB_BINDING}: {e}")),
    };
    let mut report = HealthReport::new();
    report.add("d1", d1);
    match env.kv(KV_BINDING) {
        Ok(kv) => {
            let kv = crate::CfKv(kv);
            report.add("kv", check_kv(&kv).await);
            if has_cron {
                report.add("cron", check_cron(&kv, service).await);
            }
        }
        Err(e) => report.add("kv", Indicator::down(&format!("binding {KV_BINDING}: {e}"))),
    }
    report
}

/// Runs a worker's scheduled handler: its `jobs`, then the heartbeat that
/// `/health` reports. Failures are logged, never thrown (a cron has no client).
pub async fn run_cron<F>(env: &worker::Env, service: Service, cron: &str, jobs: F)
where
    F: Future<Output = Result<(), Failure>>,
{
    let started = SystemClock.now_ms();
    let outcome = jobs.await;
    let heartbeat = match env.kv(KV_BINDING) {
        Ok(kv) => record_cron_run(&crate::CfKv(kv), &SystemClock, service)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let mut line = log::line(
        if outcome.is_ok() && heartbeat.is_ok() {
            "info"
        } else {
            "error"
        },
        "cron",
    )
    .field("service", service.as_str())
    .field("cron", cron)
    .field("durMs", SystemClock.now_ms() - started);
    if let Some(cause) = outcome.err().and_then(|f| f.cause()) {
        line = line.field("cause", cause);
    }
    if let Err(cause) = heartbeat {
        line = line.field("heartbeat", cause);
    }
    line.emit();
}
