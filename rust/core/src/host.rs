//! Messages between the terminal and the acquirer host, as domain values.
//!
//! The engine speaks these; the host link (a later layer) maps them to ISO 8583 bytes. A
//! [`FinancialRequest`] may carry card data ([`CardInput`]) because it goes on the wire; a
//! [`ReversalRequest`] and an [`AdviceRequest`] never carry track data, CVV or PIN blocks.

use crate::card::{CardInput, MaskedPan};
use crate::ids::{BatchNumber, MerchantId, OperatorId, TerminalId, TraceNumber};
use crate::money::Money;
use crate::time::Timestamp;
use crate::txn::{ReversalReason, TxnKind};

/// Identifies one request/answer exchange with the host. The driver hands it back with the
/// answer, the timeout or the link failure, so a late answer to an old exchange is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExchangeId(pub u64);

/// Who is sending: the terminal's identity on every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalIdentity {
    /// Field 42.
    pub merchant_id: MerchantId,
    /// Field 41.
    pub terminal_id: TerminalId,
    /// The operator at the terminal.
    pub operator_id: OperatorId,
}

/// A reference to the original transaction (fields 37, 38 and 61 of a void or completion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRef {
    /// The original's kind.
    pub kind: TxnKind,
    /// The original's trace number.
    pub trace: TraceNumber,
    /// The original's batch number.
    pub batch: BatchNumber,
    /// The original's authorization code (field 38), if it had one.
    pub auth_code: Option<String>,
    /// The original's retrieval reference number (field 37), if it had one.
    pub rrn: Option<String>,
    /// When the original was made (field 61 carries its MMDD).
    pub at: Timestamp,
    /// The original's amount.
    pub amount: Money,
}

/// A financial request: pre-auth, pre-auth void, completion or completion void.
#[derive(Debug, Clone)]
pub struct FinancialRequest {
    /// What it is.
    pub kind: TxnKind,
    /// Field 11, already durable in the journal.
    pub trace: TraceNumber,
    /// Field 60.2.
    pub batch: BatchNumber,
    /// Field 4.
    pub amount: Money,
    /// The card, for a pre-auth (memory only: never journaled).
    pub card: Option<CardInput>,
    /// The masked PAN (for logs and the simulated host).
    pub masked_pan: MaskedPan,
    /// The original, for voids and completions.
    pub original: Option<OriginalRef>,
    /// Who sends it.
    pub identity: TerminalIdentity,
}

/// A reversal (0400) of a transaction whose answer was lost or untrusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalRequest {
    /// The kind of the transaction being reversed.
    pub original_kind: TxnKind,
    /// Its trace number (the reversal carries the original field 11).
    pub original_trace: TraceNumber,
    /// Its batch.
    pub batch: BatchNumber,
    /// Its amount.
    pub amount: Money,
    /// Field 39 of the reversal.
    pub reason: ReversalReason,
    /// The original of the transaction being reversed, for voids and completions (field 61).
    pub original: Option<OriginalRef>,
    /// Who sends it.
    pub identity: TerminalIdentity,
}

/// A completion advice (0220): an offline completion sent store-and-forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdviceRequest {
    /// The advice's own trace number.
    pub trace: TraceNumber,
    /// Its batch.
    pub batch: BatchNumber,
    /// The completed amount.
    pub amount: Money,
    /// The pre-auth it completes.
    pub original: OriginalRef,
    /// Whether this is a retransmission (an earlier send got no answer).
    pub retransmission: bool,
    /// Who sends it.
    pub identity: TerminalIdentity,
}

/// The batch totals a settlement (0500) carries: completions (money moved) net of voids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchTotals {
    /// How many completions (online and offline) stand approved in the batch.
    pub count: u32,
    /// Their total in minor units.
    pub amount_minor: u64,
}

/// A settlement (批结算) of the current batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementRequest {
    /// Field 11: a fresh trace from the journal's counter.
    pub trace: TraceNumber,
    /// The batch being closed.
    pub batch: BatchNumber,
    /// The terminal's totals.
    pub totals: BatchTotals,
    /// Who sends it.
    pub identity: TerminalIdentity,
}

/// One transaction of a batch upload (批上送, 0320): a completion the host's totals must
/// include. Sent one by one after a settlement the host reported unbalanced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchUploadRecord {
    /// The transaction's kind (a completion or a completion advice).
    pub kind: TxnKind,
    /// Its own trace (field 11 of the record).
    pub trace: TraceNumber,
    /// Its amount.
    pub amount: Money,
    /// Its authorization code (field 38), if any.
    pub auth_code: Option<String>,
    /// Its RRN (field 37), if any.
    pub rrn: Option<String>,
}

