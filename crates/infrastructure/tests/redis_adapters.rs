//! Redis and in-memory adapters for `Cache`, `RateLimiter` and `Probe`,
//! against the real Redis at `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`).
//! Every test uses its own random key prefix, so they run in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use domain::platform::{Cache, Probe, RateLimiter};
use infrastructure::cache::{CacheMetrics, MemoryCache, RedisCache, TieredCache};
use infrastructure::rate_limit::{MemoryRateLimiter, RedisRateLimiter};
use infrastructure::redis_pool::{RedisBreaker, RedisProbe, redis_client, redis_pool};
use prometheus::Registry;

const DEAD_REDIS: &str = "redis://127.0.0.1:1";

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4())
}

fn pool() -> deadpool_redis::Pool {
    redis_pool(&redis_url(), 4).unwrap()
}

fn dead_pool() -> deadpool_redis::Pool {
    redis_pool(DEAD_REDIS, 4).unwrap()
}

fn metrics() -> (Registry, CacheMetrics) {
    let registry = Registry::new();
    let m = CacheMetrics::new(&registry).unwrap();
    (registry, m)
}

fn count(registry: &Registry, result: &str) -> u64 {
    count_tier(registry, None, result)
}

fn count_tier(registry: &Registry, tier: Option<&str>, result: &str) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == "adscale_cache_requests_total")
        .flat_map(|f| f.get_metric())
        .filter(|m| {
            m.get_label()
                .iter()
                .any(|l| l.name() == "result" && l.value() == result)
                && tier.is_none_or(|t| {
                    m.get_label()
                        .iter()
                        .any(|l| l.name() == "tier" && l.value() == t)
                })
        })
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

fn redis_cache(p: &str) -> (Registry, RedisCache) {
    let (registry, m) = metrics();
    let cache = RedisCache::new(pool(), p, RedisBreaker::default(), &m);
    (registry, cache)
}

const TTL: Duration = Duration::from_secs(60);

// ------------------------------------------------------------------ redis cache

#[tokio::test]
async fn redis_cache_misses_then_hits_and_counts_both() {
    let (registry, cache) = redis_cache(&prefix());
    assert_eq!(cache.get("t1:campaigns", "page=1").await, None);
    cache
        .put("t1:campaigns", "page=1", Bytes::from_static(b"[1]"), TTL)
        .await;
    assert_eq!(
        cache.get("t1:campaigns", "page=1").await,
        Some(Bytes::from_static(b"[1]"))
    );
    assert_eq!(cache.get("t1:campaigns", "page=2").await, None);
    assert_eq!(count(&registry, "hit"), 1);
    assert_eq!(count(&registry, "miss"), 2);
    assert_eq!(count(&registry, "error"), 0);
}

#[tokio::test]
async fn redis_cache_invalidate_drops_every_variant_of_the_group_only() {
    let (_r, cache) = redis_cache(&prefix());
    cache.put("g", "a", Bytes::from_static(b"A"), TTL).await;
    cache.put("g", "b", Bytes::from_static(b"B"), TTL).await;
    cache.put("other", "a", Bytes::from_static(b"O"), TTL).await;
    cache.invalidate("g").await;
    assert_eq!(cache.get("g", "a").await, None);
    assert_eq!(cache.get("g", "b").await, None);
    assert_eq!(
        cache.get("other", "a").await,
        Some(Bytes::from_static(b"O"))
    );
}

#[tokio::test]
async fn redis_cache_group_expires_ttl_after_its_first_variant() {
    let (_r, cache) = redis_cache(&prefix());
    let ttl = Duration::from_millis(400);
    cache.put("g", "first", Bytes::from_static(b"1"), ttl).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A later variant must not push the group's expiry out.
    cache
        .put("g", "second", Bytes::from_static(b"2"), ttl)
        .await;
    assert_eq!(
        cache.get("g", "second").await,
        Some(Bytes::from_static(b"2"))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cache.get("g", "first").await, None);
    assert_eq!(cache.get("g", "second").await, None);
}

#[tokio::test]
async fn redis_caches_with_different_prefixes_do_not_see_each_other() {
    let (_r1, a) = redis_cache(&prefix());
    let (_r2, b) = redis_cache(&prefix());
    a.put("g", "f", Bytes::from_static(b"A"), TTL).await;
    assert_eq!(b.get("g", "f").await, None);
}

