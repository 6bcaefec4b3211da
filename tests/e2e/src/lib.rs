//! The end-to-end harness: the whole Sealpost stack (gateway + domain
//! workers under `wrangler dev`, started by `scripts/serve`) in a private
//! temporary directory, and small blocking clients to talk to it over HTTP and
//! WebSocket as a user would.
//!
//! One [`Stack`] is meant to be shared by many scenarios (starting one takes a
//! minute). Every request gets its own client address by default
//! ([`unique_ip`]), so scenarios never share the per-IP rate-limit budget.
//!
//! Processes: `scripts/serve` runs in its own process group and is stopped
//! with SIGTERM (it stops the workers); a watchdog shell stops it too should
//! the test process die without stopping the stack (SIGKILL, Ctrl-C).
//!
//! Knobs (environment): `SEALPOST_E2E_START_TIMEOUT` (seconds, default 240),
//! `SEALPOST_E2E_START_ATTEMPTS` (default 2; only a worker runtime that
//! failed to start is retried) and `SEALPOST_E2E_KEEP_LOGS` (a directory
//! that receives the worker logs when the stack stops).
#![forbid(unsafe_code)]

pub mod auth;
pub mod bench;
pub mod campaigns;
pub mod comments;
pub mod procfs;

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use serde_json::{Value, json};
pub use tungstenite;
pub use ureq;

/// How long `scripts/serve` may take to print its READY line (override in
/// seconds with `SEALPOST_E2E_START_TIMEOUT`).
pub const START_TIMEOUT: Duration = Duration::from_secs(240);
/// How long a graceful stop may take before the stack is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// Timeout of one HTTP call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The browser origin the stack's `CORS_ORIGINS` allows.
pub const ALLOWED_ORIGIN: &str = "https://app.example";
/// The seeded admin's e-mail (its password is [`Stack::admin_password`]).
pub const ADMIN_EMAIL: &str = "admin@e2e.test";
/// The header the gateway takes the client's address from.
pub const CLIENT_IP_HEADER: &str = "CF-Connecting-IP";

/// How many times a stack start is tried when a worker's runtime fails to
/// start (override with `SEALPOST_E2E_START_ATTEMPTS`). Other failures are
/// never retried.
pub const START_ATTEMPTS: u32 = 2;

const READY_PREFIX: &str = "SEALPOST READY ";
/// What `wrangler dev` logs when workerd could not start.
const RUNTIME_FAILED_MARKER: &str = "The Workers runtime failed to start";
const LOG_TAIL_LINES: usize = 60;

/// A WebSocket to the stack.
pub type WebSocket = tungstenite::WebSocket<TcpStream>;

/// The repository root (this crate lives in `tests/e2e`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A client address no other caller in this process gets: TEST-NET-1/2/3
/// (RFC 5737) IPv4 addresses first, then distinct /64s of the IPv6
/// documentation prefix 2001:db8::/32 (the edge keys IPv6 clients by /64).
pub fn unique_ip() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const NETS: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let net = usize::try_from(n / 254).unwrap_or(usize::MAX);
    match NETS.get(net) {
        Some([a, b, c]) => {
            let host = u8::try_from(n % 254 + 1).unwrap_or(1);
            Ipv4Addr::new(*a, *b, *c, host).to_string()
        }
        None => {
            let hi = u16::try_from(n >> 16).unwrap_or(u16::MAX);
            let lo = u16::try_from(n & 0xffff).unwrap_or(0);
            Ipv6Addr::new(0x2001, 0xdb8, hi, lo, 0, 0, 0, 1).to_string()
        }
    }
}

/// Random bytes from the kernel (test secrets).
pub fn random_bytes(bytes: usize) -> Vec<u8> {
    let mut buf = vec![0_u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .expect("reading /dev/urandom");
    buf
}

/// Random hex from the kernel (a test secret, not key material).
pub fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A free TCP port on 127.0.0.1 (free when asked; the OS may reuse it later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}

/// Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Parses an RFC 3339 UTC time (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the
/// contract's time format) to Unix seconds.
pub fn parse_rfc3339_utc(s: &str) -> Option<i64> {
    s.ends_with('Z')
        .then(|| sealpost_ports::parse_rfc3339(s))
        .flatten()
        .map(|ms| ms.div_euclid(1000))
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics, showing the answer, when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {self}"))
    }

    /// `error.code` of an error envelope, if any.
    pub fn error_code(&self) -> Option<String> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()?
            .pointer("/error/code")?
            .as_str()
            .map(str::to_owned)
    }

    /// Asserts the status and the error envelope
    /// `{"success":false,"message":"…","error":{"code":CODE}}`; returns the body.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected status: {self}");
        let body = self.json();
        assert_eq!(body["success"], json!(false), "{self}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error envelope without a message: {self}"
        );
        assert_eq!(body["error"]["code"], json!(code), "{self}");
        body
    }

    /// Asserts a 400 `VALIDATION_FAILED` naming `field` (see
    /// [`assert_validation_body`]); returns the body.
    #[track_caller]
    pub fn assert_validation(&self, field: &str) -> Value {
        let body = self.assert_error(400, "VALIDATION_FAILED");
        assert_validation_body(&body, field);
        body
    }
}

