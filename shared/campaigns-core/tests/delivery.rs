//! The queue consumer, the send-rate cap and the fake provider, natively:
//! every ledger row is sent exactly once across duplicate and late jobs, a
//! consumer crash after the provider accepted, provider failures (5xx, 429,
//! timeouts), the breaker, a lease takeover, and dead-lettering. Campaigns
//! and ledger rows are written straight into the tables (a `sending`
//! campaign with a complete ledger), so these tests stand on the consumer
//! alone.
mod common;

use std::cell::Cell;

use common::ledger::{addresses, each_once, settings};
use common::{MINUTE, SECOND, SITE, Step, World};
use sealpost_api::{ApiResponse, ErrorCode, Failure, Query};
use sealpost_campaigns_core::cron::reconcile;
use sealpost_campaigns_core::delivery::{Verdict, dead_letter, deliver};
use sealpost_campaigns_core::outbox::{dev_mail, set_fault, take_fault};
use sealpost_campaigns_core::ports::{
    Accepted, Batch, Job, KEY_LIFETIME_MS, Mailer, MailerError, OutgoingEmail,
};
use sealpost_campaigns_core::rate::take_slot;
use sealpost_campaigns_core::settings::Settings;
use sealpost_ports::{PortError, Statement};
use sealpost_testkit::block_on;
use serde_json::Value;

fn body(r: &ApiResponse) -> Value {
    r.body_json().expect("json body")
}

fn validation_fields(r: Result<ApiResponse, Failure>) -> Vec<String> {
    match r {
        Err(Failure::Api(e)) => {
            assert_eq!(e.code, ErrorCode::ValidationFailed);
            e.errors.into_iter().map(|f| f.field).collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn every_recipient_gets_one_email_in_their_locale_and_the_campaign_ends_sent() {
    let w = World::new(1);
    let subs = w.confirmed("r", "example.com", 6);
    let (campaign, job) = w.sending_to(&subs);

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);

    let delivered = w.mailer.delivered.borrow().clone();
    assert_eq!(each_once(&delivered), addresses("r", "example.com", 6));
    for (i, id) in subs.iter().enumerate() {
        let email = w.mailer.to(&format!("r-{i}@example.com")).remove(0);
        let expected = if i % 2 == 0 { "Hello" } else { "Xin chào" };
        assert_eq!(email.subject, expected);
        assert_eq!(email.idempotency_key, format!("{SITE}:{campaign}:{id}"));
        let row = w.ledger_row(&campaign, id);
        assert_eq!(row["status"], "sent");
        assert_eq!(row["attempts"], 1);
        assert!(row["provider_id"].as_str().unwrap().starts_with("msg-"));
    }
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
    assert_eq!(w.campaign_field(&campaign, "finished_at"), w.now());
    assert_eq!(w.mailer.calls.get(), 1, "one provider call for the job");
}

#[test]
fn the_email_has_both_unsubscribe_headers_a_working_token_and_escaped_html() {
    let w = World::new(2);
    let id = w.subscriber("reader@example.com", "en", "confirmed");
    let (campaign, job) = w.sending_to(std::slice::from_ref(&id));
    w.sql(
        Statement::new(
            "UPDATE campaigns SET body_en = 'Hi <script>alert(1)</script> **bold**' \
             WHERE site_id = ?1 AND id = ?2",
        )
        .bind(SITE)
        .bind(campaign.as_str()),
    );

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);

    let email = w.mailer.to("reader@example.com").remove(0);
    let header = |name: &str| {
        email
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    let list = header("List-Unsubscribe");
    assert_eq!(
        header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let url = list.trim_start_matches('<').trim_end_matches('>');
    assert!(
        url.starts_with("https://news.example.com/unsubscribe?token="),
        "{url}"
    );
    let token = url.split_once("token=").unwrap().1;
    assert_eq!(
        w.keys.check_unsubscribe(token).as_deref(),
        Some(id.as_str())
    );
    assert!(email.text.contains(url) && email.html.contains(url));
    assert!(email.html.contains("<strong>bold</strong>"));
    assert!(!email.html.contains("<script>"));
    assert!(email.html.contains("&lt;script&gt;"));
}

#[test]
fn duplicate_and_late_jobs_send_nothing_twice() {
    let w = World::new(3);
    let subs = w.confirmed("d", "example.com", 4);
    let (campaign, job) = w.sending_to(&subs);

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);
    assert_eq!(w.run(&job, &settings()), Verdict::Ack, "the duplicate");
    w.clock.advance_ms(60 * MINUTE);
    assert_eq!(w.run(&job, &settings()), Verdict::Ack, "the late one");

    assert_eq!(
        w.mailer.calls.get(),
        1,
        "no provider call for a job with nothing to claim"
    );
    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("d", "example.com", 4)
    );
    assert_eq!(w.count(&campaign, "sent"), 4);
    assert!(
        subs.iter()
            .all(|s| w.ledger_row(&campaign, s)["attempts"] == 1)
    );
}

#[test]
fn a_crash_after_the_provider_accepted_sends_no_second_email_once_the_lease_expires() {
    let w = World::new(4);
    let s = settings();
    let subs = w.confirmed("c", "crash.test", 3);
    let (campaign, job) = w.sending_to(&subs);
    w.fault("crash", "@crash.test", 1);

    assert_eq!(w.deliver_with(&w.mailer, &job, &s, true), Verdict::Crash);
    assert_eq!(
        w.mailer.delivered.borrow().len(),
        3,
        "the provider accepted"
    );
    assert_eq!(w.count(&campaign, "sending"), 3, "nothing recorded");
    let first_ids: Vec<String> = w
        .mailer
        .delivered
        .borrow()
        .iter()
        .map(|e| e.idempotency_key.clone())
        .collect();

    // The queue redelivers at once: the rows are still leased.
    assert_eq!(w.deliver_with(&w.mailer, &job, &s, true), Verdict::Ack);
    assert_eq!(w.mailer.calls.get(), 1);
    assert_eq!(w.count(&campaign, "sending"), 3);

    // After the lease, a later job claims them again and the provider
    // answers the original acceptance.
    w.clock.advance_ms(s.lease_ms + 1);
    assert_eq!(w.deliver_with(&w.mailer, &job, &s, true), Verdict::Ack);
    assert_eq!(w.mailer.calls.get(), 2);
    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("c", "crash.test", 3)
    );
    assert_eq!(
        w.mailer
            .delivered
            .borrow()
            .iter()
            .map(|e| e.idempotency_key.clone())
            .collect::<Vec<_>>(),
        first_ids
    );
    for sub in &subs {
        let row = w.ledger_row(&campaign, sub);
        assert_eq!(row["status"], "sent");
        assert_eq!(row["attempts"], 2);
        let key = format!("{SITE}:{campaign}:{sub}");
        let first = first_ids.iter().position(|k| *k == key).unwrap();
        assert_eq!(
            row["provider_id"],
            format!("msg-{}", first + 1),
            "the first acceptance"
        );
    }
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_crash_fault_is_ignored_outside_local_development() {
    let w = World::new(5);
    let subs = w.confirmed("p", "crash.test", 2);
    let (campaign, job) = w.sending_to(&subs);
    w.fault("crash", "@crash.test", 1);

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);
    assert_eq!(w.count(&campaign, "sent"), 2);
    assert!(
        block_on(take_fault(&w.db, "crash", &["p-0@crash.test"])).unwrap(),
        "still armed"
    );
}

