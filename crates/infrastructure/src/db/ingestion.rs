//! Ingestion on [`Db`]: sync runs (the job record), sealed platform tokens,
//! bronze pages, silver upserts keyed by platform id and gold KPI rows.
//!
//! Silver and gold writes are hand-built multi-row statements shared by both
//! backends (only the placeholder style differs, see `placeholder`). Each
//! upsert updates a row only when a value changed (`WHERE … <> excluded…`),
//! so the affected-row count is "inserted or changed" and a re-run of the
//! same sync writes nothing. Platform ids resolve to our ids in the same
//! statement (`JOIN` on the account's `external_id`), so a page never needs a
//! lookup round trip and rows of unknown parents are skipped.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Binary, Date, Nullable, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::ads::{DateRange, InsightLevel};
use domain::ingestion::{
    AdAccountConnections, CampaignDay, CampaignInsight, EntityDay, GoldEntity, GoldPeriod, GoldRow,
    IngestionStore, PlatformAd, PlatformAdSet, PlatformCampaign, PlatformInsight, RawPage,
    SyncCounts, SyncKind, SyncOutcome, SyncRun, SyncRunRepository, SyncStatus, Upserted,
};
use domain::kpi::KpiTotals;
use domain::page::{Page, PageRequest};
use domain::{AdAccountId, CampaignId, RepoError, SyncRunId, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Db;
use super::error::DbError;
use super::types::{DbId, DbJson, DbMoney, DbRatio, db_id};

/// Rows per statement: at most 18 binds each, far below either backend's limit.
const CHUNK: usize = 400;
/// Rows per PostgreSQL array statement (a whole Graph API page and more).
const PG_ARRAY_CHUNK: usize = 5_000;

/// `(?, ?, …)` with `n` placeholders numbered from `*next`.
fn tuple(n: usize, next: &mut usize, ph: fn(usize) -> String) -> String {
    let mut s = String::with_capacity(n * 4 + 2);
    s.push('(');
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&ph(*next));
        *next += 1;
    }
    s.push(')');
    s
}

/// `VALUES (…), (…)` for `rows` rows of `cols` placeholders, numbered from `*next`.
fn values(rows: usize, cols: usize, next: &mut usize, ph: fn(usize) -> String) -> String {
    let mut s = String::from("VALUES ");
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push_str(&tuple(cols, next, ph));
    }
    s
}

/// `t.c <> excluded.c OR …` over NOT NULL columns and `IS DISTINCT FROM`
/// over nullable ones: whether an upsert changes the stored row.
fn changed(table: &str, not_null: &[&str], nullable: &[&str]) -> String {
    let a = not_null
        .iter()
        .map(|c| format!("{table}.{c} <> excluded.{c}"));
    let b = nullable
        .iter()
        .map(|c| format!("{table}.{c} IS DISTINCT FROM excluded.{c}"));
    a.chain(b).collect::<Vec<_>>().join(" OR ")
}

