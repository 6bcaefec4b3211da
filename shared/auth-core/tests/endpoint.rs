//! The auth entry (`Endpoint::serve`) natively: which route needs which
//! setting, the key routes, and the sealing layer around the sealed routes
//! — an internal failure behind a sealed route is answered sealed, with its
//! cause handed to the boundary to log.
use std::rc::Rc;

use rand_core::OsRng;
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, Failure};
use sealpost_auth_core::password::PasswordPolicy;
use sealpost_auth_core::secrets::AuthSecrets;
use sealpost_auth_core::tokens::SigningKey;
use sealpost_auth_core::{Endpoint, KeyCache, SealSetup};
use sealpost_ports::{Clock, ExecResult, PortError, Row, SiteId, Sql, Statement};
use sealpost_seal::{KeyConfig, b64, seal_request};
use sealpost_testkit::{Base, ManualClock, SeededRng, SqliteDb, block_on};
use serde_json::json;

const START_MS: i64 = 1_795_000_000_000;

/// The database, except that every statement on `users` fails (what an
/// outage mid-request looks like to the signup).
struct UsersDown<'a>(&'a SqliteDb);

fn refuse(stmt: &Statement) -> Result<(), PortError> {
    if stmt.sql().contains("users") {
        return Err(PortError::Sql("users unavailable".into()));
    }
    Ok(())
}

impl Sql for UsersDown<'_> {
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        refuse(stmt)?;
        self.0.query(stmt).await
    }
    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        refuse(stmt)?;
        self.0.execute(stmt).await
    }
    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        stmts.iter().try_for_each(refuse)?;
        self.0.batch(stmts).await
    }
}

fn seal_setup() -> Result<SealSetup, Failure> {
    SealSetup::from_values(Some(&b64(&[42u8; 32])), None, None, None)
}

fn secrets() -> Result<Rc<AuthSecrets>, Failure> {
    let signing = SigningKey::from_scalar(&[7u8; 32]).expect("scalar");
    Ok(Rc::new(
        AuthSecrets::from_parts(signing, &[9u8; 32], None).expect("secrets"),
    ))
}

struct World {
    /// Database, clock and randomness.
    base: Base,
    keys: KeyCache,
}

sealpost_testkit::world_on_base!(World);

impl World {
    fn new() -> World {
        World {
            base: Base::new(START_MS, 3),
            keys: KeyCache::default(),
        }
    }

    fn endpoint<'a, S: Sql>(
        &'a self,
        sql: &'a S,
        seal: Result<SealSetup, Failure>,
        secrets: Result<Rc<AuthSecrets>, Failure>,
    ) -> Endpoint<'a, S, ManualClock, SeededRng> {
        Endpoint {
            sql,
            clock: &self.clock,
            rng: &self.rng,
            keys: &self.keys,
            seal,
            secrets,
            policy: PasswordPolicy {
                m_cost_kib: 64,
                t_cost: 1,
                p_cost: 1,
            },
        }
    }

    fn request(route: RouteId) -> ApiRequest {
        ApiRequest::new(route, SiteId::default_site()).with_request_id("rid-9")
    }

    fn key_config(&self) -> KeyConfig {
        let resp = block_on(
            self.endpoint(&self.db, seal_setup(), secrets())
                .serve(&Self::request(RouteId::AuthKeys)),
        )
        .expect("keys");
        let body = resp.body_json().unwrap();
        serde_json::from_value(body["data"]["keys"][0].clone()).expect("a key config")
    }
}

fn broken_secrets() -> Result<Rc<AuthSecrets>, Failure> {
    Err(Failure::Config("AUTH_DATA_KEY is missing".into()))
}

#[test]
fn the_seal_keys_are_served_even_when_the_auth_secrets_are_broken() {
    let w = World::new();
    let resp = block_on(
        w.endpoint(&w.db, seal_setup(), broken_secrets())
            .serve(&World::request(RouteId::AuthKeys)),
    )
    .expect("keys");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(
        resp.body_json().unwrap()["data"]["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_jwks_needs_the_secrets_but_not_the_seal_settings() {
    let w = World::new();
    let broken_seal = Err(Failure::Config("SEAL_KEY_WRAP is missing".into()));
    let resp = block_on(
        w.endpoint(&w.db, broken_seal, secrets())
            .serve(&World::request(RouteId::AuthJwks)),
    )
    .expect("jwks");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("cache-control"), Some("public, max-age=300"));
    let jwks = block_on(
        w.endpoint(&w.db, seal_setup(), broken_secrets())
            .serve(&World::request(RouteId::AuthJwks)),
    );
    assert!(matches!(jwks, Err(Failure::Config(_))), "{jwks:?}");
}

#[test]
fn a_plain_route_answers_through_the_core_without_the_seal_layer() {
    let w = World::new();
    let outcome = block_on(
        w.endpoint(&w.db, seal_setup(), secrets())
            .serve(&World::request(RouteId::AuthMe)),
    );
    let Err(Failure::Api(e)) = outcome else {
        panic!("expected the core's refusal, got {outcome:?}");
    };
    let resp = e.into_response();
    assert_eq!(resp.status, 401);
    assert_eq!(resp.body_json().unwrap()["error"]["code"], "AUTH_REQUIRED");
}

#[test]
fn an_internal_failure_behind_a_sealed_route_is_answered_sealed_and_reported() {
    let w = World::new();
    let config = w.key_config();
    let sealed = seal_request(
        &config,
        "POST",
        "/auth/signup",
        json!({"email": "a@example.com", "password": "correct horse battery staple", "displayName": "A"})
            .to_string()
            .as_bytes(),
        w.clock.now_secs(),
        &mut OsRng,
    )
    .expect("seal");
    let req = World::request(RouteId::AuthSignup)
        .with_body(serde_json::to_vec(&sealed.envelope).unwrap());
    let down = UsersDown(&w.db);
    let outcome = block_on(w.endpoint(&down, seal_setup(), secrets()).serve(&req));
    let Err(Failure::Answered { answer, cause }) = outcome else {
        panic!("expected a sealed internal failure, got {outcome:?}");
    };
    assert!(
        matches!(*cause, Failure::Port(PortError::Sql(_))),
        "{cause:?}"
    );
    assert_eq!(answer.status, 500);
    let inner = sealed
        .opener
        .open(answer.status, &answer.body)
        .expect("a sealed answer");
    let inner: serde_json::Value = serde_json::from_slice(&inner).unwrap();
    assert_eq!(inner["error"]["code"], "INTERNAL");
    assert_eq!(inner["error"]["requestId"], "rid-9");
}
