//! Reports as jobs: a request is stored `QUEUED` and answered at once; the
//! report job ([`RunReports`]) builds, renders and stores the file, which
//! any member downloads until it expires.

use std::sync::Arc;

use domain::ReportId;
use domain::ads::DateRange;
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::notify::Alert;
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use domain::report_jobs::{
    Report, ReportOutcome, ReportRepository, ReportScheduleRepository, ReportStatus,
};
use domain::reports::{RenderOptions, ReportFormat, ReportKind, ReportRenderer};
use time::Duration;
use tracing::{info, instrument, warn};

use super::{BuildReport, BuiltReport, ReportInput};
use crate::error::require;
use crate::{AppError, Resource};

/// Retention, retries and lease of the report job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportJobSettings {
    /// Where people reach this API (`PUBLIC_BASE_URL`): download links in
    /// `report.ready` alerts start with it.
    pub public_base_url: String,
    /// How long a rendered file is kept.
    pub retention: Duration,
    /// Tries before a report failing on storage errors is given up.
    pub max_attempts: i32,
    /// How long a worker holds a report it took (then another may take it).
    pub lease: Duration,
    /// Reports taken per round.
    pub batch: u32,
}

impl Default for ReportJobSettings {
    fn default() -> Self {
        Self {
            public_base_url: "http://127.0.0.1:8080".to_owned(),
            retention: Duration::days(30),
            max_attempts: 3,
            lease: Duration::minutes(5),
            batch: 4,
        }
    }
}

/// `POST /reports`: the report and how its file is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestReportInput {
    pub report: ReportInput,
    /// `csv`, `xlsx` or `pdf`.
    pub format: String,
    /// `point` (default) or `comma` (pt-BR: `1234,56`, CSV fields split by `;`).
    pub decimal_separator: Option<String>,
}

/// Queues a report of the tenant's ad account, or of its organization.
pub struct RequestReport {
    reports: Arc<dyn ReportRepository>,
    build: Arc<BuildReport>,
    clock: Arc<dyn Clock>,
}

impl RequestReport {
    #[must_use]
    pub fn new(
        reports: Arc<dyn ReportRepository>,
        build: Arc<BuildReport>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            reports,
            build,
            clock,
        }
    }

    /// # Errors
    /// 422 for every bad field at once (and a period not over yet, an
    /// organization without accounts or with several currencies and none
    /// chosen); 404 for an ad account missing or another tenant's; storage
    /// failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        input: RequestReportInput,
    ) -> Result<Report, AppError> {
        require(actor, Permission::Read)?;
        let mut errors = ValidationError::default();
        let (format, separator) = super::file_options(
            &input.format,
            input.decimal_separator.as_deref(),
            &mut errors,
        );
        let req = input.report.parse().map_err(|e| errors.merge(e)).ok();
        let (Some(req), Some(format), Some(separator)) = (req, format, separator) else {
            return Err(errors.into());
        };
        let t = actor.tenant_id;
        let covered = self.build.covered(t, req.scope).await?;
        if let Some(p) = req.period {
            covered.check_period(p)?;
        }
        let report = Report::queued(
            t,
            req.scope,
            req.kind,
            req.period,
            format,
            separator,
            actor.label(),
            self.clock.now(),
        );
        self.reports.create(&report).await?;
        Ok(report)
    }
}

/// One report, without its file.
pub struct GetReport {
    reports: Arc<dyn ReportRepository>,
}

impl GetReport {
    #[must_use]
    pub fn new(reports: Arc<dyn ReportRepository>) -> Self {
        Self { reports }
    }

    /// # Errors
    /// 404 for a report missing or another tenant's.
    pub async fn execute(&self, actor: &Actor, id: ReportId) -> Result<Report, AppError> {
        require(actor, Permission::Read)?;
        self.reports
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Report))
    }
}

/// The tenant's reports, newest first.
pub struct ListReports {
    reports: Arc<dyn ReportRepository>,
}

impl ListReports {
    #[must_use]
    pub fn new(reports: Arc<dyn ReportRepository>) -> Self {
        Self { reports }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Report>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.reports.list(actor.tenant_id, page).await?)
    }
}

/// A done report's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    pub file_name: String,
    pub content_type: &'static str,
    pub content: Vec<u8>,
}

/// Hands out a done report's file.
pub struct DownloadReport {
    reports: Arc<dyn ReportRepository>,
}

