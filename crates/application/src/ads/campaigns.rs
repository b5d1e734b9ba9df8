use std::sync::Arc;
use std::time::Duration;

use domain::ads::{Campaign, CampaignPatch, CampaignRepository, EntityFilter, EntityStatus};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::page::PageRequest;
use domain::platform::{Cache, Clock};
use domain::{AdAccountId, CampaignId, RepoError};
use rust_decimal::Decimal;
use serde_json::json;

use super::cached::{CachedList, Renderer};
use super::{budget, budget_patch, cache_groups, external_id, name, short_text, status};
use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

fn audit_json(c: &Campaign) -> serde_json::Value {
    json!({
        "name": c.name, "status": c.status.as_str(), "objective": c.objective,
        "daily_budget": c.daily_budget.map(|d| d.to_string()), "lifetime_budget": c.lifetime_budget.map(|d| d.to_string()),
    })
}

/// A foreign-key miss on a campaign write means the ad account is not ours.
pub(super) fn reference(field: &'static str) -> impl Fn(RepoError) -> AppError {
    move |e| match e {
        RepoError::MissingReference(_) => {
            ValidationError::new(field, "does not exist in this organization").into()
        }
        RepoError::Conflict(_) => AppError::conflict(
            "EXTERNAL_ID_TAKEN",
            "another entity of this account has this external_id",
        ),
        other => other.into(),
    }
}

pub struct NewCampaignInput {
    pub ad_account_id: AdAccountId,
    pub name: String,
    pub external_id: Option<String>,
    pub status: String,
    pub objective: Option<String>,
    pub daily_budget: Option<Decimal>,
    pub lifetime_budget: Option<Decimal>,
}

pub struct CreateCampaign {
    repo: Arc<dyn CampaignRepository>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl CreateCampaign {
    #[must_use]
    pub fn new(
        repo: Arc<dyn CampaignRepository>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            repo,
            cache,
            clock,
            audit,
        }
    }

    /// # Errors
    /// Forbidden below admin; validation (incl. an ad account not in this tenant); duplicate external id.
    pub async fn execute(
        &self,
        actor: &Actor,
        input: NewCampaignInput,
    ) -> Result<Campaign, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let name = name("name", Some(&input.name), &mut e);
        let status = status(Some(&input.status), &mut e);
        let external_id = external_id(input.external_id.as_deref(), &mut e);
        let objective = short_text("objective", input.objective.as_deref(), &mut e);
        let daily_budget = budget("daily_budget", input.daily_budget, &mut e);
        let lifetime_budget = budget("lifetime_budget", input.lifetime_budget, &mut e);
        let (Some(name), Some(status)) = (name, status) else {
            return Err(e.into());
        };
        e.into_result()?;
        let now = self.clock.now();
        let c = Campaign {
            id: CampaignId::generate(),
            tenant_id: actor.tenant_id,
            ad_account_id: input.ad_account_id,
            external_id,
            name,
            status,
            objective,
            daily_budget,
            lifetime_budget,
            created_at: now,
            updated_at: now,
        };
        self.repo
            .insert(&c)
            .await
            .map_err(reference("ad_account_id"))?;
        self.cache
            .invalidate(&cache_groups::campaigns(actor.tenant_id))
            .await;
        self.audit
            .record(
                actor,
                "campaign.create",
                "campaign",
                &c.id.to_string(),
                None,
                Some(audit_json(&c)),
            )
            .await;
        Ok(c)
    }
}

pub struct GetCampaign {
    repo: Arc<dyn CampaignRepository>,
}

impl GetCampaign {
    #[must_use]
    pub fn new(repo: Arc<dyn CampaignRepository>) -> Self {
        Self { repo }
    }

    /// # Errors
    /// 404 for a missing or foreign id.
    pub async fn execute(&self, actor: &Actor, id: CampaignId) -> Result<Campaign, AppError> {
        require(actor, Permission::Read)?;
        self.repo
            .find(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Campaign))
    }
}

/// `GET /campaigns`: cache-aside per tenant. Every variant (filters, page)
/// is a field of the tenant's campaign cache group; any campaign write drops the group.
pub struct ListCampaigns {
    repo: Arc<dyn CampaignRepository>,
    cache: Arc<dyn Cache>,
    ttl: Duration,
}

impl ListCampaigns {
    #[must_use]
    pub fn new(repo: Arc<dyn CampaignRepository>, cache: Arc<dyn Cache>, ttl: Duration) -> Self {
        Self { repo, cache, ttl }
    }

