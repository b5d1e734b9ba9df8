//! Ingestion: what an ad platform hands us (typed, already converted from its
//! wire format), the sync runs that record each fetch, and the ports that
//! store it in the medallion layers (bronze pages, silver rows, gold KPIs).
//!
//! The platform port is page-by-page: the caller asks for one page, stores it
//! (bronze, then silver) and asks for the next with the returned
//! [`PageToken`], so a sync never holds a whole account in memory and a
//! crash loses at most the page in flight.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::actions::ResultAction;
use crate::ads::{Currency, DateRange, EntityStatus};
use crate::error::{RepoError, ValidationError};
use crate::ids::{AdAccountId, CampaignId, SyncRunId, TenantId};
use crate::kpi::{KpiTotals, Kpis};
use crate::page::{Page, PageRequest};

// ------------------------------------------------------------------ secrets

/// A platform access token in clear text. Never printed: `Debug` and
/// `Display` show a placeholder, so a token cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    #[must_use]
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
    /// The clear text, for the one place that sends it (the platform adapter).
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Seals secrets for storage (authenticated encryption) and opens them again.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SecretBox: Send + Sync {
    /// The sealed form of `plain`, safe to store.
    ///
    /// # Errors
    /// The cipher failed (never for valid input).
    fn seal(&self, plain: &str) -> Result<Vec<u8>, SecretError>;
    /// # Errors
    /// The data was not sealed with this key, or was altered.
    fn open(&self, sealed: &[u8]) -> Result<AccessToken, SecretError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret could not be sealed")]
    Seal,
    #[error("the secret could not be opened (wrong key or altered data)")]
    Open,
}

// ------------------------------------------------------------------ platform

/// Everything an adapter needs to talk to one ad account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAccount {
    /// The platform's account id without the `act_` prefix.
    pub external_id: String,
    pub token: AccessToken,
    pub currency: Currency,
    /// Which action counts as a conversion (and whose value is revenue).
    pub result_action: ResultAction,
}

/// Where the next page of a listing starts (opaque; the adapter's `paging.next`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken(pub String);

/// One response page exactly as received, for bronze.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPage {
    /// The path asked for, e.g. `act_123/insights` (no host, no token).
    pub endpoint: String,
    /// The request parameters, without the access token.
    pub params: serde_json::Value,
    /// The page's JSON text as received, with the access token taken out of
    /// it (not re-encoded: bronze is what the platform sent).
    pub body: String,
    pub fetched_at: OffsetDateTime,
}

/// One page of typed items with the raw page they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedPage<T> {
    pub items: Vec<T>,
    pub raw: RawPage,
    pub next: Option<PageToken>,
    /// HTTP calls this page took (polls and retries included).
    pub api_calls: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformCampaign {
    pub external_id: String,
    pub name: String,
    pub status: EntityStatus,
    pub objective: Option<String>,
    pub daily_budget: Option<Decimal>,
    pub lifetime_budget: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAdSet {
    pub external_id: String,
    pub campaign_external_id: String,
    pub name: String,
    pub status: EntityStatus,
    pub daily_budget: Option<Decimal>,
    pub lifetime_budget: Option<Decimal>,
    pub optimization_goal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAd {
    pub external_id: String,
    pub campaign_external_id: String,
    pub adset_external_id: String,
    pub name: String,
    pub status: EntityStatus,
    pub targeting: serde_json::Value,
    pub creative: serde_json::Value,
}

/// One day of one ad's delivery (insights at ad level, `time_increment=1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformInsight {
    /// The ad account's calendar day.
    pub date: Date,
    pub campaign_external_id: String,
    pub adset_external_id: String,
    pub ad_external_id: String,
    pub totals: KpiTotals,
    /// The `actions` list as received: its JSON text (`[]` when absent),
    /// kept as sent rather than parsed and re-encoded.
    pub actions: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// The token expired or was revoked (Graph code 190): a person must reconnect.
    #[error("the platform token is expired or revoked")]
    AuthExpired,
    /// Throttled for longer than the adapter is willing to wait.
    #[error("rate limited by the platform; retry in {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// The platform kept failing (5xx, transient errors) after retries, or
    /// the circuit breaker is open.
    #[error("the platform is unavailable: {0}")]
    Unavailable(String),
    /// The platform refused the request for good (bad parameter, permission).
    #[error("the platform refused the request (code {code}): {message}")]
    Rejected { code: i64, message: String },
    /// A response did not have the documented shape.
    #[error("unexpected platform response: {0}")]
    Wire(String),
}

impl PlatformError {
    /// Whether trying the whole job again later can help.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable(_))
    }
}