/// Everything the engine may ask the host link to send.
#[derive(Debug, Clone)]
pub enum HostRequest {
    /// Sign-on (签到, 0800): fetches new working keys.
    SignOn {
        /// Field 11 for the sign-on.
        trace: TraceNumber,
        /// The open batch (field 60.2).
        batch: BatchNumber,
        /// Who signs on.
        identity: TerminalIdentity,
    },
    /// A financial request.
    Financial(FinancialRequest),
    /// A reversal.
    Reversal(ReversalRequest),
    /// A completion advice.
    Advice(AdviceRequest),
    /// A settlement.
    Settlement(SettlementRequest),
    /// One record of the batch upload that follows an unbalanced settlement.
    BatchUpload {
        /// The batch being settled.
        batch: BatchNumber,
        /// The record.
        record: BatchUploadRecord,
        /// Who sends it.
        identity: TerminalIdentity,
    },
    /// The end of the batch upload (批上送结束): how many records were sent.
    BatchUploadEnd {
        /// Field 11 for the end message (a fresh trace).
        trace: TraceNumber,
        /// The batch being settled.
        batch: BatchNumber,
        /// How many records the upload sent.
        count: u32,
        /// Who sends it.
        identity: TerminalIdentity,
    },
}

impl HostRequest {
    /// A short name for logs: `financial preauth 000012`, `reversal 000011`, …
    pub fn describe(&self) -> String {
        match self {
            HostRequest::SignOn { trace, .. } => format!("sign-on {trace}"),
            HostRequest::Financial(r) => format!("financial {} {}", r.kind, r.trace),
            HostRequest::Reversal(r) => {
                format!(
                    "reversal {} {} reason {}",
                    r.original_kind, r.original_trace, r.reason
                )
            }
            HostRequest::Advice(r) => format!("advice {}", r.trace),
            HostRequest::Settlement(r) => format!("settlement batch {}", r.batch),
            HostRequest::BatchUpload { batch, record, .. } => {
                format!(
                    "batch upload {} {} of batch {batch}",
                    record.kind, record.trace
                )
            }
            HostRequest::BatchUploadEnd { batch, count, .. } => {
                format!("batch upload end of batch {batch} ({count} records)")
            }
        }
    }
}

/// A two-character ISO 8583 response code (field 39). `00` approves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseCode(String);

impl ResponseCode {
    /// Approved.
    pub fn approved() -> ResponseCode {
        ResponseCode("00".into())
    }

    /// Wraps a code; `None` unless it is two letters or digits.
    pub fn new(code: &str) -> Option<ResponseCode> {
        (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| ResponseCode(code.to_ascii_uppercase()))
    }

    /// The code's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the code approves (`00`).
    pub fn is_approved(&self) -> bool {
        self.0 == "00"
    }

    /// Whether the code finishes a reversal: `00`, `12` (invalid transaction) or `25`
    /// (original not found): either way nothing is held any more.
    pub fn finishes_reversal(&self) -> bool {
        matches!(self.0.as_str(), "00" | "12" | "25")
    }
}

/// The host's answer to any request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostReply {
    /// Field 39.
    pub response_code: ResponseCode,
    /// Field 38, on approvals.
    pub auth_code: Option<String>,
    /// Field 37.
    pub rrn: Option<String>,
    /// Whether the answer's MAC (field 64) checked out. `false` makes the answer untrusted.
    pub mac_valid: bool,
    /// The header asked the terminal to sign on again (处理要求 = 3).
    pub sign_on_requested: bool,
    /// For a settlement: whether the host's totals matched (平) or not (不平).
    pub settlement_balanced: Option<bool>,
}

impl HostReply {
    /// An approval with a valid MAC.
    pub fn approved(auth_code: &str, rrn: &str) -> HostReply {
        HostReply {
            response_code: ResponseCode::approved(),
            auth_code: Some(auth_code.to_string()),
            rrn: Some(rrn.to_string()),
            mac_valid: true,
            sign_on_requested: false,
            settlement_balanced: None,
        }
    }

    /// An answer with the given response code, no auth code, valid MAC.
    pub fn with_code(code: &str) -> HostReply {
        HostReply {
            response_code: ResponseCode::new(code).unwrap_or_else(|| ResponseCode("96".into())),
            auth_code: None,
            rrn: None,
            mac_valid: true,
            sign_on_requested: false,
            settlement_balanced: None,
        }
    }
}
