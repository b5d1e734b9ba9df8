//! The three report renderers on one realistic document: a week of spend,
//! clicks and conversions for three campaigns, one of them without
//! conversions (so its CPA is empty). Each file is read back with an
//! independent reader (`csv`, `calamine`, `lopdf`) and compared with the
//! document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::{Cursor, Read};
use std::str::FromStr;

use calamine::{Data, Reader, SheetVisible, Xlsx, open_workbook_from_rs};
use domain::kpi::{KpiTotals, Kpis};
use domain::reports::{
    Axis, Cell, Chart, Column, ColumnKind, DecimalSeparator, Figure, RenderError, RenderOptions,
    ReportDocument, ReportError, ReportFormat, ReportRenderer, Series, Table, TextStyle,
};
use infrastructure::reports::DocumentRenderer;
use infrastructure::reports::pdf::y_tick_labels;
use rust_decimal::Decimal;
use time::macros::{date, datetime};
use time::{Date, Duration};

// ------------------------------------------------------------------ sample

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

struct Campaign {
    name: &'static str,
    impressions: [i64; 7],
    clicks: [i64; 7],
    spend: [&'static str; 7],
    conversions: [i64; 7],
    revenue_per_conversion: &'static str,
}

const CAMPAIGNS: [Campaign; 3] = [
    Campaign {
        name: "Black Friday \u{2013} Prospecção",
        impressions: [18_400, 17_950, 20_110, 21_980, 27_300, 30_120, 16_800],
        clicks: [310, 295, 342, 371, 468, 530, 288],
        spend: [
            "412.30", "398.75", "455.10", "501.20", "620.45", "702.90", "389.00",
        ],
        conversions: [9, 7, 11, 12, 17, 21, 8],
        revenue_per_conversion: "189.90",
    },
    Campaign {
        name: "Remarketing Carrinho",
        impressions: [5_200, 5_010, 5_630, 5_900, 6_870, 7_740, 4_700],
        clicks: [140, 133, 151, 160, 188, 214, 126],
        spend: [
            "120.50", "118.20", "131.75", "140.00", "165.30", "190.85", "110.40",
        ],
        conversions: [6, 5, 7, 8, 9, 12, 5],
        revenue_per_conversion: "149.90",
    },
    Campaign {
        name: "Brand Awareness",
        impressions: [25_000, 24_300, 26_100, 25_700, 28_800, 30_500, 23_900],
        clicks: [45, 41, 52, 48, 60, 66, 39],
        spend: ["80.00"; 7],
        conversions: [0; 7],
        revenue_per_conversion: "0",
    },
];

const FIRST_DAY: Date = date!(2026 - 11 - 23);

fn day_totals(c: &Campaign, i: usize) -> KpiTotals {
    KpiTotals {
        impressions: c.impressions[i],
        clicks: c.clicks[i],
        link_clicks: c.clicks[i],
        spend: d(c.spend[i]),
        conversions: c.conversions[i],
        revenue: d(c.revenue_per_conversion) * Decimal::from(c.conversions[i]),
    }
}

fn days() -> Vec<Date> {
    (0..7).map(|i| FIRST_DAY + Duration::days(i)).collect()
}

fn sample() -> ReportDocument {
    let campaign_columns = vec![
        Column::new("Campaign", ColumnKind::Text),
        Column::new("Impressions", ColumnKind::Integer),
        Column::new("Clicks", ColumnKind::Integer),
        Column::new("CTR", ColumnKind::Percent),
        Column::new("Spend", ColumnKind::Money),
        Column::new("Conversions", ColumnKind::Integer),
        Column::new("CPA", ColumnKind::Money),
        Column::new("ROAS", ColumnKind::Ratio),
    ];
    let mut account = KpiTotals::default();
    let mut campaign_rows = Vec::new();
    for c in &CAMPAIGNS {
        let t = (0..7).fold(KpiTotals::default(), |acc, i| acc.plus(&day_totals(c, i)));
        account = account.plus(&t);
        let k = Kpis::from_totals(&t);
        campaign_rows.push(vec![
            Cell::Text(c.name.into()),
            Cell::Integer(t.impressions),
            Cell::Integer(t.clicks),
            Cell::number(k.ctr),
            Cell::Number(t.spend),
            Cell::Integer(t.conversions),
            Cell::number(k.cpa),
            Cell::number(k.roas),
        ]);
    }

    let daily_columns = vec![
        Column::new("Date", ColumnKind::Date),
        Column::new("Campaign", ColumnKind::Text),
        Column::new("Spend", ColumnKind::Money),
        Column::new("Clicks", ColumnKind::Integer),
        Column::new("Conversions", ColumnKind::Integer),
        Column::new("CPA", ColumnKind::Money),
    ];
    let mut daily_rows = Vec::new();
    let mut spend_series = Vec::new();
    let mut cpa_series = Vec::new();
    for (i, day) in days().into_iter().enumerate() {
        let mut day_total = KpiTotals::default();
        for c in &CAMPAIGNS {
            let t = day_totals(c, i);
            day_total = day_total.plus(&t);
            daily_rows.push(vec![
                Cell::Date(day),
                Cell::Text(c.name.into()),
                Cell::Number(t.spend),
                Cell::Integer(t.clicks),
                Cell::Integer(t.conversions),
                Cell::number(Kpis::from_totals(&t).cpa),
            ]);
        }
        spend_series.push(Some(day_total.spend));
        cpa_series.push(Kpis::from_totals(&day_total).cpa);
    }
    // The last day's conversions are not in yet: a gap, not a zero.
    if let Some(last) = cpa_series.last_mut() {
        *last = None;
    }

    let k = Kpis::from_totals(&account);
    ReportDocument {
        title: "Weekly performance report".into(),
        subtitle: "Acme Brasil \u{b7} 2026-11-23 \u{2013} 2026-11-29".into(),
        currency: "BRL".into(),
        generated_at: datetime!(2026-11-30 06:00 UTC),
        summary: vec![
            Figure::new("Spend", ColumnKind::Money, Cell::Number(account.spend)),
            Figure::new(
                "Impressions",
                ColumnKind::Integer,
                Cell::Integer(account.impressions),
            ),
            Figure::new("Clicks", ColumnKind::Integer, Cell::Integer(account.clicks)),
            Figure::new("CTR", ColumnKind::Percent, Cell::number(k.ctr)),
            Figure::new(
                "Conversions",
                ColumnKind::Integer,
                Cell::Integer(account.conversions),
            ),
            Figure::new("CPA", ColumnKind::Money, Cell::number(k.cpa)),
            Figure::new("ROAS", ColumnKind::Ratio, Cell::number(k.roas)),
        ],
        tables: vec![
            Table {
                title: "Campaigns".into(),
                columns: campaign_columns,
                rows: campaign_rows,
            },
            Table {
                title: "Daily by campaign".into(),
                columns: daily_columns,
                rows: daily_rows,
            },
        ],
        charts: vec![Chart {
            title: "Spend and CPA per day".into(),
            x: days(),
            series: vec![
                Series {
                    name: "Spend".into(),
                    kind: ColumnKind::Money,
                    axis: Axis::Left,
                    values: spend_series,
                },
                Series {
                    name: "CPA".into(),
                    kind: ColumnKind::Money,
                    axis: Axis::Right,
                    values: cpa_series,
                },
            ],
        }],
    }
}

fn render(doc: &ReportDocument, format: ReportFormat, sep: DecimalSeparator) -> Vec<u8> {
    let options = RenderOptions {
        decimal_separator: sep,
    };
    DocumentRenderer::new()
        .render(doc, format, &options)
        .unwrap()
}

/// The value as every format should show it: rounded to the column's places.
fn rounded(cell: &Cell, kind: ColumnKind) -> Cell {
    match cell {
        Cell::Number(v) => {
            let mut r = v.round_dp_with_strategy(
                kind.decimals(),
                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            );
            r.rescale(kind.decimals());
            Cell::Number(r)
        }
        other => other.clone(),
    }
}

#[test]
fn the_sample_is_what_the_tests_claim() {
    let doc = sample();
    doc.validate().unwrap();
    // Hand-checked: 412.30 + 398.75 + 455.10 + 501.20 + 620.45 + 702.90 + 389.00.
    assert_eq!(doc.tables[0].rows[0][4], Cell::Number(d("3479.70")));
    // Brand Awareness has no conversions, so no CPA.
    assert_eq!(doc.tables[0].rows[2][6], Cell::Empty);
    assert_eq!(doc.tables[1].rows.len(), 21);
}

// ------------------------------------------------------------------ CSV

/// Parses one CSV field back into a cell of `kind`.
fn parse_field(field: &str, kind: ColumnKind, sep: DecimalSeparator) -> Cell {
    if field.is_empty() {
        return Cell::Empty;
    }
    match kind {
        ColumnKind::Text => Cell::Text(field.to_owned()),
        ColumnKind::Date => Cell::Date(
            Date::parse(
                field,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .unwrap(),
        ),
        ColumnKind::Integer => Cell::Integer(field.parse().unwrap()),
        ColumnKind::Money | ColumnKind::Percent | ColumnKind::Ratio => {
            let normal = match sep {
                DecimalSeparator::Point => field.to_owned(),
                DecimalSeparator::Comma => field.replace(',', "."),
            };
            Cell::Number(Decimal::from_str(&normal).unwrap())
        }
    }
}

fn csv_round_trip(sep: DecimalSeparator) -> String {
    let doc = sample();
    let bytes = render(&doc, ReportFormat::Csv, sep);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap().to_owned();

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sep.csv_delimiter())
        .from_reader(text.as_bytes());
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>())
        .filter(|r| !(r.is_empty() || r.len() == 1 && r[0].is_empty()))
        .collect();
    let mut it = records.into_iter();
    let mut next = || it.next().expect("the CSV ended early");