#[tokio::test]
async fn unreachable_redis_cache_is_a_fast_miss_and_counted_as_error() {
    let (registry, m) = metrics();
    let breaker = RedisBreaker::default();
    let cache = RedisCache::new(dead_pool(), prefix(), breaker.clone(), &m);

    let started = Instant::now();
    cache.put("g", "f", Bytes::from_static(b"x"), TTL).await;
    assert_eq!(cache.get("g", "f").await, None);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(breaker.is_tripped());

    // With the breaker open Redis is not even tried.
    let started = Instant::now();
    for _ in 0..100 {
        assert_eq!(cache.get("g", "f").await, None);
    }
    cache.invalidate("g").await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(count(&registry, "error"), 101);
    assert_eq!(count(&registry, "hit") + count(&registry, "miss"), 0);
}

#[tokio::test]
async fn open_breaker_skips_redis_until_cooldown_then_recovers() {
    let (registry, m) = metrics();
    let breaker = RedisBreaker::new(Duration::from_millis(100));
    let cache = RedisCache::new(pool(), prefix(), breaker.clone(), &m);
    cache.put("g", "f", Bytes::from_static(b"x"), TTL).await;

    breaker.failure("simulated outage");
    assert_eq!(cache.get("g", "f").await, None, "skipped while open");
    assert_eq!(count(&registry, "error"), 1);

    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(cache.get("g", "f").await, Some(Bytes::from_static(b"x")));
    assert!(
        !breaker.is_tripped(),
        "a successful trial closes the breaker"
    );
}

// ------------------------------------------------------------------ redis rate limiter

fn redis_limiter(p: &str) -> RedisRateLimiter {
    RedisRateLimiter::new(
        pool(),
        p,
        MemoryRateLimiter::default(),
        RedisBreaker::default(),
    )
}

#[tokio::test]
async fn two_redis_limiters_with_one_prefix_share_the_count() {
    let p = prefix();
    let (a, b) = (redis_limiter(&p), redis_limiter(&p));
    let window = Duration::from_secs(10);

    let d1 = a.check(&keys(&["ip:1.2.3.4"]), 3, window).await;
    let d2 = b.check(&keys(&["ip:1.2.3.4"]), 3, window).await;
    let d3 = a.check(&keys(&["ip:1.2.3.4"]), 3, window).await;
    let d4 = b.check(&keys(&["ip:1.2.3.4"]), 3, window).await;

    assert!(d1.allowed && d2.allowed && d3.allowed);
    assert_eq!(
        [d1.remaining, d2.remaining, d3.remaining, d4.remaining],
        [2, 1, 0, 0]
    );
    assert!(!d4.allowed, "4th request over a limit of 3");
    for d in [d1, d2, d3, d4] {
        assert_eq!(d.limit, 3);
        assert!((9..=10).contains(&d.reset_secs), "{d:?}");
    }
    // Another key has its own window.
    assert_eq!(
        b.check(&keys(&["ip:5.6.7.8"]), 3, window).await.remaining,
        2
    );
}

#[tokio::test]
async fn redis_limiter_window_resets() {
    let limiter = redis_limiter(&prefix());
    let window = Duration::from_millis(300);
    assert!(limiter.check(&keys(&["k"]), 1, window).await.allowed);
    let denied = limiter.check(&keys(&["k"]), 1, window).await;
    assert!(!denied.allowed);
    assert_eq!(denied.reset_secs, 1, "rounded up");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let fresh = limiter.check(&keys(&["k"]), 1, window).await;
    assert!(fresh.allowed);
    assert_eq!(fresh.remaining, 0);
}

#[tokio::test]
async fn unreachable_redis_limiter_still_limits_per_instance() {
    let breaker = RedisBreaker::default();
    let limiter = RedisRateLimiter::new(
        dead_pool(),
        prefix(),
        MemoryRateLimiter::default(),
        breaker.clone(),
    );
    let window = Duration::from_secs(60);
    let started = Instant::now();
    let decisions = [
        limiter.check(&keys(&["user:1"]), 2, window).await,
        limiter.check(&keys(&["user:1"]), 2, window).await,
        limiter.check(&keys(&["user:1"]), 2, window).await,
    ];
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(breaker.is_tripped());
    assert_eq!(decisions.map(|d| d.allowed), [true, true, false]);
    assert_eq!(decisions.map(|d| d.remaining), [1, 0, 0]);
    assert!((59..=60).contains(&decisions[2].reset_secs));
}