fn set_excluded(cols: &[&str]) -> String {
    cols.iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn upserted(rows: usize, changed: usize) -> Upserted {
    Upserted {
        rows: to_i64(rows),
        changed: to_i64(changed),
    }
}

/// The `ON CONFLICT` tail of an entity upsert keyed by platform id: replace
/// `set` when one of the compared columns changed.
fn entity_conflict(table: &str, set: &[&str], not_null: &[&str], nullable: &[&str]) -> String {
    format!(
        " ON CONFLICT (tenant_id, ad_account_id, external_id) WHERE external_id IS NOT NULL \
         DO UPDATE SET {} WHERE {}",
        set_excluded(set),
        changed(table, not_null, nullable)
    )
}

/// In one transaction, one multi-row statement per [`CHUNK`] rows of `$rows`:
/// `$sql` is the statement for the chunk, given `$values` (its `VALUES` list
/// of `$cols` placeholders per row, numbered from `$first`); `$head` binds
/// what precedes the rows (`$q` is the fresh query) and `$row` binds one row
/// `$r` onto `$acc`. Evaluates to the rows the statements affected. Used in
/// an `on_db!` arm, whose `placeholder` and `Backend` it picks up.
macro_rules! chunked {
    ($c:ident, $rows:expr, $cols:expr, $first:expr,
     |$values:ident| $sql:expr,
     |$q:ident| $head:expr,
     |$acc:ident, $r:ident| $row:expr $(,)?) => {
        $c.transaction(async |$c| {
            let mut affected = 0usize;
            for chunk in $rows.chunks(CHUNK) {
                let mut n = $first;
                let $values = values(chunk.len(), $cols, &mut n, placeholder);
                let $q = diesel::sql_query($sql).into_boxed::<Backend>();
                let mut q = $head;
                for $r in chunk {
                    let $acc = q;
                    q = $row;
                }
                affected += q.execute($c).await?;
            }
            Ok::<_, DbError>(affected)
        })
        .await
    };
}

/// Binds a day's counts and money (impressions … revenue, the column order
/// of `insights_daily` and of the gold tables).
macro_rules! bind_totals {
    ($q:expr, $t:expr) => {
        $q.bind::<BigInt, _>($t.impressions)
            .bind::<BigInt, _>($t.clicks)
            .bind::<BigInt, _>($t.link_clicks)
            .bind::<MoneySql, _>(DbMoney($t.spend))
            .bind::<BigInt, _>($t.conversions)
            .bind::<MoneySql, _>(DbMoney($t.revenue))
    };
}

// ------------------------------------------------------------------ sync runs

#[derive(Debug, Queryable)]
struct SyncRunRow {
    id: DbId,
    tenant_id: DbId,
    ad_account_id: DbId,
    kind: String,
    status: String,
    range_from: time::Date,
    range_to: time::Date,
    queued_at: OffsetDateTime,
    started_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
    campaigns: i64,
    ad_sets: i64,
    ads: i64,
    insights: i64,
    rows_changed: i64,
    api_calls: i64,
    attempts: i32,
    error: Option<String>,
}

impl TryFrom<SyncRunRow> for SyncRun {
    type Error = DbError;
    fn try_from(r: SyncRunRow) -> Result<Self, DbError> {
        let corrupt = |e: domain::error::ValidationError| DbError::Corrupt(e.to_string());
        Ok(SyncRun {
            id: SyncRunId::from_uuid(r.id.0),
            tenant_id: TenantId::from_uuid(r.tenant_id.0),
            ad_account_id: AdAccountId::from_uuid(r.ad_account_id.0),
            kind: SyncKind::parse(&r.kind).map_err(corrupt)?,
            status: SyncStatus::parse(&r.status).map_err(corrupt)?,
            range: DateRange::new(r.range_from, r.range_to).map_err(corrupt)?,
            queued_at: r.queued_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            counts: SyncCounts {
                campaigns: r.campaigns,
                ad_sets: r.ad_sets,
                ads: r.ads,
                insights: r.insights,
            },
            rows_changed: r.rows_changed,
            api_calls: r.api_calls,
            attempts: r.attempts,
            error: r.error,
        })
    }
}

fn convert_runs(rows: Vec<SyncRunRow>) -> Result<Vec<SyncRun>, DbError> {
    rows.into_iter().map(SyncRun::try_from).collect()
}

const ACTIVE: [&str; 2] = ["queued", "running"];

#[async_trait]
impl SyncRunRepository for Db {
    async fn enqueue(&self, run: &SyncRun) -> Result<SyncRun, RepoError> {
        let inserted = on_db!(&self.pool, |c| {
            let n = diesel::insert_into(sync_runs::table)
                .values((
                    sync_runs::id.eq(db_id(run.id)),
                    sync_runs::tenant_id.eq(db_id(run.tenant_id)),
                    sync_runs::ad_account_id.eq(db_id(run.ad_account_id)),
                    sync_runs::kind.eq(run.kind.as_str()),
                    sync_runs::status.eq(run.status.as_str()),
                    sync_runs::range_from.eq(run.range.from()),
                    sync_runs::range_to.eq(run.range.to()),
                    sync_runs::queued_at.eq(run.queued_at),
                    sync_runs::started_at.eq(run.started_at),
                    sync_runs::attempts.eq(run.attempts),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("ad_account_id"));
            Ok(n)
        })?;
        match inserted.map_err(RepoError::from) {
            Ok(_) => Ok(run.clone()),
            // One platform sync per account: hand back the one in flight.
            Err(RepoError::Conflict(_)) if run.kind != SyncKind::Import => {
                let active = on_db!(&self.pool, |c| {
                    let row = sync_runs::table
                        .filter(sync_runs::tenant_id.eq(db_id(run.tenant_id)))
                        .filter(sync_runs::ad_account_id.eq(db_id(run.ad_account_id)))
                        .filter(sync_runs::status.eq_any(ACTIVE))
                        .filter(sync_runs::kind.ne("import"))
                        .first::<SyncRunRow>(c)
                        .await
                        .optional()?;
                    row.map(SyncRun::try_from).transpose()
                })?;
                active.ok_or_else(|| RepoError::Conflict("sync_run".to_owned()))
            }
            Err(e) => Err(e),
        }
    }

    async fn find(&self, t: TenantId, id: SyncRunId) -> Result<Option<SyncRun>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = sync_runs::table
                .filter(sync_runs::tenant_id.eq(db_id(t)))
                .filter(sync_runs::id.eq(db_id(id)))
                .first::<SyncRunRow>(c)
                .await
                .optional()?;
            row.map(SyncRun::try_from).transpose()
        })
    }

    async fn list(
        &self,
        t: TenantId,
        ad_account_id: Option<AdAccountId>,
        page: PageRequest,
    ) -> Result<Page<SyncRun>, RepoError> {
        let runs = on_db!(&self.pool, |c| {
            let mut q = sync_runs::table
                .filter(sync_runs::tenant_id.eq(db_id(t)))
                .into_boxed();
            if let Some(a) = ad_account_id {
                q = q.filter(sync_runs::ad_account_id.eq(db_id(a)));
            }
            if let Some(after) = page.after() {
                q = q.filter(sync_runs::id.lt(DbId(after)));
            }
            let rows = q
                .order(sync_runs::id.desc())
                .limit(page.fetch_limit())
                .load::<SyncRunRow>(c)
                .await?;
            convert_runs(rows)
        })?;
        Ok(page.into_page(runs, |r| r.id.into_uuid()))
    }

    async fn start(
        &self,
        t: TenantId,
        id: SyncRunId,
        at: OffsetDateTime,
    ) -> Result<Option<SyncRun>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = diesel::update(
                sync_runs::table
                    .filter(sync_runs::tenant_id.eq(db_id(t)))
                    .filter(sync_runs::id.eq(db_id(id)))
                    .filter(sync_runs::status.eq_any(ACTIVE)),
            )
            .set((
                sync_runs::status.eq(SyncStatus::Running.as_str()),
                sync_runs::started_at.eq(at),
                sync_runs::attempts.eq(sync_runs::attempts + 1),
            ))
            .get_result::<SyncRunRow>(c)
            .await
            .optional()?;
            row.map(SyncRun::try_from).transpose()
        })
    }

    async fn finish(
        &self,
        t: TenantId,
        id: SyncRunId,
        outcome: &SyncOutcome,
        at: OffsetDateTime,
    ) -> Result<(), RepoError> {
        self.finish_with_alerts(t, id, outcome, at, &[]).await
    }

    async fn finish_with_alerts(
        &self,
        t: TenantId,
        id: SyncRunId,
        outcome: &SyncOutcome,
        at: OffsetDateTime,
        alerts: &[domain::notify::Alert],
    ) -> Result<(), RepoError> {
        let status = if outcome.error.is_some() {
            SyncStatus::Failed
        } else {
            SyncStatus::Succeeded
        };
        on_db!(&self.pool, |c| {
            c.transaction(async |c| {
                diesel::update(
                    sync_runs::table
                        .filter(sync_runs::tenant_id.eq(db_id(t)))
                        .filter(sync_runs::id.eq(db_id(id))),
                )
                .set((
                    sync_runs::status.eq(status.as_str()),
                    sync_runs::finished_at.eq(at),
                    sync_runs::campaigns.eq(outcome.counts.campaigns),
                    sync_runs::ad_sets.eq(outcome.counts.ad_sets),
                    sync_runs::ads.eq(outcome.counts.ads),
                    sync_runs::insights.eq(outcome.counts.insights),
                    sync_runs::rows_changed.eq(outcome.rows_changed),
                    sync_runs::api_calls.eq(outcome.api_calls),
                    sync_runs::error.eq(outcome.error.as_deref()),
                ))
                .execute(c)
                .await?;
                for alert in alerts {
                    super::alerts::enqueue_in_tx(c, alert).await?;
                }
                Ok::<_, DbError>(())
            })
            .await
        })
    }

    async fn requeue(&self, t: TenantId, id: SyncRunId, error: &str) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::update(
                sync_runs::table
                    .filter(sync_runs::tenant_id.eq(db_id(t)))
                    .filter(sync_runs::id.eq(db_id(id)))
                    .filter(sync_runs::status.eq(SyncStatus::Running.as_str())),
            )
            .set((
                sync_runs::status.eq(SyncStatus::Queued.as_str()),
                sync_runs::error.eq(error),
            ))
            .execute(c)
            .await?;
            Ok(())
        })
    }

    async fn unfinished(&self, limit: u32) -> Result<Vec<SyncRun>, RepoError> {
        on_db!(&self.pool, |c| {
            let rows = sync_runs::table
                .filter(sync_runs::status.eq_any(ACTIVE))
                .order(sync_runs::queued_at.asc())
                .limit(i64::from(limit))
                .load::<SyncRunRow>(c)
                .await?;
            convert_runs(rows)
        })
    }
}

