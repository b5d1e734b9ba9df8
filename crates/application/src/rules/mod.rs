//! Rules use cases: a tenant's automation rules, created, read, listed,
//! revised (a new version per changed spec) and deleted. Any member reads;
//! admins and owners write, and only they may set `mode: auto_apply`. Every
//! write is audited with the rule before and after. Never evaluates a rule
//! (the analysis jobs do) and never stores one itself (the repository port).

mod apply;
mod backtest;
mod evaluate;
mod input;
mod suggestions;

use std::sync::Arc;

use domain::error::ValidationError;
use domain::identity::{Actor, Permission, Role};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use domain::rules::{Rule, RuleMode, RuleRepository, RuleSpec};
use domain::{RepoError, RuleId};
use serde_json::{Value, json};

pub use apply::{ApplySettings, ApplySuggestions, Entities as ApplyEntities};
pub use backtest::{BacktestInput, BacktestRule, RuleBacktest};
pub use evaluate::{EvaluateRules, EvaluateScheduledRules, EvaluationCounts, EvaluationPorts};
pub use input::{ActionInput, ConditionsInput, FilterInput, GuardsInput, RuleSpecInput};
pub use suggestions::{
    AcceptSuggestion, GetSuggestion, ListSuggestions, MAX_REJECT_REASON_CHARS, RejectSuggestion,
};

use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

/// The 409 for an edit based on a version that is no longer current.
const VERSION_CONFLICT: &str = "RULE_VERSION_CONFLICT";

/// Fails unless the actor may give a rule this mode: applying changes without
/// a person is for admins and owners, whoever else may write rules one day.
///
/// # Errors
/// `AppError::Forbidden`.
fn may_use_mode(actor: &Actor, mode: RuleMode) -> Result<(), AppError> {
    match mode {
        RuleMode::AutoApply if actor.role < Role::Admin => Err(AppError::Forbidden),
        RuleMode::AutoApply | RuleMode::Suggest => Ok(()),
    }
}

/// The spec for the audit log, in the API's shape (decimals as strings).
fn spec_json(s: &RuleSpec) -> Value {
    let filters: Vec<Value> = s
        .conditions
        .filters()
        .iter()
        .map(|f| json!({"metric": f.metric.as_str(), "op": f.op.as_str(), "value": f.value.to_string()}))
        .collect();
    let mut guards = serde_json::Map::new();
    if let Some(m) = s.guards.min_spend {
        guards.insert("min_spend".to_owned(), json!(m.to_string()));
    }
    if let Some(i) = s.guards.min_impressions {
        guards.insert("min_impressions".to_owned(), json!(i));
    }
    let mut action = json!({"type": s.action.kind_str()});
    if let (Some(p), Some(o)) = (s.action.percent(), action.as_object_mut()) {
        o.insert("percent".to_owned(), json!(p.to_string()));
    }
    json!({
        "name": s.name,
        "level": s.level.as_str(),
        "conditions": {s.conditions.key(): filters},
        "window_days": s.window_days,
        "guards": guards,
        "action": action,
        "schedule": s.schedule.as_str(),
        "mode": s.mode.as_str(),
        "enabled": s.enabled,
    })
}

fn audit_json(r: &Rule) -> Value {
    let mut v = spec_json(&r.spec);
    if let Some(o) = v.as_object_mut() {
        o.insert("version".to_owned(), json!(r.version));
    }
    v
}

/// Creates a rule at version 1 (admins and up).
pub struct CreateRule {
    repo: Arc<dyn RuleRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl CreateRule {
    #[must_use]
    pub fn new(repo: Arc<dyn RuleRepository>, clock: Arc<dyn Clock>, audit: Auditor) -> Self {
        Self { repo, clock, audit }
    }

    /// # Errors
    /// Forbidden below admin; validation (every bad field).
    pub async fn execute(&self, actor: &Actor, input: RuleSpecInput) -> Result<Rule, AppError> {
        require(actor, Permission::Write)?;
        let spec = input.parse()?;
        may_use_mode(actor, spec.mode)?;
        let rule = Rule::create(actor.tenant_id, spec, self.clock.now())?;
        self.repo.create(&rule).await?;
        self.audit
            .record(
                actor,
                "rule.create",
                "rule",
                &rule.id.to_string(),
                None,
                Some(audit_json(&rule)),
            )
            .await;
        Ok(rule)
    }
}

/// One rule (any member).
pub struct GetRule {
    repo: Arc<dyn RuleRepository>,
}

impl GetRule {
    #[must_use]
    pub fn new(repo: Arc<dyn RuleRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// 404 for a missing, deleted or foreign id.
    pub async fn execute(&self, actor: &Actor, id: RuleId) -> Result<Rule, AppError> {
        require(actor, Permission::Read)?;
        self.repo
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Rule))
    }
}

