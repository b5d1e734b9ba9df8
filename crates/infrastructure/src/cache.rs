//! `Cache` adapters: Redis (shared by every instance) and in-process memory
//! (single instance, tests, or no Redis configured).
//!
//! A group (e.g. one tenant's campaign lists) holds variants (fields); it
//! expires `ttl` after its first variant was stored and is dropped as a whole
//! on invalidation. Neither adapter ever fails: when Redis is down a read is a
//! miss, so callers fall through to the database, and a write is a no-op.
//! Owns storage and counting; never decides what is cached or for how long.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use deadpool_redis::Pool;
use deadpool_redis::redis;
use domain::platform::Cache;
use futures_util::StreamExt;
use moka::Expiry;
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

use crate::redis_pool::{RedisBreaker, SharedConnection, describe_redis_error};

// ------------------------------------------------------------------ metrics

/// `adscale_cache_requests_total{tier="memory"|"redis", result="hit"|"miss"|"error"}`:
/// one count per read of a tier (a read that misses the memory tier and then
/// hits Redis counts once for each). `error` means Redis failed or was skipped
/// by the breaker (the caller saw a miss). Cheap to clone; register once,
/// share between caches.
#[derive(Clone, Debug)]
pub struct CacheMetrics {
    requests: IntCounterVec,
}

/// The counters of one tier.
#[derive(Clone, Debug)]
struct TierCounters {
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
                "Cache reads by tier and result (hit, miss, error = cache unavailable, served as a miss).",
            ),
            &["tier", "result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        Ok(Self { requests })
    }

    fn tier(&self, tier: &str) -> TierCounters {
        TierCounters {
            hit: self.requests.with_label_values(&[tier, "hit"]),
            miss: self.requests.with_label_values(&[tier, "miss"]),
            error: self.requests.with_label_values(&[tier, "error"]),
        }
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
    conn: SharedConnection,
    prefix: String,
    breaker: RedisBreaker,
    metrics: TierCounters,
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
        metrics: &CacheMetrics,
    ) -> Self {
        Self {
            conn: SharedConnection::new(pool),
            prefix: prefix.into(),
            breaker,
            metrics: metrics.tier("redis"),
        }
    }

    fn key(&self, group: &str) -> String {
        format!("{}{group}", self.prefix)
    }

    async fn conn(&self) -> Result<redis::aio::MultiplexedConnection, String> {
        self.conn.get().await
    }

    /// The variant and its group's remaining lifetime (`PTTL`, in ms), in one round trip.
    async fn try_get(&self, group: &str, field: &str) -> Result<(Option<Vec<u8>>, i64), String> {
        let key = self.key(group);
        let mut conn = self.conn().await?;
        redis::pipe()
            .cmd("HGET")
            .arg(&key)
            .arg(field)
            .cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(|e| describe_redis_error(&e))
    }

    /// A variant with the time its group has left (for the memory tier).
    async fn get_with_ttl(&self, group: &str, field: &str) -> Option<(Bytes, Duration)> {
        if !self.breaker.allow() {
            self.metrics.error.inc();
            return None;
        }
        let r = self.try_get(group, field).await;
        match self.report(r) {
            Some((Some(v), pttl)) => {
                self.metrics.hit.inc();
                let left = Duration::from_millis(u64::try_from(pttl).unwrap_or(0));
                Some((Bytes::from(v), left))
            }
            Some((None, _)) => {
                self.metrics.miss.inc();
                None
            }
            None => {
                self.metrics.error.inc();
                None
            }
        }
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
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| describe_redis_error(&e))
    }

    async fn try_invalidate(&self, group: &str) -> Result<(), String> {
        let mut conn = self.conn().await?;
        redis::cmd("DEL")
            .arg(self.key(group))
            .query_async::<()>(&mut conn)
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
                self.conn.discard();
                self.breaker.failure(&e);
                None
            }
        }
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, group: &str, field: &str) -> Option<Bytes> {
        self.get_with_ttl(group, field).await.map(|(v, _)| v)
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
    metrics: TierCounters,
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
    pub fn new(max_groups: u64, metrics: &CacheMetrics) -> Self {
        Self {
            groups: moka::future::Cache::builder()
                .max_capacity(max_groups)
                .expire_after(GroupExpiry)
                .build(),
            metrics: metrics.tier("memory"),
        }
    }

    /// Drops every group.
    pub fn clear(&self) {
        self.groups.invalidate_all();
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

// ------------------------------------------------------------------ tiered

/// How often the invalidation listener checks its subscription is alive.
const LISTENER_HEARTBEAT: Duration = Duration::from_secs(2);
/// How long the listener waits before subscribing again after a failure.
const LISTENER_RETRY: Duration = Duration::from_secs(1);

/// Redis behind a per-instance memory tier, kept coherent across instances by
/// invalidation messages on a Redis pub/sub channel (`<prefix>invalidate`).
///
/// - read: memory first, then Redis; a Redis hit is copied into memory for
///   the time its Redis group has left, so the memory tier never outlives
///   Redis's TTL. A hit in memory costs no network at all.
/// - store: Redis and memory.
/// - invalidate: memory at once, Redis `DEL`, then `PUBLISH` of the group;
///   every instance drops the group from memory when the message arrives.
/// - The memory tier is used only while the listener is subscribed. When the
///   subscription breaks (Redis down, connection lost, heartbeat `PING`
///   unanswered), the tier is switched off and emptied, since messages sent
///   meanwhile are lost; it is switched on again, empty, once subscribed.
///   A silently dead subscription is noticed within about
///   [`LISTENER_HEARTBEAT`], the longest another instance's write can stay
///   unseen here.
/// - A Redis read that overlaps an invalidation does not fill memory (an
///   invalidation counter is compared before and after the read), so a
///   value read just before a `DEL` cannot outlive its invalidation.
pub struct TieredCache {
    shared: RedisCache,
    local: MemoryCache,
    channel: String,
    state: Arc<TierState>,
    listener: tokio::task::AbortHandle,
}

#[derive(Default)]
struct TierState {
    /// The listener is subscribed: the memory tier may be used.
    live: AtomicBool,
    /// Invalidations seen (local or by message).
    invalidations: AtomicU64,
}

impl std::fmt::Debug for TieredCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TieredCache")
            .field("shared", &self.shared)
            .field("local", &self.local)
            .field("channel", &self.channel)
            .field("live", &self.is_live())
            .finish_non_exhaustive()
    }
}

