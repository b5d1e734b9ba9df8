//! Applying accepted suggestions through the ad platform: the apply job,
//! for campaigns, ad sets and ads alike.
//!
//! An `ACCEPTED` suggestion is the job's queue entry (durable in the
//! database, so nothing is lost when a process dies). Each step takes the due
//! ones, makes the change on the platform (pause the entity, set its daily
//! budget in the account's currency) and records the outcome: `APPLIED`
//! (the silver row follows, and the audit log gets the entity before and
//! after, with the person who accepted), a retry later for a
//! throttled or unreachable platform, or `FAILED` with a reason people can
//! act on.
//!
//! Applying is idempotent: a suggestion leaves `ACCEPTED` once; the platform
//! calls set absolute values (a status, a budget), so a step repeated after a
//! crash sets the same value again; a pause of an entity already paused
//! calls nothing; and a budget that moved since the suggestion was made is
//! not overwritten (the suggestion fails and the next evaluation proposes
//! from the new figure).

use std::sync::Arc;
use std::time::Duration;

use domain::ads::{
    Ad, AdPatch, AdRepository, AdSet, AdSetPatch, AdSetRepository, Campaign, CampaignPatch,
    CampaignRepository, EntityStatus,
};
use domain::identity::Principal;
use domain::ingestion::PlatformError;
use domain::notify::Alert;
use domain::rules::{
    ApplyResult, ApplyTask, Proposal, RuleLevel, RuleRepository, Suggestion, SuggestionRepository,
};
use domain::{AdId, AdSetId, CampaignId, RepoError, TenantId};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tracing::{info, instrument, warn};
use uuid::Uuid;

use crate::AppError;
use crate::audit::Change;
use crate::ingestion::sync::{IngestionPorts, Stop};

/// Tunables of the apply job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplySettings {
    /// How long a worker holds a suggestion it took (another takes it after).
    pub hold: Duration,
    /// Tries before a retryable failure becomes `FAILED`.
    pub max_attempts: i32,
    /// First retry delay; doubles each try, capped at `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Suggestions taken per step.
    pub batch: u32,
}

impl Default for ApplySettings {
    fn default() -> Self {
        Self {
            hold: Duration::from_secs(120),
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(15 * 60),
            batch: 20,
        }
    }
}

impl ApplySettings {
    /// The wait before try `attempt + 1`: `retry_base × 2^(attempt − 1)`,
    /// at most `retry_max`.
    #[must_use]
    pub fn backoff(&self, attempt: i32) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(16);
        self.retry_base
            .saturating_mul(1 << doublings)
            .min(self.retry_max)
    }
}

/// The apply job's step (see the module docs).
pub struct ApplySuggestions {
    suggestions: Arc<dyn SuggestionRepository>,
    rules: Arc<dyn RuleRepository>,
    entities: Entities,
    ingestion: Arc<IngestionPorts>,
    settings: ApplySettings,
}

/// Where campaigns, ad sets and ads are kept, read and updated alike.
pub struct Entities {
    pub campaigns: Arc<dyn CampaignRepository>,
    pub ad_sets: Arc<dyn AdSetRepository>,
    pub ads: Arc<dyn AdRepository>,
}

/// What applying needs of an entity at any level.
#[derive(Clone)]
struct Entity {
    status: EntityStatus,
    /// `None` for ads, and for entities whose budget is lifetime or at the
    /// other level.
    daily_budget: Option<Decimal>,
    external_id: Option<String>,
}

/// A change to make: a status, or a daily budget.
#[derive(Clone, Copy)]
enum Edit {
    Status(EntityStatus),
    DailyBudget(Decimal),
}

impl From<Campaign> for Entity {
    fn from(c: Campaign) -> Self {
        Self {
            status: c.status,
            daily_budget: c.daily_budget,
            external_id: c.external_id,
        }
    }
}

impl From<AdSet> for Entity {
    fn from(s: AdSet) -> Self {
        Self {
            status: s.status,
            daily_budget: s.daily_budget,
            external_id: s.external_id,
        }
    }
}

impl From<Ad> for Entity {
    fn from(a: Ad) -> Self {
        Self {
            status: a.status,
            daily_budget: None,
            external_id: a.external_id,
        }
    }
}

impl Entity {
    /// The entity once `change` is made.
    fn edited(&self, change: Edit) -> Self {
        let mut e = self.clone();
        match change {
            Edit::Status(s) => e.status = s,
            Edit::DailyBudget(b) => e.daily_budget = Some(b),
        }
        e
    }
}

impl Entities {
    async fn find(
        &self,
        t: TenantId,
        level: RuleLevel,
        id: Uuid,
    ) -> Result<Option<Entity>, RepoError> {
        Ok(match level {
            RuleLevel::Campaign => self
                .campaigns
                .find(t, CampaignId::from_uuid(id))
                .await?
                .map(Entity::from),
            RuleLevel::AdSet => self
                .ad_sets
                .find(t, AdSetId::from_uuid(id))
                .await?
                .map(Entity::from),
            RuleLevel::Ad => self
                .ads
                .find(t, AdId::from_uuid(id))
                .await?
                .map(Entity::from),
        })
    }

