//! The coarse per-client rate limit of the edge.
use sealpost_api::ApiError;
use sealpost_ports::RateLimiter;

use crate::config::RETRY_AFTER_SECS;

/// What the limiter said.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allowed,
    /// Over the budget: answer 429 with `Retry-After`.
    Limited(ApiError),
    /// The limiter failed; the request goes through (fail open: an abuse
    /// control must not take the site down) and the cause is logged.
    LimiterDown(String),
}

/// Asks the limiter about one request from `client`.
pub async fn check(limiter: &impl RateLimiter, client: &str) -> Verdict {
    match limiter.allow(&format!("edge:{client}")).await {
        Ok(true) => Verdict::Allowed,
        Ok(false) => Verdict::Limited(ApiError::rate_limited(RETRY_AFTER_SECS)),
        Err(e) => Verdict::LimiterDown(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_api::ErrorCode;
    use sealpost_testkit::{ManualClock, MemRateLimiter, block_on};

    #[test]
    fn the_request_after_the_budget_is_limited_with_retry_after_and_others_are_not() {
        let limiter = MemRateLimiter::new(3, 60, ManualClock::new(0));
        for _ in 0..3 {
            assert_eq!(block_on(check(&limiter, "203.0.113.1")), Verdict::Allowed);
        }
        match block_on(check(&limiter, "203.0.113.1")) {
            Verdict::Limited(e) => {
                assert_eq!(e.code, ErrorCode::RateLimited);
                assert_eq!(e.retry_after_secs, Some(RETRY_AFTER_SECS));
            }
            other => panic!("expected a 429, got {other:?}"),
        }
        assert_eq!(block_on(check(&limiter, "203.0.113.2")), Verdict::Allowed);
    }
}
