//! Subscribers as the admin sees them: the shared admin's token (refreshed
//! when old), the admin subscriber list and its pages, and confirmed
//! subscribers seeded through the dev route (`POST /__dev/subscribers`).
use std::sync::Mutex;

use super::query_escape;
use crate::auth::{Session, admin_with_mfa, bearer_request, claims, refreshed};
use crate::{Call, Reply, Stack, Value, json, unix_now};

/// `POST /__dev/subscribers`: `count` confirmed subscribers
/// `{prefix}-{i}@{domain}` in `locale`; returns their addresses (read back
/// from the admin list).
pub fn seed_confirmed(
    stack: &Stack,
    prefix: &str,
    count: usize,
    locale: &str,
    domain: &str,
) -> Vec<String> {
    let reply = stack
        .request("POST", "/__dev/subscribers")
        .json(&json!({"prefix": prefix, "count": count, "locale": locale, "domain": domain}))
        .send();
    assert_eq!(reply.status, 201, "POST /__dev/subscribers: {reply}");
    assert_eq!(reply.json()["data"]["created"], json!(count), "{reply}");
    let mut addresses: Vec<String> =
        all_subscribers(stack, &format!("{prefix}-"), Some("confirmed"))
            .iter()
            .filter_map(|s| s["email"].as_str())
            .filter(|e| e.starts_with(&format!("{prefix}-")) && e.ends_with(&format!("@{domain}")))
            .map(str::to_owned)
            .collect();
    addresses.sort();
    assert_eq!(addresses.len(), count, "seeded {prefix}: {addresses:?}");
    addresses
}

static ADMIN: Mutex<Option<Session>> = Mutex::new(None);
/// Refresh the admin's access token when it is older than this (it lives 15 min).
const ADMIN_REFRESH_AFTER_SECS: i64 = 10 * 60;

/// An access token of the shared admin (with its second factor), refreshed
/// here (same session, same `amr`) once it is older than ten minutes: the
/// campaign scenarios may run long after the admin logged in.
pub fn admin_token(stack: &Stack) -> String {
    let mut cache = ADMIN.lock().unwrap_or_else(|p| p.into_inner());
    let session = cache.get_or_insert_with(|| admin_with_mfa(stack).session);
    let iat = claims(&session.access)["iat"].as_i64().unwrap_or(0);
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    if now - iat > ADMIN_REFRESH_AFTER_SECS {
        *session = refreshed(stack, session);
    }
    session.access.clone()
}

/// `method path` as the shared admin.
pub fn admin_request(stack: &Stack, method: &str, path: &str) -> Call {
    bearer_request(stack, method, path, &admin_token(stack))
}

/// `GET /admin/subscribers?{query}` as the shared admin.
pub fn subscribers_page(stack: &Stack, query: &str) -> Reply {
    admin_request(stack, "GET", &format!("/admin/subscribers?{query}")).send()
}

/// Asserts the offset-list envelope; returns `(data, pagination)`.
#[track_caller]
pub fn assert_offset_list(reply: &Reply) -> (Vec<Value>, Value) {
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    let data = body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data[]: {reply}"))
        .clone();
    (data, body["pagination"].clone())
}

/// Every subscriber matching `q` (and `status`), through every page.
pub fn all_subscribers(stack: &Stack, q: &str, status: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let mut query = format!("q={}&pageSize=100&page={page}", query_escape(q));
        if let Some(s) = status {
            query.push_str(&format!("&status={s}"));
        }
        let (data, pagination) = assert_offset_list(&subscribers_page(stack, &query));
        out.extend(data);
        let pages = pagination["totalPages"].as_u64().unwrap_or(0);
        if page >= pages {
            break;
        }
    }
    out
}

/// The admin list's one item for `email` (searched by full address).
#[track_caller]
pub fn subscriber(stack: &Stack, email: &str) -> Value {
    let (data, _) = assert_offset_list(&subscribers_page(
        stack,
        &format!("q={}", query_escape(email)),
    ));
    assert_eq!(data.len(), 1, "one subscriber {email}: {data:#?}");
    assert_eq!(data[0]["email"], json!(email), "{data:#?}");
    data[0].clone()
}

/// The status of `email` in the admin list.
pub fn subscriber_status(stack: &Stack, email: &str) -> String {
    subscriber(stack, email)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// How many subscribers of the site are confirmed (the admin list's total).
pub fn confirmed_total(stack: &Stack) -> u64 {
    let (_, pagination) =
        assert_offset_list(&subscribers_page(stack, "status=confirmed&pageSize=1"));
    pagination["totalItems"]
        .as_u64()
        .unwrap_or_else(|| panic!("no totalItems: {pagination:#}"))
}
