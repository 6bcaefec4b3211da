//! Subscribers: double opt-in (`POST /subscribe`, the confirmation link and
//! its page), unsubscribing (RFC 8058 one-click, JSON, the page), the
//! admins' list and the dev seeding route, natively against SQLite with the
//! dev Turnstile (or a verifier answering what a test says), a recording
//! email provider, the provider's send-rate cell and a pause that moves the
//! manual clock.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{MINUTE, SITE, Step, World};
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, ApiResponse};
use sealpost_campaigns_core::bot_check;
use sealpost_campaigns_core::keys::CONFIRM_TTL_MS;
use sealpost_campaigns_core::ports::{
    DEV_PASS, DevTurnstile, OutgoingEmail, Turnstile, TurnstileAnswer,
};
use sealpost_campaigns_core::rate::Pause;
use sealpost_campaigns_core::settings::Settings;
use sealpost_campaigns_core::subscribers::{Failure, Subscriptions};
use sealpost_guard::Role;
use sealpost_ports::{PortError, SiteDb, SiteId, Statement};
use sealpost_testkit::{ManualClock, block_on};
use serde_json::{Value, json};

/// Fresh client IPs for [`World::subscribe`].
static NEXT_IP: AtomicUsize = AtomicUsize::new(0);

const IP: &str = "203.0.113.7";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// One request to the subscriptions service.
struct Req<'a> {
    route: RouteId,
    query: &'a str,
    body: Vec<u8>,
    content_type: Option<&'a str>,
    accept: Option<&'a str>,
    bearer: Option<&'a str>,
    ip: &'a str,
    dev: bool,
    /// What the bot check answers; `None`: the dev verifier on the site's
    /// page host, as the worker wires it locally.
    turnstile: Option<TurnstileAnswer>,
}

impl<'a> Req<'a> {
    fn new(route: RouteId) -> Req<'a> {
        Req {
            route,
            query: "",
            body: Vec::new(),
            content_type: None,
            accept: None,
            bearer: None,
            ip: IP,
            dev: false,
            turnstile: None,
        }
    }

    fn json(mut self, body: &Value) -> Req<'a> {
        self.body = body.to_string().into_bytes();
        self.content_type = Some(JSON);
        self
    }

    fn form(mut self, body: &str) -> Req<'a> {
        self.body = body.as_bytes().to_vec();
        self.content_type = Some(FORM);
        self
    }

    fn query(mut self, query: &'a str) -> Req<'a> {
        self.query = query;
        self
    }
}

fn body(r: &ApiResponse) -> Value {
    r.body_json().unwrap_or(Value::Null)
}

fn code(r: &ApiResponse) -> String {
    body(r)["error"]["code"].as_str().unwrap_or("").to_owned()
}

fn fields(r: &ApiResponse) -> Vec<String> {
    common::fields(&body(r))
}

fn text(r: &ApiResponse) -> String {
    String::from_utf8(r.body.clone()).expect("utf-8")
}

/// The token of the first link starting with `prefix` in `s`.
fn link_token(s: &str, prefix: &str) -> String {
    let at = s
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {s}"))
        + prefix.len();
    s[at..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .unwrap()
        .to_owned()
}

/// The bot check of one request: the dev verifier, or a fixed answer.
enum TestTurnstile {
    Dev(DevTurnstile),
    Answers(TurnstileAnswer),
}

impl Turnstile for TestTurnstile {
    async fn verify(&self, token: &str, client_ip: &str) -> Result<TurnstileAnswer, PortError> {
        match self {
            TestTurnstile::Dev(dev) => dev.verify(token, client_ip).await,
            TestTurnstile::Answers(answer) => Ok(answer.clone()),
        }
    }
}

/// Waiting for a send slot moves the world's manual clock.
struct ClockPause<'a>(&'a ManualClock);

impl Pause for ClockPause<'_> {
    async fn pause_ms(&self, ms: u32) {
        self.0.advance_ms(i64::from(ms));
    }
}

/// A passing siteverify answer for a page on `host`.
fn solved_on(host: &str) -> TurnstileAnswer {
    TurnstileAnswer {
        success: true,
        hostname: Some(host.to_owned()),
        challenge_ts: Some("2026-11-19T08:00:00.000Z".to_owned()),
        ..TurnstileAnswer::default()
    }
}

const CONFIRM_PREFIX: &str = "https://news.example.com/subscribe/confirm?token=";
const UNSUB_PREFIX: &str = "https://news.example.com/unsubscribe?token=";

