//! Ads: ad accounts, campaigns, ad sets, ads and their daily insights. Owns the
//! shapes and rules of these entities; never how they are fetched from a
//! platform (ingestion) or stored (infrastructure).

use async_trait::async_trait;
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::error::{RepoError, ValidationError};
use crate::ids::{AdAccountId, AdId, AdSetId, CampaignId, TenantId};
use crate::kpi::KpiTotals;
use crate::page::{Page, PageRequest};

// ------------------------------------------------------------------ values

/// Ad platforms we connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdPlatform {
    Meta,
}

impl AdPlatform {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            AdPlatform::Meta => "meta",
        }
    }
    /// # Errors
    /// Unknown platform.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "meta" => Ok(AdPlatform::Meta),
            _ => Err(ValidationError::new("platform", "must be \"meta\"")),
        }
    }
}

/// An ISO 4217 currency code with its number of minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// # Errors
    /// Not three ASCII letters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_uppercase) {
            return Err(ValidationError::new(
                "currency",
                "must be an ISO 4217 code such as BRL or USD",
            ));
        }
        Ok(Self([b[0], b[1], b[2]]))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point (Graph API budgets are in these minor units).
    #[must_use]
    pub fn minor_units(&self) -> u32 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}

/// A non-negative amount of money with at most two decimal places, as stored
/// (`numeric(14,2)`) and shown (`"1234.50"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

impl Amount {
    /// # Errors
    /// Negative, more than two decimals, or above 999,999,999,999.99. `field` names the input.
    pub fn parse(field: &str, value: Decimal) -> Result<Self, ValidationError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(ValidationError::new(field, "must not be negative"));
        }
        if value.normalize().scale() > 2 {
            return Err(ValidationError::new(
                field,
                "must have at most two decimal places",
            ));
        }
        if value > Decimal::new(99_999_999_999_999, 2) {
            return Err(ValidationError::new(field, "is too large"));
        }
        Ok(Self(value.round_dp(2)))
    }

    #[must_use]
    pub const fn value(&self) -> Decimal {
        self.0
    }
}

/// The delivery status of a campaign, ad set or ad (Meta's `status` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityStatus {
    Active,
    Paused,
    Archived,
    Deleted,
}

impl EntityStatus {
    pub const ALL: [EntityStatus; 4] = [
        EntityStatus::Active,
        EntityStatus::Paused,
        EntityStatus::Archived,
        EntityStatus::Deleted,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityStatus::Active => "ACTIVE",
            EntityStatus::Paused => "PAUSED",
            EntityStatus::Archived => "ARCHIVED",
            EntityStatus::Deleted => "DELETED",
        }
    }
    /// # Errors
    /// Not one of `ACTIVE`, `PAUSED`, `ARCHIVED`, `DELETED`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new("status", "must be one of ACTIVE, PAUSED, ARCHIVED, DELETED")
            })
    }
}

/// An ad account's connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdAccountStatus {
    Active,
    Disabled,
    /// The platform token expired or was revoked; syncs stop until it is replaced.
    NeedsReauth,
}

impl AdAccountStatus {
    pub const ALL: [AdAccountStatus; 3] = [
        AdAccountStatus::Active,
        AdAccountStatus::Disabled,
        AdAccountStatus::NeedsReauth,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            AdAccountStatus::Active => "ACTIVE",
            AdAccountStatus::Disabled => "DISABLED",
            AdAccountStatus::NeedsReauth => "NEEDS_REAUTH",
        }
    }
    /// # Errors
    /// Not one of `ACTIVE`, `DISABLED`, `NEEDS_REAUTH`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new("status", "must be one of ACTIVE, DISABLED, NEEDS_REAUTH")
            })
    }
}

/// An IANA time zone name such as `America/Sao_Paulo`, one the tz database
/// knows (a typo would otherwise put an account's days, or an
/// organization's schedules, on UTC without anyone noticing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// # Errors
    /// Empty, too long, with characters no IANA name has, or a name the tz
    /// database does not know.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
            && s.parse::<chrono_tz::Tz>().is_ok();
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new(
                "timezone",
                "must be an IANA time zone such as America/Sao_Paulo",
            ))
        }
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An inclusive range of calendar days (the ad account's days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateRange {
    from: Date,
    to: Date,
}

impl DateRange {
    /// Longest range a single query may cover.
    pub const MAX_DAYS: i64 = 3 * 366;

