//! Budget allocator: suggests moving daily budget from campaigns that return
//! less than the portfolio to those that return more. Suggestions only:
//! nothing here changes a budget.
//!
//! Rules, in order:
//! 1. Eligible campaigns have a positive budget and spent at least
//!    `min_spend` (and more than 0); others are left out of everything,
//!    including the portfolio ROAS. Fewer than two eligible → no moves.
//! 2. Portfolio ROAS `P` = Σ revenue / Σ spend of the eligible campaigns;
//!    each campaign's distance is `roas − P` (ROAS as [`Kpis::from_totals`]
//!    gives it, 4 dp). All equal → no moves.
//! 3. On each side (below `P` gives, above `P` takes) the campaign farthest
//!    from `P` wants the full `max_change_pct` of its budget, the others
//!    `max_change_pct × distance / farthest distance`. Givers never go below
//!    `min_budget`; every cap is floored to the cent so it is never exceeded.
//! 4. The amount moved is the smaller side's total (floored to the cent); the
//!    larger side is scaled down proportionally. Each side's cents are
//!    apportioned by largest remainder, so the total of all budgets is
//!    conserved exactly.

use std::cmp::Ordering;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::kpi::{KpiTotals, Kpis, MONEY_DP};

/// One campaign as the allocator sees it, totals over the judged window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignBudget {
    /// Opaque key the caller uses to match moves back to campaigns.
    pub id: String,
    /// Current daily budget; taken at cents (rounded half away from zero).
    pub daily_budget: Decimal,
    /// Spend over the window.
    pub spend: Decimal,
    /// Attributed revenue over the window.
    pub revenue: Decimal,
    /// Conversions over the window (shown in the reason, not used to decide).
    pub conversions: i64,
}

/// Why [`AllocatorBounds::new`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AllocatorBoundsError {
    /// The daily change limit is not in (0, 100] percent.
    #[error("the maximum daily change must be more than 0 % and at most 100 %")]
    MaxChange,
    /// The minimum budget is negative.
    #[error("the minimum budget cannot be negative")]
    MinBudget,
    /// The minimum spend is negative.
    #[error("the minimum spend cannot be negative")]
    MinSpend,
}

/// Limits a suggestion must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocatorBounds {
    max_change_pct: Decimal,
    min_budget: Decimal,
    min_spend: Decimal,
}

impl AllocatorBounds {
    /// `max_change_pct`: most a budget may change in one day, in percent of
    /// itself (20 = ±20 %). `min_budget`: no budget is cut below it.
    /// `min_spend`: campaigns that spent less are not judged.
    ///
    /// # Errors
    /// [`AllocatorBoundsError`] when `max_change_pct` is not in (0, 100] or a
    /// minimum is negative.
    pub fn new(
        max_change_pct: Decimal,
        min_budget: Decimal,
        min_spend: Decimal,
    ) -> Result<Self, AllocatorBoundsError> {
        if max_change_pct <= Decimal::ZERO || max_change_pct > Decimal::ONE_HUNDRED {
            return Err(AllocatorBoundsError::MaxChange);
        }
        if min_budget < Decimal::ZERO {
            return Err(AllocatorBoundsError::MinBudget);
        }
        if min_spend < Decimal::ZERO {
            return Err(AllocatorBoundsError::MinSpend);
        }
        Ok(Self {
            max_change_pct,
            min_budget,
            min_spend,
        })
    }

    /// Most a budget may change in one day, percent of itself.
    #[must_use]
    pub fn max_change_pct(&self) -> Decimal {
        self.max_change_pct
    }

    /// Floor no budget is cut below.
    #[must_use]
    pub fn min_budget(&self) -> Decimal {
        self.min_budget
    }

    /// Spend below which a campaign is not judged.
    #[must_use]
    pub fn min_spend(&self) -> Decimal {
        self.min_spend
    }
}

/// A suggested budget change for one campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetMove {
    /// The campaign's [`CampaignBudget::id`].
    pub id: String,
    /// Current daily budget, at cents.
    pub from_budget: Decimal,
    /// Suggested daily budget, at cents.
    pub to_budget: Decimal,
    /// `(to − from) / from × 100`, 2 dp, half away from zero.
    pub change_pct: Decimal,
    /// The campaign's ROAS (4 dp).
    pub roas: Decimal,
    /// ROAS of all eligible campaigns together (4 dp).
    pub portfolio_roas: Decimal,
    /// For people: "ROAS 4.10 vs portfolio 2.50 (12 conversions): +20 % (100.00 → 120.00)".
    pub reason: String,
}

