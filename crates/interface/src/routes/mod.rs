//! The route table — the one list of every route (path, methods, handler).
//! It is expanded twice: here into the actix registration and [`ROUTES`],
//! and in [`crate::openapi`] into the `paths(...)` of `ApiDoc`; a test checks
//! that each handler's `#[utoipa::path]` names the same path and method.
//!
//! Paths are grouped into one resource each, so a known path with another
//! method answers 405 rather than 404. Order matters where patterns overlap:
//! `/api/v1/ads/top` comes before `/api/v1/ads/{id}`.

pub mod ads;
pub mod alerts;
pub mod analysis;
pub mod assistant;
pub mod audit;
pub mod identity;
pub mod ingestion;
pub mod insights;
pub mod platform;
pub mod reports;
pub mod rules;
pub mod suggestions;

use actix_web::web;
use domain::page::PageRequest;

use crate::error::{ApiError, parse_u32};

/// Calls `$callback!` with the route table.
macro_rules! route_table {
    ($callback:ident) => {
        $callback! {
            "/health" => { get: platform::health },
            "/metrics" => { get: platform::metrics },
            "/api-docs/openapi.json" => { get: platform::openapi_document },

            "/api/v1/auth/register" => { post: identity::register },
            "/api/v1/auth/login" => { post: identity::login },
            "/api/v1/auth/refresh" => { post: identity::refresh },
            "/api/v1/auth/logout" => { post: identity::logout },
            "/api/v1/me" => { get: identity::me },
            "/api/v1/organization" => {
                get: identity::get_organization,
                patch: identity::update_organization,
            },
            "/api/v1/members" => { get: identity::list_members, post: identity::add_member },
            "/api/v1/members/{user_id}" => {
                patch: identity::change_member_role,
                delete: identity::remove_member,
            },
            "/api/v1/api-keys" => { get: identity::list_api_keys, post: identity::create_api_key },
            "/api/v1/api-keys/{id}" => { delete: identity::revoke_api_key },

            "/api/v1/ad-accounts" => { get: ads::list_ad_accounts, post: ads::create_ad_account },
            "/api/v1/ad-accounts/{id}" => {
                get: ads::get_ad_account,
                patch: ads::update_ad_account,
                delete: ads::delete_ad_account,
            },
            "/api/v1/ad-accounts/{id}/kpis" => { get: ingestion::ad_account_kpis },
            "/api/v1/ad-accounts/{id}/sync" => { post: ingestion::request_sync },
            "/api/v1/sync-runs" => { get: ingestion::list_sync_runs },
            "/api/v1/sync-runs/{id}" => { get: ingestion::get_sync_run },
            "/api/v1/imports" => { post: ingestion::import_csv },
            "/api/v1/campaigns" => { get: ads::list_campaigns, post: ads::create_campaign },
            "/api/v1/campaigns/{id}" => {
                get: ads::get_campaign,
                patch: ads::update_campaign,
                delete: ads::delete_campaign,
            },
            "/api/v1/campaigns/{id}/kpis" => { get: ads::campaign_kpis },
            "/api/v1/ad-sets" => { get: ads::list_ad_sets, post: ads::create_ad_set },
            "/api/v1/ad-sets/{id}" => {
                get: ads::get_ad_set,
                patch: ads::update_ad_set,
                delete: ads::delete_ad_set,
            },
            "/api/v1/ads/top" => { get: ads::top_ads },
            "/api/v1/ads" => { get: ads::list_ads, post: ads::create_ad },
            "/api/v1/ads/{id}" => {
                get: ads::get_ad,
                patch: ads::update_ad,
                delete: ads::delete_ad,
            },

            "/api/v1/rules" => { get: rules::list_rules, post: rules::create_rule },
            "/api/v1/rules/{id}" => {
                get: rules::get_rule,
                put: rules::update_rule,
                delete: rules::delete_rule,
            },
            "/api/v1/rules/{id}/backtest" => { post: rules::backtest_rule },

            "/api/v1/analysis/scores" => { get: analysis::scores },
            "/api/v1/analysis/anomalies" => { get: analysis::anomalies },
            "/api/v1/analysis/trends" => { get: analysis::trends },
            "/api/v1/analysis/budget-allocation" => { get: analysis::budget_allocation },

            "/api/v1/suggestions" => { get: suggestions::list_suggestions },
            "/api/v1/suggestions/{id}" => { get: suggestions::get_suggestion },
            "/api/v1/suggestions/{id}/accept" => { post: suggestions::accept_suggestion },
            "/api/v1/suggestions/{id}/reject" => { post: suggestions::reject_suggestion },
            "/api/v1/audit-log" => { get: audit::list_audit_log },

            "/api/v1/notification-channels" => {
                get: alerts::list_channels,
                post: alerts::create_channel,
            },
            "/api/v1/notification-channels/{id}" => {
                get: alerts::get_channel,
                patch: alerts::update_channel,
                delete: alerts::delete_channel,
            },
            "/api/v1/notification-channels/{id}/test" => { post: alerts::test_channel },
            "/api/v1/alerts" => { get: alerts::list_alerts },
            "/api/v1/alerts/{id}" => { get: alerts::get_alert },

            "/api/v1/chat" => { post: assistant::chat },
            "/api/v1/conversations" => { get: assistant::list_conversations },
            "/api/v1/conversations/{id}" => { delete: assistant::delete_conversation },
            "/api/v1/conversations/{id}/messages" => { get: assistant::list_messages },
            "/api/v1/conversations/{id}/messages/{message_id}/flag" => {
                post: assistant::flag_message,
            },
            "/api/v1/assistant/usage" => { get: assistant::usage },
            "/api/v1/assistant/flagged-answers" => { get: assistant::flagged_answers },
            "/api/v1/insights" => { get: insights::list_insights },
            "/api/v1/insights/generate" => { post: insights::generate_insights },
            "/api/v1/insights/{id}" => { get: insights::get_insight },
            "/api/v1/insight-jobs/{id}" => { get: insights::get_insight_job },

            "/api/v1/reports" => { get: reports::list_reports, post: reports::create_report },
            "/api/v1/reports/{id}" => { get: reports::get_report },
            "/api/v1/reports/{id}/download" => { get: reports::download_report },
            "/api/v1/report-schedules" => {
                get: reports::list_schedules,
                post: reports::create_schedule,
            },
            "/api/v1/report-schedules/{id}" => {
                get: reports::get_schedule,
                delete: reports::delete_schedule,
            },
        }
    };
}
pub(crate) use route_table;

macro_rules! register_routes {
    ($($path:literal => { $($method:ident : $module:ident :: $handler:ident),+ $(,)? }),+ $(,)?) => {
        /// Registers every route of the table.
        pub(crate) fn register(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $(.route(web::$method().to($module::$handler)))+
                        .default_service(web::to(crate::error::method_not_allowed)),
                );
            )+
        }

        /// Every registered `(method, path)`, method in lower case as in OpenAPI.
        pub const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path),)+)+];
    };
}

route_table!(register_routes);

/// `?limit&cursor` → a page request: 400 for a non-numeric limit, 422 for
/// one out of 1..=200 or a cursor we did not issue.
pub(crate) fn page_request(
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<PageRequest, ApiError> {
    let limit = parse_u32("limit", limit)?;
    Ok(PageRequest::new(limit, cursor)?)
}
