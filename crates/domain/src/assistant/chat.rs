//! Conversations with the assistant: what is stored (a [`Conversation`] and
//! its [`Message`]s, with the figures, the mode that answered and the tokens
//! used), the storage port, and what a question asks for ([`Intent`]).
//!
//! Intent classification is plain word matching in English and Brazilian
//! Portuguese (accents and case ignored), never a model: the application
//! fetches exactly the data an intent needs, so the model only ever sees the
//! asking tenant's numbers and never writes a query.

use async_trait::async_trait;
use time::{Date, Duration, Month, OffsetDateTime, Weekday};

use super::figures::Figure;
use crate::RepoError;
use crate::ads::DateRange;
use crate::ids::TenantId;
use crate::page::{Page, PageRequest};

crate::id!(
    /// A conversation with the assistant.
    ConversationId
);
crate::id!(
    /// One message (a question or an answer) of a conversation.
    MessageId
);

/// Longest question accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// Longest conversation title (the first question, cut), in characters.
pub const TITLE_CHARS: usize = 80;
/// Turns (question + answer) kept verbatim in the prompt; older ones are
/// folded into the conversation's summary.
pub const MEMORY_TURNS: usize = 10;
/// Longest rolling summary, in characters.
pub const SUMMARY_CHARS: usize = 1_000;
/// Longest flag reason, in characters.
pub const MAX_FLAG_CHARS: usize = 1_000;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageRole {
    User,
    Assistant,
}

impl MessageRole {
    /// Stable wire name: `user`, `assistant`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }

    /// The role of a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "assistant" => Some(Self::Assistant),
            _ => None,
        }
    }
}

/// Who produced an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerMode {
    /// The language model, and every figure checked out.
    Llm,
    /// The deterministic built-in answerer (no model configured, or the
    /// model was unavailable): the data rendered as text.
    BuiltIn,
    /// The model's reply failed verification twice: the honest answer with
    /// the raw figures instead.
    Unverified,
}

impl AnswerMode {
    /// Stable wire name: `llm`, `built_in`, `unverified`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Llm => "llm",
            Self::BuiltIn => "built_in",
            Self::Unverified => "unverified",
        }
    }

    /// The mode of a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "llm" => Some(Self::Llm),
            "built_in" => Some(Self::BuiltIn),
            "unverified" => Some(Self::Unverified),
            _ => None,
        }
    }
}

