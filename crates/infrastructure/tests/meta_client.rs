//! `MetaGraphClient` against a wiremock Graph API, built on the real-format
//! fixtures in `fixtures/meta/` (origins in each `.source.txt`). A fake
//! clock records every wait instead of sleeping. The Redis throttle store
//! test uses the real Redis at `TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`) with its own random key prefix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use domain::actions::ResultAction;
use domain::ads::{Currency, DateRange, EntityStatus};
use domain::ingestion::{
    AccessToken, AdsPlatform, FetchedPage, PageToken, PlatformAccount, PlatformError,
};
use domain::kpi::KpiTotals;
use infrastructure::clock::Sleeper;
use infrastructure::meta::client::{MetaConfig, MetaGraphClient};
use infrastructure::meta::throttle::{MemoryThrottleStore, RedisThrottleStore, ThrottleStore};
use infrastructure::redis_pool::{RedisBreaker, redis_pool};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::macros::date;
use wiremock::matchers::{
    bearer_token, body_string, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "EAAB-FAKE-SECRET-TOKEN-4242";
const ACT: &str = "111111111111111";
const RUN: &str = "1571860060019548";
const CAMPAIGN_FIELDS: &str =
    "id,name,status,effective_status,objective,daily_budget,lifetime_budget";
const INSIGHT_FIELDS: &str = "date_start,date_stop,account_id,campaign_id,adset_id,ad_id,impressions,clicks,inline_link_clicks,spend,actions,action_values,cost_per_action_type";

// ------------------------------------------------------------------ helpers

fn fixture(name: &str) -> Value {
    let file = format!("{}/tests/fixtures/meta/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// A clock that only moves when the client sleeps, recording each sleep.
struct FakeClock {
    now: Mutex<SystemTime>,
    sleeps: Mutex<Vec<Duration>>,
}

impl FakeClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            now: Mutex::new(SystemTime::now()),
            sleeps: Mutex::new(Vec::new()),
        })
    }
    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
    fn advance(&self, d: Duration) {
        *self.now.lock().unwrap() += d;
    }
}

#[async_trait]
impl Sleeper for FakeClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap()
    }
    async fn sleep(&self, d: Duration) {
        self.sleeps.lock().unwrap().push(d);
        self.advance(d);
    }
}

fn config(server: &MockServer) -> MetaConfig {
    MetaConfig {
        base_url: server.uri(),
        page_limit: 100,
        retries: 2,
        backoff_base: Duration::from_secs(1),
        backoff_max: Duration::from_secs(10),
        throttle_backoff: Duration::from_secs(60),
        poll_interval: Duration::from_secs(2),
        breaker_threshold: 3,
        breaker_cooldown: Duration::from_secs(30),
        ..MetaConfig::default()
    }
}

struct Harness {
    server: MockServer,
    client: MetaGraphClient,
    clock: Arc<FakeClock>,
}

async fn harness() -> Harness {
    let server = MockServer::start().await;
    let clock = FakeClock::new();
    let client = MetaGraphClient::new(
        config(&server),
        Arc::new(MemoryThrottleStore::new()),
        clock.clone(),
    )
    .unwrap();
    Harness {
        server,
        client,
        clock,
    }
}

impl Harness {
    async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap()
    }
}

fn account(currency: &str) -> PlatformAccount {
    PlatformAccount {
        external_id: ACT.to_owned(),
        token: AccessToken::new(TOKEN),
        currency: Currency::parse(currency).unwrap(),
        result_action: ResultAction::purchases(),
    }
}

fn v(p: &str) -> String {
    format!("/v21.0/{p}")
}

/// One case of `graph_errors.json` as a response (status, body, headers).
fn graph_error(case: &str) -> ResponseTemplate {
    let e = &fixture("graph_errors.json")[case];
    let mut r = ResponseTemplate::new(u16::try_from(e["http_status"].as_u64().unwrap()).unwrap())
        .set_body_json(&e["body"]);
    if let Some(h) = e.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            r = r.insert_header(k.as_str(), v.as_str().unwrap());
        }
    }
    r
}

fn buc_header(minutes: u32) -> String {
    json!({ ACT: [{"type": "ads_management", "call_count": 100, "total_cputime": 20,
        "total_time": 20, "estimated_time_to_regain_access": minutes}] })
    .to_string()
}

