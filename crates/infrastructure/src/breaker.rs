//! The circuit breaker of the HTTP adapters (Graph API, language model):
//! consecutive 5xx/transport failures open it for a cooldown (calls fail
//! fast, without touching the network); then one trial call decides: an
//! answer closes it, a failure opens it again.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy)]
enum BreakerState {
    Closed {
        failures: u32,
    },
    Open {
        until: SystemTime,
    },
    /// One trial call is out; another is let through if it never reports.
    HalfOpen {
        retry_at: SystemTime,
    },
}

/// One breaker per client; `service` names it in the logs.
#[derive(Debug)]
pub(crate) struct Breaker {
    service: &'static str,
    threshold: u32,
    cooldown: Duration,
    state: Mutex<BreakerState>,
}

impl Breaker {
    pub(crate) fn new(service: &'static str, threshold: u32, cooldown: Duration) -> Self {
        Self {
            service,
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
        }
    }

    fn state(&self) -> MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a call may go out at `now`.
    pub(crate) fn allow(&self, now: SystemTime) -> bool {
        let mut s = self.state();
        match *s {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until: t } | BreakerState::HalfOpen { retry_at: t }
                if now >= t =>
            {
                *s = BreakerState::HalfOpen {
                    retry_at: now + self.cooldown,
                };
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen { .. } => false,
        }
    }

    /// The service answered (whatever it said).
    pub(crate) fn success(&self) {
        let mut s = self.state();
        if !matches!(*s, BreakerState::Closed { .. }) {
            tracing::info!(
                service = self.service,
                "service answers again; circuit closed"
            );
        }
        *s = BreakerState::Closed { failures: 0 };
    }

    /// A failure that counts against the circuit (5xx, transport).
    pub(crate) fn failure(&self, now: SystemTime, what: &str) {
        let mut s = self.state();
        let open = match *s {
            BreakerState::Closed { failures } => {
                let failures = failures.saturating_add(1);
                *s = BreakerState::Closed { failures };
                failures >= self.threshold
            }
            BreakerState::HalfOpen { .. } => true,
            BreakerState::Open { .. } => false,
        };
        if open {
            *s = BreakerState::Open {
                until: now + self.cooldown,
            };
            tracing::warn!(
                service = self.service,
                error = what,
                cooldown_secs = self.cooldown.as_secs(),
                "service keeps failing; circuit open"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_opens_after_the_threshold_and_lets_one_trial_through() {
        let b = Breaker::new("test", 2, Duration::from_secs(10));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        b.failure(t0, "x");
        assert!(b.allow(t0));
        b.failure(t0, "x");
        assert!(!b.allow(t0));
        let later = t0 + Duration::from_secs(10);
        assert!(b.allow(later), "trial");
        assert!(!b.allow(later), "one trial only");
        b.failure(later, "x");
        assert!(!b.allow(later + Duration::from_secs(5)));
        assert!(b.allow(later + Duration::from_secs(10)));
        b.success();
        assert!(b.allow(later + Duration::from_secs(10)));
    }
}
