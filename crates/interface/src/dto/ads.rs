//! Ads DTOs: ad accounts, campaigns, ad sets, ads, KPIs and list queries.
//! Money is a string with two decimals; PATCH bodies tell an absent field
//! (leave alone) from `null` (clear) for nullable fields.

use application::ads::{
    AdAccountPatchInput, AdPatchInput, AdSetPatchInput, CampaignKpis, CampaignPatchInput,
};
use domain::ads::{Ad, AdAccount, AdAccountStatus, AdSet, Campaign, EntityStatus};
use domain::kpi::{KpiTotals, Kpis};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{date, double_option, money, money_opt, ratio, timestamp};

/// Delivery status of a campaign, ad set or ad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityStatusDto {
    Active,
    Paused,
    Archived,
    Deleted,
}

impl From<EntityStatus> for EntityStatusDto {
    fn from(s: EntityStatus) -> Self {
        match s {
            EntityStatus::Active => Self::Active,
            EntityStatus::Paused => Self::Paused,
            EntityStatus::Archived => Self::Archived,
            EntityStatus::Deleted => Self::Deleted,
        }
    }
}

/// Connection state of an ad account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AdAccountStatusDto {
    Active,
    Disabled,
    NeedsReauth,
}

impl From<AdAccountStatus> for AdAccountStatusDto {
    fn from(s: AdAccountStatus) -> Self {
        match s {
            AdAccountStatus::Active => Self::Active,
            AdAccountStatus::Disabled => Self::Disabled,
            AdAccountStatus::NeedsReauth => Self::NeedsReauth,
        }
    }
}

/// Ad platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlatformDto {
    Meta,
}

// ------------------------------------------------------------------ ad accounts

#[derive(Debug, Serialize, ToSchema)]
pub struct AdAccountDto {
    pub id: Uuid,
    pub platform: PlatformDto,
    /// The account id on the platform (Meta: `act_…` digits).
    pub external_id: String,
    pub name: String,
    /// ISO 4217; every money field under this account is in it.
    #[schema(example = "BRL")]
    pub currency: String,
    /// IANA zone defining the account's calendar days.
    #[schema(example = "America/Sao_Paulo")]
    pub timezone: String,
    pub status: AdAccountStatusDto,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<AdAccount> for AdAccountDto {
    fn from(a: AdAccount) -> Self {
        Self {
            id: a.id.into_uuid(),
            platform: match a.platform {
                domain::ads::AdPlatform::Meta => PlatformDto::Meta,
            },
            external_id: a.external_id,
            name: a.name,
            currency: a.currency.as_str().to_owned(),
            timezone: a.timezone,
            status: a.status.into(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAdAccountRequest {
    #[serde(default)]
    #[schema(required = true, example = "Acme BR")]
    pub name: String,
    #[serde(default)]
    #[schema(required = true, value_type = PlatformDto)]
    pub platform: String,
    #[serde(default)]
    #[schema(required = true, example = "act_1234567890")]
    pub external_id: String,
    #[serde(default)]
    #[schema(required = true, example = "BRL")]
    pub currency: String,
    #[serde(default)]
    #[schema(required = true, example = "America/Sao_Paulo")]
    pub timezone: String,
    /// The platform access token (write-only: stored encrypted, never returned).
    #[schema(write_only, example = "EAAB...")]
    pub access_token: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateAdAccountRequest {
    pub name: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
    #[schema(value_type = Option<AdAccountStatusDto>)]
    pub status: Option<String>,
    /// A new platform access token (write-only). Reactivates an account
    /// marked `NEEDS_REAUTH` unless `status` says otherwise.
    #[schema(write_only)]
    pub access_token: Option<String>,
}

impl From<UpdateAdAccountRequest> for AdAccountPatchInput {
    fn from(r: UpdateAdAccountRequest) -> Self {
        Self {
            name: r.name,
            currency: r.currency,
            timezone: r.timezone,
            status: r.status,
            access_token: r.access_token,
        }
    }
}

// ------------------------------------------------------------------ campaigns

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignDto {
    pub id: Uuid,
    pub ad_account_id: Uuid,
    pub external_id: Option<String>,
    pub name: String,
    pub status: EntityStatusDto,
    pub objective: Option<String>,
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "150.00")]
    pub daily_budget: Option<Decimal>,
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "4500.00")]
    pub lifetime_budget: Option<Decimal>,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<&Campaign> for CampaignDto {
    fn from(c: &Campaign) -> Self {
        Self {
            id: c.id.into_uuid(),
            ad_account_id: c.ad_account_id.into_uuid(),
            external_id: c.external_id.clone(),
            name: c.name.clone(),
            status: c.status.into(),
            objective: c.objective.clone(),
            daily_budget: c.daily_budget,
            lifetime_budget: c.lifetime_budget,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCampaignRequest {
    #[schema(required = true, value_type = Uuid)]
    pub ad_account_id: Option<Uuid>,
    #[serde(default)]
    #[schema(required = true, example = "Summer sale")]
    pub name: String,
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(required = true, value_type = EntityStatusDto)]
    pub status: String,
    pub objective: Option<String>,
    /// Money with at most two decimals, as a string (`"150.00"`).
    #[schema(value_type = Option<String>, example = "150.00")]
    pub daily_budget: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "4500.00")]
    pub lifetime_budget: Option<Decimal>,
}

/// Only the fields present change; `null` clears a nullable field.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateCampaignRequest {
    pub name: Option<String>,
    #[schema(value_type = Option<EntityStatusDto>)]
    pub status: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub objective: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "150.00")]
    pub daily_budget: Option<Option<Decimal>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "4500.00")]
    pub lifetime_budget: Option<Option<Decimal>>,
}