    assert_eq!(next(), vec![doc.title.clone()]);
    assert_eq!(next(), vec![doc.subtitle.clone()]);
    assert_eq!(next(), vec!["Generated at", "2026-11-30T06:00:00Z"]);
    assert_eq!(next(), vec!["Currency", "BRL"]);
    assert_eq!(next(), vec!["Summary"]);
    assert_eq!(next(), vec!["Figure", "Value"]);
    for f in &doc.summary {
        let r = next();
        assert_eq!(r[0], f.label);
        assert_eq!(
            parse_field(&r[1], f.kind, sep),
            rounded(&f.value, f.kind),
            "{}",
            f.label
        );
    }
    for t in &doc.tables {
        assert_eq!(next(), vec![t.title.clone()]);
        let headers: Vec<String> = t.columns.iter().map(|c| c.header.clone()).collect();
        assert_eq!(next(), headers);
        for row in &t.rows {
            let r = next();
            assert_eq!(r.len(), t.columns.len());
            for ((field, c), cell) in r.iter().zip(&t.columns).zip(row) {
                assert_eq!(
                    parse_field(field, c.kind, sep),
                    rounded(cell, c.kind),
                    "{} / {}",
                    t.title,
                    c.header
                );
            }
        }
    }
    let chart = &doc.charts[0];
    assert_eq!(next(), vec![chart.title.clone()]);
    assert_eq!(next(), vec!["Date", "Spend", "CPA"]);
    for (i, day) in chart.x.iter().enumerate() {
        let r = next();
        assert_eq!(parse_field(&r[0], ColumnKind::Date, sep), Cell::Date(*day));
        for (s, field) in chart.series.iter().zip(&r[1..]) {
            let expected = rounded(&Cell::number(s.values[i]), s.kind);
            assert_eq!(parse_field(field, s.kind, sep), expected);
        }
    }
    assert!(it.next().is_none(), "unexpected trailing records");
    text
}

