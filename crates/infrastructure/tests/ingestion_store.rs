//! The medallion store on both backends: silver upserts keyed by platform
//! id, gold refreshed from them, sync runs and bronze. Each body runs on
//! PostgreSQL and on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use application::ingestion::gold;
use domain::ads::{
    AdAccount, AdAccountRepository, AdAccountStatus, AdPlatform, CampaignRepository, Currency,
    DateRange, EntityFilter, EntityStatus, InsightRepository,
};
use domain::identity::{Organization, OrganizationRepository, User};
use domain::ingestion::{
    AdAccountConnections, GoldEntity, GoldPeriod, IngestionStore, PlatformAd, PlatformAdSet,
    PlatformCampaign, PlatformInsight, RawPage, SyncCounts, SyncKind, SyncOutcome, SyncRun,
    SyncRunRepository, SyncStatus,
};
use domain::kpi::KpiTotals;
use domain::page::PageRequest;
use domain::{AdAccountId, SyncRunId, TenantId, UserId};
use infrastructure::db::Db;
use infrastructure::db::testing::TestDb;
use infrastructure::on_both_backends;
use rust_decimal::Decimal;
use serde_json::json;
use time::macros::date;
use time::{Date, OffsetDateTime};

on_both_backends!(
    a_sync_writes_silver_and_gold_and_a_rerun_changes_nothing,
    a_restated_day_changes_exactly_that_days_gold_rows,
    gold_kpis_equal_hand_computed_values,
    rows_of_unknown_parents_are_skipped,
    campaign_level_rows_land_in_silver_and_gold,
    deleting_a_campaign_or_account_deletes_its_silver_and_gold_rows,
    one_platform_sync_per_account_is_queued_at_a_time,
    sync_runs_start_finish_and_requeue,
    bronze_keeps_pages_and_purges_old_ones,
    sealed_tokens_are_stored_per_tenant,
);

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

async fn account(db: &Db) -> AdAccount {
    let org = Organization {
        id: TenantId::generate(),
        name: "Acme".to_owned(),
        timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
        created_at: now(),
    };
    let owner = User {
        id: UserId::generate(),
        email: format!("u{}@example.com", uuid::Uuid::new_v4().simple()),
        name: "Ana".to_owned(),
        password_hash: "x".to_owned(),
        created_at: now(),
    };
    db.create_with_owner(&org, &owner).await.unwrap();
    let a = AdAccount {
        id: AdAccountId::generate(),
        tenant_id: org.id,
        platform: AdPlatform::Meta,
        external_id: "123".to_owned(),
        name: "Main".to_owned(),
        currency: Currency::parse("BRL").unwrap(),
        timezone: "America/Sao_Paulo".to_owned(),
        status: AdAccountStatus::Active,
        created_at: now(),
        updated_at: now(),
    };
    AdAccountRepository::insert(db, &a).await.unwrap();
    a
}

fn campaigns() -> Vec<PlatformCampaign> {
    ["c1", "c2"]
        .iter()
        .map(|id| PlatformCampaign {
            external_id: (*id).to_owned(),
            name: format!("Campaign {id}"),
            status: EntityStatus::Active,
            objective: Some("OUTCOME_SALES".to_owned()),
            daily_budget: Some(Decimal::new(15_000, 2)),
            lifetime_budget: None,
        })
        .collect()
}

fn ad_sets() -> Vec<PlatformAdSet> {
    [("s1", "c1"), ("s2", "c2")]
        .iter()
        .map(|(id, c)| PlatformAdSet {
            external_id: (*id).to_owned(),
            campaign_external_id: (*c).to_owned(),
            name: format!("Set {id}"),
            status: EntityStatus::Active,
            daily_budget: None,
            lifetime_budget: None,
            optimization_goal: Some("OFFSITE_CONVERSIONS".to_owned()),
        })
        .collect()
}

