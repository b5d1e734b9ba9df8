//! `POST /rules/{id}/backtest`: what a rule, as it is now, would have
//! suggested on each day of a past range, replayed over gold with the same
//! window and verdict code the live evaluator runs ([`domain::rules::backtest`]).
//! Any member may run it; it writes nothing.

use std::collections::BTreeMap;

use domain::ads::{
    AdAccount, AdRepository, AdSetRepository, DateRange, EntityFilter, EntityStatus, InsightLevel,
};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::ingestion::IngestionStore;
use domain::rules::{Backtest, EntitySeries, Rule, RuleLevel, RuleRepository, backtest};
use domain::{AdAccountId, RuleId};
use std::sync::Arc;
use time::Duration;
use tracing::instrument;

use crate::analysis::GoldReader;
use crate::analysis::{bounded_range, optional_date};
use crate::error::require;
use crate::paging::every_page;
use crate::{AppError, Resource};

/// `?from&to&ad_account_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BacktestInput {
    /// First day the evaluation would have run; required.
    pub from: Option<String>,
    /// Last day the evaluation would have run; required, at most 366 days
    /// after `from`.
    pub to: Option<String>,
    /// Only this ad account's entities; every account of the tenant when absent.
    pub ad_account_id: Option<AdAccountId>,
}

/// A rule's replay over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBacktest {
    /// The rule replayed, at its current version.
    pub rule: Rule,
    pub range: DateRange,
    pub ad_account_id: Option<AdAccountId>,
    /// The days it would have suggested something, and the totals.
    pub result: Backtest,
}

/// Rows read per page while walking ad sets and ads.
const PAGE: u16 = 100;

/// Replays a rule's current spec over the tenant's history: campaign gold
/// (`kpi_daily`) for campaign rules; for ad-set and ad rules the same
/// per-entity daily sums live evaluation judges them on.
pub struct BacktestRule {
    rules: Arc<dyn RuleRepository>,
    gold: GoldReader,
    ad_sets: Arc<dyn AdSetRepository>,
    ads: Arc<dyn AdRepository>,
    store: Arc<dyn IngestionStore>,
}

impl BacktestRule {
    #[must_use]
    pub fn new(
        rules: Arc<dyn RuleRepository>,
        gold: GoldReader,
        ad_sets: Arc<dyn AdSetRepository>,
        ads: Arc<dyn AdRepository>,
        store: Arc<dyn IngestionStore>,
    ) -> Self {
        Self {
            rules,
            gold,
            ad_sets,
            ads,
            store,
        }
    }

    /// Each day `d` of the range judges every entity of the rule's level on
    /// the rule's window ending the day before `d`, exactly as an evaluation
    /// running on `d` would; a disabled rule is replayed too (to try it
    /// before enabling).
    ///
    /// # Errors
    /// 422 for missing or malformed dates, `from` after `to` or a range over
    /// 366 days; 404 for a rule or ad account missing, deleted or another
    /// tenant's; storage failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id, rule_id = %id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        id: RuleId,
        input: BacktestInput,
    ) -> Result<RuleBacktest, AppError> {
        require(actor, Permission::Read)?;
        let range = parse_range(input.from.as_deref(), input.to.as_deref())?;
        let t = actor.tenant_id;
        let rule = self
            .rules
            .get(t, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Rule))?;
        let accounts: Vec<AdAccount> = match input.ad_account_id {
            Some(a) => vec![self.gold.account(t, a).await?],
            None => self.gold.all_accounts(t).await?,
        };
        // The first run judges the window ending the day before `from`; the
        // last one the window ending the day before `to`.
        let days = Duration::days(i64::from(rule.spec.window_days.max(1)));
        let history = DateRange::new(range.from() - days, range.to() - Duration::days(1))?;
        // One replay per account: a REBALANCE trades within an account only.
        let mut result = Backtest::default();
        for account in &accounts {
            let series = self
                .entity_series(t, account.id, rule.spec.level, history)
                .await?;
            result.absorb(backtest(&rule.spec, &series, range));
        }
        Ok(RuleBacktest {
            rule,
            range,
            ad_account_id: input.ad_account_id,
            result,
        })
    }
}

