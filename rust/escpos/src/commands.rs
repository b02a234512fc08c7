//! Byte builders for every ESC/POS command this crate emits, one function (or constant) per
//! command. The encoder, the driver (status requests, job confirmation) and the virtual
//! printer (its replies) all take their bytes from here, so a command is spelled once.
//!
//! Fixed-length commands are returned as arrays (no allocation); only `GS v 0`, `GS ( k`
//! store and `GS k` carry data and come as `Vec<u8>` (or are appended to a caller's buffer
//! with the `*_into` forms). Byte layouts follow reference/printers.md §2 (Epson ESC/POS).

use crate::bitmap::Bitmap;
use crate::document::{Align, QrLevel, TextStyle};

/// `ESC` (0x1B).
pub const ESC: u8 = 0x1B;
/// `GS` (0x1D).
pub const GS: u8 = 0x1D;
/// `FS` (0x1C).
pub const FS: u8 = 0x1C;
/// `DLE` (0x10).
pub const DLE: u8 = 0x10;
/// `EOT` (0x04).
pub const EOT: u8 = 0x04;
/// `LF` (0x0A): print the line buffer and feed one line.
pub const LF: u8 = 0x0A;

/// `ESC @` (1B 40): initialize the printer (styles, alignment and line spacing to their
/// power-on values; the receive buffer is kept).
pub const INITIALIZE: [u8; 2] = [ESC, b'@'];

/// `FS &` (1C 26): select the double-byte Chinese mode (GB2312/GBK/GB18030 on Chinese
/// printers). On many of them this mode is already on at power-up.
pub const CHINESE_MODE_ON: [u8; 2] = [FS, b'&'];

/// `FS .` (1C 2E): cancel the Chinese mode; bytes ≥ 0x80 are then single-byte characters
/// of the code page selected with `ESC t` (or UTF-8 on printers that support it).
pub const CHINESE_MODE_OFF: [u8; 2] = [FS, b'.'];

/// `ESC 2` (1B 32): default line spacing (about 1/6 inch, 30 dots at 203 dpi on Epson).
pub const DEFAULT_LINE_SPACING: [u8; 2] = [ESC, b'2'];

/// `GS ( k` fn 65 (1D 28 6B 04 00 31 41 32 00): select QR model 2.
pub const QR_MODEL_2: [u8; 9] = [GS, b'(', b'k', 0x04, 0x00, 0x31, 0x41, 0x32, 0x00];

/// `GS ( k` fn 81 (1D 28 6B 03 00 31 51 30): print the stored QR code.
pub const QR_PRINT: [u8; 8] = [GS, b'(', b'k', 0x03, 0x00, 0x31, 0x51, 0x30];

/// The two bytes that open a `GS ( H` fn 48 reply: the printer answers a
/// [`process_id_request`] with `37 22 d1 d2 d3 d4 00` once the data before it is printed
/// (reference/printers.md §2). Parsing it is [`crate::status`]'s job.
pub const PROCESS_ID_REPLY_HEADER: [u8; 2] = [0x37, 0x22];

/// Why a command cannot be built from the given arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A `GS v 0` raster is limited to 65535 bytes across and 65535 dots down.
    #[error(
        "raster image of {width_bytes} bytes × {height} dots exceeds GS v 0's 65535 × 65535 limit: split or scale it"
    )]
    RasterTooLarge {
        /// Bytes per row.
        width_bytes: usize,
        /// Rows.
        height: usize,
    },
    /// A `GS ( H` process ID byte is outside 0x20–0x7E (the printer would reject it).
    #[error("process ID byte {index} is 0x{byte:02X}, outside 0x20..=0x7E: use printable ASCII")]
    ProcessIdByte {
        /// Which of the four bytes.
        index: usize,
        /// Its value.
        byte: u8,
    },
    /// `GS ( k` fn 80 carries at most 65532 data bytes (pL + 256·pH = len + 3 ≤ 65535).
    #[error("QR data of {len} bytes exceeds GS ( k's 65532-byte limit: shorten it")]
    QrDataTooLong {
        /// The data length.
        len: usize,
    },
    /// `GS k` form 2 carries at most 255 data bytes (one length byte).
    #[error("barcode data of {len} bytes exceeds GS k's 255-byte limit: shorten it")]
    BarcodeDataTooLong {
        /// The data length.
        len: usize,
    },
}

