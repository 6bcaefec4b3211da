//! The local-development provider (the dev outbox) modelling Resend's batch
//! endpoint: one idempotency key per request, kept 24 hours (the same key
//! and body answer the original ids, another body is refused, a busy key
//! answers 409), per-recipient refusals, scripted faults and timeouts, the
//! dev inbox and its validation, and delivery through it staying exactly
//! once.
mod common;

use common::ledger::settings;
use common::{SECOND, World};
use sealpost_api::{ApiResponse, ErrorCode, Failure, Query};
use sealpost_campaigns_core::delivery::Verdict;
use sealpost_campaigns_core::outbox::{dev_mail, set_fault};
use sealpost_campaigns_core::ports::{
    Accepted, Batch, KEY_LIFETIME_MS, Mailer, MailerError, OutgoingEmail,
};
use sealpost_ports::Statement;
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