/// A conversation: visible to every member of the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub tenant_id: TenantId,
    /// Who started it (`user:…`, `api_key:…`).
    pub user: String,
    /// The first question, cut to [`TITLE_CHARS`].
    pub title: String,
    /// What the turns beyond the last [`MEMORY_TURNS`] said, folded.
    pub summary: Option<String>,
    /// The last message folded into `summary`.
    pub summarized_through: Option<MessageId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Conversation {
    /// A new conversation whose title is the first question.
    #[must_use]
    pub fn start(tenant_id: TenantId, user: String, first: &str, now: OffsetDateTime) -> Self {
        Self {
            id: ConversationId::generate(),
            tenant_id,
            user,
            title: cut(first.trim(), TITLE_CHARS),
            summary: None,
            summarized_through: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// `s` cut to at most `max` characters (an ellipsis marks a cut).
#[must_use]
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub role: MessageRole,
    pub content: String,
    /// The figures an answer used (empty for questions).
    pub figures: Vec<Figure>,
    /// Who answered (answers only).
    pub mode: Option<AnswerMode>,
    /// The intent the question was read as (answers only), e.g. `kpis`.
    pub intent: Option<String>,
    /// Tokens the model used for this answer (0 without a model).
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Why a member flagged this answer as wrong, if one did.
    pub flagged: Option<String>,
    pub created_at: OffsetDateTime,
}

impl Message {
    /// A question.
    #[must_use]
    pub fn question(conversation_id: ConversationId, content: &str, now: OffsetDateTime) -> Self {
        Self {
            id: MessageId::generate(),
            conversation_id,
            role: MessageRole::User,
            content: content.to_owned(),
            figures: Vec::new(),
            mode: None,
            intent: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            flagged: None,
            created_at: now,
        }
    }
}

/// Storage of conversations; every call is scoped by tenant, so another
/// tenant's id is the same as a missing one.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ConversationRepository: Send + Sync {
    /// Stores a new conversation.
    ///
    /// # Errors
    /// Storage failures.
    async fn create(&self, c: &Conversation) -> Result<(), RepoError>;

    /// One conversation.
    ///
    /// # Errors
    /// Storage failures.
    async fn get(&self, t: TenantId, id: ConversationId)
    -> Result<Option<Conversation>, RepoError>;

    /// The tenant's conversations, newest first.
    ///
    /// # Errors
    /// Storage failures.
    async fn list(&self, t: TenantId, page: PageRequest) -> Result<Page<Conversation>, RepoError>;

    /// Deletes a conversation with its messages; `false` when missing.
    ///
    /// # Errors
    /// Storage failures.
    async fn delete(&self, t: TenantId, id: ConversationId) -> Result<bool, RepoError>;

    /// Appends messages in one transaction and sets `updated_at` to `at`.
    ///
    /// # Errors
    /// `MissingReference` when the conversation is gone; storage failures.
    async fn append(
        &self,
        t: TenantId,
        id: ConversationId,
        messages: &[Message],
        at: OffsetDateTime,
    ) -> Result<(), RepoError>;

    /// A page of a conversation's messages, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    async fn messages(
        &self,
        t: TenantId,
        id: ConversationId,
        page: PageRequest,
    ) -> Result<Page<Message>, RepoError>;

    /// The messages after `after` (all when `None`), oldest first.
    ///
    /// # Errors
    /// Storage failures.
    async fn messages_after(
        &self,
        t: TenantId,
        id: ConversationId,
        after: Option<MessageId>,
    ) -> Result<Vec<Message>, RepoError>;

    /// Replaces the rolling summary, which now covers messages up to `through`;
    /// the model's `usage` for writing it (none for the plain summary) is
    /// recorded at `at`, in the same transaction, for the tenant's token usage.
    ///
    /// # Errors
    /// Storage failures.
    async fn update_summary(
        &self,
        t: TenantId,
        id: ConversationId,
        summary: &str,
        through: MessageId,
        usage: super::llm::TokenUsage,
        at: OffsetDateTime,
    ) -> Result<(), RepoError>;

    /// Flags an answer of the conversation as wrong with `reason` (the last
    /// flag wins); `None` when the message is missing, another
    /// conversation's, or a question.
    ///
    /// # Errors
    /// Storage failures.
    async fn flag(
        &self,
        t: TenantId,
        id: ConversationId,
        message: MessageId,
        reason: &str,
    ) -> Result<Option<Message>, RepoError>;

    /// A page of the tenant's flagged answers across its conversations,
    /// newest first (for review).
    ///
    /// # Errors
    /// Storage failures.
    async fn flagged(&self, t: TenantId, page: PageRequest) -> Result<Page<Message>, RepoError>;
}

// ------------------------------------------------------------------ intents

/// A metric a question can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatMetric {
    Spend,
    Conversions,
    Cpa,
    Ctr,
    Roas,
}

impl ChatMetric {
    /// Its name in labels and intents (`spend`, `results`, `CPA`, `CTR`, `ROAS`).
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Spend => "spend",
            Self::Conversions => "results",
            Self::Cpa => "CPA",
            Self::Ctr => "CTR",
            Self::Roas => "ROAS",
        }
    }

    /// Whether a lower value is better (CPA, spend when judging cost).
    #[must_use]
    pub const fn lower_is_better(self) -> bool {
        matches!(self, Self::Cpa)
    }
}

/// A resolved period with how people say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub range: DateRange,
    /// `last 7 days`, `yesterday`, `2026-10-01 to 2026-10-03`.
    pub label: String,
}

impl Period {
    fn new(from: Date, to: Date, label: impl Into<String>) -> Option<Self> {
        Some(Self {
            range: DateRange::new(from, to).ok()?,
            label: label.into(),
        })
    }

