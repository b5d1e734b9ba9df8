//! Meta Ads Manager "Export table data" CSV files → typed daily rows.
//!
//! This module owns the reading of one exported file: which columns it has
//! (in English or Brazilian Portuguese), which language it is in, how its
//! numbers and dates are written, and the checks that make each data row one
//! day of one campaign (or ad) with whole, non-negative counts and money in
//! the account's currency. It does no I/O and stores nothing: the caller hands
//! in the bytes and gets [`ParsedExport`] or every reason the file is refused
//! ([`CsvImportError`]), so a user can fix the export in one go.
//!
//! # Columns
//!
//! Headers are matched by name: trimmed, case-insensitive, accents folded,
//! a UTF-8 BOM and a currency suffix such as `" (BRL)"` ignored. Unknown
//! columns (Reach, CPC, CTR, …) are ignored. All names live in one table,
//! `LANGUAGES`, so adding a UI language is one edit there.
//!
//! | Column (canonical, English) | pt-BR                                  | Use                                   |
//! |-----------------------------|----------------------------------------|---------------------------------------|
//! | Campaign name *             | Nome da campanha                       | `campaign_name`                       |
//! | Campaign ID                 | Identificação da campanha              | `campaign_external_id`                |
//! | Ad set name                 | Nome do conjunto de anúncios           | `ad_set_name`                         |
//! | Ad set ID                   | Identificação do conjunto de anúncios  | `ad_set_external_id`                  |
//! | Ad name                     | Nome do anúncio                        | `ad_name`; its presence = ad level    |
//! | Ad ID                       | Identificação do anúncio               | `ad_external_id`                      |
//! | Campaign delivery           | Veiculação da campanha                 | `status` at campaign level            |
//! | Ad delivery                 | Veiculação do anúncio                  | `status` at ad level                  |
//! | Day *                       | Dia                                    | `date`                                |
//! | Reporting starts *          | Início dos relatórios                  | `date` when there is no Day           |
//! | Reporting ends *            | Término dos relatórios                 | must equal Reporting starts           |
//! | Amount spent *              | Valor usado                            | `spend` (money)                       |
//! | Impressions *               | Impressões                             | `impressions`                         |
//! | Clicks (all)                | Cliques (todos)                        | `clicks`                              |
//! | Link clicks                 | Cliques no link                        | `link_clicks`; `clicks` without (all) |
//! | Results                     | Resultados                             | `conversions` (see below)             |
//! | Result indicator            | Indicador de resultados                | which action Results counts           |
//! | Purchases                   | Compras                                | `conversions` (purchase accounts)     |
//! | Purchases conversion value  | Valor de conversão das compras         | `revenue` (purchase accounts)         |
//!
//! `*` Required: Campaign name, Amount spent, Impressions, and either Day or
//! both Reporting starts and Reporting ends; otherwise
//! [`CsvImportError::MissingColumns`] lists every missing one by its English
//! name (Day stands for the date columns when none is present).
//!
//! # Rules
//!
//! - **One day per row.** `date` is Day when present; otherwise Reporting
//!   starts, and Reporting ends must be the same day (a 7-day aggregate is
//!   refused, asking for the breakdown By Time → Day). Dates are
//!   `YYYY-MM-DD`. Slash dates are accepted only in the language's order
//!   (`DD/MM/YYYY` in pt-BR, `MM/DD/YYYY` in English) and only when the file
//!   proves it: some date that cannot be read the other way round (a day
//!   above 12), or dates that read the same both ways. Otherwise every slash
//!   date is a problem asking for `YYYY-MM-DD`.
//! - **Numbers** follow the header language: English `1234.56` / `1,234.56`,
//!   pt-BR `1250,40` / `1.234,56`. Thousands groups must be of three digits,
//!   so a number in the other language's format is refused, not misread.
//!   An empty cell is 0. Counts must be whole and non-negative; money must be
//!   non-negative and is rounded to the account currency's minor units, half
//!   away from zero.
//! - **Totals.** `clicks` is Clicks (all), else Link clicks; `link_clicks` is
//!   Link clicks (0 without the column). When the account's result action is
//!   purchases ([`ResultAction::purchases`]), `conversions` is the Purchases
//!   column when present and `revenue` is Purchases conversion value (else 0).
//!   Otherwise, and for purchase accounts without a Purchases column,
//!   `conversions` is Results when the row's Result indicator (for example
//!   `actions:offsite_conversion.fb_pixel_purchase`) names one of
//!   [`ResultAction::aliases`], else 0; a non-purchase account has no revenue
//!   column in an export, so its `revenue` is 0. This mirrors the API sync,
//!   where conversions and revenue both come from the result action.
//! - **Status** comes from the delivery column of the row's level (Ad
//!   delivery for ad-level files, Campaign delivery otherwise): active →
//!   Active; inactive, not delivering, paused, off, completed → Paused;
//!   archived → Archived; deleted → Deleted (and their pt-BR words); anything
//!   else → `None`.
//! - **Currency.** A currency code in the column names (`Amount spent (BRL)`)
//!   is the file's currency; one that differs from the account's is
//!   [`CsvImportError::CurrencyMismatch`].
//! - **Summary rows.** A first or last data row whose campaign name is empty
//!   or a total label ("Total", "Totais", …) and whose other identity columns
//!   are empty is Ads Manager's summary row and is skipped. Rows whose cells
//!   are all empty are skipped. Any other row without a campaign name is a
//!   problem.
//! - **Shape checks.** A row with more or fewer cells than the header (an
//!   unquoted comma in a name shifts every column), an ID that is not all
//!   digits (a spreadsheet turned it into `1.2E+17`), an ad-level row with
//!   neither ad name nor ad ID, and two rows for the same day and
//!   campaign/ad set/ad (an extra breakdown such as age or placement) are
//!   problems.
//! - **Errors.** Every bad cell of the file becomes a [`RowProblem`] (line
//!   number counting the header as line 1, the column's header as written in
//!   the file, and a reason); they are returned together in
//!   [`CsvImportError::Rows`]. Problems about a whole row have an empty column.
//!   The field separator is `,` unless the header line has more `;` (or tabs).

use std::collections::HashMap;
use std::fmt;

use domain::actions::ResultAction;
use domain::ads::{Currency, EntityStatus};
use domain::kpi::KpiTotals;
use rust_decimal::{Decimal, RoundingStrategy};
use time::macros::format_description;
use time::{Date, Month};

// ------------------------------------------------------------------ output

/// One day of one campaign (campaign-level export) or ad (ad-level export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRow {
    /// 1-based line number in the file, the header being line 1.
    pub row: usize,
    pub date: Date,
    pub campaign_external_id: Option<String>,
    pub campaign_name: String,
    pub ad_set_external_id: Option<String>,
    pub ad_set_name: Option<String>,
    pub ad_external_id: Option<String>,
    pub ad_name: Option<String>,
    /// From the delivery column of the row's level; `None` when absent or unknown.
    pub status: Option<EntityStatus>,
    pub totals: KpiTotals,
}

/// The granularity of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportLevel {
    Campaign,
    /// The file has an "Ad name" column: each row is one ad.
    Ad,
}

