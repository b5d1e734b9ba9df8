//! Live evaluation: the tenant's enabled rules judged against one ad
//! account's campaign gold, turning each firing into a pending suggestion.

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::ads::{AdAccountRepository, Campaign, CampaignRepository, EntityFilter};
use domain::ingestion::IngestionStore;
use domain::kpi::KpiTotals;
use domain::page::PageRequest;
use domain::platform::Clock;
use domain::rules::{
    Rule, RuleLevel, RuleRepository, Suggestion, SuggestionRepository, Verdict, evaluate,
    evaluation_window, propose, window_totals,
};
use domain::{AdAccountId, CampaignId, TenantId};
use time::Date;
use tracing::{debug, info, instrument, warn};

use crate::ingestion::sync::AfterSync;
use crate::{AppError, Resource};

/// Rows read per page while walking rules and campaigns.
const PAGE: u16 = 100;

/// What one evaluation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvaluationCounts {
    /// Rule × campaign pairs judged (campaigns with data in the rule's window).
    pub evaluated: usize,
    /// Suggestions stored (new rule, entity and window).
    pub created: usize,
}

/// Judges the tenant's enabled campaign-level rules against one ad account's
/// campaign daily totals and stores a pending suggestion per firing.
///
/// The run day is today in the account's time zone, so every evaluation of a
/// day judges the same window (ending yesterday) and a second run stores
/// nothing new (the repository keeps one suggestion per rule, entity and
/// window). Only campaign-level rules are judged: ad-set and ad rules need
/// ad-set and ad daily totals, which ingestion does not keep yet, so they are
/// skipped. NOTIFY rules make suggestions too, with a `Notify` proposal (no
/// change, for people to read). A budget rule on a campaign without a daily
/// budget proposes nothing and stores nothing. Disabled rules are skipped.
pub struct EvaluateRules {
    rules: Arc<dyn RuleRepository>,
    suggestions: Arc<dyn SuggestionRepository>,
    accounts: Arc<dyn AdAccountRepository>,
    campaigns: Arc<dyn CampaignRepository>,
    store: Arc<dyn IngestionStore>,
    clock: Arc<dyn Clock>,
}

