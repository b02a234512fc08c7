//! A decoded [`Page`] drawn as the printer would put it on paper, and saved as a PNG: the
//! virtual printer's output, slip previews and tests.
//!
//! Geometry (203 dpi): a Font A cell is 12×24 dots, a CJK cell 24×24; a text line takes its
//! tallest cell plus a 6-dot gap (30 dots, the `ESC 2` default; wider `ESC 3` spacing comes
//! through the page as [`PageItem::Feed`]). Glyphs are GNU Unifont's (8×16 halfwidth,
//! 16×16 fullwidth) scaled 1.5× by nearest neighbour, and again for double width/height;
//! bold is the glyph drawn twice one dot apart, underline a 2-dot rule under the cell. A
//! line wider than the paper wraps, as a printer's line buffer does. Images, QR codes and
//! barcodes are placed by their justification; a cut is a dashed line.
//!
//! # Font licence
//!
//! The glyphs come from the `unifont` crate (unifont-rs, MIT licence for its code), which
//! embeds the data of GNU Unifont 15.1.05; `build.rs` copies the ranges a slip uses into a
//! compact table (`font`), so the library carries about 0.7 MB of glyphs. GNU Unifont is dual-licensed: GNU GPL v2 or
//! later with the GNU font embedding exception, or the SIL Open Font License 1.1. We use
//! it under the SIL OFL 1.1, which allows bundling the font with software of any licence
//! (the font itself may not be sold on its own, and derived fonts may not use the reserved
//! name); images rendered with it are not covered by the font's licence at all. The crate's
//! own README and LICENSE state only the MIT licence of its code; the data's licence is GNU
//! Unifont's (unifoundry.com). This module is behind the `render` feature.

use crate::barcode;
use crate::bitmap::Bitmap;
use crate::decode::{CELL_HEIGHT, DEFAULT_LINE_DOTS, Page, PageItem};
use crate::document::{Align, QrLevel, TextStyle};
use crate::font::{self, Glyph};
use crate::qr;

/// Width in dots of a halfwidth (Font A) cell.
pub const HALF_CELL_WIDTH: u32 = 12;

/// Width in dots of a fullwidth (CJK) cell.
pub const FULL_CELL_WIDTH: u32 = 24;

/// Height in dots of the cut mark.
const CUT_HEIGHT: u32 = 16;

/// Quiet zone above and below a QR code, in modules.
const QR_QUIET_MODULES: u32 = 4;

/// Gap in dots above and below a barcode.
const BARCODE_GAP: u32 = 8;

/// Draws a page: `page.width_dots` wide (at least 1), as tall as what was printed (at
/// least 1 dot).
pub fn render(page: &Page) -> Bitmap {
    let width = page.width_dots.max(1);
    let mut canvas = Canvas {
        width,
        rows: Vec::new(),
    };
    for item in &page.items {
        match item {
            PageItem::Line { runs, align } => draw_line(&mut canvas, runs, *align),
            PageItem::Image { bitmap, align } => {
                let top = canvas.grow(bitmap.height());
                let left = place(width, bitmap.width(), *align);
                canvas.blit(bitmap, left, top, 1, 1);
            }
            PageItem::Qr {
                data,
                module_size,
                align,
            } => draw_qr(&mut canvas, data, *module_size, *align),
            PageItem::Barcode {
                system,
                data,
                height,
                module_width,
                hri_below,
                align,
            } => {
                draw_barcode(
                    &mut canvas,
                    *system,
                    data,
                    *height,
                    *module_width,
                    *hri_below,
                    *align,
                );
            }
            PageItem::Feed(dots) => {
                canvas.grow(*dots);
            }
            PageItem::Cut => {
                let top = canvas.grow(CUT_HEIGHT);
                let y = top + CUT_HEIGHT / 2;
                for x in (0..width).filter(|x| x % 16 < 8) {
                    canvas.set(x, y);
                }
            }
        }
    }
    canvas.into_bitmap()
}

