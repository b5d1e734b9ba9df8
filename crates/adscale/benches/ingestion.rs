//! Ingestion benchmark: a local fake Graph API serving 10 ad accounts × 200
//! campaigns × 5 ads × 90 days of daily insights (900,000 rows) in pages of
//! 500, synced end to end into PostgreSQL (bronze, silver, gold) by the
//! production code path (`RunSync` over the real Graph client), then synced
//! again (a re-run must change nothing and be at least as fast).
//!
//! Run through `bench/ingest.sh` (creates the database, builds in release):
//! `BENCH_DATABASE_URL=postgres://…/adscale_bench cargo bench -p adscale --bench ingestion`
//! Optional: `BENCH_REDIS_URL` (throttle store, locks, cache as in production),
//! `BENCH_ACCOUNTS` (10), `BENCH_CAMPAIGNS` (200), `BENCH_DAYS` (90),
//! `BENCH_CONCURRENCY` (syncs at once, like `WORKER_CONCURRENCY`; default 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adscale::wiring::{Adapters, RedisConn, Settings, build};
use application::ads::NewAdAccountInput;
use application::ingestion::sync::{JobOutcome, RunSync, SyncSettings};
use domain::identity::{Actor, Organization, OrganizationRepository, Principal, Role, User};
use domain::ingestion::SyncJob;
use domain::{TenantId, UserId};
use infrastructure::db::DbPool;
use infrastructure::jobs::JobsConfig;
use infrastructure::meta::client::MetaConfig;
use interface::RateLimitSettings;
use time::{Date, Duration as Days, OffsetDateTime};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// The allocator of the `adscale` binary, so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ADS_PER_CAMPAIGN: usize = 5;
const PAGE: usize = 500;
const LAST_DAY: Date = time::macros::date!(2026 - 10 - 31);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Pre-rendered Graph API pages, so the fake costs little CPU while measured.
struct FakeGraph {
    base: String,
    /// (path, after offset) → body
    pages: HashMap<(String, usize), Vec<u8>>,
}

fn account_id(a: usize) -> String {
    format!("{}", 100_000 + a)
}
fn campaign_id(a: usize, c: usize) -> String {
    format!("{}{:04}", 2_000_000 + a, c)
}
fn ad_id(a: usize, c: usize, k: usize) -> String {
    format!("{}{:04}{}", 3_000_000 + a, c, k)
}

fn paged(rows: &[String], path: &str, base: &str, out: &mut HashMap<(String, usize), Vec<u8>>) {
    let mut offset = 0;
    loop {
        let end = (offset + PAGE).min(rows.len());
        let mut body = String::from("{\"data\":[");
        body.push_str(&rows[offset..end].join(","));
        body.push_str("],\"paging\":{\"cursors\":{\"before\":\"x\",\"after\":\"y\"}");
        if end < rows.len() {
            write!(
                body,
                ",\"next\":\"{base}/v21.0/{path}?limit={PAGE}&after={end}\""
            )
            .unwrap();
        }
        body.push_str("}}");
        out.insert((path.to_owned(), offset), body.into_bytes());
        if end >= rows.len() {
            break;
        }
        offset = end;
    }
}

