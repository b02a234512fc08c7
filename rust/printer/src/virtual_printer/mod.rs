//! A virtual Epson-class ESC/POS printer, over TCP or in process, that renders each page to
//! a PNG and injects faults on command or on a schedule.
//!
//! - [`fault`]: the faults ([`Fault`]) and when they strike ([`Trigger`]), with their text
//!   forms (`paper-out`, `overheat=5s`, `after-bytes=200`, …);
//! - `state`: the state machine (status, faults, the paper roll, pages, answers);
//! - `paper`: how far each command feeds the paper (8 dots per mm);
//! - `session`: one connection (read, answer, ASB on status changes, drop);
//! - `link`: a slow serial link at a given baud rate (10 bits per byte);
//! - [`control`]: the control line protocol (`inject`, `clear`, `status`, …).
//!
//! Behaviour:
//! - `DLE EOT 1`–`4` is answered at once, at any time (even offline, even mid-job);
//! - `GS a n` (n ≠ 0) turns Automatic Status Back on for that connection: one ASB at once,
//!   then one on every status change, whatever caused it (data, [`VirtualPrinter::inject`],
//!   [`VirtualPrinter::clear`], the control port, an overheat ending);
//! - commands are "printed" as they are processed (no mechanical delay; only the baud rate
//!   slows things down), so `GS r 1` and `GS ( H` are answered after the data before them,
//!   and only when online; `GS ( H` only when the profile has `process_id`;
//! - print data goes through the escpos `PageBuilder`; a cut finishes a page;
//! - a fault mid-job takes the printer offline and keeps what printed so far as a page with
//!   `complete = false`; while offline everything but `DLE EOT` and `GS a` is discarded;
//! - a fault injected [`Trigger::BeforeConfirm`] strikes at the next `GS r` / `GS ( H`,
//!   while the data before it is "still printing": the pages that data finished since the
//!   previous request (or fault, or connection) are marked `complete = false` too (the
//!   request is answered only when printing completes, and it did not);
//! - pages are not finished by a connection closing: only a cut (or
//!   [`VirtualPrinter::finish_page`]) finishes one.
//!
//! Connections are served concurrently; they share the printer (its status, its page).

pub mod control;
pub mod fault;
mod link;
mod paper;
mod session;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use log::{debug, info, warn};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

pub use fault::{Fault, ParseFaultError, Trigger};
pub use poscore_escpos::{Page, Paper, PrinterStatus, Profile};

use state::{Effects, Machine};

/// How the virtual printer is set up.
#[derive(Debug, Clone)]
pub struct VirtualPrinterConfig {
    /// Paper width and power-on encoding; `process_id = false` makes `GS ( H` ignored
    /// (listed as unknown on the page), as on printers without it.
    pub profile: Profile,
    /// Each finished page is written here as `page-0001.png`, `page-0002.png`, … (pages cut
    /// short by a fault too, in the same sequence). Created when missing.
    pub png_dir: Option<PathBuf>,
    /// A slow link: bytes in both directions take 10 bits each at this rate.
    pub baud: Option<u32>,
    /// The roll ends after this many mm of paper fed (8 dots/mm): the paper goes out
    /// mid-job. It happens once: [`VirtualPrinter::load_paper`] loads a roll that does not
    /// end (see [`VirtualPrinter::set_paper_out_after_mm`] to schedule another end).
    pub paper_out_after_mm: Option<u32>,
}

impl Default for VirtualPrinterConfig {
    /// 58 mm, GB18030, `GS ( H` supported ([`Profile::mm58`]), no PNGs, a fast link, an
    /// endless roll.
    fn default() -> Self {
        VirtualPrinterConfig {
            profile: Profile::mm58(),
            png_dir: None,
            baud: None,
            paper_out_after_mm: None,
        }
    }
}

/// A page that came out of the printer.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualPage {
    /// What is on it.
    pub page: Page,
    /// `false`: cut short by a fault.
    pub complete: bool,
    /// Its PNG, when a PNG directory is set (and the file could be written).
    pub png: Option<PathBuf>,
}

/// What connections hear about, besides their own bytes.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// The status changed to this (sent as ASB where enabled).
    Status(PrinterStatus),
    /// Close every open connection.
    Drop,
}

/// The shared printer.
#[derive(Debug)]
pub(crate) struct Inner {
    machine: Mutex<Machine>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) baud: Option<u32>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Machine> {
        // A panic while holding the lock leaves a consistent enough machine for a simulator.
        self.machine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the machine, then does what it asked for outside the lock (broadcast
    /// status changes, drop connections, start overheat timers). Returns `f`'s result and
    /// whether the calling connection must be closed.
    pub(crate) fn with<R>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Machine, &mut Effects) -> R,
    ) -> (R, bool) {
        let mut effects = Effects::default();
        let (result, changes) = {
            let mut machine = self.lock();
            let result = f(&mut machine, &mut effects);
            (result, machine.take_changes())
        };
        for status in changes {
            // No receiver (no connection open) is fine.
            let _ = self.events.send(Event::Status(status));
        }
        if effects.drop_all {
            let _ = self.events.send(Event::Drop);
        }
        for (duration, which) in effects.timers {
            start_overheat_timer(Arc::downgrade(self), duration, which);
        }
        (result, effects.drop_this)
    }
}

