//! The fault matrix: every fault kind of the virtual printer, injected before the job,
//! mid-data and after the data before the confirmation. The driver reports the right cause
//! and never reports the attempt printed; the printer confirms nothing for it; once the
//! fault clears (or the overheat ends) the job sent again is printed exactly once.
//!
//! Runs over the in-process link, and one fault kind over real TCP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use poscore_escpos::{Align, Document, Profile, TextStyle, encode};
use poscore_printer::virtual_printer::{Fault, Trigger, VirtualPrinter, VirtualPrinterConfig};
use poscore_printer::{
    BoxLink, Condition, Connector, EscPosPrinter, FnConnector, JobConfig, PrintError,
    PrinterAddress, Stage,
};

/// How long an injected overheat lasts.
const OVERHEAT: Duration = Duration::from_millis(400);
/// Where a mid-data fault strikes (inside the job: checked below).
const MID_DATA_BYTES: usize = 60;

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
}

const TRIGGERS: [Trigger; 3] = [
    Trigger::Now,
    Trigger::AfterJobBytes(MID_DATA_BYTES),
    Trigger::BeforeConfirm,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    InProcess,
    Tcp,
}

fn config() -> JobConfig {
    JobConfig {
        confirm_timeout: Duration::from_millis(300),
        status_timeout: Duration::from_millis(300),
        watchdog: Duration::from_secs(5),
        baud: None,
    }
}

/// A slip with a marker that identifies it on the printed page.
fn slip(marker: &str) -> Document {
    let mut doc = Document::new()
        .text("签购单 / SALES SLIP", TextStyle::BOLD, Align::Center)
        .separator('-');
    for (label, value) in [
        ("商户 MERCHANT", "测试商户"),
        ("卡号 CARD", "622202******0128"),
        ("金额 AMOUNT", "CNY 12.34"),
    ] {
        doc = doc.row(label, value);
    }
    doc.line(marker).separator('-').cut()
}

