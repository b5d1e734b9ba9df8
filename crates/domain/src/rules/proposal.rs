//! What a triggered rule proposes for one entity, in concrete numbers.

use rust_decimal::{Decimal, RoundingStrategy};

use super::money;
use super::spec::RuleAction;
use crate::kpi::MONEY_DP;

/// The lowest daily budget a proposal sets (account currency). A budget
/// cut never goes to zero (that is PAUSE); platforms' own minimums are
/// higher and vary by currency, so the adapter applying it may still refuse.
pub const MIN_DAILY_BUDGET: Decimal = Decimal::ONE;

/// The concrete change a suggestion proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proposal {
    /// Pause the entity.
    Pause,
    /// Set the daily budget from `from` to `to` (both at cents).
    Budget {
        /// The daily budget when the suggestion was made.
        from: Decimal,
        /// The proposed daily budget.
        to: Decimal,
    },
    /// Change nothing; tell people.
    Notify,
}

impl Proposal {
    /// For people: `pause`, `budget 100.00 → 120.00`, `notify`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Proposal::Pause => "pause".to_owned(),
            Proposal::Budget { from, to } => format!("budget {} → {}", money(*from), money(*to)),
            Proposal::Notify => "notify".to_owned(),
        }
    }
}

/// Why [`propose`] has nothing to propose for this entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProposalError {
    /// A budget action, but the entity has no positive daily budget (a
    /// lifetime budget, a budget set at the other level, or an ad).
    #[error("the entity has no daily budget to change")]
    NoDailyBudget,
    /// The budget would not move in the action's direction: already at the
    /// [`MIN_DAILY_BUDGET`] floor, or a change smaller than a cent.
    #[error("the budget would not change")]
    Unchanged,
    /// REBALANCE proposes across campaigns at once ([`super::rebalance`]),
    /// never for one entity alone.
    #[error("a rebalance proposes across campaigns, not for one entity")]
    AcrossCampaigns,
}

/// The proposal for `action` on an entity whose daily budget is
/// `current_daily_budget`. Budgets move by the action's percent of the
/// current budget (taken at cents), rounded to cents half away from zero;
/// a result below [`MIN_DAILY_BUDGET`] becomes that floor. `action` is
/// expected to come from a validated [`super::RuleSpec`].
///
/// # Errors
/// [`ProposalError::NoDailyBudget`] for a budget action without a positive
/// daily budget; [`ProposalError::Unchanged`] when the rounded, clamped
/// budget does not move in the action's direction.
pub fn propose(
    action: &RuleAction,
    current_daily_budget: Option<Decimal>,
) -> Result<Proposal, ProposalError> {
    let (percent, up) = match *action {
        RuleAction::Pause => return Ok(Proposal::Pause),
        RuleAction::Notify => return Ok(Proposal::Notify),
        RuleAction::Rebalance { .. } => return Err(ProposalError::AcrossCampaigns),
        RuleAction::BudgetUp { percent } => (percent, true),
        RuleAction::BudgetDown { percent } => (percent, false),
    };
    let from = current_daily_budget
        .map(round_cents)
        .filter(|b| *b > Decimal::ZERO)
        .ok_or(ProposalError::NoDailyBudget)?;
    let factor = if up {
        Decimal::ONE_HUNDRED.checked_add(percent)
    } else {
        Decimal::ONE_HUNDRED.checked_sub(percent)
    };
    let to = factor
        .and_then(|f| from.checked_mul(f))
        .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
        .map(round_cents)
        .ok_or(ProposalError::Unchanged)?
        .max(MIN_DAILY_BUDGET);
    let moves = if up { to > from } else { to < from };
    if moves {
        Ok(Proposal::Budget { from, to })
    } else {
        Err(ProposalError::Unchanged)
    }
}

/// At cents, half away from zero (how budgets are shown and set).
fn round_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(MONEY_DP, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn up(p: &str) -> RuleAction {
        RuleAction::BudgetUp { percent: d(p) }
    }

    fn down(p: &str) -> RuleAction {
        RuleAction::BudgetDown { percent: d(p) }
    }

    fn budget(from: &str, to: &str) -> Proposal {
        Proposal::Budget {
            from: d(from),
            to: d(to),
        }
    }

    #[test]
    fn budget_up_and_down_by_percent() {
        assert_eq!(propose(&up("20"), Some(d("100"))), Ok(budget("100", "120")));
        assert_eq!(
            propose(&down("20"), Some(d("100"))),
            Ok(budget("100", "80"))
        );
        assert_eq!(
            propose(&up("100"), Some(d("35.50"))),
            Ok(budget("35.50", "71.00"))
        );
    }

    #[test]
    fn budget_changes_round_to_cents_half_away_from_zero() {
        // 33.33 × 1.15 = 38.3295 → 38.33; 10.05 × 0.95 = 9.5475 → 9.55;
        // 12.45 × 0.9 = 11.205 → 11.21 (banker's rounding would give 11.20).
        assert_eq!(
            propose(&up("15"), Some(d("33.33"))),
            Ok(budget("33.33", "38.33"))
        );
        assert_eq!(
            propose(&down("5"), Some(d("10.05"))),
            Ok(budget("10.05", "9.55"))
        );
        assert_eq!(
            propose(&down("10"), Some(d("12.45"))),
            Ok(budget("12.45", "11.21"))
        );
        // The current budget is taken at cents first: 99.995 → 100.00.
        assert_eq!(
            propose(&up("10"), Some(d("99.995"))),
            Ok(budget("100.00", "110"))
        );
    }

    #[test]
    fn budget_cuts_are_clamped_to_one_and_never_raise_a_budget() {
        // 1.20 × 0.5 = 0.60 → floor 1.00.
        assert_eq!(
            propose(&down("50"), Some(d("1.20"))),
            Ok(budget("1.20", "1.00"))
        );
        // Already at the floor, or below it: a cut cannot move it down.
        assert_eq!(
            propose(&down("50"), Some(d("1.00"))),
            Err(ProposalError::Unchanged)
        );
        assert_eq!(
            propose(&down("10"), Some(d("0.80"))),
            Err(ProposalError::Unchanged)
        );
        // A raise from below the floor goes to the floor at least.
        assert_eq!(
            propose(&up("10"), Some(d("0.50"))),
            Ok(budget("0.50", "1.00"))
        );
        // Less than a cent of change is no change: 1.00 × 1.001 = 1.001 → 1.00.
        assert_eq!(
            propose(&up("0.1"), Some(d("1.00"))),
            Err(ProposalError::Unchanged)
        );
    }

    #[test]
    fn budget_actions_need_a_positive_daily_budget() {
        assert_eq!(propose(&up("20"), None), Err(ProposalError::NoDailyBudget));
        assert_eq!(
            propose(&down("20"), Some(d("0"))),
            Err(ProposalError::NoDailyBudget)
        );
        assert_eq!(propose(&RuleAction::Pause, None), Ok(Proposal::Pause));
        assert_eq!(propose(&RuleAction::Notify, None), Ok(Proposal::Notify));
    }

    #[test]
    fn proposals_describe_themselves() {
        assert_eq!(Proposal::Pause.describe(), "pause");
        assert_eq!(Proposal::Notify.describe(), "notify");
        assert_eq!(budget("100", "120").describe(), "budget 100.00 → 120.00");
        assert_eq!(
            budget("1500", "1200.5").describe(),
            "budget 1,500.00 → 1,200.50"
        );
    }
}
