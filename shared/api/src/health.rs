//! The `/health` answer in the Terminus shape:
//! `{"status":"ok"|"error","info":{…up…},"error":{…down…},"details":{…all…}}`,
//! 200 when every indicator is up, 503 otherwise. The answer says only
//! `{"status":"up"|"down"}` per indicator: what an indicator knows beyond that
//! (error text, counts, times) is for the logs ([`HealthReport::to_log_json`]).
//! Also reads such a report back, so the gateway can fold in a downstream
//! worker's own report, and holds the storage probes every worker's report is
//! made of.

use sealpost_ports::{Clock, Kv, PortError, Sql, Statement};
use serde_json::{Map, Value};

use crate::response::ApiResponse;

/// The state of one dependency (`d1`, `kv`, a downstream worker…).
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub up: bool,
    /// What the logs show next to `"status"` (a `"status"` key here is
    /// ignored); never part of the answer.
    pub details: Map<String, Value>,
}

impl Indicator {
    pub fn up() -> Indicator {
        Indicator {
            up: true,
            details: Map::new(),
        }
    }

    /// Down, with `{"message": message}` for the logs (free of secrets).
    pub fn down(message: &str) -> Indicator {
        Indicator {
            up: false,
            details: Map::new(),
        }
        .with("message", message)
    }

    /// Adds a detail field.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Indicator {
        self.details.insert(key.into(), value.into());
        self
    }

    fn status(&self) -> Value {
        Value::from(if self.up { "up" } else { "down" })
    }

    /// What the answer shows: `{"status":"up"|"down"}`.
    fn to_public_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("status".to_owned(), self.status());
        Value::Object(obj)
    }

    /// What the logs show: the status and every detail.
    fn to_log_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("status".to_owned(), self.status());
        for (k, v) in &self.details {
            if k != "status" {
                obj.insert(k.clone(), v.clone());
            }
        }
        Value::Object(obj)
    }

    fn from_json(value: &Value) -> Option<Indicator> {
        let obj = value.as_object()?;
        let up = match obj.get("status")?.as_str()? {
            "up" => true,
            "down" => false,
            _ => return None,
        };
        let details = obj
            .iter()
            .filter(|(k, _)| k.as_str() != "status")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(Indicator { up, details })
    }
}

/// A set of named indicators.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthReport {
    indicators: Vec<(String, Indicator)>,
}

impl HealthReport {
    pub fn new() -> HealthReport {
        HealthReport::default()
    }

    /// Adds (or replaces) the indicator called `name`.
    pub fn add(&mut self, name: impl Into<String>, indicator: Indicator) {
        let name = name.into();
        match self.indicators.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => *existing = indicator,
            None => self.indicators.push((name, indicator)),
        }
    }

    /// Adds every indicator of `other` (e.g. a downstream worker's report).
    pub fn extend(&mut self, other: HealthReport) {
        for (name, indicator) in other.indicators {
            self.add(name, indicator);
        }
    }

    /// The indicators, in the order added.
    pub fn indicators(&self) -> &[(String, Indicator)] {
        &self.indicators
    }

    /// Whether every indicator is up (an empty report is ok).
    pub fn is_ok(&self) -> bool {
        self.indicators.iter().all(|(_, i)| i.up)
    }

    /// 200 when ok, 503 otherwise.
    pub fn status_code(&self) -> u16 {
        if self.is_ok() { 200 } else { 503 }
    }

    /// The Terminus JSON shape of the answer: each indicator only up or down.
    pub fn to_json(&self) -> Value {
        self.shape(Indicator::to_public_json)
    }

    /// The same shape with every indicator's details: for the logs only.
    pub fn to_log_json(&self) -> Value {
        self.shape(Indicator::to_log_json)
    }

    fn shape(&self, each: fn(&Indicator) -> Value) -> Value {
        let mut info = Map::new();
        let mut error = Map::new();
        let mut details = Map::new();
        for (name, indicator) in &self.indicators {
            let json = each(indicator);
            if indicator.up {
                info.insert(name.clone(), json.clone());
            } else {
                error.insert(name.clone(), json.clone());
            }
            details.insert(name.clone(), json);
        }
        let mut out = Map::new();
        out.insert(
            "status".to_owned(),
            Value::from(if self.is_ok() { "ok" } else { "error" }),
        );
        out.insert("info".to_owned(), Value::Object(info));
        out.insert("error".to_owned(), Value::Object(error));
        out.insert("details".to_owned(), Value::Object(details));
        Value::Object(out)
    }

    /// The `/health` response (no envelope), without details.
    pub fn into_response(self) -> ApiResponse {
        ApiResponse::json_value(self.status_code(), &self.to_json())
    }

    /// Reads a Terminus report (as produced by [`HealthReport::to_json`]). Uses
    /// `details` when present, else `info` and `error`. `None` when the shape is
    /// wrong, or when it says `"error"` without any indicator being down (so the
    /// caller treats an unreadable or inconsistent report as that worker down).
    pub fn from_json(value: &Value) -> Option<HealthReport> {
        let obj = value.as_object()?;
        let ok = match obj.get("status")?.as_str()? {
            "ok" => true,
            "error" => false,
            _ => return None,
        };
        let mut report = HealthReport::new();
        let mut read = |section: &Value| -> Option<()> {
            for (name, indicator) in section.as_object()? {
                report.add(name.clone(), Indicator::from_json(indicator)?);
            }
            Some(())
        };
        match obj.get("details") {
            Some(details) => read(details)?,
            None => {
                for key in ["info", "error"] {
                    if let Some(section) = obj.get(key) {
                        read(section)?;
                    }
                }
            }
        }
        (report.is_ok() == ok).then_some(report)
    }
}

