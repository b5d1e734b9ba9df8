//! Redis plumbing shared by the Redis adapters: the connection pool (with
//! timeouts short enough that a dead Redis never stalls a request), the health
//! probe behind `/health`, and a circuit breaker so that, once Redis has
//! failed, requests skip it for a while instead of paying a timeout each.
//!
//! Owns connection set-up and failure bookkeeping; never caches or counts
//! anything itself (that is `cache` and `rate_limit`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, AsyncConnectionConfig};
use deadpool_redis::{Manager, Pool, PoolError, Runtime};
use domain::platform::{Probe, ProbeResult};

/// How long a request waits for a free pooled connection.
pub const WAIT_TIMEOUT: Duration = Duration::from_millis(200);
/// How long opening a new connection may take (TCP connect + handshake).
pub const CREATE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the liveness check of a reused connection may take.
pub const RECYCLE_TIMEOUT: Duration = Duration::from_millis(200);
/// How long one command (or pipeline, or script) may wait for its reply.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);
/// How long the breaker skips Redis after a failure, unless told otherwise.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(5);

/// The pool could not be set up. The URL is never part of the message (it
/// may carry a password).
#[derive(Debug, thiserror::Error)]
pub enum RedisPoolError {
    #[error("invalid Redis URL")]
    InvalidUrl,
    #[error("cannot build the Redis pool: {0}")]
    Build(String),
}

/// A pool of multiplexed Redis connections with short timeouts everywhere:
/// waiting for a slot ([`WAIT_TIMEOUT`]), connecting ([`CREATE_TIMEOUT`]),
/// recycling ([`RECYCLE_TIMEOUT`]) and each reply ([`RESPONSE_TIMEOUT`]).
/// Nothing is connected until first use, so a down Redis does not stop start-up.
///
/// # Errors
/// [`RedisPoolError::InvalidUrl`] when `url` is not a Redis URL;
/// [`RedisPoolError::Build`] when the pool cannot be built (e.g. `max_size` 0).
pub fn redis_pool(url: &str, max_size: usize) -> Result<Pool, RedisPoolError> {
    if max_size == 0 {
        return Err(RedisPoolError::Build("max_size must be at least 1".into()));
    }
    let conn_config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CREATE_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    let manager =
        Manager::new_with_config(url, conn_config).map_err(|_| RedisPoolError::InvalidUrl)?;
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(CREATE_TIMEOUT))
        .recycle_timeout(Some(RECYCLE_TIMEOUT))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| RedisPoolError::Build(e.to_string()))
}

/// A client for the connections the pool does not hand out: pub/sub
/// subscriptions (see [`crate::cache::TieredCache`]).
///
/// # Errors
/// [`RedisPoolError::InvalidUrl`] when `url` is not a Redis URL.
pub fn redis_client(url: &str) -> Result<redis::Client, RedisPoolError> {
    redis::Client::open(url).map_err(|_| RedisPoolError::InvalidUrl)
}

// ------------------------------------------------------------------ shared connection

/// One multiplexed connection, taken from the pool once and then shared by
/// every request of an adapter.
///
/// Why not `pool.get()` per command: deadpool-redis checks a reused
/// connection with `UNWATCH` + `PING` on every checkout, one extra round trip
/// per command; and a connection per request means one command per socket
/// read on both ends. A multiplexed connection is made to be shared: the
/// commands of concurrent requests travel pipelined on one socket, so Redis
/// reads and answers them in batches. (Measured with `bench/`: W1 and W2 lost
/// most of their throughput to Redis round trips before this.)
///
/// After any failure the connection is [`discard`](Self::discard)ed; the
/// next call takes one from the pool again, which checks it (`PING`) or
/// opens a new one, with the pool's short timeouts.
#[derive(Clone)]
pub(crate) struct SharedConnection {
    pool: Pool,
    current: Arc<Mutex<Option<MultiplexedConnection>>>,
}

impl SharedConnection {
    pub(crate) fn new(pool: Pool) -> Self {
        Self {
            pool,
            current: Arc::new(Mutex::new(None)),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The shared connection (a cheap clone), from the pool on first use.
    pub(crate) async fn get(&self) -> Result<MultiplexedConnection, String> {
        if let Some(c) = self.slot().clone() {
            return Ok(c);
        }
        let pooled = self.pool.get().await.map_err(|e| describe_pool_error(&e))?;
        let conn = MultiplexedConnection::clone(&pooled);
        *self.slot() = Some(conn.clone());
        Ok(conn)
    }

    /// Forgets the connection after a failure.
    pub(crate) fn discard(&self) {
        *self.slot() = None;
    }
}

/// A short, secret-free description of a pool error, for logs and `/health`.
pub(crate) fn describe_pool_error(e: &PoolError) -> String {
    match e {
        PoolError::Timeout(_) => "timed out getting a connection".into(),
        PoolError::Backend(e) => describe_redis_error(e),
        PoolError::Closed => "pool closed".into(),
        PoolError::NoRuntimeSpecified => "no runtime".into(),
        PoolError::PostCreateHook(_) => "connection set-up failed".into(),
    }
}

/// A short, secret-free description of a Redis error (its kind, not its
/// text, which can echo arguments).
pub(crate) fn describe_redis_error(e: &redis::RedisError) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connection_refusal() {
        "connection refused".into()
    } else if e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() {
        "connection failed".into()
    } else {
        format!("{:?}", e.kind())
    }
}

// ------------------------------------------------------------------ probe

/// `/health` entry for Redis: named `cache`, not critical (without Redis the
/// service runs degraded: cache misses and per-instance rate limits).
#[derive(Clone)]
pub struct RedisProbe {
    pool: Pool,
}

impl RedisProbe {
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn ping(&self) -> Result<(), String> {
        let mut conn = self.pool.get().await.map_err(|e| describe_pool_error(&e))?;
        let pong: String = redis::cmd("PING")
            .query_async(&mut *conn)
            .await
            .map_err(|e| describe_redis_error(&e))?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err("unexpected PING reply".into())
        }
    }
}

