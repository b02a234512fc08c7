//! The paper model: how many dots of paper each command feeds (8 dots per mm).
//!
//! It is computed from the [`Command`]s as they are executed, not from the decoded page, so
//! a fault can strike at the exact command that runs the roll out:
//! - a text line (ended by `LF`) feeds the line spacing (30 dots by default, `ESC 3 n` sets
//!   n, `ESC 2` restores 30); a line printed with a character height multiplier h > 1
//!   (`ESC !` bit 4, or `GS !`) feeds max(spacing, 24·h + 6);
//! - `ESC d n` feeds n·spacing, `ESC J n` feeds n dots; a pending text line is printed
//!   by them and counts as the first line (`ESC d`) or the first dots (`ESC J`), as the
//!   escpos `PageBuilder` lays it out;
//! - a raster image feeds its height (doubled in the double-height modes);
//! - a QR code feeds modules × module size (3 dots by default);
//! - a barcode feeds its height (162 dots by default) plus 30 dots per HRI line;
//! - a cut feeds nothing (the `ESC d` before it already fed); `ESC @` restores the defaults.

use poscore_escpos::Command;

/// The default line spacing, in dots (1/6 inch at 180 dpi as Epson rounds it for 203 dpi).
pub const DEFAULT_LINE_SPACING: u32 = 30;
/// The default QR module size, in dots.
pub const DEFAULT_QR_MODULE: u32 = 3;
/// The default barcode height, in dots.
pub const DEFAULT_BARCODE_HEIGHT: u32 = 162;
/// Dots per millimetre (203 dpi).
pub const DOTS_PER_MM: f64 = 8.0;

/// Font A's character height, in dots.
const CHAR_HEIGHT: u32 = 24;
/// The gap a tall line keeps below it, in dots.
const TALL_LINE_GAP: u32 = 6;
/// Paper per HRI line under (or above) a barcode, in dots.
const HRI_LINE: u32 = 24 + 6;

/// Tracks the print modes that decide how far each command feeds the paper.
#[derive(Debug, Clone)]
pub struct PaperMeter {
    spacing: u32,
    print_mode_double_height: bool,
    size_height: u32,
    line_has_text: bool,
    line_height: u32,
    qr_module: u32,
    qr_level: qrcode::EcLevel,
    qr_data: Vec<u8>,
    barcode_height: u32,
    hri: u8,
}

impl Default for PaperMeter {
    fn default() -> Self {
        PaperMeter::new()
    }
}

impl PaperMeter {
    /// A meter in the power-on state.
    pub fn new() -> PaperMeter {
        PaperMeter {
            spacing: DEFAULT_LINE_SPACING,
            print_mode_double_height: false,
            size_height: 1,
            line_has_text: false,
            line_height: 1,
            qr_module: DEFAULT_QR_MODULE,
            qr_level: qrcode::EcLevel::L,
            qr_data: Vec::new(),
            barcode_height: DEFAULT_BARCODE_HEIGHT,
            hri: 0,
        }
    }

    /// The character height multiplier in force.
    fn height_multiplier(&self) -> u32 {
        let mode = if self.print_mode_double_height { 2 } else { 1 };
        mode.max(self.size_height)
    }

    /// The advance of the pending text line (0 when nothing is pending), and resets it.
    fn take_line(&mut self) -> u32 {
        let h = self.line_height;
        let had_text = self.line_has_text;
        self.line_has_text = false;
        self.line_height = 1;
        match (had_text, h) {
            (false, _) => 0,
            (true, 1) => self.spacing,
            (true, h) => self.spacing.max(CHAR_HEIGHT * h + TALL_LINE_GAP),
        }
    }

    /// The dots this command would feed, without executing it (to see whether it fits on
    /// the paper left).
    pub fn peek(&self, command: &Command) -> u32 {
        self.clone().apply(command)
    }

    /// Executes the command's effect on the paper model; returns the dots it feeds.
    pub fn apply(&mut self, command: &Command) -> u32 {
        match command {
            Command::Initialize => {
                *self = PaperMeter::new();
                0
            }
            Command::Text(bytes) => {
                if !bytes.is_empty() {
                    self.line_has_text = true;
                    self.line_height = self.line_height.max(self.height_multiplier());
                }
                0
            }
            Command::LineFeed => {
                let advance = self.take_line();
                if advance == 0 { self.spacing } else { advance }
            }
            Command::PrintMode(n) => {
                self.print_mode_double_height = n & 0x10 != 0;
                0
            }
            Command::CharacterSize(n) => {
                self.size_height = u32::from(n & 0x0F) + 1;
                0
            }
            Command::LineSpacing(spacing) => {
                self.spacing = spacing.map_or(DEFAULT_LINE_SPACING, u32::from);
                0
            }
            Command::FeedLines(n) => {
                let lines = u32::from(*n);
                match self.take_line() {
                    0 => lines * self.spacing,
                    line => line + lines.saturating_sub(1) * self.spacing,
                }
            }
            Command::FeedDots(n) => self.take_line().max(u32::from(*n)),
            Command::Raster { mode, bitmap } => {
                let double_height = matches!(mode, 2 | 3 | 50 | 51);
                bitmap.height() * if double_height { 2 } else { 1 }
            }
            Command::QrModuleSize(n) => {
                self.qr_module = u32::from(*n);
                0
            }
            Command::QrErrorLevel(n) => {
                self.qr_level = match n {
                    49 | 1 => qrcode::EcLevel::M,
                    50 | 2 => qrcode::EcLevel::Q,
                    51 | 3 => qrcode::EcLevel::H,
                    _ => qrcode::EcLevel::L,
                };
                0
            }
            Command::QrStore(data) => {
                self.qr_data = data.clone();
                0
            }
            Command::QrPrint => {
                if self.qr_data.is_empty() {
                    return 0;
                }
                match qrcode::QrCode::with_error_correction_level(&self.qr_data, self.qr_level) {
                    Ok(code) => u32::try_from(code.width()).unwrap_or(0) * self.qr_module,
                    Err(_) => 0,
                }
            }
            Command::BarcodeHeight(n) => {
                self.barcode_height = u32::from(*n);
                0
            }
            Command::BarcodeHri(n) => {
                self.hri = *n;
                0
            }
            Command::Barcode { .. } => {
                let hri_lines = match self.hri {
                    1 | 2 | 49 | 50 => 1,
                    3 | 51 => 2,
                    _ => 0,
                };
                self.barcode_height + hri_lines * HRI_LINE
            }
            _ => 0,
        }
    }
}

