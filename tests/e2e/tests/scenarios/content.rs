//! The content CMS end to end (API.md, Content; docs/api.md, Content):
//! editor access, the life of a post from draft to published and back,
//! public reads in both languages with alternates and conditional requests,
//! versions, scheduled publishing with overlapping cron runs, bad inputs.
use std::thread;
use std::time::Duration;

use sealpost_e2e::auth::{bearer_get, bearer_request, new_member};
use sealpost_e2e::comments::{Editor, create_post, editor, publish_post};
use sealpost_e2e::{Reply, Stack, Value, json, random_hex, unix_now};

use super::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = &[
    (
        "content_editor_routes_refuse_anonymous_members_and_editors_without_a_second_factor",
        content_editor_routes_refuse_anonymous_members_and_editors_without_a_second_factor,
    ),
    (
        "content_a_post_goes_from_draft_to_published_and_is_read_in_both_languages",
        content_a_post_goes_from_draft_to_published_and_is_read_in_both_languages,
    ),
    (
        "content_public_reads_answer_if_none_match_with_304",
        content_public_reads_answer_if_none_match_with_304,
    ),
    (
        "content_a_stale_version_is_409_update_conflict",
        content_a_stale_version_is_409_update_conflict,
    ),
    (
        "content_three_overlapping_cron_runs_publish_a_due_post_exactly_once",
        content_three_overlapping_cron_runs_publish_a_due_post_exactly_once,
    ),
    (
        "content_bad_post_bodies_are_400_or_413",
        content_bad_post_bodies_are_400_or_413,
    ),
    (
        "content_a_second_rating_replaces_the_first_and_the_average_follows",
        content_a_second_rating_replaces_the_first_and_the_average_follows,
    ),
    (
        "content_views_count_once_per_visitor_and_are_throttled_per_ip",
        content_views_count_once_per_visitor_and_are_throttled_per_ip,
    ),
    (
        "content_activity_shows_the_callers_rating_and_read",
        content_activity_shows_the_callers_rating_and_read,
    ),
    (
        "content_a_public_post_is_served_from_the_edge_cache_and_purged_on_change",
        content_a_public_post_is_served_from_the_edge_cache_and_purged_on_change,
    ),
];

fn send(stack: &Stack, method: &str, path: &str, token: &str, body: Option<&Value>) -> Reply {
    let call = bearer_request(stack, method, path, token);
    match body {
        Some(b) => call.json(b).send(),
        None => call.send(),
    }
}

/// The `data` of a mutation answer with `status`.
#[track_caller]
fn mutation(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    body["data"].clone()
}

fn new_post(suffix: &str) -> Value {
    json!({
        "translations": {
            "en": {"title": "Hello edge", "slug": format!("hello-{suffix}"), "excerpt": "Short", "body": "# Hello\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"},
            "vi": {"title": "Xin chào", "slug": format!("xin-chao-{suffix}"), "excerpt": "Ngắn", "body": "Nội dung **đậm**."}
        },
        "tags": ["rust", "edge"]
    })
}

fn create(stack: &Stack, e: &Editor, suffix: &str) -> Value {
    create_post(stack, e, &new_post(suffix))
}

/// A post by `e` with slug suffix `suffix`, created and published; its id.
fn published(stack: &Stack, e: &Editor, suffix: &str) -> String {
    let id = id(&create(stack, e, suffix));
    publish_post(stack, e, &id);
    id
}

fn id(post: &Value) -> String {
    post["id"].as_str().expect("id").to_owned()
}

fn content_editor_routes_refuse_anonymous_members_and_editors_without_a_second_factor(
    stack: &Stack,
) {
    let body = new_post(&random_hex(4));
    stack
        .request("POST", "/admin/posts")
        .json(&body)
        .send()
        .assert_error(401, "AUTH_REQUIRED");
    let member = new_member(stack, "content-member");
    send(stack, "POST", "/admin/posts", &member.access, Some(&body)).assert_error(403, "FORBIDDEN");
    send(stack, "GET", "/admin/posts", &member.access, None).assert_error(403, "FORBIDDEN");
    let e = editor(stack);
    send(
        stack,
        "POST",
        "/admin/posts",
        &e.pwd_only.access,
        Some(&body),
    )
    .assert_error(403, "FORBIDDEN");
    let ok = send(stack, "GET", "/admin/posts", &e.otp.access, None);
    assert_eq!(ok.status, 200, "{ok}");
}

