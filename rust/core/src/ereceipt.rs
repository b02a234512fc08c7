//! The electronic receipt's verification payload: a short ASCII text shown as a QR code on
//! screen and printed on the e-receipt, which anyone with the terminal's receipt key can
//! check against the journal.
//!
//! ```text
//! PR1|<terminal id>|<batch>|<trace>|<amount minor>|<currency>|<auth code or ->|<yyyymmddhhmmss>|<copy m/c/b>|<mac>
//! ```
//!
//! The date and time is the transaction's creation time in UTC, as journaled. `mac` is the
//! first 8 bytes of HMAC-SHA-256(key, the payload before its last `|`) as 16 lowercase hex
//! digits. [`verify`] checks the form, then the MAC (in constant time), then that the journal
//! holds the same transaction (amount, currency, auth code, date) in a state that stands
//! (approved, completed or voided).

use hmac::{Hmac, Mac};
use poscore_escpos::document::QrLevel;
use poscore_escpos::{Align, Document, Element, TextStyle};
use sha2::Sha256;

use crate::ids::{BatchNumber, TraceNumber};
use crate::lang::Bilingual;
use crate::record::TxnRecord;
use crate::slip::{SlipLanguage, time_of_day};
use crate::txn::{SlipCopy, TxnState};

/// The payload's first field: format and version.
pub const PREFIX: &str = "PR1";

/// Bytes of the HMAC kept in the payload.
const MAC_BYTES: usize = 8;

/// Fields in a payload, the MAC included.
const FIELDS: usize = 10;

/// Why a receipt payload was not verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Not a payload of this format.
    #[error(
        "not a poscore receipt code: {reason}; scan the code again, or check it comes from a poscore terminal"
    )]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The MAC does not match: altered, or made with another key.
    #[error(
        "the receipt code's MAC does not match: it was altered or made by another terminal; do not accept this receipt"
    )]
    BadMac,
    /// The journal has no such transaction.
    #[error(
        "batch {batch} voucher {trace} is not in this terminal's journal: check the terminal; do not accept this receipt"
    )]
    NotInJournal {
        /// The batch named by the payload.
        batch: BatchNumber,
        /// The voucher (trace) number named.
        trace: TraceNumber,
    },
    /// The journal's transaction differs.
    #[error(
        "the receipt's {field} does not match the journal: do not accept this receipt and ask the merchant"
    )]
    Mismatch {
        /// Which field: `amount`, `currency`, `auth_code`, `date` or `state`.
        field: &'static str,
    },
}

impl Bilingual for ReceiptError {
    fn code(&self) -> &'static str {
        match self {
            ReceiptError::Malformed { .. } => "RECEIPT_MALFORMED",
            ReceiptError::BadMac => "RECEIPT_BAD_MAC",
            ReceiptError::NotInJournal { .. } => "RECEIPT_NOT_IN_JOURNAL",
            ReceiptError::Mismatch { .. } => "RECEIPT_MISMATCH",
        }
    }
    fn zh(&self) -> String {
        match self {
            ReceiptError::Malformed { reason } => {
                format!("不是本系统的电子签购单码（{reason}）：请重新扫码")
            }
            ReceiptError::BadMac => "电子签购单码校验失败：已被篡改或来自其他终端，请勿接受".into(),
            ReceiptError::NotInJournal { batch, trace } => {
                format!("批次 {batch} 凭证 {trace} 不在本终端流水中：请勿接受")
            }
            ReceiptError::Mismatch { field } => {
                format!("电子签购单的 {field} 与流水不符：请勿接受并联系商户")
            }
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

/// A payload that verified, with the journal's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// The terminal id the payload names.
    pub terminal_id: String,
    /// Which copy the receipt is.
    pub copy: SlipCopy,
    /// The transaction, as the journal has it.
    pub txn: TxnRecord,
}

/// The verification payload of one copy of a transaction's receipt (see the module
/// documentation). `key` is the terminal's receipt key; any length works, 32 bytes are
/// advised. Characters of the terminal id or auth code outside printable ASCII, and `|`,
/// are written as `_`.
pub fn payload(txn: &TxnRecord, copy: SlipCopy, terminal_id: &str, key: &[u8]) -> String {
    let body = format!(
        "{PREFIX}|{}|{}|{}|{}|{}|{}|{}|{}",
        clean(terminal_id),
        txn.batch,
        txn.trace,
        txn.amount.minor_units(),
        txn.amount.currency().code(),
        auth_text(txn),
        stamp(txn),
        copy_letter(copy),
    );
    let mac = hex(&mac_of(key, &body)[..MAC_BYTES]);
    format!("{body}|{mac}")
}

/// Checks a scanned payload with the terminal's receipt key against the journal: `find`
/// looks a transaction up by batch and voucher number.
pub fn verify(
    payload: &str,
    key: &[u8],
    find: impl Fn(BatchNumber, TraceNumber) -> Option<TxnRecord>,
) -> Result<VerifiedReceipt, ReceiptError> {
    let malformed = |reason: &str| ReceiptError::Malformed {
        reason: reason.to_string(),
    };
    if !payload.is_ascii() {
        return Err(malformed("it has characters that are not ASCII"));
    }
    let fields: Vec<&str> = payload.split('|').collect();
    if fields.len() != FIELDS {
        return Err(malformed(&format!(
            "it has {} fields, not {FIELDS}",
            fields.len()
        )));
    }
    if fields[0] != PREFIX {
        return Err(malformed(&format!(
            "it starts with {:?}, not {PREFIX:?}",
            fields[0]
        )));
    }
    let mac_text = fields[FIELDS - 1];
    let tag = unhex(mac_text)
        .filter(|t| t.len() == MAC_BYTES)
        .ok_or_else(|| malformed("its MAC is not 16 hex digits"))?;
    let body = &payload[..payload.len() - mac_text.len() - 1];
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| ReceiptError::BadMac)?;
    mac.update(body.as_bytes());
    mac.verify_truncated_left(&tag)
        .map_err(|_| ReceiptError::BadMac)?;

    let batch =
        BatchNumber::parse(fields[2]).map_err(|_| malformed("its batch number is not 6 digits"))?;
    let trace = TraceNumber::parse(fields[3])
        .map_err(|_| malformed("its voucher number is not 6 digits"))?;
    let amount: u64 = fields[4]
        .parse()
        .map_err(|_| malformed("its amount is not a number"))?;
    let copy = match fields[8] {
        "m" => SlipCopy::Merchant,
        "c" => SlipCopy::Cardholder,
        "b" => SlipCopy::Bank,
        _ => return Err(malformed("its copy is not m, c or b")),
    };
    let txn = find(batch, trace).ok_or(ReceiptError::NotInJournal { batch, trace })?;
    let mismatch = |field| Err(ReceiptError::Mismatch { field });
    if txn.batch != batch || txn.trace != trace {
        return mismatch("voucher");
    }
    if txn.amount.minor_units() != amount {
        return mismatch("amount");
    }
    if txn.amount.currency().code() != fields[5] {
        return mismatch("currency");
    }
    if auth_text(&txn) != fields[6] {
        return mismatch("auth_code");
    }
    if stamp(&txn) != fields[7] {
        return mismatch("date");
    }
    if !matches!(
        txn.state,
        TxnState::Approved | TxnState::Completed | TxnState::Voided
    ) {
        return mismatch("state");
    }
    Ok(VerifiedReceipt {
        terminal_id: fields[1].to_string(),
        copy,
        txn,
    })
}

