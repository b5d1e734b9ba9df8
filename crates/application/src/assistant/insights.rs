//! Generated insights: per ad account and ISO week, a stored document
//! (headline, 3–5 findings with their figures, 1–5 actions) built from the
//! week's gold against the week before.
//!
//! - **Facts.** Account totals of both weeks (spend, results, impressions,
//!   clicks, revenue, CPA, ROAS, CTR, CPC), the week-over-week change of
//!   spend, results, CPA, ROAS and CTR, and the top 3 campaigns by spend
//!   with their CPA and ROAS. Nothing else reaches the model.
//! - **With a model.** It is asked for the insight schema; the draft must
//!   pass the document rules and [`verify_with_names`] (every finding's
//!   figures against the facts, every number of headline, details and
//!   actions a figure; campaign names exempt). One retry with the problems.
//! - **Fallback.** Without a model, when it is unavailable, or when its
//!   draft fails twice, the deterministic built-in document is stored (mode
//!   `built_in`, verified: its figures are the facts) and the refusal is
//!   logged. A model's unverified prose is never stored.
//! - **Permission.** Generating needs `Comment` (analysts and up): it
//!   replaces a document the whole organization reads and spends model
//!   tokens. Reading needs `Read`.
//!
//! Generation on demand is a job (`super::insight_jobs`: checked and
//! queued at request time, written by the worker, one model call per
//! account); every Monday morning the weekly round (`super::weekly`) writes
//! the week just ended in the background.

use std::fmt::Write as _;
use std::sync::Arc;

use domain::ads::{AdAccount, DateRange};
use domain::assistant::chat::{AnswerMode, ChatMetric};
use domain::assistant::figures::{Fact, Figure, Unit, verify_with_names};
use domain::assistant::insight::{
    Finding, GeneratedInsightRepository, Insight, InsightDraft, MAX_FINDINGS, MIN_FINDINGS,
    insight_json_schema,
};
use domain::assistant::llm::{ChatMessage, LlmClient, TokenUsage};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::kpi::{KpiTotals, Kpis};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use domain::reports::{DecimalSeparator, ReportKind, format_decimal};
use domain::{AdAccountId, InsightId, TenantId};
use rust_decimal::Decimal;
use time::Duration;
use tracing::{instrument, warn};

use super::ask_verified;
use super::data::{COMPARED, change, fact_lines, figure_of, kpi_facts, metric_value, money, show};
use crate::analysis::GoldReader;
use crate::analysis::gold::sum;
use crate::error::require;
use crate::reports::{default_period, iso_week};
use crate::{AppError, Resource};

/// Campaigns (by spend) a document looks at.
const TOP_CAMPAIGNS: usize = 3;
/// Upper bound of an insight's tokens.
const INSIGHT_MAX_TOKENS: u32 = 1_500;
/// The labels' suffixes of the two weeks.
const THIS_WEEK: &str = "this week";
const PREVIOUS_WEEK: &str = "previous week";

/// The rules the insight prompt starts with.
pub const INSIGHT_PROMPT: &str = "You are AdScale's analyst. Write a weekly insight about one ad \
account from the data table in the last message only: a one-sentence headline, 3 to 5 findings \
(each a title, a detail and the figures it uses) and 1 to 5 recommended actions. Never invent, \
estimate or recompute numbers: copy them from the table (rounding is fine) and keep their units. \
Every number written in the headline, a finding or an action must be listed in that finding's \
figures (or another finding's), with the table's label and unit (a currency code such as BRL, \
percent, ratio or count). Reply with one JSON object in the required schema, in English.";

/// One week's facts of an account, and what the built-in writer needs.
pub(super) struct WeekData {
    facts: Vec<Fact>,
    /// The top campaigns' names (numbers in them are not figures).
    names: Vec<String>,
    cur: KpiTotals,
    prev: KpiTotals,
    /// `(name, totals this week)`, by spend, at most [`TOP_CAMPAIGNS`].
    top: Vec<(String, KpiTotals)>,
}

