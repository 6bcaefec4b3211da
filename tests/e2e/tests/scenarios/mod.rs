//! The scenarios, one module per part of the stack, each listing its own
//! (`SCENARIOS`, and `SERIAL_SCENARIOS` for those that need the stack to
//! themselves) for the runner.
pub mod auth;
pub mod browser;
pub mod campaigns;
pub mod comments;
pub mod content;
pub mod gateway;
pub mod seal;
