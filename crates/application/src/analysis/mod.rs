//! Analyzer use cases: scores, anomalies, trends and budget-allocation
//! proposals for one ad account's campaigns, computed by the pure functions
//! of [`domain::analysis`] over gold (`kpi_daily`). Any member reads them.
//!
//! Owns reading gold for analysis ([`GoldReader`]) and turning query
//! parameters into validated ranges. Never writes: the allocator's output is
//! a proposal, not a change; a REBALANCE rule (see [`crate::rules`]) stores
//! the same allocator's moves as suggestions, and applying budgets is the
//! suggestions' job.

mod allocation;
mod anomalies;
pub(crate) mod gold;
mod scores;
mod trends;

use domain::ads::DateRange;
use domain::error::ValidationError;
use time::{Date, Duration};

pub use allocation::{
    AllocationInput, BudgetAllocation, BudgetLine, DEFAULT_MAX_CHANGE_PERCENT,
    ProposeBudgetAllocation,
};
pub use anomalies::{
    AnomaliesInput, AnomalousAd, AnomalyAlerts, CampaignAnomaly, DetectAnomalies, FoundAnomalies,
};
pub use gold::{AccountGold, CampaignGold, GoldReader};
pub use scores::{AdScore, CampaignScore, CampaignScores, ScoreCampaigns, ScoresInput};
pub use trends::{CampaignTrend, DetectTrends, TrendReport, TrendsInput};

/// Longest range one analysis or backtest covers, in days (a year, leap
/// years included): longer replays cost much and say little.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Days a score or allocation judges when the caller names no range: four
/// whole weeks ending yesterday, so every weekday weighs the same.
pub const DEFAULT_RANGE_DAYS: i64 = 28;

/// Parses an optional `YYYY-MM-DD` parameter, recording a problem under
/// `field`.
pub(crate) fn optional_date(
    field: &str,
    value: Option<&str>,
    errors: &mut ValidationError,
) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let v = value.filter(|s| !s.is_empty())?;
    Date::parse(v, &fmt)
        .map_err(|_| errors.add(field, "must be a date YYYY-MM-DD"))
        .ok()
}

/// `from..=to`, at most [`MAX_RANGE_DAYS`] long, recording problems.
pub(crate) fn bounded_range(
    from: Date,
    to: Date,
    errors: &mut ValidationError,
) -> Option<DateRange> {
    if from > to {
        errors.add("from", "must not be after `to`");
        return None;
    }
    if (to - from).whole_days() >= MAX_RANGE_DAYS {
        errors.add("to", "the range must be at most 366 days");
        return None;
    }
    DateRange::new(from, to).map_err(|e| errors.merge(e)).ok()
}

/// `?from&to` parsed, each optional: `to` defaults to yesterday, `from` to
/// [`DEFAULT_RANGE_DAYS`] days ending on `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RangeParams {
    from: Option<Date>,
    to: Option<Date>,
}

impl RangeParams {
    /// Parses both, recording problems; when both are given their order
    /// and length are checked at once, before anything is read.
    pub(crate) fn parse(
        from: Option<&str>,
        to: Option<&str>,
        errors: &mut ValidationError,
    ) -> Self {
        let from = optional_date("from", from, errors);
        let to = optional_date("to", to, errors);
        if let (Some(f), Some(t)) = (from, to) {
            let _ = bounded_range(f, t, errors);
        }
        Self { from, to }
    }

    /// The range, the defaults taken around `yesterday`.
    ///
    /// # Errors
    /// A `from` after the default `to`, or a range too long.
    pub(crate) fn resolve(self, yesterday: Date) -> Result<DateRange, ValidationError> {
        let to = self.to.unwrap_or(yesterday);
        let from = self
            .from
            .unwrap_or_else(|| to - Duration::days(DEFAULT_RANGE_DAYS - 1));
        let mut errors = ValidationError::default();
        bounded_range(from, to, &mut errors).ok_or(errors)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Mocked ports shared by the Analyzer's unit tests.

    use std::sync::Arc;

    use domain::ads::{
        AdAccount, AdAccountStatus, AdPlatform, Campaign, Currency, EntityStatus,
        MockAdAccountRepository, MockAdRepository, MockCampaignRepository,
    };
    use domain::ingestion::{GoldEntity, GoldRow, MockIngestionStore};
    use domain::kpi::{KpiTotals, Kpis};
    use domain::page::Page;
    use domain::platform::MockClock;
    use domain::{AdAccountId, CampaignId, TenantId};
    use rust_decimal::Decimal;
    use time::macros::{date, datetime};
    use time::{Date, OffsetDateTime};

    use super::GoldReader;

    pub const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
    /// Today in the account's zone; yesterday is Feb 28.
    pub const TODAY: Date = date!(2026 - 03 - 01);

    pub struct World {
        pub tenant: TenantId,
        pub account: AdAccountId,
    }

    fn ad_account(t: TenantId, id: AdAccountId) -> AdAccount {
        AdAccount {
            id,
            tenant_id: t,
            platform: AdPlatform::Meta,
            external_id: "act_1".to_owned(),
            name: "Main".to_owned(),
            currency: Currency::parse("BRL").unwrap(),
            timezone: "America/Sao_Paulo".to_owned(),
            status: AdAccountStatus::Active,
            created_at: NOW,
            updated_at: NOW,
        }
    }

    /// The tenant's one account, listed.
    fn accounts_page(
        tenant: TenantId,
        account: AdAccountId,
    ) -> impl Fn(TenantId) -> Page<AdAccount> + Send + Sync + 'static {
        move |t| Page {
            items: if t == tenant {
                vec![ad_account(t, account)]
            } else {
                Vec::new()
            },
            next_cursor: None,
            limit: 100,
        }
    }

