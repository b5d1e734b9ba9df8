//! Generated insights on [`Db`] (`generated_insights`; `insights.rs` is the
//! ingested platform insights). One row per tenant, ad account and week:
//! upserting deletes the week's earlier row and inserts the new one in one
//! transaction. Findings are JSON `[{title, detail, figures}]` (figures as
//! in conversation messages, values as decimal strings), actions JSON
//! `[string]`.
//!
//! The weekly round's claims (`generated_insight_claims`) are taken with one
//! atomic insert-if-absent, so on PostgreSQL two workers never both write an
//! account's week; an expired claim is deleted first, in the same
//! transaction.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::ads::{AdAccount, DateRange};
use domain::assistant::chat::AnswerMode;
use domain::assistant::insight::{Finding, GeneratedInsightRepository, Insight};
use domain::page::{Page, PageRequest};
use domain::{AdAccountId, InsightId, RepoError, TenantId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::Db;
use super::conversations::FigureJson;
use super::error::DbError;
use super::rows::AdAccountRow;
use super::types::{DbId, DbJson, db_id};

macro_rules! insight_columns {
    () => {
        (
            generated_insights::id,
            generated_insights::tenant_id,
            generated_insights::ad_account_id,
            generated_insights::week_start,
            generated_insights::week_end,
            generated_insights::headline,
            generated_insights::findings,
            generated_insights::actions,
            generated_insights::mode,
            generated_insights::verified,
            generated_insights::prompt_tokens,
            generated_insights::completion_tokens,
            generated_insights::created_at,
        )
    };
}

#[derive(Debug, Queryable)]
struct InsightRow {
    id: DbId,
    tenant_id: DbId,
    ad_account_id: DbId,
    week_start: Date,
    week_end: Date,
    headline: String,
    findings: DbJson,
    actions: DbJson,
    mode: String,
    verified: bool,
    prompt_tokens: i64,
    completion_tokens: i64,
    created_at: OffsetDateTime,
}

/// A finding as stored.
#[derive(Debug, Serialize, Deserialize)]
struct FindingJson {
    title: String,
    detail: String,
    figures: Vec<FigureJson>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Corrupt(format!("generated insight {what}: {e}"))
}

fn findings_json(findings: &[Finding]) -> Result<DbJson, DbError> {
    let list: Vec<FindingJson> = findings
        .iter()
        .map(|f| FindingJson {
            title: f.title.clone(),
            detail: f.detail.clone(),
            figures: f.figures.iter().map(FigureJson::from).collect(),
        })
        .collect();
    serde_json::to_value(list)
        .map(DbJson)
        .map_err(|e| corrupt("findings", e))
}

impl TryFrom<InsightRow> for Insight {
    type Error = DbError;

    fn try_from(r: InsightRow) -> Result<Self, DbError> {
        let list: Vec<FindingJson> =
            serde_json::from_value(r.findings.0).map_err(|e| corrupt("findings", e))?;
        let findings = list
            .into_iter()
            .map(|f| {
                Ok(Finding {
                    title: f.title,
                    detail: f.detail,
                    figures: f
                        .figures
                        .into_iter()
                        .map(|g| g.into_figure().map_err(|e| corrupt("figure value", e)))
                        .collect::<Result<_, DbError>>()?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        Ok(Insight {
            id: InsightId::from_uuid(r.id.0),
            tenant_id: r.tenant_id.0.into(),
            ad_account_id: r.ad_account_id.0.into(),
            week: DateRange::new(r.week_start, r.week_end).map_err(|e| corrupt("week", e))?,
            headline: r.headline,
            findings,
            actions: serde_json::from_value(r.actions.0).map_err(|e| corrupt("actions", e))?,
            mode: AnswerMode::parse(&r.mode).ok_or_else(|| corrupt("mode", &r.mode))?,
            verified: r.verified,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            created_at: r.created_at,
        })
    }
}

/// The condition on `ad_accounts a` of an account that spent in the week
/// `start..=end` (gold, any level) and has neither the week's document nor
/// a claim on it held past `at` (placeholders of the caller's statement).
fn lacking_week(start: &str, end: &str, at: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM kpi_daily k WHERE k.tenant_id = a.tenant_id \
           AND k.ad_account_id = a.id AND k.period_start BETWEEN {start} AND {end} \
           AND k.spend > 0) \
         AND NOT EXISTS (SELECT 1 FROM generated_insights g WHERE g.tenant_id = a.tenant_id \
           AND g.ad_account_id = a.id AND g.week_start = {start}) \
         AND NOT EXISTS (SELECT 1 FROM generated_insight_claims l \
           WHERE l.tenant_id = a.tenant_id AND l.ad_account_id = a.id \
           AND l.week_start = {start} AND l.claimed_until > {at})"
    )
}

#[async_trait]
impl GeneratedInsightRepository for Db {
    async fn upsert(&self, i: &Insight) -> Result<(), RepoError> {
        let findings = findings_json(&i.findings).map_err(RepoError::from)?;
        let actions = serde_json::to_value(&i.actions)
            .map(DbJson)
            .map_err(|e| RepoError::from(corrupt("actions", e)))?;
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                diesel::delete(
                    generated_insights::table
                        .filter(generated_insights::tenant_id.eq(db_id(i.tenant_id)))
                        .filter(generated_insights::ad_account_id.eq(db_id(i.ad_account_id)))
                        .filter(generated_insights::week_start.eq(i.week.from())),
                )
                .execute(c)
                .await?;
                diesel::insert_into(generated_insights::table)
                    .values((
                        generated_insights::tenant_id.eq(db_id(i.tenant_id)),
                        generated_insights::id.eq(DbId(i.id.into_uuid())),
                        generated_insights::ad_account_id.eq(db_id(i.ad_account_id)),
                        generated_insights::week_start.eq(i.week.from()),
                        generated_insights::week_end.eq(i.week.to()),
                        generated_insights::headline.eq(&i.headline),
                        generated_insights::findings.eq(&findings),
                        generated_insights::actions.eq(&actions),
                        generated_insights::mode.eq(i.mode.as_str()),
                        generated_insights::verified.eq(i.verified),
                        generated_insights::prompt_tokens.eq(i.prompt_tokens),
                        generated_insights::completion_tokens.eq(i.completion_tokens),
                        generated_insights::created_at.eq(i.created_at),
                    ))
                    .execute(c)
                    .await?;
                record_usage!(
                    c,
                    db_id(i.tenant_id),
                    DbId(i.id.into_uuid()),
                    "insights",
                    i.prompt_tokens,
                    i.completion_tokens,
                    i.created_at
                )?;
                Ok::<_, DbError>(())
            })
            .await
        })
    }

    async fn get(&self, t: TenantId, id: InsightId) -> Result<Option<Insight>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = generated_insights::table
                .filter(generated_insights::tenant_id.eq(db_id(t)))
                .filter(generated_insights::id.eq(DbId(id.into_uuid())))
                .select(insight_columns!())
                .first::<InsightRow>(c)
                .await
                .optional()?;
            row.map(Insight::try_from).transpose()
        })
    }

    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Insight>, RepoError> {
        let items: Vec<Insight> = on_db!(&self.pool, |c| {
            let mut q = generated_insights::table
                .filter(generated_insights::tenant_id.eq(db_id(t)))
                .select(insight_columns!())
                .into_boxed();
            if let Some(after) = page.after() {
                q = q.filter(generated_insights::id.lt(DbId(after)));
            }
            let rows = q
                .order(generated_insights::id.desc())
                .limit(page.fetch_limit())
                .load::<InsightRow>(c)
                .await?;
            rows.into_iter().map(Insight::try_from).collect()
        })?;
        Ok(page.into_page(items, |i| i.id.into_uuid()))
    }

    async fn missing_week_zones(
        &self,
        week: DateRange,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, RepoError> {
        on_db!(&self.pool, |c| {
            #[derive(QueryableByName)]
            struct Zone {
                #[diesel(sql_type = diesel::sql_types::Text)]
                timezone: String,
            }
            let sql = format!(
                "SELECT DISTINCT a.timezone FROM ad_accounts a WHERE {}",
                lacking_week(&placeholder(1), &placeholder(2), &placeholder(3))
            );
            let zones = diesel::sql_query(sql)
                .bind::<diesel::sql_types::Date, _>(week.from())
                .bind::<diesel::sql_types::Date, _>(week.to())
                .bind::<TsSql, _>(now)
                .load::<Zone>(c)
                .await?;
            Ok(zones.into_iter().map(|z| z.timezone).collect())
        })
    }

    async fn missing_week(
        &self,
        week: DateRange,
        zones: &[String],
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AdAccount>, RepoError> {
        if zones.is_empty() {
            return Ok(Vec::new());
        }
        on_db!(&self.pool, |c| {
            #[derive(QueryableByName)]
            struct Key {
                #[diesel(sql_type = IdSql)]
                tenant_id: DbId,
                #[diesel(sql_type = IdSql)]
                id: DbId,
            }
            // Binds: 1–3 the week and now, then the zones, then the limit.
            let listed: Vec<String> = (0..zones.len()).map(|i| placeholder(i + 4)).collect();
            let sql = format!(
                "SELECT a.tenant_id, a.id FROM ad_accounts a WHERE {} \
                 AND a.timezone IN ({}) ORDER BY a.tenant_id, a.id LIMIT {}",
                lacking_week(&placeholder(1), &placeholder(2), &placeholder(3)),
                listed.join(", "),
                placeholder(zones.len() + 4)
            );
            let mut q = diesel::sql_query(sql)
                .into_boxed::<Backend>()
                .bind::<diesel::sql_types::Date, _>(week.from())
                .bind::<diesel::sql_types::Date, _>(week.to())
                .bind::<TsSql, _>(now);
            for z in zones {
                q = q.bind::<diesel::sql_types::Text, _>(z.clone());
            }
            let keys = q
                .bind::<diesel::sql_types::BigInt, _>(i64::from(limit))
                .load::<Key>(c)
                .await?;
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let wanted: std::collections::HashSet<(uuid::Uuid, uuid::Uuid)> =
                keys.iter().map(|k| (k.tenant_id.0, k.id.0)).collect();
            // Account ids are unique; the tenant is checked on the way out.
            let rows = ad_accounts::table
                .filter(ad_accounts::id.eq_any(keys.iter().map(|k| k.id).collect::<Vec<_>>()))
                .order((ad_accounts::tenant_id, ad_accounts::id))
                .load::<AdAccountRow>(c)
                .await?;
            rows.into_iter()
                .filter(|r| wanted.contains(&(r.tenant_id.0, r.id.0)))
                .map(AdAccount::try_from)
                .collect()
        })
    }

    async fn claim_week(
        &self,
        t: TenantId,
        account: AdAccountId,
        week: DateRange,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                diesel::delete(
                    generated_insight_claims::table
                        .filter(generated_insight_claims::tenant_id.eq(db_id(t)))
                        .filter(generated_insight_claims::ad_account_id.eq(db_id(account)))
                        .filter(generated_insight_claims::week_start.eq(week.from()))
                        .filter(generated_insight_claims::claimed_until.le(now)),
                )
                .execute(c)
                .await?;
                // Insert-if-absent: a concurrent claimer's row (or the
                // week's document) makes this insert nothing.
                let (tenant, id, start, hold) = (
                    placeholder(1),
                    placeholder(2),
                    placeholder(3),
                    placeholder(4),
                );
                let sql = format!(
                    "INSERT INTO generated_insight_claims \
                       (tenant_id, ad_account_id, week_start, claimed_until) \
                     SELECT {tenant}, {id}, {start}, {hold} \
                     WHERE NOT EXISTS (SELECT 1 FROM generated_insights g \
                       WHERE g.tenant_id = {tenant} AND g.ad_account_id = {id} \
                       AND g.week_start = {start}) \
                     ON CONFLICT (tenant_id, ad_account_id, week_start) DO NOTHING"
                );
                let claimed = diesel::sql_query(sql)
                    .bind::<IdSql, _>(db_id(t))
                    .bind::<IdSql, _>(db_id(account))
                    .bind::<diesel::sql_types::Date, _>(week.from())
                    .bind::<TsSql, _>(until)
                    .execute(c)
                    .await?;
                Ok::<_, DbError>(claimed == 1)
            })
            .await
        })
    }

    async fn release_week(
        &self,
        t: TenantId,
        account: AdAccountId,
        week: DateRange,
    ) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::delete(
                generated_insight_claims::table
                    .filter(generated_insight_claims::tenant_id.eq(db_id(t)))
                    .filter(generated_insight_claims::ad_account_id.eq(db_id(account)))
                    .filter(generated_insight_claims::week_start.eq(week.from())),
            )
            .execute(c)
            .await?;
            Ok(())
        })
    }
}
