//! The write-ahead journal: one SQLite file that is the terminal's whole state.
//!
//! - WAL mode with `synchronous=FULL`: a commit is on flash before the call returns.
//! - `locking_mode=EXCLUSIVE`: one process owns the journal; a second one is refused.
//! - Every state change is one SQL transaction ([`Journal::write`]) and leaves a row in the
//!   append-only `events` table (triggers refuse UPDATE and DELETE there, and DELETE of
//!   transactions and reversals).
//! - The schema is versioned with `PRAGMA user_version` and migrated on open.
//! - Opening runs recovery ([`recovery`]), which touches only unfinished rows through partial
//!   indexes, so it takes time in proportion to unfinished work, not to the journal's size.

pub mod backup;
mod diagnose;
pub(crate) mod queries;
mod recovery;
pub mod retention;
pub(crate) mod rows;
mod schema;

use std::path::{Path, PathBuf};

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

pub use diagnose::{Diagnosis, Finding, PrinterHealth, SlipDiagnosis, findings};
pub use recovery::RecoveryReport;
pub use schema::CURRENT_VERSION as SCHEMA_VERSION;

use crate::error::JournalError;
use crate::host::BatchTotals;
use crate::ids::{BatchNumber, RequestId, TraceNumber};
use crate::record::TxnRecord;
use crate::time::Timestamp;
use crate::txn::{
    AdviceState, PrintJobState, PrintKind, ReversalReason, ReversalState, SlipCopy, TxnKind,
    TxnState,
};

/// The open journal. Owned by one [`crate::Engine`]; read-only tools may borrow it.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    /// Commits since the WAL was last copied back into the database file.
    writes_since_checkpoint: u32,
}

/// After this many commits the WAL is checkpointed even if the terminal is never idle.
const CHECKPOINT_EVERY_WRITES: u32 = 1_000;

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

/// One row of the append-only event log: a state change and its cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// When it happened.
    pub at: Timestamp,
    /// What changed: `transaction`, `reversal`, `advice`, `print_job`, `batch`, `sign_on`.
    pub entity: String,
    /// The state before, if there was one.
    pub from: Option<String>,
    /// The state after.
    pub to: String,
    /// Why, in words.
    pub cause: String,
}

/// A new transaction row.
pub(crate) struct NewTxn<'a> {
    pub request_id: &'a RequestId,
    pub fingerprint: &'a str,
    pub kind: TxnKind,
    pub state: TxnState,
    pub amount_minor: u64,
    pub currency: &'a str,
    pub masked_pan: &'a str,
    pub pan_hash: &'a str,
    pub original_id: Option<i64>,
    pub auth_code: Option<&'a str>,
    pub training: bool,
}

/// The counters row names.
const NEXT_TRACE: &str = "next_trace";
const BATCH: &str = "batch";
const SIGN_ON_REQUIRED: &str = "sign_on_required";

impl Journal {
    /// Opens (or creates) the journal at `path`, migrates it, takes the exclusive lock and
    /// runs recovery at time `now`.
    ///
    /// A journal the terminal cannot safely write to is refused, and the file is left as it
    /// is (see [`recovery`]'s checks before recovery):
    /// - not a SQLite database, cut short, holding no journal, or failing SQLite's
    ///   `quick_check`: [`JournalError::Corrupt`], naming the file. A damaged journal is
    ///   never replaced by a new empty one: a new journal is created only where no file
    ///   exists, and atomically (built complete beside `path`, then linked into place), so a
    ///   file found at `path` is always a journal that was once whole.
    /// - write-protected (the file, its folder or the storage): [`JournalError::ReadOnly`];
    /// - written by a newer poscore: [`JournalError::SchemaTooNew`].
    ///
    /// A storage that fills up later fails the commit that needed the space with
    /// [`JournalError::DiskFull`]; that SQL transaction is rolled back whole.
    pub fn open(path: &Path, now: Timestamp) -> Result<(Journal, RecoveryReport), JournalError> {
        Journal::open_with(path, now, OpenFlags::SQLITE_OPEN_READ_WRITE)
    }

    /// Opens the journal as [`Journal::open`] does, with SQLite told the file is
    /// write-protected (`SQLITE_OPEN_READONLY`) — which is what SQLite does by itself when
    /// the file's permissions forbid writing. For tests that run as root, where `chmod 0444`
    /// protects nothing.
    #[doc(hidden)]
    pub fn open_write_protected_for_tests(
        path: &Path,
        now: Timestamp,
    ) -> Result<(Journal, RecoveryReport), JournalError> {
        Journal::open_with(path, now, OpenFlags::SQLITE_OPEN_READ_ONLY)
    }

