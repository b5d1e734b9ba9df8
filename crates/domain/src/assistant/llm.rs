//! The large language model port: one chat completion in, one reply out.
//!
//! The adapter behind it (OpenAI-compatible chat completions: OpenAI,
//! Together AI, a local vLLM or Ollama) owns timeouts, retries and its
//! circuit breaker; callers see a reply or an [`LlmError`] that says whether
//! trying later can help. Nothing here carries an API key.

use std::time::Duration;

use async_trait::async_trait;

/// Who speaks in a [`ChatMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Instructions that frame the whole conversation.
    System,
    /// The person (or the application speaking for them, e.g. with data).
    User,
    /// An earlier reply of the model.
    Assistant,
}

impl Role {
    /// The role's name in the chat-completions wire format.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    /// A system message.
    #[must_use]
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    /// A user message.
    #[must_use]
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    /// An assistant message (an earlier reply, e.g. before a retry).
    #[must_use]
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A JSON Schema the reply must follow (structured output).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonSchema {
    /// A short identifier (`[a-zA-Z0-9_-]`, at most 64 characters: OpenAI's rule).
    pub name: String,
    /// The schema itself (an object schema; strict mode expects
    /// `additionalProperties: false` and every property required).
    pub schema: serde_json::Value,
}

/// One chat-completion request.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmRequest {
    pub messages: Vec<ChatMessage>,
    /// When set, the model is asked to reply with JSON following it.
    pub response_schema: Option<JsonSchema>,
    /// Sampling temperature (0 = most deterministic); `None` = provider default.
    pub temperature: Option<f32>,
    /// Upper bound of tokens the reply may use; `None` = provider default.
    pub max_tokens: Option<u32>,
}

impl LlmRequest {
    /// A request with these messages and no schema, temperature or limit.
    #[must_use]
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        Self {
            messages,
            response_schema: None,
            temperature: None,
            max_tokens: None,
        }
    }
}

/// Tokens one completion used, as the provider counted them (what a tenant
/// is charged for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenUsage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// The provider's total (normally prompt + completion).
    pub total: u32,
}

impl TokenUsage {
    /// The sum of two usages (e.g. a reply and its retry), saturating.
    #[must_use]
    pub const fn plus(self, o: Self) -> Self {
        Self {
            prompt_tokens: self.prompt_tokens.saturating_add(o.prompt_tokens),
            completion_tokens: self.completion_tokens.saturating_add(o.completion_tokens),
            total: self.total.saturating_add(o.total),
        }
    }
}

/// The model's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmReply {
    /// The text of the first choice (JSON text when a schema was asked for).
    pub content: String,
    pub usage: TokenUsage,
    /// The model that answered, as the provider names it.
    pub model: String,
}

/// Why no reply came. Messages never contain the API key or the prompt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The provider kept failing (5xx, timeouts, connection errors) after
    /// the retries, or the circuit breaker is open.
    #[error("the language model is unavailable: {0}")]
    Unavailable(String),
    /// Throttled (HTTP 429) for longer than the adapter is willing to wait.
    #[error("the language model is rate limited; retry in {retry_after:?}")]
    RateLimited {
        /// What the provider announced (`Retry-After`), when it did.
        retry_after: Option<Duration>,
    },
    /// The provider answered, but not with a usable completion (malformed
    /// JSON, no choices, an empty or refused message).
    #[error("the language model sent an unusable reply: {0}")]
    BadReply(String),
    /// The provider refused the request for good (HTTP 4xx other than 429:
    /// unknown model, bad parameter, context too long).
    #[error("the language model refused the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// The configuration cannot work: bad base URL, missing or refused API key.
    #[error("the language model client is misconfigured: {0}")]
    Misconfigured(String),
}

impl LlmError {
    /// Whether asking again later can help.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::RateLimited { .. })
    }
}

/// A chat-completion model.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LlmClient: Send + Sync {
    /// Runs one completion (the adapter retries transient failures itself).
    ///
    /// # Errors
    /// See [`LlmError`].
    async fn complete(&self, req: &LlmRequest) -> Result<LlmReply, LlmError>;
    /// The configured model name (for usage records and logs).
    fn model(&self) -> &str;
}
