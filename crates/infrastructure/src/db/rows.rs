//! Row shapes, one per table, shared by both backends (fields in column
//! order; `DbId`/`DbMoney`/`DbJson` decode either representation), and their
//! conversion into domain entities. A value the domain refuses (an unknown
//! role, say) is reported as [`DbError::Corrupt`], never silently replaced.

use diesel::Queryable;
use domain::ads::{
    Ad, AdAccount, AdAccountStatus, AdPlatform, AdSet, Campaign, Currency, EntityStatus,
};
use domain::audit::AuditEntry;
use domain::identity::{ApiKey, Member, Membership, Organization, RefreshToken, Role, User};
use domain::kpi::KpiTotals;
use time::OffsetDateTime;

use super::error::DbError;
use super::types::{DbId, DbJson, DbMoney};

fn corrupt(column: &str, value: &str) -> DbError {
    DbError::Corrupt(format!("{column} = {value:?}"))
}

fn role(column: &str, s: &str) -> Result<Role, DbError> {
    Role::parse(s).map_err(|_| corrupt(column, s))
}

fn entity_status(column: &str, s: &str) -> Result<EntityStatus, DbError> {
    EntityStatus::parse(s).map_err(|_| corrupt(column, s))
}

fn money(m: Option<DbMoney>) -> Option<rust_decimal::Decimal> {
    m.map(|m| m.0)
}

