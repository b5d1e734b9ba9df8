//! Analyzer and backtest DTOs. Metric values keep the API's conventions:
//! money as strings with two decimals, other measured values (CTR, ROAS,
//! conversions) as decimal strings where they come from statistics (medians,
//! expected ranges) and as in KPIs elsewhere; statistics themselves (z-scores,
//! slopes, p-values, weights) are JSON numbers. Dates are `YYYY-MM-DD`.

use application::analysis::{BudgetAllocation, CampaignScores, FoundAnomalies, TrendReport};
use application::rules::RuleBacktest;
use domain::analysis::Metric;
use domain::analysis::anomaly::Direction;
use domain::analysis::score::{Factor, Score, ScoreMetric};
use domain::analysis::trend::TrendDirection;
use domain::rules::{BacktestSuggestion, MetricSnapshot};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{date, format_money, money, ratio};
use super::suggestions::{MetricsDto, WindowDto};

// ------------------------------------------------------------------ queries

/// `?from&to&ad_account_id` of a backtest.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BacktestQuery {
    /// First day the evaluation would have run (`YYYY-MM-DD`); required.
    #[param(required = true, value_type = String, format = Date)]
    pub from: Option<String>,
    /// Last day the evaluation would have run; required, at most 366 days after `from`.
    #[param(required = true, value_type = String, format = Date)]
    pub to: Option<String>,
    /// Only this ad account's entities (all of the organization's when absent).
    #[param(value_type = Option<Uuid>)]
    pub ad_account_id: Option<String>,
}

/// `?ad_account_id&from&to`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoresQuery {
    /// The ad account whose campaigns are scored; required.
    #[param(required = true, value_type = Uuid)]
    pub ad_account_id: Option<String>,
    /// First day (default: 27 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day (default: yesterday in the account's time zone); at most 366 days after `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

/// `?ad_account_id&date`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomaliesQuery {
    /// The ad account whose campaigns are checked; required.
    #[param(required = true, value_type = Uuid)]
    pub ad_account_id: Option<String>,
    /// The day judged (default: yesterday in the account's time zone),
    /// against the 28 days before it.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
}

/// `?ad_account_id&metric&date`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendsQuery {
    /// The ad account whose campaigns are fitted; required.
    #[param(required = true, value_type = Uuid)]
    pub ad_account_id: Option<String>,
    /// Only this metric (default: all four).
    #[param(value_type = Option<AnalysisMetricDto>)]
    pub metric: Option<String>,
    /// Last day of the 7- and 14-day windows (default: yesterday in the
    /// account's time zone).
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
}

/// `?ad_account_id&max_change_percent&min_budget&from&to`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllocationQuery {
    /// The ad account whose budgets are balanced; required.
    #[param(required = true, value_type = Uuid)]
    pub ad_account_id: Option<String>,
    /// Most a budget may change, in percent of itself (more than 0, at most 100; default 20).
    #[param(value_type = Option<String>, example = "20")]
    pub max_change_percent: Option<String>,
    /// No budget is cut below this (default 1.00).
    #[param(value_type = Option<String>, example = "10.00")]
    pub min_budget: Option<String>,
    /// First day ROAS is judged on (default: 27 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day (default: yesterday in the account's time zone).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

// ------------------------------------------------------------------ helpers

/// A statistic as a JSON number with at most 4 decimals; `None` when not finite.
fn stat(v: f64) -> Option<f64> {
    v.is_finite().then(|| (v * 10_000.0).round() / 10_000.0)
}

/// A metric's measured value as a decimal string: money (spend, CPA) with
/// two decimals, CTR with up to four, conversions with up to two.
fn metric_text(metric: Metric, v: f64) -> String {
    let Some(d) = Decimal::from_f64(v) else {
        return v.to_string();
    };
    match metric {
        Metric::Spend | Metric::Cpa => format_money(d),
        Metric::Ctr => round(d, 4).to_string(),
        Metric::Conversions => round(d, 2).to_string(),
    }
}

fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

// ------------------------------------------------------------------ backtest