    /// Caps the journal at its current size plus `extra_pages` pages (`PRAGMA
    /// max_page_count`), so that a commit needing more space gets a real `SQLITE_FULL`, as
    /// on a full storage. The cap lasts until the journal is closed. For tests; returns the
    /// cap in pages.
    #[doc(hidden)]
    pub fn cap_size_for_tests(&self, extra_pages: u32) -> Result<i64, JournalError> {
        let pages: i64 = self
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .map_err(JournalError::sqlite("reading the journal's size"))?;
        self.conn
            .query_row(
                &format!("PRAGMA max_page_count = {}", pages + i64::from(extra_pages)),
                [],
                |r| r.get(0),
            )
            .map_err(JournalError::sqlite("capping the journal's size"))
    }

    fn open_with(
        path: &Path,
        now: Timestamp,
        access: OpenFlags,
    ) -> Result<(Journal, RecoveryReport), JournalError> {
        let opened = (|| {
            if !recovery::file_exists(path)? {
                Journal::create(path)?;
            }
            recovery::check_file(path)?;
            let mut journal = Journal::connect(path, access)?;
            if journal
                .conn
                .is_readonly(rusqlite::MAIN_DB)
                .map_err(JournalError::sqlite("opening the journal file"))?
            {
                return Err(JournalError::ReadOnly {
                    path: path.display().to_string(),
                    why: "SQLite could open it for reading only: the file or its storage is write-protected".into(),
                });
            }
            journal.configure()?;
            recovery::check_contents(&journal.conn, path)?;
            journal.migrate()?;
            let report = journal.write(now, recovery::recover)?;
            Ok((journal, report))
        })();
        let (journal, report) = opened.map_err(|e| recovery::name_the_file(e, path))?;
        if report.anything_done() {
            log::warn!("journal recovery: {report}");
        }
        Ok((journal, report))
    }