fn content_a_post_goes_from_draft_to_published_and_is_read_in_both_languages(stack: &Stack) {
    let e = editor(stack);
    let suffix = random_hex(4);
    let post = create(stack, &e, &suffix);
    assert_eq!(post["status"], "draft", "{post:#}");
    assert_eq!(post["version"], 1);
    let id = id(&post);
    let en_slug = format!("hello-{suffix}");
    let vi_slug = format!("xin-chao-{suffix}");

    stack
        .get(&format!("/posts/{en_slug}?lang=en"))
        .assert_error(404, "NOT_FOUND");

    let published = mutation(
        &send(
            stack,
            "POST",
            &format!("/admin/posts/{id}/publish"),
            &e.otp.access,
            None,
        ),
        200,
    );
    assert_eq!(published["status"], "published");
    assert!(published["publishedAt"].is_string(), "{published:#}");

    let list = stack.get("/posts?lang=en&pageSize=100");
    assert_eq!(list.status, 200, "{list}");
    let list = list.json();
    assert_eq!(list["success"], json!(true));
    assert!(list["pagination"]["totalItems"].as_u64().unwrap_or(0) >= 1);
    let item = list["data"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == json!(id)))
        .unwrap_or_else(|| panic!("published post not listed: {list:#}"));
    assert_eq!(item["slug"], json!(en_slug));
    let tagged = stack.get("/posts?lang=en&tag=edge&pageSize=100").json();
    assert!(
        tagged["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == json!(id))
    );

    let en = stack.get(&format!("/posts/{en_slug}?lang=en"));
    assert_eq!(en.status, 200, "{en}");
    let en = en.json()["data"].clone();
    assert_eq!(en["title"], "Hello edge");
    let html = en["bodyHtml"].as_str().unwrap();
    assert!(html.contains("<h1>Hello</h1>"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    assert_eq!(en["rating"], json!({"average": null, "count": 0}));
    assert_eq!(en["views"], 0);
    assert_eq!(en["author"]["id"], json!(e.otp.user_id()));
    assert_eq!(
        en["alternates"],
        json!([
            {"lang": "en", "slug": en_slug, "url": format!("/posts/{en_slug}?lang=en")},
            {"lang": "vi", "slug": vi_slug, "url": format!("/posts/{vi_slug}?lang=vi")}
        ])
    );
    assert_eq!(en["jsonLd"]["@type"], "BlogPosting");
    assert_eq!(en["jsonLd"]["headline"], "Hello edge");

    let vi = stack.get(&format!("/posts/{vi_slug}?lang=vi"));
    assert_eq!(vi.status, 200, "{vi}");
    let vi = vi.json()["data"].clone();
    assert_eq!(vi["lang"], "vi");
    assert_eq!(vi["bodyHtml"], "<p>Nội dung <strong>đậm</strong>.</p>\n");
    assert_eq!(vi["alternates"], en["alternates"]);

    let draft = mutation(
        &send(
            stack,
            "POST",
            &format!("/admin/posts/{id}/unpublish"),
            &e.otp.access,
            None,
        ),
        200,
    );
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["publishedAt"], Value::Null);
    stack
        .get(&format!("/posts/{en_slug}?lang=en"))
        .assert_error(404, "NOT_FOUND");

    let deleted = mutation(
        &send(
            stack,
            "DELETE",
            &format!("/admin/posts/{id}"),
            &e.otp.access,
            None,
        ),
        200,
    );
    assert_eq!(deleted["status"], "deleted");
    send(
        stack,
        "POST",
        &format!("/admin/posts/{id}/publish"),
        &e.otp.access,
        None,
    )
    .assert_error(404, "NOT_FOUND");
    let listed = send(
        stack,
        "GET",
        "/admin/posts?status=deleted&pageSize=100",
        &e.otp.access,
        None,
    );
    assert_eq!(listed.status, 200, "{listed}");
    assert!(
        listed.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == json!(id)),
        "{listed}"
    );
}

