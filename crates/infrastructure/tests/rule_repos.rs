//! The rule repository on both backends: specs round-trip whole, revisions
//! are optimistic and keep every version, deletes are soft, tenants are
//! isolated, and every organization — created before or after the rules
//! migration — starts with the seed rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use domain::identity::{Organization, OrganizationRepository, User};
use domain::page::PageRequest;
use domain::rules::{
    Conditions, Filter, Guards, Op, Rule, RuleAction, RuleLevel, RuleMetric, RuleMode,
    RuleRepository, RuleSpec, Schedule,
};
use domain::{RepoError, RuleId, TenantId, UserId};
use infrastructure::db::rules::spec_to_json;
use infrastructure::db::testing::TestDb;
use infrastructure::db::{Db, DbPool};
use infrastructure::on_both_backends;
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

on_both_backends!(
    a_created_rule_reads_back_whole_and_keeps_version_one,
    revising_bumps_the_version_and_keeps_every_version,
    a_stale_version_is_a_conflict_and_writes_nothing,
    deleting_hides_the_rule_but_keeps_its_versions,
    another_tenant_sees_and_changes_nothing,
    lists_paginate_newest_first_and_skip_deleted_rules,
    a_new_organization_starts_with_the_seed_rule,
    a_rule_of_an_unknown_tenant_is_a_missing_reference,
);

/// The migration that creates the rules tables and seeds existing tenants.
const RULES_MIGRATION: &str = "2024-06-01-000006";

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A spec using every optional part: `all`, both guards, a budget action.
fn scale_winners() -> RuleSpec {
    RuleSpec {
        name: "Scale winners".to_owned(),
        level: RuleLevel::AdSet,
        conditions: Conditions::All(vec![
            Filter {
                metric: RuleMetric::Roas,
                op: Op::Gte,
                value: d("3.50"),
            },
            Filter {
                metric: RuleMetric::Spend,
                op: Op::Gt,
                value: d("100"),
            },
        ]),
        window_days: 7,
        guards: Guards {
            min_spend: Some(d("50.00")),
            min_impressions: Some(2_000),
        },
        action: RuleAction::BudgetUp { percent: d("20") },
        schedule: Schedule::Daily,
        mode: RuleMode::AutoApply,
        enabled: false,
    }
}

/// A registered organization (which brings its seed rule).
async fn tenant(db: &Db) -> TenantId {
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
    org.id
}

async fn created(db: &Db, t: TenantId, spec: RuleSpec) -> Rule {
    let rule = Rule::create(t, spec, now()).unwrap();
    db.create(&rule).await.unwrap();
    rule
}

async fn all_rules(db: &Db, t: TenantId) -> Vec<Rule> {
    db.list(t, PageRequest::first(200)).await.unwrap().items
}

async fn a_created_rule_reads_back_whole_and_keeps_version_one(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let rule = created(&db, t, scale_winners()).await;
    assert_eq!(db.get(t, rule.id).await.unwrap(), Some(rule.clone()));
    assert_eq!(
        db.version(t, rule.id, 1).await.unwrap(),
        Some(scale_winners())
    );
    assert_eq!(db.version(t, rule.id, 2).await.unwrap(), None);
    assert_eq!(db.get(t, RuleId::generate()).await.unwrap(), None);
}

async fn revising_bumps_the_version_and_keeps_every_version(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let rule = created(&db, t, scale_winners()).await;
    let later = rule.created_at + Duration::minutes(5);
    let v2 = RuleSpec {
        window_days: 14,
        enabled: true,
        ..scale_winners()
    };
    let revised = db.revise(t, rule.id, 1, &v2, later).await.unwrap().unwrap();
    assert_eq!(revised.version, 2);
    assert_eq!(revised.spec, v2);
    assert_eq!(
        (revised.created_at, revised.updated_at),
        (rule.created_at, later)
    );
    assert_eq!(db.get(t, rule.id).await.unwrap(), Some(revised.clone()));
    let v3 = RuleSpec {
        action: RuleAction::Pause,
        conditions: Conditions::Any(vec![Filter {
            metric: RuleMetric::Cpa,
            op: Op::Gt,
            value: d("80"),
        }]),
        ..v2.clone()
    };
    let third = db
        .revise(t, rule.id, 2, &v3, later + Duration::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.version, 3);
    for (version, spec) in [(1, scale_winners()), (2, v2), (3, v3)] {
        assert_eq!(
            db.version(t, rule.id, version).await.unwrap(),
            Some(spec),
            "version {version}"
        );
    }
}

