//! `poscore demo`: a scripted day on a fresh journal, over real TCP and real ISO 8583 to the
//! host simulator started in process on a loopback port (or to `--host`), printing through
//! the virtual ESC/POS printer in process.
//!
//! 1. a pre-auth, approved; the paper runs out in the middle of its second slip: the queue
//!    holds, the paper is replaced, and the queue resumes by itself;
//! 2. a pre-auth whose answer is lost (amount ending in .98), then reversed;
//! 3. a completion of the first pre-auth;
//! 4. a pre-auth void (of a second approved pre-auth);
//! 5. a completion void (of the completion from step 3);
//! 6. a reprint of the last slip (it says 重打印 REPRINT).
//!
//! It prints each step and the print progress, then a summary from the journal (the
//! transactions and every slip's final state), and checks every final state, that every
//! approved transaction's copies printed, that the hold and the resume are in the journal,
//! and that a page says REPRINT. Each page is saved as a PNG in `out/slips`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use poscore_printer::job::EscPosPrinter;
use poscore_printer::slip::SlipPrinter;
use poscore_printer::transport::{BoxLink, FnConnector};
use poscore_printer::virtual_printer::{Fault, Trigger, VirtualPrinter, VirtualPrinterConfig};

use poscore::card::CardInput;
use poscore::ids::{RequestId, TraceNumber};
use poscore::money::Money;
use poscore::print::{Condition, PrintOutcome};
use poscore::txn::{PrintJobState, PrintKind, ReversalState, SlipCopy, TxnState};
use poscore::{Command, CommandOutcome, Event, Lang, PrintJob, TxnRecord};
use poscore_terminal::{Clock, Printer, SystemClock, TerminalHandle};
use tokio::sync::broadcast;

use crate::Failure;
use crate::commands::finish_terminal;
use crate::output;
use crate::progress::Progress;
use crate::session::{self, LinkOptions};

/// Which print call runs out of paper (the second slip of the day).
const PAPER_OUT_ON_SLIP: u32 = 2;

/// How far into that slip's data the paper ends, in bytes (mid-slip).
const PAPER_OUT_AFTER_BYTES: usize = 300;

/// How long the demo waits for the hold and for the resume before it gives up.
const WAIT: Duration = Duration::from_secs(20);

/// The demo's printer: the real slip printer over the virtual printer, which runs out of
/// paper in the middle of slip number [`PAPER_OUT_ON_SLIP`].
struct DemoPrinter {
    slips: SlipPrinter,
    device: VirtualPrinter,
    calls: AtomicU32,
}

#[async_trait]
impl Printer for DemoPrinter {
    async fn print(&self, job: &PrintJob) -> PrintOutcome {
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 == PAPER_OUT_ON_SLIP {
            self.device.inject(
                Trigger::AfterJobBytes(PAPER_OUT_AFTER_BYTES),
                Fault::PaperOut,
            );
        }
        self.slips.print(job).await
    }

    async fn print_report(&self, report: &poscore::ReportJob) -> poscore::print::PrintOutcome {
        self.slips.print_report(report).await
    }

    async fn condition(&self) -> Condition {
        self.slips.condition().await
    }
}

async fn step(
    handle: &TerminalHandle,
    lang: Lang,
    id: &str,
    command: Command,
) -> Result<TxnRecord, Failure> {
    let request_id = RequestId::parse(id).map_err(|e| Failure::usage(&e, lang))?;
    match handle.submit(request_id, command).await {
        Ok(outcome) => {
            println!("  {}", output::outcome(&outcome, lang));
            match outcome {
                CommandOutcome::Transaction(record) => Ok(record),
                other => Err(Failure::io(format!(
                    "demo step {id} ended unexpectedly: {other:?}"
                ))),
            }
        }
        Err(e) => Err(Failure::refused(&e, lang)),
    }
}

/// Waits for the first event `wanted` accepts, at most [`WAIT`].
async fn wait_for(
    events: &mut broadcast::Receiver<Event>,
    what: &str,
    wanted: impl Fn(&Event) -> bool,
) -> Result<Event, Failure> {
    let waited = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return Some(event),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .await;
    match waited {
        Ok(Some(event)) => Ok(event),
        _ => Err(Failure::io(format!(
            "demo check failed: no {what} within {} s",
            WAIT.as_secs()
        ))),
    }
}

