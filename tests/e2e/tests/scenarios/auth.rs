//! The auth service end to end (API.md "Auth", docs/api.md "Auth (issue 4)"):
//! signup, login, lockout, refresh rotation and reuse, logout, sessions,
//! password change, TOTP, roles and the admin tables, per-IP limits, and no
//! secret in the logs. Sealed routes go through the real envelope; every
//! scenario uses its own accounts and addresses (they run in parallel on one
//! stack). The only account shared is the seeded admin, enrolled once
//! ([`admin_with_mfa`]).
use std::collections::HashSet;
use std::sync::{Barrier, Mutex};
use std::thread;

use sealpost_e2e::auth::{
    ACCESS_TTL_SECS, Session, Via, admin_get, admin_with_mfa, assert_error, assert_mutation,
    assert_tokens, assert_validation, bearer_get, bearer_request, claims, enable_totp, jwt_parts,
    login, login_for_mfa_token, login_via, login_with_totp, me, new_member, refresh, refreshed,
    sealed_bearer_post, sealed_call, sealed_call_any, setup_totp, signup, strong_password,
    totp_code, try_login, try_login_mfa, try_login_via, try_signup, unique_email,
};
use sealpost_e2e::sealed::{envelope, first_key, open};
use sealpost_e2e::{
    ADMIN_EMAIL, Reply, Stack, Value, json, parse_rfc3339_utc, random_hex, unique_ip, unix_now,
};

use super::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = &[
    (
        "signup_returns_the_user_and_tokens_that_work_on_me",
        signup_returns_the_user_and_tokens_that_work_on_me,
    ),
    (
        "signup_normalises_the_email_and_a_case_variant_is_email_taken",
        signup_normalises_the_email_and_a_case_variant_is_email_taken,
    ),
    (
        "signup_refuses_bad_input_with_validation_failed_naming_the_field",
        signup_refuses_bad_input_with_validation_failed_naming_the_field,
    ),
    (
        "an_unsealed_signup_is_seal_required",
        an_unsealed_signup_is_seal_required,
    ),
    (
        "login_with_the_right_password_opens_a_new_session",
        login_with_the_right_password_opens_a_new_session,
    ),
    (
        "a_wrong_password_and_an_unknown_email_get_the_same_invalid_credentials_answer",
        a_wrong_password_and_an_unknown_email_get_the_same_invalid_credentials_answer,
    ),
    (
        "five_wrong_passwords_lock_the_account_with_423_and_retry_after",
        five_wrong_passwords_lock_the_account_with_423_and_retry_after,
    ),
    (
        "fifty_concurrent_wrong_logins_verify_at_most_five_passwords",
        fifty_concurrent_wrong_logins_verify_at_most_five_passwords,
    ),
    (
        "refresh_rotates_the_pair_and_the_previous_token_is_superseded_not_revoked",
        refresh_rotates_the_pair_and_the_previous_token_is_superseded_not_revoked,
    ),
    (
        "a_refresh_token_reused_after_two_rotations_ends_the_session",
        a_refresh_token_reused_after_two_rotations_ends_the_session,
    ),
    (
        "two_concurrent_refreshes_with_one_token_rotate_it_exactly_once",
        two_concurrent_refreshes_with_one_token_rotate_it_exactly_once,
    ),
    (
        "an_unknown_refresh_token_is_token_invalid",
        an_unknown_refresh_token_is_token_invalid,
    ),
    (
        "logout_ends_the_session_with_or_without_a_body",
        logout_ends_the_session_with_or_without_a_body,
    ),
    (
        "bearer_routes_refuse_a_missing_or_bad_token",
        bearer_routes_refuse_a_missing_or_bad_token,
    ),
    (
        "sessions_lists_the_live_sessions_and_delete_revokes_one",
        sessions_lists_the_live_sessions_and_delete_revokes_one,
    ),
    (
        "password_change_checks_the_current_password_and_ends_other_sessions",
        password_change_checks_the_current_password_and_ends_other_sessions,
    ),
    (
        "totp_setup_and_enable_need_a_right_code_and_give_ten_recovery_codes",
        totp_setup_and_enable_need_a_right_code_and_give_ten_recovery_codes,
    ),
    (
        "totp_enrolment_checks_a_sent_current_password_and_ends_the_other_sessions",
        totp_enrolment_checks_a_sent_current_password_and_ends_the_other_sessions,
    ),
    (
        "a_totp_account_logs_in_with_a_single_use_mfa_token_and_single_use_codes",
        a_totp_account_logs_in_with_a_single_use_mfa_token_and_single_use_codes,
    ),
    (
        "a_recovery_code_works_once_and_disable_turns_totp_off",
        a_recovery_code_works_once_and_disable_turns_totp_off,
    ),
    (
        "an_mfa_token_is_spent_after_five_wrong_codes",
        an_mfa_token_is_spent_after_five_wrong_codes,
    ),
    (
        "a_code_neither_six_digits_nor_a_recovery_code_is_validation_failed",
        a_code_neither_six_digits_nor_a_recovery_code_is_validation_failed,
    ),
    (
        "the_eleventh_second_factor_attempt_of_one_account_is_rate_limited",
        the_eleventh_second_factor_attempt_of_one_account_is_rate_limited,
    ),
    (
        "admin_routes_need_the_admin_role_and_a_second_factor",
        admin_routes_need_the_admin_role_and_a_second_factor,
    ),
    (
        "admin_users_is_paged_newest_first_and_searchable",
        admin_users_is_paged_newest_first_and_searchable,
    ),
    (
        "a_role_change_revokes_older_tokens_and_is_audited",
        a_role_change_revokes_older_tokens_and_is_audited,
    ),
    (
        "the_last_admin_cannot_lose_the_admin_role",
        the_last_admin_cannot_lose_the_admin_role,
    ),
    (
        "the_eleventh_signup_from_one_address_within_an_hour_is_rate_limited",
        the_eleventh_signup_from_one_address_within_an_hour_is_rate_limited,
    ),
    (
        "the_sixty_first_login_from_one_address_within_ten_minutes_is_rate_limited",
        the_sixty_first_login_from_one_address_within_ten_minutes_is_rate_limited,
    ),
    (
        "no_password_token_code_or_secret_reaches_the_worker_logs",
        no_password_token_code_or_secret_reaches_the_worker_logs,
    ),
];

