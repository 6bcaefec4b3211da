//! Rows other workers own, written straight into a migrated [`SqliteDb`] so a
//! domain's tests can stand on them: a user with a live session (auth's
//! tables) and a published post (content's). The schema is the real one
//! (migrations/), so a test breaks when a migration changes what it needs.
use sealpost_ports::{Sql, Statement, rfc3339};
use serde_json::json;

use crate::{SqliteDb, block_on};

/// Thirty days, the sessions' absolute lifetime.
const SESSION_MS: i64 = 30 * 24 * 60 * 60_000;

fn exec(db: &SqliteDb, stmt: Statement) {
    block_on(db.execute(&stmt)).expect("seed statement");
}

/// Inserts user `user-{name}` (`{name}@example.com`, display name
/// `{name} display`) of the default site with `roles`, and its live session
/// `session-{name}` opened at `now_ms` with `amr`. Returns (user id,
/// session id) for the caller to mint a token.
pub fn user(
    db: &SqliteDb,
    name: &str,
    roles: &[&str],
    amr: &[&str],
    now_ms: i64,
) -> (String, String) {
    let id = format!("user-{name}");
    exec(
        db,
        Statement::new(
            "INSERT INTO users (site_id, id, email, display_name, locale, password_hash, roles, \
             created_at, updated_at) VALUES ('default', ?1, ?2, ?3, 'en', 'x', ?4, ?5, ?5)",
        )
        .bind(id.as_str())
        .bind(format!("{name}@example.com"))
        .bind(format!("{name} display"))
        .bind(json!(roles).to_string())
        .bind(rfc3339(now_ms)),
    );
    let sid = format!("session-{name}");
    exec(
        db,
        Statement::new(
            "INSERT INTO sessions (site_id, id, user_id, amr, created_at, last_used_at, \
             expires_at) VALUES ('default', ?1, ?2, ?3, ?4, ?4, ?5)",
        )
        .bind(sid.as_str())
        .bind(id.as_str())
        .bind(json!(amr).to_string())
        .bind(now_ms)
        .bind(now_ms + SESSION_MS),
    );
    (id, sid)
}

/// Inserts post `id` of the default site by `author_id` with status
/// `status` and one English translation (slug `{id}`, title `Title {id}`).
pub fn post(db: &SqliteDb, id: &str, author_id: &str, status: &str, now_ms: i64) {
    exec(
        db,
        Statement::new(
            "INSERT INTO posts (site_id, id, status, edit_id, author_id, published_at, \
             created_at, updated_at) VALUES ('default', ?1, ?2, 'seed', ?3, \
             CASE WHEN ?2 = 'published' THEN ?4 END, ?4, ?4)",
        )
        .bind(id)
        .bind(status)
        .bind(author_id)
        .bind(now_ms),
    );
    exec(
        db,
        Statement::new(
            "INSERT INTO post_translations (site_id, post_id, lang, slug, title, body, body_html) \
             VALUES ('default', ?1, 'en', ?1, ?2, 'Body', '<p>Body</p>')",
        )
        .bind(id)
        .bind(format!("Title {id}")),
    );
}
