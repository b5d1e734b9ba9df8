//! Requested reports: each is a job (queued, then rendered once by a worker)
//! and, when done, a tenant-owned file kept for a retention period.
//!
//! Owns a report's states and the storage port; what a report says is
//! [`crate::reports`], building and rendering it is the application's and
//! the renderer's.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::ads::DateRange;
use crate::error::RepoError;
use crate::ids::{AdAccountId, ReportId, TenantId};
use crate::page::{Page, PageRequest};
use crate::reports::{DecimalSeparator, ReportFormat, ReportKind};
use crate::rules::wire_enum;

wire_enum! {
    /// Where a requested report is.
    ReportStatus, "status" {
        /// Waiting for a worker (or being rendered now).
        Queued => "QUEUED",
        /// Rendered; the file can be downloaded until it expires.
        Done => "DONE",
        /// Could not be built or rendered; `failure` says why.
        Failed => "FAILED",
        /// Done once, and its file deleted after the retention period.
        Expired => "EXPIRED",
    }
}

/// One report as requested, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: ReportId,
    pub tenant_id: TenantId,
    pub ad_account_id: AdAccountId,
    pub kind: ReportKind,
    /// The days asked for; `None` until resolved to the kind's default (in
    /// the account's time zone) when the report is built.
    pub period: Option<DateRange>,
    pub format: ReportFormat,
    pub decimal_separator: DecimalSeparator,
    pub status: ReportStatus,
    /// Who asked (`user:…`, `api_key:…`), for people reading the list.
    pub requested_by: String,
    pub created_at: OffsetDateTime,
    /// When it became `DONE` or `FAILED`.
    pub finished_at: Option<OffsetDateTime>,
    /// The file's name for downloads, once done.
    pub file_name: Option<String>,
    /// The file's size in bytes, once done.
    pub size_bytes: Option<i64>,
    /// When the file is deleted (`DONE` only).
    pub expires_at: Option<OffsetDateTime>,
    /// Why it failed, or the last retryable error while queued.
    pub failure: Option<String>,
    /// Tries so far.
    pub attempts: i32,
}

impl Report {
    /// A new queued request.
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub fn queued(
        tenant_id: TenantId,
        ad_account_id: AdAccountId,
        kind: ReportKind,
        period: Option<DateRange>,
        format: ReportFormat,
        decimal_separator: DecimalSeparator,
        requested_by: String,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: ReportId::generate(),
            tenant_id,
            ad_account_id,
            kind,
            period,
            format,
            decimal_separator,
            status: ReportStatus::Queued,
            requested_by,
            created_at: now,
            finished_at: None,
            file_name: None,
            size_bytes: None,
            expires_at: None,
            failure: None,
            attempts: 0,
        }
    }
}

/// How a worker's attempt at a report ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Rendered: the file, its name, the days it covers and when it expires.
    Done {
        file_name: String,
        content: Vec<u8>,
        period: DateRange,
        expires_at: OffsetDateTime,
    },
    /// Will never work (the account is gone, the period is not over yet).
    Failed(String),
    /// Worth another try at `at` (storage hiccup).
    RetryAt { at: OffsetDateTime, error: String },
}

/// Storage of requested reports and their files; every read is scoped by
/// tenant, so another tenant's id is the same as a missing one.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ReportRepository: Send + Sync {
    /// Stores a queued request.
    async fn create(&self, r: &Report) -> Result<(), RepoError>;

    /// One report, without its file.
    async fn get(&self, t: TenantId, id: ReportId) -> Result<Option<Report>, RepoError>;

    /// The tenant's reports, newest first.
    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Report>, RepoError>;

    /// A `DONE` report's file; `None` otherwise (missing, not done, expired).
    async fn content(&self, t: TenantId, id: ReportId) -> Result<Option<Vec<u8>>, RepoError>;

    /// Queued reports due by `now` (across tenants), each held until
    /// `hold_until` so no other worker takes it meanwhile, attempts counted.
    async fn take_due(
        &self,
        now: OffsetDateTime,
        hold_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Report>, RepoError>;

    /// Records an attempt's outcome.
    async fn finish(
        &self,
        t: TenantId,
        id: ReportId,
        outcome: &ReportOutcome,
        at: OffsetDateTime,
    ) -> Result<(), RepoError>;

    /// Deletes the files of reports whose retention ended by `now`
    /// (they become `EXPIRED`); returns how many.
    async fn expire(&self, now: OffsetDateTime) -> Result<u64, RepoError>;
}

/// `point` or `comma`: how a decimal separator is stored and sent.
#[must_use]
pub const fn separator_name(s: DecimalSeparator) -> &'static str {
    match s {
        DecimalSeparator::Point => "point",
        DecimalSeparator::Comma => "comma",
    }
}

/// The separator named `point` or `comma`.
#[must_use]
pub fn parse_separator(s: &str) -> Option<DecimalSeparator> {
    match s {
        "point" => Some(DecimalSeparator::Point),
        "comma" => Some(DecimalSeparator::Comma),
        _ => None,
    }
}
