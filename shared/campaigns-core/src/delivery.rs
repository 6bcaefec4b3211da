//! The queue consumer: delivering one job (a campaign and up to
//! [`MAX_JOB_IDS`] subscriber ids) so that every ledger row is sent exactly
//! once, whatever the queue and the provider do (docs/adr/0014).
//!
//! A job is only a hint; the ledger is the truth. The consumer
//! 1. loads the campaign (gone, not `sending`, or paused → ack);
//! 2. checks cheaply that one of the job's rows is claimable at all (a
//!    duplicate or late job stops here, taking no send slot);
//! 3. takes a slot of the global send-rate cap ([`crate::rate`]; full →
//!    retry later);
//! 4. claims the rows in ONE `UPDATE … RETURNING` (`pending`, or `sending`
//!    with an expired lease) under a fresh `claim_id`;
//! 5. skips rows whose subscriber is gone or no longer confirmed, fails rows
//!    out of attempts or with an unreadable address, composes the rest
//!    ([`crate::mail`]) and calls the provider once, with the idempotency
//!    key `{site}:{campaign}:{subscriber}` per email;
//! 6. records every answer in ONE batch, each write guarded by its
//!    `claim_id` (a row another consumer took over after the lease expired
//!    is not overwritten), resets the breaker and finishes the campaign when
//!    it is done; or, when the provider failed, releases the rows to
//!    `pending`, counts the failure towards the breaker (pausing the
//!    campaign at the threshold) and asks for a retry with backoff.
//!
//! Should the consumer die between the provider's acceptance and step 6,
//! the rows stay `sending` until their lease expires; the next claim sends
//! them again under the same idempotency keys, and the provider answers the
//! original acceptance without a second email. Local development injects
//! exactly that crash (`Verdict::Crash`, a `crash` fault of
//! [`crate::outbox`]).
use std::collections::{HashMap, HashSet};

use sealpost_ports::{Clock, PortError, Rng, Sql, Statement};
use serde::Deserialize;

use crate::keys::CampaignKeys;
use crate::ledger::finish_if_done;
use crate::links::site_origin;
use crate::mail::{CampaignMail, CampaignText};
use crate::outbox::{placeholders, take_fault};
use crate::ports::{Accepted, Job, Mailer, MailerError, OutgoingEmail};
use crate::rate::take_slot;
use crate::settings::Settings;

/// The subscriber ids a job carries, as the send route and the cron cut
/// them ([`crate::campaigns::JOB_SIZE`]).
pub use crate::campaigns::JOB_SIZE;

/// Subscriber ids claimed per statement (a longer job is delivered in
/// several rounds, each with its own send slot).
pub const MAX_JOB_IDS: usize = 50;
/// The longest retry delay of the backoff (15 minutes).
pub const MAX_RETRY_DELAY_SECS: u32 = 900;
/// The longest provider `Retry-After` honoured.
pub const MAX_PROVIDER_WAIT_SECS: u32 = 3600;
/// The longest breaker pause (one hour).
pub const MAX_PAUSE_MS: i64 = 3_600_000;
/// The longest `last_error` kept.
const ERROR_MAX_CHARS: usize = 200;

/// What the queue should do with the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done with it (delivered, nothing left to do, or the cron will
    /// re-enqueue what is left).
    Ack,
    /// Deliver it again after `delay_secs` (≥ 1).
    Retry { delay_secs: u32 },
    /// Local development only: a consumer crash was injected after the
    /// provider accepted the batch and before anything was recorded. The
    /// adapter fails the whole invocation (no ack, nothing recorded).
    Crash,
}

#[derive(Deserialize)]
struct CampaignRow {
    status: String,
    paused_until: Option<i64>,
    #[serde(flatten)]
    text: CampaignText,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[derive(Deserialize)]
struct Claimed {
    subscriber_id: String,
    attempts: i64,
}

#[derive(Deserialize)]
struct SubscriberRow {
    id: String,
    email_sealed: String,
    locale: String,
    status: String,
}

#[derive(Deserialize)]
struct Breaker {
    status: String,
}

/// One job's context.
struct Run<'a, S, C, R, M> {
    sql: &'a S,
    clock: &'a C,
    rng: &'a R,
    keys: &'a CampaignKeys,
    mailer: &'a M,
    settings: &'a Settings,
    site: &'a str,
    campaign: &'a str,
    dev: bool,
}

