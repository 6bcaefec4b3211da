//! The edge-seal key lifecycle: the first key is made on first use, the auth
//! cron rotates (a new first key every `rotate_every`, the previous one still
//! accepted for `grace`), and a key past its grace is destroyed by deleting
//! its row. Keys live in D1 (strongly consistent for every isolate; see
//! docs/adr/0007), private keys wrapped under the `SEAL_KEY_WRAP` secret.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use sealpost_api::Failure;
use sealpost_crypto::{AtRestError, AtRestKey, at_rest};
use sealpost_ports::{Clock, PortError, Rng, Sql, Statement, from_row, rfc3339};
use sealpost_seal::{AEAD_ID, KDF_ID, KEM_ID, KeyConfig, PublicKey, SecretKey, b64, unb64};
use serde::Deserialize;
use zeroize::Zeroizing;

/// How often keys rotate and how long a replaced key stays accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    pub rotate_every_ms: i64,
    pub grace_ms: i64,
}

impl Default for KeyPolicy {
    /// 24 h rotation, 1 h grace.
    fn default() -> Self {
        Self {
            rotate_every_ms: 24 * 3_600_000,
            grace_ms: 3_600_000,
        }
    }
}

impl KeyPolicy {
    /// From the worker vars `SEAL_ROTATE_HOURS` and `SEAL_GRACE_MINUTES`
    /// (positive integers; anything else keeps the default).
    pub fn from_vars(rotate_hours: Option<&str>, grace_minutes: Option<&str>) -> Self {
        let parse = |v: Option<&str>| {
            v.and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|n| *n > 0)
        };
        let d = Self::default();
        Self {
            rotate_every_ms: parse(rotate_hours).map_or(d.rotate_every_ms, |h| h * 3_600_000),
            grace_ms: parse(grace_minutes).map_or(d.grace_ms, |m| m * 60_000),
        }
    }
}

/// The secret that wraps private keys at rest (32 bytes, `SEAL_KEY_WRAP`),
/// and the one it replaced (`SEAL_KEY_WRAP_PREVIOUS`) while keys wrapped
/// under that one remain. Keys are always wrapped under the current secret.
pub struct WrapKey {
    current: AtRestKey,
    previous: Option<AtRestKey>,
}

impl std::fmt::Debug for WrapKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WrapKey(..)")
    }
}

impl WrapKey {
    /// From the `SEAL_KEY_WRAP` secret: 32 bytes, base64url without padding.
    pub fn from_secret(secret: &str) -> Option<WrapKey> {
        Some(WrapKey {
            current: AtRestKey::from_base64url(secret)?,
            previous: None,
        })
    }

    /// This key, also opening keys wrapped under `previous` (the secret it
    /// replaced); `previous` itself never wraps.
    #[must_use]
    pub fn with_previous(self, previous: WrapKey) -> WrapKey {
        WrapKey {
            current: self.current,
            previous: Some(previous.current),
        }
    }

    fn aad(kid: u8) -> Vec<u8> {
        format!("edge-seal key v1:{kid}").into_bytes()
    }

    /// `sk` wrapped for storage as key `kid`: base64url(nonce ‖ ciphertext ‖
    /// tag) under the current secret.
    fn wrap(&self, kid: u8, sk: &SecretKey, rng: &impl Rng) -> Result<String, Failure> {
        let plain = sk.to_bytes();
        at_rest::seal_to_text(&self.current, &Self::aad(kid), plain.as_ref(), rng).map_err(|e| {
            match e {
                AtRestError::Nonce(e) => Failure::Port(e),
                _ => Failure::Crypto("key wrap failed".into()),
            }
        })
    }

