//! PDF through `printpdf`, laid out here: A4, the built-in Helvetica fonts
//! (nothing embedded, text extractable), vector graphics.
//!
//! Pages, in order:
//! - **title page**: title, subtitle, generation time, currency, and the
//!   summary figures in a grid of labelled values;
//! - **tables**, from page 2: each with its title, a shaded header row
//!   repeated on every page it spans, numbers right-aligned. Columns are as
//!   wide as their content (text up to a cap, past which cells are cut with
//!   `…`; numbers and dates whole). A table wider than the page first wraps
//!   its headers at spaces (up to three lines), then goes on landscape
//!   pages, then takes a smaller font; only when even that fails are
//!   headers cut;
//! - **charts**, one per page: line chart over days with axes, gridlines,
//!   tick labels (dates on x, values on y), gaps where a value is missing,
//!   and a legend.
//!
//! The title page and charts are portrait; a landscape table starts a page
//! of its own and the next portrait content another. Every page has a
//! footer `<title> · page N of M`. Values are written by the domain's
//! display formatter ([`TextStyle::Display`]): thousands grouped, `%` after
//! percentages, `–` for a missing value, the decimal mark from
//! [`RenderOptions`]. Money is shown without a symbol; the title page
//! and the table headers say the currency. Text outside Windows-1252 (the
//! built-in fonts' encoding) prints as `?`.

use std::collections::HashMap;
use std::sync::OnceLock;

use domain::reports::{
    Axis, Cell, Chart, ColumnKind, DecimalSeparator, RenderError, RenderOptions, ReportDocument,
    ReportFormat, Series, Table, TextStyle, iso_date,
};
use printpdf::{
    BuiltinFont, Color, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem, WindingOrder,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{backend, display_timestamp};

/// A4 portrait, in points; landscape swaps them.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 50.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const TOP: f32 = PAGE_H - MARGIN;
/// Lowest baseline for content; the footer sits below it.
const BOTTOM: f32 = MARGIN + 20.0;

const TABLE_FONT: f32 = 9.0;
const MIN_TABLE_FONT: f32 = 6.0;
/// Steps the font shrinks by when even landscape is too narrow.
const TABLE_FONT_STEP: f32 = 0.5;
const CELL_PAD: f32 = 5.0;
/// Widest a text column gets (padding included); longer text is cut.
const MAX_TEXT_COL: f32 = 170.0;
/// Most lines a header wraps onto; more words than that need a wider page.
const MAX_HEADER_LINES: usize = 3;
/// Baseline distance of wrapped header lines, in font sizes.
const HEADER_LEADING: f32 = 1.15;
/// Room for rounding between a width measured at 1 pt and one at the
/// table's size, so a text measured to fit is not cut.
const SLACK: f32 = 0.01;

const INK: (f32, f32, f32) = (0.13, 0.15, 0.18);
const MUTED: (f32, f32, f32) = (0.42, 0.45, 0.50);
const RULE: (f32, f32, f32) = (0.82, 0.84, 0.87);
const SHADE: (f32, f32, f32) = (0.93, 0.94, 0.96);
const ACCENT: (f32, f32, f32) = (0.13, 0.35, 0.75);
/// Series colours, in order (blue, orange, green, red, purple, teal).
const PALETTE: [(f32, f32, f32); 6] = [
    (0.13, 0.35, 0.75),
    (0.90, 0.45, 0.10),
    (0.18, 0.60, 0.30),
    (0.80, 0.15, 0.20),
    (0.50, 0.30, 0.70),
    (0.10, 0.55, 0.60),
];

/// Renders `doc` as described in the module docs. `doc` must be valid.
///
/// # Errors
/// None in practice; the signature matches the other formats.
pub fn render(doc: &ReportDocument, options: &RenderOptions) -> Result<Vec<u8>, RenderError> {
    let sep = options.decimal_separator;
    let mut pages = vec![title_page(doc, sep)];
    let mut flow = Flow::new();
    for t in &doc.tables {
        table(&mut flow, t, &doc.currency, sep);
    }
    pages.extend(flow.finish());
    for c in &doc.charts {
        pages.push(chart_page(c, &doc.currency, sep));
    }

    let total = pages.len();
    let mut pdf = PdfDocument::new(&doc.title);
    if let Ok(t) = printpdf::OffsetDateTime::from_unix_timestamp(doc.generated_at.unix_timestamp())
    {
        pdf.metadata.info.creation_date = t;
        pdf.metadata.info.modification_date = t;
        pdf.metadata.info.metadata_date = t;
    }
    pdf.metadata.info.subject.clone_from(&doc.subtitle);
    pdf.metadata.info.creator = "AdScale".to_owned();
    let pages = pages
        .into_iter()
        .enumerate()
        .map(|(i, mut canvas)| {
            let footer = format!("{} \u{b7} page {} of {total}", doc.title, i + 1);
            canvas.text(MARGIN, MARGIN - 8.0, &footer, Font::Regular, 8.0, MUTED);
            let (w, h) = canvas.orientation.mm();
            PdfPage::new(w, h, canvas.ops)
        })
        .collect();
    pdf.with_pages(pages);
    let mut warnings = Vec::new();
    let bytes = pdf.save(&PdfSaveOptions::default(), &mut warnings);
    if bytes.is_empty() {
        return Err(backend(
            ReportFormat::Pdf,
            "the PDF writer produced nothing",
        ));
    }
    for w in warnings {
        tracing::debug!(warning = ?w, "pdf writer warning");
    }
    Ok(bytes)
}

// ---------------------------------------------------------------- drawing

/// The two faces used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    const fn builtin(self) -> BuiltinFont {
        match self {
            Self::Regular => BuiltinFont::Helvetica,
            Self::Bold => BuiltinFont::HelveticaBold,
        }
    }
}

