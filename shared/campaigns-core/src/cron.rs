//! The campaigns worker's cron (every minute): the reconciliation that keeps
//! every campaign moving whatever was lost — a scheduled campaign falls due,
//! a paused one's cooldown ends, a consumer died holding a claim, a job was
//! dropped or acknowledged while its campaign was paused, a consumer died
//! holding a claim of a campaign since cancelled.
//!
//! Every step is one atomic statement or idempotent, so overlapping runs are
//! harmless: a due campaign matches the `WHERE status = 'scheduled'` of
//! exactly one run, a paused one the `WHERE status = 'paused'` of one run, and
//! [`advance`](crate::campaigns::advance) may run twice. Only its three
//! scans of every site's campaigns (due, cooled down, sending) run on the
//! plain [`Sql`] port (listed with the crate's other unscoped statements in
//! the crate documentation); all work on one campaign runs through that
//! campaign's site handle ([`SiteDb`]), like the request path
//! (docs/adr/0014).
use sealpost_ports::{PortError, SiteDb, SiteId, Sql, Statement};
use serde::Deserialize;

use crate::campaigns::advance_counted;
use crate::ports::WorkQueue;
use crate::settings::Settings;

/// What one [`reconcile`] run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CronReport {
    /// Scheduled campaigns this run started.
    pub started: usize,
    /// Paused campaigns this run resumed.
    pub resumed: usize,
    /// Ledger rows taken back from consumers whose lease expired.
    pub reclaimed: u64,
    /// Campaigns this run finished (`sent`).
    pub finished: usize,
    /// Rows of cancelled campaigns whose consumer died holding their claim,
    /// failed by this run (their outcome is unknown; they are never sent
    /// again).
    pub abandoned: u64,
}

#[derive(Debug, Deserialize)]
struct CampaignKey {
    site_id: String,
    id: String,
}

impl CampaignKey {
    /// The handle of this campaign's site; a site id that is not one (the
    /// `sites` CHECK makes it impossible) fails this campaign alone.
    fn site<'a, S: Sql>(&self, sql: &'a S) -> Result<SiteDb<'a, S>, PortError> {
        let site = SiteId::parse(&self.site_id).map_err(|e| {
            PortError::Decode(format!("campaign {} has an invalid site id: {e}", self.id))
        })?;
        Ok(SiteDb::new(sql, site))
    }
}

/// One run: (1) starts every scheduled campaign that is due (one claim:
/// `UPDATE … WHERE status = 'scheduled' AND scheduled_at <= now RETURNING`);
/// (2) resumes every paused campaign whose `paused_until` passed, half-open
/// (`failures = breaker_threshold − 1`, so one more provider failure pauses
/// it again), and clears `enqueued_at` of its pending rows (their jobs were
/// acknowledged unsent while it was paused) so they are enqueued again now;
/// (3) for every sending campaign takes back the rows whose claim outlived
/// the lease (→ `pending`, no claim, not enqueued) and [`advance`]s it
/// (materialise, enqueue, finish); (4) for every cancelled campaign fails
/// the rows whose claim outlived the lease (the consumer died; a cancelled
/// campaign sends nothing again, so their outcome stays unknown).
///
/// A failure on one campaign does not stop the others; the first error is
/// returned after all were tried (the next run repeats the work).
///
/// [`advance`]: crate::campaigns::advance
pub async fn reconcile<S: Sql, Q: WorkQueue>(
    sql: &S,
    queue: &Q,
    settings: &Settings,
    now_ms: i64,
) -> Result<CronReport, PortError> {
    let mut report = CronReport::default();
    let started: Vec<CampaignKey> = sql
        .query_as(
            &Statement::new(
                "UPDATE campaigns SET status = 'sending', started_at = ?1, updated_at = ?1 \
                 WHERE status = 'scheduled' AND scheduled_at <= ?1 RETURNING site_id, id",
            )
            .bind(now_ms),
        )
        .await?;
    report.started = started.len();

    let half_open = i64::from(settings.breaker_threshold.saturating_sub(1));
    let resumed: Vec<CampaignKey> = sql
        .query_as(
            &Statement::new(
                "UPDATE campaigns SET status = 'sending', failures = ?2, paused_until = NULL, \
                 updated_at = ?1 WHERE status = 'paused' AND paused_until <= ?1 \
                 RETURNING site_id, id",
            )
            .bind(now_ms)
            .bind(half_open),
        )
        .await?;
    report.resumed = resumed.len();
    let mut first_error = None;
    for c in &resumed {
        let requeued = match c.site(sql) {
            Ok(db) => requeue(&db, &c.id).await,
            Err(e) => Err(e),
        };
        if let Err(e) = requeued {
            first_error.get_or_insert(e);
        }
    }

    let sending: Vec<CampaignKey> = sql
        .query_as(&Statement::new(
            "SELECT site_id, id FROM campaigns WHERE status = 'sending' ORDER BY site_id, id",
        ))
        .await?;
    let expired_before = now_ms.saturating_sub(settings.lease_ms);
    for c in &sending {
        let db = match c.site(sql) {
            Ok(db) => db,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        let take_back = db
            .statement(
                "UPDATE campaign_deliveries SET status = 'pending', claim_id = NULL, \
                 enqueued_at = NULL WHERE site_id = ?1 AND campaign_id = ?2 \
                 AND status = 'sending' AND claimed_at < ?3",
            )
            .bind(c.id.as_str())
            .bind(expired_before);
        match db.execute(&take_back).await {
            Ok(r) => report.reclaimed += r.changes,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        }
        match advance_counted(&db, queue, settings, &c.id, now_ms).await {
            Ok(p) => report.finished += usize::from(p.finished),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match settle_abandoned(sql, expired_before).await {
        Ok(n) => report.abandoned = n,
        Err(e) => {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Step (4): fails the rows of cancelled campaigns claimed before
/// `expired_before` and never settled; returns how many.
async fn settle_abandoned<S: Sql>(sql: &S, expired_before: i64) -> Result<u64, PortError> {
    let cancelled: Vec<CampaignKey> = sql
        .query_as(
            &Statement::new(
                "SELECT c.site_id, c.id FROM campaigns c WHERE c.status = 'cancelled' \
                 AND EXISTS (SELECT 1 FROM campaign_deliveries d WHERE d.site_id = c.site_id \
                 AND d.campaign_id = c.id AND d.status = 'sending' AND d.claimed_at < ?1) \
                 ORDER BY c.site_id, c.id",
            )
            .bind(expired_before),
        )
        .await?;
    let mut failed = 0;
    for c in &cancelled {
        let db = c.site(sql)?;
        let settle = db
            .statement(
                "UPDATE campaign_deliveries SET status = 'failed', claim_id = NULL, \
                 batch_sealed = NULL, last_error = 'cancelled while in flight; outcome unknown' \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND status = 'sending' \
                 AND claimed_at < ?3",
            )
            .bind(c.id.as_str())
            .bind(expired_before);
        failed += db.execute(&settle).await?.changes;
    }
    Ok(failed)
}

/// Forgets the jobs of the pending rows of a resumed campaign (they were
/// acknowledged unsent while it was paused), so they are enqueued again.
async fn requeue<S: Sql>(db: &SiteDb<'_, S>, campaign: &str) -> Result<(), PortError> {
    let stmt = db
        .statement(
            "UPDATE campaign_deliveries SET enqueued_at = NULL \
             WHERE site_id = ?1 AND campaign_id = ?2 AND status = 'pending'",
        )
        .bind(campaign);
    db.execute(&stmt).await.map(|_| ())
}
