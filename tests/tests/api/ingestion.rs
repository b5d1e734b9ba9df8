//! Ingestion end to end: write-only tokens, sync requests and runs, CSV
//! imports, and a sync job against a local Graph API (wiremock) speaking its
//! wire format, on both backends.

use actix_web::http::Method;
use actix_web::test;
use adscale_tests::{Backend, Cred, TestApp, call, on_both_backends, register, settings};
use application::ingestion::sync::{AfterSync, JobOutcome, RunSync};
use domain::ingestion::{AdAccountConnections, SyncJob};
use domain::{AdAccountId, SyncRunId, TenantId};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const TOKEN: &str = "EAAB-FAKE-test-token-0123456789";

on_both_backends!(
    access_token_is_write_only_and_stored_sealed,
    sync_request_answers_202_and_one_run_per_account,
    sync_needs_a_token_and_a_valid_range,
    foreign_sync_runs_and_accounts_are_404,
    csv_import_writes_silver_and_gold_and_a_reimport_changes_nothing,
    csv_import_refuses_bad_files_with_reasons_and_writes_nothing,
);

fn fixture(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/../crates/application/tests/fixtures/csv/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

pub(crate) async fn new_account<S, B>(app: &S, cred: &Cred, token: Option<&str>) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    named_account(app, cred, "Main", "BRL", token).await
}

/// A Meta ad account named `name` reporting in `currency` (São Paulo time).
pub(crate) async fn named_account<S, B>(
    app: &S,
    cred: &Cred,
    name: &str,
    currency: &str,
    token: Option<&str>,
) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut body = json!({"name": name, "platform": "meta", "external_id": format!("act_{}", rand_digits()), "currency": currency, "timezone": "America/Sao_Paulo"});
    if let Some(t) = token {
        body["access_token"] = json!(t);
    }
    let r = call(app, Method::POST, "/api/v1/ad-accounts", cred, Some(body)).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.data()["id"].as_str().unwrap().to_owned()
}

/// `GET /sync-runs/{id}`.
async fn sync_run<S, B>(app: &S, cred: &Cred, id: impl std::fmt::Display) -> adscale_tests::Reply
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    call(
        app,
        Method::GET,
        &format!("/api/v1/sync-runs/{id}"),
        cred,
        None,
    )
    .await
}

fn rand_digits() -> u64 {
    u64::from(uuid::Uuid::new_v4().as_fields().0)
}

pub(crate) async fn import<S, B>(
    app: &S,
    cred: &Cred,
    account: &str,
    file: &[u8],
) -> adscale_tests::Reply
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let boundary = "XBOUNDARYX";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"ad_account_id\"\r\n\r\n{account}\r\n").as_bytes());
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"export.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = test::TestRequest::post()
        .uri("/api/v1/imports")
        .peer_addr("10.1.2.3:4567".parse().unwrap())
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body);
    if let Cred::Bearer(t) = cred {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    adscale_tests::reply(test::call_service(app, req.to_request()).await).await
}

async fn access_token_is_write_only_and_stored_sealed(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let id = new_account(&app, &owner.cred(), Some(TOKEN)).await;
    let r = call(
        &app,
        Method::GET,
        &format!("/api/v1/ad-accounts/{id}"),
        &owner.cred(),
        None,
    )
    .await;
    assert!(
        !r.body.to_string().contains(TOKEN),
        "the token is never answered"
    );
    assert!(r.data().get("access_token").is_none());
    let tenant: TenantId = owner.org_id.parse().unwrap();
    let sealed = t
        .adapters
        .db
        .sealed_token(tenant, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !sealed.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
        "stored encrypted, not in clear"
    );
    // The audit log says a token was set, never which.
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/ad-accounts/{id}"),
        &owner.cred(),
        Some(json!({"access_token": "EAAB-FAKE-another"})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/ad-accounts/{id}"),
        &owner.cred(),
        Some(json!({"access_token": "has spaces"})),
    )
    .await;
    r.assert_error(422, "VALIDATION_FAILED");
    assert!(r.body["details"]["fields"]["access_token"].is_string());
}

