//! What an editor reads beyond the list: one post with its Markdown (to
//! reopen a saved draft) and a preview rendered as a save stores it. On the
//! native doubles; the live runtime is covered by tests/e2e.
use sealpost_api::routes::RouteId;
use sealpost_guard::Role;
use serde_json::json;

mod common;

use common::{Req, World, id_of, post};

fn admin_get(w: &World, token: &str, id: &str) -> common::Reply {
    w.act(RouteId::AdminPostGet, token, id, None)
}

fn preview(w: &World, token: &str, body: &serde_json::Value) -> common::Reply {
    w.call(
        RouteId::AdminPreview,
        Req {
            body: Some(body),
            token: Some(token),
            ..Req::default()
        },
    )
}

#[test]
fn an_editor_reopens_a_saved_draft_with_every_languages_markdown() {
    let w = World::new(21);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("draft-one")));
    let r = admin_get(&w, &editor, &id);
    assert_eq!(r.status, 200, "{r:?}");
    let d = r.data();
    assert_eq!(d["id"], id.as_str());
    assert_eq!(d["status"], "draft");
    assert_eq!(d["version"], 1);
    assert_eq!(d["translations"]["en"]["body"], "# Hi\n\nSome *text*.");
    assert_eq!(d["translations"]["vi"]["body"], "Nội dung **Việt**.");
}

#[test]
fn reading_a_post_follows_its_latest_save() {
    let w = World::new(22);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("draft-two")));
    let patched = w.patch(
        &editor,
        &id,
        &json!({"version": 1, "translations": {"en": {"body": "Second *draft*."}}}),
    );
    assert_eq!(patched.status, 200, "{patched:?}");
    let d = admin_get(&w, &editor, &id).data().clone();
    assert_eq!(d["version"], 2);
    assert_eq!(d["translations"]["en"]["body"], "Second *draft*.");
}

#[test]
fn a_deleted_or_unknown_post_is_not_found_for_an_editor() {
    let w = World::new(23);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("gone")));
    assert_eq!(
        w.act(RouteId::AdminPostDelete, &editor, &id, None).status,
        200
    );
    let r = admin_get(&w, &editor, &id);
    assert_eq!((r.status, r.code()), (404, "NOT_FOUND"));
    assert_eq!(admin_get(&w, &editor, "no-such-post").status, 404);
}

#[test]
fn a_member_or_an_editor_without_a_second_factor_cannot_read_or_preview() {
    let w = World::new(24);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("staff-only")));
    let member = w.user("mem", &[Role::Member], &["pwd", "otp"]);
    let no_otp = w.user("ed2", &[Role::Editor], &["pwd"]);
    for token in [&member, &no_otp] {
        assert_eq!(admin_get(&w, token, &id).status, 403);
        assert_eq!(preview(&w, token, &json!({"body": "x"})).status, 403);
    }
    assert_eq!(admin_get(&w, "", &id).status, 401);
}

#[test]
fn the_preview_is_the_html_a_save_stores_and_the_site_shows() {
    let w = World::new(25);
    let editor = w.editor();
    let markdown = "## Xin chào\n\nA [link](javascript:alert(1)) and <script>x</script> **bold**.";
    let r = preview(&w, &editor, &json!({"body": markdown}));
    assert_eq!(r.status, 200, "{r:?}");
    let html = r.data()["html"].as_str().unwrap();
    assert_eq!(html, sealpost_markdown::render(markdown));
    assert!(html.contains("<strong>bold</strong>") && !html.contains("<script>"));
    assert!(!html.contains("javascript:"));
}

#[test]
fn a_blank_or_oversized_preview_gets_the_same_field_error_as_a_save() {
    let w = World::new(26);
    let editor = w.editor();
    let blank = preview(&w, &editor, &json!({"body": "  \n"}));
    assert_eq!((blank.status, blank.code()), (400, "VALIDATION_FAILED"));
    assert_eq!(blank.fields(), ["body"]);
    let long = "a".repeat(100_001);
    assert_eq!(
        preview(&w, &editor, &json!({"body": long})).fields(),
        ["body"]
    );
    let unknown = preview(&w, &editor, &json!({"body": "x", "title": "y"}));
    assert_eq!(unknown.status, 400);
}
