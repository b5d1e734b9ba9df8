//! Ad sets and ads: the levels below a campaign. Their account and campaign
//! are taken from the parent, so a child can never point across tenants or
//! across accounts.

use std::sync::Arc;

use domain::ads::{
    Ad, AdPatch, AdRepository, AdSet, AdSetPatch, AdSetRepository, CampaignRepository, EntityFilter,
};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::page::{Page, PageRequest};
use domain::platform::{Cache, Clock};
use domain::{AdId, AdSetId, CampaignId};
use rust_decimal::Decimal;

use super::campaigns::reference;
use super::{budget, budget_patch, cache_groups, external_id, name, short_text, status};
use crate::audit::Auditor;
use crate::error::require;
use crate::{AppError, Resource};

/// Get, list and delete read the same for both levels.
macro_rules! read_and_delete {
    ($get:ident, $list:ident, $delete:ident, $repo:ident, $id:ty, $entity:ty, $resource:expr, $label:literal) => {
        pub struct $get {
            repo: Arc<dyn $repo>,
        }

        impl $get {
            #[must_use]
            pub fn new(repo: Arc<dyn $repo>) -> Self {
                Self { repo }
            }

            /// # Errors
            /// 404 for a missing or foreign id.
            pub async fn execute(&self, actor: &Actor, id: $id) -> Result<$entity, AppError> {
                require(actor, Permission::Read)?;
                self.repo
                    .find(actor.tenant_id, id)
                    .await?
                    .ok_or(AppError::NotFound($resource))
            }
        }

        pub struct $list {
            repo: Arc<dyn $repo>,
        }

        impl $list {
            #[must_use]
            pub fn new(repo: Arc<dyn $repo>) -> Self {
                Self { repo }
            }

            /// # Errors
            /// Validation of `status`; storage failures.
            pub async fn execute(
                &self,
                actor: &Actor,
                status: Option<&str>,
                mut filter: EntityFilter,
                page: PageRequest,
            ) -> Result<Page<$entity>, AppError> {
                require(actor, Permission::Read)?;
                filter.status = status.map(domain::ads::EntityStatus::parse).transpose()?;
                Ok(self.repo.list(actor.tenant_id, filter, page).await?)
            }
        }

        pub struct $delete {
            repo: Arc<dyn $repo>,
            cache: Arc<dyn Cache>,
            audit: Auditor,
        }

        impl $delete {
            #[must_use]
            pub fn new(repo: Arc<dyn $repo>, cache: Arc<dyn Cache>, audit: Auditor) -> Self {
                Self { repo, cache, audit }
            }

            /// # Errors
            /// Forbidden below admin; 404 for a missing or foreign id.
            pub async fn execute(&self, actor: &Actor, id: $id) -> Result<(), AppError> {
                require(actor, Permission::Write)?;
                if !self.repo.delete(actor.tenant_id, id).await? {
                    return Err(AppError::NotFound($resource));
                }
                self.cache
                    .invalidate(&cache_groups::top_ads(actor.tenant_id))
                    .await;
                self.audit
                    .record(
                        actor,
                        concat!($label, ".delete"),
                        $label,
                        &id.to_string(),
                        None,
                        None,
                    )
                    .await;
                Ok(())
            }
        }
    };
}

read_and_delete!(
    GetAdSet,
    ListAdSets,
    DeleteAdSet,
    AdSetRepository,
    AdSetId,
    AdSet,
    Resource::AdSet,
    "ad_set"
);
read_and_delete!(
    GetAd,
    ListAds,
    DeleteAd,
    AdRepository,
    AdId,
    Ad,
    Resource::Ad,
    "ad"
);

// ------------------------------------------------------------------ ad sets

pub struct NewAdSetInput {
    pub campaign_id: CampaignId,
    pub name: String,
    pub external_id: Option<String>,
    pub status: String,
    pub daily_budget: Option<Decimal>,
    pub lifetime_budget: Option<Decimal>,
    pub optimization_goal: Option<String>,
}

