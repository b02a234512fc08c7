//! Backup and restore of the journal (数据备份).
//!
//! - [`backup`] copies the open journal with SQLite's online backup API, through the journal's
//!   own connection, so the copy is one consistent snapshot taken between two engine steps
//!   while the terminal keeps running. The copy goes to a temporary file beside the
//!   destination, is fsync'd, then renamed over it: a backup file is whole or absent.
//! - [`verify_backup`] checks a file before anything trusts it: size, the SQLite header
//!   (foreign or truncated files), `PRAGMA integrity_check`, the schema version (not newer
//!   than this build, not a foreign database) and the journal's tables.
//! - [`restore`] verifies the backup, refuses to replace a journal that still holds work it
//!   would lose (pending reversals, transactions with an unknown outcome, unsent offline
//!   completions, unprinted slips) unless forced, keeps the replaced journal as
//!   `<journal>.before-restore-<YYYYMMDD-HHMMSS>`, and swaps the restored file in with one
//!   atomic rename. A journal open in any process is refused.
//! - [`scheduled_backup`] writes `poscore-YYYYMMDD-HHMMSS.db` (UTC) into a directory and
//!   [`rotate`] keeps the newest N of them.
//!
//! Backups hold what the journal holds: masked PANs and keyed hashes, never full card data;
//! the PAN-hash key is not in them.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::{Journal, schema};
use crate::lang::Bilingual;
use crate::time::{MILLIS_PER_DAY, Timestamp};

/// The largest file [`verify_backup`] and [`restore`] accept (4 GiB; a year of a busy
/// terminal is far below it).
pub const MAX_BACKUP_BYTES: u64 = 4 << 30;

/// The tables every journal has (schema version 1 and later).
const REQUIRED_TABLES: &[&str] = &[
    "counters",
    "batches",
    "transactions",
    "reversals",
    "advices",
    "print_jobs",
    "events",
];

/// The tables schema version 2 added.
const REQUIRED_TABLES_V2: &[&str] = &["signatures"];

/// How many items of each kind an [`AtRisk`] message names.
const NAMED_ITEMS: usize = 10;

/// Why a backup or a restore did not happen. Nothing was overwritten.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file does not exist.
    #[error("{path} does not exist; check the file name")]
    NotFound {
        /// The path.
        path: String,
    },
    /// A directory was given where a file is needed.
    #[error("{path} is a directory, not a file; name the file itself")]
    IsDirectory {
        /// The path.
        path: String,
    },
    /// The file is larger than any journal backup.
    #[error(
        "{path} is {bytes} bytes, more than the {limit} bytes a journal backup can be; it is not a poscore backup"
    )]
    TooLarge {
        /// The path.
        path: String,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The file cannot be read.
    #[error("{path} cannot be read ({why}); check its permissions and the storage")]
    Unreadable {
        /// The path.
        path: String,
        /// The system's reason.
        why: String,
    },
    /// The file is not a poscore journal (not SQLite, another application's database, no
    /// schema version, tables missing).
    #[error("{path} is not a poscore journal backup ({why}); choose a file made by poscore backup")]
    Foreign {
        /// The path.
        path: String,
        /// What gave it away.
        why: String,
    },
    /// The file is shorter than its own header says: cut off while copying.
    #[error(
        "{path} is truncated ({bytes} bytes, the header says {expected}); copy the backup again or use an older one"
    )]
    Truncated {
        /// The path.
        path: String,
        /// Its size.
        bytes: u64,
        /// The size its header gives.
        expected: u64,
    },
    /// `PRAGMA integrity_check` (or reading the file) found damage.
    #[error("{path} is damaged ({why}); use another backup")]
    Corrupt {
        /// The path.
        path: String,
        /// SQLite's findings.
        why: String,
    },
    /// The backup was written by a newer poscore.
    #[error(
        "{path} has schema version {found}, newer than this poscore ({supported}); update the app before restoring it"
    )]
    SchemaTooNew {
        /// The path.
        path: String,
        /// The file's version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The backup and the journal are the same file.
    #[error("{path} is the journal itself; back up to (or restore from) another file")]
    SameFile {
        /// The path.
        path: String,
    },
    /// The journal is open (a running terminal, another poscore process).
    #[error(
        "the journal {path} is open in a running terminal; close the terminal (or stop the other poscore process) before restoring"
    )]
    JournalInUse {
        /// The journal's path.
        path: String,
    },
    /// Replacing the journal would lose work it still holds.
    #[error(
        "restoring would lose work the journal {journal} still holds: {at_risk}; finish it first (reversals, slips), or restore with force (the journal is kept as a .before-restore file)"
    )]
    WouldLoseWork {
        /// The journal's path.
        journal: String,
        /// What would be lost.
        at_risk: AtRisk,
    },
    /// The journal to be replaced cannot be read, so what it holds is unknown.
    #[error(
        "the journal {journal} cannot be read ({why}), so what restoring would lose is unknown; restore with force (the journal is kept as a .before-restore file)"
    )]
    JournalUnreadable {
        /// The journal's path.
        journal: String,
        /// Why it cannot be read.
        why: String,
    },
    /// A file operation failed.
    #[error("{action} {path} failed ({source}); check free storage and permissions")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error("{action} failed ({source}); check free storage, then try again")]
    Sqlite {
        /// What was being done.
        action: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}

