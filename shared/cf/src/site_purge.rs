//! [`SiteWorkerPurge`]: the [`SitePurge`] port over the site worker's
//! service binding ([`SITE_BINDING`]): `POST https://site.internal/__purge`
//! (`sealpost_api::pages::PURGE_PATH`) with the JSON
//! `sealpost_api::pages::Purge`. Best effort: a missing binding, a network
//! failure or a refusal is logged as a warning and never returned (the
//! stale copies expire at their lifetime). The call is awaited before the
//! writer answers, so the writer's own next page view is already fresh.
use sealpost_api::pages::{PURGE_PATH, Purge};
use sealpost_ports::{SiteId, SitePurge};
use worker::{Env, Fetcher, Headers, Method, Request, RequestInit};

use crate::log;

/// The site worker's service binding (wrangler.toml `[[services]]`).
pub const SITE_BINDING: &str = "SITE";

/// The host of the purge request; the binding routes it, it never resolves.
const PURGE_ORIGIN: &str = "https://site.internal";

/// Purges the site worker's cached pages through its service binding.
#[derive(Debug, Clone)]
pub struct SiteWorkerPurge {
    /// The binding, or why it is missing (each purge then logs it).
    site: Result<Fetcher, String>,
}

impl SiteWorkerPurge {
    /// Through `env`'s [`SITE_BINDING`].
    pub fn from_env(env: &Env) -> Self {
        Self {
            site: env
                .service(SITE_BINDING)
                .map_err(|e| format!("binding {SITE_BINDING}: {e}")),
        }
    }

    async fn send(&self, site: &SiteId, paths: &[String]) -> Result<(), String> {
        let fetcher = self.site.as_ref().map_err(Clone::clone)?;
        let body = serde_json::to_string(&Purge {
            site: site.as_str().to_owned(),
            paths: paths.to_vec(),
        })
        .map_err(|e| e.to_string())?;
        let headers = Headers::new();
        headers
            .set("content-type", "application/json")
            .map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(body.into()));
        let req = Request::new_with_init(&format!("{PURGE_ORIGIN}{PURGE_PATH}"), &init)
            .map_err(|e| e.to_string())?;
        let resp = fetcher
            .fetch_request(req)
            .await
            .map_err(|e| e.to_string())?;
        match resp.status_code() {
            200..=299 => Ok(()),
            status => Err(format!("POST {PURGE_PATH} answered {status}")),
        }
    }
}

impl SitePurge for SiteWorkerPurge {
    async fn purge(&self, site: &SiteId, paths: &[String]) {
        if paths.is_empty() {
            return;
        }
        if let Err(cause) = self.send(site, paths).await {
            log::line("warn", "site purge failed")
                .field("site", site.as_str())
                .field("paths", paths.len())
                .field("cause", cause)
                .emit();
        }
    }
}
