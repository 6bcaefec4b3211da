//! Structured JSON logs, one object per line, through `console.log`.
//! Callers pass only fields that are safe to keep: ids, paths without query
//! strings, statuses, durations. Never bodies, headers, tokens or secrets.
use serde_json::{Map, Value};

/// A log line under construction.
#[derive(Debug)]
pub struct LogLine(Map<String, Value>);

/// Starts a log line at `level` with a short message.
pub fn line(level: &str, msg: &str) -> LogLine {
    let mut map = Map::new();
    map.insert("level".into(), level.into());
    map.insert("msg".into(), msg.into());
    LogLine(map)
}

impl LogLine {
    /// Adds one field.
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Writes the line.
    pub fn emit(self) {
        let text = Value::Object(self.0).to_string();
        if cfg!(target_arch = "wasm32") {
            worker::console_log!("{text}");
        }
    }
}

/// The one log line of an internal failure: the cause stays in the logs under
/// the request id; the client only gets `INTERNAL` and that id.
pub fn internal_failure(service: &str, request_id: &str, path: &str, cause: String) {
    line("error", "internal failure")
        .field("service", service)
        .field("requestId", request_id)
        .field("path", path)
        .field("cause", cause)
        .emit();
}
