//! [`OpenAiCompatibleClient`]: the OpenAI chat-completions API
//! (`POST {base_url}/chat/completions`) behind [`LlmClient`].
//!
//! Works with any server that speaks that format: OpenAI
//! (`https://api.openai.com/v1`), Together AI (`https://api.together.xyz/v1`),
//! vLLM (`http://host:8000/v1`) or Ollama (`http://host:11434/v1`, no key).
//!
//! - **Structured output**: a request's schema is sent as
//!   `response_format: {type: "json_schema", json_schema: {name, schema,
//!   strict: true}}`.
//! - **Retries**: HTTP 429 waits the `Retry-After` seconds (at most
//!   [`OpenAiConfig::max_retry_after`]; a longer or repeated throttling
//!   returns [`LlmError::RateLimited`]); HTTP 408, 5xx and transport errors
//!   (timeouts, refused connections) wait a jittered exponential backoff.
//!   Both stop after [`OpenAiConfig::max_retries`] retries. An answer that is
//!   not a usable completion ([`LlmError::BadReply`]) and other refusals are
//!   not retried: asking again would get the same answer.
//! - **Circuit breaker**: [`OpenAiConfig::breaker_threshold`] consecutive
//!   5xx/transport failures (retries included) open it; for
//!   [`OpenAiConfig::breaker_cooldown`] calls fail at once with
//!   [`LlmError::Unavailable`] without touching the network. Then one trial
//!   call goes through: any HTTP answer closes the breaker, a failure opens it
//!   again. Throttling does not count as a failure.
//! - **Secrets**: the key only travels in the `Authorization` header (marked
//!   sensitive); it is never in an error, a log line or `Debug` output, and is
//!   scrubbed from provider messages that echo it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::assistant::llm::{LlmClient, LlmError, LlmReply, LlmRequest, TokenUsage};
use rand::Rng as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};

use crate::breaker::Breaker;
use crate::clock::{Sleeper, TokioSleeper};

// ------------------------------------------------------------------ config

/// An LLM provider's API key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct LlmApiKey(String);

impl LlmApiKey {
    #[must_use]
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
    /// The clear text, for the one place that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LlmApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LlmApiKey(<redacted>)")
    }
}

/// Where and how the client talks to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiConfig {
    /// The API root before `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set (a local Ollama needs none).
    pub api_key: Option<LlmApiKey>,
    /// The `model` of every request, e.g. `gpt-4o-mini`.
    pub model: String,
    /// Timeout of one HTTP call (a long answer takes a while: be generous).
    pub timeout: Duration,
    /// Retries after a throttled or transient failure (so `max_retries + 1` calls).
    pub max_retries: u32,
    /// First backoff step; doubles per retry, jittered (half fixed, half random).
    pub backoff_base: Duration,
    /// Longest backoff step.
    pub backoff_max: Duration,
    /// Longest `Retry-After` the client waits out; beyond it, and when a 429
    /// carries none, the backoff applies; a wait beyond this is
    /// [`LlmError::RateLimited`] at once.
    pub max_retry_after: Duration,
    /// Consecutive 5xx/transport failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long the open breaker fails fast before letting one call try.
    pub breaker_cooldown: Duration,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".to_owned(),
            api_key: None,
            model: "gpt-4o-mini".to_owned(),
            timeout: Duration::from_secs(60),
            max_retries: 2,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(20),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

// ------------------------------------------------------------------ wire

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat<'a>>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    json_schema: WireSchema<'a>,
}

#[derive(Serialize)]
struct WireSchema<'a> {
    name: &'a str,
    schema: &'a serde_json::Value,
    strict: bool,
}

#[derive(Deserialize)]
struct WireCompletion {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireChoice {
    #[serde(default)]
    message: Option<WireReplyMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireReplyMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    #[serde(default)]
    total_tokens: u32,
}

#[derive(Deserialize)]
struct WireErrorBody {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

/// What one HTTP call came to.
enum Attempt {
    Done(LlmReply),
    /// Final: no retry helps.
    Fatal(LlmError),
    /// HTTP 429, with the announced wait.
    Throttled(Option<Duration>),
    /// HTTP 408/5xx or a transport error.
    Transient(String),
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs >= 0.0)
        .then(|| Duration::try_from_secs_f64(secs).ok())
        .flatten()
}

fn parse_completion(body: &[u8], fallback_model: &str) -> Result<LlmReply, LlmError> {
    let c: WireCompletion = serde_json::from_slice(body)
        .map_err(|_| LlmError::BadReply("the response is not a chat completion (JSON)".into()))?;
    let choice = c
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::BadReply("the completion has no choices".into()))?;
    let message = choice
        .message
        .ok_or_else(|| LlmError::BadReply("the first choice has no message".into()))?;
    if let Some(refusal) = message.refusal.filter(|r| !r.trim().is_empty()) {
        return Err(LlmError::BadReply(format!("the model refused: {refusal}")));
    }
    if choice.finish_reason.as_deref() == Some("length") {
        return Err(LlmError::BadReply(
            "the reply was cut off at the token limit".into(),
        ));
    }
    let content = message
        .content
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| LlmError::BadReply("the message has no content".into()))?;
    let usage = c.usage.unwrap_or_default();
    Ok(LlmReply {
        content,
        usage: TokenUsage {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            total: if usage.total_tokens == 0 {
                usage.prompt_tokens.saturating_add(usage.completion_tokens)
            } else {
                usage.total_tokens
            },
        },
        model: c
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| fallback_model.to_owned()),
    })
}

