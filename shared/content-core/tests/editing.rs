//! Editing posts through the content routes: editor access (a token, the
//! editor role and a second factor; a revoked session), creating,
//! validation, slugs unique per language, patches and their versions. On
//! the native doubles (SQLite with the real migrations, a manual clock,
//! seeded randomness, real ES256 access tokens); the live runtime is
//! covered by tests/e2e (scenarios/content.rs).
use sealpost_api::routes::RouteId;
use sealpost_guard::Role;
use sealpost_ports::{Statement, rfc3339};
use serde_json::{Value, json};

mod common;

use common::{MINUTE, START_MS, World, id_of, post};

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
