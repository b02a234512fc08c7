//! Slip layouts (签购单): a journal record becomes a [`Document`] of `poscore_escpos`, for
//! 58 or 80 mm paper, with bilingual (or Chinese-only, or English-only) labels.
//!
//! Slips are always rendered from the journal's [`TxnRecord`], so any slip can be printed
//! again at any time; a slip printed again carries the `重打印 REPRINT` marker at its top
//! and bottom, and a training transaction's slip the `培训 TRAINING` marker.
//!
//! - [`slip_document`]: the sales slip of one transaction and one copy (reference
//!   payments.md, "Receipt (签购单)");
//! - [`settlement_document`]: the settlement summary (结算单) of a batch;
//! - `slip_png` (feature `render`): any document drawn as the printer would print it.
//!
//! Everything here is pure: no clock, no I/O. Times are printed as the journal keeps them
//! (UTC).

mod layout;
mod settlement;

use poscore_escpos::{Bitmap, Document, PaperWidth};

use crate::config::Config;
use crate::money::{Currency, Money};
use crate::record::TxnRecord;
use crate::signature::Signature;
use crate::time::{MILLIS_PER_DAY, Timestamp};
use crate::txn::{PrintKind, SlipCopy};

pub use layout::{copy_names, kind_names, reprint_marker, slip_document, training_marker};
pub use settlement::{FeeLine, SettlementSlip, settlement_document};

/// The language of a slip's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlipLanguage {
    /// Chinese and English side by side (`商户名称 MERCHANT NAME`), as UnionPay slips are.
    #[default]
    Bilingual,
    /// Chinese only (`商户名称`).
    Chinese,
    /// English only (`MERCHANT NAME`).
    English,
}

impl SlipLanguage {
    /// Every language, in declaration order.
    pub const ALL: [SlipLanguage; 3] = [
        SlipLanguage::Bilingual,
        SlipLanguage::Chinese,
        SlipLanguage::English,
    ];

    /// The text of a label in this language: `"商户名称 MERCHANT NAME"`, `"商户名称"` or
    /// `"MERCHANT NAME"`.
    pub fn label(self, zh: &str, en: &str) -> String {
        match self {
            SlipLanguage::Bilingual => format!("{zh} {en}"),
            SlipLanguage::Chinese => zh.to_string(),
            SlipLanguage::English => en.to_string(),
        }
    }
}

/// What every slip of a terminal shows besides the transaction: who the merchant is, the
/// paper, the header and logo, the language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipConfig {
    /// 商户名称.
    pub merchant_name: String,
    /// 商户编号 (field 42).
    pub merchant_id: String,
    /// 终端编号 (field 41).
    pub terminal_id: String,
    /// 操作员号.
    pub operator_id: String,
    /// The paper roll (58 mm: 32 columns, 80 mm: 48).
    pub paper: PaperWidth,
    /// Lines printed centered at the top, under the logo (the merchant's header).
    pub header_lines: Vec<String>,
    /// A logo printed centered at the very top; scaled down when wider than the paper.
    pub logo: Option<Bitmap>,
    /// The language of the labels.
    pub language: SlipLanguage,
    /// 收单行: the acquirer's name, printed when not empty.
    pub acquirer: String,
    /// 发卡行: the issuer's name, printed when known.
    pub issuer: Option<String>,
    /// The local time's offset from UTC, in minutes, for the times printed (the journal keeps
    /// UTC). China Standard Time is +480.
    pub utc_offset_minutes: i32,
}

impl Default for SlipConfig {
    /// The slips of [`Config::default`]'s demo terminal.
    fn default() -> Self {
        SlipConfig::from_config(&Config::default())
    }
}

