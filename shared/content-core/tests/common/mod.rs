//! The native world of the content tests: SQLite with the real migrations, a
//! manual clock, seeded randomness, the in-memory rate limiter (5 views per
//! 60 s) and real ES256 access tokens — with one helper that calls any route
//! and one that makes a user with a live session. Each test file adds its
//! own route helpers in its own `impl World` block and uses a part of this.
#![allow(dead_code)]

use sealpost_api::routes::RouteId;
use sealpost_api::{ApiResponse, Query};
use sealpost_auth_core::tokens::{self, SigningKey};
use sealpost_content_core::{Content, Fault, Input};
use sealpost_guard::{Role, Verifier};
use sealpost_ports::{Clock, SiteDb, SiteId, Sql, Statement};
use sealpost_testkit::{ManualClock, MemRateLimiter, SeededRng, SqliteDb, block_on, seed};
use serde_json::Value;

pub const START_MS: i64 = 1_795_000_000_000;
pub const MINUTE: i64 = 60_000;
/// The `VISITOR_KEY` of this world.
pub const KEY: [u8; 32] = [9u8; 32];

pub struct World {
    pub db: SqliteDb,
    pub clock: ManualClock,
    pub rng: SeededRng,
    pub signing: SigningKey,
    pub verifier: Verifier,
    pub limiter: MemRateLimiter,
}

/// An answer: status, JSON body and the headers the tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    pub retry_after: Option<String>,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The fields of a `VALIDATION_FAILED` answer, in order.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What a request carries besides its route.
#[derive(Default, Clone, Copy)]
pub struct Req<'a> {
    /// A JSON body…
    pub body: Option<&'a Value>,
    /// …or raw bytes.
    pub raw: Option<&'a [u8]>,
    pub token: Option<&'a str>,
    pub id: Option<&'a str>,
    pub slug: Option<&'a str>,
    pub query: &'a str,
    pub if_none_match: Option<&'a str>,
    pub ip: &'a str,
}

impl World {
    pub fn new(seed: u64) -> World {
        let signing = SigningKey::from_scalar(&[7u8; 32]).expect("scalar");
        let verifier = Verifier::from_jwks(&tokens::jwks(&[&signing])).expect("jwks");
        let clock = ManualClock::new(START_MS);
        World {
            db: SqliteDb::open_migrated(),
            limiter: MemRateLimiter::new(5, 60, clock.clone()),
            clock,
            rng: SeededRng::new(seed),
            signing,
            verifier,
        }
    }

    pub fn sql(&self, stmt: Statement) {
        block_on(self.db.execute(&stmt)).expect("sql");
    }

    /// The first column of the first row of `sql`.
    pub fn scalar(&self, sql: &str) -> Value {
        let rows = block_on(self.db.query(&Statement::new(sql))).expect("query");
        rows.into_iter()
            .next()
            .and_then(|r| r.into_iter().next().map(|(_, v)| v))
            .map(|v| serde_json::to_value(v).expect("value"))
            .unwrap_or(Value::Null)
    }

    /// A user with `roles` and a live session opened with `amr`; its token.
    pub fn user(&self, name: &str, roles: &[Role], amr: &[&str]) -> String {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let (id, sid) = seed::user(&self.db, name, &names, amr, self.clock.now_ms());
        let claims = tokens::access_claims(&id, &sid, "jti-1", roles, amr, self.clock.now_secs());
        tokens::issue(&claims, &self.signing).expect("token")
    }

    /// A member with a password-only session; its token.
    pub fn member(&self, name: &str) -> String {
        self.user(name, &[Role::Member], &["pwd"])
    }

    /// Calls `route` as the worker would.
    pub fn call(&self, route: RouteId, r: Req<'_>) -> Reply {
        let content = Content {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            clock: &self.clock,
            rng: &self.rng,
            verifier: Some(&self.verifier),
            visitor_key: Some(&KEY),
            views_limiter: Some(&self.limiter),
        };
        let body = match (r.raw, r.body) {
            (Some(raw), _) => raw.to_vec(),
            (None, Some(v)) => v.to_string().into_bytes(),
            (None, None) => Vec::new(),
        };
        let header = r.token.map(|t| format!("Bearer {t}"));
        let query = Query::parse(r.query);
        let input = Input {
            route,
            body: &body,
            authorization: header.as_deref(),
            id: r.id,
            slug: r.slug,
            query: &query,
            if_none_match: r.if_none_match,
            client_ip: r.ip,
        };
        let resp: ApiResponse = match block_on(content.handle(input)) {
            Ok(r) => r,
            Err(Fault::Api(e)) => e.into_response(),
            Err(Fault::Port(e)) => panic!("platform failure: {e}"),
        };
        Reply {
            status: resp.status,
            etag: resp.header("etag").map(str::to_owned),
            cache_control: resp.header("cache-control").map(str::to_owned),
            retry_after: resp.header("retry-after").map(str::to_owned),
            body: resp.body_json().unwrap_or(Value::Null),
        }
    }
}
