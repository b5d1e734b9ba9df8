//! Suggestions on [`Db`]: one row per rule, entity and window
//! (`suggestions_window_key`), the metrics snapshot as JSON in the API's shape
//! (decimals as strings), and the budget change as two money columns.
//!
//! Inserting is `ON CONFLICT DO NOTHING` on the window key and, when a row
//! was inserted, expires the same rule's and entity's pending suggestions of
//! earlier windows in the same transaction. Accepting and rejecting read the
//! row, ask the domain whether the move is allowed, and update only a row
//! still pending, so two concurrent decisions cannot both win.
//!
//! An `ACCEPTED` row is also the apply job's queue entry: `apply_due_at` says
//! when a worker may take it. Taking pushes it forward (a hold: on
//! PostgreSQL other workers skip locked rows, and a worker that dies leaves
//! the row to be taken again when the hold ends) and counts the try;
//! finishing touches only a row still accepted.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::ads::DateRange;
use domain::notify::Alert;
use domain::page::{Page, PageRequest};
use domain::rules::{
    ApplyResult, ApplyTask, MetricSnapshot, Proposal, RuleAction, Suggestion, SuggestionRepository,
    SuggestionStatus,
};
use domain::{AdAccountId, RepoError, SuggestionId, TenantId, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::Db;
use super::error::DbError;
use super::types::{DbId, DbJson, DbMoney, DbRatio, db_id};

// ------------------------------------------------------------------ JSON

/// [`MetricSnapshot`] as stored (and as the API shows it): decimals as
/// strings, undefined ratios as `null`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsJson {
    spend: Decimal,
    impressions: i64,
    clicks: i64,
    conversions: i64,
    revenue: Decimal,
    ctr: Option<Decimal>,
    cpc: Option<Decimal>,
    cpm: Option<Decimal>,
    cpa: Option<Decimal>,
    roas: Option<Decimal>,
}

impl From<&MetricSnapshot> for MetricsJson {
    fn from(m: &MetricSnapshot) -> Self {
        Self {
            spend: m.spend,
            impressions: m.impressions,
            clicks: m.clicks,
            conversions: m.conversions,
            revenue: m.revenue,
            ctr: m.ctr,
            cpc: m.cpc,
            cpm: m.cpm,
            cpa: m.cpa,
            roas: m.roas,
        }
    }
}

impl From<MetricsJson> for MetricSnapshot {
    fn from(j: MetricsJson) -> Self {
        Self {
            spend: j.spend,
            impressions: j.impressions,
            clicks: j.clicks,
            conversions: j.conversions,
            revenue: j.revenue,
            ctr: j.ctr,
            cpc: j.cpc,
            cpm: j.cpm,
            cpa: j.cpa,
            roas: j.roas,
        }
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("suggestion {what}: {e}"))
}

// ------------------------------------------------------------------ rows

/// The columns a [`Suggestion`] is read from, in [`SuggestionRow`] order.
macro_rules! suggestion_columns {
    () => {
        (
            suggestions::id,
            suggestions::tenant_id,
            suggestions::rule_id,
            suggestions::rule_version,
            suggestions::level,
            suggestions::entity_id,
            suggestions::entity_name,
            suggestions::action,
            suggestions::action_percent,
            suggestions::proposed_from,
            suggestions::proposed_to,
            suggestions::window_from,
            suggestions::window_to,
            suggestions::metrics,
            suggestions::reason,
            suggestions::status,
            suggestions::created_at,
            suggestions::decided_by,
            suggestions::decided_at,
            suggestions::applied_at,
            suggestions::failure,
        )
    };
}

#[derive(Debug, Queryable)]
struct SuggestionRow {
    id: DbId,
    tenant_id: DbId,
    rule_id: DbId,
    rule_version: i32,
    level: String,
    entity_id: DbId,
    entity_name: String,
    action: String,
    action_percent: Option<DbRatio>,
    proposed_from: Option<DbMoney>,
    proposed_to: Option<DbMoney>,
    window_from: Date,
    window_to: Date,
    metrics: DbJson,
    reason: String,
    status: String,
    created_at: OffsetDateTime,
    decided_by: Option<DbId>,
    decided_at: Option<OffsetDateTime>,
    applied_at: Option<OffsetDateTime>,
    failure: Option<String>,
}

