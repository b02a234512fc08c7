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
        self.online
            && self.paper != Paper::Out
            && !self.cover_open
            && !self.recoverable_error
            && !self.cutter_error
            && !self.mechanical_error
            && !self.unrecoverable_error
    }

    /// Whether any error (recoverable, cutter, mechanical, unrecoverable) is set.
    pub fn has_error(&self) -> bool {
        self.recoverable_error
            || self.cutter_error
            || self.mechanical_error
            || self.unrecoverable_error
    }

    /// The state as an Epson-class printer reports it: paper out, cover open, the FEED
    /// button held or any error take the printer offline. The reply builders use this
    /// view, so a simulator only has to set the fault.
    pub fn settled(&self) -> PrinterStatus {
        let offline = !self.online
            || self.paper == Paper::Out
            || self.cover_open
            || self.feed_button
            || self.has_error();
        PrinterStatus {
            online: !offline,
            ..*self
        }
    }

    /// Merges the reply to `DLE EOT n` (n = 1–4). A byte without the fixed bits
    /// (`0xx1xx10`) or an n outside 1–4 is an error.
    ///
    /// - n = 1: bit 2 drawer pin 3, bit 3 offline;
    /// - n = 2: bit 2 cover open, bit 3 FEED button, bit 5 stopped on paper end (paper
    ///   out; when clear, a paper state of `Out` becomes `Ok`), bit 6 error (when clear,
    ///   every error flag is cleared; when set, the cause is read with n = 3);
    /// - n = 3: bit 2 mechanical, bit 3 autocutter, bit 5 unrecoverable, bit 6
    ///   auto-recoverable (overheat);
    /// - n = 4: bits 5–6 paper end, else bits 2–3 near end, else paper present.
    pub fn apply_realtime(&mut self, n: u8, reply: u8) -> Result<(), StatusError> {
        if !(1..=4).contains(&n) {
            return Err(StatusError::NoSuchStatus { n });
        }
        if reply & REALTIME_FIXED_MASK != REALTIME_FIXED {
            return Err(StatusError::UnexpectedByte {
                byte: reply,
                context: "DLE EOT reply (fixed bits 0xx1xx10)",
            });
        }
        let bit = |b: u8| reply & (1 << b) != 0;
        match n {
            1 => {
                self.drawer_pin3 = bit(2);
                self.online = !bit(3);
            }
            2 => {
                self.cover_open = bit(2);
                self.feed_button = bit(3);
                if bit(5) {
                    self.paper = Paper::Out;
                } else if self.paper == Paper::Out {
                    self.paper = Paper::Ok;
                }
                if !bit(6) {
                    self.recoverable_error = false;
                    self.cutter_error = false;
                    self.mechanical_error = false;
                    self.unrecoverable_error = false;
                }
            }
            3 => {
                self.mechanical_error = bit(2);
                self.cutter_error = bit(3);
                self.unrecoverable_error = bit(5);
                self.recoverable_error = bit(6);
            }
            _ => {
                self.paper = if reply & 0x60 != 0 {
                    Paper::Out
                } else if reply & 0x0C != 0 {
                    Paper::NearEnd
                } else {
                    Paper::Ok
                };
            }
        }
        Ok(())
    }

    /// Reads a 4-byte Automatic Status Back.
    ///
    /// Byte 1 (`0xx1xx00`): bit 2 drawer pin 3, bit 3 offline, bit 5 cover open, bit 6
    /// paper fed by the FEED button. Byte 2: error bits as `DLE EOT 3`. Byte 3: bits 2–3
    /// (0x0C) paper end, else bits 0–1 (0x03) near end. Byte 4 is ignored.
    pub fn from_asb(asb: [u8; 4]) -> Result<PrinterStatus, StatusError> {
        let [first, errors, paper, _] = asb;
        if first & ASB_FIXED_MASK != ASB_FIXED {
            return Err(StatusError::UnexpectedByte {
                byte: first,
                context: "ASB first byte (fixed bits 0xx1xx00)",
            });
        }
        let bit = |byte: u8, b: u8| byte & (1 << b) != 0;
        Ok(PrinterStatus {
            online: !bit(first, 3),
            paper: paper_from_sensor(paper),
            cover_open: bit(first, 5),
            feed_button: bit(first, 6),
            recoverable_error: bit(errors, 6),
            cutter_error: bit(errors, 3),
            mechanical_error: bit(errors, 2),
            unrecoverable_error: bit(errors, 5),
            drawer_pin3: bit(first, 2),
        })
    }

    /// Merges the reply to `GS r 1` (paper sensor): 0x0C paper end, 0x03 near end. A byte
    /// without the `GS r` pattern (`0xx0xxxx`) is an error.
    pub fn apply_paper_sensor(&mut self, reply: u8) -> Result<(), StatusError> {
        if reply & TRANSMIT_FIXED_MASK != 0 {
            return Err(StatusError::UnexpectedByte {
                byte: reply,
                context: "GS r 1 reply (fixed bits 0xx0xxxx)",
            });
        }
        self.paper = paper_from_sensor(reply);
        Ok(())
    }

    /// The byte a printer in this state answers to `DLE EOT n` (n = 1–4), from the
    /// [`settled`](PrinterStatus::settled) view (paper out, cover open or an error report
    /// offline). For an n outside 1–4 it answers the fixed bits only (0x12).
    ///
    /// Paper out sets both sensor pairs of `DLE EOT 4` (0x7E): python-escpos's
    /// `paper_status()` reads 0 for it, 1 for near end (0x1E) and 2 for paper present (0x12).
    pub fn realtime_reply(&self, n: u8) -> u8 {
        let s = self.settled();
        let flag = |on: bool, b: u8| if on { 1u8 << b } else { 0 };
        REALTIME_FIXED
            | match n {
                1 => flag(s.drawer_pin3, 2) | flag(!s.online, 3),
                2 => {
                    flag(s.cover_open, 2)
                        | flag(s.feed_button, 3)
                        | flag(s.paper == Paper::Out, 5)
                        | flag(s.has_error(), 6)
                }
                3 => {
                    flag(s.mechanical_error, 2)
                        | flag(s.cutter_error, 3)
                        | flag(s.unrecoverable_error, 5)
                        | flag(s.recoverable_error, 6)
                }
                4 => match s.paper {
                    Paper::Ok => 0,
                    Paper::NearEnd => 0x0C,
                    Paper::Out => 0x6C,
                },
                _ => 0,
            }
    }

    /// The 4 bytes of an Automatic Status Back for this state (the
    /// [`settled`](PrinterStatus::settled) view; byte 4 is 0).
    pub fn asb(&self) -> [u8; 4] {
        let s = self.settled();
        let flag = |on: bool, b: u8| if on { 1u8 << b } else { 0 };
        let first = ASB_FIXED
            | flag(s.drawer_pin3, 2)
            | flag(!s.online, 3)
            | flag(s.cover_open, 5)
            | flag(s.feed_button, 6);
        let errors = flag(s.mechanical_error, 2)
            | flag(s.cutter_error, 3)
            | flag(s.unrecoverable_error, 5)
            | flag(s.recoverable_error, 6);
        [first, errors, sensor_byte(s.paper), 0]
    }

    /// The byte a printer in this state answers to `GS r 1` (0x00 paper present, 0x03 near
    /// end, 0x0F paper end: both sensors see no paper). A real printer does not answer
    /// `GS r` at all while offline; that is the simulator's business.
    pub fn paper_sensor_reply(&self) -> u8 {
        sensor_byte(self.paper)
    }
}