/// What the rule would have suggested for one entity on one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestSuggestionDto {
    pub entity_id: Uuid,
    /// Its name now.
    pub entity_name: String,
    /// `PAUSE`, `BUDGET_UP`, `BUDGET_DOWN` or `NOTIFY`.
    #[schema(example = "PAUSE")]
    pub action: String,
    /// The days judged: the rule's window ending the day before `date`.
    pub window: WindowDto,
    pub metrics: MetricsDto,
    /// The same sentence a live suggestion carries.
    #[schema(example = "CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 2,000 impressions)")]
    pub reason: String,
    /// Spend over the window.
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "30.00")]
    pub spend: Decimal,
}

impl From<BacktestSuggestion> for BacktestSuggestionDto {
    fn from(s: BacktestSuggestion) -> Self {
        Self {
            entity_id: s.entity_id,
            entity_name: s.entity_name,
            action: s.action.kind_str().to_owned(),
            window: WindowDto {
                from: s.window.from(),
                to: s.window.to(),
            },
            metrics: MetricsDto::from(s.metrics),
            reason: s.reason,
            spend: s.spend,
        }
    }
}

/// A day on which the rule would have suggested something.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestDayDto {
    /// The day the evaluation would have run.
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub suggestions: Vec<BacktestSuggestionDto>,
}

/// Counts over the whole replay.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestTotalsDto {
    /// Suggestions over all days.
    pub suggestions: usize,
    /// Σ of each suggestion's window spend (overlapping windows count again):
    /// how much spend the suggestions were about.
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "30.00")]
    pub spend_affected: Decimal,
}

/// A rule replayed over past days. Only days with suggestions are listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestDto {
    pub rule_id: Uuid,
    /// The version replayed (the current one).
    pub version: i32,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// The ad account asked for; absent when every account was replayed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_account_id: Option<Uuid>,
    pub days: Vec<BacktestDayDto>,
    pub totals: BacktestTotalsDto,
}

impl From<RuleBacktest> for BacktestDto {
    fn from(b: RuleBacktest) -> Self {
        Self {
            rule_id: b.rule.id.into_uuid(),
            version: b.rule.version,
            from: b.range.from(),
            to: b.range.to(),
            ad_account_id: b.ad_account_id.map(|a| a.into_uuid()),
            days: b
                .result
                .days
                .into_iter()
                .map(|d| BacktestDayDto {
                    date: d.date,
                    suggestions: d.suggestions.into_iter().map(Into::into).collect(),
                })
                .collect(),
            totals: BacktestTotalsDto {
                suggestions: b.result.totals.suggestions,
                spend_affected: b.result.totals.spend_affected,
            },
        }
    }
}

// ------------------------------------------------------------------ scores

/// A KPI that enters a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoreMetricDto {
    Roas,
    Cpa,
    Ctr,
    Cpc,
}

impl From<ScoreMetric> for ScoreMetricDto {
    fn from(m: ScoreMetric) -> Self {
        match m {
            ScoreMetric::Roas => Self::Roas,
            ScoreMetric::Cpa => Self::Cpa,
            ScoreMetric::Ctr => Self::Ctr,
            ScoreMetric::Cpc => Self::Cpc,
        }
    }
}

/// One factor of a score: the campaign's KPI against the account's.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FactorDto {
    pub metric: ScoreMetricDto,
    /// The campaign's KPI (decimal string; CPA and CPC in money).
    #[schema(example = "6")]
    pub value: String,
    /// The account's KPI over the same days.
    #[schema(example = "3")]
    pub baseline: String,
    /// Oriented ratio: above 1 is better than the account.
    #[schema(value_type = f64, example = 2.0)]
    pub ratio: Option<f64>,
    /// `50 + 25 · log₂(ratio)`, 0–100.
    #[schema(value_type = f64, example = 75.0)]
    pub points: Option<f64>,
    /// Share of the score; the weights sum to 1.
    #[schema(value_type = f64, example = 0.35)]
    pub weight: Option<f64>,
    /// `weight × (points − 50)`: how far this factor moved the score from 50.
    #[schema(value_type = f64, example = 8.75)]
    pub contribution: Option<f64>,
}

impl FactorDto {
    fn of(f: &Factor) -> Self {
        let text = |d: Decimal| match f.metric {
            ScoreMetric::Cpa | ScoreMetric::Cpc => format_money(d),
            ScoreMetric::Roas | ScoreMetric::Ctr => round(d, 4).to_string(),
        };
        Self {
            metric: f.metric.into(),
            value: text(f.value),
            baseline: text(f.baseline),
            ratio: stat(f.ratio),
            points: stat(f.points),
            weight: stat(f.weight),
            contribution: stat(f.contribution),
        }
    }
}

