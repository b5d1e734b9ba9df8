//! What a rule is: level, KPI filters, guards, action, schedule and mode, and
//! when such a spec is valid.

use rust_decimal::Decimal;
use time::OffsetDateTime;

use super::proposal::MIN_DAILY_BUDGET;
use super::wire_enum;
use crate::error::ValidationError;
use crate::ids::{RuleId, TenantId};

/// Longest rule name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 120;
/// Most filters a rule may have.
pub const MAX_FILTERS: usize = 10;
/// Longest evaluation window, in days.
pub const MAX_WINDOW_DAYS: u16 = 90;
/// The seed rule's impression guard. Below about 1,000 impressions a CTR is
/// noise (at 500 impressions, 0.8 % and 1 % are one click apart), so the seed
/// does not judge the entity yet; the same floor the Analyzer's scores use.
pub const SEED_MIN_IMPRESSIONS: i64 = 1_000;

wire_enum! {
    /// The level of the account hierarchy a rule judges and acts on.
    RuleLevel, "level" {
        /// Each campaign.
        Campaign => "campaign",
        /// Each ad set.
        AdSet => "ad_set",
        /// Each ad.
        Ad => "ad",
    }
}

wire_enum! {
    /// A KPI a filter can test, over the rule's window. Counts and money are
    /// sums; ratios come from [`crate::kpi::Kpis::from_totals`] of those sums
    /// (CTR in percent, 4 dp; CPC, CPM, CPA at cents; ROAS 4 dp).
    RuleMetric, "metric" {
        /// Money spent (account currency).
        Spend => "spend",
        /// Impressions.
        Impressions => "impressions",
        /// Clicks (all).
        Clicks => "clicks",
        /// Conversions (the account's result action).
        Conversions => "conversions",
        /// Attributed revenue (account currency).
        Revenue => "revenue",
        /// Click-through rate in percent.
        Ctr => "ctr",
        /// Cost per click.
        Cpc => "cpc",
        /// Cost per thousand impressions.
        Cpm => "cpm",
        /// Cost per conversion.
        Cpa => "cpa",
        /// Return on ad spend, revenue / spend.
        Roas => "roas",
    }
}

/// How a metric's value is shown in reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// Whole numbers, thousands grouped.
    Count,
    /// Account currency, two decimals.
    Money,
    /// Percent, up to two decimals, ` %` appended.
    Percent,
    /// A plain ratio, up to two decimals.
    Ratio,
}

impl RuleMetric {
    /// How people name it in a sentence: `CTR`, `CPA`, `spend`, `impressions`.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            RuleMetric::Spend => "spend",
            RuleMetric::Impressions => "impressions",
            RuleMetric::Clicks => "clicks",
            RuleMetric::Conversions => "conversions",
            RuleMetric::Revenue => "revenue",
            RuleMetric::Ctr => "CTR",
            RuleMetric::Cpc => "CPC",
            RuleMetric::Cpm => "CPM",
            RuleMetric::Cpa => "CPA",
            RuleMetric::Roas => "ROAS",
        }
    }

    /// Whether the value is a ratio that can be undefined (divisor zero).
    #[must_use]
    pub const fn is_ratio(self) -> bool {
        matches!(
            self,
            RuleMetric::Ctr
                | RuleMetric::Cpc
                | RuleMetric::Cpm
                | RuleMetric::Cpa
                | RuleMetric::Roas
        )
    }

    pub(super) const fn unit(self) -> Unit {
        match self {
            RuleMetric::Impressions | RuleMetric::Clicks | RuleMetric::Conversions => Unit::Count,
            RuleMetric::Spend
            | RuleMetric::Revenue
            | RuleMetric::Cpc
            | RuleMetric::Cpm
            | RuleMetric::Cpa => Unit::Money,
            RuleMetric::Ctr => Unit::Percent,
            RuleMetric::Roas => Unit::Ratio,
        }
    }
}

wire_enum! {
    /// A comparison between a metric's value and a filter's threshold.
    Op, "op" {
        /// value < threshold
        Lt => "lt",
        /// value ≤ threshold
        Lte => "lte",
        /// value > threshold
        Gt => "gt",
        /// value ≥ threshold
        Gte => "gte",
    }
}

