//! The campaigns' own ports: the bot check ([`Turnstile`]), the email
//! provider ([`Mailer`]) and the work queue ([`WorkQueue`]). The worker
//! implements them with Cloudflare siteverify, Resend's batch API (or the
//! local fake provider, [`crate::outbox`]) and a Cloudflare Queue; the tests
//! with doubles that model the production semantics (at-least-once queues,
//! provider failures, idempotency keys).
use sealpost_ports::PortError;
use serde::{Deserialize, Serialize};

/// Verifies a Turnstile token for the client's IP.
#[allow(async_fn_in_trait)]
pub trait Turnstile {
    /// `Ok(false)` for a token that does not pass; `Err` only when the
    /// check itself could not be made (then the request fails closed).
    async fn verify(&self, token: &str, client_ip: &str) -> Result<bool, PortError>;
}

/// The local-development verifier of the contract: `dev-pass` passes,
/// everything else (`dev-fail` included) fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct DevTurnstile;

impl Turnstile for DevTurnstile {
    async fn verify(&self, token: &str, _client_ip: &str) -> Result<bool, PortError> {
        Ok(token == DEV_PASS)
    }
}

/// The Turnstile token that passes locally.
pub const DEV_PASS: &str = "dev-pass";

/// One email for the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra headers (`List-Unsubscribe`, `List-Unsubscribe-Post`, …).
    pub headers: Vec<(String, String)>,
    /// The provider deduplicates on this: the same key is sent once.
    pub idempotency_key: String,
}

/// What the provider did with one email of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Accepted (or accepted before, under the same idempotency key).
    Sent { provider_id: String },
    /// Refused for good (an invalid address, …): retrying cannot help.
    Rejected { reason: String },
}

/// Why a whole batch was not (known to be) accepted. All are transient:
/// the rows are retried, and they count towards the breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailerError {
    /// 429; `retry_after_secs` from the provider when it said.
    RateLimited { retry_after_secs: Option<u32> },
    /// 5xx or a network failure before the provider answered.
    Unavailable(String),
    /// No answer in time: the provider may or may not have accepted the
    /// batch (the idempotency keys make the retry safe).
    Timeout,
}

impl std::fmt::Display for MailerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailerError::RateLimited { .. } => f.write_str("provider rate limit (429)"),
            MailerError::Unavailable(why) => write!(f, "provider unavailable: {why}"),
            MailerError::Timeout => f.write_str("provider timed out"),
        }
    }
}

impl std::error::Error for MailerError {}

/// The email provider. `send` takes at most [`MAX_BATCH`] emails and
/// answers one [`Accepted`] per email, in order.
#[allow(async_fn_in_trait)]
pub trait Mailer {
    async fn send(&self, batch: &[OutgoingEmail]) -> Result<Vec<Accepted>, MailerError>;
}

/// The largest batch a provider call takes (Resend's batch endpoint: 100).
pub const MAX_BATCH: usize = 100;

/// One unit of queued work: deliver campaign `campaign` of site `site` to
/// these subscribers (at most [`crate::delivery::JOB_SIZE`]). Only ids
/// travel through the queue, never an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub site: String,
    pub campaign: String,
    pub subscribers: Vec<String>,
}

/// The work queue (at-least-once: a job may arrive twice, late, or after a
/// newer one).
#[allow(async_fn_in_trait)]
pub trait WorkQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), PortError>;
}