impl TryFrom<SuggestionRow> for Suggestion {
    type Error = DbError;

    fn try_from(r: SuggestionRow) -> Result<Self, DbError> {
        let percent = || {
            r.action_percent
                .map(|p| p.0.normalize())
                .ok_or_else(|| corrupt("action", "a budget action without percent"))
        };
        let action = match r.action.as_str() {
            "PAUSE" => RuleAction::Pause,
            "NOTIFY" => RuleAction::Notify,
            "BUDGET_UP" => RuleAction::BudgetUp {
                percent: percent()?,
            },
            "BUDGET_DOWN" => RuleAction::BudgetDown {
                percent: percent()?,
            },
            other => return Err(corrupt("action", other)),
        };
        let proposal = match (action, r.proposed_from, r.proposed_to) {
            (RuleAction::Pause, None, None) => Proposal::Pause,
            (RuleAction::Notify, None, None) => Proposal::Notify,
            (RuleAction::BudgetUp { .. } | RuleAction::BudgetDown { .. }, Some(f), Some(t)) => {
                Proposal::Budget { from: f.0, to: t.0 }
            }
            _ => return Err(corrupt("proposal", "does not match the action")),
        };
        let metrics: MetricsJson =
            serde_json::from_value(r.metrics.0).map_err(|e| corrupt("metrics", e))?;
        Ok(Suggestion {
            id: r.id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            rule_id: r.rule_id.0.into(),
            rule_version: r.rule_version,
            level: r.level.parse().map_err(|e| corrupt("level", e))?,
            entity_id: r.entity_id.0,
            entity_name: r.entity_name,
            action,
            proposal,
            window: DateRange::new(r.window_from, r.window_to)
                .map_err(|e| corrupt("window", format!("{e:?}")))?,
            metrics: metrics.into(),
            reason: r.reason,
            status: r.status.parse().map_err(|e| corrupt("status", e))?,
            created_at: r.created_at,
            decided_by: r.decided_by.map(|u| u.0.into()),
            decided_at: r.decided_at,
            applied_at: r.applied_at,
            failure: r.failure,
        })
    }
}

/// What a decision found.
enum Decided {
    Done(Box<Suggestion>),
    NotAllowed,
    Missing,
}

