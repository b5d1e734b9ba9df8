//! SQLite specifics: the schema of `migrations/sqlite` and the SQL types raw
//! queries bind with (ids and JSON are `TEXT`, money `INTEGER` hundredths).
//! `on_db!` brings this module into scope in its SQLite arm.

/// SQL type of id columns.
pub type IdSql = diesel::sql_types::Text;
/// SQL type of money columns and of sums of money (hundredths).
pub type MoneySql = diesel::sql_types::BigInt;
/// SQL type of JSON columns.
pub type JsonSql = diesel::sql_types::Text;
/// SQL type of timestamp columns.
pub type TsSql = diesel::sql_types::TimestamptzSqlite;

pub use schema::*;

/// Tables as created by `migrations/sqlite` (hand-written; column order matches
/// the row structs in `db::rows`).
#[allow(missing_docs)]
pub mod schema {
    diesel::table! {
        organizations (id) {
            id -> Text,
            name -> Text,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        users (id) {
            id -> Text,
            email -> Text,
            name -> Text,
            password_hash -> Text,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        memberships (tenant_id, user_id) {
            tenant_id -> Text,
            user_id -> Text,
            role -> Text,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        refresh_tokens (id) {
            id -> Text,
            family_id -> Text,
            tenant_id -> Text,
            user_id -> Text,
            token_hash -> Text,
            created_at -> TimestamptzSqlite,
            expires_at -> TimestamptzSqlite,
            used_at -> Nullable<TimestamptzSqlite>,
            revoked_at -> Nullable<TimestamptzSqlite>,
        }
    }

    diesel::table! {
        api_keys (id) {
            id -> Text,
            tenant_id -> Text,
            name -> Text,
            role -> Text,
            prefix -> Text,
            key_hash -> Text,
            created_by -> Nullable<Text>,
            created_at -> TimestamptzSqlite,
            last_used_at -> Nullable<TimestamptzSqlite>,
            revoked_at -> Nullable<TimestamptzSqlite>,
        }
    }

    diesel::table! {
        ad_accounts (tenant_id, id) {
            id -> Text,
            tenant_id -> Text,
            platform -> Text,
            external_id -> Text,
            name -> Text,
            currency -> Text,
            timezone -> Text,
            status -> Text,
            created_at -> TimestamptzSqlite,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        campaigns (tenant_id, id) {
            id -> Text,
            tenant_id -> Text,
            ad_account_id -> Text,
            external_id -> Nullable<Text>,
            name -> Text,
            status -> Text,
            objective -> Nullable<Text>,
            daily_budget -> Nullable<BigInt>,
            lifetime_budget -> Nullable<BigInt>,
            created_at -> TimestamptzSqlite,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        ad_sets (tenant_id, id) {
            id -> Text,
            tenant_id -> Text,
            ad_account_id -> Text,
            campaign_id -> Text,
            external_id -> Nullable<Text>,
            name -> Text,
            status -> Text,
            daily_budget -> Nullable<BigInt>,
            lifetime_budget -> Nullable<BigInt>,
            optimization_goal -> Nullable<Text>,
            created_at -> TimestamptzSqlite,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        ads (tenant_id, id) {
            id -> Text,
            tenant_id -> Text,
            ad_account_id -> Text,
            campaign_id -> Text,
            ad_set_id -> Text,
            external_id -> Nullable<Text>,
            name -> Text,
            status -> Text,
            targeting -> Text,
            creative -> Text,
            performance -> Text,
            created_at -> TimestamptzSqlite,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        insights_daily (tenant_id, level, entity_id, date) {
            tenant_id -> Text,
            ad_account_id -> Text,
            level -> Text,
            entity_id -> Text,
            campaign_id -> Nullable<Text>,
            date -> Date,
            impressions -> BigInt,
            clicks -> BigInt,
            link_clicks -> BigInt,
            spend -> BigInt,
            conversions -> BigInt,
            revenue -> BigInt,
            actions -> Text,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        audit_log (tenant_id, id) {
            id -> Text,
            tenant_id -> Text,
            at -> TimestamptzSqlite,
            actor -> Text,
            action -> Text,
            entity_type -> Text,
            entity_id -> Text,
            before -> Nullable<Text>,
            after -> Nullable<Text>,
        }
    }

    diesel::allow_tables_to_appear_in_same_query!(
        organizations,
        users,
        memberships,
        refresh_tokens,
        api_keys,
        ad_accounts,
        campaigns,
        ad_sets,
        ads,
        insights_daily,
        audit_log,
    );
}