impl Op {
    /// The symbol used in reasons: `<`, `≤`, `>`, `≥`.
    #[must_use]
    pub const fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Lte => "≤",
            Op::Gt => ">",
            Op::Gte => "≥",
        }
    }

    /// Whether `value <op> threshold` holds.
    #[must_use]
    pub fn holds(self, value: Decimal, threshold: Decimal) -> bool {
        match self {
            Op::Lt => value < threshold,
            Op::Lte => value <= threshold,
            Op::Gt => value > threshold,
            Op::Gte => value >= threshold,
        }
    }

    /// `gt`/`gte`: the filter looks for values that are too high.
    #[must_use]
    pub const fn is_upper(self) -> bool {
        matches!(self, Op::Gt | Op::Gte)
    }
}

/// One test on a KPI over the window, e.g. `ctr lt 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    /// The KPI.
    pub metric: RuleMetric,
    /// The comparison.
    pub op: Op,
    /// The threshold, in the metric's unit (CTR in percent, money in the
    /// account's currency).
    pub value: Decimal,
}

/// How a rule's filters combine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditions {
    /// Fires when at least one filter matches (`{"any": [...]}`).
    Any(Vec<Filter>),
    /// Fires when every filter matches (`{"all": [...]}`).
    All(Vec<Filter>),
}

impl Conditions {
    /// The filters, in the order given.
    #[must_use]
    pub fn filters(&self) -> &[Filter] {
        match self {
            Conditions::Any(f) | Conditions::All(f) => f,
        }
    }

    /// The JSON key: `any` or `all` (also the field path of the list).
    #[must_use]
    pub const fn key(&self) -> &'static str {
        match self {
            Conditions::Any(_) => "any",
            Conditions::All(_) => "all",
        }
    }
}

/// Floors below which the entity is not judged, so thin data does not fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Guards {
    /// Skip entities that spent less than this over the window.
    pub min_spend: Option<Decimal>,
    /// Skip entities with fewer impressions than this over the window.
    pub min_impressions: Option<i64>,
}

/// What a triggered rule proposes to do to the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// Pause the entity.
    Pause,
    /// Raise the daily budget by `percent` % (0 < percent ≤ 100).
    BudgetUp {
        /// Percent of the current daily budget.
        percent: Decimal,
    },
    /// Lower the daily budget by `percent` % (0 < percent < 100).
    BudgetDown {
        /// Percent of the current daily budget.
        percent: Decimal,
    },
    /// Change nothing; only tell people.
    Notify,
    /// Move daily budget between the account's active campaigns, from those
    /// whose ROAS over the window is below the portfolio's to those above it
    /// ([`crate::analysis::allocator`]): one budget suggestion per campaign
    /// that moves. Campaign level only; takes no filters (the allocator is
    /// the condition); the guards keep thin campaigns out.
    Rebalance {
        /// Most a budget may change in one run, percent of itself (0 < x ≤ 100).
        max_change_percent: Decimal,
        /// No budget is cut below this (≥ [`super::MIN_DAILY_BUDGET`]).
        min_budget: Decimal,
    },
}

impl RuleAction {
    /// The API's `action.type`: `PAUSE`, `BUDGET_UP`, `BUDGET_DOWN`,
    /// `NOTIFY`, `REBALANCE`.
    #[must_use]
    pub const fn kind_str(&self) -> &'static str {
        match self {
            RuleAction::Pause => "PAUSE",
            RuleAction::BudgetUp { .. } => "BUDGET_UP",
            RuleAction::BudgetDown { .. } => "BUDGET_DOWN",
            RuleAction::Notify => "NOTIFY",
            RuleAction::Rebalance { .. } => "REBALANCE",
        }
    }

    /// The percent of a budget action, `None` for the others.
    #[must_use]
    pub const fn percent(&self) -> Option<Decimal> {
        match self {
            RuleAction::BudgetUp { percent } | RuleAction::BudgetDown { percent } => Some(*percent),
            RuleAction::Pause | RuleAction::Notify | RuleAction::Rebalance { .. } => None,
        }
    }
}

