//! Reading posts: public reads in both languages with their cache headers
//! and ETags, the public list's filters and pages, the admin list, and
//! another site's posts staying invisible. On the native doubles (SQLite
//! with the real migrations, a manual clock, seeded randomness, real ES256
//! access tokens); the live runtime is covered by tests/e2e
//! (scenarios/content.rs).
use sealpost_api::ApiRequest;
use sealpost_api::routes::RouteId;
use sealpost_content_core::{Content, Failure};
use sealpost_ports::{SiteDb, SiteId, Statement, rfc3339};
use sealpost_testkit::{MemRateLimiter, block_on};
use serde_json::{Value, json};

mod common;

use common::{MINUTE, Reply, Req, START_MS, World, id_of, post};

#[test]
fn a_draft_is_not_public_and_a_published_post_is_readable_in_both_languages() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("hello")));
    let hidden = w.get_post("hello", "lang=en");
    assert_eq!((hidden.status, hidden.code()), (404, "NOT_FOUND"));
    assert_eq!(w.list("lang=en").data(), &json!([]));
    w.publish(&editor, &id);

    let en = w.get_post("hello", "lang=en");
    assert_eq!(en.status, 200, "{en:?}");
    let d = en.data();
    assert_eq!(d["id"], id.as_str());
    assert_eq!(d["slug"], "hello");
    assert_eq!(d["lang"], "en");
    assert_eq!(d["title"], "Hello hello");
    assert_eq!(d["excerpt"], "An excerpt");
    assert_eq!(d["bodyHtml"], "<h1>Hi</h1>\n<p>Some <em>text</em>.</p>\n");
    assert_eq!(d["tags"], json!(["rust", "edge"]));
    assert_eq!(d["publishedAt"], rfc3339(START_MS));
    assert_eq!(
        d["author"],
        json!({"id": "user-ed", "displayName": "ed display"})
    );
    assert_eq!(d["rating"], json!({"average": null, "count": 0}));
    assert_eq!(d["views"], 0);
    assert_eq!(
        d["alternates"],
        json!([
            {"lang": "en", "slug": "hello", "url": "/en/posts/hello", "apiUrl": "/posts/hello?lang=en"},
            {"lang": "vi", "slug": "hello-vi", "url": "/vi/posts/hello-vi", "apiUrl": "/posts/hello-vi?lang=vi"}
        ])
    );
    let ld = &d["jsonLd"];
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "BlogPosting");
    assert_eq!(ld["headline"], "Hello hello");
    assert_eq!(ld["inLanguage"], "en");
    assert_eq!(ld["datePublished"], rfc3339(START_MS));
    assert_eq!(ld["author"]["name"], "ed display");

    let vi = w.get_post("hello-vi", "lang=vi");
    assert_eq!(vi.data()["title"], "Xin chào hello");
    assert_eq!(
        vi.data()["bodyHtml"],
        "<p>Nội dung <strong>Việt</strong>.</p>\n"
    );
    // The English slug is not a Vietnamese one; without lang any language.
    assert_eq!(w.get_post("hello", "lang=vi").status, 404);
    assert_eq!(w.get_post("hello-vi", "").data()["lang"], "vi");
    assert_eq!(w.get_post("hello", "lang=fr").code(), "VALIDATION_FAILED");
    assert_eq!(w.get_post("Not A Slug", "").status, 404);
}

#[test]
fn a_post_links_to_its_site_pages_under_the_sites_base_url() {
    let w = World::new(5);
    w.sql(Statement::new(
        "UPDATE sites SET base_url = 'https://blog.example.com', name = 'The Blog' \
         WHERE id = 'default'",
    ));
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("hello")));
    w.publish(&editor, &id);
    let vi = w.get_post("hello-vi", "lang=vi");
    let d = vi.data();
    assert_eq!(
        d["alternates"],
        json!([
            {"lang": "en", "slug": "hello", "url": "https://blog.example.com/en/posts/hello", "apiUrl": "/posts/hello?lang=en"},
            {"lang": "vi", "slug": "hello-vi", "url": "https://blog.example.com/vi/posts/hello-vi", "apiUrl": "/posts/hello-vi?lang=vi"}
        ])
    );
    let ld = &d["jsonLd"];
    assert_eq!(ld["url"], "https://blog.example.com/vi/posts/hello-vi");
    assert_eq!(ld["mainEntityOfPage"], ld["url"]);
    assert_eq!(
        ld["publisher"],
        json!({"@type": "Organization", "name": "The Blog", "url": "https://blog.example.com"})
    );
}