    /// Opens a connection to `path` (no pragmas yet).
    fn connect(path: &Path, access: OpenFlags) -> Result<Journal, JournalError> {
        let conn = Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(JournalError::sqlite("opening the journal file"))?;
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
            writes_since_checkpoint: 0,
        })
    }

    /// Creates a new journal at `path`, which does not exist: builds it complete under a
    /// name of its own beside `path` (schema migrated, WAL copied back on close), then links
    /// it into place, which fails rather than replace a file that appeared meanwhile (then
    /// that one is used). A crash on the way leaves no file at `path`, never an empty one.
    fn create(path: &Path) -> Result<(), JournalError> {
        let io = |action: &'static str, at: &Path| {
            let at = at.display().to_string();
            move |source: std::io::Error| JournalError::Io {
                action,
                path: at,
                source,
            }
        };
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let building = path.with_file_name(format!("{name}.creating-{}", std::process::id()));
        for leftover in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{leftover}", building.display()));
        }
        {
            let mut journal = Journal::connect(
                &building,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            )?;
            journal.configure()?;
            journal.migrate()?;
            // Closing copies the WAL into the file (synced) and removes the WAL.
            journal
                .conn
                .close()
                .map_err(|(_, e)| JournalError::sqlite("creating the journal")(e))?;
        }
        let linked = match std::fs::hard_link(&building, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            // A file system without hard links: rename, if nothing appeared meanwhile.
            Err(_) if !recovery::file_exists(path)? => std::fs::rename(&building, path),
            Err(_) => Ok(()),
        };
        linked.map_err(io("creating the journal", path))?;
        let _ = std::fs::remove_file(&building);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
                log::warn!("could not sync the folder of the new journal: {e}");
            }
        }
        Ok(())
    }

    fn configure(&mut self) -> Result<(), JournalError> {
        let in_use = |e: rusqlite::Error, path: &Path| match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => JournalError::InUse {
                path: path.display().to_string(),
            },
            _ => JournalError::Sqlite {
                action: "configuring the journal",
                source: e,
            },
        };
        self.conn
            .busy_timeout(std::time::Duration::from_millis(500))
            .map_err(JournalError::sqlite("configuring the journal"))?;
        self.conn
            .execute_batch("PRAGMA locking_mode = EXCLUSIVE;")
            .map_err(|e| in_use(e, &self.path))?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| in_use(e, &self.path))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::Corrupt {
                what: format!("journal mode {mode}, WAL expected"),
            });
        }
        self.conn
            // Checkpoints are run by the engine when it is idle (see `checkpoint_if_dirty`),
            // not by SQLite in the middle of an approval's commit.
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -16384;")
            .map_err(JournalError::sqlite("configuring the journal"))?;
        // Take the exclusive lock now, so a second process is refused at open.
        self.conn
            .execute_batch("BEGIN EXCLUSIVE; COMMIT;")
            .map_err(|e| in_use(e, &self.path))?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), JournalError> {
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(JournalError::sqlite("reading the schema version"))?;
        if found > schema::CURRENT_VERSION {
            return Err(JournalError::SchemaTooNew {
                found,
                supported: schema::CURRENT_VERSION,
            });
        }
        for (index, sql) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = index as i64 + 1;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(JournalError::sqlite("migrating the schema"))?;
            tx.execute_batch(sql)
                .map_err(JournalError::sqlite("migrating the schema"))?;
            tx.pragma_update(None, "user_version", version)
                .map_err(JournalError::sqlite("migrating the schema"))?;
            tx.commit()
                .map_err(JournalError::sqlite("migrating the schema"))?;
            log::info!("journal schema migrated to version {version}");
        }
        Ok(())
    }

    /// The journal file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `change` in one SQL transaction at time `at`: all of it is durable, or none.
    pub(crate) fn write<T>(
        &mut self,
        at: Timestamp,
        change: impl FnOnce(&Tx<'_>) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let value = in_transaction(&mut self.conn, at, change)?;
        self.writes_since_checkpoint += 1;
        if self.writes_since_checkpoint >= CHECKPOINT_EVERY_WRITES {
            self.checkpoint_if_dirty();
        }
        Ok(value)
    }

    /// Copies committed pages from the WAL back into the database file, if any were written
    /// since the last time. The data is durable either way; this keeps the WAL short. A
    /// failure is only logged: nothing is lost, and the next call tries again.
    pub(crate) fn checkpoint_if_dirty(&mut self) {
        if self.writes_since_checkpoint == 0 {
            return;
        }
        match self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0))
        {
            Ok(0) => self.writes_since_checkpoint = 0,
            Ok(_) => log::warn!("journal checkpoint was blocked; it will be tried again"),
            Err(e) => log::warn!("journal checkpoint failed: {e}; it will be tried again"),
        }
    }

    /// The connection, for reads.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The transaction with this request id, if any.
    pub fn find_by_request_id(
        &self,
        request_id: &RequestId,
    ) -> Result<Option<TxnRecord>, JournalError> {
        Ok(
            rows::txn_where(&self.conn, "t.request_id = ?1", &request_id.as_str())?
                .map(|r| r.record),
        )
    }

    /// The newest transaction with this trace number, if any.
    pub fn find_by_trace(&self, trace: TraceNumber) -> Result<Option<TxnRecord>, JournalError> {
        Ok(rows::txn_where(&self.conn, "t.trace = ?1", &trace.value())?.map(|r| r.record))
    }

    /// Visits every transaction, oldest first (for exports; streams).
    pub fn for_each(
        &self,
        visit: impl FnMut(TxnRecord) -> Result<(), JournalError>,
    ) -> Result<(), JournalError> {
        rows::for_each_txn(&self.conn, "1", visit)
    }

    /// The newest `limit` transactions, newest first.
    pub fn recent(&self, limit: u32) -> Result<Vec<TxnRecord>, JournalError> {
        let min_id: i64 = self
            .conn
            .query_row("SELECT COALESCE(MIN(id), 0) FROM (SELECT id FROM transactions ORDER BY id DESC LIMIT ?1)", params![limit], |r| r.get(0))
            .map_err(JournalError::sqlite("listing transactions"))?;
        let mut out = Vec::new();
        rows::for_each_txn(&self.conn, &format!("t.id >= {min_id}"), |r| {
            out.push(r);
            Ok(())
        })?;
        out.reverse();
        Ok(out)
    }

    /// The current batch number.
    pub fn current_batch(&self) -> Result<BatchNumber, JournalError> {
        read_batch(&self.conn)
    }

    /// Whether a sign-on is required before the next financial message.
    pub fn sign_on_required(&self) -> Result<bool, JournalError> {
        Ok(read_counter(&self.conn, SIGN_ON_REQUIRED)? != 0)
    }

    /// The electronic signature stored for a transaction, if the cardholder signed.
    pub fn signature(
        &self,
        txn_id: i64,
    ) -> Result<Option<crate::signature::Signature>, JournalError> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT data FROM signatures WHERE txn_id = ?1",
                params![txn_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(JournalError::sqlite("reading a signature"))?;
        match bytes {
            None => Ok(None),
            Some(bytes) => crate::signature::Signature::from_bytes(&bytes)
                .map(Some)
                .map_err(|e| JournalError::Corrupt {
                    what: format!("the signature of transaction {txn_id}: {e}"),
                }),
        }
    }

    /// Every event of a transaction, oldest first.
    pub fn events_of(&self, txn_id: i64) -> Result<Vec<LogEntry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT at, entity, from_state, to_state, cause FROM events WHERE txn_id = ?1 ORDER BY id")
            .map_err(JournalError::sqlite("reading the event log"))?;
        let rows = stmt
            .query_map(params![txn_id], |r| {
                Ok(LogEntry {
                    at: Timestamp::from_millis(r.get(0)?),
                    entity: r.get(1)?,
                    from: r.get(2)?,
                    to: r.get(3)?,
                    cause: r.get(4)?,
                })
            })
            .map_err(JournalError::sqlite("reading the event log"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(JournalError::sqlite("reading the event log"))
    }
}

