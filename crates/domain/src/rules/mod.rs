//! Explainable automation rules and the suggestions they make, modelled on
//! Meta's automated rules: an evaluation spec (level, KPI filters over a
//! window, guards), an execution spec (action, mode) and a schedule.
//!
//! Owns the pure model: what a rule is and when it is valid
//! ([`RuleSpec::validate`]), whether it fires for one entity's totals
//! ([`evaluate`]), what it proposes ([`propose`]), what it would have done in
//! the past ([`backtest`]) and the life of a suggestion ([`SuggestionStatus`]).
//! Never does I/O, never reads a clock, never changes a campaign: the
//! storage port is [`RuleRepository`]; adapters and applying a proposal
//! live elsewhere.
//!
//! Live evaluation and backtests share one path, so a backtest shows exactly
//! what the live evaluator, run once a day, would have decided:
//! [`evaluation_window`] → [`window_totals`] → [`evaluate`].

mod backtest;
mod eval;
mod proposal;
mod rebalance;
pub mod repo;
mod spec;
mod suggestion;

pub use backtest::{
    Backtest, BacktestDay, BacktestSuggestion, BacktestTotals, EntitySeries, backtest,
};
pub use eval::{
    Matched, MetricSnapshot, Trigger, Verdict, evaluate, evaluation_window, window_ending,
    window_totals,
};
pub use proposal::{MIN_DAILY_BUDGET, Proposal, ProposalError, propose};
pub use rebalance::{RebalanceCandidate, RebalanceMove, rebalance};
pub use repo::*;
pub use spec::{
    Conditions, Filter, Guards, MAX_FILTERS, MAX_NAME_CHARS, MAX_WINDOW_DAYS, Op, Rule, RuleAction,
    RuleLevel, RuleMetric, RuleMode, RuleSpec, SEED_MIN_IMPRESSIONS, Schedule,
};
pub use suggestion::{InvalidTransition, Suggestion, SuggestionStatus};

use rust_decimal::{Decimal, RoundingStrategy};

/// A name that is not one of an enum's wire names (`"ctr"`, `"BUDGET_UP"`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} \"{value}\"; expected one of {expected}")]
pub struct UnknownValue {
    /// What was being parsed, e.g. `"metric"`.
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// The accepted names, comma-separated, for a client-facing message.
    pub expected: String,
}

/// Declares a field-less enum with stable wire names: `ALL`, `as_str`,
/// `Display` and a `FromStr` that accepts exactly what `as_str` writes.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// Stable wire name, as stored and sent over the API.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::rules::UnknownValue;

            /// Parses the wire name exactly as `as_str` writes it.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::rules::UnknownValue {
                        what: $what,
                        value: s.to_owned(),
                        expected: $name::ALL
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }
    };
}
pub(crate) use wire_enum;

/// The one number formatter for reasons and descriptions: rounds half away
/// from zero to `dp` places, keeps trailing zeros only when `pad` (money
/// `61.20`; thresholds and percentages `1`, `0.82`), and groups thousands
/// with commas (`1,204`).
fn number(v: Decimal, dp: u32, pad: bool) -> String {
    let dp = if pad {
        dp
    } else {
        v.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
            .scale()
    };
    crate::reports::format_decimal(v, dp, crate::reports::DecimalSeparator::Point, true)
}

/// Money as people read it: two decimals, thousands grouped (`1,612.00`).
fn money(v: Decimal) -> String {
    number(v, crate::kpi::MONEY_DP, true)
}

/// "over the last day" / "over the last 3 days".
fn over_last(window_days: u16) -> String {
    if window_days == 1 {
        "over the last day".to_owned()
    } else {
        format!("over the last {window_days} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn number_rounds_half_away_pads_money_and_groups_thousands() {
        assert_eq!(money(d("612")), "612.00");
        assert_eq!(money(d("1612.005")), "1,612.01");
        assert_eq!(money(d("1234567.8")), "1,234,567.80");
        assert_eq!(number(d("0.8250"), 2, false), "0.83");
        assert_eq!(number(d("50.00"), 2, false), "50");
        assert_eq!(number(d("1204"), 0, false), "1,204");
        assert_eq!(number(d("999"), 0, false), "999");
        assert_eq!(number(d("-1234.5"), 2, true), "-1,234.50");
    }

    #[test]
    fn unknown_names_list_what_is_accepted() {
        let err = RuleLevel::from_str("account").unwrap_err();
        assert_eq!(err.what, "level");
        assert_eq!(err.expected, "campaign, ad_set, ad");
        assert_eq!(
            err.to_string(),
            "unknown level \"account\"; expected one of campaign, ad_set, ad"
        );
    }

    #[test]
    fn wire_names_round_trip() {
        fn round_trip<T>(all: &[T])
        where
            T: Copy + std::fmt::Display + FromStr + PartialEq + std::fmt::Debug,
            <T as FromStr>::Err: std::fmt::Debug,
        {
            for v in all {
                assert_eq!(v.to_string().parse::<T>().unwrap(), *v);
            }
        }
        round_trip(RuleLevel::ALL);
        round_trip(RuleMetric::ALL);
        round_trip(Op::ALL);
        round_trip(Schedule::ALL);
        round_trip(RuleMode::ALL);
        round_trip(SuggestionStatus::ALL);
        assert_eq!(RuleMetric::Roas.as_str(), "roas");
        assert_eq!(Op::Gte.as_str(), "gte");
        assert_eq!(Schedule::AfterSync.as_str(), "after_sync");
        assert_eq!(RuleMode::AutoApply.as_str(), "auto_apply");
        assert_eq!(SuggestionStatus::Pending.as_str(), "PENDING");
        assert!("CTR".parse::<RuleMetric>().is_err(), "names are exact");
    }
}
