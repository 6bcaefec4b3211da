//! `GET /health` of the whole system: the gateway's own checks plus every
//! domain worker's own report, in the Terminus shape.
use sealpost_api::health::{HealthReport, Indicator};
use serde_json::Value;

/// How a domain worker's health call went.
#[derive(Debug, Clone, PartialEq)]
pub enum Downstream {
    /// It answered with this status and body.
    Answered { status: u16, body: Option<Value> },
    /// It could not be reached.
    Unreachable(String),
}

/// The indicator for one domain worker: up when it answered 200 with
/// `"status":"ok"`; its own indicators are kept as details.
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
    match report.to_json().get("details") {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok_body() -> Value {
        json!({"status":"ok","info":{"d1":{"status":"up"}},"error":{},"details":{"d1":{"status":"up"}}})
    }

    #[test]
    fn all_up_is_ok_with_each_worker_and_its_checks() {
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
        assert_eq!(j["info"]["auth"]["status"], "up");
        assert_eq!(j["info"]["auth"]["checks"]["d1"]["status"], "up");
        assert_eq!(j["info"]["kv"]["status"], "up");
        assert_eq!(j["error"], json!({}));
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
        assert_eq!(j["error"]["content"]["status"], "down");
        assert_eq!(j["error"]["comments"]["status"], "down");
        assert_eq!(j["details"]["auth"]["status"], "up");
    }
}
