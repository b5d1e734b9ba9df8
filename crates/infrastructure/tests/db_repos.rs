//! Repository adapters against real databases: every behaviour is one body,
//! run on PostgreSQL (a fresh schema per test) and on SQLite (a temp file per
//! test). Needs PostgreSQL at `TEST_DATABASE_URL` (see `db::testing`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use domain::ads::{
    Ad, AdAccount, AdAccountPatch, AdAccountRepository, AdAccountStatus, AdPatch, AdPlatform,
    AdRepository, AdSet, AdSetPatch, AdSetRepository, Campaign, CampaignPatch, CampaignRepository,
    Currency, DateRange, EntityFilter, EntityStatus, InsightDaily, InsightLevel, InsightRepository,
    TopMetric,
};
use domain::audit::{AuditEntry, AuditFilter, AuditLogRepository};
use domain::identity::{
    ApiKey, ApiKeyRepository, Email, Membership, MembershipRepository, Organization,
    OrganizationPatch, OrganizationRepository, RefreshToken, RefreshTokenRepository, Role, User,
    UserRepository,
};
use domain::kpi::KpiTotals;
use domain::page::PageRequest;
use domain::platform::Probe;
use domain::{
    AdAccountId, AdId, AdSetId, ApiKeyId, AuditEntryId, CampaignId, RefreshTokenId, RepoError,
    TenantId, TokenFamilyId, UserId,
};
use infrastructure::db::testing::TestDb;
use infrastructure::db::{Db, DbPool};
use rust_decimal::Decimal;
use serde_json::json;
use time::macros::date;
use time::{Date, OffsetDateTime};

use infrastructure::on_both_backends;

on_both_backends!(
    registering_an_organization_creates_owner_and_duplicate_email_writes_nothing,
    organization_update_changes_only_that_organization,
    memberships_are_added_listed_changed_and_removed,
    refresh_token_can_be_spent_once,
    concurrent_spends_have_one_winner,
    revoking_a_family_revokes_every_token_in_it,
    api_key_lookup_ignores_revoked_keys,
    ad_account_crud_applies_patches,
    campaign_crud_applies_patches_and_clears_with_some_none,
    campaign_cannot_reference_another_tenants_ad_account,
    ad_set_and_ad_crud_apply_patches,
    deleting_an_ad_account_cascades_to_everything_under_it,
    deleting_a_campaign_cascades_to_its_ad_sets_ads_and_insights,
    another_tenant_sees_and_changes_nothing,
    lists_paginate_newest_first_without_gaps_or_repeats,
    lists_filter_by_status_and_parent,
    insight_upsert_replaces_rows_instead_of_duplicating,
    insight_upsert_is_all_or_nothing,
    campaign_totals_sum_campaign_rows_in_range_exactly,
    top_ads_rank_by_metric_from_sums,
    audit_log_appends_and_lists_newest_first,
    insight_job_is_held_by_one_taker_per_lease_and_finished_once,
    probe_reports_a_healthy_database,
    migrations_are_applied_once,
);

// ------------------------------------------------------------------ fixtures

/// Now, at the microsecond precision both backends keep.
fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn first_page(limit: u16) -> PageRequest {
    PageRequest::first(limit)
}

fn user(email: &str) -> User {
    User {
        id: UserId::generate(),
        email: email.to_owned(),
        name: "Ana".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_at: now(),
    }
}

fn unique_email() -> String {
    format!("u{}@example.com", uuid::Uuid::new_v4().simple())
}

/// A new organization with its owner.
async fn org(db: &Db) -> (Organization, User) {
    let org = Organization {
        id: TenantId::generate(),
        name: "Acme".to_owned(),
        timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
        created_at: now(),
    };
    let owner = user(&unique_email());
    db.create_with_owner(&org, &owner).await.unwrap();
    (org, owner)
}

async fn tenant(db: &Db) -> TenantId {
    org(db).await.0.id
}

async fn account(db: &Db, t: TenantId) -> AdAccount {
    let a = AdAccount {
        id: AdAccountId::generate(),
        tenant_id: t,
        platform: AdPlatform::Meta,
        external_id: format!("act_{}", uuid::Uuid::new_v4().simple()),
        name: "Main account".to_owned(),
        currency: Currency::parse("BRL").unwrap(),
        timezone: "America/Sao_Paulo".to_owned(),
        status: AdAccountStatus::Active,
        created_at: now(),
        updated_at: now(),
    };
    AdAccountRepository::insert(db, &a).await.unwrap();
    a
}

fn new_campaign(a: &AdAccount) -> Campaign {
    Campaign {
        id: CampaignId::generate(),
        tenant_id: a.tenant_id,
        ad_account_id: a.id,
        external_id: None,
        name: "Spring sale".to_owned(),
        status: EntityStatus::Active,
        objective: Some("OUTCOME_SALES".to_owned()),
        daily_budget: Some(money(5_000)),
        lifetime_budget: None,
        created_at: now(),
        updated_at: now(),
    }
}

async fn campaign(db: &Db, a: &AdAccount) -> Campaign {
    let c = new_campaign(a);
    CampaignRepository::insert(db, &c).await.unwrap();
    c
}

async fn ad_set(db: &Db, c: &Campaign) -> AdSet {
    let s = AdSet {
        id: AdSetId::generate(),
        tenant_id: c.tenant_id,
        ad_account_id: c.ad_account_id,
        campaign_id: c.id,
        external_id: None,
        name: "Lookalike 1%".to_owned(),
        status: EntityStatus::Active,
        daily_budget: Some(money(1_250)),
        lifetime_budget: None,
        optimization_goal: Some("OFFSITE_CONVERSIONS".to_owned()),
        created_at: now(),
        updated_at: now(),
    };
    AdSetRepository::insert(db, &s).await.unwrap();
    s
}

fn new_ad(s: &AdSet) -> Ad {
    Ad {
        id: AdId::generate(),
        tenant_id: s.tenant_id,
        ad_account_id: s.ad_account_id,
        campaign_id: s.campaign_id,
        ad_set_id: s.id,
        external_id: None,
        name: "Carousel".to_owned(),
        status: EntityStatus::Active,
        targeting: json!({"geo_locations": {"countries": ["BR"]}, "age_min": 25}),
        creative: json!({"title": "Sale", "body": "Up to 50% off"}),
        performance: json!({}),
        created_at: now(),
        updated_at: now(),
    }
}

async fn ad(db: &Db, s: &AdSet) -> Ad {
    let a = new_ad(s);
    AdRepository::insert(db, &a).await.unwrap();
    a
}

