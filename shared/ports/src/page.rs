//! Offset paging through [`SiteDb`]: one page of a list and the total it is
//! part of, read with the same filter — the shape of every admin table and
//! public list. The HTTP side (page numbers, `PageInfo`) stays with the
//! contract crate; this is only the two queries, and the one that reads what
//! belongs to the rows of a page ([`SiteDb::query_for_ids`]).
use serde::de::DeserializeOwned;

use crate::error::PortError;
use crate::site::SiteDb;
use crate::sql::{Sql, SqlValue, Statement};

#[derive(serde::Deserialize)]
struct Total {
    total: i64,
}

impl<S: Sql> SiteDb<'_, S> {
    /// `SELECT COUNT(*) {from_where}` and `SELECT {columns} {from_where}
    /// ORDER BY {order_by} LIMIT {limit} OFFSET {offset}`: the rows and the
    /// total. `from_where` is scoped by `site_id = ?1` (the handle binds
    /// it) and refers to `binds` as `?2`, `?3`, … in order.
    pub async fn offset_page<T: DeserializeOwned>(
        &self,
        columns: &str,
        from_where: &str,
        binds: &[SqlValue],
        order_by: &str,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<T>, u64), PortError> {
        let bound = |mut stmt: Statement| {
            for v in binds {
                stmt = stmt.bind(v.clone());
            }
            stmt
        };
        let total: Option<Total> = self
            .query_one(&bound(
                self.statement(&format!("SELECT COUNT(*) AS total {from_where}")),
            ))
            .await?;
        let total = total.map_or(0, |t| u64::try_from(t.total).unwrap_or(0));
        let limit_at = binds.len() + 2;
        let rows = self
            .query_as(
                &bound(self.statement(&format!(
                    "SELECT {columns} {from_where} ORDER BY {order_by} LIMIT ?{limit_at} OFFSET ?{}",
                    limit_at + 1
                )))
                .bind(i64::from(limit))
                .bind(i64::try_from(offset).unwrap_or(i64::MAX)),
            )
            .await?;
        Ok((rows, total))
    }

    /// The rows `sql` selects for `ids` (the rows of a page, say), in one
    /// query: `sql` is scoped by `site_id = ?1` and names the ids as
    /// `IN (SELECT value FROM json_each(?2))`. No ids, no query.
    pub async fn query_for_ids<T: DeserializeOwned>(
        &self,
        sql: &str,
        ids: &[&str],
    ) -> Result<Vec<T>, PortError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(ids).map_err(|e| PortError::Decode(e.to_string()))?;
        self.query_as(&self.statement(sql).bind(ids)).await
    }
}