/// A slip with the verification QR code added before its final feed and cut: the
/// e-receipt as shown on screen or saved as a PNG.
pub fn with_verification_code(slip: Document, payload: &str, language: SlipLanguage) -> Document {
    let mut elements = slip.elements;
    let tail = elements
        .iter()
        .rposition(|e| !matches!(e, Element::Feed { .. } | Element::Cut { .. }))
        .map_or(0, |i| i + 1);
    let ending = elements.split_off(tail);
    let mut doc = Document { elements }
        .feed(1)
        .text(
            &language.label("电子签购单", "E-RECEIPT"),
            TextStyle::BOLD,
            Align::Center,
        )
        .text(
            &language.label("扫码验证", "SCAN TO VERIFY"),
            TextStyle::default(),
            Align::Center,
        )
        .push(Element::Qr {
            data: payload.to_string(),
            module_size: 4,
            level: QrLevel::M,
            align: Align::Center,
        });
    doc.elements.extend(ending);
    doc
}

/// The auth code as written in the payload (`-` when none).
fn auth_text(txn: &TxnRecord) -> String {
    match txn.auth_code.as_deref() {
        Some(code) if !code.is_empty() => clean(code),
        _ => "-".to_string(),
    }
}

/// `yyyymmddhhmmss` of the transaction's creation, UTC.
fn stamp(txn: &TxnRecord) -> String {
    let (year, month, day) = txn.created_at.civil_date();
    let (h, m, s) = time_of_day(txn.created_at);
    format!("{year:04}{month:02}{day:02}{h:02}{m:02}{s:02}")
}

fn copy_letter(copy: SlipCopy) -> char {
    match copy {
        SlipCopy::Merchant => 'm',
        SlipCopy::Cardholder => 'c',
        SlipCopy::Bank => 'b',
    }
}

