//! The durable job runtime: the `SyncQueue` port on apalis 1.0, the worker
//! that executes sync jobs, and the cron schedules that feed it.
//!
//! Owns: the queue (Redis in production, in-memory in the embedded mode),
//! the sync worker (retries with jittered exponential backoff, bounded
//! concurrency, panics caught, graceful shutdown), the schedules (regular
//! sync, nightly lookback, bronze purge, `hourly` and `daily` rule
//! evaluation, and the apply job's poll every 5 seconds, which applies
//! accepted suggestions: their queue is the suggestions table, so it is
//! durable in both modes and several processes share it) and the start-up
//! recovery call. It never decides what a sync does: that is
//! `application::ingestion::sync`, whose use cases it calls.
//!
//! # Delivery guarantees and trade-offs
//!
//! * **At least once.** With Redis (`apalis_redis`) a job survives restarts;
//!   a job taken by a worker that died (or was abandoned at shutdown) is
//!   re-queued once that worker has missed its heartbeats (5 minutes), and
//!   a job that ends in an error is rescheduled by the backend (up to its
//!   25th attempt). A job can therefore run more than once:
//!   duplicates are harmless because the handler is idempotent (a finished
//!   run is skipped, writes are upserts) and a per-account lock keeps two
//!   deliveries of one account apart.
//! * **Retries.** A handler that answers "retry" (throttled, locked, a
//!   dependency down) is retried in process `max_retries` times with jittered
//!   exponential backoff from `retry_base` (capped at `retry_max`). When
//!   those are used up the job is queued again for `retry_max` later, so a
//!   run is never left queued with no job (the run's own attempt count ends
//!   real failures). Retries waiting for their backoff do not hold a
//!   concurrency slot. A panicking handler is logged and not retried.
//! * **Embedded mode** (no Redis): the queue is an in-process channel, so
//!   jobs die with the process. Durability comes from the `sync_runs` table:
//!   at start [`run_worker`] calls `RecoverSyncs`, which queues again every
//!   run left queued or running.
//! * **Shutdown.** On the shutdown signal the workers stop taking jobs and
//!   wait up to `shutdown_grace` for running ones. A job still running after
//!   that, or waiting for a retry, is abandoned: with Redis it is re-queued
//!   as an orphan, in memory its run is recovered at the next start.
//! * **Several processes.** Each runs the schedules; that is safe because
//!   queuing a run is a no-op while the account has one in flight, and
//!   purging is idempotent.
//!
//! Schedules are cron expressions with seconds (the `cron` crate), in UTC.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::layers::retry::{HasherRng, RetryPolicy};
use apalis::prelude::{
    Attempt, BackendExt, MemorySink, MemoryStorage, MemoryStorageError, Task, TaskBuilder, TaskId,
    TaskSink, TaskSinkError, WorkerBuilder, WorkerBuilderExt, WorkerContext, WorkerError,
};
use apalis_cron::{CronScheduler, Tick};
use apalis_redis::RedisStorage;
use application::AppError;
use application::ingestion::sync::{
    JobOutcome, PurgeRawPayloads, RecoverSyncs, RunSync, ScheduleSyncs,
};
use application::rules::{ApplySuggestions, EvaluateScheduledRules};
use async_trait::async_trait;
use domain::ingestion::{QueueError, SyncJob, SyncKind, SyncQueue};
use domain::rules::Schedule;
use domain::{SyncRunId, TenantId};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use futures_util::sink::Sink;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

use crate::redis_pool::describe_redis_error;

/// How long opening a Redis connection for the queue may take.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one queue command may wait for its reply.
const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Task ids read from Redis per cleanup step.
const VACUUM_BATCH: usize = 500;
/// How long a stopping worker with no job running gets to close its backend.
const CLOSE_WINDOW: Duration = Duration::from_secs(1);

// ------------------------------------------------------------------ payload

/// A sync job on the wire (JSON in Redis): which run to execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJobPayload {
    pub tenant_id: Uuid,
    pub sync_run_id: Uuid,
}

impl From<SyncJob> for SyncJobPayload {
    fn from(job: SyncJob) -> Self {
        Self {
            tenant_id: job.tenant_id.into_uuid(),
            sync_run_id: job.sync_run_id.into_uuid(),
        }
    }
}

impl From<SyncJobPayload> for SyncJob {
    fn from(p: SyncJobPayload) -> Self {
        Self {
            tenant_id: TenantId::from_uuid(p.tenant_id),
            sync_run_id: SyncRunId::from_uuid(p.sync_run_id),
        }
    }
}

// ------------------------------------------------------------------ config