impl SlipConfig {
    /// The slip settings of a terminal: its identity, merchant name, paper, header lines and
    /// logo; bilingual labels, no acquirer or issuer name (set them when the host gives them).
    pub fn from_config(config: &Config) -> SlipConfig {
        SlipConfig {
            merchant_name: config.merchant_name.clone(),
            merchant_id: config.identity.merchant_id.to_string(),
            terminal_id: config.identity.terminal_id.to_string(),
            operator_id: config.identity.operator_id.to_string(),
            paper: config.printing.paper,
            header_lines: config.printing.header_lines.clone(),
            logo: config.printing.logo.clone(),
            language: SlipLanguage::Bilingual,
            acquirer: String::new(),
            issuer: None,
            utc_offset_minutes: config.printing.utc_offset_minutes,
        }
    }

    /// A journal time as the local time printed on slips.
    pub fn local(&self, at: Timestamp) -> Timestamp {
        at.plus_millis(i64::from(self.utc_offset_minutes) * 60_000)
    }

    /// Text columns of Font A on this paper.
    pub fn columns(&self) -> usize {
        self.paper.columns()
    }

    /// A label in this slip's language.
    fn label(&self, zh: &str, en: &str) -> String {
        self.language.label(zh, en)
    }
}

/// One slip to lay out: a journaled transaction and which copy of it.
#[derive(Debug, Clone, Copy)]
pub struct SlipInput<'a> {
    /// The transaction, as the journal has it.
    pub txn: &'a TxnRecord,
    /// The transaction it refers to (the pre-auth of a completion, the completion of a
    /// completion void…), for the 备注 (remarks) lines.
    pub original: Option<&'a TxnRecord>,
    /// Which copy (商户存根, 持卡人存根, 银行存根).
    pub copy: SlipCopy,
    /// Original print or reprint (重打印).
    pub kind: PrintKind,
    /// A training transaction (培训): marked, and said not to be a payment receipt.
    pub training: bool,
    /// The cardholder's electronic signature, printed in the signature area.
    pub signature: Option<&'a Signature>,
}

/// An amount as slips print it: `RMB 500.00` for yuan, `USD 12.00` for other currencies.
pub fn format_amount(amount: Money) -> String {
    format_minor(amount.minor_units(), amount.currency())
}

/// An amount of minor units as slips print it (zero allowed, for totals).
pub fn format_minor(minor: u64, currency: Currency) -> String {
    let exponent = u32::from(currency.exponent());
    let number = if exponent == 0 {
        minor.to_string()
    } else {
        let scale = 10u64.pow(exponent);
        format!(
            "{}.{:0width$}",
            minor / scale,
            minor % scale,
            width = exponent as usize
        )
    };
    let code = if currency == Currency::CNY {
        "RMB"
    } else {
        currency.code()
    };
    format!("{code} {number}")
}

/// The date and time as slips print them: `2026/03/14 09:26:53` (UTC, as journaled).
pub fn format_datetime(at: Timestamp) -> String {
    let (year, month, day) = at.civil_date();
    let (h, m, s) = time_of_day(at);
    format!("{year:04}/{month:02}/{day:02} {h:02}:{m:02}:{s:02}")
}

/// The date as slips print it: `2026/03/14`.
pub fn format_date(at: Timestamp) -> String {
    let (year, month, day) = at.civil_date();
    format!("{year:04}/{month:02}/{day:02}")
}

/// Hours, minutes and seconds of the (UTC) day.
pub(crate) fn time_of_day(at: Timestamp) -> (i64, i64, i64) {
    let in_day = at.as_millis().rem_euclid(MILLIS_PER_DAY);
    (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60)
}

/// Draws a document as the printer would print it, as a 1-bit PNG: the document is encoded
/// for a GB18030 printer with native QR codes on `paper`, the bytes decoded back onto a page
/// (exactly as the virtual printer does) and the page drawn.
///
/// Fails only when the document cannot be printed on this paper (an image wider than the
/// paper, an empty or oversized QR code…); [`slip_document`] never makes such a document.
#[cfg(feature = "render")]
pub fn slip_png(
    document: &Document,
    paper: PaperWidth,
) -> Result<Vec<u8>, poscore_escpos::document::DocumentError> {
    use poscore_escpos::decode::DecodeOptions;
    use poscore_escpos::{Profile, QrMode, TextEncoding};

    let profile = Profile {
        paper,
        encoding: TextEncoding::Gb18030,
        qr: QrMode::Native,
        process_id: true,
    };
    let bytes = poscore_escpos::encode(document, &profile)?;
    let page = poscore_escpos::decode(
        &bytes,
        &DecodeOptions {
            paper,
            encoding: TextEncoding::Gb18030,
        },
    );
    Ok(poscore_escpos::render::render_png(&page))
}

