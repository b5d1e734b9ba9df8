//! Reports: what a daily, weekly or executive report of one ad account says,
//! built from gold (`kpi_daily`) as a [`ReportDocument`] that any renderer
//! (CSV, XLSX, PDF) writes. Any member may build one.
//!
//! Owns choosing the period (defaults in the account's time zone) and the
//! content ([`content`]); never renders, stores or sends a file (the
//! renderer port and the report jobs do).
//!
//! - **daily** (`date`, default yesterday): the day's KPIs against the day
//!   before and the 7-day average before it; the top and bottom
//!   [`content::TOP_N`] campaigns by ROAS; spend and CPA over the last
//!   [`content::DAILY_CHART_DAYS`] days.
//! - **weekly** (`week` `YYYY-Www`, default the last whole ISO week): the
//!   week against the one before, per campaign with spend and CPA change and
//!   the spend trend over both weeks; spend and CPA per day over both.
//! - **executive** (`month` `YYYY-MM`, or `from`/`to`; default last month):
//!   totals against the period of the same length just before, budget use,
//!   every campaign with its budget use, spend and CPA per day.

pub mod content;
mod jobs;
mod schedules;

use domain::ads::{AdAccount, DateRange};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::kpi::KpiTotals;
use domain::report_jobs::parse_separator;
use domain::reports::{
    Cell, ColumnKind, DecimalSeparator, Figure, ReportDocument, ReportFormat, ReportKind,
};
use domain::{AdAccountId, TenantId};
use rust_decimal::Decimal;
use time::{Date, Duration, Month, Weekday};
use tracing::instrument;

use std::sync::Arc;

use domain::assistant::insight::{GeneratedInsightRepository, Insight};
use domain::rules::{Suggestion, SuggestionRepository, SuggestionStatus};

use crate::AppError;
use crate::analysis::gold::sum;
use crate::analysis::{GoldReader, bounded_range, optional_date};
use crate::error::require;
use crate::paging::every_page;
use content::{
    DAILY_CHART_DAYS, Period, applied_suggestions, budget_use, campaigns_week_over_week,
    campaigns_with_budget_use, comparison, days_ending, kpi_figures, spend_and_cpa_chart,
    top_and_bottom,
};
pub use jobs::{
    DownloadReport, GetReport, ListReports, ReportFile, ReportJobPorts, ReportJobSettings,
    RequestReport, RequestReportInput, RunReports, file_name,
};
pub use schedules::{CreateReportSchedule, ReportSchedules, ScheduleInput};

/// What a client asks for; every period field is optional and checked
/// against the kind (`week` only for weekly, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportInput {
    pub kind: String,
    pub ad_account_id: Option<AdAccountId>,
    /// Daily: `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Weekly: `YYYY-Www`.
    pub week: Option<String>,
    /// Executive: `YYYY-MM`.
    pub month: Option<String>,
    /// Executive: a custom range instead of a month.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A validated request: the kind, the account and the days reported on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRequest {
    pub kind: ReportKind,
    pub ad_account_id: AdAccountId,
    /// `None`: the kind's default period, resolved in the account's zone.
    pub period: Option<DateRange>,
}

impl ReportInput {
    /// # Errors
    /// Every bad or misplaced field at once, keyed by name.
    pub fn parse(self) -> Result<ReportRequest, ValidationError> {
        let mut errors = ValidationError::default();
        let kind = named::<ReportKind>("kind", &self.kind, &mut errors);
        if self.ad_account_id.is_none() {
            errors.add("ad_account_id", "is required");
        }
        let only = |field: &str, given: bool, allowed: bool, errors: &mut ValidationError| {
            if given && !allowed {
                errors.add(field, "does not apply to this kind of report");
            }
        };
        let k = kind.unwrap_or(ReportKind::Daily);
        let known = kind.is_some();
        only(
            "date",
            self.date.is_some(),
            !known || k == ReportKind::Daily,
            &mut errors,
        );
        only(
            "week",
            self.week.is_some(),
            !known || k == ReportKind::Weekly,
            &mut errors,
        );
        for (field, v) in [
            ("month", &self.month),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            only(
                field,
                v.is_some(),
                !known || k == ReportKind::Executive,
                &mut errors,
            );
        }
        let period = match k {
            ReportKind::Daily => {
                optional_date("date", self.date.as_deref(), &mut errors).map(DateRange::day)
            }
            ReportKind::Weekly => self
                .week
                .as_deref()
                .and_then(|w| iso_week(w).map_err(|why| errors.add("week", why)).ok()),
            ReportKind::Executive => executive_range(&self, &mut errors),
        };
        errors.into_result()?;
        match (kind, self.ad_account_id) {
            (Some(kind), Some(ad_account_id)) => Ok(ReportRequest {
                kind,
                ad_account_id,
                period,
            }),
            _ => Err(ValidationError::new("kind", "is required")),
        }
    }
}

