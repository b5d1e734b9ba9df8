//! Ads ports on [`Db`]: ad accounts, campaigns, ad sets and ads. Lists are
//! keyset-paginated newest first (`id < cursor ORDER BY id DESC`); updates
//! apply a patch (`None` leaves a field, `Some(None)` clears it), stamp
//! `updated_at` and return the row as stored (`RETURNING`, both backends).
//! Deletes cascade in the schema.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::ads::{
    Ad, AdAccount, AdAccountPatch, AdAccountRepository, AdAccountStatus, AdPatch, AdRepository,
    AdSet, AdSetPatch, AdSetRepository, Campaign, CampaignPatch, CampaignRepository, EntityFilter,
};
use domain::page::{Page, PageRequest};
use domain::{AdAccountId, AdId, AdSetId, CampaignId, RepoError, TenantId};
use time::OffsetDateTime;

use super::Db;
use super::error::DbError;
use super::rows::{AdAccountRow, AdRow, AdSetRow, CampaignRow, convert};
use super::types::{DbId, DbJson, DbMoney, db_id};

#[async_trait]
impl AdAccountRepository for Db {
    async fn insert(&self, a: &AdAccount) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(ad_accounts::table)
                .values((
                    ad_accounts::id.eq(db_id(a.id)),
                    ad_accounts::tenant_id.eq(db_id(a.tenant_id)),
                    ad_accounts::platform.eq(a.platform.as_str()),
                    ad_accounts::external_id.eq(&a.external_id),
                    ad_accounts::name.eq(&a.name),
                    ad_accounts::currency.eq(a.currency.as_str()),
                    ad_accounts::timezone.eq(&a.timezone),
                    ad_accounts::status.eq(a.status.as_str()),
                    ad_accounts::created_at.eq(a.created_at),
                    ad_accounts::updated_at.eq(a.updated_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("tenant_id"))?;
            Ok(())
        })
    }

    async fn find(&self, t: TenantId, id: AdAccountId) -> Result<Option<AdAccount>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = ad_accounts::table
                .filter(ad_accounts::tenant_id.eq(db_id(t)))
                .filter(ad_accounts::id.eq(db_id(id)))
                .first::<AdAccountRow>(c)
                .await
                .optional()?;
            row.map(AdAccount::try_from).transpose()
        })
    }

    async fn list(
        &self,
        t: TenantId,
        status: Option<AdAccountStatus>,
        page: PageRequest,
    ) -> Result<Page<AdAccount>, RepoError> {
        let accounts: Vec<AdAccount> = on_db!(&self.pool, |c| {
            let mut q = ad_accounts::table
                .filter(ad_accounts::tenant_id.eq(db_id(t)))
                .into_boxed();
            if let Some(s) = status {
                q = q.filter(ad_accounts::status.eq(s.as_str()));
            }
            if let Some(after) = page.after() {
                q = q.filter(ad_accounts::id.lt(DbId(after)));
            }
            let rows = q
                .order(ad_accounts::id.desc())
                .limit(page.fetch_limit())
                .load::<AdAccountRow>(c)
                .await?;
            convert(rows)
        })?;
        Ok(page.into_page(accounts, |a| a.id.into_uuid()))
    }

    async fn update(
        &self,
        t: TenantId,
        id: AdAccountId,
        patch: &AdAccountPatch,
        at: OffsetDateTime,
    ) -> Result<Option<AdAccount>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = diesel::update(
                ad_accounts::table
                    .filter(ad_accounts::tenant_id.eq(db_id(t)))
                    .filter(ad_accounts::id.eq(db_id(id))),
            )
            .set((
                patch.name.as_deref().map(|v| ad_accounts::name.eq(v)),
                patch
                    .currency
                    .as_ref()
                    .map(|v| ad_accounts::currency.eq(v.as_str())),
                patch
                    .timezone
                    .as_deref()
                    .map(|v| ad_accounts::timezone.eq(v)),
                patch.status.map(|v| ad_accounts::status.eq(v.as_str())),
                ad_accounts::updated_at.eq(at),
            ))
            .get_result::<AdAccountRow>(c)
            .await
            .optional()?;
            row.map(AdAccount::try_from).transpose()
        })
    }

    async fn delete(&self, t: TenantId, id: AdAccountId) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::delete(
                ad_accounts::table
                    .filter(ad_accounts::tenant_id.eq(db_id(t)))
                    .filter(ad_accounts::id.eq(db_id(id))),
            )
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }
}

