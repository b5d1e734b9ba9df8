//! The audit log on [`Db`]: append-only, listed newest first per tenant,
//! filtered by entity, actor, action and time.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::RepoError;
use domain::TenantId;
use domain::audit::{AuditEntry, AuditFilter, AuditLogRepository};
use domain::page::{Page, PageRequest};

use super::Db;
use super::error::DbError;
use super::rows::AuditRow;
use super::types::{DbId, DbJson, db_id};

#[async_trait]
impl AuditLogRepository for Db {
    async fn append(&self, entry: &AuditEntry) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(audit_log::table)
                .values((
                    audit_log::id.eq(db_id(entry.id)),
                    audit_log::tenant_id.eq(db_id(entry.tenant_id)),
                    audit_log::at.eq(entry.at),
                    audit_log::actor.eq(&entry.actor),
                    audit_log::action.eq(&entry.action),
                    audit_log::entity_type.eq(&entry.entity_type),
                    audit_log::entity_id.eq(&entry.entity_id),
                    audit_log::before.eq(entry.before.clone().map(DbJson)),
                    audit_log::after.eq(entry.after.clone().map(DbJson)),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("tenant_id"))?;
            Ok(())
        })
    }

    async fn list(
        &self,
        t: TenantId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, RepoError> {
        let entries: Vec<AuditEntry> = on_db!(&self.pool, |c| {
            let mut q = audit_log::table
                .filter(audit_log::tenant_id.eq(db_id(t)))
                .into_boxed();
            if let Some(v) = &filter.entity_type {
                q = q.filter(audit_log::entity_type.eq(v));
            }
            if let Some(v) = &filter.entity_id {
                q = q.filter(audit_log::entity_id.eq(v));
            }
            if let Some(v) = &filter.actor {
                q = q.filter(audit_log::actor.eq(v));
            }
            if let Some(v) = &filter.action {
                q = q.filter(audit_log::action.eq(v));
            }
            if let Some(v) = filter.from {
                q = q.filter(audit_log::at.ge(v));
            }
            if let Some(v) = filter.to {
                q = q.filter(audit_log::at.le(v));
            }
            if let Some(after) = page.after() {
                q = q.filter(audit_log::id.lt(DbId(after)));
            }
            let rows = q
                .order(audit_log::id.desc())
                .limit(page.fetch_limit())
                .load::<AuditRow>(c)
                .await?;
            Ok(rows.into_iter().map(AuditEntry::from).collect())
        })?;
        Ok(page.into_page(entries, |e| e.id.into_uuid()))
    }
}
