//! `POST /subscribe`: validation, the per-IP throttle, the bot check (a
//! token solved on one of the site's own hosts, [`crate::bot_check`]), a
//! provider send slot ([`crate::rate`]), the one upsert, the address's email
//! budget and the one email, sent before the answer.
//!
//! Every accepted request does the same work and gets the same 202,
//! whatever the address's state. A refusal never depends on that state
//! either: no slot within a short wait is 503 `SERVICE_UNAVAILABLE` with
//! `Retry-After` before anything is written; an email the provider does not
//! take is 502 `UPSTREAM_UNAVAILABLE` ("try again", or 503 with the
//! provider's own `Retry-After` for its 429) with the budget refunded, so a
//! lost confirmation is never hidden behind a 202.
use sealpost_api::body::parse_json;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, Email, ErrorCode, Locale, Validator};
use sealpost_ports::{Clock, PortError, RateLimiter, Rng, Sql};
use serde::Deserialize;

use super::{Answer, Failure, Subscriptions};
use crate::bot_check;
use crate::keys::CONFIRM_TTL_MS;
use crate::links;
use crate::pages;
use crate::ports::{Accepted, Batch, Mailer, MailerError, OutgoingEmail, Turnstile};
use crate::rate::{Pause, Reservation, reserve_slot};

/// Emails an address may receive in a row from `POST /subscribe`.
pub const MAIL_BURST: i64 = 3;
/// After the burst, one email per this interval.
pub const MAIL_INTERVAL_MS: i64 = 10 * 60 * 1000;
/// `Retry-After` of the per-IP throttle of `POST /subscribe`.
pub const SUBSCRIBE_RETRY_AFTER_SECS: u32 = 60;
/// Longest Turnstile token, in characters.
pub const TURNSTILE_TOKEN_MAX: usize = 2048;
/// The answer to every accepted `POST /subscribe`.
pub const SUBSCRIBE_MESSAGE: &str = "Check your inbox to confirm your subscription";
/// How long a subscribe waits for a provider send slot before it answers
/// 503 with `Retry-After` (a few calls' worth at Resend's 2 a second).
pub const SEND_SLOT_WAIT_MS: u32 = 2_000;
/// The message of a subscribe whose email the provider did not take.
pub const SEND_FAILED_MESSAGE: &str = "The email could not be sent; please try again";
/// The message of a subscribe that found no send slot.
pub const SEND_BUSY_MESSAGE: &str =
    "Too many emails are being sent right now; please try again shortly";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SubscribeInput {
    email: String,
    locale: String,
    turnstile_token: String,
}

/// The subscriber row after the subscribe upsert.
#[derive(Deserialize)]
struct Upserted {
    id: String,
    status: String,
    confirm_nonce: String,
    locale: String,
}

/// 503 `SERVICE_UNAVAILABLE` with `Retry-After`: no provider slot now.
pub(crate) fn send_busy(retry_after_secs: u32) -> ApiError {
    ApiError::new(ErrorCode::ServiceUnavailable)
        .with_message(SEND_BUSY_MESSAGE)
        .with_retry_after(retry_after_secs.max(1))
}

/// 502 `UPSTREAM_UNAVAILABLE`: the provider did not take the email.
fn send_failed() -> ApiError {
    ApiError::new(ErrorCode::UpstreamUnavailable).with_message(SEND_FAILED_MESSAGE)
}

/// The answer to a subscribe whose provider call failed. The provider's
/// 429 is a busy answer like the send-rate cap's own; every other cause
/// (down, timed out, a key or request refused, the API key refused) tells
/// the subscriber to try again. The cause is the provider's, never the
/// address's, so the answer is the same for every address.
fn send_failure(e: &MailerError) -> ApiError {
    match e {
        MailerError::RateLimited { retry_after_secs } => send_busy(
            retry_after_secs
                .unwrap_or(1)
                .min(MAX_PROVIDER_RETRY_AFTER_SECS),
        ),
        MailerError::Unavailable(_)
        | MailerError::Timeout
        | MailerError::Unauthorized
        | MailerError::Forbidden
        | MailerError::InProgress
        | MailerError::KeyReused
        | MailerError::Refused { .. } => send_failed(),
    }
}