wire_enum! {
    /// When the rule is evaluated. Every schedule judges the same window
    /// (ending yesterday), so running more often only reacts sooner to
    /// restated data; it never sees a partial day.
    #[derive(Default)]
    Schedule, "schedule" {
        /// After each successful sync of the ad account (the default).
        #[default]
        AfterSync => "after_sync",
        /// Every hour.
        Hourly => "hourly",
        /// Once a day.
        Daily => "daily",
    }
}

wire_enum! {
    /// What happens when the rule fires.
    #[derive(Default)]
    RuleMode, "mode" {
        /// Create a suggestion a person accepts or rejects (the default).
        #[default]
        Suggest => "suggest",
        /// Create the suggestion and apply it at once, without a person.
        AutoApply => "auto_apply",
    }
}

/// A rule as a tenant writes it (`POST /rules` body, without id and version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    /// Shown in lists and suggestions; 1 to 120 characters.
    pub name: String,
    /// Which entities are judged.
    pub level: RuleLevel,
    /// The filters and how they combine.
    pub conditions: Conditions,
    /// Days summed before judging, ending yesterday (1 to 90).
    pub window_days: u16,
    /// Floors that keep thin data from firing.
    pub guards: Guards,
    /// What a firing proposes.
    pub action: RuleAction,
    /// When it is evaluated.
    pub schedule: Schedule,
    /// Suggest (default) or apply automatically.
    pub mode: RuleMode,
    /// A disabled rule is not evaluated on schedule (it can still be backtested).
    pub enabled: bool,
}

impl RuleSpec {
    /// The rule every tenant starts with: "CTR < 1 % or CPA > 50 over the last
    /// 3 days → suggest pausing the campaign", guarded by
    /// [`SEED_MIN_IMPRESSIONS`]. CPA is in the account's currency, so 50 suits
    /// BRL- or USD-like currencies; tenants edit it like any rule.
    #[must_use]
    pub fn seed() -> Self {
        Self {
            name: "Low CTR or high CPA".to_owned(),
            level: RuleLevel::Campaign,
            conditions: Conditions::Any(vec![
                Filter {
                    metric: RuleMetric::Ctr,
                    op: Op::Lt,
                    value: Decimal::ONE,
                },
                Filter {
                    metric: RuleMetric::Cpa,
                    op: Op::Gt,
                    value: Decimal::from(50),
                },
            ]),
            window_days: 3,
            guards: Guards {
                min_spend: None,
                min_impressions: Some(SEED_MIN_IMPRESSIONS),
            },
            action: RuleAction::Pause,
            schedule: Schedule::AfterSync,
            mode: RuleMode::Suggest,
            enabled: true,
        }
    }

    /// Checks every field and reports every problem at once, keyed by the
    /// JSON path a client can fix: `name`, `conditions.any`,
    /// `conditions.any[1].value`, `window_days`, `guards.min_spend`,
    /// `guards.min_impressions`, `action.percent`, `action.max_change_percent`,
    /// `action.min_budget`, `level`.
    ///
    /// Every action but REBALANCE is allowed at every level; a budget action
    /// on an entity without a daily budget (an ad, a lifetime budget) fails
    /// later, in [`super::propose`], for that entity only. REBALANCE trades
    /// budget between campaigns, so it is campaign-level only and takes no
    /// filters (an empty `any`/`all`).
    ///
    /// # Errors
    /// A [`ValidationError`] with one reason per bad field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut errors = ValidationError::default();

        let name_chars = self.name.trim().chars().count();
        if name_chars == 0 {
            errors.add("name", "must not be empty");
        } else if name_chars > MAX_NAME_CHARS {
            errors.add("name", "must be at most 120 characters");
        }

