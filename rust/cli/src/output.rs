//! What the CLI prints: outcomes, tables and details, in the operator's language.

use std::fmt::Write;

use poscore::error::zh_state;
use poscore::journal::LogEntry;
use poscore::txn::{PrintJobState, PrintKind, TxnState};
use poscore::{CommandOutcome, Lang, TxnRecord};

/// A transaction state in the operator's language.
pub fn state(state: TxnState, lang: Lang) -> String {
    match lang {
        Lang::Zh => zh_state(state).to_string(),
        Lang::En => state.as_str().to_string(),
    }
}

/// A state with what it means for the cashier, for outcome lines.
fn state_explained(state: TxnState, lang: Lang) -> String {
    match (state, lang) {
        (TxnState::Unknown, Lang::En) => {
            "unknown (answer lost; reversal pending, do not hand over goods)".into()
        }
        (TxnState::Unknown, Lang::Zh) => "结果未知（应答丢失，待冲正，请勿放行）".into(),
        (TxnState::NotSent, Lang::En) => {
            "not sent (nothing reached the host; no money moved)".into()
        }
        (TxnState::NotSent, Lang::Zh) => "未发送（主机未收到，未扣款）".into(),
        (other, lang) => self::state(other, lang),
    }
}

fn kind(record: &TxnRecord, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => record.kind.zh_name(),
        Lang::En => record.kind.en_name(),
    }
}

fn reversal(record: &TxnRecord) -> String {
    match &record.reversal {
        Some(r)
            if !matches!(
                r.state,
                poscore::txn::ReversalState::Disarmed | poscore::txn::ReversalState::Cancelled
            ) =>
        {
            format!("{} ({}, {}x)", r.state, r.reason, r.attempts)
        }
        _ => "-".into(),
    }
}

fn slips(record: &TxnRecord) -> String {
    if record.print_jobs.is_empty() {
        return "-".into();
    }
    let printed = record
        .print_jobs
        .iter()
        .filter(|j| matches!(j.state, PrintJobState::Printed | PrintJobState::Delivered))
        .count();
    format!("{printed}/{}", record.print_jobs.len())
}

/// One line telling how a command ended.
pub fn outcome(outcome: &CommandOutcome, lang: Lang) -> String {
    match (outcome, lang) {
        (CommandOutcome::Transaction(t), Lang::Zh) => format!(
            "{} 凭证号 {} 批次号 {} 金额 {} 卡号 {}：{}{}",
            t.kind.zh_name(),
            t.trace,
            t.batch,
            t.amount,
            t.masked_pan,
            state_explained(t.state, Lang::Zh),
            t.auth_code
                .as_ref()
                .map(|a| format!("，授权码 {a}"))
                .unwrap_or_default()
        ),
        (CommandOutcome::Transaction(t), Lang::En) => format!(
            "{} trace {} batch {} amount {} card {}: {}{}",
            t.kind.en_name(),
            t.trace,
            t.batch,
            t.amount,
            t.masked_pan,
            state_explained(t.state, Lang::En),
            t.auth_code
                .as_ref()
                .map(|a| format!(", auth code {a}"))
                .unwrap_or_default()
        ),
        (CommandOutcome::Settled(s), Lang::Zh) => format!(
            "批次 {} 结算完成（{}）：完成交易 {} 笔，金额 {} 分；新批次 {}",
            s.batch,
            if s.balanced {
                "对账平".to_string()
            } else {
                format!("对账不平，已批上送 {} 笔", s.uploaded)
            },
            s.totals.count,
            s.totals.amount_minor,
            s.next_batch
        ),
        (CommandOutcome::Settled(s), Lang::En) => format!(
            "batch {} settled ({}): {} completions, {} minor units; new batch {}",
            s.batch,
            if s.balanced {
                "balanced".to_string()
            } else {
                format!("unbalanced, {} records uploaded", s.uploaded)
            },
            s.totals.count,
            s.totals.amount_minor,
            s.next_batch
        ),
        (CommandOutcome::SettlementSlipQueued { batch }, Lang::Zh) => {
            format!("批次 {batch} 的结算单已送打印")
        }
        (CommandOutcome::SettlementSlipQueued { batch }, Lang::En) => {
            format!("the settlement slip of batch {batch} is queued for the printer")
        }
        (CommandOutcome::ReversalRequeued(t), Lang::Zh) => {
            format!("凭证号 {} 的冲正已重新排队：{}", t.trace, reversal(t))
        }
        (CommandOutcome::ReversalRequeued(t), Lang::En) => {
            format!(
                "reversal of trace {} queued again: {}",
                t.trace,
                reversal(t)
            )
        }
        (CommandOutcome::SignedOn, Lang::Zh) => "签到成功".into(),
        (CommandOutcome::SignedOn, Lang::En) => "signed on".into(),
        (CommandOutcome::PrintingResumed { jobs }, Lang::Zh) => {
            format!("继续打印：{jobs} 张暂停的签购单重新排队")
        }
        (CommandOutcome::PrintingResumed { jobs }, Lang::En) => {
            format!("printing resumed: {jobs} held slips queued again")
        }
    }
}

