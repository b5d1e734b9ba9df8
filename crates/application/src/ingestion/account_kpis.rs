//! `GET /ad-accounts/{id}/kpis`: an ad account's KPIs over a range, with a
//! daily or weekly series, read from gold (`kpi_daily` / `kpi_weekly`).
//! Totals are summed from the daily rows of exactly the range and their
//! ratios computed from those sums; weekly points are whole ISO weeks.

use std::sync::Arc;

use domain::AdAccountId;
use domain::ads::{AdAccountRepository, DateRange};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::ingestion::{GoldEntity, GoldPeriod, GoldRow, IngestionStore};
use domain::kpi::{KpiTotals, Kpis};

use super::gold::week_start;
use crate::error::require;
use crate::{AppError, Resource};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdAccountKpis {
    pub ad_account_id: AdAccountId,
    pub range: DateRange,
    pub granularity: GoldPeriod,
    pub totals: KpiTotals,
    pub kpis: Kpis,
    /// One point per day (or ISO week, keyed by its Monday) that has data.
    pub series: Vec<GoldRow>,
}

pub struct GetAdAccountKpis {
    accounts: Arc<dyn AdAccountRepository>,
    store: Arc<dyn IngestionStore>,
}

impl GetAdAccountKpis {
    #[must_use]
    pub fn new(accounts: Arc<dyn AdAccountRepository>, store: Arc<dyn IngestionStore>) -> Self {
        Self { accounts, store }
    }

    /// # Errors
    /// Validation of the dates and granularity; 404 for a foreign account.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: AdAccountId,
        from: Option<&str>,
        to: Option<&str>,
        granularity: Option<&str>,
    ) -> Result<AdAccountKpis, AppError> {
        require(actor, Permission::Read)?;
        let range = DateRange::parse(from, to)?;
        let granularity = match granularity.unwrap_or("day") {
            "day" => GoldPeriod::Day,
            "week" => GoldPeriod::Week,
            _ => {
                return Err(ValidationError::new("granularity", "must be day or week").into());
            }
        };
        let t = actor.tenant_id;
        self.accounts
            .find(t, id)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        let account_rows = |rows: Vec<GoldRow>| -> Vec<GoldRow> {
            rows.into_iter()
                .filter(|r| r.entity == GoldEntity::Account)
                .collect()
        };
        let daily = account_rows(self.store.gold(t, id, GoldPeriod::Day, range).await?);
        let totals = daily
            .iter()
            .fold(KpiTotals::default(), |acc, r| acc.plus(&r.totals))
            .normalized();
        let series = match granularity {
            GoldPeriod::Day => daily,
            GoldPeriod::Week => {
                let weeks = DateRange::new(week_start(range.from()), range.to())?;
                account_rows(self.store.gold(t, id, GoldPeriod::Week, weeks).await?)
            }
        };
        Ok(AdAccountKpis {
            ad_account_id: id,
            range,
            granularity,
            totals,
            kpis: Kpis::from_totals(&totals),
            series,
        })
    }
}
