//! Reading alerts with their delivery state per channel (any member).

use std::sync::Arc;

use domain::identity::{Actor, Permission};
use domain::notify::{AlertFilter, AlertOutbox, AlertRecord};
use domain::page::{Page, PageRequest};
use uuid::Uuid;

use crate::error::require;
use crate::{AppError, Resource};

/// The tenant's alerts, newest first, optionally of one kind or with a
/// delivery in one state (`FAILED` shows what did not arrive).
pub struct ListAlerts {
    outbox: Arc<dyn AlertOutbox>,
}

impl ListAlerts {
    #[must_use]
    pub fn new(outbox: Arc<dyn AlertOutbox>) -> Self {
        Self { outbox }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        filter: AlertFilter,
        page: PageRequest,
    ) -> Result<Page<AlertRecord>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.outbox.list(actor.tenant_id, filter, page).await?)
    }
}

/// One alert with each channel's delivery status, attempts and last error.
pub struct GetAlert {
    outbox: Arc<dyn AlertOutbox>,
}

impl GetAlert {
    #[must_use]
    pub fn new(outbox: Arc<dyn AlertOutbox>) -> Self {
        Self { outbox }
    }

    /// # Errors
    /// 404 for a missing or foreign id.
    pub async fn execute(&self, actor: &Actor, id: Uuid) -> Result<AlertRecord, AppError> {
        require(actor, Permission::Read)?;
        self.outbox
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Alert))
    }
}
