//! What crawlers read: absolute canonical URLs from the site's base URL,
//! hreflang with x-default, OpenGraph and Twitter cards, JSON-LD, the
//! sitemap with its alternates, robots.txt and the Atom feeds.
mod common;

use common::{BASE_URL, World};
use serde_json::Value;

fn json_ld(body: &str) -> Value {
    let start = body
        .find(r#"<script type="application/ld+json">"#)
        .expect("json-ld")
        + 35;
    let end = start + body[start..].find("</script>").unwrap();
    serde_json::from_str(&body[start..end]).unwrap()
}

#[test]
fn every_page_has_an_absolute_canonical_url_and_hreflang_for_each_language_plus_x_default() {
    let w = World::new();
    w.bilingual();
    for (path, canonical, en, vi, default) in [
        (
            "/en/posts/hello-edge",
            "/en/posts/hello-edge",
            "/en/posts/hello-edge",
            "/vi/posts/xin-chao-bien",
            "/en/posts/hello-edge",
        ),
        ("/vi/", "/vi/", "/en/", "/vi/", "/"),
        ("/", "/", "/en/", "/vi/", "/"),
        (
            "/vi/tags/rust",
            "/vi/tags/rust",
            "/en/tags/rust",
            "/vi/tags/rust",
            "/en/tags/rust",
        ),
    ] {
        let page = w.get(path, &[]);
        assert!(
            page.has(&format!(
                r#"<link rel="canonical" href="{BASE_URL}{canonical}">"#
            )),
            "{path}"
        );
        for (lang, href) in [("en", en), ("vi", vi), ("x-default", default)] {
            assert!(
                page.has(&format!(
                    r#"<link rel="alternate" hreflang="{lang}" href="{BASE_URL}{href}">"#
                )),
                "{path}: {lang}"
            );
        }
        assert!(
            page.has(&format!(
                r#"<meta property="og:url" content="{BASE_URL}{canonical}">"#
            )),
            "{path}"
        );
        assert!(
            page.has(r#"<meta name="twitter:card" content="summary">"#),
            "{path}"
        );
    }
}

#[test]
fn a_post_carries_a_blog_posting_with_its_publisher_dates_and_language() {
    let w = World::new();
    w.bilingual();
    let page = w.get("/vi/posts/xin-chao-bien", &[]);
    let ld = json_ld(&page.body);
    assert_eq!(ld["@type"], "BlogPosting");
    assert_eq!(ld["inLanguage"], "vi");
    assert_eq!(ld["headline"], "Xin chào biên");
    assert_eq!(ld["url"], format!("{BASE_URL}/vi/posts/xin-chao-bien"));
    assert_eq!(ld["publisher"]["@type"], "Organization");
    assert_eq!(ld["publisher"]["name"], "Sealpost");
    assert!(ld["datePublished"].as_str().unwrap().ends_with('Z'));
    assert!(ld["dateModified"].is_string());
    assert!(page.has(r#"<meta property="og:type" content="article">"#));
    assert!(page.has(r#"<meta property="og:locale" content="vi_VN">"#));
}

#[test]
fn a_home_page_describes_the_website_and_its_search() {
    let w = World::new();
    let ld = json_ld(&w.get("/en/", &[]).body);
    assert_eq!(ld["@type"], "WebSite");
    assert_eq!(
        ld["potentialAction"]["target"]["urlTemplate"],
        format!("{BASE_URL}/en/?q={{search_term_string}}")
    );
}

#[test]
fn the_sitemap_lists_the_homes_and_every_translation_with_its_alternates() {
    let w = World::new();
    w.bilingual();
    let page = w.get("/sitemap.xml", &[]);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("application/xml; charset=utf-8")
    );
    for loc in [
        "/en/",
        "/vi/",
        "/en/posts/hello-edge",
        "/vi/posts/xin-chao-bien",
    ] {
        assert!(page.has(&format!("<loc>{BASE_URL}{loc}</loc>")), "{loc}");
    }
    assert_eq!(
        page.body.matches(&format!(r#"<xhtml:link rel="alternate" hreflang="vi" href="{BASE_URL}/vi/posts/xin-chao-bien"/>"#)).count(),
        2,
        "both translations name the Vietnamese one"
    );
}

#[test]
fn each_language_has_its_own_atom_feed_of_its_posts() {
    let w = World::new();
    w.bilingual();
    let vi = w.get("/vi/feed.xml", &[]);
    assert_eq!(
        vi.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    assert!(vi.has(r#"xml:lang="vi""#) && vi.has("<title>Xin chào biên</title>"));
    assert!(!vi.has("Hello edge"));
    assert!(vi.has(&format!("<id>{BASE_URL}/vi/posts/xin-chao-bien</id>")));
    assert!(w.get("/en/feed.xml", &[]).has("<title>Hello edge</title>"));
}

#[test]
fn robots_txt_names_the_absolute_sitemap() {
    let w = World::new();
    let page = w.get("/robots.txt", &[]);
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(page.has(&format!("Sitemap: {BASE_URL}/sitemap.xml")));
}
