//! Backup and restore of the journal from Kotlin: `PosTerminal.backup(path)` (in
//! `terminal.rs`, through the running driver) and the top-level `restoreJournal`.
//!
//! A restore must never replace a journal an open terminal uses. Two guards: this process
//! keeps the set of journals its `PosTerminal`s have open (opening and restoring take the
//! same lock, so they cannot interleave), and the core refuses a journal whose SQLite lock
//! another process holds. Either way the error is `RESTORE_JOURNAL_IN_USE`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use poscore::journal::backup::{self, BackupError, BackupInfo, RestoreReport};
use poscore_terminal::{Clock, SystemClock};

use crate::error::PosError;
use crate::runtime::run;

/// A journal backup that was written and can be restored.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JournalBackup {
    /// The backup file.
    pub path: String,
    /// Its size in bytes.
    pub bytes: i64,
    /// The journal schema version it holds.
    pub schema_version: i64,
    /// How many transactions it holds.
    pub transactions: i64,
    /// The batch that was open.
    pub batch: i32,
}

impl From<&BackupInfo> for JournalBackup {
    fn from(info: &BackupInfo) -> JournalBackup {
        JournalBackup {
            path: info.path.display().to_string(),
            bytes: i64::try_from(info.bytes).unwrap_or(i64::MAX),
            schema_version: info.schema_version,
            transactions: i64::try_from(info.transactions).unwrap_or(i64::MAX),
            batch: i32::try_from(info.batch).unwrap_or(i32::MAX),
        }
    }
}

/// What `restoreJournal` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RestoreResult {
    /// The journal now in place (the backup's contents).
    pub restored: JournalBackup,
    /// Where the replaced journal was kept (`<journal>.before-restore-<YYYYMMDD-HHMMSS>`), or
    /// `null` when there was none.
    pub replaced_path: Option<String>,
    /// With `force`: what the replaced journal still held, in English (empty otherwise).
    pub overridden_en: String,
    /// The same in Chinese.
    pub overridden_zh: String,
}

impl From<&RestoreReport> for RestoreResult {
    fn from(report: &RestoreReport) -> RestoreResult {
        RestoreResult {
            restored: (&report.restored).into(),
            replaced_path: report.replaced.as_ref().map(|p| p.display().to_string()),
            overridden_en: report.overridden.to_string(),
            overridden_zh: report.overridden.zh(),
        }
    }
}

/// A backup error for Kotlin: a wrong path is `InvalidInput`, a bad backup or unfinished
/// work a `Refused`, an I/O failure `Storage`.
pub(crate) fn pos_error(error: &BackupError) -> PosError {
    match error {
        BackupError::NotFound { .. }
        | BackupError::IsDirectory { .. }
        | BackupError::SameFile { .. }
        | BackupError::TooLarge { .. } => PosError::invalid(error),
        BackupError::Foreign { .. }
        | BackupError::Truncated { .. }
        | BackupError::Corrupt { .. }
        | BackupError::SchemaTooNew { .. }
        | BackupError::JournalInUse { .. }
        | BackupError::WouldLoseWork { .. }
        | BackupError::JournalUnreadable { .. } => PosError::refused(error),
        BackupError::Unreadable { .. } | BackupError::Io { .. } | BackupError::Sqlite { .. } => {
            PosError::storage(error)
        }
    }
}

/// The journals open in this process's terminals.
fn open_journals() -> MutexGuard<'static, HashSet<PathBuf>> {
    static OPEN: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    OPEN.get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One name per file, whether it exists yet or not.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(path) {
        return c;
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    match (
        std::fs::canonicalize(parent.unwrap_or(Path::new("."))),
        path.file_name(),
    ) {
        (Ok(parent), Some(name)) => parent.join(name),
        _ => path.to_path_buf(),
    }
}

/// Opens a journal for a terminal under the registry's lock (so no restore runs meanwhile)
/// and records it as open.
pub(crate) fn opening<T, E>(journal: &Path, open: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let mut journals = open_journals();
    let opened = open()?;
    journals.insert(canonical(journal));
    Ok(opened)
}

/// The terminal on `journal` was shut down.
pub(crate) fn closed(journal: &Path) {
    open_journals().remove(&canonical(journal));
}

/// Replaces the journal file `journal_path` with the backup `backup_path`, after verifying
/// the backup (integrity, schema version, tables). No terminal may have that journal open
/// (`RESTORE_JOURNAL_IN_USE`); shut it down first and open a new one afterwards. Unless
/// `force`, a journal that still holds pending reversals, transactions with an unknown
/// outcome, unsent offline completions or unprinted slips is refused
/// (`RESTORE_WOULD_LOSE_WORK`, naming them). The replaced journal is kept beside it as
/// `<journal>.before-restore-<YYYYMMDD-HHMMSS>`. A bad backup (`BACKUP_CORRUPT`,
/// `BACKUP_TRUNCATED`, `BACKUP_FOREIGN`, `BACKUP_SCHEMA_TOO_NEW`) is refused before anything
/// is touched. The journal's directory is created if needed.
#[uniffi::export]
pub async fn restore_journal(
    backup_path: String,
    journal_path: String,
    force: bool,
) -> Result<RestoreResult, PosError> {
    run(async move {
        tokio::task::spawn_blocking(move || {
            let journal = PathBuf::from(&journal_path);
            let journals = open_journals();
            if journals.contains(&canonical(&journal)) {
                return Err(pos_error(&BackupError::JournalInUse { path: journal_path }));
            }
            let report =
                backup::restore(Path::new(&backup_path), &journal, force, SystemClock.now())
                    .map_err(|e| pos_error(&e))?;
            drop(journals);
            Ok(RestoreResult::from(&report))
        })
        .await
        .map_err(|e| PosError::internal(&format!("restoring the journal: {e}")))?
    })
    .await
}

/// Checks a backup file without changing it (what `restoreJournal` checks first).
#[uniffi::export]
pub async fn verify_journal_backup(backup_path: String) -> Result<JournalBackup, PosError> {
    run(async move {
        tokio::task::spawn_blocking(move || {
            backup::verify_backup(Path::new(&backup_path))
                .map(|info| JournalBackup::from(&info))
                .map_err(|e| pos_error(&e))
        })
        .await
        .map_err(|e| PosError::internal(&format!("verifying the backup: {e}")))?
    })
    .await
}
