//! `POST /admin/campaigns/{id}/test`: the campaign as a recipient in one
//! locale would get it, sent to one address an admin names, before the
//! campaign goes out. It never touches the ledger and works in any status.
//!
//! A site may send [`TEST_SENDS_PER_HOUR`] tests in any hour: the count is
//! taken by ONE `INSERT … SELECT … WHERE (count of the last hour) < limit`,
//! so concurrent requests cannot pass it together, and it is given back
//! when the provider did not take the email. A test also takes a slot of
//! the provider's send-rate cap like every other email ([`crate::rate`]).
//! Its subject starts with `[Test]`, its idempotency key is its own
//! (`{site}:{campaign}:test:{id}`), and its unsubscribe link names no
//! subscriber, so following it unsubscribes nobody.
use sealpost_api::body::parse_json;
use sealpost_api::campaigns::TestSendInput;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, Validator};
use sealpost_guard::{Role, Verifier, live_caller, require_staff};
use sealpost_ports::{Clock, PortError, Rng, SiteDb, Sql};
use serde::{Deserialize, Serialize};

use super::{Answer, not_found};
use crate::keys::CampaignKeys;
use crate::mail::{CampaignMail, CampaignText};
use crate::ports::Mailer;
use crate::rate::{Pause, Reservation, reserve_slot};
use crate::settings::Settings;
use crate::subscribers::{SEND_SLOT_WAIT_MS, address_and_locale, send_busy, send_single};

/// Test sends a site may make in any hour.
pub const TEST_SENDS_PER_HOUR: i64 = 10;
const HOUR_MS: i64 = 3_600_000;
/// What a test's unsubscribe link names instead of a subscriber.
const NOBODY: &str = "test";

/// The test-send service for one request.
pub struct TestSends<'a, S: Sql, C: Clock, R: Rng, M: Mailer, P: Pause> {
    pub db: SiteDb<'a, S>,
    /// The plain SQL port, for the provider's send-rate cell only.
    pub rate_sql: &'a S,
    pub settings: &'a Settings,
    pub pause: &'a P,
    pub clock: &'a C,
    pub rng: &'a R,
    pub keys: &'a CampaignKeys,
    pub mailer: &'a M,
    pub verifier: Option<&'a Verifier>,
}

impl<S: Sql, C: Clock, R: Rng, M: Mailer, P: Pause> std::fmt::Debug
    for TestSends<'_, S, C, R, M, P>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSends")
            .field("site", self.db.site())
            .finish_non_exhaustive()
    }
}

/// What a test send answers.
#[derive(Serialize)]
struct Sent<'a> {
    to: &'a str,
    locale: &'a str,
}

#[derive(Deserialize)]
struct Oldest {
    sent_at: Option<i64>,
}

impl<S: Sql, C: Clock, R: Rng, M: Mailer, P: Pause> TestSends<'_, S, C, R, M, P> {
    /// Serves `POST /admin/campaigns/{id}/test`: 202 once the provider took
    /// the email.
    pub async fn handle(&self, input: &ApiRequest) -> Answer {
        let claims =
            live_caller(self.verifier, input.authorization(), &self.db, self.clock).await?;
        require_staff(&claims, Role::Admin)?;
        let campaign = input.param("id").unwrap_or_default();
        let body: TestSendInput = parse_json(&input.body)?;
        let mut v = Validator::new();
        let (email, locale) = address_and_locale(&mut v, &body.email, &body.locale);
        v.finish()?;
        let (Some(email), Some(locale)) = (email, locale) else {
            return Err(ApiError::field("", "Invalid value").into()); // unreachable: validated
        };
        let text: CampaignText = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT subject_en, subject_vi, body_en, body_vi FROM campaigns \
                         WHERE site_id = ?1 AND id = ?2",
                    )
                    .bind(campaign),
            )
            .await?
            .ok_or_else(not_found)?;

        // Everything that can fail before the provider is asked comes first,
        // so a test counts against the limit only once it is being sent.
        let origin = sealpost_ports::site_base_url(&self.db).await?.to_string();
        let now = self.clock.now_ms();
        let id = self.rng.id()?;
        if !self.take_quota(&id, campaign, now).await? {
            return Err(ApiError::rate_limited(self.retry_after(now).await?).into());
        }
        match reserve_slot(self.rate_sql, now, self.settings, SEND_SLOT_WAIT_MS).await? {
            Reservation::Reserved { wait_ms } => self.pause.pause_ms(wait_ms).await,
            Reservation::Full { retry_after_secs } => {
                self.refund(&id).await?;
                return Err(send_busy(retry_after_secs).into());
            }
        }
        let site = self.db.site().as_str();
        let mail = CampaignMail::new(site, campaign, &origin, &text);
        let mut outgoing = mail.compose(self.keys, NOBODY, email.as_str(), locale.as_str());
        outgoing.subject = format!("[Test] {}", outgoing.subject);
        outgoing.idempotency_key = format!("{site}:{campaign}:test:{id}");
        if let Err(refused) = send_single(self.mailer, outgoing).await {
            // The provider did not confirm it: the test costs the site nothing.
            self.refund(&id).await?;
            return Err(refused.into());
        }
        Ok(ApiResponse::mutation(
            202,
            "Test email sent",
            &Sent {
                to: email.as_str(),
                locale: locale.as_str(),
            },
        ))
    }

    /// Counts one test send of the site unless the last hour's are at the
    /// limit (one statement); forgets the site's tests older than an hour.
    async fn take_quota(&self, id: &str, campaign: &str, now: i64) -> Result<bool, PortError> {
        let since = now - HOUR_MS;
        let forget = self
            .db
            .statement("DELETE FROM campaign_test_sends WHERE site_id = ?1 AND sent_at <= ?2")
            .bind(since);
        let take = self
            .db
            .statement(
                "INSERT INTO campaign_test_sends (site_id, id, campaign_id, sent_at) \
                 SELECT ?1, ?2, ?3, ?4 WHERE (SELECT COUNT(*) FROM campaign_test_sends \
                 WHERE site_id = ?1 AND sent_at > ?5) < ?6",
            )
            .bind(id)
            .bind(campaign)
            .bind(now)
            .bind(since)
            .bind(TEST_SENDS_PER_HOUR);
        let results = self.db.batch(&[forget, take]).await?;
        Ok(results.get(1).is_some_and(|r| r.changes == 1))
    }

    /// Seconds until the oldest test of the last hour leaves it (≥ 1).
    async fn retry_after(&self, now: i64) -> Result<u32, PortError> {
        let oldest: Option<Oldest> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT MIN(sent_at) AS sent_at FROM campaign_test_sends \
                         WHERE site_id = ?1 AND sent_at > ?2",
                    )
                    .bind(now - HOUR_MS),
            )
            .await?;
        let free_at = oldest.and_then(|o| o.sent_at).map_or(now, |t| t + HOUR_MS);
        let secs = (free_at - now + 999) / 1000;
        Ok(u32::try_from(secs.max(1)).unwrap_or(u32::MAX))
    }

    async fn refund(&self, id: &str) -> Result<(), PortError> {
        self.db
            .execute(
                &self
                    .db
                    .statement("DELETE FROM campaign_test_sends WHERE site_id = ?1 AND id = ?2")
                    .bind(id),
            )
            .await
            .map(|_| ())
    }
}
