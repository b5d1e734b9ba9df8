//! Scores: a 0–100 grade for a campaign or ad, relative to its own ad
//! account over the same window, with the factors that produced it.
//!
//! Each factor compares the entity's KPI with the account's (the baseline):
//! `ratio = entity / baseline` when higher is better (ROAS, CTR),
//! `baseline / entity` when lower is better (CPA, CPC), so a ratio above 1
//! is always good. Points: `50 + 25 · log₂(ratio)`, clamped to 0..=100, so
//! parity is 50, twice as good 75, four times 100, half as good 25.
//! The score is the weighted mean of the points (weights in
//! [`ScoreMetric::weight`], renormalised over the factors that are defined),
//! rounded half away from zero. A factor's contribution is
//! `weight × (points − 50)`: the score is `50 + Σ contributions`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::kpi::{KpiTotals, Kpis};

/// Fewest impressions an entity needs to be scored: below that its ratios
/// are mostly noise.
pub const MIN_IMPRESSIONS: i64 = 1_000;

/// Points gained per doubling of the ratio (and lost per halving).
pub const POINTS_PER_DOUBLING: f64 = 25.0;

/// A KPI that enters the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScoreMetric {
    /// Return on ad spend, higher is better.
    Roas,
    /// Cost per conversion, lower is better.
    Cpa,
    /// Click-through rate, higher is better.
    Ctr,
    /// Cost per click, lower is better.
    Cpc,
}

impl ScoreMetric {
    /// All factors, heaviest first.
    pub const ALL: [ScoreMetric; 4] = [
        ScoreMetric::Roas,
        ScoreMetric::Cpa,
        ScoreMetric::Ctr,
        ScoreMetric::Cpc,
    ];

    /// Stable wire name: `roas`, `cpa`, `ctr`, `cpc`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ScoreMetric::Roas => "roas",
            ScoreMetric::Cpa => "cpa",
            ScoreMetric::Ctr => "ctr",
            ScoreMetric::Cpc => "cpc",
        }
    }

    /// Weight before renormalisation: money outcomes first (ROAS 0.35,
    /// CPA 0.30), then engagement and cost of traffic (CTR 0.20, CPC 0.15).
    #[must_use]
    pub fn weight(self) -> f64 {
        match self {
            ScoreMetric::Roas => 0.35,
            ScoreMetric::Cpa => 0.30,
            ScoreMetric::Ctr => 0.20,
            ScoreMetric::Cpc => 0.15,
        }
    }

    /// Whether a larger value is better (ROAS, CTR) or worse (CPA, CPC).
    #[must_use]
    pub fn higher_is_better(self) -> bool {
        matches!(self, ScoreMetric::Roas | ScoreMetric::Ctr)
    }

    fn pick(self, k: &Kpis) -> Option<Decimal> {
        match self {
            ScoreMetric::Roas => k.roas,
            ScoreMetric::Cpa => k.cpa,
            ScoreMetric::Ctr => k.ctr,
            ScoreMetric::Cpc => k.cpc,
        }
    }
}

/// One factor of a score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Factor {
    /// The KPI.
    pub metric: ScoreMetric,
    /// The entity's KPI (as [`Kpis::from_totals`] gives it).
    pub value: Decimal,
    /// The account's KPI over the same window.
    pub baseline: Decimal,
    /// Oriented ratio: above 1 is better than the account.
    pub ratio: f64,
    /// `50 + 25 · log₂(ratio)`, clamped to 0..=100.
    pub points: f64,
    /// Renormalised weight; the weights of a score sum to 1.
    pub weight: f64,
    /// `weight × (points − 50)`: how far this factor moved the score from 50.
    pub contribution: f64,
}

/// A 0–100 score and what produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// `round(50 + Σ contributions)`, 0..=100; 50 is "like the account".
    pub value: u8,
    /// Factors used, largest |contribution| first.
    pub factors: Vec<Factor>,
    /// Factors left out because they are undefined on either side (e.g. CPA
    /// and ROAS without conversions), heaviest first.
    pub dropped: Vec<ScoreMetric>,
}