/// Advance widths (thousandths of an em) of the characters the built-in
/// fonts can show, read once from the metric-compatible faces printpdf ships.
struct Metrics {
    regular: HashMap<char, f32>,
    bold: HashMap<char, f32>,
}

/// Helvetica's width of a digit, used for characters the metrics lack.
const FALLBACK_WIDTH: f32 = 556.0;

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| Metrics {
        regular: widths(BuiltinFont::Helvetica),
        bold: widths(BuiltinFont::HelveticaBold),
    })
}

fn widths(font: BuiltinFont) -> HashMap<char, f32> {
    let Some(parsed) = font.get_parsed_font() else {
        return HashMap::new();
    };
    let upem = f32::from(parsed.units_per_em.max(1));
    parsed
        .codepoint_to_glyph
        .iter()
        .filter_map(|(cp, gid)| {
            let c = char::from_u32(*cp)?;
            let w = parsed.get_glyph_width(*gid)?;
            Some((c, f32::from(w) * 1000.0 / upem))
        })
        .collect()
}

/// Width of `s` in points at `size`.
fn text_width(s: &str, font: Font, size: f32) -> f32 {
    let m = metrics();
    let table = match font {
        Font::Regular => &m.regular,
        Font::Bold => &m.bold,
    };
    let em: f32 = s
        .chars()
        .map(|c| table.get(&c).copied().unwrap_or(FALLBACK_WIDTH))
        .sum();
    em * size / 1000.0
}

/// `s` cut with `…` to fit `max` points.
fn fit(s: &str, font: Font, size: f32, max: f32) -> String {
    if text_width(s, font, size) <= max {
        return s.to_owned();
    }
    let mut out: String = s.to_owned();
    while !out.is_empty() && text_width(&format!("{out}\u{2026}"), font, size) > max {
        out.pop();
    }
    format!("{}\u{2026}", out.trim_end())
}

const fn rgb((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

const fn pt(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: Point { x: Pt(x), y: Pt(y) },
        bezier: false,
    }
}

/// Which way up an A4 page is. The title page and charts are portrait;
/// a table too wide for portrait gets landscape pages of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Orientation {
    #[default]
    Portrait,
    Landscape,
}

impl Orientation {
    /// Width and height in points.
    const fn size(self) -> (f32, f32) {
        match self {
            Self::Portrait => (PAGE_W, PAGE_H),
            Self::Landscape => (PAGE_H, PAGE_W),
        }
    }

    /// Width and height as the page's `MediaBox` gets them.
    const fn mm(self) -> (Mm, Mm) {
        match self {
            Self::Portrait => (Mm(210.0), Mm(297.0)),
            Self::Landscape => (Mm(297.0), Mm(210.0)),
        }
    }

    /// Width between the side margins.
    const fn content_width(self) -> f32 {
        self.size().0 - 2.0 * MARGIN
    }

    /// Highest baseline for content.
    const fn top(self) -> f32 {
        self.size().1 - MARGIN
    }
}

/// The operations of one page, in PDF points from the bottom-left corner.
#[derive(Default)]
struct Canvas {
    orientation: Orientation,
    ops: Vec<Op>,
}

impl Canvas {
    fn new(orientation: Orientation) -> Self {
        Self {
            orientation,
            ops: Vec::new(),
        }
    }

    fn text(&mut self, x: f32, y: f32, s: &str, font: Font, size: f32, color: (f32, f32, f32)) {
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFillColor { col: rgb(color) },
            Op::SetFont {
                font: PdfFontHandle::Builtin(font.builtin()),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point { x: Pt(x), y: Pt(y) },
            },
            Op::ShowText {
                items: vec![TextItem::Text(s.to_owned())],
            },
            Op::EndTextSection,
        ]);
    }

    /// Text whose right edge is at `x`.
    fn text_right(
        &mut self,
        x: f32,
        y: f32,
        s: &str,
        font: Font,
        size: f32,
        color: (f32, f32, f32),
    ) {
        let w = text_width(s, font, size);
        self.text(x - w, y, s, font, size, color);
    }

    /// Text centred on `x`.
    fn text_centered(
        &mut self,
        x: f32,
        y: f32,
        s: &str,
        font: Font,
        size: f32,
        color: (f32, f32, f32),
    ) {
        let w = text_width(s, font, size);
        self.text(x - w / 2.0, y, s, font, size, color);
    }

    fn polyline(&mut self, points: &[(f32, f32)], width: f32, color: (f32, f32, f32)) {
        if points.len() < 2 {
            return;
        }
        self.ops.extend([
            Op::SetOutlineColor { col: rgb(color) },
            Op::SetOutlineThickness { pt: Pt(width) },
            Op::DrawLine {
                line: Line {
                    points: points.iter().map(|&(x, y)| pt(x, y)).collect(),
                    is_closed: false,
                },
            },
        ]);
    }

    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: (f32, f32, f32)) {
        self.ops.extend([
            Op::SetFillColor { col: rgb(color) },
            Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(x),
                    y: Pt(y),
                    width: Pt(w),
                    height: Pt(h),
                    mode: Some(PaintMode::Fill),
                    winding_order: Some(WindingOrder::NonZero),
                },
            },
        ]);
    }
}

