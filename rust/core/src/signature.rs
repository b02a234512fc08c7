//! The cardholder's electronic signature (电子签名): captured on the terminal's pad as strokes
//! or as a 1-bit image, kept in the journal as a small binary BLOB ([`Signature::to_bytes`]),
//! and printed in the slip's 持卡人签名 area scaled to the paper ([`Signature::to_bitmap`]).
//!
//! # Stored form (version 1)
//!
//! All numbers big-endian.
//!
//! ```text
//! "SIG1"                      magic and version
//! kind: u8                    1 = strokes, 2 = image
//! strokes: width u16, height u16 (the pad), stroke count u16,
//!          then per stroke: point count u16, then (x u16, y u16) per point
//! image:   width u16, height u16, then height × ceil(width / 8) bytes of rows,
//!          MSB first, 1 = black (the `GS v 0` layout of `poscore_escpos::Bitmap`)
//! ```
//!
//! Nothing may follow. [`Signature::from_bytes`] refuses anything else with a typed error,
//! and checks the same limits as [`Signature::validate`].

use poscore_escpos::Bitmap;

use crate::lang::Bilingual;

/// The most points a stroke signature may have, all strokes together.
pub const MAX_POINTS: usize = 2000;

/// The most bytes a stored signature may take.
pub const MAX_BYTES: usize = 64 * 1024;

/// The magic and version at the start of a stored signature.
const MAGIC: &[u8; 4] = b"SIG1";

/// The kind byte of a stroke signature.
const KIND_STROKES: u8 = 1;

/// The kind byte of an image signature.
const KIND_IMAGE: u8 = 2;

/// The pen's width in dots when strokes are drawn.
pub const PEN_DOTS: u32 = 3;

/// White dots kept around the ink when a signature is cropped.
pub const MARGIN_DOTS: u32 = 4;

/// A captured signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// Polylines in pad coordinates: (0, 0) is the pad's top left, x < `width`, y < `height`.
    Strokes {
        /// The pad's width in its own units (pixels of the touch screen).
        width: u16,
        /// The pad's height.
        height: u16,
        /// Each stroke is the points of one pen-down … pen-up, in order.
        strokes: Vec<Vec<(u16, u16)>>,
    },
    /// A 1-bit image (black = ink), e.g. from a vendor signature pad.
    Image(Bitmap),
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No ink at all.
    #[error(
        "the signature is empty (no points or no black dots): ask the cardholder to sign again"
    )]
    Empty,
    /// The pad or image has a zero side.
    #[error(
        "the signature pad is {width}×{height}: both sides must be at least 1; check the pad's size"
    )]
    ZeroSize {
        /// The width given.
        width: u32,
        /// The height given.
        height: u32,
    },
    /// Too many points.
    #[error(
        "the signature has {points} points, more than the {max} kept: capture it with fewer samples or as an image"
    )]
    TooManyPoints {
        /// How many points it has.
        points: usize,
        /// The limit.
        max: usize,
    },
    /// Too big once stored.
    #[error("the signature takes {bytes} bytes, more than the {max} kept: capture it smaller")]
    TooLarge {
        /// Its stored size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A point outside the pad.
    #[error(
        "point ({x}, {y}) is outside the {width}×{height} pad: the capture is corrupt, take it again"
    )]
    OutOfPad {
        /// Its x.
        x: u16,
        /// Its y.
        y: u16,
        /// The pad's width.
        width: u16,
        /// The pad's height.
        height: u16,
    },
    /// Stored bytes that do not start with `SIG1`.
    #[error(
        "the stored signature does not start with \"SIG1\": it is not a signature of this version, or it is damaged"
    )]
    BadMagic,
    /// An unknown kind byte.
    #[error(
        "the stored signature has kind {kind}, not 1 (strokes) or 2 (image): it is damaged or from a newer version"
    )]
    UnknownKind {
        /// The kind byte found.
        kind: u8,
    },
    /// The bytes end too early.
    #[error(
        "the stored signature ends after {got} bytes while reading {what}: it was cut short; capture the signature again"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// How many bytes there are.
        got: usize,
    },
    /// Bytes after the end.
    #[error("the stored signature has {extra} bytes after its end: it is damaged")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