        let key = self.conditions.key();
        let filters = self.conditions.filters();
        let rebalance = matches!(self.action, RuleAction::Rebalance { .. });
        if rebalance {
            if !filters.is_empty() {
                errors.add(
                    &format!("conditions.{key}"),
                    "must be empty for REBALANCE (the allocator decides; use guards to leave thin campaigns out)",
                );
            }
        } else if filters.is_empty() || filters.len() > MAX_FILTERS {
            errors.add(
                &format!("conditions.{key}"),
                "must have between 1 and 10 filters",
            );
        }
        for (i, f) in filters.iter().enumerate() {
            if let Some(reason) = threshold_problem(f) {
                errors.add(&format!("conditions.{key}[{i}].value"), reason);
            }
        }

        if !(1..=MAX_WINDOW_DAYS).contains(&self.window_days) {
            errors.add("window_days", "must be between 1 and 90");
        }

        if self.guards.min_spend.is_some_and(|s| s < Decimal::ZERO) {
            errors.add("guards.min_spend", "must not be negative");
        }
        if self.guards.min_impressions.is_some_and(|i| i < 0) {
            errors.add("guards.min_impressions", "must not be negative");
        }

        match self.action {
            RuleAction::BudgetUp { percent }
                if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED =>
            {
                errors.add(
                    "action.percent",
                    "must be more than 0 and at most 100 for BUDGET_UP",
                );
            }
            RuleAction::BudgetDown { percent }
                if percent <= Decimal::ZERO || percent >= Decimal::ONE_HUNDRED =>
            {
                errors.add(
                    "action.percent",
                    "must be more than 0 and less than 100 for BUDGET_DOWN (use PAUSE to stop spending)",
                );
            }
            RuleAction::Rebalance {
                max_change_percent,
                min_budget,
            } => {
                if max_change_percent <= Decimal::ZERO || max_change_percent > Decimal::ONE_HUNDRED
                {
                    errors.add(
                        "action.max_change_percent",
                        "must be more than 0 and at most 100",
                    );
                }
                if min_budget < MIN_DAILY_BUDGET {
                    errors.add(
                        "action.min_budget",
                        "must be at least 1 (a budget is never cut to 0; use PAUSE to stop spending)",
                    );
                }
                if self.level != RuleLevel::Campaign {
                    errors.add("level", "must be campaign for REBALANCE");
                }
            }
            _ => {}
        }

        errors.into_result()
    }
}

/// Why a filter's threshold makes no sense, if it does not.
fn threshold_problem(f: &Filter) -> Option<&'static str> {
    if f.value < Decimal::ZERO {
        return Some("must not be negative");
    }
    if f.metric == RuleMetric::Ctr && f.value > Decimal::ONE_HUNDRED {
        return Some("CTR is a percentage: must be at most 100");
    }
    if f.op == Op::Lt && f.value.is_zero() {
        return Some("can never match: no value is below 0");
    }
    None
}

/// A tenant's rule. Editing the spec bumps `version`, and each suggestion
/// records the version that made it, so a suggestion stays explainable after
/// the rule changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Stable across versions.
    pub id: RuleId,
    /// The owner.
    pub tenant_id: TenantId,
    /// 1 on creation, +1 per edit of the spec.
    pub version: i32,
    /// The current spec.
    pub spec: RuleSpec,
    /// When version 1 was created (UTC).
    pub created_at: OffsetDateTime,
    /// When the current version was written (UTC).
    pub updated_at: OffsetDateTime,
}

impl Rule {
    /// A new rule at version 1.
    ///
    /// # Errors
    /// The spec's [`RuleSpec::validate`] errors.
    pub fn create(
        tenant_id: TenantId,
        spec: RuleSpec,
        now: OffsetDateTime,
    ) -> Result<Self, ValidationError> {
        spec.validate()?;
        Ok(Self {
            id: RuleId::generate(),
            tenant_id,
            version: 1,
            spec,
            created_at: now,
            updated_at: now,
        })
    }

