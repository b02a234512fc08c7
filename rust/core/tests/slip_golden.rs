//! Golden PNGs of the slip layouts, and what the printed slips say.
//!
//! Each slip is encoded to ESC/POS, decoded back onto a page as the printer would print it,
//! and drawn (`slip::slip_png`). The drawing is compared, pixel by pixel, with
//! `tests/golden/<name>.png`. On a difference the test writes `<name>.actual.png` next to
//! it and fails with both paths; `UPDATE_GOLDEN=1 cargo test -p poscore --features render
//! --test slip_golden` rewrites the golden files instead (look at them before committing).
//!
//! The text tests read the decoded page's text: every label and value is there, the card
//! number only masked, the reprint marker exactly when reprinting, the training marker
//! exactly in training.

use std::path::{Path, PathBuf};

use poscore::card::MaskedPan;
use poscore::ids::{BatchNumber, RequestId, TraceNumber};
use poscore::money::{Currency, Money};
use poscore::signature::Signature;
use poscore::slip::{
    SettlementSlip, SlipConfig, SlipInput, SlipLanguage, settlement_document, slip_document,
    slip_png,
};
use poscore::txn::{PrintKind, SlipCopy, TxnKind, TxnState};
use poscore::{Timestamp, TxnRecord};
use poscore_escpos::decode::DecodeOptions;
use poscore_escpos::{Bitmap, Document, PaperWidth, Profile, TextEncoding};

/// The full card number behind the masked one: it must never reach a slip.
const FULL_PAN: &str = "6222021234567890128";

fn record(
    kind: TxnKind,
    trace: u32,
    amount: &str,
    at: Timestamp,
    original: Option<&TxnRecord>,
) -> TxnRecord {
    TxnRecord {
        id: i64::from(trace),
        request_id: RequestId::parse(&format!("req-{trace}")).unwrap(),
        kind,
        state: TxnState::Approved,
        trace: TraceNumber::new(trace).unwrap(),
        batch: BatchNumber::new(7).unwrap(),
        amount: Money::parse(amount, Currency::CNY).unwrap(),
        masked_pan: MaskedPan::from_stored("622202*********0128".into()),
        auth_code: Some(format!("A{trace:05}")),
        rrn: Some(format!("{:012}", 314_000_000 + trace)),
        response_code: Some("00".into()),
        original_trace: original.map(|o| o.trace),
        settled: false,
        created_at: at,
        updated_at: at,
        reversal: None,
        print_jobs: Vec::new(),
        training: false,
    }
}

/// The five kinds, each with the transaction it refers to.
fn day() -> Vec<(TxnRecord, Option<TxnRecord>)> {
    let t0 = Timestamp::from_civil(2026, 3, 14, 9, 26, 53);
    let preauth = record(TxnKind::PreAuth, 11, "500.00", t0, None);
    let void = record(
        TxnKind::PreAuthVoid,
        12,
        "500.00",
        t0.plus_millis(60_000),
        Some(&preauth),
    );
    let preauth2 = record(
        TxnKind::PreAuth,
        13,
        "800.00",
        t0.plus_millis(120_000),
        None,
    );
    let completion = record(
        TxnKind::CompletionRequest,
        14,
        "760.50",
        t0.plus_days(2),
        Some(&preauth2),
    );
    let advice = record(
        TxnKind::CompletionAdvice,
        15,
        "120.00",
        t0.plus_days(3),
        Some(&preauth),
    );
    let completion_void = record(
        TxnKind::CompletionVoid,
        16,
        "760.50",
        t0.plus_days(2).plus_millis(300_000),
        Some(&completion),
    );
    vec![
        (preauth, None),
        (void, Some(preauth2.clone())),
        (completion, Some(preauth2)),
        (advice, None),
        (
            completion_void,
            Some(record(
                TxnKind::CompletionRequest,
                14,
                "760.50",
                t0.plus_days(2),
                None,
            )),
        ),
    ]
}

