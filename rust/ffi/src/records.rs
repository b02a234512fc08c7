//! The records and enums Kotlin sees, converted from the core's types. They use signed
//! integers where Kotlin would otherwise get unsigned ones (`Int`, `Long`, not `UInt`).

use poscore::journal::{
    Diagnosis as CoreDiagnosis, Finding as CoreFinding, LogEntry, PrinterHealth as CoreHealth,
};
use poscore::record::{PrintJobRecord, ReversalRecord};
use poscore::{SettlementSummary, TxnRecord};

use crate::escpos::PaperSize;
use crate::host::HostConfig;

/// The terminal's settings. `defaultConfig()` gives a working demo terminal.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TerminalConfig {
    /// Merchant id, 15 letters or digits (field 42).
    pub merchant_id: String,
    /// Terminal id, 8 letters or digits (field 41).
    pub terminal_id: String,
    /// Operator id, two digits.
    pub operator_id: String,
    /// The merchant's name on slips.
    pub merchant_name: String,
    /// ISO 4217 code of every amount, e.g. `CNY`.
    pub currency: String,
    /// Slip copies per approval, 1–3.
    pub slip_copies: i32,
    /// The most a completion may be, in percent of its pre-auth (100–200).
    pub completion_limit_percent: i32,
    /// Days a pre-auth can be completed (1–60).
    pub preauth_valid_days: i32,
    /// Sends of a reversal before it is kept as failed (1–3).
    pub reversal_max_attempts: i32,
    /// How long to wait for the host's answer, in ms.
    pub host_timeout_ms: i64,
    /// The simulated acquirer's answer delay, in ms (when `host` is `null`).
    pub sim_host_delay_ms: i64,
    /// Training mode (培训): every transaction is a training one, kept apart in the journal
    /// and the totals; every slip says 培训 TRAINING.
    pub training: bool,
    /// Hold the next copy after each copy until the operator tore the paper off and
    /// resumed (`resumePrinting`).
    pub tear_prompt: bool,
    /// A slip whose printer has been failing this long is delivered as an electronic
    /// receipt instead (a paper copy still prints later), in ms; 0 = only on request.
    pub e_receipt_after_ms: i64,
    /// The length of a new paper roll in mm (1000–200000), for the paper-low forecast.
    pub roll_length_mm: i32,
    /// The paper roll: 58 or 80 mm.
    pub paper: PaperSize,
    /// The acquirer host (ISO 8583 over TCP, MACs and working keys through the
    /// `KeyProvider`); `null` = the simulated acquirer in process. Training mode always uses
    /// the simulated one: a training transaction never reaches an acquirer.
    #[uniffi(default = None)]
    pub host: Option<HostConfig>,
    /// How long card data (the keyed PAN hash, the masked PAN beyond its last 4, signatures)
    /// of settled transactions is kept, in days (30–3650); purged at settlement. Default 180.
    #[uniffi(default = 180)]
    pub retention_days: i32,
    /// Where scheduled journal backups go (another storage than the journal where the device
    /// allows it); `null` turns them off. Also taken after each settlement.
    #[uniffi(default = None)]
    pub backup_dir: Option<String>,
    /// How often a scheduled backup is taken, in ms (60000 to 604800000). Default an hour.
    #[uniffi(default = 3600000)]
    pub backup_every_ms: i64,
    /// How many scheduled backups are kept (1–1000). Default 24.
    #[uniffi(default = 24)]
    pub backup_keep: i32,
}

/// The default settings: a demo merchant, CNY, 2 slips, 115%, 30 days, 3 reversal sends,
/// 58 mm paper, e-receipt after 120 s of printer failure, a 19 m roll.
#[uniffi::export]
pub fn default_config() -> TerminalConfig {
    let core = poscore::Config::default();
    TerminalConfig {
        merchant_id: core.identity.merchant_id.to_string(),
        terminal_id: core.identity.terminal_id.to_string(),
        operator_id: core.identity.operator_id.to_string(),
        merchant_name: core.merchant_name,
        currency: core.currency.code().to_string(),
        slip_copies: i32::from(core.slip_copies),
        completion_limit_percent: core.completion_limit_percent as i32,
        preauth_valid_days: core.preauth_valid_days as i32,
        reversal_max_attempts: core.reversal_max_attempts as i32,
        host_timeout_ms: 30_000,
        sim_host_delay_ms: 0,
        training: core.training,
        tear_prompt: core.printing.tear_prompt,
        e_receipt_after_ms: core.printing.e_receipt_after_ms as i64,
        roll_length_mm: core.printing.roll_length_mm as i32,
        paper: match core.printing.paper {
            poscore_escpos::PaperWidth::Mm58 => PaperSize::Mm58,
            poscore_escpos::PaperWidth::Mm80 => PaperSize::Mm80,
        },
        host: None,
        retention_days: core.retention_days as i32,
        backup_dir: None,
        backup_every_ms: core.backup.every_ms as i64,
        backup_keep: core.backup.keep as i32,
    }
}

