//! Fuzz target: the unsubscribe and confirmation tokens of campaigns
//! (`CampaignKeys::check_unsubscribe`, `check_confirm`) with a fixed key.
//! Input: one mode byte; even → the rest is a token as received; odd → a
//! subscriber id, nonce and expiry are taken from it, minted, then the rest
//! is XORed into the minted token. Oracle: no panic; a token verifies only
//! if the keys would mint exactly that token (after trimming) for the id,
//! nonce and expiry it names; a minted, unaltered token verifies, and a
//! confirmation token exactly until its expiry.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sealpost_campaigns_core::keys::CampaignKeys;

static KEYS: LazyLock<CampaignKeys> = LazyLock::new(|| CampaignKeys::from_bytes(&[0x5a; 32]));
const NOW_MS: i64 = 1_795_000_000_000;

fn check_any(keys: &CampaignKeys, token: &str) {
    if let Some(id) = keys.check_unsubscribe(token) {
        assert_eq!(
            keys.unsubscribe_token(&id),
            token.trim(),
            "a token the keys did not mint"
        );
    }
    if let Some(claim) = keys.check_confirm(token, NOW_MS) {
        let parts: Vec<&str> = token.trim().split('.').collect();
        assert_eq!(parts.len(), 4, "{token:?}");
        assert_eq!(
            (parts[0], parts[1]),
            (claim.subscriber_id.as_str(), claim.nonce.as_str())
        );
        let secs: i64 = parts[2].parse().unwrap();
        assert!(secs * 1000 > NOW_MS, "expired token accepted");
        assert_eq!(
            keys.confirm_token(&claim.subscriber_id, &claim.nonce, secs * 1000),
            token.trim(),
            "a token the keys did not mint"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fuzz_target!(|data: &[u8]| {
    let keys = &*KEYS;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        check_any(keys, &String::from_utf8_lossy(rest));
        return;
    }
    if rest.len() < 10 {
        return;
    }
    let (head, flips) = rest.split_at(10);
    let id = hex(&head[..1 + usize::from(head[0] % 4)]);
    let nonce = hex(&head[5..7]);
    let offset = i64::from(i16::from_be_bytes([head[7], head[8]])) * 997_003;
    let expires_ms = NOW_MS + offset;

    let unsub = keys.unsubscribe_token(&id);
    assert_eq!(keys.check_unsubscribe(&unsub).as_deref(), Some(id.as_str()));
    let confirm = keys.confirm_token(&id, &nonce, expires_ms);
    let live = expires_ms.div_euclid(1000) * 1000 > NOW_MS;
    assert_eq!(
        keys.check_confirm(&confirm, NOW_MS).is_some(),
        live,
        "{confirm} at {NOW_MS}"
    );

    for genuine in [unsub, confirm] {
        let mut bytes = genuine.into_bytes();
        for (b, f) in bytes.iter_mut().zip(flips) {
            *b ^= f;
        }
        if head[9] % 2 == 1 {
            bytes.extend_from_slice(flips.get(bytes.len()..).unwrap_or(&[]));
        }
        check_any(keys, &String::from_utf8_lossy(&bytes));
    }
});
