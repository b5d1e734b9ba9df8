//! Generated insights on [`Db`] (`generated_insights`; `insights.rs` is the
//! ingested platform insights). One row per tenant, ad account and week:
//! upserting deletes the week's earlier row and inserts the new one in one
//! transaction. Findings are JSON `[{title, detail, figures}]` (figures as
//! in conversation messages, values as decimal strings), actions JSON
//! `[string]`.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::ads::DateRange;
use domain::assistant::chat::AnswerMode;
use domain::assistant::insight::{Finding, GeneratedInsightRepository, Insight};
use domain::page::{Page, PageRequest};
use domain::{InsightId, RepoError, TenantId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::Db;
use super::conversations::FigureJson;
use super::error::DbError;
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
}