/// One campaign's score.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignScoreDto {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// 0–100, 50 is "like the account"; `null` when it cannot be scored
    /// (under 1,000 impressions, no spend, or no KPI defined).
    #[schema(example = 59)]
    pub score: Option<u8>,
    /// The campaign's metrics over the range.
    pub metrics: MetricsDto,
    /// Largest |contribution| first; empty when unscored.
    pub factors: Vec<FactorDto>,
    /// KPIs left out because they are undefined (e.g. CPA and ROAS without conversions).
    pub dropped: Vec<ScoreMetricDto>,
}

/// Campaign and ad scores against the ad account's baseline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoresDto {
    pub ad_account_id: Uuid,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// The account's metrics over the range: what a score of 50 means.
    pub baseline: MetricsDto,
    /// Campaigns with data in the range, best first; unscored ones last.
    pub campaigns: Vec<CampaignScoreDto>,
    /// Ads with data in the range (their silver rows), against the same
    /// baseline, best first; unscored ones last.
    pub ads: Vec<AdScoreDto>,
}

/// One ad's score, against the same account baseline as the campaigns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdScoreDto {
    pub ad_id: Uuid,
    pub ad_name: String,
    pub campaign_id: Uuid,
    /// 0–100, 50 is "like the account"; `null` when it cannot be scored.
    #[schema(example = 47)]
    pub score: Option<u8>,
    /// The ad's metrics over the range.
    pub metrics: MetricsDto,
    /// Largest |contribution| first; empty when unscored.
    pub factors: Vec<FactorDto>,
    /// KPIs left out because they are undefined.
    pub dropped: Vec<ScoreMetricDto>,
}

/// A score's value, factors and dropped KPIs as the DTOs show them.
fn score_parts(score: Option<&Score>) -> (Option<u8>, Vec<FactorDto>, Vec<ScoreMetricDto>) {
    score.map_or((None, Vec::new(), Vec::new()), |s| {
        (
            Some(s.value),
            s.factors.iter().map(FactorDto::of).collect(),
            s.dropped.iter().map(|m| (*m).into()).collect(),
        )
    })
}

impl From<CampaignScores> for ScoresDto {
    fn from(s: CampaignScores) -> Self {
        Self {
            ad_account_id: s.ad_account_id.into_uuid(),
            from: s.range.from(),
            to: s.range.to(),
            baseline: MetricSnapshot::of(&s.baseline).into(),
            campaigns: s
                .campaigns
                .into_iter()
                .map(|c| {
                    let (score, factors, dropped) = score_parts(c.score.as_ref());
                    CampaignScoreDto {
                        campaign_id: c.campaign_id.into_uuid(),
                        campaign_name: c.campaign_name,
                        score,
                        metrics: MetricSnapshot::of(&c.totals).into(),
                        factors,
                        dropped,
                    }
                })
                .collect(),
            ads: s
                .ads
                .into_iter()
                .map(|a| {
                    let (score, factors, dropped) = score_parts(a.score.as_ref());
                    AdScoreDto {
                        ad_id: a.ad_id.into_uuid(),
                        ad_name: a.ad_name,
                        campaign_id: a.campaign_id.into_uuid(),
                        score,
                        metrics: MetricSnapshot::of(&a.totals).into(),
                        factors,
                        dropped,
                    }
                })
                .collect(),
        }
    }
}

// ------------------------------------------------------------------ anomalies

/// A daily metric the Analyzer watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisMetricDto {
    Spend,
    Cpa,
    Ctr,
    Conversions,
}

impl From<Metric> for AnalysisMetricDto {
    fn from(m: Metric) -> Self {
        match m {
            Metric::Spend => Self::Spend,
            Metric::Cpa => Self::Cpa,
            Metric::Ctr => Self::Ctr,
            Metric::Conversions => Self::Conversions,
        }
    }
}

/// Above or below the expected range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyDirectionDto {
    Up,
    Down,
}

/// What the history makes expected: `median ± threshold × σ̂`, the low end
/// at least 0.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpectedRangeDto {
    #[schema(example = "89.62")]
    pub low: String,
    #[schema(example = "110.38")]
    pub high: String,
}

