//! The site worker: the public site's pages, reached only through the
//! gateway's `SITE` service binding (and, for `POST /__purge`, the bindings
//! of the workers whose writes change pages). Everything a page is lives in
//! `sealpost-site-core`; this file wires it to D1 (the `sites` table), the
//! API over the service bindings, the data centre's cache and the
//! deployment's variables.
use sealpost_api::health::HealthReport;
use sealpost_api::pages::{PURGE_PATH, Purge};
use sealpost_api::routes::Service;
use sealpost_api::{ApiResponse, Method};
use sealpost_cf::domain::{self, check_sql};
use sealpost_cf::{BoundApi, D1Sql, EdgePageCache, SystemClock, http, log};
use sealpost_ports::{Clock, SiteDb, SiteId};
use sealpost_site_core::{PageRequest, Settings, Site};
use worker::{Context, Env, Request, Response, Result, event};

const SERVICE: Service = Service::Site;

fn settings(env: &Env) -> Settings {
    let var = |k: &str| env.var(k).ok().map(|v| v.to_string());
    Settings {
        turnstile_site_key: var("TURNSTILE_SITE_KEY").filter(|k| !k.trim().is_empty()),
        dev_mode: var("DEV_MODE").as_deref() == Some("true"),
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> Result<Response> {
    let started = SystemClock.now_ms();
    let request_id = http::header(&req, http::HEADER_REQUEST_ID).unwrap_or_else(|| "-".into());
    let path = req.path();
    let method = http::method(&req);
    let response = match (method, path.as_str()) {
        (Some(Method::Get), "/health") => {
            let report = health(&env).await;
            domain::log_health(SERVICE, &request_id, &report);
            report.into_response()
        }
        _ => {
            let site = http::header(&req, http::HEADER_SITE).and_then(|s| SiteId::parse(&s).ok());
            let body = if method == Some(Method::Post) {
                req.bytes().await.unwrap_or_default()
            } else {
                Vec::new()
            };
            match (site, method) {
                (_, Some(Method::Post)) if path == PURGE_PATH => purge(&env, &body).await,
                (Some(site), Some(method)) => {
                    page(&req, &env, &ctx, site, method, body, &request_id).await
                }
                _ => ApiResponse::empty(404),
            }
        }
    };
    let response = http::to_response(response)?;
    log::line("info", "request")
        .field("service", SERVICE.as_str())
        .field("requestId", request_id)
        .field("method", req.inner().method())
        .field("path", path)
        .field("status", response.status_code())
        .field("durMs", SystemClock.now_ms() - started)
        .emit();
    Ok(response)
}

async fn page(
    req: &Request,
    env: &Env,
    ctx: &Context,
    site: SiteId,
    method: Method,
    body: Vec<u8>,
    request_id: &str,
) -> ApiResponse {
    let query = http::raw_query(req);
    let target = if query.is_empty() {
        req.path()
    } else {
        format!("{}?{query}", req.path())
    };
    let mut page = PageRequest::new(method, &target, site.clone())
        .with_request_id(request_id)
        .with_client_ip(http::header(req, http::HEADER_CLIENT_IP).unwrap_or_default())
        .with_body(body);
    for (name, value) in http::header_pairs(req.headers()) {
        page = page.with_header(&name, value);
    }
    let sql = match D1Sql::from_env(env) {
        Ok(sql) => sql,
        Err(f) => {
            return domain::answer_failure(SERVICE.as_str(), request_id, &page.path, f);
        }
    };
    let settings = settings(env);
    let cache = EdgePageCache::for_request(ctx);
    let api = BoundApi { env };
    let site = Site {
        upstream: &api,
        db: SiteDb::new(&sql, site),
        cache: &cache,
        settings: &settings,
    };
    let now_secs = SystemClock.now_ms() / 1000;
    match site.serve(&page, now_secs, &mut rand_core::OsRng).await {
        Ok(resp) => resp,
        Err(f) => {
            if let Some(cause) = f.cause() {
                log::internal_failure(SERVICE.as_str(), request_id, &page.path, cause);
            }
            site.error_page(&page, request_id)
        }
    }
}

/// `POST /__purge`: drops this data centre's copies of the named pages.
async fn purge(env: &Env, body: &[u8]) -> ApiResponse {
    let Ok(purge) = serde_json::from_slice::<Purge>(body) else {
        return ApiResponse::empty(400);
    };
    let (Ok(site), Ok(sql)) = (SiteId::parse(&purge.site), D1Sql::from_env(env)) else {
        return ApiResponse::empty(400);
    };
    let settings = settings(env);
    let cache = EdgePageCache::purge_only();
    let api = BoundApi { env };
    Site {
        upstream: &api,
        db: SiteDb::new(&sql, site),
        cache: &cache,
        settings: &settings,
    }
    .purge(&purge.paths)
    .await;
    ApiResponse::empty(204)
}

/// The site's own health: the database it reads its settings from.
async fn health(env: &Env) -> HealthReport {
    let mut report = HealthReport::new();
    report.add(
        "d1",
        match D1Sql::from_env(env) {
            Ok(sql) => check_sql(&sql).await,
            Err(e) => {
                sealpost_api::Indicator::down(&format!("binding {}: {e:?}", domain::DB_BINDING))
            }
        },
    );
    report
}
