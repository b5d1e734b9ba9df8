//! What each report says, as pure functions of gold: the tables, figures
//! and charts of [`domain::reports::ReportDocument`], with every KPI taken
//! from [`Kpis::from_totals`] of summed totals (the API's own figures), never
//! from averaged ratios.

use domain::ads::DateRange;
use domain::analysis::Metric;
use domain::analysis::trend::{TrendDirection, trend};
use domain::assistant::chat::AnswerMode;
use domain::assistant::insight::Insight;
use domain::kpi::{KpiTotals, Kpis, MONEY_DP};
use domain::reports::{Axis, Cell, Chart, Column, ColumnKind, Figure, Series, Table};
use domain::rules::{RuleLevel, Suggestion};
use rust_decimal::{Decimal, RoundingStrategy};
use time::{Date, Duration};

use crate::analysis::gold::{AccountGold, CampaignGold, DailySeries, sum};

/// Campaigns listed in each of the daily report's top and bottom tables.
pub const TOP_N: usize = 5;

/// Days of spend and CPA the daily report charts.
pub const DAILY_CHART_DAYS: i64 = 14;

/// The five KPIs every report leads with, in order.
pub(crate) const KPI_HEADERS: [(&str, ColumnKind); 5] = [
    ("Spend", ColumnKind::Money),
    ("Results", ColumnKind::Integer),
    ("CPA", ColumnKind::Money),
    ("ROAS", ColumnKind::Ratio),
    ("CTR", ColumnKind::Percent),
];

/// A span of days summed, or averaged per day, for comparing periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Period {
    pub label: String,
    pub totals: KpiTotals,
    /// 1 for a sum; n for "per day over n days" (spend and results divided).
    pub per: u32,
}

impl Period {
    pub(crate) fn sum(label: String, days: &[(Date, KpiTotals)], range: DateRange) -> Self {
        Self {
            label,
            totals: sum_in(days, range),
            per: 1,
        }
    }

    pub(crate) fn daily_average(
        label: String,
        days: &[(Date, KpiTotals)],
        range: DateRange,
    ) -> Self {
        Self {
            label,
            totals: sum_in(days, range),
            per: u32::try_from(range.days()).unwrap_or(1).max(1),
        }
    }

    fn spend(&self) -> Decimal {
        round(self.totals.spend / Decimal::from(self.per), MONEY_DP)
    }

    fn results(&self) -> Decimal {
        round(
            Decimal::from(self.totals.conversions) / Decimal::from(self.per),
            2,
        )
    }

    /// Spend, results, CPA, ROAS, CTR: the values compared.
    fn values(&self) -> [Option<Decimal>; 5] {
        let k = Kpis::from_totals(&self.totals);
        [
            Some(self.spend()),
            Some(self.results()),
            k.cpa,
            k.roas,
            k.ctr,
        ]
    }
}

/// The summary figures of one period's totals.
pub(crate) fn kpi_figures(t: &KpiTotals) -> Vec<Figure> {
    KPI_HEADERS
        .iter()
        .zip(kpi_cells(t))
        .map(|((label, kind), cell)| Figure::new(*label, *kind, cell))
        .collect()
}

/// Spend, results, CPA, ROAS and CTR of summed totals, as cells.
pub(crate) fn kpi_cells(t: &KpiTotals) -> Vec<Cell> {
    let k = Kpis::from_totals(t);
    vec![
        Cell::Number(round(t.spend, MONEY_DP)),
        Cell::Integer(t.conversions),
        Cell::number(k.cpa),
        Cell::number(k.roas),
        Cell::number(k.ctr),
    ]
}

/// Periods side by side (one row each, `Period` first), then how the first
/// period changed against each of the others, in percent.
pub(crate) fn comparison(title: &str, periods: &[Period]) -> Vec<Table> {
    let averaged = periods.iter().any(|p| p.per > 1);
    let mut columns = vec![Column::new("Period", ColumnKind::Text)];
    columns.extend(KPI_HEADERS.iter().map(|(h, k)| {
        // A per-day average of results is fractional.
        let kind = if *h == "Results" && averaged {
            ColumnKind::Ratio
        } else {
            *k
        };
        Column::new(*h, kind)
    }));
    let rows = periods
        .iter()
        .map(|p| {
            let mut row = vec![Cell::Text(p.label.clone())];
            let [spend, results, cpa, roas, ctr] = p.values();
            row.push(Cell::number(spend));
            row.push(if averaged {
                Cell::number(results)
            } else {
                Cell::Integer(p.totals.conversions)
            });
            row.extend([cpa, roas, ctr].map(Cell::number));
            row
        })
        .collect();
    let mut tables = vec![Table {
        title: title.to_owned(),
        columns,
        rows,
    }];
    if let Some((current, bases)) = periods.split_first()
        && !bases.is_empty()
    {
        let mut columns = vec![Column::new("Compared with", ColumnKind::Text)];
        columns.extend(
            KPI_HEADERS
                .iter()
                .map(|(h, _)| Column::new(format!("{h} change"), ColumnKind::Percent)),
        );
        let now = current.values();
        let rows = bases
            .iter()
            .map(|b| {
                let mut row = vec![Cell::Text(b.label.clone())];
                row.extend(
                    now.iter()
                        .zip(b.values())
                        .map(|(n, base)| Cell::number(change_pct(*n, base))),
                );
                row
            })
            .collect();
        tables.push(Table {
            title: format!("{title}: change"),
            columns,
            rows,
        });
    }
    tables
}

