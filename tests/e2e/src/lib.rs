//! The end-to-end harness: the whole Sealpost stack (gateway + domain
//! workers under `wrangler dev`, started by `scripts/serve`) in a private
//! temporary directory, and small blocking clients to talk to it over HTTP and
//! WebSocket as a user would.
//!
//! One [`Stack`] is meant to be shared by many scenarios (starting one takes a
//! minute). Every request gets its own client address by default
//! ([`unique_ip`]), so scenarios never share the per-IP rate-limit budget.
//!
//! The parts: the local runtime ([`Stack`]), the HTTP client ([`Call`],
//! [`Reply`]), the envelope assertions, the WebSocket client
//! ([`ws_connect_to`]), the sealed-request client ([`sealed`]), fresh test
//! values and the clock, an independent TOTP generator ([`totp`]), and the
//! clients of each service ([`auth`], [`comments`], [`campaigns`]) that the
//! scenarios and the benchmarks ([`mod@bench`], [`procfs`]) share.
#![forbid(unsafe_code)]

pub mod auth;
pub mod bench;
pub mod campaigns;
pub mod comments;
pub mod procfs;
pub mod sealed;
pub mod totp;

mod assertions;
mod fresh;
mod http;
mod stack;
mod time;
mod ws;

pub use assertions::assert_validation_body;
pub use fresh::{free_port, random_bytes, random_hex, unique_ip};
pub use http::{CALL_TIMEOUT, CLIENT_IP_HEADER, Call, Reply};
pub use serde_json::{Value, json};
pub use stack::{
    ADMIN_EMAIL, ALLOWED_ORIGIN, START_ATTEMPTS, START_TIMEOUT, STOP_TIMEOUT, Stack, repo_root,
};
pub use time::{parse_rfc3339_utc, rfc3339_utc, unix_now, unix_secs_of};
pub use tungstenite;
pub use ureq;
pub use ws::{WebSocket, ws_connect_to};
