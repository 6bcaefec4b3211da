//! [`ManualClock`]: the injected clock for tests; time moves only when the
//! test moves it. Clones share the same instant.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sealpost_ports::Clock;

/// A shared, manually advanced clock (Unix milliseconds).
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// 2026-11-23T12:00:00Z, a convenient fixed start for tests.
    pub const DEFAULT_START_MS: i64 = 1_795_435_200_000;

    pub fn new(start_ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start_ms)))
    }

    /// Moves time forward (or backward, for a negative `ms`).
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set_ms(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_same_instant() {
        let a = ManualClock::new(1_000);
        let b = a.clone();
        a.advance_ms(1_500);
        assert_eq!(b.now_ms(), 2_500);
        assert_eq!(b.now_secs(), 2);
        b.set_ms(-1);
        assert_eq!(a.now_ms(), -1);
        assert_eq!(a.now_secs(), -1);
    }
}
