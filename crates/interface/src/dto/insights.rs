//! Generated insight DTOs. `POST /insights/generate?week=&ad_account_id=`
//! answers an insight job `{id, status, week?, ad_account_id?,
//! requested_by, created_at, finished_at?, insight_ids, failure?}`; each
//! document is `{id, ad_account_id, week: {from, to}, headline, findings:
//! [{title, detail, figures: [{label, value, unit}]}], actions, mode,
//! verified, usage, created_at}`. Figures are as in chat answers (decimal
//! strings).

use domain::assistant::insight::{Finding, Insight};
use domain::assistant::insight_jobs::{InsightJob, InsightJobStatus};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::assistant::{AnswerModeDto, FigureDto, TokenUsageDto};
use super::common::{date, timestamp, timestamp_opt};

/// `POST /insights/generate` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct GenerateInsightsQuery {
    /// The ISO week (`YYYY-Www`); each account's last whole week when absent.
    #[param(example = "2026-W40")]
    pub week: Option<String>,
    /// Only this ad account; every account of the organization when absent.
    pub ad_account_id: Option<String>,
}

/// `GET /insights` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct InsightListQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Monday to Sunday.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WeekDto {
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date, example = "2026-09-28")]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date, example = "2026-10-04")]
    pub to: Date,
}

/// One finding with the figures it rests on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingDto {
    pub title: String,
    pub detail: String,
    pub figures: Vec<FigureDto>,
}

impl From<Finding> for FindingDto {
    fn from(f: Finding) -> Self {
        Self {
            title: f.title,
            detail: f.detail,
            figures: f.figures.into_iter().map(FigureDto::from).collect(),
        }
    }
}

/// A stored weekly insight of one ad account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InsightDto {
    pub id: Uuid,
    pub ad_account_id: Uuid,
    pub week: WeekDto,
    #[schema(example = "Spend up 12.5% week over week at a CPA of 41.07 BRL")]
    pub headline: String,
    /// 3 to 5.
    pub findings: Vec<FindingDto>,
    /// 1 to 5 recommended actions.
    pub actions: Vec<String>,
    /// `llm` (the model's document, every figure verified) or `builtin`
    /// (no model, the model unavailable, or its draft refused twice).
    pub mode: AnswerModeDto,
    /// Every figure was checked against the data (always true today: an
    /// unverified model draft is never stored).
    pub verified: bool,
    pub usage: TokenUsageDto,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<Insight> for InsightDto {
    fn from(i: Insight) -> Self {
        Self {
            id: i.id.into_uuid(),
            ad_account_id: i.ad_account_id.into_uuid(),
            week: WeekDto {
                from: i.week.from(),
                to: i.week.to(),
            },
            headline: i.headline,
            findings: i.findings.into_iter().map(FindingDto::from).collect(),
            actions: i.actions,
            mode: i.mode.into(),
            verified: i.verified,
            usage: TokenUsageDto {
                prompt_tokens: i.prompt_tokens,
                completion_tokens: i.completion_tokens,
            },
            created_at: i.created_at,
        }
    }
}

/// Where an insight job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InsightJobStatusDto {
    /// Waiting for a worker (or being generated now).
    Queued,
    /// Generated: `insight_ids` lists the documents.
    Done,
    /// Not generated: `failure` says why.
    Failed,
}

impl From<InsightJobStatus> for InsightJobStatusDto {
    fn from(s: InsightJobStatus) -> Self {
        match s {
            InsightJobStatus::Queued => Self::Queued,
            InsightJobStatus::Done => Self::Done,
            InsightJobStatus::Failed => Self::Failed,
        }
    }
}

/// A requested generation of insights.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InsightJobDto {
    pub id: Uuid,
    pub status: InsightJobStatusDto,
    /// The ISO week asked for; absent: each account's last whole week.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2026-W40")]
    pub week: Option<String>,
    /// The one ad account asked for; absent: every account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_account_id: Option<Uuid>,
    /// `user:<id>` or `api_key:<id>`.
    pub requested_by: String,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When it became `DONE` or `FAILED`.
    #[serde(
        serialize_with = "timestamp_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
    /// The stored documents (`DONE`), one per account: `GET
    /// /insights/{id}`. Empty until then.
    pub insight_ids: Vec<Uuid>,
    /// Why it failed (`FAILED`), or the last retryable error while queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl From<InsightJob> for InsightJobDto {
    fn from(j: InsightJob) -> Self {
        Self {
            id: j.id.into_uuid(),
            status: j.status.into(),
            week: j.week.map(|w| domain::reports::iso_week_label(w.from())),
            ad_account_id: j.ad_account_id.map(domain::AdAccountId::into_uuid),
            requested_by: j.requested_by,
            created_at: j.created_at,
            finished_at: j.finished_at,
            insight_ids: j
                .insight_ids
                .into_iter()
                .map(domain::InsightId::into_uuid)
                .collect(),
            failure: j.failure,
        }
    }
}