impl From<UpdateCampaignRequest> for CampaignPatchInput {
    fn from(r: UpdateCampaignRequest) -> Self {
        Self {
            name: r.name,
            status: r.status,
            objective: r.objective,
            daily_budget: r.daily_budget,
            lifetime_budget: r.lifetime_budget,
        }
    }
}

// ------------------------------------------------------------------ ad sets

#[derive(Debug, Serialize, ToSchema)]
pub struct AdSetDto {
    pub id: Uuid,
    pub ad_account_id: Uuid,
    pub campaign_id: Uuid,
    pub external_id: Option<String>,
    pub name: String,
    pub status: EntityStatusDto,
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "50.00")]
    pub daily_budget: Option<Decimal>,
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "1500.00")]
    pub lifetime_budget: Option<Decimal>,
    pub optimization_goal: Option<String>,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<AdSet> for AdSetDto {
    fn from(s: AdSet) -> Self {
        Self {
            id: s.id.into_uuid(),
            ad_account_id: s.ad_account_id.into_uuid(),
            campaign_id: s.campaign_id.into_uuid(),
            external_id: s.external_id,
            name: s.name,
            status: s.status.into(),
            daily_budget: s.daily_budget,
            lifetime_budget: s.lifetime_budget,
            optimization_goal: s.optimization_goal,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAdSetRequest {
    #[schema(required = true, value_type = Uuid)]
    pub campaign_id: Option<Uuid>,
    #[serde(default)]
    #[schema(required = true, example = "Lookalike 1%")]
    pub name: String,
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(required = true, value_type = EntityStatusDto)]
    pub status: String,
    #[schema(value_type = Option<String>, example = "50.00")]
    pub daily_budget: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "1500.00")]
    pub lifetime_budget: Option<Decimal>,
    #[schema(example = "OFFSITE_CONVERSIONS")]
    pub optimization_goal: Option<String>,
}

