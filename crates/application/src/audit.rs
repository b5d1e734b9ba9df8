//! Writes audit entries for the changes use cases make. An audit write that
//! fails is logged and does not undo the change it describes (the outbox of
//! the analysis issue makes the pair atomic where it matters).

use std::sync::Arc;

use domain::audit::{AuditEntry, AuditLogRepository};
use domain::identity::Actor;
use domain::platform::Clock;
use domain::{AuditEntryId, TenantId};

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
struct Change<'a> {
    action: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}
