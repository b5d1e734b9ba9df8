//! Verified figures: the answer shape the model must use, and the checks an
//! answer passes before anyone reads it.
//!
//! The model replies with [`answer_schema`]: `{answer, figures: [{label,
//! value, unit}]}`. [`verify`] then holds it to two rules against the
//! [`Fact`]s the application fetched (gold KPIs):
//!
//! 1. **Every figure is in the data.** Its unit must be in the fact's family
//!    (money in the same currency; percent and ratio convert into each other,
//!    `1.23 percent` = `0.0123 ratio`; counts are counts) and its value must
//!    be the fact's value rounded to the decimals the model wrote (half away
//!    from zero or half to even): `1234.6` or `1235` for `1234.5678` pass,
//!    `1240` does not (trailing zeros are not read as rounding to tens). When
//!    a figure's label equals a fact's label (ignoring case, spaces and
//!    punctuation) the figure must match *that* fact, so swapped labels are
//!    caught; otherwise any fact of a compatible unit will do.
//! 2. **Every number in the prose is a figure**, at the precision written
//!    (`R$ 1.234,6` for the figure `1234.57`). A number written with `%` must
//!    be a percent figure (or a ratio figure × 100), one written as money
//!    must be a money figure; a number without a sign also matches a negative
//!    figure ("caiu 12,5%"). Coarse roundings pass (`2%` for a CTR figure of
//!    2.13), invented ones do not (`1,5%`); a count the data does not hold
//!    ("as 3 campanhas") fails too: give the app such counts as facts. How
//!    numbers are read is on [`verify_with_names`].
//!
//! Each [`VerificationProblem`] names the offending number or figure in words
//! a model can act on ([`retry_instructions`]); after one failed retry the
//! caller shows [`unverified_answer`] instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::value::RawValue;

use super::llm::JsonSchema;
use super::numbers::{self, TextNumber};
use crate::ads::Currency;

/// The name under which [`answer_schema`] is sent.
pub const ANSWER_SCHEMA_NAME: &str = "verified_answer";

/// One number the model says it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub label: String,
    /// As the model wrote it: the scale is the precision it chose.
    pub value: Decimal,
    /// A currency code (`BRL`, `USD`) or `money`, `percent`, `ratio`, `count`.
    pub unit: String,
}

/// The model's reply in the [`answer_schema`] shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAnswer {
    /// The prose shown to the person.
    pub answer: String,
    pub figures: Vec<Figure>,
}

/// The reply is not JSON of the [`answer_schema`] shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reply is not JSON in the required shape: {0}")]
pub struct AnswerFormatError(pub String);

type Object = BTreeMap<String, Box<RawValue>>;

/// The JSON text of a reply: without Markdown code fences and text around
/// the object (local models add them even when asked not to).
pub(super) fn json_body(content: &str) -> &str {
    let mut s = content.trim();
    if let Some(rest) = s.strip_prefix("```") {
        s = rest.split_once('\n').map_or("", |(_, body)| body);
        s = s.trim_end().strip_suffix("```").unwrap_or(s).trim();
    }
    if !s.starts_with('{')
        && let (Some(a), Some(b)) = (s.find('{'), s.rfind('}'))
        && a < b
    {
        s = &s[a..=b];
    }
    s
}

fn field<'a>(o: &'a Object, key: &str, what: &str) -> Result<&'a str, AnswerFormatError> {
    o.get(key)
        .map(|r| r.get())
        .ok_or_else(|| AnswerFormatError(format!("{what} has no \"{key}\"")))
}

fn string(raw: &str, what: &str) -> Result<String, AnswerFormatError> {
    serde_json::from_str::<String>(raw)
        .map_err(|_| AnswerFormatError(format!("{what} must be a string")))
}