/// What a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TxnKind {
    /// 预授权.
    PreAuth,
    /// 预授权撤销.
    PreAuthVoid,
    /// 预授权完成 (online).
    Completion,
    /// 预授权完成 (offline advice).
    CompletionAdvice,
    /// 预授权完成撤销.
    CompletionVoid,
}

impl From<poscore::txn::TxnKind> for TxnKind {
    fn from(kind: poscore::txn::TxnKind) -> TxnKind {
        use poscore::txn::TxnKind as K;
        match kind {
            K::PreAuth => TxnKind::PreAuth,
            K::PreAuthVoid => TxnKind::PreAuthVoid,
            K::CompletionRequest => TxnKind::Completion,
            K::CompletionAdvice => TxnKind::CompletionAdvice,
            K::CompletionVoid => TxnKind::CompletionVoid,
        }
    }
}

/// Where a transaction is (see the README's states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TxnState {
    /// Waiting for the link; not sent.
    Queued,
    /// Sent or being sent; answer awaited.
    Sending,
    /// Approved.
    Approved,
    /// Declined by the host.
    Declined,
    /// Nothing was sent; no money moved.
    NotSent,
    /// The answer was lost: a reversal is due. Do not hand over goods.
    Unknown,
    /// Reversed: no money moved.
    Reversed,
    /// Voided by a later void.
    Voided,
    /// A pre-auth finished by its completion.
    Completed,
}

impl From<poscore::txn::TxnState> for TxnState {
    fn from(state: poscore::txn::TxnState) -> TxnState {
        use poscore::txn::TxnState as S;
        match state {
            S::Queued => TxnState::Queued,
            S::Sending => TxnState::Sending,
            S::Approved => TxnState::Approved,
            S::Declined => TxnState::Declined,
            S::NotSent => TxnState::NotSent,
            S::Unknown => TxnState::Unknown,
            S::Reversed => TxnState::Reversed,
            S::Voided => TxnState::Voided,
            S::Completed => TxnState::Completed,
        }
    }
}

/// Where a reversal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReversalState {
    /// Written before sending; not needed unless the answer is lost.
    Armed,
    /// Due; goes before the next financial message.
    Pending,
    /// Confirmed by the host.
    Done,
    /// Retries ran out; kept for the operator (retry with `retryReversal`).
    Failed,
    /// Not needed: the host answered.
    Disarmed,
    /// Not needed: nothing was sent.
    Cancelled,
}

impl From<poscore::txn::ReversalState> for ReversalState {
    fn from(state: poscore::txn::ReversalState) -> ReversalState {
        use poscore::txn::ReversalState as S;
        match state {
            S::Armed => ReversalState::Armed,
            S::Pending => ReversalState::Pending,
            S::Done => ReversalState::Done,
            S::Failed => ReversalState::Failed,
            S::Disarmed => ReversalState::Disarmed,
            S::Cancelled => ReversalState::Cancelled,
        }
    }
}

/// A transaction's reversal.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reversal {
    /// Its state.
    pub state: ReversalState,
    /// Its field-39 reason: `98`, `06`, `A0` or `96`.
    pub reason: String,
    /// Counted sends.
    pub attempts: i32,
}

impl From<&ReversalRecord> for Reversal {
    fn from(r: &ReversalRecord) -> Reversal {
        Reversal {
            state: r.state.into(),
            reason: r.reason.as_str().into(),
            attempts: r.attempts as i32,
        }
    }
}