#[test]
fn a_timeout_after_acceptance_is_retried_without_a_duplicate() {
    let w = World::new(6);
    let s = settings();
    let subs = w.confirmed("t", "example.com", 3);
    let (campaign, job) = w.sending_to(&subs);
    w.mailer.then(Step::TimeoutAfterAccept);

    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 10 });
    assert_eq!(w.count(&campaign, "pending"), 3, "released for the retry");
    assert_eq!(
        w.ledger_row(&campaign, &subs[0])["last_error"],
        "provider timed out"
    );

    w.clock.advance_ms(10 * SECOND);
    assert_eq!(w.run(&job, &s), Verdict::Ack);
    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("t", "example.com", 3)
    );
    assert_eq!(w.count(&campaign, "sent"), 3);
    assert_eq!(w.ledger_row(&campaign, &subs[0])["last_error"], Value::Null);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn provider_failures_release_the_rows_and_back_off() {
    let w = World::new(7);
    let s = settings();
    let subs = w.confirmed("f", "example.com", 2);
    let (campaign, job) = w.sending_to(&subs);
    w.mailer.then(Step::Unavailable).then(Step::Unavailable);

    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 10 });
    let row = w.ledger_row(&campaign, &subs[0]);
    assert_eq!(row["status"], "pending");
    assert_eq!(row["claim_id"], Value::Null);
    assert_eq!(row["last_error"], "provider unavailable");
    assert_eq!(w.campaign_field(&campaign, "failures"), 1);

    w.clock.advance_ms(10 * SECOND);
    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 20 });
    assert_eq!(w.campaign_field(&campaign, "failures"), 2);
    assert_eq!(w.campaign_field(&campaign, "status"), "sending");

    w.clock.advance_ms(20 * SECOND);
    assert_eq!(w.run(&job, &s), Verdict::Ack);
    assert_eq!(
        w.campaign_field(&campaign, "failures"),
        0,
        "a success resets the breaker"
    );
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
    assert_eq!(each_once(&w.mailer.delivered.borrow()).len(), 2);
}

