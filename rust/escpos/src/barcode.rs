//! CODE128 as ESC/POS sends it (`GS k 73 n d…`) and as it prints.
//!
//! The ESC/POS data of a CODE128 barcode starts with a code set (`{A`, `{B` or `{C`) and may
//! switch sets or insert function characters with more `{` escapes (Epson `GS k` m = 73):
//!
//! | Escape | Meaning |
//! |---|---|
//! | `{A` `{B` `{C` | switch to code set A, B or C |
//! | `{S` | SHIFT: the next character is in the other of A/B |
//! | `{1` `{2` `{3` `{4` | FNC1 … FNC4 |
//! | `{{` | the character `{` itself (code set B) |
//!
//! In code set C each data byte is a pair of digits as a number 0–99 (the byte 0x0C is
//! "12"). [`code128_payload`] builds that data from text, [`code128_modules`] turns it into
//! bars and spaces (start, data, checksum, stop) for the renderer, [`code128_text`] gives the
//! human-readable line printed under it.

/// Why a CODE128 barcode cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    /// Nothing to encode.
    #[error("barcode data is empty: give at least one character")]
    Empty,
    /// A character CODE128 set B cannot carry (only printable ASCII 0x20–0x7E is accepted).
    #[error(
        "character {ch:?} at {index} is not printable ASCII: CODE128 here carries 0x20..=0x7E only"
    )]
    NotPrintable {
        /// Its index (in characters).
        index: usize,
        /// The character.
        ch: char,
    },
    /// More than the 255 bytes one `GS k` command carries.
    #[error("barcode data is {len} bytes, over GS k's 255: shorten it")]
    TooLong {
        /// The payload length.
        len: usize,
    },
    /// The ESC/POS payload does not start with `{A`, `{B` or `{C`.
    #[error("CODE128 data must start with a code set: {{A, {{B or {{C")]
    MissingCodeSet,
    /// A byte the current code set cannot carry.
    #[error("byte 0x{byte:02X} at {index} is not valid in code set {set}")]
    BadByte {
        /// Its offset in the payload.
        index: usize,
        /// The byte.
        byte: u8,
        /// The code set in force (`A`, `B` or `C`).
        set: char,
    },
    /// An unknown or misplaced `{` escape.
    #[error("escape `{{` followed by 0x{next:02X} at {index} is not valid in code set {set}")]
    BadEscape {
        /// Offset of the `{`.
        index: usize,
        /// The byte after it (0 when the payload ends).
        next: u8,
        /// The code set in force.
        set: char,
    },
}

/// Bar/space widths of the 107 CODE128 symbols (values 0–102, then START A/B/C = 103–105
/// and STOP = 106 with its final two-module bar), starting with a bar.
pub const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", // 0-9
    "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211",
    "221132", // 10-19
    "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112",
    "322211", // 20-29
    "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311",
    "211313", // 30-39
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121",
    "211331", // 40-49
    "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311",
    "332111", // 50-59
    "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221",
    "112214", // 60-69
    "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112",
    "134111", // 70-79
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211",
    "212141", // 80-89
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", // 90-99
    "114131", "311141", "411131", "211412", "211214", "211232", "2331112", // 100-106
];

/// START A.
pub const START_A: u8 = 103;
/// START B.
pub const START_B: u8 = 104;
/// START C.
pub const START_C: u8 = 105;
/// STOP.
pub const STOP: u8 = 106;