/// The longest provider `Retry-After` a subscribe passes on.
const MAX_PROVIDER_RETRY_AFTER_SECS: u32 = 3600;

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause>
    Subscriptions<'_, S, C, R, L, T, M, P>
{
    // ---- POST /subscribe ---------------------------------------------------

    pub(super) async fn subscribe(&self, input: &ApiRequest) -> Answer {
        let body: SubscribeInput = parse_json(&input.body)?;
        let mut v = Validator::new();
        let (email, locale) = address_and_locale(&mut v, &body.email, &body.locale);
        v.text_len(
            "turnstileToken",
            &body.turnstile_token,
            1,
            TURNSTILE_TOKEN_MAX,
        );
        v.finish()?;
        let (Some(email), Some(locale)) = (email, locale) else {
            return Err(ApiError::field("", "Invalid value").into()); // unreachable: validated
        };

        // The throttle fails open (Turnstile still stands) and skips a
        // request without an IP.
        if let Some(limiter) = self.limiter
            && !input.client_ip.is_empty()
            && !limiter.allow(&input.client_ip).await.unwrap_or(true)
        {
            return Err(ApiError::rate_limited(SUBSCRIBE_RETRY_AFTER_SECS).into());
        }
        let answer = self
            .turnstile
            .verify(&body.turnstile_token, &input.client_ip)
            .await?;
        if !bot_check::passes(&answer, &bot_check::site_hosts(&self.db).await?) {
            return Err(ApiError::new(ErrorCode::TurnstileFailed).into());
        }

        // A provider slot first, before anything is written: a refusal is
        // the same for every address and leaves nothing behind. (An address
        // whose budget turns out spent leaves its slot unused: the cap
        // counts one call too many, never one too few.)
        let now = self.clock.now_ms();
        match reserve_slot(self.rate_sql, now, self.settings, SEND_SLOT_WAIT_MS).await? {
            Reservation::Reserved { wait_ms } => self.pause.pause_ms(wait_ms).await,
            Reservation::Full { retry_after_secs } => {
                return Err(send_busy(retry_after_secs).into());
            }
        }
        let now = self.clock.now_ms();
        let row = self.upsert(&email, locale, now).await?;
        if self.take_mail_budget(&row.id, now).await? {
            // Nothing went out (or nobody knows): the email costs the
            // address nothing, and the answer says to ask again.
            match self.mail(&email, &row, now).await {
                Ok(Ok(())) => {}
                Ok(Err(refused)) => {
                    self.refund_mail_budget(&row.id).await?;
                    return Err(refused.into());
                }
                Err(e) => {
                    // The platform failed first; the refund is best effort.
                    let _ = self.refund_mail_budget(&row.id).await;
                    return Err(e.into());
                }
            }
        }
        Ok(ApiResponse::mutation(202, SUBSCRIBE_MESSAGE, &()))
    }

    /// The one statement of a subscribe: a new address becomes a pending
    /// row; a pending one stays pending in the new locale; an unsubscribed
    /// one becomes pending again with a new nonce (older links stop
    /// working); a confirmed one is left as it is.
    async fn upsert(&self, email: &Email, locale: Locale, now: i64) -> Result<Upserted, Failure> {
        let id = self.rng.id()?;
        let nonce = self.rng.id()?;
        let sealed = self
            .keys
            .seal_email(self.rng, self.site(), &id, email.as_str())?;
        let stmt = self
            .db
            .statement(
                "INSERT INTO subscribers (site_id, id, email_index, email_sealed, locale, status, \
                 confirm_nonce, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?7) \
                 ON CONFLICT (site_id, email_index) DO UPDATE SET \
                   locale = CASE WHEN status = 'confirmed' THEN locale ELSE excluded.locale END, \
                   confirm_nonce = CASE WHEN status = 'unsubscribed' \
                     THEN excluded.confirm_nonce ELSE confirm_nonce END, \
                   confirmed_at = CASE WHEN status = 'unsubscribed' THEN NULL ELSE confirmed_at END, \
                   updated_at = CASE WHEN status = 'confirmed' THEN updated_at ELSE excluded.updated_at END, \
                   status = CASE WHEN status = 'unsubscribed' THEN 'pending' ELSE status END \
                 WHERE site_id = ?1 \
                 RETURNING id, status, confirm_nonce, locale",
            )
            .bind(id.as_str())
            .bind(self.keys.blind_index(email.as_str()))
            .bind(sealed)
            .bind(locale.as_str())
            .bind(nonce)
            .bind(now);
        let row: Option<Upserted> = self.db.query_one(&stmt).await?;
        Ok(row.ok_or_else(|| PortError::Sql("subscriber upsert returned no row".into()))?)
    }

    /// Takes one email from the address's budget (GCRA: the theoretical
    /// arrival time moves one interval per email and may run at most
    /// [`MAIL_BURST`] intervals ahead of now). `true` when allowed.
    async fn take_mail_budget(&self, id: &str, now: i64) -> Result<bool, PortError> {
        let stmt = self
            .db
            .statement(
                "UPDATE subscribers SET mail_tat = MAX(mail_tat, ?3) + ?4 \
                 WHERE site_id = ?1 AND id = ?2 AND MAX(mail_tat, ?3) + ?4 - ?3 <= ?5",
            )
            .bind(id)
            .bind(now)
            .bind(MAIL_INTERVAL_MS)
            .bind(MAIL_BURST * MAIL_INTERVAL_MS);
        Ok(self.db.execute(&stmt).await?.changes > 0)
    }

    /// Gives back the one email [`Self::take_mail_budget`] took (the
    /// theoretical arrival time moves back one interval; below now it
    /// means a full budget, as `MAX(mail_tat, now)` reads it).
    async fn refund_mail_budget(&self, id: &str) -> Result<(), PortError> {
        self.db
            .execute(
                &self
                    .db
                    .statement(
                        "UPDATE subscribers SET mail_tat = mail_tat - ?3 \
                         WHERE site_id = ?1 AND id = ?2",
                    )
                    .bind(id)
                    .bind(MAIL_INTERVAL_MS),
            )
            .await?;
        Ok(())
    }

    /// Sends the one email of a subscribe (awaited, so it is in the inbox
    /// when the 202 arrives): the confirmation link to a pending address,
    /// the "already subscribed" note with the unsubscribe link to a
    /// confirmed one. `Ok(Err(answer))` when the provider did not take it:
    /// the same answer whichever email it was.
    ///
    /// Each attempt is its own provider request under a fresh key: a
    /// refunded attempt's retry is a new email, never the replay of a key
    /// the provider may hold with another body (a new link expiry), which
    /// it would refuse.
    async fn mail(
        &self,
        email: &Email,
        row: &Upserted,
        now: i64,
    ) -> Result<Result<(), ApiError>, PortError> {
        let attempt = self.rng.id()?;
        let origin = sealpost_ports::site_base_url(&self.db).await?.to_string();
        let locale = Locale::parse(&row.locale).unwrap_or(Locale::En);
        let site = self.site();
        let outgoing = if row.status == "confirmed" {
            let url = links::unsubscribe_url(&origin, &self.keys.unsubscribe_token(&row.id));
            let text = pages::already_subscribed_email(locale, &url);
            OutgoingEmail {
                to: email.as_str().to_owned(),
                subject: text.subject,
                text: text.text,
                html: text.html,
                headers: links::list_unsubscribe_headers(&url),
                idempotency_key: format!("subscribed:{site}:{}:{attempt}", row.id),
            }
        } else {
            let token = self
                .keys
                .confirm_token(&row.id, &row.confirm_nonce, now + CONFIRM_TTL_MS);
            let text = pages::confirmation_email(locale, &links::confirm_url(&origin, &token));
            OutgoingEmail {
                to: email.as_str().to_owned(),
                subject: text.subject,
                text: text.text,
                html: text.html,
                headers: Vec::new(),
                idempotency_key: format!("confirm:{site}:{}:{attempt}", row.id),
            }
        };
        Ok(send_single(self.mailer, outgoing).await)
    }
}

