//! Daily insights on [`Db`]: idempotent batch upserts and the two aggregate
//! reads (campaign totals, top ads). The aggregates are one raw statement
//! each, shared by both backends: placeholders come from diesel's binds and
//! money sums are `numeric` on PostgreSQL and exact integer hundredths on
//! SQLite ([`DbMoney`] reads either).

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Date};
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, RunQueryDsl};
use domain::ads::{Ad, DateRange, InsightDaily, InsightRepository, TopMetric};
use domain::kpi::KpiTotals;
use domain::{AdAccountId, CampaignId, RepoError, TenantId};

use super::Db;
use super::error::DbError;
use super::rows::{AdRow, TotalsRow};
use super::types::{DbId, DbJson, DbMoney, db_id};

/// Rows per INSERT statement: 14 binds each, far below either backend's limit.
const UPSERT_CHUNK: usize = 500;

/// The column values of one insight row, for whichever schema is in scope.
macro_rules! insight_values {
    ($r:expr) => {
        (
            insights_daily::tenant_id.eq(db_id($r.tenant_id)),
            insights_daily::ad_account_id.eq(db_id($r.ad_account_id)),
            insights_daily::level.eq($r.level.as_str()),
            insights_daily::entity_id.eq(DbId($r.entity_id)),
            insights_daily::campaign_id.eq($r.campaign_id.map(db_id)),
            insights_daily::date.eq($r.date),
            insights_daily::impressions.eq($r.totals.impressions),
            insights_daily::clicks.eq($r.totals.clicks),
            insights_daily::link_clicks.eq($r.totals.link_clicks),
            insights_daily::spend.eq(DbMoney($r.totals.spend)),
            insights_daily::conversions.eq($r.totals.conversions),
            insights_daily::revenue.eq(DbMoney($r.totals.revenue)),
            insights_daily::actions.eq(DbJson($r.actions.clone())),
            insights_daily::updated_at.eq(diesel::dsl::now),
        )
    };
}

/// What a conflicting row is replaced with: every value of the new one.
macro_rules! insight_replace {
    () => {
        (
            insights_daily::ad_account_id.eq(excluded(insights_daily::ad_account_id)),
            insights_daily::campaign_id.eq(excluded(insights_daily::campaign_id)),
            insights_daily::impressions.eq(excluded(insights_daily::impressions)),
            insights_daily::clicks.eq(excluded(insights_daily::clicks)),
            insights_daily::link_clicks.eq(excluded(insights_daily::link_clicks)),
            insights_daily::spend.eq(excluded(insights_daily::spend)),
            insights_daily::conversions.eq(excluded(insights_daily::conversions)),
            insights_daily::revenue.eq(excluded(insights_daily::revenue)),
            insights_daily::actions.eq(excluded(insights_daily::actions)),
            insights_daily::updated_at.eq(excluded(insights_daily::updated_at)),
        )
    };
}

macro_rules! insight_key {
    () => {
        (
            insights_daily::tenant_id,
            insights_daily::level,
            insights_daily::entity_id,
            insights_daily::date,
        )
    };
}

/// `ORDER BY` for a top-ads metric over the per-ad sums `s`. Ratios are
/// computed from sums (never averaged); a ratio without a divisor sorts last.
fn order_by(metric: TopMetric) -> &'static str {
    match metric {
        TopMetric::Roas => "1.0 * s.revenue / NULLIF(s.spend, 0) DESC NULLS LAST, a.id ASC",
        TopMetric::Ctr => "1.0 * s.clicks / s.impressions DESC NULLS LAST, a.id ASC",
        TopMetric::Conversions => "s.conversions DESC, a.id ASC",
    }
}

/// Campaign-level sums over a date range; continued with binds for the range,
/// the tenant and the campaign. `GROUP BY c.id` yields no row when the campaign
/// is not this tenant's, and one row of zeros when it has no insights.
/// `campaign_totals` as a typed query: fixed SQL with four binds and a static
/// query id, so diesel keeps it as a prepared statement on each connection. A
/// `sql()` literal is never cached, and this is the hottest uncached read
/// (parse + plan on every call cost PostgreSQL about a third of its CPU).
struct CampaignTotals<Money> {
    tenant: DbId,
    campaign: DbId,
    from: time::Date,
    to: time::Date,
    money: PhantomData<Money>,
}