    /// Opens the key `kid` stored as `wrapped`: under the current secret,
    /// else under the previous one (`true`: it needs the previous one).
    fn unwrap(&self, kid: u8, wrapped: &str) -> Result<(SecretKey, bool), PortError> {
        if let Some(sk) = open_wrapped(&self.current, kid, wrapped) {
            return Ok((sk, false));
        }
        if let Some(sk) = self
            .previous
            .as_ref()
            .and_then(|previous| open_wrapped(previous, kid, wrapped))
        {
            return Ok((sk, true));
        }
        // Names the secrets to check, never their values or the stored bytes.
        Err(PortError::Decode(format!(
            "seal key {kid} does not unwrap with SEAL_KEY_WRAP{}",
            if self.previous.is_some() {
                " or SEAL_KEY_WRAP_PREVIOUS"
            } else {
                " (and SEAL_KEY_WRAP_PREVIOUS is not set)"
            }
        )))
    }
}

/// Opens `wrapped` (what [`WrapKey::wrap`] stored) under `key`.
fn open_wrapped(key: &AtRestKey, kid: u8, wrapped: &str) -> Option<SecretKey> {
    let plain = at_rest::open_text(key, &WrapKey::aad(kid), wrapped).ok()?;
    SecretKey::from_bytes(&plain).ok()
}

/// One usable key.
pub struct KeyRecord {
    pub kid: u8,
    pub public_key: PublicKey,
    pub secret: SecretKey,
    pub created_at: i64,
    pub rotate_at: i64,
    pub expires_at: i64,
    /// Stored wrapped under the previous wrap secret.
    pub under_previous_wrap: bool,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("rotate_at", &self.rotate_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The keys of the deployment, newest first.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<KeyRecord>,
}

impl KeyRing {
    /// The key that accepts `kid` at `now_ms`: the newest key always, older
    /// ones until their `expires_at`.
    pub fn live(&self, kid: u8, now_ms: i64) -> Option<&KeyRecord> {
        self.keys
            .iter()
            .enumerate()
            .find(|(i, k)| k.kid == kid && (*i == 0 || k.expires_at > now_ms))
            .map(|(_, k)| k)
    }

    /// `GET /auth/keys`: the live keys, the one to use first.
    pub fn configs(&self, now_ms: i64) -> Vec<KeyConfig> {
        self.keys
            .iter()
            .enumerate()
            .filter(|(i, k)| *i == 0 || k.expires_at > now_ms)
            .map(|(_, k)| KeyConfig {
                kid: k.kid,
                kem: KEM_ID,
                kdf: KDF_ID,
                aead: AEAD_ID,
                public_key: b64(&k.public_key.to_sec1()),
                expires_at: rfc3339(k.expires_at),
            })
            .collect()
    }

    /// The kids held, newest first.
    pub fn kids(&self) -> Vec<u8> {
        self.keys.iter().map(|k| k.kid).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys are stored wrapped under the previous wrap secret
    /// (`SEAL_KEY_WRAP_PREVIOUS` is needed while this is not zero).
    pub fn under_previous_wrap(&self) -> usize {
        self.keys.iter().filter(|k| k.under_previous_wrap).count()
    }
}

#[derive(Deserialize)]
struct KeyRow {
    kid: u8,
    public_key: String,
    private_key: String,
    created_at: i64,
    rotate_at: i64,
    expires_at: i64,
}

const SELECT_KEYS: &str = "SELECT kid, public_key, private_key, created_at, rotate_at, expires_at \
     FROM seal_keys ORDER BY created_at DESC, kid DESC";

/// Reads every key (none is destroyed but by deleting its row).
pub async fn load(sql: &impl Sql, wrap: &WrapKey) -> Result<KeyRing, PortError> {
    let rows = sql.query(&Statement::new(SELECT_KEYS)).await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        let row: KeyRow = from_row(row)?;
        let public_key = PublicKey::from_sec1(&unb64(&row.public_key).map_err(|_| bad_public())?)
            .map_err(|_| bad_public())?;
        let (secret, under_previous_wrap) = wrap.unwrap(row.kid, &row.private_key)?;
        keys.push(KeyRecord {
            kid: row.kid,
            public_key,
            secret,
            created_at: row.created_at,
            rotate_at: row.rotate_at,
            expires_at: row.expires_at,
            under_previous_wrap,
        });
    }
    Ok(KeyRing { keys })
}

fn bad_public() -> PortError {
    PortError::Decode("a seal public key is not a P-256 point".into())
}

fn new_secret(rng: &impl Rng) -> Result<SecretKey, PortError> {
    loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut())?;
        // A scalar of zero or ≥ n (odds ~2^-32) is drawn again.
        if let Ok(sk) = SecretKey::from_bytes(bytes.as_ref()) {
            return Ok(sk);
        }
    }
}