pub struct CreateAdSet {
    campaigns: Arc<dyn CampaignRepository>,
    repo: Arc<dyn AdSetRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl CreateAdSet {
    #[must_use]
    pub fn new(
        campaigns: Arc<dyn CampaignRepository>,
        repo: Arc<dyn AdSetRepository>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            campaigns,
            repo,
            clock,
            audit,
        }
    }

    /// # Errors
    /// Forbidden below admin; validation (incl. a campaign not in this tenant).
    pub async fn execute(&self, actor: &Actor, input: NewAdSetInput) -> Result<AdSet, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let name = name("name", Some(&input.name), &mut e);
        let status = status(Some(&input.status), &mut e);
        let external_id = external_id(input.external_id.as_deref(), &mut e);
        let daily_budget = budget("daily_budget", input.daily_budget, &mut e);
        let lifetime_budget = budget("lifetime_budget", input.lifetime_budget, &mut e);
        let optimization_goal = short_text(
            "optimization_goal",
            input.optimization_goal.as_deref(),
            &mut e,
        );
        let campaign = self
            .campaigns
            .find(actor.tenant_id, input.campaign_id)
            .await?;
        if campaign.is_none() {
            e.add("campaign_id", "does not exist in this organization");
        }
        let (Some(name), Some(status), Some(campaign)) = (name, status, campaign) else {
            return Err(e.into());
        };
        e.into_result()?;
        let now = self.clock.now();
        let s = AdSet {
            id: AdSetId::generate(),
            tenant_id: actor.tenant_id,
            ad_account_id: campaign.ad_account_id,
            campaign_id: campaign.id,
            external_id,
            name,
            status,
            daily_budget,
            lifetime_budget,
            optimization_goal,
            created_at: now,
            updated_at: now,
        };
        self.repo
            .insert(&s)
            .await
            .map_err(reference("campaign_id"))?;
        self.audit
            .record(
                actor,
                "ad_set.create",
                "ad_set",
                &s.id.to_string(),
                None,
                Some(serde_json::json!({"name": s.name, "status": s.status.as_str()})),
            )
            .await;
        Ok(s)
    }
}

#[derive(Default)]
pub struct AdSetPatchInput {
    pub name: Option<String>,
    pub status: Option<String>,
    pub daily_budget: Option<Option<Decimal>>,
    pub lifetime_budget: Option<Option<Decimal>>,
    pub optimization_goal: Option<Option<String>>,
}

pub struct UpdateAdSet {
    repo: Arc<dyn AdSetRepository>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl UpdateAdSet {
    #[must_use]
    pub fn new(repo: Arc<dyn AdSetRepository>, clock: Arc<dyn Clock>, audit: Auditor) -> Self {
        Self { repo, clock, audit }
    }

    /// # Errors
    /// Forbidden below admin; validation; 404 for a missing or foreign id.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: AdSetId,
        input: AdSetPatchInput,
    ) -> Result<AdSet, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let patch = AdSetPatch {
            name: name("name", input.name.as_deref(), &mut e),
            status: status(input.status.as_deref(), &mut e),
            daily_budget: budget_patch("daily_budget", input.daily_budget, &mut e),
            lifetime_budget: budget_patch("lifetime_budget", input.lifetime_budget, &mut e),
            optimization_goal: input
                .optimization_goal
                .map(|o| short_text("optimization_goal", o.as_deref(), &mut e)),
        };
        e.into_result()?;
        let s = self
            .repo
            .update(actor.tenant_id, id, &patch, self.clock.now())
            .await?
            .ok_or(AppError::NotFound(Resource::AdSet))?;
        self.audit
            .record(
                actor,
                "ad_set.update",
                "ad_set",
                &id.to_string(),
                None,
                Some(serde_json::json!({"name": s.name, "status": s.status.as_str()})),
            )
            .await;
        Ok(s)
    }
}

// ------------------------------------------------------------------ ads

pub struct NewAdInput {
    pub ad_set_id: AdSetId,
    pub name: String,
    pub external_id: Option<String>,
    pub status: String,
    pub targeting: Option<serde_json::Value>,
    pub creative: Option<serde_json::Value>,
}