impl Bilingual for BackupError {
    fn code(&self) -> &'static str {
        match self {
            BackupError::NotFound { .. } => "BACKUP_NOT_FOUND",
            BackupError::IsDirectory { .. } => "BACKUP_IS_DIRECTORY",
            BackupError::TooLarge { .. } => "BACKUP_TOO_LARGE",
            BackupError::Unreadable { .. } => "BACKUP_UNREADABLE",
            BackupError::Foreign { .. } => "BACKUP_FOREIGN",
            BackupError::Truncated { .. } => "BACKUP_TRUNCATED",
            BackupError::Corrupt { .. } => "BACKUP_CORRUPT",
            BackupError::SchemaTooNew { .. } => "BACKUP_SCHEMA_TOO_NEW",
            BackupError::SameFile { .. } => "BACKUP_SAME_FILE",
            BackupError::JournalInUse { .. } => "RESTORE_JOURNAL_IN_USE",
            BackupError::WouldLoseWork { .. } => "RESTORE_WOULD_LOSE_WORK",
            BackupError::JournalUnreadable { .. } => "RESTORE_JOURNAL_UNREADABLE",
            BackupError::Io { .. } => "BACKUP_IO",
            BackupError::Sqlite { .. } => "BACKUP_SQLITE",
        }
    }

    fn zh(&self) -> String {
        match self {
            BackupError::NotFound { path } => format!("{path} 不存在：请检查文件名"),
            BackupError::IsDirectory { path } => {
                format!("{path} 是目录而不是文件：请指定文件本身")
            }
            BackupError::TooLarge { path, bytes, limit } => format!(
                "{path} 有 {bytes} 字节，超过交易日志备份的上限 {limit} 字节：它不是 poscore 备份"
            ),
            BackupError::Unreadable { path, why } => {
                format!("无法读取 {path}（{why}）：请检查文件权限和存储")
            }
            BackupError::Foreign { path, why } => format!(
                "{path} 不是 poscore 交易日志备份（{why}）：请选择由 poscore backup 生成的文件"
            ),
            BackupError::Truncated {
                path,
                bytes,
                expected,
            } => format!(
                "{path} 不完整（{bytes} 字节，文件头表明应为 {expected} 字节）：请重新拷贝备份或使用更早的备份"
            ),
            BackupError::Corrupt { path, why } => {
                format!("{path} 已损坏（{why}）：请使用其他备份")
            }
            BackupError::SchemaTooNew {
                path,
                found,
                supported,
            } => format!("{path} 的版本 {found} 高于本程序支持的 {supported}：请先升级应用再恢复"),
            BackupError::SameFile { path } => {
                format!("{path} 就是交易日志本身：请备份到（或从）另一个文件")
            }
            BackupError::JournalInUse { path } => format!(
                "交易日志 {path} 正在被运行中的终端使用：请先关闭终端（或停止另一个 poscore 进程）再恢复"
            ),
            BackupError::WouldLoseWork { journal, at_risk } => format!(
                "恢复将丢失交易日志 {journal} 中尚未完成的工作：{}；请先处理完（冲正、签购单），或强制恢复（原日志会保留为 .before-restore 文件）",
                at_risk.zh()
            ),
            BackupError::JournalUnreadable { journal, why } => format!(
                "无法读取交易日志 {journal}（{why}），无法确定恢复会丢失什么：如确需恢复请强制恢复（原日志会保留为 .before-restore 文件）"
            ),
            BackupError::Io {
                action,
                path,
                source,
            } => format!("{action} {path} 失败（{source}）：请检查存储空间和权限"),
            BackupError::Sqlite { action, source } => {
                format!("{action} 失败（{source}）：请检查存储空间后重试")
            }
        }
    }

    fn en(&self) -> String {
        self.to_string()
    }
}

