//! The token mint against the real thing: its tokens are the ones the auth
//! worker issues for the same key and claims, and the guard accepts them
//! with exactly those claims.
use sealpost_auth_core::tokens::{self, SigningKey};
use sealpost_guard::{LEEWAY_SECS, Role};
use sealpost_testkit::TokenMint;
use sealpost_testkit::tokens::{ACCESS_TTL_SECS, JTI};

const NOW: i64 = 1_795_000_000;

#[test]
fn a_minted_access_token_is_the_one_auth_issues_for_the_same_key_and_claims() {
    let auth = SigningKey::from_scalar(&[7u8; 32]).unwrap();
    let mint = TokenMint::default();
    let roles = [Role::Editor];
    let amr = ["pwd", "otp"];
    let issued = tokens::issue(
        &tokens::access_claims("user-a", "session-a", JTI, &roles, &amr, NOW),
        &auth,
    )
    .unwrap();
    assert_eq!(
        mint.access("user-a", "session-a", &roles, &amr, NOW),
        issued
    );
    assert_eq!(mint.kid(), auth.kid());
    assert_eq!(mint.public_sec1(), auth.public_sec1());
    assert_eq!(ACCESS_TTL_SECS, tokens::ACCESS_TTL_SECS);
}

#[test]
fn the_guard_accepts_a_minted_token_with_its_claims_until_it_expires() {
    let mint = TokenMint::new(9);
    let token = mint.access("user-b", "session-b", &[Role::Admin], &["pwd"], NOW);
    let claims = mint.verifier().verify(&token, NOW).unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.sid.as_str()),
        ("user-b", "session-b")
    );
    assert_eq!(claims.role(), Role::Admin);
    assert!(!claims.has_otp());
    let expired = NOW + ACCESS_TTL_SECS + LEEWAY_SECS;
    assert!(mint.verifier().verify(&token, expired).is_err());
}

#[test]
fn another_key_does_not_verify_a_minted_token() {
    let token = TokenMint::new(9).access("u", "s", &[Role::Member], &["pwd"], NOW);
    assert!(TokenMint::default().verifier().verify(&token, NOW).is_err());
}
