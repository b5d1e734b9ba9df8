//! Requested reports on [`Db`]: the queue entry and, once done, the file
//! (`bytea` / `BLOB`) until it expires. Taking due reports holds each with
//! `due_at` pushed forward; PostgreSQL skips rows another worker is taking.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::ads::Currency;
use domain::ads::DateRange;
use domain::notify::{Alert, AlertAttachments, AlertKind, Attachment};
use domain::page::{Page, PageRequest};
use domain::report_jobs::{
    Report, ReportOutcome, ReportRepository, ReportSchedule, ReportScheduleRepository, ReportScope,
    ReportStatus, parse_separator, separator_name,
};
use domain::reports::{ReportFormat, ReportKind};
use domain::{RepoError, ReportId, ReportScheduleId, TenantId};
use std::collections::HashMap;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::Db;
use super::error::DbError;
use super::types::{DbId, db_id};

macro_rules! report_columns {
    () => {
        (
            reports::id,
            reports::tenant_id,
            reports::ad_account_id,
            reports::currency,
            reports::kind,
            reports::period_from,
            reports::period_to,
            reports::format,
            reports::decimal_separator,
            reports::status,
            reports::requested_by,
            reports::created_at,
            reports::finished_at,
            reports::file_name,
            reports::size_bytes,
            reports::expires_at,
            reports::failure,
            reports::attempts,
            reports::schedule_id,
        )
    };
}

macro_rules! schedule_columns {
    () => {
        (
            report_schedules::id,
            report_schedules::tenant_id,
            report_schedules::ad_account_id,
            report_schedules::currency,
            report_schedules::kind,
            report_schedules::format,
            report_schedules::decimal_separator,
            report_schedules::hour,
            report_schedules::enabled,
            report_schedules::last_run_on,
            report_schedules::created_by,
            report_schedules::created_at,
        )
    };
}

#[derive(Debug, Queryable)]
struct ReportRow {
    id: DbId,
    tenant_id: DbId,
    ad_account_id: Option<DbId>,
    currency: Option<String>,
    kind: String,
    period_from: Option<Date>,
    period_to: Option<Date>,
    format: String,
    decimal_separator: String,
    status: String,
    requested_by: String,
    created_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
    file_name: Option<String>,
    size_bytes: Option<i64>,
    expires_at: Option<OffsetDateTime>,
    failure: Option<String>,
    attempts: i32,
    schedule_id: Option<DbId>,
}

#[derive(Debug, Queryable)]
struct ScheduleRow {
    id: DbId,
    tenant_id: DbId,
    ad_account_id: Option<DbId>,
    currency: Option<String>,
    kind: String,
    format: String,
    decimal_separator: String,
    hour: i32,
    enabled: bool,
    last_run_on: Option<Date>,
    created_by: String,
    created_at: OffsetDateTime,
}

impl TryFrom<ScheduleRow> for ReportSchedule {
    type Error = DbError;

