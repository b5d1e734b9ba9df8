//! Builds adapters from configuration and hands them to use cases. The one
//! place that knows every concrete type; tests build their app through the
//! same [`build_state`] so they run what production runs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use application::ads::TokenVault;
use application::ads::{
    CreateAd, CreateAdAccount, CreateAdSet, CreateCampaign, DeleteAd, DeleteAdAccount, DeleteAdSet,
    DeleteCampaign, GetAd, GetAdAccount, GetAdSet, GetCampaign, GetCampaignKpis, ListAdAccounts,
    ListAdSets, ListAds, ListCampaigns, TopAds, UpdateAd, UpdateAdAccount, UpdateAdSet,
    UpdateCampaign,
};
use application::analysis::{
    AnomalyAlerts, DetectAnomalies, DetectTrends, GoldReader, ProposeBudgetAllocation,
    ScoreCampaigns,
};
use application::audit::Auditor;
use application::audit::ListAuditLog;
use application::identity::{
    AddMember, AuthenticateAccessToken, AuthenticateApiKey, ChangeMemberRole, CreateApiKey, GetMe,
    GetOrganization, ListApiKeys, ListMembers, Login, Logout, RefreshSession, Register,
    RemoveMember, RevokeApiKey, SessionIssuer, UpdateOrganization,
};
use application::ingestion::account_kpis::GetAdAccountKpis;
use application::ingestion::import::ImportCsv;
use application::ingestion::sync::{
    AfterSync, AfterSyncAll, GetSyncRun, IngestionPorts, ListSyncRuns, PurgeRawPayloads,
    RecoverSyncs, RequestSync, RunSync, ScheduleSyncs,
};
use application::platform::HealthMonitor;
use application::rules::BacktestRule;
use application::rules::{
    AcceptSuggestion, ApplyEntities, ApplySettings, ApplySuggestions, CreateRule, DeleteRule,
    EvaluateRules, EvaluateScheduledRules, EvaluationPorts, GetRule, GetSuggestion, ListRules,
    ListSuggestions, RejectSuggestion, UpdateRule,
};
use domain::identity::{AccessTokens, ApiKeyRepository, PasswordHasher, Secrets};
use domain::ingestion::{AdsPlatform, Locks, SecretBox, SyncQueue};
use domain::platform::{Cache, Clock, Probe, RateLimiter};
use infrastructure::api_key_cache::CachedApiKeys;
use infrastructure::cache::{CacheMetrics, MemoryCache, RedisCache, TieredCache};
use infrastructure::clock::SystemClock;
use infrastructure::clock::TokioSleeper;
use infrastructure::crypto::{Argon2Hasher, JwtTokens, RandomSecrets};
use infrastructure::db::{Db, DbPool};
use infrastructure::jobs::{QueueSource, WorkerUseCases};
use infrastructure::locks::{MemoryLocks, RedisLocks};
use infrastructure::meta::client::MetaGraphClient;
use infrastructure::meta::throttle::{MemoryThrottleStore, RedisThrottleStore, ThrottleStore};
use infrastructure::rate_limit::{MemoryRateLimiter, RedisRateLimiter};
use infrastructure::redis_pool::{RedisBreaker, RedisProbe, redis_client, redis_pool};
use interface::{
    AdsApi, AppState, AuditApi, IdentityApi, IngestionApi, RateLimitSettings, RulesApi,
    SuggestionsApi,
};

use application::ingestion::sync::SyncSettings;
use infrastructure::jobs::JobsConfig;
use infrastructure::meta::client::MetaConfig;
use infrastructure::secret_box::AesSecretBox;
use interface::state::AnalysisApi;

