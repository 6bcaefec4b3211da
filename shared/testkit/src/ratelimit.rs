//! [`MemRateLimiter`]: the rate-limiting binding as a fixed-window counter on
//! the injected clock. Windows are aligned to multiples of the period since
//! the epoch, like Cloudflare's binding; only periods of 10 or 60 s exist
//! there, so other periods are refused at construction. Unlike production
//! (per location, eventually consistent) the double counts exactly.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sealpost_ports::{Clock, PortError, RateLimiter};

use crate::clock::ManualClock;

/// In-memory fixed-window rate limiter.
#[derive(Debug)]
pub struct MemRateLimiter {
    limit: u32,
    period_secs: u32,
    clock: ManualClock,
    /// key → (window index, requests counted in it)
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl MemRateLimiter {
    /// `limit` requests per key per `period_secs` window.
    ///
    /// # Panics
    /// When `period_secs` is not 10 or 60 (Cloudflare refuses other periods).
    pub fn new(limit: u32, period_secs: u32, clock: ManualClock) -> Self {
        assert!(
            period_secs == 10 || period_secs == 60,
            "the rate-limiting binding only supports periods of 10 or 60 seconds, got {period_secs}"
        );
        Self {
            limit,
            period_secs,
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimiter for MemRateLimiter {
    async fn allow(&self, key: &str) -> Result<bool, PortError> {
        let window = self
            .clock
            .now_secs()
            .div_euclid(i64::from(self.period_secs));
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = windows.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= self.limit {
            return Ok(false);
        }
        entry.1 += 1;
        Ok(true)
    }
}
