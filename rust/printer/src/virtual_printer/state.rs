//! The printer's state machine, without I/O: status (paper, cover, overheat), injected
//! faults and when they strike, the paper roll, the page being printed and the finished
//! pages, and what to answer to each command.
//!
//! A connection hands its bytes to [`Machine::feed`] together with its own
//! [`SessionState`] (tokenizer, ASB on/off) and gets back the bytes to answer; what else
//! must happen outside the lock (broadcast a status change, close connections, start an
//! overheat timer) comes back as [`Effects`] and status changes queued in the machine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use log::{debug, info, trace, warn};
use poscore_escpos::decode::{DecodeOptions, PageBuilder};
use poscore_escpos::{Command, Page, Paper, PrinterStatus, Tokenizer};

use super::fault::{Fault, Trigger};
use super::paper::{PaperMeter, dots_to_mm};
use super::{VirtualPage, VirtualPrinterConfig};

/// One connection's own state.
#[derive(Debug, Default)]
pub struct SessionState {
    /// Splits this connection's byte stream into commands.
    pub tokenizer: Tokenizer,
    /// Automatic Status Back is enabled on this connection (`GS a n`, n ≠ 0).
    pub asb: bool,
}

/// What must happen outside the machine's lock after an operation.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Close the connection whose bytes were being fed.
    pub drop_this: bool,
    /// Close every open connection.
    pub drop_all: bool,
    /// Start an overheat timer: (how long, which overheat).
    pub timers: Vec<(Duration, u64)>,
}

/// When a pending injection strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// Once the print-data byte count reaches this total.
    DataBytes(u64),
    /// At the next confirmation request.
    Confirm,
}

/// An injected fault waiting for its trigger.
#[derive(Debug, Clone)]
struct Pending {
    when: When,
    fault: Fault,
}

/// The printer.
#[derive(Debug)]
pub struct Machine {
    config: VirtualPrinterConfig,
    options: DecodeOptions,
    builder: PageBuilder,
    meter: PaperMeter,
    /// Commands listed as unknown on the current page beyond what the builder lists
    /// (`GS ( H` when the profile does not support it).
    unknown: Vec<String>,
    paper: Paper,
    cover_open: bool,
    /// The overheat in force (its number), if any.
    overheat: Option<u64>,
    overheats: u64,
    never_confirm: bool,
    pending: Vec<Pending>,
    /// Close the next connection on its first data (a `DropConnection` injected `Now`
    /// with no connection open).
    drop_next: bool,
    /// Print-data bytes received while online (`DLE EOT` not counted).
    data_bytes: u64,
    /// Paper fed since power-on, in dots.
    paper_dots: u64,
    /// The roll ends when `paper_dots` would pass this.
    roll_end_dots: Option<u64>,
    pages: Vec<VirtualPage>,
    /// The pages from here on belong to the job a confirmation request would confirm
    /// (finished since the last request, fault or new connection).
    job_pages_from: usize,
    confirmed: Vec<[u8; 4]>,
    status_replies: u64,
    open_sessions: usize,
    last_status: PrinterStatus,
    changes: Vec<PrinterStatus>,
}

impl Machine {
    /// A printer just powered on, ready, with a full roll.
    pub fn new(config: VirtualPrinterConfig) -> Machine {
        let options = DecodeOptions {
            paper: config.profile.paper,
            encoding: config.profile.encoding,
        };
        let roll_end_dots = config.paper_out_after_mm.map(|mm| u64::from(mm) * 8);
        Machine {
            options,
            builder: PageBuilder::new(options),
            meter: PaperMeter::new(),
            unknown: Vec::new(),
            paper: Paper::Ok,
            cover_open: false,
            overheat: None,
            overheats: 0,
            never_confirm: false,
            pending: Vec::new(),
            drop_next: false,
            data_bytes: 0,
            paper_dots: 0,
            roll_end_dots,
            pages: Vec::new(),
            job_pages_from: 0,
            confirmed: Vec::new(),
            status_replies: 0,
            open_sessions: 0,
            last_status: PrinterStatus::READY,
            changes: Vec::new(),
            config,
        }
    }

