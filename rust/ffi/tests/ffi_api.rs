//! The FFI API from Rust, as Kotlin calls it: objects, errors, events, leaks. (The same
//! scenarios run from Kotlin in android/jvm.)

use std::sync::{Arc, Mutex};

use poscore_ffi::{
    EventListener, PosError, PosTerminal, PrinterDevice, SoftwareKeyProvider, SoftwarePrinter,
    TerminalEvent, TxnState, default_config,
};

const PAN: &str = "6222021234567890128";

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(future)
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
    let txn = block_on(terminal.preauth("r1".into(), "100.00".into(), PAN.into(), "3012".into()))
        .unwrap();
    assert_eq!(txn.state, TxnState::Approved);
    assert_eq!(txn.masked_pan, "622202*********0128");
    block_on(terminal.wait_idle()).unwrap();
    let slips = printer.printed();
    assert_eq!(
        slips.iter().map(|s| s.copy.as_str()).collect::<Vec<_>>(),
        ["merchant", "cardholder"]
    );
    assert!(
        slips
            .iter()
            .all(|s| s.lines.iter().any(|l| l.contains("622202*********0128")))
    );
    assert!(
        slips
            .iter()
            .all(|s| s.lines.iter().all(|l| !l.contains(PAN)))
    );
    terminal.shutdown();
    let seen = events.0.lock().unwrap().clone();
    let states: Vec<TxnState> = seen
        .iter()
        .filter_map(|e| match e {
            TerminalEvent::TransactionChanged { transaction } if transaction.trace == txn.trace => {
                Some(transaction.state)
            }
            _ => None,
        })
        .collect();
    assert_eq!(states.first(), Some(&TxnState::Queued), "{states:?}");
    assert_eq!(states.last(), Some(&TxnState::Approved), "{states:?}");
    // Every job's state comes with each change of its transaction's slips: count jobs.
    let mut printed_after_approval: Vec<i64> = seen
        .iter()
        .skip_while(|e| !matches!(e, TerminalEvent::TransactionChanged { transaction } if transaction.state == TxnState::Approved))
        .filter_map(|e| match e {
            TerminalEvent::PrintJobChanged { job, .. } if job.state == poscore_ffi::PrintJobState::Printed => Some(job.job_id),
            _ => None,
        })
        .collect();
    printed_after_approval.dedup();
    printed_after_approval.sort_unstable();
    printed_after_approval.dedup();
    assert_eq!(printed_after_approval.len(), 2);
    let progress: Vec<(String, i32, i32)> = seen
        .iter()
        .filter_map(|e| match e {
            TerminalEvent::PrintProgress {
                copy,
                number,
                of,
                reprint: false,
                ..
            } => Some((copy.clone(), *number, *of)),
            _ => None,
        })
        .collect();
    assert_eq!(
        progress,
        [
            ("merchant".to_string(), 1, 2),
            ("cardholder".to_string(), 2, 2)
        ]
    );
    // The device gets the real layout as ESC/POS too: it starts with ESC @ and ends with a cut.
    assert!(
        slips.iter().all(|s| s.escpos.starts_with(&[0x1B, 0x40])
            && s.escpos.windows(2).any(|w| w == [0x1D, 0x56]))
    );
}

#[test]
fn errors_are_typed_with_codes_and_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = PosTerminal::open(
        default_config(),
        dir.path().join("j.db").display().to_string(),
        keys(),
        SoftwarePrinter::new(),
        None,
    )
    .unwrap();
    let bad_amount =
        block_on(terminal.preauth("r1".into(), "1.234".into(), PAN.into(), "3012".into()))
            .unwrap_err();
    assert!(
        matches!(&bad_amount, PosError::InvalidInput { code, message_zh, message_en }
        if code == "AMOUNT_TOO_MANY_DECIMALS" && !message_zh.is_empty() && !message_en.is_empty())
    );
    let luhn = block_on(terminal.preauth(
        "r2".into(),
        "1.00".into(),
        "6222021234567890127".into(),
        "3012".into(),
    ))
    .unwrap_err();
    assert_eq!(luhn.code(), "PAN_LUHN");
    let trace = block_on(terminal.void_preauth("r3".into(), 0)).unwrap_err();
    assert_eq!(trace.code(), "ID_SIX_DIGIT");
    let unknown = block_on(terminal.void_preauth("r4".into(), 4242)).unwrap_err();
    assert!(matches!(unknown, PosError::Refused { ref code, .. } if code == "ORIGINAL_NOT_FOUND"));
    terminal.shutdown();
    let closed = block_on(terminal.preauth("r5".into(), "1.00".into(), PAN.into(), "3012".into()))
        .unwrap_err();
    assert!(matches!(closed, PosError::Closed { .. }));
    assert!(!terminal.is_open());

    let mut config = default_config();
    config.slip_copies = 9;
    let refused = PosTerminal::open(
        config,
        dir.path().join("k.db").display().to_string(),
        keys(),
        SoftwarePrinter::new(),
        None,
    );
    assert_eq!(
        refused.err().map(|e| e.code().to_string()),
        Some("CONFIG_RANGE".into())
    );
}

