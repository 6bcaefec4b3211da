//! What the edge does to every request: request ids and security headers,
//! routing (unknown paths, wrong methods, each domain worker), body limits
//! and media types, the per-client rate limit, and CORS.
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sealpost_e2e::{ALLOWED_ORIGIN, Reply, Stack, json, repo_root, unique_ip};

use super::assert_post_list;

/// The per-client budget of the edge: `[[ratelimits]] simple.limit` of the
/// gateway's wrangler.toml, and its period in seconds.
fn edge_rate_limit() -> (u64, u64) {
    let path = repo_root().join("wrangler.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let doc: toml::Table = toml::from_str(&text).expect("wrangler.toml is TOML");
    let limiter = doc["ratelimits"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|r| r["name"].as_str() == Some("EDGE_LIMITER"))
        })
        .expect("wrangler.toml has the EDGE_LIMITER [[ratelimits]]");
    let simple = &limiter["simple"];
    let limit = simple["limit"].as_integer().expect("simple.limit");
    let period = simple["period"].as_integer().expect("simple.period");
    (
        u64::try_from(limit).expect("positive limit"),
        u64::try_from(period).expect("positive period"),
    )
}

fn unix_now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

pub(super) fn every_response_carries_a_distinct_request_id_and_the_security_headers(stack: &Stack) {
    let replies = [
        ("404", stack.get("/nope")),
        ("405", stack.request("DELETE", "/health").send()),
        ("200", stack.get("/health")),
        ("401", stack.get("/auth/me")),
        (
            "413",
            stack
                .request("POST", "/posts/abc/views")
                .header("Content-Type", "application/json")
                .body(vec![b' '; 4096])
                .send(),
        ),
        (
            "204",
            stack
                .request("OPTIONS", "/posts/abc/views")
                .header("Origin", ALLOWED_ORIGIN)
                .header("Access-Control-Request-Method", "POST")
                .send(),
        ),
    ];
    let mut ids = HashSet::new();
    for (expected, reply) in &replies {
        assert_eq!(reply.status.to_string(), *expected, "{reply}");
        let id = reply
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id: {reply}"));
        assert!(
            id.len() >= 16
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "odd request id {id:?}"
        );
        assert_eq!(reply.header_all("x-request-id").len(), 1, "{reply}");
        assert!(ids.insert(id.to_owned()), "request id {id} repeated");
        let hsts = reply
            .header("strict-transport-security")
            .unwrap_or_else(|| panic!("no Strict-Transport-Security: {reply}"));
        let max_age: u64 = hsts
            .strip_prefix("max-age=")
            .and_then(|r| r.split(';').next())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("odd Strict-Transport-Security {hsts:?}"));
        assert!(max_age >= 31_536_000, "HSTS max-age under a year: {hsts}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{reply}"
        );
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{reply}"
        );
        assert_eq!(
            reply.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{reply}"
        );
    }
}

pub(super) fn an_unknown_path_is_404_not_found(stack: &Stack) {
    for path in ["/nope", "/posts/a/b", "/health/", "/auth"] {
        let reply = stack.get(path);
        let body = reply.assert_error(404, "NOT_FOUND");
        assert_eq!(
            body.as_object().map(|o| {
                let mut k: Vec<&str> = o.keys().map(String::as_str).collect();
                k.sort_unstable();
                k
            }),
            Some(vec!["error", "message", "success"]),
            "{path}: {reply}"
        );
    }
    // Unknown paths are 404 whatever the method.
    stack
        .request("POST", "/nope")
        .json(&json!({}))
        .send()
        .assert_error(404, "NOT_FOUND");
}

pub(super) fn a_wrong_method_is_405_with_the_allowed_methods(stack: &Stack) {
    for (method, path, allow) in [
        ("DELETE", "/health", "GET"),
        ("PUT", "/posts", "GET"),
        ("DELETE", "/admin/posts", "GET, POST"),
        ("GET", "/auth/login", "POST"),
        ("PUT", "/subscribe/confirm", "GET, POST"),
    ] {
        let reply = stack.request(method, path).send();
        reply.assert_error(405, "METHOD_NOT_ALLOWED");
        assert_eq!(
            reply.header("allow"),
            Some(allow),
            "{method} {path}: {reply}"
        );
    }
}

