//! An ESC/POS byte stream split into commands, incrementally: [`Tokenizer::feed`] takes
//! bytes as they arrive (a TCP read may end mid-command) and returns every complete
//! command. The virtual printer runs on it; [`crate::decode()`] replays it onto a page.
//!
//! Image and barcode payloads are read by their declared lengths, so data bytes that look
//! like `DLE EOT` inside a raster are not taken for commands.

use crate::bitmap::Bitmap;

/// One command, as the printer would execute it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Printable bytes (in the current encoding), up to the next control byte.
    Text(Vec<u8>),
    /// `LF`: print the line buffer and feed one line.
    LineFeed,
    /// `CR` (ignored by most printers when LF follows).
    CarriageReturn,
    /// `ESC @`: initialize.
    Initialize,
    /// `ESC a n`: justification (0 left, 1 center, 2 right).
    Justify(u8),
    /// `ESC E n`: emphasis on/off.
    Emphasis(bool),
    /// `ESC - n`: underline 0/1/2 dots.
    Underline(u8),
    /// `ESC ! n`: print mode bits (font B, emphasized, double height/width, underline).
    PrintMode(u8),
    /// `GS ! n`: character size (width and height multipliers 1–8, as written: high nibble
    /// width − 1, low nibble height − 1).
    CharacterSize(u8),
    /// `FS &` (true) / `FS .` (false): Chinese double-byte mode on/off.
    ChineseMode(bool),
    /// `ESC t n`: single-byte code page.
    CodePage(u8),
    /// `ESC 2` (None) / `ESC 3 n`: line spacing.
    LineSpacing(Option<u8>),
    /// `ESC d n`: print and feed n lines.
    FeedLines(u8),
    /// `ESC J n`: print and feed n dots.
    FeedDots(u8),
    /// `GS v 0 m …`: a raster image; `mode` is m (0–3 / 48–51).
    Raster {
        /// Scaling mode.
        mode: u8,
        /// The dots.
        bitmap: Bitmap,
    },
    /// `GS ( k` cn = 49 fn 65: QR model.
    QrModel(u8),
    /// `GS ( k` fn 67: QR module size.
    QrModuleSize(u8),
    /// `GS ( k` fn 69: QR error level (48–51).
    QrErrorLevel(u8),
    /// `GS ( k` fn 80: store QR data.
    QrStore(Vec<u8>),
    /// `GS ( k` fn 81: print the stored QR code.
    QrPrint,
    /// `GS h n`: barcode height.
    BarcodeHeight(u8),
    /// `GS w n`: barcode module width.
    BarcodeWidth(u8),
    /// `GS H n`: HRI position (0 none, 1 above, 2 below, 3 both).
    BarcodeHri(u8),
    /// `GS k m …` (both forms): a barcode of system `m` with its data.
    Barcode {
        /// The barcode system (73 = CODE128).
        system: u8,
        /// The data as sent (for CODE128, including the `{B`-style code set prefix).
        data: Vec<u8>,
    },
    /// `GS V`: cut (partial when m is 1/49/66).
    Cut {
        /// Partial cut.
        partial: bool,
    },
    /// `DLE EOT n`: real-time status request.
    RealtimeStatus(u8),
    /// `GS r n`: transmit status (after the buffer is processed).
    TransmitStatus(u8),
    /// `GS a n`: enable Automatic Status Back for the bits of n.
    AutoStatusBack(u8),
    /// `GS ( H` fn 48: process-ID request (answered when printing completes).
    ProcessId([u8; 4]),
    /// Any command this tokenizer does not know, with its bytes (its length is known for
    /// common parameterized forms; otherwise just the prefix byte and the next one).
    Unknown(Vec<u8>),
}

/// Splits a byte stream into [`Command`]s, keeping an incomplete tail for the next feed.
///
/// Feeding a stream in any number of pieces gives the same commands as feeding it at once:
/// a text run is held back until the control byte that ends it arrives (a printer prints
/// only on `LF` anyway); [`Tokenizer::finish`] flushes what is left at the end of a stream.
#[derive(Debug, Default)]
pub struct Tokenizer {
    pending: Vec<u8>,
}