// ------------------------------------------------------------------ tokens

#[async_trait]
impl AdAccountConnections for Db {
    async fn set_sealed_token(
        &self,
        t: TenantId,
        id: AdAccountId,
        sealed: Option<Vec<u8>>,
    ) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let sql = format!(
                "UPDATE ad_accounts SET access_token_sealed = {} WHERE tenant_id = {} AND id = {}",
                placeholder(1),
                placeholder(2),
                placeholder(3)
            );
            let n = diesel::sql_query(sql)
                .bind::<Nullable<Binary>, _>(sealed.clone())
                .bind::<IdSql, _>(db_id(t))
                .bind::<IdSql, _>(db_id(id))
                .execute(c)
                .await?;
            Ok(n > 0)
        })
    }

    async fn sealed_token(
        &self,
        t: TenantId,
        id: AdAccountId,
    ) -> Result<Option<Vec<u8>>, RepoError> {
        #[derive(QueryableByName)]
        struct Sealed {
            #[diesel(sql_type = Nullable<Binary>)]
            access_token_sealed: Option<Vec<u8>>,
        }
        on_db!(&self.pool, |c| {
            let sql = format!(
                "SELECT access_token_sealed FROM ad_accounts WHERE tenant_id = {} AND id = {}",
                placeholder(1),
                placeholder(2)
            );
            let row = diesel::sql_query(sql)
                .bind::<IdSql, _>(db_id(t))
                .bind::<IdSql, _>(db_id(id))
                .get_result::<Sealed>(c)
                .await
                .optional()?;
            Ok(row.and_then(|r| r.access_token_sealed))
        })
    }

    async fn tenant_of(&self, id: AdAccountId) -> Result<Option<TenantId>, RepoError> {
        let row: Option<DbId> = on_db!(&self.pool, |c| {
            let row = ad_accounts::table
                .filter(ad_accounts::id.eq(db_id(id)))
                .select(ad_accounts::tenant_id)
                .first::<DbId>(c)
                .await
                .optional()?;
            Ok(row)
        })?;
        Ok(row.map(|t| TenantId::from_uuid(t.0)))
    }

    async fn schedulable(&self) -> Result<Vec<(TenantId, AdAccountId)>, RepoError> {
        let rows: Vec<(DbId, DbId)> = on_db!(&self.pool, |c| {
            let rows = ad_accounts::table
                .filter(ad_accounts::status.eq("ACTIVE"))
                .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "access_token_sealed IS NOT NULL",
                ))
                .select((ad_accounts::tenant_id, ad_accounts::id))
                .load::<(DbId, DbId)>(c)
                .await?;
            Ok(rows)
        })?;
        Ok(rows
            .into_iter()
            .map(|(t, a)| (TenantId::from_uuid(t.0), AdAccountId::from_uuid(a.0)))
            .collect())
    }
}

// ------------------------------------------------------------------ store

type GoldDbRow = (
    Option<DbId>,
    time::Date,
    (i64, i64, i64, DbMoney, i64, DbMoney),
    (
        Option<DbRatio>,
        Option<DbMoney>,
        Option<DbMoney>,
        Option<DbMoney>,
        Option<DbRatio>,
    ),
);

