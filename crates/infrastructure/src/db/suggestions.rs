//! Suggestions on [`Db`]: one row per rule, entity and window
//! (`suggestions_window_key`), the metrics snapshot as JSON in the API's shape
//! (decimals as strings), and the budget change as two money columns.
//!
//! Inserting is `ON CONFLICT DO NOTHING` on the window key and, when a row
//! was inserted, expires the same rule's and entity's pending suggestions of
//! earlier windows in the same transaction. Rejecting reads the row, asks the
//! domain whether the move is allowed, and updates only a row still pending,
//! so two concurrent rejects cannot both win.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::ads::DateRange;
use domain::page::{Page, PageRequest};
use domain::rules::{
    MetricSnapshot, Proposal, RuleAction, Suggestion, SuggestionRepository, SuggestionStatus,
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
        })
    }
}

/// What a reject found.
enum Rejected {
    Done(Box<Suggestion>),
    NotAllowed,
    Missing,
}

#[async_trait]
impl SuggestionRepository for Db {
    async fn insert_if_new(&self, account: AdAccountId, s: &Suggestion) -> Result<bool, RepoError> {
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
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)
                    .await
                    .map_err(|e| DbError::from(e).referencing("rule_id"))?;
                if inserted == 0 {
                    return Ok::<bool, DbError>(false);
                }
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
        let rejected = on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                let row = suggestions::table
                    .filter(suggestions::tenant_id.eq(db_id(t)))
                    .filter(suggestions::id.eq(db_id(id)))
                    .select(suggestion_columns!())
                    .first::<SuggestionRow>(c)
                    .await
                    .optional()?;
                let Some(row) = row else {
                    return Ok::<_, DbError>(Rejected::Missing);
                };
                let mut s = Suggestion::try_from(row)?;
                let was = s.status;
                if s.transition(SuggestionStatus::Rejected, Some(by), at)
                    .is_err()
                {
                    return Ok(Rejected::NotAllowed);
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
                    suggestions::reject_reason.eq(Some(reason)),
                ))
                .execute(c)
                .await?;
                Ok(if n == 1 {
                    Rejected::Done(Box::new(s))
                } else {
                    Rejected::NotAllowed
                })
            })
            .await
        })?;
        match rejected {
            Rejected::Done(s) => Ok(Some(*s)),
            Rejected::NotAllowed => Err(RepoError::Conflict("status".to_owned())),
            Rejected::Missing => Ok(None),
        }
    }
}
