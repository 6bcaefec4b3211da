//! Ratings, read counts and activity (`PUT /posts/{id}/rating`,
//! `POST /posts/{id}/views`, `GET /me/activity`) on the native doubles:
//! SQLite with the real migrations, a manual clock, seeded randomness, the
//! in-memory rate limiter and real ES256 access tokens.
use sealpost_api::routes::RouteId;
use sealpost_content_core::engagement::visitor_hash;
use sealpost_guard::Role;
use sealpost_ports::rfc3339;
use serde_json::{Value, json};

mod common;

use common::{KEY, MINUTE, Reply, Req, START_MS, World};

impl World {
    /// The route with a raw body, a token, path parameters, a query and a client IP.
    #[allow(clippy::too_many_arguments)]
    fn call_raw(
        &self,
        route: RouteId,
        body: &[u8],
        token: Option<&str>,
        id: Option<&str>,
        slug: Option<&str>,
        query: &str,
        ip: &str,
    ) -> Reply {
        self.call(
            route,
            Req {
                raw: Some(body),
                token,
                id,
                slug,
                query,
                ip,
                ..Req::default()
            },
        )
    }

    /// A post by a fresh editor, published unless `publish` is false; its id.
    fn post(&self, slug: &str, publish: bool) -> String {
        let editor = self.user(&format!("ed-{slug}"), &[Role::Editor], &["pwd", "otp"]);
        let body = json!({"translations": {"en": {"title": format!("Title {slug}"), "slug": slug, "body": "Hello."}}});
        let r = self.call_raw(
            RouteId::AdminPostCreate,
            body.to_string().as_bytes(),
            Some(&editor),
            None,
            None,
            "",
            "",
        );
        assert_eq!(r.status, 201, "{r:?}");
        let id = r.data()["id"].as_str().expect("id").to_owned();
        if publish {
            let r = self.call_raw(
                RouteId::AdminPostPublish,
                b"",
                Some(&editor),
                Some(&id),
                None,
                "",
                "",
            );
            assert_eq!(r.status, 200, "{r:?}");
        }
        id
    }

    fn rate_raw(&self, token: &str, id: &str, body: &str) -> Reply {
        self.call_raw(
            RouteId::PostRate,
            body.as_bytes(),
            Some(token),
            Some(id),
            None,
            "",
            "",
        )
    }

    fn rate(&self, token: &str, id: &str, score: i64) -> Reply {
        self.rate_raw(token, id, &json!({"score": score}).to_string())
    }

    fn view_as(&self, id: &str, visitor: &str, ip: &str, token: Option<&str>) -> Reply {
        let body = json!({"visitorId": visitor}).to_string();
        self.call_raw(
            RouteId::PostView,
            body.as_bytes(),
            token,
            Some(id),
            None,
            "",
            ip,
        )
    }

    fn view(&self, id: &str, visitor: &str, ip: &str) -> Reply {
        self.view_as(id, visitor, ip, None)
    }

    fn public(&self, slug: &str) -> Value {
        let r = self.call_raw(RouteId::PostGet, b"", None, None, Some(slug), "lang=en", "");
        assert_eq!(r.status, 200, "{r:?}");
        r.data().clone()
    }

    fn activity(&self, token: &str, query: &str) -> Reply {
        self.call_raw(RouteId::MeActivity, b"", Some(token), None, None, query, "")
    }
}

#[test]
fn a_second_rating_replaces_the_first() {
    let w = World::new(11);
    let id = w.post("a", true);
    let alice = w.member("alice");
    let r = w.rate(&alice, &id, 2);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.data()["rating"], json!({"average": 2.0, "count": 1}));
    let r = w.rate(&alice, &id, 5);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.data()["postId"], json!(id));
    assert_eq!(r.data()["score"], json!(5));
    assert_eq!(r.data()["rating"], json!({"average": 5.0, "count": 1}));
    assert_eq!(w.public("a")["rating"], json!({"average": 5.0, "count": 1}));
}

