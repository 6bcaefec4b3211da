//! What the benchmark binaries share (`stack-bench`, `content-bench`,
//! `campaigns-bench`): an admin's token with a second factor, a
//! timed client for a running stack — sealed requests (edge-seal v1, the
//! crate's own client) and plain JSON ones, each from a chosen client
//! address — plus percentiles and report lines on stdout.
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::totp::base32_decode;
use rand_core::{OsRng, RngCore};
use sealpost_seal::{KeyConfig, seal_request};
use serde_json::{Value, json};

use crate::auth::fresh_code;

/// One line of a report on stdout (the binaries' output is Markdown).
pub fn out(line: &str) {
    std::io::Write::write_all(&mut std::io::stdout(), format!("{line}\n").as_bytes())
        .expect("stdout");
}

/// One progress line on stderr, prefixed with the running binary's name.
pub fn note(line: &str) {
    let me = std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "bench".to_owned());
    std::io::Write::write_all(&mut std::io::stderr(), format!("{me}: {line}\n").as_bytes())
        .expect("stderr");
}

/// The `p` quantile (0–1) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A random client address in 10.0.0.0/8, so no per-IP limit is in the way.
pub fn random_ip() -> String {
    let mut b = [0u8; 3];
    OsRng.fill_bytes(&mut b);
    format!("10.{}.{}.{}", b[0], b[1], b[2].max(1))
}

/// A client of one stack, holding its first edge-seal key.
#[derive(Debug)]
pub struct BenchClient {
    agent: ureq::Agent,
    base: String,
    key: KeyConfig,
}

impl BenchClient {
    /// Connects to `base` and reads `GET /auth/keys`.
    pub fn new(base: &str) -> BenchClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let base = base.trim_end_matches('/').to_owned();
        let keys: Value = agent
            .get(format!("{base}/auth/keys"))
            .header("CF-Connecting-IP", &random_ip())
            .call()
            .expect("GET /auth/keys")
            .into_body()
            .read_json()
            .expect("key JSON");
        let key = serde_json::from_value(keys["data"]["keys"][0].clone()).expect("a key");
        BenchClient { agent, base, key }
    }

    /// POSTs `body` (JSON text, may be empty) from client address `ip`:
    /// status, body bytes, milliseconds.
    pub fn post_raw(
        &self,
        path: &str,
        ip: &str,
        bearer: Option<&str>,
        body: &str,
    ) -> (u16, Vec<u8>, f64) {
        let started = Instant::now();
        let mut call = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("CF-Connecting-IP", ip);
        if let Some(token) = bearer {
            call = call.header("Authorization", &format!("Bearer {token}"));
        }
        let resp = if body.is_empty() {
            call.send_empty()
        } else {
            call.header("Content-Type", "application/json").send(body)
        }
        .expect("an HTTP answer");
        let status = resp.status().as_u16();
        let bytes = resp.into_body().read_to_vec().unwrap_or_default();
        (status, bytes, started.elapsed().as_secs_f64() * 1000.0)
    }

    /// A plain JSON POST: status and body.
    pub fn post_json(
        &self,
        path: &str,
        ip: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let text = body.map(Value::to_string).unwrap_or_default();
        let (status, bytes, _) = self.post_raw(path, ip, bearer, &text);
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A sealed POST: status, opened inner JSON, milliseconds.
    pub fn sealed(
        &self,
        path: &str,
        ip: &str,
        bearer: Option<&str>,
        inner: &Value,
    ) -> (u16, Value, f64) {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .expect("clock");
        let req = seal_request(
            &self.key,
            "POST",
            path,
            inner.to_string().as_bytes(),
            ts,
            &mut OsRng,
        )
        .expect("seal");
        let body = serde_json::to_string(&req.envelope).expect("envelope");
        let (status, bytes, ms) = self.post_raw(path, ip, bearer, &body);
        let plain = req
            .opener
            .open(status, &bytes)
            .unwrap_or_else(|e| panic!("{path}: not a sealed answer ({status}): {e:?}"));
        (
            status,
            serde_json::from_slice(&plain).expect("inner JSON"),
            ms,
        )
    }
}

/// The access token, with `amr` otp, of an admin created with
/// `scripts/admin` (password only): logs in, enrols TOTP, logs in again with
/// a code. Works once per admin (TOTP is then on).
pub fn admin_token(client: &BenchClient, email: &str, password: &str) -> String {
    let creds = json!({"email": email, "password": password});
    let (status, body) = client.sealed_fresh("/auth/login", None, &creds);
    assert_eq!(status, 200, "login: {body}");
    let access = body["data"]["tokens"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("login without tokens (TOTP already on?): {body}"))
        .to_owned();
    let (status, body) = client.sealed_fresh("/auth/mfa/totp/setup", Some(&access), &json!({}));
    assert_eq!(status, 200, "totp setup: {body}");
    let secret_text = body["data"]["secret"].as_str().expect("secret");
    let secret = base32_decode(secret_text).expect("base32 secret");
    let mut last = None;
    let code = fresh_code(&secret, &mut last);
    let (status, body) = client.sealed_fresh(
        "/auth/mfa/totp/enable",
        Some(&access),
        &json!({"code": code}),
    );
    assert_eq!(status, 200, "totp enable: {body}");
    let (status, body) = client.sealed_fresh("/auth/login", None, &creds);
    assert_eq!(status, 200, "second login: {body}");
    assert_eq!(body["data"]["mfaRequired"], json!(true), "{body}");
    let mfa_token = body["data"]["mfaToken"].as_str().expect("mfaToken");
    let code = fresh_code(&secret, &mut last);
    let (status, body) = client.sealed_fresh(
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

/// Creates `post` (`POST /admin/posts`) and publishes it, as the editor
/// holding `token`; answers its id.
pub fn create_and_publish(client: &BenchClient, token: &str, post: &Value) -> String {
    let (status, body) = client.post_json_fresh("/admin/posts", token, Some(post));
    assert_eq!(status, 201, "create a post: {body}");
    let id = body["data"]["id"].as_str().expect("post id").to_owned();
    let (status, body) = client.post_json_fresh(&format!("/admin/posts/{id}/publish"), token, None);
    assert_eq!(status, 200, "publish post {id}: {body}");
    id
}

impl BenchClient {
    /// A sealed POST from a fresh client address, timing ignored.
    pub fn sealed_fresh(&self, path: &str, bearer: Option<&str>, inner: &Value) -> (u16, Value) {
        let (status, body, _) = self.sealed(path, &random_ip(), bearer, inner);
        (status, body)
    }

    /// A JSON POST with a bearer token from a fresh client address.
    pub fn post_json_fresh(&self, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
        self.post_json(path, &random_ip(), Some(token), body)
    }
}