/// `month`, or `from` and `to` (both), or neither.
fn executive_range(input: &ReportInput, errors: &mut ValidationError) -> Option<DateRange> {
    match (&input.month, &input.from, &input.to) {
        (Some(m), None, None) => month(m).map_err(|why| errors.add("month", why)).ok(),
        (None, None, None) => None,
        (None, from, to) => {
            let from = optional_date("from", from.as_deref(), errors);
            let to = optional_date("to", to.as_deref(), errors);
            match (from, to) {
                (Some(f), Some(t)) => bounded_range(f, t, errors),
                _ => {
                    if from.is_none() && input.from.is_none() {
                        errors.add("from", "is required with `to`");
                    }
                    if to.is_none() && input.to.is_none() {
                        errors.add("to", "is required with `from`");
                    }
                    None
                }
            }
        }
        (Some(_), _, _) => {
            errors.add("month", "give either `month` or `from` and `to`, not both");
            None
        }
    }
}

/// A wire name (`weekly`, `pdf`), or `field: must be one of …` recorded.
fn named<T>(field: &str, value: &str, errors: &mut ValidationError) -> Option<T>
where
    T: std::str::FromStr<Err = domain::rules::UnknownValue>,
{
    value
        .parse::<T>()
        .map_err(|e| errors.add(field, &format!("must be one of {}", e.expected)))
        .ok()
}

/// How a requested file is written: `format` (required) and
/// `decimal_separator` (`point` when absent), problems recorded by field.
fn file_options(
    format: &str,
    separator: Option<&str>,
    errors: &mut ValidationError,
) -> (Option<ReportFormat>, Option<DecimalSeparator>) {
    let format = named::<ReportFormat>("format", format, errors);
    let separator = match separator {
        None => Some(DecimalSeparator::Point),
        Some(s) => parse_separator(s).or_else(|| {
            errors.add("decimal_separator", "must be one of point, comma");
            None
        }),
    };
    (format, separator)
}

/// `2026-W47` → Monday to Sunday of that ISO week.
pub(crate) fn iso_week(s: &str) -> Result<DateRange, &'static str> {
    const BAD: &str = "must be an ISO week YYYY-Www, e.g. 2026-W47";
    let (year, week) = s.split_once("-W").ok_or(BAD)?;
    let (year, week) = (
        year.parse::<i32>().map_err(|_| BAD)?,
        week.parse::<u8>().map_err(|_| BAD)?,
    );
    let monday = Date::from_iso_week_date(year, week, Weekday::Monday).map_err(|_| BAD)?;
    DateRange::new(monday, monday + Duration::days(6)).map_err(|_| BAD)
}

/// `2026-11` → Nov 1–30, 2026.
fn month(s: &str) -> Result<DateRange, &'static str> {
    const BAD: &str = "must be a month YYYY-MM, e.g. 2026-11";
    let (year, m) = s.split_once('-').ok_or(BAD)?;
    let year = year.parse::<i32>().map_err(|_| BAD)?;
    let m = Month::try_from(m.parse::<u8>().map_err(|_| BAD)?).map_err(|_| BAD)?;
    let first = Date::from_calendar_date(year, m, 1).map_err(|_| BAD)?;
    let last =
        Date::from_calendar_date(year, m, time::util::days_in_month(m, year)).map_err(|_| BAD)?;
    DateRange::new(first, last).map_err(|_| BAD)
}

/// Builds one report's document from gold (and, for the executive report,
/// the suggestions applied in its period).
pub struct BuildReport {
    gold: GoldReader,
    suggestions: Option<Arc<dyn SuggestionRepository>>,
    insights: Option<Arc<dyn GeneratedInsightRepository>>,
}

impl BuildReport {
    #[must_use]
    pub fn new(gold: GoldReader) -> Self {
        Self {
            gold,
            suggestions: None,
            insights: None,
        }
    }

    /// The executive report lists the generated weekly insights of its
    /// period; without this, it has no such table.
    #[must_use]
    pub fn with_insights(mut self, insights: Arc<dyn GeneratedInsightRepository>) -> Self {
        self.insights = Some(insights);
        self
    }

