//! Card data: the primary account number (PAN), its masked form, its keyed hash, and the
//! card's expiry date.
//!
//! A full PAN lives only in memory, inside [`Pan`], which wipes itself when dropped and never
//! prints itself (its `Debug` shows the masked form). What reaches the journal, slips and
//! screens is the [`MaskedPan`] (BIN + last 4, PCI DSS 3.4.1) and the [`PanHash`] (a keyed
//! HMAC-SHA-256, PCI DSS 3.5.1), which matches cards without storing them. The key for the
//! hash comes from outside the journal ([`PanHashKey`]), so the two cannot be correlated by
//! someone who only has the journal file.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::lang::Bilingual;
use crate::time::Timestamp;

/// Why card data typed or read was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// No card number.
    #[error("the card number is empty; key in or read the card again")]
    PanEmpty,
    /// A character that is not a digit.
    #[error("the card number has a non-digit at position {position}; card numbers are digits only")]
    PanNotDigits {
        /// 1-based position of the first bad character.
        position: usize,
    },
    /// Too short or too long.
    #[error("the card number has {length} digits; card numbers have 13 to 19 digits")]
    PanLength {
        /// How many digits were given.
        length: usize,
    },
    /// The Luhn check digit does not match: a mistyped number.
    #[error(
        "the card number fails its check digit (Luhn); it was probably mistyped, key it in again"
    )]
    PanLuhn,
    /// The expiry is not four digits YYMM.
    #[error("the expiry date must be four digits YYMM, e.g. 2812 for December 2028")]
    ExpiryFormat,
    /// The month is not 01–12.
    #[error("the expiry month {month:02} is not a month (01 to 12); the date is YYMM")]
    ExpiryMonth {
        /// The month given.
        month: u8,
    },
    /// The card expired before today.
    #[error("the card expired at the end of {expiry}; ask for another card")]
    Expired {
        /// The expiry, as YYMM.
        expiry: String,
    },
}

impl Bilingual for CardError {
    fn code(&self) -> &'static str {
        match self {
            CardError::PanEmpty => "PAN_EMPTY",
            CardError::PanNotDigits { .. } => "PAN_NOT_DIGITS",
            CardError::PanLength { .. } => "PAN_LENGTH",
            CardError::PanLuhn => "PAN_LUHN",
            CardError::ExpiryFormat => "EXPIRY_FORMAT",
            CardError::ExpiryMonth { .. } => "EXPIRY_MONTH",
            CardError::Expired { .. } => "CARD_EXPIRED",
        }
    }
    fn zh(&self) -> String {
        match self {
            CardError::PanEmpty => "卡号为空：请重新输入或刷卡".into(),
            CardError::PanNotDigits { position } => {
                format!("卡号第 {position} 位不是数字：卡号只含数字")
            }
            CardError::PanLength { length } => format!("卡号有 {length} 位：卡号应为 13 到 19 位"),
            CardError::PanLuhn => "卡号校验位错误（Luhn）：可能输错了，请重新输入".into(),
            CardError::ExpiryFormat => {
                "有效期应为四位数字 YYMM，例如 2812 表示 2028 年 12 月".into()
            }
            CardError::ExpiryMonth { month } => {
                format!("有效期月份 {month:02} 不正确（应为 01 到 12），格式为 YYMM")
            }
            CardError::Expired { expiry } => format!("卡片已过期（{expiry}）：请换一张卡"),
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

/// A full primary account number, held in memory only and wiped on drop.
///
/// Its `Debug` and `Display` show the masked form, so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Pan(Zeroizing<String>);

impl Pan {
    /// Parses and checks a card number: 13–19 digits with a valid Luhn check digit.
    pub fn parse(text: &str) -> Result<Pan, CardError> {
        if text.is_empty() {
            return Err(CardError::PanEmpty);
        }
        if let Some(position) = text.chars().position(|c| !c.is_ascii_digit()) {
            return Err(CardError::PanNotDigits {
                position: position + 1,
            });
        }
        if !(13..=19).contains(&text.len()) {
            return Err(CardError::PanLength { length: text.len() });
        }
        if !luhn_valid(text) {
            return Err(CardError::PanLuhn);
        }
        Ok(Pan(Zeroizing::new(text.to_string())))
    }

    /// The digits. Only for building a host message; never store or log them.
    pub fn expose_digits(&self) -> &str {
        &self.0
    }

    /// The masked form for slips and screens: BIN (first 6) and last 4, the rest `*`.
    pub fn masked(&self) -> MaskedPan {
        let digits = self.0.as_str();
        let hidden = digits.len() - 10;
        MaskedPan(format!(
            "{}{}{}",
            &digits[..6],
            "*".repeat(hidden),
            &digits[digits.len() - 4..]
        ))
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.masked())
    }
}

impl fmt::Display for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.masked(), f)
    }
}

/// Whether a digit string passes the Luhn (mod 10) check.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (index, byte) in digits.bytes().rev().enumerate() {
        if !byte.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(byte - b'0');
        if index % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// A PAN masked for display: first 6 and last 4 digits, the rest `*` (`622202******1234`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MaskedPan(String);

impl MaskedPan {
    /// Wraps a masked PAN read back from the journal.
    pub fn from_stored(masked: String) -> MaskedPan {
        MaskedPan(masked)
    }

    /// The masked text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret key of the PAN hash. It must not be stored in the journal: on a device it
/// comes from the secure module, on a desktop from a key file beside the journal.
#[derive(Clone)]
pub struct PanHashKey(Zeroizing<Vec<u8>>);

impl PanHashKey {
    /// Wraps key bytes; at least 16 bytes are required.
    pub fn new(bytes: Vec<u8>) -> Option<PanHashKey> {
        (bytes.len() >= 16).then(|| PanHashKey(Zeroizing::new(bytes)))
    }

