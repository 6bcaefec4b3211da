//! Benchmarks (not tests) on a running stack, printed as Markdown rows for
//! docs/perf.md.
//!
//! - `stack-bench seal BASE_URL [N=200]`: the sealing layer's cost. N sealed
//!   `POST /auth/mfa/totp/setup` without a bearer token (opened, nonce
//!   recorded in D1, refused `AUTH_REQUIRED` before any database work, the
//!   answer sealed) against N plaintext ones (refused `SEAL_REQUIRED` before
//!   any crypto); the difference of medians is open + replay check + sealing.
//! - `stack-bench auth BASE_URL RUN_DIR [N=20]`: CPU per signup, login (also
//!   for an unknown e-mail and a wrong password: the same Argon2id work) and
//!   refresh. The auth worker's `workerd` processes are found under `/proc`
//!   (children of the `wrangler dev` on `AUTH_PORT` of `$RUN_DIR/ports.env`);
//!   their user + system CPU time is read before and after N sequential requests.
//!   That is the local runtime's CPU for the whole request in that process:
//!   the worker's own CPU plus workerd's HTTP plumbing and the local D1
//!   (SQLite) it runs — an upper bound of what Workers bills as CPU time.

use sealpost_e2e::bench::{BenchClient, out, percentile};
use sealpost_e2e::procfs::{cpu_secs, port_of, workerd_of};
use serde_json::json;

