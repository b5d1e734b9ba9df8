use std::str::FromStr;

use actix_web::http::Method;
use adscale_tests::{Cred, TestApp, call, on_both_backends, register};
use domain::ads::{InsightDaily, InsightLevel, InsightRepository};
use domain::kpi::KpiTotals;
use domain::{AdAccountId, CampaignId, TenantId};
use rust_decimal::Decimal;
use serde_json::json;

use crate::tenancy::seed_hierarchy;

on_both_backends!(
    campaign_crud_with_money_as_strings_and_patch_semantics,
    campaign_list_paginates_filters_and_is_cached_until_a_write,
    campaign_kpis_match_hand_computed_values,
    top_ads_rank_by_metric,
    bad_input_is_a_4xx_and_changes_nothing,
);

async fn campaign_crud_with_money_as_strings_and_patch_semantics(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Crud").await;
    let (acc, camp, _, _) = seed_hierarchy(&app, &o.cred()).await;
    let c = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(c.data()["daily_budget"], json!("150.00"));
    assert_eq!(c.data()["ad_account_id"], json!(acc));
    assert!(c.data()["created_at"].as_str().unwrap().ends_with('Z'));

    let p = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/campaigns/{camp}"),
        &o.cred(),
        Some(json!({"status": "PAUSED", "lifetime_budget": "1000.5"})),
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.data()["status"], json!("PAUSED"));
    assert_eq!(p.data()["lifetime_budget"], json!("1000.50"));
    assert_eq!(
        p.data()["daily_budget"],
        json!("150.00"),
        "absent field untouched"
    );
    let p = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/campaigns/{camp}"),
        &o.cred(),
        Some(json!({"daily_budget": null})),
    )
    .await;
    assert_eq!(p.data()["daily_budget"], json!(null), "null clears");
    assert_eq!(p.data()["status"], json!("PAUSED"));
    let created = call(
        &app,
        Method::POST,
        "/api/v1/campaigns",
        &o.cred(),
        Some(json!({"ad_account_id": acc, "name": "Read back", "status": "ACTIVE"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    for (written, id) in [
        (&p, camp.to_string()),
        (&created, created.data()["id"].as_str().unwrap().to_owned()),
    ] {
        let read = call(
            &app,
            Method::GET,
            &format!("/api/v1/campaigns/{id}"),
            &o.cred(),
            None,
        )
        .await;
        assert_eq!(
            read.data(),
            written.data(),
            "a write answers exactly what a later read returns (timestamps included)"
        );
    }

    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("/api/v1/campaigns/{camp}"),
            &o.cred(),
            None
        )
        .await
        .status,
        204
    );
    call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}"),
        &o.cred(),
        None,
    )
    .await
    .assert_error(404, "CAMPAIGN_NOT_FOUND");
    let ads = call(&app, Method::GET, "/api/v1/ads", &o.cred(), None).await;
    assert_eq!(
        ads.data().as_array().unwrap().len(),
        0,
        "children deleted with the campaign"
    );
}

