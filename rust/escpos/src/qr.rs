//! QR codes as dots, for printers without native QR (`QrMode::Raster`) and for the
//! decoder's renderer, which draws native `GS ( k` codes with [`modules`].
//!
//! **Quiet zone.** Printers print a native QR code without a quiet zone: the white around it
//! comes from the paper margin, the line spacing and the text alignment. The raster form
//! does the same ([`QUIET_ZONE_MODULES`] = 0) so a slip looks the same in both modes and the
//! image stays as narrow as possible on 58 mm paper. Callers that need a free-standing image
//! (a PNG to decode) pass a quiet zone to [`raster`] or [`scale`].

use crate::bitmap::Bitmap;
use crate::document::QrLevel;

/// Quiet zone, in modules, the encoder puts around a raster QR code: none, like the native
/// `GS ( k` form.
pub const QUIET_ZONE_MODULES: u32 = 0;

/// Why a QR code cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The data does not fit in the largest QR code (version 40) at this level.
    #[error(
        "{len} bytes do not fit in a QR code at level {level:?}: shorten the data or lower the level"
    )]
    DataTooLong {
        /// The data length.
        len: usize,
        /// The requested level.
        level: QrLevel,
    },
    /// The encoder refused the data for another reason.
    #[error("QR encoder refused the data: {0}")]
    Encoder(String),
}

fn ec_level(level: QrLevel) -> qrcode::EcLevel {
    match level {
        QrLevel::L => qrcode::EcLevel::L,
        QrLevel::M => qrcode::EcLevel::M,
        QrLevel::Q => qrcode::EcLevel::Q,
        QrLevel::H => qrcode::EcLevel::H,
    }
}

/// Bytes a version-40 QR code holds in byte mode at `level`: 2953 (L), 2331 (M), 1663 (Q),
/// 1273 (H). Data of this length or less always fits (digits and upper-case text fit more).
pub fn byte_capacity(level: QrLevel) -> usize {
    match level {
        QrLevel::L => 2953,
        QrLevel::M => 2331,
        QrLevel::Q => 1663,
        QrLevel::H => 1273,
    }
}

/// The QR code for `data` at `level`, one dot per module (`true` = dark), without quiet
/// zone: 21×21 for version 1 up to 177×177 for version 40. The smallest version that holds
/// the data is chosen, with the most compact segment modes (numeric, alphanumeric, byte).
pub fn modules(data: &[u8], level: QrLevel) -> Result<Bitmap, QrError> {
    let code =
        qrcode::QrCode::with_error_correction_level(data, ec_level(level)).map_err(
            |e| match e {
                qrcode::types::QrError::DataTooLong => QrError::DataTooLong {
                    len: data.len(),
                    level,
                },
                other => QrError::Encoder(other.to_string()),
            },
        )?;
    let width = code.width();
    let colors = code.to_colors();
    let side = width as u32;
    let mut bitmap = Bitmap::new(side, side);
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            bitmap.set((i % width) as u32, (i / width) as u32, true);
        }
    }
    Ok(bitmap)
}

/// `modules` scaled by `module_size` dots per module, with `quiet_zone` white modules
/// around it. A module size of 0 is taken as 1.
pub fn scale(modules: &Bitmap, module_size: u32, quiet_zone: u32) -> Bitmap {
    let size = module_size.max(1);
    let side_w = (modules.width() + 2 * quiet_zone) * size;
    let side_h = (modules.height() + 2 * quiet_zone) * size;
    let stride = side_w.div_ceil(8) as usize;
    let mut packed = vec![0u8; stride * side_h as usize];
    let mut row = vec![0u8; stride];
    for my in 0..modules.height() {
        row.iter_mut().for_each(|b| *b = 0);
        for mx in 0..modules.width() {
            if modules.get(mx, my) {
                let x0 = (mx + quiet_zone) * size;
                for x in x0..x0 + size {
                    row[(x / 8) as usize] |= 0x80 >> (x % 8);
                }
            }
        }
        let y0 = ((my + quiet_zone) * size) as usize;
        for y in y0..y0 + size as usize {
            packed[y * stride..(y + 1) * stride].copy_from_slice(&row);
        }
    }
    // The length matches by construction; fall back to an empty image rather than panic.
    Bitmap::from_packed(side_w, side_h, packed).unwrap_or_else(|| Bitmap::new(0, 0))
}

/// The QR code for `data` as a printable raster: [`modules`] scaled by `module_size` dots
/// per module, with `quiet_zone` white modules around it ([`QUIET_ZONE_MODULES`] in the
/// encoder).
pub fn raster(
    data: &[u8],
    level: QrLevel,
    module_size: u8,
    quiet_zone: u32,
) -> Result<Bitmap, QrError> {
    Ok(scale(
        &modules(data, level)?,
        u32::from(module_size),
        quiet_zone,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_one_is_21_modules_with_finder_patterns() {
        let m = modules(b"HELLO", QrLevel::M).unwrap();
        assert_eq!((m.width(), m.height()), (21, 21));
        // Finder pattern corners: dark outer ring, light ring, dark 3×3 core.
        for (cx, cy) in [(0, 0), (14, 0), (0, 14)] {
            assert!(m.get(cx, cy) && m.get(cx + 6, cy + 6));
            assert!(!m.get(cx + 1, cy + 1));
            assert!(m.get(cx + 3, cy + 3));
        }
    }

    #[test]
    fn bigger_data_bigger_version() {
        let small = modules(b"1", QrLevel::H).unwrap();
        let big = modules(&[b'x'; 500], QrLevel::H).unwrap();
        assert!(big.width() > small.width());
        assert_eq!((big.width() - 17) % 4, 0);
    }

    #[test]
    fn too_long_is_a_typed_error() {
        let data = vec![b'x'; byte_capacity(QrLevel::H) + 1];
        assert_eq!(
            modules(&data, QrLevel::H).unwrap_err(),
            QrError::DataTooLong {
                len: data.len(),
                level: QrLevel::H
            }
        );
        assert!(modules(&data[..byte_capacity(QrLevel::H)], QrLevel::H).is_ok());
    }

    #[test]
    fn scaling_replicates_modules() {
        let m = modules(b"scale", QrLevel::L).unwrap();
        let s = scale(&m, 3, 2);
        assert_eq!(s.width(), (m.width() + 4) * 3);
        for y in 0..s.height() {
            for x in 0..s.width() {
                let (mx, my) = ((x / 3) as i64 - 2, (y / 3) as i64 - 2);
                let expect = mx >= 0 && my >= 0 && m.get(mx as u32, my as u32);
                assert_eq!(s.get(x, y), expect, "({x},{y})");
            }
        }
        assert_eq!(s.black_dots(), m.black_dots() * 9);
        let r = raster(b"scale", QrLevel::L, 4, QUIET_ZONE_MODULES).unwrap();
        assert_eq!(r.width(), m.width() * 4);
    }
}