/// How `GS v 0` scales the raster (its `m` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RasterMode {
    /// m = 0: one dot per bit.
    #[default]
    Normal,
    /// m = 1: each dot twice as wide.
    DoubleWidth,
    /// m = 2: each dot twice as tall.
    DoubleHeight,
    /// m = 3: both.
    Quadruple,
}

impl RasterMode {
    /// The `m` byte.
    pub fn byte(self) -> u8 {
        match self {
            RasterMode::Normal => 0,
            RasterMode::DoubleWidth => 1,
            RasterMode::DoubleHeight => 2,
            RasterMode::Quadruple => 3,
        }
    }
}

/// `ESC a n` (1B 61 n): justification of the following lines, images, QR codes and
/// barcodes (n = 0 left, 1 center, 2 right). Effective only at the start of a line.
pub fn justify(align: Align) -> [u8; 3] {
    let n = match align {
        Align::Left => 0,
        Align::Center => 1,
        Align::Right => 2,
    };
    [ESC, b'a', n]
}

/// `ESC E n` (1B 45 n): emphasized (bold) on or off.
pub fn emphasis(on: bool) -> [u8; 3] {
    [ESC, b'E', u8::from(on)]
}

/// `ESC - n` (1B 2D n): underline off (0), one dot (1) or two dots (2). Values above 2 are
/// sent as 2.
pub fn underline(dots: u8) -> [u8; 3] {
    [ESC, b'-', dots.min(2)]
}

/// The `n` of `GS !` for a style: high nibble width − 1, low nibble height − 1 (so double
/// width is 0x10, double height 0x01, both 0x11).
pub fn size_byte(style: TextStyle) -> u8 {
    (u8::from(style.double_width) << 4) | u8::from(style.double_height)
}

/// `GS ! n` (1D 21 n): character size. `width` and `height` are multipliers 1–8 (clamped).
pub fn character_size(width: u8, height: u8) -> [u8; 3] {
    let w = width.clamp(1, 8) - 1;
    let h = height.clamp(1, 8) - 1;
    [GS, b'!', (w << 4) | h]
}

/// `ESC t n` (1B 74 n): select the single-byte code page `n` (model-specific numbers).
pub fn code_page(n: u8) -> [u8; 3] {
    [ESC, b't', n]
}

/// `ESC 3 n` (1B 33 n): line spacing of `n` motion units (dots at 203 dpi on most models).
pub fn line_spacing(n: u8) -> [u8; 3] {
    [ESC, b'3', n]
}

/// `ESC d n` (1B 64 n): print the buffer and feed `n` lines.
pub fn feed_lines(n: u8) -> [u8; 3] {
    [ESC, b'd', n]
}

/// `ESC J n` (1B 4A n): print the buffer and feed `n` dots.
pub fn feed_dots(n: u8) -> [u8; 3] {
    [ESC, b'J', n]
}

/// `GS v 0 m xL xH yL yH d…` (1D 76 30): a raster image. The width is sent in *bytes*
/// (`bitmap.stride()`), the height in dots; each row is packed MSB-first (bit 7 of the first
/// byte is the leftmost dot), exactly as [`Bitmap::packed`] holds it. The printer prints it
/// at once (no `LF` needed) and leaves the position at the start of the next line.
///
/// Refuses bitmaps over 65535 bytes across or 65535 dots down. The encoder sends tall
/// images in bands (see [`raster_rows_into`]) so no printer buffer has to hold them whole.
pub fn raster(bitmap: &Bitmap, mode: RasterMode) -> Result<Vec<u8>, CommandError> {
    let mut out = Vec::with_capacity(8 + bitmap.packed().len());
    raster_rows_into(&mut out, bitmap.stride(), bitmap.packed(), mode)?;
    Ok(out)
}

