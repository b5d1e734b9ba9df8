//! Reports: the renderer-agnostic document a report is (title, summary
//! figures, typed tables, line charts over days) and the port that turns one
//! into CSV, XLSX or PDF bytes.
//!
//! Owns what a report says and how its values are written as text
//! ([`Cell::to_text`]), so every format shows the same figures. Never reads
//! the database, never computes KPIs (the caller fills the document from
//! [`crate::kpi`]) and never decides when a report is sent: building the
//! document, scheduling and delivery live elsewhere.
//!
//! Numbers are typed by their column: money at [`MONEY_DP`] places, percentages
//! and ratios at [`RATIO_DISPLAY_DP`], counts as integers. A value that does
//! not exist (CPA without conversions) is [`Cell::Empty`], never 0.

use rust_decimal::{Decimal, RoundingStrategy};
use time::{Date, OffsetDateTime};

pub use crate::kpi::MONEY_DP;
use crate::rules::wire_enum;

/// Decimal places shown for percentages and ratios (CTR `1.89`, ROAS `4.00`).
pub const RATIO_DISPLAY_DP: u32 = 2;

wire_enum! {
    /// Which report: what it compares and over which days.
    ReportKind, "kind" {
        /// One day against the day before and the 7-day average.
        Daily => "daily",
        /// One ISO week against the one before, per campaign.
        Weekly => "weekly",
        /// A month or a custom range: totals, budget use, campaigns.
        Executive => "executive",
    }
}

wire_enum! {
    /// A report file format; the wire name is also the file extension.
    ReportFormat, "report format" {
        /// RFC 4180 text, UTF-8 with a byte order mark so Excel reads it as UTF-8.
        Csv => "csv",
        /// An Office Open XML workbook with typed cells and charts.
        Xlsx => "xlsx",
        /// A laid-out document: title page, tables, charts.
        Pdf => "pdf",
    }
}

impl ReportFormat {
    /// The `Content-Type` to serve the rendered bytes with.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pdf => "application/pdf",
        }
    }

    /// File name extension, without the dot.
    #[must_use]
    pub const fn extension(self) -> &'static str {
        self.as_str()
    }
}

/// What a column holds, which decides how its cells are typed and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Free text (campaign names); cells are [`Cell::Text`].
    Text,
    /// A calendar day; cells are [`Cell::Date`], written `YYYY-MM-DD`.
    Date,
    /// A count (impressions, clicks, conversions); cells are [`Cell::Integer`].
    Integer,
    /// An amount in the document's currency; cells are [`Cell::Number`],
    /// written at [`MONEY_DP`] places.
    Money,
    /// Percentage points as KPI math gives them (CTR `1.8868` means 1.8868 %);
    /// cells are [`Cell::Number`], written at [`RATIO_DISPLAY_DP`] places.
    Percent,
    /// A plain ratio (ROAS `4.0034`); cells are [`Cell::Number`], written at
    /// [`RATIO_DISPLAY_DP`] places.
    Ratio,
}

impl ColumnKind {
    /// Decimal places a number of this kind is written with.
    #[must_use]
    pub const fn decimals(self) -> u32 {
        match self {
            Self::Money => MONEY_DP,
            Self::Percent | Self::Ratio => RATIO_DISPLAY_DP,
            Self::Text | Self::Date | Self::Integer => 0,
        }
    }

    /// Whether values of this kind are numbers (right-aligned, summable).
    #[must_use]
    pub const fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::Integer | Self::Money | Self::Percent | Self::Ratio
        )
    }

    /// Whether `cell` may stand in a column of this kind. [`Cell::Empty`]
    /// fits every kind.
    #[must_use]
    pub const fn accepts(self, cell: &Cell) -> bool {
        matches!(
            (self, cell),
            (_, Cell::Empty)
                | (Self::Text, Cell::Text(_))
                | (Self::Date, Cell::Date(_))
                | (Self::Integer, Cell::Integer(_))
                | (Self::Money | Self::Percent | Self::Ratio, Cell::Number(_))
        )
    }
}

/// One typed value of a table or a summary figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// No value (CPA without conversions): an empty CSV field, a blank
    /// spreadsheet cell, a dash in the PDF.
    Empty,
    /// Free text, written as given (CSV guards formula-like text).
    Text(String),
    /// A calendar day.
    Date(Date),
    /// A count.
    Integer(i64),
    /// Money, a percentage or a ratio, as the column says.
    Number(Decimal),
}