impl BacktestRule {
    /// One account's entities at `level` with rows in `range`, by name.
    async fn entity_series(
        &self,
        t: domain::TenantId,
        account: AdAccountId,
        level: RuleLevel,
        range: DateRange,
    ) -> Result<Vec<EntitySeries>, AppError> {
        let series = |id: uuid::Uuid, name: String, daily_budget, days| EntitySeries {
            entity_id: id,
            entity_name: name,
            daily_budget,
            days,
        };
        let mut out: Vec<EntitySeries> = match level {
            RuleLevel::Campaign => self
                .gold
                .daily(t, account, range)
                .await?
                .campaigns
                .into_iter()
                .map(|c| {
                    // Only active campaigns trade budget (as live); current budgets.
                    let budget = c
                        .campaign
                        .daily_budget
                        .filter(|_| c.campaign.status == EntityStatus::Active);
                    series(c.campaign.id.into_uuid(), c.campaign.name, budget, c.days)
                })
                .collect(),
            RuleLevel::AdSet | RuleLevel::Ad => {
                let filter = EntityFilter {
                    ad_account_id: Some(account),
                    ..EntityFilter::default()
                };
                let (insight, names): (InsightLevel, BTreeMap<uuid::Uuid, String>) =
                    if level == RuleLevel::Ad {
                        let ads = every_page(PAGE, |p| self.ads.list(t, filter, p)).await?;
                        let names = ads.into_iter().map(|a| (a.id.into_uuid(), a.name));
                        (InsightLevel::Ad, names.collect())
                    } else {
                        let sets = every_page(PAGE, |p| self.ad_sets.list(t, filter, p)).await?;
                        let names = sets.into_iter().map(|s| (s.id.into_uuid(), s.name));
                        (InsightLevel::AdSet, names.collect())
                    };
                let mut days: BTreeMap<uuid::Uuid, Vec<_>> = BTreeMap::new();
                for row in self.store.entity_days(t, account, insight, range).await? {
                    days.entry(row.entity_id)
                        .or_default()
                        .push((row.date, row.totals));
                }
                // Rows of entities deleted since are left out, as live
                // evaluation leaves them out.
                names
                    .into_iter()
                    .filter_map(|(id, name)| days.remove(&id).map(|d| series(id, name, None, d)))
                    .collect()
            }
        };
        out.retain(|s| !s.days.is_empty());
        out.sort_by(|a, b| (&a.entity_name, a.entity_id).cmp(&(&b.entity_name, b.entity_id)));
        Ok(out)
    }
}