async fn a_stale_version_is_a_conflict_and_writes_nothing(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let rule = created(&db, t, scale_winners()).await;
    let v2 = RuleSpec {
        name: "v2".to_owned(),
        ..scale_winners()
    };
    db.revise(t, rule.id, 1, &v2, now()).await.unwrap().unwrap();
    let late = RuleSpec {
        name: "based on version 1".to_owned(),
        ..scale_winners()
    };
    for stale in [1, 3] {
        assert_eq!(
            db.revise(t, rule.id, stale, &late, now()).await,
            Err(RepoError::Conflict("version".to_owned())),
            "expected {stale}"
        );
    }
    let current = db.get(t, rule.id).await.unwrap().unwrap();
    assert_eq!((current.version, current.spec.name.as_str()), (2, "v2"));
    assert_eq!(db.version(t, rule.id, 3).await.unwrap(), None);
    assert_eq!(
        db.revise(t, RuleId::generate(), 1, &late, now())
            .await
            .unwrap(),
        None,
        "a missing rule is not a conflict"
    );
}

async fn deleting_hides_the_rule_but_keeps_its_versions(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let rule = created(&db, t, scale_winners()).await;
    let v2 = RuleSpec {
        window_days: 30,
        ..scale_winners()
    };
    db.revise(t, rule.id, 1, &v2, now()).await.unwrap().unwrap();
    assert!(db.delete(t, rule.id, now()).await.unwrap());
    assert_eq!(db.get(t, rule.id).await.unwrap(), None);
    assert!(all_rules(&db, t).await.iter().all(|r| r.id != rule.id));
    assert_eq!(
        db.revise(t, rule.id, 2, &scale_winners(), now())
            .await
            .unwrap(),
        None,
        "a deleted rule cannot be revised"
    );
    assert!(
        !db.delete(t, rule.id, now()).await.unwrap(),
        "deleting twice finds nothing"
    );
    assert_eq!(
        db.version(t, rule.id, 1).await.unwrap(),
        Some(scale_winners())
    );
    assert_eq!(db.version(t, rule.id, 2).await.unwrap(), Some(v2));
}

async fn another_tenant_sees_and_changes_nothing(tdb: TestDb) {
    let db = tdb.db();
    let a = tenant(&db).await;
    let b = tenant(&db).await;
    let rule = created(&db, a, scale_winners()).await;
    assert_eq!(db.get(b, rule.id).await.unwrap(), None);
    assert_eq!(db.version(b, rule.id, 1).await.unwrap(), None);
    assert_eq!(
        db.revise(b, rule.id, 1, &RuleSpec::seed(), now())
            .await
            .unwrap(),
        None
    );
    assert!(!db.delete(b, rule.id, now()).await.unwrap());
    assert!(all_rules(&db, b).await.iter().all(|r| r.tenant_id == b));
    assert_eq!(db.get(a, rule.id).await.unwrap(), Some(rule));
}

async fn lists_paginate_newest_first_and_skip_deleted_rules(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let seed = all_rules(&db, t).await;
    assert_eq!(seed.len(), 1);
    let mut ids = vec![seed[0].id];
    for i in 0..5 {
        let spec = RuleSpec {
            name: format!("Rule {i}"),
            ..RuleSpec::seed()
        };
        ids.push(created(&db, t, spec).await.id);
    }
    assert!(db.delete(t, ids[2], now()).await.unwrap());
    ids.remove(2);
    ids.reverse();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = db.list(t, page).await.unwrap();
        assert!(p.items.len() <= 2);
        seen.extend(p.items.iter().map(|r| r.id));
        let Some(cursor) = p.next_cursor else { break };
        page = PageRequest::new(Some(2), Some(&cursor)).unwrap();
    }
    assert_eq!(seen, ids);
}

async fn a_new_organization_starts_with_the_seed_rule(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let rules = all_rules(&db, t).await;
    assert_eq!(rules.len(), 1);
    let seed = &rules[0];
    assert_eq!(
        (seed.version, &seed.spec, seed.tenant_id),
        (1, &RuleSpec::seed(), t)
    );
    assert_eq!(
        db.version(t, seed.id, 1).await.unwrap(),
        Some(RuleSpec::seed())
    );
    assert_eq!(
        stored_json(&tdb.pool(), seed.id).await,
        spec_to_json(&RuleSpec::seed()).unwrap()
    );
}

