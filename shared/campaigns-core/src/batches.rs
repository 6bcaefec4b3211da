//! A campaign's batches: the ledger rows sent together in one provider
//! request under one idempotency key (Resend keys whole requests, not
//! emails). A batch is recorded before its first send — its key, the link
//! origin, the digest of the composed body and, on each member row, its
//! position, locale and a copy of its sealed address — and never changes
//! until its rows are settled, so every retry of any of its rows, whoever
//! takes it, is the same request byte for byte (docs/adr/0015).
use sealpost_ports::{PortError, SiteDb, SiteId, Sql, Statement};
use serde::Deserialize;

use crate::keys::CampaignKeys;
use crate::mail::CampaignMail;
use crate::mail::CampaignText;
use crate::ports::{Batch, KEY_LIFETIME_MS};

/// How close to the provider's key lifetime a batch is still resent: an
/// hour's margin for clock skew and a request in flight.
pub const RESEND_WITHIN_MS: i64 = KEY_LIFETIME_MS - 3_600_000;

/// The idempotency key of batch `id`: `campaign/{site}/{campaign}/{id}`.
pub fn batch_key(site: &SiteId, campaign: &str, id: &str) -> String {
    format!("campaign/{site}/{campaign}/{id}")
}

/// One member of a batch, as recorded on its ledger row.
#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    pub subscriber_id: String,
    #[serde(rename = "batch_locale")]
    pub locale: String,
    #[serde(rename = "batch_sealed")]
    pub sealed: Option<String>,
}

/// A recorded batch.
#[derive(Debug, Clone, Deserialize)]
pub struct Recorded {
    pub idempotency_key: String,
    pub origin: String,
    pub body_digest: String,
    pub first_sent_at: i64,
}

/// The statements recording a new batch `id` of `members` (in order), as
/// composed into `batch` with links on `origin`, at `now`, in the site of
/// `db`: the batch row first, then one guarded write per member (its row
/// must still be held by `claim` and in no batch). The caller checks that
/// every member write changed its row.
#[allow(clippy::too_many_arguments)]
pub fn record<S: Sql>(
    db: &SiteDb<'_, S>,
    campaign: &str,
    id: &str,
    origin: &str,
    batch: &Batch,
    claim: &str,
    members: &[Member],
    now: i64,
) -> Vec<Statement> {
    let mut stmts = Vec::with_capacity(members.len() + 1);
    stmts.push(
        db.statement(
            "INSERT INTO campaign_batches (site_id, campaign_id, id, idempotency_key, origin, \
             body_digest, first_sent_at, sends) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
        )
        .bind(campaign)
        .bind(id)
        .bind(batch.idempotency_key.as_str())
        .bind(origin)
        .bind(batch.body_digest())
        .bind(now),
    );
    for (pos, m) in members.iter().enumerate() {
        stmts.push(
            db.statement(
                "UPDATE campaign_deliveries SET batch_id = ?4, batch_pos = ?5, batch_locale = ?6, \
                 batch_sealed = ?7 WHERE site_id = ?1 AND campaign_id = ?2 AND subscriber_id = ?3 \
                 AND claim_id = ?8 AND status = 'sending' AND batch_id IS NULL",
            )
            .bind(campaign)
            .bind(m.subscriber_id.as_str())
            .bind(id)
            .bind(i64::try_from(pos).unwrap_or(i64::MAX))
            .bind(m.locale.as_str())
            .bind(m.sealed.as_deref())
            .bind(claim),
        );
    }
    stmts
}

/// Forgets batch `id`: allowed only while the provider provably never
/// processed it (its first request was refused before processing, or was
/// never made); its rows can then join another batch.
pub fn dissolve<S: Sql>(db: &SiteDb<'_, S>, campaign: &str, id: &str) -> [Statement; 2] {
    [
        db.statement(
            "UPDATE campaign_deliveries SET batch_id = NULL, batch_pos = NULL, \
             batch_locale = NULL, batch_sealed = NULL \
             WHERE site_id = ?1 AND campaign_id = ?2 AND batch_id = ?3",
        )
        .bind(campaign)
        .bind(id),
        db.statement(
            "DELETE FROM campaign_batches WHERE site_id = ?1 AND campaign_id = ?2 AND id = ?3",
        )
        .bind(campaign)
        .bind(id),
    ]
}

/// Counts one more provider call of batch `id`.
pub fn count_send<S: Sql>(db: &SiteDb<'_, S>, campaign: &str, id: &str) -> Statement {
    db.statement(
        "UPDATE campaign_batches SET sends = sends + 1 \
         WHERE site_id = ?1 AND campaign_id = ?2 AND id = ?3",
    )
    .bind(campaign)
    .bind(id)
}

/// Clears the address copies of batch `id` once none of its rows is
/// `pending` or `sending` any more.
pub fn forget_addresses<S: Sql>(db: &SiteDb<'_, S>, campaign: &str, id: &str) -> Statement {
    db.statement(
        "UPDATE campaign_deliveries SET batch_sealed = NULL \
         WHERE site_id = ?1 AND campaign_id = ?2 AND batch_id = ?3 AND batch_sealed IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM campaign_deliveries d WHERE d.site_id = ?1 \
           AND d.campaign_id = ?2 AND d.batch_id = ?3 AND d.status IN ('pending', 'sending'))",
    )
    .bind(campaign)
    .bind(id)
}

/// Batch `id` and its members in order.
pub async fn load<S: Sql>(
    db: &SiteDb<'_, S>,
    campaign: &str,
    id: &str,
) -> Result<Option<(Recorded, Vec<Member>)>, PortError> {
    let recorded: Option<Recorded> = db
        .query_one(
            &db.statement(
                "SELECT idempotency_key, origin, body_digest, first_sent_at FROM campaign_batches \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND id = ?3",
            )
            .bind(campaign)
            .bind(id),
        )
        .await?;
    let Some(recorded) = recorded else {
        return Ok(None);
    };
    let members: Vec<Member> = db
        .query_as(
            &db.statement(
                "SELECT subscriber_id, batch_locale, batch_sealed FROM campaign_deliveries \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND batch_id = ?3 ORDER BY batch_pos",
            )
            .bind(campaign)
            .bind(id),
        )
        .await?;
    Ok(Some((recorded, members)))
}

/// The request of a recorded batch, composed again from what was recorded;
/// `None` unless it is exactly the request first sent (its digest).
pub fn recompose(
    keys: &CampaignKeys,
    site: &SiteId,
    campaign: &str,
    text: &CampaignText,
    recorded: &Recorded,
    members: &[Member],
) -> Option<Batch> {
    let mail = CampaignMail::new(site.as_str(), campaign, &recorded.origin, text);
    let mut emails = Vec::with_capacity(members.len());
    for m in members {
        let to = keys.open_email(site.as_str(), &m.subscriber_id, m.sealed.as_deref()?)?;
        emails.push(mail.compose(keys, &m.subscriber_id, &to, &m.locale));
    }
    let batch = Batch {
        idempotency_key: recorded.idempotency_key.clone(),
        emails,
    };
    (!batch.emails.is_empty() && batch.body_digest() == recorded.body_digest).then_some(batch)
}
