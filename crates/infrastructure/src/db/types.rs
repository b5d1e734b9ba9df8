//! Column value types that mean the same thing on both backends but are stored
//! differently: a UUID (`uuid` / hyphenated `TEXT`), money (`numeric(14,2)` /
//! `INTEGER` hundredths) and JSON (`jsonb` / `TEXT`). Each wrapper converts
//! itself for both backends, so one row struct and one query body serve both.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Json, Jsonb, Numeric, Text, Uuid as PgUuid};
use diesel::sqlite::Sqlite;
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

type SqliteRaw<'a> = <Sqlite as diesel::backend::Backend>::RawValue<'a>;

// ------------------------------------------------------------------ ids

/// A UUID column: `uuid` on PostgreSQL, hyphenated lower-case `TEXT` on SQLite
/// (which sorts exactly like the UUID, so keyset pagination agrees).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = PgUuid)]
#[diesel(sql_type = Text)]
pub struct DbId(pub Uuid);

impl ToSql<PgUuid, Pg> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Uuid as ToSql<PgUuid, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<PgUuid, Pg> for DbId {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <Uuid as FromSql<PgUuid, Pg>>::from_sql(value).map(Self)
    }
}

impl ToSql<Text, Sqlite> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<Text, Sqlite> for DbId {
    fn from_sql(value: SqliteRaw<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        Ok(Self(Uuid::parse_str(&text)?))
    }
}

impl From<Uuid> for DbId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

/// Every domain id converts to a column value.
macro_rules! db_ids {
    ($($id:ty),* $(,)?) => {$(
        impl From<$id> for DbId {
            fn from(id: $id) -> Self {
                Self(id.into_uuid())
            }
        }
    )*};
}

db_ids!(
    domain::TenantId,
    domain::UserId,
    domain::ApiKeyId,
    domain::RefreshTokenId,
    domain::TokenFamilyId,
    domain::AdAccountId,
    domain::SyncRunId,
    domain::CampaignId,
    domain::AdSetId,
    domain::AdId,
    domain::AuditEntryId,
    domain::RuleId,
    domain::SuggestionId,
);

/// Shorthand for binding any id: `campaigns::tenant_id.eq(db_id(t))`.
pub fn db_id(id: impl Into<DbId>) -> DbId {
    id.into()
}

// ------------------------------------------------------------------ money

/// Declares an exact decimal column type: `numeric` on PostgreSQL and an
/// `INTEGER` count of 10^-`$dp` units on SQLite, rounded half away from zero
/// the way PostgreSQL rounds into `numeric(p,$dp)`, so sums are exact on both.
macro_rules! scaled_decimal {
    ($(#[$meta:meta])* $name:ident, $dp:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
        #[diesel(sql_type = Numeric)]
        #[diesel(sql_type = BigInt)]
        pub struct $name(pub Decimal);

        impl $name {
            /// The value as a whole number of 10^-dp units (the SQLite form).
            ///
            /// # Errors
            /// The value does not fit in an `i64` of those units.
            pub fn to_units(self) -> Result<i64, MoneyOutOfRange> {
                let mut units = self
                    .0
                    .round_dp_with_strategy($dp, RoundingStrategy::MidpointAwayFromZero);
                units.rescale($dp);
                i64::try_from(units.mantissa()).map_err(|_| MoneyOutOfRange)
            }

            /// A value from whole 10^-dp units.
            #[must_use]
            pub fn from_units(units: i64) -> Self {
                Self(Decimal::new(units, $dp))
            }
        }

        impl ToSql<Numeric, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <Decimal as ToSql<Numeric, Pg>>::to_sql(&self.0, out)
            }
        }

        impl FromSql<Numeric, Pg> for $name {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                <Decimal as FromSql<Numeric, Pg>>::from_sql(value).map(Self)
            }
        }

        impl ToSql<BigInt, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.to_units()?);
                Ok(IsNull::No)
            }
        }

        impl FromSql<BigInt, Sqlite> for $name {
            fn from_sql(value: SqliteRaw<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Sqlite>>::from_sql(value).map(Self::from_units)
            }
        }
    };
}

scaled_decimal!(
    /// An amount of money: `numeric(14,2)` on PostgreSQL, `INTEGER` hundredths on SQLite.
    DbMoney,
    2
);

scaled_decimal!(
    /// A ratio kept to four places (CTR in percent, ROAS): `numeric(12,4)` on
    /// PostgreSQL, `INTEGER` ten-thousandths on SQLite.
    DbRatio,
    4
);

/// A value too large for the SQLite representation (about 92 quadrillion cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("amount out of range")]
pub struct MoneyOutOfRange;

// ------------------------------------------------------------------ json

/// A JSON document: `jsonb` (or `json`, which keeps the text as written) on
/// PostgreSQL, `TEXT` on SQLite.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Jsonb)]
#[diesel(sql_type = Json)]
#[diesel(sql_type = Text)]
pub struct DbJson(pub serde_json::Value);

impl ToSql<Json, Pg> for DbJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <serde_json::Value as ToSql<Json, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Json, Pg> for DbJson {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <serde_json::Value as FromSql<Json, Pg>>::from_sql(value).map(Self)
    }
}

impl ToSql<Jsonb, Pg> for DbJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <serde_json::Value as ToSql<Jsonb, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Jsonb, Pg> for DbJson {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <serde_json::Value as FromSql<Jsonb, Pg>>::from_sql(value).map(Self)
    }
}

impl ToSql<Text, Sqlite> for DbJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl FromSql<Text, Sqlite> for DbJson {
    fn from_sql(value: SqliteRaw<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        Ok(Self(serde_json::from_str(&text)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rounds_to_cents_half_away_from_zero() {
        assert_eq!(DbMoney(Decimal::new(12345, 3)).to_units(), Ok(1235));
        assert_eq!(DbMoney(Decimal::new(-12345, 3)).to_units(), Ok(-1235));
        assert_eq!(DbMoney(Decimal::new(7, 0)).to_units(), Ok(700));
        assert_eq!(DbMoney::from_units(123_450).0, Decimal::new(123_450, 2));
    }

    #[test]
    fn money_beyond_i64_cents_is_refused() {
        assert_eq!(DbMoney(Decimal::MAX).to_units(), Err(MoneyOutOfRange));
    }
}