use crate::config::AlertsConfig;
use application::assistant::{
    Chat, DeleteConversation, FlagMessage, GenerateInsights, GetInsight, GetInsightJob,
    GetTokenUsage, ListConversations, ListInsights, ListMessages, RequestInsights, RunInsightJobs,
    WeeklyInsights,
};
use application::notify::{
    CreateChannel, DeleteChannel, DeliverAlerts, GetAlert, GetChannel, ListAlerts, ListChannels,
    TestChannel, UpdateChannel,
};
use application::reports::{
    BuildReport, CreateReportSchedule, DownloadReport, GetReport, ListReports, ReportJobPorts,
    ReportJobSettings, ReportSchedules, RequestReport, RunReports,
};
use domain::assistant::llm::LlmClient;
use domain::notify::RetryPolicy;
use domain::reports::ReportRenderer;
use infrastructure::alerts_worker::AlertsWorkerConfig;
use infrastructure::llm::openai::{OpenAiCompatibleClient, OpenAiConfig};
use infrastructure::notify::{ChannelNotifier, EmailNotifier, SmtpSettings};
use infrastructure::reports::DocumentRenderer;
use interface::AlertsApi;
use interface::state::AssistantApi;
use interface::state::ReportsApi;

use crate::config::{Config, Storage};

/// The concrete adapters behind the ports.
pub struct Adapters {
    pub pool: DbPool,
    pub db: Arc<Db>,
    pub cache: Arc<dyn Cache>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub probes: Vec<Arc<dyn Probe>>,
    pub registry: prometheus::Registry,
    /// Graph API call budget per ad account, shared by every worker through Redis.
    pub throttle: Arc<dyn ThrottleStore>,
    pub locks: Arc<dyn Locks>,
    pub queue: Arc<dyn SyncQueue>,
    /// What a worker consumes; taken by the first worker started.
    pub queue_source: std::sync::Mutex<Option<QueueSource>>,
}

/// A configured Redis: a pool, a client (pub/sub) and its URL (the job queue).
pub struct RedisConn {
    pub pool: deadpool_redis::Pool,
    pub client: deadpool_redis::redis::Client,
    pub url: String,
}

impl RedisConn {
    /// # Errors
    /// An unusable URL.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        // Few connections: the cache and the limiter each share one
        // multiplexed connection; the pool serves the probe and reconnects.
        Ok(Self {
            pool: redis_pool(url, 8).context("configuring the Redis pool")?,
            client: redis_client(url).context("configuring the Redis client")?,
            url: url.to_owned(),
        })
    }
}

/// Tunables of the use cases, from [`Config`] (tests pick cheap values).
#[derive(Clone)]
pub struct Settings {
    pub jwt_secret: Vec<u8>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    pub cache_ttl_campaigns: Duration,
    pub cache_ttl_top_ads: Duration,
    pub rate_limit: RateLimitSettings,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Base64 or hex AES-256 key sealing platform tokens.
    pub encryption_key: String,
    pub meta: MetaConfig,
    pub sync: SyncSettings,
    pub jobs: JobsConfig,
    /// Applying accepted suggestions (holds, retries).
    pub apply: ApplySettings,
    /// Alert delivery: poll interval, batch, lease, retries.
    pub alerts: AlertsConfig,
    /// The report job: retention of files, retries, lease, batch.
    pub reports: ReportJobSettings,
    /// SMTP for e-mail alerts; `None`: e-mail deliveries fail ("not configured").
    pub smtp: Option<SmtpSettings>,
    /// The assistant's language model; `None`: the built-in answerer replies.
    pub llm: Option<OpenAiConfig>,
    /// Whether the weekly insights round writes each account's week on
    /// Monday morning (`WEEKLY_INSIGHTS`); off, it still runs the insight
    /// jobs requested on demand.
    pub weekly_insights: bool,
}