/// An ad platform (Meta first). Listings are paged: pass `None` for the first
/// page, then each page's `next` until it is `None`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AdsPlatform: Send + Sync {
    /// # Errors
    /// See [`PlatformError`].
    async fn campaigns(
        &self,
        account: &PlatformAccount,
        next: Option<PageToken>,
    ) -> Result<FetchedPage<PlatformCampaign>, PlatformError>;
    /// # Errors
    /// See [`PlatformError`].
    async fn ad_sets(
        &self,
        account: &PlatformAccount,
        next: Option<PageToken>,
    ) -> Result<FetchedPage<PlatformAdSet>, PlatformError>;
    /// # Errors
    /// See [`PlatformError`].
    async fn ads(
        &self,
        account: &PlatformAccount,
        next: Option<PageToken>,
    ) -> Result<FetchedPage<PlatformAd>, PlatformError>;
    /// Daily ad-level insights over the range. Large ranges run as an
    /// asynchronous report (the first call waits for it to complete).
    ///
    /// # Errors
    /// See [`PlatformError`].
    async fn insights(
        &self,
        account: &PlatformAccount,
        range: DateRange,
        next: Option<PageToken>,
    ) -> Result<FetchedPage<PlatformInsight>, PlatformError>;
    /// Sets a campaign's, ad set's or ad's status (`ACTIVE` / `PAUSED`).
    ///
    /// # Errors
    /// See [`PlatformError`].
    async fn set_status(
        &self,
        account: &PlatformAccount,
        external_id: &str,
        status: EntityStatus,
    ) -> Result<(), PlatformError>;
    /// Sets a campaign's or ad set's daily budget (major units of the account's currency).
    ///
    /// # Errors
    /// See [`PlatformError`].
    async fn set_daily_budget(
        &self,
        account: &PlatformAccount,
        external_id: &str,
        amount: Decimal,
    ) -> Result<(), PlatformError>;
}

// ------------------------------------------------------------------ sync runs

/// Why a sync run exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncKind {
    Scheduled,
    Manual,
    Lookback,
    Import,
}

/// Where a sync run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

macro_rules! str_enum {
    ($t:ty, $what:literal, $($v:ident => $s:literal),+) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }
            /// # Errors
            /// Not one of the known values.
            pub fn parse(s: &str) -> Result<Self, ValidationError> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s).ok_or_else(|| {
                    ValidationError::new($what, concat!("must be one of ", $($s, " "),+))
                })
            }
        }
    };
}

str_enum!(SyncKind, "kind", Scheduled => "scheduled", Manual => "manual", Lookback => "lookback", Import => "import");
str_enum!(SyncStatus, "status", Queued => "queued", Running => "running", Succeeded => "succeeded", Failed => "failed");

/// Rows written per entity by one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub campaigns: i64,
    pub ad_sets: i64,
    pub ads: i64,
    pub insights: i64,
}