/// Dots to millimetres.
pub fn dots_to_mm(dots: u64) -> f64 {
    dots as f64 / DOTS_PER_MM
}

#[cfg(test)]
mod tests {
    use super::*;
    use poscore_escpos::Bitmap;

    fn feed(meter: &mut PaperMeter, commands: &[Command]) -> u32 {
        commands.iter().map(|c| meter.apply(c)).sum()
    }

    #[test]
    fn text_lines_feed_the_line_spacing() {
        let mut m = PaperMeter::new();
        let text = Command::Text(b"hello".to_vec());
        assert_eq!(
            feed(
                &mut m,
                &[
                    text.clone(),
                    Command::LineFeed,
                    text.clone(),
                    Command::LineFeed
                ]
            ),
            60
        );
        assert_eq!(
            feed(
                &mut m,
                &[
                    Command::LineSpacing(Some(40)),
                    text.clone(),
                    Command::LineFeed
                ]
            ),
            40
        );
        assert_eq!(
            feed(&mut m, &[Command::LineSpacing(None), Command::LineFeed]),
            30,
            "an empty LF feeds one line"
        );
    }

    #[test]
    fn tall_lines_feed_at_least_their_height() {
        let mut m = PaperMeter::new();
        let text = Command::Text("大字".as_bytes().to_vec());
        assert_eq!(
            feed(
                &mut m,
                &[Command::PrintMode(0x10), text.clone(), Command::LineFeed]
            ),
            54
        );
        assert_eq!(
            feed(
                &mut m,
                &[Command::PrintMode(0), text.clone(), Command::LineFeed]
            ),
            30
        );
        assert_eq!(
            feed(
                &mut m,
                &[
                    Command::CharacterSize(0x02),
                    text.clone(),
                    Command::LineFeed
                ]
            ),
            78
        );
        assert_eq!(
            feed(
                &mut m,
                &[
                    Command::CharacterSize(0x01),
                    Command::LineSpacing(Some(100)),
                    text,
                    Command::LineFeed
                ]
            ),
            100,
            "a wide spacing wins over the tall line"
        );
    }

    #[test]
    fn feeds_images_codes_and_cuts() {
        let mut m = PaperMeter::new();
        assert_eq!(m.apply(&Command::FeedLines(3)), 90);
        assert_eq!(m.apply(&Command::FeedDots(17)), 17);
        assert_eq!(
            feed(
                &mut m,
                &[Command::Text(b"x".to_vec()), Command::FeedLines(2)]
            ),
            60,
            "the pending line is the first"
        );
        assert_eq!(
            feed(
                &mut m,
                &[Command::Text(b"x".to_vec()), Command::FeedLines(0)]
            ),
            30,
            "the line still prints"
        );
        assert_eq!(
            feed(
                &mut m,
                &[Command::Text(b"x".to_vec()), Command::FeedDots(10)]
            ),
            30
        );
        let bitmap = Bitmap::new(16, 40);
        assert_eq!(
            m.apply(&Command::Raster {
                mode: 0,
                bitmap: bitmap.clone()
            }),
            40
        );
        assert_eq!(m.apply(&Command::Raster { mode: 2, bitmap }), 80);
        // "hello" at level L is a version-1 code: 21 modules.
        assert_eq!(
            feed(
                &mut m,
                &[
                    Command::QrModuleSize(4),
                    Command::QrStore(b"hello".to_vec()),
                    Command::QrPrint
                ]
            ),
            84
        );
        assert_eq!(
            feed(
                &mut m,
                &[
                    Command::BarcodeHeight(80),
                    Command::Barcode {
                        system: 73,
                        data: b"{B1".to_vec()
                    }
                ]
            ),
            80
        );
        assert_eq!(
            feed(
                &mut m,
                &[
                    Command::BarcodeHri(2),
                    Command::Barcode {
                        system: 73,
                        data: b"{B1".to_vec()
                    }
                ]
            ),
            110
        );
        assert_eq!(m.apply(&Command::Cut { partial: false }), 0);
        m.apply(&Command::Initialize);
        assert_eq!(
            m.apply(&Command::Barcode {
                system: 73,
                data: b"{B1".to_vec()
            }),
            DEFAULT_BARCODE_HEIGHT
        );
    }

    #[test]
    fn peek_does_not_change_the_state() {
        let mut m = PaperMeter::new();
        m.apply(&Command::Text(b"abc".to_vec()));
        assert_eq!(m.peek(&Command::LineFeed), 30);
        assert_eq!(
            m.peek(&Command::FeedLines(2)),
            60,
            "the line is still pending"
        );
        assert_eq!(dots_to_mm(240), 30.0);
    }
}
