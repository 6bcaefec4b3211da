//! The gateway's edge logic, free of the Workers platform so it is tested
//! natively: configuration, CORS, security headers, request body policy,
//! client IP, site resolution, rate limiting, which headers cross to the domain
//! workers, and aggregation of their health.
#![forbid(unsafe_code)]

pub mod body;
pub mod config;
pub mod cors;
pub mod forward;
pub mod headers;
pub mod health;
pub mod ip;
pub mod limit;
pub mod route;
pub mod site;

pub use config::EdgeConfig;
