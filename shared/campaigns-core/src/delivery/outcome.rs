//! Step 6 of a delivery: one provider call for a batch and its outcome in
//! the ledger — the answers recorded under the claim, or the failure acted
//! on as [`crate::failures`] says (release, dissolve, refund, breaker) — and
//! the guarded ledger writes every step uses.
use sealpost_ports::{Clock, PortError, Rng, Sql, Statement};

use super::{Breaker, MAX_PAUSE_MS, Run, Sending, Step, Verdict, placeholders, with_ids};
use crate::batches;
use crate::failures::{
    fails_the_batch, ledger_note, nothing_sent, opens_breaker_at_once, retry_delay,
};
use crate::ledger::finish_if_done;
use crate::outbox::take_fault;
use crate::ports::{Accepted, Batch, Mailer, MailerError};

/// The longest `last_error` kept.
const ERROR_MAX_CHARS: usize = 200;

impl<S: Sql, C: Clock, R: Rng, M: Mailer> Run<'_, S, C, R, M> {
    /// Step 6: one provider call for `batch`, and its outcome recorded.
    pub(super) async fn send(
        &self,
        sending: &Sending<'_>,
        batch: &Batch,
    ) -> Result<Step, PortError> {
        let result = match self.mailer.send(batch).await {
            Ok(answers) if answers.len() != batch.emails.len() => Err(MailerError::Unavailable(
                "provider answered a different number of emails".into(),
            )),
            other => other,
        };
        let answers = match result {
            Ok(answers) => answers,
            Err(err) => return self.failed(sending, &err).await,
        };
        if self.dev {
            let to: Vec<&str> = batch.emails.iter().map(|e| e.to.as_str()).collect();
            if take_fault(self.global, "crash", &to).await? {
                return Ok(Step::Stop(Verdict::Crash));
            }
        }
        let sent_at = self.clock.now_ms();
        let mut writes = Vec::with_capacity(answers.len() + 2);
        for (((id, ours), answer), email) in sending.members.iter().zip(&answers).zip(&batch.emails)
        {
            if !ours {
                continue;
            }
            writes.push(match answer {
                Accepted::Sent { provider_id } => {
                    self.sent(sending.claim, id, provider_id, sent_at)
                }
                Accepted::Rejected { reason } => {
                    let reason = clean_reason(reason, &email.to);
                    self.settle(sending.claim, id, "failed", Some(&reason))
                }
            });
        }
        writes.push(batches::forget_addresses(
            &self.db,
            self.campaign,
            sending.batch_id,
        ));
        writes.push(
            self.db
                .statement(
                    "UPDATE campaigns SET failures = 0 \
                     WHERE site_id = ?1 AND id = ?2 AND failures != 0",
                )
                .bind(self.campaign),
        );
        self.db.batch(&writes).await?;
        finish_if_done(&self.db, self.campaign, sent_at).await?;
        Ok(Step::Again)
    }

    /// A failed provider call: see [`crate::failures`].
    pub(super) async fn failed(
        &self,
        sending: &Sending<'_>,
        err: &MailerError,
    ) -> Result<Step, PortError> {
        if fails_the_batch(err) {
            let mut writes: Vec<Statement> = sending
                .members
                .iter()
                .filter(|(_, ours)| *ours)
                .map(|(id, _)| self.settle(sending.claim, id, "failed", Some(ledger_note(err))))
                .collect();
            writes.push(batches::forget_addresses(
                &self.db,
                self.campaign,
                sending.batch_id,
            ));
            return self.settle_without_sending(writes).await;
        }
        let now = self.clock.now_ms();
        let paused = self.trip(now, opens_breaker_at_once(err)).await?;
        let refused = nothing_sent(err);
        let mut writes = Vec::new();
        if sending.fresh && refused {
            // The provider never processed it: its rows may be regrouped.
            writes.extend(batches::dissolve(&self.db, self.campaign, sending.batch_id));
        }
        writes.push(self.release(sending.claim, ledger_note(err), paused, refused));
        self.db.batch(&writes).await?;
        if paused {
            return Ok(Step::Stop(Verdict::Ack));
        }
        Ok(Step::Stop(Verdict::Retry {
            delay_secs: retry_delay(self.settings, sending.attempt, err),
        }))
    }

    /// Counts one provider failure (`at_once`: as many as the threshold); at
    /// the threshold the campaign pauses for `cooldown × 2^pauses` (at most
    /// an hour). One statement. Whether the campaign is now paused.
    pub(super) async fn trip(&self, now: i64, at_once: bool) -> Result<bool, PortError> {
        let breaker: Option<Breaker> = self
            .db
            .query_one(
                &self.db.statement(
                    "UPDATE campaigns SET failures = failures + 1 + ?7 * max(?3 - failures - 1, 0), \
                     updated_at = ?4, \
                     status = CASE WHEN failures + 1 >= ?3 OR ?7 THEN 'paused' ELSE status END, \
                     paused_until = CASE WHEN failures + 1 >= ?3 OR ?7 \
                       THEN ?4 + min(?5 * (1 << min(pauses, 20)), ?6) ELSE paused_until END, \
                     pauses = CASE WHEN failures + 1 >= ?3 OR ?7 THEN pauses + 1 ELSE pauses END \
                     WHERE site_id = ?1 AND id = ?2 AND status IN ('sending', 'paused') \
                     RETURNING status",
                )
                .bind(self.campaign)
                .bind(self.settings.breaker_threshold.max(1))
                .bind(now)
                .bind(self.settings.breaker_cooldown_ms.max(0))
                .bind(MAX_PAUSE_MS)
                .bind(i64::from(at_once)),
            )
            .await?;
        Ok(breaker.is_some_and(|b| b.status == "paused"))
    }

    /// A claimed row's final `status` (`skipped` / `failed`), guarded by
    /// the claim.
    pub(super) fn settle(
        &self,
        claim: &str,
        subscriber: &str,
        status: &str,
        error: Option<&str>,
    ) -> Statement {
        self.db
            .statement(
                "UPDATE campaign_deliveries SET status = ?5, \
             last_error = CASE WHEN ?6 IS NULL THEN NULL \
               WHEN last_error IS NULL THEN ?6 ELSE ?6 || ' (last: ' || last_error || ')' END \
             WHERE site_id = ?1 AND campaign_id = ?2 AND subscriber_id = ?3 \
             AND claim_id = ?4 AND status = 'sending'",
            )
            .bind(self.campaign)
            .bind(subscriber)
            .bind(claim)
            .bind(status)
            .bind(error)
    }

    /// A claimed row accepted by the provider, guarded by the claim.
    pub(super) fn sent(
        &self,
        claim: &str,
        subscriber: &str,
        provider_id: &str,
        at: i64,
    ) -> Statement {
        self.db
            .statement(
                "UPDATE campaign_deliveries SET status = 'sent', sent_at = ?5, provider_id = ?6, \
             last_error = NULL \
             WHERE site_id = ?1 AND campaign_id = ?2 AND subscriber_id = ?3 \
             AND claim_id = ?4 AND status = 'sending'",
            )
            .bind(self.campaign)
            .bind(subscriber)
            .bind(claim)
            .bind(at)
            .bind(provider_id)
    }

    /// Every row of this claim still `sending` back to `pending`, with why;
    /// `unqueue` also forgets its job (the cron enqueues it again on resume);
    /// `refund` gives back the attempt of a request the provider refused
    /// before processing it (it did not try to send anything).
    pub(super) fn release(&self, claim: &str, why: &str, unqueue: bool, refund: bool) -> Statement {
        self.db
            .statement(
                "UPDATE campaign_deliveries SET status = 'pending', claim_id = NULL, \
             claimed_at = NULL, last_error = ?4, \
             enqueued_at = CASE WHEN ?5 THEN NULL ELSE enqueued_at END, \
             attempts = CASE WHEN ?6 AND attempts > 0 THEN attempts - 1 ELSE attempts END \
             WHERE site_id = ?1 AND campaign_id = ?2 AND claim_id = ?3 AND status = 'sending'",
            )
            .bind(self.campaign)
            .bind(claim)
            .bind(why)
            .bind(unqueue)
            .bind(refund)
    }

    /// Forgets the job of these pending rows, so the cron enqueues them
    /// again (a job dropped while the campaign is paused).
    pub(super) fn unqueue(&self, ids: &[&str]) -> Statement {
        with_ids(
            self.db
                .statement(&format!(
                    "UPDATE campaign_deliveries SET enqueued_at = NULL \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND status = 'pending' \
                 AND subscriber_id IN ({})",
                    placeholders(3, ids.len())
                ))
                .bind(self.campaign),
            ids,
        )
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

#[cfg(test)]
mod tests {
    use super::*;

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
