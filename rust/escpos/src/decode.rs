//! Any ESC/POS byte stream replayed onto a [`Page`]: what a printer would have put on
//! paper. Used by the virtual printer, slip previews and tests (python-escpos's output
//! must decode to the same text and pixels it was given).

use std::collections::VecDeque;

use crate::bitmap::Bitmap;
use crate::command::{Command, tokenize};
use crate::document::{Align, TextStyle};
use crate::profile::{PaperWidth, SingleByteCharset, TextEncoding};

/// One printed block on the page, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageItem {
    /// One printed line of text (one LF), as runs in their styles.
    Line {
        /// The runs, decoded to Unicode.
        runs: Vec<(String, TextStyle)>,
        /// Justification in force when the line was printed.
        align: Align,
    },
    /// A raster image.
    Image {
        /// The dots, after the `GS v 0` scaling mode.
        bitmap: Bitmap,
        /// Justification in force.
        align: Align,
    },
    /// A native QR code.
    Qr {
        /// Its data.
        data: Vec<u8>,
        /// Module size in dots.
        module_size: u8,
        /// Justification in force.
        align: Align,
    },
    /// A barcode.
    Barcode {
        /// Its system (73 = CODE128).
        system: u8,
        /// Its data as sent.
        data: Vec<u8>,
        /// Height in dots.
        height: u8,
        /// Module width in dots.
        module_width: u8,
        /// Whether HRI text is printed below.
        hri_below: bool,
        /// Justification in force.
        align: Align,
    },
    /// Paper fed without printing, in dots.
    Feed(u32),
    /// The paper was cut here.
    Cut,
}

/// How to read a stream: what the printer's power-on state is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodeOptions {
    /// The paper (for page width).
    pub paper: PaperWidth,
    /// Power-on text encoding (Chinese mode on for the GB encodings). `FS &`, `FS .` and
    /// `ESC t` in the stream change it.
    pub encoding: TextEncoding,
}

/// A decoded page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// Printable width in dots.
    pub width_dots: u32,
    /// What was printed, top to bottom.
    pub items: Vec<PageItem>,
    /// Commands the decoder does not know, as hex, in order (not fatal).
    pub unknown: Vec<String>,
}

impl Page {
    /// An empty page for this paper.
    pub fn new(paper: PaperWidth) -> Page {
        Page {
            width_dots: paper.dots(),
            items: Vec::new(),
            unknown: Vec::new(),
        }
    }

    /// The page's text: one string per printed text line, joined with `\n`. Each line is
    /// its runs concatenated, with trailing spaces removed (printers pad lines with spaces
    /// to place right-aligned values; the padding is not content). A blank line (`LF` on
    /// an empty buffer) gives an empty string; feeds, images, QR codes and barcodes give
    /// nothing.
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// The printed text lines, as in [`Page::text`].
    pub fn lines(&self) -> Vec<String> {
        self.items
            .iter()
            .filter_map(|item| match item {
                PageItem::Line { runs, .. } => {
                    let line: String = runs.iter().map(|(text, _)| text.as_str()).collect();
                    Some(line.trim_end_matches(' ').to_string())
                }
                _ => None,
            })
            .collect()
    }

    /// The raster images, in order.
    pub fn images(&self) -> Vec<&Bitmap> {
        self.items
            .iter()
            .filter_map(|item| match item {
                PageItem::Image { bitmap, .. } => Some(bitmap),
                _ => None,
            })
            .collect()
    }

    /// Whether nothing was printed or fed on this page.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Dots a printed text line takes with the default line spacing (`ESC 2`): the 24-dot
/// Font A cell and 6 dots of space (30 dots, 1/6 inch at 180 dpi … close enough at 203).
pub const DEFAULT_LINE_DOTS: u32 = 30;

/// Height in dots of a Font A character cell.
pub const CELL_HEIGHT: u32 = 24;

/// Decodes a whole stream onto one page; cuts become [`PageItem::Cut`].
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Page {
    let mut builder = PageBuilder::new(*options);
    builder.keep_cut_pages_together = true;
    for command in tokenize(bytes) {
        builder.apply(&command);
    }
    builder.finish()
}

/// A text run waiting in the line buffer: its bytes, its style and how to decode them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    bytes: Vec<u8>,
    style: TextStyle,
    charset: Charset,
}

/// How a run's bytes become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    /// Chinese mode: GB18030 (GBK and GB2312 are subsets).
    Gb18030,
    /// UTF-8.
    Utf8,
    /// Windows-1252.
    Windows1252,
    /// PC437 read as ASCII; other bytes become U+FFFD.
    Ascii,
}

