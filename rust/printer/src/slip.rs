//! The terminal's [`Printer`] trait over an [`EscPosPrinter`]: the engine renders each slip
//! from the journal (`PrintJob::document`), the job protocol prints it, and the driver's
//! answer becomes a [`PrintOutcome`]: printed only when the printer confirmed it; a failure
//! says whether the slip may have come out anyway (no confirmation, the link lost after the
//! data), so the engine marks the next copy REPRINT.

use std::sync::Arc;

use async_trait::async_trait;
use poscore::print::{Condition, PrintOutcome};
use poscore::{PrintJob, ReportJob};
use poscore_escpos::decode::{DecodeOptions, PageItem};
use poscore_escpos::{Page, Profile, decode, encode};
use poscore_terminal::Printer;

use crate::job::{EscPosPrinter, PrintError, Stage};

/// The terminal's printer over the ESC/POS job protocol.
pub struct SlipPrinter {
    printer: Arc<EscPosPrinter>,
}

impl SlipPrinter {
    /// Prints slips on `printer`.
    pub fn new(printer: Arc<EscPosPrinter>) -> SlipPrinter {
        SlipPrinter { printer }
    }

    /// The printer underneath.
    pub fn printer(&self) -> &Arc<EscPosPrinter> {
        &self.printer
    }
}

/// The outcome a driver error means for the print queue.
pub fn outcome_of(error: &PrintError) -> PrintOutcome {
    let may_have_printed = match error {
        PrintError::NotConfirmed { .. } | PrintError::Unconfirmable { .. } => true,
        // The printer said what went wrong while it printed: the slip is known to be cut short.
        PrintError::Failed {
            condition, stage, ..
        } => {
            *stage != Stage::BeforeSend
                && matches!(
                    condition,
                    Condition::CommunicationError | Condition::Unknown
                )
        }
        PrintError::Refused(_) | PrintError::Document(_) => false,
    };
    PrintOutcome::Failed {
        condition: error.condition(),
        detail: error.to_string(),
        may_have_printed,
    }
}

/// The paper a page takes, in mm (8 dots a mm): text lines at the default line spacing,
/// images, codes and feeds at their heights.
pub fn paper_mm(page: &Page) -> u32 {
    let dots: u32 = page
        .items
        .iter()
        .map(|item| match item {
            PageItem::Line { runs, .. } => {
                if runs.iter().any(|(_, style)| style.double_height) {
                    54
                } else {
                    poscore_escpos::decode::DEFAULT_LINE_DOTS
                }
            }
            PageItem::Image { bitmap, .. } => bitmap.height(),
            PageItem::Qr {
                data, module_size, ..
            } => {
                let modules = poscore_escpos::qr::modules(data, Default::default())
                    .map(|m| m.width())
                    .unwrap_or(25);
                modules * u32::from(*module_size)
            }
            PageItem::Barcode {
                height, hri_below, ..
            } => u32::from(*height) + if *hri_below { 30 } else { 0 },
            PageItem::Feed(dots) => *dots,
            PageItem::Cut => 0,
        })
        .sum();
    dots.div_ceil(8)
}

/// The paper a document takes on `profile`'s printer, in mm.
pub fn document_mm(document: &poscore_escpos::Document, profile: &Profile) -> u32 {
    match encode(document, profile) {
        Ok(bytes) => paper_mm(&decode(
            &bytes,
            &DecodeOptions {
                paper: profile.paper,
                encoding: profile.encoding,
            },
        )),
        Err(_) => 0,
    }
}

#[async_trait]
impl Printer for SlipPrinter {
    async fn print(&self, job: &PrintJob) -> PrintOutcome {
        match self.printer.print(&job.document).await {
            Ok(receipt) => {
                log::info!(
                    "slip {} ({} {}) printed: {receipt:?}",
                    job.job_id,
                    job.copy,
                    job.kind
                );
                PrintOutcome::Printed {
                    length_mm: document_mm(&job.document, self.printer.profile()),
                }
            }
            Err(error) => {
                log::warn!(
                    "slip {} ({} {}) not printed: {error}",
                    job.job_id,
                    job.copy,
                    job.kind
                );
                outcome_of(&error)
            }
        }
    }

    async fn print_report(&self, report: &ReportJob) -> PrintOutcome {
        match self.printer.print(&report.document).await {
            Ok(receipt) => {
                log::info!(
                    "settlement slip of batch {} printed: {receipt:?}",
                    report.batch
                );
                PrintOutcome::Printed {
                    length_mm: document_mm(&report.document, self.printer.profile()),
                }
            }
            Err(error) => {
                log::warn!(
                    "settlement slip of batch {} not printed: {error}",
                    report.batch
                );
                outcome_of(&error)
            }
        }
    }

    async fn condition(&self) -> Condition {
        match self.printer.status().await {
            Ok(status) => Condition::of_status(&status),
            Err(error) => error.condition(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn only_unconfirmed_or_cut_links_may_have_printed() {
        let failed = |condition, stage| PrintError::Failed {
            condition,
            stage,
            detail: String::new(),
        };
        let may = |e: PrintError| {
            matches!(
                outcome_of(&e),
                PrintOutcome::Failed {
                    may_have_printed: true,
                    ..
                }
            )
        };
        assert!(may(PrintError::NotConfirmed {
            waited: Duration::from_secs(1)
        }));
        assert!(may(PrintError::Unconfirmable {
            bytes: 10,
            target: "file".into()
        }));
        assert!(may(failed(
            Condition::CommunicationError,
            Stage::AwaitingConfirmation
        )));
        assert!(may(failed(Condition::CommunicationError, Stage::Sending)));
        assert!(!may(failed(
            Condition::CommunicationError,
            Stage::BeforeSend
        )));
        assert!(
            !may(failed(Condition::PaperOut, Stage::Sending)),
            "the printer said: paper out, not printed"
        );
        assert!(!may(PrintError::Refused(Condition::CoverOpen)));
        match outcome_of(&PrintError::Refused(Condition::PaperOut)) {
            PrintOutcome::Failed {
                condition, detail, ..
            } => {
                assert_eq!(condition, Condition::PaperOut);
                assert!(
                    detail.contains("缺纸") && detail.contains("out of paper"),
                    "{detail}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paper_length_counts_lines_images_and_feeds() {
        let doc = poscore_escpos::Document::new()
            .line("a")
            .line("b")
            .image(
                poscore_escpos::Bitmap::new(8, 80),
                poscore_escpos::Align::Left,
            )
            .feed(2)
            .cut();
        let mm = document_mm(&doc, &Profile::mm58());
        // 2 lines × 30 dots + 80 dots + feeds (2 + 3 before the cut) × 30 dots = 290 dots ≈ 37 mm.
        assert!((30..=45).contains(&mm), "{mm} mm");
    }
}
