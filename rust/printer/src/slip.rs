//! The terminal's [`Printer`] trait over an [`EscPosPrinter`]: a journal print job becomes
//! a [`Document`] (bilingual labels, masked card number, reprint mark, signature line) and
//! is printed by the job protocol. `Ok` only when the printer confirmed the slip.
//!
//! The layout is the text slip's (rust/ffi `slip_text`), kept simple on purpose.

use std::sync::Arc;

use async_trait::async_trait;
use poscore::PrintJob;
use poscore::txn::{PrintKind, SlipCopy};
use poscore_escpos::{Align, Document, PaperWidth, TextStyle};
use poscore_terminal::Printer;

use crate::job::EscPosPrinter;

/// A bilingual label: `"卡号 CARD NO."`.
fn label(zh: &str, en: &str) -> String {
    format!("{zh} {en}")
}

/// The slip of one print job as a document for `paper`.
pub fn slip_document(job: &PrintJob, merchant_name: &str, paper: PaperWidth) -> Document {
    let t = &job.txn;
    let copy = match job.copy {
        SlipCopy::Merchant => "商户存根 MERCHANT COPY",
        SlipCopy::Cardholder => "持卡人存根 CARDHOLDER COPY",
        SlipCopy::Bank => "银行存根 BANK COPY",
    };
    let mut doc = Document::new()
        .text("签购单 / SALES SLIP", TextStyle::BOLD, Align::Center)
        .text(copy, TextStyle::default(), Align::Center);
    if job.kind == PrintKind::Reprint {
        doc = doc.text("***** 重打印 REPRINT *****", TextStyle::BOLD, Align::Center);
    }
    let created = t.created_at.to_rfc3339();
    let date = created.get(..19).unwrap_or(&created).replace('T', " ");
    doc = doc
        .separator('-')
        .row(&label("商户名称", "MERCHANT"), merchant_name)
        .row(&label("卡号", "CARD NO."), t.masked_pan.as_str())
        .row(&label("交易类型", "TYPE"), t.kind.zh_name())
        .row("", t.kind.en_name())
        .row(&label("批次号", "BATCH"), &t.batch.to_string())
        .row(&label("凭证号", "TRACE"), &t.trace.to_string())
        .row(&label("授权码", "AUTH"), t.auth_code.as_deref().unwrap_or(""))
        .row(&label("参考号", "REF"), t.rrn.as_deref().unwrap_or(""))
        .row(&label("日期时间", "DATE"), &date);
    if let Some(original) = t.original_trace {
        doc = doc.row(&label("原凭证号", "ORIG TRACE"), &original.to_string());
    }
    doc = doc
        .row(&label("金额", "AMOUNT"), &format!("{} {}", t.amount.currency(), t.amount.to_decimal_string()))
        .separator('-');
    if job.copy != SlipCopy::Cardholder {
        doc = doc
            .line("持卡人签名 CARDHOLDER SIGNATURE")
            .feed(2)
            .line(&"_".repeat(paper.columns()))
            .line("本人确认以上交易，同意将其计入本卡账户")
            .line("I ACKNOWLEDGE SATISFACTORY RECEIPT");
    }
    doc.feed(1).cut()
}

/// The terminal's printer over the ESC/POS job protocol.
pub struct SlipPrinter {
    printer: Arc<EscPosPrinter>,
    merchant_name: String,
}

impl SlipPrinter {
    /// Prints slips of `merchant_name` on `printer` (its profile gives the paper width).
    pub fn new(printer: Arc<EscPosPrinter>, merchant_name: &str) -> SlipPrinter {
        SlipPrinter { printer, merchant_name: merchant_name.to_string() }
    }

    /// The printer underneath.
    pub fn printer(&self) -> &Arc<EscPosPrinter> {
        &self.printer
    }
}

#[async_trait]
impl Printer for SlipPrinter {
    async fn print(&self, job: &PrintJob) -> Result<(), String> {
        let document = slip_document(job, &self.merchant_name, self.printer.profile().paper);
        match self.printer.print(&document).await {
            Ok(receipt) => {
                log::info!("slip {} ({}) printed: {receipt:?}", job.job_id, job.copy.as_str());
                Ok(())
            }
            Err(error) => Err(error.to_string()),
        }
    }
}

