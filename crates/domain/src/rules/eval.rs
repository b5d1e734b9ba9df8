//! Judging one entity: the window, the window's totals, and the verdict with
//! the numbers and sentence that explain it.

use rust_decimal::Decimal;
use time::{Date, Duration};

use super::spec::{Conditions, Filter, Guards, Op, RuleMetric, RuleSpec, Unit};
use super::{money, number, over_last};
use crate::ads::DateRange;
use crate::kpi::{KpiTotals, Kpis, RATIO_DP};

/// The `window_days` calendar days ending on `last_day`, both ends included
/// (`window_ending(May 10, 3)` is May 8–10). A `window_days` of 0 counts as 1
/// and one above [`DateRange::MAX_DAYS`] as that maximum; validated rules are
/// within 1..=90.
#[must_use]
pub fn window_ending(last_day: Date, window_days: u16) -> DateRange {
    let days = i64::from(window_days.max(1)).min(DateRange::MAX_DAYS);
    let from = last_day
        .checked_sub(Duration::days(days - 1))
        .unwrap_or(Date::MIN);
    DateRange::new(from, last_day).unwrap_or_else(|_| DateRange::day(last_day))
}

/// The window an evaluation running on `run_day` judges: `window_days` days
/// ending *yesterday*, `run_day` being today's date in the ad account's time
/// zone. Today is partial (spend arrives all day, conversions later), so it
/// is never judged; and every evaluation within one day (after each sync,
/// hourly) sees the same window, so it reaches the same verdict on the same
/// data and "one open suggestion per rule, entity and window" holds. The
/// backtest calls this too, so it replays exactly what the live evaluator
/// decides when run once a day.
#[must_use]
pub fn evaluation_window(run_day: Date, window_days: u16) -> DateRange {
    window_ending(run_day.previous_day().unwrap_or(run_day), window_days)
}

/// Sums an entity's daily rows that fall inside `window` (rows may be
/// unsorted and sparse). `None` when no row falls inside: an entity without
/// data in the window is not evaluated at all, rather than judged on zeros.
#[must_use]
pub fn window_totals(days: &[(Date, KpiTotals)], window: DateRange) -> Option<KpiTotals> {
    days.iter()
        .filter(|(day, _)| window.from() <= *day && *day <= window.to())
        .fold(None, |sum: Option<KpiTotals>, (_, t)| {
            Some(sum.unwrap_or_default().plus(t))
        })
}

/// All ten metrics of an entity over a window, as judged and as stored with
/// a suggestion. Ratios are [`Kpis::from_totals`] of the sums, `None` when
/// undefined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricSnapshot {
    /// Money spent.
    pub spend: Decimal,
    /// Impressions.
    pub impressions: i64,
    /// Clicks.
    pub clicks: i64,
    /// Conversions.
    pub conversions: i64,
    /// Attributed revenue.
    pub revenue: Decimal,
    /// Click-through rate, percent.
    pub ctr: Option<Decimal>,
    /// Cost per click.
    pub cpc: Option<Decimal>,
    /// Cost per thousand impressions.
    pub cpm: Option<Decimal>,
    /// Cost per conversion.
    pub cpa: Option<Decimal>,
    /// Return on ad spend.
    pub roas: Option<Decimal>,
}

impl MetricSnapshot {
    /// The metrics of summed totals (never an average of daily ratios).
    #[must_use]
    pub fn of(totals: &KpiTotals) -> Self {
        let k = Kpis::from_totals(totals);
        Self {
            spend: totals.spend,
            impressions: totals.impressions,
            clicks: totals.clicks,
            conversions: totals.conversions,
            revenue: totals.revenue,
            ctr: k.ctr,
            cpc: k.cpc,
            cpm: k.cpm,
            cpa: k.cpa,
            roas: k.roas,
        }
    }

    /// One metric's value; `None` only for an undefined ratio.
    #[must_use]
    pub fn value(&self, metric: RuleMetric) -> Option<Decimal> {
        match metric {
            RuleMetric::Spend => Some(self.spend),
            RuleMetric::Impressions => Some(Decimal::from(self.impressions)),
            RuleMetric::Clicks => Some(Decimal::from(self.clicks)),
            RuleMetric::Conversions => Some(Decimal::from(self.conversions)),
            RuleMetric::Revenue => Some(self.revenue),
            RuleMetric::Ctr => self.ctr,
            RuleMetric::Cpc => self.cpc,
            RuleMetric::Cpm => self.cpm,
            RuleMetric::Cpa => self.cpa,
            RuleMetric::Roas => self.roas,
        }
    }
}

