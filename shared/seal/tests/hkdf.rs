//! RFC 5869 appendix A, test cases 1–3 (HKDF-SHA256), through the crate's
//! `hkdf_extract`/`hkdf_expand` (the primitives of every labeled HPKE step and
//! of the response key derivation).

mod common;

use common::{h, s, to_hex, vectors};
use sealpost_seal::hpke::{hkdf_expand, hkdf_extract};

#[test]
fn rfc5869_cases_1_to_3() {
    let doc = vectors("rfc5869-hkdf-sha256.json");
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for c in cases {
        let ikm = h(c, "ikm");
        // Extract with the ikm given whole and in two parts: same PRK.
        let prk = hkdf_extract(&h(c, "salt"), &[&ikm]);
        assert_eq!(to_hex(prk.as_ref()), s(c, "prk"), "case {}", c["case"]);
        let (a, b) = ikm.split_at(ikm.len() / 2);
        assert_eq!(hkdf_extract(&h(c, "salt"), &[a, b]), prk);
        let mut okm = vec![0u8; usize::try_from(c["length"].as_u64().unwrap()).unwrap()];
        hkdf_expand(&prk, &[&h(c, "info")], &mut okm).unwrap();
        assert_eq!(to_hex(&okm), s(c, "okm"), "case {}", c["case"]);
    }
}

#[test]
fn expand_refuses_more_than_255_blocks() {
    let prk = hkdf_extract(b"salt", &[b"ikm"]);
    let mut okm = vec![0u8; 255 * 32 + 1];
    assert!(hkdf_expand(&prk, &[b""], &mut okm).is_err());
}
