//! What one printer model can do. The encoder reads it; nothing is guessed per call.

/// The paper roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaperWidth {
    /// 58 mm: 384 dots, 32 columns of Font A.
    #[default]
    Mm58,
    /// 80 mm: 576 dots, 48 columns of Font A.
    Mm80,
}

impl PaperWidth {
    /// Printable dots across (203 dpi).
    pub fn dots(self) -> u32 {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
        }
    }

    /// Columns of Font A (12×24); a CJK character takes two.
    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }
}

/// A single-byte character set selected with `ESC t n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleByteCharset {
    /// PC437 (USA, standard Europe); ASCII is sent as is, anything else as `?`.
    Pc437,
    /// Windows-1252 (Latin-1).
    Windows1252,
}

/// How text reaches the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// GB18030, in Chinese mode (`FS &`). The default: most Chinese printers.
    #[default]
    Gb18030,
    /// GBK, in Chinese mode (`FS &`).
    Gbk,
    /// UTF-8 (some newer printers); Chinese mode is cancelled (`FS .`).
    Utf8,
    /// A single-byte code page: Chinese mode cancelled (`FS .`), then `ESC t code_page`.
    /// The number is model-specific (printers.md §2), hence configurable.
    SingleByte {
        /// The `n` of `ESC t n` for this model.
        code_page: u8,
        /// The character set that number selects on this model.
        charset: SingleByteCharset,
    },
}

/// How QR codes are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrMode {
    /// The printer draws it (`GS ( k`): a few dozen bytes on the wire.
    #[default]
    Native,
    /// We draw it and send a raster image (`GS v 0`): works on every printer.
    Raster,
}

/// One printer model's capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Profile {
    /// The paper roll.
    pub paper: PaperWidth,
    /// The text encoding and Chinese mode.
    pub encoding: TextEncoding,
    /// Native or rasterized QR codes.
    pub qr: QrMode,
    /// Whether the printer answers `GS ( H` (process ID) after printing; otherwise jobs are
    /// confirmed with `GS r 1`. Unconfirmed on Chinese clones, so configurable.
    pub process_id: bool,
}

impl Profile {
    /// 58 mm, GB18030, native QR, `GS ( H` supported: the virtual printer's profile.
    pub fn mm58() -> Profile {
        Profile {
            paper: PaperWidth::Mm58,
            encoding: TextEncoding::Gb18030,
            qr: QrMode::Native,
            process_id: true,
        }
    }

    /// 80 mm, GB18030, native QR, `GS ( H` supported.
    pub fn mm80() -> Profile {
        Profile {
            paper: PaperWidth::Mm80,
            ..Profile::mm58()
        }
    }
}
