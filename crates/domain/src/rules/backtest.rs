//! Replaying a rule over history: what it would have suggested, day by day,
//! and how much spend those suggestions concerned.

use rust_decimal::Decimal;
use time::Date;
use uuid::Uuid;

use super::eval::{MetricSnapshot, Trigger, Verdict, evaluate, evaluation_window, window_totals};
use super::rebalance::{RebalanceCandidate, rebalance};
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
    /// Its daily budget now, which a REBALANCE replay trades with (history
    /// of budgets is not kept); other actions ignore it.
    pub daily_budget: Option<Decimal>,
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
    /// The rule's action; for a REBALANCE, the move's `BUDGET_UP` or
    /// `BUDGET_DOWN` with its percent.
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

impl Backtest {
    /// Adds another replay's days (another ad account's, say) to this one:
    /// days of the same date are joined (this one's suggestions first), the
    /// others slot in by date, totals add up.
    pub fn absorb(&mut self, other: Backtest) {
        for day in other.days {
            match self.days.binary_search_by_key(&day.date, |d| d.date) {
                Ok(i) => self.days[i].suggestions.extend(day.suggestions),
                Err(i) => self.days.insert(i, day),
            }
        }
        self.totals.suggestions += other.totals.suggestions;
        self.totals.spend_affected += other.totals.spend_affected;
    }
}

/// Replays `spec` over `range`: for each day `d` (the day the evaluation
/// would run), every entity is judged on [`evaluation_window`]`(d, …)` —
/// the window ending the day before — through the same [`window_totals`]
/// and [`evaluate`] the live evaluator uses, so the result is what the rule,
/// run once a day, would have suggested. Entities without rows in a window
/// are not judged that day; guarded entities are not suggested. A
/// REBALANCE rule runs [`rebalance`] over the day's judged entities with
/// their current budgets (`EntitySeries::daily_budget`). `enabled` and
/// `schedule` are ignored (a disabled rule can be tried first).
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
        let judged: Vec<(&EntitySeries, KpiTotals)> = series
            .iter()
            .zip(&sorted)
            .filter_map(|(entity, days)| {
                let start = days.partition_point(|(day, _)| *day < window.from());
                let end = days.partition_point(|(day, _)| *day <= window.to());
                window_totals(&days[start..end], window).map(|totals| (entity, totals))
            })
            .collect();
        let suggestion =
            |entity: &EntitySeries, action, trigger: Trigger, spend| BacktestSuggestion {
                entity_id: entity.entity_id,
                entity_name: entity.entity_name.clone(),
                action,
                window,
                metrics: trigger.metrics,
                reason: trigger.reason,
                spend,
            };
        let suggestions: Vec<BacktestSuggestion> =
            if matches!(spec.action, RuleAction::Rebalance { .. }) {
                let candidates: Vec<RebalanceCandidate> = judged
                    .iter()
                    .map(|(e, totals)| RebalanceCandidate {
                        entity_id: e.entity_id,
                        daily_budget: e.daily_budget,
                        totals: *totals,
                    })
                    .collect();
                rebalance(spec, &candidates)
                    .into_iter()
                    .filter_map(|m| {
                        let (e, totals) =
                            judged.iter().find(|(e, _)| e.entity_id == m.entity_id)?;
                        Some(suggestion(e, m.action, m.trigger, totals.spend))
                    })
                    .collect()
            } else {
                judged
                    .iter()
                    .filter_map(|(e, totals)| match evaluate(spec, totals) {
                        Verdict::Triggered(t) => Some(suggestion(e, spec.action, t, totals.spend)),
                        _ => None,
                    })
                    .collect()
            };
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
            daily_budget: Some(d("100")),
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

    #[test]
    fn backtest_replays_a_rebalance_with_current_budgets() {
        // "Strong" returns 4.00 per 1 spent, "Weak" 1.00: portfolio 2.50, so
        // every day with both in the window moves 20 % of 100 from Weak to
        // Strong. Day 3's window (days 1–2) has only Strong's day 1: nothing.
        let earning = |n: i64, revenue: &str| {
            let (date, mut t) = row(n, 10, "10.00");
            t.revenue = d(revenue);
            (date, t)
        };
        let strong = entity(1, "Strong", (1..=4).map(|n| earning(n, "40")).collect());
        let weak = entity(2, "Weak", (3..=4).map(|n| earning(n, "10")).collect());
        let spec = RuleSpec {
            conditions: Conditions::Any(vec![]),
            window_days: 2,
            action: RuleAction::Rebalance {
                max_change_percent: d("20"),
                min_budget: d("1"),
            },
            guards: Guards::default(),
            ..RuleSpec::seed()
        };
        let result = backtest(&spec, &[strong, weak], range(3, 5));
        let days: Vec<Date> = result.days.iter().map(|d| d.date).collect();
        assert_eq!(days, [day(4), day(5)]);
        let first: Vec<(&str, RuleAction)> = result.days[0]
            .suggestions
            .iter()
            .map(|s| (s.entity_name.as_str(), s.action))
            .collect();
        assert_eq!(
            first,
            [
                ("Strong", RuleAction::BudgetUp { percent: d("20") }),
                ("Weak", RuleAction::BudgetDown { percent: d("20") }),
            ]
        );
        assert!(
            result.days[0].suggestions[0]
                .reason
                .contains("100.00 → 120.00")
        );
        assert_eq!(result.totals.suggestions, 4);
        // Day 4: Strong 20 (days 2–3) + Weak 10 (day 3); day 5: 20 + 20.
        assert_eq!(result.totals.spend_affected, d("70.00"));
    }

    #[test]
    fn absorbing_another_replay_joins_days_by_date_and_adds_totals() {
        let slump = |n: u128| entity(n, "Slump", (1..=4).map(|d| row(d, 2, "30.00")).collect());
        let mut a = backtest(&RuleSpec::seed(), &[slump(1)], range(4, 5));
        let b = backtest(&RuleSpec::seed(), &[slump(2)], range(5, 6));
        let both = backtest(&RuleSpec::seed(), &[slump(1)], range(4, 5)).totals;
        a.absorb(b);
        let days: Vec<(Date, usize)> = a
            .days
            .iter()
            .map(|d| (d.date, d.suggestions.len()))
            .collect();
        assert_eq!(days, [(day(4), 1), (day(5), 2), (day(6), 1)]);
        assert_eq!(a.totals.suggestions, 4);
        assert!(a.totals.spend_affected > both.spend_affected);
        assert_eq!(a.days[1].suggestions[0].entity_id, Uuid::from_u128(1));
    }
}