    /// The account's generated insights whose week lies in `period`, by week.
    async fn period_insights(
        &self,
        t: TenantId,
        account: AdAccountId,
        period: DateRange,
    ) -> Result<Vec<Insight>, AppError> {
        let Some(repo) = &self.insights else {
            return Ok(Vec::new());
        };
        let mut found: Vec<Insight> = every_page(100, |p| repo.list(t, p))
            .await?
            .into_iter()
            .filter(|i| {
                i.ad_account_id == account
                    && period.contains(i.week.from())
                    && period.contains(i.week.to())
            })
            .collect();
        found.sort_by_key(|i| i.week.from());
        Ok(found)
    }

    /// The executive report lists the suggestions applied in its period and
    /// their effect; without this, it has no such table.
    #[must_use]
    pub fn with_suggestions(mut self, suggestions: Arc<dyn SuggestionRepository>) -> Self {
        self.suggestions = Some(suggestions);
        self
    }

    /// The tenant's applied suggestions (all of them: the caller keeps the
    /// period's).
    async fn applied(&self, t: TenantId) -> Result<Vec<Suggestion>, AppError> {
        let Some(repo) = &self.suggestions else {
            return Ok(Vec::new());
        };
        every_page(100, |p| repo.list(t, Some(SuggestionStatus::Applied), p)).await
    }

    /// # Errors
    /// 404 for an ad account missing or another tenant's; 422 for a period
    /// in the future; storage failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id, kind = %req.kind))]
    pub async fn execute(
        &self,
        actor: &Actor,
        req: ReportRequest,
    ) -> Result<ReportDocument, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.build(actor.tenant_id, req).await?.document)
    }

    /// The document of `req` for tenant `t`, with the days it covers; for
    /// callers that already checked who asks (the report job).
    ///
    /// # Errors
    /// As [`Self::execute`].
    pub async fn build(&self, t: TenantId, req: ReportRequest) -> Result<BuiltReport, AppError> {
        let account = self.gold.account(t, req.ad_account_id).await?;
        let yesterday = self.gold.yesterday(&account);
        let period = req
            .period
            .unwrap_or_else(|| default_period(req.kind, yesterday));
        if period.to() > yesterday {
            return Err(ValidationError::new(
                "period",
                "must end by yesterday in the ad account's time zone (today is not complete)",
            )
            .into());
        }
        // What each kind compares against, read in one range.
        let (earliest, before) = match req.kind {
            ReportKind::Daily => {
                let d = period.to();
                (
                    d - Duration::days(DAILY_CHART_DAYS.max(8) - 1),
                    days_ending(d - Duration::DAY, 7),
                )
            }
            ReportKind::Weekly | ReportKind::Executive => {
                let before = days_ending(period.from() - Duration::DAY, period.days());
                (before.from(), before)
            }
        };
        let range = DateRange::new(earliest, period.to())?;
        let gold = self.gold.daily(t, account.id, range).await?;
        let days = &gold.account_days;
        let mut doc = ReportDocument {
            title: String::new(),
            subtitle: String::new(),
            currency: account.currency.as_str().to_owned(),
            generated_at: self.gold.now(),
            summary: Vec::new(),
            tables: Vec::new(),
            charts: Vec::new(),
        };
        match req.kind {
            ReportKind::Daily => {
                let d = period.to();
                doc.title = format!("Daily report, {}", iso(d));
                doc.subtitle = subtitle(&account, period);
                doc.summary = kpi_figures(&Period::sum(String::new(), days, period).totals);
                let day_before = DateRange::day(d - Duration::DAY);
                doc.tables = comparison(
                    "The day against the day before and the 7-day average",
                    &[
                        Period::sum(iso(d), days, period),
                        Period::sum(
                            format!("the day before ({})", iso(day_before.to())),
                            days,
                            day_before,
                        ),
                        Period::daily_average(
                            format!(
                                "the 7-day average ({} to {})",
                                iso(before.from()),
                                iso(before.to())
                            ),
                            days,
                            before,
                        ),
                    ],
                );
                doc.tables.extend(top_and_bottom(&gold.campaigns, period));
                doc.charts = vec![spend_and_cpa_chart(days, days_ending(d, DAILY_CHART_DAYS))];
            }
            ReportKind::Weekly => {
                let (this, previous) = (week_label(period.from()), week_label(before.from()));
                doc.title = format!("Weekly report, {this}");
                doc.subtitle = subtitle(&account, period);
                doc.summary = kpi_figures(&Period::sum(String::new(), days, period).totals);
                doc.tables = comparison(
                    "The week against the week before",
                    &[
                        Period::sum(this, days, period),
                        Period::sum(format!("the week before ({previous})"), days, before),
                    ],
                );
                doc.tables
                    .push(campaigns_week_over_week(&gold.campaigns, period, before));
                doc.charts = vec![spend_and_cpa_chart(days, range)];
            }
            ReportKind::Executive => {
                doc.title = "Executive report".to_owned();
                doc.subtitle = subtitle(&account, period);
                let totals = Period::sum(String::new(), days, period).totals;
                doc.summary = kpi_figures(&totals);
                doc.summary.push(revenue(&totals));
                let budget: Decimal = gold
                    .campaigns
                    .iter()
                    .filter(|c| c.campaign.status == domain::ads::EntityStatus::Active)
                    .filter_map(|c| c.campaign.daily_budget)
                    .sum();
                let spent_by_budgeted: KpiTotals = sum(&gold
                    .campaigns
                    .iter()
                    .filter(|c| c.campaign.status == domain::ads::EntityStatus::Active)
                    .filter(|c| c.campaign.daily_budget.is_some())
                    .flat_map(|c| c.days.iter().filter(|(d, _)| period.contains(*d)).copied())
                    .collect::<Vec<_>>());
                doc.summary.push(Figure::new(
                    "Budget use",
                    ColumnKind::Percent,
                    Cell::number(budget_use(
                        spent_by_budgeted.spend,
                        (!budget.is_zero()).then_some(budget),
                        period,
                    )),
                ));
                doc.tables = comparison(
                    "The period against the one before",
                    &[
                        Period::sum(
                            format!("{} to {}", iso(period.from()), iso(period.to())),
                            days,
                            period,
                        ),
                        Period::sum(
                            format!(
                                "the period before ({} to {})",
                                iso(before.from()),
                                iso(before.to())
                            ),
                            days,
                            before,
                        ),
                    ],
                );
                doc.tables
                    .push(campaigns_with_budget_use(&gold.campaigns, period));
                if self.suggestions.is_some() {
                    // The effect is read up to yesterday, past the period's end.
                    let effect = DateRange::new(
                        period.from() - Duration::days(content::EFFECT_DAYS),
                        yesterday,
                    )?;
                    let around = self.gold.daily(t, account.id, effect).await?;
                    doc.tables.push(applied_suggestions(
                        &self.applied(t).await?,
                        &around.campaigns,
                        period,
                        yesterday,
                    ));
                }
                if self.insights.is_some() {
                    doc.tables.push(content::generated_insights(
                        &self.period_insights(t, account.id, period).await?,
                    ));
                }
                doc.charts = vec![spend_and_cpa_chart(days, period)];
            }
        }
        doc.validate()
            .map_err(|e| AppError::Internal(format!("report content: {e}")))?;
        Ok(BuiltReport {
            document: doc,
            period,
            account_name: account.name,
        })
    }
}