impl Cell {
    /// [`Cell::Number`] when there is a value, [`Cell::Empty`] otherwise: the
    /// shape KPI ratios come in (`Kpis::cpa` is `None` without conversions).
    #[must_use]
    pub fn number(value: Option<Decimal>) -> Self {
        value.map_or(Self::Empty, Self::Number)
    }

    /// The value as text, the one formatter every renderer uses.
    ///
    /// [`TextStyle::Data`] is for machines (CSV): no thousands separator, no
    /// `%` sign, an empty string for [`Cell::Empty`].
    /// [`TextStyle::Display`] is for people (PDF): thousands grouped, `%`
    /// after percentages, an en dash for [`Cell::Empty`]. Dates are
    /// `YYYY-MM-DD` in both. Numbers are rounded half away from zero to
    /// [`ColumnKind::decimals`] places and keep their trailing zeros.
    #[must_use]
    pub fn to_text(&self, kind: ColumnKind, sep: DecimalSeparator, style: TextStyle) -> String {
        let grouped = style == TextStyle::Display;
        match self {
            Self::Empty => match style {
                TextStyle::Data => String::new(),
                TextStyle::Display => "\u{2013}".to_owned(),
            },
            Self::Text(s) => s.clone(),
            Self::Date(d) => iso_date(*d),
            Self::Integer(i) => format_decimal(Decimal::from(*i), 0, sep, grouped),
            Self::Number(v) => {
                let text = format_decimal(*v, kind.decimals(), sep, grouped);
                if kind == ColumnKind::Percent && grouped {
                    format!("{text}%")
                } else {
                    text
                }
            }
        }
    }
}

/// How [`Cell::to_text`] writes a value: for a machine or for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextStyle {
    /// Parseable back (CSV).
    Data,
    /// Read by people (PDF).
    Display,
}

/// `YYYY-MM-DD`, the one date form in text outputs.
#[must_use]
pub fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `2026-W47` for the ISO week holding `d`, the one week form in text
/// outputs and the API.
#[must_use]
pub fn iso_week_label(d: Date) -> String {
    let (year, week, _) = d.to_iso_week_date();
    format!("{year}-W{week:02}")
}

/// Writes `value` rounded half away from zero to `dp` places, trailing zeros
/// kept, with `sep`'s decimal mark; groups thousands with `sep`'s group mark
/// when `grouped` (`1,234.56` / `1.234,56`), never otherwise (`1234,56`).
#[must_use]
pub fn format_decimal(value: Decimal, dp: u32, sep: DecimalSeparator, grouped: bool) -> String {
    let mut r = value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    if r.is_zero() {
        // -0.004 rounds to "-0.00"; nobody wants to read that.
        r.set_sign_positive(true);
    }
    let text = r.to_string();
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3 + 1);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if grouped && i > 0 && (int.len() - i) % 3 == 0 {
            out.push(sep.group_mark());
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push(sep.decimal_mark());
        out.push_str(f);
    }
    out
}

/// A column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub header: String,
    pub kind: ColumnKind,
}

impl Column {
    #[must_use]
    pub fn new(header: impl Into<String>, kind: ColumnKind) -> Self {
        Self {
            header: header.into(),
            kind,
        }
    }
}

/// A titled table; every row has one cell per column, fitting its kind
/// ([`ReportDocument::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// A headline number of the summary ("Spend", "CPA").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub label: String,
    pub kind: ColumnKind,
    pub value: Cell,
}

impl Figure {
    #[must_use]
    pub fn new(label: impl Into<String>, kind: ColumnKind, value: Cell) -> Self {
        Self {
            label: label.into(),
            kind,
            value,
        }
    }
}

/// Which y axis a series is read against. Series of very different sizes
/// (spend in the thousands, CPA in the tens) go on different axes, or the
/// smaller one is a flat line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Axis {
    #[default]
    Left,
    Right,
}

/// One line of a [`Chart`]: a value per day of the chart's x axis, `None`
/// where there is none (a gap in the line, not a drop to zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    /// How the values are formatted on their axis ([`ColumnKind::Money`],
    /// [`ColumnKind::Ratio`], …); series sharing an axis should share a kind.
    pub kind: ColumnKind,
    pub axis: Axis,
    pub values: Vec<Option<Decimal>>,
}

/// A line chart over days (spend and CPA over time), with a left and, when
/// a series asks for it, a right y axis. Each axis is labelled in the kind
/// of its first series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub title: String,
    /// The days, in order; each series has one value per day.
    pub x: Vec<Date>,
    pub series: Vec<Series>,
}

