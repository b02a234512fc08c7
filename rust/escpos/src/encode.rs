//! `Document` + `Profile` → ESC/POS bytes.
//!
//! The stream is:
//!
//! 1. `ESC @`, then the text encoding: `FS &` for GB18030/GBK (Chinese mode), `FS .` for
//!    UTF-8, `FS .` + `ESC t n` for a single-byte code page.
//! 2. The elements in order. Alignment (`ESC a`), bold (`ESC E`), underline (`ESC -`) and
//!    size (`GS !`) are sent only when they change, and alignment only at the start of a line.
//!    - Text is wrapped with [`crate::layout`] to the paper's Font A columns (a double-width
//!      span counts twice) and each line ends with `LF`.
//!    - A row is a label and a right-aligned value ([`layout::row_with`]).
//!    - A separator repeats its character across the line.
//!    - An image is `GS v 0`, in bands of at most [`RASTER_BAND_ROWS`] rows.
//!    - A QR code is the `GS ( k` sequence (model 2, module size, level, store, print), or,
//!      with [`QrMode::Raster`], its modules scaled to dots and sent as `GS v 0`.
//!    - A barcode is `GS H`, `GS h`, `GS w 2`, `GS k 73` (CODE128).
//!    - Feed is `ESC d n`; cut is `ESC d 3` (to the cutter) then `GS V 0|1`.
//! 3. Any style left on is switched off, so what follows starts clean.
//!
//! **Columns per character.** How wide a character prints depends on the encoding, so the
//! layout asks the profile: in Chinese mode (GB18030/GBK) every non-ASCII character is a
//! double-byte code printed with the 24-dot CJK font, two columns; in UTF-8 mode the Unicode
//! width applies ([`layout::char_width`]); in a single-byte code page each character is one
//! byte, one column (characters the page lacks are sent as `?`, and so are characters GBK
//! lacks). Control characters in text are never sent (they would be commands); a `\n`
//! breaks the line.

use std::ops::Range;
use std::sync::OnceLock;

use encoding_rs::{DecoderResult, EncoderResult};

use crate::barcode;
use crate::commands::{self, LF, RasterMode};
use crate::document::{Align, Document, DocumentError, Element, QrLevel, Span, TextStyle};
use crate::layout::{self, RowLine};
use crate::profile::{Profile, QrMode, SingleByteCharset, TextEncoding};
use crate::qr;

/// Rows per `GS v 0` command: taller images are sent in bands (python-escpos's default
/// `fragment_height`), so a printer's receive buffer never has to hold a whole slip image.
pub const RASTER_BAND_ROWS: u32 = 960;

/// CODE128 module width in dots (`GS w 2`).
pub const BARCODE_MODULE_DOTS: u8 = 2;

/// Lines fed before a cut so the last printed line clears the cutter (`ESC d 3`).
pub const CUT_FEED_LINES: u8 = 3;

/// Encodes a document for one printer model. Refuses, with the element and the reason, a
/// document it cannot print as asked (an image wider than the paper, an empty QR code, …).
pub fn encode(document: &Document, profile: &Profile) -> Result<Vec<u8>, DocumentError> {
    let mut encoder = Encoder::new(profile, capacity_guess(document, profile));
    encoder.setup();
    for (index, element) in document.elements.iter().enumerate() {
        check(index, element, profile)?;
        encoder.element(index, element)?;
    }
    encoder.finish();
    Ok(encoder.out)
}

/// Checks that [`encode`] would accept `document` for `profile`, without building the bytes
/// (a raster QR code is still drawn, to know its width).
pub fn validate(document: &Document, profile: &Profile) -> Result<(), DocumentError> {
    for (index, element) in document.elements.iter().enumerate() {
        check(index, element, profile)?;
        if let Element::Qr {
            data,
            module_size,
            level,
            ..
        } = element
        {
            if profile.qr == QrMode::Raster {
                raster_qr(index, data, *module_size, *level, profile)?;
            }
        }
    }
    Ok(())
}

