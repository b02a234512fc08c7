//! Reading the journal for people: why a transaction's slips are not (yet) printed
//! ([`Journal::diagnose`], sorted into the five causes of DESIGN.md with the remedy in
//! Chinese and English), and the printer's maintenance figures ([`Journal::printer_health`]).

use rusqlite::params;

use super::{Journal, LogEntry, TEAR_OFF};
use crate::error::JournalError;
use crate::ids::TraceNumber;
use crate::print::{Cause, Condition};
use crate::record::TxnRecord;
use crate::txn::{PrintJobState, PrintKind, ReversalState, SlipCopy, TxnState};

/// Why something is waiting, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which of the five causes.
    pub cause: Cause,
    /// What the journal shows, in English.
    pub detail: String,
    /// What to do, in Chinese.
    pub remedy_zh: String,
    /// What to do, in English.
    pub remedy_en: String,
}

impl Finding {
    fn new(cause: Cause, detail: impl Into<String>, zh: &str, en: &str) -> Finding {
        Finding {
            cause,
            detail: detail.into(),
            remedy_zh: zh.to_string(),
            remedy_en: en.to_string(),
        }
    }
}

/// One slip copy of a diagnosed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipDiagnosis {
    /// The job's id.
    pub job_id: i64,
    /// Which copy.
    pub copy: SlipCopy,
    /// Original or reprint.
    pub kind: PrintKind,
    /// Its state.
    pub state: PrintJobState,
    /// Why it is not printed yet; `None` when it is printed or delivered, or printing now.
    pub finding: Option<Finding>,
}

/// A transaction's story: its timeline and why each slip is where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The transaction.
    pub txn: TxnRecord,
    /// Every event of it, oldest first.
    pub timeline: Vec<LogEntry>,
    /// Why it has no slips yet (not approved, outcome unknown); `None` when it has them or
    /// needs none (declined, reversed).
    pub no_slip: Option<Finding>,
    /// Each slip copy.
    pub slips: Vec<SlipDiagnosis>,
}

/// The printer's maintenance figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterHealth {
    /// Paper printed since the journal began, in mm.
    pub printed_mm: u64,
    /// Slips printed (confirmed).
    pub jobs_printed: u64,
    /// Reprints asked for or made (uncertain attempts, paper copies of e-receipts).
    pub reprints: u64,
    /// Paper rolls changed (a paper-out hold released).
    pub paper_changes: u64,
    /// Paper printed since the last paper change, in mm.
    pub mm_since_paper_change: u64,
    /// The configured roll length, in mm.
    pub roll_length_mm: u32,
    /// The forecast of paper left on the roll, in mm (never below 0).
    pub paper_left_mm: u64,
    /// About how many more slips the roll holds, at the average length so far.
    pub slips_left: Option<u64>,
    /// Whether to have a new roll ready (less than 10 % or 10 slips left).
    pub paper_low: bool,
    /// Faults by condition code, most frequent first.
    pub faults: Vec<(String, u64)>,
    /// Slips not yet printed or delivered.
    pub waiting: u64,
    /// Why printing is held now, if it is.
    pub held_reason: Option<String>,
}

