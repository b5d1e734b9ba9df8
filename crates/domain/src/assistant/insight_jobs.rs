//! Insight jobs: generating insights on demand is a job (queued, then run
//! once by a worker) because it asks the model once per ad account, which
//! for an agency takes longer than a request may.
//!
//! Owns a job's states and the storage port; what a document says and how
//! it is written are [`super::insight`]'s and the application's.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::RepoError;
use crate::ads::DateRange;
use crate::ids::{AdAccountId, InsightId, InsightJobId, TenantId};
use crate::rules::wire_enum;

wire_enum! {
    /// Where a requested generation is.
    InsightJobStatus, "status" {
        /// Waiting for a worker (or being generated now).
        Queued => "QUEUED",
        /// Generated; `insight_ids` are the stored documents.
        Done => "DONE",
        /// Could not be generated; `failure` says why.
        Failed => "FAILED",
    }
}

/// One requested generation, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightJob {
    pub id: InsightJobId,
    pub tenant_id: TenantId,
    /// The ISO week asked for; `None`: each account's last whole week,
    /// resolved when the job runs.
    pub week: Option<DateRange>,
    /// The one account asked for; `None`: every account of the tenant.
    pub ad_account_id: Option<AdAccountId>,
    pub status: InsightJobStatus,
    /// Who asked (`user:…`, `api_key:…`).
    pub requested_by: String,
    pub created_at: OffsetDateTime,
    /// When it became `DONE` or `FAILED`.
    pub finished_at: Option<OffsetDateTime>,
    /// The documents stored (`DONE` only), one per account.
    pub insight_ids: Vec<InsightId>,
    /// Why it failed, or the last retryable error while queued.
    pub failure: Option<String>,
    /// Tries so far.
    pub attempts: i32,
}

impl InsightJob {
    /// A new queued request.
    #[must_use]
    pub fn queued(
        tenant_id: TenantId,
        week: Option<DateRange>,
        ad_account_id: Option<AdAccountId>,
        requested_by: String,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: InsightJobId::generate(),
            tenant_id,
            week,
            ad_account_id,
            status: InsightJobStatus::Queued,
            requested_by,
            created_at: now,
            finished_at: None,
            insight_ids: Vec::new(),
            failure: None,
            attempts: 0,
        }
    }
}

/// How a worker's attempt at an insight job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsightJobOutcome {
    /// Generated: the stored documents.
    Done(Vec<InsightId>),
    /// Will never work (the account is gone, no account is left).
    Failed(String),
    /// Worth another try at `at` (storage hiccup).
    RetryAt { at: OffsetDateTime, error: String },
}

/// Storage of insight jobs; every read but [`Self::take_due`] is scoped by
/// tenant, so another tenant's id is the same as a missing one.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait InsightJobRepository: Send + Sync {
    /// Stores a queued request.
    ///
    /// # Errors
    /// Storage failures.
    async fn create(&self, job: &InsightJob) -> Result<(), RepoError>;

    /// The tenant's job `id` (`None` when missing or another tenant's).
    ///
    /// # Errors
    /// Storage failures.
    async fn get(&self, t: TenantId, id: InsightJobId) -> Result<Option<InsightJob>, RepoError>;

    /// Queued jobs due by `now` (across tenants), each held until
    /// `hold_until` so no other worker takes it meanwhile, attempts counted.
    ///
    /// # Errors
    /// Storage failures.
    async fn take_due(
        &self,
        now: OffsetDateTime,
        hold_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<InsightJob>, RepoError>;

    /// Records an attempt's outcome (a job no longer queued is left as is).
    ///
    /// # Errors
    /// Storage failures.
    async fn finish(
        &self,
        t: TenantId,
        id: InsightJobId,
        outcome: &InsightJobOutcome,
        at: OffsetDateTime,
    ) -> Result<(), RepoError>;
}
