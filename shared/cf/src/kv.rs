//! The KV port over a Workers KV namespace.
use sealpost_ports::{Kv, PortError, check_ttl};
use worker::kv::KvStore;

/// A KV namespace. Eventually consistent: see docs/adr/0004.
#[derive(Debug)]
pub struct CfKv(pub KvStore);

impl Kv for CfKv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        self.0
            .get(key)
            .text()
            .await
            .map_err(|e| PortError::Kv(format!("get: {e}")))
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> Result<(), PortError> {
        check_ttl(ttl_secs)?;
        let mut put = self
            .0
            .put(key, value)
            .map_err(|e| PortError::Kv(format!("put: {e}")))?;
        if let Some(ttl) = ttl_secs {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(|e| {
            let msg = e.to_string();
            if msg.contains("429") {
                PortError::KvWriteRateExceeded {
                    key: key.to_owned(),
                }
            } else {
                PortError::Kv(format!("put: {msg}"))
            }
        })
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.0
            .delete(key)
            .await
            .map_err(|e| PortError::Kv(format!("delete: {e}")))
    }
}
