//! The campaigns list: every campaign of the site, newest first, optionally
//! of one status, each with its delivery counts (one query for the whole
//! page) and without its bodies.
use sealpost_api::query::OffsetPaging;
use sealpost_api::{ApiRequest, ApiResponse, PageInfo, Validator};
use sealpost_ports::{Clock, Rng, Sql, SqlValue};
use serde::Deserialize;
use serde_json::Value;

use super::{Answer, CAMPAIGN_COLUMNS, COUNTS, CampaignRow, Counts, Sending, view};
use crate::ports::WorkQueue;

/// A campaign's statuses, as stored.
pub const STATUSES: [&str; 5] = ["draft", "scheduled", "sending", "paused", "sent"];

impl<S: Sql, C: Clock, R: Rng, Q: WorkQueue> Sending<'_, S, C, R, Q> {
    /// `GET /admin/campaigns?status&page&pageSize`.
    pub(super) async fn list(&self, input: &ApiRequest) -> Answer {
        self.admin(input).await?;
        let paging = OffsetPaging::from_query(&input.query)?;
        let status = input.query.get_nonblank("status");
        let mut v = Validator::new();
        if let Some(s) = status {
            v.one_of("status", s, &STATUSES);
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
            n: Counts,
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
        let none = Counts::default();
        let items: Vec<Value> = rows
            .iter()
            .map(|c| {
                let n = counts
                    .iter()
                    .find(|r| r.campaign_id == c.id)
                    .map_or(&none, |r| &r.n);
                let mut item = view(c, n);
                if let Some(o) = item.as_object_mut() {
                    o.remove("body");
                }
                item
            })
            .collect();
        Ok(ApiResponse::offset_list(
            &items,
            PageInfo::new(&paging, total),
        ))
    }
}