/// Targeting and creative are JSON objects (Meta's specs), at most 64 KiB each.
fn json_object(
    field: &str,
    v: Option<serde_json::Value>,
    e: &mut ValidationError,
) -> Option<serde_json::Value> {
    let v = v?;
    if !v.is_object() {
        e.add(field, "must be a JSON object");
        return None;
    }
    if v.to_string().len() > 64 * 1024 {
        e.add(field, "must be at most 64 KiB");
        return None;
    }
    Some(v)
}

pub struct CreateAd {
    ad_sets: Arc<dyn AdSetRepository>,
    repo: Arc<dyn AdRepository>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl CreateAd {
    #[must_use]
    pub fn new(
        ad_sets: Arc<dyn AdSetRepository>,
        repo: Arc<dyn AdRepository>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        audit: Auditor,
    ) -> Self {
        Self {
            ad_sets,
            repo,
            cache,
            clock,
            audit,
        }
    }

    /// # Errors
    /// Forbidden below admin; validation (incl. an ad set not in this tenant).
    pub async fn execute(&self, actor: &Actor, input: NewAdInput) -> Result<Ad, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let name = name("name", Some(&input.name), &mut e);
        let status = status(Some(&input.status), &mut e);
        let external_id = external_id(input.external_id.as_deref(), &mut e);
        let targeting = json_object("targeting", input.targeting, &mut e)
            .unwrap_or_else(|| serde_json::json!({}));
        let creative = json_object("creative", input.creative, &mut e)
            .unwrap_or_else(|| serde_json::json!({}));
        let ad_set = self.ad_sets.find(actor.tenant_id, input.ad_set_id).await?;
        if ad_set.is_none() {
            e.add("ad_set_id", "does not exist in this organization");
        }
        let (Some(name), Some(status), Some(ad_set)) = (name, status, ad_set) else {
            return Err(e.into());
        };
        e.into_result()?;
        let now = self.clock.now();
        let ad = Ad {
            id: AdId::generate(),
            tenant_id: actor.tenant_id,
            ad_account_id: ad_set.ad_account_id,
            campaign_id: ad_set.campaign_id,
            ad_set_id: ad_set.id,
            external_id,
            name,
            status,
            targeting,
            creative,
            performance: serde_json::json!({}),
            created_at: now,
            updated_at: now,
        };
        self.repo
            .insert(&ad)
            .await
            .map_err(reference("ad_set_id"))?;
        self.cache
            .invalidate(&cache_groups::top_ads(actor.tenant_id))
            .await;
        self.audit
            .record(
                actor,
                "ad.create",
                "ad",
                &ad.id.to_string(),
                None,
                Some(serde_json::json!({"name": ad.name, "status": ad.status.as_str()})),
            )
            .await;
        Ok(ad)
    }
}

#[derive(Default)]
pub struct AdPatchInput {
    pub name: Option<String>,
    pub status: Option<String>,
    pub targeting: Option<serde_json::Value>,
    pub creative: Option<serde_json::Value>,
}

pub struct UpdateAd {
    repo: Arc<dyn AdRepository>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    audit: Auditor,
}

impl UpdateAd {
    #[must_use]
    pub fn new(
        repo: Arc<dyn AdRepository>,
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
        id: AdId,
        input: AdPatchInput,
    ) -> Result<Ad, AppError> {
        require(actor, Permission::Write)?;
        let mut e = ValidationError::default();
        let patch = AdPatch {
            name: name("name", input.name.as_deref(), &mut e),
            status: status(input.status.as_deref(), &mut e),
            targeting: json_object("targeting", input.targeting, &mut e),
            creative: json_object("creative", input.creative, &mut e),
        };
        e.into_result()?;
        let ad = self
            .repo
            .update(actor.tenant_id, id, &patch, self.clock.now())
            .await?
            .ok_or(AppError::NotFound(Resource::Ad))?;
        self.cache
            .invalidate(&cache_groups::top_ads(actor.tenant_id))
            .await;
        self.audit
            .record(
                actor,
                "ad.update",
                "ad",
                &id.to_string(),
                None,
                Some(serde_json::json!({"name": ad.name, "status": ad.status.as_str()})),
            )
            .await;
        Ok(ad)
    }
}
