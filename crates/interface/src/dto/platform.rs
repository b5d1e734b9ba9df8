//! Platform DTOs: the health report.

use std::collections::BTreeMap;

use application::platform::HealthReport;
use serde::Serialize;
use utoipa::ToSchema;

/// Overall state: `down` when a critical dependency (the database) is down,
/// `degraded` when only a non-critical one (the cache) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatusDto {
    Ok,
    Degraded,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatusDto {
    Up,
    Down,
}

/// One dependency, as last probed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckDto {
    pub status: CheckStatusDto,
    pub latency_ms: u64,
    /// Why the probe failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /health`, answered from the last background probe (no database work per request).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "checks": {"database": {"status": "up", "latency_ms": 2}, "cache": {"status": "up", "latency_ms": 1}}, "version": "0.1.0"}))]
pub struct HealthDto {
    pub status: HealthStatusDto,
    /// By dependency name (`database`, `cache`, …).
    pub checks: BTreeMap<String, CheckDto>,
    pub version: String,
}

impl HealthDto {
    #[must_use]
    pub fn new(report: &HealthReport, version: &str) -> Self {
        use application::platform::HealthStatus as S;
        Self {
            status: match report.status {
                S::Ok => HealthStatusDto::Ok,
                S::Degraded => HealthStatusDto::Degraded,
                S::Down => HealthStatusDto::Down,
            },
            checks: report
                .checks
                .iter()
                .map(|c| {
                    (
                        c.name.to_owned(),
                        CheckDto {
                            status: if c.healthy {
                                CheckStatusDto::Up
                            } else {
                                CheckStatusDto::Down
                            },
                            latency_ms: c.latency_ms,
                            error: c.error.clone(),
                        },
                    )
                })
                .collect(),
            version: version.to_owned(),
        }
    }
}