fn config(paper: PaperWidth, language: SlipLanguage) -> SlipConfig {
    SlipConfig {
        merchant_name: "示例超市 DEMO MART".into(),
        merchant_id: "898310048990001".into(),
        terminal_id: "10000001".into(),
        operator_id: "01".into(),
        paper,
        header_lines: vec!["欢迎光临 WELCOME".into()],
        logo: None,
        language,
        acquirer: "银联商务 UMS".into(),
        issuer: Some("工商银行 ICBC".into()),
        utc_offset_minutes: 0,
    }
}

/// A signature: a loop, a zigzag and an underline on a 600×240 pad.
fn signature() -> Signature {
    let mut looped = Vec::new();
    for i in 0..=24 {
        let a = f64::from(i) * std::f64::consts::PI / 12.0;
        looped.push((
            (120.0 + 60.0 * a.cos()) as u16,
            (110.0 + 70.0 * a.sin()) as u16,
        ));
    }
    Signature::Strokes {
        width: 600,
        height: 240,
        strokes: vec![
            looped,
            vec![
                (190, 170),
                (250, 60),
                (300, 170),
                (350, 60),
                (400, 170),
                (470, 80),
            ],
            vec![(60, 210), (540, 200)],
        ],
    }
}

/// A logo: a framed diamond, 120×48 dots.
fn logo() -> Bitmap {
    let mut b = Bitmap::new(120, 48);
    for x in 0..120 {
        b.set(x, 0, true);
        b.set(x, 47, true);
    }
    for y in 0..48 {
        b.set(0, y, true);
        b.set(119, y, true);
        let half = 24i32 - (y as i32 - 24).abs();
        for x in (60 - half)..(60 + half) {
            b.set(x as u32, y, true);
        }
    }
    b
}

fn input<'a>(
    txn: &'a TxnRecord,
    original: Option<&'a TxnRecord>,
    copy: SlipCopy,
    kind: PrintKind,
    training: bool,
) -> SlipInput<'a> {
    SlipInput {
        txn,
        original,
        copy,
        kind,
        training,
        signature: None,
    }
}

fn paper_name(paper: PaperWidth) -> &'static str {
    match paper {
        PaperWidth::Mm58 => "58",
        PaperWidth::Mm80 => "80",
    }
}

fn language_name(language: SlipLanguage) -> &'static str {
    match language {
        SlipLanguage::Bilingual => "bi",
        SlipLanguage::Chinese => "zh",
        SlipLanguage::English => "en",
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Decoded pixels of a PNG: (width, height, one byte per pixel, 0 = black).
fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let channels = info.color_type.samples();
    let gray = buf.chunks(channels).map(|px| px[0]).collect();
    (info.width, info.height, gray)
}

/// Compares `document`'s drawing with its golden file (or rewrites it under UPDATE_GOLDEN=1).
fn check_golden(name: &str, document: &Document, paper: PaperWidth) -> Option<String> {
    let actual = slip_png(document, paper).unwrap();
    let dir = golden_dir();
    let path = dir.join(format!("{name}.png"));
    let actual_path = dir.join(format!("{name}.actual.png"));
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, &actual).unwrap();
        let _ = std::fs::remove_file(&actual_path);
        eprintln!("UPDATE_GOLDEN=1: wrote {}", path.display());
        return None;
    }
    let matches = std::fs::read(&path)
        .ok()
        .is_some_and(|golden| pixels(&golden) == pixels(&actual));
    if matches {
        let _ = std::fs::remove_file(&actual_path);
        None
    } else {
        std::fs::write(&actual_path, &actual).unwrap();
        Some(format!(
            "{} differs from (or is missing for) the slip drawn now: see {} (UPDATE_GOLDEN=1 rewrites the golden file)",
            path.display(),
            actual_path.display()
        ))
    }
}

