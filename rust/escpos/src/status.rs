//! The printer's side of the conversation: status replies parsed into one
//! [`PrinterStatus`] (reference/printers.md §2), and built from one, for simulators.
//!
//! Reply kinds are told apart by their bit patterns (Citizen's "Identification of Send
//! Status"): `DLE EOT` replies are `0xx1xx10`, an ASB's first byte `0xx1xx00`, `GS r`
//! replies `0xx0xxxx`, a process-ID reply starts `37 22`; XON/XOFF are 0x11/0x13.

/// The paper roll sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// Paper present.
    #[default]
    Ok,
    /// Near the end: still prints.
    NearEnd,
    /// Out: printing stopped.
    Out,
}

/// Everything a printer tells about itself, merged from whichever replies came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterStatus {
    /// Online (ready to print).
    pub online: bool,
    /// The paper sensor.
    pub paper: Paper,
    /// The cover is open.
    pub cover_open: bool,
    /// The FEED button is held.
    pub feed_button: bool,
    /// An auto-recoverable error (head overheat): clears by itself.
    pub recoverable_error: bool,
    /// Autocutter error.
    pub cutter_error: bool,
    /// Mechanical error (or black mark not found).
    pub mechanical_error: bool,
    /// An unrecoverable error: needs service.
    pub unrecoverable_error: bool,
    /// Drawer kick-out connector pin 3 is high.
    pub drawer_pin3: bool,
}

impl Default for PrinterStatus {
    fn default() -> Self {
        PrinterStatus::READY
    }
}

impl PrinterStatus {
    /// Online, paper present, no error.
    pub const READY: PrinterStatus = PrinterStatus {
        online: true,
        paper: Paper::Ok,
        cover_open: false,
        feed_button: false,
        recoverable_error: false,
        cutter_error: false,
        mechanical_error: false,
        unrecoverable_error: false,
        drawer_pin3: false,
    };

    /// Whether a job can be sent now (online, paper not out, no error, cover closed).
    pub fn can_print(&self) -> bool {
        todo!("helper")
    }

    /// Merges the reply to `DLE EOT n` (n = 1–4). A byte without the fixed bits
    /// (`0xx1xx10`) or an n outside 1–4 is an error.
    pub fn apply_realtime(&mut self, n: u8, reply: u8) -> Result<(), StatusError> {
        let _ = (n, reply);
        todo!("helper")
    }

    /// Reads a 4-byte Automatic Status Back.
    pub fn from_asb(asb: [u8; 4]) -> Result<PrinterStatus, StatusError> {
        let _ = asb;
        todo!("helper")
    }

    /// Merges the reply to `GS r 1` (paper sensor).
    pub fn apply_paper_sensor(&mut self, reply: u8) -> Result<(), StatusError> {
        let _ = reply;
        todo!("helper")
    }

    /// The byte a printer in this state answers to `DLE EOT n` (n = 1–4).
    pub fn realtime_reply(&self, n: u8) -> u8 {
        let _ = n;
        todo!("helper")
    }

    /// The 4 bytes of an Automatic Status Back for this state.
    pub fn asb(&self) -> [u8; 4] {
        todo!("helper")
    }

    /// The byte a printer in this state answers to `GS r 1`.
    pub fn paper_sensor_reply(&self) -> u8 {
        todo!("helper")
    }
}

/// One complete reply from the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A `DLE EOT` reply byte (which n it answers is known only to the asker).
    Realtime(u8),
    /// An Automatic Status Back.
    Asb([u8; 4]),
    /// A `GS r` reply byte.
    TransmitStatus(u8),
    /// A `GS ( H` process-ID reply: the job with this ID has printed.
    ProcessId([u8; 4]),
    /// XON.
    Xon,
    /// XOFF.
    Xoff,
}

/// A reply that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// A byte that is no known reply.
    #[error("unexpected byte 0x{byte:02X} from the printer ({context}): check the printer's model and profile")]
    UnexpectedByte {
        /// The byte.
        byte: u8,
        /// What was being read.
        context: &'static str,
    },
    /// `DLE EOT n` with n outside 1–4.
    #[error("no real-time status {n}: only 1–4 exist")]
    NoSuchStatus {
        /// The n asked for.
        n: u8,
    },
    /// A process-ID reply that is cut short or malformed.
    #[error("malformed process-ID reply {bytes:02X?}")]
    BadProcessId {
        /// The bytes read.
        bytes: Vec<u8>,
    },
}

/// Splits the printer's byte stream into [`Reply`]s, keeping incomplete ones for the next
/// feed.
#[derive(Debug, Default)]
pub struct ReplyParser {
    pending: Vec<u8>,
}

impl ReplyParser {
    /// A parser at the start of the stream.
    pub fn new() -> ReplyParser {
        ReplyParser::default()
    }

    /// Feeds bytes; returns the replies (or errors) they complete, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<Reply, StatusError>> {
        let _ = bytes;
        todo!("helper")
    }
}
