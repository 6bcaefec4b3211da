//! Access tokens issued here and verified by `sealpost-guard` with the public
//! key only (directly and through the JWK set), every refusal the guard owes
//! them, the signing-key secret, and refresh tokens.
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpost_api::ErrorCode;
use sealpost_auth_core::tokens::{
    ACCESS_TTL_SECS, AMR_OTP, AMR_PWD, AccessClaims, Role, SigningKey, TokenError, access_claims,
    hash_refresh_token, issue, jwks, new_refresh_token,
};
use sealpost_guard::{LEEWAY_SECS, Verifier, require_staff};
use sealpost_testkit::{FailingRng, SeededRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_795_000_000;

fn key(seed: u64) -> SigningKey {
    SigningKey::generate(&SeededRng::new(seed)).unwrap()
}

fn claims() -> AccessClaims {
    access_claims(
        "user-1",
        "session-1",
        "jti-1",
        &[Role::Admin],
        &[AMR_PWD, AMR_OTP],
        NOW,
    )
}

fn verifier(key: &SigningKey) -> Verifier {
    Verifier::from_jwks(&jwks(&[key])).unwrap()
}

fn parts(token: &str) -> Vec<Value> {
    token
        .split('.')
        .take(2)
        .map(|p| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap())
        .collect()
}

#[test]
fn an_issued_token_verifies_with_the_guard_from_the_jwks_and_from_the_public_point() {
    let k = key(1);
    let token = issue(&claims(), &k).unwrap();
    assert_eq!(verifier(&k).verify(&token, NOW).unwrap(), claims());
    let by_point = Verifier::from_sec1_points(&[k.public_sec1()]).unwrap();
    let got = by_point.verify(&token, NOW + 60).unwrap();
    assert_eq!(got.sub, "user-1");
    assert!(require_staff(&got, Role::Admin).is_ok());
}

#[test]
fn the_header_is_es256_with_the_keys_kid_and_the_claims_are_the_contracts() {
    let k = key(1);
    let token = issue(&claims(), &k).unwrap();
    let p = parts(&token);
    assert_eq!(p[0]["alg"], "ES256");
    assert_eq!(p[0]["kid"], k.kid());
    let mut names: Vec<&str> = p[1]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "amr", "aud", "exp", "iat", "iss", "jti", "roles", "sid", "sub"
        ]
    );
    assert_eq!(p[1]["roles"], json!(["admin"]));
    assert_eq!(p[1]["amr"], json!(["pwd", "otp"]));
    assert_eq!(
        p[1]["exp"].as_i64().unwrap() - p[1]["iat"].as_i64().unwrap(),
        900
    );
    assert_eq!(ACCESS_TTL_SECS, 15 * 60);
}

#[test]
fn a_token_is_refused_once_expired() {
    let k = key(1);
    let token = issue(&claims(), &k).unwrap();
    let v = verifier(&k);
    assert!(v.verify(&token, NOW + ACCESS_TTL_SECS - 1).is_ok());
    let late = v.verify(&token, NOW + ACCESS_TTL_SECS + LEEWAY_SECS);
    assert_eq!(late.unwrap_err().code, ErrorCode::AuthTokenInvalid);
}

