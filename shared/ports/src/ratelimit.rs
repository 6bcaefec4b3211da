//! The rate-limiting port (Cloudflare's rate-limiting binding in production:
//! fixed windows of 10 or 60 s, counted per location and eventually
//! consistent, so treat it as abuse damping, not as an exact quota).

use crate::error::PortError;

/// Rate limiter port.
#[allow(async_fn_in_trait)]
pub trait RateLimiter {
    /// Counts one request for `key`; `false` when the key is over its limit
    /// in the current window.
    async fn allow(&self, key: &str) -> Result<bool, PortError>;
}

impl<T: RateLimiter + ?Sized> RateLimiter for &T {
    async fn allow(&self, key: &str) -> Result<bool, PortError> {
        (**self).allow(key).await
    }
}