/// The tenant's rules, newest first (any member).
pub struct ListRules {
    repo: Arc<dyn RuleRepository>,
}

impl ListRules {
    #[must_use]
    pub fn new(repo: Arc<dyn RuleRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(&self, actor: &Actor, page: PageRequest) -> Result<Page<Rule>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.repo.list(actor.tenant_id, page).await?)
    }
}

/// `PUT /rules/{id}`: the full spec and the version it edits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateRuleInput {
    /// The version the client read and edited; required.
    pub version: Option<i64>,
    pub spec: RuleSpecInput,
}

/// Replaces a rule's spec (admins and up). A changed spec becomes the next
/// version; an identical one changes nothing. An edit of a version that is no
/// longer current is refused, so nobody overwrites a change they never saw.
pub struct UpdateRule {
    repo: Arc<dyn RuleRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl UpdateRule {
    #[must_use]
    pub fn new(repo: Arc<dyn RuleRepository>, clock: Arc<dyn Clock>, audit: Auditor) -> Self {
        Self { repo, clock, audit }
    }

    /// # Errors
    /// Forbidden below admin; validation (every bad field, `version`
    /// included); 404 for a missing, deleted or foreign id; 409
    /// `RULE_VERSION_CONFLICT` when `version` is not the current one.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: RuleId,
        input: UpdateRuleInput,
    ) -> Result<Rule, AppError> {
        require(actor, Permission::Write)?;
        let mut errors = ValidationError::default();
        if input.version.is_none() {
            errors.add("version", "is required: the version this edit is based on");
        }
        let spec = input.spec.parse().map_err(|e| errors.merge(e)).ok();
        let (Some(expected), Some(spec)) = (input.version, spec) else {
            return Err(errors.into());
        };
        may_use_mode(actor, spec.mode)?;
        let before = self
            .repo
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Rule))?;
        if i64::from(before.version) != expected {
            return Err(AppError::conflict(
                VERSION_CONFLICT,
                format!(
                    "the rule is at version {}, not {expected}; reload it and apply your change again",
                    before.version
                ),
            ));
        }
        let mut edited = before.clone();
        edited.revise(spec, self.clock.now())?;
        if edited.version == before.version {
            return Ok(before);
        }
        let after = self
            .repo
            .revise(
                actor.tenant_id,
                id,
                before.version,
                &edited.spec,
                edited.updated_at,
            )
            .await
            .map_err(|e| match e {
                RepoError::Conflict(_) => AppError::conflict(
                    VERSION_CONFLICT,
                    "the rule was changed meanwhile; reload it and apply your change again",
                ),
                other => other.into(),
            })?
            .ok_or(AppError::NotFound(Resource::Rule))?;
        self.audit
            .record(
                actor,
                "rule.update",
                "rule",
                &id.to_string(),
                Some(audit_json(&before)),
                Some(audit_json(&after)),
            )
            .await;
        Ok(after)
    }
}