#[test]
fn a_429_waits_as_long_as_the_provider_says() {
    let w = World::new(8);
    let subs = w.confirmed("l", "example.com", 1);
    let (campaign, job) = w.sending_to(&subs);
    w.mailer.then(Step::RateLimited(Some(7)));

    assert_eq!(w.run(&job, &settings()), Verdict::Retry { delay_secs: 7 });
    assert_eq!(w.count(&campaign, "pending"), 1);
    assert_eq!(w.campaign_field(&campaign, "failures"), 1);
}

#[test]
fn three_failures_pause_the_campaign_until_the_cron_resumes_it_and_it_still_ends_sent() {
    let w = World::new(9);
    let s = settings();
    let subs = w.confirmed("b", "example.com", 3);
    let (campaign, job) = w.sending_to(&subs);
    for _ in 0..3 {
        w.mailer.then(Step::Unavailable);
    }

    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 10 });
    w.clock.advance_ms(10 * SECOND);
    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 20 });
    w.clock.advance_ms(20 * SECOND);
    assert_eq!(w.run(&job, &s), Verdict::Ack, "paused: the cron takes over");
    assert_eq!(w.campaign_field(&campaign, "status"), "paused");
    assert_eq!(
        w.campaign_field(&campaign, "paused_until"),
        w.now() + s.breaker_cooldown_ms
    );
    assert_eq!(w.campaign_field(&campaign, "pauses"), 1);
    for sub in &subs {
        let row = w.ledger_row(&campaign, sub);
        assert_eq!(row["status"], "pending");
        assert_eq!(
            row["enqueued_at"],
            Value::Null,
            "the cron enqueues it again on resume"
        );
    }

    // A job arriving during the pause sends nothing.
    w.clock.advance_ms(30 * SECOND);
    assert_eq!(w.run(&job, &s), Verdict::Ack);
    assert_eq!(w.mailer.calls.get(), 3);

    // The cron resumes it half-open: one more failure pauses it again, for
    // twice as long.
    let resume = |w: &World| {
        w.sql(
            Statement::new(
                "UPDATE campaigns SET status = 'sending', failures = ?3 \
                 WHERE site_id = ?1 AND id = ?2 AND status = 'paused' AND paused_until <= ?4",
            )
            .bind(SITE)
            .bind(campaign.as_str())
            .bind(s.breaker_threshold - 1)
            .bind(w.now()),
        );
    };
    w.clock.advance_ms(30 * SECOND);
    resume(&w);
    w.mailer.then(Step::Unavailable);
    assert_eq!(w.run(&job, &s), Verdict::Ack);
    assert_eq!(w.campaign_field(&campaign, "status"), "paused");
    assert_eq!(
        w.campaign_field(&campaign, "paused_until"),
        w.now() + 2 * s.breaker_cooldown_ms
    );

    w.clock.advance_ms(2 * s.breaker_cooldown_ms);
    resume(&w);
    assert_eq!(w.run(&job, &s), Verdict::Ack);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("b", "example.com", 3)
    );
}