impl Charset {
    /// The bytes as text; malformed or unmapped bytes become U+FFFD.
    fn decode(self, bytes: &[u8]) -> String {
        match self {
            Charset::Gb18030 => encoding_rs::GB18030
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
            Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Charset::Windows1252 => encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
            Charset::Ascii => bytes
                .iter()
                .map(|&b| {
                    if b.is_ascii() {
                        char::from(b)
                    } else {
                        '\u{FFFD}'
                    }
                })
                .collect(),
        }
    }
}

/// Replays [`Command`]s one at a time, keeping the printer's state (justification, text
/// styles, Chinese mode and code page, the line buffer, QR and barcode settings), and
/// collects what gets printed into pages. Each `Cut` finishes a page, which
/// [`PageBuilder::take_page`] hands out (the virtual printer renders each one).
#[derive(Debug, Clone)]
pub struct PageBuilder {
    options: DecodeOptions,
    page: Page,
    finished: VecDeque<Page>,
    /// When set (by [`decode`]), cuts stay on one page instead of finishing it.
    keep_cut_pages_together: bool,
    align: Align,
    emphasis: bool,
    underline: bool,
    width_mult: u8,
    height_mult: u8,
    chinese: bool,
    code_page: u8,
    line_spacing: u32,
    line: Vec<Run>,
    qr_module_size: u8,
    qr_level: u8,
    qr_data: Vec<u8>,
    barcode_height: u8,
    barcode_width: u8,
    hri: u8,
}

impl PageBuilder {
    /// A printer just powered on, in the state `options` describes.
    pub fn new(options: DecodeOptions) -> PageBuilder {
        let mut builder = PageBuilder {
            options,
            page: Page::new(options.paper),
            finished: VecDeque::new(),
            keep_cut_pages_together: false,
            align: Align::Left,
            emphasis: false,
            underline: false,
            width_mult: 1,
            height_mult: 1,
            chinese: false,
            code_page: 0,
            line_spacing: DEFAULT_LINE_DOTS,
            line: Vec::new(),
            qr_module_size: 3,
            qr_level: 48,
            qr_data: Vec::new(),
            barcode_height: 162,
            barcode_width: 3,
            hri: 0,
        };
        builder.initialize();
        builder
    }

    /// Back to the power-on state (`ESC @`): styles, justification, line spacing, Chinese
    /// mode and code page; the line buffer is cleared. QR data and barcode settings stay
    /// (Epson keeps them until power-off).
    fn initialize(&mut self) {
        self.align = Align::Left;
        self.emphasis = false;
        self.underline = false;
        self.width_mult = 1;
        self.height_mult = 1;
        self.line_spacing = DEFAULT_LINE_DOTS;
        self.line.clear();
        match self.options.encoding {
            TextEncoding::Gb18030 | TextEncoding::Gbk => {
                self.chinese = true;
                self.code_page = 0;
            }
            TextEncoding::Utf8 => {
                self.chinese = false;
                self.code_page = 0;
            }
            TextEncoding::SingleByte { code_page, .. } => {
                self.chinese = false;
                self.code_page = code_page;
            }
        }
    }

    /// The current text style.
    pub fn style(&self) -> TextStyle {
        TextStyle {
            bold: self.emphasis,
            underline: self.underline,
            double_width: self.width_mult >= 2,
            double_height: self.height_mult >= 2,
        }
    }

    /// The current justification.
    pub fn align(&self) -> Align {
        self.align
    }

    /// Whether Chinese double-byte mode is on.
    pub fn chinese_mode(&self) -> bool {
        self.chinese
    }

    /// The page being built (items printed since the last finished page).
    pub fn current(&self) -> &Page {
        &self.page
    }

    /// How text bytes are read now.
    fn charset(&self) -> Charset {
        if self.chinese {
            return Charset::Gb18030;
        }
        match self.options.encoding {
            TextEncoding::Utf8 => Charset::Utf8,
            TextEncoding::SingleByte { code_page, charset } if code_page == self.code_page => {
                match charset {
                    SingleByteCharset::Pc437 => Charset::Ascii,
                    SingleByteCharset::Windows1252 => Charset::Windows1252,
                }
            }
            _ => Charset::Ascii,
        }
    }