    /// The period of the same length just before this one.
    #[must_use]
    pub fn previous(&self) -> Self {
        let days = self.range.days();
        let to = self.range.from() - Duration::days(1);
        let from = to - Duration::days(days - 1);
        Self {
            range: DateRange::new(from, to).unwrap_or(DateRange::day(to)),
            label: format!("previous period ({from} to {to})"),
        }
    }
}

/// What a question asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// The account's KPIs over a period (also the fallback).
    Kpis { period: Period },
    /// A period against the one of the same length before it.
    Compare { current: Period, previous: Period },
    /// The best (or worst) campaigns by a metric over a period.
    TopCampaigns {
        metric: ChatMetric,
        bottom: bool,
        period: Period,
    },
    /// Why a metric moved: the period against the one before, per campaign.
    WhyChanged {
        metric: ChatMetric,
        current: Period,
        previous: Period,
    },
    /// The rules' pending suggestions.
    PendingSuggestions,
    /// Yesterday's anomalies.
    Anomalies,
}

impl Intent {
    /// Stable name, stored with the answer: `kpis`, `compare`,
    /// `top_campaigns`, `why_changed`, `pending_suggestions`, `anomalies`.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Kpis { .. } => "kpis",
            Self::Compare { .. } => "compare",
            Self::TopCampaigns { .. } => "top_campaigns",
            Self::WhyChanged { .. } => "why_changed",
            Self::PendingSuggestions => "pending_suggestions",
            Self::Anomalies => "anomalies",
        }
    }

    /// Reads a question (English or Brazilian Portuguese). Periods resolve
    /// against `yesterday` (the last whole day in the account's time zone);
    /// anything unrecognised is the KPIs of the last 7 days.
    #[must_use]
    pub fn classify(question: &str, yesterday: Date) -> Self {
        let text = normalize(question);
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .filter(|w| !w.is_empty())
            .collect();
        let has = |w: &str| words.contains(&w);
        let starts = |p: &str| words.iter().any(|w| w.starts_with(p));
        let phrase = |p: &str| text.contains(p);

        if starts("suggestion") || starts("sugest") || starts("recommendation") {
            return Self::PendingSuggestions;
        }
        if starts("anomal") || has("unusual") || has("incomum") || has("incomuns") {
            return Self::Anomalies;
        }
        let period = period(&text, &words, yesterday);
        let metric = metric(&words);
        if has("why") || phrase("por que") || has("porque") || has("pq") {
            let previous = period.previous();
            return Self::WhyChanged {
                metric: metric.unwrap_or(ChatMetric::Cpa),
                current: period,
                previous,
            };
        }
        if starts("compar") || has("vs") || has("versus") || has("against") {
            let previous = period.previous();
            return Self::Compare {
                current: period,
                previous,
            };
        }
        let bottom = has("worst") || has("bottom") || has("piores") || has("pior");
        if bottom || has("top") || has("best") || has("melhores") || has("melhor") {
            return Self::TopCampaigns {
                metric: metric.unwrap_or(ChatMetric::Roas),
                bottom,
                period,
            };
        }
        Self::Kpis { period }
    }
}

