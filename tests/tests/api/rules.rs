//! Rules over HTTP on both backends: the seed rule every tenant starts with,
//! CRUD with versions, validation listing every field, optimistic edits and
//! the role gate.

use actix_web::http::Method;
use adscale_tests::{Cred, Tenant, TestApp, call, on_both_backends, register};
use domain::rules::{Rule, RuleSpec};
use domain::{RuleId, TenantId};
use serde_json::{Value, json};

on_both_backends!(
    a_new_tenant_starts_with_the_seed_rule,
    a_created_rule_is_201_and_reads_back_as_answered,
    an_invalid_rule_is_422_listing_every_bad_field,
    put_bumps_the_version_only_when_the_rule_changes,
    an_edit_of_a_stale_version_is_409_and_changes_nothing,
    delete_is_204_then_the_rule_is_gone,
    members_below_admin_read_rules_but_cannot_write_them,
);

/// A rule using every optional part; `value: 3` is a number on purpose.
fn rule_body() -> Value {
    json!({
        "name": "Trim expensive ad sets",
        "level": "ad_set",
        "conditions": {"all": [
            {"metric": "cpa", "op": "gt", "value": "80.00"},
            {"metric": "conversions", "op": "gte", "value": 3},
        ]},
        "window_days": 7,
        "guards": {"min_spend": "100.00"},
        "action": {"type": "BUDGET_DOWN", "percent": "25"},
        "schedule": "daily",
    })
}

/// `body` plus `"version": version`.
fn put_body(mut body: Value, version: i64) -> Value {
    body["version"] = json!(version);
    body
}

async fn create<S, B>(app: &S, cred: &Cred, body: Value) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = call(app, Method::POST, "/api/v1/rules", cred, Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.data().clone()
}

async fn rules_of<S, B>(app: &S, cred: &Cred) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = call(app, Method::GET, "/api/v1/rules", cred, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().as_array().unwrap().clone()
}