impl Tokenizer {
    /// A tokenizer at the start of a stream.
    pub fn new() -> Tokenizer {
        Tokenizer::default()
    }

    /// Feeds bytes; returns the commands they complete, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Command> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            match parse(&self.pending[at..]) {
                Some((command, used)) => {
                    out.push(command);
                    at += used.max(1);
                }
                None => break,
            }
        }
        self.pending.drain(..at);
        out
    }

    /// Ends the stream: a held-back text run becomes [`Command::Text`], an incomplete
    /// command [`Command::Unknown`] with the bytes that came.
    pub fn finish(&mut self) -> Vec<Command> {
        let rest = std::mem::take(&mut self.pending);
        if rest.is_empty() {
            Vec::new()
        } else if rest[0] >= 0x20 {
            let end = rest.iter().position(|&b| b < 0x20).unwrap_or(rest.len());
            let mut out = vec![Command::Text(rest[..end].to_vec())];
            if end < rest.len() {
                out.push(Command::Unknown(rest[end..].to_vec()));
            }
            out
        } else {
            vec![Command::Unknown(rest)]
        }
    }

    /// Bytes held back because their command is not complete yet.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }
}

/// Splits a whole stream at once (feed + finish).
pub fn tokenize(bytes: &[u8]) -> Vec<Command> {
    let mut tokenizer = Tokenizer::new();
    let mut commands = tokenizer.feed(bytes);
    commands.extend(tokenizer.finish());
    commands
}

const LF: u8 = 0x0A;
const CR: u8 = 0x0D;
const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;

/// The parse of the head of a buffer: the command and its length, or `None` when the
/// command is not complete yet.
type Parsed = Option<(Command, usize)>;

/// The bytes `b[..len]` as an unknown command, once they have all arrived.
fn unknown(b: &[u8], len: usize) -> Parsed {
    (b.len() >= len).then(|| (Command::Unknown(b[..len].to_vec()), len))
}

/// A command of `len` bytes built from them, once they have all arrived.
fn fixed(b: &[u8], len: usize, build: impl FnOnce(&[u8]) -> Command) -> Parsed {
    (b.len() >= len).then(|| (build(&b[..len]), len))
}

/// `n` and `n - 48` mean the same for many commands (0/48, 1/49, …).
fn digit(n: u8) -> u8 {
    if (48..58).contains(&n) { n - 48 } else { n }
}

/// Little-endian 16-bit parameter at `i`.
fn le16(b: &[u8], i: usize) -> usize {
    usize::from(b[i]) | usize::from(b[i + 1]) << 8
}

/// Parses one command at the head of `b` (not empty).
fn parse(b: &[u8]) -> Parsed {
    match b[0] {
        LF => Some((Command::LineFeed, 1)),
        CR => Some((Command::CarriageReturn, 1)),
        ESC => parse_esc(b),
        GS => parse_gs(b),
        FS => parse_fs(b),
        DLE => parse_dle(b),
        c if c < 0x20 => Some((Command::Unknown(vec![c]), 1)),
        _ => {
            let end = b.iter().position(|&c| c < 0x20)?;
            Some((Command::Text(b[..end].to_vec()), end))
        }
    }
}