impl DownloadReport {
    #[must_use]
    pub fn new(reports: Arc<dyn ReportRepository>) -> Self {
        Self { reports }
    }

    /// # Errors
    /// 404 for a report missing or another tenant's; 409 `REPORT_NOT_READY`
    /// while queued, `REPORT_FAILED` for a failed one and `REPORT_EXPIRED`
    /// once its file was deleted.
    pub async fn execute(&self, actor: &Actor, id: ReportId) -> Result<ReportFile, AppError> {
        require(actor, Permission::Read)?;
        let t = actor.tenant_id;
        let report = self
            .reports
            .get(t, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Report))?;
        let not = |code, message: &str| Err(AppError::conflict(code, message));
        match report.status {
            ReportStatus::Queued => not("REPORT_NOT_READY", "the report is still being made"),
            ReportStatus::Failed => not("REPORT_FAILED", "the report could not be made"),
            ReportStatus::Expired => not(
                "REPORT_EXPIRED",
                "the report's file was deleted after its retention period; request it again",
            ),
            ReportStatus::Done => {
                let content = self
                    .reports
                    .content(t, id)
                    .await?
                    // Expired between the two reads.
                    .ok_or(AppError::NotFound(Resource::Report))?;
                Ok(ReportFile {
                    file_name: report
                        .file_name
                        .unwrap_or_else(|| format!("report.{}", report.format.extension())),
                    content_type: report.format.content_type(),
                    content,
                })
            }
        }
    }
}

/// What the report job reads and writes.
pub struct ReportJobPorts {
    pub reports: Arc<dyn ReportRepository>,
    pub schedules: Arc<dyn ReportScheduleRepository>,
    pub build: Arc<BuildReport>,
    pub renderer: Arc<dyn ReportRenderer>,
    pub clock: Arc<dyn Clock>,
}

/// The report job: queues the reports whose schedule came due, takes due
/// reports, builds and renders each, stores the file (telling the
/// channels when a schedule asked for it) or the reason it failed; and
/// deletes files past their retention.
pub struct RunReports {
    reports: Arc<dyn ReportRepository>,
    schedules: Arc<dyn ReportScheduleRepository>,
    build: Arc<BuildReport>,
    renderer: Arc<dyn ReportRenderer>,
    clock: Arc<dyn Clock>,
    settings: ReportJobSettings,
    /// When the schedules were last walked: at most once a minute, however
    /// often rounds run.
    schedules_checked: std::sync::Mutex<Option<time::OffsetDateTime>>,
}

/// How often the schedules are walked, at most.
const SCHEDULE_CHECK_EVERY: Duration = Duration::MINUTE;

impl RunReports {
    #[must_use]
    pub fn new(p: ReportJobPorts, settings: ReportJobSettings) -> Self {
        Self {
            reports: p.reports,
            schedules: p.schedules,
            build: p.build,
            renderer: p.renderer,
            clock: p.clock,
            settings,
            schedules_checked: std::sync::Mutex::new(None),
        }
    }

    /// One round; returns how many reports it took.
    ///
    /// # Errors
    /// The queue could not be read (the round is retried by the caller).
    #[instrument(skip_all)]
    pub async fn run_once(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let expired = self.reports.expire(now).await?;
        if expired > 0 {
            info!(expired, "report files past their retention deleted");
        }
        let queued = self.queue_scheduled(now).await?;
        if queued > 0 {
            info!(queued, "scheduled reports queued");
        }
        let due = self
            .reports
            .take_due(now, now + self.settings.lease, self.settings.batch)
            .await?;
        let taken = due.len();
        for report in due {
            let (outcome, alert) =
                match crate::jobs::given_up(report.attempts, self.settings.max_attempts) {
                    Some(why) => (ReportOutcome::Failed(why), None),
                    None => self.attempt(&report).await,
                };
            let at = self.clock.now();
            if let ReportOutcome::Failed(why) | ReportOutcome::RetryAt { error: why, .. } = &outcome
            {
                warn!(report_id = %report.id, tenant_id = %report.tenant_id, error = %why, "report not made");
            }
            self.reports
                .finish(report.tenant_id, report.id, &outcome, at, alert)
                .await?;
        }
        Ok(taken)
    }

