//! Campaigns after their creation: changing a draft or scheduled one,
//! cancelling one at any point before it is sent (nothing more leaves, what
//! was in flight ends once), and test sends, natively against SQLite with
//! the scripted provider.
mod common;

use std::cell::Cell;

use common::ledger::settings;
use common::sending::{Reply, valid_campaign};
use common::{MINUTE, SECOND, SITE, World};
use sealpost_campaigns_core::campaigns::TEST_SENDS_PER_HOUR;
use sealpost_campaigns_core::delivery::{Verdict, deliver};
use sealpost_campaigns_core::ports::{Accepted, Batch, Mailer, MailerError};
use sealpost_guard::Role;
use sealpost_ports::{ExecResult, PortError, Row, Sql, Statement, rfc3339};
use sealpost_testkit::block_on;
use serde_json::{Value, json};

fn created(w: &World, admin: &str) -> String {
    let reply = w.create(admin, &valid_campaign());
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["data"]["id"].as_str().expect("id").to_owned()
}

fn counts(reply: &Reply) -> &Value {
    &reply.body["data"]["counts"]
}

// ---- changing ---------------------------------------------------------------

#[test]
fn a_change_to_a_draft_replaces_only_the_texts_it_names() {
    let w = World::new(11);
    let admin = w.admin("admin");
    let id = created(&w, &admin);
    w.clock.advance_ms(5 * SECOND);
    let changed = w.update(
        &admin,
        &id,
        &json!({"subject": {"vi": "Tin mới"}, "body": {"en": "New **body**"}}),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["message"], "Campaign updated");
    let data = &changed.body["data"];
    assert_eq!(
        data["subject"],
        json!({"en": "Spring news", "vi": "Tin mới"})
    );
    assert_eq!(
        data["body"],
        json!({"en": "New **body**", "vi": "Xin chào **bạn đọc**"})
    );
    assert_eq!(data["status"], "draft");
    assert_eq!(data["updatedAt"], rfc3339(w.now()));
    assert_eq!(&w.get(&admin, &id).body["data"], data);
}

#[test]
fn a_change_schedules_a_draft_and_a_null_schedule_makes_it_a_draft_again() {
    let w = World::new(12);
    let admin = w.admin("admin");
    let id = created(&w, &admin);
    let at = rfc3339(w.now() + 30 * MINUTE);
    let scheduled = w.update(&admin, &id, &json!({"scheduledAt": at}));
    assert_eq!(scheduled.status, 200, "{}", scheduled.body);
    assert_eq!(scheduled.body["data"]["status"], "scheduled");
    assert_eq!(scheduled.body["data"]["scheduledAt"], json!(at));

    let texts_only = w.update(&admin, &id, &json!({"subject": {"en": "Later"}}));
    assert_eq!(texts_only.body["data"]["status"], "scheduled");
    assert_eq!(texts_only.body["data"]["scheduledAt"], json!(at));

    let draft = w.update(&admin, &id, &json!({"scheduledAt": null}));
    assert_eq!(draft.body["data"]["status"], "draft");
    assert_eq!(draft.body["data"]["scheduledAt"], Value::Null);
    // The cron has nothing to start.
    w.clock.advance_ms(60 * MINUTE);
    assert_eq!(w.reconcile().started, 0);
}

#[test]
fn a_campaign_that_started_sending_cannot_be_changed_and_keeps_its_texts() {
    let w = World::new(13);
    let admin = w.admin("admin");
    w.confirmed("reader", "example.com", 2);
    let id = created(&w, &admin);
    assert_eq!(w.send(&admin, &id).status, 202);
    let refused = w.update(&admin, &id, &json!({"subject": {"en": "Too late"}}));
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.code(), "CONFLICT");
    assert_eq!(
        w.get(&admin, &id).body["data"]["subject"]["en"],
        "Spring news"
    );
}

