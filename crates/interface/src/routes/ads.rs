//! Ads routes: ad accounts, campaigns (+ KPIs), ad sets and ads (+ top ads).
//! `GET /campaigns` and `GET /ads/top` are cache-aside in their use cases;
//! here they hand a renderer in and wrap the rendered bytes as they are.

use actix_web::{HttpResponse, web};
use application::ads::{
    NewAdAccountInput, NewAdInput, NewAdSetInput, NewCampaignInput, TopAdsQuery,
};
use bytes::Bytes;
use domain::ads::{Ad, Campaign, EntityFilter};
use domain::error::ValidationError;
use domain::kpi::KpiTotals;
use domain::{AdAccountId, AdId, AdSetId, CampaignId};
use serde::Serialize;

use super::page_request;
use crate::auth::Auth;
use crate::dto::ads::{
    AdAccountDto, AdAccountListQuery, AdDto, AdListQuery, AdSetDto, AdSetListQuery, CampaignDto,
    CampaignKpisDto, CampaignListQuery, CreateAdAccountRequest, CreateAdRequest,
    CreateAdSetRequest, CreateCampaignRequest, KpiQuery, TopAdDto, TopAdsParams,
    UpdateAdAccountRequest, UpdateAdRequest, UpdateAdSetRequest, UpdateCampaignRequest,
};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_u32, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    AdAccountEnvelope, AdAccountListEnvelope, AdEnvelope, AdListEnvelope, AdSetEnvelope,
    AdSetListEnvelope, CampaignEnvelope, CampaignKpisEnvelope, CampaignListEnvelope, E400, E401,
    E403, E404, E409, E413, E422, E429, E500, E503, TopAdListEnvelope,
};
use crate::state::AppState;

type Reply = Result<HttpResponse, ApiError>;

/// An optional UUID query parameter.
fn opt_uuid(name: &str, v: Option<&str>) -> Result<Option<uuid::Uuid>, ApiError> {
    v.filter(|s| !s.is_empty())
        .map(|s| parse_uuid(name, s))
        .transpose()
}

/// A body field the use case needs as a typed id: 422 when absent.
fn required<T>(field: &str, v: Option<T>) -> Result<T, ApiError> {
    v.ok_or_else(|| ValidationError::new(field, "is required").into())
}

