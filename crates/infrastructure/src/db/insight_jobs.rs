//! Insight jobs on [`Db`] (`insight_jobs`): the queue entry of a requested
//! generation and, once done, the ids of the documents it stored (a JSON
//! array). Taking due jobs holds each with `due_at` pushed forward (the
//! same [`take_due!`] as reports); PostgreSQL skips rows another worker is
//! taking.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::ads::DateRange;
use domain::assistant::insight_jobs::{
    InsightJob, InsightJobOutcome, InsightJobRepository, InsightJobStatus,
};
use domain::{InsightId, InsightJobId, RepoError, TenantId};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::Db;
use super::error::DbError;
use super::types::{DbId, DbJson, db_id};

macro_rules! job_columns {
    () => {
        (
            insight_jobs::id,
            insight_jobs::tenant_id,
            insight_jobs::ad_account_id,
            insight_jobs::week_start,
            insight_jobs::status,
            insight_jobs::requested_by,
            insight_jobs::created_at,
            insight_jobs::finished_at,
            insight_jobs::insight_ids,
            insight_jobs::failure,
            insight_jobs::attempts,
        )
    };
}

#[derive(Debug, Queryable)]
struct JobRow {
    id: DbId,
    tenant_id: DbId,
    ad_account_id: Option<DbId>,
    week_start: Option<Date>,
    status: String,
    requested_by: String,
    created_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
    insight_ids: DbJson,
    failure: Option<String>,
    attempts: i32,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("insight job {what}: {e}"))
}

/// The ids as stored: a JSON array of UUID strings.
fn ids_json(ids: &[InsightId]) -> DbJson {
    DbJson(serde_json::Value::Array(
        ids.iter()
            .map(|id| serde_json::Value::String(id.into_uuid().to_string()))
            .collect(),
    ))
}

impl TryFrom<JobRow> for InsightJob {
    type Error = DbError;

    fn try_from(r: JobRow) -> Result<Self, DbError> {
        let week = r
            .week_start
            .map(|monday| DateRange::new(monday, monday + Duration::days(6)))
            .transpose()
            .map_err(|e| corrupt("week", e))?;
        let ids: Vec<Uuid> =
            serde_json::from_value(r.insight_ids.0).map_err(|e| corrupt("insight_ids", e))?;
        Ok(InsightJob {
            id: InsightJobId::from_uuid(r.id.0),
            tenant_id: r.tenant_id.0.into(),
            week,
            ad_account_id: r.ad_account_id.map(|id| id.0.into()),
            status: r
                .status
                .parse::<InsightJobStatus>()
                .map_err(|e| corrupt("status", e))?,
            requested_by: r.requested_by,
            created_at: r.created_at,
            finished_at: r.finished_at,
            insight_ids: ids.into_iter().map(InsightId::from_uuid).collect(),
            failure: r.failure,
            attempts: r.attempts,
        })
    }
}

#[async_trait]
impl InsightJobRepository for Db {
    async fn create(&self, j: &InsightJob) -> Result<(), RepoError> {
        let ids = ids_json(&j.insight_ids);
        on_db!(&self.pool, |c| {
            diesel::insert_into(insight_jobs::table)
                .values((
                    insight_jobs::tenant_id.eq(db_id(j.tenant_id)),
                    insight_jobs::id.eq(DbId(j.id.into_uuid())),
                    insight_jobs::ad_account_id.eq(j.ad_account_id.map(db_id)),
                    insight_jobs::week_start.eq(j.week.map(|w| w.from())),
                    insight_jobs::status.eq(j.status.as_str()),
                    insight_jobs::requested_by.eq(&j.requested_by),
                    insight_jobs::created_at.eq(j.created_at),
                    insight_jobs::due_at.eq(Some(j.created_at)),
                    insight_jobs::attempts.eq(j.attempts),
                    insight_jobs::insight_ids.eq(&ids),
                ))
                .execute(c)
                .await?;
            Ok(())
        })
    }

    async fn get(&self, t: TenantId, id: InsightJobId) -> Result<Option<InsightJob>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = insight_jobs::table
                .filter(insight_jobs::tenant_id.eq(db_id(t)))
                .filter(insight_jobs::id.eq(DbId(id.into_uuid())))
                .select(job_columns!())
                .first::<JobRow>(c)
                .await
                .optional()?;
            row.map(InsightJob::try_from).transpose()
        })
    }

    async fn take_due(
        &self,
        now: OffsetDateTime,
        hold_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<InsightJob>, RepoError> {
        on_db!(
            &self.pool,
            pg: |c| take_due!(c, insight_jobs, job_columns!(), JobRow => InsightJob,
                InsightJobStatus::Queued.as_str(), now, hold_until, limit,
                .for_update().skip_locked()),
            sqlite: |c| take_due!(c, insight_jobs, job_columns!(), JobRow => InsightJob,
                InsightJobStatus::Queued.as_str(), now, hold_until, limit,),
        )
    }

    async fn finish(
        &self,
        t: TenantId,
        id: InsightJobId,
        outcome: &InsightJobOutcome,
        at: OffsetDateTime,
    ) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            let row = insight_jobs::table
                .filter(insight_jobs::tenant_id.eq(db_id(t)))
                .filter(insight_jobs::id.eq(DbId(id.into_uuid())))
                .filter(insight_jobs::status.eq(InsightJobStatus::Queued.as_str()));
            match outcome {
                InsightJobOutcome::Done(ids) => {
                    diesel::update(row)
                        .set((
                            insight_jobs::status.eq(InsightJobStatus::Done.as_str()),
                            insight_jobs::insight_ids.eq(ids_json(ids)),
                            insight_jobs::finished_at.eq(Some(at)),
                            insight_jobs::due_at.eq(None::<OffsetDateTime>),
                            insight_jobs::failure.eq(None::<String>),
                        ))
                        .execute(c)
                        .await?;
                }
                InsightJobOutcome::Failed(why) => {
                    let failed = InsightJobStatus::Failed.as_str();
                    job_setback!(c, insight_jobs, row, failed: failed, why, at)?;
                }
                InsightJobOutcome::RetryAt { at: next, error } => {
                    job_setback!(c, insight_jobs, row, retry_at: *next, error)?;
                }
            }
            Ok(())
        })
    }
}
