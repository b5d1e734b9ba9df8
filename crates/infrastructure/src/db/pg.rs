//! PostgreSQL specifics: the schema of `migrations/postgres` (the reference
//! schema) and the SQL types raw queries bind with. `on_db!` brings this module
//! into scope in its PostgreSQL arm.

/// SQL type of id columns.
pub type IdSql = diesel::sql_types::Uuid;
/// SQL type of money columns and of sums of money (`numeric`).
pub type MoneySql = diesel::sql_types::Numeric;
/// SQL type of JSON columns.
pub type JsonSql = diesel::sql_types::Jsonb;
/// SQL type of timestamp columns.
pub type TsSql = diesel::sql_types::Timestamptz;

/// The diesel backend of this module.
pub type Backend = diesel::pg::Pg;

/// The `n`-th (1-based) bind placeholder of a hand-built statement.
#[must_use]
pub fn placeholder(n: usize) -> String {
    format!("${n}")
}

/// A placeholder whose text value is stored as `json`.
#[must_use]
pub fn json_placeholder(n: usize) -> String {
    format!("CAST(${n} AS json)")
}

pub use schema::*;

/// Tables as created by `migrations/postgres` (hand-written; column order matches
/// the row structs in `db::rows`).
#[allow(missing_docs)]
pub mod schema {
    diesel::table! {
        organizations (id) {
            id -> Uuid,
            name -> Text,
            created_at -> Timestamptz,
            timezone -> Text,
        }
    }

