//! Reading gold for the Analyzer and the rule backtest: an ad account's
//! daily KPI rows (`kpi_daily`) split into the account's own series and one
//! series per campaign, with the campaigns' names and budgets.

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::ads::{
    Ad, AdAccount, AdAccountRepository, AdRepository, Campaign, CampaignRepository, DateRange,
    EntityFilter, InsightLevel,
};
use domain::ingestion::{GoldEntity, GoldPeriod, IngestionStore};
use domain::kpi::KpiTotals;
use domain::platform::Clock;
use domain::{AdAccountId, CampaignId, TenantId};
use time::Date;

use crate::paging::every_page;
use crate::{AppError, Resource};

/// Rows read per page while walking campaigns.
const PAGE: u16 = 100;

/// One entity's daily totals, oldest first.
pub type DailySeries = Vec<(Date, KpiTotals)>;

/// One campaign's gold over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignGold {
    /// The campaign as it is now (name, status, daily budget).
    pub campaign: Campaign,
    /// Its daily rows in the range; days without delivery have no row.
    pub days: DailySeries,
}

/// An ad account's gold over a range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountGold {
    /// The account's own daily rows (the sum of its campaigns).
    pub account_days: DailySeries,
    /// Every current campaign of the account, by name then id, each with
    /// its rows (possibly none). Rows of deleted campaigns are left out.
    pub campaigns: Vec<CampaignGold>,
}

impl AccountGold {
    /// The account's totals over the whole range (the baseline scores and
    /// the allocator judge against).
    #[must_use]
    pub fn account_totals(&self) -> KpiTotals {
        sum(&self.account_days)
    }
}

/// Σ of a series.
#[must_use]
pub fn sum(days: &[(Date, KpiTotals)]) -> KpiTotals {
    days.iter()
        .fold(KpiTotals::default(), |acc, (_, t)| acc.plus(t))
}

/// The ports the Analyzer reads through, shared by its use cases.
#[derive(Clone)]
pub struct GoldReader {
    accounts: Arc<dyn AdAccountRepository>,
    campaigns: Arc<dyn CampaignRepository>,
    ads: Arc<dyn AdRepository>,
    store: Arc<dyn IngestionStore>,
    clock: Arc<dyn Clock>,
}

/// One ad's daily silver rows over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdSeries {
    /// The ad as it is now (name, campaign).
    pub ad: Ad,
    /// Its daily rows in the range, oldest first.
    pub days: DailySeries,
}

impl GoldReader {
    #[must_use]
    pub fn new(
        accounts: Arc<dyn AdAccountRepository>,
        campaigns: Arc<dyn CampaignRepository>,
        ads: Arc<dyn AdRepository>,
        store: Arc<dyn IngestionStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            accounts,
            campaigns,
            ads,
            store,
            clock,
        }
    }

    /// The account's current ads that have rows in `range` (silver ad rows:
    /// gold keeps campaigns and accounts only), by name then id.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn ad_daily(
        &self,
        t: TenantId,
        account: AdAccountId,
        range: DateRange,
    ) -> Result<Vec<AdSeries>, AppError> {
        let mut per_ad: BTreeMap<uuid::Uuid, DailySeries> = BTreeMap::new();
        for row in self
            .store
            .entity_days(t, account, InsightLevel::Ad, range)
            .await?
        {
            per_ad
                .entry(row.entity_id)
                .or_default()
                .push((row.date, row.totals));
        }
        if per_ad.is_empty() {
            return Ok(Vec::new());
        }
        let filter = EntityFilter {
            ad_account_id: Some(account),
            ..EntityFilter::default()
        };
        let mut out: Vec<AdSeries> = every_page(PAGE, |p| self.ads.list(t, filter, p))
            .await?
            .into_iter()
            .filter_map(|ad| {
                let mut days = per_ad.remove(&ad.id.into_uuid())?;
                days.sort_by_key(|(d, _)| *d);
                Some(AdSeries { ad, days })
            })
            .collect();
        out.sort_by(|a, b| (a.ad.name.as_str(), a.ad.id).cmp(&(b.ad.name.as_str(), b.ad.id)));
        Ok(out)
    }

    /// The ids of the account's current ads and of their ad sets.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn ad_and_ad_set_ids(
        &self,
        t: TenantId,
        account: AdAccountId,
    ) -> Result<std::collections::HashSet<uuid::Uuid>, AppError> {
        let filter = EntityFilter {
            ad_account_id: Some(account),
            ..EntityFilter::default()
        };
        Ok(every_page(PAGE, |p| self.ads.list(t, filter, p))
            .await?
            .into_iter()
            .flat_map(|ad| [ad.id.into_uuid(), ad.ad_set_id.into_uuid()])
            .collect())
    }

    /// The tenant's ad account.
    ///
    /// # Errors
    /// 404 when it is missing or another tenant's; storage failures.
    pub async fn account(&self, t: TenantId, id: AdAccountId) -> Result<AdAccount, AppError> {
        self.accounts
            .find(t, id)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))
    }

    /// Every ad account of the tenant.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn all_accounts(&self, t: TenantId) -> Result<Vec<AdAccount>, AppError> {
        every_page(PAGE, |p| self.accounts.list(t, None, p)).await
    }

    /// Now (UTC), from the clock: when a report's figures were taken.
    #[must_use]
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Yesterday in the account's time zone: the last whole day.
    #[must_use]
    pub fn yesterday(&self, account: &AdAccount) -> Date {
        let today = self.clock.today_in(&account.timezone);
        today.previous_day().unwrap_or(today)
    }

    /// The account's gold daily rows in `range`, split per entity.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn daily(
        &self,
        t: TenantId,
        account: AdAccountId,
        range: DateRange,
    ) -> Result<AccountGold, AppError> {
        let rows = self.store.gold(t, account, GoldPeriod::Day, range).await?;
        let mut account_days = Vec::new();
        let mut per_campaign: BTreeMap<CampaignId, DailySeries> = BTreeMap::new();
        for row in rows {
            match row.entity {
                GoldEntity::Account => account_days.push((row.period_start, row.totals)),
                GoldEntity::Campaign(id) => per_campaign
                    .entry(id)
                    .or_default()
                    .push((row.period_start, row.totals)),
            }
        }
        account_days.sort_by_key(|(d, _)| *d);
        let mut campaigns: Vec<CampaignGold> =
            account_campaigns(self.campaigns.as_ref(), t, account)
                .await?
                .into_values()
                .map(|campaign| {
                    let mut days = per_campaign.remove(&campaign.id).unwrap_or_default();
                    days.sort_by_key(|(d, _)| *d);
                    CampaignGold { campaign, days }
                })
                .collect();
        campaigns.sort_by(|a, b| {
            (a.campaign.name.as_str(), a.campaign.id)
                .cmp(&(b.campaign.name.as_str(), b.campaign.id))
        });
        Ok(AccountGold {
            account_days,
            campaigns,
        })
    }
}

/// The account's campaigns by id (names, statuses and daily budgets); what
/// rule evaluation and the Analyzer name their findings with.
///
/// # Errors
/// Storage failures.
pub(crate) async fn account_campaigns(
    campaigns: &dyn CampaignRepository,
    t: TenantId,
    account: AdAccountId,
) -> Result<BTreeMap<CampaignId, Campaign>, AppError> {
    let filter = EntityFilter {
        ad_account_id: Some(account),
        ..EntityFilter::default()
    };
    Ok(every_page(PAGE, |p| campaigns.list(t, filter, p))
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}