#[test]
fn a_site_without_a_base_url_links_to_its_pages_by_path_and_names_its_publisher() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("hello")));
    w.publish(&editor, &id);
    let ld = w.get_post("hello", "lang=en").data()["jsonLd"].clone();
    assert_eq!(ld["url"], "/en/posts/hello");
    assert_eq!(
        ld["publisher"],
        json!({"@type": "Organization", "name": "Sealpost"})
    );
}

#[test]
fn public_reads_carry_an_etag_that_is_stable_and_changes_on_edit() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("tagged")));
    w.publish(&editor, &id);
    let first = w.get_post("tagged", "lang=en");
    let tag = first.etag.clone().expect("etag");
    assert_eq!(
        first.cache_control.as_deref(),
        Some("public, max-age=60, stale-while-revalidate=300")
    );
    assert_eq!(
        w.get_post("tagged", "lang=en").etag.as_deref(),
        Some(tag.as_str())
    );
    let revalidate = w.call(
        RouteId::PostGet,
        Req {
            slug: Some("tagged"),
            query: "lang=en",
            if_none_match: Some(&tag),
            ..Req::default()
        },
    );
    assert_eq!(revalidate.status, 304);
    assert_eq!(revalidate.body, Value::Null);
    assert_eq!(revalidate.etag.as_deref(), Some(tag.as_str()));
    let other = w.call(
        RouteId::PostGet,
        Req {
            slug: Some("tagged"),
            query: "lang=en",
            if_none_match: Some("\"something-else\""),
            ..Req::default()
        },
    );
    assert_eq!(other.status, 200);

    let list_tag = w.list("lang=en").etag.expect("list etag");
    w.clock.advance_ms(MINUTE);
    w.patch(
        &editor,
        &id,
        &json!({"version": 2, "translations": {"en": {"body": "Edited."}}}),
    );
    let after = w.get_post("tagged", "lang=en");
    assert_ne!(after.etag.as_deref(), Some(tag.as_str()));
    assert_eq!(after.data()["bodyHtml"], "<p>Edited.</p>\n");
    let stale = w.call(
        RouteId::PostGet,
        Req {
            slug: Some("tagged"),
            query: "lang=en",
            if_none_match: Some(&tag),
            ..Req::default()
        },
    );
    assert_eq!(stale.status, 200);
    // The list item has no body: the list's tag is unchanged by a body edit,
    // and changes when a title does.
    assert_eq!(w.list("lang=en").etag.as_deref(), Some(list_tag.as_str()));
    w.patch(
        &editor,
        &id,
        &json!({"version": 3, "translations": {"en": {"title": "Retitled"}}}),
    );
    assert_ne!(w.list("lang=en").etag.as_deref(), Some(list_tag.as_str()));
}

