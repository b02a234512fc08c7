//! The driver against the simulated host and the memory printer, on a real journal file.

use std::sync::Arc;
use std::time::Duration;

use poscore::card::{CardInput, PanHashKey};
use poscore::ids::RequestId;
use poscore::money::{Currency, Money};
use poscore::txn::{PrintJobState, ReversalState, TxnState};
use poscore::{Command, CommandOutcome, Config, Engine, TxnRecord};
use poscore_terminal::{DriverConfig, MemoryPrinter, SimBehaviour, SimHost, SystemClock, Terminal, TerminalError, Clock};

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
    let (engine, _) = Engine::open(&dir.path().join("journal.db"), Config::default(), key, SystemClock.now()).unwrap();
    let host = Arc::new(host);
    let printer = Arc::new(MemoryPrinter::new());
    let config = DriverConfig { host_timeout: Duration::from_secs(5), tick_interval: Duration::from_millis(20) };
    let terminal = Terminal::start(engine, host.clone(), printer.clone(), config);
    Rig { terminal, host, printer, _dir: dir }
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
    let stored = handle.read(move |j| j.find_by_trace(approved.trace).unwrap().unwrap()).await.unwrap();
    assert!(stored.print_jobs.iter().all(|j| j.state == PrintJobState::Printed));
    let mut printed_events = 0;
    while let Ok(event) = events.try_recv() {
        if event.is_printed() {
            printed_events += 1;
        }
    }
    assert_eq!(printed_events, 2);
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
    let reversed = handle.read(move |j| j.find_by_trace(lost.trace).unwrap().unwrap()).await.unwrap();
    assert_eq!(reversed.state, TxnState::Reversed);
    assert_eq!(reversed.reversal.unwrap().state, ReversalState::Done);
    assert!(!rig.host.holds(reversed.batch, reversed.trace), "the host released the hold");
    rig.terminal.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_down_refuses_with_nothing_sent_and_printer_faults_are_retried() {
    let rig = start(SimHost::new());
    let handle = rig.terminal.handle();
    txn(handle.submit(id("warm"), preauth("1.00")).await.unwrap());
    handle.idle().await.unwrap();
    rig.host.script([SimBehaviour::LinkDown]);
    let refused = handle.submit(id("down"), preauth("2.00")).await;
    assert!(matches!(refused, Err(TerminalError::Refused(poscore::CommandError::HostUnreachable { .. }))));
    let replay = txn(handle.submit(id("down"), preauth("2.00")).await.unwrap());
    assert_eq!(replay.state, TxnState::NotSent);

    rig.printer.inject_fault("paper out");
    let approved = txn(handle.submit(id("fault"), preauth("3.00")).await.unwrap());
    // The first copy fails once, is kept queued, and is printed on a later tick.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored = handle.read(move |j| j.find_by_trace(approved.trace).unwrap().unwrap()).await.unwrap();
        if stored.print_jobs.iter().all(|j| j.state == PrintJobState::Printed) {
            assert!(stored.print_jobs.iter().any(|j| j.attempts == 2 && j.last_error.is_none()));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "slips still not printed: {:?}", stored.print_jobs);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rig.terminal.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_exchange_leaves_a_reversal_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let key = PanHashKey::new(vec![9; 32]).unwrap();
    let (engine, _) = Engine::open(&path, Config::default(), key.clone(), SystemClock.now()).unwrap();
    let host = Arc::new(SimHost::new().with_delay(Duration::from_millis(300)));
    let terminal = Terminal::start(engine, host.clone(), Arc::new(MemoryPrinter::new()), DriverConfig::default());
    let handle = terminal.handle();
    let pending = tokio::spawn(async move { handle.submit(id("cut"), preauth("5.00")).await });
    // Sign-on then the pre-auth: stop while the pre-auth is on the wire.
    tokio::time::sleep(Duration::from_millis(450)).await;
    drop(terminal.shutdown().await);
    assert!(pending.await.unwrap().is_err());
    let (engine, report) = Engine::open(&path, Config::default(), key, SystemClock.now()).unwrap();
    assert_eq!(report.made_unknown, 1);
    let cut = engine.journal().find_by_request_id(&id("cut")).unwrap().unwrap();
    assert_eq!(cut.state, TxnState::Unknown);
    assert_eq!(cut.reversal.unwrap().state, ReversalState::Pending);
}
