//! `GET /analysis/trends`: per campaign, where each metric has been heading
//! over the last 7 and 14 days and whether that is more than noise
//! ([`domain::analysis::trend`]).

use domain::ads::DateRange;
use domain::analysis::Metric;
use domain::analysis::trend::{Trend, WINDOWS, trend};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::{AdAccountId, CampaignId};
use time::{Date, Duration};
use tracing::instrument;

use super::gold::GoldReader;
use super::optional_date;
use crate::AppError;
use crate::error::require;

/// `?ad_account_id&metric&date`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrendsInput {
    /// Required.
    pub ad_account_id: Option<AdAccountId>,
    /// `spend`, `cpa`, `ctr` or `conversions`; all four when absent.
    pub metric: Option<String>,
    /// The last day of the windows; yesterday in the account's time zone
    /// when absent.
    pub date: Option<String>,
}

/// One campaign's trend of one metric over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignTrend {
    pub campaign_id: CampaignId,
    pub campaign_name: String,
    /// The days fitted: `trend.days` days ending on the report's date.
    pub window: DateRange,
    pub trend: Trend,
}

/// The trends of an account's campaigns.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendReport {
    pub ad_account_id: AdAccountId,
    /// The last day of every window.
    pub date: Date,
    /// The metrics asked for.
    pub metrics: Vec<Metric>,
    /// By campaign name, then metric, then window (7 before 14). A window
    /// with fewer than 4 days of defined values has no trend and is left out.
    pub trends: Vec<CampaignTrend>,
}

/// Fits the trends of one ad account's campaigns.
pub struct DetectTrends {
    gold: GoldReader,
}

impl DetectTrends {
    #[must_use]
    pub fn new(gold: GoldReader) -> Self {
        Self { gold }
    }

    /// # Errors
    /// 422 for a missing account, an unknown metric or a malformed date; 404
    /// for an account missing or another tenant's; storage failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        input: TrendsInput,
    ) -> Result<TrendReport, AppError> {
        require(actor, Permission::Read)?;
        let mut errors = ValidationError::default();
        if input.ad_account_id.is_none() {
            errors.add("ad_account_id", "is required");
        }
        let metrics = match input.metric.as_deref().filter(|m| !m.is_empty()) {
            None => Metric::ALL.to_vec(),
            Some(m) => match m.parse::<Metric>() {
                Ok(m) => vec![m],
                Err(_) => {
                    errors.add("metric", "must be one of spend, cpa, ctr, conversions");
                    Vec::new()
                }
            },
        };
        let date = optional_date("date", input.date.as_deref(), &mut errors);
        let Some(id) = input.ad_account_id else {
            return Err(errors.into());
        };
        errors.into_result()?;
        let t = actor.tenant_id;
        let account = self.gold.account(t, id).await?;
        let date = date.unwrap_or_else(|| self.gold.yesterday(&account));
        let longest = WINDOWS.iter().copied().max().unwrap_or(14);
        let span = |days: usize| {
            let back = i64::try_from(days).unwrap_or(14) - 1;
            DateRange::new(date - Duration::days(back), date)
        };
        let gold = self.gold.daily(t, id, span(longest)?).await?;

        let mut trends = Vec::new();
        for c in &gold.campaigns {
            for metric in &metrics {
                for days in WINDOWS {
                    let window = span(days)?;
                    // The window's rows only, so it ends on `date` whatever
                    // came later and starts where the window does.
                    let rows: Vec<_> = c
                        .days
                        .iter()
                        .filter(|(d, _)| window.from() <= *d && *d <= window.to())
                        .copied()
                        .collect();
                    if let Some(found) = trend(*metric, &rows, days) {
                        trends.push(CampaignTrend {
                            campaign_id: c.campaign.id,
                            campaign_name: c.campaign.name.clone(),
                            window,
                            trend: found,
                        });
                    }
                }
            }
        }
        Ok(TrendReport {
            ad_account_id: id,
            date,
            metrics,
            trends,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{TODAY, World};
    use domain::UserId;
    use domain::analysis::trend::TrendDirection;
    use domain::identity::{Principal, Role};
    use domain::kpi::KpiTotals;

    fn actor(w: &World) -> Actor {
        Actor {
            tenant_id: w.tenant,
            principal: Principal::User(UserId::generate()),
            role: Role::Analyst,
        }
    }

    #[tokio::test]
    async fn rising_conversions_trend_up_over_both_windows_and_other_metrics_are_not_asked() {
        let w = World::new();
        let c = w.campaign("Rising", None);
        let y = TODAY.previous_day().unwrap();
        // 14 days of 1, 2, …, 14 conversions ending yesterday, and a later
        // day that must not count.
        let mut rows: Vec<_> = (0..14)
            .map(|i| {
                let totals = KpiTotals {
                    conversions: i + 1,
                    ..KpiTotals::default()
                };
                (c.id, y - Duration::days(13 - i), totals)
            })
            .collect();
        rows.push((
            c.id,
            TODAY,
            KpiTotals {
                conversions: 0,
                ..KpiTotals::default()
            },
        ));
        let uc = DetectTrends::new(w.reader(vec![c.clone()], rows));
        let r = uc
            .execute(
                &actor(&w),
                TrendsInput {
                    ad_account_id: Some(w.account),
                    metric: Some("conversions".to_owned()),
                    date: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(r.date, y);
        assert_eq!(r.metrics, [Metric::Conversions]);
        let got: Vec<(usize, TrendDirection)> = r
            .trends
            .iter()
            .map(|t| (t.trend.days, t.trend.direction))
            .collect();
        assert_eq!(got, [(7, TrendDirection::Up), (14, TrendDirection::Up)]);
        assert!((r.trends[0].trend.slope_per_day - 1.0).abs() < 1e-9);
        assert_eq!(r.trends[0].window.from(), y - Duration::days(6));
    }

    #[tokio::test]
    async fn an_unknown_metric_is_refused() {
        let w = World::new();
        let uc = DetectTrends::new(w.reader(vec![], vec![]));
        let err = uc
            .execute(
                &actor(&w),
                TrendsInput {
                    ad_account_id: Some(w.account),
                    metric: Some("roas".to_owned()),
                    date: None,
                },
            )
            .await
            .unwrap_err();
        let AppError::Validation(v) = err else {
            panic!("{err:?}")
        };
        assert_eq!(v.fields.keys().collect::<Vec<_>>(), ["metric"]);
    }
}