// ------------------------------------------------------------------ client

/// The chat-completions adapter. Cheap to share (`Arc`); one breaker per client.
pub struct OpenAiCompatibleClient {
    config: OpenAiConfig,
    http: reqwest::Client,
    url: Url,
    breaker: Breaker,
    sleeper: Arc<dyn Sleeper>,
}

impl fmt::Debug for OpenAiCompatibleClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatibleClient")
            .field("config", &self.config)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl OpenAiCompatibleClient {
    /// A client that waits with `tokio::time::sleep`.
    ///
    /// # Errors
    /// [`LlmError::Misconfigured`]: the base URL is not an absolute http(s)
    /// URL, the model is empty, the key cannot be a header value, or the HTTP
    /// client cannot be built.
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        Self::with_sleeper(config, Arc::new(TokioSleeper))
    }

    /// A client whose waits (and clock) go through `sleeper`, so tests see
    /// every wait without sleeping.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn with_sleeper(config: OpenAiConfig, sleeper: Arc<dyn Sleeper>) -> Result<Self, LlmError> {
        let bad = |m: &str| LlmError::Misconfigured(m.to_owned());
        let root = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        let url = Url::parse(&root).map_err(|_| bad("the base URL is not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("the base URL must be an absolute http(s) URL"));
        }
        if config.model.trim().is_empty() {
            return Err(bad("no model is configured"));
        }
        if let Some(key) = &config.api_key
            && HeaderValue::from_str(&format!("Bearer {}", key.expose())).is_err()
        {
            return Err(bad("the API key contains characters a header cannot carry"));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|_| bad("the HTTP client cannot be built"))?;
        Ok(Self {
            breaker: Breaker::new(
                "the language model",
                config.breaker_threshold,
                config.breaker_cooldown,
            ),
            config,
            http,
            url,
            sleeper,
        })
    }

    /// The configuration in use (its `Debug` hides the key).
    #[must_use]
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    fn body(&self, req: &LlmRequest) -> Result<Vec<u8>, LlmError> {
        let wire = WireRequest {
            model: &self.config.model,
            messages: req
                .messages
                .iter()
                .map(|m| WireMessage {
                    role: m.role.as_str(),
                    content: &m.content,
                })
                .collect(),
            temperature: req.temperature,
            max_tokens: req.max_tokens,
            response_format: req.response_schema.as_ref().map(|s| ResponseFormat {
                kind: "json_schema",
                json_schema: WireSchema {
                    name: &s.name,
                    schema: &s.schema,
                    strict: true,
                },
            }),
        };
        serde_json::to_vec(&wire)
            .map_err(|_| LlmError::Misconfigured("the request cannot be encoded".into()))
    }

    /// A provider message without the key in it, shortened.
    fn scrub(&self, message: &str) -> String {
        let mut m = message.to_owned();
        if let Some(key) = &self.config.api_key
            && !key.expose().is_empty()
        {
            m = m.replace(key.expose(), "<redacted>");
        }
        if m.chars().count() > 300 {
            m = m.chars().take(300).collect::<String>() + "…";
        }
        m
    }

    async fn attempt(&self, body: &[u8]) -> Attempt {
        let mut call = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(key) = &self.config.api_key {
            match HeaderValue::from_str(&format!("Bearer {}", key.expose())) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    call = call.header(AUTHORIZATION, v);
                }
                Err(_) => {
                    return Attempt::Fatal(LlmError::Misconfigured(
                        "the API key is not a valid header value".into(),
                    ));
                }
            }
        }
        let response = match call.send().await {
            Ok(r) => r,
            Err(e) => {
                let what = if e.is_timeout() {
                    "the request timed out"
                } else if e.is_connect() {
                    "the connection failed"
                } else {
                    "the request failed in transport"
                };
                return Attempt::Transient(what.to_owned());
            }
        };
        let status = response.status();
        let wait = retry_after(response.headers());
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) if status.is_success() && !e.is_timeout() => {
                return Attempt::Fatal(LlmError::BadReply("the response body broke off".into()));
            }
            Err(_) => return Attempt::Transient("the response body could not be read".into()),
        };
        if status.is_success() {
            return match parse_completion(&bytes, &self.config.model) {
                Ok(reply) => Attempt::Done(reply),
                Err(e) => Attempt::Fatal(e),
            };
        }
        let error = serde_json::from_slice::<WireErrorBody>(&bytes)
            .ok()
            .map(|b| b.error);
        let message = error
            .as_ref()
            .and_then(|e| e.message.as_deref())
            .map(|m| self.scrub(m))
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        let code = error
            .as_ref()
            .and_then(|e| e.code.as_ref())
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match status {
            StatusCode::TOO_MANY_REQUESTS if code == "insufficient_quota" => {
                Attempt::Fatal(LlmError::Rejected {
                    status: status.as_u16(),
                    message,
                })
            }
            StatusCode::TOO_MANY_REQUESTS => Attempt::Throttled(wait),
            StatusCode::REQUEST_TIMEOUT => Attempt::Transient(format!("HTTP {}", status.as_u16())),
            s if s.is_server_error() => Attempt::Transient(format!("HTTP {}", s.as_u16())),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Attempt::Fatal(LlmError::Misconfigured(format!(
                    "the provider refused the API key (HTTP {})",
                    status.as_u16()
                )))
            }
            s => Attempt::Fatal(LlmError::Rejected {
                status: s.as_u16(),
                message,
            }),
        }
    }

    /// Jittered exponential backoff: half of `base × 2^n` (capped) fixed,
    /// half random.
    fn backoff(&self, n: u32) -> Duration {
        let step = self
            .config
            .backoff_base
            .saturating_mul(2u32.saturating_pow(n.min(16)))
            .min(self.config.backoff_max);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
    }
}

