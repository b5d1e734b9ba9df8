//! Replaying a rule over history: what it would have suggested, day by day,
//! and how much spend those suggestions concerned.

use rust_decimal::Decimal;
use time::Date;
use uuid::Uuid;

use super::eval::{MetricSnapshot, Verdict, evaluate, evaluation_window, window_totals};
use super::spec::{RuleAction, RuleSpec};
use crate::ads::DateRange;
use crate::kpi::KpiTotals;

/// One entity's daily history at the rule's level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitySeries {
    /// The campaign's, ad set's or ad's id.
    pub entity_id: Uuid,
    /// Its name, for people.
    pub entity_name: String,
    /// Daily totals; may be sparse (days without delivery) and unsorted.
    pub days: Vec<(Date, KpiTotals)>,
}

/// What the rule would have suggested for one entity on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestSuggestion {
    /// The entity.
    pub entity_id: Uuid,
    /// Its name.
    pub entity_name: String,
    /// The rule's action.
    pub action: RuleAction,
    /// The window judged (ending the day before the suggestion's date).
    pub window: DateRange,
    /// The entity's metrics over the window.
    pub metrics: MetricSnapshot,
    /// The same sentence a live suggestion would carry.
    pub reason: String,
    /// Spend over the window.
    pub spend: Decimal,
}

/// The suggestions of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestDay {
    /// The day the evaluation would have run.
    pub date: Date,
    /// One per triggered entity, in the order of the input series.
    pub suggestions: Vec<BacktestSuggestion>,
}

/// Sums over the whole backtest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BacktestTotals {
    /// Number of suggestions.
    pub suggestions: usize,
    /// Σ of each suggestion's window spend. Windows of consecutive days
    /// overlap, so an entity suggested three days running counts its
    /// overlapping spend three times: this measures how much spend the
    /// suggestions were about, not how much money was spent.
    pub spend_affected: Decimal,
}

/// A rule's replay.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Backtest {
    /// Days with at least one suggestion, oldest first.
    pub days: Vec<BacktestDay>,
    /// Counts and spend over all days.
    pub totals: BacktestTotals,
}