/// A filter that matched, with the value that made it match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    /// The filter's metric.
    pub metric: RuleMetric,
    /// The filter's comparison.
    pub op: Op,
    /// The filter's threshold.
    pub threshold: Decimal,
    /// The entity's value; `None` for a CPA without conversions, judged high
    /// because the spend alone already exceeds the threshold.
    pub value: Option<Decimal>,
}

/// Why a rule fired: what matched, every metric, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The filters that matched, in the rule's order.
    pub matched: Vec<Matched>,
    /// The entity's metrics over the window.
    pub metrics: MetricSnapshot,
    /// E.g. "CTR 0.82 % < 1 % and CPA 61.20 > 50 over the last 3 days
    /// (spend 612.00, 1,204 impressions)".
    pub reason: String,
}

/// The outcome of judging one entity over one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The conditions hold: the rule proposes its action.
    Triggered(Trigger),
    /// The conditions do not hold.
    NotTriggered,
    /// Too little data to judge (a guard's floor is not reached).
    Guarded {
        /// E.g. "only 640 impressions (minimum 1,000) over the last 3 days".
        reason: String,
    },
}

/// Judges one entity from its totals summed over the rule's window (see
/// [`window_totals`]). Ignores `enabled`, `schedule` and `mode`: those decide
/// whether and when to call this and what to do with the verdict.
///
/// - Guards first: spend below `min_spend` or impressions below
///   `min_impressions` → [`Verdict::Guarded`] (reaching the floor passes).
/// - A filter compares the metric (ratios as [`Kpis::from_totals`] rounds
///   them, the same figures people see) with its threshold.
/// - An undefined ratio never matches, except CPA without conversions: the
///   first conversion would cost at least the spend so far, so
///   `cpa gt/gte X` matches when the spend alone is `> / ≥ X` (reason: "no
///   conversions for 212.40 spent"); `lt/lte` never match.
/// - `Any`: at least one filter matches; `All`: every filter matches. No
///   filters never fires.
#[must_use]
pub fn evaluate(spec: &RuleSpec, totals: &KpiTotals) -> Verdict {
    let metrics = MetricSnapshot::of(totals);
    let over = over_last(spec.window_days);
    if let Some(why) = guard_reason(&spec.guards, &metrics) {
        return Verdict::Guarded {
            reason: format!("{why} {over}"),
        };
    }
    let filters = spec.conditions.filters();
    let results: Vec<Option<Matched>> = filters.iter().map(|f| check(f, &metrics)).collect();
    let fired = match spec.conditions {
        Conditions::Any(_) => results.iter().any(Option::is_some),
        Conditions::All(_) => !results.is_empty() && results.iter().all(Option::is_some),
    };
    if !fired {
        return Verdict::NotTriggered;
    }
    let matched: Vec<Matched> = results.into_iter().flatten().collect();
    let said: Vec<String> = matched.iter().map(|m| describe(m, &metrics)).collect();
    let reason = format!(
        "{} {over} (spend {}, {})",
        said.join(" and "),
        money(metrics.spend),
        impressions(metrics.impressions),
    );
    Verdict::Triggered(Trigger {
        matched,
        metrics,
        reason,
    })
}

