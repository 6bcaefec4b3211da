//! Subscribing: double opt-in that answers alike for any address and
//! confirms only on a POST, the refusals of `POST /subscribe`, and links
//! that are tampered with, forged or outdated by a new subscription.
use std::thread;
use std::time::Duration;

use sealpost_e2e::campaigns::{
    TURNSTILE_FAIL, TURNSTILE_PASS, address, assert_confirmed, assert_html,
    assert_subscribe_accepted, assert_unsubscribed, confirm, confirmation_token, inbox, link_token,
    notice_unsubscribe_path, one_click, query_escape, scenario_domain, subscribe, subscribe_body,
    subscribe_confirmed, subscribe_then_unsubscribe, subscriber, subscriber_status, try_subscribe,
    wait_for_mail,
};
use sealpost_e2e::{Reply, Stack, json, random_hex, unique_ip, unix_now};

use super::token_of;

/// `token` with the first character of its MAC (after the last `.`) changed.
fn tamper(token: &str) -> String {
    let at = token.rfind('.').map_or(0, |i| i + 1);
    let mut chars: Vec<char> = token.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

pub(super) fn campaigns_subscribing_answers_alike_for_any_address_and_only_a_post_confirms(
    stack: &Stack,
) {
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

pub(super) fn campaigns_subscribe_refuses_a_failed_turnstile_bad_fields_and_an_eleventh_request_per_ip(
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

pub(super) fn campaigns_tampered_or_forged_links_are_refused_and_old_links_die_on_resubscribing(
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