impl World {
    fn serve(&self, req: Req<'_>) -> ApiResponse {
        let db = SiteDb::new(&self.db, SiteId::default_site());
        let turnstile = match req.turnstile.clone() {
            Some(answer) => TestTurnstile::Answers(answer),
            None => TestTurnstile::Dev(DevTurnstile::solved_on(
                block_on(bot_check::dev_page_host(&db)).expect("hosts"),
            )),
        };
        let settings = Settings::default();
        let service = Subscriptions {
            db,
            rate_sql: &self.db,
            settings: &settings,
            pause: &ClockPause(&self.clock),
            clock: &self.clock,
            rng: &self.rng,
            keys: &self.keys,
            turnstile: &turnstile,
            mailer: &self.mailer,
            limiter: Some(&self.limiter),
            verifier: Some(&self.verifier),
            dev: req.dev,
        };
        let mut api = ApiRequest::new(req.route, SiteId::default_site())
            .with_query(req.query)
            .with_client_ip(req.ip)
            .with_body(req.body.clone());
        if let Some(t) = req.bearer {
            api = api.with_bearer(t);
        }
        if let Some(ct) = req.content_type {
            api = api.with_header("content-type", ct);
        }
        if let Some(accept) = req.accept {
            api = api.with_header("accept", accept);
        }
        match block_on(service.handle(&api)) {
            Ok(r) => r,
            Err(Failure::Api(e)) => e.into_response(),
            Err(f) => panic!("internal failure: {f:?}"),
        }
    }

    /// `POST /subscribe` from `ip` with a passing bot check.
    fn subscribe_from(&self, ip: &str, email: &str, locale: &str) -> ApiResponse {
        let mut req = Req::new(RouteId::Subscribe).json(&json!({
            "email": email, "locale": locale, "turnstileToken": DEV_PASS
        }));
        req.ip = ip;
        self.serve(req)
    }

    /// `POST /subscribe` from a fresh IP each time (so the per-IP
    /// throttle stays out of the way).
    fn subscribe(&self, email: &str, locale: &str) -> ApiResponse {
        let n = NEXT_IP.fetch_add(1, Ordering::Relaxed);
        let ip = format!("10.{}.{}.{}", n / 62_500 % 250, n / 250 % 250, n % 250);
        self.subscribe_from(&ip, email, locale)
    }

    /// The subscriber row of `email` (every column), if any.
    fn row_of(&self, email: &str) -> Option<Value> {
        self.rows(
            Statement::new("SELECT * FROM subscribers WHERE site_id = ?1 AND email_index = ?2")
                .bind(SITE)
                .bind(self.keys.blind_index(email)),
        )
        .into_iter()
        .next()
    }

    fn status_of(&self, email: &str) -> String {
        self.row_of(email).expect("row")["status"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    fn mails(&self, to: &str) -> Vec<OutgoingEmail> {
        self.mailer.to(to)
    }

    /// The confirmation token of the newest email to `to`.
    fn confirm_token(&self, to: &str) -> String {
        let mails = self.mails(to);
        link_token(&mails.last().expect("an email").text, CONFIRM_PREFIX)
    }

    fn confirm_json(&self, token: &str) -> ApiResponse {
        self.serve(Req::new(RouteId::SubscribeConfirm).json(&json!({ "token": token })))
    }

    fn confirm_page(&self, token: &str) -> ApiResponse {
        let q = format!("token={token}");
        self.serve(Req::new(RouteId::SubscribeConfirmPage).query(&q))
    }

    fn unsubscribe_one_click(&self, token: &str) -> ApiResponse {
        let q = format!("token={token}");
        self.serve(
            Req::new(RouteId::Unsubscribe)
                .query(&q)
                .form("List-Unsubscribe=One-Click"),
        )
    }

    /// A subscriber who went through the whole opt-in; returns their id.
    fn confirmed_subscriber(&self, email: &str, locale: &str) -> String {
        assert_eq!(self.subscribe(email, locale).status, 202);
        let token = self.confirm_token(email);
        assert_eq!(self.confirm_json(&token).status, 200);
        self.row_of(email).expect("row")["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn admin_list(&self, bearer: Option<&str>, query: &str) -> ApiResponse {
        let mut req = Req::new(RouteId::AdminSubscribers).query(query);
        req.bearer = bearer;
        self.serve(req)
    }

    fn dev_seed(&self, dev: bool, body: &Value) -> ApiResponse {
        let mut req = Req::new(RouteId::DevSubscribers).json(body);
        req.dev = dev;
        self.serve(req)
    }

    fn count_of(&self, sql: &str) -> i64 {
        self.scalar(sql).as_i64().unwrap_or(-1)
    }
}

// ---- POST /subscribe ---------------------------------------------------------

#[test]
fn every_accepted_subscribe_gets_the_same_202_whatever_the_address_state() {
    let w = World::new(1);
    w.subscriber("confirmed@example.com", "en", "confirmed");
    w.subscriber("gone@example.com", "vi", "unsubscribed");
    w.subscriber("waiting@example.com", "en", "pending");
    let answers: Vec<ApiResponse> = [
        "new@example.com",
        "waiting@example.com",
        "confirmed@example.com",
        "gone@example.com",
    ]
    .iter()
    .map(|e| w.subscribe(e, "en"))
    .collect();
    for a in &answers {
        assert_eq!(a.status, 202);
        assert_eq!(a.headers, answers[0].headers);
        assert_eq!(a.body, answers[0].body, "byte-identical answers");
    }
    assert_eq!(
        body(&answers[0]),
        json!({"success": true, "message": "Check your inbox to confirm your subscription", "data": null})
    );
    // Each got exactly one email.
    for e in [
        "new@example.com",
        "waiting@example.com",
        "confirmed@example.com",
        "gone@example.com",
    ] {
        assert_eq!(w.mails(e).len(), 1, "{e}");
    }
}

#[test]
fn a_failed_bot_check_is_refused_and_stores_nothing() {
    let w = World::new(2);
    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({
        "email": "bot@example.com", "locale": "en", "turnstileToken": "dev-fail"
    })));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "TURNSTILE_FAILED");
    assert!(w.row_of("bot@example.com").is_none());
    assert_eq!(w.mailer.calls.get(), 0);
}

