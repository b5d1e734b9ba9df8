//! The port rules are kept through: the current spec of each rule and every
//! version it has had, so a suggestion can always be explained by the exact
//! spec that made it.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::spec::{Rule, RuleSpec};
use crate::error::RepoError;
use crate::ids::{RuleId, TenantId};
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
