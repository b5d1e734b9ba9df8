//! Pool gauges for Prometheus, read from the pool at scrape time (no
//! background task, never stale): `adscale_db_pool_connections{state}` with
//! `state` one of `max`, `size`, `available`, `waiting`.

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntGaugeVec, Opts, Registry};

use super::DbPool;

/// Reports a [`DbPool`]'s connection counts when scraped.
pub struct PoolCollector {
    pool: DbPool,
    gauges: IntGaugeVec,
}

impl PoolCollector {
    /// # Errors
    /// Only if the metric definition were invalid (it is a constant).
    pub fn new(pool: DbPool) -> Result<Self, prometheus::Error> {
        let gauges = IntGaugeVec::new(
            Opts::new(
                "adscale_db_pool_connections",
                "Database pool connections by state (max, size, available, waiting).",
            ),
            &["state"],
        )?;
        Ok(Self { pool, gauges })
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.gauges.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let s = self.pool.status();
        for (state, n) in [
            ("max", s.max_size),
            ("size", s.size),
            ("available", s.available),
            ("waiting", s.waiting),
        ] {
            self.gauges.with_label_values(&[state]).set(gauge_value(n));
        }
        self.gauges.collect()
    }
}

/// Registers the pool gauges with `registry`.
///
/// # Errors
/// The registry refuses them, e.g. when the same pool metrics are registered twice.
pub fn register_pool_metrics(pool: &DbPool, registry: &Registry) -> Result<(), prometheus::Error> {
    registry.register(Box::new(PoolCollector::new(pool.clone())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reports_pool_state_at_scrape_time() {
        let dir = std::env::temp_dir().join(format!("adscale-metrics-{}", uuid::Uuid::new_v4()));
        let pool = DbPool::sqlite(&dir.join("m.db")).unwrap();
        let registry = Registry::new();
        register_pool_metrics(&pool, &registry).unwrap();
        assert!(
            register_pool_metrics(&pool, &registry).is_err(),
            "registering twice is refused"
        );
        let families = registry.gather();
        let family = families
            .iter()
            .find(|f| f.name() == "adscale_db_pool_connections")
            .unwrap();
        let max = family
            .get_metric()
            .iter()
            .find(|m| m.get_label().iter().any(|l| l.value() == "max"))
            .unwrap();
        assert_eq!(max.get_gauge().get_value(), 8.0);
        assert_eq!(family.get_metric().len(), 4);
        let _ = std::fs::remove_dir_all(dir);
    }
}
