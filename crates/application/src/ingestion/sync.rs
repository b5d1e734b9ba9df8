//! Syncing an ad account from its platform: requesting a run (API or
//! schedule), executing it as a job (bronze → silver → gold), and the
//! housekeeping around runs (recovery after a crash, bronze retention).
//!
//! A run is executed at least once: a duplicate delivery finds the run
//! finished and does nothing, a second worker finds the account locked and
//! retries later, and every write is an idempotent upsert, so re-running a
//! killed sync converges to the same silver and gold rows.

use std::sync::Arc;
use std::time::Duration;

use domain::ads::{AdAccount, AdAccountPatch, AdAccountRepository, AdAccountStatus, DateRange};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::ingestion::{
    AdAccountConnections, AdsPlatform, IngestionStore, Locks, PageToken, PlatformAccount,
    PlatformError, SecretBox, SyncCounts, SyncJob, SyncKind, SyncOutcome, SyncQueue, SyncRun,
    SyncRunRepository, SyncStatus, Upserted,
};
use domain::notify::Alert;
use domain::page::{Page, PageRequest};
use domain::platform::{Cache, Clock};
use domain::{AdAccountId, RepoError, SyncRunId, TenantId};

use crate::ads::cache_groups;
use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

/// Tunables of syncing (from configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSettings {
    /// Days a regular (scheduled) sync re-fetches, ending today: 2 = yesterday and today.
    pub regular_days: i64,
    /// Days the nightly lookback sync re-fetches, ending today.
    pub lookback_days: i64,
    /// Days a manual sync fetches when the request names no range.
    pub manual_days: i64,
    /// Attempts before a run is marked failed.
    pub max_attempts: i32,
    /// How long a sync may hold its account's lock if its worker dies.
    pub lock_ttl: Duration,
    /// Bronze pages older than this are deleted by the cleanup job.
    pub raw_retention_days: i64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            regular_days: 2,
            lookback_days: 28,
            manual_days: 28,
            max_attempts: 5,
            lock_ttl: Duration::from_secs(30 * 60),
            raw_retention_days: 90,
        }
    }
}

/// How long a queued run may wait before a new request pushes its job again.
const STALE_QUEUED: time::Duration = time::Duration::minutes(15);

/// The ports a sync touches, shared by the ingestion use cases.
pub struct IngestionPorts {
    pub accounts: Arc<dyn AdAccountRepository>,
    pub connections: Arc<dyn AdAccountConnections>,
    pub secrets: Arc<dyn SecretBox>,
    pub platform: Arc<dyn AdsPlatform>,
    pub store: Arc<dyn IngestionStore>,
    pub runs: Arc<dyn SyncRunRepository>,
    pub queue: Arc<dyn SyncQueue>,
    pub locks: Arc<dyn Locks>,
    pub cache: Arc<dyn Cache>,
    pub clock: Arc<dyn Clock>,
    pub audit: Auditor,
    pub settings: SyncSettings,
}

impl IngestionPorts {
    /// The last `days` days of the account, ending today in its time zone.
    fn recent(&self, account: &AdAccount, days: i64) -> DateRange {
        let today = self.clock.today_in(&account.timezone);
        let from = today - time::Duration::days(days.max(1) - 1);
        DateRange::new(from, today).unwrap_or(DateRange::day(today))
    }

    /// Queues a run for the account and pushes its job, unless the account
    /// already has a run in flight (then that run is returned, nothing
    /// pushed). The flag says whether the run is new.
    async fn enqueue(
        &self,
        account: &AdAccount,
        kind: SyncKind,
        range: DateRange,
    ) -> Result<(SyncRun, bool), AppError> {
        let run = SyncRun {
            id: SyncRunId::generate(),
            tenant_id: account.tenant_id,
            ad_account_id: account.id,
            kind,
            status: SyncStatus::Queued,
            range,
            queued_at: self.clock.now(),
            started_at: None,
            finished_at: None,
            counts: SyncCounts::default(),
            rows_changed: 0,
            api_calls: 0,
            attempts: 0,
            error: None,
        };
        let stored = self.runs.enqueue(&run).await?;
        let new = stored.id == run.id;
        // A run still queued long after it was written may have lost its job
        // (the queue was down at push time): push it again; duplicates are harmless.
        let stale = !new
            && stored.status == SyncStatus::Queued
            && run.queued_at - stored.queued_at > STALE_QUEUED;
        if new || stale {
            self.queue
                .push(SyncJob {
                    tenant_id: stored.tenant_id,
                    sync_run_id: stored.id,
                })
                .await
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
        }
        Ok((stored, new))
    }