/// Every golden case: (file name, document, paper).
fn golden_cases() -> Vec<(String, Document, PaperWidth)> {
    let mut cases = Vec::new();
    let day = day();
    // Each kind at 58 mm bilingual, merchant copy; at 80 mm in Chinese and in English.
    for (txn, original) in &day {
        let kind = txn.kind.as_str();
        for (paper, language, copy) in [
            (
                PaperWidth::Mm58,
                SlipLanguage::Bilingual,
                SlipCopy::Merchant,
            ),
            (PaperWidth::Mm80, SlipLanguage::Chinese, SlipCopy::Merchant),
            (
                PaperWidth::Mm80,
                SlipLanguage::English,
                SlipCopy::Cardholder,
            ),
        ] {
            let doc = slip_document(
                &input(txn, original.as_ref(), copy, PrintKind::Original, false),
                &config(paper, language),
            );
            cases.push((
                format!("{kind}_{}_{}", paper_name(paper), language_name(language)),
                doc,
                paper,
            ));
        }
    }
    let (preauth, _) = &day[0];
    // A pre-auth in Chinese at 58 mm and in English at 58 mm.
    for language in [SlipLanguage::Chinese, SlipLanguage::English] {
        let doc = slip_document(
            &input(
                preauth,
                None,
                SlipCopy::Merchant,
                PrintKind::Original,
                false,
            ),
            &config(PaperWidth::Mm58, language),
        );
        cases.push((
            format!("preauth_58_{}", language_name(language)),
            doc,
            PaperWidth::Mm58,
        ));
    }
    // Reprint, training, and a captured signature with a logo.
    let doc = slip_document(
        &input(
            preauth,
            None,
            SlipCopy::Cardholder,
            PrintKind::Reprint,
            false,
        ),
        &config(PaperWidth::Mm58, SlipLanguage::Bilingual),
    );
    cases.push(("preauth_58_bi_reprint".into(), doc, PaperWidth::Mm58));
    let (completion, original) = &day[2];
    let doc = slip_document(
        &input(
            completion,
            original.as_ref(),
            SlipCopy::Merchant,
            PrintKind::Original,
            true,
        ),
        &config(PaperWidth::Mm80, SlipLanguage::Bilingual),
    );
    cases.push(("completion_80_bi_training".into(), doc, PaperWidth::Mm80));
    let sig = signature();
    for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let cfg = SlipConfig {
            logo: Some(logo()),
            ..config(paper, SlipLanguage::Bilingual)
        };
        let doc = slip_document(
            &SlipInput {
                signature: Some(&sig),
                ..input(
                    preauth,
                    None,
                    SlipCopy::Merchant,
                    PrintKind::Original,
                    false,
                )
            },
            &cfg,
        );
        cases.push((
            format!("preauth_{}_bi_signed", paper_name(paper)),
            doc,
            paper,
        ));
    }
    // Settlement, 58 and 80 mm.
    let settlement = settlement();
    for (paper, language) in [
        (PaperWidth::Mm58, SlipLanguage::Bilingual),
        (PaperWidth::Mm80, SlipLanguage::Chinese),
        (PaperWidth::Mm80, SlipLanguage::English),
    ] {
        let doc = settlement_document(&settlement, &config(paper, language));
        cases.push((
            format!(
                "settlement_{}_{}",
                paper_name(paper),
                language_name(language)
            ),
            doc,
            paper,
        ));
    }
    cases
}

fn settlement() -> SettlementSlip {
    SettlementSlip {
        batch: BatchNumber::new(7).unwrap(),
        opened_at: Some(Timestamp::from_civil(2026, 3, 14, 9, 26, 53)),
        closed_at: Timestamp::from_civil(2026, 3, 17, 23, 0, 0),
        count: 2,
        total_minor: 88_050,
        currency: Currency::CNY,
        balanced: true,
        per_kind: vec![
            (TxnKind::CompletionRequest, 1, 76_050),
            (TxnKind::CompletionAdvice, 1, 12_000),
            (TxnKind::CompletionVoid, 0, 0),
        ],
        training: false,
        fees: Vec::new(),
    }
}

