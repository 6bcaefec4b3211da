//! Logging in with a second factor: TOTP enrolment, the second-factor
//! login, single-use codes and recovery codes, the MFA token's lifetime and
//! attempt limit, and attempts bounded per account across tokens and
//! addresses. On the native doubles (SQLite with the real migrations, a
//! manual clock, seeded randomness); the live runtime is covered by
//! tests/e2e.
mod support;

use sealpost_api::routes::RouteId;
use sealpost_auth_core::totp;
use serde_json::json;
use support::{MINUTE, PASSWORD, World, claims};

#[test]
fn totp_enrolment_second_factor_login_single_use_codes_and_recovery() {
    let w = World::new();
    let s = w.signup("ma@example.com");
    let setup = w.bearer(RouteId::AuthTotpSetup, &s.access, &json!({}));
    let uri = setup.data()["otpauthUri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains("issuer=Sealpost"),
        "{uri}"
    );
    let wrong = w.bearer(
        RouteId::AuthTotpEnable,
        &s.access,
        &json!({"code": "000000"}),
    );
    assert_eq!(wrong.code(), "AUTH_MFA_INVALID");
    // Setup again replaces the pending secret.
    let (secret, codes) = w.enable_totp(&s);
    assert_eq!(codes.len(), 10);
    assert_eq!(w.me(&s.access).data()["mfaEnabled"], true);
    assert_eq!(
        w.bearer(RouteId::AuthTotpSetup, &s.access, &json!({}))
            .code(),
        "CONFLICT"
    );

    let first = w.login("ma@example.com", PASSWORD);
    assert_eq!(first.data()["mfaRequired"], true);
    let token = first.data()["mfaToken"].as_str().unwrap().to_owned();
    let bad = w.call(
        RouteId::AuthLoginMfa,
        &json!({"mfaToken": token, "code": "123456"}),
    );
    assert_eq!(bad.code(), "AUTH_MFA_INVALID");
    // The code used to enable is spent: the same step is refused.
    let reused = totp::code_at(&secret, w.now_secs());
    assert_eq!(
        w.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": token, "code": reused})
        )
        .code(),
        "AUTH_MFA_INVALID"
    );
    w.clock.advance_ms(30_000);
    let code = totp::code_at(&secret, w.now_secs());
    let ok = w.call(
        RouteId::AuthLoginMfa,
        &json!({"mfaToken": token, "code": code}),
    );
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(
        claims(ok.data()["tokens"]["accessToken"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );
    let again = w.call(
        RouteId::AuthLoginMfa,
        &json!({"mfaToken": token, "code": code}),
    );
    assert_eq!(again.code(), "AUTH_TOKEN_INVALID");

    // A recovery code works once.
    let t2 = w.login("ma@example.com", PASSWORD).data()["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let upper = codes[0].to_uppercase();
    assert_eq!(
        w.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": t2, "code": upper})
        )
        .status,
        200
    );
    let t3 = w.login("ma@example.com", PASSWORD).data()["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        w.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": t3, "code": codes[0]})
        )
        .code(),
        "AUTH_MFA_INVALID"
    );
    // Disable with another recovery code.
    let off = w.bearer(
        RouteId::AuthTotpDisable,
        &s.access,
        &json!({"code": codes[1]}),
    );
    assert_eq!(off.status, 200, "{off:?}");
    assert_eq!(w.me(&s.access).data()["mfaEnabled"], false);
    assert_eq!(
        w.bearer(
            RouteId::AuthTotpEnable,
            &s.access,
            &json!({"code": "123456"})
        )
        .code(),
        "CONFLICT"
    );
}

#[test]
fn an_mfa_token_expires_after_five_minutes_and_dies_after_five_wrong_codes() {
    let w = World::new();
    let s = w.signup("na@example.com");
    let (secret, _) = w.enable_totp(&s);
    let token = w.login("na@example.com", PASSWORD).data()["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    w.clock.advance_ms(5 * MINUTE);
    let code = totp::code_at(&secret, w.now_secs());
    assert_eq!(
        w.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": token, "code": code})
        )
        .code(),
        "AUTH_TOKEN_INVALID"
    );
    let token = w.login("na@example.com", PASSWORD).data()["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..5 {
        let r = w.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": token, "code": "000000"}),
        );
        assert_eq!(r.code(), "AUTH_MFA_INVALID");
    }
    assert_eq!(
        w.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": token, "code": code})
        )
        .code(),
        "AUTH_TOKEN_INVALID"
    );
}

#[test]
fn second_factor_attempts_per_account_are_bounded_across_mfa_tokens_and_addresses() {
    let mut w = World::new();
    let s = w.signup("ra@example.com");
    let (secret, _) = w.enable_totp(&s);
    // Enabling was one attempt; nine wrong codes spread over fresh
    // mfaTokens and addresses make ten…
    for i in 0..9 {
        w.ip = format!("198.51.100.{}", i + 1);
        let token = w.login("ra@example.com", PASSWORD).data()["mfaToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = w.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": token, "code": "000000"}),
        );
        assert_eq!(r.code(), "AUTH_MFA_INVALID", "attempt {i}");
    }
    // …and the eleventh is refused even with the right code.
    w.ip = "203.0.113.7".into();
    w.clock.advance_ms(30_000);
    let token = w.login("ra@example.com", PASSWORD).data()["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = totp::code_at(&secret, w.now_secs());
    let r = w.call(
        RouteId::AuthLoginMfa,
        &json!({"mfaToken": token, "code": code}),
    );
    assert_eq!((r.status, r.code()), (429, "RATE_LIMITED"));
    w.clock.advance_ms(15 * MINUTE);
    let token = w.login("ra@example.com", PASSWORD).data()["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = totp::code_at(&secret, w.now_secs());
    assert_eq!(
        w.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": token, "code": code})
        )
        .status,
        200
    );
}
