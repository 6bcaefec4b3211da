//! Sites (multi-tenancy): [`SiteId`] and the site-scoped data handle [`SiteDb`].
//!
//! **The rule: every site-owned row carries `site_id`; the site id is always
//! `?1`.** [`SiteDb::statement`] binds the handle's site id as `?1`; callers
//! bind `?2`, `?3`, … after it. Before anything reaches the database,
//! [`SiteDb`] refuses with [`PortError::Unscoped`] any statement whose first
//! bound parameter is not this handle's site id, or whose SQL (read
//! case-insensitively, ignoring whitespace, comments and the contents of
//! string literals) does not constrain by the site:
//!
//! - `SELECT …` must contain `site_id = ?1` (or `x.site_id = ?1`) somewhere;
//! - `UPDATE …` / `DELETE …` must contain `site_id = ?1` after their `WHERE`,
//!   and an `UPDATE` may not assign `site_id` (no moving rows between sites);
//! - `INSERT …` must list `(site_id, …)` first and every `VALUES` tuple must
//!   start with `?1` (or be `INSERT … (site_id, …) SELECT ?1, … WHERE site_id
//!   = ?1 …`); an upsert's `DO UPDATE` must carry `WHERE site_id = ?1`;
//! - `REPLACE` / `INSERT OR REPLACE` / `UPDATE OR REPLACE` are refused (the
//!   implicit delete can hit another site's row on a primary-key clash),
//!   as are `WITH … INSERT/UPDATE/DELETE`, multi-statement text and anything
//!   else (DDL, `PRAGMA`, …).
//!
//! So one site can never read or write another site's rows through
//! `SiteDb`, and a query that forgets the filter fails loudly instead of
//! leaking. This is a guard against omission, not a SQL parser proving
//! isolation: a deliberate `WHERE site_id = ?1 OR 1 = 1` passes. Global
//! tables (`sites`, `site_hosts`) are read through the plain [`Sql`] port.

use serde::de::DeserializeOwned;

use crate::error::PortError;
use crate::sql::{ExecResult, Row, Sql, SqlValue, Statement};

mod id;
mod scope;

pub use id::{InvalidSiteId, SiteId};

/// Site-scoped access to the SQL port. See the module doc for the rule.
#[derive(Debug)]
pub struct SiteDb<'a, S: Sql> {
    sql: &'a S,
    site: SiteId,
}

impl<S: Sql> Clone for SiteDb<'_, S> {
    fn clone(&self) -> Self {
        Self {
            sql: self.sql,
            site: self.site.clone(),
        }
    }
}

impl<'a, S: Sql> SiteDb<'a, S> {
    pub fn new(sql: &'a S, site: SiteId) -> Self {
        Self { sql, site }
    }

    pub fn site(&self) -> &SiteId {
        &self.site
    }

    /// A statement with this site's id already bound as `?1`.
    pub fn statement(&self, sql: &str) -> Statement {
        Statement::new(sql).bind(&self.site)
    }

    /// Refuses (without running it) a statement that is not scoped to this
    /// site. Called by every method below; public for tests and adapters.
    pub fn check_scoped(&self, stmt: &Statement) -> Result<(), PortError> {
        match stmt.params().first() {
            Some(SqlValue::Text(s)) if s == self.site.as_str() => {}
            _ => {
                return Err(PortError::Unscoped(
                    "first bound parameter (?1) is not this site's id".into(),
                ));
            }
        }
        scope::check_sql_scoped(stmt.sql()).map_err(|why| PortError::Unscoped(why.into()))
    }

    pub async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        self.check_scoped(stmt)?;
        self.sql.query(stmt).await
    }

    pub async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        self.check_scoped(stmt)?;
        self.sql.execute(stmt).await
    }

    /// One transaction; nothing runs unless every statement is scoped.
    pub async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        for stmt in stmts {
            self.check_scoped(stmt)?;
        }
        self.sql.batch(stmts).await
    }

    pub async fn query_one<T: DeserializeOwned>(
        &self,
        stmt: &Statement,
    ) -> Result<Option<T>, PortError> {
        self.check_scoped(stmt)?;
        self.sql.query_one(stmt).await
    }

    pub async fn query_as<T: DeserializeOwned>(
        &self,
        stmt: &Statement,
    ) -> Result<Vec<T>, PortError> {
        self.check_scoped(stmt)?;
        self.sql.query_as(stmt).await
    }
}

/// A site handle is itself an [`Sql`] port, with the scope check on every
/// statement: code written against the plain port (shared with the cron,
/// which works across sites) runs site-scoped on the request path.
impl<S: Sql> Sql for SiteDb<'_, S> {
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        SiteDb::query(self, stmt).await
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        SiteDb::execute(self, stmt).await
    }

    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        SiteDb::batch(self, stmts).await
    }
}
