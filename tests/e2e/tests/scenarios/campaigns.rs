//! Campaigns end to end (API.md, Campaigns; Bootstrap and local
//! development): double opt-in subscribing that never tells whether an
//! address is known, confirmation and unsubscribe links that scanners'
//! GETs cannot trigger, RFC 8058 one-click unsubscribe, the admin subscriber
//! list, and campaign delivery: each confirmed subscriber gets each campaign
//! exactly once, in their locale, across repeated sends, overlapping crons,
//! a consumer crash between the provider's answer and the ack, provider
//! 5xx/429 bursts and a lost answer; unconfirmed and unsubscribed addresses
//! get nothing.
//!
//! Every scenario uses its own email domain (faults and inbox reads stay its
//! own) and its own client addresses. A campaign goes to every confirmed
//! subscriber of the site, so the scenarios that send campaigns run in the
//! serial phase, one at a time: their counts are exact and a fault set for
//! one scenario's domain can only hit that scenario's campaign.
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use sealpost_e2e::auth::{bearer_request, new_member};
use sealpost_e2e::campaigns::{
    TURNSTILE_FAIL, TURNSTILE_PASS, address, admin_request, all_subscribers, assert_confirmed,
    assert_delivered_once, assert_finished_counts, assert_html, assert_not_delivered,
    assert_offset_list, assert_subscribe_accepted, assert_unsubscribed, campaign_id,
    campaign_input, campaign_subject, campaigns_log, clear_faults, confirm, confirmation_token,
    confirmed_total, create_campaign, get_campaign, inbox, link_token, mails_with_subject,
    notice_unsubscribe_path, one_click, query_escape, scenario_domain, seed_confirmed,
    send_campaign, set_fault, status_of, subscribe, subscribe_body, subscribe_confirmed,
    subscribe_then_unsubscribe, subscriber, subscriber_status, subscribers_page,
    try_create_campaign, try_subscribe, unsubscribe_path, wait_for_mail, wait_until_sent,
};
use sealpost_e2e::{Reply, Stack, Value, json, random_hex, unique_ip, unix_now};

use super::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = &[
    (
        "campaigns_subscribing_answers_alike_for_any_address_and_only_a_post_confirms",
        campaigns_subscribing_answers_alike_for_any_address_and_only_a_post_confirms,
    ),
    (
        "campaigns_subscribe_refuses_a_failed_turnstile_bad_fields_and_an_eleventh_request_per_ip",
        campaigns_subscribe_refuses_a_failed_turnstile_bad_fields_and_an_eleventh_request_per_ip,
    ),
    (
        "campaigns_tampered_or_forged_links_are_refused_and_old_links_die_on_resubscribing",
        campaigns_tampered_or_forged_links_are_refused_and_old_links_die_on_resubscribing,
    ),
    (
        "campaigns_the_subscriber_list_is_admin_only_and_filters_searches_and_pages",
        campaigns_the_subscriber_list_is_admin_only_and_filters_searches_and_pages,
    ),
    (
        "campaigns_creating_a_campaign_is_admin_only_and_validated",
        campaigns_creating_a_campaign_is_admin_only_and_validated,
    ),
];

/// Scenarios that send campaigns (to every confirmed subscriber of the
/// site): one at a time, after every other scenario finished.
pub const SERIAL_SCENARIOS: &[(&str, Scenario)] = &[
    (
        "campaigns_repeated_sends_and_overlapping_crons_reach_each_confirmed_subscriber_once_in_their_locale",
        campaigns_repeated_sends_and_overlapping_crons_reach_each_confirmed_subscriber_once_in_their_locale,
    ),
    (
        "campaigns_one_click_unsubscribe_from_a_campaign_email_stops_later_campaigns",
        campaigns_one_click_unsubscribe_from_a_campaign_email_stops_later_campaigns,
    ),
    (
        "campaigns_a_consumer_crash_between_send_and_ack_still_delivers_exactly_once",
        campaigns_a_consumer_crash_between_send_and_ack_still_delivers_exactly_once,
    ),
    (
        "campaigns_provider_5xx_and_429_bursts_and_a_lost_answer_still_deliver_exactly_once",
        campaigns_provider_5xx_and_429_bursts_and_a_lost_answer_still_deliver_exactly_once,
    ),
    (
        "campaigns_a_scheduled_campaign_starts_only_when_due_and_is_delivered_once",
        campaigns_a_scheduled_campaign_starts_only_when_due_and_is_delivered_once,
    ),
];