#[test]
fn too_many_subscribes_from_one_ip_are_throttled_with_retry_after() {
    let w = World::new(3);
    // The world's limiter allows 5 a minute per IP.
    for i in 0..5 {
        let r = w.subscribe_from(IP, &format!("p{i}@example.com"), "en");
        assert_eq!(r.status, 202, "request {i}");
    }
    let r = w.subscribe_from(IP, "p5@example.com", "en");
    assert_eq!(r.status, 429);
    assert_eq!(code(&r), "RATE_LIMITED");
    assert_eq!(r.header("retry-after"), Some("60"));
    assert!(w.row_of("p5@example.com").is_none(), "nothing stored");
    // Another visitor is not affected, and the next minute is open again.
    assert_eq!(
        w.subscribe_from("192.0.2.1", "q@example.com", "en").status,
        202
    );
    w.clock.advance_ms(MINUTE);
    assert_eq!(w.subscribe_from(IP, "p5@example.com", "en").status, 202);
}

#[test]
fn invalid_subscribe_bodies_name_every_bad_field() {
    let w = World::new(4);
    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({
        "email": "not an address", "locale": "fr", "turnstileToken": ""
    })));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["email", "locale", "turnstileToken"]);

    let long = format!("{}@example.com", "a".repeat(250));
    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({
        "email": long, "locale": "en", "turnstileToken": "x".repeat(2049)
    })));
    assert_eq!(fields(&r), vec!["email", "turnstileToken"]);

    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({
        "email": "a@example.com", "locale": "en", "turnstileToken": DEV_PASS, "name": "A"
    })));
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["name"]);

    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({"email": "a@example.com"})));
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(w.count_of("SELECT COUNT(*) FROM subscribers"), 0);
    assert_eq!(w.mailer.calls.get(), 0);
}

#[test]
fn the_stored_subscriber_holds_no_plaintext_address() {
    let w = World::new(5);
    assert_eq!(
        w.subscribe("  Secret.Person@Example.org ", "vi").status,
        202
    );
    let row = w
        .row_of("secret.person@example.org")
        .expect("stored under the normalised address");
    let dump = row.to_string().to_lowercase();
    assert!(!dump.contains("secret"), "{dump}");
    assert!(!dump.contains("example.org"), "{dump}");
    let id = row["id"].as_str().unwrap();
    let sealed = row["email_sealed"].as_str().unwrap();
    assert_eq!(
        w.keys.open_email(SITE, id, sealed).as_deref(),
        Some("secret.person@example.org")
    );
    assert_eq!(row["status"], "pending");
    assert_eq!(row["locale"], "vi");
    assert_eq!(row["confirmed_at"], Value::Null);
}