/// Appends `doc`'s elements to `into` (a small helper for builders that branch).
fn extend(into: Document, doc: Document) -> Document {
    doc.elements.into_iter().fold(into, Document::push)
}

/// Journal records for the tests of the slip, signature and e-receipt modules.
#[cfg(test)]
pub(crate) mod testing {
    use crate::card::MaskedPan;
    use crate::ids::{BatchNumber, RequestId, TraceNumber};
    use crate::money::{Currency, Money};
    use crate::record::TxnRecord;
    use crate::time::Timestamp;
    use crate::txn::{TxnKind, TxnState};

    /// An approved transaction of `kind`: trace 000123 of batch 000001, RMB 500.00, on
    /// 2026-03-14 09:26:53; everything but a pre-auth refers to trace 000100.
    pub(crate) fn sample_txn(kind: TxnKind) -> TxnRecord {
        let at = Timestamp::from_civil(2026, 3, 14, 9, 26, 53);
        TxnRecord {
            id: 7,
            request_id: RequestId::parse("req-1").expect("valid"),
            kind,
            state: TxnState::Approved,
            trace: TraceNumber::new(123).expect("valid"),
            batch: BatchNumber::new(1).expect("valid"),
            amount: Money::parse("500.00", Currency::CNY).expect("valid"),
            masked_pan: MaskedPan::from_stored("622202*********0128".into()),
            auth_code: Some("A1B2C3".into()),
            rrn: Some("123456789012".into()),
            response_code: Some("00".into()),
            original_trace: kind
                .has_original()
                .then(|| TraceNumber::new(100).expect("valid")),
            settled: false,
            created_at: at,
            updated_at: at,
            reversal: None,
            print_jobs: Vec::new(),
            training: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_language() {
        assert_eq!(
            SlipLanguage::Bilingual.label("商户名称", "MERCHANT NAME"),
            "商户名称 MERCHANT NAME"
        );
        assert_eq!(
            SlipLanguage::Chinese.label("商户名称", "MERCHANT NAME"),
            "商户名称"
        );
        assert_eq!(
            SlipLanguage::English.label("商户名称", "MERCHANT NAME"),
            "MERCHANT NAME"
        );
        assert_eq!(SlipLanguage::default(), SlipLanguage::Bilingual);
    }

    #[test]
    fn amounts_and_dates() {
        let cny = Money::parse("500", Currency::CNY).unwrap();
        assert_eq!(format_amount(cny), "RMB 500.00");
        assert_eq!(format_minor(0, Currency::CNY), "RMB 0.00");
        assert_eq!(format_minor(7, Currency::CNY), "RMB 0.07");
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(format_minor(1200, jpy), "JPY 1200");
        let at = Timestamp::from_civil(2026, 3, 14, 9, 26, 53).plus_millis(999);
        assert_eq!(format_datetime(at), "2026/03/14 09:26:53");
        assert_eq!(format_date(at), "2026/03/14");
    }

    #[test]
    fn config_comes_from_the_terminal() {
        let config = Config::default();
        let slip = SlipConfig::from_config(&config);
        assert_eq!(slip.merchant_name, config.merchant_name);
        assert_eq!(slip.merchant_id, "898310048990001");
        assert_eq!(slip.terminal_id, "10000001");
        assert_eq!(slip.operator_id, "01");
        assert_eq!(slip.paper, config.printing.paper);
        assert_eq!(SlipConfig::default(), slip);
    }
}
