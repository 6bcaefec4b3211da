//! `MemRateLimiter` counts in fixed windows aligned to the period.

use sealpost_ports::RateLimiter;
use sealpost_testkit::{ManualClock, MemRateLimiter, block_on};

#[test]
fn requests_over_the_limit_are_refused_until_the_next_aligned_window() {
    let clock = ManualClock::new(1_795_435_250_000); // 50 s into a minute
    let rl = MemRateLimiter::new(2, 60, clock.clone());
    assert_eq!(block_on(rl.allow("ip:1")), Ok(true));
    assert_eq!(block_on(rl.allow("ip:1")), Ok(true));
    assert_eq!(block_on(rl.allow("ip:1")), Ok(false));
    assert_eq!(block_on(rl.allow("ip:2")), Ok(true), "keys are independent");
    clock.advance_ms(9_999); // still the same window
    assert_eq!(block_on(rl.allow("ip:1")), Ok(false));
    clock.advance_ms(1); // window boundary (aligned, not 60 s after the first request)
    assert_eq!(block_on(rl.allow("ip:1")), Ok(true));
}

#[test]
#[should_panic(expected = "10 or 60")]
fn periods_cloudflare_does_not_offer_are_refused() {
    let _ = MemRateLimiter::new(1, 30, ManualClock::default());
}