    /// The active account `a` and how the platform adapter reaches it (its
    /// decrypted token). [`Stop::Setup`] says, for people, why it cannot.
    pub(crate) async fn connect(
        &self,
        t: TenantId,
        a: AdAccountId,
    ) -> Result<(AdAccount, PlatformAccount), Stop> {
        let account = self
            .accounts
            .find(t, a)
            .await?
            .ok_or_else(|| Stop::Setup("the ad account was deleted".to_owned()))?;
        if account.status != AdAccountStatus::Active {
            return Err(Stop::Setup(format!(
                "the ad account is {}",
                account.status.as_str()
            )));
        }
        let sealed = self
            .connections
            .sealed_token(t, a)
            .await?
            .ok_or_else(|| Stop::Setup("the ad account has no access token".to_owned()))?;
        let token = self.secrets.open(&sealed).map_err(|_| {
            Stop::Setup(
                "the stored access token cannot be decrypted (was APP_ENCRYPTION_KEY changed?)"
                    .to_owned(),
            )
        })?;
        let acct = PlatformAccount {
            external_id: account.external_id.clone(),
            token,
            currency: account.currency,
            result_action: domain::actions::ResultAction::default(),
        };
        Ok((account, acct))
    }

    /// The token is dead: stop scheduling the account and leave an alert
    /// record (the audit entry `ad_account.needs_reauth`).
    pub(crate) async fn needs_reauth(&self, t: TenantId, id: AdAccountId) {
        let patch = AdAccountPatch {
            status: Some(AdAccountStatus::NeedsReauth),
            ..AdAccountPatch::default()
        };
        if let Err(e) = self.accounts.update(t, id, &patch, self.clock.now()).await {
            tracing::error!(error = %e, "could not mark the ad account NEEDS_REAUTH");
        }
        self.audit
            .record_system(
                t,
                "ad_account.needs_reauth",
                "ad_account",
                &id.to_string(),
                Some(serde_json::json!({"status": "ACTIVE"})),
                Some(serde_json::json!({"status": "NEEDS_REAUTH", "reason": "platform token expired or revoked"})),
            )
            .await;
    }

    /// Drops the tenant's cached campaign lists and rankings after new data.
    pub(crate) async fn invalidate(&self, t: TenantId) {
        self.cache.invalidate(&cache_groups::campaigns(t)).await;
        self.cache.invalidate(&cache_groups::top_ads(t)).await;
    }
}

// ------------------------------------------------------------------ request

pub struct RequestSync {
    ports: Arc<IngestionPorts>,
}

impl RequestSync {
    #[must_use]
    pub fn new(ports: Arc<IngestionPorts>) -> Self {
        Self { ports }
    }

    /// Queues a manual sync of `from`..`to` (default: the last
    /// `manual_days` days). Answers the run already in flight if there is one.
    ///
    /// # Errors
    /// Forbidden below admin; 404 for a foreign account; 422 for a bad range
    /// or an account without an access token; 503 when the queue is down.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: AdAccountId,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<SyncRun, AppError> {
        require(actor, Permission::Write)?;
        let p = &self.ports;
        let account = p
            .accounts
            .find(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        let range = match (from, to) {
            (None, None) => p.recent(&account, p.settings.manual_days),
            _ => DateRange::parse(from, to)?,
        };
        let today = p.clock.today_in(&account.timezone);
        if range.to() > today {
            return Err(
                ValidationError::new("to", "must not be after today (the account's day)").into(),
            );
        }
        if p.connections
            .sealed_token(actor.tenant_id, id)
            .await?
            .is_none()
        {
            return Err(ValidationError::new(
                "access_token",
                "the ad account has no access token; set one with PATCH /ad-accounts/{id}",
            )
            .into());
        }
        if account.status == AdAccountStatus::NeedsReauth {
            return Err(AppError::conflict(
                "NEEDS_REAUTH",
                "the platform token expired or was revoked; set a new access_token first",
            ));
        }
        Ok(p.enqueue(&account, SyncKind::Manual, range).await?.0)
    }
}

