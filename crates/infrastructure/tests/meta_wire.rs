//! Graph API insights rows, from a real-format fixture
//! (`fixtures/meta/insights_daily_ad_level.json`; origin in the `.source.txt`
//! beside it), become typed values with the hand-checked totals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::actions::ResultAction;
use domain::ads::Currency;
use domain::kpi::KpiTotals;
use infrastructure::meta::wire::InsightRow;
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Deserialize)]
struct Page {
    data: Vec<InsightRow>,
}

fn page() -> Page {
    serde_json::from_str(include_str!("fixtures/meta/insights_daily_ad_level.json")).unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn fixture_rows_sum_to_the_hand_checked_totals() {
    let usd = Currency::parse("USD").unwrap();
    let rows: Vec<_> = page()
        .data
        .iter()
        .map(|r| r.parse(usd, &ResultAction::purchases()).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    let sum = rows.iter().fold(KpiTotals::default(), |a, r| KpiTotals {
        impressions: a.impressions + r.totals.impressions,
        clicks: a.clicks + r.totals.clicks,
        link_clicks: a.link_clicks + r.totals.link_clicks,
        spend: a.spend + r.totals.spend,
        conversions: a.conversions + r.totals.conversions,
        revenue: a.revenue + r.totals.revenue,
    });
    // From the fixture's source note: spend 22.88, impressions 356, clicks 16,
    // inline_link_clicks 13, purchases 2 (omni_purchase and the pixel purchase
    // are the same two), purchase value 389.8.
    assert_eq!(
        sum,
        KpiTotals {
            impressions: 356,
            clicks: 16,
            link_clicks: 13,
            spend: d("22.88"),
            conversions: 2,
            revenue: d("389.80"),
        }
    );
    let second = &rows[1];
    assert_eq!(
        (second.totals.clicks, second.totals.link_clicks),
        (7, 4),
        "all clicks ≠ link clicks"
    );
    assert_eq!(second.date, time::macros::date!(2023 - 06 - 01));
    assert_eq!(second.ad_id.as_deref(), Some("23854695759200548"));
    assert_eq!(second.campaign_id.as_deref(), Some("23854404676180548"));
}

#[test]
fn a_malformed_count_names_its_field() {
    let mut row = page().data.remove(0);
    row.impressions = Some("12x".into());
    let e = row
        .parse(Currency::parse("USD").unwrap(), &ResultAction::purchases())
        .unwrap_err();
    assert_eq!(e.field, "impressions");
}

#[test]
fn a_row_spanning_several_days_is_refused() {
    let mut row = page().data.remove(0);
    row.date_stop = Some("2023-06-07".into());
    let e = row
        .parse(Currency::parse("USD").unwrap(), &ResultAction::purchases())
        .unwrap_err();
    assert_eq!(e.field, "date_stop");
}
