//! Fuzz target: the site-scope check of `SiteDb` (`SiteDb::check_scoped`: a
//! small SQLite lexer plus token rules). Input: one byte choosing the bound
//! first parameter, then the SQL text. Oracle: no panic; a statement whose
//! `?1` is not the handle's site id is always refused; an accepted statement
//! names `site_id` and a `?` parameter; the verdict ignores ASCII case and
//! comments/whitespace added at either end; an accepted statement followed
//! by a second one is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpost_ports::{ExecResult, PortError, Row, SiteDb, SiteId, Sql, Statement};

/// `SiteDb` needs a port to wrap; the check runs before any call reaches it,
/// and the target only calls the check.
struct NoDatabase;

impl Sql for NoDatabase {
    async fn query(&self, _: &Statement) -> Result<Vec<Row>, PortError> {
        Err(PortError::Unavailable(
            "no database in the fuzz target".into(),
        ))
    }
    async fn execute(&self, _: &Statement) -> Result<ExecResult, PortError> {
        Err(PortError::Unavailable(
            "no database in the fuzz target".into(),
        ))
    }
    async fn batch(&self, _: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        Err(PortError::Unavailable(
            "no database in the fuzz target".into(),
        ))
    }
}

fn scoped(db: &SiteDb<'_, NoDatabase>, sql: &str) -> bool {
    db.check_scoped(&db.statement(sql)).is_ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(sql) = std::str::from_utf8(rest) else {
        return;
    };
    let port = NoDatabase;
    let db = SiteDb::new(&port, SiteId::parse("site-a").unwrap());
    let accepted = scoped(&db, sql);

    // The wrong site (or no site, or a number) as ?1 is always refused.
    let first = match pick % 3 {
        0 => Statement::new(sql).bind("site-b"),
        1 => Statement::new(sql).bind(1_i64),
        _ => Statement::new(sql),
    };
    assert!(
        db.check_scoped(&first).is_err(),
        "accepted with another ?1: {sql:?}"
    );

    if !accepted {
        // Refusal must also survive the transformations below (checked from the
        // accepting side, where they matter).
        return;
    }
    let lower = sql.to_lowercase();
    assert!(
        lower.contains("site_id"),
        "accepted without naming site_id: {sql:?}"
    );
    assert!(
        sql.contains('?'),
        "accepted without a ?1 parameter: {sql:?}"
    );
    assert!(
        scoped(&db, &sql.to_ascii_uppercase()),
        "case changed the verdict: {sql:?}"
    );
    assert!(
        scoped(&db, &sql.to_ascii_lowercase()),
        "case changed the verdict: {sql:?}"
    );
    assert!(
        scoped(&db, &format!("/* c */ {sql}")),
        "a leading comment changed the verdict: {sql:?}"
    );
    assert!(
        scoped(&db, &format!("-- c\n{sql}")),
        "a leading comment changed the verdict: {sql:?}"
    );
    assert!(
        scoped(&db, &format!("{sql}\n-- c")),
        "a trailing comment changed the verdict: {sql:?}"
    );
    assert!(
        scoped(&db, &format!("\t{sql}\n;")),
        "whitespace or `;` changed the verdict: {sql:?}"
    );
    assert!(
        !scoped(
            &db,
            &format!("{sql}\n; DELETE FROM users WHERE site_id = ?1")
        ),
        "a second statement was accepted: {sql:?}"
    );
});
