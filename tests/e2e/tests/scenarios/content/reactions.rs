//! Readers' reactions: ratings and their average, views counted once per
//! visitor and throttled per address, and the caller's activity.
use sealpost_e2e::auth::{bearer_get, bearer_request, new_member};
use sealpost_e2e::comments::editor;
use sealpost_e2e::{Reply, Stack, Value, json, random_hex};

use super::{mutation, published, send};

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

pub(super) fn content_a_second_rating_replaces_the_first_and_the_average_follows(stack: &Stack) {
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

pub(super) fn content_views_count_once_per_visitor_and_are_throttled_per_ip(stack: &Stack) {
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

pub(super) fn content_activity_shows_the_callers_rating_and_read(stack: &Stack) {
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
