//! Cashier and operator commands: idempotency, the rules each command must pass, and the
//! durable creation of the transaction.

use super::{
    CommandDone, CommandOutcome, Engine, Event, Output, Purpose, Queued, Ticket, requests,
};
use crate::card::{CardInput, MaskedPan, PanHash};
use crate::engine::io::Command;
use crate::error::{CommandError, JournalError};
use crate::host::FinancialRequest;
use crate::ids::{RequestId, TraceNumber};
use crate::journal::{NewTxn, ReversalChange, rows};
use crate::money::Money;
use crate::record::TxnRecord;
use crate::txn::{PrintKind, ReversalState, SlipCopy, TxnKind, TxnState};

/// A validated command, ready to be journaled.
struct Draft {
    kind: TxnKind,
    amount: Money,
    card: Option<CardInput>,
    masked_pan: MaskedPan,
    pan_hash: PanHash,
    original: Option<TxnRecord>,
    fingerprint: String,
}

/// The part of a command that identifies it, for comparing a repeated request id. It does
/// not depend on the journal's state, so a repeat after the first one took effect matches.
fn fingerprint(command: &Command, pan_hash: Option<&PanHash>) -> String {
    match command {
        Command::PreAuth { amount, .. } => {
            format!(
                "preauth|{}|{}|{}",
                amount.minor_units(),
                amount.currency(),
                pan_hash.map(|h| h.as_str()).unwrap_or("")
            )
        }
        Command::Complete {
            original_trace,
            amount,
        } => format!("completion|{original_trace}|{}", amount.minor_units()),
        Command::CompleteOffline {
            original_trace,
            amount,
        } => {
            format!(
                "completion_advice|{original_trace}|{}",
                amount.minor_units()
            )
        }
        Command::Void { original_trace } => format!("preauth_void|{original_trace}"),
        Command::CompleteVoid { original_trace } => format!("completion_void|{original_trace}"),
        Command::Settle
        | Command::RetryReversal { .. }
        | Command::SignOn
        | Command::Reprint { .. }
        | Command::ResumePrinting
        | Command::DeliverElectronically { .. }
        | Command::PrintSettlementSlip { .. }
        | Command::SaveSignature { .. } => String::new(),
    }
}

/// States of a child (void or completion) that block another child of the same original.
fn blocks_siblings(state: TxnState) -> bool {
    matches!(
        state,
        TxnState::Queued | TxnState::Sending | TxnState::Unknown
    )
}

impl Engine {
    pub(super) fn command(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        command: Command,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        match command {
            Command::Settle => self.settle(ticket, request_id, out),
            Command::RetryReversal { trace } => self.retry_reversal(ticket, request_id, trace, out),
            Command::SignOn => {
                self.sign_on_waiters.push((ticket, request_id));
                Ok(())
            }
            Command::Reprint { trace, copy } => self.reprint(ticket, request_id, trace, copy, out),
            Command::ResumePrinting => self.resume_printing(ticket, request_id, out),
            Command::DeliverElectronically { trace, copy } => {
                self.deliver_on_request(ticket, request_id, trace, copy, out)
            }
            Command::SaveSignature { trace, signature } => {
                self.save_signature(ticket, request_id, trace, signature, out)
            }
            Command::PrintSettlementSlip { batch } => {
                self.print_settlement_slip(ticket, request_id, batch, out)
            }
            financial => self.financial(ticket, request_id, financial, out),
        }
    }

    fn reject(ticket: Ticket, request_id: RequestId, error: CommandError, out: &mut Vec<Output>) {
        log::info!("command {request_id} refused: {error}");
        out.push(Output::Done(CommandDone {
            ticket,
            request_id,
            outcome: Err(error),
        }));
    }

