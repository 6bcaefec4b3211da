//! The auth service on the native doubles, shared by the test binaries
//! (auth's own, and the admin command's, which includes this file): the
//! testkit's base (SQLite with the real migrations, a manual clock, seeded
//! randomness), cheap Argon2id parameters, one helper that calls any route
//! and helpers that sign up, log in and enrol TOTP.
// Each test binary uses part of the harness.
#![allow(dead_code)]

use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, ApiResponse};
use sealpost_auth_core::audit::Origin;
use sealpost_auth_core::password::PasswordPolicy;
use sealpost_auth_core::secrets::AuthSecrets;
use sealpost_auth_core::service::{Auth, Failure};
use sealpost_auth_core::tokens::SigningKey;
use sealpost_auth_core::totp;
use sealpost_ports::{Clock, SiteDb, SiteId, Sql, Statement};
use sealpost_testkit::{Base, block_on};
use serde_json::{Value, json};

pub const START_MS: i64 = 1_795_000_000_000;
pub const PASSWORD: &str = "correct horse battery";
pub const MINUTE: i64 = 60_000;

pub struct World {
    /// Database, clock and randomness.
    pub base: Base,
    pub secrets: AuthSecrets,
    pub ip: String,
}

sealpost_testkit::world_on_base!(World);

/// An answer: status, inner JSON, and the `Retry-After` header.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

impl World {
    pub fn new() -> World {
        World::seeded(11)
    }

    /// A world whose randomness comes from `seed`.
    pub fn seeded(seed: u64) -> World {
        let signing = SigningKey::from_scalar(&[7u8; 32]).expect("scalar");
        World {
            base: Base::new(START_MS, seed),
            secrets: AuthSecrets::from_parts(signing, &[9u8; 32], None).expect("secrets"),
            ip: "192.0.2.1".into(),
        }
    }

    pub fn call_full(
        &self,
        route: RouteId,
        body: &Value,
        bearer: Option<&str>,
        id: Option<&str>,
        query: &str,
    ) -> Reply {
        let auth = Auth {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            clock: &self.clock,
            rng: &self.rng,
            secrets: &self.secrets,
            origin: Origin::new("req-1", self.secrets.ip_hash(&self.ip), "test-agent/1.0"),
            // Cheap parameters: the flows, not the hash cost, are under test.
            policy: PasswordPolicy {
                m_cost_kib: 64,
                t_cost: 1,
                p_cost: 1,
            },
        };
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let mut req = ApiRequest::new(route, SiteId::default_site())
            .with_query(query)
            .with_body(body);
        if let Some(t) = bearer {
            req = req.with_bearer(t);
        }
        if let Some(id) = id {
            req = req.with_param("id", id);
        }
        let resp: ApiResponse = match block_on(auth.handle(&req)) {
            Ok(r) => r,
            Err(Failure::Api(e)) => e.into_response(),
            Err(f) => panic!("internal failure: {f:?}"),
        };
        Reply {
            status: resp.status,
            retry_after: resp.header("retry-after").map(str::to_owned),
            body: resp.body_json().unwrap_or(Value::Null),
        }
    }

    pub fn call(&self, route: RouteId, body: &Value) -> Reply {
        self.call_full(route, body, None, None, "")
    }

    pub fn bearer(&self, route: RouteId, token: &str, body: &Value) -> Reply {
        self.call_full(route, body, Some(token), None, "")
    }

    pub fn session_of(reply: &Reply) -> Session {
        assert!(reply.status == 200 || reply.status == 201, "{reply:?}");
        let d = reply.data();
        Session {
            user_id: d["user"]["id"].as_str().unwrap_or_default().to_owned(),
            access: d["tokens"]["accessToken"]
                .as_str()
                .expect("access")
                .to_owned(),
            refresh: d["tokens"]["refreshToken"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }

    /// The session a refresh answer continues (`{tokens}`, no user).
    pub fn session_of_tokens(reply: &Reply, user_id: &str) -> Session {
        assert_eq!(reply.status, 200, "{reply:?}");
        let tokens = &reply.data()["tokens"];
        Session {
            user_id: user_id.to_owned(),
            access: tokens["accessToken"].as_str().expect("access").to_owned(),
            refresh: tokens["refreshToken"].as_str().expect("refresh").to_owned(),
        }
    }

    pub fn signup(&self, email: &str) -> Session {
        Self::session_of(&self.call(
            RouteId::AuthSignup,
            &json!({"email": email, "password": PASSWORD}),
        ))
    }

    pub fn login(&self, email: &str, password: &str) -> Reply {
        self.call(
            RouteId::AuthLogin,
            &json!({"email": email, "password": password}),
        )
    }

    pub fn refresh(&self, token: &str) -> Reply {
        self.call(RouteId::AuthRefresh, &json!({"refreshToken": token}))
    }

    pub fn me(&self, access: &str) -> Reply {
        self.bearer(RouteId::AuthMe, access, &Value::Null)
    }

    pub fn now_secs(&self) -> u64 {
        u64::try_from(self.clock.now_secs()).unwrap()
    }

    /// Enables TOTP for `s`; the secret and the recovery codes.
    pub fn enable_totp(&self, s: &Session) -> (Vec<u8>, Vec<String>) {
        let setup = self.bearer(RouteId::AuthTotpSetup, &s.access, &json!({}));
        assert_eq!(setup.status, 200, "{setup:?}");
        let secret = totp::base32_decode(setup.data()["secret"].as_str().unwrap()).unwrap();
        let code = totp::code_at(&secret, self.now_secs());
        let enable = self.bearer(RouteId::AuthTotpEnable, &s.access, &json!({"code": code}));
        assert_eq!(enable.status, 200, "{enable:?}");
        let codes = enable.data()["recoveryCodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (secret, codes)
    }

    /// Logs in with a second factor (moves the clock to a fresh TOTP step).
    pub fn login_with_otp(&self, email: &str, secret: &[u8]) -> Session {
        self.clock.advance_ms(30_000);
        let first = self.login(email, PASSWORD);
        let token = first.data()["mfaToken"]
            .as_str()
            .expect("mfaToken")
            .to_owned();
        let code = totp::code_at(secret, self.now_secs());
        Self::session_of(&self.call(
            RouteId::AuthLoginMfa,
            &json!({"mfaToken": token, "code": code}),
        ))
    }

    pub fn sql_strings(&self, sql: &str) -> Vec<String> {
        let rows = block_on(self.db.query(&Statement::new(sql))).unwrap();
        rows.into_iter()
            .flat_map(|r| r.into_iter().map(|(_, v)| v.to_string()))
            .collect()
    }

    pub fn make_admin(&self, user_id: &str) {
        block_on(self.db.execute(
            &Statement::new("UPDATE users SET roles = '[\"admin\"]' WHERE id = ?1").bind(user_id),
        ))
        .unwrap();
    }
}

pub fn claims(access: &str) -> Value {
    use base64::Engine as _;
    let payload = access.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
