//! `jsonwebtoken` used before any install latches its own provider (one that
//! panics): the guard then refuses every token instead of panicking.
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use sealpost_api::ErrorCode;
use sealpost_guard::{Verifier, es256};
use serde_json::json;

#[test]
fn a_foreign_provider_in_force_makes_the_guard_fail_closed() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // the expected panic, unprinted
    let latched = std::panic::catch_unwind(|| {
        let key = EncodingKey::from_secret(b"k");
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &json!({}), &key)
    });
    std::panic::set_hook(hook);
    assert!(latched.is_err(), "jsonwebtoken has no backend of its own");
    assert!(!es256::install());
    assert!(!es256::install_with_signing());

    let point = p256::SecretKey::from_slice(&[7; 32])
        .unwrap()
        .public_key()
        .to_encoded_point(false);
    let verifier = Verifier::from_sec1_points(&[point.as_bytes()]).unwrap();
    let kid = verifier.kids().next().unwrap().to_owned();
    let b64 = |v: serde_json::Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let token = format!(
        "{}.{}.{}",
        b64(json!({"alg": "ES256", "kid": kid})),
        b64(json!({})),
        "A".repeat(86)
    );
    assert_eq!(
        verifier.verify(&token, 0).unwrap_err().code,
        ErrorCode::AuthTokenInvalid
    );
}
