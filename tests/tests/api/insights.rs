//! Generated insights end to end on both backends: generating is a job
//! (`202` with `Location`, `QUEUED`, then `DONE` with the documents' ids
//! once the worker's round ran); without a model the built-in document
//! carries the KPI API's numbers; generating again replaces the week's
//! insight; insights and jobs are the tenant's alone; a refused request
//! stores nothing; a job whose account was deleted fails; with
//! `WEEKLY_INSIGHTS=off` jobs still run. With a model (wiremock), a
//! truthful document is stored in `llm` mode and a lying one is replaced by
//! the built-in document. The weekly round writes last week's document on
//! Monday morning, once, and none for an account that spent nothing.

use std::sync::Arc;

use actix_web::http::Method;
use adscale_tests::{
    Backend, Cred, Reply, TestApp, call, get, on_both_backends, register, settings,
};
use application::analysis::GoldReader;
use application::assistant::{GenerateInsights, RunInsightJobs, WeeklyInsights, WeeklyRound};
use domain::ads::DateRange;
use domain::assistant::insight::GeneratedInsightRepository;
use domain::platform::Clock;
use serde_json::{Value, json};
use time::macros::date;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::assistant::{completion, imported, number};
use crate::ingestion::new_account;

on_both_backends!(
    generating_is_a_job_queued_then_done_with_the_documents_ids,
    built_in_insight_has_the_kpi_apis_figures_and_generating_again_replaces_it,
    insights_and_insight_jobs_are_the_tenants_alone,
    refused_requests_answer_422_and_store_no_job,
    a_job_whose_account_was_deleted_fails,
    the_weekly_round_writes_last_weeks_insight_on_monday_morning_once,
    a_week_is_claimed_by_one_worker_at_a_time_and_never_once_written
);

both!(
    with_weekly_insights_off_requested_insights_are_still_written,
    a_truthful_model_insight_is_stored_in_llm_mode,
    a_model_insight_that_lies_twice_is_replaced_by_the_built_in_one
);

const WEEK: &str = "2026-W40";

async fn generate<S, B>(app: &S, cred: &Cred, query: &str) -> Reply
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
        Method::POST,
        &format!("/api/v1/insights/generate?{query}"),
        cred,
        None,
    )
    .await
}

/// Requests insights: `202` with the job `QUEUED` and its `Location`,
/// where it reads `QUEUED` too until a round runs. Returns the job.
pub(crate) async fn requested<S, B>(app: &S, cred: &Cred, query: &str) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = generate(app, cred, query).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let queued = r.data().clone();
    let location = format!("/api/v1/insight-jobs/{}", queued["id"].as_str().unwrap());
    assert_eq!(r.header("location"), Some(location.as_str()));
    assert_eq!(queued["status"], json!("QUEUED"), "{queued}");
    assert_eq!(queued["insight_ids"], json!([]));
    assert_eq!(job(app, cred, &queued["id"]).await, queued);
    queued
}

/// The job `id` as `cred` reads it.
async fn job<S, B>(app: &S, cred: &Cred, id: &Value) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = get(
        app,
        cred,
        &format!("/api/v1/insight-jobs/{}", id.as_str().unwrap()),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    r.data().clone()
}

/// Requests insights ([`requested`]), runs the worker's round (which takes
/// the job) and returns the documents of the `DONE` job, each read with
/// `GET /insights/{id}`.
async fn generated<S, B>(t: &TestApp, app: &S, cred: &Cred, query: &str) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let queued = requested(app, cred, query).await;
    assert_eq!(t.insights.run_once().await.unwrap().jobs, 1);
    let done = job(app, cred, &queued["id"]).await;
    assert_eq!(done["status"], json!("DONE"), "{done}");
    assert!(done["finished_at"].is_string(), "{done}");
    let mut docs = Vec::new();
    for id in done["insight_ids"].as_array().unwrap() {
        let one = get(
            app,
            cred,
            &format!("/api/v1/insights/{}", id.as_str().unwrap()),
        )
        .await;
        assert_eq!(one.status.as_u16(), 200, "{}", one.body);
        docs.push(one.data().clone());
    }
    docs
}

