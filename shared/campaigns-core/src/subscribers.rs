//! Subscribers: the public double opt-in routes (`POST /subscribe`, the
//! confirmation and unsubscribe links and their pages), the admins' list
//! (`GET /admin/subscribers`) and the local seeding route
//! (`POST /__dev/subscribers`), served by [`Subscriptions`].
//!
//! Addresses are stored only sealed, found by their blind index
//! (docs/adr/0013). `POST /subscribe` (its own module, `subscribe`) answers
//! the same 202 for every accepted request, whatever the address's state,
//! so it tells nobody whether an address is subscribed; each address has
//! its own email budget (GCRA on `subscribers.mail_tat`: [`MAIL_BURST`]
//! emails, then one per [`MAIL_INTERVAL_MS`]). The GET pages of the links
//! change nothing (link scanners follow links); only their forms' POSTs do.
//! Contract: API.md (Campaigns); decisions: docs/api.md (Campaigns).
use sealpost_api::body::{FORM_MEDIA_TYPE, media_type, parse_form, parse_json};
use sealpost_api::query::OffsetPaging;
use sealpost_api::routes::RouteId;
use sealpost_api::{
    ApiError, ApiRequest, ApiResponse, Email, ErrorCode, Locale, PageInfo, Validator,
};
use sealpost_guard::{Role, Verifier, live_caller, require_staff};
use sealpost_ports::{
    Clock, PortError, RateLimiter, Rng, SiteDb, Sql, SqlValue, Statement, rfc3339,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::keys::CampaignKeys;
use crate::model::STATUSES;
use crate::pages;
use crate::ports::{Mailer, Turnstile};
use crate::rate::Pause;
use crate::settings::Settings;

pub use sealpost_api::Failure;

mod subscribe;
pub use subscribe::{
    MAIL_BURST, MAIL_INTERVAL_MS, SEND_BUSY_MESSAGE, SEND_FAILED_MESSAGE, SEND_SLOT_WAIT_MS,
    SUBSCRIBE_MESSAGE, SUBSCRIBE_RETRY_AFTER_SECS, TURNSTILE_TOKEN_MAX,
};

type Answer = Result<ApiResponse, Failure>;

/// Longest `q` of the admin list, in characters.
pub const QUERY_MAX: usize = 254;
/// Rows decrypted per chunk of a substring search.
pub const SEARCH_CHUNK: usize = 1000;
/// The most rows a substring search decrypts; a larger filtered set needs a
/// full address.
pub const SEARCH_SCAN_MAX: u64 = 20_000;
/// Most subscribers `POST /__dev/subscribers` creates at once.
pub const DEV_SEED_MAX: i64 = 20_000;
/// Rows per seeding INSERT (3 shared + 4 per row ≤ 100 bound parameters).
const SEED_ROWS_PER_STATEMENT: usize = 24;
/// Seeding statements per D1 batch.
const SEED_STATEMENTS_PER_BATCH: usize = 50;

/// The subscriptions service for one request (routes `Subscribe`,
/// `SubscribeConfirmPage`, `SubscribeConfirm`, `UnsubscribePage`,
/// `Unsubscribe`, `AdminSubscribers`, `DevSubscribers`).
pub struct Subscriptions<
    'a,
    S: Sql,
    C: Clock,
    R: Rng,
    L: RateLimiter,
    T: Turnstile,
    M: Mailer,
    P: Pause,
> {
    pub db: SiteDb<'a, S>,
    /// The plain SQL port, for the one global row a subscribe touches: the
    /// provider's send-rate cell (`send_rate`, [`crate::rate`]).
    pub rate_sql: &'a S,
    /// The send-rate cap (`SEND_RATE_PER_SEC`, `SEND_RATE_BURST`).
    pub settings: &'a Settings,
    /// Waits for a send slot reserved a moment ahead.
    pub pause: &'a P,
    pub clock: &'a C,
    pub rng: &'a R,
    pub keys: &'a CampaignKeys,
    pub turnstile: &'a T,
    pub mailer: &'a M,
    /// The per-IP throttle of `POST /subscribe`; `None`: off.
    pub limiter: Option<&'a L>,
    /// The access-token keys (the admin list only).
    pub verifier: Option<&'a Verifier>,
    /// `DEV_MODE`: `POST /__dev/subscribers` exists.
    pub dev: bool,
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause> std::fmt::Debug
    for Subscriptions<'_, S, C, R, L, T, M, P>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriptions")
            .field("site", self.db.site())
            .field("dev", &self.dev)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TokenInput {
    #[serde(default)]
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevSeedInput {
    prefix: String,
    count: i64,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    domain: Option<String>,
}

#[derive(Deserialize)]
struct StatusRow {
    status: String,
}

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

/// An item of `GET /admin/subscribers`. `email` is `null` only if the
/// stored address does not open (another `CAMPAIGNS_KEY`, a damaged row).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    id: String,
    email: Option<String>,
    locale: String,
    status: String,
    created_at: String,
    confirmed_at: Option<String>,
}

fn token_invalid() -> Failure {
    ApiError::new(ErrorCode::TokenInvalid).into()
}

/// Whether the client wants an HTML page back (a browser's form post).
fn accepts_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
}

fn is_form(content_type: Option<&str>) -> bool {
    media_type(content_type).as_deref() == Some(FORM_MEDIA_TYPE)
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// An HTML page that is never cached (it answers one link).
fn html(status: u16, page: String) -> ApiResponse {
    ApiResponse::html(status, page).with_header("cache-control", "no-store")
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause>
    Subscriptions<'_, S, C, R, L, T, M, P>
{
    /// Serves `input`.
    pub async fn handle(&self, input: &ApiRequest) -> Answer {
        match input.id() {
            RouteId::Subscribe => self.subscribe(input).await,
            RouteId::SubscribeConfirmPage => Ok(self.confirm_page(input)),
            RouteId::SubscribeConfirm => self.confirm(input).await,
            RouteId::UnsubscribePage => Ok(self.unsubscribe_page(input)),
            RouteId::Unsubscribe => self.unsubscribe(input).await,
            RouteId::AdminSubscribers => self.admin_list(input).await,
            RouteId::DevSubscribers if self.dev => self.dev_seed(input).await,
            _ => Err(ApiError::not_found().into()),
        }
    }

    fn site(&self) -> &str {
        self.db.site().as_str()
    }

    // ---- the confirmation link ----------------------------------------------

    /// `GET /subscribe/confirm?token`: a page with a button; no write.
    fn confirm_page(&self, input: &ApiRequest) -> ApiResponse {
        let now = self.clock.now_ms();
        match input.query.get("token").map(str::trim) {
            Some(token) if self.keys.check_confirm(token, now).is_some() => {
                html(200, pages::confirm_page(token))
            }
            _ => html(400, pages::invalid_link_page()),
        }
    }

    /// `POST /subscribe/confirm` with `{token}` or `token=…`.
    async fn confirm(&self, input: &ApiRequest) -> Answer {
        let form = is_form(input.header("content-type"));
        let browser = form && accepts_html(input.header("accept"));
        let token = if form {
            form_token(&input.body)?
        } else if is_blank(&input.body) {
            None
        } else {
            parse_json::<TokenInput>(&input.body)?.token
        };
        let Some(token) = token else {
            return Err(ApiError::field("token", "Required").into());
        };
        let now = self.clock.now_ms();
        let confirmed = match self.keys.check_confirm(&token, now) {
            Some(claim) => {
                self.confirm_claim(&claim.subscriber_id, &claim.nonce, now)
                    .await?
            }
            None => false,
        };
        match (confirmed, browser) {
            (true, true) => Ok(html(200, pages::confirmed_page())),
            (true, false) => Ok(ApiResponse::mutation(
                200,
                "Subscription confirmed",
                &json!({"status": "confirmed"}),
            )),
            (false, true) => Ok(html(400, pages::invalid_link_page())),
            (false, false) => Err(token_invalid()),
        }
    }

    /// Confirms the pending subscriber of this opt-in round; `true` also
    /// when it already is (a repeated click), `false` when the round is
    /// over (a newer nonce, unsubscribed, gone).
    async fn confirm_claim(&self, id: &str, nonce: &str, now: i64) -> Result<bool, PortError> {
        let done = self
            .db
            .execute(
                &self
                    .db
                    .statement(
                        "UPDATE subscribers SET status = 'confirmed', confirmed_at = ?4, \
                         updated_at = ?4 \
                         WHERE site_id = ?1 AND id = ?2 AND confirm_nonce = ?3 \
                         AND status = 'pending'",
                    )
                    .bind(id)
                    .bind(nonce)
                    .bind(now),
            )
            .await?;
        if done.changes > 0 {
            return Ok(true);
        }
        let row: Option<StatusRow> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT status FROM subscribers \
                         WHERE site_id = ?1 AND id = ?2 AND confirm_nonce = ?3",
                    )
                    .bind(id)
                    .bind(nonce),
            )
            .await?;
        Ok(row.is_some_and(|r| r.status == "confirmed"))
    }

    // ---- the unsubscribe link -------------------------------------------------

    /// `GET /unsubscribe?token`: a one-click form; no write.
    fn unsubscribe_page(&self, input: &ApiRequest) -> ApiResponse {
        match input.query.get("token").map(str::trim) {
            Some(token) if self.keys.check_unsubscribe(token).is_some() => {
                html(200, pages::unsubscribe_page(token))
            }
            _ => html(400, pages::invalid_link_page()),
        }
    }

    /// `POST /unsubscribe?token`: RFC 8058 one-click (the form body
    /// `List-Unsubscribe=One-Click`), an empty body, or JSON `{}` /
    /// `{token}`. Repeats and unknown subscribers answer 200 too.
    async fn unsubscribe(&self, input: &ApiRequest) -> Answer {
        let form = is_form(input.header("content-type"));
        let browser = form && accepts_html(input.header("accept"));
        let body_token = if is_blank(&input.body) {
            None
        } else if form || is_multipart(input.header("content-type")) {
            let one_click = if form {
                let pairs = parse_form(&input.body);
                pairs.len() == 1
                    && pairs
                        .first()
                        .is_some_and(|(k, v)| k == "List-Unsubscribe" && v == "One-Click")
            } else {
                multipart_one_click(&input.body)
            };
            if !one_click {
                return Err(ApiError::field(
                    "List-Unsubscribe",
                    "The form body must be List-Unsubscribe=One-Click",
                )
                .into());
            }
            None
        } else {
            parse_json::<TokenInput>(&input.body)?.token
        };
        let token = input
            .query
            .get_nonblank("token")
            .map(str::to_owned)
            .or(body_token);
        let Some(token) = token else {
            return Err(ApiError::field("token", "Required").into());
        };
        let Some(id) = self.keys.check_unsubscribe(&token) else {
            return if browser {
                Ok(html(400, pages::invalid_link_page()))
            } else {
                Err(token_invalid())
            };
        };
        let now = self.clock.now_ms();
        self.db
            .batch(&[
                self.db
                    .statement(
                        "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?3, \
                         updated_at = ?3 \
                         WHERE site_id = ?1 AND id = ?2 AND status != 'unsubscribed'",
                    )
                    .bind(id.as_str())
                    .bind(now),
                self.db
                    .statement(
                        "UPDATE campaign_deliveries SET status = 'skipped' \
                         WHERE site_id = ?1 AND subscriber_id = ?2 AND status = 'pending'",
                    )
                    .bind(id.as_str()),
            ])
            .await?;
        if browser {
            Ok(html(200, pages::unsubscribed_page()))
        } else {
            Ok(ApiResponse::mutation(
                200,
                "You have been unsubscribed",
                &(),
            ))
        }
    }

    // ---- GET /admin/subscribers -------------------------------------------------

    async fn admin_list(&self, input: &ApiRequest) -> Answer {
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

    // ---- POST /__dev/subscribers -------------------------------------------------

    /// Creates `count` confirmed subscribers `{prefix}-{i}@{domain}` (for
    /// benchmarks and the e2e tests; DEV_MODE only). Existing addresses are
    /// left alone; `created` counts the new rows.
    async fn dev_seed(&self, input: &ApiRequest) -> Answer {
        let body: DevSeedInput = parse_json(&input.body)?;
        let mut v = Validator::new();
        let domain = body.domain.as_deref().unwrap_or("bench.test");
        let domain_ok = Email::parse(&format!("a@{domain}")).is_ok();
        v.check(domain_ok, "domain", "Must be a domain name");
        v.text_len("prefix", &body.prefix, 1, 40);
        v.check(
            (1..=DEV_SEED_MAX).contains(&body.count),
            "count",
            "Must be an integer between 1 and 20000",
        );
        let locale = match body.locale.as_deref() {
            None => Some(Locale::En),
            Some(l) => Locale::parse(l),
        };
        if let (Some(l), None) = (body.locale.as_deref(), locale) {
            v.one_of("locale", l, &Locale::NAMES);
        }
        if v.is_empty() {
            let longest = format!("{}-{}@{domain}", body.prefix, body.count - 1);
            v.check(
                Email::parse(&longest).is_ok(),
                "prefix",
                "Must make valid addresses ({prefix}-{i}@{domain})",
            );
        }
        v.finish()?;
        let locale = locale.unwrap_or(Locale::En);
        let count = usize::try_from(body.count).unwrap_or(0);

        let now = self.clock.now_ms();
        let mut statements = Vec::new();
        let mut created: u64 = 0;
        let mut i = 0;
        while i < count {
            let end = (i + SEED_ROWS_PER_STATEMENT).min(count);
            let mut values = Vec::with_capacity(end - i);
            let mut stmt_binds: Vec<SqlValue> = vec![locale.as_str().into(), now.into()];
            for n in i..end {
                let raw = format!("{}-{n}@{domain}", body.prefix);
                let email =
                    Email::parse(&raw).map_err(|why| ApiError::field("prefix", why.message()))?;
                let id = self.rng.id()?;
                let sealed = self
                    .keys
                    .seal_email(self.rng, self.site(), &id, email.as_str())?;
                let at = stmt_binds.len() + 2;
                values.push(format!(
                    "(?1, ?{at}, ?{}, ?{}, ?2, 'confirmed', ?{}, ?3, ?3, ?3)",
                    at + 1,
                    at + 2,
                    at + 3
                ));
                stmt_binds.push(id.into());
                stmt_binds.push(self.keys.blind_index(email.as_str()).into());
                stmt_binds.push(sealed.into());
                stmt_binds.push(self.rng.id()?.into());
            }
            let mut stmt = self.db.statement(&format!(
                "INSERT OR IGNORE INTO subscribers (site_id, id, email_index, email_sealed, \
                 locale, status, confirm_nonce, created_at, updated_at, confirmed_at) VALUES {}",
                values.join(", ")
            ));
            for b in stmt_binds {
                stmt = stmt.bind(b);
            }
            statements.push(stmt);
            if statements.len() == SEED_STATEMENTS_PER_BATCH {
                created += self.seed_batch(&statements).await?;
                statements.clear();
            }
            i = end;
        }
        if !statements.is_empty() {
            created += self.seed_batch(&statements).await?;
        }
        Ok(ApiResponse::mutation(
            201,
            "Subscribers created",
            &json!({ "created": created }),
        ))
    }

    async fn seed_batch(&self, statements: &[Statement]) -> Result<u64, PortError> {
        for s in statements {
            s.check()?;
        }
        let results = self.db.batch(statements).await?;
        Ok(results.iter().map(|r| r.changes).sum())
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

/// The `token` of a confirmation form (`token=…`, nothing else).
fn is_multipart(content_type: Option<&str>) -> bool {
    media_type(content_type).as_deref() == Some("multipart/form-data")
}

/// Whether a `multipart/form-data` body (RFC 8058 allows it) has the part
/// `List-Unsubscribe` with the value `One-Click`.
pub fn multipart_one_click(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.split("name=\"List-Unsubscribe\"")
        .nth(1)
        .and_then(|rest| {
            rest.split_once("\r\n\r\n")
                .or_else(|| rest.split_once("\n\n"))
        })
        .is_some_and(|(_, value)| {
            value
                .split(['\r', '\n'])
                .next()
                .is_some_and(|v| v.trim() == "One-Click")
        })
}

pub fn form_token(body: &[u8]) -> Result<Option<String>, ApiError> {
    let mut token = None;
    for (k, v) in parse_form(body) {
        match k.as_str() {
            "token" if token.is_none() => token = Some(v),
            "token" => return Err(ApiError::field(k, "Duplicate field")),
            _ => return Err(ApiError::field(k, "Unknown field")),
        }
    }
    Ok(token)
}