#[test]
fn a_subscriber_who_left_mid_campaign_is_skipped() {
    let w = World::new(10);
    let subs = w.confirmed("u", "example.com", 3);
    let (campaign, job) = w.sending_to(&subs);
    w.sql(
        Statement::new(
            "UPDATE subscribers SET status = 'unsubscribed' WHERE site_id = ?1 AND id = ?2",
        )
        .bind(SITE)
        .bind(subs[1].as_str()),
    );
    w.sql(
        Statement::new("DELETE FROM subscribers WHERE site_id = ?1 AND id = ?2")
            .bind(SITE)
            .bind(subs[2].as_str()),
    );

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);
    assert_eq!(w.mailer.to("u-0@example.com").len(), 1);
    assert!(w.mailer.to("u-1@example.com").is_empty());
    assert!(w.mailer.to("u-2@example.com").is_empty());
    assert_eq!(w.ledger_row(&campaign, &subs[1])["status"], "skipped");
    assert_eq!(w.ledger_row(&campaign, &subs[2])["status"], "skipped");
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_job_whose_rows_are_all_skipped_calls_no_provider_and_finishes_the_campaign() {
    let w = World::new(11);
    let gone = w.subscriber("gone@example.com", "en", "unsubscribed");
    let (campaign, job) = w.sending_to(&[gone]);

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);
    assert_eq!(w.mailer.calls.get(), 0);
    assert_eq!(w.count(&campaign, "skipped"), 1);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_row_out_of_attempts_fails_and_the_campaign_still_finishes() {
    let w = World::new(12);
    let s = Settings {
        max_attempts: 2,
        breaker_threshold: 100,
        ..settings()
    };
    let subs = w.confirmed("m", "example.com", 2);
    let (campaign, job) = w.sending_to(&subs);
    w.mailer.then(Step::Unavailable).then(Step::Unavailable);

    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 10 });
    assert_eq!(w.run(&job, &s), Verdict::Retry { delay_secs: 20 });
    assert_eq!(w.run(&job, &s), Verdict::Ack);

    assert_eq!(
        w.mailer.calls.get(),
        2,
        "no third call for rows out of attempts"
    );
    assert!(w.mailer.delivered.borrow().is_empty());
    let row = w.ledger_row(&campaign, &subs[0]);
    assert_eq!(row["status"], "failed");
    assert_eq!(
        row["last_error"],
        "too many attempts (last: provider unavailable)"
    );
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_rejected_address_fails_without_holding_up_the_others() {
    let w = World::new(13);
    let subs = w.confirmed("x", "example.com", 3);
    let (campaign, job) = w.sending_to(&subs);
    w.mailer.reject.borrow_mut().push("x-1@example.com".into());

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);
    let row = w.ledger_row(&campaign, &subs[1]);
    assert_eq!(row["status"], "failed");
    assert_eq!(row["last_error"], "rejected: invalid recipient");
    assert_eq!(w.count(&campaign, "sent"), 2);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn an_unreadable_address_fails_instead_of_being_sent() {
    let w = World::new(14);
    let subs = w.confirmed("k", "example.com", 2);
    let (campaign, job) = w.sending_to(&subs);
    // An address sealed for another row does not open for this one.
    w.sql(
        Statement::new(
            "UPDATE subscribers SET email_sealed = (SELECT email_sealed FROM subscribers \
             WHERE site_id = ?1 AND id = ?3) WHERE site_id = ?1 AND id = ?2",
        )
        .bind(SITE)
        .bind(subs[0].as_str())
        .bind(subs[1].as_str()),
    );

    assert_eq!(w.run(&job, &settings()), Verdict::Ack);
    assert_eq!(
        w.ledger_row(&campaign, &subs[0])["last_error"],
        "unreadable address"
    );
    assert_eq!(w.ledger_row(&campaign, &subs[0])["status"], "failed");
    assert_eq!(w.mailer.delivered.borrow().len(), 1);
    assert_eq!(w.mailer.delivered.borrow()[0].to, "k-1@example.com");
}

/// A provider so slow that the rows' lease expires while it works: during
/// the call, another consumer delivers the same job to completion; then
/// this one's answer (with other provider ids) arrives.
struct Slow<'w> {
    world: &'w World,
    job: Job,
    settings: Settings,
    inner: Cell<Option<Verdict>>,
}

impl Mailer for Slow<'_> {
    async fn send(&self, batch: &Batch) -> Result<Vec<Accepted>, MailerError> {
        let w = self.world;
        w.clock.advance_ms(self.settings.lease_ms + 1);
        let verdict = deliver(
            &w.db,
            &w.clock,
            &w.rng,
            &w.keys,
            &w.mailer,
            &self.settings,
            &self.job,
            false,
        )
        .await
        .expect("inner deliver");
        self.inner.set(Some(verdict));
        Ok(batch
            .emails
            .iter()
            .map(|_| Accepted::Sent {
                provider_id: "late".into(),
            })
            .collect())
    }
}

