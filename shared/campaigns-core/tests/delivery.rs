//! The queue consumer against the fake provider, natively: every ledger row
//! is sent exactly once across duplicate and late jobs and a consumer crash
//! after the provider accepted; provider failures (5xx, 429, timeouts), the
//! breaker, subscribers who left, rows out of attempts and addresses that
//! are rejected or unreadable. Campaigns and ledger rows are written
//! straight into the tables (a `sending` campaign with a complete ledger),
//! so these tests stand on the consumer alone.
mod common;

use common::ledger::{addresses, each_once, settings};
use common::{MINUTE, SECOND, SITE, Step, World};
use sealpost_campaigns_core::delivery::Verdict;
use sealpost_campaigns_core::outbox::take_fault;
use sealpost_campaigns_core::settings::Settings;
use sealpost_ports::Statement;
use sealpost_testkit::block_on;
use serde_json::Value;

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
