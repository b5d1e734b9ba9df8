//! The assistant's chat: a question about one ad account is classified
//! ([`Intent::classify`]), exactly the data it needs is read from gold (or
//! the pending suggestions, or yesterday's anomalies) as [`Fact`]s, and
//! answered by the language model when one is configured, or by the
//! deterministic built-in answerer otherwise.
//!
//! Owns the prompt, the verification loop and conversation memory; never
//! lets the model write queries or see anything but the asking tenant's
//! facts. Conversations belong to the tenant: every member sees them.
//!
//! - **Verified figures.** The model replies in the answer schema; a reply
//!   that fails [`verify_with_names`] is retried once with the problems
//!   ([`retry_instructions`]); a second failure is replaced by
//!   [`unverified_answer`] (mode `unverified`) listing the facts.
//! - **Model down.** An [`LlmError`] falls back to the built-in answer (mode
//!   `built_in`) and is logged; the person never sees a 5xx for it.
//! - **Memory.** The prompt carries the rolling summary and the last
//!   [`MEMORY_TURNS`] turns. After an answer is stored, turns beyond those
//!   are folded into the summary (by the model when there is one, else a
//!   deterministic "Earlier: asked …; answered …" line), at most
//!   [`SUMMARY_CHARS`] characters, newest kept; a model's summary records
//!   its tokens.
//!
//! Beside the chat: the weekly insights ([`RequestInsights`] queues them on
//! demand, [`RunInsightJobs`] writes them with [`GenerateInsights`],
//! [`WeeklyInsights`] runs that job and writes every account's week on
//! Monday morning) and the tenant's token usage ([`GetTokenUsage`]).

mod data;
mod insight_jobs;
mod insights;
mod usage;
mod weekly;
/// The tenant's conversation `id`, or 404.
async fn found(
    conversations: &dyn ConversationRepository,
    t: domain::TenantId,
    id: ConversationId,
) -> Result<Conversation, AppError> {
    conversations
        .get(t, id)
        .await?
        .ok_or(AppError::NotFound(Resource::Conversation))
}

#[cfg(test)]
mod tests;

use std::sync::Arc;

use domain::ads::AdAccount;
use domain::assistant::chat::{
    AnswerMode, Conversation, ConversationId, ConversationRepository, Intent, MAX_FLAG_CHARS,
    MAX_MESSAGE_CHARS, MEMORY_TURNS, Message, MessageId, MessageRole, SUMMARY_CHARS, cut,
};
use domain::assistant::figures::{
    Fact, Figure, ModelAnswer, VerificationProblem, answer_json_schema, retry_instructions,
    unverified_answer, verify_with_names,
};
use domain::assistant::llm::{
    ChatMessage, JsonSchema, LlmClient, LlmError, LlmRequest, TokenUsage,
};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::page::{Page, PageRequest};
use domain::platform::Clock;
use domain::rules::SuggestionRepository;
use domain::{AdAccountId, TenantId};
use tracing::{instrument, warn};

pub use data::{Gathered, figure_of, table, unit_name};
pub use insight_jobs::{
    GetInsightJob, INSIGHT_JOB_ATTEMPTS, INSIGHT_JOB_BATCH, INSIGHT_JOB_LEASE, RequestInsights,
    RunInsightJobs,
};
pub use insights::{GenerateInsights, GetInsight, InsightRequest, ListInsights};
pub use usage::{DEFAULT_USAGE_DAYS, GetTokenUsage, SourceUsage, Tokens, UsageReport};
pub use weekly::{WEEKLY_BATCH, WeeklyInsights, WeeklyRound};

use crate::analysis::{DetectAnomalies, GoldReader};
use crate::error::require;
use crate::{AppError, Resource};

/// Tries the model gets per answer: the first reply and one retry.
const ATTEMPTS: usize = 2;
/// Upper bound of an answer's tokens.
const ANSWER_MAX_TOKENS: u32 = 1_000;
/// Upper bound of a summary's tokens.
const SUMMARY_MAX_TOKENS: u32 = 300;

