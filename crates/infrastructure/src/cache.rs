//! `Cache` adapters: Redis (shared by every instance) and in-process memory
//! (single instance, tests, or no Redis configured).
//!
//! A group (e.g. one tenant's campaign lists) holds variants (fields); it
//! expires `ttl` after its first variant was stored and is dropped as a whole
//! on invalidation. Neither adapter ever fails: when Redis is down a read is a
//! miss, so callers fall through to the database, and a write is a no-op.
//! Owns storage and counting; never decides what is cached or for how long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use deadpool_redis::Pool;
use deadpool_redis::redis;
use domain::platform::Cache;
use moka::Expiry;
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

use crate::redis_pool::{RedisBreaker, describe_pool_error, describe_redis_error};

// ------------------------------------------------------------------ metrics

/// `adscale_cache_requests_total{result="hit"|"miss"|"error"}`: one count per
/// cache read. `error` means Redis failed or was skipped by the breaker (the
/// caller saw a miss). Cheap to clone; register once, share between caches.
#[derive(Clone, Debug)]
pub struct CacheMetrics {
    hit: IntCounter,
    miss: IntCounter,
    error: IntCounter,
}

impl CacheMetrics {
    /// Creates the counter and registers it into `registry`.
    ///
    /// # Errors
    /// The registry already holds a metric with this name (register once,
    /// then clone).
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "adscale_cache_requests_total",
                "Cache reads by result (hit, miss, error = cache unavailable, served as a miss).",
            ),
            &["result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        Ok(Self {
            hit: requests.with_label_values(&["hit"]),
            miss: requests.with_label_values(&["miss"]),
            error: requests.with_label_values(&["error"]),
        })
    }
}

// ------------------------------------------------------------------ redis

/// Redis hash per group: `HGET`/`HSET` `<prefix><group>` `<field>`, the TTL
/// set once with `PEXPIRE … NX` (Redis 7+), invalidation by `DEL`.
///
/// Failures trip the shared [`RedisBreaker`]; while it is open, reads are
/// misses and stores are skipped without touching the network. Invalidations
/// are still attempted (writes are rare, and a skipped one would serve stale
/// data until the TTL ends).
#[derive(Clone)]
pub struct RedisCache {
    pool: Pool,
    prefix: String,
    breaker: RedisBreaker,
    metrics: CacheMetrics,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// `prefix` namespaces every key (e.g. `"adscale:cache:"`), so several
    /// deployments or tests can share one Redis.
    #[must_use]
    pub fn new(
        pool: Pool,
        prefix: impl Into<String>,
        breaker: RedisBreaker,
        metrics: CacheMetrics,
    ) -> Self {
        Self {
            pool,
            prefix: prefix.into(),
            breaker,
            metrics,
        }
    }

    fn key(&self, group: &str) -> String {
        format!("{}{group}", self.prefix)
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection, String> {
        self.pool.get().await.map_err(|e| describe_pool_error(&e))
    }

    async fn try_get(&self, group: &str, field: &str) -> Result<Option<Vec<u8>>, String> {
        let mut conn = self.conn().await?;
        redis::cmd("HGET")
            .arg(self.key(group))
            .arg(field)
            .query_async(&mut *conn)
            .await
            .map_err(|e| describe_redis_error(&e))
    }

    async fn try_put(
        &self,
        group: &str,
        field: &str,
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<(), String> {
        let key = self.key(group);
        let mut conn = self.conn().await?;
        redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(&key)
            .arg(field)
            .arg(value)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ttl_ms)
            .arg("NX")
            .ignore()
            .query_async::<()>(&mut *conn)
            .await
            .map_err(|e| describe_redis_error(&e))
    }

    async fn try_invalidate(&self, group: &str) -> Result<(), String> {
        let mut conn = self.conn().await?;
        redis::cmd("DEL")
            .arg(self.key(group))
            .query_async::<()>(&mut *conn)
            .await
            .map_err(|e| describe_redis_error(&e))
    }

    fn report<T>(&self, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => {
                self.breaker.success();
                Some(v)
            }
            Err(e) => {
                self.breaker.failure(&e);
                None
            }
        }
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, group: &str, field: &str) -> Option<Bytes> {
        if !self.breaker.allow() {
            self.metrics.error.inc();
            return None;
        }
        let r = self.try_get(group, field).await;
        match self.report(r) {
            Some(Some(v)) => {
                self.metrics.hit.inc();
                Some(Bytes::from(v))
            }
            Some(None) => {
                self.metrics.miss.inc();
                None
            }
            None => {
                self.metrics.error.inc();
                None
            }
        }
    }

