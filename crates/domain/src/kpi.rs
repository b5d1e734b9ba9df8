//! KPI math, once. Every endpoint, report and rule computes ratios through
//! [`Kpis::from_totals`], from summed counts, never by averaging daily ratios.
//!
//! - `ctr  = clicks / impressions × 100` (percent)
//! - `cpc  = spend / clicks`
//! - `cpm  = spend / impressions × 1000`
//! - `cpa  = spend / conversions`
//! - `roas = revenue / spend`
//!
//! A ratio whose divisor is zero is `None` (JSON `null`), never 0 or infinity.

use rust_decimal::{Decimal, RoundingStrategy};

/// Summed counts and money over some set of daily insight rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KpiTotals {
    pub impressions: i64,
    pub clicks: i64,
    pub link_clicks: i64,
    pub spend: Decimal,
    pub conversions: i64,
    pub revenue: Decimal,
}

/// Derived ratios. Money-per-unit figures (cpc, cpm, cpa) are rounded to
/// cents, half away from zero; percentages and ROAS to 4 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kpis {
    pub ctr: Option<Decimal>,
    pub cpc: Option<Decimal>,
    pub cpm: Option<Decimal>,
    pub cpa: Option<Decimal>,
    pub roas: Option<Decimal>,
}

pub const MONEY_DP: u32 = 2;
pub const RATIO_DP: u32 = 4;

fn ratio(num: Decimal, den: Decimal, scale: Decimal, dp: u32) -> Option<Decimal> {
    if den.is_zero() {
        return None;
    }
    num.checked_mul(scale)
        .and_then(|n| n.checked_div(den))
        .map(|v| {
            v.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
                .normalize()
        })
}

impl Kpis {
    #[must_use]
    pub fn from_totals(t: &KpiTotals) -> Self {
        let impressions = Decimal::from(t.impressions);
        let clicks = Decimal::from(t.clicks);
        let conversions = Decimal::from(t.conversions);
        Self {
            ctr: ratio(clicks, impressions, Decimal::ONE_HUNDRED, RATIO_DP),
            cpc: ratio(t.spend, clicks, Decimal::ONE, MONEY_DP),
            cpm: ratio(t.spend, impressions, Decimal::ONE_THOUSAND, MONEY_DP),
            cpa: ratio(t.spend, conversions, Decimal::ONE, MONEY_DP),
            roas: ratio(t.revenue, t.spend, Decimal::ONE, RATIO_DP),
        }
    }
}

impl KpiTotals {
    /// Adds another set of totals (e.g. one more day).
    #[must_use]
    pub fn plus(self, o: &KpiTotals) -> Self {
        Self {
            impressions: self.impressions + o.impressions,
            clicks: self.clicks + o.clicks,
            link_clicks: self.link_clicks + o.link_clicks,
            spend: self.spend + o.spend,
            conversions: self.conversions + o.conversions,
            revenue: self.revenue + o.revenue,
        }
    }

    /// Money as stored and shown: two decimal places.
    #[must_use]
    pub fn normalized(self) -> Self {
        Self {
            spend: self.spend.round_dp(MONEY_DP),
            revenue: self.revenue.round_dp(MONEY_DP),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn computes_hand_checked_ratios() {
        // 53 clicks / 2809 impressions = 1.88679…% ; 152.37 / 53 = 2.8749… ;
        // 152.37 / 2809 × 1000 = 54.2435… ; 152.37 / 4 = 38.0925 ; 610.00 / 152.37 = 4.00341…
        let t = KpiTotals {
            impressions: 2809,
            clicks: 53,
            link_clicks: 40,
            spend: d("152.37"),
            conversions: 4,
            revenue: d("610.00"),
        };
        let k = Kpis::from_totals(&t);
        assert_eq!(k.ctr, Some(d("1.8868")));
        assert_eq!(k.cpc, Some(d("2.87")));
        assert_eq!(k.cpm, Some(d("54.24")));
        assert_eq!(k.cpa, Some(d("38.09")));
        assert_eq!(k.roas, Some(d("4.0034")));
    }

    #[test]
    fn rounds_half_away_from_zero() {
        // 0.125 per click → 0.13, not banker's 0.12
        let t = KpiTotals {
            clicks: 8,
            spend: d("1.00"),
            ..KpiTotals::default()
        };
        assert_eq!(Kpis::from_totals(&t).cpc, Some(d("0.13")));
    }

    #[test]
    fn zero_divisors_give_none() {
        let k = Kpis::from_totals(&KpiTotals::default());
        assert_eq!(k, Kpis::default());
        let t = KpiTotals {
            impressions: 100,
            clicks: 0,
            spend: d("5"),
            ..KpiTotals::default()
        };
        let k = Kpis::from_totals(&t);
        assert_eq!(k.ctr, Some(Decimal::ZERO));
        assert_eq!(k.cpc, None);
        assert_eq!(k.cpa, None);
        assert_eq!(k.cpm, Some(d("50")));
        assert_eq!(k.roas, Some(Decimal::ZERO));
    }

    #[test]
    fn aggregates_from_sums_not_average_of_daily_ratios() {
        let day1 = KpiTotals {
            impressions: 100,
            clicks: 10,
            ..KpiTotals::default()
        }; // 10 %
        let day2 = KpiTotals {
            impressions: 900,
            clicks: 9,
            ..KpiTotals::default()
        }; // 1 %
        let k = Kpis::from_totals(&day1.plus(&day2));
        assert_eq!(k.ctr, Some(d("1.9")), "19/1000, not (10+1)/2");
    }
}