/// A Graph listing page; `next` as Graph sends it (host, version, token).
fn page(data: &[Value], next: Option<&str>) -> Value {
    let mut paging = json!({"cursors": {"before": "MAZDZD", "after": "QVFI"}});
    if let Some(n) = next {
        paging["next"] = json!(n);
    }
    json!({"data": data, "paging": paging})
}

fn ok(body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn sum(rows: &[domain::ingestion::PlatformInsight]) -> KpiTotals {
    rows.iter().fold(KpiTotals::default(), |a, r| KpiTotals {
        impressions: a.impressions + r.totals.impressions,
        clicks: a.clicks + r.totals.clicks,
        link_clicks: a.link_clicks + r.totals.link_clicks,
        spend: a.spend + r.totals.spend,
        conversions: a.conversions + r.totals.conversions,
        revenue: a.revenue + r.totals.revenue,
    })
}

/// The fixture's hand-checked totals (see insights_daily_ad_level.source.txt).
fn fixture_totals() -> KpiTotals {
    KpiTotals {
        impressions: 356,
        clicks: 16,
        link_clicks: 13,
        spend: d("22.88"),
        conversions: 2,
        revenue: d("389.80"),
    }
}

async fn campaigns_to_the_end(
    client: &MetaGraphClient,
    acc: &PlatformAccount,
) -> Vec<FetchedPage<domain::ingestion::PlatformCampaign>> {
    let mut pages = Vec::new();
    let mut next = None;
    for _ in 0..10 {
        let p = client.campaigns(acc, next.take()).await.unwrap();
        next = p.next.clone();
        pages.push(p);
        if next.is_none() {
            return pages;
        }
    }
    panic!("paging never ended");
}

/// Every request carried the token in the header and nowhere else.
fn token_only_in_header(requests: &[wiremock::Request]) {
    for r in requests {
        assert!(!r.url.as_str().contains(TOKEN), "token in {}", r.url);
        assert!(r.url.query_pairs().all(|(k, _)| k != "access_token"));
        assert!(!String::from_utf8_lossy(&r.body).contains(TOKEN));
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
    }
}

// ------------------------------------------------------------------ listings

#[tokio::test]
async fn campaigns_are_paged_to_the_end_across_an_empty_page_that_still_has_next() {
    let h = harness().await;
    let listing = v(&format!("act_{ACT}/campaigns"));
    // Page 1: the fixture as is; its `next` points at graph.facebook.com and
    // carries access_token=FAKE_ACCESS_TOKEN.
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .and(bearer_token(TOKEN))
        .and(query_param("fields", CAMPAIGN_FIELDS))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("after"))
        .respond_with(ok(&fixture("campaigns_page.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    let next2 = format!(
        "https://graph.facebook.com/v21.0/act_{ACT}/campaigns?fields=id&limit=100&access_token=FAKE_ACCESS_TOKEN&after=PAGE3"
    );
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .and(query_param("after", "QVFIUlhOX3Rnbm5Y"))
        .and(query_param_is_missing("access_token"))
        .respond_with(ok(&page(&[], Some(&next2))))
        .expect(1)
        .mount(&h.server)
        .await;
    let campaign = json!({"id": "23850000000000001", "name": "Black Friday", "status": "ACTIVE",
        "effective_status": "WITH_ISSUES", "objective": "OUTCOME_SALES",
        "daily_budget": "15000", "lifetime_budget": "0"});
    Mock::given(method("GET"))
        .and(path(listing))
        .and(query_param("after", "PAGE3"))
        .and(query_param_is_missing("access_token"))
        .respond_with(ok(&page(&[campaign], None)))
        .expect(1)
        .mount(&h.server)
        .await;

    let pages = campaigns_to_the_end(&h.client, &account("BRL")).await;

    assert_eq!(pages.len(), 3);
    assert!(pages[1].items.is_empty() && pages[1].next.is_some());
    let items: Vec<_> = pages.iter().flat_map(|p| p.items.clone()).collect();
    assert_eq!(items.len(), 2);
    // Fixture row: `status` ARCHIVED wins over effective_status ACTIVE.
    assert_eq!(items[0].external_id, "0000000000000000");
    assert_eq!(items[0].status, EntityStatus::Archived);
    assert_eq!(items[0].objective.as_deref(), Some("OUTCOME_AWARENESS"));
    assert_eq!(
        (items[0].daily_budget, items[0].lifetime_budget),
        (None, None)
    );
    assert_eq!(items[1].status, EntityStatus::Active);
    assert_eq!(items[1].daily_budget, Some(d("150.00")));
    assert_eq!(items[1].lifetime_budget, None);
    for p in &pages {
        assert_eq!(p.api_calls, 1);
        assert_eq!(p.raw.endpoint, format!("act_{ACT}/campaigns"));
        assert!(p.raw.params.get("access_token").is_none());
    }
    assert_eq!(pages[0].raw.params["fields"], CAMPAIGN_FIELDS);
    assert_eq!(pages[1].raw.params["after"], "QVFIUlhOX3Rnbm5Y");
    assert_eq!(
        serde_json::from_str::<Value>(&pages[0].raw.body).unwrap()["data"],
        fixture("campaigns_page.json")["data"]
    );
    assert!(!pages[0].raw.body.to_string().contains("access_token"));
    let requests = h.requests().await;
    assert_eq!(requests.len(), 3, "the next URL's host is not followed");
    token_only_in_header(&requests);
}

#[tokio::test]
async fn ad_sets_and_ads_convert_the_airbyte_fixtures() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(v(&format!("act_{ACT}/adsets"))))
        .and(query_param(
            "fields",
            "id,name,status,effective_status,campaign_id,daily_budget,lifetime_budget,optimization_goal",
        ))
        .respond_with(ok(&fixture("adsets.json")))
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(v(&format!("act_{ACT}/ads"))))
        .and(query_param(
            "fields",
            "id,name,status,effective_status,campaign_id,adset_id,creative{id,name},targeting",
        ))
        .respond_with(ok(&fixture("ads_with_targeting.json")))
        .mount(&h.server)
        .await;
    let acc = account("BRL");

    let sets = h.client.ad_sets(&acc, None).await.unwrap();
    assert_eq!(sets.next, None, "no paging block = last page");
    let s = &sets.items[0];
    assert_eq!(s.external_id, "0000000000");
    assert_eq!(s.campaign_external_id, "120208325579370399");
    assert_eq!(s.status, EntityStatus::Archived, "from effective_status");
    // Airbyte float 600.0 minor units = 6.00 BRL; lifetime 0.0 = none.
    assert_eq!(s.daily_budget, Some(d("6.00")));
    assert_eq!(s.lifetime_budget, None);

    let ads = h.client.ads(&acc, None).await.unwrap();
    let a = &ads.items[0];
    let raw = &fixture("ads_with_targeting.json")["data"][0];
    assert_eq!(a.external_id, "000000000000000000");
    assert_eq!(a.campaign_external_id, "23853619670350398");
    assert_eq!(a.adset_external_id, "23853619670380398");
    assert_eq!(a.status, EntityStatus::Active);
    assert_eq!(a.targeting, raw["targeting"]);
    assert_eq!(a.creative, json!({"id": "23853666124230398"}));
}