#[derive(Debug, Queryable)]
pub(crate) struct OrganizationRow {
    pub id: DbId,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub timezone: String,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Self {
            id: r.id.0.into(),
            name: r.name,
            timezone: r.timezone,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct UserRow {
    pub id: DbId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: OffsetDateTime,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id.0.into(),
            email: r.email,
            name: r.name,
            password_hash: r.password_hash,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct MembershipRow {
    pub tenant_id: DbId,
    pub user_id: DbId,
    pub role: String,
    pub created_at: OffsetDateTime,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = DbError;
    fn try_from(r: MembershipRow) -> Result<Self, DbError> {
        Ok(Self {
            tenant_id: r.tenant_id.0.into(),
            user_id: r.user_id.0.into(),
            role: role("memberships.role", &r.role)?,
            created_at: r.created_at,
        })
    }
}

/// `memberships` joined with `users`, as members are listed.
#[derive(Debug, Queryable)]
pub(crate) struct MemberRow {
    pub user_id: DbId,
    pub email: String,
    pub name: String,
    pub role: String,
    pub joined_at: OffsetDateTime,
}

impl TryFrom<MemberRow> for Member {
    type Error = DbError;
    fn try_from(r: MemberRow) -> Result<Self, DbError> {
        Ok(Self {
            user_id: r.user_id.0.into(),
            email: r.email,
            name: r.name,
            role: role("memberships.role", &r.role)?,
            joined_at: r.joined_at,
        })
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct RefreshTokenRow {
    pub id: DbId,
    pub family_id: DbId,
    pub tenant_id: DbId,
    pub user_id: DbId,
    pub token_hash: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<RefreshTokenRow> for RefreshToken {
    fn from(r: RefreshTokenRow) -> Self {
        Self {
            id: r.id.0.into(),
            family_id: r.family_id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            user_id: r.user_id.0.into(),
            token_hash: r.token_hash,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct ApiKeyRow {
    pub id: DbId,
    pub tenant_id: DbId,
    pub name: String,
    pub role: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_by: Option<DbId>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = DbError;
    fn try_from(r: ApiKeyRow) -> Result<Self, DbError> {
        Ok(Self {
            id: r.id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            name: r.name,
            role: role("api_keys.role", &r.role)?,
            prefix: r.prefix,
            key_hash: r.key_hash,
            created_by: r.created_by.map(|u| u.0.into()),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct AdAccountRow {
    pub id: DbId,
    pub tenant_id: DbId,
    pub platform: String,
    pub external_id: String,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    pub status: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl TryFrom<AdAccountRow> for AdAccount {
    type Error = DbError;
    fn try_from(r: AdAccountRow) -> Result<Self, DbError> {
        Ok(Self {
            id: r.id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            platform: AdPlatform::parse(&r.platform)
                .map_err(|_| corrupt("ad_accounts.platform", &r.platform))?,
            external_id: r.external_id,
            name: r.name,
            currency: Currency::parse(&r.currency)
                .map_err(|_| corrupt("ad_accounts.currency", &r.currency))?,
            timezone: r.timezone,
            status: AdAccountStatus::parse(&r.status)
                .map_err(|_| corrupt("ad_accounts.status", &r.status))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct CampaignRow {
    pub id: DbId,
    pub tenant_id: DbId,
    pub ad_account_id: DbId,
    pub external_id: Option<String>,
    pub name: String,
    pub status: String,
    pub objective: Option<String>,
    pub daily_budget: Option<DbMoney>,
    pub lifetime_budget: Option<DbMoney>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = DbError;
    fn try_from(r: CampaignRow) -> Result<Self, DbError> {
        Ok(Self {
            id: r.id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            ad_account_id: r.ad_account_id.0.into(),
            external_id: r.external_id,
            name: r.name,
            status: entity_status("campaigns.status", &r.status)?,
            objective: r.objective,
            daily_budget: money(r.daily_budget),
            lifetime_budget: money(r.lifetime_budget),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct AdSetRow {
    pub id: DbId,
    pub tenant_id: DbId,
    pub ad_account_id: DbId,
    pub campaign_id: DbId,
    pub external_id: Option<String>,
    pub name: String,
    pub status: String,
    pub daily_budget: Option<DbMoney>,
    pub lifetime_budget: Option<DbMoney>,
    pub optimization_goal: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl TryFrom<AdSetRow> for AdSet {
    type Error = DbError;
    fn try_from(r: AdSetRow) -> Result<Self, DbError> {
        Ok(Self {
            id: r.id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            ad_account_id: r.ad_account_id.0.into(),
            campaign_id: r.campaign_id.0.into(),
            external_id: r.external_id,
            name: r.name,
            status: entity_status("ad_sets.status", &r.status)?,
            daily_budget: money(r.daily_budget),
            lifetime_budget: money(r.lifetime_budget),
            optimization_goal: r.optimization_goal,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct AdRow {
    pub id: DbId,
    pub tenant_id: DbId,
    pub ad_account_id: DbId,
    pub campaign_id: DbId,
    pub ad_set_id: DbId,
    pub external_id: Option<String>,
    pub name: String,
    pub status: String,
    pub targeting: DbJson,
    pub creative: DbJson,
    pub performance: DbJson,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl TryFrom<AdRow> for Ad {
    type Error = DbError;
    fn try_from(r: AdRow) -> Result<Self, DbError> {
        Ok(Self {
            id: r.id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            ad_account_id: r.ad_account_id.0.into(),
            campaign_id: r.campaign_id.0.into(),
            ad_set_id: r.ad_set_id.0.into(),
            external_id: r.external_id,
            name: r.name,
            status: entity_status("ads.status", &r.status)?,
            targeting: r.targeting.0,
            creative: r.creative.0,
            performance: r.performance.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Summed insight counts, in `KpiTotals` field order.
#[derive(Debug, Queryable)]
pub(crate) struct TotalsRow {
    pub impressions: i64,
    pub clicks: i64,
    pub link_clicks: i64,
    pub spend: DbMoney,
    pub conversions: i64,
    pub revenue: DbMoney,
}

impl From<TotalsRow> for KpiTotals {
    fn from(r: TotalsRow) -> Self {
        Self {
            impressions: r.impressions,
            clicks: r.clicks,
            link_clicks: r.link_clicks,
            spend: r.spend.0,
            conversions: r.conversions,
            revenue: r.revenue.0,
        }
    }
}

#[derive(Debug, Queryable)]
pub(crate) struct AuditRow {
    pub id: DbId,
    pub tenant_id: DbId,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<DbJson>,
    pub after: Option<DbJson>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id.0.into(),
            tenant_id: r.tenant_id.0.into(),
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: r.before.map(|j| j.0),
            after: r.after.map(|j| j.0),
        }
    }
}

/// Converts loaded rows, failing on the first one the domain refuses.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, DbError>
where
    T: TryFrom<R, Error = DbError>,
{
    rows.into_iter().map(T::try_from).collect()
}
