//! Fuzz target: the client's response open with a fixed request. Input: two
//! bytes of HTTP status, then a response body. Oracle: no panic, and only the
//! genuine inner JSON under the genuine status ever comes out.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sealpost_seal::{
    ClientRequest, SecretKey, open_request, outer_body, parse_envelope, seal_request_with,
};

const INNER: &[u8] = br#"{"success":true,"message":"Logged in","data":{"tokens":{"accessToken":"a","refreshToken":"r"}}}"#;

static REQ: LazyLock<(ClientRequest, Vec<u8>)> = LazyLock::new(|| {
    let sk = SecretKey::from_bytes(&[0x11; 32]).unwrap();
    let eph = SecretKey::from_bytes(&[0x22; 32]).unwrap();
    let req = seal_request_with(
        &sk.public_key(),
        7,
        "POST",
        "/auth/login",
        b"{}",
        1_795_000_000,
        [0x33; 16],
        &eph,
    )
    .unwrap();
    let env = parse_envelope(req.envelope.to_json().as_bytes()).unwrap();
    let (_, sealer) = open_request(&sk, &env, "POST", "/auth/login").unwrap();
    let body = outer_body(INNER, &sealer.seal(200, INNER, [0x44; 32]));
    (req, body)
});

fuzz_target!(|data: &[u8]| {
    let (req, genuine) = &*REQ;
    if data.len() < 2 {
        // Keep the genuine body reachable for the fuzzer's corpus.
        assert_eq!(req.opener.open(200, genuine).unwrap(), INNER);
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]);
    if let Ok(inner) = req.opener.open(status, &data[2..]) {
        assert_eq!(status, 200, "opened under another status");
        assert_eq!(inner, INNER, "opened to something else");
    }
});
