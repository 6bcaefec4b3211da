//! Rotating `SEAL_KEY_WRAP`, the secret that wraps the edge-seal private
//! keys in D1: with the replaced secret as `SEAL_KEY_WRAP_PREVIOUS`, keys
//! wrapped under it still open, every key written afterwards is wrapped
//! under the new one, and without it the old keys fail with an error that
//! names the secrets but holds nothing secret.
use rand_core::OsRng;
use sealpost_api::ApiResponse;
use sealpost_auth_core::keys::{self, KeyCache, KeyPolicy, WrapKey};
use sealpost_auth_core::seal_layer::{self, SealContext};
use sealpost_ports::{Clock, PortError, Sql, Statement};
use sealpost_seal::{b64, seal_request};
use sealpost_testkit::{Base, SqliteDb, block_on};

const START_MS: i64 = 1_795_000_000_000;
const HOUR_MS: i64 = 3_600_000;
const OLD: [u8; 32] = [42u8; 32];
const NEW: [u8; 32] = [43u8; 32];

fn wrap(bytes: &[u8; 32]) -> WrapKey {
    WrapKey::from_secret(&b64(bytes)).expect("32-byte wrap key")
}

/// The new secret, still opening keys wrapped under the old one.
fn rotated() -> WrapKey {
    wrap(&NEW).with_previous(wrap(&OLD))
}

struct World {
    /// Database, clock and randomness.
    base: Base,
    policy: KeyPolicy,
}

sealpost_testkit::world_on_base!(World);

impl World {
    /// A deployment whose first key was made under the old secret.
    fn new() -> World {
        let w = World {
            base: Base::new(START_MS, 3),
            policy: KeyPolicy::default(),
        };
        block_on(keys::load_or_create(
            &w.db,
            &w.clock,
            &w.rng,
            &wrap(&OLD),
            w.policy,
        ))
        .expect("first key");
        w
    }

    /// The auth cron, with `wrap` configured.
    fn rotate(&self, wrap: &WrapKey) {
        block_on(keys::rotate(
            &self.db,
            &self.clock,
            &self.rng,
            wrap,
            self.policy,
        ))
        .expect("rotation");
    }

    /// A sealed login to the newest published key, through a fresh isolate
    /// configured with `wrap`: the answer's status.
    fn sealed_login(&self, wrap: &WrapKey) -> u16 {
        let cache = KeyCache::default();
        let ctx = SealContext {
            sql: &self.db,
            clock: &self.clock,
            rng: &self.rng,
            wrap,
            policy: self.policy,
        };
        let ring = block_on(cache.get(&self.db, &self.clock, &self.rng, wrap, self.policy, None))
            .expect("keys load");
        let config = ring.configs(self.clock.now_ms()).remove(0);
        let req = seal_request(
            &config,
            "POST",
            "/auth/login",
            b"{}",
            self.clock.now_secs(),
            &mut OsRng,
        )
        .expect("seal");
        let body = req.envelope.to_json();
        let resp = block_on(seal_layer::serve(
            &ctx,
            &cache,
            "POST",
            "/auth/login",
            body.as_bytes(),
            |_| async { ApiResponse::mutation(200, "Opened", &serde_json::Value::Null) },
        ))
        .expect("no port failure");
        resp.status
    }

    fn wrapped_keys(&self) -> Vec<String> {
        block_on(
            self.db
                .query(&Statement::new("SELECT private_key FROM seal_keys")),
        )
        .unwrap()
        .into_iter()
        .filter_map(|r| {
            r.get("private_key")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .collect()
    }
}

#[test]
fn keys_wrapped_under_the_old_secret_still_open_after_it_is_rotated() {
    let w = World::new();
    assert_eq!(w.sealed_login(&rotated()), 200);
    let ring = block_on(keys::load(&w.db, &rotated())).expect("keys load");
    assert_eq!(ring.kids(), [0]);
    assert_eq!(ring.under_previous_wrap(), 1);
}

#[test]
fn keys_written_after_the_rotation_are_wrapped_under_the_new_secret() {
    let w = World::new();
    w.clock.advance_ms(24 * HOUR_MS);
    w.rotate(&rotated());
    let ring = block_on(keys::load(&w.db, &rotated())).expect("keys load");
    assert_eq!(ring.kids(), [1, 0]);
    assert_eq!(
        ring.under_previous_wrap(),
        1,
        "only the old key needs the old secret"
    );
    assert_eq!(w.sealed_login(&rotated()), 200, "the new key serves");
    // Past the old key's grace the cron destroys it; the new secret alone
    // then opens every key.
    w.clock.advance_ms(HOUR_MS);
    w.rotate(&rotated());
    let ring = block_on(keys::load(&w.db, &wrap(&NEW))).expect("new secret alone");
    assert_eq!(ring.kids(), [1]);
    assert_eq!(ring.under_previous_wrap(), 0);
    assert_eq!(w.sealed_login(&wrap(&NEW)), 200);
}

#[test]
fn without_the_previous_secret_old_keys_fail_with_a_clear_error_that_holds_no_secret() {
    let w = World::new();
    let err = block_on(keys::load(&w.db, &wrap(&NEW))).expect_err("old key without the old secret");
    let PortError::Decode(message) = &err else {
        panic!("a decode failure, not {err:?}");
    };
    assert!(message.contains("seal key 0"), "{message}");
    assert!(message.contains("SEAL_KEY_WRAP"), "{message}");
    assert!(message.contains("SEAL_KEY_WRAP_PREVIOUS"), "{message}");
    let text = format!("{err} {err:?}");
    for secret in [b64(&OLD), b64(&NEW)].into_iter().chain(w.wrapped_keys()) {
        assert!(!text.contains(&secret), "the error holds a secret: {text}");
    }
}

/// A key row as an earlier release wrote it: private key `[5; 32]` as kid 0
/// under `OLD`, nonce `00 01 … 0b` (the at-rest format must keep opening it).
const STORED_WRAPPED_KEY: &str =
    "AAECAwQFBgcICQoLSShRTZkmJjubNgPu17mAhijvl4qcHrxVLcrBBzJ89KqQ9hwc4ZrcqMMeqxZ3X15d";

#[test]
fn a_key_row_written_by_an_earlier_release_still_unwraps() {
    let db = SqliteDb::open_migrated();
    let sk = sealpost_seal::SecretKey::from_bytes(&[5u8; 32]).expect("scalar");
    block_on(
        db.execute(
            &Statement::new(
                "INSERT INTO seal_keys (kid, public_key, private_key, created_at, rotate_at, \
                 expires_at) VALUES (0, ?1, ?2, ?3, ?4, ?5)",
            )
            .bind(b64(&sk.public_key().to_sec1()))
            .bind(STORED_WRAPPED_KEY)
            .bind(START_MS)
            .bind(START_MS + 24 * HOUR_MS)
            .bind(START_MS + 25 * HOUR_MS),
        ),
    )
    .expect("insert");
    let ring = block_on(keys::load(&db, &wrap(&OLD))).expect("unwraps");
    let key = ring.live(0, START_MS).expect("kid 0");
    assert_eq!(*key.secret.to_bytes(), [5u8; 32]);
    assert!(block_on(keys::load(&db, &wrap(&NEW))).is_err());
}
