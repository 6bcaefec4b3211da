//! End-to-end scenarios against one running stack (`scripts/serve`), each a
//! named trial. Run: `cargo test -p sealpost-e2e --test e2e` (the stack takes
//! a minute to start; the usual libtest filters and `--list` work, and the
//! stack is not started when no scenario is selected). Scenarios run in
//! parallel; those that need the stack to themselves (a restart) run after
//! them, one at a time, as a second libtest run with the same filters; the
//! exit code fails when either run has a failure.
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libtest_mimic::{Arguments, Trial};
use sealpost_e2e::{ALLOWED_ORIGIN, Reply, Stack, Value, json, repo_root, unique_ip, unix_now};

#[path = "scenarios/auth.rs"]
mod auth;
#[path = "scenarios/campaigns.rs"]
mod campaigns;
#[path = "scenarios/comments.rs"]
mod comments;
#[path = "scenarios/content.rs"]
mod content;
#[path = "scenarios/seal.rs"]
mod seal;

type Scenario = fn(&Stack);

/// Every scenario, by name.
const SCENARIOS: &[(&str, Scenario)] = &[
    (
        "health_reports_every_worker_up",
        health_reports_every_worker_up,
    ),
    (
        "every_response_carries_a_distinct_request_id_and_the_security_headers",
        every_response_carries_a_distinct_request_id_and_the_security_headers,
    ),
    (
        "an_unknown_path_is_404_not_found",
        an_unknown_path_is_404_not_found,
    ),
    (
        "a_wrong_method_is_405_with_the_allowed_methods",
        a_wrong_method_is_405_with_the_allowed_methods,
    ),
    (
        "each_domain_worker_is_reached_through_the_gateway",
        each_domain_worker_is_reached_through_the_gateway,
    ),
    (
        "a_body_over_the_route_limit_is_413_payload_too_large",
        a_body_over_the_route_limit_is_413_payload_too_large,
    ),
    (
        "a_body_on_a_route_without_one_is_413_payload_too_large",
        a_body_on_a_route_without_one_is_413_payload_too_large,
    ),
    (
        "a_non_json_body_on_a_json_route_is_415_unsupported_media_type",
        a_non_json_body_on_a_json_route_is_415_unsupported_media_type,
    ),
    (
        "malformed_json_is_400_malformed_json",
        malformed_json_is_400_malformed_json,
    ),
    (
        "a_well_formed_body_within_the_limit_reaches_the_worker",
        a_well_formed_body_within_the_limit_reaches_the_worker,
    ),
    (
        "a_client_over_the_rate_limit_gets_429_with_retry_after_and_others_do_not",
        a_client_over_the_rate_limit_gets_429_with_retry_after_and_others_do_not,
    ),
    (
        "a_cors_preflight_is_answered_only_for_allowed_origins",
        a_cors_preflight_is_answered_only_for_allowed_origins,
    ),
    (
        "responses_carry_cors_headers_only_for_allowed_origins",
        responses_carry_cors_headers_only_for_allowed_origins,
    ),
    (
        "an_unknown_host_is_404_site_not_found_and_localhost_is_served",
        an_unknown_host_is_404_site_not_found_and_localhost_is_served,
    ),
    (
        "a_site_added_with_scripts_site_is_served_on_its_host",
        a_site_added_with_scripts_site_is_served_on_its_host,
    ),
    (
        "the_dev_mail_route_is_routed_in_dev_mode",
        the_dev_mail_route_is_routed_in_dev_mode,
    ),
    (
        "a_cron_run_shows_in_the_health_log_as_last_run_at",
        a_cron_run_shows_in_the_health_log_as_last_run_at,
    ),
    (
        "with_dev_mode_off_dev_routes_are_unknown_and_health_wants_a_public_base_url",
        with_dev_mode_off_dev_routes_are_unknown_and_health_wants_a_public_base_url,
    ),
    (
        "cron_fails_for_an_unknown_worker_or_one_without_a_trigger",
        cron_fails_for_an_unknown_worker_or_one_without_a_trigger,
    ),
];

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    // Scenarios mostly wait on the network: run a few at once by default.
    args.test_threads.get_or_insert(4);

    // Domain scenarios carry their kind (`[auth] name`, `[content] name`,
    // `[comments] name`), so that `-- auth` or `-- content` selects them all.
    let kinded = |kind: &'static str, set: &'static [(&'static str, Scenario)]| {
        set.iter()
            .map(move |&(name, scenario)| (kind, name, scenario))
    };
    let parallel: Vec<(&str, &str, Scenario)> = kinded("", SCENARIOS)
        .chain(kinded("", seal::SCENARIOS))
        .chain(kinded("auth", auth::SCENARIOS))
        .chain(kinded("content", content::SCENARIOS))
        .chain(kinded("comments", comments::SCENARIOS))
        .chain(kinded("campaigns", campaigns::SCENARIOS))
        .collect();
    // Scenarios that need the stack to themselves (a restart of the whole
    // runtime): a second phase, one at a time, after every other finished.
    let serial: Vec<(&str, &str, Scenario)> = kinded("comments", comments::SERIAL_SCENARIOS)
        .chain(kinded("campaigns", campaigns::SERIAL_SCENARIOS))
        .collect();
    let any_selected = |set: &[(&str, &str, Scenario)]| {
        set.iter()
            .any(|(kind, name, _)| selected(&args, kind, name))
    };
    let stack = (!args.list && (any_selected(&parallel) || any_selected(&serial)))
        .then(|| Arc::new(Stack::start()));
    let trials = |set: &[(&'static str, &'static str, Scenario)]| -> Vec<Trial> {
        set.iter()
            .map(|&(kind, name, scenario)| {
                let stack = stack.clone();
                Trial::test(name, move || {
                    let stack = stack.ok_or("the stack was not started")?;
                    scenario(&stack);
                    Ok(())
                })
                .with_kind(kind)
            })
            .collect()
    };
    let started = Instant::now();
    let conclusion = libtest_mimic::run(&args, trials(&parallel));
    let serial_conclusion = (args.list || any_selected(&serial)).then(|| {
        let mut one_at_a_time = args.clone();
        one_at_a_time.test_threads = Some(1);
        libtest_mimic::run(&one_at_a_time, trials(&serial))
    });
    if let Some(stack) = stack {
        eprintln!(
            "e2e: scenarios took {:.1}s; stopping the stack",
            started.elapsed().as_secs_f64()
        );
        stack.stop();
    }
    match serial_conclusion {
        Some(c) if c.has_failed() => c.exit_code(),
        _ => conclusion.exit_code(),
    }
}

