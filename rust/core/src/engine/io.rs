//! What goes into the engine ([`Input`]) and what comes out ([`Output`]).

use crate::card::CardInput;
use crate::error::CommandError;
use crate::host::{BatchTotals, ExchangeId, HostReply, HostRequest};
use crate::ids::{BatchNumber, RequestId, TraceNumber};
use crate::money::Money;
use crate::print::PrintOutcome;
use crate::record::{PrintJobRecord, ReversalRecord, TxnRecord};
use crate::txn::{PrintJobState, PrintKind, SlipCopy, TxnKind};
use poscore_escpos::Document;

/// The caller's handle on one submitted command: its [`CommandDone`] carries it back.
/// Chosen by the caller (the driver counts them up); never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// A cashier's or operator's command.
#[derive(Debug, Clone)]
pub enum Command {
    /// 预授权: hold `amount` on the card.
    PreAuth {
        /// The amount to hold.
        amount: Money,
        /// The card (memory only).
        card: CardInput,
    },
    /// 预授权完成请求: complete the pre-auth with this trace online, for `amount`.
    Complete {
        /// The pre-auth's trace.
        original_trace: TraceNumber,
        /// The final amount.
        amount: Money,
    },
    /// 预授权完成通知: complete the pre-auth offline; the advice is sent store-and-forward.
    CompleteOffline {
        /// The pre-auth's trace.
        original_trace: TraceNumber,
        /// The final amount.
        amount: Money,
    },
    /// 预授权撤销: void the pre-auth with this trace.
    Void {
        /// The pre-auth's trace.
        original_trace: TraceNumber,
    },
    /// 预授权完成撤销: void the completion with this trace.
    CompleteVoid {
        /// The completion's trace.
        original_trace: TraceNumber,
    },
    /// 批结算: send pending reversals and advices, then settle the batch.
    Settle,
    /// Put a `failed` reversal back in the queue (the operator's retry).
    RetryReversal {
        /// The trace of the transaction whose reversal failed.
        trace: TraceNumber,
    },
    /// 签到: sign on to the host.
    SignOn,
    /// 重打印: print a slip again, marked REPRINT. `trace: None` reprints the last slip
    /// printed; `copy: None` reprints the copy last printed for that transaction (the
    /// merchant copy when none was).
    Reprint {
        /// The transaction's trace, or the last slip.
        trace: Option<TraceNumber>,
        /// Which copy.
        copy: Option<SlipCopy>,
    },
    /// The operator fixed the printer or tore the paper off: every held slip goes back in the
    /// queue.
    ResumePrinting,
    /// Deliver the slips of this transaction that are not printed as electronic receipts
    /// (on request). `copy: None` = every such copy.
    DeliverElectronically {
        /// The transaction's trace.
        trace: TraceNumber,
        /// Which copy, or all.
        copy: Option<SlipCopy>,
    },
    /// 打印结算单: print the settlement slip of a closed batch again (`batch: None` = the
    /// batch settled last).
    PrintSettlementSlip {
        /// The batch, or the last one settled.
        batch: Option<BatchNumber>,
    },
    /// Store the cardholder's electronic signature for this transaction (bytes of
    /// [`crate::signature::Signature::to_bytes`]); slips printed from now on carry it.
    SaveSignature {
        /// The transaction's trace.
        trace: TraceNumber,
        /// The encoded signature.
        signature: Vec<u8>,
    },
}

impl Command {
    /// The kind of transaction this command creates, if it creates one.
    pub fn creates(&self) -> Option<TxnKind> {
        match self {
            Command::PreAuth { .. } => Some(TxnKind::PreAuth),
            Command::Complete { .. } => Some(TxnKind::CompletionRequest),
            Command::CompleteOffline { .. } => Some(TxnKind::CompletionAdvice),
            Command::Void { .. } => Some(TxnKind::PreAuthVoid),
            Command::CompleteVoid { .. } => Some(TxnKind::CompletionVoid),
            Command::Settle
            | Command::RetryReversal { .. }
            | Command::SignOn
            | Command::Reprint { .. }
            | Command::ResumePrinting
            | Command::DeliverElectronically { .. }
            | Command::PrintSettlementSlip { .. }
            | Command::SaveSignature { .. } => None,
        }
    }
}

/// Something that happened, handed to [`crate::Engine::handle`].
#[derive(Debug, Clone)]
pub enum Input {
    /// A command, with the caller's ticket and idempotency key.
    Command {
        /// Handed back in the [`CommandDone`].
        ticket: Ticket,
        /// One request id is one transaction, however often it is sent.
        request_id: RequestId,
        /// The command.
        command: Command,
    },
    /// The host answered an exchange.
    HostReply {
        /// Which exchange.
        exchange: ExchangeId,
        /// The answer.
        reply: HostReply,
    },
    /// The request went out but no answer came in time.
    HostTimeout {
        /// Which exchange.
        exchange: ExchangeId,
    },
    /// The link failed before anything was sent (connect refused, no network).
    LinkFailed {
        /// Which exchange.
        exchange: ExchangeId,
        /// What the link said, for the operator.
        why: String,
    },
    /// The printer finished a job.
    PrintResult {
        /// The job.
        job_id: i64,
        /// Printed (confirmed), or failed with the cause.
        outcome: PrintOutcome,
    },
    /// The printer finished a report ([`Output::PrintReport`]).
    ReportResult {
        /// The report.
        report_id: u64,
        /// Printed (confirmed), or failed with the cause.
        outcome: PrintOutcome,
    },
    /// The printer reports it is ready again (paper loaded, cover closed): slips held for a
    /// printer fault go back in the queue.
    PrinterReady,
    /// Time passed: lets due retries go out.
    Tick,
}

