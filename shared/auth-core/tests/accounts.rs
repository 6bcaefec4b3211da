//! Accounts through the auth routes: signup (the normalised user, a taken
//! address, every invalid field, the per-address rate limit), login answers
//! that reveal nothing, the lockout and its window, and an address an
//! earlier rule accepted. On the native doubles (SQLite with the real
//! migrations, a manual clock, seeded randomness); the live runtime is
//! covered by tests/e2e.
mod support;

use sealpost_api::routes::RouteId;
use serde_json::json;
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