impl Chart {
    /// The series read against `axis`, in order.
    pub fn series_on(&self, axis: Axis) -> impl Iterator<Item = &Series> {
        self.series.iter().filter(move |s| s.axis == axis)
    }
}

/// A report, independent of its file format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDocument {
    pub title: String,
    /// Account name and date range, e.g. `"Acme Brasil · 2026-11-23 – 2026-11-29"`.
    pub subtitle: String,
    /// ISO 4217 code of every money value (`"BRL"`).
    pub currency: String,
    /// When the figures were taken (UTC); shown on the report, never "now".
    pub generated_at: OffsetDateTime,
    pub summary: Vec<Figure>,
    pub tables: Vec<Table>,
    pub charts: Vec<Chart>,
}

/// Why a document cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A table without columns.
    #[error("table \"{table}\" has no columns")]
    NoColumns { table: String },
    /// A row with more or fewer cells than the table has columns.
    #[error("table \"{table}\", row {row}: {found} cells for {expected} columns")]
    RowWidth {
        table: String,
        /// 1-based, as a person counts data rows.
        row: usize,
        expected: usize,
        found: usize,
    },
    /// A cell whose type does not fit its column (text in a money column).
    #[error(
        "table \"{table}\", row {row}, column \"{column}\": value does not fit a {kind:?} column"
    )]
    CellKind {
        table: String,
        row: usize,
        column: String,
        kind: ColumnKind,
    },
    /// A summary figure whose value does not fit its kind.
    #[error("summary figure \"{label}\": value does not fit a {kind:?} figure")]
    FigureKind { label: String, kind: ColumnKind },
    /// A series with more or fewer values than the chart has days.
    #[error("chart \"{chart}\", series \"{series}\": {found} values for {expected} days")]
    SeriesLength {
        chart: String,
        series: String,
        expected: usize,
        found: usize,
    },
}

impl ReportDocument {
    /// Checks what renderers rely on: tables have columns, every row has one
    /// cell per column and each cell fits its column's kind, figures fit
    /// their kind, every series has one value per day.
    ///
    /// # Errors
    /// The first violation found, naming the table, row and column.
    pub fn validate(&self) -> Result<(), ReportError> {
        for f in &self.summary {
            if !f.kind.accepts(&f.value) {
                return Err(ReportError::FigureKind {
                    label: f.label.clone(),
                    kind: f.kind,
                });
            }
        }
        for t in &self.tables {
            if t.columns.is_empty() {
                return Err(ReportError::NoColumns {
                    table: t.title.clone(),
                });
            }
            for (i, row) in t.rows.iter().enumerate() {
                if row.len() != t.columns.len() {
                    return Err(ReportError::RowWidth {
                        table: t.title.clone(),
                        row: i + 1,
                        expected: t.columns.len(),
                        found: row.len(),
                    });
                }
                if let Some(col) = t
                    .columns
                    .iter()
                    .zip(row)
                    .find_map(|(c, cell)| (!c.kind.accepts(cell)).then_some(c))
                {
                    return Err(ReportError::CellKind {
                        table: t.title.clone(),
                        row: i + 1,
                        column: col.header.clone(),
                        kind: col.kind,
                    });
                }
            }
        }
        for c in &self.charts {
            if let Some(s) = c.series.iter().find(|s| s.values.len() != c.x.len()) {
                return Err(ReportError::SeriesLength {
                    chart: c.title.clone(),
                    series: s.name.clone(),
                    expected: c.x.len(),
                    found: s.values.len(),
                });
            }
        }
        Ok(())
    }
}

/// The decimal mark people expect. [`DecimalSeparator::Comma`] is for pt-BR
/// (and most of Europe): numbers read `1234,56`, and CSV fields are separated
/// by `;`, as Excel in those locales expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DecimalSeparator {
    /// `1234.56`, CSV fields separated by `,`.
    #[default]
    Point,
    /// `1234,56`, CSV fields separated by `;`.
    Comma,
}

impl DecimalSeparator {
    /// The character between whole and fractional part.
    #[must_use]
    pub const fn decimal_mark(self) -> char {
        match self {
            Self::Point => '.',
            Self::Comma => ',',
        }
    }

    /// The thousands separator in text meant for people (never in CSV).
    #[must_use]
    pub const fn group_mark(self) -> char {
        match self {
            Self::Point => ',',
            Self::Comma => '.',
        }
    }

