//! What the engine does with the host's answer, a timeout, a link failure, and the
//! printer's answer.

use super::{
    CommandDone, CommandOutcome, Engine, Event, Output, Purpose, SettlementSummary, Waiter,
    requests,
};
use crate::error::{CommandError, JournalError};
use crate::host::HostReply;
use crate::journal::{Answer, RetryChange, ReversalChange, Tx, rows};
use crate::record::TxnRecord;
use crate::txn::{
    AdviceState, PrintKind, ReversalReason, ReversalState, SlipCopy, TxnKind, TxnState,
};

/// How an exchange ended.
#[derive(Clone, Copy)]
enum Ending<'a> {
    Reply(&'a HostReply),
    Timeout,
    LinkFailed(&'a str),
}

impl Engine {
    pub(super) fn on_reply(
        &mut self,
        purpose: Purpose,
        reply: &HostReply,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        if reply.sign_on_requested || !reply.mac_valid {
            let cause = if reply.mac_valid {
                "the host asked for a sign-on"
            } else {
                "an answer had a bad MAC"
            };
            self.journal
                .write(self.now, |tx| tx.set_sign_on_required(true, cause))?;
            out.push(Output::Event(Event::SignOnRequired(true)));
        }
        self.on_ending(purpose, Ending::Reply(reply), out)
    }

    pub(super) fn on_timeout(
        &mut self,
        purpose: Purpose,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        self.on_ending(purpose, Ending::Timeout, out)
    }

    pub(super) fn on_link_failed(
        &mut self,
        purpose: Purpose,
        why: &str,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        self.on_ending(purpose, Ending::LinkFailed(why), out)
    }

    fn on_ending(
        &mut self,
        purpose: Purpose,
        ending: Ending<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        match purpose {
            Purpose::SignOn => self.sign_on_ended(ending, out),
            Purpose::Financial { txn_id } => self.financial_ended(txn_id, ending, out),
            Purpose::Reversal { txn_id } => self.reversal_ended(txn_id, ending, out),
            Purpose::Advice { txn_id } => self.advice_ended(txn_id, ending, out),
            Purpose::Settlement => self.settlement_ended(ending, out),
            Purpose::BatchUpload | Purpose::BatchUploadEnd => {
                self.upload_ended(purpose, ending, out)
            }
        }
    }

    fn done_all(
        waiters: Vec<Waiter>,
        outcome: impl Fn() -> Result<CommandOutcome, CommandError>,
        out: &mut Vec<Output>,
    ) {
        for (ticket, request_id) in waiters {
            out.push(Output::Done(CommandDone {
                ticket,
                request_id,
                outcome: outcome(),
            }));
        }
    }

    /// Refuses everything waiting on the link: queued financial requests become `not_sent`,
    /// settlement and sign-on waiters get the error.
    fn refuse_waiting(&mut self, why: &str, out: &mut Vec<Output>) -> Result<(), JournalError> {
        let queued: Vec<i64> = self.queue.drain(..).map(|q| q.txn_id).collect();
        if !queued.is_empty() {
            let records = self.journal.write(self.now, |tx| {
                queued
                    .iter()
                    .map(|&id| {
                        tx.set_txn_state(id, TxnState::Queued, TxnState::NotSent, why)?;
                        Ok(rows::txn_by_id(tx.conn(), id)?.record)
                    })
                    .collect::<Result<Vec<_>, JournalError>>()
            })?;
            for record in records {
                self.finish_waiters(
                    record.id,
                    || {
                        Err(CommandError::HostUnreachable {
                            why: why.to_string(),
                        })
                    },
                    out,
                );
                out.push(Output::Event(Event::Transaction(record)));
            }
        }
        let settle = std::mem::take(&mut self.settle_waiters);
        if !settle.is_empty() {
            self.upload = None;
            self.reopen_batch(why)?;
            Self::done_all(
                settle,
                || {
                    Err(CommandError::SettlementFailed {
                        why: why.to_string(),
                    })
                },
                out,
            );
        }
        let sign_on = std::mem::take(&mut self.sign_on_waiters);
        Self::done_all(
            sign_on,
            || {
                Err(CommandError::HostUnreachable {
                    why: why.to_string(),
                })
            },
            out,
        );
        Ok(())
    }

    fn reopen_batch(&mut self, why: &str) -> Result<(), JournalError> {
        let batch = self.journal.current_batch()?;
        self.journal
            .write(self.now, |tx| tx.set_batch_state(batch, "open", None, why))
    }

    fn sign_on_ended(
        &mut self,
        ending: Ending<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let failure = match ending {
            Ending::Reply(reply) if reply.mac_valid && reply.response_code.is_approved() => {
                self.journal
                    .write(self.now, |tx| tx.set_sign_on_required(false, "signed on"))?;
                out.push(Output::Event(Event::SignOnRequired(false)));
                let waiters = std::mem::take(&mut self.sign_on_waiters);
                Self::done_all(waiters, || Ok(CommandOutcome::SignedOn), out);
                return Ok(());
            }
            Ending::Reply(reply) => {
                let code = reply.response_code.as_str().to_string();
                let waiters = std::mem::take(&mut self.sign_on_waiters);
                Self::done_all(
                    waiters,
                    || Err(CommandError::SignOnFailed { code: code.clone() }),
                    out,
                );
                format!("sign-on refused (code {code})")
            }
            Ending::Timeout => "sign-on got no answer in time".to_string(),
            Ending::LinkFailed(why) => format!("sign-on could not be sent: {why}"),
        };
        self.sign_on_not_before = self.now.plus_millis(self.config.retry_delay_ms(1) as i64);
        self.refuse_waiting(&failure, out)
    }

    fn financial_ended(
        &mut self,
        txn_id: i64,
        ending: Ending<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let copies = SlipCopy::for_count(self.config.slip_copies);
        // When the printer is free, the first slip is marked `sending` in the approval's own
        // commit: one fsync between the host's answer and the first byte at the printer.
        let printer_free = self.printing.is_none()
            && self.printing_report.is_none()
            && self.held_for_fault()?.is_none();
        let slip_config = crate::slip::SlipConfig::from_config(&self.config);
        let now = self.now;
        let (record, extra, first_slip) = self.journal.write(now, |tx| {
            let mut extra = Vec::new();
            let mut first_slip = None;
            match ending {
                Ending::Reply(reply) if !reply.mac_valid => make_unknown(
                    tx,
                    txn_id,
                    ReversalReason::BadMac,
                    "answer had a bad MAC: untrusted",
                )?,
                Ending::Reply(reply) => {
                    tx.set_answer(
                        txn_id,
                        &Answer {
                            response_code: reply.response_code.as_str(),
                            auth_code: reply.auth_code.as_deref(),
                            rrn: reply.rrn.as_deref(),
                        },
                    )?;
                    tx.set_reversal(
                        txn_id,
                        ReversalState::Armed,
                        &ReversalChange::to(ReversalState::Disarmed),
                        "the host answered",
                    )?;
                    if reply.response_code.is_approved() {
                        tx.set_txn_state(
                            txn_id,
                            TxnState::Sending,
                            TxnState::Approved,
                            "approved by the host",
                        )?;
                        extra = apply_to_original(tx, txn_id)?;
                        for copy in copies {
                            tx.insert_print_job(txn_id, *copy, PrintKind::Original)?;
                        }
                        if printer_free {
                            if let Some((job_id, job_txn)) =
                                super::requests::next_print_job(tx.conn(), now)?
                            {
                                first_slip = Some(super::printing::start_print(
                                    tx,
                                    job_id,
                                    job_txn,
                                    &slip_config,
                                )?);
                            }
                        }
                    } else {
                        let cause = format!(
                            "declined by the host (code {})",
                            reply.response_code.as_str()
                        );
                        tx.set_txn_state(txn_id, TxnState::Sending, TxnState::Declined, &cause)?;
                    }
                }
                Ending::Timeout => {
                    make_unknown(tx, txn_id, ReversalReason::NoAnswer, "no answer in time")?
                }
                Ending::LinkFailed(why) => {
                    tx.set_reversal(
                        txn_id,
                        ReversalState::Armed,
                        &ReversalChange::to(ReversalState::Cancelled),
                        "nothing was sent",
                    )?;
                    tx.set_txn_state(
                        txn_id,
                        TxnState::Sending,
                        TxnState::NotSent,
                        &format!("link failed before sending: {why}"),
                    )?;
                }
            }
            Ok((
                rows::txn_by_id(tx.conn(), txn_id)?.record,
                extra,
                first_slip,
            ))
        })?;
        for changed in extra {
            out.push(Output::Event(Event::Transaction(changed)));
        }
        out.push(Output::Event(Event::Transaction(record.clone())));
        if let Some(reversal) = record
            .reversal
            .clone()
            .filter(|r| r.state == ReversalState::Pending)
        {
            out.push(Output::Event(Event::Reversal {
                trace: record.trace,
                kind: record.kind,
                reversal,
            }));
        }
        match ending {
            Ending::LinkFailed(why) => {
                let why = why.to_string();
                self.finish_waiters(
                    txn_id,
                    || Err(CommandError::HostUnreachable { why: why.clone() }),
                    out,
                );
            }
            _ => self.finish_waiters(
                txn_id,
                || Ok(CommandOutcome::Transaction(record.clone())),
                out,
            ),
        }
        // The slip started in the approval's commit goes out after the approval is told.
        if let Some(job) = first_slip {
            self.hand_to_printer(job, out);
        }
        Ok(())
    }

    fn reversal_ended(
        &mut self,
        txn_id: i64,
        ending: Ending<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let max = self.config.reversal_max_attempts;
        let now = self.now;
        let current = rows::txn_by_id(self.journal.conn(), txn_id)?.record;
        let attempts = current.reversal.as_ref().map(|r| r.attempts).unwrap_or(0);
        let record = self.journal.write(now, |tx| {
            match ending {
                Ending::Reply(reply)
                    if reply.mac_valid && reply.response_code.finishes_reversal() =>
                {
                    let mut change = ReversalChange::to(ReversalState::Done);
                    change.attempts = Some(attempts + 1);
                    change.last_response = Some(reply.response_code.as_str());
                    tx.set_reversal(
                        txn_id,
                        ReversalState::Pending,
                        &change,
                        &format!(
                            "reversed by the host (code {})",
                            reply.response_code.as_str()
                        ),
                    )?;
                    tx.set_txn_state(
                        txn_id,
                        TxnState::Unknown,
                        TxnState::Reversed,
                        "reversal confirmed",
                    )?;
                }
                Ending::LinkFailed(why) => {
                    let mut change = ReversalChange::to(ReversalState::Pending);
                    change.next_attempt_at =
                        Some(now.plus_millis(self.config.retry_delay_ms(attempts.max(1)) as i64));
                    tx.set_reversal(
                        txn_id,
                        ReversalState::Pending,
                        &change,
                        &format!("link failed, not counted: {why}"),
                    )?;
                }
                other => {
                    let (last, cause) = match other {
                        Ending::Reply(reply) if !reply.mac_valid => {
                            (None, "answer had a bad MAC".to_string())
                        }
                        Ending::Reply(reply) => (
                            Some(reply.response_code.as_str()),
                            format!(
                                "host refused the reversal (code {})",
                                reply.response_code.as_str()
                            ),
                        ),
                        _ => (None, "no answer in time".to_string()),
                    };
                    let attempts = attempts + 1;
                    let mut change = ReversalChange::to(if attempts >= max {
                        ReversalState::Failed
                    } else {
                        ReversalState::Pending
                    });
                    change.attempts = Some(attempts);
                    change.last_response = last;
                    change.next_attempt_at =
                        Some(now.plus_millis(self.config.retry_delay_ms(attempts) as i64));
                    let cause = if attempts >= max {
                        format!("{cause}; {attempts} attempts used, kept for the operator")
                    } else {
                        cause
                    };
                    tx.set_reversal(txn_id, ReversalState::Pending, &change, &cause)?;
                }
            }
            Ok(rows::txn_by_id(tx.conn(), txn_id)?.record)
        })?;
        if let Some(reversal) = record.reversal.clone() {
            out.push(Output::Event(Event::Reversal {
                trace: record.trace,
                kind: record.kind,
                reversal,
            }));
        }
        out.push(Output::Event(Event::Transaction(record)));
        if let Ending::LinkFailed(why) = ending {
            self.refuse_waiting(
                &format!("a pending reversal could not be sent first: {why}"),
                out,
            )?;
        }
        Ok(())
    }

    fn advice_ended(
        &mut self,
        txn_id: i64,
        ending: Ending<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let now = self.now;
        let attempts: u32 = self
            .journal
            .conn()
            .query_row(
                "SELECT attempts FROM advices WHERE txn_id = ?1",
                [txn_id],
                |r| r.get(0),
            )
            .map_err(JournalError::sqlite("reading an advice"))?;
        let delay = |n: u32| Some(now.plus_millis(self.config.retry_delay_ms(n) as i64));
        self.journal.write(now, |tx| match ending {
            Ending::Reply(reply) if reply.mac_valid => {
                let change = RetryChange {
                    attempts: Some(attempts + 1),
                    last: Some(reply.response_code.as_str()),
                    next_attempt_at: None,
                };
                tx.set_advice(
                    txn_id,
                    AdviceState::Sending,
                    AdviceState::Done,
                    &change,
                    "acknowledged by the host",
                )
            }
            Ending::Reply(_) | Ending::Timeout => {
                let change = RetryChange {
                    attempts: Some(attempts + 1),
                    last: None,
                    next_attempt_at: delay(attempts + 1),
                };
                tx.set_advice(
                    txn_id,
                    AdviceState::Sending,
                    AdviceState::Queued,
                    &change,
                    "no trusted answer; will be sent again",
                )
            }
            Ending::LinkFailed(why) => {
                let change = RetryChange {
                    attempts: None,
                    last: None,
                    next_attempt_at: delay(attempts.max(1)),
                };
                tx.set_advice(
                    txn_id,
                    AdviceState::Sending,
                    AdviceState::Queued,
                    &change,
                    &format!("link failed: {why}"),
                )
            }
        })?;
        // Settlement, and a void of this offline completion, wait for the advice; they must
        // not wait forever on a host that does not take it. The advice stays queued.
        let waited_on = !self.settle_waiters.is_empty()
            || self
                .queue
                .front()
                .is_some_and(|q| q.original_id == Some(txn_id));
        if waited_on && !matches!(ending, Ending::Reply(reply) if reply.mac_valid) {
            let why = match ending {
                Ending::LinkFailed(why) => format!("an advice could not be sent first: {why}"),
                _ => "an advice got no trusted answer; it stays queued".to_string(),
            };
            self.refuse_waiting(&why, out)?;
        }
        Ok(())
    }

    fn settlement_ended(
        &mut self,
        ending: Ending<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let why = match ending {
            Ending::Reply(reply) if reply.mac_valid && reply.response_code.is_approved() => {
                if reply.settlement_balanced.unwrap_or(true) {
                    return self.close_settled_batch(true, 0, out);
                }
                // 对账不平: upload every completion, then close (see `upload_ended`).
                let batch = self.journal.current_batch()?;
                let records = requests::batch_upload_records(self.journal.conn(), batch.value())?;
                let cause = format!(
                    "the host reports the totals unbalanced: uploading {} records",
                    records.len()
                );
                self.journal.write(self.now, |tx| {
                    tx.set_batch_state(batch, "settling", None, &cause)
                })?;
                self.upload = Some(super::Upload {
                    records,
                    acknowledged: 0,
                    failures: 0,
                });
                return Ok(());
            }
            Ending::Reply(reply) if !reply.mac_valid => "the answer had a bad MAC".to_string(),
            Ending::Reply(reply) => format!(
                "the host refused it (code {})",
                reply.response_code.as_str()
            ),
            Ending::Timeout => "no answer in time".to_string(),
            Ending::LinkFailed(why) => format!("the link failed: {why}"),
        };
        self.fail_settlement(&why, out)
    }

    /// A batch-upload message ended: the next one goes, the batch closes after the end
    /// message, or, after [`super::BATCH_UPLOAD_ATTEMPTS`] failures of one message, the
    /// settlement is given up.
    fn upload_ended(
        &mut self,
        purpose: Purpose,
        ending: Ending<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let failure = match ending {
            Ending::Reply(reply) if reply.mac_valid && reply.response_code.is_approved() => None,
            Ending::Reply(reply) if !reply.mac_valid => {
                Some("the answer had a bad MAC".to_string())
            }
            Ending::Reply(reply) => Some(format!(
                "the host refused it (code {})",
                reply.response_code.as_str()
            )),
            Ending::Timeout => Some("no answer in time".to_string()),
            Ending::LinkFailed(why) => Some(format!("the link failed: {why}")),
        };
        let Some(upload) = self.upload.as_mut() else {
            return Ok(());
        };
        let Some(why) = failure else {
            if purpose == Purpose::BatchUploadEnd {
                let uploaded = upload.records.len() as u32;
                self.upload = None;
                return self.close_settled_batch(false, uploaded, out);
            }
            upload.acknowledged += 1;
            upload.failures = 0;
            return Ok(());
        };
        upload.failures += 1;
        if upload.failures < super::BATCH_UPLOAD_ATTEMPTS {
            log::warn!("batch upload: {why}; trying again");
            return Ok(());
        }
        let what = match purpose {
            Purpose::BatchUploadEnd => "its end message".to_string(),
            _ => format!(
                "record {} of {}",
                upload.acknowledged + 1,
                upload.records.len()
            ),
        };
        self.upload = None;
        self.fail_settlement(&format!("the batch upload stopped at {what}: {why}"), out)
    }

    /// Closes the settled batch and ends the settlement's waiters with its summary.
    fn close_settled_batch(
        &mut self,
        balanced: bool,
        uploaded: u32,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let summary = self.journal.write(self.now, |tx| {
            let batch = tx.batch()?;
            let totals = requests::batch_totals(tx.conn(), batch.value())?;
            let next_batch = tx.close_batch(batch, totals, balanced)?;
            crate::journal::retention::purge_expired(
                tx,
                self.config.retention_days,
                self.config.preauth_valid_days,
            )?;
            Ok(SettlementSummary {
                batch,
                totals,
                balanced,
                uploaded,
                next_batch,
            })
        })?;
        out.push(Output::Event(Event::Settled(summary)));
        let waiters = std::mem::take(&mut self.settle_waiters);
        Self::done_all(waiters, || Ok(CommandOutcome::Settled(summary)), out);
        self.queue_settlement_slip(summary.batch)?;
        Ok(())
    }

    /// Reopens the batch and ends the settlement's waiters with `why`.
    fn fail_settlement(&mut self, why: &str, out: &mut Vec<Output>) -> Result<(), JournalError> {
        self.reopen_batch(why)?;
        let waiters = std::mem::take(&mut self.settle_waiters);
        Self::done_all(
            waiters,
            || {
                Err(CommandError::SettlementFailed {
                    why: why.to_string(),
                })
            },
            out,
        );
        Ok(())
    }
}

/// Makes a sent transaction `unknown` with its reversal pending for `reason`.
fn make_unknown(
    tx: &Tx<'_>,
    txn_id: i64,
    reason: ReversalReason,
    cause: &str,
) -> Result<(), JournalError> {
    tx.set_txn_state(txn_id, TxnState::Sending, TxnState::Unknown, cause)?;
    let mut change = ReversalChange::to(ReversalState::Pending);
    change.reason = Some(reason);
    change.next_attempt_at = Some(tx.at());
    tx.set_reversal(txn_id, ReversalState::Armed, &change, cause)
}

/// What an approval does to the original: a void voids it, a completion completes the
/// pre-auth, a completion void voids the completion and reopens its pre-auth. Returns the
/// changed originals.
fn apply_to_original(tx: &Tx<'_>, txn_id: i64) -> Result<Vec<TxnRecord>, JournalError> {
    let (kind, original_id): (String, Option<i64>) = tx
        .conn()
        .prepare_cached("SELECT kind, original_id FROM transactions WHERE id = ?1")
        .and_then(|mut s| s.query_row([txn_id], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(JournalError::sqlite("reading a transaction"))?;
    let Some(original_id) = original_id else {
        return Ok(Vec::new());
    };
    let kind = TxnKind::from_text(&kind).ok_or_else(|| JournalError::Corrupt {
        what: format!("kind {kind}"),
    })?;
    let mut changed = vec![original_id];
    match kind {
        TxnKind::PreAuthVoid => tx.set_txn_state(
            original_id,
            TxnState::Approved,
            TxnState::Voided,
            "voided by a pre-auth void",
        )?,
        TxnKind::CompletionRequest => tx.set_txn_state(
            original_id,
            TxnState::Approved,
            TxnState::Completed,
            "completed by a completion",
        )?,
        TxnKind::CompletionVoid => {
            tx.set_txn_state(
                original_id,
                TxnState::Approved,
                TxnState::Voided,
                "voided by a completion void",
            )?;
            let completion = rows::txn_by_id(tx.conn(), original_id)?;
            if let Some(preauth_id) = completion.original_id {
                tx.set_txn_state(
                    preauth_id,
                    TxnState::Completed,
                    TxnState::Approved,
                    "completion voided: the pre-auth is open again",
                )?;
                changed.push(preauth_id);
            }
        }
        TxnKind::PreAuth | TxnKind::CompletionAdvice => {}
    }
    changed
        .into_iter()
        .map(|id| rows::txn_by_id(tx.conn(), id).map(|r| r.record))
        .collect()
}