async fn sync_request_answers_202_and_one_run_per_account(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let id = new_account(&app, &owner.cred(), Some(TOKEN)).await;
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{id}/sync"),
        &owner.cred(),
        Some(json!({"from": "2026-10-01", "to": "2026-10-07"})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let run_id = r.data()["sync_run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/sync-runs/{run_id}").as_str())
    );
    let run = &r.data()["sync_run"];
    assert_eq!(
        (run["kind"].as_str(), run["status"].as_str()),
        (Some("manual"), Some("queued"))
    );
    assert_eq!(
        (run["from"].as_str(), run["to"].as_str()),
        (Some("2026-10-01"), Some("2026-10-07"))
    );
    // A second request while the first is queued answers the same run.
    let again = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{id}/sync"),
        &owner.cred(),
        None,
    )
    .await;
    assert_eq!(again.status.as_u16(), 202);
    assert_eq!(again.data()["sync_run_id"].as_str(), Some(run_id.as_str()));
    let list = call(
        &app,
        Method::GET,
        &format!("/api/v1/sync-runs?ad_account_id={id}"),
        &owner.cred(),
        None,
    )
    .await;
    assert_eq!(list.data().as_array().unwrap().len(), 1);
    let one = call(
        &app,
        Method::GET,
        &format!("/api/v1/sync-runs/{run_id}"),
        &owner.cred(),
        None,
    )
    .await;
    assert_eq!(
        one.data()["counts"],
        json!({"campaigns": 0, "ad_sets": 0, "ads": 0, "insights": 0})
    );
}

async fn sync_needs_a_token_and_a_valid_range(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let id = new_account(&app, &owner.cred(), None).await;
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{id}/sync"),
        &owner.cred(),
        None,
    )
    .await;
    r.assert_error(422, "VALIDATION_FAILED");
    assert!(r.body["details"]["fields"]["access_token"].is_string());
    let id = new_account(&app, &owner.cred(), Some(TOKEN)).await;
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{id}/sync"),
        &owner.cred(),
        Some(json!({"from": "2026-10-07", "to": "2026-10-01"})),
    )
    .await;
    r.assert_error(422, "VALIDATION_FAILED");
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{id}/sync"),
        &owner.cred(),
        Some(json!({"from": "2099-01-01", "to": "2099-01-02"})),
    )
    .await;
    r.assert_error(422, "VALIDATION_FAILED");
    assert!(r.body["details"]["fields"]["to"].is_string());
    let r = call(&app, Method::GET, "/api/v1/sync-runs", &owner.cred(), None).await;
    assert_eq!(
        r.data().as_array().unwrap().len(),
        0,
        "refused requests queue nothing"
    );
}

async fn foreign_sync_runs_and_accounts_are_404(t: TestApp) {
    let app = t.service().await;
    let a = register(&app, "A").await;
    let b = register(&app, "B").await;
    let id = new_account(&app, &a.cred(), Some(TOKEN)).await;
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{id}/sync"),
        &a.cred(),
        None,
    )
    .await;
    let run_id = r.data()["sync_run_id"].as_str().unwrap().to_owned();
    call(
        &app,
        Method::GET,
        &format!("/api/v1/sync-runs/{run_id}"),
        &b.cred(),
        None,
    )
    .await
    .assert_error(404, "SYNC_RUN_NOT_FOUND");
    call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{id}/sync"),
        &b.cred(),
        None,
    )
    .await
    .assert_error(404, "AD_ACCOUNT_NOT_FOUND");
    let r = import(
        &app,
        &b.cred(),
        &id,
        &fixture("ads_manager_export_daily_en.csv"),
    )
    .await;
    r.assert_error(404, "AD_ACCOUNT_NOT_FOUND");
    let r = call(&app, Method::GET, "/api/v1/sync-runs", &b.cred(), None).await;
    assert_eq!(r.data().as_array().unwrap().len(), 0);
}

