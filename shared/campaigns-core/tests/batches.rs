//! Exactly-once against a provider that keys whole requests (Resend: one
//! idempotency key per batch, kept 24 hours), natively: a batch whose answer
//! was lost is retried as the same request whatever happens before the retry
//! — an unsubscribe, a member out of attempts, the lease taken back, the
//! cron's requeue cutting jobs differently — and the provider's refusals of a
//! whole request (401, 403, 409, 422) pause and retry instead of failing
//! rows, while a per-email validation error fails only its own row.
mod common;

use common::ledger::{addresses, each_once, settings};
use common::{SECOND, SITE, Step, World};
use sealpost_campaigns_core::cron::reconcile;
use sealpost_campaigns_core::delivery::Verdict;
use sealpost_campaigns_core::ports::{Job, KEY_LIFETIME_MS};
use sealpost_campaigns_core::settings::Settings;
use sealpost_ports::Statement;
use sealpost_testkit::block_on;

impl World {
    /// What `POST /unsubscribe` writes: the subscriber, and their pending
    /// ledger rows `skipped`.
    fn unsubscribe(&self, subscriber: &str) {
        self.sql(
            Statement::new(
                "UPDATE subscribers SET status = 'unsubscribed' WHERE site_id = ?1 AND id = ?2",
            )
            .bind(SITE)
            .bind(subscriber),
        );
        self.sql(
            Statement::new(
                "UPDATE campaign_deliveries SET status = 'skipped' \
                 WHERE site_id = ?1 AND subscriber_id = ?2 AND status = 'pending'",
            )
            .bind(SITE)
            .bind(subscriber),
        );
    }

    fn job(&self, campaign: &str, subscribers: &[String]) -> Job {
        Job {
            site: SITE.into(),
            campaign: campaign.into(),
            subscribers: subscribers.to_vec(),
        }
    }

    /// Runs the cron until the campaign is no longer paused, delivering
    /// every job it enqueues; at most `rounds` runs, a minute apart.
    fn drive(&self, s: &Settings, rounds: usize) {
        for _ in 0..rounds {
            block_on(reconcile(&self.db, &self.queue, s, self.now())).expect("cron");
            for job in self.queue.take() {
                self.run(&job, s);
            }
            self.clock.advance_ms(60 * SECOND);
        }
    }
}

#[test]
fn an_unsubscribe_between_a_lost_answer_and_its_retry_sends_no_one_a_second_email() {
    let w = World::new(101);
    let s = settings();
    let subs = w.confirmed("u", "example.com", 3);
    let (campaign, job) = w.sending_to(&subs);
    w.mailer.then(Step::TimeoutAfterAccept);
    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 10 });

    w.unsubscribe(&subs[1]);
    w.clock.advance_ms(10 * SECOND);
    assert_eq!(w.run(&job, &s), Verdict::Ack);

    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("u", "example.com", 3)
    );
    // u-1's email went out with the first request; the ledger keeps what
    // the unsubscribe recorded, and the retry was the identical request.
    assert_eq!(w.ledger_row(&campaign, &subs[1])["status"], "skipped");
    assert_eq!(w.count(&campaign, "sent"), 2);
    let requests = w.mailer.requests.borrow().clone();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0], requests[1]);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_member_out_of_attempts_does_not_regroup_the_batch_whose_answer_was_lost() {
    let w = World::new(102);
    let s = Settings {
        max_attempts: 3,
        breaker_threshold: 100,
        ..settings()
    };
    let subs = w.confirmed("m", "example.com", 2);
    let (campaign, _) = w.sending_to(&subs);
    // m-0 alone fails twice, then goes with m-1 and the answer is lost.
    let alone = w.job(&campaign, &subs[..1]);
    w.mailer.then(Step::Unavailable).then(Step::Unavailable);
    assert_eq!(w.run(&alone, &s), Verdict::Retry { delay_secs: 10 });
    assert_eq!(w.run(&alone, &s), Verdict::Retry { delay_secs: 20 });
    let both = w.job(&campaign, &subs);
    w.mailer.then(Step::TimeoutAfterAccept);
    w.run(&both, &s);
    w.clock.advance_ms(60 * SECOND);
    w.run(&both, &s);
    w.clock.advance_ms(60 * SECOND);
    w.run(&both, &s);

    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("m", "example.com", 2)
    );
    // m-0's batch fails whole, out of attempts; m-1 goes in its own.
    assert_eq!(
        w.ledger_row(&campaign, &subs[0])["last_error"],
        "too many attempts (last: provider timed out)"
    );
    assert_eq!(w.ledger_row(&campaign, &subs[1])["status"], "sent");
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_crashed_batch_requeued_by_the_cron_with_other_rows_sends_no_one_twice() {
    let w = World::new(103);
    let s = settings();
    let subs = w.confirmed("c", "crash.test", 3);
    let (campaign, _) = w.sending_to(&subs);
    w.fault("crash", "@crash.test", 1);
    let first = w.job(&campaign, &subs[..2]);
    assert_eq!(w.deliver_with(&w.mailer, &first, &s, true), Verdict::Crash);

    // c-2's own job was dead-lettered (handed back to the cron). The lease
    // runs out; the cron takes c-0 and c-1 back and enqueues them with c-2.
    block_on(sealpost_campaigns_core::delivery::dead_letter(
        &w.db,
        &w.job(&campaign, &subs[2..]),
    ))
    .expect("dead letter");
    w.clock.advance_ms(s.lease_ms + 1);
    w.drive(&s, 2);

    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("c", "crash.test", 3)
    );
    assert_eq!(w.count(&campaign, "sent"), 3);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_crashed_batch_retried_through_jobs_that_split_it_sends_no_one_twice() {
    let w = World::new(104);
    let s = settings();
    let subs = w.confirmed("p", "crash.test", 3);
    let (campaign, job) = w.sending_to(&subs);
    w.fault("crash", "@crash.test", 1);
    assert_eq!(w.deliver_with(&w.mailer, &job, &s, true), Verdict::Crash);

    w.clock.advance_ms(s.lease_ms + 1);
    assert_eq!(w.run(&w.job(&campaign, &subs[2..]), &s), Verdict::Ack);
    assert_eq!(w.run(&w.job(&campaign, &subs[..2]), &s), Verdict::Ack);

    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("p", "crash.test", 3)
    );
    assert_eq!(w.count(&campaign, "sent"), 3);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_lease_taken_back_mid_call_is_resent_as_the_same_request() {
    let w = World::new(105);
    let s = settings();
    let subs = w.confirmed("l", "example.com", 4);
    let (campaign, job) = w.sending_to(&subs);
    // The provider is still processing when the consumer gives up; the lease
    // is taken back and the rows come back in two jobs.
    w.mailer
        .then(Step::TimeoutStillProcessing { busy_ms: 200_000 });
    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 10 });
    w.clock.advance_ms(s.lease_ms + 1);
    block_on(reconcile(&w.db, &w.queue, &s, w.now())).expect("cron");
    w.queue.take();
    let halves = [w.job(&campaign, &subs[..2]), w.job(&campaign, &subs[2..])];
    for half in &halves {
        w.run(half, &s);
    }
    w.clock.advance_ms(200 * SECOND);
    for half in &halves {
        w.run(half, &s);
    }

    let requests = w.mailer.requests.borrow().clone();
    assert!(
        requests
            .iter()
            .all(|(key, to)| key == &requests[0].0 && to == &requests[0].1),
        "every call is the same request: {requests:?}"
    );
    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("l", "example.com", 4)
    );
    assert_eq!(w.count(&campaign, "sent"), 4);
}