impl Journal {
    /// The diagnosis of the transaction with this trace (the newest, when a trace was reused
    /// after wrapping), or `None` when there is none.
    pub fn diagnose(&self, trace: TraceNumber) -> Result<Option<Diagnosis>, JournalError> {
        let Some(txn) = self.find_by_trace(trace)? else {
            return Ok(None);
        };
        let timeline = self.events_of(txn.id)?;
        let no_slip = if txn.print_jobs.is_empty() {
            why_no_slip(&txn)
        } else {
            None
        };
        let mut slips = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, last_condition, uncertain FROM print_jobs WHERE txn_id = ?1 ORDER BY id")
            .map_err(JournalError::sqlite("reading slips"))?;
        let extra: Vec<(i64, Option<String>, bool)> = stmt
            .query_map(params![txn.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(JournalError::sqlite("reading slips"))?
            .collect::<Result<_, _>>()
            .map_err(JournalError::sqlite("reading slips"))?;
        for job in &txn.print_jobs {
            let (last_condition, uncertain) = extra
                .iter()
                .find(|(id, _, _)| *id == job.id)
                .map(|(_, c, u)| (c.clone(), *u))
                .unwrap_or((None, false));
            let finding = match job.state {
                PrintJobState::Printed | PrintJobState::Delivered | PrintJobState::Sending => None,
                PrintJobState::Held => Some(held_finding(job.held_reason.as_deref().unwrap_or(""))),
                PrintJobState::Queued => queued_finding(
                    last_condition.as_deref(),
                    uncertain,
                    job.last_error.as_deref(),
                ),
            };
            slips.push(SlipDiagnosis {
                job_id: job.id,
                copy: job.copy,
                kind: job.kind,
                state: job.state,
                finding,
            });
        }
        Ok(Some(Diagnosis {
            txn,
            timeline,
            no_slip,
            slips,
        }))
    }

    /// The printer's maintenance figures, with the paper forecast for a roll of
    /// `roll_length_mm`.
    pub fn printer_health(&self, roll_length_mm: u32) -> Result<PrinterHealth, JournalError> {
        let counter = |name: &str| -> Result<u64, JournalError> {
            self.conn
                .query_row(
                    "SELECT COALESCE((SELECT value FROM counters WHERE name = ?1), 0)",
                    [name],
                    |r| r.get::<_, i64>(0),
                )
                .map(|v| v.max(0) as u64)
                .map_err(JournalError::sqlite("reading the printer counters"))
        };
        let printed_mm = counter("printer_mm")?;
        let jobs_printed = counter("printer_jobs")?;
        let mm_since_paper_change = counter("mm_since_paper_change")?;
        let paper_left_mm = u64::from(roll_length_mm).saturating_sub(mm_since_paper_change);
        let slips_left =
            (jobs_printed > 0 && printed_mm > 0).then(|| paper_left_mm * jobs_printed / printed_mm);
        let paper_low =
            paper_left_mm * 10 < u64::from(roll_length_mm) || slips_left.is_some_and(|n| n < 10);
        let mut faults: Vec<(String, u64)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT substr(name, 7), value FROM counters WHERE name LIKE 'fault:%' AND value > 0")
                .map_err(JournalError::sqlite("reading the printer counters"))?;
            stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })
            .map_err(JournalError::sqlite("reading the printer counters"))?
            .collect::<Result<_, _>>()
            .map_err(JournalError::sqlite("reading the printer counters"))?
        };
        faults.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let waiting = self
            .conn
            .query_row(
                "SELECT count(*) FROM print_jobs WHERE state IN ('queued', 'sending', 'held')",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(JournalError::sqlite("counting slips"))? as u64;
        let held_reason = self
            .conn
            .query_row(super::queries::HELD_JOBS, [], |r| {
                r.get::<_, Option<String>>(2)
            })
            .map(Option::unwrap_or_default)
            .ok();
        Ok(PrinterHealth {
            printed_mm,
            jobs_printed,
            reprints: counter("reprints")?,
            paper_changes: counter("paper_changes")?,
            mm_since_paper_change,
            roll_length_mm,
            paper_left_mm,
            slips_left,
            paper_low,
            faults,
            waiting,
            held_reason,
        })
    }
}

fn why_no_slip(txn: &TxnRecord) -> Option<Finding> {
    let reversal_pending = txn
        .reversal
        .as_ref()
        .is_some_and(|r| matches!(r.state, ReversalState::Pending | ReversalState::Failed));
    match txn.state {
        TxnState::Unknown
            if txn
                .reversal
                .as_ref()
                .is_some_and(|r| r.state == ReversalState::Failed) =>
        {
            Some(findings::reversal_failed())
        }
        TxnState::Unknown | TxnState::Sending
            if reversal_pending || txn.state == TxnState::Unknown =>
        {
            Some(findings::answer_lost())
        }
        TxnState::Sending => Some(findings::waiting_for_host()),
        TxnState::Queued | TxnState::NotSent => Some(findings::not_sent()),
        _ => None,
    }
}

