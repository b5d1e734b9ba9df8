//! Report DTOs. `POST /reports` takes `{kind, ad_account_id? | currency?,
//! format, decimal_separator?, date? | week? | month? | from?+to?}` (no
//! `ad_account_id`: the organization's accounts); a report is `{id, scope,
//! ad_account_id?, currency?, kind, format, decimal_separator, status,
//! period?: {from, to}, requested_by, created_at, finished_at?, file_name?,
//! size_bytes?, expires_at?, failure?, download_url?}`. A schedule is `{id,
//! scope, ad_account_id?, currency?, kind, format, decimal_separator, hour,
//! enabled, last_run_on?, created_by, created_at}`.

use application::reports::{ReportInput, RequestReportInput, ScheduleInput};
use domain::report_jobs::{Report, ReportSchedule, ReportScope, ReportStatus, separator_name};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{timestamp, timestamp_opt};
use super::suggestions::WindowDto;

/// `POST /reports`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReportRequestDto {
    /// `daily`, `weekly` or `executive`.
    #[schema(example = "weekly")]
    pub kind: Option<String>,
    /// The ad account reported on; absent: the organization's ad accounts
    /// summed (those of one currency).
    pub ad_account_id: Option<Uuid>,
    /// Organization reports only: the currency whose ad accounts are summed;
    /// required when the organization's accounts use several.
    #[schema(example = "BRL")]
    pub currency: Option<String>,
    /// `csv`, `xlsx` or `pdf`.
    #[schema(example = "xlsx")]
    pub format: Option<String>,
    /// `point` (default) or `comma` (pt-BR: `1234,56`; CSV fields split by `;`).
    #[schema(example = "point")]
    pub decimal_separator: Option<String>,
    /// Daily only: the day (`YYYY-MM-DD`); yesterday when absent.
    #[schema(example = "2026-11-22")]
    pub date: Option<String>,
    /// Weekly only: the ISO week (`YYYY-Www`); the last whole week when absent.
    #[schema(example = "2026-W47")]
    pub week: Option<String>,
    /// Executive only: the month (`YYYY-MM`); last month when absent.
    #[schema(example = "2026-10")]
    pub month: Option<String>,
    /// Executive only, with `to`: a custom range instead of a month.
    pub from: Option<String>,
    pub to: Option<String>,
}

impl From<ReportRequestDto> for RequestReportInput {
    fn from(r: ReportRequestDto) -> Self {
        Self {
            report: ReportInput {
                kind: r.kind.unwrap_or_default(),
                ad_account_id: r.ad_account_id.map(Into::into),
                currency: r.currency,
                date: r.date,
                week: r.week,
                month: r.month,
                from: r.from,
                to: r.to,
            },
            format: r.format.unwrap_or_default(),
            decimal_separator: r.decimal_separator,
        }
    }
}

/// Where a report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportStatusDto {
    Queued,
    Done,
    Failed,
    Expired,
}

impl From<ReportStatus> for ReportStatusDto {
    fn from(s: ReportStatus) -> Self {
        match s {
            ReportStatus::Queued => Self::Queued,
            ReportStatus::Done => Self::Done,
            ReportStatus::Failed => Self::Failed,
            ReportStatus::Expired => Self::Expired,
        }
    }
}

/// What a report or schedule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportScopeDto {
    /// One ad account (`ad_account_id`).
    AdAccount,
    /// The organization's ad accounts of one currency, summed.
    Organization,
}

/// A scope as its three response fields.
fn scope_fields(s: ReportScope) -> (ReportScopeDto, Option<Uuid>, Option<String>) {
    let dto = match s {
        ReportScope::AdAccount(_) => ReportScopeDto::AdAccount,
        ReportScope::Organization { .. } => ReportScopeDto::Organization,
    };
    (
        dto,
        s.ad_account_id().map(domain::AdAccountId::into_uuid),
        s.currency().map(|c| c.as_str().to_owned()),
    )
}

