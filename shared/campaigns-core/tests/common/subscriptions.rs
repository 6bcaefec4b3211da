//! The subscriptions service as the subscriber tests call it: one request
//! type for every route, the bot check (the dev Turnstile on the site's page
//! host, or an answer a test fixes), a pause that moves the manual clock, and
//! the helpers that subscribe, confirm, unsubscribe and read the rows and
//! emails that result.
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{SITE, World};
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, ApiResponse};
use sealpost_campaigns_core::bot_check;
use sealpost_campaigns_core::ports::{
    DEV_PASS, DevTurnstile, OutgoingEmail, Turnstile, TurnstileAnswer,
};
use sealpost_campaigns_core::rate::Pause;
use sealpost_campaigns_core::settings::Settings;
use sealpost_campaigns_core::subscribers::{Failure, Subscriptions};
use sealpost_ports::{PortError, SiteDb, SiteId, Statement};
use sealpost_testkit::{ManualClock, block_on};
use serde_json::{Value, json};

/// Fresh client IPs for [`World::subscribe`].
static NEXT_IP: AtomicUsize = AtomicUsize::new(0);

pub const IP: &str = "203.0.113.7";
pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";
pub const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// One request to the subscriptions service.
pub struct Req<'a> {
    pub route: RouteId,
    pub query: &'a str,
    pub body: Vec<u8>,
    pub content_type: Option<&'a str>,
    pub accept: Option<&'a str>,
    pub bearer: Option<&'a str>,
    pub ip: &'a str,
    pub dev: bool,
    /// What the bot check answers; `None`: the dev verifier on the site's
    /// page host, as the worker wires it locally.
    pub turnstile: Option<TurnstileAnswer>,
}

impl<'a> Req<'a> {
    pub fn new(route: RouteId) -> Req<'a> {
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

    pub fn json(mut self, body: &Value) -> Req<'a> {
        self.body = body.to_string().into_bytes();
        self.content_type = Some(JSON);
        self
    }

    pub fn form(mut self, body: &str) -> Req<'a> {
        self.body = body.as_bytes().to_vec();
        self.content_type = Some(FORM);
        self
    }

    pub fn query(mut self, query: &'a str) -> Req<'a> {
        self.query = query;
        self
    }
}

pub fn body(r: &ApiResponse) -> Value {
    r.body_json().unwrap_or(Value::Null)
}

pub fn code(r: &ApiResponse) -> String {
    body(r)["error"]["code"].as_str().unwrap_or("").to_owned()
}

pub fn fields(r: &ApiResponse) -> Vec<String> {
    super::fields(&body(r))
}

pub fn text(r: &ApiResponse) -> String {
    String::from_utf8(r.body.clone()).expect("utf-8")
}

/// The token of the first link starting with `prefix` in `s`.
pub fn link_token(s: &str, prefix: &str) -> String {
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
pub struct ClockPause<'a>(pub &'a ManualClock);

impl Pause for ClockPause<'_> {
    async fn pause_ms(&self, ms: u32) {
        self.0.advance_ms(i64::from(ms));
    }
}

/// A passing siteverify answer for a page on `host`.
pub fn solved_on(host: &str) -> TurnstileAnswer {
    TurnstileAnswer {
        success: true,
        hostname: Some(host.to_owned()),
        challenge_ts: Some("2026-11-19T08:00:00.000Z".to_owned()),
        ..TurnstileAnswer::default()
    }
}

pub const CONFIRM_PREFIX: &str = "https://news.example.com/subscribe/confirm?token=";
pub const UNSUB_PREFIX: &str = "https://news.example.com/unsubscribe?token=";

impl World {
    pub fn serve(&self, req: Req<'_>) -> ApiResponse {
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
    pub fn subscribe_from(&self, ip: &str, email: &str, locale: &str) -> ApiResponse {
        let mut req = Req::new(RouteId::Subscribe).json(&json!({
            "email": email, "locale": locale, "turnstileToken": DEV_PASS
        }));
        req.ip = ip;
        self.serve(req)
    }

    /// `POST /subscribe` from a fresh IP each time (so the per-IP
    /// throttle stays out of the way).
    pub fn subscribe(&self, email: &str, locale: &str) -> ApiResponse {
        let n = NEXT_IP.fetch_add(1, Ordering::Relaxed);
        let ip = format!("10.{}.{}.{}", n / 62_500 % 250, n / 250 % 250, n % 250);
        self.subscribe_from(&ip, email, locale)
    }

    /// The subscriber row of `email` (every column), if any.
    pub fn row_of(&self, email: &str) -> Option<Value> {
        self.rows(
            Statement::new("SELECT * FROM subscribers WHERE site_id = ?1 AND email_index = ?2")
                .bind(SITE)
                .bind(self.keys.blind_index(email)),
        )
        .into_iter()
        .next()
    }

    pub fn status_of(&self, email: &str) -> String {
        self.row_of(email).expect("row")["status"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub fn mails(&self, to: &str) -> Vec<OutgoingEmail> {
        self.mailer.to(to)
    }

    /// The confirmation token of the newest email to `to`.
    pub fn confirm_token(&self, to: &str) -> String {
        let mails = self.mails(to);
        link_token(&mails.last().expect("an email").text, CONFIRM_PREFIX)
    }

    pub fn confirm_json(&self, token: &str) -> ApiResponse {
        self.serve(Req::new(RouteId::SubscribeConfirm).json(&json!({ "token": token })))
    }

    pub fn confirm_page(&self, token: &str) -> ApiResponse {
        let q = format!("token={token}");
        self.serve(Req::new(RouteId::SubscribeConfirmPage).query(&q))
    }

    pub fn unsubscribe_one_click(&self, token: &str) -> ApiResponse {
        let q = format!("token={token}");
        self.serve(
            Req::new(RouteId::Unsubscribe)
                .query(&q)
                .form("List-Unsubscribe=One-Click"),
        )
    }

    /// A subscriber who went through the whole opt-in; returns their id.
    pub fn confirmed_subscriber(&self, email: &str, locale: &str) -> String {
        assert_eq!(self.subscribe(email, locale).status, 202);
        let token = self.confirm_token(email);
        assert_eq!(self.confirm_json(&token).status, 200);
        self.row_of(email).expect("row")["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn admin_list(&self, bearer: Option<&str>, query: &str) -> ApiResponse {
        let mut req = Req::new(RouteId::AdminSubscribers).query(query);
        req.bearer = bearer;
        self.serve(req)
    }

    pub fn dev_seed(&self, dev: bool, body: &Value) -> ApiResponse {
        let mut req = Req::new(RouteId::DevSubscribers).json(body);
        req.dev = dev;
        self.serve(req)
    }

    pub fn count_of(&self, sql: &str) -> i64 {
        self.scalar(sql).as_i64().unwrap_or(-1)
    }
}
