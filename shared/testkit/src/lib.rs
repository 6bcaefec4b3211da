//! Sealpost testkit: native adapters for the ports, for tests only (never
//! compiled to wasm). Each double models the production limit that would make
//! the real platform fail, so tests fail where production would:
//! D1's 100 bound parameters and transactional `batch` ([`SqliteDb`]),
//! KV's 60 s minimum TTL, 1 write/key/s and delayed cross-location
//! visibility ([`MemKv`]), fixed-window rate limiting ([`MemRateLimiter`]),
//! a data centre's page cache with deferred writes and max-age ([`MemPageCache`]),
//! the site worker's page purge, recording each call ([`MemSitePurge`]).
//! Besides the doubles: a random source that fails ([`FailingRng`]), a key
//! that signs access tokens as auth does ([`TokenMint`]) and the base every
//! core's test world stands on ([`world::Base`]).
#![forbid(unsafe_code)]

pub mod clock;
pub mod kv;
pub mod page_cache;
pub mod ratelimit;
pub mod rng;
pub mod seed;
pub mod site_purge;
pub mod sqlite;
pub mod tokens;
pub mod world;

pub use clock::ManualClock;
pub use futures::executor::block_on;
pub use kv::MemKv;
pub use page_cache::MemPageCache;
pub use ratelimit::MemRateLimiter;
pub use rng::{FailingRng, SeededRng};
pub use sealpost_ports as ports;
pub use site_purge::MemSitePurge;
pub use sqlite::SqliteDb;
pub use tokens::TokenMint;
pub use world::{Base, SignedIn};
