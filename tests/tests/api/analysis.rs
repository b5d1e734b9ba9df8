//! The Analyzer and rule backtests end to end on both backends: imported
//! daily campaign rows become gold; the backtest replays the seed rule to
//! exactly the suggestion live evaluation makes; anomalies, scores, trends
//! and budget proposals are read from that gold, per tenant, writing nothing.

use actix_web::http::Method;
use adscale_tests::{Cred, Reply, Tenant, TestApp, call, get, on_both_backends, register};
use domain::{AdAccountId, TenantId};
use serde_json::{Value, json};
use time::Duration;
use time::macros::date;

use crate::ingestion::{import, new_account};
use crate::suggestions::{CSV as SUGGESTION_CSV, evaluator};

on_both_backends!(
    backtest_replays_the_seed_rule_to_the_suggestion_live_evaluation_made_and_writes_nothing,
    backtest_refuses_bad_ranges_and_hides_foreign_unknown_or_deleted_rules,
    anomalies_find_exactly_the_injected_spend_spike,
    an_anomaly_found_after_every_sync_is_alerted_once,
    scores_rank_campaigns_against_the_account_baseline_with_their_factors,
    trends_show_a_steady_rise_as_significant_and_a_constant_metric_as_flat,
    budget_allocation_moves_budget_toward_high_roas_within_limits_and_changes_nothing,
    analysis_needs_an_own_ad_account_and_valid_parameters,
);

/// The organization's seed rule id.
async fn seed_rule<S, B>(app: &S, owner: &Tenant) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let rules = get(app, &owner.cred(), "/api/v1/rules").await;
    let items = rules.data().as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    items[0]["id"].as_str().unwrap().to_owned()
}

fn fields(r: &Reply) -> Vec<String> {
    r.body["details"]["fields"]
        .as_object()
        .map(|f| f.keys().cloned().collect())
        .unwrap_or_default()
}

