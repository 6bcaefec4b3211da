//! The queue consumer: delivering one job (a campaign and up to
//! [`MAX_JOB_IDS`] subscriber ids) so that every ledger row is sent exactly
//! once, whatever the queue and the provider do (docs/adr/0014, 0015).
//!
//! A job is only a hint; the ledger is the truth. For each chunk of the
//! job's ids the consumer repeats one step until nothing of the chunk is
//! claimable; a step makes at most one provider call:
//! 1. loads the campaign (gone, not `sending`, or paused → ack);
//! 2. finds the chunk's claimable rows (`pending`, or `sending` with an
//!    expired lease); none → the chunk is done (a duplicate or late job
//!    stops here, taking no send slot);
//! 3. takes a slot of the global send-rate cap ([`crate::rate`]; full →
//!    retry later);
//! 4. if one of those rows belongs to a batch ([`crate::batches`]) not yet
//!    settled, claims every claimable row of THAT batch (under a fresh
//!    `claim_id`, in ONE `UPDATE … RETURNING`) and sends the batch again
//!    exactly as first composed, under its key — even rows of it the job
//!    does not name, even members who unsubscribed since: the provider
//!    answers a request it already processed without sending again;
//! 5. otherwise claims the chunk's rows that are in no batch, skips rows
//!    whose subscriber is gone or no longer confirmed, fails rows out of
//!    attempts or with an unreadable address, composes the rest
//!    ([`crate::mail`]), records them as a new batch with its key, and only
//!    then calls the provider;
//! 6. records every answer in ONE batch, each write guarded by its
//!    `claim_id` (a row another consumer took over after the lease expired
//!    is not overwritten), resets the breaker and finishes the campaign when
//!    it is done; or, when the provider failed, acts on the failure as
//!    [`crate::failures`] says: releases the rows to `pending` (dissolving
//!    a new batch the provider provably never processed, refunding the
//!    attempt of a request it refused), counts towards the breaker (pausing
//!    the campaign at the threshold, or at once for a refused key or
//!    sender) and asks for a retry with backoff.
//!
//! Should the consumer die between the provider's acceptance and step 6,
//! the rows stay `sending` until their lease expires; the next claim of any
//! of them sends their batch again under the same key, and the provider
//! answers the original acceptance without a second email. Local
//! development injects exactly that crash (`Verdict::Crash`, a `crash`
//! fault of [`crate::outbox`]). A batch still unsettled near the end of the
//! provider's key lifetime is failed rather than resent (the provider would
//! have forgotten its key).
mod outcome;

use std::collections::{HashMap, HashSet};

use sealpost_ports::{Clock, PortError, Rng, SiteDb, SiteId, Sql, Statement};
use serde::Deserialize;

use crate::batches::{self, Member, RESEND_WITHIN_MS, batch_key};
use crate::keys::CampaignKeys;
use crate::ledger::finish_if_done;
use crate::mail::{CampaignMail, CampaignText};
use crate::outbox::placeholders;
use crate::ports::{Batch, Job, Mailer};
use crate::rate::take_slot;
use crate::settings::Settings;

/// The subscriber ids a job carries, as the send route and the cron cut
/// them ([`crate::campaigns::JOB_SIZE`]).
pub use crate::campaigns::JOB_SIZE;

/// Subscriber ids claimed per statement (a longer job is delivered in
/// several rounds, each with its own send slot).
pub const MAX_JOB_IDS: usize = 50;
pub use crate::failures::{MAX_PROVIDER_WAIT_SECS, MAX_RETRY_DELAY_SECS};
/// The longest breaker pause (one hour).
pub const MAX_PAUSE_MS: i64 = 3_600_000;

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
struct Claimable {
    subscriber_id: String,
    batch_id: Option<String>,
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

/// Which rows a claim takes.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// Every claimable row of this batch.
    Batch(&'a str),
    /// These rows, when in no batch.
    Unbatched(&'a [&'a str]),
}

/// One job's context.
struct Run<'a, S: Sql, C, R, M> {
    /// The job's site: every ledger, campaign and subscriber statement.
    db: SiteDb<'a, S>,
    /// The plain port, for the global tables only: the send-rate cell
    /// ([`crate::rate`]) and the dev faults ([`crate::outbox`]).
    global: &'a S,
    clock: &'a C,
    rng: &'a R,
    keys: &'a CampaignKeys,
    mailer: &'a M,
    settings: &'a Settings,
    campaign: &'a str,
    dev: bool,
}