fn ads() -> Vec<PlatformAd> {
    [("a1", "s1", "c1"), ("a2", "s1", "c1"), ("a3", "s2", "c2")]
        .iter()
        .map(|(id, s, c)| PlatformAd {
            external_id: (*id).to_owned(),
            campaign_external_id: (*c).to_owned(),
            adset_external_id: (*s).to_owned(),
            name: format!("Ad {id}"),
            status: EntityStatus::Active,
            targeting: json!({"geo_locations": {"countries": ["BR"]}}),
            creative: json!({"id": "cr1"}),
        })
        .collect()
}

fn totals(impressions: i64, clicks: i64, spend_cents: i64, conv: i64, rev_cents: i64) -> KpiTotals {
    KpiTotals {
        impressions,
        clicks,
        link_clicks: clicks / 2,
        spend: Decimal::new(spend_cents, 2),
        conversions: conv,
        revenue: Decimal::new(rev_cents, 2),
    }
}

fn insight(ad: &str, set: &str, c: &str, day: Date, t: KpiTotals) -> PlatformInsight {
    PlatformInsight {
        date: day,
        campaign_external_id: c.to_owned(),
        adset_external_id: set.to_owned(),
        ad_external_id: ad.to_owned(),
        totals: t,
        actions: json!([{"action_type": "purchase", "value": t.conversions.to_string()}])
            .to_string(),
    }
}

/// Three days (Mon 2026-11-16 .. Wed 2026-11-18) of three ads.
fn insights() -> Vec<PlatformInsight> {
    let mut rows = Vec::new();
    for (i, day) in [
        date!(2026 - 11 - 16),
        date!(2026 - 11 - 17),
        date!(2026 - 11 - 18),
    ]
    .into_iter()
    .enumerate()
    {
        let k = i64::try_from(i).unwrap() + 1;
        rows.push(insight(
            "a1",
            "s1",
            "c1",
            day,
            totals(1000 * k, 20 * k, 5_000 * k, k, 15_000 * k),
        ));
        rows.push(insight("a2", "s1", "c1", day, totals(500, 5, 2_500, 0, 0)));
        rows.push(insight(
            "a3",
            "s2",
            "c2",
            day,
            totals(2000, 10, 10_000, 2, 8_000),
        ));
    }
    rows
}

fn week() -> DateRange {
    DateRange::new(date!(2026 - 11 - 16), date!(2026 - 11 - 18)).unwrap()
}

/// Everything one sync writes; returns the rows changed in silver and gold.
async fn sync(db: &Db, a: &AdAccount, rows: &[PlatformInsight]) -> (i64, u64) {
    let (t, id) = (a.tenant_id, a.id);
    let mut changed = 0;
    changed += db
        .upsert_campaigns(t, id, &campaigns(), now())
        .await
        .unwrap()
        .changed;
    changed += db
        .upsert_ad_sets(t, id, &ad_sets(), now())
        .await
        .unwrap()
        .changed;
    changed += db.upsert_ads(t, id, &ads(), now()).await.unwrap().changed;
    changed += db
        .upsert_ad_insights(t, id, rows, now())
        .await
        .unwrap()
        .changed;
    let gold = gold::refresh(db, t, id, week(), now()).await.unwrap();
    (changed, gold)
}

async fn a_sync_writes_silver_and_gold_and_a_rerun_changes_nothing(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    let (changed, gold_rows) = sync(&db, &a, &insights()).await;
    // 2 campaigns + 2 ad sets + 3 ads + 9 insight rows
    assert_eq!(changed, 16);
    // daily: 3 days × (2 campaigns + account) = 9; weekly: 2 campaigns + account = 3
    assert_eq!(gold_rows, 12);
    let listed = CampaignRepository::list(
        &db,
        a.tenant_id,
        EntityFilter::default(),
        PageRequest::first(50),
    )
    .await
    .unwrap();
    assert_eq!(listed.items.len(), 2);
    assert!(
        listed
            .items
            .iter()
            .all(|c| c.daily_budget == Some(Decimal::new(15_000, 2)))
    );

    let (changed, gold_rows) = sync(&db, &a, &insights()).await;
    assert_eq!(
        (changed, gold_rows),
        (0, 0),
        "a re-run of the same sync changes nothing"
    );
    let days = db.campaign_days(a.tenant_id, a.id, week()).await.unwrap();
    assert_eq!(
        days.len(),
        6,
        "one campaign row per campaign and day, no duplicates"
    );
}