/// Whether libtest-mimic will run trial `name` of `kind` (its filter rules:
/// a substring of `[kind] name`, or with `--exact` the name or `[kind] name`).
fn selected(args: &Arguments, kind: &str, name: &str) -> bool {
    let full = if kind.is_empty() {
        name.to_owned()
    } else {
        format!("[{kind}] {name}")
    };
    let matches = |pattern: &str| {
        if args.exact {
            name == pattern || full == pattern
        } else {
            full.contains(pattern)
        }
    };
    !args.ignored
        && args.filter.as_deref().is_none_or(matches)
        && !args.skip.iter().any(|s| matches(s))
}

// ---------------------------------------------------------------- helpers

const DOMAIN_WORKERS: [&str; 4] = ["auth", "content", "comments", "campaigns"];

/// `GET /posts` answered by the content worker: the offset-list envelope.
#[track_caller]
fn assert_post_list(reply: &Reply) {
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], true, "{reply}");
    assert!(
        body["data"].is_array() && body["pagination"].is_object(),
        "{reply}"
    );
}

/// `value` at JSON pointer `path`, or a panic naming it.
#[track_caller]
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    value
        .pointer(path)
        .unwrap_or_else(|| panic!("no {path} in {value:#}"))
}

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

// -------------------------------------------------------------- scenarios

