//! REBALANCE rules end to end on both backends: the budget allocator's
//! moves between an account's campaigns become budget suggestions, once per
//! window; accepting them sets each budget through the Graph API; the
//! backtest replays the same moves; and a rebalance refuses what it cannot
//! do.

use actix_web::http::Method;
use adscale_tests::{Backend, call, get};
use domain::AdAccountId;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::apply::{success, suggestions, synced, update_of};
use crate::ingestion::graph_page;
use crate::suggestions::evaluator;

/// One ad's day: 1,000 impressions, 20 clicks (CTR 2 %), 20.00 spent, one
/// purchase worth `revenue` (the seed rule never fires on it).
fn day(date: &str, ad: &str, revenue: &str) -> Value {
    let n = &ad[1..];
    json!({
        "date_start": date, "date_stop": date, "account_id": "777",
        "campaign_id": format!("c{n}"), "adset_id": format!("s{n}"), "ad_id": ad,
        "impressions": "1000", "clicks": "20", "inline_link_clicks": "18", "spend": "20.00",
        "actions": [{"action_type": "purchase", "value": "1"}],
        "action_values": [{"action_type": "purchase", "value": revenue}]
    })
}

/// Account 777 with two active campaigns: c1 "Sale" (daily budget 150.00,
/// ROAS 7.5) and c2 "Brand" (100.00, ROAS 1.5), Oct 1–3.
async fn graph(server: &MockServer) {
    let get = |p: &str, data: Value| {
        Mock::given(method("GET"))
            .and(path(format!("/v21.0/act_777/{p}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(graph_page(&data, None)))
    };
    get("campaigns", json!([
        {"id": "c1", "name": "Sale", "status": "ACTIVE", "effective_status": "ACTIVE", "objective": "OUTCOME_SALES", "daily_budget": "15000"},
        {"id": "c2", "name": "Brand", "status": "ACTIVE", "effective_status": "ACTIVE", "objective": "OUTCOME_SALES", "daily_budget": "10000"}
    ])).mount(server).await;
    get("adsets", json!([
        {"id": "s1", "name": "LAL", "status": "ACTIVE", "campaign_id": "c1", "optimization_goal": "OFFSITE_CONVERSIONS"},
        {"id": "s2", "name": "Broad", "status": "ACTIVE", "campaign_id": "c2", "optimization_goal": "OFFSITE_CONVERSIONS"}
    ])).mount(server).await;
    get("ads", json!([
        {"id": "a1", "name": "Carousel", "status": "ACTIVE", "campaign_id": "c1", "adset_id": "s1", "creative": {"id": "cr1"}},
        {"id": "a2", "name": "Video", "status": "ACTIVE", "campaign_id": "c2", "adset_id": "s2", "creative": {"id": "cr2"}}
    ])).mount(server).await;
    let rows: Vec<Value> = ["2026-10-01", "2026-10-02", "2026-10-03"]
        .iter()
        .flat_map(|d| [day(d, "a1", "150.00"), day(d, "a2", "30.00")])
        .collect();
    get("insights", Value::Array(rows)).mount(server).await;
}

fn rebalance_rule() -> Value {
    json!({
        "name": "Move budget to winners",
        "level": "campaign",
        "window_days": 3,
        "action": {"type": "REBALANCE", "max_change_percent": "20", "min_budget": "10"},
    })
}

both!(
    a_rebalance_rule_suggests_moving_budget_to_the_better_roas_and_applying_sets_both_budgets,
    a_rebalance_is_campaign_level_only_and_takes_no_filters
);

async fn a_rebalance_rule_suggests_moving_budget_to_the_better_roas_and_applying_sets_both_budgets(
    backend: Backend,
) {
    let server = MockServer::start().await;
    graph(&server).await;
    // Portfolio ROAS (450 + 90) / 120 = 4.5. Brand gives its full 20 %
    // (20.00); Sale could take 30.00 but only 20.00 is on offer.
    update_of("c1", "daily_budget=17000", success())
        .expect(1)
        .mount(&server)
        .await;
    update_of("c2", "daily_budget=8000", success())
        .expect(1)
        .mount(&server)
        .await;
    let (t, owner, account, tenant) = synced(backend, &server, "2026-10-01", "2026-10-03").await;
    let app = t.service().await;
    let r = call(
        &app,
        Method::POST,
        "/api/v1/rules",
        &owner,
        Some(rebalance_rule()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rule = r.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&r.data()["conditions"], &r.data()["action"]),
        (
            &json!({"any": []}),
            &json!({"type": "REBALANCE", "max_change_percent": "20", "min_budget": "10"})
        )
    );

    let id = AdAccountId::from_uuid(account.parse().unwrap());
    let first = evaluator(&t).execute(tenant, id).await.unwrap();
    assert_eq!(first.created, 2);
    let again = evaluator(&t).execute(tenant, id).await.unwrap();
    assert_eq!(
        again.created, 0,
        "one suggestion per rule, campaign and window"
    );

    let mut list = suggestions(&app, &owner).await;
    list.sort_by_key(|s| s["entity_name"].as_str().unwrap().to_owned());
    let moves: Vec<(&Value, &Value, &Value)> = list
        .iter()
        .map(|s| (&s["entity_name"], &s["action"], &s["proposed"]))
        .collect();
    assert_eq!(
        moves,
        [
            (
                &json!("Brand"),
                &json!("BUDGET_DOWN"),
                &json!({"from": "100.00", "to": "80.00"})
            ),
            (
                &json!("Sale"),
                &json!("BUDGET_UP"),
                &json!({"from": "150.00", "to": "170.00"})
            ),
        ],
        "{list:?}"
    );
    assert_eq!(list[1]["rule_id"], json!(rule));
    assert_eq!(
        list[1]["reason"],
        json!(
            "ROAS 7.50 vs portfolio 4.50 (3 conversions): +13.33 % (150.00 → 170.00), judged over the last 3 days"
        )
    );

    for s in &list {
        let accept = format!("/api/v1/suggestions/{}/accept", s["id"].as_str().unwrap());
        let r = call(&app, Method::POST, &accept, &owner, None).await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    assert_eq!(t.apply.run_once().await.unwrap(), 2);
    let budgets = get(&app, &owner, "/api/v1/campaigns?sort=name").await;
    let budgets: Vec<(&Value, &Value)> = budgets
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (&c["name"], &c["daily_budget"]))
        .collect();
    assert!(
        budgets.contains(&(&json!("Sale"), &json!("170.00")))
            && budgets.contains(&(&json!("Brand"), &json!("80.00"))),
        "{budgets:?}"
    );

    // The backtest replays the same moves on the run day Oct 4 (today's
    // budgets: after applying, the same ROAS gap moves 16.00 more).
    let url = format!("/api/v1/rules/{rule}/backtest?from=2026-10-04&to=2026-10-04");
    let b = call(&app, Method::POST, &url, &owner, None).await;
    assert_eq!(b.status, 200, "{}", b.body);
    let replayed = &b.data()["days"][0]["suggestions"];
    let names: Vec<(&Value, &Value)> = replayed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (&s["entity_name"], &s["action"]))
        .collect();
    assert_eq!(
        names,
        [
            (&json!("Brand"), &json!("BUDGET_DOWN")),
            (&json!("Sale"), &json!("BUDGET_UP"))
        ],
        "{replayed}"
    );
    assert_eq!(b.data()["totals"]["suggestions"], json!(2));
}

async fn a_rebalance_is_campaign_level_only_and_takes_no_filters(backend: Backend) {
    let server = MockServer::start().await;
    graph(&server).await;
    let (t, owner, _account, _tenant) = synced(backend, &server, "2026-10-01", "2026-10-03").await;
    let app = t.service().await;
    let mut bad = rebalance_rule();
    bad["level"] = json!("ad_set");
    bad["conditions"] = json!({"any": [{"metric": "roas", "op": "lt", "value": "1"}]});
    bad["action"]["max_change_percent"] = json!("150");
    bad["action"]["percent"] = json!("5");
    let r = call(&app, Method::POST, "/api/v1/rules", &owner, Some(bad)).await;
    r.assert_error(422, "VALIDATION_FAILED");
    let fields = &r.body["details"]["fields"];
    for field in [
        "level",
        "conditions.any",
        "action.max_change_percent",
        "action.percent",
    ] {
        assert!(fields.get(field).is_some(), "{field} in {fields}");
    }
    let rules = get(&app, &owner, "/api/v1/rules").await;
    assert_eq!(
        rules.data().as_array().unwrap().len(),
        1,
        "only the seed: nothing half-written"
    );
}
