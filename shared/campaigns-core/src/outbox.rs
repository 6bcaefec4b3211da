//! The fake email provider of local development (DEV_MODE only): every
//! email lands in the `dev_outbox` table, readable as `GET /__dev/mail`, and
//! faults told through `PUT /__dev/mail/faults` are injected like a real
//! provider's failures.
//!
//! It models Resend's idempotency exactly: a key covers one whole request
//! (`dev_batches`), not each email, and is kept [`KEY_LIFETIME_MS`]. The
//! same key with the same body answers the ORIGINAL result without sending;
//! with another body it is refused ([`MailerError::KeyReused`], Resend's 409
//! `invalid_idempotent_request`); while the first request is still being
//! processed, [`MailerError::InProgress`] (409
//! `concurrent_idempotent_requests`); after the lifetime, the key is new
//! again and the request sends again. Emails themselves are never
//! deduplicated. Like Resend's permissive batch validation, an email whose
//! recipient is not a valid address is refused alone, by index.
//!
//! Faults (`dev_faults`) are scoped, because the e2e scenarios run side by
//! side on one stack: a fault hits a batch only when one of its recipients
//! contains the fault's `match` (e.g. `@scn-17.test`), and each hit takes one
//! from its `remaining` count with a guarded, atomic decrement.
//! `5xx` / `429` / `401` / `403`: the request is refused, nothing stored;
//! `timeout`: the request is processed, then the answer is "lost"; `crash`:
//! taken by the consumer ([`crate::delivery::deliver`]) between the
//! provider's answer and recording it.
use sealpost_api::body::parse_json;
use sealpost_api::{ApiResponse, Failure, Query, Validator};
use sealpost_ports::{Clock, PortError, Rng, Sql, Statement, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ports::{Accepted, Batch, KEY_LIFETIME_MS, Mailer, MailerError};

/// The fault kinds.
pub const FAULT_KINDS: [&str; 6] = ["5xx", "429", "timeout", "crash", "401", "403"];
/// Most emails `GET /__dev/mail` answers without `limit`.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest `limit` of `GET /__dev/mail`.
pub const MAX_LIMIT: u32 = 1000;
/// Largest `count` of one fault.
pub const MAX_FAULT_COUNT: i64 = 1000;
/// What the fake provider says after a 429 (`Retry-After`).
pub const FAKE_RETRY_AFTER_SECS: u32 = 1;
/// The per-email validation error of an invalid recipient.
pub const INVALID_TO: &str = "Invalid `to` field.";

/// The fake provider over the database.
pub struct DevOutbox<'a, S: Sql, C: Clock, R: Rng> {
    pub sql: &'a S,
    pub clock: &'a C,
    pub rng: &'a R,
}

impl<S: Sql, C: Clock, R: Rng> std::fmt::Debug for DevOutbox<'_, S, C, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevOutbox(..)")
    }
}

#[derive(Deserialize)]
struct KeyRecord {
    body_digest: String,
    answer: Option<String>,
}

/// One email's result as the fake keeps it with its key.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kept {
    Sent(String),
    Rejected(String),
}

/// What the key of a request says before it is processed.
enum KeyState {
    New,
    Answered(Vec<Accepted>),
}