/// Runs `change` in one immediate SQL transaction and commits it.
fn in_transaction<T>(
    conn: &mut Connection,
    at: Timestamp,
    change: impl FnOnce(&Tx<'_>) -> Result<T, JournalError>,
) -> Result<T, JournalError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(JournalError::sqlite("starting a journal transaction"))?;
    let writer = Tx { tx, at };
    let value = change(&writer)?;
    writer
        .tx
        .commit()
        .map_err(JournalError::sqlite("committing to the journal"))?;
    Ok(value)
}

fn read_counter(conn: &Connection, name: &str) -> Result<i64, JournalError> {
    conn.prepare_cached("SELECT value FROM counters WHERE name = ?1")
        .and_then(|mut s| s.query_row(params![name], |r| r.get(0)))
        .map_err(JournalError::sqlite("reading a counter"))
}

fn read_batch(conn: &Connection) -> Result<BatchNumber, JournalError> {
    let value = read_counter(conn, BATCH)?;
    u32::try_from(value)
        .ok()
        .and_then(BatchNumber::new)
        .ok_or_else(|| JournalError::Corrupt {
            what: format!("batch counter {value}"),
        })
}

/// One open journal transaction, with the time of the change. Dropping it without
/// [`Journal::write`] committing rolls everything back.
pub(crate) struct Tx<'c> {
    tx: Transaction<'c>,
    at: Timestamp,
}

/// The host's answer fields stored on a transaction.
pub(crate) struct Answer<'a> {
    pub response_code: &'a str,
    pub auth_code: Option<&'a str>,
    pub rrn: Option<&'a str>,
}

