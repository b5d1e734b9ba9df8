//! Ads use cases: ad accounts, campaigns, ad sets and ads (manual entry until
//! the sync fills them), campaign KPIs and top ads. Lists that dashboards poll
//! are cache-aside; every write that changes what they show drops the cache.

mod accounts;
mod cached;
mod campaigns;
mod creatives;
mod kpis;

pub use accounts::{
    AdAccountPatchInput, CreateAdAccount, DeleteAdAccount, GetAdAccount, ListAdAccounts,
    NewAdAccountInput, TokenVault, UpdateAdAccount,
};
pub use cached::{CachedList, Renderer};
pub use campaigns::{
    CampaignPatchInput, CreateCampaign, DeleteCampaign, GetCampaign, ListCampaigns,
    NewCampaignInput, UpdateCampaign,
};
pub use creatives::{
    AdPatchInput, AdSetPatchInput, CreateAd, CreateAdSet, DeleteAd, DeleteAdSet, GetAd, GetAdSet,
    ListAdSets, ListAds, NewAdInput, NewAdSetInput, UpdateAd, UpdateAdSet,
};
pub use kpis::{CampaignKpis, GetCampaignKpis, TopAds, TopAdsQuery};

use domain::ads::{Amount, EntityStatus};
use domain::error::ValidationError;
use rust_decimal::Decimal;

/// Validates an optional budget field.
fn budget(field: &str, v: Option<Decimal>, errors: &mut ValidationError) -> Option<Decimal> {
    v.and_then(|d| {
        Amount::parse(field, d)
            .map(|a| a.value())
            .map_err(|e| errors.merge(e))
            .ok()
    })
}

/// Validates a patch of a nullable budget (`Some(None)` clears it).
fn budget_patch(
    field: &str,
    v: Option<Option<Decimal>>,
    errors: &mut ValidationError,
) -> Option<Option<Decimal>> {
    match v {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => budget(field, Some(d), errors).map(Some),
    }
}

fn status(v: Option<&str>, errors: &mut ValidationError) -> Option<EntityStatus> {
    v.and_then(|s| EntityStatus::parse(s).map_err(|e| errors.merge(e)).ok())
}

fn name(field: &str, v: Option<&str>, errors: &mut ValidationError) -> Option<String> {
    v.and_then(|s| {
        domain::identity::Name::parse(field, s)
            .map(domain::identity::Name::into_string)
            .map_err(|e| errors.merge(e))
            .ok()
    })
}

fn external_id(v: Option<&str>, errors: &mut ValidationError) -> Option<String> {
    v.and_then(|s| {
        domain::ExternalId::parse(s)
            .map(|x| x.as_str().to_owned())
            .map_err(|e| errors.merge(e))
            .ok()
    })
}

/// Short free-text fields (objective, optimisation goal): trimmed, ≤ 100 characters.
fn short_text(field: &str, v: Option<&str>, errors: &mut ValidationError) -> Option<String> {
    let s = v?.trim();
    if s.chars().count() > 100 {
        errors.add(field, "must be at most 100 characters");
        return None;
    }
    (!s.is_empty()).then(|| s.to_owned())
}

/// Cache groups (one per tenant and list) so one write drops every variant.
pub mod cache_groups {
    use domain::TenantId;

    #[must_use]
    pub fn campaigns(t: TenantId) -> String {
        format!("t:{t}:campaigns")
    }

    #[must_use]
    pub fn top_ads(t: TenantId) -> String {
        format!("t:{t}:top_ads")
    }
}
