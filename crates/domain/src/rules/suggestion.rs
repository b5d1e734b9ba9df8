//! A suggestion: one rule firing for one entity and window, frozen with the
//! numbers that explain it, and the states it may pass through.

use time::OffsetDateTime;
use uuid::Uuid;

use super::eval::{MetricSnapshot, Trigger};
use super::proposal::Proposal;
use super::spec::{Rule, RuleAction, RuleLevel};
use super::wire_enum;
use crate::ads::DateRange;
use crate::ids::{RuleId, SuggestionId, TenantId, UserId};

wire_enum! {
    /// Where a suggestion is in its life. Transitions are strict (see
    /// [`SuggestionStatus::can_become`]).
    SuggestionStatus, "status" {
        /// Made, waiting for a person (or for auto-apply).
        Pending => "PENDING",
        /// A person (or auto-apply mode) said yes; being applied.
        Accepted => "ACCEPTED",
        /// The platform took the change.
        Applied => "APPLIED",
        /// The platform refused the change or could not be reached.
        Failed => "FAILED",
        /// A person said no.
        Rejected => "REJECTED",
        /// Nobody decided in time, or the data it was based on moved on.
        Expired => "EXPIRED",
    }
}

impl SuggestionStatus {
    /// Whether a suggestion may move from `self` to `next`:
    /// `PENDING → ACCEPTED → APPLIED | FAILED`, `PENDING → REJECTED`,
    /// `PENDING → EXPIRED`; nothing else. A failed suggestion is not retried
    /// in place: the next evaluation makes a new one from fresh data (the
    /// failed one is no longer open, so it does not block it).
    #[must_use]
    pub const fn can_become(self, next: Self) -> bool {
        use SuggestionStatus as S;
        matches!(
            (self, next),
            (S::Pending, S::Accepted | S::Rejected | S::Expired)
                | (S::Accepted, S::Applied | S::Failed)
        )
    }

    /// Pending or accepted: still in play. At most one open suggestion
    /// exists per rule, entity and window.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, SuggestionStatus::Pending | SuggestionStatus::Accepted)
    }
}

/// A refused status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} suggestion cannot become {to}")]
pub struct InvalidTransition {
    /// The current status.
    pub from: SuggestionStatus,
    /// The status asked for.
    pub to: SuggestionStatus,
}

/// What a rule proposed for one entity over one window, with the rule
/// version, metrics and sentence as they were when it fired, so it stays
/// explainable after the rule or the data change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// This suggestion.
    pub id: SuggestionId,
    /// The owner (the rule's tenant).
    pub tenant_id: TenantId,
    /// The rule that fired.
    pub rule_id: RuleId,
    /// The rule's version when it fired.
    pub rule_version: i32,
    /// The entity's level.
    pub level: RuleLevel,
    /// The campaign's, ad set's or ad's id.
    pub entity_id: Uuid,
    /// Its name when the suggestion was made.
    pub entity_name: String,
    /// The rule's action.
    pub action: RuleAction,
    /// The concrete change (e.g. budget 100.00 → 120.00).
    pub proposal: Proposal,
    /// The days judged.
    pub window: DateRange,
    /// The entity's metrics over the window (the snapshot that fired).
    pub metrics: MetricSnapshot,
    /// The trigger's sentence.
    pub reason: String,
    /// Where it is in its life.
    pub status: SuggestionStatus,
    /// When it was made (UTC).
    pub created_at: OffsetDateTime,
    /// Who accepted or rejected it; `None` while pending, for auto-apply
    /// and for expiry.
    pub decided_by: Option<UserId>,
    /// When it left `PENDING`.
    pub decided_at: Option<OffsetDateTime>,
    /// When the platform took the change (`APPLIED`).
    pub applied_at: Option<OffsetDateTime>,
    /// Why applying did not work: the last retryable error while
    /// `ACCEPTED`, the final reason once `FAILED`.
    pub failure: Option<String>,
}