impl FakeGraph {
    fn new(base: &str, accounts: usize, campaigns: usize, days: usize) -> Self {
        let mut pages = HashMap::new();
        for a in 0..accounts {
            let act = account_id(a);
            let mut cs = Vec::new();
            let mut sets = Vec::new();
            let mut ads = Vec::new();
            for c in 0..campaigns {
                let cid = campaign_id(a, c);
                cs.push(format!(r#"{{"id":"{cid}","name":"Campaign {c}","status":"ACTIVE","effective_status":"ACTIVE","objective":"OUTCOME_SALES","daily_budget":"{}"}}"#, 5_000 + c * 10));
                sets.push(format!(r#"{{"id":"{cid}1","name":"Set {c}","status":"ACTIVE","campaign_id":"{cid}","optimization_goal":"OFFSITE_CONVERSIONS"}}"#));
                for k in 0..ADS_PER_CAMPAIGN {
                    ads.push(format!(r#"{{"id":"{}","name":"Ad {c}/{k}","status":"ACTIVE","campaign_id":"{cid}","adset_id":"{cid}1","creative":{{"id":"9{k}"}}}}"#, ad_id(a, c, k)));
                }
            }
            paged(&cs, &format!("act_{act}/campaigns"), base, &mut pages);
            paged(&sets, &format!("act_{act}/adsets"), base, &mut pages);
            paged(&ads, &format!("act_{act}/ads"), base, &mut pages);
            let mut rows = Vec::with_capacity(campaigns * ADS_PER_CAMPAIGN * days);
            for d in 0..days {
                let day = LAST_DAY - Days::days(i64::try_from(d).unwrap());
                for c in 0..campaigns {
                    for k in 0..ADS_PER_CAMPAIGN {
                        let n = (a * 7 + c * 13 + k * 17 + d * 3) % 100;
                        rows.push(format!(
                            r#"{{"date_start":"{day}","date_stop":"{day}","account_id":"{act}","campaign_id":"{cid}","adset_id":"{cid}1","ad_id":"{ad}","impressions":"{imp}","clicks":"{clk}","inline_link_clicks":"{lc}","spend":"{sp}.{cents:02}","actions":[{{"action_type":"omni_purchase","value":"{conv}"}},{{"action_type":"purchase","value":"{conv}"}}],"action_values":[{{"action_type":"omni_purchase","value":"{rev}.00"}}]}}"#,
                            cid = campaign_id(a, c),
                            ad = ad_id(a, c, k),
                            imp = 1_000 + n * 37,
                            clk = 10 + n,
                            lc = 5 + n / 2,
                            sp = 10 + n,
                            cents = n,
                            conv = n % 4,
                            rev = (n % 4) * 120,
                        ));
                    }
                }
            }
            paged(&rows, &format!("9{act}/insights"), base, &mut pages);
        }
        Self {
            base: base.to_owned(),
            pages,
        }
    }
}

impl Respond for FakeGraph {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().trim_start_matches("/v21.0/").to_owned();
        let after = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "after")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let json = |b: Vec<u8>| ResponseTemplate::new(200).set_body_raw(b, "application/json");
        // Async report runs: `POST act_<id>/insights` → run `9<id>`, done at once.
        if req.method == wiremock::http::Method::POST {
            let act = path
                .trim_start_matches("act_")
                .trim_end_matches("/insights");
            return json(format!(r#"{{"report_run_id":"9{act}"}}"#).into_bytes());
        }
        if !path.contains('/') {
            return json(format!(r#"{{"id":"{path}","async_status":"Job Completed","async_percent_completion":100}}"#).into_bytes());
        }
        match self.pages.get(&(path, after)) {
            Some(b) => json(b.clone()),
            None => ResponseTemplate::new(404).set_body_raw(
                format!(
                    r#"{{"error":{{"message":"unknown path at {}","code":100}}}}"#,
                    self.base
                ),
                "application/json",
            ),
        }
    }
}

fn settings(graph: &str) -> Settings {
    Settings {
        jwt_secret: b"bench-secret-that-is-long-enough-for-hs256".to_vec(),
        access_token_ttl_secs: 900,
        refresh_token_ttl_days: 30,
        cache_ttl_campaigns: Duration::from_secs(300),
        cache_ttl_top_ads: Duration::from_secs(300),
        rate_limit: RateLimitSettings {
            enabled: false,
            per_minute: 200,
        },
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        encryption_key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        meta: MetaConfig {
            base_url: graph.to_owned(),
            poll_interval: Duration::from_millis(5),
            ..MetaConfig::default()
        },
        sync: SyncSettings::default(),
        jobs: JobsConfig::default(),
        reports: application::reports::ReportJobSettings::default(),
        apply: application::rules::ApplySettings::default(),
        alerts: adscale::config::AlertsConfig::default(),
        smtp: None,
        llm: None,
        weekly_insights: true,
    }
}

/// Runs every job, `concurrency` at a time; returns the wall time.
async fn run_all(run: &Arc<RunSync>, jobs: &[SyncJob], concurrency: usize) -> Duration {
    let started = Instant::now();
    let queue = Arc::new(tokio::sync::Mutex::new(jobs.to_vec()));
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let (queue, run) = (queue.clone(), run.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let Some(job) = queue.lock().await.pop() else {
                    break;
                };
                let outcome = run.execute(job).await.unwrap();
                assert_eq!(outcome, JobOutcome::Done);
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/adscale_bench".to_owned());
    let accounts = env_usize("BENCH_ACCOUNTS", 10);
    let campaigns = env_usize("BENCH_CAMPAIGNS", 200);
    let days = env_usize("BENCH_DAYS", 90);
    let concurrency = env_usize("BENCH_CONCURRENCY", 2);
    let rows = accounts * campaigns * ADS_PER_CAMPAIGN * days;

    let server = MockServer::start().await;
    let t = Instant::now();
    let fake = FakeGraph::new(&server.uri(), accounts, campaigns, days);
    println!(
        "fake Graph API: {} pages pre-rendered in {:.1?}",
        fake.pages.len(),
        t.elapsed()
    );
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(fake)
        .mount(&server)
        .await;

    let pool = DbPool::postgres(&url, 20).expect("BENCH_DATABASE_URL");
    pool.run_migrations().await.expect("migrations");
    let redis = std::env::var("BENCH_REDIS_URL")
        .ok()
        .map(|u| RedisConn::new(&u).unwrap());
    let with_redis = redis.is_some();
    let adapters = Adapters::assemble(
        pool,
        redis,
        &format!("bench:{}:", uuid::Uuid::new_v4().simple()),
    )
    .await
    .unwrap();
    let built = build(&adapters, &settings(&server.uri())).unwrap();
    let org = Organization {
        id: TenantId::generate(),
        name: "Bench".to_owned(),
        timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
        created_at: OffsetDateTime::now_utc(),
    };
    let owner = User {
        id: UserId::generate(),
        email: format!("bench-{}@example.com", uuid::Uuid::new_v4().simple()),
        name: "Bench".to_owned(),
        password_hash: "x".to_owned(),
        created_at: OffsetDateTime::now_utc(),
    };
    adapters.db.create_with_owner(&org, &owner).await.unwrap();
    let actor = Actor {
        tenant_id: org.id,
        principal: Principal::System,
        role: Role::Owner,
    };
    let from = (LAST_DAY - Days::days(i64::try_from(days).unwrap() - 1)).to_string();
    let to = LAST_DAY.to_string();
    let mut account_ids = Vec::new();
    for a in 0..accounts {
        let acct = built
            .state
            .ads
            .create_ad_account
            .execute(
                &actor,
                NewAdAccountInput {
                    name: format!("Account {a}"),
                    platform: "meta".to_owned(),
                    external_id: account_id(a),
                    currency: "BRL".to_owned(),
                    timezone: "America/Sao_Paulo".to_owned(),
                    access_token: Some("EAAB-FAKE-bench".to_owned()),
                },
            )
            .await
            .unwrap();
        account_ids.push(acct.id);
    }
    let request = |ids: Vec<domain::AdAccountId>| {
        let built = &built;
        let (from, to) = (from.clone(), to.clone());
        async move {
            let mut jobs = Vec::new();
            for id in ids {
                let r = built
                    .state
                    .ingestion
                    .request_sync
                    .execute(&actor, id, Some(&from), Some(&to))
                    .await
                    .unwrap();
                jobs.push(SyncJob {
                    tenant_id: org.id,
                    sync_run_id: r.id,
                });
            }
            jobs
        }
    };
    let run = Arc::new(RunSync::new(built.ingestion.clone()));
    println!(
        "syncing {accounts} accounts × {campaigns} campaigns × {ADS_PER_CAMPAIGN} ads × {days} days = {rows} insight rows, {concurrency} at a time, PostgreSQL{}",
        if with_redis { " + Redis" } else { "" }
    );
    for (label, n) in [("first sync", 1), ("re-run", 2)] {
        let jobs = request(account_ids.clone()).await;
        let took = run_all(&run, &jobs, concurrency).await;
        let mut changed = 0;
        for j in &jobs {
            let r = built
                .state
                .ingestion
                .get_sync_run
                .execute(&actor, j.sync_run_id)
                .await
                .unwrap();
            assert!(r.error.is_none(), "{:?}", r.error);
            changed += r.rows_changed;
        }
        #[allow(clippy::cast_precision_loss)]
        let rate = rows as f64 / took.as_secs_f64();
        println!(
            "{label}: {rows} rows in {:.2}s = {rate:.0} insight rows/s (silver rows changed: {changed}) [run {n}]",
            took.as_secs_f64()
        );
    }
}
