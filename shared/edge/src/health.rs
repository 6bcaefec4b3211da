//! `GET /health` of the whole system: the gateway's own checks (D1, KV, and
//! that every site has a base URL a deployment may use) plus every domain
//! worker's own report, in the Terminus shape, remembered per isolate for
//! [`CACHE_TTL_MS`] so that callers cannot turn it into storage load.
use std::cell::RefCell;

use sealpost_api::health::{HealthReport, Indicator, check_kv, check_sql};
use sealpost_ports::{BaseUrl, Clock, Kv, Sql, Statement};
use serde::Deserialize;
use serde_json::Value;

/// How long an isolate answers `/health` from its last report.
pub const CACHE_TTL_MS: i64 = 5_000;

/// How a domain worker's health call went.
#[derive(Debug, Clone, PartialEq)]
pub enum Downstream {
    /// It answered with this status and body.
    Answered { status: u16, body: Option<Value> },
    /// It could not be reached.
    Unreachable(String),
}

/// The domain workers' own `/health` answers, by worker name.
#[allow(async_fn_in_trait)]
pub trait Workers {
    async fn reports(&self) -> Vec<(String, Downstream)>;
}

/// The indicator for one domain worker: up when it answered 200 with
/// `"status":"ok"`. The logs get its own indicators as `checks`.
pub fn indicator(result: &Downstream) -> Indicator {
    match result {
        Downstream::Answered { status, body } => {
            let report = body.as_ref().and_then(HealthReport::from_json);
            match report {
                Some(r) if *status == 200 && r.is_ok() => with_details(Indicator::up(), &r),
                Some(r) => with_details(Indicator::down("unhealthy"), &r),
                None => Indicator::down(&format!("unexpected health answer (HTTP {status})")),
            }
        }
        Downstream::Unreachable(why) => Indicator::down(&format!("unreachable: {why}")),
    }
}

fn with_details(indicator: Indicator, report: &HealthReport) -> Indicator {
    match report.to_log_json().get("details") {
        Some(details) => indicator.with("checks", details.clone()),
        None => indicator,
    }
}

/// Aggregates the gateway's own indicators with the domain workers'.
pub fn aggregate(
    own: Vec<(String, Indicator)>,
    downstream: Vec<(String, Downstream)>,
) -> HealthReport {
    let mut report = HealthReport::new();
    for (name, ind) in own {
        report.add(&name, ind);
    }
    for (name, result) in downstream {
        report.add(&name, indicator(&result));
    }
    report
}

#[derive(Deserialize)]
struct SiteRow {
    id: String,
    base_url: Option<String>,
}

/// The `sites` indicator (one query): down when a site has no base URL, an
/// invalid one, or (outside dev mode) a local one; the logs name the sites.
pub async fn check_sites(sql: &impl Sql, dev_mode: bool) -> Indicator {
    let rows: Vec<SiteRow> = match sql
        .query_as(&Statement::new(
            "SELECT id, base_url FROM sites ORDER BY id",
        ))
        .await
    {
        Ok(rows) => rows,
        Err(e) => return Indicator::down(&e.to_string()),
    };
    let (mut missing, mut invalid, mut local) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        match row.base_url.as_deref().map(BaseUrl::parse) {
            None => missing.push(row.id),
            Some(Err(_)) => invalid.push(row.id),
            Some(Ok(url)) if url.is_local() => local.push(row.id),
            Some(Ok(_)) => {}
        }
    }
    let up = invalid.is_empty() && (dev_mode || (missing.is_empty() && local.is_empty()));
    let mut indicator = if up {
        Indicator::up()
    } else {
        Indicator::down("a site has no base URL a deployment may use (scripts/site --base-url)")
    };
    for (key, ids) in [
        ("withoutBaseUrl", missing),
        ("invalidBaseUrl", invalid),
        ("localBaseUrl", local),
    ] {
        if !ids.is_empty() {
            indicator = indicator.with(key, ids);
        }
    }
    indicator
}

/// The whole report, computed now: the gateway's `d1`, `kv` and `sites`,
/// then each domain worker.
pub async fn check(
    sql: &impl Sql,
    kv: &impl Kv,
    dev_mode: bool,
    workers: &impl Workers,
) -> HealthReport {
    let own = vec![
        ("d1".to_owned(), check_sql(sql).await),
        ("kv".to_owned(), check_kv(kv).await),
        ("sites".to_owned(), check_sites(sql, dev_mode).await),
    ];
    aggregate(own, workers.reports().await)
}

/// The isolate's last report and when it stops being fresh.
#[derive(Debug, Default)]
pub struct HealthCache {
    last: Option<(HealthReport, i64)>,
}

impl HealthCache {
    /// The last report, while younger than [`CACHE_TTL_MS`] at `now_ms`.
    pub fn fresh(&self, now_ms: i64) -> Option<HealthReport> {
        self.last
            .as_ref()
            .filter(|(_, expires)| *expires > now_ms)
            .map(|(report, _)| report.clone())
    }

