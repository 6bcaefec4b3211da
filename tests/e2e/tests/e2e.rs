//! End-to-end scenarios against one running stack (`scripts/serve`), each a
//! named trial. Run: `cargo test -p sealpost-e2e --test e2e` (the stack takes
//! a minute to start; the usual libtest filters and `--list` work, and the
//! stack is not started when no scenario is selected). Scenarios run in
//! parallel; those that need the stack to themselves (a restart) run after
//! them, one at a time, as a second libtest run with the same filters; the
//! exit code fails when either run has a failure.
//!
//! The scenarios live in `scenarios/`; this file only runs them.
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use libtest_mimic::{Arguments, Trial};
use sealpost_e2e::Stack;

/// One scenario: it gets the shared stack and panics on a failure.
type Scenario = fn(&Stack);

/// The `(name, scenario)` pairs of the scenario functions at `paths`, each
/// named after its function (the last segment of its path), so a trial's
/// name is its function's: `scenarios![signup::a_scenario, another]`.
macro_rules! scenarios {
    ($($($segment:ident)::+),* $(,)?) => {
        &[$((scenario_name!($($segment)::+), $($segment)::+)),*]
    };
}

/// The last segment of a path, as a string literal.
macro_rules! scenario_name {
    ($name:ident) => {
        stringify!($name)
    };
    ($module:ident :: $($rest:ident)::+) => {
        scenario_name!($($rest)::+)
    };
}

mod scenarios;

use scenarios::{auth, browser, campaigns, comments, content, gateway, seal};

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    // Scenarios mostly wait on the network: run a few at once by default.
    args.test_threads.get_or_insert(4);

    // Domain scenarios carry their kind (`[auth] name`, `[content] name`,
    // `[comments] name`), so that `-- auth` or `-- content` selects them all.
    let kinded = |kind: &'static str, set: &'static [(&'static str, Scenario)]| {
        set.iter()
            .map(move |&(name, scenario)| (kind, name, scenario))
    };
    let parallel: Vec<(&str, &str, Scenario)> = kinded("", gateway::SCENARIOS)
        .chain(kinded("", seal::SCENARIOS))
        .chain(kinded("auth", auth::SCENARIOS))
        .chain(kinded("content", content::SCENARIOS))
        .chain(kinded("comments", comments::SCENARIOS))
        .chain(kinded("campaigns", campaigns::SCENARIOS))
        .collect();
    // Scenarios that need the stack to themselves (a restart of the whole
    // runtime): a second phase, one at a time, after every other finished.
    let serial: Vec<(&str, &str, Scenario)> = kinded("comments", comments::SERIAL_SCENARIOS)
        .chain(kinded("campaigns", campaigns::SERIAL_SCENARIOS))
        .chain(kinded("browser", browser::SERIAL_SCENARIOS))
        .collect();
    let any_selected = |set: &[(&str, &str, Scenario)]| {
        set.iter()
            .any(|(kind, name, _)| selected(&args, kind, name))
    };
    let stack = (!args.list && (any_selected(&parallel) || any_selected(&serial)))
        .then(|| Arc::new(Stack::start()));
    let trials = |set: &[(&'static str, &'static str, Scenario)]| -> Vec<Trial> {
        set.iter()
            .map(|&(kind, name, scenario)| {
                let stack = stack.clone();
                Trial::test(name, move || {
                    let stack = stack.ok_or("the stack was not started")?;
                    scenario(&stack);
                    Ok(())
                })
                .with_kind(kind)
            })
            .collect()
    };
    let started = Instant::now();
    let conclusion = libtest_mimic::run(&args, trials(&parallel));
    let serial_conclusion = (args.list || any_selected(&serial)).then(|| {
        let mut one_at_a_time = args.clone();
        one_at_a_time.test_threads = Some(1);
        libtest_mimic::run(&one_at_a_time, trials(&serial))
    });
    if let Some(stack) = stack {
        eprintln!(
            "e2e: scenarios took {:.1}s; stopping the stack",
            started.elapsed().as_secs_f64()
        );
        stack.stop();
    }
    match serial_conclusion {
        Some(c) if c.has_failed() => c.exit_code(),
        _ => conclusion.exit_code(),
    }
}

/// Whether libtest-mimic will run trial `name` of `kind` (its filter rules:
/// a substring of `[kind] name`, or with `--exact` the name or `[kind] name`).
fn selected(args: &Arguments, kind: &str, name: &str) -> bool {
    let full = if kind.is_empty() {
        name.to_owned()
    } else {
        format!("[{kind}] {name}")
    };
    let matches = |pattern: &str| {
        if args.exact {
            name == pattern || full == pattern
        } else {
            full.contains(pattern)
        }
    };
    !args.ignored
        && args.filter.as_deref().is_none_or(matches)
        && !args.skip.iter().any(|s| matches(s))
}
