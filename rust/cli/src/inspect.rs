//! Reading the journal about slips: `diagnose TRACE` (why a transaction's slips are or are
//! not printed, with the cause and the remedy) and `printer-health` (the maintenance
//! figures and the paper forecast).

use std::fmt::Write;
use std::path::Path;

use poscore::journal::{Diagnosis, Finding, PrinterHealth};
use poscore::txn::PrintJobState;
use poscore::{CommandError, Lang};
use serde_json::json;

use crate::commands::parse_trace;
use crate::progress::copy_name;
use crate::session::{self, describe};
use crate::{Failure, output};

/// A print job's state in the operator's language.
pub fn job_state(state: PrintJobState, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => match state {
            PrintJobState::Queued => "排队中",
            PrintJobState::Sending => "打印中",
            PrintJobState::Printed => "已打印",
            PrintJobState::Held => "暂停",
            PrintJobState::Delivered => "已发电子签购单",
        },
        Lang::En => state.as_str(),
    }
}

fn finding_lines(finding: &Finding, indent: &str, lang: Lang, out: &mut String) {
    let (cause_zh, cause_en) = finding.cause.describe();
    match lang {
        Lang::Zh => {
            let _ = writeln!(out, "{indent}原因：{cause_zh} [{}]", finding.cause.code());
            let _ = writeln!(out, "{indent}情况：{}", finding.detail);
            let _ = writeln!(out, "{indent}处理：{}", finding.remedy_zh);
        }
        Lang::En => {
            let _ = writeln!(out, "{indent}cause: {cause_en} [{}]", finding.cause.code());
            let _ = writeln!(out, "{indent}detail: {}", finding.detail);
            let _ = writeln!(out, "{indent}remedy: {}", finding.remedy_en);
        }
    }
}

/// A diagnosis as text: the transaction, its timeline, each slip with its finding.
pub fn diagnosis_text(d: &Diagnosis, lang: Lang) -> String {
    let mut out = output::table(std::slice::from_ref(&d.txn), lang);
    let _ = writeln!(
        out,
        "{}",
        if lang == Lang::Zh {
            "时间线："
        } else {
            "timeline:"
        }
    );
    for e in &d.timeline {
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
    if let Some(finding) = &d.no_slip {
        let _ = writeln!(
            out,
            "{}",
            if lang == Lang::Zh {
                "没有签购单："
            } else {
                "no slip yet:"
            }
        );
        finding_lines(finding, "  ", lang, &mut out);
    }
    if d.slips.is_empty() && d.no_slip.is_none() {
        let _ = writeln!(
            out,
            "{}",
            if lang == Lang::Zh {
                "此交易不打印签购单。"
            } else {
                "this transaction prints no slip."
            }
        );
    }
    if !d.slips.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            if lang == Lang::Zh {
                "签购单："
            } else {
                "slips:"
            }
        );
    }
    for slip in &d.slips {
        let reprint = slip.kind == poscore::txn::PrintKind::Reprint;
        let _ = writeln!(
            out,
            "{}",
            match lang {
                Lang::Zh => format!(
                    "  #{} {}{}：{}",
                    slip.job_id,
                    copy_name(slip.copy, lang),
                    if reprint { "（重打印）" } else { "" },
                    job_state(slip.state, lang)
                ),
                Lang::En => format!(
                    "  #{} {} copy{}: {}",
                    slip.job_id,
                    slip.copy,
                    if reprint { " (reprint)" } else { "" },
                    job_state(slip.state, lang)
                ),
            }
        );
        if let Some(finding) = &slip.finding {
            finding_lines(finding, "    ", lang, &mut out);
        } else if slip.state == PrintJobState::Queued
            && d.slips
                .iter()
                .any(|s| s.job_id < slip.job_id && !done(s.state))
        {
            let _ = writeln!(
                out,
                "{}",
                match lang {
                    Lang::Zh => "    等待前一联打印完成",
                    Lang::En => "    waits until the copies before it are done",
                }
            );
        }
    }
    out
}

/// Whether every slip of a diagnosed transaction is done (printed or delivered) and nothing
/// else waits.
pub fn all_done(d: &Diagnosis) -> bool {
    d.no_slip.is_none() && d.slips.iter().all(|s| done(s.state))
}

fn done(state: PrintJobState) -> bool {
    matches!(state, PrintJobState::Printed | PrintJobState::Delivered)
}

