//! The message: an MTI and its fields. The bitmap is not stored; [`crate::encode`] computes
//! it from the fields present.

use std::collections::BTreeMap;
use std::fmt;

/// A message type indicator, four decimal digits such as `0100`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mti([u8; 4]);

impl Mti {
    /// An MTI from four ASCII digits; `None` if `digits` is not exactly four digits.
    pub fn new(digits: &str) -> Option<Mti> {
        let bytes: [u8; 4] = digits.as_bytes().try_into().ok()?;
        Mti::from_digits(bytes)
    }

    /// An MTI from four ASCII digit bytes; `None` if any byte is not a digit.
    pub fn from_digits(bytes: [u8; 4]) -> Option<Mti> {
        bytes.iter().all(u8::is_ascii_digit).then_some(Mti(bytes))
    }

    /// The four digits, e.g. `"0100"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("????")
    }

    /// The four ASCII digit bytes.
    pub fn digits(&self) -> [u8; 4] {
        self.0
    }

    /// Whether the third digit (the function) marks a response (`0110`, `0210`, `0410`, ...).
    pub fn is_response(&self) -> bool {
        (self.0[2] - b'0') % 2 == 1
    }

    /// The response MTI of a request (`0100` → `0110`, `0220` → `0230`); `None` for a response.
    pub fn response(&self) -> Option<Mti> {
        if self.is_response() {
            return None;
        }
        let mut d = self.0;
        d[2] += 1;
        Some(Mti(d))
    }
}

impl fmt::Debug for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mti({})", self.as_str())
    }
}

impl fmt::Display for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of one field, as the application sees it.
///
/// Numeric, track and text fields hold [`FieldValue::Text`] (digits stay text: leading zeros
/// matter in ISO 8583); binary fields hold [`FieldValue::Binary`]. Whether a value fits its
/// field is checked against the profile by [`crate::encode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// Digits, track data (with `=`) or ASCII text.
    Text(String),
    /// Raw bytes (PIN block, ICC data, MAC, keys).
    Binary(Vec<u8>),
}

/// An ISO 8583 message: the MTI and its fields by number (2..=128).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message type indicator.
    pub mti: Mti,
    /// The fields present, by number.
    pub fields: BTreeMap<u8, FieldValue>,
}

impl Message {
    /// A message with no fields.
    pub fn new(mti: Mti) -> Message {
        Message {
            mti,
            fields: BTreeMap::new(),
        }
    }

    /// Sets a numeric (`n`) field from its digits, e.g. `set_numeric(4, "000000012345")`.
    /// The digits and the length are checked by [`crate::encode`] against the profile.
    pub fn set_numeric(&mut self, number: u8, digits: &str) -> &mut Self {
        self.set_text(number, digits)
    }

    /// Sets a numeric field from a number, left-padded with zeros to `width` digits.
    pub fn set_number(&mut self, number: u8, value: u64, width: usize) -> &mut Self {
        self.fields
            .insert(number, FieldValue::Text(format!("{value:0width$}")));
        self
    }

    /// Sets a text field (`a`, `an`, `ans`) or track field (`z`, with `=` as separator).
    pub fn set_text(&mut self, number: u8, text: &str) -> &mut Self {
        self.fields
            .insert(number, FieldValue::Text(text.to_owned()));
        self
    }

    /// Sets a binary (`b`) field.
    pub fn set_binary(&mut self, number: u8, bytes: &[u8]) -> &mut Self {
        self.fields
            .insert(number, FieldValue::Binary(bytes.to_vec()));
        self
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, number: u8) -> Option<FieldValue> {
        self.fields.remove(&number)
    }

    /// Whether field `number` is present.
    pub fn has(&self, number: u8) -> bool {
        self.fields.contains_key(&number)
    }

    /// The text of a numeric, track or text field; `None` if absent or binary.
    pub fn get_text(&self, number: u8) -> Option<&str> {
        match self.fields.get(&number)? {
            FieldValue::Text(text) => Some(text),
            FieldValue::Binary(_) => None,
        }
    }

    /// The value of a numeric field as a number; `None` if absent, not all digits, or too large.
    pub fn get_numeric(&self, number: u8) -> Option<u64> {
        let text = self.get_text(number)?;
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    }

    /// The bytes of a binary field; `None` if absent or text.
    pub fn get_binary(&self, number: u8) -> Option<&[u8]> {
        match self.fields.get(&number)? {
            FieldValue::Binary(bytes) => Some(bytes),
            FieldValue::Text(_) => None,
        }
    }

    /// The primary and secondary bitmaps of the fields present (bit 1 of the primary is set
    /// when any field above 64 is present). Numbers 0 and 1 are not fields and are left out.
    pub fn bitmap(&self) -> (u64, u64) {
        let mut primary = 0u64;
        let mut secondary = 0u64;
        for &n in self.fields.keys() {
            match n {
                2..=64 => primary |= 1 << (64 - u32::from(n)),
                65..=128 => secondary |= 1 << (128 - u32::from(n)),
                _ => {}
            }
        }
        if secondary != 0 {
            primary |= 1 << 63;
        }
        (primary, secondary)
    }
}
