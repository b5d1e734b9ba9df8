//! Writes audit entries for the changes use cases make. An audit write that
//! fails is logged and does not undo the change it describes (the outbox of
//! the analysis issue makes the pair atomic where it matters).

use std::sync::Arc;

use domain::audit::{AuditEntry, AuditFilter, AuditLogRepository};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use domain::{AuditEntryId, TenantId};

use crate::AppError;
use crate::error::require;

/// Shared by every use case that changes data.
#[derive(Clone)]
pub struct Auditor {
    repo: Arc<dyn AuditLogRepository>,
    clock: Arc<dyn Clock>,
}

impl Auditor {
    #[must_use]
    pub fn new(repo: Arc<dyn AuditLogRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, clock }
    }

    /// Records `action` on `entity_type`/`entity_id` by `actor`.
    pub async fn record(
        &self,
        actor: &Actor,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) {
        let change = Change {
            action,
            entity_type,
            entity_id,
            before,
            after,
        };
        self.append(actor.tenant_id, actor.label(), change).await;
    }

    /// Records an action the system took on its own (actor `system`), e.g.
    /// marking an account whose token expired.
    pub async fn record_system(
        &self,
        tenant: TenantId,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) {
        let change = Change {
            action,
            entity_type,
            entity_id,
            before,
            after,
        };
        self.append(tenant, "system".to_owned(), change).await;
    }

    /// Records an action a job took on someone's behalf: `actor` is their
    /// [`domain::identity::Principal::label`] (`system` when nobody asked).
    pub async fn record_for(&self, tenant: TenantId, actor: String, change: Change<'_>) {
        self.append(tenant, actor, change).await;
    }

    async fn append(&self, tenant_id: TenantId, actor: String, c: Change<'_>) {
        let entry = AuditEntry {
            id: AuditEntryId::generate(),
            tenant_id,
            at: self.clock.now(),
            actor,
            action: c.action.to_owned(),
            entity_type: c.entity_type.to_owned(),
            entity_id: c.entity_id.to_owned(),
            before: c.before,
            after: c.after,
        };
        if let Err(e) = self.repo.append(&entry).await {
            tracing::error!(error = %e, action = c.action, entity_id = c.entity_id, "audit entry not written");
        }
    }
}

/// One audited change.
pub struct Change<'a> {
    /// e.g. `campaign.update`.
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Reads the audit log (admins and owners: it shows who did what to
/// everything, members and keys included).
pub struct ListAuditLog {
    repo: Arc<dyn AuditLogRepository>,
}

impl ListAuditLog {
    #[must_use]
    pub fn new(repo: Arc<dyn AuditLogRepository>) -> Self {
        Self { repo }
    }

    /// The tenant's entries matching `filter`, newest first.
    ///
    /// # Errors
    /// Forbidden below admin; validation when `from` is after `to`.
    pub async fn execute(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AppError> {
        require(actor, Permission::Write)?;
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(ValidationError::new("from", "must not be after to").into());
        }
        Ok(self.repo.list(actor.tenant_id, &filter, page).await?)
    }
}