/// Work a journal still holds that a restore would lose (its transactions' traces).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtRisk {
    /// Reversals not done yet (`pending`, or `failed` awaiting the operator).
    pub pending_reversals: Vec<String>,
    /// Transactions whose outcome is not known (`unknown`, `sending`, `queued`).
    pub unknown_outcome: Vec<String>,
    /// Offline completions (advices) not yet accepted by the host.
    pub unsent_advices: Vec<String>,
    /// Slips not printed or delivered: `trace copy` (`000012 merchant`).
    pub unprinted_slips: Vec<String>,
}

impl AtRisk {
    /// Nothing would be lost.
    pub fn is_empty(&self) -> bool {
        self.pending_reversals.is_empty()
            && self.unknown_outcome.is_empty()
            && self.unsent_advices.is_empty()
            && self.unprinted_slips.is_empty()
    }

    fn parts(&self) -> [(&[String], &'static str, &'static str); 4] {
        [
            (&self.pending_reversals, "笔待冲正", "pending reversals"),
            (
                &self.unknown_outcome,
                "笔结果未知的交易",
                "transactions with an unknown outcome",
            ),
            (
                &self.unsent_advices,
                "笔未上送的离线完成",
                "offline completions not yet sent",
            ),
            (&self.unprinted_slips, "张未打印的签购单", "unprinted slips"),
        ]
    }

    /// What would be lost, in Chinese (the English is its `Display`).
    pub fn zh(&self) -> String {
        self.describe(|(items, zh, _)| format!("{} {zh}（{}）", items.len(), named(items)))
            .join("，")
    }

    fn describe(
        &self,
        each: impl Fn(&(&[String], &'static str, &'static str)) -> String,
    ) -> Vec<String> {
        self.parts()
            .iter()
            .filter(|(items, _, _)| !items.is_empty())
            .map(each)
            .collect()
    }
}

impl std::fmt::Display for AtRisk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self
            .describe(|(items, _, en)| format!("{} {en} ({})", items.len(), named(items)))
            .join("; ");
        f.write_str(&text)
    }
}

fn named(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(NAMED_ITEMS)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > NAMED_ITEMS {
        text.push_str(", …");
    }
    text
}

/// What a verified backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its schema version (older ones are migrated when the restored journal opens).
    pub schema_version: i64,
    /// How many transactions it holds.
    pub transactions: u64,
    /// The batch that was open.
    pub batch: u32,
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The backup that is now the journal.
    pub restored: BackupInfo,
    /// Where the replaced journal was kept, if there was one.
    pub replaced: Option<PathBuf>,
    /// What the replaced journal still held (only with `force`; it is in the kept copy).
    pub overridden: AtRisk,
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + use<> {
    let path = shown(path);
    move |source| BackupError::Io {
        action,
        path,
        source,
    }
}

