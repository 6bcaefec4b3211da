//! The pages a visitor reads: home per language, a post, tags, search,
//! paging, comments, the 404 page — rendered from what the API answers.
mod common;

use common::World;
use serde_json::json;

#[test]
fn the_root_shows_the_home_in_the_visitors_language_without_redirecting() {
    let w = World::new();
    w.bilingual();
    let vi = w.get("/", &[("accept-language", "vi-VN,vi;q=0.9,en;q=0.5")]);
    assert_eq!(vi.status, 200);
    assert!(vi.has(r#"<html lang="vi">"#));
    assert!(vi.has("Xin chào biên"));
    assert!(!vi.has("Hello edge"));
    assert_eq!(vi.header("vary"), Some("Accept-Language"));
    let en = w.get("/", &[("accept-language", "fr, en;q=0.5")]);
    assert!(en.has(r#"<html lang="en">"#) && en.has("Hello edge"));
    assert!(en.has(r#"href="/vi/" hreflang="vi" lang="vi" data-testid="lang-switch""#));
}

#[test]
fn a_language_without_its_slash_is_sent_to_its_home_once() {
    let w = World::new();
    let page = w.get("/vi", &[]);
    assert_eq!(page.status, 308);
    assert_eq!(page.header("location"), Some("/vi/"));
    assert_eq!(w.get("/vi/", &[]).status, 200);
}

#[test]
fn a_post_page_shows_its_body_author_date_tags_reading_time_and_counts() {
    let w = World::new();
    let id = w.bilingual();
    let page = w.get("/en/posts/hello-edge", &[]);
    assert_eq!(page.status, 200);
    assert!(page.has(&format!(r#"data-testid="post" data-post-id="{id}""#)));
    assert!(page.has(r#"<h1 data-testid="post-title">Hello edge</h1>"#));
    assert!(
        page.has("<strong>world</strong>"),
        "the rendered Markdown body"
    );
    assert!(
        page.has(r#"data-testid="post-author">By editor"#),
        "{}",
        page.body
    );
    assert!(page.has(r#"<span data-testid="reading-time">1 min read</span>"#));
    assert!(page.has(r#"<span data-testid="view-count">0</span>"#));
    assert!(page.has(r#"<a href="/en/tags/rust" data-testid="tag-link">#rust</a>"#));
    assert!(page.has(r#"data-testid="rating-average">Not rated yet<"#));
}

#[test]
fn a_post_switches_language_to_its_own_translation() {
    let w = World::new();
    w.bilingual();
    let en = w.get("/en/posts/hello-edge", &[]);
    assert!(en.has(r#"href="/vi/posts/xin-chao-bien" hreflang="vi""#));
    let vi = w.get("/vi/posts/xin-chao-bien", &[]);
    assert!(vi.has(r#"<html lang="vi">"#));
    assert!(
        vi.has("tiếng Việt có dấu"),
        "diacritics reach the page intact"
    );
    assert!(vi.has(r#"href="/en/posts/hello-edge" hreflang="en""#));
}

#[test]
fn a_post_without_a_translation_switches_to_the_other_languages_home() {
    let w = World::new();
    w.publish(
        json!({"en": {"title": "Only English", "slug": "only-en", "body": "Text."}}),
        &[],
    );
    let page = w.get("/en/posts/only-en", &[]);
    assert!(page.has(r#"href="/vi/" hreflang="vi""#));
    assert_eq!(w.get("/vi/posts/only-en", &[]).status, 404);
}

#[test]
fn an_unknown_post_is_a_404_in_the_sites_look_and_language() {
    let w = World::new();
    for (path, lang) in [
        ("/vi/posts/khong-co", "vi"),
        ("/en/posts/Bad_Slug", "en"),
        ("/en/nothing/here", "en"),
    ] {
        let page = w.get(path, &[]);
        assert_eq!(page.status, 404, "{path}");
        assert!(page.has(&format!(r#"<html lang="{lang}">"#)), "{path}");
        assert!(
            page.has(r#"data-testid="home-link""#)
                && page.has(r#"<meta name="robots" content="noindex">"#)
        );
    }
}

#[test]
fn the_home_lists_the_newest_posts_first_and_pages_through_the_rest() {
    let w = World::new();
    for n in 1..=12 {
        w.publish(json!({"en": {"title": format!("Post {n:02}"), "slug": format!("post-{n}"), "body": "x"}}), &[]);
    }
    let first = w.get("/en/", &[]);
    let titles: Vec<&str> = first
        .body
        .match_indices("Post ")
        .map(|(i, _)| &first.body[i..i + 7])
        .collect();
    assert_eq!(titles.first(), Some(&"Post 12"));
    assert_eq!(first.body.matches(r#"data-testid="post-item""#).count(), 10);
    assert!(first.has(r#"<a href="/en/?page=2" rel="next">"#));
    let second = w.get("/en/?page=2", &[]);
    assert_eq!(second.body.matches(r#"data-testid="post-item""#).count(), 2);
    assert!(second.has(r#"<a href="/en/?page=1" rel="prev">"#) && !second.has(r#"rel="next""#));
}

#[test]
fn search_and_tags_narrow_the_list() {
    let w = World::new();
    w.publish(json!({"en": {"title": "Durable objects", "slug": "durable", "body": "About durable objects."}}), &["edge"]);
    w.publish(
        json!({"en": {"title": "Queues", "slug": "queues", "body": "About queues."}}),
        &["mail"],
    );
    let found = w.get("/en/?q=durable", &[]);
    assert!(found.has("Durable objects") && !found.has(">Queues<"));
    assert!(found.has(r#"value="durable""#));
    assert!(
        found.has(r#"<meta name="robots" content="noindex, follow">"#),
        "search results are not indexed"
    );
    let none = w.get("/en/?q=nothingmatches", &[]);
    assert!(none.has(r#"data-testid="no-posts">Nothing matches your search."#));
    let tag = w.get("/en/tags/mail", &[]);
    assert_eq!(tag.status, 200);
    assert!(tag.has(">Queues<") && !tag.has("Durable objects"));
    assert!(w.get("/en/tags/nope", &[]).has(r#"data-testid="no-posts""#));
}

#[test]
fn comments_are_on_the_page_newest_first_with_the_newest_serial_for_the_live_socket() {
    let w = World::new();
    let id = w.bilingual();
    w.comment(&id, "ann", "First!");
    w.comment(&id, "bob", "Second <b>not bold</b>");
    let page = w.get("/en/posts/hello-edge", &[]);
    assert!(page.has(r#"data-testid="comment-list" data-newest-serial="2""#));
    let second = page.body.find("Second").unwrap();
    let first = page.body.find("First!").unwrap();
    assert!(second < first, "newest first");
    assert!(
        page.has("Second &#60;b&#62;not bold&#60;/b&#62;")
            || page.has("Second &lt;b&gt;not bold&lt;/b&gt;")
    );
    assert!(page.has(r#"data-testid="no-comments" hidden"#));
}

#[test]
fn text_from_writers_is_escaped_everywhere_it_appears() {
    let w = World::new();
    w.publish(json!({"en": {"title": "<script>alert(1)</script>", "slug": "xss", "excerpt": "\"><img src=x onerror=alert(1)>", "body": "ok"}}), &[]);
    for path in ["/en/", "/en/posts/xss", "/en/feed.xml"] {
        let page = w.get(path, &[]);
        assert!(!page.has("<script>alert(1)"), "{path}");
        assert!(!page.has("<img src=x"), "{path}");
    }
    let post = w.get("/en/posts/xss", &[]);
    let ld = post
        .body
        .split(r#"<script type="application/ld+json">"#)
        .nth(1)
        .unwrap();
    assert!(!ld.split("</script>").next().unwrap().contains('<'));
}

#[test]
fn account_pages_are_served_in_both_languages_and_kept_out_of_search() {
    let w = World::new();
    for path in ["/en/signup", "/vi/login", "/en/account"] {
        let page = w.get(path, &[]);
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.has(r#"<meta name="robots" content="noindex">"#),
            "{path}"
        );
    }
    assert!(w.get("/vi/signup", &[]).has(r#"data-testid="signup-form""#));
    assert!(
        w.get("/en/login", &[])
            .has(r##"data-testid="mfa-form" class="stack" method="post" action="#" hidden"##)
    );
}