    impl World {
        pub fn new() -> Self {
            Self {
                tenant: TenantId::generate(),
                account: AdAccountId::generate(),
            }
        }

        pub fn campaign(&self, name: &str, budget: Option<&str>) -> Campaign {
            Campaign {
                id: CampaignId::generate(),
                tenant_id: self.tenant,
                ad_account_id: self.account,
                external_id: None,
                name: name.to_owned(),
                status: EntityStatus::Active,
                objective: None,
                daily_budget: budget.map(|b| b.parse::<Decimal>().unwrap()),
                lifetime_budget: None,
                created_at: NOW,
                updated_at: NOW,
            }
        }

        /// A reader over `campaigns` and their `rows`; the account's rows are
        /// their sums. Every port checks the tenant and account it is asked
        /// for, as the adapters do.
        pub fn reader(
            &self,
            campaigns: Vec<Campaign>,
            rows: Vec<(CampaignId, Date, KpiTotals)>,
        ) -> GoldReader {
            let (tenant, account) = (self.tenant, self.account);
            let mut accounts = MockAdAccountRepository::new();
            accounts.expect_find().returning(move |t, id| {
                Ok((t == tenant && id == account).then(|| ad_account(t, id)))
            });
            let listed = accounts_page(tenant, account);
            accounts
                .expect_list()
                .returning(move |t, _, _| Ok(listed(t)));
            let mut repo = MockCampaignRepository::new();
            repo.expect_list().returning(move |t, f, _| {
                let items = if t == tenant && f.ad_account_id == Some(account) {
                    campaigns.clone()
                } else {
                    Vec::new()
                };
                Ok(Page {
                    items,
                    next_cursor: None,
                    limit: 100,
                })
            });
            let mut store = MockIngestionStore::new();
            store.expect_gold().returning(move |t, a, _, range| {
                if t != tenant || a != account {
                    return Ok(Vec::new());
                }
                let inside: Vec<_> = rows
                    .iter()
                    .filter(|(_, d, _)| range.from() <= *d && *d <= range.to())
                    .collect();
                let mut by_day: std::collections::BTreeMap<Date, KpiTotals> =
                    std::collections::BTreeMap::new();
                for (_, d, totals) in &inside {
                    let e = by_day.entry(*d).or_default();
                    *e = e.plus(totals);
                }
                let row = |entity, period_start, totals: KpiTotals| GoldRow {
                    entity,
                    period_start,
                    totals,
                    kpis: Kpis::from_totals(&totals),
                };
                let mut out: Vec<GoldRow> = by_day
                    .into_iter()
                    .map(|(d, t)| row(GoldEntity::Account, d, t))
                    .collect();
                out.extend(
                    inside
                        .iter()
                        .map(|(c, d, t)| row(GoldEntity::Campaign(*c), *d, *t)),
                );
                Ok(out)
            });
            // No ad-level rows here: the ads' own tests give them.
            store
                .expect_entity_days()
                .returning(|_, _, _, _| Ok(Vec::new()));
            let mut ads = MockAdRepository::new();
            ads.expect_list().returning(|_, _, _| {
                Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                    limit: 100,
                })
            });
            let mut clock = MockClock::new();
            clock.expect_now().return_const(NOW);
            clock.expect_today_in().return_const(TODAY);
            GoldReader::new(
                Arc::new(accounts),
                Arc::new(repo),
                Arc::new(ads),
                Arc::new(store),
                Arc::new(clock),
            )
        }
    }
}
