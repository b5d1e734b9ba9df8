use std::sync::Arc;
use std::time::Duration;

use domain::CampaignId;
use domain::ads::{Ad, DateRange, InsightRepository, TopMetric};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::kpi::{KpiTotals, Kpis};
use domain::platform::{Cache, Clock};

use super::cache_groups;
use super::cached::{CachedList, Renderer};
use crate::error::require;
use crate::{AppError, Resource};

/// A campaign's totals and ratios over an inclusive range of days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignKpis {
    pub campaign_id: CampaignId,
    pub range: DateRange,
    pub totals: KpiTotals,
    pub kpis: Kpis,
}

/// `GET /campaigns/{id}/kpis`: one database round trip, never cached (the
/// windows are arbitrary), ratios from sums through [`Kpis::from_totals`].
pub struct GetCampaignKpis {
    insights: Arc<dyn InsightRepository>,
}

impl GetCampaignKpis {
    #[must_use]
    pub fn new(insights: Arc<dyn InsightRepository>) -> Self {
        Self { insights }
    }

    /// # Errors
    /// Validation of the dates; 404 for a missing or foreign campaign.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: CampaignId,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<CampaignKpis, AppError> {
        require(actor, Permission::Read)?;
        let range = DateRange::parse(from, to)?;
        let totals = self
            .insights
            .campaign_totals(actor.tenant_id, id, range)
            .await?
            .ok_or(AppError::NotFound(Resource::Campaign))?
            .normalized();
        Ok(CampaignKpis {
            campaign_id: id,
            range,
            totals,
            kpis: Kpis::from_totals(&totals),
        })
    }
}

pub struct TopAdsQuery<'a> {
    pub metric: Option<&'a str>,
    pub limit: Option<u32>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

pub const TOP_ADS_DEFAULT_LIMIT: u16 = 20;
pub const TOP_ADS_MAX_LIMIT: u16 = 100;
/// Without `from`/`to`, the last 30 days up to today (UTC).
const DEFAULT_WINDOW_DAYS: i64 = 30;

/// `GET /ads/top`: the best ads by ROAS, CTR or conversions over a window, cached per tenant.
pub struct TopAds {
    insights: Arc<dyn InsightRepository>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
}

impl TopAds {
    #[must_use]
    pub fn new(
        insights: Arc<dyn InsightRepository>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        ttl: Duration,
    ) -> Self {
        Self {
            insights,
            cache,
            clock,
            ttl,
        }
    }

    /// # Errors
    /// Validation of metric, limit and dates; storage or rendering failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        q: TopAdsQuery<'_>,
        render: Renderer<'_, (Ad, KpiTotals)>,
    ) -> Result<CachedList, AppError> {
        require(actor, Permission::Read)?;
        let mut e = ValidationError::default();
        let metric = TopMetric::parse(q.metric.unwrap_or("roas"))
            .map_err(|x| e.merge(x))
            .ok();
        let limit = match q.limit {
            None => Some(TOP_ADS_DEFAULT_LIMIT),
            Some(l) => u16::try_from(l)
                .ok()
                .filter(|l| (1..=TOP_ADS_MAX_LIMIT).contains(l))
                .or_else(|| {
                    e.add("limit", "must be between 1 and 100");
                    None
                }),
        };
        let range = if q.from.is_none() && q.to.is_none() {
            let today = self.clock.now().date();
            DateRange::new(today - time::Duration::days(DEFAULT_WINDOW_DAYS - 1), today)
                .map_err(|x| e.merge(x))
                .ok()
        } else {
            DateRange::parse(q.from, q.to).map_err(|x| e.merge(x)).ok()
        };
        let (Some(metric), Some(limit), Some(range)) = (metric, limit, range) else {
            return Err(e.into());
        };
        let group = cache_groups::top_ads(actor.tenant_id);
        let field = format!(
            "{}|{}|{}|{}",
            metric.as_str(),
            limit,
            range.from(),
            range.to()
        );
        if let Some(hit) = self
            .cache
            .get(&group, &field)
            .await
            .and_then(|raw| CachedList::decode(raw, limit))
        {
            return Ok(hit);
        }
        let rows: Vec<(Ad, KpiTotals)> = self
            .insights
            .top_ads(actor.tenant_id, metric, range, limit)
            .await?
            .into_iter()
            .map(|(ad, t)| (ad, t.normalized()))
            .collect();
        let list = CachedList {
            data: render(&rows).map_err(AppError::Internal)?,
            next_cursor: None,
            limit,
            hit: false,
        };
        if self.ttl > Duration::ZERO {
            self.cache
                .put(&group, &field, list.encode(), self.ttl)
                .await;
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ads::MockInsightRepository;
    use domain::identity::{Principal, Role};
    use domain::{TenantId, UserId};
    use rust_decimal::Decimal;

    fn viewer() -> Actor {
        Actor {
            tenant_id: TenantId::generate(),
            principal: Principal::User(UserId::generate()),
            role: Role::Viewer,
        }
    }

    #[tokio::test]
    async fn foreign_or_missing_campaign_is_not_found() {
        let mut repo = MockInsightRepository::new();
        repo.expect_campaign_totals().returning(|_, _, _| Ok(None));
        let err = GetCampaignKpis::new(Arc::new(repo))
            .execute(
                &viewer(),
                CampaignId::generate(),
                Some("2024-01-01"),
                Some("2024-01-31"),
            )
            .await
            .unwrap_err();
        assert_eq!(err, AppError::NotFound(Resource::Campaign));
    }

    #[tokio::test]
    async fn derives_ratios_from_the_totals() {
        let mut repo = MockInsightRepository::new();
        repo.expect_campaign_totals().returning(|_, _, _| {
            Ok(Some(KpiTotals {
                impressions: 1000,
                clicks: 20,
                link_clicks: 10,
                spend: Decimal::new(5000, 2),
                conversions: 2,
                revenue: Decimal::new(20000, 2),
            }))
        });
        let k = GetCampaignKpis::new(Arc::new(repo))
            .execute(
                &viewer(),
                CampaignId::generate(),
                Some("2024-01-01"),
                Some("2024-01-31"),
            )
            .await
            .unwrap();
        assert_eq!(k.kpis.ctr, Some(Decimal::new(2, 0)));
        assert_eq!(k.kpis.cpa, Some(Decimal::new(25, 0)));
        assert_eq!(k.kpis.roas, Some(Decimal::new(4, 0)));
    }

    #[tokio::test]
    async fn bad_dates_are_rejected_without_a_query() {
        let mut repo = MockInsightRepository::new();
        repo.expect_campaign_totals().never();
        let err = GetCampaignKpis::new(Arc::new(repo))
            .execute(
                &viewer(),
                CampaignId::generate(),
                Some("2024-02-01"),
                Some("2024-01-01"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Validation(_)));
    }
}