    /// # Errors
    /// Validation of `status`; storage or rendering failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        status: Option<&str>,
        ad_account_id: Option<AdAccountId>,
        page: PageRequest,
        render: Renderer<'_, Campaign>,
    ) -> Result<CachedList, AppError> {
        require(actor, Permission::Read)?;
        let status = status.map(EntityStatus::parse).transpose()?;
        let group = cache_groups::campaigns(actor.tenant_id);
        let field = format!(
            "{}|{}|{}|{}",
            status.map_or("ALL", EntityStatus::as_str),
            ad_account_id.map_or_else(|| "ALL".to_owned(), |a| a.to_string()),
            page.limit(),
            page.after().map_or_else(String::new, |u| u.to_string()),
        );
        if let Some(hit) = self
            .cache
            .get(&group, &field)
            .await
            .and_then(|raw| CachedList::decode(raw, page.limit()))
        {
            return Ok(hit);
        }
        let filter = EntityFilter {
            status,
            ad_account_id,
            ..EntityFilter::default()
        };
        let rows = self.repo.list(actor.tenant_id, filter, page).await?;
        let data = render(&rows.items).map_err(AppError::Internal)?;
        let list = CachedList {
            data,
            next_cursor: rows.next_cursor,
            limit: rows.limit,
            hit: false,
        };
        if self.ttl > Duration::ZERO {
            self.cache
                .put(&group, &field, list.encode(), self.ttl)
                .await;
        }
        Ok(list)
    }
}

#[derive(Default)]
pub struct CampaignPatchInput {
    pub name: Option<String>,
    pub status: Option<String>,
    pub objective: Option<Option<String>>,
    pub daily_budget: Option<Option<Decimal>>,
    pub lifetime_budget: Option<Option<Decimal>>,
}

pub struct UpdateCampaign {
    repo: Arc<dyn CampaignRepository>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl UpdateCampaign {
    #[must_use]
    pub fn new(
        repo: Arc<dyn CampaignRepository>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            repo,
            cache,
            clock,
            audit,
        }
    }

    /// # Errors
    /// Forbidden below admin; validation; 404 for a missing or foreign id.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: CampaignId,
        input: CampaignPatchInput,
    ) -> Result<Campaign, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let patch = CampaignPatch {
            name: name("name", input.name.as_deref(), &mut e),
            status: status(input.status.as_deref(), &mut e),
            objective: input
                .objective
                .map(|o| short_text("objective", o.as_deref(), &mut e)),
            daily_budget: budget_patch("daily_budget", input.daily_budget, &mut e),
            lifetime_budget: budget_patch("lifetime_budget", input.lifetime_budget, &mut e),
        };
        e.into_result()?;
        let before = self
            .repo
            .find(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Campaign))?;
        let after = self
            .repo
            .update(actor.tenant_id, id, &patch, self.clock.now())
            .await?
            .ok_or(AppError::NotFound(Resource::Campaign))?;
        self.cache
            .invalidate(&cache_groups::campaigns(actor.tenant_id))
            .await;
        self.audit
            .record(
                actor,
                "campaign.update",
                "campaign",
                &id.to_string(),
                Some(audit_json(&before)),
                Some(audit_json(&after)),
            )
            .await;
        Ok(after)
    }
}

/// Deletes a campaign with its ad sets, ads and insights.
pub struct DeleteCampaign {
    repo: Arc<dyn CampaignRepository>,
    cache: Arc<dyn Cache>,
    audit: Auditor,
}

impl DeleteCampaign {
    #[must_use]
    pub fn new(repo: Arc<dyn CampaignRepository>, cache: Arc<dyn Cache>, audit: Auditor) -> Self {
        Self { repo, cache, audit }
    }

    /// # Errors
    /// Forbidden below admin; 404 for a missing or foreign id.
    pub async fn execute(&self, actor: &Actor, id: CampaignId) -> Result<(), AppError> {
        require(actor, Permission::Write)?;
        let before = self
            .repo
            .find(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Campaign))?;
        if !self.repo.delete(actor.tenant_id, id).await? {
            return Err(AppError::NotFound(Resource::Campaign));
        }
        self.cache
            .invalidate(&cache_groups::campaigns(actor.tenant_id))
            .await;
        self.cache
            .invalidate(&cache_groups::top_ads(actor.tenant_id))
            .await;
        self.audit
            .record(
                actor,
                "campaign.delete",
                "campaign",
                &id.to_string(),
                Some(audit_json(&before)),
                None,
            )
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use domain::ads::MockCampaignRepository;
    use domain::identity::Role;
    use domain::page::Page;
    use domain::platform::MockCache;
    use time::macros::datetime;

    use crate::testing::{actor, new_year_clock as clock};

    fn auditor() -> Auditor {
        crate::testing::auditor(None)
    }