// ------------------------------------------------------------------ insights

fn insight_rows() -> Vec<Value> {
    fixture("insights_daily_ad_level.json")["data"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn insights_are_paged_and_converted_to_the_fixture_totals() {
    let h = harness().await;
    let endpoint = v(&format!("act_{ACT}/insights"));
    let rows = insight_rows();
    let next = |after: &str| {
        format!(
            "https://graph.facebook.com/v21.0/act_{ACT}/insights?level=ad&limit=100&access_token={TOKEN}&after={after}"
        )
    };
    Mock::given(method("GET"))
        .and(path(endpoint.clone()))
        .and(bearer_token(TOKEN))
        .and(query_param("level", "ad"))
        .and(query_param("time_increment", "1"))
        .and(query_param(
            "time_range",
            r#"{"since":"2023-06-01","until":"2023-06-01"}"#,
        ))
        .and(query_param("fields", INSIGHT_FIELDS))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("action_attribution_windows"))
        .and(query_param_is_missing("after"))
        .respond_with(ok(&page(&rows[..1], Some(&next("P2")))))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(endpoint.clone()))
        .and(query_param("after", "P2"))
        .respond_with(ok(&page(&[], Some(&next("P3")))))
        .expect(1)
        .mount(&h.server)
        .await;
    let mut last = fixture("insights_daily_ad_level.json");
    last["data"] = json!([rows[1].clone()]);
    Mock::given(method("GET"))
        .and(path(endpoint))
        .and(query_param("after", "P3"))
        .respond_with(ok(&last))
        .expect(1)
        .mount(&h.server)
        .await;
    let acc = account("USD");
    let range = DateRange::new(date!(2023 - 06 - 01), date!(2023 - 06 - 01)).unwrap();

    let mut all = Vec::new();
    let mut next = None;
    let mut pages = 0;
    loop {
        let p = h.client.insights(&acc, range, next.take()).await.unwrap();
        assert_eq!(p.api_calls, 1);
        assert!(!format!("{:?}", p.raw).contains(TOKEN));
        pages += 1;
        all.extend(p.items);
        match p.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }

    assert_eq!(pages, 3);
    assert_eq!(all.len(), 2);
    assert_eq!(sum(&all), fixture_totals());
    assert_eq!(all[0].date, date!(2023 - 06 - 01));
    assert_eq!(all[0].ad_external_id, "23854695759200548");
    assert_eq!(all[0].adset_external_id, "23854404706320548");
    assert_eq!(all[0].campaign_external_id, "23854404676180548");
    assert_eq!(
        serde_json::from_str::<Value>(&all[0].actions).unwrap(),
        rows[0]["actions"],
        "actions kept as sent"
    );
    assert_eq!((all[1].totals.clicks, all[1].totals.link_clicks), (7, 4));
    token_only_in_header(&h.requests().await);
}

