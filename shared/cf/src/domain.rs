//! The scaffold every domain worker (auth, content, comments, campaigns) runs
//! requests through: its own `/health`, route resolution against the shared
//! catalogue, the site and request id the gateway forwarded, one mapping of
//! failures to the error envelope, and one JSON log line per request.
use std::future::Future;

use sealpost_api::health::{HealthReport, Indicator};
use sealpost_api::routes::{self, Params, Resolution, RouteSpec, Service};
use sealpost_api::{ApiError, ApiResponse, ErrorCode, Query};
use sealpost_ports::{Clock, Kv, PortError, SiteId};
use worker::{Request, Response};

use crate::http::{self, HEADER_CLIENT_IP, HEADER_REQUEST_ID, HEADER_SITE};
use crate::log;
use crate::sys::SystemClock;

/// A request the catalogue routed to this worker.
#[derive(Debug)]
pub struct DomainRequest {
    pub route: &'static RouteSpec,
    pub params: Params,
    pub query: Query,
    pub site: SiteId,
    pub request_id: String,
    pub client_ip: String,
    pub req: Request,
}

/// Why a handler did not produce a response: an answer for the client, or an
/// internal fault that is logged with the request id and answered `INTERNAL`.
#[derive(Debug)]
pub enum Failure {
    Api(ApiError),
    Internal(String),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<PortError> for Failure {
    fn from(e: PortError) -> Self {
        Failure::Internal(e.to_string())
    }
}

impl From<sealpost_api::Fault> for Failure {
    fn from(f: sealpost_api::Fault) -> Self {
        match f {
            sealpost_api::Fault::Api(e) => Failure::Api(e),
            sealpost_api::Fault::Port(e) => Failure::Internal(e.to_string()),
        }
    }
}

impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        Failure::Internal(e.to_string())
    }
}

/// What a handler returns.
pub type Outcome = Result<ApiResponse, Failure>;

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

/// Serves one request for `service`: `GET /health` runs `health`, every other
/// path is resolved in the catalogue (without its dev-only routes) and handed
/// to `handler`.
pub async fn serve<H, F, T, C, CF>(
    req: Request,
    service: Service,
    health: C,
    handler: H,
) -> worker::Result<Response>
where
    H: FnOnce(DomainRequest) -> F,
    F: Future<Output = Result<T, Failure>>,
    T: Into<Answer>,
    C: FnOnce() -> CF,
    CF: Future<Output = HealthReport>,
{
    serve_with_dev(req, service, false, health, handler).await
}

/// Like [`serve`], for a worker that owns dev-only routes: they exist only
/// when `dev_mode` (otherwise 404, exactly like a path the catalogue lacks).
pub async fn serve_with_dev<H, F, T, C, CF>(
    req: Request,
    service: Service,
    dev_mode: bool,
    health: C,
    handler: H,
) -> worker::Result<Response>
where
    H: FnOnce(DomainRequest) -> F,
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
        Some(m) => route(req, service, dev_mode, m, &path, &request_id, handler)
            .await
            .map(Into::into),
        None => Err(Failure::Api(ApiError::new(ErrorCode::MethodNotAllowed))),
    };
    let response = match outcome {
        Ok(Answer::Api(resp)) => http::to_response(resp)?,
        Ok(Answer::Raw(resp)) => resp,
        Err(Failure::Api(e)) => http::to_response(e.into_response())?,
        Err(Failure::Internal(cause)) => {
            log::internal_failure(service.as_str(), &request_id, &path, cause);
            http::to_response(ApiError::internal(Some(request_id.clone())).into_response())?
        }
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

async fn route<H, F, T>(
    req: Request,
    service: Service,
    dev_mode: bool,
    method: sealpost_api::Method,
    path: &str,
    request_id: &str,
    handler: H,
) -> Result<T, Failure>
where
    H: FnOnce(DomainRequest) -> F,
    F: Future<Output = Result<T, Failure>>,
{
    let (route, params) = match routes::resolve_with_dev(method, path, dev_mode) {
        Resolution::Found { route, params } if route.service == service => (route, params),
        Resolution::Found { .. } | Resolution::NotFound => return Err(ApiError::not_found().into()),
        Resolution::MethodNotAllowed { allow } => {
            return Err(ApiError::method_not_allowed(allow).into());
        }
    };
    let site = http::header(&req, HEADER_SITE)
        .and_then(|s| SiteId::parse(&s).ok())
        .ok_or_else(|| {
            Failure::Internal("request arrived without a site from the gateway".into())
        })?;
    let client_ip = http::header(&req, HEADER_CLIENT_IP).unwrap_or_default();
    let query = Query::parse(&http::raw_query(&req));
    handler(DomainRequest {
        route,
        params,
        query,
        site,
        request_id: request_id.to_owned(),
        client_ip,
        req,
    })
    .await
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
    if let Err(Failure::Internal(cause)) = outcome {
        line = line.field("cause", cause);
    }
    if let Err(cause) = heartbeat {
        line = line.field("heartbeat", cause);
    }
    line.emit();
}
