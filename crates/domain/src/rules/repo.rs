//! The ports rules and suggestions are kept through: the current spec of each
//! rule and every version it has had, so a suggestion can always be explained
//! by the exact spec that made it; and the suggestions rules made.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::spec::{Rule, RuleSpec};
use super::suggestion::{Suggestion, SuggestionStatus};
use crate::error::RepoError;
use crate::ids::{AdAccountId, RuleId, SuggestionId, TenantId, UserId};
use crate::page::{Page, PageRequest};

/// A tenant's rules. Deleting a rule hides it (it is no longer read, listed
/// or revised) but keeps its versions for the suggestions that name them.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RuleRepository: Send + Sync {
    /// Stores a new rule and its current spec as version `rule.version`.
    ///
    /// # Errors
    /// `MissingReference("tenant_id")` for an unknown tenant; `Conflict("id")`
    /// for an id already taken.
    async fn create(&self, rule: &Rule) -> Result<(), RepoError>;

    /// The rule, or `None` when it is missing, deleted or another tenant's.
    ///
    /// # Errors
    /// Database failures.
    async fn get(&self, t: TenantId, id: RuleId) -> Result<Option<Rule>, RepoError>;

    /// The tenant's rules that are not deleted, newest first.
    ///
    /// # Errors
    /// Database failures.
    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Rule>, RepoError>;

    /// Replaces the spec of the rule at version `expected` with `spec` as
    /// version `expected + 1` (stamped `at`), keeping the old version. Writes
    /// whatever it is given: deciding that a spec changed is the caller's.
    /// `None` when the rule is missing, deleted or another tenant's.
    ///
    /// # Errors
    /// `Conflict("version")` when the rule is no longer at `expected` (someone
    /// revised it first); nothing is written then.
    async fn revise(
        &self,
        t: TenantId,
        id: RuleId,
        expected: i32,
        spec: &RuleSpec,
        at: OffsetDateTime,
    ) -> Result<Option<Rule>, RepoError>;

    /// Marks the rule deleted at `at`; its versions stay. `false` when it is
    /// missing, already deleted or another tenant's.
    ///
    /// # Errors
    /// Database failures.
    async fn delete(&self, t: TenantId, id: RuleId, at: OffsetDateTime) -> Result<bool, RepoError>;

    /// The spec of one version of the rule, deleted or not (a suggestion made
    /// by it still shows what it was). `None` when there is no such version
    /// in this tenant.
    ///
    /// # Errors
    /// Database failures.
    async fn version(
        &self,
        t: TenantId,
        id: RuleId,
        version: i32,
    ) -> Result<Option<RuleSpec>, RepoError>;
}

/// A tenant's suggestions. At most one exists per rule, entity and window,
/// whatever its state: a rejected suggestion is not made again for the same
/// window, and evaluating twice on the same day inserts nothing new.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SuggestionRepository: Send + Sync {
    /// Stores `s` (made from data of ad account `account`) unless a
    /// suggestion of the same rule, entity and window exists; `true` when it
    /// was stored. Storing it expires, in the same transaction, the pending
    /// suggestions of the same rule and entity for earlier windows: the newer
    /// window supersedes them.
    ///
    /// # Errors
    /// `MissingReference("rule_id")` for a rule or ad account not in the
    /// suggestion's tenant; nothing is written then.
    async fn insert_if_new(&self, account: AdAccountId, s: &Suggestion) -> Result<bool, RepoError>;

    /// The suggestion, or `None` when it is missing or another tenant's.
    ///
    /// # Errors
    /// Database failures.
    async fn get(&self, t: TenantId, id: SuggestionId) -> Result<Option<Suggestion>, RepoError>;

    /// The tenant's suggestions, newest first, only those in `status` when
    /// given.
    ///
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        status: Option<SuggestionStatus>,
        page: PageRequest,
    ) -> Result<Page<Suggestion>, RepoError>;

    /// Rejects a pending suggestion: `REJECTED`, decided by `by` at `at`,
    /// keeping `reason`. Returns the updated suggestion; `None` when it is
    /// missing or another tenant's.
    ///
    /// # Errors
    /// `Conflict("status")` when the suggestion may not become `REJECTED`
    /// ([`SuggestionStatus::can_become`]); nothing changes then.
    async fn reject(
        &self,
        t: TenantId,
        id: SuggestionId,
        by: UserId,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<Option<Suggestion>, RepoError>;
}