#[test]
fn a_late_consumer_does_not_overwrite_rows_another_consumer_took_over() {
    let w = World::new(15);
    let subs = w.confirmed("o", "example.com", 3);
    let (campaign, job) = w.sending_to(&subs);
    let slow = Slow {
        world: &w,
        job: job.clone(),
        settings: settings(),
        inner: Cell::new(None),
    };

    assert_eq!(
        w.deliver_with(&slow, &job, &settings(), false),
        Verdict::Ack
    );
    assert_eq!(slow.inner.get(), Some(Verdict::Ack));
    for sub in &subs {
        let row = w.ledger_row(&campaign, sub);
        assert_eq!(row["status"], "sent");
        assert_ne!(row["provider_id"], "late", "the takeover's record stands");
        assert_eq!(row["attempts"], 2);
    }
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn a_job_for_a_paused_missing_or_finished_campaign_sends_nothing() {
    let w = World::new(16);
    let s = settings();
    let subs = w.confirmed("z", "example.com", 1);
    let (campaign, job) = w.sending_to(&subs);
    w.sql(
        Statement::new(
            "UPDATE campaigns SET status = 'paused', paused_until = ?3 WHERE site_id = ?1 AND id = ?2",
        )
        .bind(SITE)
        .bind(campaign.as_str())
        .bind(w.now() + MINUTE),
    );
    assert_eq!(w.run(&job, &s), Verdict::Ack);
    assert_eq!(
        w.ledger_row(&campaign, &subs[0])["enqueued_at"],
        Value::Null
    );

    let missing = Job {
        campaign: "0".repeat(32),
        ..job.clone()
    };
    assert_eq!(w.run(&missing, &s), Verdict::Ack);

    let draft = w.campaign("draft");
    let draft_job = Job {
        campaign: draft,
        ..job.clone()
    };
    assert_eq!(w.run(&draft_job, &s), Verdict::Ack);

    assert_eq!(w.mailer.calls.get(), 0);
    assert_eq!(w.count(&campaign, "pending"), 1);
}

#[test]
fn a_job_longer_than_one_claim_is_delivered_in_rounds() {
    let w = World::new(17);
    let subs = w.confirmed("n", "example.com", 120);
    let (campaign, job) = w.sending_to(&subs);
    let mut twice = job.clone();
    twice.subscribers.extend(subs.iter().take(10).cloned());

    assert_eq!(w.run(&twice, &settings()), Verdict::Ack);
    assert_eq!(w.mailer.calls.get(), 3, "50 + 50 + 20");
    assert_eq!(
        each_once(&w.mailer.delivered.borrow()),
        addresses("n", "example.com", 120)
    );
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

#[test]
fn the_send_rate_cap_refuses_beyond_the_burst_and_says_how_long_to_wait() {
    let w = World::new(18);
    let s = Settings {
        send_rate_per_sec: 2,
        send_rate_burst: 3,
        ..Settings::default()
    };
    let t = w.now();
    let take = |at: i64| block_on(take_slot(&w.db, at, &s)).expect("slot");

    assert_eq!([take(t), take(t), take(t)], [None, None, None], "the burst");
    assert_eq!(take(t), Some(1));
    assert!(
        take(t - 10 * SECOND).is_some(),
        "a clock going back grants nothing"
    );
    assert_eq!(take(t + 499), Some(1));
    assert_eq!(take(t + 500), None, "one more every 500 ms");
    assert_eq!(take(t + 500), Some(1));
    // A quiet spell gives the whole burst back, no more.
    let later = t + 10 * SECOND;
    assert_eq!(
        [take(later), take(later), take(later), take(later)],
        [None, None, None, Some(1)]
    );
}

#[test]
fn a_job_over_the_rate_cap_waits_without_claiming_anything() {
    let w = World::new(19);
    let s = Settings {
        send_rate_per_sec: 1,
        send_rate_burst: 1,
        ..Settings::default()
    };
    let first = w.confirmed("a", "example.com", 1);
    let second = w.confirmed("b", "example.com", 1);
    let (_, job_a) = w.sending_to(&first);
    let (campaign_b, job_b) = w.sending_to(&second);

    assert_eq!(w.run(&job_a, &s), Verdict::Ack);
    assert_eq!(w.run(&job_b, &s), Verdict::Retry { delay_secs: 1 });
    let row = w.ledger_row(&campaign_b, &second[0]);
    assert_eq!(
        (row["status"].clone(), row["attempts"].clone()),
        ("pending".into(), 0.into())
    );
    assert_eq!(w.mailer.calls.get(), 1);

    w.clock.advance_ms(SECOND);
    assert_eq!(w.run(&job_b, &s), Verdict::Ack);
    assert_eq!(w.count(&campaign_b, "sent"), 1);
}

#[test]
fn a_dead_lettered_job_goes_back_to_the_cron_and_its_rows_are_still_delivered_once() {
    let w = World::new(20);
    let s = settings();
    let subs = w.confirmed("q", "example.com", 3);
    let (campaign, _) = w.sending_to(&subs);
    let done = Job {
        site: SITE.into(),
        campaign: campaign.clone(),
        subscribers: subs[..2].to_vec(),
    };
    let stuck = Job {
        subscribers: subs[2..].to_vec(),
        ..done.clone()
    };
    assert_eq!(w.run(&done, &s), Verdict::Ack);
    w.mailer.then(Step::Unavailable);
    assert_eq!(w.run(&stuck, &s), Verdict::Retry { delay_secs: 10 });
    w.sql(
        Statement::new("UPDATE campaign_deliveries SET enqueued_at = ?1 WHERE campaign_id = ?2")
            .bind(w.now())
            .bind(campaign.as_str()),
    );

    block_on(dead_letter(&w.db, &stuck)).expect("dead letter");
    block_on(dead_letter(&w.db, &done)).expect("dead letter");

    assert_eq!(w.count(&campaign, "sent"), 2, "sent rows stay sent");
    let row = w.ledger_row(&campaign, &subs[2]);
    assert_eq!(row["status"], "pending", "a dead letter fails no row");
    assert_eq!(row["enqueued_at"], Value::Null, "handed back to the cron");
    // The next cron run enqueues it at once, and it is delivered once.
    w.queue.take();
    block_on(reconcile(&w.db, &w.queue, &s, w.now())).expect("cron");
    let jobs = w.queue.take();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].subscribers, vec![subs[2].clone()]);
    w.clock.advance_ms(SECOND);
    assert_eq!(w.run(&jobs[0], &s), Verdict::Ack);
    assert_eq!(w.count(&campaign, "sent"), 3);
    assert_eq!(w.mailer.delivered.borrow().len(), 3, "one email each");
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

fn email(to: &str, key: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.into(),
        subject: format!("Subject for {to}"),
        text: "text".into(),
        html: "<p>html</p>".into(),
        headers: vec![("List-Unsubscribe".into(), "<https://localhost/u>".into())],
        idempotency_key: key.into(),
    }
}

