//! Notification channels on [`Db`]: the sealed target as bytes (sealed and
//! opened by the caller), the redacted display beside it, the filter as a
//! JSON array of alert kinds and an optional minimum severity. Deleting only
//! sets `deleted_at`, so past deliveries keep naming the channel.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::notify::{ChannelId, ChannelKind, NotificationChannel, NotificationChannelRepository};
use domain::page::{Page, PageRequest};
use domain::{RepoError, TenantId};
use serde_json::Value;
use time::OffsetDateTime;

use super::Db;
use super::alerts::filter_of;
use super::error::DbError;
use super::types::{DbId, DbJson, db_id};

macro_rules! channel_columns {
    () => {
        (
            notification_channels::id,
            notification_channels::tenant_id,
            notification_channels::name,
            notification_channels::kind,
            notification_channels::target_display,
            notification_channels::events,
            notification_channels::min_severity,
            notification_channels::enabled,
            notification_channels::created_at,
            notification_channels::updated_at,
        )
    };
}

#[derive(Debug, Queryable)]
struct ChannelRow {
    id: DbId,
    tenant_id: DbId,
    name: String,
    kind: String,
    display: String,
    events: DbJson,
    min_severity: Option<String>,
    enabled: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<ChannelRow> for NotificationChannel {
    type Error = DbError;

    fn try_from(r: ChannelRow) -> Result<Self, DbError> {
        Ok(NotificationChannel {
            id: ChannelId::from_uuid(r.id.0),
            tenant_id: r.tenant_id.0.into(),
            kind: ChannelKind::parse(&r.kind)
                .map_err(|_| DbError::Corrupt(format!("channel kind {}", r.kind)))?,
            filter: filter_of(&r.events, r.min_severity.as_deref()),
            name: r.name,
            display: r.display,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn events_json(c: &NotificationChannel) -> DbJson {
    DbJson(Value::Array(
        c.filter
            .events
            .iter()
            .map(|k| Value::String(k.as_str().to_owned()))
            .collect(),
    ))
}

#[async_trait]
impl NotificationChannelRepository for Db {
    async fn create(
        &self,
        ch: &NotificationChannel,
        sealed_target: &[u8],
    ) -> Result<(), RepoError> {
        let events = events_json(ch);
        on_db!(&self.pool, |c| {
            diesel::insert_into(notification_channels::table)
                .values((
                    notification_channels::tenant_id.eq(db_id(ch.tenant_id)),
                    notification_channels::id.eq(DbId(ch.id.into_uuid())),
                    notification_channels::name.eq(&ch.name),
                    notification_channels::kind.eq(ch.kind.as_str()),
                    notification_channels::target_sealed.eq(sealed_target),
                    notification_channels::target_display.eq(&ch.display),
                    notification_channels::events.eq(&events),
                    notification_channels::min_severity
                        .eq(ch.filter.min_severity.map(|s| s.as_str())),
                    notification_channels::enabled.eq(ch.enabled),
                    notification_channels::created_at.eq(ch.created_at),
                    notification_channels::updated_at.eq(ch.updated_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("tenant_id"))?;
            Ok(())
        })
    }

    async fn get(
        &self,
        t: TenantId,
        id: ChannelId,
    ) -> Result<Option<NotificationChannel>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = notification_channels::table
                .filter(notification_channels::tenant_id.eq(db_id(t)))
                .filter(notification_channels::id.eq(DbId(id.into_uuid())))
                .filter(notification_channels::deleted_at.is_null())
                .select(channel_columns!())
                .first::<ChannelRow>(c)
                .await
                .optional()?;
            row.map(NotificationChannel::try_from).transpose()
        })
    }

    async fn list(
        &self,
        t: TenantId,
        page: PageRequest,
    ) -> Result<Page<NotificationChannel>, RepoError> {
        let items: Vec<NotificationChannel> = on_db!(&self.pool, |c| {
            let mut q = notification_channels::table
                .filter(notification_channels::tenant_id.eq(db_id(t)))
                .filter(notification_channels::deleted_at.is_null())
                .select(channel_columns!())
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(notification_channels::id.lt(DbId(after)));
            }
            let rows = q
                .order(notification_channels::id.desc())
                .limit(page.fetch_limit())
                .load::<ChannelRow>(c)
                .await?;
            rows.into_iter()
                .map(NotificationChannel::try_from)
                .collect()
        })?;
        Ok(page.into_page(items, |c| c.id.into_uuid()))
    }

    async fn update(
        &self,
        ch: &NotificationChannel,
        sealed_target: Option<Vec<u8>>,
    ) -> Result<bool, RepoError> {
        let events = events_json(ch);
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let row = notification_channels::table
                    .filter(notification_channels::tenant_id.eq(db_id(ch.tenant_id)))
                    .filter(notification_channels::id.eq(DbId(ch.id.into_uuid())))
                    .filter(notification_channels::deleted_at.is_null());
                let n = diesel::update(row)
                    .set((
                        notification_channels::name.eq(&ch.name),
                        notification_channels::kind.eq(ch.kind.as_str()),
                        notification_channels::target_display.eq(&ch.display),
                        notification_channels::events.eq(&events),
                        notification_channels::min_severity
                            .eq(ch.filter.min_severity.map(|s| s.as_str())),
                        notification_channels::enabled.eq(ch.enabled),
                        notification_channels::updated_at.eq(ch.updated_at),
                    ))
                    .execute(c)
                    .await?;
                if n == 1
                    && let Some(sealed) = &sealed_target
                {
                    diesel::update(row)
                        .set(notification_channels::target_sealed.eq(sealed))
                        .execute(c)
                        .await?;
                }
                Ok::<_, DbError>(n == 1)
            })
            .await
        })
    }

    async fn delete(
        &self,
        t: TenantId,
        id: ChannelId,
        at: OffsetDateTime,
    ) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::update(
                notification_channels::table
                    .filter(notification_channels::tenant_id.eq(db_id(t)))
                    .filter(notification_channels::id.eq(DbId(id.into_uuid())))
                    .filter(notification_channels::deleted_at.is_null()),
            )
            .set((
                notification_channels::deleted_at.eq(Some(at)),
                notification_channels::enabled.eq(false),
                notification_channels::updated_at.eq(at),
            ))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }
}
