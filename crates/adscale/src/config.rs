//! Configuration, only from the environment (and an optional `.env`). Every
//! variable is documented in README.md with its default; this is the one
//! place that reads them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use infrastructure::notify::{SmtpSettings, SmtpTls};

/// Where data lives: chosen explicitly by `DATABASE_URL`, never by fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// The embedded default: a SQLite file, in-memory cache and rate limits.
    Sqlite { path: PathBuf },
    /// Production: PostgreSQL (and Redis when `REDIS_URL` is set).
    Postgres { url: String, pool_size: usize },
}

#[derive(Clone)]
pub struct Config {
    pub bind_addr: SocketAddr,
    pub workers: usize,
    pub storage: Storage,
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    /// `None` in embedded mode means: generate one and keep it beside the database.
    pub jwt_secret: Option<String>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    pub cache_ttl_campaigns: Duration,
    pub cache_ttl_top_ads: Duration,
    pub rate_limit_enabled: bool,
    pub rate_limit_per_minute: u32,
    pub run_migrations: bool,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub log_format: LogFormat,
    pub otlp_endpoint: Option<String>,
    pub otel_service_name: String,
    /// AES-256 key for platform tokens at rest (base64/hex); `None` in
    /// embedded mode means: generate one and keep it beside the database.
    pub encryption_key: Option<String>,
    /// Graph API base URL and version (tests and proxies point these elsewhere).
    pub meta_graph_url: String,
    pub meta_api_version: String,
    /// Whether `serve` also runs the job worker (default: only without Redis).
    pub run_worker: bool,
    pub worker_concurrency: usize,
    pub sync_cron: String,
    pub lookback_cron: String,
    pub lookback_days: i64,
    pub raw_retention_days: i64,
    /// SMTP for e-mail alerts (`SMTP_HOST` …); `None`: e-mail channels fail
    /// their deliveries with "e-mail is not configured".
    pub smtp: Option<SmtpSettings>,
    /// The alert delivery loop (`ALERTS_*`).
    pub alerts: AlertsConfig,
    /// Days a rendered report's file is kept (`REPORT_RETENTION_DAYS`, 30).
    pub report_retention_days: i64,
    /// Where people reach this API (`PUBLIC_BASE_URL`), for links in alerts.
    pub public_base_url: String,
    /// The assistant's language model (`LLM_*`); `None` without
    /// `LLM_BASE_URL`: the built-in answerer replies.
    pub llm: Option<infrastructure::llm::openai::OpenAiConfig>,
    /// Whether the worker writes each ad account's weekly insight on Monday
    /// morning (`WEEKLY_INSIGHTS`, `on` or `off`; default on). Off, the
    /// insights round still runs the insight jobs requested on demand.
    pub weekly_insights: bool,
}

/// Alert delivery: how often the outbox is polled, how many deliveries a
/// round claims, how long a claim is held, and the retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertsConfig {
    pub poll_interval: Duration,
    pub batch: u32,
    pub lease: Duration,
    pub max_attempts: i32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            batch: 20,
            lease: Duration::from_secs(300),
            max_attempts: 8,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
        }
    }
}

/// `SMTP_*`: `None` without `SMTP_HOST`.
fn smtp_from_env() -> Result<Option<SmtpSettings>, ConfigError> {
    let Some(host) = var("SMTP_HOST") else {
        return Ok(None);
    };
    let tls = match var("SMTP_TLS")
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some("none") => SmtpTls::None,
        Some(v) => {
            return Err(ConfigError::Invalid {
                name: "SMTP_TLS",
                reason: format!("{v:?} is not starttls, tls or none"),
            });
        }
    };
    let from = var("SMTP_FROM").ok_or_else(|| ConfigError::Invalid {
        name: "SMTP_FROM",
        reason: "is required with SMTP_HOST (e.g. `AdScale <alerts@example.com>`)".into(),
    })?;
    Ok(Some(SmtpSettings {
        host,
        port: parse("SMTP_PORT", tls.default_port())?,
        username: var("SMTP_USERNAME"),
        password: var("SMTP_PASSWORD"),
        from,
        tls,
    }))
}

/// `LLM_*`: an OpenAI-compatible chat-completions API; `None` without
/// `LLM_BASE_URL`. The key is never logged (its `Debug` is redacted).
fn llm_from_env() -> Result<Option<infrastructure::llm::openai::OpenAiConfig>, ConfigError> {
    use infrastructure::llm::openai::{LlmApiKey, OpenAiConfig};
    let Some(base_url) = var("LLM_BASE_URL") else {
        return Ok(None);
    };
    let d = OpenAiConfig::default();
    Ok(Some(OpenAiConfig {
        base_url,
        api_key: var("LLM_API_KEY").map(LlmApiKey::new),
        model: var("LLM_MODEL").unwrap_or(d.model.clone()),
        timeout: Duration::from_secs(parse("LLM_TIMEOUT_SECS", d.timeout.as_secs())?.max(1)),
        ..d
    }))
}

