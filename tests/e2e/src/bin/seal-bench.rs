//! Benchmark (not a test): cost of the sealing layer on a running stack.
//! Usage: `seal-bench BASE_URL [N=200]`. Sends N sealed `POST /auth/login`
//! requests one after another (each opened, nonce recorded in D1, answer
//! sealed) and N plaintext ones (refused `SEAL_REQUIRED` before any crypto),
//! and prints both latency medians/p99 and their difference: the server-side
//! cost of open + replay check + sealed response on this runtime.
use std::time::Instant;

use rand_core::OsRng;
use sealpost_seal::{KeyConfig, seal_request};
use serde_json::{Value, json};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn post(agent: &ureq::Agent, url: &str, body: &str) -> (u16, f64) {
    let started = Instant::now();
    let resp = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("CF-Connecting-IP", "10.200.0.1")
        .send(body)
        .expect("an HTTP answer");
    let status = resp.status().as_u16();
    let _ = resp.into_body().read_to_vec();
    (status, started.elapsed().as_secs_f64() * 1000.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = args
        .first()
        .expect("usage: seal-bench BASE_URL [N]")
        .trim_end_matches('/')
        .to_owned();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let keys: Value = agent
        .get(format!("{base}/auth/keys"))
        .call()
        .expect("GET /auth/keys")
        .into_body()
        .read_json()
        .expect("key JSON");
    let key: KeyConfig = serde_json::from_value(keys["data"]["keys"][0].clone()).expect("a key");
    let url = format!("{base}/auth/login");
    let inner =
        json!({"email": "bench@example.com", "password": "correct horse battery"}).to_string();

    let mut sealed = Vec::with_capacity(n);
    let mut plain = Vec::with_capacity(n);
    for _ in 0..n {
        let ts = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs(),
        )
        .expect("time");
        let req = seal_request(
            &key,
            "POST",
            "/auth/login",
            inner.as_bytes(),
            ts,
            &mut OsRng,
        )
        .expect("seal");
        let body = serde_json::to_string(&req.envelope).expect("envelope");
        let (status, ms) = post(&agent, &url, &body);
        assert!(
            status == 501 || status == 200,
            "sealed request answered {status}"
        );
        sealed.push(ms);
        let (status, ms) = post(&agent, &url, &inner);
        assert_eq!(status, 400, "plaintext must be refused");
        plain.push(ms);
    }
    sealed.sort_by(f64::total_cmp);
    plain.sort_by(f64::total_cmp);
    let (s50, s99, p50, p99) = (
        percentile(&sealed, 0.5),
        percentile(&sealed, 0.99),
        percentile(&plain, 0.5),
        percentile(&plain, 0.99),
    );
    let line = format!(
        "| sealed POST /auth/login (open + D1 nonce + sealed answer), n={n} | {s50:.1} | {s99:.1} |\n\
         | plaintext POST /auth/login (refused SEAL_REQUIRED), n={n} | {p50:.1} | {p99:.1} |\n\
         | difference of medians: the sealing layer's server cost | {:.1} | |",
        s50 - p50
    );
    std::io::Write::write_all(&mut std::io::stdout(), format!("{line}\n").as_bytes())
        .expect("stdout");
}