async fn a_restated_day_changes_exactly_that_days_gold_rows(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    sync(&db, &a, &insights()).await;
    let before = db
        .gold(a.tenant_id, a.id, GoldPeriod::Day, week())
        .await
        .unwrap();
    let mut rows = insights();
    // Meta restates Tuesday's spend of ad a3 (campaign c2).
    rows[5].totals.spend = Decimal::new(12_345, 2);
    let (changed, gold_rows) = sync(&db, &a, &rows).await;
    assert_eq!(changed, 1, "only the restated silver row changes");
    // Tuesday: c2 + account; the week: c2 + account.
    assert_eq!(gold_rows, 4);
    let after = db
        .gold(a.tenant_id, a.id, GoldPeriod::Day, week())
        .await
        .unwrap();
    let differing: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(_, a)| (a.entity, a.period_start))
        .collect();
    assert_eq!(differing.len(), 2);
    assert!(differing.iter().all(|(_, d)| *d == date!(2026 - 11 - 17)));
}

async fn gold_kpis_equal_hand_computed_values(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    sync(&db, &a, &insights()).await;
    let weekly = db
        .gold(a.tenant_id, a.id, GoldPeriod::Week, week())
        .await
        .unwrap();
    let account_week = weekly
        .iter()
        .find(|r| r.entity == GoldEntity::Account)
        .unwrap();
    assert_eq!(account_week.period_start, date!(2026 - 11 - 16));
    // impressions: a1 1000+2000+3000, a2 3×500, a3 3×2000 = 13,500
    // clicks: a1 20+40+60, a2 15, a3 30 = 165
    // spend: a1 50+100+150, a2 75, a3 300 = 675.00
    // conversions: a1 1+2+3, a3 6 = 12; revenue: a1 150+300+450, a3 240 = 1140.00
    assert_eq!(
        account_week.totals,
        KpiTotals {
            impressions: 13_500,
            clicks: 165,
            link_clicks: 10 + 20 + 30 + 6 + 15,
            spend: Decimal::new(67_500, 2),
            conversions: 12,
            revenue: Decimal::new(114_000, 2),
        }
    );
    let k = account_week.kpis;
    assert_eq!(
        k.ctr,
        Some(Decimal::new(12_222, 4)),
        "165 / 13500 × 100 = 1.2222"
    );
    assert_eq!(
        k.cpc,
        Some(Decimal::new(409, 2)),
        "675 / 165 = 4.0909 → 4.09"
    );
    assert_eq!(k.cpm, Some(Decimal::new(50, 0)), "675 / 13500 × 1000 = 50");
    assert_eq!(k.cpa, Some(Decimal::new(5625, 2)), "675 / 12 = 56.25");
    assert_eq!(
        k.roas,
        Some(Decimal::new(16_889, 4)),
        "1140 / 675 = 1.68889 → 1.6889"
    );
    // The silver campaign rows feed the campaign KPI endpoint too.
    let c1 = CampaignRepository::list(
        &db,
        a.tenant_id,
        EntityFilter::default(),
        PageRequest::first(50),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .find(|c| c.external_id.as_deref() == Some("c1"))
    .unwrap();
    let t = db
        .campaign_totals(a.tenant_id, c1.id, week())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.spend, Decimal::new(37_500, 2));
}

