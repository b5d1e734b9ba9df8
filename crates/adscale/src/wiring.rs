//! Builds adapters from configuration and hands them to use cases. The one
//! place that knows every concrete type; tests build their app through the
//! same [`build_state`] so they run what production runs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use application::ads::{
    CreateAd, CreateAdAccount, CreateAdSet, CreateCampaign, DeleteAd, DeleteAdAccount, DeleteAdSet,
    DeleteCampaign, GetAd, GetAdAccount, GetAdSet, GetCampaign, GetCampaignKpis, ListAdAccounts,
    ListAdSets, ListAds, ListCampaigns, TopAds, UpdateAd, UpdateAdAccount, UpdateAdSet,
    UpdateCampaign,
};
use application::audit::Auditor;
use application::identity::{
    AddMember, AuthenticateAccessToken, AuthenticateApiKey, ChangeMemberRole, CreateApiKey, GetMe,
    ListApiKeys, ListMembers, Login, Logout, RefreshSession, Register, RemoveMember, RevokeApiKey,
    SessionIssuer,
};
use application::platform::HealthMonitor;
use domain::identity::{AccessTokens, ApiKeyRepository, PasswordHasher, Secrets};
use domain::platform::{Cache, Clock, Probe, RateLimiter};
use infrastructure::api_key_cache::CachedApiKeys;
use infrastructure::cache::{CacheMetrics, MemoryCache, RedisCache, TieredCache};
use infrastructure::clock::SystemClock;
use infrastructure::crypto::{Argon2Hasher, JwtTokens, RandomSecrets};
use infrastructure::db::{Db, DbPool};
use infrastructure::rate_limit::{MemoryRateLimiter, RedisRateLimiter};
use infrastructure::redis_pool::{RedisBreaker, RedisProbe, redis_client, redis_pool};
use interface::{AdsApi, AppState, IdentityApi, RateLimitSettings};

use crate::config::{Config, Storage};

/// The concrete adapters behind the ports.
pub struct Adapters {
    pub pool: DbPool,
    pub db: Arc<Db>,
    pub cache: Arc<dyn Cache>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub probes: Vec<Arc<dyn Probe>>,
    pub registry: prometheus::Registry,
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
        Ok(Self {
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
        let redis = match &config.redis_url {
            None => None,
            // Few connections: the cache and the limiter each share one
            // multiplexed connection; the pool serves the probe and reconnects.
            Some(url) => Some((
                redis_pool(url, 8).context("configuring the Redis pool")?,
                redis_client(url).context("configuring the Redis client")?,
            )),
        };
        Self::assemble(pool, redis, &config.redis_key_prefix)
    }

    /// Wraps a database pool and an optional Redis pool into ports.
    ///
    /// # Errors
    /// Metric registration failures.
    pub fn assemble(
        pool: DbPool,
        redis: Option<(deadpool_redis::Pool, deadpool_redis::redis::Client)>,
        redis_prefix: &str,
    ) -> anyhow::Result<Self> {
        let registry = prometheus::Registry::new();
        infrastructure::db::metrics::register_pool_metrics(&pool, &registry)?;
        let cache_metrics = CacheMetrics::new(&registry)?;
        let db = Arc::new(Db::new(pool.clone()));
        let mut probes: Vec<Arc<dyn Probe>> = vec![db.clone()];
        let (cache, rate_limiter): (Arc<dyn Cache>, Arc<dyn RateLimiter>) = match redis {
            None => (
                Arc::new(MemoryCache::new(10_000, &cache_metrics)),
                Arc::new(MemoryRateLimiter::default()),
            ),
            Some((r, client)) => {
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
        })
    }
}

/// Builds every use case over the adapters.
///
/// # Errors
/// Invalid crypto settings (JWT secret, argon2 parameters).
pub fn build_state(a: &Adapters, s: &Settings) -> anyhow::Result<AppState> {
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
    let ads = AdsApi {
        create_ad_account: CreateAdAccount::new(db.clone(), clock.clone(), audit.clone()),
        get_ad_account: GetAdAccount::new(db.clone()),
        list_ad_accounts: ListAdAccounts::new(db.clone()),
        update_ad_account: UpdateAdAccount::new(db.clone(), clock.clone(), audit.clone()),
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
    Ok(AppState {
        identity,
        ads,
        health: Arc::new(HealthMonitor::new(a.probes.clone())),
        rate_limiter: a.rate_limiter.clone(),
        rate_limit: s.rate_limit,
        registry: a.registry.clone(),
        version: env!("CARGO_PKG_VERSION"),
    })
}
