//! The campaigns' tunables, read from the worker's vars (wrangler.toml /
//! `.dev.vars`) with production defaults. Local development and the e2e
//! tests shorten the waits so retries, leases and the breaker can be seen
//! in seconds; nothing else differs.
/// Delivery tunables. `Default` is production.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long a claimed ledger row belongs to its consumer before the
    /// cron takes it back (`CAMPAIGN_LEASE_SECS`, 120).
    pub lease_ms: i64,
    /// Pending rows whose job was enqueued longer ago than this are enqueued
    /// again by the cron (`CAMPAIGN_REQUEUE_SECS`, 300).
    pub requeue_after_ms: i64,
    /// First retry delay of a failed job; doubles per attempt, capped at
    /// 15 minutes (`CAMPAIGN_RETRY_BASE_SECS`, 10).
    pub retry_base_secs: u32,
    /// Attempts per ledger row before it is marked failed (`CAMPAIGN_MAX_ATTEMPTS`, 8).
    pub max_attempts: u32,
    /// Consecutive provider failures that pause a campaign (`CAMPAIGN_BREAKER_THRESHOLD`, 3).
    pub breaker_threshold: u32,
    /// The first pause; doubles with every trip, capped at one hour
    /// (`CAMPAIGN_BREAKER_COOLDOWN_SECS`, 60).
    pub breaker_cooldown_ms: i64,
    /// Provider calls per second across all consumers (`SEND_RATE_PER_SEC`, 2:
    /// Resend's default) and the burst above it (`SEND_RATE_BURST`, 2).
    pub send_rate_per_sec: u32,
    pub send_rate_burst: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lease_ms: 120_000,
            requeue_after_ms: 300_000,
            retry_base_secs: 10,
            max_attempts: 8,
            breaker_threshold: 3,
            breaker_cooldown_ms: 60_000,
            send_rate_per_sec: 2,
            send_rate_burst: 2,
        }
    }
}

impl Settings {
    /// Reads the vars through `get`; a missing or unparsable value keeps the
    /// default (zero is refused where it would stall delivery).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Settings {
        let d = Settings::default();
        let num = |name: &str, default: u32| {
            get(name)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|v| *v > 0)
                .unwrap_or(default)
        };
        let secs_ms = |name: &str, default_ms: i64| {
            get(name)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|v| *v > 0)
                .map_or(default_ms, |v| i64::from(v) * 1000)
        };
        Settings {
            lease_ms: secs_ms("CAMPAIGN_LEASE_SECS", d.lease_ms),
            requeue_after_ms: secs_ms("CAMPAIGN_REQUEUE_SECS", d.requeue_after_ms),
            retry_base_secs: num("CAMPAIGN_RETRY_BASE_SECS", d.retry_base_secs),
            max_attempts: num("CAMPAIGN_MAX_ATTEMPTS", d.max_attempts),
            breaker_threshold: num("CAMPAIGN_BREAKER_THRESHOLD", d.breaker_threshold),
            breaker_cooldown_ms: secs_ms("CAMPAIGN_BREAKER_COOLDOWN_SECS", d.breaker_cooldown_ms),
            send_rate_per_sec: num("SEND_RATE_PER_SEC", d.send_rate_per_sec),
            send_rate_burst: num("SEND_RATE_BURST", d.send_rate_burst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_override_defaults_and_bad_values_keep_them() {
        let s = Settings::from_vars(|k| match k {
            "CAMPAIGN_LEASE_SECS" => Some("2".into()),
            "SEND_RATE_PER_SEC" => Some(" 50 ".into()),
            "CAMPAIGN_MAX_ATTEMPTS" => Some("0".into()),
            "CAMPAIGN_RETRY_BASE_SECS" => Some("soon".into()),
            _ => None,
        });
        assert_eq!(s.lease_ms, 2000);
        assert_eq!(s.send_rate_per_sec, 50);
        assert_eq!(s.max_attempts, 8);
        assert_eq!(s.retry_base_secs, 10);
        assert_eq!(Settings::from_vars(|_| None), Settings::default());
    }
}