    /// The status as the printer reports it.
    pub fn status(&self) -> PrinterStatus {
        let overheated = self.overheat.is_some();
        PrinterStatus {
            online: self.paper != Paper::Out && !self.cover_open && !overheated,
            paper: self.paper,
            cover_open: self.cover_open,
            recoverable_error: overheated,
            ..PrinterStatus::READY
        }
    }

    fn online(&self) -> bool {
        self.status().online
    }

    /// Notes a status change (to be broadcast as ASB) if there was one.
    fn note_status(&mut self) {
        let status = self.status();
        if status != self.last_status {
            info!("virtual printer: status now {}", describe(&status));
            self.last_status = status;
            self.changes.push(status);
        }
    }

    /// The status changes since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<PrinterStatus> {
        std::mem::take(&mut self.changes)
    }

    /// A connection opened.
    pub fn open_session(&mut self) {
        self.open_sessions += 1;
        self.job_pages_from = self.pages.len();
    }

    /// A connection closed.
    pub fn close_session(&mut self) {
        self.open_sessions = self.open_sessions.saturating_sub(1);
    }

    /// Finished pages, oldest first.
    pub fn pages(&self) -> &[VirtualPage] {
        &self.pages
    }

    /// Process IDs answered, in order.
    pub fn confirmed(&self) -> &[[u8; 4]] {
        &self.confirmed
    }

    /// How many `GS r` requests were answered.
    pub fn status_replies(&self) -> u64 {
        self.status_replies
    }

    /// Paper fed since power-on, in mm.
    pub fn paper_used_mm(&self) -> f64 {
        dots_to_mm(self.paper_dots)
    }

    /// Sets (or removes) the end of the roll, counted from the paper used so far.
    pub fn set_paper_out_after_mm(&mut self, mm: Option<u32>) {
        self.roll_end_dots = mm.map(|mm| self.paper_dots + u64::from(mm) * 8);
    }

    /// Puts the printer into `fault` when `trigger` says.
    pub fn inject(&mut self, trigger: Trigger, fault: Fault, effects: &mut Effects) {
        info!("virtual printer: fault {fault} injected, strikes {trigger}");
        match trigger {
            Trigger::Now => self.strike_now(fault, effects),
            Trigger::AfterJobBytes(0) if fault != Fault::DropConnection => {
                self.strike(fault, effects)
            }
            Trigger::AfterJobBytes(n) => {
                let n = u64::try_from(n).unwrap_or(u64::MAX).max(1);
                self.pending.push(Pending {
                    when: When::DataBytes(self.data_bytes.saturating_add(n)),
                    fault,
                });
            }
            Trigger::BeforeConfirm => self.pending.push(Pending {
                when: When::Confirm,
                fault,
            }),
        }
    }

    /// A fault injected `Now`: a dropped connection closes every open one, or the next.
    fn strike_now(&mut self, fault: Fault, effects: &mut Effects) {
        if fault == Fault::DropConnection {
            if self.open_sessions > 0 {
                info!(
                    "virtual printer: dropping {} open connection(s)",
                    self.open_sessions
                );
                effects.drop_all = true;
                self.lose_job();
            } else {
                info!(
                    "virtual printer: no connection open; the next one is dropped on its first data"
                );
                self.drop_next = true;
            }
        } else {
            self.strike(fault, effects);
        }
    }

    /// The fault strikes now.
    fn strike(&mut self, fault: Fault, effects: &mut Effects) {
        info!("virtual printer: fault {fault} strikes");
        match fault {
            Fault::PaperOut => {
                self.paper = Paper::Out;
                self.lose_job();
            }
            Fault::CoverOpen => {
                self.cover_open = true;
                self.lose_job();
            }
            Fault::Overheat(duration) => {
                self.overheats += 1;
                self.overheat = Some(self.overheats);
                effects.timers.push((duration, self.overheats));
                self.lose_job();
            }
            Fault::DropConnection => {
                effects.drop_this = true;
                self.lose_job();
            }
            Fault::NeverConfirm => self.never_confirm = true,
        }
        self.note_status();
    }

    /// The job in progress is lost: what printed so far is kept as an incomplete page, and
    /// the print modes go back to their power-on state.
    fn lose_job(&mut self) {
        let mut page = self.builder.current().clone();
        page.unknown.append(&mut self.unknown);
        self.builder = PageBuilder::new(self.options);
        self.meter = PaperMeter::new();
        if !page.is_empty() {
            info!(
                "virtual printer: page cut short after {} item(s)",
                page.items.len()
            );
            self.record(page, false);
        }
        self.job_pages_from = self.pages.len();
    }

    /// Finishes the page in progress without a cut (the pending text line prints); the
    /// print modes go back to their power-on state. Returns the page when it is not empty.
    pub fn finish_page(&mut self) -> Option<VirtualPage> {
        let builder = std::mem::replace(&mut self.builder, PageBuilder::new(self.options));
        self.meter = PaperMeter::new();
        let mut page = builder.finish();
        page.unknown.append(&mut self.unknown);
        if page.is_empty() {
            return None;
        }
        self.record(page, true);
        self.pages.last().cloned()
    }

    /// Overheat number `which` is over (its timer ran out).
    pub fn end_overheat(&mut self, which: u64) {
        if self.overheat == Some(which) {
            info!("virtual printer: the head cooled down");
            self.overheat = None;
            self.note_status();
        }
    }

    /// Paper loaded, cover closed, overheat over, never-confirm off, pending injections
    /// dropped.
    pub fn clear(&mut self) {
        info!("virtual printer: all faults cleared");
        self.paper = Paper::Ok;
        self.cover_open = false;
        self.overheat = None;
        self.never_confirm = false;
        self.pending.clear();
        self.drop_next = false;
        self.note_status();
    }

    /// A new roll is loaded.
    pub fn load_paper(&mut self) {
        info!("virtual printer: paper loaded");
        self.paper = Paper::Ok;
        self.note_status();
    }

    /// The cover is closed.
    pub fn close_cover(&mut self) {
        info!("virtual printer: cover closed");
        self.cover_open = false;
        self.note_status();
    }

    /// Bytes left before the nearest byte-count trigger, if one is pending.
    fn bytes_to_next_trigger(&self) -> Option<u64> {
        self.pending
            .iter()
            .filter_map(|p| match p.when {
                When::DataBytes(at) => Some(at.saturating_sub(self.data_bytes)),
                When::Confirm => None,
            })
            .min()
    }

    /// Strikes the pending faults that wait for `when` (all, for `Confirm`; those whose
    /// count is reached, for `DataBytes`).
    /// Returns whether a fault that stops printing struck (anything but never-confirm).
    fn fire(&mut self, confirm: bool, effects: &mut Effects) -> bool {
        let data_bytes = self.data_bytes;
        let (due, rest): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| match p.when {
                When::Confirm => confirm,
                When::DataBytes(at) => !confirm && data_bytes >= at,
            });
        self.pending = rest;
        let stops = due.iter().any(|p| p.fault != Fault::NeverConfirm);
        for pending in due {
            self.strike(pending.fault, effects);
        }
        stops
    }

    /// Bytes from one connection: executes what they complete and appends the answers to
    /// `out`.
    pub fn feed(
        &mut self,
        session: &mut SessionState,
        bytes: &[u8],
        out: &mut Vec<u8>,
        effects: &mut Effects,
    ) {
        if std::mem::take(&mut self.drop_next) {
            info!("virtual printer: fault drop strikes on the connection's first data");
            effects.drop_this = true;
            self.lose_job();
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let online = self.online();
            let take = match self.bytes_to_next_trigger() {
                Some(left) if online => usize::try_from(left.max(1))
                    .unwrap_or(usize::MAX)
                    .min(rest.len()),
                _ => rest.len(),
            };
            let (piece, tail) = rest.split_at(take);
            rest = tail;
            let commands = session.tokenizer.feed(piece);
            let realtime = commands
                .iter()
                .filter(|c| matches!(c, Command::RealtimeStatus(_)))
                .count();
            for command in &commands {
                self.execute(session, command, out, effects);
                if effects.drop_this {
                    return;
                }
            }
            if online {
                self.data_bytes += piece.len().saturating_sub(3 * realtime) as u64;
                let _ = self.fire(false, effects);
                if effects.drop_this {
                    return;
                }
            }
        }
    }

    /// Executes one command.
    fn execute(
        &mut self,
        session: &mut SessionState,
        command: &Command,
        out: &mut Vec<u8>,
        effects: &mut Effects,
    ) {
        match command {
            Command::RealtimeStatus(n @ 1..=4) => {
                let reply = self.status().realtime_reply(*n);
                debug!("virtual printer: DLE EOT {n} -> {reply:#04x}");
                out.push(reply);
            }
            Command::RealtimeStatus(n) => {
                debug!("virtual printer: DLE EOT {n} ignored (only 1-4 exist)")
            }
            Command::AutoStatusBack(n) => {
                session.asb = *n != 0;
                debug!(
                    "virtual printer: GS a {n:#04x}: ASB {}",
                    if session.asb { "on" } else { "off" }
                );
                if session.asb {
                    out.extend_from_slice(&self.status().asb());
                }
            }
            Command::TransmitStatus(n) => {
                if let Some(reply) = self.confirm_request(None, effects) {
                    let reply = match n {
                        1 | 49 => Some(reply.paper_sensor_reply()),
                        2 | 50 => Some(0x00),
                        _ => None,
                    };
                    match reply {
                        Some(byte) => {
                            debug!("virtual printer: GS r {n} -> {byte:#04x}");
                            self.status_replies += 1;
                            out.push(byte);
                        }
                        None => debug!("virtual printer: GS r {n} not supported, no answer"),
                    }
                }
            }
            Command::ProcessId(id) => {
                if !self.config.profile.process_id {
                    debug!("virtual printer: GS ( H ignored (the profile has no process ID)");
                    let mut bytes = vec![0x1D, 0x28, 0x48, 0x06, 0x00, 0x30, 0x30];
                    bytes.extend_from_slice(id);
                    self.unknown.push(hex(&bytes));
                } else if self.confirm_request(Some(*id), effects).is_some() {
                    debug!("virtual printer: GS ( H {id:02X?} answered");
                    self.confirmed.push(*id);
                    out.extend_from_slice(&[0x37, 0x22, id[0], id[1], id[2], id[3], 0x00]);
                }
            }
            _ if !self.online() => trace!("virtual printer: offline, {} discarded", class(command)),
            _ => self.print(command, effects),
        }
    }

    /// A `GS r` / `GS ( H` request: fires the faults waiting for it, then says whether it
    /// is answered (with the status to answer from).
    fn confirm_request(
        &mut self,
        id: Option<[u8; 4]>,
        effects: &mut Effects,
    ) -> Option<PrinterStatus> {
        if !self.online() {
            debug!("virtual printer: offline, confirmation request {id:02X?} discarded");
            return None;
        }
        let job_from = self.job_pages_from;
        let stopped = self.fire(true, effects);
        self.job_pages_from = self.pages.len();
        if stopped {
            // The fault struck while the data before the request was still printing: the
            // request would have been answered "when the printing is completed", so the
            // pages that data finished did not come out whole.
            let from = job_from.min(self.pages.len());
            for page in &mut self.pages[from..] {
                if page.complete {
                    info!(
                        "virtual printer: the fault struck before the printing completed: page cut short"
                    );
                    page.complete = false;
                }
            }
        }
        if effects.drop_this || !self.online() {
            return None;
        }
        if self.never_confirm {
            debug!("virtual printer: never-confirm: request {id:02X?} not answered");
            return None;
        }
        Some(self.status())
    }

    /// Prints one command: feeds the paper (the roll may run out here) and lays it out.
    fn print(&mut self, command: &Command, effects: &mut Effects) {
        debug!("virtual printer: {}", class(command));
        let dots = u64::from(self.meter.peek(command));
        let runs_out = self
            .roll_end_dots
            .filter(|end| dots > 0 && self.paper_dots + dots > *end);
        if let Some(end) = runs_out {
            info!(
                "virtual printer: the roll ran out at {:.1} mm",
                dots_to_mm(end)
            );
            self.paper_dots = end.max(self.paper_dots);
            self.roll_end_dots = None;
            self.strike(Fault::PaperOut, effects);
            return;
        }
        self.meter.apply(command);
        self.paper_dots += dots;
        if let Command::Unknown(bytes) = command {
            debug!("virtual printer: unknown command {}", hex(bytes));
        }
        self.builder.apply(command);
        while let Some(mut page) = self.builder.take_page() {
            page.unknown.append(&mut self.unknown);
            self.record(page, true);
        }
    }

    /// Keeps a finished page (and writes its PNG when asked to).
    fn record(&mut self, page: Page, complete: bool) {
        let number = self.pages.len() + 1;
        let png = self
            .config
            .png_dir
            .as_deref()
            .and_then(|dir| write_png(dir, number, &page));
        info!(
            "virtual printer: page {number} {} ({} items){}",
            if complete { "printed" } else { "cut short" },
            page.items.len(),
            png.as_ref()
                .map(|p| format!(", {}", p.display()))
                .unwrap_or_default()
        );
        self.pages.push(VirtualPage {
            page,
            complete,
            png,
        });
    }
}

