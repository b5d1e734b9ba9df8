//! Accepting suggestions end to end on both backends: a sync from a local
//! Graph API, the seed rule's suggestion, accepting it, and the apply job
//! pausing the campaign (or setting its budget) through the Graph API once,
//! with the audit entry; failures, retries and auto-apply; and which job
//! judges a rule (after each sync, or its hourly / daily schedule).

use actix_web::http::Method;
use adscale_tests::{Backend, Cred, TestApp, call, get};
use std::sync::Arc;

use application::ingestion::sync::{JobOutcome, RunSync};
use application::rules::EvaluateScheduledRules;
use domain::rules::Schedule;
use domain::{AdAccountId, TenantId};
use serde_json::{Value, json};
use wiremock::matchers::{body_string, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ingestion::{graph_page, synced_app_for};
use crate::suggestions::evaluator;

/// One ad's day: 1,000 impressions, 5 clicks (CTR 0.5 %), 20.00 spent, one
/// purchase worth 150.00 (ROAS 7.5).
fn day(date: &str) -> Value {
    day_spending(date, "20.00")
}

/// [`day`] with another spend.
fn day_spending(date: &str, spend: &str) -> Value {
    json!({
        "date_start": date, "date_stop": date, "account_id": "777",
        "campaign_id": "c1", "adset_id": "s1", "ad_id": "a1",
        "impressions": "1000", "clicks": "5", "inline_link_clicks": "4", "spend": spend,
        "actions": [{"action_type": "purchase", "value": "1"}],
        "action_values": [{"action_type": "purchase", "value": "150.00"}]
    })
}

/// Account 777 with campaign c1 "Sale" (ACTIVE, daily budget 150.00 BRL)
/// and Oct 1–3 of low-CTR insights: the seed rule fires on Oct 4.
async fn graph(server: &MockServer) {
    graph_with(
        server,
        json!([day("2026-10-01"), day("2026-10-02"), day("2026-10-03")]),
    )
    .await;
}

/// [`graph`] with other insight rows.
async fn graph_with(server: &MockServer, insights: Value) {
    let get = |p: &str, data: Value| {
        Mock::given(method("GET"))
            .and(path(format!("/v21.0/act_777/{p}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(graph_page(&data, None)))
    };
    get("campaigns", json!([{"id": "c1", "name": "Sale", "status": "ACTIVE", "effective_status": "ACTIVE", "objective": "OUTCOME_SALES", "daily_budget": "15000"}]))
        .mount(server).await;
    get("adsets", json!([{"id": "s1", "name": "LAL", "status": "ACTIVE", "campaign_id": "c1", "daily_budget": "5000", "optimization_goal": "OFFSITE_CONVERSIONS"}]))
        .mount(server).await;
    get("ads", json!([{"id": "a1", "name": "Carousel", "status": "ACTIVE", "campaign_id": "c1", "adset_id": "s1", "creative": {"id": "cr1"}}]))
        .mount(server).await;
    get("insights", insights).mount(server).await;
}

/// An update of campaign c1 the Graph API answers with `reply`.
fn update(form: &str, reply: ResponseTemplate) -> Mock {
    update_of("c1", form, reply)
}

/// An update of the object `id` (campaign, ad set or ad) the Graph API answers with `reply`.
pub(crate) fn update_of(id: &str, form: &str, reply: ResponseTemplate) -> Mock {
    Mock::given(method("POST"))
        .and(path(format!("/v21.0/{id}")))
        .and(body_string(form))
        .respond_with(reply)
}

pub(crate) fn success() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"success": true}))
}

/// The Graph API's answer for an object it will not touch (fixture `code_100_unsupported_get`).
fn refused() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"error": {
        "message": "Unsupported post request. Object with ID 'c1' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        "type": "GraphMethodException", "code": 100, "error_subcode": 33, "fbtrace_id": "A7qVRrTcBm8Pt6iUvnBrxwf"
    }}))
}