/// Only the fields present change; `null` clears a nullable field.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateAdSetRequest {
    pub name: Option<String>,
    #[schema(value_type = Option<EntityStatusDto>)]
    pub status: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "50.00")]
    pub daily_budget: Option<Option<Decimal>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "1500.00")]
    pub lifetime_budget: Option<Option<Decimal>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub optimization_goal: Option<Option<String>>,
}

impl From<UpdateAdSetRequest> for AdSetPatchInput {
    fn from(r: UpdateAdSetRequest) -> Self {
        Self {
            name: r.name,
            status: r.status,
            daily_budget: r.daily_budget,
            lifetime_budget: r.lifetime_budget,
            optimization_goal: r.optimization_goal,
        }
    }
}

// ------------------------------------------------------------------ ads

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdDto {
    pub id: Uuid,
    pub ad_account_id: Uuid,
    pub campaign_id: Uuid,
    pub ad_set_id: Uuid,
    pub external_id: Option<String>,
    pub name: String,
    pub status: EntityStatusDto,
    /// Meta targeting spec.
    #[schema(value_type = Object)]
    pub targeting: serde_json::Value,
    /// Meta creative spec.
    #[schema(value_type = Object)]
    pub creative: serde_json::Value,
    /// Last known performance summary (filled by sync).
    #[schema(value_type = Object)]
    pub performance: serde_json::Value,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<&Ad> for AdDto {
    fn from(a: &Ad) -> Self {
        Self {
            id: a.id.into_uuid(),
            ad_account_id: a.ad_account_id.into_uuid(),
            campaign_id: a.campaign_id.into_uuid(),
            ad_set_id: a.ad_set_id.into_uuid(),
            external_id: a.external_id.clone(),
            name: a.name.clone(),
            status: a.status.into(),
            targeting: a.targeting.clone(),
            creative: a.creative.clone(),
            performance: a.performance.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAdRequest {
    #[schema(required = true, value_type = Uuid)]
    pub ad_set_id: Option<Uuid>,
    #[serde(default)]
    #[schema(required = true, example = "Carousel A")]
    pub name: String,
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(required = true, value_type = EntityStatusDto)]
    pub status: String,
    /// A JSON object, at most 64 KiB.
    #[schema(value_type = Option<Object>)]
    pub targeting: Option<serde_json::Value>,
    /// A JSON object, at most 64 KiB.
    #[schema(value_type = Option<Object>)]
    pub creative: Option<serde_json::Value>,
}

/// Only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateAdRequest {
    pub name: Option<String>,
    #[schema(value_type = Option<EntityStatusDto>)]
    pub status: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub targeting: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub creative: Option<serde_json::Value>,
}

impl From<UpdateAdRequest> for AdPatchInput {
    fn from(r: UpdateAdRequest) -> Self {
        Self {
            name: r.name,
            status: r.status,
            targeting: r.targeting,
            creative: r.creative,
        }
    }
}

// ------------------------------------------------------------------ KPIs

/// Totals and ratios over a range; ratios are `null` when their divisor is zero.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiDto {
    pub impressions: i64,
    /// All clicks.
    pub clicks: i64,
    pub link_clicks: i64,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "152.37")]
    pub spend: Decimal,
    pub conversions: i64,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "610.00")]
    pub revenue: Decimal,
    /// clicks / impressions × 100 (percent).
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>, example = 1.8868)]
    pub ctr: Option<Decimal>,
    /// spend / clicks.
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "2.87")]
    pub cpc: Option<Decimal>,
    /// spend / impressions × 1000.
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "54.24")]
    pub cpm: Option<Decimal>,
    /// spend / conversions.
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "38.09")]
    pub cpa: Option<Decimal>,
    /// revenue / spend.
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>, example = 4.0034)]
    pub roas: Option<Decimal>,
}

impl KpiDto {
    #[must_use]
    pub fn new(t: &KpiTotals, k: &Kpis) -> Self {
        Self {
            impressions: t.impressions,
            clicks: t.clicks,
            link_clicks: t.link_clicks,
            spend: t.spend,
            conversions: t.conversions,
            revenue: t.revenue,
            ctr: k.ctr,
            cpc: k.cpc,
            cpm: k.cpm,
            cpa: k.cpa,
            roas: k.roas,
        }
    }
}