impl Bilingual for SignatureError {
    fn code(&self) -> &'static str {
        match self {
            SignatureError::Empty => "SIGNATURE_EMPTY",
            SignatureError::ZeroSize { .. } => "SIGNATURE_ZERO_SIZE",
            SignatureError::TooManyPoints { .. } => "SIGNATURE_TOO_MANY_POINTS",
            SignatureError::TooLarge { .. } => "SIGNATURE_TOO_LARGE",
            SignatureError::OutOfPad { .. } => "SIGNATURE_OUT_OF_PAD",
            SignatureError::BadMagic => "SIGNATURE_BAD_MAGIC",
            SignatureError::UnknownKind { .. } => "SIGNATURE_UNKNOWN_KIND",
            SignatureError::Truncated { .. } => "SIGNATURE_TRUNCATED",
            SignatureError::TrailingBytes { .. } => "SIGNATURE_TRAILING_BYTES",
        }
    }
    fn zh(&self) -> String {
        match self {
            SignatureError::Empty => "签名为空：请持卡人重新签名".into(),
            SignatureError::ZeroSize { width, height } => {
                format!("签名板尺寸 {width}×{height} 无效：请检查签名板设置")
            }
            SignatureError::TooManyPoints { points, max } => {
                format!("签名有 {points} 个点，超过上限 {max}：请降低采样或以图像保存")
            }
            SignatureError::TooLarge { bytes, max } => {
                format!("签名占 {bytes} 字节，超过上限 {max}：请缩小签名")
            }
            SignatureError::OutOfPad {
                x,
                y,
                width,
                height,
            } => {
                format!("签名点 ({x}, {y}) 超出签名板 {width}×{height}：采集数据有误，请重新签名")
            }
            SignatureError::BadMagic => "保存的签名格式不对（不以 SIG1 开头）：数据已损坏".into(),
            SignatureError::UnknownKind { kind } => {
                format!("保存的签名类型 {kind} 未知：数据已损坏或来自新版本")
            }
            SignatureError::Truncated { what, got } => {
                format!("保存的签名在 {got} 字节处截断（读取 {what} 时）：请重新签名")
            }
            SignatureError::TrailingBytes { extra } => {
                format!("保存的签名末尾多出 {extra} 字节：数据已损坏")
            }
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

impl Signature {
    /// Checks the signature: some ink, a pad with nonzero sides, at most [`MAX_POINTS`]
    /// points, every point on the pad, at most [`MAX_BYTES`] once stored.
    pub fn validate(&self) -> Result<(), SignatureError> {
        match self {
            Signature::Strokes {
                width,
                height,
                strokes,
            } => {
                if *width == 0 || *height == 0 {
                    return Err(SignatureError::ZeroSize {
                        width: u32::from(*width),
                        height: u32::from(*height),
                    });
                }
                let points: usize = strokes.iter().map(Vec::len).sum();
                if points == 0 {
                    return Err(SignatureError::Empty);
                }
                if points > MAX_POINTS {
                    return Err(SignatureError::TooManyPoints {
                        points,
                        max: MAX_POINTS,
                    });
                }
                if let Some(&(x, y)) = strokes
                    .iter()
                    .flatten()
                    .find(|(x, y)| x >= width || y >= height)
                {
                    return Err(SignatureError::OutOfPad {
                        x,
                        y,
                        width: *width,
                        height: *height,
                    });
                }
            }
            Signature::Image(bitmap) => {
                if bitmap.width() == 0
                    || bitmap.height() == 0
                    || bitmap.width() > u32::from(u16::MAX)
                    || bitmap.height() > u32::from(u16::MAX)
                {
                    return Err(SignatureError::ZeroSize {
                        width: bitmap.width(),
                        height: bitmap.height(),
                    });
                }
                if bitmap.packed().iter().all(|&b| b == 0) {
                    return Err(SignatureError::Empty);
                }
            }
        }
        let bytes = self.stored_len();
        if bytes > MAX_BYTES {
            return Err(SignatureError::TooLarge {
                bytes,
                max: MAX_BYTES,
            });
        }
        Ok(())
    }

    /// How many bytes [`Signature::to_bytes`] gives.
    fn stored_len(&self) -> usize {
        5 + match self {
            Signature::Strokes { strokes, .. } => {
                6 + strokes.iter().map(|s| 2 + 4 * s.len()).sum::<usize>()
            }
            Signature::Image(bitmap) => 4 + bitmap.packed().len(),
        }
    }

    /// The stored form (see the module documentation). Call [`Signature::validate`] first:
    /// a signature that does not validate is written as is, but [`Signature::from_bytes`]
    /// refuses it (counts and sides beyond `u16` are cut to fit).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.stored_len());
        out.extend_from_slice(MAGIC);
        let u16_of = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        match self {
            Signature::Strokes {
                width,
                height,
                strokes,
            } => {
                out.push(KIND_STROKES);
                out.extend_from_slice(&width.to_be_bytes());
                out.extend_from_slice(&height.to_be_bytes());
                out.extend_from_slice(&u16_of(strokes.len()).to_be_bytes());
                for stroke in strokes.iter().take(usize::from(u16::MAX)) {
                    out.extend_from_slice(&u16_of(stroke.len()).to_be_bytes());
                    for (x, y) in stroke.iter().take(usize::from(u16::MAX)) {
                        out.extend_from_slice(&x.to_be_bytes());
                        out.extend_from_slice(&y.to_be_bytes());
                    }
                }
            }
            Signature::Image(bitmap) => {
                out.push(KIND_IMAGE);
                let (w, h) = (
                    u16_of(bitmap.width() as usize),
                    u16_of(bitmap.height() as usize),
                );
                out.extend_from_slice(&w.to_be_bytes());
                out.extend_from_slice(&h.to_be_bytes());
                let rows = bitmap.stride() * usize::from(h);
                out.extend_from_slice(&bitmap.packed()[..rows.min(bitmap.packed().len())]);
            }
        }
        out
    }

    /// Reads a stored signature back, refusing damaged bytes and anything
    /// [`Signature::validate`] refuses.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, SignatureError> {
        if bytes.len() > MAX_BYTES {
            return Err(SignatureError::TooLarge {
                bytes: bytes.len(),
                max: MAX_BYTES,
            });
        }
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4, "the magic")? != MAGIC {
            return Err(SignatureError::BadMagic);
        }
        let signature = match reader.u8("the kind")? {
            KIND_STROKES => {
                let width = reader.u16("the pad width")?;
                let height = reader.u16("the pad height")?;
                let count = reader.u16("the stroke count")?;
                let mut strokes = Vec::with_capacity(usize::from(count).min(MAX_POINTS));
                let mut total = 0usize;
                for _ in 0..count {
                    let points = usize::from(reader.u16("a stroke's point count")?);
                    total += points;
                    if total > MAX_POINTS {
                        return Err(SignatureError::TooManyPoints {
                            points: total,
                            max: MAX_POINTS,
                        });
                    }
                    let mut stroke = Vec::with_capacity(points);
                    for _ in 0..points {
                        stroke.push((reader.u16("a point")?, reader.u16("a point")?));
                    }
                    strokes.push(stroke);
                }
                Signature::Strokes {
                    width,
                    height,
                    strokes,
                }
            }
            KIND_IMAGE => {
                let width = u32::from(reader.u16("the image width")?);
                let height = u32::from(reader.u16("the image height")?);
                let len = width.div_ceil(8) as usize * height as usize;
                let rows = reader.take(len, "the image rows")?.to_vec();
                let bitmap =
                    Bitmap::from_packed(width, height, rows).ok_or(SignatureError::Truncated {
                        what: "the image rows",
                        got: bytes.len(),
                    })?;
                Signature::Image(bitmap)
            }
            kind => return Err(SignatureError::UnknownKind { kind }),
        };
        if reader.at < bytes.len() {
            return Err(SignatureError::TrailingBytes {
                extra: bytes.len() - reader.at,
            });
        }
        signature.validate()?;
        Ok(signature)
    }

    /// The signature as a 1-bit image at most `max_width` dots wide (and at most half as
    /// tall), cropped to the ink plus [`MARGIN_DOTS`] of white.
    ///
    /// Strokes are scaled to fill that box, keeping their aspect ratio, and drawn with a
    /// [`PEN_DOTS`]-dot pen; an image is scaled down only when it does not fit (a dot stays
    /// black when a quarter of what it covers is ink, so thin lines survive). A signature
    /// with no ink gives a 1×1 white image.
    pub fn to_bitmap(&self, max_width: u32) -> Bitmap {
        let max_width = max_width.max(1);
        let max_height = (max_width / 2).max(1);
        match self {
            Signature::Strokes { strokes, .. } => draw_strokes(strokes, max_width, max_height),
            Signature::Image(bitmap) => match ink_box(bitmap) {
                None => Bitmap::new(1, 1),
                Some((x0, y0, x1, y1)) => {
                    let cropped = crop(bitmap, x0, y0, x1 - x0 + 1, y1 - y0 + 1, MARGIN_DOTS);
                    fit(&cropped, max_width, max_height)
                }
            },
        }
    }
}

