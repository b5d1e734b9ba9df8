//! Anomalies: a day whose metric is far from what the preceding weeks make
//! expected, measured with a robust z-score (median and MAD), so one bad day
//! in the history does not hide the next one.
//!
//! `z = (value − median) / scale`, where `scale` estimates the standard
//! deviation of the history (see [`RobustStats`]). A day is anomalous when
//! `|z| > threshold` (3.5 by default, Iglewicz & Hoaglin's cut-off for this
//! "modified z-score"). The expected range shown to users is
//! `median ± threshold × scale`, clamped at 0 (every [`Metric`] is non-negative).

use time::Date;

use crate::kpi::KpiTotals;

use super::defined_points;
pub use super::{Metric, UnknownMetric, metric_value};

/// Makes the MAD a consistent estimator of σ for normal data
/// (`1 / Φ⁻¹(3/4) ≈ 1.4826`).
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Makes the mean absolute deviation a consistent estimator of σ for normal
/// data (`√(π/2) ≈ 1.2533`); used only when the MAD is 0.
pub const MEAN_AD_TO_SIGMA: f64 = 1.2533;

/// Median of `values`; `None` when empty. The mean of the two middle values
/// for an even count.
#[must_use]
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let upper = *sorted.get(n / 2)?;
    if n % 2 == 1 {
        Some(upper)
    } else {
        Some(f64::midpoint(sorted[n / 2 - 1], upper))
    }
}

/// Centre and spread of a history, robust to a few outliers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustStats {
    /// Median of the history.
    pub median: f64,
    /// Raw median absolute deviation from the median (unscaled).
    pub mad: f64,
    /// The σ estimate used for z-scores: `MAD × 1.4826`; when more than half
    /// the history sits exactly on the median (MAD = 0), the mean absolute
    /// deviation from the median `× 1.2533`; 0 when every value is equal.
    pub scale: f64,
}

impl RobustStats {
    /// Statistics of `history`; `None` when it is empty.
    #[must_use]
    pub fn of(history: &[f64]) -> Option<Self> {
        let median = median(history)?;
        let deviations: Vec<f64> = history.iter().map(|v| (v - median).abs()).collect();
        let mad = self::median(&deviations)?;
        let scale = if mad > 0.0 {
            mad * MAD_TO_SIGMA
        } else {
            // `history` is non-empty here, so the count is at least 1.
            let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64;
            mean_ad * MEAN_AD_TO_SIGMA
        };
        Some(Self { median, mad, scale })
    }

    /// Robust z-score of `value`. When the history was constant (`scale` 0),
    /// a value equal to it scores 0 and any other value scores ±∞: a change
    /// after perfectly flat days is always reported. (`serde_json` writes ±∞
    /// as `null`; the expected range then is `[median, median]`.)
    #[must_use]
    pub fn z(&self, value: f64) -> f64 {
        let deviation = value - self.median;
        if self.scale > 0.0 {
            deviation / self.scale
        } else if deviation == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(deviation)
        }
    }

    /// `median ± threshold × scale`, the low end clamped at 0.
    #[must_use]
    pub fn expected_range(&self, threshold: f64) -> (f64, f64) {
        let half = threshold * self.scale;
        ((self.median - half).max(0.0), self.median + half)
    }
}

/// How anomalies are looked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyConfig {
    /// Calendar days before a day that form its history (28: four full weeks,
    /// so each weekday is equally represented).
    pub history_days: usize,
    /// `|z|` above which a day is anomalous (3.5).
    pub threshold: f64,
    /// Fewest defined history values needed to judge a day (7); fewer and the
    /// day is not judged at all.
    pub min_history: usize,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            history_days: 28,
            threshold: 3.5,
            min_history: 7,
        }
    }
}

/// Which side of the expected range a day fell on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Above the expected range.
    Up,
    /// Below the expected range.
    Down,
}