/// Deletes a rule (admins and up). Its versions stay, so suggestions it made
/// keep their explanation.
pub struct DeleteRule {
    repo: Arc<dyn RuleRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl DeleteRule {
    #[must_use]
    pub fn new(repo: Arc<dyn RuleRepository>, clock: Arc<dyn Clock>, audit: Auditor) -> Self {
        Self { repo, clock, audit }
    }

    /// # Errors
    /// Forbidden below admin; 404 for a missing, deleted or foreign id.
    pub async fn execute(&self, actor: &Actor, id: RuleId) -> Result<(), AppError> {
        require(actor, Permission::Write)?;
        let before = self
            .repo
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Rule))?;
        if !self
            .repo
            .delete(actor.tenant_id, id, self.clock.now())
            .await?
        {
            return Err(AppError::NotFound(Resource::Rule));
        }
        self.audit
            .record(
                actor,
                "rule.delete",
                "rule",
                &id.to_string(),
                Some(audit_json(&before)),
                None,
            )
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::audit::{AuditEntry, MockAuditLogRepository};
    use domain::platform::MockClock;
    use domain::rules::{MockRuleRepository, RuleAction};
    use time::OffsetDateTime;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-02 3:04 UTC);
    const EARLIER: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    use crate::testing::actor;

    fn clock() -> Arc<MockClock> {
        let mut c = MockClock::new();
        c.expect_now().return_const(NOW);
        Arc::new(c)
    }

    /// An auditor that expects exactly `times` entries and hands them to `check`.
    fn auditor(times: usize, check: impl Fn(&AuditEntry) + Send + Sync + 'static) -> Auditor {
        let mut repo = MockAuditLogRepository::new();
        repo.expect_append().times(times).returning(move |e| {
            check(e);
            Ok(())
        });
        Auditor::new(Arc::new(repo), clock())
    }

    fn no_audit() -> Auditor {
        auditor(0, |_| {})
    }

    fn input(spec: &RuleSpec) -> RuleSpecInput {
        let filters = spec
            .conditions
            .filters()
            .iter()
            .map(|f| FilterInput {
                metric: f.metric.as_str().to_owned(),
                op: f.op.as_str().to_owned(),
                value: Some(f.value),
            })
            .collect();
        RuleSpecInput {
            name: spec.name.clone(),
            level: spec.level.as_str().to_owned(),
            conditions: Some(match spec.conditions {
                domain::rules::Conditions::Any(_) => ConditionsInput {
                    any: Some(filters),
                    all: None,
                },
                domain::rules::Conditions::All(_) => ConditionsInput {
                    any: None,
                    all: Some(filters),
                },
            }),
            window_days: Some(i64::from(spec.window_days)),
            guards: GuardsInput {
                min_spend: spec.guards.min_spend,
                min_impressions: spec.guards.min_impressions,
            },
            action: Some(ActionInput {
                kind: spec.action.kind_str().to_owned(),
                percent: spec.action.percent(),
                ..ActionInput::default()
            }),
            schedule: Some(spec.schedule.as_str().to_owned()),
            mode: Some(spec.mode.as_str().to_owned()),
            enabled: Some(spec.enabled),
        }
    }

    fn auto_apply() -> RuleSpec {
        RuleSpec {
            mode: RuleMode::AutoApply,
            ..RuleSpec::seed()
        }
    }

    fn stored(a: &Actor, version: i32) -> Rule {
        Rule {
            id: RuleId::generate(),
            tenant_id: a.tenant_id,
            version,
            spec: RuleSpec::seed(),
            created_at: EARLIER,
            updated_at: EARLIER,
        }
    }

    fn repo_finding(rule: &Rule) -> MockRuleRepository {
        let mut repo = MockRuleRepository::new();
        let found = rule.clone();
        let (t, id) = (rule.tenant_id, rule.id);
        repo.expect_get()
            .withf(move |tt, ii| *tt == t && *ii == id)
            .returning(move |_, _| Ok(Some(found.clone())));
        repo
    }

    #[tokio::test]
    async fn create_stores_version_one_in_the_actors_tenant_and_audits_it() {
        let a = actor(Role::Admin);
        let t = a.tenant_id;
        let mut repo = MockRuleRepository::new();
        repo.expect_create()
            .withf(move |r| {
                r.tenant_id == t
                    && r.version == 1
                    && r.spec == RuleSpec::seed()
                    && r.created_at == NOW
            })
            .times(1)
            .returning(|_| Ok(()));
        let audit = auditor(1, |e| {
            assert_eq!(
                (e.action.as_str(), e.entity_type.as_str()),
                ("rule.create", "rule")
            );
            assert_eq!(e.before, None);
            let after = e.after.as_ref().unwrap();
            assert_eq!(after["version"], json!(1));
            assert_eq!(
                after["conditions"]["any"][0],
                json!({"metric": "ctr", "op": "lt", "value": "1"})
            );
            assert_eq!(after["guards"], json!({"min_impressions": 1000}));
            assert_eq!(after["action"], json!({"type": "PAUSE"}));
        });
        let uc = CreateRule::new(Arc::new(repo), clock(), audit);
        let rule = uc.execute(&a, input(&RuleSpec::seed())).await.unwrap();
        assert_eq!((rule.version, rule.tenant_id), (1, t));
    }

    #[tokio::test]
    async fn members_below_admin_cannot_create_update_or_delete_rules() {
        for role in [Role::Viewer, Role::Analyst] {
            let a = actor(role);
            let mut repo = MockRuleRepository::new();
            repo.expect_create().never();
            repo.expect_get().never();
            repo.expect_revise().never();
            repo.expect_delete().never();
            let repo = Arc::new(repo);
            let create = CreateRule::new(repo.clone(), clock(), no_audit());
            assert_eq!(
                create.execute(&a, input(&RuleSpec::seed())).await,
                Err(AppError::Forbidden)
            );
            let update = UpdateRule::new(repo.clone(), clock(), no_audit());
            let body = UpdateRuleInput {
                version: Some(1),
                spec: input(&RuleSpec::seed()),
            };
            assert_eq!(
                update.execute(&a, RuleId::generate(), body).await,
                Err(AppError::Forbidden)
            );
            let delete = DeleteRule::new(repo, clock(), no_audit());
            assert_eq!(
                delete.execute(&a, RuleId::generate()).await,
                Err(AppError::Forbidden)
            );
        }
    }

    #[test]
    fn only_admins_and_owners_may_choose_auto_apply() {
        for role in [Role::Viewer, Role::Analyst] {
            assert_eq!(
                may_use_mode(&actor(role), RuleMode::AutoApply),
                Err(AppError::Forbidden),
                "{role:?}"
            );
            assert_eq!(may_use_mode(&actor(role), RuleMode::Suggest), Ok(()));
        }
        for role in [Role::Admin, Role::Owner] {
            assert_eq!(may_use_mode(&actor(role), RuleMode::AutoApply), Ok(()));
        }
    }

    #[tokio::test]
    async fn admins_may_create_auto_apply_rules() {
        let mut repo = MockRuleRepository::new();
        repo.expect_create()
            .withf(|r| r.spec.mode == RuleMode::AutoApply)
            .times(1)
            .returning(|_| Ok(()));
        let uc = CreateRule::new(Arc::new(repo), clock(), auditor(1, |_| {}));
        assert!(
            uc.execute(&actor(Role::Admin), input(&auto_apply()))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn an_invalid_spec_is_refused_with_its_fields_before_any_write() {
        let mut repo = MockRuleRepository::new();
        repo.expect_create().never();
        let uc = CreateRule::new(Arc::new(repo), clock(), no_audit());
        let bad = RuleSpecInput {
            window_days: Some(0),
            level: "account".to_owned(),
            ..input(&RuleSpec::seed())
        };
        let Err(AppError::Validation(v)) = uc.execute(&actor(Role::Owner), bad).await else {
            panic!("expected a validation error");
        };
        assert_eq!(
            v.fields.keys().collect::<Vec<_>>(),
            ["level", "window_days"]
        );
    }

    #[tokio::test]
    async fn get_and_list_are_open_to_every_member_and_scoped_to_the_tenant() {
        let a = actor(Role::Viewer);
        let rule = stored(&a, 3);
        let mut repo = repo_finding(&rule);
        let t = a.tenant_id;
        repo.expect_list()
            .withf(move |tt, _| *tt == t)
            .times(1)
            .returning(|_, p| {
                Ok(Page {
                    items: vec![],
                    next_cursor: None,
                    limit: p.limit(),
                })
            });
        repo.expect_get().returning(|_, _| Ok(None));
        let repo = Arc::new(repo);
        assert_eq!(
            GetRule::new(repo.clone()).execute(&a, rule.id).await,
            Ok(rule)
        );
        assert_eq!(
            GetRule::new(repo.clone())
                .execute(&a, RuleId::generate())
                .await,
            Err(AppError::NotFound(Resource::Rule))
        );
        assert!(
            ListRules::new(repo)
                .execute(&a, PageRequest::first(10))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn update_writes_the_next_version_and_audits_before_and_after() {
        let a = actor(Role::Admin);
        let rule = stored(&a, 2);
        let edited = RuleSpec {
            window_days: 7,
            action: RuleAction::BudgetDown {
                percent: rust_decimal::Decimal::TEN,
            },
            ..RuleSpec::seed()
        };
        let mut repo = repo_finding(&rule);
        let (id, want) = (rule.id, edited.clone());
        let written = Rule {
            version: 3,
            spec: edited.clone(),
            updated_at: NOW,
            ..rule.clone()
        };
        let answer = written.clone();
        repo.expect_revise()
            .withf(move |_, i, expected, spec, at| {
                *i == id && *expected == 2 && *spec == want && *at == NOW
            })
            .times(1)
            .returning(move |_, _, _, _, _| Ok(Some(answer.clone())));
        let audit = auditor(1, |e| {
            assert_eq!(e.action, "rule.update");
            assert_eq!(e.before.as_ref().unwrap()["version"], json!(2));
            let after = e.after.as_ref().unwrap();
            assert_eq!(after["version"], json!(3));
            assert_eq!(
                after["action"],
                json!({"type": "BUDGET_DOWN", "percent": "10"})
            );
        });
        let uc = UpdateRule::new(Arc::new(repo), clock(), audit);
        let body = UpdateRuleInput {
            version: Some(2),
            spec: input(&edited),
        };
        assert_eq!(uc.execute(&a, rule.id, body).await, Ok(written));
    }

    #[tokio::test]
    async fn an_identical_spec_writes_and_audits_nothing() {
        let a = actor(Role::Owner);
        let rule = stored(&a, 4);
        let mut repo = repo_finding(&rule);
        repo.expect_revise().never();
        let uc = UpdateRule::new(Arc::new(repo), clock(), no_audit());
        let body = UpdateRuleInput {
            version: Some(4),
            spec: input(&RuleSpec::seed()),
        };
        assert_eq!(uc.execute(&a, rule.id, body).await, Ok(rule));
    }

    #[tokio::test]
    async fn an_edit_of_an_old_version_is_a_conflict_and_writes_nothing() {
        let a = actor(Role::Admin);
        let rule = stored(&a, 3);
        let mut repo = repo_finding(&rule);
        repo.expect_revise().never();
        let uc = UpdateRule::new(Arc::new(repo), clock(), no_audit());
        for stale in [2, 4] {
            let body = UpdateRuleInput {
                version: Some(stale),
                spec: input(&RuleSpec {
                    window_days: 9,
                    ..RuleSpec::seed()
                }),
            };
            let Err(AppError::Conflict { code, .. }) = uc.execute(&a, rule.id, body).await else {
                panic!("expected a conflict for version {stale}");
            };
            assert_eq!(code, VERSION_CONFLICT);
        }
    }

    #[tokio::test]
    async fn losing_a_race_to_another_edit_is_a_conflict() {
        let a = actor(Role::Admin);
        let rule = stored(&a, 1);
        let mut repo = repo_finding(&rule);
        repo.expect_revise()
            .times(1)
            .returning(|_, _, _, _, _| Err(RepoError::Conflict("version".to_owned())));
        let uc = UpdateRule::new(Arc::new(repo), clock(), no_audit());
        let body = UpdateRuleInput {
            version: Some(1),
            spec: input(&RuleSpec {
                enabled: false,
                ..RuleSpec::seed()
            }),
        };
        assert!(matches!(
            uc.execute(&a, rule.id, body).await,
            Err(AppError::Conflict {
                code: VERSION_CONFLICT,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn update_needs_the_version_and_a_valid_spec_reported_together() {
        let mut repo = MockRuleRepository::new();
        repo.expect_get().never();
        let uc = UpdateRule::new(Arc::new(repo), clock(), no_audit());
        let body = UpdateRuleInput {
            version: None,
            spec: RuleSpecInput {
                name: String::new(),
                ..input(&RuleSpec::seed())
            },
        };
        let Err(AppError::Validation(v)) = uc
            .execute(&actor(Role::Admin), RuleId::generate(), body)
            .await
        else {
            panic!("expected a validation error");
        };
        assert_eq!(v.fields.keys().collect::<Vec<_>>(), ["name", "version"]);
    }

    #[tokio::test]
    async fn updating_a_missing_rule_is_not_found() {
        let mut repo = MockRuleRepository::new();
        repo.expect_get().returning(|_, _| Ok(None));
        repo.expect_revise().never();
        let uc = UpdateRule::new(Arc::new(repo), clock(), no_audit());
        let body = UpdateRuleInput {
            version: Some(1),
            spec: input(&RuleSpec::seed()),
        };
        assert_eq!(
            uc.execute(&actor(Role::Admin), RuleId::generate(), body)
                .await,
            Err(AppError::NotFound(Resource::Rule))
        );
    }

    #[tokio::test]
    async fn delete_is_soft_stamped_now_and_audited_with_the_rule_before() {
        let a = actor(Role::Admin);
        let rule = stored(&a, 2);
        let mut repo = repo_finding(&rule);
        let id = rule.id;
        repo.expect_delete()
            .withf(move |_, i, at| *i == id && *at == NOW)
            .times(1)
            .returning(|_, _, _| Ok(true));
        let audit = auditor(1, |e| {
            assert_eq!(e.action, "rule.delete");
            assert_eq!(e.before.as_ref().unwrap()["version"], json!(2));
            assert_eq!(e.after, None);
        });
        let uc = DeleteRule::new(Arc::new(repo), clock(), audit);
        assert_eq!(uc.execute(&a, rule.id).await, Ok(()));
    }

    #[tokio::test]
    async fn deleting_a_missing_rule_is_not_found_and_audits_nothing() {
        let mut repo = MockRuleRepository::new();
        repo.expect_get().returning(|_, _| Ok(None));
        repo.expect_delete().never();
        let uc = DeleteRule::new(Arc::new(repo), clock(), no_audit());
        assert_eq!(
            uc.execute(&actor(Role::Owner), RuleId::generate()).await,
            Err(AppError::NotFound(Resource::Rule))
        );
    }
}