#[tokio::test]
async fn an_insights_row_without_its_ad_id_is_a_wire_error() {
    let h = harness().await;
    let mut row = insight_rows().remove(0);
    row.as_object_mut().unwrap().remove("ad_id");
    Mock::given(method("GET"))
        .and(path(v(&format!("act_{ACT}/insights"))))
        .respond_with(ok(&page(&[row], None)))
        .mount(&h.server)
        .await;
    let range = DateRange::new(date!(2023 - 06 - 01), date!(2023 - 06 - 01)).unwrap();
    let e = h
        .client
        .insights(&account("USD"), range, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PlatformError::Wire(m) if m.contains("ad_id")),
        "{e}"
    );
}

fn mount_report_status(statuses: &[&str]) -> Vec<Mock> {
    let all = fixture("async_report_run_status.json");
    let n = statuses.len();
    statuses
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let m = Mock::given(method("GET"))
                .and(path(v(RUN)))
                .and(query_param(
                    "fields",
                    "async_status,async_percent_completion",
                ))
                .respond_with(ok(&all[*s]));
            if i + 1 < n { m.up_to_n_times(1) } else { m }
        })
        .collect()
}

#[tokio::test]
async fn a_long_range_runs_an_async_report_polls_it_and_pages_its_results() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(v(&format!("act_{ACT}/insights"))))
        .and(bearer_token(TOKEN))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ok(&fixture("async_report_run_create.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    for m in mount_report_status(&["running", "completed"]) {
        m.mount(&h.server).await;
    }
    let rows = insight_rows();
    let results = v(&format!("{RUN}/insights"));
    let next = format!(
        "https://graph.facebook.com/v21.0/{RUN}/insights?limit=100&access_token={TOKEN}&after=R2"
    );
    Mock::given(method("GET"))
        .and(path(results.clone()))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("after"))
        .respond_with(ok(&page(&rows[..1], Some(&next))))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(results))
        .and(query_param("after", "R2"))
        .respond_with(ok(&page(&rows[1..], None)))
        .expect(1)
        .mount(&h.server)
        .await;
    let acc = account("USD");
    // 90 days > async_after_days (31).
    let range = DateRange::new(date!(2023 - 01 - 01), date!(2023 - 03 - 31)).unwrap();

    let first = h.client.insights(&acc, range, None).await.unwrap();
    assert_eq!(first.api_calls, 4, "create + 2 polls + first page");
    assert_eq!(
        h.clock.sleeps(),
        vec![Duration::from_secs(2)],
        "one poll wait"
    );
    assert_eq!(first.raw.endpoint, format!("{RUN}/insights"));
    let second = h
        .client
        .insights(&acc, range, first.next.clone())
        .await
        .unwrap();
    assert_eq!(second.api_calls, 1);
    assert_eq!(second.next, None);

    let all: Vec<_> = first.items.into_iter().chain(second.items).collect();
    assert_eq!(sum(&all), fixture_totals());
    let requests = h.requests().await;
    token_only_in_header(&requests);
    // The report was asked for with the same parameters as a sync request.
    let form = reqwest::Url::parse(&format!(
        "http://x/?{}",
        String::from_utf8_lossy(&requests[0].body)
    ))
    .unwrap();
    let form: std::collections::HashMap<_, _> = form.query_pairs().into_owned().collect();
    assert_eq!(form["level"], "ad");
    assert_eq!(form["time_increment"], "1");
    assert_eq!(
        form["time_range"],
        r#"{"since":"2023-01-01","until":"2023-03-31"}"#
    );
    assert_eq!(form["fields"], INSIGHT_FIELDS);
    assert!(!form.contains_key("action_attribution_windows"));
}