/// Suggested moves, in input order, only for campaigns whose budget changes.
/// Σ `to_budget` equals Σ `from_budget` over the moves, to the cent.
#[must_use]
pub fn allocate(campaigns: &[CampaignBudget], bounds: &AllocatorBounds) -> Vec<BudgetMove> {
    let eligible: Vec<Candidate<'_>> = campaigns
        .iter()
        .filter_map(|c| Candidate::of(c, bounds))
        .collect();
    if eligible.len() < 2 {
        return Vec::new();
    }
    let portfolio = eligible
        .iter()
        .fold(KpiTotals::default(), |acc, c| acc.plus(&c.totals));
    let Some(p) = Kpis::from_totals(&portfolio).roas else {
        return Vec::new();
    };
    if eligible.iter().all(|c| c.roas == eligible[0].roas) {
        return Vec::new();
    }

    let share = bounds.max_change_pct / Decimal::ONE_HUNDRED;
    let givers = side(&eligible, p, Ordering::Less);
    let takers = side(&eligible, p, Ordering::Greater);
    let wants = |members: &[usize], giving: bool| -> Vec<(Decimal, Decimal)> {
        let farthest = members
            .iter()
            .map(|&i| (eligible[i].roas - p).abs())
            .max()
            .unwrap_or(Decimal::ZERO);
        members
            .iter()
            .map(|&i| {
                let c = &eligible[i];
                let limit = c.budget * share;
                let limit = if giving {
                    limit.min(c.budget - bounds.min_budget)
                } else {
                    limit
                };
                let cap = floor_cents(limit.max(Decimal::ZERO));
                let want = if farthest.is_zero() {
                    Decimal::ZERO
                } else {
                    c.budget * share * (c.roas - p).abs() / farthest
                };
                (want.min(cap), cap)
            })
            .collect()
    };
    let give = wants(&givers, true);
    let take = wants(&takers, false);
    let total_give: Decimal = give.iter().map(|(w, _)| *w).sum();
    let total_take: Decimal = take.iter().map(|(w, _)| *w).sum();
    let moved = floor_cents(total_give.min(total_take));
    let (Some(give_cents), Some(take_cents)) = (
        apportion(&give, total_give, moved),
        apportion(&take, total_take, moved),
    ) else {
        return Vec::new();
    };

    let mut delta = vec![Decimal::ZERO; eligible.len()];
    for (&i, cents) in givers.iter().zip(give_cents) {
        delta[i] = -cents;
    }
    for (&i, cents) in takers.iter().zip(take_cents) {
        delta[i] = cents;
    }
    eligible
        .iter()
        .zip(delta)
        .filter(|(_, d)| !d.is_zero())
        .map(|(c, d)| c.suggest(d, p))
        .collect()
}

/// An eligible campaign with its budget at cents and its ROAS.
struct Candidate<'a> {
    campaign: &'a CampaignBudget,
    totals: KpiTotals,
    budget: Decimal,
    roas: Decimal,
}

impl<'a> Candidate<'a> {
    fn of(c: &'a CampaignBudget, bounds: &AllocatorBounds) -> Option<Self> {
        let budget = round_cents(c.daily_budget);
        if budget <= Decimal::ZERO || c.spend <= Decimal::ZERO || c.spend < bounds.min_spend {
            return None;
        }
        let totals = KpiTotals {
            spend: c.spend,
            revenue: c.revenue,
            conversions: c.conversions,
            ..KpiTotals::default()
        };
        let roas = Kpis::from_totals(&totals).roas?;
        Some(Self {
            campaign: c,
            totals,
            budget,
            roas,
        })
    }

    fn suggest(&self, delta: Decimal, portfolio_roas: Decimal) -> BudgetMove {
        let from = self.budget;
        let to = from + delta;
        let change_pct = (delta * Decimal::ONE_HUNDRED / from)
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
            .normalize();
        let sign = if change_pct > Decimal::ZERO { "+" } else { "" };
        let conversions = match self.campaign.conversions {
            1 => "1 conversion".to_owned(),
            n => format!("{n} conversions"),
        };
        let reason = format!(
            "ROAS {} vs portfolio {} ({conversions}): {sign}{change_pct} % ({} → {})",
            two_dp(self.roas),
            two_dp(portfolio_roas),
            two_dp(from),
            two_dp(to),
        );
        BudgetMove {
            id: self.campaign.id.clone(),
            from_budget: from,
            to_budget: to,
            change_pct,
            roas: self.roas,
            portfolio_roas,
            reason,
        }
    }
}

