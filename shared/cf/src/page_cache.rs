//! A per-data-centre edge cache of whole public answers over the Workers
//! Cache API (`caches.default`, docs/adr/0011): get, put and delete under
//! synthetic keys that never reach the network.
//!
//! - A key is `https://content-cache.internal/<site>/<path>?<query>` built by
//!   [`key`]: the site is part of it, so sites never share an entry.
//! - Only 200 answers are stored, with `Cache-Control: public, max-age=60`
//!   ([`STORE_CACHE_CONTROL`]): the Cache API drops an entry after its
//!   max-age on its own.
//! - [`delete`] is per data centre: other colos keep their copy until its
//!   max-age runs out (the cross-colo purge is the zone purge API, not used).
//! - Every call is best effort: a failure of the cache is a miss, never an
//!   error of the request.
use sealpost_api::ApiResponse;
use sealpost_ports::SiteId;
use worker::{Cache, Headers, Response, ResponseBuilder};

/// The host of every key; not a real origin.
const KEY_ORIGIN: &str = "https://content-cache.internal";

/// `Cache-Control` of a stored copy (it bounds the life of every entry).
pub const STORE_CACHE_CONTROL: &str = "public, max-age=60";

/// The headers of a stored answer kept on a hit (the rest is rebuilt).
const KEPT: [&str; 2] = ["content-type", "etag"];

/// The key of `path` (with its leading `/`) and the normalised `query`
/// (without `?`; may be empty) of `site`.
pub fn key(site: &SiteId, path: &str, query: &str) -> String {
    format!("{KEY_ORIGIN}/{}{path}?{query}", site.as_str())
}

/// The stored answer under `key`: status 200, its body and the kept
/// headers (`Content-Type`, `ETag`); `None` on a miss or any failure.
pub async fn get(key: &str) -> Option<ApiResponse> {
    let mut resp = Cache::default().get(key, true).await.ok()??;
    if resp.status_code() != 200 {
        return None;
    }
    let body = resp.bytes().await.ok()?;
    let mut api = ApiResponse {
        status: 200,
        headers: Vec::new(),
        body,
    };
    for name in KEPT {
        if let Ok(Some(value)) = resp.headers().get(name) {
            api = api.with_header(name, value);
        }
    }
    Some(api)
}

/// Stores a copy of the 200 answer `resp` under `key` (its `Content-Type`
/// and `ETag`, with [`STORE_CACHE_CONTROL`]). Anything else is not stored.
pub async fn put(key: String, resp: &ApiResponse) {
    if resp.status != 200 {
        return;
    }
    let headers = Headers::new();
    for name in KEPT {
        if let Some(value) = resp.header(name) {
            let _ = headers.set(name, value);
        }
    }
    let _ = headers.set("cache-control", STORE_CACHE_CONTROL);
    let copy: Response = ResponseBuilder::new()
        .with_status(200)
        .with_headers(headers)
        .fixed(resp.body.clone());
    let _ = Cache::default().put(key, copy).await;
}

/// Deletes every key of `keys` from this data centre's cache.
pub async fn delete(keys: &[String]) {
    let cache = Cache::default();
    for key in keys {
        let _ = cache.delete(key, true).await;
    }
}