// ---------------------------------------------------------------- helpers

/// `token` with the first character of its MAC (after the last `.`) changed.
fn tamper(token: &str) -> String {
    let at = token.rfind('.').map_or(0, |i| i + 1);
    let mut chars: Vec<char> = token.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The token of an `/unsubscribe?token=…` path.
fn token_of(path: &str) -> String {
    path.split_once("token=")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_else(|| panic!("no token in {path}"))
}

/// Unix seconds as RFC 3339 UTC.
fn rfc3339(secs: u64) -> String {
    sealpost_ports::rfc3339(i64::try_from(secs).expect("time fits") * 1000)
}

fn at_secs(s: &str) -> u64 {
    u64::try_from(sealpost_ports::parse_rfc3339(s).expect("rfc3339") / 1000).expect("positive")
}

/// Creates a campaign tagged with `domain` and asserts it starts as a draft.
fn draft_for(stack: &Stack, domain: &str) -> Value {
    let campaign = create_campaign(
        stack,
        &campaign_input(&format!("{domain} {}", random_hex(3))),
    );
    assert_eq!(status_of(&campaign), "draft", "{campaign:#}");
    campaign
}

/// Sends `campaign`, waits until it is `sent`, and checks its counts
/// against the confirmed subscribers of the site when it started
/// (`confirmed`); returns the finished campaign.
fn send_and_finish(stack: &Stack, campaign: &Value, confirmed: u64) -> Value {
    let id = campaign_id(campaign);
    send_campaign(stack, &id);
    finished(stack, &id, confirmed)
}

/// Waits until campaign `id` is `sent`, then checks its counts: one ledger
/// row per confirmed subscriber, every one sent.
fn finished(stack: &Stack, id: &str, confirmed: u64) -> Value {
    let (done, seen) = wait_until_sent(stack, id);
    eprintln!("e2e: campaign {id} went through {seen:?}");
    let total = assert_finished_counts(&done);
    assert_eq!(
        total, confirmed,
        "one ledger row per confirmed subscriber: {done:#}"
    );
    assert_eq!(done["counts"]["sent"], json!(confirmed), "{done:#}");
    done
}

/// Confirmed subscribers seeded on `domain`, `count` per locale, named
/// `{name}{locale}{random}-{i}`: each address with its locale.
fn seeded(
    stack: &Stack,
    name: &str,
    per_locale: &[(&'static str, usize)],
    domain: &str,
) -> Vec<(String, &'static str)> {
    let tag = random_hex(3);
    per_locale
        .iter()
        .flat_map(|&(locale, count)| {
            seed_confirmed(
                stack,
                &format!("{name}{locale}{tag}"),
                count,
                locale,
                domain,
            )
            .into_iter()
            .map(move |a| (a, locale))
        })
        .collect()
}

/// `sends` sends of campaign `id` and `crons` runs of the campaigns cron,
/// all released at the same instant.
fn at_once(stack: &Stack, id: &str, sends: usize, crons: usize) {
    let start = Barrier::new(sends + crons);
    thread::scope(|s| {
        for _ in 0..sends {
            s.spawn(|| {
                start.wait();
                let sending = send_campaign(stack, id);
                assert!(
                    ["sending", "paused", "sent"].contains(&status_of(&sending)),
                    "{sending:#}"
                );
            });
        }
        for _ in 0..crons {
            s.spawn(|| {
                start.wait();
                assert!(stack.cron("campaigns"), "scripts/cron campaigns failed");
            });
        }
    });
}

/// Every line of the campaigns worker's log naming campaign `id` and
/// containing `word`.
fn log_lines_about(stack: &Stack, id: &str, word: &str) -> Vec<String> {
    campaigns_log(stack)
        .lines()
        .filter(|l| l.contains(id) && l.to_ascii_lowercase().contains(word))
        .map(str::to_owned)
        .collect()
}

// -------------------------------------------------------------- scenarios

fn campaigns_subscribing_answers_alike_for_any_address_and_only_a_post_confirms(stack: &Stack) {
    let domain = scenario_domain();
    let [fresh, pending, confirmed, unsubscribed] =
        ["fresh", "pending", "confirmed", "unsubscribed"].map(|l| address(l, &domain));

    subscribe(stack, &pending, "en");
    subscribe(stack, &confirmed, "vi");
    let mail = wait_for_mail(stack, &confirmed, "a confirmation email", |m| {
        link_token(m, "/subscribe/confirm").is_some()
    });
    assert!(
        mail["subject"].as_str().is_some_and(|s| !s.is_empty()),
        "{mail:#}"
    );
    assert!(mail["sentAt"].is_string(), "{mail:#}");
    let token = confirmation_token(stack, &confirmed);

    // The link's page: a form to POST, and a GET (a mail scanner following
    // the link) changes nothing.
    for _ in 0..2 {
        let page = stack.get(&format!("/subscribe/confirm?token={token}"));
        let html = assert_html(&page, 200);
        assert!(html.contains("<form"), "{html}");
        assert!(
            html.to_ascii_lowercase().contains("method=\"post\""),
            "{html}"
        );
        assert!(html.contains("/subscribe/confirm"), "{html}");
        assert!(html.contains(&token), "the form carries the token: {html}");
    }
    let row = subscriber(stack, &confirmed);
    assert_eq!(row["status"], "pending", "a GET confirmed it: {row:#}");
    assert!(row["confirmedAt"].is_null(), "{row:#}");

    assert_confirmed(&confirm(stack, &token));
    let row = subscriber(stack, &confirmed);
    assert_eq!(row["status"], "confirmed", "{row:#}");
    assert_eq!(row["locale"], "vi", "{row:#}");
    let confirmed_at = row["confirmedAt"]
        .as_str()
        .unwrap_or_else(|| panic!("no confirmedAt: {row:#}"));
    assert!(
        sealpost_e2e::parse_rfc3339_utc(confirmed_at).is_some_and(|t| (t - i64::try_from(
            unix_now()
        )
        .expect("time"))
        .abs()
            < 120),
        "confirmedAt {confirmed_at} is not now"
    );
    let keys: Vec<&str> = row
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "confirmedAt",
            "createdAt",
            "email",
            "id",
            "locale",
            "status"
        ],
        "{row:#}"
    );
    // Confirming twice is fine.
    assert_confirmed(&confirm(stack, &token));

    subscribe_then_unsubscribe(stack, &unsubscribed, "en");
    assert_eq!(subscriber_status(stack, &unsubscribed), "unsubscribed");

    // Unknown, pending, confirmed and unsubscribed: one and the same answer.
    let answers: Vec<(String, Reply)> = [&fresh, &pending, &confirmed, &unsubscribed]
        .into_iter()
        .map(|a| {
            let reply = try_subscribe(
                stack,
                &subscribe_body(a, "en", TURNSTILE_PASS),
                &unique_ip(),
            );
            (a.clone(), reply)
        })
        .collect();
    let (_, first) = &answers[0];
    assert_subscribe_accepted(first);
    for (who, reply) in &answers {
        assert_eq!(reply.status, first.status, "{who}: {reply}");
        assert_eq!(reply.json(), first.json(), "{who}: {reply}");
    }
    // Only the unknown and the unsubscribed address changed: both now wait
    // for a confirmation; the confirmed one stays confirmed.
    assert_eq!(subscriber_status(stack, &fresh), "pending");
    assert_eq!(subscriber_status(stack, &pending), "pending");
    assert_eq!(subscriber_status(stack, &confirmed), "confirmed");
    assert_eq!(subscriber_status(stack, &unsubscribed), "pending");
}

fn campaigns_subscribe_refuses_a_failed_turnstile_bad_fields_and_an_eleventh_request_per_ip(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let failed = address("robot", &domain);
    try_subscribe(
        stack,
        &subscribe_body(&failed, "en", TURNSTILE_FAIL),
        &unique_ip(),
    )
    .assert_error(400, "TURNSTILE_FAILED");
    assert!(
        inbox(stack, &failed).is_empty(),
        "a refused robot got email"
    );

    let ok = address("ok", &domain);
    for (body, field) in [
        (
            subscribe_body("not-an-email", "en", TURNSTILE_PASS),
            "email",
        ),
        (subscribe_body("a@nodot", "en", TURNSTILE_PASS), "email"),
        (subscribe_body("a b@c.test", "en", TURNSTILE_PASS), "email"),
        (subscribe_body("", "en", TURNSTILE_PASS), "email"),
        (subscribe_body(&ok, "fr", TURNSTILE_PASS), "locale"),
        (
            json!({"email": ok, "turnstileToken": TURNSTILE_PASS}),
            "locale",
        ),
        (json!({"email": ok, "locale": "en"}), "turnstileToken"),
        (
            json!({"email": ok, "locale": "en", "turnstileToken": TURNSTILE_PASS, "name": "x"}),
            "name",
        ),
    ] {
        try_subscribe(stack, &body, &unique_ip()).assert_validation(field);
    }
    assert!(inbox(stack, &ok).is_empty(), "a refused request sent email");

    // Ten subscriptions a minute per client address; the eleventh is 429.
    // The limiter counts per wall-clock minute: start with enough of it left
    // and try again should the burst still straddle two minutes.
    for attempt in 1..=3 {
        let left = 60 - unix_now() % 60;
        if left < 20 {
            thread::sleep(Duration::from_secs(left + 1));
        }
        let minute = unix_now() / 60;
        let ip = unique_ip();
        let replies: Vec<Reply> = (0..11)
            .map(|i| {
                let body = subscribe_body(
                    &address(&format!("burst{attempt}-{i}"), &domain),
                    "en",
                    TURNSTILE_PASS,
                );
                try_subscribe(stack, &body, &ip)
            })
            .collect();
        let elsewhere = try_subscribe(
            stack,
            &subscribe_body(
                &address(&format!("other{attempt}"), &domain),
                "en",
                TURNSTILE_PASS,
            ),
            &unique_ip(),
        );
        if unix_now() / 60 != minute {
            eprintln!("e2e: subscribe burst {attempt} straddled two minutes; again");
            continue;
        }
        for reply in &replies[..10] {
            assert_subscribe_accepted(reply);
        }
        let over = &replies[10];
        over.assert_error(429, "RATE_LIMITED");
        let secs: u64 = over
            .header("retry-after")
            .unwrap_or_else(|| panic!("429 without Retry-After: {over}"))
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Retry-After is not an integer: {over}"));
        assert!((1..=60).contains(&secs), "Retry-After {secs}");
        assert!(
            inbox(stack, &address(&format!("burst{attempt}-10"), &domain)).is_empty(),
            "the limited request sent email"
        );
        assert_subscribe_accepted(&elsewhere);
        return;
    }
    panic!("every subscribe burst straddled two minutes: the stack is too slow");
}

fn campaigns_tampered_or_forged_links_are_refused_and_old_links_die_on_resubscribing(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let pending = address("pending", &domain);
    subscribe(stack, &pending, "en");
    let token = confirmation_token(stack, &pending);

    // Confirmation tokens: `id.nonce.expiry.mac`.
    let other_id = random_hex(16);
    let swapped_id = format!(
        "{other_id}{}",
        &token[token.find('.').expect("a dotted token")..]
    );
    for bad in [
        tamper(&token),
        swapped_id,
        format!(
            "{}.{}.4102444800.{}",
            random_hex(16),
            random_hex(16),
            random_hex(16)
        ),
        "x".to_owned(),
    ] {
        confirm(stack, &bad).assert_error(400, "TOKEN_INVALID");
        let page = stack.get(&format!("/subscribe/confirm?token={}", query_escape(&bad)));
        assert_html(&page, 400);
    }
    assert_html(&stack.get("/subscribe/confirm"), 400);
    assert_eq!(subscriber_status(stack, &pending), "pending");

    // Unsubscribe tokens: `id.mac`.
    let member = address("member", &domain);
    let first_token = subscribe_confirmed(stack, &member, "vi");
    let path = notice_unsubscribe_path(stack, &member, "vi");
    let unsub = token_of(&path);
    let forged = format!(
        "{}{}",
        random_hex(16),
        &unsub[unsub.rfind('.').expect("id.mac")..]
    );
    for bad in [tamper(&unsub), forged, "x".to_owned()] {
        let query = format!("/unsubscribe?token={}", query_escape(&bad));
        one_click(stack, &query).assert_error(400, "TOKEN_INVALID");
        stack
            .request("POST", "/unsubscribe")
            .json(&json!({"token": bad}))
            .send()
            .assert_error(400, "TOKEN_INVALID");
        assert_html(&stack.get(&query), 400);
    }
    assert_html(&stack.get("/unsubscribe"), 400);
    assert_eq!(subscriber_status(stack, &member), "confirmed");

    // Unsubscribing and subscribing again needs a new confirmation: the old
    // link no longer works, the new one does.
    assert_unsubscribed(&one_click(stack, &path));
    assert_eq!(subscriber_status(stack, &member), "unsubscribed");
    subscribe(stack, &member, "vi");
    assert_eq!(subscriber_status(stack, &member), "pending");
    confirm(stack, &first_token).assert_error(400, "TOKEN_INVALID");
    let fresh = confirmation_token(stack, &member);
    assert_ne!(fresh, first_token, "the same link was sent again");
    assert_confirmed(&confirm(stack, &fresh));
    assert_eq!(subscriber_status(stack, &member), "confirmed");
}

fn campaigns_the_subscriber_list_is_admin_only_and_filters_searches_and_pages(stack: &Stack) {
    stack
        .get("/admin/subscribers")
        .assert_error(401, "AUTH_REQUIRED");
    let member = new_member(stack, "subscribers-member");
    bearer_request(stack, "GET", "/admin/subscribers", &member.access)
        .send()
        .assert_error(403, "FORBIDDEN");

    let domain = scenario_domain();
    let prefix = format!("list{}", random_hex(3));
    let seeded = seed_confirmed(stack, &prefix, 25, "en", &domain);
    let pending = [address("pa", &domain), address("pb", &domain)];
    for p in &pending {
        subscribe(stack, p, "vi");
    }
    let gone = address("gone", &domain);
    subscribe_then_unsubscribe(stack, &gone, "en");

    let at_domain = format!("@{domain}");
    let total = |query: &str| -> (Vec<Value>, Value) {
        assert_offset_list(&subscribers_page(stack, query))
    };
    let q = query_escape(&at_domain);
    for (status, expected) in [
        (None, 28),
        (Some("confirmed"), 25),
        (Some("pending"), 2),
        (Some("unsubscribed"), 1),
    ] {
        let query = match status {
            Some(s) => format!("q={q}&status={s}&pageSize=100"),
            None => format!("q={q}&pageSize=100"),
        };
        let (data, pagination) = total(&query);
        assert_eq!(
            pagination["totalItems"],
            json!(expected),
            "{query}: {pagination}"
        );
        assert_eq!(data.len(), expected, "{query}");
        assert!(
            data.iter()
                .all(|s| s["email"].as_str().is_some_and(|e| e.ends_with(&at_domain))),
            "{query}: {data:#?}"
        );
        if let Some(s) = status {
            assert!(data.iter().all(|x| x["status"] == s), "{query}: {data:#?}");
        }
    }

    // A full address is an exact match; a part matches case-insensitively.
    let (one, _) = total(&format!("q={}", query_escape(&pending[0])));
    assert_eq!(one.len(), 1, "{one:#?}");
    assert_eq!(one[0]["email"], json!(pending[0]));
    assert_eq!(one[0]["locale"], "vi");
    assert!(one[0]["confirmedAt"].is_null(), "{one:#?}");
    for part in [prefix.clone(), prefix.to_ascii_uppercase()] {
        let (_, pagination) = total(&format!("q={}", query_escape(&part)));
        assert_eq!(
            pagination["totalItems"],
            json!(25),
            "q={part}: {pagination}"
        );
    }
    assert_eq!(
        all_subscribers(stack, &seeded[3], None).len(),
        1,
        "{}",
        seeded[3]
    );

    // Pages of 10: 10, 10, 8, then nothing; newest first, no overlap.
    let mut ids = std::collections::HashSet::new();
    let mut created = Vec::new();
    for (page, size) in [(1, 10), (2, 10), (3, 8), (4, 0)] {
        let (data, pagination) = total(&format!("q={q}&pageSize=10&page={page}"));
        assert_eq!(data.len(), size, "page {page}");
        assert_eq!(
            pagination,
            json!({"page": page, "pageSize": 10, "totalItems": 28, "totalPages": 3}),
            "page {page}"
        );
        for s in &data {
            assert!(ids.insert(s["id"].clone()), "{} on two pages", s["id"]);
            created.push(s["createdAt"].as_str().map(at_secs).expect("createdAt"));
        }
    }
    assert_eq!(ids.len(), 28);
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {created:?}"
    );
    // The newest is the last one made here.
    let (first, _) = total(&format!("q={q}&pageSize=1"));
    assert_eq!(first[0]["email"], json!(gone), "{first:#?}");

    for query in [
        "pageSize=0",
        "pageSize=101",
        "page=0",
        "page=x",
        "status=bogus",
    ] {
        let reply = subscribers_page(stack, query);
        reply.assert_error(400, "VALIDATION_FAILED");
    }
}

