use actix_web::http::Method;
use actix_web::{test, web};
use adscale::wiring::{Adapters, build_state};
use adscale_tests::{Backend, Cred, TestApp, call, on_both_backends, register, settings};
use domain::identity::{AccessTokens, Role};
use domain::{TenantId, UserId};
use infrastructure::crypto::JwtTokens;
use infrastructure::db::DbPool;
use serde_json::json;

on_both_backends!(
    health_metrics_docs_and_spec_are_served,
    unknown_routes_get_the_error_envelope
);

async fn health_metrics_docs_and_spec_are_served(t: TestApp) {
    let app = t.service().await;
    let h = call(&app, Method::GET, "/health", &Cred::None, None).await;
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(h.body["status"], json!("ok"));
    assert_eq!(h.body["checks"]["database"]["status"], json!("up"));
    assert!(h.body["checks"]["database"]["latency_ms"].is_number());
    if t.backend == Backend::Postgres {
        assert_eq!(h.body["checks"]["cache"]["status"], json!("up"));
    }

    register(&app, "Metrics").await;
    let m = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(m.status(), 200);
    let text = String::from_utf8(test::read_body(m).await.to_vec()).unwrap();
    assert!(text.contains("adscale_http_requests_total"), "{text}");
    assert!(text.contains("adscale_http_request_duration_seconds"));
    assert!(text.contains("adscale_db_pool_connections"));

    let spec = call(
        &app,
        Method::GET,
        "/api-docs/openapi.json",
        &Cred::None,
        None,
    )
    .await;
    assert_eq!(spec.status, 200);
    assert!(
        spec.body["paths"]["/api/v1/campaigns/{id}/kpis"].is_object(),
        "kpis route documented"
    );
    assert!(spec.body["components"]["securitySchemes"]["api_key"].is_object());
    assert!(spec.body["components"]["securitySchemes"]["bearer_auth"].is_object());

    let docs = test::call_service(&app, test::TestRequest::get().uri("/docs/").to_request()).await;
    assert_eq!(docs.status(), 200);
    let html = String::from_utf8(test::read_body(docs).await.to_vec()).unwrap();
    assert!(
        html.contains("swagger"),
        "Swagger UI served from vendored assets"
    );
}

async fn unknown_routes_get_the_error_envelope(t: TestApp) {
    let app = t.service().await;
    call(&app, Method::GET, "/api/v1/nope", &Cred::None, None)
        .await
        .assert_error(404, "NOT_FOUND");
}

