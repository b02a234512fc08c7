//! Encoding and decoding of the message body (MTI, bitmap, fields), driven by a [`Profile`].
//! No framing here: see [`crate::frame`] for the length, TPDU and header around the body.

use crate::message::{FieldValue, Message, Mti};
use crate::spec::{Content, FieldSpec, Kind, Length, MtiEncoding, Pad, PrefixEncoding, Profile};

/// Why a message could not be encoded. Every variant names the field; fix the value (or the
/// profile, if the host really expects something else).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The number is not a data field (0, 1 is the bitmap, above 128).
    #[error("field {field}: not a data field number (use 2..=128)")]
    InvalidFieldNumber {
        /// The offending number.
        field: u8,
    },
    /// The profile has no spec for the field.
    #[error(
        "field {field}: not defined in the profile {profile:?}; add it with Profile::with_field or remove it"
    )]
    NotInProfile {
        /// The field number.
        field: u8,
        /// The profile's name.
        profile: &'static str,
    },
    /// Text given for a binary field, or bytes for a text field.
    #[error("field {field}: expects a {expected} value (use Message::set_{expected})")]
    WrongValueKind {
        /// The field number.
        field: u8,
        /// `"text"` or `"binary"`.
        expected: &'static str,
    },
    /// A character the field's kind does not allow.
    #[error(
        "field {field}: character {character:?} at index {index} is not allowed in an `{kind}` field"
    )]
    InvalidCharacter {
        /// The field number.
        field: u8,
        /// The index of the character in the value.
        index: usize,
        /// The character.
        character: char,
        /// The kind's abbreviation (`n`, `an`, `z`, ...).
        kind: &'static str,
    },
    /// A fixed-length field of the wrong length (values are never padded silently).
    #[error("field {field}: fixed length {expected}, got {actual} (pad the value yourself)")]
    WrongLength {
        /// The field number.
        field: u8,
        /// The length the profile fixes.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A variable field longer than its maximum.
    #[error("field {field}: at most {max} allowed, got {actual}")]
    TooLong {
        /// The field number.
        field: u8,
        /// The maximum.
        max: usize,
        /// The length given.
        actual: usize,
    },
}

/// Why the bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeReason {
    /// The message ends inside this item.
    #[error("truncated: {needed} bytes needed, {available} left")]
    Truncated {
        /// Bytes the item needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A nibble that is not a decimal digit where BCD digits are expected.
    #[error("invalid BCD nibble {nibble:#x}")]
    InvalidBcd {
        /// The nibble.
        nibble: u8,
    },
    /// A length prefix that is not decimal digits.
    #[error("invalid length prefix {prefix:02x?}")]
    InvalidLengthPrefix {
        /// The prefix bytes.
        prefix: Vec<u8>,
    },
    /// A length prefix above the field's maximum.
    #[error("length {length} above the maximum {max}")]
    LengthTooLarge {
        /// The announced length.
        length: usize,
        /// The profile's maximum.
        max: usize,
    },
    /// The bitmap announces a field the profile does not define.
    #[error("the bitmap announces a field the profile does not define")]
    NotInProfile,
    /// A byte the field's kind does not allow (non-ASCII or a letter in a numeric field).
    #[error("byte {byte:#04x} not allowed in an `{kind}` field")]
    InvalidText {
        /// The byte.
        byte: u8,
        /// The kind's abbreviation.
        kind: &'static str,
    },
    /// Bytes after the last field.
    #[error("{count} bytes after the last field")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

/// A decode failure: where (field number and byte offset in the body) and why. Field 0 is the
/// MTI and field 1 the bitmap(s). A peer that sends such bytes is not speaking the profile:
/// log the error and the bytes (never the PAN), and drop the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode field {field} at byte offset {offset}: {reason}")]
pub struct DecodeError {
    /// The field number (0 = MTI, 1 = bitmap).
    pub field: u8,
    /// The byte offset in the body where the failing item starts (or the failing byte).
    pub offset: usize,
    /// Why.
    pub reason: DecodeReason,
}

/// Encodes a message: MTI, bitmap(s) computed from the fields present, then the fields in
/// number order.
pub fn encode(message: &Message, profile: &Profile) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(256);
    encode_into(message, profile, &mut out)?;
    Ok(out)
}