#[test]
fn three_users_average_to_one_decimal() {
    let w = World::new(11);
    let id = w.post("a", true);
    assert_eq!(
        w.public("a")["rating"],
        json!({"average": null, "count": 0})
    );
    for (name, score) in [("u1", 5), ("u2", 4), ("u3", 4)] {
        assert_eq!(w.rate(&w.member(name), &id, score).status, 200);
    }
    // 13 / 3 = 4.333…
    assert_eq!(w.public("a")["rating"], json!({"average": 4.3, "count": 3}));
    let list = w.call_raw(RouteId::PostsList, b"", None, None, None, "lang=en", "");
    assert_eq!(
        list.data()[0]["rating"],
        json!({"average": 4.3, "count": 3})
    );
}

#[test]
fn aggregates_stay_exact_over_an_interleaved_sequence() {
    let w = World::new(11);
    let id = w.post("a", true);
    let users: Vec<String> = (0..6).map(|i| w.member(&format!("m{i}"))).collect();
    let mut expected = [0i64; 6];
    for step in 0..40usize {
        let who = (step * 7 + 3) % users.len();
        let score = i64::try_from(step % 5).unwrap() + 1;
        assert_eq!(w.rate(&users[who], &id, score).status, 200);
        expected[who] = score;
        let rated: Vec<i64> = expected.iter().copied().filter(|s| *s > 0).collect();
        let stored_sum = w.scalar("SELECT rating_sum FROM posts");
        let stored_count = w.scalar("SELECT rating_count FROM posts");
        assert_eq!(stored_sum, json!(rated.iter().sum::<i64>()));
        assert_eq!(stored_count, json!(rated.len()));
        // And the aggregate always equals the rows.
        assert_eq!(
            stored_sum,
            w.scalar("SELECT COALESCE(SUM(score), 0) FROM post_ratings")
        );
    }
}

#[test]
fn ratings_validate_strictly() {
    let w = World::new(11);
    let id = w.post("a", true);
    let m = w.member("m");
    for body in [
        r#"{"score":0}"#,
        r#"{"score":6}"#,
        r#"{"score":4.5}"#,
        r#"{"score":"4"}"#,
        r#"{"score":null}"#,
        r#"{"score":4,"extra":1}"#,
        r#"{}"#,
    ] {
        let r = w.rate_raw(&m, &id, body);
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"), "{body}");
    }
    let none = w.call_raw(
        RouteId::PostRate,
        br#"{"score":3}"#,
        None,
        Some(&id),
        None,
        "",
        "",
    );
    assert_eq!((none.status, none.code()), (401, "AUTH_REQUIRED"));
    assert_eq!(w.scalar("SELECT COUNT(*) FROM post_ratings"), json!(0));
}

#[test]
fn only_published_posts_take_ratings_and_views() {
    let w = World::new(11);
    let draft = w.post("draft", false);
    let m = w.member("m");
    let r = w.rate(&m, &draft, 3);
    assert_eq!((r.status, r.code()), (404, "NOT_FOUND"));
    let r = w.rate(&m, "no-such-post", 3);
    assert_eq!(r.status, 404);
    let r = w.view(&draft, "visitor-123", "1.1.1.1");
    assert_eq!((r.status, r.code()), (404, "NOT_FOUND"));
    let r = w.view("nope", "visitor-123", "1.1.1.1");
    assert_eq!(r.status, 404);
    assert_eq!(w.scalar("SELECT COUNT(*) FROM post_ratings"), json!(0));
    assert_eq!(w.scalar("SELECT COUNT(*) FROM post_views"), json!(0));
}

#[test]
fn views_count_once_per_visitor_and_store_only_a_keyed_hash() {
    let w = World::new(11);
    let id = w.post("a", true);
    let r = w.view(&id, "visitor-one", "1.1.1.1");
    assert_eq!(r.status, 202, "{r:?}");
    assert_eq!(r.data()["counted"], json!(true));
    let again = w.view(&id, "visitor-one", "1.1.1.2");
    assert_eq!(again.status, 202);
    assert_eq!(again.data()["counted"], json!(false));
    assert_eq!(w.public("a")["views"], json!(1));
    assert_eq!(w.view(&id, "visitor-two", "1.1.1.3").status, 202);
    assert_eq!(w.public("a")["views"], json!(2));
    // The raw id is nowhere; the HMAC under VISITOR_KEY is.
    assert_eq!(
        w.scalar("SELECT COUNT(*) FROM post_views WHERE visitor_hash LIKE '%visitor%'"),
        json!(0)
    );
    let hash = visitor_hash(&KEY, "default", "visitor-one");
    assert_eq!(hash.len(), 64);
    assert_eq!(
        w.scalar(&format!(
            "SELECT COUNT(*) FROM post_views WHERE visitor_hash = '{hash}'"
        )),
        json!(1)
    );
    assert_eq!(
        w.scalar("SELECT view_count FROM posts"),
        w.scalar("SELECT COUNT(*) FROM post_views")
    );
}