/// Delivers `job` (see the module documentation); `dev` enables the
/// injected `crash` fault of local development. `Err` only for a storage
/// failure: the adapter then lets the queue retry the job (claimed rows
/// return after their lease).
#[allow(clippy::too_many_arguments)]
pub async fn deliver<S: Sql, C: Clock, R: Rng, M: Mailer>(
    sql: &S,
    clock: &C,
    rng: &R,
    keys: &CampaignKeys,
    mailer: &M,
    settings: &Settings,
    job: &Job,
    dev: bool,
) -> Result<Verdict, PortError> {
    let run = Run {
        sql,
        clock,
        rng,
        keys,
        mailer,
        settings,
        site: &job.site,
        campaign: &job.campaign,
        dev,
    };
    let ids = distinct(&job.subscribers);
    for chunk in ids.chunks(MAX_JOB_IDS) {
        match run.round(chunk).await? {
            Verdict::Ack => {}
            other => return Ok(other),
        }
    }
    Ok(Verdict::Ack)
}

/// A job that exhausted its queue retries (the dead-letter queue). Its rows
/// still `pending` are handed back to the cron (`enqueued_at` cleared), which
/// enqueues them again: a job can exhaust its retries without any row
/// failing (waits for the send-rate cap, provider 429s), so dead-lettering
/// must not fail rows that were never tried. Rows still end: every provider
/// attempt counts, and a row over `max_attempts` is marked failed. Rows
/// `sending` are left to their lease.
pub async fn dead_letter<S: Sql>(sql: &S, job: &Job) -> Result<(), PortError> {
    let ids = distinct(&job.subscribers);
    for chunk in ids.chunks(MAX_JOB_IDS) {
        let stmt = with_ids(
            Statement::new(format!(
                "UPDATE campaign_deliveries SET enqueued_at = NULL \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND status = 'pending' \
                 AND subscriber_id IN ({})",
                placeholders(3, chunk.len())
            ))
            .bind(job.site.as_str())
            .bind(job.campaign.as_str()),
            chunk,
        );
        sql.execute(&stmt).await?;
    }
    Ok(())
}

