//! Audit log DTOs: `{id, at, actor, action, entity: {type, id}, before,
//! after}`, and the list's filters.

use domain::audit::AuditEntry;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::timestamp;

/// What an entry is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntityDto {
    /// e.g. `campaign`, `suggestion`, `rule`, `member`, `api_key`.
    #[serde(rename = "type")]
    #[schema(example = "campaign")]
    pub entity_type: String,
    #[schema(example = "0193a0c4-6a80-7cc1-9a3c-2f4f3c1d0b11")]
    pub id: String,
}

/// One change: who made it, to what, and the state before and after.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryDto {
    pub id: Uuid,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// `user:<id>`, `api_key:<id>` or `system` (scheduled jobs, auto-apply).
    #[schema(example = "user:0193a0c4-6a80-7cc1-9a3c-2f4f3c1d0b11")]
    pub actor: String,
    #[schema(example = "suggestion.apply")]
    pub action: String,
    pub entity: AuditEntityDto,
    /// The entity before the change; `null` for a creation.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The entity after the change; `null` for a deletion.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditEntryDto {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id.into_uuid(),
            at: e.at,
            actor: e.actor,
            action: e.action,
            entity: AuditEntityDto {
                entity_type: e.entity_type,
                id: e.entity_id,
            },
            before: e.before,
            after: e.after,
        }
    }
}

/// `?entity_type&entity_id&actor&action&from&to&limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    /// Only entries about this kind of entity (`campaign`, `suggestion`, …).
    pub entity_type: Option<String>,
    /// Only entries about this entity.
    pub entity_id: Option<String>,
    /// Only entries by this actor: a user id, or `user:<id>`, `api_key:<id>`, `system`.
    pub actor: Option<String>,
    /// Only this action (e.g. `suggestion.apply`).
    pub action: Option<String>,
    /// From this instant (RFC 3339) or day (`YYYY-MM-DD`, from its start, UTC).
    pub from: Option<String>,
    /// Up to this instant (RFC 3339) or day (`YYYY-MM-DD`, to its end, UTC).
    pub to: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
