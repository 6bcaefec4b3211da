//! Campaigns clients for the e2e scenarios (API.md, Campaigns; Bootstrap and
//! local development): subscribing, the local dev inbox (`GET /__dev/mail`),
//! confirmation and unsubscribe links, the dev hooks (provider faults,
//! seeded confirmed subscribers), the admin subscriber list, creating,
//! sending and reading campaigns, and waits with deadlines (delivery is
//! asynchronous: a queue consumer, retries, a breaker, a cron).
//!
//! Scenarios run side by side on one stack: each uses its own email domain
//! ([`scenario_domain`]), so faults and inbox reads stay its own. Helpers
//! that expect a success assert it and show the whole answer when it is not
//! one.
//!
//! The parts: the dev inbox and the fake provider's faults (`inbox`), the
//! admin's subscriber list and seeded subscribers (`subscribers`), and
//! creating, sending and checking campaigns (`delivery`).
mod delivery;
mod inbox;
mod subscribers;

use std::thread;
use std::time::{Duration, Instant};

pub use delivery::{
    assert_delivered_once, assert_finished_counts, assert_not_delivered, campaign_id,
    campaign_input, campaign_subject, campaigns_log, create_campaign, get_campaign, send_campaign,
    status_of, try_create_campaign, wait_until_sent,
};
pub use inbox::{
    clear_faults, confirmation_token, inbox, link_token, mail_header, mails_with_subject,
    set_fault, subject_of, unsubscribe_path, wait_for_mail,
};
pub use subscribers::{
    admin_request, admin_token, all_subscribers, assert_offset_list, confirmed_total,
    seed_confirmed, subscriber, subscriber_status, subscribers_page,
};

use crate::{Reply, Stack, Value, json, random_hex};

/// How long a campaign may take to be delivered (faults and breaker pauses
/// included: the pauses double, 2 s, 4 s, 8 s…).
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(180);
/// How long an email sent while answering a request may take to show.
pub const MAIL_DEADLINE: Duration = Duration::from_secs(30);
/// How often a wait looks again.
pub const POLL: Duration = Duration::from_millis(500);
/// How often a wait that needs the cron runs it (the e2e lease is 2 s).
pub const CRON_EVERY: Duration = Duration::from_secs(2);
/// The one answer of every accepted `POST /subscribe`.
pub const SUBSCRIBE_MESSAGE: &str = "Check your inbox to confirm your subscription";
/// The Turnstile token that passes locally.
pub const TURNSTILE_PASS: &str = "dev-pass";
/// The Turnstile token that fails locally.
pub const TURNSTILE_FAIL: &str = "dev-fail";

/// An email domain no other scenario uses, `c-<hex>.test`.
pub fn scenario_domain() -> String {
    format!("c-{}.test", random_hex(5))
}

/// `{local}@{domain}`.
pub fn address(local: &str, domain: &str) -> String {
    format!("{local}@{domain}")
}

/// Encodes a query value (application/x-www-form-urlencoded, as the
/// server decodes queries).
pub fn query_escape(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Waits until `probe` gives something, running `between` after each miss;
/// panics with `what` (and the last miss, shown by `describe`) after `deadline`.
fn poll<T>(
    deadline: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, String>,
    mut between: impl FnMut(),
) -> T {
    let until = Instant::now() + deadline;
    loop {
        match probe() {
            Ok(found) => return found,
            Err(last) if Instant::now() > until => {
                panic!("e2e: gave up after {deadline:?} waiting for {what}; last seen: {last}")
            }
            Err(_) => {
                between();
                thread::sleep(POLL);
            }
        }
    }
}

// ------------------------------------------------------------ subscribing

/// The body of `POST /subscribe`.
pub fn subscribe_body(email: &str, locale: &str, turnstile: &str) -> Value {
    json!({"email": email, "locale": locale, "turnstileToken": turnstile})
}

/// `POST /subscribe` with `body` as client `ip`.
pub fn try_subscribe(stack: &Stack, body: &Value, ip: &str) -> Reply {
    stack
        .request("POST", "/subscribe")
        .client_ip(ip)
        .json(body)
        .send()
}

/// Asserts the one answer of an accepted subscription: 202
/// `{"success":true,"message":SUBSCRIBE_MESSAGE,"data":null}`.
#[track_caller]
pub fn assert_subscribe_accepted(reply: &Reply) {
    assert_eq!(reply.status, 202, "{reply}");
    assert_eq!(
        reply.json(),
        json!({"success": true, "message": SUBSCRIBE_MESSAGE, "data": null}),
        "{reply}"
    );
}

/// Subscribes `email` in `locale` from a fresh address; asserts 202.
pub fn subscribe(stack: &Stack, email: &str, locale: &str) -> Reply {
    let reply = try_subscribe(
        stack,
        &subscribe_body(email, locale, TURNSTILE_PASS),
        &crate::unique_ip(),
    );
    assert_subscribe_accepted(&reply);
    reply
}

// ------------------------------------------------------ confirm / unsubscribe

/// `POST /subscribe/confirm {token}`.
pub fn confirm(stack: &Stack, token: &str) -> Reply {
    stack
        .request("POST", "/subscribe/confirm")
        .json(&json!({"token": token}))
        .send()
}

/// Asserts 200 `{"success":true,…,"data":{"status":"confirmed"}}`.
#[track_caller]
pub fn assert_confirmed(reply: &Reply) {
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    assert_eq!(body["data"]["status"], json!("confirmed"), "{reply}");
}

/// Subscribes `email` in `locale` and confirms it through the link of the
/// confirmation email; returns the token used.
pub fn subscribe_confirmed(stack: &Stack, email: &str, locale: &str) -> String {
    subscribe(stack, email, locale);
    let token = confirmation_token(stack, email);
    assert_confirmed(&confirm(stack, &token));
    token
}

/// Subscribes an already confirmed `email` again and returns the
/// unsubscribe path of the "already subscribed" notice it gets.
pub fn notice_unsubscribe_path(stack: &Stack, email: &str, locale: &str) -> String {
    subscribe(stack, email, locale);
    let mail = wait_for_mail(stack, email, "an already-subscribed notice", |m| {
        mail_header(m, "List-Unsubscribe").is_some()
    });
    unsubscribe_path(&mail)
}

/// RFC 8058 one-click: `POST path` with the form body
/// `List-Unsubscribe=One-Click`.
pub fn one_click(stack: &Stack, path: &str) -> Reply {
    stack
        .request("POST", path)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
}

/// Asserts 200 `{"success":true,"message":…,"data":null}` of an unsubscribe.
#[track_caller]
pub fn assert_unsubscribed(reply: &Reply) {
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{reply}"
    );
}

/// A subscriber of `email` that confirmed and then unsubscribed (through
/// the notice's one-click link); returns that unsubscribe path.
pub fn subscribe_then_unsubscribe(stack: &Stack, email: &str, locale: &str) -> String {
    subscribe_confirmed(stack, email, locale);
    let path = notice_unsubscribe_path(stack, email, locale);
    assert_unsubscribed(&one_click(stack, &path));
    path
}

/// Asserts an HTML answer (`text/html`) with `status`; returns the page.
#[track_caller]
pub fn assert_html(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status, status, "{reply}");
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/html")),
        "not an HTML page: {reply}"
    );
    reply.text()
}