/// Where a slip print job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PrintJobState {
    /// Waiting for the printer (possibly after a fault, retried with backoff; see `lastError`).
    Queued,
    /// At the printer, not yet confirmed.
    Sending,
    /// Confirmed printed.
    Printed,
    /// Waiting for the operator (`heldReason`: paper out, cover open, `tear_off`…); resumes
    /// by itself when the printer is ready again, or with `resumePrinting`.
    Held,
    /// Delivered as an electronic receipt.
    Delivered,
}

impl From<poscore::txn::PrintJobState> for PrintJobState {
    fn from(state: poscore::txn::PrintJobState) -> PrintJobState {
        use poscore::txn::PrintJobState as S;
        match state {
            S::Queued => PrintJobState::Queued,
            S::Sending => PrintJobState::Sending,
            S::Printed => PrintJobState::Printed,
            S::Held => PrintJobState::Held,
            S::Delivered => PrintJobState::Delivered,
        }
    }
}

/// How a slip reached the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Delivery {
    /// On paper, confirmed by the printer.
    Paper,
    /// As an electronic receipt (PNG and verification QR code).
    Electronic,
}

impl From<poscore::txn::Delivery> for Delivery {
    fn from(delivery: poscore::txn::Delivery) -> Delivery {
        match delivery {
            poscore::txn::Delivery::Paper => Delivery::Paper,
            poscore::txn::Delivery::Electronic => Delivery::Electronic,
        }
    }
}

/// A slip print job.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrintJobInfo {
    /// The job's id.
    pub job_id: i64,
    /// `merchant`, `cardholder` or `bank`.
    pub copy: String,
    /// Whether it is a reprint (the slip says 重打印 REPRINT).
    pub reprint: bool,
    /// Its state.
    pub state: PrintJobState,
    /// Times it went to the printer.
    pub attempts: i32,
    /// The printer's last complaint, if any.
    pub last_error: Option<String>,
    /// When the printer confirmed it, ms since the epoch.
    pub printed_at_ms: Option<i64>,
    /// Why it waits for the operator, while held: a printer condition (`paper_out`, …) or
    /// `tear_off`.
    pub held_reason: Option<String>,
    /// How it reached the customer, once done.
    pub delivered: Option<Delivery>,
}

impl From<&PrintJobRecord> for PrintJobInfo {
    fn from(j: &PrintJobRecord) -> PrintJobInfo {
        PrintJobInfo {
            job_id: j.id,
            copy: j.copy.as_str().into(),
            reprint: j.kind == poscore::txn::PrintKind::Reprint,
            state: j.state.into(),
            attempts: j.attempts as i32,
            last_error: j.last_error.clone(),
            printed_at_ms: j.printed_at.map(|t| t.as_millis()),
            held_reason: j.held_reason.clone(),
            delivered: j.delivered.map(Delivery::from),
        }
    }
}

/// A journaled transaction, as the UI shows it. The card number is masked.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Transaction {
    /// Trace (voucher) number, 1–999999.
    pub trace: i32,
    /// Batch number.
    pub batch: i32,
    /// Kind.
    pub kind: TxnKind,
    /// State.
    pub state: TxnState,
    /// Amount in minor units (fen).
    pub amount_minor: i64,
    /// The amount as text, e.g. `"12.34"`.
    pub amount_text: String,
    /// ISO 4217 code.
    pub currency: String,
    /// BIN + last 4.
    pub masked_pan: String,
    /// Authorization code, once approved.
    pub auth_code: Option<String>,
    /// Retrieval reference number.
    pub rrn: Option<String>,
    /// The host's response code.
    pub response_code: Option<String>,
    /// The caller's request id.
    pub request_id: String,
    /// The original's trace, for voids and completions.
    pub original_trace: Option<i32>,
    /// Whether its batch was settled.
    pub settled: bool,
    /// Created, ms since the epoch.
    pub created_at_ms: i64,
    /// Last changed, ms since the epoch.
    pub updated_at_ms: i64,
    /// Its reversal, if one was ever needed.
    pub reversal: Option<Reversal>,
    /// Its slips.
    pub print_jobs: Vec<PrintJobInfo>,
    /// A training transaction (培训): no money moved; kept out of the totals.
    pub training: bool,
}

