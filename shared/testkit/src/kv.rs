//! [`MemKv`]: Workers KV as production behaves, on the injected clock.
//!
//! - `put` with a TTL below 60 s fails ([`PortError::KvTtlTooShort`]).
//! - A second write (put or delete) to the same key within 1000 ms of clock
//!   time fails ([`PortError::KvWriteRateExceeded`], a 429 in production);
//!   the limit is global across locations. Refused writes change nothing.
//! - Eventual consistency: every handle is one Cloudflare location
//!   ([`MemKv::location`]). A write is visible at once in the writer's
//!   location and elsewhere only after the visibility delay
//!   ([`MemKv::with_visibility_delay_ms`]; default 0 = strongly consistent,
//!   like local wrangler). Until then other locations keep reading the
//!   previous value.
//! - Entries expire by the injected clock and then read as `None`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use sealpost_ports::{Clock, Kv, PortError, check_ttl};

use crate::clock::ManualClock;

/// KV accepts at most one write per key per this many milliseconds.
const WRITE_INTERVAL_MS: i64 = 1000;

#[derive(Debug, Clone)]
struct Version {
    location: String,
    written_ms: i64,
    /// `None` for a delete.
    value: Option<String>,
    expires_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Store {
    visibility_delay_ms: i64,
    /// Per key, its writes oldest first.
    keys: HashMap<String, Vec<Version>>,
}

/// In-memory KV namespace; clones and [`MemKv::location`] handles share it.
#[derive(Clone)]
pub struct MemKv {
    store: Arc<Mutex<Store>>,
    clock: ManualClock,
    location: String,
}

impl fmt::Debug for MemKv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemKv")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl MemKv {
    /// A namespace seen from location `"local"`, strongly consistent until
    /// [`MemKv::with_visibility_delay_ms`] says otherwise.
    pub fn new(clock: ManualClock) -> Self {
        Self {
            store: Arc::new(Mutex::new(Store::default())),
            clock,
            location: "local".to_owned(),
        }
    }

    /// Sets how long a write takes to reach other locations (for the whole
    /// namespace; production: up to ~60 000 ms).
    #[must_use]
    pub fn with_visibility_delay_ms(self, ms: i64) -> Self {
        self.lock().visibility_delay_ms = ms.max(0);
        self
    }

    /// A handle on the same namespace from another Cloudflare location.
    pub fn location(&self, name: &str) -> MemKv {
        MemKv {
            store: Arc::clone(&self.store),
            clock: self.clock.clone(),
            location: name.to_owned(),
        }
    }

    /// This handle's location name.
    pub fn location_name(&self) -> &str {
        &self.location
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(
        &self,
        key: &str,
        value: Option<&str>,
        ttl_secs: Option<u64>,
    ) -> Result<(), PortError> {
        let now = self.clock.now_ms();
        let mut store = self.lock();
        let delay = store.visibility_delay_ms;
        let versions = store.keys.entry(key.to_owned()).or_default();
        if let Some(last) = versions.last()
            && now - last.written_ms < WRITE_INTERVAL_MS
        {
            return Err(PortError::KvWriteRateExceeded {
                key: key.to_owned(),
            });
        }
        let expires_ms = ttl_secs
            .map(|t| now.saturating_add(i64::try_from(t.saturating_mul(1000)).unwrap_or(i64::MAX)));
        versions.push(Version {
            location: self.location.clone(),
            written_ms: now,
            value: value.map(str::to_owned),
            expires_ms,
        });
        // Everything before the newest write visible everywhere is unreachable.
        if let Some(settled) = versions.iter().rposition(|v| now - v.written_ms >= delay) {
            versions.drain(..settled);
        }
        Ok(())
    }
}

impl Kv for MemKv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        let now = self.clock.now_ms();
        let store = self.lock();
        let delay = store.visibility_delay_ms;
        let visible = store.keys.get(key).and_then(|versions| {
            versions
                .iter()
                .rev()
                .find(|v| v.location == self.location || now - v.written_ms >= delay)
        });
        Ok(visible
            .filter(|v| v.expires_ms.is_none_or(|e| now < e))
            .and_then(|v| v.value.clone()))
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> Result<(), PortError> {
        check_ttl(ttl_secs)?;
        self.write(key, Some(value), ttl_secs)
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.write(key, None, None)
    }
}