impl<Money> CampaignTotals<Money> {
    fn new(tenant: TenantId, campaign: CampaignId, range: DateRange) -> Self {
        Self {
            tenant: db_id(tenant),
            campaign: db_id(campaign),
            from: range.from(),
            to: range.to(),
            money: PhantomData,
        }
    }
}

impl<Money: 'static> QueryId for CampaignTotals<Money> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Money: diesel::sql_types::SqlType + diesel::sql_types::SingleValue> Query
    for CampaignTotals<Money>
{
    type SqlType = (BigInt, BigInt, BigInt, Money, BigInt, Money);
}

/// One `QueryFragment` per backend: the SQL is the same, the id type differs.
macro_rules! campaign_totals_sql {
    ($backend:ty, $id:ty) => {
        impl<Money> QueryFragment<$backend> for CampaignTotals<Money> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                out.push_sql(
                    "SELECT CAST(COALESCE(SUM(i.impressions), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(i.clicks), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(i.link_clicks), 0) AS BIGINT), \
                     COALESCE(SUM(i.spend), 0), \
                     CAST(COALESCE(SUM(i.conversions), 0) AS BIGINT), \
                     COALESCE(SUM(i.revenue), 0) \
                     FROM campaigns c LEFT JOIN insights_daily i ON i.tenant_id = c.tenant_id \
                     AND i.level = 'campaign' AND i.entity_id = c.id AND i.date >= ",
                );
                out.push_bind_param::<Date, _>(&self.from)?;
                out.push_sql(" AND i.date <= ");
                out.push_bind_param::<Date, _>(&self.to)?;
                out.push_sql(" WHERE c.tenant_id = ");
                out.push_bind_param::<$id, _>(&self.tenant)?;
                out.push_sql(" AND c.id = ");
                out.push_bind_param::<$id, _>(&self.campaign)?;
                out.push_sql(" GROUP BY c.id");
                Ok(())
            }
        }
    };
}
campaign_totals_sql!(diesel::pg::Pg, super::pg::IdSql);
campaign_totals_sql!(diesel::sqlite::Sqlite, super::sqlite::IdSql);

const TOP_ADS: &str = "SELECT a.id, a.tenant_id, a.ad_account_id, a.campaign_id, \
     a.ad_set_id, a.external_id, a.name, a.status, a.targeting, a.creative, \
     a.performance, a.created_at, a.updated_at, \
     s.impressions, s.clicks, s.link_clicks, s.spend, s.conversions, s.revenue \
     FROM (SELECT w.entity_id, \
     CAST(SUM(w.impressions) AS BIGINT) AS impressions, \
     CAST(SUM(w.clicks) AS BIGINT) AS clicks, \
     CAST(SUM(w.link_clicks) AS BIGINT) AS link_clicks, \
     SUM(w.spend) AS spend, \
     CAST(SUM(w.conversions) AS BIGINT) AS conversions, \
     SUM(w.revenue) AS revenue \
     FROM insights_daily w WHERE w.level = 'ad' AND w.tenant_id = ";

