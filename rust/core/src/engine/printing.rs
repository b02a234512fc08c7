//! The durable print queue: which slip goes to the printer next, what a printer's answer
//! does, holds and resumes, reprints, electronic delivery and signatures.
//!
//! A job is `queued` → `sending` → `printed`; a failure puts it back in the queue with
//! backoff, or `held` for the operator (paper out, cover open…), and printing pauses until
//! the printer reports it is ready ([`Input::PrinterReady`](super::Input)) or the operator
//! resumes. A copy waits until the earlier copies of its transaction are done. A job whose
//! attempt may have printed (no confirmation, or cut off by a restart) prints again marked
//! REPRINT. A job failing longer than `printing.e_receipt_after_ms` is delivered as an
//! electronic receipt.

use rusqlite::{OptionalExtension, params};

use super::{CommandOutcome, Engine, Event, Output, PrintJob, Ticket};
use crate::error::{CommandError, JournalError};
use crate::ids::{RequestId, TraceNumber};
use crate::journal::{PrintFailure, TEAR_OFF, Tx, queries, rows};
use crate::print::{Condition, PrintOutcome};
use crate::record::TxnRecord;
use crate::signature::Signature;
use crate::slip::{SlipConfig, SlipInput, slip_document};
use crate::txn::{PrintJobState, SlipCopy};

impl Engine {
    /// Hands the next due slip to the printer, unless one is out already or printing is
    /// paused for a printer fault.
    pub(super) fn pump_printer(&mut self, out: &mut Vec<Output>) -> Result<(), JournalError> {
        if self.printing.is_some() || self.printing_report.is_some() {
            return Ok(());
        }
        let now = self.now;
        // The hold is looked up only when there is a slip to send: an idle tick costs one query.
        let Some((job_id, txn_id)) = super::requests::next_print_job(self.journal.conn(), now)?
        else {
            return self.pump_report(out);
        };
        if self.held_for_fault()?.is_some() {
            return Ok(());
        }
        let slip_config = SlipConfig::from_config(&self.config);
        let job = self
            .journal
            .write(now, |tx| start_print(tx, job_id, txn_id, &slip_config))?;
        self.hand_to_printer(job, out);
        Ok(())
    }

    /// Outputs a slip marked `sending` (in a commit already made) for the printer.
    pub(super) fn hand_to_printer(&mut self, job: PrintJob, out: &mut Vec<Output>) {
        self.printing = Some(job.job_id);
        if let Some(record) = job.txn.print_jobs.iter().find(|j| j.id == job.job_id) {
            out.push(Output::Event(Event::print_job(job.txn.trace, record)));
        }
        out.push(Output::Event(Event::Printing {
            trace: job.txn.trace,
            copy: job.copy,
            kind: job.kind,
            number: job.number,
            of: job.of,
        }));
        out.push(Output::Print(job));
    }

    /// The reason printing is paused for a printer fault (a condition code), if it is.
    pub fn held_for_fault(&self) -> Result<Option<String>, JournalError> {
        self.journal
            .conn()
            .prepare_cached(queries::HELD_FOR_FAULT)
            .and_then(|mut s| {
                s.query_row([], |r| r.get::<_, Option<String>>(0))
                    .optional()
            })
            .map(Option::flatten)
            .map_err(JournalError::sqlite("reading held slips"))
    }