impl Settings {
    /// # Errors
    /// The embedded JWT secret file cannot be read or created.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let jwt_secret = match (&config.jwt_secret, &config.storage) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Storage::Sqlite { path }) => embedded_jwt_secret(path)?,
            (None, Storage::Postgres { .. }) => {
                anyhow::bail!("JWT_SECRET is required with DATABASE_URL")
            }
        };
        let encryption_key = match (&config.encryption_key, &config.storage) {
            (Some(k), _) => k.clone(),
            (None, Storage::Sqlite { path }) => embedded_encryption_key(path)?,
            (None, Storage::Postgres { .. }) => {
                anyhow::bail!("APP_ENCRYPTION_KEY is required with DATABASE_URL")
            }
        };
        let meta = MetaConfig {
            base_url: config.meta_graph_url.clone(),
            api_version: config.meta_api_version.clone(),
            ..MetaConfig::default()
        };
        let sync = SyncSettings {
            lookback_days: config.lookback_days,
            raw_retention_days: config.raw_retention_days,
            ..SyncSettings::default()
        };
        let jobs = JobsConfig {
            concurrency: config.worker_concurrency,
            regular_cron: config.sync_cron.clone(),
            lookback_cron: config.lookback_cron.clone(),
            ..JobsConfig::default()
        };
        Ok(Self {
            encryption_key,
            meta,
            sync,
            jobs,
            apply: ApplySettings::default(),
            alerts: config.alerts,
            reports: ReportJobSettings {
                retention: time::Duration::days(config.report_retention_days),
                public_base_url: config.public_base_url.clone(),
                ..ReportJobSettings::default()
            },
            smtp: config.smtp.clone(),
            llm: config.llm.clone(),
            weekly_insights: config.weekly_insights,
            jwt_secret,
            access_token_ttl_secs: config.access_token_ttl_secs,
            refresh_token_ttl_days: config.refresh_token_ttl_days,
            cache_ttl_campaigns: config.cache_ttl_campaigns,
            cache_ttl_top_ads: config.cache_ttl_top_ads,
            rate_limit: RateLimitSettings {
                enabled: config.rate_limit_enabled,
                per_minute: config.rate_limit_per_minute,
            },
            argon2_memory_kib: config.argon2_memory_kib,
            argon2_iterations: config.argon2_iterations,
        })
    }
}