/// As [`encode`], appending to `out` (which is left with partial output on error).
pub fn encode_into(
    message: &Message,
    profile: &Profile,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let d = message.mti.digits();
    match profile.mti {
        MtiEncoding::Bcd => out.extend([
            ((d[0] - b'0') << 4) | (d[1] - b'0'),
            ((d[2] - b'0') << 4) | (d[3] - b'0'),
        ]),
        MtiEncoding::Ascii => out.extend(d),
    }
    if let Some(&field) = message.fields.keys().find(|&&n| !(2..=128).contains(&n)) {
        return Err(EncodeError::InvalidFieldNumber { field });
    }
    let (primary, secondary) = message.bitmap();
    out.extend(primary.to_be_bytes());
    if secondary != 0 {
        out.extend(secondary.to_be_bytes());
    }
    for (&number, value) in &message.fields {
        let spec = profile.field(number).ok_or(EncodeError::NotInProfile {
            field: number,
            profile: profile.name,
        })?;
        encode_field(spec, value, out)?;
    }
    Ok(())
}

fn encode_field(
    spec: &FieldSpec,
    value: &FieldValue,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let field = spec.number;
    let data: &[u8] = match (spec.content, value) {
        (Content::Binary, FieldValue::Binary(bytes)) => bytes,
        (Content::Binary, FieldValue::Text(_)) => {
            return Err(EncodeError::WrongValueKind {
                field,
                expected: "binary",
            });
        }
        (_, FieldValue::Text(text)) => text.as_bytes(),
        (_, FieldValue::Binary(_)) => {
            return Err(EncodeError::WrongValueKind {
                field,
                expected: "text",
            });
        }
    };
    if spec.kind != Kind::Binary {
        if let Some(index) = data.iter().position(|&c| !spec.kind.allows(c)) {
            let character = value_char(value, index);
            return Err(EncodeError::InvalidCharacter {
                field,
                index,
                character,
                kind: spec.kind.abbreviation(),
            });
        }
    }
    let units = data.len();
    match spec.length {
        Length::Fixed(n) if units != n => {
            return Err(EncodeError::WrongLength {
                field,
                expected: n,
                actual: units,
            });
        }
        Length::Fixed(_) => {}
        Length::LlVar(max) | Length::LllVar(max) => {
            let max = max.min(if matches!(spec.length, Length::LlVar(_)) {
                99
            } else {
                999
            });
            if units > max {
                return Err(EncodeError::TooLong {
                    field,
                    max,
                    actual: units,
                });
            }
            let lll = matches!(spec.length, Length::LllVar(_));
            match (spec.prefix, lll) {
                (PrefixEncoding::Bcd, false) => out.push(bcd_byte(units)),
                (PrefixEncoding::Bcd, true) => {
                    out.extend([bcd_byte(units / 100), bcd_byte(units % 100)])
                }
                (PrefixEncoding::Ascii, false) => {
                    out.extend([b'0' + (units / 10) as u8, b'0' + (units % 10) as u8])
                }
                (PrefixEncoding::Ascii, true) => out.extend([
                    b'0' + (units / 100) as u8,
                    b'0' + (units / 10 % 10) as u8,
                    b'0' + (units % 10) as u8,
                ]),
            }
        }
    }
    match spec.content {
        Content::Ascii | Content::Binary => out.extend_from_slice(data),
        Content::Bcd(pad) => pack_bcd(data, pad, out),
    }
    Ok(())
}

fn value_char(value: &FieldValue, index: usize) -> char {
    match value {
        FieldValue::Text(text) => text[index..].chars().next().unwrap_or('\u{fffd}'),
        FieldValue::Binary(bytes) => char::from(bytes[index]),
    }
}

/// `n` (0..=99) as one packed BCD byte.
fn bcd_byte(n: usize) -> u8 {
    (((n / 10) as u8) << 4) | (n % 10) as u8
}

/// A digit or `=` as a nibble (checked by the caller: only digits and `=` get here).
fn nibble_of(c: u8) -> u8 {
    if c == b'=' { 0xD } else { c - b'0' }
}