/// Lower case without accents (`ú` → `u`, `ç` → `c`).
fn normalize(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

fn metric(words: &[&str]) -> Option<ChatMetric> {
    words.iter().find_map(|w| match *w {
        "cpa" | "cpas" => Some(ChatMetric::Cpa),
        "ctr" => Some(ChatMetric::Ctr),
        "roas" => Some(ChatMetric::Roas),
        "spend" | "spent" | "spending" | "gasto" | "gastos" | "gastei" | "investimento"
        | "cost" | "custo" => Some(ChatMetric::Spend),
        "conversions" | "conversion" | "conversoes" | "conversao" | "results" | "resultados"
        | "purchases" | "compras" | "vendas" | "sales" => Some(ChatMetric::Conversions),
        _ => None,
    })
}

fn iso_date(w: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(w, &fmt).ok()
}

/// The period a question names (the last 7 days when none).
fn period(text: &str, words: &[&str], yesterday: Date) -> Period {
    let last_days =
        |n: i64, label: String| Period::new(yesterday - Duration::days(n - 1), yesterday, label);
    let fallback = || {
        last_days(7, "last 7 days".to_owned()).unwrap_or(Period {
            range: DateRange::day(yesterday),
            label: "yesterday".to_owned(),
        })
    };
    let mut dates: Vec<Date> = words.iter().filter_map(|w| iso_date(w)).collect();
    dates.sort();
    if let (Some(&from), Some(&to)) = (dates.first(), dates.last()) {
        let label = if from == to {
            from.to_string()
        } else {
            format!("{from} to {to}")
        };
        return Period::new(from, to, label).unwrap_or_else(fallback);
    }
    // "last 30 days", "past 14 days", "últimos 7 dias"
    for (i, w) in words.iter().enumerate() {
        if matches!(*w, "last" | "past" | "ultimos" | "ultimas")
            && let Some(n) = words.get(i + 1).and_then(|n| n.parse::<i64>().ok())
            && (1..=365).contains(&n)
            && words
                .get(i + 2)
                .is_some_and(|d| matches!(*d, "days" | "day" | "dias" | "dia"))
        {
            return last_days(n, format!("last {n} days")).unwrap_or_else(fallback);
        }
    }
    let has = |p: &str| text.contains(p);
    if words.contains(&"yesterday") || words.contains(&"ontem") {
        return Period {
            range: DateRange::day(yesterday),
            label: "yesterday".to_owned(),
        };
    }
    let week_start = |d: Date| d - Duration::days(i64::from(d.weekday().number_days_from_monday()));
    if has("last week") || has("semana passada") || has("ultima semana") {
        let end = if yesterday.weekday() == Weekday::Sunday {
            yesterday
        } else {
            week_start(yesterday) - Duration::days(1)
        };
        return Period::new(end - Duration::days(6), end, "last week").unwrap_or_else(fallback);
    }
    if has("this week") || has("esta semana") || has("essa semana") || has("nesta semana") {
        return Period::new(week_start(yesterday), yesterday, "this week").unwrap_or_else(fallback);
    }
    if has("last month") || has("mes passado") || has("ultimo mes") {
        let first_this = yesterday.replace_day(1).unwrap_or(yesterday);
        let end = first_this - Duration::days(1);
        let start = end.replace_day(1).unwrap_or(end);
        let label = format!("{} {}", month_name(end.month()), end.year());
        return Period::new(start, end, label).unwrap_or_else(fallback);
    }
    if has("this month") || has("este mes") || has("esse mes") || has("neste mes") {
        let start = yesterday.replace_day(1).unwrap_or(yesterday);
        return Period::new(start, yesterday, "this month").unwrap_or_else(fallback);
    }
    fallback()
}

const fn month_name(m: Month) -> &'static str {
    match m {
        Month::January => "January",
        Month::February => "February",
        Month::March => "March",
        Month::April => "April",
        Month::May => "May",
        Month::June => "June",
        Month::July => "July",
        Month::August => "August",
        Month::September => "September",
        Month::October => "October",
        Month::November => "November",
        Month::December => "December",
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const Y: Date = date!(2026 - 11 - 30); // a Monday

    fn range(i: &Intent) -> (Date, Date) {
        let p = match i {
            Intent::Kpis { period } | Intent::TopCampaigns { period, .. } => period,
            Intent::Compare { current, .. } | Intent::WhyChanged { current, .. } => current,
            _ => panic!("no period in {i:?}"),
        };
        (p.range.from(), p.range.to())
    }

    #[test]
    fn assistant_unknown_question_is_kpis_of_the_last_7_days() {
        let i = Intent::classify("how are things going?", Y);
        assert_eq!(i.name(), "kpis");
        assert_eq!(range(&i), (date!(2026 - 11 - 24), Y));
    }

    #[test]
    fn assistant_reads_periods_in_english_and_portuguese() {
        for (q, from, to) in [
            ("spend yesterday", Y, Y),
            ("quanto gastei ontem?", Y, Y),
            ("CPA last 30 days", date!(2026 - 11 - 01), Y),
            ("CPA nos últimos 7 dias", date!(2026 - 11 - 24), Y),
            ("results this month", date!(2026 - 11 - 01), Y),
            ("resultados este mês", date!(2026 - 11 - 01), Y),
            (
                "spend last week",
                date!(2026 - 11 - 23),
                date!(2026 - 11 - 29),
            ),
            (
                "gasto semana passada",
                date!(2026 - 11 - 23),
                date!(2026 - 11 - 29),
            ),
            (
                "ROAS last month",
                date!(2026 - 10 - 01),
                date!(2026 - 10 - 31),
            ),
            (
                "What was my spend from 2026-10-01 to 2026-10-03?",
                date!(2026 - 10 - 01),
                date!(2026 - 10 - 03),
            ),
        ] {
            let i = Intent::classify(q, Y);
            assert_eq!(i.name(), "kpis", "{q}");
            assert_eq!(range(&i), (from, to), "{q}");
        }
    }

    #[test]
    fn assistant_last_week_ending_on_a_sunday_is_that_week() {
        let sunday = date!(2026 - 11 - 29);
        let i = Intent::classify("spend last week", sunday);
        assert_eq!(range(&i), (date!(2026 - 11 - 23), sunday));
    }

    #[test]
    fn assistant_compare_takes_the_period_before_of_the_same_length() {
        for q in [
            "compare last 7 days",
            "comparar semana passada",
            "this week vs last",
        ] {
            let Intent::Compare { current, previous } = Intent::classify(q, Y) else {
                panic!("{q} is not a comparison");
            };
            assert_eq!(current.range.days(), previous.range.days(), "{q}");
            assert_eq!(
                previous.range.to() + Duration::days(1),
                current.range.from()
            );
        }
    }

    #[test]
    fn assistant_top_and_worst_campaigns_with_their_metric() {
        assert_eq!(
            Intent::classify("top campaigns by CTR", Y),
            Intent::TopCampaigns {
                metric: ChatMetric::Ctr,
                bottom: false,
                period: period("", &[], Y),
            }
        );
        let i = Intent::classify("quais as piores campanhas em CPA ontem?", Y);
        assert!(
            matches!(
                i,
                Intent::TopCampaigns {
                    metric: ChatMetric::Cpa,
                    bottom: true,
                    ..
                }
            ),
            "{i:?}"
        );
        let i = Intent::classify("melhores campanhas", Y);
        assert!(
            matches!(
                i,
                Intent::TopCampaigns {
                    metric: ChatMetric::Roas,
                    bottom: false,
                    ..
                }
            ),
            "{i:?}"
        );
    }

    #[test]
    fn assistant_why_questions_name_the_metric() {
        let i = Intent::classify("Por que o CPA subiu?", Y);
        assert!(
            matches!(
                i,
                Intent::WhyChanged {
                    metric: ChatMetric::Cpa,
                    ..
                }
            ),
            "{i:?}"
        );
        let i = Intent::classify("why did conversions drop last week?", Y);
        assert!(
            matches!(
                i,
                Intent::WhyChanged {
                    metric: ChatMetric::Conversions,
                    ..
                }
            ),
            "{i:?}"
        );
    }

    #[test]
    fn assistant_suggestions_and_anomalies() {
        for q in ["any pending suggestions?", "Tem sugestões pendentes?"] {
            assert_eq!(Intent::classify(q, Y), Intent::PendingSuggestions, "{q}");
        }
        for q in ["any anomalies yesterday?", "houve alguma anomalia?"] {
            assert_eq!(Intent::classify(q, Y), Intent::Anomalies, "{q}");
        }
    }

    #[test]
    fn assistant_titles_are_cut_to_80_characters() {
        let c = Conversation::start(
            TenantId::generate(),
            "user:x".into(),
            &"a".repeat(200),
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(c.title.chars().count(), TITLE_CHARS);
        assert!(c.title.ends_with('…'));
    }
}
