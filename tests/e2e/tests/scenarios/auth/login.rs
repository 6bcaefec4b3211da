//! Login with a password: a new session, one answer for a wrong password
//! and an unknown e-mail, the lockout after five wrong passwords (also under
//! concurrent attempts), and the per-address login limit.
use std::sync::{Barrier, Mutex};
use std::thread;

use sealpost_e2e::auth::{
    Via, assert_error, assert_mutation, assert_tokens, assert_validation, claims, login,
    new_member, sealed_call, sealed_call_any, strong_password, try_login, try_login_via,
    unique_email,
};
use sealpost_e2e::sealed::{envelope, first_key, open};
use sealpost_e2e::{Stack, json, parse_rfc3339_utc, random_hex, unique_ip, unix_now};

use super::{
    admin_user_item, assert_retry_after, assert_user_shape, audit_events, me_ok, sorted_keys,
};

pub(super) fn login_with_the_right_password_opens_a_new_session(stack: &Stack) {
    let first = new_member(stack, "login");
    let (reply, inner) = try_login(stack, &first.email, &first.password);
    let data = assert_mutation(&reply, &inner, 200);
    assert_eq!(sorted_keys(&data), ["tokens", "user"], "{data:#}");
    assert_user_shape(&data["user"]);
    assert_eq!(data["user"], first.user);
    assert_tokens(&data["tokens"]);
    let access = data["tokens"]["accessToken"].as_str().unwrap_or_default();
    let c = claims(access);
    assert_eq!(c["sub"], first.user["id"]);
    assert_eq!(c["amr"], json!(["pwd"]));
    assert_ne!(
        c["sid"],
        json!(first.sid()),
        "a login opens its own session"
    );
    assert_eq!(me_ok(stack, access), first.user);
    // The signup's session lives on.
    me_ok(stack, &first.access);
    // Login validation: the same envelope as every body.
    for (body, field) in [
        (json!({"email": first.email}), "password"),
        (json!({"email": first.email, "password": ""}), "password"),
        (
            json!({"email": first.email, "password": "x".repeat(129)}),
            "password",
        ),
        (
            json!({"email": first.email, "password": first.password, "remember": true}),
            "remember",
        ),
    ] {
        let (reply, inner) = sealed_call(stack, "/auth/login", &body, Via::default());
        assert_validation(&reply, &inner, field);
    }
}

pub(super) fn a_wrong_password_and_an_unknown_email_get_the_same_invalid_credentials_answer(
    stack: &Stack,
) {
    let user = new_member(stack, "creds");
    let (wrong_reply, wrong) = try_login(stack, &user.email, &strong_password());
    assert_error(&wrong_reply, &wrong, 401, "AUTH_INVALID_CREDENTIALS");
    let (unknown_reply, unknown) = try_login(stack, &unique_email("nobody"), &strong_password());
    assert_error(&unknown_reply, &unknown, 401, "AUTH_INVALID_CREDENTIALS");
    assert_eq!(
        wrong, unknown,
        "the inner answers differ between a wrong password and an unknown e-mail"
    );
    assert_eq!(wrong["message"], unknown["message"]);
    assert_eq!(wrong["error"], unknown["error"]);
    // The right password still works (one failure locks nothing).
    login(stack, &user.email, &user.password);
}

