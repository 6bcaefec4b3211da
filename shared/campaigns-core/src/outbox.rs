//! The fake email provider of local development (DEV_MODE only): every
//! email lands in the `dev_outbox` table, readable as `GET /__dev/mail`, and
//! faults told through `PUT /__dev/mail/faults` are injected like a real
//! provider's failures. It models the provider's idempotency: an email whose
//! idempotency key was accepted before is not stored again and answers the
//! ORIGINAL provider id.
//!
//! Faults (`dev_faults`) are scoped, because the e2e scenarios run side by
//! side on one stack: a fault hits a batch only when one of its recipients
//! contains the fault's `match` (e.g. `@scn-17.test`), and each hit takes one
//! from its `remaining` count with a guarded, atomic decrement.
//! `5xx` / `429`: the batch is refused, nothing stored; `timeout`: the batch
//! is stored, then the answer is "lost"; `crash`: taken by the consumer
//! ([`crate::delivery::deliver`]) between the provider's answer and
//! recording it.
use sealpost_api::body::parse_json;
use sealpost_api::{ApiResponse, Fault, Query, Validator};
use sealpost_ports::{Clock, PortError, Rng, Sql, Statement, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ports::{Accepted, Mailer, MailerError, OutgoingEmail};

/// The fault kinds.
pub const FAULT_KINDS: [&str; 4] = ["5xx", "429", "timeout", "crash"];
/// Most emails `GET /__dev/mail` answers without `limit`.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest `limit` of `GET /__dev/mail`.
pub const MAX_LIMIT: u32 = 1000;
/// Largest `count` of one fault.
pub const MAX_FAULT_COUNT: i64 = 1000;
/// What the fake provider says after a 429 (`Retry-After`).
pub const FAKE_RETRY_AFTER_SECS: u32 = 1;

/// Keys per `IN (…)` lookup (well under the 100 bound parameters).
const KEYS_PER_LOOKUP: usize = 50;

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
struct Stored {
    idempotency_key: String,
    provider_id: String,
}

impl<S: Sql, C: Clock, R: Rng> DevOutbox<'_, S, C, R> {
    async fn store(&self, batch: &[OutgoingEmail]) -> Result<Vec<Accepted>, PortError> {
        let now = self.clock.now_ms();
        let mut inserts = Vec::with_capacity(batch.len());
        for e in batch {
            let headers: Map<String, Value> = e
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            inserts.push(
                Statement::new(
                    "INSERT OR IGNORE INTO dev_outbox (idempotency_key, provider_id, recipient, \
                     subject, text_body, html_body, headers, sent_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .bind(e.idempotency_key.as_str())
                .bind(format!("dev-{}", self.rng.id()?))
                .bind(e.to.trim().to_lowercase())
                .bind(e.subject.as_str())
                .bind(e.text.as_str())
                .bind(e.html.as_str())
                .bind(Value::Object(headers).to_string())
                .bind(now),
            );
        }
        if !inserts.is_empty() {
            self.sql.batch(&inserts).await?;
        }
        let keys: Vec<&str> = batch.iter().map(|e| e.idempotency_key.as_str()).collect();
        let mut ids = std::collections::HashMap::new();
        for chunk in keys.chunks(KEYS_PER_LOOKUP) {
            let mut stmt = Statement::new(format!(
                "SELECT idempotency_key, provider_id FROM dev_outbox \
                 WHERE idempotency_key IN ({})",
                placeholders(1, chunk.len())
            ));
            for k in chunk {
                stmt = stmt.bind(*k);
            }
            for row in self.sql.query_as::<Stored>(&stmt).await? {
                ids.insert(row.idempotency_key, row.provider_id);
            }
        }
        Ok(batch
            .iter()
            .map(|e| match ids.get(&e.idempotency_key) {
                Some(id) => Accepted::Sent {
                    provider_id: id.clone(),
                },
                None => Accepted::Rejected {
                    reason: "not stored".into(),
                },
            })
            .collect())
    }
}

fn unavailable(e: &PortError) -> MailerError {
    MailerError::Unavailable(format!("dev outbox: {e}"))
}

impl<S: Sql, C: Clock, R: Rng> Mailer for DevOutbox<'_, S, C, R> {
    async fn send(&self, batch: &[OutgoingEmail]) -> Result<Vec<Accepted>, MailerError> {
        let recipients: Vec<&str> = batch.iter().map(|e| e.to.as_str()).collect();
        if take_fault(self.sql, "5xx", &recipients)
            .await
            .map_err(|e| unavailable(&e))?
        {
            return Err(MailerError::Unavailable("injected 5xx".into()));
        }
        if take_fault(self.sql, "429", &recipients)
            .await
            .map_err(|e| unavailable(&e))?
        {
            return Err(MailerError::RateLimited {
                retry_after_secs: Some(FAKE_RETRY_AFTER_SECS),
            });
        }
        let timeout = take_fault(self.sql, "timeout", &recipients)
            .await
            .map_err(|e| unavailable(&e))?;
        let accepted = self.store(batch).await.map_err(|e| unavailable(&e))?;
        if timeout {
            return Err(MailerError::Timeout);
        }
        Ok(accepted)
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
pub async fn set_fault<S: Sql>(sql: &S, body: &[u8]) -> Result<ApiResponse, Fault> {
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
            "Fault cleared",
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
            "Fault set",
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
pub async fn dev_mail<S: Sql>(sql: &S, query: &Query) -> Result<ApiResponse, Fault> {
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