#[async_trait]
impl CampaignRepository for Db {
    async fn insert(&self, cp: &Campaign) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(campaigns::table)
                .values((
                    campaigns::id.eq(db_id(cp.id)),
                    campaigns::tenant_id.eq(db_id(cp.tenant_id)),
                    campaigns::ad_account_id.eq(db_id(cp.ad_account_id)),
                    campaigns::external_id.eq(cp.external_id.as_deref()),
                    campaigns::name.eq(&cp.name),
                    campaigns::status.eq(cp.status.as_str()),
                    campaigns::objective.eq(cp.objective.as_deref()),
                    campaigns::daily_budget.eq(cp.daily_budget.map(DbMoney)),
                    campaigns::lifetime_budget.eq(cp.lifetime_budget.map(DbMoney)),
                    campaigns::created_at.eq(cp.created_at),
                    campaigns::updated_at.eq(cp.updated_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("ad_account_id"))?;
            Ok(())
        })
    }

    async fn find(&self, t: TenantId, id: CampaignId) -> Result<Option<Campaign>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = campaigns::table
                .filter(campaigns::tenant_id.eq(db_id(t)))
                .filter(campaigns::id.eq(db_id(id)))
                .first::<CampaignRow>(c)
                .await
                .optional()?;
            row.map(Campaign::try_from).transpose()
        })
    }

    /// Filters on status and ad account (a campaign has no parent campaign or ad set).
    async fn list(
        &self,
        t: TenantId,
        filter: EntityFilter,
        page: PageRequest,
    ) -> Result<Page<Campaign>, RepoError> {
        let items: Vec<Campaign> = on_db!(&self.pool, |c| {
            let mut q = campaigns::table
                .filter(campaigns::tenant_id.eq(db_id(t)))
                .into_boxed();
            if let Some(s) = filter.status {
                q = q.filter(campaigns::status.eq(s.as_str()));
            }
            if let Some(a) = filter.ad_account_id {
                q = q.filter(campaigns::ad_account_id.eq(db_id(a)));
            }
            if let Some(after) = page.after() {
                q = q.filter(campaigns::id.lt(DbId(after)));
            }
            let rows = q
                .order(campaigns::id.desc())
                .limit(page.fetch_limit())
                .load::<CampaignRow>(c)
                .await?;
            convert(rows)
        })?;
        Ok(page.into_page(items, |x| x.id.into_uuid()))
    }

    async fn update(
        &self,
        t: TenantId,
        id: CampaignId,
        patch: &CampaignPatch,
        at: OffsetDateTime,
    ) -> Result<Option<Campaign>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = diesel::update(
                campaigns::table
                    .filter(campaigns::tenant_id.eq(db_id(t)))
                    .filter(campaigns::id.eq(db_id(id))),
            )
            .set((
                patch.name.as_deref().map(|v| campaigns::name.eq(v)),
                patch.status.map(|v| campaigns::status.eq(v.as_str())),
                patch
                    .objective
                    .as_ref()
                    .map(|v| campaigns::objective.eq(v.as_deref())),
                patch
                    .daily_budget
                    .map(|v| campaigns::daily_budget.eq(v.map(DbMoney))),
                patch
                    .lifetime_budget
                    .map(|v| campaigns::lifetime_budget.eq(v.map(DbMoney))),
                campaigns::updated_at.eq(at),
            ))
            .get_result::<CampaignRow>(c)
            .await
            .optional()?;
            row.map(Campaign::try_from).transpose()
        })
    }

    async fn delete(&self, t: TenantId, id: CampaignId) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::delete(
                campaigns::table
                    .filter(campaigns::tenant_id.eq(db_id(t)))
                    .filter(campaigns::id.eq(db_id(id))),
            )
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }
}

