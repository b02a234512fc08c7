//! Read models of the journal: a transaction with its reversal and print jobs, as the UI,
//! the slips and the exports see it. [`TxnRecord::to_export_json`] is the stable JSON
//! export contract documented in the README.

use serde::Serialize;
use serde_json::{Value, json};

use crate::card::MaskedPan;
use crate::ids::{BatchNumber, RequestId, TraceNumber};
use crate::money::Money;
use crate::time::Timestamp;
use crate::txn::{
    Delivery, PrintJobState, PrintKind, ReversalReason, ReversalState, SlipCopy, TxnKind, TxnState,
};

/// A journaled transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnRecord {
    /// The journal's row id.
    pub id: i64,
    /// The caller's request id.
    pub request_id: RequestId,
    /// The kind.
    pub kind: TxnKind,
    /// The state.
    pub state: TxnState,
    /// The trace (voucher) number.
    pub trace: TraceNumber,
    /// The batch it belongs to.
    pub batch: BatchNumber,
    /// The amount.
    pub amount: Money,
    /// The masked card number.
    pub masked_pan: MaskedPan,
    /// The authorization code, once approved.
    pub auth_code: Option<String>,
    /// The retrieval reference number, once answered.
    pub rrn: Option<String>,
    /// The host's response code, once answered.
    pub response_code: Option<String>,
    /// The original's trace, for voids and completions.
    pub original_trace: Option<TraceNumber>,
    /// Whether its batch was settled.
    pub settled: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its reversal, if one was ever needed or armed.
    pub reversal: Option<ReversalRecord>,
    /// Its print jobs, oldest first.
    pub print_jobs: Vec<PrintJobRecord>,
    /// A training transaction (培训): kept apart from real ones and out of the totals.
    pub training: bool,
}

/// A transaction's reversal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReversalRecord {
    /// Its state.
    pub state: ReversalState,
    /// Its field-39 reason.
    pub reason: ReversalReason,
    /// Sends counted against the limit (link failures do not count).
    pub attempts: u32,
    /// The host's last answer to it, if any.
    pub last_response: Option<String>,
}

/// A slip print job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintJobRecord {
    /// The journal's row id.
    pub id: i64,
    /// Which copy.
    pub copy: SlipCopy,
    /// Original or reprint.
    pub kind: PrintKind,
    /// Its state.
    pub state: PrintJobState,
    /// How many times it was handed to the printer.
    pub attempts: u32,
    /// The printer's last complaint, if any.
    pub last_error: Option<String>,
    /// When the printer confirmed it.
    #[serde(skip)]
    pub printed_at: Option<Timestamp>,
    /// Why it waits for the operator, while held (a printer condition code or `tear_off`).
    pub held_reason: Option<String>,
    /// How it reached the customer, once done: on paper or electronically.
    pub delivered: Option<Delivery>,
}

impl TxnRecord {
    /// The reversal as exported: `null` when none was ever needed (disarmed or cancelled).
    fn export_reversal(&self) -> Value {
        match &self.reversal {
            Some(r) if !matches!(r.state, ReversalState::Disarmed | ReversalState::Cancelled) => {
                json!({
                    "state": r.state.as_str(),
                    "reason": r.reason.as_str(),
                    "attempts": r.attempts,
                    "last_response": r.last_response,
                })
            }
            _ => Value::Null,
        }
    }

    /// The transaction as one object of the JSON export (the stable contract).
    pub fn to_export_json(&self) -> Value {
        json!({
            "trace": self.trace.to_string(),
            "batch": self.batch.to_string(),
            "kind": self.kind.as_str(),
            "state": self.state.as_str(),
            "amount_minor": self.amount.minor_units(),
            "currency": self.amount.currency().code(),
            "masked_pan": self.masked_pan.as_str(),
            "auth_code": self.auth_code,
            "rrn": self.rrn,
            "response_code": self.response_code,
            "request_id": self.request_id.as_str(),
            "original_trace": self.original_trace.map(|t| t.to_string()),
            "settled": self.settled,
            "created_at": self.created_at.to_rfc3339(),
            "updated_at": self.updated_at.to_rfc3339(),
            "reversal": self.export_reversal(),
            "training": self.training,
            "print_jobs": self.print_jobs.iter().map(|p| json!({
                "copy": p.copy.as_str(),
                "kind": p.kind.as_str(),
                "state": p.state.as_str(),
                "attempts": p.attempts,
                "last_error": p.last_error,
                "printed_at": p.printed_at.map(|t| t.to_rfc3339()),
                "held_reason": p.held_reason,
                "delivered": p.delivered.map(|d| d.as_str()),
            })).collect::<Vec<_>>(),
        })
    }

    /// The CSV header matching [`TxnRecord::to_csv_row`].
    pub const CSV_HEADER: &'static str = "trace,batch,kind,state,amount_minor,currency,masked_pan,auth_code,rrn,response_code,request_id,original_trace,settled,created_at,updated_at,reversal_state,reversal_reason,reversal_attempts,print_jobs_printed,print_jobs_total";

    /// The transaction as one CSV row (reconciliation export).
    pub fn to_csv_row(&self) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let reversal = self.export_reversal();
        let field = |v: &Value, k: &str| match v.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let printed = self
            .print_jobs
            .iter()
            .filter(|p| p.state == PrintJobState::Printed)
            .count();
        [
            self.trace.to_string(),
            self.batch.to_string(),
            self.kind.as_str().to_string(),
            self.state.as_str().to_string(),
            self.amount.minor_units().to_string(),
            self.amount.currency().code().to_string(),
            self.masked_pan.as_str().to_string(),
            opt(&self.auth_code),
            opt(&self.rrn),
            opt(&self.response_code),
            self.request_id.as_str().to_string(),
            self.original_trace
                .map(|t| t.to_string())
                .unwrap_or_default(),
            self.settled.to_string(),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            field(&reversal, "state"),
            field(&reversal, "reason"),
            field(&reversal, "attempts"),
            printed.to_string(),
            self.print_jobs.len().to_string(),
        ]
        .iter()
        .map(|f| csv_escape(f))
        .collect::<Vec<_>>()
        .join(",")
    }
}

fn csv_escape(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