    /// The CSV field delimiter that does not clash with the decimal mark.
    #[must_use]
    pub const fn csv_delimiter(self) -> u8 {
        match self {
            Self::Point => b',',
            Self::Comma => b';',
        }
    }
}

/// Per-request choices that change how a document is written, not what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RenderOptions {
    /// Decimal mark in CSV and PDF (XLSX stores numbers; Excel shows them in
    /// the reader's locale).
    pub decimal_separator: DecimalSeparator,
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The document breaks a rule renderers rely on; a bug in whoever built it.
    #[error("invalid report: {0}")]
    Invalid(#[from] ReportError),
    /// The format's writer failed; the message is for logs.
    #[error("could not write the {format} report: {message}")]
    Backend {
        format: ReportFormat,
        message: String,
    },
}

/// Turns a [`ReportDocument`] into the bytes of one file. Synchronous and
/// CPU-bound: async callers run it on a blocking thread.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait ReportRenderer: Send + Sync {
    /// Renders `doc` as `format`; the result is a complete file whose media
    /// type is [`ReportFormat::content_type`].
    ///
    /// # Errors
    /// [`RenderError::Invalid`] when `doc` fails [`ReportDocument::validate`];
    /// [`RenderError::Backend`] when the format's writer fails.
    fn render(
        &self,
        doc: &ReportDocument,
        format: ReportFormat,
        options: &RenderOptions,
    ) -> Result<Vec<u8>, RenderError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use time::macros::{date, datetime};

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn doc(tables: Vec<Table>, charts: Vec<Chart>) -> ReportDocument {
        ReportDocument {
            title: "Weekly report".into(),
            subtitle: "Acme".into(),
            currency: "BRL".into(),
            generated_at: datetime!(2026-11-30 06:00 UTC),
            summary: vec![Figure::new(
                "Spend",
                ColumnKind::Money,
                Cell::Number(d("10")),
            )],
            tables,
            charts,
        }
    }

    fn table(rows: Vec<Vec<Cell>>) -> Table {
        Table {
            title: "Campaigns".into(),
            columns: vec![
                Column::new("Campaign", ColumnKind::Text),
                Column::new("CPA", ColumnKind::Money),
            ],
            rows,
        }
    }

    #[test]
    fn formats_parse_from_their_extension_and_name_their_media_type() {
        assert_eq!("csv".parse::<ReportFormat>().unwrap(), ReportFormat::Csv);
        assert_eq!("xlsx".parse::<ReportFormat>().unwrap(), ReportFormat::Xlsx);
        assert_eq!("pdf".parse::<ReportFormat>().unwrap(), ReportFormat::Pdf);
        let err = "docx".parse::<ReportFormat>().unwrap_err();
        assert_eq!(err.expected, "csv, xlsx, pdf");
        assert_eq!(ReportFormat::Csv.content_type(), "text/csv; charset=utf-8");
        assert_eq!(ReportFormat::Pdf.content_type(), "application/pdf");
        assert!(ReportFormat::Xlsx.content_type().ends_with(".sheet"));
        assert_eq!(ReportFormat::Xlsx.extension(), "xlsx");
    }

    #[test]
    fn data_text_has_no_grouping_and_uses_the_chosen_decimal_mark() {
        let v = Cell::Number(d("1234.5"));
        let p = DecimalSeparator::Point;
        let c = DecimalSeparator::Comma;
        assert_eq!(v.to_text(ColumnKind::Money, p, TextStyle::Data), "1234.50");
        assert_eq!(v.to_text(ColumnKind::Money, c, TextStyle::Data), "1234,50");
        assert_eq!(
            Cell::Integer(1_204_000).to_text(ColumnKind::Integer, c, TextStyle::Data),
            "1204000"
        );
        assert_eq!(
            Cell::Number(d("1.8868")).to_text(ColumnKind::Percent, p, TextStyle::Data),
            "1.89"
        );
        assert_eq!(
            Cell::Empty.to_text(ColumnKind::Money, p, TextStyle::Data),
            ""
        );
    }

    #[test]
    fn display_text_groups_thousands_and_marks_percentages() {
        let p = DecimalSeparator::Point;
        let c = DecimalSeparator::Comma;
        let v = Cell::Number(d("1234567.891"));
        assert_eq!(
            v.to_text(ColumnKind::Money, p, TextStyle::Display),
            "1,234,567.89"
        );
        assert_eq!(
            v.to_text(ColumnKind::Money, c, TextStyle::Display),
            "1.234.567,89"
        );
        assert_eq!(
            Cell::Number(d("1.8868")).to_text(ColumnKind::Percent, c, TextStyle::Display),
            "1,89%"
        );
        assert_eq!(
            Cell::Empty.to_text(ColumnKind::Money, p, TextStyle::Display),
            "\u{2013}"
        );
        assert_eq!(
            Cell::Date(date!(2026 - 11 - 03)).to_text(ColumnKind::Date, c, TextStyle::Display),
            "2026-11-03"
        );
    }

    #[test]
    fn numbers_round_half_away_from_zero_and_never_show_minus_zero() {
        let p = DecimalSeparator::Point;
        assert_eq!(format_decimal(d("0.125"), 2, p, false), "0.13");
        assert_eq!(format_decimal(d("-0.125"), 2, p, false), "-0.13");
        assert_eq!(format_decimal(d("-0.004"), 2, p, false), "0.00");
        assert_eq!(format_decimal(d("-1234.5"), 2, p, true), "-1,234.50");
        assert_eq!(format_decimal(d("999"), 0, p, true), "999");
        assert_eq!(format_decimal(d("7"), 2, p, false), "7.00");
    }

    #[test]
    fn csv_delimiter_never_clashes_with_the_decimal_mark() {
        for sep in [DecimalSeparator::Point, DecimalSeparator::Comma] {
            assert_ne!(char::from(sep.csv_delimiter()), sep.decimal_mark());
            assert_ne!(sep.group_mark(), sep.decimal_mark());
        }
        assert_eq!(
            RenderOptions::default().decimal_separator,
            DecimalSeparator::Point
        );
    }

    #[test]
    fn a_valid_document_passes() {
        let t = table(vec![
            vec![Cell::Text("A".into()), Cell::Number(d("3.5"))],
            vec![Cell::Text("B".into()), Cell::Empty],
        ]);
        let c = Chart {
            title: "Spend".into(),
            x: vec![date!(2026 - 11 - 01), date!(2026 - 11 - 02)],
            series: vec![Series {
                name: "Spend".into(),
                kind: ColumnKind::Money,
                axis: Axis::Left,
                values: vec![Some(d("1")), None],
            }],
        };
        assert_eq!(doc(vec![t], vec![c]).validate(), Ok(()));
    }

    #[test]
    fn a_short_row_is_refused_with_its_position() {
        let t = table(vec![
            vec![Cell::Text("A".into()), Cell::Empty],
            vec![Cell::Text("B".into())],
        ]);
        assert_eq!(
            doc(vec![t], vec![]).validate(),
            Err(ReportError::RowWidth {
                table: "Campaigns".into(),
                row: 2,
                expected: 2,
                found: 1
            })
        );
    }

    #[test]
    fn a_cell_of_the_wrong_type_is_refused() {
        let t = table(vec![vec![Cell::Text("A".into()), Cell::Text("3".into())]]);
        let err = doc(vec![t], vec![]).validate().unwrap_err();
        assert_eq!(
            err,
            ReportError::CellKind {
                table: "Campaigns".into(),
                row: 1,
                column: "CPA".into(),
                kind: ColumnKind::Money
            }
        );
        assert!(ColumnKind::Integer.accepts(&Cell::Integer(1)));
        assert!(!ColumnKind::Integer.accepts(&Cell::Number(d("1"))));
        assert!(ColumnKind::Date.accepts(&Cell::Empty));
    }

    #[test]
    fn a_series_must_have_a_value_per_day() {
        let c = Chart {
            title: "Spend".into(),
            x: vec![date!(2026 - 11 - 01)],
            series: vec![Series {
                name: "CPA".into(),
                kind: ColumnKind::Money,
                axis: Axis::Right,
                values: vec![],
            }],
        };
        assert!(matches!(
            doc(vec![], vec![c]).validate(),
            Err(ReportError::SeriesLength {
                expected: 1,
                found: 0,
                ..
            })
        ));
    }

    #[test]
    fn a_figure_must_fit_its_kind() {
        let mut r = doc(vec![], vec![]);
        r.summary.push(Figure::new(
            "Clicks",
            ColumnKind::Integer,
            Cell::Text("many".into()),
        ));
        assert!(matches!(r.validate(), Err(ReportError::FigureKind { .. })));
    }

    #[test]
    fn missing_ratios_become_empty_cells() {
        assert_eq!(Cell::number(None), Cell::Empty);
        assert_eq!(Cell::number(Some(d("2"))), Cell::Number(d("2")));
    }
}
