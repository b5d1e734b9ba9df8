//! When to try a failed delivery again, and when to give up.

use time::{Duration, OffsetDateTime};

use super::DeliveryError;
use super::outbox::{DeliveryKey, DeliveryOutcome};

/// Retries with exponential backoff and jitter: attempt `n` (1-based) that
/// failed retryably waits `min(max, base × 2^(n-1))`, of which the second
/// half is scaled by a jitter in `[0, 1)`, so many deliveries failing at once
/// do not retry in lock-step. After `max_attempts` attempts, or on a
/// permanent error, the delivery fails for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts, 30 s doubling up to 1 h (about 2 h 10 min in all).
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::seconds(30),
            max: Duration::hours(1),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempts` (1-based) with `jitter` in
    /// `[0, 1)`: between half and all of `min(max, base × 2^(attempts-1))`.
    #[must_use]
    pub fn backoff(&self, attempts: i32, jitter: f64) -> Duration {
        let exp = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        let full = self
            .base
            .checked_mul(1_i32.checked_shl(exp).unwrap_or(i32::MAX))
            .unwrap_or(self.max)
            .min(self.max);
        let half = full / 2;
        half + half * jitter.clamp(0.0, 1.0)
    }

    /// What to record after attempt `attempts` (1-based) failed with `error`
    /// at `now`.
    #[must_use]
    pub fn after_failure(
        &self,
        attempts: i32,
        error: &DeliveryError,
        now: OffsetDateTime,
        jitter: f64,
    ) -> DeliveryOutcome {
        let message = match error {
            DeliveryError::Retryable(m) | DeliveryError::Permanent(m) => m.clone(),
        };
        if !error.is_retryable() {
            return DeliveryOutcome::Failed { error: message };
        }
        if attempts >= self.max_attempts {
            return DeliveryOutcome::Failed {
                error: format!("gave up after {attempts} attempts: {message}"),
            };
        }
        DeliveryOutcome::RetryAt {
            at: now + self.backoff(attempts, jitter),
            error: message,
        }
    }
}

/// A jitter in `[0, 1)` that is the same for the same delivery and attempt
/// (FNV-1a over the ids), so retries spread out without a random source and
/// tests stay deterministic.
#[must_use]
pub fn jitter_for(key: &DeliveryKey, attempts: i32) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = key
        .alert_id
        .as_bytes()
        .iter()
        .chain(key.channel_id.as_uuid().as_bytes())
        .copied()
        .chain(attempts.to_le_bytes());
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // 53 bits fit an f64 exactly.
    #[allow(clippy::cast_precision_loss)]
    let f = (h >> 11) as f64 / (1_u64 << 53) as f64;
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TenantId;
    use crate::notify::ChannelId;
    use time::macros::datetime;
    use uuid::Uuid;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::seconds(10),
            max: Duration::seconds(60),
        }
    }

    #[test]
    fn backoff_doubles_from_base_up_to_max_and_jitters_the_second_half() {
        let p = policy();
        assert_eq!(p.backoff(1, 0.0), Duration::seconds(5));
        assert_eq!(
            p.backoff(1, 0.999_999),
            Duration::seconds(10) - Duration::microseconds(5)
        );
        assert_eq!(p.backoff(2, 0.0), Duration::seconds(10));
        assert_eq!(p.backoff(3, 0.5), Duration::seconds(30));
        assert_eq!(p.backoff(4, 0.0), Duration::seconds(30), "capped at 60");
        assert_eq!(p.backoff(40, 0.0), Duration::seconds(30), "no overflow");
    }

    #[test]
    fn retryable_errors_retry_until_attempts_run_out() {
        let p = policy();
        let e = DeliveryError::Retryable("HTTP 503".into());
        assert_eq!(
            p.after_failure(1, &e, NOW, 0.0),
            DeliveryOutcome::RetryAt {
                at: NOW + Duration::seconds(5),
                error: "HTTP 503".into()
            }
        );
        assert_eq!(
            p.after_failure(4, &e, NOW, 0.0),
            DeliveryOutcome::Failed {
                error: "gave up after 4 attempts: HTTP 503".into()
            }
        );
    }

    #[test]
    fn permanent_errors_fail_at_once() {
        let e = DeliveryError::Permanent("HTTP 400".into());
        assert_eq!(
            policy().after_failure(1, &e, NOW, 0.3),
            DeliveryOutcome::Failed {
                error: "HTTP 400".into()
            }
        );
    }

    #[test]
    fn jitter_is_stable_per_attempt_and_in_range() {
        let key = DeliveryKey {
            tenant_id: TenantId::generate(),
            alert_id: Uuid::from_u128(1),
            channel_id: ChannelId::from_uuid(Uuid::from_u128(2)),
        };
        let a = jitter_for(&key, 1);
        assert_eq!(a, jitter_for(&key, 1));
        assert_ne!(a, jitter_for(&key, 2));
        for n in 0..50 {
            let j = jitter_for(&key, n);
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }
}