/// One sync of one ad account (API fetch or file import): the job's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: SyncRunId,
    pub tenant_id: TenantId,
    pub ad_account_id: AdAccountId,
    pub kind: SyncKind,
    pub status: SyncStatus,
    /// The days fetched.
    pub range: DateRange,
    pub queued_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub counts: SyncCounts,
    /// Silver rows inserted or changed (0 when a re-run found nothing new;
    /// above 0 in the lookback days means the platform restated them).
    pub rows_changed: i64,
    pub api_calls: i64,
    /// How many times a worker started this run.
    pub attempts: i32,
    /// Why it failed, for people (never a token or a driver message).
    pub error: Option<String>,
}

/// What a finished (or failed) run records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub counts: SyncCounts,
    pub rows_changed: i64,
    pub api_calls: i64,
    pub error: Option<String>,
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SyncRunRepository: Send + Sync {
    /// Queues a run, unless the account already has one queued or running:
    /// then that one is returned and nothing is written (one sync per account).
    ///
    /// # Errors
    /// `MissingReference("ad_account_id")` when the account is not in the tenant.
    async fn enqueue(&self, run: &SyncRun) -> Result<SyncRun, RepoError>;
    /// # Errors
    /// Database failures.
    async fn find(&self, t: TenantId, id: SyncRunId) -> Result<Option<SyncRun>, RepoError>;
    /// Newest first, optionally for one ad account.
    ///
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        ad_account_id: Option<AdAccountId>,
        page: PageRequest,
    ) -> Result<Page<SyncRun>, RepoError>;
    /// Moves a queued (or re-delivered running) run to running and counts the
    /// attempt. `None` when the run is already finished (a duplicate delivery).
    ///
    /// # Errors
    /// Database failures.
    async fn start(
        &self,
        t: TenantId,
        id: SyncRunId,
        at: OffsetDateTime,
    ) -> Result<Option<SyncRun>, RepoError>;
    /// Records the end of a run (`Succeeded` when `outcome.error` is `None`).
    ///
    /// # Errors
    /// Database failures.
    async fn finish(
        &self,
        t: TenantId,
        id: SyncRunId,
        outcome: &SyncOutcome,
        at: OffsetDateTime,
    ) -> Result<(), RepoError>;
    /// [`SyncRunRepository::finish`], writing `alerts` (a failed sync, an
    /// expired token) into the alert outbox in the same transaction, each
    /// fanned out to the tenant's matching notification channels.
    ///
    /// # Errors
    /// Database failures; nothing is written then.
    async fn finish_with_alerts(
        &self,
        t: TenantId,
        id: SyncRunId,
        outcome: &SyncOutcome,
        at: OffsetDateTime,
        alerts: &[crate::notify::Alert],
    ) -> Result<(), RepoError>;
    /// Puts a running run back in the queue after a failed attempt that
    /// will be retried, keeping the reason visible.
    ///
    /// # Errors
    /// Database failures.
    async fn requeue(&self, t: TenantId, id: SyncRunId, error: &str) -> Result<(), RepoError>;
    /// Runs left queued or running (e.g. by a process that died), oldest first,
    /// across tenants: what a worker re-queues when it starts.
    ///
    /// # Errors
    /// Database failures.
    async fn unfinished(&self, limit: u32) -> Result<Vec<SyncRun>, RepoError>;
}

/// The platform connection of ad accounts: sealed tokens and which accounts
/// the scheduler syncs.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AdAccountConnections: Send + Sync {
    /// Stores (or with `None` removes) the sealed token; `false` when the
    /// account is not in the tenant.
    ///
    /// # Errors
    /// Database failures.
    async fn set_sealed_token(
        &self,
        t: TenantId,
        id: AdAccountId,
        sealed: Option<Vec<u8>>,
    ) -> Result<bool, RepoError>;
    /// The sealed token; `None` when the account has none (or is not the tenant's).
    ///
    /// # Errors
    /// Database failures.
    async fn sealed_token(
        &self,
        t: TenantId,
        id: AdAccountId,
    ) -> Result<Option<Vec<u8>>, RepoError>;
    /// The tenant owning an ad account, for operator commands that name
    /// only the account (`adscale import`).
    ///
    /// # Errors
    /// Database failures.
    async fn tenant_of(&self, id: AdAccountId) -> Result<Option<TenantId>, RepoError>;
    /// Active accounts that have a token, across tenants: what the scheduler syncs.
    ///
    /// # Errors
    /// Database failures.
    async fn schedulable(&self) -> Result<Vec<(TenantId, AdAccountId)>, RepoError>;
}

