//! The campaigns worker's cron (every minute): the reconciliation that keeps
//! every campaign moving whatever was lost — a scheduled campaign falls due,
//! a paused one's cooldown ends, a consumer died holding a claim, a job was
//! dropped or acknowledged while its campaign was paused.
//!
//! Every step is one atomic statement or idempotent, so overlapping runs are
//! harmless: a due campaign matches the `WHERE status = 'scheduled'` of
//! exactly one run, a paused one the `WHERE status = 'paused'` of one run, and
//! [`advance`] may run twice. The cron reads across sites, through the plain
//! [`Sql`] port with explicit `site_id = ?1` binds (docs/adr/0014).
use sealpost_ports::{PortError, Sql, Statement};
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
}

#[derive(Debug, Deserialize)]
struct CampaignKey {
    site_id: String,
    id: String,
}

/// One run: (1) starts every scheduled campaign that is due (one claim:
/// `UPDATE … WHERE status = 'scheduled' AND scheduled_at <= now RETURNING`);
/// (2) resumes every paused campaign whose `paused_until` passed, half-open
/// (`failures = breaker_threshold − 1`, so one more provider failure pauses
/// it again), and clears `enqueued_at` of its pending rows (their jobs were
/// acknowledged unsent while it was paused) so they are enqueued again now;
/// (3) for every sending campaign takes back the rows whose claim outlived
/// the lease (→ `pending`, no claim, not enqueued) and [`advance`]s it
/// (materialise, enqueue, finish).
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
        let requeue = Statement::new(
            "UPDATE campaign_deliveries SET enqueued_at = NULL \
             WHERE site_id = ?1 AND campaign_id = ?2 AND status = 'pending'",
        )
        .bind(c.site_id.as_str())
        .bind(c.id.as_str());
        if let Err(e) = sql.execute(&requeue).await {
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
        let take_back = Statement::new(
            "UPDATE campaign_deliveries SET status = 'pending', claim_id = NULL, \
             enqueued_at = NULL WHERE site_id = ?1 AND campaign_id = ?2 \
             AND status = 'sending' AND claimed_at < ?3",
        )
        .bind(c.site_id.as_str())
        .bind(c.id.as_str())
        .bind(expired_before);
        match sql.execute(&take_back).await {
            Ok(r) => report.reclaimed += r.changes,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        }
        match advance_counted(sql, queue, settings, &c.site_id, &c.id, now_ms).await {
            Ok(p) => report.finished += usize::from(p.finished),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}