/// Why the guards hold the entity back, if they do.
pub(super) fn guard_reason(guards: &Guards, m: &MetricSnapshot) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(min) = guards.min_impressions
        && m.impressions < min
    {
        parts.push(format!(
            "only {} (minimum {})",
            impressions(m.impressions),
            number(Decimal::from(min), 0, false)
        ));
    }
    if let Some(min) = guards.min_spend
        && m.spend < min
    {
        parts.push(format!(
            "only {} spent (minimum {})",
            money(m.spend),
            threshold(min)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// The filter's match, if it matches.
fn check(f: &Filter, m: &MetricSnapshot) -> Option<Matched> {
    let matched = match m.value(f.metric) {
        Some(v) => f.op.holds(v, f.value).then_some(Some(v)),
        None if f.metric == RuleMetric::Cpa
            && m.conversions == 0
            && m.spend > Decimal::ZERO
            && f.op.is_upper() =>
        {
            f.op.holds(m.spend, f.value).then_some(None)
        }
        None => None,
    };
    matched.map(|value| Matched {
        metric: f.metric,
        op: f.op,
        threshold: f.value,
        value,
    })
}

/// One matched filter as a phrase: "CTR 0.82 % < 1 %", "CPA 61.20 > 50".
fn describe(m: &Matched, metrics: &MetricSnapshot) -> String {
    let unit = m.metric.unit();
    let suffix = if unit == Unit::Percent { " %" } else { "" };
    let limit = threshold(m.threshold);
    let symbol = m.op.symbol();
    let label = m.metric.label();
    match m.value {
        None => format!(
            "no conversions for {} spent ({label} {symbol} {limit})",
            money(metrics.spend)
        ),
        Some(v) => {
            let shown = match unit {
                Unit::Count => number(v, 0, false),
                Unit::Money => money(v),
                Unit::Percent | Unit::Ratio => {
                    let short = number(v, 2, false);
                    // "CTR 1 % < 1 %" would read as a bug: show the 4 dp the
                    // comparison used when 2 dp hide the difference.
                    if short == limit && v != m.threshold {
                        number(v, RATIO_DP, false)
                    } else {
                        short
                    }
                }
            };
            format!("{label} {shown}{suffix} {symbol} {limit}{suffix}")
        }
    }
}

/// A threshold as the user wrote it, up to 4 dp ("50", "0.5", "1,000").
fn threshold(v: Decimal) -> String {
    number(v, RATIO_DP, false)
}

/// "1 impression", "1,204 impressions".
fn impressions(n: i64) -> String {
    let noun = if n == 1 { "impression" } else { "impressions" };
    format!("{} {noun}", number(Decimal::from(n), 0, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::spec::{RuleAction, RuleLevel};
    use std::str::FromStr;
    use time::macros::date;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn totals(impressions: i64, clicks: i64, spend: &str, conversions: i64) -> KpiTotals {
        KpiTotals {
            impressions,
            clicks,
            spend: d(spend),
            conversions,
            ..KpiTotals::default()
        }
    }

    fn filter(metric: RuleMetric, op: Op, value: &str) -> Filter {
        Filter {
            metric,
            op,
            value: d(value),
        }
    }

    fn triggered(v: Verdict) -> Trigger {
        match v {
            Verdict::Triggered(t) => t,
            other => panic!("expected a trigger, got {other:?}"),
        }
    }

    #[test]
    fn seed_rule_triggers_on_ctr_below_1_percent_with_exact_reason() {
        // CTR 10 / 1,204 × 100 = 0.830564… → 0.8306 %; CPA 612 / 13 = 47.08 (healthy).
        let t = totals(1_204, 10, "612.00", 13);
        let trigger = triggered(evaluate(&RuleSpec::seed(), &t));
        assert_eq!(
            trigger.reason,
            "CTR 0.83 % < 1 % over the last 3 days (spend 612.00, 1,204 impressions)"
        );
        assert_eq!(
            trigger.matched,
            [Matched {
                metric: RuleMetric::Ctr,
                op: Op::Lt,
                threshold: d("1"),
                value: Some(d("0.8306")),
            }]
        );
        assert_eq!(trigger.metrics.cpa, Some(d("47.08")));
        assert_eq!(trigger.metrics.spend, d("612.00"));
    }

    #[test]
    fn seed_rule_names_both_filters_when_both_match() {
        // CTR 10 / 1,204 = 0.8306 %; CPA 612 / 10 = 61.20.
        let t = totals(1_204, 10, "612.00", 10);
        let trigger = triggered(evaluate(&RuleSpec::seed(), &t));
        assert_eq!(
            trigger.reason,
            "CTR 0.83 % < 1 % and CPA 61.20 > 50 over the last 3 days (spend 612.00, 1,204 impressions)"
        );
        assert_eq!(trigger.matched.len(), 2);
    }

    #[test]
    fn seed_rule_triggers_on_cpa_above_50() {
        // CTR 40 / 2,000 = 2 % (healthy); CPA 306.00 / 5 = 61.20.
        let t = totals(2_000, 40, "306.00", 5);
        let trigger = triggered(evaluate(&RuleSpec::seed(), &t));
        assert_eq!(
            trigger.reason,
            "CPA 61.20 > 50 over the last 3 days (spend 306.00, 2,000 impressions)"
        );
        assert_eq!(trigger.matched[0].value, Some(d("61.20")));
    }

    #[test]
    fn seed_rule_does_not_trigger_on_a_healthy_entity() {
        // CTR 2 %, CPA 300 / 10 = 30.
        let t = totals(2_000, 40, "300.00", 10);
        assert_eq!(evaluate(&RuleSpec::seed(), &t), Verdict::NotTriggered);
        // Exactly on the thresholds is not beyond them: CTR 1 %, CPA 50.
        let t = totals(1_000, 10, "100.00", 2);
        assert_eq!(evaluate(&RuleSpec::seed(), &t), Verdict::NotTriggered);
    }

    #[test]
    fn seed_rule_is_guarded_under_1000_impressions() {
        // CTR 0.5 % would match, but 999 impressions are too few to judge.
        let t = totals(999, 5, "80.00", 0);
        assert_eq!(
            evaluate(&RuleSpec::seed(), &t),
            Verdict::Guarded {
                reason: "only 999 impressions (minimum 1,000) over the last 3 days".to_owned()
            }
        );
        // 1,000 reaches the floor and is judged.
        let t = totals(1_000, 5, "80.00", 2);
        assert!(matches!(
            evaluate(&RuleSpec::seed(), &t),
            Verdict::Triggered(_)
        ));
    }

    #[test]
    fn both_guards_are_named_when_both_fail() {
        let spec = RuleSpec {
            guards: Guards {
                min_spend: Some(d("50")),
                min_impressions: Some(1_000),
            },
            window_days: 1,
            ..RuleSpec::seed()
        };
        let t = totals(1, 0, "12.5", 0);
        assert_eq!(
            evaluate(&spec, &t),
            Verdict::Guarded {
                reason: "only 1 impression (minimum 1,000) and only 12.50 spent (minimum 50) over the last day"
                    .to_owned()
            }
        );
    }

    #[test]
    fn zero_conversions_with_spend_counts_as_high_cpa() {
        // CTR 30 / 1,500 = 2 % is healthy; no conversions for 212.40.
        let t = totals(1_500, 30, "212.40", 0);
        let trigger = triggered(evaluate(&RuleSpec::seed(), &t));
        assert_eq!(
            trigger.reason,
            "no conversions for 212.40 spent (CPA > 50) over the last 3 days (spend 212.40, 1,500 impressions)"
        );
        assert_eq!(trigger.matched[0].value, None);
        assert_eq!(trigger.metrics.cpa, None);
    }

    #[test]
    fn zero_conversions_is_not_high_cpa_until_spend_passes_the_threshold() {
        // 40.00 spent without a conversion does not yet show a CPA above 50.
        let t = totals(1_500, 30, "40.00", 0);
        assert_eq!(evaluate(&RuleSpec::seed(), &t), Verdict::NotTriggered);
        // Nor is it ever a low CPA, and no spend at all is no CPA at all.
        let low_cpa = RuleSpec {
            conditions: Conditions::Any(vec![filter(RuleMetric::Cpa, Op::Lt, "1000")]),
            ..RuleSpec::seed()
        };
        assert_eq!(evaluate(&low_cpa, &t), Verdict::NotTriggered);
        let idle = totals(1_500, 30, "0", 0);
        assert_eq!(evaluate(&RuleSpec::seed(), &idle), Verdict::NotTriggered);
    }

    #[test]
    fn other_undefined_ratios_never_match() {
        let spec = RuleSpec {
            conditions: Conditions::Any(vec![
                filter(RuleMetric::Cpc, Op::Gt, "1"),
                filter(RuleMetric::Roas, Op::Lt, "1"),
                filter(RuleMetric::Ctr, Op::Lt, "1"),
            ]),
            guards: Guards::default(),
            ..RuleSpec::seed()
        };
        // 0 clicks (CPC undefined), 0 spend (ROAS undefined), 0 impressions (CTR undefined).
        let t = totals(0, 0, "0", 0);
        assert_eq!(evaluate(&spec, &t), Verdict::NotTriggered);
    }

    #[test]
    fn all_needs_every_filter() {
        let spec = RuleSpec {
            conditions: Conditions::All(vec![
                filter(RuleMetric::Ctr, Op::Lt, "1"),
                filter(RuleMetric::Spend, Op::Gte, "500"),
            ]),
            ..RuleSpec::seed()
        };
        // CTR 10 / 2,000 = 0.5 % matches; spend 499.99 does not.
        assert_eq!(
            evaluate(&spec, &totals(2_000, 10, "499.99", 0)),
            Verdict::NotTriggered
        );
        let trigger = triggered(evaluate(&spec, &totals(2_000, 10, "1500", 0)));
        assert_eq!(
            trigger.reason,
            "CTR 0.5 % < 1 % and spend 1,500.00 ≥ 500 over the last 3 days (spend 1,500.00, 2,000 impressions)"
        );
        let none = RuleSpec {
            conditions: Conditions::All(vec![]),
            ..RuleSpec::seed()
        };
        assert_eq!(
            evaluate(&none, &totals(2_000, 10, "1500", 0)),
            Verdict::NotTriggered,
            "an empty All never fires"
        );
    }

    #[test]
    fn values_hidden_by_rounding_are_shown_with_four_decimals() {
        // 2,994 / 300,000 × 100 = 0.998 % < 1 %, which 2 dp would show as "1".
        let t = totals(300_000, 2_994, "100", 10);
        let trigger = triggered(evaluate(&RuleSpec::seed(), &t));
        assert!(
            trigger.reason.starts_with("CTR 0.998 % < 1 % over"),
            "{}",
            trigger.reason
        );
    }

    #[test]
    fn counts_and_ratios_are_judged_and_shown_in_their_units() {
        let spec = RuleSpec {
            level: RuleLevel::Ad,
            conditions: Conditions::All(vec![
                filter(RuleMetric::Clicks, Op::Lte, "1500"),
                filter(RuleMetric::Roas, Op::Lt, "1.5"),
                filter(RuleMetric::Cpm, Op::Gt, "20"),
            ]),
            window_days: 7,
            action: RuleAction::Notify,
            ..RuleSpec::seed()
        };
        // ROAS 150 / 120 = 1.25; CPM 120 / 5,000 × 1000 = 24.00.
        let t = KpiTotals {
            revenue: d("150"),
            ..totals(5_000, 1_204, "120", 3)
        };
        let trigger = triggered(evaluate(&spec, &t));
        assert_eq!(
            trigger.reason,
            "clicks 1,204 ≤ 1,500 and ROAS 1.25 < 1.5 and CPM 24.00 > 20 over the last 7 days (spend 120.00, 5,000 impressions)"
        );
    }

    #[test]
    fn windows_end_on_the_last_day_and_evaluations_judge_up_to_yesterday() {
        let w = window_ending(date!(2025 - 05 - 10), 3);
        assert_eq!(
            (w.from(), w.to()),
            (date!(2025 - 05 - 08), date!(2025 - 05 - 10))
        );
        let w = window_ending(date!(2025 - 03 - 01), 1);
        assert_eq!(
            (w.from(), w.to()),
            (date!(2025 - 03 - 01), date!(2025 - 03 - 01))
        );
        assert_eq!(
            window_ending(date!(2025 - 03 - 01), 0),
            w,
            "0 days counts as 1"
        );
        let w = evaluation_window(date!(2025 - 03 - 01), 3);
        assert_eq!(
            (w.from(), w.to()),
            (date!(2025 - 02 - 26), date!(2025 - 02 - 28))
        );
    }

    #[test]
    fn window_totals_sums_only_rows_inside_and_is_none_without_rows() {
        let days = vec![
            (date!(2025 - 05 - 11), totals(100, 1, "1", 0)),
            (date!(2025 - 05 - 08), totals(10, 2, "2.50", 1)),
            (date!(2025 - 05 - 07), totals(1_000, 3, "3", 0)),
            (date!(2025 - 05 - 10), totals(20, 4, "4.25", 2)),
        ];
        let w = window_ending(date!(2025 - 05 - 10), 3);
        assert_eq!(window_totals(&days, w), Some(totals(30, 6, "6.75", 3)));
        let empty = window_ending(date!(2025 - 05 - 01), 3);
        assert_eq!(window_totals(&days, empty), None);
    }
}
