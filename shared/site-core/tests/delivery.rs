//! How pages leave the site: the HTML cache (hits, purges, what bypasses
//! it), ETag/304, HEAD, the security policy, fingerprinted assets, and the
//! failures a visitor may meet.
mod common;

use common::World;
use sealpost_api::routes::RouteId;
use sealpost_api::{Method, pages};
use sealpost_ports::Statement;

#[test]
fn a_page_is_rendered_once_then_served_from_the_cache_until_purged() {
    let w = World::new();
    w.bilingual();
    let first = w.get("/en/posts/hello-edge", &[]);
    assert_eq!(first.header("x-sealpost-cache"), Some("miss"));
    let calls = w.calls.get();
    let second = w.get("/en/posts/hello-edge", &[]);
    assert_eq!(second.header("x-sealpost-cache"), Some("hit"));
    assert_eq!(w.calls.get(), calls, "a hit asks the API nothing");
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("etag"), first.header("etag"));
    w.purge(&pages::pages_showing_post(
        &[(sealpost_api::Locale::En, "hello-edge".into())],
        &[],
    ));
    assert_eq!(
        w.get("/en/posts/hello-edge", &[])
            .header("x-sealpost-cache"),
        Some("miss")
    );
}

#[test]
fn an_unpublished_post_leaves_the_cached_pages_at_once() {
    let w = World::new();
    let id = w.bilingual();
    for path in [
        "/en/posts/hello-edge",
        "/vi/posts/xin-chao-bien",
        "/en/",
        "/en/tags/rust",
    ] {
        w.get(path, &[]);
        assert_eq!(
            w.get(path, &[]).header("x-sealpost-cache"),
            Some("hit"),
            "{path}"
        );
    }
    let editor = w.editor.clone();
    w.admin_call(RouteId::AdminPostUnpublish, &editor, Some(&id), None);
    assert!(w.purges.get() > 0, "content told the site");
    assert_eq!(w.get("/en/posts/hello-edge", &[]).status, 404);
    assert_eq!(w.get("/vi/posts/xin-chao-bien", &[]).status, 404);
    assert!(
        !w.get("/en/", &[]).has("Hello edge"),
        "the home page forgets it"
    );
    assert!(
        !w.get("/en/tags/rust", &[]).has("Hello edge"),
        "so does its tag"
    );
}

#[test]
fn a_new_comment_shows_on_the_cached_post_page_at_once() {
    let w = World::new();
    let id = w.bilingual();
    w.get("/vi/posts/xin-chao-bien", &[]);
    w.comment(&id, "Lan", "Bài hay quá!");
    let page = w.get("/vi/posts/xin-chao-bien", &[]);
    assert_eq!(page.header("x-sealpost-cache"), Some("miss"));
    assert!(page.has("Bài hay quá!"));
}

#[test]
fn the_root_is_cached_per_language() {
    let w = World::new();
    w.bilingual();
    w.get("/", &[("accept-language", "vi")]);
    let en = w.get("/", &[("accept-language", "en")]);
    assert_eq!(en.header("x-sealpost-cache"), Some("miss"));
    assert!(en.has(r#"<html lang="en">"#));
    assert!(
        w.get("/", &[("accept-language", "vi")])
            .has(r#"<html lang="vi">"#)
    );
}

#[test]
fn a_page_with_a_query_or_one_that_is_not_found_is_never_cached() {
    let w = World::new();
    w.get("/en/?q=x", &[]);
    assert_eq!(
        w.get("/en/?q=x", &[]).header("x-sealpost-cache"),
        Some("bypass")
    );
    w.get("/en/posts/none", &[]);
    assert_eq!(
        w.get("/en/posts/none", &[]).header("x-sealpost-cache"),
        Some("bypass")
    );
}

#[test]
fn a_browser_with_the_current_copy_gets_a_304_without_a_body() {
    let w = World::new();
    w.bilingual();
    let page = w.get("/en/", &[]);
    let tag = page.header("etag").unwrap().to_owned();
    let again = w.get("/en/", &[("if-none-match", &tag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert_eq!(
        page.header("cache-control"),
        Some("public, max-age=0, must-revalidate")
    );
}

#[test]
fn head_answers_like_get_without_a_body() {
    let w = World::new();
    let get = w.get("/en/", &[]);
    let head = w.request(Method::Head, "/en/", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), get.header("etag"));
}

#[test]
fn other_methods_on_a_page_are_refused() {
    let w = World::new();
    let page = w.request(Method::Post, "/en/", &[]);
    assert_eq!(page.status, 405);
    assert_eq!(page.header("allow"), Some("GET, HEAD"));
}

#[test]
fn every_page_has_a_strict_policy_without_inline_code() {
    let w = World::new();
    w.bilingual();
    for path in ["/", "/en/posts/hello-edge", "/vi/login", "/en/nope"] {
        let page = w.get(path, &[]);
        let csp = page.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';")
                && csp.contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert!(
            !page.has(" style=") && !page.has("<style") && !page.has(" onclick="),
            "{path}"
        );
        let inline_scripts = page
            .body
            .match_indices("<script")
            .filter(|(i, _)| {
                let tag = &page.body[*i..*i + page.body[*i..].find('>').unwrap()];
                !tag.contains("src=")
                    && !tag.contains("application/json")
                    && !tag.contains("application/ld+json")
            })
            .count();
        assert_eq!(inline_scripts, 0, "{path}");
    }
}

#[test]
fn pages_link_fingerprinted_assets_that_are_served_immutable() {
    let w = World::new();
    let page = w.get("/en/", &[]);
    let start = page.body.find(r#"<link rel="stylesheet" href=""#).unwrap() + 29;
    let href = &page.body[start..start + page.body[start..].find('"').unwrap()];
    assert!(
        href.starts_with("/assets/site.") && href.ends_with(".css"),
        "{href}"
    );
    let css = w.get(href, &[]);
    assert_eq!(css.status, 200);
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(w.get("/assets/site.css", &[]).status, 404);
}

#[test]
fn turnstile_is_allowed_only_when_the_site_has_a_key_and_dev_mode_uses_the_dev_token() {
    let mut w = World::new();
    w.settings.dev_mode = true;
    let page = w.get("/en/", &[]);
    assert!(page.has(r#""devTurnstileToken":"dev-pass""#));
    assert!(
        !page
            .header("content-security-policy")
            .unwrap()
            .contains("challenges.cloudflare.com")
    );
    w.settings.turnstile_site_key = Some("0x4AAA".into());
    let page = w.get("/en/?x=1", &[]);
    assert!(page.has(r#""turnstileSiteKey":"0x4AAA""#) && page.has(r#""devTurnstileToken":null"#));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("frame-src https://challenges.cloudflare.com;")
    );
}

#[test]
fn a_site_without_a_base_url_gets_an_error_page_not_wrong_links() {
    let w = World::new();
    w.sql(Statement::new(
        "UPDATE sites SET base_url = NULL WHERE id = 'default'",
    ));
    let page = w.get("/vi/", &[]);
    assert_eq!(page.status, 500);
    assert!(page.has(r#"<html lang="vi">"#));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(!page.has("base URL"), "no internals on the page");
    assert!(
        page.has(r#"<a href="/vi/">"#),
        "a way back home in the visitor's language"
    );
    assert!(
        page.has(r#"<link rel="stylesheet" href="/assets/site."#),
        "in the site's look"
    );
}
