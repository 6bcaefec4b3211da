//! Campaigns: the admin routes (create, send, read) and the ledger's
//! materialisation and enqueueing (`advance`), natively against SQLite with
//! a recording queue.
mod common;

use std::collections::HashSet;

use common::sending::{job_ids, sorted, valid_campaign};
use common::{MINUTE, SECOND, SITE, World};
use sealpost_api::routes::RouteId;
use sealpost_campaigns_core::campaigns::{Failure, JOB_SIZE, MATERIALISE_CHUNK};
use sealpost_campaigns_core::settings::Settings;
use sealpost_guard::Role;
use sealpost_ports::{PortError, Statement, rfc3339};
use serde_json::{Value, json};

// ---- creating ---------------------------------------------------------------

#[test]
fn an_admin_creates_a_draft_campaign_and_reads_it_back() {
    let w = World::new(1);
    let admin = w.admin("admin");
    let created = w.create(&admin, &valid_campaign());
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["success"], true);
    assert_eq!(created.body["message"], "Campaign created");
    let data = &created.body["data"];
    assert_eq!(data["status"], "draft");
    assert_eq!(data["subject"]["vi"], "Tin mùa xuân");
    assert_eq!(data["body"]["en"], "Hello **readers**");
    assert_eq!(data["scheduledAt"], Value::Null);
    assert_eq!(data["startedAt"], Value::Null);
    assert_eq!(data["createdAt"], rfc3339(w.now()));
    assert_eq!(
        data["counts"],
        json!({"total": 0, "pending": 0, "sent": 0, "failed": 0, "skipped": 0, "cancelled": 0})
    );

    let id = data["id"].as_str().expect("id");
    let read = w.get(&admin, id);
    assert_eq!(read.status, 200);
    assert_eq!(&read.body["data"], data);
}

#[test]
fn a_campaign_with_a_future_time_is_scheduled() {
    let w = World::new(2);
    let admin = w.admin("admin");
    let mut body = valid_campaign();
    body["scheduledAt"] = json!(rfc3339(w.now() + 60 * MINUTE));
    let created = w.create(&admin, &body);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["data"]["status"], "scheduled");
    assert_eq!(
        created.body["data"]["scheduledAt"],
        json!(rfc3339(w.now() + 60 * MINUTE))
    );
}

#[test]
fn invalid_campaigns_are_refused_with_every_field_named() {
    let w = World::new(3);
    let admin = w.admin("admin");
    let bad = w.create(
        &admin,
        &json!({
            "subject": {"en": "Hi\r\nBcc: everyone@example.com", "vi": "x".repeat(201)},
            "body": {"en": "", "vi": "y".repeat(50_001)},
            "scheduledAt": rfc3339(w.now() - SECOND),
        }),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "VALIDATION_FAILED");
    assert_eq!(
        bad.fields(),
        [
            "subject.en",
            "subject.vi",
            "body.en",
            "body.vi",
            "scheduledAt"
        ]
    );

    let mut far = valid_campaign();
    far["scheduledAt"] = json!(rfc3339(w.now() + 366 * 24 * 60 * MINUTE));
    assert_eq!(w.create(&admin, &far).fields(), ["scheduledAt"]);

    let mut garbled = valid_campaign();
    garbled["scheduledAt"] = json!("next tuesday");
    assert_eq!(w.create(&admin, &garbled).fields(), ["scheduledAt"]);

    let mut unknown = valid_campaign();
    unknown["audience"] = json!("everyone");
    let refused = w.create(&admin, &unknown);
    assert_eq!(refused.status, 400);
    assert_eq!(refused.fields(), ["audience"]);

    let missing = w.create(&admin, &json!({"subject": {"en": "Hi", "vi": "Chào"}}));
    assert_eq!(missing.status, 400);
    assert_eq!(missing.fields(), ["body"]);

    assert_eq!(w.scalar("SELECT COUNT(*) FROM campaigns"), json!(0));
}

