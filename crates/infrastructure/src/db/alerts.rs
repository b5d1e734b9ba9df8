//! The alert outbox on [`Db`]: `alerts` (one row per alert), and
//! `alert_deliveries` (one row per alert and channel; its key is the
//! idempotency key that keeps an alert from reaching a channel twice).
//!
//! Alerts are written in the transaction of the event they report: other
//! adapters call [`enqueue_in_tx`] on the connection of their transaction
//! (suggestions, sync runs, applied actions), which inserts the alert and
//! fans it out to the tenant's enabled channels whose filter matches.
//! Workers claim due deliveries with a lease (`claimed_until`); PostgreSQL
//! claims with `FOR UPDATE SKIP LOCKED`, so several workers share the rows.

use std::future::Future;

use async_trait::async_trait;
use diesel::SqliteConnection;
use diesel::prelude::*;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::notify::{
    Alert, AlertFilter, AlertKind, AlertOutbox, AlertRecord, ChannelFilter, ChannelId, ChannelKind,
    ChannelState, ClaimedDelivery, Delivery, DeliveryKey, DeliveryOutcome, DeliveryStatus,
    Severity,
};
use domain::page::{Page, PageRequest};
use domain::{RepoError, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Db;
use super::error::DbError;
use super::types::{DbId, DbJson, db_id};

/// The longest `last_error` kept, in characters.
const MAX_ERROR_CHARS: usize = 500;

fn corrupt(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("alert {what}: {e}"))
}

/// A channel's filter as stored: `events` a JSON array of kinds, unknown
/// kinds ignored; an unknown severity means "any".
pub(crate) fn filter_of(events: &DbJson, min_severity: Option<&str>) -> ChannelFilter {
    let events = events
        .0
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str()?.parse::<AlertKind>().ok())
                .collect()
        })
        .unwrap_or_default();
    ChannelFilter {
        events,
        min_severity: min_severity.and_then(|s| s.parse::<Severity>().ok()),
    }
}