/// A whole file, every row valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedExport {
    /// The currency named in the column headers, e.g. `Amount spent (BRL)`.
    pub currency: Option<Currency>,
    pub level: ExportLevel,
    pub rows: Vec<ImportedRow>,
}

/// One bad cell (or row) of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line number in the file, the header being line 1.
    pub row: usize,
    /// The column's header as written in the file; empty for the whole row.
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "row {}: {}", self.row, self.reason)
        } else {
            write!(f, "row {}, {}: {}", self.row, self.column, self.reason)
        }
    }
}

/// Why a file was refused. Nothing of a refused file is imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvImportError {
    /// Required columns absent, by their English names.
    #[error("the file lacks the required columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// Every bad row of the file.
    #[error("{} problem(s) in the file{}", .0.len(), first_problem(.0))]
    Rows(Vec<RowProblem>),
    #[error("the file is in {file} but the ad account is in {account}")]
    CurrencyMismatch { file: String, account: String },
    #[error("the file has no data rows")]
    Empty,
    #[error("not an Ads Manager CSV export: {0}")]
    NotCsv(String),
}

fn first_problem(problems: &[RowProblem]) -> String {
    problems
        .first()
        .map_or_else(String::new, |p| format!(", first: {p}"))
}

// ------------------------------------------------------------------ columns

/// The columns this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Col {
    CampaignName,
    CampaignId,
    AdSetName,
    AdSetId,
    AdName,
    AdId,
    CampaignDelivery,
    AdDelivery,
    Day,
    ReportingStarts,
    ReportingEnds,
    AmountSpent,
    Impressions,
    ClicksAll,
    LinkClicks,
    Results,
    ResultIndicator,
    Purchases,
    PurchasesValue,
}

impl Col {
    #[cfg(test)]
    const ALL: [Col; 19] = [
        Col::CampaignName,
        Col::CampaignId,
        Col::AdSetName,
        Col::AdSetId,
        Col::AdName,
        Col::AdId,
        Col::CampaignDelivery,
        Col::AdDelivery,
        Col::Day,
        Col::ReportingStarts,
        Col::ReportingEnds,
        Col::AmountSpent,
        Col::Impressions,
        Col::ClicksAll,
        Col::LinkClicks,
        Col::Results,
        Col::ResultIndicator,
        Col::Purchases,
        Col::PurchasesValue,
    ];

    /// The English name, used in [`CsvImportError::MissingColumns`].
    fn canonical(self) -> &'static str {
        ENGLISH
            .columns
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("?", |(_, name)| name)
    }
}

/// How slash dates are ordered in a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlashOrder {
    /// `DD/MM/YYYY`
    DayFirst,
    /// `MM/DD/YYYY`
    MonthFirst,
}

impl SlashOrder {
    const fn pattern(self) -> &'static str {
        match self {
            SlashOrder::DayFirst => "DD/MM/YYYY",
            SlashOrder::MonthFirst => "MM/DD/YYYY",
        }
    }
    const fn swapped(self) -> Self {
        match self {
            SlashOrder::DayFirst => SlashOrder::MonthFirst,
            SlashOrder::MonthFirst => SlashOrder::DayFirst,
        }
    }
}

/// How a language writes numbers.
#[derive(Debug, Clone, Copy)]
struct NumberStyle {
    decimal: char,
    group: char,
    /// Shown in problems, e.g. `1234.56 or 1,234.56`.
    example: &'static str,
}

/// Everything language-specific about an export: one entry per Ads Manager
/// UI language.
struct Language {
    name: &'static str,
    numbers: NumberStyle,
    slash_dates: SlashOrder,
    /// Column labels; a column may have several.
    columns: &'static [(Col, &'static str)],
    /// Values of the delivery columns.
    delivery: &'static [(&'static str, EntityStatus)],
    /// Campaign names of the summary row.
    total_labels: &'static [&'static str],
}

/// The Ads Manager UI languages understood, English first (its column names
/// are the canonical ones).
const LANGUAGES: &[Language] = &[
    Language {
        name: "English",
        numbers: NumberStyle {
            decimal: '.',
            group: ',',
            example: "1234.56 or 1,234.56",
        },
        slash_dates: SlashOrder::MonthFirst,
        columns: &[
            (Col::CampaignName, "Campaign name"),
            (Col::CampaignId, "Campaign ID"),
            (Col::AdSetName, "Ad set name"),
            (Col::AdSetId, "Ad set ID"),
            (Col::AdName, "Ad name"),
            (Col::AdId, "Ad ID"),
            (Col::CampaignDelivery, "Campaign delivery"),
            (Col::AdDelivery, "Ad delivery"),
            (Col::Day, "Day"),
            (Col::ReportingStarts, "Reporting starts"),
            (Col::ReportingEnds, "Reporting ends"),
            (Col::AmountSpent, "Amount spent"),
            (Col::Impressions, "Impressions"),
            (Col::ClicksAll, "Clicks (all)"),
            (Col::LinkClicks, "Link clicks"),
            (Col::Results, "Results"),
            (Col::ResultIndicator, "Result indicator"),
            (Col::Purchases, "Purchases"),
            (Col::PurchasesValue, "Purchases conversion value"),
        ],
        delivery: &[
            ("active", EntityStatus::Active),
            ("inactive", EntityStatus::Paused),
            ("not_delivering", EntityStatus::Paused),
            ("paused", EntityStatus::Paused),
            ("off", EntityStatus::Paused),
            ("completed", EntityStatus::Paused),
            ("archived", EntityStatus::Archived),
            ("deleted", EntityStatus::Deleted),
        ],
        total_labels: &["Total", "Totals"],
    },
    Language {
        name: "Portuguese (Brazil)",
        numbers: NumberStyle {
            decimal: ',',
            group: '.',
            example: "1234,56 or 1.234,56",
        },
        slash_dates: SlashOrder::DayFirst,
        columns: &[
            (Col::CampaignName, "Nome da campanha"),
            (Col::CampaignId, "Identificação da campanha"),
            (Col::AdSetName, "Nome do conjunto de anúncios"),
            (Col::AdSetId, "Identificação do conjunto de anúncios"),
            (Col::AdName, "Nome do anúncio"),
            (Col::AdId, "Identificação do anúncio"),
            (Col::CampaignDelivery, "Veiculação da campanha"),
            (Col::AdDelivery, "Veiculação do anúncio"),
            (Col::Day, "Dia"),
            (Col::ReportingStarts, "Início dos relatórios"),
            (Col::ReportingEnds, "Término dos relatórios"),
            (Col::AmountSpent, "Valor usado"),
            (Col::Impressions, "Impressões"),
            (Col::ClicksAll, "Cliques (todos)"),
            (Col::LinkClicks, "Cliques no link"),
            (Col::Results, "Resultados"),
            (Col::ResultIndicator, "Indicador de resultados"),
            (Col::Purchases, "Compras"),
            (Col::PurchasesValue, "Valor de conversão das compras"),
        ],
        delivery: &[
            ("ativo", EntityStatus::Active),
            ("ativa", EntityStatus::Active),
            ("inativo", EntityStatus::Paused),
            ("inativa", EntityStatus::Paused),
            ("nao_esta_veiculando", EntityStatus::Paused),
            ("pausado", EntityStatus::Paused),
            ("pausada", EntityStatus::Paused),
            ("desativado", EntityStatus::Paused),
            ("desativada", EntityStatus::Paused),
            ("concluido", EntityStatus::Paused),
            ("concluida", EntityStatus::Paused),
            ("arquivado", EntityStatus::Archived),
            ("arquivada", EntityStatus::Archived),
            ("excluido", EntityStatus::Deleted),
            ("excluida", EntityStatus::Deleted),
        ],
        total_labels: &["Total", "Totais", "Total geral"],
    },
];