/// `DLE EOT` replies: bits 7, 4, 1, 0 are fixed to 0, 1, 1, 0.
const REALTIME_FIXED_MASK: u8 = 0x93;
/// The fixed bits' values in a `DLE EOT` reply.
const REALTIME_FIXED: u8 = 0x12;
/// An ASB's first byte: bits 7, 4, 1, 0 are fixed to 0, 1, 0, 0.
const ASB_FIXED_MASK: u8 = 0x93;
/// The fixed bits' values in an ASB's first byte.
const ASB_FIXED: u8 = 0x10;
/// `GS r` replies: bits 7 and 4 are 0.
const TRANSMIT_FIXED_MASK: u8 = 0x90;

/// The paper state from a `GS r 1` / ASB byte 3 sensor byte.
fn paper_from_sensor(byte: u8) -> Paper {
    if byte & 0x0C != 0 {
        Paper::Out
    } else if byte & 0x03 != 0 {
        Paper::NearEnd
    } else {
        Paper::Ok
    }
}

/// The sensor byte of `GS r 1` / ASB byte 3 for a paper state.
fn sensor_byte(paper: Paper) -> u8 {
    match paper {
        Paper::Ok => 0x00,
        Paper::NearEnd => 0x03,
        Paper::Out => 0x0F,
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
    #[error(
        "unexpected byte 0x{byte:02X} from the printer ({context}): check the printer's model and profile"
    )]
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
    ///
    /// Each byte is classified by its pattern: 0x11/0x13 XON/XOFF, `37 22` a process-ID
    /// reply (7 bytes, kept until complete), `0xx1xx10` a `DLE EOT` reply, `0xx1xx00` an
    /// ASB (4 bytes, kept until complete), `0xx0xxxx` a `GS r` reply. Anything else gives
    /// [`StatusError::UnexpectedByte`], and parsing goes on with the next byte; a malformed
    /// process-ID reply gives [`StatusError::BadProcessId`] and parsing resumes at the
    /// offending byte.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<Reply, StatusError>> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            let rest = &self.pending[at..];
            match classify(rest) {
                Step::Done(result, used) => {
                    out.push(result);
                    at += used;
                }
                Step::NeedMore => break,
            }
        }
        self.pending.drain(..at);
        out
    }

    /// Bytes held back because their reply is not complete yet.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }
}

