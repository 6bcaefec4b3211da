//! The native world of the campaigns tests: the testkit's base (SQLite with
//! the real migrations, a manual clock, seeded randomness, real ES256 access
//! tokens and users with live sessions), the campaigns' keys, and doubles of
//! the queue and the email provider that model production: the queue
//! records jobs (at-least-once: a test may deliver a job twice or late), the
//! provider keys whole requests like Resend (one idempotency key per batch,
//! kept 24 hours; same key and body replays, another body is refused, a busy
//! key answers 409) and fails on a script (5xx, 429, timeouts after it
//! accepted, HTTP answers read by the core). The route harnesses of the
//! subscriber and campaign tests are in `subscriptions` and `sending`, the
//! delivery tests' ledger helpers in `ledger`; a test file adds its own
//! helpers in its own `impl World` block.
#![allow(dead_code)]

pub mod ledger;
pub mod sending;
pub mod subscriptions;

use sealpost_campaigns_core::keys::CampaignKeys;
use sealpost_campaigns_core::ports::{
    Accepted, Batch, Job, KEY_LIFETIME_MS, Mailer, MailerError, OutgoingEmail, WorkQueue,
};
use sealpost_campaigns_core::resend;
use sealpost_guard::Role;
use sealpost_ports::{Clock, PortError, Rng, Statement};
use sealpost_testkit::{Base, ManualClock, MemRateLimiter};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

pub const START_MS: i64 = 1_795_000_000_000;
pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60_000;
pub const SITE: &str = "default";

pub struct World {
    /// Database, clock, randomness, token mint and verifier.
    pub base: Base,
    pub keys: CampaignKeys,
    /// 5 subscribe requests per 60 s per IP.
    pub limiter: MemRateLimiter,
    pub queue: MemQueue,
    pub mailer: ScriptedMailer,
}

sealpost_testkit::world_on_base!(World);

impl World {
    pub fn new(seed: u64) -> World {
        let base = Base::new(START_MS, seed);
        // What `scripts/site --base-url` sets: links start with it.
        base.db.exec_raw(
            "UPDATE sites SET base_url = 'https://news.example.com' WHERE id = 'default'",
        );
        World {
            limiter: MemRateLimiter::new(5, 60, base.clock.clone()),
            mailer: ScriptedMailer::new(base.clock.clone()),
            keys: CampaignKeys::from_bytes(&[3u8; 32]),
            queue: MemQueue::default(),
            base,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// An admin signed in with a second factor.
    pub fn admin(&self, name: &str) -> String {
        self.user(name, &[Role::Admin], &["pwd", "otp"])
    }

    /// A subscriber row written straight into the table (sealed address,
    /// blind index), with `status` and, for `confirmed`, `confirmed_at` = now.
    /// Returns its id.
    pub fn subscriber(&self, email: &str, locale: &str, status: &str) -> String {
        let id = self.rng.id().expect("id");
        let now = self.now();
        let sealed = self
            .keys
            .seal_email(&self.rng, SITE, &id, email)
            .expect("seal");
        self.sql(
            Statement::new(
                "INSERT INTO subscribers (site_id, id, email_index, email_sealed, locale, status, \
                 confirm_nonce, created_at, updated_at, confirmed_at, unsubscribed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
            )
            .bind(SITE)
            .bind(id.as_str())
            .bind(self.keys.blind_index(email))
            .bind(sealed)
            .bind(locale)
            .bind(status)
            .bind(self.rng.id().expect("nonce"))
            .bind(now)
            .bind((status == "confirmed").then_some(now))
            .bind((status == "unsubscribed").then_some(now)),
        );
        id
    }

    /// `n` confirmed subscribers `{prefix}-{i}@{domain}`, locales alternating
    /// en, vi. Returns their ids in creation order.
    pub fn confirmed(&self, prefix: &str, domain: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let locale = if i % 2 == 0 { "en" } else { "vi" };
                self.subscriber(&format!("{prefix}-{i}@{domain}"), locale, "confirmed")
            })
            .collect()
    }