#[test]
fn campaign_routes_need_a_live_admin_with_a_second_factor() {
    let w = World::new(4);
    let editor = w.user("editor", &[Role::Editor], &["pwd", "otp"]);
    let no_otp = w.user("admin-pwd", &[Role::Admin], &["pwd"]);
    let body = valid_campaign().to_string().into_bytes();

    let anonymous = match w.sending_call(RouteId::AdminCampaignCreate, None, None, &body) {
        Err(Failure::Api(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(anonymous.status(), 401);
    assert_eq!(w.create(&editor, &valid_campaign()).status, 403);
    assert_eq!(w.create(&no_otp, &valid_campaign()).status, 403);

    let id = w.campaign("draft");
    assert_eq!(w.send(&editor, &id).status, 403);
    assert_eq!(w.get(&editor, &id).status, 403);
    assert_eq!(w.status(&id), "draft");
    assert!(w.queue.take().is_empty());
}

#[test]
fn unknown_campaigns_are_not_found() {
    let w = World::new(5);
    let admin = w.admin("admin");
    let get = w.get(&admin, "0123456789abcdef0123456789abcdef");
    assert_eq!(get.status, 404);
    assert_eq!(get.code(), "NOT_FOUND");
    assert_eq!(w.send(&admin, "nope").status, 404);
}

// ---- sending ------------------------------------------------------------------

#[test]
fn sending_three_times_creates_one_ledger_row_per_confirmed_subscriber() {
    let w = World::new(10);
    let admin = w.admin("admin");
    let confirmed = w.confirmed("reader", "example.com", 7);
    w.subscriber("waiting@example.com", "en", "pending");
    w.subscriber("gone@example.com", "vi", "unsubscribed");
    let id = w.create(&admin, &valid_campaign()).body["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    for _ in 0..3 {
        let sent = w.send(&admin, &id);
        assert_eq!(sent.status, 202, "{}", sent.body);
        assert_eq!(sent.body["message"], "Campaign sending");
        assert_eq!(sent.body["data"]["status"], "sending");
    }

    let ledger = w.ledger(&id);
    assert_eq!(
        ledger.keys().cloned().collect::<HashSet<_>>(),
        confirmed.iter().cloned().collect::<HashSet<_>>()
    );
    assert!(ledger.values().all(|s| s == "pending"));
    // The first send enqueued every row once; the repeats found nothing due.
    assert_eq!(sorted(job_ids(&w, &id)), sorted(confirmed.clone()));

    let read = w.get(&admin, &id);
    assert_eq!(read.body["data"]["startedAt"], json!(rfc3339(w.now())));
    assert_eq!(
        read.body["data"]["counts"],
        json!({"total": 7, "pending": 7, "sent": 0, "failed": 0, "skipped": 0, "cancelled": 0})
    );
}

#[test]
fn subscribers_confirmed_after_the_start_are_not_recipients() {
    let w = World::new(11);
    let admin = w.admin("admin");
    let early = w.confirmed("early", "example.com", 2);
    let id = w.campaign("draft");
    w.send(&admin, &id);
    w.queue.take();

    w.clock.advance_ms(SECOND);
    w.confirmed("late", "example.com", 3);
    // The ledger is complete already; even a fresh materialisation of a
    // campaign started earlier leaves the late ones out.
    w.sql(
        Statement::new("UPDATE campaigns SET ledger_done = 0 WHERE site_id = ?1 AND id = ?2")
            .bind(SITE)
            .bind(id.as_str()),
    );
    w.advance(&id);
    assert_eq!(
        w.ledger(&id).keys().cloned().collect::<HashSet<_>>(),
        early.into_iter().collect::<HashSet<_>>()
    );
}

#[test]
fn a_large_audience_is_materialised_in_chunks_and_fully_enqueued() {
    let w = World::new(12);
    let admin = w.admin("admin");
    let ids = w.confirmed("bulk", "example.com", 1_234);
    let id = w.campaign("draft");
    // SQLite here refuses statements binding more than 100 parameters,
    // exactly like D1: the send must stay within that.
    let sent = w.send(&admin, &id);
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert_eq!(sent.body["data"]["counts"]["total"], 1_234);

    let jobs = w.queue.jobs.borrow().len();
    assert_eq!(jobs, 1_234_usize.div_ceil(JOB_SIZE));
    let enqueued = job_ids(&w, &id);
    assert_eq!(enqueued.len(), 1_234, "each row enqueued once");
    assert_eq!(sorted(enqueued), sorted(ids));
    assert_eq!(
        w.scalar("SELECT ledger_done FROM campaigns"),
        json!(1),
        "the ledger is marked complete"
    );
}

#[test]
fn a_ledger_partly_written_by_another_caller_is_completed_without_duplicates() {
    let w = World::new(13);
    let admin = w.admin("admin");
    let ids = sorted(w.confirmed("race", "example.com", MATERIALISE_CHUNK + 120));
    let id = w.campaign("sending");
    // A concurrent materialiser already wrote the first chunk (the ledger
    // is a prefix of the recipients in id order).
    for sub in &ids[..MATERIALISE_CHUNK] {
        w.sql(
            Statement::new(
                "INSERT INTO campaign_deliveries (site_id, campaign_id, subscriber_id) \
                 VALUES (?1, ?2, ?3)",
            )
            .bind(SITE)
            .bind(id.as_str())
            .bind(sub.as_str()),
        );
    }
    let sent = w.send(&admin, &id);
    assert_eq!(sent.body["data"]["counts"]["total"], ids.len());
    assert_eq!(w.ledger(&id).len(), ids.len());
    assert_eq!(sorted(job_ids(&w, &id)), ids);
}

#[test]
fn a_campaign_without_recipients_is_sent_at_once() {
    let w = World::new(14);
    let admin = w.admin("admin");
    w.subscriber("waiting@example.com", "en", "pending");
    let id = w.campaign("draft");
    let sent = w.send(&admin, &id);
    assert_eq!(sent.status, 202);
    assert_eq!(sent.body["data"]["status"], "sent");
    assert_eq!(sent.body["data"]["finishedAt"], json!(rfc3339(w.now())));
    assert!(w.queue.take().is_empty());
}

#[test]
fn sending_a_paused_or_sent_campaign_changes_nothing() {
    let w = World::new(15);
    let admin = w.admin("admin");
    w.confirmed("reader", "example.com", 3);
    let id = w.campaign("draft");
    w.send(&admin, &id);
    w.queue.take();
    w.sql(
        Statement::new("UPDATE campaigns SET status = 'paused', paused_until = ?3 WHERE site_id = ?1 AND id = ?2")
            .bind(SITE)
            .bind(id.as_str())
            .bind(w.now() + MINUTE),
    );
    w.clock.advance_ms(10 * MINUTE);
    let again = w.send(&admin, &id);
    assert_eq!(again.status, 202);
    assert_eq!(again.body["data"]["status"], "paused");
    assert_eq!(
        again.body["data"]["pausedUntil"],
        json!(rfc3339(w.now() - 9 * MINUTE))
    );
    assert!(
        w.queue.take().is_empty(),
        "a paused campaign is not enqueued"
    );

    w.sql(
        Statement::new(
            "UPDATE campaigns SET status = 'sent', finished_at = ?3 WHERE site_id = ?1 AND id = ?2",
        )
        .bind(SITE)
        .bind(id.as_str())
        .bind(w.now()),
    );
    w.clock.advance_ms(MINUTE);
    let done = w.send(&w.admin("admin-later"), &id);
    assert_eq!(done.status, 202);
    assert_eq!(done.body["data"]["status"], "sent");
    assert_eq!(done.body["data"]["counts"]["pending"], 3);
    assert!(w.queue.take().is_empty(), "a sent campaign is not enqueued");
}

#[test]
fn pending_rows_are_enqueued_again_only_after_the_requeue_delay() {
    let w = World::new(16);
    let admin = w.admin("admin");
    let subs = sorted(w.confirmed("reader", "example.com", 4));
    let id = w.campaign("draft");
    w.send(&admin, &id);
    assert_eq!(job_ids(&w, &id).len(), 4);

    // Two rows were delivered; the jobs of the other two got lost.
    w.set_row(&id, &subs[0], "status = 'sent', sent_at = 1");
    w.set_row(&id, &subs[1], "status = 'failed', last_error = 'x'");
    let requeue = Settings::default().requeue_after_ms;
    w.clock.advance_ms(requeue);
    w.advance(&id);
    assert!(job_ids(&w, &id).is_empty(), "not yet older than the delay");

    w.clock.advance_ms(1);
    w.advance(&id);
    assert_eq!(sorted(job_ids(&w, &id)), subs[2..].to_vec());
    w.advance(&id);
    assert!(job_ids(&w, &id).is_empty());
}

#[test]
fn when_the_queue_is_down_the_rows_stay_due_and_the_cron_enqueues_them() {
    let w = World::new(17);
    let admin = w.admin("admin");
    let subs = w.confirmed("reader", "example.com", 60);
    let id = w.campaign("draft");
    w.queue.down.set(true);
    let failed = w.sending_call(RouteId::AdminCampaignSend, Some(&admin), Some(&id), b"");
    assert!(matches!(
        failed,
        Err(Failure::Port(PortError::Unavailable(_)))
    ));
    assert_eq!(w.status(&id), "sending", "the start itself stands");
    assert_eq!(
        w.scalar("SELECT COUNT(*) FROM campaign_deliveries WHERE enqueued_at IS NOT NULL"),
        json!(0),
        "no row is marked enqueued without its job"
    );

    w.queue.down.set(false);
    w.clock.advance_ms(MINUTE);
    w.reconcile();
    assert_eq!(sorted(job_ids(&w, &id)), sorted(subs));
}