// ------------------------------------------------------------------ probe

#[tokio::test]
async fn probe_reports_live_redis_healthy() {
    let r = RedisProbe::new(pool()).probe().await;
    assert_eq!(r.name, "cache");
    assert!(r.healthy, "{r:?}");
    assert!(!r.critical);
    assert_eq!(r.error, None);
}

#[tokio::test]
async fn probe_reports_dead_redis_unhealthy_but_not_critical() {
    let r = RedisProbe::new(dead_pool()).probe().await;
    assert_eq!(r.name, "cache");
    assert!(!r.healthy);
    assert!(!r.critical);
    let error = r.error.unwrap();
    assert!(!error.contains("127.0.0.1"), "no address in {error}");
    assert!(r.latency_ms < 1_000);
}

// ------------------------------------------------------------------ memory

#[tokio::test]
async fn memory_cache_hits_misses_and_invalidates() {
    let (registry, m) = metrics();
    let cache = MemoryCache::new(100, &m);
    assert_eq!(cache.get("g", "a").await, None);
    cache.put("g", "a", Bytes::from_static(b"A"), TTL).await;
    cache.put("g", "b", Bytes::from_static(b"B"), TTL).await;
    cache.put("h", "a", Bytes::from_static(b"H"), TTL).await;
    assert_eq!(cache.get("g", "a").await, Some(Bytes::from_static(b"A")));
    assert_eq!(cache.get("g", "c").await, None);
    cache.invalidate("g").await;
    assert_eq!(cache.get("g", "a").await, None);
    assert_eq!(cache.get("g", "b").await, None);
    assert_eq!(cache.get("h", "a").await, Some(Bytes::from_static(b"H")));
    assert_eq!(count(&registry, "hit"), 2);
    assert_eq!(count(&registry, "miss"), 4);
}

#[tokio::test]
async fn memory_cache_group_expires_ttl_after_its_first_variant() {
    let (_r, m) = metrics();
    let cache = MemoryCache::new(100, &m);
    let ttl = Duration::from_millis(300);
    cache.put("g", "first", Bytes::from_static(b"1"), ttl).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    cache
        .put("g", "second", Bytes::from_static(b"2"), ttl)
        .await;
    assert_eq!(
        cache.get("g", "second").await,
        Some(Bytes::from_static(b"2"))
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cache.get("g", "first").await, None);
    assert_eq!(cache.get("g", "second").await, None);
    // A new first variant starts a new lifetime.
    cache.put("g", "third", Bytes::from_static(b"3"), ttl).await;
    assert_eq!(
        cache.get("g", "third").await,
        Some(Bytes::from_static(b"3"))
    );
}

