//! The TOTP second factor: setup and enable, the current-password check of
//! enrolment, the two-step login with single-use MFA tokens and codes,
//! recovery codes and disabling, the shape of a code, and the per-account
//! second-factor limit.
use std::collections::HashSet;

use sealpost_e2e::auth::{
    Via, assert_error, assert_mutation, assert_tokens, assert_validation, claims, enable_totp,
    login, login_for_mfa_token, login_with_totp, new_member, refreshed, sealed_bearer_post,
    sealed_call, setup_totp, totp_code, try_login_mfa,
};
use sealpost_e2e::{Reply, Stack, Value, json, unix_now};

use super::{assert_me_refused, assert_refresh_refused, assert_retry_after, me_ok, sorted_keys};

/// A six-digit code that is none of `secret`'s codes around now.
fn wrong_code(secret: &[u8]) -> String {
    let now = unix_now();
    let near: HashSet<String> = (0..5)
        .map(|i| totp_code(secret, (now + i * 30).saturating_sub(60)))
        .collect();
    let mut n: u32 = 123_456;
    loop {
        let code = format!("{n:06}");
        if !near.contains(&code) {
            return code;
        }
        n = (n + 1) % 1_000_000;
    }
}

pub(super) fn totp_setup_and_enable_need_a_right_code_and_give_ten_recovery_codes(stack: &Stack) {
    let session = new_member(stack, "totp-enable");
    let post = |path: &str, body: Value| sealed_bearer_post(stack, path, &session.access, &body);

    // Nothing to enable or disable yet.
    let (reply, inner) = post("/auth/mfa/totp/enable", json!({"code": "123456"}));
    assert_error(&reply, &inner, 409, "CONFLICT");
    let (reply, inner) = post("/auth/mfa/totp/disable", json!({"code": "123456"}));
    assert_error(&reply, &inner, 409, "CONFLICT");

    let (secret_text, uri) = setup_totp(stack, &session);
    let secret = sealpost_e2e::totp::base32_decode(&secret_text)
        .unwrap_or_else(|| panic!("secret is not base32: {secret_text}"));
    assert!(secret.len() >= 16, "a secret of {} bytes", secret.len());
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret_text}")), "{uri}");
    assert!(uri.contains("issuer=Sealpost"), "{uri}");
    let encoded_email = session.email.replace('@', "%40");
    assert!(
        uri.contains(&session.email) || uri.contains(&encoded_email),
        "the account is the e-mail: {uri}"
    );
    // Setting up again before enabling gives a new secret (the pending one is replaced).
    let (secret_text, _) = setup_totp(stack, &session);
    let secret = sealpost_e2e::totp::base32_decode(&secret_text).expect("base32");

    let (reply, inner) = post(
        "/auth/mfa/totp/enable",
        json!({"code": wrong_code(&secret)}),
    );
    assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");
    for body in [json!({"code": ""}), json!({}), json!({"code": 123_456})] {
        let (reply, inner) = post("/auth/mfa/totp/enable", body);
        assert_validation(&reply, &inner, "code");
    }
    assert_eq!(me_ok(stack, &session.access)["mfaEnabled"], false);

    let code = totp_code(&secret, unix_now());
    let (reply, inner) = post("/auth/mfa/totp/enable", json!({"code": code}));
    let data = assert_mutation(&reply, &inner, 200);
    let codes: Vec<&str> = data["recoveryCodes"]
        .as_array()
        .unwrap_or_else(|| panic!("recoveryCodes: {data:#}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(codes.len(), 10, "{data:#}");
    for c in &codes {
        let ok = c.len() == 9
            && c.as_bytes()[4] == b'-'
            && c.bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_alphanumeric());
        assert!(ok, "recovery code {c:?} is not xxxx-xxxx");
    }
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 10, "distinct");

    // Enabled (the enrolling session keeps working).
    let user = me_ok(stack, &session.access);
    assert_eq!(user["mfaEnabled"], true, "{user:#}");
    // Setup or enable again: conflict.
    let (reply, inner) = post("/auth/mfa/totp/setup", json!({}));
    assert_error(&reply, &inner, 409, "CONFLICT");
    let (reply, inner) = post(
        "/auth/mfa/totp/enable",
        json!({"code": totp_code(&secret, unix_now() + 30)}),
    );
    assert_error(&reply, &inner, 409, "CONFLICT");
}

