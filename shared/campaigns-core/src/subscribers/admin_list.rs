//! `GET /admin/subscribers`: the admins' list of a site's subscribers, by
//! status, newest first, with the addresses opened; `q` finds a full
//! address by its blind index, anything shorter by a bounded substring scan.
use sealpost_api::query::OffsetPaging;
use sealpost_api::subscribers::SubscriberItem as Item;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, Email, PageInfo, Validator};
use sealpost_guard::{Role, live_caller, require_staff};
use sealpost_ports::{Clock, PortError, RateLimiter, Rng, Sql, SqlValue, rfc3339};
use serde::Deserialize;

use super::{Answer, Subscriptions};
use crate::model::STATUSES;
use crate::ports::{Mailer, Turnstile};
use crate::rate::Pause;

/// Longest `q` of the admin list, in characters.
pub const QUERY_MAX: usize = 254;
/// Rows decrypted per chunk of a substring search.
pub const SEARCH_CHUNK: usize = 1000;
/// The most rows a substring search decrypts; a larger filtered set needs a
/// full address.
pub const SEARCH_SCAN_MAX: u64 = 20_000;
#[derive(Deserialize)]
struct Total {
    total: i64,
}

/// A row of the admin list.
#[derive(Deserialize)]
struct ListRow {
    id: String,
    email_sealed: String,
    locale: String,
    status: String,
    created_at: i64,
    confirmed_at: Option<i64>,
}

const LIST_COLUMNS: &str = "id, email_sealed, locale, status, created_at, confirmed_at";

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause>
    Subscriptions<'_, S, C, R, L, T, M, P>
{
    pub(super) async fn admin_list(&self, input: &ApiRequest) -> Answer {
        let claims =
            live_caller(self.verifier, input.authorization(), &self.db, self.clock).await?;
        require_staff(&claims, Role::Admin)?;

        let mut v = Validator::new();
        let paging = match OffsetPaging::from_query(&input.query) {
            Ok(p) => p,
            Err(e) => {
                for fe in e.errors {
                    v.add(fe.field, fe.message);
                }
                OffsetPaging::default()
            }
        };
        let status = input.query.get("status");
        if let Some(s) = status {
            v.one_of("status", s, &STATUSES);
        }
        let q = input.query.get_nonblank("q");
        if let Some(q) = q {
            v.text_len("q", q, 1, QUERY_MAX);
        }
        v.finish()?;

        let (rows, page) = match q {
            None => {
                let (filter, binds) = status_filter(status, Vec::new());
                self.list_page(&filter, &binds, &paging).await?
            }
            Some(q) => match Email::parse(q) {
                Ok(email) => {
                    let (filter, binds) = status_filter(
                        status,
                        vec![SqlValue::from(self.keys.blind_index(email.as_str()))],
                    );
                    let filter = format!("{filter} AND email_index = ?2");
                    self.list_page(&filter, &binds, &paging).await?
                }
                Err(_) => return self.search(status, q, &paging).await,
            },
        };
        let items: Vec<Item> = rows.iter().map(|r| self.item(r)).collect();
        Ok(ApiResponse::offset_list(&items, page))
    }

    async fn list_page(
        &self,
        filter: &str,
        binds: &[SqlValue],
        paging: &OffsetPaging,
    ) -> Result<(Vec<ListRow>, PageInfo), PortError> {
        let (rows, total) = self
            .db
            .offset_page(
                LIST_COLUMNS,
                &format!("FROM subscribers {filter}"),
                binds,
                "created_at DESC, id DESC",
                paging.limit(),
                paging.offset(),
            )
            .await?;
        Ok((rows, PageInfo::new(paging, total)))
    }

    fn item(&self, row: &ListRow) -> Item {
        Item {
            id: row.id.clone(),
            email: self
                .keys
                .open_email(self.site(), &row.id, &row.email_sealed),
            locale: row.locale.clone(),
            status: row.status.clone(),
            created_at: rfc3339(row.created_at),
            confirmed_at: row.confirmed_at.map(rfc3339),
        }
    }

    /// A case-insensitive substring search: decrypts the filtered rows,
    /// newest first, in keyset chunks, when there are at most
    /// [`SEARCH_SCAN_MAX`] of them; pages the matches in memory.
    async fn search(&self, status: Option<&str>, q: &str, paging: &OffsetPaging) -> Answer {
        let needle = q.to_lowercase();
        let (filter, binds) = status_filter(status, Vec::new());
        let mut count = self.db.statement(&format!(
            "SELECT COUNT(*) AS total FROM subscribers {filter}"
        ));
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total: Option<Total> = self.db.query_one(&count).await?;
        if total.map_or(0, |t| u64::try_from(t.total).unwrap_or(0)) > SEARCH_SCAN_MAX {
            return Err(ApiError::field(
                "q",
                format!(
                    "Search by full address when there are more than {SEARCH_SCAN_MAX} subscribers"
                ),
            )
            .into());
        }
        let mut matches: Vec<Item> = Vec::new();
        let mut cursor: Option<(i64, String)> = None;
        let mut scanned: u64 = 0;
        while scanned < SEARCH_SCAN_MAX {
            let next = binds.len() + 2;
            let mut sql = format!("SELECT {LIST_COLUMNS} FROM subscribers {filter}");
            if cursor.is_some() {
                sql.push_str(&format!(
                    " AND (created_at < ?{next} OR (created_at = ?{next} AND id < ?{}))",
                    next + 1
                ));
            }
            let limit_at = if cursor.is_some() { next + 2 } else { next };
            sql.push_str(&format!(
                " ORDER BY created_at DESC, id DESC LIMIT ?{limit_at}"
            ));
            let mut stmt = self.db.statement(&sql);
            for b in &binds {
                stmt = stmt.bind(b.clone());
            }
            if let Some((at, id)) = &cursor {
                stmt = stmt.bind(*at).bind(id.as_str());
            }
            let limit = i64::try_from(SEARCH_CHUNK).unwrap_or(1000);
            let rows: Vec<ListRow> = self.db.query_as(&stmt.bind(limit)).await?;
            scanned += rows.len() as u64;
            for row in &rows {
                let item = self.item(row);
                if item.email.as_deref().is_some_and(|e| e.contains(&needle)) {
                    matches.push(item);
                }
            }
            match rows.last() {
                Some(last) if rows.len() == SEARCH_CHUNK => {
                    cursor = Some((last.created_at, last.id.clone()));
                }
                _ => break,
            }
        }
        let page = PageInfo::new(paging, matches.len() as u64);
        let from = usize::try_from(paging.offset()).unwrap_or(usize::MAX);
        let items: Vec<Item> = matches
            .into_iter()
            .skip(from)
            .take(paging.limit() as usize)
            .collect();
        Ok(ApiResponse::offset_list(&items, page))
    }
}

/// `WHERE site_id = ?1` plus the status filter as the next parameter after
/// `binds` (which come first, as `?2`, …).
fn status_filter(status: Option<&str>, mut binds: Vec<SqlValue>) -> (String, Vec<SqlValue>) {
    let mut filter = String::from("WHERE site_id = ?1");
    if let Some(s) = status {
        binds.push(SqlValue::from(s));
        filter.push_str(&format!(" AND status = ?{}", binds.len() + 1));
    }
    (filter, binds)
}
