//! The content routes end to end on the native doubles (SQLite with the real
//! migrations, a manual clock, seeded randomness, real ES256 access tokens):
//! editor access, validation, versions, slugs, the publishing state machine,
//! the cron claim, public reads with their cache headers, list filters. The
//! live runtime is covered by tests/e2e (scenarios/content.rs).
use sealpost_api::ApiRequest;
use sealpost_api::routes::RouteId;
use sealpost_content_core::publish::Published;
use sealpost_content_core::{Content, Failure};
use sealpost_guard::Role;
use sealpost_ports::{SiteDb, SiteId, Statement, rfc3339};
use sealpost_testkit::{MemRateLimiter, block_on};
use serde_json::{Value, json};

mod common;

use common::{MINUTE, Reply, Req, START_MS, World, id_of, post};

#[test]
fn editor_routes_need_a_token_the_editor_role_and_a_second_factor() {
    let w = World::new(5);
    let none = w.create("", &post("a"));
    assert_eq!((none.status, none.code()), (401, "AUTH_REQUIRED"));
    let garbage = w.create("not.a.token", &post("a"));
    assert_eq!(
        (garbage.status, garbage.code()),
        (401, "AUTH_TOKEN_INVALID")
    );
    let member = w.user("mem", &[Role::Member], &["pwd", "otp"]);
    assert_eq!(w.create(&member, &post("a")).status, 403);
    let no_otp = w.user("ed1", &[Role::Editor], &["pwd"]);
    let r = w.create(&no_otp, &post("a"));
    assert_eq!((r.status, r.code()), (403, "FORBIDDEN"));
    let admin = w.user("adm", &[Role::Admin], &["pwd", "otp"]);
    assert_eq!(w.create(&admin, &post("a")).status, 201);
    let editor = w.editor();
    assert_eq!(w.create(&editor, &post("b")).status, 201);
    assert_eq!(w.admin_list(&member, "").status, 403);
}

#[test]
fn a_revoked_editor_session_is_refused_at_once() {
    let w = World::new(5);
    let editor = w.editor();
    w.sql(Statement::new(
        "UPDATE sessions SET revoked_at = 1 WHERE id = 'session-ed'",
    ));
    let r = w.create(&editor, &post("a"));
    assert_eq!((r.status, r.code()), (401, "AUTH_TOKEN_REVOKED"));
}

#[test]
fn create_answers_201_with_a_draft_admin_object() {
    let w = World::new(5);
    let editor = w.editor();
    let d = w.created(&editor, &post("first-post"));
    assert_eq!(d["status"], "draft");
    assert_eq!(d["version"], 1);
    assert_eq!(d["tags"], json!(["rust", "edge"]));
    assert_eq!(d["translations"]["en"]["slug"], "first-post");
    assert_eq!(d["translations"]["en"]["body"], "# Hi\n\nSome *text*.");
    assert_eq!(d["translations"]["vi"]["title"], "Xin chào first-post");
    assert_eq!(d["publishAt"], Value::Null);
    assert_eq!(d["publishedAt"], Value::Null);
    assert_eq!(d["createdAt"], rfc3339(START_MS));
    assert_eq!(d["updatedAt"], rfc3339(START_MS));
    assert_eq!(d["authorId"], "user-ed");
    assert_eq!(id_of(&d).len(), 32);
}

#[test]
fn a_post_may_have_one_language_only() {
    let w = World::new(5);
    let editor = w.editor();
    let d = w.created(
        &editor,
        &json!({"translations": {"vi": {"title": "Chỉ tiếng Việt", "slug": "chi-viet", "body": "x"}}}),
    );
    assert_eq!(d["translations"].as_object().unwrap().len(), 1);
    assert_eq!(d["translations"]["vi"]["excerpt"], "");
    assert_eq!(d["tags"], json!([]));
}

