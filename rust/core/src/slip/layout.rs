//! The sales slip (签购单) of one transaction and one copy.

use poscore_escpos::{Align, Document, Element, TextStyle};

use super::{
    SlipConfig, SlipInput, SlipLanguage, extend, format_amount, format_date, format_datetime,
};
use crate::signature::fit_width;
use crate::txn::{PrintKind, SlipCopy, TxnKind};

/// Bold and twice as tall, same width: markers and the kind fit a 58 mm line.
pub(super) const TALL: TextStyle = TextStyle {
    bold: true,
    underline: false,
    double_width: false,
    double_height: true,
};

/// The kind's name on a slip, Chinese and English (reference payments.md §1).
pub fn kind_names(kind: TxnKind) -> (&'static str, &'static str) {
    match kind {
        TxnKind::PreAuth => ("预授权", "PRE-AUTH"),
        TxnKind::PreAuthVoid => ("预授权撤销", "PRE-AUTH VOID"),
        TxnKind::CompletionRequest => ("预授权完成(请求)", "AUTH COMPLETE"),
        TxnKind::CompletionAdvice => ("预授权完成(通知)", "AUTH COMPLETE ADVICE"),
        TxnKind::CompletionVoid => ("预授权完成撤销", "AUTH COMPLETE VOID"),
    }
}

/// The copy label, Chinese and English.
pub fn copy_names(copy: SlipCopy) -> (&'static str, &'static str) {
    match copy {
        SlipCopy::Merchant => ("商户存根", "MERCHANT COPY"),
        SlipCopy::Cardholder => ("持卡人存根", "CARDHOLDER COPY"),
        SlipCopy::Bank => ("银行存根", "BANK COPY"),
    }
}

/// The reprint marker in a language: `***** 重打印 REPRINT *****`.
pub fn reprint_marker(language: SlipLanguage) -> String {
    format!("***** {} *****", language.label("重打印", "REPRINT"))
}

/// The training marker in a language: `*** 培训 TRAINING ***`.
pub fn training_marker(language: SlipLanguage) -> String {
    format!("*** {} ***", language.label("培训", "TRAINING"))
}

/// The training notice, one line per language.
fn training_notice(language: SlipLanguage) -> Vec<&'static str> {
    let (zh, en) = (
        "培训交易 不作为付款凭证",
        "TRAINING - NOT A PAYMENT RECEIPT",
    );
    match language {
        SlipLanguage::Bilingual => vec![zh, en],
        SlipLanguage::Chinese => vec![zh],
        SlipLanguage::English => vec![en],
    }
}

/// The cardholder's acknowledgement, one paragraph per language.
fn acknowledgement(language: SlipLanguage) -> Vec<&'static str> {
    let zh = "本人确认以上交易，同意将其计入本卡账户";
    let en = "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES";
    match language {
        SlipLanguage::Bilingual => vec![zh, en],
        SlipLanguage::Chinese => vec![zh],
        SlipLanguage::English => vec![en],
    }
}