#[test]
fn a_token_is_refused_by_a_guard_holding_another_key() {
    let (ours, theirs) = (key(1), key(2));
    assert_ne!(ours.kid(), theirs.kid());
    let token = issue(&claims(), &theirs).unwrap();
    assert_eq!(
        verifier(&ours).verify(&token, NOW).unwrap_err().code,
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn a_token_whose_kid_was_swapped_for_a_trusted_one_is_refused() {
    let (ours, theirs) = (key(1), key(2));
    let token = issue(&claims(), &theirs).unwrap();
    let mut p = parts(&token);
    p[0]["kid"] = json!(ours.kid());
    let sig = token.rsplit('.').next().unwrap();
    let forged = format!(
        "{}.{}.{sig}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&p[0]).unwrap()),
        token.split('.').nth(1).unwrap()
    );
    assert_eq!(
        verifier(&ours).verify(&forged, NOW).unwrap_err().code,
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn a_tampered_payload_is_refused() {
    let k = key(1);
    let member = access_claims("u", "s", "j", &[Role::Member], &[AMR_PWD], NOW);
    let token = issue(&member, &k).unwrap();
    let mut p = parts(&token);
    p[1]["roles"] = json!(["admin"]);
    p[1]["amr"] = json!(["pwd", "otp"]);
    let segments: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        segments[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&p[1]).unwrap()),
        segments[2]
    );
    assert_eq!(
        verifier(&k).verify(&tampered, NOW).unwrap_err().code,
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn alg_none_and_hs256_variants_of_an_issued_token_are_refused() {
    use hmac::{Hmac, Mac};
    let k = key(1);
    let token = issue(&claims(), &k).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let header = |alg: &str| {
        URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&json!({"alg": alg, "typ": "JWT", "kid": k.kid()})).unwrap())
    };
    let none = format!("{}.{payload}.", header("none"));
    let input = format!("{}.{payload}", header("HS256"));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(k.public_sec1()).unwrap();
    mac.update(input.as_bytes());
    let hs256 = format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    for t in [none, hs256] {
        assert_eq!(
            verifier(&k).verify(&t, NOW).unwrap_err().code,
            ErrorCode::AuthTokenInvalid
        );
    }
}

#[test]
fn the_jwks_lists_each_public_key_as_an_es256_p256_jwk() {
    let (a, b) = (key(1), key(2));
    let set = jwks(&[&a, &b]);
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let jwk = &keys[0];
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kid"], a.kid());
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap();
    assert_eq!([&[4u8][..], &x, &y].concat(), a.public_sec1());
    assert!(jwk.get("d").is_none(), "no private part");
    let v = Verifier::from_jwks(&set).unwrap();
    for k in [&a, &b] {
        assert!(v.verify(&issue(&claims(), k).unwrap(), NOW).is_ok());
    }
}

#[test]
fn the_signing_key_secret_round_trips_and_junk_is_refused() {
    let k = key(3);
    let secret = k.to_secret();
    assert_eq!(secret.len(), 43);
    let back = SigningKey::from_secret(&secret).unwrap();
    assert_eq!(back.kid(), k.kid());
    assert_eq!(back.public_sec1(), k.public_sec1());
    let zero = URL_SAFE_NO_PAD.encode([0u8; 32]);
    let over_order = URL_SAFE_NO_PAD.encode([0xffu8; 32]);
    let short = URL_SAFE_NO_PAD.encode([1u8; 31]);
    for bad in [
        "",
        "***",
        zero.as_str(),
        over_order.as_str(),
        short.as_str(),
    ] {
        assert_eq!(
            SigningKey::from_secret(bad).unwrap_err(),
            TokenError::BadKey,
            "{bad}"
        );
    }
    assert!(!format!("{k:?}").contains(secret.as_str()));
    assert!(format!("{k:?}").contains(k.kid()));
}

#[test]
fn the_kid_is_eleven_base64url_characters_derived_from_the_public_key() {
    let k = key(4);
    assert_eq!(k.kid().len(), 11);
    assert_eq!(k.kid(), sealpost_guard::kid_for(k.public_sec1()));
    assert_eq!(k.public_sec1().len(), 65);
}

#[test]
fn roles_and_amr_are_written_as_their_wire_names() {
    let c = access_claims(
        "u",
        "s",
        "j",
        &[Role::Editor, Role::Member],
        &[AMR_PWD],
        NOW,
    );
    assert_eq!(c.roles, vec!["editor", "member"]);
    assert_eq!(c.amr, vec!["pwd"]);
    assert_eq!(c.role(), Role::Editor);
    assert!(!c.has_otp());
}

#[test]
fn a_refresh_token_has_256_bits_and_is_stored_as_its_sha256_hex() {
    let rng = SeededRng::new(5);
    let (token, hash) = new_refresh_token(&rng).unwrap();
    assert_eq!(token.len(), 43);
    assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
    let expected: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hash, expected);
    assert_eq!(hash_refresh_token(&token), hash);
    let (other, other_hash) = new_refresh_token(&rng).unwrap();
    assert_ne!(token, other);
    assert_ne!(hash, other_hash);
}

#[test]
fn a_failing_random_source_fails_refresh_tokens_and_key_generation() {
    assert!(new_refresh_token(&FailingRng).is_err());
    assert!(SigningKey::generate(&FailingRng).is_err());
}

/// `cargo test --release -p sealpost-auth-core --test tokens -- --ignored --nocapture`
#[test]
#[ignore = "timing report, run by hand in release mode"]
fn report_es256_sign_and_verify_timings() {
    let k = key(6);
    let v = verifier(&k);
    let n: u32 = 200;
    let t = Instant::now();
    let mut token = String::new();
    for _ in 0..n {
        token = issue(&claims(), &k).unwrap();
    }
    let sign = t.elapsed() / n;
    let t = Instant::now();
    for _ in 0..n {
        assert!(v.verify(&token, NOW).is_ok());
    }
    let verify = t.elapsed() / n;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "ES256 (native): issue {sign:?}, guard verify {verify:?}, token {} bytes",
            token.len()
        );
    }
}
