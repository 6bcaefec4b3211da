//! The edge cache of `GET /posts/{slug}` through `Content::serve`, on the
//! in-memory page cache (writes land when the deferred work runs, entries
//! expire after their max-age): hits skip the database, the client's 304 is
//! decided on the cached answer, and every change of a post purges the
//! slugs it has and had.
mod common;

use sealpost_content_core::edge_cache::{STORE_MAX_AGE_SECS, key};
use sealpost_ports::{Clock, SiteId, Statement};
use serde_json::json;

use common::{Req, World, id_of, post};

fn published(w: &World, slug: &str) -> (String, String) {
    let editor = w.user("ed", &[sealpost_guard::Role::Editor], &["pwd", "otp"]);
    let id = id_of(&w.created(&editor, &post(slug)));
    assert_eq!(w.publish(&editor, &id).status, 200);
    (editor, id)
}

/// Changes the stored title behind the service's back: only a read that
/// reaches the database sees it.
fn retitle_in_db(w: &World, id: &str, title: &str) {
    w.sql(
        Statement::new(
            "UPDATE post_translations SET title = ?1 WHERE post_id = ?2 AND lang = 'en'",
        )
        .bind(title)
        .bind(id),
    );
}

#[test]
fn a_stored_post_is_answered_from_the_cache_without_the_database() {
    let w = World::new(1);
    let (_, id) = published(&w, "cached");
    let first = w.get_post("cached", "lang=en");
    assert_eq!((first.status, first.cache.as_deref()), (200, Some("miss")));
    w.pages.settle();
    retitle_in_db(&w, &id, "Changed underneath");
    let second = w.get_post("cached", "lang=en");
    assert_eq!((second.status, second.cache.as_deref()), (200, Some("hit")));
    assert_eq!(
        second.body, first.body,
        "the stored answer, not the database's"
    );
    assert_eq!(second.etag, first.etag);
}

#[test]
fn nothing_is_answered_from_the_cache_before_the_deferred_write_ran() {
    let w = World::new(2);
    published(&w, "pending");
    w.get_post("pending", "lang=en");
    assert_eq!(
        w.get_post("pending", "lang=en").cache.as_deref(),
        Some("miss")
    );
}

#[test]
fn a_cached_answer_expires_after_its_max_age() {
    let w = World::new(3);
    let (_, id) = published(&w, "aging");
    w.get_post("aging", "lang=en");
    w.pages.settle();
    retitle_in_db(&w, &id, "Fresh title");
    w.clock.advance_ms(i64::from(STORE_MAX_AGE_SECS) * 1000);
    let after = w.get_post("aging", "lang=en");
    assert_eq!(after.cache.as_deref(), Some("miss"));
    assert_eq!(after.data()["title"], "Fresh title");
}

#[test]
fn a_matching_if_none_match_gets_a_304_from_a_hit() {
    let w = World::new(4);
    published(&w, "tagged");
    let first = w.get_post("tagged", "lang=en");
    w.pages.settle();
    let again = w.call(
        sealpost_api::routes::RouteId::PostGet,
        Req {
            slug: Some("tagged"),
            query: "lang=en",
            if_none_match: first.etag.as_deref(),
            ..Req::default()
        },
    );
    assert_eq!((again.status, again.cache.as_deref()), (304, Some("hit")));
    assert_eq!(again.etag, first.etag);
    assert!(again.cache_control.is_some());
}

#[test]
fn renaming_a_slug_purges_the_old_and_the_new_slug_in_every_language() {
    let w = World::new(5);
    let (editor, id) = published(&w, "before");
    w.get_post("before", "lang=en");
    w.pages.settle();
    let patched = w.patch(
        &editor,
        &id,
        &json!({"version": 2, "translations": {"en": {"slug": "after"}}}),
    );
    assert_eq!(patched.status, 200, "{patched:?}");
    let site = SiteId::default_site();
    let deleted = w.pages.deleted.borrow().clone();
    for slug in ["before", "after", "before-vi"] {
        for lang in ["", "en", "vi"] {
            assert!(deleted.contains(&key(&site, slug, lang)), "{slug} {lang}");
        }
    }
    assert_eq!(w.get_post("before", "lang=en").status, 404);
}

#[test]
fn a_refused_read_is_never_stored() {
    let w = World::new(6);
    published(&w, "known");
    assert_eq!(w.get_post("known", "lang=fr").status, 400);
    assert_eq!(w.get_post("missing", "lang=en").status, 404);
    w.pages.settle();
    assert!(w.pages.is_empty());
}

#[test]
fn the_cron_purges_the_slugs_of_what_it_published() {
    let w = World::new(7);
    let editor = w.user("ed", &[sealpost_guard::Role::Editor], &["pwd", "otp"]);
    let id = id_of(&w.created(&editor, &post("later")));
    let when = sealpost_ports::rfc3339(w.clock.now_ms() + 60_000);
    let scheduled = w.act(
        sealpost_api::routes::RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": when})),
    );
    assert_eq!(scheduled.status, 200, "{scheduled:?}");
    w.pages.deleted.borrow_mut().clear();
    w.clock.advance_ms(61_000);
    let published = w.run_cron_and_purge();
    assert_eq!(published.len(), 1);
    let deleted = w.pages.deleted.borrow().clone();
    assert!(deleted.contains(&key(&SiteId::default_site(), "later", "")));
}
