//! Reading rows back into records. Free functions over a connection, so a write transaction
//! and a plain read share them.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::card::MaskedPan;
use crate::error::JournalError;
use crate::ids::{BatchNumber, RequestId, TraceNumber};
use crate::money::{Currency, Money};
use crate::record::{PrintJobRecord, ReversalRecord, TxnRecord};
use crate::time::Timestamp;
use crate::txn::{
    Delivery, PrintJobState, PrintKind, ReversalReason, ReversalState, SlipCopy, TxnKind, TxnState,
};

/// The columns [`txn_from_row`] reads, in order.
pub(crate) const TXN_COLUMNS: &str = "t.id, t.request_id, t.kind, t.state, t.trace, t.batch, t.amount_minor, t.currency, \
     t.masked_pan, t.auth_code, t.rrn, t.response_code, o.trace, t.settled, t.created_at, t.updated_at, \
     r.state, r.reason, r.attempts, r.last_response, t.original_id, t.training";

/// The FROM clause matching [`TXN_COLUMNS`].
pub(crate) const TXN_FROM: &str = "transactions t LEFT JOIN transactions o ON o.id = t.original_id LEFT JOIN reversals r ON r.txn_id = t.id";

fn corrupt(what: impl Into<String>) -> JournalError {
    JournalError::Corrupt { what: what.into() }
}

fn parse_text<T>(
    text: String,
    what: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, JournalError> {
    parse(&text).ok_or_else(|| corrupt(format!("{what} {text:?}")))
}

/// A transaction row without its print jobs, plus its original's row id.
pub(crate) struct TxnRow {
    pub record: TxnRecord,
    pub original_id: Option<i64>,
}

fn read_txn_row(row: &Row<'_>) -> rusqlite::Result<Result<TxnRow, JournalError>> {
    let id: i64 = row.get(0)?;
    let request_id: String = row.get(1)?;
    let kind: String = row.get(2)?;
    let state: String = row.get(3)?;
    let trace: u32 = row.get(4)?;
    let batch: u32 = row.get(5)?;
    let amount_minor: i64 = row.get(6)?;
    let currency: String = row.get(7)?;
    let masked_pan: String = row.get(8)?;
    let auth_code: Option<String> = row.get(9)?;
    let rrn: Option<String> = row.get(10)?;
    let response_code: Option<String> = row.get(11)?;
    let original_trace: Option<u32> = row.get(12)?;
    let settled: bool = row.get(13)?;
    let created_at: i64 = row.get(14)?;
    let updated_at: i64 = row.get(15)?;
    let reversal_state: Option<String> = row.get(16)?;
    let reversal_reason: Option<String> = row.get(17)?;
    let reversal_attempts: Option<u32> = row.get(18)?;
    let reversal_last: Option<String> = row.get(19)?;
    let original_id: Option<i64> = row.get(20)?;
    let training: bool = row.get(21)?;
    Ok((|| {
        let currency = Currency::from_code(&currency)
            .ok_or_else(|| corrupt(format!("currency {currency:?}")))?;
        let reversal = match (reversal_state, reversal_reason) {
            (Some(state), Some(reason)) => Some(ReversalRecord {
                state: parse_text(state, "reversal state", ReversalState::from_text)?,
                reason: parse_text(reason, "reversal reason", ReversalReason::from_text)?,
                attempts: reversal_attempts.unwrap_or(0),
                last_response: reversal_last,
            }),
            _ => None,
        };
        let record = TxnRecord {
            id,
            request_id: RequestId::parse(&request_id)
                .map_err(|_| corrupt(format!("request id {request_id:?}")))?,
            kind: parse_text(kind, "kind", TxnKind::from_text)?,
            state: parse_text(state, "state", TxnState::from_text)?,
            trace: TraceNumber::new(trace).ok_or_else(|| corrupt(format!("trace {trace}")))?,
            batch: BatchNumber::new(batch).ok_or_else(|| corrupt(format!("batch {batch}")))?,
            amount: u64::try_from(amount_minor)
                .ok()
                .and_then(|m| Money::from_minor(m, currency))
                .ok_or_else(|| corrupt(format!("amount {amount_minor}")))?,
            masked_pan: MaskedPan::from_stored(masked_pan),
            auth_code,
            rrn,
            response_code,
            original_trace: original_trace.and_then(TraceNumber::new),
            settled,
            created_at: Timestamp::from_millis(created_at),
            updated_at: Timestamp::from_millis(updated_at),
            reversal,
            print_jobs: Vec::new(),
            training,
        };
        Ok(TxnRow {
            record,
            original_id,
        })
    })())
}

fn read_print_job(row: &Row<'_>) -> rusqlite::Result<Result<PrintJobRecord, JournalError>> {
    let id: i64 = row.get(0)?;
    let copy: String = row.get(1)?;
    let kind: String = row.get(2)?;
    let state: String = row.get(3)?;
    let attempts: u32 = row.get(4)?;
    let last_error: Option<String> = row.get(5)?;
    let printed_at: Option<i64> = row.get(6)?;
    let held_reason: Option<String> = row.get(7)?;
    let delivered: Option<String> = row.get(8)?;
    Ok((|| {
        Ok(PrintJobRecord {
            id,
            copy: parse_text(copy, "slip copy", SlipCopy::from_text)?,
            kind: parse_text(kind, "print kind", PrintKind::from_text)?,
            state: parse_text(state, "print job state", PrintJobState::from_text)?,
            attempts,
            last_error,
            printed_at: printed_at.map(Timestamp::from_millis),
            held_reason,
            delivered: match delivered {
                Some(text) => Some(parse_text(text, "delivery", Delivery::from_text)?),
                None => None,
            },
        })
    })())
}

/// The print jobs of one transaction, oldest first.
pub(crate) fn print_jobs_of(
    conn: &Connection,
    txn_id: i64,
) -> Result<Vec<PrintJobRecord>, JournalError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, copy, kind, state, attempts, last_error, printed_at, held_reason, delivered FROM print_jobs WHERE txn_id = ?1 ORDER BY id",
        )
        .map_err(JournalError::sqlite("reading print jobs"))?;
    let rows = stmt
        .query_map(params![txn_id], read_print_job)
        .map_err(JournalError::sqlite("reading print jobs"))?;
    let mut jobs = Vec::new();
    for row in rows {
        jobs.push(row.map_err(JournalError::sqlite("reading print jobs"))??);
    }
    Ok(jobs)
}

