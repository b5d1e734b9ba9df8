//! A rule as a client sends it (names as text, parts possibly missing) and
//! its parsing into a [`RuleSpec`], reporting every bad field at once.

use std::str::FromStr;

use domain::error::ValidationError;
use domain::rules::{
    Conditions, Filter, Guards, MIN_DAILY_BUDGET, Op, RuleAction, RuleLevel, RuleMetric, RuleMode,
    RuleSpec, Schedule, UnknownValue,
};
use rust_decimal::Decimal;

use crate::analysis::DEFAULT_MAX_CHANGE_PERCENT;

/// The body of `POST /rules` (and of `PUT /rules/{id}` without `version`).
/// Absent `guards` mean none, absent `schedule`, `mode` and `enabled` take
/// their defaults (`after_sync`, `suggest`, `true`); the rest is required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSpecInput {
    pub name: String,
    pub level: String,
    pub conditions: Option<ConditionsInput>,
    pub window_days: Option<i64>,
    pub guards: GuardsInput,
    pub action: Option<ActionInput>,
    pub schedule: Option<String>,
    pub mode: Option<String>,
    pub enabled: Option<bool>,
}

/// Exactly one of `any` and `all`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionsInput {
    pub any: Option<Vec<FilterInput>>,
    pub all: Option<Vec<FilterInput>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterInput {
    pub metric: String,
    pub op: String,
    pub value: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuardsInput {
    pub min_spend: Option<Decimal>,
    pub min_impressions: Option<i64>,
}

/// `{type, percent?, max_change_percent?, min_budget?}`: `percent` is
/// required by the budget actions and refused by the others; the two limits
/// belong to REBALANCE only, which defaults them to
/// [`DEFAULT_MAX_CHANGE_PERCENT`] and [`MIN_DAILY_BUDGET`] (as the budget
/// allocation endpoint does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionInput {
    pub kind: String,
    pub percent: Option<Decimal>,
    pub max_change_percent: Option<Decimal>,
    pub min_budget: Option<Decimal>,
}

/// Stand-ins for parts that failed to parse, chosen to be valid on their own
/// so that validating the rest reports nothing about them.
const FALLBACK_FILTER: Filter = Filter {
    metric: RuleMetric::Spend,
    op: Op::Gt,
    value: Decimal::ZERO,
};
const FALLBACK_PERCENT: Decimal = Decimal::TEN;

/// Parses a wire name, or records `field: must be one of …` and falls back.
fn wire<T>(field: &str, s: &str, fallback: T, errors: &mut ValidationError) -> T
where
    T: FromStr<Err = UnknownValue>,
{
    s.parse().unwrap_or_else(|e: UnknownValue| {
        errors.add(field, &format!("must be one of {}", e.expected));
        fallback
    })
}

fn filters(path: &str, given: Vec<FilterInput>, errors: &mut ValidationError) -> Vec<Filter> {
    given
        .into_iter()
        .enumerate()
        .map(|(i, f)| Filter {
            metric: wire(
                &format!("{path}[{i}].metric"),
                &f.metric,
                FALLBACK_FILTER.metric,
                errors,
            ),
            op: wire(
                &format!("{path}[{i}].op"),
                &f.op,
                FALLBACK_FILTER.op,
                errors,
            ),
            value: f.value.unwrap_or_else(|| {
                errors.add(&format!("{path}[{i}].value"), "is required");
                Decimal::ONE
            }),
        })
        .collect()
}

/// The conditions; REBALANCE takes none, so absent ones are an empty `any`.
fn conditions(
    given: Option<ConditionsInput>,
    action: &RuleAction,
    errors: &mut ValidationError,
) -> Conditions {
    match given {
        None if matches!(action, RuleAction::Rebalance { .. }) => Conditions::Any(Vec::new()),
        Some(ConditionsInput {
            any: Some(f),
            all: None,
        }) => Conditions::Any(filters("conditions.any", f, errors)),
        Some(ConditionsInput {
            any: None,
            all: Some(f),
        }) => Conditions::All(filters("conditions.all", f, errors)),
        Some(_) => {
            errors.add("conditions", "must have exactly one of `any` and `all`");
            Conditions::Any(vec![FALLBACK_FILTER])
        }
        None => {
            errors.add(
                "conditions",
                "is required: {\"any\": [filters]} or {\"all\": [filters]}",
            );
            Conditions::Any(vec![FALLBACK_FILTER])
        }
    }
}