    /// Writes what the platform took into the silver row; the row as
    /// written.
    async fn update(
        &self,
        t: TenantId,
        level: RuleLevel,
        id: Uuid,
        change: Edit,
        at: time::OffsetDateTime,
    ) -> Result<Option<Entity>, RepoError> {
        let (status, budget) = match change {
            Edit::Status(s) => (Some(s), None),
            Edit::DailyBudget(b) => (None, Some(Some(b))),
        };
        Ok(match level {
            RuleLevel::Campaign => {
                let patch = CampaignPatch {
                    status,
                    daily_budget: budget,
                    ..CampaignPatch::default()
                };
                self.campaigns
                    .update(t, CampaignId::from_uuid(id), &patch, at)
                    .await?
                    .map(Entity::from)
            }
            RuleLevel::AdSet => {
                let patch = AdSetPatch {
                    status,
                    daily_budget: budget,
                    ..AdSetPatch::default()
                };
                self.ad_sets
                    .update(t, AdSetId::from_uuid(id), &patch, at)
                    .await?
                    .map(Entity::from)
            }
            RuleLevel::Ad => {
                let patch = AdPatch {
                    status,
                    ..AdPatch::default()
                };
                self.ads
                    .update(t, AdId::from_uuid(id), &patch, at)
                    .await?
                    .map(Entity::from)
            }
        })
    }
}

/// What one try did to the entity: the audit entry's before and after.
struct Applied {
    before: Value,
    after: Value,
}

/// How one try ended, before it is recorded.
enum Tried {
    Applied(Applied),
    Failed(String),
    Retry(String),
}

fn entity_json(e: &Entity) -> Value {
    json!({
        "status": e.status.as_str(),
        "daily_budget": e.daily_budget.map(|b| b.to_string()),
    })
}

impl ApplySuggestions {
    #[must_use]
    pub fn new(
        suggestions: Arc<dyn SuggestionRepository>,
        rules: Arc<dyn RuleRepository>,
        entities: Entities,
        ingestion: Arc<IngestionPorts>,
        settings: ApplySettings,
    ) -> Self {
        Self {
            suggestions,
            rules,
            entities,
            ingestion,
            settings,
        }
    }

    /// Applies the suggestions due now; returns how many it took.
    ///
    /// # Errors
    /// The database failed while taking or recording them (the ones taken
    /// and not recorded are taken again when their hold ends).
    #[instrument(skip_all)]
    pub async fn run_once(&self) -> Result<usize, AppError> {
        let clock = &self.ingestion.clock;
        let now = clock.now();
        let hold = time::Duration::try_from(self.settings.hold)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let tasks = self
            .suggestions
            .take_due(now, now + hold, self.settings.batch)
            .await?;
        let taken = tasks.len();
        for task in tasks {
            self.apply(task).await?;
        }
        Ok(taken)
    }

    /// One try at one suggestion, recorded.
    #[instrument(skip_all, fields(suggestion_id = %task.suggestion.id, attempt = task.attempt))]
    async fn apply(&self, task: ApplyTask) -> Result<(), AppError> {
        let s = &task.suggestion;
        let t = s.tenant_id;
        let tried = self.try_apply(&task).await;
        let now = self.ingestion.clock.now();
        let result = match &tried {
            Tried::Applied(_) => ApplyResult::Applied,
            Tried::Failed(why) => ApplyResult::Failed(why.clone()),
            Tried::Retry(why) if task.attempt >= self.settings.max_attempts => {
                ApplyResult::Failed(format!("gave up after {} tries: {why}", task.attempt))
            }
            Tried::Retry(why) => {
                let wait = time::Duration::try_from(self.settings.backoff(task.attempt))
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                ApplyResult::RetryAt {
                    at: now + wait,
                    error: why.clone(),
                }
            }
        };
        let alert = match &result {
            ApplyResult::Applied => Some(Alert::action_applied(s, &self.rule_name(s).await, now)),
            ApplyResult::Failed(why) => {
                Some(Alert::action_failed(s, &self.rule_name(s).await, why, now))
            }
            ApplyResult::RetryAt { .. } => None,
        };
        if self
            .suggestions
            .finish_apply(t, s.id, &result, now, alert)
            .await?
            .is_none()
        {
            // Someone else recorded it first (a duplicate take after a hold ran out).
            return Ok(());
        }
        // Who asked: the person who accepted, or nobody (auto-apply).
        let actor = s
            .decided_by
            .map_or(Principal::System, Principal::User)
            .label();
        let entity_id = s.entity_id.to_string();
        let record = |action, before, after| {
            self.ingestion.audit.record_for(
                t,
                actor.clone(),
                Change {
                    action,
                    entity_type: s.level.as_str(),
                    entity_id: &entity_id,
                    before,
                    after,
                },
            )
        };
        let context = json!({
            "suggestion_id": s.id.to_string(),
            "rule_id": s.rule_id.to_string(),
            "rule_version": s.rule_version,
            "action": s.action.kind_str(),
        });
        match (result, tried) {
            (ApplyResult::Applied, Tried::Applied(change)) => {
                info!("suggestion applied");
                let mut after = change.after;
                if let (Some(o), Some(c)) = (after.as_object_mut(), context.as_object()) {
                    o.extend(c.clone());
                }
                record("suggestion.apply", Some(change.before), Some(after)).await;
            }
            (ApplyResult::Failed(why), _) => {
                warn!(reason = %why, "suggestion not applied");
                let mut after = context;
                if let Some(o) = after.as_object_mut() {
                    o.insert("error".to_owned(), json!(why));
                }
                record("suggestion.apply_failed", None, Some(after)).await;
            }
            (ApplyResult::RetryAt { at, error }, _) => {
                warn!(reason = %error, retry_at = %at, "suggestion not applied yet; will retry");
            }
            (ApplyResult::Applied, _) => {}
        }
        Ok(())
    }