pub(super) fn each_domain_worker_is_reached_through_the_gateway(stack: &Stack) {
    // One catalogue route per worker. Auth has landed: its worker asks for a
    // token; content lists posts; comments knows no post `abc`; campaigns
    // asks for a token on its admin table.
    let me = stack.get("/auth/me");
    me.assert_error(401, "AUTH_REQUIRED");
    assert!(me.header("x-request-id").is_some(), "{me}");
    let posts = stack.get("/posts");
    assert_post_list(&posts);
    assert!(posts.header("x-request-id").is_some(), "{posts}");
    let comments = stack.get("/posts/abc/comments");
    comments.assert_error(404, "NOT_FOUND");
    assert!(comments.header("x-request-id").is_some(), "{comments}");
    let campaigns = stack.get("/admin/subscribers");
    campaigns.assert_error(401, "AUTH_REQUIRED");
    assert!(campaigns.header("x-request-id").is_some(), "{campaigns}");
}

pub(super) fn a_body_over_the_route_limit_is_413_payload_too_large(stack: &Stack) {
    // POST /posts/{id}/views takes at most 1 KiB of JSON.
    let big = json!({ "pad": "x".repeat(2048) }).to_string();
    let declared = stack
        .request("POST", "/posts/abc/views")
        .header("Content-Type", "application/json")
        .body(big.clone())
        .send();
    declared.assert_error(413, "PAYLOAD_TOO_LARGE");
    // Without a declared length the edge reads it and cuts it off.
    let streamed = stack
        .request("POST", "/posts/abc/views")
        .header("Content-Type", "application/json")
        .chunked_body(big)
        .send();
    streamed.assert_error(413, "PAYLOAD_TOO_LARGE");
    // One byte over is over.
    let over = format!("{{\"pad\":\"{}\"}}", "x".repeat(1025 - 10));
    assert_eq!(over.len(), 1025);
    stack
        .request("POST", "/posts/abc/views")
        .header("Content-Type", "application/json")
        .body(over)
        .send()
        .assert_error(413, "PAYLOAD_TOO_LARGE");
}

pub(super) fn a_body_on_a_route_without_one_is_413_payload_too_large(stack: &Stack) {
    stack
        .request("GET", "/posts")
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    stack
        .request("DELETE", "/admin/posts/abc")
        .body("x")
        .send()
        .assert_error(413, "PAYLOAD_TOO_LARGE");
}

pub(super) fn a_non_json_body_on_a_json_route_is_415_unsupported_media_type(stack: &Stack) {
    stack
        .request("POST", "/posts/abc/views")
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    // A required JSON body without any Content-Type is refused the same way.
    stack
        .request("POST", "/posts/abc/views")
        .body("{}")
        .send()
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
}

pub(super) fn malformed_json_is_400_malformed_json(stack: &Stack) {
    for body in ["{bad", "", "{\"a\":1}}"] {
        let reply = stack
            .request("POST", "/posts/abc/views")
            .header("Content-Type", "application/json")
            .body(body)
            .send();
        reply.assert_error(400, "MALFORMED_JSON");
    }
}

pub(super) fn a_well_formed_body_within_the_limit_reaches_the_worker(stack: &Stack) {
    for content_type in ["application/json", "Application/JSON; charset=utf-8"] {
        let reply = stack
            .request("POST", "/posts/abc/views")
            .header("Content-Type", content_type)
            .body("{}")
            .send();
        assert_reached_the_views_worker(&reply);
    }
    // Exactly at the limit (1 KiB) passes.
    let full = format!("{{\"pad\":\"{}\"}}", "x".repeat(1024 - 10));
    assert_eq!(full.len(), 1024);
    let reply = stack
        .request("POST", "/posts/abc/views")
        .header("Content-Type", "application/json")
        .body(full)
        .send();
    assert_reached_the_views_worker(&reply);
}

/// The content worker's own answer to a JSON body that is not `{visitorId}`
/// (the gateway never validates fields).
#[track_caller]
fn assert_reached_the_views_worker(reply: &Reply) {
    reply.assert_error(400, "VALIDATION_FAILED");
}