/// A JSON number (or a string holding a plain one) as written, keeping its
/// decimals: `1234.50` has scale 2.
fn value(raw: &str) -> Option<Decimal> {
    let raw = raw.trim();
    let text = if raw.starts_with('"') {
        serde_json::from_str::<String>(raw).ok()?.trim().to_owned()
    } else {
        raw.to_owned()
    };
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
    {
        return None;
    }
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(&text).ok()
    } else {
        Decimal::from_str(&text).ok()
    }
}

impl ModelAnswer {
    /// Reads a reply's content. Extra properties are ignored (strict schemas
    /// forbid them, but not every provider enforces the schema).
    ///
    /// # Errors
    /// Not a JSON object, or `answer`/`figures`/a figure's `label`, `value`
    /// (a number) or `unit` missing or of the wrong type.
    pub fn parse(content: &str) -> Result<Self, AnswerFormatError> {
        let obj: Object = serde_json::from_str(json_body(content)).map_err(|_| {
            AnswerFormatError("expected one JSON object with \"answer\" and \"figures\"".into())
        })?;
        let answer = string(field(&obj, "answer", "the reply")?, "\"answer\"")?;
        let list: Vec<Object> = serde_json::from_str(field(&obj, "figures", "the reply")?)
            .map_err(|_| AnswerFormatError("\"figures\" must be an array of objects".into()))?;
        let figures = list
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let what = format!("figure {}", i + 1);
                let v = field(f, "value", &what)?;
                Ok(Figure {
                    label: string(field(f, "label", &what)?, &format!("the label of {what}"))?,
                    value: value(v).ok_or_else(|| {
                        AnswerFormatError(format!("the value of {what} must be a number"))
                    })?,
                    unit: string(field(f, "unit", &what)?, &format!("the unit of {what}"))?,
                })
            })
            .collect::<Result<_, AnswerFormatError>>()?;
        Ok(Self { answer, figures })
    }
}

/// The strict JSON Schema of a [`ModelAnswer`] (every property required, no
/// others allowed), as OpenAI-style structured output expects.
#[must_use]
pub fn answer_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "answer": {
                "type": "string",
                "description": "The answer for the user. Every number in it must be listed in figures."
            },
            "figures": {
                "type": "array",
                "description": "Every number used in the answer, copied (or rounded) from the data.",
                "items": {
                    "type": "object",
                    "properties": {
                        "label": { "type": "string", "description": "The data's label for this number." },
                        "value": { "type": "number" },
                        "unit": {
                            "type": "string",
                            "description": "An ISO 4217 currency code such as BRL or USD for money; percent; ratio; or count."
                        }
                    },
                    "required": ["label", "value", "unit"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["answer", "figures"],
        "additionalProperties": false
    })
}

/// [`answer_schema`] named, for an `LlmRequest`.
#[must_use]
pub fn answer_json_schema() -> JsonSchema {
    JsonSchema {
        name: ANSWER_SCHEMA_NAME.to_owned(),
        schema: answer_schema(),
    }
}

// ------------------------------------------------------------------ facts

/// What a fact measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Money(Currency),
    /// Hundredths: CTR 1.23 means 1.23 %.
    Percent,
    /// A plain quotient such as ROAS (3.2 = 320 %).
    Ratio,
    Count,
}

/// A number the application fetched from the tenant's data (gold), the only
/// source of truth for figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub label: String,
    pub value: Decimal,
    pub unit: Unit,
}

impl Fact {
    #[must_use]
    pub fn new(label: impl Into<String>, value: Decimal, unit: Unit) -> Self {
        Self {
            label: label.into(),
            value,
            unit,
        }
    }
}

fn show(value: Decimal, unit: Unit) -> String {
    let v = value.normalize();
    match unit {
        Unit::Money(c) => format!("{v} {}", c.as_str()),
        Unit::Percent => format!("{v} percent"),
        Unit::Ratio => format!("{v} ratio"),
        Unit::Count => format!("{v} count"),
    }
}

