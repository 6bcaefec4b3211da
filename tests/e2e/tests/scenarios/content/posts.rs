//! Editing posts: who may edit, a post from draft to published and read in
//! both languages, stale versions, scheduled publishing under overlapping
//! cron runs, and bad post bodies.
use std::thread;
use std::time::Duration;

use sealpost_e2e::auth::{bearer_request, new_member};
use sealpost_e2e::comments::editor;
use sealpost_e2e::{Stack, Value, json, random_hex, rfc3339_utc, unix_now, unix_secs_of};

use super::{create, id, mutation, new_post, send};

pub(super) fn content_editor_routes_refuse_anonymous_members_and_editors_without_a_second_factor(
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

pub(super) fn content_a_post_goes_from_draft_to_published_and_is_read_in_both_languages(
    stack: &Stack,
) {
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
    // Links to the site's pages under the site's base URL (the stack's
    // gateway); each alternate keeps its API URL.
    let base = stack.base_url().trim_end_matches('/');
    assert_eq!(
        en["alternates"],
        json!([
            {"lang": "en", "slug": en_slug, "url": format!("{base}/en/posts/{en_slug}"),
             "apiUrl": format!("/posts/{en_slug}?lang=en")},
            {"lang": "vi", "slug": vi_slug, "url": format!("{base}/vi/posts/{vi_slug}"),
             "apiUrl": format!("/posts/{vi_slug}?lang=vi")}
        ])
    );
    assert_eq!(en["jsonLd"]["@type"], "BlogPosting");
    assert_eq!(en["jsonLd"]["headline"], "Hello edge");
    assert_eq!(en["jsonLd"]["url"], format!("{base}/en/posts/{en_slug}"));
    assert_eq!(en["jsonLd"]["publisher"]["url"], base);

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

pub(super) fn content_a_stale_version_is_409_update_conflict(stack: &Stack) {
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

pub(super) fn content_three_overlapping_cron_runs_publish_a_due_post_exactly_once(stack: &Stack) {
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
    let past = rfc3339_utc(unix_now() - 60);
    let refused = schedule(&past);
    let body = refused.assert_error(400, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["field"], "publishAt", "{refused}");

    // Whole seconds: 2–3 s from now.
    let at = rfc3339_utc(unix_now() + 3);
    let scheduled = mutation(&schedule(&at), 200);
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(scheduled["publishAt"], json!(at));
    let version = scheduled["version"].as_i64().unwrap();
    while unix_now() <= unix_secs_of(&at) {
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

pub(super) fn content_bad_post_bodies_are_400_or_413(stack: &Stack) {
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