fn health_reports_every_worker_up(stack: &Stack) {
    let reply = stack.get("/health");
    assert_eq!(reply.status, 200, "{reply}");
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{reply}"
    );
    let body = reply.json();
    assert_eq!(body["status"], "ok", "{body:#}");
    assert_eq!(body["error"], json!({}), "{body:#}");
    let names: Vec<&str> = ["d1", "kv", "sites"]
        .into_iter()
        .chain(DOMAIN_WORKERS)
        .collect();
    for name in &names {
        assert_eq!(
            at(&body, &format!("/info/{name}")),
            &json!({"status": "up"}),
            "{name}: {body:#}"
        );
        assert_eq!(
            at(&body, &format!("/details/{name}")),
            &json!({"status": "up"})
        );
    }
    // Only up or down per indicator: no error text, counts or times.
    assert_eq!(
        body["details"].as_object().map(serde_json::Map::len),
        Some(names.len()),
        "{body:#}"
    );
}

fn every_response_carries_a_distinct_request_id_and_the_security_headers(stack: &Stack) {
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

fn an_unknown_path_is_404_not_found(stack: &Stack) {
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

fn a_wrong_method_is_405_with_the_allowed_methods(stack: &Stack) {
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

fn each_domain_worker_is_reached_through_the_gateway(stack: &Stack) {
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

fn a_body_over_the_route_limit_is_413_payload_too_large(stack: &Stack) {
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

fn a_body_on_a_route_without_one_is_413_payload_too_large(stack: &Stack) {
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

fn a_non_json_body_on_a_json_route_is_415_unsupported_media_type(stack: &Stack) {
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

fn malformed_json_is_400_malformed_json(stack: &Stack) {
    for body in ["{bad", "", "{\"a\":1}}"] {
        let reply = stack
            .request("POST", "/posts/abc/views")
            .header("Content-Type", "application/json")
            .body(body)
            .send();
        reply.assert_error(400, "MALFORMED_JSON");
    }
}

fn a_well_formed_body_within_the_limit_reaches_the_worker(stack: &Stack) {
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

fn a_client_over_the_rate_limit_gets_429_with_retry_after_and_others_do_not(stack: &Stack) {
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

fn a_cors_preflight_is_answered_only_for_allowed_origins(stack: &Stack) {
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

fn responses_carry_cors_headers_only_for_allowed_origins(stack: &Stack) {
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

fn an_unknown_host_is_404_site_not_found_and_localhost_is_served(stack: &Stack) {
    stack
        .request("GET", "/posts")
        .header("Host", "unknown.example")
        .send()
        .assert_error(404, "SITE_NOT_FOUND");
    let local = stack
        .request("GET", "/posts")
        .header("Host", &format!("localhost:{}", stack.port()))
        .send();
    assert_post_list(&local);
    let bare = stack
        .request("GET", "/posts")
        .header("Host", "localhost")
        .send();
    assert_post_list(&bare);
    // /health is the gateway's own: no site needed.
    let health = stack
        .request("GET", "/health")
        .header("Host", "unknown.example")
        .send();
    assert_eq!(health.status, 200, "{health}");
}

fn a_site_added_with_scripts_site_is_served_on_its_host(stack: &Stack) {
    let host = format!("blog-{}.e2e.example", sealpost_e2e::random_hex(4));
    let add = |site: &str| {
        std::process::Command::new(repo_root().join("scripts/site"))
            .args(["--local", site, &host, "E2E blog", "--base-url"])
            .arg(format!("https://{host}"))
            .env("STATE_DIR", stack.state_dir())
            .output()
            .expect("running scripts/site")
    };
    let out = add("e2eblog");
    assert!(
        out.status.success(),
        "scripts/site failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply = stack.request("GET", "/posts").header("Host", &host).send();
    assert_post_list(&reply);
    // A new site starts empty: no post of another site shows through.
    assert_eq!(reply.json()["pagination"]["totalItems"], 0, "{reply}");
    // A host already serving one site cannot be given to another.
    let taken = add("other");
    assert!(!taken.status.success(), "a taken host must be refused");
}

fn the_dev_mail_route_is_routed_in_dev_mode(stack: &Stack) {
    // The local inbox: an address nobody wrote to has an empty one.
    let to = format!("nobody-{}@e2e.test", sealpost_e2e::random_hex(4));
    let reply = stack.get(&format!("/__dev/mail?to={to}"));
    assert_eq!(reply.status, 200, "{reply}");
    assert_eq!(reply.json(), json!({"data": []}), "{reply}");
    stack
        .request("POST", "/__dev/mail")
        .send()
        .assert_error(405, "METHOD_NOT_ALLOWED");
}

/// A second stack as deployed (`DEV_MODE=false`): dev-only paths answer
/// every method exactly like an unknown path, and `/health` is down, saying
/// only `sites`, while the default site's base URL is the local gateway.
fn with_dev_mode_off_dev_routes_are_unknown_and_health_wants_a_public_base_url(_: &Stack) {
    let stack = Stack::start_with(&[("DEV_MODE", "false")]);
    let unknown = |method: &str| stack.request(method, "/__no/such/path").send();
    for path in ["/__dev/mail", "/__dev/mail/faults", "/__dev/subscribers"] {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let reply = stack
                .request(method, path)
                .header("Origin", ALLOWED_ORIGIN)
                .header("Access-Control-Request-Method", "GET")
                .send();
            let like = unknown(method);
            assert_eq!(reply.status, 404, "{method} {path}: {reply}");
            assert_eq!(reply.status, like.status, "{method} {path}");
            assert_eq!(reply.error_code(), like.error_code(), "{method} {path}");
            assert_eq!(reply.header("allow"), None, "{method} {path}: {reply}");
        }
    }
    let health = stack.get("/health");
    assert_eq!(health.status, 503, "{health}");
    let body = health.json();
    assert_eq!(
        body["error"],
        json!({"sites": {"status": "down"}}),
        "{body:#}"
    );
    // An operator gives the site its public origin: health comes up (after
    // the gateway isolate's few seconds of cached report).
    let out = std::process::Command::new(repo_root().join("scripts/site"))
        .args([
            "--local",
            "default",
            "127.0.0.1",
            "--base-url",
            "https://news.example.com",
        ])
        .env("STATE_DIR", stack.state_dir())
        .output()
        .expect("running scripts/site");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let health = stack.get("/health");
        if health.status == 200 {
            break;
        }
        assert!(Instant::now() < until, "health stayed down: {health}");
        thread::sleep(Duration::from_millis(1000));
    }
    stack.stop();
}

/// The `lastRunAt` values of `worker`'s cron in its health log lines.
fn logged_cron_runs(stack: &Stack, worker: &str) -> Vec<String> {
    let log =
        std::fs::read_to_string(stack.run_dir().join(format!("{worker}.log"))).unwrap_or_default();
    log.lines()
        .filter_map(|line| line.find('{').map(|at| &line[at..]))
        .filter_map(|text| serde_json::from_str::<Value>(text).ok())
        .filter(|line| line["msg"] == "health")
        .filter_map(|line| {
            line.pointer("/checks/cron/lastRunAt")?
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

fn a_cron_run_shows_in_the_health_log_as_last_run_at(stack: &Stack) {
    let before = unix_now();
    assert!(stack.cron("content"), "scripts/cron content failed");
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        // The public answer says only up; the time is in content's log line.
        let body = stack.get("/health").json();
        assert_eq!(
            at(&body, "/details/content"),
            &json!({"status": "up"}),
            "{body:#}"
        );
        let runs = logged_cron_runs(stack, "content");
        let ran_now = runs.iter().any(|text| {
            sealpost_e2e::parse_rfc3339_utc(text).is_some_and(|t| {
                let before = i64::try_from(before).expect("time") - 2;
                let now = i64::try_from(unix_now()).expect("time") + 2;
                (before..=now).contains(&t)
            })
        });
        if ran_now {
            return;
        }
        assert!(
            Instant::now() < until,
            "no health log line of content with the run just made: {runs:?}"
        );
        thread::sleep(Duration::from_millis(1000));
    }
}

fn cron_fails_for_an_unknown_worker_or_one_without_a_trigger(stack: &Stack) {
    assert!(!stack.cron("nosuch"), "scripts/cron nosuch succeeded");
    assert!(!stack.cron("comments"), "comments has no cron trigger");
}