#[test]
fn validation_names_every_bad_field() {
    let w = World::new(5);
    let editor = w.editor();
    let r = w.create(
        &editor,
        &json!({
            "translations": {
                "en": {"title": "  ", "slug": "Bad Slug", "excerpt": "e".repeat(501), "body": "   "},
                "vi": {"title": "t".repeat(201), "slug": "-x", "body": "b".repeat(100_001)}
            },
            "tags": ["ok", "no spaces", "ok", "x".repeat(33)]
        }),
    );
    assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    let fields = r.fields();
    for f in [
        "translations.en.title",
        "translations.en.slug",
        "translations.en.excerpt",
        "translations.en.body",
        "translations.vi.title",
        "translations.vi.slug",
        "translations.vi.body",
        "tags[1]",
        "tags[2]",
        "tags[3]",
    ] {
        assert!(fields.contains(&f.to_owned()), "{f} missing in {fields:?}");
    }
    let empty = w.create(&editor, &json!({"translations": {}}));
    assert_eq!(empty.fields(), vec!["translations"]);
    let too_many = w.create(
        &editor,
        &json!({"translations": {"en": {"title": "t", "slug": "s", "body": "b"}},
                "tags": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
    );
    assert_eq!(too_many.fields(), vec!["tags"]);
}

#[test]
fn unknown_fields_missing_fields_and_wrong_types_are_validation_errors() {
    let w = World::new(5);
    let editor = w.editor();
    for (body, field) in [
        (json!({"translations": {}, "extra": 1}), ""),
        (json!({"translations": {"fr": {}}}), "translations"),
        (
            json!({"translations": {"en": {"title": "t", "slug": "s", "body": "b", "x": 1}}}),
            "translations.en",
        ),
        (
            json!({"translations": {"en": {"title": "t", "slug": "s"}}}),
            "translations.en",
        ),
        (json!({"translations": {}, "tags": "rust"}), "tags"),
        (json!({"tags": []}), ""),
    ] {
        let r = w.create(&editor, &body);
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"), "{body}");
        assert!(
            r.fields().iter().any(|f| f.starts_with(field)),
            "{body}: {:?}",
            r.fields()
        );
    }
}

#[test]
fn a_slug_is_unique_per_language_and_a_taken_one_is_409_conflict() {
    let w = World::new(5);
    let editor = w.editor();
    w.created(&editor, &post("same"));
    let r = w.create(&editor, &post("same"));
    assert_eq!((r.status, r.code()), (409, "CONFLICT"));
    assert_eq!(
        r.fields(),
        vec!["translations.en.slug", "translations.vi.slug"]
    );
    // The same slug in the other language is another slug.
    let other_lang = json!({"translations": {"vi": {"title": "t", "slug": "same", "body": "b"}}});
    assert_eq!(w.create(&editor, &other_lang).status, 201);
    // PATCH onto a taken slug too.
    let d = w.created(&editor, &post("third"));
    let r = w.patch(
        &editor,
        &id_of(&d),
        &json!({"version": 1, "translations": {"en": {"slug": "same"}}}),
    );
    assert_eq!((r.status, r.code()), (409, "CONFLICT"));
    // A post keeping its own slug is no conflict.
    let r = w.patch(
        &editor,
        &id_of(&d),
        &json!({"version": 1, "translations": {"en": {"slug": "third", "title": "New"}}}),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn patch_changes_only_what_it_names_and_bumps_the_version() {
    let w = World::new(5);
    let editor = w.editor();
    let d = w.created(&editor, &post("p"));
    let id = id_of(&d);
    w.clock.advance_ms(MINUTE);
    let r = w.patch(
        &editor,
        &id,
        &json!({"version": 1, "translations": {"en": {"title": "  Changed  "}}, "tags": ["new"]}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let d = r.data();
    assert_eq!(d["version"], 2);
    assert_eq!(d["translations"]["en"]["title"], "Changed");
    assert_eq!(d["translations"]["en"]["slug"], "p");
    assert_eq!(d["translations"]["vi"]["slug"], "p-vi");
    assert_eq!(d["tags"], json!(["new"]));
    assert_eq!(d["updatedAt"], rfc3339(START_MS + MINUTE));
    // Remove a language, then add it back (adding needs title, slug, body).
    let r = w.patch(
        &editor,
        &id,
        &json!({"version": 2, "translations": {"vi": null}}),
    );
    assert_eq!(r.data()["translations"].as_object().unwrap().len(), 1);
    let r = w.patch(
        &editor,
        &id,
        &json!({"version": 3, "translations": {"vi": {"title": "t"}}}),
    );
    assert_eq!(
        r.fields(),
        vec!["translations.vi.slug", "translations.vi.body"]
    );
    let r = w.patch(
        &editor,
        &id,
        &json!({"version": 3, "translations": {"vi": {"title": "t", "slug": "v", "body": "b"}}}),
    );
    assert_eq!(r.data()["translations"]["vi"]["slug"], "v");
    // The last language cannot go.
    let r = w.patch(
        &editor,
        &id,
        &json!({"version": 4, "translations": {"vi": null, "en": null}}),
    );
    assert_eq!(r.fields(), vec!["translations"]);
}

#[test]
fn a_stale_version_is_409_update_conflict_and_writes_nothing() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("v")));
    let first = w.patch(
        &editor,
        &id,
        &json!({"version": 1, "translations": {"en": {"title": "First"}}}),
    );
    assert_eq!(first.status, 200);
    let second = w.patch(
        &editor,
        &id,
        &json!({"version": 1, "translations": {"en": {"title": "Second"}}, "tags": []}),
    );
    assert_eq!((second.status, second.code()), (409, "UPDATE_CONFLICT"));
    let publish_stale = w.act(
        RouteId::AdminPostPublish,
        &editor,
        &id,
        Some(&json!({"version": 1})),
    );
    assert_eq!(publish_stale.code(), "UPDATE_CONFLICT");
    let list = w.admin_list(&editor, "");
    let item = &list.data()[0];
    assert_eq!(item["version"], 2);
    assert_eq!(item["translations"]["en"]["title"], "First");
    assert_eq!(item["tags"], json!(["rust", "edge"]));
    let bad = w.patch(&editor, &id, &json!({"version": 0}));
    assert_eq!(bad.fields(), vec!["version"]);
    let missing = w.patch(&editor, &id, &json!({"translations": {}}));
    assert_eq!(missing.code(), "VALIDATION_FAILED");
}

#[test]
fn the_batch_of_a_patch_that_lost_the_version_race_changes_nothing() {
    // Two editors read version 1; the first commits; the second's batch runs
    // with the version check failing: its translation and tag statements must
    // not apply (they are tied to its own edit mark).
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("race")));
    // Simulate the winner committing between the loser's read and write.
    w.sql(
        Statement::new("UPDATE posts SET version = 2, edit_id = 'winner' WHERE id = ?1")
            .bind(id.as_str()),
    );
    let r = w.patch(
        &editor,
        &id,
        &json!({"version": 2, "translations": {"en": {"title": "Mine"}}}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let loser = w.patch(
        &editor,
        &id,
        &json!({"version": 2, "translations": {"en": {"title": "Lost"}}, "tags": ["x"]}),
    );
    assert_eq!(loser.code(), "UPDATE_CONFLICT");
    let list = w.admin_list(&editor, "");
    let d = &list.data()[0];
    assert_eq!(d["translations"]["en"]["title"], "Mine");
    assert_eq!(d["tags"], json!(["rust", "edge"]));
}

#[test]
fn publish_schedule_unpublish_and_delete_follow_the_state_machine() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("sm")));
    let unpublish_draft = w.act(RouteId::AdminPostUnpublish, &editor, &id, None);
    assert_eq!(
        (unpublish_draft.status, unpublish_draft.code()),
        (409, "CONFLICT")
    );

    let p = w.publish(&editor, &id);
    assert_eq!(p.status, 200, "{p:?}");
    assert_eq!(p.data()["status"], "published");
    assert_eq!(p.data()["publishedAt"], rfc3339(START_MS));
    assert_eq!(p.data()["version"], 2);
    let again = w.publish(&editor, &id);
    assert_eq!((again.status, again.code()), (409, "CONFLICT"));
    let sched_published = w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": rfc3339(START_MS + 10 * MINUTE)})),
    );
    assert_eq!(sched_published.code(), "CONFLICT");

    let u = w.act(RouteId::AdminPostUnpublish, &editor, &id, Some(&json!({})));
    assert_eq!(u.data()["status"], "draft");
    assert_eq!(u.data()["publishedAt"], Value::Null);

    let at = rfc3339(START_MS + 10 * MINUTE);
    let s = w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": at, "version": 3})),
    );
    assert_eq!(s.status, 200, "{s:?}");
    assert_eq!(s.data()["status"], "scheduled");
    assert_eq!(s.data()["publishAt"], at);
    // A scheduled post can be rescheduled, published now or unpublished.
    let later = rfc3339(START_MS + 20 * MINUTE);
    let s = w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": later})),
    );
    assert_eq!(s.data()["publishAt"], later);

    let del = w.act(RouteId::AdminPostDelete, &editor, &id, None);
    assert_eq!(del.status, 200);
    assert_eq!(del.data()["status"], "deleted");
    for route in [
        RouteId::AdminPostPublish,
        RouteId::AdminPostUnpublish,
        RouteId::AdminPostDelete,
    ] {
        let r = w.act(route, &editor, &id, None);
        assert_eq!((r.status, r.code()), (404, "NOT_FOUND"), "{route:?}");
    }
    let r = w.patch(&editor, &id, &json!({"version": 6}));
    assert_eq!(r.status, 404);
    let r = w.publish(&editor, "no-such-post");
    assert_eq!(r.status, 404);
    // Deleted posts leave the admin list unless asked for.
    assert_eq!(w.admin_list(&editor, "").data(), &json!([]));
    let deleted = w.admin_list(&editor, "status=deleted");
    assert_eq!(deleted.data()[0]["id"], id.as_str());
}

