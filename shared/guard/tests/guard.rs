//! The guard against tokens signed with throwaway P-256 keys (the testkit's
//! `TokenMint`, which installs the provider with signing first, as these
//! tests sign perhaps before any `Verifier` exists): what it accepts, every
//! way a token is refused, bearer parsing, roles and the staff second-factor
//! rule, and the revocation extension point.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use sealpost_api::{ApiError, ErrorCode};
use sealpost_guard::{
    AUDIENCE, AccessClaims, ISSUER, LEEWAY_SECS, NoRevocation, RevocationCheck, Role, Verifier,
    bearer, require_role, require_staff, require_staff_mfa,
};
use sealpost_testkit::{TokenMint, block_on, tokens};
use serde_json::{Value, json};

const NOW: i64 = 1_795_000_000;

fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE,
        "sub": "u1", "sid": "s1", "jti": "j1",
        "roles": ["editor"], "amr": ["pwd", "otp"],
        "iat": NOW, "exp": NOW + 900,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn code(r: Result<AccessClaims, ApiError>) -> ErrorCode {
    r.expect_err("must be refused").code
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn access(roles: &[&str], amr: &[&str]) -> AccessClaims {
    tokens::access_claims("u", "s", roles, amr, NOW)
}

#[test]
fn a_fresh_es256_token_from_a_known_key_yields_its_claims() {
    let key = TokenMint::new(7);
    let got = key
        .verifier()
        .verify(&key.sign(&claims()), NOW + 1)
        .unwrap();
    assert_eq!(got.sub, "u1");
    assert_eq!(got.sid, "s1");
    assert_eq!(got.jti, "j1");
    assert_eq!(got.roles, vec!["editor"]);
    assert_eq!(got.amr, vec!["pwd", "otp"]);
    assert_eq!((got.iat, got.exp), (NOW, NOW + 900));
}

#[test]
fn an_expired_token_is_invalid_once_the_leeway_has_passed() {
    let key = TokenMint::new(7);
    let (v, t) = (key.verifier(), key.sign(&claims()));
    assert!(v.verify(&t, NOW + 900).is_ok(), "inside the leeway");
    assert!(v.verify(&t, NOW + 900 + LEEWAY_SECS - 1).is_ok());
    assert_eq!(
        code(v.verify(&t, NOW + 900 + LEEWAY_SECS)),
        ErrorCode::AuthTokenInvalid
    );
    assert_eq!(
        code(v.verify(&t, NOW + 86_400)),
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn a_token_issued_in_the_future_beyond_the_leeway_is_invalid() {
    let key = TokenMint::new(7);
    let t = key.sign(&claims());
    assert!(key.verifier().verify(&t, NOW - LEEWAY_SECS).is_ok());
    assert_eq!(
        code(key.verifier().verify(&t, NOW - LEEWAY_SECS - 1)),
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn a_token_signed_by_another_key_is_invalid_even_under_a_known_kid() {
    let (ours, theirs) = (TokenMint::new(7), TokenMint::new(8));
    let forged = theirs.sign_as(Some(ours.kid()), &claims());
    assert_eq!(
        code(ours.verifier().verify(&forged, NOW)),
        ErrorCode::AuthTokenInvalid
    );
    let foreign = theirs.sign(&claims());
    assert_eq!(
        code(ours.verifier().verify(&foreign, NOW)),
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn a_token_without_a_kid_is_invalid() {
    let key = TokenMint::new(7);
    let t = key.sign_as(None, &claims());
    assert_eq!(
        code(key.verifier().verify(&t, NOW)),
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn a_tampered_payload_is_invalid() {
    let key = TokenMint::new(7);
    let t = key.sign(&claims());
    let parts: Vec<&str> = t.split('.').collect();
    let evil = with(claims(), "roles", json!(["admin"]));
    let tampered = format!("{}.{}.{}", parts[0], b64(&evil), parts[2]);
    assert_eq!(
        code(key.verifier().verify(&tampered, NOW)),
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn alg_none_is_invalid() {
    let key = TokenMint::new(7);
    let header = json!({"alg": "none", "typ": "JWT", "kid": key.kid()});
    for t in [
        format!("{}.{}.", b64(&header), b64(&claims())),
        format!("{}.{}", b64(&header), b64(&claims())),
    ] {
        assert_eq!(
            code(key.verifier().verify(&t, NOW)),
            ErrorCode::AuthTokenInvalid
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_invalid() {
    let key = TokenMint::new(7);
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": key.kid()});
    let input = format!("{}.{}", b64(&header), b64(&claims()));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.public_sec1()).unwrap();
    mac.update(input.as_bytes());
    let t = format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(
        code(key.verifier().verify(&t, NOW)),
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn other_issuers_audiences_and_incomplete_claims_are_invalid() {
    let key = TokenMint::new(7);
    let v = key.verifier();
    for bad in [
        with(claims(), "iss", json!("someone-else")),
        with(claims(), "aud", json!("other")),
        with(claims(), "sub", json!("")),
        with(claims(), "sid", json!("")),
        with(claims(), "jti", json!("")),
        with(claims(), "exp", json!(NOW)),
        with(claims(), "exp", json!("soon")),
    ] {
        assert_eq!(
            code(v.verify(&key.sign(&bad), NOW)),
            ErrorCode::AuthTokenInvalid
        );
    }
    let mut missing = claims();
    missing.as_object_mut().unwrap().remove("sid");
    assert_eq!(
        code(v.verify(&key.sign(&missing), NOW)),
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn garbage_and_oversized_tokens_are_invalid() {
    let v = TokenMint::new(7).verifier();
    for t in ["", "a", "a.b", "a.b.c", "...", &"x".repeat(5000)] {
        assert_eq!(
            code(v.verify(t, NOW)),
            ErrorCode::AuthTokenInvalid,
            "{t:.20}"
        );
    }
}

#[test]
fn unknown_claims_are_ignored_for_forward_compatibility() {
    let key = TokenMint::new(7);
    let t = key.sign(&with(claims(), "site", json!("main")));
    assert!(key.verifier().verify(&t, NOW).is_ok());
}

#[test]
fn a_jwks_verifier_accepts_every_listed_key_and_skips_foreign_kinds() {
    let (a, b) = (TokenMint::new(7), TokenMint::new(9));
    let jwk = |k: &TokenMint| {
        json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": k.kid(),
            "x": URL_SAFE_NO_PAD.encode(&k.public_sec1()[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&k.public_sec1()[33..]),
        })
    };
    let set = json!({"keys": [
        jwk(&a),
        {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"},
        jwk(&b),
    ]});
    let v = Verifier::from_jwks(&set).unwrap();
    assert_eq!(v.kids().collect::<Vec<_>>(), vec![a.kid(), b.kid()]);
    assert!(v.verify(&a.sign(&claims()), NOW).is_ok());
    assert!(v.verify(&b.sign(&claims()), NOW).is_ok());
}

#[test]
fn unusable_key_sets_are_refused_at_construction() {
    assert!(Verifier::from_jwks(&json!({})).is_err());
    assert!(Verifier::from_jwks(&json!({"keys": []})).is_err());
    let off_curve = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k",
        "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])}]});
    assert!(Verifier::from_jwks(&off_curve).is_err());
    assert!(Verifier::from_sec1_points(&[[4u8; 65]]).is_err());
    assert!(Verifier::from_sec1_points::<&[u8]>(&[]).is_err());
}

#[test]
fn a_compressed_point_gets_the_same_kid_as_its_uncompressed_form() {
    let key = TokenMint::new(7);
    let compressed = p256::PublicKey::from_sec1_bytes(key.public_sec1())
        .unwrap()
        .to_encoded_point(true);
    let v = Verifier::from_sec1_points(&[compressed.as_bytes()]).unwrap();
    assert_eq!(v.kids().collect::<Vec<_>>(), vec![key.kid()]);
    assert_eq!(key.kid().len(), 11);
}

#[test]
fn bearer_extracts_the_token_and_a_missing_one_is_auth_required() {
    assert_eq!(bearer(Some("Bearer abc.def.ghi")).unwrap(), "abc.def.ghi");
    assert_eq!(bearer(Some("bearer   tok  ")).unwrap(), "tok");
    assert_eq!(bearer(Some("BEARER tok")).unwrap(), "tok");
    for missing in [
        None,
        Some(""),
        Some("Bearer"),
        Some("Bearer   "),
        Some("Basic dXNlcjpw"),
        Some("tok"),
    ] {
        assert_eq!(
            bearer(missing).unwrap_err().code,
            ErrorCode::Unauthorized,
            "{missing:?}"
        );
    }
}

#[test]
fn authenticate_combines_bearer_and_verify() {
    let key = TokenMint::new(7);
    let v = key.verifier();
    let header = format!("Bearer {}", key.sign(&claims()));
    assert_eq!(v.authenticate(Some(&header), NOW).unwrap().sub, "u1");
    assert_eq!(
        v.authenticate(None, NOW).unwrap_err().code,
        ErrorCode::Unauthorized
    );
    assert_eq!(
        v.authenticate(Some("Bearer nope"), NOW).unwrap_err().code,
        ErrorCode::AuthTokenInvalid
    );
}

#[test]
fn roles_are_hierarchical_admin_includes_editor_includes_member() {
    let admin = access(&["admin"], &[]);
    let editor = access(&["editor"], &[]);
    let member = access(&["member"], &[]);
    for role in Role::ALL {
        assert!(require_role(&admin, role).is_ok());
    }
    assert!(require_role(&editor, Role::Editor).is_ok());
    assert!(require_role(&editor, Role::Member).is_ok());
    assert_eq!(
        require_role(&editor, Role::Admin).unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert!(require_role(&member, Role::Member).is_ok());
    assert_eq!(
        require_role(&member, Role::Editor).unwrap_err().code,
        ErrorCode::Forbidden
    );
}

#[test]
fn a_token_without_known_roles_is_only_a_member() {
    for roles in [&[][..], &["superuser"][..], &["Admin"][..]] {
        let c = access(roles, &["pwd", "otp"]);
        assert_eq!(c.role(), Role::Member);
        assert!(require_role(&c, Role::Member).is_ok());
        assert!(require_role(&c, Role::Editor).is_err());
    }
    assert_eq!(
        access(&["member", "admin", "editor"], &[]).role(),
        Role::Admin
    );
}

#[test]
fn staff_routes_need_otp_in_amr_as_well_as_the_role() {
    let admin_pwd = access(&["admin"], &["pwd"]);
    let admin_otp = access(&["admin"], &["pwd", "otp"]);
    let member_otp = access(&["member"], &["pwd", "otp"]);
    assert_eq!(
        require_staff_mfa(&admin_pwd).unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert!(require_staff_mfa(&admin_otp).is_ok());
    assert_eq!(
        require_staff(&admin_pwd, Role::Admin).unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert!(require_staff(&admin_otp, Role::Admin).is_ok());
    assert_eq!(
        require_staff(&member_otp, Role::Admin).unwrap_err().code,
        ErrorCode::Forbidden
    );
}

#[test]
fn role_names_round_trip_and_parse_strictly() {
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Some(role));
        assert_eq!(role.to_string(), role.as_str());
    }
    assert_eq!(Role::parse("ADMIN"), None);
    assert_eq!(Role::parse(""), None);
}

struct RevokedSessions(&'static [&'static str]);

impl RevocationCheck for RevokedSessions {
    async fn is_revoked(&self, claims: &AccessClaims) -> Result<bool, ApiError> {
        Ok(self.0.contains(&claims.sid.as_str()))
    }
}

struct StoreDown;

impl RevocationCheck for StoreDown {
    async fn is_revoked(&self, _: &AccessClaims) -> Result<bool, ApiError> {
        Err(ApiError::new(ErrorCode::ServiceUnavailable))
    }
}

#[test]
fn a_revocation_check_supplied_by_the_caller_turns_revoked_sessions_away() {
    let key = TokenMint::new(7);
    let v = key.verifier();
    let t = key.sign(&claims());
    assert!(block_on(v.verify_live(&t, NOW, &NoRevocation)).is_ok());
    assert!(block_on(v.verify_live(&t, NOW, &RevokedSessions(&["other"]))).is_ok());
    assert_eq!(
        block_on(v.verify_live(&t, NOW, &RevokedSessions(&["s1"])))
            .unwrap_err()
            .code,
        ErrorCode::AuthTokenRevoked
    );
    assert_eq!(
        block_on(v.verify_live(&t, NOW, &StoreDown))
            .unwrap_err()
            .code,
        ErrorCode::ServiceUnavailable,
        "fails closed"
    );
    assert_eq!(
        block_on(v.verify_live("junk", NOW, &NoRevocation))
            .unwrap_err()
            .code,
        ErrorCode::AuthTokenInvalid,
        "an invalid token never reaches the store"
    );
}
