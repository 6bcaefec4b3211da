//! Campaigns: the admin routes that create, start and inspect them
//! ([`Sending`]), and [`advance`], which moves a `sending` campaign forward —
//! it materialises the delivery ledger (one row per recipient), enqueues
//! [`Job`]s for pending rows and finishes the campaign once every row is
//! final. The send route and the cron ([`crate::cron`]) both call it; it is
//! idempotent and safe to run concurrently (docs/adr/0014).
//!
//! Recipients are the site's subscribers with status `confirmed` and
//! `confirmed_at <= started_at`. The ledger is built in subscriber-id order,
//! in keyset chunks (`INSERT OR IGNORE … SELECT … WHERE id > (the ledger's
//! largest subscriber id) ORDER BY id LIMIT 500`), so it is always a prefix
//! of the recipients and a concurrent materialiser only makes a round insert
//! nothing. Whether the ledger is complete is decided by its own statement
//! (no eligible subscriber beyond the ledger's largest id), never from a
//! short round. Enqueueing first claims the rows (`enqueued_at = now`, one
//! `UPDATE … RETURNING`), so overlapping callers do not both enqueue them;
//! jobs are hints anyway (the consumer's claims are atomic).
use sealpost_api::campaigns::{Campaign, CampaignCounts, CampaignStatus, Localised};
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiRequest, ApiResponse};
use sealpost_guard::{AccessClaims, Role, Verifier, live_caller, require_staff};
use sealpost_ports::{Clock, PortError, Rng, SiteDb, Sql, Statement, rfc3339};
use serde::Deserialize;

mod cancel;
mod edit;
mod list;
mod test_send;

pub use test_send::{TEST_SENDS_PER_HOUR, TestSends};

use crate::ledger::finish_if_done;
use crate::ports::{Job, WorkQueue};
use crate::settings::Settings;

pub use sealpost_api::Failure;

/// Subscriber ids per queued [`Job`].
pub const JOB_SIZE: usize = 50;
/// Ledger rows inserted per materialisation statement.
pub const MATERIALISE_CHUNK: usize = 500;
/// Materialisation statements per [`advance`] call at most (so one call
/// stays short: 40 × 500 = 20,000 recipients; the next call takes the rest).
pub const MATERIALISE_ROUNDS: usize = 40;
/// Pending rows claimed for enqueueing per statement.
pub const ENQUEUE_PAGE: usize = 500;
/// Enqueue statements per [`advance`] call at most.
pub const ENQUEUE_ROUNDS: usize = 40;
/// Jobs per [`WorkQueue::enqueue`] call (a Cloudflare Queues batch takes 100).
pub const QUEUE_BATCH: usize = 100;

/// Longest subject, in characters.
pub const SUBJECT_MAX: usize = 200;
/// Longest body (Markdown), in characters.
pub const BODY_MAX: usize = 50_000;
/// How far ahead a campaign may be scheduled.
pub const SCHEDULE_HORIZON_MS: i64 = 365 * 24 * 60 * 60 * 1000;

type Answer = Result<ApiResponse, Failure>;

/// The campaigns admin service for one request: create, change, send,
/// cancel, read and list (a test send is [`TestSends`]).
pub struct Sending<'a, S: Sql, C: Clock, R: Rng, Q: WorkQueue> {
    pub db: SiteDb<'a, S>,
    pub clock: &'a C,
    pub rng: &'a R,
    pub queue: &'a Q,
    /// The access-token keys (every route here is admin only).
    pub verifier: Option<&'a Verifier>,
    pub settings: &'a Settings,
}

impl<S: Sql, C: Clock, R: Rng, Q: WorkQueue> std::fmt::Debug for Sending<'_, S, C, R, Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sending")
            .field("site", self.db.site())
            .finish_non_exhaustive()
    }
}

/// A campaign as stored (a status the table's CHECK does not allow fails
/// to read, as a decode error).
#[derive(Deserialize)]
struct CampaignRow {
    id: String,
    status: CampaignStatus,
    subject_en: String,
    subject_vi: String,
    body_en: String,
    body_vi: String,
    scheduled_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    paused_until: Option<i64>,
}

const CAMPAIGN_COLUMNS: &str = "id, status, subject_en, subject_vi, body_en, body_vi, \
     scheduled_at, created_at, updated_at, started_at, finished_at, paused_until";