const ENGLISH: &Language = &LANGUAGES[0];

/// The largest amount of money stored (`numeric(14,2)`).
const MAX_MONEY: Decimal = Decimal::from_parts(0x107A_3FFF, 0x5AF3, 0, false, 2);

/// Lower case, accents folded, inner whitespace collapsed, trimmed.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            out.push(match c {
                'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'í' | 'ì' | 'î' | 'ï' => 'i',
                'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
                'ú' | 'ù' | 'û' | 'ü' => 'u',
                'ç' => 'c',
                'ñ' => 'n',
                other => other,
            });
        }
    }
    out
}

/// A header without a trailing three-letter suffix such as ` (BRL)`, and
/// the currency it names when it is upper case (`Amount spent (BRL)` →
/// `Amount spent`, BRL). `None` without such a suffix.
fn split_currency(header: &str) -> Option<(&str, Option<Currency>)> {
    let body = header.trim_end().strip_suffix(')')?;
    let open = body.rfind('(')?;
    let code = &body[open + 1..];
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let currency = code
        .bytes()
        .all(|b| b.is_ascii_uppercase())
        .then(|| Currency::parse(code).ok())
        .flatten();
    Some((body[..open].trim_end(), currency))
}

/// The column a header names in `language`: the whole header first (so
/// `Clicks (all)` stays itself), then without its currency suffix.
fn column_of(language: &Language, header: &str) -> Option<Col> {
    let whole = fold(header);
    let stripped = split_currency(header).map(|(name, _)| fold(name));
    [Some(whole), stripped]
        .into_iter()
        .flatten()
        .find_map(|name| {
            language
                .columns
                .iter()
                .find(|(_, n)| fold(n) == name)
                .map(|(c, _)| *c)
        })
}

/// The header row, resolved.
struct Layout {
    /// Headers as written (BOM and surrounding spaces removed).
    headers: Vec<String>,
    index: HashMap<Col, usize>,
    language: &'static Language,
    currency: Option<Currency>,
    /// Another currency named in a header, if any differs from the first.
    other_currency: Option<Currency>,
}

impl Layout {
    fn read(raw: &::csv::StringRecord) -> Self {
        let headers: Vec<String> = raw
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        let mut index = HashMap::new();
        let mut votes = vec![0_usize; LANGUAGES.len()];
        let mut currency = None;
        let mut other_currency = None;
        for (i, header) in headers.iter().enumerate() {
            if let Some((_, Some(c))) = split_currency(header) {
                match currency {
                    None => currency = Some(c),
                    Some(first) if first != c => other_currency = Some(c),
                    Some(_) => {}
                }
            }
            for (lang, language) in LANGUAGES.iter().enumerate() {
                if let Some(col) = column_of(language, header) {
                    votes[lang] += 1;
                    // The first column of a name wins; a repeated one is ignored.
                    index.entry(col).or_insert(i);
                }
            }
        }
        // Most matched headers wins; ties go to the earlier language.
        let best = votes
            .iter()
            .enumerate()
            .max_by(|(i, a), (j, b)| a.cmp(b).then(j.cmp(i)))
            .map_or(0, |(i, _)| i);
        Self {
            headers,
            index,
            language: &LANGUAGES[best],
            currency,
            other_currency,
        }
    }

    fn has(&self, col: Col) -> bool {
        self.index.contains_key(&col)
    }

    fn missing(&self) -> Vec<String> {
        let mut missing: Vec<String> = [Col::CampaignName, Col::AmountSpent, Col::Impressions]
            .into_iter()
            .filter(|c| !self.has(*c))
            .map(|c| c.canonical().to_owned())
            .collect();
        if !self.has(Col::Day) {
            match (self.has(Col::ReportingStarts), self.has(Col::ReportingEnds)) {
                (true, true) => {}
                (true, false) => missing.push(Col::ReportingEnds.canonical().to_owned()),
                (false, true) => missing.push(Col::ReportingStarts.canonical().to_owned()),
                (false, false) => missing.push(Col::Day.canonical().to_owned()),
            }
        }
        missing
    }

    fn level(&self) -> ExportLevel {
        if self.has(Col::AdName) {
            ExportLevel::Ad
        } else {
            ExportLevel::Campaign
        }
    }

    /// The header and trimmed cell of `col` in `record`; `None` when the file
    /// has no such column (or the row is too short, reported separately).
    fn cell<'r>(&self, record: &'r ::csv::StringRecord, col: Col) -> Option<(&str, &'r str)> {
        let i = *self.index.get(&col)?;
        let cell = record.get(i)?.trim();
        Some((self.headers[i].as_str(), cell))
    }

    fn text<'r>(&self, record: &'r ::csv::StringRecord, col: Col) -> Option<&'r str> {
        self.cell(record, col)
            .map(|(_, c)| c)
            .filter(|c| !c.is_empty())
    }
}

// ------------------------------------------------------------------ cells

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberError {
    NotANumber,
    TooLarge,
}

/// A number in `style`; thousands groups, when used, must be of three digits.
fn parse_number(s: &str, style: NumberStyle) -> Result<Decimal, NumberError> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match body.split_once(style.decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mut digits = String::with_capacity(body.len() + 1);
    if negative {
        digits.push('-');
    }
    if int.contains(style.group) {
        let mut groups = int.split(style.group);
        let first = groups.next().unwrap_or_default();
        if !all_digits(first) || first.len() > 3 {
            return Err(NumberError::NotANumber);
        }
        digits.push_str(first);
        for g in groups {
            if g.len() != 3 || !all_digits(g) {
                return Err(NumberError::NotANumber);
            }
            digits.push_str(g);
        }
    } else if all_digits(int) {
        digits.push_str(int);
    } else {
        return Err(NumberError::NotANumber);
    }
    if let Some(f) = frac {
        if !all_digits(f) {
            return Err(NumberError::NotANumber);
        }
        digits.push('.');
        digits.push_str(f);
    }
    digits.parse::<Decimal>().map_err(|_| NumberError::TooLarge)
}

/// What the file's slash dates (`a/b/yyyy`) turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlashDates {
    /// Read in this order.
    Order(SlashOrder),
    /// Both orders fit every date and they differ for some: refused.
    Ambiguous,
    /// The language's order does not fit some date: refused.
    Contradicts(SlashOrder),
}