async fn csv_import_writes_silver_and_gold_and_a_reimport_changes_nothing(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let id = new_account(&app, &owner.cred(), None).await;
    let r = import(
        &app,
        &owner.cred(),
        &id,
        &fixture("ads_manager_export_ad_daily_en.csv"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let run = &r.data()["sync_run"];
    assert_eq!(r.data()["import_id"], r.data()["sync_run_id"]);
    assert_eq!(
        (run["kind"].as_str(), run["status"].as_str()),
        (Some("import"), Some("succeeded"))
    );
    let rows = run["counts"]["insights"].as_i64().unwrap();
    assert!(rows > 0);
    assert!(run["rows_changed"].as_i64().unwrap() > 0);
    // The pt-BR export of the same rows changes nothing.
    let r = import(
        &app,
        &owner.cred(),
        &id,
        &fixture("ads_manager_export_ad_daily_ptbr.csv"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    assert_eq!(r.data()["sync_run"]["rows_changed"], json!(0), "{}", r.body);
    // The campaign and its KPIs are there, computed from the imported rows.
    let c = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns?ad_account_id={id}"),
        &owner.cred(),
        None,
    )
    .await;
    let campaigns = c.data().as_array().unwrap().clone();
    let sale = campaigns
        .iter()
        .find(|c| c["external_id"] == json!("120210000000000001"))
        .unwrap_or_else(|| panic!("{campaigns:?}"));
    let k = call(
        &app,
        Method::GET,
        &format!(
            "/api/v1/campaigns/{}/kpis?from=2026-10-01&to=2026-10-01",
            sale["id"].as_str().unwrap()
        ),
        &owner.cred(),
        None,
    )
    .await;
    // Two ads that day: 51,234 + 2,100 impressions, 1,234.56 + 45.30 spent,
    // 12 purchases worth 4,321.09 → CPA 1,279.86 / 12 = 106.655 → 106.66.
    let d = k.data();
    assert_eq!(d["impressions"], json!(53334), "{d}");
    assert_eq!(d["spend"], json!("1279.86"), "{d}");
    assert_eq!(d["conversions"], json!(12), "{d}");
    assert_eq!(d["revenue"], json!("4321.09"), "{d}");
    assert_eq!(d["cpa"], json!("106.66"), "{d}");
}

async fn csv_import_refuses_bad_files_with_reasons_and_writes_nothing(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let id = new_account(&app, &owner.cred(), None).await;
    // The 7-day export: every row spans a week.
    let r = import(
        &app,
        &owner.cred(),
        &id,
        &fixture("ads_manager_export_en.csv"),
    )
    .await;
    r.assert_error(422, "IMPORT_REJECTED");
    let rows: Vec<i64> = r.body["details"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, vec![2, 3, 4, 5]);
    let r = import(
        &app,
        &owner.cred(),
        &id,
        b"Campaign name,Reporting starts,Reporting ends\nA,2026-10-01,2026-10-01\n",
    )
    .await;
    r.assert_error(422, "IMPORT_REJECTED");
    let missing = r.body["details"]["missing_columns"].as_array().unwrap();
    assert!(
        missing.contains(&json!("Amount spent")) && missing.contains(&json!("Impressions")),
        "{}",
        r.body
    );
    let r = import(&app, &owner.cred(), &id, b"").await;
    r.assert_error(422, "VALIDATION_FAILED");
    let c = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns?ad_account_id={id}"),
        &owner.cred(),
        None,
    )
    .await;
    assert_eq!(
        c.data().as_array().unwrap().len(),
        0,
        "nothing half-written"
    );
    let runs = call(&app, Method::GET, "/api/v1/sync-runs", &owner.cred(), None).await;
    assert_eq!(runs.data().as_array().unwrap().len(), 0);
}

// ------------------------------------------------------------------ sync jobs against a local Graph API

/// Graph API pages in its wire format: numbers as strings, budgets in cents, paging.
pub(crate) fn graph_page(data: &Value, next: Option<&str>) -> Value {
    let mut paging = json!({"cursors": {"before": "b", "after": "a"}});
    if let Some(n) = next {
        paging["next"] = json!(n);
    }
    json!({"data": data, "paging": paging})
}

fn insight_row(ad: &str, set: &str, campaign: &str, day: &str, spend: &str) -> Value {
    json!({
        "date_start": day, "date_stop": day, "account_id": "777",
        "campaign_id": campaign, "adset_id": set, "ad_id": ad,
        "impressions": "1000", "clicks": "25", "inline_link_clicks": "20", "spend": spend,
        "actions": [{"action_type": "omni_purchase", "value": "2"}, {"action_type": "purchase", "value": "2"}],
        "action_values": [{"action_type": "omni_purchase", "value": "150.00"}, {"action_type": "purchase", "value": "150.00"}]
    })
}

/// A Graph API for account 777: 1 campaign, 1 ad set, 2 ads, 2 days of
/// insights over two pages. `insights_page_2` answers the second page.
async fn graph(server: &MockServer, insights_page_2: ResponseTemplate) {
    let base = server.uri();
    Mock::given(method("GET")).and(path("/v21.0/act_777/campaigns"))
        .respond_with(ResponseTemplate::new(200).set_body_json(graph_page(&json!([
            {"id": "c1", "name": "Sale", "status": "ACTIVE", "effective_status": "ACTIVE", "objective": "OUTCOME_SALES", "daily_budget": "15000"}
        ]), None)))
        .mount(server).await;
    Mock::given(method("GET")).and(path("/v21.0/act_777/adsets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(graph_page(&json!([
            {"id": "s1", "name": "LAL", "status": "ACTIVE", "campaign_id": "c1", "daily_budget": "5000", "optimization_goal": "OFFSITE_CONVERSIONS"}
        ]), None)))
        .mount(server).await;
    Mock::given(method("GET")).and(path("/v21.0/act_777/ads"))
        .respond_with(ResponseTemplate::new(200).set_body_json(graph_page(&json!([
            {"id": "a1", "name": "Carousel", "status": "ACTIVE", "campaign_id": "c1", "adset_id": "s1", "creative": {"id": "cr1"}},
            {"id": "a2", "name": "Video", "status": "PAUSED", "campaign_id": "c1", "adset_id": "s1", "creative": {"id": "cr2"}}
        ]), None)))
        .mount(server).await;
    Mock::given(method("GET"))
        .and(path("/v21.0/act_777/insights"))
        .and(query_param("after", "p2"))
        .respond_with(insights_page_2)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v21.0/act_777/insights"))
        .respond_with(ResponseTemplate::new(200).set_body_json(graph_page(
            &json!([
                insight_row("a1", "s1", "c1", "2026-10-01", "10.00"),
                insight_row("a2", "s1", "c1", "2026-10-01", "5.50"),
            ]),
            Some(&format!(
                "{base}/v21.0/act_777/insights?access_token={TOKEN}&after=p2"
            )),
        )))
        .with_priority(5)
        .mount(server)
        .await;
}

