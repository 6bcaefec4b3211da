//! Cloudflare adapters. This is the only shared crate that depends on `worker`:
//! it implements the ports of `sealpost-ports` over D1, KV, the rate-limiting
//! binding, the Cache API, `Date.now()` and `crypto.getRandomValues()`, converts between
//! `worker` and `sealpost-api` types, writes JSON logs, and carries the scaffold
//! every domain worker uses to answer requests (`domain::serve`).
#![forbid(unsafe_code)]

pub mod auth;
pub mod d1;
pub mod domain;
pub mod http;
pub mod kv;
pub mod log;
pub mod page_cache;
pub mod site_purge;
pub mod sys;
pub mod upstream;

pub use d1::D1Sql;
pub use domain::PlatformResult;
pub use kv::CfKv;
pub use page_cache::EdgePageCache;
pub use site_purge::SiteWorkerPurge;
pub use sys::{CryptoRng, SystemClock, WorkersRateLimiter};
pub use upstream::BoundApi;