/// The embedded default keeps a generated signing key beside its database,
/// so sessions survive restarts without any setup.
fn embedded_jwt_secret(db_path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = db_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("jwt.secret");
    if let Ok(s) = std::fs::read_to_string(&file) {
        let s = s.trim();
        if s.len() >= 32 {
            return Ok(s.as_bytes().to_vec());
        }
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let secret = RandomSecrets.generate(48);
    write_private(&file, &secret).with_context(|| format!("writing {}", file.display()))?;
    tracing::info!(path = %file.display(), "generated a JWT signing key for the embedded mode");
    Ok(secret.into_bytes())
}

/// The embedded default keeps a generated AES-256 key beside its database
/// (created once, mode 0600) and says so in the log.
fn embedded_encryption_key(db_path: &Path) -> anyhow::Result<String> {
    let file = db_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("encryption.key");
    let (_, created) = AesSecretBox::from_key_file(&file)?;
    if created {
        tracing::warn!(path = %file.display(), "generated the key that encrypts platform tokens; back it up: without it stored tokens cannot be read");
    } else {
        tracing::info!(path = %file.display(), "platform tokens are encrypted with the key file");
    }
    Ok(std::fs::read_to_string(&file)
        .with_context(|| format!("reading {}", file.display()))?
        .trim()
        .to_owned())
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

impl Adapters {
    /// Connects to what the configuration names. PostgreSQL pools connect
    /// lazily: a database that is down makes requests answer 503 and `/health`
    /// report it, and never sends writes anywhere else.
    ///
    /// # Errors
    /// Unusable URLs, an unopenable SQLite file, metric registration.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let pool = match &config.storage {
            Storage::Sqlite { path } => DbPool::sqlite(path)
                .with_context(|| format!("opening SQLite at {}", path.display()))?,
            Storage::Postgres { url, pool_size } => {
                DbPool::postgres(url, *pool_size).context("configuring the PostgreSQL pool")?
            }
        };
        let redis = config
            .redis_url
            .as_deref()
            .map(RedisConn::new)
            .transpose()?;
        Self::assemble(pool, redis, &config.redis_key_prefix).await
    }

    /// Wraps a database pool and an optional Redis pool into ports.
    ///
    /// # Errors
    /// Metric registration failures.
    pub async fn assemble(
        pool: DbPool,
        redis: Option<RedisConn>,
        redis_prefix: &str,
    ) -> anyhow::Result<Self> {
        let registry = prometheus::Registry::new();
        infrastructure::db::metrics::register_pool_metrics(&pool, &registry)?;
        let cache_metrics = CacheMetrics::new(&registry)?;
        let db = Arc::new(Db::new(pool.clone()));
        let mut probes: Vec<Arc<dyn Probe>> = vec![db.clone()];
        let (queue, queue_source) =
            infrastructure::jobs::queue(redis.as_ref().map(|r| (r.url.as_str(), redis_prefix)))
                .await
                .context("configuring the job queue")?;
        let (throttle, locks): (Arc<dyn ThrottleStore>, Arc<dyn Locks>) = match &redis {
            None => (
                Arc::new(MemoryThrottleStore::new()),
                Arc::new(MemoryLocks::new()),
            ),
            Some(r) => (
                Arc::new(RedisThrottleStore::new(
                    r.pool.clone(),
                    redis_prefix,
                    RedisBreaker::default(),
                )),
                Arc::new(RedisLocks::new(r.pool.clone(), redis_prefix)),
            ),
        };
        let (cache, rate_limiter): (Arc<dyn Cache>, Arc<dyn RateLimiter>) = match redis {
            None => (
                Arc::new(MemoryCache::new(10_000, &cache_metrics)),
                Arc::new(MemoryRateLimiter::default()),
            ),
            Some(RedisConn {
                pool: r, client, ..
            }) => {
                probes.push(Arc::new(RedisProbe::new(r.clone())));
                let breaker = RedisBreaker::default();
                let prefix = format!("{redis_prefix}cache:");
                let shared =
                    RedisCache::new(r.clone(), prefix.clone(), breaker.clone(), &cache_metrics);
                (
                    Arc::new(TieredCache::start(
                        shared,
                        MemoryCache::new(10_000, &cache_metrics),
                        client,
                        &prefix,
                    )),
                    Arc::new(RedisRateLimiter::new(
                        r,
                        format!("{redis_prefix}rl:"),
                        MemoryRateLimiter::default(),
                        breaker,
                    )),
                )
            }
        };
        Ok(Self {
            pool,
            db,
            cache,
            rate_limiter,
            probes,
            registry,
            throttle,
            locks,
            queue,
            queue_source: std::sync::Mutex::new(Some(queue_source)),
        })
    }
}

/// The HTTP state and the ingestion ports the worker shares with it.
pub struct Built {
    pub state: AppState,
    pub ingestion: Arc<IngestionPorts>,
    /// Judges rules on an account's fresh data; the worker runs it after
    /// every successful sync.
    pub evaluate_rules: Arc<EvaluateRules>,
    /// Applies accepted suggestions through the platform; the worker runs
    /// it every 5 seconds (`jobs.apply_cron`).
    pub apply_suggestions: Arc<ApplySuggestions>,
    /// Alerts on yesterday's anomalies; the worker runs it after every
    /// successful sync, after the rules.
    pub anomaly_alerts: Arc<AnomalyAlerts>,
    /// Delivers the alert outbox; the worker loop runs it.
    pub deliver_alerts: Arc<DeliverAlerts>,
    pub alerts_worker: AlertsWorkerConfig,
    /// Renders requested reports and deletes expired files; a worker loop
    /// runs it (polled like the alerts).
    pub run_reports: Arc<RunReports>,
    /// Builds report documents (`adscale report` renders one directly).
    pub build_report: Arc<BuildReport>,
    /// Runs the queued insight jobs and writes each ad account's document
    /// of the week just ended (that part skipped when
    /// `WEEKLY_INSIGHTS=off`); a worker loop runs it.
    pub weekly_insights: Arc<WeeklyInsights>,
}

