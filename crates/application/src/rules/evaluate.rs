//! Live evaluation: the tenant's enabled rules judged against one ad
//! account's daily sums at each rule's level, turning each firing into a
//! pending suggestion.

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::ads::{
    AdAccountRepository, AdRepository, AdSetRepository, CampaignRepository, DateRange,
    EntityFilter, EntityStatus, InsightLevel,
};
use domain::ingestion::{AdAccountConnections, IngestionStore};
use domain::kpi::KpiTotals;
use domain::notify::Alert;
use domain::platform::Clock;
use domain::rules::{
    Proposal, RebalanceCandidate, Rule, RuleAction, RuleLevel, RuleMode, RuleRepository, Schedule,
    Suggestion, SuggestionRepository, SuggestionStatus, Trigger, Verdict, evaluate,
    evaluation_window, propose, rebalance, window_totals,
};
use domain::{AdAccountId, TenantId};
use rust_decimal::Decimal;
use time::Date;
use tracing::{debug, info, instrument, warn};
use uuid::Uuid;

use crate::ingestion::sync::AfterSync;
use crate::paging::every_page;
use crate::{AppError, Resource};

/// Rows read per page while walking rules, ad sets and ads.
const PAGE: u16 = 100;

/// What a rule needs to know of an entity besides its numbers.
struct Target {
    name: String,
    daily_budget: Option<Decimal>,
    /// Delivering now; REBALANCE only trades between active campaigns.
    active: bool,
}

impl Target {
    fn new(name: String, daily_budget: Option<Decimal>, status: EntityStatus) -> Self {
        Self {
            name,
            daily_budget,
            active: status == EntityStatus::Active,
        }
    }
}

/// One firing, before it becomes a suggestion.
struct Firing {
    entity_id: Uuid,
    action: RuleAction,
    trigger: Trigger,
    proposal: Proposal,
}

/// What one evaluation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvaluationCounts {
    /// Rule × entity pairs judged (entities with data in the rule's window).
    pub evaluated: usize,
    /// Suggestions stored (new rule, entity and window).
    pub created: usize,
}

/// What rule evaluation reads and writes.
pub struct EvaluationPorts {
    pub rules: Arc<dyn RuleRepository>,
    pub suggestions: Arc<dyn SuggestionRepository>,
    pub accounts: Arc<dyn AdAccountRepository>,
    pub campaigns: Arc<dyn CampaignRepository>,
    pub ad_sets: Arc<dyn AdSetRepository>,
    pub ads: Arc<dyn AdRepository>,
    pub store: Arc<dyn IngestionStore>,
    pub clock: Arc<dyn Clock>,
}

/// Judges the tenant's enabled rules against one ad account's daily silver
/// sums at each rule's level (campaign, ad set, ad) and stores a pending
/// suggestion per firing.
///
/// The run day is today in the account's time zone, so every evaluation of a
/// day judges the same window (ending yesterday) and a second run stores
/// nothing new (the repository keeps one suggestion per rule, entity and
/// window). An ad set's numbers are its current ads' rows added up. NOTIFY
/// rules make suggestions too, with a `Notify` proposal (no change, for
/// people to read). A budget rule on an entity without a daily budget (an ad,
/// or a budget kept at the other level) proposes nothing and stores nothing.
/// A REBALANCE rule runs the budget allocator over the account's active
/// campaigns and stores one `BUDGET_UP`/`BUDGET_DOWN` suggestion per campaign
/// it moves (each accepted or rejected on its own). Disabled rules are
/// skipped.
pub struct EvaluateRules {
    rules: Arc<dyn RuleRepository>,
    suggestions: Arc<dyn SuggestionRepository>,
    accounts: Arc<dyn AdAccountRepository>,
    campaigns: Arc<dyn CampaignRepository>,
    ad_sets: Arc<dyn AdSetRepository>,
    ads: Arc<dyn AdRepository>,
    store: Arc<dyn IngestionStore>,
    clock: Arc<dyn Clock>,
}

impl EvaluateRules {
    #[must_use]
    pub fn new(p: EvaluationPorts) -> Self {
        Self {
            rules: p.rules,
            suggestions: p.suggestions,
            accounts: p.accounts,
            campaigns: p.campaigns,
            ad_sets: p.ad_sets,
            ads: p.ads,
            store: p.store,
            clock: p.clock,
        }
    }

    /// Judges every enabled rule, whatever its schedule.
    ///
    /// # Errors
    /// 404 for an ad account missing or another tenant's; storage failures
    /// (suggestions stored before the failure stay).
    pub async fn execute(
        &self,
        t: TenantId,
        account: AdAccountId,
    ) -> Result<EvaluationCounts, AppError> {
        self.evaluate(t, account, None).await
    }