/// Indexes of the candidates whose ROAS compares to `p` as `ord`.
fn side(eligible: &[Candidate<'_>], p: Decimal, ord: Ordering) -> Vec<usize> {
    (0..eligible.len())
        .filter(|&i| eligible[i].roas.cmp(&p) == ord)
        .collect()
}

/// Splits `amount` (whole cents) over members in proportion to their wants
/// (`want ≤ cap`, caps in whole cents), by largest remainder: each gets the
/// floor of its share, leftover cents go to the largest fractions (earlier
/// member on ties), never past a cap. `None` if the cents cannot be placed,
/// which the `want ≤ cap` invariant rules out; callers then suggest nothing.
fn apportion(
    members: &[(Decimal, Decimal)],
    total_want: Decimal,
    amount: Decimal,
) -> Option<Vec<Decimal>> {
    if amount.is_zero() {
        return Some(vec![Decimal::ZERO; members.len()]);
    }
    if total_want < amount {
        return None;
    }
    let exact: Vec<Decimal> = members
        .iter()
        .map(|(want, _)| *want * amount / total_want)
        .collect();
    let mut given: Vec<Decimal> = exact.iter().map(|e| floor_cents(*e)).collect();
    let cent = Decimal::new(1, MONEY_DP);
    let placed: Decimal = given.iter().sum();
    let mut leftover = ((amount - placed) / cent).to_i64()?;
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - given[b]).cmp(&(exact[a] - given[a])));
    for &i in order.iter().cycle().take(order.len() * 2) {
        if leftover <= 0 {
            break;
        }
        if given[i] + cent <= members[i].1 {
            given[i] += cent;
            leftover -= 1;
        }
    }
    (leftover == 0).then_some(given)
}

/// Money at cents, half away from zero (how budgets are shown and set).
fn round_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(MONEY_DP, RoundingStrategy::MidpointAwayFromZero)
}

/// Down to the cent, so a bound computed from it is never exceeded.
fn floor_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(MONEY_DP, RoundingStrategy::ToNegativeInfinity)
}