#[tokio::test]
async fn a_failed_report_run_is_unavailable_and_retryable() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(v(&format!("act_{ACT}/insights"))))
        .respond_with(ok(&fixture("async_report_run_create.json")))
        .mount(&h.server)
        .await;
    for m in mount_report_status(&["running", "failed"]) {
        m.mount(&h.server).await;
    }
    let range = DateRange::new(date!(2023 - 01 - 01), date!(2023 - 03 - 31)).unwrap();
    let e = h
        .client
        .insights(&account("USD"), range, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PlatformError::Unavailable(m) if m.contains("Job Failed")),
        "{e}"
    );
    assert!(e.is_retryable());
    assert_eq!(h.requests().await.len(), 3, "no results asked for");
}

// ------------------------------------------------------------------ throttling

#[tokio::test]
async fn a_throttle_error_waits_the_buc_estimate_then_resumes_the_request() {
    let h = harness().await;
    let listing = v(&format!("act_{ACT}/campaigns"));
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .respond_with(
            graph_error("code_80004_ads_management_buc")
                .insert_header("x-business-use-case-usage", buc_header(3).as_str()),
        )
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(listing))
        .respond_with(ok(&fixture("campaigns_page.json")))
        .mount(&h.server)
        .await;

    let p = h.client.campaigns(&account("BRL"), None).await.unwrap();

    assert_eq!(h.clock.sleeps(), vec![Duration::from_secs(3 * 60)]);
    assert_eq!(p.api_calls, 2);
    assert_eq!(p.items.len(), 1);
    let requests = h.requests().await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].url, requests[1].url, "the same request resumed");
}

#[tokio::test]
async fn throttle_errors_without_an_estimate_wait_the_reset_time_or_a_default() {
    let h = harness().await;
    let listing = v(&format!("act_{ACT}/campaigns"));
    // 613 without usage headers: the default throttle backoff (60 s).
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .respond_with(graph_error("code_613_ad_account_calls"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    // 17 with x-ad-account-usage: its reset_time_duration (seconds).
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .respond_with(graph_error("code_17_user_request_limit").insert_header(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":100,"reset_time_duration":100}"#,
        ))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(listing))
        .respond_with(ok(&fixture("campaigns_page.json")))
        .with_priority(3)
        .mount(&h.server)
        .await;

    let p = h.client.campaigns(&account("BRL"), None).await.unwrap();

    assert_eq!(
        h.clock.sleeps(),
        vec![Duration::from_secs(60), Duration::from_secs(100)]
    );
    assert_eq!(p.api_calls, 3);
}

#[tokio::test]
async fn a_throttle_longer_than_max_wait_is_rate_limited_and_remembered() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(v(&format!("act_{ACT}/campaigns"))))
        .respond_with(
            graph_error("code_80000_ads_insights_buc")
                .insert_header("x-business-use-case-usage", buc_header(60).as_str()),
        )
        .mount(&h.server)
        .await;
    let acc = account("BRL");

    let e = h.client.campaigns(&acc, None).await.unwrap_err();
    assert_eq!(
        e,
        PlatformError::RateLimited {
            retry_after: Duration::from_secs(3600)
        }
    );
    assert!(e.is_retryable());
    assert!(h.clock.sleeps().is_empty(), "nothing waited");
    assert_eq!(h.requests().await.len(), 1);

    // The block is recorded: the next call does not reach Graph at all.
    h.clock.advance(Duration::from_secs(600));
    let e = h.client.ads(&acc, None).await.unwrap_err();
    assert_eq!(
        e,
        PlatformError::RateLimited {
            retry_after: Duration::from_secs(3000)
        }
    );
    assert_eq!(h.requests().await.len(), 1);
}

