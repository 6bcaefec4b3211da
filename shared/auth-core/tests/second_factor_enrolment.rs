//! Enrolling a second factor needs a recent authentication: a session whose
//! login is less than five minutes old enrols as the contract says, an
//! older one must also confirm the current password; enabling the factor
//! ends every other session. On the native doubles (SQLite with the real
//! migrations, a manual clock).
mod support;

use sealpost_api::routes::RouteId;
use sealpost_auth_core::totp;
use serde_json::{Value, json};
use support::{MINUTE, PASSWORD, Reply, Session, World};

/// Starts TOTP setup for `s` with `body`; the answer.
fn setup(w: &World, s: &Session, body: &Value) -> Reply {
    w.bearer(RouteId::AuthTotpSetup, &s.access, body)
}

/// The current code of the secret a setup answered.
fn code_for(w: &World, setup: &Reply) -> String {
    let secret = totp::base32_decode(setup.data()["secret"].as_str().expect("secret"))
        .expect("base32 secret");
    totp::code_at(&secret, w.now_secs())
}

/// `s` after twenty minutes: its first access token expired, a refreshed
/// one in hand. The session is the same login, so it is not recent.
fn twenty_minutes_later(w: &World, s: &Session) -> Session {
    w.clock.advance_ms(20 * MINUTE);
    World::session_of_tokens(&w.refresh(&s.refresh), &s.user_id)
}

fn audit_types(w: &World) -> Vec<Value> {
    w.column("SELECT type FROM audit_events ORDER BY at, rowid")
}

#[test]
fn a_fresh_session_enrols_with_an_empty_body() {
    let w = World::new();
    let s = w.signup("fresh@example.com");
    w.clock.advance_ms(4 * MINUTE + 59_000);
    let started = setup(&w, &s, &json!({}));
    assert_eq!(started.status, 200, "{started:?}");
    let code = code_for(&w, &started);
    let enabled = w.bearer(RouteId::AuthTotpEnable, &s.access, &json!({"code": code}));
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(
        enabled.data()["recoveryCodes"].as_array().map(Vec::len),
        Some(10)
    );
    assert_eq!(w.me(&s.access).data()["mfaEnabled"], true);
}

#[test]
fn an_old_session_without_the_current_password_is_refused() {
    let w = World::new();
    let s = w.signup("old@example.com");
    // A setup begun while the login was recent does not carry over.
    let started = setup(&w, &s, &json!({}));
    assert_eq!(started.status, 200, "{started:?}");
    let s = twenty_minutes_later(&w, &s);
    let refused = setup(&w, &s, &json!({}));
    assert_eq!(
        (refused.status, refused.code()),
        (403, "REAUTH_REQUIRED"),
        "{refused:?}"
    );
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("currentPassword"),
        "{refused:?}"
    );
    let code = code_for(&w, &started);
    let enable = w.bearer(RouteId::AuthTotpEnable, &s.access, &json!({"code": code}));
    assert_eq!(
        (enable.status, enable.code()),
        (403, "REAUTH_REQUIRED"),
        "{enable:?}"
    );
    let wrong = w.bearer(
        RouteId::AuthTotpEnable,
        &s.access,
        &json!({"code": code, "currentPassword": "not the password"}),
    );
    assert_eq!(
        (wrong.status, wrong.code()),
        (401, "AUTH_INVALID_CREDENTIALS"),
        "{wrong:?}"
    );
    assert_eq!(w.me(&s.access).data()["mfaEnabled"], false);
    assert_eq!(w.column("SELECT count(*) FROM recovery_codes"), [json!(0)]);
    assert!(audit_types(&w).contains(&json!("login.failure")));
    assert!(!audit_types(&w).contains(&json!("mfa.enabled")));
}

#[test]
fn wrong_current_passwords_count_towards_the_login_lockout() {
    let w = World::new();
    let s = w.signup("lock@example.com");
    let s = twenty_minutes_later(&w, &s);
    for _ in 0..5 {
        let wrong = setup(&w, &s, &json!({"currentPassword": "not the password"}));
        assert_eq!(wrong.code(), "AUTH_INVALID_CREDENTIALS", "{wrong:?}");
    }
    let locked = setup(&w, &s, &json!({"currentPassword": PASSWORD}));
    assert_eq!(
        (locked.status, locked.code()),
        (423, "AUTH_LOCKED"),
        "{locked:?}"
    );
    assert_eq!(w.login("lock@example.com", PASSWORD).code(), "AUTH_LOCKED");
}

#[test]
fn an_old_session_with_the_current_password_enrols() {
    let w = World::new();
    let s = w.signup("confirm@example.com");
    let s = twenty_minutes_later(&w, &s);
    let started = setup(&w, &s, &json!({"currentPassword": PASSWORD}));
    assert_eq!(started.status, 200, "{started:?}");
    let code = code_for(&w, &started);
    let enabled = w.bearer(
        RouteId::AuthTotpEnable,
        &s.access,
        &json!({"code": code, "currentPassword": PASSWORD}),
    );
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(
        enabled.data()["recoveryCodes"].as_array().map(Vec::len),
        Some(10)
    );
    assert_eq!(w.me(&s.access).data()["mfaEnabled"], true);
}

#[test]
fn enabling_a_factor_ends_the_other_sessions() {
    let w = World::new();
    let s = w.signup("others@example.com");
    let other = World::session_of(&w.login("others@example.com", PASSWORD));
    w.enable_totp(&s);
    assert_eq!(w.me(&other.access).code(), "AUTH_TOKEN_REVOKED");
    assert_eq!(w.refresh(&other.refresh).code(), "AUTH_TOKEN_REVOKED");
    assert_eq!(w.me(&s.access).status, 200, "the enrolling session goes on");
    assert_eq!(
        w.column("SELECT revoke_reason FROM sessions WHERE revoked_at IS NOT NULL"),
        [json!("mfa_enabled")]
    );
    let detail = w.column("SELECT detail FROM audit_events WHERE type = 'mfa.enabled'");
    let detail: Value =
        serde_json::from_str(detail[0].as_str().expect("text")).expect("JSON detail");
    assert_eq!(detail["otherSessionsEnded"], true, "{detail}");
}