// ------------------------------------------------------------------ schedule

pub struct ScheduleSyncs {
    ports: Arc<IngestionPorts>,
}

impl ScheduleSyncs {
    #[must_use]
    pub fn new(ports: Arc<IngestionPorts>) -> Self {
        Self { ports }
    }

    /// Queues a sync of every active account with a token: `Scheduled`
    /// (today and yesterday) or `Lookback` (the last `lookback_days`).
    /// Returns how many runs were newly queued.
    ///
    /// # Errors
    /// Storage or queue failures.
    pub async fn execute(&self, kind: SyncKind) -> Result<usize, AppError> {
        let p = &self.ports;
        let days = if kind == SyncKind::Lookback {
            p.settings.lookback_days
        } else {
            p.settings.regular_days
        };
        let mut queued = 0;
        for (t, id) in p.connections.schedulable().await? {
            let Some(account) = p.accounts.find(t, id).await? else {
                continue;
            };
            let range = p.recent(&account, days);
            if p.enqueue(&account, kind, range).await?.1 {
                queued += 1;
            }
        }
        Ok(queued)
    }
}

/// Re-pushes runs a dead process left queued or running (the queue
/// delivers at least once; duplicates are harmless). Returns how many.
pub struct RecoverSyncs {
    ports: Arc<IngestionPorts>,
}

impl RecoverSyncs {
    #[must_use]
    pub fn new(ports: Arc<IngestionPorts>) -> Self {
        Self { ports }
    }

    /// # Errors
    /// Storage or queue failures.
    pub async fn execute(&self) -> Result<usize, AppError> {
        let p = &self.ports;
        let runs = p.runs.unfinished(10_000).await?;
        for r in &runs {
            p.queue
                .push(SyncJob {
                    tenant_id: r.tenant_id,
                    sync_run_id: r.id,
                })
                .await
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
        }
        Ok(runs.len())
    }
}

/// Deletes bronze pages past retention. Returns how many.
pub struct PurgeRawPayloads {
    ports: Arc<IngestionPorts>,
}

impl PurgeRawPayloads {
    #[must_use]
    pub fn new(ports: Arc<IngestionPorts>) -> Self {
        Self { ports }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(&self) -> Result<u64, AppError> {
        let p = &self.ports;
        let before = p.clock.now() - time::Duration::days(p.settings.raw_retention_days);
        Ok(p.store.purge_raw(before).await?)
    }
}

// ------------------------------------------------------------------ run

/// Pages through one listing to the end: each page goes to bronze, then to
/// silver through `$upsert`; adds API calls and changed rows to `$out` and
/// evaluates to the summed [`Upserted`]. A macro rather than a generic
/// function over async closures, so the job's future stays provably `Send`.
macro_rules! drain {
    ($p:expr, $run:expr, $out:expr, |$next:ident| $fetch:expr, |$rows:ident, $at:ident| $upsert:expr) => {{
        let mut $next: Option<PageToken> = None;
        let mut total = Upserted::default();
        loop {
            let page = $fetch.await?;
            $out.api_calls += i64::from(page.api_calls);
            $p.store
                .store_raw($run.tenant_id, $run.ad_account_id, $run.id, &page.raw)
                .await?;
            let $rows = &page.items;
            let $at = $p.clock.now();
            let u: Upserted = $upsert.await?;
            total.rows += u.rows;
            total.changed += u.changed;
            $out.rows_changed += u.changed;
            match page.next {
                Some(n) => $next = Some(n),
                None => break total,
            }
        }
    }};
}

/// What the job runner should do with a job after one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Finished (succeeded, failed for good, or nothing to do).
    Done,
    /// Try again later (throttled, platform or database down, account locked).
    Retry(String),
}

/// Why one attempt stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    Platform(PlatformError),
    Repo(RepoError),
    /// A permanent problem of the account's setup, said to people as is.
    Setup(String),
}

impl From<PlatformError> for Stop {
    fn from(e: PlatformError) -> Self {
        Stop::Platform(e)
    }
}

impl From<RepoError> for Stop {
    fn from(e: RepoError) -> Self {
        Stop::Repo(e)
    }
}