/// The ledger's counts of a campaign, as selected columns of its
/// `campaign_deliveries` rows ([`CampaignCounts`]).
const COUNTS: &str = "COUNT(*) AS total, \
     COALESCE(SUM(status IN ('pending', 'sending')), 0) AS pending, \
     COALESCE(SUM(status = 'sent'), 0) AS sent, \
     COALESCE(SUM(status = 'failed'), 0) AS failed, \
     COALESCE(SUM(status = 'skipped'), 0) AS skipped, \
     COALESCE(SUM(status = 'cancelled'), 0) AS cancelled";

fn not_found() -> Failure {
    ApiError::not_found()
        .with_message("No such campaign")
        .into()
}

fn time(ms: Option<i64>) -> Option<String> {
    ms.map(rfc3339)
}

/// The wire view of a stored campaign with its counts (with its bodies).
fn view(c: &CampaignRow, counts: CampaignCounts) -> Campaign {
    Campaign {
        id: c.id.clone(),
        status: c.status,
        subject: Localised {
            en: c.subject_en.clone(),
            vi: c.subject_vi.clone(),
        },
        body: Some(Localised {
            en: c.body_en.clone(),
            vi: c.body_vi.clone(),
        }),
        scheduled_at: time(c.scheduled_at),
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
        started_at: time(c.started_at),
        finished_at: time(c.finished_at),
        paused_until: time(c.paused_until),
        counts,
    }
}

impl<S: Sql, C: Clock, R: Rng, Q: WorkQueue> Sending<'_, S, C, R, Q> {
    /// Serves `input`.
    pub async fn handle(&self, input: &ApiRequest) -> Answer {
        match input.id() {
            RouteId::AdminCampaignCreate => self.create(input).await,
            RouteId::AdminCampaignSend => self.send(input).await,
            RouteId::AdminCampaignGet => self.get(input).await,
            RouteId::AdminCampaignsList => self.list(input).await,
            RouteId::AdminCampaignUpdate => self.update(input).await,
            RouteId::AdminCampaignCancel => self.cancel(input).await,
            _ => Err(ApiError::not_found().into()),
        }
    }

    /// The caller: a live session, the admin role and a second factor.
    async fn admin(&self, input: &ApiRequest) -> Result<AccessClaims, Failure> {
        let claims =
            live_caller(self.verifier, input.authorization(), &self.db, self.clock).await?;
        require_staff(&claims, Role::Admin)?;
        Ok(claims)
    }

    async fn load(&self, id: &str) -> Result<Option<CampaignRow>, PortError> {
        self.db
            .query_one(
                &self
                    .db
                    .statement(&format!(
                        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE site_id = ?1 AND id = ?2"
                    ))
                    .bind(id),
            )
            .await
    }

    async fn counts(&self, id: &str) -> Result<CampaignCounts, PortError> {
        let counts: Option<CampaignCounts> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(&format!(
                        "SELECT {COUNTS} FROM campaign_deliveries \
                         WHERE site_id = ?1 AND campaign_id = ?2"
                    ))
                    .bind(id),
            )
            .await?;
        Ok(counts.unwrap_or_default())
    }

    /// The view of campaign `id` as stored now (with live counts).
    async fn object(&self, id: &str) -> Result<Campaign, Failure> {
        let campaign = self.load(id).await?.ok_or_else(not_found)?;
        let counts = self.counts(id).await?;
        Ok(view(&campaign, counts))
    }

    /// Starts the campaign now (a draft or a scheduled one: one atomic
    /// claim), then advances it. Idempotent: a campaign already sending is
    /// only advanced again; a paused or sent one is left as it is. An
    /// `advance` failure (the queue is down) is answered as a fault: the
    /// campaign is sending and the cron completes the work, and sending
    /// again is safe.
    async fn send(&self, input: &ApiRequest) -> Answer {
        self.admin(input).await?;
        let id = input.param("id").unwrap_or_default();
        let now = self.clock.now_ms();
        self.db
            .execute(
                &self
                    .db
                    .statement(
                        "UPDATE campaigns SET status = 'sending', started_at = ?3, updated_at = ?3 \
                         WHERE site_id = ?1 AND id = ?2 AND status IN ('draft', 'scheduled')",
                    )
                    .bind(id)
                    .bind(now),
            )
            .await?;
        let campaign = self.load(id).await?.ok_or_else(not_found)?;
        if campaign.status == CampaignStatus::Sending {
            advance(&self.db, self.queue, self.settings, id, now).await?;
        }
        Ok(ApiResponse::mutation(
            202,
            "Campaign sending",
            &self.object(id).await?,
        ))
    }

    async fn get(&self, input: &ApiRequest) -> Answer {
        self.admin(input).await?;
        let id = input.param("id").unwrap_or_default();
        Ok(ApiResponse::query(&self.object(id).await?))
    }
}