impl From<&TxnRecord> for Transaction {
    fn from(t: &TxnRecord) -> Transaction {
        use poscore::txn::ReversalState as R;
        Transaction {
            trace: t.trace.value() as i32,
            batch: t.batch.value() as i32,
            kind: t.kind.into(),
            state: t.state.into(),
            amount_minor: t.amount.minor_units() as i64,
            amount_text: t.amount.to_decimal_string(),
            currency: t.amount.currency().code().into(),
            masked_pan: t.masked_pan.as_str().into(),
            auth_code: t.auth_code.clone(),
            rrn: t.rrn.clone(),
            response_code: t.response_code.clone(),
            request_id: t.request_id.as_str().into(),
            original_trace: t.original_trace.map(|o| o.value() as i32),
            settled: t.settled,
            created_at_ms: t.created_at.as_millis(),
            updated_at_ms: t.updated_at.as_millis(),
            reversal: t
                .reversal
                .as_ref()
                .filter(|r| !matches!(r.state, R::Disarmed | R::Cancelled))
                .map(Reversal::from),
            print_jobs: t.print_jobs.iter().map(PrintJobInfo::from).collect(),
            training: t.training,
        }
    }
}

/// A finished settlement.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Settlement {
    /// The batch that closed.
    pub batch: i32,
    /// Completions in it.
    pub count: i32,
    /// Their total in minor units.
    pub amount_minor: i64,
    /// Whether the host's totals matched.
    pub balanced: bool,
    /// How many completions the batch upload sent (0 when balanced).
    pub uploaded: i32,
    /// The new batch.
    pub next_batch: i32,
}

impl From<&SettlementSummary> for Settlement {
    fn from(s: &SettlementSummary) -> Settlement {
        Settlement {
            batch: s.batch.value() as i32,
            count: s.totals.count as i32,
            amount_minor: s.totals.amount_minor as i64,
            balanced: s.balanced,
            uploaded: s.uploaded as i32,
            next_batch: s.next_batch.value() as i32,
        }
    }
}

/// What recovery found when the terminal opened, and what is still open now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecoveryInfo {
    /// Transactions that may have been sent, made unknown with a reversal.
    pub made_unknown: i32,
    /// Transactions that never left, made not-sent.
    pub made_not_sent: i32,
    /// Slips put back in the print queue.
    pub print_jobs_requeued: i32,
    /// Reversals still pending now.
    pub reversals_pending: i32,
    /// Reversals that ran out of retries (the operator can retry them).
    pub reversals_failed: i32,
    /// Slips not yet printed now.
    pub slips_unprinted: i32,
}

/// News for the UI, delivered to the `EventListener` in order.
// Crossing the FFI, every variant is serialized into one buffer, so the size difference
// between variants costs nothing there; boxing is not available for uniffi enums.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TerminalEvent {
    /// A transaction changed state.
    TransactionChanged {
        /// The transaction now.
        transaction: Transaction,
    },
    /// A reversal changed state.
    ReversalChanged {
        /// The reversed transaction's trace.
        trace: i32,
        /// The reversal now.
        reversal: Reversal,
    },
    /// A slip changed state.
    PrintJobChanged {
        /// The transaction's trace.
        trace: i32,
        /// The job now.
        job: PrintJobInfo,
    },
    /// Whether a sign-on is required.
    SignOnRequired {
        /// Required or not.
        required: bool,
    },
    /// A batch was settled.
    Settled {
        /// The settlement.
        settlement: Settlement,
    },
    /// A slip went to the printer: "copy `number`/`of`".
    PrintProgress {
        /// The transaction's trace.
        trace: i32,
        /// `merchant`, `cardholder` or `bank`.
        copy: String,
        /// Which of the transaction's slips (1-based).
        number: i32,
        /// How many slips the transaction has.
        of: i32,
        /// Whether it is a reprint.
        reprint: bool,
    },
    /// Printing stopped for the operator. Show the message with a "continue printing"
    /// button (`resumePrinting`); a printer fault also resumes by itself once the printer
    /// reports it is ready.
    PrintingHeld {
        /// A printer condition (`paper_out`, `cover_open`, …) or `tear_off`.
        reason: String,
        /// What to do, in Chinese.
        message_zh: String,
        /// What to do, in English.
        message_en: String,
    },
    /// Printing resumed after a hold.
    PrintingResumed,
    /// A copy was delivered as an electronic receipt: show its QR code (`eReceipt`).
    ElectronicReceipt {
        /// The transaction's trace.
        trace: i32,
        /// `merchant`, `cardholder` or `bank`.
        copy: String,
        /// Why: on request, or how long the printer had been failing.
        why: String,
    },
    /// The settlement slip of a batch was printed, or could not be (`detail` says why and
    /// what to do; it is not retried on its own).
    SettlementSlip {
        /// The batch.
        batch: i32,
        /// Whether the printer confirmed it.
        printed: bool,
        /// What happened, for the operator (Chinese / English).
        detail: String,
    },
}