fn insights_page_2() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(graph_page(
        &json!([
            insight_row("a1", "s1", "c1", "2026-10-02", "12.00"),
            insight_row("a2", "s1", "c1", "2026-10-02", "3.25"),
        ]),
        None,
    ))
}

/// An app whose Graph API is `server`, with an account 777 holding a token
/// and a queued manual sync of 2026-10-01..02. Returns (app, tenant cred, account id, job).
async fn synced_app(backend: Backend, server: &MockServer) -> (TestApp, Cred, String, SyncJob) {
    synced_app_for(backend, server, "2026-10-01", "2026-10-02").await
}

/// [`synced_app`] with the sync's range `from..=to`.
pub(crate) async fn synced_app_for(
    backend: Backend,
    server: &MockServer,
    from: &str,
    to: &str,
) -> (TestApp, Cred, String, SyncJob) {
    let mut s = settings(None);
    s.meta.base_url = server.uri();
    let db = std::sync::Arc::new(match backend {
        Backend::Sqlite => infrastructure::db::testing::TestDb::sqlite().await,
        Backend::Postgres => infrastructure::db::testing::TestDb::postgres().await,
    });
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let t = TestApp::over_with(db, backend, &prefix, None, s).await;
    let (owner, id, r) = {
        let app = t.service().await;
        let owner = register(&app, "Acme").await;
        let r = call(&app, Method::POST, "/api/v1/ad-accounts", &owner.cred(), Some(json!({"name": "Main", "platform": "meta", "external_id": "777", "currency": "BRL", "timezone": "America/Sao_Paulo", "access_token": TOKEN}))).await;
        let id = r.data()["id"].as_str().unwrap().to_owned();
        let r = call(
            &app,
            Method::POST,
            &format!("/api/v1/ad-accounts/{id}/sync"),
            &owner.cred(),
            Some(json!({"from": from, "to": to})),
        )
        .await;
        (owner, id, r)
    };
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let job = SyncJob {
        tenant_id: owner.org_id.parse().unwrap(),
        sync_run_id: r.data()["sync_run_id"]
            .as_str()
            .unwrap()
            .parse::<SyncRunId>()
            .unwrap(),
    };
    (t, owner.cred(), id, job)
}

both!(
    a_sync_job_pages_graph_into_silver_and_gold_and_a_rerun_changes_nothing,
    a_sync_killed_midway_converges_when_run_again,
    an_expired_token_marks_the_account_needs_reauth,
    a_successful_sync_runs_the_after_sync_hook_once_for_its_account
);

/// Records which accounts the hook ran for.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(TenantId, AdAccountId)>>);