fn pack_bcd(digits: &[u8], pad: Pad, out: &mut Vec<u8>) {
    let mut rest = digits;
    if digits.len() % 2 == 1 && pad == Pad::Left {
        out.push(nibble_of(digits[0]));
        rest = &digits[1..];
    }
    let mut pairs = rest.chunks_exact(2);
    for pair in &mut pairs {
        out.push((nibble_of(pair[0]) << 4) | nibble_of(pair[1]));
    }
    if let [last] = pairs.remainder() {
        out.push(nibble_of(*last) << 4);
    }
}

/// A cursor over the body that turns running out of bytes into a typed error.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: u8) -> Result<&'a [u8], DecodeError> {
        let available = self.bytes.len() - self.pos;
        if n > available {
            return Err(DecodeError {
                field,
                offset: self.pos,
                reason: DecodeReason::Truncated {
                    needed: n,
                    available,
                },
            });
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }
}

/// Decodes a message body (MTI, bitmap, fields) with the profile. Never panics; every error
/// names the field and the byte offset.
pub fn decode(bytes: &[u8], profile: &Profile) -> Result<Message, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    let mti = match profile.mti {
        MtiEncoding::Bcd => {
            let b = r.take(2, 0)?;
            let mut d = [0u8; 4];
            for (i, nibble) in [b[0] >> 4, b[0] & 0xF, b[1] >> 4, b[1] & 0xF]
                .into_iter()
                .enumerate()
            {
                if nibble > 9 {
                    return Err(DecodeError {
                        field: 0,
                        offset: i / 2,
                        reason: DecodeReason::InvalidBcd { nibble },
                    });
                }
                d[i] = b'0' + nibble;
            }
            d
        }
        MtiEncoding::Ascii => {
            let b = r.take(4, 0)?;
            let mut d = [0u8; 4];
            d.copy_from_slice(b);
            if let Some(i) = d.iter().position(|c| !c.is_ascii_digit()) {
                return Err(DecodeError {
                    field: 0,
                    offset: i,
                    reason: DecodeReason::InvalidText {
                        byte: d[i],
                        kind: "n",
                    },
                });
            }
            d
        }
    };
    let mti = Mti::from_digits(mti).ok_or(DecodeError {
        field: 0,
        offset: 0,
        reason: DecodeReason::NotInProfile,
    })?;
    let mut message = Message::new(mti);
    let primary = read_u64(&mut r)?;
    let secondary = if primary & (1 << 63) != 0 {
        read_u64(&mut r)?
    } else {
        0
    };
    let mut last = 1u8;
    for (base, bits) in [(0u8, primary & !(1 << 63)), (64u8, secondary)] {
        let mut bits = bits;
        while bits != 0 {
            let number = base + bits.leading_zeros() as u8 + 1;
            bits &= !(1u64 << (63 - bits.leading_zeros()));
            let spec = profile.field(number).ok_or(DecodeError {
                field: number,
                offset: r.pos,
                reason: DecodeReason::NotInProfile,
            })?;
            let value = decode_field(spec, &mut r)?;
            message.fields.insert(number, value);
            last = number;
        }
    }
    if r.pos != bytes.len() {
        return Err(DecodeError {
            field: last,
            offset: r.pos,
            reason: DecodeReason::TrailingBytes {
                count: bytes.len() - r.pos,
            },
        });
    }
    Ok(message)
}

fn read_u64(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
    let b = r.take(8, 1)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_be_bytes(a))
}