// ---------------------------------------------------------------- title page

fn title_page(doc: &ReportDocument, sep: DecimalSeparator) -> Canvas {
    let mut c = Canvas::default();
    c.fill_rect(0.0, PAGE_H - 14.0, PAGE_W, 14.0, ACCENT);
    let mut y = TOP - 110.0;
    for line in wrap(&doc.title, Font::Bold, 26.0, CONTENT_W) {
        c.text(MARGIN, y, &line, Font::Bold, 26.0, INK);
        y -= 32.0;
    }
    y -= 4.0;
    for line in wrap(&doc.subtitle, Font::Regular, 14.0, CONTENT_W) {
        c.text(MARGIN, y, &line, Font::Regular, 14.0, INK);
        y -= 20.0;
    }
    y -= 6.0;
    let generated = format!("Generated {}", display_timestamp(doc.generated_at));
    c.text(MARGIN, y, &generated, Font::Regular, 10.0, MUTED);
    y -= 14.0;
    let amounts = format!("Amounts in {}", doc.currency);
    c.text(MARGIN, y, &amounts, Font::Regular, 10.0, MUTED);
    y -= 24.0;
    c.polyline(&[(MARGIN, y), (PAGE_W - MARGIN, y)], 0.8, RULE);

    if doc.summary.is_empty() {
        return c;
    }
    y -= 36.0;
    c.text(MARGIN, y, "Summary", Font::Bold, 14.0, INK);
    y -= 18.0;
    // A grid of three figures per row: label above, value below.
    let cols = 3;
    let cell_w = CONTENT_W / 3.0;
    for (i, f) in doc.summary.iter().enumerate() {
        let col = i % cols;
        if col == 0 && i > 0 {
            y -= 58.0;
        }
        let x = MARGIN + cell_w * col as f32;
        c.fill_rect(x, y - 46.0, cell_w - 10.0, 46.0, SHADE);
        let label = fit(&f.label, Font::Regular, 9.0, cell_w - 24.0);
        c.text(x + 8.0, y - 15.0, &label, Font::Regular, 9.0, MUTED);
        let value = f.value.to_text(f.kind, sep, TextStyle::Display);
        let value = fit(&value, Font::Bold, 17.0, cell_w - 56.0);
        c.text(x + 8.0, y - 37.0, &value, Font::Bold, 17.0, INK);
        if f.kind == ColumnKind::Money && f.value != Cell::Empty {
            let vx = x + 8.0 + text_width(&value, Font::Bold, 17.0) + 4.0;
            c.text(vx, y - 37.0, &doc.currency, Font::Regular, 9.0, MUTED);
        }
    }
    c
}

/// Splits `s` into lines of at most `max` points, at spaces; a word wider
/// than `max` is cut with `…`.
fn wrap(s: &str, font: Font, size: f32, max: f32) -> Vec<String> {
    wrap_at_most(s, font, size, max, usize::MAX)
}

/// [`wrap`] onto at most `lines` lines: words that do not fit in them end
/// the last line, cut with `…`.
fn wrap_at_most(s: &str, font: Font, size: f32, max: f32, lines: usize) -> Vec<String> {
    let mut broken = break_lines(s, font, size, max);
    if broken.len() > lines {
        let rest = broken.split_off(lines.max(1) - 1).join(" ");
        broken.push(rest);
    }
    broken
        .into_iter()
        .map(|l| fit(&l, font, size, max))
        .collect()
}

/// The narrowest width, in points, at which [`break_lines`] puts `s` on at
/// most `lines` lines, so no word is cut.
fn narrowest(s: &str, font: Font, size: f32, lines: usize) -> f32 {
    let words: Vec<&str> = s.split_whitespace().collect();
    let longest = words
        .iter()
        .map(|w| text_width(w, font, size))
        .fold(0.0, f32::max);
    // Every line is a run of words, so the answer is the width of one run.
    let mut runs: Vec<f32> = (0..words.len())
        .flat_map(|i| (i + 1..=words.len()).map(move |j| (i, j)))
        .map(|(i, j)| text_width(&words[i..j].join(" "), font, size))
        .filter(|w| *w >= longest)
        .collect();
    runs.sort_by(f32::total_cmp);
    runs.into_iter()
        .find(|w| break_lines(s, font, size, *w).len() <= lines)
        .unwrap_or(longest)
}

