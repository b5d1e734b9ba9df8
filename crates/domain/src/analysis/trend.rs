//! Trends: is a metric going up or down over the last 7 or 14 days, and is
//! that more than noise?
//!
//! Ordinary least squares of the daily value on the day index
//! (`x` = calendar days since the window's first day, so gaps stay gaps).
//! Significance is a two-sided t-test of the slope against 0 with `n − 2`
//! degrees of freedom: `t = slope / se`, `se = √(SSE / (n − 2) / Sxx)`,
//! `p = 2 · P(T > |t|)`. A trend is `Up`/`Down` only when `p <` [`SIGNIFICANCE`].

use statrs::distribution::{ContinuousCDF, StudentsT};
use time::Date;

use crate::kpi::KpiTotals;

use super::{Metric, defined_points};

/// The windows the Analyzer reports, in days.
pub const WINDOWS: [usize; 2] = [7, 14];

/// Fewest days with a defined value for a trend to be computed.
pub const MIN_POINTS: usize = 4;

/// A slope with a p-value below this is significant.
pub const SIGNIFICANCE: f64 = 0.05;

/// A least-squares line `y = intercept + slope · x` and how well it fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearFit {
    /// Number of points fitted.
    pub n: usize,
    /// Change in `y` per unit of `x`.
    pub slope: f64,
    /// `y` at `x = 0`.
    pub intercept: f64,
    /// Mean of `y`.
    pub mean: f64,
    /// Share of the variance of `y` the line explains, `1 − SSE / SST`; 0 when
    /// `y` is constant.
    pub r_squared: f64,
    /// Two-sided p-value of the slope being non-zero (1 when `y` is constant,
    /// 0 for a perfect non-flat line).
    pub p_value: f64,
}

/// Ordinary least squares over `(x, y)` points; `None` with fewer than 3
/// points (no degree of freedom left for the test) or when all `x` are equal.
#[must_use]
pub fn linear_fit(points: &[(f64, f64)]) -> Option<LinearFit> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let count = n as f64;
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / count;
    let mean = points.iter().map(|(_, y)| y).sum::<f64>() / count;
    let sxx: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    // Checked exactly: a float mean of equal values may not equal them, and
    // the rounding noise would otherwise pass for a slope.
    if points.iter().all(|(_, y)| *y == points[0].1) {
        return Some(LinearFit {
            n,
            slope: 0.0,
            intercept: points[0].1,
            mean: points[0].1,
            r_squared: 0.0,
            p_value: 1.0,
        });
    }
    let sxy: f64 = points.iter().map(|(x, y)| (x - mean_x) * (y - mean)).sum();
    let slope = sxy / sxx;
    let intercept = mean - slope * mean_x;
    let sse: f64 = points
        .iter()
        .map(|(x, y)| (y - intercept - slope * x).powi(2))
        .sum();
    let sst: f64 = points.iter().map(|(_, y)| (y - mean).powi(2)).sum();
    let df = count - 2.0;
    let se = (sse / df / sxx).sqrt();
    // se = 0 (perfect line) gives t = ±∞ and p = 0.
    let t = slope / se;
    let p_value = 2.0 * StudentsT::new(0.0, 1.0, df).ok()?.sf(t.abs());
    Some(LinearFit {
        n,
        slope,
        intercept,
        mean,
        r_squared: 1.0 - sse / sst,
        p_value: p_value.clamp(0.0, 1.0),
    })
}

/// Where a metric is heading, when the data says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrendDirection {
    /// Significant positive slope.
    Up,
    /// Significant negative slope.
    Down,
    /// No significant slope (including a perfectly constant metric).
    Flat,
}

/// A metric's trend over the last `days` days, with its statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// The metric.
    pub metric: Metric,
    /// Window length in calendar days (7 or 14).
    pub days: usize,
    /// Days in the window with a defined value (the points fitted).
    pub points: usize,
    /// Least-squares change of the metric per day, in the metric's unit.
    pub slope_per_day: f64,
    /// Mean of the metric over the window.
    pub mean: f64,
    /// `slope_per_day / mean × 100`: "+3.2 % per day"; `None` when the mean is 0.
    pub relative_slope_pct: Option<f64>,
    /// `Up`/`Down` when significant, else `Flat`.
    pub direction: TrendDirection,
    /// Share of the day-to-day variance the line explains.
    pub r_squared: f64,
    /// Two-sided p-value of the slope (t-test, `points − 2` degrees of freedom).
    pub p_value: f64,
    /// `p_value <` [`SIGNIFICANCE`].
    pub significant: bool,
}