/// Writes `page-NNNN.png` through a temporary file and a rename; logs and returns `None`
/// when it cannot.
fn write_png(dir: &Path, number: usize, page: &Page) -> Option<PathBuf> {
    let path = dir.join(format!("page-{number:04}.png"));
    let tmp = dir.join(format!(".page-{number:04}.png.tmp"));
    let bytes = poscore_escpos::render::render_png(page);
    let result = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, &bytes))
        .and_then(|()| std::fs::rename(&tmp, &path));
    match result {
        Ok(()) => Some(path),
        Err(err) => {
            warn!(
                "virtual printer: cannot write {}: {err} (check the --png-dir directory)",
                path.display()
            );
            None
        }
    }
}

/// The command's kind, for logs.
fn class(command: &Command) -> &'static str {
    match command {
        Command::Text(_) => "text",
        Command::LineFeed | Command::CarriageReturn => "line feed",
        Command::Initialize => "initialize",
        Command::Justify(_)
        | Command::Emphasis(_)
        | Command::Underline(_)
        | Command::PrintMode(_)
        | Command::CharacterSize(_)
        | Command::LineSpacing(_) => "print mode",
        Command::ChineseMode(_) | Command::CodePage(_) => "character set",
        Command::FeedLines(_) | Command::FeedDots(_) => "feed",
        Command::Raster { .. } => "raster image",
        Command::QrModel(_)
        | Command::QrModuleSize(_)
        | Command::QrErrorLevel(_)
        | Command::QrStore(_)
        | Command::QrPrint => "QR code",
        Command::BarcodeHeight(_)
        | Command::BarcodeWidth(_)
        | Command::BarcodeHri(_)
        | Command::Barcode { .. } => "barcode",
        Command::Cut { .. } => "cut",
        Command::RealtimeStatus(_) | Command::TransmitStatus(_) | Command::AutoStatusBack(_) => {
            "status"
        }
        Command::ProcessId(_) => "process ID",
        Command::Unknown(_) => "unknown command",
    }
}