/// docs/api.md, Auth: enrolment needs a recent login or `currentPassword`
/// (a session older than five minutes without it is `REAUTH_REQUIRED`,
/// pinned natively: the live stack's clock cannot be moved). A sent
/// password is always checked; enabling ends every other session.
pub(super) fn totp_enrolment_checks_a_sent_current_password_and_ends_the_other_sessions(
    stack: &Stack,
) {
    let session = new_member(stack, "totp-reauth");
    let other = login(stack, &session.email, &session.password);
    let post = |path: &str, body: Value| sealed_bearer_post(stack, path, &session.access, &body);
    let (reply, inner) = post(
        "/auth/mfa/totp/setup",
        json!({"currentPassword": format!("{}-wrong", session.password)}),
    );
    assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    let (reply, inner) = post("/auth/mfa/totp/setup", json!({"currentPassword": ""}));
    assert_validation(&reply, &inner, "currentPassword");
    let (reply, inner) = post(
        "/auth/mfa/totp/setup",
        json!({"currentPassword": session.password}),
    );
    let data = assert_mutation(&reply, &inner, 200);
    let secret = sealpost_e2e::totp::base32_decode(data["secret"].as_str().unwrap_or(""))
        .unwrap_or_else(|| panic!("no base32 secret: {data:#}"));
    let (reply, inner) = post(
        "/auth/mfa/totp/enable",
        json!({"code": totp_code(&secret, unix_now()), "currentPassword": session.password}),
    );
    let data = assert_mutation(&reply, &inner, 200);
    assert_eq!(
        data["recoveryCodes"].as_array().map(Vec::len),
        Some(10),
        "{data:#}"
    );
    assert_eq!(me_ok(stack, &session.access)["mfaEnabled"], true);
    assert_me_refused(stack, &other.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &other.refresh, 401, "AUTH_TOKEN_REVOKED");
}

pub(super) fn a_totp_account_logs_in_with_a_single_use_mfa_token_and_single_use_codes(
    stack: &Stack,
) {
    let session = new_member(stack, "totp-login");
    let mut totp = enable_totp(stack, &session);
    let mfa_token = login_for_mfa_token(stack, &session.email, &session.password);

    let (reply, inner) = try_login_mfa(stack, &mfa_token, &wrong_code(&totp.secret));
    assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");
    let (reply, inner) = try_login_mfa(stack, "not-an-mfa-token", "123456");
    assert_error(&reply, &inner, 401, "AUTH_TOKEN_INVALID");
    let (reply, inner) = try_login_mfa(stack, &session.refresh, "123456");
    assert_error(&reply, &inner, 401, "AUTH_TOKEN_INVALID");
    let (reply, inner) = sealed_call(
        stack,
        "/auth/login/mfa",
        &json!({"mfaToken": mfa_token}),
        Via::default(),
    );
    assert_validation(&reply, &inner, "code");

    let code = totp.code();
    let (reply, inner) = try_login_mfa(stack, &mfa_token, &code);
    let data = assert_mutation(&reply, &inner, 200);
    assert_eq!(sorted_keys(&data), ["tokens", "user"], "{data:#}");
    assert_tokens(&data["tokens"]);
    assert_eq!(data["user"]["mfaEnabled"], true);
    let access = data["tokens"]["accessToken"].as_str().unwrap_or_default();
    let c = claims(access);
    assert_eq!(c["amr"], json!(["pwd", "otp"]), "{c:#}");
    assert_eq!(c["sub"], session.user["id"]);
    me_ok(stack, access);
    // A refresh keeps the session's amr.
    let mfa_session = session.with_tokens(&data["tokens"]);
    let renewed = refreshed(stack, &mfa_session);
    assert_eq!(renewed.amr(), json!(["pwd", "otp"]));

    // The mfaToken is spent.
    let (reply, inner) = try_login_mfa(stack, &mfa_token, &code);
    assert_error(&reply, &inner, 401, "AUTH_TOKEN_INVALID");
    // The code is spent too, even on a new mfaToken.
    let again = login_for_mfa_token(stack, &session.email, &session.password);
    assert_ne!(again, mfa_token);
    let (reply, inner) = try_login_mfa(stack, &again, &code);
    assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");
    // That failure did not spend the new mfaToken: a recovery code completes it.
    let recovery = totp.recovery_codes[0].clone();
    let (reply, inner) = try_login_mfa(stack, &again, &recovery);
    let data = assert_mutation(&reply, &inner, 200);
    assert_eq!(
        claims(data["tokens"]["accessToken"].as_str().unwrap_or_default())["amr"],
        json!(["pwd", "otp"])
    );
}