/// Replays `spec` over `range`: for each day `d` (the day the evaluation
/// would run), every entity is judged on [`evaluation_window`]`(d, …)` —
/// the window ending the day before — through the same [`window_totals`]
/// and [`evaluate`] the live evaluator uses, so the result is what the rule,
/// run once a day, would have suggested. Entities without rows in a window
/// are not judged that day; guarded entities are not suggested. `enabled`
/// and `schedule` are ignored (a disabled rule can be tried first).
#[must_use]
pub fn backtest(spec: &RuleSpec, series: &[EntitySeries], range: DateRange) -> Backtest {
    // Sorted once, so each day's window is a slice found by binary search.
    let sorted: Vec<Vec<(Date, KpiTotals)>> = series
        .iter()
        .map(|s| {
            let mut days = s.days.clone();
            days.sort_by_key(|(day, _)| *day);
            days
        })
        .collect();

    let mut result = Backtest::default();
    let mut date = range.from();
    loop {
        let window = evaluation_window(date, spec.window_days);
        let mut suggestions = Vec::new();
        for (entity, days) in series.iter().zip(&sorted) {
            let start = days.partition_point(|(day, _)| *day < window.from());
            let end = days.partition_point(|(day, _)| *day <= window.to());
            let Some(totals) = window_totals(&days[start..end], window) else {
                continue;
            };
            if let Verdict::Triggered(trigger) = evaluate(spec, &totals) {
                suggestions.push(BacktestSuggestion {
                    entity_id: entity.entity_id,
                    entity_name: entity.entity_name.clone(),
                    action: spec.action,
                    window,
                    metrics: trigger.metrics,
                    reason: trigger.reason,
                    spend: totals.spend,
                });
            }
        }
        if !suggestions.is_empty() {
            result.totals.suggestions += suggestions.len();
            result.totals.spend_affected += suggestions.iter().map(|s| s.spend).sum::<Decimal>();
            result.days.push(BacktestDay { date, suggestions });
        }
        match date.next_day() {
            Some(next) if date < range.to() => date = next,
            _ => break,
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::eval::window_ending;
    use crate::rules::spec::{Conditions, Filter, Guards, Op, RuleMetric};
    use std::str::FromStr;
    use time::Duration;
    use time::macros::date;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    const DAY1: Date = date!(2025 - 06 - 01);

    fn day(n: i64) -> Date {
        DAY1 + Duration::days(n - 1)
    }

    /// 500 impressions, `clicks` clicks, `spend` spent, 1 conversion.
    fn row(n: i64, clicks: i64, spend: &str) -> (Date, KpiTotals) {
        (
            day(n),
            KpiTotals {
                impressions: 500,
                clicks,
                spend: d(spend),
                conversions: 1,
                ..KpiTotals::default()
            },
        )
    }

    fn range(from: i64, to: i64) -> DateRange {
        DateRange::new(day(from), day(to)).unwrap()
    }

    fn entity(n: u128, name: &str, days: Vec<(Date, KpiTotals)>) -> EntitySeries {
        EntitySeries {
            entity_id: Uuid::from_u128(n),
            entity_name: name.to_owned(),
            days,
        }
    }

    /// 10 days of the seed rule (CTR < 1 % or CPA > 50 over 3 days, at least
    /// 1,000 impressions) on two campaigns, rows given out of order.
    ///
    /// "Steady": every day 500 impressions, 10 clicks (2 %), 20.00, 1
    /// conversion → any 3 days: CTR 2 %, CPA 20.00: never suggested.
    ///
    /// "Slump": days 1–4 like Steady; days 5–7 only 2 clicks (0.4 %);
    /// days 8–10 like Steady again; day 6 missing (no delivery).
    #[test]
    fn backtest_over_ten_days_returns_exactly_the_expected_days_and_spend() {
        let steady = entity(
            1,
            "Steady",
            (1..=10).rev().map(|n| row(n, 10, "20.00")).collect(),
        );
        let slump_days = vec![
            row(10, 10, "20.00"),
            row(1, 10, "20.00"),
            row(5, 2, "30.00"),
            row(2, 10, "20.00"),
            row(7, 2, "30.00"),
            row(3, 10, "20.00"),
            row(8, 10, "20.00"),
            row(4, 10, "20.00"),
            row(9, 10, "20.00"),
        ];
        let slump = entity(2, "Slump", slump_days);
        let result = backtest(&RuleSpec::seed(), &[steady, slump], range(1, 10));

        // Run day → window → Slump's rows in it:
        //  1 → May 29–31: none (not judged)     2 → d1: 500 impr. (guarded)
        //  3 → d1–2: 1,000 impr., CTR 2 %      4 → d1–3: CTR 2 %
        //  5 → d2–4: CTR 2 %                   6 → d3–5: 22/1,500 = 1.4667 %
        //  7 → d4–6: 12/1,000 = 1.2 %          8 → d5–7: 4/1,000 = 0.4 % ✓ (60.00)
        //  9 → d6–8: 12/1,000 = 1.2 %         10 → d7–9: 22/1,500 = 1.4667 %
        // CPA stays ≤ 30.00 throughout.
        assert_eq!(result.days.len(), 1);
        let only = &result.days[0];
        assert_eq!(only.date, day(8));
        assert_eq!(only.suggestions.len(), 1);
        let s = &only.suggestions[0];
        assert_eq!(s.entity_id, Uuid::from_u128(2));
        assert_eq!(s.entity_name, "Slump");
        assert_eq!(s.action, RuleAction::Pause);
        assert_eq!(s.window, range(5, 7));
        assert_eq!(s.spend, d("60.00"));
        assert_eq!(s.metrics.ctr, Some(d("0.4")));
        assert_eq!(
            s.reason,
            "CTR 0.4 % < 1 % over the last 3 days (spend 60.00, 1,000 impressions)"
        );
        assert_eq!(
            result.totals,
            BacktestTotals {
                suggestions: 1,
                spend_affected: d("60.00"),
            }
        );
    }

    #[test]
    fn backtest_counts_window_spend_once_per_suggestion() {
        // Every day 1,000 impressions, 5 clicks (0.5 %), 10.00 spent: a
        // 1-day rule fires on run days 2..=4 (windows d1, d2, d3); the run on
        // day 1 judges the day before day 1, which has no row.
        let rows = (1..=4)
            .map(|n| {
                (
                    day(n),
                    KpiTotals {
                        impressions: 1_000,
                        clicks: 5,
                        spend: d("10.00"),
                        ..KpiTotals::default()
                    },
                )
            })
            .collect();
        let spec = RuleSpec {
            window_days: 1,
            ..RuleSpec::seed()
        };
        let result = backtest(&spec, &[entity(7, "Weak", rows)], range(1, 4));
        let dates: Vec<Date> = result.days.iter().map(|x| x.date).collect();
        assert_eq!(dates, [day(2), day(3), day(4)]);
        assert_eq!(result.totals.suggestions, 3);
        assert_eq!(result.totals.spend_affected, d("30.00"));
    }

    #[test]
    fn backtest_skips_entities_without_rows_in_the_window() {
        // "No impressions" fires on a day with a row of zero impressions,
        // but days without any row are not judged as zeros: otherwise every
        // day after the campaign stopped would be flagged.
        let idle = RuleSpec {
            conditions: Conditions::Any(vec![Filter {
                metric: RuleMetric::Impressions,
                op: Op::Lte,
                value: Decimal::ZERO,
            }]),
            guards: Guards::default(),
            window_days: 1,
            ..RuleSpec::seed()
        };
        let once = entity(
            3,
            "Once",
            vec![(
                day(1),
                KpiTotals {
                    impressions: 0,
                    spend: d("100.00"),
                    ..KpiTotals::default()
                },
            )],
        );
        let result = backtest(&idle, std::slice::from_ref(&once), range(1, 10));
        let dates: Vec<Date> = result.days.iter().map(|x| x.date).collect();
        assert_eq!(dates, [day(2)], "only the run whose window holds a row");
        assert_eq!(result.totals.spend_affected, d("100.00"));

        let none = backtest(
            &RuleSpec::seed(),
            &[entity(4, "Empty", vec![])],
            range(1, 10),
        );
        assert_eq!(none, Backtest::default());
    }

    #[test]
    fn backtest_matches_the_live_evaluation_of_each_day() {
        let series = vec![entity(
            5,
            "Mixed",
            (1..=6).map(|n| row(n, n, "40.00")).collect(),
        )];
        let spec = RuleSpec::seed();
        let result = backtest(&spec, &series, range(1, 7));
        let mut live = Vec::new();
        for n in 1..=7 {
            let window = evaluation_window(day(n), spec.window_days);
            assert_eq!(window, window_ending(day(n - 1), 3));
            if let Some(t) = window_totals(&series[0].days, window)
                && matches!(evaluate(&spec, &t), Verdict::Triggered(_))
            {
                live.push(day(n));
            }
        }
        let replayed: Vec<Date> = result.days.iter().map(|x| x.date).collect();
        assert_eq!(replayed, live);
        assert!(!live.is_empty());
    }
}