/// One campaign's metric, or one of its ads', outside its expected range.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnomalyDto {
    /// The campaign (the ad's campaign for an ad's anomaly).
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// The ad whose metric moved; absent for the campaign's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_name: Option<String>,
    pub metric: AnalysisMetricDto,
    /// The day's value (decimal string; spend and CPA in money).
    #[schema(example = "150.00")]
    pub value: String,
    /// Median of the history.
    #[schema(example = "100.00")]
    pub median: String,
    pub expected_range: ExpectedRangeDto,
    /// Robust z-score (median/MAD); `null` when the history was constant,
    /// so any change is infinitely far from it.
    #[schema(value_type = Option<f64>, example = 16.8623)]
    pub z_score: Option<f64>,
    pub direction: AnomalyDirectionDto,
    /// Days of the history with a defined value.
    #[schema(example = 28)]
    pub history_days: usize,
}

/// Anomalies of one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnomaliesDto {
    pub ad_account_id: Uuid,
    /// The day judged.
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// The days it was judged against.
    pub history: WindowDto,
    /// `|z|` above which a value is anomalous.
    #[schema(example = 3.5)]
    pub threshold: f64,
    /// Campaigns' by campaign name, then ads' by ad name; each by metric
    /// (spend, cpa, ctr, conversions).
    pub anomalies: Vec<AnomalyDto>,
}

impl From<FoundAnomalies> for AnomaliesDto {
    fn from(f: FoundAnomalies) -> Self {
        Self {
            ad_account_id: f.ad_account_id.into_uuid(),
            date: f.date,
            history: WindowDto {
                from: f.history.from(),
                to: f.history.to(),
            },
            threshold: f.threshold,
            anomalies: f
                .anomalies
                .into_iter()
                .map(|c| {
                    let a = c.anomaly;
                    let (ad_id, ad_name) =
                        c.ad.map_or((None, None), |ad| (Some(ad.id.into_uuid()), Some(ad.name)));
                    AnomalyDto {
                        campaign_id: c.campaign_id.into_uuid(),
                        campaign_name: c.campaign_name,
                        ad_id,
                        ad_name,
                        metric: a.metric.into(),
                        value: metric_text(a.metric, a.value),
                        median: metric_text(a.metric, a.median),
                        expected_range: ExpectedRangeDto {
                            low: metric_text(a.metric, a.expected_low),
                            high: metric_text(a.metric, a.expected_high),
                        },
                        z_score: stat(a.z),
                        direction: match a.direction {
                            Direction::Up => AnomalyDirectionDto::Up,
                            Direction::Down => AnomalyDirectionDto::Down,
                        },
                        history_days: a.history_len,
                    }
                })
                .collect(),
        }
    }
}

// ------------------------------------------------------------------ trends

/// Where a metric is heading: `flat` unless the slope is significant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirectionDto {
    Up,
    Down,
    Flat,
}

/// One campaign's trend of one metric over one window.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrendDto {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub metric: AnalysisMetricDto,
    /// Window length: 7 or 14.
    #[schema(example = 7)]
    pub days: usize,
    pub window: WindowDto,
    /// Days in the window with a defined value (the points fitted).
    #[schema(example = 7)]
    pub points: usize,
    pub direction: TrendDirectionDto,
    /// Least-squares change per day, in the metric's unit.
    #[schema(value_type = f64, example = 1.5)]
    pub slope_per_day: Option<f64>,
    /// `slope_per_day / mean × 100`; `null` when the mean is 0.
    #[schema(value_type = Option<f64>, example = 3.2)]
    pub relative_slope_percent: Option<f64>,
    /// Mean of the metric over the window.
    #[schema(value_type = f64)]
    pub mean: Option<f64>,
    /// Share of the daily variance the line explains.
    #[schema(value_type = f64)]
    pub r_squared: Option<f64>,
    /// Two-sided p-value of the slope (t-test); significant below 0.05.
    #[schema(value_type = f64, example = 0.012)]
    pub p_value: f64,
    pub significant: bool,
}

/// Trends of an account's campaigns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrendsDto {
    pub ad_account_id: Uuid,
    /// Last day of every window.
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub metrics: Vec<AnalysisMetricDto>,
    /// By campaign name, metric, then window; windows with fewer than 4
    /// days of data are left out.
    pub trends: Vec<TrendDto>,
}