fn campaigns_creating_a_campaign_is_admin_only_and_validated(stack: &Stack) {
    let input = campaign_input(&random_hex(4));
    stack
        .request("POST", "/admin/campaigns")
        .json(&input)
        .send()
        .assert_error(401, "AUTH_REQUIRED");
    stack
        .get("/admin/campaigns/abc")
        .assert_error(401, "AUTH_REQUIRED");
    let member = new_member(stack, "campaigns-member");
    bearer_request(stack, "POST", "/admin/campaigns", &member.access)
        .json(&input)
        .send()
        .assert_error(403, "FORBIDDEN");
    bearer_request(stack, "GET", "/admin/campaigns/abc", &member.access)
        .send()
        .assert_error(403, "FORBIDDEN");
    bearer_request(stack, "POST", "/admin/campaigns/abc/send", &member.access)
        .send()
        .assert_error(403, "FORBIDDEN");

    let with = |path: &str, value: Value| {
        let mut body = input.clone();
        *body.pointer_mut(path).expect("a field of the input") = value;
        body
    };
    let mut no_vi = input.clone();
    no_vi["subject"]
        .as_object_mut()
        .expect("subject")
        .remove("vi");
    let mut extra = input.clone();
    extra["from"] = json!("evil@example.com");
    let past = rfc3339(unix_now() - 3600);
    for (body, field) in [
        (no_vi, "subject.vi"),
        (
            with("/subject/en", json!("Hi\r\nBcc: x@evil.example")),
            "subject.en",
        ),
        (
            with("/subject/vi", json!("Chào\nBcc: x@evil.example")),
            "subject.vi",
        ),
        (with("/subject/en", json!("")), "subject.en"),
        (with("/subject/en", json!("x".repeat(201))), "subject.en"),
        (with("/body/en", json!("")), "body.en"),
        (
            {
                let mut b = input.clone();
                b["scheduledAt"] = json!(past);
                b
            },
            "scheduledAt",
        ),
        (
            {
                let mut b = input.clone();
                b["scheduledAt"] = json!("tomorrow");
                b
            },
            "scheduledAt",
        ),
    ] {
        try_create_campaign(stack, &body).assert_validation(field);
    }
    try_create_campaign(stack, &extra).assert_validation("from");

    let created = create_campaign(stack, &input);
    assert_eq!(status_of(&created), "draft", "{created:#}");
    let id = campaign_id(&created);
    let got = get_campaign(stack, &id);
    assert_eq!(got["id"], json!(id));
    assert_eq!(status_of(&got), "draft", "{got:#}");
    assert_eq!(got["subject"], input["subject"], "{got:#}");
    assert_eq!(got["body"], input["body"], "{got:#}");
    assert!(got["scheduledAt"].is_null(), "{got:#}");
    assert!(got["startedAt"].is_null(), "{got:#}");
    assert!(got["createdAt"].is_string(), "{got:#}");
    for k in ["total", "pending", "sent", "failed"] {
        assert_eq!(got["counts"][k], json!(0), "counts.{k}: {got:#}");
    }

    let unknown = random_hex(16);
    admin_request(stack, "GET", &format!("/admin/campaigns/{unknown}"))
        .send()
        .assert_error(404, "NOT_FOUND");
    admin_request(stack, "POST", &format!("/admin/campaigns/{unknown}/send"))
        .send()
        .assert_error(404, "NOT_FOUND");
}