/// What one [`advance`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Ledger rows this call created.
    pub materialised: u64,
    /// Whether the ledger is complete (every recipient has its row).
    pub ledger_done: bool,
    /// Rows this call put into jobs.
    pub enqueued: usize,
    /// Whether this call set the campaign to `sent`.
    pub finished: bool,
}

#[derive(Deserialize)]
struct AdvanceRow {
    status: String,
    started_at: Option<i64>,
    ledger_done: i64,
}

#[derive(Deserialize)]
struct SubscriberId {
    subscriber_id: String,
}

/// The eligible subscribers beyond the ledger's largest subscriber id
/// (`?1` site, `?2` campaign, `?3` started_at).
const BEYOND_LEDGER: &str = "FROM subscribers s WHERE s.site_id = ?1 AND s.status = 'confirmed' \
     AND s.confirmed_at <= ?3 AND s.id > COALESCE((SELECT MAX(d.subscriber_id) \
     FROM campaign_deliveries d WHERE d.site_id = ?1 AND d.campaign_id = ?2), '')";

/// Materialises the rest of the ledger of a `sending` campaign (keyset
/// chunks of 500 via INSERT OR IGNORE … SELECT, idempotent, bounded rounds),
/// enqueues jobs for pending rows never enqueued or enqueued longer ago than
/// `settings.requeue_after_ms` (marking `enqueued_at`), and finishes the
/// campaign if every row is final, all within `db`'s site. Used by send and
/// by the cron; safe to run concurrently. A campaign that is not `sending`
/// (or does not exist) is left alone.
pub async fn advance<S: Sql, Q: WorkQueue>(
    db: &SiteDb<'_, S>,
    queue: &Q,
    settings: &Settings,
    campaign: &str,
    now_ms: i64,
) -> Result<(), PortError> {
    advance_counted(db, queue, settings, campaign, now_ms)
        .await
        .map(|_| ())
}

/// [`advance`], saying what it did.
pub async fn advance_counted<S: Sql, Q: WorkQueue>(
    db: &SiteDb<'_, S>,
    queue: &Q,
    settings: &Settings,
    campaign: &str,
    now_ms: i64,
) -> Result<Progress, PortError> {
    let mut progress = Progress::default();
    let row: Option<AdvanceRow> = db
        .query_one(
            &db.statement(
                "SELECT status, started_at, ledger_done FROM campaigns \
                 WHERE site_id = ?1 AND id = ?2",
            )
            .bind(campaign),
        )
        .await?;
    let Some(row) = row else {
        return Ok(progress);
    };
    let Some(started_at) = row.started_at.filter(|_| row.status == "sending") else {
        return Ok(progress);
    };
    progress.ledger_done = row.ledger_done == 1;
    if !progress.ledger_done {
        let (created, done) = materialise(db, campaign, started_at).await?;
        progress.materialised = created;
        progress.ledger_done = done;
    }
    progress.enqueued = enqueue_pending(db, queue, settings, campaign, now_ms).await?;
    progress.finished = finish_if_done(db, campaign, now_ms).await?;
    Ok(progress)
}

/// Up to [`MATERIALISE_ROUNDS`] chunks of ledger rows; returns the rows
/// created and whether the ledger is now complete.
async fn materialise<S: Sql>(
    db: &SiteDb<'_, S>,
    campaign: &str,
    started_at: i64,
) -> Result<(u64, bool), PortError> {
    // Only while the campaign is sending: a round that runs after a cancel
    // adds no row.
    let insert = format!(
        "INSERT OR IGNORE INTO campaign_deliveries (site_id, campaign_id, subscriber_id) \
         SELECT ?1, ?2, s.id {BEYOND_LEDGER} AND EXISTS (SELECT 1 FROM campaigns c \
         WHERE c.site_id = ?1 AND c.id = ?2 AND c.status = 'sending') \
         ORDER BY s.id LIMIT {MATERIALISE_CHUNK}"
    );
    // No `ledger_done = 0` guard: SQLite counts a matched row as changed even
    // when the value stays, so `changes > 0` means "complete" also when a
    // concurrent caller set it first.
    let complete = format!(
        "UPDATE campaigns SET ledger_done = 1 WHERE site_id = ?1 AND id = ?2 \
         AND NOT EXISTS (SELECT 1 {BEYOND_LEDGER})"
    );
    let mut created = 0;
    for _ in 0..MATERIALISE_ROUNDS {
        created += db
            .execute(
                &db.statement(insert.as_str())
                    .bind(campaign)
                    .bind(started_at),
            )
            .await?
            .changes;
        let done = db
            .execute(
                &db.statement(complete.as_str())
                    .bind(campaign)
                    .bind(started_at),
            )
            .await?;
        if done.changes > 0 {
            return Ok((created, true));
        }
    }
    Ok((created, false))
}