/// The rules every prompt starts with.
pub const SYSTEM_PROMPT: &str = "You are AdScale's assistant, answering an advertiser's questions \
about one ad account. Answer only from the data table in the last message; if it does not answer \
the question, say so. Never invent, estimate or recompute numbers: copy them from the table \
(rounding is fine) and keep their units. Reply with one JSON object {\"answer\": string, \
\"figures\": [{\"label\": string, \"value\": number, \"unit\": string}]} that lists in figures \
every number written in the answer, with the table's label and unit (a currency code such as BRL, \
percent, ratio or count). Write the answer briefly, in the language of the question (English or \
Brazilian Portuguese).";

/// `POST /chat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatInput {
    /// Continue this conversation; a new one when `None`.
    pub conversation_id: Option<ConversationId>,
    pub message: String,
    /// The account asked about; the tenant's first account when `None`.
    pub ad_account_id: Option<AdAccountId>,
}

/// An answer as stored and returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    pub conversation_id: ConversationId,
    /// The answer's message id (what a flag names).
    pub message_id: MessageId,
    pub answer: String,
    pub figures: Vec<Figure>,
    pub mode: AnswerMode,
    /// The intent's name (`kpis`, `compare`, …).
    pub intent: String,
    pub ad_account_id: AdAccountId,
    pub usage: TokenUsage,
}

/// What answered, with the tokens the model used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub answer: String,
    pub figures: Vec<Figure>,
    pub mode: AnswerMode,
    pub usage: TokenUsage,
}

/// Asks the model for a verified answer: one try, one retry with the
/// problems, then the honest unverified answer listing the facts.
///
/// # Errors
/// The model failed (with the tokens used before it did).
pub async fn ask_model(
    llm: &dyn LlmClient,
    messages: Vec<ChatMessage>,
    facts: &[Fact],
    names: &[&str],
) -> Result<Answered, (LlmError, TokenUsage)> {
    let (answer, usage) = ask_verified(
        llm,
        messages,
        &answer_json_schema(),
        ANSWER_MAX_TOKENS,
        |content| {
            ModelAnswer::parse(content).map_err(|e| {
                format!(
                    "{e}. Reply again with one JSON object {{\"answer\": string, \"figures\": \
                     [{{\"label\", \"value\", \"unit\"}}]}} and nothing else."
                )
            })
        },
        |a| verify_with_names(a, facts, names),
    )
    .await?;
    Ok(match answer {
        Some(a) => Answered {
            answer: a.answer,
            figures: a.figures,
            mode: AnswerMode::Llm,
            usage,
        },
        None => Answered {
            answer: unverified_answer(facts),
            figures: facts.iter().map(figure_of).collect(),
            mode: AnswerMode::Unverified,
            usage,
        },
    })
}

/// The verification loop shared by chat answers and generated insights:
/// asks for `schema`, reads the reply with `read` (its error is the fix
/// sent back) and checks it with `verify`; a failure is retried once with
/// [`retry_instructions`]. `None` when both replies failed.
///
/// # Errors
/// The model failed (with the tokens used before it did).
pub(crate) async fn ask_verified<T>(
    llm: &dyn LlmClient,
    mut messages: Vec<ChatMessage>,
    schema: &JsonSchema,
    max_tokens: u32,
    read: impl Fn(&str) -> Result<T, String>,
    verify: impl Fn(&T) -> Result<(), Vec<VerificationProblem>>,
) -> Result<(Option<T>, TokenUsage), (LlmError, TokenUsage)> {
    let mut usage = TokenUsage::default();
    for _ in 0..ATTEMPTS {
        let req = LlmRequest {
            messages: messages.clone(),
            response_schema: Some(schema.clone()),
            temperature: Some(0.0),
            max_tokens: Some(max_tokens),
        };
        let reply = llm.complete(&req).await.map_err(|e| (e, usage))?;
        usage = usage.plus(reply.usage);
        let fix = match read(&reply.content) {
            Ok(a) => match verify(&a) {
                Ok(()) => return Ok((Some(a), usage)),
                Err(problems) => {
                    warn!(
                        problems = problems.len(),
                        "the model's answer failed verification"
                    );
                    retry_instructions(&problems)
                }
            },
            Err(fix) => {
                warn!(error = %fix, "the model's reply is not in the required schema");
                fix
            }
        };
        messages.push(ChatMessage::assistant(reply.content));
        messages.push(ChatMessage::user(fix));
    }
    Ok((None, usage))
}