/// A figure's unit, read leniently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FigureUnit {
    Money(Option<Currency>),
    Percent,
    Ratio,
    Count,
}

fn figure_unit(unit: &str) -> Option<FigureUnit> {
    let t = unit.trim();
    let money = |code: &str| {
        Currency::parse(code)
            .ok()
            .map(|c| FigureUnit::Money(Some(c)))
    };
    match t.to_lowercase().as_str() {
        "percent" | "%" | "pct" | "percentage" | "percentual" | "porcentagem" | "por cento" => {
            Some(FigureUnit::Percent)
        }
        "ratio" | "x" | "times" | "multiple" | "multiplier" => Some(FigureUnit::Ratio),
        "count" | "number" | "integer" | "units" | "quantity" | "qty" | "#" => {
            Some(FigureUnit::Count)
        }
        "money" | "currency" => Some(FigureUnit::Money(None)),
        "r$" => money("BRL"),
        "$" | "us$" => money("USD"),
        "€" => money("EUR"),
        "£" => money("GBP"),
        _ => money(t),
    }
}

enum Converted {
    Value(Decimal),
    OtherCurrency(Currency),
    OtherUnit,
}

/// The fact's value expressed in the figure's unit.
fn convert(fact: &Fact, unit: FigureUnit) -> Converted {
    let hundred = Decimal::ONE_HUNDRED;
    match (fact.unit, unit) {
        (Unit::Money(c), FigureUnit::Money(Some(d))) if c != d => Converted::OtherCurrency(c),
        (Unit::Money(_), FigureUnit::Money(_))
        | (Unit::Percent, FigureUnit::Percent)
        | (Unit::Ratio, FigureUnit::Ratio)
        | (Unit::Count, FigureUnit::Count) => Converted::Value(fact.value),
        (Unit::Percent, FigureUnit::Ratio) => fact
            .value
            .checked_div(hundred)
            .map_or(Converted::OtherUnit, Converted::Value),
        (Unit::Ratio, FigureUnit::Percent) => fact
            .value
            .checked_mul(hundred)
            .map_or(Converted::OtherUnit, Converted::Value),
        _ => Converted::OtherUnit,
    }
}

/// Whether `exact` rounded to the decimals of `written` is `written`.
fn rounds_to(exact: Decimal, written: Decimal) -> bool {
    let dp = written.scale();
    [
        RoundingStrategy::MidpointAwayFromZero,
        RoundingStrategy::MidpointNearestEven,
    ]
    .into_iter()
    .any(|s| exact.round_dp_with_strategy(dp, s) == written)
}

fn label_key(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

// ------------------------------------------------------------------ problems

/// Why an answer cannot be shown; the message names the number or figure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerificationProblem {
    #[error(
        "figure \"{label}\": the unit \"{unit}\" is not understood; use a currency code (BRL, USD), \"percent\", \"ratio\" or \"count\""
    )]
    UnknownUnit { label: String, unit: String },
    #[error("figure \"{label}\" is {written}, but the data says {expected}")]
    WrongValue {
        label: String,
        written: String,
        /// The fact rounded to the figure's precision, with its unit.
        expected: String,
    },
    #[error(
        "figure \"{label}\" is {written}, but the data has {fact}: a different unit (1 ratio = 100 percent)"
    )]
    UnitMismatch {
        label: String,
        written: String,
        fact: String,
    },
    #[error("figure \"{label}\" is {written}, but that data is in {currency}")]
    CurrencyMismatch {
        label: String,
        written: String,
        currency: String,
    },
    #[error("figure \"{label}\" = {written} is not in the data{}", closest.as_ref().map(|c| format!(" (the closest is {c})")).unwrap_or_default())]
    NotInData {
        label: String,
        written: String,
        closest: Option<String>,
    },
    #[error(
        "the number \"{written}\" in the answer is not one of the figures at the precision written; every number in the answer must be listed in figures"
    )]
    NumberNotAFigure { written: String },
}