#[async_trait]
impl AdSetRepository for Db {
    /// The key (tenant, ad account, campaign) must name an existing campaign.
    async fn insert(&self, s: &AdSet) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(ad_sets::table)
                .values((
                    ad_sets::id.eq(db_id(s.id)),
                    ad_sets::tenant_id.eq(db_id(s.tenant_id)),
                    ad_sets::ad_account_id.eq(db_id(s.ad_account_id)),
                    ad_sets::campaign_id.eq(db_id(s.campaign_id)),
                    ad_sets::external_id.eq(s.external_id.as_deref()),
                    ad_sets::name.eq(&s.name),
                    ad_sets::status.eq(s.status.as_str()),
                    ad_sets::daily_budget.eq(s.daily_budget.map(DbMoney)),
                    ad_sets::lifetime_budget.eq(s.lifetime_budget.map(DbMoney)),
                    ad_sets::optimization_goal.eq(s.optimization_goal.as_deref()),
                    ad_sets::created_at.eq(s.created_at),
                    ad_sets::updated_at.eq(s.updated_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("campaign_id"))?;
            Ok(())
        })
    }

    async fn find(&self, t: TenantId, id: AdSetId) -> Result<Option<AdSet>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = ad_sets::table
                .filter(ad_sets::tenant_id.eq(db_id(t)))
                .filter(ad_sets::id.eq(db_id(id)))
                .first::<AdSetRow>(c)
                .await
                .optional()?;
            row.map(AdSet::try_from).transpose()
        })
    }

    /// Filters on status, ad account and campaign.
    async fn list(
        &self,
        t: TenantId,
        filter: EntityFilter,
        page: PageRequest,
    ) -> Result<Page<AdSet>, RepoError> {
        let items: Vec<AdSet> = on_db!(&self.pool, |c| {
            let mut q = ad_sets::table
                .filter(ad_sets::tenant_id.eq(db_id(t)))
                .into_boxed();
            if let Some(s) = filter.status {
                q = q.filter(ad_sets::status.eq(s.as_str()));
            }
            if let Some(a) = filter.ad_account_id {
                q = q.filter(ad_sets::ad_account_id.eq(db_id(a)));
            }
            if let Some(cp) = filter.campaign_id {
                q = q.filter(ad_sets::campaign_id.eq(db_id(cp)));
            }
            if let Some(after) = page.after() {
                q = q.filter(ad_sets::id.lt(DbId(after)));
            }
            let rows = q
                .order(ad_sets::id.desc())
                .limit(page.fetch_limit())
                .load::<AdSetRow>(c)
                .await?;
            convert(rows)
        })?;
        Ok(page.into_page(items, |x| x.id.into_uuid()))
    }

    async fn update(
        &self,
        t: TenantId,
        id: AdSetId,
        patch: &AdSetPatch,
        at: OffsetDateTime,
    ) -> Result<Option<AdSet>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = diesel::update(
                ad_sets::table
                    .filter(ad_sets::tenant_id.eq(db_id(t)))
                    .filter(ad_sets::id.eq(db_id(id))),
            )
            .set((
                patch.name.as_deref().map(|v| ad_sets::name.eq(v)),
                patch.status.map(|v| ad_sets::status.eq(v.as_str())),
                patch
                    .daily_budget
                    .map(|v| ad_sets::daily_budget.eq(v.map(DbMoney))),
                patch
                    .lifetime_budget
                    .map(|v| ad_sets::lifetime_budget.eq(v.map(DbMoney))),
                patch
                    .optimization_goal
                    .as_ref()
                    .map(|v| ad_sets::optimization_goal.eq(v.as_deref())),
                ad_sets::updated_at.eq(at),
            ))
            .get_result::<AdSetRow>(c)
            .await
            .optional()?;
            row.map(AdSet::try_from).transpose()
        })
    }

    async fn delete(&self, t: TenantId, id: AdSetId) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::delete(
                ad_sets::table
                    .filter(ad_sets::tenant_id.eq(db_id(t)))
                    .filter(ad_sets::id.eq(db_id(id))),
            )
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }
}

