//! A foreign tenant's id always answers 404 — never 403, never data — on every
//! tenant-owned route, and nothing of the owner's is changed by trying.

use actix_web::http::Method;
use adscale_tests::{Cred, TestApp, call, on_both_backends, register};
use serde_json::{Value, json};

on_both_backends!(foreign_ids_are_not_found_on_every_route);

pub async fn seed_hierarchy<S, B>(app: &S, cred: &Cred) -> (String, String, String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let acc = call(app, Method::POST, "/api/v1/ad-accounts", cred, Some(json!({"name": "Main", "platform": "meta", "external_id": format!("act_{}", uuid::Uuid::new_v4().simple()), "currency": "BRL", "timezone": "America/Sao_Paulo"}))).await;
    assert_eq!(acc.status, 201, "{}", acc.body);
    let acc = acc.data()["id"].as_str().unwrap().to_owned();
    let camp = call(app, Method::POST, "/api/v1/campaigns", cred, Some(json!({"ad_account_id": acc, "name": "Black Friday", "status": "ACTIVE", "daily_budget": "150.00"}))).await;
    assert_eq!(camp.status, 201, "{}", camp.body);
    let camp = camp.data()["id"].as_str().unwrap().to_owned();
    let set = call(
        app,
        Method::POST,
        "/api/v1/ad-sets",
        cred,
        Some(json!({"campaign_id": camp, "name": "Broad", "status": "ACTIVE"})),
    )
    .await;
    assert_eq!(set.status, 201, "{}", set.body);
    let set = set.data()["id"].as_str().unwrap().to_owned();
    let ad = call(app, Method::POST, "/api/v1/ads", cred, Some(json!({"ad_set_id": set, "name": "Video 1", "status": "ACTIVE", "targeting": {"age_min": 18}, "creative": {"id": "1"}}))).await;
    assert_eq!(ad.status, 201, "{}", ad.body);
    (acc, camp, set, ad.data()["id"].as_str().unwrap().to_owned())
}