/// Every figure of every finding.
fn figures(insight: &Value) -> Vec<Value> {
    insight["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["figures"].as_array().unwrap().clone())
        .collect()
}

fn figure(insight: &Value, label: &str) -> Value {
    figures(insight)
        .into_iter()
        .find(|f| f["label"] == json!(label))
        .unwrap_or_else(|| panic!("no figure {label} in {insight}"))
}

async fn generating_is_a_job_queued_then_done_with_the_documents_ids(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let queued = requested(
        &app,
        &owner,
        &format!("week={WEEK}&ad_account_id={account}"),
    )
    .await;
    assert_eq!(
        (&queued["week"], &queued["ad_account_id"]),
        (&json!(WEEK), &json!(account))
    );
    assert!(
        queued["requested_by"]
            .as_str()
            .unwrap()
            .starts_with("user:")
    );
    assert!(queued.get("finished_at").is_none() && queued.get("failure").is_none());
    let listed = get(&app, &owner, "/api/v1/insights").await;
    assert_eq!(
        listed.data(),
        &json!([]),
        "nothing written before the round"
    );

    let round = t.insights.run_once().await.unwrap();
    assert_eq!(round.jobs, 1);
    let done = job(&app, &owner, &queued["id"]).await;
    assert_eq!(done["status"], json!("DONE"), "{done}");
    let ids = done["insight_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{done}");
    let listed = get(&app, &owner, "/api/v1/insights").await;
    assert_eq!(listed.data()[0]["id"], ids[0]);
    assert_eq!(t.insights.run_once().await.unwrap().jobs, 0, "run once");

    // Without a week: each account's last whole week, resolved by the job.
    let defaulted = requested(&app, &owner, "").await;
    assert!(defaulted.get("week").is_none() && defaulted.get("ad_account_id").is_none());
}

async fn built_in_insight_has_the_kpi_apis_figures_and_generating_again_replaces_it(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let list = generated(&t, &app, &owner, &format!("week={WEEK}")).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let first = &list[0];
    assert_eq!(
        (&first["mode"], &first["verified"]),
        (&json!("builtin"), &json!(true))
    );
    assert_eq!(first["ad_account_id"], json!(account));
    assert_eq!(
        first["week"],
        json!({"from": "2026-09-28", "to": "2026-10-04"})
    );
    assert_eq!(
        first["headline"],
        json!("Spend of 40.00 BRL this week at a CPA of 10.00 BRL")
    );
    let n = first["findings"].as_array().unwrap().len();
    assert!((3..=5).contains(&n), "{first}");
    assert!(!first["actions"].as_array().unwrap().is_empty());
    assert_eq!(first["usage"]["prompt_tokens"], json!(0));

    let kpis = get(
        &app,
        &owner,
        &format!("/api/v1/ad-accounts/{account}/kpis?from=2026-09-28&to=2026-10-04"),
    )
    .await;
    let totals = &kpis.data()["totals"];
    for (label, field) in [
        ("spend", "spend"),
        ("results", "conversions"),
        ("CPA", "cpa"),
    ] {
        let f = figure(first, &format!("{label} this week"));
        assert!(
            (number(&f["value"]) - number(&totals[field])).abs() < 1e-9,
            "{label}: {f} vs {}",
            totals[field]
        );
    }
    assert_eq!(
        number(&figure(first, "Low CTR spend this week")["value"]),
        30.0
    );

    let again = generated(
        &t,
        &app,
        &owner,
        &format!("week={WEEK}&ad_account_id={account}"),
    )
    .await;
    let second = &again[0];
    assert_ne!(second["id"], first["id"]);
    let listed = get(&app, &owner, "/api/v1/insights").await;
    assert_eq!(listed.status.as_u16(), 200, "{}", listed.body);
    let items = listed.data().as_array().unwrap();
    assert_eq!(items.len(), 1, "generating again replaces: {items:?}");
    assert_eq!(items[0]["id"], second["id"]);
    assert_eq!(second["headline"], first["headline"]);
    assert_eq!(second["findings"], first["findings"]);
}

async fn insights_and_insight_jobs_are_the_tenants_alone(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let other = register(&app, "Other").await;
    let queued = requested(&app, &owner, &format!("week={WEEK}")).await;
    let path = format!("/api/v1/insight-jobs/{}", queued["id"].as_str().unwrap());
    get(&app, &other.cred(), &path)
        .await
        .assert_error(404, "INSIGHT_JOB_NOT_FOUND");
    t.insights.run_once().await.unwrap();
    get(&app, &other.cred(), &path)
        .await
        .assert_error(404, "INSIGHT_JOB_NOT_FOUND");
    let done = job(&app, &owner, &queued["id"]).await;
    let id = done["insight_ids"][0].as_str().unwrap().to_owned();

    get(&app, &other.cred(), &format!("/api/v1/insights/{id}"))
        .await
        .assert_error(404, "INSIGHT_NOT_FOUND");
    let listed = get(&app, &other.cred(), "/api/v1/insights").await;
    assert_eq!(listed.status.as_u16(), 200, "{}", listed.body);
    assert_eq!(listed.data(), &json!([]));
    generate(
        &app,
        &other.cred(),
        &format!("week={WEEK}&ad_account_id={account}"),
    )
    .await
    .assert_error(404, "AD_ACCOUNT_NOT_FOUND");
    assert_eq!(
        t.insights.run_once().await.unwrap().jobs,
        0,
        "nothing queued"
    );
}

async fn refused_requests_answer_422_and_store_no_job(t: TestApp) {
    let (owner, _) = imported(&t).await;
    let app = t.service().await;
    let bad = generate(&app, &owner, "week=2026-W99").await;
    bad.assert_error(422, "VALIDATION_FAILED");
    assert!(
        !bad.body["details"]["fields"]["week"].is_null(),
        "{}",
        bad.body
    );
    let empty = register(&app, "Empty").await;
    generate(&app, &empty.cred(), "")
        .await
        .assert_error(422, "NO_AD_ACCOUNT");
    assert_eq!(
        t.insights.run_once().await.unwrap().jobs,
        0,
        "nothing queued"
    );
    let listed = get(&app, &owner, "/api/v1/insights").await;
    assert_eq!(listed.data(), &json!([]));
}

async fn a_job_whose_account_was_deleted_fails(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let queued = requested(&app, &owner, &format!("ad_account_id={account}")).await;
    let gone = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/ad-accounts/{account}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(gone.status.as_u16(), 204, "{}", gone.body);
    assert_eq!(t.insights.run_once().await.unwrap().jobs, 1);
    let failed = job(&app, &owner, &queued["id"]).await;
    assert_eq!(failed["status"], json!("FAILED"), "{failed}");
    assert_eq!(failed["failure"], json!("ad account not found"));
    assert_eq!(failed["insight_ids"], json!([]));
    assert!(failed["finished_at"].is_string());
    assert_eq!(t.insights.run_once().await.unwrap().jobs, 0, "not retried");
}

async fn with_weekly_insights_off_requested_insights_are_still_written(backend: Backend) {
    let mut s = settings(None);
    s.weekly_insights = false;
    let t = TestApp::with_settings(backend, s).await;
    let (owner, _) = imported(&t).await;
    let app = t.service().await;
    let docs = generated(&t, &app, &owner, &format!("week={WEEK}")).await;
    assert_eq!(docs.len(), 1);
}

/// An app whose model (at `server`) replies `reply` to each of `calls`
/// requests; generates the fixture's week once. Returns the one insight.
async fn generated_with_a_model_that_says(backend: Backend, reply: &Value, calls: u64) -> Value {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(reply))
        .expect(calls)
        .mount(&server)
        .await;
    let t = TestApp::with_llm(backend, &format!("{}/v1", server.uri())).await;
    let (owner, _) = imported(&t).await;
    let app = t.service().await;
    generated(&t, &app, &owner, &format!("week={WEEK}")).await[0].clone()
}

