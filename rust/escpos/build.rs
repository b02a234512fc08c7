//! With the `render` feature, writes the compact glyph table the renderer draws with: the
//! GNU Unifont glyphs (from the `unifont` crate) of the ranges a Chinese/English slip uses,
//! so the library carries about 0.7 MB of glyphs instead of the whole 2 MB font.
//!
//! Table format (`glyphs.bin` in OUT_DIR): for each range of `RANGES` in order, one record
//! per code point of 33 bytes: a width byte (0 none, 1 halfwidth 8×16, 2 fullwidth 16×16),
//! then 32 bytes of rows (halfwidth: 16 rows of 1 byte and 16 zero bytes; fullwidth: 16
//! rows of 2 bytes, big-endian, MSB leftmost).

use std::io::Write;

#[path = "src/font_ranges.rs"]
mod font_ranges;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/font_ranges.rs");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("glyphs.bin");
    let mut table = Vec::new();
    if std::env::var_os("CARGO_FEATURE_RENDER").is_some() {
        for &(start, end) in font_ranges::RANGES {
            for code in start..=end {
                let mut record = [0u8; 33];
                match char::from_u32(code).and_then(unifont::get_glyph) {
                    Some(unifont::Glyph::Halfwidth(rows)) => {
                        record[0] = 1;
                        record[1..17].copy_from_slice(rows);
                    }
                    Some(unifont::Glyph::Fullwidth(rows)) => {
                        record[0] = 2;
                        for (i, row) in rows.iter().enumerate() {
                            record[1 + 2 * i..3 + 2 * i].copy_from_slice(&row.to_be_bytes());
                        }
                    }
                    None => {}
                }
                table.extend_from_slice(&record);
            }
        }
    }
    std::fs::File::create(&out)
        .and_then(|mut f| f.write_all(&table))
        .expect("writing the glyph table");
}
