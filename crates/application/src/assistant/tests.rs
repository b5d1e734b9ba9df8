use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use domain::ads::Currency;
use domain::assistant::chat::{ConversationId, MessageRole};
use domain::assistant::figures::Unit;
use domain::assistant::llm::{LlmReply, Role};
use rust_decimal::Decimal;
use time::OffsetDateTime;

use super::*;

/// A model that replies from a script and records every request.
pub(crate) struct ScriptedModel {
    replies: Mutex<VecDeque<Result<String, LlmError>>>,
    seen: Mutex<Vec<LlmRequest>>,
}

impl ScriptedModel {
    pub(crate) fn new(replies: Vec<Result<String, LlmError>>) -> Self {
        Self {
            replies: Mutex::new(replies.into()),
            seen: Mutex::new(Vec::new()),
        }
    }
    pub(crate) fn requests(&self) -> Vec<LlmRequest> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl LlmClient for ScriptedModel {
    async fn complete(&self, req: &LlmRequest) -> Result<LlmReply, LlmError> {
        self.seen.lock().unwrap().push(req.clone());
        let next = self
            .replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Err(LlmError::Unavailable("script ended".into())));
        next.map(|content| LlmReply {
            content,
            usage: TokenUsage {
                prompt_tokens: 100,
                completion_tokens: 20,
                total: 120,
            },
            model: "fake".into(),
        })
    }
    fn model(&self) -> &str {
        "fake"
    }
}

fn facts() -> Vec<Fact> {
    let brl = Currency::parse("BRL").unwrap();
    vec![
        Fact::new(
            "spend last 7 days",
            Decimal::new(123_456, 2),
            Unit::Money(brl),
        ),
        Fact::new("results last 7 days", Decimal::from(42), Unit::Count),
        Fact::new("CPA last 7 days", Decimal::new(2939, 2), Unit::Money(brl)),
    ]
}

const TRUE_ANSWER: &str = r#"{"answer": "You spent R$ 1,234.56 for 42 results.", "figures": [
    {"label": "spend last 7 days", "value": 1234.56, "unit": "BRL"},
    {"label": "results last 7 days", "value": 42, "unit": "count"}]}"#;

const LIE: &str = r#"{"answer": "You spent R$ 9,999.00 for 42 results.", "figures": [
    {"label": "spend last 7 days", "value": 9999.00, "unit": "BRL"},
    {"label": "results last 7 days", "value": 42, "unit": "count"}]}"#;

#[tokio::test]
async fn assistant_truthful_model_answers_in_llm_mode_at_once() {
    let model = ScriptedModel::new(vec![Ok(TRUE_ANSWER.into())]);
    let a = ask_model(&model, vec![ChatMessage::user("q")], &facts(), &[])
        .await
        .unwrap();
    assert_eq!(a.mode, AnswerMode::Llm);
    assert!(a.answer.contains("1,234.56"));
    assert_eq!(a.usage.prompt_tokens, 100);
    let reqs = model.requests();
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs[0].response_schema.is_some(),
        "the answer schema is asked for"
    );
}

#[tokio::test]
async fn assistant_model_that_always_lies_is_never_shown_and_gets_the_unverified_answer() {
    let model = ScriptedModel::new(vec![Ok(LIE.into()), Ok(LIE.into()), Ok(TRUE_ANSWER.into())]);
    let a = ask_model(&model, vec![ChatMessage::user("q")], &facts(), &[])
        .await
        .unwrap();
    assert_eq!(a.mode, AnswerMode::Unverified);
    assert!(!a.answer.contains("9,999"), "{}", a.answer);
    assert!(
        a.answer.contains("1234.56 BRL"),
        "the real figures: {}",
        a.answer
    );
    assert_eq!(a.figures.len(), facts().len());
    assert_eq!(model.requests().len(), 2, "one retry, no more");
    assert_eq!(a.usage.prompt_tokens, 200, "both calls are counted");
}

#[tokio::test]
async fn assistant_model_that_lies_once_then_corrects_is_verified_after_the_retry() {
    let model = ScriptedModel::new(vec![Ok(LIE.into()), Ok(TRUE_ANSWER.into())]);
    let a = ask_model(&model, vec![ChatMessage::user("q")], &facts(), &[])
        .await
        .unwrap();
    assert_eq!(a.mode, AnswerMode::Llm);
    let reqs = model.requests();
    assert_eq!(reqs.len(), 2);
    let retry = reqs[1].messages.last().unwrap();
    assert_eq!(retry.role, Role::User);
    assert!(
        retry.content.contains("9999"),
        "the retry names the bad figure: {}",
        retry.content
    );
    assert_eq!(
        reqs[1].messages[reqs[1].messages.len() - 2].role,
        Role::Assistant
    );
}

