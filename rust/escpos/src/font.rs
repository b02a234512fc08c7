//! The renderer's bitmap font: GNU Unifont glyphs (8×16 halfwidth, 16×16 fullwidth) for the
//! ranges of [`font_ranges::RANGES`](crate::font_ranges::RANGES), in a compact table that
//! `build.rs` writes from the `unifont` crate at build time (see `render` for the licence).

use crate::font_ranges::RANGES;

/// The table: 33 bytes per code point of each range, in order (see `build.rs`).
static TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/glyphs.bin"));

const RECORD: usize = 33;

/// One glyph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyph {
    wide: bool,
    rows: &'static [u8],
}

impl Glyph {
    /// Width in font pixels: 8 (halfwidth) or 16 (fullwidth).
    pub fn width(&self) -> usize {
        if self.wide { 16 } else { 8 }
    }

    /// Whether it takes two columns.
    pub fn is_fullwidth(&self) -> bool {
        self.wide
    }

    /// Whether the pixel at (x, y) is set (16 rows).
    pub fn pixel(&self, x: usize, y: usize) -> bool {
        if y >= 16 || x >= self.width() {
            return false;
        }
        if self.wide {
            let row = u16::from_be_bytes([self.rows[2 * y], self.rows[2 * y + 1]]);
            row & (0x8000 >> x) != 0
        } else {
            self.rows[y] & (0x80 >> x) != 0
        }
    }
}

/// The glyph of `c`, if the table has one.
pub fn glyph(c: char) -> Option<Glyph> {
    let code = c as u32;
    let mut offset = 0usize;
    for &(start, end) in RANGES {
        if (start..=end).contains(&code) {
            let at = (offset + (code - start) as usize) * RECORD;
            let record = TABLE.get(at..at + RECORD)?;
            return match record[0] {
                1 => Some(Glyph {
                    wide: false,
                    rows: &record[1..17],
                }),
                2 => Some(Glyph {
                    wide: true,
                    rows: &record[1..33],
                }),
                _ => None,
            };
        }
        offset += (end - start + 1) as usize;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_hanzi_have_their_widths_and_ink() {
        let a = glyph('A').unwrap();
        assert!(!a.is_fullwidth() && a.width() == 8);
        assert!((0..16).any(|y| (0..8).any(|x| a.pixel(x, y))));
        let zhong = glyph('中').unwrap();
        assert!(zhong.is_fullwidth() && zhong.width() == 16);
        // 中's vertical stroke runs through the middle columns.
        assert!(
            (0..16)
                .filter(|&y| zhong.pixel(7, y) || zhong.pixel(8, y))
                .count()
                >= 12
        );
        assert!(glyph('，').unwrap().is_fullwidth());
        assert!(glyph('¥').is_some());
        assert!(glyph('\u{1F600}').is_none(), "outside the ranges");
        assert_eq!(
            glyph(' ').map(|g| (0..16).any(|y| (0..8).any(|x| g.pixel(x, y)))),
            Some(false)
        );
    }
}