#[async_trait]
impl Probe for RedisProbe {
    async fn probe(&self) -> ProbeResult {
        let started = Instant::now();
        // The pool timeouts already bound this; the outer limit is a backstop.
        let outcome = tokio::time::timeout(Duration::from_secs(1), self.ping())
            .await
            .unwrap_or_else(|_| Err("timed out".into()));
        ProbeResult {
            name: "cache",
            healthy: outcome.is_ok(),
            critical: false,
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            error: outcome.err(),
        }
    }
}

// ------------------------------------------------------------------ breaker

/// A circuit breaker for one Redis, shared (cheaply cloned) by every adapter
/// that talks to it.
///
/// After a failure Redis is skipped for the cooldown, so a down Redis costs
/// nothing per request. When the cooldown is over exactly one caller is let
/// through to try again: success closes the breaker, failure opens it for
/// another cooldown. The trip is logged once at `warn`, the recovery once at
/// `info`; nothing is logged per request.
#[derive(Clone)]
pub struct RedisBreaker {
    inner: Arc<BreakerInner>,
}

struct BreakerInner {
    cooldown: Duration,
    /// Reference point for `retry_at_ms`.
    epoch: Instant,
    tripped: AtomicBool,
    /// Milliseconds after `epoch` before which Redis is skipped.
    retry_at_ms: AtomicU64,
}

impl Default for RedisBreaker {
    fn default() -> Self {
        Self::new(DEFAULT_COOLDOWN)
    }
}

impl std::fmt::Debug for RedisBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBreaker")
            .field("cooldown", &self.inner.cooldown)
            .field("tripped", &self.is_tripped())
            .finish()
    }
}

impl RedisBreaker {
    /// A closed breaker that, once tripped, skips Redis for `cooldown`.
    #[must_use]
    pub fn new(cooldown: Duration) -> Self {
        Self {
            inner: Arc::new(BreakerInner {
                cooldown,
                epoch: Instant::now(),
                tripped: AtomicBool::new(false),
                retry_at_ms: AtomicU64::new(0),
            }),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.inner.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn cooldown_ms(&self) -> u64 {
        u64::try_from(self.inner.cooldown.as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether Redis is currently considered down (tripped and not yet recovered).
    #[must_use]
    pub fn is_tripped(&self) -> bool {
        self.inner.tripped.load(Ordering::Acquire)
    }

    /// Whether this call may use Redis. While tripped, `false` until the
    /// cooldown is over; then `true` for one caller (the trial), which must
    /// report back with [`Self::success`] or [`Self::failure`].
    #[must_use]
    pub fn allow(&self) -> bool {
        if !self.is_tripped() {
            return true;
        }
        let now = self.now_ms();
        let retry_at = self.inner.retry_at_ms.load(Ordering::Acquire);
        if now < retry_at {
            return false;
        }
        // Push the next retry out before trying, so only this caller gets through.
        self.inner
            .retry_at_ms
            .compare_exchange(
                retry_at,
                now.saturating_add(self.cooldown_ms()),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Reports a Redis call that worked; closes the breaker if it was open.
    pub fn success(&self) {
        if self.inner.tripped.swap(false, Ordering::AcqRel) {
            tracing::info!("redis is reachable again; shared cache and rate limits resume");
        }
    }

    /// Reports a Redis failure; opens the breaker for the cooldown. `what`
    /// is a short, secret-free description of the failure.
    pub fn failure(&self, what: &str) {
        let retry_at = self.now_ms().saturating_add(self.cooldown_ms());
        self.inner.retry_at_ms.store(retry_at, Ordering::Release);
        if self.inner.tripped.swap(true, Ordering::AcqRel) {
            tracing::debug!(error = what, "redis still unavailable");
        } else {
            tracing::warn!(
                error = what,
                cooldown_ms = self.cooldown_ms(),
                "redis unavailable; skipping it (cache misses, per-instance rate limits) until it answers again"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_skips_redis_during_cooldown_then_lets_one_trial_through() {
        let b = RedisBreaker::new(Duration::from_millis(50));
        assert!(b.allow());
        b.failure("connection refused");
        assert!(b.is_tripped());
        assert!(!b.allow());
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.allow(), "trial after cooldown");
        assert!(!b.allow(), "only one trial");
        b.success();
        assert!(!b.is_tripped());
        assert!(b.allow());
    }

    #[test]
    fn rejects_invalid_url_and_zero_size() {
        assert!(matches!(
            redis_pool("not a url", 4),
            Err(RedisPoolError::InvalidUrl)
        ));
        assert!(matches!(
            redis_pool("redis://127.0.0.1:6379", 0),
            Err(RedisPoolError::Build(_))
        ));
    }
}