async fn backtest_replays_the_seed_rule_to_the_suggestion_live_evaluation_made_and_writes_nothing(
    t: TestApp,
) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let account = new_account(&app, &owner.cred(), None).await;
    let r = import(&app, &owner.cred(), &account, SUGGESTION_CSV.as_bytes()).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let rule = seed_rule(&app, &owner).await;

    // Live: the evaluation running on Oct 4 judges Oct 1–3.
    let tenant = TenantId::from_uuid(owner.org_id.parse().unwrap());
    let account_id = AdAccountId::from_uuid(account.parse().unwrap());
    let made = evaluator(&t).execute(tenant, account_id).await.unwrap();
    assert_eq!(made.created, 1);
    let live = get(&app, &owner.cred(), "/api/v1/suggestions").await;
    let live = live.data()[0].clone();

    // Replayed by a viewer: any member may run it.
    let viewer = call(
        &app,
        Method::POST,
        "/api/v1/api-keys",
        &owner.cred(),
        Some(json!({"name": "viewer key", "role": "viewer"})),
    )
    .await;
    assert_eq!(viewer.status.as_u16(), 201, "{}", viewer.body);
    let viewer = Cred::ApiKey(viewer.data()["key"].as_str().unwrap().to_owned());
    let url = format!("/api/v1/rules/{rule}/backtest?from=2026-10-01&to=2026-10-06");
    let r = call(&app, Method::POST, &url, &viewer, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let b = r.data();
    assert_eq!(
        (&b["rule_id"], &b["version"], &b["from"], &b["to"]),
        (
            &json!(rule),
            &json!(1),
            &json!("2026-10-01"),
            &json!("2026-10-06")
        )
    );
    // Low CTR's rows: Oct 1 700 impressions, Oct 2 700, Oct 3 600. Runs on
    // Oct 3 (Sep 30–Oct 2: 1,400), Oct 4 (Oct 1–3: 2,000) and Oct 5 (Oct
    // 2–4: 1,300) pass the 1,000-impression guard with CTR ≤ 0.5 %; Oct 2
    // and Oct 6 see 700 and 600; Healthy never has 1,000.
    let days: Vec<&Value> = b["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["date"])
        .collect();
    assert_eq!(
        days,
        [
            &json!("2026-10-03"),
            &json!("2026-10-04"),
            &json!("2026-10-05")
        ]
    );
    let oct4 = &b["days"][1]["suggestions"];
    assert_eq!(oct4.as_array().unwrap().len(), 1, "{oct4}");
    let replayed = &oct4[0];
    for key in [
        "entity_id",
        "entity_name",
        "action",
        "window",
        "metrics",
        "reason",
    ] {
        assert_eq!(
            replayed[key], live[key],
            "{key} differs: {replayed} vs {live}"
        );
    }
    assert_eq!(
        replayed["reason"],
        json!("CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 2,000 impressions)")
    );
    assert_eq!(replayed["spend"], json!("30.00"));
    assert_eq!(
        b["totals"],
        json!({"suggestions": 3, "spend_affected": "70.00"})
    );

    // Narrowed to the account: the same; to another (empty) account: nothing.
    let narrowed = call(
        &app,
        Method::POST,
        &format!("{url}&ad_account_id={account}"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(narrowed.data()["days"], b["days"]);
    assert_eq!(narrowed.data()["ad_account_id"], json!(account));
    let empty = new_account(&app, &owner.cred(), None).await;
    let other = call(
        &app,
        Method::POST,
        &format!("{url}&ad_account_id={empty}"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(other.data()["days"], json!([]));
    assert_eq!(other.data()["totals"]["suggestions"], json!(0));

    // Nothing was written: still the one live suggestion.
    let after = get(&app, &owner.cred(), "/api/v1/suggestions").await;
    assert_eq!(after.data().as_array().unwrap().len(), 1);
}

async fn backtest_refuses_bad_ranges_and_hides_foreign_unknown_or_deleted_rules(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let stranger = register(&app, "Other").await;
    let rule = seed_rule(&app, &owner).await;
    let their_account = new_account(&app, &stranger.cred(), None).await;
    let post = |url: String, cred: Cred| {
        let app = &app;
        async move { call(app, Method::POST, &url, &cred, None).await }
    };
    let ok = "from=2026-10-01&to=2026-10-06";

    let r = post(format!("/api/v1/rules/{rule}/backtest?{ok}"), owner.cred()).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    post(
        format!("/api/v1/rules/{rule}/backtest?{ok}"),
        stranger.cred(),
    )
    .await
    .assert_error(404, "RULE_NOT_FOUND");
    let unknown = uuid::Uuid::now_v7();
    post(
        format!("/api/v1/rules/{unknown}/backtest?{ok}"),
        owner.cred(),
    )
    .await
    .assert_error(404, "RULE_NOT_FOUND");
    post(format!("/api/v1/rules/nope/backtest?{ok}"), owner.cred())
        .await
        .assert_error(400, "INVALID_PARAMETER");
    post(
        format!("/api/v1/rules/{rule}/backtest?{ok}&ad_account_id={their_account}"),
        owner.cred(),
    )
    .await
    .assert_error(404, "AD_ACCOUNT_NOT_FOUND");

    for (query, field) in [
        ("from=2026-10-01", "to"),
        ("to=2026-10-01", "from"),
        ("from=2026-10-07&to=2026-10-06", "from"),
        ("from=2025-01-01&to=2026-01-02", "to"),
        ("from=01/10/2026&to=2026-10-06", "from"),
    ] {
        let r = post(
            format!("/api/v1/rules/{rule}/backtest?{query}"),
            owner.cred(),
        )
        .await;
        r.assert_error(422, "VALIDATION_FAILED");
        assert_eq!(fields(&r), [field], "{query}: {}", r.body);
    }
    // A year (366 days with a leap day) is allowed.
    let r = post(
        format!("/api/v1/rules/{rule}/backtest?from=2024-01-01&to=2024-12-31"),
        owner.cred(),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    let d = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/rules/{rule}"),
        &owner.cred(),
        None,
    )
    .await;
    assert_eq!(d.status.as_u16(), 204, "{}", d.body);
    post(format!("/api/v1/rules/{rule}/backtest?{ok}"), owner.cred())
        .await
        .assert_error(404, "RULE_NOT_FOUND");
}

/// Twenty-nine days, Sep 3 to Oct 1, of five campaigns:
/// - Spiky: spend 100, 102, 98, 101, 99, 103, 97 week after week (median
///   100, MAD 2), then 150.00 on Oct 1; 5,000 impressions, 100 clicks and
///   no purchases every day, so CTR and conversions never move and CPA is
///   undefined.
/// - Calm: the same weeks, 100.00 on Oct 1.
/// - Rising: spend 50.00 + 5.00 a day (190.00 on Oct 1), CTR constant.
/// - Winner: 50.00, 4,000 impressions, 80 clicks, 2 purchases worth 400.00
///   every day (ROAS 8).
/// - Loser: 50.00, 4,000 impressions, 40 clicks, 1 purchase worth 50.00
///   (ROAS 1).
fn history_csv() -> String {
    let week = [100, 102, 98, 101, 99, 103, 97];
    let mut csv = String::from(
        "Campaign name,Campaign delivery,Day,Amount spent (BRL),Impressions,Link clicks,Purchases,Purchases conversion value\n",
    );
    for i in 0..29_usize {
        let day = date!(2026 - 09 - 03) + Duration::days(i as i64);
        let spiky = if i == 28 { 150 } else { week[i % 7] };
        let rising = 50 + 5 * i;
        csv.push_str(&format!("Spiky,active,{day},{spiky}.00,5000,100,0,0\n"));
        csv.push_str(&format!(
            "Calm,active,{day},{}.00,5000,100,0,0\n",
            week[i % 7]
        ));
        csv.push_str(&format!("Rising,active,{day},{rising}.00,5000,100,0,0\n"));
        csv.push_str(&format!("Winner,active,{day},50.00,4000,80,2,400.00\n"));
        csv.push_str(&format!("Loser,active,{day},50.00,4000,40,1,50.00\n"));
    }
    csv
}

/// An organization with an account holding [`history_csv`]'s gold.
async fn seeded<S, B>(app: &S, org: &str) -> (Tenant, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let owner = register(app, org).await;
    let account = new_account(app, &owner.cred(), None).await;
    let r = import(app, &owner.cred(), &account, history_csv().as_bytes()).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    assert_eq!(
        r.data()["sync_run"]["counts"]["insights"],
        json!(145),
        "{}",
        r.body
    );
    (owner, account)
}

/// The entry of `list` whose `key` is `name`.
fn named<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v[key] == json!(name))
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

async fn anomalies_find_exactly_the_injected_spend_spike(t: TestApp) {
    let app = t.service().await;
    let (owner, account) = seeded(&app, "Acme").await;

    let r = get(
        &app,
        &owner.cred(),
        &format!("/api/v1/analysis/anomalies?ad_account_id={account}&date=2026-10-01"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let d = r.data();
    assert_eq!(d["date"], json!("2026-10-01"));
    assert_eq!(
        d["history"],
        json!({"from": "2026-09-03", "to": "2026-09-30"})
    );
    let found = d["anomalies"].as_array().unwrap();
    assert_eq!(found.len(), 1, "exactly the spike: {found:?}");
    let a = &found[0];
    assert_eq!(a["campaign_name"], json!("Spiky"));
    assert_eq!(
        (&a["metric"], &a["direction"], &a["history_days"]),
        (&json!("spend"), &json!("up"), &json!(28))
    );
    // z = (150 − 100) / (2 × 1.4826); range 100 ± 3.5 × 2.9652.
    assert_eq!(a["value"], json!("150.00"));
    assert_eq!(a["median"], json!("100.00"));
    assert_eq!(
        a["expected_range"],
        json!({"low": "89.62", "high": "110.38"})
    );
    assert_eq!(a["z_score"], json!(16.8623));

    // The day before is normal for everyone.
    let r = get(
        &app,
        &owner.cred(),
        &format!("/api/v1/analysis/anomalies?ad_account_id={account}&date=2026-09-30"),
    )
    .await;
    assert_eq!(r.data()["anomalies"], json!([]));
}

async fn scores_rank_campaigns_against_the_account_baseline_with_their_factors(t: TestApp) {
    let app = t.service().await;
    let (owner, account) = seeded(&app, "Acme").await;
    let r = get(
        &app,
        &owner.cred(),
        &format!("/api/v1/analysis/scores?ad_account_id={account}&from=2026-09-03&to=2026-10-01"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let d = r.data();
    assert_eq!(
        (&d["from"], &d["to"]),
        (&json!("2026-09-03"), &json!("2026-10-01"))
    );
    // Account: 13,050.00 revenue over 12,230.00 spend → ROAS 1.067.
    assert_eq!(d["baseline"]["spend"], json!("12230.00"));
    assert_eq!(d["baseline"]["roas"], json!(1.067));
    let campaigns = &d["campaigns"];
    assert_eq!(campaigns.as_array().unwrap().len(), 5);
    assert_eq!(
        campaigns[0]["campaign_name"],
        json!("Winner"),
        "best first: {campaigns}"
    );
    let winner = named(campaigns, "campaign_name", "Winner");
    let loser = named(campaigns, "campaign_name", "Loser");
    let (w, l) = (
        winner["score"].as_u64().unwrap(),
        loser["score"].as_u64().unwrap(),
    );
    assert!(w > 50 && w > l, "winner {w}, loser {l}");
    let top = &winner["factors"][0];
    assert_eq!(
        (&top["metric"], &top["value"], &top["baseline"]),
        (&json!("roas"), &json!("8"), &json!("1.067"))
    );
    assert_eq!(
        top["points"],
        json!(100.0),
        "ROAS 7.5× the account's caps at 100"
    );
    let contributions: f64 = winner["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["contribution"].as_f64().unwrap())
        .sum();
    assert_eq!((50.0 + contributions).round() as u64, w);
    let weights: f64 = winner["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["weight"].as_f64().unwrap())
        .sum();
    assert!((weights - 1.0).abs() < 1e-3, "{weights}");
    // No purchases: ROAS and CPA are left out, the score rests on CTR and CPC.
    let calm = named(campaigns, "campaign_name", "Calm");
    assert_eq!(calm["dropped"], json!(["roas", "cpa"]));
    assert_eq!(calm["factors"].as_array().unwrap().len(), 2);
}

async fn trends_show_a_steady_rise_as_significant_and_a_constant_metric_as_flat(t: TestApp) {
    let app = t.service().await;
    let (owner, account) = seeded(&app, "Acme").await;
    let r = get(
        &app,
        &owner.cred(),
        &format!("/api/v1/analysis/trends?ad_account_id={account}&metric=spend&date=2026-10-01"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let d = r.data();
    assert_eq!(d["metrics"], json!(["spend"]));
    let trends = d["trends"].as_array().unwrap();
    let of = |name: &str| -> Vec<&Value> {
        trends
            .iter()
            .filter(|t| t["campaign_name"] == json!(name))
            .collect()
    };
    let rising = of("Rising");
    assert_eq!(rising.len(), 2, "{trends:?}");
    assert_eq!(
        (&rising[0]["days"], &rising[1]["days"]),
        (&json!(7), &json!(14))
    );
    for t in &rising {
        assert_eq!(t["metric"], json!("spend"));
        assert_eq!(t["direction"], json!("up"), "{t}");
        assert_eq!(t["slope_per_day"], json!(5.0));
        assert_eq!(t["significant"], json!(true));
        assert!(t["p_value"].as_f64().unwrap() < 0.05);
    }
    assert_eq!(
        rising[0]["window"],
        json!({"from": "2026-09-25", "to": "2026-10-01"})
    );
    for t in of("Winner") {
        assert_eq!(
            (&t["direction"], &t["p_value"], &t["slope_per_day"]),
            (&json!("flat"), &json!(1.0), &json!(0.0))
        );
    }
    // Without a metric, all four are fitted.
    let all = get(
        &app,
        &owner.cred(),
        &format!("/api/v1/analysis/trends?ad_account_id={account}&date=2026-10-01"),
    )
    .await;
    assert_eq!(
        all.data()["metrics"],
        json!(["spend", "cpa", "ctr", "conversions"])
    );
}

async fn budget_allocation_moves_budget_toward_high_roas_within_limits_and_changes_nothing(
    t: TestApp,
) {
    let app = t.service().await;
    let (owner, account) = seeded(&app, "Acme").await;
    let list = get(
        &app,
        &owner.cred(),
        &format!("/api/v1/campaigns?ad_account_id={account}"),
    )
    .await;
    let campaigns = list.data().clone();
    let mut ids = Vec::new();
    for name in ["Winner", "Loser"] {
        let id = named(&campaigns, "name", name)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            &owner.cred(),
            Some(json!({"daily_budget": "100.00"})),
        )
        .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        ids.push(id);
    }
    let base = format!(
        "/api/v1/analysis/budget-allocation?ad_account_id={account}&from=2026-09-03&to=2026-10-01"
    );
    let r = get(&app, &owner.cred(), &base).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let d = r.data();
    // Only campaigns with a daily budget; ROAS 8 and 1 around 4.5 together.
    assert_eq!(d["portfolio_roas"], json!(4.5));
    assert_eq!(d["max_change_percent"], json!("20"));
    let lines: Vec<(&Value, &Value, &Value, &Value)> = d["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                &l["campaign_name"],
                &l["current_daily_budget"],
                &l["proposed_daily_budget"],
                &l["change_percent"],
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                &json!("Loser"),
                &json!("100.00"),
                &json!("80.00"),
                &json!("-20")
            ),
            (
                &json!("Winner"),
                &json!("100.00"),
                &json!("120.00"),
                &json!("20")
            ),
        ]
    );
    assert_eq!(
        (&d["total_current"], &d["total_proposed"]),
        (&json!("200.00"), &json!("200.00"))
    );
    let winner = named(&d["campaigns"], "campaign_name", "Winner");
    assert_eq!(
        winner["reason"],
        json!("ROAS 8.00 vs portfolio 4.50 (58 conversions): +20 % (100.00 → 120.00)")
    );

    // Tighter limits: 10 % at most, and Loser cannot go under 95.00.
    let r = get(
        &app,
        &owner.cred(),
        &format!("{base}&max_change_percent=10&min_budget=95"),
    )
    .await;
    let proposed: Vec<&Value> = r.data()["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["proposed_daily_budget"])
        .collect();
    assert_eq!(proposed, [&json!("95.00"), &json!("105.00")]);

    // A proposal only: the budgets are what they were.
    for id in &ids {
        let c = get(&app, &owner.cred(), &format!("/api/v1/campaigns/{id}")).await;
        assert_eq!(c.data()["daily_budget"], json!("100.00"));
    }
    for (query, field) in [
        ("max_change_percent=0", "max_change_percent"),
        ("max_change_percent=101", "max_change_percent"),
        ("min_budget=ten", "min_budget"),
        ("min_budget=-1", "min_budget"),
    ] {
        let r = get(&app, &owner.cred(), &format!("{base}&{query}")).await;
        r.assert_error(422, "VALIDATION_FAILED");
        assert_eq!(fields(&r), [field], "{query}");
    }
}

async fn analysis_needs_an_own_ad_account_and_valid_parameters(t: TestApp) {
    let app = t.service().await;
    let (owner, account) = seeded(&app, "Acme").await;
    let stranger = register(&app, "Other").await;
    let paths = ["scores", "anomalies", "trends", "budget-allocation"];
    for path in paths {
        let url = format!("/api/v1/analysis/{path}?ad_account_id={account}");
        let r = get(&app, &owner.cred(), &url).await;
        assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.body);
        assert_eq!(r.data()["ad_account_id"], json!(account));
        get(&app, &stranger.cred(), &url)
            .await
            .assert_error(404, "AD_ACCOUNT_NOT_FOUND");
        let unknown = uuid::Uuid::now_v7();
        get(
            &app,
            &owner.cred(),
            &format!("/api/v1/analysis/{path}?ad_account_id={unknown}"),
        )
        .await
        .assert_error(404, "AD_ACCOUNT_NOT_FOUND");
        let missing = get(&app, &owner.cred(), &format!("/api/v1/analysis/{path}")).await;
        missing.assert_error(422, "VALIDATION_FAILED");
        assert_eq!(fields(&missing), ["ad_account_id"], "{path}");
        get(
            &app,
            &owner.cred(),
            &format!("/api/v1/analysis/{path}?ad_account_id=nope"),
        )
        .await
        .assert_error(400, "INVALID_PARAMETER");
        get(&app, &Cred::None, &url)
            .await
            .assert_error(401, "UNAUTHORIZED");
    }
    for (query, field) in [
        ("anomalies?date=2026-02-30", "date"),
        ("trends?metric=roas", "metric"),
        ("trends?date=yesterday", "date"),
        ("scores?from=2026-10-02&to=2026-10-01", "from"),
        ("scores?from=2024-01-01&to=2026-10-01", "to"),
        ("budget-allocation?to=2026-13-01", "to"),
    ] {
        let (path, params) = query.split_once('?').unwrap();
        let r = get(
            &app,
            &owner.cred(),
            &format!("/api/v1/analysis/{path}?ad_account_id={account}&{params}"),
        )
        .await;
        r.assert_error(422, "VALIDATION_FAILED");
        assert_eq!(fields(&r), [field], "{query}: {}", r.body);
    }
}

/// Oct 2: yesterday is the spike's day.
struct Oct2;

impl domain::platform::Clock for Oct2 {
    fn now(&self) -> time::OffsetDateTime {
        time::macros::datetime!(2026-10-02 09:00 UTC)
    }
    fn today_in(&self, _tz: &str) -> time::Date {
        date!(2026 - 10 - 02)
    }
}

async fn an_anomaly_found_after_every_sync_is_alerted_once(t: TestApp) {
    use application::analysis::{AnomalyAlerts, DetectAnomalies, GoldReader};
    use std::sync::Arc;

    let app = t.service().await;
    let (owner, account) = seeded(&app, "Acme").await;
    let db = t.adapters.db.clone();
    let clock = Arc::new(Oct2);
    let gold = GoldReader::new(
        db.clone(),
        db.clone(),
        db.clone(),
        db.clone(),
        clock.clone(),
    );
    let alerts = AnomalyAlerts::new(Arc::new(DetectAnomalies::new(gold)), db, clock);
    let tenant = TenantId::from_uuid(owner.org_id.parse().unwrap());
    let id = AdAccountId::from_uuid(account.parse().unwrap());

    // Every sync of the day judges yesterday again: one alert all the same.
    assert_eq!(alerts.execute(tenant, id).await.unwrap(), 1);
    assert_eq!(alerts.execute(tenant, id).await.unwrap(), 1);
    let r = get(&app, &owner.cred(), "/api/v1/alerts?kind=anomaly.detected").await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let list = r.data().as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        list[0]["title"],
        json!("Anomaly: spend of campaign \"Spiky\" is above its usual range on 2026-10-01")
    );
    assert_eq!(list[0]["severity"], json!("warning"));
}