/// Element checks that need no drawing.
fn check(index: usize, element: &Element, profile: &Profile) -> Result<(), DocumentError> {
    let paper = profile.paper.dots();
    match element {
        Element::Image { bitmap, .. } if bitmap.width() > paper => {
            Err(DocumentError::ImageTooWide {
                index,
                width: bitmap.width(),
                paper,
            })
        }
        Element::Qr {
            data,
            module_size,
            level,
            ..
        } => {
            let bad = |reason: String| Err(DocumentError::BadQr { index, reason });
            if data.is_empty() {
                return bad("the data is empty: give the text to encode".into());
            }
            if !(1..=16).contains(module_size) {
                return bad(format!(
                    "module size {module_size} is outside 1..=16 dots: use 1 to 16"
                ));
            }
            let capacity = qr::byte_capacity(*level);
            if data.len() > capacity {
                return bad(format!(
                    "{} bytes exceed the {capacity} a QR code holds at level {level:?}: shorten the data or lower the level",
                    data.len()
                ));
            }
            Ok(())
        }
        Element::Barcode128 { data, height, .. } => {
            let bad = |reason: String| Err(DocumentError::BadBarcode { index, reason });
            if *height == 0 {
                return bad("height 0: use 1 to 255 dots".into());
            }
            let payload = match barcode::code128_payload(data) {
                Ok(p) => p,
                Err(e) => return bad(e.to_string()),
            };
            let symbols =
                barcode::code128_values(&payload).map_err(|e| DocumentError::BadBarcode {
                    index,
                    reason: e.to_string(),
                })?;
            // 11 modules a symbol, 13 for STOP.
            let dots = (symbols.len() * 11 + 2) as u32 * u32::from(BARCODE_MODULE_DOTS);
            if dots > paper {
                return bad(format!(
                    "the barcode is {dots} dots wide but the paper has {paper}: shorten the data"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The raster form of a QR element, refused when wider than the paper.
fn raster_qr(
    index: usize,
    data: &str,
    module_size: u8,
    level: QrLevel,
    profile: &Profile,
) -> Result<crate::Bitmap, DocumentError> {
    let bitmap =
        qr::raster(data.as_bytes(), level, module_size, qr::QUIET_ZONE_MODULES).map_err(|e| {
            DocumentError::BadQr {
                index,
                reason: e.to_string(),
            }
        })?;
    let paper = profile.paper.dots();
    if bitmap.width() > paper {
        return Err(DocumentError::BadQr {
            index,
            reason: format!(
                "the code is {} dots wide but the paper has {paper}: lower the module size or shorten the data",
                bitmap.width()
            ),
        });
    }
    Ok(bitmap)
}

/// A rough size of the output, so the buffer rarely grows.
fn capacity_guess(document: &Document, profile: &Profile) -> usize {
    let columns = profile.paper.columns();
    let mut size = 16;
    for element in &document.elements {
        size += match element {
            Element::Text { spans, .. } => {
                let len: usize = spans.iter().map(|s| s.text.len()).sum();
                len * 2 + 8 * (len / columns + 1) + 8 * spans.len()
            }
            Element::Row { label, value, .. } => (label.len() + value.len()) * 2 + columns + 16,
            Element::Image { bitmap, .. } => bitmap.packed().len() + 16,
            Element::Qr {
                data, module_size, ..
            } => match profile.qr {
                QrMode::Native => data.len() + 48,
                QrMode::Raster => {
                    let side = (data.len() / 2 + 25) * usize::from(*module_size);
                    side * side.div_ceil(8) + 16
                }
            },
            Element::Barcode128 { data, .. } => data.len() + 24,
            Element::Separator { .. } => columns * 4 + 8,
            Element::Feed { .. } | Element::Cut { .. } => 8,
        };
    }
    size
}

/// Appends `s` encoded by `encoder`, characters it cannot map as `?`.
fn encode_with(encoder: &mut encoding_rs::Encoder, out: &mut Vec<u8>, s: &str) {
    let mut rest = s;
    loop {
        let need = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len() * 4);
        out.reserve(need);
        let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(rest, out, true);
        rest = &rest[read..];
        match result {
            EncoderResult::InputEmpty => break,
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(_) => out.push(b'?'),
        }
    }
}

/// The two-byte GB code (GBK area of GB18030) of every BMP character that has one, indexed
/// by code point, 0 for none. encoding_rs encodes Hanzi by searching its index tables, about
/// 130 ns a character; this table, built once (about a millisecond, 128 KiB) by decoding every
/// two-byte sequence and keeping the first code of a character (as the WHATWG encoder picks
/// it), makes the common case a lookup. Characters without a two-byte code (four-byte
/// GB18030 codes, or `?` in GBK) still go through encoding_rs. A test checks the table
/// against encoding_rs's encoder for every BMP character.
fn gb_two_byte_table() -> &'static [u16] {
    static TABLE: OnceLock<Box<[u16]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![0u16; 0x10000].into_boxed_slice();
        let mut buf = [0u8; 8];
        for lead in 0x81u8..=0xFE {
            for trail in (0x40u8..=0xFE).filter(|&t| t != 0x7F) {
                let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
                let (result, read, written) =
                    decoder.decode_to_utf8_without_replacement(&[lead, trail], &mut buf, true);
                if !matches!(result, DecoderResult::InputEmpty) || read != 2 {
                    continue;
                }
                let mut chars = std::str::from_utf8(&buf[..written])
                    .unwrap_or_default()
                    .chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    let u = c as usize;
                    // U+E5E5 decodes from A3 A0 but the encoder refuses it (WHATWG).
                    if (0x80..0x10000).contains(&u) && c != '\u{E5E5}' && table[u] == 0 {
                        table[u] = u16::from_be_bytes([lead, trail]);
                    }
                }
            }
        }
        table
    })
}

/// How text becomes bytes, and how wide each character prints.
enum Charset {
    /// Chinese mode, GB18030 or GBK (GBK: characters outside it become `?`).
    Gb {
        /// encoding_rs's encoder, for characters without a two-byte code.
        encoder: encoding_rs::Encoder,
        /// GBK rather than GB18030.
        gbk: bool,
        /// [`gb_two_byte_table`].
        table: &'static [u16],
    },
    /// UTF-8 as is.
    Utf8,
    /// PC437: ASCII, anything else `?`.
    Pc437,
    /// Windows-1252 (unmappable: `?`).
    Windows1252(encoding_rs::Encoder),
}

fn is_control(c: char) -> bool {
    (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c)
}

impl Charset {
    fn for_profile(encoding: TextEncoding) -> Charset {
        match encoding {
            TextEncoding::Gb18030 => Charset::Gb {
                encoder: encoding_rs::GB18030.new_encoder(),
                gbk: false,
                table: gb_two_byte_table(),
            },
            TextEncoding::Gbk => Charset::Gb {
                encoder: encoding_rs::GBK.new_encoder(),
                gbk: true,
                table: gb_two_byte_table(),
            },
            TextEncoding::Utf8 => Charset::Utf8,
            TextEncoding::SingleByte {
                charset: SingleByteCharset::Pc437,
                ..
            } => Charset::Pc437,
            TextEncoding::SingleByte {
                charset: SingleByteCharset::Windows1252,
                ..
            } => Charset::Windows1252(encoding_rs::WINDOWS_1252.new_encoder()),
        }
    }

    /// Columns `c` takes on paper (before double width).
    fn width(&self, c: char) -> usize {
        if is_control(c) {
            return 0;
        }
        match self {
            Charset::Gb { .. } => {
                if c.is_ascii() {
                    1
                } else {
                    2
                }
            }
            Charset::Utf8 => layout::char_width(c),
            Charset::Pc437 | Charset::Windows1252(_) => 1,
        }
    }

    /// Appends `s` (free of control characters) in this charset.
    fn push_segment(&mut self, out: &mut Vec<u8>, s: &str) {
        if s.is_ascii() {
            out.extend_from_slice(s.as_bytes());
            return;
        }
        match self {
            Charset::Utf8 => out.extend_from_slice(s.as_bytes()),
            Charset::Pc437 => {
                out.extend(s.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }))
            }
            Charset::Gb {
                encoder,
                gbk,
                table,
            } => {
                let mut utf8 = [0u8; 4];
                for c in s.chars() {
                    let u = c as usize;
                    if u < 0x80 {
                        out.push(u as u8);
                        continue;
                    }
                    // GBK sends the euro sign as the single byte 0x80 (encoding_rs does).
                    if u < 0x10000 && !(*gbk && c == '€') {
                        let code = table[u];
                        if code != 0 {
                            out.extend_from_slice(&code.to_be_bytes());
                            continue;
                        }
                    }
                    encode_with(encoder, out, c.encode_utf8(&mut utf8));
                }
            }
            Charset::Windows1252(encoder) => encode_with(encoder, out, s),
        }
    }

    /// Appends `s` in this charset, leaving out control characters.
    fn push_text(&mut self, out: &mut Vec<u8>, s: &str) {
        let mut start = 0;
        if s.bytes().any(|b| b < 0x20 || b == 0x7F || b == 0xC2) {
            for (i, c) in s.char_indices() {
                if is_control(c) {
                    if start < i {
                        self.push_segment(out, &s[start..i]);
                    }
                    start = i + c.len_utf8();
                }
            }
        }
        if start < s.len() {
            self.push_segment(out, &s[start..]);
        }
    }
}