/// `ESC x …`.
fn parse_esc(b: &[u8]) -> Parsed {
    let x = *b.get(1)?;
    match x {
        b'@' => Some((Command::Initialize, 2)),
        b'a' => fixed(b, 3, |c| Command::Justify(digit(c[2]))),
        b'E' => fixed(b, 3, |c| Command::Emphasis(c[2] & 1 == 1)),
        b'-' => fixed(b, 3, |c| Command::Underline(digit(c[2]))),
        b'!' => fixed(b, 3, |c| Command::PrintMode(c[2])),
        b't' => fixed(b, 3, |c| Command::CodePage(c[2])),
        b'2' => Some((Command::LineSpacing(None), 2)),
        b'3' => fixed(b, 3, |c| Command::LineSpacing(Some(c[2]))),
        b'd' => fixed(b, 3, |c| Command::FeedLines(c[2])),
        b'J' => fixed(b, 3, |c| Command::FeedDots(c[2])),
        // Obsolete cuts, still sent by some libraries.
        b'i' => Some((Command::Cut { partial: false }, 2)),
        b'm' => Some((Command::Cut { partial: true }, 2)),
        // One parameter byte: double strike, font, international set, upside down,
        // peripheral, character spacing, print mode for page, peripheral, color, panel
        // buttons, paper sensors, unidirectional, rotation, feed lines backwards, motion
        // units, print direction, select character code table extensions.
        b'G' | b'M' | b'R' | b'{' | b'=' | b' ' | b'%' | b'r' | b'c' | b'U' | b'V' | b'K'
        | b'e' | b'T' | b'A' | b'+' | b'?' => {
            if x == b'c' {
                // ESC c 3 n / ESC c 4 n / ESC c 5 n
                unknown(b, 4)
            } else {
                unknown(b, 3)
            }
        }
        b'$' | b'\\' => unknown(b, 4),
        b'p' => unknown(b, 5),
        b'D' => {
            // Tab positions, NUL-terminated (at most 32).
            let end = b[2..].iter().position(|&c| c == 0)?;
            unknown(b, 2 + end + 1)
        }
        b'*' => {
            if b.len() < 5 {
                return None;
            }
            let k = le16(b, 3);
            let data = match b[2] {
                0 | 1 => k,
                32 | 33 => 3 * k,
                _ => 0,
            };
            unknown(b, 5 + data)
        }
        _ => unknown(b, 2),
    }
}

/// `GS x …`.
fn parse_gs(b: &[u8]) -> Parsed {
    let x = *b.get(1)?;
    match x {
        b'!' => fixed(b, 3, |c| Command::CharacterSize(c[2])),
        b'v' => {
            let m = *b.get(2)?;
            if m != b'0' {
                return unknown(b, 2);
            }
            if b.len() < 8 {
                return None;
            }
            let width_bytes = le16(b, 4);
            let height = le16(b, 6);
            let len = 8 + width_bytes * height;
            if b.len() < len {
                return None;
            }
            let packed = b[8..len].to_vec();
            match Bitmap::from_packed(width_bytes as u32 * 8, height as u32, packed) {
                Some(bitmap) => Some((Command::Raster { mode: b[3], bitmap }, len)),
                None => unknown(b, len),
            }
        }
        b'(' => {
            if b.len() < 5 {
                return None;
            }
            let len = 5 + le16(b, 3);
            if b.len() < len {
                return None;
            }
            let body = &b[5..len];
            let command = match b[2] {
                b'k' => qr_command(body),
                b'H' => match body {
                    [0x30, 0x30, d1, d2, d3, d4] => Some(Command::ProcessId([*d1, *d2, *d3, *d4])),
                    _ => None,
                },
                _ => None,
            };
            Some((
                command.unwrap_or_else(|| Command::Unknown(b[..len].to_vec())),
                len,
            ))
        }
        b'8' => {
            // GS 8 L p1 p2 p3 p4 …: graphics with a 32-bit length.
            if b.len() < 7 {
                return None;
            }
            let p = b[3..7]
                .iter()
                .rev()
                .fold(0usize, |acc, &v| acc << 8 | usize::from(v));
            unknown(b, 7usize.saturating_add(p))
        }
        b'h' => fixed(b, 3, |c| Command::BarcodeHeight(c[2])),
        b'w' => fixed(b, 3, |c| Command::BarcodeWidth(c[2])),
        b'H' => fixed(b, 3, |c| Command::BarcodeHri(digit(c[2]))),
        b'k' => {
            let m = *b.get(2)?;
            match m {
                0..=6 => {
                    let end = b[3..].iter().position(|&c| c == 0)?;
                    Some((
                        Command::Barcode {
                            system: m,
                            data: b[3..3 + end].to_vec(),
                        },
                        3 + end + 1,
                    ))
                }
                65..=79 => {
                    let n = usize::from(*b.get(3)?);
                    fixed(b, 4 + n, |c| Command::Barcode {
                        system: m,
                        data: c[4..].to_vec(),
                    })
                }
                _ => unknown(b, 3),
            }
        }
        b'V' => {
            let m = *b.get(2)?;
            match m {
                0 | 48 => Some((Command::Cut { partial: false }, 3)),
                1 | 49 => Some((Command::Cut { partial: true }, 3)),
                65 | 97 | 103 => fixed(b, 4, |_| Command::Cut { partial: false }),
                66 | 98 | 104 => fixed(b, 4, |_| Command::Cut { partial: true }),
                _ => unknown(b, 3),
            }
        }
        b'a' => fixed(b, 3, |c| Command::AutoStatusBack(c[2])),
        b'r' => fixed(b, 3, |c| Command::TransmitStatus(c[2])),
        b'*' => {
            // Define downloaded bit image: x × y × 8 bytes follow.
            if b.len() < 4 {
                return None;
            }
            unknown(b, 4 + usize::from(b[2]) * usize::from(b[3]) * 8)
        }
        b'B' | b'f' | b'/' | b'I' | b'b' | b'|' | b'E' | b'J' | b'g' | b'T' | b'z' => unknown(b, 3),
        b'L' | b'W' | b'P' | b'$' | b'\\' => unknown(b, 4),
        b'^' => unknown(b, 5),
        _ => unknown(b, 2),
    }
}

