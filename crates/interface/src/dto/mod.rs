//! Request and response bodies, one module per bounded context. Each derives
//! `ToSchema` (queries: `IntoParams`); domain types are mapped here, never
//! serialised directly.

pub mod ads;
pub mod alerts;
pub mod analysis;
pub mod assistant;
pub mod audit;
pub mod common;
pub mod identity;
pub mod ingestion;
pub mod insights;
pub mod platform;
pub mod reports;
pub mod rules;
pub mod suggestions;