pub(super) fn a_recovery_code_works_once_and_disable_turns_totp_off(stack: &Stack) {
    let first = new_member(stack, "totp-disable");
    let totp = enable_totp(stack, &first);
    let recovery = &totp.recovery_codes;

    // Case, spaces and dashes are ignored.
    let token = login_for_mfa_token(stack, &first.email, &first.password);
    let typed = format!(" {} ", recovery[0].replace('-', " ").to_uppercase());
    let session =
        sealpost_e2e::auth::login_mfa(stack, &first.email, &first.password, &token, &typed);
    assert_eq!(session.amr(), json!(["pwd", "otp"]));
    // Used once: refused the second time.
    let token = login_for_mfa_token(stack, &first.email, &first.password);
    let (reply, inner) = try_login_mfa(stack, &token, &recovery[0]);
    assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");

    let disable =
        |body: Value| sealed_bearer_post(stack, "/auth/mfa/totp/disable", &session.access, &body);
    let (reply, inner) = disable(json!({"code": wrong_code(&totp.secret)}));
    assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");
    let (reply, inner) = disable(json!({"code": "zzzz-zzzz"}));
    assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");
    me_ok(stack, &session.access);
    let (reply, inner) = disable(json!({"code": recovery[1]}));
    assert_eq!(
        assert_mutation(&reply, &inner, 200),
        Value::Null,
        "{inner:#}"
    );

    // The second factor changed: older tokens are revoked; the current session
    // refreshes into a password-only one, the others ended.
    assert_me_refused(stack, &session.access, "AUTH_TOKEN_REVOKED");
    let downgraded = refreshed(stack, &session);
    assert_eq!(downgraded.amr(), json!(["pwd"]));
    assert_eq!(me_ok(stack, &downgraded.access)["mfaEnabled"], false);
    assert_me_refused(stack, &first.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &first.refresh, 401, "AUTH_TOKEN_REVOKED");

    // A plain password login again.
    let plain = login(stack, &first.email, &first.password);
    assert_eq!(plain.amr(), json!(["pwd"]));
    assert_eq!(plain.user["mfaEnabled"], false);
    // Disable again, or enable without a new setup: conflict.
    let (reply, inner) = sealed_bearer_post(
        stack,
        "/auth/mfa/totp/disable",
        &plain.access,
        &json!({"code": recovery[2]}),
    );
    assert_error(&reply, &inner, 409, "CONFLICT");
    let (reply, inner) = sealed_bearer_post(
        stack,
        "/auth/mfa/totp/enable",
        &plain.access,
        &json!({"code": totp_code(&totp.secret, unix_now())}),
    );
    assert_error(&reply, &inner, 409, "CONFLICT");
}

pub(super) fn an_mfa_token_is_spent_after_five_wrong_codes(stack: &Stack) {
    let session = new_member(stack, "totp-exhaust");
    let mut totp = enable_totp(stack, &session);
    let token = login_for_mfa_token(stack, &session.email, &session.password);
    let wrong = wrong_code(&totp.secret);
    for _ in 0..5 {
        let (reply, inner) = try_login_mfa(stack, &token, &wrong);
        assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");
    }
    let (reply, inner) = try_login_mfa(stack, &token, &totp.code());
    assert_error(&reply, &inner, 401, "AUTH_TOKEN_INVALID");
    // A new mfaToken is not affected.
    let token = login_for_mfa_token(stack, &session.email, &session.password);
    let (reply, inner) = try_login_mfa(stack, &token, &totp.recovery_codes[0]);
    assert_mutation(&reply, &inner, 200);
}