fn sqlite(action: &'static str) -> impl FnOnce(rusqlite::Error) -> BackupError {
    move |source| BackupError::Sqlite { action, source }
}

/// `YYYYMMDD-HHMMSS` (UTC) of a time, for file names.
pub fn file_stamp(at: Timestamp) -> String {
    let (year, month, day) = at.civil_date();
    let in_day = at.as_millis().rem_euclid(MILLIS_PER_DAY) / 1000;
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    )
}

/// Whether two paths name the same file (the second may not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = fs::canonicalize(p) {
            return Some(c);
        }
        let parent = p.parent().filter(|p| !p.as_os_str().is_empty());
        let parent = fs::canonicalize(parent.unwrap_or(Path::new("."))).ok()?;
        Some(parent.join(p.file_name()?))
    };
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

/// The directory of `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A sibling of `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    parent_of(path).join(name)
}

/// A hidden temporary file beside `path`.
fn temp_beside(path: &Path, what: &str) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{what}-{}", std::process::id()));
    parent_of(path).join(name)
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) {
    // Directories cannot be opened for sync everywhere; the rename itself is atomic.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("removing", path)(e)),
    }
}

/// Copies every page of `from` into a new database at `dest` (through a temporary file
/// beside it, fsync'd, then renamed), in rollback-journal mode so the copy is one
/// self-contained file.
fn copy_database(from: &Connection, dest: &Path) -> Result<(), BackupError> {
    let temp = temp_beside(dest, "partial");
    remove_if_present(&temp)?;
    let result = (|| {
        let mut to = Connection::open_with_flags(
            &temp,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite("creating the backup file"))?;
        {
            let backup = Backup::new(from, &mut to).map_err(sqlite("starting the backup"))?;
            // All pages in one step: one read transaction on the source, so the copy is one
            // consistent snapshot.
            loop {
                match backup.step(-1).map_err(sqlite("copying the journal"))? {
                    StepResult::Done => break,
                    StepResult::More => continue,
                    StepResult::Busy | StepResult::Locked => {
                        return Err(BackupError::Sqlite {
                            action: "copying the journal",
                            source: rusqlite::Error::SqliteFailure(
                                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                                Some("the journal stayed locked".into()),
                            ),
                        });
                    }
                    _ => continue,
                }
            }
        }
        let _: String = to
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .map_err(sqlite("finishing the backup file"))?;
        to.close()
            .map_err(|(_, e)| e)
            .map_err(sqlite("closing the backup file"))?;
        File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(io("syncing", &temp))?;
        fs::rename(&temp, dest).map_err(io("renaming the backup to", dest))?;
        sync_dir(parent_of(dest));
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Backs the open journal up to `dest` (a file; replaced atomically if it exists) while the
/// terminal runs: one consistent snapshot, fsync'd before it is renamed into place.
pub fn backup(journal: &Journal, dest: &Path) -> Result<BackupInfo, BackupError> {
    if dest.is_dir() {
        return Err(BackupError::IsDirectory { path: shown(dest) });
    }
    if same_file(dest, journal.path()) {
        return Err(BackupError::SameFile { path: shown(dest) });
    }
    let parent = parent_of(dest);
    if !parent.is_dir() {
        return Err(BackupError::NotFound {
            path: shown(parent),
        });
    }
    copy_database(journal.conn(), dest)?;
    let bytes = fs::metadata(dest).map_err(io("reading", dest))?.len();
    let conn = journal.conn();
    let schema_version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sqlite("reading the schema version"))?;
    let (transactions, batch) = counts(conn).map_err(sqlite("counting transactions"))?;
    Ok(BackupInfo {
        path: dest.to_path_buf(),
        bytes,
        schema_version,
        transactions,
        batch,
    })
}

fn counts(conn: &Connection) -> rusqlite::Result<(u64, u32)> {
    let transactions: i64 =
        conn.query_row("SELECT COUNT(*) FROM transactions", [], |r| r.get(0))?;
    let batch: i64 =
        conn.query_row("SELECT value FROM counters WHERE name = 'batch'", [], |r| {
            r.get(0)
        })?;
    Ok((
        u64::try_from(transactions).unwrap_or(0),
        u32::try_from(batch).unwrap_or(0),
    ))
}

/// Checks that `file` can be read as a file of a sane size; returns its size.
fn check_input(file: &Path) -> Result<u64, BackupError> {
    let meta = match fs::metadata(file) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BackupError::NotFound { path: shown(file) });
        }
        Err(e) => {
            return Err(BackupError::Unreadable {
                path: shown(file),
                why: e.to_string(),
            });
        }
    };
    if meta.is_dir() {
        return Err(BackupError::IsDirectory { path: shown(file) });
    }
    if meta.len() > MAX_BACKUP_BYTES {
        return Err(BackupError::TooLarge {
            path: shown(file),
            bytes: meta.len(),
            limit: MAX_BACKUP_BYTES,
        });
    }
    Ok(meta.len())
}

