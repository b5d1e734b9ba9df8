//! The OpenAPI 3.1 document: `ApiDoc` lists every route of the route table
//! (expanded from the same list that registers them), both security schemes
//! and the error envelope. Served at `/api-docs/openapi.json`, browsed at
//! `/docs`, and snapshotted in `tests/openapi.rs`.
//!
//! Error responses are the `E4xx`/`E5xx` types below: each is one status with
//! an [`ErrorBody`] and, where the status has one, its header.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use crate::dto::ads::{
    AdAccountDto, AdDto, AdSetDto, CampaignDto, CampaignKpisDto, TopAdDto, TopMetricDto,
};
use crate::dto::alerts::{AlertDto, ChannelDto};
use crate::dto::analysis::{AnomaliesDto, BacktestDto, BudgetAllocationDto, ScoresDto, TrendsDto};
use crate::dto::assistant::{ChatReplyDto, ConversationDto, MessageDto, UsageDto};
use crate::dto::audit::AuditEntryDto;
use crate::dto::identity::{
    ApiKeyDto, CreatedApiKeyDto, MeResponse, MemberDto, MembershipDto, OrganizationDto,
    RegisterResponse, TokenResponse,
};
use crate::dto::ingestion::{AdAccountKpisDto, ImportAcceptedDto, SyncAcceptedDto, SyncRunDto};
use crate::dto::insights::{InsightDto, InsightJobDto};
use crate::dto::reports::{ReportDto, ReportScheduleDto};
use crate::dto::rules::RuleDto;
use crate::dto::suggestions::SuggestionDto;
use crate::envelope::{ListMeta, Meta};
use crate::error::ErrorBody;
use crate::routes::{
    ads, alerts, analysis, assistant, audit, identity, ingestion, insights, platform, reports,
    route_table, rules, suggestions,
};

/// Success envelopes as documented: one named schema per DTO whose `data`
/// refers to the DTO (utoipa would inline a generic argument). Never
/// constructed: the wire format is written by [`crate::envelope`], and
/// `envelope::tests` pins the two to the same shape.
macro_rules! documented_envelopes {
    ($($one:ident => $dto:ident;)*) => {$(
        #[doc = concat!("`{\"success\": true, \"data\": ", stringify!($dto), ", \"meta\": Meta}`.")]
        #[derive(utoipa::ToSchema)]
        pub struct $one {
            /// Always `true`.
            pub success: bool,
            pub data: $dto,
            pub meta: Meta,
        }
    )*};
}

macro_rules! documented_list_envelopes {
    ($($many:ident => $dto:ident;)*) => {$(
        #[doc = concat!("`{\"success\": true, \"data\": [", stringify!($dto), "], \"meta\": ListMeta}`.")]
        #[derive(utoipa::ToSchema)]
        pub struct $many {
            /// Always `true`.
            pub success: bool,
            pub data: Vec<$dto>,
            pub meta: ListMeta,
        }
    )*};
}

documented_envelopes! {
    RegisterEnvelope => RegisterResponse;
    TokenEnvelope => TokenResponse;
    MeEnvelope => MeResponse;
    OrganizationEnvelope => OrganizationDto;
    MemberEnvelope => MemberDto;
    MembershipEnvelope => MembershipDto;
    CreatedApiKeyEnvelope => CreatedApiKeyDto;
    AdAccountEnvelope => AdAccountDto;
    CampaignEnvelope => CampaignDto;
    CampaignKpisEnvelope => CampaignKpisDto;
    AdSetEnvelope => AdSetDto;
    AdEnvelope => AdDto;
    SyncRunEnvelope => SyncRunDto;
    AdAccountKpisEnvelope => AdAccountKpisDto;
    SyncAcceptedEnvelope => SyncAcceptedDto;
    ImportAcceptedEnvelope => ImportAcceptedDto;
    RuleEnvelope => RuleDto;
    SuggestionEnvelope => SuggestionDto;
    ChannelEnvelope => ChannelDto;
    AlertEnvelope => AlertDto;
    BacktestEnvelope => BacktestDto;
    ScoresEnvelope => ScoresDto;
    AnomaliesEnvelope => AnomaliesDto;
    TrendsEnvelope => TrendsDto;
    BudgetAllocationEnvelope => BudgetAllocationDto;
    ReportEnvelope => ReportDto;
    ChatReplyEnvelope => ChatReplyDto;
    MessageEnvelope => MessageDto;
    ReportScheduleEnvelope => ReportScheduleDto;
    InsightEnvelope => InsightDto;
    InsightJobEnvelope => InsightJobDto;
    UsageEnvelope => UsageDto;
}

documented_list_envelopes! {
    MemberListEnvelope => MemberDto;
    ApiKeyListEnvelope => ApiKeyDto;
    AdAccountListEnvelope => AdAccountDto;
    CampaignListEnvelope => CampaignDto;
    AdSetListEnvelope => AdSetDto;
    AdListEnvelope => AdDto;
    TopAdListEnvelope => TopAdDto;
    SyncRunListEnvelope => SyncRunDto;
    RuleListEnvelope => RuleDto;
    SuggestionListEnvelope => SuggestionDto;
    ChannelListEnvelope => ChannelDto;
    AlertListEnvelope => AlertDto;
    AuditEntryListEnvelope => AuditEntryDto;
    ReportListEnvelope => ReportDto;
    ConversationListEnvelope => ConversationDto;
    MessageListEnvelope => MessageDto;
    ReportScheduleListEnvelope => ReportScheduleDto;
    InsightListEnvelope => InsightDto;
}