/// Points for an oriented ratio: 50 at parity, ±25 per doubling, 0..=100
/// (a NaN ratio, which [`score`] never produces, counts as parity).
#[must_use]
pub fn points(ratio: f64) -> f64 {
    if ratio.is_nan() {
        return 50.0;
    }
    (50.0 + POINTS_PER_DOUBLING * ratio.log2()).clamp(0.0, 100.0)
}

/// Scores `entity` (a campaign's or ad's totals) against `baseline` (its ad
/// account's totals over the same window).
///
/// A factor is used when both KPIs are defined and its ratio is finite: the
/// baseline must be positive, and for lower-is-better KPIs the entity too.
/// CPA and ROAS also need the entity to have conversions: with none, its
/// ROAS says more about sample size than performance, and the score rests on
/// CTR and CPC. A zero CTR or ROAS otherwise scores 0 points.
///
/// `None` when the entity has fewer than [`MIN_IMPRESSIONS`] impressions, no
/// spend, or no factor is defined.
#[must_use]
pub fn score(entity: &KpiTotals, baseline: &KpiTotals) -> Option<Score> {
    if entity.impressions < MIN_IMPRESSIONS || entity.spend <= Decimal::ZERO {
        return None;
    }
    let ours = Kpis::from_totals(entity);
    let theirs = Kpis::from_totals(baseline);
    let mut used: Vec<(ScoreMetric, Decimal, Decimal, f64)> = Vec::new();
    let mut dropped = Vec::new();
    for metric in ScoreMetric::ALL {
        let needs_conversions = matches!(metric, ScoreMetric::Roas | ScoreMetric::Cpa);
        let ratio = if needs_conversions && entity.conversions <= 0 {
            None
        } else {
            metric
                .pick(&ours)
                .zip(metric.pick(&theirs))
                .and_then(|(value, base)| {
                    oriented_ratio(metric, value, base).map(|r| (value, base, r))
                })
        };
        match ratio {
            Some((value, base, r)) => used.push((metric, value, base, r)),
            None => dropped.push(metric),
        }
    }
    let total_weight: f64 = used.iter().map(|(m, ..)| m.weight()).sum();
    if used.is_empty() || total_weight <= 0.0 {
        return None;
    }
    let mut factors: Vec<Factor> = used
        .into_iter()
        .map(|(metric, value, baseline, ratio)| {
            let points = points(ratio);
            let weight = metric.weight() / total_weight;
            Factor {
                metric,
                value,
                baseline,
                ratio,
                points,
                weight,
                contribution: weight * (points - 50.0),
            }
        })
        .collect();
    // Stable: equal contributions keep the heaviest-first order.
    factors.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    let total = 50.0 + factors.iter().map(|f| f.contribution).sum::<f64>();
    Some(Score {
        value: total.round().clamp(0.0, 100.0) as u8,
        factors,
        dropped,
    })
}

