//! Benchmark (not a test) of the comments' live fan-out on a running stack,
//! printed as Markdown rows for docs/perf.md.
//!
//! `comments-bench fanout BASE_URL RUN_DIR SLUG [VIEWERS=100,1000] [ROUNDS=5]`:
//! for each viewer count N, on the published post with English slug SLUG:
//!
//! 1. memory: the resident set (VmRSS) of each `workerd` process of the
//!    comments worker and of the gateway (which relays every socket) —
//!    wrangler's proxy and the runtime under the `wrangler dev` serving
//!    `COMMENTS_PORT` / `GATEWAY_PORT` of `$RUN_DIR/ports.env` — before N
//!    viewers connect, right after, and after they have been idle 15 s (the
//!    post's object hibernates after ~10 s without events); (idle − before)
//!    / N per viewer, plus the CPU each process used in the idle 15 s;
//! 2. fan-out latency: a member posts a comment; for every viewer, the time
//!    from just before the POST is sent until that viewer has read the
//!    `comment.created` frame. Per round the p50 and the max over viewers;
//!    the table gives the median of each over ROUNDS rounds, plus the first
//!    round (the object woken from hibernation) on its own.
//!
//! Every viewer is one thread with a blocking tungstenite socket and its own
//! `CF-Connecting-IP` (at most 20 sockets per address and post are let in).
//! Viewers connect with `since` = the newest serial, so no backfill is sent.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use sealpost_e2e::bench::{BenchClient, note, out, percentile, random_ip};
use sealpost_e2e::comments::{Frame, Viewer, live_path};
use sealpost_e2e::procfs::{cpu_secs, is_runtime, port_of, rss_kib, workerd_of};
use serde_json::{Value, json};

/// How long the viewers stay idle before the "after" memory reading.
const IDLE: Duration = Duration::from_secs(15);
/// At most this many viewers are between TCP connect and upgrade at once.
const CONNECTING: usize = 32;
/// How long a round may take before it counts as lost.
const ROUND_TIMEOUT: Duration = Duration::from_secs(120);
/// One `workerd` process of a worker: the runtime (the one wrangler runs
/// with an inspector) or wrangler's proxy in front of it.
#[derive(Debug, Clone)]
struct Process {
    label: String,
    pid: u32,
}

/// The runtime and proxy `workerd` of worker `name` serving `port`.
fn processes_of(name: &str, port: u16) -> Vec<Process> {
    let mut found: Vec<Process> = workerd_of(port)
        .into_iter()
        .map(|pid| Process {
            label: format!(
                "{name} {}",
                if is_runtime(pid) { "runtime" } else { "proxy" }
            ),
            pid,
        })
        .collect();
    found.sort_by(|a, b| b.label.cmp(&a.label));
    found
}

/// A fresh member's access token (sealed signup from a fresh address).
fn member(client: &BenchClient, tag: &str) -> String {
    let email = format!("viewer-{tag}-{}@bench.test", random_ip().replace('.', "-"));
    let (status, body, _) = client.sealed(
        "/auth/signup",
        &random_ip(),
        None,
        &json!({"email": email, "password": "correct horse battery staple"}),
    );
    assert_eq!(status, 201, "signup: {body}");
    body["data"]["tokens"]["accessToken"]
        .as_str()
        .expect("accessToken")
        .to_owned()
}