/// Tunables of the job runtime (from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsConfig {
    /// Sync jobs executed at the same time by one process.
    pub concurrency: usize,
    /// In-process retries of a job that asked to be retried.
    pub max_retries: usize,
    /// First retry delay; doubles each retry, plus up to 50 % jitter.
    pub retry_base: Duration,
    /// Longest retry delay, and how long a job that used up its retries
    /// waits before it is queued again.
    pub retry_max: Duration,
    /// Regular syncs (cron with seconds, UTC): every 30 minutes.
    pub regular_cron: String,
    /// The lookback sync (restated days): nightly at 03:00 UTC.
    pub lookback_cron: String,
    /// Bronze retention purge (and Redis queue cleanup): nightly at 03:30 UTC.
    pub purge_cron: String,
    /// Applying accepted suggestions (the apply job's poll): every 5 seconds.
    pub apply_cron: String,
    /// Rules on the `hourly` schedule: at minute 5 of every hour.
    pub hourly_rules_cron: String,
    /// Rules on the `daily` schedule: at 06:00 UTC.
    pub daily_rules_cron: String,
    /// How often an idle Redis worker looks for new jobs.
    pub poll_interval: Duration,
    /// How long shutdown waits for running jobs.
    pub shutdown_grace: Duration,
    /// How long finished jobs' records are kept in Redis.
    pub finished_retention: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            concurrency: 2,
            max_retries: 5,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(10 * 60),
            regular_cron: "0 */30 * * * *".to_owned(),
            lookback_cron: "0 0 3 * * *".to_owned(),
            purge_cron: "0 30 3 * * *".to_owned(),
            apply_cron: "*/5 * * * * *".to_owned(),
            hourly_rules_cron: "0 5 * * * *".to_owned(),
            daily_rules_cron: "0 0 6 * * *".to_owned(),
            poll_interval: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(25),
            finished_retention: Duration::from_secs(7 * 86_400),
        }
    }
}

impl JobsConfig {
    fn validate(&self) -> Result<(), JobsError> {
        let bad = |m: &str| Err(JobsError::InvalidConfig(m.to_owned()));
        if self.concurrency == 0 {
            return bad("concurrency must be at least 1");
        }
        if self.retry_base.is_zero() || self.retry_max < self.retry_base {
            return bad("retry_base must be above zero and at most retry_max");
        }
        if self.poll_interval.is_zero() {
            return bad("poll_interval must be above zero");
        }
        Ok(())
    }

    fn backoff(&self) -> Result<ExponentialBackoffMaker<HasherRng>, JobsError> {
        ExponentialBackoffMaker::new(self.retry_base, self.retry_max, 0.5, HasherRng::default())
            .map_err(|e| JobsError::InvalidConfig(e.to_string()))
    }
}

/// The job runtime could not be set up. No message carries a URL.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("invalid Redis URL for the job queue")]
    InvalidRedisUrl,
    #[error("cannot set up the Redis job queue: {0}")]
    Redis(String),
    #[error("invalid cron expression for {name} ({expr:?}): {reason}")]
    InvalidCron {
        name: &'static str,
        expr: String,
        reason: String,
    },
    #[error("invalid job settings: {0}")]
    InvalidConfig(String),
}

// ------------------------------------------------------------------ queue

/// Where a worker takes sync jobs from; made by [`queue`] together with the
/// pushing side, so both use the same storage.
pub struct QueueSource {
    inner: Source,
}

enum Source {
    Memory(MemoryQueue),
    Redis(Box<RedisStorage<serde_json::Value>>),
}

impl std::fmt::Debug for QueueSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Source::Memory(_) => f.write_str("QueueSource::Memory"),
            Source::Redis(s) => f
                .debug_struct("QueueSource::Redis")
                .field("queue", &s.get_config().queue.as_ref())
                .finish(),
        }
    }
}

impl QueueSource {
    /// Deletes the Redis records of jobs that finished (done, or dead after
    /// the backend's last attempt) more than `older_than` ago; returns how
    /// many. The in-memory queue keeps no records: always 0.
    ///
    /// # Errors
    /// Redis is unreachable.
    pub async fn vacuum_finished(&self, older_than: Duration) -> Result<u64, QueueError> {
        match &self.inner {
            Source::Memory(_) => Ok(0),
            Source::Redis(storage) => vacuum_finished(storage, older_than).await,
        }
    }
}