fn written(f: &Figure) -> String {
    format!("{} {}", f.value, f.unit.trim())
}

fn check_figure(fig: &Figure, facts: &[Fact]) -> Option<VerificationProblem> {
    let Some(unit) = figure_unit(&fig.unit) else {
        return Some(VerificationProblem::UnknownUnit {
            label: fig.label.clone(),
            unit: fig.unit.clone(),
        });
    };
    let matches =
        |f: &Fact| matches!(convert(f, unit), Converted::Value(v) if rounds_to(v, fig.value));
    let key = label_key(&fig.label);
    let named: Vec<&Fact> = facts
        .iter()
        .filter(|f| !key.is_empty() && label_key(&f.label) == key)
        .collect();
    let found = if named.is_empty() {
        facts.iter().any(matches)
    } else {
        named.iter().any(|f| matches(f))
    };
    if found {
        return None;
    }
    let (label, written) = (fig.label.clone(), written(fig));
    let explain = |f: &Fact| match convert(f, unit) {
        // The number is the fact's, the unit is not (1.23 "ratio" for 1.23 percent).
        Converted::Value(_) if rounds_to(f.value, fig.value) => VerificationProblem::UnitMismatch {
            label: label.clone(),
            written: written.clone(),
            fact: show(f.value, f.unit),
        },
        Converted::Value(v) => VerificationProblem::WrongValue {
            label: label.clone(),
            written: written.clone(),
            expected: format!(
                "{} {}",
                v.round_dp_with_strategy(fig.value.scale(), RoundingStrategy::MidpointAwayFromZero),
                fig.unit.trim()
            ),
        },
        Converted::OtherCurrency(c) => VerificationProblem::CurrencyMismatch {
            label: label.clone(),
            written: written.clone(),
            currency: c.as_str().to_owned(),
        },
        Converted::OtherUnit => VerificationProblem::UnitMismatch {
            label: label.clone(),
            written: written.clone(),
            fact: show(f.value, f.unit),
        },
    };
    if let Some(f) = named.first() {
        return Some(explain(f));
    }
    // The number is in the data, but in another unit or currency.
    if let Some(f) = facts.iter().find(|f| rounds_to(f.value, fig.value)) {
        return Some(explain(f));
    }
    let closest = facts
        .iter()
        .filter_map(|f| match convert(f, unit) {
            Converted::Value(v) => Some((f, (v - fig.value).abs())),
            _ => None,
        })
        .min_by_key(|(_, d)| *d)
        .map(|(f, _)| format!("\"{}\" = {}", f.label, show(f.value, f.unit)));
    Some(VerificationProblem::NotInData {
        label,
        written,
        closest,
    })
}

fn text_number_matches(n: &TextNumber, figures: &[(&Figure, Option<FigureUnit>)]) -> bool {
    figures.iter().any(|(fig, unit)| {
        let value = match (n.percent, n.money, unit) {
            (true, _, Some(FigureUnit::Ratio)) => fig.value.checked_mul(Decimal::ONE_HUNDRED),
            (true, _, Some(FigureUnit::Percent) | None)
            | (false, true, Some(FigureUnit::Money(_)) | None)
            | (false, false, _) => Some(fig.value),
            _ => None,
        };
        let Some(v) = value.and_then(|v| v.checked_div(n.multiplier)) else {
            return false;
        };
        if n.negative && !v.is_sign_negative() {
            return false;
        }
        n.readings.iter().any(|r| rounds_to(v.abs(), *r))
    })
}

/// [`verify_with_names`] without extra names.
///
/// # Errors
/// Every problem found, in the order of the figures and then of the text.
pub fn verify(answer: &ModelAnswer, facts: &[Fact]) -> Result<(), Vec<VerificationProblem>> {
    verify_with_names(answer, facts, &[])
}

