//! Platform ports: time, cache, rate limits and dependency probes. Adapters
//! decide where these live (Redis, memory); the domain only states the promise.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use time::OffsetDateTime;

#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
    /// Today's calendar day in the IANA time zone `tz` (an ad account's
    /// day); UTC's day when the zone is unknown.
    fn today_in(&self, tz: &str) -> time::Date;
    /// The wall-clock time now in `tz` (when a schedule's local hour has
    /// come). Defaults to UTC's; the system clock converts.
    fn local_now_in(&self, _tz: &str) -> time::PrimitiveDateTime {
        let now = self.now();
        time::PrimitiveDateTime::new(now.date(), now.time())
    }
}

/// A cache of rendered bytes, grouped under a key (e.g. one tenant's campaign
/// lists) so that one write can drop every variant at once.
///
/// Never fails: an unavailable cache behaves as a miss and a no-op; the
/// adapter logs and counts the failure.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, group: &str, field: &str) -> Option<Bytes>;
    /// Stores a variant; the group expires `ttl` after its first variant was stored.
    async fn put(&self, group: &str, field: &str, value: Bytes, ttl: Duration);
    /// Drops every variant of the group.
    async fn invalidate(&self, group: &str);
}

/// The outcome of one rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the current window resets.
    pub reset_secs: u64,
}

impl RateDecision {
    /// The decision with fewer requests left (the later reset on a tie): what
    /// a request counted against several keys is told.
    #[must_use]
    pub fn tighter(self, other: Self) -> Self {
        // A refusal beats an allowance; then fewer left; then the later reset.
        let rank = |d: &Self| (d.allowed, d.remaining, std::cmp::Reverse(d.reset_secs));
        if rank(&other) < rank(&self) {
            other
        } else {
            self
        }
    }
}

/// Fixed-window request counting per key (a client IP, a principal).
///
/// Never fails: when the shared store is down the adapter counts per instance.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one request against every key at once (one round trip to a
    /// shared store) and returns the tightest of their decisions.
    async fn check(&self, keys: &[String], limit: u32, window: Duration) -> RateDecision;
}

/// One dependency's health, as `/health` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub name: &'static str,
    pub healthy: bool,
    /// Whether the service is down without it (database: yes; cache: no, degraded).
    pub critical: bool,
    pub latency_ms: u64,
    pub error: Option<String>,
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Probe: Send + Sync {
    async fn probe(&self) -> ProbeResult;
}

#[cfg(test)]
mod tests {
    use super::RateDecision;

    fn d(allowed: bool, remaining: u32, reset_secs: u64) -> RateDecision {
        RateDecision {
            allowed,
            limit: 10,
            remaining,
            reset_secs,
        }
    }

    #[test]
    fn tighter_prefers_refusal_then_fewer_left_then_later_reset() {
        assert_eq!(d(true, 0, 5).tighter(d(false, 0, 1)), d(false, 0, 1));
        assert_eq!(d(true, 3, 5).tighter(d(true, 2, 1)), d(true, 2, 1));
        assert_eq!(d(true, 2, 5).tighter(d(true, 2, 9)), d(true, 2, 9));
        assert_eq!(d(true, 2, 9).tighter(d(true, 7, 1)), d(true, 2, 9));
    }
}