/// Reads the SQLite header: a foreign or truncated file is refused before SQLite opens it.
fn check_header(file: &Path, bytes: u64) -> Result<(), BackupError> {
    let foreign = |why: &str| BackupError::Foreign {
        path: shown(file),
        why: why.into(),
    };
    let mut header = [0u8; 100];
    let mut f = File::open(file).map_err(|e| BackupError::Unreadable {
        path: shown(file),
        why: e.to_string(),
    })?;
    let mut read = 0;
    while read < header.len() {
        match f.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => {
                return Err(BackupError::Unreadable {
                    path: shown(file),
                    why: e.to_string(),
                });
            }
        }
    }
    if read == 0 {
        return Err(foreign("the file is empty"));
    }
    if read < 16 || &header[..16] != b"SQLite format 3\0" {
        return Err(foreign("not an SQLite database"));
    }
    if read < header.len() {
        return Err(BackupError::Truncated {
            path: shown(file),
            bytes,
            expected: 100,
        });
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    if page_size < 512 || !page_size.is_power_of_two() {
        return Err(BackupError::Corrupt {
            path: shown(file),
            why: format!("page size {page_size} in the header"),
        });
    }
    let pages = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    let change_counter = &header[24..28];
    let valid_for = &header[92..96];
    let expected = pages * page_size;
    // The header's page count is trusted only when it was written by this format version.
    if (change_counter == valid_for && pages > 0 && bytes < expected) || bytes % page_size != 0 {
        return Err(BackupError::Truncated {
            path: shown(file),
            bytes,
            expected: if change_counter == valid_for {
                expected
            } else {
                bytes.div_ceil(page_size) * page_size
            },
        });
    }
    Ok(())
}

fn sqlite_read_error(file: &Path, e: rusqlite::Error) -> BackupError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => BackupError::Foreign {
            path: shown(file),
            why: e.to_string(),
        },
        Some(ErrorCode::DatabaseCorrupt) => BackupError::Corrupt {
            path: shown(file),
            why: e.to_string(),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            BackupError::Unreadable {
                path: shown(file),
                why: e.to_string(),
            }
        }
        _ => BackupError::Corrupt {
            path: shown(file),
            why: e.to_string(),
        },
    }
}