/// `poscore diagnose TRACE`: exit 0 when every slip is printed or delivered, 1 when one
/// waits (or the outcome is being resolved), 2 for an unknown trace.
pub fn diagnose(db: &Path, trace: &str, lang: Lang) -> Result<(), Failure> {
    let trace = parse_trace(trace, lang)?;
    let (engine, _) = session::open_engine(db)?;
    let diagnosis = engine
        .journal()
        .diagnose(trace)
        .map_err(|e| Failure::journal(&e))?;
    let Some(diagnosis) = diagnosis else {
        return Err(Failure {
            exit_code: 2,
            message: describe(&CommandError::OriginalNotFound { trace }, lang),
        });
    };
    print!("{}", diagnosis_text(&diagnosis, lang));
    if all_done(&diagnosis) {
        Ok(())
    } else {
        Err(Failure {
            exit_code: 1,
            message: String::new(),
        })
    }
}

/// The figures as the JSON object of `printer-health --json`.
pub fn health_json(h: &PrinterHealth) -> serde_json::Value {
    json!({
        "printed_mm": h.printed_mm,
        "jobs_printed": h.jobs_printed,
        "reprints": h.reprints,
        "paper_changes": h.paper_changes,
        "mm_since_paper_change": h.mm_since_paper_change,
        "roll_length_mm": h.roll_length_mm,
        "paper_left_mm": h.paper_left_mm,
        "slips_left": h.slips_left,
        "paper_low": h.paper_low,
        "faults": h.faults.iter().map(|(code, count)| (code.clone(), json!(count))).collect::<serde_json::Map<_, _>>(),
        "waiting": h.waiting,
        "held_reason": h.held_reason,
    })
}

/// The figures as text.
pub fn health_text(h: &PrinterHealth, lang: Lang) -> String {
    let mut out = String::new();
    let slips_left = h
        .slips_left
        .map(|n| n.to_string())
        .unwrap_or_else(|| "-".into());
    let faults = if h.faults.is_empty() {
        "-".to_string()
    } else {
        h.faults
            .iter()
            .map(|(code, count)| format!("{code} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let held = h.held_reason.clone().unwrap_or_else(|| "-".into());
    match lang {
        Lang::Zh => {
            let _ = writeln!(
                out,
                "已打印纸长：{} 毫米，签购单 {} 张，重打印 {} 次",
                h.printed_mm, h.jobs_printed, h.reprints
            );
            let _ = writeln!(
                out,
                "换纸次数：{}，本卷已用 {} 毫米（纸卷 {} 毫米）",
                h.paper_changes, h.mm_since_paper_change, h.roll_length_mm
            );
            let _ = writeln!(
                out,
                "预计剩余：{} 毫米，约 {slips_left} 张{}",
                h.paper_left_mm,
                if h.paper_low {
                    "（纸将用完：请准备新纸卷）"
                } else {
                    ""
                }
            );
            let _ = writeln!(out, "故障次数：{faults}");
            let _ = writeln!(out, "等待打印：{} 张，暂停原因：{held}", h.waiting);
        }
        Lang::En => {
            let _ = writeln!(
                out,
                "printed: {} mm, {} slips, {} reprints",
                h.printed_mm, h.jobs_printed, h.reprints
            );
            let _ = writeln!(
                out,
                "paper changes: {}, {} mm used of this roll ({} mm roll)",
                h.paper_changes, h.mm_since_paper_change, h.roll_length_mm
            );
            let _ = writeln!(
                out,
                "paper left: about {} mm, {slips_left} slips{}",
                h.paper_left_mm,
                if h.paper_low {
                    " (paper low: have a new roll ready)"
                } else {
                    ""
                }
            );
            let _ = writeln!(out, "faults: {faults}");
            let _ = writeln!(out, "waiting: {} slips, held: {held}", h.waiting);
        }
    }
    out
}

/// `poscore printer-health [--json]`.
pub fn printer_health(
    db: &Path,
    roll_length_mm: u32,
    as_json: bool,
    lang: Lang,
) -> Result<(), Failure> {
    if !(1_000..=200_000).contains(&roll_length_mm) {
        let message = match lang {
            Lang::Zh => format!("纸卷长度 {roll_length_mm} 毫米超出范围：应为 1000 到 200000"),
            Lang::En => format!(
                "--roll-length-mm {roll_length_mm} is out of range: it must be 1000 to 200000"
            ),
        };
        return Err(Failure {
            exit_code: 2,
            message,
        });
    }
    let (engine, _) = session::open_engine(db)?;
    let health = engine
        .journal()
        .printer_health(roll_length_mm)
        .map_err(|e| Failure::journal(&e))?;
    if as_json {
        println!("{}", health_json(&health));
    } else {
        print!("{}", health_text(&health, lang));
    }
    Ok(())
}

/// `poscore runbook`: the emergency plan, as text in `lang` or as JSON with both languages.
pub fn runbook(json: bool, lang: Lang) {
    let entries = poscore::runbook::runbook();
    if json {
        let rows: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "area": e.area.code(),
                    "code": e.code,
                    "cause": e.cause.map(|c| c.code()),
                    "zh": e.zh,
                    "en": e.en,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
    } else {
        print!("{}", poscore::runbook::render(&entries, lang));
    }
}