/// An app whose account 777 was synced from `server` over `from..=to`.
/// Returns (app, owner cred, account id, tenant).
pub(crate) async fn synced(
    backend: Backend,
    server: &MockServer,
    from: &str,
    to: &str,
) -> (TestApp, Cred, String, TenantId) {
    let (t, cred, account, job) = synced_app_for(backend, server, from, to).await;
    let done = RunSync::new(t.ingestion.clone())
        .execute(job)
        .await
        .unwrap();
    assert_eq!(done, JobOutcome::Done);
    (t, cred, account, job.tenant_id)
}

/// A synced app whose account's data fired the seed rule (and any rule the
/// test made with `rules` before evaluating). Returns (app, owner cred,
/// account id).
async fn evaluated(
    backend: Backend,
    server: &MockServer,
    rules: &[Value],
) -> (TestApp, Cred, String) {
    graph(server).await;
    let (t, cred, account, tenant) = synced(backend, server, "2026-10-01", "2026-10-03").await;
    {
        let app = t.service().await;
        for rule in rules {
            let r = call(
                &app,
                Method::POST,
                "/api/v1/rules",
                &cred,
                Some(rule.clone()),
            )
            .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    }
    let id = AdAccountId::from_uuid(account.parse().unwrap());
    evaluator(&t).execute(tenant, id).await.unwrap();
    (t, cred, account)
}

pub(crate) async fn suggestions<S, B>(app: &S, cred: &Cred) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = get(app, cred, "/api/v1/suggestions").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().as_array().unwrap().clone()
}

fn action<'a>(list: &'a [Value], kind: &str) -> &'a Value {
    list.iter()
        .find(|s| s["action"] == json!(kind))
        .unwrap_or_else(|| panic!("no {kind} suggestion in {list:?}"))
}

both!(
    accepting_pauses_the_campaign_through_the_platform_once_and_audits_who_did_it,
    a_budget_change_is_sent_in_minor_units_and_a_refusal_fails_with_the_reason,
    a_throttled_platform_is_retried_and_auto_apply_needs_no_person,
    a_budget_that_moved_since_the_suggestion_is_not_overwritten,
    rules_on_a_schedule_are_judged_by_their_job_not_after_each_sync,
    ad_set_and_ad_rules_judge_their_own_numbers_and_apply_to_their_own_objects,
    an_ads_own_spike_is_an_anomaly_next_to_its_campaigns
);

fn scale_rule() -> Value {
    json!({
        "name": "Scale winners",
        "level": "campaign",
        "conditions": {"all": [{"metric": "roas", "op": "gt", "value": "3"}]},
        "window_days": 3,
        "action": {"type": "BUDGET_UP", "percent": "20"},
    })
}