    fn financial(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        command: Command,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let pan_hash = match &command {
            Command::PreAuth { card, .. } => Some(self.pan_key.hash(&card.pan)),
            _ => None,
        };
        let print = fingerprint(&command, pan_hash.as_ref());
        if let Some(existing) = self.journal.find_by_request_id(&request_id)? {
            let stored: String = self
                .journal
                .conn()
                .query_row(
                    "SELECT fingerprint FROM transactions WHERE id = ?1",
                    [existing.id],
                    |r| r.get(0),
                )
                .map_err(JournalError::sqlite("reading a transaction"))?;
            if stored != print {
                Self::reject(
                    ticket,
                    request_id.clone(),
                    CommandError::RequestIdConflict {
                        request_id: request_id.as_str().into(),
                        trace: existing.trace,
                    },
                    out,
                );
            } else if matches!(existing.state, TxnState::Queued | TxnState::Sending) {
                log::info!(
                    "request {request_id} repeated while in flight; it will get the same answer"
                );
                self.waiters
                    .entry(existing.id)
                    .or_default()
                    .push((ticket, request_id));
            } else {
                log::info!(
                    "request {request_id} repeated; answering with transaction {}",
                    existing.trace
                );
                out.push(Output::Done(CommandDone {
                    ticket,
                    request_id,
                    outcome: Ok(CommandOutcome::Transaction(existing)),
                }));
            }
            return Ok(());
        }
        let draft = match self.validate(command, pan_hash, print) {
            Ok(draft) => draft,
            Err(CommandError::Journal(e)) => return Err(e),
            Err(error) => {
                Self::reject(ticket, request_id, error, out);
                return Ok(());
            }
        };
        self.create(ticket, request_id, draft, out)
    }

    fn check_currency(&self, amount: &Money) -> Result<(), CommandError> {
        if amount.currency() != self.config.currency {
            return Err(CommandError::CurrencyMismatch {
                given: amount.currency().code().into(),
                expected: self.config.currency.code().into(),
            });
        }
        Ok(())
    }

    /// Finds the original by trace and checks its kind.
    fn original(
        &self,
        trace: TraceNumber,
        expected: TxnKind,
        also: Option<TxnKind>,
        hint: &'static str,
    ) -> Result<TxnRecord, CommandError> {
        let original = self
            .journal
            .find_by_trace(trace)?
            .ok_or(CommandError::OriginalNotFound { trace })?;
        if original.kind != expected && Some(original.kind) != also {
            return Err(CommandError::WrongOriginalKind {
                trace,
                found: original.kind,
                expected,
                hint,
            });
        }
        Ok(original)
    }

    /// Refuses when another void or completion of `original` is in flight or uncertain.
    fn check_not_busy(&self, original: &TxnRecord) -> Result<(), CommandError> {
        for child in rows::children_of(self.journal.conn(), original.id)? {
            if blocks_siblings(child.state) {
                return Err(CommandError::OriginalBusy {
                    trace: original.trace,
                    other: child.trace,
                    kind: child.kind,
                    state: child.state,
                });
            }
        }
        Ok(())
    }

    /// Checks a pre-auth can be completed or voided now.
    fn check_open_preauth(
        &self,
        preauth: &TxnRecord,
        action: &'static str,
    ) -> Result<(), CommandError> {
        match preauth.state {
            TxnState::Approved => {}
            TxnState::Voided => {
                return Err(CommandError::AlreadyVoided {
                    trace: preauth.trace,
                });
            }
            TxnState::Completed => {
                return Err(CommandError::AlreadyCompleted {
                    trace: preauth.trace,
                });
            }
            state => {
                return Err(CommandError::OriginalNotApproved {
                    trace: preauth.trace,
                    state,
                    action,
                });
            }
        }
        self.check_not_busy(preauth)
    }

    fn validate(
        &self,
        command: Command,
        pan_hash: Option<PanHash>,
        fingerprint: String,
    ) -> Result<Draft, CommandError> {
        match command {
            Command::PreAuth { amount, card } => {
                self.check_currency(&amount)?;
                if card.expiry.is_expired_at(self.now) {
                    return Err(crate::card::CardError::Expired {
                        expiry: card.expiry.as_yymm(),
                    }
                    .into());
                }
                Ok(Draft {
                    kind: TxnKind::PreAuth,
                    amount,
                    masked_pan: card.pan.masked(),
                    pan_hash: pan_hash.expect("computed for pre-auths"),
                    card: Some(card),
                    original: None,
                    fingerprint,
                })
            }
            Command::Complete {
                original_trace,
                amount,
            } => self.completion(
                TxnKind::CompletionRequest,
                original_trace,
                amount,
                fingerprint,
            ),
            Command::CompleteOffline {
                original_trace,
                amount,
            } => self.completion(
                TxnKind::CompletionAdvice,
                original_trace,
                amount,
                fingerprint,
            ),
            Command::Void { original_trace } => {
                let preauth = self.original(
                    original_trace,
                    TxnKind::PreAuth,
                    None,
                    "use completion void (complete-void) for a completion",
                )?;
                self.check_open_preauth(&preauth, "voided")?;
                let amount = preauth.amount;
                self.draft_on(TxnKind::PreAuthVoid, amount, preauth, fingerprint)
            }
            Command::CompleteVoid { original_trace } => {
                let completion = self.original(
                    original_trace,
                    TxnKind::CompletionRequest,
                    Some(TxnKind::CompletionAdvice),
                    "use pre-auth void (void) for a pre-auth",
                )?;
                match completion.state {
                    TxnState::Approved => {}
                    TxnState::Voided => {
                        return Err(CommandError::AlreadyVoided {
                            trace: original_trace,
                        });
                    }
                    state => {
                        return Err(CommandError::OriginalNotApproved {
                            trace: original_trace,
                            state,
                            action: "voided",
                        });
                    }
                }
                if completion.settled {
                    return Err(CommandError::AlreadySettled {
                        trace: original_trace,
                        batch: completion.batch.to_string(),
                    });
                }
                self.check_not_busy(&completion)?;
                let amount = completion.amount;
                self.draft_on(TxnKind::CompletionVoid, amount, completion, fingerprint)
            }
            Command::Settle
            | Command::RetryReversal { .. }
            | Command::SignOn
            | Command::Reprint { .. }
            | Command::ResumePrinting
            | Command::DeliverElectronically { .. }
            | Command::PrintSettlementSlip { .. }
            | Command::SaveSignature { .. } => unreachable!("not a financial command"),
        }
    }

