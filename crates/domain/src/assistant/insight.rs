//! Generated insights: one stored document per ad account and ISO week — a
//! headline, 3–5 findings each with the figures it rests on, and 1–5
//! recommended actions — written by the language model (in the
//! [`insight_schema`] shape, verified like a chat answer) or by the
//! deterministic built-in writer.
//!
//! Owns the document, its schema, parser and validation and the storage
//! port; never the prompt or the facts (the application's).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::value::RawValue;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, Time};

use super::chat::AnswerMode;
use super::figures::{AnswerFormatError, Figure, ModelAnswer};
use super::llm::JsonSchema;
use crate::RepoError;
use crate::ads::{AdAccount, DateRange};
use crate::ids::{AdAccountId, InsightId, TenantId};
use crate::page::{Page, PageRequest};

type Object = BTreeMap<String, Box<RawValue>>;

/// The name under which [`insight_schema`] is sent.
pub const INSIGHT_SCHEMA_NAME: &str = "weekly_insight";
/// Fewest findings a document has.
pub const MIN_FINDINGS: usize = 3;
/// Most findings a document has.
pub const MAX_FINDINGS: usize = 5;
/// Fewest recommended actions.
pub const MIN_ACTIONS: usize = 1;
/// Most recommended actions.
pub const MAX_ACTIONS: usize = 5;

/// The local hour of Monday from which the week just ended gets its
/// document without anyone asking: late enough for the night's sync to have
/// brought Sunday's numbers in.
pub const WEEKLY_INSIGHT_HOUR: u8 = 6;

/// The ISO week whose document is due at the local wall-clock time `local`:
/// the week before the last Monday [`WEEKLY_INSIGHT_HOUR`]:00 at or before
/// `local` (on Monday before that hour, the week before last, which was due
/// a week ago).
#[must_use]
pub fn weekly_insight_due(local: PrimitiveDateTime) -> DateRange {
    let monday =
        local.date() - Duration::days(i64::from(local.weekday().number_days_from_monday()));
    let hour = Time::from_hms(WEEKLY_INSIGHT_HOUR, 0, 0).unwrap_or(Time::MIDNIGHT);
    let this_monday = if local < PrimitiveDateTime::new(monday, hour) {
        monday - Duration::weeks(1)
    } else {
        monday
    };
    DateRange::new(
        this_monday - Duration::weeks(1),
        this_monday - Duration::DAY,
    )
    .unwrap_or_else(|_| DateRange::day(this_monday))
}

/// One observation of the week, with the figures it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub title: String,
    pub detail: String,
    /// Every number of `title` and `detail`, as in a chat answer.
    pub figures: Vec<Figure>,
}

/// The document without storage fields: what the model or the built-in
/// writer produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightDraft {
    pub headline: String,
    pub findings: Vec<Finding>,
    pub actions: Vec<String>,
}

/// A draft that breaks the document's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsightInvalid {
    #[error("the headline must not be empty")]
    EmptyHeadline,
    #[error("there must be {MIN_FINDINGS} to {MAX_FINDINGS} findings, not {0}")]
    FindingCount(usize),
    #[error("finding {0} has an empty title or detail")]
    EmptyFinding(usize),
    #[error("there must be {MIN_ACTIONS} to {MAX_ACTIONS} actions, not {0}")]
    ActionCount(usize),
    #[error("action {0} is empty")]
    EmptyAction(usize),
}