impl Tx<'_> {
    fn exec(
        &self,
        action: &'static str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<usize, JournalError> {
        self.tx
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params))
            .map_err(JournalError::sqlite(action))
    }

    /// After the wall clock went back: brings every retry scheduled later than `latest` (the
    /// longest retry delay from now) forward to now, so nothing waits for the clock to catch
    /// up. Returns how many were moved.
    pub fn pull_retries_in(&self, latest: Timestamp) -> Result<usize, JournalError> {
        let (now, latest) = (self.at.as_millis(), latest.as_millis());
        let mut moved = 0;
        for sql in [
            "UPDATE print_jobs SET next_attempt_at = ?1 WHERE state = 'queued' AND next_attempt_at > ?2",
            "UPDATE reversals SET next_attempt_at = ?1 WHERE state = 'pending' AND next_attempt_at > ?2",
            "UPDATE advices SET next_attempt_at = ?1 WHERE state = 'queued' AND next_attempt_at > ?2",
        ] {
            moved += self.exec(
                "rescheduling after the clock went back",
                sql,
                params![now, latest],
            )?;
        }
        if moved > 0 {
            self.log(
                None,
                "clock",
                None,
                "rescheduled",
                &format!("the clock went back: {moved} retries brought forward"),
            )?;
        }
        Ok(moved)
    }

    /// The connection of this transaction, for reads inside it.
    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    /// The time of this change.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// Appends to the event log.
    pub fn log(
        &self,
        txn_id: Option<i64>,
        entity: &str,
        from: Option<&str>,
        to: &str,
        cause: &str,
    ) -> Result<(), JournalError> {
        self.exec(
            "writing the event log",
            "INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![self.at.as_millis(), txn_id, entity, from, to, cause],
        )?;
        Ok(())
    }

    fn set_counter(&self, name: &str, value: i64) -> Result<(), JournalError> {
        self.exec(
            "writing a counter",
            "UPDATE counters SET value = ?2 WHERE name = ?1",
            params![name, value],
        )?;
        Ok(())
    }

    /// The current batch.
    pub fn batch(&self) -> Result<BatchNumber, JournalError> {
        read_batch(&self.tx)
    }

    /// Takes the next trace number and advances the counter, durably with this transaction.
    pub fn allocate_trace(&self) -> Result<TraceNumber, JournalError> {
        let value = read_counter(&self.tx, NEXT_TRACE)?;
        let trace = u32::try_from(value)
            .ok()
            .and_then(TraceNumber::new)
            .ok_or_else(|| JournalError::Corrupt {
                what: format!("trace counter {value}"),
            })?;
        self.set_counter(NEXT_TRACE, i64::from(trace.next().value()))?;
        Ok(trace)
    }

    /// Sets whether a sign-on is required.
    pub fn set_sign_on_required(&self, required: bool, cause: &str) -> Result<(), JournalError> {
        self.set_counter(SIGN_ON_REQUIRED, i64::from(required))?;
        self.log(
            None,
            "sign_on",
            None,
            if required { "required" } else { "done" },
            cause,
        )
    }

    /// Whether a trace is already taken in a batch.
    pub fn trace_taken(
        &self,
        batch: BatchNumber,
        trace: TraceNumber,
    ) -> Result<bool, JournalError> {
        self.tx
            .prepare_cached("SELECT 1 FROM transactions WHERE batch = ?1 AND trace = ?2")
            .and_then(|mut s| {
                s.query_row(params![batch.value(), trace.value()], |_| Ok(()))
                    .optional()
            })
            .map(|found| found.is_some())
            .map_err(JournalError::sqlite("checking a trace number"))
    }

    /// Inserts a transaction with a freshly allocated trace in the current batch.
    pub fn insert_txn(
        &self,
        new: &NewTxn<'_>,
        trace: TraceNumber,
        batch: BatchNumber,
        cause: &str,
    ) -> Result<i64, JournalError> {
        let at = self.at.as_millis();
        self.exec(
            "writing a transaction",
            "INSERT INTO transactions (request_id, fingerprint, kind, state, trace, batch, amount_minor, currency, \
             masked_pan, pan_hash, original_id, auth_code, created_at, updated_at, training) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14)",
            params![
                new.request_id.as_str(),
                new.fingerprint,
                new.kind.as_str(),
                new.state.as_str(),
                trace.value(),
                batch.value(),
                new.amount_minor as i64,
                new.currency,
                new.masked_pan,
                new.pan_hash,
                new.original_id,
                new.auth_code,
                at,
                new.training
            ],
        )?;
        let id = self.tx.last_insert_rowid();
        self.log(Some(id), "transaction", None, new.state.as_str(), cause)?;
        Ok(id)
    }

    /// Moves a transaction from `from` to `to`; fails if it is not in `from`.
    pub fn set_txn_state(
        &self,
        id: i64,
        from: TxnState,
        to: TxnState,
        cause: &str,
    ) -> Result<(), JournalError> {
        let changed = self.exec(
            "updating a transaction",
            "UPDATE transactions SET state = ?3, updated_at = ?4 WHERE id = ?1 AND state = ?2",
            params![id, from.as_str(), to.as_str(), self.at.as_millis()],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt {
                what: format!("transaction {id} was not {from} when moving to {to}"),
            });
        }
        self.log(
            Some(id),
            "transaction",
            Some(from.as_str()),
            to.as_str(),
            cause,
        )
    }

    /// Stores the host's answer on a transaction.
    pub fn set_answer(&self, id: i64, answer: &Answer<'_>) -> Result<(), JournalError> {
        self.exec(
            "storing the host's answer",
            "UPDATE transactions SET response_code = ?2, auth_code = COALESCE(?3, auth_code), rrn = COALESCE(?4, rrn) WHERE id = ?1",
            params![id, answer.response_code, answer.auth_code, answer.rrn],
        )?;
        Ok(())
    }

    /// Arms a reversal for a transaction about to be sent (or re-arms it for a retry).
    pub fn arm_reversal(&self, txn_id: i64) -> Result<(), JournalError> {
        let at = self.at.as_millis();
        self.exec(
            "arming a reversal",
            "INSERT INTO reversals (txn_id, state, reason, attempts, next_attempt_at, created_at, updated_at) \
             VALUES (?1, 'armed', '98', 0, 0, ?2, ?2) \
             ON CONFLICT (txn_id) DO UPDATE SET state = 'armed', reason = '98', attempts = 0, last_response = NULL, updated_at = ?2",
            params![txn_id, at],
        )?;
        self.log(
            Some(txn_id),
            "reversal",
            None,
            ReversalState::Armed.as_str(),
            "armed before sending",
        )
    }

    /// The reversal state of a transaction, if it has one.
    pub fn reversal_state(&self, txn_id: i64) -> Result<Option<ReversalState>, JournalError> {
        let state: Option<String> = self
            .tx
            .prepare_cached("SELECT state FROM reversals WHERE txn_id = ?1")
            .and_then(|mut s| s.query_row(params![txn_id], |r| r.get(0)).optional())
            .map_err(JournalError::sqlite("reading a reversal"))?;
        state
            .map(|s| {
                ReversalState::from_text(&s).ok_or_else(|| JournalError::Corrupt {
                    what: format!("reversal state {s}"),
                })
            })
            .transpose()
    }

    /// Moves a reversal from `from` to `change.state`, with optionally a new reason,
    /// attempts, last response and next attempt; fails if it is not in `from`.
    pub fn set_reversal(
        &self,
        txn_id: i64,
        from: ReversalState,
        change: &ReversalChange<'_>,
        cause: &str,
    ) -> Result<(), JournalError> {
        let changed = self.exec(
            "updating a reversal",
            "UPDATE reversals SET state = ?2, reason = COALESCE(?3, reason), attempts = COALESCE(?4, attempts), \
             last_response = COALESCE(?5, last_response), next_attempt_at = COALESCE(?6, next_attempt_at), updated_at = ?7 \
             WHERE txn_id = ?1 AND state = ?8",
            params![
                txn_id,
                change.state.as_str(),
                change.reason.map(|r| r.as_str()),
                change.attempts,
                change.last_response,
                change.next_attempt_at.map(|t| t.as_millis()),
                self.at.as_millis(),
                from.as_str()
            ],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt {
                what: format!(
                    "reversal of transaction {txn_id} was not {from} when moving to {}",
                    change.state
                ),
            });
        }
        self.log(
            Some(txn_id),
            "reversal",
            Some(from.as_str()),
            change.state.as_str(),
            cause,
        )
    }

    /// Queues a completion advice for store-and-forward.
    pub fn insert_advice(&self, txn_id: i64) -> Result<(), JournalError> {
        let at = self.at.as_millis();
        self.exec(
            "queueing an advice",
            "INSERT INTO advices (txn_id, state, created_at, updated_at) VALUES (?1, 'queued', ?2, ?2)",
            params![txn_id, at],
        )?;
        self.log(
            Some(txn_id),
            "advice",
            None,
            AdviceState::Queued.as_str(),
            "queued for store-and-forward",
        )
    }

    /// Moves an advice from `from` to `to`; fails if it is not in `from`.
    pub fn set_advice(
        &self,
        txn_id: i64,
        from: AdviceState,
        to: AdviceState,
        change: &RetryChange<'_>,
        cause: &str,
    ) -> Result<(), JournalError> {
        let changed = self.exec(
            "updating an advice",
            "UPDATE advices SET state = ?2, attempts = COALESCE(?3, attempts), last_response = COALESCE(?4, last_response), \
             next_attempt_at = COALESCE(?5, next_attempt_at), updated_at = ?6 WHERE txn_id = ?1 AND state = ?7",
            params![
                txn_id,
                to.as_str(),
                change.attempts,
                change.last,
                change.next_attempt_at.map(|t| t.as_millis()),
                self.at.as_millis(),
                from.as_str()
            ],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt {
                what: format!("advice of transaction {txn_id} was not {from} when moving to {to}"),
            });
        }
        self.log(
            Some(txn_id),
            "advice",
            Some(from.as_str()),
            to.as_str(),
            cause,
        )
    }

    /// Enqueues a slip print job.
    pub fn insert_print_job(
        &self,
        txn_id: i64,
        copy: SlipCopy,
        kind: PrintKind,
    ) -> Result<i64, JournalError> {
        let at = self.at.as_millis();
        self.exec(
            "queueing a slip",
            "INSERT INTO print_jobs (txn_id, copy, kind, state, created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?4)",
            params![txn_id, copy.as_str(), kind.as_str(), at],
        )?;
        let id = self.tx.last_insert_rowid();
        self.log(
            Some(txn_id),
            "print_job",
            None,
            PrintJobState::Queued.as_str(),
            &format!("{} {} copy queued", kind, copy),
        )?;
        Ok(id)
    }

    /// Records a confirmed slip: `sending` → `printed`, delivered on paper, and the paper it
    /// used in the printer counters.
    pub fn mark_printed(
        &self,
        job_id: i64,
        txn_id: i64,
        attempts: u32,
        length_mm: u32,
    ) -> Result<(), JournalError> {
        let changed = self.exec(
            "recording a printed slip",
            "UPDATE print_jobs SET state = 'printed', attempts = ?2, printed_at = ?3, delivered = 'paper', held_reason = NULL, \
             failing_since = NULL, updated_at = ?3 WHERE id = ?1 AND state = 'sending'",
            params![job_id, attempts, self.at.as_millis()],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt {
                what: format!("print job {job_id} was not sending when the printer confirmed it"),
            });
        }
        for (name, by) in [
            ("printer_mm", i64::from(length_mm)),
            ("mm_since_paper_change", i64::from(length_mm)),
            ("printer_jobs", 1),
        ] {
            self.add_to_counter(name, by)?;
        }
        self.log(
            Some(txn_id),
            "print_job",
            Some("sending"),
            "printed",
            &format!("the printer confirmed it ({length_mm} mm)"),
        )
    }

    /// Records a failed attempt: the job goes back to `queued` (retried at `retry_at`) or to
    /// `held` for the operator; `uncertain` marks its next copy REPRINT.
    pub fn mark_print_failed(
        &self,
        job_id: i64,
        txn_id: i64,
        failure: &PrintFailure<'_>,
    ) -> Result<(), JournalError> {
        let (to, held_reason) = if failure.hold {
            ("held", Some(failure.condition))
        } else {
            ("queued", None)
        };
        let kind_after = if failure.uncertain {
            Some(PrintKind::Reprint.as_str())
        } else {
            None
        };
        let changed = self.exec(
            "recording a failed slip",
            "UPDATE print_jobs SET state = ?2, attempts = ?3, last_error = ?4, last_condition = ?5, held_reason = ?6, \
             next_attempt_at = ?7, uncertain = MAX(uncertain, ?8), kind = COALESCE(?9, kind), \
             failing_since = COALESCE(failing_since, ?10), updated_at = ?10 WHERE id = ?1 AND state = 'sending'",
            params![
                job_id,
                to,
                failure.attempts,
                failure.detail,
                failure.condition,
                held_reason,
                failure.retry_at.as_millis(),
                failure.uncertain,
                kind_after,
                self.at.as_millis()
            ],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt {
                what: format!("print job {job_id} was not sending when its failure came"),
            });
        }
        self.add_to_counter(&format!("fault:{}", failure.condition), 1)?;
        let uncertain = if failure.uncertain {
            "; it may have printed, so it prints again marked REPRINT"
        } else {
            ""
        };
        let cause = format!(
            "printer fault {}: {}{uncertain}",
            failure.condition, failure.detail
        );
        self.log(Some(txn_id), "print_job", Some("sending"), to, &cause)
    }

    /// Holds a queued job for the operator (`tear_off` between copies).
    pub fn hold_print_job(
        &self,
        job_id: i64,
        txn_id: i64,
        reason: &str,
        cause: &str,
    ) -> Result<(), JournalError> {
        let changed = self.exec(
            "holding a slip",
            "UPDATE print_jobs SET state = 'held', held_reason = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'queued'",
            params![job_id, reason, self.at.as_millis()],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt {
                what: format!("print job {job_id} was not queued when it was held"),
            });
        }
        self.log(Some(txn_id), "print_job", Some("queued"), "held", cause)
    }

    /// Puts held jobs back in the queue: those held for a printer fault, or (when
    /// `include_tear_off`) every held job. Returns (job id, txn id, held reason) of each.
    pub fn release_held(
        &self,
        include_tear_off: bool,
        cause: &str,
    ) -> Result<Vec<(i64, i64, String)>, JournalError> {
        let held: Vec<(i64, i64, String)> = {
            let mut stmt = self
                .tx
                .prepare_cached(queries::HELD_JOBS)
                .map_err(JournalError::sqlite("reading held slips"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    ))
                })
                .map_err(JournalError::sqlite("reading held slips"))?;
            rows.collect::<Result<_, _>>()
                .map_err(JournalError::sqlite("reading held slips"))?
        };
        let mut released = Vec::new();
        for (job_id, txn_id, reason) in held {
            if reason == TEAR_OFF && !include_tear_off {
                continue;
            }
            self.exec(
                "releasing a held slip",
                // Due at once, in the order the slips were made (new slips are due from 0
                // too): an earlier customer's slip is not overtaken by one made during the hold.
                "UPDATE print_jobs SET state = 'queued', held_reason = NULL, next_attempt_at = 0, updated_at = ?2 \
                 WHERE id = ?1 AND state = 'held'",
                params![job_id, self.at.as_millis()],
            )?;
            self.log(Some(txn_id), "print_job", Some("held"), "queued", cause)?;
            released.push((job_id, txn_id, reason));
        }
        if released.iter().any(|(_, _, reason)| reason == "paper_out") {
            self.add_to_counter("paper_changes", 1)?;
            self.set_counter("mm_since_paper_change", 0)?;
        }
        Ok(released)
    }

    /// Delivers a job electronically (`queued` or `held` → `delivered`).
    pub fn deliver_electronically(
        &self,
        job_id: i64,
        txn_id: i64,
        cause: &str,
    ) -> Result<PrintJobState, JournalError> {
        let from: String = self
            .tx
            .query_row(
                "SELECT state FROM print_jobs WHERE id = ?1",
                [job_id],
                |r| r.get(0),
            )
            .map_err(JournalError::sqlite("reading a slip"))?;
        let changed = self.exec(
            "delivering a slip electronically",
            "UPDATE print_jobs SET state = 'delivered', delivered = 'electronic', held_reason = NULL, updated_at = ?2 \
             WHERE id = ?1 AND state IN ('queued', 'held')",
            params![job_id, self.at.as_millis()],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt {
                what: format!(
                    "print job {job_id} was {from}, not waiting, when delivered electronically"
                ),
            });
        }
        self.log(Some(txn_id), "print_job", Some(&from), "delivered", cause)?;
        Ok(PrintJobState::from_text(&from).unwrap_or(PrintJobState::Queued))
    }

    /// Queues a reprint of one copy, counted in the `reprints` counter.
    pub fn insert_reprint(
        &self,
        txn_id: i64,
        copy: SlipCopy,
        cause: &str,
    ) -> Result<i64, JournalError> {
        self.exec(
            "queueing a reprint",
            "INSERT INTO print_jobs (txn_id, copy, kind, state, created_at, updated_at) VALUES (?1, ?2, 'reprint', 'queued', ?3, ?3)",
            params![txn_id, copy.as_str(), self.at.as_millis()],
        )?;
        let id = self.tx.last_insert_rowid();
        self.add_to_counter("reprints", 1)?;
        self.log(Some(txn_id), "print_job", None, "queued", cause)?;
        Ok(id)
    }

    /// Stores (or replaces) a transaction's electronic signature.
    pub fn save_signature(&self, txn_id: i64, data: &[u8]) -> Result<(), JournalError> {
        self.exec(
            "storing a signature",
            "INSERT INTO signatures (txn_id, data, captured_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (txn_id) DO UPDATE SET data = ?2, captured_at = ?3",
            params![txn_id, data, self.at.as_millis()],
        )?;
        self.log(
            Some(txn_id),
            "signature",
            None,
            "captured",
            "the cardholder signed on the pad",
        )
    }

    fn add_to_counter(&self, name: &str, by: i64) -> Result<(), JournalError> {
        self.exec(
            "updating a counter",
            "INSERT INTO counters (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = value + ?2",
            params![name, by],
        )?;
        Ok(())
    }

    /// Sets the batch's state, recording totals when it closes.
    pub fn set_batch_state(
        &self,
        batch: BatchNumber,
        to: &str,
        totals: Option<(BatchTotals, bool)>,
        cause: &str,
    ) -> Result<(), JournalError> {
        let at = self.at.as_millis();
        self.exec(
            "updating the batch",
            "INSERT INTO batches (batch, state, opened_at) VALUES (?1, ?2, ?3) ON CONFLICT (batch) DO UPDATE SET state = ?2",
            params![batch.value(), to, at],
        )?;
        if let Some((totals, balanced)) = totals {
            self.exec(
                "closing the batch",
                "UPDATE batches SET closed_at = ?2, total_count = ?3, total_minor = ?4, balanced = ?5 WHERE batch = ?1",
                params![batch.value(), at, totals.count, totals.amount_minor as i64, balanced],
            )?;
        }
        self.log(None, "batch", None, to, cause)
    }

    /// Closes the current batch: marks its transactions settled and opens the next batch.
    /// Transactions still `queued` (taken while the settlement was out, never sent) move to
    /// the next batch: the host's totals cannot include them.
    pub fn close_batch(
        &self,
        batch: BatchNumber,
        totals: BatchTotals,
        balanced: bool,
    ) -> Result<BatchNumber, JournalError> {
        self.set_batch_state(
            batch,
            "closed",
            Some((totals, balanced)),
            if balanced {
                "settled, balanced"
            } else {
                "settled, unbalanced"
            },
        )?;
        let next = batch.next();
        let unsent: Vec<i64> = self
            .tx
            .prepare_cached("SELECT id FROM transactions WHERE batch = ?1 AND state = 'queued'")
            .and_then(|mut s| s.query_map(params![batch.value()], |r| r.get(0))?.collect())
            .map_err(JournalError::sqlite("closing the batch"))?;
        for id in unsent {
            self.exec(
                "closing the batch",
                "UPDATE transactions SET batch = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, next.value(), self.at.as_millis()],
            )?;
            let queued = TxnState::Queued.as_str();
            self.log(
                Some(id),
                "transaction",
                Some(queued),
                queued,
                &format!("not sent when batch {batch} closed: moved to batch {next}"),
            )?;
        }
        self.exec(
            "closing the batch",
            "UPDATE transactions SET settled = 1, updated_at = ?2 WHERE batch = ?1 AND settled = 0",
            params![batch.value(), self.at.as_millis()],
        )?;
        self.set_counter(BATCH, i64::from(next.value()))?;
        self.set_batch_state(next, "open", None, "opened after settlement")?;
        Ok(next)
    }
}

