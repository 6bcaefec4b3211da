//! The SQL port over D1. D1 semantics kept visible: at most 100 bound
//! parameters per statement (checked before sending), and `batch` is one
//! transaction.
//!
//! `SQLITE_BUSY` ("database is locked") means the statement never ran — the
//! write lock was held elsewhere — so every call is retried on it, a few
//! times with exponential backoff (5 ms doubling, ≈ 0.3 s in all). On the
//! local runtime each worker's workerd opens the one shared SQLite file, so
//! concurrent writers from different workers meet this routinely; D1 in
//! production serialises writers itself and rarely answers it. Other errors
//! (which may come after the statement ran) are never retried here.
use std::future::Future;
use std::time::Duration;

use sealpost_ports::{ExecResult, PortError, Row, Sql, SqlValue, Statement};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

/// Largest integer a JavaScript number carries exactly (2^53 - 1).
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// The one D1 database.
#[derive(Debug)]
pub struct D1Sql(pub D1Database);

impl D1Sql {
    /// The worker's `DB` binding.
    pub fn from_env(env: &worker::Env) -> Result<D1Sql, sealpost_api::Failure> {
        env.d1(crate::domain::DB_BINDING)
            .map(D1Sql)
            .map_err(|e| sealpost_api::Failure::Platform(format!("binding DB: {e}")))
    }
}

/// `i` as a JavaScript number, when it carries it exactly. The magnitude is
/// taken unsigned: `i64::MIN` has no signed absolute value.
fn js_safe_integer(i: i64) -> Option<f64> {
    (i.unsigned_abs() <= MAX_SAFE_INTEGER.unsigned_abs()).then_some(i as f64)
}

fn to_js(value: &SqlValue) -> Result<JsValue, PortError> {
    Ok(match value {
        SqlValue::Null => JsValue::NULL,
        SqlValue::Integer(i) => JsValue::from_f64(js_safe_integer(*i).ok_or_else(|| {
            PortError::Sql("integer parameter outside JavaScript's safe range".into())
        })?),
        SqlValue::Real(f) => JsValue::from_f64(*f),
        SqlValue::Text(s) => JsValue::from_str(s),
        SqlValue::Blob(b) => js_sys::Uint8Array::from(b.as_slice()).into(),
    })
}

/// Maps a D1 failure to a port error. The message of D1 names the SQL problem
/// but never the bound values.
fn d1_error(err: worker::Error) -> PortError {
    let msg = err.to_string();
    if msg.contains("constraint failed") {
        PortError::Constraint(msg)
    } else {
        PortError::Sql(msg)
    }
}

impl D1Sql {
    fn prepare(&self, stmt: &Statement) -> Result<D1PreparedStatement, PortError> {
        stmt.check()?;
        let params = stmt
            .params()
            .iter()
            .map(to_js)
            .collect::<Result<Vec<_>, _>>()?;
        self.0.prepare(stmt.sql()).bind(&params).map_err(d1_error)
    }
}

fn exec_result(result: &D1Result) -> Result<ExecResult, PortError> {
    if let Some(error) = result.error() {
        return Err(PortError::Sql(error));
    }
    let meta = result.meta().map_err(d1_error)?;
    Ok(ExecResult {
        changes: meta.as_ref().and_then(|m| m.changes).unwrap_or(0) as u64,
        last_row_id: meta.and_then(|m| m.last_row_id).unwrap_or(0),
    })
}

/// Retries of a call answered `SQLITE_BUSY`.
const BUSY_RETRIES: u32 = 6;
const BUSY_FIRST_DELAY_MS: u64 = 5;

fn is_busy(err: &PortError) -> bool {
    matches!(err, PortError::Sql(m) if m.contains("SQLITE_BUSY") || m.contains("database is locked"))
}

async fn retry_busy<T, F, Fut>(mut call: F) -> Result<T, PortError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, PortError>>,
{
    let mut delay = BUSY_FIRST_DELAY_MS;
    let mut attempt = 0;
    loop {
        match call().await {
            Err(e) if is_busy(&e) && attempt < BUSY_RETRIES => {
                worker::Delay::from(Duration::from_millis(delay)).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl D1Sql {
    async fn query_once(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        let result = self.prepare(stmt)?.all().await.map_err(d1_error)?;
        if let Some(error) = result.error() {
            return Err(PortError::Sql(error));
        }
        result
            .results::<Row>()
            .map_err(|e| PortError::Decode(e.to_string()))
    }

    async fn execute_once(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        let result = self.prepare(stmt)?.run().await.map_err(d1_error)?;
        exec_result(&result)
    }

    async fn batch_once(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        let prepared = stmts
            .iter()
            .map(|s| self.prepare(s))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.0.batch(prepared).await.map_err(d1_error)?;
        results.iter().map(exec_result).collect()
    }
}

impl Sql for D1Sql {
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        retry_busy(|| self.query_once(stmt)).await
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        retry_busy(|| self.execute_once(stmt)).await
    }

    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        retry_busy(|| self.batch_once(stmts)).await
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_SAFE_INTEGER, js_safe_integer};

    /// Integers and whether a JavaScript number carries them exactly.
    const SAFE_INTEGER_VECTORS: [(i64, bool); 10] = [
        (0, true),
        (1_795_000_000_000, true),
        (-1, true),
        (MAX_SAFE_INTEGER, true),
        (-MAX_SAFE_INTEGER, true),
        (MAX_SAFE_INTEGER + 1, false),
        (-MAX_SAFE_INTEGER - 1, false),
        (i64::MAX, false),
        (i64::MIN + 1, false),
        // Its `abs()` wraps to itself, a negative number.
        (i64::MIN, false),
    ];

    #[test]
    fn only_integers_within_javascripts_safe_range_are_bound_and_none_wraps_into_it() {
        for (i, safe) in SAFE_INTEGER_VECTORS {
            assert_eq!(js_safe_integer(i).is_some(), safe, "{i}");
            if let Some(f) = js_safe_integer(i) {
                assert_eq!(f as i64, i, "{i} is carried exactly");
            }
        }
    }
}