    /// Checks a completion (online or offline) of the pre-auth `original_trace`.
    fn completion(
        &self,
        kind: TxnKind,
        original_trace: TraceNumber,
        amount: Money,
        fingerprint: String,
    ) -> Result<Draft, CommandError> {
        self.check_currency(&amount)?;
        let preauth = self.original(
            original_trace,
            TxnKind::PreAuth,
            None,
            "completions need the pre-auth's trace",
        )?;
        self.check_open_preauth(&preauth, "completed")?;
        let days = self.config.preauth_valid_days;
        if self.now > preauth.created_at.plus_days(i64::from(days)) {
            return Err(CommandError::PreAuthExpired {
                trace: original_trace,
                days,
            });
        }
        let percent = self.config.completion_limit_percent;
        let max_minor = u128::from(preauth.amount.minor_units()) * u128::from(percent) / 100;
        if u128::from(amount.minor_units()) > max_minor {
            let max_minor = max_minor.min(u128::from(crate::money::MAX_MINOR_UNITS)) as u64;
            let max = Money::from_minor(max_minor, amount.currency())
                .map(|m| m.to_string())
                .unwrap_or_default();
            return Err(CommandError::CompletionOverLimit {
                requested: amount.to_string(),
                max,
                percent,
            });
        }
        self.draft_on(kind, amount, preauth, fingerprint)
    }

    /// A void or completion of `original`: it carries the original's masked PAN and hash.
    fn draft_on(
        &self,
        kind: TxnKind,
        amount: Money,
        original: TxnRecord,
        fingerprint: String,
    ) -> Result<Draft, CommandError> {
        let pan_hash: String = self
            .journal
            .conn()
            .query_row(
                "SELECT pan_hash FROM transactions WHERE id = ?1",
                [original.id],
                |r| r.get(0),
            )
            .map_err(JournalError::sqlite("reading a transaction"))?;
        Ok(Draft {
            kind,
            amount,
            card: None,
            masked_pan: original.masked_pan.clone(),
            pan_hash: PanHash::from_stored(pan_hash),
            original: Some(original),
            fingerprint,
        })
    }

    /// Whether a new financial request can go to the host right now, with nothing before it.
    /// A void of an offline completion whose advice is still queued waits for the advice.
    fn can_send_now(&self, original_id: Option<i64>) -> Result<bool, JournalError> {
        if let Some(original_id) = original_id {
            if requests::advice_undelivered(self.journal.conn(), original_id)? {
                return Ok(false);
            }
        }
        Ok(self.in_flight.is_none()
            && self.queue.is_empty()
            && self.sign_on_waiters.is_empty()
            && !self.journal.sign_on_required()?
            && !requests::any_pending_reversal(self.journal.conn())?)
    }

