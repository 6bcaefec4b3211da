//! What the harness reads of the local runtime's processes from `/proc`
//! (Linux): the fields of a process's `stat` (the stack's process groups),
//! and for the benchmarks the `workerd` processes of one `wrangler dev`,
//! their CPU time and resident memory, and the worker ports `scripts/serve`
//! chose.
use std::fs;

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ).
const TICKS_PER_SEC: f64 = 100.0;

/// The fields of `/proc/<pid>/stat` after the command name (so index 1 is
/// the parent pid, 11 and 12 user and system ticks).
pub(crate) fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces: fields start after the closing parenthesis.
    let rest = text.rsplit_once(')')?.1;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// The `workerd` processes under the `wrangler dev` that serves `port`
/// (wrangler's proxy and the runtime). Panics when there are none.
pub fn workerd_of(port: u16) -> Vec<u32> {
    let pids: Vec<u32> = fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let flag = format!("dev --port {port} ");
    // The wrangler launcher and its node process both carry the flag.
    let wrangler: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|&pid| cmdline(pid).contains(&flag))
        .collect();
    let parent = |pid: u32| stat_fields(pid).and_then(|f| f.get(1)?.parse::<u32>().ok());
    let found: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|&pid| {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            comm.trim() == "workerd" && parent(pid).is_some_and(|p| wrangler.contains(&p))
        })
        .collect();
    assert!(
        !found.is_empty(),
        "no workerd under the wrangler dev on port {port}"
    );
    found
}

/// Whether `pid` is the runtime (wrangler runs it with an inspector)
/// rather than wrangler's proxy in front of it.
pub fn is_runtime(pid: u32) -> bool {
    cmdline(pid).contains("--inspector-addr")
}

/// User + system CPU seconds of `pids` together.
pub fn cpu_secs(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|&p| {
            let f = stat_fields(p)?;
            Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
        })
        .sum::<f64>()
        / TICKS_PER_SEC
}

/// Resident set of `pids` together, in KiB.
pub fn rss_kib(pids: &[u32]) -> u64 {
    pids.iter()
        .map(|p| {
            fs::read_to_string(format!("/proc/{p}/status"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("VmRSS:")?
                        .trim()
                        .strip_suffix("kB")?
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .unwrap_or(0)
        })
        .sum()
}

/// The port of worker `name` (`NAME_PORT`) in `$RUN_DIR/ports.env`.
pub fn port_of(run_dir: &str, name: &str) -> u16 {
    let key = format!("{}_PORT=", name.to_ascii_uppercase());
    fs::read_to_string(format!("{run_dir}/ports.env"))
        .expect("ports.env")
        .lines()
        .find_map(|l| l.strip_prefix(&key)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in ports.env"))
}