/// Printable ASCII without `|`; anything else becomes `_`.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '|' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn mac_of(key: &[u8], body: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return vec![0; 32];
    };
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use crate::slip::testing::sample_txn;
    use crate::time::Timestamp;
    use crate::txn::TxnKind;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn journal(txn: TxnRecord) -> impl Fn(BatchNumber, TraceNumber) -> Option<TxnRecord> {
        move |batch, trace| (batch == txn.batch && trace == txn.trace).then(|| txn.clone())
    }

    #[test]
    fn a_payload_verifies_against_the_journal() {
        let txn = sample_txn(TxnKind::PreAuth);
        let p = payload(&txn, SlipCopy::Cardholder, "10000001", KEY);
        assert_eq!(
            &p[..p.len() - 16],
            "PR1|10000001|000001|000123|50000|CNY|A1B2C3|20260314092653|c|"
        );
        assert!(p.len() < 100 && p.is_ascii());
        let verified = verify(&p, KEY, journal(txn.clone())).unwrap();
        assert_eq!(
            verified,
            VerifiedReceipt {
                terminal_id: "10000001".into(),
                copy: SlipCopy::Cardholder,
                txn: txn.clone()
            }
        );
        // Completed and voided transactions still verify; their slips were real.
        for state in [TxnState::Completed, TxnState::Voided] {
            assert!(
                verify(
                    &p,
                    KEY,
                    journal(TxnRecord {
                        state,
                        ..txn.clone()
                    })
                )
                .is_ok()
            );
        }
    }

    #[test]
    fn every_tampered_field_breaks_the_mac() {
        let txn = sample_txn(TxnKind::CompletionRequest);
        let p = payload(&txn, SlipCopy::Merchant, "10000001", KEY);
        let fields: Vec<&str> = p.split('|').collect();
        let replacements = [
            "10000002",
            "000002",
            "000124",
            "50001",
            "USD",
            "A1B2C4",
            "20260314092654",
            "c",
        ];
        for (index, replacement) in replacements.iter().enumerate() {
            let mut tampered = fields.clone();
            tampered[index + 1] = replacement;
            let tampered = tampered.join("|");
            assert_eq!(
                verify(&tampered, KEY, journal(txn.clone())),
                Err(ReceiptError::BadMac),
                "field {index}: {tampered}"
            );
        }
        assert_eq!(
            verify(&p, b"another key", journal(txn.clone())),
            Err(ReceiptError::BadMac)
        );
        let mut flipped = p.clone();
        let last = if p.ends_with('0') { "1" } else { "0" };
        flipped.replace_range(p.len() - 1.., last);
        assert_eq!(
            verify(&flipped, KEY, journal(txn)),
            Err(ReceiptError::BadMac)
        );
    }

    #[test]
    fn the_journal_must_agree() {
        let txn = sample_txn(TxnKind::PreAuth);
        let p = payload(&txn, SlipCopy::Merchant, "10000001", KEY);
        assert_eq!(
            verify(&p, KEY, |_, _| None),
            Err(ReceiptError::NotInJournal {
                batch: txn.batch,
                trace: txn.trace
            })
        );
        let cases: [(&str, TxnRecord); 5] = [
            (
                "amount",
                TxnRecord {
                    amount: Money::from_minor(50_001, Currency::CNY).unwrap(),
                    ..txn.clone()
                },
            ),
            (
                "currency",
                TxnRecord {
                    amount: Money::from_minor(50_000, Currency::from_code("HKD").unwrap()).unwrap(),
                    ..txn.clone()
                },
            ),
            (
                "auth_code",
                TxnRecord {
                    auth_code: None,
                    ..txn.clone()
                },
            ),
            (
                "date",
                TxnRecord {
                    created_at: Timestamp::from_civil(2026, 3, 15, 9, 26, 53),
                    ..txn.clone()
                },
            ),
            (
                "state",
                TxnRecord {
                    state: TxnState::Reversed,
                    ..txn.clone()
                },
            ),
        ];
        for (field, record) in cases {
            assert_eq!(
                verify(&p, KEY, journal(record)),
                Err(ReceiptError::Mismatch { field }),
                "{field}"
            );
        }
    }

    #[test]
    fn malformed_payloads_are_named() {
        let txn = sample_txn(TxnKind::PreAuth);
        let p = payload(&txn, SlipCopy::Bank, "10000001", KEY);
        for bad in [
            "",
            "hello",
            &p.replacen("PR1", "PR2", 1),
            &p[..p.len() - 2],
            &format!("{p}|x"),
            "PR1|a|b|c|d|e|f|g|h|zz",
        ] {
            assert!(
                matches!(
                    verify(bad, KEY, journal(txn.clone())),
                    Err(ReceiptError::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
        // A payload made with the key but carrying nonsense is still malformed.
        let body = "PR1|10000001|00000x|000123|50000|CNY|A1B2C3|20260314092653|m";
        let forged = format!("{body}|{}", hex(&mac_of(KEY, body)[..8]));
        assert!(matches!(
            verify(&forged, KEY, journal(txn.clone())),
            Err(ReceiptError::Malformed { .. })
        ));
        // Odd characters in the ids are kept out of the format.
        let odd = payload(
            &TxnRecord {
                auth_code: Some("A|B 1".into()),
                ..txn.clone()
            },
            SlipCopy::Merchant,
            "终端|1",
            KEY,
        );
        assert!(odd.is_ascii() && odd.split('|').count() == 10, "{odd}");
        assert!(odd.contains("|A_B_1|"));
    }

    #[test]
    fn the_verification_code_goes_before_the_cut() {
        let doc = Document::new().line("slip").feed(2).cut();
        let doc = with_verification_code(doc, "PR1|x", SlipLanguage::English);
        let n = doc.elements.len();
        assert!(matches!(doc.elements[n - 3], Element::Qr { ref data, .. } if data == "PR1|x"));
        assert!(matches!(doc.elements[n - 1], Element::Cut { .. }));
    }
}
