//! Wire formats shared by every DTO: money as strings with exactly two
//! decimals, ratios as JSON numbers (4 dp) or `null`, timestamps RFC 3339 UTC
//! with `Z`, dates `YYYY-MM-DD`, and the absent-vs-null distinction of PATCH
//! bodies. Domain types never derive `Serialize`; these helpers are the only
//! place their values become JSON.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};
use utoipa::IntoParams;

/// `?limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `1234.5` → `"1234.50"`: rounded half away from zero to cents, always two decimals.
#[must_use]
pub fn format_money(v: Decimal) -> String {
    let mut d = v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(2);
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d.to_string()
}

/// A ratio as an `f64` rounded to 4 decimal places (`None` stays `None`).
#[must_use]
pub fn ratio_number(v: Option<Decimal>) -> Option<f64> {
    v.and_then(|d| {
        d.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
            .to_f64()
    })
}

/// RFC 3339 in UTC, `…Z`.
#[must_use]
pub fn format_timestamp(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// `YYYY-MM-DD`.
#[must_use]
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `#[serde(serialize_with = "money")]`.
///
/// # Errors
/// Those of the serializer.
pub fn money<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_money(*v))
}

/// `#[serde(serialize_with = "money_opt")]`: `null` when absent.
///
/// # Errors
/// Those of the serializer.
#[allow(clippy::ref_option)]
pub fn money_opt<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_str(&format_money(*d)),
        None => s.serialize_none(),
    }
}

/// `#[serde(serialize_with = "ratio")]`: a JSON number with at most 4 decimals, or `null`.
///
/// # Errors
/// Those of the serializer.
#[allow(clippy::ref_option)]
pub fn ratio<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match ratio_number(*v) {
        Some(f) => s.serialize_f64(f),
        None => s.serialize_none(),
    }
}

/// `#[serde(serialize_with = "timestamp")]`.
///
/// # Errors
/// Those of the serializer.
pub fn timestamp<S: Serializer>(v: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*v))
}

/// `#[serde(serialize_with = "timestamp_opt")]`.
///
/// # Errors
/// Those of the serializer.
#[allow(clippy::ref_option)]
pub fn timestamp_opt<S: Serializer>(v: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(t) => s.serialize_str(&format_timestamp(*t)),
        None => s.serialize_none(),
    }
}

/// `#[serde(serialize_with = "date")]`.
///
/// # Errors
/// Those of the serializer.
pub fn date<S: Serializer>(v: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_date(*v))
}

/// For PATCH fields that may be cleared: with `#[serde(default, deserialize_with = "double_option")]`
/// an absent field is `None` (leave alone), `null` is `Some(None)` (clear) and
/// a value is `Some(Some(v))`.
///
/// # Errors
/// Those of the inner type.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;
    use std::str::FromStr;
    use time::macros::{date, datetime};

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn money_always_has_two_decimals() {
        assert_eq!(format_money(d("1234.5")), "1234.50");
        assert_eq!(format_money(d("1234")), "1234.00");
        assert_eq!(format_money(d("0")), "0.00");
        assert_eq!(format_money(d("-0.001")), "0.00");
        assert_eq!(format_money(d("0.125")), "0.13");
        assert_eq!(format_money(d("2.875")), "2.88");
        assert_eq!(format_money(d("152.370000")), "152.37");
        assert_eq!(format_money(d("-3.5")), "-3.50");
    }

    #[test]
    fn ratios_are_numbers_with_four_decimals_or_null() {
        #[derive(Serialize)]
        struct R {
            #[serde(serialize_with = "ratio")]
            ctr: Option<Decimal>,
            #[serde(serialize_with = "ratio")]
            roas: Option<Decimal>,
            #[serde(serialize_with = "money_opt")]
            cpc: Option<Decimal>,
        }
        let v = serde_json::to_value(R {
            ctr: Some(d("1.886792")),
            roas: None,
            cpc: Some(d("2.87")),
        })
        .unwrap();
        assert_eq!(v, json!({"ctr": 1.8868, "roas": null, "cpc": "2.87"}));
        assert_eq!(
            serde_json::to_string(&R {
                ctr: Some(d("4")),
                roas: Some(d("4.00341")),
                cpc: None
            })
            .unwrap(),
            r#"{"ctr":4.0,"roas":4.0034,"cpc":null}"#
        );
    }

    #[test]
    fn timestamps_are_utc_with_z_and_dates_plain() {
        assert_eq!(
            format_timestamp(datetime!(2026-01-02 03:04:05 -03:00)),
            "2026-01-02T06:04:05Z"
        );
        assert_eq!(format_date(date!(2024 - 02 - 09)), "2024-02-09");
    }

    #[test]
    fn double_option_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct Patch {
            #[serde(default, deserialize_with = "double_option")]
            daily_budget: Option<Option<Decimal>>,
        }
        let p: Patch = serde_json::from_str("{}").unwrap();
        assert_eq!(p.daily_budget, None);
        let p: Patch = serde_json::from_str(r#"{"daily_budget": null}"#).unwrap();
        assert_eq!(p.daily_budget, Some(None));
        let p: Patch = serde_json::from_str(r#"{"daily_budget": "12.50"}"#).unwrap();
        assert_eq!(p.daily_budget, Some(Some(d("12.50"))));
    }
}
