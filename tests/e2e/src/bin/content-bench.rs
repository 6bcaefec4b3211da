//! Benchmark setup (not a test) for the content routes on a running stack.
//!
//! `content-bench seed BASE_URL [N=50]`: the admin named by
//! `SEALPOST_ADMIN_EMAIL` and `SEALPOST_ADMIN_PASSWORD` (created beforehand
//! with `scripts/admin --local`, password only; read from the environment
//! like `scripts/admin` does, not from the command line) logs in,
//! enrols TOTP, logs in again with a code (an access token with role admin
//! and `amr` otp, which every `/admin/*` route needs), then creates and
//! publishes N posts in English and Vietnamese with ~2 KB Markdown bodies and
//! a few tags. Prints the English slug of the last post on stdout, for
//! `scripts/bench` to point wrk at.
use std::time::Duration;

use rand_core::{OsRng, RngCore};
use sealpost_auth_core::totp::{base32_decode, code_at};
use sealpost_e2e::bench::{BenchClient, out, random_ip};
use sealpost_e2e::unix_now;
use serde_json::{Value, json};

/// Seeding uses a fresh client address per request and ignores timings.
trait Seeding {
    fn sealed_any(&self, path: &str, bearer: Option<&str>, inner: &Value) -> (u16, Value);
    fn post_json_any(&self, path: &str, token: &str, body: Option<&Value>) -> (u16, Value);
}

impl Seeding for BenchClient {
    fn sealed_any(&self, path: &str, bearer: Option<&str>, inner: &Value) -> (u16, Value) {
        let (status, body, _) = self.sealed(path, &random_ip(), bearer, inner);
        (status, body)
    }

    fn post_json_any(&self, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
        self.post_json(path, &random_ip(), Some(token), body)
    }
}

/// One progress line on stderr.
fn note(line: &str) {
    std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("content-bench: {line}\n").as_bytes(),
    )
    .expect("stderr");
}

const TOTP_STEP_SECS: u64 = 30;

/// A TOTP code the server accepts once: of a step after `last` and within
/// one step of now (waits for the clock when it must).
fn fresh_code(secret: &[u8], last: &mut Option<u64>) -> String {
    loop {
        let now_step = unix_now() / TOTP_STEP_SECS;
        let step = last.map_or(now_step, |l| (l + 1).max(now_step));
        if step <= now_step + 1 {
            *last = Some(step);
            return code_at(secret, step * TOTP_STEP_SECS);
        }
        let wait = (step - 1) * TOTP_STEP_SECS + 1 - unix_now();
        note(&format!("waiting {wait} s for a fresh TOTP step"));
        std::thread::sleep(Duration::from_secs(wait));
    }
}

/// The admin's access token with `amr` otp.
fn admin_token(client: &BenchClient, email: &str, password: &str) -> String {
    let creds = json!({"email": email, "password": password});
    let (status, body) = client.sealed_any("/auth/login", None, &creds);
    assert_eq!(status, 200, "login: {body}");
    let access = body["data"]["tokens"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("login without tokens (TOTP already on?): {body}"))
        .to_owned();
    let (status, body) = client.sealed_any("/auth/mfa/totp/setup", Some(&access), &json!({}));
    assert_eq!(status, 200, "totp setup: {body}");
    let secret_text = body["data"]["secret"].as_str().expect("secret");
    let secret = base32_decode(secret_text).expect("base32 secret");
    let mut last = None;
    let code = fresh_code(&secret, &mut last);
    let (status, body) = client.sealed_any(
        "/auth/mfa/totp/enable",
        Some(&access),
        &json!({"code": code}),
    );
    assert_eq!(status, 200, "totp enable: {body}");
    let (status, body) = client.sealed_any("/auth/login", None, &creds);
    assert_eq!(status, 200, "second login: {body}");
    assert_eq!(body["data"]["mfaRequired"], json!(true), "{body}");
    let mfa_token = body["data"]["mfaToken"].as_str().expect("mfaToken");
    let code = fresh_code(&secret, &mut last);
    let (status, body) = client.sealed_any(
        "/auth/login/mfa",
        None,
        &json!({"mfaToken": mfa_token, "code": code}),
    );
    assert_eq!(status, 200, "login with code: {body}");
    body["data"]["tokens"]["accessToken"]
        .as_str()
        .expect("accessToken")
        .to_owned()
}

/// About 2 KB of Markdown: headings, paragraphs, a list, a table, code.
fn body_markdown(i: usize, lang: &str) -> String {
    let mut md = format!("# Post {i} ({lang})\n\n");
    for s in 0..4 {
        md.push_str(&format!(
            "## Section {s}\n\nEdge workers answer close to the reader; this paragraph \
             of post {i} says so with **bold**, _emphasis_, `code` and a \
             [link](https://example.com/{i}/{s}). It is long enough to make the body \
             look like an article rather than a test fixture.\n\n\
             - one point\n- another point with ~~strike~~\n- [x] a done task\n\n"
        ));
    }
    md.push_str("| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n");
    md
}

fn seed(base: &str, email: &str, password: &str, n: usize) {
    let client = BenchClient::new(base);
    let token = admin_token(&client, email, password);
    let run = format!("{:x}", OsRng.next_u32());
    let tags = ["rust", "edge", "workers", "cms", "bench"];
    let mut last_slug = String::new();
    for i in 0..n {
        let slug = format!("bench-{run}-{i}");
        let post = json!({
            "translations": {
                "en": {"title": format!("Benchmark post {i}"), "slug": slug,
                       "excerpt": format!("Excerpt of post {i}"), "body": body_markdown(i, "en")},
                "vi": {"title": format!("Bài viết {i}"), "slug": format!("bai-viet-{run}-{i}"),
                       "excerpt": format!("Tóm tắt bài {i}"), "body": body_markdown(i, "vi")}
            },
            "tags": [tags[i % 5], tags[(i + 1) % 5], tags[(i + 2) % 5]]
        });
        let (status, body) = client.post_json_any("/admin/posts", &token, Some(&post));
        assert_eq!(status, 201, "create post {i}: {body}");
        let id = body["data"]["id"].as_str().expect("post id");
        let (status, body) =
            client.post_json_any(&format!("/admin/posts/{id}/publish"), &token, None);
        assert_eq!(status, 200, "publish post {i}: {body}");
        last_slug = slug;
    }
    note(&format!("seeded and published {n} posts"));
    out(&last_slug);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: content-bench seed BASE_URL [N=50] \
                 (with SEALPOST_ADMIN_EMAIL and SEALPOST_ADMIN_PASSWORD set)";
    match args.as_slice() {
        [mode, base, rest @ ..] if mode == "seed" => {
            let n = rest.first().and_then(|s| s.parse().ok()).unwrap_or(50);
            let email = std::env::var("SEALPOST_ADMIN_EMAIL").expect(usage);
            let password = std::env::var("SEALPOST_ADMIN_PASSWORD").expect(usage);
            seed(base, &email, &password, n);
        }
        _ => panic!("{usage}"),
    }
}