fn seal_cost(base: &str, n: usize) {
    let client = BenchClient::new(base);
    let path = "/auth/mfa/totp/setup";
    let mut sealed = Vec::with_capacity(n);
    let mut plain = Vec::with_capacity(n);
    for _ in 0..n {
        let (status, _, ms) = client.sealed(path, "10.200.0.1", None, &json!({}));
        assert_eq!(
            status, 401,
            "a sealed request without a bearer is AUTH_REQUIRED"
        );
        sealed.push(ms);
        let (status, _, ms) = client.post_raw(path, "10.200.0.1", None, "{}");
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
    out(&format!(
        "| sealed POST {path} without bearer (open + D1 nonce + sealed 401), n={n} | {s50:.1} | {s99:.1} |\n\
         | plaintext POST {path} (refused SEAL_REQUIRED), n={n} | {p50:.1} | {p99:.1} |\n\
         | difference of medians: the sealing layer's server cost | {:.1} | |",
        s50 - p50
    ));
}

struct Measure {
    label: String,
    wall: Vec<f64>,
    cpu_ms: f64,
}

fn measure(pids: &[u32], label: &str, n: usize, mut one: impl FnMut(usize) -> f64) -> Measure {
    let total = || cpu_secs(pids);
    let before = total();
    let mut wall: Vec<f64> = (0..n).map(&mut one).collect();
    let cpu_ms = (total() - before) * 1000.0 / n as f64;
    wall.sort_by(f64::total_cmp);
    Measure {
        label: label.to_owned(),
        wall,
        cpu_ms,
    }
}

fn auth_cpu(base: &str, run_dir: &str, n: usize) {
    let client = BenchClient::new(base);
    let pid = workerd_of(port_of(run_dir, "auth"));
    let pid = pid.as_slice();
    let password = "correct horse battery staple";
    let ip = |i: usize, kind: u8| format!("10.{kind}.{}.{}", i / 250, i % 250 + 1);
    let run = format!("{:x}", std::process::id());
    // Warm the isolate (module compile, first key, first D1 use).
    for i in 0..3 {
        let email = format!("warm{i}-{run}@bench.test");
        let (status, _, _) = client.sealed(
            "/auth/signup",
            &ip(i, 250),
            None,
            &json!({"email": email, "password": password}),
        );
        assert_eq!(status, 201, "warm-up signup");
    }
    let mut refresh_tokens = Vec::new();
    let signup = measure(
        pid,
        "POST /auth/signup (Argon2id hash, 3 D1 writes)",
        n,
        |i| {
            let email = format!("b{i}-{run}@bench.test");
            let (status, body, ms) = client.sealed(
                "/auth/signup",
                &ip(i, 251),
                None,
                &json!({"email": email, "password": password}),
            );
            assert_eq!(status, 201, "signup: {body}");
            ms
        },
    );
    let login = measure(
        pid,
        "POST /auth/login (Argon2id verify, ES256 sign)",
        n,
        |i| {
            let email = format!("b{i}-{run}@bench.test");
            let (status, body, ms) = client.sealed(
                "/auth/login",
                &ip(i, 252),
                None,
                &json!({"email": email, "password": password}),
            );
            assert_eq!(status, 200, "login: {body}");
            refresh_tokens.push(
                body["data"]["tokens"]["refreshToken"]
                    .as_str()
                    .expect("refresh token")
                    .to_owned(),
            );
            ms
        },
    );
    // Equal work for an unknown address (a dummy Argon2id verification):
    // unknown e-mails and wrong passwords interleaved, so neither gets the
    // warmer isolate; compare the two rows.
    let (mut unknown_ms, mut wrong_ms) = (Vec::new(), Vec::new());
    let before = cpu_secs(pid);
    for i in 0..n {
        let email = format!("nobody{i}-{run}@bench.test");
        let (status, body, ms) = client.sealed(
            "/auth/login",
            &ip(i, 249),
            None,
            &json!({"email": email, "password": password}),
        );
        assert_eq!(status, 401, "unknown login: {body}");
        unknown_ms.push(ms);
        let email = format!("b{i}-{run}@bench.test");
        let (status, body, ms) = client.sealed(
            "/auth/login",
            &ip(i, 248),
            None,
            &json!({"email": email, "password": "not the password at all"}),
        );
        assert_eq!(status, 401, "wrong password: {body}");
        wrong_ms.push(ms);
    }
    let pair_cpu = (cpu_secs(pid) - before) * 1000.0 / (2 * n) as f64;
    unknown_ms.sort_by(f64::total_cmp);
    wrong_ms.sort_by(f64::total_cmp);
    let unknown = Measure {
        label: "POST /auth/login, unknown e-mail (dummy Argon2id verify), interleaved".into(),
        wall: unknown_ms,
        cpu_ms: pair_cpu,
    };
    let wrong = Measure {
        label:
            "POST /auth/login, wrong password (Argon2id verify), interleaved; CPU = mean of both"
                .into(),
        wall: wrong_ms,
        cpu_ms: pair_cpu,
    };
    let mut tokens = refresh_tokens;
    let refresh = measure(
        pid,
        "POST /auth/refresh (rotation batch, ES256 sign)",
        n,
        |i| {
            let (status, body, ms) = client.sealed(
                "/auth/refresh",
                &ip(i, 253),
                None,
                &json!({"refreshToken": tokens[i]}),
            );
            assert_eq!(status, 200, "refresh: {body}");
            tokens[i] = body["data"]["tokens"]["refreshToken"]
                .as_str()
                .expect("refresh token")
                .to_owned();
            ms
        },
    );
    let baseline = measure(
        pid,
        "sealed POST /auth/mfa/totp/setup without bearer (seal layer only)",
        n,
        |i| {
            let (status, _, ms) =
                client.sealed("/auth/mfa/totp/setup", &ip(i, 254), None, &json!({}));
            assert_eq!(status, 401);
            ms
        },
    );
    for m in [signup, login, unknown, wrong, refresh, baseline] {
        out(&format!(
            "| {} | {n} | {:.1} | {:.1} | {:.1} |",
            m.label,
            percentile(&m.wall, 0.5),
            percentile(&m.wall, 0.99),
            m.cpu_ms
        ));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: stack-bench seal BASE_URL [N] | stack-bench auth BASE_URL RUN_DIR [N]";
    let mode = args.first().expect(usage);
    let base = args.get(1).expect(usage);
    let n = |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    match mode.as_str() {
        "seal" => seal_cost(base, n(2, 200)),
        "auth" => auth_cpu(base, args.get(2).expect(usage), n(3, 20)),
        _ => panic!("{usage}"),
    }
}