fn content_public_reads_answer_if_none_match_with_304(stack: &Stack) {
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

fn content_a_stale_version_is_409_update_conflict(stack: &Stack) {
    let e = editor(stack);
    let id = id(&create(stack, &e, &random_hex(4)));
    let path = format!("/admin/posts/{id}");
    let first = mutation(
        &send(
            stack,
            "PATCH",
            &path,
            &e.otp.access,
            Some(&json!({"version": 1, "translations": {"en": {"title": "First"}}})),
        ),
        200,
    );
    assert_eq!(first["version"], 2);
    assert_eq!(first["translations"]["en"]["title"], "First");
    send(
        stack,
        "PATCH",
        &path,
        &e.otp.access,
        Some(&json!({"version": 1, "translations": {"en": {"title": "Second"}}})),
    )
    .assert_error(409, "UPDATE_CONFLICT");
    // A slug another post holds in that language is 409 CONFLICT.
    let other = create(stack, &e, &random_hex(4));
    let taken = other["translations"]["en"]["slug"].clone();
    send(
        stack,
        "PATCH",
        &path,
        &e.otp.access,
        Some(&json!({"version": 2, "translations": {"en": {"slug": taken}}})),
    )
    .assert_error(409, "CONFLICT");
}

fn content_three_overlapping_cron_runs_publish_a_due_post_exactly_once(stack: &Stack) {
    let e = editor(stack);
    let id = id(&create(stack, &e, &random_hex(4)));
    let schedule = |at: &str| {
        send(
            stack,
            "POST",
            &format!("/admin/posts/{id}/schedule"),
            &e.otp.access,
            Some(&json!({ "publishAt": at })),
        )
    };
    let past = rfc3339(unix_now() - 60);
    let refused = schedule(&past);
    let body = refused.assert_error(400, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["field"], "publishAt", "{refused}");

    // Whole seconds: 2–3 s from now.
    let at = rfc3339(unix_now() + 3);
    let scheduled = mutation(&schedule(&at), 200);
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(scheduled["publishAt"], json!(at));
    let version = scheduled["version"].as_i64().unwrap();
    while unix_now() <= at_secs(&at) {
        thread::sleep(Duration::from_millis(250));
    }
    thread::sleep(Duration::from_millis(500));

    let runs: Vec<bool> = thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| stack.cron("content"))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(runs, vec![true, true, true]);

    let admin = send(
        stack,
        "GET",
        "/admin/posts?status=published&pageSize=100",
        &e.otp.access,
        None,
    );
    assert_eq!(admin.status, 200, "{admin}");
    let admin = admin.json();
    let post = admin["data"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == json!(id)))
        .unwrap_or_else(|| panic!("not published: {admin:#}"))
        .clone();
    // Claimed once: one version step, one publication time.
    assert_eq!(post["version"], json!(version + 1), "{post:#}");
    assert!(post["publishedAt"].is_string(), "{post:#}");
    assert_eq!(post["publishAt"], Value::Null);

    // A later run changes nothing.
    assert!(stack.cron("content"));
    let again = send(
        stack,
        "GET",
        "/admin/posts?status=published&pageSize=100",
        &e.otp.access,
        None,
    )
    .json();
    let same = again["data"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == json!(id)))
        .unwrap()
        .clone();
    assert_eq!(same["version"], post["version"]);
    assert_eq!(same["publishedAt"], post["publishedAt"]);
    let public = stack.get(&format!(
        "/posts/{}?lang=en",
        post["translations"]["en"]["slug"].as_str().unwrap()
    ));
    assert_eq!(public.status, 200, "{public}");
}