impl WeekData {
    /// Whether the account spent anything in the week (a week without
    /// spend gets no document from the weekly round).
    pub(super) fn spent(&self) -> bool {
        self.cur.spend > Decimal::ZERO
    }

    fn fact(&self, label: &str) -> Option<&Fact> {
        self.facts.iter().find(|f| f.label == label)
    }

    fn figures(&self, labels: &[String]) -> Vec<Figure> {
        labels
            .iter()
            .filter_map(|l| self.fact(l))
            .map(figure_of)
            .collect()
    }
}

/// The label of a metric's week-over-week change.
fn change_label(m: ChatMetric) -> String {
    format!("{} change week over week", m.label())
}

/// The deterministic document: the metrics with the largest changes first,
/// the top campaigns, and an action per top campaign.
fn built_in(account: &AdAccount, week: DateRange, d: &WeekData) -> InsightDraft {
    let c = account.currency;
    let (kc, kp) = (Kpis::from_totals(&d.cur), Kpis::from_totals(&d.prev));
    let spend_change = change(d.cur.spend, d.prev.spend);
    let mut headline = match spend_change {
        Some(ch) if ch.is_sign_negative() => {
            format!("Spend down {}% week over week", pct(ch.abs()))
        }
        Some(ch) => format!("Spend up {}% week over week", pct(ch)),
        None => format!("Spend of {} {} this week", money(d.cur.spend), c.as_str()),
    };
    if let Some(cpa) = kc.cpa {
        let _ = write!(headline, " at a CPA of {} {}", money(cpa), c.as_str());
    }

    let mut metric_findings: Vec<(Option<Decimal>, Finding)> = Vec::new();
    for m in COMPARED {
        let Some((a, u)) = metric_value(m, &d.cur, &kc, c) else {
            continue;
        };
        let b = metric_value(m, &d.prev, &kp, c).map(|(b, _)| b);
        let ch = b.and_then(|b| change(a, b));
        let name = m.label();
        let mut labels = vec![format!("{name} {THIS_WEEK}")];
        let (title, detail) = match (b, ch) {
            (Some(b), Some(ch)) => {
                labels.push(format!("{name} {PREVIOUS_WEEK}"));
                labels.push(change_label(m));
                (
                    format!("{} {} week over week", capitalized(name), signed_pct(ch)),
                    format!(
                        "{} was {} this week against {} the week before.",
                        capitalized(name),
                        show(a, u),
                        show(b, u)
                    ),
                )
            }
            _ => (
                format!("{} this week", capitalized(name)),
                format!(
                    "{} was {} this week, with nothing to compare against the week before.",
                    capitalized(name),
                    show(a, u)
                ),
            ),
        };
        metric_findings.push((
            ch,
            Finding {
                title,
                detail,
                figures: d.figures(&labels),
            },
        ));
    }
    // The largest changes first; metrics without a change last.
    metric_findings.sort_by_key(|(ch, _)| std::cmp::Reverse(ch.map(|v| v.abs())));
    let campaigns = top_finding(c, d);
    let room = MAX_FINDINGS - usize::from(campaigns.is_some());
    let mut findings: Vec<Finding> = metric_findings
        .into_iter()
        .take(room)
        .map(|(_, f)| f)
        .collect();
    findings.extend(campaigns);
    if findings.len() < MIN_FINDINGS {
        findings.push(Finding {
            title: "No campaign delivered".to_owned(),
            detail: format!("No campaign spent from {} to {}.", week.from(), week.to()),
            figures: Vec::new(),
        });
    }

    let mut actions: Vec<String> = d
        .top
        .iter()
        .map(|(name, t)| {
            if Kpis::from_totals(t).cpa.is_some() {
                format!("Review CPA of {name}")
            } else {
                format!("Review spend without results of {name}")
            }
        })
        .collect();
    if actions.is_empty() {
        actions.push("Check that the account's campaigns are delivering".to_owned());
    }
    InsightDraft {
        headline,
        findings,
        actions,
    }
}

