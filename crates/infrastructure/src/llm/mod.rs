//! Large language model adapters behind [`domain::assistant::llm::LlmClient`].
//!
//! - [`openai`]: [`openai::OpenAiCompatibleClient`], the OpenAI
//!   chat-completions API and everything that speaks it (OpenAI, Together AI,
//!   a local vLLM or Ollama), with structured output, timeouts, retries and a
//!   circuit breaker.

pub mod openai;
