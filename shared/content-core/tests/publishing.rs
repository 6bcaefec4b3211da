//! Publishing: the state machine (publish, schedule, unpublish, delete),
//! schedule times, and the cron's claim publishing each due post exactly
//! once, missed ones included, in batches. On the native doubles (SQLite
//! with the real migrations, a manual clock, seeded randomness, real ES256
//! access tokens); the live runtime is covered by tests/e2e
//! (scenarios/content.rs).
use sealpost_api::routes::RouteId;
use sealpost_content_core::publish::Published;
use sealpost_ports::{Statement, rfc3339};
use serde_json::{Value, json};

mod common;

use common::{MINUTE, START_MS, World, id_of, post};

#[test]
fn publish_schedule_unpublish_and_delete_follow_the_state_machine() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("sm")));
    let unpublish_draft = w.act(RouteId::AdminPostUnpublish, &editor, &id, None);
    assert_eq!(
        (unpublish_draft.status, unpublish_draft.code()),
        (409, "CONFLICT")
    );

    let p = w.publish(&editor, &id);
    assert_eq!(p.status, 200, "{p:?}");
    assert_eq!(p.data()["status"], "published");
    assert_eq!(p.data()["publishedAt"], rfc3339(START_MS));
    assert_eq!(p.data()["version"], 2);
    let again = w.publish(&editor, &id);
    assert_eq!((again.status, again.code()), (409, "CONFLICT"));
    let sched_published = w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": rfc3339(START_MS + 10 * MINUTE)})),
    );
    assert_eq!(sched_published.code(), "CONFLICT");

    let u = w.act(RouteId::AdminPostUnpublish, &editor, &id, Some(&json!({})));
    assert_eq!(u.data()["status"], "draft");
    assert_eq!(u.data()["publishedAt"], Value::Null);

    let at = rfc3339(START_MS + 10 * MINUTE);
    let s = w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": at, "version": 3})),
    );
    assert_eq!(s.status, 200, "{s:?}");
    assert_eq!(s.data()["status"], "scheduled");
    assert_eq!(s.data()["publishAt"], at);
    // A scheduled post can be rescheduled, published now or unpublished.
    let later = rfc3339(START_MS + 20 * MINUTE);
    let s = w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": later})),
    );
    assert_eq!(s.data()["publishAt"], later);

    let del = w.act(RouteId::AdminPostDelete, &editor, &id, None);
    assert_eq!(del.status, 200);
    assert_eq!(del.data()["status"], "deleted");
    for route in [
        RouteId::AdminPostPublish,
        RouteId::AdminPostUnpublish,
        RouteId::AdminPostDelete,
    ] {
        let r = w.act(route, &editor, &id, None);
        assert_eq!((r.status, r.code()), (404, "NOT_FOUND"), "{route:?}");
    }
    let r = w.patch(&editor, &id, &json!({"version": 6}));
    assert_eq!(r.status, 404);
    let r = w.publish(&editor, "no-such-post");
    assert_eq!(r.status, 404);
    // Deleted posts leave the admin list unless asked for.
    assert_eq!(w.admin_list(&editor, "").data(), &json!([]));
    let deleted = w.admin_list(&editor, "status=deleted");
    assert_eq!(deleted.data()[0]["id"], id.as_str());
}

#[test]
fn schedule_needs_a_future_rfc3339_time() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("s")));
    for at in [
        json!(rfc3339(START_MS - 1000)),
        json!(rfc3339(START_MS)),
        json!("tomorrow"),
        json!("2026-13-01T00:00:00Z"),
    ] {
        let r = w.act(
            RouteId::AdminPostSchedule,
            &editor,
            &id,
            Some(&json!({ "publishAt": at })),
        );
        assert_eq!(
            (r.status, r.fields()),
            (400, vec!["publishAt".to_owned()]),
            "{at}"
        );
    }
    let r = w.act(RouteId::AdminPostSchedule, &editor, &id, Some(&json!({})));
    assert_eq!(r.code(), "VALIDATION_FAILED");
    let r = w.act(
        RouteId::AdminPostPublish,
        &editor,
        &id,
        Some(&json!({"now": true})),
    );
    assert_eq!(r.code(), "VALIDATION_FAILED");
}

#[test]
fn the_cron_publishes_each_due_post_exactly_once_across_overlapping_runs() {
    let w = World::new(5);
    let editor = w.editor();
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = id_of(&w.created(&editor, &post(&format!("c{i}"))));
        let r = w.act(
            RouteId::AdminPostSchedule,
            &editor,
            &id,
            Some(&json!({"publishAt": rfc3339(START_MS + (i + 1) * MINUTE)})),
        );
        assert_eq!(r.status, 200);
        ids.push(id);
    }
    // Not due yet: nothing.
    assert!(w.run_cron().is_empty());
    w.clock.advance_ms(3 * MINUTE);
    // Three runs at the same instant: the first claims the three due posts,
    // the others find nothing left.
    let runs: Vec<Vec<Published>> = (0..3).map(|_| w.run_cron()).collect();
    let mut claimed: Vec<String> = runs.iter().flatten().map(|p| p.id.clone()).collect();
    claimed.sort();
    let mut due = ids[..3].to_vec();
    due.sort();
    assert_eq!(claimed, due);
    assert_eq!(runs.iter().filter(|r| !r.is_empty()).count(), 1);
    assert!(runs.iter().flatten().all(|p| p.site_id == "default"));
    let published = w.admin_list(&editor, "status=published");
    assert_eq!(published.body["pagination"]["totalItems"], 3);
    for item in published.data().as_array().unwrap() {
        assert_eq!(item["publishedAt"], rfc3339(START_MS + 3 * MINUTE));
        assert_eq!(item["publishAt"], Value::Null);
        // scheduled (2) + claimed once (3)
        assert_eq!(item["version"], 3);
    }
}

#[test]
fn the_cron_picks_up_posts_missed_while_it_was_not_running() {
    let w = World::new(5);
    let editor = w.editor();
    let id = id_of(&w.created(&editor, &post("missed")));
    w.act(
        RouteId::AdminPostSchedule,
        &editor,
        &id,
        Some(&json!({"publishAt": rfc3339(START_MS + MINUTE)})),
    );
    // The cron was down for a day.
    w.clock.advance_ms(24 * 60 * MINUTE);
    let run = w.run_cron();
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].id, id);
    assert_eq!(w.get_post("missed", "lang=en").status, 200);
}

#[test]
fn the_cron_claims_in_batches_until_nothing_is_due() {
    let w = World::new(5);
    let editor = w.editor();
    let template = id_of(&w.created(&editor, &post("tpl")));
    // 250 due posts straight in SQL (the claim, not the API, is under test).
    for i in 0..250 {
        w.sql(
            Statement::new(
                "INSERT INTO posts (site_id, id, status, version, edit_id, author_id, publish_at, \
                 created_at, updated_at) SELECT site_id, ?1, 'scheduled', 1, 'e', author_id, ?2, \
                 created_at, updated_at FROM posts WHERE id = ?3",
            )
            .bind(format!("bulk-{i:03}"))
            .bind(START_MS - i64::from(i))
            .bind(template.as_str()),
        );
    }
    assert_eq!(w.run_cron().len(), 250);
    assert!(w.run_cron().is_empty());
}