/// A whole tree: account → campaign → ad set → ad.
async fn tree(db: &Db, t: TenantId) -> (AdAccount, Campaign, AdSet, Ad) {
    let a = account(db, t).await;
    let c = campaign(db, &a).await;
    let s = ad_set(db, &c).await;
    let ad = ad(db, &s).await;
    (a, c, s, ad)
}

fn totals(impressions: i64, clicks: i64, spend: i64, conversions: i64, revenue: i64) -> KpiTotals {
    KpiTotals {
        impressions,
        clicks,
        link_clicks: clicks / 2,
        spend: money(spend),
        conversions,
        revenue: money(revenue),
    }
}

fn campaign_row(c: &Campaign, date: Date, t: KpiTotals) -> InsightDaily {
    InsightDaily {
        tenant_id: c.tenant_id,
        ad_account_id: c.ad_account_id,
        level: InsightLevel::Campaign,
        entity_id: c.id.into_uuid(),
        campaign_id: Some(c.id),
        date,
        totals: t,
        actions: json!([{"action_type": "purchase", "value": t.conversions}]),
    }
}

fn ad_row(a: &Ad, date: Date, t: KpiTotals) -> InsightDaily {
    InsightDaily {
        tenant_id: a.tenant_id,
        ad_account_id: a.ad_account_id,
        level: InsightLevel::Ad,
        entity_id: a.id.into_uuid(),
        campaign_id: Some(a.campaign_id),
        date,
        totals: t,
        actions: json!([]),
    }
}

fn range(from: Date, to: Date) -> DateRange {
    DateRange::new(from, to).unwrap()
}

// ------------------------------------------------------------------ identity

async fn registering_an_organization_creates_owner_and_duplicate_email_writes_nothing(tdb: TestDb) {
    let db = tdb.db();
    let (org1, owner) = org(&db).await;

    assert_eq!(
        OrganizationRepository::find(&db, org1.id).await.unwrap(),
        Some(org1.clone())
    );
    let email = Email::parse(&owner.email).unwrap();
    assert_eq!(db.find_by_email(&email).await.unwrap(), Some(owner.clone()));
    let m = MembershipRepository::find(&db, org1.id, owner.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.role, Role::Owner);

    let org2 = Organization {
        id: TenantId::generate(),
        name: "Copycat".to_owned(),
        timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
        created_at: now(),
    };
    let clash = user(&owner.email);
    let err = db.create_with_owner(&org2, &clash).await.unwrap_err();
    assert_eq!(err, RepoError::Conflict("email".to_owned()));
    assert_eq!(
        OrganizationRepository::find(&db, org2.id).await.unwrap(),
        None
    );
    assert_eq!(UserRepository::find(&db, clash.id).await.unwrap(), None);
    assert_eq!(
        UserRepository::insert(&db, &user(&owner.email)).await,
        Err(RepoError::Conflict("email".to_owned()))
    );
}

async fn organization_update_changes_only_that_organization(tdb: TestDb) {
    let db = tdb.db();
    let (mine, _) = org(&db).await;
    let (other, _) = org(&db).await;

    let zone = OrganizationPatch {
        timezone: Some("America/Sao_Paulo".to_owned()),
        ..OrganizationPatch::default()
    };
    let after = OrganizationRepository::update(&db, mine.id, &zone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.timezone, "America/Sao_Paulo");
    assert_eq!(after.name, mine.name, "a field left out stays as it was");
    let renamed = OrganizationPatch {
        name: Some("Acme Brasil".to_owned()),
        ..OrganizationPatch::default()
    };
    let after = OrganizationRepository::update(&db, mine.id, &renamed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.name.as_str(), after.timezone.as_str()),
        ("Acme Brasil", "America/Sao_Paulo")
    );
    assert_eq!(
        OrganizationRepository::find(&db, mine.id).await.unwrap(),
        Some(after.clone())
    );
    assert_eq!(
        OrganizationRepository::update(&db, mine.id, &OrganizationPatch::default())
            .await
            .unwrap(),
        Some(after),
        "an empty patch reads the organization back unchanged"
    );
    assert_eq!(
        OrganizationRepository::find(&db, other.id).await.unwrap(),
        Some(other)
    );
    assert_eq!(
        OrganizationRepository::update(&db, TenantId::generate(), &zone)
            .await
            .unwrap(),
        None
    );
}

async fn memberships_are_added_listed_changed_and_removed(tdb: TestDb) {
    let db = tdb.db();
    let (o, owner) = org(&db).await;
    let t = o.id;
    let (analyst, viewer) = (user(&unique_email()), user(&unique_email()));
    for (u, role) in [(&analyst, Role::Analyst), (&viewer, Role::Viewer)] {
        UserRepository::insert(&db, u).await.unwrap();
        let m = Membership {
            tenant_id: t,
            user_id: u.id,
            role,
            created_at: now(),
        };
        db.add(&m).await.unwrap();
    }
    let again = Membership {
        tenant_id: t,
        user_id: viewer.id,
        role: Role::Admin,
        created_at: now(),
    };
    assert_eq!(
        db.add(&again).await,
        Err(RepoError::Conflict("membership".to_owned()))
    );
    let stranger = Membership {
        user_id: UserId::generate(),
        ..again.clone()
    };
    assert!(matches!(
        db.add(&stranger).await,
        Err(RepoError::MissingReference(_))
    ));

    let page = MembershipRepository::list(&db, t, first_page(10))
        .await
        .unwrap();
    let listed: Vec<(UserId, Role)> = page.items.iter().map(|m| (m.user_id, m.role)).collect();
    assert_eq!(
        listed,
        vec![
            (viewer.id, Role::Viewer),
            (analyst.id, Role::Analyst),
            (owner.id, Role::Owner)
        ]
    );
    assert_eq!(page.items[0].email, viewer.email);
    assert_eq!(page.next_cursor, None);
    let two = MembershipRepository::list(&db, t, first_page(2))
        .await
        .unwrap();
    assert_eq!(two.items.len(), 2);
    let rest = MembershipRepository::list(
        &db,
        t,
        PageRequest::new(Some(2), two.next_cursor.as_deref()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        rest.items.iter().map(|m| m.user_id).collect::<Vec<_>>(),
        vec![owner.id]
    );

    assert_eq!(db.count_owners(t).await.unwrap(), 1);
    assert!(db.set_role(t, analyst.id, Role::Owner).await.unwrap());
    assert_eq!(db.count_owners(t).await.unwrap(), 2);
    assert_eq!(
        MembershipRepository::find(&db, t, analyst.id)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Owner
    );

    let (o2, _) = org(&db).await;
    db.add(&Membership {
        tenant_id: o2.id,
        user_id: viewer.id,
        role: Role::Admin,
        created_at: now() + Duration::from_secs(1),
    })
    .await
    .unwrap();
    let tenants: Vec<TenantId> = db
        .of_user(viewer.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.tenant_id)
        .collect();
    assert_eq!(tenants, vec![t, o2.id], "oldest membership first");

    assert!(db.remove(t, viewer.id).await.unwrap());
    assert!(!db.remove(t, viewer.id).await.unwrap());
    assert_eq!(
        MembershipRepository::find(&db, t, viewer.id).await.unwrap(),
        None
    );
    assert_eq!(
        MembershipRepository::list(&db, t, first_page(10))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert!(!db.set_role(t, viewer.id, Role::Admin).await.unwrap());
}

fn token(t: TenantId, u: UserId, family: TokenFamilyId) -> RefreshToken {
    RefreshToken {
        id: RefreshTokenId::generate(),
        family_id: family,
        tenant_id: t,
        user_id: u,
        token_hash: format!("hash-{}", uuid::Uuid::new_v4().simple()),
        created_at: now(),
        expires_at: now() + Duration::from_secs(3600),
        used_at: None,
        revoked_at: None,
    }
}

async fn refresh_token_can_be_spent_once(tdb: TestDb) {
    let db = tdb.db();
    let (o, owner) = org(&db).await;
    let tok = token(o.id, owner.id, TokenFamilyId::generate());
    RefreshTokenRepository::insert(&db, &tok).await.unwrap();
    assert_eq!(
        db.find_by_hash(&tok.token_hash).await.unwrap(),
        Some(tok.clone())
    );

    let at = now();
    assert!(db.spend(tok.id, at).await.unwrap());
    assert!(
        !db.spend(tok.id, now()).await.unwrap(),
        "second spend must fail"
    );
    let stored = db.find_by_hash(&tok.token_hash).await.unwrap().unwrap();
    assert_eq!(stored.used_at, Some(at));
    assert_eq!(db.find_by_hash("no-such-hash").await.unwrap(), None);
}

async fn concurrent_spends_have_one_winner(tdb: TestDb) {
    let db = tdb.db();
    let (o, owner) = org(&db).await;
    let tok = token(o.id, owner.id, TokenFamilyId::generate());
    RefreshTokenRepository::insert(&db, &tok).await.unwrap();
    let spenders: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.spend(tok.id, now()).await.unwrap() })
        })
        .collect();
    let mut wins = 0;
    for s in spenders {
        wins += usize::from(s.await.unwrap());
    }
    assert_eq!(wins, 1);
}

