//! Sealpost campaigns, free of the Workers platform: subscribers with double
//! opt-in, addresses encrypted at rest, stateless unsubscribe tokens,
//! campaigns and their per-recipient delivery ledger, the queue consumer's
//! decisions (claims, retries, the breaker, the send-rate cap), the cron's
//! reconciliation and the local fake email provider. Everything goes through
//! the ports, so the whole flow runs natively against SQLite in tests.
//! Contract: API.md (Campaigns); decisions: docs/api.md (Campaigns),
//! docs/adr/0013 and 0014.
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
