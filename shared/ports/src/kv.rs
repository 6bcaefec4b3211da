//! The KV port (Workers KV in production).
//!
//! KV is eventually consistent: a write may take up to ~60 s to be visible in
//! other locations. Trust it only for data that tolerates that (caches,
//! derived or republishable data, slow-changing config, idempotent markers),
//! never for counters, locks, nonces or lockouts — see ADR 0004.
//! Production limits every adapter enforces: `expirationTtl` ≥
//! [`KV_MIN_TTL_SECS`] ([`check_ttl`]) and at most one write per key per
//! second ([`PortError::KvWriteRateExceeded`]).

use crate::error::PortError;

/// KV refuses an `expirationTtl` below 60 seconds.
pub const KV_MIN_TTL_SECS: u64 = 60;

/// Refuses a TTL KV would refuse. Adapters call this before every `put`.
pub fn check_ttl(ttl: Option<u64>) -> Result<(), PortError> {
    match ttl {
        Some(ttl_secs) if ttl_secs < KV_MIN_TTL_SECS => Err(PortError::KvTtlTooShort { ttl_secs }),
        _ => Ok(()),
    }
}

/// Key-value store port.
#[allow(async_fn_in_trait)]
pub trait Kv {
    /// The value, or `None` when absent, deleted or expired (as seen from this
    /// location: possibly stale for up to ~60 s).
    async fn get(&self, key: &str) -> Result<Option<String>, PortError>;

    /// Stores `value`, expiring after `ttl_secs` (≥ 60) when given.
    async fn put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> Result<(), PortError>;

    /// Deletes the key (a write: it counts against the per-key rate).
    async fn delete(&self, key: &str) -> Result<(), PortError>;
}

impl<T: Kv + ?Sized> Kv for &T {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        (**self).get(key).await
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> Result<(), PortError> {
        (**self).put(key, value, ttl_secs).await
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        (**self).delete(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_below_60_seconds_is_refused_and_60_or_none_is_accepted() {
        assert_eq!(
            check_ttl(Some(59)),
            Err(PortError::KvTtlTooShort { ttl_secs: 59 })
        );
        assert_eq!(
            check_ttl(Some(0)),
            Err(PortError::KvTtlTooShort { ttl_secs: 0 })
        );
        assert_eq!(check_ttl(Some(60)), Ok(()));
        assert_eq!(check_ttl(None), Ok(()));
    }
}