async fn accepting_pauses_the_campaign_through_the_platform_once_and_audits_who_did_it(
    backend: Backend,
) {
    let server = MockServer::start().await;
    update("status=PAUSED", success())
        .expect(1)
        .mount(&server)
        .await;
    let (t, owner, _account) = evaluated(backend, &server, &[]).await;
    let app = t.service().await;
    let me = get(&app, &owner, "/api/v1/me").await;
    let user_id = me.data()["user"]["id"].as_str().unwrap().to_owned();
    let list = suggestions(&app, &owner).await;
    let pause = action(&list, "PAUSE");
    assert_eq!(pause["status"], json!("PENDING"));
    let id = pause["id"].as_str().unwrap().to_owned();
    let campaign = pause["entity_id"].as_str().unwrap().to_owned();
    let accept = format!("/api/v1/suggestions/{id}/accept");

    // Only a person with admin rights decides: an analyst key, even an admin key, cannot.
    for role in ["analyst", "admin"] {
        let k = call(
            &app,
            Method::POST,
            "/api/v1/api-keys",
            &owner,
            Some(json!({"name": role, "role": role})),
        )
        .await;
        let key = Cred::ApiKey(k.data()["key"].as_str().unwrap().to_owned());
        call(&app, Method::POST, &accept, &key, None)
            .await
            .assert_error(403, "FORBIDDEN");
        if role == "analyst" {
            get(&app, &key, "/api/v1/audit-log")
                .await
                .assert_error(403, "FORBIDDEN");
        }
    }
    // Another organization's admin does not even see it.
    let stranger = adscale_tests::register(&app, "Other").await;
    call(&app, Method::POST, &accept, &stranger.cred(), None)
        .await
        .assert_error(404, "SUGGESTION_NOT_FOUND");

    let r = call(&app, Method::POST, &accept, &owner, None).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/suggestions/{id}").as_str())
    );
    assert_eq!(r.data()["status"], json!("ACCEPTED"));
    assert_eq!(r.data()["decided_by"], json!(user_id));
    // Accepting twice changes nothing twice.
    call(&app, Method::POST, &accept, &owner, None)
        .await
        .assert_error(409, "SUGGESTION_NOT_PENDING");

    assert_eq!(t.apply.run_once().await.unwrap(), 1);
    assert_eq!(t.apply.run_once().await.unwrap(), 0, "applied once");
    let s = get(&app, &owner, &format!("/api/v1/suggestions/{id}")).await;
    assert_eq!(s.data()["status"], json!("APPLIED"), "{}", s.body);
    assert!(s.data()["applied_at"].is_string() && s.data().get("failure").is_none());
    let c = get(&app, &owner, &format!("/api/v1/campaigns/{campaign}")).await;
    assert_eq!(
        c.data()["status"],
        json!("PAUSED"),
        "silver follows the platform"
    );

    let log = get(&app, &owner, &format!("/api/v1/audit-log?entity_id={campaign}&action=suggestion.apply&actor={user_id}&from=2026-01-01"))
    .await;
    assert_eq!(log.status, 200, "{}", log.body);
    let entries = log.data().as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["actor"], json!(format!("user:{user_id}")));
    assert_eq!(e["entity"], json!({"type": "campaign", "id": campaign}));
    assert_eq!(
        e["before"],
        json!({"status": "ACTIVE", "daily_budget": "150.00"})
    );
    assert_eq!(e["after"]["status"], json!("PAUSED"));
    assert_eq!(e["after"]["suggestion_id"], json!(id));
    // The acceptance itself is on the suggestion's own history.
    let log = get(
        &app,
        &owner,
        &format!("/api/v1/audit-log?entity_type=suggestion&entity_id={id}"),
    )
    .await;
    let actions: Vec<&Value> = log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["action"])
        .collect();
    assert_eq!(actions, [&json!("suggestion.accept")]);
    // Nothing of it is another organization's to read, and bad filters are refused.
    let foreign = get(
        &app,
        &stranger.cred(),
        &format!("/api/v1/audit-log?entity_id={campaign}"),
    )
    .await;
    assert_eq!(foreign.data(), &json!([]));
    get(&app, &owner, "/api/v1/audit-log?from=yesterday")
        .await
        .assert_error(400, "INVALID_PARAMETER");
    get(
        &app,
        &owner,
        "/api/v1/audit-log?from=2026-10-02&to=2026-10-01",
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
}

