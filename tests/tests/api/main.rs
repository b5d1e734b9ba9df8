//! The HTTP API end to end, on SQLite (embedded default) and on PostgreSQL +
//! Redis (production), wired exactly as `adscale serve` wires it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ads;
mod alerts;
mod analysis;
mod apply;
mod identity;
mod ingestion;
mod platform;
mod rules;
mod suggestions;
mod tenancy;