impl<S: Sql, C: Clock, R: Rng> DevOutbox<'_, S, C, R> {
    /// Looks the key up (forgetting it past its lifetime) and claims it for
    /// this request when it is new.
    async fn key_state(&self, batch: &Batch, digest: &str) -> Result<KeyState, MailerError> {
        let now = self.clock.now_ms();
        let key = batch.idempotency_key.as_str();
        self.sql
            .execute(
                &Statement::new(
                    "DELETE FROM dev_batches WHERE idempotency_key = ?1 AND expires_at <= ?2",
                )
                .bind(key)
                .bind(now),
            )
            .await
            .map_err(|e| unavailable(&e))?;
        let claimed = self
            .sql
            .execute(
                &Statement::new(
                    "INSERT OR IGNORE INTO dev_batches (idempotency_key, body_digest, answer, \
                     created_at, expires_at) VALUES (?1, ?2, NULL, ?3, ?4)",
                )
                .bind(key)
                .bind(digest)
                .bind(now)
                .bind(now + KEY_LIFETIME_MS),
            )
            .await
            .map_err(|e| unavailable(&e))?;
        if claimed.changes > 0 {
            return Ok(KeyState::New);
        }
        let record: Option<KeyRecord> = self
            .sql
            .query_one(
                &Statement::new(
                    "SELECT body_digest, answer FROM dev_batches WHERE idempotency_key = ?1",
                )
                .bind(key),
            )
            .await
            .map_err(|e| unavailable(&e))?;
        let Some(record) = record else {
            // Claimed and forgotten in between: another request holds it.
            return Err(MailerError::InProgress);
        };
        if record.body_digest != digest {
            return Err(MailerError::KeyReused);
        }
        let Some(answer) = record.answer else {
            return Err(MailerError::InProgress);
        };
        let kept: Vec<Kept> = serde_json::from_str(&answer)
            .map_err(|_| MailerError::Unavailable("dev outbox: unreadable answer".into()))?;
        Ok(KeyState::Answered(
            kept.into_iter()
                .map(|k| match k {
                    Kept::Sent(provider_id) => Accepted::Sent { provider_id },
                    Kept::Rejected(reason) => Accepted::Rejected { reason },
                })
                .collect(),
        ))
    }

    /// Processes a request whose key this call claimed: stores every valid
    /// email and the answer, in one batch.
    async fn process(&self, batch: &Batch) -> Result<Vec<Accepted>, PortError> {
        let now = self.clock.now_ms();
        let mut writes = Vec::with_capacity(batch.emails.len() + 1);
        let mut kept = Vec::with_capacity(batch.emails.len());
        for e in &batch.emails {
            if !valid_recipient(&e.to) {
                kept.push(Kept::Rejected(INVALID_TO.into()));
                continue;
            }
            let provider_id = format!("dev-{}", self.rng.id()?);
            let headers: Map<String, Value> = e
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            writes.push(
                Statement::new(
                    "INSERT INTO dev_outbox (batch_key, provider_id, recipient, \
                     subject, text_body, html_body, headers, sent_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .bind(batch.idempotency_key.as_str())
                .bind(provider_id.as_str())
                .bind(e.to.trim().to_lowercase())
                .bind(e.subject.as_str())
                .bind(e.text.as_str())
                .bind(e.html.as_str())
                .bind(Value::Object(headers).to_string())
                .bind(now),
            );
            kept.push(Kept::Sent(provider_id));
        }
        let answer = serde_json::to_string(&kept)
            .map_err(|e| PortError::Unavailable(format!("dev outbox: {e}")))?;
        writes.push(
            Statement::new("UPDATE dev_batches SET answer = ?2 WHERE idempotency_key = ?1")
                .bind(batch.idempotency_key.as_str())
                .bind(answer),
        );
        self.sql.batch(&writes).await?;
        Ok(kept
            .into_iter()
            .map(|k| match k {
                Kept::Sent(provider_id) => Accepted::Sent { provider_id },
                Kept::Rejected(reason) => Accepted::Rejected { reason },
            })
            .collect())
    }
}

/// Resend's check of a `to` address, as far as the fake models it: one
/// `@` between a non-empty local part and a dotted domain, no spaces.
fn valid_recipient(to: &str) -> bool {
    let to = to.trim();
    match to.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !to.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

fn unavailable(e: &PortError) -> MailerError {
    MailerError::Unavailable(format!("dev outbox: {e}"))
}

impl<S: Sql, C: Clock, R: Rng> Mailer for DevOutbox<'_, S, C, R> {
    async fn send(&self, batch: &Batch) -> Result<Vec<Accepted>, MailerError> {
        let recipients: Vec<&str> = batch.emails.iter().map(|e| e.to.as_str()).collect();
        let refusals = [
            ("5xx", MailerError::Unavailable("injected 5xx".into())),
            (
                "429",
                MailerError::RateLimited {
                    retry_after_secs: Some(FAKE_RETRY_AFTER_SECS),
                },
            ),
            ("401", MailerError::Unauthorized),
            ("403", MailerError::Forbidden),
        ];
        for (kind, err) in refusals {
            if take_fault(self.sql, kind, &recipients)
                .await
                .map_err(|e| unavailable(&e))?
            {
                return Err(err);
            }
        }
        let timeout = take_fault(self.sql, "timeout", &recipients)
            .await
            .map_err(|e| unavailable(&e))?;
        let digest = batch.body_digest();
        let answer = match self.key_state(batch, &digest).await? {
            KeyState::Answered(answer) => answer,
            KeyState::New => match self.process(batch).await {
                Ok(answer) => answer,
                Err(e) => {
                    // Not processed: the key is free again.
                    let _ = self
                        .sql
                        .execute(
                            &Statement::new(
                                "DELETE FROM dev_batches \
                                 WHERE idempotency_key = ?1 AND answer IS NULL",
                            )
                            .bind(batch.idempotency_key.as_str()),
                        )
                        .await;
                    return Err(unavailable(&e));
                }
            },
        };
        if timeout {
            return Err(MailerError::Timeout);
        }
        Ok(answer)
    }
}

#[derive(Deserialize)]
struct FaultRow {
    #[serde(rename = "match")]
    pattern: String,
}