#[test]
fn the_confirmation_email_carries_a_link_that_confirms_the_subscription() {
    let w = World::new(6);
    assert_eq!(w.subscribe("ann@example.com", "en").status, 202);
    let mails = w.mails("ann@example.com");
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.subject, "Confirm your subscription");
    assert!(
        mail.html
            .contains("href=\"https://news.example.com/subscribe/confirm?token=")
    );
    let token = link_token(&mail.text, CONFIRM_PREFIX);

    // The page shows a form posting the token; the button's POST confirms.
    let page = w.confirm_page(&token);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = text(&page);
    assert!(html.contains("<form method=\"post\" action=\"/subscribe/confirm\">"));
    assert!(html.contains(&format!("name=\"token\" value=\"{token}\"")));

    let r = w.confirm_json(&token);
    assert_eq!(r.status, 200);
    assert_eq!(
        body(&r),
        json!({"success": true, "message": "Subscription confirmed", "data": {"status": "confirmed"}})
    );
    let row = w.row_of("ann@example.com").unwrap();
    assert_eq!(row["status"], "confirmed");
    assert_eq!(row["confirmed_at"], json!(w.now()));
    // A second click is fine.
    assert_eq!(w.confirm_json(&token).status, 200);
    assert_eq!(w.status_of("ann@example.com"), "confirmed");
}

#[test]
fn a_vietnamese_subscriber_gets_the_vietnamese_email() {
    let w = World::new(7);
    w.subscribe("binh@example.com", "vi");
    let mail = &w.mails("binh@example.com")[0];
    assert_eq!(mail.subject, "Xác nhận đăng ký nhận bản tin");
    assert!(mail.html.contains("lang=\"vi\""));
}

#[test]
fn opening_the_confirmation_page_changes_nothing() {
    let w = World::new(8);
    w.subscribe("scanner@example.com", "en");
    let before = w.row_of("scanner@example.com").unwrap();
    let token = w.confirm_token("scanner@example.com");
    for _ in 0..3 {
        assert_eq!(w.confirm_page(&token).status, 200);
    }
    assert_eq!(w.row_of("scanner@example.com").unwrap(), before);
    assert_eq!(before["status"], "pending");
}

#[test]
fn a_browser_form_confirmation_gets_an_html_page() {
    let w = World::new(9);
    w.subscribe("form@example.com", "en");
    let token = w.confirm_token("form@example.com");
    let mut req = Req::new(RouteId::SubscribeConfirm).form(&format!("token={token}"));
    req.accept = Some(BROWSER);
    let r = w.serve(req);
    assert_eq!(r.status, 200);
    assert!(text(&r).contains("Subscription confirmed"));
    assert_eq!(w.status_of("form@example.com"), "confirmed");
    // A form without Accept: text/html gets JSON.
    let r = w.serve(Req::new(RouteId::SubscribeConfirm).form(&format!("token={token}")));
    assert_eq!(body(&r)["data"]["status"], "confirmed");
}

#[test]
fn expired_and_tampered_confirmation_links_are_refused() {
    let w = World::new(10);
    w.subscribe("late@example.com", "en");
    let token = w.confirm_token("late@example.com");

    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let r = w.confirm_json(&tampered);
    assert_eq!((r.status, code(&r)), (400, "TOKEN_INVALID".to_owned()));
    assert_eq!(w.confirm_page(&tampered).status, 400);
    assert_eq!(w.confirm_page("").status, 400);
    let missing = w.serve(Req::new(RouteId::SubscribeConfirmPage));
    assert_eq!(missing.status, 400);
    assert!(text(&missing).contains("Invalid or expired link"));

    w.clock.advance_ms(CONFIRM_TTL_MS + 1);
    let r = w.confirm_json(&token);
    assert_eq!((r.status, code(&r)), (400, "TOKEN_INVALID".to_owned()));
    assert_eq!(w.confirm_page(&token).status, 400);
    assert_eq!(w.status_of("late@example.com"), "pending");
}

#[test]
fn a_confirmation_without_a_token_names_the_field() {
    let w = World::new(11);
    let r = w.serve(Req::new(RouteId::SubscribeConfirm));
    assert_eq!(fields(&r), vec!["token"]);
    let r = w.serve(Req::new(RouteId::SubscribeConfirm).json(&json!({"token": "x", "more": 1})));
    assert_eq!(fields(&r), vec!["more"]);
    let r = w.serve(Req::new(RouteId::SubscribeConfirm).form("token=x&more=1"));
    assert_eq!(fields(&r), vec!["more"]);
}

