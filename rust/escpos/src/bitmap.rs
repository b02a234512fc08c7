//! 1-bit images: what a thermal head prints. Rows are packed MSB-first (the leftmost dot
//! is bit 7 of the row's first byte), which is exactly the `GS v 0` raster layout.

/// How grayscale becomes black and white.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dither {
    /// A pixel darker than the threshold (0 = black … 255 = white) is black.
    Threshold(u8),
    /// Floyd–Steinberg error diffusion: photos and signatures keep their shading.
    FloydSteinberg,
}

/// A black-and-white image; `true` is a black dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    packed: Vec<u8>,
}

impl Bitmap {
    /// An all-white image.
    pub fn new(width: u32, height: u32) -> Bitmap {
        let stride = width.div_ceil(8) as usize;
        Bitmap {
            width,
            height,
            packed: vec![0; stride * height as usize],
        }
    }

    /// An image from packed rows (MSB-first, `width.div_ceil(8)` bytes a row). `None` when
    /// the length does not match.
    pub fn from_packed(width: u32, height: u32, packed: Vec<u8>) -> Option<Bitmap> {
        let stride = width.div_ceil(8) as usize;
        (packed.len() == stride * height as usize).then_some(Bitmap {
            width,
            height,
            packed,
        })
    }

    /// Width in dots.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in dots.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// The packed rows.
    pub fn packed(&self) -> &[u8] {
        &self.packed
    }

    /// Whether the dot at (x, y) is black; `false` outside the image.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let byte = self.packed[y as usize * self.stride() + (x / 8) as usize];
        byte & (0x80 >> (x % 8)) != 0
    }

    /// Sets the dot at (x, y); ignored outside the image.
    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let index = y as usize * self.stride() + (x / 8) as usize;
        let mask = 0x80 >> (x % 8);
        if black {
            self.packed[index] |= mask;
        } else {
            self.packed[index] &= !mask;
        }
    }

    /// How many dots are black (for coverage figures and tests).
    pub fn black_dots(&self) -> u64 {
        (0..self.height)
            .map(|y| (0..self.width).filter(|&x| self.get(x, y)).count() as u64)
            .sum()
    }

    /// Dithers a grayscale image (`width × height` bytes, row by row, 0 = black,
    /// 255 = white). `None` when the length does not match.
    pub fn from_grayscale(width: u32, height: u32, gray: &[u8], dither: Dither) -> Option<Bitmap> {
        if gray.len() != width as usize * height as usize {
            return None;
        }
        let mut bitmap = Bitmap::new(width, height);
        match dither {
            Dither::Threshold(level) => {
                for y in 0..height {
                    for x in 0..width {
                        bitmap.set(x, y, gray[(y * width + x) as usize] < level);
                    }
                }
            }
            Dither::FloydSteinberg => {
                let w = width as usize;
                let mut level: Vec<i32> = gray.iter().map(|&g| i32::from(g)).collect();
                for y in 0..height as usize {
                    for x in 0..w {
                        let old = level[y * w + x];
                        let black = old < 128;
                        bitmap.set(x as u32, y as u32, black);
                        let error = old - if black { 0 } else { 255 };
                        let mut spread = |dx: isize, dy: usize, weight: i32| {
                            let nx = x as isize + dx;
                            let ny = y + dy;
                            if nx >= 0 && (nx as usize) < w && ny < height as usize {
                                level[ny * w + nx as usize] += error * weight / 16;
                            }
                        };
                        spread(1, 0, 7);
                        spread(-1, 1, 3);
                        spread(0, 1, 5);
                        spread(1, 1, 1);
                    }
                }
            }
        }
        Some(bitmap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_msb_first() {
        let mut b = Bitmap::new(10, 2);
        b.set(0, 0, true);
        b.set(9, 1, true);
        assert_eq!(b.packed(), &[0x80, 0x00, 0x00, 0x40]);
        assert!(b.get(0, 0) && b.get(9, 1) && !b.get(1, 0));
        assert_eq!(b.black_dots(), 2);
    }

    #[test]
    fn mid_gray_dithers_to_about_half_black() {
        let gray = vec![128u8; 64 * 64];
        let b = Bitmap::from_grayscale(64, 64, &gray, Dither::FloydSteinberg).unwrap();
        let ratio = b.black_dots() as f64 / (64.0 * 64.0);
        assert!((0.4..0.6).contains(&ratio), "ratio {ratio}");
        let t = Bitmap::from_grayscale(64, 64, &gray, Dither::Threshold(128)).unwrap();
        assert_eq!(t.black_dots(), 0);
        assert!(Bitmap::from_grayscale(3, 3, &[0; 8], Dither::FloydSteinberg).is_none());
    }
}