/// "4.10": two decimals, half away from zero, zero-padded.
fn two_dp(d: Decimal) -> String {
    format!("{:.2}", round_cents(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn campaign(id: &str, budget: &str, spend: &str, revenue: &str) -> CampaignBudget {
        CampaignBudget {
            id: id.to_owned(),
            daily_budget: d(budget),
            spend: d(spend),
            revenue: d(revenue),
            conversions: 10,
        }
    }

    fn bounds(max_pct: &str, min_budget: &str) -> AllocatorBounds {
        AllocatorBounds::new(d(max_pct), d(min_budget), d("10")).unwrap()
    }

    fn total(moves: &[BudgetMove], f: fn(&BudgetMove) -> Decimal) -> Decimal {
        moves.iter().map(f).sum()
    }

    #[test]
    fn two_campaigns_move_the_full_step() {
        // Revenue 410 + 90 over spend 200 → portfolio 2.50. Both are 1.60 away,
        // each side's farthest wants 20 % of 100.00 = 20.00.
        let moves = allocate(
            &[
                campaign("a", "100", "100", "410"),
                campaign("b", "100", "100", "90"),
            ],
            &bounds("20", "10"),
        );
        assert_eq!(moves.len(), 2);
        assert_eq!(
            (moves[0].from_budget, moves[0].to_budget),
            (d("100"), d("120"))
        );
        assert_eq!(moves[0].change_pct, d("20"));
        assert_eq!(moves[0].roas, d("4.1"));
        assert_eq!(moves[0].portfolio_roas, d("2.5"));
        assert_eq!(
            moves[0].reason,
            "ROAS 4.10 vs portfolio 2.50 (10 conversions): +20 % (100.00 → 120.00)"
        );
        assert_eq!(moves[1].to_budget, d("80"));
        assert_eq!(
            moves[1].reason,
            "ROAS 0.90 vs portfolio 2.50 (10 conversions): -20 % (100.00 → 80.00)"
        );
    }

    #[test]
    fn smaller_side_limits_the_amount_moved() {
        // a: 200 spend, 200 revenue (ROAS 1); b: 50 spend, 200 revenue (ROAS 4);
        // portfolio 400 / 250 = 1.6. a could give 40.00, b can take only
        // 20 % of 50.00 = 10.00, so 10.00 moves: a −5 %, b +20 %.
        let moves = allocate(
            &[
                campaign("a", "200", "200", "200"),
                campaign("b", "50", "50", "200"),
            ],
            &bounds("20", "10"),
        );
        assert_eq!(moves[0].to_budget, d("190"));
        assert_eq!(moves[0].change_pct, d("-5"));
        assert_eq!(moves[1].to_budget, d("60"));
        assert_eq!(moves[1].change_pct, d("20"));
    }

    #[test]
    fn awkward_amounts_conserve_the_total_to_the_cent() {
        // ROAS a 1, b 3, c 2; portfolio 433.32 / 199.99 = 2.1667.
        // Givers: a (−1.1667, farthest) wants min(6.666, cap 6.66) = 6.66;
        // c (−0.1667) wants 19.998 × 0.1667 / 1.1667 = 2.85734…; total 9.51734…
        // Taker: b wants min(13.334, cap 13.33). Moved: floor(9.51734) = 9.51.
        // Shares a 6.65485…, c 2.85514… → floors 6.65 + 2.85, the leftover
        // cent goes to c (larger remainder): a −6.65, c −2.86, b +9.51.
        let campaigns = [
            campaign("a", "33.33", "33.33", "33.33"),
            campaign("b", "66.67", "66.67", "200.01"),
            campaign("c", "99.99", "99.99", "199.98"),
        ];
        let moves = allocate(&campaigns, &bounds("20", "5"));
        let to: Vec<Decimal> = moves.iter().map(|m| m.to_budget).collect();
        assert_eq!(to, [d("26.68"), d("76.18"), d("97.13")]);
        let pct: Vec<Decimal> = moves.iter().map(|m| m.change_pct).collect();
        assert_eq!(pct, [d("-19.95"), d("14.26"), d("-2.86")]);
        assert_eq!(moves[0].portfolio_roas, d("2.1667"));
        assert_eq!(
            total(&moves, |m| m.to_budget),
            total(&moves, |m| m.from_budget)
        );
        assert!(moves.iter().all(|m| m.to_budget.scale() <= 2));
    }

    #[test]
    fn min_budget_is_respected() {
        // a could give 20 % of 50 = 10, but only 50 − 45 = 5 above the floor.
        let moves = allocate(
            &[
                campaign("a", "50", "50", "25"),
                campaign("b", "100", "100", "400"),
            ],
            &bounds("20", "45"),
        );
        assert_eq!(moves[0].to_budget, d("45"));
        assert_eq!(moves[1].to_budget, d("105"));
    }

    #[test]
    fn max_change_is_respected() {
        // b's ROAS is huge but it may only grow by 10 % of 10.00 = 1.00.
        let moves = allocate(
            &[
                campaign("a", "500", "500", "500"),
                campaign("b", "10", "10", "1000"),
            ],
            &bounds("10", "1"),
        );
        assert_eq!(moves[1].to_budget, d("11"));
        assert_eq!(moves[0].to_budget, d("499"));
        assert!(moves.iter().all(|m| m.change_pct.abs() <= d("10")));
    }

    #[test]
    fn equal_roas_or_too_few_campaigns_move_nothing() {
        let equal = [
            campaign("a", "100", "100", "300"),
            campaign("b", "40", "50", "150"),
            campaign("c", "70", "20", "60"),
        ];
        assert!(allocate(&equal, &bounds("20", "10")).is_empty());
        // b spent less than min_spend (10): only one campaign left to judge.
        let thin = [
            campaign("a", "100", "100", "100"),
            campaign("b", "100", "5", "50"),
        ];
        assert!(allocate(&thin, &bounds("20", "10")).is_empty());
        assert!(allocate(&[], &bounds("20", "10")).is_empty());
    }

    #[test]
    fn invalid_bounds_are_refused() {
        let z = Decimal::ZERO;
        assert_eq!(
            AllocatorBounds::new(z, z, z),
            Err(AllocatorBoundsError::MaxChange)
        );
        assert_eq!(
            AllocatorBounds::new(d("101"), z, z),
            Err(AllocatorBoundsError::MaxChange)
        );
        assert_eq!(
            AllocatorBounds::new(d("20"), d("-1"), z),
            Err(AllocatorBoundsError::MinBudget)
        );
        assert_eq!(
            AllocatorBounds::new(d("20"), z, d("-1")),
            Err(AllocatorBoundsError::MinSpend)
        );
    }
}
