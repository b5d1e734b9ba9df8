//! The database health probe: a timed `SELECT 1` through the pool. Critical:
//! without the database the service cannot answer.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use diesel::IntoSql;
use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;
use domain::platform::{Probe, ProbeResult};

use super::Db;

/// A probe slower than this reports unhealthy instead of hanging `/health`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[async_trait]
impl Probe for Db {
    async fn probe(&self) -> ProbeResult {
        let started = Instant::now();
        let ping = async {
            on_db!(&self.pool, |c| {
                let one: i32 = diesel::select(1_i32.into_sql::<Integer>())
                    .get_result(c)
                    .await?;
                Ok(one)
            })
        };
        let error = match tokio::time::timeout(PROBE_TIMEOUT, ping).await {
            Ok(Ok(1)) => None,
            Ok(Ok(other)) => Some(format!("unexpected answer {other}")),
            Ok(Err(e)) => Some(short(&e.to_string())),
            Err(_) => Some("timed out".to_owned()),
        };
        if let Some(error) = &error {
            tracing::warn!(backend = self.pool.backend_name(), %error, "database probe failed");
        }
        ProbeResult {
            name: "database",
            healthy: error.is_none(),
            critical: true,
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            error,
        }
    }
}

/// The first line, at most 120 characters: enough to tell "refused" from "timed out".
fn short(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(120)
        .collect()
}
