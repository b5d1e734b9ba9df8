//! Assistant: the port to a large language model ([`llm`]) and the rules that
//! keep its answers honest ([`figures`]): the model replies in a fixed JSON
//! shape listing every figure it used, and no answer reaches a person unless
//! each figure matches the tenant's data and each number in the prose is one
//! of those figures.
//!
//! [`chat`] owns conversations, their storage port and intent classification;
//! [`insight`] the weekly generated insights and their storage port;
//! [`insight_jobs`] insight generation requested on demand, as a job;
//! [`usage`] the tenant's token usage and its storage port.
//! Owns no prompts (those belong to the chat use case) and never talks HTTP
//! (the adapter lives in `infrastructure::llm`).

pub mod chat;
pub mod figures;
pub mod insight;
pub mod insight_jobs;
pub mod llm;
mod numbers;
pub mod usage;