/// One transaction row matching `where_clause` (which uses `?1`), with its print jobs.
pub(crate) fn txn_where(
    conn: &Connection,
    where_clause: &str,
    param: &dyn rusqlite::ToSql,
) -> Result<Option<TxnRow>, JournalError> {
    let sql = format!(
        "SELECT {TXN_COLUMNS} FROM {TXN_FROM} WHERE {where_clause} ORDER BY t.id DESC LIMIT 1"
    );
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(JournalError::sqlite("reading a transaction"))?;
    let found = stmt
        .query_row([param], read_txn_row)
        .optional()
        .map_err(JournalError::sqlite("reading a transaction"))?;
    match found {
        None => Ok(None),
        Some(row) => {
            let mut row = row?;
            row.record.print_jobs = print_jobs_of(conn, row.record.id)?;
            Ok(Some(row))
        }
    }
}

/// The transaction with this row id, which must exist.
pub(crate) fn txn_by_id(conn: &Connection, id: i64) -> Result<TxnRow, JournalError> {
    txn_where(conn, "t.id = ?1", &id)?
        .ok_or_else(|| corrupt(format!("missing transaction row {id}")))
}

/// Every transaction matching `where_clause` (no parameters), oldest first, each handed to
/// `visit` with its print jobs. Streams, so a million rows do not sit in memory.
pub(crate) fn for_each_txn(
    conn: &Connection,
    where_clause: &str,
    mut visit: impl FnMut(TxnRecord) -> Result<(), JournalError>,
) -> Result<(), JournalError> {
    let sql = format!("SELECT {TXN_COLUMNS} FROM {TXN_FROM} WHERE {where_clause} ORDER BY t.id");
    let mut stmt = conn
        .prepare(&sql)
        .map_err(JournalError::sqlite("listing transactions"))?;
    let mut rows = stmt
        .query([])
        .map_err(JournalError::sqlite("listing transactions"))?;
    while let Some(row) = rows
        .next()
        .map_err(JournalError::sqlite("listing transactions"))?
    {
        let mut record = read_txn_row(row)
            .map_err(JournalError::sqlite("listing transactions"))??
            .record;
        record.print_jobs = print_jobs_of(conn, record.id)?;
        visit(record)?;
    }
    Ok(())
}

/// The current batch number.
pub(crate) fn current_batch(conn: &Connection) -> Result<BatchNumber, JournalError> {
    super::read_batch(conn)
}

/// The transactions that name `original_id` as their original, oldest first.
pub(crate) fn children_of(
    conn: &Connection,
    original_id: i64,
) -> Result<Vec<TxnRecord>, JournalError> {
    let mut out = Vec::new();
    for_each_txn(conn, &format!("t.original_id = {original_id}"), |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}