/// Takes one hit of a `kind` fault whose `match` is contained in one of
/// `recipients` (case-insensitively); whether one was taken. Each hit is a
/// guarded decrement (`remaining > 0`), so concurrent batches never take
/// more hits than were set.
pub async fn take_fault<S: Sql>(
    sql: &S,
    kind: &str,
    recipients: &[&str],
) -> Result<bool, PortError> {
    if recipients.is_empty() {
        return Ok(false);
    }
    let faults: Vec<FaultRow> = sql
        .query_as(
            &Statement::new(
                "SELECT match FROM dev_faults WHERE kind = ?1 AND remaining > 0 ORDER BY match",
            )
            .bind(kind),
        )
        .await?;
    let lowered: Vec<String> = recipients.iter().map(|r| r.to_lowercase()).collect();
    for f in faults {
        let pattern = f.pattern.to_lowercase();
        if !lowered.iter().any(|r| r.contains(&pattern)) {
            continue;
        }
        let taken = sql
            .execute(
                &Statement::new(
                    "UPDATE dev_faults SET remaining = remaining - 1 \
                     WHERE kind = ?1 AND match = ?2 AND remaining > 0",
                )
                .bind(kind)
                .bind(f.pattern.as_str()),
            )
            .await?;
        if taken.changes > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultInput {
    kind: String,
    #[serde(rename = "match")]
    pattern: String,
    count: i64,
}

#[derive(Serialize)]
struct FaultView<'a> {
    kind: &'a str,
    #[serde(rename = "match")]
    pattern: &'a str,
    remaining: i64,
}

/// `PUT /__dev/mail/faults` `{kind, match, count}`: the next `count`
/// batches with a recipient containing `match` fail with `kind` (`count` 0
/// clears the fault). 200 mutation with `{kind, match, remaining}`.
pub async fn set_fault<S: Sql>(sql: &S, body: &[u8]) -> Result<ApiResponse, Failure> {
    let input: FaultInput = parse_json(body)?;
    let pattern = input.pattern.trim().to_lowercase();
    let mut v = Validator::new();
    v.one_of("kind", &input.kind, &FAULT_KINDS);
    v.text_len("match", &pattern, 1, 254);
    v.check(
        !pattern.chars().any(char::is_control),
        "match",
        "Must not contain control characters",
    );
    v.check(
        (0..=MAX_FAULT_COUNT).contains(&input.count),
        "count",
        "Must be between 0 and 1000",
    );
    v.finish()?;
    let (stmt, message) = if input.count == 0 {
        (
            Statement::new("DELETE FROM dev_faults WHERE kind = ?1 AND match = ?2")
                .bind(input.kind.as_str())
                .bind(pattern.as_str()),
            "Failure cleared",
        )
    } else {
        (
            Statement::new(
                "INSERT INTO dev_faults (kind, match, remaining) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (kind, match) DO UPDATE SET remaining = excluded.remaining",
            )
            .bind(input.kind.as_str())
            .bind(pattern.as_str())
            .bind(input.count),
            "Failure set",
        )
    };
    sql.execute(&stmt).await?;
    Ok(ApiResponse::mutation(
        200,
        message,
        &FaultView {
            kind: &input.kind,
            pattern: &pattern,
            remaining: input.count,
        },
    ))
}

#[derive(Deserialize)]
struct MailRow {
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    headers: String,
    sent_at: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MailView {
    to: String,
    subject: String,
    text: String,
    html: String,
    headers: Value,
    sent_at: String,
}

/// `GET /__dev/mail?to&limit`: the local inbox, newest first — the emails
/// to `to` (trimmed, lower-cased), or everyone's without it; at most
/// `limit` (1–1000, default 100). 200 `{"data":[{to, subject, text, html,
/// headers, sentAt}]}`.
pub async fn dev_mail<S: Sql>(sql: &S, query: &Query) -> Result<ApiResponse, Failure> {
    let mut v = Validator::new();
    let to = query.get("to").map(|t| t.trim().to_lowercase());
    if let Some(to) = &to {
        v.text_len("to", to, 1, 254);
    }
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                v.add("limit", "Must be an integer between 1 and 1000");
                DEFAULT_LIMIT
            }
        },
    };
    v.finish()?;
    let stmt = match &to {
        Some(to) => Statement::new(
            "SELECT recipient, subject, text_body, html_body, headers, sent_at FROM dev_outbox \
             WHERE recipient = ?1 ORDER BY seq DESC LIMIT ?2",
        )
        .bind(to.as_str())
        .bind(limit),
        None => Statement::new(
            "SELECT recipient, subject, text_body, html_body, headers, sent_at FROM dev_outbox \
             ORDER BY seq DESC LIMIT ?1",
        )
        .bind(limit),
    };
    let rows: Vec<MailRow> = sql.query_as(&stmt).await?;
    let items: Vec<MailView> = rows
        .into_iter()
        .map(|r| MailView {
            headers: serde_json::from_str::<Map<String, Value>>(&r.headers)
                .map_or_else(|_| Value::Object(Map::new()), Value::Object),
            to: r.recipient,
            subject: r.subject,
            text: r.text_body,
            html: r.html_body,
            sent_at: rfc3339(r.sent_at),
        })
        .collect();
    Ok(ApiResponse::query(&items))
}

/// `?{first}, ?{first+1}, …` (`n` of them).
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