    /// # Errors
    /// `from` after `to`, or a range longer than three years.
    pub fn new(from: Date, to: Date) -> Result<Self, ValidationError> {
        if from > to {
            return Err(ValidationError::new("from", "must not be after `to`"));
        }
        if (to - from).whole_days() >= Self::MAX_DAYS {
            return Err(ValidationError::new(
                "to",
                "range must be at most three years",
            ));
        }
        Ok(Self { from, to })
    }

    /// A range of one day.
    #[must_use]
    pub const fn day(d: Date) -> Self {
        Self { from: d, to: d }
    }

    /// Parses `YYYY-MM-DD` pairs, naming the field that failed.
    ///
    /// # Errors
    /// A missing or malformed date, or an invalid range.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, ValidationError> {
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        let mut errors = ValidationError::default();
        let mut one = |field: &str, v: Option<&str>| match v {
            None => {
                errors.add(field, "is required (YYYY-MM-DD)");
                None
            }
            Some(s) => Date::parse(s, &fmt)
                .map_err(|_| errors.add(field, "must be a date YYYY-MM-DD"))
                .ok(),
        };
        let from = one("from", from);
        let to = one("to", to);
        match (from, to) {
            (Some(f), Some(t)) if errors.is_empty() => Self::new(f, t),
            _ => Err(errors),
        }
    }

    #[must_use]
    pub const fn from(&self) -> Date {
        self.from
    }
    #[must_use]
    pub const fn to(&self) -> Date {
        self.to
    }

    /// Days in the range, both ends counted (a one-day range is 1).
    #[must_use]
    pub fn days(&self) -> i64 {
        (self.to - self.from).whole_days() + 1
    }

    /// Whether `d` falls inside, ends included.
    #[must_use]
    pub fn contains(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }

    /// Every day of the range, in order.
    pub fn iter(&self) -> impl Iterator<Item = Date> + use<> {
        let to = self.to;
        std::iter::successors(Some(self.from), move |d| {
            d.next_day().filter(|next| *next <= to)
        })
    }
}

// ------------------------------------------------------------------ entities

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdAccount {
    pub id: AdAccountId,
    pub tenant_id: TenantId,
    pub platform: AdPlatform,
    pub external_id: String,
    pub name: String,
    pub currency: Currency,
    pub timezone: String,
    pub status: AdAccountStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdAccountPatch {
    pub name: Option<String>,
    pub currency: Option<Currency>,
    pub timezone: Option<String>,
    pub status: Option<AdAccountStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub tenant_id: TenantId,
    pub ad_account_id: AdAccountId,
    pub external_id: Option<String>,
    pub name: String,
    pub status: EntityStatus,
    pub objective: Option<String>,
    pub daily_budget: Option<Decimal>,
    pub lifetime_budget: Option<Decimal>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignPatch {
    pub name: Option<String>,
    pub status: Option<EntityStatus>,
    pub objective: Option<Option<String>>,
    pub daily_budget: Option<Option<Decimal>>,
    pub lifetime_budget: Option<Option<Decimal>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdSet {
    pub id: AdSetId,
    pub tenant_id: TenantId,
    pub ad_account_id: AdAccountId,
    pub campaign_id: CampaignId,
    pub external_id: Option<String>,
    pub name: String,
    pub status: EntityStatus,
    pub daily_budget: Option<Decimal>,
    pub lifetime_budget: Option<Decimal>,
    pub optimization_goal: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdSetPatch {
    pub name: Option<String>,
    pub status: Option<EntityStatus>,
    pub daily_budget: Option<Option<Decimal>>,
    pub lifetime_budget: Option<Option<Decimal>>,
    pub optimization_goal: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ad {
    pub id: AdId,
    pub tenant_id: TenantId,
    pub ad_account_id: AdAccountId,
    pub campaign_id: CampaignId,
    pub ad_set_id: AdSetId,
    pub external_id: Option<String>,
    pub name: String,
    pub status: EntityStatus,
    /// Meta targeting spec, kept as JSON (GIN-indexed on PostgreSQL).
    pub targeting: serde_json::Value,
    pub creative: serde_json::Value,
    /// Last known performance summary (filled by sync).
    pub performance: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdPatch {
    pub name: Option<String>,
    pub status: Option<EntityStatus>,
    pub targeting: Option<serde_json::Value>,
    pub creative: Option<serde_json::Value>,
}

/// List filters shared by campaigns, ad sets and ads (each ignores what it has no column for).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EntityFilter {
    pub status: Option<EntityStatus>,
    pub ad_account_id: Option<AdAccountId>,
    pub campaign_id: Option<CampaignId>,
    pub ad_set_id: Option<AdSetId>,
}

/// Which level of the account hierarchy an insight row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InsightLevel {
    Account,
    Campaign,
    AdSet,
    Ad,
}

impl InsightLevel {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            InsightLevel::Account => "account",
            InsightLevel::Campaign => "campaign",
            InsightLevel::AdSet => "ad_set",
            InsightLevel::Ad => "ad",
        }
    }
    /// # Errors
    /// Unknown level.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "account" => Ok(Self::Account),
            "campaign" => Ok(Self::Campaign),
            "ad_set" => Ok(Self::AdSet),
            "ad" => Ok(Self::Ad),
            _ => Err(ValidationError::new(
                "level",
                "must be one of account, campaign, ad_set, ad",
            )),
        }
    }
}