/// A cursor over stored bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], SignatureError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or(SignatureError::Truncated {
            what,
            got: self.bytes.len(),
        })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, SignatureError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, SignatureError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

/// Strokes drawn to fit `max_width` × `max_height`, cropped to their ink.
fn draw_strokes(strokes: &[Vec<(u16, u16)>], max_width: u32, max_height: u32) -> Bitmap {
    let mut points = strokes.iter().flatten();
    let Some(&(fx, fy)) = points.next() else {
        return Bitmap::new(1, 1);
    };
    let (mut x0, mut y0, mut x1, mut y1) = (fx, fy, fx, fy);
    for &(x, y) in points {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let (ink_w, ink_h) = (f64::from(x1 - x0).max(1.0), f64::from(y1 - y0).max(1.0));
    let border = 2 * MARGIN_DOTS + PEN_DOTS;
    let room_w = f64::from(max_width.saturating_sub(border).max(1));
    let room_h = f64::from(max_height.saturating_sub(border).max(1));
    let scale = (room_w / ink_w).min(room_h / ink_h);
    let width = ((f64::from(x1 - x0) * scale).round() as u32 + border).min(max_width);
    let height = ((f64::from(y1 - y0) * scale).round() as u32 + border).min(max_height.max(border));
    let mut bitmap = Bitmap::new(width, height);
    let offset = f64::from(MARGIN_DOTS + PEN_DOTS / 2);
    let place = |(x, y): (u16, u16)| {
        let px = (f64::from(x - x0) * scale + offset).round() as i64;
        let py = (f64::from(y - y0) * scale + offset).round() as i64;
        (px, py)
    };
    for stroke in strokes {
        let mut previous: Option<(i64, i64)> = None;
        for &point in stroke {
            let here = place(point);
            match previous {
                Some(from) => line(&mut bitmap, from, here),
                None => stamp(&mut bitmap, here),
            }
            previous = Some(here);
        }
    }
    bitmap
}

/// A line of pen stamps from `a` to `b` (Bresenham).
fn line(bitmap: &mut Bitmap, a: (i64, i64), b: (i64, i64)) {
    let (mut x, mut y) = a;
    let (dx, dy) = ((b.0 - a.0).abs(), -(b.1 - a.1).abs());
    let (sx, sy) = (
        if a.0 < b.0 { 1 } else { -1 },
        if a.1 < b.1 { 1 } else { -1 },
    );
    let mut error = dx + dy;
    loop {
        stamp(bitmap, (x, y));
        if (x, y) == b {
            break;
        }
        let e2 = 2 * error;
        if e2 >= dy {
            error += dy;
            x += sx;
        }
        if e2 <= dx {
            error += dx;
            y += sy;
        }
    }
}

/// One pen stamp centered at `at`: a [`PEN_DOTS`]-dot square.
fn stamp(bitmap: &mut Bitmap, at: (i64, i64)) {
    let half = i64::from(PEN_DOTS / 2);
    for y in at.1 - half..at.1 - half + i64::from(PEN_DOTS) {
        for x in at.0 - half..at.0 - half + i64::from(PEN_DOTS) {
            if x >= 0 && y >= 0 {
                bitmap.set(x as u32, y as u32, true);
            }
        }
    }
}

/// The ink's bounding box (x0, y0, x1, y1), inclusive; `None` when all white.
fn ink_box(bitmap: &Bitmap) -> Option<(u32, u32, u32, u32)> {
    let mut found: Option<(u32, u32, u32, u32)> = None;
    for y in 0..bitmap.height() {
        let row =
            &bitmap.packed()[y as usize * bitmap.stride()..(y as usize + 1) * bitmap.stride()];
        if row.iter().all(|&b| b == 0) {
            continue;
        }
        for x in (0..bitmap.width()).filter(|&x| bitmap.get(x, y)) {
            found = Some(match found {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            });
        }
    }
    found
}

/// The `width × height` part of `bitmap` at (x, y), with `margin` white dots around it.
fn crop(bitmap: &Bitmap, x: u32, y: u32, width: u32, height: u32, margin: u32) -> Bitmap {
    let mut out = Bitmap::new(width + 2 * margin, height + 2 * margin);
    for dy in 0..height {
        for dx in 0..width {
            if bitmap.get(x + dx, y + dy) {
                out.set(dx + margin, dy + margin, true);
            }
        }
    }
    out
}

/// `bitmap` scaled down to fit `max_width` × `max_height` (kept as is when it fits), its
/// aspect ratio kept. A dot of the result is black when at least a quarter of the area it
/// covers is black.
fn fit(bitmap: &Bitmap, max_width: u32, max_height: u32) -> Bitmap {
    let (w, h) = (bitmap.width(), bitmap.height());
    if w <= max_width && h <= max_height {
        return bitmap.clone();
    }
    let scale = (f64::from(max_width) / f64::from(w)).min(f64::from(max_height) / f64::from(h));
    let nw = ((f64::from(w) * scale).floor() as u32).clamp(1, max_width);
    let nh = ((f64::from(h) * scale).floor() as u32).clamp(1, max_height);
    scale_down(bitmap, nw, nh)
}

/// `bitmap` scaled down to `nw × nh` by area coverage (a quarter of ink makes a black dot).
fn scale_down(bitmap: &Bitmap, nw: u32, nh: u32) -> Bitmap {
    let (w, h) = (u64::from(bitmap.width()), u64::from(bitmap.height()));
    let mut out = Bitmap::new(nw, nh);
    for oy in 0..nh {
        let (sy0, sy1) = (
            u64::from(oy) * h / u64::from(nh),
            (u64::from(oy + 1) * h).div_ceil(u64::from(nh)),
        );
        for ox in 0..nw {
            let (sx0, sx1) = (
                u64::from(ox) * w / u64::from(nw),
                (u64::from(ox + 1) * w).div_ceil(u64::from(nw)),
            );
            let mut black = 0u64;
            for sy in sy0..sy1 {
                for sx in sx0..sx1 {
                    black += u64::from(bitmap.get(sx as u32, sy as u32));
                }
            }
            let area = (sx1 - sx0) * (sy1 - sy0);
            out.set(ox, oy, black * 4 >= area.max(1));
        }
    }
    out
}

/// `bitmap` scaled down, keeping its aspect ratio, when wider than `max_width` (logos).
pub fn fit_width(bitmap: &Bitmap, max_width: u32) -> Bitmap {
    fit(bitmap, max_width.max(1), u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "signature": a zigzag and a dot on an 800×300 pad.
    fn strokes() -> Signature {
        Signature::Strokes {
            width: 800,
            height: 300,
            strokes: vec![
                vec![
                    (100, 200),
                    (200, 60),
                    (300, 220),
                    (400, 80),
                    (500, 240),
                    (700, 100),
                ],
                vec![(720, 250)],
            ],
        }
    }

    #[test]
    fn strokes_round_trip_and_draw_within_the_width() {
        let s = strokes();
        assert_eq!(s.validate(), Ok(()));
        let bytes = s.to_bytes();
        assert_eq!(&bytes[..5], b"SIG1\x01");
        assert_eq!(bytes.len(), s.stored_len());
        assert_eq!(Signature::from_bytes(&bytes), Ok(s.clone()));
        for max in [384, 576, 100] {
            let b = s.to_bitmap(max);
            assert!(
                b.width() <= max && b.height() <= max / 2,
                "{}x{} for {max}",
                b.width(),
                b.height()
            );
            // The ink fills the width: the zigzag spans 620 of the pad's units.
            assert!(b.width() > max * 9 / 10, "{} of {max}", b.width());
            assert!(
                b.black_dots() > u64::from(b.width()),
                "too little ink: {}",
                b.black_dots()
            );
            // Cropped: the margin is white on every side.
            assert!((0..b.width()).all(|x| !b.get(x, 0) && !b.get(x, b.height() - 1)));
            assert!((0..b.height()).all(|y| !b.get(0, y) && !b.get(b.width() - 1, y)));
        }
    }

    #[test]
    fn images_round_trip_crop_and_scale_down() {
        let mut bitmap = Bitmap::new(1000, 400);
        for x in 100..900 {
            for y in 190..193 {
                bitmap.set(x, y, true);
            }
        }
        let s = Signature::Image(bitmap);
        assert_eq!(s.validate(), Ok(()));
        let bytes = s.to_bytes();
        assert_eq!(&bytes[..5], b"SIG1\x02");
        assert_eq!(Signature::from_bytes(&bytes), Ok(s.clone()));
        let b = s.to_bitmap(384);
        assert!(b.width() <= 384);
        assert!(b.height() < 20, "cropped to the line: {}", b.height());
        assert!(
            b.black_dots() >= 300,
            "the line survives scaling: {}",
            b.black_dots()
        );
        // A small image is kept at its size (only cropped).
        let mut small = Bitmap::new(40, 20);
        small.set(10, 10, true);
        let b = Signature::Image(small).to_bitmap(384);
        assert_eq!(
            (b.width(), b.height()),
            (1 + 2 * MARGIN_DOTS, 1 + 2 * MARGIN_DOTS)
        );
        assert_eq!(b.black_dots(), 1);
    }

    #[test]
    fn validation() {
        let empty = Signature::Strokes {
            width: 10,
            height: 10,
            strokes: vec![vec![]],
        };
        assert_eq!(empty.validate(), Err(SignatureError::Empty));
        assert_eq!(
            Signature::Image(Bitmap::new(8, 8)).validate(),
            Err(SignatureError::Empty)
        );
        let zero = Signature::Strokes {
            width: 0,
            height: 10,
            strokes: vec![vec![(0, 0)]],
        };
        assert!(matches!(
            zero.validate(),
            Err(SignatureError::ZeroSize { .. })
        ));
        let outside = Signature::Strokes {
            width: 10,
            height: 10,
            strokes: vec![vec![(1, 1), (10, 3)]],
        };
        assert_eq!(
            outside.validate(),
            Err(SignatureError::OutOfPad {
                x: 10,
                y: 3,
                width: 10,
                height: 10
            })
        );
        let many = Signature::Strokes {
            width: 10,
            height: 10,
            strokes: vec![vec![(1, 1); MAX_POINTS + 1]],
        };
        assert_eq!(
            many.validate(),
            Err(SignatureError::TooManyPoints {
                points: MAX_POINTS + 1,
                max: MAX_POINTS
            })
        );
        let mut big = Bitmap::new(2048, 300);
        big.set(5, 5, true);
        assert!(matches!(
            Signature::Image(big).validate(),
            Err(SignatureError::TooLarge { .. })
        ));
        let e = SignatureError::Empty;
        assert!(e.zh().contains("签名") && e.en().contains("sign again"));
    }

    #[test]
    fn garbage_is_refused_with_its_reason() {
        let good = strokes().to_bytes();
        assert_eq!(
            Signature::from_bytes(b""),
            Err(SignatureError::Truncated {
                what: "the magic",
                got: 0
            })
        );
        assert_eq!(
            Signature::from_bytes(b"PNG\x89\x01\x02"),
            Err(SignatureError::BadMagic)
        );
        assert_eq!(
            Signature::from_bytes(b"SIG1\x07"),
            Err(SignatureError::UnknownKind { kind: 7 })
        );
        for cut in 5..good.len() {
            assert!(
                matches!(
                    Signature::from_bytes(&good[..cut]),
                    Err(SignatureError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            Signature::from_bytes(&long),
            Err(SignatureError::TrailingBytes { extra: 1 })
        );
        // Well formed but a point off the pad.
        let off = Signature::Strokes {
            width: 10,
            height: 10,
            strokes: vec![vec![(3, 30)]],
        }
        .to_bytes();
        assert!(matches!(
            Signature::from_bytes(&off),
            Err(SignatureError::OutOfPad { .. })
        ));
        // A stroke count claiming more points than allowed.
        let mut claim = b"SIG1\x01\x00\x10\x00\x10\x00\x01".to_vec();
        claim.extend_from_slice(&u16::MAX.to_be_bytes());
        assert!(matches!(
            Signature::from_bytes(&claim),
            Err(SignatureError::TooManyPoints { .. })
        ));
    }

    #[test]
    fn logos_are_scaled_to_the_paper() {
        let mut logo = Bitmap::new(800, 100);
        for x in 0..800 {
            logo.set(x, 50, true);
        }
        let fitted = fit_width(&logo, 384);
        assert_eq!(fitted.width(), 384);
        assert_eq!(fitted.height(), 48);
        assert!(fitted.black_dots() >= 384);
        assert_eq!(fit_width(&fitted, 576), fitted);
    }
}