/// The sync job queue and the source its worker consumes.
///
/// `redis`: `Some((url, key_prefix))` for the durable Redis queue (keys
/// `<prefix>jobs:sync:*`; nothing is connected until first use, so a down
/// Redis does not stop start-up), `None` for the in-memory queue of the
/// embedded mode.
///
/// # Errors
/// The Redis URL is invalid.
#[allow(clippy::unused_async)] // async for callers; the Redis connection is lazy
pub async fn queue(
    redis: Option<(&str, &str)>,
) -> Result<(Arc<dyn SyncQueue>, QueueSource), JobsError> {
    let Some((url, prefix)) = redis else {
        let (tx, rx) = mpsc::unbounded_channel();
        let memory = MemoryQueue {
            tx,
            rx: Arc::new(Mutex::new(rx)),
        };
        return Ok((
            Arc::new(MemorySyncQueue(memory.clone())),
            QueueSource {
                inner: Source::Memory(memory),
            },
        ));
    };
    let client = redis::Client::open(url).map_err(|_| JobsError::InvalidRedisUrl)?;
    let conn = client
        .get_connection_manager_lazy(
            redis::aio::ConnectionManagerConfig::new()
                // Fail a push fast when Redis is down (the caller answers
                // 503); workers retry on their own.
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(1))
                .set_connection_timeout(Some(REDIS_CONNECT_TIMEOUT))
                .set_response_timeout(Some(REDIS_RESPONSE_TIMEOUT)),
        )
        .map_err(|e| JobsError::Redis(describe_redis_error(&e)))?;
    let config = apalis_redis::Config::default()
        .queue(format!("{prefix}jobs:sync"))
        .emit_events(false);
    let storage = RedisStorage::new(conn).with_config(config);
    Ok((
        Arc::new(RedisSyncQueue(storage.clone())),
        QueueSource {
            inner: Source::Redis(Box::new(storage)),
        },
    ))
}

/// The in-memory queue: an unbounded channel. Pushers send on it directly
/// (never through apalis' `MemorySink`, whose `try_lock` can panic under
/// contention); the worker reads it through a `MemoryStorage`.
#[derive(Clone)]
struct MemoryQueue {
    tx: mpsc::UnboundedSender<Task<SyncJob>>,
    rx: Arc<Mutex<mpsc::UnboundedReceiver<Task<SyncJob>>>>,
}

impl MemoryQueue {
    fn push(&self, job: SyncJob) -> Result<(), QueueError> {
        self.tx
            .send(memory_task(job))
            .map_err(|_| QueueError("the in-memory job queue is closed".to_owned()))
    }

    /// A backend for one worker run over the shared channel.
    fn storage(&self) -> MemoryStorage<SyncJob> {
        let sink: Box<dyn Sink<Task<SyncJob>, Error = MemoryStorageError> + Send + Sync + Unpin> =
            Box::new(ChannelSink(self.tx.clone()));
        let rx = Arc::clone(&self.rx);
        let stream = futures_util::stream::poll_fn(move |cx| {
            rx.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .poll_recv(cx)
        });
        MemoryStorage::new_with(
            MemorySink::new(Arc::new(futures_util::lock::Mutex::new(sink))),
            Box::pin(stream),
        )
    }
}

fn memory_task(job: SyncJob) -> Task<SyncJob> {
    TaskBuilder::new(job)
        .task_id(TaskId::from_string(Uuid::new_v4().simple().to_string()))
        .build()
}

/// What apalis pushes through the memory backend (nothing of ours does).
struct ChannelSink(mpsc::UnboundedSender<Task<SyncJob>>);