/// The site of `job`, parsed once at the consumer's entry; a job naming no
/// valid site is refused (only this crate enqueues jobs, from a [`SiteId`]).
fn job_site<'a, S: Sql>(sql: &'a S, job: &Job) -> Result<SiteDb<'a, S>, PortError> {
    let site = SiteId::parse(&job.site).map_err(|e| {
        PortError::Decode(format!(
            "campaign job for campaign {} refused: {e}",
            job.campaign
        ))
    })?;
    Ok(SiteDb::new(sql, site))
}

/// Delivers `job` (see the module documentation); `dev` enables the
/// injected `crash` fault of local development. `Err` for a storage
/// failure (the adapter then lets the queue retry the job; claimed rows
/// return after their lease) and for a job whose site is not a valid site
/// id ([`PortError::Decode`], before any statement runs).
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
        db: job_site(sql, job)?,
        global: sql,
        clock,
        rng,
        keys,
        mailer,
        settings,
        campaign: &job.campaign,
        dev,
    };
    let ids = distinct(&job.subscribers);
    for chunk in ids.chunks(MAX_JOB_IDS) {
        loop {
            match run.step(chunk).await? {
                Step::Again => {}
                Step::Done => break,
                Step::Stop(verdict) => return Ok(verdict),
            }
        }
    }
    Ok(Verdict::Ack)
}

/// What one step leaves to do with its chunk.
enum Step {
    /// A provider call was made or rows were settled: look again.
    Again,
    /// Nothing of the chunk is claimable.
    Done,
    /// Stop the job with this verdict.
    Stop(Verdict),
}

/// The rows one step holds under its claim and sends as one batch.
struct Sending<'a> {
    claim: &'a str,
    batch_id: &'a str,
    /// The batch was recorded by this step: the provider never saw it.
    fresh: bool,
    /// The batch's members in order, with whether this claim holds each.
    members: Vec<(String, bool)>,
    /// The highest `attempts` among the rows this claim holds.
    attempt: i64,
}

/// A job that exhausted its queue retries (the dead-letter queue). Its rows
/// still `pending` are handed back to the cron (`enqueued_at` cleared), which
/// enqueues them again: a job can exhaust its retries without any row
/// failing (waits for the send-rate cap, provider 429s), so dead-lettering
/// must not fail rows that were never tried. Rows still end: every provider
/// attempt counts, and a row over `max_attempts` is marked failed. Rows
/// `sending` are left to their lease. A job whose site is not a valid site
/// id is refused like in [`deliver`].
pub async fn dead_letter<S: Sql>(sql: &S, job: &Job) -> Result<(), PortError> {
    let db = job_site(sql, job)?;
    let ids = distinct(&job.subscribers);
    for chunk in ids.chunks(MAX_JOB_IDS) {
        let stmt = with_ids(
            db.statement(&format!(
                "UPDATE campaign_deliveries SET enqueued_at = NULL \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND status = 'pending' \
                 AND subscriber_id IN ({})",
                placeholders(3, chunk.len())
            ))
            .bind(job.campaign.as_str()),
            chunk,
        );
        db.execute(&stmt).await?;
    }
    Ok(())
}

