//! What a subscribe passes before its email goes out: the bot check's host
//! (a token solved on another site's page, or on none, is refused), the
//! provider's send-rate cell with a pause that moves the manual clock, and
//! the provider's failures (refunded budget, retry later, the same answer
//! for a known and a new address, an address refused for good).
mod common;

use common::subscriptions::{Req, body, code, fields, solved_on};
use common::{Step, World};
use sealpost_api::ApiResponse;
use sealpost_api::routes::RouteId;
use sealpost_campaigns_core::bot_check;
use sealpost_campaigns_core::ports::TurnstileAnswer;
use sealpost_ports::{SiteDb, SiteId, Statement};
use sealpost_testkit::block_on;
use serde_json::json;

// ---- the bot check's host ------------------------------------------------------

impl World {
    /// `POST /subscribe` of `email` whose bot check answers `answer`.
    fn subscribe_checked(&self, email: &str, answer: TurnstileAnswer) -> ApiResponse {
        let mut req = Req::new(RouteId::Subscribe).json(&json!({
            "email": email, "locale": "en", "turnstileToken": "a-real-looking-token"
        }));
        req.turnstile = Some(answer);
        self.serve(req)
    }

    /// A second site, `other`, served on `other.example`.
    fn other_site(&self) {
        self.sql(Statement::new(
            "INSERT INTO sites (id, name, created_at) VALUES ('other', 'Other', '2026-11-23T00:00:00Z')",
        ));
        self.sql(Statement::new(
            "INSERT INTO site_hosts (host, site_id) VALUES ('other.example', 'other')",
        ));
    }
}

#[test]
fn a_token_solved_on_another_sites_host_is_refused() {
    let w = World::new(16);
    w.other_site();
    let r = w.subscribe_checked("crossed@example.com", solved_on("other.example"));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "TURNSTILE_FAILED");
    assert!(w.row_of("crossed@example.com").is_none(), "nothing stored");
    assert_eq!(w.mailer.calls.get(), 0);
}

#[test]
fn a_token_solved_on_a_page_outside_every_site_is_refused() {
    let w = World::new(17);
    let r = w.subscribe_checked("stray@example.com", solved_on("attacker.example"));
    assert_eq!(code(&r), "TURNSTILE_FAILED");
    let r = w.subscribe_checked(
        "stray@example.com",
        TurnstileAnswer {
            hostname: None,
            ..solved_on("")
        },
    );
    assert_eq!(code(&r), "TURNSTILE_FAILED");
    assert!(w.row_of("stray@example.com").is_none());
}

#[test]
fn a_token_solved_on_any_host_of_the_requests_site_passes() {
    let w = World::new(18);
    for (email, host) in [
        ("a@example.com", "localhost"),
        ("b@example.com", "127.0.0.1"),
        ("c@example.com", "LocalHost."),
    ] {
        assert_eq!(
            w.subscribe_checked(email, solved_on(host)).status,
            202,
            "{host}"
        );
        assert_eq!(w.mails(email).len(), 1, "{host}");
    }
}

#[test]
fn the_dev_tokens_pass_locally_as_solved_on_the_sites_page_host() {
    let w = World::new(19);
    let db = SiteDb::new(&w.db, SiteId::default_site());
    assert_eq!(
        block_on(bot_check::dev_page_host(&db)).expect("hosts"),
        "localhost"
    );
    // `serve` wires the dev verifier exactly as the worker does in dev.
    assert_eq!(w.subscribe("dev@example.com", "en").status, 202);
    assert_eq!(w.mails("dev@example.com").len(), 1);
}

// ---- the send-rate cap and the provider's failures ------------------------------

impl World {
    /// The provider's send-rate cell (`tat_ms`), if it exists.
    fn send_rate_cell(&self) -> Option<i64> {
        self.scalar("SELECT tat_ms FROM send_rate WHERE id = 'provider'")
            .as_i64()
    }
}

/// Milliseconds between two provider calls at the default 2 a second.
const SLOT_MS: i64 = 500;

#[test]
fn a_subscribe_takes_a_send_rate_slot() {
    let w = World::new(40);
    assert_eq!(w.send_rate_cell(), None);
    assert_eq!(w.subscribe("slot@example.com", "en").status, 202);
    assert_eq!(w.send_rate_cell(), Some(w.now() + SLOT_MS));
    assert_eq!(w.subscribe("slot2@example.com", "en").status, 202);
    assert_eq!(w.send_rate_cell(), Some(w.now() + 2 * SLOT_MS));
}