    /// The keyed hash of a PAN.
    pub fn hash(&self, pan: &Pan) -> PanHash {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(pan.expose_digits().as_bytes());
        PanHash(hex(&mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for PanHashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PanHashKey(..)")
    }
}

/// The keyed hash (HMAC-SHA-256, hex) of a PAN: matches a card without storing it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PanHash(String);

impl PanHash {
    /// Wraps a hash read back from the journal.
    pub fn from_stored(hex: String) -> PanHash {
        PanHash(hex)
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A card's expiry date, year and month (`YYMM`, ISO 8583 field 14).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    year: u8,
    month: u8,
}

impl Expiry {
    /// Parses `YYMM`.
    pub fn parse(text: &str) -> Result<Expiry, CardError> {
        if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::ExpiryFormat);
        }
        let year: u8 = text[..2].parse().map_err(|_| CardError::ExpiryFormat)?;
        let month: u8 = text[2..].parse().map_err(|_| CardError::ExpiryFormat)?;
        if !(1..=12).contains(&month) {
            return Err(CardError::ExpiryMonth { month });
        }
        Ok(Expiry { year, month })
    }

    /// The `YYMM` text.
    pub fn as_yymm(&self) -> String {
        format!("{:02}{:02}", self.year, self.month)
    }

    /// Whether the card has expired at `now` (a card is valid through the end of its month).
    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        let (year, month, _) = now.civil_date();
        let (now_year, now_month) = (year.rem_euclid(100) as u8, month);
        (self.year, self.month) < (now_year, now_month)
    }
}

impl fmt::Debug for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Expiry is cardholder data; keep it out of debug output too.
        f.write_str("Expiry(**/**)")
    }
}

/// What the card reader (or the cashier's keypad) gave: held in memory only.
#[derive(Clone, Debug)]
pub struct CardInput {
    /// The card number.
    pub pan: Pan,
    /// The expiry date.
    pub expiry: Expiry,
}

impl CardInput {
    /// Parses a keyed-in card: PAN and `YYMM` expiry, refusing an expired card at `now`.
    pub fn parse(pan: &str, expiry: &str, now: Timestamp) -> Result<CardInput, CardError> {
        let pan = Pan::parse(pan)?;
        let expiry = Expiry::parse(expiry)?;
        if expiry.is_expired_at(now) {
            return Err(CardError::Expired {
                expiry: expiry.as_yymm(),
            });
        }
        Ok(CardInput { pan, expiry })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VISA_TEST: &str = "4111111111111111";
    const CUP_TEST: &str = "6222021234567890128";

    #[test]
    fn luhn() {
        assert!(luhn_valid(VISA_TEST));
        assert!(luhn_valid(CUP_TEST));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn pan_errors() {
        assert_eq!(Pan::parse(""), Err(CardError::PanEmpty));
        assert_eq!(
            Pan::parse("4111 1111"),
            Err(CardError::PanNotDigits { position: 5 })
        );
        assert_eq!(
            Pan::parse("411111111111"),
            Err(CardError::PanLength { length: 12 })
        );
        assert_eq!(
            Pan::parse("41111111111111111111"),
            Err(CardError::PanLength { length: 20 })
        );
        assert_eq!(Pan::parse("4111111111111112"), Err(CardError::PanLuhn));
    }

    #[test]
    fn masking_keeps_bin_and_last_four_only() {
        assert_eq!(
            Pan::parse(VISA_TEST).unwrap().masked().as_str(),
            "411111******1111"
        );
        assert_eq!(
            Pan::parse(CUP_TEST).unwrap().masked().as_str(),
            "622202*********0128"
        );
        let pan = Pan::parse(CUP_TEST).unwrap();
        assert!(!format!("{pan:?} {pan}").contains(CUP_TEST));
    }

    #[test]
    fn keyed_hash_depends_on_key_and_pan() {
        let k1 = PanHashKey::new(vec![1; 32]).unwrap();
        let k2 = PanHashKey::new(vec![2; 32]).unwrap();
        let a = Pan::parse(VISA_TEST).unwrap();
        let b = Pan::parse(CUP_TEST).unwrap();
        assert_eq!(k1.hash(&a), k1.hash(&a));
        assert_ne!(k1.hash(&a), k1.hash(&b));
        assert_ne!(k1.hash(&a), k2.hash(&a));
        assert_eq!(k1.hash(&a).as_str().len(), 64);
        assert!(PanHashKey::new(vec![0; 8]).is_none());
    }

    #[test]
    fn expiry() {
        let nov_2026 = Timestamp::from_civil(2026, 11, 26, 12, 0, 0);
        assert_eq!(Expiry::parse("2812").unwrap().as_yymm(), "2812");
        assert_eq!(Expiry::parse("281"), Err(CardError::ExpiryFormat));
        assert_eq!(Expiry::parse("28a2"), Err(CardError::ExpiryFormat));
        assert_eq!(
            Expiry::parse("2813"),
            Err(CardError::ExpiryMonth { month: 13 })
        );
        assert_eq!(
            Expiry::parse("2800"),
            Err(CardError::ExpiryMonth { month: 0 })
        );
        assert!(!Expiry::parse("2611").unwrap().is_expired_at(nov_2026));
        assert!(Expiry::parse("2610").unwrap().is_expired_at(nov_2026));
        assert!(matches!(
            CardInput::parse(VISA_TEST, "2610", nov_2026),
            Err(CardError::Expired { .. })
        ));
        assert!(CardInput::parse(VISA_TEST, "3012", nov_2026).is_ok());
    }
}