async fn rows_of_unknown_parents_are_skipped(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    let (t, id) = (a.tenant_id, a.id);
    db.upsert_campaigns(t, id, &campaigns(), now())
        .await
        .unwrap();
    let mut sets = ad_sets();
    sets[1].campaign_external_id = "nope".to_owned();
    let u = db.upsert_ad_sets(t, id, &sets, now()).await.unwrap();
    assert_eq!((u.rows, u.changed), (2, 1));
    let u = db
        .upsert_ad_insights(
            t,
            id,
            &[insight(
                "zz",
                "s1",
                "c1",
                date!(2026 - 11 - 16),
                totals(1, 1, 1, 0, 0),
            )],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(u.changed, 0);
}

async fn campaign_level_rows_land_in_silver_and_gold(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    let (t, id) = (a.tenant_id, a.id);
    db.upsert_campaigns(t, id, &campaigns(), now())
        .await
        .unwrap();
    let rows = vec![domain::ingestion::CampaignInsight {
        date: date!(2026 - 11 - 16),
        campaign_external_id: "c2".to_owned(),
        totals: totals(8120, 133, 9_515, 0, 0),
    }];
    let u = db
        .upsert_campaign_insights(t, id, &rows, now())
        .await
        .unwrap();
    assert_eq!(u.changed, 1);
    assert_eq!(
        db.upsert_campaign_insights(t, id, &rows, now())
            .await
            .unwrap()
            .changed,
        0
    );
    gold::refresh(&db, t, id, week(), now()).await.unwrap();
    let daily = db.gold(t, id, GoldPeriod::Day, week()).await.unwrap();
    let acct = daily
        .iter()
        .find(|r| r.entity == GoldEntity::Account)
        .unwrap();
    assert_eq!(acct.totals.spend, Decimal::new(9_515, 2));
}

/// On PostgreSQL the fact tables have no per-row foreign keys (migration 5):
/// statement triggers carry the cascade. On SQLite the keys do.
async fn deleting_a_campaign_or_account_deletes_its_silver_and_gold_rows(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    let (t, id) = (a.tenant_id, a.id);
    sync(&db, &a, &insights()).await;
    let days = db.campaign_days(t, id, week()).await.unwrap();
    let gone = days[0].campaign_id;
    assert!(CampaignRepository::delete(&db, t, gone).await.unwrap());

    let days = db.campaign_days(t, id, week()).await.unwrap();
    assert!(!days.is_empty() && days.iter().all(|d| d.campaign_id != gone));
    for period in [GoldPeriod::Day, GoldPeriod::Week] {
        let gold = db.gold(t, id, period, week()).await.unwrap();
        assert!(gold.iter().all(|r| r.entity != GoldEntity::Campaign(gone)));
        assert!(gold.iter().any(|r| r.entity != GoldEntity::Account));
    }

    assert!(AdAccountRepository::delete(&db, t, id).await.unwrap());
    assert!(db.campaign_days(t, id, week()).await.unwrap().is_empty());
    for period in [GoldPeriod::Day, GoldPeriod::Week] {
        assert!(db.gold(t, id, period, week()).await.unwrap().is_empty());
    }
}

fn run(a: &AdAccount, kind: SyncKind) -> SyncRun {
    SyncRun {
        id: SyncRunId::generate(),
        tenant_id: a.tenant_id,
        ad_account_id: a.id,
        kind,
        status: SyncStatus::Queued,
        range: week(),
        queued_at: now(),
        started_at: None,
        finished_at: None,
        counts: SyncCounts::default(),
        rows_changed: 0,
        api_calls: 0,
        attempts: 0,
        error: None,
    }
}

async fn one_platform_sync_per_account_is_queued_at_a_time(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    let first = db.enqueue(&run(&a, SyncKind::Manual)).await.unwrap();
    let second = db.enqueue(&run(&a, SyncKind::Scheduled)).await.unwrap();
    assert_eq!(second.id, first.id, "the run in flight is answered");
    let mut import = run(&a, SyncKind::Import);
    import.status = SyncStatus::Running;
    let i = db.enqueue(&import).await.unwrap();
    assert_ne!(i.id, first.id, "imports do not wait for platform syncs");
    db.finish(a.tenant_id, first.id, &SyncOutcome::default(), now())
        .await
        .unwrap();
    let third = db.enqueue(&run(&a, SyncKind::Scheduled)).await.unwrap();
    assert_ne!(third.id, first.id);
}

async fn sync_runs_start_finish_and_requeue(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    let r = db.enqueue(&run(&a, SyncKind::Manual)).await.unwrap();
    let started = db.start(a.tenant_id, r.id, now()).await.unwrap().unwrap();
    assert_eq!((started.status, started.attempts), (SyncStatus::Running, 1));
    db.requeue(a.tenant_id, r.id, "attempt 1 failed: throttled")
        .await
        .unwrap();
    let again = db.start(a.tenant_id, r.id, now()).await.unwrap().unwrap();
    assert_eq!(again.attempts, 2);
    let outcome = SyncOutcome {
        counts: SyncCounts {
            campaigns: 2,
            ad_sets: 2,
            ads: 3,
            insights: 9,
        },
        rows_changed: 16,
        api_calls: 5,
        error: None,
    };
    db.finish(a.tenant_id, r.id, &outcome, now()).await.unwrap();
    let done = SyncRunRepository::find(&db, a.tenant_id, r.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, SyncStatus::Succeeded);
    assert_eq!(done.counts.insights, 9);
    assert!(
        db.start(a.tenant_id, r.id, now()).await.unwrap().is_none(),
        "a finished run is not started again"
    );
    let other = account(&db).await;
    assert!(
        SyncRunRepository::find(&db, other.tenant_id, r.id)
            .await
            .unwrap()
            .is_none(),
        "another tenant cannot see it"
    );
    assert_eq!(
        SyncRunRepository::list(&db, a.tenant_id, Some(a.id), PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

async fn bronze_keeps_pages_and_purges_old_ones(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    let r = db.enqueue(&run(&a, SyncKind::Manual)).await.unwrap();
    let page = |at: OffsetDateTime| RawPage {
        endpoint: "act_123/campaigns".to_owned(),
        params: json!({"fields": "id,name", "limit": "500"}),
        body: json!({"data": [{"id": "c1", "name": "Ünïcode ✓"}], "paging": {}}).to_string(),
        fetched_at: at,
    };
    db.store_raw(
        a.tenant_id,
        a.id,
        r.id,
        &page(now() - time::Duration::days(100)),
    )
    .await
    .unwrap();
    db.store_raw(a.tenant_id, a.id, r.id, &page(now()))
        .await
        .unwrap();
    assert_eq!(
        db.purge_raw(now() - time::Duration::days(90))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.purge_raw(now() - time::Duration::days(90))
            .await
            .unwrap(),
        0
    );
}

async fn sealed_tokens_are_stored_per_tenant(tdb: TestDb) {
    let db = tdb.db();
    let a = account(&db).await;
    assert_eq!(db.sealed_token(a.tenant_id, a.id).await.unwrap(), None);
    assert!(
        db.schedulable()
            .await
            .unwrap()
            .iter()
            .all(|(_, id)| *id != a.id)
    );
    assert!(
        db.set_sealed_token(a.tenant_id, a.id, Some(vec![1, 2, 3]))
            .await
            .unwrap()
    );
    assert_eq!(
        db.sealed_token(a.tenant_id, a.id).await.unwrap(),
        Some(vec![1, 2, 3])
    );
    assert!(
        db.schedulable()
            .await
            .unwrap()
            .contains(&(a.tenant_id, a.id))
    );
    let other = account(&db).await;
    assert!(
        !db.set_sealed_token(other.tenant_id, a.id, Some(vec![9]))
            .await
            .unwrap()
    );
    assert_eq!(db.sealed_token(other.tenant_id, a.id).await.unwrap(), None);
}