impl From<&poscore::Event> for TerminalEvent {
    fn from(event: &poscore::Event) -> TerminalEvent {
        match event {
            poscore::Event::Transaction(t) => TerminalEvent::TransactionChanged {
                transaction: t.into(),
            },
            poscore::Event::Reversal {
                trace, reversal, ..
            } => TerminalEvent::ReversalChanged {
                trace: trace.value() as i32,
                reversal: reversal.into(),
            },
            poscore::Event::PrintJob { trace, job } => TerminalEvent::PrintJobChanged {
                trace: trace.value() as i32,
                job: job.into(),
            },
            poscore::Event::SignOnRequired(required) => TerminalEvent::SignOnRequired {
                required: *required,
            },
            poscore::Event::Settled(s) => TerminalEvent::Settled {
                settlement: s.into(),
            },
            poscore::Event::Printing {
                trace,
                copy,
                kind,
                number,
                of,
            } => TerminalEvent::PrintProgress {
                trace: trace.value() as i32,
                copy: copy.as_str().into(),
                number: *number as i32,
                of: *of as i32,
                reprint: *kind == poscore::txn::PrintKind::Reprint,
            },
            poscore::Event::PrintingHeld { reason, remedy } => TerminalEvent::PrintingHeld {
                reason: reason.clone(),
                message_zh: remedy.0.clone(),
                message_en: remedy.1.clone(),
            },
            poscore::Event::PrintingResumed => TerminalEvent::PrintingResumed,
            poscore::Event::ElectronicReceipt { trace, copy, why } => {
                TerminalEvent::ElectronicReceipt {
                    trace: trace.value() as i32,
                    copy: copy.as_str().into(),
                    why: why.clone(),
                }
            }
            poscore::Event::SettlementSlip {
                batch,
                printed,
                detail,
            } => TerminalEvent::SettlementSlip {
                batch: batch.value() as i32,
                printed: *printed,
                detail: detail.clone(),
            },
        }
    }
}

/// One row of a transaction's timeline: a state change and its cause.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TimelineEntry {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// What changed: `transaction`, `reversal`, `advice`, `print_job`, `signature`, …
    pub entity: String,
    /// The state before, if there was one.
    pub from: Option<String>,
    /// The state after.
    pub to: String,
    /// Why, in words.
    pub cause: String,
}

impl From<&LogEntry> for TimelineEntry {
    fn from(e: &LogEntry) -> TimelineEntry {
        TimelineEntry {
            at_ms: e.at.as_millis(),
            entity: e.entity.clone(),
            from: e.from.clone(),
            to: e.to.clone(),
            cause: e.cause.clone(),
        }
    }
}

/// Why something waits, sorted into one of the five causes, with what to do.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Finding {
    /// `printer_hardware`, `software`, `operator`, `network` or `sync`.
    pub cause: String,
    /// The cause in Chinese.
    pub cause_zh: String,
    /// The cause in English.
    pub cause_en: String,
    /// What the journal shows, in English.
    pub detail: String,
    /// What to do, in Chinese.
    pub remedy_zh: String,
    /// What to do, in English.
    pub remedy_en: String,
}

impl From<&CoreFinding> for Finding {
    fn from(f: &CoreFinding) -> Finding {
        let (zh, en) = f.cause.describe();
        Finding {
            cause: f.cause.code().into(),
            cause_zh: zh.into(),
            cause_en: en.into(),
            detail: f.detail.clone(),
            remedy_zh: f.remedy_zh.clone(),
            remedy_en: f.remedy_en.clone(),
        }
    }
}