    /// Queues a report for every enabled schedule whose local time came
    /// (once per schedule and local day, whichever worker gets there); walks
    /// the schedules at most once a minute.
    async fn queue_scheduled(&self, now: time::OffsetDateTime) -> Result<usize, AppError> {
        {
            let mut last = self
                .schedules_checked
                .lock()
                .map_err(|_| AppError::Internal("schedule clock poisoned".to_owned()))?;
            if last.is_some_and(|at| now - at < SCHEDULE_CHECK_EVERY) {
                return Ok(0);
            }
            *last = Some(now);
        }
        let mut queued = 0;
        for (schedule, zone) in self.schedules.enabled().await? {
            let Some(day) = schedule.due_on(self.clock.local_now_in(&zone)) else {
                continue;
            };
            if self
                .schedules
                .queue(&schedule, day, &schedule.report(now))
                .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Builds and renders one report; the alert to send with it when a
    /// schedule queued it and it is done.
    async fn attempt(&self, report: &Report) -> (ReportOutcome, Option<Alert>) {
        let req = super::ReportRequest {
            kind: report.kind,
            scope: report.scope,
            period: report.period,
        };
        let built = match self.build.build(report.tenant_id, req).await {
            Ok(b) => b,
            Err(e) if crate::jobs::permanent(&e) => {
                return (ReportOutcome::Failed(e.to_string()), None);
            }
            Err(e) => return (self.retry_or_fail(report, e.to_string()), None),
        };
        let renderer = self.renderer.clone();
        let (format, options) = (
            report.format,
            RenderOptions {
                decimal_separator: report.decimal_separator,
            },
        );
        let BuiltReport {
            document,
            period,
            name,
        } = built;
        let rendered =
            tokio::task::spawn_blocking(move || renderer.render(&document, format, &options)).await;
        match rendered {
            Ok(Ok(content)) => {
                let now = self.clock.now();
                let file_name = file_name(report.kind, report.format, &name, period);
                let alert = report.schedule_id.map(|_| {
                    let mut done = report.clone();
                    done.file_name = Some(file_name.clone());
                    let url = format!(
                        "{}/api/v1/reports/{}/download",
                        self.settings.public_base_url.trim_end_matches('/'),
                        report.id
                    );
                    Alert::report_ready(&done, &name, period, &url, now)
                });
                (
                    ReportOutcome::Done {
                        file_name,
                        content,
                        period,
                        expires_at: now + self.settings.retention,
                    },
                    alert,
                )
            }
            Ok(Err(e)) => (ReportOutcome::Failed(e.to_string()), None),
            Err(e) => (
                self.retry_or_fail(report, format!("rendering stopped: {e}")),
                None,
            ),
        }
    }

    fn retry_or_fail(&self, report: &Report, error: String) -> ReportOutcome {
        match crate::jobs::retry_at(
            report.attempts,
            self.settings.max_attempts,
            self.clock.now(),
        ) {
            Some(at) => ReportOutcome::RetryAt { at, error },
            None => ReportOutcome::Failed(error),
        }
    }
}

/// `adscale-daily-acme-brasil-2026-11-22.pdf`,
/// `adscale-weekly-all-ad-accounts-brl-2026-11-16_2026-11-22.xlsx`: ASCII
/// letters and digits of what the report covers ([`super::Covered::name`]),
/// the rest as single dashes.
#[must_use]
pub fn file_name(kind: ReportKind, format: ReportFormat, name: &str, period: DateRange) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "account" } else { slug };
    let days = if period.days() == 1 {
        super::iso(period.from())
    } else {
        format!("{}_{}", super::iso(period.from()), super::iso(period.to()))
    };
    format!("adscale-{kind}-{slug}-{days}.{}", format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn file_names_carry_kind_account_and_days_in_plain_ascii() {
        let week = DateRange::new(date!(2026 - 11 - 16), date!(2026 - 11 - 22)).unwrap();
        assert_eq!(
            file_name(
                ReportKind::Weekly,
                ReportFormat::Xlsx,
                "Acme Brasil — São Paulo!",
                week
            ),
            "adscale-weekly-acme-brasil-s-o-paulo-2026-11-16_2026-11-22.xlsx"
        );
        assert_eq!(
            file_name(
                ReportKind::Daily,
                ReportFormat::Pdf,
                "***",
                DateRange::day(date!(2026 - 11 - 22))
            ),
            "adscale-daily-account-2026-11-22.pdf"
        );
    }
}
