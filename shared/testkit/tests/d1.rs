//! `SqliteDb` behaves like D1 where it matters.

use sealpost_ports::{MAX_BOUND_PARAMS, MAX_SAFE_INTEGER, PortError, Sql, Statement};
use sealpost_testkit::{SqliteDb, block_on};

fn scratch() -> SqliteDb {
    let db = SqliteDb::open_empty();
    db.exec_raw("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, score REAL, data BLOB);");
    db
}

fn count(db: &SqliteDb) -> i64 {
    let rows = block_on(db.query(&Statement::new("SELECT count(*) AS n FROM t"))).unwrap();
    rows[0]["n"].as_i64().unwrap()
}

#[test]
fn the_migrations_apply_and_are_recorded_like_wrangler() {
    let db = SqliteDb::open_migrated();
    let files: Vec<String> = std::fs::read_dir(sealpost_testkit::sqlite::MIGRATIONS_DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    assert!(!files.is_empty());
    let applied = block_on(db.query(&Statement::new(
        "SELECT name FROM d1_migrations ORDER BY id",
    )))
    .unwrap();
    let mut sorted = files;
    sorted.sort();
    let applied: Vec<&str> = applied
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(applied, sorted);
    let site =
        block_on(db.query(&Statement::new("SELECT id FROM sites WHERE id = ?1").bind("default")))
            .unwrap();
    assert_eq!(site.len(), 1, "migration 0001 seeds the default site");
}

#[test]
fn foreign_keys_are_enforced_like_d1() {
    let db = SqliteDb::open_migrated();
    let res = block_on(
        db.execute(
            &Statement::new("INSERT INTO site_hosts (host, site_id) VALUES (?1, ?2)")
                .bind("x.example")
                .bind("no-such-site"),
        ),
    );
    assert!(matches!(res, Err(PortError::Constraint(_))), "{res:?}");
}

#[test]
fn integers_beyond_javascripts_safe_range_are_refused_like_d1() {
    let db = scratch();
    let insert = |n: i64| {
        Statement::new("INSERT INTO t (id, name) VALUES (?1, ?2)")
            .bind(n)
            .bind(format!("n{n}"))
    };
    for n in [MAX_SAFE_INTEGER + 1, i64::MAX, -MAX_SAFE_INTEGER - 1] {
        let err = block_on(db.execute(&insert(n))).unwrap_err();
        assert_eq!(err, PortError::UnsafeInteger(n));
        let err = block_on(db.query(&Statement::new("SELECT ?1 AS n").bind(n))).unwrap_err();
        assert_eq!(err, PortError::UnsafeInteger(n));
    }
    assert_eq!(count(&db), 0, "nothing ran");
    for n in [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER] {
        assert_eq!(block_on(db.execute(&insert(n))).unwrap().changes, 1);
    }
}

#[test]
fn more_than_100_bound_parameters_are_refused_before_execution() {
    let db = scratch();
    let placeholders = |n: usize| {
        (1..=n)
            .map(|i| format!("(?{i})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let insert = |n: usize| {
        (0..n).fold(
            Statement::new(format!("INSERT INTO t (name) VALUES {}", placeholders(n))),
            |s, i| s.bind(format!("n{i}")),
        )
    };
    let err = block_on(db.execute(&insert(MAX_BOUND_PARAMS + 1))).unwrap_err();
    assert_eq!(
        err,
        PortError::TooManyParams {
            count: 101,
            max: 100
        }
    );
    assert_eq!(count(&db), 0, "nothing ran");
    let err = block_on(db.batch(&[insert(1), insert(MAX_BOUND_PARAMS + 1)])).unwrap_err();
    assert!(matches!(err, PortError::TooManyParams { .. }));
    assert_eq!(count(&db), 0, "nothing in the batch ran");
    assert_eq!(
        block_on(db.execute(&insert(MAX_BOUND_PARAMS)))
            .unwrap()
            .changes,
        100
    );
}

#[test]
fn a_parameter_count_that_does_not_match_the_sql_is_refused() {
    let db = scratch();
    let res = block_on(db.execute(&Statement::new("INSERT INTO t (name) VALUES (?1)")));
    assert!(matches!(res, Err(PortError::Sql(_))), "{res:?}");
    let res = block_on(
        db.execute(
            &Statement::new("INSERT INTO t (name) VALUES (?1)")
                .bind("a")
                .bind("b"),
        ),
    );
    assert!(matches!(res, Err(PortError::Sql(_))), "{res:?}");
}

#[test]
fn a_batch_is_all_or_nothing() {
    let db = scratch();
    let insert = |name: &str| Statement::new("INSERT INTO t (name) VALUES (?1)").bind(name);
    let err = block_on(db.batch(&[insert("first"), insert("first")])).unwrap_err();
    assert!(matches!(err, PortError::Constraint(_)), "{err:?}");
    assert_eq!(count(&db), 0, "the first statement was rolled back");
    let err = block_on(db.batch(&[insert("a"), Statement::new("INSERT INTO nope VALUES (1)")]))
        .unwrap_err();
    assert!(matches!(err, PortError::Sql(_)), "{err:?}");
    assert_eq!(count(&db), 0);
    let ok = block_on(db.batch(&[insert("a"), insert("b")])).unwrap();
    assert_eq!(ok.iter().map(|r| r.changes).collect::<Vec<_>>(), [1, 1]);
    assert_eq!(ok[1].last_row_id, 2);
    assert_eq!(count(&db), 2);
}

#[test]
fn rows_come_back_as_d1_returns_them() {
    let db = scratch();
    block_on(
        db.execute(
            &Statement::new("INSERT INTO t (id, name, score, data) VALUES (?1, ?2, ?3, ?4)")
                .bind(7)
                .bind("seven")
                .bind(1.5)
                .bind(vec![0_u8, 255]),
        ),
    )
    .unwrap();
    block_on(db.execute(&Statement::new("INSERT INTO t (id, name) VALUES (8, ?1)").bind("eight")))
        .unwrap();
    let rows = block_on(db.query(&Statement::new("SELECT * FROM t ORDER BY id"))).unwrap();
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect()),
        serde_json::json!([
            {"id": 7, "name": "seven", "score": 1.5, "data": [0, 255]},
            {"id": 8, "name": "eight", "score": null, "data": null},
        ])
    );
}

#[test]
fn execute_reports_changes_and_reads_report_none() {
    let db = scratch();
    let ins = block_on(db.execute(&Statement::new(
        "INSERT INTO t (name) VALUES ('a'), ('b'), ('c')",
    )))
    .unwrap();
    assert_eq!(ins.changes, 3);
    assert_eq!(ins.last_row_id, 3);
    let upd = block_on(db.execute(&Statement::new("UPDATE t SET score = 1 WHERE id > ?1").bind(1)))
        .unwrap();
    assert_eq!(upd.changes, 2);
    let sel = block_on(db.execute(&Statement::new("SELECT * FROM t"))).unwrap();
    assert_eq!(sel.changes, 0);
    let ret =
        block_on(db.execute(&Statement::new("DELETE FROM t WHERE id = 1 RETURNING id"))).unwrap();
    assert_eq!(ret.changes, 1);
}

#[test]
fn constraint_errors_do_not_include_bound_values() {
    let db = scratch();
    let insert = Statement::new("INSERT INTO t (name) VALUES (?1)").bind("s3cret-value");
    block_on(db.execute(&insert)).unwrap();
    let err = block_on(db.execute(&insert)).unwrap_err();
    assert!(matches!(err, PortError::Constraint(_)));
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

#[test]
fn open_with_migrations_applies_sql_files_in_name_order_and_ignores_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("0002_b.sql"),
        "INSERT INTO a (x) VALUES (2);",
    )
    .unwrap();
    std::fs::write(dir.path().join("0001_a.sql"), "CREATE TABLE a (x INTEGER);").unwrap();
    std::fs::write(dir.path().join("README.md"), "not sql").unwrap();
    let db = SqliteDb::open_with_migrations(dir.path());
    let rows = block_on(db.query(&Statement::new("SELECT x FROM a"))).unwrap();
    assert_eq!(rows.len(), 1);
}

#[test]
#[should_panic(expected = "migration 0001_bad.sql failed")]
fn a_failing_migration_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0001_bad.sql"), "CREATE TABLE (;").unwrap();
    let _ = SqliteDb::open_with_migrations(dir.path());
}