/// `(now − base) / base × 100`, 2 dp; `None` when either is missing or the
/// base is 0 (no meaningful percentage).
pub(crate) fn change_pct(now: Option<Decimal>, base: Option<Decimal>) -> Option<Decimal> {
    let (now, base) = (now?, base?);
    if base.is_zero() {
        return None;
    }
    Some(round((now - base) * Decimal::ONE_HUNDRED / base.abs(), 2))
}

/// One row per campaign with data in `range`: name, then the five KPIs.
fn campaign_row(c: &CampaignGold, range: DateRange) -> (String, KpiTotals) {
    (c.campaign.name.clone(), sum_in(&c.days, range))
}

/// Columns of a campaign table: name and the five KPIs.
fn campaign_columns() -> Vec<Column> {
    named_columns("Campaign")
}

/// A `first` name column, then the five KPIs.
fn named_columns(first: &str) -> Vec<Column> {
    let mut columns = vec![Column::new(first, ColumnKind::Text)];
    columns.extend(KPI_HEADERS.iter().map(|(h, k)| Column::new(*h, *k)));
    columns
}

/// An organization report's ad accounts side by side over `range`, by
/// spend (largest first, then name), each with its five KPIs.
pub(crate) fn accounts(parts: &[(String, AccountGold)], range: DateRange) -> Table {
    let mut lines: Vec<(&String, KpiTotals)> = parts
        .iter()
        .map(|(name, g)| (name, sum_in(&g.account_days, range)))
        .collect();
    lines.sort_by(|a, b| b.1.spend.cmp(&a.1.spend).then_with(|| a.0.cmp(b.0)));
    Table {
        title: "Ad accounts".to_owned(),
        columns: named_columns("Ad account"),
        rows: lines
            .into_iter()
            .map(|(name, t)| {
                let mut row = vec![Cell::Text(name.clone())];
                row.extend(kpi_cells(&t));
                row
            })
            .collect(),
    }
}

/// The daily report's best and worst campaigns of `day` by ROAS (ties: lower
/// CPA first, then name), among those that spent. The bottom table lists the
/// worst of those not already in the top one, worst first, so no campaign
/// shows twice.
pub(crate) fn top_and_bottom(campaigns: &[CampaignGold], range: DateRange) -> [Table; 2] {
    let mut spent: Vec<(String, KpiTotals)> = campaigns
        .iter()
        .map(|c| campaign_row(c, range))
        .filter(|(_, t)| t.spend > Decimal::ZERO)
        .collect();
    spent.sort_by(|(an, at), (bn, bt)| {
        let (a, b) = (Kpis::from_totals(at), Kpis::from_totals(bt));
        b.roas
            .cmp(&a.roas)
            .then_with(|| cpa_order(a.cpa, b.cpa))
            .then_with(|| an.cmp(bn))
    });
    let top: Vec<&(String, KpiTotals)> = spent.iter().take(TOP_N).collect();
    let bottom: Vec<&(String, KpiTotals)> = spent.iter().skip(TOP_N).rev().take(TOP_N).collect();
    let table = |title: String, rows: Vec<&(String, KpiTotals)>| Table {
        title,
        columns: campaign_columns(),
        rows: rows
            .into_iter()
            .map(|(name, t)| {
                let mut row = vec![Cell::Text(name.clone())];
                row.extend(kpi_cells(t));
                row
            })
            .collect(),
    };
    [
        table(format!("Top {TOP_N} campaigns by ROAS"), top),
        table(format!("Bottom {TOP_N} campaigns by ROAS"), bottom),
    ]
}