fn content_bad_post_bodies_are_400_or_413(stack: &Stack) {
    let e = editor(stack);
    let post = |body: &Value| send(stack, "POST", "/admin/posts", &e.otp.access, Some(body));
    let mut unknown = new_post(&random_hex(4));
    unknown["extra"] = json!(true);
    post(&unknown).assert_error(400, "VALIDATION_FAILED");

    let mut bad_slug = new_post(&random_hex(4));
    bad_slug["translations"]["en"]["slug"] = json!("Not A Slug!");
    let body = post(&bad_slug).assert_error(400, "VALIDATION_FAILED");
    assert_eq!(
        body["errors"][0]["field"], "translations.en.slug",
        "{body:#}"
    );

    // Over the 100,000-character body limit, within the route's 512 KiB.
    let mut long = new_post(&random_hex(4));
    long["translations"]["en"]["body"] = json!("x".repeat(100_001));
    let body = post(&long).assert_error(400, "VALIDATION_FAILED");
    assert_eq!(
        body["errors"][0]["field"], "translations.en.body",
        "{body:#}"
    );

    // Over the route's 512 KiB: the edge refuses it.
    let mut huge = new_post(&random_hex(4));
    huge["translations"]["en"]["body"] = json!("x".repeat(600 * 1024));
    post(&huge).assert_error(413, "PAYLOAD_TOO_LARGE");

    bearer_request(stack, "POST", "/admin/posts", &e.otp.access)
        .header("Content-Type", "application/json")
        .body("{\"translations\":")
        .send()
        .assert_error(400, "MALFORMED_JSON");
}

/// Unix seconds as RFC 3339 UTC.
fn rfc3339(secs: u64) -> String {
    sealpost_ports::rfc3339(i64::try_from(secs).expect("time fits") * 1000)
}

fn at_secs(s: &str) -> u64 {
    u64::try_from(sealpost_ports::parse_rfc3339(s).expect("rfc3339") / 1000).expect("positive")
}

/// A published post of the shared editor; its id and English slug.
fn published_post(stack: &Stack) -> (String, String) {
    let suffix = random_hex(4);
    let post_id = published(stack, &editor(stack), &suffix);
    (post_id, format!("hello-{suffix}"))
}

/// A client IP of its own (the views throttle counts per IP).
fn fresh_ip() -> String {
    let h = random_hex(3);
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(1);
    format!("10.{}.{}.{}", byte(0), byte(2), byte(4))
}

fn view(stack: &Stack, post_id: &str, visitor: &str, ip: &str, token: Option<&str>) -> Reply {
    let path = format!("/posts/{post_id}/views");
    let call = match token {
        Some(t) => bearer_request(stack, "POST", &path, t),
        None => stack.request("POST", &path),
    };
    call.client_ip(ip)
        .json(&json!({"visitorId": visitor}))
        .send()
}

fn public_post(stack: &Stack, slug: &str) -> Value {
    let r = stack.get(&format!("/posts/{slug}?lang=en"));
    assert_eq!(r.status, 200, "{r}");
    r.json()["data"].clone()
}

fn content_a_second_rating_replaces_the_first_and_the_average_follows(stack: &Stack) {
    let (post_id, slug) = published_post(stack);
    let path = format!("/posts/{post_id}/rating");
    let a = new_member(stack, "rater-a");
    let b = new_member(stack, "rater-b");
    let first = mutation(
        &send(stack, "PUT", &path, &a.access, Some(&json!({"score": 2}))),
        200,
    );
    assert_eq!(
        first["rating"],
        json!({"average": 2.0, "count": 1}),
        "{first:#}"
    );
    let again = mutation(
        &send(stack, "PUT", &path, &a.access, Some(&json!({"score": 5}))),
        200,
    );
    assert_eq!(again["score"], json!(5));
    assert_eq!(
        again["rating"],
        json!({"average": 5.0, "count": 1}),
        "{again:#}"
    );
    let both = mutation(
        &send(stack, "PUT", &path, &b.access, Some(&json!({"score": 4}))),
        200,
    );
    assert_eq!(
        both["rating"],
        json!({"average": 4.5, "count": 2}),
        "{both:#}"
    );
    assert_eq!(
        public_post(stack, &slug)["rating"],
        json!({"average": 4.5, "count": 2})
    );
    send(stack, "PUT", &path, &a.access, Some(&json!({"score": 6})))
        .assert_error(400, "VALIDATION_FAILED");
    send(stack, "PUT", &path, &a.access, Some(&json!({"score": 3.5})))
        .assert_error(400, "VALIDATION_FAILED");
    stack
        .request("PUT", &path)
        .json(&json!({"score": 3}))
        .send()
        .assert_error(401, "AUTH_REQUIRED");
    send(
        stack,
        "PUT",
        "/posts/no-such-post/rating",
        &a.access,
        Some(&json!({"score": 3})),
    )
    .assert_error(404, "NOT_FOUND");
}

