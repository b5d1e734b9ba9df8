//! Graph API values → typed values, once.
//!
//! - Counts and money arrive as JSON strings (`"185"`, `"14.35"`).
//! - Budgets (`daily_budget`, `lifetime_budget`) arrive as integers in the
//!   currency's minor unit (`"15000"` BRL = 150.00; JPY has none).
//! - `date_start` / `date_stop` are calendar days in the ad account's time
//!   zone and are kept as such (no conversion to UTC: a day is the account's day).
//! - Conversions and revenue come from `actions` / `action_values`, read
//!   through the account's [`ResultAction`] so overlapping purchase types
//!   count once.
//!
//! - Entity rows (campaigns, ad sets, ads) come from Graph as strings, but
//!   Airbyte-normalised records carry ids and budgets as JSON numbers
//!   (`600.0`): both are accepted. Status is the configured `status`
//!   (`ACTIVE`, `PAUSED`, `ARCHIVED`, `DELETED`), falling back to
//!   `effective_status` only when that is one of the same four.
//!
//! Errors name the field and never echo request parameters (which may carry
//! an access token).

use domain::actions::ResultAction;
use domain::ads::{Currency, EntityStatus};
use domain::ingestion::{PlatformAd, PlatformAdSet, PlatformCampaign, PlatformInsight};
use domain::kpi::KpiTotals;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;
use time::Date;

/// A Graph API value that does not have the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Graph API field `{field}`: {reason}")]
pub struct WireError {
    pub field: String,
    pub reason: String,
}

impl WireError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

fn decimal(field: &str, s: &str) -> Result<Decimal, WireError> {
    s.trim()
        .parse::<Decimal>()
        .map_err(|_| WireError::new(field, "not a decimal number"))
}

/// A count (`"185"`); absent means zero.
///
/// # Errors
/// Not a whole, non-negative number.
pub fn count(field: &str, s: Option<&str>) -> Result<i64, WireError> {
    let Some(s) = s else { return Ok(0) };
    let d = decimal(field, s)?;
    if d.is_sign_negative() || !d.fract().is_zero() {
        return Err(WireError::new(field, "not a whole, non-negative count"));
    }
    i64::try_from(d).map_err(|_| WireError::new(field, "count out of range"))
}

/// An amount in the currency's major unit (`"14.35"`), rounded to the
/// currency's minor units (half away from zero); absent means zero.
///
/// # Errors
/// Not a non-negative decimal number.
pub fn money(field: &str, s: Option<&str>, currency: Currency) -> Result<Decimal, WireError> {
    let Some(s) = s else {
        return Ok(Decimal::ZERO);
    };
    let d = decimal(field, s)?;
    if d.is_sign_negative() {
        return Err(WireError::new(field, "negative amount"));
    }
    Ok(d.round_dp_with_strategy(
        currency.minor_units(),
        RoundingStrategy::MidpointAwayFromZero,
    ))
}

/// A budget in the currency's minor unit (`"15000"` → `150.00` for BRL);
/// absent or `"0"` means no budget of that kind.
///
/// # Errors
/// Not a whole, non-negative number.
pub fn budget(
    field: &str,
    s: Option<&str>,
    currency: Currency,
) -> Result<Option<Decimal>, WireError> {
    if s.is_none() {
        return Ok(None);
    }
    let minor = count(field, s)?;
    Ok((minor > 0).then(|| Decimal::new(minor, currency.minor_units())))
}

/// A calendar day `YYYY-MM-DD` (the ad account's day).
///
/// # Errors
/// Absent or not a date.
pub fn day(field: &str, s: Option<&str>) -> Result<Date, WireError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let s = s.ok_or_else(|| WireError::new(field, "missing"))?;
    Date::parse(s.trim(), &fmt).map_err(|_| WireError::new(field, "not a date YYYY-MM-DD"))
}

/// One entry of `actions`, `action_values` and similar lists.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionStat {
    pub action_type: String,
    pub value: String,
}

/// One row of `GET /act_<id>/insights` (`time_increment=1`), as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct InsightRow {
    pub date_start: Option<String>,
    pub date_stop: Option<String>,
    pub account_id: Option<String>,
    pub campaign_id: Option<String>,
    pub adset_id: Option<String>,
    pub ad_id: Option<String>,
    pub impressions: Option<String>,
    pub clicks: Option<String>,
    pub inline_link_clicks: Option<String>,
    pub spend: Option<String>,
    #[serde(default)]
    pub actions: ActionList,
    #[serde(default)]
    pub action_values: Vec<ActionStat>,
}

