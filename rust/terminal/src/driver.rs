//! The driver: one tokio task that owns the engine and carries out its outputs.
//!
//! Commands come in through a [`TerminalHandle`]; host requests and print jobs run as their
//! own tasks and post their results back; a periodic tick lets due retries go out (the
//! engine decides what is due, with backoff). The engine allows one host exchange at a time
//! and sends pending reversals first, so financial messages are serialized here without
//! any lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use poscore::ids::RequestId;
use poscore::journal::Journal;
use poscore::journal::backup as journal_backup;
use poscore::print::{Condition, PrintOutcome};
use poscore::{
    Bilingual, Command, CommandError, CommandOutcome, Engine, Event, Input, Output, Ticket,
    Timestamp,
};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::link::{HostLink, LinkError, Printer};

/// Where the driver reads the time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp::from_millis(millis)
    }
}

/// The driver's settings.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// How long to wait for the host's answer before the transaction becomes `unknown`.
    pub host_timeout: Duration,
    /// How often due retries are looked for (and, while printing is held for a printer
    /// fault, how often the printer is asked whether it is ready again).
    pub tick_interval: Duration,
    /// Bounds every print call, whatever the printer does; past it the slip counts as not
    /// confirmed (it may have printed, so it prints again marked REPRINT).
    pub print_watchdog: Duration,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            host_timeout: Duration::from_secs(30),
            tick_interval: Duration::from_millis(500),
            print_watchdog: Duration::from_secs(90),
        }
    }
}

/// Why a command got no outcome.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    /// A rule refused it; nothing was sent.
    #[error(transparent)]
    Refused(#[from] CommandError),
    /// The terminal was shut down on purpose while the command waited, or before it came.
    #[error("the terminal was shut down; open it again")]
    ShutDown,
    /// A journal error stopped the terminal.
    #[error("the terminal stopped: {reason}")]
    Stopped {
        /// Why, for the operator.
        reason: String,
        /// The Chinese text.
        reason_zh: String,
    },
}

impl TerminalError {
    fn stopped_by(error: &dyn Bilingual) -> TerminalError {
        TerminalError::Stopped {
            reason: error.en(),
            reason_zh: error.zh(),
        }
    }

    fn shut_down() -> TerminalError {
        TerminalError::ShutDown
    }
}

impl Bilingual for TerminalError {
    fn code(&self) -> &'static str {
        match self {
            TerminalError::Refused(e) => e.code(),
            TerminalError::ShutDown => "TERMINAL_SHUT_DOWN",
            TerminalError::Stopped { .. } => "TERMINAL_STOPPED",
        }
    }
    fn zh(&self) -> String {
        match self {
            TerminalError::Refused(e) => e.zh(),
            TerminalError::ShutDown => "终端已关闭：请重新打开".into(),
            TerminalError::Stopped { reason_zh, .. } => format!("终端已停止：{reason_zh}"),
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

type Reply = oneshot::Sender<Result<CommandOutcome, TerminalError>>;
type JournalRead = Box<dyn FnOnce(&Journal) + Send>;

enum Msg {
    Submit {
        request_id: RequestId,
        command: Command,
        reply: Reply,
    },
    WhenIdle(oneshot::Sender<()>),
    Read(JournalRead),
    Shutdown,
}

/// A cheap, cloneable handle for submitting commands and watching events.
#[derive(Clone)]
pub struct TerminalHandle {
    tx: mpsc::Sender<Msg>,
    events: broadcast::Sender<Event>,
}

impl TerminalHandle {
    /// Submits a command and waits for its outcome. For transactions, the outcome comes when
    /// the host answered (or the answer was lost): `approved`, `declined`, `unknown`.
    pub async fn submit(
        &self,
        request_id: RequestId,
        command: Command,
    ) -> Result<CommandOutcome, TerminalError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Msg::Submit {
                request_id,
                command,
                reply,
            })
            .await
            .map_err(|_| TerminalError::shut_down())?;
        answer.await.map_err(|_| TerminalError::shut_down())?
    }

    /// The stream of UI events.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Waits until nothing is in flight, queued or printing (work scheduled for later, such
    /// as a reversal retry after a backoff, may remain in the journal).
    pub async fn idle(&self) -> Result<(), TerminalError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::WhenIdle(tx))
            .await
            .map_err(|_| TerminalError::shut_down())?;
        rx.await.map_err(|_| TerminalError::shut_down())
    }

    /// Reads the journal on the driver's task (list, show, export while running).
    pub async fn read<R: Send + 'static>(
        &self,
        read: impl FnOnce(&Journal) -> R + Send + 'static,
    ) -> Result<R, TerminalError> {
        let (tx, rx) = oneshot::channel();
        let job: JournalRead = Box::new(move |journal| {
            let _ = tx.send(read(journal));
        });
        self.tx
            .send(Msg::Read(job))
            .await
            .map_err(|_| TerminalError::shut_down())?;
        rx.await.map_err(|_| TerminalError::shut_down())
    }
}