impl<S: Sql, C: Clock, R: Rng, M: Mailer> Run<'_, S, C, R, M> {
    async fn round(&self, ids: &[&str]) -> Result<Verdict, PortError> {
        let now = self.clock.now_ms();
        let Some(campaign) = self
            .sql
            .query_one::<CampaignRow>(
                &Statement::new(
                    "SELECT status, paused_until, subject_en, subject_vi, body_en, body_vi \
                     FROM campaigns WHERE site_id = ?1 AND id = ?2",
                )
                .bind(self.site)
                .bind(self.campaign),
            )
            .await?
        else {
            return Ok(Verdict::Ack);
        };
        match campaign.status.as_str() {
            "sending" => {}
            "paused" if campaign.paused_until.is_none_or(|until| until <= now) => {}
            "paused" => {
                // The cron re-enqueues these rows when it resumes the campaign.
                self.sql.execute(&self.unqueue(ids)).await?;
                return Ok(Verdict::Ack);
            }
            _ => return Ok(Verdict::Ack),
        }
        let cutoff = now - self.settings.lease_ms;
        if !self.any_claimable(ids, cutoff).await? {
            return Ok(Verdict::Ack);
        }
        if let Some(wait) = take_slot(self.sql, now, self.settings).await? {
            return Ok(Verdict::Retry { delay_secs: wait });
        }
        let claim = self.rng.id()?;
        let claimed: Vec<Claimed> = self
            .sql
            .query_as(&with_ids(
                Statement::new(format!(
                    "UPDATE campaign_deliveries SET status = 'sending', claim_id = ?3, \
                     claimed_at = ?4, attempts = attempts + 1 \
                     WHERE site_id = ?1 AND campaign_id = ?2 \
                     AND (status = 'pending' OR (status = 'sending' AND claimed_at < ?5)) \
                     AND subscriber_id IN ({}) RETURNING subscriber_id, attempts",
                    placeholders(6, ids.len())
                ))
                .bind(self.site)
                .bind(self.campaign)
                .bind(claim.as_str())
                .bind(now)
                .bind(cutoff),
                ids,
            ))
            .await?;
        if claimed.is_empty() {
            return Ok(Verdict::Ack);
        }
        self.send_claimed(&claim, &claimed, &campaign.text).await
    }

    /// Whether one of `ids` is `pending`, or `sending` with a lease older
    /// than `cutoff`.
    async fn any_claimable(&self, ids: &[&str], cutoff: i64) -> Result<bool, PortError> {
        let count: Option<Count> = self
            .sql
            .query_one(&with_ids(
                Statement::new(format!(
                    "SELECT count(*) AS n FROM campaign_deliveries \
                     WHERE site_id = ?1 AND campaign_id = ?2 \
                     AND (status = 'pending' OR (status = 'sending' AND claimed_at < ?3)) \
                     AND subscriber_id IN ({})",
                    placeholders(4, ids.len())
                ))
                .bind(self.site)
                .bind(self.campaign)
                .bind(cutoff),
                ids,
            ))
            .await?;
        Ok(count.is_some_and(|c| c.n > 0))
    }

    async fn send_claimed(
        &self,
        claim: &str,
        claimed: &[Claimed],
        text: &CampaignText,
    ) -> Result<Verdict, PortError> {
        let ids: Vec<&str> = claimed.iter().map(|c| c.subscriber_id.as_str()).collect();
        let subscribers: HashMap<String, SubscriberRow> = self
            .sql
            .query_as::<SubscriberRow>(&with_ids(
                Statement::new(format!(
                    "SELECT id, email_sealed, locale, status FROM subscribers \
                     WHERE site_id = ?1 AND id IN ({})",
                    placeholders(2, ids.len())
                ))
                .bind(self.site),
                &ids,
            ))
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();

        // Rows settled without the provider, and the rows to send.
        let mut writes = Vec::new();
        let mut ready: Vec<(&Claimed, String, &str)> = Vec::new();
        let max_attempts = i64::from(self.settings.max_attempts);
        for row in claimed {
            let id = row.subscriber_id.as_str();
            match subscribers.get(id) {
                Some(s) if s.status == "confirmed" => {
                    if row.attempts > max_attempts {
                        writes.push(self.settle(claim, id, "failed", Some("too many attempts")));
                    } else if let Some(to) = self.keys.open_email(self.site, id, &s.email_sealed) {
                        ready.push((row, to, s.locale.as_str()));
                    } else {
                        writes.push(self.settle(claim, id, "failed", Some("unreadable address")));
                    }
                }
                _ => writes.push(self.settle(claim, id, "skipped", None)),
            }
        }
        if ready.is_empty() {
            self.sql.batch(&writes).await?;
            finish_if_done(self.sql, self.site, self.campaign, self.clock.now_ms()).await?;
            return Ok(Verdict::Ack);
        }

        let origin = site_origin(self.sql, self.site).await?;
        let mail = CampaignMail::new(self.site, self.campaign, &origin, text);
        let emails: Vec<OutgoingEmail> = ready
            .iter()
            .map(|(row, to, locale)| mail.compose(self.keys, &row.subscriber_id, to, locale))
            .collect();

        match self.mailer.send(&emails).await {
            Ok(answers) => {
                if self.dev {
                    let to: Vec<&str> = emails.iter().map(|e| e.to.as_str()).collect();
                    if take_fault(self.sql, "crash", &to).await? {
                        return Ok(Verdict::Crash);
                    }
                }
                let sent_at = self.clock.now_ms();
                for (i, (row, to, _)) in ready.iter().enumerate() {
                    match answers.get(i) {
                        Some(Accepted::Sent { provider_id }) => {
                            writes.push(self.sent(claim, &row.subscriber_id, provider_id, sent_at));
                        }
                        Some(Accepted::Rejected { reason }) => {
                            let reason = clean_reason(reason, to);
                            writes.push(self.settle(
                                claim,
                                &row.subscriber_id,
                                "failed",
                                Some(&reason),
                            ));
                        }
                        // No answer for it: back to pending, for a later job.
                        None => {}
                    }
                }
                if answers.len() < ready.len() {
                    writes.push(self.release(claim, "no answer from the provider", false));
                }
                writes.push(
                    Statement::new(
                        "UPDATE campaigns SET failures = 0 \
                         WHERE site_id = ?1 AND id = ?2 AND failures != 0",
                    )
                    .bind(self.site)
                    .bind(self.campaign),
                );
                self.sql.batch(&writes).await?;
                finish_if_done(self.sql, self.site, self.campaign, sent_at).await?;
                Ok(Verdict::Ack)
            }
            Err(err) => {
                let now = self.clock.now_ms();
                let paused = self.trip(now).await?;
                writes.push(self.release(claim, failure_kind(&err), paused));
                self.sql.batch(&writes).await?;
                if paused {
                    return Ok(Verdict::Ack);
                }
                let attempt = ready.iter().map(|(r, _, _)| r.attempts).max().unwrap_or(1);
                Ok(Verdict::Retry {
                    delay_secs: retry_delay(self.settings, attempt, &err),
                })
            }
        }
    }

    /// Counts one provider failure; at the threshold the campaign pauses for
    /// `cooldown × 2^pauses` (at most an hour). One statement. Whether the
    /// campaign is now paused.
    async fn trip(&self, now: i64) -> Result<bool, PortError> {
        let breaker: Option<Breaker> = self
            .sql
            .query_one(
                &Statement::new(
                    "UPDATE campaigns SET failures = failures + 1, updated_at = ?4, \
                     status = CASE WHEN failures + 1 >= ?3 THEN 'paused' ELSE status END, \
                     paused_until = CASE WHEN failures + 1 >= ?3 \
                       THEN ?4 + min(?5 * (1 << min(pauses, 20)), ?6) ELSE paused_until END, \
                     pauses = CASE WHEN failures + 1 >= ?3 THEN pauses + 1 ELSE pauses END \
                     WHERE site_id = ?1 AND id = ?2 AND status IN ('sending', 'paused') \
                     RETURNING status",
                )
                .bind(self.site)
                .bind(self.campaign)
                .bind(self.settings.breaker_threshold.max(1))
                .bind(now)
                .bind(self.settings.breaker_cooldown_ms.max(0))
                .bind(MAX_PAUSE_MS),
            )
            .await?;
        Ok(breaker.is_some_and(|b| b.status == "paused"))
    }

    /// A claimed row's final `status` (`skipped` / `failed`), guarded by
    /// the claim.
    fn settle(
        &self,
        claim: &str,
        subscriber: &str,
        status: &str,
        error: Option<&str>,
    ) -> Statement {
        Statement::new(
            "UPDATE campaign_deliveries SET status = ?5, \
             last_error = CASE WHEN ?6 IS NULL THEN NULL \
               WHEN last_error IS NULL THEN ?6 ELSE ?6 || ' (last: ' || last_error || ')' END \
             WHERE site_id = ?1 AND campaign_id = ?2 AND subscriber_id = ?3 \
             AND claim_id = ?4 AND status = 'sending'",
        )
        .bind(self.site)
        .bind(self.campaign)
        .bind(subscriber)
        .bind(claim)
        .bind(status)
        .bind(error)
    }

    /// A claimed row accepted by the provider, guarded by the claim.
    fn sent(&self, claim: &str, subscriber: &str, provider_id: &str, at: i64) -> Statement {
        Statement::new(
            "UPDATE campaign_deliveries SET status = 'sent', sent_at = ?5, provider_id = ?6, \
             last_error = NULL \
             WHERE site_id = ?1 AND campaign_id = ?2 AND subscriber_id = ?3 \
             AND claim_id = ?4 AND status = 'sending'",
        )
        .bind(self.site)
        .bind(self.campaign)
        .bind(subscriber)
        .bind(claim)
        .bind(at)
        .bind(provider_id)
    }

    /// Every row of this claim still `sending` back to `pending`, with why;
    /// `unqueue` also forgets its job (the cron enqueues it again on resume).
    fn release(&self, claim: &str, why: &str, unqueue: bool) -> Statement {
        Statement::new(
            "UPDATE campaign_deliveries SET status = 'pending', claim_id = NULL, \
             claimed_at = NULL, last_error = ?4, \
             enqueued_at = CASE WHEN ?5 THEN NULL ELSE enqueued_at END \
             WHERE site_id = ?1 AND campaign_id = ?2 AND claim_id = ?3 AND status = 'sending'",
        )
        .bind(self.site)
        .bind(self.campaign)
        .bind(claim)
        .bind(why)
        .bind(unqueue)
    }

    /// Forgets the job of these pending rows, so the cron enqueues them
    /// again (a job dropped while the campaign is paused).
    fn unqueue(&self, ids: &[&str]) -> Statement {
        with_ids(
            Statement::new(format!(
                "UPDATE campaign_deliveries SET enqueued_at = NULL \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND status = 'pending' \
                 AND subscriber_id IN ({})",
                placeholders(3, ids.len())
            ))
            .bind(self.site)
            .bind(self.campaign),
            ids,
        )
    }
}