async fn campaign_list_paginates_filters_and_is_cached_until_a_write(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Lists").await;
    let (acc, _, _, _) = seed_hierarchy(&app, &o.cred()).await;
    for (i, status) in ["ACTIVE", "PAUSED", "ACTIVE", "ACTIVE"].iter().enumerate() {
        let r = call(
            &app,
            Method::POST,
            "/api/v1/campaigns",
            &o.cred(),
            Some(json!({"ad_account_id": acc, "name": format!("C{i}"), "status": status})),
        )
        .await;
        assert_eq!(r.status, 201);
    }
    // 4 ACTIVE in all (one from the seed), newest first, 3 per page.
    let p1 = call(
        &app,
        Method::GET,
        "/api/v1/campaigns?status=ACTIVE&limit=3",
        &o.cred(),
        None,
    )
    .await;
    let names: Vec<&str> = p1
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["C3", "C2", "C0"]);
    assert_eq!(p1.body["meta"]["limit"], json!(3));
    let cursor = p1.body["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let p2 = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns?status=ACTIVE&limit=3&cursor={cursor}"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(p2.data().as_array().unwrap().len(), 1);
    assert_eq!(p2.body["meta"]["next_cursor"], json!(null));
    assert_eq!(p2.data()[0]["name"], json!("Black Friday"));

    let first = call(
        &app,
        Method::GET,
        "/api/v1/campaigns?status=ACTIVE",
        &o.cred(),
        None,
    )
    .await;
    let again = call(
        &app,
        Method::GET,
        "/api/v1/campaigns?status=ACTIVE",
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(again.header("x-cache"), Some("HIT"));
    assert_eq!(first.data(), again.data());
    assert!(again.body["meta"]["timestamp"].is_string());

    // A write drops every cached variant of the tenant's list.
    let r = call(
        &app,
        Method::POST,
        "/api/v1/campaigns",
        &o.cred(),
        Some(json!({"ad_account_id": acc, "name": "Fresh", "status": "ACTIVE"})),
    )
    .await;
    let fresh = r.data()["id"].as_str().unwrap().to_owned();
    let after = call(
        &app,
        Method::GET,
        "/api/v1/campaigns?status=ACTIVE",
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(after.header("x-cache"), Some("MISS"));
    assert_eq!(after.data()[0]["name"], json!("Fresh"));
    call(
        &app,
        Method::PATCH,
        &format!("/api/v1/campaigns/{fresh}"),
        &o.cred(),
        Some(json!({"status": "PAUSED"})),
    )
    .await;
    let after = call(
        &app,
        Method::GET,
        "/api/v1/campaigns?status=ACTIVE",
        &o.cred(),
        None,
    )
    .await;
    assert_ne!(
        after.data()[0]["name"],
        json!("Fresh"),
        "paused campaign left the ACTIVE list"
    );

    let by_account = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns?ad_account_id={acc}&limit=200"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(by_account.data().as_array().unwrap().len(), 6);
    call(
        &app,
        Method::GET,
        "/api/v1/campaigns?limit=201",
        &o.cred(),
        None,
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    call(
        &app,
        Method::GET,
        "/api/v1/campaigns?status=active",
        &o.cred(),
        None,
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
}

fn day(
    t: &TestApp,
    tenant: &str,
    acc: &str,
    camp: &str,
    date: &str,
    n: (i64, i64, &str, i64, &str),
) -> InsightDaily {
    let _ = t;
    let c = CampaignId::from_str(camp).unwrap();
    InsightDaily {
        tenant_id: TenantId::from_str(tenant).unwrap(),
        ad_account_id: AdAccountId::from_str(acc).unwrap(),
        level: InsightLevel::Campaign,
        entity_id: *c.as_uuid(),
        campaign_id: Some(c),
        date: time::Date::parse(
            date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap(),
        totals: KpiTotals {
            impressions: n.0,
            clicks: n.1,
            link_clicks: n.1 / 2,
            spend: Decimal::from_str(n.2).unwrap(),
            conversions: n.3,
            revenue: Decimal::from_str(n.4).unwrap(),
        },
        actions: json!([]),
    }
}

async fn campaign_kpis_match_hand_computed_values(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Kpis").await;
    let (acc, camp, _, _) = seed_hierarchy(&app, &o.cred()).await;
    let rows = vec![
        day(
            &t,
            &o.org_id,
            &acc,
            &camp,
            "2024-03-01",
            (1000, 20, "50.00", 2, "300.00"),
        ),
        day(
            &t,
            &o.org_id,
            &acc,
            &camp,
            "2024-03-02",
            (1809, 33, "102.37", 2, "310.00"),
        ),
        day(
            &t,
            &o.org_id,
            &acc,
            &camp,
            "2024-03-05",
            (99999, 999, "999.99", 99, "9999.99"),
        ), // outside the range
    ];
    t.adapters.db.upsert_daily(&rows).await.unwrap();
    let k = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}/kpis?from=2024-03-01&to=2024-03-04"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(k.status, 200, "{}", k.body);
    let d = k.data();
    // 2809 impressions, 53 clicks, 152.37 spend, 4 conversions, 610.00 revenue
    assert_eq!(d["impressions"], json!(2809));
    assert_eq!(d["clicks"], json!(53));
    assert_eq!(d["spend"], json!("152.37"));
    assert_eq!(d["revenue"], json!("610.00"));
    assert_eq!(d["conversions"], json!(4));
    assert_eq!(d["ctr"], json!(1.8868));
    assert_eq!(d["cpc"], json!("2.87"));
    assert_eq!(d["cpm"], json!("54.24"));
    assert_eq!(d["cpa"], json!("38.09"));
    assert_eq!(d["roas"], json!(4.0034));
    assert_eq!(d["from"], json!("2024-03-01"));

    // Meta restates a day: re-upserting replaces it instead of adding to it.
    t.adapters
        .db
        .upsert_daily(&[day(
            &t,
            &o.org_id,
            &acc,
            &camp,
            "2024-03-02",
            (1809, 33, "102.37", 3, "310.00"),
        )])
        .await
        .unwrap();
    let k = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}/kpis?from=2024-03-01&to=2024-03-04"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(k.data()["conversions"], json!(5));
    assert_eq!(k.data()["impressions"], json!(2809));

    let empty = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}/kpis?from=2023-01-01&to=2023-01-31"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(empty.data()["spend"], json!("0.00"));
    assert_eq!(
        empty.data()["ctr"],
        json!(null),
        "no impressions → undefined, not 0"
    );
    assert_eq!(empty.data()["roas"], json!(null));

    call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}/kpis?from=2024-03-05&to=2024-03-01"),
        &o.cred(),
        None,
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}/kpis?from=March"),
        &o.cred(),
        None,
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    call(
        &app,
        Method::GET,
        &format!(
            "/api/v1/campaigns/{}/kpis?from=2024-03-01&to=2024-03-04",
            uuid::Uuid::now_v7()
        ),
        &o.cred(),
        None,
    )
    .await
    .assert_error(404, "CAMPAIGN_NOT_FOUND");
    call(
        &app,
        Method::GET,
        "/api/v1/campaigns/not-a-uuid/kpis?from=2024-03-01&to=2024-03-04",
        &o.cred(),
        None,
    )
    .await
    .assert_error(400, "INVALID_PARAMETER");
}