#[test]
fn views_validate_the_visitor_id_and_are_throttled_per_ip() {
    let w = World::new(11);
    let id = w.post("a", true);
    for body in [
        r#"{"visitorId":"short"}"#.to_owned(),
        json!({"visitorId": "x".repeat(129)}).to_string(),
        r#"{"visitorId":"has space!"}"#.to_owned(),
        r#"{"visitorId":12345678}"#.to_owned(),
        r#"{"visitorId":"visitor-1","x":1}"#.to_owned(),
    ] {
        let r = w.call_raw(
            RouteId::PostView,
            body.as_bytes(),
            None,
            Some(&id),
            None,
            "",
            "9.9.9.9",
        );
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"), "{body}");
    }
    // The limiter (5 per 60 s in this world) already counted those five.
    let r = w.view(&id, "visitor-ok-1", "9.9.9.9");
    assert_eq!((r.status, r.code()), (429, "RATE_LIMITED"));
    assert_eq!(r.retry_after.as_deref(), Some("60"));
    // Another IP is not affected; the next window lets the first one in again.
    assert_eq!(w.view(&id, "visitor-ok-1", "8.8.8.8").status, 202);
    w.clock.advance_ms(MINUTE);
    assert_eq!(w.view(&id, "visitor-ok-2", "9.9.9.9").status, 202);
    assert_eq!(w.public("a")["views"], json!(2));
}

#[test]
fn activity_lists_the_callers_ratings_and_reads_newest_first() {
    let w = World::new(11);
    let a = w.post("a", true);
    let b = w.post("b", true);
    let me = w.member("me");
    let other = w.member("other");
    assert_eq!(
        w.view_as(&a, "visitor-me-1", "1.0.0.1", Some(&me)).status,
        202
    );
    w.clock.advance_ms(1000);
    assert_eq!(w.rate(&me, &a, 4).status, 200);
    w.clock.advance_ms(1000);
    assert_eq!(
        w.view_as(&b, "visitor-me-1", "1.0.0.1", Some(&me)).status,
        202
    );
    w.clock.advance_ms(1000);
    // Not mine; an anonymous read is nobody's; a bad token is ignored.
    assert_eq!(w.rate(&other, &b, 1).status, 200);
    assert_eq!(w.view(&b, "visitor-anon", "1.0.0.2").status, 202);
    assert_eq!(
        w.view_as(&b, "visitor-bad", "1.0.0.3", Some("not.a.token"))
            .status,
        202
    );

    let r = w.activity(&me, "");
    assert_eq!(r.status, 200, "{r:?}");
    let items = r.body["data"].as_array().expect("items").clone();
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["type"].as_str().unwrap(), i["postId"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("read", b.as_str()),
            ("rating", a.as_str()),
            ("read", a.as_str())
        ]
    );
    assert_eq!(items[1]["score"], json!(4));
    assert!(items[0].get("score").is_none());
    assert_eq!(items[1]["slug"], json!("a"));
    assert_eq!(items[1]["title"], json!("Title a"));
    assert_eq!(items[2]["at"], json!(rfc3339(START_MS)));

    let page = w.activity(&me, "page=2&pageSize=2");
    assert_eq!(page.status, 200, "{page:?}");
    let items = page.body["data"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], json!("read"));
    assert_eq!(items[0]["postId"], json!(a));
    assert_eq!(page.body["pagination"]["totalItems"], json!(3), "{page:?}");

    let none = w.activity("", "");
    assert_eq!(none.status, 401);
}