/// Checks an answer against the facts (see the module docs for the rules).
///
/// Numbers in the prose are read in English and Brazilian Portuguese:
/// `1,234.56` and `1.234,56`; a single mark before exactly three digits
/// (`1.234`) may be either (1234 or 1.234) and matches if either reading
/// does. `%`, `pp`, "por cento" mark percent; `R$`, `US$`, `$`, `€`, `BRL`,
/// "reais", "dollars" mark money; `k`, `mil`, `mi`, "milhões", "million",
/// `bi` multiply (`1,2 mil` is 1234 rounded to hundreds); `3.2x` is a plain
/// number; `-` or `−` before a number is a sign (not after a digit or letter:
/// `10-20` is a range). Skipped as not figures: dates and times
/// (`2026-11-23`, `2026-W47`, `23/11/2026`, `17/11`, `14:30`, days and
/// years next to a month name, `1 a 7 de novembro de 2026`), years after
/// "em/in/desde/since/até/until", durations (`7 dias`, `30 days`, `24h`),
/// ordinals (`1st`, `2ª`, `#3`), a list marker (`1.`, `2)`) opening a line,
/// numbers glued to letters (`W47`, `Q4`, `v1.2`), positions after
/// "semana/week/dia/day/página/page", URLs, and every occurrence of the
/// facts' labels and of `names`.
///
/// Numbers inside `names` (campaign, ad set and ad names the answer may
/// quote, e.g. "Black Friday 2026 - 50% OFF") and inside the facts' labels
/// are not figures; they are matched case-insensitively and skipped.
///
/// # Errors
/// Every problem found, in the order of the figures and then of the text.
pub fn verify_with_names(
    answer: &ModelAnswer,
    facts: &[Fact],
    names: &[&str],
) -> Result<(), Vec<VerificationProblem>> {
    let mut problems: Vec<VerificationProblem> = answer
        .figures
        .iter()
        .filter_map(|f| check_figure(f, facts))
        .collect();
    let figures: Vec<(&Figure, Option<FigureUnit>)> = answer
        .figures
        .iter()
        .map(|f| (f, figure_unit(&f.unit)))
        .collect();
    let skip: Vec<&str> = names
        .iter()
        .copied()
        .chain(facts.iter().map(|f| f.label.as_str()))
        .collect();
    for n in numbers::numbers_in(&answer.answer, &skip) {
        if !text_number_matches(&n, &figures) {
            problems.push(VerificationProblem::NumberNotAFigure { written: n.written });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The message sent back to the model with its rejected reply, so its one
/// retry knows what to fix.
#[must_use]
pub fn retry_instructions(problems: &[VerificationProblem]) -> String {
    let mut s = String::from("Your reply could not be verified against the data:\n");
    for p in problems {
        let _ = writeln!(s, "- {p}");
    }
    s.push_str(
        "Reply again in the same JSON format. Copy figures from the data (rounding is fine, \
         recomputing is not), keep each figure's unit, and list in \"figures\" every number \
         that appears in \"answer\".",
    );
    s
}

/// The honest answer shown when a reply failed verification twice: no model
/// prose, just the facts as fetched (unrounded).
#[must_use]
pub fn unverified_answer(facts: &[Fact]) -> String {
    let mut s =
        String::from("I could not verify the figures in my answer, so I am not showing it.");
    if facts.is_empty() {
        s.push_str(" There are no figures in your data for this question.");
        return s;
    }
    s.push_str(" Here are the numbers from your data:\n");
    for f in facts {
        let v = f.value.normalize();
        let line = match f.unit {
            Unit::Money(c) => format!("- {}: {v} {}", f.label, c.as_str()),
            Unit::Percent => format!("- {}: {v}%", f.label),
            Unit::Ratio | Unit::Count => format!("- {}: {v}", f.label),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s.truncate(s.trim_end().len());
    s
}

#[cfg(test)]
#[path = "figures_tests.rs"]
mod tests;