// ------------------------------------------------------------------ jobs

/// A queued sync: which run to execute (the run row holds the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyncJob {
    pub tenant_id: TenantId,
    pub sync_run_id: SyncRunId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job queue unavailable: {0}")]
pub struct QueueError(pub String);

/// The durable queue sync jobs travel on (at-least-once: handlers are idempotent).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SyncQueue: Send + Sync {
    /// # Errors
    /// The queue's store is unreachable.
    async fn push(&self, job: SyncJob) -> Result<(), QueueError>;
}

/// Proof of holding a lock; releasing needs it, so only the holder can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockToken(pub String);

/// Mutual exclusion across workers (one sync per ad account at a time).
/// A lock expires after its `ttl` when its holder dies.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Locks: Send + Sync {
    /// `None` when someone else holds the lock.
    ///
    /// # Errors
    /// The lock store is unreachable.
    async fn acquire(&self, key: &str, ttl: Duration) -> Result<Option<LockToken>, QueueError>;
    /// Releases the lock if `token` still holds it.
    async fn release(&self, key: &str, token: &LockToken);
}

// ------------------------------------------------------------------ medallion store

/// Counts from one silver write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upserted {
    /// Rows in the batch.
    pub rows: i64,
    /// Rows inserted or whose values changed (a re-run writes 0).
    pub changed: i64,
}

/// One campaign's delivery on one day (campaign-level rows of a CSV export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignInsight {
    pub date: Date,
    pub campaign_external_id: String,
    pub totals: KpiTotals,
}

/// One ad set's or ad's silver sums of one day (rules judge them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityDay {
    pub entity_id: uuid::Uuid,
    pub date: Date,
    pub totals: KpiTotals,
}

/// Campaign-level silver sums of one day, as gold reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignDay {
    pub campaign_id: CampaignId,
    pub date: Date,
    pub totals: KpiTotals,
}

/// The two gold tables: `kpi_daily` and `kpi_weekly` (ISO weeks, from Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoldPeriod {
    Day,
    Week,
}

/// Whose KPIs a gold row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoldEntity {
    Account,
    Campaign(CampaignId),
}

/// One gold row: sums and the KPIs computed from them by [`Kpis::from_totals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoldRow {
    pub entity: GoldEntity,
    /// The day, or the Monday of the ISO week.
    pub period_start: Date,
    pub totals: KpiTotals,
    pub kpis: Kpis,
}