    /// A campaign row written straight into the table with `status`
    /// (`sending` ones get `started_at` = now). Returns its id.
    pub fn campaign(&self, status: &str) -> String {
        let id = self.rng.id().expect("id");
        let now = self.now();
        self.sql(
            Statement::new(
                "INSERT INTO campaigns (site_id, id, subject_en, subject_vi, body_en, body_vi, \
                 status, created_by, created_at, updated_at, started_at) \
                 VALUES (?1, ?2, 'Hello', 'Xin chào', 'Body **en**', 'Nội dung **vi**', ?3, \
                 'user-admin', ?4, ?4, ?5)",
            )
            .bind(SITE)
            .bind(id.as_str())
            .bind(status)
            .bind(now)
            .bind((status == "sending").then_some(now)),
        );
        id
    }

    /// The ledger status of every row of `campaign`, by subscriber id.
    pub fn ledger(&self, campaign: &str) -> HashMap<String, String> {
        self.rows(
            Statement::new(
                "SELECT subscriber_id, status FROM campaign_deliveries \
                 WHERE site_id = ?1 AND campaign_id = ?2",
            )
            .bind(SITE)
            .bind(campaign),
        )
        .into_iter()
        .map(|r| {
            (
                r["subscriber_id"].as_str().unwrap_or("").to_owned(),
                r["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
    }
}

/// The fields of a `VALIDATION_FAILED` body's `errors`, in order.
pub fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|f| f["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A queue double: records every job; tests take them out and deliver them
/// as they like (twice, late, never).
#[derive(Debug, Default)]
pub struct MemQueue {
    pub jobs: RefCell<Vec<Job>>,
    /// When set, `enqueue` fails (the queue is down).
    pub down: std::cell::Cell<bool>,
}

impl MemQueue {
    /// Takes every job enqueued so far.
    pub fn take(&self) -> Vec<Job> {
        std::mem::take(&mut *self.jobs.borrow_mut())
    }

    /// Every subscriber id of every job enqueued so far (not taken).
    pub fn subscribers(&self) -> Vec<String> {
        self.jobs
            .borrow()
            .iter()
            .flat_map(|j| j.subscribers.iter().cloned())
            .collect()
    }
}

impl WorkQueue for MemQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), PortError> {
        if self.down.get() {
            return Err(PortError::Unavailable("queue down".into()));
        }
        self.jobs.borrow_mut().extend_from_slice(jobs);
        Ok(())
    }
}

/// What the scripted provider does with the next call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// 5xx before processing: nothing accepted.
    Unavailable,
    /// 429: nothing accepted.
    RateLimited(Option<u32>),
    /// Processes the request, then the answer is lost.
    TimeoutAfterAccept,
    /// Starts processing the request (its emails go out) and stays busy
    /// for `busy_ms`, while the caller times out: until then the same key
    /// answers 409 `concurrent_idempotent_requests`, afterwards the result.
    TimeoutStillProcessing { busy_ms: i64 },
    /// An HTTP answer of Resend's batch endpoint for the whole request,
    /// read by the core's [`resend::answer`]: nothing is processed (a 401,
    /// 403, 409, 422 …).
    Http { status: u16, body: String },
}

/// One key the provider remembers: the body it was first sent with, the
/// answer (`None` while processing), until when it is busy and when it is
/// forgotten.
#[derive(Debug, Clone)]
struct KeyRecord {
    body: Vec<OutgoingEmail>,
    answer: Vec<Accepted>,
    busy_until: i64,
    expires_at: i64,
}

/// A provider double modelling Resend's batch endpoint strictly: an
/// idempotency key covers the whole request and is kept
/// [`KEY_LIFETIME_MS`] by the clock; the same key with the same body
/// answers the first result without delivering, with another body is
/// refused ([`MailerError::KeyReused`]), while the first is still being
/// processed is refused ([`MailerError::InProgress`]); after its lifetime
/// the key is new again. Emails are never deduplicated by themselves.
/// Failures come from `script`, one call at a time, and addresses in
/// `reject` fail alone with a per-email validation error (permissive
/// mode).
#[derive(Debug)]
pub struct ScriptedMailer {
    pub clock: ManualClock,
    pub script: RefCell<VecDeque<Step>>,
    /// Every email delivered, in order.
    pub delivered: RefCell<Vec<OutgoingEmail>>,
    keys: RefCell<HashMap<String, KeyRecord>>,
    /// Addresses the provider refuses for good.
    pub reject: RefCell<Vec<String>>,
    /// Calls made, whatever their outcome.
    pub calls: std::cell::Cell<usize>,
    /// Every request made, in order: its key and its recipients.
    pub requests: RefCell<Vec<(String, Vec<String>)>>,
    next_id: std::cell::Cell<usize>,
}

impl ScriptedMailer {
    pub fn new(clock: ManualClock) -> ScriptedMailer {
        ScriptedMailer {
            clock,
            script: RefCell::default(),
            delivered: RefCell::default(),
            keys: RefCell::default(),
            reject: RefCell::default(),
            calls: std::cell::Cell::new(0),
            requests: RefCell::default(),
            next_id: std::cell::Cell::new(0),
        }
    }

    pub fn then(&self, step: Step) -> &Self {
        self.script.borrow_mut().push_back(step);
        self
    }

    /// Emails delivered to `to`.
    pub fn to(&self, to: &str) -> Vec<OutgoingEmail> {
        self.delivered
            .borrow()
            .iter()
            .filter(|e| e.to == to)
            .cloned()
            .collect()
    }

    /// Processes a request under a key it does not know (or forgot):
    /// delivers every valid email, records the answer.
    fn process(&self, batch: &Batch, busy_ms: i64) -> Vec<Accepted> {
        let answer: Vec<Accepted> = batch
            .emails
            .iter()
            .map(|e| {
                if self.reject.borrow().contains(&e.to) {
                    return Accepted::Rejected {
                        reason: "invalid recipient".into(),
                    };
                }
                self.delivered.borrow_mut().push(e.clone());
                self.next_id.set(self.next_id.get() + 1);
                Accepted::Sent {
                    provider_id: format!("msg-{}", self.next_id.get()),
                }
            })
            .collect();
        let now = self.clock.now_ms();
        self.keys.borrow_mut().insert(
            batch.idempotency_key.clone(),
            KeyRecord {
                body: batch.emails.clone(),
                answer: answer.clone(),
                busy_until: now + busy_ms,
                expires_at: now + KEY_LIFETIME_MS,
            },
        );
        answer
    }

    /// What the provider does with a request it will process.
    fn handle(&self, batch: &Batch, busy_ms: i64) -> Result<Vec<Accepted>, MailerError> {
        let now = self.clock.now_ms();
        let known = {
            let mut keys = self.keys.borrow_mut();
            keys.retain(|_, r| r.expires_at > now);
            keys.get(&batch.idempotency_key).cloned()
        };
        match known {
            None => Ok(self.process(batch, busy_ms)),
            Some(r) if r.body != batch.emails => Err(MailerError::KeyReused),
            Some(r) if r.busy_until > now => Err(MailerError::InProgress),
            Some(r) => Ok(r.answer),
        }
    }
}

impl Mailer for ScriptedMailer {
    async fn send(&self, batch: &Batch) -> Result<Vec<Accepted>, MailerError> {
        self.calls.set(self.calls.get() + 1);
        self.requests.borrow_mut().push((
            batch.idempotency_key.clone(),
            batch.emails.iter().map(|e| e.to.clone()).collect(),
        ));
        let step = self.script.borrow_mut().pop_front();
        match step {
            None => self.handle(batch, 0),
            Some(Step::Unavailable) => Err(MailerError::Unavailable("503".into())),
            Some(Step::RateLimited(after)) => Err(MailerError::RateLimited {
                retry_after_secs: after,
            }),
            Some(Step::TimeoutAfterAccept) => {
                self.handle(batch, 0)?;
                Err(MailerError::Timeout)
            }
            Some(Step::TimeoutStillProcessing { busy_ms }) => {
                self.handle(batch, busy_ms)?;
                Err(MailerError::Timeout)
            }
            Some(Step::Http { status, body }) => {
                resend::answer(status, &body, None, batch.emails.len())
            }
        }
    }
}
