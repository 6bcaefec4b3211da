//! [`PageCache`]: a per-data-centre cache of whole public answers, keyed by
//! strings the caller builds (absolute URLs that never reach the network).
//! What is cached, under which key, for how long and when it is purged is
//! the caller's policy; the port only stores, returns and deletes. Every
//! call is best effort: a failure of the cache is a miss, never an error.
/// A stored answer: always a 200; its headers (lower-case names) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPage {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CachedPage {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A cache of whole answers in this data centre.
#[allow(async_fn_in_trait)]
pub trait PageCache {
    /// The entry under `key`, unless it is missing or older than the
    /// lifetime it was stored with.
    async fn get(&self, key: &str) -> Option<CachedPage>;
    /// Stores `page` under `key` for `max_age_secs`, written before the
    /// answer: a write left to finish after it could land after a purge the
    /// same client's next request caused, and bring back what was purged.
    async fn put(&self, key: String, page: CachedPage, max_age_secs: u32);
    /// Deletes every key of `keys` in this data centre (other data centres
    /// keep their copies until they expire).
    async fn delete(&self, keys: &[String]);
}
