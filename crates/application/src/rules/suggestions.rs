//! Reading and deciding the suggestions rules made. Any member reads;
//! admins and owners accept or reject (audited with the suggestion before
//! and after). Applying an accepted one is the apply job's (`apply.rs`).

use std::sync::Arc;

use domain::error::ValidationError;
use domain::identity::{Actor, Permission, Principal};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use domain::rules::{Suggestion, SuggestionRepository, SuggestionStatus};
use domain::{RepoError, SuggestionId};
use serde_json::{Value, json};

use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

/// The longest reject reason kept, in characters.
pub const MAX_REJECT_REASON_CHARS: usize = 500;

/// The tenant's suggestions, newest first, optionally of one status.
pub struct ListSuggestions {
    repo: Arc<dyn SuggestionRepository>,
}

impl ListSuggestions {
    #[must_use]
    pub fn new(repo: Arc<dyn SuggestionRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        status: Option<SuggestionStatus>,
        page: PageRequest,
    ) -> Result<Page<Suggestion>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.repo.list(actor.tenant_id, status, page).await?)
    }
}

/// One suggestion (any member).
pub struct GetSuggestion {
    repo: Arc<dyn SuggestionRepository>,
}

impl GetSuggestion {
    #[must_use]
    pub fn new(repo: Arc<dyn SuggestionRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// 404 for a missing or foreign id.
    pub async fn execute(&self, actor: &Actor, id: SuggestionId) -> Result<Suggestion, AppError> {
        require(actor, Permission::Read)?;
        self.repo
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Suggestion))
    }
}

fn audit_json(s: &Suggestion, reason: Option<&str>) -> Value {
    let mut v = json!({
        "rule_id": s.rule_id.to_string(),
        "rule_version": s.rule_version,
        "entity_id": s.entity_id.to_string(),
        "action": s.action.kind_str(),
        "status": s.status.as_str(),
    });
    if let (Some(r), Some(o)) = (reason, v.as_object_mut()) {
        o.insert("reject_reason".to_owned(), json!(r));
    }
    v
}

/// A person's decision on a pending suggestion.
enum Decision<'a> {
    Accept,
    Reject(&'a str),
}

/// Shared by accepting and rejecting: who may decide, the 404 and 409, and
/// the audit entry with the suggestion before and after.
#[derive(Clone)]
struct Decider {
    repo: Arc<dyn SuggestionRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl Decider {
    async fn decide(
        &self,
        actor: &Actor,
        id: SuggestionId,
        decision: Decision<'_>,
    ) -> Result<Suggestion, AppError> {
        let Principal::User(user) = actor.principal else {
            return Err(AppError::Forbidden);
        };
        let t = actor.tenant_id;
        let before = self
            .repo
            .get(t, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Suggestion))?;
        let now = self.clock.now();
        let (decided, action, reason) = match decision {
            Decision::Accept => (
                self.repo.accept(t, id, Some(user), now).await,
                "suggestion.accept",
                None,
            ),
            Decision::Reject(r) => (
                self.repo.reject(t, id, user, r, now).await,
                "suggestion.reject",
                Some(r),
            ),
        };
        let after = match decided {
            Ok(Some(s)) => s,
            Ok(None) => return Err(AppError::NotFound(Resource::Suggestion)),
            Err(RepoError::Conflict(_)) => {
                return Err(AppError::conflict(
                    "SUGGESTION_NOT_PENDING",
                    "only a pending suggestion can be accepted or rejected",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        self.audit
            .record(
                actor,
                action,
                "suggestion",
                &id.to_string(),
                Some(audit_json(&before, None)),
                Some(audit_json(&after, reason)),
            )
            .await;
        Ok(after)
    }
}

/// Accepts a pending suggestion (admins and up, signed in as a person): it
/// becomes `ACCEPTED` and the apply job makes the change on the platform
/// shortly after (`APPLIED` or `FAILED`). Accepting twice is refused, so a
/// change is never made twice.
pub struct AcceptSuggestion {
    decider: Decider,
}

impl AcceptSuggestion {
    #[must_use]
    pub fn new(repo: Arc<dyn SuggestionRepository>, clock: Arc<dyn Clock>, audit: Auditor) -> Self {
        Self {
            decider: Decider { repo, clock, audit },
        }
    }

    /// # Errors
    /// Forbidden below admin and for API keys without a user; 404 for a
    /// missing or foreign id; 409 `SUGGESTION_NOT_PENDING` when it is no
    /// longer pending (already accepted, applied, rejected or expired).
    pub async fn execute(&self, actor: &Actor, id: SuggestionId) -> Result<Suggestion, AppError> {
        require(actor, Permission::Write)?;
        self.decider.decide(actor, id, Decision::Accept).await
    }
}

/// Rejects a pending suggestion with a reason (admins and up). A rejected
/// suggestion is not made again for the same window.
pub struct RejectSuggestion {
    decider: Decider,
}

impl RejectSuggestion {
    #[must_use]
    pub fn new(repo: Arc<dyn SuggestionRepository>, clock: Arc<dyn Clock>, audit: Auditor) -> Self {
        Self {
            decider: Decider { repo, clock, audit },
        }
    }

    /// # Errors
    /// Forbidden below admin and for API keys without a user; validation (a
    /// missing, blank or too long `reason`); 404 for a missing or foreign
    /// id; 409 `SUGGESTION_NOT_PENDING` when it is no longer pending.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: SuggestionId,
        reason: Option<String>,
    ) -> Result<Suggestion, AppError> {
        require(actor, Permission::Write)?;
        let reason = reason.map(|r| r.trim().to_owned()).unwrap_or_default();
        if reason.is_empty() {
            return Err(ValidationError::new("reason", "is required").into());
        }
        if reason.chars().count() > MAX_REJECT_REASON_CHARS {
            return Err(ValidationError::new(
                "reason",
                &format!("must be at most {MAX_REJECT_REASON_CHARS} characters"),
            )
            .into());
        }
        self.decider
            .decide(actor, id, Decision::Reject(&reason))
            .await
    }
}