async fn a_budget_change_is_sent_in_minor_units_and_a_refusal_fails_with_the_reason(
    backend: Backend,
) {
    let server = MockServer::start().await;
    update("daily_budget=18000", success())
        .expect(1)
        .mount(&server)
        .await;
    update("status=PAUSED", refused())
        .expect(1)
        .mount(&server)
        .await;
    let (t, owner, _account) = evaluated(backend, &server, &[scale_rule()]).await;
    let app = t.service().await;
    let list = suggestions(&app, &owner).await;
    let up = action(&list, "BUDGET_UP");
    assert_eq!(up["proposed"], json!({"from": "150.00", "to": "180.00"}));
    let pause = action(&list, "PAUSE");
    for s in [up, pause] {
        let r = call(
            &app,
            Method::POST,
            &format!("/api/v1/suggestions/{}/accept", s["id"].as_str().unwrap()),
            &owner,
            None,
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    assert_eq!(t.apply.run_once().await.unwrap(), 2);

    let path_of = |id: &Value| format!("/api/v1/suggestions/{}", id.as_str().unwrap());
    let up = get(&app, &owner, &path_of(&up["id"])).await;
    assert_eq!(up.data()["status"], json!("APPLIED"), "{}", up.body);
    let pause = get(&app, &owner, &path_of(&pause["id"])).await;
    assert_eq!(pause.data()["status"], json!("FAILED"), "{}", pause.body);
    let why = pause.data()["failure"].as_str().unwrap();
    assert!(
        why.contains("code 100") && why.contains("Unsupported post request"),
        "{why}"
    );
    let campaign = up.data()["entity_id"].as_str().unwrap();
    let c = get(&app, &owner, &format!("/api/v1/campaigns/{campaign}")).await;
    assert_eq!(
        (&c.data()["status"], &c.data()["daily_budget"]),
        (&json!("ACTIVE"), &json!("180.00"))
    );
    let failed = get(
        &app,
        &owner,
        "/api/v1/audit-log?action=suggestion.apply_failed",
    )
    .await;
    let entries = failed.data().as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["after"]["error"], json!(why));
    assert_eq!(t.apply.run_once().await.unwrap(), 0, "a failure is final");

    // Both outcomes are alerts, written with the outcome (one each).
    for (kind, title) in [
        ("action.applied", "Applied: "),
        ("action.failed", "Could not apply: "),
    ] {
        let r = get(&app, &owner, &format!("/api/v1/alerts?kind={kind}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let alerts = r.data().as_array().unwrap();
        assert_eq!(alerts.len(), 1, "{kind}: {alerts:?}");
        assert!(
            alerts[0]["title"].as_str().unwrap().starts_with(title),
            "{alerts:?}"
        );
    }
}

async fn a_throttled_platform_is_retried_and_auto_apply_needs_no_person(backend: Backend) {
    let server = MockServer::start().await;
    // The first try meets an outage (the client retries once itself), the second goes through.
    update("daily_budget=12000", ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1, "is_transient": true}})))
        .up_to_n_times(2) // the client's own attempt and its one retry
        .with_priority(1)
        .mount(&server)
        .await;
    update("daily_budget=12000", success())
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let trim = json!({
        "name": "Trim low CTR",
        "level": "campaign",
        "conditions": {"any": [{"metric": "ctr", "op": "lt", "value": "1"}]},
        "window_days": 3,
        "action": {"type": "BUDGET_DOWN", "percent": "20"},
        "mode": "auto_apply",
    });
    let (t, owner, _account) = evaluated(backend, &server, &[trim]).await;
    let app = t.service().await;
    let list = suggestions(&app, &owner).await;
    let down = action(&list, "BUDGET_DOWN");
    assert_eq!(down["status"], json!("ACCEPTED"), "born accepted: {down}");
    assert!(down.get("decided_by").is_none(), "nobody decided");
    let path = format!("/api/v1/suggestions/{}", down["id"].as_str().unwrap());

    assert_eq!(t.apply.run_once().await.unwrap(), 1);
    let s = get(&app, &owner, &path).await;
    assert_eq!(s.data()["status"], json!("ACCEPTED"), "{}", s.body);
    assert!(
        s.data()["failure"]
            .as_str()
            .unwrap()
            .contains("unavailable"),
        "{}",
        s.body
    );

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(t.apply.run_once().await.unwrap(), 1);
    let s = get(&app, &owner, &path).await;
    assert_eq!(s.data()["status"], json!("APPLIED"), "{}", s.body);
    let log = get(
        &app,
        &owner,
        "/api/v1/audit-log?action=suggestion.apply&actor=system",
    )
    .await;
    let entries = log.data().as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (
            &entries[0]["before"]["daily_budget"],
            &entries[0]["after"]["daily_budget"]
        ),
        (&json!("150.00"), &json!("120.00"))
    );
}