/// Splits `s` at spaces into lines of at most `max` points, fewest lines
/// first; a word wider than `max` gets a line of its own, uncut.
fn break_lines(s: &str, font: Font, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, font, size) > max && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line = word.to_owned();
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

// ---------------------------------------------------------------- tables

/// Pages filled top to bottom; a new one when the next thing does not fit
/// or needs the other orientation.
struct Flow {
    pages: Vec<Canvas>,
    page: Canvas,
    y: f32,
    used: bool,
}

impl Flow {
    fn new() -> Self {
        Self {
            pages: Vec::new(),
            page: Canvas::default(),
            y: TOP,
            used: false,
        }
    }

    /// Whether `height` more points fit on this page.
    fn fits(&self, height: f32) -> bool {
        self.y - height >= BOTTOM
    }

    /// Width between the side margins of this page.
    fn width(&self) -> f32 {
        self.page.orientation.content_width()
    }

    /// Ends this page (unless nothing is on it) and starts an `orientation` one.
    fn new_page(&mut self, orientation: Orientation) {
        let page = std::mem::replace(&mut self.page, Canvas::new(orientation));
        if self.used {
            self.pages.push(page);
        }
        self.y = orientation.top();
        self.used = false;
    }

    fn finish(mut self) -> Vec<Canvas> {
        if self.used {
            self.pages.push(self.page);
        }
        self.pages
    }
}

/// Column layout of one table: the pages it goes on, font size, widths
/// (spanning the page) and the texts as drawn: headers broken into lines,
/// cells cut to their column.
struct Layout {
    orientation: Orientation,
    size: f32,
    widths: Vec<f32>,
    header: Vec<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl Layout {
    fn row_height(&self) -> f32 {
        self.size * 1.9
    }

    /// A row's height plus a line for each header line past the first.
    fn header_height(&self) -> f32 {
        let lines = self.header.iter().map(Vec::len).max().unwrap_or(1).max(1);
        #[allow(clippy::cast_precision_loss)] // at most MAX_HEADER_LINES
        let extra = (lines - 1) as f32 * self.size * HEADER_LEADING;
        self.row_height() + extra
    }
}

/// What one column's texts need, measured at 1 pt: a width at size `s` is
/// `em × s` plus the padding.
struct Measure {
    /// The widest cell.
    cells: f32,
    /// The whole header on one line.
    header: f32,
    /// The header on at most 1, 2, … [`MAX_HEADER_LINES`] lines, no word cut.
    header_in: [f32; MAX_HEADER_LINES],
    /// Text cells may be cut with `…`; numbers and dates are shown whole.
    cuttable: bool,
}

impl Measure {
    fn new<'a>(header: &str, kind: ColumnKind, cells: impl Iterator<Item = &'a str>) -> Self {
        Self {
            cells: cells
                .map(|s| text_width(s, Font::Regular, 1.0))
                .fold(0.0, f32::max),
            header: text_width(header, Font::Bold, 1.0),
            header_in: std::array::from_fn(|i| narrowest(header, Font::Bold, 1.0, i + 1)),
            cuttable: kind == ColumnKind::Text,
        }
    }

    /// What the column wants at `size`: the header on one line.
    fn ideal(&self, size: f32) -> f32 {
        self.width(size, self.header)
    }

    /// The least it can make do with at `size`: the header on `lines` lines.
    fn least(&self, size: f32, lines: usize) -> f32 {
        self.width(size, self.header_in[lines.clamp(1, MAX_HEADER_LINES) - 1])
    }

    /// Room for a header `header` em wide and every cell whole, text up to
    /// [`MAX_TEXT_COL`].
    fn width(&self, size: f32, header: f32) -> f32 {
        let pad = 2.0 * CELL_PAD + SLACK;
        let cells = self.cells * size + pad;
        let cells = if self.cuttable {
            cells.min(MAX_TEXT_COL)
        } else {
            cells
        };
        cells.max(header * size + pad)
    }
}

/// The first of these that holds the table's least widths is used: the
/// usual font on portrait, then on landscape, with headers on up to 2 then
/// [`MAX_HEADER_LINES`] lines; then a smaller landscape font.
fn attempts() -> impl Iterator<Item = (Orientation, f32, usize)> {
    let usual = [Orientation::Portrait, Orientation::Landscape]
        .into_iter()
        .flat_map(|o| [(o, TABLE_FONT, 2), (o, TABLE_FONT, MAX_HEADER_LINES)]);
    let smaller = std::iter::successors(Some(TABLE_FONT - TABLE_FONT_STEP), |s| {
        Some(s - TABLE_FONT_STEP)
    })
    .take_while(|s| *s >= MIN_TABLE_FONT)
    .map(|s| (Orientation::Landscape, s, MAX_HEADER_LINES));
    usual.chain(smaller)
}