impl From<TrendReport> for TrendsDto {
    fn from(r: TrendReport) -> Self {
        Self {
            ad_account_id: r.ad_account_id.into_uuid(),
            date: r.date,
            metrics: r.metrics.into_iter().map(Into::into).collect(),
            trends: r
                .trends
                .into_iter()
                .map(|c| {
                    let t = c.trend;
                    TrendDto {
                        campaign_id: c.campaign_id.into_uuid(),
                        campaign_name: c.campaign_name,
                        metric: t.metric.into(),
                        days: t.days,
                        window: WindowDto {
                            from: c.window.from(),
                            to: c.window.to(),
                        },
                        points: t.points,
                        direction: match t.direction {
                            TrendDirection::Up => TrendDirectionDto::Up,
                            TrendDirection::Down => TrendDirectionDto::Down,
                            TrendDirection::Flat => TrendDirectionDto::Flat,
                        },
                        slope_per_day: stat(t.slope_per_day),
                        relative_slope_percent: t.relative_slope_pct.and_then(stat),
                        mean: stat(t.mean),
                        r_squared: stat(t.r_squared),
                        p_value: t.p_value,
                        significant: t.significant,
                    }
                })
                .collect(),
        }
    }
}

// ------------------------------------------------------------------ allocation

/// One campaign's current and proposed daily budget.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetLineDto {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "100.00")]
    pub current_daily_budget: Decimal,
    /// Equal to the current budget when unchanged.
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "120.00")]
    pub proposed_daily_budget: Decimal,
    /// `(proposed − current) / current × 100` (decimal string, 2 dp).
    #[schema(example = "20")]
    pub change_percent: String,
    /// Spend over the range.
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "700.00")]
    pub spend: Decimal,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "2870.00")]
    pub revenue: Decimal,
    /// ROAS over the range; `null` without spend.
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>, example = 4.1)]
    pub roas: Option<Decimal>,
    /// Why it moves, or why not.
    #[schema(example = "ROAS 4.10 vs portfolio 2.50 (10 conversions): +20 % (100.00 → 120.00)")]
    pub reason: String,
}

/// A proposal to move daily budget toward better ROAS; nothing is changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetAllocationDto {
    pub ad_account_id: Uuid,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    #[schema(example = "20")]
    pub max_change_percent: String,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "1.00")]
    pub min_budget: Decimal,
    /// ROAS of the judged campaigns together; `null` when none spent.
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>, example = 2.5)]
    pub portfolio_roas: Option<Decimal>,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "200.00")]
    pub total_current: Decimal,
    /// Always equal to `total_current`: budget is moved, never added.
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "200.00")]
    pub total_proposed: Decimal,
    /// Every active campaign with a daily budget, by name.
    pub campaigns: Vec<BudgetLineDto>,
}

impl From<BudgetAllocation> for BudgetAllocationDto {
    fn from(a: BudgetAllocation) -> Self {
        Self {
            ad_account_id: a.ad_account_id.into_uuid(),
            from: a.range.from(),
            to: a.range.to(),
            max_change_percent: a.max_change_percent.normalize().to_string(),
            min_budget: a.min_budget,
            portfolio_roas: a.portfolio_roas,
            total_current: a.total_current,
            total_proposed: a.total_proposed,
            campaigns: a
                .campaigns
                .into_iter()
                .map(|l| BudgetLineDto {
                    campaign_id: l.campaign_id.into_uuid(),
                    campaign_name: l.campaign_name,
                    current_daily_budget: l.current,
                    proposed_daily_budget: l.proposed,
                    change_percent: l.change_percent.normalize().to_string(),
                    spend: l.totals.spend,
                    revenue: l.totals.revenue,
                    roas: l.roas,
                    reason: l.reason,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_values_are_decimal_strings_in_their_unit() {
        assert_eq!(metric_text(Metric::Spend, 150.0), "150.00");
        assert_eq!(metric_text(Metric::Cpa, 33.333), "33.33");
        assert_eq!(metric_text(Metric::Ctr, 1.234_567), "1.2346");
        assert_eq!(metric_text(Metric::Conversions, 2.5), "2.5");
    }

    #[test]
    fn statistics_are_rounded_numbers_and_infinities_null() {
        assert_eq!(stat(16.862_336), Some(16.8623));
        assert_eq!(stat(f64::INFINITY), None);
        assert_eq!(stat(f64::NAN), None);
    }
}
