//! The API as a worker inside the deployment calls it
//! ([`sealpost_api::Upstream`]): a routed request goes over the owning
//! worker's service binding with the headers the gateway would have set
//! (route, site, request id, client key), so the owner answers exactly as
//! it answers a visitor. Also the one table of service-binding names.
use sealpost_api::routes::Service;
use sealpost_api::{ApiRequest, ApiResponse, Failure, Outcome, Upstream};
use worker::{Env, Headers, RequestInit};

use crate::domain::PlatformResult;
use crate::http::{HEADER_CLIENT_IP, HEADER_REQUEST_ID, HEADER_ROUTE, HEADER_SITE};

/// The service binding through which a worker reaches `service`.
pub fn binding(service: Service) -> &'static str {
    match service {
        Service::Auth => "AUTH",
        Service::Content => "CONTENT",
        Service::Comments => "COMMENTS",
        Service::Campaigns => "CAMPAIGNS",
        Service::Gateway => "GATEWAY",
        Service::Site => "SITE",
    }
}

/// The owning workers, through this worker's service bindings.
#[derive(Debug)]
pub struct BoundApi<'a> {
    pub env: &'a Env,
}

impl Upstream for BoundApi<'_> {
    async fn call(&self, req: ApiRequest) -> Outcome {
        let service = req.route.service;
        let fetcher = self
            .env
            .service(binding(service))
            .map_err(|e| Failure::Config(format!("binding {}: {e}", binding(service))))?;
        let headers = Headers::new();
        for (name, value) in req.headers() {
            headers.append(name, value).platform()?;
        }
        headers.set(HEADER_ROUTE, req.id().as_str()).platform()?;
        headers.set(HEADER_SITE, req.site.as_str()).platform()?;
        headers.set(HEADER_REQUEST_ID, &req.request_id).platform()?;
        headers.set(HEADER_CLIENT_IP, &req.client_ip).platform()?;
        let mut init = RequestInit::new();
        init.with_method(worker::Method::from(req.route.method.as_str().to_owned()))
            .with_headers(headers);
        if !req.body.is_empty() {
            init.with_body(Some(js_sys::Uint8Array::from(req.body.as_slice()).into()));
        }
        let query = req.query.to_raw();
        let url = format!(
            "https://{}.internal{}{}{query}",
            service.as_str(),
            req.route.path(&req.params),
            if query.is_empty() { "" } else { "?" },
        );
        let request = worker::Request::new_with_init(&url, &init).platform()?;
        let mut resp = fetcher.fetch_request(request).await.platform()?;
        let body = resp.bytes().await.platform()?;
        Ok(ApiResponse {
            status: resp.status_code(),
            headers: resp.headers().entries().collect(),
            body,
        })
    }
}