#[test]
fn golden_pngs() {
    let failures: Vec<String> = golden_cases()
        .into_iter()
        .filter_map(|(name, doc, paper)| check_golden(&name, &doc, paper))
        .collect();
    assert!(
        failures.is_empty(),
        "{} golden slip(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_pngs_are_small_one_bit_images() {
    let dir = golden_dir();
    let mut total = 0;
    for (name, _, paper) in golden_cases() {
        let bytes = std::fs::read(dir.join(format!("{name}.png")))
            .unwrap_or_else(|e| panic!("{name}.png: {e} (UPDATE_GOLDEN=1 writes it)"));
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().bit_depth, png::BitDepth::One, "{name}");
        assert_eq!(reader.info().width, paper.dots(), "{name}");
        total += bytes.len();
    }
    assert!(total < 400 * 1024, "the golden set takes {total} bytes");
}

/// The page text of a document, as printed.
fn printed_text(document: &Document, paper: PaperWidth) -> String {
    let profile = Profile {
        paper,
        ..Profile::mm58()
    };
    let bytes = poscore_escpos::encode(document, &profile).unwrap();
    poscore_escpos::decode(
        &bytes,
        &DecodeOptions {
            paper,
            encoding: TextEncoding::Gb18030,
        },
    )
    .text()
}

#[test]
fn every_field_is_printed_with_its_label() {
    for (txn, original) in day() {
        for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
            for language in SlipLanguage::ALL {
                let cfg = config(paper, language);
                let doc = slip_document(
                    &input(
                        &txn,
                        original.as_ref(),
                        SlipCopy::Merchant,
                        PrintKind::Original,
                        false,
                    ),
                    &cfg,
                );
                let text = printed_text(&doc, paper);
                let label = |zh: &str, en: &str| language.label(zh, en);
                let (kind_zh, kind_en) = poscore::slip::kind_names(txn.kind);
                let mut expected = vec![
                    label("商户名称", "MERCHANT NAME"),
                    "示例超市 DEMO MART".into(),
                    label("商户编号", "MERCHANT NO."),
                    "898310048990001".into(),
                    label("终端编号", "TERMINAL NO."),
                    "10000001".into(),
                    label("操作员号", "OPERATOR NO."),
                    label("收单行", "ACQUIRER"),
                    "银联商务 UMS".into(),
                    label("发卡行", "ISSUER"),
                    "工商银行 ICBC".into(),
                    label("卡号", "CARD NO."),
                    "622202*********0128".into(),
                    label("交易类型", "TRANS TYPE"),
                    label(kind_zh, kind_en),
                    label("批次号", "BATCH NO."),
                    "000007".into(),
                    label("凭证号", "VOUCHER NO."),
                    txn.trace.to_string(),
                    label("授权码", "AUTH NO."),
                    txn.auth_code.clone().unwrap(),
                    label("参考号", "REFER NO."),
                    txn.rrn.clone().unwrap(),
                    label("日期时间", "DATE/TIME"),
                    poscore::slip::format_datetime(txn.created_at),
                    label("金额", "AMOUNT"),
                    format!("RMB {}", txn.amount.to_decimal_string()),
                    label("持卡人签名", "CARDHOLDER SIGNATURE"),
                    label(&copy_zh(SlipCopy::Merchant), "MERCHANT COPY"),
                    "欢迎光临 WELCOME".into(),
                ];
                if language != SlipLanguage::English {
                    expected.push("本人确认以上交易，同意将其计入本卡账户".into());
                    expected.push("签购单".into());
                }
                if language != SlipLanguage::Chinese {
                    expected.push("POS SALES SLIP".into());
                    expected.push("I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE".into());
                }
                match &original {
                    Some(o) => {
                        expected.push(label("备注", "REFERENCE"));
                        expected.push(label("原批次号", "ORIG BATCH NO."));
                        expected.push(label("原凭证号", "ORIG VOUCHER NO."));
                        expected.push(o.trace.to_string());
                        expected.push(label("原交易日期", "ORIG DATE"));
                        expected.push(poscore::slip::format_date(o.created_at));
                    }
                    None if txn.kind.has_original() => {}
                    None => assert!(
                        !text.contains(&label("备注", "REFERENCE")),
                        "a pre-auth has no remarks"
                    ),
                }
                // A long value may wrap (between CJK characters too): compare without whitespace.
                let flat = squeeze(&text);
                for needle in &expected {
                    assert!(
                        flat.contains(&squeeze(needle)),
                        "{:?} {paper:?} {language:?}: {needle:?} missing from\n{text}",
                        txn.kind
                    );
                }
                assert!(
                    !text.contains(FULL_PAN) && !text.contains("6222021234"),
                    "a full PAN on a slip:\n{text}"
                );
                assert!(!text.contains("REPRINT") && !text.contains("重打印"));
                assert!(!text.contains("TRAINING") && !text.contains("培训"));
                // Every line fits the paper.
                for line in text.lines() {
                    assert!(
                        poscore_escpos::layout::display_width(line) <= paper.columns(),
                        "{line:?} is wider than {paper:?}"
                    );
                }
            }
        }
    }
}