/// The turns folded into a summary as a deterministic line:
/// `Earlier: asked "…"; answered "…". …`, newest kept within [`SUMMARY_CHARS`].
#[must_use]
pub fn plain_summary(previous: Option<&str>, folded: &[Message]) -> String {
    let mut s = previous.map_or_else(|| "Earlier:".to_owned(), str::to_owned);
    for m in folded {
        let first = m.content.lines().next().unwrap_or_default();
        match m.role {
            MessageRole::User => s.push_str(&format!(" asked \"{}\";", cut(first, 120))),
            MessageRole::Assistant => s.push_str(&format!(" answered \"{}\".", cut(first, 160))),
        }
    }
    keep_newest(&s, SUMMARY_CHARS)
}

/// The last `max` characters of `s` (an ellipsis marks a cut).
fn keep_newest(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let mut out = String::from("…");
    out.extend(s.chars().skip(n - max + 1));
    out
}

/// Answers a question about one of the tenant's ad accounts and stores
/// both in a conversation. Any member may chat.
pub struct Chat {
    conversations: Arc<dyn ConversationRepository>,
    gold: GoldReader,
    suggestions: Arc<dyn SuggestionRepository>,
    anomalies: DetectAnomalies,
    llm: Option<Arc<dyn LlmClient>>,
    clock: Arc<dyn Clock>,
}