fn model_insight(spend: f64) -> Value {
    json!({
        "headline": format!("Spend of R$ {spend:.2} this week"),
        "findings": [
            {"title": "Spend", "detail": format!("You spent R$ {spend:.2}."),
             "figures": [{"label": "spend this week", "value": spend, "unit": "BRL"}]},
            {"title": "Results", "detail": "4 results at a CPA of R$ 10.00.",
             "figures": [{"label": "results this week", "value": 4, "unit": "count"},
                         {"label": "CPA this week", "value": 10.00, "unit": "BRL"}]},
            {"title": "Low CTR leads spend", "detail": "Low CTR spent R$ 30.00.",
             "figures": [{"label": "Low CTR spend this week", "value": 30.00, "unit": "BRL"}]}
        ],
        "actions": ["Review the creative of Low CTR"]
    })
}

async fn a_truthful_model_insight_is_stored_in_llm_mode(backend: Backend) {
    let insight = generated_with_a_model_that_says(backend, &model_insight(40.0), 1).await;
    assert_eq!(
        (&insight["mode"], &insight["verified"]),
        (&json!("llm"), &json!(true)),
        "{insight}"
    );
    assert_eq!(insight["headline"], json!("Spend of R$ 40.00 this week"));
    assert_eq!(insight["usage"]["completion_tokens"], json!(50));
}