/// A change to a reversal row (`None` keeps the stored value).
pub(crate) struct ReversalChange<'a> {
    pub state: ReversalState,
    pub reason: Option<ReversalReason>,
    pub attempts: Option<u32>,
    pub last_response: Option<&'a str>,
    pub next_attempt_at: Option<Timestamp>,
}

impl ReversalChange<'_> {
    /// Only the state changes.
    pub fn to(state: ReversalState) -> Self {
        ReversalChange {
            state,
            reason: None,
            attempts: None,
            last_response: None,
            next_attempt_at: None,
        }
    }
}

/// A failed print attempt, as [`Tx::mark_print_failed`] records it.
pub(crate) struct PrintFailure<'a> {
    pub attempts: u32,
    pub condition: &'a str,
    pub detail: &'a str,
    pub hold: bool,
    pub uncertain: bool,
    pub retry_at: Timestamp,
}

/// The held reason of a copy waiting for the paper to be torn off.
pub const TEAR_OFF: &str = "tear_off";

/// A change to a retried row (advice or print job): `None` keeps the stored value, except
/// `last`, which is stored as given.
#[derive(Default)]
pub(crate) struct RetryChange<'a> {
    pub attempts: Option<u32>,
    pub last: Option<&'a str>,
    pub next_attempt_at: Option<Timestamp>,
}
