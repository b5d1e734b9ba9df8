//! End-to-end test harness: the HTTP API wired by the binary's own
//! [`adscale::wiring`], over a real, isolated database (a PostgreSQL schema or
//! a SQLite file per test) and, in production mode, a real Redis under a
//! random key prefix. Nothing here is mocked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode, header::HeaderMap};
use actix_web::{test, web};
use adscale::wiring::{Adapters, RedisConn, Settings, build};
use infrastructure::db::testing::TestDb;
use interface::{AppState, RateLimitSettings};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: SQLite file, in-memory cache and limits.
    Sqlite,
    /// Production: PostgreSQL + Redis.
    Postgres,
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Cheap settings: fast password hashing, a fixed JWT secret, caching on.
pub fn settings(rate_limit: Option<u32>) -> Settings {
    Settings {
        jwt_secret: b"test-secret-that-is-long-enough-for-hs256".to_vec(),
        access_token_ttl_secs: 900,
        refresh_token_ttl_days: 30,
        cache_ttl_campaigns: Duration::from_secs(300),
        cache_ttl_top_ads: Duration::from_secs(300),
        rate_limit: RateLimitSettings {
            enabled: rate_limit.is_some(),
            per_minute: rate_limit.unwrap_or(200),
        },
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        encryption_key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        meta: infrastructure::meta::client::MetaConfig {
            // Nothing listens here: tests that sync point `meta.base_url` at a local server.
            base_url: "http://127.0.0.1:9".to_owned(),
            retries: 1,
            backoff_base: Duration::from_millis(5),
            breaker_threshold: 1000,
            ..Default::default()
        },
        sync: application::ingestion::sync::SyncSettings::default(),
        jobs: infrastructure::jobs::JobsConfig::default(),
        reports: application::reports::ReportJobSettings::default(),
        apply: application::rules::ApplySettings {
            retry_base: Duration::from_millis(1),
            retry_max: Duration::from_millis(1),
            ..application::rules::ApplySettings::default()
        },
        alerts: adscale::config::AlertsConfig::default(),
        smtp: None,
        llm: None,
        weekly_insights: true,
    }
}

/// A language model at `base_url` for tests: no retries, a short timeout,
/// a breaker that never opens.
pub fn llm_settings(base_url: &str) -> infrastructure::llm::openai::OpenAiConfig {
    infrastructure::llm::openai::OpenAiConfig {
        base_url: base_url.to_owned(),
        api_key: Some(infrastructure::llm::openai::LlmApiKey::new("sk-test")),
        model: "gpt-4o-mini".to_owned(),
        timeout: Duration::from_secs(5),
        max_retries: 0,
        breaker_threshold: 1000,
        ..Default::default()
    }
}

/// One application instance over a test database.
pub struct TestApp {
    pub backend: Backend,
    pub state: web::Data<AppState>,
    pub adapters: Adapters,
    /// Keeps the schema / file alive for the test's duration.
    pub db: std::sync::Arc<TestDb>,
    /// The ports the job worker runs syncs over (tests drive `RunSync` directly).
    pub ingestion: std::sync::Arc<application::ingestion::sync::IngestionPorts>,
    /// The apply job's step (tests call `run_once` rather than wait for its schedule).
    pub apply: std::sync::Arc<application::rules::ApplySuggestions>,
    /// The report job's step (tests call `run_once` rather than wait for its loop).
    pub reports: std::sync::Arc<application::reports::RunReports>,
    /// The insights round (insight jobs, then the weekly documents); tests
    /// call `run_once` rather than wait for its loop.
    pub insights: std::sync::Arc<application::assistant::WeeklyInsights>,
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        Self::with(backend, None).await
    }

    /// `rate_limit`: requests per minute, or `None` to disable limiting.
    pub async fn with(backend: Backend, rate_limit: Option<u32>) -> Self {
        Self::with_settings(backend, settings(rate_limit)).await
    }

    /// Another instance over the same database (and Redis prefix), as a second server would be.
    pub async fn over(
        db: std::sync::Arc<TestDb>,
        backend: Backend,
        rate_limit: Option<u32>,
        redis_prefix: &str,
        redis_override: Option<&str>,
    ) -> Self {
        Self::over_with(
            db,
            backend,
            redis_prefix,
            redis_override,
            settings(rate_limit),
        )
        .await
    }

    /// A fresh instance whose assistant asks the chat-completions API at
    /// `llm_base_url` (e.g. a wiremock server's `uri()` + `/v1`).
    pub async fn with_llm(backend: Backend, llm_base_url: &str) -> Self {
        let mut s = settings(None);
        s.llm = Some(llm_settings(llm_base_url));
        Self::with_settings(backend, s).await
    }

    /// A fresh instance with custom settings over a new test database.
    pub async fn with_settings(backend: Backend, s: Settings) -> Self {
        let db = match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        };
        let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        Self::over_with(std::sync::Arc::new(db), backend, &prefix, None, s).await
    }

    /// An instance with custom settings (e.g. the Graph API at a local server).
    pub async fn over_with(
        db: std::sync::Arc<TestDb>,
        backend: Backend,
        redis_prefix: &str,
        redis_override: Option<&str>,
        settings: Settings,
    ) -> Self {
        let redis = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let url = redis_override.map_or_else(redis_url, str::to_owned);
                Some(RedisConn::new(&url).unwrap())
            }
        };
        let adapters = Adapters::assemble(db.pool(), redis, redis_prefix)
            .await
            .unwrap();
        let built = build(&adapters, &settings).unwrap();
        let ingestion = built.ingestion.clone();
        let apply = built.apply_suggestions.clone();
        let reports = built.run_reports.clone();
        let insights = built.weekly_insights.clone();
        let state = web::Data::new(built.state);
        state.health.refresh().await;
        Self {
            backend,
            state,
            adapters,
            db,
            ingestion,
            apply,
            reports,
            insights,
        }
    }

    pub async fn service(
        &self,
    ) -> impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    > {
        test::init_service(interface::app(self.state.clone())).await
    }
}

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as received (files: CSV, XLSX, PDF).
    pub raw: bytes::Bytes,
}

