//! The durable print queue on the whole path: a pre-auth approved by the simulated host on a
//! real engine and journal file, its slips rendered by the engine, printed by the terminal's
//! driver through `SlipPrinter` → `EscPosPrinter` → TCP → the virtual printer.
//!
//! The matrix: every printer fault (paper out, cover open, a short overheat, a dropped link,
//! a printer that never confirms) at every point of a job (before it, mid-data, after the
//! data before the confirmation), on each copy (the merchant copy, printed first, and the
//! cardholder copy, second). In each cell the fault strikes that copy; the test checks the
//! journal holds the copy (paper, cover) or retries it (overheat, link, no confirmation) and
//! that the journal's event log names the fault; then it clears the fault (the driver's
//! probe resumes held copies by itself), waits until the queue is done and checks, from the
//! pages that really came out of the printer:
//!
//! - each copy is printed exactly once as an original, or, when the first try's outcome
//!   was unknowable (no confirmation, the link lost after the data), at most once as an
//!   original plus reprint-marked copies, and at least once in all;
//! - the cardholder copy never goes to the printer before the merchant copy is done;
//! - no copy ends unprinted; the printer confirmed exactly the jobs the journal has printed.
//!
//! Every cell has its own printer and journal; the cells of one fault run concurrently.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use poscore::card::{CardInput, PanHashKey};
use poscore::ids::RequestId;
use poscore::journal::LogEntry;
use poscore::money::{Currency, Money};
use poscore::print::PrintOutcome;
use poscore::txn::{Delivery, PrintJobState, PrintKind, SlipCopy, TxnState};
use poscore::{Command, CommandOutcome, Config, Engine, PrintJob, TxnRecord};
use poscore_escpos::{Profile, encode};
use poscore_printer::virtual_printer::{
    Fault, Trigger, VirtualPage, VirtualPrinter, VirtualPrinterConfig,
};
use poscore_printer::{Condition, EscPosPrinter, JobConfig, PrinterAddress, SlipPrinter};
use poscore_terminal::{
    Clock, DriverConfig, Printer, SimHost, SystemClock, Terminal, TerminalHandle,
};
use tokio::task::JoinSet;

/// How long an injected overheat lasts.
const OVERHEAT: Duration = Duration::from_millis(300);
/// Where a mid-data fault strikes, in bytes of print data (checked to be inside the slip).
const MID_DATA_BYTES: usize = 300;
/// The reprint marker on a slip.
const REPRINT_MARKER: &str = "重打印 REPRINT";
/// How long a cell may take to finish its slips once the fault is cleared.
const SETTLE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PaperOut,
    CoverOpen,
    Overheat,
    Drop,
    NeverConfirm,
}

impl Kind {
    fn fault(self) -> Fault {
        match self {
            Kind::PaperOut => Fault::PaperOut,
            Kind::CoverOpen => Fault::CoverOpen,
            Kind::Overheat => Fault::Overheat(OVERHEAT),
            Kind::Drop => Fault::DropConnection,
            Kind::NeverConfirm => Fault::NeverConfirm,
        }
    }

    /// The condition the journal records for the failed attempt.
    fn condition(self) -> Condition {
        match self {
            Kind::PaperOut => Condition::PaperOut,
            Kind::CoverOpen => Condition::CoverOpen,
            Kind::Overheat => Condition::Overheated,
            Kind::Drop | Kind::NeverConfirm => Condition::CommunicationError,
        }
    }

    /// Whether the copy waits for the operator (held) rather than being retried.
    fn holds(self) -> bool {
        matches!(self, Kind::PaperOut | Kind::CoverOpen)
    }

    /// Whether the first try's outcome is unknowable at this point: the slip may have come
    /// out although nothing confirmed it.
    fn unknowable(self, trigger: Trigger) -> bool {
        match self {
            Kind::NeverConfirm => true,
            Kind::Drop => trigger != Trigger::Now,
            _ => false,
        }
    }
}

const TRIGGERS: [Trigger; 3] = [
    Trigger::Now,
    Trigger::AfterJobBytes(MID_DATA_BYTES),
    Trigger::BeforeConfirm,
];
const COPIES: [SlipCopy; 2] = [SlipCopy::Merchant, SlipCopy::Cardholder];