#[async_trait]
impl SuggestionRepository for Db {
    async fn insert_if_new(
        &self,
        account: AdAccountId,
        s: &Suggestion,
        alert: &Alert,
    ) -> Result<bool, RepoError> {
        let metrics = DbJson(
            serde_json::to_value(MetricsJson::from(&s.metrics))
                .map_err(|e| DbError::Encode(e.to_string()))?,
        );
        let (from, to) = match s.proposal {
            Proposal::Budget { from, to } => (Some(DbMoney(from)), Some(DbMoney(to))),
            Proposal::Pause | Proposal::Notify => (None, None),
        };
        let percent = s.action.percent().map(DbRatio);
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let inserted = diesel::insert_into(suggestions::table)
                    .values((
                        suggestions::tenant_id.eq(db_id(s.tenant_id)),
                        suggestions::id.eq(db_id(s.id)),
                        suggestions::ad_account_id.eq(db_id(account)),
                        suggestions::rule_id.eq(db_id(s.rule_id)),
                        suggestions::rule_version.eq(s.rule_version),
                        suggestions::level.eq(s.level.as_str()),
                        suggestions::entity_id.eq(DbId(s.entity_id)),
                        suggestions::entity_name.eq(&s.entity_name),
                        suggestions::action.eq(s.action.kind_str()),
                        suggestions::action_percent.eq(percent),
                        suggestions::proposed_from.eq(from),
                        suggestions::proposed_to.eq(to),
                        suggestions::window_from.eq(s.window.from()),
                        suggestions::window_to.eq(s.window.to()),
                        suggestions::metrics.eq(&metrics),
                        suggestions::reason.eq(&s.reason),
                        suggestions::status.eq(s.status.as_str()),
                        suggestions::created_at.eq(s.created_at),
                        suggestions::decided_by.eq(s.decided_by.map(db_id)),
                        suggestions::decided_at.eq(s.decided_at),
                        // An auto-applied suggestion is born accepted: due at once.
                        suggestions::apply_due_at
                            .eq((s.status == SuggestionStatus::Accepted).then_some(s.created_at)),
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)
                    .await
                    .map_err(|e| DbError::from(e).referencing("rule_id"))?;
                if inserted == 0 {
                    return Ok::<bool, DbError>(false);
                }
                super::alerts::enqueue_in_tx(c, alert).await?;
                diesel::update(
                    suggestions::table
                        .filter(suggestions::tenant_id.eq(db_id(s.tenant_id)))
                        .filter(suggestions::rule_id.eq(db_id(s.rule_id)))
                        .filter(suggestions::entity_id.eq(DbId(s.entity_id)))
                        .filter(suggestions::status.eq(SuggestionStatus::Pending.as_str()))
                        .filter(suggestions::window_to.lt(s.window.to())),
                )
                .set((
                    suggestions::status.eq(SuggestionStatus::Expired.as_str()),
                    suggestions::decided_at.eq(Some(s.created_at)),
                ))
                .execute(c)
                .await?;
                Ok(true)
            })
            .await
        })
    }

    async fn get(&self, t: TenantId, id: SuggestionId) -> Result<Option<Suggestion>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = suggestions::table
                .filter(suggestions::tenant_id.eq(db_id(t)))
                .filter(suggestions::id.eq(db_id(id)))
                .select(suggestion_columns!())
                .first::<SuggestionRow>(c)
                .await
                .optional()?;
            row.map(Suggestion::try_from).transpose()
        })
    }

    async fn list(
        &self,
        t: TenantId,
        status: Option<SuggestionStatus>,
        page: PageRequest,
    ) -> Result<Page<Suggestion>, RepoError> {
        let items: Vec<Suggestion> = on_db!(&self.pool, |c| {
            let mut q = suggestions::table
                .filter(suggestions::tenant_id.eq(db_id(t)))
                .select(suggestion_columns!())
                .into_boxed();
            if let Some(status) = status {
                q = q.filter(suggestions::status.eq(status.as_str()));
            }
            if let Some(after) = page.after() {
                q = q.filter(suggestions::id.lt(DbId(after)));
            }
            let rows = q
                .order(suggestions::id.desc())
                .limit(page.fetch_limit())
                .load::<SuggestionRow>(c)
                .await?;
            rows.into_iter().map(Suggestion::try_from).collect()
        })?;
        Ok(page.into_page(items, |s| s.id.into_uuid()))
    }

    async fn reject(
        &self,
        t: TenantId,
        id: SuggestionId,
        by: UserId,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<Option<Suggestion>, RepoError> {
        self.decide(
            t,
            id,
            SuggestionStatus::Rejected,
            Some(by),
            Some(reason),
            at,
        )
        .await
    }

    async fn accept(
        &self,
        t: TenantId,
        id: SuggestionId,
        by: Option<UserId>,
        at: OffsetDateTime,
    ) -> Result<Option<Suggestion>, RepoError> {
        self.decide(t, id, SuggestionStatus::Accepted, by, None, at)
            .await
    }

    async fn take_due(
        &self,
        now: OffsetDateTime,
        hold_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ApplyTask>, RepoError> {
        let limit = i64::from(limit);
        /// Reads the due rows (`$lock`: PostgreSQL skips rows another
        /// worker is taking) and holds each that is still as read.
        macro_rules! take {
            ($c:ident, $($lock:tt)*) => {
                $c.transaction(async |c| {
                    let due = suggestions::table
                        .filter(suggestions::status.eq(SuggestionStatus::Accepted.as_str()))
                        .filter(suggestions::apply_due_at.le(now))
                        .order(suggestions::apply_due_at.asc())
                        .limit(limit)
                        .select((suggestion_columns!(), suggestions::ad_account_id, suggestions::apply_attempts))
                        $($lock)*
                        .load::<(SuggestionRow, DbId, i32)>(c)
                        .await?;
                    let mut tasks = Vec::with_capacity(due.len());
                    for (row, account, attempts) in due {
                        let n = diesel::update(
                            suggestions::table
                                .filter(suggestions::tenant_id.eq(row.tenant_id))
                                .filter(suggestions::id.eq(row.id))
                                .filter(suggestions::status.eq(SuggestionStatus::Accepted.as_str()))
                                .filter(suggestions::apply_attempts.eq(attempts)),
                        )
                        .set((
                            suggestions::apply_due_at.eq(Some(hold_until)),
                            suggestions::apply_attempts.eq(attempts + 1),
                        ))
                        .execute(c)
                        .await?;
                        if n == 1 {
                            tasks.push(ApplyTask {
                                suggestion: Suggestion::try_from(row)?,
                                ad_account_id: account.0.into(),
                                attempt: attempts + 1,
                            });
                        }
                    }
                    Ok::<_, DbError>(tasks)
                })
                .await
            };
        }
        on_db!(
            &self.pool,
            pg: |c| take!(c, .for_update().skip_locked()),
            sqlite: |c| take!(c,),
        )
    }

    async fn finish_apply(
        &self,
        t: TenantId,
        id: SuggestionId,
        result: &ApplyResult,
        at: OffsetDateTime,
        alert: Option<Alert>,
    ) -> Result<Option<Suggestion>, RepoError> {
        let (status, applied_at, due, failure) = match result {
            ApplyResult::Applied => (SuggestionStatus::Applied, Some(at), None, None),
            ApplyResult::Failed(why) => (SuggestionStatus::Failed, None, None, Some(why.as_str())),
            ApplyResult::RetryAt { at: next, error } => (
                SuggestionStatus::Accepted,
                None,
                Some(*next),
                Some(error.as_str()),
            ),
        };
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let n = diesel::update(
                    suggestions::table
                        .filter(suggestions::tenant_id.eq(db_id(t)))
                        .filter(suggestions::id.eq(db_id(id)))
                        .filter(suggestions::status.eq(SuggestionStatus::Accepted.as_str())),
                )
                .set((
                    suggestions::status.eq(status.as_str()),
                    suggestions::applied_at.eq(applied_at),
                    suggestions::apply_due_at.eq(due),
                    suggestions::failure.eq(failure),
                ))
                .execute(c)
                .await?;
                if n == 0 {
                    return Ok::<_, DbError>(None);
                }
                if let Some(alert) = &alert {
                    super::alerts::enqueue_in_tx(c, alert).await?;
                }
                let row = suggestions::table
                    .filter(suggestions::tenant_id.eq(db_id(t)))
                    .filter(suggestions::id.eq(db_id(id)))
                    .select(suggestion_columns!())
                    .first::<SuggestionRow>(c)
                    .await?;
                Suggestion::try_from(row).map(Some)
            })
            .await
        })
    }
}