async fn revoking_a_family_revokes_every_token_in_it(tdb: TestDb) {
    let db = tdb.db();
    let (o, owner) = org(&db).await;
    let family = TokenFamilyId::generate();
    let (a, b) = (token(o.id, owner.id, family), token(o.id, owner.id, family));
    let other = token(o.id, owner.id, TokenFamilyId::generate());
    for t in [&a, &b, &other] {
        RefreshTokenRepository::insert(&db, t).await.unwrap();
    }
    assert!(db.spend(a.id, now()).await.unwrap());
    let at = now();
    db.revoke_family(family, at).await.unwrap();

    for t in [&a, &b] {
        let stored = db.find_by_hash(&t.token_hash).await.unwrap().unwrap();
        assert_eq!(stored.revoked_at, Some(at));
    }
    assert!(
        !db.spend(b.id, now()).await.unwrap(),
        "a revoked token cannot be spent"
    );
    let untouched = db.find_by_hash(&other.token_hash).await.unwrap().unwrap();
    assert_eq!(untouched.revoked_at, None);
    assert!(db.spend(other.id, now()).await.unwrap());
}

fn api_key(t: TenantId, by: Option<UserId>) -> ApiKey {
    ApiKey {
        id: ApiKeyId::generate(),
        tenant_id: t,
        name: "CI".to_owned(),
        role: Role::Analyst,
        prefix: "ak_live_1234".to_owned(),
        key_hash: format!("sha-{}", uuid::Uuid::new_v4().simple()),
        created_by: by,
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    }
}

