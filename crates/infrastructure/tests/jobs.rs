//! The job runtime (`jobs`) and the distributed locks (`locks`), against the
//! real Redis at `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). Every
//! test uses its own random key prefix and removes its keys, so they run in
//! parallel. Handlers here are counters: no database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::ingestion::{Locks, SyncJob};
use domain::{SyncRunId, TenantId};
use infrastructure::jobs::{JobsConfig, JobsError, QueueSource, queue, run_sync_worker_with};
use infrastructure::locks::{MemoryLocks, RedisLocks};
use infrastructure::redis_pool::redis_pool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const DEAD_REDIS: &str = "redis://127.0.0.1:1";

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4())
}

fn job() -> SyncJob {
    SyncJob {
        tenant_id: TenantId::generate(),
        sync_run_id: SyncRunId::generate(),
    }
}

/// Short delays everywhere so retries and polling happen within a test.
fn fast() -> JobsConfig {
    JobsConfig {
        concurrency: 2,
        max_retries: 3,
        retry_base: Duration::from_millis(10),
        retry_max: Duration::from_millis(50),
        poll_interval: Duration::from_millis(50),
        shutdown_grace: Duration::from_secs(5),
        ..JobsConfig::default()
    }
}

/// Deletes every key under `prefix` (and the queue's entry in apalis'
/// global queue list).
async fn cleanup(prefix: &str) {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let _: i64 = redis::cmd("ZREM")
        .arg("core:apalis:queues:list")
        .arg(format!("{prefix}jobs:sync:workers"))
        .query_async(&mut conn)
        .await
        .unwrap();
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A worker running in the background, stopped through `stop`.
struct Running {
    stop: oneshot::Sender<()>,
    done: JoinHandle<Result<(), JobsError>>,
}

impl Running {
    fn start<H, Fut>(source: QueueSource, handler: H, cfg: JobsConfig) -> Self
    where
        H: Fn(SyncJob) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let (stop, rx) = oneshot::channel::<()>();
        let done = tokio::spawn(run_sync_worker_with(source, handler, cfg, async move {
            let _ = rx.await;
        }));
        Self { stop, done }
    }

    /// Signals shutdown and waits (bounded) for the worker to return.
    async fn shutdown(self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.done)
            .await
            .expect("the worker did not stop")
            .unwrap()
            .unwrap();
        started.elapsed()
    }
}

/// A handler that records the jobs it saw; it fails (asks for a retry) on
/// its first `fail_first` calls.
#[derive(Clone, Default)]
struct Recorder {
    calls: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<SyncJob>>>,
}

