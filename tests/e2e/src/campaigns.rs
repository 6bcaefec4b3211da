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
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::auth::{Session, admin_with_mfa, bearer_request, claims, refreshed};
use crate::{Call, Reply, Stack, Value, json, random_hex, unix_now};

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

// ------------------------------------------------------------ the dev inbox

/// Every email of the local inbox to `address`, newest first.
pub fn inbox(stack: &Stack, address: &str) -> Vec<Value> {
    let reply = stack.get(&format!("/__dev/mail?to={}", query_escape(address)));
    assert_eq!(reply.status, 200, "GET /__dev/mail?to={address}: {reply}");
    let body = reply.json();
    let mails = body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("GET /__dev/mail: no data[]: {reply}"))
        .clone();
    for mail in &mails {
        assert_eq!(
            mail["to"],
            json!(address),
            "an email to someone else: {mail:#}"
        );
    }
    mails
}

/// The `subject` of an email.
pub fn subject_of(mail: &Value) -> &str {
    mail["subject"].as_str().unwrap_or_default()
}

/// Header `name` of an email (case-insensitive), from its `headers` object.
pub fn mail_header(mail: &Value, name: &str) -> Option<String> {
    mail["headers"]
        .as_object()?
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

/// Waits for the newest email to `address` that `pred` accepts.
pub fn wait_for_mail(
    stack: &Stack,
    address: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    poll(
        MAIL_DEADLINE,
        &format!("{what} to {address}"),
        || {
            let mails = inbox(stack, address);
            mails
                .iter()
                .find(|m| pred(m))
                .cloned()
                .ok_or_else(|| format!("{} emails: {:?}", mails.len(), subjects(&mails)))
        },
        || {},
    )
}

fn subjects(mails: &[Value]) -> Vec<&str> {
    mails.iter().map(subject_of).collect()
}

/// The token of the first `{path}?token=…` link in an email's text (or
/// HTML), if any.
pub fn link_token(mail: &Value, path: &str) -> Option<String> {
    let needle = format!("{path}?token=");
    ["text", "html"].iter().find_map(|part| {
        let body = mail[*part].as_str()?;
        let at = body.find(&needle)? + needle.len();
        let token: String = body[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%'))
            .collect();
        (!token.is_empty()).then_some(token)
    })
}

/// Waits for a confirmation email to `address` and returns its token.
pub fn confirmation_token(stack: &Stack, address: &str) -> String {
    let mail = wait_for_mail(stack, address, "a confirmation email", |m| {
        link_token(m, "/subscribe/confirm").is_some()
    });
    link_token(&mail, "/subscribe/confirm").expect("a confirmation link")
}

/// The path and query of an email's `List-Unsubscribe` URL
/// (`<BASE_URL/unsubscribe?token=…>`), to call on the local gateway.
/// Asserts the https (or local gateway) URL and RFC 8058's `List-Unsubscribe-Post`.
#[track_caller]
pub fn unsubscribe_path(mail: &Value) -> String {
    let header = mail_header(mail, "List-Unsubscribe")
        .unwrap_or_else(|| panic!("no List-Unsubscribe header: {mail:#}"));
    let url = header
        .trim()
        .strip_prefix('<')
        .and_then(|h| h.strip_suffix('>'))
        .unwrap_or_else(|| panic!("List-Unsubscribe is not <URL>: {header:?}"));
    // Deployed, an https URL; the local stack's base URL is its gateway,
    // http://127.0.0.1:PORT (docs/adr/0016).
    let rest = url
        .strip_prefix("https://")
        .or_else(|| {
            url.strip_prefix("http://")
                .filter(|r| r.starts_with("127.0.0.1:"))
        })
        .unwrap_or_else(|| {
            panic!("List-Unsubscribe is neither https nor the local gateway: {url:?}")
        });
    let path = &rest[rest
        .find('/')
        .unwrap_or_else(|| panic!("no path in {url:?}"))..];
    assert!(
        path.starts_with("/unsubscribe?token="),
        "List-Unsubscribe does not point at /unsubscribe?token=: {url:?}"
    );
    assert_eq!(
        mail_header(mail, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click"),
        "{mail:#}"
    );
    path.to_owned()
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

// ---------------------------------------------------------------- dev hooks

/// `PUT /__dev/mail/faults`: the fake provider fails `count` times (`kind`
/// `5xx`, `429`, `timeout`, `crash`) for batches with a recipient containing
/// `matching`; count 0 clears.
pub fn set_fault(stack: &Stack, kind: &str, matching: &str, count: u32) {
    let reply = stack
        .request("PUT", "/__dev/mail/faults")
        .json(&json!({"kind": kind, "match": matching, "count": count}))
        .send();
    assert_eq!(reply.status, 200, "PUT /__dev/mail/faults {kind}: {reply}");
    assert_eq!(reply.json()["success"], json!(true), "{reply}");
}

/// Clears every fault kind on `matching`.
pub fn clear_faults(stack: &Stack, matching: &str) {
    for kind in ["5xx", "429", "timeout", "crash"] {
        set_fault(stack, kind, matching, 0);
    }
}

/// `POST /__dev/subscribers`: `count` confirmed subscribers
/// `{prefix}-{i}@{domain}` in `locale`; returns their addresses (read back
/// from the admin list).
pub fn seed_confirmed(
    stack: &Stack,
    prefix: &str,
    count: usize,
    locale: &str,
    domain: &str,
) -> Vec<String> {
    let reply = stack
        .request("POST", "/__dev/subscribers")
        .json(&json!({"prefix": prefix, "count": count, "locale": locale, "domain": domain}))
        .send();
    assert_eq!(reply.status, 201, "POST /__dev/subscribers: {reply}");
    assert_eq!(reply.json()["data"]["created"], json!(count), "{reply}");
    let mut addresses: Vec<String> =
        all_subscribers(stack, &format!("{prefix}-"), Some("confirmed"))
            .iter()
            .filter_map(|s| s["email"].as_str())
            .filter(|e| e.starts_with(&format!("{prefix}-")) && e.ends_with(&format!("@{domain}")))
            .map(str::to_owned)
            .collect();
    addresses.sort();
    assert_eq!(addresses.len(), count, "seeded {prefix}: {addresses:?}");
    addresses
}

// -------------------------------------------------------------------- admin

static ADMIN: Mutex<Option<Session>> = Mutex::new(None);
/// Refresh the admin's access token when it is older than this (it lives 15 min).
const ADMIN_REFRESH_AFTER_SECS: i64 = 10 * 60;

/// An access token of the shared admin (with its second factor), refreshed
/// here (same session, same `amr`) once it is older than ten minutes: the
/// campaign scenarios may run long after the admin logged in.
pub fn admin_token(stack: &Stack) -> String {
    let mut cache = ADMIN.lock().unwrap_or_else(|p| p.into_inner());
    let session = cache.get_or_insert_with(|| admin_with_mfa(stack).session);
    let iat = claims(&session.access)["iat"].as_i64().unwrap_or(0);
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    if now - iat > ADMIN_REFRESH_AFTER_SECS {
        *session = refreshed(stack, session);
    }
    session.access.clone()
}

/// `method path` as the shared admin.
pub fn admin_request(stack: &Stack, method: &str, path: &str) -> Call {
    bearer_request(stack, method, path, &admin_token(stack))
}

/// `GET /admin/subscribers?{query}` as the shared admin.
pub fn subscribers_page(stack: &Stack, query: &str) -> Reply {
    admin_request(stack, "GET", &format!("/admin/subscribers?{query}")).send()
}

/// Asserts the offset-list envelope; returns `(data, pagination)`.
#[track_caller]
pub fn assert_offset_list(reply: &Reply) -> (Vec<Value>, Value) {
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    let data = body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data[]: {reply}"))
        .clone();
    (data, body["pagination"].clone())
}

/// Every subscriber matching `q` (and `status`), through every page.
pub fn all_subscribers(stack: &Stack, q: &str, status: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let mut query = format!("q={}&pageSize=100&page={page}", query_escape(q));
        if let Some(s) = status {
            query.push_str(&format!("&status={s}"));
        }
        let (data, pagination) = assert_offset_list(&subscribers_page(stack, &query));
        out.extend(data);
        let pages = pagination["totalPages"].as_u64().unwrap_or(0);
        if page >= pages {
            break;
        }
    }
    out
}

/// The admin list's one item for `email` (searched by full address).
#[track_caller]
pub fn subscriber(stack: &Stack, email: &str) -> Value {
    let (data, _) = assert_offset_list(&subscribers_page(
        stack,
        &format!("q={}", query_escape(email)),
    ));
    assert_eq!(data.len(), 1, "one subscriber {email}: {data:#?}");
    assert_eq!(data[0]["email"], json!(email), "{data:#?}");
    data[0].clone()
}

/// The status of `email` in the admin list.
pub fn subscriber_status(stack: &Stack, email: &str) -> String {
    subscriber(stack, email)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// How many subscribers of the site are confirmed (the admin list's total).
pub fn confirmed_total(stack: &Stack) -> u64 {
    let (_, pagination) =
        assert_offset_list(&subscribers_page(stack, "status=confirmed&pageSize=1"));
    pagination["totalItems"]
        .as_u64()
        .unwrap_or_else(|| panic!("no totalItems: {pagination:#}"))
}

// ---------------------------------------------------------------- campaigns

/// A campaign body whose subjects carry `tag` (so its emails are told apart).
pub fn campaign_input(tag: &str) -> Value {
    json!({
        "subject": {"en": format!("Sealpost news {tag}"), "vi": format!("Bản tin Sealpost {tag}")},
        "body": {
            "en": format!("# Hello\n\nNews **{tag}** <script>alert(1)</script>"),
            "vi": format!("# Xin chào\n\nTin **{tag}**"),
        },
    })
}

/// The subject of `campaign` in `locale` (`en`, `vi`).
pub fn campaign_subject(campaign: &Value, locale: &str) -> String {
    campaign["subject"][locale]
        .as_str()
        .unwrap_or_else(|| panic!("no subject.{locale}: {campaign:#}"))
        .to_owned()
}

/// `POST /admin/campaigns` as the shared admin.
pub fn try_create_campaign(stack: &Stack, input: &Value) -> Reply {
    admin_request(stack, "POST", "/admin/campaigns")
        .json(input)
        .send()
}

/// Creates a campaign; asserts 201 and returns the campaign.
pub fn create_campaign(stack: &Stack, input: &Value) -> Value {
    let reply = try_create_campaign(stack, input);
    assert_eq!(reply.status, 201, "POST /admin/campaigns: {reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    assert!(body["data"]["id"].is_string(), "{reply}");
    body["data"].clone()
}

/// The id of a campaign.
pub fn campaign_id(campaign: &Value) -> String {
    campaign["id"].as_str().expect("campaign id").to_owned()
}

/// `POST /admin/campaigns/{id}/send`; asserts 202 and returns the campaign.
pub fn send_campaign(stack: &Stack, id: &str) -> Value {
    let reply = admin_request(stack, "POST", &format!("/admin/campaigns/{id}/send")).send();
    assert_eq!(reply.status, 202, "send {id}: {reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    assert_eq!(body["data"]["id"], json!(id), "{reply}");
    body["data"].clone()
}

/// `GET /admin/campaigns/{id}`; asserts 200 and returns `data`.
pub fn get_campaign(stack: &Stack, id: &str) -> Value {
    let reply = admin_request(stack, "GET", &format!("/admin/campaigns/{id}")).send();
    assert_eq!(reply.status, 200, "GET campaign {id}: {reply}");
    reply.json()["data"].clone()
}

/// The status of a campaign.
pub fn status_of(campaign: &Value) -> &str {
    campaign["status"].as_str().unwrap_or_default()
}

/// Waits until campaign `id` is `sent`, running the campaigns cron every
/// [`CRON_EVERY`] (leases expire, paused campaigns resume, stale work is
/// enqueued again only through it). Returns the campaign and every status
/// it was seen in, in order.
pub fn wait_until_sent(stack: &Stack, id: &str) -> (Value, Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    let mut last_cron = Instant::now();
    let campaign = poll(
        DELIVERY_DEADLINE,
        &format!("campaign {id} to be sent"),
        || {
            let c = get_campaign(stack, id);
            let status = status_of(&c).to_owned();
            if seen.last() != Some(&status) {
                eprintln!("e2e: campaign {id}: {status} {}", c["counts"]);
                seen.push(status.clone());
            }
            if status == "sent" {
                Ok(c)
            } else {
                Err(format!("{c:#}"))
            }
        },
        || {
            if last_cron.elapsed() >= CRON_EVERY {
                assert!(stack.cron("campaigns"), "scripts/cron campaigns failed");
                last_cron = Instant::now();
            }
        },
    );
    (campaign, seen)
}

/// The emails to `address` with exactly `subject`.
pub fn mails_with_subject(stack: &Stack, address: &str, subject: &str) -> Vec<Value> {
    inbox(stack, address)
        .into_iter()
        .filter(|m| subject_of(m) == subject)
        .collect()
}

/// Asserts that each `(address, locale)` got exactly one email of
/// `campaign`, with the subject of its locale and the list headers (an https
/// List-Unsubscribe and the RFC 8058 one-click header); returns the emails.
#[track_caller]
pub fn assert_delivered_once(
    stack: &Stack,
    campaign: &Value,
    recipients: &[(String, &str)],
) -> Vec<Value> {
    recipients
        .iter()
        .map(|(address, locale)| {
            let subject = campaign_subject(campaign, locale);
            let other = campaign_subject(campaign, if *locale == "vi" { "en" } else { "vi" });
            let all = inbox(stack, address);
            let mine: Vec<&Value> = all.iter().filter(|m| subject_of(m) == subject).collect();
            assert_eq!(
                mine.len(),
                1,
                "{address} ({locale}) should have exactly one email {subject:?}; inbox: {:?}",
                subjects(&all)
            );
            assert!(
                all.iter().all(|m| subject_of(m) != other),
                "{address} ({locale}) got the other locale's subject {other:?}: {:?}",
                subjects(&all)
            );
            let mail = mine[0].clone();
            unsubscribe_path(&mail);
            mail
        })
        .collect()
}

/// Asserts that none of `addresses` got an email of `campaign` (either locale).
#[track_caller]
pub fn assert_not_delivered(stack: &Stack, campaign: &Value, addresses: &[String]) {
    let subjects_of_campaign = [
        campaign_subject(campaign, "en"),
        campaign_subject(campaign, "vi"),
    ];
    for address in addresses {
        let all = inbox(stack, address);
        assert!(
            all.iter()
                .all(|m| !subjects_of_campaign.iter().any(|s| s == subject_of(m))),
            "{address} must not get campaign {}: {:?}",
            campaign["id"],
            subjects(&all)
        );
    }
}

/// Asserts the counts of a finished campaign: every ledger row final, none
/// failed, `sent` + `skipped` = `total`; returns `total`.
#[track_caller]
pub fn assert_finished_counts(campaign: &Value) -> u64 {
    assert_eq!(status_of(campaign), "sent", "{campaign:#}");
    let counts = &campaign["counts"];
    let n = |k: &str| {
        counts[k]
            .as_u64()
            .unwrap_or_else(|| panic!("no counts.{k}: {campaign:#}"))
    };
    assert_eq!(n("pending"), 0, "{campaign:#}");
    assert_eq!(n("failed"), 0, "{campaign:#}");
    let skipped = counts["skipped"].as_u64().unwrap_or(0);
    assert_eq!(n("sent") + skipped, n("total"), "{campaign:#}");
    assert!(campaign["finishedAt"].is_string(), "{campaign:#}");
    n("total")
}

/// The campaigns worker's log so far (`$RUN_DIR/campaigns.log`).
pub fn campaigns_log(stack: &Stack) -> String {
    std::fs::read_to_string(stack.run_dir().join("campaigns.log")).unwrap_or_default()
}