#[async_trait::async_trait]
impl AfterSync for Recorder {
    async fn synced(&self, t: TenantId, account: AdAccountId) {
        self.0.lock().unwrap().push((t, account));
    }
}

async fn a_successful_sync_runs_the_after_sync_hook_once_for_its_account(backend: Backend) {
    let server = MockServer::start().await;
    graph(&server, insights_page_2()).await;
    let (t, _cred, account, job) = synced_app(backend, &server).await;
    let hook = std::sync::Arc::new(Recorder::default());
    let run = RunSync::new(t.ingestion.clone()).with_after_sync(hook.clone());
    assert_eq!(run.execute(job).await.unwrap(), JobOutcome::Done);
    let calls = hook.0.lock().unwrap().clone();
    let [(tenant, synced)] = calls.as_slice() else {
        panic!("one call expected, got {calls:?}");
    };
    assert_eq!((*tenant, synced.to_string()), (job.tenant_id, account));
    // A duplicate delivery of a finished run does nothing, hook included.
    assert_eq!(run.execute(job).await.unwrap(), JobOutcome::Done);
    assert_eq!(hook.0.lock().unwrap().len(), 1);
}

async fn a_sync_job_pages_graph_into_silver_and_gold_and_a_rerun_changes_nothing(backend: Backend) {
    let server = MockServer::start().await;
    graph(&server, insights_page_2()).await;
    let (t, cred, account, job) = synced_app(backend, &server).await;
    let run = RunSync::new(t.ingestion.clone());
    assert_eq!(run.execute(job).await.unwrap(), JobOutcome::Done);
    let app = t.service().await;
    let r = sync_run(&app, &cred, job.sync_run_id).await;
    let d = r.data();
    assert_eq!(d["status"], json!("succeeded"), "{d}");
    assert_eq!(
        d["counts"],
        json!({"campaigns": 1, "ad_sets": 1, "ads": 2, "insights": 4})
    );
    // 1 + 1 + 2 entities, 4 insight rows
    assert_eq!(d["rows_changed"], json!(8));
    assert_eq!(d["api_calls"], json!(5));
    assert!(d["error"].is_null());
    let every_request_used_the_header = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .all(|r| !r.url.as_str().contains(TOKEN) && r.headers.get("authorization").is_some());
    assert!(
        every_request_used_the_header,
        "the token travels in a header, never in a URL"
    );
    // KPIs from the fetched rows: purchases counted once (omni_purchase, not + purchase).
    let c = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns?ad_account_id={account}"),
        &cred,
        None,
    )
    .await;
    let campaign = c.data()[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(c.data()[0]["daily_budget"], json!("150.00"));
    let k = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{campaign}/kpis?from=2026-10-01&to=2026-10-02"),
        &cred,
        None,
    )
    .await;
    let k = k.data();
    assert_eq!(k["impressions"], json!(4000));
    assert_eq!(k["spend"], json!("30.75"));
    assert_eq!(k["conversions"], json!(8));
    assert_eq!(k["revenue"], json!("600.00"));
    // The account's KPIs come from gold: totals of the range, a point per day or ISO week.
    let g = call(
        &app,
        Method::GET,
        &format!("/api/v1/ad-accounts/{account}/kpis?from=2026-10-01&to=2026-10-02"),
        &cred,
        None,
    )
    .await;
    let g = g.data();
    assert_eq!(
        (
            g["totals"]["spend"].as_str(),
            g["totals"]["impressions"].as_i64()
        ),
        (Some("30.75"), Some(4000)),
        "{g}"
    );
    assert_eq!(g["totals"]["cpa"], json!("3.84"), "30.75 / 8 = 3.84375");
    let days: Vec<_> = g["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["date"].as_str().unwrap().to_owned(),
                p["spend"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        days,
        vec![
            ("2026-10-01".to_owned(), "15.50".to_owned()),
            ("2026-10-02".to_owned(), "15.25".to_owned())
        ]
    );
    let w = call(
        &app,
        Method::GET,
        &format!(
            "/api/v1/ad-accounts/{account}/kpis?from=2026-10-01&to=2026-10-02&granularity=week"
        ),
        &cred,
        None,
    )
    .await;
    assert_eq!(
        w.data()["series"][0]["date"],
        json!("2026-09-28"),
        "{}",
        w.body
    );
    assert_eq!(w.data()["series"][0]["spend"], json!("30.75"));
    call(
        &app,
        Method::GET,
        &format!(
            "/api/v1/ad-accounts/{account}/kpis?from=2026-10-01&to=2026-10-02&granularity=month"
        ),
        &cred,
        None,
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    // Run the same sync again: nothing changes.
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{account}/sync"),
        &cred,
        Some(json!({"from": "2026-10-01", "to": "2026-10-02"})),
    )
    .await;
    let again = SyncJob {
        sync_run_id: r.data()["sync_run_id"].as_str().unwrap().parse().unwrap(),
        ..job
    };
    assert_eq!(run.execute(again).await.unwrap(), JobOutcome::Done);
    let r = sync_run(&app, &cred, again.sync_run_id).await;
    assert_eq!(r.data()["rows_changed"], json!(0), "{}", r.body);
    // A duplicate delivery of a finished job does nothing.
    assert_eq!(run.execute(job).await.unwrap(), JobOutcome::Done);
}