async fn foreign_ids_are_not_found_on_every_route(t: TestApp) {
    let app = t.service().await;
    let a = register(&app, "Tenant A").await;
    let b = register(&app, "Tenant B").await;
    let (acc, camp, set, ad) = seed_hierarchy(&app, &a.cred()).await;
    let member = call(
        &app,
        Method::POST,
        "/api/v1/members",
        &a.cred(),
        Some(json!({"email": "m@a.example.com", "name": "M", "role": "viewer"})),
    )
    .await;
    let member = member.data()["user_id"].as_str().unwrap().to_owned();
    let key = call(
        &app,
        Method::POST,
        "/api/v1/api-keys",
        &a.cred(),
        Some(json!({"name": "k", "role": "viewer"})),
    )
    .await;
    let key = key.data()["id"].as_str().unwrap().to_owned();
    let rules = call(&app, Method::GET, "/api/v1/rules", &a.cred(), None).await;
    let rule = rules.data()[0]["id"].as_str().unwrap().to_owned();
    let rule_put = Some(json!({
        "version": 1, "name": "hijacked", "level": "ad",
        "conditions": {"any": [{"metric": "ctr", "op": "lt", "value": "1"}]},
        "window_days": 1, "action": {"type": "PAUSE"},
    }));

    let patch_name = Some(json!({"name": "hijacked"}));
    let matrix: Vec<(Method, String, Option<Value>, &str)> = vec![
        (
            Method::GET,
            format!("/api/v1/ad-accounts/{acc}"),
            None,
            "AD_ACCOUNT_NOT_FOUND",
        ),
        (
            Method::PATCH,
            format!("/api/v1/ad-accounts/{acc}"),
            patch_name.clone(),
            "AD_ACCOUNT_NOT_FOUND",
        ),
        (
            Method::DELETE,
            format!("/api/v1/ad-accounts/{acc}"),
            None,
            "AD_ACCOUNT_NOT_FOUND",
        ),
        (
            Method::GET,
            format!("/api/v1/ad-accounts/{acc}/kpis?from=2024-01-01&to=2024-01-31"),
            None,
            "AD_ACCOUNT_NOT_FOUND",
        ),
        (
            Method::POST,
            format!("/api/v1/ad-accounts/{acc}/sync"),
            None,
            "AD_ACCOUNT_NOT_FOUND",
        ),
        (
            Method::GET,
            format!("/api/v1/campaigns/{camp}"),
            None,
            "CAMPAIGN_NOT_FOUND",
        ),
        (
            Method::PATCH,
            format!("/api/v1/campaigns/{camp}"),
            patch_name.clone(),
            "CAMPAIGN_NOT_FOUND",
        ),
        (
            Method::DELETE,
            format!("/api/v1/campaigns/{camp}"),
            None,
            "CAMPAIGN_NOT_FOUND",
        ),
        (
            Method::GET,
            format!("/api/v1/campaigns/{camp}/kpis?from=2024-01-01&to=2024-01-31"),
            None,
            "CAMPAIGN_NOT_FOUND",
        ),
        (
            Method::GET,
            format!("/api/v1/ad-sets/{set}"),
            None,
            "AD_SET_NOT_FOUND",
        ),
        (
            Method::PATCH,
            format!("/api/v1/ad-sets/{set}"),
            patch_name.clone(),
            "AD_SET_NOT_FOUND",
        ),
        (
            Method::DELETE,
            format!("/api/v1/ad-sets/{set}"),
            None,
            "AD_SET_NOT_FOUND",
        ),
        (
            Method::GET,
            format!("/api/v1/ads/{ad}"),
            None,
            "AD_NOT_FOUND",
        ),
        (
            Method::PATCH,
            format!("/api/v1/ads/{ad}"),
            patch_name.clone(),
            "AD_NOT_FOUND",
        ),
        (
            Method::DELETE,
            format!("/api/v1/ads/{ad}"),
            None,
            "AD_NOT_FOUND",
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{member}"),
            Some(json!({"role": "admin"})),
            "MEMBER_NOT_FOUND",
        ),
        (
            Method::DELETE,
            format!("/api/v1/members/{member}"),
            None,
            "MEMBER_NOT_FOUND",
        ),
        (
            Method::DELETE,
            format!("/api/v1/api-keys/{key}"),
            None,
            "API_KEY_NOT_FOUND",
        ),
        (
            Method::GET,
            format!("/api/v1/rules/{rule}"),
            None,
            "RULE_NOT_FOUND",
        ),
        (
            Method::PUT,
            format!("/api/v1/rules/{rule}"),
            rule_put,
            "RULE_NOT_FOUND",
        ),
        (
            Method::DELETE,
            format!("/api/v1/rules/{rule}"),
            None,
            "RULE_NOT_FOUND",
        ),
    ];
    for (method, path, body, code) in matrix {
        let r = call(&app, method.clone(), &path, &b.cred(), body).await;
        assert_eq!(r.status, 404, "{method} {path} as tenant B: {}", r.body);
        r.assert_error(404, code);
    }

    // Children cannot be attached to a foreign parent.
    let r = call(
        &app,
        Method::POST,
        "/api/v1/campaigns",
        &b.cred(),
        Some(json!({"ad_account_id": acc, "name": "x", "status": "ACTIVE"})),
    )
    .await;
    r.assert_error(422, "VALIDATION_FAILED");
    assert!(r.body["details"]["fields"]["ad_account_id"].is_string());
    call(
        &app,
        Method::POST,
        "/api/v1/ad-sets",
        &b.cred(),
        Some(json!({"campaign_id": camp, "name": "x", "status": "ACTIVE"})),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    call(
        &app,
        Method::POST,
        "/api/v1/ads",
        &b.cred(),
        Some(json!({"ad_set_id": set, "name": "x", "status": "ACTIVE"})),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");

    // Lists never show another tenant's rows.
    for path in [
        "/api/v1/ad-accounts",
        "/api/v1/campaigns",
        "/api/v1/ad-sets",
        "/api/v1/ads",
        "/api/v1/api-keys",
        "/api/v1/ads/top?from=2024-01-01&to=2024-01-31",
    ] {
        let r = call(&app, Method::GET, path, &b.cred(), None).await;
        assert_eq!(
            r.data().as_array().map(Vec::len),
            Some(0),
            "{path}: {}",
            r.body
        );
    }
    let b_rules = call(&app, Method::GET, "/api/v1/rules", &b.cred(), None).await;
    let b_rules = b_rules.data().as_array().unwrap();
    assert_eq!(b_rules.len(), 1, "only B's own seed rule");
    assert_ne!(b_rules[0]["id"], json!(rule));
    let members = call(&app, Method::GET, "/api/v1/members", &b.cred(), None).await;
    assert_eq!(
        members.data().as_array().unwrap().len(),
        1,
        "only B's owner"
    );

    // A's data is intact.
    let c = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}"),
        &a.cred(),
        None,
    )
    .await;
    assert_eq!(c.data()["name"], json!("Black Friday"));
    assert_eq!(
        call(
            &app,
            Method::GET,
            &format!("/api/v1/ads/{ad}"),
            &a.cred(),
            None
        )
        .await
        .data()["name"],
        json!("Video 1")
    );
    assert_eq!(
        call(
            &app,
            Method::GET,
            &format!("/api/v1/ad-accounts/{acc}"),
            &a.cred(),
            None
        )
        .await
        .data()["name"],
        json!("Main")
    );
    let a_rule = call(
        &app,
        Method::GET,
        &format!("/api/v1/rules/{rule}"),
        &a.cred(),
        None,
    )
    .await;
    assert_eq!(
        (&a_rule.data()["version"], &a_rule.data()["name"]),
        (&json!(1), &json!("Low CTR or high CPA"))
    );
    assert_eq!(
        call(&app, Method::GET, "/api/v1/members", &a.cred(), None)
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
