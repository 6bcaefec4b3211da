//! The sealing layer against the real migrations (SQLite double of D1), a
//! manual clock and the crate's own client: every server check of the
//! edge-seal contract with its code, sealed answers, replay, and the key
//! lifecycle.
use rand_core::OsRng;
use sealpost_api::{ApiResponse, ErrorCode};
use sealpost_auth_core::keys::{self, KeyCache, KeyPolicy, WrapKey};
use sealpost_auth_core::replay;
use sealpost_auth_core::seal_layer::{self, SealContext};
use sealpost_ports::{Clock, Kv, Sql, Statement};
use sealpost_seal::{KeyConfig, ResponseOpener, b64, seal_request};
use sealpost_testkit::{Base, ManualClock, MemKv, SeededRng, SqliteDb, block_on};
use serde_json::{Value, json};

const START_MS: i64 = 1_795_000_000_000;
const LOGIN: &str = "/auth/login";

struct World {
    /// Database, clock and randomness.
    base: Base,
    wrap: WrapKey,
    policy: KeyPolicy,
    cache: KeyCache,
}

sealpost_testkit::world_on_base!(World);

impl World {
    fn new() -> World {
        World {
            base: Base::new(START_MS, 7),
            wrap: WrapKey::from_secret(&b64(&[42u8; 32])).expect("32-byte wrap key"),
            policy: KeyPolicy::default(),
            cache: KeyCache::default(),
        }
    }

    /// The first key, as another isolate would make it (no cache involved).
    fn make_first_key(&self) {
        block_on(keys::load_or_create(
            &self.db,
            &self.clock,
            &self.rng,
            &self.wrap,
            self.policy,
        ))
        .unwrap();
    }

    fn configs(&mut self) -> Vec<KeyConfig> {
        let ring = block_on(self.cache.get(
            &self.db,
            &self.clock,
            &self.rng,
            &self.wrap,
            self.policy,
            None,
        ))
        .unwrap();
        ring.configs(self.clock.now_ms())
    }

    /// Seals `plaintext` for `path` with the first published key, at the world's time.
    fn seal(&mut self, path: &str, plaintext: &Value) -> (Value, ResponseOpener) {
        let config = self.configs().remove(0);
        self.seal_with(&config, path, plaintext)
    }

    fn seal_with(
        &self,
        config: &KeyConfig,
        path: &str,
        plaintext: &Value,
    ) -> (Value, ResponseOpener) {
        let req = seal_request(
            config,
            "POST",
            path,
            plaintext.to_string().as_bytes(),
            self.clock.now_secs(),
            &mut OsRng,
        )
        .expect("seal");
        (serde_json::to_value(&req.envelope).unwrap(), req.opener)
    }

    /// Posts `body` to `path`; the handler echoes the plaintext in a mutation envelope.
    fn post(&mut self, path: &str, body: &[u8]) -> ApiResponse {
        let ctx = SealContext {
            sql: &self.db,
            clock: &self.clock,
            rng: &self.rng,
            wrap: &self.wrap,
            policy: self.policy,
        };
        block_on(seal_layer::serve(
            &ctx,
            &self.cache,
            "POST",
            path,
            body,
            |plain| async move {
                let echoed: Value = serde_json::from_slice(&plain).unwrap_or(Value::Null);
                ApiResponse::mutation(200, "Echoed", &echoed)
            },
        ))
        .expect("no port failure")
    }

    fn post_json(&mut self, path: &str, body: &Value) -> ApiResponse {
        self.post(path, body.to_string().as_bytes())
    }
}

