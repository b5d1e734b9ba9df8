//! XLSX through `rust_xlsxwriter`: typed cells, so Excel sums and sorts them.
//!
//! Sheets, in order:
//! - **Summary**: title, subtitle, generation time and currency (A1:B4), then
//!   a `Figure | Value` table from row 6.
//! - **one per table**, named after its title (cut to Excel's 31 characters,
//!   made unique): a bold header row, frozen, with an autofilter; money in a
//!   currency number format (`"R$ "#,##0.00` for BRL, the ISO code for
//!   currencies without a symbol here), percentages as fractions in `0.00%`
//!   (CTR `1.8868` is stored `0.018868`), ratios `0.00`, counts `#,##0`,
//!   dates as date serials in `yyyy-mm-dd`. Missing values are blank cells.
//! - **Charts**: one line chart per document chart, x axis by date, series
//!   on the right axis on Excel's secondary axis.
//! - **Chart data** (hidden): the charts' numbers, one block of columns per
//!   chart (`Date`, one column per series).
//!
//! Numbers are `f64` in the file, as in every spreadsheet: exact to the cent
//! for money of any realistic size.

use std::collections::HashSet;

use domain::reports::{
    Axis, Cell, ColumnKind, DecimalSeparator, RenderError, ReportDocument, ReportFormat, TextStyle,
};
use rust_decimal::Decimal;
use rust_xlsxwriter::{
    Chart, ChartEmptyCells, ChartLegendPosition, ChartType, ExcelDateTime, Format, FormatBorder,
    Workbook, Worksheet, XlsxError,
};

use super::{backend, display_timestamp};

/// Name of the first sheet.
pub const SUMMARY_SHEET: &str = "Summary";
/// Name of the sheet holding the charts.
pub const CHARTS_SHEET: &str = "Charts";
/// Name of the hidden sheet holding the charts' data.
pub const CHART_DATA_SHEET: &str = "Chart data";
/// Row (0-based) of the summary's `Figure | Value` header.
pub const SUMMARY_HEADER_ROW: u32 = 5;

const MAX_SHEET_NAME: usize = 31;
const CHART_ROWS: u32 = 20;

/// Renders `doc` as described in the module docs. `doc` must be valid.
///
/// # Errors
/// [`RenderError::Backend`] when the workbook cannot be built (a value out of
/// Excel's range, such as a date before 1900).
pub fn render(doc: &ReportDocument) -> Result<Vec<u8>, RenderError> {
    build(doc)
        .and_then(|mut wb| wb.save_to_buffer())
        .map_err(|e| backend(ReportFormat::Xlsx, e))
}

/// Number formats of one document (they depend on its currency).
struct Formats {
    money_code: String,
    bold: Format,
    title: Format,
    header: Format,
    date: Format,
    integer: Format,
    money: Format,
    percent: Format,
    ratio: Format,
}

impl Formats {
    fn new(currency: &str) -> Self {
        let money = format!("\"{} \"#,##0.00", currency_symbol(currency));
        Self {
            money_code: money.clone(),
            bold: Format::new().set_bold(),
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new()
                .set_bold()
                .set_border_bottom(FormatBorder::Thin),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            integer: Format::new().set_num_format("#,##0"),
            money: Format::new().set_num_format(money),
            percent: Format::new().set_num_format("0.00%"),
            ratio: Format::new().set_num_format("0.00"),
        }
    }

    fn number(&self, kind: ColumnKind) -> &Format {
        match kind {
            ColumnKind::Money => &self.money,
            ColumnKind::Percent => &self.percent,
            ColumnKind::Integer => &self.integer,
            ColumnKind::Date => &self.date,
            ColumnKind::Ratio | ColumnKind::Text => &self.ratio,
        }
    }
}

/// The symbol Excel users expect for common currencies, the ISO code otherwise.
fn currency_symbol(iso: &str) -> String {
    match iso {
        "BRL" => "R$".to_owned(),
        "USD" => "US$".to_owned(),
        "EUR" => "€".to_owned(),
        "GBP" => "£".to_owned(),
        other => other.replace('"', ""),
    }
}