fn layout(t: &Table, currency: &str, sep: DecimalSeparator) -> Layout {
    let header: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            if c.kind == ColumnKind::Money {
                format!("{} ({currency})", c.header)
            } else {
                c.header.clone()
            }
        })
        .collect();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            t.columns
                .iter()
                .zip(r)
                .map(|(c, cell)| cell.to_text(c.kind, sep, TextStyle::Display))
                .collect()
        })
        .collect();
    let measures: Vec<Measure> = t
        .columns
        .iter()
        .zip(&header)
        .enumerate()
        .map(|(i, (c, h))| {
            let cells = rows.iter().filter_map(|r| r.get(i)).map(String::as_str);
            Measure::new(h, c.kind, cells)
        })
        .collect();
    let least = |size: f32, lines: usize| -> Vec<f32> {
        measures.iter().map(|m| m.least(size, lines)).collect()
    };
    let (orientation, size, least) = attempts()
        .map(|(o, size, lines)| (o, size, least(size, lines)))
        .find(|(o, _, least)| least.iter().sum::<f32>() <= o.content_width())
        .unwrap_or_else(|| {
            // Nothing holds it: squeezed, and the headers are cut too.
            let o = Orientation::Landscape;
            (o, MIN_TABLE_FONT, least(MIN_TABLE_FONT, MAX_HEADER_LINES))
        });
    let ideal: Vec<f32> = measures.iter().map(|m| m.ideal(size)).collect();
    let widths = share(&least, &ideal, orientation.content_width());
    let inner = |w: f32| w - 2.0 * CELL_PAD;
    let header = header
        .iter()
        .zip(&widths)
        .map(|(h, w)| wrap_at_most(h, Font::Bold, size, inner(*w), MAX_HEADER_LINES))
        .collect();
    let rows = rows
        .into_iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(s, w)| fit(s, Font::Regular, size, inner(*w)))
                .collect()
        })
        .collect();
    Layout {
        orientation,
        size,
        widths,
        header,
        rows,
    }
}

/// Column widths spanning `room`: each column gets its `least`, then the
/// same share of what it lacks of its `ideal`, then an equal part of what
/// is left. Squeezed in proportion when even the least do not fit.
fn share(least: &[f32], ideal: &[f32], room: f32) -> Vec<f32> {
    let floor: f32 = least.iter().sum();
    if floor >= room {
        let scale = if floor > 0.0 { room / floor } else { 0.0 };
        return least.iter().map(|w| w * scale).collect();
    }
    let lack = |(l, i): (&f32, &f32)| (i - l).max(0.0);
    let wanted: f32 = least.iter().zip(ideal).map(lack).sum();
    let granted = if wanted > 0.0 {
        ((room - floor) / wanted).min(1.0)
    } else {
        0.0
    };
    let mut widths: Vec<f32> = least
        .iter()
        .zip(ideal)
        .map(|c| c.0 + lack(c) * granted)
        .collect();
    let left = room - widths.iter().sum::<f32>();
    if left > 0.0 && !widths.is_empty() {
        #[allow(clippy::cast_precision_loss)] // a few dozen columns at most
        let each = left / widths.len() as f32;
        for w in &mut widths {
            *w += each;
        }
    }
    widths
}

fn table(flow: &mut Flow, t: &Table, currency: &str, sep: DecimalSeparator) {
    let l = layout(t, currency, sep);
    let row_h = l.row_height();
    let title_h = 30.0;
    // Start on a new page unless the title, header and a few rows fit on
    // this one, and it is the right way up.
    let start = title_h + l.header_height() + row_h * 3.0;
    if flow.page.orientation != l.orientation || !flow.fits(start) {
        flow.new_page(l.orientation);
    }
    if flow.used {
        flow.y -= 16.0;
    }
    table_title(flow, &t.title);
    header_row(flow, t, &l);
    for (i, cells) in l.rows.iter().enumerate() {
        if !flow.fits(row_h) {
            flow.new_page(l.orientation);
            table_title(flow, &format!("{} (continued)", t.title));
            header_row(flow, t, &l);
        }
        if i % 2 == 1 {
            let w = flow.width();
            flow.page.fill_rect(MARGIN, flow.y - row_h, w, row_h, SHADE);
        }
        row(flow, t, &l, cells);
    }
    let y = flow.y;
    let right = MARGIN + flow.width();
    flow.page.polyline(&[(MARGIN, y), (right, y)], 0.6, RULE);
}

fn table_title(flow: &mut Flow, title: &str) {
    flow.used = true;
    flow.y -= 16.0;
    let title = fit(title, Font::Bold, 13.0, flow.width());
    flow.page
        .text(MARGIN, flow.y, &title, Font::Bold, 13.0, INK);
    flow.y -= 10.0;
}

/// The shaded header row; wrapped headers sit on the row's last line, so
/// every header's last line lines up.
fn header_row(flow: &mut Flow, t: &Table, l: &Layout) {
    let h = l.header_height();
    flow.page
        .fill_rect(MARGIN, flow.y - h, flow.width(), h, RULE);
    let last = baseline(flow.y - h, l);
    for (slot, lines) in slots(t, l).zip(&l.header) {
        for (i, s) in lines.iter().rev().enumerate() {
            #[allow(clippy::cast_precision_loss)] // at most MAX_HEADER_LINES
            let y = last + i as f32 * l.size * HEADER_LEADING;
            slot.text(&mut flow.page, y, s, Font::Bold, l.size);
        }
    }
    flow.y -= h;
}