fn code(resp: &ApiResponse) -> String {
    let body: Value = serde_json::from_slice(&resp.body).expect("JSON error body");
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn assert_refused(resp: &ApiResponse, status: u16, code_: ErrorCode) {
    assert_eq!(
        resp.status,
        status,
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(code(resp), code_.as_str());
}

fn open(opener: &ResponseOpener, resp: &ApiResponse) -> Value {
    let inner = opener
        .open(resp.status, &resp.body)
        .expect("the client opens the sealed answer");
    serde_json::from_slice(&inner).unwrap()
}

#[test]
fn the_first_key_is_made_on_first_use_and_published_with_the_suite() {
    let mut w = World::new();
    let configs = w.configs();
    assert_eq!(configs.len(), 1);
    let k = &configs[0];
    assert_eq!((k.kid, k.kem, k.kdf, k.aead), (0, 0x10, 1, 2));
    assert_eq!(sealpost_seal::unb64(&k.public_key).unwrap().len(), 65);
    assert_eq!(
        k.expires_at,
        sealpost_ports::rfc3339(START_MS + 25 * 3_600_000)
    );
}

#[test]
fn a_sealed_request_opens_and_its_answer_is_sealed_for_that_client_only() {
    let mut w = World::new();
    let (env, opener) = w.seal(LOGIN, &json!({"email": "a@b.c", "password": "pw"}));
    let resp = w.post_json(LOGIN, &env);
    assert_eq!(resp.status, 200);
    let outer: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(outer["success"], true);
    assert!(
        outer["data"]["ct"].is_string(),
        "the answer is sealed: {outer}"
    );
    assert!(
        !String::from_utf8_lossy(&resp.body).contains("a@b.c"),
        "no plaintext on the wire"
    );
    let inner = open(&opener, &resp);
    assert_eq!(inner["data"], json!({"email": "a@b.c", "password": "pw"}));
    // Another client's opener cannot read it.
    let (_, other) = w.seal(LOGIN, &json!({}));
    assert!(other.open(resp.status, &resp.body).is_err());
}

#[test]
fn a_plaintext_body_is_refused_with_seal_required() {
    let mut w = World::new();
    let resp = w.post_json(LOGIN, &json!({"email": "a@b.c", "password": "hunter22"}));
    assert_refused(&resp, 400, ErrorCode::SealRequired);
}

#[test]
fn a_broken_envelope_is_seal_malformed() {
    let mut w = World::new();
    let (env, _) = w.seal(LOGIN, &json!({}));
    for bad in [
        b"not json".to_vec(),
        json!({"v": 1, "kid": 0}).to_string().into_bytes(),
        {
            let mut e = env.clone();
            e["enc"] = json!(b64(&[4u8; 64]));
            e.to_string().into_bytes()
        },
        {
            let mut e = env.clone();
            e["nonce"] = json!(b64(&[1u8; 15]));
            e.to_string().into_bytes()
        },
        {
            let mut e = env.clone();
            e["extra"] = json!(1);
            e.to_string().into_bytes()
        },
    ] {
        assert_refused(&w.post(LOGIN, &bad), 400, ErrorCode::SealMalformed);
    }
}

#[test]
fn an_oversize_envelope_is_413() {
    let mut w = World::new();
    let resp = w.post(LOGIN, &vec![b' '; sealpost_seal::MAX_ENVELOPE_BYTES + 1]);
    assert_refused(&resp, 413, ErrorCode::PayloadTooLarge);
}

#[test]
fn another_version_is_seal_unsupported_version() {
    let mut w = World::new();
    let (mut env, _) = w.seal(LOGIN, &json!({}));
    env["v"] = json!(2);
    assert_refused(
        &w.post_json(LOGIN, &env),
        400,
        ErrorCode::SealUnsupportedVersion,
    );
}

#[test]
fn an_unknown_kid_is_seal_unknown_key() {
    let mut w = World::new();
    let (mut env, _) = w.seal(LOGIN, &json!({}));
    env["kid"] = json!(9);
    assert_refused(&w.post_json(LOGIN, &env), 400, ErrorCode::SealUnknownKey);
    env["kid"] = json!(300);
    assert_refused(&w.post_json(LOGIN, &env), 400, ErrorCode::SealUnknownKey);
}

#[test]
fn an_enc_that_is_not_a_curve_point_is_seal_invalid() {
    let mut w = World::new();
    let (mut env, _) = w.seal(LOGIN, &json!({}));
    let mut enc = [0x04u8; 65];
    enc[1..].fill(0xff);
    env["enc"] = json!(b64(&enc));
    assert_refused(&w.post_json(LOGIN, &env), 400, ErrorCode::SealInvalid);
}

#[test]
fn a_stale_timestamp_is_seal_stale_with_the_server_date() {
    let mut w = World::new();
    let (env, _) = w.seal(LOGIN, &json!({}));
    w.clock.advance_ms(61_000);
    let resp = w.post_json(LOGIN, &env);
    assert_refused(&resp, 400, ErrorCode::SealStale);
    assert_eq!(
        resp.header("Date"),
        Some(seal_layer::http_date(w.clock.now_ms()).as_str())
    );
    // 60 s of skew either way is accepted.
    let (env, _) = w.seal(LOGIN, &json!({}));
    w.clock.advance_ms(60_000);
    assert_eq!(w.post_json(LOGIN, &env).status, 200);
}

/// Timestamps as offsets from the server's clock (or absolute extremes) and
/// whether the layer must open them: the window is ±60 s, and no value may
/// wrap around into it.
const SKEW_VECTORS: [(Ts, bool); 12] = [
    (Ts::Offset(0), true),
    (Ts::Offset(60), true),
    (Ts::Offset(-60), true),
    (Ts::Offset(61), false),
    (Ts::Offset(-61), false),
    (Ts::Absolute(i64::MIN), false),
    (Ts::Absolute(i64::MIN + 1), false),
    (Ts::Absolute(i64::MAX), false),
    (Ts::Absolute(0), false),
    // `now - ts` is exactly i64::MIN: a wrapping `abs()` keeps it negative.
    (Ts::Wrapping(i64::MIN), false),
    (Ts::Wrapping(i64::MIN + 30), false),
    (Ts::Wrapping(i64::MAX), false),
];

#[derive(Debug, Clone, Copy)]
enum Ts {
    /// `now + n` seconds.
    Offset(i64),
    /// This very value.
    Absolute(i64),
    /// `now.wrapping_sub(n)`: the `ts` for which `now - ts` wraps to `n`.
    Wrapping(i64),
}

#[test]
fn timestamps_open_only_within_sixty_seconds_and_extremes_never_wrap_into_the_window() {
    let mut w = World::new();
    let config = w.configs().remove(0);
    let now = w.clock.now_secs();
    for (ts, opens) in SKEW_VECTORS {
        let ts_value = match ts {
            Ts::Offset(n) => now + n,
            Ts::Absolute(v) => v,
            Ts::Wrapping(n) => now.wrapping_sub(n),
        };
        let req = seal_request(&config, "POST", LOGIN, b"{}", ts_value, &mut OsRng).expect("seal");
        let env = serde_json::to_value(&req.envelope).unwrap();
        let resp = w.post_json(LOGIN, &env);
        if opens {
            assert_eq!(resp.status, 200, "{ts:?} must open");
        } else {
            assert_refused(&resp, 400, ErrorCode::SealStale);
        }
    }
}

#[test]
fn a_tampered_ciphertext_or_another_path_is_seal_invalid_and_burns_no_nonce() {
    let mut w = World::new();
    let (env, opener) = w.seal(LOGIN, &json!({"x": 1}));
    let mut tampered = env.clone();
    let mut ct = sealpost_seal::unb64(env["ct"].as_str().unwrap()).unwrap();
    ct[0] ^= 1;
    tampered["ct"] = json!(b64(&ct));
    assert_refused(&w.post_json(LOGIN, &tampered), 400, ErrorCode::SealInvalid);
    assert_refused(
        &w.post_json("/auth/signup", &env),
        400,
        ErrorCode::SealInvalid,
    );
    // The genuine request with the same nonce still opens: failures record nothing.
    let resp = w.post_json(LOGIN, &env);
    assert_eq!(resp.status, 200);
    assert_eq!(open(&opener, &resp)["data"], json!({"x": 1}));
}

#[test]
fn a_replay_is_409_seal_replay_and_sealed() {
    let mut w = World::new();
    let (env, opener) = w.seal(LOGIN, &json!({}));
    assert_eq!(w.post_json(LOGIN, &env).status, 200);
    let again = w.post_json(LOGIN, &env);
    assert_eq!(again.status, 409);
    let inner = open(&opener, &again);
    assert_eq!(inner["error"]["code"], "SEAL_REPLAY");
    assert_eq!(
        serde_json::from_slice::<Value>(&again.body).unwrap()["success"],
        false
    );
}

#[test]
fn keys_rotate_keep_the_previous_key_through_its_grace_then_destroy_it() {
    let mut w = World::new();
    let (old_env, _) = w.seal(LOGIN, &json!({"n": 1}));
    let first = w.configs().remove(0);

    // Not due yet: nothing happens.
    let r = block_on(keys::rotate(&w.db, &w.clock, &w.rng, &w.wrap, w.policy)).unwrap();
    assert_eq!(r, keys::Rotation::default());

    w.clock.advance_ms(24 * 3_600_000);
    let r = block_on(keys::rotate(&w.db, &w.clock, &w.rng, &w.wrap, w.policy)).unwrap();
    assert_eq!(r.created, Some(1));
    let configs = w.configs();
    assert_eq!(
        configs.iter().map(|k| k.kid).collect::<Vec<_>>(),
        vec![1, 0],
        "the new key comes first"
    );
    assert_eq!(
        configs[1].expires_at,
        sealpost_ports::rfc3339(w.clock.now_ms() + 3_600_000)
    );

    // The previous key is still accepted within its grace.
    let (env, opener) = w.seal_with(&first, LOGIN, &json!({"n": 2}));
    let resp = w.post_json(LOGIN, &env);
    assert_eq!(open(&opener, &resp)["data"], json!({"n": 2}));

    // Past the grace it is destroyed: its kid is unknown, and a recording of
    // traffic under it cannot be opened by the server any more.
    w.clock.advance_ms(3_600_000);
    let r = block_on(keys::rotate(&w.db, &w.clock, &w.rng, &w.wrap, w.policy)).unwrap();
    assert_eq!(r.destroyed, vec![0]);
    let rows = block_on(w.db.query(&Statement::new("SELECT kid FROM seal_keys"))).unwrap();
    assert_eq!(rows.len(), 1);
    let (env, _) = w.seal_with(&first, LOGIN, &json!({"n": 3}));
    assert_refused(&w.post_json(LOGIN, &env), 400, ErrorCode::SealUnknownKey);
    // Traffic recorded under the destroyed key is refused: no key can open it.
    assert_refused(
        &w.post_json(LOGIN, &old_env),
        400,
        ErrorCode::SealUnknownKey,
    );
}

#[test]
fn overlapping_rotations_publish_one_new_key() {
    let w = World::new();
    w.make_first_key();
    w.clock.advance_ms(25 * 3_600_000);
    let a = block_on(keys::rotate(&w.db, &w.clock, &w.rng, &w.wrap, w.policy)).unwrap();
    let b = block_on(keys::rotate(&w.db, &w.clock, &w.rng, &w.wrap, w.policy)).unwrap();
    assert_eq!((a.created, b.created), (Some(1), None));
    let rows =
        block_on(w.db.query(&Statement::new("SELECT kid FROM seal_keys ORDER BY kid"))).unwrap();
    assert_eq!(rows.len(), 2);
}

#[test]
fn isolates_racing_on_first_use_make_one_key() {
    let w = World::new();
    let rng2 = SeededRng::new(99);
    let a = block_on(keys::load_or_create(
        &w.db, &w.clock, &w.rng, &w.wrap, w.policy,
    ))
    .unwrap();
    let b = block_on(keys::load_or_create(
        &w.db, &w.clock, &rng2, &w.wrap, w.policy,
    ))
    .unwrap();
    assert_eq!(a.configs(START_MS), b.configs(START_MS));
}

#[test]
fn an_isolate_with_an_old_copy_learns_a_new_key_when_a_request_names_it() {
    let mut w = World::new();
    assert_eq!(w.configs().len(), 1);
    w.clock.advance_ms(24 * 3_600_000);
    // Another isolate (no shared cache) rotates.
    block_on(keys::rotate(&w.db, &w.clock, &w.rng, &w.wrap, w.policy)).unwrap();
    let newest = block_on(keys::load(&w.db, &w.wrap))
        .unwrap()
        .configs(w.clock.now_ms())
        .remove(0);
    assert_eq!(newest.kid, 1);
    let (env, opener) = w.seal_with(&newest, LOGIN, &json!({"k": 1}));
    let resp = w.post_json(LOGIN, &env);
    assert_eq!(open(&opener, &resp)["data"], json!({"k": 1}));
}

#[test]
fn private_keys_at_rest_only_unwrap_with_the_wrap_secret() {
    let w = World::new();
    w.make_first_key();
    let other = WrapKey::from_secret(&b64(&[7u8; 32])).unwrap();
    assert!(block_on(keys::load(&w.db, &other)).is_err());
    assert!(WrapKey::from_secret("too-short").is_none());
}

/// The rejected design, modelled: a nonce check in KV. With production's
/// delayed visibility, a replay sent to another location inside the delay
/// passes; the D1 check refuses it.
#[test]
fn a_kv_nonce_check_misses_a_cross_location_replay_that_d1_catches() {
    let clock = ManualClock::new(START_MS);
    let kv = MemKv::new(clock.clone()).with_visibility_delay_ms(30_000);
    let singapore = kv.location("sin");
    let frankfurt = kv.location("fra");
    let kv_check = |loc: &MemKv, nonce: &str| -> bool {
        let seen = block_on(loc.get(&format!("nonce:{nonce}")))
            .unwrap()
            .is_some();
        if !seen {
            block_on(loc.put(&format!("nonce:{nonce}"), "1", Some(120))).unwrap();
        }
        !seen
    };
    assert!(kv_check(&singapore, "n1"), "first use accepted");
    clock.advance_ms(5_000);
    assert!(
        kv_check(&frankfurt, "n1"),
        "KV lets the replay through in another location"
    );

    let db = SqliteDb::open_migrated();
    let now = clock.now_secs();
    assert!(block_on(replay::record(&db, "n1", now, now)).unwrap());
    assert!(
        !block_on(replay::record(&db, "n1", now, now)).unwrap(),
        "D1 refuses the replay everywhere"
    );
    // Nonces are kept ≥ 2 × 60 s, then purged.
    assert_eq!(block_on(replay::purge(&db, now + 119)).unwrap(), 0);
    assert_eq!(block_on(replay::purge(&db, now + 120)).unwrap(), 1);
}

#[test]
fn unknown_kids_re_read_the_keys_at_most_once_a_second() {
    let mut w = World::new();
    assert_eq!(w.configs().len(), 1, "the first key, kid 0");
    w.clock.advance_ms(24 * 3_600_000);
    assert_eq!(
        w.configs().len(),
        1,
        "this isolate re-reads: still kid 0 only"
    );
    // Another isolate rotates at the same moment.
    block_on(keys::rotate(&w.db, &w.clock, &w.rng, &w.wrap, w.policy)).unwrap();
    let newest = block_on(keys::load(&w.db, &w.wrap))
        .unwrap()
        .configs(w.clock.now_ms())
        .remove(0);
    assert_eq!(newest.kid, 1);
    let (env, _) = w.seal_with(&newest, LOGIN, &json!({"k": 0}));
    assert_refused(&w.post_json(LOGIN, &env), 400, ErrorCode::SealUnknownKey);
    w.clock.advance_ms(keys::UNKNOWN_KID_RELOAD_MS);
    let (env, opener) = w.seal_with(&newest, LOGIN, &json!({"k": 1}));
    let resp = w.post_json(LOGIN, &env);
    assert_eq!(open(&opener, &resp)["data"], json!({"k": 1}));
}