/// `entity / baseline` (or the inverse for lower-is-better); `None` when
/// that would divide by zero.
fn oriented_ratio(metric: ScoreMetric, value: Decimal, base: Decimal) -> Option<f64> {
    let (num, den) = if metric.higher_is_better() {
        (value, base)
    } else {
        (base, value)
    };
    if den <= Decimal::ZERO || num < Decimal::ZERO {
        return None;
    }
    Some(num.to_f64()? / den.to_f64()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Account: CTR 2 %, CPC 2.00, CPA 40.00, ROAS 3.
    fn account() -> KpiTotals {
        KpiTotals {
            impressions: 10_000,
            clicks: 200,
            link_clicks: 150,
            spend: Decimal::from(400),
            conversions: 10,
            revenue: Decimal::from(1200),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn points_are_50_at_parity_and_25_per_doubling() {
        assert!(close(points(1.0), 50.0));
        assert!(close(points(2.0), 75.0));
        assert!(close(points(0.5), 25.0));
        assert!(close(points(8.0), 100.0));
        assert!(close(points(0.0), 0.0));
    }

    #[test]
    fn parity_scores_50() {
        let s = score(&account(), &account()).unwrap();
        assert_eq!(s.value, 50);
        assert_eq!(s.factors.len(), 4);
        assert!(s.dropped.is_empty());
        assert!(s.factors.iter().all(|f| close(f.contribution, 0.0)));
        assert!(close(s.factors.iter().map(|f| f.weight).sum(), 1.0));
    }

    #[test]
    fn twice_the_roas_scores_higher() {
        // ROAS 6 vs 3 → ratio 2 → 75 points × 0.35 = +8.75 → 58.75 → 59.
        let entity = KpiTotals {
            revenue: Decimal::from(2400),
            ..account()
        };
        let s = score(&entity, &account()).unwrap();
        assert_eq!(s.value, 59);
        let top = s.factors[0];
        assert_eq!(top.metric, ScoreMetric::Roas);
        assert_eq!(top.value, Decimal::from(6));
        assert_eq!(top.baseline, Decimal::from(3));
        assert!(close(top.ratio, 2.0));
        assert!(close(top.points, 75.0));
        assert!(close(top.contribution, 8.75));
    }

    #[test]
    fn mixed_entity_matches_hand_computation() {
        // CTR 0.5 % vs 2 %  → ratio 0.25 → 0 pts   × 0.20 → −10
        // CPC 4.00 vs 2.00  → ratio 0.5  → 25 pts  × 0.15 → −3.75
        // CPA 20.00 vs 40   → ratio 2    → 75 pts  × 0.30 → +7.5
        // ROAS 12 vs 3      → ratio 4    → 100 pts × 0.35 → +17.5
        // 50 + 11.25 = 61.25 → 61
        let entity = KpiTotals {
            impressions: 2_000,
            clicks: 10,
            link_clicks: 8,
            spend: Decimal::from(40),
            conversions: 2,
            revenue: Decimal::from(480),
        };
        let s = score(&entity, &account()).unwrap();
        assert_eq!(s.value, 61);
        let order: Vec<ScoreMetric> = s.factors.iter().map(|f| f.metric).collect();
        assert_eq!(
            order,
            [
                ScoreMetric::Roas,
                ScoreMetric::Ctr,
                ScoreMetric::Cpa,
                ScoreMetric::Cpc
            ]
        );
        let contributions: Vec<f64> = s.factors.iter().map(|f| f.contribution).collect();
        for (got, want) in contributions.iter().zip([17.5, -10.0, 7.5, -3.75]) {
            assert!(close(*got, want), "{contributions:?}");
        }
    }

    #[test]
    fn no_conversions_drops_cpa_and_roas_and_renormalises() {
        // CTR 4 % vs 2 % → 75 pts; CPC 2.00 vs 2.00 → 50 pts.
        // Weights 0.20 and 0.15 → 4/7 and 3/7: 50 + 4/7 × 25 = 64.29 → 64.
        let entity = KpiTotals {
            impressions: 2_000,
            clicks: 80,
            link_clicks: 60,
            spend: Decimal::from(160),
            conversions: 0,
            revenue: Decimal::ZERO,
        };
        let s = score(&entity, &account()).unwrap();
        assert_eq!(s.value, 64);
        assert_eq!(s.dropped, [ScoreMetric::Roas, ScoreMetric::Cpa]);
        assert_eq!(s.factors[0].metric, ScoreMetric::Ctr);
        assert!(close(s.factors[0].weight, 4.0 / 7.0));
        assert!(close(s.factors[1].weight, 3.0 / 7.0));
    }

    #[test]
    fn thin_or_undefined_entities_are_not_scored() {
        let thin = KpiTotals {
            impressions: 999,
            ..account()
        };
        assert_eq!(score(&thin, &account()), None);
        let unpaid = KpiTotals {
            spend: Decimal::ZERO,
            ..account()
        };
        assert_eq!(score(&unpaid, &account()), None);
        // An empty baseline leaves no factor defined.
        assert_eq!(score(&account(), &KpiTotals::default()), None);
    }
}