/// Bytes as spaced hex.
fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A status in words, for logs.
fn describe(status: &PrinterStatus) -> String {
    let mut words = vec![if status.online { "online" } else { "offline" }];
    match status.paper {
        Paper::Ok => {}
        Paper::NearEnd => words.push("paper near end"),
        Paper::Out => words.push("paper out"),
    }
    if status.cover_open {
        words.push("cover open");
    }
    if status.recoverable_error {
        words.push("overheated");
    }
    words.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use poscore_escpos::Profile;

    fn machine(paper_out_after_mm: Option<u32>) -> Machine {
        Machine::new(VirtualPrinterConfig {
            paper_out_after_mm,
            ..VirtualPrinterConfig::default()
        })
    }

    fn feed(m: &mut Machine, s: &mut SessionState, bytes: &[u8]) -> (Vec<u8>, Effects) {
        let mut out = Vec::new();
        let mut effects = Effects::default();
        m.feed(s, bytes, &mut out, &mut effects);
        (out, effects)
    }

    const JOB: &[u8] = b"\x1b@hello\nworld\n\x1bd\x02\x1dV\x00";
    const CONFIRM: &[u8] = b"\x1d(H\x06\x0000ABCD";

    #[test]
    fn a_job_prints_and_is_confirmed() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let (out, effects) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert_eq!(out, b"\x37\x22ABCD\x00");
        assert_eq!(effects, Effects::default());
        assert_eq!(m.pages().len(), 1);
        assert!(m.pages()[0].complete);
        assert_eq!(m.pages()[0].page.text(), "hello\nworld");
        assert_eq!(m.confirmed(), &[*b"ABCD"]);
        // Two lines and two more fed lines: 4 × 30 dots = 15 mm.
        assert_eq!(m.paper_used_mm(), 15.0);
    }

    #[test]
    fn real_time_status_is_answered_in_every_state() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let ask = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04";
        let (ready, _) = feed(&mut m, &mut s, ask);
        let expect = |st: PrinterStatus| (1..=4).map(|n| st.realtime_reply(n)).collect::<Vec<u8>>();
        assert_eq!(ready, expect(PrinterStatus::READY));
        let mut effects = Effects::default();
        m.inject(Trigger::Now, Fault::CoverOpen, &mut effects);
        let (open, _) = feed(&mut m, &mut s, ask);
        assert_eq!(open, expect(m.status()));
        assert!(m.status().cover_open && !m.status().online);
        assert_ne!(open, ready);
    }

    #[test]
    fn offline_discards_data_and_confirmations() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let mut effects = Effects::default();
        m.inject(Trigger::Now, Fault::PaperOut, &mut effects);
        assert_eq!(m.take_changes().len(), 1);
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM, b"\x1dr\x01"].concat());
        assert!(out.is_empty(), "nothing answered while offline: {out:02X?}");
        assert!(m.pages().is_empty());
        m.load_paper();
        assert_eq!(m.take_changes(), vec![PrinterStatus::READY]);
        let (out, _) = feed(&mut m, &mut s, &[JOB, b"\x1dr\x01"].concat());
        assert_eq!(out, vec![PrinterStatus::READY.paper_sensor_reply()]);
        assert_eq!(m.pages().len(), 1);
    }

    #[test]
    fn a_fault_mid_data_cuts_the_page_short() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let mut effects = Effects::default();
        // "\x1b@hello\n" is 8 bytes: the fault strikes right after the first line.
        m.inject(Trigger::AfterJobBytes(8), Fault::CoverOpen, &mut effects);
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert!(out.is_empty());
        assert_eq!(m.pages().len(), 1);
        assert!(!m.pages()[0].complete);
        assert_eq!(m.pages()[0].page.text(), "hello");
        assert!(m.confirmed().is_empty());
        m.close_cover();
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert_eq!(out, b"\x37\x22ABCD\x00");
        assert!(m.pages()[1].complete);
        assert_eq!(m.pages()[1].page.text(), "hello\nworld");
    }

    #[test]
    fn real_time_requests_do_not_count_as_job_bytes() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let mut effects = Effects::default();
        m.inject(Trigger::AfterJobBytes(8), Fault::PaperOut, &mut effects);
        feed(&mut m, &mut s, b"\x10\x04\x01\x10\x04\x04");
        assert!(m.status().online);
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert!(out.is_empty());
        assert_eq!(m.status().paper, Paper::Out);
        assert_eq!(m.pages()[0].page.text(), "hello");
    }

    #[test]
    fn before_confirm_strikes_after_the_data() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let mut effects = Effects::default();
        m.inject(
            Trigger::BeforeConfirm,
            Fault::Overheat(Duration::from_secs(1)),
            &mut effects,
        );
        let (out, effects) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert!(out.is_empty());
        assert_eq!(effects.timers, vec![(Duration::from_secs(1), 1)]);
        assert!(
            !m.pages()[0].complete,
            "the fault struck before the printing completed"
        );
        assert!(m.status().recoverable_error && !m.status().online);
        m.end_overheat(1);
        assert!(m.status().online);
        let (out, _) = feed(&mut m, &mut s, CONFIRM);
        assert_eq!(out, b"\x37\x22ABCD\x00");
    }

    #[test]
    fn before_confirm_loses_only_the_job_it_would_confirm() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert_eq!(out.len(), 7);
        let mut effects = Effects::default();
        m.inject(Trigger::BeforeConfirm, Fault::CoverOpen, &mut effects);
        let (out, _) = feed(&mut m, &mut s, &[JOB, JOB, b"\x1dr\x01"].concat());
        assert!(out.is_empty());
        let complete: Vec<bool> = m.pages().iter().map(|p| p.complete).collect();
        assert_eq!(complete, vec![true, false, false]);
        // Never-confirm before the confirmation leaves the page printed.
        m.clear();
        m.inject(Trigger::BeforeConfirm, Fault::NeverConfirm, &mut effects);
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert!(out.is_empty());
        assert!(m.pages()[3].complete);
    }

    #[test]
    fn a_stale_overheat_timer_does_not_end_a_newer_overheat() {
        let mut m = machine(None);
        let mut effects = Effects::default();
        m.inject(
            Trigger::Now,
            Fault::Overheat(Duration::from_secs(1)),
            &mut effects,
        );
        m.clear();
        m.inject(
            Trigger::Now,
            Fault::Overheat(Duration::from_secs(5)),
            &mut effects,
        );
        m.end_overheat(1);
        assert!(m.status().recoverable_error);
        m.end_overheat(2);
        assert!(!m.status().recoverable_error);
    }

    #[test]
    fn never_confirm_prints_but_does_not_answer() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let mut effects = Effects::default();
        m.inject(Trigger::Now, Fault::NeverConfirm, &mut effects);
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM, b"\x1dr\x01"].concat());
        assert!(out.is_empty());
        assert!(m.pages()[0].complete);
        assert!(m.status().online);
        m.clear();
        let (out, _) = feed(&mut m, &mut s, b"\x1dr\x01");
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn drop_strikes_mid_data() {
        let mut m = machine(None);
        let mut s = SessionState::default();
        let mut effects = Effects::default();
        m.inject(
            Trigger::AfterJobBytes(8),
            Fault::DropConnection,
            &mut effects,
        );
        let (out, effects) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert!(out.is_empty());
        assert!(effects.drop_this);
        assert!(!m.pages()[0].complete);
        assert!(m.status().online, "a dropped link is no printer fault");
    }

    #[test]
    fn drop_now_closes_open_connections_or_the_next() {
        let mut m = machine(None);
        let mut effects = Effects::default();
        m.open_session();
        m.inject(Trigger::Now, Fault::DropConnection, &mut effects);
        assert!(effects.drop_all);
        m.close_session();
        let mut effects = Effects::default();
        m.inject(Trigger::Now, Fault::DropConnection, &mut effects);
        assert!(!effects.drop_all);
        let mut s = SessionState::default();
        let (_, effects) = feed(&mut m, &mut s, b"\x10\x04\x01");
        assert!(effects.drop_this);
        let (out, effects) = feed(&mut m, &mut s, b"\x10\x04\x01");
        assert!(!effects.drop_this, "only the next connection");
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn the_roll_runs_out_mid_job_and_a_new_roll_prints() {
        // 10 mm = 80 dots: two lines (60 dots) fit, the third does not.
        let mut m = machine(Some(10));
        let mut s = SessionState::default();
        let job = b"\x1b@one\ntwo\nthree\nfour\n\x1dV\x00";
        let (out, _) = feed(&mut m, &mut s, &[&job[..], CONFIRM].concat());
        assert!(out.is_empty());
        assert_eq!(m.status().paper, Paper::Out);
        assert_eq!(m.paper_used_mm(), 10.0);
        assert!(!m.pages()[0].complete);
        assert_eq!(m.pages()[0].page.text(), "one\ntwo");
        m.load_paper();
        let (out, _) = feed(&mut m, &mut s, &[&job[..], CONFIRM].concat());
        assert_eq!(out, b"\x37\x22ABCD\x00");
        assert!(m.pages()[1].complete);
        assert_eq!(m.paper_used_mm(), 25.0);
    }

    #[test]
    fn asb_on_enable_and_unsupported_process_id_is_listed() {
        let mut m = Machine::new(VirtualPrinterConfig {
            profile: Profile {
                process_id: false,
                ..Profile::mm58()
            },
            ..VirtualPrinterConfig::default()
        });
        let mut s = SessionState::default();
        let (out, _) = feed(&mut m, &mut s, b"\x1da\xff");
        assert_eq!(out, PrinterStatus::READY.asb().to_vec());
        assert!(s.asb);
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert!(out.is_empty());
        let (out, _) = feed(&mut m, &mut s, &[JOB, CONFIRM].concat());
        assert!(
            out.is_empty(),
            "GS ( H is never answered without process-ID support"
        );
        assert!(
            m.pages()[1]
                .page
                .unknown
                .iter()
                .any(|u| u.starts_with("1D 28 48")),
            "{:?}",
            m.pages()[1].page.unknown
        );
    }
}