/// A built document with what naming and storing it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltReport {
    pub document: ReportDocument,
    /// The days reported on (the default resolved).
    pub period: DateRange,
    pub account_name: String,
}

/// The kind's period when none is asked for: yesterday; the last whole ISO
/// week ending by yesterday; the last whole month ending by yesterday.
#[must_use]
pub fn default_period(kind: ReportKind, yesterday: Date) -> DateRange {
    match kind {
        ReportKind::Daily => DateRange::day(yesterday),
        ReportKind::Weekly => {
            let back = i64::from((yesterday.weekday().number_days_from_monday() + 1) % 7);
            let sunday = yesterday - Duration::days(back);
            days_ending(sunday, 7)
        }
        ReportKind::Executive => {
            let next = yesterday.next_day().unwrap_or(yesterday);
            let last = if next.day() == 1 {
                yesterday
            } else {
                yesterday.replace_day(1).unwrap_or(yesterday) - Duration::DAY
            };
            let first = last.replace_day(1).unwrap_or(last);
            DateRange::new(first, last).unwrap_or_else(|_| DateRange::day(last))
        }
    }
}

fn revenue(t: &KpiTotals) -> Figure {
    Figure::new(
        "Revenue",
        ColumnKind::Money,
        Cell::Number(t.revenue.round_dp(domain::kpi::MONEY_DP)),
    )
}

fn subtitle(account: &AdAccount, period: DateRange) -> String {
    if period.days() == 1 {
        format!("{} · {}", account.name, iso(period.from()))
    } else {
        format!(
            "{} · {} to {}",
            account.name,
            iso(period.from()),
            iso(period.to())
        )
    }
}

fn iso(d: Date) -> String {
    domain::reports::iso_date(d)
}

/// `2026-W47` for the ISO week holding `d`.
fn week_label(d: Date) -> String {
    let (year, week, _) = d.to_iso_week_date();
    format!("{year}-W{week:02}")
}

#[cfg(test)]
mod tests;