#[test]
fn csv_round_trips_with_decimal_points_and_commas_between_fields() {
    let text = csv_round_trip(DecimalSeparator::Point);
    assert!(text.contains("\r\nBlack Friday \u{2013} Prospecção,152660,2604,"));
    assert!(
        text.contains(",3479.70,"),
        "money at two places, no grouping"
    );
    // Blocks are separated by one empty line.
    assert!(text.contains("BRL\r\n\r\nSummary\r\n"));
    assert!(!text.contains(';'));
}

#[test]
fn csv_round_trips_with_decimal_commas_and_semicolons_between_fields() {
    let text = csv_round_trip(DecimalSeparator::Comma);
    assert!(text.contains(";3479,70;"), "pt-BR money: 3479,70");
    // Brand Awareness: no conversions, an empty CPA field.
    assert!(text.contains("\r\nBrand Awareness;"));
    let brand = text
        .lines()
        .find(|l| l.starts_with("Brand Awareness;"))
        .unwrap();
    assert!(brand.contains(";0;;"), "{brand}");
}

#[test]
fn csv_defuses_text_that_would_run_as_a_formula() {
    let mut doc = sample();
    doc.tables[0].rows[0][0] = Cell::Text("=HYPERLINK(\"http://x\")".into());
    let bytes = render(&doc, ReportFormat::Csv, DecimalSeparator::Point);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{text}");
}

// ------------------------------------------------------------------ XLSX