/// The `actions` list of an insight row: typed for reading conversions, and
/// its JSON text as sent, which silver keeps without re-encoding it.
#[derive(Debug, Clone, Default)]
pub struct ActionList {
    raw: Option<Box<RawValue>>,
    stats: Vec<ActionStat>,
}

impl ActionList {
    /// The entries, typed.
    #[must_use]
    pub fn stats(&self) -> &[ActionStat] {
        &self.stats
    }

    /// The list's JSON text as sent (`[]` when the row had none).
    #[must_use]
    pub fn json(&self) -> &str {
        self.raw.as_deref().map_or("[]", RawValue::get)
    }
}

impl<'de> Deserialize<'de> for ActionList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let stats = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(Self {
            raw: Some(raw),
            stats,
        })
    }
}

/// A typed daily insight row: the day, the platform ids it belongs to and
/// its counts and money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyInsight {
    pub date: Date,
    pub campaign_id: Option<String>,
    pub adset_id: Option<String>,
    pub ad_id: Option<String>,
    pub totals: KpiTotals,
}

/// Looks one action type up in an action list. A type listed twice is an
/// error in the payload; the first entry is used.
fn lookup<'a>(
    field: &'a str,
    list: &'a [ActionStat],
    parse: impl Fn(&str, &str) -> Result<Decimal, WireError> + 'a,
    failed: &'a std::cell::RefCell<Option<WireError>>,
) -> impl Fn(&str) -> Option<Decimal> + 'a {
    move |t| {
        let s = list.iter().find(|a| a.action_type == t)?;
        match parse(field, &s.value) {
            Ok(v) => Some(v),
            Err(e) => {
                failed.borrow_mut().get_or_insert(e);
                None
            }
        }
    }
}

impl InsightRow {
    /// The typed row. `currency` is the ad account's; `result` says which
    /// action counts as a conversion (and whose value is revenue).
    ///
    /// # Errors
    /// A missing or malformed field, or a row spanning more than one day.
    pub fn parse(
        &self,
        currency: Currency,
        result: &ResultAction,
    ) -> Result<DailyInsight, WireError> {
        let date = day("date_start", self.date_start.as_deref())?;
        if let Some(stop) = self.date_stop.as_deref()
            && day("date_stop", Some(stop))? != date
        {
            return Err(WireError::new(
                "date_stop",
                "the row spans several days (request time_increment=1)",
            ));
        }
        let failed = std::cell::RefCell::new(None);
        let conversions = result.pick(lookup(
            "actions",
            self.actions.stats(),
            |f, s| count(f, Some(s)).map(Decimal::from),
            &failed,
        ));
        let revenue = result.pick(lookup(
            "action_values",
            &self.action_values,
            |f, s| money(f, Some(s), currency),
            &failed,
        ));
        if let Some(e) = failed.into_inner() {
            return Err(e);
        }
        Ok(DailyInsight {
            date,
            campaign_id: self.campaign_id.clone(),
            adset_id: self.adset_id.clone(),
            ad_id: self.ad_id.clone(),
            totals: KpiTotals {
                impressions: count("impressions", self.impressions.as_deref())?,
                clicks: count("clicks", self.clicks.as_deref())?,
                link_clicks: count("inline_link_clicks", self.inline_link_clicks.as_deref())?,
                spend: money("spend", self.spend.as_deref(), currency)?,
                conversions: i64::try_from(conversions)
                    .map_err(|_| WireError::new("actions", "count out of range"))?,
                revenue,
            },
        })
    }
}

// ------------------------------------------------------------------ rows of a page

/// A scalar that Graph sends as a string but Airbyte-normalised records carry
/// as a JSON number (`600.0`); `null` and absent are `None`.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(serde::de::Error::custom("expected a string or a number")),
    }
}

/// One element of a page's `data` as the row type `R`.
fn row<R: DeserializeOwned>(what: &str, v: &RawValue) -> Result<R, WireError> {
    serde_json::from_str(v.get()).map_err(|e| WireError::new(what, e.to_string()))
}

fn required(field: &str, v: Option<&String>) -> Result<String, WireError> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(WireError::new(field, "missing")),
    }
}

/// The entity's status: the configured `status`, or `effective_status` when
/// `status` is absent or not one of `ACTIVE`, `PAUSED`, `ARCHIVED`,
/// `DELETED` (effective values such as `CAMPAIGN_PAUSED` or `WITH_ISSUES`
/// say why an entity does not deliver, not what it is set to).
///
/// # Errors
/// Neither field holds one of the four statuses.
pub fn status(status: Option<&str>, effective: Option<&str>) -> Result<EntityStatus, WireError> {
    [status, effective]
        .into_iter()
        .flatten()
        .find_map(|s| EntityStatus::parse(s.trim()).ok())
        .ok_or_else(|| WireError::new("status", "not one of ACTIVE, PAUSED, ARCHIVED, DELETED"))
}

