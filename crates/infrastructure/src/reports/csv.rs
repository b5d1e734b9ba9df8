//! CSV: one RFC 4180 file (CRLF line ends, fields quoted only when needed),
//! UTF-8 with a byte order mark so Excel does not read it as Latin-1.
//!
//! Layout, blocks separated by one empty line:
//!
//! ```text
//! <title>
//! <subtitle>
//! Generated at,2026-11-30T06:00:00Z
//! Currency,BRL
//!
//! Summary
//! Figure,Value
//! Spend,1234.56            one row per summary figure
//!
//! <table title>            one block per table
//! <header>,<header>,…
//! <cell>,<cell>,…
//!
//! <chart title>            one block per chart: its data, one row per day
//! Date,<series name>,…
//! 2026-11-23,412.30,…
//! ```
//!
//! Records have different lengths, so readers must be flexible. Numbers have
//! no thousands separator and no unit (money at 2 places, percentages and
//! ratios at theirs, `%` left out so the field stays a number); a missing
//! value is an empty field. With [`DecimalSeparator::Comma`] numbers read
//! `1234,56` and fields are separated by `;`, as Excel in pt-BR expects.
//! Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
//! CR first) gets a leading `'`; numbers, dates and empty fields never start
//! with those, except negative numbers, which are left as they are.
//!
//! [`DecimalSeparator::Comma`]: domain::reports::DecimalSeparator::Comma

use domain::reports::{
    Cell, ColumnKind, RenderError, RenderOptions, ReportDocument, ReportFormat, TextStyle,
};
use time::format_description::well_known::Rfc3339;

use super::backend;

/// The UTF-8 byte order mark every file starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Renders `doc` as described in the module docs. `doc` must be valid.
///
/// # Errors
/// [`RenderError::Backend`] if the timestamp cannot be formatted or the CSV
/// writer fails (it writes to memory, so neither is expected).
pub fn render(doc: &ReportDocument, options: &RenderOptions) -> Result<Vec<u8>, RenderError> {
    let err = |e: &dyn std::fmt::Display| backend(ReportFormat::Csv, e);
    let sep = options.decimal_separator;
    let generated = doc.generated_at.format(&Rfc3339).map_err(|e| err(&e))?;

    let mut blocks: Vec<Vec<Vec<String>>> = vec![vec![
        vec![guard(&doc.title)],
        vec![guard(&doc.subtitle)],
        vec!["Generated at".to_owned(), generated],
        vec!["Currency".to_owned(), guard(&doc.currency)],
    ]];
    if !doc.summary.is_empty() {
        let mut b = vec![
            vec!["Summary".to_owned()],
            vec!["Figure".to_owned(), "Value".to_owned()],
        ];
        b.extend(
            doc.summary
                .iter()
                .map(|f| vec![guard(&f.label), field(&f.value, f.kind, options)]),
        );
        blocks.push(b);
    }
    for t in &doc.tables {
        let mut b = vec![
            vec![guard(&t.title)],
            t.columns.iter().map(|c| guard(&c.header)).collect(),
        ];
        b.extend(t.rows.iter().map(|row| {
            t.columns
                .iter()
                .zip(row)
                .map(|(c, cell)| field(cell, c.kind, options))
                .collect()
        }));
        blocks.push(b);
    }
    for c in &doc.charts {
        let mut b = vec![
            vec![guard(&c.title)],
            std::iter::once("Date".to_owned())
                .chain(c.series.iter().map(|s| guard(&s.name)))
                .collect(),
        ];
        b.extend(c.x.iter().enumerate().map(|(i, day)| {
            let values = c.series.iter().map(|s| {
                let cell = Cell::number(s.values.get(i).copied().flatten());
                field(&cell, s.kind, options)
            });
            std::iter::once(domain::reports::iso_date(*day))
                .chain(values)
                .collect()
        }));
        blocks.push(b);
    }

    let builder = {
        let mut b = ::csv::WriterBuilder::new();
        b.delimiter(sep.csv_delimiter())
            .terminator(::csv::Terminator::CRLF)
            .flexible(true);
        b
    };
    let mut out = BOM.to_vec();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            // An empty record would be written as `""`; an empty line is
            // what RFC 4180 readers and Excel show as a blank row.
            out.extend_from_slice(b"\r\n");
        }
        let mut w = builder.from_writer(&mut out);
        for record in block {
            w.write_record(record).map_err(|e| err(&e))?;
        }
        w.flush().map_err(|e| err(&e))?;
    }
    Ok(out)
}

/// One field: typed values through the shared formatter, text guarded.
fn field(cell: &Cell, kind: ColumnKind, options: &RenderOptions) -> String {
    match cell {
        Cell::Text(s) => guard(s),
        other => other.to_text(kind, options.decimal_separator, TextStyle::Data),
    }
}

/// Prefixes text a spreadsheet would evaluate as a formula with `'`.
fn guard(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_text_is_defused_and_plain_text_is_not() {
        assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("-5 off"), "'-5 off");
        assert_eq!(guard("Black Friday"), "Black Friday");
    }
}
