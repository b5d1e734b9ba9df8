//! Platform use cases: the health report.

mod health;

pub use health::{HealthMonitor, HealthReport, HealthStatus};