/// Appends one `GS v 0` command for `packed` rows of `width_bytes` bytes each (MSB-first) to
/// `out`: the building block of [`raster`] for a band of an image. `packed.len()` must be a
/// multiple of `width_bytes`; a trailing partial row is not sent.
pub fn raster_rows_into(
    out: &mut Vec<u8>,
    width_bytes: usize,
    packed: &[u8],
    mode: RasterMode,
) -> Result<(), CommandError> {
    let height = packed.len().checked_div(width_bytes).unwrap_or(0);
    let (Ok(x), Ok(y)) = (u16::try_from(width_bytes), u16::try_from(height)) else {
        return Err(CommandError::RasterTooLarge {
            width_bytes,
            height,
        });
    };
    let [xl, xh] = x.to_le_bytes();
    let [yl, yh] = y.to_le_bytes();
    out.extend_from_slice(&[GS, b'v', b'0', mode.byte(), xl, xh, yl, yh]);
    out.extend_from_slice(&packed[..width_bytes * height]);
    Ok(())
}

/// `GS ( k` fn 67 (1D 28 6B 03 00 31 43 n): QR module size in dots (1–16, clamped).
pub fn qr_module_size(dots: u8) -> [u8; 8] {
    [GS, b'(', b'k', 0x03, 0x00, 0x31, 0x43, dots.clamp(1, 16)]
}

/// The `n` of `GS ( k` fn 69 for a level: L/M/Q/H → 48/49/50/51.
pub fn qr_level_byte(level: QrLevel) -> u8 {
    match level {
        QrLevel::L => 48,
        QrLevel::M => 49,
        QrLevel::Q => 50,
        QrLevel::H => 51,
    }
}

/// `GS ( k` fn 69 (1D 28 6B 03 00 31 45 n): QR error correction level.
pub fn qr_error_level(level: QrLevel) -> [u8; 8] {
    [GS, b'(', b'k', 0x03, 0x00, 0x31, 0x45, qr_level_byte(level)]
}

/// `GS ( k` fn 80 (1D 28 6B pL pH 31 50 30 d…): store QR data, pL + 256·pH = len + 3.
pub fn qr_store(data: &[u8]) -> Result<Vec<u8>, CommandError> {
    let mut out = Vec::with_capacity(8 + data.len());
    qr_store_into(&mut out, data)?;
    Ok(out)
}

/// [`qr_store`], appended to `out`.
pub fn qr_store_into(out: &mut Vec<u8>, data: &[u8]) -> Result<(), CommandError> {
    let Ok(p) = u16::try_from(data.len() + 3) else {
        return Err(CommandError::QrDataTooLong { len: data.len() });
    };
    let [pl, ph] = p.to_le_bytes();
    out.extend_from_slice(&[GS, b'(', b'k', pl, ph, 0x31, 0x50, 0x30]);
    out.extend_from_slice(data);
    Ok(())
}

/// `GS H n` (1D 48 n): where the barcode's human-readable text goes (0 none, 1 above,
/// 2 below, 3 both).
pub fn barcode_hri(position: u8) -> [u8; 3] {
    [GS, b'H', position]
}

/// `GS h n` (1D 68 n): barcode height in dots (1–255; 0 is sent as 1).
pub fn barcode_height(dots: u8) -> [u8; 3] {
    [GS, b'h', dots.max(1)]
}

/// `GS w n` (1D 77 n): barcode module width in dots (2–6 on Epson, clamped).
pub fn barcode_width(dots: u8) -> [u8; 3] {
    [GS, b'w', dots.clamp(2, 6)]
}

/// `GS k 73 n d…` (1D 6B 49 n d…): a CODE128 barcode, form 2 (length-prefixed). `payload`
/// is the ESC/POS data including its code-set prefix (`{B…`, see
/// [`crate::barcode::code128_payload`]); at most 255 bytes.
pub fn code128(payload: &[u8]) -> Result<Vec<u8>, CommandError> {
    let mut out = Vec::with_capacity(4 + payload.len());
    code128_into(&mut out, payload)?;
    Ok(out)
}

/// [`code128`], appended to `out`.
pub fn code128_into(out: &mut Vec<u8>, payload: &[u8]) -> Result<(), CommandError> {
    let Ok(n) = u8::try_from(payload.len()) else {
        return Err(CommandError::BarcodeDataTooLong { len: payload.len() });
    };
    out.extend_from_slice(&[GS, b'k', 73, n]);
    out.extend_from_slice(payload);
    Ok(())
}