/// One print attempt as the driver saw it.
#[derive(Debug, Clone)]
struct Attempt {
    copy: SlipCopy,
    kind: PrintKind,
    outcome: PrintOutcome,
    /// The slip's size in bytes (for the mid-data check).
    bytes: usize,
}

/// The slip printer, with a fault armed for the first attempt of one copy: the fault is
/// injected into the virtual printer just before that copy goes out.
struct FaultAt {
    inner: SlipPrinter,
    printer: VirtualPrinter,
    copy: SlipCopy,
    trigger: Trigger,
    fault: Fault,
    armed: AtomicBool,
    attempts: Mutex<Vec<Attempt>>,
}

impl FaultAt {
    fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap().clone()
    }
}

#[async_trait]
impl Printer for FaultAt {
    async fn print(&self, job: &PrintJob) -> PrintOutcome {
        if job.copy == self.copy && self.armed.swap(false, Ordering::SeqCst) {
            self.printer.inject(self.trigger, self.fault.clone());
        }
        let outcome = self.inner.print(job).await;
        let bytes = encode(&job.document, &Profile::mm58())
            .map(|b| b.len())
            .unwrap_or(0);
        self.attempts.lock().unwrap().push(Attempt {
            copy: job.copy,
            kind: job.kind,
            outcome: outcome.clone(),
            bytes,
        });
        outcome
    }

    async fn print_report(&self, report: &poscore::ReportJob) -> poscore::print::PrintOutcome {
        self.inner.print_report(report).await
    }

    async fn condition(&self) -> Condition {
        self.inner.condition().await
    }
}

fn job_config() -> JobConfig {
    JobConfig {
        // Generous for a loaded machine: a spurious timeout would be an (honest) reprint.
        confirm_timeout: Duration::from_millis(1500),
        status_timeout: Duration::from_millis(1000),
        watchdog: Duration::from_secs(8),
        baud: None,
    }
}

fn engine_config() -> Config {
    let mut config = Config {
        retry_base_delay_ms: 50,
        retry_max_delay_ms: 200,
        ..Config::default()
    };
    config.printing.e_receipt_after_ms = 0;
    config
}

fn copy_label(copy: SlipCopy) -> &'static str {
    match copy {
        SlipCopy::Cardholder => "持卡人存根",
        _ => "商户存根",
    }
}

/// The copy a page is of, by its label.
fn copy_of(page: &VirtualPage) -> Option<SlipCopy> {
    let text = page.page.text();
    COPIES.into_iter().find(|c| text.contains(copy_label(*c)))
}

/// Whether a page is the slip of the transaction with this voucher (trace) number.
fn has_voucher(page: &VirtualPage, trace: poscore::ids::TraceNumber) -> bool {
    let trace = trace.to_string();
    page.page
        .lines()
        .iter()
        .any(|l| l.contains("VOUCHER") && l.contains(&trace))
}

fn is_reprint(page: &VirtualPage) -> bool {
    page.page.text().contains(REPRINT_MARKER)
}

async fn read_txn(handle: &TerminalHandle, trace: poscore::ids::TraceNumber) -> TxnRecord {
    handle
        .read(move |j| j.find_by_trace(trace).unwrap().unwrap())
        .await
        .unwrap()
}