#[tokio::test]
async fn high_usage_headers_pause_the_account_before_its_next_call() {
    let h = harness().await;
    let listing = v(&format!("act_{ACT}/campaigns"));
    let usage = fixture("rate_limit_headers.json");
    // Call 1: low usage (9.67 % ad account, 0 % insights) → no pause.
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .respond_with(
            ok(&fixture("campaigns_page.json"))
                .insert_header(
                    "x-ad-account-usage",
                    usage["x-ad-account-usage"].as_str().unwrap(),
                )
                .insert_header(
                    "x-fb-ads-insights-throttle",
                    usage["x-fb-ads-insights-throttle"].as_str().unwrap(),
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    // Call 2: the fixture headers, BUC call_count 95 / 97 % (≥ 90) → pause
    // the account for reset_time_duration (100 s) before call 3.
    let mut high = ok(&fixture("campaigns_page.json"));
    for (k, val) in usage.as_object().unwrap() {
        high = high.insert_header(k.as_str(), val.as_str().unwrap());
    }
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .respond_with(high)
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(listing))
        .respond_with(ok(&fixture("campaigns_page.json")))
        .with_priority(3)
        .mount(&h.server)
        .await;
    let acc = account("BRL");

    h.client.campaigns(&acc, None).await.unwrap();
    h.client.campaigns(&acc, None).await.unwrap();
    assert!(h.clock.sleeps().is_empty(), "no pause below the threshold");
    let third = h.client.campaigns(&acc, None).await.unwrap();
    assert_eq!(h.clock.sleeps(), vec![Duration::from_secs(100)]);
    assert_eq!(third.api_calls, 1);
}

// ------------------------------------------------------------------ failures

fn server_error() -> ResponseTemplate {
    ResponseTemplate::new(500).set_body_json(json!({"error": {
        "message": "An unknown error has occurred.", "type": "OAuthException",
        "code": 1, "is_transient": true}}))
}

#[tokio::test]
async fn a_transient_500_is_retried_with_backoff_and_both_calls_count() {
    let h = harness().await;
    let listing = v(&format!("act_{ACT}/campaigns"));
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .respond_with(server_error())
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(listing))
        .respond_with(ok(&fixture("campaigns_page.json")))
        .mount(&h.server)
        .await;

    let p = h.client.campaigns(&account("BRL"), None).await.unwrap();

    assert_eq!(p.api_calls, 2);
    assert_eq!(p.items.len(), 1);
    let sleeps = h.clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    // First step of backoff_base 1 s: half fixed, half jitter.
    assert!(
        (Duration::from_millis(500)..=Duration::from_secs(1)).contains(&sleeps[0]),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn persistent_500s_are_unavailable_then_the_breaker_fails_fast_until_cooldown() {
    let h = harness().await;
    Mock::given(method("GET"))
        .respond_with(server_error())
        .mount(&h.server)
        .await;
    let acc = account("BRL");

    let e = h.client.campaigns(&acc, None).await.unwrap_err();
    assert!(
        matches!(&e, PlatformError::Unavailable(m) if m.contains("500")),
        "{e}"
    );
    assert_eq!(h.requests().await.len(), 3, "retries = 2");
    let backoffs = h.clock.sleeps();
    assert_eq!(backoffs.len(), 2);
    assert!(
        backoffs[1] >= Duration::from_secs(1),
        "doubles: {backoffs:?}"
    );

    // 3 consecutive failures = breaker_threshold: fail fast, no call.
    let e = h.client.ad_sets(&acc, None).await.unwrap_err();
    assert_eq!(e, PlatformError::Unavailable("circuit open".into()));
    assert_eq!(h.requests().await.len(), 3);

    // After the cooldown one trial goes through; Graph answers, it closes.
    h.server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ok(&fixture("campaigns_page.json")))
        .mount(&h.server)
        .await;
    h.clock.advance(Duration::from_secs(30));
    let p = h.client.campaigns(&acc, None).await.unwrap();
    assert_eq!(p.api_calls, 1);
    h.client.campaigns(&acc, None).await.unwrap();
}

#[tokio::test]
async fn connection_errors_are_retried_then_unavailable_without_the_url() {
    let clock = FakeClock::new();
    let client = MetaGraphClient::new(
        MetaConfig {
            base_url: "http://127.0.0.1:1".into(),
            retries: 1,
            ..MetaConfig::default()
        },
        Arc::new(MemoryThrottleStore::new()),
        clock.clone(),
    )
    .unwrap();
    let e = client.campaigns(&account("BRL"), None).await.unwrap_err();
    assert!(matches!(e, PlatformError::Unavailable(_)), "{e}");
    assert_eq!(clock.sleeps().len(), 1);
    let shown = e.to_string();
    assert!(
        !shown.contains("127.0.0.1") && !shown.contains(TOKEN),
        "{shown}"
    );
}

#[tokio::test]
async fn an_expired_token_is_auth_expired_after_exactly_one_call() {
    for case in ["code_190_token_expired", "code_190_password_changed"] {
        let h = harness().await;
        Mock::given(method("GET"))
            .respond_with(graph_error(case))
            .mount(&h.server)
            .await;
        let e = h.client.campaigns(&account("BRL"), None).await.unwrap_err();
        assert_eq!(e, PlatformError::AuthExpired, "{case}");
        assert!(!e.is_retryable());
        assert_eq!(h.requests().await.len(), 1, "{case}: no retry");
        assert!(h.clock.sleeps().is_empty());
    }
}

#[tokio::test]
async fn other_refusals_are_rejected_and_malformed_json_is_a_wire_error() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(v(&format!("act_{ACT}/campaigns"))))
        .respond_with(graph_error("code_100_unsupported_get"))
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(v(&format!("act_{ACT}/ads"))))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"data\": [ oops"))
        .mount(&h.server)
        .await;
    let acc = account("BRL");

    let e = h.client.campaigns(&acc, None).await.unwrap_err();
    assert!(
        matches!(&e, PlatformError::Rejected { code: 100, message } if message.starts_with("Unsupported get request")),
        "{e}"
    );
    let e = h.client.ads(&acc, None).await.unwrap_err();
    assert!(matches!(e, PlatformError::Wire(_)), "{e}");
    assert_eq!(h.requests().await.len(), 2, "neither is retried");
}