impl Chat {
    /// Without `llm`, every answer is the built-in answerer's.
    #[must_use]
    pub fn new(
        conversations: Arc<dyn ConversationRepository>,
        gold: GoldReader,
        suggestions: Arc<dyn SuggestionRepository>,
        llm: Option<Arc<dyn LlmClient>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            conversations,
            anomalies: DetectAnomalies::new(gold.clone()),
            gold,
            suggestions,
            llm,
            clock,
        }
    }

    /// # Errors
    /// 422 for an empty or too long message, or a tenant without ad
    /// accounts (`NO_AD_ACCOUNT`); 404 for a conversation or account missing
    /// or another tenant's; storage failures. A failing model is not an
    /// error (the built-in answer is given).
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(&self, actor: &Actor, input: ChatInput) -> Result<ChatReply, AppError> {
        require(actor, Permission::Read)?;
        let t = actor.tenant_id;
        let message = input.message.trim();
        if message.is_empty() {
            return Err(ValidationError::new("message", "must not be empty").into());
        }
        if message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(ValidationError::new(
                "message",
                &format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            )
            .into());
        }
        let conversation = match input.conversation_id {
            Some(id) => Some(
                self.conversations
                    .get(t, id)
                    .await?
                    .ok_or(AppError::NotFound(Resource::Conversation))?,
            ),
            None => None,
        };
        let account = self.account(t, input.ad_account_id).await?;
        let intent = Intent::classify(message, self.gold.yesterday(&account));
        let gathered = self.gather(t, &account, &intent).await?;
        let history = match &conversation {
            Some(c) => {
                let mut h = self
                    .conversations
                    .messages_after(t, c.id, c.summarized_through)
                    .await?;
                let keep = MEMORY_TURNS * 2;
                if h.len() > keep {
                    h.drain(..h.len() - keep);
                }
                h
            }
            None => Vec::new(),
        };
        let answered = self
            .answer(
                &account,
                &intent,
                &gathered,
                conversation.as_ref(),
                &history,
                message,
            )
            .await;

        let now = self.clock.now();
        let conversation = match conversation {
            Some(c) => c,
            None => {
                let c = Conversation::start(t, actor.label(), message, now);
                self.conversations.create(&c).await?;
                c
            }
        };
        let question = Message::question(conversation.id, message, now);
        let reply = Message {
            id: MessageId::generate(),
            conversation_id: conversation.id,
            role: MessageRole::Assistant,
            content: answered.answer.clone(),
            figures: answered.figures.clone(),
            mode: Some(answered.mode),
            intent: Some(intent.name().to_owned()),
            prompt_tokens: i64::from(answered.usage.prompt_tokens),
            completion_tokens: i64::from(answered.usage.completion_tokens),
            flagged: None,
            created_at: now,
        };
        self.conversations
            .append(t, conversation.id, &[question, reply.clone()], now)
            .await?;
        if let Err(e) = self.remember(t, &conversation).await {
            warn!(error = %e, conversation_id = %conversation.id, "could not update the conversation's summary");
        }
        Ok(ChatReply {
            conversation_id: conversation.id,
            message_id: reply.id,
            answer: answered.answer,
            figures: answered.figures,
            mode: answered.mode,
            intent: intent.name().to_owned(),
            ad_account_id: account.id,
            usage: answered.usage,
        })
    }

    async fn account(&self, t: TenantId, id: Option<AdAccountId>) -> Result<AdAccount, AppError> {
        if let Some(id) = id {
            return self.gold.account(t, id).await;
        }
        self.gold
            .all_accounts(t)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Unprocessable {
                code: "NO_AD_ACCOUNT",
                message: "add an ad account (or import a CSV) before asking the assistant"
                    .to_owned(),
                details: serde_json::json!({}),
            })
    }

    /// The model's verified answer, or the built-in one.
    async fn answer(
        &self,
        account: &AdAccount,
        intent: &Intent,
        g: &Gathered,
        conversation: Option<&Conversation>,
        history: &[Message],
        question: &str,
    ) -> Answered {
        let built_in = |usage| Answered {
            answer: g.built_in.clone(),
            figures: g.facts.iter().map(figure_of).collect(),
            mode: AnswerMode::BuiltIn,
            usage,
        };
        let Some(llm) = &self.llm else {
            return built_in(TokenUsage::default());
        };
        let mut messages = vec![ChatMessage::system(SYSTEM_PROMPT)];
        if let Some(summary) = conversation.and_then(|c| c.summary.as_deref()) {
            messages.push(ChatMessage::system(format!(
                "Summary of the earlier conversation: {summary}"
            )));
        }
        for m in history {
            messages.push(match m.role {
                MessageRole::User => ChatMessage::user(m.content.clone()),
                MessageRole::Assistant => ChatMessage::assistant(m.content.clone()),
            });
        }
        messages.push(ChatMessage::user(format!(
            "Data:\n{}\nQuestion: {question}",
            table(account, intent, g)
        )));
        let names: Vec<&str> = g.names.iter().map(String::as_str).collect();
        match ask_model(llm.as_ref(), messages, &g.facts, &names).await {
            Ok(a) => a,
            Err((e, usage)) => {
                warn!(error = %e, model = llm.model(), "the language model failed; answering with the built-in answerer");
                built_in(usage)
            }
        }
    }

    /// Folds the turns beyond the last [`MEMORY_TURNS`] into the summary.
    async fn remember(&self, t: TenantId, c: &Conversation) -> Result<(), AppError> {
        // The stored row: `c` may be older than the last summary.
        let Some(c) = self.conversations.get(t, c.id).await? else {
            return Ok(());
        };
        let unsummarized = self
            .conversations
            .messages_after(t, c.id, c.summarized_through)
            .await?;
        let keep = MEMORY_TURNS * 2;
        if unsummarized.len() <= keep {
            return Ok(());
        }
        let folded = &unsummarized[..unsummarized.len() - keep];
        let Some(through) = folded.last().map(|m| m.id) else {
            return Ok(());
        };
        let (summary, usage) = match &self.llm {
            Some(llm) => {
                let (written, usage) = self
                    .model_summary(llm.as_ref(), c.summary.as_deref(), folded)
                    .await;
                let summary =
                    written.unwrap_or_else(|| plain_summary(c.summary.as_deref(), folded));
                (summary, usage)
            }
            None => (
                plain_summary(c.summary.as_deref(), folded),
                TokenUsage::default(),
            ),
        };
        self.conversations
            .update_summary(t, c.id, &summary, through, usage, self.clock.now())
            .await?;
        Ok(())
    }

    async fn model_summary(
        &self,
        llm: &dyn LlmClient,
        previous: Option<&str>,
        folded: &[Message],
    ) -> (Option<String>, TokenUsage) {
        let mut text = String::new();
        if let Some(p) = previous {
            text.push_str(&format!("Summary so far: {p}\n\n"));
        }
        text.push_str("Turns to add:\n");
        for m in folded {
            let who = match m.role {
                MessageRole::User => "User",
                MessageRole::Assistant => "Assistant",
            };
            text.push_str(&format!("{who}: {}\n", m.content));
        }
        let req = LlmRequest {
            messages: vec![
                ChatMessage::system(
                    "Summarize this conversation between an advertiser and an analytics \
                     assistant in at most 5 short sentences, in the conversation's language: \
                     what was asked and concluded. Plain text, no JSON.",
                ),
                ChatMessage::user(text),
            ],
            response_schema: None,
            temperature: Some(0.0),
            max_tokens: Some(SUMMARY_MAX_TOKENS),
        };
        match llm.complete(&req).await {
            Ok(r) if !r.content.trim().is_empty() => {
                (Some(keep_newest(r.content.trim(), SUMMARY_CHARS)), r.usage)
            }
            // An empty reply still spent its tokens.
            Ok(r) => (None, r.usage),
            Err(e) => {
                warn!(error = %e, "the language model could not summarize; using the plain summary");
                (None, TokenUsage::default())
            }
        }
    }
}

