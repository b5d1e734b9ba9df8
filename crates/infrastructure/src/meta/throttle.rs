//! Where Meta throttling is remembered: per ad account, the time before
//! which no call may be made ("blocked until"). The Graph client writes a
//! block when Meta throttles an account (or reports usage near its limit)
//! and waits for it before every call to that account.
//!
//! Two stores: [`MemoryThrottleStore`] (one process) and
//! [`RedisThrottleStore`] (every worker on the same Redis shares the blocks,
//! key `<prefix>meta:blocked:<account>` holding the Unix time in
//! milliseconds, expiring with the block). Neither ever fails: a store that
//! cannot answer says "not blocked" and Meta's own throttling errors tell the
//! client again. Owns the bookkeeping only; how long to wait is the client's
//! decision.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use deadpool_redis::Pool;
use deadpool_redis::redis::{self, Script};

use crate::redis_pool::{RedisBreaker, SharedConnection, describe_redis_error};

/// Per ad account "blocked until" times, shared by every client that uses
/// the same store.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// When `account` may be called again, if a block was recorded (the time
    /// may already be past: the caller compares it with its clock).
    async fn blocked_until(&self, account: &str) -> Option<SystemTime>;
    /// Blocks `account` until `until`. Never shortens a longer block.
    async fn block(&self, account: &str, until: SystemTime);
}

// ------------------------------------------------------------------ memory

/// Blocks above this many accounts trigger a sweep of the expired ones.
const SWEEP_ABOVE: usize = 1024;

/// Blocks of one process, in a map (swept of expired entries as it grows).
#[derive(Debug, Default)]
pub struct MemoryThrottleStore {
    blocks: Mutex<HashMap<String, SystemTime>>,
}

impl MemoryThrottleStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, SystemTime>> {
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl ThrottleStore for MemoryThrottleStore {
    async fn blocked_until(&self, account: &str) -> Option<SystemTime> {
        self.map().get(account).copied()
    }

    async fn block(&self, account: &str, until: SystemTime) {
        let mut map = self.map();
        if map.len() > SWEEP_ABOVE {
            let now = SystemTime::now();
            map.retain(|_, t| *t > now);
        }
        let entry = map.entry(account.to_owned()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }
}

// ------------------------------------------------------------------ redis

/// Sets the block unless a later one is stored; the key expires with it.
const BLOCK_SCRIPT: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if current >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Blocks shared through Redis, so any number of workers wait for the same
/// throttled account. Every block is also kept in memory: while Redis is down
/// (or the shared [`RedisBreaker`] is open) this instance still honours the
/// blocks it knows of.
#[derive(Clone)]
pub struct RedisThrottleStore {
    conn: SharedConnection,
    prefix: String,
    script: Script,
    local: std::sync::Arc<MemoryThrottleStore>,
    breaker: RedisBreaker,
}

impl std::fmt::Debug for RedisThrottleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisThrottleStore")
            .field("prefix", &self.prefix)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl RedisThrottleStore {
    /// `prefix` namespaces the keys (e.g. `"adscale:"` gives
    /// `adscale:meta:blocked:<account>`); stores with the same prefix on the
    /// same Redis share their blocks.
    #[must_use]
    pub fn new(pool: Pool, prefix: impl Into<String>, breaker: RedisBreaker) -> Self {
        Self {
            conn: SharedConnection::new(pool),
            prefix: prefix.into(),
            script: Script::new(BLOCK_SCRIPT),
            local: std::sync::Arc::new(MemoryThrottleStore::new()),
            breaker,
        }
    }

    fn key(&self, account: &str) -> String {
        format!("{}meta:blocked:{account}", self.prefix)
    }

    async fn try_get(&self, account: &str) -> Result<Option<u64>, String> {
        let mut conn = self.conn.get().await?;
        redis::cmd("GET")
            .arg(self.key(account))
            .query_async(&mut conn)
            .await
            .map_err(|e| describe_redis_error(&e))
    }

    async fn try_block(&self, account: &str, until_ms: u64, ttl_ms: u64) -> Result<(), String> {
        let mut conn = self.conn.get().await?;
        self.script
            .prepare_invoke()
            .key(self.key(account))
            .arg(until_ms)
            .arg(ttl_ms)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| describe_redis_error(&e))
    }

    fn failed(&self, what: &str) {
        self.conn.discard();
        self.breaker.failure(what);
    }
}

#[async_trait]
impl ThrottleStore for RedisThrottleStore {
    async fn blocked_until(&self, account: &str) -> Option<SystemTime> {
        let local = self.local.blocked_until(account).await;
        if !self.breaker.allow() {
            return local;
        }
        match self.try_get(account).await {
            Ok(shared) => {
                self.breaker.success();
                let shared = shared.map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
                local.max(shared)
            }
            Err(e) => {
                self.failed(&e);
                local
            }
        }
    }

    async fn block(&self, account: &str, until: SystemTime) {
        self.local.block(account, until).await;
        // The key lives as long as the block (by this host's clock).
        let Ok(left) = until.duration_since(SystemTime::now()) else {
            return;
        };
        let ttl_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX);
        if ttl_ms == 0 || !self.breaker.allow() {
            return;
        }
        match self.try_block(account, unix_ms(until), ttl_ms).await {
            Ok(()) => self.breaker.success(),
            Err(e) => self.failed(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_keeps_the_longest_block() {
        let store = MemoryThrottleStore::new();
        let now = SystemTime::now();
        assert_eq!(store.blocked_until("1").await, None);
        store.block("1", now + Duration::from_secs(60)).await;
        store.block("1", now + Duration::from_secs(10)).await;
        assert_eq!(
            store.blocked_until("1").await,
            Some(now + Duration::from_secs(60))
        );
        assert_eq!(store.blocked_until("2").await, None);
    }
}