/// The INSERT of a new key, guarded by `guard` (SQL that must hold for it to apply).
fn insert_key(
    kid: u8,
    sk: &SecretKey,
    now: i64,
    policy: KeyPolicy,
    wrap: &WrapKey,
    rng: &impl Rng,
    guard: &str,
) -> Result<Statement, Failure> {
    let rotate_at = now + policy.rotate_every_ms;
    Ok(Statement::new(format!(
        "INSERT INTO seal_keys (kid, public_key, private_key, created_at, rotate_at, expires_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE {guard}"
    ))
    .bind(i64::from(kid))
    .bind(b64(&sk.public_key().to_sec1()))
    .bind(wrap.wrap(kid, sk, rng)?)
    .bind(now)
    .bind(rotate_at)
    .bind(rotate_at + policy.grace_ms))
}

/// The key ring, making the first key if there is none. Two isolates racing
/// here insert at most one key: the insert applies only to an empty table.
pub async fn load_or_create(
    sql: &impl Sql,
    clock: &impl Clock,
    rng: &impl Rng,
    wrap: &WrapKey,
    policy: KeyPolicy,
) -> Result<KeyRing, Failure> {
    let ring = load(sql, wrap).await?;
    if !ring.is_empty() {
        return Ok(ring);
    }
    let sk = new_secret(rng)?;
    let stmt = insert_key(
        0,
        &sk,
        clock.now_ms(),
        policy,
        wrap,
        rng,
        "NOT EXISTS (SELECT 1 FROM seal_keys)",
    )?;
    sql.execute(&stmt).await?;
    Ok(load(sql, wrap).await?)
}

/// What one rotation run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    pub created: Option<u8>,
    pub destroyed: Vec<u8>,
    /// Keys still stored wrapped under the previous wrap secret, after this
    /// run's destructions: `SEAL_KEY_WRAP_PREVIOUS` may go once this is 0.
    pub under_previous_wrap: usize,
}

/// The cron's job: destroy keys past their grace, then, when the newest key is
/// due, publish a new one and give the previous one `grace` from now (even
/// when the cron runs late).
/// Overlapping runs are safe: each step is one guarded statement or batch.
pub async fn rotate(
    sql: &impl Sql,
    clock: &impl Clock,
    rng: &impl Rng,
    wrap: &WrapKey,
    policy: KeyPolicy,
) -> Result<Rotation, Failure> {
    let now = clock.now_ms();
    let mut report = Rotation::default();
    let newest = "(SELECT kid FROM seal_keys ORDER BY created_at DESC, kid DESC LIMIT 1)";
    let expired = sql
        .query(
            &Statement::new(format!(
                "SELECT kid FROM seal_keys WHERE expires_at <= ?1 AND kid <> {newest}"
            ))
            .bind(now),
        )
        .await?;
    if !expired.is_empty() {
        sql.execute(
            &Statement::new(format!(
                "DELETE FROM seal_keys WHERE expires_at <= ?1 AND kid <> {newest}"
            ))
            .bind(now),
        )
        .await?;
        report.destroyed = expired
            .iter()
            .filter_map(|r| r.get("kid").and_then(serde_json::Value::as_u64))
            .filter_map(|k| u8::try_from(k).ok())
            .collect();
    }

    let ring = load_or_create(sql, clock, rng, wrap, policy).await?;
    report.under_previous_wrap = ring.under_previous_wrap();
    let Some(current) = ring.keys.first() else {
        return Ok(report);
    };
    if now < current.rotate_at {
        return Ok(report);
    }
    let kid = current.kid.wrapping_add(1);
    let sk = new_secret(rng)?;
    let guard = "NOT EXISTS (SELECT 1 FROM seal_keys WHERE created_at > ?7 OR kid = ?1)";
    let insert = insert_key(kid, &sk, now, policy, wrap, rng, guard)?.bind(current.created_at);
    // The previous key gets its grace from now (a late cron must not cut it
    // short), and only from the run whose insert applied.
    let retire = Statement::new(
        "UPDATE seal_keys SET expires_at = ?2 WHERE kid = ?1 \
         AND EXISTS (SELECT 1 FROM seal_keys WHERE kid = ?3 AND created_at = ?4)",
    )
    .bind(i64::from(current.kid))
    .bind(now + policy.grace_ms)
    .bind(i64::from(kid))
    .bind(now);
    let results = sql.batch(&[insert, retire]).await?;
    if results.first().is_some_and(|r| r.changes == 1) {
        report.created = Some(kid);
    }
    Ok(report)
}

