//! `GET /analysis/scores`: a 0–100 score per campaign and per ad against
//! its ad account over the same range ([`domain::analysis::score`]), with
//! the factors that produced it.

use domain::ads::DateRange;
use domain::analysis::score::{Score, score};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::kpi::KpiTotals;
use domain::{AdAccountId, AdId, CampaignId};
use tracing::instrument;

use super::RangeParams;
use super::gold::{GoldReader, sum};
use crate::AppError;
use crate::error::require;

/// `?ad_account_id&from&to`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoresInput {
    /// Required.
    pub ad_account_id: Option<AdAccountId>,
    /// Defaults to 27 days before `to`.
    pub from: Option<String>,
    /// Defaults to yesterday in the account's time zone.
    pub to: Option<String>,
}

/// One campaign's score.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignScore {
    pub campaign_id: CampaignId,
    pub campaign_name: String,
    /// Its totals over the range.
    pub totals: KpiTotals,
    /// `None` when it cannot be scored (under 1,000 impressions, no spend,
    /// or no factor defined).
    pub score: Option<Score>,
}

/// One ad's score, against the same account baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct AdScore {
    pub ad_id: AdId,
    pub ad_name: String,
    pub campaign_id: CampaignId,
    pub totals: KpiTotals,
    /// `None` when it cannot be scored (as for campaigns).
    pub score: Option<Score>,
}

/// Scores of an account's campaigns and ads.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignScores {
    pub ad_account_id: AdAccountId,
    pub range: DateRange,
    /// The account's totals over the range: what 50 means.
    pub baseline: KpiTotals,
    /// Campaigns with data in the range: scored ones best first, then the
    /// unscored by name.
    pub campaigns: Vec<CampaignScore>,
    /// Ads with data in the range, ordered the same way.
    pub ads: Vec<AdScore>,
}

/// Scores each campaign of an ad account against the account.
pub struct ScoreCampaigns {
    gold: GoldReader,
}

impl ScoreCampaigns {
    #[must_use]
    pub fn new(gold: GoldReader) -> Self {
        Self { gold }
    }