// ------------------------------------------------------------------ writes

#[tokio::test]
async fn set_status_posts_the_status_form() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(v("23850000000000001")))
        .and(bearer_token(TOKEN))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("status=PAUSED"))
        .respond_with(ok(&fixture("campaign_update_success.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    let acc = account("BRL");

    h.client
        .set_status(&acc, "23850000000000001", EntityStatus::Paused)
        .await
        .unwrap();
    let e = h
        .client
        .set_status(&acc, "23850000000000001", EntityStatus::Deleted)
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::Rejected { code: 0, .. }), "{e}");
    assert_eq!(h.requests().await.len(), 1, "DELETED is not sent");
    token_only_in_header(&h.requests().await);
}

#[tokio::test]
async fn set_daily_budget_posts_minor_units() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(v("23850000000000001")))
        .and(body_string("daily_budget=15000"))
        .respond_with(ok(&fixture("campaign_update_success.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path(v("23850000000000002")))
        .and(body_string("daily_budget=1500"))
        .respond_with(ok(&json!({"success": false})))
        .expect(1)
        .mount(&h.server)
        .await;

    // 150.00 BRL → 15000 centavos.
    h.client
        .set_daily_budget(&account("BRL"), "23850000000000001", d("150.00"))
        .await
        .unwrap();
    // 1500 JPY has no minor unit; `success: false` is not an acknowledgement.
    let e = h
        .client
        .set_daily_budget(&account("JPY"), "23850000000000002", d("1500"))
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::Wire(_)), "{e}");
    // Fractions of a centavo cannot be sent.
    let e = h
        .client
        .set_daily_budget(&account("BRL"), "23850000000000001", d("150.005"))
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::Rejected { code: 0, .. }), "{e}");
    assert_eq!(h.requests().await.len(), 2);
}

// ------------------------------------------------------------------ secrets