    async fn put(&self, group: &str, field: &str, value: Bytes, ttl: Duration) {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ttl_ms == 0 || !self.breaker.allow() {
            return;
        }
        let r = self.try_put(group, field, &value, ttl_ms).await;
        let _ = self.report(r);
    }

    async fn invalidate(&self, group: &str) {
        let r = self.try_invalidate(group).await;
        let _ = self.report(r);
    }
}

// ------------------------------------------------------------------ memory

/// Most variants kept per group; further ones are not cached (bounds memory
/// when a group has unbounded query variants).
pub const MAX_FIELDS_PER_GROUP: usize = 512;

/// Longest TTL honoured in memory (keeps `Instant` arithmetic far from overflow).
const MAX_TTL: Duration = Duration::from_secs(30 * 86_400);

struct Group {
    expires_at: Instant,
    fields: Mutex<HashMap<String, Bytes>>,
}

struct GroupExpiry;

impl Expiry<String, Arc<Group>> for GroupExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<Group>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Arc<Group>,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(updated_at))
    }
}

/// In-process cache: at most `max_groups` groups (least recently used go
/// first), each expiring `ttl` after its first variant. Not shared between
/// instances, so invalidations on one instance are not seen by others.
#[derive(Clone)]
pub struct MemoryCache {
    groups: moka::future::Cache<String, Arc<Group>>,
    metrics: CacheMetrics,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("groups", &self.groups.entry_count())
            .finish_non_exhaustive()
    }
}

impl MemoryCache {
    /// Default group capacity.
    pub const DEFAULT_MAX_GROUPS: u64 = 10_000;

    #[must_use]
    pub fn new(max_groups: u64, metrics: CacheMetrics) -> Self {
        Self {
            groups: moka::future::Cache::builder()
                .max_capacity(max_groups)
                .expire_after(GroupExpiry)
                .build(),
            metrics,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, group: &str, field: &str) -> Option<Bytes> {
        let found = match self.groups.get(group).await {
            Some(g) if g.expires_at > Instant::now() => lock(&g.fields).get(field).cloned(),
            _ => None,
        };
        if found.is_some() {
            self.metrics.hit.inc();
        } else {
            self.metrics.miss.inc();
        }
        found
    }

    async fn put(&self, group: &str, field: &str, value: Bytes, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let expires_at = now + ttl.min(MAX_TTL);
        let entry = self
            .groups
            .entry_by_ref(group)
            .and_compute_with(|existing| async move {
                match existing {
                    Some(e) if e.value().expires_at > now => moka::ops::compute::Op::Nop,
                    _ => moka::ops::compute::Op::Put(Arc::new(Group {
                        expires_at,
                        fields: Mutex::new(HashMap::new()),
                    })),
                }
            })
            .await;
        let Some(g) = entry.into_entry().map(moka::Entry::into_value) else {
            return;
        };
        let mut fields = lock(&g.fields);
        if fields.len() < MAX_FIELDS_PER_GROUP || fields.contains_key(field) {
            fields.insert(field.to_owned(), value);
        }
    }

    async fn invalidate(&self, group: &str) {
        self.groups.invalidate(group).await;
    }
}