/// Trend of `metric` over the `days` calendar days ending on the latest date
/// of `series` (e.g. 7 → that day and the 6 before it).
///
/// Days where the metric is undefined are left out; `None` when fewer than
/// [`MIN_POINTS`] defined days remain. `series` need not be sorted.
#[must_use]
pub fn trend(metric: Metric, series: &[(Date, KpiTotals)], days: usize) -> Option<Trend> {
    let last = series.iter().map(|(date, _)| *date).max()?;
    let last_day = i64::from(last.to_julian_day());
    let span = i64::try_from(days).ok()?;
    let xy: Vec<(f64, f64)> = defined_points(metric, series)
        .into_iter()
        .filter_map(|(date, value)| {
            let x = span - 1 - (last_day - i64::from(date.to_julian_day()));
            (0..span).contains(&x).then_some((x as f64, value))
        })
        .collect();
    if xy.len() < MIN_POINTS {
        return None;
    }
    let fit = linear_fit(&xy)?;
    let significant = fit.p_value < SIGNIFICANCE;
    let direction = match (significant, fit.slope) {
        (true, s) if s > 0.0 => TrendDirection::Up,
        (true, s) if s < 0.0 => TrendDirection::Down,
        _ => TrendDirection::Flat,
    };
    Some(Trend {
        metric,
        days,
        points: fit.n,
        slope_per_day: fit.slope,
        mean: fit.mean,
        relative_slope_pct: (fit.mean != 0.0).then(|| fit.slope / fit.mean * 100.0),
        direction,
        r_squared: fit.r_squared,
        p_value: fit.p_value,
        significant,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use time::{Duration, macros::date};

    const START: Date = date!(2025 - 03 - 01);

    fn conversions(values: &[i64]) -> Vec<(Date, KpiTotals)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let totals = KpiTotals {
                    conversions: *v,
                    ..KpiTotals::default()
                };
                (START + Duration::days(i as i64), totals)
            })
            .collect()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    #[test]
    fn perfect_line_has_exact_slope_and_zero_p() {
        // y = 10 + 2x over 7 days: mean 16, +2/16 = +12.5 % per day.
        let series = conversions(&[10, 12, 14, 16, 18, 20, 22]);
        let t = trend(Metric::Conversions, &series, 7).unwrap();
        assert!(close(t.slope_per_day, 2.0, 1e-12));
        assert!(close(t.mean, 16.0, 1e-12));
        assert!(close(t.relative_slope_pct.unwrap(), 12.5, 1e-9));
        assert!(close(t.r_squared, 1.0, 1e-12));
        assert!(t.p_value < 1e-9, "p = {}", t.p_value);
        assert!(t.significant);
        assert_eq!(t.direction, TrendDirection::Up);
        assert_eq!((t.days, t.points), (7, 7));
    }

    #[test]
    fn alternating_noise_is_flat() {
        // 10,12,10,12,… over 14 days: Sxy = (1+3+…+13) − (0+2+…+12) = 7,
        // Sxx = 14·(14²−1)/12 = 227.5 → slope 7/227.5 = 0.030769…;
        // SSE = 14 − 49/227.5 = 13.7846, t = 0.433 with 12 df, p ≈ 0.67.
        let series = conversions(&[10, 12, 10, 12, 10, 12, 10, 12, 10, 12, 10, 12, 10, 12]);
        let t = trend(Metric::Conversions, &series, 14).unwrap();
        assert!(close(t.slope_per_day, 7.0 / 227.5, 1e-12));
        assert!(close(t.r_squared, (49.0 / 227.5) / 14.0, 1e-12));
        assert!(t.p_value > 0.6 && t.p_value < 0.7, "p = {}", t.p_value);
        assert!(!t.significant);
        assert_eq!(t.direction, TrendDirection::Flat);
    }

    #[test]
    fn small_series_matches_hand_computation() {
        // x = 0..3, y = 1,3,2,5: x̄ 1.5, ȳ 2.75, Sxx 5, Sxy 5.5 → slope 1.1,
        // intercept 1.1; residuals −0.1, 0.8, −1.3, 0.6 → SSE 2.7; SST 8.75,
        // r² = 1 − 2.7/8.75; se = √(2.7/2/5) = √0.27, t = 1.1/√0.27.
        // With 2 df the t CDF is closed-form: p = 1 − t/√(2 + t²).
        let fit = linear_fit(&[(0.0, 1.0), (1.0, 3.0), (2.0, 2.0), (3.0, 5.0)]).unwrap();
        assert!(close(fit.slope, 1.1, 1e-12));
        assert!(close(fit.intercept, 1.1, 1e-12));
        assert!(close(fit.r_squared, 1.0 - 2.7 / 8.75, 1e-12));
        let t: f64 = 1.1 / 0.27_f64.sqrt();
        let p = 1.0 - t / (2.0 + t * t).sqrt();
        assert!(close(fit.p_value, p, 1e-9), "{} vs {p}", fit.p_value);
        assert!(close(p, 0.168_478, 1e-6));

        let t = trend(Metric::Conversions, &conversions(&[1, 3, 2, 5]), 7).unwrap();
        assert_eq!(
            t.direction,
            TrendDirection::Flat,
            "p ≈ 0.17 is not significant"
        );
    }

    #[test]
    fn falling_line_is_down() {
        let series = conversions(&[30, 27, 24, 21, 18, 15, 12]);
        let t = trend(Metric::Conversions, &series, 7).unwrap();
        assert!(close(t.slope_per_day, -3.0, 1e-12));
        assert_eq!(t.direction, TrendDirection::Down);
    }

    #[test]
    fn constant_series_is_flat_with_p_one() {
        let t = trend(Metric::Conversions, &conversions(&[5; 7]), 7).unwrap();
        assert_eq!(t.slope_per_day, 0.0);
        assert_eq!(t.p_value, 1.0);
        assert_eq!(t.direction, TrendDirection::Flat);
    }

    #[test]
    fn only_the_last_days_are_fitted() {
        // A fall for 7 days, then a rise: the 7-day window sees only the rise.
        let series = conversions(&[50, 45, 40, 35, 30, 25, 20, 2, 4, 6, 8, 10, 12, 14]);
        let week = trend(Metric::Conversions, &series, 7).unwrap();
        assert!(close(week.slope_per_day, 2.0, 1e-12));
        assert_eq!(week.direction, TrendDirection::Up);
        assert_eq!(trend(Metric::Conversions, &series, 14).unwrap().points, 14);
    }

    #[test]
    fn gaps_keep_calendar_spacing() {
        // y = 2x on days 0, 1, 4, 6 of the week (2, 3 and 5 missing).
        let series: Vec<(Date, KpiTotals)> = [(0, 0), (1, 2), (4, 8), (6, 12)]
            .iter()
            .map(|&(day, v)| {
                let totals = KpiTotals {
                    conversions: v,
                    ..KpiTotals::default()
                };
                (START + Duration::days(day), totals)
            })
            .collect();
        let t = trend(Metric::Conversions, &series, 7).unwrap();
        assert_eq!(t.points, 4);
        assert!(close(t.slope_per_day, 2.0, 1e-12));
    }

    #[test]
    fn too_few_defined_days_give_none() {
        // CPA is undefined on days without conversions: 3 defined days only.
        let day = |spend: i64, conversions: i64| KpiTotals {
            spend: Decimal::from(spend),
            conversions,
            ..KpiTotals::default()
        };
        let series: Vec<(Date, KpiTotals)> =
            [day(10, 1), day(10, 0), day(12, 1), day(10, 0), day(14, 1)]
                .iter()
                .enumerate()
                .map(|(i, t)| (START + Duration::days(i as i64), *t))
                .collect();
        assert!(trend(Metric::Cpa, &series, 7).is_none());
        assert!(trend(Metric::Conversions, &series, 7).is_some());
        assert!(trend(Metric::Spend, &[], 7).is_none());
    }
}
