//! AdScale adapters: every port of `domain` gets its real implementation here.
//! PostgreSQL and SQLite through diesel-async, Redis through deadpool-redis,
//! in-memory fallbacks, crypto and the clock. Nothing here is reachable from
//! `domain` or `application`; the binary wires these into use cases.

pub mod alerts_worker;
pub mod api_key_cache;
mod breaker;
pub mod cache;
pub mod clock;
pub mod crypto;
pub mod db;
pub mod jobs;
pub mod llm;
pub mod locks;
pub mod meta;
pub mod notify;
pub mod rate_limit;
pub mod redis_pool;
pub mod reports;
pub mod secret_box;