/// A journal print job for tests (a pre-auth, approved).
#[cfg(test)]
pub(crate) fn sample_job(copy: SlipCopy, kind: PrintKind) -> PrintJob {
    use poscore::card::MaskedPan;
    use poscore::ids::{BatchNumber, RequestId, TraceNumber};
    use poscore::money::{Currency, Money};
    use poscore::txn::{TxnKind, TxnState};
    use poscore::{Timestamp, TxnRecord};

    let at = Timestamp::from_civil(2026, 3, 14, 9, 26, 53);
    let txn = TxnRecord {
        id: 7,
        request_id: RequestId::parse("req-1").unwrap(),
        kind: TxnKind::PreAuth,
        state: TxnState::Approved,
        trace: TraceNumber::new(123).unwrap(),
        batch: BatchNumber::new(1).unwrap(),
        amount: Money::parse("12.34", Currency::CNY).unwrap(),
        masked_pan: MaskedPan::from_stored("622202*********0128".into()),
        auth_code: Some("A1B2C3".into()),
        rrn: Some("123456789012".into()),
        response_code: Some("00".into()),
        original_trace: None,
        settled: false,
        created_at: at,
        updated_at: at,
        reversal: None,
        print_jobs: Vec::new(),
    };
    PrintJob { job_id: 42, txn, copy, kind }
}

#[cfg(test)]
mod tests {
    use poscore_escpos::Element;

    use super::*;

    fn texts(doc: &Document) -> Vec<String> {
        doc.elements
            .iter()
            .filter_map(|e| match e {
                Element::Text { spans, .. } => Some(spans.iter().map(|s| s.text.as_str()).collect()),
                Element::Row { label, value, .. } => Some(format!("{label}|{value}")),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_slip_has_the_text_slips_content() {
        let doc = slip_document(&sample_job(SlipCopy::Merchant, PrintKind::Original), "测试商户", PaperWidth::Mm58);
        let lines = texts(&doc);
        assert_eq!(lines[0], "签购单 / SALES SLIP");
        assert!(matches!(&doc.elements[0], Element::Text { spans, align: Align::Center } if spans[0].style.bold));
        assert_eq!(lines[1], "商户存根 MERCHANT COPY");
        for expected in [
            "商户名称 MERCHANT|测试商户",
            "卡号 CARD NO.|622202*********0128",
            "交易类型 TYPE|预授权",
            "|PRE-AUTH",
            "批次号 BATCH|000001",
            "凭证号 TRACE|000123",
            "授权码 AUTH|A1B2C3",
            "参考号 REF|123456789012",
            "日期时间 DATE|2026-03-14 09:26:53",
            "金额 AMOUNT|CNY 12.34",
            "持卡人签名 CARDHOLDER SIGNATURE",
            "I ACKNOWLEDGE SATISFACTORY RECEIPT",
        ] {
            assert!(lines.iter().any(|l| l == expected), "{expected:?} missing from {lines:#?}");
        }
        // The full card number never appears; the signature line spans the paper.
        assert!(!lines.iter().any(|l| l.contains("6222021234567890128")));
        assert!(lines.contains(&"_".repeat(32)));
        assert!(!lines.iter().any(|l| l.contains("REPRINT")));
        assert_eq!(doc.elements.iter().filter(|e| matches!(e, Element::Separator { ch: '-' })).count(), 2);
        assert!(matches!(doc.elements.last(), Some(Element::Cut { .. })));
    }

    #[test]
    fn a_reprint_says_so_and_the_cardholder_copy_has_no_signature() {
        let doc = slip_document(&sample_job(SlipCopy::Cardholder, PrintKind::Reprint), "M", PaperWidth::Mm80);
        let lines = texts(&doc);
        assert!(lines.contains(&"***** 重打印 REPRINT *****".to_string()));
        assert!(lines.contains(&"持卡人存根 CARDHOLDER COPY".to_string()));
        assert!(!lines.iter().any(|l| l.contains("SIGNATURE") || l.starts_with('_')));
    }
}