#[test]
fn a_subscribe_waits_a_moment_for_a_slot_a_moment_away() {
    let w = World::new(41);
    let start = w.now();
    // The burst (2) goes at once; the third waits for its slot.
    for i in 0..3 {
        assert_eq!(w.subscribe(&format!("w{i}@example.com"), "en").status, 202);
    }
    assert_eq!(
        w.now(),
        start + SLOT_MS,
        "the third call waited one interval"
    );
    assert_eq!(w.mailer.calls.get(), 3);
}

#[test]
fn a_subscribe_with_no_slot_free_answers_retry_later() {
    let w = World::new(42);
    // The consumers have the provider booked for the next minute.
    let booked = w.now() + 60_000;
    w.sql(
        Statement::new("INSERT INTO send_rate (id, tat_ms) VALUES ('provider', ?1)").bind(booked),
    );
    let r = w.subscribe("later@example.com", "en");
    assert_eq!(r.status, 503);
    assert_eq!(code(&r), "SERVICE_UNAVAILABLE");
    assert_eq!(r.header("retry-after"), Some("60"));
    assert_eq!(w.mailer.calls.get(), 0, "nothing sent");
    assert!(w.row_of("later@example.com").is_none(), "nothing stored");
    assert_eq!(w.send_rate_cell(), Some(booked), "no slot taken");
}

#[test]
fn a_subscribe_when_the_provider_fails_refunds_the_budget_and_says_to_retry() {
    let w = World::new(43);
    w.mailer.then(Step::Unavailable);
    let r = w.subscribe("unlucky@example.com", "en");
    assert_eq!(r.status, 502);
    assert_eq!(code(&r), "UPSTREAM_UNAVAILABLE");
    assert!(
        body(&r)["message"]
            .as_str()
            .unwrap_or("")
            .contains("try again"),
        "{}",
        body(&r)
    );
    assert!(w.mails("unlucky@example.com").is_empty());
    // The failed email cost nothing: the whole budget of 3 is there.
    for i in 0..3 {
        assert_eq!(
            w.subscribe("unlucky@example.com", "en").status,
            202,
            "retry {i}"
        );
    }
    assert_eq!(w.mails("unlucky@example.com").len(), 3);
}

#[test]
fn a_provider_failure_answers_alike_for_a_known_and_a_new_address() {
    let w = World::new(44);
    w.subscriber("known@example.com", "en", "confirmed");
    w.mailer.then(Step::Unavailable).then(Step::Unavailable);
    let known = w.subscribe("known@example.com", "en");
    let new = w.subscribe("new@example.com", "en");
    assert_eq!(known.status, 502);
    assert_eq!(known.status, new.status);
    assert_eq!(known.headers, new.headers);
    assert_eq!(known.body, new.body, "byte-identical answers");
}

#[test]
fn a_subscribe_the_provider_rate_limits_answers_retry_later_and_refunds() {
    let w = World::new(45);
    w.mailer.then(Step::RateLimited(Some(7)));
    let r = w.subscribe("busy@example.com", "en");
    assert_eq!(r.status, 503);
    assert_eq!(code(&r), "SERVICE_UNAVAILABLE");
    assert_eq!(r.header("retry-after"), Some("7"));
    for _ in 0..3 {
        assert_eq!(w.subscribe("busy@example.com", "en").status, 202);
    }
    assert_eq!(w.mails("busy@example.com").len(), 3);
}

#[test]
fn a_retry_after_a_lost_provider_answer_is_sent_not_refused_as_a_reused_key() {
    let w = World::new(46);
    assert_eq!(w.subscribe("lost@example.com", "en").status, 202);
    // The provider sends the second email but its answer is lost.
    w.mailer.then(Step::TimeoutAfterAccept);
    assert_eq!(w.subscribe("lost@example.com", "en").status, 502);
    w.clock.advance_ms(1_000);
    let r = w.subscribe("lost@example.com", "en");
    assert_eq!(r.status, 202, "{}", body(&r));
    assert_eq!(w.mails("lost@example.com").len(), 3);
}

#[test]
fn an_address_the_provider_refuses_for_good_is_a_validation_error_on_email() {
    let w = World::new(47);
    w.mailer
        .reject
        .borrow_mut()
        .push("bounce@example.com".to_owned());
    let r = w.subscribe("bounce@example.com", "en");
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["email"]);
}