/// A running terminal: the driver task and its handle.
pub struct Terminal {
    handle: TerminalHandle,
    task: JoinHandle<Engine>,
    /// Subscribed before the driver started, so it holds every event from the first tick.
    first_events: Option<broadcast::Receiver<Event>>,
}

impl Terminal {
    /// Starts the driver on the current tokio runtime with the system clock.
    pub fn start(
        engine: Engine,
        host: Arc<dyn HostLink>,
        printer: Arc<dyn Printer>,
        config: DriverConfig,
    ) -> Terminal {
        Terminal::start_with_clock(engine, host, printer, config, Arc::new(SystemClock))
    }

    /// Starts the driver with a given clock.
    pub fn start_with_clock(
        engine: Engine,
        host: Arc<dyn HostLink>,
        printer: Arc<dyn Printer>,
        config: DriverConfig,
        clock: Arc<dyn Clock>,
    ) -> Terminal {
        let (tx, rx) = mpsc::channel(64);
        let (events, first_events) = broadcast::channel(1024);
        let (results_tx, results_rx) = mpsc::unbounded_channel();
        let engine_held = matches!(engine.held_for_fault(), Ok(Some(_)));
        let actor = Actor {
            engine,
            host,
            printer,
            config,
            clock,
            results_tx,
            events: events.clone(),
            pending: HashMap::new(),
            idle_waiters: Vec::new(),
            next_ticket: 1,
            stopped: None,
            // A journal may open with slips already held for a fault (held before a restart).
            held_for_fault: engine_held,
            probing: Arc::new(AtomicBool::new(false)),
            auto_backup: None,
            settled: false,
        };
        let task = tokio::spawn(actor.run(rx, results_rx));
        Terminal {
            handle: TerminalHandle { tx, events },
            task,
            first_events: Some(first_events),
        }
    }

    /// The event stream from the very start (the recovery tick included), once; later
    /// subscribers use [`TerminalHandle::events`], which starts at the moment of the call.
    pub fn take_first_events(&mut self) -> Option<broadcast::Receiver<Event>> {
        self.first_events.take()
    }

    /// A handle for commands and events.
    pub fn handle(&self) -> TerminalHandle {
        self.handle.clone()
    }

    /// Stops the driver and gives the engine back. Exchanges still in flight are abandoned:
    /// the journal has them as `sending`, and the next open makes them `unknown` and
    /// reverses them.
    /// Commands still waiting get [`TerminalError::Stopped`]; other handles stop working.
    pub async fn shutdown(self) -> Engine {
        let Terminal { handle, task, .. } = self;
        // If the task already ended, the send fails and the join below returns at once.
        let _ = handle.tx.send(Msg::Shutdown).await;
        task.await.expect("the driver task does not panic")
    }
}

struct Actor {
    engine: Engine,
    host: Arc<dyn HostLink>,
    printer: Arc<dyn Printer>,
    config: DriverConfig,
    clock: Arc<dyn Clock>,
    results_tx: mpsc::UnboundedSender<Input>,
    events: broadcast::Sender<Event>,
    pending: HashMap<Ticket, Reply>,
    idle_waiters: Vec<oneshot::Sender<()>>,
    next_ticket: u64,
    /// Set when a journal error stopped the engine.
    stopped: Option<TerminalError>,
    /// Printing is held for a printer fault: the printer is asked each tick whether it is
    /// ready again.
    held_for_fault: bool,
    /// A readiness probe is out.
    probing: Arc<AtomicBool>,
    /// Scheduled backups, when `Config.backup.dir` is set.
    auto_backup: Option<AutoBackup>,
    /// A settlement finished in the last input: back up after it.
    settled: bool,
}

