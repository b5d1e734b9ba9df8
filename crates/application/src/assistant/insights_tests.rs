use domain::UserId;
use domain::assistant::insight::MockGeneratedInsightRepository;
use domain::identity::{Principal, Role as MemberRole};
use domain::platform::MockClock;
use time::macros::date;

use super::*;
use crate::analysis::testing::{NOW, World};
use crate::assistant::tests::ScriptedModel;

pub(crate) fn actor(w: &World, role: MemberRole) -> Actor {
    Actor {
        tenant_id: w.tenant,
        principal: Principal::User(UserId::generate()),
        role,
    }
}

fn totals(spend: i64, conversions: i64, revenue: i64) -> KpiTotals {
    KpiTotals {
        impressions: 1000,
        clicks: 20,
        link_clicks: 20,
        spend: Decimal::new(spend * 100, 2),
        conversions,
        revenue: Decimal::new(revenue * 100, 2),
    }
}

/// "Brand" spent 125.00 for 5 results (revenue 500) in 2026-W08 (Feb
/// 16–22) and 100.00 for 4 (revenue 300) the week before.
fn gold(w: &World) -> GoldReader {
    let c = w.campaign("Brand 2026", None);
    let id = c.id;
    w.reader(
        vec![c],
        vec![
            (id, date!(2026 - 02 - 17), totals(125, 5, 500)),
            (id, date!(2026 - 02 - 10), totals(100, 4, 300)),
        ],
    )
}

pub(crate) fn generate(
    w: &World,
    repo: MockGeneratedInsightRepository,
    llm: Option<Arc<dyn LlmClient>>,
) -> GenerateInsights {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(NOW);
    GenerateInsights::new(Arc::new(repo), gold(w), llm, Arc::new(clock))
}

pub(crate) fn storing(times: usize) -> MockGeneratedInsightRepository {
    let mut repo = MockGeneratedInsightRepository::new();
    repo.expect_upsert().times(times).returning(|_| Ok(()));
    repo
}

pub(crate) const WEEK: &str = "2026-W08";

const TRUE_INSIGHT: &str = r#"{"headline": "Spend up 25% week over week",
 "findings": [
  {"title": "Spend up", "detail": "Spend rose to 125 BRL from 100 BRL, up 25%.", "figures": [
    {"label": "spend this week", "value": 125, "unit": "BRL"},
    {"label": "spend previous week", "value": 100, "unit": "BRL"},
    {"label": "spend change week over week", "value": 25, "unit": "percent"}]},
  {"title": "Better return", "detail": "ROAS rose to 4 from 3.", "figures": [
    {"label": "ROAS this week", "value": 4, "unit": "ratio"},
    {"label": "ROAS previous week", "value": 3, "unit": "ratio"}]},
  {"title": "CPA steady", "detail": "CPA stayed at 25 BRL.", "figures": [
    {"label": "CPA this week", "value": 25, "unit": "BRL"}]}],
 "actions": ["Scale Brand 2026 while CPA holds"]}"#;

fn lie() -> String {
    TRUE_INSIGHT.replace("125", "999")
}

#[tokio::test]
async fn insights_without_a_model_store_the_built_in_document_from_the_facts() {
    let w = World::new();
    let got = generate(&w, storing(1), None)
        .execute(&actor(&w, MemberRole::Analyst), Some(WEEK.into()), None)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let i = &got[0];
    assert_eq!(i.mode, AnswerMode::BuiltIn);
    assert!(i.verified);
    assert_eq!(
        (i.week.from(), i.week.to()),
        (date!(2026 - 02 - 16), date!(2026 - 02 - 22))
    );
    assert_eq!(
        i.headline,
        "Spend up 25.0% week over week at a CPA of 25.00 BRL"
    );
    assert!((3..=5).contains(&i.findings.len()), "{:?}", i.findings);
    // ROAS changed most (+33.3%), so it comes first.
    assert_eq!(i.findings[0].title, "ROAS +33.3% week over week");
    let top = i.findings.last().unwrap();
    assert_eq!(top.title, "Top campaigns by spend");
    assert!(
        top.figures
            .iter()
            .any(|f| f.label == "Brand 2026 CPA this week" && f.value == Decimal::from(25))
    );
    assert_eq!(i.actions, ["Review CPA of Brand 2026"]);
    assert_eq!((i.prompt_tokens, i.completion_tokens), (0, 0));
}

#[tokio::test]
async fn insights_built_in_document_passes_the_models_verification() {
    let w = World::new();
    let g = generate(&w, MockGeneratedInsightRepository::new(), None);
    let account = g.gold.account(w.tenant, w.account).await.unwrap();
    let week = iso_week(WEEK).unwrap();
    let d = g.week_data(w.tenant, &account, week).await.unwrap();
    let draft = built_in(&account, week, &d);
    assert_eq!(draft.validate(), Ok(()));
    let names: Vec<&str> = d.names.iter().map(String::as_str).collect();
    assert_eq!(
        verify_with_names(&draft.as_answer(), &d.facts, &names),
        Ok(())
    );
}

