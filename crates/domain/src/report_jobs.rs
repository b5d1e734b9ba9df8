//! Requested reports: each is a job (queued, then rendered once by a worker)
//! and, when done, a tenant-owned file kept for a retention period.
//!
//! Owns a report's states and the storage port; what a report says is
//! [`crate::reports`], building and rendering it is the application's and
//! the renderer's.

use async_trait::async_trait;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Weekday};

use crate::ads::{Currency, DateRange};
use crate::error::{RepoError, ValidationError};
use crate::ids::{AdAccountId, ReportId, ReportScheduleId, TenantId};
use crate::notify::Alert;
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

/// What a report (or a schedule's reports) covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportScope {
    /// One ad account, in its currency; its days end in its time zone.
    AdAccount(AdAccountId),
    /// The organization's ad accounts summed: those reporting in
    /// `currency`, or all of them when they share one (`None`). Amounts in
    /// different currencies are never added up.
    Organization { currency: Option<Currency> },
}

impl ReportScope {
    /// The ad account, for an account's report.
    #[must_use]
    pub const fn ad_account_id(&self) -> Option<AdAccountId> {
        match self {
            Self::AdAccount(id) => Some(*id),
            Self::Organization { .. } => None,
        }
    }

    /// The currency asked for, for an organization's report.
    #[must_use]
    pub const fn currency(&self) -> Option<Currency> {
        match self {
            Self::AdAccount(_) => None,
            Self::Organization { currency } => *currency,
        }
    }

    /// `ad_account` or `organization`, as sent.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::AdAccount(_) => "ad_account",
            Self::Organization { .. } => "organization",
        }
    }

    /// The scope stored as its two nullable columns.
    #[must_use]
    pub const fn from_columns(
        ad_account_id: Option<AdAccountId>,
        currency: Option<Currency>,
    ) -> Self {
        match ad_account_id {
            Some(id) => Self::AdAccount(id),
            None => Self::Organization { currency },
        }
    }
}

/// One report as requested, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: ReportId,
    pub tenant_id: TenantId,
    pub scope: ReportScope,
    pub kind: ReportKind,
    /// The days asked for; `None` until resolved to the kind's default (in
    /// the accounts' time zones) when the report is built.
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
    /// The schedule that queued it (its channels are told when it is done).
    pub schedule_id: Option<ReportScheduleId>,
}