/// Asserts the validation part of an error body: the message
/// `Validation failed`, every entry of `errors[]` with a field and a
/// message, and one of them naming exactly `field`.
#[track_caller]
pub fn assert_validation_body(body: &Value, field: &str) {
    assert_eq!(body["message"], "Validation failed", "{body:#}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors[]: {body:#}"));
    assert!(
        errors
            .iter()
            .all(|e| e["field"].is_string() && e["message"].as_str().is_some_and(|m| !m.is_empty())),
        "every error has a field and a message: {body:#}"
    );
    assert!(
        errors.iter().any(|e| e["field"] == field),
        "no error for field {field:?}: {body:#}"
    );
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        for (n, v) in &self.headers {
            write!(f, "\n  {n}: {v}")?;
        }
        let text = self.text();
        let cut: String = text.chars().take(2000).collect();
        write!(f, "\n  body: {cut}")
    }
}

/// The body of a [`Call`].
#[derive(Debug, Clone)]
enum CallBody {
    None,
    /// Sent with a `Content-Length`.
    Sized(Vec<u8>),
    /// Sent with `Transfer-Encoding: chunked` (no declared length).
    Chunked(Vec<u8>),
}

/// A request being built; [`Call::send`] runs it.
#[derive(Debug, Clone)]
#[must_use = "a call does nothing until sent"]
pub struct Call {
    agent: ureq::Agent,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: CallBody,
}