fn row(flow: &mut Flow, t: &Table, l: &Layout, cells: &[String]) {
    let y = baseline(flow.y - l.row_height(), l);
    for (slot, s) in slots(t, l).zip(cells) {
        slot.text(&mut flow.page, y, s, Font::Regular, l.size);
    }
    flow.y -= l.row_height();
}

/// The baseline of a one-line row whose bottom edge is at `bottom`.
fn baseline(bottom: f32, l: &Layout) -> f32 {
    bottom + (l.row_height() - l.size) / 2.0 + l.size * 0.22
}

/// Where a column's text goes: from `x`, `w` wide, numbers right-aligned.
struct Slot {
    x: f32,
    w: f32,
    numeric: bool,
}

impl Slot {
    fn text(&self, page: &mut Canvas, y: f32, s: &str, font: Font, size: f32) {
        if self.numeric {
            page.text_right(self.x + self.w - CELL_PAD, y, s, font, size, INK);
        } else {
            page.text(self.x + CELL_PAD, y, s, font, size, INK);
        }
    }
}

/// The table's columns, left to right.
fn slots<'a>(t: &'a Table, l: &'a Layout) -> impl Iterator<Item = Slot> + 'a {
    t.columns.iter().zip(&l.widths).scan(MARGIN, |x, (c, w)| {
        let slot = Slot {
            x: *x,
            w: *w,
            numeric: c.kind.is_numeric(),
        };
        *x += w;
        Some(slot)
    })
}

// ---------------------------------------------------------------- charts

/// One y axis: its ticks (bottom to top), their labels and its kind.
struct Scale {
    ticks: Vec<Decimal>,
    labels: Vec<String>,
    kind: ColumnKind,
}

impl Scale {
    fn new(series: &[&Series], intervals: Option<usize>, sep: DecimalSeparator) -> Self {
        let kind = series.first().map_or(ColumnKind::Ratio, |s| s.kind);
        let ticks = y_ticks(
            series
                .iter()
                .flat_map(|s| s.values.iter().flatten().copied()),
            intervals,
        );
        let labels = ticks
            .iter()
            .map(|v| Cell::Number(*v).to_text(kind, sep, TextStyle::Display))
            .collect();
        Self {
            ticks,
            labels,
            kind,
        }
    }

    fn bounds(&self) -> (f32, f32) {
        match (self.ticks.first(), self.ticks.last()) {
            (Some(lo), Some(hi)) if hi > lo => (to_f32(*lo), to_f32(*hi)),
            _ => (0.0, 1.0),
        }
    }

    fn label_width(&self) -> f32 {
        self.labels
            .iter()
            .map(|s| text_width(s, Font::Regular, 8.0))
            .fold(0.0, f32::max)
    }
}

/// The left and (when some series asks for it) right scales of a chart.
/// Right ticks use as many intervals as the left ones, so gridlines serve both.
fn scales(chart: &Chart, sep: DecimalSeparator) -> (Scale, Option<Scale>) {
    let left: Vec<&Series> = chart.series_on(Axis::Left).collect();
    let right: Vec<&Series> = chart.series_on(Axis::Right).collect();
    if left.is_empty() || right.is_empty() {
        let all: Vec<&Series> = chart.series.iter().collect();
        return (Scale::new(&all, None, sep), None);
    }
    let l = Scale::new(&left, None, sep);
    let r = Scale::new(&right, Some(l.ticks.len().saturating_sub(1)), sep);
    (l, Some(r))
}

