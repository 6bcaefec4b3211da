//! Passwords: Argon2id PHC strings at the OWASP minimum, compatibility with
//! what `sealpost-admin` writes, rehash detection, the pepper (and its
//! `keyid`), the dummy verification, and the new-password rules. Most cases
//! use a cheap policy: debug builds run Argon2 at 19 MiB slowly.
use std::time::Instant;

use sealpost_auth_core::password::{
    self, DUMMY_HASH, HashError, MAX_CHARS, MIN_CHARS, PasswordPolicy, Pepper, Verified,
    WeakPassword, is_common, validate_new_password,
};
use sealpost_ports::PortError;
use sealpost_testkit::{FailingRng, SeededRng};

const CHEAP: PasswordPolicy = PasswordPolicy {
    m_cost_kib: 64,
    t_cost: 1,
    p_cost: 1,
};

const OK: Verified = Verified {
    ok: true,
    needs_rehash: false,
};
const OK_REHASH: Verified = Verified {
    ok: true,
    needs_rehash: true,
};
const FAIL: Verified = Verified {
    ok: false,
    needs_rehash: false,
};

fn pepper(seed: u8) -> Pepper {
    Pepper::new(&[seed; 32]).unwrap()
}

#[test]
fn a_hash_is_argon2id_v19_at_owasp_minimum_and_verifies_only_the_right_password() {
    let rng = SeededRng::new(1);
    let phc = password::hash("correct horse battery", None, &rng).unwrap();
    assert!(
        phc.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        phc.as_str()
    );
    assert_eq!(
        password::verify("correct horse battery", phc.as_str(), None),
        OK
    );
    assert_eq!(
        password::verify("correct horse batterY", phc.as_str(), None),
        FAIL
    );
}

#[test]
fn the_default_policy_is_owasps_minimum() {
    assert_eq!(
        PasswordPolicy::default(),
        PasswordPolicy {
            m_cost_kib: 19_456,
            t_cost: 2,
            p_cost: 1
        }
    );
}

#[test]
fn an_admin_seeded_by_sealpost_admin_verifies_without_a_pepper_and_with_one_asks_for_a_rehash() {
    let phc = sealpost_admin::hash_password("seeded admin pass").unwrap();
    assert_eq!(password::verify("seeded admin pass", &phc, None), OK);
    assert_eq!(password::verify("wrong admin pass", &phc, None), FAIL);
    let p = pepper(3);
    assert_eq!(
        password::verify("seeded admin pass", &phc, Some(&p)),
        OK_REHASH,
        "an unpeppered hash still verifies once a pepper is configured, and is upgraded"
    );
}

#[test]
fn a_peppered_hash_records_its_pepper_and_verifies_only_with_it() {
    let rng = SeededRng::new(2);
    let (p, other) = (pepper(3), pepper(4));
    let phc = CHEAP.hash("pepper me please", Some(&p), &rng).unwrap();
    assert!(phc.as_str().contains(",keyid="), "{}", phc.as_str());
    assert_eq!(CHEAP.verify("pepper me please", phc.as_str(), Some(&p)), OK);
    assert_eq!(CHEAP.verify("pepper me please", phc.as_str(), None), FAIL);
    assert_eq!(
        CHEAP.verify("pepper me please", phc.as_str(), Some(&other)),
        FAIL
    );
    assert_eq!(
        CHEAP.verify("not the password", phc.as_str(), Some(&p)),
        FAIL
    );
}

#[test]
fn the_pepper_changes_the_hash_itself_not_only_the_label() {
    let rng = SeededRng::new(2);
    let p = pepper(3);
    let peppered = CHEAP.hash("same password", Some(&p), &rng).unwrap();
    // The same PHC string without its keyid: same salt and params, no secret.
    let stripped = peppered
        .as_str()
        .replacen(&keyid_param(peppered.as_str()), "", 1);
    assert!(!stripped.contains("keyid"));
    assert_eq!(CHEAP.verify("same password", &stripped, None), FAIL);
}

fn keyid_param(phc: &str) -> String {
    let start = phc.find(",keyid=").unwrap();
    let end = start + phc[start..].find('$').unwrap();
    phc[start..end].to_owned()
}