fn cap(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

// ------------------------------------------------------------------ in-transaction enqueue

/// A connection an alert can be written on, inside the caller's transaction.
pub(crate) trait OutboxConn: Send {
    /// Inserts `alert` and a pending delivery to each of its tenant's
    /// enabled, matching channels (or, with `only`, to that one channel if
    /// it exists and is not deleted, whatever its filter; nothing at all is
    /// written when it does not). Returns the deliveries queued.
    fn enqueue_alert(
        &mut self,
        alert: &Alert,
        only: Option<ChannelId>,
    ) -> impl Future<Output = Result<usize, DbError>> + Send;
}

/// Writes `alert` into the outbox on `conn`, fanned out to the tenant's
/// enabled channels whose filter matches (an alert whose id is already
/// there is left as it is: 0); returns how many deliveries were
/// queued. Call it inside the transaction that records the event, so the
/// event and its alert commit (or roll back) together:
///
/// ```ignore
/// on_db!(&self.pool, |c| {
///     c.transaction(async |c| {
///         /* … write the event … */
///         crate::db::alerts::enqueue_in_tx(c, &alert).await?;
///         Ok::<_, DbError>(())
///     })
///     .await
/// })
/// ```
///
/// # Errors
/// Query failures (`MissingReference("tenant_id")` for an unknown tenant).
pub(crate) async fn enqueue_in_tx<C: OutboxConn>(
    conn: &mut C,
    alert: &Alert,
) -> Result<usize, DbError> {
    conn.enqueue_alert(alert, None).await
}

/// The body of [`OutboxConn::enqueue_alert`], written once for both
/// backends (each impl brings its schema into scope).
macro_rules! enqueue_body {
    ($c:ident, $alert:ident, $only:ident) => {{
        let tenant = db_id($alert.tenant_id);
        let mut q = notification_channels::table
            .filter(notification_channels::tenant_id.eq(tenant))
            .filter(notification_channels::deleted_at.is_null())
            .select((
                notification_channels::id,
                notification_channels::enabled,
                notification_channels::events,
                notification_channels::min_severity,
            ))
            .into_boxed();
        if let Some(id) = $only {
            q = q.filter(notification_channels::id.eq(DbId(id.into_uuid())));
        }
        let rows: Vec<(DbId, bool, DbJson, Option<String>)> = q.load($c).await?;
        let targets: Vec<DbId> = if $only.is_some() {
            rows.into_iter().map(|r| r.0).collect()
        } else {
            rows.into_iter()
                .filter(|(_, enabled, events, min)| {
                    *enabled
                        && filter_of(events, min.as_deref()).matches($alert.kind, $alert.severity)
                })
                .map(|r| r.0)
                .collect()
        };
        if $only.is_some() && targets.is_empty() {
            return Ok(0);
        }
        let inserted = diesel::insert_into(alerts::table)
            .values((
                alerts::tenant_id.eq(tenant),
                alerts::id.eq(DbId($alert.id)),
                alerts::kind.eq($alert.kind.as_str()),
                alerts::severity.eq($alert.severity.as_str()),
                alerts::title.eq(&$alert.title),
                alerts::body.eq(&$alert.body),
                alerts::data.eq(DbJson($alert.data.clone())),
                alerts::created_at.eq($alert.created_at),
            ))
            .on_conflict_do_nothing()
            .execute($c)
            .await
            .map_err(|e| DbError::from(e).referencing("tenant_id"))?;
        if inserted == 0 {
            // The same alert (a derived id, e.g. an anomaly found again) is
            // already in the outbox: it is delivered once.
            return Ok(0);
        }
        for channel in &targets {
            diesel::insert_into(alert_deliveries::table)
                .values((
                    alert_deliveries::tenant_id.eq(tenant),
                    alert_deliveries::alert_id.eq(DbId($alert.id)),
                    alert_deliveries::channel_id.eq(*channel),
                    alert_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                    alert_deliveries::attempts.eq(0),
                    alert_deliveries::next_attempt_at.eq($alert.created_at),
                    alert_deliveries::updated_at.eq($alert.created_at),
                ))
                .execute($c)
                .await?;
        }
        Ok(targets.len())
    }};
}

impl OutboxConn for AsyncPgConnection {
    async fn enqueue_alert(
        &mut self,
        alert: &Alert,
        only: Option<ChannelId>,
    ) -> Result<usize, DbError> {
        use crate::db::pg::*;
        let c = self;
        enqueue_body!(c, alert, only)
    }
}

impl OutboxConn for SyncConnectionWrapper<SqliteConnection> {
    async fn enqueue_alert(
        &mut self,
        alert: &Alert,
        only: Option<ChannelId>,
    ) -> Result<usize, DbError> {
        use crate::db::sqlite::*;
        let c = self;
        enqueue_body!(c, alert, only)
    }
}

// ------------------------------------------------------------------ rows

macro_rules! alert_columns {
    () => {
        (
            alerts::id,
            alerts::tenant_id,
            alerts::kind,
            alerts::severity,
            alerts::title,
            alerts::body,
            alerts::data,
            alerts::created_at,
        )
    };
}

#[derive(Debug, Queryable)]
struct AlertRow {
    id: DbId,
    tenant_id: DbId,
    kind: String,
    severity: String,
    title: String,
    body: String,
    data: DbJson,
    created_at: OffsetDateTime,
}

impl TryFrom<AlertRow> for Alert {
    type Error = DbError;

    fn try_from(r: AlertRow) -> Result<Self, DbError> {
        Ok(Alert {
            id: r.id.0,
            tenant_id: r.tenant_id.0.into(),
            kind: r.kind.parse().map_err(|_| corrupt("kind", &r.kind))?,
            severity: r
                .severity
                .parse()
                .map_err(|_| corrupt("severity", &r.severity))?,
            title: r.title,
            body: r.body,
            data: r.data.0,
            created_at: r.created_at,
        })
    }
}

macro_rules! delivery_columns {
    () => {
        (
            alert_deliveries::alert_id,
            alert_deliveries::channel_id,
            notification_channels::name,
            notification_channels::kind,
            alert_deliveries::status,
            alert_deliveries::attempts,
            alert_deliveries::next_attempt_at,
            alert_deliveries::last_error,
            alert_deliveries::delivered_at,
            alert_deliveries::updated_at,
        )
    };
}

#[derive(Debug, Queryable)]
struct DeliveryRow {
    alert_id: DbId,
    channel_id: DbId,
    channel_name: String,
    channel_kind: String,
    status: String,
    attempts: i32,
    next_attempt_at: OffsetDateTime,
    last_error: Option<String>,
    delivered_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = DbError;

    fn try_from(r: DeliveryRow) -> Result<Self, DbError> {
        let status = DeliveryStatus::parse(&r.status).map_err(|_| corrupt("status", &r.status))?;
        Ok(Delivery {
            channel_id: ChannelId::from_uuid(r.channel_id.0),
            channel_name: r.channel_name,
            channel_kind: ChannelKind::parse(&r.channel_kind)
                .map_err(|_| corrupt("channel kind", &r.channel_kind))?,
            status,
            attempts: r.attempts,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(r.next_attempt_at),
            last_error: r.last_error,
            delivered_at: r.delivered_at,
            updated_at: r.updated_at,
        })
    }
}

/// Attaches each alert's deliveries (rows ordered by alert, then channel).
fn records(alerts: Vec<Alert>, rows: Vec<DeliveryRow>) -> Result<Vec<AlertRecord>, DbError> {
    let mut out: Vec<AlertRecord> = alerts
        .into_iter()
        .map(|alert| AlertRecord {
            alert,
            deliveries: Vec::new(),
        })
        .collect();
    for row in rows {
        let alert_id = row.alert_id.0;
        if let Some(rec) = out.iter_mut().find(|r| r.alert.id == alert_id) {
            rec.deliveries.push(Delivery::try_from(row)?);
        }
    }
    Ok(out)
}

/// Selects the claimable deliveries: pending, due, lease free, oldest first.
macro_rules! due_keys {
    ($now:ident, $limit:ident) => {
        alert_deliveries::table
            .filter(alert_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
            .filter(alert_deliveries::next_attempt_at.le($now))
            .filter(
                alert_deliveries::claimed_until
                    .is_null()
                    .or(alert_deliveries::claimed_until.le($now)),
            )
            .order((
                alert_deliveries::next_attempt_at.asc(),
                alert_deliveries::alert_id.asc(),
            ))
            .limit(i64::from($limit))
            .select((
                alert_deliveries::tenant_id,
                alert_deliveries::alert_id,
                alert_deliveries::channel_id,
            ))
    };
}

/// Claims the selected `keys` until `lease_until` and loads what a worker
/// needs for each (inside the claiming transaction).
macro_rules! claim_keys {
    ($c:ident, $keys:ident, $now:ident, $lease_until:ident) => {{
        let mut out = Vec::with_capacity($keys.len());
        for (t, a, ch) in $keys {
            let attempts: Option<i32> = diesel::update(
                alert_deliveries::table
                    .filter(alert_deliveries::tenant_id.eq(t))
                    .filter(alert_deliveries::alert_id.eq(a))
                    .filter(alert_deliveries::channel_id.eq(ch))
                    .filter(alert_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                    .filter(
                        alert_deliveries::claimed_until
                            .is_null()
                            .or(alert_deliveries::claimed_until.le($now)),
                    ),
            )
            .set((
                alert_deliveries::attempts.eq(alert_deliveries::attempts + 1),
                alert_deliveries::claimed_until.eq(Some($lease_until)),
                alert_deliveries::updated_at.eq($now),
            ))
            .returning(alert_deliveries::attempts)
            .get_result($c)
            .await
            .optional()?;
            let Some(attempts) = attempts else { continue };
            let alert = alerts::table
                .filter(alerts::tenant_id.eq(t))
                .filter(alerts::id.eq(a))
                .select(alert_columns!())
                .first::<AlertRow>($c)
                .await?;
            let channel: Option<(bool, Option<OffsetDateTime>, Vec<u8>)> =
                notification_channels::table
                    .filter(notification_channels::tenant_id.eq(t))
                    .filter(notification_channels::id.eq(ch))
                    .select((
                        notification_channels::enabled,
                        notification_channels::deleted_at,
                        notification_channels::target_sealed,
                    ))
                    .first($c)
                    .await
                    .optional()?;
            let channel = match channel {
                None | Some((_, Some(_), _)) => ChannelState::Deleted,
                Some((false, None, _)) => ChannelState::Disabled,
                Some((true, None, sealed_target)) => ChannelState::Active { sealed_target },
            };
            out.push(ClaimedDelivery {
                key: DeliveryKey {
                    tenant_id: t.0.into(),
                    alert_id: a.0,
                    channel_id: ChannelId::from_uuid(ch.0),
                },
                alert: Alert::try_from(alert)?,
                attempts,
                channel,
            });
        }
        Ok::<_, DbError>(out)
    }};
}

// ------------------------------------------------------------------ port

#[async_trait]
impl AlertOutbox for Db {
    async fn enqueue(&self, alert: &Alert) -> Result<usize, RepoError> {
        on_db!(&self.pool, |c| {
            c.transaction(async |c| c.enqueue_alert(alert, None).await)
                .await
        })
    }

    async fn enqueue_to(&self, alert: &Alert, channel: ChannelId) -> Result<bool, RepoError> {
        let n = on_db!(&self.pool, |c| {
            c.transaction(async |c| c.enqueue_alert(alert, Some(channel)).await)
                .await
        })?;
        Ok(n == 1)
    }

    async fn list(
        &self,
        t: TenantId,
        filter: AlertFilter,
        page: PageRequest,
    ) -> Result<Page<AlertRecord>, RepoError> {
        let items = on_db!(&self.pool, |c| {
            let mut q = alerts::table
                .filter(alerts::tenant_id.eq(db_id(t)))
                .select(alert_columns!())
                .into_boxed();
            if let Some(kind) = filter.kind {
                q = q.filter(alerts::kind.eq(kind.as_str()));
            }
            if let Some(status) = filter.status {
                q = q.filter(
                    alerts::id.eq_any(
                        alert_deliveries::table
                            .filter(alert_deliveries::tenant_id.eq(db_id(t)))
                            .filter(alert_deliveries::status.eq(status.as_str()))
                            .select(alert_deliveries::alert_id),
                    ),
                );
            }
            if let Some(after) = page.after() {
                q = q.filter(alerts::id.lt(DbId(after)));
            }
            let rows = q
                .order(alerts::id.desc())
                .limit(page.fetch_limit())
                .load::<AlertRow>(c)
                .await?;
            let alerts: Vec<Alert> = rows
                .into_iter()
                .map(Alert::try_from)
                .collect::<Result<_, _>>()?;
            let ids: Vec<DbId> = alerts.iter().map(|a| DbId(a.id)).collect();
            let deliveries = alert_deliveries::table
                .inner_join(
                    notification_channels::table.on(notification_channels::tenant_id
                        .eq(alert_deliveries::tenant_id)
                        .and(notification_channels::id.eq(alert_deliveries::channel_id))),
                )
                .filter(alert_deliveries::tenant_id.eq(db_id(t)))
                .filter(alert_deliveries::alert_id.eq_any(ids))
                .order((
                    alert_deliveries::alert_id.desc(),
                    alert_deliveries::channel_id.asc(),
                ))
                .select(delivery_columns!())
                .load::<DeliveryRow>(c)
                .await?;
            records(alerts, deliveries)
        })?;
        Ok(page.into_page(items, |r| r.alert.id))
    }

    async fn get(&self, t: TenantId, id: Uuid) -> Result<Option<AlertRecord>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = alerts::table
                .filter(alerts::tenant_id.eq(db_id(t)))
                .filter(alerts::id.eq(DbId(id)))
                .select(alert_columns!())
                .first::<AlertRow>(c)
                .await
                .optional()?;
            let Some(row) = row else {
                return Ok(None);
            };
            let deliveries = alert_deliveries::table
                .inner_join(
                    notification_channels::table.on(notification_channels::tenant_id
                        .eq(alert_deliveries::tenant_id)
                        .and(notification_channels::id.eq(alert_deliveries::channel_id))),
                )
                .filter(alert_deliveries::tenant_id.eq(db_id(t)))
                .filter(alert_deliveries::alert_id.eq(DbId(id)))
                .order(alert_deliveries::channel_id.asc())
                .select(delivery_columns!())
                .load::<DeliveryRow>(c)
                .await?;
            Ok(records(vec![Alert::try_from(row)?], deliveries)?.pop())
        })
    }

    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, RepoError> {
        on_db!(
            &self.pool,
            pg: |c| {
                c.transaction(async |c| {
                    let keys: Vec<(DbId, DbId, DbId)> = due_keys!(now, limit)
                        .for_update()
                        .skip_locked()
                        .load(c)
                        .await?;
                    claim_keys!(c, keys, now, lease_until)
                })
                .await
            },
            // No transaction: a read that later writes would have to upgrade
            // its lock and fail when a request wrote meanwhile. Each claim is
            // one guarded UPDATE (still pending, lease free), atomic on its own.
            sqlite: |c| {
                let keys: Vec<(DbId, DbId, DbId)> = due_keys!(now, limit).load(c).await?;
                claim_keys!(c, keys, now, lease_until)
            },
        )
    }

    async fn settle(
        &self,
        key: DeliveryKey,
        outcome: &DeliveryOutcome,
        at: OffsetDateTime,
    ) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            let row = alert_deliveries::table
                .filter(alert_deliveries::tenant_id.eq(db_id(key.tenant_id)))
                .filter(alert_deliveries::alert_id.eq(DbId(key.alert_id)))
                .filter(alert_deliveries::channel_id.eq(DbId(key.channel_id.into_uuid())))
                .filter(alert_deliveries::status.eq(DeliveryStatus::Pending.as_str()));
            match outcome {
                DeliveryOutcome::Delivered => {
                    diesel::update(row)
                        .set((
                            alert_deliveries::status.eq(DeliveryStatus::Delivered.as_str()),
                            alert_deliveries::delivered_at.eq(Some(at)),
                            alert_deliveries::claimed_until.eq(None::<OffsetDateTime>),
                            alert_deliveries::updated_at.eq(at),
                        ))
                        .execute(c)
                        .await?;
                }
                DeliveryOutcome::RetryAt { at: next, error } => {
                    diesel::update(row)
                        .set((
                            alert_deliveries::next_attempt_at.eq(*next),
                            alert_deliveries::last_error.eq(Some(cap(error))),
                            alert_deliveries::claimed_until.eq(None::<OffsetDateTime>),
                            alert_deliveries::updated_at.eq(at),
                        ))
                        .execute(c)
                        .await?;
                }
                DeliveryOutcome::Failed { error } => {
                    diesel::update(row)
                        .set((
                            alert_deliveries::status.eq(DeliveryStatus::Failed.as_str()),
                            alert_deliveries::last_error.eq(Some(cap(error))),
                            alert_deliveries::claimed_until.eq(None::<OffsetDateTime>),
                            alert_deliveries::updated_at.eq(at),
                        ))
                        .execute(c)
                        .await?;
                }
            }
            Ok(())
        })
    }
}