    /// Remembers `report`, computed at `now_ms`.
    pub fn store(&mut self, report: HealthReport, now_ms: i64) {
        self.last = Some((report, now_ms + CACHE_TTL_MS));
    }
}

/// The report from `cache` while fresh, else [`check`]ed and remembered;
/// the second value says whether it was computed now (so the caller logs
/// its details once per computation, not per call).
pub async fn cached(
    cache: &RefCell<HealthCache>,
    clock: &impl Clock,
    sql: &impl Sql,
    kv: &impl Kv,
    dev_mode: bool,
    workers: &impl Workers,
) -> (HealthReport, bool) {
    if let Some(report) = cache.borrow().fresh(clock.now_ms()) {
        return (report, false);
    }
    let report = check(sql, kv, dev_mode, workers).await;
    cache.borrow_mut().store(report.clone(), clock.now_ms());
    (report, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_api::health::check_cron;
    use sealpost_ports::{ExecResult, PortError, Row};
    use sealpost_testkit::{ManualClock, MemKv, SqliteDb, block_on};
    use serde_json::json;
    use std::cell::Cell;

    fn ok_body() -> Value {
        json!({"status":"ok","info":{"d1":{"status":"up"}},"error":{},"details":{"d1":{"status":"up"}}})
    }

    #[test]
    fn all_up_is_ok_with_each_worker_and_its_checks_kept_for_the_logs() {
        let r = aggregate(
            vec![
                ("d1".into(), Indicator::up()),
                ("kv".into(), Indicator::up()),
            ],
            vec![(
                "auth".into(),
                Downstream::Answered {
                    status: 200,
                    body: Some(ok_body()),
                },
            )],
        );
        assert_eq!(r.status_code(), 200);
        let j = r.to_json();
        assert_eq!(j["status"], "ok");
        assert_eq!(j["info"]["auth"], json!({"status": "up"}));
        assert_eq!(j["info"]["kv"], json!({"status": "up"}));
        assert_eq!(j["error"], json!({}));
        let log = r.to_log_json();
        assert_eq!(log["info"]["auth"]["checks"]["d1"]["status"], "up");
    }

    #[test]
    fn one_unreachable_worker_makes_it_503_and_names_it() {
        let r = aggregate(
            vec![("d1".into(), Indicator::up())],
            vec![
                (
                    "auth".into(),
                    Downstream::Answered {
                        status: 200,
                        body: Some(ok_body()),
                    },
                ),
                (
                    "content".into(),
                    Downstream::Unreachable("connection refused".into()),
                ),
                (
                    "comments".into(),
                    Downstream::Answered {
                        status: 500,
                        body: None,
                    },
                ),
            ],
        );
        assert_eq!(r.status_code(), 503);
        let j = r.to_json();
        assert_eq!(j["status"], "error");
        assert_eq!(j["error"]["content"], json!({"status": "down"}));
        assert_eq!(j["error"]["comments"], json!({"status": "down"}));
        assert_eq!(j["details"]["auth"]["status"], "up");
        assert!(!j.to_string().contains("connection refused"), "{j}");
        let log = r.to_log_json();
        assert_eq!(
            log["error"]["content"]["message"],
            "unreachable: connection refused"
        );
    }

    // ---- the sites indicator

    fn set_base_url(db: &SqliteDb, url: &str) {
        db.exec_raw(&format!(
            "UPDATE sites SET base_url = '{url}' WHERE id = 'default'"
        ));
    }

    #[test]
    fn a_site_without_a_base_url_is_down_outside_dev_mode_and_up_in_it() {
        let db = SqliteDb::open_migrated();
        let down = block_on(check_sites(&db, false));
        assert!(!down.up);
        assert_eq!(down.details["withoutBaseUrl"], json!(["default"]));
        assert!(block_on(check_sites(&db, true)).up);
    }

    #[test]
    fn a_local_base_url_is_up_only_in_dev_mode_and_a_public_one_always() {
        let db = SqliteDb::open_migrated();
        set_base_url(&db, "http://127.0.0.1:8787");
        let down = block_on(check_sites(&db, false));
        assert!(!down.up);
        assert_eq!(down.details["localBaseUrl"], json!(["default"]));
        assert!(block_on(check_sites(&db, true)).up);
        set_base_url(&db, "https://news.example.com");
        assert!(block_on(check_sites(&db, false)).up);
    }

    #[test]
    fn a_stored_base_url_that_is_not_an_origin_is_down_even_in_dev_mode() {
        let db = SqliteDb::open_migrated();
        set_base_url(&db, "https://news.example.com/path");
        let down = block_on(check_sites(&db, true));
        assert!(!down.up);
        assert_eq!(down.details["invalidBaseUrl"], json!(["default"]));
    }

    // ---- what one call costs in storage operations

    /// Counts every storage operation that reaches the wrapped double.
    struct Counting<'a, T> {
        inner: T,
        ops: &'a Cell<usize>,
    }

    impl<T> Counting<'_, T> {
        fn tick(&self) {
            self.ops.set(self.ops.get() + 1);
        }
    }

    impl<T: Sql> Sql for Counting<'_, T> {
        async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
            self.tick();
            self.inner.query(stmt).await
        }
        async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
            self.tick();
            self.inner.execute(stmt).await
        }
        async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
            self.tick();
            self.inner.batch(stmts).await
        }
    }

    impl<T: Kv> Kv for Counting<'_, T> {
        async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
            self.tick();
            self.inner.get(key).await
        }
        async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<(), PortError> {
            self.tick();
            self.inner.put(key, value, ttl).await
        }
        async fn delete(&self, key: &str) -> Result<(), PortError> {
            self.tick();
            self.inner.delete(key).await
        }
    }

    /// The four domain workers, each running the checks its `/health` runs
    /// (`sealpost_cf::domain::standard_health`: D1, KV, and the cron
    /// heartbeat for auth, content and campaigns; auth also reads its seal
    /// key ring, one D1 query when its own 30 s key cache is cold) against
    /// the same counted storage.
    struct NativeWorkers<'a> {
        sql: &'a Counting<'a, &'a SqliteDb>,
        kv: &'a Counting<'a, MemKv>,
    }

    impl Workers for NativeWorkers<'_> {
        async fn reports(&self) -> Vec<(String, Downstream)> {
            let mut out = Vec::new();
            for (name, has_cron) in [
                ("auth", true),
                ("content", true),
                ("comments", false),
                ("campaigns", true),
            ] {
                let mut report = HealthReport::new();
                report.add("d1", check_sql(self.sql).await);
                report.add("kv", check_kv(self.kv).await);
                if has_cron {
                    report.add("cron", check_cron(self.kv, name).await);
                }
                if name == "auth" {
                    let keys = self
                        .sql
                        .query(&Statement::new("SELECT kid FROM seal_keys"))
                        .await;
                    report.add(
                        "seal",
                        keys.map_or_else(|e| Indicator::down(&e.to_string()), |_| Indicator::up()),
                    );
                }
                let body = Some(report.to_json());
                out.push((name.to_owned(), Downstream::Answered { status: 200, body }));
            }
            out
        }
    }

    struct Rig {
        clock: ManualClock,
        sql_ops: Cell<usize>,
        kv_ops: Cell<usize>,
        db: SqliteDb,
        kv: MemKv,
    }

    impl Rig {
        fn new() -> Rig {
            let clock = ManualClock::new(1_000_000);
            let db = SqliteDb::open_migrated();
            set_base_url(&db, "https://news.example.com");
            Rig {
                kv: MemKv::new(clock.clone()),
                clock,
                sql_ops: Cell::new(0),
                kv_ops: Cell::new(0),
                db,
            }
        }

        /// One `/health` call through `cache`: its report and the storage
        /// operations it cost.
        fn call(&self, cache: &RefCell<HealthCache>) -> (HealthReport, usize) {
            let (before_sql, before_kv) = (self.sql_ops.get(), self.kv_ops.get());
            let sql = Counting {
                inner: &self.db,
                ops: &self.sql_ops,
            };
            let kv = Counting {
                inner: self.kv.clone(),
                ops: &self.kv_ops,
            };
            let workers = NativeWorkers { sql: &sql, kv: &kv };
            let (report, _) = block_on(cached(cache, &self.clock, &sql, &kv, false, &workers));
            let ops = self.sql_ops.get() - before_sql + self.kv_ops.get() - before_kv;
            (report, ops)
        }
    }

    #[test]
    fn a_first_health_call_costs_fifteen_storage_operations() {
        let rig = Rig::new();
        let cache = RefCell::new(HealthCache::default());
        let (report, ops) = rig.call(&cache);
        assert!(report.is_ok(), "{}", report.to_log_json());
        // Gateway: d1 + kv + sites = 3; auth 4, content 3, comments 2, campaigns 3.
        assert_eq!(ops, 15);
    }

    #[test]
    fn a_second_health_call_within_the_cache_window_touches_no_storage() {
        let rig = Rig::new();
        let cache = RefCell::new(HealthCache::default());
        let (first, _) = rig.call(&cache);
        rig.clock.advance_ms(CACHE_TTL_MS - 1);
        let (second, ops) = rig.call(&cache);
        assert_eq!(ops, 0);
        assert_eq!(second, first);
    }

    #[test]
    fn after_the_cache_window_health_is_checked_again() {
        let rig = Rig::new();
        let cache = RefCell::new(HealthCache::default());
        let (first, _) = rig.call(&cache);
        assert!(first.is_ok());
        rig.clock.advance_ms(CACHE_TTL_MS);
        rig.db
            .exec_raw("UPDATE sites SET base_url = NULL WHERE id = 'default'");
        let (second, ops) = rig.call(&cache);
        assert_eq!(ops, 15);
        assert_eq!(
            second.to_json()["error"]["sites"],
            json!({"status": "down"})
        );
    }
}
