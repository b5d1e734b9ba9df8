//! The tenant's language-model token usage over a range of UTC days: the
//! total, per source (chat, insights) with the number of model calls, and
//! per day (every day of the range, zeros included, for charts). Sums come
//! from the store ([`TokenUsageRepository`]); this only folds its rows per
//! source and day into the three views.
//!
//! Any member may read it: it shows what the assistant cost, never what was
//! asked.

use std::sync::Arc;

use domain::ads::DateRange;
use domain::assistant::usage::{TokenUsageRepository, UsageSource};
use domain::error::ValidationError;
use domain::identity::{Actor, Permission};
use domain::platform::Clock;
use time::{Date, Duration};
use tracing::instrument;

use crate::AppError;
use crate::analysis::{bounded_range, optional_date};
use crate::error::require;

/// Days covered when no `from` is given (ending on `to`, today by default).
pub const DEFAULT_USAGE_DAYS: i64 = 30;

/// Prompt and completion tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

impl Tokens {
    /// Prompt plus completion tokens.
    #[must_use]
    pub const fn total_tokens(&self) -> i64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }

    fn add(&mut self, prompt: i64, completion: i64) {
        self.prompt_tokens = self.prompt_tokens.saturating_add(prompt);
        self.completion_tokens = self.completion_tokens.saturating_add(completion);
    }
}

/// One source's tokens and the model calls they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceUsage {
    pub source: UsageSource,
    pub tokens: Tokens,
    pub calls: i64,
}

/// The tenant's usage over `days`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReport {
    pub days: DateRange,
    pub total: Tokens,
    /// Every source, in [`UsageSource::ALL`] order.
    pub by_source: Vec<SourceUsage>,
    /// Every day of the range, oldest first.
    pub by_day: Vec<(Date, Tokens)>,
}

/// Reads the tenant's token usage.
pub struct GetTokenUsage {
    usage: Arc<dyn TokenUsageRepository>,
    clock: Arc<dyn Clock>,
}

impl GetTokenUsage {
    #[must_use]
    pub fn new(usage: Arc<dyn TokenUsageRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { usage, clock }
    }

    /// `from`/`to` are `YYYY-MM-DD` UTC days, ends included; `to` defaults
    /// to today and `from` to [`DEFAULT_USAGE_DAYS`] days ending on `to`.
    ///
    /// # Errors
    /// 422 for a malformed date, `from` after `to` or a range over 366
    /// days; storage failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<UsageReport, AppError> {
        require(actor, Permission::Read)?;
        let mut errors = ValidationError::default();
        let from = optional_date("from", from, &mut errors);
        let to = optional_date("to", to, &mut errors);
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let to = to.unwrap_or_else(|| self.clock.now().date());
        let from = from.unwrap_or_else(|| to - Duration::days(DEFAULT_USAGE_DAYS - 1));
        let days = bounded_range(from, to, &mut errors).ok_or(errors)?;

        let rows = self.usage.usage(actor.tenant_id, days).await?;
        let mut total = Tokens::default();
        let mut by_source: Vec<SourceUsage> = UsageSource::ALL
            .iter()
            .map(|&source| SourceUsage {
                source,
                tokens: Tokens::default(),
                calls: 0,
            })
            .collect();
        let mut by_day: Vec<(Date, Tokens)> = days.iter().map(|d| (d, Tokens::default())).collect();
        for r in rows {
            total.add(r.prompt_tokens, r.completion_tokens);
            if let Some(s) = by_source.iter_mut().find(|s| s.source == r.source) {
                s.tokens.add(r.prompt_tokens, r.completion_tokens);
                s.calls = s.calls.saturating_add(r.calls);
            }
            let i = usize::try_from((r.date - days.from()).whole_days()).unwrap_or(usize::MAX);
            if let Some((_, day)) = by_day.get_mut(i) {
                day.add(r.prompt_tokens, r.completion_tokens);
            }
        }
        Ok(UsageReport {
            days,
            total,
            by_source,
            by_day,
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::assistant::usage::{MockTokenUsageRepository, UsageRow};
    use domain::identity::{Principal, Role};
    use domain::platform::MockClock;
    use domain::{TenantId, UserId};
    use time::macros::{date, datetime};

    use super::*;

    fn actor() -> Actor {
        Actor {
            tenant_id: TenantId::generate(),
            principal: Principal::User(UserId::generate()),
            role: Role::Viewer,
        }
    }

    fn usage(repo: MockTokenUsageRepository) -> GetTokenUsage {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-10-05 12:00 UTC));
        GetTokenUsage::new(Arc::new(repo), Arc::new(clock))
    }

    #[tokio::test]
    async fn usage_defaults_to_the_last_30_days_and_folds_rows_per_source_and_day() {
        let mut repo = MockTokenUsageRepository::new();
        repo.expect_usage()
            .withf(|_, days| {
                days.from() == date!(2026 - 09 - 06) && days.to() == date!(2026 - 10 - 05)
            })
            .returning(|_, _| {
                Ok(vec![
                    UsageRow {
                        source: UsageSource::Chat,
                        date: date!(2026 - 10 - 01),
                        prompt_tokens: 100,
                        completion_tokens: 20,
                        calls: 2,
                    },
                    UsageRow {
                        source: UsageSource::Insights,
                        date: date!(2026 - 10 - 01),
                        prompt_tokens: 300,
                        completion_tokens: 50,
                        calls: 1,
                    },
                ])
            });
        let r = usage(repo).execute(&actor(), None, None).await.unwrap();
        assert_eq!(r.total.total_tokens(), 470);
        assert_eq!(r.by_source.len(), 2);
        assert_eq!(
            (r.by_source[0].source, r.by_source[0].calls),
            (UsageSource::Chat, 2)
        );
        assert_eq!(r.by_source[1].tokens.prompt_tokens, 300);
        assert_eq!(r.by_day.len(), 30);
        let oct1 = r
            .by_day
            .iter()
            .find(|(d, _)| *d == date!(2026 - 10 - 01))
            .unwrap();
        assert_eq!(oct1.1.total_tokens(), 470);
        assert_eq!(r.by_day[0].1, Tokens::default());
    }

    #[tokio::test]
    async fn a_reversed_malformed_or_too_long_range_is_refused_before_reading() {
        for (from, to, field) in [
            (Some("2026-10-05"), Some("2026-10-01"), "from"),
            (Some("2026-13-01"), None, "from"),
            (Some("2025-01-01"), Some("2026-10-01"), "to"),
        ] {
            let mut repo = MockTokenUsageRepository::new();
            repo.expect_usage().never();
            let e = usage(repo).execute(&actor(), from, to).await.unwrap_err();
            match e {
                AppError::Validation(v) => assert!(v.fields.contains_key(field), "{v:?}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
