//! Fuzz target: the server's row-1 parser and the sealed/unsealed triage on
//! arbitrary bodies. Oracle: no panic, and whatever parses keeps the invariants
//! the later rows rely on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpost_seal::{MAX_ENVELOPE_BYTES, b64, looks_sealed, parse_envelope, unb64, validate_enc};

fuzz_target!(|data: &[u8]| {
    let sealed = looks_sealed(data);
    if let Ok(env) = parse_envelope(data) {
        assert!(data.len() <= MAX_ENVELOPE_BYTES);
        assert!(sealed, "an envelope must look sealed");
        assert_eq!(env.enc.len(), 65);
        assert!(env.ct.len() >= 16);
        assert_eq!(unb64(&env.nonce_b64).unwrap(), env.nonce);
        assert_eq!(b64(&env.nonce), env.nonce_b64, "one spelling per nonce");
        let _ = validate_enc(&env.enc);
    }
});