/// `GET url` from a random address, as JSON.
fn get_json(agent: &ureq::Agent, url: &str) -> Value {
    agent
        .get(url)
        .header("CF-Connecting-IP", &random_ip())
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .into_body()
        .read_json()
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// What the viewer threads report.
enum Report {
    Connected,
    Refused(String),
    /// A `comment.created` frame: the comment id and when it was read.
    Got(String, Instant),
}

/// N open viewers, each a thread.
struct Viewers {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
    reports: mpsc::Receiver<Report>,
}

/// Opens `n` viewers of `path` from distinct addresses (`10.{net}.x.y`).
fn open_viewers(port: u16, path: &str, n: usize, net: u8) -> Viewers {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, reports) = mpsc::channel();
    let mut threads = Vec::with_capacity(n);
    let mut connected = 0;
    let started = Instant::now();
    for i in 0..n {
        // Keep at most CONNECTING upgrades in flight.
        while i - connected >= CONNECTING {
            match reports.recv_timeout(Duration::from_secs(60)) {
                Ok(Report::Connected) => connected += 1,
                Ok(Report::Refused(why)) => panic!("a viewer was refused: {why}"),
                Ok(Report::Got(..)) => {}
                Err(e) => panic!("viewers stopped connecting: {e}"),
            }
        }
        let ip = format!("10.{net}.{}.{}", i / 250, i % 250 + 1);
        let (tx, stop, path) = (tx.clone(), Arc::clone(&stop), path.to_owned());
        let handle = thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut viewer = match Viewer::open(port, &path, &ip) {
                    Ok(v) => v,
                    Err(r) => {
                        let _ = tx.send(Report::Refused(format!("{r:?}")));
                        return;
                    }
                };
                let _ = tx.send(Report::Connected);
                while !stop.load(Ordering::Relaxed) {
                    match viewer.next_frame(Duration::from_secs(2)) {
                        Frame::Text(t) => {
                            let at = Instant::now();
                            let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                            if v["type"] == "comment.created" {
                                let id = v["comment"]["id"].as_str().unwrap_or("").to_owned();
                                let _ = tx.send(Report::Got(id, at));
                            }
                        }
                        Frame::Timeout => {}
                        other => {
                            let _ = tx.send(Report::Refused(format!("closed: {other:?}")));
                            return;
                        }
                    }
                }
                viewer.close();
            })
            .expect("spawning a viewer thread");
        threads.push(handle);
    }
    while connected < n {
        match reports.recv_timeout(Duration::from_secs(60)) {
            Ok(Report::Connected) => connected += 1,
            Ok(Report::Refused(why)) => panic!("a viewer was refused: {why}"),
            Ok(Report::Got(..)) => {}
            Err(e) => panic!("only {connected} of {n} viewers connected: {e}"),
        }
    }
    note(&format!(
        "{n} viewers connected in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Viewers {
        stop,
        threads,
        reports,
    }
}