fn build(doc: &ReportDocument) -> Result<Workbook, XlsxError> {
    let f = Formats::new(&doc.currency);
    let mut wb = Workbook::new();
    let mut names: HashSet<String> = [SUMMARY_SHEET, CHARTS_SHEET, CHART_DATA_SHEET]
        .iter()
        .map(|n| n.to_lowercase())
        .collect();

    wb.push_worksheet(summary_sheet(doc, &f)?);
    for t in &doc.tables {
        let name = sheet_name(&t.title, &mut names);
        let mut ws = Worksheet::new();
        ws.set_name(name)?;
        let widths = t
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let cells = t.rows.iter().filter_map(move |r| r.get(i));
                width(&c.header, cells.map(|cell| (cell, c.kind)))
            })
            .collect::<Vec<_>>();
        for (col, c) in (0u16..).zip(&t.columns) {
            ws.write_string_with_format(0, col, c.header.as_str(), &f.header)?;
        }
        for (row, cells) in (1u32..).zip(&t.rows) {
            for ((col, c), cell) in (0u16..).zip(&t.columns).zip(cells) {
                write_cell(&mut ws, row, col, cell, c.kind, &f)?;
            }
        }
        for (col, w) in (0u16..).zip(widths) {
            ws.set_column_width(col, w)?;
        }
        ws.set_freeze_panes(1, 0)?;
        let last_row = u32::try_from(t.rows.len()).unwrap_or(u32::MAX);
        let last_col = u16::try_from(t.columns.len().saturating_sub(1)).unwrap_or(u16::MAX);
        ws.autofilter(0, 0, last_row, last_col)?;
        wb.push_worksheet(ws);
    }
    if !doc.charts.is_empty() {
        let (charts, data) = chart_sheets(doc, &f)?;
        wb.push_worksheet(charts);
        wb.push_worksheet(data);
    }
    Ok(wb)
}

fn summary_sheet(doc: &ReportDocument, f: &Formats) -> Result<Worksheet, XlsxError> {
    let mut ws = Worksheet::new();
    ws.set_name(SUMMARY_SHEET)?;
    ws.write_string_with_format(0, 0, doc.title.as_str(), &f.title)?;
    ws.write_string(1, 0, doc.subtitle.as_str())?;
    ws.write_string_with_format(2, 0, "Generated at", &f.bold)?;
    ws.write_string(2, 1, display_timestamp(doc.generated_at))?;
    ws.write_string_with_format(3, 0, "Currency", &f.bold)?;
    ws.write_string(3, 1, doc.currency.as_str())?;
    ws.write_string_with_format(SUMMARY_HEADER_ROW, 0, "Figure", &f.header)?;
    ws.write_string_with_format(SUMMARY_HEADER_ROW, 1, "Value", &f.header)?;
    for (row, fig) in (SUMMARY_HEADER_ROW + 1..).zip(&doc.summary) {
        ws.write_string(row, 0, fig.label.as_str())?;
        write_cell(&mut ws, row, 1, &fig.value, fig.kind, f)?;
    }
    let labels = doc
        .summary
        .iter()
        .map(|fig| text_width(&fig.label))
        .fold(text_width("Generated at"), f64::max);
    let values = width(
        &display_timestamp(doc.generated_at),
        doc.summary.iter().map(|fig| (&fig.value, fig.kind)),
    );
    ws.set_column_width(0, labels)?;
    ws.set_column_width(1, values)?;
    Ok(ws)
}

/// Writes one typed cell; [`Cell::Empty`] leaves the cell blank.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    kind: ColumnKind,
    f: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(s) => {
            ws.write_string(row, col, s.as_str())?;
        }
        Cell::Date(d) => {
            let year = u16::try_from(d.year()).map_err(|_| {
                XlsxError::DateTimeRangeError(format!("year {} is outside Excel's range", d.year()))
            })?;
            let date = ExcelDateTime::from_ymd(year, u8::from(d.month()), d.day())?;
            ws.write_date_with_format(row, col, &date, &f.date)?;
        }
        #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
        Cell::Integer(i) => {
            ws.write_number_with_format(row, col, *i as f64, &f.integer)?;
        }
        Cell::Number(v) => {
            ws.write_number_with_format(row, col, stored(*v, kind), f.number(kind))?;
        }
    }
    Ok(())
}

/// The number as stored: percentages as fractions, so `0.00%` shows them.
fn stored(v: Decimal, kind: ColumnKind) -> f64 {
    let v = if kind == ColumnKind::Percent {
        v / Decimal::ONE_HUNDRED
    } else {
        v
    };
    f64::try_from(v).unwrap_or(f64::NAN)
}

/// A column width (in characters) fitting the header and the values as shown.
fn width<'a>(header: &str, cells: impl Iterator<Item = (&'a Cell, ColumnKind)>) -> f64 {
    cells
        .map(|(cell, kind)| {
            let text = cell.to_text(kind, DecimalSeparator::Point, TextStyle::Display);
            // Currency prefix and padding.
            text_width(&text) + if kind == ColumnKind::Money { 4.0 } else { 0.0 }
        })
        .fold(text_width(header), f64::max)
        .clamp(8.0, 60.0)
}

