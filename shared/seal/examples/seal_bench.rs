//! Native timing of one sealed exchange, step by step (not a test; figures for
//! docs/perf.md): `cargo run --release -p sealpost-seal --example seal_bench [N]`.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use rand_core::{OsRng, RngCore};
use sealpost_seal::{
    KeyConfig, SecretKey, b64, open_request, outer_body, parse_envelope, seal_request, validate_enc,
};

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let sk = SecretKey::generate(&mut OsRng);
    let config = KeyConfig {
        kid: 1,
        kem: 0x10,
        kdf: 1,
        aead: 2,
        public_key: b64(&sk.public_key().to_sec1()),
        expires_at: "2030-01-01T00:00:00Z".into(),
    };
    let login = br#"{"email":"ada@example.com","password":"correct horse battery staple"}"#;
    let inner = br#"{"success":true,"message":"Logged in","data":{"user":{"id":"usr_01","email":"ada@example.com"},"tokens":{"accessToken":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfMDEifQ.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl","refreshToken":"rt_0123456789abcdef0123456789abcdef","expiresIn":900}}}"#;

    let (mut t_seal, mut t_open, mut t_resp, mut t_client_open) = (0u128, 0u128, 0u128, 0u128);
    for _ in 0..n {
        let t = Instant::now();
        let req = seal_request(
            &config,
            "POST",
            "/auth/login",
            login,
            1_795_000_000,
            &mut OsRng,
        )
        .unwrap();
        let body = req.envelope.to_json();
        t_seal += t.elapsed().as_nanos();

        let t = Instant::now();
        let env = parse_envelope(body.as_bytes()).unwrap();
        validate_enc(&env.enc).unwrap();
        let (pt, sealer) = open_request(&sk, &env, "POST", "/auth/login").unwrap();
        t_open += t.elapsed().as_nanos();
        assert_eq!(pt.as_slice(), login);

        let t = Instant::now();
        let mut rn = [0u8; 32];
        OsRng.fill_bytes(&mut rn);
        let sealed = sealer.seal(200, inner, rn);
        let out = outer_body(inner, &sealed);
        t_resp += t.elapsed().as_nanos();

        let t = Instant::now();
        let got = req.opener.open(200, &out).unwrap();
        t_client_open += t.elapsed().as_nanos();
        assert_eq!(got, inner);
    }
    let us = |ns: u128| ns as f64 / f64::from(n) / 1000.0;
    println!("edge-seal native timing, {n} exchanges, per exchange:");
    println!(
        "  client seal_request + to_json          {:8.1} µs",
        us(t_seal)
    );
    println!(
        "  server parse + validate_enc + open     {:8.1} µs",
        us(t_open)
    );
    println!(
        "  server seal response + outer_body      {:8.1} µs",
        us(t_resp)
    );
    println!(
        "  server open + seal response (sum)      {:8.1} µs",
        us(t_open + t_resp)
    );
    println!(
        "  client open response                   {:8.1} µs",
        us(t_client_open)
    );
}