fn cny(text: &str) -> Result<Money, Failure> {
    Money::parse(text, poscore::money::Currency::CNY).map_err(|e| Failure::usage(&e, Lang::En))
}

fn card(pan: &str) -> Result<CardInput, Failure> {
    CardInput::parse(pan, "3012", SystemClock.now()).map_err(|e| Failure::usage(&e, Lang::En))
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::io(format!("demo check failed: {}", what())))
    }
}

/// Runs the demo day in `out` (recreated).
pub async fn run(out: &Path, lang: Lang, links: &LinkOptions) -> Result<(), Failure> {
    let db = out.join("journal.db");
    for file in [
        db.clone(),
        db.with_extension("db-wal"),
        db.with_extension("db-shm"),
        session::key_path(&db),
    ] {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::io(format!("removing {}: {e}", file.display()))),
        }
    }
    // The slips go to the virtual ESC/POS printer in process, through the real driver (job
    // protocol, `GS ( H` confirmation); each page is rendered to a PNG in `out/slips`.
    let slip_dir = out.join("slips");
    if slip_dir.exists() {
        std::fs::remove_dir_all(&slip_dir)
            .map_err(|e| Failure::io(format!("removing {}: {e}", slip_dir.display())))?;
    }
    let profile = links.profile;
    let device = VirtualPrinter::new(VirtualPrinterConfig {
        profile,
        png_dir: Some(slip_dir.clone()),
        baud: None,
        paper_out_after_mm: None,
    });
    let link = device.clone();
    let connector = FnConnector::new("virtual printer (in process)", move || {
        Ok(Box::new(link.connect()) as BoxLink)
    });
    let driver = Arc::new(EscPosPrinter::new(
        Arc::new(connector),
        profile,
        crate::printing::job_config(links.printer_timeout),
    ));
    let printer = Arc::new(DemoPrinter {
        slips: SlipPrinter::new(driver),
        device: device.clone(),
        calls: AtomicU32::new(0),
    });
    // The host: `poscore-host`'s simulator on a loopback port, spoken to over TCP in ISO 8583,
    // unless `--host` names one (training stays on the in-process simulated host). A lost
    // answer is a read timeout on a real link: the demo waits 2 s for it, not 30.
    let mut links = links.clone();
    if links.host.is_none() && !links.training {
        let sim = poscore_host::HostSim::new(poscore_host::SimConfig::default())
            .map_err(|e| Failure::io(format!("host simulator keys: {e}")))?;
        let address = sim
            .serve("127.0.0.1:0")
            .await
            .map_err(|e| Failure::io(format!("starting the host simulator: {e}")))?;
        say_host(lang, &address.to_string());
        links.host = Some(address.to_string());
        links.host_timeout = links.host_timeout.min(Duration::from_secs(2));
    }
    let links = &links;
    let session = session::start_with_printer(&db, links, printer)?;
    let terminal = session.terminal;
    let handle = terminal.handle();
    let progress = Progress::start(handle.events(), lang);
    let mut events = handle.events();
    let say = |zh: &str, en: &str| {
        println!(
            "{}",
            if lang == Lang::Zh {
                zh.to_string()
            } else {
                en.to_string()
            }
        )
    };

    say(
        "1. 预授权 500.00（第二张签购单打印到一半时缺纸）",
        "1. pre-auth 500.00 (the paper runs out in the middle of the second slip)",
    );
    let first = step(
        &handle,
        lang,
        "demo-1-preauth",
        Command::PreAuth {
            amount: cny("500.00")?,
            card: card("6222021234567890128")?,
        },
    )
    .await?;
    let held = wait_for(&mut events, "hold of the print queue", |e| {
        matches!(e, Event::PrintingHeld { .. })
    })
    .await?;
    if let Event::PrintingHeld { reason, remedy } = &held {
        say(
            &format!("   打印队列暂停（{reason}）：{}", remedy.0),
            &format!("   the print queue holds ({reason}): {}", remedy.1),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    device.clear();
    say(
        "   已换纸（装入新纸卷）；打印队列自行恢复……",
        "   paper replaced (a new roll loaded); the queue resumes by itself…",
    );
    wait_for(&mut events, "resume of the print queue", |e| {
        matches!(e, Event::PrintingResumed)
    })
    .await?;
    handle.idle().await.map_err(|e| Failure::journal(&e))?;

    say(
        "2. 预授权 300.98（主机应答丢失 → 冲正）",
        "2. pre-auth 300.98 (the host's answer is lost → reversal)",
    );
    let lost = step(
        &handle,
        lang,
        "demo-2-lost",
        Command::PreAuth {
            amount: cny("300.98")?,
            card: card("4111111111111111")?,
        },
    )
    .await?;
    handle.idle().await.map_err(|e| Failure::journal(&e))?;
    say(
        "3. 预授权完成 520.00（第 1 笔）",
        "3. completion 520.00 of the first pre-auth",
    );
    let completion = step(
        &handle,
        lang,
        "demo-3-complete",
        Command::Complete {
            original_trace: first.trace,
            amount: cny("520.00")?,
        },
    )
    .await?;
    say(
        "4. 预授权 200.00，然后预授权撤销",
        "4. pre-auth 200.00, then pre-auth void",
    );
    let second = step(
        &handle,
        lang,
        "demo-4a-preauth",
        Command::PreAuth {
            amount: cny("200.00")?,
            card: card("5555555555554444")?,
        },
    )
    .await?;
    let void = step(
        &handle,
        lang,
        "demo-4b-void",
        Command::Void {
            original_trace: second.trace,
        },
    )
    .await?;
    say(
        "5. 预授权完成撤销（第 3 步的完成）",
        "5. completion void of step 3's completion",
    );
    let complete_void = step(
        &handle,
        lang,
        "demo-5-complete-void",
        Command::CompleteVoid {
            original_trace: completion.trace,
        },
    )
    .await?;
    handle.idle().await.map_err(|e| Failure::journal(&e))?;
    say("6. 重打印最后一张签购单", "6. reprint of the last slip");
    let request_id = RequestId::parse("demo-6-reprint").map_err(|e| Failure::usage(&e, lang))?;
    match handle
        .submit(
            request_id,
            Command::Reprint {
                trace: None,
                copy: None,
            },
        )
        .await
    {
        Ok(outcome) => println!("  {}", output::reprint_outcome(&outcome, lang)),
        Err(e) => return Err(Failure::refused(&e, lang)),
    }
    finish_terminal(terminal, &handle).await?;
    let seen = progress.stop().await;

    let pages = device.pages();
    let complete = pages.iter().filter(|p| p.complete).count();
    let cut_short = pages.len() - complete;
    let reprint_pages: Vec<_> = pages
        .iter()
        .filter(|p| p.complete && p.page.text().contains("REPRINT"))
        .collect();

    let (engine, _) = session::open_engine(&db)?;
    let journal = engine.journal();
    let mut records = Vec::new();
    journal
        .for_each(|r| {
            records.push(r);
            Ok(())
        })
        .map_err(|e| Failure::journal(&e))?;
    println!();
    say("汇总（来自交易日志）：", "Summary (from the journal):");
    print!("{}", output::table(&records, lang));
    println!();
    say("签购单（来自交易日志）：", "Slips (from the journal):");
    print!(
        "{}",
        output::print_jobs_table(&records, &seen.held_history, lang)
    );
    println!();
    let pngs = pages.iter().filter(|p| p.png.is_some()).count();
    println!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "打印签购单 {complete} 张，缺纸截断 {cut_short} 张（虚拟打印机，共 {pngs} 张图片，在 {}）；交易日志：{}",
                slip_dir.display(),
                db.display()
            ),
            Lang::En => format!(
                "{complete} slips printed, {cut_short} cut short by the paper-out (virtual printer, {pngs} PNGs in {}); journal: {}",
                slip_dir.display(),
                db.display()
            ),
        }
    );

    // Final states.
    let state_of = |trace: TraceNumber| {
        records
            .iter()
            .find(|r| r.trace == trace)
            .map(|r| (r.state, r.reversal.clone()))
    };
    let expected = [
        (
            first.trace,
            TxnState::Approved,
            "pre-auth open again after its completion was voided",
        ),
        (lost.trace, TxnState::Reversed, "lost answer reversed"),
        (completion.trace, TxnState::Voided, "completion voided"),
        (second.trace, TxnState::Voided, "pre-auth voided"),
        (void.trace, TxnState::Approved, "pre-auth void approved"),
        (
            complete_void.trace,
            TxnState::Approved,
            "completion void approved",
        ),
    ];
    for (trace, want, what) in expected {
        match state_of(trace) {
            Some((state, _)) if state == want => {}
            found => {
                return Err(Failure::io(format!(
                    "demo check failed: trace {trace} ({what}) is {found:?}, expected {want}"
                )));
            }
        }
    }
    check(
        matches!(state_of(lost.trace), Some((_, Some(r))) if r.state == ReversalState::Done),
        || "the lost answer's reversal is not done".into(),
    )?;

    // Every approved transaction's copies printed, each confirmed.
    for record in records.iter().filter(|r| {
        matches!(
            r.state,
            TxnState::Approved | TxnState::Completed | TxnState::Voided
        )
    }) {
        for copy in [SlipCopy::Merchant, SlipCopy::Cardholder] {
            check(
                record.print_jobs.iter().any(|j| {
                    j.copy == copy
                        && j.kind == PrintKind::Original
                        && j.state == PrintJobState::Printed
                }),
                || {
                    format!(
                        "trace {}: its {copy} copy was not printed: {:?}",
                        record.trace, record.print_jobs
                    )
                },
            )?;
        }
        check(
            record
                .print_jobs
                .iter()
                .all(|j| j.state == PrintJobState::Printed),
            || format!("trace {}: a slip is not printed", record.trace),
        )?;
    }
    // The hold and the resume, from the journal's event log.
    let log = journal
        .events_of(first.id)
        .map_err(|e| Failure::journal(&e))?;
    let held_logged = log.iter().any(|e| {
        e.entity == "print_job" && e.to == "held" && e.cause.contains(Condition::PaperOut.code())
    });
    let resumed_logged = log
        .iter()
        .any(|e| e.entity == "print_job" && e.from.as_deref() == Some("held") && e.to == "queued");
    check(held_logged, || {
        "the journal does not show the paper-out hold".into()
    })?;
    check(resumed_logged, || {
        "the journal does not show the resume".into()
    })?;
    check(
        seen.resumed >= 1
            && seen
                .holds
                .iter()
                .any(|(reason, _)| reason == Condition::PaperOut.code()),
        || format!("the hold and resume were not shown: {seen:?}"),
    )?;
    let health = journal
        .printer_health(engine.config().printing.roll_length_mm)
        .map_err(|e| Failure::journal(&e))?;
    check(health.paper_changes >= 1, || {
        "no paper change counted".into()
    })?;
    // The reprint, on paper.
    check(!reprint_pages.is_empty(), || "no page says REPRINT".into())?;
    check(
        records.iter().any(|r| {
            r.print_jobs
                .iter()
                .any(|j| j.kind == PrintKind::Reprint && j.state == PrintJobState::Printed)
        }),
        || "the journal has no printed reprint".into(),
    )?;
    for page in &reprint_pages {
        if let Some(png) = &page.png {
            println!(
                "{}",
                match lang {
                    Lang::Zh => format!("重打印页：{}", png.display()),
                    Lang::En => format!("reprint page: {}", png.display()),
                }
            );
        }
    }
    say(
        "打印队列曾因缺纸暂停并已自动恢复；每笔成功交易的签购单均已打印；重打印页带“重打印”标记。",
        "The print queue held for paper out and resumed by itself; every approved transaction's slips printed; the reprint page says REPRINT.",
    );
    say("所有最终状态正确。", "All final states are as expected.");
    Ok(())
}

/// Says where the demo's host simulator listens.
fn say_host(lang: Lang, address: &str) {
    match lang {
        Lang::Zh => println!("主机模拟器（ISO 8583 over TCP）：{address}"),
        Lang::En => println!("host simulator (ISO 8583 over TCP): {address}"),
    }
}