/// Requests counted by two instances sharing one Redis hit one limit.
#[actix_web::test]
async fn rate_limit_is_shared_by_two_instances_on_one_redis() {
    let first = TestApp::with(Backend::Postgres, Some(4)).await;
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let a = TestApp::over(first.db.clone(), Backend::Postgres, Some(4), &prefix, None).await;
    let b = TestApp::over(first.db.clone(), Backend::Postgres, Some(4), &prefix, None).await;
    let (app_a, app_b) = (a.service().await, b.service().await);
    let owner = register(&app_a, "Limited").await; // 1 on this IP
    let cred = owner.cred();
    for (i, app) in [(2, &app_b), (3, &app_a), (4, &app_b)] {
        let r = call(app, Method::GET, "/api/v1/ad-accounts", &cred, None).await;
        assert_eq!(r.status, 200, "request {i}: {}", r.body);
        assert_eq!(r.header("ratelimit-limit"), Some("4"));
        assert_eq!(
            r.header("ratelimit-remaining"),
            Some((4 - i).to_string().as_str()),
            "request {i}"
        );
    }
    // Each instance has seen two requests: only a shared count refuses the fifth.
    let r = call(&app_a, Method::GET, "/api/v1/ad-accounts", &cred, None).await;
    r.assert_error(429, "RATE_LIMITED");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // Operational endpoints are never limited.
    assert_eq!(
        call(&app_b, Method::GET, "/health", &Cred::None, None)
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn rate_limit_applies_per_instance_in_embedded_mode() {
    let t = TestApp::with(Backend::Sqlite, Some(3)).await;
    let app = t.service().await;
    let owner = register(&app, "Solo").await;
    assert_eq!(
        call(&app, Method::GET, "/api/v1/me", &owner.cred(), None)
            .await
            .status,
        200
    );
    assert_eq!(
        call(&app, Method::GET, "/api/v1/me", &owner.cred(), None)
            .await
            .status,
        200
    );
    call(&app, Method::GET, "/api/v1/me", &owner.cred(), None)
        .await
        .assert_error(429, "RATE_LIMITED");
}

/// Redis gone: cache reads fall through to the database, limits go per-instance, nothing fails.
#[actix_web::test]
async fn redis_down_degrades_without_failing_requests() {
    let first = TestApp::new(Backend::Postgres).await;
    let t = TestApp::over(
        first.db.clone(),
        Backend::Postgres,
        Some(1000),
        "test:down:",
        Some("redis://127.0.0.1:1"),
    )
    .await;
    let app = t.service().await;
    let owner = register(&app, "NoRedis").await;
    let (acc, _, _, _) = crate::tenancy::seed_hierarchy(&app, &owner.cred()).await;
    for _ in 0..2 {
        let r = call(
            &app,
            Method::GET,
            "/api/v1/campaigns?status=ACTIVE",
            &owner.cred(),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.data().as_array().unwrap().len(), 1);
        assert_eq!(r.header("x-cache"), Some("MISS"));
    }
    let r = call(
        &app,
        Method::POST,
        "/api/v1/campaigns",
        &owner.cred(),
        Some(json!({"ad_account_id": acc, "name": "n", "status": "ACTIVE"})),
    )
    .await;
    assert_eq!(r.status, 201, "writes still work: {}", r.body);
    let h = call(&app, Method::GET, "/health", &Cred::None, None).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.body["status"], json!("degraded"));
    assert_eq!(h.body["checks"]["cache"]["status"], json!("down"));
}

/// A configured PostgreSQL that is down is never replaced by anything: 503s and a red /health.
#[actix_web::test]
async fn postgres_down_answers_503_and_health_says_so() {
    let pool = DbPool::postgres("postgres://postgres:postgres@127.0.0.1:1/adscale", 2).unwrap();
    let adapters = Adapters::assemble(pool, None, "test:pgdown:")
        .await
        .unwrap();
    let s = settings(None);
    let state = web::Data::new(build_state(&adapters, &s).unwrap());
    state.health.refresh().await;
    let app = test::init_service(interface::app(state)).await;
    let tokens = JwtTokens::with_ttl(&s.jwt_secret, 900).unwrap();
    let (token, _) = tokens
        .issue(
            UserId::generate(),
            TenantId::generate(),
            Role::Owner,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    let r = call(
        &app,
        Method::GET,
        "/api/v1/campaigns",
        &Cred::Bearer(token),
        None,
    )
    .await;
    r.assert_error(503, "SERVICE_UNAVAILABLE");
    assert!(r.header("retry-after").is_some());
    assert!(
        !r.body["message"].as_str().unwrap().contains("127.0.0.1"),
        "no internals in messages"
    );
    let h = call(&app, Method::GET, "/health", &Cred::None, None).await;
    assert_eq!(h.status, 503);
    assert_eq!(h.body["status"], json!("down"));
    assert_eq!(h.body["checks"]["database"]["status"], json!("down"));
}

/// Counts the limiter's calls and the keys of each, around the real limiter.
struct Recording {
    inner: std::sync::Arc<dyn domain::platform::RateLimiter>,
    calls: std::sync::Mutex<Vec<Vec<String>>>,
}

#[async_trait::async_trait]
impl domain::platform::RateLimiter for Recording {
    async fn check(
        &self,
        keys: &[String],
        limit: u32,
        window: std::time::Duration,
    ) -> domain::platform::RateDecision {
        self.calls.lock().unwrap().push(keys.to_vec());
        self.inner.check(keys, limit, window).await
    }
}

/// The IP and the principal are counted together: one limiter call (one Redis
/// script) per request, never one per key.
#[actix_web::test]
async fn each_request_asks_the_rate_limiter_once_for_ip_and_principal() {
    let t = TestApp::with(Backend::Postgres, Some(100)).await;
    let mut state = build_state(&t.adapters, &settings(Some(100))).unwrap();
    let recording = std::sync::Arc::new(Recording {
        inner: state.rate_limiter.clone(),
        calls: std::sync::Mutex::new(Vec::new()),
    });
    state.rate_limiter = recording.clone();
    let app = test::init_service(interface::app(web::Data::new(state))).await;
    let calls = || std::mem::take(&mut *recording.calls.lock().unwrap());

    let owner = register(&app, "Counted").await;
    assert_eq!(calls(), vec![vec!["ip:10.1.2.3".to_owned()]]);

    let r = call(&app, Method::GET, "/api/v1/me", &owner.cred(), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("ratelimit-remaining"),
        Some("98"),
        "the IP's second request"
    );
    assert_eq!(
        calls(),
        vec![vec![
            "ip:10.1.2.3".to_owned(),
            format!("principal:user:{}", owner.user_id)
        ]]
    );

    // Bad credentials: counted on the IP only, then 401.
    call(
        &app,
        Method::GET,
        "/api/v1/me",
        &Cred::Bearer("nope".into()),
        None,
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    assert_eq!(calls(), vec![vec!["ip:10.1.2.3".to_owned()]]);

    // Probes are not counted at all.
    call(&app, Method::GET, "/health", &Cred::None, None).await;
    assert!(calls().is_empty());
}
