//! The security audit log (`audit_events`): what happened, when, to whom, by
//! whom, in which request, from which (keyed-hashed) address and user agent.
//! Never a secret: no password, token, code, TOTP secret or hash of one —
//! [`Event::detail`] carries only reasons and role names.
use sealpost_api::query::{OffsetPaging, PageInfo};
use sealpost_ports::{PortError, Rng, SiteDb, Sql, SqlValue, Statement, rfc3339};
use serde::Serialize;
use serde_json::Value;

/// Every event type, as stored and filtered on. `admin.created` and
/// `admin.promoted` are written by the operator's `sealpost-admin`, not by a
/// request.
pub const TYPES: [&str; 16] = [
    "signup",
    "login.success",
    "login.failure",
    "login.locked",
    "mfa.challenge",
    "mfa.failure",
    "mfa.enabled",
    "mfa.disabled",
    "mfa.recovery_used",
    "refresh.reuse",
    "session.revoked",
    "logout",
    "password.changed",
    "roles.changed",
    "admin.created",
    "admin.promoted",
];

/// Longest user agent kept.
pub const MAX_USER_AGENT_CHARS: usize = 256;

/// Where a request came from (for the log and sessions).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub request_id: String,
    /// Keyed hash of the client address (see `AuthSecrets::ip_hash`).
    pub ip_hash: String,
    pub user_agent: String,
}

impl Origin {
    pub fn new(request_id: &str, ip_hash: String, user_agent: &str) -> Origin {
        Origin {
            request_id: request_id.to_owned(),
            ip_hash,
            user_agent: user_agent
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_USER_AGENT_CHARS)
                .collect(),
        }
    }
}

/// One security event.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: &'static str,
    /// The account concerned.
    pub user_id: Option<String>,
    /// Who acted, when not the account itself (an admin).
    pub actor_id: Option<String>,
    pub detail: Value,
}

impl Event {
    pub fn new(kind: &'static str, user_id: Option<&str>) -> Event {
        debug_assert!(TYPES.contains(&kind), "unknown audit type {kind}");
        Event {
            kind,
            user_id: user_id.map(str::to_owned),
            actor_id: None,
            detail: Value::Object(serde_json::Map::new()),
        }
    }

    #[must_use]
    pub fn actor(mut self, actor_id: &str) -> Event {
        self.actor_id = Some(actor_id.to_owned());
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: Value) -> Event {
        self.detail = detail;
        self
    }
}

/// The insert of `event`, to run alone or inside the batch of the action it
/// records (so the action and its record commit together).
pub fn statement<S: Sql>(
    db: &SiteDb<'_, S>,
    rng: &impl Rng,
    now_ms: i64,
    origin: &Origin,
    event: &Event,
) -> Result<Statement, PortError> {
    bind_event(
        db.statement(
            "INSERT INTO audit_events \
             (site_id, id, at, type, user_id, actor_id, request_id, ip_hash, user_agent, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        ),
        rng,
        now_ms,
        origin,
        event,
    )
}

/// The insert of `event` applying only where SQL `condition` holds when it
/// runs (inside a batch: an event that commits only with the action that
/// its `condition` detects). `condition` may bind parameters from `?11` on;
/// bind them on the returned statement, in order.
pub fn statement_where<S: Sql>(
    db: &SiteDb<'_, S>,
    rng: &impl Rng,
    now_ms: i64,
    origin: &Origin,
    event: &Event,
    condition: &str,
) -> Result<Statement, PortError> {
    bind_event(
        db.statement(&format!(
            "INSERT INTO audit_events \
             (site_id, id, at, type, user_id, actor_id, request_id, ip_hash, user_agent, detail) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE {condition}"
        )),
        rng,
        now_ms,
        origin,
        event,
    )
}

/// Binds `?2`–`?10` of an audit insert (the site is `?1`, bound by `SiteDb`).
fn bind_event(
    stmt: Statement,
    rng: &impl Rng,
    now_ms: i64,
    origin: &Origin,
    event: &Event,
) -> Result<Statement, PortError> {
    Ok(stmt
        .bind(rng.id()?)
        .bind(now_ms)
        .bind(event.kind)
        .bind(event.user_id.clone())
        .bind(event.actor_id.clone())
        .bind(origin.request_id.as_str())
        .bind(origin.ip_hash.as_str())
        .bind(origin.user_agent.as_str())
        .bind(event.detail.to_string()))
}

/// Records `event` on its own.
pub async fn record<S: Sql>(
    db: &SiteDb<'_, S>,
    rng: &impl Rng,
    now_ms: i64,
    origin: &Origin,
    event: &Event,
) -> Result<(), PortError> {
    db.execute(&statement(db, rng, now_ms, origin, event)?)
        .await
        .map(|_| ())
}

/// One row of `GET /admin/audit`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditItem {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub user_id: Option<String>,
    pub actor_id: Option<String>,
    pub request_id: String,
    pub ip_hash: String,
    pub user_agent: String,
    pub detail: Value,
}

#[derive(serde::Deserialize)]
struct AuditRow {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    at: i64,
    user_id: Option<String>,
    actor_id: Option<String>,
    request_id: String,
    ip_hash: String,
    user_agent: String,
    detail: String,
}

/// A page of events, newest first, optionally of one type and/or one user.
pub async fn list<S: Sql>(
    db: &SiteDb<'_, S>,
    paging: &OffsetPaging,
    kind: Option<&str>,
    user_id: Option<&str>,
) -> Result<(Vec<AuditItem>, PageInfo), PortError> {
    // Only the filters given, so each query can use its index
    // (site+type+at, site+user+at or site+at).
    let mut from_where = String::from("FROM audit_events WHERE site_id = ?1");
    let mut binds: Vec<SqlValue> = Vec::new();
    for (column, value) in [("type", kind), ("user_id", user_id)] {
        if let Some(value) = value {
            binds.push(SqlValue::from(value));
            from_where.push_str(&format!(" AND {column} = ?{}", binds.len() + 1));
        }
    }
    let (rows, total): (Vec<AuditRow>, _) = db
        .offset_page(
            "id, type, at, user_id, actor_id, request_id, ip_hash, user_agent, detail",
            &from_where,
            &binds,
            "at DESC, id DESC",
            paging.limit(),
            paging.offset(),
        )
        .await?;
    let page = PageInfo::new(paging, total);
    let items = rows
        .into_iter()
        .map(|r| AuditItem {
            id: r.id,
            kind: r.kind,
            at: rfc3339(r.at),
            user_id: r.user_id,
            actor_id: r.actor_id,
            request_id: r.request_id,
            ip_hash: r.ip_hash,
            user_agent: r.user_agent,
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::Null),
        })
        .collect();
    Ok((items, page))
}