#[tokio::test]
async fn assistant_reply_not_in_the_schema_is_retried_then_unverified() {
    let model = ScriptedModel::new(vec![Ok("spend was 1234.56".into()), Ok("still no".into())]);
    let a = ask_model(&model, vec![ChatMessage::user("q")], &facts(), &[])
        .await
        .unwrap();
    assert_eq!(a.mode, AnswerMode::Unverified);
}

#[tokio::test]
async fn assistant_model_errors_are_returned_with_the_tokens_used_so_far() {
    let model = ScriptedModel::new(vec![
        Ok(LIE.into()),
        Err(LlmError::RateLimited { retry_after: None }),
    ]);
    let (e, usage) = ask_model(&model, vec![ChatMessage::user("q")], &facts(), &[])
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(usage.completion_tokens, 20);
}

fn msg(role: MessageRole, content: &str) -> Message {
    let mut m = Message::question(
        ConversationId::generate(),
        content,
        OffsetDateTime::UNIX_EPOCH,
    );
    m.role = role;
    m
}

#[test]
fn assistant_plain_summary_names_questions_and_answers_and_keeps_the_newest() {
    let s = plain_summary(
        None,
        &[
            msg(MessageRole::User, "What was my spend?"),
            msg(MessageRole::Assistant, "Spend 10.00 BRL.\nmore"),
        ],
    );
    assert_eq!(
        s,
        "Earlier: asked \"What was my spend?\"; answered \"Spend 10.00 BRL.\"."
    );
    let long: Vec<Message> = (0..40)
        .map(|i| {
            msg(
                MessageRole::User,
                &format!("question number {i} {}", "x".repeat(50)),
            )
        })
        .collect();
    let s = plain_summary(Some("Earlier: old"), &long);
    assert!(s.chars().count() <= SUMMARY_CHARS);
    assert!(s.contains("question number 39"), "the newest is kept");
    assert!(!s.contains("Earlier: old"));
}

// ------------------------------------------------------------------ the use case

mod chat {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use domain::UserId;
    use domain::assistant::chat::{Conversation, MockConversationRepository};
    use domain::identity::{Principal, Role as MemberRole};
    use domain::kpi::KpiTotals;
    use domain::platform::MockClock;
    use domain::rules::MockSuggestionRepository;
    use time::macros::date;

    use super::*;
    use crate::analysis::testing::{NOW, World};

    fn actor(w: &World) -> Actor {
        Actor {
            tenant_id: w.tenant,
            principal: Principal::User(UserId::generate()),
            role: MemberRole::Viewer,
        }
    }

    /// One campaign that spent 100.00 for 4 results on Feb 27 (yesterday is Feb 28).
    fn gold(w: &World) -> GoldReader {
        let c = w.campaign("Brand", None);
        let totals = KpiTotals {
            impressions: 1000,
            clicks: 20,
            link_clicks: 20,
            spend: Decimal::new(10_000, 2),
            conversions: 4,
            revenue: Decimal::new(30_000, 2),
        };
        let id = c.id;
        w.reader(vec![c], vec![(id, date!(2026 - 02 - 27), totals)])
    }

    fn clock() -> Arc<MockClock> {
        let mut c = MockClock::new();
        c.expect_now().return_const(NOW);
        Arc::new(c)
    }

    fn chat(w: &World, repo: MockConversationRepository, llm: Option<Arc<dyn LlmClient>>) -> Chat {
        Chat::new(
            Arc::new(repo),
            gold(w),
            Arc::new(MockSuggestionRepository::new()),
            llm,
            clock(),
        )
    }

    fn turns(c: ConversationId, n: usize) -> Vec<Message> {
        (0..n)
            .map(|i| {
                let mut m = Message::question(c, &format!("turn {i}"), NOW);
                if i % 2 == 1 {
                    m.role = MessageRole::Assistant;
                }
                m
            })
            .collect()
    }

