//! The SQL that writes an admin account, for `wrangler d1 execute --file`
//! (one batch, so one transaction; the statements are also ordered so that
//! a refusal comes first and leaves nothing written even without one).
//!
//! - [`Existing::Refuse`]: a plain `INSERT` of the account. An address that
//!   already has an account on the site fails on `UNIQUE (site_id, email)`
//!   ([`REFUSED_MARKER`] in the error), before anything is written: whoever
//!   signed up with it first does not become an admin.
//! - [`Existing::Promote`]: the operator's explicit choice. An existing
//!   account gains the `admin` role and the operator's password; its second
//!   factor (TOTP secret, pending setup, last step) and recovery codes are
//!   cleared, its pending login challenges deleted and every session revoked
//!   (reason `admin_promoted`; docs/adr/0009: the next request on any worker
//!   is refused, and so is every refresh). An address without an account is
//!   created as with `Refuse`.
//!
//! Either way the audit log records it (`admin.created` / `admin.promoted`),
//! with the user agent `sealpost-admin`. Every value is validated (email,
//! site id) or generated here (ids, hash, times) and quoted; the password
//! only appears as its hash.
use sealpost_ports::{SiteId, rfc3339};

/// What the SQLite/D1 error of a refused existing account contains.
pub const REFUSED_MARKER: &str = "UNIQUE constraint failed: users.site_id, users.email";

/// The `revoke_reason` of the sessions a promotion ends.
pub const REVOKE_REASON: &str = "admin_promoted";

/// What to do when the address already has an account on the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Fail, writing nothing.
    Refuse,
    /// Take it over: the given password, no second factor, no session.
    Promote,
}

/// The generated values of one run: the new account's id (used only if the
/// account is created) and the audit event's id.
#[derive(Debug, Clone)]
pub struct Ids {
    pub user: String,
    pub event: String,
}

/// Quoted SQL literals of one run.
struct Values {
    site: String,
    email: String,
    hash: String,
    user: String,
    event: String,
    now_ms: i64,
    now: String,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The SQL for `email` (normalised already) with `hash` (an Argon2id PHC
/// string) on `site` at `now_ms`.
pub(crate) fn account_sql(
    site: &SiteId,
    email: &str,
    hash: &str,
    existing: Existing,
    ids: &Ids,
    now_ms: i64,
) -> String {
    let v = Values {
        site: quote(site.as_str()),
        email: quote(email),
        hash: quote(hash),
        user: quote(&ids.user),
        event: quote(&ids.event),
        now_ms,
        now: quote(&rfc3339(now_ms)),
    };
    match existing {
        Existing::Refuse => format!("{}{}", insert_user(&v, ";\n"), audit_created(&v)),
        Existing::Promote => [
            audit_promoted(&v),
            end_sessions(&v),
            clear_second_factor(&v),
            insert_user(&v, &promote_conflict(&v)),
            audit_created(&v),
        ]
        .concat(),
    }
}

/// The id of the account at the address (NULL when there is none).
fn existing_id(v: &Values) -> String {
    format!(
        "(SELECT id FROM users WHERE site_id = {site} AND email = {email})",
        site = v.site,
        email = v.email
    )
}

/// `roles` with `admin` added unless it is there.
const ROLES_WITH_ADMIN: &str = "CASE WHEN EXISTS (SELECT 1 FROM json_each(users.roles) \
     WHERE value = 'admin') THEN users.roles ELSE json_insert(users.roles, '$[#]', 'admin') END";

fn insert_user(v: &Values, tail: &str) -> String {
    format!(
        "INSERT INTO users (id, site_id, email, display_name, locale, password_hash, roles, \
         created_at, updated_at)\n\
         VALUES ({user}, {site}, {email}, 'Admin', 'en', {hash}, '[\"admin\"]', {now}, {now}){tail}",
        user = v.user,
        site = v.site,
        email = v.email,
        hash = v.hash,
        now = v.now,
    )
}

fn promote_conflict(v: &Values) -> String {
    format!(
        "\nON CONFLICT (site_id, email) DO UPDATE SET\n  \
         password_hash = excluded.password_hash,\n  \
         roles = {ROLES_WITH_ADMIN},\n  \
         mfa_secret = NULL, mfa_pending = NULL, mfa_last_step = NULL,\n  \
         updated_at = {now};\n",
        now = v.now
    )
}

/// Written before the changes, so that it can say what they replace.
fn audit_promoted(v: &Values) -> String {
    format!(
        "INSERT INTO audit_events (id, site_id, at, type, user_id, user_agent, detail)\n\
         SELECT {event}, site_id, {now_ms}, 'admin.promoted', id, 'sealpost-admin', json_object(\n  \
         'before', json(roles),\n  \
         'after', json({ROLES_WITH_ADMIN}),\n  \
         'secondFactorCleared', json(CASE WHEN mfa_secret IS NULL THEN 'false' ELSE 'true' END),\n  \
         'sessionsEnded', (SELECT count(*) FROM sessions s WHERE s.site_id = users.site_id \
         AND s.user_id = users.id AND s.revoked_at IS NULL))\n\
         FROM users WHERE site_id = {site} AND email = {email};\n",
        event = v.event,
        now_ms = v.now_ms,
        site = v.site,
        email = v.email,
    )
}

fn end_sessions(v: &Values) -> String {
    format!(
        "UPDATE sessions SET revoked_at = {now_ms}, revoke_reason = '{REVOKE_REASON}'\n\
         WHERE site_id = {site} AND user_id = {id} AND revoked_at IS NULL;\n",
        now_ms = v.now_ms,
        site = v.site,
        id = existing_id(v),
    )
}

fn clear_second_factor(v: &Values) -> String {
    let id = existing_id(v);
    format!(
        "DELETE FROM mfa_challenges WHERE site_id = {site} AND user_id = {id};\n\
         DELETE FROM recovery_codes WHERE site_id = {site} AND user_id = {id};\n",
        site = v.site,
    )
}

/// Records the creation, if this run created the account (an existing one
/// keeps its own id).
fn audit_created(v: &Values) -> String {
    format!(
        "INSERT INTO audit_events (id, site_id, at, type, user_id, user_agent, detail)\n\
         SELECT {event}, site_id, {now_ms}, 'admin.created', id, 'sealpost-admin', \
         json_object('roles', json(roles))\n\
         FROM users WHERE site_id = {site} AND id = {user};\n",
        event = v.event,
        now_ms = v.now_ms,
        site = v.site,
        user = v.user,
    )
}
