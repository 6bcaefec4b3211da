//! Public reads: conditional requests answered 304, and the edge cache
//! serving a public post until a change purges it.
use std::thread;
use std::time::Duration;

use sealpost_e2e::comments::editor;
use sealpost_e2e::{Reply, Stack, json, random_hex};

use super::{mutation, published, send};

pub(super) fn content_public_reads_answer_if_none_match_with_304(stack: &Stack) {
    let e = editor(stack);
    let suffix = random_hex(4);
    let id = published(stack, &e, &suffix);
    let path = format!("/posts/hello-{suffix}?lang=en");
    let first = stack.get(&path);
    assert_eq!(first.status, 200, "{first}");
    let etag = first.header("etag").expect("ETag").to_owned();
    assert!(
        first
            .header("cache-control")
            .is_some_and(|c| c.starts_with("public")),
        "{first}"
    );
    let again = stack
        .request("GET", &path)
        .header("If-None-Match", &etag)
        .send();
    assert_eq!(again.status, 304, "{again}");
    assert!(again.body.is_empty(), "{again}");
    assert_eq!(again.header("etag"), Some(etag.as_str()), "{again}");

    // An edit changes the tag; the old one no longer matches.
    mutation(
        &send(
            stack,
            "PATCH",
            &format!("/admin/posts/{id}"),
            &e.otp.access,
            Some(
                &json!({"version": 2, "translations": {"en": {"body": format!("Edited {suffix}.")}}}),
            ),
        ),
        200,
    );
    let edited = stack
        .request("GET", &path)
        .header("If-None-Match", &etag)
        .send();
    assert_eq!(edited.status, 200, "{edited}");
    assert_ne!(edited.header("etag"), Some(etag.as_str()));

    // A list only this scenario changes (other scenarios publish in parallel).
    let list_path = format!("/posts?lang=en&q={suffix}");
    let list = stack.get(&list_path);
    assert_eq!(list.json()["pagination"]["totalItems"], 1, "{list}");
    let list_tag = list.header("etag").expect("list ETag").to_owned();
    let cached = stack
        .request("GET", &list_path)
        .header("If-None-Match", &list_tag)
        .send();
    assert_eq!(cached.status, 304, "{cached}");
}

/// `GET path` until the edge cache answers (the copy is stored after the
/// first answer went out, `ctx.waitUntil`); panics after ~5 s.
#[track_caller]
fn until_hit(stack: &Stack, path: &str) -> Reply {
    for _ in 0..50 {
        let r = stack.get(path);
        assert_eq!(r.status, 200, "{r}");
        if r.header("x-sealpost-cache") == Some("hit") {
            return r;
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!("GET {path}: never an edge cache hit");
}

pub(super) fn content_a_public_post_is_served_from_the_edge_cache_and_purged_on_change(
    stack: &Stack,
) {
    let e = editor(stack);
    let suffix = random_hex(4);
    let id = published(stack, &e, &suffix);
    let path = format!("/posts/hello-{suffix}?lang=en");
    let bare = format!("/posts/hello-{suffix}");
    let first = stack.get(&path);
    assert_eq!(first.status, 200, "{first}");
    assert_eq!(first.header("x-sealpost-cache"), Some("miss"), "{first}");
    let etag = first.header("etag").expect("ETag").to_owned();

    // The second read comes from the cache: same body, same tag, same policy.
    let hit = until_hit(stack, &path);
    assert_eq!(hit.body, first.body);
    assert_eq!(hit.header("etag"), Some(etag.as_str()), "{hit}");
    assert_eq!(hit.header("cache-control"), first.header("cache-control"));
    assert!(hit.header("x-request-id").is_some(), "{hit}");
    // A hit still answers If-None-Match with 304.
    let not_modified = stack
        .request("GET", &path)
        .header("If-None-Match", &etag)
        .send();
    assert_eq!(not_modified.status, 304, "{not_modified}");
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    assert_eq!(not_modified.header("x-sealpost-cache"), Some("hit"));
    // Without `lang`: its own key.
    assert_eq!(stack.get(&bare).header("x-sealpost-cache"), Some("miss"));
    until_hit(stack, &bare);

    // An edit purges: the next read is a miss with the new content.
    let new_slug = format!("renamed-{suffix}");
    mutation(
        &send(
            stack,
            "PATCH",
            &format!("/admin/posts/{id}"),
            &e.otp.access,
            Some(
                &json!({"version": 2, "translations": {"en": {"title": format!("Cached {suffix}")}}}),
            ),
        ),
        200,
    );
    for p in [&path, &bare] {
        let fresh = stack.get(p);
        assert_eq!(fresh.status, 200, "{fresh}");
        assert_eq!(fresh.header("x-sealpost-cache"), Some("miss"), "{fresh}");
        assert_eq!(
            fresh.json()["data"]["title"],
            json!(format!("Cached {suffix}"))
        );
        assert_ne!(fresh.header("etag"), Some(etag.as_str()));
        until_hit(stack, p);
    }

    // A renamed slug: the old one's entries are gone too.
    mutation(
        &send(
            stack,
            "PATCH",
            &format!("/admin/posts/{id}"),
            &e.otp.access,
            Some(&json!({"version": 3, "translations": {"en": {"slug": new_slug}}})),
        ),
        200,
    );
    stack.get(&path).assert_error(404, "NOT_FOUND");
    let renamed = format!("/posts/{new_slug}?lang=en");
    assert_eq!(stack.get(&renamed).header("x-sealpost-cache"), Some("miss"));
    until_hit(stack, &renamed);

    // Unpublishing purges: the post is no longer public.
    mutation(
        &send(
            stack,
            "POST",
            &format!("/admin/posts/{id}/unpublish"),
            &e.otp.access,
            None,
        ),
        200,
    );
    stack.get(&renamed).assert_error(404, "NOT_FOUND");
}