impl Call {
    /// Adds a header (`Host`, `Origin`, `Content-Type`, `CF-Connecting-IP`…).
    /// A `CF-Connecting-IP` replaces the call's default unique address.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if name.eq_ignore_ascii_case(CLIENT_IP_HEADER) {
            self.headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(CLIENT_IP_HEADER));
        }
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends as client `ip` (the `CF-Connecting-IP` header).
    pub fn client_ip(self, ip: &str) -> Self {
        self.header(CLIENT_IP_HEADER, ip)
    }

    /// Sends without any `CF-Connecting-IP` (the edge's shared `unknown` client).
    pub fn without_client_ip(mut self) -> Self {
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(CLIENT_IP_HEADER));
        self
    }

    /// Raw body bytes, sent with a `Content-Length`.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = CallBody::Sized(bytes.into());
        self
    }

    /// Raw body bytes, sent chunked (no `Content-Length`).
    pub fn chunked_body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = CallBody::Chunked(bytes.into());
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, value: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(value.to_string())
    }

    /// Sends the request; panics on a transport failure (no HTTP answer).
    pub fn send(self) -> Reply {
        let what = format!("{} {}", self.method, self.url);
        self.try_send()
            .unwrap_or_else(|e| panic!("{what}: no HTTP answer: {e}"))
    }

    /// Sends the request; any HTTP status is an `Ok`.
    pub fn try_send(self) -> Result<Reply, ureq::Error> {
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(self.url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = match self.body {
            CallBody::None => self.agent.run(builder.body(())?),
            CallBody::Sized(bytes) => self.agent.run(builder.body(bytes)?),
            CallBody::Chunked(bytes) => self
                .agent
                .run(builder.body(ureq::SendBody::from_owned_reader(Cursor::new(bytes)))?),
        };
        let mut response = response?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.body_mut().read_to_vec()?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// Why one attempt to start the stack failed.
#[derive(Debug)]
struct StartFailure {
    why: String,
    /// A worker's runtime failed to start: worth one more attempt.
    runtime_failed: bool,
}

/// What the harness keeps of the `scripts/serve` process.
#[derive(Debug)]
struct Served {
    child: Child,
    /// The watchdog's stdin: closing it without "done" (the test process
    /// died) makes the watchdog stop the stack.
    watchdog: Option<(Child, ChildStdin)>,
    /// The workers' process groups, once they are up.
    worker_groups: Vec<u32>,
    stopped: bool,
}

/// A running Sealpost stack. Stopped (all its processes) on drop.
#[derive(Debug)]
pub struct Stack {
    base: String,
    port: u16,
    dir: tempfile::TempDir,
    admin_password: String,
    agent: ureq::Agent,
    served: Mutex<Served>,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Stack {
    /// Starts the stack with the default test environment (`DEV_MODE=true`,
    /// `CORS_ORIGINS=https://app.example`, a seeded admin with a random
    /// password). Panics, with the tail of every worker log, when it does not
    /// come up within [`START_TIMEOUT`].
    pub fn start() -> Stack {
        Stack::start_with(&[])
    }

    /// Like [`Stack::start`], with extra (or overriding) lines for the env
    /// file every worker reads.
    pub fn start_with(extra_env: &[(&str, &str)]) -> Stack {
        let attempts = start_attempts();
        let mut attempt = 1;
        loop {
            let (stack, failure) = match Stack::start_once(extra_env) {
                Ok(stack) => {
                    stack.seed_admin();
                    stack.set_base_url();
                    return stack;
                }
                Err(failed) => *failed,
            };
            stack.stop();
            let logs = stack.log_tails();
            if !failure.runtime_failed || attempt >= attempts {
                panic!("e2e: the stack did not start: {}\n{logs}", failure.why);
            }
            eprintln!(
                "e2e: attempt {attempt} to start the stack failed ({}); retrying with a fresh \
                 stack. Logs of the failed attempt:\n{logs}",
                failure.why
            );
            attempt += 1;
        }
    }

    /// Seeds [`ADMIN_EMAIL`] with [`Stack::admin_password`] the way
    /// `scripts/dev` does (`scripts/admin --local`), before any scenario
    /// runs: seeding later, while scenarios write the same local database,
    /// can meet its write lock.
    fn seed_admin(&self) {
        let out = Command::new(repo_root().join("scripts/admin"))
            .args(["--local", "--persist-to"])
            .arg(self.state_dir())
            .current_dir(repo_root())
            .env("SEALPOST_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("SEALPOST_ADMIN_PASSWORD", self.admin_password())
            .stdin(Stdio::null())
            .output()
            .expect("running scripts/admin");
        if !out.status.success() {
            self.stop();
            panic!(
                "e2e: seeding the admin failed ({}):\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Points the default site's links at this stack's gateway, the way
    /// `scripts/dev` does: `scripts/site --local default 127.0.0.1
    /// --base-url http://127.0.0.1:PORT`, before any scenario runs.
    fn set_base_url(&self) {
        let out = Command::new(repo_root().join("scripts/site"))
            .args(["--local", "default", "127.0.0.1", "--base-url"])
            .arg(self.base_url())
            .current_dir(repo_root())
            .env("STATE_DIR", self.state_dir())
            .stdin(Stdio::null())
            .output()
            .expect("running scripts/site");
        if !out.status.success() {
            self.stop();
            panic!(
                "e2e: setting the base URL failed ({}):\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    fn start_once(extra_env: &[(&str, &str)]) -> Result<Stack, Box<(Stack, StartFailure)>> {
        let dir = tempfile::Builder::new()
            .prefix("sealpost-e2e-")
            .tempdir()
            .expect("creating a temporary directory");
        let state = dir.path().join("state");
        let run = dir.path().join("run");
        for d in [&state, &run] {
            fs::create_dir_all(d).expect("creating the stack's directories");
        }
        let admin_password = format!("E2e-{}", random_hex(16));
        let mut vars: Vec<(String, String)> = vec![
            ("DEV_MODE".into(), "true".into()),
            ("CORS_ORIGINS".into(), ALLOWED_ORIGIN.into()),
            ("SEED_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
            ("SEED_ADMIN_PASSWORD".into(), admin_password.clone()),
            (
                "SEAL_KEY_WRAP".into(),
                sealpost_seal::b64(&random_bytes(32)),
            ),
            (
                "JWT_SIGNING_KEY".into(),
                sealpost_seal::b64(&random_bytes(32)),
            ),
            (
                "AUTH_DATA_KEY".into(),
                sealpost_seal::b64(&random_bytes(32)),
            ),
            ("VISITOR_KEY".into(), sealpost_seal::b64(&random_bytes(32))),
            (
                "CAMPAIGNS_KEY".into(),
                sealpost_seal::b64(&random_bytes(32)),
            ),
            // Delivery in seconds, not minutes: short leases, retries and
            // breaker pauses, and no provider rate to respect (the provider
            // is the local fake).
            ("CAMPAIGN_LEASE_SECS".into(), "2".into()),
            ("CAMPAIGN_REQUEUE_SECS".into(), "3".into()),
            ("CAMPAIGN_RETRY_BASE_SECS".into(), "1".into()),
            ("CAMPAIGN_BREAKER_COOLDOWN_SECS".into(), "2".into()),
            ("SEND_RATE_PER_SEC".into(), "200".into()),
            ("SEND_RATE_BURST".into(), "200".into()),
            (
                "PASSWORD_PEPPER".into(),
                sealpost_seal::b64(&random_bytes(32)),
            ),
        ];
        for (k, v) in extra_env {
            vars.retain(|(name, _)| name != k);
            vars.push(((*k).to_owned(), (*v).to_owned()));
        }
        let env_file = dir.path().join(ENV_FILE_NAME);
        let env_text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        fs::write(&env_file, env_text).expect("writing the env file");

        let port = free_port();
        let mut child = spawn_serve(dir.path(), port);
        let pgid = child.id();
        let stdout = child.stdout.take().expect("piped stdout");
        let watchdog = spawn_watchdog(pgid, dir.path());

        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .max_redirects(0)
            .build()
            .into();
        let stack = Stack {
            base: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            admin_password,
            agent,
            served: Mutex::new(Served {
                child,
                watchdog,
                worker_groups: Vec::new(),
                stopped: false,
            }),
            stdout: Arc::new(Mutex::new(Vec::new())),
        };

        let ready_rx = drain_stdout(stdout, Arc::clone(&stack.stdout));
        let start_timeout = start_timeout();
        let started = Instant::now();
        loop {
            match ready_rx.recv_timeout(Duration::from_millis(250)) {
                Ok(url) => {
                    assert_eq!(
                        url, stack.base,
                        "scripts/serve is ready on an unexpected address"
                    );
                    eprintln!(
                        "e2e: stack ready at {} in {:.1}s ({})",
                        stack.base,
                        started.elapsed().as_secs_f64(),
                        stack.dir.path().display()
                    );
                    stack.record_worker_groups();
                    return Ok(stack);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed: serve is exiting. Give it a moment to.
                    let status = stack.wait_exit(Duration::from_secs(5));
                    let why = format!("scripts/serve exited ({status:?}) before READY");
                    return Err(stack.start_failure(why));
                }
            }
            if let Some(status) = stack.try_exit() {
                let why = format!("scripts/serve exited ({status}) before READY");
                return Err(stack.start_failure(why));
            }
            if let Some(worker) = stack.worker_failed_to_start() {
                let why = format!("the Workers runtime of {worker} failed to start");
                return Err(stack.start_failure(why));
            }
            if started.elapsed() > start_timeout {
                let why = format!(
                    "scripts/serve printed no READY line within {}s",
                    start_timeout.as_secs()
                );
                return Err(stack.start_failure(why));
            }
        }
    }

    fn start_failure(self, why: String) -> Box<(Stack, StartFailure)> {
        let runtime_failed = self.worker_failed_to_start().is_some();
        Box::new((
            self,
            StartFailure {
                why,
                runtime_failed,
            },
        ))
    }

    /// The first worker whose log says its runtime failed to start (workerd
    /// sometimes does when the workers open the shared state at once).
    fn worker_failed_to_start(&self) -> Option<String> {
        let mut logs: Vec<PathBuf> = fs::read_dir(self.run_dir())
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        logs.sort();
        logs.into_iter().find_map(|log| {
            let text = fs::read_to_string(&log).ok()?;
            text.contains(RUNTIME_FAILED_MARKER).then(|| {
                log.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
        })
    }

    fn try_exit(&self) -> Option<ExitStatus> {
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        served.child.try_wait().ok().flatten()
    }

    fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_exit() {
                return Some(s);
            }
            if Instant::now() > until {
                return None;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The tail of every `$RUN_DIR/*.log` and of serve's stdout.
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        let mut logs: Vec<PathBuf> = fs::read_dir(self.run_dir())
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "log"))
                    .collect()
            })
            .unwrap_or_default();
        logs.sort();
        for log in logs {
            let text = fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(LOG_TAIL_LINES);
            out.push_str(&format!(
                "----- {} (last {} lines) -----\n",
                log.display(),
                lines.len() - from
            ));
            for line in &lines[from..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        let stdout = self.stdout.lock().map(|l| l.join("\n")).unwrap_or_default();
        out.push_str(&format!("----- scripts/serve stdout -----\n{stdout}\n"));
        out
    }

    /// The gateway's base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The gateway's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `path` (with any query) on the gateway.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `$RUN_DIR`: logs and `ports.env`.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// `$STATE_DIR`: the local D1/KV state.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The seeded admin's password (its e-mail is [`ADMIN_EMAIL`]).
    pub fn admin_password(&self) -> &str {
        &self.admin_password
    }

    /// The ports of every worker, from `$RUN_DIR/ports.env` (`GATEWAY_PORT`…).
    pub fn worker_ports(&self) -> HashMap<String, u16> {
        fs::read_to_string(self.run_dir().join("ports.env"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once('=')?;
                Some((k.trim().to_owned(), v.trim().parse().ok()?))
            })
            .collect()
    }

    /// The shared HTTP agent (statuses are never errors).
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// A request to the gateway, from a fresh [`unique_ip`].
    pub fn request(&self, method: &str, path: &str) -> Call {
        Call {
            agent: self.agent.clone(),
            method: method.to_owned(),
            url: self.url(path),
            headers: vec![(CLIENT_IP_HEADER.to_owned(), unique_ip())],
            body: CallBody::None,
        }
    }

    /// `GET path`, from a fresh [`unique_ip`].
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path).send()
    }

    /// Fires worker `name`'s scheduled handler (`scripts/cron NAME`); true
    /// when it ran.
    pub fn cron(&self, name: &str) -> bool {
        let out = Command::new(repo_root().join("scripts/cron"))
            .arg(name)
            .current_dir(repo_root())
            .env("RUN_DIR", self.run_dir())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running scripts/cron {name}: {e}"));
        let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
        eprintln!(
            "e2e: scripts/cron {name}: {} | {} | {}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        out.status.success()
    }

    /// Opens a WebSocket to `path` on the gateway over a plain TcpStream,
    /// from a fresh [`unique_ip`] unless `headers` has a `CF-Connecting-IP`.
    /// A refused upgrade is `Err(tungstenite::Error::Http(response))`.
    #[allow(
        clippy::result_large_err,
        reason = "tungstenite's own handshake error, unboxed, so callers can match on it"
    )]
    pub fn ws_connect(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<WebSocket, tungstenite::Error> {
        ws_connect_to(self.port, path, headers)
    }

    /// Stops the stack: SIGTERM to `scripts/serve`'s process group (it stops
    /// every worker), SIGKILL after [`STOP_TIMEOUT`], then waits until every
    /// process of the workers' groups is gone, killing stragglers. Idempotent.
    pub fn stop(&self) {
        if self.halt() {
            self.keep_logs();
        }
    }

    /// Restarts the whole local runtime on the same state: stops every
    /// worker process as [`Stack::stop`] does, then runs `scripts/serve`
    /// again with the same state directory, env file and gateway port, and
    /// waits for its READY line. The previous run's logs stay in `$RUN_DIR`
    /// as `NAME.before-restart-UNIXTIME.log`. A worker runtime that fails to
    /// start is retried like [`Stack::start`] does (same state); panics, with
    /// the log tails, when the stack does not come back.
    pub fn restart(&self) {
        let attempts = start_attempts();
        let mut attempt = 1;
        loop {
            let Err((why, runtime_failed)) = self.restart_once() else {
                return;
            };
            let logs = self.log_tails();
            if !runtime_failed || attempt >= attempts {
                self.stop();
                panic!("e2e: the stack did not restart: {why}\n{logs}");
            }
            eprintln!("e2e: restart attempt {attempt} failed ({why}); retrying. Logs:\n{logs}");
            attempt += 1;
        }
    }

    /// One restart; on failure why, and whether a worker runtime failed.
    fn restart_once(&self) -> Result<(), (String, bool)> {
        self.halt();
        let stamp = unix_now();
        for entry in fs::read_dir(self.run_dir()).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".log")
                && !stem.contains(".before-restart-")
            {
                let kept = self
                    .run_dir()
                    .join(format!("{stem}.before-restart-{stamp}.log"));
                let _ = fs::rename(entry.path(), kept);
            }
        }
        let mut child = spawn_serve(self.dir.path(), self.port);
        let stdout = child.stdout.take().expect("piped stdout");
        let watchdog = spawn_watchdog(child.id(), self.dir.path());
        *self.served.lock().unwrap_or_else(|p| p.into_inner()) = Served {
            child,
            watchdog,
            worker_groups: Vec::new(),
            stopped: false,
        };
        let ready_rx = drain_stdout(stdout, Arc::clone(&self.stdout));
        let started = Instant::now();
        let failed = loop {
            match ready_rx.recv_timeout(Duration::from_millis(250)) {
                Ok(url) if url == self.base => break None,
                Ok(url) => break Some(format!("ready on an unexpected address {url}")),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    break Some("scripts/serve exited before READY".to_owned());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(worker) = self.worker_failed_to_start() {
                break Some(format!("the Workers runtime of {worker} failed to start"));
            }
            if started.elapsed() > start_timeout() {
                break Some("no READY line in time".to_owned());
            }
        };
        if let Some(why) = failed {
            return Err((why, self.worker_failed_to_start().is_some()));
        }
        eprintln!(
            "e2e: stack restarted at {} in {:.1}s",
            self.base,
            started.elapsed().as_secs_f64()
        );
        self.record_worker_groups();
        Ok(())
    }

    /// Stops every process of the stack (see [`Stack::stop`]); false when
    /// it was already stopped.
    fn halt(&self) -> bool {
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        if served.stopped {
            return false;
        }
        served.stopped = true;
        let pgid = served.child.id();
        if served.child.try_wait().ok().flatten().is_none() {
            signal_group("TERM", pgid);
            let until = Instant::now() + STOP_TIMEOUT;
            loop {
                match served.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > until => {
                        eprintln!(
                            "e2e: scripts/serve ignored SIGTERM for {STOP_TIMEOUT:?}; killing it"
                        );
                        signal_group("KILL", pgid);
                        let _ = served.child.wait();
                        break;
                    }
                    Ok(None) => thread::sleep(Duration::from_millis(100)),
                }
            }
        } else {
            // serve is gone; its group may still hold stragglers.
            signal_group("TERM", pgid);
        }
        if let Some((mut watchdog, mut stdin)) = served.watchdog.take() {
            let _ = stdin.write_all(b"done\n");
            drop(stdin);
            let _ = watchdog.wait();
        }
        let mut groups = served.worker_groups.clone();
        groups.push(pgid);
        drop(served);
        self.reap(&groups);
        true
    }

    /// With `SEALPOST_E2E_KEEP_LOGS=DIR`, copies every worker log there
    /// before the stack's directory goes (for post-mortems of failed runs).
    fn keep_logs(&self) {
        let Some(dest) = std::env::var_os("SEALPOST_E2E_KEEP_LOGS") else {
            return;
        };
        let dest = PathBuf::from(dest);
        if fs::create_dir_all(&dest).is_err() {
            return;
        }
        for entry in fs::read_dir(self.run_dir()).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "log") {
                let _ = fs::copy(&path, dest.join(entry.file_name()));
            }
        }
    }

    /// Remembers the process groups of the running workers (each `wrangler
    /// dev` leads its own, holding its workerd), to wait for them on stop.
    fn record_worker_groups(&self) {
        let own = own_pgid();
        let mut groups: Vec<u32> = self
            .processes(&[])
            .into_iter()
            .map(|p| p.pgid)
            .filter(|&g| g > 1 && Some(g) != own)
            .collect();
        groups.sort_unstable();
        groups.dedup();
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        served.worker_groups = groups;
    }

    /// Live processes of this stack: in one of `groups`, or naming this
    /// stack's directory on their command line (`--persist-to …`).
    fn processes(&self, groups: &[u32]) -> Vec<Proc> {
        let needle = self.dir.path().to_string_lossy().into_owned();
        let own = own_pgid();
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
                let proc = Proc::read(pid)?;
                if Some(proc.pgid) == own || proc.pgid <= 1 {
                    return None;
                }
                let named = fs::read(entry.path().join("cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle));
                (named || groups.contains(&proc.pgid)).then_some(proc)
            })
            .collect()
    }

    /// Waits for the stack's processes to be gone (zombies included, which
    /// their parent or init reaps); kills those still running after 15 s.
    fn reap(&self, groups: &[u32]) {
        let wait_gone = |timeout: Duration| -> Vec<Proc> {
            let until = Instant::now() + timeout;
            loop {
                let left = self.processes(groups);
                if left.is_empty() || Instant::now() > until {
                    return left;
                }
                thread::sleep(Duration::from_millis(100));
            }
        };
        let left = wait_gone(Duration::from_secs(15));
        let running: Vec<&Proc> = left.iter().filter(|p| !p.zombie).collect();
        if running.is_empty() {
            return;
        }
        eprintln!("e2e: killing leftover worker processes {running:?}");
        let mut pgids: Vec<u32> = running.iter().map(|p| p.pgid).collect();
        pgids.sort_unstable();
        pgids.dedup();
        for g in pgids {
            signal_group("KILL", g);
        }
        for p in running {
            let _ = Command::new("kill")
                .args(["-KILL", &p.pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let left = wait_gone(Duration::from_secs(5));
        if !left.is_empty() {
            eprintln!("e2e: worker processes still present after SIGKILL: {left:?}");
        }
    }
}

/// [`Stack::ws_connect`] to a gateway on 127.0.0.1:`port` (also for the
/// benches, which drive a stack they did not start).
#[allow(
    clippy::result_large_err,
    reason = "tungstenite's own handshake error, unboxed, so callers can match on it"
)]
pub fn ws_connect_to(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<WebSocket, tungstenite::Error> {
    use tungstenite::client::IntoClientRequest;
    use tungstenite::handshake::HandshakeError;
    use tungstenite::http::{HeaderName, HeaderValue};

    let mut request = format!("ws://127.0.0.1:{port}{path}").into_client_request()?;
    let mut all: Vec<(&str, String)> = headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(CLIENT_IP_HEADER))
    {
        all.push((CLIENT_IP_HEADER, unique_ip()));
    }
    for (name, value) in all {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| tungstenite::Error::HttpFormat(e.into()))?;
        let value =
            HeaderValue::from_str(&value).map_err(|e| tungstenite::Error::HttpFormat(e.into()))?;
        request.headers_mut().insert(name, value);
    }
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(CALL_TIMEOUT))?;
    stream.set_write_timeout(Some(CALL_TIMEOUT))?;
    match tungstenite::client(request, stream) {
        Ok((socket, _response)) => Ok(socket),
        Err(HandshakeError::Failure(e)) => Err(e),
        Err(HandshakeError::Interrupted(_)) => Err(tungstenite::Error::Io(std::io::Error::other(
            "handshake interrupted on a blocking socket",
        ))),
    }
}

/// One process, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: u32,
    pgid: u32,
    zombie: bool,
}

impl Proc {
    fn read(pid: u32) -> Option<Proc> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
        let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
        let state = fields.next()?;
        let pgid = fields.nth(1)?.parse().ok()?;
        Some(Proc {
            pid,
            pgid,
            zombie: state == "Z",
        })
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The process group of this process.
fn own_pgid() -> Option<u32> {
    Proc::read(std::process::id()).map(|p| p.pgid)
}

/// `kill -SIG -- -PGID`.
fn signal_group(signal: &str, pgid: u32) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The env file every worker of a stack reads, in the stack's directory.
const ENV_FILE_NAME: &str = "e2e.env";

/// How long `scripts/serve` may take to be ready ([`START_TIMEOUT`] or
/// `SEALPOST_E2E_START_TIMEOUT`).
/// How many times a start (or restart) is tried when a worker runtime fails
/// to start: `SEALPOST_E2E_START_ATTEMPTS`, default [`START_ATTEMPTS`].
fn start_attempts() -> u32 {
    std::env::var("SEALPOST_E2E_START_ATTEMPTS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(START_ATTEMPTS)
        .max(1)
}

fn start_timeout() -> Duration {
    std::env::var("SEALPOST_E2E_START_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .map_or(START_TIMEOUT, Duration::from_secs)
}

/// Runs `scripts/serve` for the stack in `dir` (its `state`, `run` and env
/// file) with the gateway on `port`, in its own process group; stdout piped,
/// stderr to `run/serve.log`.
fn spawn_serve(dir: &Path, port: u16) -> Child {
    let root = repo_root();
    let run = dir.join("run");
    let serve_log = fs::File::create(run.join("serve.log")).expect("creating serve.log");
    Command::new(root.join("scripts/serve"))
        .current_dir(&root)
        .env("GATEWAY_PORT", port.to_string())
        .env("STATE_DIR", dir.join("state"))
        .env("RUN_DIR", &run)
        .env("ENV_FILE", dir.join(ENV_FILE_NAME))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(serve_log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}/scripts/serve: {e}", root.display()))
}

/// Drains serve's stdout into `lines` for the whole run; the receiver gets
/// the URL of its READY line.
fn drain_stdout(stdout: ChildStdout, lines: Arc<Mutex<Vec<String>>>) -> mpsc::Receiver<String> {
    let (ready_tx, ready_rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix(READY_PREFIX) {
                let _ = ready_tx.send(url.trim().to_owned());
            }
            if let Ok(mut l) = lines.lock() {
                l.push(line);
            }
        }
    });
    ready_rx
}

/// A shell that stops serve's process group when this process dies without
/// stopping the stack (its stdin closes without a "done" line; SIGKILL and
/// Ctrl-C included), then removes the stack's directory. serve stops every
/// worker itself on SIGTERM.
fn spawn_watchdog(pgid: u32, dir: &Path) -> Option<(Child, ChildStdin)> {
    let script = format!(
        "read -r line; [ \"$line\" = done ] && exit 0; \
         kill -TERM -- -{pgid} 2>/dev/null; \
         for _ in $(seq 1 200); do kill -0 -- -{pgid} 2>/dev/null || break; sleep 0.1; done; \
         kill -KILL -- -{pgid} 2>/dev/null; rm -rf -- \"$SEALPOST_E2E_DIR\"; exit 0"
    );
    let mut child = Command::new("bash")
        .args(["-c", &script])
        // Not on the command line: that names only the workers (see `processes`).
        .env("SEALPOST_E2E_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own group: a Ctrl-C aimed at the test run must not kill it
        // before it has done its job.
        .process_group(0)
        .spawn()
        .ok()?;
    let stdin = child.stdin.take()?;
    Some((child, stdin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ips_never_repeat_and_stay_in_documentation_ranges() {
        let ips: Vec<String> = (0..1000).map(|_| unique_ip()).collect();
        let mut sorted = ips.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ips.len());
        for ip in &ips {
            assert!(
                ip.starts_with("192.0.2.")
                    || ip.starts_with("198.51.100.")
                    || ip.starts_with("203.0.113.")
                    || ip.starts_with("2001:db8:"),
                "{ip}"
            );
            assert!(!ip.ends_with(".0") && !ip.ends_with(".255"), "{ip}");
        }
    }

    #[test]
    fn rfc3339_timestamps_parse_to_unix_seconds() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_utc("2024-02-29T12:34:56Z"),
            Some(1_709_210_096)
        );
        assert_eq!(
            parse_rfc3339_utc("2024-02-29T12:34:56.789Z"),
            Some(1_709_210_096)
        );
        assert_eq!(parse_rfc3339_utc("2024-02-29 12:34:56Z"), None);
        assert_eq!(parse_rfc3339_utc("2024-02-29T12:34:56"), None);
        assert_eq!(parse_rfc3339_utc("2024-13-01T00:00:00Z"), None);
    }
}

/// The sealed-request client of the e2e suite: the crate's own client
/// (`sealpost_seal`), exactly as an app would use it.
pub mod sealed {
    use rand_core::OsRng;
    use sealpost_seal::{KeyConfig, ResponseOpener, seal_request};

    use super::{Reply, Stack, Value, unix_now};

    /// The first key of `GET /auth/keys`.
    pub fn first_key(stack: &Stack) -> KeyConfig {
        let reply = stack.get("/auth/keys");
        assert_eq!(reply.status, 200, "{reply}");
        let keys = reply.json()["data"]["keys"].clone();
        serde_json::from_value::<Vec<KeyConfig>>(keys)
            .expect("key configurations")
            .into_iter()
            .next()
            .expect("at least one key")
    }

    /// The envelope (as JSON) sealing `inner` for `POST path` at time `ts`.
    pub fn envelope(
        key: &KeyConfig,
        path: &str,
        inner: &Value,
        ts: i64,
    ) -> (Value, ResponseOpener) {
        let req = seal_request(
            key,
            "POST",
            path,
            inner.to_string().as_bytes(),
            ts,
            &mut OsRng,
        )
        .expect("sealing a request");
        (
            serde_json::to_value(&req.envelope).expect("envelope JSON"),
            req.opener,
        )
    }

    /// Seals `inner` with the current key, posts it to `path`, and returns
    /// the reply with what opens it.
    pub fn post(stack: &Stack, path: &str, inner: &Value) -> (Reply, ResponseOpener) {
        let key = first_key(stack);
        let now = i64::try_from(unix_now()).expect("time fits");
        let (env, opener) = envelope(&key, path, inner, now);
        (stack.request("POST", path).json(&env).send(), opener)
    }

    /// Opens a sealed reply into its inner envelope.
    pub fn open(opener: &ResponseOpener, reply: &Reply) -> Value {
        let inner = opener
            .open(reply.status, &reply.body)
            .unwrap_or_else(|e| panic!("the sealed answer does not open ({e:?}): {reply}"));
        serde_json::from_slice(&inner).expect("inner JSON")
    }
}