/// Checks a backup file without changing it: size, header, `PRAGMA integrity_check`, schema
/// version (not newer than this build, not foreign) and the journal's tables.
pub fn verify_backup(file: &Path) -> Result<BackupInfo, BackupError> {
    let bytes = check_input(file)?;
    check_header(file, bytes)?;
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_read_error(file, e))?;
    let read = |e| sqlite_read_error(file, e);
    let mut findings = Vec::new();
    {
        let mut stmt = conn.prepare("PRAGMA integrity_check(20)").map_err(read)?;
        let mut rows = stmt.query([]).map_err(read)?;
        while let Some(row) = rows.next().map_err(read)? {
            findings.push(row.get::<_, String>(0).map_err(read)?);
        }
    }
    if findings != ["ok"] {
        return Err(BackupError::Corrupt {
            path: shown(file),
            why: findings.join("; "),
        });
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(read)?;
    if version > schema::CURRENT_VERSION {
        return Err(BackupError::SchemaTooNew {
            path: shown(file),
            found: version,
            supported: schema::CURRENT_VERSION,
        });
    }
    if version <= 0 {
        return Err(BackupError::Foreign {
            path: shown(file),
            why: "no poscore schema version".into(),
        });
    }
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .map_err(read)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(read)?;
        rows.collect::<Result<_, _>>().map_err(read)?
    };
    let required = REQUIRED_TABLES.iter().chain(if version >= 2 {
        REQUIRED_TABLES_V2
    } else {
        &[]
    });
    let missing: Vec<&str> = required
        .filter(|t| !tables.iter().any(|have| have == *t))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(BackupError::Foreign {
            path: shown(file),
            why: format!("missing tables: {}", missing.join(", ")),
        });
    }
    let (transactions, batch) = counts(&conn).map_err(|e| BackupError::Corrupt {
        path: shown(file),
        why: format!("the counters: {e}"),
    })?;
    Ok(BackupInfo {
        path: file.to_path_buf(),
        bytes,
        schema_version: version,
        transactions,
        batch,
    })
}

/// What a journal holds that would be lost by replacing it.
fn at_risk(conn: &Connection) -> rusqlite::Result<AtRisk> {
    let list = |sql: &str| -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect()
    };
    Ok(AtRisk {
        pending_reversals: list(
            "SELECT printf('%06d', t.trace) FROM reversals r JOIN transactions t ON t.id = r.txn_id \
             WHERE r.state IN ('pending', 'failed') ORDER BY t.id",
        )?,
        unknown_outcome: list(
            "SELECT printf('%06d', trace) FROM transactions \
             WHERE state IN ('unknown', 'sending', 'queued') ORDER BY id",
        )?,
        unsent_advices: list(
            "SELECT printf('%06d', t.trace) FROM advices a JOIN transactions t ON t.id = a.txn_id \
             WHERE a.state IN ('queued', 'sending') ORDER BY t.id",
        )?,
        unprinted_slips: list(
            "SELECT printf('%06d', t.trace) || ' ' || p.copy FROM print_jobs p \
             JOIN transactions t ON t.id = p.txn_id \
             WHERE p.state IN ('queued', 'sending', 'printing', 'held') ORDER BY p.id",
        )?,
    })
}

/// Opens the journal to be replaced, holding its exclusive lock (a running terminal holds it
/// for as long as it runs, so it is refused here).
fn open_replaced(journal: &Path) -> Result<Connection, BackupError> {
    let conn = Connection::open_with_flags(
        journal,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| BackupError::JournalUnreadable {
        journal: shown(journal),
        why: e.to_string(),
    })?;
    let in_use = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => BackupError::JournalInUse {
            path: shown(journal),
        },
        _ => BackupError::JournalUnreadable {
            journal: shown(journal),
            why: e.to_string(),
        },
    };
    conn.busy_timeout(std::time::Duration::from_millis(200))
        .map_err(sqlite("opening the journal"))?;
    conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
        .map_err(in_use)?;
    Ok(conn)
}

/// A `.before-restore-<stamp>` name beside the journal that is not taken yet.
fn before_restore_name(journal: &Path, now: Timestamp) -> PathBuf {
    let base = format!(".before-restore-{}", file_stamp(now));
    let mut path = sibling(journal, &base);
    let mut n = 2;
    while path.exists() {
        path = sibling(journal, &format!("{base}-{n}"));
        n += 1;
    }
    path
}

