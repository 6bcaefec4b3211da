//! Benchmark (not a test) of campaign delivery on a running stack, printed
//! as Markdown rows for docs/perf.md.
//!
//! `campaigns-bench deliver BASE_URL RUN_DIR [N=10000]`: the admin named by
//! `SEALPOST_ADMIN_EMAIL` / `SEALPOST_ADMIN_PASSWORD` (created beforehand
//! with `scripts/admin --local`) gets a token with a second factor; N
//! confirmed subscribers are created through the dev route
//! `POST /__dev/subscribers` (half en, half vi); a campaign with ~1 KB
//! Markdown bodies is created and sent. Measured: the `send` request itself
//! (which materialises the ledger and enqueues every job), the time from
//! before `send` until `GET /admin/campaigns/{id}` says `sent` (polled every
//! 200 ms), and the CPU the campaigns worker's `workerd` processes used
//! meanwhile (/proc; the local fake provider writes each email to D1, which
//! is part of that CPU). Then the admin search over those N rows: by full
//! address (blind index) and by a part of an address (decrypting scan).
//! Checks on the way: counts `sent` = N, and a sampled address has exactly
//! one email of the campaign in the local inbox.
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};
use sealpost_e2e::bench::{BenchClient, admin_token, note, out, random_ip};
use sealpost_e2e::procfs::{cpu_secs, port_of, workerd_of};
use serde_json::{Value, json};

/// Subscribers created per dev-route call.
const SEED_CHUNK: usize = 2_000;
/// How long delivery may take before the run counts as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(900);

fn get(agent: &ureq::Agent, url: &str, token: Option<&str>) -> (u16, Value, f64) {
    let started = Instant::now();
    let mut call = agent.get(url).header("CF-Connecting-IP", &random_ip());
    if let Some(t) = token {
        call = call.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = call.call().expect("an HTTP answer");
    let status = resp.status().as_u16();
    let body = resp.into_body().read_json().unwrap_or(Value::Null);
    (status, body, started.elapsed().as_secs_f64() * 1000.0)
}

fn body_markdown(lang: &str) -> String {
    let mut md = format!("# Sealpost news ({lang})\n\n");
    for s in 0..4 {
        md.push_str(&format!(
            "## Part {s}\n\nWhat happened this month at the edge: **new posts**, \
             _translations_ and a [link](https://example.com/news/{s}). \
             Thank you for reading.\n\n- one\n- two\n\n"
        ));
    }
    md
}

fn deliver(base: &str, run_dir: &str, n: usize) {
    let client = BenchClient::new(base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let email = std::env::var("SEALPOST_ADMIN_EMAIL").expect("SEALPOST_ADMIN_EMAIL");
    let password = std::env::var("SEALPOST_ADMIN_PASSWORD").expect("SEALPOST_ADMIN_PASSWORD");
    let token = admin_token(&client, &email, &password);
    let run = format!("{:08x}", OsRng.next_u32());
    let domain = format!("bench-{run}.test");
    let prefix = format!("r{run}");
    let mut created = 0;
    while created < n {
        let count = SEED_CHUNK.min(n - created);
        let (status, body) = client.post_json_fresh(
            "/__dev/subscribers",
            &token,
            Some(
                &json!({"prefix": format!("{prefix}-{created}"), "count": count, "domain": domain}),
            ),
        );
        assert_eq!(status, 201, "seeding subscribers: {body}");
        created += count;
    }
    note(&format!("{n} confirmed subscribers on @{domain}"));
    let campaign = json!({
        "subject": {"en": format!("Bench {run}"), "vi": format!("Bản tin {run}")},
        "body": {"en": body_markdown("en"), "vi": body_markdown("vi")},
    });
    let (status, body) = client.post_json_fresh("/admin/campaigns", &token, Some(&campaign));
    assert_eq!(status, 201, "create campaign: {body}");
    let id = body["data"]["id"].as_str().expect("campaign id").to_owned();

    let pids = workerd_of(port_of(run_dir, "campaigns"));
    assert!(!pids.is_empty(), "no workerd serves the campaigns worker");
    let cpu_before = cpu_secs(&pids);
    let started = Instant::now();
    let (status, body, send_ms) = client.post_raw(
        &format!("/admin/campaigns/{id}/send"),
        &random_ip(),
        Some(&token),
        "",
    );
    assert_eq!(status, 202, "send: {}", String::from_utf8_lossy(&body));
    let url = format!("{base}/admin/campaigns/{id}");
    let view = loop {
        let (status, view, _) = get(&agent, &url, Some(&token));
        assert_eq!(status, 200, "GET campaign: {view}");
        if view["data"]["status"] == "sent" {
            break view;
        }
        assert!(
            started.elapsed() < DELIVERY_TIMEOUT,
            "not delivered in time: {view}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let total_s = started.elapsed().as_secs_f64();
    let cpu = cpu_secs(&pids) - cpu_before;
    let counts = &view["data"]["counts"];
    assert_eq!(counts["sent"], json!(n), "counts: {view}");
    assert_eq!(counts["failed"], json!(0), "counts: {view}");
    let sample = format!("{prefix}-0-0@{domain}");
    let (_, inbox, _) = get(&agent, &format!("{base}/__dev/mail?to={sample}"), None);
    let copies = inbox["data"].as_array().map_or(0, |a| {
        a.iter()
            .filter(|m| m["subject"] == json!(format!("Bench {run}")))
            .count()
    });
    assert_eq!(copies, 1, "{sample} got {copies} copies: {inbox}");
    note(&format!("delivered {n} in {total_s:.1} s"));
    out(
        "| subscribers | `send` request (ms) | send → `sent` (s) | emails/s | campaigns workerd CPU (s) | CPU per email (ms) |",
    );
    out("|---:|---:|---:|---:|---:|---:|");
    out(&format!(
        "| {n} | {send_ms:.0} | {total_s:.1} | {:.0} | {cpu:.1} | {:.2} |",
        n as f64 / total_s,
        cpu * 1000.0 / n as f64
    ));
    out("");
    out(&format!(
        "| admin search over {n} subscribers | median of 5 (ms) |"
    ));
    out("|---|---:|");
    for (label, q) in [
        ("`q` = a full address (blind index)", sample.clone()),
        (
            "`q` = a part of an address (decrypting scan)",
            format!("{prefix}-0-1"),
        ),
        ("no `q`, first page of 20", String::new()),
    ] {
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let (status, body, ms) = get(
                    &agent,
                    &format!("{base}/admin/subscribers?pageSize=20&q={q}"),
                    Some(&token),
                );
                assert_eq!(status, 200, "search {q}: {body}");
                ms
            })
            .collect();
        times.sort_by(f64::total_cmp);
        out(&format!("| {label} | {:.1} |", times[2]));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: campaigns-bench deliver BASE_URL RUN_DIR [N=10000] \
                 (with SEALPOST_ADMIN_EMAIL and SEALPOST_ADMIN_PASSWORD set)";
    match args.as_slice() {
        [mode, base, run_dir, rest @ ..] if mode == "deliver" => {
            let n = rest.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
            deliver(base, run_dir, n);
        }
        _ => panic!("{usage}"),
    }
}