impl TieredCache {
    /// Starts the invalidation listener on the current Tokio runtime (it
    /// stops when the cache is dropped). `client` connects to the same Redis
    /// as `shared`; `prefix` namespaces the channel like the keys.
    #[must_use]
    pub fn start(
        shared: RedisCache,
        local: MemoryCache,
        client: redis::Client,
        prefix: &str,
    ) -> Self {
        let channel = format!("{prefix}invalidate");
        let state = Arc::new(TierState::default());
        let listener = tokio::spawn(listen(
            client,
            channel.clone(),
            local.clone(),
            Arc::clone(&state),
        ))
        .abort_handle();
        Self {
            shared,
            local,
            channel,
            state,
            listener,
        }
    }

    /// Whether the memory tier is in use (the listener is subscribed).
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.state.live.load(Ordering::Acquire)
    }
}

impl Drop for TieredCache {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Drops `group` from memory and counts the invalidation.
async fn forget(local: &MemoryCache, state: &TierState, group: &str) {
    state.invalidations.fetch_add(1, Ordering::AcqRel);
    local.invalidate(group).await;
}

/// Subscribes, applies invalidation messages, checks the subscription with a
/// heartbeat, and starts over (memory tier off and empty) when anything fails.
async fn listen(client: redis::Client, channel: String, local: MemoryCache, state: Arc<TierState>) {
    loop {
        if let Ok(Ok(pubsub)) =
            tokio::time::timeout(crate::redis_pool::CREATE_TIMEOUT, client.get_async_pubsub()).await
        {
            let (mut sink, mut messages) = pubsub.split();
            let subscribed = tokio::time::timeout(
                crate::redis_pool::RESPONSE_TIMEOUT,
                sink.subscribe(&channel),
            )
            .await;
            if matches!(subscribed, Ok(Ok(()))) {
                local.clear();
                state.live.store(true, Ordering::Release);
                tracing::info!("cache: memory tier on (invalidations subscribed)");
                let mut heartbeat = tokio::time::interval(LISTENER_HEARTBEAT);
                heartbeat.tick().await;
                loop {
                    tokio::select! {
                        msg = messages.next() => match msg {
                            Some(m) => match m.get_payload::<String>() {
                                Ok(group) => forget(&local, &state, &group).await,
                                Err(_) => tracing::warn!("cache: unreadable invalidation message"),
                            },
                            None => break,
                        },
                        _ = heartbeat.tick() => {
                            let pong = tokio::time::timeout(
                                crate::redis_pool::RESPONSE_TIMEOUT,
                                sink.ping::<redis::Value>(),
                            )
                            .await;
                            if !matches!(pong, Ok(Ok(_))) {
                                break;
                            }
                        }
                    }
                }
            }
        }
        if state.live.swap(false, Ordering::AcqRel) {
            tracing::warn!("cache: memory tier off until invalidations are subscribed again");
        }
        local.clear();
        tokio::time::sleep(LISTENER_RETRY).await;
    }
}

#[async_trait]
impl Cache for TieredCache {
    async fn get(&self, group: &str, field: &str) -> Option<Bytes> {
        if !self.is_live() {
            return self.shared.get(group, field).await;
        }
        if let Some(v) = self.local.get(group, field).await {
            return Some(v);
        }
        let seen = self.state.invalidations.load(Ordering::Acquire);
        let (value, left) = self.shared.get_with_ttl(group, field).await?;
        if self.is_live() && self.state.invalidations.load(Ordering::Acquire) == seen {
            self.local.put(group, field, value.clone(), left).await;
        }
        Some(value)
    }

    async fn put(&self, group: &str, field: &str, value: Bytes, ttl: Duration) {
        let seen = self.state.invalidations.load(Ordering::Acquire);
        self.shared.put(group, field, value.clone(), ttl).await;
        if self.is_live() && self.state.invalidations.load(Ordering::Acquire) == seen {
            self.local.put(group, field, value, ttl).await;
        }
    }

    async fn invalidate(&self, group: &str) {
        forget(&self.local, &self.state, group).await;
        self.shared.invalidate(group).await;
        let published = match self.shared.conn().await {
            Ok(mut conn) => redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(group)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| describe_redis_error(&e)),
            Err(e) => Err(e),
        };
        if let Err(e) = published {
            // Other instances keep the group in memory until their listener
            // notices Redis is gone (and empties its tier) or the TTL ends.
            tracing::warn!(error = %e, "cache: invalidation not published");
            self.shared.conn.discard();
        }
    }
}