/// docs/api.md, input rules (400 `VALIDATION_FAILED` with the field):
/// "`code`: six digits (TOTP) or, where accepted, a recovery code
/// `xxxx-xxxx`". A wrong code of the right shape is 401 `AUTH_MFA_INVALID`.
pub(super) fn a_code_neither_six_digits_nor_a_recovery_code_is_validation_failed(stack: &Stack) {
    let session = new_member(stack, "totp-shape");
    let (_, _) = setup_totp(stack, &session);
    // Enable takes six digits only.
    // Few attempts: second-factor attempts are bounded per account (10 in
    // 15 minutes), should shape refusals count.
    for bad in ["12345", "abcd-efgh"] {
        let (reply, inner) = sealed_bearer_post(
            stack,
            "/auth/mfa/totp/enable",
            &session.access,
            &json!({"code": bad}),
        );
        assert_code_refused_as_invalid_input(&reply, &inner, "enable", bad);
    }
    let totp = enable_totp(stack, &session);
    let token = login_for_mfa_token(stack, &session.email, &session.password);
    for bad in ["1234567", "abc-defg-h1"] {
        let (reply, inner) = try_login_mfa(stack, &token, bad);
        assert_code_refused_as_invalid_input(&reply, &inner, "login/mfa", bad);
        let (reply, inner) = sealed_bearer_post(
            stack,
            "/auth/mfa/totp/disable",
            &session.access,
            &json!({"code": bad}),
        );
        assert_code_refused_as_invalid_input(&reply, &inner, "disable", bad);
    }
    // The mfaToken still completes with a right code.
    let (reply, inner) = try_login_mfa(stack, &token, &totp.recovery_codes[0]);
    assert_mutation(&reply, &inner, 200);
}

/// docs/api.md, limits: second-factor attempts per account (login/mfa, TOTP
/// enable/disable), 10 per 15 minutes, then 429 — whatever the address.
pub(super) fn the_eleventh_second_factor_attempt_of_one_account_is_rate_limited(stack: &Stack) {
    let session = new_member(stack, "mfa-per-account");
    let mut totp = enable_totp(stack, &session); // attempt 1
    let wrong = wrong_code(&totp.secret);
    let first = login_for_mfa_token(stack, &session.email, &session.password);
    for _ in 0..5 {
        let (reply, inner) = try_login_mfa(stack, &first, &wrong);
        assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");
    } // attempts 2-6
    let second = login_for_mfa_token(stack, &session.email, &session.password);
    for _ in 0..4 {
        let (reply, inner) = try_login_mfa(stack, &second, &wrong);
        assert_error(&reply, &inner, 401, "AUTH_MFA_INVALID");
    } // attempts 7-10
    // The eleventh, right or not, from yet another address: limited.
    let (reply, inner) = try_login_mfa(stack, &second, &totp.code());
    assert_error(&reply, &inner, 429, "RATE_LIMITED");
    assert_retry_after(&reply, 15 * 60);
    let third = login_for_mfa_token(stack, &session.email, &session.password);
    let (reply, inner) = try_login_mfa(stack, &third, &totp.recovery_codes[0]);
    assert_error(&reply, &inner, 429, "RATE_LIMITED");
    let (reply, inner) = sealed_bearer_post(
        stack,
        "/auth/mfa/totp/disable",
        &session.access,
        &json!({"code": totp.recovery_codes[1]}),
    );
    assert_error(&reply, &inner, 429, "RATE_LIMITED");
    // Another account is not affected.
    let other = new_member(stack, "mfa-per-account-other");
    let mut other_totp = enable_totp(stack, &other);
    login_with_totp(stack, &other.email, &other.password, &mut other_totp);
}

#[track_caller]
fn assert_code_refused_as_invalid_input(reply: &Reply, inner: &Value, route: &str, code: &str) {
    assert_eq!(
        (reply.status, inner["error"]["code"].as_str()),
        (400, Some("VALIDATION_FAILED")),
        "{route} with code {code:?} (not six digits nor a recovery code): {inner:#}"
    );
    assert_validation(reply, inner, "code");
}