fn split_slash(s: &str) -> Option<(u8, u8, i32)> {
    let mut parts = s.split('/');
    let (a, b, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !(1..=2).contains(&a.len())
        || !(1..=2).contains(&b.len())
        || y.len() != 4
        || ![a, b, y]
            .iter()
            .all(|p| p.bytes().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?, y.parse().ok()?))
}

fn slash_date(order: SlashOrder, (a, b, y): (u8, u8, i32)) -> Option<Date> {
    let (day, month) = match order {
        SlashOrder::DayFirst => (a, b),
        SlashOrder::MonthFirst => (b, a),
    };
    Date::from_calendar_date(y, Month::try_from(month).ok()?, day).ok()
}

/// Decides the slash-date order of a file from all its slash dates.
fn decide_slash_dates(expected: SlashOrder, dates: &[(u8, u8, i32)]) -> SlashDates {
    let fits = |order| dates.iter().all(|d| slash_date(order, *d).is_some());
    if !fits(expected) {
        SlashDates::Contradicts(expected)
    } else if !fits(expected.swapped()) || dates.iter().all(|(a, b, _)| a == b) {
        SlashDates::Order(expected)
    } else {
        SlashDates::Ambiguous
    }
}

fn delivery_status(value: &str) -> Option<EntityStatus> {
    let key = fold(value).replace([' ', '-'], "_");
    LANGUAGES
        .iter()
        .flat_map(|l| l.delivery.iter())
        .find(|(label, _)| *label == key)
        .map(|(_, status)| *status)
}

fn is_total_label(name: &str) -> bool {
    let name = fold(name);
    name.is_empty()
        || LANGUAGES
            .iter()
            .flat_map(|l| l.total_labels.iter())
            .any(|t| fold(t) == name)
}

/// The action type of a Result indicator: `actions:lead` → `lead`.
fn indicator_action(indicator: &str) -> &str {
    indicator.rsplit(':').next().unwrap_or(indicator).trim()
}

// ------------------------------------------------------------------ rows

/// Reads the cells of one record, collecting problems.
struct RowReader<'a> {
    layout: &'a Layout,
    record: &'a ::csv::StringRecord,
    row: usize,
    slash: Option<SlashDates>,
    minor_units: u32,
    problems: Vec<RowProblem>,
}

impl RowReader<'_> {
    fn problem(&mut self, column: &str, reason: impl Into<String>) {
        self.problems.push(RowProblem {
            row: self.row,
            column: column.to_owned(),
            reason: reason.into(),
        });
    }

    fn text(&self, col: Col) -> Option<String> {
        self.layout.text(self.record, col).map(str::to_owned)
    }

    fn id(&mut self, col: Col) -> Option<String> {
        let (header, cell) = self.layout.cell(self.record, col)?;
        if cell.is_empty() {
            return None;
        }
        if !cell.bytes().all(|b| b.is_ascii_digit()) {
            self.problem(
                header,
                format!(
                    "'{cell}' is not a Meta ID (digits only); a spreadsheet may have rewritten it, export the CSV again"
                ),
            );
            return None;
        }
        Some(cell.to_owned())
    }

    fn number(&mut self, col: Col) -> Option<Decimal> {
        let layout = self.layout;
        let (header, cell) = layout.cell(self.record, col)?;
        if cell.is_empty() {
            return None;
        }
        let style = layout.language.numbers;
        match parse_number(cell, style) {
            Ok(d) if d.is_sign_negative() && !d.is_zero() => {
                self.problem(header, format!("'{cell}' must not be negative"));
                None
            }
            Ok(d) => Some(d),
            Err(NumberError::NotANumber) => {
                self.problem(
                    header,
                    format!(
                        "'{cell}' is not a number as written in {} exports (e.g. {})",
                        layout.language.name, style.example
                    ),
                );
                None
            }
            Err(NumberError::TooLarge) => {
                self.problem(header, format!("'{cell}' is too large"));
                None
            }
        }
    }

    /// A whole, non-negative count; 0 when empty, absent or bad (bad is a problem).
    fn count(&mut self, col: Col) -> i64 {
        let Some(d) = self.number(col) else {
            return 0;
        };
        let header = self.header(col);
        if !d.fract().is_zero() {
            self.problem(&header, format!("'{d}' must be a whole number"));
            return 0;
        }
        if let Ok(n) = i64::try_from(d) {
            n
        } else {
            self.problem(&header, format!("'{d}' is too large"));
            0
        }
    }

    /// Non-negative money rounded to the currency's minor units; 0 when empty,
    /// absent or bad (bad is a problem).
    fn money(&mut self, col: Col) -> Decimal {
        let Some(d) = self.number(col) else {
            return Decimal::ZERO;
        };
        let rounded =
            d.round_dp_with_strategy(self.minor_units, RoundingStrategy::MidpointAwayFromZero);
        if rounded > MAX_MONEY {
            let header = self.header(col);
            self.problem(&header, format!("'{d}' is too large"));
            return Decimal::ZERO;
        }
        rounded
    }

    fn header(&self, col: Col) -> String {
        self.layout
            .index
            .get(&col)
            .map(|i| self.layout.headers[*i].clone())
            .unwrap_or_default()
    }

    /// A required date.
    fn date(&mut self, col: Col) -> Option<Date> {
        let layout = self.layout;
        let (header, cell) = layout.cell(self.record, col)?;
        if cell.is_empty() {
            self.problem(header, "is empty; every row needs its day");
            return None;
        }
        if let Ok(d) = Date::parse(cell, format_description!("[year]-[month]-[day]")) {
            return Some(d);
        }
        let parsed = split_slash(cell).and_then(|parts| match self.slash {
            Some(SlashDates::Order(order)) => slash_date(order, parts),
            _ => None,
        });
        if parsed.is_some() {
            return parsed;
        }
        let reason = match (split_slash(cell), self.slash) {
            (Some(_), Some(SlashDates::Ambiguous)) => format!(
                "'{cell}' is ambiguous (day and month could be swapped in this file); export dates as YYYY-MM-DD"
            ),
            (Some(_), Some(SlashDates::Contradicts(order))) => format!(
                "'{cell}' does not fit the {} dates of {} exports; export dates as YYYY-MM-DD",
                order.pattern(),
                layout.language.name
            ),
            _ => format!("'{cell}' is not a date (expected YYYY-MM-DD)"),
        };
        self.problem(header, reason);
        None
    }
}

fn status_column(level: ExportLevel) -> Col {
    match level {
        ExportLevel::Ad => Col::AdDelivery,
        ExportLevel::Campaign => Col::CampaignDelivery,
    }
}

const IDENTITY: [Col; 5] = [
    Col::CampaignId,
    Col::AdSetName,
    Col::AdSetId,
    Col::AdName,
    Col::AdId,
];

/// Ads Manager's summary row: no campaign (or a total label) and no other identity.
fn is_summary(layout: &Layout, record: &::csv::StringRecord) -> bool {
    is_total_label(layout.text(record, Col::CampaignName).unwrap_or_default())
        && IDENTITY.iter().all(|c| layout.text(record, *c).is_none())
}

fn is_blank(record: &::csv::StringRecord) -> bool {
    record.iter().all(|c| c.trim().is_empty())
}