/// One day of delivery for one entity (silver). Unique per (tenant, level, entity, date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightDaily {
    pub tenant_id: TenantId,
    pub ad_account_id: AdAccountId,
    pub level: InsightLevel,
    /// The campaign, ad set, ad or ad account the row describes.
    pub entity_id: uuid::Uuid,
    /// The campaign the entity belongs to (for campaign and lower levels).
    pub campaign_id: Option<CampaignId>,
    pub date: Date,
    pub totals: KpiTotals,
    /// Meta's `actions` array as received.
    pub actions: serde_json::Value,
}

/// The metric `GET /ads/top` ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopMetric {
    Roas,
    Ctr,
    Conversions,
}

impl TopMetric {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TopMetric::Roas => "roas",
            TopMetric::Ctr => "ctr",
            TopMetric::Conversions => "conversions",
        }
    }
    /// # Errors
    /// Not one of `roas`, `ctr`, `conversions`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "roas" => Ok(Self::Roas),
            "ctr" => Ok(Self::Ctr),
            "conversions" => Ok(Self::Conversions),
            _ => Err(ValidationError::new(
                "metric",
                "must be one of roas, ctr, conversions",
            )),
        }
    }
}

// ------------------------------------------------------------------ ports

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AdAccountRepository: Send + Sync {
    /// # Errors
    /// `Conflict("external_id")` when the tenant already has this platform account.
    async fn insert(&self, a: &AdAccount) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn find(&self, t: TenantId, id: AdAccountId) -> Result<Option<AdAccount>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        status: Option<AdAccountStatus>,
        page: PageRequest,
    ) -> Result<Page<AdAccount>, RepoError>;
    /// The updated account, or `None` when it does not exist in this tenant.
    ///
    /// # Errors
    /// Database failures.
    async fn update(
        &self,
        t: TenantId,
        id: AdAccountId,
        patch: &AdAccountPatch,
        at: OffsetDateTime,
    ) -> Result<Option<AdAccount>, RepoError>;
    /// Deletes the account and everything under it (campaigns, ad sets, ads, insights).
    ///
    /// # Errors
    /// Database failures.
    async fn delete(&self, t: TenantId, id: AdAccountId) -> Result<bool, RepoError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CampaignRepository: Send + Sync {
    /// # Errors
    /// `MissingReference("ad_account_id")` when the account is not in this tenant;
    /// `Conflict("external_id")` for a duplicate platform id.
    async fn insert(&self, c: &Campaign) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn find(&self, t: TenantId, id: CampaignId) -> Result<Option<Campaign>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        filter: EntityFilter,
        page: PageRequest,
    ) -> Result<Page<Campaign>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn update(
        &self,
        t: TenantId,
        id: CampaignId,
        patch: &CampaignPatch,
        at: OffsetDateTime,
    ) -> Result<Option<Campaign>, RepoError>;
    /// Deletes the campaign with its ad sets, ads and insights.
    ///
    /// # Errors
    /// Database failures.
    async fn delete(&self, t: TenantId, id: CampaignId) -> Result<bool, RepoError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AdSetRepository: Send + Sync {
    /// # Errors
    /// `MissingReference("campaign_id")` when the campaign is not in this tenant.
    async fn insert(&self, s: &AdSet) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn find(&self, t: TenantId, id: AdSetId) -> Result<Option<AdSet>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        filter: EntityFilter,
        page: PageRequest,
    ) -> Result<Page<AdSet>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn update(
        &self,
        t: TenantId,
        id: AdSetId,
        patch: &AdSetPatch,
        at: OffsetDateTime,
    ) -> Result<Option<AdSet>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn delete(&self, t: TenantId, id: AdSetId) -> Result<bool, RepoError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AdRepository: Send + Sync {
    /// # Errors
    /// `MissingReference("ad_set_id")` when the ad set is not in this tenant.
    async fn insert(&self, a: &Ad) -> Result<(), RepoError>;
    /// # Errors
    /// Database failures.
    async fn find(&self, t: TenantId, id: AdId) -> Result<Option<Ad>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        filter: EntityFilter,
        page: PageRequest,
    ) -> Result<Page<Ad>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn update(
        &self,
        t: TenantId,
        id: AdId,
        patch: &AdPatch,
        at: OffsetDateTime,
    ) -> Result<Option<Ad>, RepoError>;
    /// # Errors
    /// Database failures.
    async fn delete(&self, t: TenantId, id: AdId) -> Result<bool, RepoError>;
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait InsightRepository: Send + Sync {
    /// Inserts or replaces rows (same tenant, level, entity and date → replaced),
    /// in batches, in one transaction.
    ///
    /// # Errors
    /// Database failures; nothing is written then.
    async fn upsert_daily(&self, rows: &[InsightDaily]) -> Result<u64, RepoError>;
    /// Campaign-level totals over the range in one round trip; `None` when the
    /// campaign does not exist in this tenant (zeros when it has no rows).
    ///
    /// # Errors
    /// Database failures.
    async fn campaign_totals(
        &self,
        t: TenantId,
        id: CampaignId,
        range: DateRange,
    ) -> Result<Option<KpiTotals>, RepoError>;
    /// The ads with the highest `metric` over the range (ads with no delivery excluded).
    ///
    /// # Errors
    /// Database failures.
    async fn top_ads(
        &self,
        t: TenantId,
        metric: TopMetric,
        range: DateRange,
        limit: u16,
    ) -> Result<Vec<(Ad, KpiTotals)>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn time_zone_name_is_trimmed_and_refuses_what_no_iana_name_has() {
        assert_eq!(
            TimeZoneName::parse(" America/Sao_Paulo ").unwrap().as_str(),
            "America/Sao_Paulo"
        );
        for bad in [
            "",
            "   ",
            "Not a zone",
            "Europe/Lisbon;DROP",
            "Mars/Olympus",
            "America/Sao_Pablo",
            &"A".repeat(65),
        ] {
            let e = TimeZoneName::parse(bad).unwrap_err();
            assert!(e.fields.contains_key("timezone"), "{bad:?}: {e:?}");
        }
    }

    #[test]
    fn a_range_counts_lists_and_contains_its_days_ends_included() {
        let r = DateRange::new(date!(2026 - 02 - 27), date!(2026 - 03 - 01)).unwrap();
        assert_eq!(r.days(), 3);
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            [
                date!(2026 - 02 - 27),
                date!(2026 - 02 - 28),
                date!(2026 - 03 - 01)
            ]
        );
        assert!(r.contains(date!(2026 - 02 - 27)) && r.contains(date!(2026 - 03 - 01)));
        assert!(!r.contains(date!(2026 - 03 - 02)));
        assert_eq!(DateRange::day(date!(2026 - 01 - 01)).days(), 1);
    }

    #[test]
    fn currency_knows_minor_units() {
        assert_eq!(Currency::parse("brl").unwrap().as_str(), "BRL");
        assert_eq!(Currency::parse("BRL").unwrap().minor_units(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert!(Currency::parse("R$").is_err());
    }

    #[test]
    fn amount_refuses_negative_and_sub_cent_values() {
        assert!(Amount::parse("daily_budget", Decimal::new(-1, 0)).is_err());
        assert!(Amount::parse("daily_budget", Decimal::new(1001, 3)).is_err());
        assert_eq!(
            Amount::parse("daily_budget", Decimal::new(12050, 3))
                .unwrap()
                .value(),
            Decimal::new(1205, 2)
        );
    }

    #[test]
    fn date_range_validates_order_and_format() {
        assert!(DateRange::new(date!(2024 - 01 - 02), date!(2024 - 01 - 01)).is_err());
        let e = DateRange::parse(Some("2024-13-01"), None).unwrap_err();
        assert!(e.fields.contains_key("from") && e.fields.contains_key("to"));
        let r = DateRange::parse(Some("2024-01-01"), Some("2024-01-31")).unwrap();
        assert_eq!(
            (r.from(), r.to()),
            (date!(2024 - 01 - 01), date!(2024 - 01 - 31))
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in EntityStatus::ALL {
            assert_eq!(EntityStatus::parse(s.as_str()), Ok(s));
        }
        assert!(EntityStatus::parse("active").is_err());
        for s in AdAccountStatus::ALL {
            assert_eq!(AdAccountStatus::parse(s.as_str()), Ok(s));
        }
    }
}
