//! The processes of a [`Stack`]: `scripts/serve` in its own process group
//! (stopped with SIGTERM; it stops the workers), its stdout drained for the
//! READY line, a watchdog shell that stops it should the test process die
//! without stopping the stack (SIGKILL, Ctrl-C), and the workers' process
//! groups, waited for (and stragglers killed) on stop.
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{ENV_FILE_NAME, STOP_TIMEOUT, Stack, repo_root};
use crate::procfs;

/// The line `scripts/serve` prints once every worker is up: this prefix,
/// then the gateway's URL.
const READY_PREFIX: &str = "SEALPOST READY ";

/// What the harness keeps of the `scripts/serve` process.
#[derive(Debug)]
pub(super) struct Served {
    pub(super) child: Child,
    /// The watchdog's stdin: closing it without "done" (the test process
    /// died) makes the watchdog stop the stack.
    pub(super) watchdog: Option<(Child, ChildStdin)>,
    /// The workers' process groups, once they are up.
    pub(super) worker_groups: Vec<u32>,
    pub(super) stopped: bool,
}

impl Stack {
    /// Stops every process of the stack (see [`Stack::stop`]); false when
    /// it was already stopped.
    pub(super) fn halt(&self) -> bool {
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

    /// Remembers the process groups of the running workers (each `wrangler
    /// dev` leads its own, holding its workerd), to wait for them on stop.
    pub(super) fn record_worker_groups(&self) {
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

/// One process, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: u32,
    pgid: u32,
    zombie: bool,
}

impl Proc {
    fn read(pid: u32) -> Option<Proc> {
        // After the command name: state ppid pgrp …
        let fields = procfs::stat_fields(pid)?;
        let state = fields.first()?;
        let pgid = fields.get(2)?.parse().ok()?;
        Some(Proc {
            pid,
            pgid,
            zombie: state == "Z",
        })
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

/// Runs `scripts/serve` for the stack in `dir` (its `state`, `run` and env
/// file) with the gateway on `port`, in its own process group; stdout piped,
/// stderr to `run/serve.log`.
pub(super) fn spawn_serve(dir: &Path, port: u16) -> Child {
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
pub(super) fn drain_stdout(
    stdout: ChildStdout,
    lines: Arc<Mutex<Vec<String>>>,
) -> mpsc::Receiver<String> {
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
pub(super) fn spawn_watchdog(pgid: u32, dir: &Path) -> Option<(Child, ChildStdin)> {
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
