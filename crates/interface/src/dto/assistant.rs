//! Assistant DTOs. `POST /chat` takes `{conversation_id?, message,
//! ad_account_id?}` and answers `{conversation_id, message_id, answer,
//! figures: [{label, value, unit}], mode, verified, intent, ad_account_id,
//! usage: {prompt_tokens, completion_tokens}}`. A figure's `value` is a
//! decimal string (exact, like money elsewhere); `unit` is a currency code,
//! `percent`, `ratio` or `count`. `GET /assistant/usage?from&to` answers
//! `{from, to, total, by_source: [{source, …, calls}], by_day: [{date, …}]}`
//! with `prompt_tokens`, `completion_tokens` and `total_tokens` in each.

use application::assistant::{ChatInput, ChatReply, Tokens, UsageReport};
use domain::assistant::chat::{AnswerMode, Conversation, Message};
use domain::assistant::figures::Figure;
use domain::assistant::usage::UsageSource;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{date, timestamp};

/// `POST /chat`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ChatRequest {
    /// Continue this conversation; a new one is started when absent.
    pub conversation_id: Option<Uuid>,
    /// The question (1–4,000 characters), in English or Brazilian Portuguese.
    #[schema(example = "What was my spend from 2026-10-01 to 2026-10-03?")]
    pub message: Option<String>,
    /// The ad account asked about; the organization's first account when absent.
    pub ad_account_id: Option<Uuid>,
}

impl From<ChatRequest> for ChatInput {
    fn from(r: ChatRequest) -> Self {
        Self {
            conversation_id: r.conversation_id.map(Into::into),
            message: r.message.unwrap_or_default(),
            ad_account_id: r.ad_account_id.map(Into::into),
        }
    }
}

/// One number an answer used.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FigureDto {
    #[schema(example = "spend last 7 days")]
    pub label: String,
    /// A decimal string, as precise as the data (or as the model rounded it).
    #[schema(example = "1234.56")]
    pub value: String,
    /// A currency code (`BRL`), `percent`, `ratio` or `count`.
    #[schema(example = "BRL")]
    pub unit: String,
}

impl From<Figure> for FigureDto {
    fn from(f: Figure) -> Self {
        Self {
            label: f.label,
            value: f.value.to_string(),
            unit: f.unit,
        }
    }
}

/// Who answered, as the API contract names it: `llm` (the language model
/// was asked; see `verified`) or `builtin` (the built-in answerer: no model
/// configured, or it was unavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnswerModeDto {
    Llm,
    Builtin,
}

impl From<AnswerMode> for AnswerModeDto {
    fn from(m: AnswerMode) -> Self {
        match m {
            AnswerMode::Llm | AnswerMode::Unverified => Self::Llm,
            AnswerMode::BuiltIn => Self::Builtin,
        }
    }
}

/// Tokens the model used for an answer (0 without one).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct TokenUsageDto {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

/// The answer to `POST /chat`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatReplyDto {
    pub conversation_id: Uuid,
    /// The answer's id (to flag it).
    pub message_id: Uuid,
    pub answer: String,
    /// The figures the answer used (unverified: the raw data).
    pub figures: Vec<FigureDto>,
    pub mode: AnswerModeDto,
    /// `false` when the model's figures did not check out twice: the answer
    /// is then the honest "could not verify" text with the raw figures.
    pub verified: bool,
    /// How the question was read: `kpis`, `compare`, `top_campaigns`,
    /// `why_changed`, `pending_suggestions`, `anomalies`.
    #[schema(example = "kpis")]
    pub intent: String,
    pub ad_account_id: Uuid,
    pub usage: TokenUsageDto,
}

impl From<ChatReply> for ChatReplyDto {
    fn from(r: ChatReply) -> Self {
        Self {
            conversation_id: r.conversation_id.into_uuid(),
            message_id: r.message_id.into_uuid(),
            answer: r.answer,
            figures: r.figures.into_iter().map(FigureDto::from).collect(),
            mode: r.mode.into(),
            verified: r.mode != AnswerMode::Unverified,
            intent: r.intent,
            ad_account_id: r.ad_account_id.into_uuid(),
            usage: TokenUsageDto {
                prompt_tokens: i64::from(r.usage.prompt_tokens),
                completion_tokens: i64::from(r.usage.completion_tokens),
            },
        }
    }
}