async fn connector(printer: &VirtualPrinter, link: Link) -> Arc<dyn Connector> {
    match link {
        Link::InProcess => {
            let printer = printer.clone();
            Arc::new(FnConnector::new(
                "virtual printer (in process)",
                move || Ok(Box::new(printer.connect()) as BoxLink),
            ))
        }
        Link::Tcp => {
            let bound = printer
                .listen("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            let address: PrinterAddress = format!("tcp:{bound}").parse().unwrap();
            Arc::new(address)
        }
    }
}

/// Waits until the virtual printer is ready again (an overheat ending by itself).
async fn until_ready(printer: &VirtualPrinter) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !printer.status().can_print() {
        assert!(
            Instant::now() < deadline,
            "the printer never recovered: {:?}",
            printer.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One cell of the matrix.
async fn cell(kind: Kind, trigger: Trigger, link: Link) {
    let what = format!("{kind:?} at {trigger:?} over {link:?}");
    let virtual_printer = VirtualPrinter::new(VirtualPrinterConfig::default());
    let driver = EscPosPrinter::new(
        connector(&virtual_printer, link).await,
        Profile::mm58(),
        config(),
    );
    // Short enough for one line of 32 columns.
    let point = TRIGGERS.iter().position(|t| *t == trigger).unwrap_or(9);
    let marker = format!("MARK {kind:?} {point}");
    let document = slip(&marker);
    let bytes = encode(&document, &Profile::mm58()).unwrap();
    assert!(
        bytes.len() > MID_DATA_BYTES * 2,
        "the mid-data fault must strike inside the job ({} bytes)",
        bytes.len()
    );

    virtual_printer.inject(trigger, kind.fault());
    let error = driver
        .print(&document)
        .await
        .expect_err(&format!("{what}: reported printed"));
    match kind {
        Kind::PaperOut => assert_eq!(error.condition(), Condition::PaperOut, "{what}: {error:?}"),
        Kind::CoverOpen => assert_eq!(error.condition(), Condition::CoverOpen, "{what}: {error:?}"),
        Kind::Overheat => assert_eq!(
            error.condition(),
            Condition::Overheated,
            "{what}: {error:?}"
        ),
        Kind::Drop => {
            assert!(
                matches!(
                    error,
                    PrintError::Failed {
                        condition: Condition::CommunicationError,
                        ..
                    }
                ),
                "{what}: {error:?}"
            )
        }
        Kind::NeverConfirm => assert!(
            matches!(error, PrintError::NotConfirmed { .. }),
            "{what}: {error:?}"
        ),
    }
    if trigger == Trigger::Now && matches!(kind, Kind::PaperOut | Kind::CoverOpen | Kind::Overheat)
    {
        // A known fault before the job: refused, nothing sent.
        assert!(matches!(error, PrintError::Refused(_)), "{what}: {error:?}");
        assert!(
            virtual_printer.pages().is_empty(),
            "{what}: data was sent into a known fault"
        );
    }
    if trigger == Trigger::BeforeConfirm {
        // Everything was sent; only the confirmation was missing.
        assert_eq!(
            error.stage(),
            Stage::AwaitingConfirmation,
            "{what}: {error:?}"
        );
    }
    assert!(!error.condition().can_print(), "{what}: {error:?}");
    assert!(
        virtual_printer.confirmed().is_empty(),
        "{what}: the printer confirmed the failed attempt"
    );
    let complete_before = virtual_printer
        .pages()
        .iter()
        .filter(|p| p.complete)
        .count();
    if kind != Kind::NeverConfirm {
        assert_eq!(
            complete_before, 0,
            "{what}: a complete page came out of a failed attempt"
        );
    }

    // The fault clears; the job is sent again and printed exactly once.
    match kind {
        Kind::Overheat => until_ready(&virtual_printer).await,
        _ => virtual_printer.clear(),
    }
    let receipt = driver
        .print(&document)
        .await
        .unwrap_or_else(|e| panic!("{what}: the re-sent job failed: {e:?}"));
    let id = receipt.process_id.expect("confirmed by process ID");
    assert_eq!(virtual_printer.confirmed(), [id], "{what}");
    let pages = virtual_printer.pages();
    let complete: Vec<_> = pages.iter().filter(|p| p.complete).collect();
    // NeverConfirm prints the first attempt without confirming it: that page is the honest
    // duplicate the NotConfirmed error warns about. Every other fault lost the first attempt.
    assert_eq!(
        complete.len(),
        complete_before + 1,
        "{what}: {} complete pages",
        complete.len()
    );
    let last = complete.last().expect("a page");
    assert!(
        last.page.text().contains(&marker),
        "{what}: the page reads {:?}",
        last.page.text()
    );
    assert!(
        pages.last().is_some_and(|p| p.complete),
        "{what}: the last page is cut short"
    );
}

async fn row(kind: Kind, link: Link) {
    for trigger in TRIGGERS {
        cell(kind, trigger, link).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_out() {
    row(Kind::PaperOut, Link::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cover_open() {
    row(Kind::CoverOpen, Link::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overheat() {
    row(Kind::Overheat, Link::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection() {
    row(Kind::Drop, Link::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_confirm() {
    row(Kind::NeverConfirm, Link::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_out_over_tcp() {
    row(Kind::PaperOut, Link::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_over_tcp() {
    row(Kind::Drop, Link::Tcp).await;
}

/// Without `GS ( H` (profile.process_id = false) jobs are confirmed with `GS r 1`; the
/// faults are reported the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gs_r_confirmation_and_a_mid_data_fault() {
    let profile = Profile {
        process_id: false,
        ..Profile::mm58()
    };
    let virtual_printer = VirtualPrinter::new(VirtualPrinterConfig {
        profile,
        ..VirtualPrinterConfig::default()
    });
    let driver = EscPosPrinter::new(
        connector(&virtual_printer, Link::InProcess).await,
        profile,
        config(),
    );
    let document = slip("MARK GS r");
    virtual_printer.inject(Trigger::AfterJobBytes(MID_DATA_BYTES), Fault::CoverOpen);
    let error = driver.print(&document).await.unwrap_err();
    assert_eq!(error.condition(), Condition::CoverOpen);
    assert_eq!(virtual_printer.status_replies(), 0);
    virtual_printer.clear();
    let receipt = driver.print(&document).await.unwrap();
    assert_eq!(receipt.process_id, None);
    assert_eq!(virtual_printer.status_replies(), 1);
    assert_eq!(
        virtual_printer
            .pages()
            .iter()
            .filter(|p| p.complete)
            .count(),
        1
    );
}

/// A journal print job (an approved pre-auth).
fn journal_job() -> poscore::PrintJob {
    use poscore::card::MaskedPan;
    use poscore::ids::{BatchNumber, RequestId, TraceNumber};
    use poscore::money::{Currency, Money};
    use poscore::txn::{PrintKind, SlipCopy, TxnKind, TxnState};
    use poscore::{Timestamp, TxnRecord};

    let at = Timestamp::from_civil(2026, 3, 14, 9, 26, 53);
    let txn = TxnRecord {
        id: 1,
        request_id: RequestId::parse("req-1").unwrap(),
        kind: TxnKind::PreAuth,
        state: TxnState::Approved,
        trace: TraceNumber::new(123).unwrap(),
        batch: BatchNumber::new(1).unwrap(),
        amount: Money::parse("12.34", Currency::CNY).unwrap(),
        masked_pan: MaskedPan::from_stored("622202*********0128".into()),
        auth_code: Some("A1B2C3".into()),
        rrn: Some("123456789012".into()),
        response_code: Some("00".into()),
        original_trace: None,
        settled: false,
        created_at: at,
        updated_at: at,
        reversal: None,
        print_jobs: Vec::new(),
        training: false,
    };
    let config = poscore::slip::SlipConfig {
        merchant_name: "测试商户".into(),
        ..poscore::slip::SlipConfig::from_config(&poscore::Config::default())
    };
    let input = poscore::slip::SlipInput {
        txn: &txn,
        original: None,
        copy: SlipCopy::Merchant,
        kind: PrintKind::Original,
        training: false,
        signature: None,
    };
    let document = poscore::slip::slip_document(&input, &config);
    poscore::PrintJob {
        job_id: 9,
        txn,
        copy: SlipCopy::Merchant,
        kind: PrintKind::Original,
        document,
        number: 1,
        of: 2,
    }
}

/// The terminal's `Printer` over the virtual printer: a refusal comes back as the
/// bilingual remedy; once the paper is loaded the slip prints and reads right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slip_printer_prints_journal_jobs() {
    use poscore_printer::SlipPrinter;
    use poscore_terminal::Printer;

    let virtual_printer = VirtualPrinter::new(VirtualPrinterConfig::default());
    let driver = EscPosPrinter::new(
        connector(&virtual_printer, Link::InProcess).await,
        Profile::mm58(),
        config(),
    );
    let slips = SlipPrinter::new(Arc::new(driver));
    virtual_printer.inject(Trigger::Now, Fault::PaperOut);
    match slips.print(&journal_job()).await {
        poscore::print::PrintOutcome::Failed {
            condition,
            detail,
            may_have_printed,
        } => {
            assert_eq!(condition, poscore::print::Condition::PaperOut);
            assert!(
                !may_have_printed,
                "refused before sending: certainly not printed"
            );
            assert!(
                detail.contains("缺纸") && detail.contains("out of paper"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(slips.condition().await, poscore::print::Condition::PaperOut);
    virtual_printer.clear();
    assert_eq!(slips.condition().await, poscore::print::Condition::Ready);
    assert!(
        matches!(slips.print(&journal_job()).await, poscore::print::PrintOutcome::Printed { length_mm } if length_mm > 50)
    );
    let pages = virtual_printer.pages();
    assert_eq!(pages.len(), 1);
    let text = pages[0].page.text();
    for expected in [
        "签购单",
        "622202*********0128",
        "测试商户",
        "12.34",
        "持卡人签名",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not on the page:\n{text}"
        );
    }
    assert_eq!(virtual_printer.confirmed().len(), 1);
}