/// One row of `GET /act_<id>/campaigns`.
#[derive(Debug, Clone, Deserialize)]
pub struct CampaignRow {
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub effective_status: Option<String>,
    pub objective: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub daily_budget: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub lifetime_budget: Option<String>,
}

impl CampaignRow {
    /// # Errors
    /// A missing id, name or status, or a malformed budget.
    pub fn parse(&self, currency: Currency) -> Result<PlatformCampaign, WireError> {
        Ok(PlatformCampaign {
            external_id: required("id", self.id.as_ref())?,
            name: required("name", self.name.as_ref())?,
            status: status(self.status.as_deref(), self.effective_status.as_deref())?,
            objective: self.objective.clone(),
            daily_budget: budget("daily_budget", self.daily_budget.as_deref(), currency)?,
            lifetime_budget: budget("lifetime_budget", self.lifetime_budget.as_deref(), currency)?,
        })
    }
}

/// One row of `GET /act_<id>/adsets`.
#[derive(Debug, Clone, Deserialize)]
pub struct AdSetRow {
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub campaign_id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub effective_status: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub daily_budget: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub lifetime_budget: Option<String>,
    pub optimization_goal: Option<String>,
}

impl AdSetRow {
    /// # Errors
    /// A missing id, campaign id, name or status, or a malformed budget.
    pub fn parse(&self, currency: Currency) -> Result<PlatformAdSet, WireError> {
        Ok(PlatformAdSet {
            external_id: required("id", self.id.as_ref())?,
            campaign_external_id: required("campaign_id", self.campaign_id.as_ref())?,
            name: required("name", self.name.as_ref())?,
            status: status(self.status.as_deref(), self.effective_status.as_deref())?,
            daily_budget: budget("daily_budget", self.daily_budget.as_deref(), currency)?,
            lifetime_budget: budget("lifetime_budget", self.lifetime_budget.as_deref(), currency)?,
            optimization_goal: self.optimization_goal.clone(),
        })
    }
}

/// One row of `GET /act_<id>/ads`. `targeting` sits on the ad itself (a copy
/// of its ad set's spec); `creative` is `{"id": ...}` plus whatever
/// sub-fields were asked for (`creative{id,name}`). Both are kept as sent
/// (`null` when absent).
#[derive(Debug, Clone, Deserialize)]
pub struct AdRow {
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub campaign_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub adset_id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub effective_status: Option<String>,
    #[serde(default)]
    pub creative: Value,
    #[serde(default)]
    pub targeting: Value,
}

impl AdRow {
    /// # Errors
    /// A missing id, campaign id, ad set id, name or status.
    pub fn parse(&self) -> Result<PlatformAd, WireError> {
        Ok(PlatformAd {
            external_id: required("id", self.id.as_ref())?,
            campaign_external_id: required("campaign_id", self.campaign_id.as_ref())?,
            adset_external_id: required("adset_id", self.adset_id.as_ref())?,
            name: required("name", self.name.as_ref())?,
            status: status(self.status.as_deref(), self.effective_status.as_deref())?,
            targeting: self.targeting.clone(),
            creative: self.creative.clone(),
        })
    }
}

/// One element of a campaigns page.
///
/// # Errors
/// See [`CampaignRow::parse`]; also a row that is not an object of that shape.
pub fn campaign(v: &RawValue, currency: Currency) -> Result<PlatformCampaign, WireError> {
    row::<CampaignRow>("campaign", v)?.parse(currency)
}

/// One element of an ad sets page.
///
/// # Errors
/// See [`AdSetRow::parse`]; also a row that is not an object of that shape.
pub fn ad_set(v: &RawValue, currency: Currency) -> Result<PlatformAdSet, WireError> {
    row::<AdSetRow>("ad set", v)?.parse(currency)
}

/// One element of an ads page.
///
/// # Errors
/// See [`AdRow::parse`]; also a row that is not an object of that shape.
pub fn ad(v: &RawValue) -> Result<PlatformAd, WireError> {
    row::<AdRow>("ad", v)?.parse()
}