    /// # Errors
    /// 422 for a missing account or a bad range; 404 for an account missing
    /// or another tenant's; storage failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        input: ScoresInput,
    ) -> Result<CampaignScores, AppError> {
        require(actor, Permission::Read)?;
        let t = actor.tenant_id;
        let mut errors = ValidationError::default();
        if input.ad_account_id.is_none() {
            errors.add("ad_account_id", "is required");
        }
        let params = RangeParams::parse(input.from.as_deref(), input.to.as_deref(), &mut errors);
        let Some(id) = input.ad_account_id else {
            return Err(errors.into());
        };
        errors.into_result()?;
        let account = self.gold.account(t, id).await?;
        let range = params.resolve(self.gold.yesterday(&account))?;
        let gold = self.gold.daily(t, id, range).await?;
        let baseline = gold.account_totals();
        let mut campaigns: Vec<CampaignScore> = gold
            .campaigns
            .into_iter()
            .filter(|c| !c.days.is_empty())
            .map(|c| {
                let totals = sum(&c.days);
                CampaignScore {
                    campaign_id: c.campaign.id,
                    campaign_name: c.campaign.name,
                    score: score(&totals, &baseline),
                    totals,
                }
            })
            .collect();
        // Stable: equal scores (and the unscored) keep the name order.
        campaigns.sort_by_key(|c| std::cmp::Reverse(c.score.as_ref().map(|s| s.value)));
        let mut ads: Vec<AdScore> = self
            .gold
            .ad_daily(t, id, range)
            .await?
            .into_iter()
            .map(|a| {
                let totals = sum(&a.days);
                AdScore {
                    ad_id: a.ad.id,
                    ad_name: a.ad.name,
                    campaign_id: a.ad.campaign_id,
                    score: score(&totals, &baseline),
                    totals,
                }
            })
            .collect();
        ads.sort_by_key(|a| std::cmp::Reverse(a.score.as_ref().map(|s| s.value)));
        Ok(CampaignScores {
            ad_account_id: id,
            range,
            baseline,
            campaigns,
            ads,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{TODAY, World};
    use domain::UserId;
    use domain::analysis::score::ScoreMetric;
    use domain::identity::{Principal, Role};
    use rust_decimal::Decimal;
    use time::Duration;

    fn actor(w: &World) -> Actor {
        Actor {
            tenant_id: w.tenant,
            principal: Principal::User(UserId::generate()),
            role: Role::Viewer,
        }
    }

    fn day(impressions: i64, clicks: i64, spend: i64, conversions: i64, revenue: i64) -> KpiTotals {
        KpiTotals {
            impressions,
            clicks,
            spend: Decimal::from(spend),
            conversions,
            revenue: Decimal::from(revenue),
            ..KpiTotals::default()
        }
    }

    #[tokio::test]
    async fn campaigns_are_scored_against_the_account_best_first_and_thin_ones_unscored() {
        let w = World::new();
        let good = w.campaign("Good", None);
        let bad = w.campaign("Bad", None);
        let thin = w.campaign("Thin", None);
        let idle = w.campaign("Idle", None);
        let y = TODAY.previous_day().unwrap();
        let rows = vec![
            // Good: CTR 2 %, CPC 1, CPA 10, ROAS 6 over the default range.
            (good.id, y, day(5_000, 100, 100, 10, 600)),
            // Bad: CTR 1 %, CPC 2, CPA 50, ROAS 1.
            (bad.id, y - Duration::days(3), day(5_000, 50, 100, 2, 100)),
            // Thin: 500 impressions, unscored (but its spend is in the baseline).
            (thin.id, y, day(500, 5, 10, 0, 0)),
            // Outside the default 28 days: ignored.
            (bad.id, y - Duration::days(28), day(90_000, 1, 1_000, 0, 0)),
        ];
        let uc = ScoreCampaigns::new(
            w.reader(vec![good.clone(), bad.clone(), thin.clone(), idle], rows),
        );
        let s = uc
            .execute(
                &actor(&w),
                ScoresInput {
                    ad_account_id: Some(w.account),
                    ..ScoresInput::default()
                },
            )
            .await
            .unwrap();
        assert_eq!((s.range.from(), s.range.to()), (y - Duration::days(27), y));
        assert_eq!(s.baseline, day(10_500, 155, 210, 12, 700));
        let order: Vec<CampaignId> = s.campaigns.iter().map(|c| c.campaign_id).collect();
        assert_eq!(
            order,
            [good.id, bad.id, thin.id],
            "idle has no data and is left out"
        );
        let g = s.campaigns[0].score.as_ref().unwrap();
        let b = s.campaigns[1].score.as_ref().unwrap();
        assert!(g.value > 50 && b.value < 50, "{} {}", g.value, b.value);
        assert_eq!(g.factors[0].metric, ScoreMetric::Roas);
        assert!(s.campaigns[2].score.is_none());
    }

    #[tokio::test]
    async fn a_reversed_or_too_long_range_is_refused() {
        let w = World::new();
        let uc = ScoreCampaigns::new(w.reader(vec![], vec![]));
        let ask = |from: &str, to: &str| ScoresInput {
            ad_account_id: Some(w.account),
            from: Some(from.to_owned()),
            to: Some(to.to_owned()),
        };
        for (input, field) in [
            (ask("2026-02-02", "2026-02-01"), "from"),
            (ask("2025-01-01", "2026-02-01"), "to"),
            (ask("2026-02-30", "2026-03-01"), "from"),
        ] {
            let err = uc.execute(&actor(&w), input).await.unwrap_err();
            let AppError::Validation(v) = err else {
                panic!("{err:?}")
            };
            assert!(v.fields.contains_key(field), "{v:?}");
        }
    }
}
