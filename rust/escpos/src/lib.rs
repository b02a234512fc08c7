//! ESC/POS without I/O, for receipt printers on smart POS terminals.
//!
//! - [`document`]: a device-independent [`Document`] (text runs, label/value rows, images,
//!   QR codes, CODE128 barcodes, separators, feed, cut);
//! - [`profile`]: what a printer model can do ([`Profile`]: paper width, text encoding and
//!   Chinese mode, native or raster QR, `GS ( H` support);
//! - [`encode()`]: `Document` + `Profile` → ESC/POS bytes, with CJK-aware wrapping
//!   ([`layout`]: a CJK character takes two columns and is never split);
//! - [`bitmap`]: 1-bit images, dithered from grayscale, and their `GS v 0` raster form;
//! - [`status`]: the printer's replies (`DLE EOT 1–4`, Automatic Status Back, `GS r`,
//!   `GS ( H`) parsed into one [`PrinterStatus`], and built from one (for simulators);
//! - [`command`] and [`decode`]: any ESC/POS byte stream (ours or anyone's) split into
//!   [`Command`]s and replayed onto a [`Page`]; unknown commands are listed, not fatal;
//! - `render` (feature `render`): a [`Page`] drawn to a PNG with a CJK bitmap font.
//!
//! Nothing here opens a socket or a file: the driver (`poscore-printer`) does the I/O.

pub mod barcode;
pub mod bitmap;
pub mod command;
pub mod commands;
pub mod decode;
pub mod document;
pub mod encode;
#[cfg(feature = "render")]
pub mod font;
#[cfg(feature = "render")]
pub mod font_ranges;
pub mod layout;
pub mod profile;
pub mod qr;
#[cfg(feature = "render")]
pub mod render;
pub mod status;

pub use bitmap::{Bitmap, Dither};
pub use command::{Command, Tokenizer};
pub use decode::{Page, PageItem, decode};
pub use document::{Align, Document, Element, Span, TextStyle};
pub use encode::encode;
pub use profile::{PaperWidth, Profile, QrMode, TextEncoding};
pub use status::{Paper, PrinterStatus, Reply, ReplyParser, StatusError};
