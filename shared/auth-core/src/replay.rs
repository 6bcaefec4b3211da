//! Replay protection for sealed requests: a nonce is recorded only after a
//! successful open, in D1, with a primary-key insert that is atomic for every
//! isolate in every location (docs/adr/0008). KV cannot give this: a replay
//! reaching another location within its propagation delay would pass.
use sealpost_ports::{PortError, Sql, Statement};
use sealpost_seal::MAX_SKEW_SECS;

/// Nonces are remembered this long past the later of their `ts` and the time
/// they were seen: ≥ 2 × the accepted clock skew, so a replay is refused for
/// as long as its `ts` could pass the freshness check.
pub const RETENTION_SECS: i64 = 2 * MAX_SKEW_SECS;

/// Records `nonce`; `false` when it was already recorded (a replay).
pub async fn record(
    sql: &impl Sql,
    nonce_b64: &str,
    ts: i64,
    now_secs: i64,
) -> Result<bool, PortError> {
    let expires = ts.max(now_secs) + RETENTION_SECS;
    let outcome = sql
        .execute(
            &Statement::new(
                "INSERT OR IGNORE INTO seal_nonces (nonce, expires_at) VALUES (?1, ?2)",
            )
            .bind(nonce_b64)
            .bind(expires),
        )
        .await?;
    Ok(outcome.changes == 1)
}

/// Forgets nonces whose `ts` can no longer pass the freshness check (cron).
pub async fn purge(sql: &impl Sql, now_secs: i64) -> Result<u64, PortError> {
    let outcome = sql
        .execute(&Statement::new("DELETE FROM seal_nonces WHERE expires_at <= ?1").bind(now_secs))
        .await?;
    Ok(outcome.changes)
}