/// The slip of one transaction and copy, for `config`'s paper and language.
///
/// Top to bottom: the logo and header lines; the title 签购单 POS SALES SLIP; the copy
/// label; the reprint and training markers when they apply; the merchant, terminal and
/// operator; the acquirer and issuer when configured; the masked card number as the journal
/// keeps it; the kind; batch, voucher (trace), authorization code, reference number, date
/// and time; the amount, large; the remarks (备注) with the original's batch, voucher, auth
/// code and date; the training notice; on the merchant and bank copies the cardholder's
/// signature area (the captured signature scaled to the paper, or blank lines and a rule)
/// and the acknowledgement; the markers again; feed and cut.
pub fn slip_document(input: &SlipInput, config: &SlipConfig) -> Document {
    let txn = input.txn;
    let lang = config.language;
    let reprint = input.kind == PrintKind::Reprint;
    let mut doc = Document::new();
    if let Some(logo) = &config.logo {
        doc = doc.image(fit_width(logo, config.paper.dots()), Align::Center);
    }
    for line in &config.header_lines {
        doc = doc.text(line, TextStyle::default(), Align::Center);
    }
    doc = extend(doc, title(lang));
    let (copy_zh, copy_en) = copy_names(input.copy);
    doc = doc.text(
        &lang.label(copy_zh, copy_en),
        TextStyle::BOLD,
        Align::Center,
    );
    doc = extend(doc, markers(lang, reprint, input.training));

    doc = merchant_rows(doc.separator('-'), config).separator('-');
    if !config.acquirer.is_empty() {
        doc = doc.row(&config.label("收单行", "ACQUIRER"), &config.acquirer);
    }
    if let Some(issuer) = config.issuer.as_deref().filter(|i| !i.is_empty()) {
        doc = doc.row(&config.label("发卡行", "ISSUER"), issuer);
    }
    doc = doc.push(Element::Row {
        label: config.label("卡号", "CARD NO."),
        value: txn.masked_pan.as_str().to_string(),
        style: TextStyle::BOLD,
    });
    let (kind_zh, kind_en) = kind_names(txn.kind);
    doc = doc
        .line(&config.label("交易类型", "TRANS TYPE"))
        .text(&lang.label(kind_zh, kind_en), TALL, Align::Left)
        .row(&config.label("批次号", "BATCH NO."), &txn.batch.to_string())
        .row(
            &config.label("凭证号", "VOUCHER NO."),
            &txn.trace.to_string(),
        )
        .row(
            &config.label("授权码", "AUTH NO."),
            txn.auth_code.as_deref().unwrap_or(""),
        )
        .row(
            &config.label("参考号", "REFER NO."),
            txn.rrn.as_deref().unwrap_or(""),
        )
        .row(
            &config.label("日期时间", "DATE/TIME"),
            &format_datetime(config.local(txn.created_at)),
        )
        .line(&config.label("金额", "AMOUNT"))
        .text(&format_amount(txn.amount), TextStyle::BIG, Align::Right)
        .separator('-');

    doc = extend(doc, remarks(input, config));
    if input.training {
        for line in training_notice(lang) {
            doc = doc.text(line, TextStyle::BOLD, Align::Center);
        }
    }
    if input.copy != SlipCopy::Cardholder {
        doc = extend(doc, signature_area(input, config));
    }
    if reprint || input.training {
        if !matches!(doc.elements.last(), Some(Element::Separator { .. })) {
            doc = doc.separator('-');
        }
        doc = extend(doc, markers(lang, reprint, input.training));
    }
    doc.feed(2).cut()
}

/// The title: 签购单 large, POS SALES SLIP under it.
fn title(lang: SlipLanguage) -> Document {
    let doc = Document::new();
    match lang {
        SlipLanguage::Bilingual => doc.text("签购单", TextStyle::BIG, Align::Center).text(
            "POS SALES SLIP",
            TextStyle::BOLD,
            Align::Center,
        ),
        SlipLanguage::Chinese => doc.text("签购单", TextStyle::BIG, Align::Center),
        SlipLanguage::English => doc.text("POS SALES SLIP", TALL, Align::Center),
    }
}

/// The reprint and training markers that apply.
pub(super) fn markers(lang: SlipLanguage, reprint: bool, training: bool) -> Document {
    let mut doc = Document::new();
    if reprint {
        doc = doc.text(&reprint_marker(lang), TALL, Align::Center);
    }
    if training {
        doc = doc.text(&training_marker(lang), TALL, Align::Center);
    }
    doc
}

/// 备注: the original's batch, voucher, auth code and date, when the slip refers to one.
fn remarks(input: &SlipInput, config: &SlipConfig) -> Document {
    let txn = input.txn;
    let mut rows: Vec<(String, String)> = Vec::new();
    match input.original {
        Some(original) => {
            rows.push((
                config.label("原批次号", "ORIG BATCH NO."),
                original.batch.to_string(),
            ));
            rows.push((
                config.label("原凭证号", "ORIG VOUCHER NO."),
                original.trace.to_string(),
            ));
            if let Some(auth) = original.auth_code.as_deref().filter(|a| !a.is_empty()) {
                rows.push((config.label("原授权码", "ORIG AUTH NO."), auth.to_string()));
            }
            rows.push((
                config.label("原交易日期", "ORIG DATE"),
                format_date(config.local(original.created_at)),
            ));
        }
        None => {
            if let Some(trace) = txn.original_trace {
                rows.push((
                    config.label("原凭证号", "ORIG VOUCHER NO."),
                    trace.to_string(),
                ));
            }
        }
    }
    if rows.is_empty() {
        return Document::new();
    }
    rows.into_iter()
        .fold(
            Document::new().line(&config.label("备注", "REFERENCE")),
            |doc, (label, value)| doc.row(&label, &value),
        )
        .separator('-')
}