/// An isolate's copy of the key ring, shared by every request of the
/// isolate: re-read at most every [`CACHE_MAX_AGE_MS`], or at once when a
/// request names a kid it does not hold (a newer key), at most every
/// [`UNKNOWN_KID_RELOAD_MS`]. A request clones the ring's `Rc` out of the
/// cache and holds no borrow across an await; a re-read replaces the ring
/// whole. While one request re-reads an expired ring, the others keep using
/// it when it holds the kid they need, so overlapping requests read and
/// unwrap the keys once. No request ever waits for another: the Workers
/// runtime forbids resuming one request from another's I/O, so on a cold
/// isolate (no ring yet) each overlapping first request reads the keys.
#[derive(Debug, Default)]
pub struct KeyCache {
    ring: RefCell<Option<(Rc<KeyRing>, i64)>>,
    /// Requests re-reading the keys now.
    reloading: Cell<u32>,
}

/// Counts a re-read in progress for as long as it lives (also when the
/// request is dropped mid-read).
struct Reloading<'a>(&'a Cell<u32>);

impl<'a> Reloading<'a> {
    fn start(count: &'a Cell<u32>) -> Reloading<'a> {
        count.set(count.get().saturating_add(1));
        Reloading(count)
    }
}

impl Drop for Reloading<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// How long an isolate trusts its copy of the keys.
pub const CACHE_MAX_AGE_MS: i64 = 30_000;
/// The shortest interval between two re-reads caused by unknown kids.
pub const UNKNOWN_KID_RELOAD_MS: i64 = 1_000;

impl KeyCache {
    /// The ring, fresh enough, and holding `want_kid` if the database does.
    pub async fn get(
        &self,
        sql: &impl Sql,
        clock: &impl Clock,
        rng: &impl Rng,
        wrap: &WrapKey,
        policy: KeyPolicy,
        want_kid: Option<u8>,
    ) -> Result<Rc<KeyRing>, Failure> {
        let now = clock.now_ms();
        let cached = self.ring.borrow().clone();
        if let Some((ring, at)) = cached {
            let age = now.saturating_sub(at);
            let has = want_kid.is_none_or(|kid| ring.live(kid, now).is_some());
            // An unknown kid re-reads D1 at most once a second, so a flood of
            // made-up kids cannot turn into a flood of D1 reads.
            let fresh = age < CACHE_MAX_AGE_MS && (has || age < UNKNOWN_KID_RELOAD_MS);
            // Expired, but another request is re-reading: this one needs
            // nothing the old ring lacks.
            let being_replaced = has && self.reloading.get() > 0;
            if fresh || being_replaced {
                return Ok(ring);
            }
        }
        let _reloading = Reloading::start(&self.reloading);
        let ring = Rc::new(load_or_create(sql, clock, rng, wrap, policy).await?);
        *self.ring.borrow_mut() = Some((Rc::clone(&ring), now));
        Ok(ring)
    }
}