/// The `GS ( k` commands this decoder knows (cn = 49, QR), from the body after pL pH.
fn qr_command(body: &[u8]) -> Option<Command> {
    match body {
        [49, 65, n1, ..] => Some(Command::QrModel(*n1)),
        [49, 67, n] => Some(Command::QrModuleSize(*n)),
        [49, 69, n] => Some(Command::QrErrorLevel(*n)),
        [49, 80, _m, data @ ..] => Some(Command::QrStore(data.to_vec())),
        [49, 81, ..] => Some(Command::QrPrint),
        _ => None,
    }
}

/// `FS x …`.
fn parse_fs(b: &[u8]) -> Parsed {
    let x = *b.get(1)?;
    match x {
        b'&' => Some((Command::ChineseMode(true), 2)),
        b'.' => Some((Command::ChineseMode(false), 2)),
        b'!' | b'C' | b'-' | b'W' => unknown(b, 3),
        b'S' | b'?' | b'p' => unknown(b, 4),
        b'(' => {
            if b.len() < 5 {
                return None;
            }
            unknown(b, 5 + le16(b, 3))
        }
        _ => unknown(b, 2),
    }
}

/// `DLE x …` (real-time commands).
fn parse_dle(b: &[u8]) -> Parsed {
    let x = *b.get(1)?;
    match x {
        0x04 => fixed(b, 3, |c| Command::RealtimeStatus(c[2])),
        0x05 => unknown(b, 3),
        0x14 => {
            let function = *b.get(2)?;
            match function {
                7 => unknown(b, 4),
                8 => unknown(b, 10),
                _ => unknown(b, 5),
            }
        }
        // A stray DLE: only itself, so that what follows is read normally.
        _ => Some((Command::Unknown(vec![DLE]), 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_single_byte_and_prefix_pair_is_handled() {
        for a in 0u8..=255 {
            let mut t = Tokenizer::new();
            let _ = t.feed(&[a]);
            for b in 0u8..=255 {
                let _ = tokenize(&[a, b]);
                let _ = tokenize(&[a, b, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
            }
        }
    }

    #[test]
    fn a_raster_declaring_more_than_arrived_waits() {
        let mut t = Tokenizer::new();
        assert!(
            t.feed(&[GS, b'v', b'0', 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
                .is_empty()
        );
        assert_eq!(t.pending().len(), 11);
        assert_eq!(t.finish().len(), 1);
    }
}
