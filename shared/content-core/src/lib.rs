//! The content worker's domain logic, free of the Workers platform:
//! bilingual posts ([`model`]) with bodies rendered by `sealpost-markdown`, the
//! routes ([`service`]), ratings, read counts and activity
//! ([`engagement`]), scheduled publishing ([`publish`]), the HTTP caching of
//! public reads ([`cache`]), the edge cache of the single post
//! ([`edge_cache`]) and the purges after a post changes ([`stale`]). Storage: migrations/0005_content.sql and
//! 0006_engagement.sql; decisions: docs/adr/0011.
#![forbid(unsafe_code)]

pub mod cache;
pub mod edge_cache;
pub mod engagement;
pub mod model;
pub mod publish;
pub mod service;
pub mod stale;

pub use service::{Content, Failure};