/// A conversation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationDto {
    pub id: Uuid,
    /// The first question, cut to 80 characters.
    pub title: String,
    /// Who started it (`user:…`, `api_key:…`).
    pub created_by: String,
    /// The rolling summary of the turns beyond the last 10, if any.
    pub summary: Option<String>,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<Conversation> for ConversationDto {
    fn from(c: Conversation) -> Self {
        Self {
            id: c.id.into_uuid(),
            title: c.title,
            created_by: c.user,
            summary: c.summary,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageRoleDto {
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageDto {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub role: MessageRoleDto,
    pub content: String,
    /// The figures an answer used (empty for questions).
    pub figures: Vec<FigureDto>,
    /// Who answered (answers only).
    pub mode: Option<AnswerModeDto>,
    /// Whether its figures were verified (answers only).
    pub verified: Option<bool>,
    /// How the question was read (answers only).
    pub intent: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Whether a member flagged this answer as wrong.
    pub flagged: bool,
    /// The flag's reason.
    pub flag_reason: Option<String>,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<Message> for MessageDto {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.into_uuid(),
            conversation_id: m.conversation_id.into_uuid(),
            role: match m.role {
                domain::assistant::chat::MessageRole::User => MessageRoleDto::User,
                domain::assistant::chat::MessageRole::Assistant => MessageRoleDto::Assistant,
            },
            content: m.content,
            figures: m.figures.into_iter().map(FigureDto::from).collect(),
            mode: m.mode.map(Into::into),
            verified: m.mode.map(|mode| mode != AnswerMode::Unverified),
            intent: m.intent,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            flagged: m.flagged.is_some(),
            flag_reason: m.flagged,
            created_at: m.created_at,
        }
    }
}

/// `POST /conversations/{id}/messages/{message_id}/flag`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FlagRequest {
    /// What is wrong with the answer (1–1,000 characters).
    #[schema(example = "The spend does not match the dashboard")]
    pub reason: Option<String>,
}

/// `?limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationListQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `GET /assistant/usage` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First UTC day, `YYYY-MM-DD`; 30 days ending on `to` when absent.
    #[param(value_type = Option<String>, format = Date, example = "2026-09-06")]
    pub from: Option<String>,
    /// Last UTC day (inclusive), `YYYY-MM-DD`; today when absent.
    #[param(value_type = Option<String>, format = Date, example = "2026-10-05")]
    pub to: Option<String>,
}

/// Tokens summed over a period.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct UsageTotalsDto {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
}

impl From<Tokens> for UsageTotalsDto {
    fn from(t: Tokens) -> Self {
        Self {
            prompt_tokens: t.prompt_tokens,
            completion_tokens: t.completion_tokens,
            total_tokens: t.total_tokens(),
        }
    }
}

/// What the tokens were spent on.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageSourceDto {
    /// Chat answers and the summaries of long conversations.
    Chat,
    /// Generated weekly insights (on demand and by the weekly round).
    Insights,
}

/// One source's tokens and model calls.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct SourceUsageDto {
    pub source: UsageSourceDto,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    /// Answers, summaries or documents the model wrote (built-in ones spend
    /// nothing and are not counted).
    pub calls: i64,
}

/// One UTC day's tokens.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayUsageDto {
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date, example = "2026-10-01")]
    pub date: Date,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
}

/// `GET /assistant/usage`: the organization's model tokens in `from..=to`
/// (UTC days).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsageDto {
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date, example = "2026-09-06")]
    pub from: Date,
    #[serde(serialize_with = "date")]
    #[schema(value_type = String, format = Date, example = "2026-10-05")]
    pub to: Date,
    pub total: UsageTotalsDto,
    /// Every source (`chat`, `insights`), zeros included.
    pub by_source: Vec<SourceUsageDto>,
    /// Every day of the range, oldest first, zeros included.
    pub by_day: Vec<DayUsageDto>,
}

impl From<UsageReport> for UsageDto {
    fn from(r: UsageReport) -> Self {
        Self {
            from: r.days.from(),
            to: r.days.to(),
            total: r.total.into(),
            by_source: r
                .by_source
                .into_iter()
                .map(|s| SourceUsageDto {
                    source: match s.source {
                        UsageSource::Chat => UsageSourceDto::Chat,
                        UsageSource::Insights => UsageSourceDto::Insights,
                    },
                    prompt_tokens: s.tokens.prompt_tokens,
                    completion_tokens: s.tokens.completion_tokens,
                    total_tokens: s.tokens.total_tokens(),
                    calls: s.calls,
                })
                .collect(),
            by_day: r
                .by_day
                .into_iter()
                .map(|(date, t)| DayUsageDto {
                    date,
                    prompt_tokens: t.prompt_tokens,
                    completion_tokens: t.completion_tokens,
                    total_tokens: t.total_tokens(),
                })
                .collect(),
        }
    }
}