/// What the printer is set to, so commands are sent only on change.
#[derive(Clone, Copy, PartialEq, Eq)]
struct State {
    align: Align,
    bold: bool,
    underline: bool,
    size: u8,
}

/// The state after `ESC @`.
const INITIAL: State = State {
    align: Align::Left,
    bold: false,
    underline: false,
    size: 0,
};

struct Encoder<'p> {
    out: Vec<u8>,
    profile: &'p Profile,
    charset: Charset,
    state: State,
    /// The spans of a paragraph, joined.
    joined: String,
    /// Where each span ends in `joined`.
    span_ends: Vec<usize>,
    /// Wrapped lines of the current element.
    lines: Vec<Range<usize>>,
}

impl<'p> Encoder<'p> {
    fn new(profile: &'p Profile, capacity: usize) -> Encoder<'p> {
        Encoder {
            out: Vec::with_capacity(capacity),
            profile,
            charset: Charset::for_profile(profile.encoding),
            state: INITIAL,
            joined: String::new(),
            span_ends: Vec::new(),
            lines: Vec::new(),
        }
    }

    fn setup(&mut self) {
        self.out.extend_from_slice(&commands::INITIALIZE);
        match self.profile.encoding {
            TextEncoding::Gb18030 | TextEncoding::Gbk => {
                self.out.extend_from_slice(&commands::CHINESE_MODE_ON)
            }
            TextEncoding::Utf8 => self.out.extend_from_slice(&commands::CHINESE_MODE_OFF),
            TextEncoding::SingleByte { code_page, .. } => {
                self.out.extend_from_slice(&commands::CHINESE_MODE_OFF);
                self.out.extend_from_slice(&commands::code_page(code_page));
            }
        }
    }

    fn finish(&mut self) {
        self.set_style(TextStyle::default());
        self.set_align(Align::Left);
    }

    fn set_align(&mut self, align: Align) {
        if self.state.align != align {
            self.state.align = align;
            self.out.extend_from_slice(&commands::justify(align));
        }
    }

    fn set_style(&mut self, style: TextStyle) {
        if self.state.bold != style.bold {
            self.state.bold = style.bold;
            self.out.extend_from_slice(&commands::emphasis(style.bold));
        }
        if self.state.underline != style.underline {
            self.state.underline = style.underline;
            self.out
                .extend_from_slice(&commands::underline(u8::from(style.underline)));
        }
        let size = commands::size_byte(style);
        if self.state.size != size {
            self.state.size = size;
            self.out.extend_from_slice(&[commands::GS, b'!', size]);
        }
    }

    fn element(&mut self, index: usize, element: &Element) -> Result<(), DocumentError> {
        match element {
            Element::Text { spans, align } => self.text(spans, *align),
            Element::Row {
                label,
                value,
                style,
            } => self.row(label, value, *style),
            Element::Separator { ch } => self.separator(*ch),
            Element::Image { bitmap, align } => {
                self.set_align(*align);
                self.raster(bitmap);
            }
            Element::Qr {
                data,
                module_size,
                level,
                align,
            } => match self.profile.qr {
                QrMode::Native => {
                    self.set_align(*align);
                    self.out.extend_from_slice(&commands::QR_MODEL_2);
                    self.out
                        .extend_from_slice(&commands::qr_module_size(*module_size));
                    self.out
                        .extend_from_slice(&commands::qr_error_level(*level));
                    commands::qr_store_into(&mut self.out, data.as_bytes()).map_err(|e| {
                        DocumentError::BadQr {
                            index,
                            reason: e.to_string(),
                        }
                    })?;
                    self.out.extend_from_slice(&commands::QR_PRINT);
                }
                QrMode::Raster => {
                    let bitmap = raster_qr(index, data, *module_size, *level, self.profile)?;
                    self.set_align(*align);
                    self.raster(&bitmap);
                }
            },
            Element::Barcode128 {
                data,
                height,
                hri,
                align,
            } => {
                let payload =
                    barcode::code128_payload(data).map_err(|e| DocumentError::BadBarcode {
                        index,
                        reason: e.to_string(),
                    })?;
                self.set_align(*align);
                self.out
                    .extend_from_slice(&commands::barcode_hri(if *hri { 2 } else { 0 }));
                self.out
                    .extend_from_slice(&commands::barcode_height(*height));
                self.out
                    .extend_from_slice(&commands::barcode_width(BARCODE_MODULE_DOTS));
                commands::code128_into(&mut self.out, &payload).map_err(|e| {
                    DocumentError::BadBarcode {
                        index,
                        reason: e.to_string(),
                    }
                })?;
            }
            Element::Feed { lines } => self.out.extend_from_slice(&commands::feed_lines(*lines)),
            Element::Cut { partial } => {
                self.out
                    .extend_from_slice(&commands::feed_lines(CUT_FEED_LINES));
                self.out.extend_from_slice(&commands::cut(*partial));
            }
        }
        Ok(())
    }

    fn text(&mut self, spans: &[Span], align: Align) {
        let mut joined = std::mem::take(&mut self.joined);
        let mut lines = std::mem::take(&mut self.lines);
        let mut span_ends = std::mem::take(&mut self.span_ends);
        joined.clear();
        lines.clear();
        span_ends.clear();
        for span in spans {
            joined.push_str(&span.text);
            span_ends.push(joined.len());
        }
        let columns = self.profile.paper.columns();
        let charset = &self.charset;
        let mut span = 0;
        layout::wrap_ranges_with(
            &joined,
            columns,
            |pos, c| {
                while span + 1 < span_ends.len() && pos >= span_ends[span] {
                    span += 1;
                }
                let w = charset.width(c);
                if spans[span].style.double_width {
                    w * 2
                } else {
                    w
                }
            },
            &mut lines,
        );
        for line in &lines {
            self.set_align(align);
            let mut start = 0;
            for (span, &end) in spans.iter().zip(&span_ends) {
                let (lo, hi) = (start.max(line.start), end.min(line.end));
                start = end;
                if lo < hi {
                    self.set_style(span.style);
                    self.charset.push_text(&mut self.out, &joined[lo..hi]);
                }
            }
            self.out.push(LF);
        }
        self.joined = joined;
        self.lines = lines;
        self.span_ends = span_ends;
    }

    fn row(&mut self, label: &str, value: &str, style: TextStyle) {
        let columns = layout::columns_for(self.profile.paper.columns(), style);
        let charset = &self.charset;
        let rows: Vec<RowLine<'_>> = layout::row_with(label, value, columns, |c| charset.width(c));
        self.set_align(Align::Left);
        self.set_style(style);
        for line in rows {
            self.charset.push_text(&mut self.out, line.left);
            self.out.extend(std::iter::repeat_n(b' ', line.pad));
            self.charset.push_text(&mut self.out, line.right);
            self.out.push(LF);
        }
    }

    fn separator(&mut self, ch: char) {
        let ch = if self.charset.width(ch) == 0 { '-' } else { ch };
        let count = self.profile.paper.columns() / self.charset.width(ch);
        self.set_align(Align::Left);
        self.set_style(TextStyle::default());
        let start = self.out.len();
        let mut buf = [0u8; 4];
        self.charset
            .push_text(&mut self.out, ch.encode_utf8(&mut buf));
        let end = self.out.len();
        for _ in 1..count {
            self.out.extend_from_within(start..end);
        }
        if count == 0 {
            self.out.truncate(start);
        }
        self.out.push(LF);
    }

    /// `GS v 0` in bands of at most [`RASTER_BAND_ROWS`] rows; nothing for an empty image.
    fn raster(&mut self, bitmap: &crate::Bitmap) {
        let stride = bitmap.stride();
        if stride == 0 || bitmap.height() == 0 {
            return;
        }
        for band in bitmap.packed().chunks(stride * RASTER_BAND_ROWS as usize) {
            // The width was checked against the paper and a band is at most 960 rows, so
            // this cannot exceed GS v 0's limits.
            let _ = commands::raster_rows_into(&mut self.out, stride, band, RasterMode::Normal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitmap::Bitmap;
    use crate::profile::PaperWidth;

    fn body(bytes: &[u8]) -> &[u8] {
        // Skip ESC @ FS &.
        &bytes[4..]
    }

    #[test]
    fn plain_line() {
        let bytes = encode(&Document::new().line("Hi"), &Profile::mm58()).unwrap();
        assert_eq!(bytes, [0x1B, 0x40, 0x1C, 0x26, b'H', b'i', 0x0A]);
    }

    #[test]
    fn control_characters_are_never_sent() {
        let bytes = encode(
            &Document::new().line("a\x1b@b\x10\x04\x01c\u{85}"),
            &Profile::mm58(),
        )
        .unwrap();
        assert_eq!(body(&bytes), b"a@bc\n");
    }

    #[test]
    fn styles_change_only_when_needed() {
        let doc = Document::new()
            .text("A", TextStyle::BOLD, Align::Left)
            .text("B", TextStyle::BOLD, Align::Left);
        let bytes = encode(&doc, &Profile::mm58()).unwrap();
        assert_eq!(
            body(&bytes),
            [0x1B, 0x45, 0x01, b'A', 0x0A, b'B', 0x0A, 0x1B, 0x45, 0x00]
        );
    }

    #[test]
    fn gb_table_agrees_with_encoding_rs_for_every_bmp_character() {
        for (encoding, gbk) in [(TextEncoding::Gb18030, false), (TextEncoding::Gbk, true)] {
            let mut charset = Charset::for_profile(encoding);
            let reference = if gbk {
                encoding_rs::GBK
            } else {
                encoding_rs::GB18030
            };
            let mut ours = Vec::new();
            let mut buf = [0u8; 4];
            for c in (0x80u32..0x10000)
                .filter_map(char::from_u32)
                .filter(|c| !is_control(*c))
            {
                ours.clear();
                charset.push_segment(&mut ours, c.encode_utf8(&mut buf));
                let mut expected = Vec::new();
                let mut encoder = reference.new_encoder();
                encode_with(&mut encoder, &mut expected, c.encode_utf8(&mut buf));
                assert_eq!(ours, expected, "U+{:04X} gbk={gbk}", c as u32);
            }
        }
    }

    #[test]
    fn gbk_replaces_characters_outside_gbk() {
        let profile = Profile {
            encoding: TextEncoding::Gbk,
            ..Profile::mm58()
        };
        // U+20000 (Ext B) is only in GB18030's four-byte area.
        let bytes = encode(&Document::new().line("中\u{20000}"), &profile).unwrap();
        assert_eq!(body(&bytes), [0xD6, 0xD0, b'?', 0x0A]);
        let bytes = encode(&Document::new().line("中\u{20000}"), &Profile::mm58()).unwrap();
        assert_eq!(body(&bytes), [0xD6, 0xD0, 0x95, 0x32, 0x82, 0x36, 0x0A]);
    }

    #[test]
    fn lines_fit_the_paper_in_every_encoding() {
        let text = "商户名称 Merchant: 深圳市某某科技有限公司 Shenzhen Example Technology Co., Ltd. 终端号 12345678 ¥12.00 café";
        for encoding in [
            TextEncoding::Gb18030,
            TextEncoding::Gbk,
            TextEncoding::Utf8,
            TextEncoding::SingleByte {
                code_page: 16,
                charset: SingleByteCharset::Windows1252,
            },
            TextEncoding::SingleByte {
                code_page: 0,
                charset: SingleByteCharset::Pc437,
            },
        ] {
            for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
                let profile = Profile {
                    paper,
                    encoding,
                    ..Profile::mm58()
                };
                let charset = Charset::for_profile(encoding);
                for style in [TextStyle::default(), TextStyle::BIG] {
                    let doc = Document::new().text(text, style, Align::Left);
                    let bytes = encode(&doc, &profile).unwrap();
                    assert!(
                        bytes.ends_with(b"\n")
                            || bytes.ends_with(&[0x1D, 0x21, 0x00])
                            || bytes.ends_with(&[0x1B, 0x45, 0x00])
                    );
                    // Re-wrap independently and check each line's printed width.
                    let mut lines = Vec::new();
                    let columns = layout::columns_for(paper.columns(), style);
                    layout::wrap_ranges_with(text, columns, |_, c| charset.width(c), &mut lines);
                    assert!(lines.len() > 1);
                    for line in &lines {
                        let w: usize = text[line.clone()].chars().map(|c| charset.width(c)).sum();
                        assert!(
                            w <= columns,
                            "{encoding:?} {paper:?}: {:?}",
                            &text[line.clone()]
                        );
                    }
                    assert_eq!(bytes.iter().filter(|&&b| b == LF).count(), lines.len());
                }
            }
        }
    }

    #[test]
    fn errors_name_the_element() {
        let wide = Document::new()
            .line("x")
            .image(Bitmap::new(385, 1), Align::Left);
        assert_eq!(
            encode(&wide, &Profile::mm58()).unwrap_err(),
            DocumentError::ImageTooWide {
                index: 1,
                width: 385,
                paper: 384
            }
        );
        assert!(encode(&wide, &Profile::mm80()).is_ok());
        let empty_qr = Document::new().qr("");
        assert!(matches!(
            encode(&empty_qr, &Profile::mm58()),
            Err(DocumentError::BadQr { index: 0, .. })
        ));
        let big_module = Document::new().push(Element::Qr {
            data: "x".into(),
            module_size: 17,
            level: QrLevel::M,
            align: Align::Center,
        });
        assert!(matches!(
            validate(&big_module, &Profile::mm58()),
            Err(DocumentError::BadQr { .. })
        ));
        // 21 modules × 16 dots = 336 fits 58 mm; 100 bytes at H need version 7+ (45 × 16 = 720).
        let raster = Profile {
            qr: QrMode::Raster,
            ..Profile::mm58()
        };
        let too_wide = Document::new().push(Element::Qr {
            data: "x".repeat(100),
            module_size: 16,
            level: QrLevel::H,
            align: Align::Center,
        });
        assert!(encode(&too_wide, &Profile::mm58()).is_ok());
        assert!(matches!(
            encode(&too_wide, &raster),
            Err(DocumentError::BadQr { .. })
        ));
        assert!(matches!(
            validate(&too_wide, &raster),
            Err(DocumentError::BadQr { .. })
        ));
        let bad_barcode = Document::new().barcode128("条码");
        assert!(matches!(
            encode(&bad_barcode, &Profile::mm58()),
            Err(DocumentError::BadBarcode { index: 0, .. })
        ));
        let long_barcode = Document::new().barcode128(&"A".repeat(20));
        // 23 symbols × 11 + 2 = 255 modules × 2 dots = 510 > 384.
        assert!(matches!(
            validate(&long_barcode, &Profile::mm58()),
            Err(DocumentError::BadBarcode { .. })
        ));
        assert!(validate(&long_barcode, &Profile::mm80()).is_ok());
    }

    #[test]
    fn tall_images_go_in_bands() {
        let mut bitmap = Bitmap::new(16, 1000);
        bitmap.set(0, 999, true);
        let bytes = encode(
            &Document::new().image(bitmap, Align::Left),
            &Profile::mm58(),
        )
        .unwrap();
        let body = body(&bytes);
        assert_eq!(&body[..8], [0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0xC0, 0x03]);
        let second = 8 + 2 * 960;
        assert_eq!(
            &body[second..second + 8],
            [0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x28, 0x00]
        );
        assert_eq!(body.len(), second + 8 + 80);
        assert_eq!(body[body.len() - 2], 0x80);
        // An empty image sends nothing.
        let bytes = encode(
            &Document::new().image(Bitmap::new(0, 0), Align::Left),
            &Profile::mm58(),
        )
        .unwrap();
        assert_eq!(bytes.len(), 4);
    }
}