#[test]
fn invalid_changes_are_refused_with_every_field_named_and_change_nothing() {
    let w = World::new(14);
    let admin = w.admin("admin");
    let id = created(&w, &admin);
    let before = w.get(&admin, &id).body["data"].clone();
    let bad = w.update(
        &admin,
        &id,
        &json!({
            "subject": {"en": "Hi\nBcc: x@example.com"},
            "body": {"vi": "  "},
            "scheduledAt": rfc3339(w.now() - SECOND),
        }),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fields(), ["subject.en", "body.vi", "scheduledAt"]);
    let unknown = w.update(&admin, &id, &json!({"status": "sent"}));
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert_eq!(w.get(&admin, &id).body["data"], before);
}

#[test]
fn a_change_to_an_unknown_campaign_is_not_found_and_members_may_not_change_one() {
    let w = World::new(15);
    let admin = w.admin("admin");
    let id = created(&w, &admin);
    assert_eq!(
        w.update(&admin, "nope", &json!({"subject": {"en": "x"}}))
            .status,
        404
    );
    let editor = w.user("editor", &[Role::Editor], &["pwd", "otp"]);
    assert_eq!(
        w.update(&editor, &id, &json!({"subject": {"en": "x"}}))
            .status,
        403
    );
}

// ---- cancelling -------------------------------------------------------------

#[test]
fn a_cancelled_campaign_sends_nothing_more_and_its_waiting_rows_are_cancelled() {
    let w = World::new(21);
    let admin = w.admin("admin");
    let readers = w.confirmed("reader", "example.com", 3);
    let (campaign, job) = w.sending_to(&readers);
    let cancelled = w.cancel(&admin, &campaign);
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["data"]["status"], "cancelled");
    assert_eq!(cancelled.body["data"]["finishedAt"], rfc3339(w.now()));
    assert_eq!(
        counts(&cancelled),
        &json!({"total": 3, "pending": 0, "sent": 0, "failed": 0, "skipped": 0, "cancelled": 3})
    );
    // A job already in the queue finds nothing to claim.
    assert_eq!(w.run(&job, &settings()), Verdict::Ack);
    assert_eq!(w.mailer.calls.get(), 0);
    // The cron neither resumes nor finishes it.
    w.clock.advance_ms(10 * MINUTE);
    w.reconcile();
    assert_eq!(w.status(&campaign), "cancelled");
}

/// A provider that cancels the campaign while the first request is being
/// processed (the cancel is answered before the provider answers).
struct CancelDuringSend<'a> {
    world: &'a World,
    admin: &'a str,
    campaign: &'a str,
    cancelled: Cell<bool>,
}

impl Mailer for CancelDuringSend<'_> {
    async fn send(&self, batch: &Batch) -> Result<Vec<Accepted>, MailerError> {
        if !self.cancelled.replace(true) {
            let reply = self.world.cancel_async(self.admin, self.campaign).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            // The batch in flight is still pending in the answer's counts.
            assert_eq!(counts(&reply)["pending"], batch.emails.len());
        }
        self.world.mailer.send(batch).await
    }
}

#[test]
fn a_batch_in_flight_at_the_cancel_ends_sent_once_and_no_later_batch_leaves() {
    let w = World::new(22);
    let admin = w.admin("admin");
    // Two chunks of the job: 50 rows claimed before the cancel, 10 after.
    let readers = w.confirmed("reader", "example.com", 60);
    let (campaign, job) = w.sending_to(&readers);
    let mailer = CancelDuringSend {
        world: &w,
        admin: &admin,
        campaign: &campaign,
        cancelled: Cell::new(false),
    };
    assert_eq!(
        w.deliver_with(&mailer, &job, &settings(), false),
        Verdict::Ack
    );
    assert_eq!(
        w.mailer.calls.get(),
        1,
        "one request left, none after the cancel"
    );
    let after = w.get(&admin, &campaign);
    assert_eq!(
        counts(&after),
        &json!({"total": 60, "pending": 0, "sent": 50, "failed": 0, "skipped": 0, "cancelled": 10})
    );
    assert_eq!(after.body["data"]["status"], "cancelled");
    // Delivering the job again (at-least-once queue) sends nothing.
    assert_eq!(w.run(&job, &settings()), Verdict::Ack);
    assert_eq!(w.mailer.delivered.borrow().len(), 50);
}

/// The database as the consumer sees it, with an admin's cancel landing
/// between the consumer's read of the campaign and its first claim.
struct CancelBeforeClaim<'a> {
    world: &'a World,
    admin: &'a str,
    campaign: &'a str,
    done: Cell<bool>,
}