impl Stop {
    pub(crate) fn retryable(&self) -> bool {
        match self {
            Stop::Platform(e) => e.is_retryable(),
            Stop::Repo(e) => matches!(e, RepoError::Unavailable(_)),
            Stop::Setup(_) => false,
        }
    }
    /// The reason shown on the run: never a token, a URL or a driver message.
    pub(crate) fn reason(&self) -> String {
        match self {
            Stop::Platform(e) => e.to_string(),
            Stop::Repo(RepoError::Unavailable(_)) => "the database was unavailable".to_owned(),
            Stop::Repo(_) => "storing the data failed".to_owned(),
            Stop::Setup(m) => m.clone(),
        }
    }
}

/// Several [`AfterSync`] hooks, run one after the other.
pub struct AfterSyncAll(pub Vec<Arc<dyn AfterSync>>);

#[async_trait::async_trait]
impl AfterSync for AfterSyncAll {
    async fn synced(&self, t: TenantId, account: AdAccountId) {
        for hook in &self.0 {
            hook.synced(t, account).await;
        }
    }
}

/// Work that follows a successful sync of an ad account, such as evaluating
/// rules on the fresh data. It runs after the run is recorded as finished and
/// handles (logs) its own failures: a sync never fails because of it.
#[async_trait::async_trait]
pub trait AfterSync: Send + Sync {
    /// Called once per successful sync of `account`.
    async fn synced(&self, t: TenantId, account: AdAccountId);
}

pub struct RunSync {
    ports: Arc<IngestionPorts>,
    after: Option<Arc<dyn AfterSync>>,
}

impl RunSync {
    #[must_use]
    pub fn new(ports: Arc<IngestionPorts>) -> Self {
        Self { ports, after: None }
    }

    /// Runs `hook` after every successful sync.
    #[must_use]
    pub fn with_after_sync(mut self, hook: Arc<dyn AfterSync>) -> Self {
        self.after = Some(hook);
        self
    }

    /// Executes one delivery of a sync job.
    ///
    /// # Errors
    /// Only storage failures while bookkeeping the run itself; everything
    /// else is recorded on the run and answered as [`JobOutcome`].
    pub async fn execute(&self, job: SyncJob) -> Result<JobOutcome, AppError> {
        let p = &self.ports;
        let t = job.tenant_id;
        let Some(run) = p.runs.start(t, job.sync_run_id, p.clock.now()).await? else {
            return Ok(JobOutcome::Done); // already finished: a duplicate delivery
        };
        let lock_key = format!("sync:{}", run.ad_account_id);
        let lock = match p.locks.acquire(&lock_key, p.settings.lock_ttl).await {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                p.runs
                    .requeue(t, run.id, "another sync of this account is running")
                    .await?;
                return Ok(JobOutcome::Retry("account locked".to_owned()));
            }
            Err(e) => {
                p.runs
                    .requeue(t, run.id, "the lock store was unavailable")
                    .await?;
                return Ok(JobOutcome::Retry(e.to_string()));
            }
        };
        let mut outcome = SyncOutcome::default();
        let result = self.fetch_and_store(&run, &mut outcome).await;
        p.locks.release(&lock_key, &lock).await;
        let now = p.clock.now();
        match result {
            Ok(()) => {
                p.runs.finish(t, run.id, &outcome, now).await?;
                if let Some(after) = &self.after {
                    after.synced(t, run.ad_account_id).await;
                }
                Ok(JobOutcome::Done)
            }
            Err(stop) if stop.retryable() && run.attempts < p.settings.max_attempts => {
                let reason = stop.reason();
                tracing::warn!(sync_run_id = %run.id, attempt = run.attempts, %reason, "sync attempt failed; will retry");
                p.runs
                    .requeue(
                        t,
                        run.id,
                        &format!("attempt {} failed: {reason}", run.attempts),
                    )
                    .await?;
                Ok(JobOutcome::Retry(reason))
            }
            Err(stop) => {
                let expired = matches!(stop, Stop::Platform(PlatformError::AuthExpired));
                if expired {
                    self.ports.needs_reauth(t, run.ad_account_id).await;
                }
                let reason = stop.reason();
                tracing::warn!(sync_run_id = %run.id, %reason, "sync failed");
                let alert = self.failure_alert(&run, &reason, expired, now).await;
                outcome.error = Some(reason);
                p.runs
                    .finish_with_alerts(t, run.id, &outcome, now, &[alert])
                    .await?;
                Ok(JobOutcome::Done)
            }
        }
    }

    /// The alert a failed run sends: the token expired (people must
    /// reconnect the account) or, for any other reason, the sync failed.
    async fn failure_alert(
        &self,
        run: &SyncRun,
        reason: &str,
        token_expired: bool,
        now: time::OffsetDateTime,
    ) -> Alert {
        let p = &self.ports;
        let name = match p.accounts.find(run.tenant_id, run.ad_account_id).await {
            Ok(Some(a)) => a.name,
            _ => run.ad_account_id.to_string(),
        };
        if token_expired {
            Alert::token_expired(run.tenant_id, run.ad_account_id, &name, now)
        } else {
            Alert::sync_failed(run, &name, reason, now)
        }
    }

    async fn fetch_and_store(&self, run: &SyncRun, out: &mut SyncOutcome) -> Result<(), Stop> {
        let p = &self.ports;
        let (t, a) = (run.tenant_id, run.ad_account_id);
        let (_, acct) = p.connect(t, a).await?;
        let plat = &p.platform;
        let store = &p.store;
        let range = run.range;

        let u = drain!(p, run, out, |n| plat.campaigns(&acct, n), |rows, at| store
            .upsert_campaigns(t, a, rows, at));
        out.counts.campaigns = u.rows;
        let u = drain!(p, run, out, |n| plat.ad_sets(&acct, n), |rows, at| store
            .upsert_ad_sets(t, a, rows, at));
        out.counts.ad_sets = u.rows;
        let u = drain!(p, run, out, |n| plat.ads(&acct, n), |rows, at| store
            .upsert_ads(t, a, rows, at));
        out.counts.ads = u.rows;
        let u = drain!(
            p,
            run,
            out,
            |n| plat.insights(&acct, range, n),
            |rows, at| store.upsert_ad_insights(t, a, rows, at)
        );
        out.counts.insights = u.rows;
        super::gold::refresh(store.as_ref(), t, a, range, p.clock.now()).await?;
        p.invalidate(t).await;
        Ok(())
    }
}

