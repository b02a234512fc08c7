//! Recovery, run every time the journal opens.
//!
//! After a crash, power loss or the OS killing the app, the journal is the whole truth.
//! Recovery settles every row that was mid-way:
//!
//! | found | becomes | why |
//! |---|---|---|
//! | transaction `queued` | `not_sent` | it never left; the card data (memory only) is gone |
//! | transaction `sending` | `unknown`, reversal `pending` (98) | it may have reached the host |
//! | advice `sending` | `queued`, the cut-off send counted | store-and-forward sends it again, flagged as a retransmission |
//! | print job `sending` | `queued`, marked REPRINT | the printer never confirmed it; it may have printed |
//! | batch `settling` | `open` | settlement is asked again by the operator |
//!
//! Each query goes through a partial index of unfinished rows, so recovery takes time in
//! proportion to the unfinished work, not to the journal's size.

use std::fmt;

use rusqlite::params;

use super::{Tx, queries};
use crate::error::JournalError;
use crate::txn::{AdviceState, ReversalReason, ReversalState, TxnState};

/// What recovery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Transactions that may have been sent, now `unknown` with a pending reversal.
    pub made_unknown: u32,
    /// Transactions that never left, now `not_sent`.
    pub made_not_sent: u32,
    /// Advices put back in the queue.
    pub advices_requeued: u32,
    /// Print jobs put back in the queue.
    pub print_jobs_requeued: u32,
    /// Settlements that were cut off (the batch is open again).
    pub settlements_reopened: u32,
}

impl RecoveryReport {
    /// Whether recovery changed anything.
    pub fn anything_done(&self) -> bool {
        *self != RecoveryReport::default()
    }
}

impl fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} unknown (reversal pending), {} not sent, {} advices and {} print jobs requeued, {} settlements reopened",
            self.made_unknown,
            self.made_not_sent,
            self.advices_requeued,
            self.print_jobs_requeued,
            self.settlements_reopened
        )
    }
}

fn ids(tx: &Tx<'_>, sql: &str) -> Result<Vec<i64>, JournalError> {
    let mut stmt = tx
        .conn()
        .prepare(sql)
        .map_err(JournalError::sqlite("recovering"))?;
    let rows = stmt
        .query_map([], |r| r.get(0))
        .map_err(JournalError::sqlite("recovering"))?;
    rows.collect::<Result<Vec<i64>, _>>()
        .map_err(JournalError::sqlite("recovering"))
}

/// Settles every unfinished row, inside the caller's transaction.
pub(super) fn recover(tx: &Tx<'_>) -> Result<RecoveryReport, JournalError> {
    let mut report = RecoveryReport::default();
    const CAUSE: &str = "recovery after restart";

    for id in ids(tx, queries::QUEUED_TRANSACTIONS)? {
        tx.set_txn_state(
            id,
            TxnState::Queued,
            TxnState::NotSent,
            "recovery: never sent before the restart",
        )?;
        report.made_not_sent += 1;
    }
    for id in ids(tx, queries::SENDING_TRANSACTIONS)? {
        tx.set_txn_state(
            id,
            TxnState::Sending,
            TxnState::Unknown,
            "recovery: may have been sent, answer not seen",
        )?;
        let mut change = super::ReversalChange::to(ReversalState::Pending);
        change.reason = Some(ReversalReason::NoAnswer);
        change.next_attempt_at = Some(tx.at());
        let from = match tx.reversal_state(id)? {
            Some(state) => state,
            None => {
                tx.arm_reversal(id)?;
                ReversalState::Armed
            }
        };
        tx.set_reversal(id, from, &change, CAUSE)?;
        report.made_unknown += 1;
    }
    for id in ids(tx, queries::SENDING_ADVICES)? {
        // The cut-off send may have reached the host: count it, so the next send is flagged
        // as a retransmission and the host does not take it for a second completion.
        let attempts: u32 = tx
            .conn()
            .query_row(
                "SELECT attempts FROM advices WHERE txn_id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(JournalError::sqlite("recovering"))?;
        let change = super::RetryChange {
            attempts: Some(attempts + 1),
            ..Default::default()
        };
        tx.set_advice(
            id,
            AdviceState::Sending,
            AdviceState::Queued,
            &change,
            "recovery after restart: may have been sent, goes again as a retransmission",
        )?;
        report.advices_requeued += 1;
    }
    let jobs = {
        let mut stmt = tx
            .conn()
            .prepare(queries::SENDING_JOBS)
            .map_err(JournalError::sqlite("recovering"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(JournalError::sqlite("recovering"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(JournalError::sqlite("recovering"))?
    };
    for (job, txn) in jobs {
        // The slip may have come out before the restart: it prints again marked REPRINT,
        // so an original is never printed twice unmarked (promise 5).
        let failure = super::PrintFailure {
            attempts: tx
                .conn()
                .query_row(
                    "SELECT attempts + 1 FROM print_jobs WHERE id = ?1",
                    params![job],
                    |r| r.get(0),
                )
                .map_err(JournalError::sqlite("recovering"))?,
            condition: "restart",
            detail: "printing was cut off by a restart; it may have printed",
            hold: false,
            uncertain: true,
            retry_at: tx.at(),
        };
        tx.mark_print_failed(job, txn, &failure)?;
        report.print_jobs_requeued += 1;
    }
    let settling: Vec<i64> = ids(tx, queries::SETTLING_BATCHES)?;
    for batch in settling {
        tx.conn()
            .execute(
                "UPDATE batches SET state = 'open' WHERE batch = ?1",
                params![batch],
            )
            .map_err(JournalError::sqlite("recovering"))?;
        tx.log(
            None,
            "batch",
            Some("settling"),
            "open",
            "recovery: settlement cut off by a restart",
        )?;
        report.settlements_reopened += 1;
    }
    Ok(report)
}
