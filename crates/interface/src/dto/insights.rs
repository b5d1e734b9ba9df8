//! Generated insight DTOs. `POST /insights/generate?week=&ad_account_id=`
//! answers the generated documents; each is `{id, ad_account_id, week:
//! {from, to}, headline, findings: [{title, detail, figures: [{label,
//! value, unit}]}], actions, mode, verified, usage, created_at}`. Figures
//! are as in chat answers (decimal strings).

use domain::assistant::insight::{Finding, Insight};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::assistant::{AnswerModeDto, FigureDto, TokenUsageDto};
use super::common::{date, timestamp};

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
