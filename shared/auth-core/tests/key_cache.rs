//! One isolate's key cache under overlapping requests: it is shared, not
//! taken out of the isolate by a request, so requests that overlap read and
//! unwrap the keys once (no request waits for another's I/O, which the
//! Workers runtime forbids). The SQL double counts key loads and suspends on
//! every call, as D1 does, so the requests really interleave.
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use rand_core::OsRng;
use sealpost_api::ApiResponse;
use sealpost_auth_core::keys::{self, KeyCache, KeyPolicy, WrapKey};
use sealpost_auth_core::seal_layer::{self, SealContext};
use sealpost_ports::{Clock, ExecResult, PortError, Row, Sql, Statement};
use sealpost_seal::{b64, seal_request};
use sealpost_testkit::{Base, ManualClock, SeededRng, SqliteDb, block_on};

const START_MS: i64 = 1_795_000_000_000;
const LOGIN: &str = "/auth/login";

/// Suspends once, then completes: a D1 round trip, for the executor.
#[derive(Default)]
struct Suspend(bool);

impl Future for Suspend {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// The SQLite double behind a suspension per call, counting key loads
/// (each one unwraps every stored key).
struct CountingSql<'a> {
    inner: &'a SqliteDb,
    key_loads: Cell<usize>,
}

impl CountingSql<'_> {
    fn count(&self, stmt: &Statement) {
        let sql = stmt.sql().trim_start();
        if sql.starts_with("SELECT kid, public_key, private_key") {
            self.key_loads.set(self.key_loads.get() + 1);
        }
    }
}

impl Sql for CountingSql<'_> {
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        self.count(stmt);
        Suspend::default().await;
        self.inner.query(stmt).await
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        Suspend::default().await;
        self.inner.execute(stmt).await
    }

    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        Suspend::default().await;
        self.inner.batch(stmts).await
    }
}

struct World {
    /// Database, clock and randomness.
    base: Base,
    wrap: WrapKey,
}

sealpost_testkit::world_on_base!(World);

impl World {
    /// A deployment whose first key exists (made by another isolate).
    fn new() -> World {
        let w = World {
            base: Base::new(START_MS, 5),
            wrap: WrapKey::from_secret(&b64(&[42u8; 32])).expect("wrap key"),
        };
        block_on(keys::load_or_create(
            &w.db,
            &w.clock,
            &w.rng,
            &w.wrap,
            KeyPolicy::default(),
        ))
        .expect("first key");
        w
    }

    /// A sealed login body for the published key.
    fn sealed_body(&self) -> Vec<u8> {
        let ring = block_on(keys::load(&self.db, &self.wrap)).expect("keys");
        let config = ring.configs(self.clock.now_ms()).remove(0);
        let req = seal_request(
            &config,
            "POST",
            LOGIN,
            b"{}",
            self.clock.now_secs(),
            &mut OsRng,
        )
        .expect("seal");
        req.envelope.to_json().into_bytes()
    }
}

/// One sealed request through `cache`; its handler waits for `rounds`
/// suspensions (a slow route: Argon2id, D1 writes) before answering.
async fn request(
    ctx: &SealContext<'_, CountingSql<'_>, ManualClock, SeededRng>,
    cache: &KeyCache,
    body: &[u8],
    rounds: usize,
) -> u16 {
    let resp = seal_layer::serve(ctx, cache, "POST", LOGIN, body, |_| async move {
        for _ in 0..rounds {
            Suspend::default().await;
        }
        ApiResponse::mutation(200, "Done", &serde_json::Value::Null)
    })
    .await
    .expect("no port failure");
    resp.status
}

#[test]
fn two_overlapping_requests_after_the_cache_expired_unwrap_the_keys_once() {
    let w = World::new();
    let sql = CountingSql {
        inner: &w.db,
        key_loads: Cell::new(0),
    };
    let ctx = SealContext {
        sql: &sql,
        clock: &w.clock,
        rng: &w.rng,
        wrap: &w.wrap,
        policy: KeyPolicy::default(),
    };
    let cache = KeyCache::default();
    assert_eq!(block_on(request(&ctx, &cache, &w.sealed_body(), 0)), 200);
    w.clock.advance_ms(keys::CACHE_MAX_AGE_MS);
    let (a, b) = (w.sealed_body(), w.sealed_body());
    let statuses = block_on(futures::future::join(
        request(&ctx, &cache, &a, 3),
        request(&ctx, &cache, &b, 0),
    ));
    assert_eq!(statuses, (200, 200));
    assert_eq!(
        sql.key_loads.get(),
        2,
        "the warm-up and one re-read: the keys were read and unwrapped once for both"
    );
}

#[test]
fn a_request_still_being_handled_does_not_hide_the_keys_from_the_next() {
    let w = World::new();
    let sql = CountingSql {
        inner: &w.db,
        key_loads: Cell::new(0),
    };
    let ctx = SealContext {
        sql: &sql,
        clock: &w.clock,
        rng: &w.rng,
        wrap: &w.wrap,
        policy: KeyPolicy::default(),
    };
    let cache = KeyCache::default();
    assert_eq!(block_on(request(&ctx, &cache, &w.sealed_body(), 0)), 200);
    assert_eq!(sql.key_loads.get(), 1, "the warm-up read the keys");
    // A slow request is in its handler while two more arrive.
    let (slow, b, c) = (w.sealed_body(), w.sealed_body(), w.sealed_body());
    let statuses = block_on(futures::future::join3(
        request(&ctx, &cache, &slow, 10),
        request(&ctx, &cache, &b, 0),
        request(&ctx, &cache, &c, 0),
    ));
    assert_eq!(statuses, (200, 200, 200));
    assert_eq!(sql.key_loads.get(), 1, "a warm cache is not read again");
}