/// Draws a page and encodes it as a PNG (1-bit grayscale: black dots are 0).
pub fn render_png(page: &Page) -> Vec<u8> {
    // Encoding into memory fails only for a zero dimension, which `render` never gives.
    encode_png(&render(page)).unwrap_or_default()
}

/// A 1-bit grayscale PNG of a bitmap.
pub fn bitmap_png(bitmap: &Bitmap) -> Result<Vec<u8>, png::EncodingError> {
    encode_png(bitmap)
}

/// The PNG encoding of `bitmap` (rows inverted: PNG's 1-bit gray has 0 = black).
fn encode_png(bitmap: &Bitmap) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, bitmap.width(), bitmap.height());
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header()?;
    let data: Vec<u8> = bitmap.packed().iter().map(|b| !b).collect();
    writer.write_image_data(&data)?;
    writer.finish()?;
    Ok(out)
}

/// A page being drawn: rows of dots, grown as items come.
struct Canvas {
    width: u32,
    rows: Vec<Vec<bool>>,
}

impl Canvas {
    /// Adds `dots` white rows; returns the first one's y.
    fn grow(&mut self, dots: u32) -> u32 {
        let top = self.rows.len() as u32;
        self.rows
            .extend((0..dots).map(|_| vec![false; self.width as usize]));
        top
    }

    /// Blackens one dot (ignored outside the canvas).
    fn set(&mut self, x: u32, y: u32) {
        if let Some(row) = self.rows.get_mut(y as usize) {
            if let Some(dot) = row.get_mut(x as usize) {
                *dot = true;
            }
        }
    }

    /// Copies the black dots of `bitmap`, each scaled to `sx × sy` dots, at (left, top).
    fn blit(&mut self, bitmap: &Bitmap, left: u32, top: u32, sx: u32, sy: u32) {
        for y in 0..bitmap.height() {
            for x in 0..bitmap.width() {
                if bitmap.get(x, y) {
                    self.fill(left + x * sx, top + y * sy, sx, sy);
                }
            }
        }
    }

    /// Blackens a rectangle.
    fn fill(&mut self, left: u32, top: u32, w: u32, h: u32) {
        for y in top..top.saturating_add(h) {
            for x in left..left.saturating_add(w) {
                self.set(x, y);
            }
        }
    }

    /// The drawing as a bitmap (at least 1 dot tall).
    fn into_bitmap(self) -> Bitmap {
        let height = (self.rows.len() as u32).max(1);
        let mut bitmap = Bitmap::new(self.width, height);
        for (y, row) in self.rows.iter().enumerate() {
            for (x, &black) in row.iter().enumerate() {
                if black {
                    bitmap.set(x as u32, y as u32, true);
                }
            }
        }
        bitmap
    }
}

/// The left edge of something `w` dots wide on a `page`-dot line.
fn place(page: u32, w: u32, align: Align) -> u32 {
    match align {
        Align::Left => 0,
        Align::Center => page.saturating_sub(w) / 2,
        Align::Right => page.saturating_sub(w),
    }
}

/// One character ready to draw.
struct Cell {
    glyph: Glyph,
    style: TextStyle,
}

impl Cell {
    /// Width in dots.
    fn width(&self) -> u32 {
        let base = if self.glyph.is_fullwidth() {
            FULL_CELL_WIDTH
        } else {
            HALF_CELL_WIDTH
        };
        if self.style.double_width {
            2 * base
        } else {
            base
        }
    }

    /// Height in dots.
    fn height(&self) -> u32 {
        if self.style.double_height {
            2 * CELL_HEIGHT
        } else {
            CELL_HEIGHT
        }
    }
}

/// The glyph for `c`: Unifont's, or `?` where the table has none.
fn glyph(c: char) -> Option<Glyph> {
    font::glyph(c).or_else(|| font::glyph('?'))
}