#[async_trait]
impl LlmClient for OpenAiCompatibleClient {
    async fn complete(&self, req: &LlmRequest) -> Result<LlmReply, LlmError> {
        let body = self.body(req)?;
        let mut retries = 0u32;
        loop {
            if !self.breaker.allow(self.sleeper.now()) {
                return Err(LlmError::Unavailable(
                    "circuit open: the provider failed repeatedly; try again shortly".into(),
                ));
            }
            let started = std::time::Instant::now();
            let outcome = self.attempt(&body).await;
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let pause = match outcome {
                Attempt::Done(reply) => {
                    self.breaker.success();
                    tracing::debug!(
                        model = %reply.model,
                        prompt_tokens = reply.usage.prompt_tokens,
                        completion_tokens = reply.usage.completion_tokens,
                        elapsed_ms,
                        "chat completion"
                    );
                    return Ok(reply);
                }
                Attempt::Fatal(e) => {
                    self.breaker.success();
                    tracing::warn!(model = %self.config.model, error = %e, "chat completion failed");
                    return Err(e);
                }
                Attempt::Throttled(wait) => {
                    self.breaker.success();
                    let too_long = wait.is_some_and(|w| w > self.config.max_retry_after);
                    if too_long || retries >= self.config.max_retries {
                        tracing::warn!(
                            model = %self.config.model,
                            retry_after_ms = wait.map(|w| u64::try_from(w.as_millis()).unwrap_or(u64::MAX)),
                            "the language model is rate limited; giving up"
                        );
                        return Err(LlmError::RateLimited { retry_after: wait });
                    }
                    wait.unwrap_or_else(|| self.backoff(retries))
                }
                Attempt::Transient(what) => {
                    self.breaker.failure(self.sleeper.now(), &what);
                    if retries >= self.config.max_retries {
                        return Err(LlmError::Unavailable(format!(
                            "{what} (after {} attempts)",
                            retries.saturating_add(1)
                        )));
                    }
                    self.backoff(retries)
                }
            };
            tracing::info!(
                model = %self.config.model,
                attempt = retries.saturating_add(1),
                wait_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                "chat completion will be retried"
            );
            self.sleeper.sleep(pause).await;
            retries = retries.saturating_add(1);
        }
    }

    fn model(&self) -> &str {
        &self.config.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_key() {
        let client = OpenAiCompatibleClient::new(OpenAiConfig {
            api_key: Some(LlmApiKey::new("sk-very-secret")),
            ..OpenAiConfig::default()
        })
        .unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn a_relative_base_url_is_misconfigured() {
        let e = OpenAiCompatibleClient::new(OpenAiConfig {
            base_url: "api.openai.com/v1".into(),
            ..OpenAiConfig::default()
        })
        .unwrap_err();
        assert!(matches!(e, LlmError::Misconfigured(_)));
    }

    #[test]
    fn provider_messages_lose_the_key() {
        let client = OpenAiCompatibleClient::new(OpenAiConfig {
            api_key: Some(LlmApiKey::new("sk-very-secret")),
            ..OpenAiConfig::default()
        })
        .unwrap();
        assert_eq!(client.scrub("bad key sk-very-secret"), "bad key <redacted>");
    }
}
