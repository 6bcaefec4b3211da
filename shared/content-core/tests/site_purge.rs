//! The site worker's cached pages after a post changes: every admin change
//! and the cron's publishing name the pages that show the post (its page
//! under each slug it has or had in each language, the homes, `/`, the
//! feeds, the sitemap and its tags' pages, before and after) to the
//! `SitePurge` port; a refused change names none.
mod common;

use sealpost_api::routes::RouteId;
use sealpost_ports::{Clock, SiteId};
use serde_json::json;

use common::{World, id_of, post};

fn assert_purged(w: &World, paths: &[&str]) {
    let purged = w.site_purge.purged(&SiteId::default_site());
    for p in paths {
        assert!(
            purged.contains(&(*p).to_owned()),
            "{p} missing from {purged:?}"
        );
    }
}

#[test]
fn publishing_a_post_purges_its_pages_in_both_languages_and_every_list_showing_it() {
    let w = World::new(1);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("hello")));
    assert!(w.site_purge.calls().is_empty(), "a new draft shows nowhere");
    assert_eq!(w.publish(&editor, &id).status, 200);
    assert_eq!(w.site_purge.calls().len(), 1);
    assert_purged(
        &w,
        &[
            "/",
            "/en/",
            "/vi/",
            "/en/feed.xml",
            "/vi/feed.xml",
            "/sitemap.xml",
            "/en/posts/hello",
            "/vi/posts/hello-vi",
            "/en/tags/rust",
            "/vi/tags/rust",
            "/en/tags/edge",
            "/vi/tags/edge",
        ],
    );
}

#[test]
fn a_slug_change_and_a_retag_purge_the_old_and_the_new_pages() {
    let w = World::new(2);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("before")));
    w.publish(&editor, &id);
    w.site_purge.clear();
    let patched = w.patch(
        &editor,
        &id,
        &json!({"version": 2, "translations": {"en": {"slug": "after"}}, "tags": ["go"]}),
    );
    assert_eq!(patched.status, 200, "{patched:?}");
    assert_purged(
        &w,
        &[
            "/en/posts/before",
            "/en/posts/after",
            "/vi/posts/before-vi",
            "/en/tags/rust",
            "/en/tags/go",
            "/vi/tags/go",
        ],
    );
}

#[test]
fn unpublishing_and_deleting_purge_the_post_pages() {
    let w = World::new(3);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("gone")));
    w.publish(&editor, &id);
    w.site_purge.clear();
    assert_eq!(
        w.act(RouteId::AdminPostUnpublish, &editor, &id, None)
            .status,
        200
    );
    assert_purged(&w, &["/en/posts/gone", "/vi/posts/gone-vi", "/en/"]);
    w.site_purge.clear();
    assert_eq!(
        w.act(RouteId::AdminPostDelete, &editor, &id, None).status,
        200
    );
    assert_purged(&w, &["/en/posts/gone", "/vi/posts/gone-vi"]);
}

#[test]
fn a_refused_change_purges_nothing() {
    let w = World::new(4);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("kept")));
    w.publish(&editor, &id);
    w.site_purge.clear();
    let stale = w.patch(
        &editor,
        &id,
        &json!({"version": 1, "translations": {"en": {"title": "Late"}}}),
    );
    assert_eq!(stale.status, 409, "{stale:?}");
    let member = w.member("lan");
    assert_eq!(w.publish(&member, &id).status, 403);
    assert!(
        w.site_purge.calls().is_empty(),
        "{:?}",
        w.site_purge.calls()
    );
}

#[test]
fn the_cron_purges_the_pages_of_what_it_published() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("later")));
    let when = sealpost_ports::rfc3339(w.clock.now_ms() + 60_000);
    let scheduled = w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": when})),
    );
    assert_eq!(scheduled.status, 200, "{scheduled:?}");
    w.site_purge.clear();
    w.clock.advance_ms(61_000);
    assert_eq!(w.run_cron_and_purge().len(), 1);
    assert_purged(
        &w,
        &[
            "/",
            "/en/",
            "/vi/",
            "/sitemap.xml",
            "/en/posts/later",
            "/vi/posts/later-vi",
            "/en/tags/rust",
        ],
    );
}