/// Replaces the journal at `journal` with the backup `backup_file`.
///
/// The backup is verified first (and its copy again, beside the journal, before the swap).
/// An existing journal is opened with its exclusive lock — a journal open in a running
/// terminal is refused ([`BackupError::JournalInUse`]) — and, unless `force`, a journal that
/// still holds pending reversals, transactions with an unknown outcome, unsent offline
/// completions or unprinted slips is refused ([`BackupError::WouldLoseWork`], listing them).
/// The replaced journal is kept as `<journal>.before-restore-<YYYYMMDD-HHMMSS>`; the restored
/// file takes its place with one atomic rename. On any error before that rename, the journal
/// is untouched.
pub fn restore(
    backup_file: &Path,
    journal: &Path,
    force: bool,
    now: Timestamp,
) -> Result<RestoreReport, BackupError> {
    check_input(backup_file)?;
    if journal.is_dir() {
        return Err(BackupError::IsDirectory {
            path: shown(journal),
        });
    }
    if same_file(backup_file, journal) {
        return Err(BackupError::SameFile {
            path: shown(journal),
        });
    }
    verify_backup(backup_file)?;
    let dir = parent_of(journal);
    fs::create_dir_all(dir).map_err(io("creating", dir))?;

    // Copy the backup beside the journal and verify the copy: what is swapped in is what was
    // checked, even if the backup file changes meanwhile.
    let staged = temp_beside(journal, "restoring");
    remove_if_present(&staged)?;
    let staged_result = (|| {
        fs::copy(backup_file, &staged).map_err(io("copying the backup to", &staged))?;
        File::open(&staged)
            .and_then(|f| f.sync_all())
            .map_err(io("syncing", &staged))?;
        verify_backup(&staged)
    })();
    let mut restored = match staged_result {
        Ok(info) => info,
        Err(e) => {
            let _ = fs::remove_file(&staged);
            for suffix in ["-wal", "-shm"] {
                let _ = fs::remove_file(sibling(&staged, suffix));
            }
            return Err(e);
        }
    };
    restored.path = journal.to_path_buf();

    let swap =
        |replaced: Option<PathBuf>, overridden: AtRisk| -> Result<RestoreReport, BackupError> {
            // A WAL or shared-memory file of the old journal would be read as the new one's.
            for suffix in ["-wal", "-shm", "-journal"] {
                remove_if_present(&sibling(journal, suffix))?;
            }
            fs::rename(&staged, journal).map_err(io("moving the restored journal to", journal))?;
            sync_dir(dir);
            Ok(RestoreReport {
                restored: restored.clone(),
                replaced,
                overridden,
            })
        };

    let result = if journal.exists() {
        (|| {
            let old = open_replaced(journal);
            let old = match old {
                Err(e @ BackupError::JournalInUse { .. }) => return Err(e),
                Err(e) if !force => return Err(e),
                other => other,
            };
            let risk = match &old {
                Ok(conn) => at_risk(conn).map_err(|e| BackupError::JournalUnreadable {
                    journal: shown(journal),
                    why: e.to_string(),
                }),
                Err(_) => Ok(AtRisk::default()),
            };
            let risk = match risk {
                Ok(risk) if !risk.is_empty() && !force => {
                    return Err(BackupError::WouldLoseWork {
                        journal: shown(journal),
                        at_risk: risk,
                    });
                }
                Ok(risk) => risk,
                Err(e) if !force => return Err(e),
                Err(_) => AtRisk::default(),
            };
            let keep = before_restore_name(journal, now);
            match &old {
                // A consistent copy through the journal's own (locked) connection, WAL included.
                Ok(conn) => {
                    if copy_database(conn, &keep).is_err() {
                        copy_raw(journal, &keep)?;
                    }
                }
                Err(_) => copy_raw(journal, &keep)?,
            }
            if let Ok(conn) = &old {
                // Fold the WAL back and leave WAL mode, so no -wal file outlives the swap.
                let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
                let _ = conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()));
            }
            // The lock is still held: the swap happens before anyone else can open the old file.
            let report = swap(Some(keep), risk);
            drop(old);
            report
        })()
    } else {
        swap(None, AtRisk::default())
    };
    if result.is_err() {
        let _ = fs::remove_file(&staged);
    }
    result
}

