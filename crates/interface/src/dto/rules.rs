//! Rules DTOs. A rule is `{name, level, conditions: {any|all: [{metric, op,
//! value}]}, window_days, guards: {min_spend?, min_impressions?}, action:
//! {type, percent?, max_change_percent?, min_budget?}, schedule, mode,
//! enabled}`; responses add `id, version, created_at, updated_at`. Decimals
//! (`value`, `min_spend`, `percent`, the REBALANCE limits) leave
//! as strings as written (`"1"`, `"3.50"`) and are accepted as strings or
//! numbers; absent guards and percent are left out. This is also the shape
//! the spec is stored in, so a rule version reads the same everywhere.
//!
//! Requests carry names as text: the use case parses them, so an unknown
//! name is a 422 naming its field (`conditions.any[0].metric`), not a 400.

use application::rules::{
    ActionInput, ConditionsInput, FilterInput, GuardsInput, RuleSpecInput, UpdateRuleInput,
};
use domain::rules::{
    Conditions, Filter, Op, Rule, RuleAction, RuleLevel, RuleMetric, RuleMode, Schedule,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::common::timestamp;

/// The level of the account hierarchy a rule judges and acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleLevelDto {
    Campaign,
    AdSet,
    Ad,
}

impl From<RuleLevel> for RuleLevelDto {
    fn from(v: RuleLevel) -> Self {
        match v {
            RuleLevel::Campaign => Self::Campaign,
            RuleLevel::AdSet => Self::AdSet,
            RuleLevel::Ad => Self::Ad,
        }
    }
}

/// A KPI summed (counts, money) or computed from sums (ratios) over the
/// window. CTR is in percent; money in the ad account's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleMetricDto {
    Spend,
    Impressions,
    Clicks,
    Conversions,
    Revenue,
    Ctr,
    Cpc,
    Cpm,
    Cpa,
    Roas,
}

impl From<RuleMetric> for RuleMetricDto {
    fn from(v: RuleMetric) -> Self {
        match v {
            RuleMetric::Spend => Self::Spend,
            RuleMetric::Impressions => Self::Impressions,
            RuleMetric::Clicks => Self::Clicks,
            RuleMetric::Conversions => Self::Conversions,
            RuleMetric::Revenue => Self::Revenue,
            RuleMetric::Ctr => Self::Ctr,
            RuleMetric::Cpc => Self::Cpc,
            RuleMetric::Cpm => Self::Cpm,
            RuleMetric::Cpa => Self::Cpa,
            RuleMetric::Roas => Self::Roas,
        }
    }
}

/// `metric <op> value`: less than, at most, more than, at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleOpDto {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl From<Op> for RuleOpDto {
    fn from(v: Op) -> Self {
        match v {
            Op::Lt => Self::Lt,
            Op::Lte => Self::Lte,
            Op::Gt => Self::Gt,
            Op::Gte => Self::Gte,
        }
    }
}

/// What a firing proposes: pause the entity, raise or lower its daily budget
/// by `percent`, only notify, or (`REBALANCE`, campaign rules without
/// filters) move daily budget from the account's campaigns with a ROAS below
/// the portfolio's to those above it, one `BUDGET_UP`/`BUDGET_DOWN`
/// suggestion per campaign moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleActionTypeDto {
    Pause,
    BudgetUp,
    BudgetDown,
    Notify,
    Rebalance,
}

/// When the rule is evaluated (always over whole days ending yesterday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleScheduleDto {
    AfterSync,
    Hourly,
    Daily,
}

impl From<Schedule> for RuleScheduleDto {
    fn from(v: Schedule) -> Self {
        match v {
            Schedule::AfterSync => Self::AfterSync,
            Schedule::Hourly => Self::Hourly,
            Schedule::Daily => Self::Daily,
        }
    }
}

/// `suggest`: a person accepts or rejects each suggestion; `auto_apply`:
/// applied at once (admins and owners only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleModeDto {
    Suggest,
    AutoApply,
}