/// A slip to print, rendered from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    /// The job's journal id, handed back in [`Input::PrintResult`].
    pub job_id: i64,
    /// The transaction the slip is for, as journaled.
    pub txn: TxnRecord,
    /// Which copy.
    pub copy: SlipCopy,
    /// Original or reprint (a job whose earlier attempt may have printed is a reprint).
    pub kind: PrintKind,
    /// The slip, rendered from the journal now.
    pub document: Document,
    /// Which copy this is of the transaction's jobs (1-based), for "copy 1/2".
    pub number: u32,
    /// How many jobs the transaction has.
    pub of: u32,
}

/// A report for the printer: the settlement slip (结算单) of a closed batch.
///
/// Unlike a transaction's slip it is not kept in the journal's print queue: it is printed
/// once when made (after the slips due before it), and a failure is reported, not retried.
/// It is rendered from the journal, so it can be printed again at any time
/// ([`Command::PrintSettlementSlip`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportJob {
    /// Handed back in [`Input::ReportResult`].
    pub report_id: u64,
    /// The batch the settlement slip is for.
    pub batch: BatchNumber,
    /// The slip.
    pub document: Document,
}

/// What the engine asks for.
#[derive(Debug)]
pub enum Output {
    /// Send this to the host; answer with `HostReply`, `HostTimeout` or `LinkFailed`.
    Send {
        /// The exchange's id.
        exchange: ExchangeId,
        /// What to send.
        request: HostRequest,
    },
    /// Print this slip; answer with `PrintResult`.
    Print(PrintJob),
    /// Print this report; answer with `ReportResult`.
    PrintReport(ReportJob),
    /// A command finished.
    Done(CommandDone),
    /// Tell the UI.
    Event(Event),
}

/// A command's end, for the caller that submitted it.
#[derive(Debug)]
pub struct CommandDone {
    /// The ticket the command came with.
    pub ticket: Ticket,
    /// Its request id.
    pub request_id: RequestId,
    /// How it ended.
    pub outcome: Result<CommandOutcome, CommandError>,
}

/// A command that was carried out (whatever the host said).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOutcome {
    /// The transaction, in its state after the host's answer: `approved`, `declined`,
    /// `unknown` (answer lost, reversal pending), or `not_sent`.
    Transaction(TxnRecord),
    /// The batch was settled.
    Settled(SettlementSummary),
    /// The failed reversal of this transaction is queued again.
    ReversalRequeued(TxnRecord),
    /// Signed on.
    SignedOn,
    /// Held slips were put back in the queue.
    PrintingResumed {
        /// How many.
        jobs: u32,
    },
    /// The settlement slip of this batch is queued for the printer.
    SettlementSlipQueued {
        /// The batch.
        batch: BatchNumber,
    },
}

/// A finished settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementSummary {
    /// The batch that closed.
    pub batch: BatchNumber,
    /// Its totals.
    pub totals: BatchTotals,
    /// Whether the host's totals matched.
    pub balanced: bool,
    /// How many completions the batch upload sent (after an unbalanced settlement; 0 when
    /// the totals matched).
    pub uploaded: u32,
    /// The new batch.
    pub next_batch: BatchNumber,
}

/// News for the UI. Everything here is also in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A transaction changed state.
    Transaction(TxnRecord),
    /// A reversal changed state.
    Reversal {
        /// The reversed transaction's trace.
        trace: TraceNumber,
        /// Its kind.
        kind: TxnKind,
        /// The reversal.
        reversal: ReversalRecord,
    },
    /// A print job changed state.
    PrintJob {
        /// The transaction's trace.
        trace: TraceNumber,
        /// The job.
        job: PrintJobRecord,
    },
    /// Whether a sign-on is now required.
    SignOnRequired(bool),
    /// A batch was settled.
    Settled(SettlementSummary),
    /// A slip went to the printer: "copy `number`/`of`".
    Printing {
        /// The transaction's trace.
        trace: TraceNumber,
        /// Which copy.
        copy: SlipCopy,
        /// Original or reprint.
        kind: PrintKind,
        /// Which of the transaction's slips (1-based).
        number: u32,
        /// How many slips the transaction has.
        of: u32,
    },
    /// Printing stopped for the operator: `reason` is a printer condition or `tear_off`.
    PrintingHeld {
        /// Why (a [`crate::print::Condition`] code, or `tear_off`).
        reason: String,
        /// What to tell the operator: (Chinese, English).
        remedy: (String, String),
    },
    /// Printing resumed after a hold.
    PrintingResumed,
    /// The settlement slip of a batch was printed, or could not be (then `detail` says why
    /// and what to do; it is not retried on its own).
    SettlementSlip {
        /// The batch.
        batch: BatchNumber,
        /// Whether the printer confirmed it.
        printed: bool,
        /// What happened, for the operator.
        detail: String,
    },
    /// A copy was delivered as an electronic receipt; the UI shows its QR code.
    ElectronicReceipt {
        /// The transaction's trace.
        trace: TraceNumber,
        /// Which copy.
        copy: SlipCopy,
        /// Why (on request, or how long the printer had been failing).
        why: String,
    },
}

impl Event {
    /// A print job event, built from the parts.
    pub fn print_job(trace: TraceNumber, job: &PrintJobRecord) -> Event {
        Event::PrintJob {
            trace,
            job: job.clone(),
        }
    }

    /// Whether this event says a print job is done.
    pub fn is_printed(&self) -> bool {
        matches!(self, Event::PrintJob { job, .. } if job.state == PrintJobState::Printed)
    }
}