/// Builds every use case over the adapters (see [`build`]).
///
/// # Errors
/// Invalid crypto settings (JWT secret, argon2 parameters, encryption key).
pub fn build_state(a: &Adapters, s: &Settings) -> anyhow::Result<AppState> {
    Ok(build(a, s)?.state)
}

/// The use cases the job worker drives, over the same ports as the API:
/// syncs (each successful one followed by the `after_sync` rules), their
/// schedules, the `hourly`/`daily` rules and applying accepted suggestions.
#[must_use]
pub fn worker_use_cases(built: &Built) -> WorkerUseCases {
    let ports = &built.ingestion;
    let after_sync: Arc<dyn AfterSync> = Arc::new(AfterSyncAll(vec![
        built.evaluate_rules.clone(),
        built.anomaly_alerts.clone(),
    ]));
    WorkerUseCases {
        apply: built.apply_suggestions.clone(),
        evaluate: Arc::new(EvaluateScheduledRules::new(
            built.evaluate_rules.clone(),
            ports.connections.clone(),
        )),
        run: Arc::new(RunSync::new(ports.clone()).with_after_sync(after_sync)),
        schedule: Arc::new(ScheduleSyncs::new(ports.clone())),
        recover: Arc::new(RecoverSyncs::new(ports.clone())),
        purge: Arc::new(PurgeRawPayloads::new(ports.clone())),
    }
}

