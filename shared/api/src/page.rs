//! [`offset_page`]: one page of an offset-paged list and the total it is
//! part of, read with the same filter — the shape of every admin table and
//! public list (`GET /admin/users`, `/admin/audit`, `/admin/posts`, `/posts`).
use sealpost_ports::{PortError, SiteDb, Sql, SqlValue, Statement};
use serde::de::DeserializeOwned;

use crate::query::{OffsetPaging, PageInfo};

#[derive(serde::Deserialize)]
struct Total {
    total: i64,
}

/// `SELECT COUNT(*) {from_where}` and `SELECT {columns} {from_where} ORDER BY
/// {order_by} LIMIT … OFFSET …`. `from_where` is scoped by `site_id = ?1`
/// (the handle binds it) and refers to `binds` as `?2`, `?3`, … in order.
pub async fn offset_page<S: Sql, T: DeserializeOwned>(
    db: &SiteDb<'_, S>,
    columns: &str,
    from_where: &str,
    binds: &[SqlValue],
    order_by: &str,
    paging: &OffsetPaging,
) -> Result<(Vec<T>, PageInfo), PortError> {
    let bound = |mut stmt: Statement| {
        for v in binds {
            stmt = stmt.bind(v.clone());
        }
        stmt
    };
    let total: Option<Total> = db
        .query_one(&bound(
            db.statement(&format!("SELECT COUNT(*) AS total {from_where}")),
        ))
        .await?;
    let total = total.map_or(0, |t| u64::try_from(t.total).unwrap_or(0));
    let limit_at = binds.len() + 2;
    let rows = db
        .query_as(
            &bound(db.statement(&format!(
                "SELECT {columns} {from_where} ORDER BY {order_by} LIMIT ?{limit_at} OFFSET ?{}",
                limit_at + 1
            )))
            .bind(i64::from(paging.limit()))
            .bind(i64::try_from(paging.offset()).unwrap_or(i64::MAX)),
        )
        .await?;
    Ok((rows, PageInfo::new(paging, total)))
}
