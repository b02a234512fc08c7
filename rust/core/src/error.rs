//! The errors the engine gives: [`CommandError`] when a cashier's command is refused by a
//! rule (nothing happened, nothing is lost), and [`JournalError`] when storage fails.
//!
//! Each says what failed, why, and what to do, in Chinese and English ([`Bilingual`]).

use crate::card::CardError;
use crate::ids::{IdError, TraceNumber};
use crate::lang::Bilingual;
use crate::money::AmountError;
use crate::txn::{TxnKind, TxnState};

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// SQLite refused an operation.
    #[error(
        "journal error while {action}: {source}; check free storage, then restart the terminal app"
    )]
    Sqlite {
        /// What the journal was doing.
        action: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// Another process holds the journal.
    #[error("the journal {path} is in use by another poscore process; close it first")]
    InUse {
        /// The journal's path.
        path: String,
    },
    /// The file was written by a newer poscore.
    #[error(
        "the journal was written by a newer poscore (schema version {found}; this app knows up to {supported}) and was left untouched; update the app to the newest version, do not downgrade it and do not delete the journal"
    )]
    SchemaTooNew {
        /// The file's version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The journal is damaged: a stored value makes no sense (a corrupt or hand-edited
    /// journal), or the file itself is not a SQLite database, is cut short or fails SQLite's
    /// `quick_check` (then `what` names the file). A damaged journal is never replaced by a
    /// new empty one.
    #[error(
        "the journal is damaged ({what}); it was left untouched and the terminal takes no transaction. Keep the file, restore the last backup (poscore restore), or call support with the file"
    )]
    Corrupt {
        /// What was unreadable.
        what: String,
    },
    /// The storage is full: SQLite could not grow the journal (`SQLITE_FULL`). The SQL
    /// transaction was rolled back whole, so everything committed before it is intact.
    #[error(
        "the journal could not be written while {action}: the storage is full. Nothing committed before is lost and this step was not taken (no new transaction is accepted until the journal can be written); free storage space (delete unneeded files or apps), then restart the terminal app"
    )]
    DiskFull {
        /// What the journal was doing.
        action: &'static str,
    },
    /// The journal file, its folder or its storage cannot be written (`SQLITE_READONLY`, a
    /// write-protected file, a read-only mount). The file is left as it is.
    #[error(
        "the journal {path} cannot be written ({why}); the terminal takes no transaction it cannot record. Make the file and its folder writable by the app (check the storage is not mounted read-only), then restart the terminal app"
    )]
    ReadOnly {
        /// The journal's path.
        path: String,
        /// What was found.
        why: String,
    },
    /// The journal file could not be created or read by the operating system.
    #[error(
        "the journal {path} could not be used while {action}: {source}; check the storage and its free space, then restart the terminal app"
    )]
    Io {
        /// What the journal was doing.
        action: &'static str,
        /// The file concerned.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An earlier storage error left the engine unsure of its state.
    #[error(
        "an earlier journal error stopped the engine, and it takes no transaction until restarted; fix what that error said (free storage space, make the journal writable, or restore a backup), then restart the terminal app to recover everything committed from the journal"
    )]
    Poisoned,
}

impl JournalError {
    /// Wraps a SQLite error with what the journal was doing.
    ///
    /// A full storage (`SQLITE_FULL`) becomes [`JournalError::DiskFull`] wherever it happens.
    pub(crate) fn sqlite(action: &'static str) -> impl FnOnce(rusqlite::Error) -> JournalError {
        move |source| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => JournalError::DiskFull { action },
            _ => JournalError::Sqlite { action, source },
        }
    }

    /// Names the journal file in a SQLite error where that is what the operator needs: a
    /// write-protected journal becomes [`JournalError::ReadOnly`], a damaged one
    /// [`JournalError::Corrupt`] naming the file. Other errors are returned as they are.
    pub(crate) fn at(self, path: &std::path::Path) -> JournalError {
        use rusqlite::ErrorCode;
        let JournalError::Sqlite { action, source } = self else {
            return self;
        };
        let path = path.display().to_string();
        match source.sqlite_error_code() {
            Some(ErrorCode::ReadOnly) => JournalError::ReadOnly {
                path,
                why: format!("SQLite refused to write while {action}: {source}"),
            },
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => JournalError::Corrupt {
                what: format!("{path}: SQLite, while {action}: {source}"),
            },
            _ => JournalError::Sqlite { action, source },
        }
    }
}