    /// Judges the enabled rules on `schedule` only.
    ///
    /// # Errors
    /// As [`Self::execute`].
    pub async fn execute_scheduled(
        &self,
        t: TenantId,
        account: AdAccountId,
        schedule: Schedule,
    ) -> Result<EvaluationCounts, AppError> {
        self.evaluate(t, account, Some(schedule)).await
    }

    #[instrument(skip_all, fields(tenant_id = %t, ad_account_id = %account))]
    async fn evaluate(
        &self,
        t: TenantId,
        account: AdAccountId,
        schedule: Option<Schedule>,
    ) -> Result<EvaluationCounts, AppError> {
        let acc = self
            .accounts
            .find(t, account)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        let mut rules = self.enabled_rules(t).await?;
        if let Some(schedule) = schedule {
            rules.retain(|r| r.spec.schedule == schedule);
        }
        let day = self.clock.today_in(&acc.timezone);
        let now = self.clock.now();
        let mut counts = EvaluationCounts::default();
        for level in RuleLevel::ALL {
            let at_level: Vec<&Rule> = rules.iter().filter(|r| r.spec.level == *level).collect();
            let Some(longest) = at_level.iter().map(|r| r.spec.window_days).max() else {
                continue;
            };
            let series = self
                .series(t, account, *level, evaluation_window(day, longest))
                .await?;
            if series.is_empty() {
                continue;
            }
            let targets = self.targets(t, account, *level).await?;
            for rule in at_level {
                let window = evaluation_window(day, rule.spec.window_days);
                let judged: Vec<(Uuid, &Target, KpiTotals)> = series
                    .iter()
                    .filter_map(|(id, days)| {
                        // No target: deleted since its rows were written.
                        let target = targets.get(id)?;
                        Some((*id, target, window_totals(days, window)?))
                    })
                    .collect();
                counts.evaluated += judged.len();
                for firing in fire(rule, &judged) {
                    let Some(target) = targets.get(&firing.entity_id) else {
                        continue;
                    };
                    let mut suggestion = Suggestion::pending(
                        rule,
                        firing.entity_id,
                        target.name.clone(),
                        window,
                        firing.trigger,
                        firing.proposal,
                        now,
                    );
                    suggestion.action = firing.action;
                    if rule.spec.mode == RuleMode::AutoApply {
                        // Born accepted, by nobody: the apply job takes it next.
                        suggestion
                            .transition(SuggestionStatus::Accepted, None, now)
                            .map_err(|e| AppError::Internal(e.to_string()))?;
                    }
                    // Written with the suggestion, in its transaction, or not at all.
                    let alert = Alert::suggestion_created(&suggestion, &rule.spec.name);
                    if self
                        .suggestions
                        .insert_if_new(account, &suggestion, &alert)
                        .await?
                    {
                        counts.created += 1;
                    }
                }
            }
        }
        Ok(counts)
    }

    /// Evaluates the `after_sync` rules after a sync; a failure is logged,
    /// never raised.
    #[instrument(skip_all, fields(tenant_id = %t, ad_account_id = %account))]
    async fn after_sync(&self, t: TenantId, account: AdAccountId) {
        match self
            .execute_scheduled(t, account, Schedule::AfterSync)
            .await
        {
            Ok(c) => info!(
                evaluated = c.evaluated,
                created = c.created,
                "rules evaluated after sync"
            ),
            Err(e) => warn!(error = %e, "evaluating rules after sync failed"),
        }
    }

    /// The tenant's enabled rules.
    async fn enabled_rules(&self, t: TenantId) -> Result<Vec<Rule>, AppError> {
        let mut rules = every_page(PAGE, |p| self.rules.list(t, p)).await?;
        rules.retain(|r| r.spec.enabled);
        Ok(rules)
    }

    /// Each entity's daily silver sums at `level` over `range`.
    async fn series(
        &self,
        t: TenantId,
        account: AdAccountId,
        level: RuleLevel,
        range: DateRange,
    ) -> Result<BTreeMap<Uuid, Vec<(Date, KpiTotals)>>, AppError> {
        let rows: Vec<(Uuid, Date, KpiTotals)> = match level {
            RuleLevel::Campaign => self
                .store
                .campaign_days(t, account, range)
                .await?
                .into_iter()
                .map(|r| (r.campaign_id.into_uuid(), r.date, r.totals))
                .collect(),
            RuleLevel::AdSet | RuleLevel::Ad => {
                let insight_level = if level == RuleLevel::Ad {
                    InsightLevel::Ad
                } else {
                    InsightLevel::AdSet
                };
                self.store
                    .entity_days(t, account, insight_level, range)
                    .await?
                    .into_iter()
                    .map(|r| (r.entity_id, r.date, r.totals))
                    .collect()
            }
        };
        let mut series: BTreeMap<Uuid, Vec<(Date, KpiTotals)>> = BTreeMap::new();
        for (id, date, totals) in rows {
            series.entry(id).or_default().push((date, totals));
        }
        Ok(series)
    }