#[tokio::test]
async fn the_token_appears_nowhere_in_raw_pages_tokens_or_errors() {
    let h = harness().await;
    let listing = v(&format!("act_{ACT}/campaigns"));
    // Graph echoes the caller's token in paging URLs.
    let echo = |after: &str| {
        format!(
            "https://graph.facebook.com/v21.0/act_{ACT}/campaigns?access_token={TOKEN}&limit=100&after={after}"
        )
    };
    let mut first = page(&[], Some(&echo("P2")));
    first["paging"]["previous"] = json!(echo("P0"));
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .and(query_param_is_missing("after"))
        .respond_with(ok(&first))
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(listing))
        .and(query_param("after", "P2"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": format!("Invalid parameter: access_token={TOKEN} is malformed"),
            "type": "OAuthException", "code": 100}})))
        .mount(&h.server)
        .await;
    let acc = account("BRL");

    let p = h.client.campaigns(&acc, None).await.unwrap();
    let shown = format!("{:?} {:?}", p.raw, p.next);
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains("access_token"), "{shown}");
    assert!(
        serde_json::from_str::<Value>(&p.raw.body).unwrap()["paging"]["next"]
            .as_str()
            .unwrap()
            .contains("after=P2")
    );

    let e = h.client.campaigns(&acc, p.next).await.unwrap_err();
    assert!(matches!(e, PlatformError::Rejected { code: 100, .. }));
    assert!(!e.to_string().contains(TOKEN), "{e}");
    assert!(!format!("{e:?}").contains(TOKEN), "{e:?}");
    // A token handed back with a token inside is cleaned too.
    let sneaky = PageToken(format!("act_{ACT}/campaigns?access_token={TOKEN}&after=P2"));
    let _ = h.client.campaigns(&acc, Some(sneaky)).await;
    token_only_in_header(&h.requests().await);
}

// ------------------------------------------------------------------ shared blocks

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clients_share_a_throttle_block_through_redis() {
    let server = MockServer::start().await;
    let prefix = format!("test:{}:", uuid::Uuid::new_v4());
    let pool = redis_pool(&redis_url(), 4).unwrap();
    let store = || -> Arc<dyn ThrottleStore> {
        Arc::new(RedisThrottleStore::new(
            pool.clone(),
            prefix.clone(),
            RedisBreaker::default(),
        ))
    };
    let (clock_a, clock_b) = (FakeClock::new(), FakeClock::new());
    let a = MetaGraphClient::new(config(&server), store(), clock_a.clone()).unwrap();
    let b = MetaGraphClient::new(config(&server), store(), clock_b.clone()).unwrap();
    let listing = v(&format!("act_{ACT}/campaigns"));
    Mock::given(method("GET"))
        .and(path(listing.clone()))
        .respond_with(
            graph_error("code_17_user_request_limit")
                .insert_header("x-business-use-case-usage", buc_header(1).as_str()),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(listing))
        .respond_with(ok(&fixture("campaigns_page.json")))
        .mount(&server)
        .await;
    let acc = account("BRL");

    // A is throttled for 1 minute, records the block, waits it out.
    a.campaigns(&acc, None).await.unwrap();
    assert_eq!(clock_a.sleeps(), vec![Duration::from_secs(60)]);

    // The block is in Redis, expiring with it.
    let mut conn = pool.get().await.unwrap();
    let key = format!("{prefix}meta:blocked:{ACT}");
    let pttl: i64 = deadpool_redis::redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut *conn)
        .await
        .unwrap();
    assert!((50_000..=60_000).contains(&pttl), "{pttl}");

    // B (another worker, its own memory) waits for the same block before calling.
    let p = b.campaigns(&acc, None).await.unwrap();
    assert_eq!(p.api_calls, 1);
    let waited = clock_b.sleeps();
    assert_eq!(waited.len(), 1);
    assert!(
        (Duration::from_secs(50)..=Duration::from_secs(60)).contains(&waited[0]),
        "{waited:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_redis_store_never_shortens_a_block() {
    let pool = redis_pool(&redis_url(), 2).unwrap();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4());
    // Separate instances: each keeps its own in-memory copy, so only Redis
    // can carry the block from one to the next.
    let store = || RedisThrottleStore::new(pool.clone(), prefix.clone(), RedisBreaker::default());
    let now = SystemTime::now();
    let long = now + Duration::from_secs(120);
    store().block("42", long).await;
    store().block("42", now + Duration::from_secs(10)).await;
    let got = store().blocked_until("42").await.unwrap();
    let ms = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    };
    assert_eq!(ms(got), ms(long));
    assert_eq!(store().blocked_until("43").await, None);
}