    /// Applies one command.
    pub fn apply(&mut self, command: &Command) {
        match command {
            Command::Text(bytes) => self.push_text(bytes),
            Command::LineFeed => self.print_line(),
            Command::CarriageReturn => {}
            Command::Initialize => self.initialize(),
            Command::Justify(n) => {
                self.align = match n % 48 {
                    1 => Align::Center,
                    2 => Align::Right,
                    _ => Align::Left,
                }
            }
            Command::Emphasis(on) => self.emphasis = *on,
            Command::Underline(n) => self.underline = *n != 0,
            Command::PrintMode(n) => {
                self.emphasis = n & 0x08 != 0;
                self.underline = n & 0x80 != 0;
                self.height_mult = if n & 0x10 != 0 { 2 } else { 1 };
                self.width_mult = if n & 0x20 != 0 { 2 } else { 1 };
            }
            Command::CharacterSize(n) => {
                self.width_mult = (n >> 4 & 0x07) + 1;
                self.height_mult = (n & 0x07) + 1;
            }
            Command::ChineseMode(on) => self.chinese = *on,
            Command::CodePage(n) => self.code_page = *n,
            Command::LineSpacing(n) => self.line_spacing = n.map_or(DEFAULT_LINE_DOTS, u32::from),
            Command::FeedLines(n) => {
                let lines = u32::from(*n);
                if self.line.is_empty() {
                    self.feed(lines * self.line_spacing);
                } else {
                    self.print_line();
                    self.feed(lines.saturating_sub(1) * self.line_spacing);
                }
            }
            Command::FeedDots(n) => {
                let dots = u32::from(*n);
                if self.line.is_empty() {
                    self.feed(dots);
                } else {
                    let advance = self.line_advance();
                    self.print_line_only();
                    self.feed(dots.saturating_sub(advance));
                }
            }
            Command::Raster { mode, bitmap } => {
                self.flush_line();
                let bitmap = scale(bitmap, mode % 48);
                self.page.items.push(PageItem::Image {
                    bitmap,
                    align: self.align,
                });
            }
            Command::QrModel(_) => {}
            Command::QrModuleSize(n) => self.qr_module_size = *n,
            Command::QrErrorLevel(n) => self.qr_level = *n,
            Command::QrStore(data) => self.qr_data = data.clone(),
            Command::QrPrint => {
                self.flush_line();
                if !self.qr_data.is_empty() {
                    self.page.items.push(PageItem::Qr {
                        data: self.qr_data.clone(),
                        module_size: self.qr_module_size,
                        align: self.align,
                    });
                }
            }
            Command::BarcodeHeight(n) => self.barcode_height = *n,
            Command::BarcodeWidth(n) => self.barcode_width = *n,
            Command::BarcodeHri(n) => self.hri = *n,
            Command::Barcode { system, data } => {
                self.flush_line();
                self.page.items.push(PageItem::Barcode {
                    system: *system,
                    data: data.clone(),
                    height: self.barcode_height,
                    module_width: self.barcode_width,
                    hri_below: self.hri & 0x02 != 0,
                    align: self.align,
                });
            }
            Command::Cut { .. } => {
                self.flush_line();
                self.page.items.push(PageItem::Cut);
                if !self.keep_cut_pages_together {
                    let next = Page::new(self.options.paper);
                    self.finished
                        .push_back(std::mem::replace(&mut self.page, next));
                }
            }
            Command::RealtimeStatus(_)
            | Command::TransmitStatus(_)
            | Command::AutoStatusBack(_)
            | Command::ProcessId(_) => {}
            Command::Unknown(bytes) => self.page.unknown.push(hex(bytes)),
        }
    }

    /// The QR error level in force (`GS ( k` fn 69: 48 L, 49 M, 50 Q, 51 H).
    pub fn qr_level(&self) -> u8 {
        self.qr_level
    }

    /// The oldest page finished by a cut and not taken yet.
    pub fn take_page(&mut self) -> Option<Page> {
        self.finished.pop_front()
    }

    /// Ends the stream: the line buffer is printed (as a printer would at the next `LF`)
    /// and everything not taken yet, finished pages included, comes back as one page.
    pub fn finish(mut self) -> Page {
        self.flush_line();
        let mut page = Page::new(self.options.paper);
        for finished in self.finished.drain(..) {
            page.items.extend(finished.items);
            page.unknown.extend(finished.unknown);
        }
        page.items.append(&mut self.page.items);
        page.unknown.append(&mut self.page.unknown);
        page
    }

    /// Adds text to the line buffer, joining it to the last run when nothing changed.
    fn push_text(&mut self, bytes: &[u8]) {
        let style = self.style();
        let charset = self.charset();
        match self.line.last_mut() {
            Some(run) if run.style == style && run.charset == charset => {
                run.bytes.extend_from_slice(bytes)
            }
            _ => self.line.push(Run {
                bytes: bytes.to_vec(),
                style,
                charset,
            }),
        }
    }

