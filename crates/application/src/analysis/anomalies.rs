//! `GET /analysis/anomalies`: which campaigns' spend, CPA, CTR or
//! conversions on one day fall outside what the 28 days before it make
//! expected (robust z-score, [`domain::analysis::anomaly`]).

use std::sync::Arc;

use domain::ads::DateRange;
use domain::analysis::Metric;
use domain::analysis::anomaly::{Anomaly, AnomalyConfig, detect};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::notify::{Alert, AlertOutbox};
use domain::platform::Clock;
use domain::{AdAccountId, AdId, CampaignId, TenantId};
use time::{Date, Duration};
use tracing::instrument;

use super::gold::{DailySeries, GoldReader};
use super::optional_date;
use crate::AppError;
use crate::error::require;

/// `?ad_account_id&date`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnomaliesInput {
    /// Required.
    pub ad_account_id: Option<AdAccountId>,
    /// The day judged; yesterday in the account's time zone when absent.
    pub date: Option<String>,
}

/// One anomalous metric of one campaign, or of one of its ads.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignAnomaly {
    /// The campaign (the ad's campaign for an ad's anomaly).
    pub campaign_id: CampaignId,
    pub campaign_name: String,
    /// The ad whose metric moved; `None` for the campaign's own.
    pub ad: Option<AnomalousAd>,
    pub anomaly: Anomaly,
}

/// The ad of an ad-level anomaly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnomalousAd {
    pub id: AdId,
    pub name: String,
}

/// The anomalies of `date` in one entity's series (none without delivery
/// that day).
fn on_date(days: &DailySeries, date: Date, config: AnomalyConfig) -> Vec<Anomaly> {
    if !days.iter().any(|(d, _)| *d == date) {
        return Vec::new(); // no delivery that day: nothing to judge
    }
    Metric::ALL
        .into_iter()
        .flat_map(|metric| detect(metric, days, config))
        .filter(|a| a.date == date)
        .collect()
}

/// The anomalies of one day.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundAnomalies {
    pub ad_account_id: AdAccountId,
    /// The day judged.
    pub date: Date,
    /// The days it was judged against (the 28 before it).
    pub history: DateRange,
    /// `|z|` above which a value is anomalous.
    pub threshold: f64,
    /// By campaign name, then in [`Metric::ALL`] order.
    pub anomalies: Vec<CampaignAnomaly>,
}

/// Finds the anomalies of one day in an ad account's campaigns.
pub struct DetectAnomalies {
    gold: GoldReader,
    config: AnomalyConfig,
}

impl DetectAnomalies {
    #[must_use]
    pub fn new(gold: GoldReader) -> Self {
        Self {
            gold,
            config: AnomalyConfig::default(),
        }
    }

    /// # Errors
    /// 422 for a missing account or a malformed date; 404 for an account
    /// missing or another tenant's; storage failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        input: AnomaliesInput,
    ) -> Result<FoundAnomalies, AppError> {
        require(actor, Permission::Read)?;
        let mut errors = ValidationError::default();
        if input.ad_account_id.is_none() {
            errors.add("ad_account_id", "is required");
        }
        let date = optional_date("date", input.date.as_deref(), &mut errors);
        let Some(id) = input.ad_account_id else {
            return Err(errors.into());
        };
        errors.into_result()?;
        self.on_day(actor.tenant_id, id, date).await
    }

    /// The anomalies of `date` (yesterday in the account's time zone when
    /// `None`) in the account's campaigns, for jobs that act for the tenant.
    ///
    /// # Errors
    /// 404 for an account missing or another tenant's; storage failures.
    pub async fn on_day(
        &self,
        t: TenantId,
        id: AdAccountId,
        date: Option<Date>,
    ) -> Result<FoundAnomalies, AppError> {
        let account = self.gold.account(t, id).await?;
        let date = date.unwrap_or_else(|| self.gold.yesterday(&account));
        let days = i64::try_from(self.config.history_days).unwrap_or(28);
        let history = DateRange::new(date - Duration::days(days), date - Duration::days(1))?;
        let read = DateRange::new(history.from(), date)?;
        let gold = self.gold.daily(t, id, read).await?;

        let mut anomalies = Vec::new();
        for c in &gold.campaigns {
            anomalies.extend(
                on_date(&c.days, date, self.config)
                    .into_iter()
                    .map(|anomaly| CampaignAnomaly {
                        campaign_id: c.campaign.id,
                        campaign_name: c.campaign.name.clone(),
                        ad: None,
                        anomaly,
                    }),
            );
        }
        // Then each ad's own (silver ad rows), after the campaigns.
        for s in self.gold.ad_daily(t, id, read).await? {
            let campaign_name = gold
                .campaigns
                .iter()
                .find(|c| c.campaign.id == s.ad.campaign_id)
                .map(|c| c.campaign.name.clone())
                .unwrap_or_default();
            anomalies.extend(
                on_date(&s.days, date, self.config)
                    .into_iter()
                    .map(|anomaly| CampaignAnomaly {
                        campaign_id: s.ad.campaign_id,
                        campaign_name: campaign_name.clone(),
                        ad: Some(AnomalousAd {
                            id: s.ad.id,
                            name: s.ad.name.clone(),
                        }),
                        anomaly,
                    }),
            );
        }
        Ok(FoundAnomalies {
            ad_account_id: id,
            date,
            history,
            threshold: self.config.threshold,
            anomalies,
        })
    }
}

