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

/// The diesel backend of this module.
pub type Backend = diesel::sqlite::Sqlite;

/// The `n`-th (1-based) bind placeholder of a hand-built statement
/// (numbered, so binds may appear in the text in any order).
#[must_use]
pub fn placeholder(n: usize) -> String {
    format!("?{n}")
}

/// A placeholder whose text value is stored as JSON text.
#[must_use]
pub fn json_placeholder(n: usize) -> String {
    placeholder(n)
}

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
            timezone -> Text,
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

    diesel::table! {
        sync_runs (tenant_id, id) {
            id -> Text,
            tenant_id -> Text,
            ad_account_id -> Text,
            kind -> Text,
            status -> Text,
            range_from -> Date,
            range_to -> Date,
            queued_at -> TimestamptzSqlite,
            started_at -> Nullable<TimestamptzSqlite>,
            finished_at -> Nullable<TimestamptzSqlite>,
            campaigns -> BigInt,
            ad_sets -> BigInt,
            ads -> BigInt,
            insights -> BigInt,
            rows_changed -> BigInt,
            api_calls -> BigInt,
            attempts -> Integer,
            error -> Nullable<Text>,
        }
    }

    diesel::table! {
        kpi_daily (tenant_id, level, entity_id, period_start) {
            tenant_id -> Text,
            ad_account_id -> Text,
            level -> Text,
            entity_id -> Text,
            campaign_id -> Nullable<Text>,
            period_start -> Date,
            impressions -> BigInt,
            clicks -> BigInt,
            link_clicks -> BigInt,
            spend -> BigInt,
            conversions -> BigInt,
            revenue -> BigInt,
            ctr -> Nullable<BigInt>,
            cpc -> Nullable<BigInt>,
            cpm -> Nullable<BigInt>,
            cpa -> Nullable<BigInt>,
            roas -> Nullable<BigInt>,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        kpi_weekly (tenant_id, level, entity_id, period_start) {
            tenant_id -> Text,
            ad_account_id -> Text,
            level -> Text,
            entity_id -> Text,
            campaign_id -> Nullable<Text>,
            period_start -> Date,
            impressions -> BigInt,
            clicks -> BigInt,
            link_clicks -> BigInt,
            spend -> BigInt,
            conversions -> BigInt,
            revenue -> BigInt,
            ctr -> Nullable<BigInt>,
            cpc -> Nullable<BigInt>,
            cpm -> Nullable<BigInt>,
            cpa -> Nullable<BigInt>,
            roas -> Nullable<BigInt>,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        rules (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            version -> Integer,
            name -> Text,
            level -> Text,
            spec -> Text,
            enabled -> Bool,
            mode -> Text,
            created_at -> TimestamptzSqlite,
            updated_at -> TimestamptzSqlite,
            deleted_at -> Nullable<TimestamptzSqlite>,
        }
    }

    diesel::table! {
        rule_versions (tenant_id, rule_id, version) {
            tenant_id -> Text,
            rule_id -> Text,
            version -> Integer,
            spec -> Text,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        reports (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            ad_account_id -> Nullable<Text>,
            currency -> Nullable<Text>,
            kind -> Text,
            period_from -> Nullable<Date>,
            period_to -> Nullable<Date>,
            format -> Text,
            decimal_separator -> Text,
            status -> Text,
            requested_by -> Text,
            created_at -> TimestamptzSqlite,
            due_at -> Nullable<TimestamptzSqlite>,
            attempts -> Integer,
            finished_at -> Nullable<TimestamptzSqlite>,
            file_name -> Nullable<Text>,
            size_bytes -> Nullable<BigInt>,
            content -> Nullable<Binary>,
            expires_at -> Nullable<TimestamptzSqlite>,
            failure -> Nullable<Text>,
            schedule_id -> Nullable<Text>,
        }
    }

    diesel::table! {
        report_schedules (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            ad_account_id -> Nullable<Text>,
            currency -> Nullable<Text>,
            kind -> Text,
            format -> Text,
            decimal_separator -> Text,
            hour -> Integer,
            enabled -> Bool,
            last_run_on -> Nullable<Date>,
            created_by -> Text,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        suggestions (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            ad_account_id -> Text,
            rule_id -> Text,
            rule_version -> Integer,
            level -> Text,
            entity_id -> Text,
            entity_name -> Text,
            action -> Text,
            action_percent -> Nullable<BigInt>,
            proposed_from -> Nullable<BigInt>,
            proposed_to -> Nullable<BigInt>,
            window_from -> Date,
            window_to -> Date,
            metrics -> Text,
            reason -> Text,
            status -> Text,
            created_at -> TimestamptzSqlite,
            decided_by -> Nullable<Text>,
            decided_at -> Nullable<TimestamptzSqlite>,
            reject_reason -> Nullable<Text>,
            apply_due_at -> Nullable<TimestamptzSqlite>,
            apply_attempts -> Integer,
            applied_at -> Nullable<TimestamptzSqlite>,
            failure -> Nullable<Text>,
        }
    }

    diesel::table! {
        notification_channels (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            name -> Text,
            kind -> Text,
            target_sealed -> Binary,
            target_display -> Text,
            events -> Text,
            min_severity -> Nullable<Text>,
            enabled -> Bool,
            created_at -> TimestamptzSqlite,
            updated_at -> TimestamptzSqlite,
            deleted_at -> Nullable<TimestamptzSqlite>,
        }
    }

    diesel::table! {
        alerts (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            kind -> Text,
            severity -> Text,
            title -> Text,
            body -> Text,
            data -> Text,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        alert_deliveries (tenant_id, alert_id, channel_id) {
            tenant_id -> Text,
            alert_id -> Text,
            channel_id -> Text,
            status -> Text,
            attempts -> Integer,
            next_attempt_at -> TimestamptzSqlite,
            claimed_until -> Nullable<TimestamptzSqlite>,
            last_error -> Nullable<Text>,
            delivered_at -> Nullable<TimestamptzSqlite>,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        conversations (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            created_by -> Text,
            title -> Text,
            summary -> Nullable<Text>,
            summarized_through -> Nullable<Text>,
            created_at -> TimestamptzSqlite,
            updated_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        conversation_messages (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            conversation_id -> Text,
            role -> Text,
            content -> Text,
            figures -> Text,
            mode -> Nullable<Text>,
            intent -> Nullable<Text>,
            prompt_tokens -> BigInt,
            completion_tokens -> BigInt,
            flag_reason -> Nullable<Text>,
            flagged_at -> Nullable<TimestamptzSqlite>,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        llm_usage (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            source -> Text,
            prompt_tokens -> BigInt,
            completion_tokens -> BigInt,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        generated_insight_claims (tenant_id, ad_account_id, week_start) {
            tenant_id -> Text,
            ad_account_id -> Text,
            week_start -> Date,
            claimed_until -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        generated_insights (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            ad_account_id -> Text,
            week_start -> Date,
            week_end -> Date,
            headline -> Text,
            findings -> Text,
            actions -> Text,
            mode -> Text,
            verified -> Bool,
            prompt_tokens -> BigInt,
            completion_tokens -> BigInt,
            created_at -> TimestamptzSqlite,
        }
    }

    diesel::table! {
        insight_jobs (tenant_id, id) {
            tenant_id -> Text,
            id -> Text,
            ad_account_id -> Nullable<Text>,
            week_start -> Nullable<Date>,
            status -> Text,
            requested_by -> Text,
            created_at -> TimestamptzSqlite,
            due_at -> Nullable<TimestamptzSqlite>,
            attempts -> Integer,
            finished_at -> Nullable<TimestamptzSqlite>,
            insight_ids -> Text,
            failure -> Nullable<Text>,
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
        sync_runs,
        kpi_daily,
        kpi_weekly,
        rules,
        rule_versions,
        suggestions,
        notification_channels,
        alerts,
        alert_deliveries,
    );
}
