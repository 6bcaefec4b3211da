//! `MemKv` fails where Workers KV would.

use sealpost_ports::{Kv, PortError};
use sealpost_testkit::{ManualClock, MemKv, block_on};

fn kv() -> (MemKv, ManualClock) {
    let clock = ManualClock::new(ManualClock::DEFAULT_START_MS);
    (MemKv::new(clock.clone()), clock)
}

#[test]
fn a_ttl_below_60_seconds_is_refused_and_nothing_is_stored() {
    let (kv, _) = kv();
    assert_eq!(
        block_on(kv.put("k", "v", Some(59))),
        Err(PortError::KvTtlTooShort { ttl_secs: 59 })
    );
    assert_eq!(block_on(kv.get("k")), Ok(None));
    assert_eq!(block_on(kv.put("k", "v", Some(60))), Ok(()));
}

#[test]
fn a_second_write_to_a_key_within_a_second_is_refused_and_after_a_second_allowed() {
    let (kv, clock) = kv();
    block_on(kv.put("k", "v1", None)).unwrap();
    clock.advance_ms(999);
    assert_eq!(
        block_on(kv.put("k", "v2", None)),
        Err(PortError::KvWriteRateExceeded { key: "k".into() })
    );
    assert_eq!(
        block_on(kv.delete("k")),
        Err(PortError::KvWriteRateExceeded { key: "k".into() })
    );
    assert_eq!(
        block_on(kv.get("k")),
        Ok(Some("v1".into())),
        "refused writes change nothing"
    );
    // Other keys are independent.
    block_on(kv.put("other", "x", None)).unwrap();
    clock.advance_ms(1);
    block_on(kv.put("k", "v2", None)).unwrap();
    assert_eq!(block_on(kv.get("k")), Ok(Some("v2".into())));
}

#[test]
fn the_write_rate_limit_is_global_across_locations() {
    let (kv, clock) = kv();
    let far = kv.location("syd");
    block_on(kv.put("k", "v1", None)).unwrap();
    clock.advance_ms(500);
    assert!(matches!(
        block_on(far.delete("k")),
        Err(PortError::KvWriteRateExceeded { .. })
    ));
}

#[test]
fn a_write_is_visible_at_once_to_the_writer_and_to_other_locations_only_after_the_delay() {
    let clock = ManualClock::new(0);
    let ams = MemKv::new(clock.clone()).with_visibility_delay_ms(60_000);
    let syd = ams.location("syd");
    block_on(ams.put("k", "v1", None)).unwrap();
    assert_eq!(block_on(ams.get("k")), Ok(Some("v1".into())));
    assert_eq!(block_on(syd.get("k")), Ok(None));
    clock.advance_ms(59_999);
    assert_eq!(block_on(syd.get("k")), Ok(None));
    clock.advance_ms(1);
    assert_eq!(block_on(syd.get("k")), Ok(Some("v1".into())));

    // An overwrite: other locations keep reading the old value meanwhile.
    block_on(ams.put("k", "v2", None)).unwrap();
    assert_eq!(block_on(ams.get("k")), Ok(Some("v2".into())));
    assert_eq!(block_on(syd.get("k")), Ok(Some("v1".into())));
    // And so does a delete.
    clock.advance_ms(60_000);
    block_on(syd.delete("k")).unwrap();
    assert_eq!(block_on(syd.get("k")), Ok(None));
    assert_eq!(block_on(ams.get("k")), Ok(Some("v2".into())));
    clock.advance_ms(60_000);
    assert_eq!(block_on(ams.get("k")), Ok(None));
}

#[test]
fn the_default_is_strongly_consistent_like_local_wrangler() {
    let (kv, _) = kv();
    let other = kv.location("other");
    block_on(kv.put("k", "v", None)).unwrap();
    assert_eq!(block_on(other.get("k")), Ok(Some("v".into())));
}

#[test]
fn entries_expire_by_the_injected_clock() {
    let (kv, clock) = kv();
    block_on(kv.put("k", "v", Some(60))).unwrap();
    clock.advance_ms(59_999);
    assert_eq!(block_on(kv.get("k")), Ok(Some("v".into())));
    clock.advance_ms(1);
    assert_eq!(block_on(kv.get("k")), Ok(None));
    // A put without TTL never expires.
    block_on(kv.put("k", "forever", None)).unwrap();
    clock.advance_ms(10 * 365 * 86_400_000);
    assert_eq!(block_on(kv.get("k")), Ok(Some("forever".into())));
}

#[test]
fn deleted_keys_read_as_none() {
    let (kv, clock) = kv();
    block_on(kv.put("k", "v", None)).unwrap();
    clock.advance_ms(1000);
    block_on(kv.delete("k")).unwrap();
    assert_eq!(block_on(kv.get("k")), Ok(None));
    assert_eq!(block_on(kv.get("never-written")), Ok(None));
}
