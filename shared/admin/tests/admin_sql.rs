//! The SQL `scripts/admin` runs, run here against SQLite with the real
//! migrations, and the accounts it leaves checked through the auth service
//! itself (login, refresh, `me`, the audit log) — driven by auth-core's own
//! test harness. The SQL runs statement after statement without a
//! surrounding transaction, stopping at the first error: stricter than
//! `wrangler d1 execute --file` (one batch, a transaction), so a refusal
//! cannot depend on a rollback.
#[path = "../../auth-core/tests/support/mod.rs"]
mod support;

use sealpost_admin::{Existing, Ids};
use sealpost_api::routes::RouteId;
use sealpost_auth_core::totp;
use sealpost_ports::{Clock, SiteId, Sql, Statement};
use sealpost_testkit::{ManualClock, block_on};
use serde_json::{Value, json};
use support::{Reply, START_MS, World};

const ADDRESS: &str = "boss@example.com";
const STRANGER_PASSWORD: &str = "stranger's own password";
const OPERATOR_PASSWORD: &str = "the operator's chosen one";

impl Reply {
    fn token(&self, name: &str) -> String {
        self.data()["tokens"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {self:?}"))
            .to_owned()
    }
}

/// What the admin tests add to auth's harness.
impl World {
    /// The stranger: signs up with [`ADDRESS`], enables TOTP, logs in again
    /// with a code (a second session) and starts a third login that waits for
    /// its code. Returns (access, refresh) of the first session and the
    /// pending `mfaToken`.
    fn stranger_with_totp_and_sessions(&self) -> (String, String, String) {
        let up = self.call(
            RouteId::AuthSignup,
            &json!({"email": ADDRESS, "password": STRANGER_PASSWORD}),
        );
        assert_eq!(up.status, 201, "{up:?}");
        let (access, refresh) = (up.token("accessToken"), up.token("refreshToken"));
        let (secret, _) = self.enable_totp(&World::session_of(&up));
        self.clock.advance_ms(30_000);
        let first = self.login(ADDRESS, STRANGER_PASSWORD);
        let code = totp::code_at(&secret, self.now_secs());
        let second = self.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": first.data()["mfaToken"], "code": code}),
        );
        assert_eq!(second.status, 200, "{second:?}");
        let pending = self.login(ADDRESS, STRANGER_PASSWORD);
        let mfa_token = pending.data()["mfaToken"].as_str().unwrap().to_owned();
        (access, refresh, mfa_token)
    }

    /// Runs `sql` as `wrangler d1 execute --file` would, statement after
    /// statement, stopping at the first error (which it returns).
    fn run(&self, sql: &str) -> Result<(), String> {
        self.db
            .with_conn(|c| c.execute_batch(sql))
            .map_err(|e| e.to_string())
    }

    /// Every row of every table the admin SQL may touch, as text: what
    /// "untouched" is compared on.
    fn snapshot(&self) -> Vec<String> {
        let mut out = Vec::new();
        for table in [
            "users",
            "sessions",
            "refresh_tokens",
            "mfa_challenges",
            "recovery_codes",
            "audit_events",
        ] {
            let rows = block_on(self.db.query(&Statement::new(format!(
                "SELECT * FROM {table} ORDER BY rowid"
            ))))
            .unwrap();
            out.extend(rows.into_iter().map(|r| format!("{table}: {r:?}")));
        }
        out
    }

    fn count(&self, sql: &str) -> i64 {
        let rows = block_on(self.db.query(&Statement::new(sql))).unwrap();
        rows[0].values().next().and_then(Value::as_i64).unwrap()
    }

    /// The audit events of `kind`, oldest first: (user id, detail).
    fn events(&self, kind: &str) -> Vec<(Value, Value)> {
        let rows = block_on(
            self.db.query(
                &Statement::new(
                    "SELECT user_id, detail FROM audit_events WHERE type = ?1 ORDER BY at, rowid",
                )
                .bind(kind),
            ),
        )
        .unwrap();
        rows.into_iter()
            .map(|r| {
                let detail = serde_json::from_str(r["detail"].as_str().unwrap()).unwrap();
                (r["user_id"].clone(), detail)
            })
            .collect()
    }

