//! Writes audit entries for the changes use cases make. An audit write that
//! fails is logged and does not undo the change it describes (the outbox of
//! the analysis issue makes the pair atomic where it matters).

use std::sync::Arc;

use domain::AuditEntryId;
use domain::audit::{AuditEntry, AuditLogRepository};
use domain::identity::Actor;
use domain::platform::Clock;

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
        let entry = AuditEntry {
            id: AuditEntryId::generate(),
            tenant_id: actor.tenant_id,
            at: self.clock.now(),
            actor: actor.label(),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_owned(),
            before,
            after,
        };
        if let Err(e) = self.repo.append(&entry).await {
            tracing::error!(error = %e, action, entity_id, "audit entry not written");
        }
    }
}