macro_rules! error_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal $(, $header:literal = $header_doc:literal)?) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                #[allow(unused_mut)]
                let mut r = ResponseBuilder::new().description($description).content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                );
                $(
                    r = r.header(
                        $header,
                        HeaderBuilder::new()
                            .schema(ObjectBuilder::new().schema_type(Type::Integer).build())
                            .description(Some($header_doc))
                            .build(),
                    );
                )?
                BTreeMap::from([($status.to_owned(), RefOr::T(r.build()))])
            }
        }
    };
}

error_response!(
    /// 400: malformed body (`MALFORMED_BODY`) or bad parameter (`INVALID_PARAMETER`).
    E400, "400", "Malformed body (`MALFORMED_BODY`) or invalid query/path parameter (`INVALID_PARAMETER`)"
);
error_response!(
    /// 401: missing or invalid credentials.
    E401, "401", "Missing or invalid credentials (`UNAUTHORIZED`); sent with `WWW-Authenticate: Bearer`"
);
error_response!(
    /// 403: the role is too low.
    E403, "403", "Your role does not allow this (`FORBIDDEN`)"
);
error_response!(
    /// 404: missing, or another organization's.
    E404, "404", "Not found, or owned by another organization (`*_NOT_FOUND`)"
);
error_response!(
    /// 409: conflicts with current state.
    E409, "409", "Conflicts with the current state (e.g. `EMAIL_TAKEN`, `LAST_OWNER`, `AD_ACCOUNT_EXISTS`, `NEEDS_REAUTH`)"
);
error_response!(
    /// 413: body above 256 KiB.
    E413, "413", "Body larger than 256 KiB (`PAYLOAD_TOO_LARGE`)"
);
error_response!(
    /// 422: well-formed but invalid; `details.fields` names each field.
    E422, "422", "Well-formed but invalid (`VALIDATION_FAILED`); `details.fields` maps each field to its problem"
);
error_response!(
    /// 422: well-formed but invalid; `details.fields` names each field.
    E422Import, "422", "The file was refused and nothing was written: `IMPORT_REJECTED` with `details.missing_columns` (required columns absent) or `details.rows: [{row, column, reason}]` (every bad row); `VALIDATION_FAILED` for a missing form field"
);
error_response!(
    /// 429: rate limited.
    E429, "429", "Too many requests (`RATE_LIMITED`); `RateLimit-*` headers tell the budget",
    "Retry-After" = "Seconds until the window resets"
);
error_response!(
    /// 500: a bug; the cause is logged, never shown.
    E500, "500", "Internal error (`INTERNAL_ERROR`)"
);
error_response!(
    /// 503: a dependency is down.
    E503, "503", "A dependency is unavailable (`SERVICE_UNAVAILABLE`)",
    "Retry-After" = "Seconds to wait before retrying"
);

/// Adds the `bearer_auth` (JWT) and `api_key` (`X-API-Key`) schemes.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_auth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from `/api/v1/auth/login`, `/register` or `/refresh`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "An organization API key from `POST /api/v1/api-keys`",
            ))),
        );
    }
}

macro_rules! api_doc {
    ($($path:literal => { $($method:ident : $module:ident :: $handler:ident),+ $(,)? }),+ $(,)?) => {
        /// The AdScale API, generated from the handlers' `#[utoipa::path]`s.
        #[derive(OpenApi)]
        #[openapi(
            info(
                title = "AdScale API",
                description = "Multi-tenant marketing backend: identity, ad accounts, campaigns, ad sets, ads, KPIs, ingestion and automation rules. \
                    Success: `{success, data, meta}`; errors: `{error, message, code, details}`.",
            ),
            paths($($($module::$handler),+),+),
            components(schemas(ErrorBody, TopMetricDto)),
            modifiers(&SecuritySchemes),
            tags(
                (name = "auth", description = "Sign-up, sessions and the caller"),
                (name = "organization", description = "The caller's organization: its name and time zone"),
                (name = "members", description = "People in the organization and their roles"),
                (name = "api-keys", description = "Keys for integrations"),
                (name = "ad-accounts", description = "Connected ad platform accounts"),
                (name = "campaigns", description = "Campaigns and their KPIs"),
                (name = "ad-sets", description = "Ad sets"),
                (name = "ads", description = "Ads and the best performers"),
                (name = "ingestion", description = "Syncs from ad platforms, sync runs and CSV imports"),
                (name = "rules", description = "Automation rules: what to watch, and what to suggest or apply"),
                (name = "suggestions", description = "What rules suggested, with the numbers that explain it; accepting (applied through the ad platform) or rejecting it"),
                (name = "audit", description = "Who changed what, when, with the state before and after"),
                (name = "analysis", description = "The Analyzer: campaign scores, anomalies, trends and budget-allocation proposals, read from gold"),
                (name = "alerts", description = "Notification channels (Slack, e-mail, signed webhooks) and the alerts delivered to them, with each delivery's state"),
                (name = "reports", description = "Daily, weekly and executive reports as CSV, XLSX or PDF: requested as jobs, downloaded when done"),
                (name = "assistant", description = "Questions about an ad account answered from its data, with every figure verified (or a built-in answer without a model); conversations, their memory and flagged answers; generated weekly insights; the model's token usage"),
                (name = "platform", description = "Health, metrics and this document"),
            ),
        )]
        pub struct ApiDoc;
    };
}

route_table!(api_doc);

/// The document as pretty JSON, built once per process.
pub(crate) fn openapi_json_static() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| serde_json::json!({"error": e.to_string()}).to_string())
    })
}

/// The OpenAPI document served at `/api-docs/openapi.json`, as pretty JSON.
#[must_use]
pub fn openapi_json() -> String {
    openapi_json_static().to_owned()
}
