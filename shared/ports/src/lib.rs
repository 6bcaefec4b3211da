//! Sealpost ports: the traits every domain crate codes against and the types
//! they share. Platform-free (no `worker` dependency): the Cloudflare adapters
//! live in `sealpost-cf`, the native test doubles in `sealpost-testkit`.
//!
//! The traits model production semantics, not an idealised store:
//! D1 allows at most [`MAX_BOUND_PARAMS`] bound parameters and a `batch` is one
//! transaction; KV is eventually consistent, needs a TTL of at least
//! [`KV_MIN_TTL_SECS`] and accepts one write per key per second.
//! Time and randomness are injected ([`Clock`], [`Rng`]).
//!
//! Async traits use `async fn` without `Send` bounds: futures on
//! `wasm32-unknown-unknown` are `!Send`.
#![forbid(unsafe_code)]

pub mod base_url;
pub mod clock;
pub mod error;
pub mod kv;
pub mod page;
pub mod page_cache;
pub mod ratelimit;
pub mod rng;
pub mod site;
pub mod site_purge;
pub mod sql;

pub use base_url::{BaseUrl, InvalidBaseUrl, SiteProfile, site_base_url, site_profile};
pub use clock::{Clock, parse_rfc3339, rfc3339};
pub use error::PortError;
pub use kv::{KV_MIN_TTL_SECS, Kv, check_ttl};
pub use page_cache::{CachedPage, PageCache};
pub use ratelimit::RateLimiter;
pub use rng::Rng;
pub use site::{InvalidSiteId, SiteDb, SiteId};
pub use site_purge::SitePurge;
pub use sql::{
    ExecResult, MAX_BOUND_PARAMS, MAX_SAFE_INTEGER, Row, Sql, SqlValue, Statement, from_row,
};