/// The ESC/POS data for `text`: `{C` and one byte per digit pair for an even-length
/// all-digit string (half the symbols), otherwise `{B` and the text with `{` doubled.
/// Accepts printable ASCII only, at most 255 bytes of data.
pub fn code128_payload(text: &str) -> Result<Vec<u8>, BarcodeError> {
    if text.is_empty() {
        return Err(BarcodeError::Empty);
    }
    if let Some((index, ch)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !(' '..='~').contains(c))
    {
        return Err(BarcodeError::NotPrintable { index, ch });
    }
    let bytes = text.as_bytes();
    let mut out;
    if bytes.len() % 2 == 0 && bytes.iter().all(u8::is_ascii_digit) {
        out = Vec::with_capacity(2 + bytes.len() / 2);
        out.extend_from_slice(b"{C");
        out.extend(
            bytes
                .chunks_exact(2)
                .map(|pair| (pair[0] - b'0') * 10 + (pair[1] - b'0')),
        );
    } else {
        out = Vec::with_capacity(2 + bytes.len() + 4);
        out.extend_from_slice(b"{B");
        for &b in bytes {
            out.push(b);
            if b == b'{' {
                out.push(b'{');
            }
        }
    }
    if out.len() > 255 {
        return Err(BarcodeError::TooLong { len: out.len() });
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    A,
    B,
    C,
}

impl Set {
    fn name(self) -> char {
        match self {
            Set::A => 'A',
            Set::B => 'B',
            Set::C => 'C',
        }
    }

    fn value(self, byte: u8) -> Option<u8> {
        match self {
            Set::A => match byte {
                0x00..=0x1F => Some(byte + 64),
                0x20..=0x5F => Some(byte - 32),
                _ => None,
            },
            Set::B => (0x20..=0x7F).contains(&byte).then(|| byte - 32),
            Set::C => (byte <= 99).then_some(byte),
        }
    }
}

/// The symbol values of an ESC/POS CODE128 payload: START, data (including code-set
/// switches, SHIFT and FNC symbols), checksum, STOP. The checksum is the START value plus
/// each data value times its position (1, 2, …), modulo 103.
pub fn code128_values(payload: &[u8]) -> Result<Vec<u8>, BarcodeError> {
    let (mut set, start) = match payload.get(..2) {
        Some(b"{A") => (Set::A, START_A),
        Some(b"{B") => (Set::B, START_B),
        Some(b"{C") => (Set::C, START_C),
        _ => return Err(BarcodeError::MissingCodeSet),
    };
    let mut values = Vec::with_capacity(payload.len() + 2);
    values.push(start);
    let mut shift = false;
    let mut i = 2;
    while i < payload.len() {
        let byte = payload[i];
        if byte == b'{' {
            let next = payload.get(i + 1).copied().unwrap_or(0);
            let bad = BarcodeError::BadEscape {
                index: i,
                next,
                set: set.name(),
            };
            let value = match (next, set) {
                (b'A', Set::A) | (b'B', Set::B) | (b'C', Set::C) => None,
                (b'A', _) => Some(101),
                (b'B', _) => Some(100),
                (b'C', _) => Some(99),
                (b'S', Set::A | Set::B) => Some(98),
                (b'1', _) => Some(102),
                (b'2', Set::A | Set::B) => Some(97),
                (b'3', Set::A | Set::B) => Some(96),
                (b'4', Set::A) => Some(101),
                (b'4', Set::B) => Some(100),
                (b'{', Set::B) => Some(b'{' - 32),
                _ => return Err(bad),
            };
            match next {
                b'A' => set = Set::A,
                b'B' => set = Set::B,
                b'C' => set = Set::C,
                _ => {}
            }
            shift = next == b'S';
            values.extend(value);
            i += 2;
            continue;
        }
        let in_set = match (shift, set) {
            (true, Set::A) => Set::B,
            (true, Set::B) => Set::A,
            (_, s) => s,
        };
        shift = false;
        let value = in_set.value(byte).ok_or(BarcodeError::BadByte {
            index: i,
            byte,
            set: in_set.name(),
        })?;
        values.push(value);
        i += 1;
    }
    let sum = values
        .iter()
        .enumerate()
        .map(|(pos, &v)| u32::from(v) * (pos.max(1) as u32))
        .sum::<u32>();
    values.push((sum % 103) as u8);
    values.push(STOP);
    Ok(values)
}

/// The modules of an ESC/POS CODE128 payload, left to right, `true` = bar: START, data,
/// checksum and STOP (11 modules a symbol, 13 for STOP). No quiet zone.
pub fn code128_modules(payload: &[u8]) -> Result<Vec<bool>, BarcodeError> {
    let values = code128_values(payload)?;
    let mut modules = Vec::with_capacity(values.len() * 11 + 2);
    for value in values {
        for (k, w) in PATTERNS[usize::from(value)].bytes().enumerate() {
            let bar = k % 2 == 0;
            modules.extend(std::iter::repeat_n(bar, usize::from(w - b'0')));
        }
    }
    Ok(modules)
}

/// The human-readable text of an ESC/POS CODE128 payload: code-set and function escapes
/// dropped, `{{` as `{`, code set C pairs as two digits, control characters of set A left
/// out. Never fails: unreadable bytes are shown as `?`.
pub fn code128_text(payload: &[u8]) -> String {
    let mut text = String::with_capacity(payload.len() * 2);
    let mut set = Set::B;
    let mut i = 0;
    while i < payload.len() {
        let byte = payload[i];
        if byte == b'{' {
            match payload.get(i + 1) {
                Some(b'A') => set = Set::A,
                Some(b'B') => set = Set::B,
                Some(b'C') => set = Set::C,
                Some(b'{') => text.push('{'),
                _ => {}
            }
            i += 2;
            continue;
        }
        match set {
            Set::C if byte <= 99 => {
                text.push(char::from(b'0' + byte / 10));
                text.push(char::from(b'0' + byte % 10));
            }
            Set::A | Set::B if (0x20..0x7F).contains(&byte) => text.push(char::from(byte)),
            Set::A if byte < 0x20 => {}
            _ => text.push('?'),
        }
        i += 1;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(s: &str) -> Vec<bool> {
        s.bytes().map(|b| b == b'1').collect()
    }

    #[test]
    fn table_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for (value, pattern) in PATTERNS.iter().enumerate() {
            let widths: Vec<u32> = pattern.bytes().map(|b| u32::from(b - b'0')).collect();
            let total: u32 = widths.iter().sum();
            assert_eq!(total, if value == 106 { 13 } else { 11 }, "value {value}");
            let bars: u32 = widths.iter().step_by(2).sum();
            assert_eq!(bars % 2, 0, "bar modules of value {value} must be even");
            assert!(seen.insert(*pattern), "duplicate pattern at {value}");
        }
    }

    #[test]
    fn wikipedia_pjj123c_checksum_is_54() {
        // Wikipedia "Code 128", check digit calculation: START A, PJJ123C → sum 878, 54 ("V").
        let values = code128_values(b"{APJJ123C").unwrap();
        assert_eq!(values, [103, 48, 42, 42, 17, 18, 19, 35, 54, 106]);
    }

    #[test]
    fn barcodeisland_hi345678_checksum_is_67() {
        // barcodeisland.com: START A, H, I, CODE C, 34, 56, 78 → 1406 mod 103 = 67.
        let values = code128_values(&[b'{', b'A', b'H', b'I', b'{', b'C', 34, 56, 78]).unwrap();
        assert_eq!(values, [103, 40, 41, 99, 34, 56, 78, 67, 106]);
    }

    #[test]
    fn start_and_stop_modules() {
        // barcodeisland.com: START A 11010000100, START B 11010010000, START C 11010011100,
        // STOP 1100011101011 (including the termination bar).
        let m = code128_modules(b"{B1").unwrap();
        assert_eq!(m.len(), 11 * 3 + 13);
        assert_eq!(&m[..11], bits("11010010000"));
        assert_eq!(&m[m.len() - 13..], bits("1100011101011"));
        assert_eq!(
            &code128_modules(b"{Ax").unwrap_err(),
            &BarcodeError::BadByte {
                index: 2,
                byte: b'x',
                set: 'A'
            }
        );
        assert_eq!(&code128_modules(b"{AA").unwrap()[..11], bits("11010000100"));
        assert_eq!(
            &code128_modules(&[b'{', b'C', 12]).unwrap()[..11],
            bits("11010011100")
        );
        // '1' in set B is value 17 = 123221 → 10011100110.
        assert_eq!(&m[11..22], bits("10011100110"));
    }

    #[test]
    fn payloads() {
        assert_eq!(code128_payload("1234").unwrap(), [b'{', b'C', 12, 34]);
        assert_eq!(code128_payload("123").unwrap(), b"{B123");
        assert_eq!(code128_payload("a{b").unwrap(), b"{Ba{{b");
        assert_eq!(code128_payload("").unwrap_err(), BarcodeError::Empty);
        assert_eq!(
            code128_payload("a\u{7}").unwrap_err(),
            BarcodeError::NotPrintable {
                index: 1,
                ch: '\u{7}'
            }
        );
        assert_eq!(
            code128_payload("中").unwrap_err(),
            BarcodeError::NotPrintable {
                index: 0, ch: '中'
            }
        );
        assert!(matches!(
            code128_payload(&"x".repeat(254)),
            Err(BarcodeError::TooLong { len: 256 })
        ));
        assert!(code128_payload(&"x".repeat(253)).is_ok());
    }

    #[test]
    fn text_round_trips() {
        for text in ["1234", "ORDER-42", "a{b", "0099", "x"] {
            let payload = code128_payload(text).unwrap();
            assert_eq!(code128_text(&payload), text);
            assert!(code128_modules(&payload).is_ok());
        }
        assert_eq!(
            code128_text(&[b'{', b'A', b'N', b'o', b'.', b'{', b'C', 12, 34, 56]),
            "No.123456"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(code128_values(b"{B{1a").unwrap()[1..3], [102, 65]);
        // SHIFT: one character from set A inside set B.
        assert_eq!(
            code128_values(&[b'{', b'B', b'a', b'{', b'S', 0x01, b'b']).unwrap()[1..5],
            [65, 98, 65, 66]
        );
        assert_eq!(
            code128_values(b"{B{x").unwrap_err(),
            BarcodeError::BadEscape {
                index: 2,
                next: b'x',
                set: 'B'
            }
        );
        assert_eq!(
            code128_values(b"{C{{").unwrap_err(),
            BarcodeError::BadEscape {
                index: 2,
                next: b'{',
                set: 'C'
            }
        );
        assert_eq!(
            code128_values(b"{B{").unwrap_err(),
            BarcodeError::BadEscape {
                index: 2,
                next: 0,
                set: 'B'
            }
        );
        assert_eq!(
            code128_values(b"AB").unwrap_err(),
            BarcodeError::MissingCodeSet
        );
        assert_eq!(
            code128_values(&[b'{', b'C', 100]).unwrap_err(),
            BarcodeError::BadByte {
                index: 2,
                byte: 100,
                set: 'C'
            }
        );
    }
}