/// 持卡人签名: the signature scaled to the paper, or room to sign; then the acknowledgement.
fn signature_area(input: &SlipInput, config: &SlipConfig) -> Document {
    let lang = config.language;
    let mut doc = Document::new().line(&config.label("持卡人签名", "CARDHOLDER SIGNATURE"));
    let image = input
        .signature
        .map(|s| s.to_bitmap(config.paper.dots()))
        .filter(|b| b.black_dots() > 0);
    doc = match image {
        Some(bitmap) => doc.image(bitmap, Align::Center).separator('_'),
        None => doc.feed(3).separator('_'),
    };
    for text in acknowledgement(lang) {
        doc = doc.line(text);
    }
    doc
}

/// The merchant's and terminal's identity rows every slip starts with: merchant name and
/// number, terminal number, operator.
pub(super) fn merchant_rows(doc: Document, config: &SlipConfig) -> Document {
    doc.row(
        &config.label("商户名称", "MERCHANT NAME"),
        &config.merchant_name,
    )
    .row(
        &config.label("商户编号", "MERCHANT NO."),
        &config.merchant_id,
    )
    .row(
        &config.label("终端编号", "TERMINAL NO."),
        &config.terminal_id,
    )
    .row(
        &config.label("操作员号", "OPERATOR NO."),
        &config.operator_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slip::SlipConfig;
    use crate::slip::testing::sample_txn;

    fn texts(doc: &Document) -> Vec<String> {
        doc.elements
            .iter()
            .filter_map(|e| match e {
                Element::Text { spans, .. } => {
                    Some(spans.iter().map(|s| s.text.as_str()).collect())
                }
                Element::Row { label, value, .. } => Some(format!("{label}|{value}")),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_preauth_slip_has_its_fields_in_order() {
        let txn = sample_txn(TxnKind::PreAuth);
        let input = SlipInput {
            txn: &txn,
            original: None,
            copy: SlipCopy::Merchant,
            kind: PrintKind::Original,
            training: false,
            signature: None,
        };
        let doc = slip_document(&input, &SlipConfig::default());
        let lines = texts(&doc);
        let at = |needle: &str| {
            lines
                .iter()
                .position(|l| l == needle)
                .unwrap_or_else(|| panic!("{needle:?} missing from {lines:#?}"))
        };
        let order = [
            at("签购单"),
            at("商户存根 MERCHANT COPY"),
            at("卡号 CARD NO.|622202*********0128"),
            at("预授权 PRE-AUTH"),
            at("凭证号 VOUCHER NO.|000123"),
            at("RMB 500.00"),
            at("持卡人签名 CARDHOLDER SIGNATURE"),
            at("本人确认以上交易，同意将其计入本卡账户"),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("REPRINT") || l.contains("TRAINING") || l.contains("备注"))
        );
        assert!(matches!(doc.elements.last(), Some(Element::Cut { .. })));
    }

    #[test]
    fn markers_are_at_top_and_bottom() {
        let txn = sample_txn(TxnKind::CompletionVoid);
        let input = SlipInput {
            txn: &txn,
            original: None,
            copy: SlipCopy::Cardholder,
            kind: PrintKind::Reprint,
            training: true,
            signature: None,
        };
        let doc = slip_document(&input, &SlipConfig::default());
        let lines = texts(&doc);
        let reprints: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| *l == "***** 重打印 REPRINT *****")
            .map(|(i, _)| i)
            .collect();
        let trainings = lines
            .iter()
            .filter(|l| *l == "*** 培训 TRAINING ***")
            .count();
        assert_eq!(reprints.len(), 2);
        assert!(
            reprints[0] < 5 && reprints[1] > lines.len() - 4,
            "{reprints:?} of {}",
            lines.len()
        );
        assert_eq!(trainings, 2);
        assert!(lines.contains(&"TRAINING - NOT A PAYMENT RECEIPT".to_string()));
        // The cardholder's copy has no signature area; the original's trace is a remark.
        assert!(!lines.iter().any(|l| l.contains("SIGNATURE")));
        assert!(lines.contains(&"原凭证号 ORIG VOUCHER NO.|000100".to_string()));
    }

    #[test]
    fn kind_names_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for kind in TxnKind::ALL {
            let (zh, en) = kind_names(*kind);
            assert!(seen.insert(zh) && seen.insert(en));
        }
    }
}