    /// The printer's answer to the job out.
    pub(super) fn on_print_result(
        &mut self,
        job_id: i64,
        outcome: PrintOutcome,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        if self.printing != Some(job_id) {
            log::warn!("ignoring a printer answer for job {job_id}, which is not being printed");
            return Ok(());
        }
        self.printing = None;
        let now = self.now;
        let (txn_id, attempts): (i64, u32) = self
            .journal
            .conn()
            .query_row(
                "SELECT txn_id, attempts FROM print_jobs WHERE id = ?1",
                [job_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(JournalError::sqlite("reading a print job"))?;
        let attempts = attempts + 1;
        let tear_prompt = self.config.printing.tear_prompt;
        let retry_at = now.plus_millis(self.config.retry_delay_ms(attempts) as i64);
        let (record, held) = self.journal.write(now, |tx| {
            let mut held = None;
            match &outcome {
                PrintOutcome::Printed { length_mm } => {
                    tx.mark_printed(job_id, txn_id, attempts, *length_mm)?;
                    if tear_prompt {
                        if let Some(next) = next_job_of(tx, txn_id)? {
                            tx.hold_print_job(
                                next,
                                txn_id,
                                TEAR_OFF,
                                "waiting for the operator to tear the paper off",
                            )?;
                            held = Some(TEAR_OFF.to_string());
                        }
                    }
                }
                PrintOutcome::Failed {
                    condition,
                    detail,
                    may_have_printed,
                } => {
                    let hold = condition.holds();
                    let failure = PrintFailure {
                        attempts,
                        condition: condition.code(),
                        detail,
                        hold,
                        uncertain: *may_have_printed,
                        retry_at,
                    };
                    tx.mark_print_failed(job_id, txn_id, &failure)?;
                    if hold {
                        held = Some(condition.code().to_string());
                    }
                }
            }
            Ok((rows::txn_by_id(tx.conn(), txn_id)?.record, held))
        })?;
        push_job_events(&record, out);
        if let Some(reason) = held {
            out.push(Output::Event(Event::PrintingHeld {
                remedy: remedy_of(&reason),
                reason,
            }));
        }
        Ok(())
    }

    /// The printer reports it is ready: slips held for a printer fault go back in the queue.
    pub(super) fn on_printer_ready(&mut self, out: &mut Vec<Output>) -> Result<(), JournalError> {
        if self.held_for_fault()?.is_none() {
            return Ok(());
        }
        self.release(false, "the printer reports it is ready again", out)?;
        Ok(())
    }

    fn release(
        &mut self,
        include_tear_off: bool,
        cause: &str,
        out: &mut Vec<Output>,
    ) -> Result<u32, JournalError> {
        let now = self.now;
        let records = self.journal.write(now, |tx| {
            let released = tx.release_held(include_tear_off, cause)?;
            let mut txns: Vec<i64> = released.iter().map(|(_, txn, _)| *txn).collect();
            txns.dedup();
            txns.into_iter()
                .map(|id| Ok(rows::txn_by_id(tx.conn(), id)?.record))
                .collect::<Result<Vec<_>, JournalError>>()
                .map(|r| (released.len(), r))
        })?;
        let (count, records) = records;
        for record in &records {
            push_job_events(record, out);
        }
        if count > 0 {
            out.push(Output::Event(Event::PrintingResumed));
        }
        Ok(count as u32)
    }

    /// Delivers slips electronically whose printer has been failing too long.
    pub(super) fn e_receipt_fallback(&mut self, out: &mut Vec<Output>) -> Result<(), JournalError> {
        let after = self.config.printing.e_receipt_after_ms;
        if after == 0 {
            return Ok(());
        }
        let cutoff = self.now.plus_millis(-(after as i64));
        let mut due = Vec::new();
        for sql in [queries::QUEUED_FAILING, queries::HELD_FAILING] {
            let mut stmt = self
                .journal
                .conn()
                .prepare_cached(sql)
                .map_err(JournalError::sqlite("reading failing slips"))?;
            let rows = stmt
                .query_map(params![cutoff.as_millis()], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(JournalError::sqlite("reading failing slips"))?;
            for row in rows {
                due.push(row.map_err(JournalError::sqlite("reading failing slips"))?);
            }
        }
        let why = format!(
            "the printer has been failing for more than {} s",
            after / 1000
        );
        for (job_id, txn_id) in due {
            self.deliver(txn_id, &[job_id], &why, out)?;
        }
        Ok(())
    }

    /// Delivers jobs electronically, queueing a paper reprint when configured so.
    fn deliver(
        &mut self,
        txn_id: i64,
        jobs: &[i64],
        why: &str,
        out: &mut Vec<Output>,
    ) -> Result<TxnRecord, JournalError> {
        let paper_after = self.config.printing.paper_after_e_receipt;
        let now = self.now;
        let (record, copies) = self.journal.write(now, |tx| {
            let mut copies = Vec::new();
            for &job_id in jobs {
                let copy: String = tx
                    .conn()
                    .query_row("SELECT copy FROM print_jobs WHERE id = ?1", [job_id], |r| {
                        r.get(0)
                    })
                    .map_err(JournalError::sqlite("reading a slip"))?;
                let copy = SlipCopy::from_text(&copy).ok_or_else(|| JournalError::Corrupt {
                    what: format!("slip copy {copy:?}"),
                })?;
                tx.deliver_electronically(
                    job_id,
                    txn_id,
                    &format!("delivered as an electronic receipt: {why}"),
                )?;
                if paper_after {
                    tx.insert_reprint(
                        txn_id,
                        copy,
                        "paper copy of an electronic receipt, printed when the printer works",
                    )?;
                }
                copies.push(copy);
            }
            Ok((rows::txn_by_id(tx.conn(), txn_id)?.record, copies))
        })?;
        push_job_events(&record, out);
        for copy in copies {
            out.push(Output::Event(Event::ElectronicReceipt {
                trace: record.trace,
                copy,
                why: why.to_string(),
            }));
        }
        Ok(record)
    }

    /// `Command::Reprint`.
    pub(super) fn reprint(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        trace: Option<TraceNumber>,
        copy: Option<SlipCopy>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let target: Option<(i64, Option<SlipCopy>)> = match trace {
            Some(trace) => self.journal.find_by_trace(trace)?.map(|r| (r.id, last_printed_copy(&r))),
            None => self
                .journal
                .conn()
                .query_row(
                    "SELECT txn_id, copy FROM print_jobs WHERE state IN ('printed', 'delivered') ORDER BY updated_at DESC, id DESC LIMIT 1",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()
                .map_err(JournalError::sqlite("finding the last slip"))?
                .map(|(id, copy)| (id, SlipCopy::from_text(&copy))),
        };
        let what = match trace {
            Some(trace) => format!("trace {trace}"),
            None => "the last slip".to_string(),
        };
        let Some((txn_id, last_copy)) = target else {
            out.push(done(
                ticket,
                request_id,
                Err(CommandError::NothingToReprint { what }),
            ));
            return Ok(());
        };
        let has_slips: bool = self
            .journal
            .conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM print_jobs WHERE txn_id = ?1)",
                [txn_id],
                |r| r.get(0),
            )
            .map_err(JournalError::sqlite("reading slips"))?;
        if !has_slips {
            out.push(done(
                ticket,
                request_id,
                Err(CommandError::NothingToReprint { what }),
            ));
            return Ok(());
        }
        let copy = copy.or(last_copy).unwrap_or(SlipCopy::Merchant);
        let record = self.journal.write(self.now, |tx| {
            tx.insert_reprint(
                txn_id,
                copy,
                &format!("reprint of the {copy} copy asked by the operator"),
            )?;
            Ok(rows::txn_by_id(tx.conn(), txn_id)?.record)
        })?;
        push_job_events(&record, out);
        out.push(done(
            ticket,
            request_id,
            Ok(CommandOutcome::Transaction(record)),
        ));
        Ok(())
    }

    /// `Command::ResumePrinting`.
    pub(super) fn resume_printing(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let jobs = self.release(true, "the operator resumed printing", out)?;
        out.push(done(
            ticket,
            request_id,
            Ok(CommandOutcome::PrintingResumed { jobs }),
        ));
        Ok(())
    }

    /// `Command::DeliverElectronically`.
    pub(super) fn deliver_on_request(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        trace: TraceNumber,
        copy: Option<SlipCopy>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let Some(txn) = self.journal.find_by_trace(trace)? else {
            out.push(done(
                ticket,
                request_id,
                Err(CommandError::OriginalNotFound { trace }),
            ));
            return Ok(());
        };
        let jobs: Vec<i64> = txn
            .print_jobs
            .iter()
            .filter(|j| {
                matches!(j.state, PrintJobState::Queued | PrintJobState::Held)
                    && copy.is_none_or(|c| c == j.copy)
            })
            .map(|j| j.id)
            .collect();
        if jobs.is_empty() {
            out.push(done(
                ticket,
                request_id,
                Err(CommandError::NothingToDeliver { trace }),
            ));
            return Ok(());
        }
        let record = self.deliver(txn.id, &jobs, "asked by the operator", out)?;
        out.push(done(
            ticket,
            request_id,
            Ok(CommandOutcome::Transaction(record)),
        ));
        Ok(())
    }

    /// `Command::SaveSignature`.
    pub(super) fn save_signature(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        trace: TraceNumber,
        signature: Vec<u8>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let Some(txn) = self.journal.find_by_trace(trace)? else {
            out.push(done(
                ticket,
                request_id,
                Err(CommandError::OriginalNotFound { trace }),
            ));
            return Ok(());
        };
        if let Err(error) = Signature::from_bytes(&signature).and_then(|s| s.validate().map(|()| s))
        {
            out.push(done(
                ticket,
                request_id,
                Err(CommandError::BadSignature {
                    why: error.to_string(),
                }),
            ));
            return Ok(());
        }
        let record = self.journal.write(self.now, |tx| {
            tx.save_signature(txn.id, &signature)?;
            Ok(rows::txn_by_id(tx.conn(), txn.id)?.record)
        })?;
        out.push(done(
            ticket,
            request_id,
            Ok(CommandOutcome::Transaction(record)),
        ));
        Ok(())
    }
}

fn done(
    ticket: Ticket,
    request_id: RequestId,
    outcome: Result<CommandOutcome, CommandError>,
) -> Output {
    Output::Done(super::CommandDone {
        ticket,
        request_id,
        outcome,
    })
}

/// Events for every print job of a transaction (the UI shows their states).
fn push_job_events(record: &TxnRecord, out: &mut Vec<Output>) {
    for job in &record.print_jobs {
        out.push(Output::Event(Event::print_job(record.trace, job)));
    }
}

/// The copy last printed or delivered of a transaction.
fn last_printed_copy(record: &TxnRecord) -> Option<SlipCopy> {
    record
        .print_jobs
        .iter()
        .rev()
        .find(|j| matches!(j.state, PrintJobState::Printed | PrintJobState::Delivered))
        .map(|j| j.copy)
}

/// What to tell the operator about a hold.
fn remedy_of(reason: &str) -> (String, String) {
    if reason == TEAR_OFF {
        return (
            "请撕下签购单，然后继续打印下一联".to_string(),
            "tear the slip off, then continue with the next copy".to_string(),
        );
    }
    let (zh, en) = Condition::from_code(reason)
        .unwrap_or(Condition::Unknown)
        .remedy();
    (zh.to_string(), en.to_string())
}

/// The next waiting job of a transaction, if any.
fn next_job_of(tx: &Tx<'_>, txn_id: i64) -> Result<Option<i64>, JournalError> {
    tx.conn()
        .query_row(
            "SELECT id FROM print_jobs WHERE txn_id = ?1 AND state = 'queued' ORDER BY id LIMIT 1",
            [txn_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(JournalError::sqlite("reading the next copy"))
}

/// Marks a queued slip `sending` and renders it from the journal, inside the caller's write.
pub(super) fn start_print(
    tx: &Tx<'_>,
    job_id: i64,
    txn_id: i64,
    slip_config: &SlipConfig,
) -> Result<PrintJob, JournalError> {
    let changed = tx
        .conn()
        .execute("UPDATE print_jobs SET state = 'sending', updated_at = ?2 WHERE id = ?1 AND state = 'queued'", params![job_id, tx.at().as_millis()])
        .map_err(JournalError::sqlite("handing a slip to the printer"))?;
    if changed != 1 {
        return Err(JournalError::Corrupt {
            what: format!("print job {job_id} was not queued when handed to the printer"),
        });
    }
    tx.log(
        Some(txn_id),
        "print_job",
        Some("queued"),
        "sending",
        "handed to the printer",
    )?;
    let row = rows::txn_by_id(tx.conn(), txn_id)?;
    let txn = row.record;
    let original = match row.original_id {
        Some(id) => Some(rows::txn_by_id(tx.conn(), id)?.record),
        None => None,
    };
    let signature: Option<Vec<u8>> = tx
        .conn()
        .query_row(
            "SELECT data FROM signatures WHERE txn_id = ?1",
            [txn_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(JournalError::sqlite("reading a signature"))?;
    // A stored signature that no longer reads is left off the slip (and logged), never
    // allowed to stop the slip.
    let signature = signature.and_then(|bytes| match Signature::from_bytes(&bytes) {
        Ok(signature) => Some(signature),
        Err(error) => {
            log::error!("the signature of transaction {txn_id} cannot be read ({error}); the slip prints without it");
            None
        }
    });
    let position = txn
        .print_jobs
        .iter()
        .position(|j| j.id == job_id)
        .ok_or_else(|| JournalError::Corrupt {
            what: format!("print job {job_id}"),
        })?;
    let job = &txn.print_jobs[position];
    let (copy, kind) = (job.copy, job.kind);
    let document = slip_document(
        &SlipInput {
            txn: &txn,
            original: original.as_ref(),
            copy,
            kind,
            training: txn.training,
            signature: signature.as_ref(),
        },
        slip_config,
    );
    let of = txn.print_jobs.len() as u32;
    Ok(PrintJob {
        job_id,
        copy,
        kind,
        document,
        number: position as u32 + 1,
        of,
        txn,
    })
}
