//! The campaigns' own ports: the bot check ([`Turnstile`]), the email
//! provider ([`Mailer`]) and the work queue ([`WorkQueue`]). The worker
//! implements them with Cloudflare siteverify, Resend's batch API (or the
//! local fake provider, [`crate::outbox`]) and a Cloudflare Queue; the tests
//! with doubles that model the production semantics (at-least-once queues,
//! provider failures, idempotency keys per request).
use sealpost_ports::PortError;
use serde::{Deserialize, Serialize};

/// What siteverify answered about one Turnstile token (its JSON answer:
/// `success`, `hostname`, `challenge_ts`, `action`, `cdata`,
/// `error-codes`). Whether a request may go on is the caller's policy
/// ([`crate::bot_check`]), not the verifier's: `success` alone does not say
/// the token was solved on this site.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct TurnstileAnswer {
    pub success: bool,
    /// The host name of the page the challenge was solved on.
    #[serde(default)]
    pub hostname: Option<String>,
    /// When the challenge was solved (ISO 8601).
    #[serde(default)]
    pub challenge_ts: Option<String>,
    /// The widget's `action`, if the page set one.
    #[serde(default)]
    pub action: Option<String>,
    /// The widget's `cdata`, if the page set one.
    #[serde(default)]
    pub cdata: Option<String>,
    /// Why it failed (`invalid-input-response`, `timeout-or-duplicate`, …).
    #[serde(default, rename = "error-codes")]
    pub error_codes: Vec<String>,
}

/// Verifies a Turnstile token for the client's IP.
#[allow(async_fn_in_trait)]
pub trait Turnstile {
    /// The verifier's answer about `token`, passing or not; `Err` only when
    /// the check itself could not be made (then the request fails closed).
    async fn verify(&self, token: &str, client_ip: &str) -> Result<TurnstileAnswer, PortError>;
}

/// The local-development verifier of the contract: `dev-pass` passes,
/// as if solved on the page at `hostname` (the request's site host);
/// everything else (`dev-fail` included) fails like an invalid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevTurnstile {
    hostname: String,
}

impl DevTurnstile {
    /// The dev verifier of a request made to `hostname`.
    pub fn solved_on(hostname: impl Into<String>) -> DevTurnstile {
        DevTurnstile {
            hostname: hostname.into(),
        }
    }
}

impl Turnstile for DevTurnstile {
    async fn verify(&self, token: &str, _client_ip: &str) -> Result<TurnstileAnswer, PortError> {
        Ok(if token == DEV_PASS {
            TurnstileAnswer {
                success: true,
                hostname: Some(self.hostname.clone()),
                ..TurnstileAnswer::default()
            }
        } else {
            TurnstileAnswer {
                error_codes: vec!["invalid-input-response".to_owned()],
                ..TurnstileAnswer::default()
            }
        })
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
    /// This email's own identity in Sealpost (`{site}:{campaign}:{subscriber}`
    /// for a campaign email). The provider never sees it: it keys whole
    /// requests ([`Batch::idempotency_key`]); an email sent alone uses it as
    /// its request's key ([`Batch::single`]).
    pub idempotency_key: String,
}

/// One provider request: up to [`MAX_BATCH`] emails under ONE idempotency
/// key. The provider sends a key once: the same key with the same emails
/// answers the original result without sending, with other emails is
/// refused ([`MailerError::KeyReused`]), while the first request is still
/// being processed is refused ([`MailerError::InProgress`]); it forgets a
/// key after [`KEY_LIFETIME_MS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub idempotency_key: String,
    pub emails: Vec<OutgoingEmail>,
}

impl Batch {
    /// One email alone, under its own key.
    pub fn single(email: OutgoingEmail) -> Batch {
        Batch {
            idempotency_key: email.idempotency_key.clone(),
            emails: vec![email],
        }
    }

    /// SHA-256 (hex) of the emails exactly as sent: two batches with the
    /// same digest are the same request body.
    pub fn body_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for e in &self.emails {
            for part in [&e.to, &e.subject, &e.text, &e.html] {
                h.update((part.len() as u64).to_be_bytes());
                h.update(part.as_bytes());
            }
            h.update((e.headers.len() as u64).to_be_bytes());
            for (k, v) in &e.headers {
                for part in [k, v] {
                    h.update((part.len() as u64).to_be_bytes());
                    h.update(part.as_bytes());
                }
            }
        }
        h.finalize()
            .iter()
            .fold(String::with_capacity(64), |mut s, b| {
                s.push_str(&format!("{b:02x}"));
                s
            })
    }
}

/// How long the provider remembers an idempotency key (Resend: 24 hours).
pub const KEY_LIFETIME_MS: i64 = 24 * 3_600_000;

/// What the provider did with one email of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Accepted (or accepted before, under the same idempotency key).
    Sent { provider_id: String },
    /// This email alone was refused for good (a per-email validation
    /// error: an invalid address, …): retrying cannot help.
    Rejected { reason: String },
}

/// Why a whole request was not (known to be) accepted, one variant per
/// cause. None of them fails a row by itself: what the consumer does with
/// each is [`crate::failures`]'s policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailerError {
    /// 429; `retry_after_secs` from the provider when it said.
    RateLimited { retry_after_secs: Option<u32> },
    /// 5xx, a network failure, or an answer that could not be read: the
    /// provider may or may not have accepted the batch.
    Unavailable(String),
    /// No answer in time: the provider may or may not have accepted the
    /// batch (its idempotency key makes the identical retry safe).
    Timeout,
    /// 401: the API key is missing or was revoked.
    Unauthorized,
    /// 403: the API key is invalid or the sender's domain is not verified.
    Forbidden,
    /// 409 `concurrent_idempotent_requests`: a request with this key is
    /// still being processed; the same request later answers its result.
    InProgress,
    /// 409 `invalid_idempotent_request`: this key was used with another
    /// body. Nothing was sent by this request.
    KeyReused,
    /// Another 4xx for the whole request (400/422 `validation_error`, …):
    /// nothing was sent; `status` is the HTTP status.
    Refused { status: u16 },
}

impl std::fmt::Display for MailerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailerError::RateLimited { .. } => f.write_str("provider rate limit (429)"),
            MailerError::Unavailable(why) => write!(f, "provider unavailable: {why}"),
            MailerError::Timeout => f.write_str("provider timed out"),
            MailerError::Unauthorized => f.write_str("provider refused the API key (401)"),
            MailerError::Forbidden => f.write_str("provider forbade the send (403)"),
            MailerError::InProgress => f.write_str("provider still processing this batch (409)"),
            MailerError::KeyReused => {
                f.write_str("provider refused a reused idempotency key with another body (409)")
            }
            MailerError::Refused { status } => write!(f, "provider refused the request ({status})"),
        }
    }
}

impl std::error::Error for MailerError {}

/// The email provider. `send` takes at most [`MAX_BATCH`] emails and
/// answers one [`Accepted`] per email, in order.
#[allow(async_fn_in_trait)]
pub trait Mailer {
    async fn send(&self, batch: &Batch) -> Result<Vec<Accepted>, MailerError>;
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