async fn key<S, B>(app: &S, owner: &Tenant, role: &str) -> Cred
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = call(
        app,
        Method::POST,
        "/api/v1/api-keys",
        &owner.cred(),
        Some(json!({"name": format!("{role} key"), "role": role})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    Cred::ApiKey(r.data()["key"].as_str().unwrap().to_owned())
}

/// The seed rule as the API answers it, without id and timestamps.
fn seed_json() -> Value {
    json!({
        "version": 1,
        "name": "Low CTR or high CPA",
        "level": "campaign",
        "conditions": {"any": [
            {"metric": "ctr", "op": "lt", "value": "1"},
            {"metric": "cpa", "op": "gt", "value": "50"},
        ]},
        "window_days": 3,
        "guards": {"min_impressions": 1000},
        "action": {"type": "PAUSE"},
        "schedule": "after_sync",
        "mode": "suggest",
        "enabled": true,
    })
}

fn without_metadata(mut rule: Value) -> Value {
    let o = rule.as_object_mut().unwrap();
    for k in ["id", "created_at", "updated_at"] {
        assert!(o.remove(k).is_some(), "{k} missing");
    }
    rule
}

async fn a_new_tenant_starts_with_the_seed_rule(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Seeded").await;
    let rules = rules_of(&app, &o.cred()).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(without_metadata(rules[0].clone()), seed_json());
    let id = rules[0]["id"].as_str().unwrap();
    let one = call(
        &app,
        Method::GET,
        &format!("/api/v1/rules/{id}"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(one.data(), &rules[0]);
}

async fn a_created_rule_is_201_and_reads_back_as_answered(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Create").await;
    let r = call(
        &app,
        Method::POST,
        "/api/v1/rules",
        &o.cred(),
        Some(rule_body()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.data().clone();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/rules/{id}").as_str())
    );
    assert_eq!(created["version"], json!(1));
    assert_eq!(
        created["conditions"]["all"][1],
        json!({"metric": "conversions", "op": "gte", "value": "3"}),
        "numbers are accepted, decimals answered as strings"
    );
    assert_eq!(created["guards"], json!({"min_spend": "100.00"}));
    assert_eq!(
        created["action"],
        json!({"type": "BUDGET_DOWN", "percent": "25"})
    );
    assert_eq!(
        (&created["mode"], &created["enabled"]),
        (&json!("suggest"), &json!(true)),
        "defaults"
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    let read = call(
        &app,
        Method::GET,
        &format!("/api/v1/rules/{id}"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(read.data(), &created, "a write answers what a read returns");
    let listed = rules_of(&app, &o.cred()).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], created, "newest first");
}

async fn an_invalid_rule_is_422_listing_every_bad_field(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Invalid").await;
    let bad = json!({
        "name": "",
        "level": "account",
        "conditions": {"any": [
            {"metric": "CTR", "op": "lt", "value": "1"},
            {"metric": "ctr", "op": "gt", "value": "150"},
        ]},
        "window_days": 0,
        "guards": {"min_impressions": -1},
        "action": {"type": "BUDGET_UP"},
        "mode": "sometimes",
    });
    let r = call(&app, Method::POST, "/api/v1/rules", &o.cred(), Some(bad)).await;
    r.assert_error(422, "VALIDATION_FAILED");
    let fields = r.body["details"]["fields"].as_object().unwrap();
    let mut paths: Vec<&str> = fields.keys().map(String::as_str).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "action.percent",
            "conditions.any[0].metric",
            "conditions.any[1].value",
            "guards.min_impressions",
            "level",
            "mode",
            "name",
            "window_days",
        ]
    );
    assert_eq!(
        fields["level"],
        json!("must be one of campaign, ad_set, ad")
    );
    assert_eq!(
        fields["conditions.any[1].value"],
        json!("CTR is a percentage: must be at most 100")
    );
    let empty = call(
        &app,
        Method::POST,
        "/api/v1/rules",
        &o.cred(),
        Some(json!({})),
    )
    .await;
    empty.assert_error(422, "VALIDATION_FAILED");
    for field in ["name", "level", "conditions", "window_days", "action"] {
        assert!(
            empty.body["details"]["fields"][field].is_string(),
            "{field}: {}",
            empty.body
        );
    }
    call(
        &app,
        Method::POST,
        "/api/v1/rules",
        &o.cred(),
        Some(json!({"window_days": "three"})),
    )
    .await
    .assert_error(400, "MALFORMED_BODY");
    assert_eq!(rules_of(&app, &o.cred()).await.len(), 1, "only the seed");
}

async fn put_bumps_the_version_only_when_the_rule_changes(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Versions").await;
    let created = create(&app, &o.cred(), rule_body()).await;
    let path = format!("/api/v1/rules/{}", created["id"].as_str().unwrap());

    let same = call(
        &app,
        Method::PUT,
        &path,
        &o.cred(),
        Some(put_body(rule_body(), 1)),
    )
    .await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.data(), &created, "an identical rule changes nothing");

    let mut edited = rule_body();
    edited["window_days"] = json!(14);
    edited["enabled"] = json!(false);
    let v2 = call(
        &app,
        Method::PUT,
        &path,
        &o.cred(),
        Some(put_body(edited.clone(), 1)),
    )
    .await;
    assert_eq!(v2.status, 200, "{}", v2.body);
    let v2 = v2.data().clone();
    assert_eq!(v2["version"], json!(2));
    assert_eq!(
        (&v2["window_days"], &v2["enabled"]),
        (&json!(14), &json!(false))
    );
    assert_eq!(v2["created_at"], created["created_at"]);
    assert_eq!(
        call(&app, Method::GET, &path, &o.cred(), None).await.data(),
        &v2
    );

    // PUT is the whole rule: what is left out takes its default.
    let mut v3_body = put_body(edited, 2);
    v3_body.as_object_mut().unwrap().remove("enabled");
    v3_body.as_object_mut().unwrap().remove("guards");
    let v3 = call(&app, Method::PUT, &path, &o.cred(), Some(v3_body)).await;
    assert_eq!(v3.data()["version"], json!(3));
    assert_eq!(v3.data()["enabled"], json!(true));
    assert_eq!(v3.data()["guards"], json!({}));

    let no_version = call(&app, Method::PUT, &path, &o.cred(), Some(rule_body())).await;
    no_version.assert_error(422, "VALIDATION_FAILED");
    assert!(no_version.body["details"]["fields"]["version"].is_string());
}

async fn an_edit_of_a_stale_version_is_409_and_changes_nothing(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Stale").await;
    let created = create(&app, &o.cred(), rule_body()).await;
    let path = format!("/api/v1/rules/{}", created["id"].as_str().unwrap());
    let mut mine = rule_body();
    mine["name"] = json!("Mine");
    let first = call(&app, Method::PUT, &path, &o.cred(), Some(put_body(mine, 1))).await;
    assert_eq!(first.data()["version"], json!(2));
    let mut theirs = rule_body();
    theirs["name"] = json!("Theirs, based on version 1");
    for stale in [1, 7] {
        call(
            &app,
            Method::PUT,
            &path,
            &o.cred(),
            Some(put_body(theirs.clone(), stale)),
        )
        .await
        .assert_error(409, "RULE_VERSION_CONFLICT");
    }
    let now = call(&app, Method::GET, &path, &o.cred(), None).await;
    assert_eq!(now.data(), first.data());
}

async fn delete_is_204_then_the_rule_is_gone(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Delete").await;
    let created = create(&app, &o.cred(), rule_body()).await;
    let path = format!("/api/v1/rules/{}", created["id"].as_str().unwrap());
    let d = call(&app, Method::DELETE, &path, &o.cred(), None).await;
    assert_eq!(d.status, 204, "{}", d.body);
    call(&app, Method::GET, &path, &o.cred(), None)
        .await
        .assert_error(404, "RULE_NOT_FOUND");
    call(
        &app,
        Method::PUT,
        &path,
        &o.cred(),
        Some(put_body(rule_body(), 1)),
    )
    .await
    .assert_error(404, "RULE_NOT_FOUND");
    call(&app, Method::DELETE, &path, &o.cred(), None)
        .await
        .assert_error(404, "RULE_NOT_FOUND");
    let listed = rules_of(&app, &o.cred()).await;
    assert!(listed.iter().all(|r| r["id"] != created["id"]));
    call(
        &app,
        Method::GET,
        "/api/v1/rules/not-a-uuid",
        &o.cred(),
        None,
    )
    .await
    .assert_error(400, "INVALID_PARAMETER");
}

async fn members_below_admin_read_rules_but_cannot_write_them(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Gate").await;
    let seed_id = rules_of(&app, &owner.cred()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/rules/{seed_id}");
    for role in ["viewer", "analyst"] {
        let cred = key(&app, &owner, role).await;
        assert_eq!(rules_of(&app, &cred).await.len(), 1, "{role} reads");
        assert_eq!(
            call(&app, Method::GET, &path, &cred, None).await.status,
            200
        );
        call(
            &app,
            Method::POST,
            "/api/v1/rules",
            &cred,
            Some(rule_body()),
        )
        .await
        .assert_error(403, "FORBIDDEN");
        call(
            &app,
            Method::PUT,
            &path,
            &cred,
            Some(put_body(rule_body(), 1)),
        )
        .await
        .assert_error(403, "FORBIDDEN");
        call(&app, Method::DELETE, &path, &cred, None)
            .await
            .assert_error(403, "FORBIDDEN");
    }
    let admin = key(&app, &owner, "admin").await;
    let mut auto = rule_body();
    auto["mode"] = json!("auto_apply");
    let created = create(&app, &admin, auto).await;
    assert_eq!(created["mode"], json!("auto_apply"));
    let rules = rules_of(&app, &owner.cred()).await;
    assert_eq!(rules.len(), 2, "nothing the members tried was written");
    assert_eq!(rules[1]["version"], json!(1), "the seed is untouched");
}

/// The API's rule, without `id`, `version` and timestamps, is the JSON the
/// spec is stored as (so a stored version reads like the API).
#[test]
fn the_api_shape_is_the_stored_shape() {
    let at = time::OffsetDateTime::UNIX_EPOCH;
    let mut body = rule_body();
    body["mode"] = json!("auto_apply");
    let request: interface::dto::rules::RuleRequest = serde_json::from_value(body).unwrap();
    let spec = application::rules::RuleSpecInput::from(request)
        .parse()
        .unwrap();
    for spec in [RuleSpec::seed(), spec] {
        let rule = Rule {
            id: RuleId::generate(),
            tenant_id: TenantId::generate(),
            version: 1,
            spec: spec.clone(),
            created_at: at,
            updated_at: at,
        };
        let mut api = without_metadata(
            serde_json::to_value(interface::dto::rules::RuleDto::from(rule)).unwrap(),
        );
        api.as_object_mut().unwrap().remove("version");
        assert_eq!(api, infrastructure::db::rules::spec_to_json(&spec).unwrap());
    }
}
