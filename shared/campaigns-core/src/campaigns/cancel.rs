//! Cancelling a campaign: from the moment the cancel is answered, no row of
//! its ledger is claimed again, so nothing more leaves (docs/adr/0023).
//!
//! The cancel is one D1 batch (one transaction): the campaign becomes
//! `cancelled` (from draft, scheduled, sending or paused) and every ledger
//! row still `pending` becomes `cancelled`. Every claim of the consumer and
//! every materialisation of the ledger is guarded by the campaign's status
//! in its own statement, so one that runs after the cancel takes nothing.
//! Rows claimed before it (a batch in flight) end `sent` or `failed` exactly
//! once, as their claim records them; the answer's `counts.pending` says how
//! many are still in flight. A claim whose consumer died is settled by the
//! cron as `failed` (its outcome unknown) and never sent again.
use sealpost_api::campaigns::CampaignStatus;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode};
use sealpost_ports::{Clock, Rng, Sql};

use super::{Answer, Sending};
use crate::ports::WorkQueue;

/// The message of a cancel of a campaign that was already sent.
pub const ALREADY_SENT_MESSAGE: &str = "A sent campaign cannot be cancelled";

impl<S: Sql, C: Clock, R: Rng, Q: WorkQueue> Sending<'_, S, C, R, Q> {
    /// `POST /admin/campaigns/{id}/cancel`: 200 with the campaign, also for
    /// one already cancelled; 409 for one already sent.
    pub(super) async fn cancel(&self, input: &ApiRequest) -> Answer {
        self.admin(input).await?;
        let id = input.param("id").unwrap_or_default();
        let now = self.clock.now_ms();
        let stop = self
            .db
            .statement(
                "UPDATE campaigns SET status = 'cancelled', finished_at = ?3, updated_at = ?3, \
                 paused_until = NULL WHERE site_id = ?1 AND id = ?2 \
                 AND status IN ('draft', 'scheduled', 'sending', 'paused')",
            )
            .bind(id)
            .bind(now);
        let unqueue = self
            .db
            .statement(
                "UPDATE campaign_deliveries SET status = 'cancelled', enqueued_at = NULL \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND status = 'pending' \
                 AND EXISTS (SELECT 1 FROM campaigns c WHERE c.site_id = ?1 AND c.id = ?2 \
                 AND c.status = 'cancelled')",
            )
            .bind(id);
        self.db.batch(&[stop, unqueue]).await?;
        // The first statement left only `sent` as it was.
        let campaign = self.object(id).await?;
        if campaign.status == CampaignStatus::Sent {
            return Err(ApiError::new(ErrorCode::Conflict)
                .with_message(ALREADY_SENT_MESSAGE)
                .into());
        }
        Ok(ApiResponse::mutation(200, "Campaign cancelled", &campaign))
    }
}
