//! The one error type every port returns.
//!
//! Messages never contain bound parameter values (they may be passwords,
//! tokens or e-mail addresses): adapters pass through only the database's own
//! message (which names tables and columns, not values) or a fixed text.

/// Error returned by every port.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum PortError {
    /// Any SQL failure that is not a constraint violation.
    #[error("sql error: {0}")]
    Sql(String),
    /// A UNIQUE, CHECK, NOT NULL or FOREIGN KEY constraint failed.
    #[error("constraint violation: {0}")]
    Constraint(String),
    /// The statement binds more parameters than D1 allows.
    #[error("statement binds {count} parameters, D1 allows at most {max}")]
    TooManyParams { count: usize, max: usize },
    /// An integer parameter outside JavaScript's safe range (D1 refuses it).
    #[error("integer parameter {0} is outside JavaScript's safe range")]
    UnsafeInteger(i64),
    /// A row (or value) could not be decoded into the requested type.
    #[error("decode error: {0}")]
    Decode(String),
    /// KV refuses `expirationTtl` below 60 seconds.
    #[error("kv expiration ttl of {ttl_secs} s is below the 60 s minimum")]
    KvTtlTooShort { ttl_secs: u64 },
    /// KV accepts at most one write per key per second (HTTP 429 in production).
    /// The key is kept for callers but left out of the message: keys may embed
    /// tokens (`session:<token>`).
    #[error("kv write rate exceeded (at most 1 write per key per second)")]
    KvWriteRateExceeded { key: String },
    /// Any other KV failure.
    #[error("kv error: {0}")]
    Kv(String),
    /// A statement run through `SiteDb` does not constrain by the site.
    #[error("statement is not scoped to the site: {0}")]
    Unscoped(String),
    /// The backing service is unavailable (binding missing, network, overload).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A setting the deployment needs is missing or invalid (e.g. a site
    /// without a base URL).
    #[error("not configured: {0}")]
    NotConfigured(String),
    /// The random source failed.
    #[error("random source failed: {0}")]
    Rng(String),
}