/// One slip copy of a diagnosed transaction.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SlipDiagnosis {
    /// The job's id.
    pub job_id: i64,
    /// `merchant`, `cardholder` or `bank`.
    pub copy: String,
    /// Whether it is a reprint.
    pub reprint: bool,
    /// Its state.
    pub state: PrintJobState,
    /// Why it is not printed yet; `null` when printed, delivered or printing now.
    pub finding: Option<Finding>,
}

/// A transaction's story: its timeline and why each slip is where it is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Diagnosis {
    /// The transaction.
    pub transaction: Transaction,
    /// Every state change of it and its slips, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Why it has no slips (yet): not sent, outcome being resolved; `null` when it has
    /// them or needs none.
    pub no_slip: Option<Finding>,
    /// Each slip copy.
    pub slips: Vec<SlipDiagnosis>,
}

impl From<&CoreDiagnosis> for Diagnosis {
    fn from(d: &CoreDiagnosis) -> Diagnosis {
        Diagnosis {
            transaction: (&d.txn).into(),
            timeline: d.timeline.iter().map(TimelineEntry::from).collect(),
            no_slip: d.no_slip.as_ref().map(Finding::from),
            slips: d
                .slips
                .iter()
                .map(|s| SlipDiagnosis {
                    job_id: s.job_id,
                    copy: s.copy.as_str().into(),
                    reprint: s.kind == poscore::txn::PrintKind::Reprint,
                    state: s.state.into(),
                    finding: s.finding.as_ref().map(Finding::from),
                })
                .collect(),
        }
    }
}

/// How often one printer fault happened.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FaultCount {
    /// The condition (`paper_out`, `cover_open`, …).
    pub condition: String,
    /// How many times.
    pub count: i64,
}

/// The printer's maintenance figures and the paper forecast.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrinterHealth {
    /// Paper printed since the journal began, in mm.
    pub printed_mm: i64,
    /// Slips printed (confirmed).
    pub jobs_printed: i64,
    /// Reprints asked for or made.
    pub reprints: i64,
    /// Paper rolls changed (a paper-out hold released).
    pub paper_changes: i64,
    /// Paper printed since the last paper change, in mm.
    pub mm_since_paper_change: i64,
    /// The configured roll length, in mm.
    pub roll_length_mm: i32,
    /// The forecast of paper left on the roll, in mm.
    pub paper_left_mm: i64,
    /// About how many more slips the roll holds, once slips were printed.
    pub slips_left: Option<i64>,
    /// Whether to have a new roll ready.
    pub paper_low: bool,
    /// Faults by condition, most frequent first.
    pub faults: Vec<FaultCount>,
    /// Slips not yet printed or delivered.
    pub waiting: i64,
    /// Why printing is held now, if it is.
    pub held_reason: Option<String>,
}

impl From<&CoreHealth> for PrinterHealth {
    fn from(h: &CoreHealth) -> PrinterHealth {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        PrinterHealth {
            printed_mm: n(h.printed_mm),
            jobs_printed: n(h.jobs_printed),
            reprints: n(h.reprints),
            paper_changes: n(h.paper_changes),
            mm_since_paper_change: n(h.mm_since_paper_change),
            roll_length_mm: i32::try_from(h.roll_length_mm).unwrap_or(i32::MAX),
            paper_left_mm: n(h.paper_left_mm),
            slips_left: h.slips_left.map(n),
            paper_low: h.paper_low,
            faults: h
                .faults
                .iter()
                .map(|(condition, count)| FaultCount {
                    condition: condition.clone(),
                    count: n(*count),
                })
                .collect(),
            waiting: n(h.waiting),
            held_reason: h.held_reason.clone(),
        }
    }
}

/// An electronic receipt: the slip as a PNG with its verification QR code, and the code's
/// text for showing it on screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EReceipt {
    /// The slip with the QR code, as a 1-bit PNG.
    pub png: Vec<u8>,
    /// The QR code's text (`PR1|terminal|batch|trace|amount|currency|auth|time|copy|mac`).
    pub payload: String,
    /// Whether this copy counts as delivered electronically in the journal.
    pub delivered: bool,
}

/// A point of a signature stroke, in pad pixels ((0, 0) is the pad's top left).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Point {
    /// From the left.
    pub x: i32,
    /// From the top.
    pub y: i32,
}

/// One pen-down … pen-up of a signature.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Stroke {
    /// The points, in order.
    pub points: Vec<Point>,
}