fn decode_field(spec: &FieldSpec, r: &mut Reader<'_>) -> Result<FieldValue, DecodeError> {
    let field = spec.number;
    let start = r.pos;
    let units = match spec.length {
        Length::Fixed(n) => n,
        Length::LlVar(max) | Length::LllVar(max) => {
            let digits = if matches!(spec.length, Length::LlVar(_)) {
                2
            } else {
                3
            };
            let bad = |prefix: &[u8]| DecodeError {
                field,
                offset: start,
                reason: DecodeReason::InvalidLengthPrefix {
                    prefix: prefix.to_vec(),
                },
            };
            let length = match spec.prefix {
                PrefixEncoding::Bcd => {
                    let prefix = r.take(digits - 1, field)?;
                    let mut n = 0usize;
                    for &b in prefix {
                        let (hi, lo) = (b >> 4, b & 0xF);
                        if hi > 9 || lo > 9 {
                            return Err(bad(prefix));
                        }
                        n = n * 100 + usize::from(hi) * 10 + usize::from(lo);
                    }
                    n
                }
                PrefixEncoding::Ascii => {
                    let prefix = r.take(digits, field)?;
                    let mut n = 0usize;
                    for &b in prefix {
                        if !b.is_ascii_digit() {
                            return Err(bad(prefix));
                        }
                        n = n * 10 + usize::from(b - b'0');
                    }
                    n
                }
            };
            if length > max {
                return Err(DecodeError {
                    field,
                    offset: start,
                    reason: DecodeReason::LengthTooLarge { length, max },
                });
            }
            length
        }
    };
    let data_offset = r.pos;
    let data = r.take(spec.content_bytes(units), field)?;
    match spec.content {
        Content::Binary => Ok(FieldValue::Binary(data.to_vec())),
        Content::Ascii => {
            if let Some(i) = data
                .iter()
                .position(|&c| !c.is_ascii() || !spec.kind.allows(c))
            {
                return Err(DecodeError {
                    field,
                    offset: data_offset + i,
                    reason: DecodeReason::InvalidText {
                        byte: data[i],
                        kind: spec.kind.abbreviation(),
                    },
                });
            }
            // All bytes are ASCII, so this is valid UTF-8.
            Ok(FieldValue::Text(
                data.iter().map(|&c| char::from(c)).collect(),
            ))
        }
        Content::Bcd(pad) => {
            let mut text = String::with_capacity(units);
            let skip_first = units % 2 == 1 && pad == Pad::Left;
            let total = data.len() * 2;
            let first = usize::from(skip_first);
            for i in first..first + units.min(total) {
                let byte = data[i / 2];
                let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0xF };
                let c = match nibble {
                    0..=9 => b'0' + nibble,
                    0xD if spec.kind == Kind::Track => b'=',
                    _ => {
                        return Err(DecodeError {
                            field,
                            offset: data_offset + i / 2,
                            reason: DecodeReason::InvalidBcd { nibble },
                        });
                    }
                };
                text.push(char::from(c));
            }
            Ok(FieldValue::Text(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{FieldSpec, unionpay_pos};

    fn msg(mti: &str) -> Message {
        Message::new(Mti::new(mti).unwrap())
    }

    #[test]
    fn bcd_padding_follows_the_spec() {
        let p = unionpay_pos();
        let mut m = msg("0200");
        m.set_numeric(22, "021")
            .set_numeric(2, "6225880000000000001")
            .set_text(35, "6225=12");
        let bytes = encode(&m, &p).unwrap();
        // MTI 02 00, bitmap: bits 2, 22, 35.
        assert_eq!(&bytes[..2], &[0x02, 0x00]);
        assert_eq!(
            &bytes[2..10],
            &[0x40, 0x00, 0x04, 0x00, 0x20, 0x00, 0x00, 0x00]
        );
        // F2: LL=19 (BCD), left-justified, filler last.
        assert_eq!(
            &bytes[10..21],
            &[0x19, 0x62, 0x25, 0x88, 0, 0, 0, 0, 0, 0, 0x01 << 4]
        );
        // F22 n3 left-justified (the CUP convention): 0 2 1 0.
        assert_eq!(&bytes[21..23], &[0x02, 0x10]);
        // F35: LL=07, "6225D12" + filler.
        assert_eq!(&bytes[23..], &[0x07, 0x62, 0x25, 0xD1, 0x20]);
        assert_eq!(decode(&bytes, &p).unwrap(), m);
        // The other padding, when a host wants it: right-justified, 0 0 2 1.
        let right = p.clone().with_field(FieldSpec::bcd(
            22,
            "entry mode",
            Kind::Numeric,
            Length::Fixed(3),
            Pad::Left,
        ));
        let bytes = encode(&m, &right).unwrap();
        assert_eq!(&bytes[21..23], &[0x00, 0x21]);
        assert_eq!(decode(&bytes, &right).unwrap(), m);
    }

    #[test]
    fn lllvar_prefixes_are_bcd() {
        let p = unionpay_pos();
        let mut m = msg("0100");
        m.set_numeric(60, "1000000100060")
            .set_binary(55, &[0xAB; 130])
            .set_text(63, "01 ");
        let bytes = encode(&m, &p).unwrap();
        let f55 = 10;
        assert_eq!(&bytes[f55..f55 + 3], &[0x01, 0x30, 0xAB]);
        let f60 = f55 + 2 + 130;
        assert_eq!(
            &bytes[f60..f60 + 9],
            &[0x00, 0x13, 0x10, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00]
        );
        let f63 = f60 + 9;
        assert_eq!(&bytes[f63..], &[0x00, 0x03, b'0', b'1', b' ']);
        assert_eq!(decode(&bytes, &p).unwrap(), m);
    }

    #[test]
    fn encode_errors_name_the_field() {
        let p = unionpay_pos();
        let mut m = msg("0100");
        m.set_numeric(4, "12");
        assert_eq!(
            encode(&m, &p),
            Err(EncodeError::WrongLength {
                field: 4,
                expected: 12,
                actual: 2
            })
        );
        m.set_numeric(4, "00000000001A");
        assert!(matches!(
            encode(&m, &p),
            Err(EncodeError::InvalidCharacter {
                field: 4,
                index: 11,
                character: 'A',
                ..
            })
        ));
        m.set_numeric(4, "000000000010").set_text(52, "12345678");
        assert_eq!(
            encode(&m, &p),
            Err(EncodeError::WrongValueKind {
                field: 52,
                expected: "binary"
            })
        );
        m.remove(52);
        m.set_numeric(2, &"1".repeat(20));
        assert_eq!(
            encode(&m, &p),
            Err(EncodeError::TooLong {
                field: 2,
                max: 19,
                actual: 20
            })
        );
        m.remove(2);
        m.set_text(1, "x");
        assert_eq!(
            encode(&m, &p),
            Err(EncodeError::InvalidFieldNumber { field: 1 })
        );
        m.remove(1);
        m.set_text(90, "x");
        assert!(matches!(
            encode(&m, &p),
            Err(EncodeError::NotInProfile { field: 90, .. })
        ));
    }

    #[test]
    fn decode_errors_carry_field_and_offset() {
        let p = unionpay_pos();
        let mut m = msg("0100");
        m.set_numeric(3, "030000")
            .set_numeric(11, "000123")
            .set_text(41, "TERM0001");
        let good = encode(&m, &p).unwrap();
        // Truncated inside F41.
        let err = decode(&good[..good.len() - 2], &p).unwrap_err();
        assert_eq!(err.field, 41);
        assert_eq!(err.offset, good.len() - 8);
        assert!(matches!(
            err.reason,
            DecodeReason::Truncated {
                needed: 8,
                available: 6
            }
        ));
        // A hex letter in F11.
        let mut bad = good.clone();
        bad[13] = 0x1A;
        let err = decode(&bad, &p).unwrap_err();
        assert_eq!((err.field, err.offset), (11, 13));
        assert_eq!(err.reason, DecodeReason::InvalidBcd { nibble: 0xA });
        // Trailing bytes.
        let mut long = good.clone();
        long.push(0);
        let err = decode(&long, &p).unwrap_err();
        assert_eq!((err.field, err.offset), (41, good.len()));
        // Invalid MTI, short bitmap.
        assert_eq!(decode(&[0x0A, 0x00], &p).unwrap_err().field, 0);
        assert_eq!(decode(&[0x01, 0x00, 0x20], &p).unwrap_err().field, 1);
        // A field the profile lacks (secondary bitmap announcing field 70).
        let mut sec = vec![0x08, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0];
        sec.extend([0x04, 0, 0, 0, 0, 0, 0, 0]);
        let err = decode(&sec, &p).unwrap_err();
        assert_eq!(
            (err.field, err.offset, err.reason),
            (70, 18, DecodeReason::NotInProfile)
        );
        // An LLVAR length above the maximum.
        let mut over = vec![0x02, 0x00, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x20];
        over.extend([0x11; 10]);
        let err = decode(&over, &p).unwrap_err();
        assert_eq!((err.field, err.offset), (2, 10));
        assert_eq!(
            err.reason,
            DecodeReason::LengthTooLarge {
                length: 20,
                max: 19
            }
        );
        assert!(err.to_string().contains("field 2 at byte offset 10"));
    }
}
