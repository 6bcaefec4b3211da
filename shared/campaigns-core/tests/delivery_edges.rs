//! The queue consumer at its edges, natively: a late consumer whose rows
//! another one took over after the lease, jobs for campaigns that are not
//! sending, jobs longer than one claim, the send-rate cap, dead-lettered
//! jobs handed back to the cron, and jobs naming no valid site. Campaigns
//! and ledger rows are written straight into the tables.
mod common;

use std::cell::Cell;

use common::ledger::{addresses, each_once, settings};
use common::{MINUTE, SECOND, SITE, Step, World};
use sealpost_campaigns_core::cron::reconcile;
use sealpost_campaigns_core::delivery::{Verdict, dead_letter, deliver};
use sealpost_campaigns_core::ports::{Accepted, Batch, Job, Mailer, MailerError};
use sealpost_campaigns_core::rate::take_slot;
use sealpost_campaigns_core::settings::Settings;
use sealpost_ports::{PortError, Statement};
use sealpost_testkit::block_on;
use serde_json::Value;

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
