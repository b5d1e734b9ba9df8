//! Reports: what a daily, weekly or executive report of one ad account, or
//! of the organization's ad accounts summed, says, built from gold
//! (`kpi_daily`) as a [`ReportDocument`] that any renderer (CSV, XLSX, PDF)
//! writes. Any member may build one.
//!
//! Owns choosing the period (defaults in the accounts' time zones), which
//! accounts a scope covers, and the content ([`content`]); never renders,
//! stores or sends a file (the renderer port and the report jobs do).
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
//!
//! **Organization scope** (no `ad_account_id`): the same report over the
//! organization's ad accounts, summed day by day, with a table of the
//! accounts side by side and campaigns named `account · campaign`. Only
//! accounts of one currency are added up: `currency` picks them when the
//! organization's accounts use several (422 otherwise). A day counts once it
//! is over in every account's time zone.

pub mod content;
mod jobs;
mod schedules;

use domain::ads::Currency;
use domain::ads::{AdAccount, DateRange};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::kpi::KpiTotals;
use domain::report_jobs::{ReportScope, parse_separator};
use domain::reports::{
    Cell, ColumnKind, DecimalSeparator, Figure, ReportDocument, ReportFormat, ReportKind,
};
use domain::{AdAccountId, TenantId};
use rust_decimal::Decimal;
use time::{Date, Duration, Month, Weekday};
use tracing::instrument;

use std::sync::Arc;

use domain::assistant::insight::{GeneratedInsightRepository, Insight};
use domain::rules::{RuleLevel, Suggestion, SuggestionRepository, SuggestionStatus};
use std::collections::HashSet;

use crate::analysis::gold::{AccountGold, CampaignGold, sum};
use crate::analysis::{GoldReader, bounded_range, optional_date};
use crate::error::require;
use crate::paging::every_page;
use crate::{AppError, Resource};
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
    /// The ad account; without it, the organization's accounts.
    pub ad_account_id: Option<AdAccountId>,
    /// Organization reports only: the currency whose accounts are summed
    /// (needed when the organization's accounts use several).
    pub currency: Option<String>,
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

/// A validated request: the kind, what it covers and the days reported on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRequest {
    pub kind: ReportKind,
    pub scope: ReportScope,
    /// `None`: the kind's default period, resolved in the accounts' zones.
    pub period: Option<DateRange>,
}

impl ReportInput {
    /// # Errors
    /// Every bad or misplaced field at once, keyed by name.
    pub fn parse(self) -> Result<ReportRequest, ValidationError> {
        let mut errors = ValidationError::default();
        let kind = named::<ReportKind>("kind", &self.kind, &mut errors);
        let scope = scope(self.ad_account_id, self.currency.as_deref(), &mut errors);
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
        match (kind, scope) {
            (Some(kind), Some(scope)) => Ok(ReportRequest {
                kind,
                scope,
                period,
            }),
            _ => Err(ValidationError::new("kind", "is required")),
        }
    }
}