/// Claims pending rows due for a job (never enqueued, or enqueued before
/// `now - requeue_after`) by setting `enqueued_at = now`, page by page, and
/// enqueues them as jobs of [`JOB_SIZE`]. When the queue refuses, the rows
/// not enqueued are released (`enqueued_at` back to NULL) and the error
/// returned. Returns the rows enqueued.
async fn enqueue_pending<S: Sql, Q: WorkQueue>(
    db: &SiteDb<'_, S>,
    queue: &Q,
    settings: &Settings,
    campaign: &str,
    now_ms: i64,
) -> Result<usize, PortError> {
    let due = "site_id = ?1 AND campaign_id = ?2 AND status = 'pending' \
               AND (enqueued_at IS NULL OR enqueued_at < ?4)";
    let claim = format!(
        "UPDATE campaign_deliveries SET enqueued_at = ?3 WHERE {due} AND subscriber_id IN \
         (SELECT subscriber_id FROM campaign_deliveries WHERE {due} \
          ORDER BY subscriber_id LIMIT {ENQUEUE_PAGE}) RETURNING subscriber_id"
    );
    let stale_before = now_ms.saturating_sub(settings.requeue_after_ms);
    let mut enqueued = 0;
    for _ in 0..ENQUEUE_ROUNDS {
        let rows: Vec<SubscriberId> = db
            .query_as(
                &db.statement(claim.as_str())
                    .bind(campaign)
                    .bind(now_ms)
                    .bind(stale_before),
            )
            .await?;
        let mut ids: Vec<String> = rows.into_iter().map(|r| r.subscriber_id).collect();
        ids.sort_unstable();
        let jobs: Vec<Job> = ids
            .chunks(JOB_SIZE)
            .map(|chunk| Job {
                site: db.site().to_string(),
                campaign: campaign.to_owned(),
                subscribers: chunk.to_vec(),
            })
            .collect();
        for (i, batch) in jobs.chunks(QUEUE_BATCH).enumerate() {
            if let Err(e) = queue.enqueue(batch).await {
                let unsent = jobs.get(i * QUEUE_BATCH..).unwrap_or_default();
                // Best effort: rows left claimed are enqueued again after
                // `requeue_after` anyway.
                let _ = release(db, campaign, now_ms, unsent).await;
                return Err(e);
            }
        }
        enqueued += ids.len();
        if ids.len() < ENQUEUE_PAGE {
            break;
        }
    }
    Ok(enqueued)
}

/// Sets `enqueued_at` back to NULL on the rows of `jobs` this call claimed.
async fn release<S: Sql>(
    db: &SiteDb<'_, S>,
    campaign: &str,
    now_ms: i64,
    jobs: &[Job],
) -> Result<(), PortError> {
    let stmts: Vec<Statement> = jobs
        .iter()
        .map(|job| {
            let marks: Vec<String> = (0..job.subscribers.len())
                .map(|i| format!("?{}", i + 4))
                .collect();
            let marks = marks.join(", ");
            job.subscribers.iter().fold(
                db.statement(&format!(
                    "UPDATE campaign_deliveries SET enqueued_at = NULL WHERE site_id = ?1 \
                     AND campaign_id = ?2 AND status = 'pending' AND enqueued_at = ?3 \
                     AND subscriber_id IN ({marks})"
                ))
                .bind(campaign)
                .bind(now_ms),
                |stmt, id| stmt.bind(id.as_str()),
            )
        })
        .collect();
    if stmts.is_empty() {
        return Ok(());
    }
    db.batch(&stmts).await.map(|_| ())
}