    /// Replaces the spec and bumps the version; an identical spec changes
    /// nothing (no new version, so open suggestions keep matching it).
    ///
    /// # Errors
    /// The new spec's [`RuleSpec::validate`] errors; the rule is unchanged.
    pub fn revise(&mut self, spec: RuleSpec, now: OffsetDateTime) -> Result<(), ValidationError> {
        spec.validate()?;
        if spec != self.spec {
            self.spec = spec;
            self.version = self.version.saturating_add(1);
            self.updated_at = now;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn filter(metric: RuleMetric, op: Op, value: &str) -> Filter {
        Filter {
            metric,
            op,
            value: d(value),
        }
    }

    #[test]
    fn seed_rule_is_valid_and_is_low_ctr_or_high_cpa_over_3_days() {
        let seed = RuleSpec::seed();
        assert_eq!(seed.validate(), Ok(()));
        assert_eq!(seed.name, "Low CTR or high CPA");
        assert_eq!(seed.level, RuleLevel::Campaign);
        assert_eq!(
            seed.conditions,
            Conditions::Any(vec![
                filter(RuleMetric::Ctr, Op::Lt, "1"),
                filter(RuleMetric::Cpa, Op::Gt, "50"),
            ])
        );
        assert_eq!(seed.window_days, 3);
        assert_eq!(seed.guards.min_impressions, Some(1_000));
        assert_eq!(seed.guards.min_spend, None);
        assert_eq!(seed.action, RuleAction::Pause);
        assert_eq!(seed.schedule, Schedule::AfterSync);
        assert_eq!(seed.mode, RuleMode::Suggest);
        assert!(seed.enabled);
    }

    #[test]
    fn schedule_and_mode_default_to_after_sync_and_suggest() {
        assert_eq!(Schedule::default(), Schedule::AfterSync);
        assert_eq!(RuleMode::default(), RuleMode::Suggest);
    }

    #[test]
    fn validation_lists_every_bad_field_with_its_path() {
        let spec = RuleSpec {
            name: "   ".to_owned(),
            conditions: Conditions::Any(vec![
                filter(RuleMetric::Cpa, Op::Gt, "50"),
                filter(RuleMetric::Spend, Op::Gt, "-1"),
                filter(RuleMetric::Ctr, Op::Gte, "150"),
                filter(RuleMetric::Conversions, Op::Lt, "0"),
            ]),
            window_days: 0,
            guards: Guards {
                min_spend: Some(d("-5")),
                min_impressions: Some(-1),
            },
            action: RuleAction::BudgetDown { percent: d("100") },
            ..RuleSpec::seed()
        };
        let fields = spec.validate().unwrap_err().fields;
        let paths: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "action.percent",
                "conditions.any[1].value",
                "conditions.any[2].value",
                "conditions.any[3].value",
                "guards.min_impressions",
                "guards.min_spend",
                "name",
                "window_days",
            ]
        );
        assert_eq!(fields["name"], "must not be empty");
        assert_eq!(fields["conditions.any[1].value"], "must not be negative");
        assert_eq!(
            fields["conditions.any[2].value"],
            "CTR is a percentage: must be at most 100"
        );
        assert_eq!(
            fields["conditions.any[3].value"],
            "can never match: no value is below 0"
        );
        assert_eq!(fields["window_days"], "must be between 1 and 90");
    }

    #[test]
    fn validation_bounds_name_filter_count_window_and_percent() {
        let too_many = Conditions::All(vec![filter(RuleMetric::Spend, Op::Gt, "1"); 11]);
        let spec = RuleSpec {
            name: "x".repeat(121),
            conditions: too_many,
            window_days: 91,
            action: RuleAction::BudgetUp {
                percent: d("100.01"),
            },
            ..RuleSpec::seed()
        };
        let fields = spec.validate().unwrap_err().fields;
        assert_eq!(fields["name"], "must be at most 120 characters");
        assert_eq!(
            fields["conditions.all"],
            "must have between 1 and 10 filters"
        );
        assert_eq!(fields["window_days"], "must be between 1 and 90");
        assert_eq!(
            fields["action.percent"],
            "must be more than 0 and at most 100 for BUDGET_UP"
        );

        let empty = RuleSpec {
            conditions: Conditions::Any(vec![]),
            ..RuleSpec::seed()
        };
        let fields = empty.validate().unwrap_err().fields;
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["conditions.any"]);

