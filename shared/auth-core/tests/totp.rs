//! TOTP: the RFC 4226 and RFC 6238 (Appendix B, SHA-1) vectors, the ±1 step
//! window, single use, input rules, RFC 4648 base32, the `otpauth://` URI,
//! sealing the secret at rest, and recovery codes.
use sealpost_auth_core::totp::{
    self, DataKey, RECOVERY_CODES, SECRET_LEN, STEP_SECS, base32_decode, base32_encode, code_at,
    generate_recovery_codes, generate_secret, hash_recovery_code, hotp, normalize_recovery_code,
    open_secret, otpauth_uri, seal_secret,
};
use sealpost_ports::{PortError, Rng};
use sealpost_testkit::{FailingRng, SeededRng};

/// The RFC 6238 Appendix B SHA-1 seed (the ASCII string, 20 bytes).
const RFC_SECRET: &[u8] = b"12345678901234567890";

/// RFC 6238 Appendix B, SHA-1 rows: (time, 8-digit TOTP).
const RFC6238_SHA1: &[(u64, u32)] = &[
    (59, 94_287_082),
    (1_111_111_109, 7_081_804),
    (1_111_111_111, 14_050_471),
    (1_234_567_890, 89_005_924),
    (2_000_000_000, 69_279_037),
    (20_000_000_000, 65_353_130),
];

#[test]
fn hotp_truncation_matches_rfc_6238_appendix_b_sha1_at_8_digits() {
    for &(t, expected) in RFC6238_SHA1 {
        assert_eq!(hotp(RFC_SECRET, t / 30, 8), expected, "T = {t}");
    }
}

#[test]
fn six_digit_codes_are_the_last_six_digits_of_the_rfc_6238_vectors() {
    for &(t, expected) in RFC6238_SHA1 {
        let six = format!("{:06}", expected % 1_000_000);
        assert_eq!(code_at(RFC_SECRET, t), six, "T = {t}");
        assert_eq!(totp::verify(RFC_SECRET, &six, t as i64, None), Some(t / 30));
    }
    assert_eq!(code_at(RFC_SECRET, 1_111_111_109), "081804", "zero-padded");
}

#[test]
fn hotp_matches_rfc_4226_appendix_d() {
    let expected = [
        755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871, 520_489,
    ];
    for (counter, want) in expected.into_iter().enumerate() {
        assert_eq!(
            hotp(RFC_SECRET, counter as u64, 6),
            want,
            "counter {counter}"
        );
    }
}

#[test]
fn a_code_from_the_previous_or_next_step_is_accepted_but_not_two_steps_away() {
    let now: i64 = 1_795_000_015; // 25 s into its step
    let step = now as u64 / STEP_SECS;
    let code_for = |s: u64| format!("{:06}", hotp(RFC_SECRET, s, 6));
    assert_eq!(
        totp::verify(RFC_SECRET, &code_for(step), now, None),
        Some(step)
    );
    assert_eq!(
        totp::verify(RFC_SECRET, &code_for(step - 1), now, None),
        Some(step - 1)
    );
    assert_eq!(
        totp::verify(RFC_SECRET, &code_for(step + 1), now, None),
        Some(step + 1)
    );
    for far in [step - 2, step + 2, step - 10] {
        let code = code_for(far);
        // (A far code could collide with a near one by chance; these don't.)
        assert_eq!(
            totp::verify(RFC_SECRET, &code, now, None),
            None,
            "step {far}"
        );
    }
}

#[test]
fn a_code_works_once_and_older_steps_are_refused_after_it() {
    let now: i64 = 1_795_000_000;
    let step = now as u64 / STEP_SECS;
    let code = code_at(RFC_SECRET, now as u64);
    let used = totp::verify(RFC_SECRET, &code, now, None).unwrap();
    assert_eq!(used, step);
    assert_eq!(
        totp::verify(RFC_SECRET, &code, now, Some(used)),
        None,
        "replay"
    );
    assert_eq!(totp::verify(RFC_SECRET, &code, now + 10, Some(used)), None);
    let previous = format!("{:06}", hotp(RFC_SECRET, step - 1, 6));
    assert_eq!(totp::verify(RFC_SECRET, &previous, now, Some(used)), None);
    let next = code_at(RFC_SECRET, now as u64 + STEP_SECS);
    assert_eq!(
        totp::verify(RFC_SECRET, &next, now + STEP_SECS as i64, Some(used)),
        Some(step + 1),
        "the next step's code is new"
    );
}