fn held_finding(reason: &str) -> Finding {
    if reason == TEAR_OFF {
        return findings::tear_off();
    }
    let condition = Condition::from_code(reason).unwrap_or(Condition::Unknown);
    findings::printer(
        condition,
        format!("held: the printer reported {}", condition.code()),
    )
}

fn queued_finding(
    last_condition: Option<&str>,
    uncertain: bool,
    last_error: Option<&str>,
) -> Option<Finding> {
    match last_condition {
        None => None,
        Some("restart") => Some(findings::app_restarted()),
        Some(code) => {
            let condition = Condition::from_code(code).unwrap_or(Condition::Unknown);
            let uncertain = if uncertain {
                "; the last attempt may have printed, so the next one is marked REPRINT"
            } else {
                ""
            };
            Some(findings::printer(
                condition,
                format!(
                    "retrying after {}: {}{uncertain}",
                    condition.code(),
                    last_error.unwrap_or("")
                ),
            ))
        }
    }
}

/// The findings the diagnosis can give, one constructor each: the runbook
/// ([`crate::runbook`]) lists the same ones, so the two never drift apart.
pub mod findings {
    use super::Finding;
    use crate::print::{Cause, Condition};

    /// The host may have approved, the answer never arrived: being reversed.
    pub fn answer_lost() -> Finding {
        Finding::new(
            Cause::Sync,
            "the host may have approved it, but the terminal never saw the answer; it is being reversed",
            "主机可能已批准但终端未收到应答：正在自动冲正，冲正完成前不打印签购单；请勿重复刷卡，稍后查看结果",
            "the host may have approved it but the answer never arrived: it is being reversed automatically and no slip prints until then; do not swipe again, check back shortly",
        )
    }

    /// The reversal of a lost answer ran out of retries: the operator retries it.
    pub fn reversal_failed() -> Finding {
        Finding::new(
            Cause::Sync,
            "the answer was lost and its reversal ran out of retries; it is kept for the operator",
            "主机应答丢失且自动冲正多次失败：请检查网络后执行“重发冲正”（retry-reversal），冲正成功前持卡人资金可能被冻结；如仍失败请联系收单机构",
            "the answer was lost and its reversal kept failing: check the network, then retry the reversal (retry-reversal); the cardholder's funds may be held until it succeeds; if it still fails, call the acquirer",
        )
    }

    /// The request is with the host.
    pub fn waiting_for_host() -> Finding {
        Finding::new(
            Cause::Network,
            "the request is with the host; waiting for its answer",
            "交易正在等待主机应答：请稍候",
            "waiting for the host's answer: please wait",
        )
    }

    /// The request never reached the host.
    pub fn not_sent() -> Finding {
        Finding::new(
            Cause::Network,
            "the request never reached the host (no network or the host was unreachable)",
            "交易未发送到主机（网络不通或主机无法连接），持卡人未被扣款：请检查网络后重新交易",
            "the request never reached the host (network down or host unreachable) and the card was not charged: check the network and do the transaction again",
        )
    }

    /// Printing waits for the operator to tear the previous copy off.
    pub fn tear_off() -> Finding {
        Finding::new(
            Cause::Operator,
            "waiting for the operator to tear the previous copy off",
            "请撕下上一联签购单，然后按“继续打印”",
            "tear the previous copy off, then press Continue printing",
        )
    }

    /// The app restarted while a slip was printing.
    pub fn app_restarted() -> Finding {
        Finding::new(
            Cause::Software,
            "the app restarted while this slip was printing; it prints again marked REPRINT",
            "打印时应用重启：签购单将自动补打，并标注“重打印”",
            "the app restarted while printing: the slip prints again by itself, marked REPRINT",
        )
    }

    /// The printer reported `condition`; `detail` says what the journal shows.
    pub fn printer(condition: Condition, detail: String) -> Finding {
        let (zh, en) = condition.remedy();
        Finding::new(Cause::PrinterHardware, detail, zh, en)
    }
}
