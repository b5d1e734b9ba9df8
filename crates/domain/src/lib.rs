//! AdScale's domain: entities, value objects, typed ids, KPI math and the ports
//! (traits) that adapters implement. Nothing here knows about HTTP, SQL, Redis or
//! an async runtime; it depends only on std-like crates.

pub mod actions;
pub mod ads;
pub mod analysis;
pub mod assistant;
pub mod audit;
pub mod error;
pub mod identity;
pub mod ids;
pub mod ingestion;
pub mod kpi;
pub mod notify;
pub mod page;
pub mod platform;
pub mod report_jobs;
pub mod reports;
pub mod rules;

pub use error::RepoError;
pub use ids::*;
