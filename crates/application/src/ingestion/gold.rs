//! Gold: KPI rows per campaign and per ad account, by day and by ISO week,
//! computed from campaign-level silver sums with [`Kpis::from_totals`] (the
//! one KPI implementation). A refresh covers the whole ISO weeks around the
//! days a sync touched, and the store only rewrites rows whose values changed.

use std::collections::BTreeMap;

use domain::ads::DateRange;
use domain::ingestion::{CampaignDay, GoldEntity, GoldPeriod, GoldRow, IngestionStore};
use domain::kpi::{KpiTotals, Kpis};
use domain::{AdAccountId, RepoError, TenantId};
use time::{Date, Duration, OffsetDateTime};

/// The Monday of `d`'s ISO week.
#[must_use]
pub fn week_start(d: Date) -> Date {
    d - Duration::days(i64::from(d.weekday().number_days_from_monday()))
}

/// `range` widened to whole ISO weeks (Monday to Sunday).
///
/// # Errors
/// Never for a valid range short of the three-year limit; a range at the
/// limit may overflow it by a few days.
pub fn whole_weeks(range: DateRange) -> Result<DateRange, domain::error::ValidationError> {
    let from = week_start(range.from());
    let to = week_start(range.to()) + Duration::days(6);
    DateRange::new(from, to)
}

fn row(entity: GoldEntity, period_start: Date, totals: KpiTotals) -> GoldRow {
    GoldRow {
        entity,
        period_start,
        totals,
        kpis: Kpis::from_totals(&totals),
    }
}

/// Sums `days` per (entity, period) for campaigns and for the account.
fn fold(days: &[CampaignDay], period: impl Fn(Date) -> Date) -> Vec<GoldRow> {
    let mut sums: BTreeMap<(GoldKey, Date), KpiTotals> = BTreeMap::new();
    for d in days {
        let p = period(d.date);
        for key in [GoldKey::Account, GoldKey::Campaign(d.campaign_id)] {
            let e = sums.entry((key, p)).or_default();
            *e = e.plus(&d.totals);
        }
    }
    sums.into_iter()
        .map(|((key, p), totals)| {
            let entity = match key {
                GoldKey::Account => GoldEntity::Account,
                GoldKey::Campaign(id) => GoldEntity::Campaign(id),
            };
            row(entity, p, totals)
        })
        .collect()
}

/// An ordered stand-in for [`GoldEntity`] (map key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum GoldKey {
    Account,
    Campaign(domain::CampaignId),
}

/// Daily and weekly gold rows from campaign-day sums.
#[must_use]
pub fn gold_rows(days: &[CampaignDay]) -> (Vec<GoldRow>, Vec<GoldRow>) {
    (fold(days, |d| d), fold(days, week_start))
}

/// Rolls ad-level silver up to campaigns, then recomputes gold for the
/// weeks around `range`. Returns how many gold rows changed.
///
/// # Errors
/// Storage failures.
pub async fn refresh(
    store: &dyn IngestionStore,
    t: TenantId,
    account: AdAccountId,
    range: DateRange,
    at: OffsetDateTime,
) -> Result<u64, RepoError> {
    let weeks = whole_weeks(range).unwrap_or(range);
    store.roll_up_campaigns(t, account, weeks, at).await?;
    let days = store.campaign_days(t, account, weeks).await?;
    let (daily, weekly) = gold_rows(&days);
    let a = store
        .upsert_gold(t, account, GoldPeriod::Day, &daily, at)
        .await?;
    let b = store
        .upsert_gold(t, account, GoldPeriod::Week, &weekly, at)
        .await?;
    Ok(a + b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::CampaignId;
    use rust_decimal::Decimal;
    use time::macros::date;

    fn day(c: CampaignId, date: Date, imp: i64, clicks: i64, spend: i64, conv: i64) -> CampaignDay {
        CampaignDay {
            campaign_id: c,
            date,
            totals: KpiTotals {
                impressions: imp,
                clicks,
                link_clicks: clicks,
                spend: Decimal::new(spend, 2),
                conversions: conv,
                revenue: Decimal::new(spend * 3, 2),
            },
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(week_start(date!(2026 - 11 - 23)), date!(2026 - 11 - 23));
        assert_eq!(week_start(date!(2026 - 11 - 29)), date!(2026 - 11 - 23));
        assert_eq!(week_start(date!(2027 - 01 - 01)), date!(2026 - 12 - 28));
    }

    #[test]
    fn gold_sums_campaigns_and_account_then_computes_kpis_from_sums() {
        let a = CampaignId::generate();
        let b = CampaignId::generate();
        let days = [
            day(a, date!(2026 - 11 - 23), 1000, 10, 5000, 2),
            day(a, date!(2026 - 11 - 24), 3000, 50, 15000, 3),
            day(b, date!(2026 - 11 - 24), 1000, 0, 0, 0),
        ];
        let (daily, weekly) = gold_rows(&days);
        // 2 account days + 3 campaign days; 1 account week + 2 campaign weeks.
        assert_eq!(daily.len(), 5);
        assert_eq!(weekly.len(), 3);
        let week_a = weekly
            .iter()
            .find(|r| r.entity == GoldEntity::Campaign(a))
            .unwrap();
        assert_eq!(week_a.period_start, date!(2026 - 11 - 23));
        assert_eq!(week_a.totals.impressions, 4000);
        // ctr = 60 / 4000 × 100 = 1.5 (from sums, not the mean of 1.0 and 1.6667)
        assert_eq!(week_a.kpis.ctr, Some(Decimal::new(15, 1)));
        // cpa = 200.00 / 5 = 40.00; roas = 600 / 200 = 3
        assert_eq!(week_a.kpis.cpa, Some(Decimal::new(40, 0)));
        assert_eq!(week_a.kpis.roas, Some(Decimal::new(3, 0)));
        let acct_24 = daily
            .iter()
            .find(|r| r.entity == GoldEntity::Account && r.period_start == date!(2026 - 11 - 24))
            .unwrap();
        assert_eq!(acct_24.totals.impressions, 4000);
        assert_eq!(acct_24.totals.spend, Decimal::new(15000, 2));
        let b_day = daily
            .iter()
            .find(|r| r.entity == GoldEntity::Campaign(b))
            .unwrap();
        assert_eq!(b_day.kpis.cpc, None, "no clicks: undefined, not zero");
    }
}
