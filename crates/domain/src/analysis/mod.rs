//! The Analyzer's math: scores, anomalies, trends and budget suggestions,
//! computed from gold (daily KPI rows summed into [`KpiTotals`]).
//!
//! Owns pure functions and the numbers that explain each result (medians,
//! expected ranges, slopes, p-values, factor contributions, ROAS distances),
//! so the API can show marketers *why*. Never does I/O, never changes a
//! budget: the allocator only suggests.
//!
//! Money stays [`rust_decimal::Decimal`]; statistics are `f64`.

pub mod allocator;
pub mod anomaly;
pub mod score;
pub mod trend;

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;

use crate::kpi::{KpiTotals, Kpis};

/// A daily metric the Analyzer watches for anomalies and trends.
///
/// All four are non-negative, which lets expected ranges be clamped at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Money spent (account currency).
    Spend,
    /// Cost per conversion, `spend / conversions` (undefined without conversions).
    Cpa,
    /// Click-through rate in percent, `clicks / impressions × 100`.
    Ctr,
    /// Number of conversions.
    Conversions,
}

impl Metric {
    /// Every metric, in a stable order.
    pub const ALL: [Metric; 4] = [Metric::Spend, Metric::Cpa, Metric::Ctr, Metric::Conversions];

    /// Stable wire name: `spend`, `cpa`, `ctr`, `conversions`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Spend => "spend",
            Metric::Cpa => "cpa",
            Metric::Ctr => "ctr",
            Metric::Conversions => "conversions",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A metric name that is not one of [`Metric::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric \"{0}\"; expected spend, cpa, ctr or conversions")]
pub struct UnknownMetric(pub String);

impl FromStr for Metric {
    type Err = UnknownMetric;

    /// Parses the wire name exactly as [`Metric::as_str`] writes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMetric(s.to_owned()))
    }
}

/// The metric's value for one set of totals, as `f64` for statistics.
///
/// Ratios go through [`Kpis::from_totals`] (so CPA is rounded to cents, CTR in
/// percent, exactly as shown elsewhere); `None` when the ratio is undefined
/// (no conversions for CPA, no impressions for CTR).
#[must_use]
pub fn metric_value(metric: Metric, totals: &KpiTotals) -> Option<f64> {
    match metric {
        Metric::Spend => totals.spend.to_f64(),
        Metric::Conversions => totals.conversions.to_f64(),
        Metric::Cpa => Kpis::from_totals(totals).cpa.and_then(|v| v.to_f64()),
        Metric::Ctr => Kpis::from_totals(totals).ctr.and_then(|v| v.to_f64()),
    }
}

/// Defined values of `metric` per date, sorted by date. Undefined days are
/// dropped here, once, for anomalies and trends alike.
fn defined_points(metric: Metric, series: &[(time::Date, KpiTotals)]) -> Vec<(time::Date, f64)> {
    let mut points: Vec<(time::Date, f64)> = series
        .iter()
        .filter_map(|(date, totals)| metric_value(metric, totals).map(|v| (*date, v)))
        .collect();
    points.sort_by_key(|(date, _)| *date);
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn metric_names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.as_str().parse::<Metric>(), Ok(m));
            assert_eq!(m.to_string(), m.as_str());
        }
        assert_eq!(
            "roas".parse::<Metric>(),
            Err(UnknownMetric("roas".to_owned()))
        );
    }

    #[test]
    fn metric_value_uses_kpi_math_and_is_none_when_undefined() {
        let t = KpiTotals {
            impressions: 2000,
            clicks: 30,
            spend: Decimal::new(10000, 2), // 100.00
            conversions: 3,
            ..KpiTotals::default()
        };
        assert_eq!(metric_value(Metric::Spend, &t), Some(100.0));
        assert_eq!(metric_value(Metric::Conversions, &t), Some(3.0));
        assert_eq!(metric_value(Metric::Ctr, &t), Some(1.5)); // 30 / 2000 × 100
        assert_eq!(metric_value(Metric::Cpa, &t), Some(33.33)); // 100 / 3, in cents
        let empty = KpiTotals::default();
        assert_eq!(metric_value(Metric::Cpa, &empty), None);
        assert_eq!(metric_value(Metric::Ctr, &empty), None);
        assert_eq!(metric_value(Metric::Spend, &empty), Some(0.0));
    }
}