impl Suggestion {
    /// A pending suggestion from `rule`'s `trigger` for one entity, with the
    /// rule's current version, level and action.
    #[must_use]
    pub fn pending(
        rule: &Rule,
        entity_id: Uuid,
        entity_name: String,
        window: DateRange,
        trigger: Trigger,
        proposal: Proposal,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: SuggestionId::generate(),
            tenant_id: rule.tenant_id,
            rule_id: rule.id,
            rule_version: rule.version,
            level: rule.spec.level,
            entity_id,
            entity_name,
            action: rule.spec.action,
            proposal,
            window,
            metrics: trigger.metrics,
            reason: trigger.reason,
            status: SuggestionStatus::Pending,
            created_at: now,
            decided_by: None,
            decided_at: None,
            applied_at: None,
            failure: None,
        }
    }

    /// Moves to `next` if [`SuggestionStatus::can_become`] allows it.
    /// Leaving `PENDING` records `by` (a person, or `None` for auto-apply
    /// and expiry) and `at`; later moves keep the decision as it was.
    ///
    /// # Errors
    /// [`InvalidTransition`] for any other move; nothing changes.
    pub fn transition(
        &mut self,
        next: SuggestionStatus,
        by: Option<UserId>,
        at: OffsetDateTime,
    ) -> Result<(), InvalidTransition> {
        if !self.status.can_become(next) {
            return Err(InvalidTransition {
                from: self.status,
                to: next,
            });
        }
        if self.status == SuggestionStatus::Pending {
            self.decided_by = by;
            self.decided_at = Some(at);
        }
        self.status = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::KpiTotals;
    use crate::rules::{RuleSpec, Verdict, evaluate, window_ending};
    use time::macros::date;

    use SuggestionStatus as S;

    #[test]
    fn status_transitions_are_strict() {
        let allowed = [
            (S::Pending, S::Accepted),
            (S::Pending, S::Rejected),
            (S::Pending, S::Expired),
            (S::Accepted, S::Applied),
            (S::Accepted, S::Failed),
        ];
        for from in S::ALL {
            for to in S::ALL {
                assert_eq!(
                    from.can_become(*to),
                    allowed.contains(&(*from, *to)),
                    "{from} → {to}"
                );
            }
        }
        assert!(!S::Failed.can_become(S::Accepted), "no retry in place");
        let open: Vec<S> = S::ALL.iter().copied().filter(|s| s.is_open()).collect();
        assert_eq!(open, [S::Pending, S::Accepted]);
    }

    #[test]
    fn suggestion_freezes_the_rule_version_and_trigger_and_records_the_decision() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let rule = Rule::create(TenantId::generate(), RuleSpec::seed(), t0).unwrap();
        let totals = KpiTotals {
            impressions: 2_000,
            clicks: 10,
            spend: rust_decimal::Decimal::from(100),
            conversions: 5,
            ..KpiTotals::default()
        };
        let Verdict::Triggered(trigger) = evaluate(&rule.spec, &totals) else {
            panic!("0.5 % CTR must trigger the seed rule");
        };
        let reason = trigger.reason.clone();
        let window = window_ending(date!(2025 - 05 - 10), 3);
        let mut s = Suggestion::pending(
            &rule,
            Uuid::from_u128(9),
            "Summer sale".to_owned(),
            window,
            trigger,
            Proposal::Pause,
            t0,
        );
        assert_eq!(
            (s.rule_id, s.rule_version, s.tenant_id),
            (rule.id, 1, rule.tenant_id)
        );
        assert_eq!((s.status, s.reason.as_str()), (S::Pending, reason.as_str()));
        assert_eq!(s.metrics.ctr, Some(rust_decimal::Decimal::new(5, 1)));

        let user = UserId::generate();
        let t1 = t0 + time::Duration::minutes(5);
        s.transition(S::Accepted, Some(user), t1).unwrap();
        s.transition(S::Applied, None, t1 + time::Duration::seconds(2))
            .unwrap();
        assert_eq!(
            (s.status, s.decided_by, s.decided_at),
            (S::Applied, Some(user), Some(t1))
        );
        assert_eq!(
            s.transition(S::Rejected, Some(user), t1),
            Err(InvalidTransition {
                from: S::Applied,
                to: S::Rejected
            })
        );
        assert_eq!(s.status, S::Applied);
    }
}