impl From<RuleMode> for RuleModeDto {
    fn from(v: RuleMode) -> Self {
        match v {
            RuleMode::Suggest => Self::Suggest,
            RuleMode::AutoApply => Self::AutoApply,
        }
    }
}

/// One test on a KPI over the window, e.g. `{"metric": "ctr", "op": "lt", "value": "1"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FilterDto {
    pub metric: RuleMetricDto,
    pub op: RuleOpDto,
    /// The threshold in the metric's unit (CTR in percent, money in the
    /// account's currency); a decimal string (numbers are accepted too).
    #[schema(value_type = String, example = "1")]
    pub value: Decimal,
}

impl From<&Filter> for FilterDto {
    fn from(f: &Filter) -> Self {
        Self {
            metric: f.metric.into(),
            op: f.op.into(),
            value: f.value,
        }
    }
}

/// `{"any": [...]}` fires when one filter matches, `{"all": [...]}` when
/// every filter does; 1 to 10 filters.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConditionsDto {
    Any(Vec<FilterDto>),
    All(Vec<FilterDto>),
}

impl From<&Conditions> for ConditionsDto {
    fn from(c: &Conditions) -> Self {
        let filters = c.filters().iter().map(FilterDto::from).collect();
        match c {
            Conditions::Any(_) => Self::Any(filters),
            Conditions::All(_) => Self::All(filters),
        }
    }
}

/// Floors below which an entity is not judged (thin data does not fire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GuardsDto {
    /// Skip entities that spent less over the window (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "50.00")]
    pub min_spend: Option<Decimal>,
    /// Skip entities with fewer impressions over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 1000)]
    pub min_impressions: Option<i64>,
}

/// `{"type": "PAUSE"}`, `{"type": "BUDGET_DOWN", "percent": "20"}` or
/// `{"type": "REBALANCE", "max_change_percent": "20", "min_budget": "10"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionDto {
    #[serde(rename = "type")]
    pub kind: RuleActionTypeDto,
    /// Percent of the current daily budget: required by `BUDGET_UP` (0 <
    /// percent ≤ 100) and `BUDGET_DOWN` (0 < percent < 100), refused by the
    /// others (decimal string).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "20")]
    pub percent: Option<Decimal>,
    /// `REBALANCE` only: most a campaign's budget changes in one run, percent
    /// of itself (0 < x ≤ 100; 20 when not sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "20")]
    pub max_change_percent: Option<Decimal>,
    /// `REBALANCE` only: no budget is cut below this (at least 1; 1 when
    /// not sent), in the account's currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "10")]
    pub min_budget: Option<Decimal>,
}

impl From<RuleAction> for ActionDto {
    fn from(a: RuleAction) -> Self {
        let (kind, limits) = match a {
            RuleAction::Pause => (RuleActionTypeDto::Pause, None),
            RuleAction::BudgetUp { .. } => (RuleActionTypeDto::BudgetUp, None),
            RuleAction::BudgetDown { .. } => (RuleActionTypeDto::BudgetDown, None),
            RuleAction::Notify => (RuleActionTypeDto::Notify, None),
            RuleAction::Rebalance {
                max_change_percent,
                min_budget,
            } => (
                RuleActionTypeDto::Rebalance,
                Some((max_change_percent, min_budget)),
            ),
        };
        Self {
            kind,
            percent: a.percent(),
            max_change_percent: limits.map(|(max, _)| max),
            min_budget: limits.map(|(_, min)| min),
        }
    }
}

