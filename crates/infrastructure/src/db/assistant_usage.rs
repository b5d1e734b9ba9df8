//! The tenant's model tokens on [`Db`], summed in SQL per source and UTC day
//! from the usage ledger (`llm_usage`: one row per model call's result,
//! written with it by the conversation and insight adapters and kept when
//! the result is deleted or replaced, so usage never shrinks).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date as DateSql, Text};
use diesel_async::RunQueryDsl;
use domain::ads::DateRange;
use domain::assistant::usage::{TokenUsageRepository, UsageRow, UsageSource};
use domain::{RepoError, TenantId};
use time::{Date, OffsetDateTime, Time};

use super::Db;
use super::error::DbError;
use super::types::db_id;

#[derive(QueryableByName)]
struct SumRow {
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = DateSql)]
    day: Date,
    #[diesel(sql_type = BigInt)]
    prompt_tokens: i64,
    #[diesel(sql_type = BigInt)]
    completion_tokens: i64,
    #[diesel(sql_type = BigInt)]
    calls: i64,
}

/// The statement over the ledger; `day` is the backend's UTC day of
/// `created_at` and `within` its filter on the range (binds 2 and 3).
fn usage_sql(tenant: &str, day: &str, within: &str) -> String {
    format!(
        "SELECT source, {day} AS day, CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens, \
         CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens, COUNT(*) AS calls \
         FROM llm_usage WHERE tenant_id = {tenant} AND {within} \
         GROUP BY source, {day} ORDER BY day, source"
    )
}

impl TryFrom<SumRow> for UsageRow {
    type Error = DbError;

    fn try_from(r: SumRow) -> Result<Self, DbError> {
        let source = match r.source.as_str() {
            "chat" => UsageSource::Chat,
            "insights" => UsageSource::Insights,
            other => return Err(DbError::Corrupt(format!("usage source {other}"))),
        };
        Ok(Self {
            source,
            date: r.day,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            calls: r.calls,
        })
    }
}

#[async_trait]
impl TokenUsageRepository for Db {
    async fn usage(&self, t: TenantId, days: DateRange) -> Result<Vec<UsageRow>, RepoError> {
        let rows: Vec<SumRow> = on_db!(&self.pool,
            pg: |c| {
                // Timestamp bounds, so the (tenant_id, created_at) indexes serve.
                let start = OffsetDateTime::new_utc(days.from(), Time::MIDNIGHT);
                let end = OffsetDateTime::new_utc(days.to(), Time::MIDNIGHT) + time::Duration::DAY;
                let sql = usage_sql(
                    "$1",
                    "CAST(created_at AT TIME ZONE 'UTC' AS date)",
                    "created_at >= $2 AND created_at < $3",
                );
                Ok(diesel::sql_query(sql)
                    .bind::<IdSql, _>(db_id(t))
                    .bind::<TsSql, _>(start)
                    .bind::<TsSql, _>(end)
                    .load::<SumRow>(c)
                    .await?)
            },
            sqlite: |c| {
                // Timestamps are UTC text: their date is the UTC day.
                let sql = usage_sql("?1", "date(created_at)", "date(created_at) BETWEEN ?2 AND ?3");
                Ok(diesel::sql_query(sql)
                    .bind::<IdSql, _>(db_id(t))
                    .bind::<DateSql, _>(days.from())
                    .bind::<DateSql, _>(days.to())
                    .load::<SumRow>(c)
                    .await?)
            },
        )?;
        rows.into_iter()
            .map(|r| UsageRow::try_from(r).map_err(RepoError::from))
            .collect()
    }
}
