//! The SQL port (D1 / SQLite): values, statements, rows and the [`Sql`] trait.
//!
//! Production rules modelled here: a statement may bind at most
//! [`MAX_BOUND_PARAMS`] parameters ([`Statement::check`]), and
//! [`Sql::batch`] is one transaction: all statements apply or none do.
//!
//! Rows are JSON objects keyed by column name, as D1 returns them; decode them
//! with [`from_row`] or the provided [`Sql::query_one`] / [`Sql::query_as`].
//! The helpers are provided trait methods (not an extension trait), so every
//! `Sql` implementation — including `&T` — has them.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::error::PortError;

/// D1 refuses statements binding more than 100 parameters.
pub const MAX_BOUND_PARAMS: usize = 100;

/// D1 binds integers as JavaScript numbers and refuses any beyond ±(2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A value bound to a statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        Self::Integer(v)
    }
}

impl From<i32> for SqlValue {
    fn from(v: i32) -> Self {
        Self::Integer(i64::from(v))
    }
}

impl From<u32> for SqlValue {
    fn from(v: u32) -> Self {
        Self::Integer(i64::from(v))
    }
}

impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        Self::Integer(i64::from(v))
    }
}

impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<Vec<u8>> for SqlValue {
    fn from(v: Vec<u8>) -> Self {
        Self::Blob(v)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// One SQL statement with its bound parameters (`?1`, `?2`, … in bind order).
///
/// `Debug` prints the SQL and the parameter count, never the values.
#[derive(Clone)]
pub struct Statement {
    sql: String,
    params: Vec<SqlValue>,
}

impl Statement {
    /// A statement with no parameters bound yet.
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    /// Binds the next parameter.
    #[must_use]
    pub fn bind(mut self, v: impl Into<SqlValue>) -> Self {
        self.params.push(v.into());
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn params(&self) -> &[SqlValue] {
        &self.params
    }

    /// Fails as D1 would: with [`PortError::TooManyParams`] when more than
    /// [`MAX_BOUND_PARAMS`] parameters are bound, with
    /// [`PortError::UnsafeInteger`] for an integer beyond ±[`MAX_SAFE_INTEGER`].
    pub fn check(&self) -> Result<(), PortError> {
        if self.params.len() > MAX_BOUND_PARAMS {
            return Err(PortError::TooManyParams {
                count: self.params.len(),
                max: MAX_BOUND_PARAMS,
            });
        }
        for p in &self.params {
            if let SqlValue::Integer(n) = p
                && !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(n)
            {
                return Err(PortError::UnsafeInteger(*n));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Statement")
            .field("sql", &self.sql)
            .field("params", &format_args!("<{} bound>", self.params.len()))
            .finish()
    }
}

/// One result row: column name → JSON value (INTEGER/REAL → number,
/// TEXT → string, BLOB → array of byte numbers, NULL → null).
pub type Row = serde_json::Map<String, serde_json::Value>;

/// Decodes a row into `T` (matching columns to fields by name).
///
/// The error message keeps field names but redacts values, which may be
/// secrets (password hashes, tokens).
pub fn from_row<T: DeserializeOwned>(row: Row) -> Result<T, PortError> {
    serde_json::from_value(serde_json::Value::Object(row))
        .map_err(|e| PortError::Decode(redact_decode_message(&e.to_string())))
}

/// serde messages quote offending values as `"…"` (strings) or `` `…` ``
/// (numbers, variants); field-name messages quote names with backticks.
fn redact_decode_message(msg: &str) -> String {
    let names_only = ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| msg.starts_with(p));
    let mut out = String::with_capacity(msg.len());
    let mut open: Option<char> = None;
    for c in msg.chars() {
        match open {
            Some(q) if c == q => {
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || (c == '`' && !names_only) {
                    out.push('…');
                    open = Some(c);
                }
            }
        }
    }
    out
}

/// Result of a statement that writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecResult {
    /// Rows changed by this statement (0 for reads).
    pub changes: u64,
    /// The connection's last inserted rowid (as D1's `meta.last_row_id`).
    pub last_row_id: i64,
}

/// The SQL database port (D1 in production, SQLite in tests).
#[allow(async_fn_in_trait)]
pub trait Sql {
    /// Runs a statement and returns all rows.
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError>;

    /// Runs a statement for its effect.
    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError>;

    /// All statements in one transaction: all apply or none do.
    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError>;

    /// The first row decoded as `T`, or `None` when there is none (like D1's
    /// `first()`; further rows are ignored).
    async fn query_one<T: DeserializeOwned>(
        &self,
        stmt: &Statement,
    ) -> Result<Option<T>, PortError> {
        self.query(stmt)
            .await?
            .into_iter()
            .next()
            .map(from_row)
            .transpose()
    }

    /// All rows decoded as `T`.
    async fn query_as<T: DeserializeOwned>(&self, stmt: &Statement) -> Result<Vec<T>, PortError> {
        self.query(stmt).await?.into_iter().map(from_row).collect()
    }
}

impl<T: Sql + ?Sized> Sql for &T {
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        (**self).query(stmt).await
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        (**self).execute(stmt).await
    }

    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        (**self).batch(stmts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_convert_from_rust_types() {
        assert_eq!(SqlValue::from(7_i64), SqlValue::Integer(7));
        assert_eq!(SqlValue::from(-7_i32), SqlValue::Integer(-7));
        assert_eq!(SqlValue::from(u32::MAX), SqlValue::Integer(4_294_967_295));
        assert_eq!(SqlValue::from(true), SqlValue::Integer(1));
        assert_eq!(SqlValue::from(false), SqlValue::Integer(0));
        assert_eq!(SqlValue::from(1.5), SqlValue::Real(1.5));
        assert_eq!(SqlValue::from("a"), SqlValue::Text("a".into()));
        assert_eq!(
            SqlValue::from(String::from("b")),
            SqlValue::Text("b".into())
        );
        assert_eq!(SqlValue::from(vec![1_u8, 2]), SqlValue::Blob(vec![1, 2]));
        assert_eq!(SqlValue::from(None::<i64>), SqlValue::Null);
        assert_eq!(SqlValue::from(Some("x")), SqlValue::Text("x".into()));
    }

    #[test]
    fn statement_with_100_params_passes_and_101_is_refused() {
        let mut s = Statement::new("x");
        for i in 0..100 {
            s = s.bind(i);
        }
        assert_eq!(s.check(), Ok(()));
        let s = s.bind(100);
        assert_eq!(
            s.check(),
            Err(PortError::TooManyParams {
                count: 101,
                max: 100
            })
        );
    }

    #[test]
    fn statement_debug_prints_the_parameter_count_but_never_the_values() {
        let s = Statement::new("SELECT ?1").bind("hunter2-secret");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("<1 bound>"), "{dbg}");
        assert!(dbg.contains("SELECT ?1"), "{dbg}");
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct User {
        id: String,
        age: i64,
    }

    fn row(v: serde_json::Value) -> Row {
        match v {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn rows_decode_into_structs_by_column_name() {
        let u: User = from_row(row(serde_json::json!({"id": "u1", "age": 3}))).unwrap();
        assert_eq!(
            u,
            User {
                id: "u1".into(),
                age: 3
            }
        );
    }

    #[test]
    fn decode_errors_name_the_field_but_not_the_value() {
        let err =
            from_row::<User>(row(serde_json::json!({"id": "u1", "age": "s3cret"}))).unwrap_err();
        let PortError::Decode(msg) = &err else {
            panic!("{err:?}")
        };
        assert!(!msg.contains("s3cret"), "{msg}");
        let err = from_row::<User>(row(serde_json::json!({"age": 1}))).unwrap_err();
        assert_eq!(err, PortError::Decode("missing field `id`".into()));
    }

    struct OneRow;

    impl Sql for OneRow {
        async fn query(&self, _: &Statement) -> Result<Vec<Row>, PortError> {
            Ok(vec![
                row(serde_json::json!({"id": "a", "age": 1})),
                row(serde_json::json!({"id": "b", "age": 2})),
            ])
        }
        async fn execute(&self, _: &Statement) -> Result<ExecResult, PortError> {
            Ok(ExecResult::default())
        }
        async fn batch(&self, s: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
            Ok(vec![ExecResult::default(); s.len()])
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // The futures here never pend.
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => unreachable!(),
        }
    }

    #[test]
    fn provided_helpers_decode_through_references() {
        let db = OneRow;
        let by_ref = &db;
        let s = Statement::new("SELECT");
        let first: Option<User> = block_on(by_ref.query_one(&s)).unwrap();
        assert_eq!(first.unwrap().id, "a");
        let all: Vec<User> = block_on(by_ref.query_as(&s)).unwrap();
        assert_eq!(all.len(), 2);
    }
}
