//! The clock (`Date.now()`), randomness (`crypto.getRandomValues`) and the
//! Workers rate-limiting binding, as ports.
use sealpost_ports::{Clock, PortError, RateLimiter, Rng};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buf: &mut [u8]) -> Result<(), JsValue>;
}

/// Wall-clock time from the runtime. On Workers it advances only across I/O.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }
}

/// Cryptographically secure randomness from WebCrypto.
#[derive(Debug, Clone, Copy, Default)]
pub struct CryptoRng;

impl Rng for CryptoRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
        // getRandomValues accepts at most 65,536 bytes per call.
        for chunk in buf.chunks_mut(65_536) {
            get_random_values(chunk)
                .map_err(|_| PortError::Rng("getRandomValues failed".into()))?;
        }
        Ok(())
    }
}

/// The Workers rate-limiting binding (`[[ratelimits]]`): per Cloudflare
/// location, coarse, eventually consistent — fine for abuse control, never for
/// security counters.
#[derive(Debug)]
pub struct WorkersRateLimiter(pub worker::RateLimiter);

impl RateLimiter for WorkersRateLimiter {
    async fn allow(&self, key: &str) -> Result<bool, PortError> {
        self.0
            .limit(key.to_owned())
            .await
            .map(|outcome| outcome.success)
            .map_err(|e| PortError::Unavailable(format!("rate limiter: {e}")))
    }
}