/// Waits until `done` holds of the transaction, or fails with `what`.
async fn until(
    handle: &TerminalHandle,
    trace: poscore::ids::TraceNumber,
    within: Duration,
    what: &str,
    done: impl Fn(&TxnRecord) -> bool,
) -> TxnRecord {
    let deadline = Instant::now() + within;
    loop {
        let txn = read_txn(handle, trace).await;
        if done(&txn) {
            return txn;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: timed out; print jobs {:?}",
            txn.print_jobs
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One cell of the matrix.
async fn cell(kind: Kind, trigger: Trigger, copy: SlipCopy) {
    let what = format!("{kind:?} at {trigger} on the {copy} copy");
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let key = PanHashKey::new(vec![9; 32]).unwrap();
    let (engine, _) = Engine::open(
        &dir.path().join("journal.db"),
        engine_config(),
        key,
        SystemClock.now(),
    )
    .unwrap();

    let virtual_printer = VirtualPrinter::new(VirtualPrinterConfig::default());
    let bound = virtual_printer
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address: PrinterAddress = format!("tcp:{bound}").parse().unwrap();
    let escpos = Arc::new(EscPosPrinter::new(
        Arc::new(address),
        Profile::mm58(),
        job_config(),
    ));
    let printer = Arc::new(FaultAt {
        inner: SlipPrinter::new(escpos),
        printer: virtual_printer.clone(),
        copy,
        trigger,
        fault: kind.fault(),
        armed: AtomicBool::new(true),
        attempts: Mutex::new(Vec::new()),
    });
    let driver = DriverConfig {
        host_timeout: Duration::from_secs(5),
        tick_interval: Duration::from_millis(20),
        print_watchdog: Duration::from_secs(15),
    };
    let terminal = Terminal::start(engine, Arc::new(SimHost::new()), printer.clone(), driver);
    let handle = terminal.handle();

    let command = Command::PreAuth {
        amount: Money::parse("88.00", Currency::CNY).unwrap(),
        card: CardInput::parse("6222021234567890128", "3012", SystemClock.now()).unwrap(),
    };
    let approved = match handle
        .submit(RequestId::parse("cell").unwrap(), command)
        .await
        .unwrap()
    {
        CommandOutcome::Transaction(txn) => txn,
        other => panic!("{what}: {other:?}"),
    };
    assert_eq!(approved.state, TxnState::Approved, "{what}");
    let trace = approved.trace;

    // The fault strikes the copy's first attempt.
    let deadline = Instant::now() + Duration::from_secs(15);
    let first = loop {
        if let Some(first) = printer.attempts().into_iter().find(|a| a.copy == copy) {
            break first;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the copy never went to the printer"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        first.bytes > 2 * MID_DATA_BYTES,
        "{what}: the mid-data fault must strike inside the slip ({} bytes)",
        first.bytes
    );
    assert_eq!(
        first.kind,
        PrintKind::Original,
        "{what}: the first try is an original"
    );
    // A link dropped between the two copies may be noticed before the cardholder copy is
    // sent (the driver reconnects and prints it): the only cell where the fault can miss.
    let may_miss = kind == Kind::Drop && trigger == Trigger::Now && copy == SlipCopy::Cardholder;
    let struck = match &first.outcome {
        PrintOutcome::Failed {
            condition,
            may_have_printed,
            ..
        } => {
            assert_eq!(*condition, kind.condition(), "{what}: {:?}", first.outcome);
            assert_eq!(
                *may_have_printed,
                kind.unknowable(trigger),
                "{what}: {:?}",
                first.outcome
            );
            true
        }
        PrintOutcome::Printed { .. } => {
            assert!(may_miss, "{what}: the faulted attempt was reported printed");
            false
        }
    };

    if struck && kind.holds() {
        // Held for the operator, and it stays held while the fault lasts (the probe keeps
        // asking the printer), with the cardholder copy waiting behind a held merchant copy.
        let held = until(
            &handle,
            trace,
            Duration::from_secs(5),
            &format!("{what}: held"),
            |t| {
                t.print_jobs
                    .iter()
                    .any(|j| j.copy == copy && j.state == PrintJobState::Held)
            },
        )
        .await;
        let job = held.print_jobs.iter().find(|j| j.copy == copy).unwrap();
        assert_eq!(
            job.held_reason.as_deref(),
            Some(kind.condition().code()),
            "{what}: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
        let still = read_txn(&handle, trace).await;
        let job = still.print_jobs.iter().find(|j| j.copy == copy).unwrap();
        assert_eq!(
            job.state,
            PrintJobState::Held,
            "{what}: resumed while the fault lasts: {job:?}"
        );
        if copy == SlipCopy::Merchant {
            let cardholder = still
                .print_jobs
                .iter()
                .find(|j| j.copy == SlipCopy::Cardholder)
                .unwrap();
            assert_eq!(
                (cardholder.state, cardholder.attempts),
                (PrintJobState::Queued, 0),
                "{what}: {cardholder:?}"
            );
        }
    }
    if struck && !kind.holds() {
        // Retried, never held: the first failure put the copy back in the queue.
        let txn = until(
            &handle,
            trace,
            Duration::from_secs(5),
            &format!("{what}: failure recorded"),
            |t| {
                t.print_jobs
                    .iter()
                    .any(|j| j.copy == copy && j.last_error.is_some())
            },
        )
        .await;
        let job = txn.print_jobs.iter().find(|j| j.copy == copy).unwrap();
        assert_ne!(job.state, PrintJobState::Held, "{what}: {job:?}");
        assert_eq!(job.held_reason, None, "{what}: {job:?}");
    }

    // The fault clears (an overheat clears by itself; a drop is over once it happened).
    if kind != Kind::Overheat {
        virtual_printer.clear();
    }

    let done = until(
        &handle,
        trace,
        SETTLE,
        &format!("{what}: slips printed"),
        |t| {
            t.print_jobs
                .iter()
                .all(|j| j.state == PrintJobState::Printed)
        },
    )
    .await;
    handle.idle().await.unwrap();

    // The journal: every copy printed and delivered on paper; a copy whose try may have
    // printed is marked REPRINT.
    assert_eq!(done.print_jobs.len(), 2, "{what}: {:?}", done.print_jobs);
    for job in &done.print_jobs {
        assert_eq!(job.delivered, Some(Delivery::Paper), "{what}: {job:?}");
        assert!(job.printed_at.is_some(), "{what}: {job:?}");
        let expected = if job.copy == copy && struck && kind.unknowable(trigger) {
            PrintKind::Reprint
        } else {
            PrintKind::Original
        };
        assert_eq!(job.kind, expected, "{what}: {job:?}");
        if job.copy == copy && struck {
            assert!(job.attempts >= 2, "{what}: {job:?}");
        } else {
            assert_eq!(
                job.attempts, 1,
                "{what}: an unfaulted copy needed retries: {job:?}"
            );
        }
    }
    let merchant = done
        .print_jobs
        .iter()
        .find(|j| j.copy == SlipCopy::Merchant)
        .unwrap();
    let cardholder = done
        .print_jobs
        .iter()
        .find(|j| j.copy == SlipCopy::Cardholder)
        .unwrap();
    assert!(
        merchant.printed_at <= cardholder.printed_at,
        "{what}: {merchant:?} {cardholder:?}"
    );

    // The event log explains the wait.
    let events: Vec<LogEntry> = handle
        .read(move |j| j.events_of(done.id).unwrap())
        .await
        .unwrap();
    let print_events: Vec<&LogEntry> = events.iter().filter(|e| e.entity == "print_job").collect();
    if struck {
        let code = kind.condition().code();
        let to = if kind.holds() { "held" } else { "queued" };
        let failure = print_events
            .iter()
            .find(|e| e.from.as_deref() == Some("sending") && e.to == to && e.cause.contains(code))
            .unwrap_or_else(|| {
                panic!("{what}: no print_job event sending → {to} naming {code}: {print_events:#?}")
            });
        if kind.unknowable(trigger) {
            assert!(failure.cause.contains("REPRINT"), "{what}: {failure:?}");
        }
        if kind == Kind::NeverConfirm {
            assert!(
                failure.cause.contains("did not confirm"),
                "{what}: {failure:?}"
            );
        }
        if kind.holds() {
            assert!(
                print_events
                    .iter()
                    .any(|e| e.from.as_deref() == Some("held")
                        && e.to == "queued"
                        && e.cause.contains("ready again")),
                "{what}: no resume event: {print_events:#?}"
            );
        } else {
            assert!(
                !print_events.iter().any(|e| e.to == "held"),
                "{what}: a retried fault was held: {print_events:#?}"
            );
        }
    }
    let printed_events = print_events.iter().filter(|e| e.to == "printed").count();
    assert_eq!(printed_events, 2, "{what}: {print_events:#?}");

    // The paper: what really came out of the printer.
    let pages = virtual_printer.pages();
    let describe = || {
        pages
            .iter()
            .map(|p| (p.complete, copy_of(p), is_reprint(p)))
            .collect::<Vec<_>>()
    };
    for page in pages.iter().filter(|p| p.complete) {
        assert!(
            copy_of(page).is_some(),
            "{what}: a complete page without a copy label: {}",
            page.page.text()
        );
        assert!(
            has_voucher(page, trace),
            "{what}: a page without the voucher number: {}",
            page.page.text()
        );
    }
    for c in COPIES {
        let complete: Vec<&VirtualPage> = pages
            .iter()
            .filter(|p| p.complete && copy_of(p) == Some(c))
            .collect();
        let originals = complete.iter().filter(|p| !is_reprint(p)).count();
        let reprints = complete.len() - originals;
        if c == copy && struck && kind.unknowable(trigger) {
            assert!(
                originals <= 1,
                "{what}: the {c} copy printed {originals} times unmarked: {:?}",
                describe()
            );
            assert!(
                reprints >= 1,
                "{what}: the {c} copy has no reprint-marked copy: {:?}",
                describe()
            );
            if kind == Kind::NeverConfirm {
                // The printer printed the first try whole, only never confirmed it.
                assert_eq!(originals, 1, "{what}: {:?}", describe());
            } else {
                // The link dropped while the slip was going out: it came out cut short.
                assert_eq!(originals, 0, "{what}: {:?}", describe());
            }
        } else {
            assert_eq!(
                (originals, reprints),
                (1, 0),
                "{what}: the {c} copy: {:?}",
                describe()
            );
        }
    }
    // The cardholder copy never went to the printer before the merchant copy was done.
    let last_merchant = pages
        .iter()
        .rposition(|p| copy_of(p) == Some(SlipCopy::Merchant))
        .expect("a merchant page");
    let first_cardholder = pages
        .iter()
        .position(|p| copy_of(p) == Some(SlipCopy::Cardholder))
        .expect("a cardholder page");
    assert!(
        last_merchant < first_cardholder,
        "{what}: pages out of order: {:?}",
        describe()
    );
    // The printer confirmed exactly the two jobs the journal has printed.
    assert_eq!(
        virtual_printer.confirmed().len(),
        2,
        "{what}: confirmations {:?}",
        virtual_printer.confirmed()
    );
    // The driver saw the same: one confirmed attempt per copy, the last one.
    let attempts = printer.attempts();
    for c in COPIES {
        let of_copy: Vec<&Attempt> = attempts.iter().filter(|a| a.copy == c).collect();
        let printed = of_copy
            .iter()
            .filter(|a| matches!(a.outcome, PrintOutcome::Printed { .. }))
            .count();
        assert_eq!(printed, 1, "{what}: {c}: {of_copy:?}");
        assert!(
            matches!(
                of_copy.last().unwrap().outcome,
                PrintOutcome::Printed { .. }
            ),
            "{what}: {c}: {of_copy:?}"
        );
    }

    terminal.shutdown().await;
    eprintln!(
        "{what}: ok in {:?} ({} attempts)",
        started.elapsed(),
        attempts.len()
    );
}

/// Runs every cell of one fault concurrently, then reports every failing cell.
async fn row(kind: Kind) {
    let mut cells = JoinSet::new();
    for trigger in TRIGGERS {
        for copy in COPIES {
            cells.spawn(async move { cell(kind, trigger, copy).await });
        }
    }
    let mut failures = Vec::new();
    while let Some(result) = cells.join_next().await {
        if let Err(error) = result {
            let message = match error.try_into_panic() {
                Ok(payload) => payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into()),
                Err(error) => error.to_string(),
            };
            failures.push(message);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 6 cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_out() {
    row(Kind::PaperOut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cover_open() {
    row(Kind::CoverOpen).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overheat() {
    row(Kind::Overheat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_link() {
    row(Kind::Drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_confirms() {
    row(Kind::NeverConfirm).await;
}

/// A copy held for paper out resumes on the operator's command too; a second transaction
/// approved while printing is held waits (nothing goes to a printer out of paper), and each
/// transaction's copies come out in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_printing_command_and_a_transaction_waiting_behind_a_hold() {
    let dir = tempfile::tempdir().unwrap();
    let key = PanHashKey::new(vec![9; 32]).unwrap();
    let (engine, _) = Engine::open(
        &dir.path().join("journal.db"),
        engine_config(),
        key,
        SystemClock.now(),
    )
    .unwrap();
    let virtual_printer = VirtualPrinter::new(VirtualPrinterConfig::default());
    let bound = virtual_printer
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address: PrinterAddress = format!("tcp:{bound}").parse().unwrap();
    let escpos = Arc::new(EscPosPrinter::new(
        Arc::new(address),
        Profile::mm58(),
        job_config(),
    ));
    let driver = DriverConfig {
        host_timeout: Duration::from_secs(5),
        tick_interval: Duration::from_millis(20),
        print_watchdog: Duration::from_secs(15),
    };
    let terminal = Terminal::start(
        engine,
        Arc::new(SimHost::new()),
        Arc::new(SlipPrinter::new(escpos)),
        driver,
    );
    let handle = terminal.handle();
    let mut events = handle.events();

    virtual_printer.inject(Trigger::Now, Fault::PaperOut);
    let mut traces = Vec::new();
    for (n, amount) in ["10.00", "20.00"].into_iter().enumerate() {
        let command = Command::PreAuth {
            amount: Money::parse(amount, Currency::CNY).unwrap(),
            card: CardInput::parse("6222021234567890128", "3012", SystemClock.now()).unwrap(),
        };
        match handle
            .submit(RequestId::parse(&format!("t{n}")).unwrap(), command)
            .await
            .unwrap()
        {
            CommandOutcome::Transaction(txn) => traces.push(txn.trace),
            other => panic!("{other:?}"),
        }
    }
    let first = until(&handle, traces[0], Duration::from_secs(5), "held", |t| {
        t.print_jobs.iter().any(|j| j.state == PrintJobState::Held)
    })
    .await;
    assert_eq!(
        first.print_jobs[0].held_reason.as_deref(),
        Some("paper_out")
    );
    // Nothing else goes out while printing is held.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = read_txn(&handle, traces[1]).await;
    assert!(
        second
            .print_jobs
            .iter()
            .all(|j| j.state == PrintJobState::Queued && j.attempts == 0),
        "{:?}",
        second.print_jobs
    );
    assert!(virtual_printer.pages().is_empty());

    // Paper loaded; the operator resumes (the probe may beat the command: then nothing is
    // left to resume, which is fine).
    virtual_printer.load_paper();
    let resumed = handle
        .submit(RequestId::parse("resume").unwrap(), Command::ResumePrinting)
        .await
        .unwrap();
    assert!(
        matches!(resumed, CommandOutcome::PrintingResumed { jobs } if jobs <= 1),
        "{resumed:?}"
    );
    for trace in &traces {
        until(&handle, *trace, SETTLE, "printed", |t| {
            t.print_jobs
                .iter()
                .all(|j| j.state == PrintJobState::Printed)
        })
        .await;
    }
    handle.idle().await.unwrap();
    let order: Vec<(String, Option<SlipCopy>)> = virtual_printer
        .pages()
        .iter()
        .map(|p| {
            let trace = traces
                .iter()
                .find(|t| has_voucher(p, **t))
                .map(|t| t.to_string())
                .unwrap_or_default();
            (trace, copy_of(p))
        })
        .collect();
    // Each transaction's copies in order, each once. (The order across transactions is not
    // promised: a released copy is due from its release, after copies queued meanwhile.)
    assert_eq!(order.len(), 4, "{order:?}");
    for trace in &traces {
        let of_trace: Vec<Option<SlipCopy>> = order
            .iter()
            .filter(|(t, _)| *t == trace.to_string())
            .map(|(_, c)| *c)
            .collect();
        assert_eq!(
            of_trace,
            [Some(SlipCopy::Merchant), Some(SlipCopy::Cardholder)],
            "{trace}: {order:?}"
        );
    }
    assert!(
        virtual_printer
            .pages()
            .iter()
            .all(|p| p.complete && !is_reprint(p))
    );
    // The UI heard the hold with its remedy, and the resume.
    let mut held = None;
    let mut resumed = false;
    while let Ok(event) = events.try_recv() {
        match event {
            poscore::Event::PrintingHeld { reason, remedy } => held = Some((reason, remedy)),
            poscore::Event::PrintingResumed => resumed = true,
            _ => {}
        }
    }
    let (reason, (zh, en)) = held.expect("a PrintingHeld event");
    assert_eq!(reason, "paper_out");
    assert!(zh.contains("缺纸") && en.contains("paper"), "{zh} / {en}");
    assert!(resumed, "a PrintingResumed event");
    terminal.shutdown().await;
}