fn campaigns_repeated_sends_and_overlapping_crons_reach_each_confirmed_subscriber_once_in_their_locale(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let mut recipients: Vec<(String, &str)> = Vec::new();
    for (local, locale) in [
        ("real-en-1", "en"),
        ("real-en-2", "en"),
        ("real-vi-1", "vi"),
    ] {
        let a = address(local, &domain);
        subscribe_confirmed(stack, &a, locale);
        recipients.push((a, locale));
    }
    recipients.extend(seeded(stack, "many", &[("en", 5), ("vi", 4)], &domain));
    assert_eq!(recipients.len(), 12);
    let pending = address("pending", &domain);
    subscribe(stack, &pending, "vi");
    let gone = address("gone", &domain);
    subscribe_then_unsubscribe(stack, &gone, "en");

    let campaign = draft_for(stack, &domain);
    let id = campaign_id(&campaign);
    let confirmed = confirmed_total(stack);

    // Three sends and two cron runs at once.
    at_once(stack, &id, 3, 2);
    let done = finished(stack, &id, confirmed);
    let started = done["startedAt"].as_str().map(at_secs).expect("startedAt");
    let finished = done["finishedAt"]
        .as_str()
        .map(at_secs)
        .expect("finishedAt");
    assert!(started <= finished, "{done:#}");

    let mails = assert_delivered_once(stack, &campaign, &recipients);
    for mail in &mails {
        let html = mail["html"].as_str().unwrap_or_default();
        assert!(
            !html.contains("<script>"),
            "the HTML is not escaped: {html}"
        );
    }
    assert_not_delivered(stack, &campaign, &[pending.clone(), gone.clone()]);

    // Sending a sent campaign again changes nothing.
    send_campaign(stack, &id);
    assert!(stack.cron("campaigns"), "scripts/cron campaigns failed");
    thread::sleep(Duration::from_secs(2));
    let again = get_campaign(stack, &id);
    assert_eq!(status_of(&again), "sent", "{again:#}");
    assert_eq!(again["counts"], done["counts"], "{again:#}");
    assert_delivered_once(stack, &campaign, &recipients);
}