/// Both dates required, in order, at most [`crate::analysis::MAX_RANGE_DAYS`] apart.
fn parse_range(from: Option<&str>, to: Option<&str>) -> Result<DateRange, ValidationError> {
    let mut errors = ValidationError::default();
    let required = |field: &str, v: Option<&str>, errors: &mut ValidationError| {
        if v.is_none_or(str::is_empty) {
            errors.add(field, "is required (YYYY-MM-DD)");
            None
        } else {
            optional_date(field, v, errors)
        }
    };
    let from = required("from", from, &mut errors);
    let to = required("to", to, &mut errors);
    let range = match (from, to) {
        (Some(f), Some(t)) => bounded_range(f, t, &mut errors),
        _ => None,
    };
    match range {
        Some(r) if errors.is_empty() => Ok(r),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{NOW, World};
    use domain::ads::{Ad, EntityStatus, MockAdRepository, MockAdSetRepository};
    use domain::identity::{Principal, Role};
    use domain::ingestion::{EntityDay, MockIngestionStore};
    use domain::kpi::KpiTotals;
    use domain::page::Page;
    use domain::rules::{MockRuleRepository, RuleAction, RuleSpec};
    use domain::{AdId, AdSetId};
    use domain::{TenantId, UserId};
    use rust_decimal::Decimal;
    use time::macros::date;

    fn viewer(t: TenantId) -> Actor {
        Actor {
            tenant_id: t,
            principal: Principal::User(UserId::generate()),
            role: Role::Viewer,
        }
    }

    /// The use case over `rule`, campaign gold from `reader`, and `ads`
    /// with their daily `rows` (ad sets: none).
    fn use_case(
        rule: &Rule,
        reader: crate::analysis::GoldReader,
        ads: Vec<Ad>,
        rows: Vec<EntityDay>,
    ) -> BacktestRule {
        let tenant = rule.tenant_id;
        let mut ad_repo = MockAdRepository::new();
        ad_repo.expect_list().returning(move |t, _, _| {
            Ok(Page {
                items: if t == tenant { ads.clone() } else { Vec::new() },
                next_cursor: None,
                limit: 100,
            })
        });
        let mut sets = MockAdSetRepository::new();
        sets.expect_list().returning(|_, _, _| {
            Ok(Page {
                items: Vec::new(),
                next_cursor: None,
                limit: 100,
            })
        });
        let mut store = MockIngestionStore::new();
        store
            .expect_entity_days()
            .returning(move |t, _, level, range| {
                Ok(rows
                    .iter()
                    .filter(|r| {
                        t == tenant
                            && level == InsightLevel::Ad
                            && range.from() <= r.date
                            && r.date <= range.to()
                    })
                    .copied()
                    .collect())
            });
        BacktestRule::new(
            Arc::new(rules_with(rule)),
            reader,
            Arc::new(sets),
            Arc::new(ad_repo),
            Arc::new(store),
        )
    }

    fn rules_with(rule: &Rule) -> MockRuleRepository {
        let mut repo = MockRuleRepository::new();
        let found = rule.clone();
        repo.expect_get().returning(move |t, id| {
            Ok((t == found.tenant_id && id == found.id).then(|| found.clone()))
        });
        repo
    }

    /// `impressions` and `clicks` a day, 10.00 spent, 1 conversion.
    fn day(impressions: i64, clicks: i64) -> KpiTotals {
        KpiTotals {
            impressions,
            clicks,
            spend: Decimal::new(1000, 2),
            conversions: 1,
            ..KpiTotals::default()
        }
    }

    #[tokio::test]
    async fn the_seed_rule_fires_the_day_after_a_low_ctr_window_only() {
        let w = World::new();
        let rule = Rule::create(w.tenant, RuleSpec::seed(), NOW).unwrap();
        let weak = w.campaign("Weak", None);
        let fine = w.campaign("Fine", None);
        let rows = vec![
            // Weak: Oct 1–3 at 400 impressions and 2 clicks (CTR 0.5 %): only
            // all three days together reach the 1,000-impression guard.
            (weak.id, date!(2026 - 10 - 01), day(400, 2)),
            (weak.id, date!(2026 - 10 - 02), day(400, 2)),
            (weak.id, date!(2026 - 10 - 03), day(400, 2)),
            (fine.id, date!(2026 - 10 - 02), day(700, 30)),
            (fine.id, date!(2026 - 10 - 03), day(700, 30)),
        ];
        let uc = use_case(
            &rule,
            w.reader(vec![weak.clone(), fine], rows),
            vec![],
            vec![],
        );
        let input = BacktestInput {
            from: Some("2026-10-01".to_owned()),
            to: Some("2026-10-06".to_owned()),
            ad_account_id: Some(w.account),
        };
        let r = uc.execute(&viewer(w.tenant), rule.id, input).await.unwrap();
        // Runs on Oct 2, 3, 5 and 6 see at most 800 impressions (guarded);
        // Oct 4 judges Oct 1–3. Fine's CTR is 4.29 %.
        let dates: Vec<_> = r.result.days.iter().map(|d| d.date).collect();
        assert_eq!(dates, [date!(2026 - 10 - 04)]);
        let s = &r.result.days[0].suggestions[0];
        assert_eq!(s.entity_id, weak.id.into_uuid());
        assert_eq!(s.action, RuleAction::Pause);
        assert_eq!(
            s.reason,
            "CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 1,200 impressions)"
        );
        assert_eq!(r.result.totals.suggestions, 1);
        assert_eq!(r.result.totals.spend_affected, Decimal::new(3000, 2));
    }

    #[tokio::test]
    async fn foreign_rules_are_not_found_and_bad_ranges_refused_before_reading() {
        let w = World::new();
        let rule = Rule::create(w.tenant, RuleSpec::seed(), NOW).unwrap();
        let uc = use_case(&rule, w.reader(vec![], vec![]), vec![], vec![]);
        let ok = BacktestInput {
            from: Some("2026-10-01".to_owned()),
            to: Some("2026-10-02".to_owned()),
            ad_account_id: None,
        };
        let err = uc
            .execute(&viewer(TenantId::generate()), rule.id, ok)
            .await
            .unwrap_err();
        assert_eq!(err, AppError::NotFound(Resource::Rule));

        for (from, to, field) in [
            (None, Some("2026-10-02"), "from"),
            (Some("2026-10-03"), Some("2026-10-02"), "from"),
            (Some("2025-01-01"), Some("2026-01-02"), "to"),
            (Some("2026-10-01"), Some("02/10/2026"), "to"),
        ] {
            let input = BacktestInput {
                from: from.map(str::to_owned),
                to: to.map(str::to_owned),
                ad_account_id: None,
            };
            let err = uc
                .execute(&viewer(w.tenant), rule.id, input)
                .await
                .unwrap_err();
            let AppError::Validation(v) = err else {
                panic!("{err:?}")
            };
            assert_eq!(
                v.fields.keys().collect::<Vec<_>>(),
                [field],
                "{from:?} {to:?}"
            );
        }
    }

    #[tokio::test]
    async fn ad_rules_are_replayed_on_each_ads_daily_rows() {
        let w = World::new();
        let spec = RuleSpec {
            level: RuleLevel::Ad,
            ..RuleSpec::seed()
        };
        let rule = Rule::create(w.tenant, spec, NOW).unwrap();
        let campaign = w.campaign("Parent", None);
        let ad = Ad {
            id: AdId::generate(),
            tenant_id: w.tenant,
            ad_account_id: w.account,
            campaign_id: campaign.id,
            ad_set_id: AdSetId::generate(),
            external_id: None,
            name: "Weak ad".to_owned(),
            status: EntityStatus::Active,
            targeting: serde_json::json!({}),
            creative: serde_json::json!({}),
            performance: serde_json::json!({}),
            created_at: NOW,
            updated_at: NOW,
        };
        let gone = uuid::Uuid::now_v7(); // an ad deleted since its rows were written
        let mut rows = Vec::new();
        for d in [
            date!(2026 - 10 - 01),
            date!(2026 - 10 - 02),
            date!(2026 - 10 - 03),
        ] {
            for entity_id in [ad.id.into_uuid(), gone] {
                rows.push(EntityDay {
                    entity_id,
                    date: d,
                    totals: day(400, 2),
                });
            }
        }
        let uc = use_case(
            &rule,
            w.reader(vec![campaign], vec![]),
            vec![ad.clone()],
            rows,
        );
        let input = BacktestInput {
            from: Some("2026-10-04".to_owned()),
            to: Some("2026-10-04".to_owned()),
            ad_account_id: Some(w.account),
        };
        let r = uc.execute(&viewer(w.tenant), rule.id, input).await.unwrap();
        assert_eq!(r.result.totals.suggestions, 1);
        let s = &r.result.days[0].suggestions[0];
        assert_eq!(
            (s.entity_id, s.entity_name.as_str()),
            (ad.id.into_uuid(), "Weak ad")
        );
    }
}
