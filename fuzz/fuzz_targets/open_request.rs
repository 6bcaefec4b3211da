//! Fuzz target: the server's open with a fixed key. The first byte picks the
//! mode: even → the input is a whole request body; odd → the rest is XORed into
//! a valid envelope's enc/nonce/ts/ct/kid. Oracle: no panic, and an envelope
//! opens only if it is the genuine one, unchanged.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sealpost_seal::{ClientRequest, SecretKey, open_request, parse_envelope, seal_request_with};

const PLAIN: &[u8] = br#"{"email":"ada@example.com","password":"correct horse battery staple"}"#;

static KEYS: LazyLock<(SecretKey, ClientRequest)> = LazyLock::new(|| {
    let sk = SecretKey::from_bytes(&[0x11; 32]).unwrap();
    let eph = SecretKey::from_bytes(&[0x22; 32]).unwrap();
    let req = seal_request_with(
        &sk.public_key(),
        7,
        "POST",
        "/auth/login",
        PLAIN,
        1_795_000_000,
        [0x33; 16],
        &eph,
    )
    .unwrap();
    (sk, req)
});

fuzz_target!(|data: &[u8]| {
    let (sk, req) = &*KEYS;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(env) = parse_envelope(rest)
            && let Ok((pt, _)) = open_request(sk, &env, "POST", "/auth/login")
        {
            assert_eq!(pt.as_slice(), PLAIN, "only the genuine envelope opens");
        }
        return;
    }
    let mut env = parse_envelope(req.envelope.to_json().as_bytes()).unwrap();
    let mut changed = false;
    let mut xor = |dst: &mut [u8], src: &[u8]| {
        for (d, s) in dst.iter_mut().zip(src) {
            changed |= *s != 0;
            *d ^= s;
        }
    };
    let (a, rest) = rest.split_at(rest.len().min(65));
    xor(&mut env.enc, a);
    let (b, rest) = rest.split_at(rest.len().min(16));
    xor(&mut env.nonce, b);
    env.nonce_b64 = sealpost_seal::b64(&env.nonce);
    let (c, rest) = rest.split_at(rest.len().min(8));
    let mut ts = env.ts.to_be_bytes();
    xor(&mut ts, c);
    env.ts = i64::from_be_bytes(ts);
    let (d, rest) = rest.split_at(rest.len().min(1));
    let mut kid = [7u8];
    xor(&mut kid, d);
    env.kid = u64::from(kid[0]);
    xor(&mut env.ct, rest);
    match open_request(sk, &env, "POST", "/auth/login") {
        Ok((pt, _)) => {
            assert!(!changed, "a changed envelope opened");
            assert_eq!(pt.as_slice(), PLAIN);
        }
        Err(_) => assert!(changed, "the genuine envelope failed to open"),
    }
});