impl InsightDraft {
    /// Reads a model reply in the [`insight_schema`] shape (code fences
    /// and text around the object tolerated, as for chat answers). Each
    /// finding's figures are read with the chat's figure rules.
    ///
    /// # Errors
    /// Not JSON of the shape (missing or mistyped fields, bad figures).
    pub fn parse(content: &str) -> Result<Self, AnswerFormatError> {
        // Raw values keep the figures' numbers as written (`40.00` keeps
        // its two decimals), as the chat's parser does.
        let obj: Object =
            serde_json::from_str(super::figures::json_body(content)).map_err(|_| {
                AnswerFormatError(
                    "expected one JSON object with \"headline\", \"findings\" and \"actions\""
                        .into(),
                )
            })?;
        let text = |o: &Object, key: &str, what: &str| {
            o.get(key)
                .and_then(|r| serde_json::from_str::<String>(r.get()).ok())
                .ok_or_else(|| AnswerFormatError(format!("{what} needs a string \"{key}\"")))
        };
        let headline = text(&obj, "headline", "the reply")?;
        let list: Vec<Object> = obj
            .get("findings")
            .and_then(|r| serde_json::from_str(r.get()).ok())
            .ok_or_else(|| AnswerFormatError("\"findings\" must be an array of objects".into()))?;
        let findings = list
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let what = format!("finding {}", i + 1);
                let figures = f
                    .get("figures")
                    .ok_or_else(|| AnswerFormatError(format!("{what} has no \"figures\"")))?;
                // The chat's parser reads the figures (one rule for both).
                let wrapped = format!("{{\"answer\": \"\", \"figures\": {}}}", figures.get());
                let figures = ModelAnswer::parse(&wrapped)
                    .map_err(|e| AnswerFormatError(format!("{what}: {}", e.0)))?
                    .figures;
                Ok(Finding {
                    title: text(f, "title", &what)?,
                    detail: text(f, "detail", &what)?,
                    figures,
                })
            })
            .collect::<Result<Vec<_>, AnswerFormatError>>()?;
        let actions: Vec<String> = obj
            .get("actions")
            .and_then(|r| serde_json::from_str(r.get()).ok())
            .ok_or_else(|| AnswerFormatError("\"actions\" must be an array of strings".into()))?;
        Ok(Self {
            headline,
            findings,
            actions,
        })
    }

    /// Checks the document's rules: a headline, 3–5 findings with title and
    /// detail, 1–5 non-empty actions.
    ///
    /// # Errors
    /// The first rule broken.
    pub fn validate(&self) -> Result<(), InsightInvalid> {
        if self.headline.trim().is_empty() {
            return Err(InsightInvalid::EmptyHeadline);
        }
        let n = self.findings.len();
        if !(MIN_FINDINGS..=MAX_FINDINGS).contains(&n) {
            return Err(InsightInvalid::FindingCount(n));
        }
        if let Some(i) = self
            .findings
            .iter()
            .position(|f| f.title.trim().is_empty() || f.detail.trim().is_empty())
        {
            return Err(InsightInvalid::EmptyFinding(i + 1));
        }
        let n = self.actions.len();
        if !(MIN_ACTIONS..=MAX_ACTIONS).contains(&n) {
            return Err(InsightInvalid::ActionCount(n));
        }
        if let Some(i) = self.actions.iter().position(|a| a.trim().is_empty()) {
            return Err(InsightInvalid::EmptyAction(i + 1));
        }
        Ok(())
    }

    /// The whole document as one chat answer (every text, one per line, and
    /// every finding's figures), so it is verified by the chat's rules.
    #[must_use]
    pub fn as_answer(&self) -> ModelAnswer {
        let mut lines = vec![self.headline.clone()];
        for f in &self.findings {
            lines.push(f.title.clone());
            lines.push(f.detail.clone());
        }
        lines.extend(self.actions.iter().cloned());
        ModelAnswer {
            answer: lines.join("\n"),
            figures: self
                .findings
                .iter()
                .flat_map(|f| f.figures.iter().cloned())
                .collect(),
        }
    }
}

/// A stored weekly insight of one ad account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insight {
    pub id: InsightId,
    pub tenant_id: TenantId,
    pub ad_account_id: AdAccountId,
    /// Monday to Sunday.
    pub week: DateRange,
    pub headline: String,
    pub findings: Vec<Finding>,
    pub actions: Vec<String>,
    /// `Llm` (the model's verified document) or `BuiltIn`.
    pub mode: AnswerMode,
    /// Whether every figure was checked against the data (always, for the
    /// documents stored today: a model draft that fails is not stored).
    pub verified: bool,
    pub created_at: OffsetDateTime,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

