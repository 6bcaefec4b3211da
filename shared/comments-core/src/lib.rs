//! The comments worker's domain logic, free of the Workers
//! platform: comment bodies and objects ([`model`]), the store every write
//! of a post's Durable Object goes through ([`store`]), the per-user rate
//! limit the object keeps ([`bucket`]), the live protocol — client frames,
//! events and the replay ring ([`live`]), a new viewer's chunked, bounded
//! backfill merged with the live stream ([`catchup`]) — and the stateless
//! routes ([`service`]). Storage: migrations/0007_comments.sql; decisions:
//! docs/adr/0012, docs/api.md (Comments).
#![forbid(unsafe_code)]

pub mod bucket;
pub mod catchup;
pub mod live;
pub mod model;
pub mod service;
pub mod store;

pub use sealpost_api::Failure;