#[test]
fn resubscribing_after_unsubscribing_needs_a_new_confirmation_and_old_links_die() {
    let w = World::new(12);
    let id = w.confirmed_subscriber("again@example.com", "en");
    let old = w.confirm_token("again@example.com");
    let r = w.unsubscribe_one_click(&w.keys.unsubscribe_token(&id));
    assert_eq!(r.status, 200);
    assert_eq!(w.status_of("again@example.com"), "unsubscribed");
    // The old link does not bring them back.
    assert_eq!(code(&w.confirm_json(&old)), "TOKEN_INVALID");
    assert_eq!(w.status_of("again@example.com"), "unsubscribed");

    assert_eq!(w.subscribe("again@example.com", "vi").status, 202);
    let row = w.row_of("again@example.com").unwrap();
    assert_eq!(row["status"], "pending");
    assert_eq!(row["locale"], "vi");
    assert_eq!(row["confirmed_at"], Value::Null);
    assert_eq!(row["id"], json!(id), "same subscriber");
    assert_eq!(code(&w.confirm_json(&old)), "TOKEN_INVALID");
    let new = w.confirm_token("again@example.com");
    assert_ne!(new, old);
    assert_eq!(w.confirm_json(&new).status, 200);
    assert_eq!(w.status_of("again@example.com"), "confirmed");
}

#[test]
fn a_confirmed_address_subscribing_again_gets_a_note_with_its_unsubscribe_link() {
    let w = World::new(13);
    let id = w.confirmed_subscriber("known@example.com", "en");
    let before = w.row_of("known@example.com").unwrap();
    assert_eq!(w.subscribe("known@example.com", "vi").status, 202);
    let after = w.row_of("known@example.com").unwrap();
    assert_eq!(after["status"], "confirmed");
    assert_eq!(
        after["locale"], "en",
        "a confirmed subscriber is left as is"
    );
    assert_eq!(after["confirmed_at"], before["confirmed_at"]);

    let mails = w.mails("known@example.com");
    assert_eq!(mails.len(), 2);
    let note = &mails[1];
    assert_eq!(note.subject, "You are already subscribed");
    let token = link_token(&note.text, UNSUB_PREFIX);
    assert_eq!(w.keys.check_unsubscribe(&token), Some(id));
    assert!(note.headers.contains(&(
        "List-Unsubscribe".to_owned(),
        format!("<{UNSUB_PREFIX}{token}>")
    )));
    assert!(note.headers.contains(&(
        "List-Unsubscribe-Post".to_owned(),
        "List-Unsubscribe=One-Click".to_owned()
    )));
}

#[test]
fn the_email_budget_sends_three_in_a_row_then_one_per_ten_minutes_and_still_answers_202() {
    let w = World::new(14);
    for i in 0..4 {
        let r = w.subscribe("eager@example.com", "en");
        assert_eq!(r.status, 202, "request {i}");
    }
    assert_eq!(
        w.mails("eager@example.com").len(),
        3,
        "the 4th sends nothing"
    );
    w.clock.advance_ms(5 * MINUTE);
    assert_eq!(w.subscribe("eager@example.com", "en").status, 202);
    assert_eq!(w.mails("eager@example.com").len(), 3);
    w.clock.advance_ms(5 * MINUTE);
    assert_eq!(w.subscribe("eager@example.com", "en").status, 202);
    assert_eq!(
        w.mails("eager@example.com").len(),
        4,
        "one more after 10 minutes"
    );
    // Every email used a distinct idempotency key.
    let mut keys: Vec<String> = w
        .mails("eager@example.com")
        .into_iter()
        .map(|m| m.idempotency_key)
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), 4);
}

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

// ---- unsubscribing -----------------------------------------------------------

#[test]
fn one_click_unsubscribe_with_the_rfc_8058_form_unsubscribes() {
    let w = World::new(20);
    let id = w.confirmed_subscriber("leave@example.com", "en");
    let r = w.unsubscribe_one_click(&w.keys.unsubscribe_token(&id));
    assert_eq!(r.status, 200);
    assert_eq!(
        body(&r),
        json!({"success": true, "message": "You have been unsubscribed", "data": null})
    );
    let row = w.row_of("leave@example.com").unwrap();
    assert_eq!(row["status"], "unsubscribed");
    assert_eq!(row["unsubscribed_at"], json!(w.now()));
    // Again: still 200, nothing moves.
    w.clock.advance_ms(MINUTE);
    assert_eq!(
        w.unsubscribe_one_click(&w.keys.unsubscribe_token(&id))
            .status,
        200
    );
    assert_eq!(
        w.row_of("leave@example.com").unwrap()["unsubscribed_at"],
        row["unsubscribed_at"]
    );
}