fn chart_page(chart: &Chart, currency: &str, sep: DecimalSeparator) -> Canvas {
    let mut c = Canvas::default();
    let title = fit(&chart.title, Font::Bold, 16.0, CONTENT_W);
    c.text(MARGIN, TOP - 16.0, &title, Font::Bold, 16.0, INK);

    let (ls, rs) = scales(chart, sep);
    let left = MARGIN + ls.label_width() + 10.0;
    let right = PAGE_W - MARGIN - rs.as_ref().map_or(0.0, |r| r.label_width() + 10.0) - 10.0;
    let top = TOP - 60.0;
    let bottom = top - 330.0;
    let unit = |kind: ColumnKind| {
        if kind == ColumnKind::Money {
            currency
        } else {
            ""
        }
    };
    c.text(MARGIN, top + 14.0, unit(ls.kind), Font::Regular, 8.0, MUTED);

    let y_of = |scale: &Scale, v: f32| {
        let (lo, hi) = scale.bounds();
        bottom + (v - lo) / (hi - lo) * (top - bottom)
    };

    // Gridlines and tick labels.
    for (v, label) in ls.ticks.iter().zip(&ls.labels) {
        let y = y_of(&ls, to_f32(*v));
        c.polyline(&[(left, y), (right, y)], 0.5, RULE);
        c.text_right(left - 6.0, y - 3.0, label, Font::Regular, 8.0, MUTED);
    }
    if let Some(rs) = &rs {
        for (v, label) in rs.ticks.iter().zip(&rs.labels) {
            let y = y_of(rs, to_f32(*v));
            c.text(right + 6.0, y - 3.0, label, Font::Regular, 8.0, MUTED);
        }
        let u = unit(rs.kind);
        c.text_right(PAGE_W - MARGIN, top + 14.0, u, Font::Regular, 8.0, MUTED);
        c.polyline(&[(right, top), (right, bottom)], 0.9, INK);
    }
    // Axes.
    c.polyline(&[(left, top), (left, bottom), (right, bottom)], 0.9, INK);

    let n = chart.x.len();
    #[allow(clippy::cast_precision_loss)] // a few hundred days at most
    let x_of = |i: usize| {
        if n <= 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * i as f32 / (n - 1) as f32
        }
    };
    // X ticks: every day when they fit, else every k-th.
    let every = n.div_ceil(10).max(1);
    for (i, day) in chart.x.iter().enumerate() {
        let x = x_of(i);
        c.polyline(&[(x, bottom), (x, bottom - 4.0)], 0.9, INK);
        if i % every == 0 || i + 1 == n {
            let label = short_date(*day);
            c.text_centered(x, bottom - 15.0, &label, Font::Regular, 8.0, MUTED);
        }
    }
    if let (Some(first), Some(last)) = (chart.x.first(), chart.x.last()) {
        let range = format!("{} \u{2013} {}", iso_date(*first), iso_date(*last));
        let mid = (left + right) / 2.0;
        c.text_centered(mid, bottom - 30.0, &range, Font::Regular, 8.0, MUTED);
    }

    // Lines, broken where a value is missing, with a marker on every point.
    for (s, color) in chart.series.iter().zip(PALETTE.iter().cycle()) {
        let scale = match &rs {
            Some(r) if s.axis == Axis::Right => r,
            _ => &ls,
        };
        let mut runs: Vec<Vec<(f32, f32)>> = vec![Vec::new()];
        for (i, v) in s.values.iter().enumerate() {
            match (v, runs.last_mut()) {
                (Some(v), Some(run)) => run.push((x_of(i), y_of(scale, to_f32(*v)))),
                (None, _) => runs.push(Vec::new()),
                (Some(_), None) => {}
            }
        }
        for r in runs.iter().filter(|r| !r.is_empty()) {
            c.polyline(r, 1.8, *color);
            for &(x, y) in r {
                c.fill_rect(x - 2.0, y - 2.0, 4.0, 4.0, *color);
            }
        }
    }

    // Legend under the plot.
    let mut x = left;
    let y = bottom - 52.0;
    for (s, color) in chart.series.iter().zip(PALETTE.iter().cycle()) {
        let name = fit(&s.name, Font::Regular, 9.0, 160.0);
        c.fill_rect(x, y - 1.0, 14.0, 4.0, *color);
        c.text(x + 18.0, y - 2.0, &name, Font::Regular, 9.0, INK);
        x += 18.0 + text_width(&name, Font::Regular, 9.0) + 6.0;
        if rs.is_some() {
            let side = if s.axis == Axis::Right {
                "(right axis)"
            } else {
                "(left axis)"
            };
            c.text(x, y - 2.0, side, Font::Regular, 8.0, MUTED);
            x += text_width(side, Font::Regular, 8.0);
        }
        x += 20.0;
    }
    c
}

/// `11-23`: month and day, the year being in the range under the axis.
fn short_date(d: time::Date) -> String {
    format!("{:02}-{:02}", u8::from(d.month()), d.day())
}

fn to_f32(v: Decimal) -> f32 {
    f32::try_from(v).unwrap_or(0.0)
}

/// Round steps, smallest first from `from`'s order of magnitude:
/// 1, 2, 2.5, 5 × 10ⁿ.
fn nice_steps(from: Decimal) -> impl Iterator<Item = Decimal> {
    let mut magnitude = Decimal::ONE;
    while magnitude * Decimal::TEN <= from {
        magnitude *= Decimal::TEN;
    }
    while magnitude > from && magnitude > Decimal::new(1, 6) {
        magnitude /= Decimal::TEN;
    }
    (0u32..12).flat_map(move |e| {
        let m = magnitude * Decimal::from(10u64.pow(e));
        [
            m,
            m * Decimal::TWO,
            m * Decimal::new(25, 1),
            m * Decimal::from(5),
        ]
    })
}

/// Round y ticks covering the values and zero: about five intervals, or
/// exactly `intervals` when given (a right axis matching the left one).
fn y_ticks(values: impl Iterator<Item = Decimal>, intervals: Option<usize>) -> Vec<Decimal> {
    let (mut lo, mut hi) = (Decimal::ZERO, Decimal::ZERO);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi == lo {
        hi = lo + Decimal::ONE;
    }
    let k = intervals.unwrap_or(5).max(1);
    let raw = (hi - lo) / Decimal::from(k);
    for step in nice_steps(raw).filter(|s| *s >= raw) {
        let start = (lo / step).floor() * step;
        let count = match intervals {
            Some(k) => k,
            None => ((hi - start) / step).ceil().to_usize().unwrap_or(k),
        };
        let ticks: Vec<Decimal> = (0..=count)
            .map(|i| start + step * Decimal::from(i))
            .collect();
        if ticks.last().is_some_and(|t| *t >= hi) {
            return ticks;
        }
    }
    vec![lo, hi]
}