// ------------------------------------------------------------------ read

pub struct ListSyncRuns {
    runs: Arc<dyn SyncRunRepository>,
}

impl ListSyncRuns {
    #[must_use]
    pub fn new(runs: Arc<dyn SyncRunRepository>) -> Self {
        Self { runs }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        ad_account_id: Option<AdAccountId>,
        page: PageRequest,
    ) -> Result<Page<SyncRun>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.runs.list(actor.tenant_id, ad_account_id, page).await?)
    }
}

pub struct GetSyncRun {
    runs: Arc<dyn SyncRunRepository>,
}

impl GetSyncRun {
    #[must_use]
    pub fn new(runs: Arc<dyn SyncRunRepository>) -> Self {
        Self { runs }
    }

    /// # Errors
    /// 404 for a missing or foreign id.
    pub async fn execute(&self, actor: &Actor, id: SyncRunId) -> Result<SyncRun, AppError> {
        require(actor, Permission::Read)?;
        self.runs
            .find(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::SyncRun))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ads::{AdPlatform, Currency, MockAdAccountRepository};
    use domain::audit::MockAuditLogRepository;
    use domain::identity::{Principal, Role};
    use domain::ingestion::{
        MockAdAccountConnections, MockAdsPlatform, MockIngestionStore, MockLocks, MockSecretBox,
        MockSyncQueue, MockSyncRunRepository,
    };
    use domain::platform::{MockCache, MockClock};
    use domain::{AdAccountId, UserId};
    use time::macros::{date, datetime};

    fn clock() -> Arc<MockClock> {
        let mut c = MockClock::new();
        c.expect_now().returning(|| datetime!(2026-11-23 12:00 UTC));
        c.expect_today_in().returning(|_| date!(2026 - 11 - 23));
        Arc::new(c)
    }

