//! The campaigns' platform adapters: the `JOBS` queue ([`CfQueue`]), the
//! email provider ([`AnyMailer`]: Resend's batch API when deployed, the local
//! fake provider in dev), the bot check ([`AnyTurnstile`]: Cloudflare
//! siteverify when deployed, the contract's dev tokens in dev) and the timer
//! a subscribe waits on for its send slot ([`TimerPause`]).
use std::time::Duration;

use futures_util::future::{Either, select};
use sealpost_campaigns_core::outbox::DevOutbox;
use sealpost_campaigns_core::ports::{
    Accepted, Batch, DevTurnstile, Job, MAX_BATCH, Mailer, MailerError, Turnstile, TurnstileAnswer,
    WorkQueue,
};
use sealpost_campaigns_core::rate::Pause;
use sealpost_campaigns_core::resend;
use sealpost_cf::{CryptoRng, D1Sql, SystemClock};
use sealpost_ports::PortError;
use wasm_bindgen::JsValue;
use worker::{
    AbortController, BatchMessageBuilder, Delay, Env, Fetch, Headers, Method, Queue, Request,
    RequestInit,
};

/// Messages per `sendBatch` call (the platform's limit is 100).
const SEND_BATCH: usize = 100;
/// How long a provider call may take before its answer counts as lost.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a siteverify call may take.
const TURNSTILE_TIMEOUT: Duration = Duration::from_secs(10);

const SITEVERIFY_URL: &str = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/// The `JOBS` queue.
#[derive(Debug)]
pub struct CfQueue(pub Queue);

impl WorkQueue for CfQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), PortError> {
        for chunk in jobs.chunks(SEND_BATCH) {
            let batch = BatchMessageBuilder::new()
                .messages(chunk.iter().cloned())
                .build();
            self.0
                .send_batch(batch)
                .await
                .map_err(|e| PortError::Unavailable(format!("queue: {e}")))?;
        }
        Ok(())
    }
}

/// The provider of this deployment.
#[derive(Debug)]
pub enum AnyMailer<'a> {
    /// Local development: the fake provider in D1 (`GET /__dev/mail`).
    Dev(DevOutbox<'a, D1Sql, SystemClock, CryptoRng>),
    /// Resend, with its API key and the sender.
    Resend { api_key: String, from: String },
    /// Deployed without `RESEND_API_KEY`: every send fails (and the breaker
    /// pauses the campaign) until it is set.
    Unconfigured,
}

impl<'a> AnyMailer<'a> {
    pub fn new(env: &Env, sql: &'a D1Sql, dev: bool) -> AnyMailer<'a> {
        if dev {
            return AnyMailer::Dev(DevOutbox {
                sql,
                clock: &SystemClock,
                rng: &CryptoRng,
            });
        }
        let key = env.secret("RESEND_API_KEY").map(|s| s.to_string()).ok();
        let from = env
            .var("MAIL_FROM")
            .map(|v| v.to_string())
            .unwrap_or_default();
        match key.filter(|k| !k.trim().is_empty()) {
            Some(api_key) if !from.trim().is_empty() => AnyMailer::Resend { api_key, from },
            _ => AnyMailer::Unconfigured,
        }
    }
}

impl Mailer for AnyMailer<'_> {
    async fn send(&self, batch: &Batch) -> Result<Vec<Accepted>, MailerError> {
        match self {
            AnyMailer::Dev(outbox) => outbox.send(batch).await,
            AnyMailer::Resend { api_key, from } => resend(api_key, from, batch).await,
            AnyMailer::Unconfigured => Err(MailerError::Unavailable(
                "RESEND_API_KEY or MAIL_FROM is not set".into(),
            )),
        }
    }
}

