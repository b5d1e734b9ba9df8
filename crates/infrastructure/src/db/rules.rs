//! Rules on [`Db`]: the current spec of each rule (`rules`) and every version
//! it has had (`rule_versions`), and the JSON they are stored as.
//!
//! The spec is stored whole, as JSON in the API's shape (decimals as strings,
//! absent guards and percent left out), so what a suggestion's version shows
//! is what the API showed. `name`, `level`, `enabled` and `mode` repeat parts
//! of it for queries and are written only together with it. A revision is
//! optimistic (`… WHERE version = expected`) and writes the new version row in
//! the same transaction; deleting sets `deleted_at` and keeps the versions.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::page::{Page, PageRequest};
use domain::rules::{Conditions, Filter, Guards, Rule, RuleAction, RuleRepository, RuleSpec};
use domain::{RepoError, RuleId, TenantId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Db;
use super::error::DbError;
use super::types::{DbId, DbJson, db_id};

// ------------------------------------------------------------------ JSON

/// `RuleSpec` as stored: the API's rule body without `id` and `version`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecJson {
    name: String,
    level: String,
    conditions: ConditionsJson,
    window_days: u16,
    guards: GuardsJson,
    action: ActionJson,
    schedule: String,
    mode: String,
    enabled: bool,
}