impl Reply {
    /// `body.data`, asserting the success envelope.
    pub fn data(&self) -> &Value {
        assert_eq!(
            self.body["success"],
            json!(true),
            "not a success envelope: {} {}",
            self.status,
            self.body
        );
        &self.body["data"]
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the error envelope with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.body["error"],
            json!(true),
            "not an error envelope: {}",
            self.body
        );
        assert_eq!(self.body["code"], json!(code), "body: {}", self.body);
        assert!(
            self.body["message"].is_string(),
            "message missing: {}",
            self.body
        );
    }
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Cred {
    None,
    Bearer(String),
    ApiKey(String),
}

/// `GET path` with `cred`.
pub async fn get<S, B>(app: &S, cred: &Cred, path: &str) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    call(app, Method::GET, path, cred, None).await
}

pub async fn call<S, B>(
    app: &S,
    method: Method,
    path: &str,
    cred: &Cred,
    body: Option<Value>,
) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::default()
        .method(method)
        .uri(path)
        .peer_addr("10.1.2.3:4567".parse().unwrap());
    req = match cred {
        Cred::None => req,
        Cred::Bearer(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
        Cred::ApiKey(k) => req.insert_header(("X-API-Key", k.clone())),
    };
    if let Some(b) = body {
        req = req.set_json(b);
    }
    reply(test::call_service(app, req.to_request()).await).await
}

/// A response read whole: JSON decoded into `body` (text that is not JSON
/// as a string), the bytes as received in `raw`.
pub async fn reply<B: MessageBody>(resp: ServiceResponse<B>) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = test::read_body(resp).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        body,
        raw: bytes,
    }
}

/// A registered organization: its owner's token and ids.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub token: String,
    pub refresh_token: String,
    pub org_id: String,
    pub user_id: String,
    pub email: String,
}

impl Tenant {
    pub fn cred(&self) -> Cred {
        Cred::Bearer(self.token.clone())
    }
}

pub async fn register<S, B>(app: &S, org: &str) -> Tenant
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let email = format!(
        "owner-{}@{}.example.com",
        uuid::Uuid::new_v4().simple(),
        org.to_lowercase().replace(' ', "-")
    );
    let r = call(
        app,
        Method::POST,
        "/api/v1/auth/register",
        &Cred::None,
        Some(json!({"organization_name": org, "name": "Owner", "email": email, "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let d = r.data();
    Tenant {
        token: d["access_token"].as_str().unwrap().to_owned(),
        refresh_token: d["refresh_token"].as_str().unwrap().to_owned(),
        org_id: d["organization"]["id"].as_str().unwrap().to_owned(),
        user_id: d["user"]["id"].as_str().unwrap().to_owned(),
        email,
    }
}

/// Runs one async test body on both backends: `mod name { sqlite, postgres }`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::TestApp::new($crate::Backend::Sqlite).await).await;
                }
                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::TestApp::new($crate::Backend::Postgres).await).await;
                }
            }
        )*
    };
}
