//! The driver against the simulated host and the memory printer, on a real journal file.

use std::sync::Arc;
use std::time::Duration;

use poscore::card::{CardInput, PanHashKey};
use poscore::ids::RequestId;
use poscore::money::{Currency, Money};
use poscore::print::Condition;
use poscore::txn::{PrintJobState, PrintKind, ReversalState, SlipCopy, TxnState};
use poscore::{Command, CommandOutcome, Config, Engine, TxnRecord};
use poscore_terminal::{
    Clock, DriverConfig, MemoryPrinter, SimBehaviour, SimHost, SystemClock, Terminal, TerminalError,
};

const PAN: &str = "6222021234567890128";

struct Rig {
    terminal: Terminal,
    host: Arc<SimHost>,
    printer: Arc<MemoryPrinter>,
    _dir: tempfile::TempDir,
}

fn start(host: SimHost) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let key = PanHashKey::new(vec![9; 32]).unwrap();
    let (engine, _) = Engine::open(
        &dir.path().join("journal.db"),
        Config::default(),
        key,
        SystemClock.now(),
    )
    .unwrap();
    let host = Arc::new(host);
    let printer = Arc::new(MemoryPrinter::new());
    let config = DriverConfig {
        host_timeout: Duration::from_secs(5),
        tick_interval: Duration::from_millis(20),
        print_watchdog: Duration::from_secs(5),
    };
    let terminal = Terminal::start(engine, host.clone(), printer.clone(), config);
    Rig {
        terminal,
        host,
        printer,
        _dir: dir,
    }
}

fn preauth(amount: &str) -> Command {
    Command::PreAuth {
        amount: Money::parse(amount, Currency::CNY).unwrap(),
        card: CardInput::parse(PAN, "3012", SystemClock.now()).unwrap(),
    }
}

fn txn(outcome: CommandOutcome) -> TxnRecord {
    match outcome {
        CommandOutcome::Transaction(t) => t,
        other => panic!("expected a transaction, got {other:?}"),
    }
}

