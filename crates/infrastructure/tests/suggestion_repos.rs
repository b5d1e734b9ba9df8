//! The suggestion repository on both backends: one suggestion per rule,
//! entity and window whatever its state, a newer window expires older pending
//! ones, rejecting is allowed once and only from pending, and tenants are
//! isolated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::ads::{
    AdAccount, AdAccountRepository, AdAccountStatus, AdPlatform, Currency, DateRange,
};
use domain::identity::{Organization, OrganizationRepository, User};
use domain::notify::{AlertFilter, AlertKind, AlertOutbox};
use domain::page::PageRequest;
use domain::rules::{
    ApplyResult, MetricSnapshot, Proposal, Rule, RuleAction, RuleRepository, RuleSpec, Suggestion,
    SuggestionRepository, SuggestionStatus, Trigger,
};
use domain::{AdAccountId, RepoError, SuggestionId, TenantId, UserId};
use infrastructure::db::Db;
use infrastructure::db::testing::TestDb;
use infrastructure::on_both_backends;
use rust_decimal::Decimal;
use time::macros::date;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

on_both_backends!(
    accepted_suggestions_are_taken_once_until_their_hold_ends_and_finished_once,
    a_retry_waits_until_it_is_due_and_keeps_the_last_failure,
    a_suggestion_reads_back_whole_and_its_window_is_taken_once,
    a_newer_window_expires_older_pending_suggestions_only,
    rejecting_is_allowed_once_and_only_from_pending,
    another_tenant_sees_and_changes_nothing,
    lists_filter_by_status_and_paginate_newest_first,
);

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

struct Fixture {
    tenant: TenantId,
    account: AdAccountId,
    rule: Rule,
}