async fn a_rule_of_an_unknown_tenant_is_a_missing_reference(tdb: TestDb) {
    let db = tdb.db();
    let rule = Rule::create(TenantId::generate(), RuleSpec::seed(), now()).unwrap();
    assert_eq!(
        db.create(&rule).await,
        Err(RepoError::MissingReference("tenant_id".to_owned()))
    );
}

// ------------------------------------------------------------------ the migration

#[derive(QueryableByName)]
struct SpecText {
    #[diesel(sql_type = diesel::sql_types::Text)]
    spec: String,
}

/// The `spec` column of a rule as the text stored.
async fn stored_json(pool: &DbPool, id: RuleId) -> serde_json::Value {
    let rows: Vec<SpecText> = match pool {
        DbPool::Postgres(p) => {
            let mut c = p.get().await.unwrap();
            diesel::sql_query(format!(
                "SELECT spec::text AS spec FROM rules WHERE id = '{id}'"
            ))
            .load(&mut *c)
            .await
            .unwrap()
        }
        DbPool::Sqlite(p) => {
            let mut c = p.get().await.unwrap();
            diesel::sql_query(format!("SELECT spec FROM rules WHERE id = '{id}'"))
                .load(&mut *c)
                .await
                .unwrap()
        }
    };
    assert_eq!(rows.len(), 1);
    serde_json::from_str(&rows[0].spec).unwrap()
}

/// An organization written before rules existed (no repository: it would
/// insert the seed rule into a table that is not there yet).
async fn old_organization(pool: &DbPool) -> TenantId {
    let id = TenantId::generate();
    match pool {
        DbPool::Postgres(p) => {
            let mut c = p.get().await.unwrap();
            diesel::sql_query(format!(
                "INSERT INTO organizations (id, name, created_at) VALUES ('{id}', 'Old', now())"
            ))
            .execute(&mut *c)
            .await
            .unwrap();
        }
        DbPool::Sqlite(p) => {
            let mut c = p.get().await.unwrap();
            diesel::sql_query(format!(
                "INSERT INTO organizations (id, name, created_at) \
                 VALUES ('{id}', 'Old', '2024-05-01 12:00:00+00:00')"
            ))
            .execute(&mut *c)
            .await
            .unwrap();
        }
    }
    id
}

async fn the_migration_gives_existing_organizations_the_seed_rule(tdb: TestDb) {
    let old = [
        old_organization(&tdb.pool()).await,
        old_organization(&tdb.pool()).await,
    ];
    assert!(tdb.migrate().await >= 1);
    let db = tdb.db();
    let mut ids = Vec::new();
    for t in old {
        let rules = all_rules(&db, t).await;
        assert_eq!(rules.len(), 1, "exactly one seed rule per organization");
        let seed = &rules[0];
        assert_eq!(
            (seed.version, &seed.spec, seed.tenant_id),
            (1, &RuleSpec::seed(), t)
        );
        assert_eq!(seed.created_at, seed.updated_at);
        assert_eq!(
            db.version(t, seed.id, 1).await.unwrap(),
            Some(RuleSpec::seed())
        );
        assert_eq!(
            stored_json(&tdb.pool(), seed.id).await,
            spec_to_json(&RuleSpec::seed()).unwrap(),
            "the migration's JSON is what RuleSpec::seed() is stored as"
        );
        ids.push(seed.id);
    }
    assert_ne!(ids[0], ids[1], "each seed rule has its own id");
    // Migrated seeds behave like any rule.
    let t = old[0];
    let edited = RuleSpec {
        window_days: 7,
        ..RuleSpec::seed()
    };
    assert_eq!(
        db.revise(t, ids[0], 1, &edited, now())
            .await
            .unwrap()
            .map(|r| r.version),
        Some(2)
    );
}

mod migration {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pg_gives_existing_organizations_the_seed_rule() {
        let tdb =
            infrastructure::db::testing::TestDb::postgres_before(super::RULES_MIGRATION).await;
        super::the_migration_gives_existing_organizations_the_seed_rule(tdb).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_gives_existing_organizations_the_seed_rule() {
        let tdb = infrastructure::db::testing::TestDb::sqlite_before(super::RULES_MIGRATION).await;
        super::the_migration_gives_existing_organizations_the_seed_rule(tdb).await;
    }
}