fn campaigns_one_click_unsubscribe_from_a_campaign_email_stops_later_campaigns(stack: &Stack) {
    let domain = scenario_domain();
    let leaving = address("leaving", &domain);
    let staying = address("staying", &domain);
    subscribe_confirmed(stack, &leaving, "en");
    subscribe_confirmed(stack, &staying, "vi");

    let first = draft_for(stack, &domain);
    send_and_finish(stack, &first, confirmed_total(stack));
    let mails = assert_delivered_once(
        stack,
        &first,
        &[(leaving.clone(), "en"), (staying.clone(), "vi")],
    );
    let path = unsubscribe_path(&mails[0]);

    // The link's page (what a scanner or a click loads) changes nothing.
    for _ in 0..2 {
        let html = assert_html(&stack.get(&path), 200);
        assert!(html.contains("<form"), "{html}");
        assert!(
            html.to_ascii_lowercase().contains("method=\"post\""),
            "{html}"
        );
        assert!(html.contains("/unsubscribe?token="), "{html}");
        assert!(html.contains("One-Click"), "{html}");
    }
    assert_eq!(subscriber_status(stack, &leaving), "confirmed");

    // RFC 8058 one-click, then JSON, then once more: all 200.
    assert_unsubscribed(&one_click(stack, &path));
    assert_eq!(subscriber_status(stack, &leaving), "unsubscribed");
    assert_unsubscribed(
        &stack
            .request("POST", "/unsubscribe")
            .json(&json!({"token": token_of(&path)}))
            .send(),
    );
    // An empty body (the token in the query): declared as such, and sent
    // with no Content-Type at all (the gateway once refused that with 415).
    assert_unsubscribed(&stack.request("POST", &path).body(Vec::new()).send());
    assert_unsubscribed(&stack.request("POST", &path).send());
    assert_unsubscribed(&one_click(stack, &path));
    let row = subscriber(stack, &leaving);
    assert_eq!(row["status"], "unsubscribed", "{row:#}");

    let second = draft_for(stack, &domain);
    send_and_finish(stack, &second, confirmed_total(stack));
    assert_delivered_once(stack, &second, &[(staying.clone(), "vi")]);
    assert_not_delivered(stack, &second, std::slice::from_ref(&leaving));
    // The first campaign's email is still the only one it got.
    assert_eq!(
        mails_with_subject(stack, &leaving, &campaign_subject(&first, "en")).len(),
        1
    );
}

