//! Suggestions end to end on both backends: imported daily campaign rows
//! become gold, the evaluator turns the seed rule's firing into one pending
//! suggestion (once, however often it runs), and people read and reject it.

use std::sync::Arc;

use actix_web::http::Method;
use adscale_tests::{TestApp, call, on_both_backends, register};
use application::rules::{EvaluateRules, EvaluationCounts, EvaluationPorts};
use domain::platform::Clock;
use domain::{AdAccountId, TenantId};
use serde_json::json;
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

use crate::ingestion::{import, new_account};

on_both_backends!(the_seed_rule_suggests_pausing_a_low_ctr_campaign_once_and_it_can_be_rejected);

/// Evaluation runs on Oct 4, judging Oct 1–3.
pub(crate) struct Oct4;

impl Clock for Oct4 {
    fn now(&self) -> OffsetDateTime {
        datetime!(2026-10-04 12:00 UTC)
    }
    fn today_in(&self, _tz: &str) -> Date {
        date!(2026 - 10 - 04)
    }
}

/// One campaign over Oct 1–3: 2,000 impressions, 10 link clicks (CTR 0.5 %),
/// 30.00 spent, 3 purchases (CPA 10: fine); and a healthy one.
pub(crate) const CSV: &str = "\
Campaign name,Campaign delivery,Results,Result indicator,Cost per result,Amount spent (BRL),Impressions,Reach,Link clicks,CPC (cost per link click) (BRL),CTR (link click-through rate),Reporting starts,Reporting ends
Low CTR,active,1,actions:offsite_conversion.fb_pixel_purchase,10.00,10.00,700,600,4,2.50,0.57142857,2026-10-01,2026-10-01
Low CTR,active,1,actions:offsite_conversion.fb_pixel_purchase,10.00,10.00,700,600,3,3.33333333,0.42857143,2026-10-02,2026-10-02
Low CTR,active,1,actions:offsite_conversion.fb_pixel_purchase,10.00,10.00,600,500,3,3.33333333,0.50000000,2026-10-03,2026-10-03
Healthy,active,1,actions:offsite_conversion.fb_pixel_purchase,10.00,10.00,700,600,30,0.33333333,4.28571429,2026-10-01,2026-10-01
";

pub(crate) fn evaluator(t: &TestApp) -> EvaluateRules {
    let db = t.adapters.db.clone();
    EvaluateRules::new(EvaluationPorts {
        rules: db.clone(),
        suggestions: db.clone(),
        accounts: db.clone(),
        campaigns: db.clone(),
        ad_sets: db.clone(),
        ads: db.clone(),
        store: db,
        clock: Arc::new(Oct4),
    })
}

async fn the_seed_rule_suggests_pausing_a_low_ctr_campaign_once_and_it_can_be_rejected(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let other = register(&app, "Other").await;
    let account = new_account(&app, &owner.cred(), None).await;
    let r = import(&app, &owner.cred(), &account, CSV.as_bytes()).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);

    let tenant = TenantId::from_uuid(owner.org_id.parse().unwrap());
    let account_id = AdAccountId::from_uuid(account.parse().unwrap());
    let evaluate = evaluator(&t);
    let first = evaluate.execute(tenant, account_id).await.unwrap();
    assert_eq!(
        first,
        EvaluationCounts {
            evaluated: 2,
            created: 1
        }
    );
    let again = evaluate.execute(tenant, account_id).await.unwrap();
    assert_eq!(again.created, 0, "the same window is never suggested twice");

    let list = call(
        &app,
        Method::GET,
        "/api/v1/suggestions?status=PENDING",
        &owner.cred(),
        None,
    )
    .await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.body);
    let items = list.data().as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    let s = &items[0];
    assert_eq!(s["entity_name"], json!("Low CTR"));
    assert_eq!(
        (&s["action"], &s["level"], &s["status"], &s["rule_version"]),
        (
            &json!("PAUSE"),
            &json!("campaign"),
            &json!("PENDING"),
            &json!(1)
        )
    );
    assert_eq!(
        s["reason"],
        json!("CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 2,000 impressions)")
    );
    assert_eq!(
        s["window"],
        json!({"from": "2026-10-01", "to": "2026-10-03"})
    );
    assert_eq!(s["metrics"]["ctr"], json!(0.5));
    assert_eq!(s["metrics"]["spend"], json!("30.00"));
    assert!(s.get("proposed").is_none() && s.get("decided_by").is_none());
    let id = s["id"].as_str().unwrap().to_owned();

    let one = call(
        &app,
        Method::GET,
        &format!("/api/v1/suggestions/{id}"),
        &owner.cred(),
        None,
    )
    .await;
    assert_eq!(one.data(), s);

    // Another tenant neither sees nor rejects it.
    let url = format!("/api/v1/suggestions/{id}");
    call(&app, Method::GET, &url, &other.cred(), None)
        .await
        .assert_error(404, "SUGGESTION_NOT_FOUND");
    let reject = format!("/api/v1/suggestions/{id}/reject");
    let body = json!({"reason": "seasonal dip"});
    call(
        &app,
        Method::POST,
        &reject,
        &other.cred(),
        Some(body.clone()),
    )
    .await
    .assert_error(404, "SUGGESTION_NOT_FOUND");
    let listed = call(
        &app,
        Method::GET,
        "/api/v1/suggestions",
        &other.cred(),
        None,
    )
    .await;
    assert_eq!(listed.data(), &json!([]));

    call(&app, Method::POST, &reject, &owner.cred(), Some(json!({})))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    let r = call(
        &app,
        Method::POST,
        &reject,
        &owner.cred(),
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.data()["status"], json!("REJECTED"));
    assert!(r.data()["decided_by"].is_string() && r.data()["decided_at"].is_string());
    call(&app, Method::POST, &reject, &owner.cred(), Some(body))
        .await
        .assert_error(409, "SUGGESTION_NOT_PENDING");

    let pending = call(
        &app,
        Method::GET,
        "/api/v1/suggestions?status=PENDING",
        &owner.cred(),
        None,
    )
    .await;
    assert_eq!(pending.data(), &json!([]));
    let again = evaluate.execute(tenant, account_id).await.unwrap();
    assert_eq!(again.created, 0, "a rejected window is not suggested again");
    call(
        &app,
        Method::GET,
        "/api/v1/suggestions?status=MAYBE",
        &owner.cred(),
        None,
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
}
