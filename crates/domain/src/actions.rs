//! Which platform action counts as a conversion.
//!
//! Meta reports one purchase under several overlapping action types
//! (`omni_purchase`, `purchase`, `offsite_conversion.fb_pixel_purchase`, …):
//! they are views of the same events, so summing them double-counts. An ad
//! account's result action is therefore a list of aliases in order of
//! preference, and a row's conversions (and revenue) are read from the first
//! alias the row reports, never from the sum of several.

use rust_decimal::Decimal;

/// The action a conversion is counted from, as aliases in order of preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultAction {
    aliases: Vec<String>,
}

/// Purchase action types, the most inclusive first (`omni_purchase` already
/// combines web, app and on-Meta purchases).
const PURCHASE_ALIASES: [&str; 5] = [
    "omni_purchase",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
    "onsite_web_purchase",
    "onsite_conversion.purchase",
];

impl Default for ResultAction {
    /// Purchases.
    fn default() -> Self {
        Self::purchases()
    }
}

impl ResultAction {
    /// Purchases, counted once.
    #[must_use]
    pub fn purchases() -> Self {
        Self {
            aliases: PURCHASE_ALIASES.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// A single action type chosen by the account (e.g. `lead`,
    /// `offsite_conversion.fb_pixel_custom`); a purchase type means purchases.
    #[must_use]
    pub fn custom(action_type: &str) -> Self {
        if PURCHASE_ALIASES.contains(&action_type) {
            return Self::purchases();
        }
        Self {
            aliases: vec![action_type.to_owned()],
        }
    }

    /// The action types this result is read from, in order of preference.
    #[must_use]
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// The value of the first alias that `stats` reports, or zero when the
    /// row reports none of them. `stats` looks one action type up in a row's
    /// action list (counts in `actions`, money in `action_values`).
    pub fn pick(&self, stats: impl Fn(&str) -> Option<Decimal>) -> Decimal {
        self.aliases
            .iter()
            .find_map(|a| stats(a))
            .unwrap_or(Decimal::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(pairs: &'a [(&'a str, i64)]) -> impl Fn(&str) -> Option<Decimal> + 'a {
        move |t| {
            pairs
                .iter()
                .find(|(k, _)| *k == t)
                .map(|(_, v)| Decimal::from(*v))
        }
    }

    #[test]
    fn overlapping_purchase_types_count_once() {
        let r = row(&[
            ("offsite_conversion.fb_pixel_purchase", 2),
            ("omni_purchase", 2),
            ("page_engagement", 10),
        ]);
        assert_eq!(ResultAction::purchases().pick(r), Decimal::from(2));
    }

    #[test]
    fn the_first_alias_present_wins() {
        let r = row(&[("offsite_conversion.fb_pixel_purchase", 3), ("purchase", 4)]);
        assert_eq!(ResultAction::purchases().pick(r), Decimal::from(4));
    }

    #[test]
    fn a_row_without_the_action_has_zero() {
        assert_eq!(
            ResultAction::purchases().pick(row(&[("link_click", 9)])),
            Decimal::ZERO
        );
    }

    #[test]
    fn a_custom_result_reads_only_its_own_type() {
        let r = row(&[("lead", 5), ("omni_purchase", 2)]);
        assert_eq!(ResultAction::custom("lead").pick(r), Decimal::from(5));
        assert_eq!(
            ResultAction::custom("purchase"),
            ResultAction::purchases(),
            "a purchase type means purchases, with their aliases"
        );
    }
}
