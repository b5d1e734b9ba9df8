//! Meta Marketing API (Graph API) adapter.
//!
//! - [`wire`]: the one place where Graph API values (numbers as strings,
//!   budgets in minor units, calendar days of the ad account, entity rows)
//!   become typed values.
//! - [`client`]: [`client::MetaGraphClient`], the HTTP adapter behind the
//!   `AdsPlatform` port (paging, async insights reports, retries, throttling,
//!   circuit breaker, writes).
//! - [`throttle`]: where per-ad-account throttling blocks are kept, in
//!   memory or in Redis (shared by every worker).

pub mod client;
pub mod throttle;
pub mod wire;