/// The field separator: the most frequent of `,`, `;` and tab on the header line.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| (header.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

/// Parses one Ads Manager "Export table data" CSV file into daily rows.
///
/// `account_currency` is the ad account's (money is rounded to its minor
/// units and a file in another currency is refused); `result` is the
/// account's result action (which column counts as conversions).
///
/// # Errors
/// [`CsvImportError::NotCsv`] for bytes that are not UTF-8 CSV text;
/// [`CsvImportError::Empty`] without data rows;
/// [`CsvImportError::MissingColumns`] without a required column;
/// [`CsvImportError::CurrencyMismatch`] for a file in another currency;
/// [`CsvImportError::Rows`] with every bad row otherwise.
pub fn parse_ads_manager_csv(
    bytes: &[u8],
    account_currency: Currency,
    result: &ResultAction,
) -> Result<ParsedExport, CsvImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(CsvImportError::NotCsv(
            "the file is binary, not text; upload the CSV from Ads Manager's Export table data"
                .into(),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        CsvImportError::NotCsv(
            "the file is not UTF-8 text; export it again as CSV (UTF-8) from Ads Manager".into(),
        )
    })?;
    if text.trim().is_empty() {
        return Err(CsvImportError::Empty);
    }

    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let layout = Layout::read(
        reader
            .headers()
            .map_err(|e| CsvImportError::NotCsv(e.to_string()))?,
    );
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| CsvImportError::NotCsv(e.to_string()))?;
        if is_blank(&record) {
            continue;
        }
        let line = record
            .position()
            .and_then(|p| usize::try_from(p.line()).ok())
            .unwrap_or(0);
        records.push((line, record));
    }

    let missing = layout.missing();
    if !missing.is_empty() {
        return Err(CsvImportError::MissingColumns(missing));
    }
    if let Some(file) = layout
        .currency
        .filter(|c| *c != account_currency)
        .or(layout.other_currency)
    {
        return Err(CsvImportError::CurrencyMismatch {
            file: file.as_str().to_owned(),
            account: account_currency.as_str().to_owned(),
        });
    }

    // Summary rows: the first or the last data row only.
    let last = records.len().saturating_sub(1);
    let data: Vec<&(usize, ::csv::StringRecord)> = records
        .iter()
        .enumerate()
        .filter(|(i, (_, r))| !((*i == 0 || *i == last) && is_summary(&layout, r)))
        .map(|(_, r)| r)
        .collect();
    if data.is_empty() {
        return Err(CsvImportError::Empty);
    }

    let date_cols = [Col::Day, Col::ReportingStarts, Col::ReportingEnds];
    let slash_parts: Vec<(u8, u8, i32)> = data
        .iter()
        .flat_map(|(_, r)| date_cols.iter().filter_map(|c| layout.text(r, *c)))
        .filter_map(split_slash)
        .collect();
    let slash = (!slash_parts.is_empty())
        .then(|| decide_slash_dates(layout.language.slash_dates, &slash_parts));

    let level = layout.level();
    let purchases_are_result = *result == ResultAction::purchases();
    let mut problems = Vec::new();
    let mut rows = Vec::with_capacity(data.len());
    let mut seen: HashMap<(Date, String, String, String), usize> = HashMap::new();

    for (line, record) in data {
        let mut r = RowReader {
            layout: &layout,
            record,
            row: *line,
            slash,
            minor_units: account_currency.minor_units(),
            problems: Vec::new(),
        };
        if record.len() != layout.headers.len() {
            let reason = if record.len() > layout.headers.len() {
                format!(
                    "has {} cells but the header has {}; is a name with a comma not quoted?",
                    record.len(),
                    layout.headers.len()
                )
            } else {
                format!(
                    "has {} cells but the header has {}",
                    record.len(),
                    layout.headers.len()
                )
            };
            r.problem("", reason);
            problems.append(&mut r.problems);
            continue;
        }
        if let Some(row) = read_row(&mut r, level, result, purchases_are_result) {
            let key = (
                row.date,
                row.campaign_external_id
                    .clone()
                    .unwrap_or_else(|| row.campaign_name.clone()),
                row.ad_set_external_id
                    .clone()
                    .or_else(|| row.ad_set_name.clone())
                    .unwrap_or_default(),
                row.ad_external_id
                    .clone()
                    .or_else(|| row.ad_name.clone())
                    .unwrap_or_default(),
            );
            if let Some(first) = seen.get(&key) {
                r.problem(
                    "",
                    format!(
                        "repeats row {first} (same day and campaign/ad set/ad); export without other breakdowns, or with the ID columns"
                    ),
                );
            } else {
                seen.insert(key, row.row);
                rows.push(row);
            }
        }
        problems.append(&mut r.problems);
    }

    if !problems.is_empty() {
        return Err(CsvImportError::Rows(problems));
    }
    Ok(ParsedExport {
        currency: layout.currency,
        level,
        rows,
    })
}