impl Report {
    /// A new queued request.
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub fn queued(
        tenant_id: TenantId,
        scope: ReportScope,
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
            scope,
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
            schedule_id: None,
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

    /// Records an attempt's outcome, with `alert` (a scheduled report is
    /// ready) enqueued in the same transaction.
    async fn finish(
        &self,
        t: TenantId,
        id: ReportId,
        outcome: &ReportOutcome,
        at: OffsetDateTime,
        alert: Option<Alert>,
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

/// A standing order: the report of an ad account (or of the organization),
/// queued when its local time comes (the account's time zone, or the
/// organization's), every day (`daily`), every Monday (`weekly`) or on the
/// 1st of each month (`executive`, for the month before), and announced to
/// the tenant's notification channels when done (`report.ready`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSchedule {
    pub id: ReportScheduleId,
    pub tenant_id: TenantId,
    pub scope: ReportScope,
    pub kind: ReportKind,
    pub format: ReportFormat,
    pub decimal_separator: DecimalSeparator,
    /// Local hour (in the ad account's time zone, or the organization's for
    /// an organization report) from which it is due; 8 unless asked
    /// otherwise.
    pub hour: u8,
    pub enabled: bool,
    /// The local day it last queued a report.
    pub last_run_on: Option<Date>,
    /// Who set it up (`user:…`).
    pub created_by: String,
    pub created_at: OffsetDateTime,
}

/// The local hour a schedule runs from when none is given.
pub const DEFAULT_SCHEDULE_HOUR: u8 = 8;

impl ReportSchedule {
    /// # Errors
    /// An hour outside 0–23.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tenant_id: TenantId,
        scope: ReportScope,
        kind: ReportKind,
        format: ReportFormat,
        decimal_separator: DecimalSeparator,
        hour: Option<u8>,
        created_by: String,
        now: OffsetDateTime,
    ) -> Result<Self, ValidationError> {
        let hour = hour.unwrap_or(DEFAULT_SCHEDULE_HOUR);
        if hour > 23 {
            return Err(ValidationError::new("hour", "must be between 0 and 23"));
        }
        Ok(Self {
            id: ReportScheduleId::generate(),
            tenant_id,
            scope,
            kind,
            format,
            decimal_separator,
            hour,
            enabled: true,
            last_run_on: None,
            created_by,
            created_at: now,
        })
    }

    /// The local day it is due on, given the local time now in its zone: the schedule's day (any day, Monday, the 1st), at or
    /// after its hour, and not yet run that day. `None` otherwise (also
    /// when disabled). A day missed entirely (the worker was down) is not
    /// caught up: the next due day queues the next report.
    #[must_use]
    pub fn due_on(&self, local_now: PrimitiveDateTime) -> Option<Date> {
        let today = local_now.date();
        let its_day = match self.kind {
            ReportKind::Daily => true,
            ReportKind::Weekly => today.weekday() == Weekday::Monday,
            ReportKind::Executive => today.day() == 1,
        };
        let fresh = self.last_run_on.is_none_or(|last| last < today);
        (self.enabled && its_day && fresh && local_now.hour() >= self.hour).then_some(today)
    }

    /// The report it queues now.
    #[must_use]
    pub fn report(&self, now: OffsetDateTime) -> Report {
        let mut r = Report::queued(
            self.tenant_id,
            self.scope,
            self.kind,
            None,
            self.format,
            self.decimal_separator,
            format!("schedule:{}", self.id),
            now,
        );
        r.schedule_id = Some(self.id);
        r
    }
}

/// Storage of report schedules; every read but [`Self::enabled`] is scoped
/// by tenant.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ReportScheduleRepository: Send + Sync {
    async fn create(&self, s: &ReportSchedule) -> Result<(), RepoError>;
    async fn get(
        &self,
        t: TenantId,
        id: ReportScheduleId,
    ) -> Result<Option<ReportSchedule>, RepoError>;
    async fn list(&self, t: TenantId, page: PageRequest)
    -> Result<Page<ReportSchedule>, RepoError>;
    /// Deletes it; its past reports stay. `false` when missing.
    async fn delete(&self, t: TenantId, id: ReportScheduleId) -> Result<bool, RepoError>;
    /// Every enabled schedule (across tenants) with the IANA time zone its
    /// hour is read in (its ad account's, or its organization's), for the
    /// scheduler.
    async fn enabled(&self) -> Result<Vec<(ReportSchedule, String)>, RepoError>;
    /// Marks the schedule run on `day` and stores `report`, in one
    /// transaction, unless it already ran that day (another worker won):
    /// then nothing is written and `false` comes back.
    async fn queue(
        &self,
        schedule: &ReportSchedule,
        day: Date,
        report: &Report,
    ) -> Result<bool, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn schedule(kind: ReportKind) -> ReportSchedule {
        ReportSchedule::new(
            TenantId::generate(),
            ReportScope::AdAccount(AdAccountId::generate()),
            kind,
            ReportFormat::Pdf,
            DecimalSeparator::Point,
            None,
            "user:x".to_owned(),
            datetime!(2026-11-01 0:00 UTC),
        )
        .unwrap()
    }

    #[test]
    fn a_daily_schedule_is_due_once_a_day_from_its_hour() {
        let mut s = schedule(ReportKind::Daily);
        assert_eq!(s.due_on(datetime!(2026-11-24 7:59)), None, "before 08:00");
        assert_eq!(
            s.due_on(datetime!(2026-11-24 8:00)),
            Some(date!(2026 - 11 - 24))
        );
        s.last_run_on = Some(date!(2026 - 11 - 24));
        assert_eq!(s.due_on(datetime!(2026-11-24 23:00)), None, "once a day");
        assert_eq!(
            s.due_on(datetime!(2026-11-25 9:30)),
            Some(date!(2026 - 11 - 25))
        );
        s.enabled = false;
        assert_eq!(s.due_on(datetime!(2026-11-26 9:30)), None);
    }

    #[test]
    fn weekly_runs_on_mondays_and_executive_on_the_first() {
        let weekly = schedule(ReportKind::Weekly);
        // Nov 23, 2026 is a Monday.
        assert!(weekly.due_on(datetime!(2026-11-23 8:00)).is_some());
        assert!(weekly.due_on(datetime!(2026-11-24 8:00)).is_none());
        let monthly = schedule(ReportKind::Executive);
        assert!(monthly.due_on(datetime!(2026-12-01 8:00)).is_some());
        assert!(monthly.due_on(datetime!(2026-12-02 8:00)).is_none());
        let late = ReportSchedule::new(
            TenantId::generate(),
            ReportScope::AdAccount(AdAccountId::generate()),
            ReportKind::Daily,
            ReportFormat::Csv,
            DecimalSeparator::Comma,
            Some(24),
            String::new(),
            datetime!(2026-11-01 0:00 UTC),
        );
        assert!(late.unwrap_err().fields.contains_key("hour"));
    }

    #[test]
    fn the_queued_report_names_its_schedule() {
        let s = schedule(ReportKind::Weekly);
        let r = s.report(datetime!(2026-11-23 11:00 UTC));
        assert_eq!(r.schedule_id, Some(s.id));
        assert_eq!(
            r.period, None,
            "the kind's default period, resolved when built"
        );
        assert_eq!(r.requested_by, format!("schedule:{}", s.id));
    }
}