#[test]
fn the_public_list_filters_by_language_tag_and_words_and_pages_newest_first() {
    let w = World::new(5);
    let editor = w.editor();
    let mut ids = Vec::new();
    for (i, (slug, tags, body)) in [
        ("alpha", json!(["rust"]), "About Rust and wasm."),
        ("beta", json!(["go"]), "Gophers everywhere."),
        ("gamma", json!(["rust", "edge"]), "Edge workers in Rust."),
    ]
    .into_iter()
    .enumerate()
    {
        let d = w.created(
            &editor,
            &json!({"translations": {
                "en": {"title": format!("Post {slug}"), "slug": slug, "body": body},
                "vi": {"title": format!("Bài Việt {slug}"), "slug": format!("{slug}-vi"), "body": "Tiếng Việt có dấu."}
            }, "tags": tags}),
        );
        w.clock.advance_ms(MINUTE * (i64::try_from(i).unwrap() + 1));
        w.publish(&editor, &id_of(&d));
        ids.push(id_of(&d));
    }
    // A draft never shows.
    w.created(&editor, &post("draft-one"));

    let all = w.list("lang=en");
    let slugs = |r: &Reply| -> Vec<String> {
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(slugs(&all), vec!["gamma", "beta", "alpha"]);
    assert_eq!(
        all.body["pagination"],
        json!({"page": 1, "pageSize": 20, "totalItems": 3, "totalPages": 1})
    );
    let item = &all.data()[0];
    assert!(item.get("bodyHtml").is_none());
    assert_eq!(item["rating"]["count"], 0);
    assert_eq!(slugs(&w.list("")), vec!["gamma", "beta", "alpha"]);
    assert_eq!(slugs(&w.list("lang=vi"))[0], "gamma-vi");

    let page2 = w.list("lang=en&page=2&pageSize=2");
    assert_eq!(slugs(&page2), vec!["alpha"]);
    assert_eq!(page2.body["pagination"]["totalPages"], 2);
    assert_eq!(w.list("pageSize=101").code(), "VALIDATION_FAILED");
    assert_eq!(w.list("lang=de").code(), "VALIDATION_FAILED");

    assert_eq!(slugs(&w.list("lang=en&tag=rust")), vec!["gamma", "alpha"]);
    assert_eq!(slugs(&w.list("lang=en&tag=RUST")), vec!["gamma", "alpha"]);
    assert_eq!(w.list("lang=en&tag=nope").data(), &json!([]));
    assert_eq!(w.list("lang=en&tag=a%20b").code(), "VALIDATION_FAILED");

    assert_eq!(slugs(&w.list("lang=en&q=rust")), vec!["gamma", "alpha"]);
    assert_eq!(slugs(&w.list("lang=en&q=edge%20rust")), vec!["gamma"]);
    assert_eq!(slugs(&w.list("lang=en&q=goph")), vec!["beta"]);
    // Diacritics folded; FTS syntax in q is just words.
    assert_eq!(w.list("lang=vi&q=viet").data().as_array().unwrap().len(), 3);
    assert_eq!(
        w.list("lang=en&q=%22rust%22*%20-")
            .data()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(w.list("lang=en&q=%2B%2B%2B").data(), &json!([]));
    assert_eq!(
        w.list(&format!("q={}", "x".repeat(101))).code(),
        "VALIDATION_FAILED"
    );
}

#[test]
fn the_admin_list_filters_by_status_and_words_and_pages() {
    let w = World::new(5);
    let editor = w.editor();
    let a = id_of(&w.created(&editor, &post("one")));
    w.clock.advance_ms(MINUTE);
    let b = id_of(&w.created(&editor, &post("two")));
    w.clock.advance_ms(MINUTE);
    w.publish(&editor, &a);
    let all = w.admin_list(&editor, "");
    let ids: Vec<&str> = all
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    // Most recently changed first.
    assert_eq!(ids, vec![a.as_str(), b.as_str()]);
    assert!(all.data()[0]["translations"]["en"].get("body").is_none());
    assert_eq!(all.data()[0]["translations"]["en"]["slug"], "one");
    let drafts = w.admin_list(&editor, "status=draft");
    assert_eq!(drafts.data()[0]["id"], b.as_str());
    assert_eq!(drafts.body["pagination"]["totalItems"], 1);
    assert_eq!(
        w.admin_list(&editor, "status=nope").code(),
        "VALIDATION_FAILED"
    );
    let found = w.admin_list(&editor, "q=two");
    assert_eq!(found.data().as_array().unwrap().len(), 1);
    assert_eq!(found.data()[0]["id"], b.as_str());
    let paged = w.admin_list(&editor, "pageSize=1&page=2");
    assert_eq!(paged.data()[0]["id"], b.as_str());
    assert_eq!(paged.body["pagination"]["totalPages"], 2);
}

#[test]
fn posts_of_another_site_are_invisible() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("mine")));
    w.publish(&editor, &id);
    w.sql(Statement::new(
        "INSERT INTO sites (id, name, created_at) VALUES ('other', 'Other', '2026-01-01T00:00:00Z')",
    ));
    let other = Content {
        db: SiteDb::new(&w.db, SiteId::parse("other").unwrap()),
        clock: &w.clock,
        rng: &w.rng,
        verifier: None,
        visitor_key: None,
        views_limiter: None::<&MemRateLimiter>,
        pages: &w.pages,
        site_purge: &w.site_purge,
    };
    let site = SiteId::parse("other").unwrap();
    let get = ApiRequest::new(RouteId::PostGet, site.clone())
        .with_param("slug", "mine")
        .with_query("lang=en");
    match block_on(other.serve(&get)) {
        Err(Failure::Api(e)) => assert_eq!(e.code.as_str(), "NOT_FOUND"),
        other => panic!("{other:?}"),
    }
    // The other site's list is empty too.
    let list =
        block_on(other.serve(&ApiRequest::new(RouteId::PostsList, site).with_query("lang=en")))
            .unwrap();
    assert_eq!(list.body_json().unwrap()["data"], json!([]));
}
