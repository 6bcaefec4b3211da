//! The admin side of auth: its routes need the role and a second factor,
//! the admin table shows locked accounts, the audit log filters by type and
//! user, and neither the audit log nor the database holds a secret in clear.
//! On the native doubles (SQLite with the real migrations, a manual clock,
//! seeded randomness); the live runtime is covered by tests/e2e.
mod support;

use sealpost_api::routes::RouteId;
use sealpost_auth_core::totp;
use sealpost_ports::Clock;
use serde_json::{Value, json};
use support::{MINUTE, PASSWORD, World, claims};

#[test]
fn admin_routes_need_the_role_and_a_second_factor() {
    let w = World::new();
    let admin = w.signup("oa@example.com");
    w.make_admin(&admin.user_id);
    let member = w.signup("ob@example.com");
    assert_eq!(
        w.bearer(RouteId::AdminUsers, &member.access, &Value::Null)
            .code(),
        "FORBIDDEN"
    );
    // Roles changed since the token was issued: refresh for a current one.
    assert_eq!(
        w.bearer(RouteId::AdminUsers, &admin.access, &Value::Null)
            .code(),
        "AUTH_TOKEN_REVOKED"
    );
    let pwd_only = World::session_of(&w.login("oa@example.com", PASSWORD));
    assert_eq!(
        w.bearer(RouteId::AdminUsers, &pwd_only.access, &Value::Null)
            .code(),
        "FORBIDDEN"
    );
    let (secret, _) = w.enable_totp(&pwd_only);
    let staff = w.login_with_otp("oa@example.com", &secret);
    let list = w.call_full(
        RouteId::AdminUsers,
        &Value::Null,
        Some(&staff.access),
        None,
        "q=OB@&pageSize=5",
    );
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(list.body["pagination"]["totalItems"], 1);
    assert_eq!(list.data()[0]["email"], "ob@example.com");
    let bad_page = w.call_full(
        RouteId::AdminUsers,
        &Value::Null,
        Some(&staff.access),
        None,
        "pageSize=101",
    );
    assert_eq!(bad_page.code(), "VALIDATION_FAILED");

    let put = |id: &str, roles: Value| {
        w.call_full(
            RouteId::AdminUserRoles,
            &json!({"roles": roles}),
            Some(&staff.access),
            Some(id),
            "",
        )
    };
    assert_eq!(
        put(&member.user_id, json!(["root"])).code(),
        "VALIDATION_FAILED"
    );
    assert_eq!(put("nope", json!(["editor"])).code(), "NOT_FOUND");
    let changed = put(&member.user_id, json!(["editor"]));
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.data()["roles"], json!(["editor"]));
    assert_eq!(w.me(&member.access).code(), "AUTH_TOKEN_REVOKED");
    let fresh = w.refresh(&member.refresh);
    assert_eq!(
        claims(fresh.data()["tokens"]["accessToken"].as_str().unwrap())["roles"],
        json!(["editor"])
    );
    // The only admin cannot drop its own admin role.
    assert_eq!(put(&admin.user_id, json!(["member"])).code(), "CONFLICT");

    let audit = w.call_full(
        RouteId::AdminAudit,
        &Value::Null,
        Some(&staff.access),
        None,
        &format!("type=roles.changed&userId={}", member.user_id),
    );
    assert_eq!(audit.body["pagination"]["totalItems"], 1, "{audit:?}");
    let item = &audit.data()[0];
    assert_eq!(item["actorId"], admin.user_id.as_str());
    assert_eq!(
        item["detail"],
        json!({"before": ["member"], "after": ["editor"]})
    );
    assert_eq!(item["ipHash"].as_str().unwrap().len(), 32);
    assert_ne!(item["ipHash"], w.ip.as_str());
}

#[test]
fn the_audit_log_and_the_database_never_hold_a_secret_in_clear() {
    let w = World::new();
    let s = w.signup("pa@example.com");
    let (secret, codes) = w.enable_totp(&s);
    let staff = w.login_with_otp("pa@example.com", &secret);
    let _ = w.login("pa@example.com", "a wrong password");
    let refreshed = w.refresh(&staff.refresh);
    let mut secrets = vec![
        PASSWORD.to_owned(),
        "a wrong password".to_owned(),
        s.access.clone(),
        s.refresh.clone(),
        staff.refresh.clone(),
        refreshed.data()["tokens"]["refreshToken"]
            .as_str()
            .unwrap()
            .to_owned(),
        totp::base32_encode(&secret),
    ];
    secrets.extend(codes);
    for table in [
        "audit_events",
        "sessions",
        "refresh_tokens",
        "users",
        "mfa_challenges",
        "recovery_codes",
        "auth_counters",
    ] {
        let text = w.sql_strings(&format!("SELECT * FROM {table}")).join("\n");
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret is stored in clear in {table}"
            );
        }
    }
    let audit = w.sql_strings("SELECT * FROM audit_events").join("\n");
    assert!(
        !audit.contains("$argon2"),
        "a password hash reached the audit log"
    );
    assert!(!audit.contains(&w.ip), "a raw IP reached the audit log");
}

#[test]
fn the_admin_table_shows_locked_accounts_and_the_audit_filters_by_type_and_user() {
    let w = World::new();
    let admin = w.signup("sa@example.com");
    w.make_admin(&admin.user_id);
    let pwd = World::session_of(&w.login("sa@example.com", PASSWORD));
    let (secret, _) = w.enable_totp(&pwd);
    let staff = w.login_with_otp("sa@example.com", &secret);
    let victim = w.signup("sb@example.com");
    for _ in 0..5 {
        let _ = w.login("sb@example.com", "wrong password!");
    }
    let list = w.call_full(
        RouteId::AdminUsers,
        &Value::Null,
        Some(&staff.access),
        None,
        "q=sb@",
    );
    let until = list.data()[0]["lockedUntil"].as_str().expect("locked");
    assert_eq!(
        sealpost_ports::parse_rfc3339(until),
        Some(w.clock.now_ms() + 15 * MINUTE)
    );
    let by = |q: &str| {
        w.call_full(
            RouteId::AdminAudit,
            &Value::Null,
            Some(&staff.access),
            None,
            q,
        )
        .body["pagination"]["totalItems"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        by(&format!("type=login.failure&userId={}", victim.user_id)),
        5
    );
    assert_eq!(
        by(&format!("type=login.locked&userId={}", victim.user_id)),
        1
    );
    assert_eq!(
        by(&format!("userId={}", victim.user_id)),
        7,
        "signup + 5 failures + lock"
    );
    assert_eq!(by("type=signup"), 2);
    let bad = w.call_full(
        RouteId::AdminAudit,
        &Value::Null,
        Some(&staff.access),
        None,
        "type=nope",
    );
    assert_eq!(bad.code(), "VALIDATION_FAILED");
}