fn gold_row((campaign, period_start, totals, kpis): GoldDbRow) -> GoldRow {
    let (impressions, clicks, link_clicks, spend, conversions, revenue) = totals;
    let (ctr, cpc, cpm, cpa, roas) = kpis;
    GoldRow {
        entity: campaign.map_or(GoldEntity::Account, |c| {
            GoldEntity::Campaign(CampaignId::from_uuid(c.0))
        }),
        period_start,
        totals: KpiTotals {
            impressions,
            clicks,
            link_clicks,
            spend: spend.0,
            conversions,
            revenue: revenue.0,
        },
        kpis: domain::kpi::Kpis {
            ctr: ctr.map(|v| v.0.normalize()),
            cpc: cpc.map(|v| v.0.normalize()),
            cpm: cpm.map(|v| v.0.normalize()),
            cpa: cpa.map(|v| v.0.normalize()),
            roas: roas.map(|v| v.0.normalize()),
        },
    }
}

const CAMPAIGN_SET: [&str; 6] = [
    "name",
    "status",
    "objective",
    "daily_budget",
    "lifetime_budget",
    "updated_at",
];
const AD_SET_SET: [&str; 7] = [
    "campaign_id",
    "name",
    "status",
    "daily_budget",
    "lifetime_budget",
    "optimization_goal",
    "updated_at",
];
const AD_SET: [&str; 7] = [
    "campaign_id",
    "ad_set_id",
    "name",
    "status",
    "targeting",
    "creative",
    "updated_at",
];
const INSIGHT_VALUES: [&str; 8] = [
    "impressions",
    "clicks",
    "link_clicks",
    "spend",
    "conversions",
    "revenue",
    "actions",
    "updated_at",
];
const GOLD_VALUES: [&str; 11] = [
    "impressions",
    "clicks",
    "link_clicks",
    "spend",
    "conversions",
    "revenue",
    "ctr",
    "cpc",
    "cpm",
    "cpa",
    "roas",
];

/// The `ON CONFLICT` tail of an insights upsert: replace the values when one changed.
/// `actions` is `json` on PostgreSQL, which has no equality: it compares as
/// the text it was written as (always serialised the same way).
fn insight_conflict() -> String {
    format!(
        " ON CONFLICT (tenant_id, level, entity_id, date) DO UPDATE SET {} WHERE {} \
         OR CAST(insights_daily.actions AS text) <> CAST(excluded.actions AS text)",
        set_excluded(&INSIGHT_VALUES),
        changed(
            "insights_daily",
            &INSIGHT_VALUES[..INSIGHT_VALUES.len() - 2],
            &[]
        )
    )
}

/// Prefix of every insights upsert; the rows come from `v` joined to `src`.
const INSIGHT_INSERT: &str = "INSERT INTO insights_daily (tenant_id, ad_account_id, level, \
     entity_id, campaign_id, date, impressions, clicks, link_clicks, spend, conversions, \
     revenue, actions, updated_at) ";

