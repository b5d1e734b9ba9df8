//! The assistant's conversation repository on PostgreSQL and SQLite: stored
//! messages read back exactly (figures at their precision, mode, tokens),
//! in order and paged, the summary, flags, deletes with their messages, and
//! nothing of one tenant visible to another.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use domain::RepoError;
use domain::TenantId;
use domain::ads::DateRange;
use domain::assistant::chat::{
    AnswerMode, Conversation, ConversationRepository, Message, MessageId, MessageRole,
};
use domain::assistant::figures::Figure;
use domain::assistant::llm::TokenUsage;
use domain::assistant::usage::{TokenUsageRepository, UsageRow, UsageSource};
use domain::identity::{Organization, OrganizationRepository, User};
use domain::page::PageRequest;
use infrastructure::db::Db;
use infrastructure::db::testing::TestDb;
use infrastructure::on_both_backends;
use rust_decimal::Decimal;
use time::OffsetDateTime;

on_both_backends!(
    assistant_messages_round_trip_in_order_with_figures_mode_and_tokens,
    assistant_summary_flag_and_delete,
    assistant_conversations_of_another_tenant_are_invisible,
    assistant_usage_sums_answers_and_model_summaries_per_day_for_the_tenant_only,
);

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

async fn tenant(db: &Db) -> TenantId {
    let org = Organization {
        id: TenantId::generate(),
        name: "Acme".to_owned(),
        timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
        created_at: now(),
    };
    let owner = User {
        id: domain::UserId::generate(),
        email: format!("u{}@example.com", uuid::Uuid::new_v4().simple()),
        name: "Ana".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_at: now(),
    };
    db.create_with_owner(&org, &owner).await.unwrap();
    org.id
}

async fn conversation(db: &Db, t: TenantId) -> Conversation {
    let c = Conversation::start(t, "user:x".into(), "What was my spend?", now());
    db.create(&c).await.unwrap();
    c
}

fn answer(c: &Conversation) -> Message {
    let mut m = Message::question(c.id, "Spend was 1,234.50 BRL.", now());
    m.id = MessageId::generate();
    m.role = MessageRole::Assistant;
    m.figures = vec![Figure {
        label: "spend last 7 days".into(),
        value: Decimal::from_str("1234.50").unwrap(),
        unit: "BRL".into(),
    }];
    m.mode = Some(AnswerMode::Llm);
    m.intent = Some("kpis".into());
    m.prompt_tokens = 412;
    m.completion_tokens = 96;
    m
}

async fn assistant_messages_round_trip_in_order_with_figures_mode_and_tokens(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let c = conversation(&db, t).await;
    let q = Message::question(c.id, "What was my spend?", now());
    let a = answer(&c);
    let later = now();
    db.append(t, c.id, &[q.clone(), a.clone()], later)
        .await
        .unwrap();
    let all = db.messages_after(t, c.id, None).await.unwrap();
    assert_eq!(all, vec![q.clone(), a.clone()]);
    assert_eq!(
        all[1].figures[0].value.to_string(),
        "1234.50",
        "precision kept"
    );
    assert_eq!(
        db.messages_after(t, c.id, Some(q.id)).await.unwrap(),
        vec![a.clone()]
    );
    let p1 = db.messages(t, c.id, PageRequest::first(1)).await.unwrap();
    assert_eq!(p1.items, vec![q.clone()]);
    let next = PageRequest::new(Some(1), p1.next_cursor.as_deref()).unwrap();
    let p2 = db.messages(t, c.id, next).await.unwrap();
    assert_eq!(p2.items, vec![a]);
    assert_eq!(p2.next_cursor, None);
    assert_eq!(db.get(t, c.id).await.unwrap().unwrap().updated_at, later);
    // Appending to a missing conversation writes nothing.
    let gone = Conversation::start(t, "user:x".into(), "q", now());
    let e = db
        .append(t, gone.id, &[Message::question(gone.id, "q", now())], now())
        .await
        .unwrap_err();
    assert!(matches!(e, RepoError::MissingReference(_)), "{e:?}");
}

