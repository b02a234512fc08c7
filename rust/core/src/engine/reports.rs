//! Reports for the printer: the settlement slip (结算单) of a closed batch, printed after
//! settlement and on request, rendered from the journal each time.
//!
//! Reports wait in memory behind the transactions' slips and print one at a time; a report
//! the printer does not confirm is reported ([`Event::SettlementSlip`]) and can be printed
//! again with [`Command::PrintSettlementSlip`](super::Command::PrintSettlementSlip).

use rusqlite::{Connection, OptionalExtension, params};

use super::{CommandDone, CommandOutcome, Engine, Event, Output, ReportJob, Ticket};
use crate::config::Config;
use crate::error::{CommandError, JournalError};
use crate::ids::{BatchNumber, RequestId};
use crate::print::PrintOutcome;
use crate::slip::{FeeLine, SettlementSlip, SlipConfig, settlement_document};
use crate::time::Timestamp;
use crate::txn::TxnKind;

/// The kinds a settlement slip lists, in the order printed.
const KINDS: [TxnKind; 5] = [
    TxnKind::PreAuth,
    TxnKind::PreAuthVoid,
    TxnKind::CompletionRequest,
    TxnKind::CompletionAdvice,
    TxnKind::CompletionVoid,
];

/// A closed batch's row: what settlement recorded.
struct ClosedBatch {
    closed_at: Option<i64>,
    count: Option<u32>,
    total_minor: Option<i64>,
    balanced: Option<bool>,
}

/// The settlement slip of `batch` as the journal has it, or `None` if the batch is not
/// closed. Per kind: the transactions the host approved (whatever happened to them later),
/// training ones left out; the total is the settled one (completions net of voids), and fees
/// are estimated on it with `config.fee_rates`.
pub(crate) fn settlement_slip(
    conn: &Connection,
    batch: BatchNumber,
    config: &Config,
) -> Result<Option<SettlementSlip>, JournalError> {
    let closed = conn
        .prepare_cached("SELECT closed_at, total_count, total_minor, balanced FROM batches WHERE batch = ?1 AND state = 'closed'")
        .and_then(|mut s| {
            s.query_row(params![batch.value()], |r| {
                Ok(ClosedBatch { closed_at: r.get(0)?, count: r.get(1)?, total_minor: r.get(2)?, balanced: r.get(3)? })
            })
            .optional()
        })
        .map_err(JournalError::sqlite("reading a closed batch"))?;
    let Some(ClosedBatch {
        closed_at,
        count,
        total_minor,
        balanced,
    }) = closed
    else {
        return Ok(None);
    };
    let first_txn: Option<i64> = conn
        .prepare_cached("SELECT MIN(created_at) FROM transactions WHERE batch = ?1")
        .and_then(|mut s| s.query_row(params![batch.value()], |r| r.get(0)))
        .map_err(JournalError::sqlite("reading a closed batch"))?;
    let mut per_kind = Vec::with_capacity(KINDS.len());
    for kind in KINDS {
        let (n, minor): (u32, i64) = conn
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(amount_minor), 0) FROM transactions \
                 WHERE batch = ?1 AND kind = ?2 AND training = 0 AND state IN ('approved', 'completed', 'voided')",
            )
            .and_then(|mut s| s.query_row(params![batch.value(), kind.as_str()], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(JournalError::sqlite("adding up a closed batch"))?;
        per_kind.push((kind, n, minor.max(0) as u64));
    }
    let total_minor = total_minor.unwrap_or(0).max(0) as u64;
    Ok(Some(SettlementSlip {
        batch,
        opened_at: first_txn.map(Timestamp::from_millis),
        closed_at: Timestamp::from_millis(closed_at.unwrap_or(0)),
        count: count.unwrap_or(0),
        total_minor,
        currency: config.currency,
        balanced: balanced.unwrap_or(true),
        per_kind,
        training: config.training,
        fees: FeeLine::for_rates(&config.fee_rates, total_minor),
    }))
}

/// The batch settled last, if any.
fn last_settled(conn: &Connection) -> Result<Option<BatchNumber>, JournalError> {
    let batch: Option<u32> = conn
        .prepare_cached("SELECT MAX(batch) FROM batches WHERE state = 'closed'")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(JournalError::sqlite("reading the batches"))?;
    Ok(batch.and_then(BatchNumber::new))
}

impl Engine {
    /// The settlement slip of a closed batch (for a preview), or `None` if it is not closed.
    pub fn settlement_slip(
        &self,
        batch: BatchNumber,
    ) -> Result<Option<SettlementSlip>, JournalError> {
        settlement_slip(self.journal.conn(), batch, &self.config)
    }

    /// Queues the settlement slip of the closed `batch` for the printer.
    pub(super) fn queue_settlement_slip(
        &mut self,
        batch: BatchNumber,
    ) -> Result<bool, JournalError> {
        let Some(slip) = settlement_slip(self.journal.conn(), batch, &self.config)? else {
            return Ok(false);
        };
        let document = settlement_document(&slip, &SlipConfig::from_config(&self.config));
        let report_id = self.next_report;
        self.next_report += 1;
        self.reports.push_back(ReportJob {
            report_id,
            batch,
            document,
        });
        Ok(true)
    }

    /// Hands the next report to the printer when no slip is due and printing is not held.
    pub(super) fn pump_report(&mut self, out: &mut Vec<Output>) -> Result<(), JournalError> {
        if self.reports.is_empty() || self.held_for_fault()?.is_some() {
            return Ok(());
        }
        if let Some(report) = self.reports.pop_front() {
            self.printing_report = Some((report.report_id, report.batch));
            out.push(Output::PrintReport(report));
        }
        Ok(())
    }

    /// The printer's answer to the report out.
    pub(super) fn on_report_result(
        &mut self,
        report_id: u64,
        outcome: PrintOutcome,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let Some((_, batch)) = self.printing_report.filter(|(id, _)| *id == report_id) else {
            log::warn!(
                "ignoring a printer answer for report {report_id}, which is not being printed"
            );
            return Ok(());
        };
        self.printing_report = None;
        let (printed, detail) = match outcome {
            PrintOutcome::Printed { .. } => {
                (true, "结算单已打印 / settlement slip printed".to_string())
            }
            PrintOutcome::Failed { detail, .. } => (
                false,
                format!(
                    "结算单未打印（{detail}）：排除故障后请重打结算单 / settlement slip not printed ({detail}); fix the printer, then print it again"
                ),
            ),
        };
        log::info!("settlement slip of batch {batch}: {detail}");
        out.push(Output::Event(Event::SettlementSlip {
            batch,
            printed,
            detail,
        }));
        Ok(())
    }

    /// `PrintSettlementSlip`: queues the settlement slip of a closed batch.
    pub(super) fn print_settlement_slip(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        batch: Option<BatchNumber>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let what = match batch {
            Some(b) => format!("batch {b}"),
            None => "the last settled batch".to_string(),
        };
        let batch = match batch {
            Some(b) => Some(b),
            None => last_settled(self.journal.conn())?,
        };
        let queued = match batch {
            Some(b) => self.queue_settlement_slip(b)?,
            None => false,
        };
        let outcome = match (queued, batch) {
            (true, Some(batch)) => Ok(CommandOutcome::SettlementSlipQueued { batch }),
            _ => Err(CommandError::NoSettledBatch { what }),
        };
        out.push(Output::Done(CommandDone {
            ticket,
            request_id,
            outcome,
        }));
        Ok(())
    }
}