/// One element of an insights page (level=ad, `time_increment=1`), with the
/// row's `actions` list kept as sent (`[]` when absent).
///
/// # Errors
/// See [`InsightRow::parse`]; also a row without its campaign, ad set or ad id.
pub fn insight(
    v: &RawValue,
    currency: Currency,
    result: &ResultAction,
) -> Result<PlatformInsight, WireError> {
    let row = row::<InsightRow>("insight", v)?;
    let daily = row.parse(currency, result)?;
    let id = |field: &str, v: Option<String>| match v {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(WireError::new(field, "missing (request level=ad)")),
    };
    Ok(PlatformInsight {
        date: daily.date,
        campaign_external_id: id("campaign_id", daily.campaign_id)?,
        adset_external_id: id("adset_id", daily.adset_id)?,
        ad_external_id: id("ad_id", daily.ad_id)?,
        totals: daily.totals,
        actions: row.actions.json().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(c: &str) -> Currency {
        Currency::parse(c).unwrap()
    }

    #[test]
    fn counts_are_whole_and_absent_is_zero() {
        assert_eq!(count("clicks", Some("185")), Ok(185));
        assert_eq!(count("clicks", None), Ok(0));
        assert!(count("clicks", Some("1.5")).is_err());
        assert!(count("clicks", Some("-1")).is_err());
        let e = count("clicks", Some("abc")).unwrap_err();
        assert_eq!(e.field, "clicks");
    }

    #[test]
    fn money_rounds_to_the_currency() {
        assert_eq!(
            money("spend", Some("14.35"), cur("USD")),
            Ok(Decimal::new(1435, 2))
        );
        assert_eq!(
            money("spend", Some("1.005"), cur("BRL")),
            Ok(Decimal::new(101, 2))
        );
        assert_eq!(
            money("spend", Some("120.6"), cur("JPY")),
            Ok(Decimal::from(121))
        );
        assert!(money("spend", Some("-2"), cur("USD")).is_err());
    }

    #[test]
    fn budgets_arrive_in_minor_units() {
        assert_eq!(
            budget("daily_budget", Some("15000"), cur("BRL")),
            Ok(Some(Decimal::new(15000, 2)))
        );
        assert_eq!(
            budget("daily_budget", Some("15000"), cur("JPY")),
            Ok(Some(Decimal::from(15000)))
        );
        assert_eq!(
            budget("daily_budget", Some("1500"), cur("KWD")),
            Ok(Some(Decimal::new(1500, 3)))
        );
        assert_eq!(budget("daily_budget", Some("0"), cur("USD")), Ok(None));
        assert_eq!(budget("daily_budget", None, cur("USD")), Ok(None));
    }

    #[test]
    fn days_are_calendar_days() {
        assert_eq!(
            day("date_start", Some("2023-06-01")),
            Ok(time::macros::date!(2023 - 06 - 01))
        );
        assert!(day("date_start", Some("06/01/2023")).is_err());
        assert!(day("date_start", None).is_err());
    }
    fn raw(v: &Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(v).unwrap()
    }

    #[test]
    fn entity_rows_accept_strings_and_numbers() {
        let brl = cur("BRL");
        let c = campaign(
            &raw(
                &serde_json::json!({"id": "1", "name": "C", "status": "PAUSED",
                "daily_budget": "15000", "lifetime_budget": 0.0}),
            ),
            brl,
        )
        .unwrap();
        assert_eq!(c.status, EntityStatus::Paused);
        assert_eq!(c.daily_budget, Some(Decimal::new(15000, 2)));
        assert_eq!(c.lifetime_budget, None);
        let s = ad_set(
            &raw(
                &serde_json::json!({"id": 2, "campaign_id": "1", "name": "S",
                "effective_status": "ARCHIVED", "daily_budget": 600.0}),
            ),
            brl,
        )
        .unwrap();
        assert_eq!(s.external_id, "2");
        assert_eq!(s.status, EntityStatus::Archived);
        assert_eq!(s.daily_budget, Some(Decimal::new(600, 2)));
        assert!(
            ad_set(
                &raw(&serde_json::json!({"id": "2", "name": "S", "status": "ACTIVE"})),
                brl
            )
            .is_err()
        );
    }

    #[test]
    fn status_prefers_the_configured_one() {
        assert_eq!(
            status(Some("ACTIVE"), Some("CAMPAIGN_PAUSED")),
            Ok(EntityStatus::Active)
        );
        assert_eq!(
            status(Some("WITH_ISSUES"), Some("PAUSED")),
            Ok(EntityStatus::Paused)
        );
        assert_eq!(status(None, Some("DELETED")), Ok(EntityStatus::Deleted));
        assert!(status(None, Some("IN_PROCESS")).is_err());
        assert!(status(None, None).is_err());
    }

    #[test]
    fn insight_rows_need_every_id() {
        let v = serde_json::json!({"date_start": "2023-06-01", "date_stop": "2023-06-01",
            "campaign_id": "1", "adset_id": "2", "impressions": "3"});
        let e = insight(&raw(&v), cur("USD"), &ResultAction::purchases()).unwrap_err();
        assert_eq!(e.field, "ad_id");
    }
}