/// A rule at its current version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleDto {
    /// Stable across versions.
    pub id: Uuid,
    /// 1 on creation, +1 per changed spec; send it back with `PUT`.
    pub version: i32,
    #[schema(example = "Low CTR or high CPA")]
    pub name: String,
    pub level: RuleLevelDto,
    pub conditions: ConditionsDto,
    /// Days summed before judging, ending yesterday.
    #[schema(minimum = 1, maximum = 90, example = 3)]
    pub window_days: u16,
    pub guards: GuardsDto,
    pub action: ActionDto,
    pub schedule: RuleScheduleDto,
    pub mode: RuleModeDto,
    /// Disabled rules are not evaluated on schedule.
    pub enabled: bool,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When the current version was written.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<Rule> for RuleDto {
    fn from(r: Rule) -> Self {
        let s = r.spec;
        Self {
            id: r.id.into_uuid(),
            version: r.version,
            conditions: ConditionsDto::from(&s.conditions),
            name: s.name,
            level: s.level.into(),
            window_days: s.window_days,
            guards: GuardsDto {
                min_spend: s.guards.min_spend,
                min_impressions: s.guards.min_impressions,
            },
            action: s.action.into(),
            schedule: s.schedule.into(),
            mode: s.mode.into(),
            enabled: s.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

// ------------------------------------------------------------------ requests

/// A filter as sent; names are checked by the use case.
#[derive(Debug, Default, Deserialize)]
pub struct FilterRequest {
    #[serde(default)]
    pub metric: String,
    #[serde(default)]
    pub op: String,
    pub value: Option<Decimal>,
}

/// `{"any": [...]}` or `{"all": [...]}` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ConditionsRequest {
    pub any: Option<Vec<FilterRequest>>,
    pub all: Option<Vec<FilterRequest>>,
}

/// `{type, percent?, max_change_percent?, min_budget?}` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ActionRequest {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub percent: Option<Decimal>,
    pub max_change_percent: Option<Decimal>,
    pub min_budget: Option<Decimal>,
}

/// A rule as written (`POST /rules`). `guards` default to none, `schedule`
/// to `after_sync`, `mode` to `suggest` and `enabled` to `true`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RuleRequest {
    /// 1–120 characters.
    #[serde(default)]
    #[schema(required = true, example = "Low CTR or high CPA")]
    pub name: String,
    #[serde(default)]
    #[schema(required = true, value_type = RuleLevelDto)]
    pub level: String,
    /// Required, except by `REBALANCE`, which takes none.
    #[schema(required = false, value_type = ConditionsDto)]
    pub conditions: Option<ConditionsRequest>,
    /// Days summed before judging, ending yesterday.
    #[schema(required = true, value_type = u16, minimum = 1, maximum = 90, example = 3)]
    pub window_days: Option<i64>,
    pub guards: Option<GuardsDto>,
    #[schema(required = true, value_type = ActionDto)]
    pub action: Option<ActionRequest>,
    #[schema(value_type = Option<RuleScheduleDto>)]
    pub schedule: Option<String>,
    /// `auto_apply` needs an admin or owner.
    #[schema(value_type = Option<RuleModeDto>)]
    pub mode: Option<String>,
    pub enabled: Option<bool>,
}

impl From<RuleRequest> for RuleSpecInput {
    fn from(r: RuleRequest) -> Self {
        let filters = |fs: Option<Vec<FilterRequest>>| {
            fs.map(|fs| {
                fs.into_iter()
                    .map(|f| FilterInput {
                        metric: f.metric,
                        op: f.op,
                        value: f.value,
                    })
                    .collect()
            })
        };
        let guards = r.guards.unwrap_or_default();
        Self {
            name: r.name,
            level: r.level,
            conditions: r.conditions.map(|c| ConditionsInput {
                any: filters(c.any),
                all: filters(c.all),
            }),
            window_days: r.window_days,
            guards: GuardsInput {
                min_spend: guards.min_spend,
                min_impressions: guards.min_impressions,
            },
            action: r.action.map(|a| ActionInput {
                kind: a.kind,
                percent: a.percent,
                max_change_percent: a.max_change_percent,
                min_budget: a.min_budget,
            }),
            schedule: r.schedule,
            mode: r.mode,
            enabled: r.enabled,
        }
    }
}

/// `PUT /rules/{id}`: the whole rule (absent optional parts take their
/// defaults) and the version it edits.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRuleRequest {
    /// The version this edit is based on (from the last read): `409
    /// RULE_VERSION_CONFLICT` when the rule has moved on since.
    #[schema(required = true, value_type = i32, minimum = 1, example = 1)]
    pub version: Option<i64>,
    #[serde(flatten)]
    pub rule: RuleRequest,
}

