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
        let _ = bytes;
        todo!("helper: implement")
    }

    /// Bytes held back because their command is not complete yet.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }
}
