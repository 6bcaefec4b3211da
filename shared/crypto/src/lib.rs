//! Symmetric cryptography for data the services keep: encryption at rest
//! ([`at_rest`]: AES-256-GCM bound to associated data, a fresh nonce from the
//! `Rng` port each time) and the derivation of independent 32-byte subkeys
//! from one master secret ([`subkeys`]: HKDF-SHA-256). Key material is
//! zeroized on drop and never printed.
#![forbid(unsafe_code)]

pub mod at_rest;
pub mod subkeys;

pub use at_rest::{AtRestError, AtRestKey, open, open_text, seal, seal_to_text};
pub use subkeys::{decode_secret, derive_keys};