/// `text` without any whitespace.
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn copy_zh(copy: SlipCopy) -> String {
    poscore::slip::copy_names(copy).0.to_string()
}

#[test]
fn reprint_and_training_markers_appear_exactly_when_due() {
    let day = day();
    let (txn, original) = &day[1];
    for language in SlipLanguage::ALL {
        for kind in [PrintKind::Original, PrintKind::Reprint] {
            for training in [false, true] {
                let doc = slip_document(
                    &input(txn, original.as_ref(), SlipCopy::Cardholder, kind, training),
                    &config(PaperWidth::Mm58, language),
                );
                let text = printed_text(&doc, PaperWidth::Mm58);
                let lines: Vec<&str> = text.lines().map(str::trim).collect();
                let reprint = poscore::slip::reprint_marker(language);
                let marker = poscore::slip::training_marker(language);
                let count = |needle: &str| lines.iter().filter(|l| **l == needle).count();
                assert_eq!(
                    count(&reprint),
                    if kind == PrintKind::Reprint { 2 } else { 0 },
                    "{language:?} {kind:?}\n{text}"
                );
                assert_eq!(
                    count(&marker),
                    if training { 2 } else { 0 },
                    "{language:?} training={training}\n{text}"
                );
                assert_eq!(
                    text.contains("REPRINT") || text.contains("重打印"),
                    kind == PrintKind::Reprint
                );
                assert_eq!(text.contains("TRAINING") || text.contains("培训"), training);
                if kind == PrintKind::Reprint {
                    // Near the top (after logo, header, title and copy label) and at the bottom.
                    let first = lines.iter().position(|l| *l == reprint).unwrap();
                    let last = lines.iter().rposition(|l| *l == reprint).unwrap();
                    assert!(first < 6, "{first}\n{text}");
                    assert!(last + 4 > lines.len(), "{last} of {}\n{text}", lines.len());
                }
                if training && language != SlipLanguage::English {
                    assert!(text.contains("培训交易 不作为付款凭证"));
                }
                if training && language != SlipLanguage::Chinese {
                    assert!(text.contains("TRAINING - NOT A PAYMENT RECEIPT"));
                }
            }
        }
    }
}