#[test]
fn schedule_needs_a_future_rfc3339_time() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("s")));
    for at in [
        json!(rfc3339(START_MS - 1000)),
        json!(rfc3339(START_MS)),
        json!("tomorrow"),
        json!("2026-13-01T00:00:00Z"),
    ] {
        let r = w.act(
            RouteId::AdminPostSchedule,
            &editor,
            &id,
            Some(&json!({ "publishAt": at })),
        );
        assert_eq!(
            (r.status, r.fields()),
            (400, vec!["publishAt".to_owned()]),
            "{at}"
        );
    }
    let r = w.act(RouteId::AdminPostSchedule, &editor, &id, Some(&json!({})));
    assert_eq!(r.code(), "VALIDATION_FAILED");
    let r = w.act(
        RouteId::AdminPostPublish,
        &editor,
        &id,
        Some(&json!({"now": true})),
    );
    assert_eq!(r.code(), "VALIDATION_FAILED");
}

#[test]
fn the_cron_publishes_each_due_post_exactly_once_across_overlapping_runs() {
    let w = World::new(5);
    let editor = w.editor();
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = id_of(&w.created(&editor, &post(&format!("c{i}"))));
        let r = w.act(
            RouteId::AdminPostSchedule,
            &editor,
            &id,
            Some(&json!({"publishAt": rfc3339(START_MS + (i + 1) * MINUTE)})),
        );
        assert_eq!(r.status, 200);
        ids.push(id);
    }
    // Not due yet: nothing.
    assert!(w.run_cron().is_empty());
    w.clock.advance_ms(3 * MINUTE);
    // Three runs at the same instant: the first claims the three due posts,
    // the others find nothing left.
    let runs: Vec<Vec<Published>> = (0..3).map(|_| w.run_cron()).collect();
    let mut claimed: Vec<String> = runs.iter().flatten().map(|p| p.id.clone()).collect();
    claimed.sort();
    let mut due = ids[..3].to_vec();
    due.sort();
    assert_eq!(claimed, due);
    assert_eq!(runs.iter().filter(|r| !r.is_empty()).count(), 1);
    assert!(runs.iter().flatten().all(|p| p.site_id == "default"));
    let published = w.admin_list(&editor, "status=published");
    assert_eq!(published.body["pagination"]["totalItems"], 3);
    for item in published.data().as_array().unwrap() {
        assert_eq!(item["publishedAt"], rfc3339(START_MS + 3 * MINUTE));
        assert_eq!(item["publishAt"], Value::Null);
        // scheduled (2) + claimed once (3)
        assert_eq!(item["version"], 3);
    }
}

