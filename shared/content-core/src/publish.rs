//! Scheduled publishing (the content worker's cron, every minute).
//!
//! The claim is one statement: an `UPDATE … WHERE status = 'scheduled' AND
//! publish_at <= now … RETURNING`. SQLite (D1) applies statements one at a
//! time, so when runs overlap each due post matches the `WHERE` of exactly
//! one of them: the first flips it to `published`, and the others no longer
//! see it as scheduled. A post whose time passed while no cron ran (an
//! outage, a deploy) is simply due, and the next run publishes it. Runs
//! cover every site: this is the one place that reads across sites, through
//! the plain [`Sql`] port (docs/adr/0011).
use sealpost_ports::{PortError, Rng, Sql, Statement};
use serde::Deserialize;

/// Posts claimed per statement; a run repeats until fewer come back.
pub const CLAIM_BATCH: usize = 100;
/// Statements per run at most (a run publishes up to 20 × 100 posts; the
/// next minute takes the rest).
pub const MAX_ROUNDS: usize = 20;

/// A post this run published.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Published {
    pub site_id: String,
    pub id: String,
}

/// Publishes every scheduled post whose `publish_at` is at or before
/// `now_ms`, oldest first; returns those this call published.
pub async fn publish_due<S: Sql, R: Rng>(
    sql: &S,
    rng: &R,
    now_ms: i64,
) -> Result<Vec<Published>, PortError> {
    let mut out = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let claim = Statement::new(format!(
            "UPDATE posts SET status = 'published', published_at = ?1, publish_at = NULL, \
             version = version + 1, updated_at = ?1, edit_id = ?2 \
             WHERE status = 'scheduled' AND publish_at <= ?1 AND id IN \
             (SELECT id FROM posts WHERE status = 'scheduled' AND publish_at <= ?1 \
              ORDER BY publish_at, id LIMIT {CLAIM_BATCH}) \
             RETURNING site_id, id"
        ))
        .bind(now_ms)
        .bind(rng.id()?);
        let rows: Vec<Published> = sql.query_as(&claim).await?;
        let done = rows.len() < CLAIM_BATCH;
        out.extend(rows);
        if done {
            break;
        }
    }
    Ok(out)
}
