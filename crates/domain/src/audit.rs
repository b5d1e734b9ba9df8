//! The audit log: who changed what, when, with the state before and after.
//! Append-only; written by use cases after each change they make.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::RepoError;
use crate::ids::{AuditEntryId, TenantId};
use crate::page::{Page, PageRequest};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: AuditEntryId,
    pub tenant_id: TenantId,
    pub at: OffsetDateTime,
    /// `"user:<id>"`, `"api_key:<id>"` or `"system"`.
    pub actor: String,
    /// e.g. `campaign.update`, `member.remove`, `api_key.create`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Which entries to list; every field left `None` matches everything. Text
/// fields match exactly; `from` and `to` bound `at` (both inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// `user:<id>`, `api_key:<id>` or `system`.
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AuditLogRepository: Send + Sync {
    /// # Errors
    /// Database failures.
    async fn append(&self, entry: &AuditEntry) -> Result<(), RepoError>;
    /// The tenant's entries that match `filter`, newest first.
    ///
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, RepoError>;
}
