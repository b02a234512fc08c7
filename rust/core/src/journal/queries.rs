//! The queries that find unfinished work: recovery's and the engine's work queue.
//!
//! Each repeats the condition of its partial index (see `schema.rs`) word for word, which is
//! what lets SQLite use the index: they cost the same on a journal of ten rows and of ten
//! million. A test below checks every one against `EXPLAIN QUERY PLAN`.

/// Transactions journaled but never handed to the link.
pub(crate) const QUEUED_TRANSACTIONS: &str = "SELECT id FROM transactions WHERE state = 'queued'";
/// Transactions handed to the link whose answer was not seen.
pub(crate) const SENDING_TRANSACTIONS: &str = "SELECT id FROM transactions WHERE state = 'sending'";
/// Advices handed to the link whose answer was not seen.
pub(crate) const SENDING_ADVICES: &str = "SELECT txn_id FROM advices WHERE state = 'sending'";
/// Slips handed to the printer and not confirmed.
pub(crate) const SENDING_JOBS: &str = "SELECT id, txn_id FROM print_jobs WHERE state = 'sending'";
/// Slips waiting for the operator, with why.
pub(crate) const HELD_JOBS: &str =
    "SELECT id, txn_id, held_reason FROM print_jobs WHERE state = 'held' ORDER BY id";
/// Whether printing is paused for a printer fault (a slip held for anything but tear-off).
pub(crate) const HELD_FOR_FAULT: &str = "SELECT held_reason FROM print_jobs WHERE state = 'held' AND held_reason != 'tear_off' ORDER BY id LIMIT 1";
/// Queued slips failing since before `?1` (the electronic receipt fallback).
pub(crate) const QUEUED_FAILING: &str =
    "SELECT id, txn_id FROM print_jobs WHERE state = 'queued' AND failing_since <= ?1";
/// Held slips failing since before `?1` (the electronic receipt fallback).
pub(crate) const HELD_FAILING: &str =
    "SELECT id, txn_id FROM print_jobs WHERE state = 'held' AND failing_since <= ?1";
/// Batches whose settlement was cut off.
pub(crate) const SETTLING_BATCHES: &str = "SELECT batch FROM batches WHERE state = 'settling'";
/// The pending reversal due first (`?1` = due by this time).
pub(crate) const NEXT_REVERSAL: &str = "SELECT txn_id FROM reversals WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, txn_id LIMIT 1";
/// The queued advice due first (`?1` = due by this time).
pub(crate) const NEXT_ADVICE: &str = "SELECT txn_id FROM advices WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, txn_id LIMIT 1";
/// The queued slip due first (`?1` = due by this time) whose transaction has no earlier slip
/// still waiting: the cardholder copy goes only after the merchant copy is done.
pub(crate) const NEXT_PRINT_JOB: &str = "SELECT p.id, p.txn_id FROM print_jobs p WHERE p.state = 'queued' AND p.next_attempt_at <= ?1 \
     AND NOT EXISTS (SELECT 1 FROM print_jobs e WHERE e.txn_id = p.txn_id AND e.id < p.id AND e.state IN ('queued', 'sending', 'held')) \
     ORDER BY p.next_attempt_at, p.id LIMIT 1";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every work query reads through an index, never a scan of the whole table.
    #[test]
    fn every_work_query_uses_its_partial_index() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = crate::journal::Journal::open(
            &dir.path().join("j.db"),
            crate::Timestamp::from_millis(0),
        )
        .unwrap();
        let queries = [
            (QUEUED_TRANSACTIONS, "transactions_queued"),
            (SENDING_TRANSACTIONS, "transactions_sending"),
            (SENDING_ADVICES, "advices_sending"),
            (SENDING_JOBS, "print_jobs_sending"),
            (HELD_JOBS, "print_jobs_held"),
            (HELD_FOR_FAULT, "print_jobs_held"),
            (QUEUED_FAILING, "print_jobs_queued"),
            (HELD_FAILING, "print_jobs_held"),
            (SETTLING_BATCHES, "batches_settling"),
            (NEXT_REVERSAL, "reversals_pending"),
            (NEXT_ADVICE, "advices_queued"),
            (NEXT_PRINT_JOB, "print_jobs_queued"),
        ];
        for (sql, index) in queries {
            let explain = format!("EXPLAIN QUERY PLAN {}", sql.replace("?1", "0"));
            let mut stmt = journal.conn().prepare(&explain).unwrap();
            let plan: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let plan = plan.join("; ");
            assert!(
                plan.contains(index),
                "{sql}\n  does not use {index}: {plan}"
            );
            assert!(
                !plan.contains("TEMP B-TREE"),
                "{sql}\n  sorts instead of reading in index order: {plan}"
            );
        }
    }
}