/// One anomalous day, with the numbers that make it one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anomaly {
    /// The metric that moved.
    pub metric: Metric,
    /// The day.
    pub date: Date,
    /// The metric's value that day.
    pub value: f64,
    /// Robust z-score against the preceding days (±∞ after a constant history).
    pub z: f64,
    /// Median of the history.
    pub median: f64,
    /// Low end of the expected range, `max(0, median − threshold × scale)`.
    pub expected_low: f64,
    /// High end of the expected range, `median + threshold × scale`.
    pub expected_high: f64,
    /// Above or below the expected range.
    pub direction: Direction,
    /// How many defined days the history had.
    pub history_len: usize,
}

/// Anomalous days of `metric` in one entity's daily `series`, oldest first.
///
/// Each day is judged against the defined values of the `history_days`
/// calendar days *before* it (never itself), once that history has at least
/// `min_history` values. Days where the metric is undefined (CPA without
/// conversions, CTR without impressions) are neither judged nor history.
/// `series` need not be sorted; one row per date is expected.
#[must_use]
pub fn detect(metric: Metric, series: &[(Date, KpiTotals)], cfg: AnomalyConfig) -> Vec<Anomaly> {
    let points = defined_points(metric, series);
    let window = i64::try_from(cfg.history_days).unwrap_or(i64::MAX);
    let mut anomalies = Vec::new();
    for (i, &(date, value)) in points.iter().enumerate() {
        let day = i64::from(date.to_julian_day());
        // `points` is sorted: walk back from the day until the window ends.
        let history: Vec<f64> = points[..i]
            .iter()
            .rev()
            .map(|(d, v)| (day - i64::from(d.to_julian_day()), *v))
            .skip_while(|(age, _)| *age < 1)
            .take_while(|(age, _)| *age <= window)
            .map(|(_, v)| v)
            .collect();
        if history.len() < cfg.min_history.max(1) {
            continue;
        }
        let Some(stats) = RobustStats::of(&history) else {
            continue;
        };
        let z = stats.z(value);
        if z.abs() <= cfg.threshold {
            continue;
        }
        let (expected_low, expected_high) = stats.expected_range(cfg.threshold);
        anomalies.push(Anomaly {
            metric,
            date,
            value,
            z,
            median: stats.median,
            expected_low,
            expected_high,
            direction: if z > 0.0 {
                Direction::Up
            } else {
                Direction::Down
            },
            history_len: history.len(),
        });
    }
    anomalies
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use time::{Duration, macros::date};

    const START: Date = date!(2025 - 01 - 01);
    /// One week of "normal" spend; repeated it has median 100 and MAD 2.
    const WEEK: [i64; 7] = [100, 102, 98, 101, 99, 103, 97];

    fn spend_series(values: &[i64]) -> Vec<(Date, KpiTotals)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let totals = KpiTotals {
                    spend: Decimal::from(*v),
                    ..KpiTotals::default()
                };
                (START + Duration::days(i as i64), totals)
            })
            .collect()
    }

    fn four_weeks_then(last: i64) -> Vec<(Date, KpiTotals)> {
        let mut values: Vec<i64> = WEEK.iter().copied().cycle().take(28).collect();
        values.push(last);
        spend_series(&values)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn robust_stats_fall_back_to_mean_absolute_deviation_when_mad_is_zero() {
        // median 5; deviations 0×7, 1, 3 → MAD 0; mean AD = 4/9
        let s = RobustStats::of(&[5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 6.0, 8.0]).unwrap();
        assert_eq!(s.median, 5.0);
        assert_eq!(s.mad, 0.0);
        assert!(close(s.scale, 4.0 / 9.0 * 1.2533));
    }

    #[test]
    fn constant_history_scores_any_change_as_infinite() {
        let s = RobustStats::of(&[2.0; 7]).unwrap();
        assert_eq!(s.scale, 0.0);
        assert_eq!(s.z(2.0), 0.0);
        assert_eq!(s.z(3.0), f64::INFINITY);
        assert_eq!(s.z(1.0), f64::NEG_INFINITY);
        assert_eq!(s.expected_range(3.5), (2.0, 2.0));
    }

    #[test]
    fn spike_is_found_on_its_day_with_hand_computed_z() {
        // History = WEEK × 4: sorted 97,98,99,100,101,102,103 four times each,
        // 14th and 15th values are 100 → median 100. Deviations 0×4, 1×8, 2×8,
        // 3×8 → 14th and 15th are 2 → MAD 2, scale 2 × 1.4826 = 2.9652.
        // z(150) = 50 / 2.9652 = 16.8623…; range 100 ± 3.5 × 2.9652 = 100 ± 10.3782.
        let series = four_weeks_then(150);
        let found = detect(Metric::Spend, &series, AnomalyConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let a = found[0];
        assert_eq!(a.date, START + Duration::days(28));
        assert_eq!(a.value, 150.0);
        assert_eq!(a.median, 100.0);
        assert!(close(a.z, 50.0 / 2.9652), "z = {}", a.z);
        assert!(close(a.expected_low, 89.6218));
        assert!(close(a.expected_high, 110.3782));
        assert_eq!(a.direction, Direction::Up);
        assert_eq!(a.history_len, 28);
    }

    #[test]
    fn same_series_without_spike_has_no_anomaly() {
        let series = four_weeks_then(100);
        assert!(detect(Metric::Spend, &series, AnomalyConfig::default()).is_empty());
    }

    #[test]
    fn drop_is_direction_down() {
        // z(40) = −60 / 2.9652 = −20.2347…
        let found = detect(
            Metric::Spend,
            &four_weeks_then(40),
            AnomalyConfig::default(),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].direction, Direction::Down);
        assert!(close(found[0].z, -60.0 / 2.9652));
    }

    #[test]
    fn short_history_is_not_judged() {
        // Six normal days then a spike: only 6 < 7 days of history.
        let series = spend_series(&[100, 102, 98, 101, 99, 103, 500]);
        assert!(detect(Metric::Spend, &series, AnomalyConfig::default()).is_empty());
    }

    #[test]
    fn days_outside_the_history_window_are_not_history() {
        // Ten normal days, a month of silence, then a spike: its 28-day
        // window holds no data, so it cannot be judged.
        let mut series = spend_series(&[100, 102, 98, 101, 99, 103, 97, 100, 102, 98]);
        let late = KpiTotals {
            spend: Decimal::from(500),
            ..KpiTotals::default()
        };
        series.push((START + Duration::days(45), late));
        assert!(detect(Metric::Spend, &series, AnomalyConfig::default()).is_empty());
    }

    #[test]
    fn jump_after_constant_history_is_reported_with_a_point_range() {
        // Ten days with no conversions, then 3: MAD and mean AD are 0.
        let mut rows = vec![KpiTotals::default(); 10];
        rows.push(KpiTotals {
            conversions: 3,
            ..KpiTotals::default()
        });
        let series: Vec<(Date, KpiTotals)> = rows
            .into_iter()
            .enumerate()
            .map(|(i, t)| (START + Duration::days(i as i64), t))
            .collect();
        let found = detect(Metric::Conversions, &series, AnomalyConfig::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].z, f64::INFINITY);
        assert_eq!((found[0].expected_low, found[0].expected_high), (0.0, 0.0));
        assert_eq!(found[0].direction, Direction::Up);
    }

    #[test]
    fn undefined_days_are_neither_judged_nor_history() {
        // CPA: 10.00 spend per conversion on normal days; day 4 has no
        // conversions (CPA undefined), so day 8 has only 6 defined history
        // values and is skipped; day 9 has 7 and its CPA of 50 is flagged.
        let day = |spend: i64, conversions: i64| KpiTotals {
            spend: Decimal::from(spend),
            conversions,
            ..KpiTotals::default()
        };
        let rows = [
            day(10, 1),
            day(22, 2), // 11
            day(9, 1),
            day(10, 0), // undefined
            day(20, 2),
            day(11, 1),
            day(10, 1),
            day(50, 1), // 6 defined before it: not judged
            day(50, 1), // 7 defined before it: flagged
        ];
        let series: Vec<(Date, KpiTotals)> = rows
            .iter()
            .enumerate()
            .map(|(i, t)| (START + Duration::days(i as i64), *t))
            .collect();
        let found = detect(Metric::Cpa, &series, AnomalyConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].date, START + Duration::days(8));
        assert_eq!(found[0].history_len, 7);
    }
}