    /// The tallest character cell in the line buffer, in dots.
    fn tallest(&self) -> u32 {
        self.line
            .iter()
            .map(|run| {
                if run.style.double_height {
                    2 * CELL_HEIGHT
                } else {
                    CELL_HEIGHT
                }
            })
            .max()
            .unwrap_or(CELL_HEIGHT)
    }

    /// The dots a [`PageItem::Line`] of the current buffer stands for: its tallest cell and
    /// the default spacing's 6-dot gap (the renderer draws it so).
    fn line_advance(&self) -> u32 {
        self.tallest() + DEFAULT_LINE_DOTS - CELL_HEIGHT
    }

    /// `LF`: prints the buffer (an empty line when empty) and feeds one line. The paper
    /// moves by the line spacing, at least the tallest cell; what that adds to the line
    /// item's own height becomes a feed (spacing below 30 dots is not shown).
    fn print_line(&mut self) {
        let item = self.line_advance();
        let real = self.line_spacing.max(self.tallest());
        self.print_line_only();
        self.feed(real.saturating_sub(item));
    }

    /// Emits the line buffer as a [`PageItem::Line`] and clears it.
    fn print_line_only(&mut self) {
        let runs = self
            .line
            .drain(..)
            .map(|run| (run.charset.decode(&run.bytes), run.style))
            .collect();
        self.page.items.push(PageItem::Line {
            runs,
            align: self.align,
        });
    }

    /// Prints the line buffer if it holds anything (before an image, a code or a cut).
    fn flush_line(&mut self) {
        if !self.line.is_empty() {
            self.print_line();
        }
    }

    /// Paper fed without printing; merges with a feed just before.
    fn feed(&mut self, dots: u32) {
        if dots == 0 {
            return;
        }
        if let Some(PageItem::Feed(previous)) = self.page.items.last_mut() {
            *previous = previous.saturating_add(dots);
        } else {
            self.page.items.push(PageItem::Feed(dots));
        }
    }
}

/// A raster scaled by its `GS v 0` mode: 1 double width, 2 double height, 3 both.
fn scale(bitmap: &Bitmap, mode: u8) -> Bitmap {
    let (sx, sy) = match mode {
        1 => (2, 1),
        2 => (1, 2),
        3 => (2, 2),
        _ => return bitmap.clone(),
    };
    let mut out = Bitmap::new(bitmap.width() * sx, bitmap.height() * sy);
    for y in 0..out.height() {
        for x in 0..out.width() {
            if bitmap.get(x / sx, y / sy) {
                out.set(x, y, true);
            }
        }
    }
    out
}

/// Longest unknown command written out in full in [`Page::unknown`].
const HEX_LIMIT: usize = 32;

/// An unknown command as upper-case hex bytes separated by spaces; a long one (an image
/// in a format the decoder does not draw) is cut after 32 bytes with its length noted.
fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes
        .iter()
        .take(HEX_LIMIT)
        .map(|b| format!("{b:02X}"))
        .collect();
    let mut out = shown.join(" ");
    if bytes.len() > HEX_LIMIT {
        out.push_str(&format!(" … ({} bytes)", bytes.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_unknown_commands_are_shortened() {
        assert_eq!(hex(&[0x1B, 0x5A]), "1B 5A");
        let long = vec![0xAB; 40];
        let text = hex(&long);
        assert!(text.ends_with(" … (40 bytes)"), "{text}");
        assert_eq!(text.matches("AB").count(), HEX_LIMIT);
    }

    #[test]
    fn charsets_replace_what_they_cannot_read() {
        assert_eq!(Charset::Ascii.decode(b"a\xFFb"), "a\u{FFFD}b");
        assert_eq!(Charset::Utf8.decode(b"\xE4\xB8"), "\u{FFFD}");
        assert_eq!(Charset::Gb18030.decode(&[0xD6, 0xD0]), "中");
        assert_eq!(Charset::Windows1252.decode(&[0x80]), "€");
    }

    #[test]
    fn feeds_merge_and_zero_feeds_vanish() {
        let mut builder = PageBuilder::new(DecodeOptions::default());
        builder.apply(&Command::FeedDots(0));
        assert!(builder.current().is_empty());
        builder.apply(&Command::FeedDots(5));
        builder.apply(&Command::FeedLines(1));
        assert_eq!(builder.current().items, vec![PageItem::Feed(35)]);
    }
}
