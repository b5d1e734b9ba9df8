//! The real clock. Everything that needs "now" takes a `Clock` so tests can
//! fix time; this is the one place that reads the system time.

use domain::platform::Clock;
use time::OffsetDateTime;

/// Reads the system clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
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
}
