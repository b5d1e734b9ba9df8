//! What each intent reads from gold and how it is shown: the [`Fact`]s (the
//! only numbers an answer may use), a compact table for the prompt and the
//! built-in answerer's text, which renders the same facts deterministically.

use std::fmt::Write as _;

use domain::TenantId;
use domain::ads::{AdAccount, Currency};
use domain::analysis::Metric;
use domain::analysis::anomaly::Direction;
use domain::assistant::chat::{ChatMetric, Intent, Period};
use domain::assistant::figures::{Fact, Figure, Unit};
use domain::kpi::{KpiTotals, Kpis};
use domain::page::PageRequest;
use domain::reports::{DecimalSeparator, format_decimal};
use domain::rules::SuggestionStatus;
use rust_decimal::{Decimal, RoundingStrategy};

use super::Chat;
use crate::AppError;
use crate::analysis::gold::sum;

/// Campaigns shown by a top/bottom question and by a "why" breakdown.
const TOP_N: usize = 5;
const WHY_N: usize = 3;
/// Pending suggestions read for a question.
const SUGGESTIONS_N: u16 = 20;

/// The data fetched for one question.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gathered {
    /// Every number the answer may use.
    pub facts: Vec<Fact>,
    /// Campaign, ad and suggestion texts the answer may quote (numbers in
    /// them are not figures).
    pub names: Vec<String>,
    /// Lines of context without figures (suggestions' reasons).
    pub notes: Vec<String>,
    /// The built-in answerer's text.
    pub built_in: String,
}

/// A fact as a figure (what the built-in and unverified answers list).
#[must_use]
pub fn figure_of(f: &Fact) -> Figure {
    Figure {
        label: f.label.clone(),
        value: f.value.normalize(),
        unit: unit_name(f.unit),
    }
}

/// The unit's name as figures write it.
#[must_use]
pub fn unit_name(u: Unit) -> String {
    match u {
        Unit::Money(c) => c.as_str().to_owned(),
        Unit::Percent => "percent".to_owned(),
        Unit::Ratio => "ratio".to_owned(),
        Unit::Count => "count".to_owned(),
    }
}

/// One `label | value | unit` line per fact.
pub(crate) fn fact_lines(facts: &[Fact]) -> String {
    let mut s = String::new();
    for f in facts {
        let _ = writeln!(
            s,
            "{} | {} | {}",
            f.label,
            f.value.normalize(),
            unit_name(f.unit)
        );
    }
    s
}

/// The facts as the prompt's table (`label | value | unit`).
#[must_use]
pub fn table(account: &AdAccount, intent: &Intent, g: &Gathered) -> String {
    let mut s = format!(
        "Ad account \"{}\" (currency {}, time zone {}). Question type: {}.\nlabel | value | unit\n",
        account.name,
        account.currency.as_str(),
        account.timezone,
        intent.name()
    );
    s.push_str(&fact_lines(&g.facts));
    for n in &g.notes {
        let _ = writeln!(s, "{n}");
    }
    s
}

pub(crate) fn money(v: Decimal) -> String {
    format_decimal(v, 2, DecimalSeparator::Point, true)
}

fn ratio(v: Decimal) -> String {
    format_decimal(v, 2, DecimalSeparator::Point, true)
}

fn count(v: i64) -> String {
    format_decimal(Decimal::from(v), 0, DecimalSeparator::Point, true)
}