impl<S: Sql, C: Clock, R: Rng, M: Mailer> Run<'_, S, C, R, M> {
    async fn step(&self, ids: &[&str]) -> Result<Step, PortError> {
        let now = self.clock.now_ms();
        let Some(campaign) = self
            .db
            .query_one::<CampaignRow>(
                &self
                    .db
                    .statement(
                        "SELECT status, paused_until, subject_en, subject_vi, body_en, body_vi \
                         FROM campaigns WHERE site_id = ?1 AND id = ?2",
                    )
                    .bind(self.campaign),
            )
            .await?
        else {
            return Ok(Step::Stop(Verdict::Ack));
        };
        match campaign.status.as_str() {
            "sending" => {}
            "paused" if campaign.paused_until.is_none_or(|until| until <= now) => {}
            "paused" => {
                // The cron re-enqueues these rows when it resumes the campaign.
                self.db.execute(&self.unqueue(ids)).await?;
                return Ok(Step::Stop(Verdict::Ack));
            }
            _ => return Ok(Step::Stop(Verdict::Ack)),
        }
        let cutoff = now - self.settings.lease_ms;
        let claimable = self.claimable(ids, cutoff).await?;
        if claimable.is_empty() {
            return Ok(Step::Done);
        }
        if let Some(wait) = take_slot(self.global, now, self.settings).await? {
            return Ok(Step::Stop(Verdict::Retry { delay_secs: wait }));
        }
        let claim = self.rng.id()?;
        match claimable.iter().find_map(|c| c.batch_id.clone()) {
            Some(batch_id) => {
                self.resend(&claim, &batch_id, &campaign.text, now, cutoff)
                    .await
            }
            None => {
                let fresh: Vec<&str> = claimable.iter().map(|c| c.subscriber_id.as_str()).collect();
                self.send_new(&claim, &fresh, &campaign.text, now, cutoff)
                    .await
            }
        }
    }

    /// The rows of `ids` that are `pending`, or `sending` with a lease
    /// older than `cutoff`, with their batch, in the job's order.
    async fn claimable(&self, ids: &[&str], cutoff: i64) -> Result<Vec<Claimable>, PortError> {
        let rows: Vec<Claimable> = self
            .db
            .query_as(&with_ids(
                self.db
                    .statement(&format!(
                        "SELECT subscriber_id, batch_id FROM campaign_deliveries \
                     WHERE site_id = ?1 AND campaign_id = ?2 \
                     AND (status = 'pending' OR (status = 'sending' AND claimed_at < ?3)) \
                     AND subscriber_id IN ({})",
                        placeholders(4, ids.len())
                    ))
                    .bind(self.campaign)
                    .bind(cutoff),
                ids,
            ))
            .await?;
        let mut by_id: HashMap<String, Claimable> = rows
            .into_iter()
            .map(|r| (r.subscriber_id.clone(), r))
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(*id)).collect())
    }

    /// Claims the claimable rows among `ids` (all when `batch` is `None`,
    /// only those in no batch) or every claimable row of `batch`.
    async fn claim(
        &self,
        claim: &str,
        scope: Scope<'_>,
        now: i64,
        cutoff: i64,
    ) -> Result<Vec<Claimed>, PortError> {
        // Guarded by the campaign's status in the same statement: a claim
        // that runs after a cancel takes nothing (campaigns/cancel.rs).
        let base = "UPDATE campaign_deliveries SET status = 'sending', claim_id = ?3, \
                    claimed_at = ?4, attempts = attempts + 1 \
                    WHERE site_id = ?1 AND campaign_id = ?2 \
                    AND (status = 'pending' OR (status = 'sending' AND claimed_at < ?5)) \
                    AND EXISTS (SELECT 1 FROM campaigns c WHERE c.site_id = ?1 \
                    AND c.id = ?2 AND c.status IN ('sending', 'paused'))";
        let stmt = match scope {
            Scope::Batch(id) => self
                .db
                .statement(&format!(
                    "{base} AND batch_id = ?6 RETURNING subscriber_id, attempts"
                ))
                .bind(self.campaign)
                .bind(claim)
                .bind(now)
                .bind(cutoff)
                .bind(id),
            Scope::Unbatched(ids) => with_ids(
                self.db
                    .statement(&format!(
                        "{base} AND batch_id IS NULL AND subscriber_id IN ({}) \
                         RETURNING subscriber_id, attempts",
                        placeholders(6, ids.len())
                    ))
                    .bind(self.campaign)
                    .bind(claim)
                    .bind(now)
                    .bind(cutoff),
                ids,
            ),
        };
        self.db.query_as(&stmt).await
    }

    /// Step 4: sends recorded batch `batch_id` again, exactly as first sent.
    async fn resend(
        &self,
        claim: &str,
        batch_id: &str,
        text: &CampaignText,
        now: i64,
        cutoff: i64,
    ) -> Result<Step, PortError> {
        let claimed = self
            .claim(claim, Scope::Batch(batch_id), now, cutoff)
            .await?;
        if claimed.is_empty() {
            return Ok(Step::Again);
        }
        let held: HashSet<&str> = claimed.iter().map(|c| c.subscriber_id.as_str()).collect();
        let attempt = claimed.iter().map(|c| c.attempts).max().unwrap_or(1);
        let loaded = batches::load(&self.db, self.campaign, batch_id).await?;
        let fail_all = |why: &str| -> Vec<Statement> {
            let mut writes: Vec<Statement> = claimed
                .iter()
                .map(|c| self.settle(claim, &c.subscriber_id, "failed", Some(why)))
                .collect();
            writes.push(batches::forget_addresses(&self.db, self.campaign, batch_id));
            writes
        };
        let Some((recorded, members)) = loaded else {
            return self
                .settle_without_sending(fail_all("batch record missing"))
                .await;
        };
        if now - recorded.first_sent_at >= RESEND_WITHIN_MS {
            return self
                .settle_without_sending(fail_all(
                    "outcome unknown: the provider's answer was lost and its key has expired",
                ))
                .await;
        }
        if attempt > i64::from(self.settings.max_attempts) {
            return self
                .settle_without_sending(fail_all("too many attempts"))
                .await;
        }
        let Some(batch) = batches::recompose(
            self.keys,
            self.db.site(),
            self.campaign,
            text,
            &recorded,
            &members,
        ) else {
            return self
                .settle_without_sending(fail_all("batch could not be composed again identically"))
                .await;
        };
        self.db
            .execute(&batches::count_send(&self.db, self.campaign, batch_id))
            .await?;
        let sending = Sending {
            claim,
            batch_id,
            fresh: false,
            members: members
                .iter()
                .map(|m| {
                    let ours = held.contains(m.subscriber_id.as_str());
                    (m.subscriber_id.clone(), ours)
                })
                .collect(),
            attempt,
        };
        self.send(&sending, &batch).await
    }

    /// Step 5: claims the chunk's rows in no batch and sends them as a new
    /// batch, recorded first.
    async fn send_new(
        &self,
        claim: &str,
        ids: &[&str],
        text: &CampaignText,
        now: i64,
        cutoff: i64,
    ) -> Result<Step, PortError> {
        let claimed = self
            .claim(claim, Scope::Unbatched(ids), now, cutoff)
            .await?;
        if claimed.is_empty() {
            return Ok(Step::Again);
        }
        let claimed_ids: Vec<&str> = claimed.iter().map(|c| c.subscriber_id.as_str()).collect();
        let subscribers: HashMap<String, SubscriberRow> = self
            .db
            .query_as::<SubscriberRow>(&with_ids(
                self.db.statement(&format!(
                    "SELECT id, email_sealed, locale, status FROM subscribers \
                     WHERE site_id = ?1 AND id IN ({})",
                    placeholders(2, claimed_ids.len())
                )),
                &claimed_ids,
            ))
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();

        // Rows settled without the provider, and the batch's members.
        let mut writes = Vec::new();
        let mut members: Vec<(Member, String)> = Vec::new();
        let max_attempts = i64::from(self.settings.max_attempts);
        let site = self.db.site().as_str();
        for row in &claimed {
            let id = row.subscriber_id.as_str();
            match subscribers.get(id) {
                Some(s) if s.status == "confirmed" => {
                    if row.attempts > max_attempts {
                        writes.push(self.settle(claim, id, "failed", Some("too many attempts")));
                    } else if let Some(to) = self.keys.open_email(site, id, &s.email_sealed) {
                        let member = Member {
                            subscriber_id: id.to_owned(),
                            locale: s.locale.clone(),
                            sealed: Some(s.email_sealed.clone()),
                        };
                        members.push((member, to));
                    } else {
                        writes.push(self.settle(claim, id, "failed", Some("unreadable address")));
                    }
                }
                _ => writes.push(self.settle(claim, id, "skipped", None)),
            }
        }
        if members.is_empty() {
            return self.settle_without_sending(writes).await;
        }

        let origin = sealpost_ports::site_base_url(&self.db).await?.to_string();
        let mail = CampaignMail::new(site, self.campaign, &origin, text);
        let batch_id = self.rng.id()?;
        let batch = Batch {
            idempotency_key: batch_key(self.db.site(), self.campaign, &batch_id),
            emails: members
                .iter()
                .map(|(m, to)| mail.compose(self.keys, &m.subscriber_id, to, &m.locale))
                .collect(),
        };
        let settled = writes.len();
        let recorded: Vec<Member> = members.iter().map(|(m, _)| m.clone()).collect();
        writes.extend(batches::record(
            &self.db,
            self.campaign,
            &batch_id,
            &origin,
            &batch,
            claim,
            &recorded,
            now,
        ));
        let results = self.db.batch(&writes).await?;
        // The batch row, then one write per member: each must have landed,
        // or the batch is not what was composed and must not be sent.
        if results.iter().skip(settled + 1).any(|r| r.changes != 1) {
            let mut undo = batches::dissolve(&self.db, self.campaign, &batch_id).to_vec();
            undo.push(self.release(claim, "claim lost while recording the batch", false, true));
            self.db.batch(&undo).await?;
            return Ok(Step::Again);
        }
        let sending = Sending {
            claim,
            batch_id: &batch_id,
            fresh: true,
            members: recorded
                .iter()
                .map(|m| (m.subscriber_id.clone(), true))
                .collect(),
            attempt: claimed.iter().map(|c| c.attempts).max().unwrap_or(1),
        };
        self.send(&sending, &batch).await
    }

    /// Records rows settled without a provider call, and finishes the
    /// campaign when it is done.
    async fn settle_without_sending(&self, writes: Vec<Statement>) -> Result<Step, PortError> {
        if !writes.is_empty() {
            self.db.batch(&writes).await?;
        }
        finish_if_done(&self.db, self.campaign, self.clock.now_ms()).await?;
        Ok(Step::Again)
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