#[test]
fn the_signature_is_printed_in_the_signature_area() {
    let day = day();
    let (txn, _) = &day[0];
    let sig = signature();
    for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let cfg = config(paper, SlipLanguage::Bilingual);
        let signed = SlipInput {
            signature: Some(&sig),
            ..input(txn, None, SlipCopy::Merchant, PrintKind::Original, false)
        };
        let bytes = poscore_escpos::encode(
            &slip_document(&signed, &cfg),
            &Profile {
                paper,
                ..Profile::mm58()
            },
        )
        .unwrap();
        let page = poscore_escpos::decode(
            &bytes,
            &DecodeOptions {
                paper,
                encoding: TextEncoding::Gb18030,
            },
        );
        let images = page.images();
        assert_eq!(images.len(), 1);
        assert!(
            images[0].width() <= paper.dots() && images[0].width() > paper.dots() * 3 / 4,
            "{}",
            images[0].width()
        );
        assert!(images[0].black_dots() > 500);
        // The image sits between the signature label and the acknowledgement.
        let position = |pred: &dyn Fn(&poscore_escpos::PageItem) -> bool| {
            page.items.iter().position(pred).unwrap()
        };
        let label = position(
            &|i| matches!(i, poscore_escpos::PageItem::Line { runs, .. } if runs.iter().any(|(t, _)| t.contains("CARDHOLDER SIGNATURE"))),
        );
        let image = position(&|i| matches!(i, poscore_escpos::PageItem::Image { .. }));
        let ack = position(
            &|i| matches!(i, poscore_escpos::PageItem::Line { runs, .. } if runs.iter().any(|(t, _)| t.contains("本人确认"))),
        );
        assert!(label < image && image < ack, "{label} {image} {ack}");
        // The cardholder's copy has no signature area.
        let copy = SlipInput {
            copy: SlipCopy::Cardholder,
            ..signed
        };
        let text = printed_text(&slip_document(&copy, &cfg), paper);
        assert!(!text.contains("CARDHOLDER SIGNATURE"));
    }
    // A logo wider than the paper is scaled down to fit.
    let mut wide = Bitmap::new(1000, 100);
    for x in 0..1000 {
        wide.set(x, 50, true);
    }
    let cfg = SlipConfig {
        logo: Some(wide),
        ..config(PaperWidth::Mm58, SlipLanguage::Chinese)
    };
    let doc = slip_document(
        &input(txn, None, SlipCopy::Merchant, PrintKind::Original, false),
        &cfg,
    );
    assert!(doc.validate(&Profile::mm58()).is_ok());
}

#[test]
fn the_settlement_slip_has_its_totals() {
    for language in SlipLanguage::ALL {
        let text = printed_text(
            &settlement_document(&settlement(), &config(PaperWidth::Mm58, language)),
            PaperWidth::Mm58,
        );
        for needle in [
            language.label("结算单", "SETTLEMENT"),
            language.label("批次号", "BATCH NO."),
            "000007".into(),
            language.label("总笔数", "TOTAL COUNT"),
            "RMB 880.50".into(),
            "1 / RMB 760.50".into(),
            "1 / RMB 120.00".into(),
            "0 / RMB 0.00".into(),
            language.label("对账平", "BALANCED"),
        ] {
            assert!(
                squeeze(&text).contains(&squeeze(&needle)),
                "{language:?}: {needle:?} missing from\n{text}"
            );
        }
    }
    let unbalanced = SettlementSlip {
        balanced: false,
        training: true,
        ..settlement()
    };
    let text = printed_text(
        &settlement_document(
            &unbalanced,
            &config(PaperWidth::Mm80, SlipLanguage::Bilingual),
        ),
        PaperWidth::Mm80,
    );
    assert!(
        text.contains("对账不平 NOT BALANCED") && text.contains("*** 培训 TRAINING ***"),
        "{text}"
    );
    assert!(
        !text.contains("EST. MERCHANT FEES"),
        "no rates, no fee section:\n{text}"
    );
}

