//! The FFI API from Rust, as Kotlin calls it: objects, errors, events, leaks. (The same
//! scenarios run from Kotlin in android/jvm.)

use std::sync::{Arc, Mutex};

use poscore_ffi::{
    EventListener, PosError, PosTerminal, PrinterDevice, SoftwareKeyProvider, SoftwarePrinter, TerminalEvent, TxnState,
    default_config,
};

const PAN: &str = "6222021234567890128";

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(future)
}

fn keys() -> Arc<SoftwareKeyProvider> {
    SoftwareKeyProvider::new(vec![5; 32], vec![0x11; 8]).unwrap()
}

#[derive(Default)]
struct Recorder(Mutex<Vec<TerminalEvent>>);

impl EventListener for Recorder {
    fn on_event(&self, event: TerminalEvent) {
        self.0.lock().unwrap().push(event);
    }
}

#[test]
fn a_preauth_is_approved_printed_and_reported_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let printer = SoftwarePrinter::new();
    let events = Arc::new(Recorder::default());
    let terminal = PosTerminal::open(
        default_config(),
        dir.path().join("j.db").display().to_string(),
        keys(),
        printer.clone() as Arc<dyn PrinterDevice>,
        Some(events.clone()),
    )
    .unwrap();
    let txn = block_on(terminal.preauth("r1".into(), "100.00".into(), PAN.into(), "3012".into())).unwrap();
    assert_eq!(txn.state, TxnState::Approved);
    assert_eq!(txn.masked_pan, "622202*********0128");
    block_on(terminal.wait_idle()).unwrap();
    let slips = printer.printed();
    assert_eq!(slips.iter().map(|s| s.copy.as_str()).collect::<Vec<_>>(), ["merchant", "cardholder"]);
    assert!(slips.iter().all(|s| s.lines.iter().any(|l| l.contains("622202*********0128"))));
    assert!(slips.iter().all(|s| s.lines.iter().all(|l| !l.contains(PAN))));
    terminal.shutdown();
    let seen = events.0.lock().unwrap().clone();
    let states: Vec<TxnState> = seen
        .iter()
        .filter_map(|e| match e {
            TerminalEvent::TransactionChanged { transaction } if transaction.trace == txn.trace => Some(transaction.state),
            _ => None,
        })
        .collect();
    assert_eq!(states.first(), Some(&TxnState::Queued), "{states:?}");
    assert_eq!(states.last(), Some(&TxnState::Approved), "{states:?}");
    let printed_after_approval = seen
        .iter()
        .skip_while(|e| !matches!(e, TerminalEvent::TransactionChanged { transaction } if transaction.state == TxnState::Approved))
        .filter(|e| matches!(e, TerminalEvent::PrintJobChanged { job, .. } if job.state == poscore_ffi::PrintJobState::Printed))
        .count();
    assert_eq!(printed_after_approval, 2);
}

#[test]
fn errors_are_typed_with_codes_and_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let terminal =
        PosTerminal::open(default_config(), dir.path().join("j.db").display().to_string(), keys(), SoftwarePrinter::new(), None).unwrap();
    let bad_amount = block_on(terminal.preauth("r1".into(), "1.234".into(), PAN.into(), "3012".into())).unwrap_err();
    assert!(matches!(&bad_amount, PosError::InvalidInput { code, message_zh, message_en }
        if code == "AMOUNT_TOO_MANY_DECIMALS" && !message_zh.is_empty() && !message_en.is_empty()));
    let luhn = block_on(terminal.preauth("r2".into(), "1.00".into(), "6222021234567890127".into(), "3012".into())).unwrap_err();
    assert_eq!(luhn.code(), "PAN_LUHN");
    let trace = block_on(terminal.void_preauth("r3".into(), 0)).unwrap_err();
    assert_eq!(trace.code(), "ID_SIX_DIGIT");
    let unknown = block_on(terminal.void_preauth("r4".into(), 4242)).unwrap_err();
    assert!(matches!(unknown, PosError::Refused { ref code, .. } if code == "ORIGINAL_NOT_FOUND"));
    terminal.shutdown();
    let closed = block_on(terminal.preauth("r5".into(), "1.00".into(), PAN.into(), "3012".into())).unwrap_err();
    assert!(matches!(closed, PosError::Closed { .. }));
    assert!(!terminal.is_open());

    let mut config = default_config();
    config.slip_copies = 9;
    let refused = PosTerminal::open(config, dir.path().join("k.db").display().to_string(), keys(), SoftwarePrinter::new(), None);
    assert_eq!(refused.err().map(|e| e.code().to_string()), Some("CONFIG_RANGE".into()));
}

#[test]
fn a_printer_fault_keeps_the_slip_queued_until_the_device_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let printer = SoftwarePrinter::new();
    printer.inject_fault(3);
    let terminal =
        PosTerminal::open(default_config(), dir.path().join("j.db").display().to_string(), keys(), printer.clone(), None).unwrap();
    let txn = block_on(terminal.preauth("r1".into(), "8.00".into(), PAN.into(), "3012".into())).unwrap();
    block_on(terminal.wait_idle()).unwrap();
    let stored = block_on(terminal.show(txn.trace)).unwrap().unwrap();
    let faulted = stored.print_jobs.iter().find(|j| j.last_error.is_some()).expect("one slip faulted");
    assert!(faulted.last_error.as_deref().unwrap().contains("hardware fault"), "{faulted:?}");
    assert_eq!(printer.printed().len(), 1, "the other copy printed");
    terminal.shutdown();
}
