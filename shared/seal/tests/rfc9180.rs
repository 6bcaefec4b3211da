//! RFC 9180 test vectors (mode_base, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256,
//! AES-128-GCM = appendix A.3.1 and AES-256-GCM), from the CFRG's published
//! test-vectors.json: key derivation, Encap/Decap, the key schedule, the first
//! encryption (sequence number 0) and every export.

mod common;

use common::{h, s, to_hex, vectors};
use sealpost_seal::hpke::{self, Aead, Aes128Gcm, Aes256Gcm, Context};
use sealpost_seal::{PublicKey, SecretKey};

fn check<A: Aead>(v: &serde_json::Value) {
    assert_eq!(v["mode"], 0);
    assert_eq!(v["kem_id"], 16);
    assert_eq!(v["kdf_id"], 1);
    assert_eq!(v["aead_id"], u64::from(A::ID));
    let info = h(v, "info");

    // DeriveKeyPair(ikm) gives the vector's keys.
    let sk_r = hpke::derive_key_pair(&h(v, "ikmR")).unwrap();
    let sk_e = hpke::derive_key_pair(&h(v, "ikmE")).unwrap();
    assert_eq!(to_hex(sk_r.to_bytes().as_ref()), s(v, "skRm"));
    assert_eq!(to_hex(sk_e.to_bytes().as_ref()), s(v, "skEm"));
    assert_eq!(to_hex(&sk_r.public_key().to_sec1()), s(v, "pkRm"));
    assert_eq!(to_hex(&sk_e.public_key().to_sec1()), s(v, "pkEm"));
    let sk_r = SecretKey::from_bytes(&h(v, "skRm")).unwrap();
    let pk_r = PublicKey::from_sec1(&h(v, "pkRm")).unwrap();

    // Encap with the vector's ephemeral key; Decap with the recipient's.
    let (shared, enc) = hpke::encap(&pk_r, &sk_e).unwrap();
    assert_eq!(to_hex(&enc), s(v, "enc"));
    assert_eq!(to_hex(shared.as_ref()), s(v, "shared_secret"));
    let shared_r = hpke::decap(&enc, &sk_r).unwrap();
    assert_eq!(to_hex(shared_r.as_ref()), s(v, "shared_secret"));

    // The key schedule.
    let shared: [u8; 32] = h(v, "shared_secret").try_into().unwrap();
    assert_eq!(
        to_hex(&hpke::key_schedule_context::<A>(&info)),
        s(v, "key_schedule_context")
    );
    assert_eq!(
        to_hex(hpke::schedule_secret::<A>(&shared).as_ref()),
        s(v, "secret")
    );
    let (enc_s, mut ctx_s) = hpke::setup_base_s::<A>(&pk_r, &info, &sk_e).unwrap();
    let mut ctx_r: Context<A> = hpke::setup_base_r(&h(v, "enc"), &sk_r, &info).unwrap();
    assert_eq!(to_hex(&enc_s), s(v, "enc"));
    for ctx in [&ctx_s, &ctx_r] {
        assert_eq!(to_hex(ctx.key()), s(v, "key"));
        assert_eq!(to_hex(ctx.base_nonce()), s(v, "base_nonce"));
        assert_eq!(to_hex(ctx.exporter_secret()), s(v, "exporter_secret"));
    }

    // The first encryption (sequence number 0), both ways.
    let e = &v["encryptions"][0];
    assert_eq!(
        s(e, "nonce"),
        s(v, "base_nonce"),
        "first encryption uses the base nonce"
    );
    let ct = ctx_s.seal(&h(e, "aad"), &h(e, "pt")).unwrap();
    assert_eq!(to_hex(&ct), s(e, "ct"));
    let pt = ctx_r.open(&h(e, "aad"), &h(e, "ct")).unwrap();
    assert_eq!(to_hex(&pt), s(e, "pt"));
    // Single-shot: no second Seal/Open with the same nonce.
    assert!(ctx_s.seal(&h(e, "aad"), &h(e, "pt")).is_err());
    assert!(ctx_r.open(&h(e, "aad"), &h(e, "ct")).is_err());

    // Exports, from either side.
    let exports = v["exports"].as_array().unwrap();
    assert!(!exports.is_empty());
    for x in exports {
        let mut out = vec![0u8; usize::try_from(x["L"].as_u64().unwrap()).unwrap()];
        ctx_s.export(&h(x, "exporter_context"), &mut out).unwrap();
        assert_eq!(to_hex(&out), s(x, "exported_value"));
        ctx_r.export(&h(x, "exporter_context"), &mut out).unwrap();
        assert_eq!(to_hex(&out), s(x, "exported_value"));
    }
}

fn vector(aead_id: u64) -> serde_json::Value {
    let doc = vectors("rfc9180-base-p256-sha256.json");
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["aead_id"] == aead_id)
        .expect("vector")
        .clone()
}

#[test]
fn rfc9180_a31_p256_sha256_aes128gcm() {
    check::<Aes128Gcm>(&vector(1));
}

#[test]
fn rfc9180_p256_sha256_aes256gcm() {
    check::<Aes256Gcm>(&vector(2));
}

#[test]
fn suite_ids() {
    assert_eq!(&hpke::KEM_SUITE_ID, b"KEM\x00\x10");
    assert_eq!(&Aes256Gcm::suite_id(), b"HPKE\x00\x10\x00\x01\x00\x02");
    assert_eq!(&Aes128Gcm::suite_id(), b"HPKE\x00\x10\x00\x01\x00\x01");
}