#[async_trait]
impl AdRepository for Db {
    /// The key (tenant, ad account, campaign, ad set) must name an existing ad set.
    async fn insert(&self, a: &Ad) -> Result<(), RepoError> {
        on_db!(&self.pool, |c| {
            diesel::insert_into(ads::table)
                .values((
                    ads::id.eq(db_id(a.id)),
                    ads::tenant_id.eq(db_id(a.tenant_id)),
                    ads::ad_account_id.eq(db_id(a.ad_account_id)),
                    ads::campaign_id.eq(db_id(a.campaign_id)),
                    ads::ad_set_id.eq(db_id(a.ad_set_id)),
                    ads::external_id.eq(a.external_id.as_deref()),
                    ads::name.eq(&a.name),
                    ads::status.eq(a.status.as_str()),
                    ads::targeting.eq(DbJson(a.targeting.clone())),
                    ads::creative.eq(DbJson(a.creative.clone())),
                    ads::performance.eq(DbJson(a.performance.clone())),
                    ads::created_at.eq(a.created_at),
                    ads::updated_at.eq(a.updated_at),
                ))
                .execute(c)
                .await
                .map_err(|e| DbError::from(e).referencing("ad_set_id"))?;
            Ok(())
        })
    }

    async fn find(&self, t: TenantId, id: AdId) -> Result<Option<Ad>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = ads::table
                .filter(ads::tenant_id.eq(db_id(t)))
                .filter(ads::id.eq(db_id(id)))
                .first::<AdRow>(c)
                .await
                .optional()?;
            row.map(Ad::try_from).transpose()
        })
    }

    /// Filters on status, ad account, campaign and ad set.
    async fn list(
        &self,
        t: TenantId,
        filter: EntityFilter,
        page: PageRequest,
    ) -> Result<Page<Ad>, RepoError> {
        let items: Vec<Ad> = on_db!(&self.pool, |c| {
            let mut q = ads::table.filter(ads::tenant_id.eq(db_id(t))).into_boxed();
            if let Some(s) = filter.status {
                q = q.filter(ads::status.eq(s.as_str()));
            }
            if let Some(a) = filter.ad_account_id {
                q = q.filter(ads::ad_account_id.eq(db_id(a)));
            }
            if let Some(cp) = filter.campaign_id {
                q = q.filter(ads::campaign_id.eq(db_id(cp)));
            }
            if let Some(s) = filter.ad_set_id {
                q = q.filter(ads::ad_set_id.eq(db_id(s)));
            }
            if let Some(after) = page.after() {
                q = q.filter(ads::id.lt(DbId(after)));
            }
            let rows = q
                .order(ads::id.desc())
                .limit(page.fetch_limit())
                .load::<AdRow>(c)
                .await?;
            convert(rows)
        })?;
        Ok(page.into_page(items, |x| x.id.into_uuid()))
    }

    async fn update(
        &self,
        t: TenantId,
        id: AdId,
        patch: &AdPatch,
        at: OffsetDateTime,
    ) -> Result<Option<Ad>, RepoError> {
        on_db!(&self.pool, |c| {
            let row = diesel::update(
                ads::table
                    .filter(ads::tenant_id.eq(db_id(t)))
                    .filter(ads::id.eq(db_id(id))),
            )
            .set((
                patch.name.as_deref().map(|v| ads::name.eq(v)),
                patch.status.map(|v| ads::status.eq(v.as_str())),
                patch
                    .targeting
                    .as_ref()
                    .map(|v| ads::targeting.eq(DbJson(v.clone()))),
                patch
                    .creative
                    .as_ref()
                    .map(|v| ads::creative.eq(DbJson(v.clone()))),
                ads::updated_at.eq(at),
            ))
            .get_result::<AdRow>(c)
            .await
            .optional()?;
            row.map(Ad::try_from).transpose()
        })
    }

    async fn delete(&self, t: TenantId, id: AdId) -> Result<bool, RepoError> {
        on_db!(&self.pool, |c| {
            let n = diesel::delete(
                ads::table
                    .filter(ads::tenant_id.eq(db_id(t)))
                    .filter(ads::id.eq(db_id(id))),
            )
            .execute(c)
            .await?;
            Ok(n == 1)
        })
    }
}