#[test]
fn a_batch_unsettled_past_the_keys_lifetime_is_failed_not_sent_again() {
    let w = World::new(106);
    let s = settings();
    let subs = w.confirmed("k", "example.com", 2);
    let (campaign, job) = w.sending_to(&subs);
    w.mailer.then(Step::TimeoutAfterAccept);
    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 10 });

    w.clock.advance_ms(KEY_LIFETIME_MS);
    assert_eq!(w.run(&job, &s), Verdict::Ack);

    assert_eq!(w.mailer.calls.get(), 1, "no call the provider cannot match");
    assert_eq!(each_once(&w.mailer.delivered.borrow()).len(), 2);
    assert_eq!(w.count(&campaign, "failed"), 2);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

/// A whole-request refusal of Resend's batch endpoint, as it answers it.
fn refusal(status: u16, name: &str) -> Step {
    Step::Http {
        status,
        body: format!(r#"{{"statusCode":{status},"name":"{name}","message":"refused"}}"#),
    }
}

/// `n` answers `step`, then the campaign must pause, resume through the
/// cron and end with everyone sent exactly once.
fn a_refusal_burst_pauses_and_everyone_is_still_sent_once(step: Step, seed: u64) {
    let w = World::new(seed);
    let s = settings();
    let subs = w.confirmed("b", "example.com", 3);
    let (campaign, job) = w.sending_to(&subs);
    for _ in 0..3 {
        w.mailer.then(step.clone());
    }

    w.run(&job, &s);
    assert_eq!(w.count(&campaign, "failed"), 0, "a refusal fails no row");
    w.drive(&s, 20);

    assert!(w.campaign_field(&campaign, "pauses").as_i64().unwrap() >= 1);
    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("b", "example.com", 3)
    );
    assert_eq!(w.count(&campaign, "sent"), 3);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_401_burst_pauses_the_campaign_and_everyone_is_still_sent_once() {
    a_refusal_burst_pauses_and_everyone_is_still_sent_once(refusal(401, "missing_api_key"), 107);
}

#[test]
fn a_403_burst_pauses_the_campaign_and_everyone_is_still_sent_once() {
    a_refusal_burst_pauses_and_everyone_is_still_sent_once(refusal(403, "validation_error"), 108);
}

#[test]
fn a_409_in_progress_burst_pauses_the_campaign_and_everyone_is_still_sent_once() {
    a_refusal_burst_pauses_and_everyone_is_still_sent_once(
        refusal(409, "concurrent_idempotent_requests"),
        109,
    );
}

#[test]
fn a_whole_request_validation_error_fails_no_row() {
    a_refusal_burst_pauses_and_everyone_is_still_sent_once(refusal(422, "validation_error"), 110);
}

#[test]
fn a_per_email_validation_error_fails_only_that_row() {
    let w = World::new(111);
    let subs = w.confirmed("v", "example.com", 3);
    let (campaign, job) = w.sending_to(&subs);
    w.mailer.then(Step::Http {
        status: 200,
        body: r#"{"data":[{"id":"id-0"},{"id":"id-2"}],
                  "errors":[{"index":1,"message":"Invalid `to` field."}]}"#
            .into(),
    });

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);

    let row = w.ledger_row(&campaign, &subs[1]);
    assert_eq!(row["status"], "failed");
    assert_eq!(row["last_error"], "rejected: Invalid `to` field.");
    assert_eq!(w.ledger_row(&campaign, &subs[0])["provider_id"], "id-0");
    assert_eq!(w.ledger_row(&campaign, &subs[2])["provider_id"], "id-2");
    assert_eq!(w.count(&campaign, "sent"), 2);
}