/// One line telling which reprint was queued (the outcome of `Command::Reprint`).
pub fn reprint_outcome(outcome: &CommandOutcome, lang: Lang) -> String {
    let CommandOutcome::Transaction(t) = outcome else {
        return self::outcome(outcome, lang);
    };
    let Some(job) = t
        .print_jobs
        .iter()
        .rev()
        .find(|j| j.kind == PrintKind::Reprint)
    else {
        return self::outcome(outcome, lang);
    };
    match lang {
        Lang::Zh => {
            format!(
                "重打印已排队：凭证号 {} {}（{}）",
                t.trace,
                crate::progress::copy_name(job.copy, lang),
                t.kind.zh_name()
            )
        }
        Lang::En => format!(
            "reprint queued: {} copy of trace {} ({})",
            job.copy,
            t.trace,
            t.kind.en_name()
        ),
    }
}

/// A table of print jobs: one row per slip of each transaction, with its copy, kind, state,
/// delivery and the reasons it was held (`held` gives them by job id).
pub fn print_jobs_table(
    records: &[TxnRecord],
    held: &std::collections::BTreeMap<i64, Vec<String>>,
    lang: Lang,
) -> String {
    let header = match lang {
        Lang::Zh => ["凭证号", "联", "类型", "状态", "交付", "暂停原因"],
        Lang::En => ["trace", "copy", "kind", "state", "delivered", "held"],
    };
    let rows: Vec<[String; 6]> = records
        .iter()
        .flat_map(|t| t.print_jobs.iter().map(move |j| (t, j)))
        .map(|(t, j)| {
            let kind = match (j.kind, lang) {
                (PrintKind::Reprint, Lang::Zh) => "重打印".to_string(),
                (PrintKind::Original, Lang::Zh) => "原始".to_string(),
                (kind, Lang::En) => kind.as_str().to_string(),
            };
            [
                t.trace.to_string(),
                crate::progress::copy_name(j.copy, lang),
                kind,
                crate::inspect::job_state(j.state, lang).to_string(),
                j.delivered
                    .map(|d| match (d, lang) {
                        (poscore::txn::Delivery::Paper, Lang::Zh) => "纸质".to_string(),
                        (poscore::txn::Delivery::Electronic, Lang::Zh) => "电子".to_string(),
                        (d, Lang::En) => d.as_str().to_string(),
                    })
                    .unwrap_or_else(|| "-".into()),
                held.get(&j.id)
                    .filter(|r| !r.is_empty())
                    .map(|r| r.join(","))
                    .or_else(|| j.held_reason.clone())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    grid(&header, &rows)
}

/// A table of transactions.
pub fn table(records: &[TxnRecord], lang: Lang) -> String {
    let header = match lang {
        Lang::Zh => [
            "凭证号",
            "批次号",
            "类型",
            "金额",
            "卡号",
            "状态",
            "授权码",
            "原凭证号",
            "冲正",
            "签购单",
        ],
        Lang::En => [
            "trace", "batch", "kind", "amount", "card", "state", "auth", "original", "reversal",
            "slips",
        ],
    };
    let rows: Vec<[String; 10]> = records
        .iter()
        .map(|t| {
            [
                t.trace.to_string(),
                t.batch.to_string(),
                kind(t, lang).to_string(),
                t.amount.to_string(),
                t.masked_pan.to_string(),
                state(t.state, lang),
                t.auth_code.clone().unwrap_or_else(|| "-".into()),
                t.original_trace
                    .map(|o| o.to_string())
                    .unwrap_or_else(|| "-".into()),
                reversal(t),
                slips(t),
            ]
        })
        .collect();
    grid(&header, &rows)
}

/// Columns padded to their widest cell, separated by two spaces.
fn grid<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| display_width(&r[i]))
            .chain([display_width(header[i])])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..N).map(width).collect();
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - display_width(c))))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// Columns a string takes in a terminal: CJK characters take two.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

/// One transaction with its history.
pub fn details(record: &TxnRecord, history: &[LogEntry], lang: Lang) -> String {
    let mut out = table(std::slice::from_ref(record), lang);
    let _ = writeln!(out, "request id: {}", record.request_id);
    let _ = writeln!(out, "rrn: {}", record.rrn.as_deref().unwrap_or("-"));
    let _ = writeln!(
        out,
        "{}",
        if lang == Lang::Zh {
            "状态记录："
        } else {
            "history:"
        }
    );
    for e in history {
        let _ = writeln!(
            out,
            "  {}  {:<11} {:>9} -> {:<9} {}",
            e.at,
            e.entity,
            e.from.as_deref().unwrap_or(""),
            e.to,
            e.cause
        );
    }
    out
}
