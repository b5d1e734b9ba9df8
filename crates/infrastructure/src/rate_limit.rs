//! `RateLimiter` adapters: fixed-window counting shared through Redis, and
//! per-instance in memory (alone, or as Redis's stand-in while it is down).
//!
//! A window starts at a key's first request and lasts `window`; the
//! `limit`-th request is the last one allowed. Never fails: with Redis
//! unavailable each instance counts on its own, so the effective limit is
//! per instance until Redis is back. Owns counting; never decides limits.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_redis::Pool;
use deadpool_redis::redis::Script;
use domain::platform::{RateDecision, RateLimiter};
use moka::Expiry;

use crate::redis_pool::{RedisBreaker, SharedConnection, describe_redis_error};

/// Shortest window honoured; a zero window would never reset.
const MIN_WINDOW: Duration = Duration::from_millis(1);
/// Longest window honoured (keeps `Instant` arithmetic far from overflow).
const MAX_WINDOW: Duration = Duration::from_secs(30 * 86_400);

fn clamp_window(window: Duration) -> Duration {
    window.clamp(MIN_WINDOW, MAX_WINDOW)
}

fn decision(count: u32, limit: u32, until_reset: Duration) -> RateDecision {
    RateDecision {
        allowed: count <= limit,
        limit,
        remaining: limit.saturating_sub(count),
        // Whole seconds, rounded up: "retry in 0 s" before the reset would be a lie.
        reset_secs: until_reset
            .as_millis()
            .div_ceil(1000)
            .try_into()
            .unwrap_or(u64::MAX),
    }
}

// ------------------------------------------------------------------ memory

#[derive(Debug, Clone, Copy)]
struct Window {
    count: u32,
    ends_at: Instant,
}

struct WindowExpiry;

impl Expiry<String, Window> for WindowExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        w: &Window,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(w.ends_at.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        w: &Window,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(w.ends_at.saturating_duration_since(updated_at))
    }
}

/// Per-instance fixed windows. Holds at most `max_keys` keys; each is dropped
/// when its window ends, and under pressure the least recently used go first
/// (which resets their count: memory stays bounded, limits get lenient).
#[derive(Clone)]
pub struct MemoryRateLimiter {
    windows: moka::future::Cache<String, Window>,
}

impl std::fmt::Debug for MemoryRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRateLimiter")
            .field("keys", &self.windows.entry_count())
            .finish()
    }
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_KEYS)
    }
}

impl MemoryRateLimiter {
    /// Default key capacity.
    pub const DEFAULT_MAX_KEYS: u64 = 100_000;

    #[must_use]
    pub fn new(max_keys: u64) -> Self {
        Self {
            windows: moka::future::Cache::builder()
                .max_capacity(max_keys)
                .expire_after(WindowExpiry)
                .build(),
        }
    }
}

/// The tightest decision over several keys (an empty key list allows).
fn tightest(decisions: impl IntoIterator<Item = RateDecision>, limit: u32) -> RateDecision {
    decisions
        .into_iter()
        .reduce(RateDecision::tighter)
        .unwrap_or(RateDecision {
            allowed: true,
            limit,
            remaining: limit,
            reset_secs: 0,
        })
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(&self, keys: &[String], limit: u32, window: Duration) -> RateDecision {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.check_one(key, limit, window).await);
        }
        tightest(out, limit)
    }
}

impl MemoryRateLimiter {
    async fn check_one(&self, key: &str, limit: u32, window: Duration) -> RateDecision {
        let window = clamp_window(window);
        let now = Instant::now();
        // Serialised per key by moka, so concurrent checks never lose a count.
        let entry = self
            .windows
            .entry_by_ref(key)
            .and_upsert_with(|existing| async move {
                match existing.map(moka::Entry::into_value) {
                    Some(w) if w.ends_at > now => Window {
                        count: w.count.saturating_add(1),
                        ends_at: w.ends_at,
                    },
                    _ => Window {
                        count: 1,
                        ends_at: now + window,
                    },
                }
            })
            .await;
        let w = entry.into_value();
        decision(w.count, limit, w.ends_at.saturating_duration_since(now))
    }
}

// ------------------------------------------------------------------ redis

/// Counts one request on every key and, on a key's first hit, starts its
/// window; returns the highest count and that key's milliseconds left. A key
/// found without expiry (cannot happen through this script, but would never
/// reset) gets one. All keys in one call: on Redis Cluster they would need one
/// hash slot, so the limiter expects a single primary (or Sentinel).
const CHECK_SCRIPT: &str = r"
local best_n, best_ttl = 0, 0
for _, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if n == 1 or ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  if n > best_n or (n == best_n and ttl > best_ttl) then
    best_n, best_ttl = n, ttl
  end
end
return {best_n, best_ttl}
";

/// Fixed windows shared by every instance through Redis: one atomic script
/// call per check (`EVALSHA`, loading the script when Redis lacks it) on key
/// `<prefix><key>`.
///
/// When Redis fails, or while the shared [`RedisBreaker`] is open, checks go
/// to the in-memory `fallback`, so limits still hold per instance.
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: SharedConnection,
    prefix: String,
    script: Script,
    fallback: MemoryRateLimiter,
    breaker: RedisBreaker,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("prefix", &self.prefix)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// `prefix` namespaces every key (e.g. `"adscale:rl:"`); limiters with the
    /// same prefix on the same Redis share their counts.
    #[must_use]
    pub fn new(
        pool: Pool,
        prefix: impl Into<String>,
        fallback: MemoryRateLimiter,
        breaker: RedisBreaker,
    ) -> Self {
        Self {
            conn: SharedConnection::new(pool),
            prefix: prefix.into(),
            script: Script::new(CHECK_SCRIPT),
            fallback,
            breaker,
        }
    }

    async fn try_check(&self, keys: &[String], window: Duration) -> Result<(i64, i64), String> {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let mut conn = self.conn.get().await?;
        let mut call = self.script.prepare_invoke();
        for key in keys {
            call.key(format!("{}{key}", self.prefix));
        }
        call.arg(window_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| describe_redis_error(&e))
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, keys: &[String], limit: u32, window: Duration) -> RateDecision {
        let window = clamp_window(window);
        if keys.is_empty() {
            return tightest([], limit);
        }
        if self.breaker.allow() {
            match self.try_check(keys, window).await {
                Ok((count, pttl_ms)) => {
                    self.breaker.success();
                    let count = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
                    let left = Duration::from_millis(u64::try_from(pttl_ms).unwrap_or(0));
                    return decision(count, limit, left);
                }
                Err(e) => {
                    self.conn.discard();
                    self.breaker.failure(&e);
                }
            }
        }
        self.fallback.check(keys, limit, window).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_rounds_reset_up_and_never_underflows() {
        let d = decision(5, 3, Duration::from_millis(1_001));
        assert_eq!(
            d,
            RateDecision {
                allowed: false,
                limit: 3,
                remaining: 0,
                reset_secs: 2
            }
        );
        assert!(decision(3, 3, Duration::ZERO).allowed);
        assert_eq!(decision(3, 3, Duration::ZERO).reset_secs, 0);
    }
}