#[allow(clippy::cast_precision_loss)] // a few dozen characters
fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 + 2.0
}

/// A valid, unique sheet name for `title`: no `[]:*?/\`, at most 31
/// characters, not blank, not taken (case-insensitively).
fn sheet_name(title: &str, taken: &mut HashSet<String>) -> String {
    let clean: String = title
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean = clean.trim_matches('\'').trim();
    let base: String = if clean.is_empty() {
        "Table".to_owned()
    } else {
        clean.chars().take(MAX_SHEET_NAME).collect()
    };
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.to_lowercase()) || name.eq_ignore_ascii_case("history") {
        let suffix = format!(" ({n})");
        let keep = MAX_SHEET_NAME - suffix.chars().count();
        name = base.chars().take(keep).collect::<String>() + &suffix;
        n += 1;
    }
    name
}

/// The visible sheet of charts and the hidden sheet of their data.
fn chart_sheets(doc: &ReportDocument, f: &Formats) -> Result<(Worksheet, Worksheet), XlsxError> {
    let mut charts = Worksheet::new();
    charts.set_name(CHARTS_SHEET)?;
    charts.write_string_with_format(0, 0, doc.title.as_str(), &f.title)?;
    let mut data = Worksheet::new();
    data.set_name(CHART_DATA_SHEET)?;

    let mut col0: u16 = 0;
    for (i, c) in (0u32..).zip(&doc.charts) {
        data.write_string_with_format(0, col0, "Date", &f.header)?;
        for (row, day) in (1u32..).zip(&c.x) {
            write_cell(&mut data, row, col0, &Cell::Date(*day), ColumnKind::Date, f)?;
        }
        data.set_column_width(col0, 12)?;
        let last_row = u32::try_from(c.x.len()).unwrap_or(u32::MAX);

        let mut chart = Chart::new(ChartType::Line);
        chart.title().set_name(c.title.as_str());
        chart
            .x_axis()
            .set_date_axis(true)
            .set_num_format("yyyy-mm-dd");
        if let Some(s) = c.series_on(Axis::Left).next() {
            chart.y_axis().set_num_format(axis_format(s.kind, f));
        }
        if let Some(s) = c.series_on(Axis::Right).next() {
            chart.y2_axis().set_num_format(axis_format(s.kind, f));
        }
        chart.legend().set_position(ChartLegendPosition::Bottom);
        chart.show_empty_cells_as(ChartEmptyCells::Gaps);
        chart.set_width(760).set_height(380);

        for (col, s) in (col0 + 1..).zip(&c.series) {
            data.write_string_with_format(0, col, s.name.as_str(), &f.header)?;
            for (row, v) in (1u32..).zip(&s.values) {
                write_cell(&mut data, row, col, &Cell::number(*v), s.kind, f)?;
            }
            data.set_column_width(col, width(&s.name, std::iter::empty()))?;
            chart
                .add_series()
                .set_name((CHART_DATA_SHEET, 0, col))
                .set_categories((CHART_DATA_SHEET, 1, col0, last_row, col0))
                .set_values((CHART_DATA_SHEET, 1, col, last_row, col))
                .set_secondary_axis(s.axis == Axis::Right);
        }
        charts.insert_chart(2 + i * CHART_ROWS, 0, &chart)?;
        let used = u16::try_from(c.series.len()).unwrap_or(u16::MAX);
        col0 = col0.saturating_add(used).saturating_add(2);
    }
    data.set_hidden(true);
    Ok((charts, data))
}

/// The y axis's number format, as the first series' cells are formatted.
fn axis_format(kind: ColumnKind, f: &Formats) -> String {
    match kind {
        ColumnKind::Money => f.money_code.clone(),
        ColumnKind::Percent => "0%".to_owned(),
        ColumnKind::Integer => "#,##0".to_owned(),
        _ => "0.00".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut taken: HashSet<String> = [SUMMARY_SHEET.to_lowercase()].into_iter().collect();
        assert_eq!(sheet_name("Spend / day [BRL]", &mut taken), "Spend day BRL");
        assert_eq!(sheet_name("summary", &mut taken), "summary (2)");
        let long = "A very long table title that Excel would refuse";
        let first = sheet_name(long, &mut taken);
        let second = sheet_name(long, &mut taken);
        assert_eq!(first.chars().count(), 31);
        assert_eq!(second.chars().count(), 31);
        assert!(second.ends_with(" (2)"));
        assert_eq!(sheet_name("''", &mut taken), "Table");
    }
}