fn workbook(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap()
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut s = String::new();
    file.read_to_string(&mut s).unwrap();
    s
}

/// Excel's serial day number (days since 1899-12-30).
fn serial(day: Date) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let days = (day - date!(1899 - 12 - 30)).whole_days() as f64;
    days
}

fn assert_cell(got: Option<&Data>, cell: &Cell, kind: ColumnKind, at: &str) {
    match cell {
        Cell::Empty => assert!(
            matches!(got, None | Some(Data::Empty)),
            "{at}: expected blank, got {got:?}"
        ),
        Cell::Text(s) => assert_eq!(got, Some(&Data::String(s.clone())), "{at}"),
        Cell::Date(day) => match got {
            Some(Data::DateTime(dt)) => {
                assert!(dt.is_datetime(), "{at}: not a date");
                assert!((dt.as_f64() - serial(*day)).abs() < 1e-9, "{at}");
            }
            other => panic!("{at}: expected a date cell, got {other:?}"),
        },
        Cell::Integer(i) => {
            #[allow(clippy::cast_precision_loss)]
            let expected = *i as f64;
            match got {
                Some(Data::Float(f)) => assert!((f - expected).abs() < 1e-9, "{at}"),
                Some(Data::Int(n)) => assert_eq!(n, i, "{at}"),
                other => panic!("{at}: expected a number, got {other:?}"),
            }
        }
        Cell::Number(v) => {
            let v = if kind == ColumnKind::Percent {
                *v / Decimal::ONE_HUNDRED
            } else {
                *v
            };
            let expected = f64::try_from(v).unwrap();
            match got {
                Some(Data::Float(f)) => {
                    assert!((f - expected).abs() < 1e-9, "{at}: {f} != {expected}")
                }
                other => panic!("{at}: expected a number, got {other:?}"),
            }
        }
    }
}

#[test]
fn xlsx_cells_read_back_equal_the_document() {
    let doc = sample();
    let bytes = render(&doc, ReportFormat::Xlsx, DecimalSeparator::Comma);
    let mut wb = workbook(&bytes);
    assert_eq!(
        wb.sheet_names(),
        vec![
            "Summary",
            "Campaigns",
            "Daily by campaign",
            "Charts",
            "Chart data"
        ]
    );

    let summary = wb.worksheet_range("Summary").unwrap();
    assert_eq!(
        summary.get_value((0, 0)),
        Some(&Data::String(doc.title.clone()))
    );
    assert_eq!(
        summary.get_value((1, 0)),
        Some(&Data::String(doc.subtitle.clone()))
    );
    assert_eq!(
        summary.get_value((2, 1)),
        Some(&Data::String("2026-11-30 06:00 UTC".into()))
    );
    assert_eq!(summary.get_value((3, 1)), Some(&Data::String("BRL".into())));
    for (row, f) in (6u32..).zip(&doc.summary) {
        assert_eq!(
            summary.get_value((row, 0)),
            Some(&Data::String(f.label.clone()))
        );
        assert_cell(summary.get_value((row, 1)), &f.value, f.kind, &f.label);
    }

    for t in &doc.tables {
        let range = wb.worksheet_range(&t.title).unwrap();
        for (col, c) in (0u32..).zip(&t.columns) {
            assert_eq!(
                range.get_value((0, col)),
                Some(&Data::String(c.header.clone()))
            );
        }
        for (row, cells) in (1u32..).zip(&t.rows) {
            for ((col, c), cell) in (0u32..).zip(&t.columns).zip(cells) {
                let at = format!("{} row {row} {}", t.title, c.header);
                assert_cell(range.get_value((row, col)), cell, c.kind, &at);
            }
        }
        let rows = u32::try_from(t.rows.len()).unwrap();
        assert!(
            matches!(range.get_value((rows + 1, 0)), None | Some(Data::Empty)),
            "{}: extra rows",
            t.title
        );
    }
}