/// The strict JSON Schema of an [`InsightDraft`].
#[must_use]
pub fn insight_schema() -> serde_json::Value {
    let figures = super::figures::answer_schema()["properties"]["figures"].clone();
    serde_json::json!({
        "type": "object",
        "properties": {
            "headline": {
                "type": "string",
                "description": "One sentence: the week's most important change."
            },
            "findings": {
                "type": "array",
                "minItems": MIN_FINDINGS,
                "maxItems": MAX_FINDINGS,
                "items": {
                    "type": "object",
                    "properties": {
                        "title": { "type": "string" },
                        "detail": { "type": "string" },
                        "figures": figures
                    },
                    "required": ["title", "detail", "figures"],
                    "additionalProperties": false
                }
            },
            "actions": {
                "type": "array",
                "minItems": MIN_ACTIONS,
                "maxItems": MAX_ACTIONS,
                "items": { "type": "string" }
            }
        },
        "required": ["headline", "findings", "actions"],
        "additionalProperties": false
    })
}

/// [`insight_schema`] named, for an `LlmRequest`.
#[must_use]
pub fn insight_json_schema() -> JsonSchema {
    JsonSchema {
        name: INSIGHT_SCHEMA_NAME.to_owned(),
        schema: insight_schema(),
    }
}

/// Where insights are kept.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait GeneratedInsightRepository: Send + Sync {
    /// Stores `insight` as the one of its tenant, account and week: an
    /// earlier one of the same week is replaced (deleted in the same
    /// transaction).
    ///
    /// # Errors
    /// Storage failures.
    async fn upsert(&self, insight: &Insight) -> Result<(), RepoError>;
    /// The tenant's insight `id` (`None` when missing or another tenant's).
    ///
    /// # Errors
    /// Storage failures.
    async fn get(&self, t: TenantId, id: InsightId) -> Result<Option<Insight>, RepoError>;
    /// The tenant's insights, newest first.
    ///
    /// # Errors
    /// Storage failures.
    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Insight>, RepoError>;

    /// The time zones of the ad accounts (of every tenant) that spent in
    /// `week` and have neither its document nor a claim on it held past
    /// `now`: where the weekly round may still have to write.
    ///
    /// # Errors
    /// Storage failures.
    async fn missing_week_zones(
        &self,
        week: DateRange,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, RepoError>;

    /// Those ad accounts in the time zones `zones`, at most `limit` (by
    /// tenant and id): what the weekly round writes next.
    ///
    /// # Errors
    /// Storage failures.
    async fn missing_week(
        &self,
        week: DateRange,
        zones: &[String],
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AdAccount>, RepoError>;

    /// Claims the account's `week` for the caller until `until`, so that no
    /// other worker writes it meanwhile: `true` when the week has no document
    /// and no claim held past `now` (an expired claim is taken over). A
    /// claim is kept after the document is stored.
    ///
    /// # Errors
    /// Storage failures.
    async fn claim_week(
        &self,
        t: TenantId,
        account: AdAccountId,
        week: DateRange,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, RepoError>;

    /// Gives a claim up (its document could not be made), so that the next
    /// round tries the week again.
    ///
    /// # Errors
    /// Storage failures.
    async fn release_week(
        &self,
        t: TenantId,
        account: AdAccountId,
        week: DateRange,
    ) -> Result<(), RepoError>;
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn reply(findings: usize, actions: usize) -> String {
        let f: Vec<_> = (0..findings)
            .map(|i| {
                serde_json::json!({"title": format!("Finding {i}"), "detail": "Spend 10 BRL",
                    "figures": [{"label": "spend this week", "value": 10.5, "unit": "BRL"}]})
            })
            .collect();
        let a: Vec<_> = (0..actions).map(|i| format!("Action {i}")).collect();
        serde_json::json!({"headline": "Spend up", "findings": f, "actions": a}).to_string()
    }

    #[test]
    fn insight_reply_is_parsed_with_figures_as_written() {
        let d = InsightDraft::parse(&format!("```json\n{}\n```", reply(3, 2))).unwrap();
        assert_eq!(d.headline, "Spend up");
        assert_eq!(d.findings.len(), 3);
        assert_eq!(d.findings[0].figures[0].value, Decimal::new(105, 1));
        let exact = InsightDraft::parse(&reply(3, 1).replace("10.5", "40.00")).unwrap();
        assert_eq!(exact.findings[0].figures[0].value.scale(), 2, "as written");
        assert_eq!(d.findings[0].figures[0].unit, "BRL");
        assert_eq!(d.actions, ["Action 0", "Action 1"]);
        assert!(d.validate().is_ok());
    }

    #[test]
    fn insight_reply_without_findings_is_a_format_error() {
        assert!(InsightDraft::parse(r#"{"headline": "x", "actions": []}"#).is_err());
        assert!(InsightDraft::parse("not json").is_err());
        let bad_figure = r#"{"headline": "x", "actions": [], "findings":
            [{"title": "t", "detail": "d", "figures": [{"label": "l", "value": "abc", "unit": "BRL"}]}]}"#;
        assert!(InsightDraft::parse(bad_figure).is_err());
    }

    #[test]
    fn insight_needs_three_to_five_findings_and_a_headline() {
        let two = InsightDraft::parse(&reply(2, 1)).unwrap();
        assert_eq!(two.validate(), Err(InsightInvalid::FindingCount(2)));
        let six = InsightDraft::parse(&reply(6, 1)).unwrap();
        assert_eq!(six.validate(), Err(InsightInvalid::FindingCount(6)));
        let no_action = InsightDraft::parse(&reply(3, 0)).unwrap();
        assert_eq!(no_action.validate(), Err(InsightInvalid::ActionCount(0)));
        let mut blank = InsightDraft::parse(&reply(3, 1)).unwrap();
        blank.headline = "  ".into();
        assert_eq!(blank.validate(), Err(InsightInvalid::EmptyHeadline));
    }

    #[test]
    fn insight_as_answer_carries_every_text_and_figure() {
        let d = InsightDraft::parse(&reply(4, 2)).unwrap();
        let a = d.as_answer();
        assert_eq!(a.figures.len(), 4);
        assert!(a.answer.contains("Spend up") && a.answer.contains("Action 1"));
    }

    #[test]
    fn weekly_insight_is_due_from_monday_six_local_for_the_week_just_ended() {
        use time::macros::{date, datetime};
        let last = DateRange::new(date!(2026 - 09 - 28), date!(2026 - 10 - 04)).unwrap();
        let before = DateRange::new(date!(2026 - 09 - 21), date!(2026 - 09 - 27)).unwrap();
        assert_eq!(weekly_insight_due(datetime!(2026-10-05 6:00)), last);
        assert_eq!(weekly_insight_due(datetime!(2026-10-11 23:59)), last);
        assert_eq!(
            weekly_insight_due(datetime!(2026-10-06 2:00)),
            last,
            "Tuesday night"
        );
        assert_eq!(weekly_insight_due(datetime!(2026-10-05 5:59)), before);
        assert_eq!(weekly_insight_due(datetime!(2026-10-04 12:00)), before);
    }

    #[test]
    fn insight_schema_is_strict() {
        let s = insight_schema();
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["properties"]["findings"]["minItems"], 3);
        assert_eq!(s["properties"]["findings"]["maxItems"], 5);
        assert_eq!(
            s["properties"]["findings"]["items"]["properties"]["figures"]["items"]["additionalProperties"],
            false
        );
    }
}
