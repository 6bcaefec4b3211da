//! A process that only verifies (every worker but auth): the provider
//! installed by a `Verifier` checks ES256 tokens and signs nothing.
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use sealpost_guard::{Verifier, es256};
use serde_json::json;

#[test]
fn a_verifier_installs_the_provider_without_signing() {
    let secret = p256::SecretKey::from_slice(&[7; 32]).unwrap();
    let point = secret.public_key().to_encoded_point(false);
    let verifier = Verifier::from_sec1_points(&[point.as_bytes()]).unwrap();
    assert!(es256::install(), "the verifier installed it");

    let key = EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes());
    let err = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &json!({}), &key).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidAlgorithm), "{err:?}");
    assert!(verifier.verify("a.b.c", 0).is_err());
}