#[test]
fn the_cron_picks_up_posts_missed_while_it_was_not_running() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("missed")));
    w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": rfc3339(START_MS + MINUTE)})),
    );
    // The cron was down for a day.
    w.clock.advance_ms(24 * 60 * MINUTE);
    let run = w.run_cron();
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].id, id);
    assert_eq!(w.get_post("missed", "lang=en").status, 200);
}

#[test]
fn the_cron_claims_in_batches_until_nothing_is_due() {
    let w = World::new(5);
    let editor = w.editor();
    let template = id_of(&w.created(&editor, &post("tpl")));
    // 250 due posts straight in SQL (the claim, not the API, is under test).
    for i in 0..250 {
        w.sql(
            Statement::new(
                "INSERT INTO posts (site_id, id, status, version, edit_id, author_id, publish_at, \
                 created_at, updated_at) SELECT site_id, ?1, 'scheduled', 1, 'e', author_id, ?2, \
                 created_at, updated_at FROM posts WHERE id = ?3",
            )
            .bind(format!("bulk-{i:03}"))
            .bind(START_MS - i64::from(i))
            .bind(template.as_str()),
        );
    }
    assert_eq!(w.run_cron().len(), 250);
    assert!(w.run_cron().is_empty());
}

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
            {"lang": "en", "slug": "hello", "url": "/posts/hello?lang=en"},
            {"lang": "vi", "slug": "hello-vi", "url": "/posts/hello-vi?lang=vi"}
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