    fn sql(&self, promote: bool) -> String {
        sql_for(&self.clock, promote)
    }
}

fn sql_for(clock: &ManualClock, promote: bool) -> String {
    let existing = if promote {
        Existing::Promote
    } else {
        Existing::Refuse
    };
    // Fresh ids for every run, as sealpost-admin generates them.
    let ids = Ids {
        user: format!("admin-{}", clock.now_ms()),
        event: format!("event-{}", clock.now_ms()),
    };
    sealpost_admin::admin_sql(
        &SiteId::default_site(),
        ADDRESS,
        OPERATOR_PASSWORD,
        existing,
        &ids,
        clock.now_ms(),
    )
    .expect("valid input")
}

#[test]
fn a_new_address_becomes_an_admin_that_can_log_in_with_the_given_password() {
    let w = World::seeded(5);
    w.run(&w.sql(false)).expect("the admin is created");
    let login = w.login(ADDRESS, OPERATOR_PASSWORD);
    assert_eq!(login.status, 200, "{login:?}");
    let user = &login.data()["user"];
    assert_eq!(user["id"], format!("admin-{START_MS}"));
    assert_eq!(user["roles"], json!(["admin"]));
    assert_eq!(user["mfaEnabled"], false);
    let hash = w.count(
        "SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%'",
    );
    assert_eq!(hash, 1, "an Argon2id hash at OWASP's parameters");
    assert_eq!(
        w.login(ADDRESS, STRANGER_PASSWORD).code(),
        "AUTH_INVALID_CREDENTIALS"
    );
}

#[test]
fn a_created_admin_is_audited() {
    let w = World::seeded(5);
    w.run(&w.sql(false)).expect("the admin is created");
    assert_eq!(
        w.events("admin.created"),
        [(
            json!(format!("admin-{START_MS}")),
            json!({"roles": ["admin"]})
        )]
    );
}

#[test]
fn an_existing_account_is_refused_without_promote_and_left_untouched() {
    let w = World::seeded(5);
    let (access, refresh, _) = w.stranger_with_totp_and_sessions();
    let before = w.snapshot();
    let refused = w
        .run(&w.sql(false))
        .expect_err("an existing account is refused");
    // scripts/admin recognises the refusal by this message.
    assert!(
        refused.contains("UNIQUE constraint failed: users.site_id, users.email"),
        "{refused}"
    );
    assert_eq!(w.snapshot(), before, "nothing is written");
    assert_eq!(
        w.login(ADDRESS, OPERATOR_PASSWORD).code(),
        "AUTH_INVALID_CREDENTIALS"
    );
    assert_eq!(
        w.login(ADDRESS, STRANGER_PASSWORD).data()["mfaRequired"],
        true
    );
    assert_eq!(w.me(&access).status, 200);
    let refreshed = w.refresh(&refresh);
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
}

