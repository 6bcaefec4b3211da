//! The auth worker's domain logic, free of the Workers platform (it talks to
//! ports): the worker's one entry with its key routes and sealed wiring
//! (`endpoint`), the edge-seal key lifecycle (`keys`), replay protection
//! (`replay`), the sealing layer of sealed routes (`seal_layer`), and the
//! auth routes themselves (`service`) over accounts, sessions, MFA, limits
//! and the audit log.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod audit;
pub mod endpoint;
pub mod keys;
pub mod limits;
pub mod mfa;
pub mod reauth;
pub mod replay;
pub mod seal_layer;
pub mod secrets;
pub mod service;
pub mod sessions;

pub use endpoint::{Endpoint, SealSetup};
pub use keys::{KeyCache, KeyPolicy, KeyRing, WrapKey};
pub use seal_layer::{Outcome, SealContext};
pub mod password;
pub mod tokens;
pub mod totp;