/// A campaign's KPIs over an inclusive range of the account's days.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignKpisDto {
    pub campaign_id: Uuid,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub impressions: i64,
    pub clicks: i64,
    pub link_clicks: i64,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "152.37")]
    pub spend: Decimal,
    pub conversions: i64,
    #[serde(serialize_with = "money")]
    #[schema(value_type = String, example = "610.00")]
    pub revenue: Decimal,
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>, example = 1.8868)]
    pub ctr: Option<Decimal>,
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "2.87")]
    pub cpc: Option<Decimal>,
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "54.24")]
    pub cpm: Option<Decimal>,
    #[serde(serialize_with = "money_opt")]
    #[schema(value_type = Option<String>, example = "38.09")]
    pub cpa: Option<Decimal>,
    #[serde(serialize_with = "ratio")]
    #[schema(value_type = Option<f64>, example = 4.0034)]
    pub roas: Option<Decimal>,
}

impl From<CampaignKpis> for CampaignKpisDto {
    fn from(c: CampaignKpis) -> Self {
        let (t, k) = (c.totals, c.kpis);
        Self {
            campaign_id: c.campaign_id.into_uuid(),
            from: c.range.from(),
            to: c.range.to(),
            impressions: t.impressions,
            clicks: t.clicks,
            link_clicks: t.link_clicks,
            spend: t.spend,
            conversions: t.conversions,
            revenue: t.revenue,
            ctr: k.ctr,
            cpc: k.cpc,
            cpm: k.cpm,
            cpa: k.cpa,
            roas: k.roas,
        }
    }
}

/// One of the best ads over the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopAdDto {
    pub ad: AdDto,
    pub kpis: KpiDto,
}

impl From<&(Ad, KpiTotals)> for TopAdDto {
    fn from((ad, t): &(Ad, KpiTotals)) -> Self {
        Self {
            ad: AdDto::from(ad),
            kpis: KpiDto::new(t, &Kpis::from_totals(t)),
        }
    }
}

// ------------------------------------------------------------------ queries
//
// Query parameters arrive as text and are parsed by the handlers, so a bad
// one is answered with 400 `INVALID_PARAMETER` naming it (and only after
// authentication); the schema still documents their real types.

/// `GET /ad-accounts` filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdAccountListQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[param(value_type = Option<AdAccountStatusDto>)]
    pub status: Option<String>,
}

/// `GET /campaigns` filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignListQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[param(value_type = Option<EntityStatusDto>)]
    pub status: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub ad_account_id: Option<String>,
}

/// `GET /ad-sets` filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdSetListQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[param(value_type = Option<EntityStatusDto>)]
    pub status: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub ad_account_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub campaign_id: Option<String>,
}

/// `GET /ads` filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdListQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[param(value_type = Option<EntityStatusDto>)]
    pub status: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub ad_account_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub campaign_id: Option<String>,
    #[param(value_type = Option<Uuid>)]
    pub ad_set_id: Option<String>,
}

/// An inclusive range of the account's days.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// First day, `YYYY-MM-DD`.
    #[param(required = true, value_type = String, format = Date)]
    pub from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    #[param(required = true, value_type = String, format = Date)]
    pub to: Option<String>,
}

/// Which metric ranks ads in `GET /ads/top`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TopMetricDto {
    Roas,
    Ctr,
    Conversions,
}

/// `GET /ads/top` options.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopAdsParams {
    /// Ranking metric (default `roas`).
    #[param(value_type = Option<TopMetricDto>)]
    pub metric: Option<String>,
    /// How many ads, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// First day, `YYYY-MM-DD` (default: 29 days before today).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today, UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}