/// One data row; `None` when it has problems (recorded in `r`).
fn read_row(
    r: &mut RowReader<'_>,
    level: ExportLevel,
    result: &ResultAction,
    purchases_are_result: bool,
) -> Option<ImportedRow> {
    let layout = r.layout;
    let before = r.problems.len();

    let campaign_name = r.text(Col::CampaignName);
    if campaign_name.is_none() {
        let header = r.header(Col::CampaignName);
        r.problem(&header, "is empty; every row needs its campaign");
    }
    let campaign_external_id = r.id(Col::CampaignId);
    let ad_set_external_id = r.id(Col::AdSetId);
    let ad_external_id = r.id(Col::AdId);
    let ad_set_name = r.text(Col::AdSetName);
    let ad_name = r.text(Col::AdName);
    if level == ExportLevel::Ad && ad_name.is_none() && ad_external_id.is_none() {
        let header = r.header(Col::AdName);
        r.problem(
            &header,
            "is empty; every row of an ad-level export needs its ad",
        );
    }

    let date = if layout.has(Col::Day) {
        r.date(Col::Day)
    } else {
        let starts = r.date(Col::ReportingStarts);
        let ends = r.date(Col::ReportingEnds);
        match (starts, ends) {
            (Some(s), Some(e)) if s == e => Some(s),
            (Some(s), Some(e)) => {
                let header = r.header(Col::ReportingEnds);
                r.problem(
                    &header,
                    format!("covers {s} to {e}; export with the breakdown By Time → Day"),
                );
                None
            }
            _ => None,
        }
    };

    let status = r
        .text(status_column(level))
        .and_then(|v| delivery_status(&v));
    let impressions = r.count(Col::Impressions);
    let link_clicks = r.count(Col::LinkClicks);
    let clicks = if layout.has(Col::ClicksAll) {
        r.count(Col::ClicksAll)
    } else {
        link_clicks
    };
    let spend = r.money(Col::AmountSpent);
    let conversions = if purchases_are_result && layout.has(Col::Purchases) {
        r.count(Col::Purchases)
    } else if r
        .text(Col::ResultIndicator)
        .is_some_and(|i| result.aliases().iter().any(|a| a == indicator_action(&i)))
    {
        r.count(Col::Results)
    } else {
        0
    };
    let revenue = if purchases_are_result {
        r.money(Col::PurchasesValue)
    } else {
        Decimal::ZERO
    };

    if r.problems.len() > before {
        return None;
    }
    Some(ImportedRow {
        row: r.row,
        date: date?,
        campaign_external_id,
        campaign_name: campaign_name?,
        ad_set_external_id,
        ad_set_name,
        ad_external_id,
        ad_name,
        status,
        totals: KpiTotals {
            impressions,
            clicks,
            link_clicks,
            spend,
            conversions,
            revenue,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use time::macros::date;

    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/csv/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn parse_with(
        text: &str,
        account: &str,
        result: &ResultAction,
    ) -> Result<ParsedExport, CsvImportError> {
        parse_ads_manager_csv(text.as_bytes(), currency(account), result)
    }

    /// A BRL account counting purchases.
    fn parse(text: &str) -> Result<ParsedExport, CsvImportError> {
        parse_with(text, "BRL", &ResultAction::purchases())
    }

    fn ok(text: &str) -> ParsedExport {
        parse(text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn problems(res: Result<ParsedExport, CsvImportError>) -> Vec<RowProblem> {
        match res {
            Err(CsvImportError::Rows(p)) => p,
            other => panic!("expected row problems, got {other:?}"),
        }
    }

    fn totals(
        impressions: i64,
        clicks: i64,
        link_clicks: i64,
        spend: &str,
        conversions: i64,
        revenue: &str,
    ) -> KpiTotals {
        KpiTotals {
            impressions,
            clicks,
            link_clicks,
            spend: d(spend),
            conversions,
            revenue: d(revenue),
        }
    }

    fn campaign_row(
        row: usize,
        name: &str,
        status: EntityStatus,
        totals: KpiTotals,
    ) -> ImportedRow {
        ImportedRow {
            row,
            date: date!(2026 - 10 - 01),
            campaign_external_id: None,
            campaign_name: name.to_owned(),
            ad_set_external_id: None,
            ad_set_name: None,
            ad_external_id: None,
            ad_name: None,
            status: Some(status),
            totals,
        }
    }

    const EN_HEADER: &str =
        "Campaign name,Amount spent (BRL),Impressions,Link clicks,Reporting starts,Reporting ends";

    #[test]
    fn csv_en_and_ptbr_daily_variants_parse_to_identical_rows_with_hand_checked_totals() {
        let en = ok(&fixture("ads_manager_export_daily_en.csv"));
        let pt = ok(&fixture("ads_manager_export_daily_ptbr.csv"));
        assert_eq!(en, pt);
        assert_eq!(en.currency, Some(currency("BRL")));
        assert_eq!(en.level, ExportLevel::Campaign);
        // Purchases account: only the fb_pixel_purchase row counts its Results.
        let expected = vec![
            campaign_row(
                2,
                "Leads | Formulário | BR",
                EntityStatus::Active,
                totals(48210, 960, 960, "1250.40", 0, "0"),
            ),
            campaign_row(
                3,
                "Vendas | Catálogo | Remarketing",
                EntityStatus::Active,
                totals(30512, 310, 310, "640.00", 9, "0"),
            ),
            campaign_row(
                4,
                "Mensagens | WhatsApp | Lookalike",
                EntityStatus::Paused,
                totals(22340, 402, 402, "440.80", 0, "0"),
            ),
            campaign_row(
                5,
                "Tráfego | Blog, Conteúdo",
                EntityStatus::Active,
                totals(8120, 133, 133, "95.15", 0, "0"),
            ),
        ];
        assert_eq!(en.rows, expected);
    }

    #[test]
    fn csv_seven_day_fixture_is_rejected_with_one_problem_per_row() {
        for (file, column) in [
            ("ads_manager_export_en.csv", "Reporting ends"),
            ("ads_manager_export_ptbr.csv", "Término dos relatórios"),
        ] {
            let p = problems(parse(&fixture(file)));
            assert_eq!(
                p.iter().map(|p| p.row).collect::<Vec<_>>(),
                [2, 3, 4, 5],
                "{file}"
            );
            for problem in &p {
                assert_eq!(problem.column, column);
                assert_eq!(
                    problem.reason,
                    "covers 2026-10-01 to 2026-10-07; export with the breakdown By Time → Day"
                );
            }
        }
    }

    #[test]
    fn csv_missing_amount_spent_and_impressions_are_both_listed() {
        let en =
            "Campaign name,Reach,Reporting starts,Reporting ends\nA,10,2026-10-01,2026-10-01\n";
        let pt = "Nome da campanha,Alcance,Dia\nA,10,2026-10-01\n";
        for text in [en, pt] {
            assert_eq!(
                parse(text),
                Err(CsvImportError::MissingColumns(vec![
                    "Amount spent".into(),
                    "Impressions".into()
                ]))
            );
        }
    }

    #[test]
    fn csv_missing_dates_ask_for_day_or_the_missing_reporting_bound() {
        let none = "Campaign name,Amount spent,Impressions\nA,1,1\n";
        assert_eq!(
            parse(none),
            Err(CsvImportError::MissingColumns(vec!["Day".into()]))
        );
        let starts_only =
            "Campaign name,Amount spent,Impressions,Reporting starts\nA,1,1,2026-10-01\n";
        assert_eq!(
            parse(starts_only),
            Err(CsvImportError::MissingColumns(vec![
                "Reporting ends".into()
            ]))
        );
        let nothing = "foo,bar\n1,2\n";
        assert_eq!(
            parse(nothing),
            Err(CsvImportError::MissingColumns(vec![
                "Campaign name".into(),
                "Amount spent".into(),
                "Impressions".into(),
                "Day".into()
            ]))
        );
    }

    #[test]
    fn csv_unknown_columns_are_ignored() {
        let base = fixture("ads_manager_export_daily_en.csv");
        let widened: String = base
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    format!("Frequency,{l},Quality ranking,Cost per 1000 (USD-ish)\n")
                } else {
                    format!("2.29,{l},Above average,n/a\n")
                }
            })
            .collect();
        assert_eq!(ok(&widened), ok(&base));
    }

    #[test]
    fn csv_header_matching_ignores_case_spacing_accents_and_currency() {
        let text = "  CAMPAIGN   NAME ,amount spent (brl),IMPRESSOES,cliques no link,dia\nA,\"1,5\",10,2,2026-10-01\n";
        let parsed = ok(text);
        assert_eq!(
            parsed.currency, None,
            "a lower-case suffix is not a currency"
        );
        // Three of five headers are pt-BR: comma decimals.
        assert_eq!(parsed.rows[0].totals, totals(10, 2, 2, "1.50", 0, "0"));
    }

    #[test]
    fn csv_a_bad_number_in_row_3_names_row_3_and_the_column() {
        let text = fixture("ads_manager_export_daily_en.csv").replace(",640.00,", ",640;00,");
        let p = problems(parse(&text));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].row, 3);
        assert_eq!(p[0].column, "Amount spent (BRL)");
        assert!(
            p[0].reason.contains("'640;00' is not a number"),
            "{}",
            p[0].reason
        );
    }

    #[test]
    fn csv_all_bad_rows_are_reported_not_just_the_first() {
        let text = fixture("ads_manager_export_daily_ptbr.csv")
            .replace("\"640,00\"", "\"640.00\"") // an English number in a pt-BR file
            .replace(",22340,", ",-22340,")
            .replace(",8120,", ",\"8120,5\",");
        let p = problems(parse(&text));
        let got: Vec<(usize, &str)> = p.iter().map(|p| (p.row, p.column.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "Valor usado (BRL)"),
                (4, "Impressões"),
                (5, "Impressões")
            ]
        );
        assert!(
            p[1].reason.contains("must not be negative"),
            "{}",
            p[1].reason
        );
        assert!(p[2].reason.contains("whole number"), "{}", p[2].reason);
    }

    #[test]
    fn csv_numbers_follow_the_header_language_with_thousands_separators() {
        let en =
            format!("{EN_HEADER}\nA,\"1,234.56\",\"1,048,576\",\"1,000\",2026-10-01,2026-10-01\n");
        let t = ok(&en).rows[0].totals;
        assert_eq!(t, totals(1_048_576, 1000, 1000, "1234.56", 0, "0"));

        let pt = "Nome da campanha;Valor usado (BRL);Impressões;Cliques no link;Dia\nA;1.234,56;1.048.576;1.000;2026-10-01\n";
        assert_eq!(ok(pt).rows[0].totals, t, "semicolon-separated pt-BR");

        // A group that is not three digits is refused rather than misread.
        let bad = format!("{EN_HEADER}\nA,\"1250,40\",10,1,2026-10-01,2026-10-01\n");
        assert_eq!(problems(parse(&bad))[0].column, "Amount spent (BRL)");
    }

    #[test]
    fn csv_empty_cells_are_zero_and_money_rounds_half_away_from_zero() {
        let header = "Campaign name,Amount spent,Impressions,Purchases conversion value,Day";
        let text = format!("{header}\nA,0.125,,0.135,2026-10-01\n");
        let t = ok(&text).rows[0].totals;
        assert_eq!(t, totals(0, 0, 0, "0.13", 0, "0.14"));

        let yen = format!("{header}\nA,1250.5,3,,2026-10-01\n");
        let t = parse_with(&yen, "JPY", &ResultAction::purchases())
            .unwrap()
            .rows[0]
            .totals;
        assert_eq!(t.spend, d("1251"));

        let dinar = format!("{header}\nA,1.2345,3,,2026-10-01\n");
        let t = parse_with(&dinar, "KWD", &ResultAction::purchases())
            .unwrap()
            .rows[0]
            .totals;
        assert_eq!(t.spend, d("1.235"));
    }

    #[test]
    fn csv_purchase_indicator_counts_as_conversions_only_for_the_purchase_alias() {
        let text = fixture("ads_manager_export_daily_en.csv");
        let conversions = |result: &ResultAction| -> Vec<i64> {
            parse_with(&text, "BRL", result)
                .unwrap()
                .rows
                .iter()
                .map(|r| r.totals.conversions)
                .collect()
        };
        assert_eq!(conversions(&ResultAction::purchases()), [0, 9, 0, 0]);
        assert_eq!(
            conversions(&ResultAction::custom("onsite_conversion.lead_grouped")),
            [42, 0, 0, 0]
        );
        assert_eq!(conversions(&ResultAction::custom("lead")), [0, 0, 0, 0]);
    }

    #[test]
    fn csv_ad_level_exports_read_ids_clicks_all_and_purchases() {
        let en = ok(&fixture("ads_manager_export_ad_daily_en.csv"));
        let pt = ok(&fixture("ads_manager_export_ad_daily_ptbr.csv"));
        assert_eq!(en, pt);
        assert_eq!(en.level, ExportLevel::Ad);
        assert_eq!(en.currency, Some(currency("BRL")));
        let first = ImportedRow {
            row: 2,
            date: date!(2026 - 10 - 01),
            campaign_external_id: Some("120210000000000001".into()),
            campaign_name: "Vendas | Catálogo | Remarketing".into(),
            ad_set_external_id: Some("120210000000000101".into()),
            ad_set_name: Some("Remarketing 30d".into()),
            ad_external_id: Some("120210000000001001".into()),
            ad_name: Some("Carrossel, outubro".into()),
            status: Some(EntityStatus::Active),
            totals: totals(51234, 1890, 1021, "1234.56", 12, "4321.09"),
        };
        assert_eq!(en.rows[0], first);
        assert_eq!(en.rows[1].date, date!(2026 - 10 - 02));
        assert_eq!(
            en.rows[1].totals,
            totals(40110, 1502, 833, "987.65", 7, "2510.00")
        );
        assert_eq!(en.rows[2].ad_name.as_deref(), Some("Vídeo 15s"));
        assert_eq!(en.rows[2].status, Some(EntityStatus::Paused));
        assert_eq!(en.rows[2].totals, totals(2100, 40, 18, "45.30", 0, "0"));

        // The Purchases columns are the purchase action: a lead account ignores them.
        let lead = parse_with(
            &fixture("ads_manager_export_ad_daily_en.csv"),
            "BRL",
            &ResultAction::custom("lead"),
        )
        .unwrap();
        assert_eq!(
            lead.rows[0].totals,
            totals(51234, 1890, 1021, "1234.56", 0, "0")
        );
    }

    #[test]
    fn csv_currency_mismatch_is_rejected() {
        let res = parse_with(
            &fixture("ads_manager_export_daily_en.csv"),
            "USD",
            &ResultAction::purchases(),
        );
        assert_eq!(
            res,
            Err(CsvImportError::CurrencyMismatch {
                file: "BRL".into(),
                account: "USD".into()
            })
        );
        let mixed =
            "Campaign name,Amount spent (BRL),Impressions,CPM (USD),Day\nA,1,1,1,2026-10-01\n";
        assert!(matches!(
            parse(mixed),
            Err(CsvImportError::CurrencyMismatch { file, .. }) if file == "USD"
        ));
    }

    #[test]
    fn csv_bom_and_a_trailing_total_row_are_handled() {
        let base = fixture("ads_manager_export_daily_en.csv");
        let with_bom = format!(
            "\u{feff}{base},,,,,2426.35,109182,55497,1805,1.34424,1.65320,2026-10-01,2026-10-01\n"
        );
        assert_eq!(ok(&with_bom), ok(&base));
        let labelled =
            format!("\u{feff}{base}Total,,,,,2426.35,109182,,1805,,,2026-10-01,2026-10-01\n");
        assert_eq!(ok(&labelled), ok(&base));
        // Ads Manager may also put the summary first.
        let (header, rows) = base.split_once('\n').unwrap();
        let leading =
            format!("{header}\n,,,,,2426.35,109182,55497,1805,,,2026-10-01,2026-10-01\n{rows}");
        let parsed = ok(&leading);
        assert_eq!(parsed.rows.len(), 4);
        assert_eq!(parsed.rows[0].row, 3);
    }

    #[test]
    fn csv_an_empty_campaign_name_inside_the_file_is_a_problem() {
        let text = format!(
            "{EN_HEADER}\nA,1,1,1,2026-10-01,2026-10-01\n,2,2,2,2026-10-01,2026-10-01\nC,3,3,3,2026-10-01,2026-10-01\n"
        );
        let p = problems(parse(&text));
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].row, p[0].column.as_str()), (3, "Campaign name"));
    }

    #[test]
    fn csv_quoted_names_with_commas_are_kept() {
        let parsed = ok(&fixture("ads_manager_export_daily_ptbr.csv"));
        assert_eq!(parsed.rows[3].campaign_name, "Tráfego | Blog, Conteúdo");
        // Unquoted, the comma shifts every column: the row is refused whole.
        let text = fixture("ads_manager_export_daily_en.csv")
            .replace("\"Tráfego | Blog, Conteúdo\"", "Tráfego | Blog, Conteúdo");
        let p = problems(parse(&text));
        assert_eq!((p[0].row, p[0].column.as_str()), (5, ""));
        assert!(p[0].reason.contains("14 cells"), "{}", p[0].reason);
    }

    #[test]
    fn csv_empty_and_non_csv_input_are_refused() {
        assert_eq!(parse(""), Err(CsvImportError::Empty));
        assert_eq!(parse("\u{feff}\n\n"), Err(CsvImportError::Empty));
        assert_eq!(parse(&format!("{EN_HEADER}\n")), Err(CsvImportError::Empty));
        assert_eq!(
            parse(&format!("{EN_HEADER}\n,10,10,10,2026-10-01,2026-10-01\n")),
            Err(CsvImportError::Empty),
            "only a summary row"
        );
        let latin1 = b"Campaign name,Amount spent,Impressions,Day\nTr\xe1fego,1,1,2026-10-01\n";
        assert!(matches!(
            parse_ads_manager_csv(latin1, currency("BRL"), &ResultAction::purchases()),
            Err(CsvImportError::NotCsv(_))
        ));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(matches!(
            parse_ads_manager_csv(png, currency("BRL"), &ResultAction::purchases()),
            Err(CsvImportError::NotCsv(_))
        ));
    }

    #[test]
    fn csv_slash_dates_are_read_only_when_unambiguous() {
        let pt =
            "Nome da campanha,Valor usado,Impressões,Dia\nA,1,1,31/10/2026\nA,1,1,01/10/2026\n";
        let dates: Vec<Date> = ok(pt).rows.iter().map(|r| r.date).collect();
        assert_eq!(dates, [date!(2026 - 10 - 31), date!(2026 - 10 - 01)]);

        let en = "Campaign name,Amount spent,Impressions,Day\nA,1,1,10/31/2026\nA,1,1,10/01/2026\n";
        let dates: Vec<Date> = ok(en).rows.iter().map(|r| r.date).collect();
        assert_eq!(dates, [date!(2026 - 10 - 31), date!(2026 - 10 - 01)]);

        let same_both_ways = "Campaign name,Amount spent,Impressions,Day\nA,1,1,05/05/2026\n";
        assert_eq!(ok(same_both_ways).rows[0].date, date!(2026 - 05 - 05));

        let ambiguous =
            "Campaign name,Amount spent,Impressions,Day\nA,1,1,10/01/2026\nA,1,1,10/02/2026\n";
        let p = problems(parse(ambiguous));
        assert_eq!(p.len(), 2);
        assert!(p[0].reason.contains("ambiguous"), "{}", p[0].reason);

        let day_first_in_english = "Campaign name,Amount spent,Impressions,Day\nA,1,1,31/10/2026\n";
        let p = problems(parse(day_first_in_english));
        assert!(p[0].reason.contains("MM/DD/YYYY"), "{}", p[0].reason);

        let garbage = "Campaign name,Amount spent,Impressions,Day\nA,1,1,Oct 1\nA,1,1,\n";
        let p = problems(parse(garbage));
        assert_eq!(p.iter().map(|p| p.row).collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn csv_day_wins_over_the_reporting_range() {
        let text = "Day,Campaign name,Amount spent,Impressions,Reporting starts,Reporting ends\n2026-10-03,A,1,1,2026-10-01,2026-10-07\n";
        assert_eq!(ok(text).rows[0].date, date!(2026 - 10 - 03));
    }

    #[test]
    fn csv_delivery_maps_to_status_at_the_row_level() {
        let text = "Campaign name,Campaign delivery,Amount spent,Impressions,Day\n\
                    A,active,1,1,2026-10-01\nB,Not delivering,1,1,2026-10-01\nC,ARCHIVED,1,1,2026-10-01\n\
                    D,Excluído,1,1,2026-10-01\nE,in_review,1,1,2026-10-01\nF,,1,1,2026-10-01\n";
        let statuses: Vec<Option<EntityStatus>> = ok(text).rows.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [
                Some(EntityStatus::Active),
                Some(EntityStatus::Paused),
                Some(EntityStatus::Archived),
                Some(EntityStatus::Deleted),
                None,
                None
            ]
        );
        // At ad level the ad's delivery is the status, not the campaign's.
        let ad = "Campaign name,Campaign delivery,Ad name,Ad delivery,Amount spent,Impressions,Day\n\
                  A,active,X,inactive,1,1,2026-10-01\n";
        let parsed = ok(ad);
        assert_eq!(parsed.level, ExportLevel::Ad);
        assert_eq!(parsed.rows[0].status, Some(EntityStatus::Paused));
    }

    #[test]
    fn csv_the_same_day_and_entity_twice_is_a_problem() {
        let text = "Campaign name,Age,Amount spent,Impressions,Day\n\
                    A,18-24,1,1,2026-10-01\nA,25-34,1,1,2026-10-01\nA,18-24,1,1,2026-10-02\n";
        let p = problems(parse(text));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].row, 3);
        assert!(p[0].reason.contains("repeats row 2"), "{}", p[0].reason);
    }

    #[test]
    fn csv_ids_mangled_by_a_spreadsheet_are_problems() {
        let text = "Campaign name,Campaign ID,Amount spent,Impressions,Day\nA,1.20210E+17,1,1,2026-10-01\n";
        let p = problems(parse(text));
        assert_eq!((p[0].row, p[0].column.as_str()), (2, "Campaign ID"));
    }

    #[test]
    fn csv_line_numbers_count_the_header_as_line_1_and_skip_blank_lines() {
        let text = format!(
            "{EN_HEADER}\n\nA,1,1,1,2026-10-01,2026-10-01\n,,,,,\nB,x,1,1,2026-10-01,2026-10-01\n"
        );
        let p = problems(parse(&text));
        assert_eq!(p[0].row, 5);
    }

    #[test]
    fn csv_every_language_names_every_column() {
        for language in LANGUAGES {
            for col in Col::ALL {
                assert!(
                    language.columns.iter().any(|(c, _)| *c == col),
                    "{} lacks {col:?}",
                    language.name
                );
            }
        }
        assert_eq!(
            Col::PurchasesValue.canonical(),
            "Purchases conversion value"
        );
    }
}
