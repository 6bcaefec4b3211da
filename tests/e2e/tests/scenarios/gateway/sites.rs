//! Around the routes: health, sites and hosts, the dev routes (and their
//! absence with `DEV_MODE` off), and cron runs.
use std::thread;
use std::time::{Duration, Instant};

use sealpost_e2e::{ALLOWED_ORIGIN, Stack, Value, json, repo_root, unix_now};

use super::{assert_post_list, at};

const WORKERS_BEHIND: [&str; 5] = ["auth", "content", "comments", "campaigns", "site"];

pub(super) fn health_reports_every_worker_up(stack: &Stack) {
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
        .chain(WORKERS_BEHIND)
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

pub(super) fn an_unknown_host_is_404_site_not_found_and_localhost_is_served(stack: &Stack) {
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

pub(super) fn a_site_added_with_scripts_site_is_served_on_its_host(stack: &Stack) {
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

pub(super) fn the_dev_mail_route_is_routed_in_dev_mode(stack: &Stack) {
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
pub(super) fn with_dev_mode_off_dev_routes_are_unknown_and_health_wants_a_public_base_url(
    _: &Stack,
) {
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

pub(super) fn a_cron_run_shows_in_the_health_log_as_last_run_at(stack: &Stack) {
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

pub(super) fn cron_fails_for_an_unknown_worker_or_one_without_a_trigger(stack: &Stack) {
    assert!(!stack.cron("nosuch"), "scripts/cron nosuch succeeded");
    assert!(!stack.cron("comments"), "comments has no cron trigger");
}