    /// Journals the transaction (with its armed reversal if it is sent now) and sends or
    /// queues it. An offline completion is approved here and now.
    fn create(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        draft: Draft,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let offline = draft.kind == TxnKind::CompletionAdvice;
        let original_id = draft.original.as_ref().map(|o| o.id);
        let send_now = !offline && self.can_send_now(original_id)?;
        let state = if offline {
            TxnState::Approved
        } else if send_now {
            TxnState::Sending
        } else {
            TxnState::Queued
        };
        let copies = SlipCopy::for_count(self.config.slip_copies);
        let currency = self.config.currency;
        let training = self.config.training;
        let original_auth = draft.original.as_ref().and_then(|o| o.auth_code.clone());
        let created = self.journal.write(self.now, |tx| {
            let batch = tx.batch()?;
            let trace = tx.allocate_trace()?;
            if tx.trace_taken(batch, trace)? {
                return Ok(None);
            }
            let new = NewTxn {
                request_id: &request_id,
                fingerprint: &draft.fingerprint,
                kind: draft.kind,
                state,
                amount_minor: draft.amount.minor_units(),
                currency: currency.code(),
                masked_pan: draft.masked_pan.as_str(),
                pan_hash: draft.pan_hash.as_str(),
                original_id,
                auth_code: if offline {
                    original_auth.as_deref()
                } else {
                    None
                },
                training,
            };
            let cause = if offline {
                "approved offline; advice queued"
            } else {
                "accepted from the cashier"
            };
            let id = tx.insert_txn(&new, trace, batch, cause)?;
            if send_now {
                tx.arm_reversal(id)?;
            }
            if offline {
                tx.insert_advice(id)?;
                if let Some(original_id) = original_id {
                    tx.set_txn_state(
                        original_id,
                        TxnState::Approved,
                        TxnState::Completed,
                        "completed offline",
                    )?;
                }
                for copy in copies {
                    tx.insert_print_job(id, *copy, PrintKind::Original)?;
                }
            }
            Ok(Some(rows::txn_by_id(tx.conn(), id)?.record))
        })?;
        let Some(record) = created else {
            let batch = self.journal.current_batch()?.to_string();
            Self::reject(ticket, request_id, CommandError::BatchFull { batch }, out);
            return Ok(());
        };
        out.push(Output::Event(Event::Transaction(record.clone())));
        if offline {
            if let Some(original) = &draft.original {
                if let Some(updated) = self.journal.find_by_trace(original.trace)? {
                    out.push(Output::Event(Event::Transaction(updated)));
                }
            }
            out.push(Output::Done(CommandDone {
                ticket,
                request_id,
                outcome: Ok(CommandOutcome::Transaction(record)),
            }));
            return Ok(());
        }
        let request = FinancialRequest {
            kind: draft.kind,
            trace: record.trace,
            batch: record.batch,
            amount: draft.amount,
            card: draft.card,
            masked_pan: draft.masked_pan,
            original: draft.original.as_ref().map(requests::original_ref),
            identity: self.config.identity.clone(),
        };
        self.waiters
            .entry(record.id)
            .or_default()
            .push((ticket, request_id));
        if send_now {
            self.send(
                Purpose::Financial { txn_id: record.id },
                crate::host::HostRequest::Financial(request),
                out,
            );
        } else {
            self.queue.push_back(Queued {
                txn_id: record.id,
                original_id,
                request,
            });
        }
        Ok(())
    }

    fn settle(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        _out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        if self.settle_waiters.is_empty() {
            let batch = self.journal.current_batch()?;
            self.journal.write(self.now, |tx| {
                tx.set_batch_state(batch, "settling", None, "settlement asked by the operator")
            })?;
        }
        self.settle_waiters.push((ticket, request_id));
        Ok(())
    }

    fn retry_reversal(
        &mut self,
        ticket: Ticket,
        request_id: RequestId,
        trace: TraceNumber,
        out: &mut Vec<Output>,
    ) -> Result<(), JournalError> {
        let found = self.journal.find_by_trace(trace)?;
        let Some(txn) = found.filter(|t| {
            t.reversal
                .as_ref()
                .is_some_and(|r| r.state == ReversalState::Failed)
        }) else {
            Self::reject(
                ticket,
                request_id,
                CommandError::NothingToRetry { trace },
                out,
            );
            return Ok(());
        };
        let record = self.journal.write(self.now, |tx| {
            let mut change = ReversalChange::to(ReversalState::Pending);
            change.attempts = Some(0);
            change.next_attempt_at = Some(tx.at());
            tx.set_reversal(
                txn.id,
                ReversalState::Failed,
                &change,
                "retry asked by the operator",
            )?;
            Ok(rows::txn_by_id(tx.conn(), txn.id)?.record)
        })?;
        if let Some(reversal) = record.reversal.clone() {
            out.push(Output::Event(Event::Reversal {
                trace,
                kind: record.kind,
                reversal,
            }));
        }
        out.push(Output::Done(CommandDone {
            ticket,
            request_id,
            outcome: Ok(CommandOutcome::ReversalRequeued(record)),
        }));
        Ok(())
    }
}
