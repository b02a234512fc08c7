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
//!
//! ## Checks before recovery
//! Before recovery touches anything, the file found at the journal's path is checked, and a
//! damaged one is refused with [`JournalError::Corrupt`] naming the file (never replaced):
//! - [`check_file`], before SQLite opens it (a few bytes read): it starts with SQLite's
//!   header, and — when no WAL is waiting to be replayed — its length is a whole number of
//!   pages and at least what the header counts (a cut-short copy is caught here);
//! - [`check_contents`], once open: it holds a journal (an existing file with no tables is
//!   a truncated one: new journals are created complete, see `Journal::open`), and
//!   `PRAGMA quick_check` passes when the journal is at most [`QUICK_CHECK_MAX_BYTES`].
//!   `quick_check` reads every page, so it takes time in proportion to the journal's size
//!   (see the crate's storage-fault tests for the measured cost); above the limit it is
//!   skipped at open and damage is reported by the first query that meets it.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

use rusqlite::{Connection, ErrorCode, params};

use super::{Tx, queries};
use crate::error::JournalError;
use crate::txn::{AdviceState, ReversalReason, ReversalState, TxnState};

/// Journals up to this size (file and WAL together) get `PRAGMA quick_check` at open.
pub const QUICK_CHECK_MAX_BYTES: u64 = 64 * 1024 * 1024;

fn damaged(path: &Path, why: impl fmt::Display) -> JournalError {
    JournalError::Corrupt {
        what: format!("{}: {why}", path.display()),
    }
}

fn wal_of(path: &Path) -> std::path::PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// Whether a file exists at `path` (an error other than "not found" is reported).
pub(super) fn file_exists(path: &Path) -> Result<bool, JournalError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(JournalError::Io {
            action: "looking for the journal file",
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Checks the file at `path` before SQLite opens it: SQLite's header, and a length that is
/// a whole number of pages and not shorter than the header says. Skipped in part while a
/// WAL is waiting to be replayed (a checkpoint cut off by a crash may leave the file short;
/// replaying the WAL completes it).
pub(super) fn check_file(path: &Path) -> Result<(), JournalError> {
    let io = |source| JournalError::Io {
        action: "checking the journal file",
        path: path.display().to_string(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    let wal_len = std::fs::metadata(wal_of(path))
        .map(|m| m.len())
        .unwrap_or(0);
    if len == 0 {
        if wal_len > 0 {
            return Ok(()); // a journal whose first commits are all still in the WAL
        }
        return Err(damaged(
            path,
            "the file is empty (0 bytes); a journal is never empty once created, so it was cut short",
        ));
    }
    let mut header = [0u8; 100];
    let read = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut header))
        .map_err(io)?;
    if !header.starts_with(b"SQLite format 3\0") {
        return Err(damaged(
            path,
            "the file is not a SQLite database (it does not start with SQLite's header)",
        ));
    }
    if read < header.len() {
        return Err(damaged(
            path,
            format!("the file is cut short: only {len} bytes"),
        ));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(damaged(
            path,
            format!("its header names a page size of {page_size} bytes"),
        ));
    }
    if wal_len > 0 {
        return Ok(());
    }
    if len % page_size != 0 {
        return Err(damaged(
            path,
            format!(
                "the file is cut short: {len} bytes is not a whole number of {page_size}-byte pages"
            ),
        ));
    }
    let word = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let (pages, counter, valid_for) = (u64::from(word(28)), word(24), word(92));
    if pages > 0 && counter == valid_for && pages * page_size > len {
        return Err(damaged(
            path,
            format!(
                "the file is cut short: its header counts {pages} pages ({} bytes), the file holds {len} bytes",
                pages * page_size
            ),
        ));
    }
    Ok(())
}

/// Checks the open journal before migration and recovery: it holds a journal, and (when it
/// is at most [`QUICK_CHECK_MAX_BYTES`]) `PRAGMA quick_check` finds nothing wrong.
pub(super) fn check_contents(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(JournalError::sqlite("reading the journal's schema"))?;
    if tables == 0 {
        return Err(damaged(
            path,
            "the file holds no journal (no tables); it was cut short or overwritten",
        ));
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(wal_of(path))
            .map(|m| m.len())
            .unwrap_or(0);
    if size > QUICK_CHECK_MAX_BYTES {
        log::info!("journal is {size} bytes: quick_check skipped at open");
        return Ok(());
    }
    let mut stmt = conn
        .prepare("PRAGMA quick_check(5)")
        .map_err(JournalError::sqlite("checking the journal (quick_check)"))?;
    let findings = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(JournalError::sqlite("checking the journal (quick_check)"))?;
    if findings.len() == 1 && findings[0] == "ok" {
        return Ok(());
    }
    Err(damaged(
        path,
        format!("SQLite's quick_check found: {}", findings.join("; ")),
    ))
}

/// Names the journal file in an error from opening it: write-protection becomes
/// [`JournalError::ReadOnly`], damage [`JournalError::Corrupt`] (see `JournalError::at`).
pub(super) fn name_the_file(error: JournalError, path: &Path) -> JournalError {
    if let JournalError::Sqlite { source, .. } = &error {
        let folder = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let folder_protected = std::fs::metadata(folder)
            .map(|m| m.permissions().readonly())
            .unwrap_or(false);
        if source.sqlite_error_code() == Some(ErrorCode::CannotOpen) && folder_protected {
            return JournalError::ReadOnly {
                path: path.display().to_string(),
                why: format!(
                    "its folder {} is write-protected, so SQLite cannot create its WAL file: {source}",
                    folder.display()
                ),
            };
        }
    }
    error.at(path)
}

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