fn alerts_from_env() -> Result<AlertsConfig, ConfigError> {
    let d = AlertsConfig::default();
    let secs = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(parse(name, default.as_secs())?.max(1)))
    };
    Ok(AlertsConfig {
        poll_interval: Duration::from_millis(parse("ALERTS_POLL_INTERVAL_MS", 5_000_u64)?.max(100)),
        batch: parse("ALERTS_BATCH", d.batch)?.clamp(1, 500),
        lease: secs("ALERTS_LEASE_SECS", d.lease)?,
        max_attempts: parse("ALERTS_MAX_ATTEMPTS", d.max_attempts)?.clamp(1, 50),
        backoff_base: secs("ALERTS_BACKOFF_BASE_SECS", d.backoff_base)?,
        backoff_max: secs("ALERTS_BACKOFF_MAX_SECS", d.backoff_max)?,
    })
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let storage = match &self.storage {
            Storage::Sqlite { path } => format!("sqlite:{}", path.display()),
            Storage::Postgres { pool_size, .. } => format!("postgres (pool {pool_size})"),
        };
        f.debug_struct("Config")
            .field("bind_addr", &self.bind_addr)
            .field("workers", &self.workers)
            .field("storage", &storage)
            .field("redis", &self.redis_url.as_ref().map(|_| "configured"))
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("llm", &self.llm.as_ref().map(|l| (&l.base_url, &l.model)))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: format!("{v:?}: {e}"),
        }),
    }
}

fn flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(ConfigError::Invalid {
            name,
            reason: format!("{v:?} is not true/false"),
        }),
    }
}

impl Config {
    /// Reads the process environment (after `.env`, if present).
    ///
    /// # Errors
    /// A variable that is set but cannot be parsed, or a production setup
    /// without `JWT_SECRET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let storage = match var("DATABASE_URL") {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Storage::Postgres {
                    url,
                    pool_size: parse("DB_POOL_SIZE", 20)?,
                }
            }
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "DATABASE_URL",
                    reason: "must be a postgres:// URL (unset it for the embedded SQLite default)"
                        .into(),
                });
            }
            None => Storage::Sqlite {
                path: PathBuf::from(
                    var("SQLITE_PATH").unwrap_or_else(|| "./data/adscale.db".into()),
                ),
            },
        };
        let jwt_secret = var("JWT_SECRET");
        if let Some(s) = &jwt_secret
            && s.len() < 32
        {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                reason: "must be at least 32 characters".into(),
            });
        }
        if jwt_secret.is_none() && matches!(storage, Storage::Postgres { .. }) {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                reason: "is required with DATABASE_URL (every instance must share it)".into(),
            });
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    reason: format!("{v:?} is not text or json"),
                });
            }
        };
        let encryption_key = var("APP_ENCRYPTION_KEY");
        if encryption_key.is_none() && matches!(storage, Storage::Postgres { .. }) {
            return Err(ConfigError::Invalid {
                name: "APP_ENCRYPTION_KEY",
                reason:
                    "is required with DATABASE_URL (32 bytes, base64: `openssl rand -base64 32`)"
                        .into(),
            });
        }
        let redis_url = var("REDIS_URL");
        Ok(Self {
            encryption_key,
            meta_graph_url: var("META_GRAPH_URL")
                .unwrap_or_else(|| "https://graph.facebook.com".into()),
            meta_api_version: var("META_API_VERSION").unwrap_or_else(|| "v21.0".into()),
            run_worker: flag("RUN_WORKER", redis_url.is_none())?,
            worker_concurrency: parse("WORKER_CONCURRENCY", 2)?.max(1),
            sync_cron: var("SYNC_CRON").unwrap_or_else(|| "0 */30 * * * *".into()),
            lookback_cron: var("LOOKBACK_CRON").unwrap_or_else(|| "0 0 3 * * *".into()),
            lookback_days: parse("SYNC_LOOKBACK_DAYS", 28)?.clamp(1, 365),
            raw_retention_days: parse("RAW_RETENTION_DAYS", 90)?.max(1),
            smtp: smtp_from_env()?,
            alerts: alerts_from_env()?,
            report_retention_days: parse("REPORT_RETENTION_DAYS", 30)?.clamp(1, 3650),
            llm: llm_from_env()?,
            weekly_insights: flag("WEEKLY_INSIGHTS", true)?,
            public_base_url: var("PUBLIC_BASE_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
            bind_addr: parse("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            workers: parse("WORKERS", cores)?.max(1),
            storage,
            redis_url,
            redis_key_prefix: var("REDIS_KEY_PREFIX").unwrap_or_else(|| "adscale:".into()),
            jwt_secret,
            access_token_ttl_secs: parse("ACCESS_TOKEN_TTL_SECS", 900)?,
            refresh_token_ttl_days: parse("REFRESH_TOKEN_TTL_DAYS", 30)?,
            cache_ttl_campaigns: Duration::from_secs(parse("CACHE_TTL_CAMPAIGNS", 300)?),
            cache_ttl_top_ads: Duration::from_secs(parse("CACHE_TTL_TOP_ADS", 300)?),
            rate_limit_enabled: flag("RATE_LIMIT_ENABLED", true)?,
            rate_limit_per_minute: parse("RATE_LIMIT_PER_MINUTE", 200)?,
            run_migrations: flag("RUN_MIGRATIONS", true)?,
            argon2_memory_kib: parse("ARGON2_MEMORY_KIB", 19_456)?,
            argon2_iterations: parse("ARGON2_ITERATIONS", 2)?,
            log_format,
            otlp_endpoint: var("OTEL_EXPORTER_OTLP_ENDPOINT"),
            otel_service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| "adscale".into()),
        })
    }
}
