//! A device-independent slip: what to print, not how. [`crate::encode()`] turns it into
//! ESC/POS bytes for one printer [`crate::Profile`].

use crate::bitmap::Bitmap;

/// Horizontal placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// Left.
    #[default]
    Left,
    /// Centered.
    Center,
    /// Right.
    Right,
}

/// How a run of text looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextStyle {
    /// Emphasized.
    pub bold: bool,
    /// Underlined (one dot).
    pub underline: bool,
    /// Each character twice as wide: a line holds half as many columns.
    pub double_width: bool,
    /// Each character twice as tall.
    pub double_height: bool,
}

impl TextStyle {
    /// Bold only.
    pub const BOLD: TextStyle = TextStyle {
        bold: true,
        underline: false,
        double_width: false,
        double_height: false,
    };
    /// Double width and height (titles, amounts).
    pub const BIG: TextStyle = TextStyle {
        bold: true,
        underline: false,
        double_width: true,
        double_height: true,
    };
}

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text (any Unicode; the profile's encoding decides what the printer gets).
    pub text: String,
    /// Its style.
    pub style: TextStyle,
}

/// QR error correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrLevel {
    /// ~7 %.
    L,
    /// ~15 %.
    #[default]
    M,
    /// ~25 %.
    Q,
    /// ~30 %.
    H,
}

/// One block of a document, printed top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A paragraph of spans, wrapped to the paper's columns (a CJK character is never split).
    Text {
        /// The runs.
        spans: Vec<Span>,
        /// Placement of each wrapped line.
        align: Align,
    },
    /// A label on the left and a value on the right of one line; when both do not fit, the
    /// value goes right-aligned on the next line(s).
    Row {
        /// The label (left).
        label: String,
        /// The value (right).
        value: String,
        /// Style of both.
        style: TextStyle,
    },
    /// A 1-bit image, at most the paper's width in dots (wider ones are refused by `encode`'s
    /// caller through [`Document::validate`]).
    Image {
        /// The dots.
        bitmap: Bitmap,
        /// Placement.
        align: Align,
    },
    /// A QR code.
    Qr {
        /// What it encodes.
        data: String,
        /// Dots per module (1–16).
        module_size: u8,
        /// Error correction.
        level: QrLevel,
        /// Placement.
        align: Align,
    },
    /// A CODE128 barcode.
    Barcode128 {
        /// What it encodes (ASCII).
        data: String,
        /// Bar height in dots (1–255).
        height: u8,
        /// Whether the human-readable text is printed below.
        hri: bool,
        /// Placement.
        align: Align,
    },
    /// A full-width rule made of one character (e.g. `-`, `=`).
    Separator {
        /// The character repeated across the line.
        ch: char,
    },
    /// Blank lines.
    Feed {
        /// How many.
        lines: u8,
    },
    /// Cut the paper (feeds to the cutter first).
    Cut {
        /// Leave a tab uncut.
        partial: bool,
    },
}

/// Why a document cannot be printed as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// An image is wider than the paper.
    #[error("image {index} is {width} dots wide but the paper has {paper} dots: scale it down")]
    ImageTooWide {
        /// The element's index.
        index: usize,
        /// Its width.
        width: u32,
        /// The paper's printable width.
        paper: u32,
    },
    /// A QR code's data is empty or too long, or its module size out of 1–16.
    #[error("QR code {index}: {reason}")]
    BadQr {
        /// The element's index.
        index: usize,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A barcode's data is empty, not ASCII, or too long.
    #[error("barcode {index}: {reason}")]
    BadBarcode {
        /// The element's index.
        index: usize,
        /// What is wrong and what to do.
        reason: String,
    },
}

/// A slip: elements printed top to bottom.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    /// The elements, in order.
    pub elements: Vec<Element>,
}

impl Document {
    /// An empty document.
    pub fn new() -> Document {
        Document::default()
    }

    /// Appends any element.
    pub fn push(mut self, element: Element) -> Document {
        self.elements.push(element);
        self
    }

    /// Appends a paragraph in one style.
    pub fn text(self, text: &str, style: TextStyle, align: Align) -> Document {
        self.push(Element::Text {
            spans: vec![Span {
                text: text.to_string(),
                style,
            }],
            align,
        })
    }

    /// Appends a plain left-aligned line.
    pub fn line(self, text: &str) -> Document {
        self.text(text, TextStyle::default(), Align::Left)
    }

    /// Appends a label/value row.
    pub fn row(self, label: &str, value: &str) -> Document {
        self.push(Element::Row {
            label: label.to_string(),
            value: value.to_string(),
            style: TextStyle::default(),
        })
    }

    /// Appends a rule of `ch`.
    pub fn separator(self, ch: char) -> Document {
        self.push(Element::Separator { ch })
    }

    /// Appends an image.
    pub fn image(self, bitmap: Bitmap, align: Align) -> Document {
        self.push(Element::Image { bitmap, align })
    }

    /// Appends a centered QR code (module size 6, level M).
    pub fn qr(self, data: &str) -> Document {
        self.push(Element::Qr {
            data: data.to_string(),
            module_size: 6,
            level: QrLevel::M,
            align: Align::Center,
        })
    }

    /// Appends a centered CODE128 barcode, 80 dots tall, with its text below.
    pub fn barcode128(self, data: &str) -> Document {
        self.push(Element::Barcode128 {
            data: data.to_string(),
            height: 80,
            hri: true,
            align: Align::Center,
        })
    }

    /// Appends blank lines.
    pub fn feed(self, lines: u8) -> Document {
        self.push(Element::Feed { lines })
    }

    /// Appends a cut.
    pub fn cut(self) -> Document {
        self.push(Element::Cut { partial: false })
    }

    /// Checks that [`crate::encode()`] would accept this document for `profile` (images fit
    /// the paper, QR and barcode data are encodable and fit), without building the bytes.
    pub fn validate(&self, profile: &crate::profile::Profile) -> Result<(), DocumentError> {
        crate::encode::validate(self, profile)
    }
}
