//! Everything a request handler can reach: the use cases, built once by the
//! binary and shared (behind `web::Data`) by every worker.

use std::sync::Arc;

use application::ads::{
    CreateAd, CreateAdAccount, CreateAdSet, CreateCampaign, DeleteAd, DeleteAdAccount, DeleteAdSet,
    DeleteCampaign, GetAd, GetAdAccount, GetAdSet, GetCampaign, GetCampaignKpis, ListAdAccounts,
    ListAdSets, ListAds, ListCampaigns, TopAds, UpdateAd, UpdateAdAccount, UpdateAdSet,
    UpdateCampaign,
};
use application::analysis::{
    DetectAnomalies, DetectTrends, ProposeBudgetAllocation, ScoreCampaigns,
};
use application::assistant::{
    Chat, DeleteConversation, FlagMessage, GetInsight, GetInsightJob, GetTokenUsage,
    ListConversations, ListInsights, ListMessages, RequestInsights,
};
use application::audit::ListAuditLog;
use application::identity::{
    AddMember, AuthenticateAccessToken, AuthenticateApiKey, ChangeMemberRole, CreateApiKey, GetMe,
    GetOrganization, ListApiKeys, ListMembers, Login, Logout, RefreshSession, Register,
    RemoveMember, RevokeApiKey, UpdateOrganization,
};
use application::ingestion::account_kpis::GetAdAccountKpis;
use application::ingestion::import::ImportCsv;
use application::ingestion::sync::{GetSyncRun, ListSyncRuns, RequestSync};
use application::notify::{
    CreateChannel, DeleteChannel, GetAlert, GetChannel, ListAlerts, ListChannels, TestChannel,
    UpdateChannel,
};
use application::platform::HealthMonitor;
use application::reports::{
    CreateReportSchedule, DownloadReport, GetReport, ListReports, ReportSchedules, RequestReport,
};
use application::rules::BacktestRule;
use application::rules::{
    AcceptSuggestion, CreateRule, DeleteRule, GetRule, GetSuggestion, ListRules, ListSuggestions,
    RejectSuggestion, UpdateRule,
};
use domain::platform::RateLimiter;

pub struct IdentityApi {
    pub register: Register,
    pub login: Login,
    pub refresh: RefreshSession,
    pub logout: Logout,
    pub me: GetMe,
    pub get_organization: GetOrganization,
    pub update_organization: UpdateOrganization,
    pub authenticate_token: AuthenticateAccessToken,
    pub authenticate_key: AuthenticateApiKey,
    pub list_members: ListMembers,
    pub add_member: AddMember,
    pub change_member_role: ChangeMemberRole,
    pub remove_member: RemoveMember,
    pub create_api_key: CreateApiKey,
    pub list_api_keys: ListApiKeys,
    pub revoke_api_key: RevokeApiKey,
}

pub struct AdsApi {
    pub create_ad_account: CreateAdAccount,
    pub get_ad_account: GetAdAccount,
    pub list_ad_accounts: ListAdAccounts,
    pub update_ad_account: UpdateAdAccount,
    pub delete_ad_account: DeleteAdAccount,
    pub create_campaign: CreateCampaign,
    pub get_campaign: GetCampaign,
    pub list_campaigns: ListCampaigns,
    pub update_campaign: UpdateCampaign,
    pub delete_campaign: DeleteCampaign,
    pub campaign_kpis: GetCampaignKpis,
    pub create_ad_set: CreateAdSet,
    pub get_ad_set: GetAdSet,
    pub list_ad_sets: ListAdSets,
    pub update_ad_set: UpdateAdSet,
    pub delete_ad_set: DeleteAdSet,
    pub create_ad: CreateAd,
    pub get_ad: GetAd,
    pub list_ads: ListAds,
    pub update_ad: UpdateAd,
    pub delete_ad: DeleteAd,
    pub top_ads: TopAds,
}

pub struct IngestionApi {
    pub ad_account_kpis: GetAdAccountKpis,
    pub request_sync: RequestSync,
    pub list_sync_runs: ListSyncRuns,
    pub get_sync_run: GetSyncRun,
    pub import_csv: ImportCsv,
}

pub struct RulesApi {
    pub create_rule: CreateRule,
    pub get_rule: GetRule,
    pub list_rules: ListRules,
    pub update_rule: UpdateRule,
    pub delete_rule: DeleteRule,
}

/// Reading and rejecting suggestions.
pub struct SuggestionsApi {
    pub list_suggestions: ListSuggestions,
    pub get_suggestion: GetSuggestion,
    pub accept_suggestion: AcceptSuggestion,
    pub reject_suggestion: RejectSuggestion,
}

/// Notification channels and the alerts sent to them.
pub struct AlertsApi {
    pub list_channels: ListChannels,
    pub create_channel: CreateChannel,
    pub get_channel: GetChannel,
    pub update_channel: UpdateChannel,
    pub delete_channel: DeleteChannel,
    pub test_channel: TestChannel,
    pub list_alerts: ListAlerts,
    pub get_alert: GetAlert,
}

/// Requested reports and their files.
pub struct ReportsApi {
    pub request_report: RequestReport,
    pub list_reports: ListReports,
    pub get_report: GetReport,
    pub download_report: DownloadReport,
    pub create_schedule: CreateReportSchedule,
    pub schedules: ReportSchedules,
}

/// The assistant: chat, the organization's conversations, the
/// generated weekly insights and the model's token usage.
pub struct AssistantApi {
    pub chat: Chat,
    pub list_conversations: ListConversations,
    pub list_messages: ListMessages,
    pub delete_conversation: DeleteConversation,
    pub flag_message: FlagMessage,
    /// Queues `POST /insights/generate` as an insight job.
    pub request_insights: RequestInsights,
    pub get_insight_job: GetInsightJob,
    pub list_insights: ListInsights,
    pub get_insight: GetInsight,
    pub usage: GetTokenUsage,
}

pub struct AuditApi {
    pub list_audit_log: ListAuditLog,
}

/// The Analyzer (read-only, from gold) and rule backtests.
pub struct AnalysisApi {
    pub scores: ScoreCampaigns,
    pub anomalies: DetectAnomalies,
    pub trends: DetectTrends,
    pub budget_allocation: ProposeBudgetAllocation,
    pub backtest_rule: BacktestRule,
}

/// Requests per minute per client IP and per authenticated principal.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub per_minute: u32,
}

pub struct AppState {
    pub identity: IdentityApi,
    pub ads: AdsApi,
    pub ingestion: IngestionApi,
    pub rules: RulesApi,
    pub suggestions: SuggestionsApi,
    pub analysis: AnalysisApi,
    pub audit: AuditApi,
    pub alerts: AlertsApi,
    pub reports: ReportsApi,
    pub assistant: AssistantApi,
    pub health: Arc<HealthMonitor>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub rate_limit: RateLimitSettings,
    /// Every metric of the process (HTTP, cache, pool) is registered here; `/metrics` renders it.
    pub registry: prometheus::Registry,
    /// Shown in envelopes and `/health`.
    pub version: &'static str,
}