/// Ends overheat number `which` after `duration` (on its own thread: it works with or
/// without a tokio runtime, and from any caller).
fn start_overheat_timer(inner: Weak<Inner>, duration: Duration, which: u64) {
    let spawned = std::thread::Builder::new()
        .name("vprinter-overheat".into())
        .spawn(move || {
            std::thread::sleep(duration);
            if let Some(inner) = inner.upgrade() {
                inner.with(|machine, _| machine.end_overheat(which));
            }
        });
    if let Err(err) = spawned {
        warn!(
            "virtual printer: cannot start the overheat timer ({err}); clear() ends the overheat"
        );
    }
}

/// A virtual Epson-class printer. Clones share the same printer.
#[derive(Debug, Clone)]
pub struct VirtualPrinter {
    inner: Arc<Inner>,
}

impl VirtualPrinter {
    /// A printer just powered on: ready, paper loaded, cover closed.
    pub fn new(config: VirtualPrinterConfig) -> VirtualPrinter {
        let (events, _) = broadcast::channel(256);
        let baud = config.baud;
        VirtualPrinter {
            inner: Arc::new(Inner {
                machine: Mutex::new(Machine::new(config)),
                events,
                baud,
            }),
        }
    }

    /// Listens on `addr` (port 0 picks one) and serves every connection in the background;
    /// returns the bound address.
    pub async fn listen(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        info!("virtual printer: listening on {bound}");
        let inner = self.inner.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        debug!("virtual printer: connection from {peer}");
                        if let Err(err) = stream.set_nodelay(true) {
                            debug!("virtual printer: cannot set TCP_NODELAY: {err}");
                        }
                        tokio::spawn(session::run(inner.clone(), stream));
                    }
                    Err(err) => {
                        warn!("virtual printer: accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(bound)
    }

    /// An in-process link to the printer (the demo, tests). Must be called within a tokio
    /// runtime (the printer's side runs as a task).
    pub fn connect(&self) -> tokio::io::DuplexStream {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        tokio::spawn(session::run(self.inner.clone(), theirs));
        ours
    }

    /// Puts the printer into `fault` when `trigger` says.
    pub fn inject(&self, trigger: Trigger, fault: Fault) {
        self.inner
            .with(|machine, effects| machine.inject(trigger, fault, effects));
    }

    /// Paper loaded, cover closed, overheat over, never-confirm off, pending injections
    /// dropped.
    pub fn clear(&self) {
        self.inner.with(|machine, _| machine.clear());
    }

    /// Loads a new roll (clears paper-out).
    pub fn load_paper(&self) {
        self.inner.with(|machine, _| machine.load_paper());
    }

    /// Closes the cover.
    pub fn close_cover(&self) {
        self.inner.with(|machine, _| machine.close_cover());
    }

    /// The current status.
    pub fn status(&self) -> PrinterStatus {
        self.inner.lock().status()
    }

    /// Finished pages, oldest first.
    pub fn pages(&self) -> Vec<VirtualPage> {
        self.inner.lock().pages().to_vec()
    }

    /// Process IDs answered (`GS ( H`), in order.
    pub fn confirmed(&self) -> Vec<[u8; 4]> {
        self.inner.lock().confirmed().to_vec()
    }

    /// How many `GS r` requests were answered.
    pub fn status_replies(&self) -> u64 {
        self.inner.lock().status_replies()
    }

    /// Paper fed since power-on, in mm (8 dots per mm).
    pub fn paper_used_mm(&self) -> f64 {
        self.inner.lock().paper_used_mm()
    }

    /// Schedules the end of the roll this many mm from now (`None`: an endless roll).
    pub fn set_paper_out_after_mm(&self, mm: Option<u32>) {
        self.inner
            .with(|machine, _| machine.set_paper_out_after_mm(mm));
    }

    /// Finishes the page in progress without a cut (for streams that never cut, such as a
    /// peer that just prints and closes); returns it when something was on it.
    pub fn finish_page(&self) -> Option<VirtualPage> {
        self.inner.with(|machine, _| machine.finish_page()).0
    }

    /// Serves the control line protocol ([`control`]) on `addr` in the background; returns
    /// the bound address.
    pub async fn serve_control(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        control::serve(self.clone(), addr).await
    }
}