/// A request of `emails` under their first email's key.
fn batch_of(emails: &[OutgoingEmail]) -> Batch {
    batch(&emails[0].idempotency_key, emails)
}

/// A request of `emails` under `key`.
fn batch(key: &str, emails: &[OutgoingEmail]) -> Batch {
    Batch {
        idempotency_key: key.into(),
        emails: emails.to_vec(),
    }
}

#[test]
fn the_dev_outbox_answers_a_repeated_key_and_body_with_the_original_ids_without_sending() {
    let w = World::new(21);
    let outbox = w.outbox();
    let emails = [email("a@x.test", "k1"), email("b@x.test", "k2")];
    let first = block_on(outbox.send(&batch("b1", &emails))).unwrap();
    w.clock.advance_ms(SECOND);
    let again = block_on(outbox.send(&batch("b1", &emails))).unwrap();

    assert_eq!(again, first, "the original provider ids");
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 2);
}

#[test]
fn the_dev_outbox_keys_requests_not_emails_so_an_email_in_another_batch_is_sent_again() {
    let w = World::new(27);
    let outbox = w.outbox();
    let b = email("b@x.test", "k2");
    block_on(outbox.send(&batch("b1", &[email("a@x.test", "k1"), b.clone()]))).unwrap();
    block_on(outbox.send(&batch("b2", &[b, email("c@x.test", "k3")]))).unwrap();

    assert_eq!(
        w.scalar("SELECT count(*) FROM dev_outbox WHERE recipient = 'b@x.test'"),
        2,
        "Resend does not deduplicate emails, only requests"
    );
}

#[test]
fn the_dev_outbox_refuses_a_key_reused_with_another_body_and_sends_nothing() {
    let w = World::new(28);
    let outbox = w.outbox();
    block_on(outbox.send(&batch("b1", &[email("a@x.test", "k1")]))).unwrap();
    let other = [email("a@x.test", "k1"), email("c@x.test", "k3")];

    assert_eq!(
        block_on(outbox.send(&batch("b1", &other))),
        Err(MailerError::KeyReused)
    );
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 1);
}

#[test]
fn the_dev_outbox_forgets_a_key_after_24_hours_and_then_sends_again() {
    let w = World::new(29);
    let outbox = w.outbox();
    let emails = [email("a@x.test", "k1")];
    let first = block_on(outbox.send(&batch("b1", &emails))).unwrap();
    w.clock.advance_ms(KEY_LIFETIME_MS - 1);
    assert_eq!(block_on(outbox.send(&batch("b1", &emails))).unwrap(), first);
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 1);

    w.clock.advance_ms(1);
    let later = block_on(outbox.send(&batch("b1", &emails))).unwrap();
    assert_ne!(later, first, "a new request");
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 2);
}

#[test]
fn the_dev_outbox_answers_409_in_progress_while_the_first_request_is_processed() {
    let w = World::new(30);
    let outbox = w.outbox();
    // A first request that claimed its key and has not finished.
    w.sql(
        Statement::new(
            "INSERT INTO dev_batches (idempotency_key, body_digest, answer, created_at, \
             expires_at) VALUES ('b1', ?1, NULL, ?2, ?3)",
        )
        .bind(batch("b1", &[email("a@x.test", "k1")]).body_digest())
        .bind(w.now())
        .bind(w.now() + KEY_LIFETIME_MS),
    );

    assert_eq!(
        block_on(outbox.send(&batch("b1", &[email("a@x.test", "k1")]))),
        Err(MailerError::InProgress)
    );
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 0);
}

