//! Report schedules: admins set up an ad account's (or the organization's)
//! daily, weekly or monthly (executive) report; the report job queues it
//! when the local hour comes (in the account's time zone, or the
//! organization's) and tells the notification channels when it is ready.

use std::sync::Arc;

use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use domain::report_jobs::{ReportSchedule, ReportScheduleRepository};
use domain::reports::ReportKind;
use domain::{AdAccountId, ReportScheduleId};

use super::BuildReport;
use crate::error::require;
use crate::{AppError, Resource};

/// `POST /report-schedules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleInput {
    /// The ad account; without it, the organization's accounts.
    pub ad_account_id: Option<AdAccountId>,
    /// Organization schedules only: the currency whose accounts are summed.
    pub currency: Option<String>,
    /// `daily`, `weekly` (Mondays) or `executive` (the 1st, last month).
    pub kind: String,
    pub format: String,
    /// `point` (default) or `comma`.
    pub decimal_separator: Option<String>,
    /// Local hour 0–23 in the ad account's time zone (the organization's
    /// for an organization report); 8 when absent.
    pub hour: Option<i64>,
}

/// Sets up a schedule (admins and up).
pub struct CreateReportSchedule {
    schedules: Arc<dyn ReportScheduleRepository>,
    build: Arc<BuildReport>,
    clock: Arc<dyn Clock>,
}

impl CreateReportSchedule {
    #[must_use]
    pub fn new(
        schedules: Arc<dyn ReportScheduleRepository>,
        build: Arc<BuildReport>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            schedules,
            build,
            clock,
        }
    }

    /// # Errors
    /// 403 below admin; 422 for every bad field at once (and the scope's
    /// problems, as for a report); 404 for an ad account missing or another
    /// tenant's.
    pub async fn execute(
        &self,
        actor: &Actor,
        input: ScheduleInput,
    ) -> Result<ReportSchedule, AppError> {
        require(actor, Permission::Write)?;
        let mut errors = ValidationError::default();
        let scope = super::scope(input.ad_account_id, input.currency.as_deref(), &mut errors);
        let kind = super::named::<ReportKind>("kind", &input.kind, &mut errors);
        let (format, separator) = super::file_options(
            &input.format,
            input.decimal_separator.as_deref(),
            &mut errors,
        );
        let hour = match input.hour {
            None => None,
            Some(h) => match u8::try_from(h) {
                Ok(h) if h <= 23 => Some(h),
                _ => {
                    errors.add("hour", "must be between 0 and 23");
                    None
                }
            },
        };
        let (Some(scope), Some(kind), Some(format), Some(separator)) =
            (scope, kind, format, separator)
        else {
            return Err(errors.into());
        };
        errors.into_result()?;
        let t = actor.tenant_id;
        self.build.covered(t, scope).await?;
        let schedule = ReportSchedule::new(
            t,
            scope,
            kind,
            format,
            separator,
            hour,
            actor.label(),
            self.clock.now(),
        )?;
        self.schedules.create(&schedule).await?;
        Ok(schedule)
    }
}

/// The tenant's schedules, newest first; one schedule; deleting one.
pub struct ReportSchedules {
    schedules: Arc<dyn ReportScheduleRepository>,
}

impl ReportSchedules {
    #[must_use]
    pub fn new(schedules: Arc<dyn ReportScheduleRepository>) -> Self {
        Self { schedules }
    }

    /// # Errors
    /// Storage failures.
    pub async fn list(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<ReportSchedule>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.schedules.list(actor.tenant_id, page).await?)
    }

    /// # Errors
    /// 404 for a schedule missing or another tenant's.
    pub async fn get(
        &self,
        actor: &Actor,
        id: ReportScheduleId,
    ) -> Result<ReportSchedule, AppError> {
        require(actor, Permission::Read)?;
        self.schedules
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::ReportSchedule))
    }

    /// Deletes it (admins and up); the reports it queued stay.
    ///
    /// # Errors
    /// 403 below admin; 404 for a schedule missing or another tenant's.
    pub async fn delete(&self, actor: &Actor, id: ReportScheduleId) -> Result<(), AppError> {
        require(actor, Permission::Write)?;
        if self.schedules.delete(actor.tenant_id, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(Resource::ReportSchedule))
        }
    }
}
