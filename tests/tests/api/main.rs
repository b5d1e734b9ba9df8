//! The HTTP API end to end, on SQLite (embedded default) and on PostgreSQL +
//! Redis (production), wired exactly as `adscale serve` wires it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// One `sqlite` and one `postgres` test per scenario `async fn(Backend)`.
macro_rules! both {
    ($($name:ident),*) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() { super::$name(adscale_tests::Backend::Sqlite).await; }
            #[actix_web::test]
            async fn postgres() { super::$name(adscale_tests::Backend::Postgres).await; }
        }
    )*};
}

mod ads;
mod alerts;
mod analysis;
mod apply;
mod assistant;
mod identity;
mod ingestion;
mod insights;
mod organization;
mod platform;
mod rebalance;
mod reports;
mod rules;
mod suggestions;
mod tenancy;