#[test]
fn weaker_parameters_or_another_variant_ask_for_a_rehash_after_a_successful_login() {
    let rng = SeededRng::new(5);
    let cheap = CHEAP.hash("old cheap hash", None, &rng).unwrap();
    assert_eq!(
        PasswordPolicy::OWASP_MIN.verify("old cheap hash", cheap.as_str(), None),
        OK_REHASH
    );
    assert_eq!(
        PasswordPolicy::OWASP_MIN.verify("wrong", cheap.as_str(), None),
        FAIL,
        "no rehash is ever asked for a failed login"
    );
    assert_eq!(CHEAP.verify("old cheap hash", cheap.as_str(), None), OK);
    let stronger = PasswordPolicy {
        m_cost_kib: 128,
        ..CHEAP
    };
    assert_eq!(
        stronger.verify("old cheap hash", cheap.as_str(), None),
        OK_REHASH
    );

    let argon2i = cheap.as_str().replacen("$argon2id$", "$argon2i$", 1);
    // Different variant, different output: recompute it as argon2i.
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&[9u8; 16]).unwrap();
    let params = argon2::Params::new(64, 1, 1, None).unwrap();
    let i_phc = argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params)
        .hash_password(b"legacy variant", &salt)
        .unwrap()
        .to_string();
    assert!(i_phc.starts_with("$argon2i$"));
    assert_eq!(CHEAP.verify("legacy variant", &i_phc, None), OK_REHASH);
    assert_eq!(CHEAP.verify("old cheap hash", &argon2i, None), FAIL);
}

#[test]
fn unparsable_or_foreign_stored_hashes_fail_without_panicking() {
    for junk in [
        "",
        "not a hash",
        "$argon2id$v=19$m=64,t=1,p=1$",
        "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA",
        "$bcrypt$whatever",
        "$argon2id$v=19$m=64,t=1,p=1,keyid=AAAAAAAA$c2FsdHNhbHRzYWx0$AAAA",
    ] {
        assert_eq!(CHEAP.verify("whatever pw", junk, None), FAIL, "{junk}");
        assert_eq!(
            CHEAP.verify("whatever pw", junk, Some(&pepper(1))),
            FAIL,
            "{junk}"
        );
    }
}

#[test]
fn the_dummy_hash_is_a_real_phc_string_at_the_default_policy() {
    use argon2::password_hash::PasswordHash;
    let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
    assert_eq!(parsed.algorithm.as_str(), "argon2id");
    assert_eq!(parsed.version, Some(19));
    let params = argon2::Params::try_from(&parsed).unwrap();
    let policy = PasswordPolicy::default();
    assert_eq!(
        (params.m_cost(), params.t_cost(), params.p_cost()),
        (policy.m_cost_kib, policy.t_cost, policy.p_cost)
    );
    assert_eq!(parsed.salt.unwrap().as_str().len(), 22, "16-byte salt");
    assert_eq!(parsed.hash.unwrap().len(), 32);
    // Its password was random and discarded.
    assert!(!password::verify("password", DUMMY_HASH, None).ok);
}

#[test]
fn a_failing_random_source_fails_hashing() {
    assert!(matches!(
        CHEAP.hash("some password", None, &FailingRng),
        Err(HashError::Rng(PortError::Rng(_)))
    ));
}

#[test]
fn two_hashes_of_one_password_differ_by_their_salt() {
    let rng = SeededRng::new(7);
    let a = CHEAP.hash("same password", None, &rng).unwrap();
    let b = CHEAP.hash("same password", None, &rng).unwrap();
    assert_ne!(a, b);
    assert_eq!(CHEAP.verify("same password", a.as_str(), None), OK);
    assert_eq!(CHEAP.verify("same password", b.as_str(), None), OK);
}

#[test]
fn peppers_and_hashes_never_show_in_debug_output() {
    let rng = SeededRng::new(8);
    let phc = CHEAP.hash("hidden password", None, &rng).unwrap();
    assert_eq!(format!("{phc:?}"), "PhcString(..)");
    assert_eq!(format!("{:?}", pepper(1)), "Pepper(..)");
}

#[test]
fn a_pepper_secret_is_base64url_of_16_to_64_bytes() {
    use base64::Engine as _;
    let enc = |n: usize| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vec![7u8; n]);
    assert!(Pepper::from_secret(&enc(32)).is_some());
    assert!(Pepper::from_secret(&format!(" {}\n", enc(16))).is_some());
    assert!(Pepper::from_secret(&enc(64)).is_some());
    assert!(Pepper::from_secret(&enc(15)).is_none());
    assert!(Pepper::from_secret(&enc(65)).is_none());
    assert!(Pepper::from_secret("not base64!").is_none());
    assert!(Pepper::from_secret("").is_none());
}