#[test]
fn anything_but_six_ascii_digits_is_refused() {
    let now: i64 = 1_795_000_000;
    let code = code_at(RFC_SECRET, now as u64);
    for bad in [
        String::new(),
        code[..5].to_owned(),
        format!("{code}0"),
        format!(" {code}"),
        format!("{code} "),
        format!("{} {}", &code[..3], &code[3..]),
        format!("+{}", &code[1..]),
        "abcdef".to_owned(),
        "１２３４５６".to_owned(),
    ] {
        assert_eq!(totp::verify(RFC_SECRET, &bad, now, None), None, "{bad:?}");
    }
    let rfc = hotp(RFC_SECRET, now as u64 / 30, 8);
    assert_eq!(
        totp::verify(RFC_SECRET, &format!("{rfc:08}"), now, None),
        None
    );
}

#[test]
fn times_before_the_epoch_match_nothing() {
    assert_eq!(totp::verify(RFC_SECRET, "123456", -1, None), None);
}

#[test]
fn the_first_steps_do_not_underflow() {
    let code = format!("{:06}", hotp(RFC_SECRET, 0, 6));
    assert_eq!(totp::verify(RFC_SECRET, &code, 0, None), Some(0));
    assert_eq!(totp::verify(RFC_SECRET, &code, 31, None), Some(0));
}

#[test]
fn base32_matches_the_rfc_4648_vectors_without_padding() {
    let vectors = [
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ];
    for (plain, encoded) in vectors {
        assert_eq!(base32_encode(plain.as_bytes()), encoded);
        assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
    }
}

#[test]
fn base32_decoding_accepts_padding_lower_case_and_spaces_but_nothing_else() {
    assert_eq!(base32_decode("MZXW6YQ=").unwrap(), b"foob");
    assert_eq!(base32_decode("MY======").unwrap(), b"f");
    assert_eq!(base32_decode("mzxw 6ytb oi").unwrap(), b"foobar");
    for bad in ["MZXW1", "MZXW0", "MZ!W", "M", "MZX", "MZXW6Y"] {
        assert_eq!(base32_decode(bad), None, "{bad}");
    }
}

#[test]
fn base32_round_trips_every_length_up_to_40_bytes() {
    let rng = SeededRng::new(11);
    for len in 0..=40 {
        let mut bytes = vec![0u8; len];
        rng.fill(&mut bytes).unwrap();
        let text = base32_encode(&bytes);
        assert!(!text.contains('='));
        assert_eq!(base32_decode(&text).unwrap(), bytes, "len {len}");
        assert_eq!(base32_decode(&text.to_lowercase()).unwrap(), bytes);
    }
}

#[test]
fn a_secret_is_160_random_bits_and_base32_encodes_to_32_characters() {
    let rng = SeededRng::new(12);
    let a = generate_secret(&rng).unwrap();
    let b = generate_secret(&rng).unwrap();
    assert_eq!(a.len(), SECRET_LEN);
    assert_ne!(a, b);
    assert_eq!(base32_encode(&a).len(), 32);
}

#[test]
fn the_otpauth_uri_names_issuer_and_account_and_the_parameters() {
    let uri = otpauth_uri("Sealpost", "alice@example.com", b"12345678901234567890");
    assert_eq!(
        uri,
        "otpauth://totp/Sealpost:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Sealpost&algorithm=SHA1&digits=6&period=30"
    );
    let spaced = otpauth_uri("Sealpost Staging & Co", "bé:b@x.y", b"k");
    assert!(
        spaced.starts_with(
            "otpauth://totp/Sealpost%20Staging%20%26%20Co:b%C3%A9%3Ab%40x.y?secret=NM&"
        ),
        "{spaced}"
    );
    assert!(spaced.contains("&issuer=Sealpost%20Staging%20%26%20Co&"));
}

fn key(seed: u8) -> DataKey {
    DataKey::new([seed; 32])
}

#[test]
fn a_sealed_secret_opens_only_with_its_key_and_for_its_user() {
    let rng = SeededRng::new(13);
    let secret = generate_secret(&rng).unwrap();
    let sealed = seal_secret(&key(1), "user-1", &secret, &rng).unwrap();
    assert_eq!(
        open_secret(&key(1), "user-1", &sealed).unwrap().as_slice(),
        secret.as_slice()
    );
    assert!(
        open_secret(&key(2), "user-1", &sealed).is_none(),
        "other key"
    );
    assert!(
        open_secret(&key(1), "user-2", &sealed).is_none(),
        "other user"
    );
    let mut raw = sealed.clone().into_bytes();
    let last = raw.len() - 3;
    raw[last] = if raw[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(raw).unwrap();
    assert!(
        open_secret(&key(1), "user-1", &tampered).is_none(),
        "tampered"
    );
    assert!(open_secret(&key(1), "user-1", "").is_none());
    assert!(open_secret(&key(1), "user-1", "!!!").is_none());
}

/// A random source that counts `00 01 02 …` from the start of each buffer.
struct Counting;

impl Rng for Counting {
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = u8::try_from(i).unwrap_or(0);
        }
        Ok(())
    }
}

