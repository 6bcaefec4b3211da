//! Sessions through the auth routes: refresh rotation, the grace period and
//! reuse, idle and absolute lifetimes, logout, listing and revoking
//! sessions, and a password change ending the others. On the native doubles
//! (SQLite with the real migrations, a manual clock, seeded randomness); the
//! live runtime is covered by tests/e2e.
mod support;

use sealpost_api::routes::RouteId;
use serde_json::{Value, json};
use support::{MINUTE, PASSWORD, World, claims};

#[test]
fn refresh_rotates_and_the_previous_token_within_ten_seconds_is_superseded_not_theft() {
    let w = World::new();
    let s = w.signup("fa@example.com");
    let r1 = w.refresh(&s.refresh);
    assert_eq!(r1.status, 200, "{r1:?}");
    let t1 = r1.data()["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(t1, s.refresh);
    w.clock.advance_ms(9_000);
    let again = w.refresh(&s.refresh);
    assert_eq!(
        (again.status, again.code()),
        (409, "AUTH_REFRESH_SUPERSEDED")
    );
    // Nothing was revoked: the newest token and the access token still work.
    assert_eq!(w.me(&s.access).status, 200);
    assert_eq!(w.refresh(&t1).status, 200);
}

#[test]
fn an_older_rotated_token_ends_the_session_and_is_audited() {
    let w = World::new();
    let s = w.signup("ga@example.com");
    let t1 = w.refresh(&s.refresh).data()["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let t2 = w.refresh(&t1).data()["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let reuse = w.refresh(&s.refresh);
    assert_eq!((reuse.status, reuse.code()), (401, "AUTH_REFRESH_REUSED"));
    assert_eq!(w.refresh(&t2).code(), "AUTH_TOKEN_REVOKED");
    assert_eq!(w.me(&s.access).code(), "AUTH_TOKEN_REVOKED");
    let events = w.sql_strings("SELECT type FROM audit_events WHERE type = 'refresh.reuse'");
    assert_eq!(events.len(), 1);
}

#[test]
fn the_previous_token_after_the_grace_period_is_reuse() {
    let w = World::new();
    let s = w.signup("ha@example.com");
    assert_eq!(w.refresh(&s.refresh).status, 200);
    w.clock.advance_ms(10_001);
    assert_eq!(w.refresh(&s.refresh).code(), "AUTH_REFRESH_REUSED");
}

#[test]
fn sessions_end_after_seven_idle_days_and_thirty_days_in_all() {
    let w = World::new();
    let s = w.signup("ia@example.com");
    w.clock.advance_ms(7 * 24 * 60 * MINUTE);
    assert_eq!(w.refresh(&s.refresh).code(), "AUTH_TOKEN_INVALID");

    let s = w.signup("ib@example.com");
    let mut token = s.refresh;
    for _ in 0..4 {
        w.clock.advance_ms(6 * 24 * 60 * MINUTE);
        let r = w.refresh(&token);
        assert_eq!(r.status, 200, "{r:?}");
        token = r.data()["tokens"]["refreshToken"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    // 30 days after login, refreshing every 6 days does not help.
    w.clock.advance_ms(6 * 24 * 60 * MINUTE);
    assert_eq!(w.refresh(&token).code(), "AUTH_TOKEN_INVALID");
}

#[test]
fn logout_ends_the_access_token_and_the_refresh_token_at_once() {
    let w = World::new();
    let s = w.signup("ja@example.com");
    let out = w.bearer(RouteId::AuthLogout, &s.access, &json!({}));
    assert_eq!(out.status, 200, "{out:?}");
    assert_eq!(w.me(&s.access).code(), "AUTH_TOKEN_REVOKED");
    assert_eq!(w.refresh(&s.refresh).code(), "AUTH_TOKEN_REVOKED");
    assert_eq!(w.me("garbage").code(), "AUTH_TOKEN_INVALID");
    assert_eq!(
        w.call(RouteId::AuthMe, &Value::Null).code(),
        "AUTH_REQUIRED"
    );
}

#[test]
fn sessions_are_listed_and_one_can_be_revoked_but_not_another_users() {
    let w = World::new();
    let a = w.signup("ka@example.com");
    let a2 = World::session_of(&w.login("ka@example.com", PASSWORD));
    let list = w.bearer(RouteId::AuthSessions, &a.access, &Value::Null);
    let items = list.data().as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|i| i["current"] == true).count(), 1);
    assert_eq!(items[0]["userAgent"], "test-agent/1.0");
    let other_id = claims(&a2.access)["sid"].as_str().unwrap().to_owned();
    let b = w.signup("kb@example.com");
    let foreign = w.call_full(
        RouteId::AuthSessionRevoke,
        &Value::Null,
        Some(&b.access),
        Some(&other_id),
        "",
    );
    assert_eq!((foreign.status, foreign.code()), (404, "NOT_FOUND"));
    let revoked = w.call_full(
        RouteId::AuthSessionRevoke,
        &Value::Null,
        Some(&a.access),
        Some(&other_id),
        "",
    );
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_eq!(w.me(&a2.access).code(), "AUTH_TOKEN_REVOKED");
    assert_eq!(w.me(&a.access).status, 200);
}

#[test]
fn a_password_change_ends_every_other_session_and_the_old_password() {
    let w = World::new();
    let a = w.signup("la@example.com");
    let other = World::session_of(&w.login("la@example.com", PASSWORD));
    let wrong = w.bearer(
        RouteId::AuthPassword,
        &a.access,
        &json!({"currentPassword": "nope nope", "newPassword": "a brand new secret"}),
    );
    assert_eq!(wrong.code(), "AUTH_INVALID_CREDENTIALS");
    let weak = w.bearer(
        RouteId::AuthPassword,
        &a.access,
        &json!({"currentPassword": PASSWORD, "newPassword": "password"}),
    );
    assert_eq!(weak.body["errors"][0]["field"], "newPassword");
    let ok = w.bearer(
        RouteId::AuthPassword,
        &a.access,
        &json!({"currentPassword": PASSWORD, "newPassword": "a brand new secret"}),
    );
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(w.me(&other.access).code(), "AUTH_TOKEN_REVOKED");
    assert_eq!(w.me(&a.access).status, 200);
    assert_eq!(w.login("la@example.com", PASSWORD).status, 401);
    assert_eq!(w.login("la@example.com", "a brand new secret").status, 200);
}