pub(super) fn a_client_over_the_rate_limit_gets_429_with_retry_after_and_others_do_not(
    stack: &Stack,
) {
    const THREADS: usize = 8;
    const MIN_LEFT_MS: u128 = 15_000;
    let (limit, period) = edge_rate_limit();
    let period_ms = u128::from(period) * 1000;
    // The runtime counts per wall-clock window (floor(now / period)): start a
    // burst only with enough of the window left, and retry if a burst
    // nevertheless straddled two windows.
    for attempt in 1..=3 {
        let left = period_ms - unix_now_ms() % period_ms;
        if left < MIN_LEFT_MS {
            let wait = u64::try_from(left + 200).unwrap_or(0);
            eprintln!("e2e: rate limit: waiting {wait} ms for a fresh window");
            thread::sleep(Duration::from_millis(wait));
        }
        let window = unix_now_ms() / period_ms;
        let ip = unique_ip();
        let started = Instant::now();
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < limit {
                        let reply = stack.request("GET", "/nope").client_ip(&ip).send();
                        statuses.lock().expect("statuses").push(reply.status);
                    }
                });
            }
        });
        let over = stack.request("GET", "/nope").client_ip(&ip).send();
        let other = stack.get("/nope");
        if unix_now_ms() / period_ms != window {
            eprintln!(
                "e2e: rate limit: attempt {attempt} straddled two windows ({:.1}s); retrying",
                started.elapsed().as_secs_f64()
            );
            continue;
        }
        eprintln!(
            "e2e: rate limit: {limit} requests took {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let statuses = statuses.lock().expect("statuses");
        assert_eq!(statuses.len() as u64, limit);
        let limited = statuses.iter().filter(|&&s| s == 429).count();
        assert_eq!(
            limited, 0,
            "{limited} of the first {limit} requests were limited"
        );
        assert!(statuses.iter().all(|&s| s == 404), "{statuses:?}");

        over.assert_error(429, "RATE_LIMITED");
        let retry_after = over
            .header("retry-after")
            .unwrap_or_else(|| panic!("429 without Retry-After: {over}"));
        let secs: u64 = retry_after
            .parse()
            .unwrap_or_else(|_| panic!("Retry-After is not an integer: {retry_after:?}"));
        assert!(secs > 0, "Retry-After {secs}");
        assert!(over.header("x-request-id").is_some(), "{over}");

        other.assert_error(404, "NOT_FOUND");
        return;
    }
    panic!("every burst straddled two rate-limit windows: the stack is too slow");
}

pub(super) fn a_cors_preflight_is_answered_only_for_allowed_origins(stack: &Stack) {
    let allowed = stack
        .request("OPTIONS", "/posts/abc/views")
        .header("Origin", ALLOWED_ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send();
    assert_eq!(allowed.status, 204, "{allowed}");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN),
        "{allowed}"
    );
    let methods = allowed
        .header("access-control-allow-methods")
        .unwrap_or_else(|| panic!("no Access-Control-Allow-Methods: {allowed}"));
    assert!(methods.split(',').any(|m| m.trim() == "POST"), "{methods}");
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap_or_else(|| panic!("no Access-Control-Allow-Headers: {allowed}"))
        .to_ascii_lowercase();
    assert!(headers.contains("content-type"), "{headers}");
    assert!(allowed.body.is_empty(), "{allowed}");

    let evil = stack
        .request("OPTIONS", "/posts/abc/views")
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send();
    assert_eq!(evil.status, 204, "{evil}");
    for h in [
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ] {
        assert_eq!(evil.header(h), None, "{h}: {evil}");
    }

    // A preflight for a path that does not exist is a plain 404.
    stack
        .request("OPTIONS", "/nope")
        .header("Origin", ALLOWED_ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .assert_error(404, "NOT_FOUND");
}

pub(super) fn responses_carry_cors_headers_only_for_allowed_origins(stack: &Stack) {
    let allowed = stack
        .request("GET", "/posts")
        .header("Origin", ALLOWED_ORIGIN)
        .send();
    assert_post_list(&allowed);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN),
        "{allowed}"
    );
    assert!(
        allowed
            .header("vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("origin")),
        "{allowed}"
    );
    let exposed = allowed
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{allowed}");

    for origin in [
        "https://evil.example",
        "https://app.example.evil.example",
        "null",
    ] {
        let reply = stack
            .request("GET", "/posts")
            .header("Origin", origin)
            .send();
        assert_post_list(&reply);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            None,
            "{origin}: {reply}"
        );
    }
    let none = stack.get("/posts");
    assert_eq!(none.header("access-control-allow-origin"), None, "{none}");
}