/// Builds every use case over the adapters.
///
/// # Errors
/// Invalid crypto settings (JWT secret, argon2 parameters, encryption key)
/// or Graph API settings.
pub fn build(a: &Adapters, s: &Settings) -> anyhow::Result<Built> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let secrets: Arc<dyn Secrets> = Arc::new(RandomSecrets);
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2Hasher::new(
        s.argon2_memory_kib,
        s.argon2_iterations,
        1,
    )?);
    let tokens: Arc<dyn AccessTokens> =
        Arc::new(JwtTokens::with_ttl(&s.jwt_secret, s.access_token_ttl_secs)?);
    let db = &a.db;
    let evaluate_rules = Arc::new(EvaluateRules::new(EvaluationPorts {
        rules: db.clone(),
        suggestions: db.clone(),
        accounts: db.clone(),
        campaigns: db.clone(),
        ad_sets: db.clone(),
        ads: db.clone(),
        store: db.clone(),
        clock: clock.clone(),
    }));
    let api_keys: Arc<dyn ApiKeyRepository> = Arc::new(CachedApiKeys::new(db.clone()));
    let audit = Auditor::new(db.clone(), clock.clone());
    let sessions = SessionIssuer::new(
        tokens.clone(),
        db.clone(),
        secrets.clone(),
        clock.clone(),
        time::Duration::days(s.refresh_token_ttl_days),
    );
    let cache = &a.cache;
    let secret_box: Arc<dyn SecretBox> =
        Arc::new(AesSecretBox::from_encoded(&s.encryption_key).context("APP_ENCRYPTION_KEY")?);
    let vault = TokenVault::new(db.clone(), secret_box.clone());
    let platform: Arc<dyn AdsPlatform> = Arc::new(
        MetaGraphClient::new(s.meta.clone(), a.throttle.clone(), Arc::new(TokioSleeper))
            .context("configuring the Graph API client")?,
    );
    let ingestion = Arc::new(IngestionPorts {
        accounts: db.clone(),
        connections: db.clone(),
        secrets: secret_box,
        platform,
        store: db.clone(),
        runs: db.clone(),
        queue: a.queue.clone(),
        locks: a.locks.clone(),
        cache: cache.clone(),
        clock: clock.clone(),
        audit: audit.clone(),
        settings: s.sync,
    });
    let identity = IdentityApi {
        register: Register::new(db.clone(), hasher.clone(), sessions.clone(), clock.clone()),
        login: Login::new(db.clone(), db.clone(), hasher.clone(), sessions.clone()),
        refresh: RefreshSession::new(
            db.clone(),
            db.clone(),
            secrets.clone(),
            sessions,
            clock.clone(),
        ),
        logout: Logout::new(db.clone(), secrets.clone(), clock.clone()),
        me: GetMe::new(db.clone(), db.clone()),
        get_organization: GetOrganization::new(db.clone()),
        update_organization: UpdateOrganization::new(db.clone(), audit.clone()),
        authenticate_token: AuthenticateAccessToken::new(tokens, clock.clone()),
        authenticate_key: AuthenticateApiKey::new(api_keys.clone(), secrets.clone(), clock.clone()),
        list_members: ListMembers::new(db.clone()),
        add_member: AddMember::new(db.clone(), db.clone(), clock.clone(), audit.clone()),
        change_member_role: ChangeMemberRole::new(db.clone(), audit.clone()),
        remove_member: RemoveMember::new(db.clone(), audit.clone()),
        create_api_key: CreateApiKey::new(api_keys.clone(), secrets, clock.clone(), audit.clone()),
        list_api_keys: ListApiKeys::new(api_keys.clone()),
        revoke_api_key: RevokeApiKey::new(api_keys, clock.clone(), audit.clone()),
    };
    let rules = RulesApi {
        create_rule: CreateRule::new(db.clone(), clock.clone(), audit.clone()),
        get_rule: GetRule::new(db.clone()),
        list_rules: ListRules::new(db.clone()),
        update_rule: UpdateRule::new(db.clone(), clock.clone(), audit.clone()),
        delete_rule: DeleteRule::new(db.clone(), clock.clone(), audit.clone()),
    };
    let suggestions = SuggestionsApi {
        list_suggestions: ListSuggestions::new(db.clone()),
        get_suggestion: GetSuggestion::new(db.clone()),
        accept_suggestion: AcceptSuggestion::new(db.clone(), clock.clone(), audit.clone()),
        reject_suggestion: RejectSuggestion::new(db.clone(), clock.clone(), audit.clone()),
    };
    let audit_api = AuditApi {
        list_audit_log: ListAuditLog::new(db.clone()),
    };
    let apply_suggestions = Arc::new(ApplySuggestions::new(
        db.clone(),
        db.clone(),
        ApplyEntities {
            campaigns: db.clone(),
            ad_sets: db.clone(),
            ads: db.clone(),
        },
        ingestion.clone(),
        s.apply.clone(),
    ));
    let gold = GoldReader::new(
        db.clone(),
        db.clone(),
        db.clone(),
        db.clone(),
        clock.clone(),
    );
    let anomaly_alerts = Arc::new(AnomalyAlerts::new(
        Arc::new(DetectAnomalies::new(gold.clone())),
        db.clone(),
        clock.clone(),
    ));
    let build_report = Arc::new(
        BuildReport::new(gold.clone())
            .with_suggestions(db.clone())
            .with_insights(db.clone()),
    );
    let renderer: Arc<dyn ReportRenderer> = Arc::new(DocumentRenderer::new());
    let run_reports = Arc::new(RunReports::new(
        ReportJobPorts {
            reports: db.clone(),
            schedules: db.clone(),
            build: build_report.clone(),
            renderer,
            clock: clock.clone(),
        },
        s.reports.clone(),
    ));
    let reports = ReportsApi {
        request_report: RequestReport::new(db.clone(), build_report.clone(), clock.clone()),
        list_reports: ListReports::new(db.clone()),
        get_report: GetReport::new(db.clone()),
        download_report: DownloadReport::new(db.clone()),
        create_schedule: CreateReportSchedule::new(db.clone(), build_report.clone(), clock.clone()),
        schedules: ReportSchedules::new(db.clone()),
    };
    let (assistant, weekly_insights) = assistant(db, gold.clone(), s)?;
    let analysis = AnalysisApi {
        scores: ScoreCampaigns::new(gold.clone()),
        anomalies: DetectAnomalies::new(gold.clone()),
        trends: DetectTrends::new(gold.clone()),
        budget_allocation: ProposeBudgetAllocation::new(gold.clone()),
        backtest_rule: BacktestRule::new(db.clone(), gold, db.clone(), db.clone(), db.clone()),
    };
    let ads = AdsApi {
        create_ad_account: CreateAdAccount::new(
            db.clone(),
            clock.clone(),
            audit.clone(),
            vault.clone(),
        ),
        get_ad_account: GetAdAccount::new(db.clone()),
        list_ad_accounts: ListAdAccounts::new(db.clone()),
        update_ad_account: UpdateAdAccount::new(db.clone(), clock.clone(), audit.clone(), vault),
        delete_ad_account: DeleteAdAccount::new(db.clone(), cache.clone(), audit.clone()),
        create_campaign: CreateCampaign::new(
            db.clone(),
            cache.clone(),
            clock.clone(),
            audit.clone(),
        ),
        get_campaign: GetCampaign::new(db.clone()),
        list_campaigns: ListCampaigns::new(db.clone(), cache.clone(), s.cache_ttl_campaigns),
        update_campaign: UpdateCampaign::new(
            db.clone(),
            cache.clone(),
            clock.clone(),
            audit.clone(),
        ),
        delete_campaign: DeleteCampaign::new(db.clone(), cache.clone(), audit.clone()),
        campaign_kpis: GetCampaignKpis::new(db.clone()),
        create_ad_set: CreateAdSet::new(db.clone(), db.clone(), clock.clone(), audit.clone()),
        get_ad_set: GetAdSet::new(db.clone()),
        list_ad_sets: ListAdSets::new(db.clone()),
        update_ad_set: UpdateAdSet::new(db.clone(), clock.clone(), audit.clone()),
        delete_ad_set: DeleteAdSet::new(db.clone(), cache.clone(), audit.clone()),
        create_ad: CreateAd::new(
            db.clone(),
            db.clone(),
            cache.clone(),
            clock.clone(),
            audit.clone(),
        ),
        get_ad: GetAd::new(db.clone()),
        list_ads: ListAds::new(db.clone()),
        update_ad: UpdateAd::new(db.clone(), cache.clone(), clock.clone(), audit.clone()),
        delete_ad: DeleteAd::new(db.clone(), cache.clone(), audit),
        top_ads: TopAds::new(db.clone(), cache.clone(), clock, s.cache_ttl_top_ads),
    };
    let ingestion_api = IngestionApi {
        ad_account_kpis: GetAdAccountKpis::new(db.clone(), db.clone()),
        request_sync: RequestSync::new(ingestion.clone()),
        list_sync_runs: ListSyncRuns::new(db.clone()),
        get_sync_run: GetSyncRun::new(db.clone()),
        import_csv: ImportCsv::new(ingestion.clone()),
    };
    let (alerts_api, deliver_alerts) = alerts(db, &ingestion.secrets, s)?;
    let state = AppState {
        identity,
        ads,
        ingestion: ingestion_api,
        rules,
        suggestions,
        audit: audit_api,
        alerts: alerts_api,
        reports,
        assistant,
        analysis,
        health: Arc::new(HealthMonitor::new(a.probes.clone())),
        rate_limiter: a.rate_limiter.clone(),
        rate_limit: s.rate_limit,
        registry: a.registry.clone(),
        version: env!("CARGO_PKG_VERSION"),
    };
    Ok(Built {
        state,
        ingestion,
        evaluate_rules,
        apply_suggestions,
        anomaly_alerts,
        deliver_alerts,
        alerts_worker: AlertsWorkerConfig {
            poll_interval: s.alerts.poll_interval,
            batch: s.alerts.batch,
        },
        run_reports,
        build_report,
        weekly_insights,
    })
}