fn action(given: Option<ActionInput>, errors: &mut ValidationError) -> RuleAction {
    let Some(a) = given else {
        errors.add("action", "is required");
        return RuleAction::Pause;
    };
    let percent = |errors: &mut ValidationError| {
        a.percent.unwrap_or_else(|| {
            errors.add("action.percent", &format!("is required for {}", a.kind));
            FALLBACK_PERCENT
        })
    };
    if a.kind != "REBALANCE" {
        for (given, field) in [
            (a.max_change_percent, "action.max_change_percent"),
            (a.min_budget, "action.min_budget"),
        ] {
            if given.is_some() {
                errors.add(field, "only REBALANCE takes it");
            }
        }
    }
    let no_percent = |errors: &mut ValidationError| {
        if a.percent.is_some() {
            errors.add(
                "action.percent",
                "only BUDGET_UP and BUDGET_DOWN take a percent",
            );
        }
    };
    match a.kind.as_str() {
        "BUDGET_UP" => RuleAction::BudgetUp {
            percent: percent(errors),
        },
        "BUDGET_DOWN" => RuleAction::BudgetDown {
            percent: percent(errors),
        },
        "PAUSE" => {
            no_percent(errors);
            RuleAction::Pause
        }
        "NOTIFY" => {
            no_percent(errors);
            RuleAction::Notify
        }
        "REBALANCE" => {
            no_percent(errors);
            RuleAction::Rebalance {
                max_change_percent: a.max_change_percent.unwrap_or(DEFAULT_MAX_CHANGE_PERCENT),
                min_budget: a.min_budget.unwrap_or(MIN_DAILY_BUDGET),
            }
        }
        _ => {
            errors.add(
                "action.type",
                "must be one of PAUSE, BUDGET_UP, BUDGET_DOWN, NOTIFY, REBALANCE",
            );
            RuleAction::Pause
        }
    }
}

impl RuleSpecInput {
    /// The spec, with the name trimmed and defaults applied.
    ///
    /// # Errors
    /// Every bad or missing field, keyed by its JSON path
    /// (`conditions.any[1].metric`, `action.percent`, …): unknown names and
    /// missing parts, and what [`RuleSpec::validate`] refuses.
    pub fn parse(self) -> Result<RuleSpec, ValidationError> {
        let mut errors = ValidationError::default();
        let action = action(self.action, &mut errors);
        let spec = RuleSpec {
            name: self.name.trim().to_owned(),
            level: wire("level", &self.level, RuleLevel::Campaign, &mut errors),
            conditions: conditions(self.conditions, &action, &mut errors),
            window_days: match self.window_days {
                // Out of u16 is out of 1..=90 too: validation says so.
                Some(d) => u16::try_from(d).unwrap_or(0),
                None => {
                    errors.add("window_days", "is required");
                    1
                }
            },
            guards: Guards {
                min_spend: self.guards.min_spend,
                min_impressions: self.guards.min_impressions,
            },
            action,
            schedule: self.schedule.map_or(Schedule::default(), |s| {
                wire("schedule", &s, Schedule::default(), &mut errors)
            }),
            mode: self.mode.map_or(RuleMode::default(), |s| {
                wire("mode", &s, RuleMode::default(), &mut errors)
            }),
            enabled: self.enabled.unwrap_or(true),
        };
        // Parsing errors name the cause; they win over what validating the
        // stand-ins says about the same field.
        let mut all = spec.validate().err().unwrap_or_default();
        all.merge(errors);
        all.into_result()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn filter(metric: &str, op: &str, value: &str) -> FilterInput {
        FilterInput {
            metric: metric.to_owned(),
            op: op.to_owned(),
            value: Some(d(value)),
        }
    }

    /// The seed rule as a client would send it.
    fn seed_input() -> RuleSpecInput {
        RuleSpecInput {
            name: "Low CTR or high CPA".to_owned(),
            level: "campaign".to_owned(),
            conditions: Some(ConditionsInput {
                any: Some(vec![filter("ctr", "lt", "1"), filter("cpa", "gt", "50")]),
                all: None,
            }),
            window_days: Some(3),
            guards: GuardsInput {
                min_spend: None,
                min_impressions: Some(1_000),
            },
            action: Some(ActionInput {
                kind: "PAUSE".to_owned(),
                percent: None,
                ..ActionInput::default()
            }),
            schedule: None,
            mode: None,
            enabled: None,
        }
    }

    #[test]
    fn the_seed_sent_by_a_client_parses_to_the_seed_with_defaults_applied() {
        assert_eq!(seed_input().parse(), Ok(RuleSpec::seed()));
        let padded = RuleSpecInput {
            name: "  Low CTR or high CPA ".to_owned(),
            schedule: Some("after_sync".to_owned()),
            mode: Some("suggest".to_owned()),
            enabled: Some(true),
            ..seed_input()
        };
        assert_eq!(padded.parse(), Ok(RuleSpec::seed()));
    }

    #[test]
    fn budget_actions_need_a_percent_and_the_others_refuse_one() {
        let with = |kind: &str, percent: Option<&str>| RuleSpecInput {
            action: Some(ActionInput {
                kind: kind.to_owned(),
                percent: percent.map(d),
                ..ActionInput::default()
            }),
            ..seed_input()
        };
        assert_eq!(
            with("BUDGET_DOWN", Some("15")).parse().map(|s| s.action),
            Ok(RuleAction::BudgetDown { percent: d("15") })
        );
        assert_eq!(
            with("NOTIFY", None).parse().map(|s| s.action),
            Ok(RuleAction::Notify)
        );
        let fields = with("BUDGET_UP", None).parse().unwrap_err().fields;
        assert_eq!(fields["action.percent"], "is required for BUDGET_UP");
        assert_eq!(fields.len(), 1);
        let fields = with("PAUSE", Some("10")).parse().unwrap_err().fields;
        assert_eq!(
            fields["action.percent"],
            "only BUDGET_UP and BUDGET_DOWN take a percent"
        );
        let fields = with("pause", None).parse().unwrap_err().fields;
        assert_eq!(
            fields["action.type"],
            "must be one of PAUSE, BUDGET_UP, BUDGET_DOWN, NOTIFY, REBALANCE"
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once_by_its_path() {
        let bad = RuleSpecInput {
            name: " ".to_owned(),
            level: "account".to_owned(),
            conditions: Some(ConditionsInput {
                any: None,
                all: Some(vec![
                    filter("CTR", "lt", "1"),
                    FilterInput {
                        metric: "cpa".to_owned(),
                        op: "above".to_owned(),
                        value: None,
                    },
                    filter("ctr", "gt", "150"),
                ]),
            }),
            window_days: Some(100_000),
            guards: GuardsInput {
                min_spend: Some(d("-1")),
                min_impressions: None,
            },
            action: Some(ActionInput {
                kind: "BUDGET_DOWN".to_owned(),
                percent: Some(d("100")),
                ..ActionInput::default()
            }),
            schedule: Some("weekly".to_owned()),
            mode: Some("auto".to_owned()),
            enabled: None,
        };
        let fields = bad.parse().unwrap_err().fields;
        let paths: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "action.percent",
                "conditions.all[0].metric",
                "conditions.all[1].op",
                "conditions.all[1].value",
                "conditions.all[2].value",
                "guards.min_spend",
                "level",
                "mode",
                "name",
                "schedule",
                "window_days",
            ]
        );
        assert_eq!(fields["level"], "must be one of campaign, ad_set, ad");
        assert_eq!(fields["conditions.all[1].value"], "is required");
        assert_eq!(fields["window_days"], "must be between 1 and 90");
        assert_eq!(fields["mode"], "must be one of suggest, auto_apply");
    }

    #[test]
    fn missing_parts_are_required_and_conditions_take_one_combinator() {
        let fields = RuleSpecInput::default().parse().unwrap_err().fields;
        let paths: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            ["action", "conditions", "level", "name", "window_days"]
        );
        for both in [
            ConditionsInput {
                any: Some(vec![filter("ctr", "lt", "1")]),
                all: Some(vec![filter("ctr", "lt", "1")]),
            },
            ConditionsInput::default(),
        ] {
            let fields = RuleSpecInput {
                conditions: Some(both),
                ..seed_input()
            }
            .parse()
            .unwrap_err()
            .fields;
            assert_eq!(
                fields.keys().collect::<Vec<_>>(),
                ["conditions"],
                "{fields:?}"
            );
        }
        let empty = RuleSpecInput {
            conditions: Some(ConditionsInput {
                any: Some(vec![]),
                all: None,
            }),
            ..seed_input()
        };
        assert!(
            empty
                .parse()
                .unwrap_err()
                .fields
                .contains_key("conditions.any")
        );
    }