/// POST /emails/batch (at most 100 emails) with the batch's own
/// `Idempotency-Key` and permissive validation; the answer is read by the
/// core (`resend::answer`), which decides what each status means.
async fn resend(api_key: &str, from: &str, batch: &Batch) -> Result<Vec<Accepted>, MailerError> {
    if batch.emails.is_empty() {
        return Ok(Vec::new());
    }
    if batch.emails.len() > MAX_BATCH {
        return Err(MailerError::Unavailable("batch larger than 100".into()));
    }
    let unavailable = |e: worker::Error| MailerError::Unavailable(e.to_string());
    let headers = Headers::new();
    headers
        .set("Authorization", &format!("Bearer {api_key}"))
        .map_err(unavailable)?;
    headers
        .set("Content-Type", "application/json")
        .map_err(unavailable)?;
    headers
        .set("Idempotency-Key", &batch.idempotency_key)
        .map_err(unavailable)?;
    let (name, mode) = resend::VALIDATION_HEADER;
    headers.set(name, mode).map_err(unavailable)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&resend::request_body(from, batch))));
    let req = Request::new_with_init(resend::BATCH_URL, &init).map_err(unavailable)?;
    let mut resp = match timed(Fetch::Request(req), PROVIDER_TIMEOUT).await {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(unavailable(e)),
        None => return Err(MailerError::Timeout),
    };
    let status = resp.status_code();
    let retry_after = resp.headers().get("retry-after").ok().flatten();
    // An unreadable body of a 2xx is an unknown outcome (the core treats
    // it so); of an error, the status alone decides.
    let body = resp.text().await.unwrap_or_default();
    resend::answer(status, &body, retry_after.as_deref(), batch.emails.len())
}

/// Runs a fetch with a deadline; `None` when the deadline won (the request
/// is aborted).
async fn timed(fetch: Fetch, limit: Duration) -> Option<worker::Result<worker::Response>> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let call = Box::pin(async move { fetch.send_with_signal(&signal).await });
    let deadline = Box::pin(Delay::from(limit));
    match select(call, deadline).await {
        Either::Left((resp, _)) => Some(resp),
        Either::Right(((), _)) => {
            controller.abort();
            None
        }
    }
}

/// The bot check of this deployment. It only reports what the verifier
/// answered; which answers pass is `bot_check`'s policy in the core.
#[derive(Debug)]
pub enum AnyTurnstile {
    Dev(DevTurnstile),
    Siteverify {
        secret: String,
    },
    /// Deployed without `TURNSTILE_SECRET`: the check cannot be made, so
    /// subscribing fails closed (500) until it is set.
    Unconfigured,
}

impl AnyTurnstile {
    /// `dev`: the dev verifier when `DEV_MODE` is on.
    pub fn new(dev: Option<DevTurnstile>, secret: Option<String>) -> AnyTurnstile {
        match (dev, secret) {
            (Some(dev), _) => AnyTurnstile::Dev(dev),
            (None, Some(secret)) => AnyTurnstile::Siteverify { secret },
            (None, None) => AnyTurnstile::Unconfigured,
        }
    }
}

impl Turnstile for AnyTurnstile {
    async fn verify(&self, token: &str, client_ip: &str) -> Result<TurnstileAnswer, PortError> {
        match self {
            AnyTurnstile::Dev(dev) => dev.verify(token, client_ip).await,
            AnyTurnstile::Unconfigured => Err(PortError::NotConfigured(
                "TURNSTILE_SECRET is not set".into(),
            )),
            AnyTurnstile::Siteverify { secret } => siteverify(secret, token, client_ip).await,
        }
    }
}

/// POST siteverify; its JSON answer as it is (`success`, `hostname`,
/// `challenge_ts`, `action`, `cdata`, `error-codes`).
async fn siteverify(
    secret: &str,
    token: &str,
    client_ip: &str,
) -> Result<TurnstileAnswer, PortError> {
    let fail = |e: worker::Error| PortError::Unavailable(format!("siteverify: {e}"));
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("secret", secret)
        .append_pair("response", token);
    if !client_ip.is_empty() {
        form.append_pair("remoteip", client_ip);
    }
    let body = form.finish();
    let headers = Headers::new();
    headers
        .set("Content-Type", "application/x-www-form-urlencoded")
        .map_err(fail)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init(SITEVERIFY_URL, &init).map_err(fail)?;
    let mut resp = match timed(Fetch::Request(req), TURNSTILE_TIMEOUT).await {
        Some(r) => r.map_err(fail)?,
        None => return Err(PortError::Unavailable("siteverify timed out".into())),
    };
    if resp.status_code() != 200 {
        return Err(PortError::Unavailable(format!(
            "siteverify answered {}",
            resp.status_code()
        )));
    }
    resp.json::<TurnstileAnswer>().await.map_err(fail)
}

/// Waits with the runtime's timer (a subscribe waiting for its send slot).
#[derive(Debug, Clone, Copy, Default)]
pub struct TimerPause;

impl Pause for TimerPause {
    async fn pause_ms(&self, ms: u32) {
        if ms > 0 {
            Delay::from(Duration::from_millis(u64::from(ms))).await;
        }
    }
}