/// The top campaigns by spend with their CPA and ROAS, when any spent.
fn top_finding(c: domain::ads::Currency, d: &WeekData) -> Option<Finding> {
    if d.top.is_empty() {
        return None;
    }
    let mut labels = Vec::new();
    let mut parts = Vec::new();
    for (name, t) in &d.top {
        let k = Kpis::from_totals(t);
        labels.push(format!("{name} spend {THIS_WEEK}"));
        let mut part = format!("{name}: spend {} {}", money(t.spend), c.as_str());
        if let Some(cpa) = k.cpa {
            labels.push(format!("{name} CPA {THIS_WEEK}"));
            let _ = write!(part, ", CPA {} {}", money(cpa), c.as_str());
        }
        if let Some(roas) = k.roas {
            labels.push(format!("{name} ROAS {THIS_WEEK}"));
            let _ = write!(part, ", ROAS {}", show(roas, Unit::Ratio));
        }
        parts.push(part);
    }
    Some(Finding {
        title: "Top campaigns by spend".to_owned(),
        detail: format!("{}.", parts.join("; ")),
        figures: d.figures(&labels),
    })
}

/// A change as stored (one decimal): `12.5`.
fn pct(v: Decimal) -> String {
    format_decimal(v, 1, DecimalSeparator::Point, true)
}