/// Draws a text line (wrapping at the paper's width) and its gap.
fn draw_line(canvas: &mut Canvas, runs: &[(String, TextStyle)], align: Align) {
    let cells: Vec<Cell> = runs
        .iter()
        .flat_map(|(text, style)| {
            text.chars().filter_map(move |c| {
                glyph(c).map(|glyph| Cell {
                    glyph,
                    style: *style,
                })
            })
        })
        .collect();
    let mut rows: Vec<&[Cell]> = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (i, cell) in cells.iter().enumerate() {
        if used + cell.width() > canvas.width && i > start {
            rows.push(&cells[start..i]);
            start = i;
            used = 0;
        }
        used += cell.width();
    }
    rows.push(&cells[start..]);
    for row in rows {
        let tallest = row.iter().map(Cell::height).max().unwrap_or(CELL_HEIGHT);
        let top = canvas.grow(tallest + DEFAULT_LINE_DOTS - CELL_HEIGHT);
        let line_width: u32 = row.iter().map(Cell::width).sum();
        let mut x = place(canvas.width, line_width, align);
        for cell in row {
            // Cells sit on a common baseline: a short cell is drawn at the bottom.
            draw_cell(canvas, cell, x, top + tallest - cell.height());
            x += cell.width();
        }
    }
}

/// Draws one character cell with its top-left corner at (left, top).
fn draw_cell(canvas: &mut Canvas, cell: &Cell, left: u32, top: u32) {
    let (w, h) = (cell.width(), cell.height());
    let source_w = cell.glyph.width() as u32;
    for y in 0..h {
        let sy = (y * 16 / h) as usize;
        for x in 0..w {
            let sx = (x * source_w / w) as usize;
            if cell.glyph.pixel(sx, sy) {
                canvas.set(left + x, top + y);
                if cell.style.bold {
                    canvas.set(left + x + 1, top + y);
                }
            }
        }
    }
    if cell.style.underline {
        canvas.fill(left, top + h - 2, w, 2);
    }
}

/// Draws a native QR code: its modules scaled by the module size, with a quiet zone above
/// and below. The page does not say the error level, so level M is drawn (a printer's own
/// drawing at another level differs in size, not in content). Data the QR encoder refuses
/// is drawn as a text line saying so.
fn draw_qr(canvas: &mut Canvas, data: &[u8], module_size: u8, align: Align) {
    let scale = u32::from(module_size.max(1));
    match qr::modules(data, QrLevel::M) {
        Ok(modules) => {
            let quiet = QR_QUIET_MODULES * scale;
            let top = canvas.grow(modules.height() * scale + 2 * quiet) + quiet;
            let left = place(canvas.width, modules.width() * scale, align);
            canvas.blit(&modules, left, top, scale, scale);
        }
        Err(_) => draw_line(
            canvas,
            &[("[QR code not drawable]".to_string(), TextStyle::default())],
            align,
        ),
    }
}

/// Draws a barcode: CODE128 (system 73) from its modules, `module_width` dots a module,
/// with the HRI text below when asked; other systems as their data in text.
fn draw_barcode(
    canvas: &mut Canvas,
    system: u8,
    data: &[u8],
    height: u8,
    module_width: u8,
    hri_below: bool,
    align: Align,
) {
    let modules = if system == 73 {
        barcode::code128_modules(data).ok()
    } else {
        None
    };
    let Some(modules) = modules else {
        let text = format!("[barcode {system}: {}]", String::from_utf8_lossy(data));
        draw_line(canvas, &[(text, TextStyle::default())], align);
        return;
    };
    let module = u32::from(module_width.max(1));
    let height = u32::from(height.max(1));
    let top = canvas.grow(height + 2 * BARCODE_GAP) + BARCODE_GAP;
    let left = place(canvas.width, modules.len() as u32 * module, align);
    for (i, _) in modules.iter().enumerate().filter(|(_, bar)| **bar) {
        canvas.fill(left + i as u32 * module, top, module, height);
    }
    if hri_below {
        draw_line(
            canvas,
            &[(barcode::code128_text(data), TextStyle::default())],
            align,
        );
    }
}
