//! Suggestion DTOs: `{id, rule_id, rule_version, entity_id, entity_name,
//! level, action, proposed: {from, to}?, window: {from, to}, metrics, reason,
//! status, created_at, decided_by?, decided_at?, applied_at?, failure?}`. Money leaves as strings
//! with two decimals, ratios as numbers with at most four (like KPIs).

use domain::rules::{MetricSnapshot, Proposal, Suggestion, SuggestionStatus};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{date, money, ratio, timestamp, timestamp_opt};
use super::rules::RuleLevelDto;

/// Where a suggestion is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SuggestionStatusDto {
    Pending,
    Accepted,
    Applied,
    Failed,
    Rejected,
    Expired,
}

impl From<SuggestionStatus> for SuggestionStatusDto {
    fn from(s: SuggestionStatus) -> Self {
        match s {
            SuggestionStatus::Pending => Self::Pending,
            SuggestionStatus::Accepted => Self::Accepted,
            SuggestionStatus::Applied => Self::Applied,
            SuggestionStatus::Failed => Self::Failed,
            SuggestionStatus::Rejected => Self::Rejected,
            SuggestionStatus::Expired => Self::Expired,
        }
    }
}

/// An entity's metrics over the judged window.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetricsDto {
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "30.00")]
    pub spend: Decimal,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "0.00")]
    pub revenue: Decimal,
    /// Percent; `null` when undefined (no impressions).
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>, example = 0.5)]
    pub ctr: Option<Decimal>,
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>)]
    pub cpc: Option<Decimal>,
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>)]
    pub cpm: Option<Decimal>,
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>)]
    pub cpa: Option<Decimal>,
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>)]
    pub roas: Option<Decimal>,
}

impl From<MetricSnapshot> for MetricsDto {
    fn from(m: MetricSnapshot) -> Self {
        Self {
            spend: m.spend,
            impressions: m.impressions,
            clicks: m.clicks,
            conversions: m.conversions,
            revenue: m.revenue,
            ctr: m.ctr,
            cpc: m.cpc,
            cpm: m.cpm,
            cpa: m.cpa,
            roas: m.roas,
        }
    }
}

/// A proposed daily budget change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposedDto {
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "100.00")]
    pub from: Decimal,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "120.00")]
    pub to: Decimal,
}

/// The days judged, both included.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WindowDto {
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
}

/// One rule firing for one entity and window.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestionDto {
    pub id: Uuid,
    pub rule_id: Uuid,
    /// The rule's version when it fired.
    pub rule_version: i32,
    pub entity_id: Uuid,
    /// The entity's name when the suggestion was made.
    pub entity_name: String,
    pub level: RuleLevelDto,
    /// `PAUSE`, `BUDGET_UP`, `BUDGET_DOWN` or `NOTIFY`.
    #[schema(example = "PAUSE")]
    pub action: String,
    /// The budget change; absent for `PAUSE` and `NOTIFY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed: Option<ProposedDto>,
    pub window: WindowDto,
    pub metrics: MetricsDto,
    #[schema(example = "CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 2,000 impressions)")]
    pub reason: String,
    pub status: SuggestionStatusDto,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Who decided; absent while pending, on expiry and for auto-apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Uuid>,
    #[serde(
        serialize_with = "timestamp_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<OffsetDateTime>,
    /// When the platform took the change (`APPLIED`).
    #[serde(
        serialize_with = "timestamp_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub applied_at: Option<OffsetDateTime>,
    /// Why applying did not work: the last error while `ACCEPTED` (it will
    /// be retried), the final reason once `FAILED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "the platform refused the request (code 100): Invalid parameter")]
    pub failure: Option<String>,
}

impl From<Suggestion> for SuggestionDto {
    fn from(s: Suggestion) -> Self {
        Self {
            id: s.id.into_uuid(),
            rule_id: s.rule_id.into_uuid(),
            rule_version: s.rule_version,
            entity_id: s.entity_id,
            entity_name: s.entity_name,
            level: s.level.into(),
            action: s.action.kind_str().to_owned(),
            proposed: match s.proposal {
                Proposal::Budget { from, to } => Some(ProposedDto { from, to }),
                Proposal::Pause | Proposal::Notify => None,
            },
            window: WindowDto {
                from: s.window.from(),
                to: s.window.to(),
            },
            metrics: s.metrics.into(),
            reason: s.reason,
            status: s.status.into(),
            created_at: s.created_at,
            decided_by: s.decided_by.map(|u| u.into_uuid()),
            decided_at: s.decided_at,
            applied_at: s.applied_at,
            failure: s.failure,
        }
    }
}

/// `?status&limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionListQuery {
    /// Only suggestions in this status (`PENDING`, `ACCEPTED`, `APPLIED`,
    /// `FAILED`, `REJECTED`, `EXPIRED`).
    pub status: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /suggestions/{id}/reject`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why not, for the team and the audit log (1–500 characters).
    #[schema(example = "Seasonal dip; the campaign recovers on weekends")]
    pub reason: Option<String>,
}