    fn try_from(r: ScheduleRow) -> Result<Self, DbError> {
        Ok(ReportSchedule {
            id: ReportScheduleId::from_uuid(r.id.0),
            tenant_id: r.tenant_id.0.into(),
            scope: scope(r.ad_account_id, r.currency.as_deref())?,
            kind: r
                .kind
                .parse::<ReportKind>()
                .map_err(|e| corrupt("kind", e))?,
            format: r
                .format
                .parse::<ReportFormat>()
                .map_err(|e| corrupt("format", e))?,
            decimal_separator: parse_separator(&r.decimal_separator)
                .ok_or_else(|| corrupt("decimal_separator", &r.decimal_separator))?,
            hour: u8::try_from(r.hour).map_err(|e| corrupt("hour", e))?,
            enabled: r.enabled,
            last_run_on: r.last_run_on,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("report {what}: {e}"))
}

/// A report's or schedule's scope from its two columns.
fn scope(ad_account_id: Option<DbId>, currency: Option<&str>) -> Result<ReportScope, DbError> {
    let currency = currency
        .map(Currency::parse)
        .transpose()
        .map_err(|e| corrupt("currency", e))?;
    Ok(ReportScope::from_columns(
        ad_account_id.map(|id| id.0.into()),
        currency,
    ))
}

/// The two columns of a scope.
fn scope_columns(s: ReportScope) -> (Option<DbId>, Option<String>) {
    (
        s.ad_account_id().map(db_id),
        s.currency().map(|c| c.as_str().to_owned()),
    )
}

impl TryFrom<ReportRow> for Report {
    type Error = DbError;

    fn try_from(r: ReportRow) -> Result<Self, DbError> {
        let period = match (r.period_from, r.period_to) {
            (Some(from), Some(to)) => {
                Some(DateRange::new(from, to).map_err(|e| corrupt("period", e))?)
            }
            _ => None,
        };
        Ok(Report {
            id: ReportId::from_uuid(r.id.0),
            tenant_id: r.tenant_id.0.into(),
            scope: scope(r.ad_account_id, r.currency.as_deref())?,
            kind: r
                .kind
                .parse::<ReportKind>()
                .map_err(|e| corrupt("kind", e))?,
            period,
            format: r
                .format
                .parse::<ReportFormat>()
                .map_err(|e| corrupt("format", e))?,
            decimal_separator: parse_separator(&r.decimal_separator)
                .ok_or_else(|| corrupt("decimal_separator", &r.decimal_separator))?,
            status: r
                .status
                .parse::<ReportStatus>()
                .map_err(|e| corrupt("status", e))?,
            requested_by: r.requested_by,
            created_at: r.created_at,
            finished_at: r.finished_at,
            file_name: r.file_name,
            size_bytes: r.size_bytes,
            expires_at: r.expires_at,
            failure: r.failure,
            attempts: r.attempts,
            schedule_id: r.schedule_id.map(|id| ReportScheduleId::from_uuid(id.0)),
        })
    }
}

/// Inserts a queued report (the body of [`ReportRepository::create`] and of
/// a schedule's [`ReportScheduleRepository::queue`]).
macro_rules! insert_report {
    ($c:ident, $r:expr) => {{
        let r = $r;
        let (account, currency) = scope_columns(r.scope);
        diesel::insert_into(reports::table)
            .values((
                reports::tenant_id.eq(db_id(r.tenant_id)),
                reports::id.eq(DbId(r.id.into_uuid())),
                reports::ad_account_id.eq(account),
                reports::currency.eq(currency),
                reports::kind.eq(r.kind.as_str()),
                reports::period_from.eq(r.period.map(|p| p.from())),
                reports::period_to.eq(r.period.map(|p| p.to())),
                reports::format.eq(r.format.as_str()),
                reports::decimal_separator.eq(separator_name(r.decimal_separator)),
                reports::status.eq(r.status.as_str()),
                reports::requested_by.eq(&r.requested_by),
                reports::created_at.eq(r.created_at),
                reports::due_at.eq(Some(r.created_at)),
                reports::attempts.eq(r.attempts),
                reports::schedule_id.eq(r.schedule_id.map(|s| DbId(s.into_uuid()))),
            ))
            .execute($c)
            .await
            .map_err(|e| DbError::from(e).referencing("ad_account_id"))
    }};
}

#[async_trait]
impl ReportRepository for Db {
    async fn create(&self, r: &Report) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            insert_report!(c, r)?;
            Ok(())
        })
    }

    async fn get(&self, t: TenantId, id: ReportId) -> Result<Option<Report>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = reports::table
                .filter(reports::tenant_id.eq(db_id(t)))
                .filter(reports::id.eq(DbId(id.into_uuid())))
                .select(report_columns!())
                .first::<ReportRow>(c)
                .await
                .optional()?;
            row.map(Report::try_from).transpose()
        })
    }

    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Report>, RepoError> {
        let items: Vec<Report> = on_db!(&self.pool, |c| {
            let mut q = reports::table
                .filter(reports::tenant_id.eq(db_id(t)))
                .select(report_columns!())
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(reports::id.lt(DbId(after)));
            }
            let rows = q
                .order(reports::id.desc())
                .limit(page.fetch_limit())
                .load::<ReportRow>(c)
                .await?;
            rows.into_iter().map(Report::try_from).collect()
        })?;
        Ok(page.into_page(items, |r| r.id.into_uuid()))
    }

    async fn content(&self, t: TenantId, id: ReportId) -> Result<Option<Vec<u8>>, RepoError> {
        on_db!(&self.pool, |c| {
            let content = reports::table
                .filter(reports::tenant_id.eq(db_id(t)))
                .filter(reports::id.eq(DbId(id.into_uuid())))
                .filter(reports::status.eq(ReportStatus::Done.as_str()))
                .select(reports::content)
                .first::<Option<Vec<u8>>>(c)
                .await
                .optional()?;
            Ok(content.flatten())
        })
    }

    async fn take_due(
        &self,
        now: OffsetDateTime,
        hold_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Report>, RepoError> {
        on_db!(
            &self.pool,
            pg: |c| take_due!(c, reports, report_columns!(), ReportRow => Report,
                ReportStatus::Queued.as_str(), now, hold_until, limit, .for_update().skip_locked()),
            sqlite: |c| take_due!(c, reports, report_columns!(), ReportRow => Report,
                ReportStatus::Queued.as_str(), now, hold_until, limit,),
        )
    }

    async fn finish(
        &self,
        t: TenantId,
        id: ReportId,
        outcome: &ReportOutcome,
        at: OffsetDateTime,
        alert: Option<Alert>,
    ) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let row = reports::table
                    .filter(reports::tenant_id.eq(db_id(t)))
                    .filter(reports::id.eq(DbId(id.into_uuid())))
                    .filter(reports::status.eq(ReportStatus::Queued.as_str()));
                match outcome {
                    ReportOutcome::Done {
                        file_name,
                        content,
                        period,
                        expires_at,
                    } => {
                        let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
                        diesel::update(row)
                            .set((
                                reports::status.eq(ReportStatus::Done.as_str()),
                                reports::period_from.eq(Some(period.from())),
                                reports::period_to.eq(Some(period.to())),
                                reports::file_name.eq(Some(file_name)),
                                reports::size_bytes.eq(Some(size)),
                                reports::content.eq(Some(content)),
                                reports::expires_at.eq(Some(*expires_at)),
                                reports::finished_at.eq(Some(at)),
                                reports::due_at.eq(None::<OffsetDateTime>),
                                reports::failure.eq(None::<String>),
                            ))
                            .execute(c)
                            .await?;
                    }
                    ReportOutcome::Failed(why) => {
                        let failed = ReportStatus::Failed.as_str();
                        job_setback!(c, reports, row, failed: failed, why, at)?;
                    }
                    ReportOutcome::RetryAt { at: next, error } => {
                        job_setback!(c, reports, row, retry_at: *next, error)?;
                    }
                }
                if let Some(alert) = &alert {
                    super::alerts::enqueue_in_tx(c, alert).await?;
                }
                Ok::<_, DbError>(())
            })
            .await
        })
    }

    async fn expire(&self, now: OffsetDateTime) -> Result<u64, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::update(
                reports::table
                    .filter(reports::status.eq(ReportStatus::Done.as_str()))
                    .filter(reports::expires_at.le(now)),
            )
            .set((
                reports::status.eq(ReportStatus::Expired.as_str()),
                reports::content.eq(None::<Vec<u8>>),
            ))
            .execute(c)
            .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }
}