    #[tokio::test]
    async fn assistant_unavailable_model_falls_back_to_the_built_in_answer() {
        let w = World::new();
        let mut repo = MockConversationRepository::new();
        repo.expect_create().times(1).returning(|_| Ok(()));
        repo.expect_append()
            .times(1)
            .withf(|_, _, m, _| {
                m.len() == 2
                    && m[0].role == MessageRole::User
                    && m[1].mode == Some(AnswerMode::BuiltIn)
                    && m[1].intent.as_deref() == Some("kpis")
            })
            .returning(|_, _, _, _| Ok(()));
        let stored = Conversation::start(w.tenant, "user:x".into(), "q", NOW);
        repo.expect_get()
            .returning(move |_, _| Ok(Some(stored.clone())));
        repo.expect_messages_after()
            .returning(|_, c, _| Ok(turns(c, 2)));
        repo.expect_update_summary().never();
        let model = Arc::new(ScriptedModel::new(vec![Err(LlmError::Unavailable(
            "down".into(),
        ))]));
        let chat = chat(&w, repo, Some(model.clone()));
        let reply = chat
            .execute(
                &actor(&w),
                ChatInput {
                    message: "How much did I spend?".into(),
                    ..ChatInput::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(reply.mode, AnswerMode::BuiltIn);
        assert!(
            reply.answer.starts_with("Last 7 days (2026-02-22 to 2026-02-28): spend 100.00 BRL, 4 results, CPA 25.00 BRL, ROAS 3.00, CTR 2.00%"),
            "{}",
            reply.answer
        );
        assert!(reply.figures.iter().any(|f| f.label == "spend last 7 days"));
        assert_eq!(model.requests().len(), 1);
    }

    #[tokio::test]
    async fn assistant_folds_turns_beyond_ten_into_the_models_summary() {
        let w = World::new();
        let mut existing = Conversation::start(w.tenant, "user:x".into(), "q", NOW);
        existing.summary = Some("Earlier: asked about CTR.".into());
        let id = existing.id;
        let history = turns(id, 20);
        let after = {
            let mut all = history.clone();
            all.extend(turns(id, 2));
            all
        };
        let folded_through = after[1].id;
        let mut repo = MockConversationRepository::new();
        let stored = existing.clone();
        repo.expect_get()
            .returning(move |_, _| Ok(Some(stored.clone())));
        let calls = AtomicUsize::new(0);
        repo.expect_messages_after().returning(move |_, _, _| {
            // Before the answer: the 10 turns in memory; after it: 11.
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Ok(history.clone())
            } else {
                Ok(after.clone())
            }
        });
        repo.expect_create().never();
        repo.expect_append().times(1).returning(|_, _, _, _| Ok(()));
        repo.expect_update_summary()
            .times(1)
            .withf(move |_, c, s, through, usage, _| {
                *c == id
                    && s == "They asked about spend and CTR."
                    && *through == folded_through
                    && usage.total > 0
            })
            .returning(|_, _, _, _, _, _| Ok(()));
        let answer = r#"{"answer": "Spend was 100.00 BRL.", "figures": [{"label": "spend last 7 days", "value": 100.00, "unit": "BRL"}]}"#;
        let model = Arc::new(ScriptedModel::new(vec![
            Ok(answer.into()),
            Ok("They asked about spend and CTR.".into()),
        ]));
        let chat = chat(&w, repo, Some(model.clone()));
        let reply = chat
            .execute(
                &actor(&w),
                ChatInput {
                    conversation_id: Some(id),
                    message: "spend?".into(),
                    ad_account_id: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(reply.mode, AnswerMode::Llm);
        let reqs = model.requests();
        // The answer's prompt: rules, summary, the 20 messages of memory, the question.
        let prompt = &reqs[0].messages;
        assert_eq!(prompt.len(), 1 + 1 + 20 + 1);
        assert!(prompt[1].content.contains("Earlier: asked about CTR."));
        assert!(prompt[22].content.contains("spend last 7 days | 100"));
        assert!(
            reqs[1].response_schema.is_none(),
            "the summary is plain text"
        );
        assert!(reqs[1].messages[1].content.contains("turn 0"));
    }

    #[tokio::test]
    async fn assistant_refused_questions_store_nothing() {
        let w = World::new();
        let mut repo = MockConversationRepository::new();
        repo.expect_create().never();
        repo.expect_append().never();
        let chat = chat(&w, repo, None);
        for message in [
            String::new(),
            " \n ".into(),
            "a".repeat(MAX_MESSAGE_CHARS + 1),
        ] {
            let e = chat
                .execute(
                    &actor(&w),
                    ChatInput {
                        message,
                        ..ChatInput::default()
                    },
                )
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::Validation(_)), "{e:?}");
        }
    }
}