/// Lower CPA first; a missing CPA (no conversions) last.
fn cpa_order(a: Option<Decimal>, b: Option<Decimal>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// Every campaign with spend in `current`, by spend (largest first, then
/// name): its KPIs, how spend and CPA changed against `previous`, and the
/// direction of its daily spend over both (a significant least-squares
/// slope, see [`trend`]).
pub(crate) fn campaigns_week_over_week(
    campaigns: &[CampaignGold],
    current: DateRange,
    previous: DateRange,
) -> Table {
    let mut columns = campaign_columns();
    columns.extend([
        Column::new("Spend change", ColumnKind::Percent),
        Column::new("CPA change", ColumnKind::Percent),
        Column::new("Spend trend", ColumnKind::Text),
    ]);
    let both = DateRange::new(previous.from(), current.to()).unwrap_or(current);
    let days = usize::try_from(both.days()).unwrap_or(14);
    let mut lines: Vec<(String, KpiTotals, KpiTotals, Option<TrendDirection>)> = campaigns
        .iter()
        .map(|c| {
            let in_both: DailySeries = c
                .days
                .iter()
                .filter(|(d, _)| both.contains(*d))
                .copied()
                .collect();
            (
                c.campaign.name.clone(),
                sum_in(&c.days, current),
                sum_in(&c.days, previous),
                trend(Metric::Spend, &in_both, days).map(|t| t.direction),
            )
        })
        .filter(|(_, now, _, _)| now.spend > Decimal::ZERO)
        .collect();
    lines.sort_by(|a, b| b.1.spend.cmp(&a.1.spend).then_with(|| a.0.cmp(&b.0)));
    let rows = lines
        .into_iter()
        .map(|(name, now, before, direction)| {
            let (k_now, k_before) = (Kpis::from_totals(&now), Kpis::from_totals(&before));
            let mut row = vec![Cell::Text(name)];
            row.extend(kpi_cells(&now));
            row.push(Cell::number(change_pct(
                Some(now.spend),
                Some(before.spend),
            )));
            row.push(Cell::number(change_pct(k_now.cpa, k_before.cpa)));
            row.push(Cell::Text(
                match direction {
                    Some(TrendDirection::Up) => "up",
                    Some(TrendDirection::Down) => "down",
                    Some(TrendDirection::Flat) => "flat",
                    None => "not enough data",
                }
                .to_owned(),
            ));
            row
        })
        .collect();
    Table {
        title: "Campaigns, week over week".to_owned(),
        columns,
        rows,
    }
}

/// Every campaign with spend in `range`, by spend: its KPIs, its daily
/// budget now and how much of that budget over the range it spent (`Empty`
/// without a daily budget).
pub(crate) fn campaigns_with_budget_use(campaigns: &[CampaignGold], range: DateRange) -> Table {
    let mut columns = campaign_columns();
    columns.extend([
        Column::new("Daily budget", ColumnKind::Money),
        Column::new("Budget use", ColumnKind::Percent),
    ]);
    let mut lines: Vec<(&CampaignGold, KpiTotals)> = campaigns
        .iter()
        .map(|c| (c, sum_in(&c.days, range)))
        .filter(|(_, t)| t.spend > Decimal::ZERO)
        .collect();
    lines.sort_by(|a, b| {
        b.1.spend
            .cmp(&a.1.spend)
            .then_with(|| a.0.campaign.name.cmp(&b.0.campaign.name))
    });
    let rows = lines
        .into_iter()
        .map(|(c, t)| {
            let budget = c.campaign.daily_budget.filter(|b| *b > Decimal::ZERO);
            let mut row = vec![Cell::Text(c.campaign.name.clone())];
            row.extend(kpi_cells(&t));
            row.push(Cell::number(budget.map(|b| round(b, MONEY_DP))));
            row.push(Cell::number(budget_use(t.spend, budget, range)));
            row
        })
        .collect();
    Table {
        title: "Campaigns".to_owned(),
        columns,
        rows,
    }
}

/// Days compared before and after an applied suggestion.
pub const EFFECT_DAYS: i64 = 7;

/// The applied suggestions of `range` on the account's campaigns, oldest
/// first: when, what changed, and the campaign's spend per day, CPA and ROAS
/// over the [`EFFECT_DAYS`] days before the change against the days after it
/// (up to [`EFFECT_DAYS`], within the data read: `Empty` when there are
/// none yet). Ad-set and ad suggestions are listed without the effect.
pub(crate) fn applied_suggestions(
    suggestions: &[Suggestion],
    campaigns: &[CampaignGold],
    range: DateRange,
    last_day: Date,
) -> Table {
    let mut columns = vec![
        Column::new("Applied", ColumnKind::Date),
        Column::new("Entity", ColumnKind::Text),
        Column::new("Change", ColumnKind::Text),
    ];
    for h in ["Spend/day", "CPA", "ROAS"] {
        let kind = if h == "ROAS" {
            ColumnKind::Ratio
        } else {
            ColumnKind::Money
        };
        columns.push(Column::new(format!("{h} before"), kind));
        columns.push(Column::new(format!("{h} after"), kind));
    }
    let mut applied: Vec<(&Suggestion, Date)> = suggestions
        .iter()
        .filter_map(|s| Some((s, s.applied_at?.date())))
        .filter(|(_, day)| range.contains(*day))
        .collect();
    applied.sort_by_key(|(s, day)| (*day, s.id));
    let rows = applied
        .into_iter()
        .map(|(s, day)| {
            let campaign = (s.level == RuleLevel::Campaign)
                .then(|| {
                    campaigns
                        .iter()
                        .find(|c| c.campaign.id.into_uuid() == s.entity_id)
                })
                .flatten();
            let mut row = vec![
                Cell::Date(day),
                Cell::Text(s.entity_name.clone()),
                Cell::Text(s.proposal.describe()),
            ];
            let before = days_ending(day - Duration::DAY, EFFECT_DAYS);
            let after_end = (day + Duration::days(EFFECT_DAYS - 1)).min(last_day);
            let after = DateRange::new(day, after_end).ok();
            let per_day = |t: &KpiTotals, r: DateRange| {
                round(t.spend / Decimal::from(r.days().max(1)), MONEY_DP)
            };
            let side = |r: Option<DateRange>| -> [Cell; 3] {
                let (Some(c), Some(r)) = (campaign, r) else {
                    return [Cell::Empty, Cell::Empty, Cell::Empty];
                };
                let t = sum_in(&c.days, r);
                if t == KpiTotals::default() {
                    return [Cell::Empty, Cell::Empty, Cell::Empty];
                }
                let k = Kpis::from_totals(&t);
                [
                    Cell::Number(per_day(&t, r)),
                    Cell::number(k.cpa),
                    Cell::number(k.roas),
                ]
            };
            let (b, a) = (side(Some(before)), side(after));
            for (x, y) in b.into_iter().zip(a) {
                row.push(x);
                row.push(y);
            }
            row
        })
        .collect();
    Table {
        title: "Applied suggestions and their effect".to_owned(),
        columns,
        rows,
    }
}

/// The generated weekly insights of the period (oldest week first): the
/// week, its headline, its findings' titles, and who wrote it.
pub(crate) fn generated_insights(insights: &[Insight]) -> Table {
    Table {
        title: "Generated insights".to_owned(),
        columns: vec![
            Column::new("Week from", ColumnKind::Date),
            Column::new("Headline", ColumnKind::Text),
            Column::new("Findings", ColumnKind::Text),
            Column::new("Written by", ColumnKind::Text),
        ],
        rows: insights
            .iter()
            .map(|i| {
                let findings: Vec<&str> = i.findings.iter().map(|f| f.title.as_str()).collect();
                vec![
                    Cell::Date(i.week.from()),
                    Cell::Text(i.headline.clone()),
                    Cell::Text(findings.join("; ")),
                    Cell::Text(
                        match i.mode {
                            AnswerMode::BuiltIn => "built-in",
                            AnswerMode::Llm | AnswerMode::Unverified => "model (verified)",
                        }
                        .to_owned(),
                    ),
                ]
            })
            .collect(),
    }
}

/// Spend as a percentage of `daily_budget × days in range`, 2 dp.
pub(crate) fn budget_use(
    spend: Decimal,
    daily_budget: Option<Decimal>,
    range: DateRange,
) -> Option<Decimal> {
    let available = daily_budget? * Decimal::from(range.days());
    (!available.is_zero()).then(|| round(spend * Decimal::ONE_HUNDRED / available, 2))
}

/// Daily spend (left axis) and CPA (right axis) of the account over
/// `range`; days without rows are gaps for CPA and 0 spend.
pub(crate) fn spend_and_cpa_chart(days: &[(Date, KpiTotals)], range: DateRange) -> Chart {
    let x: Vec<Date> = range.iter().collect();
    let on = |d: Date| days.iter().find(|(day, _)| *day == d).map(|(_, t)| t);
    Chart {
        title: "Spend and CPA per day".to_owned(),
        series: vec![
            Series {
                name: "Spend".to_owned(),
                kind: ColumnKind::Money,
                axis: Axis::Left,
                values: x
                    .iter()
                    .map(|d| Some(on(*d).map_or(Decimal::ZERO, |t| round(t.spend, MONEY_DP))))
                    .collect(),
            },
            Series {
                name: "CPA".to_owned(),
                kind: ColumnKind::Money,
                axis: Axis::Right,
                values: x
                    .iter()
                    .map(|d| on(*d).and_then(|t| Kpis::from_totals(t).cpa))
                    .collect(),
            },
        ],
        x,
    }
}

/// The days of `range` that end on `last` and go back `days` days.
pub(crate) fn days_ending(last: Date, days: i64) -> DateRange {
    let from = last - Duration::days(days.max(1) - 1);
    DateRange::new(from, last).unwrap_or_else(|_| DateRange::day(last))
}

fn sum_in(days: &[(Date, KpiTotals)], range: DateRange) -> KpiTotals {
    let inside: DailySeries = days
        .iter()
        .filter(|(d, _)| range.contains(*d))
        .copied()
        .collect();
    sum(&inside)
}

fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}
