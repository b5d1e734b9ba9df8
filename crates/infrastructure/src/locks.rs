//! Distributed locks behind the `Locks` port: one sync per ad account at a
//! time, across every worker process ([`RedisLocks`]) or inside one process
//! ([`MemoryLocks`], the embedded mode).
//!
//! A lock is a key holding a random token with an expiry: acquiring is an
//! atomic "set if absent, with expiry", releasing deletes the key only while
//! it still holds the caller's token, so a holder whose lock expired (and was
//! taken by someone else) can never release the new holder's lock. The
//! expiry is what frees a lock whose holder died; it must exceed the longest
//! legitimate hold (the sync's `lock_ttl`).
//!
//! Trade-off: this is a single-Redis lock (no Redlock quorum). If Redis loses
//! the key (failover without persistence) two syncs of one account may
//! overlap; that is tolerable because every sync write is an idempotent upsert.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_redis::Pool;
use deadpool_redis::redis::{self, Script};
use domain::ingestion::{LockToken, Locks, QueueError};

use crate::redis_pool::{SharedConnection, describe_redis_error};

/// Deletes `KEYS[1]` only if it still holds the token `ARGV[1]`.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
";

/// A fresh, unguessable lock token.
fn new_token() -> LockToken {
    LockToken(uuid::Uuid::new_v4().simple().to_string())
}

/// Redis expiries are whole milliseconds, and `PX 0` is an error.
fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

// ------------------------------------------------------------------ redis

/// Locks shared by every process on one Redis: key `<prefix>lock:<key>`,
/// taken with `SET key token NX PX ttl`, released by a script that deletes
/// the key only if it still holds the token.
///
/// Errors are not hidden behind a fallback: an unreachable Redis makes
/// [`Locks::acquire`] fail with [`QueueError`] (the sync is retried later),
/// because a per-process fallback would let two processes sync one account.
#[derive(Clone)]
pub struct RedisLocks {
    conn: SharedConnection,
    prefix: String,
    release: Script,
}

impl std::fmt::Debug for RedisLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLocks")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLocks {
    /// `prefix` namespaces every key (e.g. `"adscale:"` gives
    /// `adscale:lock:<key>`); instances with the same prefix on the same
    /// Redis exclude each other.
    #[must_use]
    pub fn new(pool: Pool, prefix: impl Into<String>) -> Self {
        Self {
            conn: SharedConnection::new(pool),
            prefix: prefix.into(),
            release: Script::new(RELEASE_SCRIPT),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}lock:{key}", self.prefix)
    }
}

#[async_trait]
impl Locks for RedisLocks {
    async fn acquire(&self, key: &str, ttl: Duration) -> Result<Option<LockToken>, QueueError> {
        let token = new_token();
        let mut conn = self
            .conn
            .get()
            .await
            .map_err(|e| QueueError(format!("lock store unavailable: {e}")))?;
        let reply: Result<Option<String>, _> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(&token.0)
            .arg("NX")
            .arg("PX")
            .arg(ttl_millis(ttl))
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(Some(_)) => Ok(Some(token)),
            Ok(None) => Ok(None),
            Err(e) => {
                self.conn.discard();
                Err(QueueError(format!(
                    "lock store unavailable: {}",
                    describe_redis_error(&e)
                )))
            }
        }
    }

    async fn release(&self, key: &str, token: &LockToken) {
        let mut conn = match self.conn.get().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(lock = key, error = %e, "could not release a lock; it will expire");
                return;
            }
        };
        let deleted: Result<i64, _> = self
            .release
            .key(self.key(key))
            .arg(&token.0)
            .invoke_async(&mut conn)
            .await;
        match deleted {
            Ok(1) => {}
            Ok(_) => {
                tracing::debug!(
                    lock = key,
                    "lock already expired or taken over; nothing released"
                );
            }
            Err(e) => {
                self.conn.discard();
                tracing::warn!(
                    lock = key,
                    error = %describe_redis_error(&e),
                    "could not release a lock; it will expire"
                );
            }
        }
    }
}

// ------------------------------------------------------------------ memory

/// Locks inside one process (the embedded mode, a single worker): the same
/// token and expiry semantics as [`RedisLocks`], in a map.
#[derive(Debug, Default)]
pub struct MemoryLocks {
    held: Mutex<HashMap<String, (LockToken, Instant)>>,
}

impl MemoryLocks {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, (LockToken, Instant)>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Locks for MemoryLocks {
    async fn acquire(&self, key: &str, ttl: Duration) -> Result<Option<LockToken>, QueueError> {
        let now = Instant::now();
        let mut held = self.held();
        // Expired locks are dead holders' locks: forget them all.
        held.retain(|_, (_, expires)| *expires > now);
        if held.contains_key(key) {
            return Ok(None);
        }
        let token = new_token();
        // An absurd ttl (beyond what `Instant` can hold) means "a year".
        let expires = now
            .checked_add(ttl)
            .or_else(|| now.checked_add(Duration::from_secs(365 * 86_400)))
            .unwrap_or(now);
        held.insert(key.to_owned(), (token.clone(), expires));
        Ok(Some(token))
    }

    async fn release(&self, key: &str, token: &LockToken) {
        let mut held = self.held();
        if held.get(key).is_some_and(|(t, _)| t == token) {
            held.remove(key);
        } else {
            tracing::debug!(
                lock = key,
                "lock already expired or taken over; nothing released"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_at_least_one_millisecond() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_secs(2)), 2_000);
    }

    #[test]
    fn tokens_are_unique() {
        assert_ne!(new_token(), new_token());
    }
}