#[tokio::test]
async fn memory_limiter_counts_per_key_and_resets_after_the_window() {
    let limiter = MemoryRateLimiter::new(1_000);
    let window = Duration::from_millis(300);
    let d = [
        limiter.check(&keys(&["a"]), 2, window).await,
        limiter.check(&keys(&["a"]), 2, window).await,
        limiter.check(&keys(&["a"]), 2, window).await,
    ];
    assert_eq!(d.map(|d| d.allowed), [true, true, false]);
    assert_eq!(d.map(|d| d.remaining), [1, 0, 0]);
    assert_eq!(d.map(|d| d.limit), [2, 2, 2]);
    assert_eq!(d[2].reset_secs, 1);
    assert!(
        limiter.check(&keys(&["b"]), 2, window).await.allowed,
        "keys are independent"
    );

    tokio::time::sleep(Duration::from_millis(350)).await;
    let fresh = limiter.check(&keys(&["a"]), 2, window).await;
    assert!(fresh.allowed);
    assert_eq!(fresh.remaining, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_limiter_never_loses_concurrent_counts() {
    let limiter = MemoryRateLimiter::default();
    let window = Duration::from_secs(60);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let l = limiter.clone();
            tokio::spawn(async move { l.check(&keys(&["hot"]), 10, window).await.allowed })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        allowed += usize::from(t.await.unwrap());
    }
    assert_eq!(allowed, 10);
}

fn keys(k: &[&str]) -> Vec<String> {
    k.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn one_call_counts_every_key_and_answers_with_the_tightest() {
    let pool = redis_pool(&redis_url(), 4).unwrap();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let limiter = RedisRateLimiter::new(
        pool,
        prefix,
        MemoryRateLimiter::default(),
        RedisBreaker::default(),
    );
    let window = Duration::from_secs(10);
    // The IP is already used by another principal; this principal is new.
    limiter.check(&keys(&["ip:9.9.9.9"]), 3, window).await;
    limiter.check(&keys(&["ip:9.9.9.9"]), 3, window).await;
    let d = limiter
        .check(&keys(&["ip:9.9.9.9", "principal:user:a"]), 3, window)
        .await;
    assert!(d.allowed);
    assert_eq!(d.remaining, 0, "the IP's count (3) is the tighter one");
    let d = limiter
        .check(&keys(&["ip:9.9.9.9", "principal:user:a"]), 3, window)
        .await;
    assert!(!d.allowed);
    // The principal was counted too: 2 so far.
    assert_eq!(
        limiter
            .check(&keys(&["principal:user:a"]), 3, window)
            .await
            .remaining,
        0
    );
    let memory = MemoryRateLimiter::default();
    memory.check(&keys(&["x"]), 2, window).await;
    assert_eq!(
        memory.check(&keys(&["x", "y"]), 2, window).await.remaining,
        0
    );
    assert_eq!(memory.check(&keys(&["y"]), 2, window).await.remaining, 0);
}

// ------------------------------------------------------------------ tiered cache

/// One instance's cache: Redis at `url` under `prefix`, with its memory tier.
fn tiered(url: &str, prefix: &str) -> (Registry, TieredCache) {
    let (registry, m) = metrics();
    let shared = RedisCache::new(
        redis_pool(url, 4).unwrap(),
        prefix,
        RedisBreaker::default(),
        &m,
    );
    let cache = TieredCache::start(
        shared,
        MemoryCache::new(100, &m),
        redis_client(url).unwrap(),
        prefix,
    );
    (registry, cache)
}

async fn until(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !ok().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn tiered_caches_serve_from_memory_and_see_each_others_invalidations() {
    let p = prefix();
    let (_, a) = tiered(&redis_url(), &p);
    let (rb, b) = tiered(&redis_url(), &p);
    until("both tiers are live", async || a.is_live() && b.is_live()).await;
    let v1 = Bytes::from_static(b"[1]");
    a.put("t1:campaigns", "page=1", v1.clone(), TTL).await;

    assert_eq!(b.get("t1:campaigns", "page=1").await, Some(v1.clone()));
    assert_eq!(count_tier(&rb, Some("redis"), "hit"), 1);
    assert_eq!(b.get("t1:campaigns", "page=1").await, Some(v1.clone()));
    assert_eq!(
        count_tier(&rb, Some("memory"), "hit"),
        1,
        "second read from memory"
    );
    assert_eq!(
        count_tier(&rb, Some("redis"), "hit"),
        1,
        "without asking Redis"
    );

    // A write on instance a: b must stop serving its memory copy.
    a.invalidate("t1:campaigns").await;
    until("b sees the invalidation", async || {
        b.get("t1:campaigns", "page=1").await.is_none()
    })
    .await;
    assert_eq!(a.get("t1:campaigns", "page=1").await, None);
}

#[tokio::test]
async fn tiered_memory_copy_never_outlives_the_redis_group() {
    let p = prefix();
    let (_, a) = tiered(&redis_url(), &p);
    let (_, b) = tiered(&redis_url(), &p);
    until("both tiers are live", async || a.is_live() && b.is_live()).await;
    a.put(
        "g",
        "f",
        Bytes::from_static(b"x"),
        Duration::from_millis(300),
    )
    .await;
    assert!(b.get("g", "f").await.is_some(), "copied into b's memory");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(b.get("g", "f").await, None);
}

#[tokio::test]
async fn tiered_cache_without_redis_keeps_memory_off_and_misses() {
    let (registry, c) = tiered(DEAD_REDIS, &prefix());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!c.is_live());
    c.put("g", "f", Bytes::from_static(b"x"), TTL).await;
    assert_eq!(c.get("g", "f").await, None, "nothing cached, nothing stale");
    c.invalidate("g").await;
    assert_eq!(count_tier(&registry, Some("memory"), "hit"), 0);
}