    fn render(items: &[Campaign]) -> Result<Bytes, String> {
        Ok(Bytes::from(format!("[{}]", items.len())))
    }

    #[tokio::test]
    async fn cache_hit_skips_the_database_and_rendering() {
        let mut repo = MockCampaignRepository::new();
        repo.expect_list().never();
        let mut cache = MockCache::new();
        cache
            .expect_get()
            .returning(|_, _| Some(Bytes::from_static(b"\n[\"cached\"]")));
        cache.expect_put().never();
        let uc = ListCampaigns::new(Arc::new(repo), Arc::new(cache), Duration::from_secs(300));
        let out = uc
            .execute(
                &actor(Role::Viewer),
                Some("ACTIVE"),
                None,
                PageRequest::first(50),
                &render,
            )
            .await
            .unwrap();
        assert!(out.hit);
        assert_eq!(out.data, Bytes::from_static(b"[\"cached\"]"));
    }

    #[tokio::test]
    async fn cache_miss_reads_renders_and_stores_under_the_tenant_group() {
        let a = actor(Role::Viewer);
        let group = cache_groups::campaigns(a.tenant_id);
        let mut repo = MockCampaignRepository::new();
        repo.expect_list()
            .withf(|_, f, _| f.status == Some(EntityStatus::Active))
            .times(1)
            .returning(|_, _, p| {
                Ok(Page {
                    items: vec![],
                    next_cursor: None,
                    limit: p.limit(),
                })
            });
        let mut cache = MockCache::new();
        cache.expect_get().returning(|_, _| None);
        let g = group.clone();
        cache
            .expect_put()
            .withf(move |grp, _, v, ttl| {
                grp == g && v.as_ref() == b"\n[0]" && *ttl == Duration::from_secs(300)
            })
            .times(1)
            .return_const(());
        let uc = ListCampaigns::new(Arc::new(repo), Arc::new(cache), Duration::from_secs(300));
        let out = uc
            .execute(&a, Some("ACTIVE"), None, PageRequest::first(50), &render)
            .await
            .unwrap();
        assert!(!out.hit);
    }

    #[tokio::test]
    async fn rejects_unknown_status_before_touching_cache() {
        let uc = ListCampaigns::new(
            Arc::new(MockCampaignRepository::new()),
            Arc::new(MockCache::new()),
            Duration::from_secs(1),
        );
        let err = uc
            .execute(
                &actor(Role::Viewer),
                Some("active"),
                None,
                PageRequest::first(50),
                &render,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Validation(v) if v.fields.contains_key("status")));
    }

    #[tokio::test]
    async fn update_invalidates_the_campaign_lists() {
        let a = actor(Role::Admin);
        let c = Campaign {
            id: CampaignId::generate(),
            tenant_id: a.tenant_id,
            ad_account_id: AdAccountId::generate(),
            external_id: None,
            name: "Summer".into(),
            status: EntityStatus::Active,
            objective: None,
            daily_budget: None,
            lifetime_budget: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
            updated_at: datetime!(2026-01-01 0:00 UTC),
        };
        let mut repo = MockCampaignRepository::new();
        let found = c.clone();
        repo.expect_find()
            .returning(move |_, _| Ok(Some(found.clone())));
        let updated = Campaign {
            status: EntityStatus::Paused,
            ..c.clone()
        };
        repo.expect_update()
            .returning(move |_, _, _, _| Ok(Some(updated.clone())));
        let mut cache = MockCache::new();
        let g = cache_groups::campaigns(a.tenant_id);
        cache
            .expect_invalidate()
            .withf(move |grp| grp == g)
            .times(1)
            .return_const(());
        let uc = UpdateCampaign::new(Arc::new(repo), Arc::new(cache), clock(), auditor());
        let input = CampaignPatchInput {
            status: Some("PAUSED".into()),
            ..CampaignPatchInput::default()
        };
        assert_eq!(
            uc.execute(&a, c.id, input).await.unwrap().status,
            EntityStatus::Paused
        );
    }

    #[tokio::test]
    async fn viewers_cannot_create_campaigns() {
        let mut repo = MockCampaignRepository::new();
        repo.expect_insert().never();
        let uc = CreateCampaign::new(
            Arc::new(repo),
            Arc::new(MockCache::new()),
            clock(),
            auditor(),
        );
        let input = NewCampaignInput {
            ad_account_id: AdAccountId::generate(),
            name: "x".into(),
            external_id: None,
            status: "ACTIVE".into(),
            objective: None,
            daily_budget: None,
            lifetime_budget: None,
        };
        assert_eq!(
            uc.execute(&actor(Role::Viewer), input).await.unwrap_err(),
            AppError::Forbidden
        );
    }
}
