//! The delivery ledger's end: a campaign is `sent` once its ledger is
//! complete and every row is final. Shared by the consumer (after each job)
//! and the cron (docs/adr/0014), always within one site.
use sealpost_ports::{PortError, SiteDb, Sql};

/// Sets a `sending` campaign of `db`'s site to `sent` (with `finished_at`)
/// when its ledger is complete (`ledger_done`) and no row is `pending` or
/// `sending`; one statement, so concurrent callers finish it once. Returns
/// whether this call finished it.
pub async fn finish_if_done<S: Sql>(
    db: &SiteDb<'_, S>,
    campaign: &str,
    now_ms: i64,
) -> Result<bool, PortError> {
    let done = db
        .execute(
            &db.statement(
                "UPDATE campaigns SET status = 'sent', finished_at = ?3, updated_at = ?3 \
                 WHERE site_id = ?1 AND id = ?2 AND status = 'sending' AND ledger_done = 1 \
                 AND NOT EXISTS (SELECT 1 FROM campaign_deliveries d WHERE d.site_id = ?1 \
                 AND d.campaign_id = ?2 AND d.status IN ('pending', 'sending'))",
            )
            .bind(campaign)
            .bind(now_ms),
        )
        .await?;
    Ok(done.changes > 0)
}
