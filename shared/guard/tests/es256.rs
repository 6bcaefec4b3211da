//! The ES256-only `jsonwebtoken` provider (`sealpost_guard::es256`), installed
//! with signing: RFC 7515's ES256 example, the raw `r || s` signature form,
//! and every other algorithm refused with an error (never a panic).
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::ecdsa::signature::Verifier as _;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use sealpost_guard::es256;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

// RFC 7515 Appendix A.3: the ES256 example key and JWS.
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_D: &str = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
const A3_JWS: &str = concat!(
    "eyJhbGciOiJFUzI1NiJ9",
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
);

fn setup() {
    assert!(es256::install_with_signing());
}

/// Signature checked; no claim requirements (the RFC's `exp` is long past).
fn es256_only() -> Validation {
    let mut v = Validation::new(Algorithm::ES256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    v
}

fn a3_public() -> DecodingKey {
    DecodingKey::from_ec_components(A3_X, A3_Y).unwrap()
}

fn a3_secret() -> p256::SecretKey {
    p256::SecretKey::from_slice(&URL_SAFE_NO_PAD.decode(A3_D).unwrap()).unwrap()
}

fn encoding_key(secret: &p256::SecretKey) -> EncodingKey {
    EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes())
}

fn decode(token: &str, key: &DecodingKey, v: &Validation) -> Result<Value, ErrorKind> {
    jsonwebtoken::decode::<Value>(token, key, v)
        .map(|d| d.claims)
        .map_err(|e| e.into_kind())
}

#[test]
fn installing_is_idempotent() {
    for _ in 0..3 {
        assert!(es256::install());
        assert!(es256::install_with_signing());
    }
}

#[test]
fn the_rfc_7515_a3_example_verifies_and_a_flipped_bit_does_not() {
    setup();
    let claims = decode(A3_JWS, &a3_public(), &es256_only()).unwrap();
    assert_eq!(claims["iss"], "joe");
    assert_eq!(claims["http://example.com/is_root"], true);

    let mut tampered = A3_JWS.to_owned();
    tampered.pop(); // 'Q' -> 'A': a bit of the last byte of s flips.
    tampered.push('A');
    assert!(matches!(
        decode(&tampered, &a3_public(), &es256_only()),
        Err(ErrorKind::InvalidSignature)
    ));
}

#[test]
fn a_token_we_sign_is_raw_r_s_deterministic_and_verifies_under_the_rfc_key() {
    setup();
    let secret = a3_secret();
    let point = secret.public_key().to_encoded_point(false);
    assert_eq!(URL_SAFE_NO_PAD.encode(point.x().unwrap()), A3_X);
    assert_eq!(URL_SAFE_NO_PAD.encode(point.y().unwrap()), A3_Y);

    let claims = json!({"iss": "joe", "n": 1});
    let header = Header::new(Algorithm::ES256);
    let token = jsonwebtoken::encode(&header, &claims, &encoding_key(&secret)).unwrap();
    assert_eq!(
        token,
        jsonwebtoken::encode(&header, &claims, &encoding_key(&secret)).unwrap(),
        "RFC 6979: same key and message, same signature"
    );
    assert_eq!(decode(&token, &a3_public(), &es256_only()).unwrap(), claims);

    // The third part is exactly r || s, which p256 verifies as such.
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    assert_eq!(sig.len(), 64);
    let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
    p256::ecdsa::VerifyingKey::from(secret.public_key())
        .verify(input.as_bytes(), &sig)
        .unwrap();
}

/// ASN.1 DER of an ECDSA signature (what OpenSSL emits), from r || s.
fn der(raw: &[u8]) -> Vec<u8> {
    let int = |x: &[u8]| {
        let x = &x[x.iter().take_while(|b| **b == 0).count()..];
        let pad = x[0] >= 0x80;
        let mut out = vec![0x02, (x.len() + usize::from(pad)) as u8];
        if pad {
            out.push(0);
        }
        out.extend_from_slice(x);
        out
    };
    let body = [int(&raw[..32]), int(&raw[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

#[test]
fn a_der_encoded_signature_is_refused() {
    setup();
    let (input, sig) = A3_JWS.rsplit_once('.').unwrap();
    let der_sig = der(&URL_SAFE_NO_PAD.decode(sig).unwrap());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(der_sig));
    assert!(matches!(
        decode(&token, &a3_public(), &es256_only()),
        Err(ErrorKind::InvalidSignature)
    ));
}

#[test]
fn every_other_algorithm_is_refused_for_signing() {
    setup();
    let der = a3_secret().to_pkcs8_der().unwrap();
    let claims = json!({"sub": "x"});
    for (alg, key) in [
        (Algorithm::HS256, EncodingKey::from_secret(b"secret")),
        (Algorithm::HS512, EncodingKey::from_secret(b"secret")),
        (Algorithm::RS256, EncodingKey::from_rsa_der(b"not rsa")),
        (Algorithm::PS256, EncodingKey::from_rsa_der(b"not rsa")),
        (Algorithm::ES384, EncodingKey::from_ec_der(der.as_bytes())),
        (Algorithm::EdDSA, EncodingKey::from_ed_der(b"not ed")),
    ] {
        let err = jsonwebtoken::encode(&Header::new(alg), &claims, &key).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidAlgorithm),
            "{alg:?}: {err:?}"
        );
    }
    // ES256 with a key of another family is refused too.
    let err = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidAlgorithm));
}

#[test]
fn every_other_algorithm_is_refused_for_verification() {
    setup();
    let (_, rest) = A3_JWS.split_once('.').unwrap();
    for (alg, key) in [
        (Algorithm::HS256, DecodingKey::from_secret(b"secret")),
        (Algorithm::RS256, DecodingKey::from_rsa_der(b"not rsa")),
        (Algorithm::ES384, a3_public()),
        (Algorithm::EdDSA, DecodingKey::from_ed_der(b"not ed")),
    ] {
        // A header naming `alg`, verified with a validation that allows it.
        let header = URL_SAFE_NO_PAD.encode(json!({ "alg": alg }).to_string());
        let token = format!("{header}.{rest}");
        let mut v = es256_only();
        v.algorithms = vec![alg];
        assert!(
            matches!(decode(&token, &key, &v), Err(ErrorKind::InvalidAlgorithm)),
            "{alg:?}"
        );
    }
}

#[test]
fn jwk_thumbprints_use_sha256_only() {
    setup();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(json!({
        "kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y,
    }))
    .unwrap();
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{A3_X}","y":"{A3_Y}"}}"#);
    assert_eq!(
        jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical))
    );
    for other in [ThumbprintHash::SHA384, ThumbprintHash::SHA512] {
        assert!(jwk.thumbprint(other).is_err());
    }
}
