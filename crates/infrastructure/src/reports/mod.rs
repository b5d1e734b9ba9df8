//! Report renderers behind the [`ReportRenderer`] port: one
//! [`ReportDocument`] becomes CSV ([`csv`]), XLSX ([`xlsx`], through
//! `rust_xlsxwriter`) or PDF ([`pdf`], through `printpdf` with the built-in
//! Helvetica fonts).
//!
//! Owns the look of each format; never builds a document, reads the database
//! or knows who asked. Rendering is synchronous and CPU-bound (a week's report
//! takes milliseconds); async callers run it on a blocking thread. Every
//! document is validated first, so the writers can index rows by column.
//! Values are written as text by the one domain formatter
//! ([`domain::reports::Cell::to_text`]), so CSV and PDF show the same figures
//! and XLSX stores the same numbers, typed.

pub mod csv;
pub mod pdf;
pub mod xlsx;

use domain::reports::{RenderError, RenderOptions, ReportDocument, ReportFormat, ReportRenderer};

/// The renderer for all three formats. Stateless: share one.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocumentRenderer;

impl DocumentRenderer {
    /// A renderer; there is nothing to configure.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl ReportRenderer for DocumentRenderer {
    fn render(
        &self,
        doc: &ReportDocument,
        format: ReportFormat,
        options: &RenderOptions,
    ) -> Result<Vec<u8>, RenderError> {
        doc.validate()?;
        match format {
            ReportFormat::Csv => csv::render(doc, options),
            ReportFormat::Xlsx => xlsx::render(doc),
            ReportFormat::Pdf => pdf::render(doc, options),
        }
    }
}

/// `2026-11-30 06:00 UTC`: when a report's figures were taken, for people.
fn display_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{} {:02}:{:02} UTC",
        domain::reports::iso_date(t.date()),
        t.hour(),
        t.minute()
    )
}

/// Wraps a writer's error as [`RenderError::Backend`].
fn backend(format: ReportFormat, e: impl std::fmt::Display) -> RenderError {
    RenderError::Backend {
        format,
        message: e.to_string(),
    }
}
