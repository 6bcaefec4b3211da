//! The campaigns list: every campaign of the site, newest first, optionally
//! of one status, each with its delivery counts (one query for the whole
//! page) and without its bodies.
use sealpost_api::campaigns::{Campaign, CampaignCounts, CampaignStatus};
use sealpost_api::query::OffsetPaging;
use sealpost_api::{ApiRequest, ApiResponse, PageInfo, Validator};
use sealpost_ports::{Clock, Rng, Sql, SqlValue};
use serde::Deserialize;

use super::{Answer, CAMPAIGN_COLUMNS, COUNTS, CampaignRow, Sending, view};
use crate::ports::WorkQueue;

impl<S: Sql, C: Clock, R: Rng, Q: WorkQueue> Sending<'_, S, C, R, Q> {
    /// `GET /admin/campaigns?status&page&pageSize`.
    pub(super) async fn list(&self, input: &ApiRequest) -> Answer {
        self.admin(input).await?;
        let paging = OffsetPaging::from_query(&input.query)?;
        let status = input.query.get_nonblank("status");
        let mut v = Validator::new();
        if let Some(s) = status {
            v.one_of("status", s, &CampaignStatus::NAMES);
        }
        v.finish()?;
        let (filter, binds) = match status {
            Some(s) => (" AND status = ?2", vec![SqlValue::from(s)]),
            None => ("", Vec::new()),
        };
        let (rows, total): (Vec<CampaignRow>, _) = self
            .db
            .offset_page(
                CAMPAIGN_COLUMNS,
                &format!("FROM campaigns WHERE site_id = ?1{filter}"),
                &binds,
                "created_at DESC, id DESC",
                paging.limit(),
                paging.offset(),
            )
            .await?;
        #[derive(Deserialize)]
        struct Row {
            campaign_id: String,
            #[serde(flatten)]
            n: CampaignCounts,
        }
        let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
        let counts: Vec<Row> = self
            .db
            .query_for_ids(
                &format!(
                    "SELECT campaign_id, {COUNTS} FROM campaign_deliveries \
                     WHERE site_id = ?1 AND campaign_id IN (SELECT value FROM json_each(?2)) \
                     GROUP BY campaign_id"
                ),
                &ids,
            )
            .await?;
        let items: Vec<Campaign> = rows
            .iter()
            .map(|c| {
                let n = counts
                    .iter()
                    .find(|r| r.campaign_id == c.id)
                    .map_or_else(CampaignCounts::default, |r| r.n);
                Campaign {
                    body: None,
                    ..view(c, n)
                }
            })
            .collect();
        Ok(ApiResponse::offset_list(
            &items,
            PageInfo::new(&paging, total),
        ))
    }
}