/// A requested report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportDto {
    pub id: Uuid,
    pub scope: ReportScopeDto,
    /// The ad account (scope `ad_account`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_account_id: Option<Uuid>,
    /// The currency asked for (scope `organization`, when one was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "BRL")]
    pub currency: Option<String>,
    /// `daily`, `weekly` or `executive`.
    #[schema(example = "weekly")]
    pub kind: String,
    /// `csv`, `xlsx` or `pdf`.
    #[schema(example = "xlsx")]
    pub format: String,
    /// `point` or `comma`.
    #[schema(example = "point")]
    pub decimal_separator: String,
    pub status: ReportStatusDto,
    /// The days reported on; absent while a default period is not resolved yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<WindowDto>,
    /// `user:<id>` or `api_key:<id>`.
    pub requested_by: String,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(
        serialize_with = "timestamp_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "adscale-weekly-acme-brasil-2026-11-16_2026-11-22.xlsx")]
    pub file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// When the file is deleted (`DONE`).
    #[serde(
        serialize_with = "timestamp_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// Why it failed (`FAILED`), or the last retryable error while queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Where to fetch the file (`DONE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/api/v1/reports/0193…/download")]
    pub download_url: Option<String>,
}

impl From<Report> for ReportDto {
    fn from(r: Report) -> Self {
        let id = r.id.into_uuid();
        let (scope, ad_account_id, currency) = scope_fields(r.scope);
        Self {
            id,
            scope,
            ad_account_id,
            currency,
            kind: r.kind.as_str().to_owned(),
            format: r.format.as_str().to_owned(),
            decimal_separator: separator_name(r.decimal_separator).to_owned(),
            download_url: (r.status == ReportStatus::Done)
                .then(|| format!("/api/v1/reports/{id}/download")),
            status: r.status.into(),
            period: r.period.map(|p| WindowDto {
                from: p.from(),
                to: p.to(),
            }),
            requested_by: r.requested_by,
            created_at: r.created_at,
            finished_at: r.finished_at,
            file_name: r.file_name,
            size_bytes: r.size_bytes,
            expires_at: r.expires_at,
            failure: r.failure,
        }
    }
}

/// `?limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportListQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /report-schedules`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReportScheduleRequest {
    /// The ad account reported on; absent: the organization's ad accounts
    /// summed (those of one currency), at the organization's local hour.
    pub ad_account_id: Option<Uuid>,
    /// Organization schedules only: the currency whose ad accounts are
    /// summed; required when the organization's accounts use several.
    #[schema(example = "BRL")]
    pub currency: Option<String>,
    /// `daily` (every day), `weekly` (Mondays, the week before) or
    /// `executive` (the 1st, the month before).
    #[schema(example = "weekly")]
    pub kind: Option<String>,
    /// `csv`, `xlsx` or `pdf`.
    #[schema(example = "pdf")]
    pub format: Option<String>,
    /// `point` (default) or `comma`.
    pub decimal_separator: Option<String>,
    /// Local hour (0–23) in the ad account's time zone (the organization's
    /// for an organization schedule); 8 when absent.
    #[schema(example = 8)]
    pub hour: Option<i64>,
}

impl From<ReportScheduleRequest> for ScheduleInput {
    fn from(r: ReportScheduleRequest) -> Self {
        Self {
            ad_account_id: r.ad_account_id.map(Into::into),
            currency: r.currency,
            kind: r.kind.unwrap_or_default(),
            format: r.format.unwrap_or_default(),
            decimal_separator: r.decimal_separator,
            hour: r.hour,
        }
    }
}

/// A report schedule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportScheduleDto {
    pub id: Uuid,
    pub scope: ReportScopeDto,
    /// The ad account (scope `ad_account`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_account_id: Option<Uuid>,
    /// The currency asked for (scope `organization`, when one was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "BRL")]
    pub currency: Option<String>,
    #[schema(example = "weekly")]
    pub kind: String,
    #[schema(example = "pdf")]
    pub format: String,
    #[schema(example = "point")]
    pub decimal_separator: String,
    /// Local hour in the ad account's time zone (the organization's for an
    /// organization schedule).
    #[schema(example = 8)]
    pub hour: u8,
    pub enabled: bool,
    /// The local day it last queued a report.
    #[serde(serialize_with = "date_opt", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub last_run_on: Option<time::Date>,
    pub created_by: String,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<ReportSchedule> for ReportScheduleDto {
    fn from(s: ReportSchedule) -> Self {
        let (scope, ad_account_id, currency) = scope_fields(s.scope);
        Self {
            id: s.id.into_uuid(),
            scope,
            ad_account_id,
            currency,
            kind: s.kind.as_str().to_owned(),
            format: s.format.as_str().to_owned(),
            decimal_separator: separator_name(s.decimal_separator).to_owned(),
            hour: s.hour,
            enabled: s.enabled,
            last_run_on: s.last_run_on,
            created_by: s.created_by,
            created_at: s.created_at,
        }
    }
}

fn date_opt<S: serde::Serializer>(v: &Option<time::Date>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => super::common::date(d, s),
        None => s.serialize_none(),
    }
}