impl CancelBeforeClaim<'_> {
    async fn before(&self, stmt: &Statement) {
        if stmt.sql().contains("SET status = 'sending', claim_id") && !self.done.replace(true) {
            let reply = self.world.cancel_async(self.admin, self.campaign).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
    }
}

impl Sql for CancelBeforeClaim<'_> {
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        self.before(stmt).await;
        self.world.db.query(stmt).await
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        self.before(stmt).await;
        self.world.db.execute(stmt).await
    }

    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        for stmt in stmts {
            self.before(stmt).await;
        }
        self.world.db.batch(stmts).await
    }
}

#[test]
fn a_claim_that_runs_after_the_cancel_takes_nothing_though_the_consumer_read_the_campaign_before_it()
 {
    let w = World::new(26);
    let admin = w.admin("admin");
    let readers = w.confirmed("reader", "example.com", 3);
    let (campaign, job) = w.sending_to(&readers);
    // A consumer died holding the first row; its lease has expired, so this
    // consumer may take it over — unless the campaign was cancelled.
    let expired = w.now() - settings().lease_ms - SECOND;
    w.set_row(
        &campaign,
        &readers[0],
        &format!("status = 'sending', claim_id = 'dead', claimed_at = {expired}"),
    );
    let db = CancelBeforeClaim {
        world: &w,
        admin: &admin,
        campaign: &campaign,
        done: Cell::new(false),
    };
    let verdict = block_on(deliver(
        &db,
        &w.clock,
        &w.rng,
        &w.keys,
        &w.mailer,
        &settings(),
        &job,
        false,
    ))
    .expect("deliver");
    assert!(db.done.get(), "the cancel ran before a claim");
    assert_eq!(verdict, Verdict::Ack);
    assert_eq!(w.mailer.calls.get(), 0, "nothing left after the cancel");
    let ledger = w.ledger(&campaign);
    assert_eq!(ledger[&readers[0]], "sending", "left to the cron");
    assert_eq!(ledger[&readers[1]], "cancelled");
    assert_eq!(ledger[&readers[2]], "cancelled");
}

#[test]
fn cancelling_twice_answers_the_same_and_a_sent_campaign_cannot_be_cancelled() {
    let w = World::new(23);
    let admin = w.admin("admin");
    let draft = created(&w, &admin);
    let first = w.cancel(&admin, &draft);
    assert_eq!(first.status, 200);
    assert_eq!(first.body["data"]["status"], "cancelled");
    let again = w.cancel(&admin, &draft);
    assert_eq!(again.status, 200);
    assert_eq!(again.body["data"], first.body["data"]);
    // A cancelled campaign is neither changed nor started.
    assert_eq!(
        w.update(&admin, &draft, &json!({"subject": {"en": "x"}}))
            .status,
        409
    );
    assert_eq!(w.send(&admin, &draft).body["data"]["status"], "cancelled");

    let sent = w.campaign("sent");
    let refused = w.cancel(&admin, &sent);
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), "CONFLICT");
    assert_eq!(w.status(&sent), "sent");
    assert_eq!(w.cancel(&admin, "nope").status, 404);
}