    /// The account's current entities at `level` by id: the name a
    /// suggestion shows and the daily budget a budget action moves (ads
    /// have none).
    async fn targets(
        &self,
        t: TenantId,
        account: AdAccountId,
        level: RuleLevel,
    ) -> Result<BTreeMap<Uuid, Target>, AppError> {
        let filter = EntityFilter {
            ad_account_id: Some(account),
            ..EntityFilter::default()
        };
        Ok(match level {
            RuleLevel::Campaign => {
                crate::analysis::gold::account_campaigns(self.campaigns.as_ref(), t, account)
                    .await?
                    .into_values()
                    .map(|c| {
                        (
                            c.id.into_uuid(),
                            Target::new(c.name, c.daily_budget, c.status),
                        )
                    })
                    .collect()
            }
            RuleLevel::AdSet => every_page(PAGE, |p| self.ad_sets.list(t, filter, p))
                .await?
                .into_iter()
                .map(|s| {
                    (
                        s.id.into_uuid(),
                        Target::new(s.name, s.daily_budget, s.status),
                    )
                })
                .collect(),
            RuleLevel::Ad => every_page(PAGE, |p| self.ads.list(t, filter, p))
                .await?
                .into_iter()
                .map(|a| (a.id.into_uuid(), Target::new(a.name, None, a.status)))
                .collect(),
        })
    }
}

/// What `rule` proposes for the entities judged over its window: one
/// firing per triggered entity with something to propose, or, for
/// REBALANCE, one per active campaign the allocator moves (as
/// `BUDGET_UP`/`BUDGET_DOWN`).
fn fire(rule: &Rule, judged: &[(Uuid, &Target, KpiTotals)]) -> Vec<Firing> {
    if matches!(rule.spec.action, RuleAction::Rebalance { .. }) {
        let candidates: Vec<RebalanceCandidate> = judged
            .iter()
            .filter(|(_, target, _)| target.active)
            .map(|(id, target, totals)| RebalanceCandidate {
                entity_id: *id,
                daily_budget: target.daily_budget,
                totals: *totals,
            })
            .collect();
        return rebalance(&rule.spec, &candidates)
            .into_iter()
            .map(|m| Firing {
                entity_id: m.entity_id,
                action: m.action,
                trigger: m.trigger,
                proposal: m.proposal,
            })
            .collect();
    }
    judged
        .iter()
        .filter_map(|(id, target, totals)| {
            let Verdict::Triggered(trigger) = evaluate(&rule.spec, totals) else {
                return None;
            };
            match propose(&rule.spec.action, target.daily_budget) {
                Ok(proposal) => Some(Firing {
                    entity_id: *id,
                    action: rule.spec.action,
                    trigger,
                    proposal,
                }),
                Err(why) => {
                    debug!(rule_id = %rule.id, entity_id = %id, %why, "nothing to propose");
                    None
                }
            }
        })
        .collect()
}

#[async_trait::async_trait]
impl AfterSync for EvaluateRules {
    async fn synced(&self, t: TenantId, account: AdAccountId) {
        self.after_sync(t, account).await;
    }
}

/// The `hourly` and `daily` rules' job: judges the rules on one schedule
/// for every active ad account that syncs (across tenants). One account's
/// failure is logged and does not stop the others.
pub struct EvaluateScheduledRules {
    evaluate: Arc<EvaluateRules>,
    accounts: Arc<dyn AdAccountConnections>,
}

impl EvaluateScheduledRules {
    #[must_use]
    pub fn new(evaluate: Arc<EvaluateRules>, accounts: Arc<dyn AdAccountConnections>) -> Self {
        Self { evaluate, accounts }
    }