/// The scope of `ad_account_id` and `currency` (which only an organization
/// report takes), problems recorded by field.
pub(crate) fn scope(
    ad_account_id: Option<AdAccountId>,
    currency: Option<&str>,
    errors: &mut ValidationError,
) -> Option<ReportScope> {
    match (ad_account_id, currency) {
        (Some(id), None) => Some(ReportScope::AdAccount(id)),
        (Some(_), Some(_)) => {
            errors.add(
                "currency",
                "applies to organization reports only (leave out ad_account_id)",
            );
            None
        }
        (None, None) => Some(ReportScope::Organization { currency: None }),
        (None, Some(c)) => match Currency::parse(c) {
            Ok(c) => Some(ReportScope::Organization { currency: Some(c) }),
            Err(e) => {
                errors.merge(e);
                None
            }
        },
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

    /// The covered accounts' generated insights whose week lies in
    /// `period`, by week.
    async fn period_insights(
        &self,
        t: TenantId,
        covered: &Covered,
        period: DateRange,
    ) -> Result<Vec<Insight>, AppError> {
        let Some(repo) = &self.insights else {
            return Ok(Vec::new());
        };
        let mut found: Vec<Insight> = every_page(100, |p| repo.list(t, p))
            .await?
            .into_iter()
            .filter(|i| {
                covered.accounts.iter().any(|a| a.id == i.ad_account_id)
                    && period.contains(i.week.from())
                    && period.contains(i.week.to())
            })
            .collect();
        found.sort_by_key(|i| i.week.from());
        if covered.accounts.len() > 1 {
            for i in &mut found {
                if let Some(a) = covered.accounts.iter().find(|a| a.id == i.ad_account_id) {
                    i.headline = format!("{} · {}", a.name, i.headline);
                }
            }
        }
        Ok(found)
    }

    /// The executive report lists the suggestions applied in its period and
    /// their effect; without this, it has no such table.
    #[must_use]
    pub fn with_suggestions(mut self, suggestions: Arc<dyn SuggestionRepository>) -> Self {
        self.suggestions = Some(suggestions);
        self
    }

    /// The applied suggestions on the covered accounts' `campaigns`, ad sets
    /// and ads (all of them: the caller keeps the period's); another
    /// account's never show.
    async fn applied(
        &self,
        t: TenantId,
        covered: &Covered,
        campaigns: &[CampaignGold],
    ) -> Result<Vec<Suggestion>, AppError> {
        let Some(repo) = &self.suggestions else {
            return Ok(Vec::new());
        };
        let all = every_page(100, |p| repo.list(t, Some(SuggestionStatus::Applied), p)).await?;
        let mut ours: HashSet<uuid::Uuid> = campaigns
            .iter()
            .map(|c| c.campaign.id.into_uuid())
            .collect();
        if all.iter().any(|s| s.level != RuleLevel::Campaign) {
            for a in &covered.accounts {
                ours.extend(self.gold.ad_and_ad_set_ids(t, a.id).await?);
            }
        }
        Ok(all
            .into_iter()
            .filter(|s| ours.contains(&s.entity_id))
            .collect())
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

    /// The accounts `scope` covers for tenant `t`, checked: the one ad
    /// account, or the organization's accounts of one currency.
    ///
    /// # Errors
    /// 404 for an ad account missing or another tenant's; 422
    /// `NO_AD_ACCOUNT` for an organization without accounts, and on
    /// `currency` when none reports in the one asked for or the accounts
    /// use several and none was asked for; storage failures.
    pub async fn covered(&self, t: TenantId, scope: ReportScope) -> Result<Covered, AppError> {
        let accounts = match scope {
            ReportScope::AdAccount(id) => vec![self.gold.account(t, id).await?],
            ReportScope::Organization { currency } => {
                let all = self.gold.all_accounts(t).await?;
                if all.is_empty() {
                    return Err(AppError::Unprocessable {
                        code: "NO_AD_ACCOUNT",
                        message: "add an ad account (or import a CSV) before asking for an \
                                  organization report"
                            .to_owned(),
                        details: serde_json::json!({}),
                    });
                }
                let mut currencies: Vec<&str> = all.iter().map(|a| a.currency.as_str()).collect();
                currencies.sort_unstable();
                currencies.dedup();
                match currency {
                    Some(c) if !currencies.contains(&c.as_str()) => {
                        return Err(ValidationError::new(
                            "currency",
                            &format!(
                                "no ad account of the organization reports in {}; they report in {}",
                                c.as_str(),
                                currencies.join(", ")
                            ),
                        )
                        .into());
                    }
                    None if currencies.len() > 1 => {
                        return Err(ValidationError::new(
                            "currency",
                            &format!(
                                "the organization's ad accounts report in {}; amounts in \
                                 different currencies are not added up: give one of them",
                                currencies.join(", ")
                            ),
                        )
                        .into());
                    }
                    _ => {}
                }
                let accounts: Vec<AdAccount> = all
                    .iter()
                    .filter(|a| currency.is_none_or(|c| a.currency == c))
                    .cloned()
                    .collect();
                accounts
            }
        };
        // Non-empty by construction; the first's currency is everyone's.
        let currency = accounts
            .first()
            .map(|a| a.currency)
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        let yesterday = accounts
            .iter()
            .map(|a| self.gold.yesterday(a))
            .min()
            .unwrap_or_else(|| self.gold.now().date());
        let name = match scope {
            ReportScope::AdAccount(_) => {
                accounts.first().map(|a| a.name.clone()).unwrap_or_default()
            }
            ReportScope::Organization { .. } => format!("All ad accounts ({})", currency.as_str()),
        };
        Ok(Covered {
            scope,
            accounts,
            currency,
            yesterday,
            name,
        })
    }

    /// The document of `req` for tenant `t`, with the days it covers; for
    /// callers that already checked who asks (the report job).
    ///
    /// # Errors
    /// As [`Self::execute`].
    pub async fn build(&self, t: TenantId, req: ReportRequest) -> Result<BuiltReport, AppError> {
        let covered = self.covered(t, req.scope).await?;
        let yesterday = covered.yesterday;
        let period = req
            .period
            .unwrap_or_else(|| default_period(req.kind, yesterday));
        covered.check_period(period)?;
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
        let per_account = self.gold_of(t, &covered, range).await?;
        let gold = merged(&per_account);
        let days = &gold.account_days;
        let mut doc = ReportDocument {
            title: String::new(),
            subtitle: subtitle(&covered.name, period),
            currency: covered.currency.as_str().to_owned(),
            generated_at: self.gold.now(),
            summary: Vec::new(),
            tables: Vec::new(),
            charts: Vec::new(),
        };
        let accounts_side_by_side = |range: DateRange| {
            matches!(covered.scope, ReportScope::Organization { .. })
                .then(|| content::accounts(&per_account, range))
        };
        match req.kind {
            ReportKind::Daily => {
                let d = period.to();
                doc.title = format!("Daily report, {}", iso(d));
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
                doc.tables.extend(accounts_side_by_side(period));
                doc.tables.extend(top_and_bottom(&gold.campaigns, period));
                doc.charts = vec![spend_and_cpa_chart(days, days_ending(d, DAILY_CHART_DAYS))];
            }
            ReportKind::Weekly => {
                let (this, previous) = (week_label(period.from()), week_label(before.from()));
                doc.title = format!("Weekly report, {this}");
                doc.summary = kpi_figures(&Period::sum(String::new(), days, period).totals);
                doc.tables = comparison(
                    "The week against the week before",
                    &[
                        Period::sum(this, days, period),
                        Period::sum(format!("the week before ({previous})"), days, before),
                    ],
                );
                doc.tables.extend(accounts_side_by_side(period));
                doc.tables
                    .push(campaigns_week_over_week(&gold.campaigns, period, before));
                doc.charts = vec![spend_and_cpa_chart(days, range)];
            }
            ReportKind::Executive => {
                doc.title = "Executive report".to_owned();
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
                doc.tables.extend(accounts_side_by_side(period));
                doc.tables
                    .push(campaigns_with_budget_use(&gold.campaigns, period));
                if self.suggestions.is_some() {
                    // The effect is read up to yesterday, past the period's end.
                    let effect = DateRange::new(
                        period.from() - Duration::days(content::EFFECT_DAYS),
                        yesterday,
                    )?;
                    let around = merged(&self.gold_of(t, &covered, effect).await?);
                    doc.tables.push(applied_suggestions(
                        &self.applied(t, &covered, &around.campaigns).await?,
                        &around.campaigns,
                        period,
                        yesterday,
                    ));
                }
                if self.insights.is_some() {
                    doc.tables.push(content::generated_insights(
                        &self.period_insights(t, &covered, period).await?,
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
            name: covered.name,
        })
    }

    /// Each covered account's gold over `range`, by account name; with more
    /// than one account, campaigns are named `account · campaign`.
    async fn gold_of(
        &self,
        t: TenantId,
        covered: &Covered,
        range: DateRange,
    ) -> Result<Vec<(String, AccountGold)>, AppError> {
        let several = covered.accounts.len() > 1;
        let mut out = Vec::with_capacity(covered.accounts.len());
        for account in &covered.accounts {
            let mut gold = self.gold.daily(t, account.id, range).await?;
            if several {
                for c in &mut gold.campaigns {
                    c.campaign.name = format!("{} · {}", account.name, c.campaign.name);
                }
            }
            out.push((account.name.clone(), gold));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// The accounts' gold as one: their daily rows added up day by day, their
/// campaigns side by side.
fn merged(parts: &[(String, AccountGold)]) -> AccountGold {
    let [(_, only)] = parts else {
        let mut days: std::collections::BTreeMap<Date, KpiTotals> =
            std::collections::BTreeMap::new();
        let mut campaigns = Vec::new();
        for (_, g) in parts {
            for (d, t) in &g.account_days {
                let day = days.entry(*d).or_default();
                *day = day.plus(t);
            }
            campaigns.extend(g.campaigns.iter().cloned());
        }
        return AccountGold {
            account_days: days.into_iter().collect(),
            campaigns,
        };
    };
    only.clone()
}

/// What a report's scope resolved to: its accounts (one currency), the last
/// day over in all their zones, and the name the report goes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    pub scope: ReportScope,
    pub accounts: Vec<AdAccount>,
    pub currency: Currency,
    /// The last day over in every covered account's time zone.
    pub yesterday: Date,
    /// The account's name, or `All ad accounts (BRL)`.
    pub name: String,
}

impl Covered {
    /// # Errors
    /// 422 on `period` when it ends after [`Self::yesterday`].
    pub fn check_period(&self, period: DateRange) -> Result<(), AppError> {
        if period.to() <= self.yesterday {
            return Ok(());
        }
        let zones = match self.scope {
            ReportScope::AdAccount(_) => "the ad account's time zone",
            ReportScope::Organization { .. } => "every ad account's time zone",
        };
        Err(ValidationError::new(
            "period",
            &format!("must end by yesterday in {zones} (today is not complete)"),
        )
        .into())
    }
}

/// A built document with what naming and storing it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltReport {
    pub document: ReportDocument,
    /// The days reported on (the default resolved).
    pub period: DateRange,
    /// What it covers, for file names and alerts ([`Covered::name`]).
    pub name: String,
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

fn subtitle(name: &str, period: DateRange) -> String {
    if period.days() == 1 {
        format!("{name} · {}", iso(period.from()))
    } else {
        format!("{name} · {} to {}", iso(period.from()), iso(period.to()))
    }
}

fn iso(d: Date) -> String {
    domain::reports::iso_date(d)
}

fn week_label(d: Date) -> String {
    domain::reports::iso_week_label(d)
}

#[cfg(test)]
mod tests;