/// The y tick labels of the left and (if any) right axis, as the chart
/// shows them.
#[must_use]
pub fn y_tick_labels(chart: &Chart, sep: DecimalSeparator) -> (Vec<String>, Vec<String>) {
    let (l, r) = scales(chart, sep);
    (l.labels, r.map(|r| r.labels).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn y_ticks_are_round_and_cover_the_values_from_zero() {
        let t = y_ticks([d("12.5"), d("412.3"), d("96")].into_iter(), None);
        assert_eq!(t, [0, 100, 200, 300, 400, 500].map(Decimal::from));
        let t = y_ticks(std::iter::empty(), None);
        assert_eq!(
            t,
            vec![d("0"), d("0.2"), d("0.4"), d("0.6"), d("0.8"), d("1.0")]
        );
        let t = y_ticks([d("-30"), d("70")].into_iter(), None);
        assert_eq!(t, [-40, -20, 0, 20, 40, 60, 80].map(Decimal::from));
    }

    #[test]
    fn a_right_axis_has_as_many_intervals_as_the_left() {
        let t = y_ticks([d("48.63"), d("15.90")].into_iter(), Some(5));
        assert_eq!(t.len(), 6);
        assert_eq!(t[0], Decimal::ZERO);
        assert!(t[5] >= d("48.63"));
        assert_eq!(t[1], d("10"));
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_to_fit() {
        let s = "A campaign name far too long for its column";
        let cut = fit(s, Font::Regular, 9.0, 80.0);
        assert!(cut.ends_with('\u{2026}'));
        assert!(text_width(&cut, Font::Regular, 9.0) <= 80.0);
        assert_eq!(fit("Short", Font::Regular, 9.0, 80.0), "Short");
    }

    #[test]
    fn a_header_breaks_at_spaces_onto_as_few_lines_as_its_width_allows() {
        let h = "Cost per acquisition (BRL)";
        let one = narrowest(h, Font::Bold, 9.0, 1);
        assert!((one - text_width(h, Font::Bold, 9.0)).abs() < 1e-3);
        let two = narrowest(h, Font::Bold, 9.0, 2);
        assert!(two < one);
        assert_eq!(
            break_lines(h, Font::Bold, 9.0, two),
            ["Cost per", "acquisition (BRL)"]
        );
        assert_eq!(break_lines(h, Font::Bold, 9.0, two - 0.1).len(), 3);
        // Never narrower than its longest word, however many lines it may take.
        let word = text_width("Click-through", Font::Bold, 9.0);
        assert!((narrowest("Click-through rate", Font::Bold, 9.0, 3) - word).abs() < 1e-3);
    }

    #[test]
    fn a_header_past_its_line_limit_ends_cut_on_the_last_line() {
        let h = "Average frequency per person";
        let lines = wrap_at_most(h, Font::Bold, 9.0, 45.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('\u{2026}'), "{lines:?}");
        assert_eq!(wrap_at_most(h, Font::Bold, 9.0, 500.0, 2), [h]);
    }

    #[test]
    fn columns_get_their_least_then_the_same_share_of_what_they_lack() {
        // Half of what each lacks: 20 of 40 spare.
        assert_eq!(share(&[10.0, 20.0], &[50.0, 20.0], 50.0), [30.0, 20.0]);
        // All they want, and the rest in equal parts so the table spans the page.
        assert_eq!(share(&[10.0, 20.0], &[30.0, 20.0], 60.0), [35.0, 25.0]);
        // Squeezed in proportion when even the least do not fit.
        assert_eq!(share(&[30.0, 60.0], &[30.0, 60.0], 45.0), [15.0, 30.0]);
    }

    #[test]
    fn the_usual_font_on_portrait_is_tried_first_and_landscape_before_a_smaller_font() {
        let tried: Vec<(Orientation, f32, usize)> = attempts().collect();
        assert_eq!(tried[0], (Orientation::Portrait, TABLE_FONT, 2));
        let first_landscape = tried
            .iter()
            .position(|a| a.0 == Orientation::Landscape)
            .unwrap();
        assert!(tried[..first_landscape].iter().all(|a| a.1 == TABLE_FONT));
        assert_eq!(tried.last().map(|a| a.1), Some(MIN_TABLE_FONT));
    }

    #[test]
    fn bold_text_is_wider_than_regular() {
        let m = metrics();
        assert!(!m.regular.is_empty(), "font metrics were not loaded");
        assert!(text_width("Spend", Font::Bold, 10.0) > text_width("Spend", Font::Regular, 10.0));
        // Helvetica digits are 556/1000 em.
        assert!((text_width("0", Font::Regular, 1000.0) - 556.0).abs() < 15.0);
    }
}