#[tokio::test]
async fn insights_truthful_model_is_stored_in_llm_mode_after_one_call() {
    let w = World::new();
    let model = Arc::new(ScriptedModel::new(vec![Ok(TRUE_INSIGHT.into())]));
    let got = generate(&w, storing(1), Some(model.clone()))
        .execute(
            &actor(&w, MemberRole::Analyst),
            Some(WEEK.into()),
            Some(w.account),
        )
        .await
        .unwrap();
    let i = &got[0];
    assert_eq!(i.mode, AnswerMode::Llm);
    assert!(i.verified);
    assert_eq!(i.headline, "Spend up 25% week over week");
    assert_eq!(i.findings.len(), 3);
    assert_eq!((i.prompt_tokens, i.completion_tokens), (100, 20));
    let reqs = model.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].response_schema.as_ref().map(|s| s.name.as_str()),
        Some("weekly_insight")
    );
    assert!(
        reqs[0].messages[1]
            .content
            .contains("spend this week | 125")
    );
}

#[tokio::test]
async fn insights_model_that_lies_twice_stores_the_built_in_document() {
    let w = World::new();
    let model = Arc::new(ScriptedModel::new(vec![Ok(lie()), Ok(lie())]));
    let got = generate(&w, storing(1), Some(model.clone()))
        .execute(&actor(&w, MemberRole::Analyst), Some(WEEK.into()), None)
        .await
        .unwrap();
    let i = &got[0];
    assert_eq!(i.mode, AnswerMode::BuiltIn);
    assert!(i.verified);
    assert!(!i.headline.contains("999"));
    assert!(i.findings.iter().all(|f| !f.detail.contains("999")));
    assert_eq!((i.prompt_tokens, i.completion_tokens), (200, 40));
    let reqs = model.requests();
    assert_eq!(reqs.len(), 2);
    let retry = &reqs[1].messages.last().unwrap().content;
    assert!(retry.contains("could not be verified"), "{retry}");
}

#[tokio::test]
async fn insights_model_with_too_few_findings_is_retried_then_accepted() {
    let w = World::new();
    let two: serde_json::Value = serde_json::from_str(TRUE_INSIGHT).unwrap();
    let mut two = two;
    two["findings"].as_array_mut().unwrap().truncate(2);
    let model = Arc::new(ScriptedModel::new(vec![
        Ok(two.to_string()),
        Ok(TRUE_INSIGHT.into()),
    ]));
    let got = generate(&w, storing(1), Some(model.clone()))
        .execute(&actor(&w, MemberRole::Analyst), Some(WEEK.into()), None)
        .await
        .unwrap();
    assert_eq!(got[0].mode, AnswerMode::Llm);
    let reqs = model.requests();
    assert!(
        reqs[1]
            .messages
            .last()
            .unwrap()
            .content
            .contains("3 to 5 findings")
    );
}

#[tokio::test]
async fn insights_unavailable_model_stores_the_built_in_document() {
    let w = World::new();
    let model = Arc::new(ScriptedModel::new(vec![]));
    let got = generate(&w, storing(1), Some(model))
        .execute(&actor(&w, MemberRole::Analyst), Some(WEEK.into()), None)
        .await
        .unwrap();
    assert_eq!(got[0].mode, AnswerMode::BuiltIn);
}

#[tokio::test]
async fn insights_bad_week_is_refused_and_nothing_is_stored() {
    let w = World::new();
    let e = generate(&w, storing(0), None)
        .execute(
            &actor(&w, MemberRole::Analyst),
            Some("2026-W99".into()),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Validation(_)), "{e:?}");
}

#[tokio::test]
async fn insights_of_another_tenants_account_are_not_found() {
    let w = World::new();
    let e = generate(&w, storing(0), None)
        .execute(
            &actor(&w, MemberRole::Analyst),
            Some(WEEK.into()),
            Some(AdAccountId::generate()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::NotFound(Resource::AdAccount)),
        "{e:?}"
    );
}

#[tokio::test]
async fn insights_viewers_cannot_generate() {
    let w = World::new();
    let e = generate(&w, storing(0), None)
        .execute(&actor(&w, MemberRole::Viewer), None, None)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden), "{e:?}");
}

#[tokio::test]
async fn insights_default_week_is_the_last_whole_iso_week() {
    let w = World::new();
    let got = generate(&w, storing(1), None)
        .execute(&actor(&w, MemberRole::Analyst), None, None)
        .await
        .unwrap();
    // Yesterday is Sat Feb 28: the last whole week is Feb 16–22.
    assert_eq!(got[0].week.from(), date!(2026 - 02 - 16));
}