/// Alerts on the anomalies of yesterday after each sync of an account (an
/// `anomaly.detected` alert per campaign and metric). Each sync re-judges the
/// same day; an anomaly's alert id is derived from what it is about, so it
/// is queued once. Failures are logged: a sync never fails because of it.
pub struct AnomalyAlerts {
    detect: Arc<DetectAnomalies>,
    outbox: Arc<dyn AlertOutbox>,
    clock: Arc<dyn Clock>,
}

impl AnomalyAlerts {
    #[must_use]
    pub fn new(
        detect: Arc<DetectAnomalies>,
        outbox: Arc<dyn AlertOutbox>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            detect,
            outbox,
            clock,
        }
    }

    /// Queues the alerts of yesterday's anomalies (each once); returns how
    /// many anomalies there are.
    ///
    /// # Errors
    /// 404 for an account missing or another tenant's; storage failures.
    pub async fn execute(&self, t: TenantId, account: AdAccountId) -> Result<usize, AppError> {
        let found = self.detect.on_day(t, account, None).await?;
        let now = self.clock.now();
        for a in &found.anomalies {
            let alert = match &a.ad {
                None => Alert::anomaly(
                    t,
                    "campaign",
                    a.campaign_id.into_uuid(),
                    &a.campaign_name,
                    &a.anomaly,
                    now,
                ),
                Some(ad) => Alert::anomaly(t, "ad", ad.id.into_uuid(), &ad.name, &a.anomaly, now),
            };
            self.outbox.enqueue(&alert).await?;
        }
        Ok(found.anomalies.len())
    }
}

#[async_trait::async_trait]
impl crate::ingestion::sync::AfterSync for AnomalyAlerts {
    #[instrument(skip_all, fields(tenant_id = %t, ad_account_id = %account))]
    async fn synced(&self, t: TenantId, account: AdAccountId) {
        match self.execute(t, account).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(anomalies = n, "anomalies found after sync"),
            Err(e) => tracing::warn!(error = %e, "anomaly detection after sync failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{TODAY, World};
    use domain::analysis::anomaly::Direction;
    use domain::identity::{Principal, Role};
    use domain::kpi::KpiTotals;
    use domain::{TenantId, UserId};
    use rust_decimal::Decimal;

    fn actor(t: TenantId) -> Actor {
        Actor {
            tenant_id: t,
            principal: Principal::User(UserId::generate()),
            role: Role::Viewer,
        }
    }

    /// 28 normal days of spend 100 ± 3 and 2 conversions, then `last` spend.
    fn rows(c: CampaignId, end: Date, last: i64) -> Vec<(CampaignId, Date, KpiTotals)> {
        let week = [100, 102, 98, 101, 99, 103, 97];
        (0..29)
            .map(|i| {
                let spend = if i == 28 { last } else { week[i % 7] };
                let totals = KpiTotals {
                    impressions: 5_000,
                    clicks: 100,
                    spend: Decimal::from(spend),
                    conversions: 2,
                    ..KpiTotals::default()
                };
                (c, end - Duration::days(28 - i as i64), totals)
            })
            .collect()
    }

    #[tokio::test]
    async fn a_spend_spike_yesterday_is_the_only_anomaly_found_by_default() {
        let w = World::new();
        let spiky = w.campaign("Spiky", None);
        let calm = w.campaign("Calm", None);
        let yesterday = TODAY.previous_day().unwrap();
        let mut data = rows(spiky.id, yesterday, 150);
        data.extend(rows(calm.id, yesterday, 100));
        let uc = DetectAnomalies::new(w.reader(vec![spiky.clone(), calm], data));
        let found = uc
            .execute(
                &actor(w.tenant),
                AnomaliesInput {
                    ad_account_id: Some(w.account),
                    date: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(found.date, yesterday);
        assert_eq!(found.history.to(), yesterday - Duration::days(1));
        assert_eq!(found.history.from(), yesterday - Duration::days(28));
        // Spend 150 also doubles CPA (75 vs 50): both are found, nothing else.
        let metrics: Vec<(CampaignId, Metric)> = found
            .anomalies
            .iter()
            .map(|a| (a.campaign_id, a.anomaly.metric))
            .collect();
        assert_eq!(
            metrics,
            [(spiky.id, Metric::Spend), (spiky.id, Metric::Cpa)]
        );
        assert_eq!(found.anomalies[0].anomaly.direction, Direction::Up);
        assert_eq!(found.anomalies[0].anomaly.value, 150.0);
    }

    #[tokio::test]
    async fn the_account_is_required_and_foreign_accounts_are_not_found() {
        let w = World::new();
        let uc = DetectAnomalies::new(w.reader(vec![], vec![]));
        let err = uc
            .execute(
                &actor(w.tenant),
                AnomaliesInput {
                    ad_account_id: None,
                    date: Some("2026-13-01".to_owned()),
                },
            )
            .await
            .unwrap_err();
        let AppError::Validation(v) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            v.fields.keys().collect::<Vec<_>>(),
            ["ad_account_id", "date"]
        );
        let other = actor(TenantId::generate());
        let err = uc
            .execute(
                &other,
                AnomaliesInput {
                    ad_account_id: Some(w.account),
                    date: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err, AppError::NotFound(crate::Resource::AdAccount));
    }
}