#[test]
fn the_dev_outbox_refuses_an_invalid_recipient_alone_by_index() {
    let w = World::new(31);
    let outbox = w.outbox();
    let answer = block_on(outbox.send(&batch(
        "b1",
        &[email("a@x.test", "k1"), email("not-an-address", "k2")],
    )))
    .unwrap();

    assert!(matches!(answer[0], Accepted::Sent { .. }));
    assert_eq!(
        answer[1],
        Accepted::Rejected {
            reason: "Invalid `to` field.".into()
        }
    );
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 1);
}

#[test]
fn a_dev_fault_hits_only_batches_with_a_matching_recipient_and_only_count_times() {
    let w = World::new(22);
    let outbox = w.outbox();
    w.fault("5xx", "@SCN-1.test", 2);
    w.fault("429", "@scn-2.test", 1);

    let other = block_on(outbox.send(&batch_of(&[email("a@scn-3.test", "o1")])));
    assert!(other.is_ok(), "another scenario is not affected");

    let mixed = [email("a@scn-3.test", "m1"), email("b@scn-1.test", "m2")];
    for _ in 0..2 {
        assert_eq!(
            block_on(outbox.send(&batch_of(&mixed))),
            Err(MailerError::Unavailable("injected 5xx".into()))
        );
    }
    assert!(
        block_on(outbox.send(&batch_of(&mixed))).is_ok(),
        "two hits only"
    );

    assert_eq!(
        block_on(outbox.send(&batch_of(&[email("z@scn-2.test", "r1")]))),
        Err(MailerError::RateLimited {
            retry_after_secs: Some(1)
        })
    );
    assert!(block_on(outbox.send(&batch_of(&[email("z@scn-2.test", "r1")]))).is_ok());
    // Refused batches stored nothing.
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 4);

    // count 0 clears a fault.
    w.fault("5xx", "@scn-4.test", 5);
    w.fault("5xx", "@scn-4.test", 0);
    assert!(block_on(outbox.send(&batch_of(&[email("a@scn-4.test", "c1")]))).is_ok());
}

#[test]
fn a_dev_401_or_403_fault_refuses_the_batch_before_processing_it() {
    let w = World::new(32);
    let outbox = w.outbox();
    w.fault("401", "@key.test", 1);
    w.fault("403", "@domain.test", 1);

    let key = batch_of(&[email("a@key.test", "a1")]);
    let domain = batch_of(&[email("a@domain.test", "d1")]);
    assert_eq!(block_on(outbox.send(&key)), Err(MailerError::Unauthorized));
    assert_eq!(block_on(outbox.send(&domain)), Err(MailerError::Forbidden));
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 0);
    // Nothing was processed: the same keys are new requests afterwards.
    assert!(block_on(outbox.send(&key)).is_ok());
    assert!(block_on(outbox.send(&domain)).is_ok());
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 2);
}

#[test]
fn a_dev_timeout_stores_the_email_then_loses_the_answer() {
    let w = World::new(23);
    let outbox = w.outbox();
    w.fault("timeout", "@slow.test", 1);

    assert_eq!(
        block_on(outbox.send(&batch_of(&[email("a@slow.test", "t1")]))),
        Err(MailerError::Timeout)
    );
    assert_eq!(w.scalar("SELECT count(*) FROM dev_outbox"), 1, "accepted");
    assert!(block_on(outbox.send(&batch_of(&[email("a@slow.test", "t1")]))).is_ok());
    assert_eq!(
        w.scalar("SELECT count(*) FROM dev_outbox"),
        1,
        "no duplicate"
    );
}