/// `GS V m` (1D 56 m): cut now, full (m = 0) or partial (m = 1, one tab left uncut). Feed
/// the paper to the cutter first (the encoder sends `ESC d 3`), or use [`feed_and_cut`].
pub fn cut(partial: bool) -> [u8; 3] {
    [GS, b'V', u8::from(partial)]
}

/// `GS V m n` (1D 56 41|42 n): feed `n` motion units past the cutter position, then cut,
/// full (m = 65) or partial (m = 66).
pub fn feed_and_cut(partial: bool, n: u8) -> [u8; 4] {
    [GS, b'V', if partial { 66 } else { 65 }, n]
}

/// `DLE EOT n` (10 04 n): real-time status, n = 1 printer, 2 offline cause, 3 error cause,
/// 4 roll paper sensor. Answered at once with one byte, even while offline. Send only a
/// few at a time (reference/printers.md §2).
pub fn realtime_status(n: u8) -> [u8; 3] {
    [DLE, EOT, n]
}

/// `GS r n` (1D 72 n): transmit status, n = 1 (or 49) paper sensor, 2 (or 50) drawer.
/// Executed only after the data received before it is processed, and not at all while
/// offline: the fallback job confirmation where `GS ( H` is not supported.
pub fn transmit_status(n: u8) -> [u8; 3] {
    [GS, b'r', n]
}

/// `GS a n` (1D 61 n): enable Automatic Status Back for the bits of `mask` (bit 0 drawer,
/// 1 online/offline, 2 error, 3 paper sensor; 0 disables, 0xFF enables all). The printer
/// then sends a 4-byte status on every change.
pub fn auto_status_back(mask: u8) -> [u8; 3] {
    [GS, b'a', mask]
}

/// `GS ( H` fn 48 (1D 28 48 06 00 30 30 d1 d2 d3 d4): process-ID request. The printer
/// answers `37 22 d1 d2 d3 d4 00` ([`PROCESS_ID_REPLY_HEADER`], see [`process_id_reply`])
/// when everything received before it has been printed: the per-job confirmation on
/// Epson-class printers. Each byte must be 0x20–0x7E.
pub fn process_id_request(id: [u8; 4]) -> Result<[u8; 11], CommandError> {
    check_process_id(id)?;
    let [d1, d2, d3, d4] = id;
    Ok([GS, b'(', b'H', 0x06, 0x00, 0x30, 0x30, d1, d2, d3, d4])
}

/// The printer's reply to [`process_id_request`]: `37 22 d1 d2 d3 d4 00`. For the virtual
/// printer; the driver parses replies with [`crate::status`].
pub fn process_id_reply(id: [u8; 4]) -> Result<[u8; 7], CommandError> {
    check_process_id(id)?;
    let [d1, d2, d3, d4] = id;
    Ok([0x37, 0x22, d1, d2, d3, d4, 0x00])
}

