//! Sealpost campaigns, free of the Workers platform: subscribers with double
//! opt-in, addresses encrypted at rest, stateless unsubscribe tokens,
//! campaigns and their per-recipient delivery ledger, the queue consumer's
//! decisions (claims, retries, the breaker, the send-rate cap), the cron's
//! reconciliation and the local fake email provider. Everything goes through
//! the ports, so the whole flow runs natively against SQLite in tests.
//! Decisions where the API contract is silent: docs/api.md (Campaigns);
//! docs/adr/0013 and 0014.
//!
//! # Site scoping
//!
//! Every statement on a site's rows — subscribers, campaigns, the ledger,
//! batches, the site's hosts and base URL — is built with
//! [`SiteDb::statement`] and runs through that [`SiteDb`], which refuses one
//! not scoped to its site. The queue consumer parses its job's site once
//! into a [`SiteId`] ([`delivery::deliver`], [`delivery::dead_letter`]); the
//! routes get their handle from the worker; the cron makes one per campaign
//! from the campaign's row.
//!
//! # Unscoped statements
//!
//! These, and only these, run on the plain [`Sql`] port (the test below
//! holds the sources to this list):
//!
//! - [`cron::reconcile`], four scans of every site's campaigns: the start
//!   of the due scheduled ones and the resumption of the cooled-down paused
//!   ones (each ONE `UPDATE … RETURNING site_id, id`, so overlapping runs
//!   claim a campaign once across all sites), the list of the sending ones
//!   and the list of the cancelled ones with a claim left behind. What
//!   follows on each campaign runs through its site's handle.
//! - [`rate::reserve_slot`] (and [`rate::take_slot`]): the upsert and the
//!   read of `send_rate('provider')`, the one send-rate cell of the email
//!   provider, shared by every site (the consumer's `global` port, the
//!   subscriptions' `rate_sql`).
//! - [`outbox`], local development only: the fake provider's requests
//!   (`dev_batches`) and inbox (`dev_outbox`), global like a real
//!   provider's account, and its injected faults (`dev_faults`, matched by
//!   recipient, not by site): [`outbox::DevOutbox`], [`outbox::take_fault`],
//!   [`outbox::set_fault`], [`outbox::dev_mail`].
//!
//! [`SiteDb`]: sealpost_ports::SiteDb
//! [`SiteDb::statement`]: sealpost_ports::SiteDb::statement
//! [`SiteId`]: sealpost_ports::SiteId
//! [`Sql`]: sealpost_ports::Sql
#![forbid(unsafe_code)]

pub mod access;
pub mod batches;
pub mod bot_check;
pub mod campaigns;
pub mod cron;
pub mod delivery;
pub mod failures;
pub mod keys;
pub mod ledger;
pub mod links;
pub mod mail;
pub mod model;
pub mod outbox;
pub mod pages;
pub mod ports;
pub mod rate;
pub mod resend;
pub mod settings;
pub mod subscribers;

/// The modules of the list "Unscoped statements" above, with how many
/// statements each builds for the plain port (`Statement::new`); every
/// other module builds its statements with `SiteDb::statement` only.
#[cfg(test)]
const UNSCOPED: [(&str, usize); 3] = [("cron.rs", 4), ("outbox.rs", 12), ("rate.rs", 2)];

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// A plain statement's constructor (spelt in two, so this file does not
    /// count itself).
    const NEW_STATEMENT: &str = concat!("Statement", "::new(");

    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let name = path
                    .strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/src/"))
                    .expect("under src")
                    .to_string_lossy()
                    .into_owned();
                out.push((name, std::fs::read_to_string(&path).expect("source")));
            }
        }
    }

    #[test]
    fn only_the_listed_modules_build_statements_outside_the_site_handle() {
        let mut files = Vec::new();
        sources(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut files,
        );
        let mut found: Vec<(String, usize)> = files
            .iter()
            .map(|(name, text)| (name.clone(), text.matches(NEW_STATEMENT).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        found.sort();
        let listed: Vec<(String, usize)> = super::UNSCOPED
            .iter()
            .map(|(m, n)| ((*m).to_owned(), *n))
            .collect();
        assert_eq!(found, listed);
    }
}