#[async_trait]
impl ReportScheduleRepository for Db {
    async fn create(&self, s: &ReportSchedule) -> Result<(), RepoError> {
        let (account, currency) = scope_columns(s.scope);
        on_db!(&self.pool, |c| {
            diesel::insert_into(report_schedules::table)
                .values((
                    report_schedules::tenant_id.eq(db_id(s.tenant_id)),
                    report_schedules::id.eq(DbId(s.id.into_uuid())),
                    report_schedules::ad_account_id.eq(&account),
                    report_schedules::currency.eq(&currency),
                    report_schedules::kind.eq(s.kind.as_str()),
                    report_schedules::format.eq(s.format.as_str()),
                    report_schedules::decimal_separator.eq(separator_name(s.decimal_separator)),
                    report_schedules::hour.eq(i32::from(s.hour)),
                    report_schedules::enabled.eq(s.enabled),
                    report_schedules::last_run_on.eq(s.last_run_on),
                    report_schedules::created_by.eq(&s.created_by),
                    report_schedules::created_at.eq(s.created_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("ad_account_id"))?;
            Ok(())
        })
    }

    async fn get(
        &self,
        t: TenantId,
        id: ReportScheduleId,
    ) -> Result<Option<ReportSchedule>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = report_schedules::table
                .filter(report_schedules::tenant_id.eq(db_id(t)))
                .filter(report_schedules::id.eq(DbId(id.into_uuid())))
                .select(schedule_columns!())
                .first::<ScheduleRow>(c)
                .await
                .optional()?;
            row.map(ReportSchedule::try_from).transpose()
        })
    }

    async fn list(
        &self,
        t: TenantId,
        page: PageRequest,
    ) -> Result<Page<ReportSchedule>, RepoError> {
        let items: Vec<ReportSchedule> = on_db!(&self.pool, |c| {
            let mut q = report_schedules::table
                .filter(report_schedules::tenant_id.eq(db_id(t)))
                .select(schedule_columns!())
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(report_schedules::id.lt(DbId(after)));
            }
            let rows = q
                .order(report_schedules::id.desc())
                .limit(page.fetch_limit())
                .load::<ScheduleRow>(c)
                .await?;
            rows.into_iter().map(ReportSchedule::try_from).collect()
        })?;
        Ok(page.into_page(items, |s| s.id.into_uuid()))
    }

    async fn delete(&self, t: TenantId, id: ReportScheduleId) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::delete(
                report_schedules::table
                    .filter(report_schedules::tenant_id.eq(db_id(t)))
                    .filter(report_schedules::id.eq(DbId(id.into_uuid()))),
            )
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }

    async fn enabled(&self) -> Result<Vec<(ReportSchedule, String)>, RepoError> {
        on_db!(&self.pool, |c| {
            let rows = report_schedules::table
                .filter(report_schedules::enabled.eq(true))
                .select(schedule_columns!())
                .load::<ScheduleRow>(c)
                .await?;
            // The accounts' and organizations' time zones in one query each
            // (ids are unique).
            let accounts: Vec<DbId> = rows.iter().filter_map(|r| r.ad_account_id).collect();
            let account_zones: HashMap<Uuid, String> = ad_accounts::table
                .filter(ad_accounts::id.eq_any(accounts))
                .select((ad_accounts::id, ad_accounts::timezone))
                .load::<(DbId, String)>(c)
                .await?
                .into_iter()
                .map(|(id, zone)| (id.0, zone))
                .collect();
            let tenants: Vec<DbId> = rows
                .iter()
                .filter(|r| r.ad_account_id.is_none())
                .map(|r| r.tenant_id)
                .collect();
            let tenant_zones: HashMap<Uuid, String> = organizations::table
                .filter(organizations::id.eq_any(tenants))
                .select((organizations::id, organizations::timezone))
                .load::<(DbId, String)>(c)
                .await?
                .into_iter()
                .map(|(id, zone)| (id.0, zone))
                .collect();
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let zone = match row.ad_account_id {
                    Some(account) => account_zones.get(&account.0),
                    None => tenant_zones.get(&row.tenant_id.0),
                };
                if let Some(zone) = zone.cloned() {
                    out.push((ReportSchedule::try_from(row)?, zone));
                }
            }
            Ok(out)
        })
    }

    async fn queue(
        &self,
        schedule: &ReportSchedule,
        day: Date,
        report: &Report,
    ) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let claimed = diesel::update(
                    report_schedules::table
                        .filter(report_schedules::tenant_id.eq(db_id(schedule.tenant_id)))
                        .filter(report_schedules::id.eq(DbId(schedule.id.into_uuid())))
                        .filter(
                            report_schedules::last_run_on
                                .is_null()
                                .or(report_schedules::last_run_on.lt(day)),
                        ),
                )
                .set(report_schedules::last_run_on.eq(Some(day)))
                .execute(c)
                .await?;
                if claimed == 1 {
                    insert_report!(c, report)?;
                }
                Ok::<_, DbError>(claimed == 1)
            })
            .await
        })
    }
}

#[async_trait]
impl AlertAttachments for Db {
    /// A `report.ready` alert carries its report's file while it is kept;
    /// other alerts carry nothing.
    async fn attachments(&self, alert: &Alert) -> Result<Vec<Attachment>, RepoError> {
        if alert.kind != AlertKind::ReportReady {
            return Ok(Vec::new());
        }
        let Some(id) = alert.data["report_id"]
            .as_str()
            .and_then(|s| s.parse::<ReportId>().ok())
        else {
            return Ok(Vec::new());
        };
        let t = alert.tenant_id;
        let (Some(report), Some(content)) = (
            ReportRepository::get(self, t, id).await?,
            self.content(t, id).await?,
        ) else {
            return Ok(Vec::new());
        };
        Ok(vec![Attachment {
            file_name: report
                .file_name
                .unwrap_or_else(|| format!("report.{}", report.format.extension())),
            content_type: report.format.content_type().to_owned(),
            content,
        }])
    }
}