/// Writes of one sync into bronze, silver and gold. Every write is scoped by
/// tenant and ad account; platform ids resolve to our ids inside the account.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IngestionStore: Send + Sync {
    /// Bronze: keeps one page as received.
    ///
    /// # Errors
    /// Database failures.
    async fn store_raw(
        &self,
        t: TenantId,
        account: AdAccountId,
        run: SyncRunId,
        page: &RawPage,
    ) -> Result<(), RepoError>;
    /// Silver campaigns, keyed by platform id within the account.
    ///
    /// # Errors
    /// Database failures.
    async fn upsert_campaigns(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[PlatformCampaign],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError>;
    /// Silver ad sets; rows whose campaign is unknown are skipped (not counted).
    ///
    /// # Errors
    /// Database failures.
    async fn upsert_ad_sets(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[PlatformAdSet],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError>;
    /// Silver ads; rows whose ad set is unknown are skipped (not counted).
    ///
    /// # Errors
    /// Database failures.
    async fn upsert_ads(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[PlatformAd],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError>;
    /// Silver daily insights at ad level; a re-fetched day replaces the
    /// stored one. Rows whose ad is unknown are skipped (not counted).
    ///
    /// # Errors
    /// Database failures; nothing of the batch is written then.
    async fn upsert_ad_insights(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[PlatformInsight],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError>;
    /// Silver daily insights at campaign level (campaign-level CSV exports).
    /// Rows whose campaign is unknown are skipped (not counted).
    ///
    /// # Errors
    /// Database failures; nothing of the batch is written then.
    async fn upsert_campaign_insights(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[CampaignInsight],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError>;
    /// Recomputes the campaign-level silver rows of the range from the
    /// ad-level rows (for campaigns that have ad-level rows in it).
    ///
    /// # Errors
    /// Database failures.
    async fn roll_up_campaigns(
        &self,
        t: TenantId,
        account: AdAccountId,
        range: DateRange,
        at: OffsetDateTime,
    ) -> Result<u64, RepoError>;
    /// Campaign-level silver sums per campaign and day over the range.
    ///
    /// # Errors
    /// Database failures.
    async fn campaign_days(
        &self,
        t: TenantId,
        account: AdAccountId,
        range: DateRange,
    ) -> Result<Vec<CampaignDay>, RepoError>;
    /// Silver sums per ad (`InsightLevel::Ad`: the ad rows) or per ad set
    /// (`InsightLevel::AdSet`: its current ads' rows added up) and day over
    /// the range. Any other level has none here.
    ///
    /// # Errors
    /// Database failures.
    async fn entity_days(
        &self,
        t: TenantId,
        account: AdAccountId,
        level: crate::ads::InsightLevel,
        range: DateRange,
    ) -> Result<Vec<EntityDay>, RepoError>;
    /// Gold: writes KPI rows of one period kind; rows whose values did not
    /// change are left alone. Returns how many rows were inserted or changed.
    ///
    /// # Errors
    /// Database failures; nothing of the batch is written then.
    async fn upsert_gold(
        &self,
        t: TenantId,
        account: AdAccountId,
        period: GoldPeriod,
        rows: &[GoldRow],
        at: OffsetDateTime,
    ) -> Result<u64, RepoError>;
    /// Gold rows of one period kind whose period starts in `range`, the
    /// account's row first, then campaigns, each by period.
    ///
    /// # Errors
    /// Database failures.
    async fn gold(
        &self,
        t: TenantId,
        account: AdAccountId,
        period: GoldPeriod,
        range: DateRange,
    ) -> Result<Vec<GoldRow>, RepoError>;
    /// Deletes bronze pages fetched before `before`; returns how many.
    ///
    /// # Errors
    /// Database failures.
    async fn purge_raw(&self, before: OffsetDateTime) -> Result<u64, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_never_prints_its_value() {
        let t = AccessToken::new("EAAB-secret");
        assert_eq!(format!("{t:?}"), "AccessToken(<redacted>)");
        assert_eq!(t.expose(), "EAAB-secret");
    }

    #[test]
    fn sync_enums_round_trip() {
        for k in SyncKind::ALL {
            assert_eq!(SyncKind::parse(k.as_str()), Ok(*k));
        }
        for s in SyncStatus::ALL {
            assert_eq!(SyncStatus::parse(s.as_str()), Ok(*s));
        }
        assert!(SyncStatus::parse("done").is_err());
    }

    #[test]
    fn only_throttling_and_outages_are_retryable() {
        assert!(
            PlatformError::RateLimited {
                retry_after: Duration::from_secs(1)
            }
            .is_retryable()
        );
        assert!(PlatformError::Unavailable("500".into()).is_retryable());
        assert!(!PlatformError::AuthExpired.is_retryable());
        assert!(
            !PlatformError::Rejected {
                code: 100,
                message: "bad".into()
            }
            .is_retryable()
        );
    }
}
