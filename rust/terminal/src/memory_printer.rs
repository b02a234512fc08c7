//! A printer that records jobs in memory, for tests, the demo and the CLI until real
//! printing arrives. Faults can be injected.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use poscore::PrintJob;
use poscore::ids::TraceNumber;
use poscore::txn::{PrintKind, SlipCopy};

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

/// Records every job; fails the next jobs with the queued faults first.
#[derive(Debug, Default)]
pub struct MemoryPrinter {
    printed: Mutex<Vec<PrintedSlip>>,
    faults: Mutex<VecDeque<String>>,
}

impl MemoryPrinter {
    /// A printer with no faults.
    pub fn new() -> MemoryPrinter {
        MemoryPrinter::default()
    }

    /// Makes the next job fail with `fault` (e.g. "paper out").
    pub fn inject_fault(&self, fault: &str) {
        self.faults.lock().expect("printer lock").push_back(fault.to_string());
    }

    /// Every slip printed so far.
    pub fn printed(&self) -> Vec<PrintedSlip> {
        self.printed.lock().expect("printer lock").clone()
    }
}

#[async_trait]
impl Printer for MemoryPrinter {
    async fn print(&self, job: &PrintJob) -> Result<(), String> {
        if let Some(fault) = self.faults.lock().expect("printer lock").pop_front() {
            return Err(fault);
        }
        self.printed.lock().expect("printer lock").push(PrintedSlip {
            job_id: job.job_id,
            trace: job.txn.trace,
            copy: job.copy,
            kind: job.kind,
        });
        Ok(())
    }
}
