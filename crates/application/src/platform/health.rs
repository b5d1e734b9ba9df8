use std::sync::{Arc, RwLock};

use domain::platform::{Probe, ProbeResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    /// Everything answers.
    Ok,
    /// A non-critical dependency (the cache) is down; requests are still served.
    Degraded,
    /// A critical dependency (the database) is down; `/health` answers 503.
    Down,
}

impl HealthStatus {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Ok => "ok",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Down => "down",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub checks: Vec<ProbeResult>,
}

impl HealthReport {
    fn from_checks(checks: Vec<ProbeResult>) -> Self {
        let status = if checks.iter().any(|c| c.critical && !c.healthy) {
            HealthStatus::Down
        } else if checks.iter().any(|c| !c.healthy) {
            HealthStatus::Degraded
        } else {
            HealthStatus::Ok
        };
        Self { status, checks }
    }
}

/// Probes every dependency on `refresh` and keeps the latest report, so
/// `/health` answers from memory (a load balancer may poll it thousands of
/// times a second) while the report stays at most one refresh period old.
pub struct HealthMonitor {
    probes: Vec<Arc<dyn Probe>>,
    latest: RwLock<Arc<HealthReport>>,
}

impl HealthMonitor {
    #[must_use]
    pub fn new(probes: Vec<Arc<dyn Probe>>) -> Self {
        Self {
            probes,
            latest: RwLock::new(Arc::new(HealthReport {
                status: HealthStatus::Ok,
                checks: vec![],
            })),
        }
    }

    /// Runs all probes concurrently-enough (in turn; each has its own timeout) and stores the report.
    pub async fn refresh(&self) -> Arc<HealthReport> {
        let mut checks = Vec::with_capacity(self.probes.len());
        for p in &self.probes {
            checks.push(p.probe().await);
        }
        let report = Arc::new(HealthReport::from_checks(checks));
        if let Ok(mut w) = self.latest.write() {
            *w = Arc::clone(&report);
        }
        report
    }

    #[must_use]
    pub fn latest(&self) -> Arc<HealthReport> {
        self.latest
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_else(|e| Arc::clone(&e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::platform::MockProbe;

    fn probe(name: &'static str, healthy: bool, critical: bool) -> Arc<dyn Probe> {
        let mut p = MockProbe::new();
        p.expect_probe().returning(move || ProbeResult {
            name,
            healthy,
            critical,
            latency_ms: 1,
            error: None,
        });
        Arc::new(p)
    }

    #[tokio::test]
    async fn database_down_is_down_and_cache_down_is_degraded() {
        let m = HealthMonitor::new(vec![
            probe("database", false, true),
            probe("cache", true, false),
        ]);
        assert_eq!(m.refresh().await.status, HealthStatus::Down);
        let m = HealthMonitor::new(vec![
            probe("database", true, true),
            probe("cache", false, false),
        ]);
        assert_eq!(m.refresh().await.status, HealthStatus::Degraded);
        assert_eq!(m.latest().status, HealthStatus::Degraded);
        let m = HealthMonitor::new(vec![probe("database", true, true)]);
        assert_eq!(m.refresh().await.status, HealthStatus::Ok);
    }
}