fn campaigns_a_consumer_crash_between_send_and_ack_still_delivers_exactly_once(stack: &Stack) {
    let domain = scenario_domain();
    let recipients = seeded(stack, "crash", &[("en", 3), ("vi", 2)], &domain);
    set_fault(stack, "crash", &format!("@{domain}"), 1);
    let campaign = draft_for(stack, &domain);
    let id = campaign_id(&campaign);
    send_and_finish(stack, &campaign, confirmed_total(stack));
    clear_faults(stack, &format!("@{domain}"));
    assert_delivered_once(stack, &campaign, &recipients);
    let crashes = log_lines_about(stack, &id, "crash");
    assert!(
        !crashes.is_empty(),
        "the campaigns worker never logged the injected crash for campaign {id}: the fault \
         was not taken, so this run proves nothing"
    );
}

fn campaigns_provider_5xx_and_429_bursts_and_a_lost_answer_still_deliver_exactly_once(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let recipients = seeded(stack, "flaky", &[("en", 3), ("vi", 3)], &domain);
    let matching = format!("@{domain}");
    set_fault(stack, "5xx", &matching, 4);
    set_fault(stack, "429", &matching, 2);
    set_fault(stack, "timeout", &matching, 1);
    let campaign = draft_for(stack, &domain);
    let id = campaign_id(&campaign);
    let done = send_and_finish(stack, &campaign, confirmed_total(stack));
    clear_faults(stack, &matching);
    assert_delivered_once(stack, &campaign, &recipients);
    eprintln!(
        "e2e: campaign {id} finished at {} after {} retry log lines",
        done["finishedAt"],
        log_lines_about(stack, &id, "retried").len()
    );
}