impl Recorder {
    fn handler(
        &self,
        fail_first: usize,
    ) -> impl Fn(SyncJob) -> std::future::Ready<Result<(), String>> + Send + Sync + 'static {
        let me = self.clone();
        move |job| {
            let call = me.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if call <= fail_first {
                return std::future::ready(Err(format!("transient failure {call}")));
            }
            me.seen.lock().unwrap().push(job);
            std::future::ready(Ok(()))
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<SyncJob> {
        self.seen.lock().unwrap().clone()
    }
}

// ------------------------------------------------------------------ locks

fn redis_locks(prefix: &str) -> RedisLocks {
    RedisLocks::new(redis_pool(&redis_url(), 4).unwrap(), prefix)
}

async fn second_acquire_of_a_held_lock_gets_none(locks: &dyn Locks) {
    let ttl = Duration::from_secs(30);
    let first = locks.acquire("sync:a", ttl).await.unwrap();
    assert!(first.is_some());
    assert_eq!(locks.acquire("sync:a", ttl).await.unwrap(), None);
    assert!(
        locks.acquire("sync:b", ttl).await.unwrap().is_some(),
        "other keys are independent"
    );
}

async fn release_with_the_wrong_token_keeps_the_lock(locks: &dyn Locks) {
    let ttl = Duration::from_secs(30);
    let token = locks.acquire("sync:a", ttl).await.unwrap().unwrap();
    locks
        .release(
            "sync:a",
            &domain::ingestion::LockToken("not-the-token".into()),
        )
        .await;
    assert_eq!(locks.acquire("sync:a", ttl).await.unwrap(), None);
    locks.release("sync:a", &token).await;
    assert!(
        locks.acquire("sync:a", ttl).await.unwrap().is_some(),
        "released by its holder"
    );
}

async fn expiry_frees_the_lock(locks: &dyn Locks) {
    let first = locks
        .acquire("sync:a", Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let second = locks
        .acquire("sync:a", Duration::from_secs(30))
        .await
        .unwrap()
        .expect("expired lock is free");
    // The first holder's late release must not free the new holder's lock.
    locks.release("sync:a", &first).await;
    assert_eq!(
        locks
            .acquire("sync:a", Duration::from_secs(30))
            .await
            .unwrap(),
        None
    );
    locks.release("sync:a", &second).await;
}

#[tokio::test]
async fn redis_lock_second_acquire_of_a_held_lock_gets_none() {
    let p = prefix();
    second_acquire_of_a_held_lock_gets_none(&redis_locks(&p)).await;
    cleanup(&p).await;
}

#[tokio::test]
async fn redis_lock_release_with_the_wrong_token_keeps_the_lock() {
    let p = prefix();
    release_with_the_wrong_token_keeps_the_lock(&redis_locks(&p)).await;
    cleanup(&p).await;
}

#[tokio::test]
async fn redis_lock_expiry_frees_it() {
    let p = prefix();
    expiry_frees_the_lock(&redis_locks(&p)).await;
    cleanup(&p).await;
}

#[tokio::test]
async fn redis_lock_key_is_namespaced_and_expires_in_redis() {
    let p = prefix();
    let locks = redis_locks(&p);
    let token = locks
        .acquire("sync:a", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let stored: Option<String> = redis::cmd("GET")
        .arg(format!("{p}lock:sync:a"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some(token.0.as_str()));
    let pttl: i64 = redis::cmd("PTTL")
        .arg(format!("{p}lock:sync:a"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl > 0 && pttl <= 30_000, "pttl {pttl}");
    cleanup(&p).await;
}

#[tokio::test]
async fn two_redis_lock_instances_exclude_each_other() {
    let p = prefix();
    let (one, two) = (redis_locks(&p), redis_locks(&p));
    let ttl = Duration::from_secs(30);
    let token = one.acquire("sync:a", ttl).await.unwrap().unwrap();
    assert_eq!(two.acquire("sync:a", ttl).await.unwrap(), None);
    two.release("sync:a", &token).await; // anyone holding the token may release
    let again = two.acquire("sync:a", ttl).await.unwrap();
    assert!(again.is_some());
    assert_eq!(one.acquire("sync:a", ttl).await.unwrap(), None);
    cleanup(&p).await;
}

#[tokio::test]
async fn redis_lock_acquire_fails_with_queue_error_when_redis_is_down() {
    let locks = RedisLocks::new(redis_pool(DEAD_REDIS, 2).unwrap(), prefix());
    let err = locks
        .acquire("sync:a", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(err.0.contains("lock store unavailable"), "{err}");
    assert!(!err.0.contains("127.0.0.1"), "no URL in errors: {err}");
    // Releasing against a dead Redis only logs.
    locks
        .release("sync:a", &domain::ingestion::LockToken("t".into()))
        .await;
}

#[tokio::test]
async fn memory_lock_second_acquire_of_a_held_lock_gets_none() {
    second_acquire_of_a_held_lock_gets_none(&MemoryLocks::new()).await;
}

#[tokio::test]
async fn memory_lock_release_with_the_wrong_token_keeps_the_lock() {
    release_with_the_wrong_token_keeps_the_lock(&MemoryLocks::new()).await;
}

#[tokio::test]
async fn memory_lock_expiry_frees_it() {
    expiry_frees_the_lock(&MemoryLocks::new()).await;
}

// ------------------------------------------------------------------ queue

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_queue_delivers_a_pushed_job_to_the_handler() {
    let (pusher, source) = queue(None).await.unwrap();
    let rec = Recorder::default();
    let j = job();
    pusher.push(j).await.unwrap(); // before the worker starts: buffered
    let worker = Running::start(source, rec.handler(0), fast());
    let k = job();
    pusher.push(k).await.unwrap();
    wait_until("both jobs are handled", || rec.seen().len() == 2).await;
    let seen = rec.seen();
    assert!(seen.contains(&j) && seen.contains(&k));
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_queue_delivers_a_pushed_job_to_the_handler() {
    let p = prefix();
    let url = redis_url();
    let (pusher, source) = queue(Some((&url, &p))).await.unwrap();
    let rec = Recorder::default();
    let worker = Running::start(source, rec.handler(0), fast());
    let j = job();
    pusher.push(j).await.unwrap();
    wait_until("the job is handled", || rec.seen() == vec![j]).await;
    worker.shutdown().await;
    cleanup(&p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_queue_keeps_jobs_until_a_worker_starts() {
    let p = prefix();
    let url = redis_url();
    // One process pushes and goes away...
    let (pusher, first_source) = queue(Some((&url, &p))).await.unwrap();
    let j = job();
    pusher.push(j).await.unwrap();
    drop((pusher, first_source));
    // ...another one (same prefix) starts later and gets the job.
    let (_pusher, source) = queue(Some((&url, &p))).await.unwrap();
    let rec = Recorder::default();
    let worker = Running::start(source, rec.handler(0), fast());
    wait_until("the job is handled", || rec.seen() == vec![j]).await;
    worker.shutdown().await;
    cleanup(&p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_queue_retries_a_failed_job_then_it_succeeds() {
    let (pusher, source) = queue(None).await.unwrap();
    let rec = Recorder::default();
    let worker = Running::start(source, rec.handler(1), fast());
    let j = job();
    pusher.push(j).await.unwrap();
    wait_until("the retry succeeds", || rec.seen() == vec![j]).await;
    assert_eq!(rec.calls(), 2, "one failure, one success");
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_queue_retries_a_failed_job_then_it_succeeds() {
    let p = prefix();
    let url = redis_url();
    let (pusher, source) = queue(Some((&url, &p))).await.unwrap();
    let rec = Recorder::default();
    let worker = Running::start(source, rec.handler(1), fast());
    let j = job();
    pusher.push(j).await.unwrap();
    wait_until("the retry succeeds", || rec.seen() == vec![j]).await;
    assert_eq!(rec.calls(), 2, "one failure, one success");
    worker.shutdown().await;
    cleanup(&p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_job_still_failing_after_its_retries_is_queued_again() {
    let (pusher, source) = queue(None).await.unwrap();
    let rec = Recorder::default();
    // 1 retry: attempts 1 and 2 fail, then the job is queued again and
    // fails once more before it succeeds.
    let cfg = JobsConfig {
        max_retries: 1,
        ..fast()
    };
    let worker = Running::start(source, rec.handler(3), cfg);
    let j = job();
    pusher.push(j).await.unwrap();
    wait_until("the re-queued job succeeds", || rec.seen() == vec![j]).await;
    assert_eq!(rec.calls(), 4);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_job_still_failing_after_its_retries_is_queued_again() {
    let p = prefix();
    let url = redis_url();
    let (pusher, source) = queue(Some((&url, &p))).await.unwrap();
    let rec = Recorder::default();
    let cfg = JobsConfig {
        max_retries: 1,
        ..fast()
    };
    let worker = Running::start(source, rec.handler(3), cfg);
    let j = job();
    pusher.push(j).await.unwrap();
    // Redis schedules in whole seconds: the re-queued job comes back within ~2 s.
    wait_until("the re-queued job succeeds", || rec.seen() == vec![j]).await;
    assert_eq!(rec.calls(), 4);
    worker.shutdown().await;
    cleanup(&p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_runs_at_most_concurrency_jobs_at_once() {
    let (pusher, source) = queue(None).await.unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let (r, pk, d) = (running.clone(), peak.clone(), done.clone());
    let handler = move |_job: SyncJob| {
        let (r, pk, d) = (r.clone(), pk.clone(), d.clone());
        async move {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            pk.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            r.fetch_sub(1, Ordering::SeqCst);
            d.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    };
    for _ in 0..6 {
        pusher.push(job()).await.unwrap();
    }
    let worker = Running::start(source, handler, fast());
    wait_until("all jobs ran", || done.load(Ordering::SeqCst) == 6).await;
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_the_running_job_finish_then_stops_the_worker() {
    let (pusher, source) = queue(None).await.unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let (s, f) = (started.clone(), finished.clone());
    let handler = move |_job: SyncJob| {
        let (s, f) = (s.clone(), f.clone());
        async move {
            s.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(500)).await;
            f.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    };
    let worker = Running::start(source, handler, fast());
    pusher.push(job()).await.unwrap();
    wait_until("the job is running", || started.load(Ordering::SeqCst) == 1).await;
    let took = worker.shutdown().await;
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "the running job finished"
    );
    assert!(took < Duration::from_secs(3), "stopped promptly: {took:?}");
    // Stopped means no more jobs are taken.
    let _ = pusher.push(job()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(started.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_abandons_a_job_still_running_after_the_grace_period() {
    let (pusher, source) = queue(None).await.unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let handler = move |_job: SyncJob| {
        let s = s.clone();
        async move {
            s.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        }
    };
    let cfg = JobsConfig {
        shutdown_grace: Duration::from_millis(300),
        ..fast()
    };
    let worker = Running::start(source, handler, cfg);
    pusher.push(job()).await.unwrap();
    wait_until("the job is running", || started.load(Ordering::SeqCst) == 1).await;
    let took = worker.shutdown().await;
    assert!(
        took < Duration::from_secs(2),
        "did not wait for the job: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_job_sleeping_before_its_retry() {
    let (pusher, source) = queue(None).await.unwrap();
    let rec = Recorder::default();
    let cfg = JobsConfig {
        retry_base: Duration::from_secs(30),
        retry_max: Duration::from_secs(60),
        ..fast()
    };
    let worker = Running::start(source, rec.handler(usize::MAX), cfg);
    pusher.push(job()).await.unwrap();
    wait_until("the job failed once", || rec.calls() == 1).await;
    let took = worker.shutdown().await;
    assert!(took < Duration::from_secs(3), "stopped promptly: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_an_idle_redis_worker() {
    let p = prefix();
    let url = redis_url();
    let (_pusher, source) = queue(Some((&url, &p))).await.unwrap();
    let worker = Running::start(source, Recorder::default().handler(0), fast());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let took = worker.shutdown().await;
    assert!(took < Duration::from_secs(3), "stopped promptly: {took:?}");
    cleanup(&p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacuum_removes_finished_redis_jobs() {
    let p = prefix();
    let url = redis_url();
    let (pusher, source) = queue(Some((&url, &p))).await.unwrap();
    let (_, cleaner) = queue(Some((&url, &p))).await.unwrap();
    let rec = Recorder::default();
    let worker = Running::start(source, rec.handler(0), fast());
    pusher.push(job()).await.unwrap();
    pusher.push(job()).await.unwrap();
    wait_until("both jobs are handled", || rec.seen().len() == 2).await;
    worker.shutdown().await;

    let client = redis::Client::open(url.clone()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let data = format!("{p}jobs:sync:data");
    let stored: i64 = redis::cmd("HLEN")
        .arg(&data)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 2, "finished jobs are kept until vacuumed");
    assert_eq!(
        cleaner
            .vacuum_finished(Duration::from_secs(3600))
            .await
            .unwrap(),
        0,
        "recent jobs are kept"
    );
    assert_eq!(cleaner.vacuum_finished(Duration::ZERO).await.unwrap(), 2);
    let stored: i64 = redis::cmd("HLEN")
        .arg(&data)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let done: i64 = redis::cmd("SCARD")
        .arg(format!("{p}jobs:sync:done"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(done, 0);
    cleanup(&p).await;
}

#[tokio::test]
async fn redis_queue_push_fails_with_queue_error_when_redis_is_down() {
    let (pusher, _source) = queue(Some((DEAD_REDIS, "test:dead:"))).await.unwrap();
    let started = Instant::now();
    let err = pusher.push(job()).await.unwrap_err();
    assert!(!err.0.contains("127.0.0.1"), "no URL in errors: {err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "fails fast: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn queue_rejects_an_invalid_redis_url() {
    assert!(matches!(
        queue(Some(("not a url", "p:"))).await,
        Err(JobsError::InvalidRedisUrl)
    ));
}

#[tokio::test]
async fn worker_rejects_invalid_settings() {
    let (_pusher, source) = queue(None).await.unwrap();
    let cfg = JobsConfig {
        concurrency: 0,
        ..fast()
    };
    let res = run_sync_worker_with(source, Recorder::default().handler(0), cfg, async {}).await;
    assert!(matches!(res, Err(JobsError::InvalidConfig(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_worker_keeps_retrying_an_unreachable_redis_and_still_shuts_down() {
    let (_pusher, source) = queue(Some((DEAD_REDIS, "test:dead:"))).await.unwrap();
    let rec = Recorder::default();
    let worker = Running::start(source, rec.handler(0), fast());
    tokio::time::sleep(Duration::from_millis(1500)).await; // fails, restarts
    assert!(!worker.done.is_finished(), "the worker keeps trying");
    let took = worker.shutdown().await;
    assert!(took < Duration::from_secs(3), "stopped promptly: {took:?}");
    assert_eq!(rec.calls(), 0);
}