/// `{"any": [...]}` or `{"all": [...]}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum ConditionsJson {
    Any(Vec<FilterJson>),
    All(Vec<FilterJson>),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterJson {
    metric: String,
    op: String,
    value: Decimal,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardsJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_spend: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_impressions: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionJson {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_change_percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_budget: Option<Decimal>,
}

fn filter_json(f: &Filter) -> FilterJson {
    FilterJson {
        metric: f.metric.as_str().to_owned(),
        op: f.op.as_str().to_owned(),
        value: f.value,
    }
}

impl From<&RuleSpec> for SpecJson {
    fn from(s: &RuleSpec) -> Self {
        let filters = s.conditions.filters().iter().map(filter_json).collect();
        Self {
            name: s.name.clone(),
            level: s.level.as_str().to_owned(),
            conditions: match s.conditions {
                Conditions::Any(_) => ConditionsJson::Any(filters),
                Conditions::All(_) => ConditionsJson::All(filters),
            },
            window_days: s.window_days,
            guards: GuardsJson {
                min_spend: s.guards.min_spend,
                min_impressions: s.guards.min_impressions,
            },
            action: match s.action {
                RuleAction::Rebalance {
                    max_change_percent,
                    min_budget,
                } => ActionJson {
                    kind: s.action.kind_str().to_owned(),
                    percent: None,
                    max_change_percent: Some(max_change_percent),
                    min_budget: Some(min_budget),
                },
                _ => ActionJson {
                    kind: s.action.kind_str().to_owned(),
                    percent: s.action.percent(),
                    max_change_percent: None,
                    min_budget: None,
                },
            },
            schedule: s.schedule.as_str().to_owned(),
            mode: s.mode.as_str().to_owned(),
            enabled: s.enabled,
        }
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("rule spec {what}: {e}"))
}

fn wire<T>(s: &str) -> Result<T, DbError>
where
    T: std::str::FromStr<Err = domain::rules::UnknownValue>,
{
    s.parse().map_err(|e| corrupt("field", e))
}

impl TryFrom<SpecJson> for RuleSpec {
    type Error = DbError;

    fn try_from(j: SpecJson) -> Result<Self, DbError> {
        let filters = |fs: Vec<FilterJson>| {
            fs.into_iter()
                .map(|f| {
                    Ok(Filter {
                        metric: wire(&f.metric)?,
                        op: wire(&f.op)?,
                        value: f.value,
                    })
                })
                .collect::<Result<Vec<_>, DbError>>()
        };
        let percent = || {
            j.action
                .percent
                .ok_or_else(|| corrupt("action", "a budget action without percent"))
        };
        let action = match j.action.kind.as_str() {
            "PAUSE" => RuleAction::Pause,
            "NOTIFY" => RuleAction::Notify,
            "BUDGET_UP" => RuleAction::BudgetUp {
                percent: percent()?,
            },
            "BUDGET_DOWN" => RuleAction::BudgetDown {
                percent: percent()?,
            },
            "REBALANCE" => match (j.action.max_change_percent, j.action.min_budget) {
                (Some(max_change_percent), Some(min_budget)) => RuleAction::Rebalance {
                    max_change_percent,
                    min_budget,
                },
                _ => return Err(corrupt("action", "a rebalance without its limits")),
            },
            other => return Err(corrupt("action.type", other)),
        };
        Ok(RuleSpec {
            name: j.name,
            level: wire(&j.level)?,
            conditions: match j.conditions {
                ConditionsJson::Any(f) => Conditions::Any(filters(f)?),
                ConditionsJson::All(f) => Conditions::All(filters(f)?),
            },
            window_days: j.window_days,
            guards: Guards {
                min_spend: j.guards.min_spend,
                min_impressions: j.guards.min_impressions,
            },
            action,
            schedule: wire(&j.schedule)?,
            mode: wire(&j.mode)?,
            enabled: j.enabled,
        })
    }
}

/// A spec as the JSON it is stored as: the API's rule body without `id` and
/// `version` (`{name, level, conditions: {any|all: [{metric, op, value}]},
/// window_days, guards: {min_spend?, min_impressions?}, action: {type,
/// percent?, max_change_percent?, min_budget?}, schedule, mode, enabled}`,
/// decimals as strings).
///
/// # Errors
/// `DbError::Encode` if serialisation fails (it does not for any spec).
pub fn spec_to_json(spec: &RuleSpec) -> Result<serde_json::Value, DbError> {
    serde_json::to_value(SpecJson::from(spec)).map_err(|e| DbError::Encode(e.to_string()))
}

/// The spec a stored JSON document holds.
///
/// # Errors
/// `DbError::Corrupt` for JSON that is not a stored spec.
pub fn spec_from_json(json: serde_json::Value) -> Result<RuleSpec, DbError> {
    let j: SpecJson = serde_json::from_value(json).map_err(|e| corrupt("JSON", e))?;
    RuleSpec::try_from(j)
}

/// The rule every new organization starts with, at version 1 (created with
/// the organization, so both carry `at`).
#[must_use]
pub(crate) fn seed_rule(tenant_id: TenantId, at: OffsetDateTime) -> Rule {
    Rule {
        id: RuleId::generate(),
        tenant_id,
        version: 1,
        spec: RuleSpec::seed(),
        created_at: at,
        updated_at: at,
    }
}

// ------------------------------------------------------------------ rows

/// The columns a [`Rule`] is read from, in [`RuleRow`] order. Used in an
/// `on_db!` arm, whose schema it picks up.
macro_rules! rule_columns {
    () => {
        (
            rules::id,
            rules::tenant_id,
            rules::version,
            rules::spec,
            rules::created_at,
            rules::updated_at,
        )
    };
}

#[derive(Debug, Queryable)]
struct RuleRow {
    id: DbId,
    tenant_id: DbId,
    version: i32,
    spec: DbJson,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<RuleRow> for Rule {
    type Error = DbError;

    fn try_from(r: RuleRow) -> Result<Self, DbError> {
        Ok(Rule {
            id: r.id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            version: r.version,
            spec: spec_from_json(r.spec.0)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Inserts `$rule` (a `&Rule`) with its version row on connection `$c`,
/// evaluating to `Result<(), DbError>`. Used in an `on_db!` arm (or a
/// transaction inside one), whose schema it picks up; shared with creating an
/// organization, which inserts the seed rule in its own transaction.
macro_rules! insert_rule {
    ($c:expr, $rule:expr) => {{
        let rule: &::domain::rules::Rule = $rule;
        let spec = $crate::db::types::DbJson($crate::db::rules::spec_to_json(&rule.spec)?);
        diesel::insert_into(rules::table)
            .values((
                rules::tenant_id.eq($crate::db::types::db_id(rule.tenant_id)),
                rules::id.eq($crate::db::types::db_id(rule.id)),
                rules::version.eq(rule.version),
                rules::name.eq(&rule.spec.name),
                rules::level.eq(rule.spec.level.as_str()),
                rules::spec.eq(&spec),
                rules::enabled.eq(rule.spec.enabled),
                rules::mode.eq(rule.spec.mode.as_str()),
                rules::created_at.eq(rule.created_at),
                rules::updated_at.eq(rule.updated_at),
            ))
            .execute($c)
            .await
            .map_err(|e| $crate::db::DbError::from(e).referencing("tenant_id"))?;
        diesel::insert_into(rule_versions::table)
            .values((
                rule_versions::tenant_id.eq($crate::db::types::db_id(rule.tenant_id)),
                rule_versions::rule_id.eq($crate::db::types::db_id(rule.id)),
                rule_versions::version.eq(rule.version),
                rule_versions::spec.eq(&spec),
                rule_versions::created_at.eq(rule.updated_at),
            ))
            .execute($c)
            .await?;
        Ok::<(), $crate::db::DbError>(())
    }};
}
pub(crate) use insert_rule;

/// What an optimistic revision found.
enum Revised {
    Done(RuleRow),
    /// The rule exists but is at another version.
    Stale,
    Missing,
}

#[async_trait]
impl RuleRepository for Db {
    async fn create(&self, rule: &Rule) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            c.transaction(async |c| insert_rule!(c, rule)).await
        })
    }

    async fn get(&self, t: TenantId, id: RuleId) -> Result<Option<Rule>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = rules::table
                .filter(rules::tenant_id.eq(db_id(t)))
                .filter(rules::id.eq(db_id(id)))
                .filter(rules::deleted_at.is_null())
                .select(rule_columns!())
                .first::<RuleRow>(c)
                .await
                .optional()?;
            row.map(Rule::try_from).transpose()
        })
    }

    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Rule>, RepoError> {
        let items: Vec<Rule> = on_db!(&self.pool, |c| {
            let mut q = rules::table
                .filter(rules::tenant_id.eq(db_id(t)))
                .filter(rules::deleted_at.is_null())
                .select(rule_columns!())
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(rules::id.lt(DbId(after)));
            }
            let rows = q
                .order(rules::id.desc())
                .limit(page.fetch_limit())
                .load::<RuleRow>(c)
                .await?;
            rows.into_iter().map(Rule::try_from).collect()
        })?;
        Ok(page.into_page(items, |r| r.id.into_uuid()))
    }

    async fn revise(
        &self,
        t: TenantId,
        id: RuleId,
        expected: i32,
        spec: &RuleSpec,
        at: OffsetDateTime,
    ) -> Result<Option<Rule>, RepoError> {
        let json = DbJson(spec_to_json(spec)?);
        let next = expected.saturating_add(1);
        let revised = on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let row = diesel::update(
                    rules::table
                        .filter(rules::tenant_id.eq(db_id(t)))
                        .filter(rules::id.eq(db_id(id)))
                        .filter(rules::deleted_at.is_null())
                        .filter(rules::version.eq(expected)),
                )
                .set((
                    rules::version.eq(next),
                    rules::name.eq(&spec.name),
                    rules::level.eq(spec.level.as_str()),
                    rules::spec.eq(&json),
                    rules::enabled.eq(spec.enabled),
                    rules::mode.eq(spec.mode.as_str()),
                    rules::updated_at.eq(at),
                ))
                .returning(rule_columns!())
                .get_result::<RuleRow>(c)
                .await
                .optional()?;
                let Some(row) = row else {
                    let live = rules::table
                        .filter(rules::tenant_id.eq(db_id(t)))
                        .filter(rules::id.eq(db_id(id)))
                        .filter(rules::deleted_at.is_null())
                        .select(rules::version)
                        .first::<i32>(c)
                        .await
                        .optional()?;
                    return Ok(if live.is_some() {
                        Revised::Stale
                    } else {
                        Revised::Missing
                    });
                };
                diesel::insert_into(rule_versions::table)
                    .values((
                        rule_versions::tenant_id.eq(db_id(t)),
                        rule_versions::rule_id.eq(db_id(id)),
                        rule_versions::version.eq(next),
                        rule_versions::spec.eq(&json),
                        rule_versions::created_at.eq(at),
                    ))
                    .execute(c)
                    .await?;
                Ok::<_, DbError>(Revised::Done(row))
            })
            .await
        })?;
        match revised {
            Revised::Done(row) => Ok(Some(Rule::try_from(row)?)),
            Revised::Stale => Err(RepoError::Conflict("version".to_owned())),
            Revised::Missing => Ok(None),
        }
    }

    async fn delete(&self, t: TenantId, id: RuleId, at: OffsetDateTime) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::update(
                rules::table
                    .filter(rules::tenant_id.eq(db_id(t)))
                    .filter(rules::id.eq(db_id(id)))
                    .filter(rules::deleted_at.is_null()),
            )
            .set(rules::deleted_at.eq(Some(at)))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }

    async fn version(
        &self,
        t: TenantId,
        id: RuleId,
        version: i32,
    ) -> Result<Option<RuleSpec>, RepoError> {
        on_db!(&self.pool, |c| {
            let spec = rule_versions::table
                .filter(rule_versions::tenant_id.eq(db_id(t)))
                .filter(rule_versions::rule_id.eq(db_id(id)))
                .filter(rule_versions::version.eq(version))
                .select(rule_versions::spec)
                .first::<DbJson>(c)
                .await
                .optional()?;
            spec.map(|j| spec_from_json(j.0)).transpose()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::rules::{Op, RuleLevel, RuleMetric, RuleMode, Schedule};
    use serde_json::json;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_seed_is_stored_in_the_api_shape_with_decimals_as_strings() {
        assert_eq!(
            spec_to_json(&RuleSpec::seed()).unwrap(),
            json!({
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
            })
        );
    }

    #[test]
    fn every_spec_shape_round_trips_through_json() {
        let specs = [
            RuleSpec::seed(),
            RuleSpec {
                name: "Scale winners".to_owned(),
                level: RuleLevel::AdSet,
                conditions: Conditions::All(vec![
                    Filter {
                        metric: RuleMetric::Roas,
                        op: Op::Gte,
                        value: d("3.50"),
                    },
                    Filter {
                        metric: RuleMetric::Spend,
                        op: Op::Gt,
                        value: d("100.00"),
                    },
                ]),
                window_days: 7,
                guards: Guards {
                    min_spend: Some(d("50.00")),
                    min_impressions: None,
                },
                action: RuleAction::BudgetUp { percent: d("20") },
                schedule: Schedule::Daily,
                mode: RuleMode::AutoApply,
                enabled: false,
            },
            RuleSpec {
                action: RuleAction::BudgetDown { percent: d("12.5") },
                level: RuleLevel::Ad,
                ..RuleSpec::seed()
            },
            RuleSpec {
                action: RuleAction::Notify,
                schedule: Schedule::Hourly,
                ..RuleSpec::seed()
            },
            RuleSpec {
                conditions: Conditions::Any(vec![]),
                action: RuleAction::Rebalance {
                    max_change_percent: d("15"),
                    min_budget: d("10.00"),
                },
                ..RuleSpec::seed()
            },
        ];
        for spec in specs {
            let json = spec_to_json(&spec).unwrap();
            let back = spec_from_json(json.clone()).unwrap();
            assert_eq!(back, spec);
            assert_eq!(spec_to_json(&back).unwrap(), json, "scale is kept: {json}");
        }
        let json = spec_to_json(&RuleSpec {
            action: RuleAction::BudgetDown { percent: d("12.5") },
            ..RuleSpec::seed()
        })
        .unwrap();
        assert_eq!(
            json["action"],
            json!({"type": "BUDGET_DOWN", "percent": "12.5"})
        );
        let json = spec_to_json(&RuleSpec {
            conditions: Conditions::All(vec![]),
            action: RuleAction::Rebalance {
                max_change_percent: d("20"),
                min_budget: d("5"),
            },
            ..RuleSpec::seed()
        })
        .unwrap();
        assert_eq!(
            (&json["conditions"], &json["action"]),
            (
                &json!({"all": []}),
                &json!({"type": "REBALANCE", "max_change_percent": "20", "min_budget": "5"})
            )
        );
    }

    #[test]
    fn stored_json_the_domain_refuses_is_corrupt_not_guessed() {
        let mut bad_metric = spec_to_json(&RuleSpec::seed()).unwrap();
        bad_metric["conditions"]["any"][0]["metric"] = json!("CTR");
        let mut no_percent = spec_to_json(&RuleSpec::seed()).unwrap();
        no_percent["action"] = json!({"type": "BUDGET_UP"});
        let mut extra = spec_to_json(&RuleSpec::seed()).unwrap();
        extra["colour"] = json!("red");
        for json in [bad_metric, no_percent, extra, json!({"any": []})] {
            assert!(
                matches!(spec_from_json(json.clone()), Err(DbError::Corrupt(_))),
                "{json}"
            );
        }
    }
}