impl EvaluateRules {
    #[must_use]
    pub fn new(
        rules: Arc<dyn RuleRepository>,
        suggestions: Arc<dyn SuggestionRepository>,
        accounts: Arc<dyn AdAccountRepository>,
        campaigns: Arc<dyn CampaignRepository>,
        store: Arc<dyn IngestionStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            rules,
            suggestions,
            accounts,
            campaigns,
            store,
            clock,
        }
    }

    /// # Errors
    /// 404 for an ad account missing or another tenant's; storage failures
    /// (suggestions stored before the failure stay).
    #[instrument(skip_all, fields(tenant_id = %t, ad_account_id = %account))]
    pub async fn execute(
        &self,
        t: TenantId,
        account: AdAccountId,
    ) -> Result<EvaluationCounts, AppError> {
        let acc = self
            .accounts
            .find(t, account)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        let rules = self.campaign_rules(t).await?;
        let Some(longest) = rules.iter().map(|r| r.spec.window_days).max() else {
            return Ok(EvaluationCounts::default());
        };
        let day = self.clock.today_in(&acc.timezone);
        let range = evaluation_window(day, longest);

        let mut series: BTreeMap<CampaignId, Vec<(Date, KpiTotals)>> = BTreeMap::new();
        for row in self.store.campaign_days(t, account, range).await? {
            series
                .entry(row.campaign_id)
                .or_default()
                .push((row.date, row.totals));
        }
        if series.is_empty() {
            return Ok(EvaluationCounts::default());
        }
        let campaigns = self.account_campaigns(t, account).await?;
        let now = self.clock.now();

        let mut counts = EvaluationCounts::default();
        for rule in &rules {
            let window = evaluation_window(day, rule.spec.window_days);
            for (id, days) in &series {
                let Some(campaign) = campaigns.get(id) else {
                    continue; // deleted since its rows were written
                };
                let Some(totals) = window_totals(days, window) else {
                    continue;
                };
                counts.evaluated += 1;
                let Verdict::Triggered(trigger) = evaluate(&rule.spec, &totals) else {
                    continue;
                };
                let proposal = match propose(&rule.spec.action, campaign.daily_budget) {
                    Ok(p) => p,
                    Err(why) => {
                        debug!(rule_id = %rule.id, campaign_id = %id, %why, "nothing to propose");
                        continue;
                    }
                };
                let suggestion = Suggestion::pending(
                    rule,
                    id.into_uuid(),
                    campaign.name.clone(),
                    window,
                    trigger,
                    proposal,
                    now,
                );
                if self.suggestions.insert_if_new(account, &suggestion).await? {
                    counts.created += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Evaluates after a sync; a failure is logged, never raised.
    #[instrument(skip_all, fields(tenant_id = %t, ad_account_id = %account))]
    async fn after_sync(&self, t: TenantId, account: AdAccountId) {
        match self.execute(t, account).await {
            Ok(c) => info!(
                evaluated = c.evaluated,
                created = c.created,
                "rules evaluated after sync"
            ),
            Err(e) => warn!(error = %e, "evaluating rules after sync failed"),
        }
    }

    /// The tenant's enabled campaign-level rules.
    async fn campaign_rules(&self, t: TenantId) -> Result<Vec<Rule>, AppError> {
        let mut out = Vec::new();
        let mut page = PageRequest::first(PAGE);
        loop {
            let p = self.rules.list(t, page).await?;
            out.extend(
                p.items
                    .into_iter()
                    .filter(|r| r.spec.enabled && r.spec.level == RuleLevel::Campaign),
            );
            match p.next_cursor {
                Some(cursor) => page = PageRequest::new(Some(u32::from(PAGE)), Some(&cursor))?,
                None => return Ok(out),
            }
        }
    }

    /// The account's campaigns by id (names and daily budgets).
    async fn account_campaigns(
        &self,
        t: TenantId,
        account: AdAccountId,
    ) -> Result<BTreeMap<CampaignId, Campaign>, AppError> {
        let filter = EntityFilter {
            ad_account_id: Some(account),
            ..EntityFilter::default()
        };
        let mut out = BTreeMap::new();
        let mut page = PageRequest::first(PAGE);
        loop {
            let p = self.campaigns.list(t, filter, page).await?;
            out.extend(p.items.into_iter().map(|c| (c.id, c)));
            match p.next_cursor {
                Some(cursor) => page = PageRequest::new(Some(u32::from(PAGE)), Some(&cursor))?,
                None => return Ok(out),
            }
        }
    }
}

#[async_trait::async_trait]
impl AfterSync for EvaluateRules {
    async fn synced(&self, t: TenantId, account: AdAccountId) {
        self.after_sync(t, account).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    use domain::ads::{
        AdAccount, AdAccountStatus, AdPlatform, Currency, EntityStatus, MockAdAccountRepository,
        MockCampaignRepository,
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
        suggestions.expect_insert_if_new().returning(move |a, s| {
            let key = (s.rule_id, s.entity_id, s.window);
            let new = keys.lock().unwrap().insert(key);
            if new {
                stored.lock().unwrap().push((a, s.clone()));
            }
            Ok(new)
        });

        EvaluateRules::new(
            Arc::new(rule_repo),
            Arc::new(suggestions),
            Arc::new(accounts),
            Arc::new(campaigns),
            Arc::new(store),
            Arc::new(clock),
        )
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
    async fn disabled_and_non_campaign_rules_are_not_judged() {
        let w = world();
        let mut disabled = Rule::create(w.tenant, RuleSpec::seed(), NOW).unwrap();
        disabled.spec.enabled = false;
        let mut ad_set = Rule::create(w.tenant, RuleSpec::seed(), NOW).unwrap();
        ad_set.spec.level = RuleLevel::AdSet;
        let stored = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(&w, vec![disabled, ad_set], low_ctr(), stored.clone());

        let counts = uc.execute(w.tenant, w.account).await.unwrap();

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