#[test]
fn new_passwords_are_8_to_128_characters_counted_as_characters_not_bytes() {
    let email = "someone@example.com";
    assert_eq!(validate_new_password("Tr0ub4do", email), Ok(()));
    assert_eq!(
        validate_new_password("Tr0ub4d", email),
        Err(WeakPassword::Length)
    );
    assert_eq!(validate_new_password("", email), Err(WeakPassword::Length));
    let ok_max = "x7".repeat(MAX_CHARS / 2);
    assert_eq!(validate_new_password(&ok_max, email), Ok(()));
    assert_eq!(
        validate_new_password(&format!("{ok_max}y"), email),
        Err(WeakPassword::Length)
    );
    // 8 characters, 24 bytes: accepted; 7 of them (21 bytes): refused.
    assert_eq!(validate_new_password("mật khẩu", email), Ok(()));
    assert_eq!(
        validate_new_password(&"ệ".repeat(MIN_CHARS - 1), email),
        Err(WeakPassword::Length)
    );
    assert_eq!(validate_new_password(&"ệ".repeat(MIN_CHARS), email), Ok(()));
    assert_eq!(
        validate_new_password(&"ệ".repeat(MAX_CHARS), email),
        Ok(()),
        "128 characters are 384 bytes"
    );
}

#[test]
fn common_passwords_are_refused_whatever_their_case() {
    for common in [
        "password",
        "PASSWORD1",
        "Iloveyou",
        "qwertyuiop",
        "12345678",
        "football",
    ] {
        assert_eq!(
            validate_new_password(common, "a@b.example"),
            Err(WeakPassword::Common),
            "{common}"
        );
    }
    assert!(!is_common("a much rarer passphrase"));
}

#[test]
fn the_email_address_or_its_local_part_is_refused_as_a_password() {
    let email = "Long.Name@Example.com";
    for bad in [
        "long.name@example.com",
        "LONG.NAME@EXAMPLE.COM",
        "long.name",
        " Long.Name ",
    ] {
        assert_eq!(
            validate_new_password(bad, email),
            Err(WeakPassword::Email),
            "{bad}"
        );
    }
    assert_eq!(validate_new_password("long.name2", email), Ok(()));
    assert_eq!(
        validate_new_password("long.name@example.org", email),
        Ok(())
    );
}

#[test]
fn refusals_render_as_field_errors_for_the_callers_field() {
    let e = WeakPassword::Common.field_error("newPassword");
    assert_eq!(e.field, "newPassword");
    assert_eq!(e.message, WeakPassword::Common.message());
    for w in [
        WeakPassword::Length,
        WeakPassword::Common,
        WeakPassword::Email,
    ] {
        assert!(!w.message().is_empty());
        assert_eq!(w.to_string(), w.message());
    }
}

#[test]
fn the_common_password_list_has_1000_unique_lower_case_entries_of_8_to_128_characters() {
    let list = include_str!("../src/common_passwords.txt");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 1000);
    let unique: std::collections::HashSet<&str> = lines.iter().copied().collect();
    assert_eq!(unique.len(), lines.len());
    for l in lines {
        assert_eq!(l, l.to_lowercase());
        assert_eq!(l, l.trim());
        assert!((MIN_CHARS..=MAX_CHARS).contains(&l.chars().count()), "{l}");
    }
}

/// `cargo test --release -p sealpost-auth-core --test password -- --ignored --nocapture`
#[test]
#[ignore = "timing report, run by hand in release mode"]
fn report_argon2id_timings_at_the_default_policy() {
    let rng = SeededRng::new(9);
    let n = 10;
    let t = Instant::now();
    let mut last = None;
    for _ in 0..n {
        last = Some(password::hash("timing password", None, &rng).unwrap());
    }
    let hash_each = t.elapsed() / n;
    let phc = last.unwrap();
    let t = Instant::now();
    for _ in 0..n {
        assert!(password::verify("timing password", phc.as_str(), None).ok);
    }
    let verify_each = t.elapsed() / n;
    let t = Instant::now();
    for _ in 0..n {
        password::verify_dummy("timing password", None);
    }
    let dummy_each = t.elapsed() / n;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "argon2id m=19456 t=2 p=1 (native): hash {hash_each:?}, verify {verify_each:?}, dummy {dummy_each:?}"
        );
    }
}
