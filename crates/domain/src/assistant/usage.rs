//! The language model's token usage per tenant: what the assistant spent on
//! chat (answers and the rolling conversation summaries) and on generated
//! insights, per UTC day.
//!
//! Owns the report's shape and its storage port; never counts anything
//! itself (the tokens are the provider's, stored where each call's result is
//! stored: the answer message, the summary row, the insight document).

use async_trait::async_trait;
use time::Date;

use crate::RepoError;
use crate::ads::DateRange;
use crate::ids::TenantId;

/// What the tokens were spent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UsageSource {
    /// Chat answers and the summaries that fold old turns.
    Chat,
    /// Generated weekly insights, on demand or by the weekly round.
    Insights,
}

impl UsageSource {
    /// Every source, in report order.
    pub const ALL: [Self; 2] = [Self::Chat, Self::Insights];

    /// The wire name: `chat`, `insights`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Insights => "insights",
        }
    }
}

/// Tokens of one source on one UTC day, summed by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageRow {
    pub source: UsageSource,
    pub date: Date,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Answers, summaries or documents the model was asked for (those with
    /// tokens; built-in ones spend none and are not counted).
    pub calls: i64,
}

/// Where the tokens are read from.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TokenUsageRepository: Send + Sync {
    /// The tenant's tokens in `days` (UTC days, ends included), one row per
    /// source and day that has any; days and sources without calls are
    /// absent.
    ///
    /// # Errors
    /// Storage failures.
    async fn usage(&self, t: TenantId, days: DateRange) -> Result<Vec<UsageRow>, RepoError>;
}