fn content_views_count_once_per_visitor_and_are_throttled_per_ip(stack: &Stack) {
    let (post_id, slug) = published_post(stack);
    let visitor = format!("visitor-{}", random_hex(8));
    let first = mutation(&view(stack, &post_id, &visitor, &fresh_ip(), None), 202);
    assert_eq!(first["counted"], json!(true), "{first:#}");
    let again = mutation(&view(stack, &post_id, &visitor, &fresh_ip(), None), 202);
    assert_eq!(again["counted"], json!(false), "{again:#}");
    let other = format!("visitor-{}", random_hex(8));
    mutation(&view(stack, &post_id, &other, &fresh_ip(), None), 202);
    assert_eq!(public_post(stack, &slug)["views"], json!(2));
    view(stack, &post_id, "short", &fresh_ip(), None).assert_error(400, "VALIDATION_FAILED");

    // 30 per 60 s per IP: the 31st within the window is refused. (A window
    // boundary may fall inside the burst: allow a second window's worth.)
    let ip = fresh_ip();
    let mut limited = None;
    for i in 0..61 {
        let r = view(stack, &post_id, &format!("burst-visitor-{i}"), &ip, None);
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 202, "{r}");
    }
    let limited = limited.expect("never throttled");
    limited.assert_error(429, "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some(), "{limited}");
    // Another IP still gets through.
    mutation(
        &view(
            stack,
            &post_id,
            &format!("visitor-{}", random_hex(8)),
            &fresh_ip(),
            None,
        ),
        202,
    );
}

fn content_activity_shows_the_callers_rating_and_read(stack: &Stack) {
    let (post_id, slug) = published_post(stack);
    let me = new_member(stack, "active");
    let visitor = format!("visitor-{}", random_hex(8));
    mutation(
        &view(stack, &post_id, &visitor, &fresh_ip(), Some(&me.access)),
        202,
    );
    mutation(
        &send(
            stack,
            "PUT",
            &format!("/posts/{post_id}/rating"),
            &me.access,
            Some(&json!({"score": 4})),
        ),
        200,
    );
    let r = bearer_get(stack, "/me/activity?pageSize=10", &me.access);
    assert_eq!(r.status, 200, "{r}");
    let body = r.json();
    assert_eq!(body["pagination"]["totalItems"], json!(2), "{body:#}");
    let items = body["data"].as_array().expect("items");
    let rating = items
        .iter()
        .find(|i| i["type"] == "rating")
        .unwrap_or_else(|| panic!("no rating: {body:#}"));
    assert_eq!(rating["postId"], json!(post_id));
    assert_eq!(rating["score"], json!(4));
    assert_eq!(rating["slug"], json!(slug));
    let read = items
        .iter()
        .find(|i| i["type"] == "read")
        .unwrap_or_else(|| panic!("no read: {body:#}"));
    assert_eq!(read["postId"], json!(post_id));
    stack.get("/me/activity").assert_error(401, "AUTH_REQUIRED");
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

fn content_a_public_post_is_served_from_the_edge_cache_and_purged_on_change(stack: &Stack) {
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