async fn a_model_insight_that_lies_twice_is_replaced_by_the_built_in_one(backend: Backend) {
    let insight = generated_with_a_model_that_says(backend, &model_insight(55.0), 2).await;
    assert_eq!(
        (&insight["mode"], &insight["verified"]),
        (&json!("builtin"), &json!(true)),
        "{insight}"
    );
    assert_eq!(
        insight["headline"],
        json!("Spend of 40.00 BRL this week at a CPA of 10.00 BRL")
    );
    assert_eq!(insight["usage"]["completion_tokens"], json!(100));
}

use crate::reports::MondayMorning;

/// A worker's insights round over the app's database at
/// [`MondayMorning`], without a model.
fn weekly_round(t: &TestApp) -> WeeklyInsights {
    let db = t.adapters.db.clone();
    let monday: Arc<dyn Clock> = Arc::new(MondayMorning);
    let gold = GoldReader::new(
        db.clone(),
        db.clone(),
        db.clone(),
        db.clone(),
        monday.clone(),
    );
    let generate = Arc::new(GenerateInsights::new(db.clone(), gold, None, monday));
    let jobs = RunInsightJobs::new(db, generate.clone());
    WeeklyInsights::new(generate, Arc::new(jobs))
}

async fn the_weekly_round_writes_last_weeks_insight_on_monday_morning_once(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    // An account without spend gets no document.
    let idle = new_account(&app, &owner, None).await;

    let round = weekly_round(&t).run_once().await.unwrap();
    assert_eq!(
        round,
        WeeklyRound {
            jobs: 0,
            generated: 1,
            full: false
        }
    );
    let listed = get(&app, &owner, "/api/v1/insights").await;
    let listed = listed.data().as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let insight = &listed[0];
    assert_eq!(insight["ad_account_id"], json!(account));
    assert_ne!(insight["ad_account_id"], json!(idle));
    // The week before Monday Oct 5: Sep 28 – Oct 4.
    assert_eq!(
        insight["week"],
        json!({"from": "2026-09-28", "to": "2026-10-04"})
    );
    assert_eq!(insight["mode"], json!("builtin"));

    // Another worker (its own minute throttle) finds nothing left to write.
    let again = weekly_round(&t).run_once().await.unwrap();
    assert_eq!(again.generated, 0);
    let after = get(&app, &owner, "/api/v1/insights").await;
    let after = after.data().as_array().unwrap().clone();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["id"], insight["id"], "not regenerated");
}

async fn a_week_is_claimed_by_one_worker_at_a_time_and_never_once_written(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let db = t.adapters.db.clone();
    let tenant: domain::TenantId = owner_org(&app, &owner).await.parse().unwrap();
    let account: domain::AdAccountId = account.parse().unwrap();
    let w40 = DateRange::new(date!(2026 - 09 - 28), date!(2026 - 10 - 04)).unwrap();
    let now = MondayMorning.now();
    let lease = now + time::Duration::minutes(10);
    let zones = vec!["America/Sao_Paulo".to_owned()];
    assert_eq!(db.missing_week_zones(w40, now).await.unwrap(), zones);
    assert!(
        db.missing_week(w40, &["Asia/Tokyo".to_owned()], now, 10)
            .await
            .unwrap()
            .is_empty(),
        "only the zones asked for"
    );
    assert_eq!(
        db.missing_week(w40, &zones, now, 10).await.unwrap().len(),
        1,
        "spent, no document"
    );
    assert!(
        db.claim_week(tenant, account, w40, now, lease)
            .await
            .unwrap()
    );
    assert!(
        !db.claim_week(tenant, account, w40, now, lease)
            .await
            .unwrap(),
        "held by the first worker"
    );
    assert!(
        db.missing_week(w40, &zones, now, 10)
            .await
            .unwrap()
            .is_empty(),
        "a live claim is not listed"
    );
    // The lease ran out (the worker died): another worker takes it over.
    assert!(
        db.claim_week(
            tenant,
            account,
            w40,
            lease,
            lease + time::Duration::minutes(10)
        )
        .await
        .unwrap()
    );
    db.release_week(tenant, account, w40).await.unwrap();
    // Once written, the week is never claimed again.
    generated(
        &t,
        &app,
        &owner,
        &format!("week={WEEK}&ad_account_id={account}"),
    )
    .await;
    assert!(
        !db.claim_week(tenant, account, w40, now, lease)
            .await
            .unwrap()
    );
    assert!(
        db.missing_week(w40, &zones, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The organization id of `cred`'s member.
async fn owner_org<S, B>(app: &S, cred: &Cred) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let me = get(app, cred, "/api/v1/me").await;
    me.data()["organization"]["id"].as_str().unwrap().to_owned()
}