/// The backoff after a provider failure: the provider's `Retry-After` for a
/// 429 that gave one, else `retry_base × 2^(attempt − 1)`, at most 15 min.
fn retry_delay(settings: &Settings, attempt: i64, err: &MailerError) -> u32 {
    if let MailerError::RateLimited {
        retry_after_secs: Some(secs),
    } = err
    {
        return (*secs).clamp(1, MAX_PROVIDER_WAIT_SECS);
    }
    let exp = u32::try_from((attempt - 1).clamp(0, 20)).unwrap_or(20);
    let delay = u64::from(settings.retry_base_secs.max(1)) << exp;
    u32::try_from(delay.min(u64::from(MAX_RETRY_DELAY_SECS))).unwrap_or(MAX_RETRY_DELAY_SECS)
}

/// The ledger's note on a failed call: its kind only (a provider message
/// may quote addresses).
fn failure_kind(err: &MailerError) -> &'static str {
    match err {
        MailerError::RateLimited { .. } => "provider rate limit (429)",
        MailerError::Unavailable(_) => "provider unavailable",
        MailerError::Timeout => "provider timed out",
    }
}

/// A provider's rejection reason as kept in the ledger: without the
/// address, without control characters, at most 200 characters.
fn clean_reason(reason: &str, to: &str) -> String {
    let reason = if to.is_empty() {
        reason.to_owned()
    } else {
        reason.replace(to, "<recipient>")
    };
    let cleaned: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ERROR_MAX_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "rejected by the provider".to_owned()
    } else {
        format!("rejected: {cleaned}")
    }
}