/// Channel and alert use cases, and the outbox delivery over Slack,
/// webhooks and (when `SMTP_HOST` is set) e-mail.
///
/// # Errors
/// The HTTP client or the SMTP settings cannot be used.
fn alerts(
    db: &Arc<Db>,
    secrets: &Arc<dyn SecretBox>,
    s: &Settings,
) -> anyhow::Result<(AlertsApi, Arc<DeliverAlerts>)> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let audit = Auditor::new(db.clone(), clock.clone());
    let email = s
        .smtp
        .as_ref()
        .map(|smtp| EmailNotifier::from_settings(smtp, infrastructure::notify::DEFAULT_TIMEOUT))
        .transpose()
        .context("SMTP settings")?;
    let http = infrastructure::notify::http_client().context("the alert HTTP client")?;
    let notifier = Arc::new(ChannelNotifier::new(http, email));
    let a = &s.alerts;
    let policy = RetryPolicy {
        max_attempts: a.max_attempts,
        base: time::Duration::try_from(a.backoff_base).context("ALERTS_BACKOFF_BASE_SECS")?,
        max: time::Duration::try_from(a.backoff_max).context("ALERTS_BACKOFF_MAX_SECS")?,
    };
    let deliver = Arc::new(
        DeliverAlerts::new(
            db.clone(),
            notifier,
            secrets.clone(),
            clock.clone(),
            policy,
            time::Duration::try_from(a.lease).context("ALERTS_LEASE_SECS")?,
            a.batch,
        )
        // Scheduled reports travel as e-mail attachments.
        .with_attachments(db.clone()),
    );
    let api = AlertsApi {
        list_channels: ListChannels::new(db.clone()),
        create_channel: CreateChannel::new(
            db.clone(),
            secrets.clone(),
            clock.clone(),
            audit.clone(),
        ),
        get_channel: GetChannel::new(db.clone()),
        update_channel: UpdateChannel::new(
            db.clone(),
            secrets.clone(),
            clock.clone(),
            audit.clone(),
        ),
        delete_channel: DeleteChannel::new(db.clone(), clock.clone(), audit.clone()),
        test_channel: TestChannel::new(db.clone(), db.clone(), clock, audit),
        list_alerts: ListAlerts::new(db.clone()),
        get_alert: GetAlert::new(db.clone()),
    };
    Ok((api, deliver))
}