#[async_trait]
impl IngestionStore for Db {
    async fn store_raw(
        &self,
        t: TenantId,
        account: AdAccountId,
        run: SyncRunId,
        page: &RawPage,
    ) -> Result<(), RepoError> {
        let params = page.params.to_string();
        on_db!(&self.pool, |c| {
            let sql = format!(
                "INSERT INTO raw_payloads (id, tenant_id, ad_account_id, sync_run_id, endpoint, \
                 params, payload, fetched_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
                placeholder(1),
                placeholder(2),
                placeholder(3),
                placeholder(4),
                placeholder(5),
                json_placeholder(6),
                placeholder(7),
                placeholder(8)
            );
            diesel::sql_query(sql)
                .bind::<IdSql, _>(DbId(Uuid::now_v7()))
                .bind::<IdSql, _>(db_id(t))
                .bind::<IdSql, _>(db_id(account))
                .bind::<IdSql, _>(db_id(run))
                .bind::<Text, _>(&page.endpoint)
                .bind::<Text, _>(&params)
                .bind::<Text, _>(&page.body)
                .bind::<TsSql, _>(page.fetched_at)
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("ad_account_id"))?;
            Ok(())
        })
    }

    async fn upsert_campaigns(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[PlatformCampaign],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError> {
        let tail = entity_conflict(
            "campaigns",
            &CAMPAIGN_SET,
            &["name", "status"],
            &CAMPAIGN_SET[2..5],
        );
        let changed = on_db!(&self.pool, |c| {
            chunked!(
                c,
                rows,
                11,
                1,
                |values| format!(
                    "INSERT INTO campaigns (id, tenant_id, ad_account_id, external_id, name, \
                     status, objective, daily_budget, lifetime_budget, created_at, \
                     updated_at) {values}{tail}"
                ),
                |q| q,
                |q, r| q
                    .bind::<IdSql, _>(DbId(Uuid::now_v7()))
                    .bind::<IdSql, _>(db_id(t))
                    .bind::<IdSql, _>(db_id(account))
                    .bind::<Text, _>(r.external_id.clone())
                    .bind::<Text, _>(r.name.clone())
                    .bind::<Text, _>(r.status.as_str())
                    .bind::<Nullable<Text>, _>(r.objective.clone())
                    .bind::<Nullable<MoneySql>, _>(r.daily_budget.map(DbMoney))
                    .bind::<Nullable<MoneySql>, _>(r.lifetime_budget.map(DbMoney))
                    .bind::<TsSql, _>(at)
                    .bind::<TsSql, _>(at),
            )
            .map_err(|e| e.referencing("ad_account_id"))
        })?;
        Ok(upserted(rows.len(), changed))
    }

    async fn upsert_ad_sets(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[PlatformAdSet],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError> {
        let tail = entity_conflict(
            "ad_sets",
            &AD_SET_SET,
            &["campaign_id", "name", "status"],
            &AD_SET_SET[3..6],
        );
        let changed = on_db!(&self.pool, |c| {
            chunked!(
                c,
                rows,
                9,
                3,
                |values| format!(
                    "WITH v (id, ext, campaign_ext, name, status, daily_budget, \
                     lifetime_budget, optimization_goal, at) AS ({values}) \
                     INSERT INTO ad_sets (id, tenant_id, ad_account_id, campaign_id, \
                     external_id, name, status, daily_budget, lifetime_budget, \
                     optimization_goal, created_at, updated_at) \
                     SELECT v.id, c.tenant_id, c.ad_account_id, c.id, v.ext, v.name, \
                     v.status, v.daily_budget, v.lifetime_budget, v.optimization_goal, \
                     v.at, v.at FROM v JOIN campaigns c ON c.tenant_id = {} \
                     AND c.ad_account_id = {} AND c.external_id = v.campaign_ext \
                     WHERE true{tail}",
                    placeholder(1),
                    placeholder(2)
                ),
                |q| q
                    .bind::<IdSql, _>(db_id(t))
                    .bind::<IdSql, _>(db_id(account)),
                |q, r| q
                    .bind::<IdSql, _>(DbId(Uuid::now_v7()))
                    .bind::<Text, _>(r.external_id.clone())
                    .bind::<Text, _>(r.campaign_external_id.clone())
                    .bind::<Text, _>(r.name.clone())
                    .bind::<Text, _>(r.status.as_str())
                    .bind::<Nullable<MoneySql>, _>(r.daily_budget.map(DbMoney))
                    .bind::<Nullable<MoneySql>, _>(r.lifetime_budget.map(DbMoney))
                    .bind::<Nullable<Text>, _>(r.optimization_goal.clone())
                    .bind::<TsSql, _>(at),
            )
        })?;
        Ok(upserted(rows.len(), changed))
    }

    async fn upsert_ads(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[PlatformAd],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError> {
        let tail = entity_conflict("ads", &AD_SET, &AD_SET[..6], &[]);
        let changed = on_db!(&self.pool, |c| {
            chunked!(
                c,
                rows,
                8,
                3,
                |values| format!(
                    "WITH v (id, ext, adset_ext, name, status, targeting, creative, at) \
                     AS ({values}) \
                     INSERT INTO ads (id, tenant_id, ad_account_id, campaign_id, ad_set_id, \
                     external_id, name, status, targeting, creative, created_at, updated_at) \
                     SELECT v.id, s.tenant_id, s.ad_account_id, s.campaign_id, s.id, v.ext, \
                     v.name, v.status, v.targeting, v.creative, v.at, v.at \
                     FROM v JOIN ad_sets s ON s.tenant_id = {} AND s.ad_account_id = {} \
                     AND s.external_id = v.adset_ext WHERE true{tail}",
                    placeholder(1),
                    placeholder(2)
                ),
                |q| q
                    .bind::<IdSql, _>(db_id(t))
                    .bind::<IdSql, _>(db_id(account)),
                |q, r| q
                    .bind::<IdSql, _>(DbId(Uuid::now_v7()))
                    .bind::<Text, _>(r.external_id.clone())
                    .bind::<Text, _>(r.adset_external_id.clone())
                    .bind::<Text, _>(r.name.clone())
                    .bind::<Text, _>(r.status.as_str())
                    .bind::<JsonSql, _>(DbJson(r.targeting.clone()))
                    .bind::<JsonSql, _>(DbJson(r.creative.clone()))
                    .bind::<TsSql, _>(at),
            )
        })?;
        Ok(upserted(rows.len(), changed))
    }

    async fn upsert_ad_insights(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[PlatformInsight],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError> {
        // `v` holds the rows; parents resolve by platform id in the same
        // statement. `actions` arrives as JSON text: PostgreSQL's `json`
        // column takes it by an explicit cast, SQLite's TEXT as is.
        let statement = |source: &str, ph: fn(usize) -> String, actions: &str| {
            format!(
                "WITH v (ext, d, impressions, clicks, link_clicks, spend, conversions, \
                 revenue, actions) AS ({source}) {INSIGHT_INSERT}\
                 SELECT a.tenant_id, a.ad_account_id, 'ad', a.id, a.campaign_id, v.d, \
                 v.impressions, v.clicks, v.link_clicks, v.spend, v.conversions, \
                 v.revenue, {actions}, {} FROM v JOIN ads a ON a.tenant_id = {} \
                 AND a.ad_account_id = {} AND a.external_id = v.ext WHERE true{}",
                ph(3),
                ph(1),
                ph(2),
                insight_conflict()
            )
        };
        let changed = on_db!(&self.pool,
            pg: |c| {
                // One array per column: a statement of 12 binds however many rows,
                // which PostgreSQL parses and plans in a fraction of the time a
                // 4,500-placeholder VALUES list takes (the hot path of a sync).
                let sql = statement(
                    "SELECT * FROM unnest(CAST($4 AS text[]), CAST($5 AS date[]), \
                     CAST($6 AS int8[]), CAST($7 AS int8[]), CAST($8 AS int8[]), \
                     CAST($9 AS numeric[]), CAST($10 AS int8[]), CAST($11 AS numeric[]), \
                     CAST($12 AS text[]))",
                    placeholder,
                    "CAST(v.actions AS json)",
                );
                c.transaction(async |c| {
                    // Durable by the run's final (synchronous) commit, which
                    // flushes the WAL written before it; a crash before that
                    // re-runs the sync, which is idempotent.
                    diesel::sql_query("SET LOCAL synchronous_commit TO OFF")
                        .execute(c)
                        .await?;
                    // The account cannot be deleted under this write: its
                    // fact rows have no per-row foreign key (migration 5),
                    // so this one lock stands in for theirs.
                    diesel::sql_query(
                        "SELECT 1 FROM ad_accounts WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE",
                    )
                    .bind::<IdSql, _>(db_id(t))
                    .bind::<IdSql, _>(db_id(account))
                    .execute(c)
                    .await?;
                    let mut changed = 0usize;
                    for chunk in rows.chunks(PG_ARRAY_CHUNK) {
                        changed += diesel::sql_query(sql.as_str())
                            .bind::<IdSql, _>(db_id(t))
                            .bind::<IdSql, _>(db_id(account))
                            .bind::<TsSql, _>(at)
                            .bind::<Array<Text>, _>(chunk.iter().map(|r| r.ad_external_id.as_str()).collect::<Vec<_>>())
                            .bind::<Array<Date>, _>(chunk.iter().map(|r| r.date).collect::<Vec<_>>())
                            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.totals.impressions).collect::<Vec<_>>())
                            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.totals.clicks).collect::<Vec<_>>())
                            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.totals.link_clicks).collect::<Vec<_>>())
                            .bind::<Array<MoneySql>, _>(chunk.iter().map(|r| DbMoney(r.totals.spend)).collect::<Vec<_>>())
                            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.totals.conversions).collect::<Vec<_>>())
                            .bind::<Array<MoneySql>, _>(chunk.iter().map(|r| DbMoney(r.totals.revenue)).collect::<Vec<_>>())
                            .bind::<Array<Text>, _>(chunk.iter().map(|r| r.actions.as_str()).collect::<Vec<_>>())
                            .execute(c)
                            .await?;
                    }
                    Ok::<_, DbError>(changed)
                })
                .await
            },
            sqlite: |c| {
                chunked!(c, rows, 9, 4,
                    |values| statement(&values, placeholder, "v.actions"),
                    |q| q
                        .bind::<IdSql, _>(db_id(t))
                        .bind::<IdSql, _>(db_id(account))
                        .bind::<TsSql, _>(at),
                    |q, r| bind_totals!(
                        q.bind::<Text, _>(r.ad_external_id.clone())
                            .bind::<Date, _>(r.date),
                        r.totals
                    )
                    .bind::<Text, _>(r.actions.clone()),
                )
            },
        )?;
        Ok(upserted(rows.len(), changed))
    }

    async fn upsert_campaign_insights(
        &self,
        t: TenantId,
        account: AdAccountId,
        rows: &[CampaignInsight],
        at: OffsetDateTime,
    ) -> Result<Upserted, RepoError> {
        let tail = insight_conflict();
        let changed = on_db!(&self.pool, |c| {
            chunked!(
                c,
                rows,
                8,
                4,
                |values| format!(
                    "WITH v (ext, d, impressions, clicks, link_clicks, spend, conversions, \
                     revenue) AS ({values}) {INSIGHT_INSERT}\
                     SELECT c.tenant_id, c.ad_account_id, 'campaign', c.id, c.id, v.d, \
                     v.impressions, v.clicks, v.link_clicks, v.spend, v.conversions, \
                     v.revenue, '[]', {} FROM v JOIN campaigns c ON c.tenant_id = {} \
                     AND c.ad_account_id = {} AND c.external_id = v.ext WHERE true{tail}",
                    placeholder(3),
                    placeholder(1),
                    placeholder(2)
                ),
                |q| q
                    .bind::<IdSql, _>(db_id(t))
                    .bind::<IdSql, _>(db_id(account))
                    .bind::<TsSql, _>(at),
                |q, r| bind_totals!(
                    q.bind::<Text, _>(r.campaign_external_id.clone())
                        .bind::<Date, _>(r.date),
                    r.totals
                ),
            )
        })?;
        Ok(upserted(rows.len(), changed))
    }

    async fn roll_up_campaigns(
        &self,
        t: TenantId,
        account: AdAccountId,
        range: DateRange,
        at: OffsetDateTime,
    ) -> Result<u64, RepoError> {
        let tail = insight_conflict();
        let n = on_db!(&self.pool, |c| {
            let sql = format!(
                "{INSIGHT_INSERT}SELECT tenant_id, ad_account_id, 'campaign', campaign_id, \
                 campaign_id, date, SUM(impressions), SUM(clicks), SUM(link_clicks), SUM(spend), \
                 SUM(conversions), SUM(revenue), '[]', {} FROM insights_daily \
                 WHERE tenant_id = {} AND ad_account_id = {} AND level = 'ad' \
                 AND date >= {} AND date <= {} \
                 GROUP BY tenant_id, ad_account_id, campaign_id, date{tail}",
                placeholder(1),
                placeholder(2),
                placeholder(3),
                placeholder(4),
                placeholder(5)
            );
            let n = diesel::sql_query(sql)
                .bind::<TsSql, _>(at)
                .bind::<IdSql, _>(db_id(t))
                .bind::<IdSql, _>(db_id(account))
                .bind::<Date, _>(range.from())
                .bind::<Date, _>(range.to())
                .execute(c)
                .await?;
            Ok(n)
        })?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    async fn campaign_days(
        &self,
        t: TenantId,
        account: AdAccountId,
        range: DateRange,
    ) -> Result<Vec<CampaignDay>, RepoError> {
        type Row = (DbId, time::Date, i64, i64, i64, DbMoney, i64, DbMoney);
        let rows: Vec<Row> = on_db!(&self.pool, |c| {
            let rows = insights_daily::table
                .filter(insights_daily::tenant_id.eq(db_id(t)))
                .filter(insights_daily::level.eq("campaign"))
                .filter(insights_daily::ad_account_id.eq(db_id(account)))
                .filter(insights_daily::date.ge(range.from()))
                .filter(insights_daily::date.le(range.to()))
                .select((
                    insights_daily::entity_id,
                    insights_daily::date,
                    insights_daily::impressions,
                    insights_daily::clicks,
                    insights_daily::link_clicks,
                    insights_daily::spend,
                    insights_daily::conversions,
                    insights_daily::revenue,
                ))
                .load::<Row>(c)
                .await?;
            Ok(rows)
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, date, impressions, clicks, link_clicks, spend, conversions, revenue)| {
                    CampaignDay {
                        campaign_id: CampaignId::from_uuid(id.0),
                        date,
                        totals: KpiTotals {
                            impressions,
                            clicks,
                            link_clicks,
                            spend: spend.0,
                            conversions,
                            revenue: revenue.0,
                        },
                    }
                },
            )
            .collect())
    }

    async fn entity_days(
        &self,
        t: TenantId,
        account: AdAccountId,
        level: InsightLevel,
        range: DateRange,
    ) -> Result<Vec<EntityDay>, RepoError> {
        type Row = (DbId, time::Date, i64, i64, i64, DbMoney, i64, DbMoney);
        if !matches!(level, InsightLevel::Ad | InsightLevel::AdSet) {
            return Ok(Vec::new());
        }
        let (rows, ad_sets): (Vec<Row>, Vec<(DbId, DbId)>) = on_db!(&self.pool, |c| {
            let rows = insights_daily::table
                .filter(insights_daily::tenant_id.eq(db_id(t)))
                .filter(insights_daily::level.eq("ad"))
                .filter(insights_daily::ad_account_id.eq(db_id(account)))
                .filter(insights_daily::date.ge(range.from()))
                .filter(insights_daily::date.le(range.to()))
                .select((
                    insights_daily::entity_id,
                    insights_daily::date,
                    insights_daily::impressions,
                    insights_daily::clicks,
                    insights_daily::link_clicks,
                    insights_daily::spend,
                    insights_daily::conversions,
                    insights_daily::revenue,
                ))
                .load::<Row>(c)
                .await?;
            let ad_sets = if level == InsightLevel::AdSet {
                ads::table
                    .filter(ads::tenant_id.eq(db_id(t)))
                    .filter(ads::ad_account_id.eq(db_id(account)))
                    .select((ads::id, ads::ad_set_id))
                    .load::<(DbId, DbId)>(c)
                    .await?
            } else {
                Vec::new()
            };
            Ok((rows, ad_sets))
        })?;
        let totals =
            |(_, _, impressions, clicks, link_clicks, spend, conversions, revenue): &Row| {
                KpiTotals {
                    impressions: *impressions,
                    clicks: *clicks,
                    link_clicks: *link_clicks,
                    spend: spend.0,
                    conversions: *conversions,
                    revenue: revenue.0,
                }
            };
        if level == InsightLevel::Ad {
            return Ok(rows
                .iter()
                .map(|r| EntityDay {
                    entity_id: r.0.0,
                    date: r.1,
                    totals: totals(r),
                })
                .collect());
        }
        let set_of: std::collections::HashMap<Uuid, Uuid> =
            ad_sets.into_iter().map(|(ad, set)| (ad.0, set.0)).collect();
        let mut sums: std::collections::BTreeMap<(Uuid, time::Date), KpiTotals> =
            std::collections::BTreeMap::new();
        for r in &rows {
            // Rows of ads deleted since are left out, as their ad set's other numbers are.
            if let Some(set) = set_of.get(&r.0.0) {
                let sum = sums.entry((*set, r.1)).or_default();
                *sum = sum.plus(&totals(r));
            }
        }
        Ok(sums
            .into_iter()
            .map(|((entity_id, date), totals)| EntityDay {
                entity_id,
                date,
                totals,
            })
            .collect())
    }

    async fn upsert_gold(
        &self,
        t: TenantId,
        account: AdAccountId,
        period: GoldPeriod,
        rows: &[GoldRow],
        at: OffsetDateTime,
    ) -> Result<u64, RepoError> {
        let table = match period {
            GoldPeriod::Day => "kpi_daily",
            GoldPeriod::Week => "kpi_weekly",
        };
        let mut set = GOLD_VALUES.to_vec();
        set.push("updated_at");
        let tail = format!(
            " ON CONFLICT (tenant_id, level, entity_id, period_start) DO UPDATE SET {} WHERE {}",
            set_excluded(&set),
            changed(table, &GOLD_VALUES[..6], &GOLD_VALUES[6..])
        );
        let columns = "INSERT INTO {table} (tenant_id, ad_account_id, level, entity_id, \
             campaign_id, period_start, impressions, clicks, link_clicks, spend, conversions, \
             revenue, ctr, cpc, cpm, cpa, roas, updated_at) "
            .replace("{table}", table);
        let entity = |r: &GoldRow| match r.entity {
            GoldEntity::Account => ("account", db_id(account), None),
            GoldEntity::Campaign(id) => ("campaign", db_id(id), Some(db_id(id))),
        };
        let changed = on_db!(&self.pool,
            pg: |c| {
                // Column arrays, as for insights: 18 binds per statement.
                let sql = format!(
                    "{columns}SELECT $1, $2, * , $18 FROM unnest(CAST($3 AS text[]), \
                     CAST($4 AS uuid[]), CAST($5 AS uuid[]), CAST($6 AS date[]), \
                     CAST($7 AS int8[]), CAST($8 AS int8[]), CAST($9 AS int8[]), \
                     CAST($10 AS numeric[]), CAST($11 AS int8[]), CAST($12 AS numeric[]), \
                     CAST($13 AS numeric[]), CAST($14 AS numeric[]), CAST($15 AS numeric[]), \
                     CAST($16 AS numeric[]), CAST($17 AS numeric[])) WHERE true{tail}"
                );
                c.transaction(async |c| {
                    diesel::sql_query("SET LOCAL synchronous_commit TO OFF")
                        .execute(c)
                        .await?;
                    let mut changed = 0usize;
                    for chunk in rows.chunks(PG_ARRAY_CHUNK) {
                        let col = |f: fn(&GoldRow) -> Option<rust_decimal::Decimal>| {
                            chunk.iter().map(|r| f(r).map(DbMoney)).collect::<Vec<_>>()
                        };
                        changed += diesel::sql_query(sql.as_str())
                            .bind::<IdSql, _>(db_id(t))
                            .bind::<IdSql, _>(db_id(account))
                            .bind::<Array<Text>, _>(chunk.iter().map(|r| entity(r).0).collect::<Vec<_>>())
                            .bind::<Array<IdSql>, _>(chunk.iter().map(|r| entity(r).1).collect::<Vec<_>>())
                            .bind::<Array<Nullable<IdSql>>, _>(chunk.iter().map(|r| entity(r).2).collect::<Vec<_>>())
                            .bind::<Array<Date>, _>(chunk.iter().map(|r| r.period_start).collect::<Vec<_>>())
                            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.totals.impressions).collect::<Vec<_>>())
                            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.totals.clicks).collect::<Vec<_>>())
                            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.totals.link_clicks).collect::<Vec<_>>())
                            .bind::<Array<MoneySql>, _>(chunk.iter().map(|r| DbMoney(r.totals.spend)).collect::<Vec<_>>())
                            .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.totals.conversions).collect::<Vec<_>>())
                            .bind::<Array<MoneySql>, _>(chunk.iter().map(|r| DbMoney(r.totals.revenue)).collect::<Vec<_>>())
                            // numeric on PostgreSQL: the scale wrappers only matter for SQLite.
                            .bind::<Array<Nullable<MoneySql>>, _>(col(|r| r.kpis.ctr))
                            .bind::<Array<Nullable<MoneySql>>, _>(col(|r| r.kpis.cpc))
                            .bind::<Array<Nullable<MoneySql>>, _>(col(|r| r.kpis.cpm))
                            .bind::<Array<Nullable<MoneySql>>, _>(col(|r| r.kpis.cpa))
                            .bind::<Array<Nullable<MoneySql>>, _>(col(|r| r.kpis.roas))
                            .bind::<TsSql, _>(at)
                            .execute(c)
                            .await
                            .map_err(|e| DbError::from(e).referencing("campaign_id"))?;
                    }
                    Ok::<_, DbError>(changed)
                })
                .await
            },
            sqlite: |c| {
                chunked!(c, rows, 18, 1,
                    |values| format!("{columns}{values}{tail}"),
                    |q| q,
                    |q, r| {
                        let (level, entity, campaign) = entity(r);
                        bind_totals!(
                            q.bind::<IdSql, _>(db_id(t))
                                .bind::<IdSql, _>(db_id(account))
                                .bind::<Text, _>(level)
                                .bind::<IdSql, _>(entity)
                                .bind::<Nullable<IdSql>, _>(campaign)
                                .bind::<Date, _>(r.period_start),
                            r.totals
                        )
                        .bind::<Nullable<MoneySql>, _>(r.kpis.ctr.map(DbRatio))
                        .bind::<Nullable<MoneySql>, _>(r.kpis.cpc.map(DbMoney))
                        .bind::<Nullable<MoneySql>, _>(r.kpis.cpm.map(DbMoney))
                        .bind::<Nullable<MoneySql>, _>(r.kpis.cpa.map(DbMoney))
                        .bind::<Nullable<MoneySql>, _>(r.kpis.roas.map(DbRatio))
                        .bind::<TsSql, _>(at)
                    },
                )
                .map_err(|e| e.referencing("campaign_id"))
            },
        )?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }

    async fn gold(
        &self,
        t: TenantId,
        account: AdAccountId,
        period: GoldPeriod,
        range: DateRange,
    ) -> Result<Vec<GoldRow>, RepoError> {
        macro_rules! read_gold {
            ($table:ident) => {
                on_db!(&self.pool, |c| {
                    let rows = $table::table
                        .filter($table::tenant_id.eq(db_id(t)))
                        .filter($table::ad_account_id.eq(db_id(account)))
                        .filter($table::period_start.ge(range.from()))
                        .filter($table::period_start.le(range.to()))
                        .order((
                            $table::level.asc(),
                            $table::entity_id.asc(),
                            $table::period_start.asc(),
                        ))
                        .select((
                            $table::campaign_id,
                            $table::period_start,
                            (
                                $table::impressions,
                                $table::clicks,
                                $table::link_clicks,
                                $table::spend,
                                $table::conversions,
                                $table::revenue,
                            ),
                            (
                                $table::ctr,
                                $table::cpc,
                                $table::cpm,
                                $table::cpa,
                                $table::roas,
                            ),
                        ))
                        .load::<GoldDbRow>(c)
                        .await?;
                    Ok(rows)
                })
            };
        }
        let rows = match period {
            GoldPeriod::Day => read_gold!(kpi_daily)?,
            GoldPeriod::Week => read_gold!(kpi_weekly)?,
        };
        Ok(rows.into_iter().map(gold_row).collect())
    }

    async fn purge_raw(&self, before: OffsetDateTime) -> Result<u64, RepoError> {
        let n = on_db!(&self.pool, |c| {
            let sql = format!(
                "DELETE FROM raw_payloads WHERE fetched_at < {}",
                placeholder(1)
            );
            let n = diesel::sql_query(sql)
                .bind::<TsSql, _>(before)
                .execute(c)
                .await?;
            Ok(n)
        })?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }
}
