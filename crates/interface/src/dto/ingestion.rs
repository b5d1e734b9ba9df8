//! Ingestion DTOs: sync requests, sync runs and CSV imports.

use application::ingestion::account_kpis::AdAccountKpis;
use domain::ingestion::{GoldPeriod, SyncKind, SyncRun, SyncStatus};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ads::KpiDto;
use super::common::{date, timestamp, timestamp_opt};

/// Why a run exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncKindDto {
    Scheduled,
    Manual,
    Lookback,
    Import,
}

impl From<SyncKind> for SyncKindDto {
    fn from(k: SyncKind) -> Self {
        match k {
            SyncKind::Scheduled => Self::Scheduled,
            SyncKind::Manual => Self::Manual,
            SyncKind::Lookback => Self::Lookback,
            SyncKind::Import => Self::Import,
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatusDto {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl From<SyncStatus> for SyncStatusDto {
    fn from(s: SyncStatus) -> Self {
        match s {
            SyncStatus::Queued => Self::Queued,
            SyncStatus::Running => Self::Running,
            SyncStatus::Succeeded => Self::Succeeded,
            SyncStatus::Failed => Self::Failed,
        }
    }
}

/// Rows written per entity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncCountsDto {
    pub campaigns: i64,
    pub ad_sets: i64,
    pub ads: i64,
    pub insights: i64,
}

/// One sync (API fetch or CSV import) of an ad account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncRunDto {
    pub id: Uuid,
    pub ad_account_id: Uuid,
    pub kind: SyncKindDto,
    pub status: SyncStatusDto,
    /// First day fetched (the account's calendar day).
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub queued_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<OffsetDateTime>,
    #[serde(serialize_with = "timestamp_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
    /// Seconds from start to finish, when finished.
    pub duration_secs: Option<f64>,
    pub counts: SyncCountsDto,
    /// Silver rows inserted or changed; 0 when a re-run found nothing new.
    pub rows_changed: i64,
    pub api_calls: i64,
    pub attempts: i32,
    /// Why the run failed (or why its last attempt did).
    pub error: Option<String>,
}

impl From<SyncRun> for SyncRunDto {
    fn from(r: SyncRun) -> Self {
        let duration_secs = match (r.started_at, r.finished_at) {
            (Some(s), Some(f)) => Some((f - s).as_seconds_f64()),
            _ => None,
        };
        Self {
            id: r.id.into_uuid(),
            ad_account_id: r.ad_account_id.into_uuid(),
            kind: r.kind.into(),
            status: r.status.into(),
            from: r.range.from(),
            to: r.range.to(),
            queued_at: r.queued_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_secs,
            counts: SyncCountsDto {
                campaigns: r.counts.campaigns,
                ad_sets: r.counts.ad_sets,
                ads: r.counts.ads,
                insights: r.counts.insights,
            },
            rows_changed: r.rows_changed,
            api_calls: r.api_calls,
            attempts: r.attempts,
            error: r.error,
        }
    }
}

/// `POST /ad-accounts/{id}/sync`: both dates or neither (then the last 28 days).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SyncRequest {
    #[schema(example = "2026-11-01")]
    pub from: Option<String>,
    #[schema(example = "2026-11-22")]
    pub to: Option<String>,
}

/// 202 answer to a sync request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncAcceptedDto {
    pub sync_run_id: Uuid,
    pub sync_run: SyncRunDto,
}

/// 202 answer to an import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportAcceptedDto {
    pub import_id: Uuid,
    pub sync_run_id: Uuid,
    pub sync_run: SyncRunDto,
}

/// `multipart/form-data` body of `POST /imports`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads the parts itself
pub struct ImportForm {
    /// The ad account the rows belong to.
    pub ad_account_id: Uuid,
    /// The Ads Manager export (CSV, English or Brazilian Portuguese headers).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncRunListQuery {
    /// Only this ad account's runs.
    pub ad_account_id: Option<String>,
    /// 1–200 (default 50).
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// One day (or ISO week, dated by its Monday) of an ad account's KPIs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiPointDto {
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    #[serde(flatten)]
    pub kpis: KpiDto,
}

/// An ad account's KPIs over a range (from gold): totals of exactly the
/// range, and a daily or weekly series of the days that have data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdAccountKpisDto {
    pub ad_account_id: Uuid,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// `day` or `week`.
    #[schema(example = "day")]
    pub granularity: &'static str,
    pub totals: KpiDto,
    pub series: Vec<KpiPointDto>,
}

impl From<AdAccountKpis> for AdAccountKpisDto {
    fn from(a: AdAccountKpis) -> Self {
        Self {
            ad_account_id: a.ad_account_id.into_uuid(),
            from: a.range.from(),
            to: a.range.to(),
            granularity: match a.granularity {
                GoldPeriod::Day => "day",
                GoldPeriod::Week => "week",
            },
            totals: KpiDto::new(&a.totals, &a.kpis),
            series: a
                .series
                .iter()
                .map(|r| KpiPointDto {
                    date: r.period_start,
                    kpis: KpiDto::new(&r.totals, &r.kpis),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountKpiQuery {
    /// First day, `YYYY-MM-DD`.
    #[param(required = true, value_type = String, format = Date)]
    pub from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    #[param(required = true, value_type = String, format = Date)]
    pub to: Option<String>,
    /// `day` (default) or `week` (ISO weeks, from Monday).
    pub granularity: Option<String>,
}
