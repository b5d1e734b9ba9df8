//! `GET /analysis/budget-allocation`: how the allocator would move daily
//! budget between an ad account's active campaigns, toward those whose ROAS
//! beats the account's ([`domain::analysis::allocator`]). A proposal only:
//! nothing is stored or changed.

use std::str::FromStr;

use domain::ads::{DateRange, EntityStatus};
use domain::analysis::allocator::{
    AllocatorBounds, AllocatorBoundsError, CampaignBudget, allocate,
};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::kpi::{KpiTotals, Kpis};
use domain::rules::MIN_DAILY_BUDGET;
use domain::{AdAccountId, CampaignId};
use rust_decimal::{Decimal, RoundingStrategy};
use tracing::instrument;

use super::RangeParams;
use super::gold::{GoldReader, sum};
use crate::AppError;
use crate::error::require;

/// The daily change limit when none is asked for, in percent.
pub const DEFAULT_MAX_CHANGE_PERCENT: Decimal = Decimal::from_parts(20, 0, 0, false, 0);

/// `?ad_account_id&max_change_percent&min_budget&from&to`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocationInput {
    /// Required.
    pub ad_account_id: Option<AdAccountId>,
    /// Most a budget may change, in percent of itself (0 < x ≤ 100); 20 when absent.
    pub max_change_percent: Option<String>,
    /// No budget is cut below this; [`MIN_DAILY_BUDGET`] when absent.
    pub min_budget: Option<String>,
    /// The range ROAS is judged on; 28 days ending `to` when absent.
    pub from: Option<String>,
    /// Yesterday in the account's time zone when absent.
    pub to: Option<String>,
}

/// One campaign's line of the proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLine {
    pub campaign_id: CampaignId,
    pub campaign_name: String,
    /// Its daily budget now.
    pub current: Decimal,
    /// The proposed daily budget (equal to `current` when unchanged).
    pub proposed: Decimal,
    /// `(proposed − current) / current × 100`, 2 dp.
    pub change_percent: Decimal,
    /// Its totals over the range.
    pub totals: KpiTotals,
    /// Its ROAS over the range; `None` without spend.
    pub roas: Option<Decimal>,
    /// Why it moves, or why it does not.
    pub reason: String,
}

/// The allocator's proposal for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetAllocation {
    pub ad_account_id: AdAccountId,
    pub range: DateRange,
    pub max_change_percent: Decimal,
    pub min_budget: Decimal,
    /// ROAS of the campaigns judged together; `None` when none spent.
    pub portfolio_roas: Option<Decimal>,
    /// Every active campaign with a daily budget, by name.
    pub campaigns: Vec<BudgetLine>,
    /// Σ current budgets.
    pub total_current: Decimal,
    /// Σ proposed budgets; always equal to `total_current`.
    pub total_proposed: Decimal,
}

/// Proposes moving daily budget toward the campaigns with the best ROAS.
pub struct ProposeBudgetAllocation {
    gold: GoldReader,
}

impl ProposeBudgetAllocation {
    #[must_use]
    pub fn new(gold: GoldReader) -> Self {
        Self { gold }
    }

    /// # Errors
    /// 422 for a missing account, bad limits or a bad range; 404 for an
    /// account missing or another tenant's; storage failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        input: AllocationInput,
    ) -> Result<BudgetAllocation, AppError> {
        require(actor, Permission::Read)?;
        let mut errors = ValidationError::default();
        if input.ad_account_id.is_none() {
            errors.add("ad_account_id", "is required");
        }
        let max_change = decimal(
            "max_change_percent",
            input.max_change_percent.as_deref(),
            DEFAULT_MAX_CHANGE_PERCENT,
            &mut errors,
        );
        let min_budget = decimal(
            "min_budget",
            input.min_budget.as_deref(),
            MIN_DAILY_BUDGET,
            &mut errors,
        );
        let bounds = match AllocatorBounds::new(max_change, min_budget, Decimal::ZERO) {
            Ok(b) => Some(b),
            Err(AllocatorBoundsError::MaxChange) => {
                errors.add("max_change_percent", "must be more than 0 and at most 100");
                None
            }
            Err(AllocatorBoundsError::MinBudget | AllocatorBoundsError::MinSpend) => {
                errors.add("min_budget", "must not be negative");
                None
            }
        };
        let params = RangeParams::parse(input.from.as_deref(), input.to.as_deref(), &mut errors);
        let (Some(id), Some(bounds)) = (input.ad_account_id, bounds) else {
            return Err(errors.into());
        };
        errors.into_result()?;
        let t = actor.tenant_id;
        let account = self.gold.account(t, id).await?;
        let range = params.resolve(self.gold.yesterday(&account))?;
        let gold = self.gold.daily(t, id, range).await?;

        let judged: Vec<(CampaignId, CampaignBudget, String, KpiTotals)> = gold
            .campaigns
            .into_iter()
            .filter_map(|c| {
                let budget = c.campaign.daily_budget.filter(|b| *b > Decimal::ZERO)?;
                (c.campaign.status == EntityStatus::Active).then(|| {
                    let totals = sum(&c.days);
                    (
                        c.campaign.id,
                        CampaignBudget {
                            id: c.campaign.id.to_string(),
                            daily_budget: budget,
                            spend: totals.spend,
                            revenue: totals.revenue,
                            conversions: totals.conversions,
                        },
                        c.campaign.name,
                        totals,
                    )
                })
            })
            .collect();
        let budgets: Vec<CampaignBudget> = judged.iter().map(|(_, b, ..)| b.clone()).collect();
        let moves = allocate(&budgets, &bounds);
        let portfolio = judged
            .iter()
            .filter(|(.., t)| t.spend > Decimal::ZERO)
            .fold(KpiTotals::default(), |acc, (.., t)| acc.plus(t));
        let portfolio_roas = Kpis::from_totals(&portfolio).roas;

        let mut lines = Vec::with_capacity(judged.len());
        for (campaign_id, b, name, totals) in judged {
            let current = cents(b.daily_budget);
            let roas = Kpis::from_totals(&totals).roas;
            let line = match moves.iter().find(|m| m.id == b.id) {
                Some(m) => BudgetLine {
                    campaign_id,
                    campaign_name: name,
                    current: m.from_budget,
                    proposed: m.to_budget,
                    change_percent: m.change_pct,
                    totals,
                    roas,
                    reason: m.reason.clone(),
                },
                None => BudgetLine {
                    campaign_id,
                    campaign_name: name,
                    current,
                    proposed: current,
                    change_percent: Decimal::ZERO,
                    totals,
                    roas,
                    reason: unchanged_reason(roas, portfolio_roas),
                },
            };
            lines.push(line);
        }
        let total_current = lines.iter().map(|l| l.current).sum();
        let total_proposed = lines.iter().map(|l| l.proposed).sum();
        Ok(BudgetAllocation {
            ad_account_id: id,
            range,
            max_change_percent: bounds.max_change_pct(),
            min_budget: bounds.min_budget(),
            portfolio_roas,
            campaigns: lines,
            total_current,
            total_proposed,
        })
    }
}

