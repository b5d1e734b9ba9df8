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

    fn today_in(&self, tz: &str) -> time::Date {
        day_in(self.now(), tz)
    }

    fn local_now_in(&self, tz: &str) -> time::PrimitiveDateTime {
        local_in(self.now(), tz)
    }
}

/// The HTTP adapters' clock and way of waiting (the Graph API and
/// language-model clients' retries and throttling): `tokio::time::sleep`
/// in production ([`TokioSleeper`]); tests record the waits and move a fake
/// clock instead of sleeping.
#[async_trait::async_trait]
pub trait Sleeper: Send + Sync {
    /// Now (compared with stored blocks, e.g. the Graph API throttle's).
    fn now(&self) -> std::time::SystemTime;
    async fn sleep(&self, d: std::time::Duration);
}

/// The system clock and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait::async_trait]
impl Sleeper for TokioSleeper {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
    async fn sleep(&self, d: std::time::Duration) {
        tokio::time::sleep(d).await;
    }
}

/// The wall-clock time `at` shows in the IANA zone `tz` (UTC's when unknown).
#[must_use]
pub fn local_in(at: OffsetDateTime, tz: &str) -> time::PrimitiveDateTime {
    use chrono::{Offset, TimeZone};
    let utc = time::PrimitiveDateTime::new(at.date(), at.time());
    let Ok(zone) = tz.parse::<chrono_tz::Tz>() else {
        return utc;
    };
    let Some(local) = zone.timestamp_opt(at.unix_timestamp(), 0).single() else {
        return utc;
    };
    let offset = i64::from(local.offset().fix().local_minus_utc());
    utc + time::Duration::seconds(offset)
}

/// The calendar day `at` falls on in the IANA zone `tz` (UTC's when unknown).
#[must_use]
pub fn day_in(at: OffsetDateTime, tz: &str) -> time::Date {
    use chrono::{Datelike, TimeZone};
    let utc_day = at.date();
    let Ok(zone) = tz.parse::<chrono_tz::Tz>() else {
        return utc_day;
    };
    let Some(local) = zone.timestamp_opt(at.unix_timestamp(), 0).single() else {
        return utc_day;
    };
    let ordinal = u16::try_from(local.ordinal()).unwrap_or(1);
    time::Date::from_ordinal_date(local.year(), ordinal).unwrap_or(utc_day)
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
    fn local_time_is_the_zone_wall_clock() {
        let at = time::macros::datetime!(2026-11-23 11:30 UTC);
        assert_eq!(
            local_in(at, "America/Sao_Paulo"),
            time::macros::datetime!(2026-11-23 8:30)
        );
        assert_eq!(
            local_in(at, "Asia/Kolkata"),
            time::macros::datetime!(2026-11-23 17:00)
        );
        assert_eq!(
            local_in(at, "Mars/Olympus"),
            time::macros::datetime!(2026-11-23 11:30)
        );
    }

    #[test]
    fn days_are_the_account_zone_days() {
        let at = time::macros::datetime!(2026-11-23 01:30 UTC);
        assert_eq!(
            day_in(at, "America/Sao_Paulo"),
            time::macros::date!(2026 - 11 - 22)
        );
        assert_eq!(
            day_in(at, "Asia/Tokyo"),
            time::macros::date!(2026 - 11 - 23)
        );
        assert_eq!(day_in(at, "Not/AZone"), time::macros::date!(2026 - 11 - 23));
    }

    #[test]
    fn now_has_microsecond_precision_like_postgres() {
        for _ in 0..20 {
            assert_eq!(SystemClock.now().nanosecond() % 1_000, 0);
        }
    }
}
