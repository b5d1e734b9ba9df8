//! What the queued jobs (reports, insight jobs) share: when a job taken
//! again and again is given up, and when a retryable failure is tried
//! again. Each job keeps its own queue, lease and outcome.

use time::{Duration, OffsetDateTime};

use crate::AppError;

/// Why a job taken more often than it may be tried is given up: a worker
/// stopped (or crashed) while running it each time, and run again it would
/// likely stop the next one too. `None` while it may still be tried.
#[must_use]
pub fn given_up(attempts: i32, max_attempts: i32) -> Option<String> {
    (attempts > max_attempts).then(|| {
        format!(
            "gave up after {} tries: the worker stopped while making it",
            attempts - 1
        )
    })
}

/// When a job that failed on a retryable error (storage) is tried again:
/// 30 seconds per try so far; `None` once its tries are spent.
#[must_use]
pub fn retry_at(attempts: i32, max_attempts: i32, now: OffsetDateTime) -> Option<OffsetDateTime> {
    (attempts < max_attempts).then(|| now + Duration::seconds(30 * i64::from(attempts.max(1))))
}

/// Whether a job that failed with `e` would fail the same way every time
/// (what it is about is gone or no longer valid), so it is not retried.
#[must_use]
pub const fn permanent(e: &AppError) -> bool {
    matches!(
        e,
        AppError::NotFound(_) | AppError::Validation(_) | AppError::Unprocessable { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_job_is_retried_with_a_growing_wait_until_its_tries_are_spent() {
        let now = datetime!(2026-11-23 9:00 UTC);
        assert_eq!(retry_at(1, 3, now), Some(now + Duration::seconds(30)));
        assert_eq!(retry_at(2, 3, now), Some(now + Duration::seconds(60)));
        assert_eq!(retry_at(3, 3, now), None);
        assert_eq!(given_up(3, 3), None);
        assert!(given_up(4, 3).is_some_and(|why| why.contains("after 3 tries")));
    }
}