/// Copies a journal file as it is (and its WAL beside it), for a journal SQLite cannot read.
fn copy_raw(journal: &Path, keep: &Path) -> Result<(), BackupError> {
    fs::copy(journal, keep).map_err(io("copying the journal to", keep))?;
    let wal = sibling(journal, "-wal");
    if wal.exists() {
        let kept_wal = sibling(keep, "-wal");
        fs::copy(&wal, &kept_wal).map_err(io("copying the journal's WAL to", &kept_wal))?;
    }
    for f in [keep.to_path_buf(), sibling(keep, "-wal")] {
        if let Ok(file) = File::open(&f) {
            let _ = file.sync_all();
        }
    }
    sync_dir(parent_of(keep));
    Ok(())
}

/// The name of a scheduled backup taken at `at`: `poscore-YYYYMMDD-HHMMSS.db` (UTC).
pub fn scheduled_name(at: Timestamp) -> String {
    format!("poscore-{}.db", file_stamp(at))
}

/// Reads the time back from a scheduled backup's file name.
pub fn scheduled_time(name: &str) -> Option<Timestamp> {
    let stamp = name.strip_prefix("poscore-")?.strip_suffix(".db")?;
    let b = stamp.as_bytes();
    if b.len() != 15 || b[8] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = &stamp[r];
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (h, mi, s) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some(Timestamp::from_civil(
        y as i32, mo as u8, d as u8, h as u8, mi as u8, s as u8,
    ))
}

/// The scheduled backups in `dir`, newest first.
pub fn scheduled_backups(dir: &Path) -> Result<Vec<(PathBuf, Timestamp)>, BackupError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("listing", dir)(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io("listing", dir))?;
        let name = entry.file_name();
        let Some(at) = name.to_str().and_then(scheduled_time) else {
            continue;
        };
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            found.push((entry.path(), at));
        }
    }
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    Ok(found)
}

/// Deletes all but the newest `keep` scheduled backups in `dir`; returns what it deleted.
/// Other files in the directory are never touched.
pub fn rotate(dir: &Path, keep: u32) -> Result<Vec<PathBuf>, BackupError> {
    let mut removed = Vec::new();
    for (path, _) in scheduled_backups(dir)?.into_iter().skip(keep as usize) {
        remove_if_present(&path)?;
        removed.push(path);
    }
    Ok(removed)
}

/// A scheduled backup: `dir/poscore-YYYYMMDD-HHMMSS.db` at `now` (the directory is created),
/// then the rotation to the newest `keep`.
pub fn scheduled_backup(
    journal: &Journal,
    dir: &Path,
    now: Timestamp,
    keep: u32,
) -> Result<BackupInfo, BackupError> {
    fs::create_dir_all(dir).map_err(io("creating", dir))?;
    let info = backup(journal, &dir.join(scheduled_name(now)))?;
    rotate(dir, keep)?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_names_round_trip() {
        let at = Timestamp::from_civil(2026, 11, 26, 9, 5, 7);
        let name = scheduled_name(at);
        assert_eq!(name, "poscore-20261126-090507.db");
        assert_eq!(scheduled_time(&name), Some(at));
        assert_eq!(scheduled_time("poscore-20261126-090507.db.partial"), None);
        assert_eq!(scheduled_time("poscore-2026112x-090507.db"), None);
        assert_eq!(scheduled_time("other.db"), None);
    }

    #[test]
    fn at_risk_names_at_most_ten() {
        let risk = AtRisk {
            unprinted_slips: (1..=12).map(|n| format!("{n:06} merchant")).collect(),
            ..AtRisk::default()
        };
        let text = risk.to_string();
        assert!(
            text.starts_with("12 unprinted slips (000001 merchant"),
            "{text}"
        );
        assert!(text.ends_with(", …)"), "{text}");
        assert!(risk.zh().contains("12 张未打印的签购单"));
    }
}
