//! A printer that records jobs in memory, for tests, the CLI's transaction commands and
//! the SDK's software printer. Faults can be injected.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use poscore::ids::{BatchNumber, TraceNumber};
use poscore::print::{Condition, PrintOutcome};
use poscore::txn::{PrintKind, SlipCopy};
use poscore::{PrintJob, ReportJob};

use crate::link::Printer;

/// One slip the memory printer "printed".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedSlip {
    /// The journal's job id.
    pub job_id: i64,
    /// The transaction's trace.
    pub trace: TraceNumber,
    /// Which copy.
    pub copy: SlipCopy,
    /// Original or reprint.
    pub kind: PrintKind,
}

/// A fault the memory printer answers its next job with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFault {
    /// The condition.
    pub condition: Condition,
    /// Whether the slip may have come out anyway.
    pub may_have_printed: bool,
}

/// Records every job; fails the next jobs with the queued faults first. While `condition`
/// is set to a fault, every job fails with it (a printer out of paper until reloaded).
#[derive(Debug)]
pub struct MemoryPrinter {
    printed: Mutex<Vec<PrintedSlip>>,
    reports: Mutex<Vec<BatchNumber>>,
    faults: Mutex<VecDeque<InjectedFault>>,
    condition: Mutex<Condition>,
}

impl Default for MemoryPrinter {
    fn default() -> Self {
        MemoryPrinter {
            printed: Mutex::default(),
            reports: Mutex::default(),
            faults: Mutex::default(),
            condition: Mutex::new(Condition::Ready),
        }
    }
}

impl MemoryPrinter {
    /// A printer with no faults.
    pub fn new() -> MemoryPrinter {
        MemoryPrinter::default()
    }

    /// Makes the next job fail with `condition`.
    pub fn inject_fault(&self, condition: Condition, may_have_printed: bool) {
        self.faults
            .lock()
            .expect("printer lock")
            .push_back(InjectedFault {
                condition,
                may_have_printed,
            });
    }

    /// Sets the printer's lasting condition (e.g. `PaperOut` until `Ready` again).
    pub fn set_condition(&self, condition: Condition) {
        *self.condition.lock().expect("printer lock") = condition;
    }

    /// Every slip printed so far.
    pub fn printed(&self) -> Vec<PrintedSlip> {
        self.printed.lock().expect("printer lock").clone()
    }

    /// The batches whose settlement slips were printed so far, in order.
    pub fn reports(&self) -> Vec<BatchNumber> {
        self.reports.lock().expect("printer lock").clone()
    }

    /// The next queued fault, or the lasting condition if it cannot print.
    fn failure(&self) -> Option<PrintOutcome> {
        if let Some(fault) = self.faults.lock().expect("printer lock").pop_front() {
            let (zh, en) = fault.condition.remedy();
            return Some(PrintOutcome::Failed {
                condition: fault.condition,
                detail: format!("{zh} / {en}"),
                may_have_printed: fault.may_have_printed,
            });
        }
        let condition = *self.condition.lock().expect("printer lock");
        if !condition.can_print() {
            let (zh, en) = condition.remedy();
            return Some(PrintOutcome::Failed {
                condition,
                detail: format!("{zh} / {en}"),
                may_have_printed: false,
            });
        }
        None
    }
}

#[async_trait]
impl Printer for MemoryPrinter {
    async fn print(&self, job: &PrintJob) -> PrintOutcome {
        if let Some(failed) = self.failure() {
            return failed;
        }
        self.printed
            .lock()
            .expect("printer lock")
            .push(PrintedSlip {
                job_id: job.job_id,
                trace: job.txn.trace,
                copy: job.copy,
                kind: job.kind,
            });
        PrintOutcome::Printed { length_mm: 80 }
    }

    async fn print_report(&self, report: &ReportJob) -> PrintOutcome {
        if let Some(failed) = self.failure() {
            return failed;
        }
        self.reports
            .lock()
            .expect("printer lock")
            .push(report.batch);
        PrintOutcome::Printed { length_mm: 120 }
    }

    async fn condition(&self) -> Condition {
        *self.condition.lock().expect("printer lock")
    }
}