    #[test]
    fn rebalance_needs_no_conditions_defaults_its_limits_and_owns_them() {
        let rebalance = |max: Option<&str>, min: Option<&str>| RuleSpecInput {
            name: "Move budget to winners".to_owned(),
            conditions: None,
            action: Some(ActionInput {
                kind: "REBALANCE".to_owned(),
                max_change_percent: max.map(d),
                min_budget: min.map(d),
                ..ActionInput::default()
            }),
            ..seed_input()
        };
        let spec = rebalance(None, None).parse().unwrap();
        assert_eq!(spec.conditions, Conditions::Any(vec![]));
        assert_eq!(
            spec.action,
            RuleAction::Rebalance {
                max_change_percent: d("20"),
                min_budget: d("1"),
            }
        );
        assert_eq!(
            rebalance(Some("15"), Some("25")).parse().map(|s| s.action),
            Ok(RuleAction::Rebalance {
                max_change_percent: d("15"),
                min_budget: d("25"),
            })
        );
        let fields = rebalance(Some("0"), None).parse().unwrap_err().fields;
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["action.max_change_percent"]
        );
        let pause_with_limits = RuleSpecInput {
            action: Some(ActionInput {
                kind: "PAUSE".to_owned(),
                min_budget: Some(d("5")),
                ..ActionInput::default()
            }),
            ..seed_input()
        };
        let fields = pause_with_limits.parse().unwrap_err().fields;
        assert_eq!(fields["action.min_budget"], "only REBALANCE takes it");
    }
}
