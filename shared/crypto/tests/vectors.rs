//! Encryption at rest and subkey derivation against published vectors (the
//! GCM specification's AES-256 test case 16, RFC 5869 test case 1) and the
//! refusals: another key, other associated data, any altered byte, a
//! truncated or malformed value, a failing random source.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpost_crypto::at_rest::{NONCE_LEN, TAG_LEN};
use sealpost_crypto::{
    AtRestError, AtRestKey, decode_secret, derive_keys, open, open_text, seal, seal_to_text,
};
use sealpost_ports::{PortError, Rng};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The GCM specification (McGrew & Viega), test case 16: AES-256, 96-bit IV,
/// 20 bytes of associated data, 60 bytes of plaintext.
struct GcmVector {
    key: &'static str,
    nonce: &'static str,
    aad: &'static str,
    plaintext: &'static str,
    ciphertext: &'static str,
    tag: &'static str,
}

const TEST_CASE_16: GcmVector = GcmVector {
    key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    nonce: "cafebabefacedbaddecaf888",
    aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                 8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    tag: "76fc6ece0f4e1768cddf8853bb2d551b",
};

/// A random source that gives these bytes (the nonce of a vector).
struct Fixed(Vec<u8>);

impl Rng for Fixed {
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
        buf.copy_from_slice(&self.0[..buf.len()]);
        Ok(())
    }
}

struct Broken;

impl Rng for Broken {
    fn fill(&self, _: &mut [u8]) -> Result<(), PortError> {
        Err(PortError::Rng("no entropy".into()))
    }
}

fn key_of(v: &GcmVector) -> AtRestKey {
    let bytes: [u8; 32] = unhex(v.key).try_into().expect("32-byte key");
    AtRestKey::new(bytes)
}

/// `nonce ‖ ciphertext ‖ tag` of a vector.
fn sealed_of(v: &GcmVector) -> Vec<u8> {
    [unhex(v.nonce), unhex(v.ciphertext), unhex(v.tag)].concat()
}

fn seal_vector(v: &GcmVector) -> Vec<u8> {
    seal(
        &key_of(v),
        &unhex(v.aad),
        &unhex(v.plaintext),
        &Fixed(unhex(v.nonce)),
    )
    .expect("seal")
}

#[test]
fn sealing_gives_the_nonce_then_the_published_ciphertext_and_tag() {
    assert_eq!(seal_vector(&TEST_CASE_16), sealed_of(&TEST_CASE_16));
}

#[test]
fn the_published_vector_opens_to_its_plaintext() {
    let v = &TEST_CASE_16;
    let opened = open(&key_of(v), &unhex(v.aad), &sealed_of(v)).expect("opens");
    assert_eq!(opened.as_slice(), unhex(v.plaintext).as_slice());
}

#[test]
fn other_associated_data_is_refused() {
    let v = &TEST_CASE_16;
    let mut aad = unhex(v.aad);
    aad[0] ^= 1;
    assert_eq!(
        open(&key_of(v), &aad, &sealed_of(v)),
        Err(AtRestError::Authentication)
    );
    assert_eq!(
        open(&key_of(v), b"", &sealed_of(v)),
        Err(AtRestError::Authentication)
    );
}

#[test]
fn another_key_is_refused() {
    let v = &TEST_CASE_16;
    assert_eq!(
        open(&AtRestKey::new([0; 32]), &unhex(v.aad), &sealed_of(v)),
        Err(AtRestError::Authentication)
    );
}

#[test]
fn a_change_to_any_byte_of_nonce_ciphertext_or_tag_is_refused() {
    let v = &TEST_CASE_16;
    let sealed = sealed_of(v);
    for i in 0..sealed.len() {
        let mut tampered = sealed.clone();
        tampered[i] ^= 0x80;
        assert_eq!(
            open(&key_of(v), &unhex(v.aad), &tampered),
            Err(AtRestError::Authentication),
            "byte {i}"
        );
    }
}

#[test]
fn a_truncated_value_is_refused() {
    let v = &TEST_CASE_16;
    let sealed = sealed_of(v);
    for len in 0..sealed.len() {
        let expected = if len < NONCE_LEN + TAG_LEN {
            AtRestError::TooShort
        } else {
            AtRestError::Authentication
        };
        assert_eq!(
            open(&key_of(v), &unhex(v.aad), &sealed[..len]),
            Err(expected),
            "length {len}"
        );
    }
}