async fn a_sync_killed_midway_converges_when_run_again(backend: Backend) {
    let server = MockServer::start().await;
    // The second insights page keeps failing: the attempt stops after page 1.
    graph(&server, ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1, "is_transient": true}}))).await;
    let (t, cred, _, job) = synced_app(backend, &server).await;
    let run = RunSync::new(t.ingestion.clone());
    let first = run.execute(job).await.unwrap();
    assert!(matches!(first, JobOutcome::Retry(_)), "{first:?}");
    let app = t.service().await;
    let r = sync_run(&app, &cred, job.sync_run_id).await;
    assert_eq!(r.data()["status"], json!("queued"), "{}", r.body);
    assert!(r.data()["error"].as_str().unwrap().contains("attempt 1"));
    // The platform recovers; the queue delivers the job again.
    server.reset().await;
    graph(&server, insights_page_2()).await;
    assert_eq!(run.execute(job).await.unwrap(), JobOutcome::Done);
    let r = sync_run(&app, &cred, job.sync_run_id).await;
    let d = r.data();
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64()),
        (Some("succeeded"), Some(2)),
        "{d}"
    );
    assert_eq!(d["counts"]["insights"], json!(4));
    // Same rows as a clean sync: 4 ad rows, 2 campaign days, no duplicates.
    let tenant: TenantId = job.tenant_id;
    let runs = t.adapters.db.clone();
    let account =
        domain::ingestion::SyncRunRepository::find(runs.as_ref(), tenant, job.sync_run_id)
            .await
            .unwrap()
            .unwrap()
            .ad_account_id;
    let days = domain::ingestion::IngestionStore::campaign_days(
        t.adapters.db.as_ref(),
        tenant,
        account,
        domain::ads::DateRange::new(
            time::macros::date!(2026 - 10 - 01),
            time::macros::date!(2026 - 10 - 02),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(days.len(), 2);
    let spend: rust_decimal::Decimal = days.iter().map(|d| d.totals.spend).sum();
    assert_eq!(spend, rust_decimal::Decimal::new(3075, 2));
}

async fn an_expired_token_marks_the_account_needs_reauth(backend: Backend) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "Error validating access token: Session has expired.", "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AbCdEf"}})))
        .mount(&server)
        .await;
    let (t, cred, account, job) = synced_app(backend, &server).await;
    let run = RunSync::new(t.ingestion.clone());
    assert_eq!(run.execute(job).await.unwrap(), JobOutcome::Done);
    let app = t.service().await;
    let r = sync_run(&app, &cred, job.sync_run_id).await;
    assert_eq!(r.data()["status"], json!("failed"));
    assert!(!r.body.to_string().contains(TOKEN));
    let a = call(
        &app,
        Method::GET,
        &format!("/api/v1/ad-accounts/{account}"),
        &cred,
        None,
    )
    .await;
    assert_eq!(a.data()["status"], json!("NEEDS_REAUTH"));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no retries on a dead token"
    );
    // The schedule skips it, and a manual sync says why.
    let tenant: TenantId = job.tenant_id;
    assert!(
        t.adapters
            .db
            .schedulable()
            .await
            .unwrap()
            .iter()
            .all(|(x, _)| *x != tenant)
    );
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{account}/sync"),
        &cred,
        None,
    )
    .await;
    r.assert_error(409, "NEEDS_REAUTH");
    // A new token reactivates it.
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/ad-accounts/{account}"),
        &cred,
        Some(json!({"access_token": "EAAB-FAKE-renewed"})),
    )
    .await;
    assert_eq!(r.data()["status"], json!("ACTIVE"));
}
