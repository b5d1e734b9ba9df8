//! The ports rules and suggestions are kept through: the current spec of each
//! rule and every version it has had, so a suggestion can always be explained
//! by the exact spec that made it; and the suggestions rules made.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::spec::{Rule, RuleSpec};
use super::suggestion::{Suggestion, SuggestionStatus};
use crate::error::RepoError;
use crate::ids::{AdAccountId, RuleId, SuggestionId, TenantId, UserId};
use crate::notify::Alert;
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

/// An accepted suggestion a worker took to apply: the suggestion, the ad
/// account whose data made it, and which try this is (1 for the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyTask {
    pub suggestion: Suggestion,
    pub ad_account_id: AdAccountId,
    pub attempt: i32,
}

/// How one try at applying a suggestion ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyResult {
    /// The platform took the change: `APPLIED`.
    Applied,
    /// It cannot work (refused, token dead, out of tries): `FAILED` with the
    /// reason.
    Failed(String),
    /// Worth another try at `at` (throttled, platform down); stays
    /// `ACCEPTED` with `error` shown as its last failure.
    RetryAt { at: OffsetDateTime, error: String },
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
    /// window supersedes them. When stored, `alert` (the suggestion's
    /// `SuggestionCreated` alert) goes into the alert outbox in the same
    /// transaction, fanned out to the tenant's matching channels; when not,
    /// neither is.
    ///
    /// # Errors
    /// `MissingReference("rule_id")` for a rule or ad account not in the
    /// suggestion's tenant; nothing is written then.
    async fn insert_if_new(
        &self,
        account: AdAccountId,
        s: &Suggestion,
        alert: &Alert,
    ) -> Result<bool, RepoError>;

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

    /// Accepts a pending suggestion: `ACCEPTED`, decided by `by` (`None`
    /// for a rule in auto-apply mode) at `at`, and due to be applied at
    /// once. `None` when it is missing or another tenant's.
    ///
    /// # Errors
    /// `Conflict("status")` when it is no longer pending; nothing changes.
    async fn accept(
        &self,
        t: TenantId,
        id: SuggestionId,
        by: Option<UserId>,
        at: OffsetDateTime,
    ) -> Result<Option<Suggestion>, RepoError>;

    /// Takes up to `limit` accepted suggestions of any tenant that are due
    /// (`now` or earlier), oldest due first, and holds each until
    /// `hold_until` (another worker skips it meanwhile; if this one dies it
    /// is taken again then), counting the try.
    ///
    /// # Errors
    /// Database failures.
    async fn take_due(
        &self,
        now: OffsetDateTime,
        hold_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ApplyTask>, RepoError>;

    /// Records how a try ended (see [`ApplyResult`]) on a suggestion that is
    /// still accepted, and writes `alert` (applied, failed) in the same
    /// transaction. `None` when it is missing, another tenant's or no longer
    /// accepted (another worker finished it first); nothing is written then.
    ///
    /// # Errors
    /// Database failures.
    async fn finish_apply(
        &self,
        t: TenantId,
        id: SuggestionId,
        result: &ApplyResult,
        at: OffsetDateTime,
        alert: Option<Alert>,
    ) -> Result<Option<Suggestion>, RepoError>;
}
