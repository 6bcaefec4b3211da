//! The auth service end to end (API.md "Auth", docs/api.md "Auth"):
//! signup, login, lockout, refresh rotation and reuse, logout, sessions,
//! password change, TOTP, roles and the admin tables, per-IP limits, and no
//! secret in the logs. Sealed routes go through the real envelope; every
//! scenario uses its own accounts and addresses (they run in parallel on one
//! stack). The only account shared is the seeded admin, enrolled once
//! ([`admin_with_mfa`](sealpost_e2e::auth::admin_with_mfa)).
//!
//! This module lists the scenarios and holds what several topics share: the
//! user shape, `/auth/me` and refresh refusals, `Retry-After`, offset pages
//! and the admin's reads.
mod admin;
mod login;
mod logs;
mod sessions;
mod signup;
mod totp;

use sealpost_e2e::auth::{admin_get, assert_error, me, refresh};
use sealpost_e2e::{Reply, Stack, Value, json};

use crate::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = scenarios![
    signup::signup_returns_the_user_and_tokens_that_work_on_me,
    signup::signup_normalises_the_email_and_a_case_variant_is_email_taken,
    signup::signup_refuses_bad_input_with_validation_failed_naming_the_field,
    signup::an_unsealed_signup_is_seal_required,
    login::login_with_the_right_password_opens_a_new_session,
    login::a_wrong_password_and_an_unknown_email_get_the_same_invalid_credentials_answer,
    login::five_wrong_passwords_lock_the_account_with_423_and_retry_after,
    login::fifty_concurrent_wrong_logins_verify_at_most_five_passwords,
    sessions::refresh_rotates_the_pair_and_the_previous_token_is_superseded_not_revoked,
    sessions::a_refresh_token_reused_after_two_rotations_ends_the_session,
    sessions::two_concurrent_refreshes_with_one_token_rotate_it_exactly_once,
    sessions::an_unknown_refresh_token_is_token_invalid,
    sessions::logout_ends_the_session_with_or_without_a_body,
    sessions::bearer_routes_refuse_a_missing_or_bad_token,
    sessions::sessions_lists_the_live_sessions_and_delete_revokes_one,
    sessions::password_change_checks_the_current_password_and_ends_other_sessions,
    totp::totp_setup_and_enable_need_a_right_code_and_give_ten_recovery_codes,
    totp::totp_enrolment_checks_a_sent_current_password_and_ends_the_other_sessions,
    totp::a_totp_account_logs_in_with_a_single_use_mfa_token_and_single_use_codes,
    totp::a_recovery_code_works_once_and_disable_turns_totp_off,
    totp::an_mfa_token_is_spent_after_five_wrong_codes,
    totp::a_code_neither_six_digits_nor_a_recovery_code_is_validation_failed,
    totp::the_eleventh_second_factor_attempt_of_one_account_is_rate_limited,
    admin::admin_routes_need_the_admin_role_and_a_second_factor,
    admin::admin_users_is_paged_newest_first_and_searchable,
    admin::a_role_change_revokes_older_tokens_and_is_audited,
    admin::the_last_admin_cannot_lose_the_admin_role,
    signup::the_eleventh_signup_from_one_address_within_an_hour_is_rate_limited,
    login::the_sixty_first_login_from_one_address_within_ten_minutes_is_rate_limited,
    logs::no_password_token_code_or_secret_reaches_the_worker_logs,
];

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