/// `+12.5%`, `-3.0%`.
fn signed_pct(v: Decimal) -> String {
    if v.is_sign_negative() {
        format!("{}%", pct(v))
    } else {
        format!("+{}%", pct(v))
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A checked request for insights ([`GenerateInsights::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsightRequest {
    /// The ISO week; `None`: each account's last whole week.
    pub week: Option<DateRange>,
    /// The one account; `None`: every account of the tenant.
    pub ad_account_id: Option<AdAccountId>,
}

/// Writes and stores the week's insight of each of the tenant's ad accounts
/// (or of the one given).
pub struct GenerateInsights {
    pub(super) insights: Arc<dyn GeneratedInsightRepository>,
    pub(super) gold: GoldReader,
    llm: Option<Arc<dyn LlmClient>>,
    pub(super) clock: Arc<dyn Clock>,
}

impl GenerateInsights {
    /// Without `llm`, every document is the built-in one.
    #[must_use]
    pub fn new(
        insights: Arc<dyn GeneratedInsightRepository>,
        gold: GoldReader,
        llm: Option<Arc<dyn LlmClient>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            insights,
            gold,
            llm,
            clock,
        }
    }

    /// `week` is an ISO week (`2026-W40`); by default each account's last
    /// whole ISO week (ending by its yesterday). Generating again for the
    /// same account and week replaces the stored document. Synchronous:
    /// [`Self::check`] then [`Self::generate`] (the API queues an insight
    /// job in between instead).
    ///
    /// # Errors
    /// As [`Self::check`] and [`Self::generate`].
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        week: Option<String>,
        ad_account_id: Option<AdAccountId>,
    ) -> Result<Vec<Insight>, AppError> {
        let req = self.check(actor, week, ad_account_id).await?;
        self.generate(actor.tenant_id, req).await
    }

    /// Whether `actor` may have the insights of `week` (by default each
    /// account's last whole ISO week) generated, for the tenant's accounts
    /// or `ad_account_id`; nothing is written.
    ///
    /// # Errors
    /// 403 below analyst; 422 `week` not an ISO week, or `NO_AD_ACCOUNT`;
    /// 404 for an account missing or another tenant's; storage failures.
    pub async fn check(
        &self,
        actor: &Actor,
        week: Option<String>,
        ad_account_id: Option<AdAccountId>,
    ) -> Result<InsightRequest, AppError> {
        require(actor, Permission::Comment)?;
        let week = week
            .as_deref()
            .map(|w| iso_week(w.trim()).map_err(|why| ValidationError::new("week", why)))
            .transpose()?;
        self.accounts(actor.tenant_id, ad_account_id).await?;
        Ok(InsightRequest {
            week,
            ad_account_id,
        })
    }

    /// Writes and stores the documents of a checked request for tenant `t`,
    /// one per account; for callers that already checked who asks (the
    /// insight job).
    ///
    /// # Errors
    /// 422 `NO_AD_ACCOUNT`, 404 for an account missing (deleted since the
    /// request); storage failures. A failing model is not an error (the
    /// built-in document is stored).
    pub async fn generate(
        &self,
        t: TenantId,
        req: InsightRequest,
    ) -> Result<Vec<Insight>, AppError> {
        let accounts = self.accounts(t, req.ad_account_id).await?;
        let mut out = Vec::with_capacity(accounts.len());
        for account in &accounts {
            let week = req.week.unwrap_or_else(|| {
                default_period(ReportKind::Weekly, self.gold.yesterday(account))
            });
            out.push(self.one(t, account, week).await?);
        }
        Ok(out)
    }

    /// The tenant's account `id`, or all its accounts (at least one).
    async fn accounts(
        &self,
        t: TenantId,
        id: Option<AdAccountId>,
    ) -> Result<Vec<AdAccount>, AppError> {
        let accounts = match id {
            Some(id) => vec![self.gold.account(t, id).await?],
            None => self.gold.all_accounts(t).await?,
        };
        if accounts.is_empty() {
            return Err(AppError::Unprocessable {
                code: "NO_AD_ACCOUNT",
                message: "add an ad account (or import a CSV) before generating insights"
                    .to_owned(),
                details: serde_json::json!({}),
            });
        }
        Ok(accounts)
    }

    async fn one(
        &self,
        t: TenantId,
        account: &AdAccount,
        week: DateRange,
    ) -> Result<Insight, AppError> {
        let d = self.week_data(t, account, week).await?;
        self.write(t, account, week, &d).await
    }

    /// Writes the document from the week's facts (the model's when it
    /// passes, else the built-in one) and stores it.
    pub(super) async fn write(
        &self,
        t: TenantId,
        account: &AdAccount,
        week: DateRange,
        d: &WeekData,
    ) -> Result<Insight, AppError> {
        let fallback = built_in(account, week, d);
        let (draft, mode, usage) = match &self.llm {
            None => (fallback, AnswerMode::BuiltIn, TokenUsage::default()),
            Some(llm) => match self.ask(llm.as_ref(), account, week, d).await {
                Ok((Some(draft), usage)) => (draft, AnswerMode::Llm, usage),
                Ok((None, usage)) => {
                    warn!(ad_account_id = %account.id, "the model's insight failed verification twice; storing the built-in insight");
                    (fallback, AnswerMode::BuiltIn, usage)
                }
                Err((e, usage)) => {
                    warn!(error = %e, model = llm.model(), "the language model failed; storing the built-in insight");
                    (fallback, AnswerMode::BuiltIn, usage)
                }
            },
        };
        let insight = Insight {
            id: InsightId::generate(),
            tenant_id: t,
            ad_account_id: account.id,
            week,
            headline: draft.headline,
            findings: draft.findings,
            actions: draft.actions,
            mode,
            verified: true,
            created_at: self.clock.now(),
            prompt_tokens: i64::from(usage.prompt_tokens),
            completion_tokens: i64::from(usage.completion_tokens),
        };
        self.insights.upsert(&insight).await?;
        Ok(insight)
    }

    /// The model's verified draft (`None` after two failures).
    async fn ask(
        &self,
        llm: &dyn LlmClient,
        account: &AdAccount,
        week: DateRange,
        d: &WeekData,
    ) -> Result<(Option<InsightDraft>, TokenUsage), (domain::assistant::llm::LlmError, TokenUsage)>
    {
        let messages = vec![
            ChatMessage::system(INSIGHT_PROMPT),
            ChatMessage::user(format!(
                "Ad account \"{}\" (currency {}), week {} to {} against the week before.\n\
                 label | value | unit\n{}",
                account.name,
                account.currency.as_str(),
                week.from(),
                week.to(),
                fact_lines(&d.facts)
            )),
        ];
        let names: Vec<&str> = d.names.iter().map(String::as_str).collect();
        ask_verified(
            llm,
            messages,
            &insight_json_schema(),
            INSIGHT_MAX_TOKENS,
            |content| {
                let draft = InsightDraft::parse(content).map_err(|e| {
                    format!(
                        "{e}. Reply again with one JSON object {{\"headline\", \"findings\": \
                         [{{\"title\", \"detail\", \"figures\"}}], \"actions\"}} and nothing else."
                    )
                })?;
                draft
                    .validate()
                    .map_err(|e| format!("{e}. Reply again in the same JSON format."))?;
                Ok(draft)
            },
            |draft| verify_with_names(&draft.as_answer(), &d.facts, &names),
        )
        .await
    }

    /// The week's and the week before's facts.
    pub(super) async fn week_data(
        &self,
        t: TenantId,
        account: &AdAccount,
        week: DateRange,
    ) -> Result<WeekData, AppError> {
        let c = account.currency;
        let before = DateRange::new(
            week.from() - Duration::weeks(1),
            week.to() - Duration::weeks(1),
        )?;
        let cur_gold = self.gold.daily(t, account.id, week).await?;
        let cur = cur_gold.account_totals();
        let prev = self
            .gold
            .daily(t, account.id, before)
            .await?
            .account_totals();
        let mut facts = kpi_facts(&cur, c, THIS_WEEK);
        facts.extend(kpi_facts(&prev, c, PREVIOUS_WEEK));
        let (kc, kp) = (Kpis::from_totals(&cur), Kpis::from_totals(&prev));
        for m in COMPARED {
            if let (Some((a, _)), Some((b, _))) = (
                metric_value(m, &cur, &kc, c),
                metric_value(m, &prev, &kp, c),
            ) && let Some(ch) = change(a, b)
            {
                facts.push(Fact::new(change_label(m), ch, Unit::Percent));
            }
        }
        let mut top: Vec<(String, KpiTotals)> = cur_gold
            .campaigns
            .iter()
            .map(|cg| (cg.campaign.name.clone(), sum(&cg.days)))
            .filter(|(_, t)| t.spend > Decimal::ZERO)
            .collect();
        top.sort_by(|a, b| b.1.spend.cmp(&a.1.spend).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP_CAMPAIGNS);
        for (name, totals) in &top {
            let k = Kpis::from_totals(totals);
            facts.push(Fact::new(
                format!("{name} spend {THIS_WEEK}"),
                totals.spend,
                Unit::Money(c),
            ));
            if let Some(v) = k.cpa {
                facts.push(Fact::new(
                    format!("{name} CPA {THIS_WEEK}"),
                    v,
                    Unit::Money(c),
                ));
            }
            if let Some(v) = k.roas {
                facts.push(Fact::new(
                    format!("{name} ROAS {THIS_WEEK}"),
                    v,
                    Unit::Ratio,
                ));
            }
        }
        Ok(WeekData {
            names: top.iter().map(|(n, _)| n.clone()).collect(),
            facts,
            cur,
            prev,
            top,
        })
    }
}

/// The tenant's insights, newest first.
pub struct ListInsights {
    insights: Arc<dyn GeneratedInsightRepository>,
}

impl ListInsights {
    #[must_use]
    pub fn new(insights: Arc<dyn GeneratedInsightRepository>) -> Self {
        Self { insights }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Insight>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.insights.list(actor.tenant_id, page).await?)
    }
}

/// One of the tenant's insights.
pub struct GetInsight {
    insights: Arc<dyn GeneratedInsightRepository>,
}

impl GetInsight {
    #[must_use]
    pub fn new(insights: Arc<dyn GeneratedInsightRepository>) -> Self {
        Self { insights }
    }

    /// # Errors
    /// 404 for an insight missing or another tenant's; storage failures.
    pub async fn execute(&self, actor: &Actor, id: InsightId) -> Result<Insight, AppError> {
        require(actor, Permission::Read)?;
        self.insights
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Insight))
    }
}

#[cfg(test)]
#[path = "insights_tests.rs"]
pub(super) mod tests;