    /// # Errors
    /// The accounts could not be listed.
    #[instrument(skip_all, fields(schedule = schedule.as_str()))]
    pub async fn execute(&self, schedule: Schedule) -> Result<EvaluationCounts, AppError> {
        let mut total = EvaluationCounts::default();
        for (t, account) in self.accounts.schedulable().await? {
            match self.evaluate.execute_scheduled(t, account, schedule).await {
                Ok(c) => {
                    total.evaluated += c.evaluated;
                    total.created += c.created;
                }
                Err(e) => {
                    warn!(tenant_id = %t, ad_account_id = %account, error = %e, "scheduled rule evaluation failed");
                }
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    use domain::CampaignId;
    use domain::ads::{
        AdAccount, AdAccountStatus, AdPlatform, Campaign, Currency, EntityStatus,
        MockAdAccountRepository, MockAdRepository, MockAdSetRepository, MockCampaignRepository,
    };
    use domain::ingestion::{CampaignDay, MockIngestionStore};
    use domain::page::Page;
    use domain::platform::MockClock;
    use domain::rules::{
        MockRuleRepository, MockSuggestionRepository, Proposal, RuleSpec, SuggestionStatus,
    };
    use rust_decimal::Decimal;
    use time::OffsetDateTime;
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-01-10 12:00 UTC);
    const TODAY: Date = date!(2026 - 01 - 10);

    struct World {
        tenant: TenantId,
        account: AdAccountId,
        campaign: CampaignId,
        rule: Rule,
    }

    fn world() -> World {
        let tenant = TenantId::generate();
        World {
            tenant,
            account: AdAccountId::generate(),
            campaign: CampaignId::generate(),
            rule: Rule::create(tenant, RuleSpec::seed(), NOW).unwrap(),
        }
    }

    fn page<T>(items: Vec<T>) -> Page<T> {
        Page {
            items,
            next_cursor: None,
            limit: PAGE,
        }
    }

    fn day(date: Date, impressions: i64, clicks: i64) -> (Date, KpiTotals) {
        (
            date,
            KpiTotals {
                impressions,
                clicks,
                spend: Decimal::new(1000, 2),
                conversions: 1,
                ..KpiTotals::default()
            },
        )
    }

    /// CTR 0.5 % over Jan 7–9 on 2,000 impressions (CPA 10: fine).
    fn low_ctr() -> Vec<(Date, KpiTotals)> {
        vec![
            day(date!(2026 - 01 - 07), 700, 4),
            day(date!(2026 - 01 - 08), 700, 3),
            day(date!(2026 - 01 - 09), 600, 3),
        ]
    }

    /// CTR 2 % over the same days.
    fn healthy() -> Vec<(Date, KpiTotals)> {
        vec![
            day(date!(2026 - 01 - 07), 700, 14),
            day(date!(2026 - 01 - 08), 700, 14),
            day(date!(2026 - 01 - 09), 600, 12),
        ]
    }

    /// The use case over `rules` and one campaign with `days`; suggestions go
    /// to `stored`, which keeps one per rule, entity and window like the
    /// repository.
    fn use_case(
        w: &World,
        rules: Vec<Rule>,
        days: Vec<(Date, KpiTotals)>,
        stored: Arc<Mutex<Vec<(AdAccountId, Suggestion)>>>,
    ) -> EvaluateRules {
        let (tenant, account, campaign) = (w.tenant, w.account, w.campaign);

        let mut rule_repo = MockRuleRepository::new();
        rule_repo
            .expect_list()
            .returning(move |_, _| Ok(page(rules.clone())));

        let mut accounts = MockAdAccountRepository::new();
        accounts.expect_find().returning(move |t, id| {
            Ok((t == tenant && id == account).then(|| AdAccount {
                id,
                tenant_id: t,
                platform: AdPlatform::Meta,
                external_id: "act_1".to_owned(),
                name: "Main".to_owned(),
                currency: Currency::parse("BRL").unwrap(),
                timezone: "America/Sao_Paulo".to_owned(),
                status: AdAccountStatus::Active,
                created_at: NOW,
                updated_at: NOW,
            }))
        });

        let mut campaigns = MockCampaignRepository::new();
        campaigns.expect_list().returning(move |t, f, _| {
            assert_eq!((t, f.ad_account_id), (tenant, Some(account)));
            Ok(page(vec![Campaign {
                id: campaign,
                tenant_id: t,
                ad_account_id: account,
                external_id: None,
                name: "Summer sale".to_owned(),
                status: EntityStatus::Active,
                objective: None,
                daily_budget: Some(Decimal::from(100)),
                lifetime_budget: None,
                created_at: NOW,
                updated_at: NOW,
            }]))
        });

        let mut store = MockIngestionStore::new();
        store.expect_campaign_days().returning(move |t, a, range| {
            assert_eq!((t, a), (tenant, account));
            assert_eq!(
                (range.from(), range.to()),
                (date!(2026 - 01 - 07), date!(2026 - 01 - 09)),
                "the longest window, ending yesterday in the account's zone"
            );
            Ok(days
                .iter()
                .map(|(date, totals)| CampaignDay {
                    campaign_id: campaign,
                    date: *date,
                    totals: *totals,
                })
                .collect())
        });

        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        clock
            .expect_today_in()
            .withf(|tz| tz == "America/Sao_Paulo")
            .return_const(TODAY);

        let keys = Arc::new(Mutex::new(HashSet::new()));
        let mut suggestions = MockSuggestionRepository::new();
        suggestions
            .expect_insert_if_new()
            .returning(move |a, s, alert| {
                assert_eq!(
                    alert.data["suggestion_id"],
                    serde_json::json!(s.id.to_string())
                );
                let key = (s.rule_id, s.entity_id, s.window);
                let new = keys.lock().unwrap().insert(key);
                if new {
                    stored.lock().unwrap().push((a, s.clone()));
                }
                Ok(new)
            });

        EvaluateRules::new(EvaluationPorts {
            rules: Arc::new(rule_repo),
            suggestions: Arc::new(suggestions),
            accounts: Arc::new(accounts),
            campaigns: Arc::new(campaigns),
            // Campaign rules never read ad sets or ads: an unexpected call panics.
            ad_sets: Arc::new(MockAdSetRepository::new()),
            ads: Arc::new(MockAdRepository::new()),
            store: Arc::new(store),
            clock: Arc::new(clock),
        })
    }

    #[tokio::test]
    async fn a_low_ctr_campaign_gets_one_pause_suggestion_explaining_why() {
        let w = world();
        let stored = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(&w, vec![w.rule.clone()], low_ctr(), stored.clone());

        let counts = uc.execute(w.tenant, w.account).await.unwrap();

        assert_eq!(
            counts,
            EvaluationCounts {
                evaluated: 1,
                created: 1
            }
        );
        let stored = stored.lock().unwrap();
        let [(account, s)] = stored.as_slice() else {
            panic!("one suggestion expected, got {}", stored.len());
        };
        assert_eq!(*account, w.account);
        assert_eq!(
            s.reason,
            "CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 2,000 impressions)"
        );
        assert_eq!((s.rule_id, s.rule_version), (w.rule.id, 1));
        assert_eq!(s.entity_id, w.campaign.into_uuid());
        assert_eq!(s.entity_name, "Summer sale");
        assert_eq!(
            (s.proposal, s.status),
            (Proposal::Pause, SuggestionStatus::Pending)
        );
        assert_eq!(
            (s.window.from(), s.window.to()),
            (date!(2026 - 01 - 07), date!(2026 - 01 - 09))
        );
        assert_eq!(s.metrics.ctr, Some(Decimal::new(5, 1)));
        assert_eq!(s.created_at, NOW);
    }

    #[tokio::test]
    async fn a_healthy_campaign_gets_no_suggestion() {
        let w = world();
        let stored = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(&w, vec![w.rule.clone()], healthy(), stored.clone());

        let counts = uc.execute(w.tenant, w.account).await.unwrap();

        assert_eq!(
            counts,
            EvaluationCounts {
                evaluated: 1,
                created: 0
            }
        );
        assert!(stored.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_second_run_on_the_same_day_creates_nothing_new() {
        let w = world();
        let stored = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(&w, vec![w.rule.clone()], low_ctr(), stored.clone());

        let first = uc.execute(w.tenant, w.account).await.unwrap();
        let second = uc.execute(w.tenant, w.account).await.unwrap();

        assert_eq!((first.created, second.created), (1, 0));
        assert_eq!(second.evaluated, 1, "judged again, stored nothing");
        assert_eq!(stored.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn disabled_rules_and_rules_on_other_schedules_are_not_judged() {
        let w = world();
        let mut disabled = Rule::create(w.tenant, RuleSpec::seed(), NOW).unwrap();
        disabled.spec.enabled = false;
        let mut daily = Rule::create(w.tenant, RuleSpec::seed(), NOW).unwrap();
        daily.spec.schedule = Schedule::Daily;
        let stored = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(&w, vec![disabled, daily], low_ctr(), stored.clone());

        let counts = uc
            .execute_scheduled(w.tenant, w.account, Schedule::AfterSync)
            .await
            .unwrap();

        assert_eq!(counts, EvaluationCounts::default());
        assert!(stored.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn another_tenants_account_is_not_found() {
        let w = world();
        let uc = use_case(
            &w,
            vec![w.rule.clone()],
            low_ctr(),
            Arc::new(Mutex::new(Vec::new())),
        );

        let err = uc
            .execute(TenantId::generate(), w.account)
            .await
            .unwrap_err();

        assert!(matches!(err, AppError::NotFound(Resource::AdAccount)));
    }
}
