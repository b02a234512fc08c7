//! The Unicode ranges whose glyphs the renderer carries (shared with `build.rs`): what a
//! Chinese/English slip uses. A character outside them is drawn as `?`.

/// Inclusive code point ranges, in ascending order.
pub const RANGES: &[(u32, u32)] = &[
    (0x0020, 0x007E), // ASCII
    (0x00A0, 0x017F), // Latin-1 and Latin Extended-A (¥, ·, accented names)
    (0x2010, 0x203B), // dashes, quotes, bullets, ‰, ※
    (0x2190, 0x2193), // arrows
    (0x2460, 0x2473), // circled numbers
    (0x2500, 0x257F), // box drawing
    (0x25A0, 0x25CF), // squares, triangles, circles
    (0x3000, 0x303F), // CJK symbols and punctuation
    (0x4E00, 0x9FFF), // CJK unified ideographs
    (0xFF00, 0xFFEF), // fullwidth forms (，：（）￥)
];
