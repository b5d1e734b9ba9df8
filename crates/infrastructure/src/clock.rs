//! The real clock. Everything that needs "now" takes a `Clock` so tests can
//! fix time; this is the one place that reads the system time.

use domain::platform::Clock;
use time::OffsetDateTime;

/// Reads the system clock, in UTC, to the microsecond: PostgreSQL keeps
/// `timestamptz` to the microsecond, so a timestamp answered when a row is
/// written is the one every later read returns, on either backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_microsecond(now.microsecond()).unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_utc_and_current() {
        let now = SystemClock.now();
        assert!(now.offset().is_utc());
        assert!((OffsetDateTime::now_utc() - now).whole_seconds().abs() < 5);
    }

    #[test]
    fn now_has_microsecond_precision_like_postgres() {
        for _ in 0..20 {
            assert_eq!(SystemClock.now().nanosecond() % 1_000, 0);
        }
    }
}