// ---------------------------------------------------------------- helpers

const USER_FIELDS: [&str; 6] = [
    "displayName",
    "email",
    "id",
    "locale",
    "mfaEnabled",
    "roles",
];

fn sorted_keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// Asserts `user` is `{id, email, displayName, roles, mfaEnabled, locale}`.
#[track_caller]
fn assert_user_shape(user: &Value) {
    assert_eq!(sorted_keys(user), USER_FIELDS, "user fields: {user:#}");
    assert!(
        user["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{user:#}"
    );
    assert!(user["mfaEnabled"].is_boolean(), "{user:#}");
    assert!(user["roles"].is_array(), "{user:#}");
}

/// `GET /auth/me`: asserts 200 `{"data": user}` and returns the user.
#[track_caller]
fn me_ok(stack: &Stack, token: &str) -> Value {
    let reply = me(stack, token);
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_user_shape(&body["data"]);
    body["data"].clone()
}

/// `GET /auth/me` answers 401 `code`.
#[track_caller]
fn assert_me_refused(stack: &Stack, token: &str, code: &str) {
    me(stack, token).assert_error(401, code);
}

/// Refreshing `token` answers 401 `code`.
#[track_caller]
fn assert_refresh_refused(stack: &Stack, token: &str, status: u16, code: &str) {
    let (reply, inner) = refresh(stack, token);
    assert_error(&reply, &inner, status, code);
}

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

/// `Retry-After` of `reply` as whole seconds in `1..=max`.
#[track_caller]
fn assert_retry_after(reply: &Reply, max: u64) -> u64 {
    let value = reply
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {reply}"));
    let secs: u64 = value
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not whole seconds: {value:?}"));
    assert!(
        (1..=max).contains(&secs),
        "Retry-After {secs} not in 1..={max}"
    );
    secs
}

/// An offset-paged list envelope; returns `data`.
#[track_caller]
fn assert_offset_page(body: &Value, page: u64, page_size: u64) -> Vec<Value> {
    assert_eq!(body["success"], json!(true), "{body:#}");
    let p = &body["pagination"];
    assert_eq!(
        sorted_keys(p),
        ["page", "pageSize", "totalItems", "totalPages"],
        "{body:#}"
    );
    assert_eq!(p["page"], json!(page), "{body:#}");
    assert_eq!(p["pageSize"], json!(page_size), "{body:#}");
    let total = p["totalItems"].as_u64().expect("totalItems");
    assert_eq!(
        p["totalPages"].as_u64(),
        Some(total.div_ceil(page_size)),
        "{body:#}"
    );
    let data = body["data"].as_array().expect("data[]").clone();
    assert!(data.len() as u64 <= page_size, "{body:#}");
    data
}

/// `GET /admin/audit?type=…&userId=…` as the shared admin: the items.
fn audit_events(stack: &Stack, kind: &str, user_id: &str) -> (u64, Vec<Value>) {
    let body = admin_get(
        stack,
        &format!("/admin/audit?type={kind}&userId={user_id}&pageSize=100"),
    );
    let data = assert_offset_page(&body, 1, 100);
    for item in &data {
        assert_eq!(item["type"], kind, "the type filter: {item:#}");
        assert_eq!(item["userId"], user_id, "the userId filter: {item:#}");
    }
    (body["pagination"]["totalItems"].as_u64().unwrap_or(0), data)
}

/// The user item of `GET /admin/users?q=…` for `user_id`.
fn admin_user_item(stack: &Stack, q: &str, user_id: &str) -> Value {
    let body = admin_get(stack, &format!("/admin/users?q={q}"));
    let data = assert_offset_page(&body, 1, 20);
    data.into_iter()
        .find(|u| u["id"] == user_id)
        .unwrap_or_else(|| panic!("user {user_id} not found with q={q}: {body:#}"))
}

/// Asserts `items` are newest first by `createdAt` (whole seconds).
#[track_caller]
fn assert_newest_first(items: &[Value]) {
    let times: Vec<i64> = items
        .iter()
        .map(|u| {
            u["createdAt"]
                .as_str()
                .and_then(parse_rfc3339_utc)
                .unwrap_or_else(|| panic!("createdAt: {u:#}"))
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {times:?}"
    );
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

// -------------------------------------------------------------- scenarios

fn signup_returns_the_user_and_tokens_that_work_on_me(stack: &Stack) {
    let email = unique_email("signup");
    let password = strong_password();
    let before = i64::try_from(unix_now()).expect("time");
    let (reply, inner) = try_signup(stack, &json!({"email": email, "password": password}));
    let data = assert_mutation(&reply, &inner, 201);
    assert_eq!(sorted_keys(&data), ["tokens", "user"], "{data:#}");
    let user = &data["user"];
    assert_user_shape(user);
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["roles"], json!(["member"]));
    assert_eq!(user["mfaEnabled"], json!(false));
    assert_eq!(user["locale"], "en", "the default locale");
    let local = email.split('@').next().unwrap_or_default();
    assert_eq!(user["displayName"], local, "the default display name");
    let tokens = &data["tokens"];
    assert_tokens(tokens);
    assert_eq!(
        sorted_keys(tokens),
        ["accessToken", "expiresIn", "refreshToken"]
    );

    // The access token: an ES256 JWT under a published kid, with the claims.
    let access = tokens["accessToken"].as_str().unwrap_or_default();
    let (header, payload) = jwt_parts(access);
    assert_eq!(header["alg"], "ES256", "{header}");
    let jwks_reply = stack.get("/auth/jwks");
    assert_eq!(jwks_reply.status, 200, "{jwks_reply}");
    let jwks = jwks_reply.json()["data"].clone();
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .expect("keys[]")
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(
        header["kid"].is_string() && kids.contains(&&header["kid"]),
        "kid {} not in the JWKS {jwks}",
        header["kid"]
    );
    assert_eq!(payload["sub"], user["id"], "{payload:#}");
    for claim in ["sid", "jti"] {
        assert!(
            payload[claim].as_str().is_some_and(|s| !s.is_empty()),
            "{claim}: {payload:#}"
        );
    }
    assert_eq!(payload["roles"], json!(["member"]), "{payload:#}");
    assert_eq!(payload["amr"], json!(["pwd"]), "{payload:#}");
    let (iat, exp) = (
        payload["iat"].as_i64().expect("iat"),
        payload["exp"].as_i64().expect("exp"),
    );
    assert_eq!(exp - iat, ACCESS_TTL_SECS, "{payload:#}");
    assert!(
        (before - 5..=before + 65).contains(&iat),
        "iat {iat} is not now ({before})"
    );
    // The guard every worker uses accepts it with the published keys.
    let verifier = sealpost_guard::Verifier::from_jwks(&jwks).expect("the JWKS loads");
    let verified = verifier
        .verify(access, i64::try_from(unix_now()).expect("time"))
        .unwrap_or_else(|e| panic!("the guard refuses the token: {e:?}"));
    assert_eq!(json!(verified.sub), user["id"]);

    // It works on /auth/me, which answers the same user.
    assert_eq!(me_ok(stack, access), *user);

    // Display name and locale when given: trimmed, and `vi`.
    let (reply, inner) = try_signup(
        stack,
        &json!({
            "email": unique_email("signup-vi"),
            "password": strong_password(),
            "displayName": "  Ada Lovelace  ",
            "locale": "vi",
        }),
    );
    let data = assert_mutation(&reply, &inner, 201);
    assert_eq!(data["user"]["displayName"], "Ada Lovelace", "{data:#}");
    assert_eq!(data["user"]["locale"], "vi", "{data:#}");
    // Another account, another session and token.
    let other = claims(data["tokens"]["accessToken"].as_str().unwrap_or_default());
    assert_ne!(other["sid"], payload["sid"]);
    assert_ne!(other["jti"], payload["jti"]);
    assert_ne!(data["user"]["id"], user["id"]);
}

fn signup_normalises_the_email_and_a_case_variant_is_email_taken(stack: &Stack) {
    let tag = random_hex(4);
    let password = strong_password();
    let (reply, inner) = try_signup(
        stack,
        &json!({"email": format!(" Foo-{tag}@Example.COM "), "password": password}),
    );
    let data = assert_mutation(&reply, &inner, 201);
    let normal = format!("foo-{tag}@example.com");
    assert_eq!(data["user"]["email"], normal.as_str(), "{data:#}");

    let (reply, inner) = try_signup(
        stack,
        &json!({"email": format!("FOO-{tag}@example.Com"), "password": strong_password()}),
    );
    assert_error(&reply, &inner, 409, "EMAIL_TAKEN");

    // Login normalises the same way.
    let session = login(stack, &format!("  FOO-{tag}@EXAMPLE.com"), &password);
    assert_eq!(session.user["email"], normal.as_str());
    assert_eq!(session.user["id"], data["user"]["id"]);
}

fn signup_refuses_bad_input_with_validation_failed_naming_the_field(stack: &Stack) {
    let email = unique_email("validation");
    let local = email.split('@').next().unwrap_or_default().to_owned();
    let pw = strong_password();
    let cases = [
        (json!({"email": "not-an-email", "password": pw}), "email"),
        (json!({"email": "a@localhost", "password": pw}), "email"),
        (json!({"email": "a b@e2e.test", "password": pw}), "email"),
        (json!({"email": "a@@e2e.test", "password": pw}), "email"),
        (
            json!({"email": format!("{}@e2e.test", "x".repeat(65)), "password": pw}),
            "email",
        ),
        (json!({"password": pw}), "email"),
        (json!({"email": 42, "password": pw}), "email"),
        (json!({"email": email}), "password"),
        (json!({"email": email, "password": "Sh0rt!x"}), "password"),
        (
            json!({"email": email, "password": "x".repeat(129)}),
            "password",
        ),
        (json!({"email": email, "password": "password1"}), "password"),
        (json!({"email": email, "password": "Iloveyou"}), "password"),
        (json!({"email": email, "password": email}), "password"),
        (json!({"email": email, "password": local}), "password"),
        (
            json!({"email": email, "password": pw, "isAdmin": true}),
            "isAdmin",
        ),
        (
            json!({"email": email, "password": pw, "displayName": "x".repeat(81)}),
            "displayName",
        ),
        (
            json!({"email": email, "password": pw, "displayName": "   "}),
            "displayName",
        ),
        (
            json!({"email": email, "password": pw, "displayName": "a\u{7}b"}),
            "displayName",
        ),
        (
            json!({"email": email, "password": pw, "locale": "fr"}),
            "locale",
        ),
    ];
    for (body, field) in &cases {
        let (reply, inner) = try_signup(stack, body);
        assert_validation(&reply, &inner, field);
    }
    // None of them made the account: it can still sign up.
    let session = signup(stack, &email, &pw);
    assert_eq!(session.user["email"], email.as_str());
    // Exactly 80 characters of display name pass.
    let (reply, inner) = try_signup(
        stack,
        &json!({"email": unique_email("validation80"), "password": pw, "displayName": "é".repeat(80)}),
    );
    assert_mutation(&reply, &inner, 201);
}

fn an_unsealed_signup_is_seal_required(stack: &Stack) {
    let email = unique_email("plain");
    let reply = stack
        .request("POST", "/auth/signup")
        .json(&json!({"email": email, "password": strong_password()}))
        .send();
    reply.assert_error(400, "SEAL_REQUIRED");
    // Nothing was created: the address is still free.
    signup(stack, &email, &strong_password());
}

fn login_with_the_right_password_opens_a_new_session(stack: &Stack) {
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

fn a_wrong_password_and_an_unknown_email_get_the_same_invalid_credentials_answer(stack: &Stack) {
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

fn five_wrong_passwords_lock_the_account_with_423_and_retry_after(stack: &Stack) {
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

fn fifty_concurrent_wrong_logins_verify_at_most_five_passwords(stack: &Stack) {
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

fn refresh_rotates_the_pair_and_the_previous_token_is_superseded_not_revoked(stack: &Stack) {
    let s0 = new_member(stack, "refresh");
    let (reply, inner) = refresh(stack, &s0.refresh);
    let data = assert_mutation(&reply, &inner, 200);
    assert_eq!(sorted_keys(&data), ["tokens"], "{data:#}");
    assert_tokens(&data["tokens"]);
    let s1 = s0.with_tokens(&data["tokens"]);
    assert_ne!(s1.refresh, s0.refresh, "the refresh token rotates");
    assert_ne!(s1.access, s0.access);
    let (c0, c1) = (claims(&s0.access), claims(&s1.access));
    assert_eq!(c1["sid"], c0["sid"], "the same session");
    assert_ne!(c1["jti"], c0["jti"]);
    assert_eq!(c1["sub"], c0["sub"]);
    assert_eq!(c1["roles"], json!(["member"]));
    assert_eq!(c1["amr"], json!(["pwd"]));
    assert_eq!(
        c1["exp"].as_i64().unwrap_or(0) - c1["iat"].as_i64().unwrap_or(0),
        ACCESS_TTL_SECS
    );
    me_ok(stack, &s1.access);

    // The previous token again, at once (a retry, another tab): superseded.
    assert_refresh_refused(stack, &s0.refresh, 409, "AUTH_REFRESH_SUPERSEDED");
    // Nothing was revoked: the newest token and the session still work.
    me_ok(stack, &s1.access);
    let s2 = refreshed(stack, &s1);
    me_ok(stack, &s2.access);
    // And the just-rotated one is superseded in turn.
    assert_refresh_refused(stack, &s1.refresh, 409, "AUTH_REFRESH_SUPERSEDED");
    refreshed(stack, &s2);
}

fn a_refresh_token_reused_after_two_rotations_ends_the_session(stack: &Stack) {
    let t0 = new_member(stack, "reuse");
    let other = login(stack, &t0.email, &t0.password);
    let t1 = refreshed(stack, &t0);
    let t2 = refreshed(stack, &t1);
    me_ok(stack, &t2.access);
    // T0 is two rotations old: theft is assumed, the session ends.
    assert_refresh_refused(stack, &t0.refresh, 401, "AUTH_REFRESH_REUSED");
    assert_refresh_refused(stack, &t2.refresh, 401, "AUTH_TOKEN_REVOKED");
    assert_me_refused(stack, &t2.access, "AUTH_TOKEN_REVOKED");
    assert_me_refused(stack, &t0.access, "AUTH_TOKEN_REVOKED");
    // Only that session: the account's other session lives on.
    me_ok(stack, &other.access);
    refreshed(stack, &other);
    // The event is audited.
    let (events, items) = audit_events(stack, "refresh.reuse", &t0.user_id());
    assert!(events >= 1, "no refresh.reuse event: {items:?}");
}

fn two_concurrent_refreshes_with_one_token_rotate_it_exactly_once(stack: &Stack) {
    for round in 1..=3 {
        let session = new_member(stack, "race");
        let key = first_key(stack);
        let barrier = Barrier::new(2);
        let answers: Mutex<Vec<(u16, Value)>> = Mutex::new(Vec::new());
        thread::scope(|s| {
            for _ in 0..2 {
                let (key, barrier, answers, token) = (&key, &barrier, &answers, &session.refresh);
                s.spawn(move || {
                    let now = i64::try_from(unix_now()).expect("time");
                    let body = json!({"refreshToken": token});
                    let (env, opener) = envelope(key, "/auth/refresh", &body, now);
                    let call = stack.request("POST", "/auth/refresh").json(&env);
                    barrier.wait();
                    let reply = call.send();
                    let inner = open(&opener, &reply);
                    answers.lock().expect("answers").push((reply.status, inner));
                });
            }
        });
        let mut answers = answers.into_inner().expect("answers");
        answers.sort_by_key(|(s, _)| *s);
        let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
        assert_eq!(statuses, [200, 409], "round {round}: {answers:#?}");
        assert_eq!(
            answers[1].1["error"]["code"], "AUTH_REFRESH_SUPERSEDED",
            "round {round}: {answers:#?}"
        );
        // The winner's pair works; the session was not revoked.
        let winner = session.with_tokens(&answers[0].1["data"]["tokens"]);
        me_ok(stack, &winner.access);
        refreshed(stack, &winner);
    }
}

fn an_unknown_refresh_token_is_token_invalid(stack: &Stack) {
    assert_refresh_refused(
        stack,
        &sealpost_seal::b64(&sealpost_e2e::random_bytes(32)),
        401,
        "AUTH_TOKEN_INVALID",
    );
    assert_refresh_refused(stack, "not-a-token", 401, "AUTH_TOKEN_INVALID");
    let session = new_member(stack, "unknown-refresh");
    for (body, field) in [
        (json!({}), "refreshToken"),
        (json!({"refreshToken": 7}), "refreshToken"),
        (
            json!({"refreshToken": session.refresh, "extra": 1}),
            "extra",
        ),
    ] {
        let (reply, inner) = sealed_call(stack, "/auth/refresh", &body, Via::default());
        assert_validation(&reply, &inner, field);
    }
    // Refusals spent nothing: the real token still rotates.
    refreshed(stack, &session);
}

fn logout_ends_the_session_with_or_without_a_body(stack: &Stack) {
    let a = new_member(stack, "logout");
    let b = login(stack, &a.email, &a.password);

    let reply = bearer_request(stack, "POST", "/auth/logout", &a.access)
        .json(&json!({}))
        .send();
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(assert_mutation(&reply, &body, 200), Value::Null, "{body:#}");
    assert_me_refused(stack, &a.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &a.refresh, 401, "AUTH_TOKEN_REVOKED");
    // The account's other session is not ended.
    me_ok(stack, &b.access);

    // No body at all.
    let reply = bearer_request(stack, "POST", "/auth/logout", &b.access).send();
    let body = reply.json();
    assert_eq!(assert_mutation(&reply, &body, 200), Value::Null, "{body:#}");
    assert_me_refused(stack, &b.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &b.refresh, 401, "AUTH_TOKEN_REVOKED");
    // Logging out again with the ended session's token.
    bearer_request(stack, "POST", "/auth/logout", &b.access)
        .send()
        .assert_error(401, "AUTH_TOKEN_REVOKED");
    // The password still logs in.
    login(stack, &a.email, &a.password);
}

fn bearer_routes_refuse_a_missing_or_bad_token(stack: &Stack) {
    let session = new_member(stack, "bearer");
    for (method, path) in [
        ("GET", "/auth/me"),
        ("GET", "/auth/sessions"),
        ("POST", "/auth/logout"),
    ] {
        stack
            .request(method, path)
            .send()
            .assert_error(401, "AUTH_REQUIRED");
        stack
            .request(method, path)
            .header("Authorization", &format!("Basic {}", session.access))
            .send()
            .assert_error(401, "AUTH_REQUIRED");
        bearer_request(stack, method, path, "garbage")
            .send()
            .assert_error(401, "AUTH_TOKEN_INVALID");
    }
    // A forged payload (roles admin) under the genuine signature.
    let parts: Vec<&str> = session.access.split('.').collect();
    let mut payload = claims(&session.access);
    payload["roles"] = json!(["admin"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        sealpost_seal::b64(payload.to_string().as_bytes()),
        parts[2]
    );
    assert_me_refused(stack, &forged, "AUTH_TOKEN_INVALID");
    // alg none.
    let none = format!(
        "{}.{}.",
        sealpost_seal::b64(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    assert_me_refused(stack, &none, "AUTH_TOKEN_INVALID");
    // A refresh token is not an access token.
    assert_me_refused(stack, &session.refresh, "AUTH_TOKEN_INVALID");
    // The genuine token still works; sealed bearer routes want one too.
    me_ok(stack, &session.access);
    let (reply, inner) = sealed_call_any(
        stack,
        "/auth/password",
        &json!({"currentPassword": session.password, "newPassword": strong_password()}),
        Via::default(),
    );
    assert_error(&reply, &inner, 401, "AUTH_REQUIRED");
    let (reply, inner) = sealed_call_any(
        stack,
        "/auth/mfa/totp/setup",
        &json!({}),
        Via::bearer("garbage"),
    );
    assert_error(&reply, &inner, 401, "AUTH_TOKEN_INVALID");
}

fn sessions_lists_the_live_sessions_and_delete_revokes_one(stack: &Stack) {
    let tag = random_hex(4);
    let (ua_a, ua_b) = (format!("e2e-agent-A-{tag}"), format!("e2e-agent-B-{tag}"));
    let first = new_member(stack, "sessions");
    let a = login_via(
        stack,
        &first.email,
        &first.password,
        Via {
            user_agent: Some(&ua_a),
            ..Via::default()
        },
    );
    let b = login_via(
        stack,
        &first.email,
        &first.password,
        Via {
            user_agent: Some(&ua_b),
            ..Via::default()
        },
    );
    let list = |token: &str| -> Vec<Value> {
        let reply = bearer_get(stack, "/auth/sessions", token);
        assert_eq!(reply.status, 200, "{reply}");
        let body = reply.json();
        body["data"]
            .as_array()
            .unwrap_or_else(|| panic!("data[]: {body:#}"))
            .clone()
    };
    let sessions = list(&b.access);
    assert_eq!(sessions.len(), 3, "signup + two logins: {sessions:#?}");
    for s in &sessions {
        assert_eq!(
            sorted_keys(s),
            ["createdAt", "current", "id", "lastUsedAt", "userAgent"],
            "{s:#}"
        );
        for t in ["createdAt", "lastUsedAt"] {
            assert!(
                s[t].as_str().and_then(parse_rfc3339_utc).is_some(),
                "{t}: {s:#}"
            );
        }
    }
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "exactly one current: {sessions:#?}");
    assert_eq!(current[0]["id"], b.sid(), "{sessions:#?}");
    assert_eq!(current[0]["userAgent"], ua_b.as_str(), "{sessions:#?}");
    let of_a = sessions
        .iter()
        .find(|s| s["id"] == a.sid())
        .unwrap_or_else(|| panic!("session of login A missing: {sessions:#?}"));
    assert_eq!(of_a["userAgent"], ua_a.as_str());
    assert_eq!(of_a["current"], false);
    assert!(sessions.iter().any(|s| s["id"] == first.sid()));
    // Seen from A, A is the current one.
    let from_a = list(&a.access);
    let current_a: Vec<&Value> = from_a.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current_a.len(), 1);
    assert_eq!(current_a[0]["id"], a.sid());

    // B revokes A.
    let reply = bearer_request(
        stack,
        "DELETE",
        &format!("/auth/sessions/{}", a.sid()),
        &b.access,
    )
    .send();
    let body = reply.json();
    assert_eq!(assert_mutation(&reply, &body, 200), Value::Null, "{body:#}");
    assert_me_refused(stack, &a.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &a.refresh, 401, "AUTH_TOKEN_REVOKED");
    me_ok(stack, &b.access);
    let left = list(&b.access);
    assert_eq!(left.len(), 2, "{left:#?}");
    assert!(left.iter().all(|s| s["id"] != a.sid()), "{left:#?}");

    // A session that is not the caller's live one: 404.
    let stranger = new_member(stack, "sessions-stranger");
    for id in [a.sid(), "no-such-session".to_owned(), stranger.sid()] {
        bearer_request(stack, "DELETE", &format!("/auth/sessions/{id}"), &b.access)
            .send()
            .assert_error(404, "NOT_FOUND");
    }
    // The stranger's session was not touched.
    me_ok(stack, &stranger.access);
}

fn password_change_checks_the_current_password_and_ends_other_sessions(stack: &Stack) {
    let current = new_member(stack, "password");
    let other = login(stack, &current.email, &current.password);
    let new_password = strong_password();
    let change = |body: Value| sealed_bearer_post(stack, "/auth/password", &current.access, &body);

    let (reply, inner) =
        change(json!({"currentPassword": "not-my-password", "newPassword": new_password}));
    assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    for (body, field) in [
        (
            json!({"currentPassword": current.password, "newPassword": "password1"}),
            "newPassword",
        ),
        (
            json!({"currentPassword": current.password, "newPassword": "Sh0rt!x"}),
            "newPassword",
        ),
        (
            json!({"currentPassword": current.password, "newPassword": current.email}),
            "newPassword",
        ),
        (
            json!({"currentPassword": current.password, "newPassword": current.password}),
            "newPassword",
        ),
        (json!({"currentPassword": current.password}), "newPassword"),
        (
            json!({"currentPassword": current.password, "newPassword": new_password, "x": 1}),
            "x",
        ),
    ] {
        let (reply, inner) = change(body);
        assert_validation(&reply, &inner, field);
    }
    // Nothing changed so far.
    me_ok(stack, &other.access);

    let (reply, inner) =
        change(json!({"currentPassword": current.password, "newPassword": new_password}));
    assert_eq!(
        assert_mutation(&reply, &inner, 200),
        Value::Null,
        "{inner:#}"
    );
    // Every other session ends; this one lives.
    assert_me_refused(stack, &other.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &other.refresh, 401, "AUTH_TOKEN_REVOKED");
    me_ok(stack, &current.access);
    let renewed = refreshed(stack, &current);
    me_ok(stack, &renewed.access);
    // The old password no longer logs in; the new one does.
    let (reply, inner) = try_login(stack, &current.email, &current.password);
    assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    login(stack, &current.email, &new_password);
}

fn totp_setup_and_enable_need_a_right_code_and_give_ten_recovery_codes(stack: &Stack) {
    let session = new_member(stack, "totp-enable");
    let post = |path: &str, body: Value| sealed_bearer_post(stack, path, &session.access, &body);

    // Nothing to enable or disable yet.
    let (reply, inner) = post("/auth/mfa/totp/enable", json!({"code": "123456"}));
    assert_error(&reply, &inner, 409, "CONFLICT");
    let (reply, inner) = post("/auth/mfa/totp/disable", json!({"code": "123456"}));
    assert_error(&reply, &inner, 409, "CONFLICT");

    let (secret_text, uri) = setup_totp(stack, &session);
    let secret = sealpost_auth_core::totp::base32_decode(&secret_text)
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
    let secret = sealpost_auth_core::totp::base32_decode(&secret_text).expect("base32");

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
fn totp_enrolment_checks_a_sent_current_password_and_ends_the_other_sessions(stack: &Stack) {
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
    let secret = sealpost_auth_core::totp::base32_decode(data["secret"].as_str().unwrap_or(""))
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

fn a_totp_account_logs_in_with_a_single_use_mfa_token_and_single_use_codes(stack: &Stack) {
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

fn a_recovery_code_works_once_and_disable_turns_totp_off(stack: &Stack) {
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

fn an_mfa_token_is_spent_after_five_wrong_codes(stack: &Stack) {
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
fn a_code_neither_six_digits_nor_a_recovery_code_is_validation_failed(stack: &Stack) {
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
fn the_eleventh_second_factor_attempt_of_one_account_is_rate_limited(stack: &Stack) {
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

fn admin_routes_need_the_admin_role_and_a_second_factor(stack: &Stack) {
    let member = new_member(stack, "not-staff");
    let routes = ["/admin/users", "/admin/audit"];
    for path in routes {
        stack.get(path).assert_error(401, "AUTH_REQUIRED");
        bearer_get(stack, path, &member.access).assert_error(403, "FORBIDDEN");
    }
    bearer_request(
        stack,
        "PUT",
        &format!("/admin/users/{}/roles", member.user_id()),
        &member.access,
    )
    .json(&json!({"roles": ["admin"]}))
    .send()
    .assert_error(403, "FORBIDDEN");
    // A second factor alone is not the role.
    let mut totp = enable_totp(stack, &member);
    let with_otp = login_with_totp(stack, &member.email, &member.password, &mut totp);
    for path in routes {
        bearer_get(stack, path, &with_otp.access).assert_error(403, "FORBIDDEN");
    }
    assert_eq!(me_ok(stack, &with_otp.access)["roles"], json!(["member"]));

    // The seeded admin with its password only was refused; with TOTP it is in.
    let admin = admin_with_mfa(stack);
    let pwd_only = admin
        .pwd_only
        .as_ref()
        .expect("the password-only view is recorded when the admin enrols");
    assert_eq!(pwd_only.amr, json!(["pwd"]));
    assert_eq!(
        (pwd_only.status, pwd_only.code.as_deref()),
        (403, Some("FORBIDDEN")),
        "GET /admin/users as the seeded admin with amr [\"pwd\"]"
    );
    assert_eq!(admin.session.amr(), json!(["pwd", "otp"]));
    for path in routes {
        let reply = bearer_get(stack, path, &admin.session.access);
        assert_eq!(reply.status, 200, "{path}: {reply}");
        assert_offset_page(&reply.json(), 1, 20);
    }
}

fn admin_users_is_paged_newest_first_and_searchable(stack: &Stack) {
    let tag = random_hex(5);
    let older = signup(
        stack,
        &format!("paging-{tag}-a@e2e.test"),
        &strong_password(),
    );
    let word = format!("Zyx{}", random_hex(3));
    let (reply, inner) = try_signup(
        stack,
        &json!({
            "email": format!("paging-{tag}-b@e2e.test"),
            "password": strong_password(),
            "displayName": format!("Dr {word} Smith"),
        }),
    );
    let newer = assert_mutation(&reply, &inner, 201)["user"].clone();

    // The whole table: the envelope, item shape.
    let body = admin_get(stack, "/admin/users");
    let all = assert_offset_page(&body, 1, 20);
    assert!(body["pagination"]["totalItems"].as_u64().unwrap_or(0) >= 3);
    for item in &all {
        let mut want: Vec<&str> = USER_FIELDS.to_vec();
        want.extend(["createdAt", "lockedUntil"]);
        want.sort_unstable();
        assert_eq!(sorted_keys(item), want, "{item:#}");
        assert!(
            item["createdAt"]
                .as_str()
                .and_then(parse_rfc3339_utc)
                .is_some(),
            "{item:#}"
        );
    }
    assert_newest_first(&all);
    // Search by part of the e-mail, case-insensitively, newest first
    // (`createdAt` has whole seconds: two accounts of one second may come
    // in either order).
    let both: HashSet<&Value> = [&newer["id"], &older.user["id"]].into_iter().collect();
    for q in [tag.clone(), tag.to_uppercase(), format!("paging-{tag}")] {
        let body = admin_get(stack, &format!("/admin/users?q={q}"));
        let found = assert_offset_page(&body, 1, 20);
        let ids: HashSet<&Value> = found.iter().map(|u| &u["id"]).collect();
        assert_eq!(ids, both, "q={q}: {body:#}");
        assert_eq!(body["pagination"]["totalItems"], 2, "q={q}: {body:#}");
        assert_newest_first(&found);
        for item in &found {
            assert_eq!(item["lockedUntil"], Value::Null, "{item:#}");
        }
        let old = found
            .iter()
            .find(|u| u["id"] == older.user["id"])
            .expect("found");
        assert_eq!(old["email"], older.email.as_str());
        assert_eq!(old["roles"], json!(["member"]));
    }
    // By display name.
    let body = admin_get(stack, &format!("/admin/users?q={}", word.to_lowercase()));
    let found = assert_offset_page(&body, 1, 20);
    assert_eq!(found.len(), 1, "{body:#}");
    assert_eq!(found[0]["id"], newer["id"]);
    // Paging: one per page, two pages, together both.
    let mut paged = HashSet::new();
    for page in 1..=2 {
        let body = admin_get(
            stack,
            &format!("/admin/users?q={tag}&pageSize=1&page={page}"),
        );
        let items = assert_offset_page(&body, page, 1);
        assert_eq!(items.len(), 1, "{body:#}");
        assert_eq!(body["pagination"]["totalPages"], 2, "{body:#}");
        paged.insert(items[0]["id"].clone());
    }
    assert_eq!(paged.iter().collect::<HashSet<_>>(), both);
    let body = admin_get(stack, &format!("/admin/users?q={tag}&page=3&pageSize=1"));
    assert!(assert_offset_page(&body, 3, 1).is_empty(), "{body:#}");
    // Out of range: validation errors naming the parameter.
    let admin = admin_with_mfa(stack);
    for (query, field) in [
        ("pageSize=0", "pageSize"),
        ("pageSize=101", "pageSize"),
        ("page=0", "page"),
        ("pageSize=abc", "pageSize"),
    ] {
        for path in ["/admin/users", "/admin/audit"] {
            let reply = bearer_get(stack, &format!("{path}?{query}"), &admin.session.access);
            let body = reply.json();
            assert_validation(&reply, &body, field);
        }
    }
    let reply = bearer_get(
        stack,
        &format!("/admin/users?q={}", "a".repeat(101)),
        &admin.session.access,
    );
    let body = reply.json();
    assert_validation(&reply, &body, "q");
    let body = admin_get(stack, "/admin/users?pageSize=100");
    assert_offset_page(&body, 1, 100);
}

fn a_role_change_revokes_older_tokens_and_is_audited(stack: &Stack) {
    let admin = admin_with_mfa(stack);
    let user = new_member(stack, "roles");
    let ip = unique_ip();
    let put = |id: &str, body: Value| -> Reply {
        bearer_request(
            stack,
            "PUT",
            &format!("/admin/users/{id}/roles"),
            &admin.session.access,
        )
        .client_ip(&ip)
        .json(&body)
        .send()
    };

    for (body, field) in [
        (json!({"roles": ["superuser"]}), "roles"),
        (json!({"roles": []}), "roles"),
        (json!({"roles": ["editor", "editor"]}), "roles"),
        (
            json!({"roles": ["admin", "editor", "member", "admin"]}),
            "roles",
        ),
        (json!({"roles": "editor"}), "roles"),
        (json!({}), "roles"),
        (json!({"roles": ["editor"], "why": "x"}), "why"),
    ] {
        let reply = put(&user.user_id(), body.clone());
        let inner = reply.json();
        assert_eq!(reply.status, 400, "{body} → {reply}");
        assert_eq!(
            inner["error"]["code"], "VALIDATION_FAILED",
            "{body} → {inner:#}"
        );
        let errors = inner["errors"].as_array().cloned().unwrap_or_default();
        assert!(
            errors.iter().any(|e| e["field"]
                .as_str()
                .is_some_and(|f| f == field || f.starts_with(&format!("{field}[")))),
            "{body}: no error for {field}: {inner:#}"
        );
    }
    put("no-such-user", json!({"roles": ["editor"]})).assert_error(404, "NOT_FOUND");
    // Refusals changed nothing.
    me_ok(stack, &user.access);

    let reply = put(&user.user_id(), json!({"roles": ["editor"]}));
    let body = reply.json();
    let item = assert_mutation(&reply, &body, 200);
    assert_eq!(item["id"], user.user["id"], "{item:#}");
    assert_eq!(item["roles"], json!(["editor"]), "{item:#}");
    assert_eq!(item["email"], user.email.as_str());
    let request_id = reply.header("x-request-id").unwrap_or_default().to_owned();

    // Older tokens are revoked; a refresh carries the new roles.
    assert_me_refused(stack, &user.access, "AUTH_TOKEN_REVOKED");
    let renewed = refreshed(stack, &user);
    assert_eq!(claims(&renewed.access)["roles"], json!(["editor"]));
    assert_eq!(me_ok(stack, &renewed.access)["roles"], json!(["editor"]));
    // An editor is not an admin.
    bearer_get(stack, "/admin/users", &renewed.access).assert_error(403, "FORBIDDEN");
    // New logins carry them too.
    assert_eq!(
        claims(&login(stack, &user.email, &user.password).access)["roles"],
        json!(["editor"])
    );

    // The audit log has it, with the request id and a keyed hash of the address.
    let (total, events) = audit_events(stack, "roles.changed", &user.user_id());
    assert_eq!(total, 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(
        sorted_keys(event),
        [
            "actorId",
            "at",
            "detail",
            "id",
            "ipHash",
            "requestId",
            "type",
            "userAgent",
            "userId"
        ],
        "{event:#}"
    );
    assert_eq!(event["actorId"], admin.session.user["id"], "{event:#}");
    assert_eq!(event["requestId"], request_id.as_str(), "{event:#}");
    let ip_hash = event["ipHash"].as_str().unwrap_or_default();
    assert!(
        is_hex(ip_hash, 32),
        "ipHash {ip_hash:?} is not 32 hex characters"
    );
    assert!(
        event["at"].as_str().and_then(parse_rfc3339_utc).is_some(),
        "{event:#}"
    );
    let text = event.to_string();
    for (what, secret) in [
        ("the client address", ip.as_str()),
        ("the admin's access token", admin.session.access.as_str()),
        ("the admin's refresh token", admin.session.refresh.as_str()),
        ("the admin's password", stack.admin_password()),
        ("the user's password", user.password.as_str()),
        ("the user's access token", user.access.as_str()),
        ("the user's refresh token", user.refresh.as_str()),
        ("a password hash", "$argon2"),
    ] {
        assert!(!text.contains(secret), "{what} is in the audit event");
    }
}

fn the_last_admin_cannot_lose_the_admin_role(stack: &Stack) {
    let admin = admin_with_mfa(stack);
    let id = admin.session.user_id();
    let reply = bearer_request(
        stack,
        "PUT",
        &format!("/admin/users/{id}/roles"),
        &admin.session.access,
    )
    .json(&json!({"roles": ["member"]}))
    .send();
    reply.assert_error(409, "CONFLICT");
    // Still the admin, and its token still works.
    assert!(
        me_ok(stack, &admin.session.access)["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("admin")))
    );
    let item = admin_user_item(stack, ADMIN_EMAIL, &id);
    assert!(
        item["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("admin"))),
        "{item:#}"
    );
}

fn the_eleventh_signup_from_one_address_within_an_hour_is_rate_limited(stack: &Stack) {
    let ip = unique_ip();
    for _ in 0..10 {
        let (reply, inner) = sealed_call(
            stack,
            "/auth/signup",
            &json!({"email": unique_email("ratelimit"), "password": strong_password()}),
            Via::ip(&ip),
        );
        assert_mutation(&reply, &inner, 201);
    }
    let email = unique_email("ratelimit-11");
    let (reply, inner) = sealed_call_any(
        stack,
        "/auth/signup",
        &json!({"email": email, "password": strong_password()}),
        Via::ip(&ip),
    );
    assert_error(&reply, &inner, 429, "RATE_LIMITED");
    assert_retry_after(&reply, 3600);
    // Another address is not limited, and the refused signup made nothing.
    signup(stack, &email, &strong_password());
}

fn the_sixty_first_login_from_one_address_within_ten_minutes_is_rate_limited(stack: &Stack) {
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

/// Whether `needle` occurs in `hay` as a whole token (not inside a longer
/// run of letters and digits) — for short secrets such as six-digit codes.
fn contains_token(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

fn no_password_token_code_or_secret_reaches_the_worker_logs(stack: &Stack) {
    let mut secrets: Vec<(&'static str, String)> = Vec::new();
    // An address of its own (the documentation prefix), to look for in the logs.
    let r = sealpost_e2e::random_bytes(3);
    let ip_prefix = format!(
        "2001:db8:{:x}:{:x}",
        0xff00 | u16::from(r[0]),
        u16::from_be_bytes([r[1], r[2]]) | 1
    );
    let ip = format!("{ip_prefix}::7");
    let via = Via::ip(&ip);
    let email = unique_email("secrets");
    let password = strong_password();
    secrets.push(("password", password.clone()));

    let (reply, inner) = sealed_call(
        stack,
        "/auth/signup",
        &json!({"email": email, "password": password}),
        via,
    );
    let data = assert_mutation(&reply, &inner, 201);
    let first = Session {
        user: data["user"].clone(),
        access: String::new(),
        refresh: String::new(),
        email: email.clone(),
        password: password.clone(),
    }
    .with_tokens(&data["tokens"]);
    secrets.push(("access token", first.access.clone()));
    secrets.push(("refresh token", first.refresh.clone()));

    let wrong = format!("Wrong-pass-{}", random_hex(6));
    secrets.push(("wrong password", wrong.clone()));
    let (reply, inner) = try_login_via(stack, &email, &wrong, via);
    assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    let second = login_via(stack, &email, &password, via);
    secrets.push(("access token", second.access.clone()));
    secrets.push(("refresh token", second.refresh.clone()));
    let rotated = refreshed(stack, &second);
    secrets.push(("access token", rotated.access.clone()));
    secrets.push(("refresh token", rotated.refresh.clone()));
    me_ok(stack, &rotated.access);

    let mut totp = enable_totp(stack, &rotated);
    secrets.push(("TOTP secret", totp.secret_text.clone()));
    secrets.push(("otpauth URI", totp.otpauth_uri.clone()));
    for code in &totp.recovery_codes {
        secrets.push(("recovery code", code.clone()));
        secrets.push(("recovery code", code.replace('-', "")));
    }
    if let Some(step) = totp.last_step {
        secrets.push(("TOTP code", totp_code(&totp.secret, step * 30)));
    }
    let (reply, inner) = sealed_call(
        stack,
        "/auth/login",
        &json!({"email": email, "password": password}),
        via,
    );
    let mfa_token = assert_mutation(&reply, &inner, 200)["mfaToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    secrets.push(("mfaToken", mfa_token.clone()));
    let code = totp.code();
    secrets.push(("TOTP code", code.clone()));
    let (reply, inner) = sealed_call(
        stack,
        "/auth/login/mfa",
        &json!({"mfaToken": mfa_token, "code": code}),
        via,
    );
    let mfa = first.with_tokens(&assert_mutation(&reply, &inner, 200)["tokens"]);
    secrets.push(("access token", mfa.access.clone()));
    secrets.push(("refresh token", mfa.refresh.clone()));

    let new_password = strong_password();
    secrets.push(("password", new_password.clone()));
    let (reply, inner) = sealed_call(
        stack,
        "/auth/password",
        &json!({"currentPassword": password, "newPassword": new_password}),
        Via {
            bearer: Some(&mfa.access),
            ..via
        },
    );
    assert_mutation(&reply, &inner, 200);
    let reply = bearer_request(stack, "POST", "/auth/logout", &mfa.access)
        .client_ip(&ip)
        .json(&json!({}))
        .send();
    assert_eq!(reply.status, 200, "{reply}");

    let mut logs: Vec<std::path::PathBuf> = std::fs::read_dir(stack.run_dir())
        .expect("the run directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    assert!(
        !logs.is_empty(),
        "no *.log in {}",
        stack.run_dir().display()
    );
    let mut leaks = Vec::new();
    let mut auth_lines = 0;
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let name = log.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        auth_lines += text.lines().filter(|l| l.contains("/auth/")).count();
        for (kind, secret) in &secrets {
            let found = if secret.len() <= 8 {
                contains_token(&text, secret)
            } else {
                text.contains(secret.as_str())
            };
            if found {
                let shown: String = secret.chars().take(4).collect();
                leaks.push(format!("a {kind} ({shown}…) in {name}"));
            }
        }
        if text.contains("$argon2id$") {
            leaks.push(format!("a password hash ($argon2id$…) in {name}"));
        }
        if text.contains(&ip_prefix) {
            leaks.push(format!("the client address ({ip_prefix}…) in {name}"));
        }
    }
    assert!(
        auth_lines > 0,
        "no log line names an /auth/ path: are these the workers' logs? {logs:?}"
    );
    assert!(leaks.is_empty(), "secrets in the worker logs: {leaks:#?}");
}
