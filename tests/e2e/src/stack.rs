//! The local runtime under test: the whole Sealpost stack (gateway + domain
//! workers under `wrangler dev`, started by `scripts/serve`) in a private
//! temporary directory — its env file, state and run directories, gateway
//! port and seeded admin — started, restarted and stopped by [`Stack`].
//!
//! One [`Stack`] is meant to be shared by many scenarios (starting one takes a
//! minute). Its processes — `scripts/serve`, the watchdog, the workers'
//! process groups — are handled in [`processes`].
//!
//! Knobs (environment): `SEALPOST_E2E_START_TIMEOUT` (seconds, default 240),
//! `SEALPOST_E2E_START_ATTEMPTS` (default 2; only a worker runtime that
//! failed to start is retried) and `SEALPOST_E2E_KEEP_LOGS` (a directory
//! that receives the worker logs when the stack stops).
mod processes;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use processes::{Served, drain_stdout, spawn_serve, spawn_watchdog};

use crate::fresh::{free_port, random_bytes, random_hex};
use crate::http::{self, Call, Reply};
use crate::time::unix_now;
use crate::ws::{WebSocket, ws_connect_to};

/// How long `scripts/serve` may take to print its READY line (override in
/// seconds with `SEALPOST_E2E_START_TIMEOUT`).
pub const START_TIMEOUT: Duration = Duration::from_secs(240);
/// How long a graceful stop may take before the stack is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// The browser origin the stack's `CORS_ORIGINS` allows.
pub const ALLOWED_ORIGIN: &str = "https://app.example";
/// The seeded admin's e-mail (its password is [`Stack::admin_password`]).
pub const ADMIN_EMAIL: &str = "admin@e2e.test";

/// How many times a stack start is tried when a worker's runtime fails to
/// start (override with `SEALPOST_E2E_START_ATTEMPTS`). Other failures are
/// never retried.
pub const START_ATTEMPTS: u32 = 2;

/// What `wrangler dev` logs when workerd could not start.
const RUNTIME_FAILED_MARKER: &str = "The Workers runtime failed to start";
const LOG_TAIL_LINES: usize = 60;

/// The env file every worker of a stack reads, in the stack's directory.
const ENV_FILE_NAME: &str = "e2e.env";

/// The repository root (this crate lives in `tests/e2e`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why one attempt to start the stack failed.
#[derive(Debug)]
struct StartFailure {
    why: String,
    /// A worker's runtime failed to start: worth one more attempt.
    runtime_failed: bool,
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
        self.local_d1_script("seeding the admin", || {
            let mut cmd = Command::new(repo_root().join("scripts/admin"));
            cmd.args(["--local", "--persist-to"])
                .arg(self.state_dir())
                .env("SEALPOST_ADMIN_EMAIL", ADMIN_EMAIL)
                .env("SEALPOST_ADMIN_PASSWORD", self.admin_password());
            cmd
        });
    }

    /// Points the default site's links at this stack's gateway, the way
    /// `scripts/dev` does: `scripts/site --local default 127.0.0.1
    /// --base-url http://127.0.0.1:PORT`, before any scenario runs.
    fn set_base_url(&self) {
        self.local_d1_script("setting the base URL", || {
            let mut cmd = Command::new(repo_root().join("scripts/site"));
            cmd.args(["--local", "default", "127.0.0.1", "--base-url"])
                .arg(self.base_url())
                .env("STATE_DIR", self.state_dir());
            cmd
        });
    }

    /// Runs a script that writes the local database through wrangler. The
    /// runtime may hold the database's write lock for a moment right after
    /// start (its first requests write the seal key ring): wrangler then
    /// fails with SQLITE_BUSY having written nothing, so the script is run
    /// again, a few times, after a pause. Any other failure stops the stack.
    fn local_d1_script(&self, what: &str, command: impl Fn() -> Command) {
        let mut attempt = 1;
        loop {
            let out = command()
                .current_dir(repo_root())
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("e2e: {what}: {e}"));
            if out.status.success() {
                return;
            }
            let (stdout, stderr) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            if attempt < 5 && (stdout.contains("SQLITE_BUSY") || stderr.contains("SQLITE_BUSY")) {
                eprintln!(
                    "e2e: {what} met the database's write lock (attempt {attempt}); retrying"
                );
                std::thread::sleep(std::time::Duration::from_millis(500 * attempt));
                attempt += 1;
                continue;
            }
            self.stop();
            panic!("e2e: {what} failed ({}):\n{stdout}\n{stderr}", out.status);
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

        let stack = Stack {
            base: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            admin_password,
            agent: http::agent(),
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

    /// A request to the gateway, from a fresh [`crate::unique_ip`].
    pub fn request(&self, method: &str, path: &str) -> Call {
        Call::new(self.agent.clone(), method, self.url(path))
    }

    /// `GET path`, from a fresh [`crate::unique_ip`].
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
    /// from a fresh [`crate::unique_ip`] unless `headers` has a `CF-Connecting-IP`.
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
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How many times a start (or restart) is tried when a worker runtime fails
/// to start: `SEALPOST_E2E_START_ATTEMPTS`, default [`START_ATTEMPTS`].
fn start_attempts() -> u32 {
    std::env::var("SEALPOST_E2E_START_ATTEMPTS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(START_ATTEMPTS)
        .max(1)
}

/// How long `scripts/serve` may take to be ready ([`START_TIMEOUT`] or
/// `SEALPOST_E2E_START_TIMEOUT`).
fn start_timeout() -> Duration {
    std::env::var("SEALPOST_E2E_START_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .map_or(START_TIMEOUT, Duration::from_secs)
}