/// The KV key of `service`'s cron heartbeat.
fn cron_key(service: &str) -> String {
    format!("cron:last:{service}")
}

/// Health of the SQL database: one trivial query.
pub async fn check_sql(sql: &impl Sql) -> Indicator {
    match sql.query(&Statement::new("SELECT 1 AS ok")).await {
        Ok(_) => Indicator::up(),
        Err(e) => Indicator::down(&e.to_string()),
    }
}

/// Health of KV: one read.
pub async fn check_kv(kv: &impl Kv) -> Indicator {
    match kv.get("health:probe").await {
        Ok(_) => Indicator::up(),
        Err(e) => Indicator::down(&e.to_string()),
    }
}

/// Records that `service`'s scheduled handler ran (KV: one write per run,
/// far below one write per key per second).
pub async fn record_cron_run(
    kv: &impl Kv,
    clock: &impl Clock,
    service: &str,
) -> Result<(), PortError> {
    kv.put(
        &cron_key(service),
        &sealpost_ports::rfc3339(clock.now_ms()),
        None,
    )
    .await
}

/// The cron indicator (one KV read): up, with the last run time for the
/// logs (null before the first run).
pub async fn check_cron(kv: &impl Kv, service: &str) -> Indicator {
    match kv.get(&cron_key(service)).await {
        Ok(last) => Indicator::up().with("lastRunAt", last.map_or(Value::Null, Into::into)),
        Err(e) => Indicator::down(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failing_indicator_says_down_without_its_error_text() {
        let mut r = HealthReport::new();
        r.add("d1", Indicator::down("D1_ERROR: no such table: seal_keys"));
        r.add("seal", Indicator::up().with("keys", 3));
        let resp = r.into_response();
        assert_eq!(resp.status, 503);
        assert_eq!(
            resp.body_json().unwrap(),
            json!({
                "status": "error",
                "info": {"seal": {"status": "up"}},
                "error": {"d1": {"status": "down"}},
                "details": {"seal": {"status": "up"}, "d1": {"status": "down"}}
            })
        );
    }

    #[test]
    fn all_up_is_ok_with_200() {
        let mut r = HealthReport::new();
        r.add("d1", Indicator::up());
        r.add("kv", Indicator::up().with("latencyMs", 3));
        assert!(r.is_ok());
        assert_eq!(r.status_code(), 200);
        assert_eq!(
            r.to_json(),
            json!({
                "status": "ok",
                "info": {"d1": {"status": "up"}, "kv": {"status": "up"}},
                "error": {},
                "details": {"d1": {"status": "up"}, "kv": {"status": "up"}}
            })
        );
    }

    #[test]
    fn the_log_shape_keeps_every_detail() {
        let mut r = HealthReport::new();
        r.add("kv", Indicator::up().with("latencyMs", 3));
        r.add("d1", Indicator::down("timeout"));
        assert_eq!(
            r.to_log_json(),
            json!({
                "status": "error",
                "info": {"kv": {"status": "up", "latencyMs": 3}},
                "error": {"d1": {"status": "down", "message": "timeout"}},
                "details": {
                    "kv": {"status": "up", "latencyMs": 3},
                    "d1": {"status": "down", "message": "timeout"}
                }
            })
        );
    }

    #[test]
    fn one_down_is_error_with_503() {
        let mut r = HealthReport::new();
        r.add("d1", Indicator::up());
        r.add("kv", Indicator::down("timeout"));
        assert!(!r.is_ok());
        let resp = r.clone().into_response();
        assert_eq!(resp.status, 503);
        assert_eq!(
            resp.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(
            resp.body_json().unwrap(),
            json!({
                "status": "error",
                "info": {"d1": {"status": "up"}},
                "error": {"kv": {"status": "down"}},
                "details": {"d1": {"status": "up"}, "kv": {"status": "down"}}
            })
        );
    }

    #[test]
    fn empty_report_is_ok() {
        let r = HealthReport::new();
        assert_eq!(r.status_code(), 200);
        assert_eq!(
            r.to_json(),
            json!({"status":"ok","info":{},"error":{},"details":{}})
        );
    }

    #[test]
    fn a_status_detail_cannot_override_the_indicator_status() {
        let mut r = HealthReport::new();
        r.add("kv", Indicator::down("x").with("status", "up"));
        assert_eq!(r.to_json()["details"]["kv"]["status"], json!("down"));
        assert_eq!(r.to_log_json()["details"]["kv"]["status"], json!("down"));
        assert_eq!(r.status_code(), 503);
    }

    #[test]
    fn adding_the_same_name_replaces_it() {
        let mut r = HealthReport::new();
        r.add("d1", Indicator::up());
        r.add("d1", Indicator::down("gone"));
        assert_eq!(r.indicators().len(), 1);
        assert!(!r.is_ok());
        assert_eq!(r.to_json()["info"], json!({}));
    }

    #[test]
    fn a_report_round_trips_through_json() {
        let mut r = HealthReport::new();
        r.add("d1", Indicator::up().with("latencyMs", 2));
        r.add("queue", Indicator::down("unreachable"));
        let back = HealthReport::from_json(&r.to_json()).unwrap();
        assert_eq!(back.to_json(), r.to_json());
        assert!(!back.is_ok());
    }

    #[test]
    fn a_report_without_details_is_read_from_info_and_error() {
        let v = json!({"status":"error","info":{"d1":{"status":"up"}},"error":{"kv":{"status":"down","message":"m"}}});
        let r = HealthReport::from_json(&v).unwrap();
        assert_eq!(r.indicators().len(), 2);
        assert_eq!(r.status_code(), 503);
    }

    #[test]
    fn malformed_or_inconsistent_reports_are_rejected() {
        for v in [
            json!(null),
            json!({}),
            json!({"status":"weird","details":{}}),
            json!({"status":"ok","details":{"d1":{"status":"sideways"}}}),
            json!({"status":"ok","details":{"d1":"up"}}),
            json!({"status":"ok","details":[]}),
            json!({"status":"error","details":{"d1":{"status":"up"}}}),
            json!({"status":"ok","details":{"d1":{"status":"down"}}}),
        ] {
            assert_eq!(HealthReport::from_json(&v), None, "{v}");
        }
    }

    #[test]
    fn a_downstream_report_can_be_folded_in() {
        let mut gw = HealthReport::new();
        gw.add("kv", Indicator::up());
        let downstream = HealthReport::from_json(
            &json!({"status":"ok","info":{"d1":{"status":"up"}},"error":{},"details":{"d1":{"status":"up"}}}),
        )
        .unwrap();
        gw.extend(downstream);
        let names: Vec<&str> = gw.indicators().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["kv", "d1"]);
        assert!(gw.is_ok());
    }
}