/// The tenant's conversations, newest first.
pub struct ListConversations {
    conversations: Arc<dyn ConversationRepository>,
}

impl ListConversations {
    #[must_use]
    pub fn new(conversations: Arc<dyn ConversationRepository>) -> Self {
        Self { conversations }
    }

    /// # Errors
    /// Storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Conversation>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.conversations.list(actor.tenant_id, page).await?)
    }
}

/// A conversation's messages, oldest first, with figures, mode and tokens.
pub struct ListMessages {
    conversations: Arc<dyn ConversationRepository>,
}

impl ListMessages {
    #[must_use]
    pub fn new(conversations: Arc<dyn ConversationRepository>) -> Self {
        Self { conversations }
    }

    /// # Errors
    /// 404 for a conversation missing or another tenant's; storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: ConversationId,
        page: PageRequest,
    ) -> Result<(Conversation, Page<Message>), AppError> {
        require(actor, Permission::Read)?;
        let t = actor.tenant_id;
        let c = found(self.conversations.as_ref(), t, id).await?;
        let page = self.conversations.messages(t, id, page).await?;
        Ok((c, page))
    }

    /// The organization's flagged answers across its conversations, newest
    /// first, for whoever reviews the assistant (any member: every member
    /// already reads every conversation).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn flagged(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Message>, AppError> {
        require(actor, Permission::Read)?;
        Ok(self.conversations.flagged(actor.tenant_id, page).await?)
    }
}

/// Deletes a conversation and its messages: its starter, or an admin.
pub struct DeleteConversation {
    conversations: Arc<dyn ConversationRepository>,
}

impl DeleteConversation {
    #[must_use]
    pub fn new(conversations: Arc<dyn ConversationRepository>) -> Self {
        Self { conversations }
    }

    /// # Errors
    /// 404 for a conversation missing or another tenant's; 403 for someone
    /// else's conversation below admin; storage failures.
    pub async fn execute(&self, actor: &Actor, id: ConversationId) -> Result<(), AppError> {
        require(actor, Permission::Read)?;
        let t = actor.tenant_id;
        let c = found(self.conversations.as_ref(), t, id).await?;
        if c.user != actor.label() && !actor.can(Permission::Write) {
            return Err(AppError::Forbidden);
        }
        if self.conversations.delete(t, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(Resource::Conversation))
        }
    }
}

/// Flags an answer as wrong, for review. Any member may.
pub struct FlagMessage {
    conversations: Arc<dyn ConversationRepository>,
}

impl FlagMessage {
    #[must_use]
    pub fn new(conversations: Arc<dyn ConversationRepository>) -> Self {
        Self { conversations }
    }

    /// # Errors
    /// 422 for an empty or too long reason; 404 for a conversation or
    /// answer missing or another tenant's (questions cannot be flagged);
    /// storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: ConversationId,
        message: MessageId,
        reason: &str,
    ) -> Result<Message, AppError> {
        require(actor, Permission::Read)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ValidationError::new("reason", "must not be empty").into());
        }
        if reason.chars().count() > MAX_FLAG_CHARS {
            return Err(ValidationError::new(
                "reason",
                &format!("must be at most {MAX_FLAG_CHARS} characters"),
            )
            .into());
        }
        let t = actor.tenant_id;
        self.conversations
            .get(t, id)
            .await?
            .ok_or(AppError::NotFound(Resource::Conversation))?;
        self.conversations
            .flag(t, id, message, reason)
            .await?
            .ok_or(AppError::NotFound(Resource::Message))
    }
}