fn campaigns_a_scheduled_campaign_starts_only_when_due_and_is_delivered_once(stack: &Stack) {
    let domain = scenario_domain();
    let tag = random_hex(3);
    let recipients = seeded(stack, "sched", &[("en", 2), ("vi", 2)], &domain);
    let due = unix_now() + 8;
    let mut input = campaign_input(&format!("{domain} {tag}"));
    input["scheduledAt"] = json!(rfc3339(due));
    let campaign = create_campaign(stack, &input);
    assert_eq!(status_of(&campaign), "scheduled", "{campaign:#}");
    let id = campaign_id(&campaign);
    assert_eq!(
        campaign["scheduledAt"].as_str().map(at_secs),
        Some(due),
        "{campaign:#}"
    );

    // Before it is due, the cron leaves it alone.
    assert!(stack.cron("campaigns"), "scripts/cron campaigns failed");
    assert!(
        unix_now() < due,
        "the cron took too long to check the early case"
    );
    let early = get_campaign(stack, &id);
    assert_eq!(status_of(&early), "scheduled", "{early:#}");
    assert!(early["startedAt"].is_null(), "{early:#}");
    assert_eq!(early["counts"]["total"], json!(0), "{early:#}");
    assert_not_delivered(
        stack,
        &campaign,
        &recipients
            .iter()
            .map(|(a, _)| a.clone())
            .collect::<Vec<_>>(),
    );

    // Due: overlapping cron runs start it once.
    let wait = due.saturating_sub(unix_now()) + 1;
    thread::sleep(Duration::from_secs(wait));
    let confirmed = confirmed_total(stack);
    at_once(stack, &id, 0, 2);
    let done = finished(stack, &id, confirmed);
    let started = done["startedAt"].as_str().map(at_secs).expect("startedAt");
    assert!(
        started >= due,
        "started at {started}, before it was due ({due})"
    );
    assert_delivered_once(stack, &campaign, &recipients);
}