/// The job's ids, each once, in order.
fn distinct(ids: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    ids.iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .collect()
}

fn with_ids(mut stmt: Statement, ids: &[&str]) -> Statement {
    for id in ids {
        stmt = stmt.bind(*id);
    }
    stmt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_and_is_capped_at_fifteen_minutes() {
        let s = Settings::default();
        let unavailable = MailerError::Unavailable("503".into());
        let delays: Vec<u32> = (1..=8).map(|a| retry_delay(&s, a, &unavailable)).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 900]);
        assert_eq!(retry_delay(&s, 1_000, &unavailable), 900);
    }

    #[test]
    fn a_429_waits_what_the_provider_said() {
        let s = Settings::default();
        let said = MailerError::RateLimited {
            retry_after_secs: Some(7),
        };
        assert_eq!(retry_delay(&s, 5, &said), 7);
        let silent = MailerError::RateLimited {
            retry_after_secs: None,
        };
        assert_eq!(retry_delay(&s, 2, &silent), 20);
    }

    #[test]
    fn a_rejection_reason_never_keeps_the_address() {
        let r = clean_reason("bad mailbox a@example.com\r\n", "a@example.com");
        assert_eq!(r, "rejected: bad mailbox <recipient>");
        assert_eq!(
            clean_reason("", "a@example.com"),
            "rejected by the provider"
        );
        assert!(clean_reason(&"x".repeat(500), "a@b.c").chars().count() <= 220);
    }
}
