//! The records and enums Kotlin sees, converted from the core's types. They use signed
//! integers where Kotlin would otherwise get unsigned ones (`Int`, `Long`, not `UInt`).

use poscore::record::{PrintJobRecord, ReversalRecord};
use poscore::{SettlementSummary, TxnRecord};

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
    /// The simulated acquirer's answer delay, in ms (until the real host link is set up).
    pub sim_host_delay_ms: i64,
}

/// The default settings: a demo merchant, CNY, 2 slips, 115%, 30 days, 3 reversal sends.
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
        Reversal { state: r.state.into(), reason: r.reason.as_str().into(), attempts: r.attempts as i32 }
    }
}

/// Where a slip print job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PrintJobState {
    /// Waiting for the printer (possibly after a fault; see `lastError`).
    Queued,
    /// At the printer, not yet confirmed.
    Printing,
    /// Confirmed printed.
    Printed,
}

/// A slip print job.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrintJobInfo {
    /// The job's id.
    pub job_id: i64,
    /// `merchant`, `cardholder` or `bank`.
    pub copy: String,
    /// Whether it is a reprint.
    pub reprint: bool,
    /// Its state.
    pub state: PrintJobState,
    /// Times it went to the printer.
    pub attempts: i32,
    /// The printer's last complaint, if any.
    pub last_error: Option<String>,
}

impl From<&PrintJobRecord> for PrintJobInfo {
    fn from(j: &PrintJobRecord) -> PrintJobInfo {
        use poscore::txn::PrintJobState as S;
        PrintJobInfo {
            job_id: j.id,
            copy: j.copy.as_str().into(),
            reprint: j.kind == poscore::txn::PrintKind::Reprint,
            state: match j.state {
                S::Queued => PrintJobState::Queued,
                S::Printing => PrintJobState::Printing,
                S::Printed => PrintJobState::Printed,
            },
            attempts: j.attempts as i32,
            last_error: j.last_error.clone(),
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
            reversal: t.reversal.as_ref().filter(|r| !matches!(r.state, R::Disarmed | R::Cancelled)).map(Reversal::from),
            print_jobs: t.print_jobs.iter().map(PrintJobInfo::from).collect(),
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
}

impl From<&poscore::Event> for TerminalEvent {
    fn from(event: &poscore::Event) -> TerminalEvent {
        match event {
            poscore::Event::Transaction(t) => TerminalEvent::TransactionChanged { transaction: t.into() },
            poscore::Event::Reversal { trace, reversal, .. } => {
                TerminalEvent::ReversalChanged { trace: trace.value() as i32, reversal: reversal.into() }
            }
            poscore::Event::PrintJob { trace, job } => TerminalEvent::PrintJobChanged { trace: trace.value() as i32, job: job.into() },
            poscore::Event::SignOnRequired(required) => TerminalEvent::SignOnRequired { required: *required },
            poscore::Event::Settled(s) => TerminalEvent::Settled { settlement: s.into() },
        }
    }
}
