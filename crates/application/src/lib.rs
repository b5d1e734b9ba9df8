//! AdScale use cases: one struct per user intention, holding the ports it
//! needs, with one public `execute`. Role checks and cache-aside live here;
//! HTTP, SQL and Redis do not.

pub mod ads;
pub mod analysis;
pub mod assistant;
pub mod audit;
pub mod error;
pub mod identity;
pub mod ingestion;
pub mod jobs;
pub mod notify;
mod paging;
pub mod platform;
pub mod reports;
pub mod rules;
#[cfg(test)]
mod testing;

pub use error::{AppError, Resource};