#[test]
fn an_empty_plaintext_seals_to_a_nonce_and_a_tag_and_opens() {
    let key = AtRestKey::new([7; 32]);
    let sealed = seal(&key, b"aad", b"", &Fixed(vec![1; NONCE_LEN])).expect("seal");
    assert_eq!(sealed.len(), NONCE_LEN + TAG_LEN);
    assert!(open(&key, b"aad", &sealed).expect("opens").is_empty());
}

#[test]
fn the_text_form_is_base64url_without_padding_of_the_bytes() {
    let v = &TEST_CASE_16;
    let text = seal_to_text(
        &key_of(v),
        &unhex(v.aad),
        &unhex(v.plaintext),
        &Fixed(unhex(v.nonce)),
    )
    .expect("seal");
    assert_eq!(text, URL_SAFE_NO_PAD.encode(sealed_of(v)));
    let opened = open_text(&key_of(v), &unhex(v.aad), &text).expect("opens");
    assert_eq!(opened.as_slice(), unhex(v.plaintext).as_slice());
}

#[test]
fn text_that_is_not_base64url_is_malformed() {
    let v = &TEST_CASE_16;
    let padded = format!("{}=", URL_SAFE_NO_PAD.encode(sealed_of(v)));
    for bad in ["!!!", "a+b/", padded.as_str()] {
        assert_eq!(
            open_text(&key_of(v), &unhex(v.aad), bad),
            Err(AtRestError::Malformed),
            "{bad}"
        );
    }
    assert_eq!(
        open_text(&key_of(v), &unhex(v.aad), ""),
        Err(AtRestError::TooShort)
    );
}

#[test]
fn every_seal_takes_a_fresh_nonce_from_the_random_source() {
    let key = AtRestKey::new([7; 32]);
    let rng = sealpost_testkit::SeededRng::new(1);
    let a = seal(&key, b"aad", b"same", &rng).expect("seal");
    let b = seal(&key, b"aad", b"same", &rng).expect("seal");
    assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
    assert_ne!(a, b);
}

#[test]
fn a_failing_random_source_fails_sealing_with_its_own_error() {
    assert_eq!(
        seal(&AtRestKey::new([7; 32]), b"aad", b"x", &Broken),
        Err(AtRestError::Nonce(PortError::Rng("no entropy".into())))
    );
}

#[test]
fn a_key_is_never_printed() {
    assert_eq!(format!("{:?}", AtRestKey::new([7; 32])), "AtRestKey(..)");
}

#[test]
fn derivation_gives_the_first_32_bytes_of_rfc_5869_test_case_1() {
    let ikm = [0x0b; 22];
    let salt: Vec<u8> = (0x00..=0x0c).collect();
    let info: Vec<u8> = (0xf0..=0xf9).collect();
    let [okm] = derive_keys(&ikm, &salt, [&info]);
    assert_eq!(
        okm.as_slice(),
        unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf").as_slice()
    );
}

#[test]
fn each_label_and_each_salt_gives_its_own_key() {
    let [a, b] = derive_keys(&[9; 32], b"salt", [b"one", b"two"]);
    let [a_again] = derive_keys(&[9; 32], b"salt", [b"one"]);
    let [other_salt] = derive_keys(&[9; 32], b"other", [b"one"]);
    assert_ne!(*a, *b);
    assert_eq!(*a, *a_again);
    assert_ne!(*a, *other_salt);
}

#[test]
fn a_secret_is_base64url_of_exactly_32_bytes() {
    let enc = |n: usize| URL_SAFE_NO_PAD.encode(vec![1u8; n]);
    assert_eq!(decode_secret(&enc(32)).as_deref(), Some(&[1u8; 32]));
    assert!(decode_secret(&format!(" {}\n", enc(32))).is_some());
    for bad in [enc(31), enc(33), "*".into(), String::new()] {
        assert!(decode_secret(&bad).is_none(), "{bad}");
    }
    assert!(AtRestKey::from_base64url(&enc(32)).is_some());
    assert!(AtRestKey::from_base64url(&enc(31)).is_none());
}
