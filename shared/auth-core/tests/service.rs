//! The auth routes end to end on the native doubles (SQLite with the real
//! migrations, a manual clock, seeded randomness): accounts, lockout,
//! refresh rotation and reuse, sessions, TOTP, password change, admin and
//! the audit log. The live runtime is covered by tests/e2e.
mod support;

use sealpost_api::routes::RouteId;
use sealpost_auth_core::totp;
use sealpost_ports::Clock;
use serde_json::{Value, json};
use support::{MINUTE, PASSWORD, World, claims};

#[test]
fn signup_answers_201_with_the_normalised_user_and_tokens_that_work_on_me() {
    let w = World::new();
    let r = w.call(
        RouteId::AuthSignup,
        &json!({"email": "  Ana@Example.COM ", "password": PASSWORD, "locale": "vi"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let user = &r.data()["user"];
    assert_eq!(user["email"], "ana@example.com");
    assert_eq!(user["displayName"], "ana");
    assert_eq!(user["roles"], json!(["member"]));
    assert_eq!(user["mfaEnabled"], false);
    assert_eq!(user["locale"], "vi");
    assert_eq!(r.data()["tokens"]["expiresIn"], 900);
    let s = World::session_of(&r);
    let c = claims(&s.access);
    assert_eq!(c["sub"], user["id"]);
    assert_eq!(c["amr"], json!(["pwd"]));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    let me = w.me(&s.access);
    assert_eq!(me.status, 200);
    assert_eq!(me.data(), user);
}

#[test]
fn a_second_signup_of_the_same_address_in_another_case_is_email_taken() {
    let w = World::new();
    w.signup("bo@example.com");
    let r = w.call(
        RouteId::AuthSignup,
        &json!({"email": "BO@example.com", "password": "another good one"}),
    );
    assert_eq!((r.status, r.code()), (409, "EMAIL_TAKEN"));
}

#[test]
fn signup_reports_every_invalid_field_at_once() {
    let w = World::new();
    let r = w.call(
        RouteId::AuthSignup,
        &json!({"email": "not-an-email", "password": "password", "displayName": "x".repeat(81), "locale": "fr"}),
    );
    assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password", "displayName", "locale"]);
    let unknown = w.call(
        RouteId::AuthSignup,
        &json!({"email": "a@example.com", "password": PASSWORD, "admin": true}),
    );
    assert_eq!((unknown.status, unknown.code()), (400, "VALIDATION_FAILED"));
}

#[test]
fn a_wrong_password_and_an_unknown_email_answer_exactly_alike() {
    let w = World::new();
    w.signup("cy@example.com");
    let wrong = w.login("cy@example.com", "not the password");
    let unknown = w.login("nobody@example.com", "not the password");
    assert_eq!(
        (wrong.status, wrong.code()),
        (401, "AUTH_INVALID_CREDENTIALS")
    );
    assert_eq!(wrong.body, unknown.body);
    let ok = w.login("CY@example.com", PASSWORD);
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.data()["user"]["email"], "cy@example.com");
}

#[test]
fn five_failures_lock_the_account_for_fifteen_minutes_even_for_the_right_password() {
    let w = World::new();
    w.signup("di@example.com");
    for _ in 0..5 {
        assert_eq!(w.login("di@example.com", "wrong password!").status, 401);
    }
    let locked = w.login("di@example.com", PASSWORD);
    assert_eq!((locked.status, locked.code()), (423, "AUTH_LOCKED"));
    assert_eq!(locked.retry_after.as_deref(), Some("900"));
    w.clock.advance_ms(14 * MINUTE);
    assert_eq!(w.login("di@example.com", PASSWORD).status, 423);
    w.clock.advance_ms(MINUTE);
    assert_eq!(w.login("di@example.com", PASSWORD).status, 200);
    // A success clears the count: four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(w.login("di@example.com", "wrong password!").status, 401);
    }
    assert_eq!(w.login("di@example.com", PASSWORD).status, 200);
}

#[test]
fn an_unknown_email_locks_like_a_known_one_so_lockout_reveals_nothing() {
    let w = World::new();
    for _ in 0..5 {
        assert_eq!(w.login("ghost@example.com", "whatever pw").status, 401);
    }
    assert_eq!(
        w.login("ghost@example.com", "whatever pw").code(),
        "AUTH_LOCKED"
    );
}

#[test]
fn failures_older_than_the_window_do_not_count() {
    let w = World::new();
    w.signup("el@example.com");
    for _ in 0..4 {
        assert_eq!(w.login("el@example.com", "wrong password!").status, 401);
    }
    w.clock.advance_ms(16 * MINUTE);
    for _ in 0..4 {
        assert_eq!(w.login("el@example.com", "wrong password!").status, 401);
    }
    assert_eq!(w.login("el@example.com", PASSWORD).status, 200);
}

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
fn the_eleventh_signup_from_one_address_within_the_hour_is_rate_limited() {
    let w = World::new();
    for i in 0..10 {
        assert_eq!(
            w.call(
                RouteId::AuthSignup,
                &json!({"email": format!("q{i}@example.com"), "password": PASSWORD})
            )
            .status,
            201
        );
    }
    let r = w.call(
        RouteId::AuthSignup,
        &json!({"email": "q10@example.com", "password": PASSWORD}),
    );
    assert_eq!((r.status, r.code()), (429, "RATE_LIMITED"));
    assert_eq!(r.retry_after.as_deref(), Some("3600"));
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

#[test]
fn an_account_whose_address_an_earlier_rule_accepted_still_logs_in() {
    let w = World::new();
    w.signup("obrien@example.com");
    // An address the accounts rule once accepted and `Email` now refuses.
    sealpost_testkit::block_on(sealpost_ports::Sql::execute(
        &w.db,
        &sealpost_ports::Statement::new("UPDATE users SET email = ?1").bind("o'brien@example.com"),
    ))
    .unwrap();
    assert!(sealpost_api::Email::parse("o'brien@example.com").is_err());
    let r = w.login("O'Brien@Example.com", PASSWORD);
    assert_eq!(r.status, 200, "{r:?}");
}