#[test]
fn the_settlement_slip_estimates_fees_per_channel_when_rates_are_set() {
    use poscore::{FeeChannel, FeeRate};
    let rates = [
        FeeRate {
            channel: FeeChannel::Card,
            basis_points: 60,
        },
        FeeRate {
            channel: FeeChannel::Qr,
            basis_points: 38,
        },
    ];
    // 880.50 × 0.60 % = 5.283 → 5.28; QR carries nothing on a pre-auth terminal.
    let fees = poscore::slip::FeeLine::for_rates(&rates, 88_050);
    assert_eq!(
        fees.iter()
            .map(|f| (f.base_minor, f.fee_minor))
            .collect::<Vec<_>>(),
        [(88_050, 528), (0, 0)]
    );
    let slip = SettlementSlip {
        fees,
        ..settlement()
    };
    for language in SlipLanguage::ALL {
        let text = printed_text(
            &settlement_document(&slip, &config(PaperWidth::Mm58, language)),
            PaperWidth::Mm58,
        );
        for needle in [
            language.label("手续费估算", "EST. MERCHANT FEES"),
            format!("{} 0.60%", language.label("银行卡", "CARD")),
            format!("{} 0.38%", language.label("扫码", "QR")),
            "RMB 5.28".into(),
            language.label("合计", "TOTAL FEES"),
        ] {
            assert!(
                squeeze(&text).contains(&squeeze(&needle)),
                "{language:?}: {needle:?} missing from\n{text}"
            );
        }
    }
    // Half up: 0.5 of a fen rounds up, less rounds down.
    let rate = FeeRate {
        channel: FeeChannel::Card,
        basis_points: 50,
    };
    assert_eq!(
        (rate.fee_on(100), rate.fee_on(99), rate.fee_on(0)),
        (1, 0, 0)
    );
}

#[test]
fn the_e_receipt_carries_a_code_that_verifies() {
    let key = b"receipt key of terminal 10000001";
    let day = day();
    let (txn, original) = &day[2];
    let payload = poscore::ereceipt::payload(txn, SlipCopy::Cardholder, "10000001", key);
    let cfg = config(PaperWidth::Mm58, SlipLanguage::Bilingual);
    let slip = slip_document(
        &input(
            txn,
            original.as_ref(),
            SlipCopy::Cardholder,
            PrintKind::Original,
            false,
        ),
        &cfg,
    );
    let doc = poscore::ereceipt::with_verification_code(slip, &payload, cfg.language);
    let bytes = poscore_escpos::encode(&doc, &Profile::mm58()).unwrap();
    let page = poscore_escpos::decode(
        &bytes,
        &DecodeOptions {
            paper: PaperWidth::Mm58,
            encoding: TextEncoding::Gb18030,
        },
    );
    let scanned: Vec<String> = page
        .items
        .iter()
        .filter_map(|item| match item {
            poscore_escpos::PageItem::Qr { data, .. } => {
                Some(String::from_utf8(data.clone()).unwrap())
            }
            _ => None,
        })
        .collect();
    assert_eq!(scanned, vec![payload]);
    assert!(
        page.text()
            .contains("电子签购单 E-RECEIPT\n扫码验证 SCAN TO VERIFY"),
        "{}",
        page.text()
    );
    assert!(matches!(
        page.items.last(),
        Some(poscore_escpos::PageItem::Cut)
    ));
    let journal = |batch, trace| (batch == txn.batch && trace == txn.trace).then(|| txn.clone());
    let verified = poscore::ereceipt::verify(&scanned[0], key, journal).unwrap();
    assert_eq!(
        (verified.copy, verified.txn.trace),
        (SlipCopy::Cardholder, txn.trace)
    );
    // The PNG of the e-receipt is drawn (taller than the slip alone: the code is in it).
    let png = slip_png(&doc, PaperWidth::Mm58).unwrap();
    let plain = slip_png(
        &slip_document(
            &input(
                txn,
                original.as_ref(),
                SlipCopy::Cardholder,
                PrintKind::Original,
                false,
            ),
            &cfg,
        ),
        PaperWidth::Mm58,
    )
    .unwrap();
    assert!(pixels(&png).1 > pixels(&plain).1 + 100);
}