fn id(text: &str) -> RequestId {
    RequestId::parse(text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_prints_both_copies_and_events_arrive() {
    let rig = start(SimHost::new());
    let handle = rig.terminal.handle();
    let mut events = handle.events();
    let approved = txn(handle.submit(id("a1"), preauth("100.00")).await.unwrap());
    assert_eq!(approved.state, TxnState::Approved);
    assert!(approved.auth_code.is_some() && approved.rrn.is_some());
    handle.idle().await.unwrap();
    let printed = rig.printer.printed();
    assert_eq!(printed.len(), 2, "merchant and cardholder copies");
    assert!(printed.iter().all(|s| s.trace == approved.trace));
    let stored = handle
        .read(move |j| j.find_by_trace(approved.trace).unwrap().unwrap())
        .await
        .unwrap();
    assert!(
        stored
            .print_jobs
            .iter()
            .all(|j| j.state == PrintJobState::Printed)
    );
    // Every state change re-sends the transaction's jobs: count the jobs seen printed.
    let mut printed_jobs = std::collections::BTreeSet::new();
    let mut progress = Vec::new();
    while let Ok(event) = events.try_recv() {
        match &event {
            poscore::Event::PrintJob { job, .. } if event.is_printed() => {
                printed_jobs.insert(job.id);
            }
            poscore::Event::Printing {
                copy, number, of, ..
            } => progress.push((*copy, *number, *of)),
            _ => {}
        }
    }
    assert_eq!(printed_jobs.len(), 2);
    assert_eq!(
        progress,
        [(SlipCopy::Merchant, 1, 2), (SlipCopy::Cardholder, 2, 2)],
        "copy 1/2, copy 2/2"
    );
    rig.terminal.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answer_is_reversed_before_the_next_transaction() {
    let rig = start(SimHost::new());
    let handle = rig.terminal.handle();
    let lost = txn(handle.submit(id("lost"), preauth("10.98")).await.unwrap());
    assert_eq!(lost.state, TxnState::Unknown);
    let next = txn(handle.submit(id("next"), preauth("20.00")).await.unwrap());
    assert_eq!(next.state, TxnState::Approved);
    let reversed = handle
        .read(move |j| j.find_by_trace(lost.trace).unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(reversed.state, TxnState::Reversed);
    assert_eq!(reversed.reversal.unwrap().state, ReversalState::Done);
    assert!(
        !rig.host.holds(reversed.batch, reversed.trace),
        "the host released the hold"
    );
    rig.terminal.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_down_refuses_with_nothing_sent_and_printer_faults_are_held_or_retried() {
    let rig = start(SimHost::new());
    let handle = rig.terminal.handle();
    txn(handle.submit(id("warm"), preauth("1.00")).await.unwrap());
    handle.idle().await.unwrap();
    rig.host.script([SimBehaviour::LinkDown]);
    let refused = handle.submit(id("down"), preauth("2.00")).await;
    assert!(matches!(
        refused,
        Err(TerminalError::Refused(
            poscore::CommandError::HostUnreachable { .. }
        ))
    ));
    let replay = txn(handle.submit(id("down"), preauth("2.00")).await.unwrap());
    assert_eq!(replay.state, TxnState::NotSent);

    // Paper out: the first copy is held (not retried) until the printer reports it can
    // print again; the driver's probe then resumes it by itself.
    rig.printer.set_condition(Condition::PaperOut);
    let approved = txn(handle.submit(id("fault"), preauth("3.00")).await.unwrap());
    let trace = approved.trace;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored = handle
            .read(move |j| j.find_by_trace(trace).unwrap().unwrap())
            .await
            .unwrap();
        if let Some(held) = stored
            .print_jobs
            .iter()
            .find(|j| j.state == PrintJobState::Held)
        {
            assert_eq!(held.copy, SlipCopy::Merchant);
            assert_eq!(held.held_reason.as_deref(), Some("paper_out"));
            // The cardholder copy waits for the merchant copy.
            assert!(
                stored
                    .print_jobs
                    .iter()
                    .all(|j| j.state != PrintJobState::Printed),
                "{:?}",
                stored.print_jobs
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slip was never held: {:?}",
            stored.print_jobs
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Still held while the paper is out, over several probes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rig.printer.printed().iter().all(|s| s.trace != trace));
    rig.printer.set_condition(Condition::Ready);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored = handle
            .read(move |j| j.find_by_trace(trace).unwrap().unwrap())
            .await
            .unwrap();
        if stored
            .print_jobs
            .iter()
            .all(|j| j.state == PrintJobState::Printed)
        {
            let merchant = stored
                .print_jobs
                .iter()
                .find(|j| j.copy == SlipCopy::Merchant)
                .unwrap();
            assert_eq!(merchant.attempts, 2, "{merchant:?}");
            assert_eq!(
                merchant.kind,
                PrintKind::Original,
                "nothing came out of the failed try"
            );
            assert!(merchant.held_reason.is_none());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "slips still not printed: {:?}",
            stored.print_jobs
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let copies: Vec<SlipCopy> = rig
        .printer
        .printed()
        .iter()
        .filter(|s| s.trace == trace)
        .map(|s| s.copy)
        .collect();
    assert_eq!(copies, [SlipCopy::Merchant, SlipCopy::Cardholder]);

    // A fault after which the slip may have come out: retried, and marked REPRINT.
    rig.printer
        .inject_fault(Condition::CommunicationError, true);
    let uncertain = txn(handle
        .submit(id("uncertain"), preauth("4.00"))
        .await
        .unwrap());
    let trace = uncertain.trace;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let stored = handle
            .read(move |j| j.find_by_trace(trace).unwrap().unwrap())
            .await
            .unwrap();
        if stored
            .print_jobs
            .iter()
            .all(|j| j.state == PrintJobState::Printed)
        {
            let merchant = stored
                .print_jobs
                .iter()
                .find(|j| j.copy == SlipCopy::Merchant)
                .unwrap();
            assert_eq!(merchant.kind, PrintKind::Reprint, "{merchant:?}");
            assert!(merchant.last_error.is_some());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "slips still not printed: {:?}",
            stored.print_jobs
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let printed: Vec<(SlipCopy, PrintKind)> = rig
        .printer
        .printed()
        .iter()
        .filter(|s| s.trace == trace)
        .map(|s| (s.copy, s.kind))
        .collect();
    assert_eq!(
        printed,
        [
            (SlipCopy::Merchant, PrintKind::Reprint),
            (SlipCopy::Cardholder, PrintKind::Original)
        ]
    );
    rig.terminal.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_exchange_leaves_a_reversal_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let key = PanHashKey::new(vec![9; 32]).unwrap();
    let (engine, _) =
        Engine::open(&path, Config::default(), key.clone(), SystemClock.now()).unwrap();
    let host = Arc::new(SimHost::new().with_delay(Duration::from_millis(300)));
    let terminal = Terminal::start(
        engine,
        host.clone(),
        Arc::new(MemoryPrinter::new()),
        DriverConfig::default(),
    );
    let handle = terminal.handle();
    let pending = tokio::spawn(async move { handle.submit(id("cut"), preauth("5.00")).await });
    // Sign-on then the pre-auth: stop while the pre-auth is on the wire.
    tokio::time::sleep(Duration::from_millis(450)).await;
    drop(terminal.shutdown().await);
    assert!(pending.await.unwrap().is_err());
    let (engine, report) = Engine::open(&path, Config::default(), key, SystemClock.now()).unwrap();
    assert_eq!(report.made_unknown, 1);
    let cut = engine
        .journal()
        .find_by_request_id(&id("cut"))
        .unwrap()
        .unwrap();
    assert_eq!(cut.state, TxnState::Unknown);
    assert_eq!(cut.reversal.unwrap().state, ReversalState::Pending);
}
