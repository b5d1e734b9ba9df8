//! A REBALANCE rule's run: the allocator ([`crate::analysis::allocator`])
//! over the account's campaigns' window totals, each move a budget
//! suggestion. Live evaluation and the backtest both call [`rebalance`], so
//! a backtest replays exactly what the live rule would have proposed.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::eval::{MetricSnapshot, Trigger, guard_reason};
use super::over_last;
use super::proposal::Proposal;
use super::spec::{RuleAction, RuleSpec};
use crate::analysis::allocator::{AllocatorBounds, CampaignBudget, allocate};
use crate::kpi::KpiTotals;

/// One campaign as a REBALANCE run sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebalanceCandidate {
    /// The campaign.
    pub entity_id: Uuid,
    /// Its daily budget now; campaigns without one are left out.
    pub daily_budget: Option<Decimal>,
    /// Its totals over the rule's window.
    pub totals: KpiTotals,
}

/// One campaign's share of a rebalance: what its suggestion stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebalanceMove {
    /// The campaign.
    pub entity_id: Uuid,
    /// `BUDGET_UP` or `BUDGET_DOWN` by the move's percent (2 dp), so an
    /// accepted move applies like any budget suggestion.
    pub action: RuleAction,
    /// The budget change, at cents.
    pub proposal: Proposal,
    /// The campaign's metrics and the allocator's sentence, e.g. "ROAS 4.10
    /// vs portfolio 2.50 (12 conversions): +20 % (100.00 → 120.00), judged
    /// over the last 7 days".
    pub trigger: Trigger,
}

/// The moves a REBALANCE `spec` proposes over `candidates` (the account's
/// active campaigns with data in the window), in input order. Guarded
/// campaigns (below `min_spend` or `min_impressions`) and campaigns without
/// a daily budget or spend are not judged and do not count toward the
/// portfolio ROAS. Σ of the new budgets equals Σ of the old ones, to the
/// cent. Empty for any other action, or with fewer than two campaigns to
/// trade between.
#[must_use]
pub fn rebalance(spec: &RuleSpec, candidates: &[RebalanceCandidate]) -> Vec<RebalanceMove> {
    let RuleAction::Rebalance {
        max_change_percent,
        min_budget,
    } = spec.action
    else {
        return Vec::new();
    };
    let Ok(bounds) = AllocatorBounds::new(max_change_percent, min_budget, Decimal::ZERO) else {
        return Vec::new(); // a validated spec never gets here
    };
    let judged: Vec<(&RebalanceCandidate, MetricSnapshot)> = candidates
        .iter()
        .map(|c| (c, MetricSnapshot::of(&c.totals)))
        .filter(|(c, m)| c.daily_budget.is_some() && guard_reason(&spec.guards, m).is_none())
        .collect();
    let budgets: Vec<CampaignBudget> = judged
        .iter()
        .enumerate()
        .filter_map(|(i, (c, _))| {
            Some(CampaignBudget {
                id: i.to_string(),
                daily_budget: c.daily_budget?,
                spend: c.totals.spend,
                revenue: c.totals.revenue,
                conversions: c.totals.conversions,
            })
        })
        .collect();
    let over = over_last(spec.window_days);
    allocate(&budgets, &bounds)
        .into_iter()
        .filter_map(|m| {
            let (c, metrics) = judged.get(m.id.parse::<usize>().ok()?)?;
            let percent = m.change_pct.abs();
            let action = if m.to_budget > m.from_budget {
                RuleAction::BudgetUp { percent }
            } else {
                RuleAction::BudgetDown { percent }
            };
            Some(RebalanceMove {
                entity_id: c.entity_id,
                action,
                proposal: Proposal::Budget {
                    from: m.from_budget,
                    to: m.to_budget,
                },
                trigger: Trigger {
                    matched: Vec::new(),
                    metrics: *metrics,
                    reason: format!("{}, judged {over}", m.reason),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Conditions, Guards};
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn spec(guards: Guards) -> RuleSpec {
        RuleSpec {
            name: "Rebalance".to_owned(),
            conditions: Conditions::Any(vec![]),
            window_days: 7,
            guards,
            action: RuleAction::Rebalance {
                max_change_percent: d("20"),
                min_budget: d("10"),
            },
            ..RuleSpec::seed()
        }
    }

    fn candidate(n: u8, budget: Option<&str>, spend: &str, revenue: &str) -> RebalanceCandidate {
        RebalanceCandidate {
            entity_id: Uuid::from_u128(u128::from(n)),
            daily_budget: budget.map(d),
            totals: KpiTotals {
                impressions: 10_000,
                clicks: 150,
                spend: d(spend),
                conversions: 12,
                revenue: d(revenue),
                ..KpiTotals::default()
            },
        }
    }

    #[test]
    fn moves_budget_from_low_to_high_roas_as_budget_up_and_down_suggestions() {
        // Portfolio ROAS (410 + 90) / 200 = 2.5; each side wants its full 20 %.
        let winner = candidate(1, Some("100"), "100", "410");
        let loser = candidate(2, Some("100"), "100", "90");
        let no_budget = candidate(3, None, "100", "1000");
        let moves = rebalance(
            &spec(Guards::default()),
            &[loser.clone(), no_budget, winner.clone()],
        );
        assert_eq!(moves.len(), 2);
        assert_eq!(moves[0].entity_id, loser.entity_id);
        assert_eq!(moves[0].action, RuleAction::BudgetDown { percent: d("20") });
        assert_eq!(
            moves[0].proposal,
            Proposal::Budget {
                from: d("100.00"),
                to: d("80.00")
            }
        );
        assert_eq!(moves[1].entity_id, winner.entity_id);
        assert_eq!(moves[1].action, RuleAction::BudgetUp { percent: d("20") });
        assert_eq!(
            moves[1].trigger.reason,
            "ROAS 4.10 vs portfolio 2.50 (12 conversions): +20 % (100.00 → 120.00), judged over the last 7 days"
        );
        assert_eq!(moves[1].trigger.metrics.roas, Some(d("4.1")));
        assert!(moves[1].trigger.matched.is_empty());
    }

    #[test]
    fn guarded_campaigns_are_left_out_of_the_portfolio() {
        // With the thin campaign (ROAS 10) judged, the middle one would give;
        // guarded out, it is the best of the two left and takes.
        let thin = candidate(4, Some("100"), "5", "50");
        let middle = candidate(5, Some("100"), "100", "300");
        let weak = candidate(6, Some("100"), "100", "100");
        let guards = Guards {
            min_spend: Some(d("50")),
            min_impressions: None,
        };
        let moves = rebalance(&spec(guards), &[thin, middle.clone(), weak.clone()]);
        let ids: Vec<(Uuid, &str)> = moves
            .iter()
            .map(|m| (m.entity_id, m.action.kind_str()))
            .collect();
        assert_eq!(
            ids,
            [
                (middle.entity_id, "BUDGET_UP"),
                (weak.entity_id, "BUDGET_DOWN")
            ]
        );
    }

    #[test]
    fn other_actions_and_lone_campaigns_move_nothing() {
        let only = [candidate(7, Some("100"), "100", "410")];
        assert!(rebalance(&spec(Guards::default()), &only).is_empty());
        let pause = RuleSpec::seed();
        let two = [
            candidate(8, Some("100"), "100", "410"),
            candidate(9, Some("100"), "100", "90"),
        ];
        assert!(rebalance(&pause, &two).is_empty());
    }
}