/// Renders items as a JSON array of their DTOs (stored in the cache as is).
fn render<'a, T: 'a, D: Serialize>(
    items: &'a [T],
    to_dto: impl Fn(&'a T) -> D,
) -> Result<Bytes, String> {
    serde_json::to_vec(&items.iter().map(to_dto).collect::<Vec<_>>())
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

fn render_campaigns(items: &[Campaign]) -> Result<Bytes, String> {
    render(items, CampaignDto::from)
}

fn render_top_ads(items: &[(Ad, KpiTotals)]) -> Result<Bytes, String> {
    render(items, TopAdDto::from)
}

// ------------------------------------------------------------------ ad accounts

/// Ad accounts, newest first.
#[utoipa::path(
    get, path = "/api/v1/ad-accounts", tag = "ad-accounts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(AdAccountListQuery),
    responses(
        (status = 200, description = "A page of ad accounts", body = AdAccountListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_ad_accounts(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<AdAccountListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let p = state
        .ads
        .list_ad_accounts
        .execute(&actor, q.status.as_deref(), page)
        .await?;
    env::page(state.version, p, AdAccountDto::from)
}

/// Connect an ad account (admins and up).
#[utoipa::path(
    post, path = "/api/v1/ad-accounts", tag = "ad-accounts",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = CreateAdAccountRequest,
    responses(
        (status = 201, description = "Created", body = AdAccountEnvelope,
         headers(("Location" = String, description = "`/api/v1/ad-accounts/{id}`"))),
        E400, E401, E403, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_ad_account(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<CreateAdAccountRequest>,
) -> Reply {
    let b = body.into_inner();
    let a = state
        .ads
        .create_ad_account
        .execute(
            &actor,
            NewAdAccountInput {
                name: b.name,
                platform: b.platform,
                external_id: b.external_id,
                currency: b.currency,
                timezone: b.timezone,
                access_token: b.access_token,
            },
        )
        .await?;
    let location = format!("/api/v1/ad-accounts/{}", a.id);
    env::created(state.version, &location, AdAccountDto::from(a))
}

/// One ad account.
#[utoipa::path(
    get, path = "/api/v1/ad-accounts/{id}", tag = "ad-accounts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad account id")),
    responses(
        (status = 200, description = "The ad account", body = AdAccountEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_ad_account(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = AdAccountId::from_uuid(parse_uuid("id", &path)?);
    let a = state.ads.get_ad_account.execute(&actor, id).await?;
    env::ok(state.version, AdAccountDto::from(a))
}

/// Change an ad account (admins and up); only the fields present change.
#[utoipa::path(
    patch, path = "/api/v1/ad-accounts/{id}", tag = "ad-accounts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad account id")),
    request_body = UpdateAdAccountRequest,
    responses(
        (status = 200, description = "The updated ad account", body = AdAccountEnvelope),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn update_ad_account(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UpdateAdAccountRequest>,
) -> Reply {
    let id = AdAccountId::from_uuid(parse_uuid("id", &path)?);
    let a = state
        .ads
        .update_ad_account
        .execute(&actor, id, body.into_inner().into())
        .await?;
    env::ok(state.version, AdAccountDto::from(a))
}

/// Delete an ad account with everything under it (admins and up).
#[utoipa::path(
    delete, path = "/api/v1/ad-accounts/{id}", tag = "ad-accounts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad account id")),
    responses(
        (status = 204, description = "Deleted"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn delete_ad_account(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = AdAccountId::from_uuid(parse_uuid("id", &path)?);
    state.ads.delete_ad_account.execute(&actor, id).await?;
    Ok(env::no_content())
}

// ------------------------------------------------------------------ campaigns

/// Campaigns, newest first; served from the cache when fresh (`X-Cache`).
#[utoipa::path(
    get, path = "/api/v1/campaigns", tag = "campaigns",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(CampaignListQuery),
    responses(
        (status = 200, description = "A page of campaigns", body = CampaignListEnvelope,
         headers(("X-Cache" = String, description = "`HIT` when served from the cache, else `MISS`"))),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_campaigns(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<CampaignListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let account =
        opt_uuid("ad_account_id", q.ad_account_id.as_deref())?.map(AdAccountId::from_uuid);
    let list = state
        .ads
        .list_campaigns
        .execute(
            &actor,
            q.status.as_deref(),
            account,
            page,
            &render_campaigns,
        )
        .await?;
    env::cached_list(state.version, &list)
}

/// Create a campaign in one of the organization's ad accounts (admins and up).
#[utoipa::path(
    post, path = "/api/v1/campaigns", tag = "campaigns",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = CreateCampaignRequest,
    responses(
        (status = 201, description = "Created", body = CampaignEnvelope,
         headers(("Location" = String, description = "`/api/v1/campaigns/{id}`"))),
        E400, E401, E403, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_campaign(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<CreateCampaignRequest>,
) -> Reply {
    let b = body.into_inner();
    let ad_account_id = AdAccountId::from_uuid(required("ad_account_id", b.ad_account_id)?);
    let c = state
        .ads
        .create_campaign
        .execute(
            &actor,
            NewCampaignInput {
                ad_account_id,
                name: b.name,
                external_id: b.external_id,
                status: b.status,
                objective: b.objective,
                daily_budget: b.daily_budget,
                lifetime_budget: b.lifetime_budget,
            },
        )
        .await?;
    let location = format!("/api/v1/campaigns/{}", c.id);
    env::created(state.version, &location, CampaignDto::from(&c))
}

/// One campaign.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign", body = CampaignEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_campaign(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = CampaignId::from_uuid(parse_uuid("id", &path)?);
    let c = state.ads.get_campaign.execute(&actor, id).await?;
    env::ok(state.version, CampaignDto::from(&c))
}

/// Change a campaign (admins and up); `null` clears `objective` or a budget.
#[utoipa::path(
    patch, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Campaign id")),
    request_body = UpdateCampaignRequest,
    responses(
        (status = 200, description = "The updated campaign", body = CampaignEnvelope),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn update_campaign(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UpdateCampaignRequest>,
) -> Reply {
    let id = CampaignId::from_uuid(parse_uuid("id", &path)?);
    let c = state
        .ads
        .update_campaign
        .execute(&actor, id, body.into_inner().into())
        .await?;
    env::ok(state.version, CampaignDto::from(&c))
}

/// Delete a campaign with its ad sets, ads and insights (admins and up).
#[utoipa::path(
    delete, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 204, description = "Deleted"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn delete_campaign(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = CampaignId::from_uuid(parse_uuid("id", &path)?);
    state.ads.delete_campaign.execute(&actor, id).await?;
    Ok(env::no_content())
}

/// A campaign's totals and ratios over `from..=to`, computed from sums.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/kpis", tag = "campaigns",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Campaign id"), KpiQuery),
    responses(
        (status = 200, description = "KPIs over the range", body = CampaignKpisEnvelope),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn campaign_kpis(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<KpiQuery>,
) -> Reply {
    let id = CampaignId::from_uuid(parse_uuid("id", &path)?);
    let k = state
        .ads
        .campaign_kpis
        .execute(&actor, id, q.from.as_deref(), q.to.as_deref())
        .await?;
    env::ok(state.version, CampaignKpisDto::from(k))
}

// ------------------------------------------------------------------ ad sets

/// Ad sets, newest first.
#[utoipa::path(
    get, path = "/api/v1/ad-sets", tag = "ad-sets",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(AdSetListQuery),
    responses(
        (status = 200, description = "A page of ad sets", body = AdSetListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_ad_sets(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<AdSetListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = EntityFilter {
        ad_account_id: opt_uuid("ad_account_id", q.ad_account_id.as_deref())?
            .map(AdAccountId::from_uuid),
        campaign_id: opt_uuid("campaign_id", q.campaign_id.as_deref())?.map(CampaignId::from_uuid),
        ..EntityFilter::default()
    };
    let p = state
        .ads
        .list_ad_sets
        .execute(&actor, q.status.as_deref(), filter, page)
        .await?;
    env::page(state.version, p, AdSetDto::from)
}

/// Create an ad set under a campaign of this organization (admins and up).
#[utoipa::path(
    post, path = "/api/v1/ad-sets", tag = "ad-sets",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = CreateAdSetRequest,
    responses(
        (status = 201, description = "Created", body = AdSetEnvelope,
         headers(("Location" = String, description = "`/api/v1/ad-sets/{id}`"))),
        E400, E401, E403, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_ad_set(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<CreateAdSetRequest>,
) -> Reply {
    let b = body.into_inner();
    let campaign_id = CampaignId::from_uuid(required("campaign_id", b.campaign_id)?);
    let s = state
        .ads
        .create_ad_set
        .execute(
            &actor,
            NewAdSetInput {
                campaign_id,
                name: b.name,
                external_id: b.external_id,
                status: b.status,
                daily_budget: b.daily_budget,
                lifetime_budget: b.lifetime_budget,
                optimization_goal: b.optimization_goal,
            },
        )
        .await?;
    let location = format!("/api/v1/ad-sets/{}", s.id);
    env::created(state.version, &location, AdSetDto::from(s))
}

/// One ad set.
#[utoipa::path(
    get, path = "/api/v1/ad-sets/{id}", tag = "ad-sets",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad set id")),
    responses(
        (status = 200, description = "The ad set", body = AdSetEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_ad_set(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = AdSetId::from_uuid(parse_uuid("id", &path)?);
    let s = state.ads.get_ad_set.execute(&actor, id).await?;
    env::ok(state.version, AdSetDto::from(s))
}

/// Change an ad set (admins and up); `null` clears a budget or the goal.
#[utoipa::path(
    patch, path = "/api/v1/ad-sets/{id}", tag = "ad-sets",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad set id")),
    request_body = UpdateAdSetRequest,
    responses(
        (status = 200, description = "The updated ad set", body = AdSetEnvelope),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn update_ad_set(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UpdateAdSetRequest>,
) -> Reply {
    let id = AdSetId::from_uuid(parse_uuid("id", &path)?);
    let s = state
        .ads
        .update_ad_set
        .execute(&actor, id, body.into_inner().into())
        .await?;
    env::ok(state.version, AdSetDto::from(s))
}

/// Delete an ad set with its ads (admins and up).
#[utoipa::path(
    delete, path = "/api/v1/ad-sets/{id}", tag = "ad-sets",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad set id")),
    responses(
        (status = 204, description = "Deleted"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn delete_ad_set(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = AdSetId::from_uuid(parse_uuid("id", &path)?);
    state.ads.delete_ad_set.execute(&actor, id).await?;
    Ok(env::no_content())
}

// ------------------------------------------------------------------ ads

/// The best ads by ROAS, CTR or conversions over a window (default: last 30 days).
#[utoipa::path(
    get, path = "/api/v1/ads/top", tag = "ads",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(TopAdsParams),
    responses(
        (status = 200, description = "Ads with their KPIs, best first", body = TopAdListEnvelope,
         headers(("X-Cache" = String, description = "`HIT` when served from the cache, else `MISS`"))),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn top_ads(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<TopAdsParams>,
) -> Reply {
    let limit = parse_u32("limit", q.limit.as_deref())?;
    let list = state
        .ads
        .top_ads
        .execute(
            &actor,
            TopAdsQuery {
                metric: q.metric.as_deref(),
                limit,
                from: q.from.as_deref(),
                to: q.to.as_deref(),
            },
            &render_top_ads,
        )
        .await?;
    env::cached_list(state.version, &list)
}

/// Ads, newest first.
#[utoipa::path(
    get, path = "/api/v1/ads", tag = "ads",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(AdListQuery),
    responses(
        (status = 200, description = "A page of ads", body = AdListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_ads(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<AdListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = EntityFilter {
        ad_account_id: opt_uuid("ad_account_id", q.ad_account_id.as_deref())?
            .map(AdAccountId::from_uuid),
        campaign_id: opt_uuid("campaign_id", q.campaign_id.as_deref())?.map(CampaignId::from_uuid),
        ad_set_id: opt_uuid("ad_set_id", q.ad_set_id.as_deref())?.map(AdSetId::from_uuid),
        ..EntityFilter::default()
    };
    let p = state
        .ads
        .list_ads
        .execute(&actor, q.status.as_deref(), filter, page)
        .await?;
    env::page(state.version, p, |a| AdDto::from(&a))
}

/// Create an ad under an ad set of this organization (admins and up).
#[utoipa::path(
    post, path = "/api/v1/ads", tag = "ads",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = CreateAdRequest,
    responses(
        (status = 201, description = "Created", body = AdEnvelope,
         headers(("Location" = String, description = "`/api/v1/ads/{id}`"))),
        E400, E401, E403, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_ad(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<CreateAdRequest>,
) -> Reply {
    let b = body.into_inner();
    let ad_set_id = AdSetId::from_uuid(required("ad_set_id", b.ad_set_id)?);
    let a = state
        .ads
        .create_ad
        .execute(
            &actor,
            NewAdInput {
                ad_set_id,
                name: b.name,
                external_id: b.external_id,
                status: b.status,
                targeting: b.targeting,
                creative: b.creative,
            },
        )
        .await?;
    let location = format!("/api/v1/ads/{}", a.id);
    env::created(state.version, &location, AdDto::from(&a))
}

/// One ad.
#[utoipa::path(
    get, path = "/api/v1/ads/{id}", tag = "ads",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad id")),
    responses(
        (status = 200, description = "The ad", body = AdEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_ad(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = AdId::from_uuid(parse_uuid("id", &path)?);
    let a = state.ads.get_ad.execute(&actor, id).await?;
    env::ok(state.version, AdDto::from(&a))
}

/// Change an ad (admins and up); only the fields present change.
#[utoipa::path(
    patch, path = "/api/v1/ads/{id}", tag = "ads",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad id")),
    request_body = UpdateAdRequest,
    responses(
        (status = 200, description = "The updated ad", body = AdEnvelope),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn update_ad(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UpdateAdRequest>,
) -> Reply {
    let id = AdId::from_uuid(parse_uuid("id", &path)?);
    let a = state
        .ads
        .update_ad
        .execute(&actor, id, body.into_inner().into())
        .await?;
    env::ok(state.version, AdDto::from(&a))
}

/// Delete an ad (admins and up).
#[utoipa::path(
    delete, path = "/api/v1/ads/{id}", tag = "ads",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad id")),
    responses(
        (status = 204, description = "Deleted"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn delete_ad(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = AdId::from_uuid(parse_uuid("id", &path)?);
    state.ads.delete_ad.execute(&actor, id).await?;
    Ok(env::no_content())
}