/// The assistant over gold, the suggestions, the conversations and the
/// generated insights (requested as insight jobs), and the weekly insights
/// round that also runs those jobs. With
/// `LLM_BASE_URL` an OpenAI-compatible model answers (figures verified);
/// without it the built-in answerer does.
///
/// # Errors
/// The model client cannot be configured (e.g. a malformed base URL).
fn assistant(
    db: &Arc<Db>,
    gold: GoldReader,
    s: &Settings,
) -> anyhow::Result<(AssistantApi, Arc<WeeklyInsights>)> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let llm: Option<Arc<dyn LlmClient>> = match &s.llm {
        Some(config) => {
            let client = OpenAiCompatibleClient::new(config.clone())
                .map_err(|e| anyhow::anyhow!("LLM_BASE_URL / LLM_MODEL: {e}"))?;
            tracing::info!(model = %config.model, "the assistant answers with a language model");
            Some(Arc::new(client))
        }
        None => None,
    };
    let generate = Arc::new(GenerateInsights::new(
        db.clone(),
        gold.clone(),
        llm.clone(),
        clock.clone(),
    ));
    let jobs = Arc::new(RunInsightJobs::new(db.clone(), generate.clone()));
    let weekly = WeeklyInsights::new(generate.clone(), jobs);
    let weekly = Arc::new(if s.weekly_insights {
        weekly
    } else {
        weekly.jobs_only()
    });
    let api = AssistantApi {
        request_insights: RequestInsights::new(db.clone(), generate),
        get_insight_job: GetInsightJob::new(db.clone()),
        list_insights: ListInsights::new(db.clone()),
        get_insight: GetInsight::new(db.clone()),
        usage: GetTokenUsage::new(db.clone(), clock.clone()),
        chat: Chat::new(db.clone(), gold, db.clone(), llm, clock),
        list_conversations: ListConversations::new(db.clone()),
        list_messages: ListMessages::new(db.clone()),
        delete_conversation: DeleteConversation::new(db.clone()),
        flag_message: FlagMessage::new(db.clone()),
    };
    Ok((api, weekly))
}