async fn api_key_lookup_ignores_revoked_keys(tdb: TestDb) {
    let db = tdb.db();
    let (o, owner) = org(&db).await;
    let other = tenant(&db).await;
    let (k1, k2) = (api_key(o.id, Some(owner.id)), api_key(o.id, None));
    ApiKeyRepository::insert(&db, &k1).await.unwrap();
    ApiKeyRepository::insert(&db, &k2).await.unwrap();
    assert_eq!(
        ApiKeyRepository::insert(
            &db,
            &ApiKey {
                id: ApiKeyId::generate(),
                ..k1.clone()
            }
        )
        .await,
        Err(RepoError::Conflict("key_hash".to_owned()))
    );

    assert_eq!(
        db.find_active_by_hash(&k1.key_hash).await.unwrap(),
        Some(k1.clone())
    );
    let used = now();
    db.touch(k1.id, used).await.unwrap();
    let touched = db.find_active_by_hash(&k1.key_hash).await.unwrap().unwrap();
    assert_eq!(touched.last_used_at, Some(used));

    assert!(
        !db.revoke(other, k1.id, now()).await.unwrap(),
        "foreign tenant"
    );
    assert!(
        db.find_active_by_hash(&k1.key_hash)
            .await
            .unwrap()
            .is_some()
    );
    assert!(db.revoke(o.id, k1.id, now()).await.unwrap());
    assert!(
        !db.revoke(o.id, k1.id, now()).await.unwrap(),
        "already revoked"
    );
    assert_eq!(db.find_active_by_hash(&k1.key_hash).await.unwrap(), None);
    assert!(
        db.find_active_by_hash(&k2.key_hash)
            .await
            .unwrap()
            .is_some()
    );

    let page = ApiKeyRepository::list(&db, o.id, first_page(10))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![k2.id, k1.id]
    );
    assert!(page.items[1].revoked_at.is_some());
    assert!(
        ApiKeyRepository::list(&db, other, first_page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

// ------------------------------------------------------------------ ads CRUD

async fn ad_account_crud_applies_patches(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let a = account(&db, t).await;
    assert_eq!(
        AdAccountRepository::find(&db, t, a.id).await.unwrap(),
        Some(a.clone())
    );
    let dup = AdAccount {
        id: AdAccountId::generate(),
        ..a.clone()
    };
    assert_eq!(
        AdAccountRepository::insert(&db, &dup).await,
        Err(RepoError::Conflict("external_id".to_owned()))
    );

    let at = now() + Duration::from_secs(60);
    let patch = AdAccountPatch {
        status: Some(AdAccountStatus::NeedsReauth),
        currency: Some(Currency::parse("USD").unwrap()),
        ..AdAccountPatch::default()
    };
    let updated = AdAccountRepository::update(&db, t, a.id, &patch, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.status, AdAccountStatus::NeedsReauth);
    assert_eq!(updated.currency.as_str(), "USD");
    assert_eq!(updated.name, a.name, "unpatched fields stay");
    assert_eq!(updated.updated_at, at);
    assert_eq!(updated.created_at, a.created_at);
    assert_eq!(
        AdAccountRepository::find(&db, t, a.id).await.unwrap(),
        Some(updated)
    );

    assert!(AdAccountRepository::delete(&db, t, a.id).await.unwrap());
    assert!(!AdAccountRepository::delete(&db, t, a.id).await.unwrap());
    assert_eq!(AdAccountRepository::find(&db, t, a.id).await.unwrap(), None);
    let missing = AdAccountRepository::update(&db, t, a.id, &patch, at)
        .await
        .unwrap();
    assert_eq!(missing, None);
}

async fn campaign_crud_applies_patches_and_clears_with_some_none(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let a = account(&db, t).await;
    let mut c = new_campaign(&a);
    c.external_id = Some("120210000000000001".to_owned());
    c.lifetime_budget = Some(money(100_000));
    CampaignRepository::insert(&db, &c).await.unwrap();
    assert_eq!(
        CampaignRepository::find(&db, t, c.id).await.unwrap(),
        Some(c.clone())
    );
    let dup = Campaign {
        id: CampaignId::generate(),
        ..c.clone()
    };
    assert_eq!(
        CampaignRepository::insert(&db, &dup).await,
        Err(RepoError::Conflict("external_id".to_owned()))
    );
    // Without a platform id there is no uniqueness to break.
    let local = Campaign {
        id: CampaignId::generate(),
        external_id: None,
        ..c.clone()
    };
    CampaignRepository::insert(&db, &local).await.unwrap();
    CampaignRepository::insert(
        &db,
        &Campaign {
            id: CampaignId::generate(),
            ..local.clone()
        },
    )
    .await
    .unwrap();

    let at = now() + Duration::from_secs(60);
    let patch = CampaignPatch {
        name: Some("Renamed".to_owned()),
        status: Some(EntityStatus::Paused),
        objective: Some(None),
        daily_budget: Some(Some(money(7_550))),
        lifetime_budget: None,
    };
    let updated = CampaignRepository::update(&db, t, c.id, &patch, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        updated,
        Campaign {
            name: "Renamed".to_owned(),
            status: EntityStatus::Paused,
            objective: None,
            daily_budget: Some(money(7_550)),
            updated_at: at,
            ..c.clone()
        }
    );
    let clear = CampaignPatch {
        daily_budget: Some(None),
        lifetime_budget: Some(None),
        ..CampaignPatch::default()
    };
    let cleared = CampaignRepository::update(&db, t, c.id, &clear, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (cleared.daily_budget, cleared.lifetime_budget),
        (None, None)
    );
    assert_eq!(cleared.name, "Renamed");
    assert_eq!(
        CampaignRepository::find(&db, t, c.id).await.unwrap(),
        Some(cleared)
    );

    assert!(CampaignRepository::delete(&db, t, c.id).await.unwrap());
    assert_eq!(CampaignRepository::find(&db, t, c.id).await.unwrap(), None);
    assert!(!CampaignRepository::delete(&db, t, c.id).await.unwrap());
}

async fn campaign_cannot_reference_another_tenants_ad_account(tdb: TestDb) {
    let db = tdb.db();
    let (a_tenant, b_tenant) = (tenant(&db).await, tenant(&db).await);
    let foreign_account = account(&db, b_tenant).await;
    let sneaky = Campaign {
        tenant_id: a_tenant,
        ..new_campaign(&foreign_account)
    };
    assert_eq!(
        CampaignRepository::insert(&db, &sneaky).await,
        Err(RepoError::MissingReference("ad_account_id".to_owned()))
    );
    let (_, c, s, _) = tree(&db, b_tenant).await;
    let own_account = account(&db, a_tenant).await;
    // An ad set must hang under a campaign of the same tenant and account.
    let wrong_tenant = AdSet {
        id: AdSetId::generate(),
        tenant_id: a_tenant,
        ..s.clone()
    };
    assert_eq!(
        AdSetRepository::insert(&db, &wrong_tenant).await,
        Err(RepoError::MissingReference("campaign_id".to_owned()))
    );
    let wrong_account = AdSet {
        id: AdSetId::generate(),
        ad_account_id: own_account.id,
        tenant_id: a_tenant,
        campaign_id: c.id,
        ..s.clone()
    };
    assert_eq!(
        AdSetRepository::insert(&db, &wrong_account).await,
        Err(RepoError::MissingReference("campaign_id".to_owned()))
    );
    let orphan_ad = Ad {
        tenant_id: a_tenant,
        ..new_ad(&s)
    };
    assert_eq!(
        AdRepository::insert(&db, &orphan_ad).await,
        Err(RepoError::MissingReference("ad_set_id".to_owned()))
    );
    assert!(
        CampaignRepository::find(&db, a_tenant, sneaky.id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn ad_set_and_ad_crud_apply_patches(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let (_, _, s, a) = tree(&db, t).await;
    assert_eq!(
        AdSetRepository::find(&db, t, s.id).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        AdRepository::find(&db, t, a.id).await.unwrap(),
        Some(a.clone())
    );

    let at = now() + Duration::from_secs(60);
    let set_patch = AdSetPatch {
        status: Some(EntityStatus::Archived),
        optimization_goal: Some(None),
        lifetime_budget: Some(Some(money(99_999))),
        ..AdSetPatch::default()
    };
    let s2 = AdSetRepository::update(&db, t, s.id, &set_patch, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s2,
        AdSet {
            status: EntityStatus::Archived,
            optimization_goal: None,
            lifetime_budget: Some(money(99_999)),
            updated_at: at,
            ..s.clone()
        }
    );

    let targeting =
        json!({"geo_locations": {"countries": ["BR", "PT"]}, "interests": [{"id": 6003}]});
    let ad_patch = AdPatch {
        name: Some("Video".to_owned()),
        targeting: Some(targeting.clone()),
        ..AdPatch::default()
    };
    let a2 = AdRepository::update(&db, t, a.id, &ad_patch, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a2.targeting, targeting);
    assert_eq!(a2.creative, a.creative, "creative left alone");
    assert_eq!(a2.name, "Video");
    assert_eq!(a2.updated_at, at);
    assert_eq!(AdRepository::find(&db, t, a.id).await.unwrap(), Some(a2));

    assert!(AdRepository::delete(&db, t, a.id).await.unwrap());
    assert_eq!(AdRepository::find(&db, t, a.id).await.unwrap(), None);
    assert!(AdSetRepository::delete(&db, t, s.id).await.unwrap());
    assert_eq!(AdSetRepository::find(&db, t, s.id).await.unwrap(), None);
    assert!(!AdSetRepository::delete(&db, t, s.id).await.unwrap());
}

async fn deleting_an_ad_account_cascades_to_everything_under_it(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let (acct, c, s, a) = tree(&db, t).await;
    let (_, keep_c, _, keep_ad) = tree(&db, t).await;
    db.upsert_daily(&[
        campaign_row(&c, date!(2024 - 05 - 01), totals(10, 1, 100, 0, 0)),
        campaign_row(&keep_c, date!(2024 - 05 - 01), totals(20, 2, 200, 0, 0)),
    ])
    .await
    .unwrap();

    assert!(AdAccountRepository::delete(&db, t, acct.id).await.unwrap());
    assert_eq!(CampaignRepository::find(&db, t, c.id).await.unwrap(), None);
    assert_eq!(AdSetRepository::find(&db, t, s.id).await.unwrap(), None);
    assert_eq!(AdRepository::find(&db, t, a.id).await.unwrap(), None);
    // The campaign (and its insights) are gone, so there is nothing to total.
    let r = range(date!(2024 - 05 - 01), date!(2024 - 05 - 31));
    assert_eq!(db.campaign_totals(t, c.id, r).await.unwrap(), None);
    // The other account's tree is untouched.
    assert!(
        AdRepository::find(&db, t, keep_ad.id)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        db.campaign_totals(t, keep_c.id, r)
            .await
            .unwrap()
            .map(|k| k.impressions),
        Some(20)
    );
}

async fn deleting_a_campaign_cascades_to_its_ad_sets_ads_and_insights(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let (acct, c, s, a) = tree(&db, t).await;
    let day = date!(2024 - 05 - 01);
    db.upsert_daily(&[
        campaign_row(&c, day, totals(10, 1, 100, 0, 0)),
        ad_row(&a, day, totals(10, 1, 100, 0, 0)),
    ])
    .await
    .unwrap();
    assert!(CampaignRepository::delete(&db, t, c.id).await.unwrap());
    assert_eq!(AdSetRepository::find(&db, t, s.id).await.unwrap(), None);
    assert_eq!(AdRepository::find(&db, t, a.id).await.unwrap(), None);
    assert!(
        AdAccountRepository::find(&db, t, acct.id)
            .await
            .unwrap()
            .is_some()
    );
    // Re-creating the campaign with the same id finds no leftover insights.
    CampaignRepository::insert(&db, &c).await.unwrap();
    let r = range(day, day);
    assert_eq!(
        db.campaign_totals(t, c.id, r).await.unwrap(),
        Some(KpiTotals::default())
    );
}

async fn another_tenant_sees_and_changes_nothing(tdb: TestDb) {
    let db = tdb.db();
    let (t_a, t_b) = (tenant(&db).await, tenant(&db).await);
    let (acct, c, s, a) = tree(&db, t_a).await;
    let day = date!(2024 - 05 - 01);
    db.upsert_daily(&[
        campaign_row(&c, day, totals(100, 10, 1_000, 1, 5_000)),
        ad_row(&a, day, totals(100, 10, 1_000, 1, 5_000)),
    ])
    .await
    .unwrap();
    let at = now();
    let all = EntityFilter::default();
    let page = first_page(50);

    // Reads.
    assert_eq!(
        AdAccountRepository::find(&db, t_b, acct.id).await.unwrap(),
        None
    );
    assert_eq!(
        CampaignRepository::find(&db, t_b, c.id).await.unwrap(),
        None
    );
    assert_eq!(AdSetRepository::find(&db, t_b, s.id).await.unwrap(), None);
    assert_eq!(AdRepository::find(&db, t_b, a.id).await.unwrap(), None);
    assert!(
        AdAccountRepository::list(&db, t_b, None, page)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        CampaignRepository::list(&db, t_b, all, page)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        AdSetRepository::list(&db, t_b, all, page)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        AdRepository::list(&db, t_b, all, page)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let by_parent = EntityFilter {
        ad_account_id: Some(acct.id),
        campaign_id: Some(c.id),
        ad_set_id: Some(s.id),
        status: None,
    };
    assert!(
        AdRepository::list(&db, t_b, by_parent, page)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let r = range(day, day);
    assert_eq!(db.campaign_totals(t_b, c.id, r).await.unwrap(), None);
    assert!(
        db.top_ads(t_b, TopMetric::Roas, r, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        MembershipRepository::list(&db, t_b, page)
            .await
            .unwrap()
            .items
            .len()
            == 1
    );

    // Writes.
    let acct_patch = AdAccountPatch {
        name: Some("hijacked".to_owned()),
        ..AdAccountPatch::default()
    };
    assert_eq!(
        AdAccountRepository::update(&db, t_b, acct.id, &acct_patch, at)
            .await
            .unwrap(),
        None
    );
    let c_patch = CampaignPatch {
        name: Some("hijacked".to_owned()),
        ..CampaignPatch::default()
    };
    assert_eq!(
        CampaignRepository::update(&db, t_b, c.id, &c_patch, at)
            .await
            .unwrap(),
        None
    );
    let s_patch = AdSetPatch {
        name: Some("hijacked".to_owned()),
        ..AdSetPatch::default()
    };
    assert_eq!(
        AdSetRepository::update(&db, t_b, s.id, &s_patch, at)
            .await
            .unwrap(),
        None
    );
    let a_patch = AdPatch {
        name: Some("hijacked".to_owned()),
        ..AdPatch::default()
    };
    assert_eq!(
        AdRepository::update(&db, t_b, a.id, &a_patch, at)
            .await
            .unwrap(),
        None
    );
    assert!(!AdRepository::delete(&db, t_b, a.id).await.unwrap());
    assert!(!AdSetRepository::delete(&db, t_b, s.id).await.unwrap());
    assert!(!CampaignRepository::delete(&db, t_b, c.id).await.unwrap());
    assert!(
        !AdAccountRepository::delete(&db, t_b, acct.id)
            .await
            .unwrap()
    );

    // Tenant A still has everything, unchanged.
    assert_eq!(
        AdAccountRepository::find(&db, t_a, acct.id).await.unwrap(),
        Some(acct)
    );
    assert_eq!(
        CampaignRepository::find(&db, t_a, c.id).await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        AdSetRepository::find(&db, t_a, s.id).await.unwrap(),
        Some(s)
    );
    assert_eq!(AdRepository::find(&db, t_a, a.id).await.unwrap(), Some(a));
    assert!(db.campaign_totals(t_a, c.id, r).await.unwrap().is_some());
}

// ------------------------------------------------------------------ lists

async fn lists_paginate_newest_first_without_gaps_or_repeats(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let a = account(&db, t).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(campaign(&db, &a).await.id);
    }
    ids.reverse(); // newest first

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let req = PageRequest::new(Some(2), cursor.as_deref()).unwrap();
        let page = CampaignRepository::list(&db, t, EntityFilter::default(), req)
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);

    // The same cursor gives the same page (stable).
    let req = PageRequest::new(Some(2), Some(&ids[1].to_string())).unwrap();
    let again = CampaignRepository::list(&db, t, EntityFilter::default(), req)
        .await
        .unwrap();
    assert_eq!(
        again.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        ids[2..4].to_vec()
    );
    assert_eq!(again.next_cursor, Some(ids[3].to_string()));
}

async fn lists_filter_by_status_and_parent(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let (a1, a2) = (account(&db, t).await, account(&db, t).await);
    let c1 = campaign(&db, &a1).await;
    let paused = Campaign {
        status: EntityStatus::Paused,
        ..new_campaign(&a1)
    };
    CampaignRepository::insert(&db, &paused).await.unwrap();
    let c3 = campaign(&db, &a2).await;
    let page = first_page(50);
    let ids = |cs: Vec<Campaign>| cs.into_iter().map(|c| c.id).collect::<Vec<_>>();

    let by_status = EntityFilter {
        status: Some(EntityStatus::Paused),
        ..EntityFilter::default()
    };
    assert_eq!(
        ids(CampaignRepository::list(&db, t, by_status, page)
            .await
            .unwrap()
            .items),
        vec![paused.id]
    );
    let by_account = EntityFilter {
        ad_account_id: Some(a1.id),
        ..EntityFilter::default()
    };
    assert_eq!(
        ids(CampaignRepository::list(&db, t, by_account, page)
            .await
            .unwrap()
            .items),
        vec![paused.id, c1.id]
    );
    let both = EntityFilter {
        status: Some(EntityStatus::Active),
        ad_account_id: Some(a2.id),
        ..EntityFilter::default()
    };
    assert_eq!(
        ids(CampaignRepository::list(&db, t, both, page)
            .await
            .unwrap()
            .items),
        vec![c3.id]
    );
    let accounts = AdAccountRepository::list(&db, t, Some(AdAccountStatus::Disabled), page)
        .await
        .unwrap();
    assert!(accounts.items.is_empty());
    let accounts = AdAccountRepository::list(&db, t, Some(AdAccountStatus::Active), page)
        .await
        .unwrap();
    assert_eq!(
        accounts.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![a2.id, a1.id]
    );

    let (s1, s2) = (ad_set(&db, &c1).await, ad_set(&db, &c3).await);
    let (ad1, ad2) = (ad(&db, &s1).await, ad(&db, &s2).await);
    let under_c1 = EntityFilter {
        campaign_id: Some(c1.id),
        ..EntityFilter::default()
    };
    let sets = AdSetRepository::list(&db, t, under_c1, page).await.unwrap();
    assert_eq!(
        sets.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![s1.id]
    );
    let under_s2 = EntityFilter {
        ad_set_id: Some(s2.id),
        ..EntityFilter::default()
    };
    let ads = AdRepository::list(&db, t, under_s2, page).await.unwrap();
    assert_eq!(
        ads.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![ad2.id]
    );
    let under_a1 = EntityFilter {
        ad_account_id: Some(a1.id),
        ..EntityFilter::default()
    };
    let ads = AdRepository::list(&db, t, under_a1, page).await.unwrap();
    assert_eq!(
        ads.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![ad1.id]
    );
}

// ------------------------------------------------------------------ insights

async fn insight_upsert_replaces_rows_instead_of_duplicating(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let (_, c, _, _) = tree(&db, t).await;
    let days = [
        date!(2024 - 05 - 01),
        date!(2024 - 05 - 02),
        date!(2024 - 05 - 03),
    ];
    let first: Vec<_> = days
        .iter()
        .map(|d| campaign_row(&c, *d, totals(100, 10, 1_000, 1, 2_000)))
        .collect();
    assert_eq!(db.upsert_daily(&first).await.unwrap(), 3);
    let r = range(days[0], days[2]);
    assert_eq!(
        db.campaign_totals(t, c.id, r)
            .await
            .unwrap()
            .unwrap()
            .impressions,
        300
    );

    // Meta restates the last two days.
    let restated: Vec<_> = days[1..]
        .iter()
        .map(|d| campaign_row(&c, *d, totals(150, 20, 1_505, 2, 3_000)))
        .collect();
    assert_eq!(db.upsert_daily(&restated).await.unwrap(), 2);
    let sum = db.campaign_totals(t, c.id, r).await.unwrap().unwrap();
    assert_eq!(
        sum,
        KpiTotals {
            impressions: 100 + 150 + 150,
            clicks: 10 + 20 + 20,
            link_clicks: 5 + 10 + 10,
            spend: money(1_000 + 1_505 + 1_505),
            conversions: 1 + 2 + 2,
            revenue: money(2_000 + 3_000 + 3_000),
        }
    );
    assert_eq!(db.upsert_daily(&[]).await.unwrap(), 0);
}

async fn insight_upsert_is_all_or_nothing(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let (_, c, _, _) = tree(&db, t).await;
    let day = date!(2024 - 05 - 01);
    let good = campaign_row(&c, day, totals(100, 10, 1_000, 1, 2_000));
    let bad = InsightDaily {
        ad_account_id: AdAccountId::generate(),
        level: InsightLevel::Account,
        campaign_id: None,
        ..campaign_row(&c, day, totals(1, 1, 1, 1, 1))
    };
    let err = db.upsert_daily(&[good, bad]).await.unwrap_err();
    assert!(matches!(err, RepoError::MissingReference(_)), "{err:?}");
    assert_eq!(
        db.campaign_totals(t, c.id, range(day, day)).await.unwrap(),
        Some(KpiTotals::default()),
        "the valid row was rolled back with the invalid one"
    );
}

async fn campaign_totals_sum_campaign_rows_in_range_exactly(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let (acct, c, _, a) = tree(&db, t).await;
    let quiet = campaign(&db, &acct).await;
    let (d1, d2, d3) = (
        date!(2024 - 05 - 01),
        date!(2024 - 05 - 02),
        date!(2024 - 05 - 03),
    );
    db.upsert_daily(&[
        campaign_row(&c, d1, totals(1_000, 10, 10, 1, 101)),
        campaign_row(&c, d2, totals(2_000, 20, 20, 2, 202)),
        campaign_row(&c, d3, totals(3_000, 31, 33, 3, 303)),
        // Outside the range.
        campaign_row(
            &c,
            date!(2024 - 05 - 04),
            totals(9_999, 99, 9_999, 9, 9_999),
        ),
        campaign_row(
            &c,
            date!(2024 - 04 - 30),
            totals(9_999, 99, 9_999, 9, 9_999),
        ),
        // Other levels of the same campaign are not double counted.
        ad_row(&a, d2, totals(2_000, 20, 20, 2, 202)),
        InsightDaily {
            level: InsightLevel::Account,
            entity_id: acct.id.into_uuid(),
            campaign_id: None,
            ..campaign_row(&c, d2, totals(5_000, 50, 50, 5, 505))
        },
    ])
    .await
    .unwrap();

    let r = range(d1, d3);
    let sum = db.campaign_totals(t, c.id, r).await.unwrap().unwrap();
    assert_eq!(
        sum,
        KpiTotals {
            impressions: 6_000,
            clicks: 61,
            link_clicks: 5 + 10 + 15,
            spend: Decimal::new(63, 2), // 0.10 + 0.20 + 0.33, exactly
            conversions: 6,
            revenue: Decimal::new(606, 2),
        }
    );
    assert_eq!(sum.spend.to_string(), "0.63");
    assert_eq!(
        db.campaign_totals(t, quiet.id, r).await.unwrap(),
        Some(KpiTotals::default())
    );
    assert_eq!(
        db.campaign_totals(t, CampaignId::generate(), r)
            .await
            .unwrap(),
        None
    );
    let single = db
        .campaign_totals(t, c.id, range(d2, d2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (single.impressions, single.spend),
        (2_000, Decimal::new(20, 2))
    );
}

async fn top_ads_rank_by_metric_from_sums(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let (_, _, s, ad1) = tree(&db, t).await;
    let ad2 = ad(&db, &s).await;
    let ad3 = ad(&db, &s).await;
    let ad4 = ad(&db, &s).await;
    let (_, _, _, foreign) = tree(&db, tenant(&db).await).await;
    let (d1, d2) = (date!(2024 - 05 - 01), date!(2024 - 05 - 02));
    db.upsert_daily(&[
        // roas 5, ctr 1%, 5 conversions
        ad_row(&ad1, d1, totals(1_000, 10, 1_000, 5, 5_000)),
        ad_row(&ad1, date!(2024 - 06 - 01), totals(1, 1, 1, 1_000, 1)), // out of range
        // roas 2, ctr 5%, 8 conversions
        ad_row(&ad2, d1, totals(100, 5, 2_000, 8, 4_000)),
        // two days: ctr 5% (ties with ad2), no spend (roas unknown), 1 conversion
        ad_row(&ad3, d1, totals(100, 5, 0, 1, 0)),
        ad_row(&ad3, d2, totals(100, 5, 0, 0, 0)),
        // no impressions: never ranked, whatever its roas
        ad_row(&ad4, d1, totals(0, 0, 500, 50, 10_000)),
        ad_row(&foreign, d1, totals(10_000, 9_000, 100, 900, 900_000)),
    ])
    .await
    .unwrap();
    let r = range(d1, d2);
    let ranked =
        |rows: Vec<(Ad, KpiTotals)>| rows.into_iter().map(|(a, _)| a.id).collect::<Vec<_>>();

    assert_eq!(
        ranked(db.top_ads(t, TopMetric::Roas, r, 10).await.unwrap()),
        vec![ad1.id, ad2.id, ad3.id]
    );
    assert_eq!(
        ranked(db.top_ads(t, TopMetric::Ctr, r, 10).await.unwrap()),
        vec![ad2.id, ad3.id, ad1.id]
    );
    assert_eq!(
        ranked(db.top_ads(t, TopMetric::Conversions, r, 10).await.unwrap()),
        vec![ad2.id, ad1.id, ad3.id]
    );
    let top = db.top_ads(t, TopMetric::Roas, r, 2).await.unwrap();
    assert_eq!(ranked(top.clone()), vec![ad1.id, ad2.id]);
    assert_eq!(top[0].0, ad1);
    assert_eq!(top[0].1, totals(1_000, 10, 1_000, 5, 5_000));
    let ctr = db.top_ads(t, TopMetric::Ctr, r, 10).await.unwrap();
    let ad3_days = [totals(100, 5, 0, 1, 0), totals(100, 5, 0, 0, 0)];
    assert_eq!(ctr[1].1.impressions, 200, "ad3 summed over both days");
    assert_eq!(
        ctr[1].1.link_clicks,
        ad3_days[0].link_clicks + ad3_days[1].link_clicks
    );
    assert_eq!(ctr[1].1.conversions, 1);
    assert!(
        db.top_ads(
            t,
            TopMetric::Roas,
            range(date!(2023 - 01 - 01), date!(2023 - 01 - 31)),
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
}

// ------------------------------------------------------------------ audit, health

async fn audit_log_appends_and_lists_newest_first(tdb: TestDb) {
    let db = tdb.db();
    let (t, other) = (tenant(&db).await, tenant(&db).await);
    let entry = |n: u8| AuditEntry {
        id: AuditEntryId::generate(),
        tenant_id: t,
        at: now(),
        actor: format!("user:{}", UserId::generate()),
        action: "campaign.update".to_owned(),
        entity_type: "campaign".to_owned(),
        entity_id: CampaignId::generate().to_string(),
        before: (n > 0).then(|| json!({"status": "ACTIVE"})),
        after: Some(json!({"status": "PAUSED", "n": n})),
    };
    let entries: Vec<AuditEntry> = (0..3).map(entry).collect();
    for e in &entries {
        db.append(e).await.unwrap();
    }
    let page = AuditLogRepository::list(&db, t, &AuditFilter::default(), first_page(2))
        .await
        .unwrap();
    assert_eq!(page.items, vec![entries[2].clone(), entries[1].clone()]);
    let rest = AuditLogRepository::list(
        &db,
        t,
        &AuditFilter::default(),
        PageRequest::new(Some(2), page.next_cursor.as_deref()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(rest.items, vec![entries[0].clone()]);
    assert_eq!(rest.items[0].before, None);
    assert_eq!(rest.next_cursor, None);
    assert!(
        AuditLogRepository::list(&db, other, &AuditFilter::default(), first_page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let listed = |f: AuditFilter| {
        let db = &db;
        async move {
            AuditLogRepository::list(db, t, &f, first_page(10))
                .await
                .unwrap()
                .items
        }
    };
    let one = AuditFilter {
        entity_type: Some("campaign".to_owned()),
        entity_id: Some(entries[1].entity_id.clone()),
        actor: Some(entries[1].actor.clone()),
        action: Some("campaign.update".to_owned()),
        from: Some(entries[1].at),
        to: Some(entries[1].at),
    };
    assert_eq!(listed(one).await, vec![entries[1].clone()]);
    let other_action = AuditFilter {
        action: Some("campaign.delete".to_owned()),
        ..AuditFilter::default()
    };
    assert!(listed(other_action).await.is_empty());
    let before_all = AuditFilter {
        to: Some(entries[0].at - time::Duration::seconds(1)),
        ..AuditFilter::default()
    };
    assert!(listed(before_all).await.is_empty());
    let since_first = AuditFilter {
        from: Some(entries[0].at),
        ..AuditFilter::default()
    };
    assert_eq!(listed(since_first).await.len(), 3);
}

async fn probe_reports_a_healthy_database(tdb: TestDb) {
    let result = tdb.db().probe().await;
    assert!(result.healthy, "{result:?}");
    assert_eq!(
        (result.name, result.critical, result.error),
        ("database", true, None)
    );
}

async fn migrations_are_applied_once(tdb: TestDb) {
    assert_eq!(tdb.pool().run_migrations().await.unwrap(), 0);
}

// ------------------------------------------------------------------ backend-independent

#[tokio::test]
async fn unreachable_postgres_is_unhealthy_and_unavailable_quickly() {
    // Nothing listens on port 1: connecting is refused at once.
    let pool = DbPool::postgres("postgres://postgres@127.0.0.1:1/adscale", 2).unwrap();
    let db = Db::new(pool);
    let started = std::time::Instant::now();
    let result = db.probe().await;
    assert!(!result.healthy);
    assert!(result.error.is_some());
    let err = OrganizationRepository::find(&db, TenantId::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn rejects_a_non_postgres_url() {
    assert!(DbPool::postgres("mysql://localhost/x", 2).is_err());
    assert!(DbPool::postgres("postgres://localhost/x", 0).is_err());
}

/// Migrations run on a blocking thread, so a current-thread runtime works too.
#[tokio::test(flavor = "current_thread")]
async fn postgres_migrates_on_a_current_thread_runtime() {
    let tdb = TestDb::postgres().await;
    assert_eq!(tdb.pool().run_migrations().await.unwrap(), 0);
    assert!(tdb.db().probe().await.healthy);
}

#[tokio::test(flavor = "current_thread")]
async fn sqlite_migrates_on_a_current_thread_runtime() {
    let tdb = TestDb::sqlite().await;
    assert_eq!(tdb.pool().run_migrations().await.unwrap(), 0);
    assert!(tdb.db().probe().await.healthy);
}

// ------------------------------------------------------------------ migrations

/// The migration that gives organizations a time zone.
const TIMEZONE_MIGRATION: &str = "2024-06-01-000014";

/// Organizations written before they had a time zone are in UTC afterwards.
async fn the_timezone_migration_puts_existing_organizations_in_utc(tdb: TestDb) {
    use diesel_async::RunQueryDsl;
    let id = TenantId::generate();
    // Raw SQL: the repository writes a column this schema does not have yet.
    let insert = diesel::sql_query(format!(
        "INSERT INTO organizations (id, name, created_at) \
         VALUES ('{id}', 'Old', '2024-05-01 12:00:00+00:00')"
    ));
    match tdb.pool() {
        DbPool::Postgres(p) => insert.execute(&mut *p.get().await.unwrap()).await,
        DbPool::Sqlite(p) => insert.execute(&mut *p.get().await.unwrap()).await,
    }
    .unwrap();
    assert!(tdb.migrate().await >= 1);
    let org = OrganizationRepository::find(&tdb.db(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (org.name.as_str(), org.timezone.as_str()),
        ("Old", Organization::DEFAULT_TIMEZONE)
    );
}

mod migration {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pg_puts_existing_organizations_in_utc() {
        let tdb =
            infrastructure::db::testing::TestDb::postgres_before(super::TIMEZONE_MIGRATION).await;
        super::the_timezone_migration_puts_existing_organizations_in_utc(tdb).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_puts_existing_organizations_in_utc() {
        let tdb =
            infrastructure::db::testing::TestDb::sqlite_before(super::TIMEZONE_MIGRATION).await;
        super::the_timezone_migration_puts_existing_organizations_in_utc(tdb).await;
    }
}

async fn insight_job_is_held_by_one_taker_per_lease_and_finished_once(tdb: TestDb) {
    use domain::InsightId;
    use domain::assistant::insight_jobs::{
        InsightJob, InsightJobOutcome, InsightJobRepository, InsightJobStatus,
    };
    let db = tdb.db();
    let (t, other) = (tenant(&db).await, tenant(&db).await);
    let week = range(date!(2026 - 09 - 28), date!(2026 - 10 - 04));
    let at = now();
    let job = InsightJob::queued(
        t,
        Some(week),
        Some(AdAccountId::generate()),
        "user:x".to_owned(),
        at,
    );
    InsightJobRepository::create(&db, &job).await.unwrap();
    assert_eq!(
        InsightJobRepository::get(&db, t, job.id).await.unwrap(),
        Some(job.clone())
    );
    assert_eq!(
        InsightJobRepository::get(&db, other, job.id).await.unwrap(),
        None
    );

    let lease = at + time::Duration::minutes(10);
    let taken = InsightJobRepository::take_due(&db, at, lease, 4)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!((taken[0].id, taken[0].attempts), (job.id, 1));
    assert!(
        InsightJobRepository::take_due(&db, at, lease, 4)
            .await
            .unwrap()
            .is_empty(),
        "held"
    );
    // The lease ran out (the worker died): taken again, the try counted.
    let again = InsightJobRepository::take_due(&db, lease, lease + time::Duration::minutes(10), 4)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 2);

    let ids = vec![InsightId::generate(), InsightId::generate()];
    // Another tenant's id changes nothing.
    InsightJobRepository::finish(
        &db,
        other,
        job.id,
        &InsightJobOutcome::Done(Vec::new()),
        lease,
    )
    .await
    .unwrap();
    InsightJobRepository::finish(&db, t, job.id, &InsightJobOutcome::Done(ids.clone()), lease)
        .await
        .unwrap();
    InsightJobRepository::finish(
        &db,
        t,
        job.id,
        &InsightJobOutcome::Failed("late".to_owned()),
        lease,
    )
    .await
    .unwrap();
    let done = InsightJobRepository::get(&db, t, job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, InsightJobStatus::Done);
    assert_eq!(done.insight_ids, ids);
    assert_eq!((done.finished_at, done.failure), (Some(lease), None));
    assert!(
        InsightJobRepository::take_due(
            &db,
            lease + time::Duration::hours(1),
            lease + time::Duration::hours(2),
            4
        )
        .await
        .unwrap()
        .is_empty()
    );
}