/// The schedule of automatic backups (`Config.backup`).
struct AutoBackup {
    dir: std::path::PathBuf,
    every_ms: i64,
    keep: u32,
    /// When the newest backup was taken (read from the directory at start).
    last: Option<Timestamp>,
    /// A rotation is running on a blocking thread.
    rotating: Arc<AtomicBool>,
}

impl Actor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Msg>,
        mut results: mpsc::UnboundedReceiver<Input>,
    ) -> Engine {
        self.auto_backup = self.engine.config().backup.dir.clone().map(|dir| {
            let last = journal_backup::scheduled_backups(&dir)
                .ok()
                .and_then(|found| found.first().map(|(_, at)| *at));
            AutoBackup {
                dir,
                every_ms: i64::try_from(self.engine.config().backup.every_ms).unwrap_or(i64::MAX),
                keep: self.engine.config().backup.keep,
                last,
                rotating: Arc::new(AtomicBool::new(false)),
            }
        });
        self.feed(Input::Tick);
        let mut tick = tokio::time::interval(self.config.tick_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(Msg::Shutdown) | None => break,
                    Some(msg) => self.on_msg(msg),
                },
                Some(input) = results.recv() => self.feed(input),
                _ = tick.tick() => {
                    self.probe_printer();
                    self.feed(Input::Tick);
                    self.backup_if_due(false);
                }
            }
            self.wake_idle_waiters();
        }
        self.engine
    }

    fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Submit {
                request_id,
                command,
                reply,
            } => {
                if let Some(stopped) = &self.stopped {
                    let _ = reply.send(Err(TerminalError::stopped_by(stopped)));
                    return;
                }
                let ticket = Ticket(self.next_ticket);
                self.next_ticket += 1;
                self.pending.insert(ticket, reply);
                self.feed(Input::Command {
                    ticket,
                    request_id,
                    command,
                });
            }
            Msg::WhenIdle(waiter) => self.idle_waiters.push(waiter),
            Msg::Read(read) => read(self.engine.journal()),
            Msg::Shutdown => {}
        }
    }

    /// While printing is held for a fault, asks the printer (once at a time) whether it can
    /// print again; when it can, the engine releases the held slips.
    fn probe_printer(&mut self) {
        if !self.held_for_fault || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let printer = Arc::clone(&self.printer);
        let results = self.results_tx.clone();
        let probing = Arc::clone(&self.probing);
        let limit = self.config.tick_interval.max(Duration::from_secs(5));
        tokio::spawn(async move {
            if let Ok(condition) = tokio::time::timeout(limit, printer.condition()).await {
                if condition.can_print() {
                    let _ = results.send(Input::PrinterReady);
                }
            }
            probing.store(false, Ordering::Release);
        });
    }

    /// Takes a scheduled backup when one is due (or `now` after a settlement), between two
    /// engine steps: the copy goes through the journal's own connection, so it is one
    /// consistent snapshot while the terminal runs. The rotation of old backups runs on a
    /// blocking thread. A failure is logged and tried again at the next period; it never
    /// stops the terminal.
    fn backup_if_due(&mut self, now: bool) {
        if self.stopped.is_some() {
            return;
        }
        let Some(auto) = self.auto_backup.as_mut() else {
            return;
        };
        let at = self.clock.now();
        let due = now
            || auto.last.is_none_or(|last| {
                at.as_millis().saturating_sub(last.as_millis()) >= auto.every_ms
            });
        // One backup a second at most: the file name has seconds.
        if !due
            || auto.last.is_some_and(|last| {
                last.as_millis().div_euclid(1000) == at.as_millis().div_euclid(1000)
            })
        {
            return;
        }
        auto.last = Some(at);
        let taken = std::fs::create_dir_all(&auto.dir)
            .map_err(|e| format!("creating {}: {e}", auto.dir.display()))
            .and_then(|()| {
                journal_backup::backup(
                    self.engine.journal(),
                    &auto.dir.join(journal_backup::scheduled_name(at)),
                )
                .map_err(|e| e.to_string())
            });
        match taken {
            Ok(info) => {
                log::info!(
                    "journal backed up to {} ({} bytes, {} transactions)",
                    info.path.display(),
                    info.bytes,
                    info.transactions
                );
                if !auto.rotating.swap(true, Ordering::AcqRel) {
                    let (dir, keep, rotating) =
                        (auto.dir.clone(), auto.keep, Arc::clone(&auto.rotating));
                    tokio::task::spawn_blocking(move || {
                        if let Err(e) = journal_backup::rotate(&dir, keep) {
                            log::warn!("rotating the journal backups failed: {e}");
                        }
                        rotating.store(false, Ordering::Release);
                    });
                }
            }
            Err(e) => log::warn!(
                "the scheduled journal backup failed: {e}; it is tried again at the next period"
            ),
        }
    }

    fn wake_idle_waiters(&mut self) {
        if !self.idle_waiters.is_empty() && (self.engine.is_idle() || self.stopped.is_some()) {
            for waiter in self.idle_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    /// Hands one input to the engine and carries out what it asks.
    fn feed(&mut self, input: Input) {
        if self.stopped.is_some() {
            return;
        }
        match self.engine.handle(self.clock.now(), input) {
            Ok(outputs) => {
                outputs
                    .into_iter()
                    .for_each(|output| self.carry_out(output));
                if std::mem::take(&mut self.settled) {
                    self.backup_if_due(true);
                }
            }
            Err(error) => {
                log::error!("terminal stopped: {error}");
                for (_, reply) in self.pending.drain() {
                    let _ = reply.send(Err(TerminalError::stopped_by(&error)));
                }
                self.stopped = Some(TerminalError::stopped_by(&error));
            }
        }
    }

    fn carry_out(&mut self, output: Output) {
        match output {
            Output::Send { exchange, request } => {
                let host = Arc::clone(&self.host);
                let results = self.results_tx.clone();
                let timeout = self.config.host_timeout;
                tokio::spawn(async move {
                    let input = match tokio::time::timeout(timeout, host.exchange(&request)).await {
                        Ok(Ok(reply)) => Input::HostReply { exchange, reply },
                        Ok(Err(LinkError::NotSent(why))) => Input::LinkFailed { exchange, why },
                        Ok(Err(LinkError::NoAnswer(why))) => {
                            log::warn!("no answer to {}: {why}", request.describe());
                            Input::HostTimeout { exchange }
                        }
                        Err(_) => {
                            log::warn!("no answer to {} within {timeout:?}", request.describe());
                            Input::HostTimeout { exchange }
                        }
                    };
                    let _ = results.send(input);
                });
            }
            Output::Print(job) => {
                let printer = Arc::clone(&self.printer);
                let results = self.results_tx.clone();
                let watchdog = self.config.print_watchdog;
                tokio::spawn(async move {
                    let outcome = within_watchdog(watchdog, printer.print(&job)).await;
                    let _ = results.send(Input::PrintResult {
                        job_id: job.job_id,
                        outcome,
                    });
                });
            }
            Output::PrintReport(report) => {
                let printer = Arc::clone(&self.printer);
                let results = self.results_tx.clone();
                let watchdog = self.config.print_watchdog;
                tokio::spawn(async move {
                    let outcome = within_watchdog(watchdog, printer.print_report(&report)).await;
                    let _ = results.send(Input::ReportResult {
                        report_id: report.report_id,
                        outcome,
                    });
                });
            }
            Output::Done(done) => {
                if matches!(done.outcome, Ok(CommandOutcome::Settled(_))) {
                    self.settled = true;
                }
                if let Some(reply) = self.pending.remove(&done.ticket) {
                    let _ = reply.send(done.outcome.map_err(TerminalError::Refused));
                }
            }
            Output::Event(event) => {
                match &event {
                    Event::PrintingHeld { reason, .. } if reason != poscore::journal::TEAR_OFF => {
                        self.held_for_fault = true
                    }
                    Event::PrintingResumed => self.held_for_fault = false,
                    _ => {}
                }
                let _ = self.events.send(event);
            }
        }
    }
}

/// The printer's answer within `watchdog`; past it, a failure that may have printed (the
/// slip prints again marked REPRINT).
async fn within_watchdog(
    watchdog: Duration,
    printing: impl std::future::Future<Output = PrintOutcome>,
) -> PrintOutcome {
    match tokio::time::timeout(watchdog, printing).await {
        Ok(outcome) => outcome,
        Err(_) => PrintOutcome::Failed {
            condition: Condition::CommunicationError,
            detail: format!(
                "打印机 {} 秒无应答 / the printer did not answer within {} s",
                watchdog.as_secs(),
                watchdog.as_secs()
            ),
            may_have_printed: true,
        },
    }
}

#[cfg(test)]
mod auto_backup_tests {
    use std::sync::atomic::AtomicI64;

    use poscore::card::{CardInput, PanHashKey};
    use poscore::config::BackupConfig;
    use poscore::money::{Currency, Money};

    use super::*;
    use crate::{MemoryPrinter, SimHost};

    struct ManualClock(AtomicI64);

    impl Clock for ManualClock {
        fn now(&self) -> Timestamp {
            Timestamp::from_millis(self.0.load(Ordering::SeqCst))
        }
    }

    async fn backups_become(dir: &std::path::Path, n: usize) -> Vec<std::path::PathBuf> {
        for _ in 0..500 {
            let found = journal_backup::scheduled_backups(dir).unwrap();
            if found.len() == n {
                return found.into_iter().map(|(p, _)| p).collect();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "expected {n} backups in {}, found {:?}",
            dir.display(),
            journal_backup::scheduled_backups(dir).unwrap()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scheduled_backups_run_on_ticks_and_after_settlement_and_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let backups = dir.path().join("backups");
        let start = Timestamp::from_civil(2026, 11, 26, 9, 0, 0);
        let clock = Arc::new(ManualClock(AtomicI64::new(start.as_millis())));
        let config = poscore::Config {
            backup: BackupConfig {
                dir: Some(backups.clone()),
                every_ms: 60_000,
                keep: 2,
            },
            ..poscore::Config::default()
        };
        let (engine, _) = Engine::open(
            &dir.path().join("journal.db"),
            config,
            PanHashKey::new(vec![7; 32]).unwrap(),
            start,
        )
        .unwrap();
        let driver = DriverConfig {
            tick_interval: Duration::from_millis(10),
            ..DriverConfig::default()
        };
        let terminal = Terminal::start_with_clock(
            engine,
            Arc::new(SimHost::new()),
            Arc::new(MemoryPrinter::new()),
            driver,
            Arc::clone(&clock) as Arc<dyn Clock>,
        );
        let handle = terminal.handle();
        // None in the directory yet: the first tick takes one.
        let first = backups_become(&backups, 1).await;
        assert!(
            first[0].ends_with("poscore-20261126-090000.db"),
            "{first:?}"
        );

        // Not due again within the period.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            journal_backup::scheduled_backups(&backups).unwrap().len(),
            1
        );

        clock.0.fetch_add(61_000, Ordering::SeqCst);
        backups_become(&backups, 2).await;

        // A transaction, then a settlement: a backup right after it, whatever the period.
        let card = CardInput::parse("6222021234567890128", "3012", clock.now()).unwrap();
        let amount = Money::parse("10.00", Currency::CNY).unwrap();
        handle
            .submit(
                RequestId::parse("r1").unwrap(),
                Command::PreAuth { amount, card },
            )
            .await
            .unwrap();
        clock.0.fetch_add(5_000, Ordering::SeqCst);
        let settled = handle
            .submit(RequestId::parse("s1").unwrap(), Command::Settle)
            .await
            .unwrap();
        assert!(matches!(settled, CommandOutcome::Settled(_)));
        // Rotation keeps the newest two: the one after the settlement is the newest.
        let mut kept = Vec::new();
        for _ in 0..500 {
            kept = journal_backup::scheduled_backups(&backups).unwrap();
            if kept.len() == 2 && kept[0].0.ends_with("poscore-20261126-090106.db") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(
            kept[0].0.ends_with("poscore-20261126-090106.db"),
            "{kept:?}"
        );
        assert!(
            kept[1].0.ends_with("poscore-20261126-090101.db"),
            "{kept:?}"
        );
        let newest = journal_backup::verify_backup(&kept[0].0).unwrap();
        assert_eq!(newest.transactions, 1);
        assert_eq!(
            newest.batch, 2,
            "the backup after the settlement has the next batch open"
        );
        terminal.shutdown().await;
    }
}