/// What the head of the stream holds.
enum Step {
    /// A reply or an error, and how many bytes it used (at least 1).
    Done(Result<Reply, StatusError>, usize),
    /// An incomplete reply.
    NeedMore,
}

/// The first byte of a process-ID reply.
const PROCESS_ID_FIRST: u8 = 0x37;
/// The second byte of a process-ID reply.
const PROCESS_ID_SECOND: u8 = 0x22;
/// Length of a process-ID reply: `37 22 d1 d2 d3 d4 00`.
const PROCESS_ID_LEN: usize = 7;

/// Reads one reply from the head of `rest` (not empty).
fn classify(rest: &[u8]) -> Step {
    let first = rest[0];
    match first {
        0x11 => Step::Done(Ok(Reply::Xon), 1),
        0x13 => Step::Done(Ok(Reply::Xoff), 1),
        PROCESS_ID_FIRST => process_id(rest),
        b if b & REALTIME_FIXED_MASK == REALTIME_FIXED => Step::Done(Ok(Reply::Realtime(b)), 1),
        b if b & ASB_FIXED_MASK == ASB_FIXED => match rest.get(..4) {
            Some(&[a, b2, c, d]) => Step::Done(Ok(Reply::Asb([a, b2, c, d])), 4),
            _ => Step::NeedMore,
        },
        b if b & TRANSMIT_FIXED_MASK == 0 => Step::Done(Ok(Reply::TransmitStatus(b)), 1),
        b => Step::Done(
            Err(StatusError::UnexpectedByte {
                byte: b,
                context: "reply stream",
            }),
            1,
        ),
    }
}

/// Reads a process-ID reply `37 22 d1 d2 d3 d4 00` (each d 0x20–0x7E) from the head of
/// `rest`.
fn process_id(rest: &[u8]) -> Step {
    for (i, &byte) in rest.iter().enumerate().take(PROCESS_ID_LEN).skip(1) {
        let ok = match i {
            1 => byte == PROCESS_ID_SECOND,
            2..=5 => (0x20..=0x7E).contains(&byte),
            _ => byte == 0x00,
        };
        if !ok {
            return Step::Done(
                Err(StatusError::BadProcessId {
                    bytes: rest[..=i].to_vec(),
                }),
                i,
            );
        }
    }
    if rest.len() < PROCESS_ID_LEN {
        return Step::NeedMore;
    }
    Step::Done(
        Ok(Reply::ProcessId([rest[2], rest[3], rest[4], rest[5]])),
        PROCESS_ID_LEN,
    )
}
