//! The cron's reconciliation of campaigns, natively against SQLite with a
//! recording queue: scheduled campaigns start once when due, paused ones
//! resume half-open after their cooldown, expired leases are taken back,
//! finished campaigns are closed with their counts, across sites.
mod common;

use std::collections::HashMap;

use common::sending::{job_ids, sorted, valid_campaign};
use common::{MINUTE, SECOND, SITE, World};
use sealpost_campaigns_core::cron::CronReport;
use sealpost_campaigns_core::settings::Settings;
use sealpost_ports::{Statement, rfc3339};
use serde_json::{Value, json};

#[test]
fn a_scheduled_campaign_starts_only_when_due_and_only_once() {
    let w = World::new(20);
    let admin = w.admin("admin");
    let subs = w.confirmed("reader", "example.com", 5);
    let mut body = valid_campaign();
    let due = w.now() + 10 * MINUTE;
    body["scheduledAt"] = json!(rfc3339(due));
    let id = w.create(&admin, &body).body["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    w.clock.set_ms(due - SECOND);
    assert_eq!(w.reconcile().started, 0);
    assert_eq!(w.status(&id), "scheduled");
    assert!(w.ledger(&id).is_empty());

    w.clock.set_ms(due);
    // Two runs at the same moment (overlapping crons): one starts it.
    let first = w.reconcile();
    let second = w.reconcile();
    assert_eq!(first.started, 1);
    assert_eq!(second.started, 0);
    assert_eq!(w.status(&id), "sending");
    let read = w.get(&admin, &id);
    assert_eq!(read.body["data"]["startedAt"], json!(rfc3339(due)));
    assert_eq!(read.body["data"]["counts"]["total"], 5);
    assert_eq!(sorted(job_ids(&w, &id)), sorted(subs), "enqueued once");
}

#[test]
fn a_paused_campaign_resumes_half_open_after_its_cooldown() {
    let w = World::new(21);
    let admin = w.admin("admin");
    let subs = sorted(w.confirmed("reader", "example.com", 3));
    let id = w.campaign("draft");
    w.send(&admin, &id);
    w.queue.take();
    let until = w.now() + MINUTE;
    w.sql(
        Statement::new(
            "UPDATE campaigns SET status = 'paused', failures = 3, pauses = 1, paused_until = ?3 \
             WHERE site_id = ?1 AND id = ?2",
        )
        .bind(SITE)
        .bind(id.as_str())
        .bind(until),
    );

    w.clock.set_ms(until - 1);
    assert_eq!(w.reconcile().resumed, 0);
    assert_eq!(w.status(&id), "paused");
    assert!(w.queue.take().is_empty());

    w.clock.set_ms(until);
    let report = w.reconcile();
    assert_eq!(report.resumed, 1);
    assert_eq!(w.status(&id), "sending");
    assert_eq!(
        w.scalar("SELECT failures FROM campaigns"),
        json!(i64::from(Settings::default().breaker_threshold) - 1),
        "one more failure pauses it again"
    );
    assert_eq!(w.get(&admin, &id).body["data"]["pausedUntil"], Value::Null);
    // The jobs acknowledged while paused are replaced at once.
    assert_eq!(sorted(job_ids(&w, &id)), subs);
    assert_eq!(w.reconcile().resumed, 0);
}

#[test]
fn rows_whose_lease_expired_are_taken_back_and_enqueued_again() {
    let w = World::new(22);
    let admin = w.admin("admin");
    let subs = sorted(w.confirmed("reader", "example.com", 3));
    let id = w.campaign("draft");
    w.send(&admin, &id);
    w.queue.take();
    let lease = Settings::default().lease_ms;
    // One consumer died holding subs[0]; another holds subs[1] right now.
    w.set_row(
        &id,
        &subs[0],
        &format!(
            "status = 'sending', claim_id = 'dead', attempts = 1, claimed_at = {}",
            w.now()
        ),
    );
    w.clock.advance_ms(lease + 1);
    w.set_row(
        &id,
        &subs[1],
        &format!(
            "status = 'sending', claim_id = 'live', attempts = 1, claimed_at = {}",
            w.now()
        ),
    );

    let report = w.reconcile();
    assert_eq!(report.reclaimed, 1);
    let rows = w.rows(
        Statement::new(
            "SELECT subscriber_id, status, claim_id, attempts FROM campaign_deliveries \
             WHERE site_id = ?1 AND campaign_id = ?2 ORDER BY subscriber_id",
        )
        .bind(SITE)
        .bind(id.as_str()),
    );
    assert_eq!(rows[0]["status"], "pending");
    assert_eq!(rows[0]["claim_id"], Value::Null);
    assert_eq!(rows[0]["attempts"], 1, "the attempt still counts");
    assert_eq!(rows[1]["status"], "sending");
    assert_eq!(rows[1]["claim_id"], "live");
    // The taken-back row gets a job now; subs[2] waits for the requeue delay.
    assert_eq!(job_ids(&w, &id), vec![subs[0].clone()]);
}

#[test]
fn the_cron_finishes_a_campaign_whose_rows_are_all_final_and_counts_show_it() {
    let w = World::new(23);
    let admin = w.admin("admin");
    let subs = sorted(w.confirmed("reader", "example.com", 4));
    let id = w.campaign("draft");
    w.send(&admin, &id);
    w.queue.take();
    w.set_row(
        &id,
        &subs[0],
        "status = 'sent', sent_at = 1, provider_id = 'p1'",
    );
    w.set_row(
        &id,
        &subs[1],
        "status = 'sent', sent_at = 1, provider_id = 'p2'",
    );
    w.set_row(&id, &subs[2], "status = 'failed', last_error = 'rejected'");

    assert_eq!(w.reconcile().finished, 0, "one row is still pending");
    let counts = &w.get(&admin, &id).body["data"]["counts"];
    assert_eq!(
        counts,
        &json!({"total": 4, "pending": 1, "sent": 2, "failed": 1, "skipped": 0, "cancelled": 0})
    );

    w.set_row(&id, &subs[3], "status = 'skipped'");
    w.clock.advance_ms(MINUTE);
    let report = w.reconcile();
    assert_eq!(report.finished, 1);
    let read = w.get(&admin, &id);
    assert_eq!(read.body["data"]["status"], "sent");
    assert_eq!(read.body["data"]["finishedAt"], json!(rfc3339(w.now())));
    assert_eq!(
        read.body["data"]["counts"],
        json!({"total": 4, "pending": 0, "sent": 2, "failed": 1, "skipped": 1, "cancelled": 0})
    );
    assert_eq!(w.reconcile(), CronReport::default(), "nothing left to do");
}

#[test]
fn the_cron_works_across_sites() {
    let w = World::new(24);
    w.sql(Statement::new(
        "INSERT INTO sites (id, name, created_at) VALUES ('other', 'Other', 0)",
    ));
    let here = w.campaign("scheduled");
    w.sql(
        Statement::new(
            "INSERT INTO campaigns (site_id, id, subject_en, subject_vi, body_en, body_vi, \
             status, scheduled_at, created_by, created_at, updated_at) \
             VALUES ('other', 'c-other', 's', 's', 'b', 'b', 'scheduled', ?1, 'u', 0, 0)",
        )
        .bind(w.now()),
    );
    w.sql(
        Statement::new("UPDATE campaigns SET scheduled_at = ?1 WHERE id = ?2")
            .bind(w.now())
            .bind(here.as_str()),
    );
    let report = w.reconcile();
    assert_eq!(report.started, 2);
    // Neither site has subscribers: both are finished in the same run.
    assert_eq!(report.finished, 2);
    let statuses: HashMap<String, String> = w
        .rows(Statement::new("SELECT site_id, status FROM campaigns"))
        .into_iter()
        .map(|r| {
            (
                r["site_id"].as_str().unwrap_or("").to_owned(),
                r["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses["default"], "sent");
    assert_eq!(statuses["other"], "sent");
}