async fn a_budget_that_moved_since_the_suggestion_is_not_overwritten(backend: Backend) {
    let server = MockServer::start().await;
    update("daily_budget=18000", success())
        .expect(0)
        .mount(&server)
        .await;
    let (t, owner, _account) = evaluated(backend, &server, &[scale_rule()]).await;
    let app = t.service().await;
    let list = suggestions(&app, &owner).await;
    let up = action(&list, "BUDGET_UP");
    let campaign = up["entity_id"].as_str().unwrap();
    let id = up["id"].as_str().unwrap();
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/suggestions/{id}/accept"),
        &owner,
        None,
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    // Someone raised the budget by hand meanwhile: 20 % more of the old figure would be a cut.
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/campaigns/{campaign}"),
        &owner,
        Some(json!({"daily_budget": "200.00"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    assert_eq!(t.apply.run_once().await.unwrap(), 1);
    let s = get(&app, &owner, &format!("/api/v1/suggestions/{id}")).await;
    assert_eq!(s.data()["status"], json!("FAILED"), "{}", s.body);
    assert_eq!(
        s.data()["failure"],
        json!(
            "the daily budget changed since the suggestion was made (was 150.00, now 200.00); the next evaluation proposes from the new figure"
        )
    );
    let c = get(&app, &owner, &format!("/api/v1/campaigns/{campaign}")).await;
    assert_eq!(c.data()["daily_budget"], json!("200.00"), "left alone");
}

async fn rules_on_a_schedule_are_judged_by_their_job_not_after_each_sync(backend: Backend) {
    let server = MockServer::start().await;
    graph(&server).await;
    let (t, owner, _account, job) =
        synced_app_for(backend, &server, "2026-10-01", "2026-10-03").await;
    let mut daily = scale_rule();
    daily["schedule"] = json!("daily");
    {
        let app = t.service().await;
        let r = call(&app, Method::POST, "/api/v1/rules", &owner, Some(daily)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let evaluate = Arc::new(evaluator(&t));
    let run = RunSync::new(t.ingestion.clone()).with_after_sync(evaluate.clone());
    assert_eq!(run.execute(job).await.unwrap(), JobOutcome::Done);
    let app = t.service().await;
    let kinds = |list: Vec<Value>| -> Vec<String> {
        let mut k: Vec<String> = list
            .iter()
            .map(|s| s["action"].as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        kinds(suggestions(&app, &owner).await),
        ["PAUSE"],
        "only the after_sync seed rule"
    );

    let scheduled = EvaluateScheduledRules::new(evaluate, t.adapters.db.clone());
    assert_eq!(
        scheduled.execute(Schedule::Hourly).await.unwrap().created,
        0
    );
    assert_eq!(scheduled.execute(Schedule::Daily).await.unwrap().created, 1);
    assert_eq!(
        scheduled.execute(Schedule::Daily).await.unwrap().created,
        0,
        "once per window"
    );
    assert_eq!(
        kinds(suggestions(&app, &owner).await),
        ["BUDGET_UP", "PAUSE"]
    );
}

async fn ad_set_and_ad_rules_judge_their_own_numbers_and_apply_to_their_own_objects(
    backend: Backend,
) {
    let server = MockServer::start().await;
    // Ad set s1: 50.00 a day, 20 % less is 40.00 = 4000 centavos; ad a1: paused.
    update_of("s1", "daily_budget=4000", success())
        .expect(1)
        .mount(&server)
        .await;
    update_of("a1", "status=PAUSED", success())
        .expect(1)
        .mount(&server)
        .await;
    let rule = |name: &str, level: &str, action: Value| {
        json!({
            "name": name,
            "level": level,
            "conditions": {"any": [{"metric": "ctr", "op": "lt", "value": "1"}]},
            "window_days": 3,
            "guards": {"min_impressions": 1000},
            "action": action,
        })
    };
    let (t, owner, account) = evaluated(
        backend,
        &server,
        &[
            rule(
                "Trim weak ad sets",
                "ad_set",
                json!({"type": "BUDGET_DOWN", "percent": "20"}),
            ),
            rule("Pause weak ads", "ad", json!({"type": "PAUSE"})),
            // Ads have no budget of their own: nothing to propose, nothing stored.
            rule(
                "Scale ads",
                "ad",
                json!({"type": "BUDGET_UP", "percent": "20"}),
            ),
        ],
    )
    .await;
    let app = t.service().await;
    let list = suggestions(&app, &owner).await;
    let mut seen: Vec<(String, String, String)> = list
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap().to_owned();
            (text("level"), text("entity_name"), text("action"))
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("ad".to_owned(), "Carousel".to_owned(), "PAUSE".to_owned()),
            (
                "ad_set".to_owned(),
                "LAL".to_owned(),
                "BUDGET_DOWN".to_owned()
            ),
            ("campaign".to_owned(), "Sale".to_owned(), "PAUSE".to_owned()),
        ]
    );
    // The Analyzer scores the ad too, against the account: one ad is the whole account.
    let r = get(
        &app,
        &owner,
        &format!("/api/v1/analysis/scores?ad_account_id={account}&from=2026-10-01&to=2026-10-03"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ads = r.data()["ads"].as_array().unwrap();
    assert_eq!(ads.len(), 1, "{ads:?}");
    assert_eq!(
        (
            &ads[0]["ad_name"],
            &ads[0]["score"],
            &ads[0]["metrics"]["impressions"]
        ),
        (&json!("Carousel"), &json!(50), &json!(3000))
    );
    let set = list.iter().find(|s| s["level"] == json!("ad_set")).unwrap();
    assert_eq!(set["proposed"], json!({"from": "50.00", "to": "40.00"}));
    assert_eq!(
        set["metrics"]["impressions"],
        json!(3000),
        "the ad set's ads added up"
    );
    for s in list.iter().filter(|s| s["level"] != json!("campaign")) {
        let r = call(
            &app,
            Method::POST,
            &format!("/api/v1/suggestions/{}/accept", s["id"].as_str().unwrap()),
            &owner,
            None,
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    assert_eq!(t.apply.run_once().await.unwrap(), 2);
    for s in list.iter().filter(|s| s["level"] != json!("campaign")) {
        let r = get(
            &app,
            &owner,
            &format!("/api/v1/suggestions/{}", s["id"].as_str().unwrap()),
        )
        .await;
        assert_eq!(r.data()["status"], json!("APPLIED"), "{}", r.body);
    }
    let set_id = set["entity_id"].as_str().unwrap();
    let r = get(&app, &owner, &format!("/api/v1/ad-sets/{set_id}")).await;
    assert_eq!(r.data()["daily_budget"], json!("40.00"), "{}", r.body);
    let log = get(
        &app,
        &owner,
        &format!("/api/v1/audit-log?entity_type=ad_set&entity_id={set_id}"),
    )
    .await;
    let entries = log.data().as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (
            &entries[0]["before"]["daily_budget"],
            &entries[0]["after"]["daily_budget"]
        ),
        (&json!("50.00"), &json!("40.00"))
    );
}

async fn an_ads_own_spike_is_an_anomaly_next_to_its_campaigns(backend: Backend) {
    let server = MockServer::start().await;
    // Sep 3–30: spend 19.00 / 21.00 in turn; Oct 1: 80.00 (and so CPA 80).
    let mut rows: Vec<Value> = (3..=30)
        .map(|d| {
            day_spending(
                &format!("2026-09-{d:02}"),
                if d % 2 == 0 { "19.00" } else { "21.00" },
            )
        })
        .collect();
    rows.push(day_spending("2026-10-01", "80.00"));
    graph_with(&server, Value::Array(rows)).await;
    let (t, owner, account, _) = synced(backend, &server, "2026-09-03", "2026-10-01").await;
    let app = t.service().await;
    let r = get(
        &app,
        &owner,
        &format!("/api/v1/analysis/anomalies?ad_account_id={account}&date=2026-10-01"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let found: Vec<(Value, Value, Value)> = r.data()["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["campaign_name"].clone(),
                a["ad_name"].clone(),
                a["metric"].clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (json!("Sale"), Value::Null, json!("spend")),
            (json!("Sale"), Value::Null, json!("cpa")),
            (json!("Sale"), json!("Carousel"), json!("spend")),
            (json!("Sale"), json!("Carousel"), json!("cpa")),
        ]
    );
}