    fn account(t: TenantId) -> AdAccount {
        AdAccount {
            id: AdAccountId::generate(),
            tenant_id: t,
            platform: AdPlatform::Meta,
            external_id: "123".to_owned(),
            name: "Main".to_owned(),
            currency: Currency::parse("BRL").unwrap(),
            timezone: "America/Sao_Paulo".to_owned(),
            status: AdAccountStatus::Active,
            created_at: datetime!(2026-01-01 0:00 UTC),
            updated_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    /// Ports around `runs` and `queue`; everything else answers an active account with a token.
    fn ports(
        a: &AdAccount,
        runs: MockSyncRunRepository,
        queue: MockSyncQueue,
    ) -> Arc<IngestionPorts> {
        let mut accounts = MockAdAccountRepository::new();
        let found = a.clone();
        accounts
            .expect_find()
            .returning(move |_, _| Ok(Some(found.clone())));
        let mut connections = MockAdAccountConnections::new();
        connections
            .expect_sealed_token()
            .returning(|_, _| Ok(Some(vec![1])));
        let mut audit = MockAuditLogRepository::new();
        audit.expect_append().returning(|_| Ok(()));
        Arc::new(IngestionPorts {
            accounts: Arc::new(accounts),
            connections: Arc::new(connections),
            secrets: Arc::new(MockSecretBox::new()),
            platform: Arc::new(MockAdsPlatform::new()),
            store: Arc::new(MockIngestionStore::new()),
            runs: Arc::new(runs),
            queue: Arc::new(queue),
            locks: Arc::new(MockLocks::new()),
            cache: Arc::new(MockCache::new()),
            clock: clock(),
            audit: Auditor::new(Arc::new(audit), clock()),
            settings: SyncSettings::default(),
        })
    }

    fn admin(t: TenantId) -> Actor {
        Actor {
            tenant_id: t,
            principal: Principal::User(UserId::generate()),
            role: Role::Admin,
        }
    }

    #[tokio::test]
    async fn a_new_request_queues_the_last_28_days_and_pushes_one_job() {
        let t = TenantId::generate();
        let a = account(t);
        let mut runs = MockSyncRunRepository::new();
        runs.expect_enqueue().times(1).returning(|r| Ok(r.clone()));
        let mut queue = MockSyncQueue::new();
        queue.expect_push().times(1).returning(|_| Ok(()));
        let run = RequestSync::new(ports(&a, runs, queue))
            .execute(&admin(t), a.id, None, None)
            .await
            .unwrap();
        assert_eq!(run.kind, SyncKind::Manual);
        assert_eq!(
            (run.range.from(), run.range.to()),
            (date!(2026 - 10 - 27), date!(2026 - 11 - 23))
        );
    }

    #[tokio::test]
    async fn a_request_while_a_run_is_in_flight_answers_it_without_a_second_job() {
        let t = TenantId::generate();
        let a = account(t);
        let mut runs = MockSyncRunRepository::new();
        let in_flight = Arc::new(std::sync::Mutex::new(None::<SyncRun>));
        let keep = in_flight.clone();
        runs.expect_enqueue().returning(move |r| {
            let mut slot = keep.lock().unwrap();
            Ok(slot.get_or_insert_with(|| r.clone()).clone())
        });
        let mut queue = MockSyncQueue::new();
        queue.expect_push().times(1).returning(|_| Ok(()));
        let uc = RequestSync::new(ports(&a, runs, queue));
        let first = uc.execute(&admin(t), a.id, None, None).await.unwrap();
        let second = uc.execute(&admin(t), a.id, None, None).await.unwrap();
        assert_eq!(first.id, second.id);
    }

    #[tokio::test]
    async fn a_range_ending_after_the_accounts_today_is_refused_and_queues_nothing() {
        let t = TenantId::generate();
        let a = account(t);
        let e = RequestSync::new(ports(
            &a,
            MockSyncRunRepository::new(),
            MockSyncQueue::new(),
        ))
        .execute(&admin(t), a.id, Some("2026-11-20"), Some("2026-11-24"))
        .await
        .unwrap_err();
        assert!(matches!(e, AppError::Validation(v) if v.fields.contains_key("to")));
    }

    #[tokio::test]
    async fn analysts_cannot_request_a_sync() {
        let t = TenantId::generate();
        let a = account(t);
        let mut actor = admin(t);
        actor.role = Role::Analyst;
        let e = RequestSync::new(ports(
            &a,
            MockSyncRunRepository::new(),
            MockSyncQueue::new(),
        ))
        .execute(&actor, a.id, None, None)
        .await
        .unwrap_err();
        assert_eq!(e, AppError::Forbidden);
    }
}