async fn assistant_summary_flag_and_delete(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let c = conversation(&db, t).await;
    let q = Message::question(c.id, "q", now());
    let a = answer(&c);
    db.append(t, c.id, &[q.clone(), a.clone()], now())
        .await
        .unwrap();

    db.update_summary(
        t,
        c.id,
        "Earlier: asked \"q\".",
        a.id,
        TokenUsage::default(),
        now(),
    )
    .await
    .unwrap();
    let stored = db.get(t, c.id).await.unwrap().unwrap();
    assert_eq!(stored.summary.as_deref(), Some("Earlier: asked \"q\"."));
    assert_eq!(stored.summarized_through, Some(a.id));

    let flagged = db
        .flag(t, c.id, a.id, "wrong spend")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(flagged.flagged.as_deref(), Some("wrong spend"));
    assert_eq!(
        db.flag(t, c.id, q.id, "x").await.unwrap(),
        None,
        "questions are not flagged"
    );

    let other = conversation(&db, t).await;
    let list = db.list(t, PageRequest::first(10)).await.unwrap();
    assert_eq!(
        list.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![other.id, c.id]
    );

    assert!(db.delete(t, c.id).await.unwrap());
    assert!(!db.delete(t, c.id).await.unwrap());
    assert_eq!(db.get(t, c.id).await.unwrap(), None);
    assert!(db.messages_after(t, c.id, None).await.unwrap().is_empty());
}

async fn assistant_conversations_of_another_tenant_are_invisible(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let u = tenant(&db).await;
    let c = conversation(&db, t).await;
    let a = answer(&c);
    db.append(t, c.id, std::slice::from_ref(&a), now())
        .await
        .unwrap();

    assert_eq!(db.get(u, c.id).await.unwrap(), None);
    assert!(
        db.list(u, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(db.messages_after(u, c.id, None).await.unwrap().is_empty());
    assert_eq!(db.flag(u, c.id, a.id, "x").await.unwrap(), None);
    assert!(!db.delete(u, c.id).await.unwrap());
    assert!(db.append(u, c.id, &[answer(&c)], now()).await.is_err());
    assert_eq!(db.messages_after(t, c.id, None).await.unwrap(), vec![a]);
}

async fn assistant_usage_sums_answers_and_model_summaries_per_day_for_the_tenant_only(tdb: TestDb) {
    let db = tdb.db();
    let t = tenant(&db).await;
    let c = conversation(&db, t).await;
    let q = Message::question(c.id, "q", now());
    let a = answer(&c); // 412 + 96 tokens
    db.append(t, c.id, &[q, a.clone()], now()).await.unwrap();
    let summary = TokenUsage {
        prompt_tokens: 100,
        completion_tokens: 20,
        total: 120,
    };
    db.update_summary(t, c.id, "Asked about spend.", a.id, summary, now())
        .await
        .unwrap();
    // A plain summary spends nothing and leaves no row.
    db.update_summary(
        t,
        c.id,
        "Earlier: asked.",
        a.id,
        TokenUsage::default(),
        now(),
    )
    .await
    .unwrap();

    let today = now().date();
    let days = DateRange::new(today - time::Duration::days(1), today).unwrap();
    let rows = TokenUsageRepository::usage(&db, t, days).await.unwrap();
    assert_eq!(
        rows,
        vec![UsageRow {
            source: UsageSource::Chat,
            date: today,
            prompt_tokens: 512,
            completion_tokens: 116,
            calls: 2,
        }]
    );
    let before = DateRange::day(today - time::Duration::days(1));
    assert!(
        TokenUsageRepository::usage(&db, t, before)
            .await
            .unwrap()
            .is_empty()
    );
    let other = tenant(&db).await;
    assert!(
        TokenUsageRepository::usage(&db, other, days)
            .await
            .unwrap()
            .is_empty()
    );
}
