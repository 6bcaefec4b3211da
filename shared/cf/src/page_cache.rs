//! The [`PageCache`] port over the Workers Cache API (`caches.default`, one
//! cache per data centre): entries under the caller's synthetic keys, which
//! never reach the network, stored with `Cache-Control: public,
//! max-age=<lifetime>` so the Cache API drops them on its own. Writes finish
//! before the answer (see [`PageCache::put`]); every failure is a miss.
use sealpost_ports::{CachedPage, PageCache};
use worker::{Cache, Context, Headers, Response, ResponseBuilder};

/// The data centre's cache, writing after the answer through a request's
/// context.
#[derive(Debug)]
pub struct EdgePageCache<'a> {
    ctx: Option<&'a Context>,
}

impl<'a> EdgePageCache<'a> {
    /// For a request (`ctx` marks it as one: scheduled runs do not write).
    pub fn for_request(ctx: &'a Context) -> Self {
        Self { ctx: Some(ctx) }
    }

    /// For a scheduled run, which only reads and deletes: a write is
    /// dropped (nothing could wait for it).
    pub fn purge_only() -> Self {
        Self { ctx: None }
    }
}

impl PageCache for EdgePageCache<'_> {
    async fn get(&self, key: &str) -> Option<CachedPage> {
        let mut resp = Cache::default().get(key, true).await.ok()??;
        if resp.status_code() != 200 {
            return None;
        }
        let body = resp.bytes().await.ok()?;
        // Which of them the answer keeps is the caller's policy.
        let headers = resp.headers().entries().collect();
        Some(CachedPage { headers, body })
    }

    async fn put(&self, key: String, page: CachedPage, max_age_secs: u32) {
        if self.ctx.is_none() {
            return;
        }
        let headers = Headers::new();
        for (name, value) in &page.headers {
            let _ = headers.set(name, value);
        }
        let _ = headers.set("cache-control", &format!("public, max-age={max_age_secs}"));
        let copy: Response = ResponseBuilder::new()
            .with_status(200)
            .with_headers(headers)
            .fixed(page.body);
        let _ = Cache::default().put(key, copy).await;
    }

    async fn delete(&self, keys: &[String]) {
        let cache = Cache::default();
        for key in keys {
            let _ = cache.delete(key, true).await;
        }
    }
}