#[test]
fn the_dev_inbox_lists_an_addresses_emails_newest_first() {
    let w = World::new(24);
    let outbox = w.outbox();
    let start = w.now();
    block_on(outbox.send(&batch_of(&[email("a@x.test", "1"), email("b@x.test", "2")]))).unwrap();
    w.clock.advance_ms(SECOND);
    let mut second = email("a@x.test", "3");
    second.subject = "Second".into();
    block_on(outbox.send(&batch_of(&[second]))).unwrap();

    let r = block_on(dev_mail(&w.db, &Query::parse("to=%20A@X.test"))).unwrap();
    assert_eq!(r.status, 200);
    let data = body(&r)["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["subject"], "Second");
    assert_eq!(data[0]["to"], "a@x.test");
    assert_eq!(data[0]["sentAt"], sealpost_ports::rfc3339(start + SECOND));
    assert_eq!(
        data[1]["headers"]["List-Unsubscribe"],
        "<https://localhost/u>"
    );
    assert_eq!(data[1]["text"], "text");
    assert_eq!(data[1]["html"], "<p>html</p>");

    let everyone = block_on(dev_mail(&w.db, &Query::parse(""))).unwrap();
    assert_eq!(body(&everyone)["data"].as_array().unwrap().len(), 3);
    let one = block_on(dev_mail(&w.db, &Query::parse("limit=1"))).unwrap();
    assert_eq!(body(&one)["data"][0]["subject"], "Second");
    assert_eq!(body(&one)["data"].as_array().unwrap().len(), 1);
}

#[test]
fn fault_and_inbox_requests_are_validated() {
    let w = World::new(25);
    let set = |b: &str| block_on(set_fault(&w.db, b.as_bytes()));
    assert_eq!(
        validation_fields(set(r#"{"kind":"4xx","match":"","count":1001}"#)),
        ["kind", "match", "count"]
    );
    assert_eq!(
        validation_fields(set(r#"{"kind":"5xx","match":"a","count":1,"extra":1}"#)),
        ["extra"]
    );
    assert!(matches!(set("{"), Err(Failure::Api(_))));
    let ok = set(r#"{"kind":"crash","match":"@Y.test","count":3}"#).unwrap();
    assert_eq!(
        body(&ok),
        serde_json::json!({"success": true, "message": "Failure set",
            "data": {"kind": "crash", "match": "@y.test", "remaining": 3}})
    );

    let mail = |q: &str| block_on(dev_mail(&w.db, &Query::parse(q)));
    assert_eq!(validation_fields(mail("limit=0")), ["limit"]);
    assert_eq!(validation_fields(mail("limit=1001")), ["limit"]);
    assert_eq!(validation_fields(mail("to=")), ["to"]);
}

#[test]
fn through_the_dev_outbox_a_crash_and_a_5xx_burst_still_leave_one_email_per_recipient() {
    let w = World::new(26);
    let s = settings();
    let outbox = w.outbox();
    let subs = w.confirmed("e", "scn-9.test", 4);
    let (campaign, job) = w.sending_to(&subs);
    w.fault("5xx", "@scn-9.test", 1);
    w.fault("crash", "@scn-9.test", 1);

    assert_eq!(
        w.deliver_with(&outbox, &job, &s, true),
        Verdict::Retry { delay_secs: 10 }
    );
    w.clock.advance_ms(10 * SECOND);
    assert_eq!(w.deliver_with(&outbox, &job, &s, true), Verdict::Crash);
    w.clock.advance_ms(s.lease_ms + 1);
    assert_eq!(w.deliver_with(&outbox, &job, &s, true), Verdict::Ack);

    for i in 0..4 {
        let r = block_on(dev_mail(
            &w.db,
            &Query::parse(&format!("to=e-{i}@scn-9.test")),
        ))
        .unwrap();
        let data = body(&r)["data"].as_array().unwrap().clone();
        assert_eq!(data.len(), 1, "e-{i} got exactly one email");
        assert!(
            data[0]["headers"]["List-Unsubscribe"]
                .as_str()
                .unwrap()
                .starts_with("<https://")
        );
    }
    assert_eq!(w.count(&campaign, "sent"), 4);
    assert_eq!(w.campaign_field(&campaign, "status"), "sent");
}

/// A job whose `site` is not a site id (the queue's messages are only ever
/// this crate's, but its body is data).
fn job_for_no_site(w: &World) -> (String, Job) {
    let subs = w.confirmed("v", "example.com", 2);
    let (campaign, job) = w.sending_to(&subs);
    (
        campaign,
        Job {
            site: "Not A Site".into(),
            ..job
        },
    )
}

#[test]
fn a_job_naming_no_valid_site_is_refused_before_anything_is_sent() {
    let w = World::new(90);
    let (campaign, job) = job_for_no_site(&w);
    let refused = block_on(deliver(
        &w.db,
        &w.clock,
        &w.rng,
        &w.keys,
        &w.mailer,
        &settings(),
        &job,
        false,
    ));
    assert!(
        matches!(&refused, Err(PortError::Decode(why)) if why.contains("invalid site id")),
        "{refused:?}"
    );
    assert_eq!(w.mailer.calls.get(), 0);
    assert_eq!(w.count(&campaign, "pending"), 2);
}

#[test]
fn a_dead_lettered_job_naming_no_valid_site_is_refused_and_hands_nothing_back() {
    let w = World::new(91);
    let (campaign, job) = job_for_no_site(&w);
    let refused = block_on(dead_letter(&w.db, &job));
    assert!(
        matches!(&refused, Err(PortError::Decode(why)) if why.contains("invalid site id")),
        "{refused:?}"
    );
    let row = w.ledger_row(&campaign, &job.subscribers[0]);
    assert_eq!(row["enqueued_at"], w.now(), "still enqueued");
}