#[async_trait]
impl InsightRepository for Db {
    async fn upsert_daily(&self, rows: &[InsightDaily]) -> Result<u64, RepoError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let written = on_db!(&self.pool,
            pg: |c| {
                c.transaction(async |c| {
                    check_parents(c, rows).await?;
                    let mut written = 0usize;
                    for chunk in rows.chunks(UPSERT_CHUNK) {
                        let values: Vec<_> = chunk.iter().map(|r| insight_values!(r)).collect();
                        written += diesel::insert_into(insights_daily::table)
                            .values(values)
                            .on_conflict(insight_key!())
                            .do_update()
                            .set(insight_replace!())
                            .execute(c)
                            .await
                            .map_err(|e| DbError::from(e).referencing("ad_account_id"))?;
                    }
                    Ok::<_, DbError>(written)
                })
                .await
            },
            sqlite: |c| {
                // Multi-row upserts run on the synchronous SQLite connection.
                let rows = rows.to_vec();
                c.spawn_blocking(move |conn| sqlite_upsert(conn, &rows))
                    .await
                    .map_err(|e| DbError::from(e).referencing("ad_account_id"))
            },
        )?;
        Ok(u64::try_from(written).unwrap_or(u64::MAX))
    }

    /// One statement: the campaign (this tenant's, or no row at all) left
    /// joined to its campaign-level rows in the range.
    async fn campaign_totals(
        &self,
        t: TenantId,
        id: CampaignId,
        range: DateRange,
    ) -> Result<Option<KpiTotals>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = CampaignTotals::<MoneySql>::new(t, id, range)
                .get_result::<TotalsRow>(c)
                .await
                .optional()?;
            Ok(row.map(KpiTotals::from))
        })
    }

    /// Ad-level rows in the range, summed per ad, joined to this tenant's ads;
    /// ads without impressions are left out; ties go to the older ad id.
    async fn top_ads(
        &self,
        t: TenantId,
        metric: TopMetric,
        range: DateRange,
        limit: u16,
    ) -> Result<Vec<(Ad, KpiTotals)>, RepoError> {
        let tail = format!(
            " AND a.id = s.entity_id WHERE s.impressions > 0 ORDER BY {} LIMIT ",
            order_by(metric)
        );
        let rows = on_db!(&self.pool, |c| {
            let rows = diesel::dsl::sql::<(
                ads::SqlType,
                (BigInt, BigInt, BigInt, MoneySql, BigInt, MoneySql),
            )>(TOP_ADS)
            .bind::<IdSql, _>(db_id(t))
            .sql(" AND w.date >= ")
            .bind::<Date, _>(range.from())
            .sql(" AND w.date <= ")
            .bind::<Date, _>(range.to())
            .sql(" GROUP BY w.entity_id) s JOIN ads a ON a.tenant_id = ")
            .bind::<IdSql, _>(db_id(t))
            .sql(&tail)
            .bind::<BigInt, _>(i64::from(limit))
            .load::<(AdRow, TotalsRow)>(c)
            .await?;
            Ok(rows)
        })?;
        rows.into_iter()
            .map(|(ad, totals)| Ok((Ad::try_from(ad)?, KpiTotals::from(totals))))
            .collect::<Result<_, DbError>>()
            .map_err(RepoError::from)
    }
}

/// What PostgreSQL's dropped per-row foreign keys on `insights_daily` checked
/// (migration 5), once per distinct parent: every ad account and campaign the
/// rows name exists for their tenant, locked against deletion until commit.
/// SQLite keeps its foreign keys.
async fn check_parents(
    c: &mut diesel_async::AsyncPgConnection,
    rows: &[InsightDaily],
) -> Result<(), DbError> {
    use super::pg::{ad_accounts, campaigns};
    let mut parents: BTreeMap<(TenantId, AdAccountId), BTreeSet<CampaignId>> = BTreeMap::new();
    for r in rows {
        let campaigns = parents.entry((r.tenant_id, r.ad_account_id)).or_default();
        campaigns.extend(r.campaign_id);
    }
    for ((t, account), wanted) in parents {
        let found = ad_accounts::table
            .filter(ad_accounts::tenant_id.eq(db_id(t)))
            .filter(ad_accounts::id.eq(db_id(account)))
            .select(ad_accounts::id)
            .for_key_share()
            .load::<DbId>(c)
            .await?;
        if found.is_empty() {
            return Err(DbError::MissingParent("ad_account_id"));
        }
        let ids: Vec<DbId> = wanted.into_iter().map(db_id).collect();
        let found = campaigns::table
            .filter(campaigns::tenant_id.eq(db_id(t)))
            .filter(campaigns::ad_account_id.eq(db_id(account)))
            .filter(campaigns::id.eq_any(&ids))
            .select(campaigns::id)
            .for_key_share()
            .load::<DbId>(c)
            .await?;
        if found.len() != ids.len() {
            return Err(DbError::MissingParent("campaign_id"));
        }
    }
    Ok(())
}

/// The SQLite arm of [`InsightRepository::upsert_daily`]: the same upsert on
/// the synchronous connection, in one `BEGIN IMMEDIATE` transaction.
fn sqlite_upsert(conn: &mut diesel::SqliteConnection, rows: &[InsightDaily]) -> QueryResult<usize> {
    use super::sqlite::*;
    conn.immediate_transaction(|conn| {
        let mut written = 0;
        for chunk in rows.chunks(UPSERT_CHUNK) {
            let values: Vec<_> = chunk.iter().map(|r| insight_values!(r)).collect();
            let upsert = diesel::insert_into(insights_daily::table)
                .values(values)
                .on_conflict(insight_key!())
                .do_update()
                .set(insight_replace!());
            written += diesel::RunQueryDsl::execute(upsert, conn)?;
        }
        Ok(written)
    })
}
