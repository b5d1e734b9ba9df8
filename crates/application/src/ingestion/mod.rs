//! Ingestion use cases: syncing ad accounts from their platform (requested,
//! scheduled, recovered), importing Ads Manager CSV exports, the gold KPI
//! refresh both share, and reading the sync runs that record it all.

pub mod account_kpis;
pub mod csv;
pub mod gold;
pub mod import;
pub mod sync;
