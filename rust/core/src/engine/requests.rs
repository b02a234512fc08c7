//! Choosing the next piece of background work and building its host request from the
//! journal. Reads only.

use rusqlite::{Connection, OptionalExtension, params};

use crate::config::Config;
use crate::error::JournalError;
use crate::host::{
    AdviceRequest, BatchTotals, BatchUploadRecord, OriginalRef, ReversalRequest, SettlementRequest,
};
use crate::journal::queries;
use crate::journal::rows::{self, TxnRow};
use crate::record::TxnRecord;
use crate::time::Timestamp;
use crate::txn::ReversalReason;

fn first_id(conn: &Connection, sql: &str, now: Timestamp) -> Result<Option<i64>, JournalError> {
    conn.prepare_cached(sql)
        .and_then(|mut s| {
            s.query_row(params![now.as_millis()], |r| r.get(0))
                .optional()
        })
        .map_err(JournalError::sqlite("reading the work queue"))
}

/// The transaction whose pending reversal goes next: the oldest due one, or, when a cashier
/// is waiting (`ignore_schedule`), the oldest pending one whatever its schedule.
pub(super) fn next_reversal(
    conn: &Connection,
    now: Timestamp,
    ignore_schedule: bool,
) -> Result<Option<i64>, JournalError> {
    let until = if ignore_schedule {
        Timestamp::from_millis(i64::MAX)
    } else {
        now
    };
    first_id(conn, queries::NEXT_REVERSAL, until)
}

/// Whether any reversal is pending, due or not.
pub(super) fn any_pending_reversal(conn: &Connection) -> Result<bool, JournalError> {
    Ok(next_reversal(conn, Timestamp::from_millis(i64::MAX), true)?.is_some())
}

/// The advice that goes next: the oldest due one, or any when settlement waits.
pub(super) fn next_advice(
    conn: &Connection,
    now: Timestamp,
    ignore_schedule: bool,
) -> Result<Option<i64>, JournalError> {
    let until = if ignore_schedule {
        Timestamp::from_millis(i64::MAX)
    } else {
        now
    };
    first_id(conn, queries::NEXT_ADVICE, until)
}

/// Whether the transaction has an advice still waiting to be sent.
pub(super) fn advice_undelivered(conn: &Connection, txn_id: i64) -> Result<bool, JournalError> {
    conn.prepare_cached("SELECT 1 FROM advices WHERE txn_id = ?1 AND state = 'queued'")
        .and_then(|mut s| s.query_row(params![txn_id], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .map_err(JournalError::sqlite("reading an advice"))
}

/// The oldest due queued slip: (job id, transaction id).
pub(super) fn next_print_job(
    conn: &Connection,
    now: Timestamp,
) -> Result<Option<(i64, i64)>, JournalError> {
    conn.prepare_cached(queries::NEXT_PRINT_JOB)
        .and_then(|mut s| {
            s.query_row(params![now.as_millis()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(JournalError::sqlite("reading the print queue"))
}

/// The reference a void, completion or reversal carries to its original.
pub(crate) fn original_ref(original: &TxnRecord) -> OriginalRef {
    OriginalRef {
        kind: original.kind,
        trace: original.trace,
        batch: original.batch,
        auth_code: original.auth_code.clone(),
        rrn: original.rrn.clone(),
        at: original.created_at,
        amount: original.amount,
    }
}

fn original_of(conn: &Connection, row: &TxnRow) -> Result<Option<OriginalRef>, JournalError> {
    row.original_id
        .map(|id| rows::txn_by_id(conn, id).map(|o| original_ref(&o.record)))
        .transpose()
}

/// The reversal of a transaction, as it goes on the wire (no card data).
pub(super) fn reversal_request(
    conn: &Connection,
    txn_id: i64,
    config: &Config,
) -> Result<ReversalRequest, JournalError> {
    let row = rows::txn_by_id(conn, txn_id)?;
    let reason = row
        .record
        .reversal
        .as_ref()
        .map(|r| r.reason)
        .unwrap_or(ReversalReason::NoAnswer);
    Ok(ReversalRequest {
        original_kind: row.record.kind,
        original_trace: row.record.trace,
        batch: row.record.batch,
        amount: row.record.amount,
        reason,
        original: original_of(conn, &row)?,
        identity: config.identity.clone(),
    })
}

/// A queued completion advice, as it goes on the wire.
pub(super) fn advice_request(
    conn: &Connection,
    txn_id: i64,
    config: &Config,
) -> Result<AdviceRequest, JournalError> {
    let row = rows::txn_by_id(conn, txn_id)?;
    let original = original_of(conn, &row)?.ok_or_else(|| JournalError::Corrupt {
        what: format!("advice {} without its pre-auth", row.record.trace),
    })?;
    let attempts: u32 = conn
        .prepare_cached("SELECT attempts FROM advices WHERE txn_id = ?1")
        .and_then(|mut s| s.query_row(params![txn_id], |r| r.get(0)))
        .map_err(JournalError::sqlite("reading an advice"))?;
    Ok(AdviceRequest {
        trace: row.record.trace,
        batch: row.record.batch,
        amount: row.record.amount,
        original,
        retransmission: attempts > 0,
        identity: config.identity.clone(),
    })
}

/// The totals of the current batch: approved completions (online and offline), training
/// transactions left out.
pub(super) fn batch_totals(conn: &Connection, batch: u32) -> Result<BatchTotals, JournalError> {
    conn.prepare_cached(
        "SELECT COUNT(*), COALESCE(SUM(amount_minor), 0) FROM transactions \
         WHERE batch = ?1 AND settled = 0 AND state = 'approved' AND kind IN ('completion', 'completion_advice') AND training = 0",
    )
    .and_then(|mut s| s.query_row(params![batch], |r| Ok(BatchTotals { count: r.get::<_, u32>(0)?, amount_minor: r.get::<_, i64>(1)? as u64 })))
    .map_err(JournalError::sqlite("adding up the batch"))
}

/// The batch upload's records: the batch's approved completions (online and offline, not
/// training), oldest first — the transactions [`batch_totals`] adds up.
pub(super) fn batch_upload_records(
    conn: &Connection,
    batch: u32,
) -> Result<Vec<BatchUploadRecord>, JournalError> {
    conn.prepare_cached(
        "SELECT id FROM transactions \
         WHERE batch = ?1 AND settled = 0 AND state = 'approved' AND kind IN ('completion', 'completion_advice') AND training = 0 \
         ORDER BY id",
    )
    .and_then(|mut s| s.query_map(params![batch], |r| r.get::<_, i64>(0))?.collect::<Result<Vec<_>, _>>())
    .map_err(JournalError::sqlite("listing the batch upload"))?
    .into_iter()
    .map(|id| {
        let record = rows::txn_by_id(conn, id)?.record;
        Ok(BatchUploadRecord { kind: record.kind, trace: record.trace, amount: record.amount, auth_code: record.auth_code, rrn: record.rrn })
    })
    .collect()
}

/// The settlement of the current batch.
pub(super) fn settlement_request(
    conn: &Connection,
    config: &Config,
    trace: crate::ids::TraceNumber,
) -> Result<SettlementRequest, JournalError> {
    let batch = crate::journal::rows::current_batch(conn)?;
    Ok(SettlementRequest {
        trace,
        batch,
        totals: batch_totals(conn, batch.value())?,
        identity: config.identity.clone(),
    })
}
