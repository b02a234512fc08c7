//! A slip as text lines, for vendor SDKs that print text only (the ESC/POS bytes of the
//! real layout travel beside them in [`Slip::escpos`]). Labels are bilingual; the card number is masked;
//! a reprint says so.

use poscore::PrintJob;
use poscore::txn::{PrintKind, SlipCopy};

use crate::printer::Slip;

/// Columns of a 58 mm slip in Font A.
const WIDTH: usize = 32;

fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

/// A label on the left and `value` on the right, within the slip's width. The label is
/// bilingual (`"卡号 CARD NO."`) when it fits, Chinese only when it does not; a value too
/// long even for that goes on a line of its own.
fn row(zh: &str, en: &str, value: &str) -> Vec<String> {
    let bilingual = if en.is_empty() {
        zh.to_string()
    } else {
        format!("{zh} {en}")
    };
    for label in [bilingual.as_str(), zh] {
        let used = columns(label) + columns(value);
        if used < WIDTH {
            return vec![format!("{label}{}{value}", " ".repeat(WIDTH - used))];
        }
    }
    vec![zh.to_string(), value.to_string()]
}

/// The slip of one print job.
pub(crate) fn slip(job: &PrintJob, merchant_name: &str) -> Slip {
    let t = &job.txn;
    let copy = match job.copy {
        SlipCopy::Merchant => "商户存根 MERCHANT COPY",
        SlipCopy::Cardholder => "持卡人存根 CARDHOLDER COPY",
        SlipCopy::Bank => "银行存根 BANK COPY",
    };
    let mut lines = vec!["签购单 / SALES SLIP".to_string(), copy.to_string()];
    if job.kind == PrintKind::Reprint {
        lines.push("***** 重打印 REPRINT *****".into());
    }
    if t.training {
        lines.push("***** 培训 TRAINING *****".into());
        lines.push("非正式交易凭证 NOT A PAYMENT".into());
    }
    lines.push("-".repeat(WIDTH));
    lines.push(format!("商户名称 MERCHANT: {merchant_name}"));
    lines.extend(row("卡号", "CARD NO.", t.masked_pan.as_str()));
    lines.extend(row("交易类型", "TYPE", t.kind.zh_name()));
    lines.extend(row("", "", t.kind.en_name()));
    lines.extend(row("批次号", "BATCH", &t.batch.to_string()));
    lines.extend(row("凭证号", "TRACE", &t.trace.to_string()));
    lines.extend(row("授权码", "AUTH", t.auth_code.as_deref().unwrap_or("")));
    lines.extend(row("参考号", "REF", t.rrn.as_deref().unwrap_or("")));
    lines.extend(row(
        "日期时间",
        "DATE",
        &t.created_at.to_rfc3339()[..19].replace('T', " "),
    ));
    if let Some(original) = t.original_trace {
        lines.extend(row("原凭证号", "ORIG TRACE", &original.to_string()));
    }
    lines.extend(row(
        "金额",
        "AMOUNT",
        &format!("{} {}", t.amount.currency(), t.amount.to_decimal_string()),
    ));
    lines.push("-".repeat(WIDTH));
    if job.copy != SlipCopy::Cardholder {
        lines.push("持卡人签名 CARDHOLDER SIGNATURE".into());
        lines.push(String::new());
        lines.push("本人确认以上交易，同意将其计入本卡账户".into());
        lines.push("I ACKNOWLEDGE SATISFACTORY RECEIPT".into());
    }
    Slip {
        job_id: job.job_id,
        trace: t.trace.value() as i32,
        copy: job.copy.as_str().into(),
        reprint: job.kind == PrintKind::Reprint,
        lines,
        escpos: Vec::new(),
    }
}

/// A report (the settlement slip) as text lines: the text of its document, wrapped at the
/// slip's width. `job_id` is -1 and `trace` 0: a report belongs to no transaction; `copy`
/// is `settlement`.
pub(crate) fn report(report: &poscore::ReportJob) -> Slip {
    use poscore_escpos::Element;
    let mut lines = Vec::new();
    for element in &report.document.elements {
        match element {
            Element::Text { spans, .. } => {
                lines.push(spans.iter().map(|s| s.text.as_str()).collect::<String>())
            }
            Element::Row { label, value, .. } => {
                let used = columns(label) + columns(value);
                if used < WIDTH {
                    lines.push(format!("{label}{}{value}", " ".repeat(WIDTH - used)));
                } else {
                    lines.push(label.clone());
                    lines.push(value.clone());
                }
            }
            Element::Separator { ch } => lines.push(ch.to_string().repeat(WIDTH)),
            _ => {}
        }
    }
    Slip {
        job_id: -1,
        trace: 0,
        copy: "settlement".into(),
        reprint: false,
        lines,
        escpos: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_fit_the_width_counting_cjk_as_two() {
        let line = row("批次号", "BATCH", "000001");
        assert_eq!(
            line,
            [format!("批次号 BATCH{}000001", " ".repeat(32 - 12 - 6))]
        );
        // A 19-digit masked PAN does not fit beside the bilingual label: Chinese only.
        let line = row("卡号", "CARD NO.", "622202*********0128").remove(0);
        assert!(line.starts_with("卡号 ") && !line.contains("CARD"));
        assert_eq!(columns(&line), 32);
        let long = "x".repeat(40);
        assert_eq!(row("金额", "AMOUNT", &long), ["金额".to_string(), long]);
    }
}