#[test]
fn xlsx_tables_have_a_frozen_bold_header_and_currency_formats() {
    let bytes = render(&sample(), ReportFormat::Xlsx, DecimalSeparator::Point);
    let sheet = zip_entry(&bytes, "xl/worksheets/sheet2.xml");
    assert!(
        sheet.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ),
        "{sheet}"
    );
    assert!(sheet.contains("<autoFilter ref=\"A1:H4\"/>"), "{sheet}");
    assert!(sheet.contains("<col "), "column widths are set");
    let styles = zip_entry(&bytes, "xl/styles.xml");
    assert!(
        styles.contains(r#"formatCode="&quot;R$ &quot;#,##0.00""#),
        "{styles}"
    );
    assert!(styles.contains(r#"formatCode="0.00%""#));
    assert!(styles.contains(r#"formatCode="yyyy-mm-dd""#));
    assert!(styles.contains("<b/>"), "a bold font for headers");
}

#[test]
fn xlsx_charts_sheet_has_a_line_chart_over_hidden_data() {
    let doc = sample();
    let bytes = render(&doc, ReportFormat::Xlsx, DecimalSeparator::Point);
    let mut wb = workbook(&bytes);
    let visibility: Vec<(String, SheetVisible)> = wb
        .sheets_metadata()
        .iter()
        .map(|s| (s.name.clone(), s.visible))
        .collect();
    assert!(visibility.contains(&("Chart data".into(), SheetVisible::Hidden)));
    assert!(visibility.contains(&("Charts".into(), SheetVisible::Visible)));

    let chart = &doc.charts[0];
    let data = wb.worksheet_range("Chart data").unwrap();
    assert_eq!(data.get_value((0, 1)), Some(&Data::String("Spend".into())));
    assert_eq!(data.get_value((0, 2)), Some(&Data::String("CPA".into())));
    for (row, day) in (1u32..).zip(&chart.x) {
        assert_cell(
            data.get_value((row, 0)),
            &Cell::Date(*day),
            ColumnKind::Date,
            "day",
        );
        for (col, s) in (1u32..).zip(&chart.series) {
            let i = usize::try_from(row - 1).unwrap();
            assert_cell(
                data.get_value((row, col)),
                &Cell::number(s.values[i]),
                s.kind,
                &s.name,
            );
        }
    }

    let xml = zip_entry(&bytes, "xl/charts/chart1.xml");
    assert!(xml.contains("<c:lineChart>"), "{xml}");
    assert!(xml.contains("Spend and CPA per day"));
    assert!(xml.contains("'Chart data'!$C$2:$C$8"), "{xml}");
    assert!(xml.contains("<c:dispBlanksAs val=\"gap\"/>"), "{xml}");
    // CPA is on a secondary value axis, so it is not a flat line under spend.
    assert_eq!(xml.matches("<c:valAx>").count(), 2, "{xml}");
    assert_eq!(xml.matches("<c:lineChart>").count(), 2, "{xml}");
}

// ------------------------------------------------------------------ PDF

struct PdfText {
    pages: Vec<Vec<String>>,
    doc: lopdf::Document,
}

fn pdf_text(bytes: &[u8]) -> PdfText {
    assert!(bytes.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    let pages = doc
        .get_pages()
        .keys()
        .map(|n| {
            doc.extract_text(&[*n])
                .unwrap()
                .lines()
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .collect()
        })
        .collect();
    PdfText { pages, doc }
}

impl PdfText {
    fn all(&self) -> HashSet<&str> {
        self.pages.iter().flatten().map(String::as_str).collect()
    }
}

#[test]
fn pdf_text_has_the_title_page_tables_and_figures_as_the_tables_show_them() {
    let doc = sample();
    for sep in [DecimalSeparator::Point, DecimalSeparator::Comma] {
        let text = pdf_text(&render(&doc, ReportFormat::Pdf, sep));
        assert!(text.pages.len() >= 3, "title, tables and chart pages");

        let first: HashSet<&str> = text.pages[0].iter().map(String::as_str).collect();
        assert!(first.contains(doc.title.as_str()), "{first:?}");
        assert!(first.contains(doc.subtitle.as_str()), "{first:?}");
        assert!(first.contains("Generated 2026-11-30 06:00 UTC"));
        for f in &doc.summary {
            assert!(first.contains(f.label.as_str()), "{}", f.label);
            let shown = f.value.to_text(f.kind, sep, TextStyle::Display);
            assert!(first.contains(shown.as_str()), "{shown} not on page 1");
        }

        let all = text.all();
        for t in &doc.tables {
            assert!(all.contains(t.title.as_str()), "{}", t.title);
            for c in &t.columns {
                let header = if c.kind == ColumnKind::Money {
                    format!("{} (BRL)", c.header)
                } else {
                    c.header.clone()
                };
                assert!(all.contains(header.as_str()), "{header}");
            }
            for row in &t.rows {
                for (c, cell) in t.columns.iter().zip(row) {
                    let shown = cell.to_text(c.kind, sep, TextStyle::Display);
                    assert!(all.contains(shown.as_str()), "{shown} missing");
                }
            }
        }
        for c in &CAMPAIGNS {
            assert!(all.contains(c.name), "{}", c.name);
        }
    }
}

#[test]
fn pdf_shows_hand_checked_figures_in_each_decimal_style() {
    let doc = sample();
    let point = pdf_text(&render(&doc, ReportFormat::Pdf, DecimalSeparator::Point)).all_owned();
    assert!(point.contains("3,479.70"));
    assert!(point.contains("152,660"), "grouped impressions");
    assert!(point.contains("\u{2013}"), "a dash for the missing CPA");
    let comma = pdf_text(&render(&doc, ReportFormat::Pdf, DecimalSeparator::Comma)).all_owned();
    assert!(comma.contains("3.479,70"));
    assert!(!comma.contains("3,479.70"));
}

impl PdfText {
    fn all_owned(&self) -> HashSet<String> {
        self.pages.iter().flatten().cloned().collect()
    }
}

#[test]
fn pdf_chart_page_draws_axes_ticks_lines_and_a_legend() {
    let doc = sample();
    let bytes = render(&doc, ReportFormat::Pdf, DecimalSeparator::Point);
    let text = pdf_text(&bytes);
    let last = text.pages.last().unwrap();
    let lines: HashSet<&str> = last.iter().map(String::as_str).collect();
    let chart = &doc.charts[0];
    assert!(lines.contains(chart.title.as_str()));
    assert!(lines.contains("Spend") && lines.contains("CPA"), "legend");
    for label in ["11-23", "11-26", "11-29"] {
        assert!(lines.contains(label), "x tick {label}");
    }
    // Spend on the left axis, CPA (tens, not thousands) on the right one,
    // both with six ticks so the gridlines serve both.
    let (left, right) = y_tick_labels(chart, DecimalSeparator::Point);
    assert_eq!(left.first().map(String::as_str), Some("0.00"));
    assert_eq!(left.last().map(String::as_str), Some("1,000.00"));
    assert_eq!(right.len(), left.len());
    assert_eq!(right.last().map(String::as_str), Some("50.00"));
    for t in left.iter().chain(&right) {
        assert!(lines.contains(t.as_str()), "y tick {t}");
    }
    assert!(lines.contains("(right axis)"));
    let ticks = left;

    // The lines are vector paths: a move and six line segments for the
    // seven days of spend, more for axes and gridlines.
    let (_, page_id) = text.doc.get_pages().into_iter().next_back().unwrap();
    let content = text.doc.get_page_content(page_id);
    let ops = lopdf::content::Content::decode(&content)
        .unwrap()
        .operations;
    let count = |op: &str| ops.iter().filter(|o| o.operator == op).count();
    assert!(
        count("l") >= 6 + ticks.len() + 2,
        "{} line segments",
        count("l")
    );
    assert!(count("S") >= ticks.len() + 3, "{} strokes", count("S"));
}

#[test]
fn pdf_long_tables_break_across_pages_and_repeat_their_header() {
    let mut doc = sample();
    doc.charts.clear();
    let rows = doc.tables[1].rows.clone();
    for _ in 0..5 {
        doc.tables[1].rows.extend(rows.iter().cloned());
    }
    let text = pdf_text(&render(&doc, ReportFormat::Pdf, DecimalSeparator::Point));
    assert!(text.pages.len() >= 4, "{} pages", text.pages.len());
    let continued = text
        .pages
        .iter()
        .filter(|p| p.iter().any(|l| l == "Daily by campaign (continued)"))
        .count();
    assert!(continued >= 1);
    // Every page after the title page starts its table with the header.
    for p in &text.pages[1..] {
        assert!(p.iter().any(|l| l == "Spend (BRL)"), "{p:?}");
    }
    let last = text.pages.len();
    assert!(
        text.pages[last - 1]
            .iter()
            .any(|l| l == &format!("{} \u{b7} page {last} of {last}", doc.title))
    );
}

/// A table of `n` columns (at most 16) under long, many-word headers, as a
/// report with every metric might have; one week of rows per campaign.
fn wide_table(n: usize) -> Table {
    let columns = [
        ("Campaign", ColumnKind::Text),
        ("Date", ColumnKind::Date),
        ("Impressions", ColumnKind::Integer),
        ("Unique reach", ColumnKind::Integer),
        ("Link clicks", ColumnKind::Integer),
        ("Click-through rate", ColumnKind::Percent),
        ("Cost per click", ColumnKind::Money),
        ("Spend", ColumnKind::Money),
        ("Conversions", ColumnKind::Integer),
        ("Cost per acquisition", ColumnKind::Money),
        ("Conversion value", ColumnKind::Money),
        ("Return on ad spend", ColumnKind::Ratio),
        ("Average frequency per person", ColumnKind::Ratio),
        ("Video views at 75 percent", ColumnKind::Integer),
        ("Landing page views", ColumnKind::Integer),
        ("Cost per landing page view", ColumnKind::Money),
    ];
    let columns: Vec<Column> = columns[..n]
        .iter()
        .map(|(h, k)| Column::new(*h, *k))
        .collect();
    let rows = days()
        .into_iter()
        .flat_map(|day| CAMPAIGNS.iter().map(move |c| (day, c.name)))
        .map(|(day, name)| {
            columns
                .iter()
                .map(|c| match c.kind {
                    ColumnKind::Text => Cell::Text(name.into()),
                    ColumnKind::Date => Cell::Date(day),
                    ColumnKind::Integer => Cell::Integer(12_345),
                    _ => Cell::Number(d("1234.56")),
                })
                .collect()
        })
        .collect();
    Table {
        title: format!("All metrics ({n} columns)"),
        columns,
        rows,
    }
}

/// The sample with `tables` instead of its own.
fn sample_with(tables: Vec<Table>) -> ReportDocument {
    let mut doc = sample();
    doc.tables = tables;
    doc
}

impl PdfText {
    /// Each page's `MediaBox` width and height, in points.
    fn page_sizes(&self) -> Vec<(f32, f32)> {
        self.doc
            .get_pages()
            .values()
            .map(|id| {
                let page = self.doc.get_dictionary(*id).unwrap();
                let b = page.get(b"MediaBox").unwrap().as_array().unwrap();
                let f = |i: usize| b[i].as_float().unwrap();
                (f(2) - f(0), f(3) - f(1))
            })
            .collect()
    }

    /// The pages whose text has `line`, numbered from 1.
    fn pages_with(&self, line: &str) -> Vec<usize> {
        (1..=self.pages.len())
            .filter(|n| self.pages[n - 1].iter().any(|l| l == line))
            .collect()
    }

    fn assert_footers_count_pages(&self, title: &str) {
        let total = self.pages.len();
        for (i, p) in self.pages.iter().enumerate() {
            let footer = format!("{title} \u{b7} page {} of {total}", i + 1);
            assert!(p.contains(&footer), "no {footer:?} on {p:?}");
        }
    }
}

#[test]
fn pdf_prints_every_header_word_of_a_ten_column_table_uncut() {
    let table = wide_table(10);
    let doc = sample_with(vec![table.clone()]);
    let text = pdf_text(&render(&doc, ReportFormat::Pdf, DecimalSeparator::Point));
    let page = &text.pages[1];
    let words: HashSet<&str> = page.iter().flat_map(|l| l.split(' ')).collect();
    for c in &table.columns {
        for word in c.header.split(' ') {
            assert!(words.contains(word), "{word:?} of {:?} missing", c.header);
        }
    }
    assert!(words.contains("(BRL)"), "money headers say the currency");
    assert!(
        page.iter().all(|l| !l.contains('\u{2026}')),
        "something was cut: {page:?}"
    );
    // Long headers are broken into lines rather than widening the table.
    assert!(!page.contains(&"Cost per acquisition (BRL)".to_owned()));
}

#[test]
fn pdf_cuts_long_cells_but_not_the_headers_over_them() {
    let mut table = wide_table(10);
    let long = "Black Friday \u{2013} Prospecção, públicos semelhantes de compradores, 2026";
    for r in &mut table.rows {
        r[0] = Cell::Text(long.into());
    }
    let doc = sample_with(vec![table.clone()]);
    let text = pdf_text(&render(&doc, ReportFormat::Pdf, DecimalSeparator::Point));
    let page = &text.pages[1];
    let cut: Vec<&String> = page.iter().filter(|l| l.contains('\u{2026}')).collect();
    assert!(!cut.is_empty(), "{page:?}");
    for l in cut {
        let kept = l.trim_end_matches('\u{2026}');
        assert!(long.starts_with(kept), "{l:?} is not a cut cell");
    }
}

#[test]
fn pdf_keeps_a_table_that_fits_on_portrait_pages() {
    let text = pdf_text(&render(
        &sample(),
        ReportFormat::Pdf,
        DecimalSeparator::Point,
    ));
    for (w, h) in text.page_sizes() {
        assert!(w < h, "{w} × {h} is not portrait");
    }
    // Headers that fit stay on one line.
    assert!(text.pages[1].iter().any(|l| l == "Conversions"));
}

#[test]
fn pdf_puts_a_table_too_wide_for_portrait_on_landscape_pages_between_portrait_ones() {
    let sample = sample();
    let mut wide = wide_table(16);
    let rows = wide.rows.clone();
    for _ in 0..3 {
        wide.rows.extend(rows.iter().cloned());
    }
    let doc = sample_with(vec![
        sample.tables[0].clone(),
        wide.clone(),
        sample.tables[1].clone(),
    ]);
    let text = pdf_text(&render(&doc, ReportFormat::Pdf, DecimalSeparator::Point));
    let sizes = text.page_sizes();

    let first = text.pages_with(&wide.title);
    let continued = text.pages_with(&format!("{} (continued)", wide.title));
    assert_eq!(first.len(), 1);
    assert!(!continued.is_empty(), "84 rows span pages");
    let wide_pages: Vec<usize> = first.iter().chain(&continued).copied().collect();
    for (n, (w, h)) in (1..).zip(&sizes) {
        if wide_pages.contains(&n) {
            assert!(w > h, "page {n} of the wide table is {w} × {h}");
            // Its header is repeated: the first word of its last column.
            assert!(text.pages[n - 1].iter().any(|l| l.starts_with("Cost")));
        } else {
            assert!(w < h, "page {n} is {w} × {h}");
        }
    }
    // The tables before and after it are on portrait pages of their own.
    assert!(text.pages_with("Campaigns").iter().all(|n| n < &first[0]));
    let after = text.pages_with("Daily by campaign");
    assert!(after.iter().all(|n| n > continued.last().unwrap()));
    text.assert_footers_count_pages(&doc.title);
    assert_eq!(text.pages.len(), sizes.len());
}

// ------------------------------------------------------------------ all

#[test]
fn invalid_documents_are_refused_in_every_format() {
    let mut doc = sample();
    doc.tables[0].rows[1].pop();
    for format in ReportFormat::ALL {
        let err = DocumentRenderer::new()
            .render(&doc, *format, &RenderOptions::default())
            .unwrap_err();
        assert!(
            matches!(
                err,
                RenderError::Invalid(ReportError::RowWidth {
                    row: 2,
                    expected: 8,
                    found: 7,
                    ..
                })
            ),
            "{format}: {err}"
        );
    }
}

#[test]
fn a_document_with_only_a_title_renders_in_every_format() {
    let doc = ReportDocument {
        title: "Empty".into(),
        subtitle: String::new(),
        currency: "USD".into(),
        generated_at: datetime!(2026-11-30 06:00 UTC),
        summary: vec![],
        tables: vec![],
        charts: vec![],
    };
    let csv = render(&doc, ReportFormat::Csv, DecimalSeparator::Point);
    assert!(String::from_utf8(csv).unwrap().contains("Empty"));
    let wb = workbook(&render(&doc, ReportFormat::Xlsx, DecimalSeparator::Point));
    assert_eq!(wb.sheet_names(), vec!["Summary"]);
    let text = pdf_text(&render(&doc, ReportFormat::Pdf, DecimalSeparator::Point));
    assert_eq!(text.pages.len(), 1);
    assert!(text.pages[0].iter().any(|l| l == "Empty"));
}

/// Writes the sample in every format, for the docs' images:
/// `REPORT_SAMPLE_DIR=/tmp/report cargo test -p infrastructure --test
/// report_renderers -- --ignored write_sample_reports`, then
/// `pdftoppm -png -r 60 /tmp/report/sample.pdf docs/images/report-sample`.
#[test]
#[ignore = "writes files; run by hand to refresh docs/images"]
fn write_sample_reports() {
    let dir = std::env::var_os("REPORT_SAMPLE_DIR")
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let doc = sample();
    for format in ReportFormat::ALL {
        let bytes = render(&doc, *format, DecimalSeparator::Point);
        let path = dir.join(format!("sample.{}", format.extension()));
        std::fs::write(&path, bytes).unwrap();
        println!("wrote {}", path.display());
    }
}