#[test]
fn a_printer_fault_holds_printing_until_the_device_reports_ready() {
    let dir = tempfile::tempdir().unwrap();
    let printer = SoftwarePrinter::new();
    printer.inject_fault(3);
    let events = Arc::new(Recorder::default());
    let terminal = PosTerminal::open(
        default_config(),
        dir.path().join("j.db").display().to_string(),
        keys(),
        printer.clone() as Arc<dyn PrinterDevice>,
        Some(events.clone()),
    )
    .unwrap();
    let txn =
        block_on(terminal.preauth("r1".into(), "8.00".into(), PAN.into(), "3012".into())).unwrap();
    // A software fault code other than 0 is a hardware fault: held, then released by itself
    // once the printer's status reads ready (it does: the fault was for one job).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let done = loop {
        block_on(terminal.wait_idle()).unwrap();
        let stored = block_on(terminal.show(txn.trace)).unwrap().unwrap();
        if stored
            .print_jobs
            .iter()
            .all(|j| j.state == poscore_ffi::PrintJobState::Printed)
        {
            break stored;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "slips not printed: {:?}",
            stored.print_jobs
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let faulted = done
        .print_jobs
        .iter()
        .find(|j| j.last_error.is_some())
        .expect("one slip faulted");
    assert!(
        faulted
            .last_error
            .as_deref()
            .unwrap()
            .contains("hardware fault"),
        "{faulted:?}"
    );
    assert_eq!(faulted.attempts, 2);
    assert_eq!(printer.printed().len(), 2, "each copy printed once");
    terminal.shutdown();
    let seen = events.0.lock().unwrap().clone();
    let held = seen.iter().position(
        |e| matches!(e, TerminalEvent::PrintingHeld { reason, message_zh, .. } if reason == "hardware_error" && message_zh.contains("故障")),
    );
    let resumed = seen
        .iter()
        .position(|e| matches!(e, TerminalEvent::PrintingResumed));
    assert!(
        held.is_some() && resumed > held,
        "held then resumed: {seen:?}"
    );
}

#[test]
fn reprint_preview_signature_e_receipt_and_diagnosis() {
    use poscore_ffi::{Point, Stroke};
    let dir = tempfile::tempdir().unwrap();
    let printer = SoftwarePrinter::new();
    let terminal = PosTerminal::open(
        default_config(),
        dir.path().join("j.db").display().to_string(),
        keys(),
        printer.clone(),
        None,
    )
    .unwrap();
    let txn =
        block_on(terminal.preauth("r1".into(), "88.00".into(), PAN.into(), "3012".into())).unwrap();
    block_on(terminal.wait_idle()).unwrap();

    let again = block_on(terminal.reprint("r2".into(), Some(txn.trace), Some("cardholder".into())))
        .unwrap();
    assert_eq!(again.print_jobs.len(), 3);
    block_on(terminal.wait_idle()).unwrap();
    let last = printer.printed().pop().unwrap();
    assert!(
        last.reprint
            && last.copy == "cardholder"
            && last.lines.iter().any(|l| l.contains("REPRINT"))
    );
    assert_eq!(block_on(terminal.printer_health()).unwrap().reprints, 1);
    assert_eq!(
        block_on(terminal.reprint("r3".into(), Some(4242), None))
            .unwrap_err()
            .code(),
        "NOTHING_TO_REPRINT"
    );

    let png = block_on(terminal.slip_preview(txn.trace, None)).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let strokes = vec![Stroke {
        points: vec![
            Point { x: 10, y: 80 },
            Point { x: 150, y: 10 },
            Point { x: 300, y: 90 },
        ],
    }];
    block_on(terminal.save_signature("r4".into(), txn.trace, strokes, 320, 100)).unwrap();
    let signed = block_on(terminal.slip_preview(txn.trace, None)).unwrap();
    assert_ne!(png, signed, "the merchant copy carries the signature now");

    let receipt = block_on(terminal.e_receipt(txn.trace, Some("cardholder".into()))).unwrap();
    assert!(
        receipt.payload.starts_with(&format!(
            "PR1|10000001|{:06}|{:06}|8800|CNY|",
            txn.batch, txn.trace
        )),
        "{}",
        receipt.payload
    );
    assert!(!receipt.delivered);
    assert_eq!(
        block_on(terminal.verify_e_receipt(receipt.payload.clone()))
            .unwrap()
            .trace,
        txn.trace
    );
    let forged = receipt.payload.replace("|8800|", "|9900|");
    assert_eq!(
        block_on(terminal.verify_e_receipt(forged))
            .unwrap_err()
            .code(),
        "RECEIPT_BAD_MAC"
    );

    let diagnosis = block_on(terminal.diagnose(txn.trace)).unwrap().unwrap();
    assert_eq!(diagnosis.slips.len(), 3);
    assert!(
        diagnosis.slips.iter().all(|s| s.finding.is_none()),
        "all printed: {:?}",
        diagnosis.slips
    );
    assert!(diagnosis.timeline.iter().any(|e| e.entity == "signature"));
    assert!(block_on(terminal.diagnose(4242)).unwrap().is_none());
    terminal.shutdown();
}
