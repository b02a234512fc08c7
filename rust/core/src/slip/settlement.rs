//! The settlement summary (结算单) of a batch.

use poscore_escpos::{Align, Document, TextStyle};

use super::layout::{TALL, kind_names, markers, merchant_rows};
use super::{SlipConfig, SlipLanguage, extend, format_datetime, format_minor};
use crate::config::{FeeChannel, FeeRate};
use crate::ids::BatchNumber;
use crate::money::Currency;
use crate::time::Timestamp;
use crate::txn::TxnKind;

/// What a settlement slip shows: a batch's counts and totals, and whether the host agreed.
///
/// Amounts are minor units (an empty batch totals zero, which [`crate::money::Money`]
/// cannot hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementSlip {
    /// The batch closed.
    pub batch: BatchNumber,
    /// When its first transaction was made, if it had any.
    pub opened_at: Option<Timestamp>,
    /// When it was settled.
    pub closed_at: Timestamp,
    /// How many transactions it settled.
    pub count: u32,
    /// Their total, in minor units of `currency`.
    pub total_minor: u64,
    /// The currency of every amount.
    pub currency: Currency,
    /// Whether the host's totals matched the terminal's (对账平).
    pub balanced: bool,
    /// Count and total in minor units of each kind, in the order printed.
    pub per_kind: Vec<(TxnKind, u32, u64)>,
    /// A training batch: marked 培训 TRAINING.
    pub training: bool,
    /// Estimated merchant fees per channel (empty: no rates configured, no fee section).
    pub fees: Vec<FeeLine>,
}

/// One channel's estimated merchant fee on a settlement slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeLine {
    /// The channel.
    pub channel: FeeChannel,
    /// The channel's settled amount, in minor units.
    pub base_minor: u64,
    /// The rate, in basis points.
    pub basis_points: u32,
    /// The estimate, in minor units (rounded half up).
    pub fee_minor: u64,
}

impl FeeLine {
    /// The fee lines of `rates`: card transactions carry `card_minor`; QR carries nothing on
    /// a pre-authorization terminal.
    pub fn for_rates(rates: &[FeeRate], card_minor: u64) -> Vec<FeeLine> {
        rates
            .iter()
            .map(|rate| {
                let base_minor = match rate.channel {
                    FeeChannel::Card => card_minor,
                    FeeChannel::Qr => 0,
                };
                FeeLine {
                    channel: rate.channel,
                    base_minor,
                    basis_points: rate.basis_points,
                    fee_minor: rate.fee_on(base_minor),
                }
            })
            .collect()
    }
}

/// `60` basis points as `0.60%`.
fn percent(basis_points: u32) -> String {
    format!("{}.{:02}%", basis_points / 100, basis_points % 100)
}

/// The settlement slip: title 结算单 SETTLEMENT, the terminal, the batch and its times, a
/// line per kind (count and amount), the total, and whether the host's totals balanced.
pub fn settlement_document(s: &SettlementSlip, config: &SlipConfig) -> Document {
    let lang = config.language;
    let mut doc = Document::new();
    for line in &config.header_lines {
        doc = doc.text(line, TextStyle::default(), Align::Center);
    }
    doc = match lang {
        SlipLanguage::Bilingual => doc.text("结算单", TextStyle::BIG, Align::Center).text(
            "SETTLEMENT",
            TextStyle::BOLD,
            Align::Center,
        ),
        SlipLanguage::Chinese => doc.text("结算单", TextStyle::BIG, Align::Center),
        SlipLanguage::English => doc.text("SETTLEMENT", TALL, Align::Center),
    };
    doc = extend(doc, markers(lang, false, s.training));
    doc = merchant_rows(doc.separator('-'), config)
        .row(&config.label("批次号", "BATCH NO."), &s.batch.to_string());
    if let Some(opened) = s.opened_at {
        doc = doc.row(
            &config.label("开始时间", "FROM"),
            &format_datetime(config.local(opened)),
        );
    }
    doc = doc
        .row(
            &config.label("结算时间", "SETTLED AT"),
            &format_datetime(config.local(s.closed_at)),
        )
        .separator('-');
    doc = doc.row(
        &config.label("类型", "TYPE"),
        &config.label("笔数/金额", "COUNT/AMOUNT"),
    );
    for &(kind, count, minor) in &s.per_kind {
        let (zh, en) = kind_names(kind);
        let value = format!("{count} / {}", format_minor(minor, s.currency));
        doc = match lang {
            // The Chinese name beside the figures, the English one under it: both fit 58 mm.
            SlipLanguage::Bilingual => doc.row(zh, &value).line(&format!("  {en}")),
            SlipLanguage::Chinese => doc.row(zh, &value),
            SlipLanguage::English => doc.row(en, &value),
        };
    }
    let (zh, en) = if s.balanced {
        ("对账平", "BALANCED")
    } else {
        ("对账不平", "NOT BALANCED")
    };
    doc = doc
        .separator('-')
        .row(&config.label("总笔数", "TOTAL COUNT"), &s.count.to_string())
        .line(&config.label("总金额", "TOTAL AMOUNT"))
        .text(
            &format_minor(s.total_minor, s.currency),
            TextStyle::BIG,
            Align::Right,
        );
    if !s.fees.is_empty() {
        doc = doc
            .separator('-')
            .line(&config.label("手续费估算", "EST. MERCHANT FEES"));
        for fee in &s.fees {
            let (zh, en) = fee.channel.names();
            let name = format!("{} {}", lang.label(zh, en), percent(fee.basis_points));
            doc = doc.row(&name, &format_minor(fee.fee_minor, s.currency));
        }
        let total: u64 = s.fees.iter().map(|f| f.fee_minor).sum();
        doc = doc.row(
            &config.label("合计", "TOTAL FEES"),
            &format_minor(total, s.currency),
        );
    }
    doc.separator('-')
        .text(&lang.label(zh, en), TALL, Align::Center)
        .feed(2)
        .cut()
}