/// An organization with an ad account and a rule of its own.
async fn fixture(db: &Db) -> Fixture {
    let org = Organization {
        id: TenantId::generate(),
        name: "Acme".to_owned(),
        timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
        created_at: now(),
    };
    let owner = User {
        id: UserId::generate(),
        email: format!("u{}@example.com", Uuid::new_v4().simple()),
        name: "Ana".to_owned(),
        password_hash: "x".to_owned(),
        created_at: now(),
    };
    db.create_with_owner(&org, &owner).await.unwrap();
    let account = AdAccount {
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
    AdAccountRepository::insert(db, &account).await.unwrap();
    let rule = Rule::create(org.id, RuleSpec::seed(), now()).unwrap();
    RuleRepository::create(db, &rule).await.unwrap();
    Fixture {
        tenant: org.id,
        account: account.id,
        rule,
    }
}

fn metrics() -> MetricSnapshot {
    MetricSnapshot {
        spend: Decimal::new(3000, 2),
        impressions: 2_000,
        clicks: 10,
        conversions: 3,
        revenue: Decimal::new(12050, 2),
        ctr: Some(Decimal::new(5, 1)),
        cpc: Some(Decimal::new(300, 2)),
        cpm: Some(Decimal::new(1500, 2)),
        cpa: Some(Decimal::new(1000, 2)),
        roas: None,
    }
}

/// A pending suggestion of `rule` for `entity` over `window`.
fn suggestion(rule: &Rule, entity: Uuid, window: DateRange, at: OffsetDateTime) -> Suggestion {
    Suggestion::pending(
        rule,
        entity,
        "Summer sale".to_owned(),
        window,
        Trigger {
            matched: Vec::new(),
            metrics: metrics(),
            reason: "CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 2,000 impressions)"
                .to_owned(),
        },
        Proposal::Pause,
        at,
    )
}

/// The suggestion's alert, written with it.
fn alert(s: &Suggestion) -> domain::notify::Alert {
    domain::notify::Alert::suggestion_created(s, "Low CTR")
}

fn jan(from: u8, to: u8) -> DateRange {
    DateRange::new(
        date!(2026 - 01 - 01).replace_day(from).unwrap(),
        date!(2026 - 01 - 01).replace_day(to).unwrap(),
    )
    .unwrap()
}

async fn a_suggestion_reads_back_whole_and_its_window_is_taken_once(tdb: TestDb) {
    let db = tdb.db();
    let f = fixture(&db).await;
    let entity = Uuid::now_v7();
    let first = suggestion(&f.rule, entity, jan(7, 9), now());
    assert!(
        db.insert_if_new(f.account, &first, &alert(&first))
            .await
            .unwrap()
    );
    assert_eq!(
        SuggestionRepository::get(&db, f.tenant, first.id)
            .await
            .unwrap(),
        Some(first.clone())
    );

    let again = suggestion(&f.rule, entity, jan(7, 9), now());
    assert!(
        !db.insert_if_new(f.account, &again, &alert(&again))
            .await
            .unwrap()
    );
    assert_eq!(
        SuggestionRepository::get(&db, f.tenant, again.id)
            .await
            .unwrap(),
        None
    );

    // A budget suggestion keeps its action's percent and both budgets.
    let mut budget_rule = Rule::create(
        f.tenant,
        RuleSpec {
            action: RuleAction::BudgetUp {
                percent: Decimal::new(125, 1),
            },
            ..RuleSpec::seed()
        },
        now(),
    )
    .unwrap();
    RuleRepository::create(&db, &budget_rule).await.unwrap();
    budget_rule.version = 1;
    let mut up = suggestion(&budget_rule, entity, jan(7, 9), now());
    up.proposal = Proposal::Budget {
        from: Decimal::new(10000, 2),
        to: Decimal::new(11250, 2),
    };
    assert!(db.insert_if_new(f.account, &up, &alert(&up)).await.unwrap());
    assert_eq!(
        SuggestionRepository::get(&db, f.tenant, up.id)
            .await
            .unwrap(),
        Some(up)
    );

    let unknown_rule = Rule::create(f.tenant, RuleSpec::seed(), now()).unwrap();
    let orphan = suggestion(&unknown_rule, entity, jan(7, 9), now());
    assert!(matches!(
        db.insert_if_new(f.account, &orphan, &alert(&orphan)).await,
        Err(RepoError::MissingReference(_))
    ));
}

async fn a_newer_window_expires_older_pending_suggestions_only(tdb: TestDb) {
    let db = tdb.db();
    let f = fixture(&db).await;
    let (entity, other) = (Uuid::now_v7(), Uuid::now_v7());
    let t0 = now();
    let old = suggestion(&f.rule, entity, jan(6, 8), t0);
    let rejected = suggestion(&f.rule, entity, jan(5, 7), t0);
    let other_entity = suggestion(&f.rule, other, jan(6, 8), t0);
    for s in [&old, &rejected, &other_entity] {
        assert!(db.insert_if_new(f.account, s, &alert(s)).await.unwrap());
    }
    db.reject(f.tenant, rejected.id, UserId::generate(), "no", t0)
        .await
        .unwrap()
        .unwrap();

    let t1 = t0 + Duration::days(1);
    let newer = suggestion(&f.rule, entity, jan(7, 9), t1);
    assert!(
        db.insert_if_new(f.account, &newer, &alert(&newer))
            .await
            .unwrap()
    );

    let old = SuggestionRepository::get(&db, f.tenant, old.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (old.status, old.decided_by, old.decided_at),
        (SuggestionStatus::Expired, None, Some(t1))
    );
    let status = |id| {
        let db = db.clone();
        async move {
            SuggestionRepository::get(&db, f.tenant, id)
                .await
                .unwrap()
                .unwrap()
                .status
        }
    };
    assert_eq!(status(rejected.id).await, SuggestionStatus::Rejected);
    assert_eq!(status(other_entity.id).await, SuggestionStatus::Pending);
    assert_eq!(status(newer.id).await, SuggestionStatus::Pending);
}

async fn rejecting_is_allowed_once_and_only_from_pending(tdb: TestDb) {
    let db = tdb.db();
    let f = fixture(&db).await;
    let s = suggestion(&f.rule, Uuid::now_v7(), jan(7, 9), now());
    assert!(db.insert_if_new(f.account, &s, &alert(&s)).await.unwrap());
    let user = UserId::generate();
    let at = now();

    let rejected = db
        .reject(f.tenant, s.id, user, "seasonal dip", at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (rejected.status, rejected.decided_by, rejected.decided_at),
        (SuggestionStatus::Rejected, Some(user), Some(at))
    );
    assert_eq!(
        SuggestionRepository::get(&db, f.tenant, s.id)
            .await
            .unwrap(),
        Some(rejected.clone())
    );

    assert!(matches!(
        db.reject(f.tenant, s.id, user, "again", at).await,
        Err(RepoError::Conflict(field)) if field == "status"
    ));
    assert_eq!(
        SuggestionRepository::get(&db, f.tenant, s.id)
            .await
            .unwrap(),
        Some(rejected)
    );
    assert_eq!(
        db.reject(f.tenant, SuggestionId::generate(), user, "x", at)
            .await
            .unwrap(),
        None
    );
    let same_window = suggestion(&f.rule, s.entity_id, s.window, now());
    assert!(
        !db.insert_if_new(f.account, &same_window, &alert(&same_window))
            .await
            .unwrap(),
        "a rejected suggestion is not made again for the same window"
    );
}

async fn another_tenant_sees_and_changes_nothing(tdb: TestDb) {
    let db = tdb.db();
    let a = fixture(&db).await;
    let b = fixture(&db).await;
    let s = suggestion(&a.rule, Uuid::now_v7(), jan(7, 9), now());
    assert!(db.insert_if_new(a.account, &s, &alert(&s)).await.unwrap());

    assert_eq!(
        SuggestionRepository::get(&db, b.tenant, s.id)
            .await
            .unwrap(),
        None
    );
    let listed = SuggestionRepository::list(&db, b.tenant, None, PageRequest::first(50))
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    assert_eq!(
        db.reject(b.tenant, s.id, UserId::generate(), "mine now", now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        SuggestionRepository::get(&db, a.tenant, s.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        SuggestionStatus::Pending
    );

    // Another tenant's rule or account cannot be named.
    let mut foreign = suggestion(&a.rule, Uuid::now_v7(), jan(7, 9), now());
    foreign.tenant_id = b.tenant;
    assert!(matches!(
        db.insert_if_new(b.account, &foreign, &alert(&foreign))
            .await,
        Err(RepoError::MissingReference(_))
    ));
}

async fn lists_filter_by_status_and_paginate_newest_first(tdb: TestDb) {
    let db = tdb.db();
    let f = fixture(&db).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let s = suggestion(&f.rule, Uuid::now_v7(), jan(7, 9), now());
        assert!(db.insert_if_new(f.account, &s, &alert(&s)).await.unwrap());
        ids.push(s.id);
    }
    db.reject(f.tenant, ids[0], UserId::generate(), "no", now())
        .await
        .unwrap()
        .unwrap();

    let first = SuggestionRepository::list(
        &db,
        f.tenant,
        Some(SuggestionStatus::Pending),
        PageRequest::first(1),
    )
    .await
    .unwrap();
    assert_eq!(
        first.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [ids[2]]
    );
    let cursor = first.next_cursor.expect("a second page");
    let second = SuggestionRepository::list(
        &db,
        f.tenant,
        Some(SuggestionStatus::Pending),
        PageRequest::new(Some(1), Some(&cursor)).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        second.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    assert_eq!(second.next_cursor, None);

    let rejected = SuggestionRepository::list(
        &db,
        f.tenant,
        Some(SuggestionStatus::Rejected),
        PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(
        rejected.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [ids[0]]
    );
    let all = SuggestionRepository::list(&db, f.tenant, None, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
}

async fn accepted_suggestions_are_taken_once_until_their_hold_ends_and_finished_once(tdb: TestDb) {
    let db = tdb.db();
    let f = fixture(&db).await;
    let s = suggestion(&f.rule, Uuid::now_v7(), jan(7, 9), now());
    assert!(db.insert_if_new(f.account, &s, &alert(&s)).await.unwrap());
    let t0 = now();
    assert!(
        db.take_due(t0, t0 + Duration::minutes(2), 10)
            .await
            .unwrap()
            .is_empty(),
        "pending is not due"
    );

    let user = UserId::generate();
    let accepted = db
        .accept(f.tenant, s.id, Some(user), t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (accepted.status, accepted.decided_by, accepted.decided_at),
        (SuggestionStatus::Accepted, Some(user), Some(t0))
    );
    assert!(matches!(
        db.accept(f.tenant, s.id, Some(user), t0).await,
        Err(RepoError::Conflict(field)) if field == "status"
    ));

    let hold = t0 + Duration::minutes(2);
    let taken = db.take_due(t0, hold, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(
        (
            taken[0].suggestion.id,
            taken[0].ad_account_id,
            taken[0].attempt
        ),
        (s.id, f.account, 1)
    );
    assert!(
        db.take_due(t0, hold, 10).await.unwrap().is_empty(),
        "held: a second worker skips it"
    );
    // A worker that died holding it: taken again once the hold is over, as try 2.
    let again = db
        .take_due(hold, hold + Duration::minutes(2), 10)
        .await
        .unwrap();
    assert_eq!(again.iter().map(|t| t.attempt).collect::<Vec<_>>(), [2]);

    let at = now();
    let applied_alert = domain::notify::Alert::action_applied(&s, "Low CTR", at);
    let applied = db
        .finish_apply(
            f.tenant,
            s.id,
            &ApplyResult::Applied,
            at,
            Some(applied_alert.clone()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (applied.status, applied.applied_at, applied.failure),
        (SuggestionStatus::Applied, Some(at), None)
    );
    assert_eq!(
        db.finish_apply(
            f.tenant,
            s.id,
            &ApplyResult::Failed("late".to_owned()),
            at,
            Some(applied_alert.clone())
        )
        .await
        .unwrap(),
        None,
        "finished once"
    );
    // The alert was written with the first finish only.
    let alerts = AlertOutbox::list(
        &db,
        f.tenant,
        AlertFilter::default(),
        PageRequest::first(10),
    )
    .await
    .unwrap()
    .items;
    let kinds: Vec<_> = alerts.iter().map(|a| a.alert.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == AlertKind::ActionApplied)
            .count(),
        1,
        "{kinds:?}"
    );
    assert!(
        db.take_due(at + Duration::hours(1), at + Duration::hours(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let other = fixture(&db).await;
    assert_eq!(
        db.accept(other.tenant, s.id, None, at).await.unwrap(),
        None,
        "another tenant's is missing"
    );
}

async fn a_retry_waits_until_it_is_due_and_keeps_the_last_failure(tdb: TestDb) {
    let db = tdb.db();
    let f = fixture(&db).await;
    let s = suggestion(&f.rule, Uuid::now_v7(), jan(7, 9), now());
    assert!(db.insert_if_new(f.account, &s, &alert(&s)).await.unwrap());
    let t0 = now();
    db.accept(f.tenant, s.id, None, t0).await.unwrap().unwrap();
    assert_eq!(
        db.take_due(t0, t0 + Duration::minutes(2), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    let next = t0 + Duration::seconds(30);
    let retry = ApplyResult::RetryAt {
        at: next,
        error: "the platform is unavailable: 503".to_owned(),
    };
    let waiting = db
        .finish_apply(f.tenant, s.id, &retry, t0, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (waiting.status, waiting.failure.as_deref()),
        (
            SuggestionStatus::Accepted,
            Some("the platform is unavailable: 503")
        )
    );
    assert!(
        db.take_due(next - Duration::seconds(1), next + Duration::minutes(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let taken = db
        .take_due(next, next + Duration::minutes(2), 10)
        .await
        .unwrap();
    assert_eq!(taken.iter().map(|t| t.attempt).collect::<Vec<_>>(), [2]);
    let failed = db
        .finish_apply(
            f.tenant,
            s.id,
            &ApplyResult::Failed("refused (code 100)".to_owned()),
            next,
            None,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (failed.status, failed.failure.as_deref(), failed.applied_at),
        (SuggestionStatus::Failed, Some("refused (code 100)"), None)
    );
}