#[test]
fn promotion_sets_the_given_password_clears_totp_and_recovery_codes_ends_sessions_and_is_audited() {
    let w = World::seeded(5);
    let (access, refresh, mfa_token) = w.stranger_with_totp_and_sessions();
    let stranger_id = w.me(&access).data()["id"].clone();
    w.clock.advance_ms(1_000);
    w.run(&w.sql(true)).expect("the account is promoted");

    // Every session ended, with a reason; the pending second factor is gone.
    assert_eq!(w.me(&access).code(), "AUTH_TOKEN_REVOKED");
    let refreshed = w.refresh(&refresh);
    assert_eq!(refreshed.code(), "AUTH_TOKEN_REVOKED", "{refreshed:?}");
    assert_eq!(
        w.count("SELECT count(*) FROM sessions WHERE revoked_at IS NULL OR revoke_reason <> 'admin_promoted'"),
        0
    );
    assert_eq!(w.count("SELECT count(*) FROM sessions"), 2);
    let code = w.call(
        RouteId::AuthLoginMfa,
        &json!({"mfaToken": mfa_token, "code": "000000"}),
    );
    assert_eq!(code.status, 401, "{code:?}");
    assert_eq!(w.count("SELECT count(*) FROM mfa_challenges"), 0);

    // The second factor and its recovery codes are gone.
    assert_eq!(w.count("SELECT count(*) FROM recovery_codes"), 0);
    assert_eq!(
        w.count("SELECT count(*) FROM users WHERE mfa_secret IS NULL AND mfa_pending IS NULL AND mfa_last_step IS NULL"),
        1
    );

    // Only the operator's password opens it now, without a second factor.
    assert_eq!(
        w.login(ADDRESS, STRANGER_PASSWORD).code(),
        "AUTH_INVALID_CREDENTIALS"
    );
    let login = w.login(ADDRESS, OPERATOR_PASSWORD);
    assert_eq!(login.status, 200, "{login:?}");
    assert_eq!(login.data()["user"]["id"], stranger_id);
    assert_eq!(login.data()["user"]["roles"], json!(["admin", "member"]));
    assert_eq!(login.data()["user"]["mfaEnabled"], false);

    assert_eq!(
        w.events("admin.promoted"),
        [(
            stranger_id,
            json!({
                "before": ["member"],
                "after": ["member", "admin"],
                "secondFactorCleared": true,
                "sessionsEnded": 2,
            })
        )]
    );
}

#[test]
fn promotion_of_an_address_without_an_account_creates_the_admin() {
    let w = World::seeded(5);
    w.run(&w.sql(true)).expect("the admin is created");
    let login = w.login(ADDRESS, OPERATOR_PASSWORD);
    assert_eq!(login.status, 200, "{login:?}");
    assert_eq!(login.data()["user"]["roles"], json!(["admin"]));
    assert_eq!(w.events("admin.promoted"), []);
    assert_eq!(w.events("admin.created").len(), 1);
}

#[test]
fn promoting_an_admin_again_keeps_its_roles_as_they_are() {
    let w = World::seeded(5);
    w.run(&w.sql(true)).expect("the admin is created");
    w.clock.advance_ms(1_000);
    w.run(&w.sql(true)).expect("promoted again");
    let login = w.login(ADDRESS, OPERATOR_PASSWORD);
    assert_eq!(login.data()["user"]["roles"], json!(["admin"]), "{login:?}");
}

#[test]
fn the_promotion_is_listed_in_the_admin_audit_log_under_its_type() {
    let w = World::seeded(5);
    w.stranger_with_totp_and_sessions();
    w.run(&w.sql(true)).expect("the account is promoted");
    // The new admin enrols a factor of their own and reads the log.
    let login = w.login(ADDRESS, OPERATOR_PASSWORD);
    let (secret, _) = w.enable_totp(&World::session_of(&login));
    w.clock.advance_ms(30_000);
    let challenge = w.login(ADDRESS, OPERATOR_PASSWORD);
    let code = totp::code_at(&secret, w.now_secs());
    let staff = w.call(
        RouteId::AuthLoginMfa,
        &json!({"mfaToken": challenge.data()["mfaToken"], "code": code}),
    );
    let staff = staff.token("accessToken");
    for kind in ["admin.promoted", "admin.created"] {
        let page = w.call_full(
            RouteId::AdminAudit,
            &Value::Null,
            Some(&staff),
            None,
            &format!("type={kind}"),
        );
        assert_eq!(page.status, 200, "{kind}: {page:?}");
        let want = u64::from(kind == "admin.promoted");
        assert_eq!(
            page.body["pagination"]["totalItems"], want,
            "{kind}: {page:?}"
        );
    }
}