        let edges = RuleSpec {
            name: format!("  {}  ", "é".repeat(120)),
            conditions: Conditions::All(vec![
                filter(RuleMetric::Ctr, Op::Lte, "100"),
                filter(RuleMetric::Spend, Op::Lte, "0"),
            ]),
            window_days: 90,
            guards: Guards {
                min_spend: Some(Decimal::ZERO),
                min_impressions: Some(0),
            },
            action: RuleAction::BudgetUp { percent: d("100") },
            ..RuleSpec::seed()
        };
        assert_eq!(edges.validate(), Ok(()));
        let down = RuleSpec {
            action: RuleAction::BudgetDown { percent: d("0") },
            ..RuleSpec::seed()
        };
        assert!(
            down.validate()
                .unwrap_err()
                .fields
                .contains_key("action.percent")
        );
    }

    #[test]
    fn budget_actions_are_allowed_at_every_level() {
        for level in RuleLevel::ALL {
            let spec = RuleSpec {
                level: *level,
                action: RuleAction::BudgetDown { percent: d("20") },
                ..RuleSpec::seed()
            };
            assert_eq!(spec.validate(), Ok(()));
        }
    }

    #[test]
    fn rebalance_is_campaign_level_without_filters_and_keeps_a_minimum_budget() {
        let rebalance = |max: &str, min: &str| RuleAction::Rebalance {
            max_change_percent: d(max),
            min_budget: d(min),
        };
        let good = RuleSpec {
            conditions: Conditions::Any(vec![]),
            action: rebalance("20", "5"),
            ..RuleSpec::seed()
        };
        assert_eq!(good.validate(), Ok(()));
        assert_eq!(good.action.kind_str(), "REBALANCE");
        assert_eq!(good.action.percent(), None);

        let bad = RuleSpec {
            level: RuleLevel::AdSet,
            action: rebalance("120", "0.5"),
            ..RuleSpec::seed()
        };
        let fields = bad.validate().unwrap_err().fields;
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            [
                "action.max_change_percent",
                "action.min_budget",
                "conditions.any",
                "level"
            ]
        );
        assert_eq!(fields["level"], "must be campaign for REBALANCE");
        assert!(fields["conditions.any"].starts_with("must be empty for REBALANCE"));
        let zero = RuleSpec {
            conditions: Conditions::All(vec![]),
            action: rebalance("0", "1"),
            ..RuleSpec::seed()
        };
        assert_eq!(
            zero.validate()
                .unwrap_err()
                .fields
                .keys()
                .collect::<Vec<_>>(),
            ["action.max_change_percent"]
        );
    }

    #[test]
    fn action_kinds_and_op_symbols() {
        assert_eq!(RuleAction::Pause.kind_str(), "PAUSE");
        assert_eq!(
            RuleAction::BudgetUp { percent: d("20") }.kind_str(),
            "BUDGET_UP"
        );
        assert_eq!(
            RuleAction::BudgetDown { percent: d("20") }.kind_str(),
            "BUDGET_DOWN"
        );
        assert_eq!(RuleAction::Notify.kind_str(), "NOTIFY");
        let symbols: Vec<&str> = Op::ALL.iter().map(|o| o.symbol()).collect();
        assert_eq!(symbols, ["<", "≤", ">", "≥"]);
        assert!(Op::Lte.holds(d("1"), d("1")) && !Op::Lt.holds(d("1"), d("1")));
    }

    #[test]
    fn revising_a_rule_bumps_the_version_only_when_the_spec_changes() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let t1 = t0 + time::Duration::hours(1);
        let mut rule = Rule::create(TenantId::generate(), RuleSpec::seed(), t0).unwrap();
        assert_eq!(rule.version, 1);
        rule.revise(RuleSpec::seed(), t1).unwrap();
        assert_eq!((rule.version, rule.updated_at), (1, t0));
        let edited = RuleSpec {
            window_days: 7,
            ..RuleSpec::seed()
        };
        rule.revise(edited, t1).unwrap();
        assert_eq!(
            (rule.version, rule.updated_at, rule.spec.window_days),
            (2, t1, 7)
        );
        let bad = RuleSpec {
            window_days: 0,
            ..RuleSpec::seed()
        };
        assert!(rule.revise(bad, t1).is_err());
        assert_eq!(rule.version, 2, "a refused edit changes nothing");
    }
}