impl Db {
    /// Moves a pending suggestion to `next` (accepted or rejected) as the
    /// domain allows, only if no one decided it first; an accepted one is
    /// due to be applied at once.
    async fn decide(
        &self,
        t: TenantId,
        id: SuggestionId,
        next: SuggestionStatus,
        by: Option<UserId>,
        reject_reason: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<Option<Suggestion>, RepoError> {
        let due = (next == SuggestionStatus::Accepted).then_some(at);
        let decided = on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let row = suggestions::table
                    .filter(suggestions::tenant_id.eq(db_id(t)))
                    .filter(suggestions::id.eq(db_id(id)))
                    .select(suggestion_columns!())
                    .first::<SuggestionRow>(c)
                    .await
                    .optional()?;
                let Some(row) = row else {
                    return Ok::<_, DbError>(Decided::Missing);
                };
                let mut s = Suggestion::try_from(row)?;
                let was = s.status;
                if s.transition(next, by, at).is_err() {
                    return Ok(Decided::NotAllowed);
                }
                let n = diesel::update(
                    suggestions::table
                        .filter(suggestions::tenant_id.eq(db_id(t)))
                        .filter(suggestions::id.eq(db_id(id)))
                        .filter(suggestions::status.eq(was.as_str())),
                )
                .set((
                    suggestions::status.eq(s.status.as_str()),
                    suggestions::decided_by.eq(s.decided_by.map(db_id)),
                    suggestions::decided_at.eq(s.decided_at),
                    suggestions::reject_reason.eq(reject_reason),
                    suggestions::apply_due_at.eq(due),
                ))
                .execute(c)
                .await?;
                Ok(if n == 1 {
                    Decided::Done(Box::new(s))
                } else {
                    Decided::NotAllowed
                })
            })
            .await
        })?;
        match decided {
            Decided::Done(s) => Ok(Some(*s)),
            Decided::NotAllowed => Err(RepoError::Conflict("status".to_owned())),
            Decided::Missing => Ok(None),
        }
    }
}