pub(crate) fn show(v: Decimal, unit: Unit) -> String {
    match unit {
        Unit::Money(c) => format!("{} {}", money(v), c.as_str()),
        Unit::Percent => format!("{}%", ratio(v)),
        Unit::Ratio => ratio(v),
        Unit::Count => format_decimal(v, 0, DecimalSeparator::Point, true),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `Last 7 days (2026-11-24 to 2026-11-30)`; an explicit range as itself.
fn heading(p: &Period) -> String {
    let (from, to) = (p.range.from(), p.range.to());
    let span = if from == to {
        from.to_string()
    } else {
        format!("{from} to {to}")
    };
    if p.label == span {
        span
    } else {
        format!("{} ({span})", capitalized(&p.label))
    }
}

/// A metric's value and unit over some totals (`None` when undefined).
pub(crate) fn metric_value(
    m: ChatMetric,
    t: &KpiTotals,
    k: &Kpis,
    c: Currency,
) -> Option<(Decimal, Unit)> {
    match m {
        ChatMetric::Spend => Some((t.spend, Unit::Money(c))),
        ChatMetric::Conversions => Some((Decimal::from(t.conversions), Unit::Count)),
        ChatMetric::Cpa => k.cpa.map(|v| (v, Unit::Money(c))),
        ChatMetric::Ctr => k.ctr.map(|v| (v, Unit::Percent)),
        ChatMetric::Roas => k.roas.map(|v| (v, Unit::Ratio)),
    }
}

/// The KPI facts of some totals, labelled `<metric> <suffix>`.
pub(crate) fn kpi_facts(t: &KpiTotals, c: Currency, suffix: &str) -> Vec<Fact> {
    let k = Kpis::from_totals(t);
    let mut f = vec![
        Fact::new(format!("spend {suffix}"), t.spend, Unit::Money(c)),
        Fact::new(
            format!("results {suffix}"),
            t.conversions.into(),
            Unit::Count,
        ),
        Fact::new(
            format!("impressions {suffix}"),
            t.impressions.into(),
            Unit::Count,
        ),
        Fact::new(format!("clicks {suffix}"), t.clicks.into(), Unit::Count),
        Fact::new(format!("revenue {suffix}"), t.revenue, Unit::Money(c)),
    ];
    let mut opt = |name: &str, v: Option<Decimal>, u: Unit| {
        if let Some(v) = v {
            f.push(Fact::new(format!("{name} {suffix}"), v, u));
        }
    };
    opt("CPA", k.cpa, Unit::Money(c));
    opt("ROAS", k.roas, Unit::Ratio);
    opt("CTR", k.ctr, Unit::Percent);
    opt("CPC", k.cpc, Unit::Money(c));
    f
}

/// `spend 1,234.56 BRL, 42 results, CPA 29.39 BRL, ROAS 3.10, CTR 1.85%`.
fn kpi_sentence(t: &KpiTotals, c: Currency) -> String {
    let k = Kpis::from_totals(t);
    let mut parts = vec![
        format!("spend {} {}", money(t.spend), c.as_str()),
        format!("{} results", count(t.conversions)),
    ];
    if let Some(v) = k.cpa {
        parts.push(format!("CPA {} {}", money(v), c.as_str()));
    }
    if let Some(v) = k.roas {
        parts.push(format!("ROAS {}", ratio(v)));
    }
    if let Some(v) = k.ctr {
        parts.push(format!("CTR {}%", ratio(v)));
    }
    parts.join(", ")
}

/// `(cur − prev) / prev × 100`, one decimal; `None` when `prev` is 0.
pub(crate) fn change(cur: Decimal, prev: Decimal) -> Option<Decimal> {
    if prev.is_zero() {
        return None;
    }
    ((cur - prev) * Decimal::ONE_HUNDRED)
        .checked_div(prev)
        .map(|v| v.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero))
}

fn signed(v: Decimal) -> String {
    if v.is_sign_negative() {
        format!("{}%", ratio(v))
    } else {
        format!("+{}%", ratio(v))
    }
}

pub(crate) const COMPARED: [ChatMetric; 5] = [
    ChatMetric::Spend,
    ChatMetric::Conversions,
    ChatMetric::Cpa,
    ChatMetric::Roas,
    ChatMetric::Ctr,
];

impl Chat {
    /// Reads exactly what `intent` needs of the tenant's account.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn gather(
        &self,
        t: TenantId,
        account: &AdAccount,
        intent: &Intent,
    ) -> Result<Gathered, AppError> {
        let c = account.currency;
        match intent {
            Intent::Kpis { period } => {
                let gold = self.gold.daily(t, account.id, period.range).await?;
                let totals = gold.account_totals();
                Ok(Gathered {
                    facts: kpi_facts(&totals, c, &period.label),
                    built_in: format!("{}: {}.", heading(period), kpi_sentence(&totals, c)),
                    ..Gathered::default()
                })
            }
            Intent::Compare { current, previous } => {
                let (cur, prev) = self.two_periods(t, account, current, previous).await?;
                let mut facts = kpi_facts(&cur.0, c, &current.label);
                facts.extend(kpi_facts(&prev.0, c, &previous.label));
                let mut changes = Vec::new();
                for m in COMPARED {
                    let a = metric_value(m, &cur.0, &Kpis::from_totals(&cur.0), c);
                    let b = metric_value(m, &prev.0, &Kpis::from_totals(&prev.0), c);
                    if let (Some((a, _)), Some((b, _))) = (a, b)
                        && let Some(ch) = change(a, b)
                    {
                        facts.push(Fact::new(
                            format!("{} change vs previous period", m.label()),
                            ch,
                            Unit::Percent,
                        ));
                        changes.push(format!("{} {}", m.label(), signed(ch)));
                    }
                }
                let mut built_in = format!(
                    "{}: {}. {}: {}.",
                    heading(current),
                    kpi_sentence(&cur.0, c),
                    heading(previous),
                    kpi_sentence(&prev.0, c)
                );
                if !changes.is_empty() {
                    let _ = write!(built_in, " Change: {}.", changes.join(", "));
                }
                Ok(Gathered {
                    facts,
                    built_in,
                    ..Gathered::default()
                })
            }
            Intent::TopCampaigns {
                metric,
                bottom,
                period,
            } => self.top(t, account, *metric, *bottom, period).await,
            Intent::WhyChanged {
                metric,
                current,
                previous,
            } => self.why(t, account, *metric, current, previous).await,
            Intent::PendingSuggestions => self.pending(t).await,
            Intent::Anomalies => self.anomalies(t, account).await,
        }
    }

    /// Account totals and per-campaign totals `(name, totals)` of two periods.
    #[allow(clippy::type_complexity)]
    async fn two_periods(
        &self,
        t: TenantId,
        account: &AdAccount,
        current: &Period,
        previous: &Period,
    ) -> Result<
        (
            (KpiTotals, Vec<(String, KpiTotals)>),
            (KpiTotals, Vec<(String, KpiTotals)>),
        ),
        AppError,
    > {
        let read = |p: &Period| {
            let p = p.range;
            async move {
                let g = self.gold.daily(t, account.id, p).await?;
                let per = g
                    .campaigns
                    .iter()
                    .map(|cg| (cg.campaign.name.clone(), sum(&cg.days)))
                    .collect::<Vec<_>>();
                Ok::<_, AppError>((g.account_totals(), per))
            }
        };
        Ok((read(current).await?, read(previous).await?))
    }

    async fn top(
        &self,
        t: TenantId,
        account: &AdAccount,
        metric: ChatMetric,
        bottom: bool,
        period: &Period,
    ) -> Result<Gathered, AppError> {
        let c = account.currency;
        let gold = self.gold.daily(t, account.id, period.range).await?;
        let mut ranked: Vec<(String, KpiTotals, Decimal, Unit)> = gold
            .campaigns
            .iter()
            .filter_map(|cg| {
                let totals = sum(&cg.days);
                if totals.impressions == 0 && totals.spend.is_zero() {
                    return None;
                }
                let (v, u) = metric_value(metric, &totals, &Kpis::from_totals(&totals), c)?;
                Some((cg.campaign.name.clone(), totals, v, u))
            })
            .collect();
        // Best first: the highest value, or the lowest where lower is better.
        ranked.sort_by(|a, b| {
            let o = b.2.cmp(&a.2);
            if metric.lower_is_better() != bottom {
                o.reverse()
            } else {
                o
            }
        });
        ranked.truncate(TOP_N);
        let which = if bottom { "Worst" } else { "Top" };
        let mut g = Gathered::default();
        if ranked.is_empty() {
            g.built_in = format!(
                "{}: no campaign has a {} to rank.",
                heading(period),
                metric.label()
            );
            return Ok(g);
        }
        let mut lines = Vec::new();
        for (i, (name, totals, v, u)) in ranked.iter().enumerate() {
            g.facts.push(Fact::new(
                format!("{name} {} {}", metric.label(), period.label),
                *v,
                *u,
            ));
            let mut line = format!("{}. {name}: {} {}", i + 1, metric.label(), show(*v, *u));
            if metric != ChatMetric::Spend {
                g.facts.push(Fact::new(
                    format!("{name} spend {}", period.label),
                    totals.spend,
                    Unit::Money(c),
                ));
                let _ = write!(line, " (spend {} {})", money(totals.spend), c.as_str());
            }
            lines.push(line);
            g.names.push(name.clone());
        }
        g.built_in = format!(
            "{which} campaigns by {}, {}: {}.",
            metric.label(),
            heading(period),
            lines.join("; ")
        );
        Ok(g)
    }

    async fn why(
        &self,
        t: TenantId,
        account: &AdAccount,
        metric: ChatMetric,
        current: &Period,
        previous: &Period,
    ) -> Result<Gathered, AppError> {
        let c = account.currency;
        let ((cur, cur_c), (prev, prev_c)) =
            self.two_periods(t, account, current, previous).await?;
        let mut g = Gathered {
            facts: kpi_facts(&cur, c, &current.label),
            ..Gathered::default()
        };
        g.facts.extend(kpi_facts(&prev, c, &previous.label));
        let a = metric_value(metric, &cur, &Kpis::from_totals(&cur), c);
        let b = metric_value(metric, &prev, &Kpis::from_totals(&prev), c);
        let mut text = match (a, b) {
            (Some((a, u)), Some((b, _))) => {
                let mut s = format!(
                    "{} went from {} ({}) to {} ({})",
                    metric.label(),
                    show(b, u),
                    heading(previous),
                    show(a, u),
                    heading(current)
                );
                if let Some(ch) = change(a, b) {
                    g.facts.push(Fact::new(
                        format!("{} change vs previous period", metric.label()),
                        ch,
                        Unit::Percent,
                    ));
                    let _ = write!(s, ", {}", signed(ch));
                }
                s.push('.');
                s
            }
            _ => format!(
                "{} cannot be compared: it is undefined in {} or in {}.",
                metric.label(),
                heading(current),
                heading(previous)
            ),
        };
        // The campaigns whose spend moved most explain most of the change.
        let mut moved: Vec<(String, KpiTotals, KpiTotals)> = cur_c
            .into_iter()
            .map(|(name, ct)| {
                let pt = prev_c
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, t)| *t)
                    .unwrap_or_default();
                (name, ct, pt)
            })
            .filter(|(_, ct, pt)| !(ct.spend.is_zero() && pt.spend.is_zero()))
            .collect();
        moved.sort_by_key(|(_, ct, pt)| std::cmp::Reverse((ct.spend - pt.spend).abs()));
        moved.truncate(WHY_N);
        let mut lines = Vec::new();
        for (name, ct, pt) in &moved {
            let mut line = format!(
                "{name}: spend {} → {} {}",
                money(pt.spend),
                money(ct.spend),
                c.as_str()
            );
            g.facts.push(Fact::new(
                format!("{name} spend {}", current.label),
                ct.spend,
                Unit::Money(c),
            ));
            g.facts.push(Fact::new(
                format!("{name} spend {}", previous.label),
                pt.spend,
                Unit::Money(c),
            ));
            if metric != ChatMetric::Spend {
                let a = metric_value(metric, ct, &Kpis::from_totals(ct), c);
                let b = metric_value(metric, pt, &Kpis::from_totals(pt), c);
                if let Some((v, u)) = a {
                    g.facts.push(Fact::new(
                        format!("{name} {} {}", metric.label(), current.label),
                        v,
                        u,
                    ));
                }
                if let Some((v, u)) = b {
                    g.facts.push(Fact::new(
                        format!("{name} {} {}", metric.label(), previous.label),
                        v,
                        u,
                    ));
                }
                if let (Some((a, u)), Some((b, _))) = (a, b) {
                    let _ = write!(line, ", {} {} → {}", metric.label(), show(b, u), show(a, u));
                }
            }
            lines.push(line);
            g.names.push(name.clone());
        }
        if !lines.is_empty() {
            let _ = write!(
                text,
                " Campaigns whose spend moved most: {}.",
                lines.join("; ")
            );
        }
        g.built_in = text;
        Ok(g)
    }

    async fn pending(&self, t: TenantId) -> Result<Gathered, AppError> {
        let page = self
            .suggestions
            .list(
                t,
                Some(SuggestionStatus::Pending),
                PageRequest::first(SUGGESTIONS_N),
            )
            .await?;
        let n = i64::try_from(page.items.len()).unwrap_or(i64::MAX);
        let mut g = Gathered::default();
        g.facts
            .push(Fact::new("pending suggestions", n.into(), Unit::Count));
        if page.items.is_empty() {
            g.built_in = "There are no pending suggestions.".to_owned();
            return Ok(g);
        }
        let more = if page.next_cursor.is_some() {
            " (the newest shown; there are more)"
        } else {
            ""
        };
        let mut lines = Vec::new();
        for s in &page.items {
            let line = format!("{} ({}): {}", s.entity_name, s.action.kind_str(), s.reason);
            g.notes.push(format!("- suggestion: {line}"));
            g.names.push(s.entity_name.clone());
            g.names.push(s.reason.clone());
            lines.push(line);
        }
        g.built_in = format!(
            "{} pending suggestion{}{more}: {}",
            n,
            if n == 1 { "" } else { "s" },
            lines.join("; ")
        );
        Ok(g)
    }

    async fn anomalies(&self, t: TenantId, account: &AdAccount) -> Result<Gathered, AppError> {
        let c = account.currency;
        let found = self.anomalies.on_day(t, account.id, None).await?;
        let n = i64::try_from(found.anomalies.len()).unwrap_or(i64::MAX);
        let mut g = Gathered::default();
        g.facts.push(Fact::new(
            format!("anomalies on {}", found.date),
            n.into(),
            Unit::Count,
        ));
        if found.anomalies.is_empty() {
            g.built_in = format!("No anomalies on {}.", found.date);
            return Ok(g);
        }
        let dec = |v: f64| {
            Decimal::try_from(v)
                .map(|d| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
                .unwrap_or_default()
        };
        let mut lines = Vec::new();
        for a in &found.anomalies {
            let who = match &a.ad {
                Some(ad) => format!("{} / {}", a.campaign_name, ad.name),
                None => a.campaign_name.clone(),
            };
            let m = a.anomaly.metric;
            let unit = match m {
                Metric::Spend | Metric::Cpa => Unit::Money(c),
                Metric::Ctr => Unit::Percent,
                Metric::Conversions => Unit::Count,
            };
            let label = format!("{who} {} on {}", m.as_str(), found.date);
            let (v, lo, hi) = (
                dec(a.anomaly.value),
                dec(a.anomaly.expected_low),
                dec(a.anomaly.expected_high),
            );
            g.facts.push(Fact::new(label.clone(), v, unit));
            g.facts
                .push(Fact::new(format!("{label} expected low"), lo, unit));
            g.facts
                .push(Fact::new(format!("{label} expected high"), hi, unit));
            let dir = match a.anomaly.direction {
                Direction::Up => "above",
                Direction::Down => "below",
            };
            lines.push(format!(
                "{who}: {} {} ({dir} the expected {} to {})",
                m.as_str(),
                show(v, unit),
                show(lo, unit),
                show(hi, unit)
            ));
            g.names.push(a.campaign_name.clone());
            if let Some(ad) = &a.ad {
                g.names.push(ad.name.clone());
            }
        }
        g.built_in = format!(
            "{n} anomal{} on {}: {}.",
            if n == 1 { "y" } else { "ies" },
            found.date,
            lines.join("; ")
        );
        Ok(g)
    }
}