fn check_process_id(id: [u8; 4]) -> Result<(), CommandError> {
    match id.iter().position(|b| !(0x20..=0x7E).contains(b)) {
        Some(index) => Err(CommandError::ProcessIdByte {
            index,
            byte: id[index],
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_commands() {
        assert_eq!(INITIALIZE, [0x1B, 0x40]);
        assert_eq!(justify(Align::Center), [0x1B, 0x61, 0x01]);
        assert_eq!(justify(Align::Right), [0x1B, 0x61, 0x02]);
        assert_eq!(emphasis(true), [0x1B, 0x45, 0x01]);
        assert_eq!(underline(5), [0x1B, 0x2D, 0x02]);
        assert_eq!(character_size(2, 2), [0x1D, 0x21, 0x11]);
        assert_eq!(character_size(2, 1), [0x1D, 0x21, 0x10]);
        assert_eq!(size_byte(TextStyle::BIG), 0x11);
        assert_eq!(
            size_byte(TextStyle {
                double_height: true,
                ..TextStyle::default()
            }),
            0x01
        );
        assert_eq!(CHINESE_MODE_ON, [0x1C, 0x26]);
        assert_eq!(CHINESE_MODE_OFF, [0x1C, 0x2E]);
        assert_eq!(code_page(16), [0x1B, 0x74, 0x10]);
        assert_eq!(DEFAULT_LINE_SPACING, [0x1B, 0x32]);
        assert_eq!(line_spacing(24), [0x1B, 0x33, 0x18]);
        assert_eq!(feed_lines(3), [0x1B, 0x64, 0x03]);
        assert_eq!(feed_dots(8), [0x1B, 0x4A, 0x08]);
        assert_eq!(cut(false), [0x1D, 0x56, 0x00]);
        assert_eq!(cut(true), [0x1D, 0x56, 0x01]);
        assert_eq!(feed_and_cut(true, 10), [0x1D, 0x56, 0x42, 0x0A]);
        assert_eq!(realtime_status(4), [0x10, 0x04, 0x04]);
        assert_eq!(transmit_status(1), [0x1D, 0x72, 0x01]);
        assert_eq!(auto_status_back(0xFF), [0x1D, 0x61, 0xFF]);
        assert_eq!(barcode_hri(2), [0x1D, 0x48, 0x02]);
        assert_eq!(barcode_height(0), [0x1D, 0x68, 0x01]);
        assert_eq!(barcode_width(2), [0x1D, 0x77, 0x02]);
    }

    #[test]
    fn qr_sequence() {
        assert_eq!(
            QR_MODEL_2,
            [0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]
        );
        assert_eq!(
            qr_module_size(6),
            [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06]
        );
        assert_eq!(qr_module_size(40)[7], 16);
        assert_eq!(qr_error_level(QrLevel::L)[7], 48);
        assert_eq!(qr_error_level(QrLevel::H)[7], 51);
        assert_eq!(
            qr_store(b"AB").unwrap(),
            [0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, b'A', b'B']
        );
        let long = vec![b'1'; 300];
        let store = qr_store(&long).unwrap();
        assert_eq!(&store[3..5], &[0x2F, 0x01]); // 303 = 0x012F
        assert_eq!(
            qr_store(&vec![0; 65533]).unwrap_err(),
            CommandError::QrDataTooLong { len: 65533 }
        );
        assert_eq!(QR_PRINT, [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    }

    #[test]
    fn raster_header_and_rows() {
        let mut b = Bitmap::new(10, 2);
        b.set(0, 0, true);
        b.set(9, 1, true);
        let bytes = raster(&b, RasterMode::Normal).unwrap();
        assert_eq!(
            bytes,
            [
                0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0x80, 0x00, 0x00, 0x40
            ]
        );
        let wide = Bitmap::new(8 * 65536, 1);
        assert_eq!(
            raster(&wide, RasterMode::Quadruple).unwrap_err(),
            CommandError::RasterTooLarge {
                width_bytes: 65536,
                height: 1
            }
        );
        let mut out = Vec::new();
        raster_rows_into(&mut out, 0, &[], RasterMode::DoubleHeight).unwrap();
        assert_eq!(out, [0x1D, 0x76, 0x30, 0x02, 0, 0, 0, 0]);
    }

    #[test]
    fn barcode_command() {
        assert_eq!(
            code128(b"{B12").unwrap(),
            [0x1D, 0x6B, 0x49, 0x04, b'{', b'B', b'1', b'2']
        );
        assert_eq!(
            code128(&[b'1'; 256]).unwrap_err(),
            CommandError::BarcodeDataTooLong { len: 256 }
        );
    }

    #[test]
    fn process_id() {
        assert_eq!(
            process_id_request(*b"J001").unwrap(),
            [
                0x1D, 0x28, 0x48, 0x06, 0x00, 0x30, 0x30, b'J', b'0', b'0', b'1'
            ]
        );
        assert_eq!(
            process_id_reply(*b"J001").unwrap(),
            [0x37, 0x22, b'J', b'0', b'0', b'1', 0x00]
        );
        assert_eq!(
            process_id_request([0x20, 0x7E, 0x7F, 0x41]).unwrap_err(),
            CommandError::ProcessIdByte {
                index: 2,
                byte: 0x7F
            }
        );
        assert!(process_id_reply([0x1F, 0x41, 0x41, 0x41]).is_err());
    }
}