/// Checks an `email` and a `locale` field, each error on its own field;
/// both `Some` only when both are valid.
pub(crate) fn address_and_locale(
    v: &mut Validator,
    email: &str,
    locale: &str,
) -> (Option<Email>, Option<Locale>) {
    let address = match Email::parse(email) {
        Ok(e) => Some(e),
        Err(why) => {
            v.add("email", why.message());
            None
        }
    };
    let parsed = Locale::parse(locale);
    if parsed.is_none() {
        v.one_of("locale", locale, &Locale::NAMES);
    }
    (address, parsed)
}

/// Sends one email that a person waits for (a confirmation, a campaign's
/// test): `Ok` once the provider took it; an address it refuses is a field
/// error on `email`, any other failure the answers of [`send_failure`].
pub(crate) async fn send_single<M: Mailer>(
    mailer: &M,
    outgoing: OutgoingEmail,
) -> Result<(), ApiError> {
    match mailer.send(&Batch::single(outgoing)).await {
        Ok(answers) => match answers.first() {
            Some(Accepted::Sent { .. }) => Ok(()),
            Some(Accepted::Rejected { .. }) => Err(ApiError::field(
                "email",
                "The email provider refuses this address",
            )),
            None => Err(send_failed()),
        },
        Err(e) => Err(send_failure(&e)),
    }
}