async fn top_ads_rank_by_metric(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Top").await;
    let (acc, camp, set, ad1) = seed_hierarchy(&app, &o.cred()).await;
    let ad2 = call(
        &app,
        Method::POST,
        "/api/v1/ads",
        &o.cred(),
        Some(json!({"ad_set_id": set, "name": "Video 2", "status": "ACTIVE"})),
    )
    .await;
    let ad2 = ad2.data()["id"].as_str().unwrap().to_owned();
    let ad_row = |ad: &str, n: (i64, i64, &str, i64, &str)| {
        let mut r = day(&t, &o.org_id, &acc, &camp, "2024-05-01", n);
        r.level = InsightLevel::Ad;
        r.entity_id = uuid::Uuid::from_str(ad).unwrap();
        r
    };
    // ad1: ROAS 2, CTR 1 %, 3 conversions; ad2: ROAS 5, CTR 0.5 %, 1 conversion
    t.adapters
        .db
        .upsert_daily(&[
            ad_row(&ad1, (1000, 10, "100.00", 3, "200.00")),
            ad_row(&ad2, (2000, 10, "40.00", 1, "200.00")),
        ])
        .await
        .unwrap();
    let top =
        |metric: &str| format!("/api/v1/ads/top?metric={metric}&from=2024-05-01&to=2024-05-31");
    let by_roas = call(&app, Method::GET, &top("roas"), &o.cred(), None).await;
    assert_eq!(by_roas.status, 200, "{}", by_roas.body);
    assert_eq!(by_roas.data()[0]["ad"]["id"], json!(ad2));
    assert_eq!(by_roas.data()[0]["kpis"]["roas"], json!(5.0));
    let by_ctr = call(&app, Method::GET, &top("ctr"), &o.cred(), None).await;
    assert_eq!(by_ctr.data()[0]["ad"]["id"], json!(ad1));
    let by_conv = call(&app, Method::GET, &top("conversions"), &o.cred(), None).await;
    assert_eq!(by_conv.data()[0]["kpis"]["conversions"], json!(3));
    assert_eq!(by_conv.data().as_array().unwrap().len(), 2);
    call(
        &app,
        Method::GET,
        "/api/v1/ads/top?metric=clicks",
        &o.cred(),
        None,
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
}

async fn bad_input_is_a_4xx_and_changes_nothing(t: TestApp) {
    let app = t.service().await;
    let o = register(&app, "Bad").await;
    let (acc, camp, _, _) = seed_hierarchy(&app, &o.cred()).await;
    let bad = call(
        &app,
        Method::POST,
        "/api/v1/campaigns",
        &o.cred(),
        Some(json!({"ad_account_id": acc, "name": "", "status": "RUNNING", "daily_budget": "-5"})),
    )
    .await;
    bad.assert_error(422, "VALIDATION_FAILED");
    for f in ["name", "status", "daily_budget"] {
        assert!(
            bad.body["details"]["fields"][f].is_string(),
            "{f}: {}",
            bad.body
        );
    }
    let bad = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/campaigns/{camp}"),
        &o.cred(),
        Some(json!({"name": "ok", "daily_budget": "1.001"})),
    )
    .await;
    bad.assert_error(422, "VALIDATION_FAILED");
    let c = call(
        &app,
        Method::GET,
        &format!("/api/v1/campaigns/{camp}"),
        &o.cred(),
        None,
    )
    .await;
    assert_eq!(
        c.data()["name"],
        json!("Black Friday"),
        "a rejected patch writes nothing"
    );
    let dup = call(&app, Method::POST, "/api/v1/ad-accounts", &o.cred(), Some(json!({"name": "Again", "platform": "meta", "external_id": "act_dup", "currency": "BRL", "timezone": "UTC"}))).await;
    assert_eq!(dup.status, 201);
    call(&app, Method::POST, "/api/v1/ad-accounts", &o.cred(), Some(json!({"name": "Again", "platform": "meta", "external_id": "act_dup", "currency": "BRL", "timezone": "UTC"}))).await.assert_error(409, "AD_ACCOUNT_EXISTS");
    call(&app, Method::POST, "/api/v1/ad-accounts", &o.cred(), Some(json!({"name": "X", "platform": "tiktok", "external_id": "1", "currency": "reais", "timezone": "UTC"}))).await.assert_error(422, "VALIDATION_FAILED");
    let _ = Cred::None;
}