impl Sink<Task<SyncJob>> for ChannelSink {
    type Error = MemoryStorageError;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, item: Task<SyncJob>) -> Result<(), Self::Error> {
        self.0
            .send(item)
            .map_err(|_| MemoryStorageError::Other("the in-memory job queue is closed".into()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

struct MemorySyncQueue(MemoryQueue);

#[async_trait]
impl SyncQueue for MemorySyncQueue {
    async fn push(&self, job: SyncJob) -> Result<(), QueueError> {
        self.0.push(job)
    }
}

struct RedisSyncQueue(RedisStorage<serde_json::Value>);

#[async_trait]
impl SyncQueue for RedisSyncQueue {
    async fn push(&self, job: SyncJob) -> Result<(), QueueError> {
        push_redis(&self.0, job, None).await
    }
}

/// Pushes a job on the Redis queue, to run now or after `delay`.
async fn push_redis(
    storage: &RedisStorage<serde_json::Value>,
    job: SyncJob,
    delay: Option<Duration>,
) -> Result<(), QueueError> {
    let value = serde_json::to_value(SyncJobPayload::from(job))
        .map_err(|_| QueueError("could not encode the sync job".to_owned()))?;
    let mut task = TaskBuilder::new(value);
    if let Some(delay) = delay {
        task = task.run_after(delay);
    }
    let mut storage = storage.clone();
    storage
        .push_task(task.build())
        .await
        .map_err(|e| QueueError(describe_push_error(&e)))
}

fn describe_push_error(e: &TaskSinkError<apalis_redis::Error>) -> String {
    match e {
        TaskSinkError::PushError(apalis_redis::Error::Database(e)) => {
            format!("redis: {}", describe_redis_error(e))
        }
        TaskSinkError::CodecError(_) => "could not encode the sync job".to_owned(),
        _ => "could not push the sync job".to_owned(),
    }
}

/// Deletes task ids `ARGV[2..]` of the finished set `KEYS[1]` (and their
/// payload in `KEYS[2]` and metadata `KEYS[3]:<id>`) that finished at or
/// before `ARGV[1]` (Unix seconds). Returns how many.
const VACUUM_SCRIPT: &str = r"
local removed = 0
local cutoff = tonumber(ARGV[1])
for i = 2, #ARGV do
    local id = ARGV[i]
    local meta = KEYS[3] .. ':' .. id
    local done_at = tonumber(redis.call('HGET', meta, 'done_at'))
    if done_at == nil or done_at <= cutoff then
        redis.call('HDEL', KEYS[2], id)
        redis.call('DEL', meta)
        redis.call('SREM', KEYS[1], id)
        removed = removed + 1
    end
end
return removed
";

/// apalis-redis keeps every finished job's payload and metadata; its own
/// vacuum scans the whole payload hash in one script and leaves the
/// done-set. This walks the done and dead sets in batches instead.
///
/// Not an `async fn`: the keys and the connection are taken from `storage`
/// before the future starts, so the future holds no borrow of it.
fn vacuum_finished(
    storage: &RedisStorage<serde_json::Value>,
    older_than: Duration,
) -> impl Future<Output = Result<u64, QueueError>> + Send + 'static {
    let config = storage.get_config();
    let sets = [config.done_jobs_set(), config.dead_jobs_set()];
    let (data, meta) = (config.job_data_hash(), config.job_meta_hash());
    let mut storage = storage.clone();
    let conn = storage.get_connection().clone();
    vacuum_sets(conn, sets, data, meta, older_than)
}

async fn vacuum_sets(
    mut conn: apalis_redis::ConnectionManager,
    sets: [String; 2],
    data: String,
    meta: String,
    older_than: Duration,
) -> Result<u64, QueueError> {
    let fail = |e: &redis::RedisError| {
        QueueError(format!(
            "could not clean the job queue: {}",
            describe_redis_error(e)
        ))
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let cutoff = now.saturating_sub(older_than).as_secs();
    let script = redis::Script::new(VACUUM_SCRIPT);
    let mut removed = 0_u64;
    for set in sets {
        let mut cursor = 0_u64;
        loop {
            let (next, ids): (u64, Vec<String>) = redis::cmd("SSCAN")
                .arg(&set)
                .arg(cursor)
                .arg("COUNT")
                .arg(VACUUM_BATCH)
                .query_async(&mut conn)
                .await
                .map_err(|e| fail(&e))?;
            if !ids.is_empty() {
                let mut call = script.prepare_invoke();
                call.key(&set).key(&data).key(&meta).arg(cutoff);
                for id in &ids {
                    call.arg(id);
                }
                let n: u64 = call.invoke_async(&mut conn).await.map_err(|e| fail(&e))?;
                removed += n;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    Ok(removed)
}

// ------------------------------------------------------------------ worker

/// The use cases the worker drives.
#[derive(Clone)]
pub struct WorkerUseCases {
    pub run: Arc<RunSync>,
    pub schedule: Arc<ScheduleSyncs>,
    pub recover: Arc<RecoverSyncs>,
    pub purge: Arc<PurgeRawPayloads>,
    /// Applies accepted suggestions (their queue is the suggestions table).
    pub apply: Arc<ApplySuggestions>,
    /// Judges the `hourly` and `daily` rules.
    pub evaluate: Arc<EvaluateScheduledRules>,
}

type ShutdownSignal = Shared<BoxFuture<'static, ()>>;

/// Runs the job runtime until `shutdown` completes: first re-queues the runs
/// a previous process left unfinished (`RecoverSyncs`), then runs the sync
/// worker and the schedules together, then stops them gracefully
/// (see the module documentation).
///
/// # Errors
/// Invalid settings or cron expressions (checked before anything runs).
/// Failures at run time are logged and the failed worker restarted.
pub async fn run_worker(
    source: QueueSource,
    uses: WorkerUseCases,
    cfg: JobsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), JobsError> {
    cfg.validate()?;
    let backoff = cfg.backoff()?;
    let regular = parse_cron("regular_cron", &cfg.regular_cron)?;
    let lookback = parse_cron("lookback_cron", &cfg.lookback_cron)?;
    let purge = parse_cron("purge_cron", &cfg.purge_cron)?;
    let shutdown: ShutdownSignal = shutdown.boxed().shared();

    // Boxed here, where the type is concrete: inside the generic worker code
    // rustc cannot prove these use-case futures `Send` (higher-ranked
    // lifetimes), so they travel as `dyn Future + Send`.
    let recover: BoxFuture<'_, _> = Box::pin(uses.recover.execute());
    match recover.await {
        Ok(0) => tracing::debug!("no unfinished sync runs to re-queue"),
        Ok(n) => tracing::info!(requeued = n, "re-queued sync runs left unfinished"),
        Err(e) => tracing::error!(
            error = %e,
            "could not re-queue unfinished sync runs; the next start tries again"
        ),
    }

    let redis = match &source.inner {
        Source::Redis(s) => Some(RedisStorage::clone(s)),
        Source::Memory(_) => None,
    };
    let run = Arc::clone(&uses.run);
    let sync = sync_worker(
        source,
        move |job| execute_sync(Arc::clone(&run), job),
        cfg.clone(),
        backoff,
        shutdown.clone(),
    );

    let schedule = Arc::clone(&uses.schedule);
    let regular = cron_worker(
        "cron-regular",
        regular,
        move || {
            let schedule = Arc::clone(&schedule);
            async move { schedule_syncs(&schedule, SyncKind::Scheduled).await }
        },
        shutdown.clone(),
        cfg.shutdown_grace,
    );
    let schedule = Arc::clone(&uses.schedule);
    let lookback = cron_worker(
        "cron-lookback",
        lookback,
        move || {
            let schedule = Arc::clone(&schedule);
            async move { schedule_syncs(&schedule, SyncKind::Lookback).await }
        },
        shutdown.clone(),
        cfg.shutdown_grace,
    );
    let purge_uc = Arc::clone(&uses.purge);
    let retention = cfg.finished_retention;
    let purge = cron_worker(
        "cron-purge",
        purge,
        move || {
            let purge = Arc::clone(&purge_uc);
            let redis = redis.clone();
            async move { purge_old(&purge, redis, retention).await }
        },
        shutdown.clone(),
        cfg.shutdown_grace,
    );

    let apply_uc = Arc::clone(&uses.apply);
    let apply = cron_worker(
        "cron-apply",
        parse_cron("apply_cron", &cfg.apply_cron)?,
        move || {
            let apply = Arc::clone(&apply_uc);
            async move { apply_suggestions(&apply).await }
        },
        shutdown.clone(),
        cfg.shutdown_grace,
    );

    let rules = |role: &'static str, schedule: cron::Schedule, which: Schedule| {
        let evaluate = Arc::clone(&uses.evaluate);
        cron_worker(
            role,
            schedule,
            move || {
                let evaluate = Arc::clone(&evaluate);
                async move { evaluate_rules(&evaluate, which).await }
            },
            shutdown.clone(),
            cfg.shutdown_grace,
        )
    };
    let hourly = rules(
        "cron-rules-hourly",
        parse_cron("hourly_rules_cron", &cfg.hourly_rules_cron)?,
        Schedule::Hourly,
    );
    let daily = rules(
        "cron-rules-daily",
        parse_cron("daily_rules_cron", &cfg.daily_rules_cron)?,
        Schedule::Daily,
    );

    tokio::join!(sync, regular, lookback, purge, apply, hourly, daily);
    tracing::info!("job runtime stopped");
    Ok(())
}

/// The sync worker alone, with any handler: `Ok` means done, `Err(reason)`
/// means "retry later" (backoff, then queued again, as for [`run_worker`]).
/// Runs until `shutdown` completes. No recovery and no schedules: this is
/// what [`run_worker`] runs for `RunSync`.
///
/// # Errors
/// Invalid settings.
pub async fn run_sync_worker_with<H, Fut>(
    source: QueueSource,
    handler: H,
    cfg: JobsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), JobsError>
where
    H: Fn(SyncJob) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    cfg.validate()?;
    let backoff = cfg.backoff()?;
    sync_worker(source, handler, cfg, backoff, shutdown.boxed().shared()).await;
    Ok(())
}

/// One delivery of `RunSync`, answered in the worker's terms: `Err(reason)`
/// asks the retry layer for another attempt later.
async fn execute_sync(run: Arc<RunSync>, job: SyncJob) -> Result<(), String> {
    match run.execute(job).await {
        Ok(JobOutcome::Done) => Ok(()),
        Ok(JobOutcome::Retry(reason)) | Err(AppError::Unavailable(reason)) => Err(reason),
        Err(e) => {
            // The use case recorded what it could on the run; retrying the
            // same bookkeeping failure would not help.
            tracing::error!(error = %e, "sync job failed; not retried");
            Ok(())
        }
    }
}

fn parse_cron(name: &'static str, expr: &str) -> Result<cron::Schedule, JobsError> {
    cron::Schedule::from_str(expr).map_err(|e| JobsError::InvalidCron {
        name,
        expr: expr.to_owned(),
        reason: e.to_string(),
    })
}

/// A failed delivery that the retry layer should retry.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RetryLater(String);

/// Queues a job again after its in-process retries are used up.
#[derive(Clone)]
enum Requeue {
    Memory(MemoryQueue),
    Redis(Box<RedisStorage<serde_json::Value>>),
}

impl Requeue {
    async fn later(&self, job: SyncJob, delay: Duration) -> Result<(), QueueError> {
        match self {
            Requeue::Memory(q) => {
                let q = q.clone();
                // Lost if the process stops first: the run stays queued in
                // the database and `RecoverSyncs` queues it at the next start.
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if q.push(job).is_err() {
                        tracing::debug!(
                            "the in-memory queue is closed; the run is recovered at the next start"
                        );
                    }
                });
                Ok(())
            }
            Requeue::Redis(storage) => push_redis(storage, job, Some(delay)).await,
        }
    }
}

/// Runs the handler for one delivery and turns its answer into what the
/// retry layer understands.
struct Delivery<H> {
    handler: Arc<H>,
    max_retries: usize,
    park_for: Duration,
    requeue: Requeue,
}

impl<H> Clone for Delivery<H> {
    fn clone(&self) -> Self {
        Self {
            handler: Arc::clone(&self.handler),
            max_retries: self.max_retries,
            park_for: self.park_for,
            requeue: self.requeue.clone(),
        }
    }
}

impl<H, Fut> Delivery<H>
where
    H: Fn(SyncJob) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    async fn deliver(self, job: SyncJob, attempt: usize) -> Result<(), RetryLater> {
        let span = tracing::info_span!(
            "sync_job",
            tenant_id = %job.tenant_id,
            sync_run_id = %job.sync_run_id,
            attempt
        );
        async move {
            let reason = match AssertUnwindSafe((self.handler)(job)).catch_unwind().await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(reason)) => reason,
                Err(_) => {
                    // A bug, not a transient failure: retrying would panic again.
                    tracing::error!("sync job panicked; not retried");
                    return Ok(());
                }
            };
            if attempt <= self.max_retries {
                tracing::warn!(%reason, "sync job asked to be retried; retrying after a backoff");
                return Err(RetryLater(reason));
            }
            match self.requeue.later(job, self.park_for).await {
                Ok(()) => {
                    tracing::warn!(
                        %reason,
                        retry_in_secs = self.park_for.as_secs(),
                        "sync job still failing after its retries; queued again for later"
                    );
                    Ok(())
                }
                Err(e) => {
                    tracing::error!(
                        %reason,
                        error = %e,
                        "sync job still failing after its retries and could not be queued again"
                    );
                    Err(RetryLater(reason))
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// Runs the sync worker on `source` until shutdown.
async fn sync_worker<H, Fut>(
    source: QueueSource,
    handler: H,
    cfg: JobsConfig,
    backoff: ExponentialBackoffMaker<HasherRng>,
    shutdown: ShutdownSignal,
) where
    H: Fn(SyncJob) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let (max_retries, concurrency) = (cfg.max_retries, cfg.concurrency);
    match source.inner {
        Source::Memory(queue) => {
            let delivery = Delivery {
                handler,
                max_retries,
                park_for: cfg.retry_max,
                requeue: Requeue::Memory(queue.clone()),
            };
            supervise("sync", shutdown, cfg.shutdown_grace, move |ctx| {
                let delivery = delivery.clone();
                let mut backoff = backoff.clone();
                WorkerBuilder::new(ctx)
                    .backend(queue.storage())
                    .retry(RetryPolicy::retries(max_retries).with_backoff(backoff.make_backoff()))
                    .concurrency(concurrency)
                    .build(move |job: SyncJob, attempt: Attempt| {
                        delivery.clone().deliver(job, attempt.current())
                    })
                    .run()
            })
            .await;
        }
        Source::Redis(storage) => {
            let delivery = Delivery {
                handler,
                max_retries,
                park_for: cfg.retry_max,
                requeue: Requeue::Redis(storage.clone()),
            };
            // Take no more jobs than can run: the rest stay available to
            // other processes.
            let config = storage.get_config().clone().batch_size(concurrency);
            let poll_interval = cfg.poll_interval;
            supervise("sync", shutdown, cfg.shutdown_grace, move |ctx| {
                let delivery = delivery.clone();
                let mut backoff = backoff.clone();
                WorkerBuilder::new(ctx)
                    .backend(
                        storage
                            .clone()
                            .with_config(config.clone())
                            .poll_with_interval(poll_interval),
                    )
                    .retry(RetryPolicy::retries(max_retries).with_backoff(backoff.make_backoff()))
                    .concurrency(concurrency)
                    .build(move |value: serde_json::Value, attempt: Attempt| {
                        let delivery = delivery.clone();
                        async move {
                            match serde_json::from_value::<SyncJobPayload>(value) {
                                Ok(p) => delivery.deliver(p.into(), attempt.current()).await,
                                Err(e) => {
                                    tracing::error!(error = %e, "dropping a sync job that cannot be decoded");
                                    Ok(())
                                }
                            }
                        }
                    })
                    .run()
            })
            .await;
        }
    }
}

/// Runs `job` on every tick of `schedule` (one at a time: a tick that comes
/// while the previous one still runs waits for it) until shutdown.
async fn cron_worker<F, Fut>(
    role: &'static str,
    schedule: cron::Schedule,
    job: F,
    shutdown: ShutdownSignal,
    grace: Duration,
) where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    // Owned: a borrowed `&str` captured by a handler trips rustc's
    // higher-ranked `Send` check of the worker future.
    let name: Arc<str> = Arc::from(role);
    supervise(role, shutdown, grace, move |ctx| {
        let job = job.clone();
        let name = Arc::clone(&name);
        WorkerBuilder::new(ctx)
            .backend(CronScheduler::new(schedule.clone()))
            .concurrency(1)
            .build(move |_tick: Tick| {
                let run = AssertUnwindSafe(job()).catch_unwind();
                let name = Arc::clone(&name);
                async move {
                    if run.await.is_err() {
                        tracing::error!(schedule = %name, "scheduled job panicked");
                    }
                }
            })
            .run()
    })
    .await;
}

async fn evaluate_rules(evaluate: &EvaluateScheduledRules, schedule: Schedule) {
    let evaluated: BoxFuture<'_, _> = Box::pin(evaluate.execute(schedule));
    match evaluated.await {
        Ok(c) => tracing::info!(
            schedule = schedule.as_str(),
            evaluated = c.evaluated,
            created = c.created,
            "scheduled rules evaluated"
        ),
        Err(e) => tracing::error!(
            schedule = schedule.as_str(),
            error = %e,
            "could not evaluate scheduled rules; the next tick tries again"
        ),
    }
}

async fn apply_suggestions(apply: &ApplySuggestions) {
    let applied: BoxFuture<'_, _> = Box::pin(apply.run_once());
    match applied.await {
        Ok(0) => {}
        Ok(taken) => tracing::info!(taken, "accepted suggestions applied or rescheduled"),
        Err(e) => tracing::error!(
            error = %e,
            "could not apply accepted suggestions; the next tick tries again"
        ),
    }
}

async fn schedule_syncs(schedule: &ScheduleSyncs, kind: SyncKind) {
    let scheduled: BoxFuture<'_, _> = Box::pin(schedule.execute(kind));
    match scheduled.await {
        Ok(queued) => tracing::info!(kind = kind.as_str(), queued, "syncs scheduled"),
        Err(e) => tracing::error!(
            kind = kind.as_str(),
            error = %e,
            "could not schedule syncs; the next tick tries again"
        ),
    }
}

async fn purge_old(
    purge: &PurgeRawPayloads,
    redis: Option<RedisStorage<serde_json::Value>>,
    retention: Duration,
) {
    let purged: BoxFuture<'_, _> = Box::pin(purge.execute());
    match purged.await {
        Ok(deleted) => tracing::info!(deleted, "purged bronze pages past retention"),
        Err(e) => {
            tracing::error!(error = %e, "could not purge bronze pages; the next run tries again")
        }
    }
    if let Some(storage) = redis {
        match vacuum_finished(&storage, retention).await {
            Ok(removed) => tracing::info!(removed, "removed old finished jobs from the queue"),
            Err(e) => tracing::warn!(error = %e, "could not clean the job queue"),
        }
    }
}

/// Keeps one worker running until shutdown: a worker that fails (its
/// backend errored, e.g. Redis went away) is started again, under a new
/// name, after a pause that grows with repeated failures.
async fn supervise<F, Fut>(
    role: &'static str,
    shutdown: ShutdownSignal,
    grace: Duration,
    mut start: F,
) where
    F: FnMut(WorkerContext) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    let mut failures = 0_u32;
    loop {
        let ctx = WorkerContext::new(&format!("adscale-{role}-{}", Uuid::new_v4().simple()));
        let started = tokio::time::Instant::now();
        let run = start(ctx.clone());
        tokio::pin!(run);
        tokio::select! {
            biased;
            () = shutdown.clone() => {
                stop_gracefully(role, &ctx, run, grace).await;
                return;
            }
            result = &mut run => {
                if started.elapsed() > Duration::from_secs(60) {
                    failures = 0;
                }
                match result {
                    Ok(()) => tracing::warn!(worker = role, "job worker stopped by itself; restarting"),
                    Err(e) => tracing::error!(worker = role, error = %e, "job worker failed; restarting"),
                }
            }
        }
        failures = failures.saturating_add(1);
        let pause = Duration::from_secs(1_u64 << failures.min(5)).min(Duration::from_secs(30));
        tokio::select! {
            biased;
            () = shutdown.clone() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Stops taking jobs and waits for the running ones, at most `grace`.
async fn stop_gracefully<Fut>(
    role: &'static str,
    ctx: &WorkerContext,
    mut run: Pin<&mut Fut>,
    grace: Duration,
) where
    Fut: Future<Output = Result<(), WorkerError>>,
{
    if ctx.stop().is_err() {
        tracing::debug!(worker = role, "job worker had not started");
        return;
    }
    let deadline = tokio::time::Instant::now() + grace;
    let mut idle_since = None;
    loop {
        tokio::select! {
            result = run.as_mut() => {
                match result {
                    Ok(()) => tracing::info!(worker = role, "job worker stopped"),
                    Err(e) => tracing::warn!(worker = role, error = %e, "job worker failed while stopping"),
                }
                return;
            }
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        let now = tokio::time::Instant::now();
        // Jobs sleeping before a retry keep the worker from finishing but run
        // nothing: once no job has run for a moment, stop waiting.
        if ctx.task_count() == 0 {
            if now.duration_since(*idle_since.get_or_insert(now)) >= CLOSE_WINDOW {
                tracing::info!(
                    worker = role,
                    "job worker stopped; jobs waiting for a retry are delivered again later"
                );
                return;
            }
        } else {
            idle_since = None;
        }
        if now >= deadline {
            tracing::warn!(
                worker = role,
                running = ctx.task_count(),
                grace_secs = grace.as_secs(),
                "shutdown grace period over; abandoning running jobs (they are delivered again)"
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_a_job() {
        let job = SyncJob {
            tenant_id: TenantId::generate(),
            sync_run_id: SyncRunId::generate(),
        };
        let json = serde_json::to_value(SyncJobPayload::from(job)).unwrap_or_default();
        let back: SyncJobPayload = serde_json::from_value(json).unwrap_or(SyncJobPayload {
            tenant_id: Uuid::nil(),
            sync_run_id: Uuid::nil(),
        });
        assert_eq!(SyncJob::from(back), job);
    }

    fn assert_send<F: Future + Send>(_: &F) {}

    #[test]
    fn the_runtime_can_be_spawned() {
        // Type-checked, never called: `run_worker` must be `tokio::spawn`-able.
        let _check = |source: QueueSource, uses: WorkerUseCases| {
            assert_send(&run_worker(source, uses, JobsConfig::default(), async {}));
        };
    }

    #[test]
    fn default_config_is_valid_and_its_crons_parse() {
        let cfg = JobsConfig::default();
        assert!(cfg.validate().is_ok());
        assert!(cfg.backoff().is_ok());
        for (name, expr) in [
            ("regular", &cfg.regular_cron),
            ("lookback", &cfg.lookback_cron),
            ("purge", &cfg.purge_cron),
        ] {
            assert!(parse_cron(name, expr).is_ok(), "{name}: {expr}");
        }
    }

    #[test]
    fn rejects_bad_settings() {
        let zero = JobsConfig {
            concurrency: 0,
            ..JobsConfig::default()
        };
        assert!(matches!(zero.validate(), Err(JobsError::InvalidConfig(_))));
        let inverted = JobsConfig {
            retry_base: Duration::from_secs(60),
            retry_max: Duration::from_secs(1),
            ..JobsConfig::default()
        };
        assert!(inverted.validate().is_err());
        assert!(matches!(
            parse_cron("regular_cron", "every now and then"),
            Err(JobsError::InvalidCron { .. })
        ));
    }
}
