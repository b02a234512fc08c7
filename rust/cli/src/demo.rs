//! `poscore demo`: a scripted day on a fresh journal against the simulated host.
//!
//! 1. a pre-auth, approved;
//! 2. a pre-auth whose answer is lost (amount ending in .98), then reversed;
//! 3. a completion of the first pre-auth;
//! 4. a pre-auth void (of a second approved pre-auth);
//! 5. a completion void (of the completion from step 3).
//!
//! It prints each step, then a summary table from the journal, and checks every final state.
//! The slips go to the virtual ESC/POS printer in process and are saved as PNGs in `out/slips`.

use std::path::Path;
use std::sync::Arc;

use poscore_escpos::Profile;
use poscore_printer::job::{EscPosPrinter, JobConfig};
use poscore_printer::slip::SlipPrinter;
use poscore_printer::transport::{BoxLink, FnConnector};
use poscore_printer::virtual_printer::{VirtualPrinter, VirtualPrinterConfig};

use poscore::card::CardInput;
use poscore::ids::{RequestId, TraceNumber};
use poscore::money::Money;
use poscore::txn::{ReversalState, TxnState};
use poscore::{Command, CommandOutcome, Lang, TxnRecord};
use poscore_terminal::{Clock, SystemClock, TerminalHandle};

use crate::Failure;
use crate::commands::finish_terminal;
use crate::output;
use crate::session::{self, LinkOptions};

/// The merchant name on the demo's slips.
const DEMO_MERCHANT: &str = "演示商户 DEMO SHOP";

async fn step(handle: &TerminalHandle, lang: Lang, id: &str, command: Command) -> Result<TxnRecord, Failure> {
    let request_id = RequestId::parse(id).expect("demo ids are valid");
    match handle.submit(request_id, command).await {
        Ok(outcome) => {
            println!("  {}", output::outcome(&outcome, lang));
            match outcome {
                CommandOutcome::Transaction(record) => Ok(record),
                other => Err(Failure::io(format!("demo step {id} ended unexpectedly: {other:?}"))),
            }
        }
        Err(e) => Err(Failure::refused(&e, lang)),
    }
}

fn cny(text: &str) -> Money {
    Money::parse(text, poscore::money::Currency::CNY).expect("demo amounts are valid")
}

fn card(pan: &str) -> CardInput {
    CardInput::parse(pan, "3012", SystemClock.now()).expect("demo cards are valid")
}

/// Runs the demo day in `out` (recreated).
pub async fn run(out: &Path, lang: Lang, links: &LinkOptions) -> Result<(), Failure> {
    let db = out.join("journal.db");
    for file in [db.clone(), db.with_extension("db-wal"), db.with_extension("db-shm"), session::key_path(&db)] {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::io(format!("removing {}: {e}", file.display()))),
        }
    }
    // The slips go to the virtual ESC/POS printer in process, through the real driver (job
    // protocol, `GS ( H` confirmation); each slip is rendered to a PNG in `out/slips`.
    let slip_dir = out.join("slips");
    if slip_dir.exists() {
        std::fs::remove_dir_all(&slip_dir).map_err(|e| Failure::io(format!("removing {}: {e}", slip_dir.display())))?;
    }
    let virtual_printer = VirtualPrinter::new(VirtualPrinterConfig {
        profile: Profile::mm58(),
        png_dir: Some(slip_dir.clone()),
        baud: None,
        paper_out_after_mm: None,
    });
    let link = virtual_printer.clone();
    let connector = FnConnector::new("virtual printer (in process)", move || Ok(Box::new(link.connect()) as BoxLink));
    let driver = Arc::new(EscPosPrinter::new(Arc::new(connector), Profile::mm58(), JobConfig::default()));
    let (terminal, _) = session::start_with_printer(&db, links, Arc::new(SlipPrinter::new(driver, DEMO_MERCHANT)))?;
    let handle = terminal.handle();
    let say = |zh: &str, en: &str| println!("{}", if lang == Lang::Zh { zh.to_string() } else { en.to_string() });

    say("1. 预授权 500.00", "1. pre-auth 500.00");
    let first = step(&handle, lang, "demo-1-preauth", Command::PreAuth { amount: cny("500.00"), card: card("6222021234567890128") }).await?;
    say("2. 预授权 300.98（主机应答丢失 → 冲正）", "2. pre-auth 300.98 (the host's answer is lost → reversal)");
    let lost = step(&handle, lang, "demo-2-lost", Command::PreAuth { amount: cny("300.98"), card: card("4111111111111111") }).await?;
    handle.idle().await.map_err(|e| Failure::journal(&e))?;
    say("3. 预授权完成 520.00（第 1 笔）", "3. completion 520.00 of the first pre-auth");
    let completion = step(&handle, lang, "demo-3-complete", Command::Complete { original_trace: first.trace, amount: cny("520.00") }).await?;
    say("4. 预授权 200.00，然后预授权撤销", "4. pre-auth 200.00, then pre-auth void");
    let second = step(&handle, lang, "demo-4a-preauth", Command::PreAuth { amount: cny("200.00"), card: card("5555555555554444") }).await?;
    let void = step(&handle, lang, "demo-4b-void", Command::Void { original_trace: second.trace }).await?;
    say("5. 预授权完成撤销（第 3 步的完成）", "5. completion void of step 3's completion");
    let complete_void = step(&handle, lang, "demo-5-complete-void", Command::CompleteVoid { original_trace: completion.trace }).await?;
    finish_terminal(terminal, &handle).await?;
    let slips = virtual_printer.pages().iter().filter(|page| page.complete).count();

    let (engine, _) = session::open_engine(&db)?;
    let mut records = Vec::new();
    engine.journal().for_each(|r| {
        records.push(r);
        Ok(())
    }).map_err(|e| Failure::journal(&e))?;
    println!();
    say("汇总（来自交易日志）：", "Summary (from the journal):");
    print!("{}", output::table(&records, lang));
    println!("{}", match lang {
        Lang::Zh => format!("打印签购单 {slips} 张（虚拟打印机，图片在 {}）；交易日志：{}", slip_dir.display(), db.display()),
        Lang::En => format!("{slips} slips printed (virtual printer, PNGs in {}); journal: {}", slip_dir.display(), db.display()),
    });

    let state_of = |trace: TraceNumber| records.iter().find(|r| r.trace == trace).map(|r| (r.state, r.reversal.clone()));
    let expected = [
        (first.trace, TxnState::Approved, "pre-auth open again after its completion was voided"),
        (lost.trace, TxnState::Reversed, "lost answer reversed"),
        (completion.trace, TxnState::Voided, "completion voided"),
        (second.trace, TxnState::Voided, "pre-auth voided"),
        (void.trace, TxnState::Approved, "pre-auth void approved"),
        (complete_void.trace, TxnState::Approved, "completion void approved"),
    ];
    for (trace, want, what) in expected {
        match state_of(trace) {
            Some((state, _)) if state == want => {}
            found => return Err(Failure::io(format!("demo check failed: trace {trace} ({what}) is {found:?}, expected {want}"))),
        }
    }
    if !matches!(state_of(lost.trace), Some((_, Some(r))) if r.state == ReversalState::Done) {
        return Err(Failure::io("demo check failed: the lost answer's reversal is not done".into()));
    }
    say("所有最终状态正确。", "All final states are as expected.");
    Ok(())
}
