//! [`SqliteDb`]: D1 as SQLite in memory, migrated exactly like
//! `wrangler d1 migrations apply`, behaving like D1 where it matters:
//!
//! - foreign keys are enforced (D1 enforces them);
//! - more than [`sealpost_ports::MAX_BOUND_PARAMS`] bound parameters are
//!   refused before execution, and so is a parameter count that does not
//!   match the SQL (D1: "Wrong number of parameter bindings");
//! - `batch` is one transaction: any failure rolls every statement back;
//! - rows come back as D1 returns them: INTEGER/REAL → number, TEXT →
//!   string, BLOB → array of byte numbers, NULL → null;
//! - UNIQUE/CHECK/NOT NULL/FOREIGN KEY failures → [`PortError::Constraint`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, ErrorCode};
use sealpost_ports::{ExecResult, PortError, Row, Sql, SqlValue, Statement};

/// The project's migrations folder.
pub const MIGRATIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");

/// An in-memory SQLite database standing in for D1.
pub struct SqliteDb {
    conn: Mutex<Connection>,
}

impl fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteDb").finish_non_exhaustive()
    }
}

impl SqliteDb {
    /// An empty in-memory database with foreign keys on (no migrations).
    ///
    /// # Panics
    /// If SQLite cannot open an in-memory database.
    pub fn open_empty() -> SqliteDb {
        let conn = Connection::open_in_memory().expect("open in-memory sqlite");
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .expect("enable foreign keys");
        SqliteDb {
            conn: Mutex::new(conn),
        }
    }

    /// A database with every migration of the project's `migrations/` applied.
    ///
    /// # Panics
    /// If a migration fails (the message names the file).
    pub fn open_migrated() -> SqliteDb {
        Self::open_with_migrations(MIGRATIONS_DIR)
    }

    /// A database with every `*.sql` file of `dir` applied in file-name
    /// order, as `wrangler d1 migrations apply` does: each file runs as one
    /// transaction together with its row in the `d1_migrations` table.
    ///
    /// # Panics
    /// If the folder cannot be read or a migration fails (the message names
    /// the file).
    pub fn open_with_migrations(dir: impl AsRef<Path>) -> SqliteDb {
        let dir = dir.as_ref();
        let db = Self::open_empty();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read migrations dir {}: {e}", dir.display()))
            .map(|entry| entry.expect("read migrations dir entry").path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        let mut conn = db.lock();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS d1_migrations(
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT UNIQUE,
                applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
            );",
        )
        .expect("create d1_migrations");
        for file in &files {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8 migration file name");
            let sql = std::fs::read_to_string(file)
                .unwrap_or_else(|e| panic!("read migration {name}: {e}"));
            let tx = conn
                .transaction()
                .unwrap_or_else(|e| panic!("begin migration {name}: {e}"));
            tx.execute_batch(&sql)
                .unwrap_or_else(|e| panic!("migration {name} failed: {e}"));
            tx.execute("INSERT INTO d1_migrations (name) VALUES (?1)", [name])
                .unwrap_or_else(|e| panic!("record migration {name}: {e}"));
            tx.commit()
                .unwrap_or_else(|e| panic!("commit migration {name}: {e}"));
        }
        drop(conn);
        db
    }

    /// Runs raw SQL (any number of statements, no parameters) for test setup.
    ///
    /// # Panics
    /// If the SQL fails.
    #[track_caller]
    pub fn exec_raw(&self, sql: &str) {
        if let Err(e) = self.lock().execute_batch(sql) {
            panic!("exec_raw failed: {e}");
        }
    }

    /// Direct access to the connection, for assertions the port cannot express.
    pub fn with_conn<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        f(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn map_err(e: rusqlite::Error) -> PortError {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => PortError::Constraint(match &e {
            rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
            _ => e.to_string(),
        }),
        _ => PortError::Sql(e.to_string()),
    }
}

fn to_value(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
        SqlValue::Blob(b) => Value::Blob(b.clone()),
    }
}

fn to_json(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        }
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => b.iter().map(|&x| serde_json::Value::from(x)).collect(),
    }
}

/// Prepares and binds `stmt` on `conn`, checking the parameter limits first.
fn prepare<'c>(
    conn: &'c Connection,
    stmt: &Statement,
) -> Result<rusqlite::Statement<'c>, PortError> {
    stmt.check()?;
    let mut prepared = conn.prepare(stmt.sql()).map_err(map_err)?;
    let expected = prepared.parameter_count();
    if expected != stmt.params().len() {
        return Err(PortError::Sql(format!(
            "wrong number of parameter bindings: the SQL expects {expected}, {} bound",
            stmt.params().len()
        )));
    }
    for (i, p) in stmt.params().iter().enumerate() {
        prepared
            .raw_bind_parameter(i + 1, to_value(p))
            .map_err(map_err)?;
    }
    Ok(prepared)
}

fn run_query(conn: &Connection, stmt: &Statement) -> Result<Vec<Row>, PortError> {
    let mut prepared = prepare(conn, stmt)?;
    let names: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = prepared.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map_err)? {
        let mut map = Row::new();
        for (i, name) in names.iter().enumerate() {
            map.insert(name.clone(), to_json(row.get_ref(i).map_err(map_err)?));
        }
        out.push(map);
    }
    Ok(out)
}

fn run_execute(conn: &Connection, stmt: &Statement) -> Result<ExecResult, PortError> {
    let mut prepared = prepare(conn, stmt)?;
    let readonly = prepared.readonly();
    {
        let mut rows = prepared.raw_query();
        while rows.next().map_err(map_err)?.is_some() {}
    }
    Ok(ExecResult {
        changes: if readonly { 0 } else { conn.changes() },
        last_row_id: conn.last_insert_rowid(),
    })
}

impl Sql for SqliteDb {
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        run_query(&self.lock(), stmt)
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        run_execute(&self.lock(), stmt)
    }

    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        for stmt in stmts {
            stmt.check()?;
        }
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(map_err)?;
        let results = stmts
            .iter()
            .map(|s| run_execute(&tx, s))
            .collect::<Result<Vec<_>, _>>()?; // dropping `tx` rolls back
        tx.commit().map_err(map_err)?;
        Ok(results)
    }
}