    diesel::table! {
        users (id) {
            id -> Uuid,
            email -> Text,
            name -> Text,
            password_hash -> Text,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        memberships (tenant_id, user_id) {
            tenant_id -> Uuid,
            user_id -> Uuid,
            role -> Text,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        refresh_tokens (id) {
            id -> Uuid,
            family_id -> Uuid,
            tenant_id -> Uuid,
            user_id -> Uuid,
            token_hash -> Text,
            created_at -> Timestamptz,
            expires_at -> Timestamptz,
            used_at -> Nullable<Timestamptz>,
            revoked_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        api_keys (id) {
            id -> Uuid,
            tenant_id -> Uuid,
            name -> Text,
            role -> Text,
            prefix -> Text,
            key_hash -> Text,
            created_by -> Nullable<Uuid>,
            created_at -> Timestamptz,
            last_used_at -> Nullable<Timestamptz>,
            revoked_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        ad_accounts (tenant_id, id) {
            id -> Uuid,
            tenant_id -> Uuid,
            platform -> Text,
            external_id -> Text,
            name -> Text,
            currency -> Text,
            timezone -> Text,
            status -> Text,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        campaigns (tenant_id, id) {
            id -> Uuid,
            tenant_id -> Uuid,
            ad_account_id -> Uuid,
            external_id -> Nullable<Text>,
            name -> Text,
            status -> Text,
            objective -> Nullable<Text>,
            daily_budget -> Nullable<Numeric>,
            lifetime_budget -> Nullable<Numeric>,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        ad_sets (tenant_id, id) {
            id -> Uuid,
            tenant_id -> Uuid,
            ad_account_id -> Uuid,
            campaign_id -> Uuid,
            external_id -> Nullable<Text>,
            name -> Text,
            status -> Text,
            daily_budget -> Nullable<Numeric>,
            lifetime_budget -> Nullable<Numeric>,
            optimization_goal -> Nullable<Text>,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        ads (tenant_id, id) {
            id -> Uuid,
            tenant_id -> Uuid,
            ad_account_id -> Uuid,
            campaign_id -> Uuid,
            ad_set_id -> Uuid,
            external_id -> Nullable<Text>,
            name -> Text,
            status -> Text,
            targeting -> Jsonb,
            creative -> Jsonb,
            performance -> Jsonb,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        insights_daily (tenant_id, level, entity_id, date) {
            tenant_id -> Uuid,
            ad_account_id -> Uuid,
            level -> Text,
            entity_id -> Uuid,
            campaign_id -> Nullable<Uuid>,
            date -> Date,
            impressions -> BigInt,
            clicks -> BigInt,
            link_clicks -> BigInt,
            spend -> Numeric,
            conversions -> BigInt,
            revenue -> Numeric,
            actions -> Json,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        audit_log (tenant_id, id) {
            id -> Uuid,
            tenant_id -> Uuid,
            at -> Timestamptz,
            actor -> Text,
            action -> Text,
            entity_type -> Text,
            entity_id -> Text,
            before -> Nullable<Jsonb>,
            after -> Nullable<Jsonb>,
        }
    }

    diesel::table! {
        sync_runs (tenant_id, id) {
            id -> Uuid,
            tenant_id -> Uuid,
            ad_account_id -> Uuid,
            kind -> Text,
            status -> Text,
            range_from -> Date,
            range_to -> Date,
            queued_at -> Timestamptz,
            started_at -> Nullable<Timestamptz>,
            finished_at -> Nullable<Timestamptz>,
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
            tenant_id -> Uuid,
            ad_account_id -> Uuid,
            level -> Text,
            entity_id -> Uuid,
            campaign_id -> Nullable<Uuid>,
            period_start -> Date,
            impressions -> BigInt,
            clicks -> BigInt,
            link_clicks -> BigInt,
            spend -> Numeric,
            conversions -> BigInt,
            revenue -> Numeric,
            ctr -> Nullable<Numeric>,
            cpc -> Nullable<Numeric>,
            cpm -> Nullable<Numeric>,
            cpa -> Nullable<Numeric>,
            roas -> Nullable<Numeric>,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        kpi_weekly (tenant_id, level, entity_id, period_start) {
            tenant_id -> Uuid,
            ad_account_id -> Uuid,
            level -> Text,
            entity_id -> Uuid,
            campaign_id -> Nullable<Uuid>,
            period_start -> Date,
            impressions -> BigInt,
            clicks -> BigInt,
            link_clicks -> BigInt,
            spend -> Numeric,
            conversions -> BigInt,
            revenue -> Numeric,
            ctr -> Nullable<Numeric>,
            cpc -> Nullable<Numeric>,
            cpm -> Nullable<Numeric>,
            cpa -> Nullable<Numeric>,
            roas -> Nullable<Numeric>,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        rules (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            version -> Integer,
            name -> Text,
            level -> Text,
            spec -> Json,
            enabled -> Bool,
            mode -> Text,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
            deleted_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        rule_versions (tenant_id, rule_id, version) {
            tenant_id -> Uuid,
            rule_id -> Uuid,
            version -> Integer,
            spec -> Json,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        reports (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            ad_account_id -> Nullable<Uuid>,
            currency -> Nullable<Text>,
            kind -> Text,
            period_from -> Nullable<Date>,
            period_to -> Nullable<Date>,
            format -> Text,
            decimal_separator -> Text,
            status -> Text,
            requested_by -> Text,
            created_at -> Timestamptz,
            due_at -> Nullable<Timestamptz>,
            attempts -> Integer,
            finished_at -> Nullable<Timestamptz>,
            file_name -> Nullable<Text>,
            size_bytes -> Nullable<BigInt>,
            content -> Nullable<Bytea>,
            expires_at -> Nullable<Timestamptz>,
            failure -> Nullable<Text>,
            schedule_id -> Nullable<Uuid>,
        }
    }

    diesel::table! {
        report_schedules (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            ad_account_id -> Nullable<Uuid>,
            currency -> Nullable<Text>,
            kind -> Text,
            format -> Text,
            decimal_separator -> Text,
            hour -> Integer,
            enabled -> Bool,
            last_run_on -> Nullable<Date>,
            created_by -> Text,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        suggestions (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            ad_account_id -> Uuid,
            rule_id -> Uuid,
            rule_version -> Integer,
            level -> Text,
            entity_id -> Uuid,
            entity_name -> Text,
            action -> Text,
            action_percent -> Nullable<Numeric>,
            proposed_from -> Nullable<Numeric>,
            proposed_to -> Nullable<Numeric>,
            window_from -> Date,
            window_to -> Date,
            metrics -> Json,
            reason -> Text,
            status -> Text,
            created_at -> Timestamptz,
            decided_by -> Nullable<Uuid>,
            decided_at -> Nullable<Timestamptz>,
            reject_reason -> Nullable<Text>,
            apply_due_at -> Nullable<Timestamptz>,
            apply_attempts -> Integer,
            applied_at -> Nullable<Timestamptz>,
            failure -> Nullable<Text>,
        }
    }

    diesel::table! {
        notification_channels (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            name -> Text,
            kind -> Text,
            target_sealed -> Binary,
            target_display -> Text,
            events -> Json,
            min_severity -> Nullable<Text>,
            enabled -> Bool,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
            deleted_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        alerts (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            kind -> Text,
            severity -> Text,
            title -> Text,
            body -> Text,
            data -> Json,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        alert_deliveries (tenant_id, alert_id, channel_id) {
            tenant_id -> Uuid,
            alert_id -> Uuid,
            channel_id -> Uuid,
            status -> Text,
            attempts -> Integer,
            next_attempt_at -> Timestamptz,
            claimed_until -> Nullable<Timestamptz>,
            last_error -> Nullable<Text>,
            delivered_at -> Nullable<Timestamptz>,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        conversations (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            created_by -> Text,
            title -> Text,
            summary -> Nullable<Text>,
            summarized_through -> Nullable<Uuid>,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        conversation_messages (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            conversation_id -> Uuid,
            role -> Text,
            content -> Text,
            figures -> Json,
            mode -> Nullable<Text>,
            intent -> Nullable<Text>,
            prompt_tokens -> BigInt,
            completion_tokens -> BigInt,
            flag_reason -> Nullable<Text>,
            flagged_at -> Nullable<Timestamptz>,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        llm_usage (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            source -> Text,
            prompt_tokens -> BigInt,
            completion_tokens -> BigInt,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        generated_insight_claims (tenant_id, ad_account_id, week_start) {
            tenant_id -> Uuid,
            ad_account_id -> Uuid,
            week_start -> Date,
            claimed_until -> Timestamptz,
        }
    }

    diesel::table! {
        generated_insights (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            ad_account_id -> Uuid,
            week_start -> Date,
            week_end -> Date,
            headline -> Text,
            findings -> Json,
            actions -> Json,
            mode -> Text,
            verified -> Bool,
            prompt_tokens -> BigInt,
            completion_tokens -> BigInt,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        insight_jobs (tenant_id, id) {
            tenant_id -> Uuid,
            id -> Uuid,
            ad_account_id -> Nullable<Uuid>,
            week_start -> Nullable<Date>,
            status -> Text,
            requested_by -> Text,
            created_at -> Timestamptz,
            due_at -> Nullable<Timestamptz>,
            attempts -> Integer,
            finished_at -> Nullable<Timestamptz>,
            insight_ids -> Json,
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