#[test]
fn unsubscribe_takes_the_token_from_a_json_body_or_the_query_with_an_empty_body() {
    let w = World::new(21);
    let a = w.confirmed_subscriber("json@example.com", "en");
    let b = w.confirmed_subscriber("query@example.com", "en");
    let r = w.serve(
        Req::new(RouteId::Unsubscribe).json(&json!({"token": w.keys.unsubscribe_token(&a)})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(w.status_of("json@example.com"), "unsubscribed");

    let q = format!("token={}", w.keys.unsubscribe_token(&b));
    let r = w.serve(Req::new(RouteId::Unsubscribe).query(&q));
    assert_eq!(r.status, 200);
    assert_eq!(w.status_of("query@example.com"), "unsubscribed");

    let r = w.serve(Req::new(RouteId::Unsubscribe).query(&q).json(&json!({})));
    assert_eq!(r.status, 200);
    let r = w.serve(Req::new(RouteId::Unsubscribe));
    assert_eq!(fields(&r), vec!["token"]);
}

#[test]
fn one_click_unsubscribe_also_takes_the_multipart_form_rfc_8058_allows() {
    let w = World::new(23);
    let a = w.confirmed_subscriber("multi@example.com", "en");
    let b = w.confirmed_subscriber("multi-bad@example.com", "en");
    let multipart = |token: &str, value: &str| {
        let q = format!("token={token}");
        let body = format!(
            "--xyz\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n\
             {value}\r\n--xyz--\r\n"
        );
        let mut req = Req::new(RouteId::Unsubscribe).query(&q);
        req.body = body.into_bytes();
        req.content_type = Some("multipart/form-data; boundary=xyz");
        w.serve(req)
    };
    assert_eq!(
        multipart(&w.keys.unsubscribe_token(&a), "One-Click").status,
        200
    );
    assert_eq!(w.status_of("multi@example.com"), "unsubscribed");
    let r = multipart(&w.keys.unsubscribe_token(&b), "Two-Clicks");
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(w.status_of("multi-bad@example.com"), "confirmed");
}

#[test]
fn other_form_content_on_unsubscribe_is_refused() {
    let w = World::new(22);
    let id = w.confirmed_subscriber("stay@example.com", "en");
    let q = format!("token={}", w.keys.unsubscribe_token(&id));
    for form in [
        "List-Unsubscribe=Two-Clicks",
        "List-Unsubscribe=One-Click&x=1",
        "foo=bar",
    ] {
        let r = w.serve(Req::new(RouteId::Unsubscribe).query(&q).form(form));
        assert_eq!(code(&r), "VALIDATION_FAILED", "{form}");
    }
    assert_eq!(w.status_of("stay@example.com"), "confirmed");
}

#[test]
fn forged_unsubscribe_tokens_are_refused() {
    let w = World::new(23);
    let id = w.confirmed_subscriber("victim@example.com", "en");
    let genuine = w.keys.unsubscribe_token(&id);
    let (_, tag) = genuine.split_once('.').unwrap();
    for forged in [
        format!("{id}.{}", "A".repeat(tag.len())),
        format!("{}.{tag}", "0".repeat(32)),
        id.clone(),
        "garbage".to_owned(),
    ] {
        let r = w.unsubscribe_one_click(&forged);
        assert_eq!(
            (r.status, code(&r)),
            (400, "TOKEN_INVALID".to_owned()),
            "{forged}"
        );
        let q = format!("token={forged}");
        assert_eq!(
            w.serve(Req::new(RouteId::UnsubscribePage).query(&q)).status,
            400
        );
    }
    assert_eq!(w.status_of("victim@example.com"), "confirmed");
}

#[test]
fn opening_the_unsubscribe_page_changes_nothing_and_shows_a_one_click_form() {
    let w = World::new(24);
    let id = w.confirmed_subscriber("look@example.com", "en");
    let before = w.row_of("look@example.com").unwrap();
    let token = w.keys.unsubscribe_token(&id);
    let q = format!("token={token}");
    let r = w.serve(Req::new(RouteId::UnsubscribePage).query(&q));
    assert_eq!(r.status, 200);
    let html = text(&r);
    assert!(html.contains(&format!(
        "<form method=\"post\" action=\"/unsubscribe?token={token}\">"
    )));
    assert!(html.contains("name=\"List-Unsubscribe\" value=\"One-Click\""));
    assert_eq!(w.row_of("look@example.com").unwrap(), before);

    // The button's browser POST gets a page back.
    let mut req = Req::new(RouteId::Unsubscribe)
        .query(&q)
        .form("List-Unsubscribe=One-Click");
    req.accept = Some(BROWSER);
    let r = w.serve(req);
    assert_eq!(r.status, 200);
    assert!(text(&r).contains("You have been unsubscribed"));
    assert_eq!(w.status_of("look@example.com"), "unsubscribed");
}

#[test]
fn a_genuine_token_of_an_unknown_subscriber_still_answers_200() {
    let w = World::new(25);
    let r = w.unsubscribe_one_click(&w.keys.unsubscribe_token(&"ab".repeat(16)));
    assert_eq!(r.status, 200);
}

#[test]
fn unsubscribing_skips_the_subscribers_pending_deliveries_only() {
    let w = World::new(26);
    let leaving = w.confirmed_subscriber("mid@example.com", "en");
    let staying = w.confirmed_subscriber("rest@example.com", "en");
    let running = w.campaign("sending");
    let earlier = w.campaign("sending");
    for (campaign, subscriber, status) in [
        (&running, &leaving, "pending"),
        (&running, &staying, "pending"),
        (&earlier, &leaving, "sent"),
    ] {
        w.sql(
            Statement::new(
                "INSERT INTO campaign_deliveries (site_id, campaign_id, subscriber_id, status) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(SITE)
            .bind(campaign.as_str())
            .bind(subscriber.as_str())
            .bind(status),
        );
    }
    assert_eq!(
        w.unsubscribe_one_click(&w.keys.unsubscribe_token(&leaving))
            .status,
        200
    );
    assert_eq!(w.ledger(&running)[&leaving], "skipped");
    assert_eq!(w.ledger(&running)[&staying], "pending");
    assert_eq!(w.ledger(&earlier)[&leaving], "sent");
}

// ---- GET /admin/subscribers ----------------------------------------------------

#[test]
fn the_admin_list_needs_an_admin_with_a_second_factor() {
    let w = World::new(30);
    let r = w.admin_list(None, "");
    assert_eq!((r.status, code(&r)), (401, "AUTH_REQUIRED".to_owned()));
    let editor = w.user("ed", &[Role::Editor], &["pwd", "otp"]);
    assert_eq!(w.admin_list(Some(&editor), "").status, 403);
    let no_otp = w.user("nootp", &[Role::Admin], &["pwd"]);
    assert_eq!(w.admin_list(Some(&no_otp), "").status, 403);
    let admin = w.admin("root");
    assert_eq!(w.admin_list(Some(&admin), "").status, 200);
}

#[test]
fn the_admin_list_shows_decrypted_addresses_newest_first_with_filters_and_paging() {
    let w = World::new(31);
    let admin = w.admin("root");
    let first = w.confirmed_subscriber("first@alpha.test", "en");
    w.clock.advance_ms(1000);
    w.subscribe("second@beta.test", "vi");
    w.clock.advance_ms(1000);
    w.subscriber("third@alpha.test", "en", "unsubscribed");

    let r = w.admin_list(Some(&admin), "");
    assert_eq!(r.status, 200);
    let b = body(&r);
    let emails: Vec<&str> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        vec!["third@alpha.test", "second@beta.test", "first@alpha.test"]
    );
    assert_eq!(
        b["pagination"],
        json!({"page": 1, "pageSize": 20, "totalItems": 3, "totalPages": 1})
    );
    let item = &b["data"][2];
    assert_eq!(item["id"], json!(first));
    assert_eq!(item["locale"], "en");
    assert_eq!(item["status"], "confirmed");
    assert!(item["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(item["confirmedAt"].is_string());
    assert_eq!(b["data"][1]["confirmedAt"], Value::Null);
    let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 6);

    let only = |q: &str| -> Vec<String> {
        body(&w.admin_list(Some(&admin), q))["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["email"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(only("status=pending"), vec!["second@beta.test"]);
    assert_eq!(only("status=confirmed"), vec!["first@alpha.test"]);
    assert_eq!(only("pageSize=1&page=2"), vec!["second@beta.test"]);
    // Search: a full address (any case) exactly, a part by substring.
    assert_eq!(only("q=FIRST@alpha.test"), vec!["first@alpha.test"]);
    assert_eq!(
        only("q=first@alpha.test&status=pending"),
        Vec::<String>::new()
    );
    assert_eq!(
        only("q=ALPHA"),
        vec!["third@alpha.test", "first@alpha.test"]
    );
    assert_eq!(
        only("q=alpha&status=unsubscribed"),
        vec!["third@alpha.test"]
    );
    assert_eq!(only("q=alpha&pageSize=1&page=2"), vec!["first@alpha.test"]);
    assert_eq!(only("q=nobody"), Vec::<String>::new());
    let r = w.admin_list(Some(&admin), "q=alpha&pageSize=1");
    assert_eq!(body(&r)["pagination"]["totalItems"], 2);
    assert_eq!(body(&r)["pagination"]["totalPages"], 2);
}

#[test]
fn bad_admin_list_parameters_are_validation_errors() {
    let w = World::new(32);
    let admin = w.admin("root");
    let r = w.admin_list(Some(&admin), "status=sent&page=0&pageSize=101");
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["page", "pageSize", "status"]);
    let q = format!("q={}", "a".repeat(255));
    assert_eq!(fields(&w.admin_list(Some(&admin), &q)), vec!["q"]);
    // Unknown parameters are ignored.
    assert_eq!(w.admin_list(Some(&admin), "sort=email").status, 200);
}

#[test]
fn a_substring_search_over_more_than_20000_subscribers_asks_for_a_full_address() {
    let w = World::new(33);
    let admin = w.admin("root");
    // 20,001 rows straight into the table (their sealed addresses are
    // placeholders: the search must refuse before decrypting any).
    w.sql(
        Statement::new(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20001) \
             INSERT INTO subscribers (site_id, id, email_index, email_sealed, locale, status, \
             confirm_nonce, created_at, updated_at) \
             SELECT ?1, printf('%032x', i), printf('idx%d', i), 'x', 'en', \
             CASE WHEN i % 2 = 0 THEN 'confirmed' ELSE 'pending' END, 'n', i, i FROM n",
        )
        .bind(SITE),
    );
    let r = w.admin_list(Some(&admin), "q=example");
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["q"]);
    assert!(
        body(&r)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("full address")
    );
    // Narrowed by status to 10,000 rows, the search runs.
    let r = w.admin_list(Some(&admin), "q=example&status=confirmed");
    assert_eq!(r.status, 200);
    assert_eq!(body(&r)["pagination"]["totalItems"], 0);
    // A full address is an index lookup at any size.
    let r = w.admin_list(Some(&admin), "q=someone@example.com");
    assert_eq!(r.status, 200);
}

// ---- POST /__dev/subscribers -----------------------------------------------------

#[test]
fn dev_seeding_creates_confirmed_subscribers_only_in_dev_mode() {
    let w = World::new(40);
    let r = w.dev_seed(false, &json!({"prefix": "bench", "count": 3}));
    assert_eq!((r.status, code(&r)), (404, "NOT_FOUND".to_owned()));
    assert_eq!(w.count_of("SELECT COUNT(*) FROM subscribers"), 0);

    let r = w.dev_seed(
        true,
        &json!({"prefix": "bench", "count": 60, "locale": "vi", "domain": "Scn-1.test"}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        body(&r),
        json!({"success": true, "message": "Subscribers created", "data": {"created": 60}})
    );
    assert_eq!(
        w.count_of("SELECT COUNT(*) FROM subscribers WHERE status = 'confirmed' AND locale = 'vi' AND confirmed_at IS NOT NULL"),
        60
    );
    let row = w.row_of("bench-59@scn-1.test").expect("normalised address");
    let id = row["id"].as_str().unwrap();
    assert_eq!(
        w.keys
            .open_email(SITE, id, row["email_sealed"].as_str().unwrap())
            .as_deref(),
        Some("bench-59@scn-1.test")
    );
    // Again: nothing new.
    let r = w.dev_seed(
        true,
        &json!({"prefix": "bench", "count": 61, "domain": "scn-1.test"}),
    );
    assert_eq!(body(&r)["data"]["created"], 1);
}

#[test]
fn dev_seeding_validates_its_body() {
    let w = World::new(41);
    let r = w.dev_seed(
        true,
        &json!({"prefix": "", "count": 0, "locale": "fr", "domain": "nodot"}),
    );
    assert_eq!(fields(&r), vec!["domain", "prefix", "count", "locale"]);
    let r = w.dev_seed(true, &json!({"prefix": "a b", "count": 1}));
    assert_eq!(fields(&r), vec!["prefix"]);
    let r = w.dev_seed(true, &json!({"prefix": "a", "count": 20001}));
    assert_eq!(fields(&r), vec!["count"]);
    let r = w.dev_seed(true, &json!({"prefix": "a", "count": 1, "extra": true}));
    assert_eq!(fields(&r), vec!["extra"]);
}
