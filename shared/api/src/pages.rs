//! The public site's page namespace: which paths belong to the site worker
//! rather than the API, how a page's path is built from a language and a
//! slug, and the key under which a rendered page is cached. Everything that
//! links to a page (the API's alternates, the site's own links, the purge
//! after a post changes) builds paths here, so the scheme lives in one place.
//!
//! The scheme (no path collides with the contract's API paths):
//!
//! | path | page |
//! |---|---|
//! | `/` | home in the visitor's language (`Accept-Language`), no redirect |
//! | `/{lang}/` | home of one language (`?page`, `?q` search, `?tag`) |
//! | `/{lang}/posts/{slug}` | one post |
//! | `/{lang}/tags/{tag}` | posts with a tag |
//! | `/{lang}/feed.xml` | Atom feed |
//! | `/{lang}/signup`, `/{lang}/login`, `/{lang}/account` | account pages |
//! | `/sitemap.xml`, `/robots.txt` | for crawlers |
//! | `/assets/{file}` | fingerprinted static files |
//! | `/session`, `/session/refresh`, `/session/end` | the browser's refresh-token cookie (POST) |
//! | `/studio`, `/studio/…` | the staff console (one page; the console routes below it itself) |
use sealpost_ports::SiteId;
use serde::{Deserialize, Serialize};

use crate::Locale;

/// Prefix of fingerprinted static files.
pub const ASSETS_PREFIX: &str = "/assets/";
/// Prefix of the browser session endpoints (the only page paths that take POST).
pub const SESSION_PREFIX: &str = "/session";
/// The staff console's path; everything below it is the console's own route.
pub const STUDIO_PATH: &str = "/studio";
/// The host of every HTML cache key; not a real origin.
const KEY_ORIGIN: &str = "https://site-cache.internal";

/// Whether `path` belongs to the site worker.
pub fn owns(path: &str) -> bool {
    path == "/"
        || path == "/sitemap.xml"
        || path == "/robots.txt"
        || path == "/favicon.ico"
        || path.starts_with(ASSETS_PREFIX)
        || is_session(path)
        || is_studio(path)
        || Locale::NAMES.iter().any(|l| {
            path.strip_prefix('/')
                .and_then(|p| p.strip_prefix(l))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// Whether `path` is the console (`/studio` or anything below `/studio/`).
pub fn is_studio(path: &str) -> bool {
    path.strip_prefix(STUDIO_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether `path` is one of the session endpoints (POST only).
pub fn is_session(path: &str) -> bool {
    path == SESSION_PREFIX
        || path
            .strip_prefix(SESSION_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// `/{lang}/`.
pub fn home_path(lang: Locale) -> String {
    format!("/{}/", lang.as_str())
}

/// `/{lang}/posts/{slug}`.
pub fn post_path(lang: Locale, slug: &str) -> String {
    format!("/{}/posts/{slug}", lang.as_str())
}

/// `/{lang}/tags/{tag}`.
pub fn tag_path(lang: Locale, tag: &str) -> String {
    format!("/{}/tags/{tag}", lang.as_str())
}

/// `/{lang}/feed.xml`.
pub fn feed_path(lang: Locale) -> String {
    format!("/{}/feed.xml", lang.as_str())
}

/// `/sitemap.xml`.
pub const SITEMAP_PATH: &str = "/sitemap.xml";

/// The cache key of the page at `path` (no query) of `site`, as rendered in
/// `lang` (`/` is rendered in the visitor's language; every other path
/// names its own, and passes it too).
pub fn cache_key(site: &SiteId, path: &str, lang: Locale) -> String {
    format!(
        "{KEY_ORIGIN}/{}{path}?lang={}",
        site.as_str(),
        lang.as_str()
    )
}

/// The pages whose cached copies show a post (its page under each slug in
/// each language it has or had, the homes, `/`, the feeds, the sitemap and
/// the first page of each of its tags): what is purged after it changes.
/// `slugs` are (language, slug) pairs.
pub fn pages_showing_post(slugs: &[(Locale, String)], tags: &[String]) -> Vec<String> {
    let mut paths = vec!["/".to_owned(), SITEMAP_PATH.to_owned()];
    for lang in Locale::ALL {
        paths.push(home_path(lang));
        paths.push(feed_path(lang));
        for tag in tags {
            paths.push(tag_path(lang, tag));
        }
    }
    for (lang, slug) in slugs {
        paths.push(post_path(*lang, slug));
    }
    paths.sort();
    paths.dedup();
    paths
}

/// The site worker's internal purge endpoint (`POST`, JSON [`Purge`]):
/// outside [`owns`], so the gateway never forwards it; only workers holding
/// the site's service binding reach it.
pub const PURGE_PATH: &str = "/__purge";

/// The body of a purge: the site and the page paths to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purge {
    pub site: String,
    pub paths: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Method;
    use crate::routes::{ROUTES, Resolution, resolve_with_dev};

    #[test]
    fn no_api_route_pattern_is_a_page_path() {
        for route in ROUTES {
            let concrete = route.pattern.replace('{', "x").replace('}', "");
            assert!(
                !owns(&concrete),
                "{} collides with the page namespace",
                route.pattern
            );
        }
    }

    #[test]
    fn no_page_path_resolves_to_an_api_route() {
        for path in [
            "/",
            "/en/",
            "/vi/posts/xin-chao",
            "/en/tags/rust",
            "/sitemap.xml",
            "/robots.txt",
            "/assets/site.css",
            "/session/refresh",
            "/en",
            "/vi",
            "/studio",
            "/studio/",
            "/studio/posts/new",
        ] {
            assert!(owns(path), "{path}");
            for method in Method::ALL {
                assert!(
                    matches!(resolve_with_dev(method, path, true), Resolution::NotFound),
                    "{method:?} {path}"
                );
            }
        }
    }

    #[test]
    fn a_path_that_only_starts_like_a_language_is_not_a_page() {
        assert!(!owns(PURGE_PATH));
        assert!(!owns("/english"));
        assert!(!owns("/vietnam/x"));
        assert!(!owns("/sessions"));
        assert!(!owns("/posts"));
        assert!(!owns("/studios"));
        assert!(!owns("/admin/posts"));
    }

    #[test]
    fn a_changed_post_purges_its_pages_in_every_language_and_the_lists_showing_it() {
        let paths = pages_showing_post(
            &[
                (Locale::En, "hello".into()),
                (Locale::Vi, "xin-chao".into()),
            ],
            &["rust".into()],
        );
        for p in [
            "/",
            "/en/",
            "/vi/",
            "/en/feed.xml",
            "/vi/feed.xml",
            "/sitemap.xml",
            "/en/tags/rust",
            "/vi/tags/rust",
            "/en/posts/hello",
            "/vi/posts/xin-chao",
        ] {
            assert!(paths.contains(&p.to_owned()), "{p} missing from {paths:?}");
        }
    }
}