impl Bilingual for JournalError {
    fn code(&self) -> &'static str {
        match self {
            JournalError::Sqlite { .. } => "JOURNAL_SQLITE",
            JournalError::InUse { .. } => "JOURNAL_IN_USE",
            JournalError::SchemaTooNew { .. } => "JOURNAL_SCHEMA_TOO_NEW",
            JournalError::Corrupt { .. } => "JOURNAL_CORRUPT",
            JournalError::DiskFull { .. } => "JOURNAL_DISK_FULL",
            JournalError::ReadOnly { .. } => "JOURNAL_READ_ONLY",
            JournalError::Io { .. } => "JOURNAL_IO",
            JournalError::Poisoned => "JOURNAL_POISONED",
        }
    }
    fn zh(&self) -> String {
        match self {
            JournalError::Sqlite { action, source } => {
                format!("交易日志出错（{action}：{source}）：请检查存储空间，然后重启应用")
            }
            JournalError::InUse { path } => {
                format!("交易日志 {path} 正被另一个 poscore 进程使用：请先关闭它")
            }
            JournalError::SchemaTooNew { found, supported } => {
                format!(
                    "交易日志由更新版本的程序写入（版本 {found}，本程序最高支持 {supported}），文件未被改动：请将应用升级到最新版本，不要降级，也不要删除交易日志"
                )
            }
            JournalError::Corrupt { what } => {
                format!(
                    "交易日志已损坏（{what}）：文件未被改动，终端不接受交易。请保留该文件，恢复最近的备份（poscore restore），或携带该文件联系客服"
                )
            }
            JournalError::DiskFull { action } => format!(
                "存储空间已满，交易日志无法写入（{action}）：之前已记录的数据不会丢失，本步骤未执行，在能写入日志之前不接受新交易。请清理存储空间（删除不需要的文件或应用），然后重启应用"
            ),
            JournalError::ReadOnly { path, why } => format!(
                "交易日志 {path} 无法写入（{why}）：终端不做无法记录的交易。请让应用可以写入该文件及其所在目录（检查存储是否被只读挂载），然后重启应用"
            ),
            JournalError::Io { action, path, source } => format!(
                "交易日志 {path} 无法使用（{action}：{source}）：请检查存储及剩余空间，然后重启应用"
            ),
            JournalError::Poisoned => {
                "之前的交易日志错误使引擎停止，重启前不接受任何交易：请先按该错误的提示处理（清理存储空间、使日志可写或恢复备份），然后重启应用，已记录的数据将从交易日志恢复".into()
            }
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

/// Why a cashier's command was refused. Nothing was sent and nothing is lost.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The amount was refused.
    #[error(transparent)]
    Amount(#[from] AmountError),
    /// The card data was refused.
    #[error(transparent)]
    Card(#[from] CardError),
    /// An identifier was refused.
    #[error(transparent)]
    Id(#[from] IdError),
    /// The request id was used before for a different command.
    #[error(
        "request id {request_id} was already used for a different transaction (trace {trace}); use a new request id"
    )]
    RequestIdConflict {
        /// The request id.
        request_id: String,
        /// The transaction it belongs to.
        trace: TraceNumber,
    },
    /// No transaction has that trace number.
    #[error(
        "no transaction with trace number {trace} is in this terminal's journal; check the slip's 凭证号"
    )]
    OriginalNotFound {
        /// The trace asked for.
        trace: TraceNumber,
    },
    /// The trace belongs to the wrong kind of transaction.
    #[error("trace {trace} is a {found}, not a {expected}; {hint}")]
    WrongOriginalKind {
        /// The trace.
        trace: TraceNumber,
        /// What it is.
        found: TxnKind,
        /// What the command needs.
        expected: TxnKind,
        /// What to do instead.
        hint: &'static str,
    },
    /// The original is not in a state the command accepts.
    #[error("trace {trace} is {state}, so it cannot be {action}; only approved transactions can")]
    OriginalNotApproved {
        /// The trace.
        trace: TraceNumber,
        /// Its state.
        state: TxnState,
        /// What was attempted ("voided", "completed").
        action: &'static str,
    },
    /// The original was voided already.
    #[error("trace {trace} was already voided; nothing more to do")]
    AlreadyVoided {
        /// The trace.
        trace: TraceNumber,
    },
    /// The pre-auth was completed already.
    #[error("pre-auth {trace} was already completed; void the completion first to change it")]
    AlreadyCompleted {
        /// The trace.
        trace: TraceNumber,
    },
    /// A void or completion of this original is in progress or its outcome is uncertain.
    #[error(
        "another {kind} of trace {trace} (trace {other}) is {state}; wait for it to finish or its reversal to complete"
    )]
    OriginalBusy {
        /// The original's trace.
        trace: TraceNumber,
        /// The other transaction's trace.
        other: TraceNumber,
        /// The other transaction's kind.
        kind: TxnKind,
        /// The other transaction's state.
        state: TxnState,
    },
    /// The pre-auth is past its completion window.
    #[error(
        "pre-auth {trace} is older than {days} days and can no longer be completed; ask the acquirer about a late completion"
    )]
    PreAuthExpired {
        /// The trace.
        trace: TraceNumber,
        /// The window in days.
        days: u32,
    },
    /// The completion is over the allowed share of the pre-auth.
    #[error(
        "completion of {requested} is over the limit of {max} ({percent}% of the pre-auth); complete for less or take a new pre-auth"
    )]
    CompletionOverLimit {
        /// The amount asked for.
        requested: String,
        /// The most allowed.
        max: String,
        /// The limit in percent.
        percent: u32,
    },
    /// The amount's currency is not the terminal's.
    #[error("the amount is in {given} but this terminal works in {expected}")]
    CurrencyMismatch {
        /// The amount's currency.
        given: String,
        /// The terminal's currency.
        expected: String,
    },
    /// The completion was settled already.
    #[error(
        "trace {trace} was settled in batch {batch} and can no longer be voided; refund it instead"
    )]
    AlreadySettled {
        /// The trace.
        trace: TraceNumber,
        /// Its batch.
        batch: String,
    },
    /// The host could not be reached; nothing was sent.
    #[error(
        "the host cannot be reached ({why}); nothing was sent. Check the network and try again"
    )]
    HostUnreachable {
        /// What was being attempted.
        why: String,
    },
    /// Sign-on was refused.
    #[error("sign-on was refused by the host (code {code}); call the acquirer's help desk")]
    SignOnFailed {
        /// The host's response code.
        code: String,
    },
    /// Nothing to retry for that trace.
    #[error("trace {trace} has no failed reversal to retry")]
    NothingToRetry {
        /// The trace.
        trace: TraceNumber,
    },
    /// Settlement did not go through.
    #[error("settlement did not finish: {why}; the batch stays open, try settling again")]
    SettlementFailed {
        /// Why.
        why: String,
    },
    /// The batch holds 999,999 transactions.
    #[error("batch {batch} is full; settle before taking another transaction")]
    BatchFull {
        /// The batch.
        batch: String,
    },
    /// Nothing to reprint: no slip was printed yet, or the transaction has no slips.
    #[error("{what} has no slip to print again; only approved transactions have slips")]
    NothingToReprint {
        /// What was asked for ("trace 000123", "the last slip").
        what: String,
    },
    /// No settled batch to print a settlement slip for.
    #[error(
        "{what} has not been settled, so it has no settlement slip; settle first, or name a settled batch"
    )]
    NoSettledBatch {
        /// What was asked for ("batch 000007", "the last settled batch").
        what: String,
    },
    /// No slip of that transaction is waiting to be delivered.
    #[error(
        "trace {trace} has no slip waiting for the printer; its slips are printed or delivered already (reprint it instead)"
    )]
    NothingToDeliver {
        /// The trace.
        trace: TraceNumber,
    },
    /// The signature was refused.
    #[error("the signature cannot be stored: {why}; ask the cardholder to sign again")]
    BadSignature {
        /// What is wrong.
        why: String,
    },
    /// The journal failed while handling the command.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl Bilingual for CommandError {
    fn code(&self) -> &'static str {
        match self {
            CommandError::Amount(e) => e.code(),
            CommandError::Card(e) => e.code(),
            CommandError::Id(e) => e.code(),
            CommandError::RequestIdConflict { .. } => "REQUEST_ID_CONFLICT",
            CommandError::OriginalNotFound { .. } => "ORIGINAL_NOT_FOUND",
            CommandError::WrongOriginalKind { .. } => "WRONG_ORIGINAL_KIND",
            CommandError::OriginalNotApproved { .. } => "ORIGINAL_NOT_APPROVED",
            CommandError::AlreadyVoided { .. } => "ALREADY_VOIDED",
            CommandError::AlreadyCompleted { .. } => "ALREADY_COMPLETED",
            CommandError::OriginalBusy { .. } => "ORIGINAL_BUSY",
            CommandError::PreAuthExpired { .. } => "PREAUTH_EXPIRED",
            CommandError::CompletionOverLimit { .. } => "COMPLETION_OVER_LIMIT",
            CommandError::CurrencyMismatch { .. } => "CURRENCY_MISMATCH",
            CommandError::AlreadySettled { .. } => "ALREADY_SETTLED",
            CommandError::HostUnreachable { .. } => "HOST_UNREACHABLE",
            CommandError::SignOnFailed { .. } => "SIGN_ON_FAILED",
            CommandError::NothingToRetry { .. } => "NOTHING_TO_RETRY",
            CommandError::SettlementFailed { .. } => "SETTLEMENT_FAILED",
            CommandError::BatchFull { .. } => "BATCH_FULL",
            CommandError::NothingToReprint { .. } => "NOTHING_TO_REPRINT",
            CommandError::NothingToDeliver { .. } => "NOTHING_TO_DELIVER",
            CommandError::NoSettledBatch { .. } => "NO_SETTLED_BATCH",
            CommandError::BadSignature { .. } => "BAD_SIGNATURE",
            CommandError::Journal(e) => e.code(),
        }
    }

    fn zh(&self) -> String {
        match self {
            CommandError::Amount(e) => e.zh(),
            CommandError::Card(e) => e.zh(),
            CommandError::Id(e) => e.zh(),
            CommandError::RequestIdConflict { request_id, trace } => {
                format!("请求号 {request_id} 已用于另一笔交易（凭证号 {trace}）：请使用新的请求号")
            }
            CommandError::OriginalNotFound { trace } => {
                format!("本终端交易日志中没有凭证号 {trace} 的交易：请核对签购单上的凭证号")
            }
            CommandError::WrongOriginalKind {
                trace,
                found,
                expected,
                ..
            } => {
                format!(
                    "凭证号 {trace} 是{}，不是{}：请选择正确的交易类型",
                    found.zh_name(),
                    expected.zh_name()
                )
            }
            CommandError::OriginalNotApproved { trace, state, .. } => {
                format!(
                    "凭证号 {trace} 的状态是 {}，不能进行此操作：只有成功的交易可以",
                    zh_state(*state)
                )
            }
            CommandError::AlreadyVoided { trace } => format!("凭证号 {trace} 已撤销，无需再做"),
            CommandError::AlreadyCompleted { trace } => {
                format!("预授权 {trace} 已完成：如需修改请先撤销该完成交易")
            }
            CommandError::OriginalBusy {
                trace,
                other,
                kind,
                state,
            } => {
                format!(
                    "凭证号 {trace} 的另一笔{}（凭证号 {other}）状态为 {}：请等待其结束或冲正完成",
                    kind.zh_name(),
                    zh_state(*state)
                )
            }
            CommandError::PreAuthExpired { trace, days } => {
                format!("预授权 {trace} 已超过 {days} 天，不能再完成：请联系收单机构办理延期完成")
            }
            CommandError::CompletionOverLimit {
                requested,
                max,
                percent,
            } => {
                format!(
                    "完成金额 {requested} 超过上限 {max}（预授权金额的 {percent}%）：请减少金额或重新做预授权"
                )
            }
            CommandError::CurrencyMismatch { given, expected } => {
                format!("金额币种为 {given}，本终端使用 {expected}")
            }
            CommandError::AlreadySettled { trace, batch } => {
                format!("凭证号 {trace} 已在批次 {batch} 结算，不能撤销：请做退货")
            }
            CommandError::HostUnreachable { why } => {
                format!("无法连接主机（{why}），未发送任何交易：请检查网络后重试")
            }
            CommandError::SignOnFailed { code } => {
                format!("签到被主机拒绝（应答码 {code}）：请联系收单机构")
            }
            CommandError::NothingToRetry { trace } => {
                format!("凭证号 {trace} 没有失败的冲正需要重试")
            }
            CommandError::SettlementFailed { why } => {
                format!("结算未完成（{why}）：批次保持打开，请重新结算")
            }
            CommandError::BatchFull { batch } => format!("批次 {batch} 已满：请先结算"),
            CommandError::NothingToReprint { what } => {
                format!("{what} 没有可重打印的签购单：只有成功的交易才有签购单")
            }
            CommandError::NoSettledBatch { what } => {
                format!("{what}尚未结算，没有结算单：请先结算，或指定已结算的批次")
            }
            CommandError::NothingToDeliver { trace } => {
                format!(
                    "凭证号 {trace} 没有等待打印的签购单：已打印或已发送电子签购单（如需请重打印）"
                )
            }
            CommandError::BadSignature { why } => {
                format!("签名无法保存（{why}）：请持卡人重新签名")
            }
            CommandError::Journal(e) => e.zh(),
        }
    }

    fn en(&self) -> String {
        self.to_string()
    }
}

/// The Chinese word for a transaction state, for operator messages.
pub fn zh_state(state: TxnState) -> &'static str {
    match state {
        TxnState::Queued => "排队中",
        TxnState::Sending => "发送中",
        TxnState::Approved => "成功",
        TxnState::Declined => "被拒绝",
        TxnState::NotSent => "未发送",
        TxnState::Unknown => "结果未知（待冲正）",
        TxnState::Reversed => "已冲正",
        TxnState::Voided => "已撤销",
        TxnState::Completed => "已完成",
    }
}