impl Viewers {
    /// Closes every viewer and waits for its thread.
    fn close(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// One round: latency (ms) per viewer from just before the POST until it
/// read the comment (sorted), the POST's own latency, and the comment's serial.
fn round(
    client: &BenchClient,
    viewers: &Viewers,
    n: usize,
    post_id: &str,
    token: &str,
    i: usize,
) -> (Vec<f64>, f64, u64) {
    let body = json!({"body": format!("fan-out round {i}")});
    let t0 = Instant::now();
    let (status, reply) = client.post_json(
        &format!("/posts/{post_id}/comments"),
        &random_ip(),
        Some(token),
        Some(&body),
    );
    let post_ms = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 201, "comment: {reply}");
    let id = reply["data"]["id"].as_str().expect("comment id").to_owned();
    let serial = reply["data"]["serial"].as_u64().expect("comment serial");
    let mut lat = Vec::with_capacity(n);
    let until = t0 + ROUND_TIMEOUT;
    while lat.len() < n {
        let left = until.saturating_duration_since(Instant::now());
        match viewers.reports.recv_timeout(left) {
            Ok(Report::Got(got, at)) if got == id => {
                lat.push(at.duration_since(t0).as_secs_f64() * 1000.0);
            }
            Ok(Report::Got(..) | Report::Connected) => {}
            Ok(Report::Refused(why)) => panic!("a viewer dropped out: {why}"),
            Err(_) => panic!(
                "round {i}: only {} of {n} viewers got the comment",
                lat.len()
            ),
        }
    }
    lat.sort_by(f64::total_cmp);
    (lat, post_ms, serial)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    percentile(&xs, 0.5)
}

struct Row {
    n: usize,
    rounds: usize,
    p50: f64,
    max: f64,
    first_p50: f64,
    first_max: f64,
    post_ms: f64,
    /// Per process: RSS (KiB) before, right after connecting, after the
    /// idle wait; CPU (ms) in the idle wait.
    memory: Vec<(String, [u64; 3], f64)>,
}

fn fanout(base: &str, run_dir: &str, slug: &str, counts: &[usize], rounds: usize) {
    let client = BenchClient::new(base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let base = base.trim_end_matches('/');
    let post = get_json(&agent, &format!("{base}/posts/{slug}?lang=en"));
    let post_id = post["data"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no post {slug}: {post}"))
        .to_owned();
    let gateway_port = port_of(run_dir, "gateway");
    let procs: Vec<Process> = processes_of("comments", port_of(run_dir, "comments"))
        .into_iter()
        .chain(processes_of("gateway", gateway_port))
        .collect();
    note(&format!("post {post_id}; workerd processes {procs:?}"));
    let rss = || -> Vec<u64> { procs.iter().map(|p| rss_kib(&[p.pid])).collect() };
    let cpu = || -> Vec<f64> { procs.iter().map(|p| cpu_secs(&[p.pid])).collect() };

    // The newest serial: viewers connect after it (no backfill), and it
    // follows the comments posted here.
    let first_page = get_json(&agent, &format!("{base}/posts/{post_id}/comments?limit=1"));
    let mut newest = first_page["data"][0]["serial"].as_u64().unwrap_or(0);
    let mut rows = Vec::new();
    for (k, &n) in counts.iter().enumerate() {
        // One member per round (the per-user rate is 5 then 1 per 5 s).
        let tokens: Vec<String> = (0..=rounds)
            .map(|r| member(&client, &format!("{k}-{r}")))
            .collect();
        let since = newest;
        let path = live_path(&post_id, Some(&since.to_string()));
        // Let the previous run's sockets and the signups settle.
        thread::sleep(Duration::from_secs(5));
        let before = rss();
        let net = u8::try_from(100 + k).unwrap_or(255);
        let viewers = open_viewers(gateway_port, &path, n, net);
        let connected = rss();
        let cpu0 = cpu();
        thread::sleep(IDLE);
        let cpu1 = cpu();
        let idle = rss();
        let memory: Vec<(String, [u64; 3], f64)> = procs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let readings = [before[i], connected[i], idle[i]];
                note(&format!(
                    "{n} viewers: {} RSS before / connected / idle 15 s: {readings:?} KiB",
                    p.label
                ));
                (p.label.clone(), readings, (cpu1[i] - cpu0[i]) * 1000.0)
            })
            .collect();

        let (first, _, serial) = round(&client, &viewers, n, &post_id, &tokens[0], 0);
        newest = serial;
        let (mut p50s, mut maxes, mut posts) = (Vec::new(), Vec::new(), Vec::new());
        for (r, token) in tokens.iter().enumerate().skip(1) {
            thread::sleep(Duration::from_secs(1));
            let (lat, post_ms, serial) = round(&client, &viewers, n, &post_id, token, r);
            newest = serial;
            note(&format!(
                "{n} viewers, round {r}: p50 {:.1} ms, max {:.1} ms, POST {post_ms:.1} ms",
                percentile(&lat, 0.5),
                lat[lat.len() - 1]
            ));
            p50s.push(percentile(&lat, 0.5));
            maxes.push(lat[lat.len() - 1]);
            posts.push(post_ms);
        }
        viewers.close();
        rows.push(Row {
            n,
            rounds,
            p50: median(p50s),
            max: median(maxes),
            first_p50: percentile(&first, 0.5),
            first_max: first[first.len() - 1],
            post_ms: median(posts),
            memory,
        });
    }

    out(
        "| viewers (one thread and address each) | rounds | fan-out p50 over viewers (ms, median of rounds) | fan-out max over viewers (ms, median of rounds) | first round after 15 s idle: p50 / max (ms) | POST /posts/{id}/comments (ms, median) |",
    );
    out("|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        out(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} / {:.1} | {:.1} |",
            r.n, r.rounds, r.p50, r.max, r.first_p50, r.first_max, r.post_ms
        ));
    }
    out("");
    out(
        "| viewers | workerd process | RSS before (MiB) | RSS just after connecting (MiB) | RSS after 15 s idle (MiB) | per idle viewer (KiB) | CPU in the 15 s idle (ms) |",
    );
    out("|---:|---|---:|---:|---:|---:|---:|");
    let mib = |k: u64| k as f64 / 1024.0;
    for r in &rows {
        for (label, [before, connected, idle], cpu_ms) in &r.memory {
            out(&format!(
                "| {} | {label} | {:.1} | {:.1} | {:.1} | {:.1} | {cpu_ms:.0} |",
                r.n,
                mib(*before),
                mib(*connected),
                mib(*idle),
                (*idle as f64 - *before as f64) / r.n as f64,
            ));
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: comments-bench fanout BASE_URL RUN_DIR SLUG [VIEWERS=100,1000] [ROUNDS=5]";
    match args.as_slice() {
        [mode, base, run_dir, slug, rest @ ..] if mode == "fanout" => {
            let counts: Vec<usize> = rest
                .first()
                .map_or("100,1000", String::as_str)
                .split(',')
                .map(|s| s.trim().parse().expect(usage))
                .collect();
            let rounds = rest.get(1).map_or(5, |s| s.parse().expect(usage));
            fanout(base, run_dir, slug, &counts, rounds.max(1));
        }
        _ => panic!("{usage}"),
    }
}