/// The RFC secret sealed for `user-1` under `key(1)` with the nonce
/// `00 01 … 0b`, as an earlier release stored it.
const STORED_SECRET: &str = "AAECAwQFBgcICQoLipSmEhXIMUHHWtb2E139lZn-UjqZRkWkpmU2f0A2yImeZfVP";

#[test]
fn sealing_writes_base64url_of_nonce_ciphertext_and_tag_as_stored_rows_have_it() {
    let sealed = seal_secret(&key(1), "user-1", RFC_SECRET, &Counting).unwrap();
    assert_eq!(sealed, STORED_SECRET);
}

#[test]
fn a_secret_stored_by_an_earlier_release_still_opens() {
    let opened = open_secret(&key(1), "user-1", STORED_SECRET).unwrap();
    assert_eq!(opened.as_slice(), RFC_SECRET);
}

#[test]
fn sealing_twice_uses_fresh_nonces_and_hides_the_secret() {
    let rng = SeededRng::new(14);
    let secret = [0x42u8; SECRET_LEN];
    let a = seal_secret(&key(1), "u", &secret, &rng).unwrap();
    let b = seal_secret(&key(1), "u", &secret, &rng).unwrap();
    assert_ne!(a, b);
    assert_eq!(a.len(), 64, "base64url of 12 + 20 + 16 bytes");
    assert!(!a.contains(&base32_encode(&secret)));
}

#[test]
fn a_data_key_secret_is_base64url_of_exactly_32_bytes() {
    use base64::Engine as _;
    let enc = |n: usize| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vec![1u8; n]);
    assert!(DataKey::from_secret(&enc(32)).is_some());
    assert!(DataKey::from_secret(&format!("{}\n", enc(32))).is_some());
    assert!(DataKey::from_secret(&enc(31)).is_none());
    assert!(DataKey::from_secret(&enc(33)).is_none());
    assert!(DataKey::from_secret("*").is_none());
    assert_eq!(format!("{:?}", key(1)), "DataKey(..)");
}

#[test]
fn a_failing_random_source_fails_secrets_sealing_and_codes() {
    assert!(generate_secret(&FailingRng).is_err());
    assert!(seal_secret(&key(1), "u", b"s", &FailingRng).is_err());
    assert!(generate_recovery_codes(&FailingRng).is_err());
}

#[test]
fn ten_distinct_recovery_codes_of_form_xxxx_xxxx_from_an_unambiguous_alphabet() {
    let rng = SeededRng::new(15);
    let codes = generate_recovery_codes(&rng).unwrap();
    assert_eq!(codes.len(), RECOVERY_CODES);
    assert_eq!(RECOVERY_CODES, 10);
    let unique: std::collections::HashSet<&String> = codes.iter().collect();
    assert_eq!(unique.len(), 10);
    for code in &codes {
        assert_eq!(code.len(), 9, "{code}");
        assert_eq!(&code[4..5], "-");
        assert!(
            code.chars()
                .filter(|c| *c != '-')
                .all(|c| c.is_ascii_digit() || (c.is_ascii_lowercase() && !"ilou".contains(c))),
            "{code}"
        );
        assert_eq!(normalize_recovery_code(code), code.replace('-', ""));
    }
    assert_ne!(codes, generate_recovery_codes(&rng).unwrap());
}

#[test]
fn recovery_codes_hash_the_same_however_they_are_typed() {
    let k = b"server-side recovery key";
    let stored = hash_recovery_code(k, "ab01-cd23");
    assert_eq!(stored.len(), 64);
    assert!(
        stored
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    for typed in [
        "AB01-CD23",
        "ab01cd23",
        " ab01 cd23 ",
        "aBoI-cd23",
        "ab0l - CD23",
    ] {
        assert_eq!(hash_recovery_code(k, typed), stored, "{typed:?}");
    }
    assert_ne!(hash_recovery_code(k, "ab01-cd24"), stored);
    assert_ne!(hash_recovery_code(b"another key", "ab01-cd23"), stored);
}
