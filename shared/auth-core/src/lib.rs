//! The auth worker's domain logic, free of the Workers platform (it talks to
//! ports): the edge-seal key lifecycle (`keys`), replay protection
//! (`replay`) and the sealing layer of sealed routes (`seal_layer`).
#![forbid(unsafe_code)]

pub mod keys;
pub mod replay;
pub mod seal_layer;

pub use keys::{KeyCache, KeyPolicy, KeyRing, WrapKey};
pub use seal_layer::{Outcome, SealContext};
pub mod password;
pub mod tokens;
pub mod totp;