    /// The name of the rule version that made `s`, for its alert.
    async fn rule_name(&self, s: &Suggestion) -> String {
        match self
            .rules
            .version(s.tenant_id, s.rule_id, s.rule_version)
            .await
        {
            Ok(Some(spec)) => spec.name,
            Ok(None) | Err(_) => "(deleted rule)".to_owned(),
        }
    }

    /// Makes the change on the platform, unless it cannot or need not be made.
    async fn try_apply(&self, task: &ApplyTask) -> Tried {
        let s = &task.suggestion;
        let (t, level, id) = (s.tenant_id, s.level, s.entity_id);
        let what = level.as_str().replace('_', " ");
        let entity = match self.entities.find(t, level, id).await {
            Ok(Some(e)) => e,
            Ok(None) => return Tried::Failed(format!("the {what} no longer exists")),
            Err(e) => return stopped(&Stop::from(e)),
        };
        let before = entity_json(&entity);
        let unchanged = |before: Value| {
            Tried::Applied(Applied {
                after: before.clone(),
                before,
            })
        };
        let change = match s.proposal {
            // Nothing to change: accepting acknowledges it.
            Proposal::Notify => return unchanged(before),
            Proposal::Pause if entity.status == EntityStatus::Paused => return unchanged(before),
            Proposal::Pause => Edit::Status(EntityStatus::Paused),
            Proposal::Budget { from, to } => {
                if entity.daily_budget != Some(from) {
                    let now = entity
                        .daily_budget
                        .map_or_else(|| "none".to_owned(), |b| b.to_string());
                    return Tried::Failed(format!(
                        "the daily budget changed since the suggestion was made \
                         (was {from}, now {now}); the next evaluation proposes from the new figure"
                    ));
                }
                Edit::DailyBudget(to)
            }
        };
        let Some(external_id) = entity.external_id.as_deref() else {
            return Tried::Failed(format!(
                "the {what} is not linked to the ad platform (it has no external_id)"
            ));
        };
        let (_, account) = match self.ingestion.connect(t, task.ad_account_id).await {
            Ok(a) => a,
            Err(stop) => return stopped(&stop),
        };
        let platform = &self.ingestion.platform;
        let called = match change {
            Edit::Status(status) => platform.set_status(&account, external_id, status).await,
            Edit::DailyBudget(amount) => {
                platform
                    .set_daily_budget(&account, external_id, amount)
                    .await
            }
        };
        if let Err(e) = called {
            if e == PlatformError::AuthExpired {
                self.ingestion.needs_reauth(t, task.ad_account_id).await;
            }
            return stopped(&Stop::Platform(e));
        }
        // The platform took it; silver follows now rather than at the next sync.
        let now = self.ingestion.clock.now();
        let after = match self.entities.update(t, level, id, change, now).await {
            Ok(Some(e)) => entity_json(&e),
            Ok(None) | Err(_) => {
                warn!("the silver row could not be updated; the next sync will");
                entity_json(&entity.edited(change))
            }
        };
        self.ingestion.invalidate(t).await;
        Tried::Applied(Applied { before, after })
    }
}

/// A try stopped by the platform, the database or the account's setup.
fn stopped(stop: &Stop) -> Tried {
    if stop.retryable() {
        Tried::Retry(stop.reason())
    } else {
        Tried::Failed(stop.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let s = ApplySettings {
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(300),
            ..ApplySettings::default()
        };
        let waits: Vec<u64> = (1..=6).map(|a| s.backoff(a).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
        assert_eq!(s.backoff(0).as_secs(), 30, "no try counted yet");
        assert_eq!(s.backoff(i32::MAX).as_secs(), 300);
    }
}
