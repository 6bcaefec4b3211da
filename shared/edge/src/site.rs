//! Which site a request is for: the `Host` header, looked up in `site_hosts`,
//! cached per isolate for a minute (sites change rarely; a new host takes at
//! most the cache lifetime to be served).
use std::collections::HashMap;

use sealpost_ports::{PortError, SiteId, Sql, Statement};

/// How long an isolate trusts a host → site answer, found or not.
pub const CACHE_TTL_MS: i64 = 60_000;
/// Upper bound of cached hosts per isolate (then the cache starts over).
pub const CACHE_MAX_HOSTS: usize = 1024;

/// Normalises a `Host` header: lower case, no port, no trailing dot. `None`
/// for values that are not a host name or address.
pub fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        let end = rest.find(']')?;
        &rest[..end]
    } else {
        host.split(':').next()?
    };
    let name = name.trim_end_matches('.');
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':');
    ok.then(|| name.to_owned())
}

/// The isolate's cache of host → site answers (negative answers included).
#[derive(Debug, Default)]
pub struct SiteCache {
    entries: HashMap<String, (Option<SiteId>, i64)>,
}

impl SiteCache {
    /// A fresh answer for `host` at `now_ms`, if cached.
    pub fn get(&self, host: &str, now_ms: i64) -> Option<Option<SiteId>> {
        self.entries
            .get(host)
            .filter(|(_, expires)| *expires > now_ms)
            .map(|(site, _)| site.clone())
    }

    /// Remembers an answer.
    pub fn put(&mut self, host: &str, site: Option<SiteId>, now_ms: i64) {
        if self.entries.len() >= CACHE_MAX_HOSTS {
            self.entries.clear();
        }
        self.entries
            .insert(host.to_owned(), (site, now_ms + CACHE_TTL_MS));
    }
}

/// Looks `host` up in `site_hosts` (a global table: no site scope).
pub async fn lookup(sql: &impl Sql, host: &str) -> Result<Option<SiteId>, PortError> {
    let rows = sql
        .query(&Statement::new("SELECT site_id FROM site_hosts WHERE host = ?1").bind(host))
        .await?;
    rows.first()
        .and_then(|row| row.get("site_id"))
        .and_then(|v| v.as_str())
        .map(|s| {
            SiteId::parse(s).map_err(|_| PortError::Decode("bad site id in site_hosts".into()))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_testkit::{SqliteDb, block_on};

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            normalize_host("LocalHost:8787").as_deref(),
            Some("localhost")
        );
        assert_eq!(
            normalize_host("127.0.0.1:8787").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            normalize_host("blog.example.com.").as_deref(),
            Some("blog.example.com")
        );
        assert_eq!(normalize_host("[::1]:8787").as_deref(), Some("::1"));
        assert_eq!(normalize_host("bad host"), None);
        assert_eq!(normalize_host(""), None);
    }

    #[test]
    fn the_default_site_serves_localhost_and_unknown_hosts_have_none() {
        let db = SqliteDb::open_migrated();
        let site = block_on(lookup(&db, "localhost")).unwrap();
        assert_eq!(site.as_ref().map(SiteId::as_str), Some("default"));
        let site = block_on(lookup(&db, "127.0.0.1")).unwrap();
        assert_eq!(site.as_ref().map(SiteId::as_str), Some("default"));
        assert_eq!(block_on(lookup(&db, "elsewhere.example")).unwrap(), None);
    }

    #[test]
    fn cached_answers_expire_after_a_minute() {
        let mut cache = SiteCache::default();
        let site = SiteId::parse("default").unwrap();
        cache.put("localhost", Some(site.clone()), 1_000);
        assert_eq!(
            cache.get("localhost", 1_000 + CACHE_TTL_MS - 1),
            Some(Some(site))
        );
        assert_eq!(cache.get("localhost", 1_000 + CACHE_TTL_MS), None);
        cache.put("nowhere", None, 0);
        assert_eq!(cache.get("nowhere", 1), Some(None));
    }
}
