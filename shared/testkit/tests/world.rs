//! The base of the test worlds: a signed-in user is a seeded user with a
//! live session and a token the world's verifier accepts for it, and the SQL
//! helpers read what the migrated database holds.
use sealpost_guard::Role;
use sealpost_ports::{Clock, Statement};
use sealpost_testkit::Base;
use serde_json::{Value, json};

const START_MS: i64 = 1_795_000_000_000;

#[test]
fn a_signed_in_users_token_names_its_seeded_session_and_the_verifier_accepts_it() {
    let base = Base::new(START_MS, 1);
    let user = base.signed_in("ana", &[Role::Editor], &["pwd", "otp"]);
    let claims = base
        .verifier
        .verify(&user.token, base.clock.now_secs())
        .unwrap();
    assert_eq!(
        (claims.sub, claims.sid),
        (user.id.clone(), user.session.clone())
    );
    assert_eq!(claims.roles, ["editor"]);
    assert_eq!(
        base.column("SELECT id FROM sessions WHERE revoked_at IS NULL"),
        [json!(user.session)]
    );
    assert_eq!(base.scalar("SELECT id FROM users"), json!(user.id));
}

#[test]
fn the_sql_helpers_write_and_read_rows_and_an_empty_answer_is_null() {
    let base = Base::new(START_MS, 1);
    assert_eq!(base.scalar("SELECT id FROM users"), Value::Null);
    base.user("bo", &[], &["pwd"]);
    base.sql(Statement::new("UPDATE users SET display_name = ?1").bind("Bo"));
    let rows = base.rows(Statement::new("SELECT id, display_name FROM users"));
    assert_eq!(rows, [json!({"id": "user-bo", "display_name": "Bo"})]);
}