impl From<UpdateRuleRequest> for UpdateRuleInput {
    fn from(r: UpdateRuleRequest) -> Self {
        Self {
            version: r.version,
            spec: r.rule.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::rules::RuleSpec;
    use domain::{RuleId, TenantId};
    use serde_json::json;

    fn wire<T: Serialize>(v: T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn enum_names_are_the_domains_wire_names() {
        for v in RuleLevel::ALL {
            assert_eq!(wire(RuleLevelDto::from(*v)), json!(v.as_str()));
        }
        for v in RuleMetric::ALL {
            assert_eq!(wire(RuleMetricDto::from(*v)), json!(v.as_str()));
        }
        for v in Op::ALL {
            assert_eq!(wire(RuleOpDto::from(*v)), json!(v.as_str()));
        }
        for v in Schedule::ALL {
            assert_eq!(wire(RuleScheduleDto::from(*v)), json!(v.as_str()));
        }
        for v in RuleMode::ALL {
            assert_eq!(wire(RuleModeDto::from(*v)), json!(v.as_str()));
        }
        for a in [
            RuleAction::Pause,
            RuleAction::BudgetUp {
                percent: Decimal::TEN,
            },
            RuleAction::BudgetDown {
                percent: Decimal::TEN,
            },
            RuleAction::Notify,
            RuleAction::Rebalance {
                max_change_percent: Decimal::TEN,
                min_budget: Decimal::ONE,
            },
        ] {
            assert_eq!(wire(ActionDto::from(a))["type"], json!(a.kind_str()));
        }
        assert_eq!(
            wire(ActionDto::from(RuleAction::Rebalance {
                max_change_percent: Decimal::new(125, 1),
                min_budget: Decimal::new(500, 2),
            })),
            json!({"type": "REBALANCE", "max_change_percent": "12.5", "min_budget": "5.00"})
        );
    }

    #[test]
    fn a_rule_answers_in_the_documented_shape() {
        let at = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        let rule = Rule {
            id: RuleId::generate(),
            tenant_id: TenantId::generate(),
            version: 2,
            spec: RuleSpec::seed(),
            created_at: at,
            updated_at: at,
        };
        let id = rule.id;
        assert_eq!(
            wire(RuleDto::from(rule)),
            json!({
                "id": id.to_string(),
                "version": 2,
                "name": "Low CTR or high CPA",
                "level": "campaign",
                "conditions": {"any": [
                    {"metric": "ctr", "op": "lt", "value": "1"},
                    {"metric": "cpa", "op": "gt", "value": "50"},
                ]},
                "window_days": 3,
                "guards": {"min_impressions": 1000},
                "action": {"type": "PAUSE"},
                "schedule": "after_sync",
                "mode": "suggest",
                "enabled": true,
                "created_at": "2026-01-02T03:04:05Z",
                "updated_at": "2026-01-02T03:04:05Z",
            })
        );
    }

    #[test]
    fn a_put_body_carries_the_version_beside_the_rule_and_accepts_numbers() {
        let body: UpdateRuleRequest = serde_json::from_value(json!({
            "version": 3,
            "name": "x",
            "level": "ad",
            "conditions": {"all": [{"metric": "roas", "op": "gte", "value": 2.5}]},
            "window_days": 7,
            "action": {"type": "BUDGET_UP", "percent": "15"},
        }))
        .unwrap();
        let input = UpdateRuleInput::from(body);
        assert_eq!(input.version, Some(3));
        let spec = input.spec.parse().unwrap();
        assert_eq!(spec.conditions.filters()[0].value, Decimal::new(25, 1));
        assert_eq!(
            spec.action,
            RuleAction::BudgetUp {
                percent: Decimal::new(15, 0)
            }
        );
        assert_eq!((spec.mode, spec.enabled), (RuleMode::Suggest, true));
    }
}