#[test]
fn a_cancelled_scheduled_campaign_is_never_started_by_the_cron() {
    let w = World::new(24);
    let admin = w.admin("admin");
    w.confirmed("reader", "example.com", 2);
    let mut body = valid_campaign();
    body["scheduledAt"] = json!(rfc3339(w.now() + MINUTE));
    let id = w.create(&admin, &body).body["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(w.cancel(&admin, &id).status, 200);
    w.clock.advance_ms(2 * MINUTE);
    assert_eq!(w.reconcile().started, 0);
    assert_eq!(w.status(&id), "cancelled");
    assert!(w.queue.take().is_empty());
}

#[test]
fn the_cron_fails_the_rows_a_dead_consumer_held_when_the_campaign_was_cancelled() {
    let w = World::new(25);
    let admin = w.admin("admin");
    let readers = w.confirmed("reader", "example.com", 2);
    let (campaign, _job) = w.sending_to(&readers);
    // A consumer claimed the first row and died.
    w.set_row(
        &campaign,
        &readers[0],
        &format!(
            "status = 'sending', claim_id = 'c1', claimed_at = {}",
            w.now()
        ),
    );
    assert_eq!(w.cancel(&admin, &campaign).status, 200);
    w.clock.advance_ms(settings().lease_ms + SECOND);
    let report = w.reconcile();
    assert_eq!(report.abandoned, 1);
    let ledger = w.ledger(&campaign);
    assert_eq!(ledger[&readers[0]], "failed");
    assert_eq!(ledger[&readers[1]], "cancelled");
    assert_eq!(w.mailer.calls.get(), 0);
    assert_eq!(w.reconcile().abandoned, 0);
}

// ---- test sends -------------------------------------------------------------

#[test]
fn a_test_send_mails_the_campaign_in_the_chosen_language_and_touches_no_ledger() {
    let w = World::new(31);
    let admin = w.admin("admin");
    let id = created(&w, &admin);
    let sent = w.test_send(
        &admin,
        &id,
        &json!({"email": "editor@example.com", "locale": "vi"}),
    );
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert_eq!(sent.body["message"], "Test email sent");
    let emails = w.mailer.to("editor@example.com");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].subject, "[Test] Tin mùa xuân");
    assert!(emails[0].html.contains("<strong>bạn đọc</strong>"));
    assert!(
        emails[0]
            .idempotency_key
            .starts_with(&format!("{SITE}:{id}:test:"))
    );
    assert!(w.ledger(&id).is_empty());
    assert_eq!(w.get(&admin, &id).body["data"]["status"], "draft");
}

#[test]
fn a_site_sends_at_most_its_hourly_tests_and_may_test_again_an_hour_later() {
    let w = World::new(32);
    let admin = w.admin("admin");
    let id = created(&w, &admin);
    let body = json!({"email": "editor@example.com", "locale": "en"});
    for _ in 0..TEST_SENDS_PER_HOUR {
        assert_eq!(w.test_send(&admin, &id, &body).status, 202);
        w.clock.advance_ms(SECOND);
    }
    let refused = w.test_send(&admin, &id, &body);
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.code(), "RATE_LIMITED");
    let sent_before = w.mailer.delivered.borrow().len();
    assert_eq!(sent_before, usize::try_from(TEST_SENDS_PER_HOUR).unwrap());
    w.clock.advance_ms(60 * MINUTE);
    // (The first access token has expired by now.)
    let later = w.admin("admin-later");
    assert_eq!(w.test_send(&later, &id, &body).status, 202);
}

#[test]
fn a_test_the_provider_did_not_take_costs_nothing_of_the_hourly_tests() {
    let w = World::new(33);
    let admin = w.admin("admin");
    let id = created(&w, &admin);
    let body = json!({"email": "editor@example.com", "locale": "en"});
    w.mailer.then(common::Step::Unavailable);
    let failed = w.test_send(&admin, &id, &body);
    assert_eq!(failed.status, 502, "{}", failed.body);
    let kept = w.rows(
        Statement::new("SELECT COUNT(*) AS n FROM campaign_test_sends WHERE site_id = ?1")
            .bind(SITE),
    );
    assert_eq!(kept[0]["n"], 0);
}

#[test]
fn a_test_send_names_every_bad_field_and_needs_an_admin_and_a_campaign() {
    let w = World::new(34);
    let admin = w.admin("admin");
    let id = created(&w, &admin);
    let bad = w.test_send(
        &admin,
        &id,
        &json!({"email": "not-an-address", "locale": "fr"}),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fields(), ["email", "locale"]);
    let missing = w.test_send(
        &admin,
        "nope",
        &json!({"email": "editor@example.com", "locale": "en"}),
    );
    assert_eq!(missing.status, 404);
    let editor = w.user("editor", &[Role::Editor], &["pwd", "otp"]);
    let forbidden = w.test_send(
        &editor,
        &id,
        &json!({"email": "editor@example.com", "locale": "en"}),
    );
    assert_eq!(forbidden.status, 403);
    assert_eq!(w.mailer.calls.get(), 0);
}