/// Why a campaign keeps its budget.
fn unchanged_reason(roas: Option<Decimal>, portfolio: Option<Decimal>) -> String {
    match (roas, portfolio) {
        (None, _) => "no spend in the range: not judged, budget unchanged".to_owned(),
        (Some(r), Some(p)) => format!(
            "ROAS {} vs portfolio {}: budget unchanged (at the portfolio, or no campaign to trade with within the limits)",
            two_dp(r),
            two_dp(p)
        ),
        (Some(r), None) => format!("ROAS {}: budget unchanged", two_dp(r)),
    }
}

fn two_dp(d: Decimal) -> String {
    format!("{:.2}", cents(d))
}

fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A decimal query parameter, `default` when absent.
fn decimal(
    field: &str,
    value: Option<&str>,
    default: Decimal,
    errors: &mut ValidationError,
) -> Decimal {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => default,
        Some(v) => Decimal::from_str(v).unwrap_or_else(|_| {
            errors.add(field, "must be a decimal number");
            default
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{TODAY, World};
    use domain::UserId;
    use domain::identity::{Principal, Role};

    fn actor(w: &World) -> Actor {
        Actor {
            tenant_id: w.tenant,
            principal: Principal::User(UserId::generate()),
            role: Role::Viewer,
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn spent(spend: &str, revenue: &str) -> KpiTotals {
        KpiTotals {
            impressions: 10_000,
            clicks: 100,
            spend: d(spend),
            conversions: 10,
            revenue: d(revenue),
            ..KpiTotals::default()
        }
    }

    #[tokio::test]
    async fn budget_moves_from_low_to_high_roas_and_the_total_is_conserved() {
        let w = World::new();
        let winner = w.campaign("Winner", Some("100"));
        let loser = w.campaign("Loser", Some("100"));
        let mut paused = w.campaign("Paused", Some("50"));
        paused.status = EntityStatus::Paused;
        let unbudgeted = w.campaign("Lifetime", None);
        let y = TODAY.previous_day().unwrap();
        let rows = vec![
            (winner.id, y, spent("100", "410")),
            (loser.id, y, spent("100", "90")),
            (paused.id, y, spent("100", "1000")),
            (unbudgeted.id, y, spent("100", "0")),
        ];
        let uc = ProposeBudgetAllocation::new(w.reader(
            vec![winner.clone(), loser.clone(), paused, unbudgeted],
            rows,
        ));
        let a = uc
            .execute(
                &actor(&w),
                AllocationInput {
                    ad_account_id: Some(w.account),
                    ..AllocationInput::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(a.max_change_percent, d("20"));
        assert_eq!(a.portfolio_roas, Some(d("2.5")));
        let lines: Vec<(CampaignId, Decimal, Decimal)> = a
            .campaigns
            .iter()
            .map(|l| (l.campaign_id, l.current, l.proposed))
            .collect();
        // By name: Loser, Winner; paused and unbudgeted campaigns are left out.
        assert_eq!(
            lines,
            [
                (loser.id, d("100"), d("80")),
                (winner.id, d("100"), d("120")),
            ]
        );
        assert_eq!(a.total_current, a.total_proposed);
        assert!(
            a.campaigns[1]
                .reason
                .starts_with("ROAS 4.10 vs portfolio 2.50")
        );
    }

    #[tokio::test]
    async fn limits_out_of_range_are_refused_by_name() {
        let w = World::new();
        let uc = ProposeBudgetAllocation::new(w.reader(vec![], vec![]));
        let err = uc
            .execute(
                &actor(&w),
                AllocationInput {
                    ad_account_id: Some(w.account),
                    max_change_percent: Some("150".to_owned()),
                    min_budget: Some("ten".to_owned()),
                    ..AllocationInput::default()
                },
            )
            .await
            .unwrap_err();
        let AppError::Validation(v) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            v.fields.keys().collect::<Vec<_>>(),
            ["max_change_percent", "min_budget"]
        );
    }
}