pub(super) fn five_wrong_passwords_lock_the_account_with_423_and_retry_after(stack: &Stack) {
    let user = new_member(stack, "lockout");
    for attempt in 1..=5 {
        let (reply, inner) = try_login(
            stack,
            &user.email,
            &format!("wrong-{attempt}-{}", random_hex(4)),
        );
        assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    }
    // The sixth, even with the right password, is refused.
    let (reply, inner) = try_login(stack, &user.email, &user.password);
    assert_error(&reply, &inner, 423, "AUTH_LOCKED");
    let secs = assert_retry_after(&reply, 15 * 60);
    assert!(secs > 60, "locked for 15 minutes, Retry-After {secs}");
    // Still locked for the next one, wrong or right.
    let (reply, inner) = try_login(stack, &user.email, "still wrong");
    assert_error(&reply, &inner, 423, "AUTH_LOCKED");
    assert_retry_after(&reply, 15 * 60);
    // An unknown e-mail locks the same way (no account enumeration).
    let ghost = unique_email("ghost");
    for _ in 0..5 {
        let (reply, inner) = try_login(stack, &ghost, "wrong password");
        assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    }
    let (reply, inner) = try_login(stack, &ghost, "wrong password");
    assert_error(&reply, &inner, 423, "AUTH_LOCKED");
    assert_retry_after(&reply, 15 * 60);
    // The existing session is not affected; the admin table shows the lock.
    me_ok(stack, &user.access);
    let item = admin_user_item(stack, &user.email, &user.user_id());
    let until = item["lockedUntil"]
        .as_str()
        .and_then(parse_rfc3339_utc)
        .unwrap_or_else(|| panic!("no lockedUntil for a locked user: {item:#}"));
    assert!(
        until > i64::try_from(unix_now()).expect("time"),
        "lockedUntil in the past: {item:#}"
    );
}

pub(super) fn fifty_concurrent_wrong_logins_verify_at_most_five_passwords(stack: &Stack) {
    const BURST: usize = 50;
    let user = new_member(stack, "burst");
    let key = first_key(stack);
    let barrier = Barrier::new(BURST);
    let answers: Mutex<Vec<(u16, Option<String>)>> = Mutex::new(Vec::new());
    thread::scope(|s| {
        for i in 0..BURST {
            let (key, barrier, answers, email) = (&key, &barrier, &answers, &user.email);
            s.spawn(move || {
                let now = i64::try_from(unix_now()).expect("time");
                let body = json!({"email": email, "password": format!("wrong-{i}-password")});
                let (env, opener) = envelope(key, "/auth/login", &body, now);
                let call = stack.request("POST", "/auth/login").json(&env);
                barrier.wait();
                let reply = call.send();
                let inner = open(&opener, &reply);
                let code = inner["error"]["code"].as_str().map(str::to_owned);
                answers.lock().expect("answers").push((reply.status, code));
            });
        }
    });
    let answers = answers.into_inner().expect("answers");
    let invalid = answers
        .iter()
        .filter(|(s, c)| *s == 401 && c.as_deref() == Some("AUTH_INVALID_CREDENTIALS"))
        .count();
    let locked = answers
        .iter()
        .filter(|(s, c)| *s == 423 && c.as_deref() == Some("AUTH_LOCKED"))
        .count();
    assert_eq!(
        invalid + locked,
        BURST,
        "every answer is 401 AUTH_INVALID_CREDENTIALS or 423 AUTH_LOCKED: {answers:?}"
    );
    assert!(
        (1..=5).contains(&invalid),
        "{invalid} wrong logins were answered 401 (at most 5 may reach the password check): {answers:?}"
    );
    // The account is locked now, right password or not.
    let (reply, inner) = try_login(stack, &user.email, &user.password);
    assert_error(&reply, &inner, 423, "AUTH_LOCKED");
    // The audit log: no more failures than the limit reached verification.
    let (failures, _) = audit_events(stack, "login.failure", &user.user_id());
    assert!(
        (1..=5).contains(&failures),
        "{failures} login.failure events for one account after a burst of {BURST}"
    );
}

pub(super) fn the_sixty_first_login_from_one_address_within_ten_minutes_is_rate_limited(
    stack: &Stack,
) {
    let ip = unique_ip();
    let user = new_member(stack, "login-limit");
    for i in 0..60 {
        // Different unknown e-mails: no lockout, only the address counts.
        let email = format!("login-limit-{i}-{}@e2e.test", random_hex(3));
        let (reply, inner) = try_login_via(stack, &email, "wrong password", Via::ip(&ip));
        assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    }
    let (reply, inner) = sealed_call_any(
        stack,
        "/auth/login",
        &json!({"email": user.email, "password": user.password}),
        Via::ip(&ip),
    );
    assert_error(&reply, &inner, 429, "RATE_LIMITED");
    assert_retry_after(&reply, 600);
    // From elsewhere the same login works.
    login(stack, &user.email, &user.password);
}
