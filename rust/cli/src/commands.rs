//! The commands: each opens the journal, does its one job, and finishes pending work.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use poscore::card::CardInput;
use poscore::ids::{RequestId, TraceNumber};
use poscore::journal::backup::{self as journal_backup, BackupError};
use poscore::journal::{PrinterHealth, TEAR_OFF};
use poscore::money::Money;
use poscore::print::Condition;
use poscore::txn::TxnState;
use poscore::{Command, CommandOutcome, Lang, TxnRecord};
use poscore_terminal::{Clock, SystemClock, TerminalError, TerminalHandle};

use crate::output;
use crate::progress::Progress;
use crate::session::{self, LinkOptions, Session};
use crate::{Cmd, CopyArg, ExportFormat, Failure};

/// Runs one command.
pub async fn run(command: Cmd, db: &Path, lang: Lang, links: &LinkOptions) -> Result<(), Failure> {
    match command {
        Cmd::Demo { out } => crate::demo::run(&out, lang, links).await,
        Cmd::Preauth {
            amount,
            pan,
            expiry,
            request_id,
        } => {
            let currency = poscore::Config::default().currency;
            let amount = Money::parse(&amount, currency).map_err(|e| Failure::usage(&e, lang))?;
            let card = CardInput::parse(&pan, &expiry, SystemClock.now())
                .map_err(|e| Failure::usage(&e, lang))?;
            let request_id = parse_request_id(&request_id, lang)?;
            transact(
                db,
                links,
                lang,
                request_id,
                Command::PreAuth { amount, card },
            )
            .await
        }
        Cmd::Complete {
            trace,
            amount,
            offline,
            request_id,
        } => {
            let original_trace = parse_trace(&trace, lang)?;
            let amount = Money::parse(&amount, poscore::Config::default().currency)
                .map_err(|e| Failure::usage(&e, lang))?;
            let command = if offline {
                Command::CompleteOffline {
                    original_trace,
                    amount,
                }
            } else {
                Command::Complete {
                    original_trace,
                    amount,
                }
            };
            let request_id = request_id_or_fresh(request_id, "complete", lang)?;
            transact(db, links, lang, request_id, command).await
        }
        Cmd::Void { trace, request_id } => {
            let original_trace = parse_trace(&trace, lang)?;
            let request_id = request_id_or_fresh(request_id, "void", lang)?;
            transact(
                db,
                links,
                lang,
                request_id,
                Command::Void { original_trace },
            )
            .await
        }
        Cmd::CompleteVoid { trace, request_id } => {
            let original_trace = parse_trace(&trace, lang)?;
            let request_id = request_id_or_fresh(request_id, "complete-void", lang)?;
            transact(
                db,
                links,
                lang,
                request_id,
                Command::CompleteVoid { original_trace },
            )
            .await
        }
        Cmd::SignOn => {
            let request_id = request_id_or_fresh(None, "sign-on", lang)?;
            transact(db, links, lang, request_id, Command::SignOn).await
        }
        Cmd::HostSim {
            listen,
            ledger,
            script,
            control,
            tls_cert,
            tls_key,
        } => {
            let tls = tls_cert.zip(tls_key);
            host_sim(
                HostSimArgs {
                    listen,
                    ledger: ledger.as_deref(),
                    script: script.as_deref(),
                    control,
                    tls: tls.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
                },
                lang,
            )
            .await
        }
        Cmd::Settle => {
            let request_id = request_id_or_fresh(None, "settle", lang)?;
            transact(db, links, lang, request_id, Command::Settle).await
        }
        Cmd::RetryReversal { trace } => {
            let trace = parse_trace(&trace, lang)?;
            let request_id = request_id_or_fresh(None, "retry-reversal", lang)?;
            transact(
                db,
                links,
                lang,
                request_id,
                Command::RetryReversal { trace },
            )
            .await
        }
        Cmd::Reprint { trace, copy } => {
            let trace = trace.map(|t| parse_trace(&t, lang)).transpose()?;
            let request_id = request_id_or_fresh(None, "reprint", lang)?;
            let command = Command::Reprint {
                trace,
                copy: copy.map(CopyArg::copy),
            };
            submit_and_finish(
                db,
                links,
                lang,
                request_id,
                command,
                output::reprint_outcome,
            )
            .await
            .map(|_| ())
        }
        Cmd::SettlementSlip { batch } => {
            let batch = batch
                .map(|b| poscore::ids::BatchNumber::parse(&b).map_err(|e| Failure::usage(&e, lang)))
                .transpose()?;
            let request_id = request_id_or_fresh(None, "settlement-slip", lang)?;
            transact(
                db,
                links,
                lang,
                request_id,
                Command::PrintSettlementSlip { batch },
            )
            .await
        }
        Cmd::ResumePrinting => {
            let request_id = request_id_or_fresh(None, "resume-printing", lang)?;
            submit_and_finish(
                db,
                links,
                lang,
                request_id,
                Command::ResumePrinting,
                output::outcome,
            )
            .await
            .map(|_| ())
        }
        Cmd::Diagnose { trace } => crate::inspect::diagnose(db, &trace, lang),
        Cmd::Runbook { json } => {
            crate::inspect::runbook(json, lang);
            Ok(())
        }
        Cmd::PrinterHealth {
            json,
            roll_length_mm,
        } => crate::inspect::printer_health(db, roll_length_mm, json, lang),
        Cmd::EReceipt { trace, out, copy } => {
            crate::ereceipt::run(db, links, lang, &trace, &out, copy.map(CopyArg::copy)).await
        }
        Cmd::Sign { trace, strokes } => crate::sign::run(db, links, lang, &trace, &strokes).await,
        Cmd::Recover => recover(db, links, lang).await,
        Cmd::PrinterStatus { timeout_ms } => {
            crate::printing::status(links.printer.as_deref(), &links.profile, timeout_ms, lang)
                .await
        }
        Cmd::PrintTest { timeout_ms } => {
            crate::printing::print_test(links.printer.as_deref(), &links.profile, timeout_ms, lang)
                .await
        }
        Cmd::PrinterSim(args) => crate::printing::simulate(&args, &links.profile, lang).await,
        Cmd::List { limit } => {
            let (engine, _) = session::open_engine(db)?;
            let records = engine
                .journal()
                .recent(limit)
                .map_err(|e| Failure::journal(&e))?;
            print!("{}", output::table(&records, lang));
            Ok(())
        }
        Cmd::Show { trace } => {
            let trace = parse_trace(&trace, lang)?;
            let (engine, _) = session::open_engine(db)?;
            let journal = engine.journal();
            let record = journal
                .find_by_trace(trace)
                .map_err(|e| Failure::journal(&e))?;
            let Some(record) = record else {
                return Err(Failure::refused(
                    &poscore::CommandError::OriginalNotFound { trace },
                    lang,
                ));
            };
            let history = journal
                .events_of(record.id)
                .map_err(|e| Failure::journal(&e))?;
            print!("{}", output::details(&record, &history, lang));
            Ok(())
        }
        Cmd::Export { format, batch } => {
            let batch = batch
                .map(|b| poscore::ids::BatchNumber::parse(&b).map_err(|e| Failure::usage(&e, lang)))
                .transpose()?;
            export(db, format, batch)
        }
        Cmd::Backup { file } => backup(db, &file, lang),
        Cmd::Restore { file, force } => restore(db, &file, force, lang),
        Cmd::Simulate { count, seed } => crate::simulate::run(db, links, lang, count, seed).await,
    }
}

/// Reads a trace number; a bad one is a usage error.
pub fn parse_trace(text: &str, lang: Lang) -> Result<TraceNumber, Failure> {
    TraceNumber::parse(text).map_err(|e| Failure::usage(&e, lang))
}

fn parse_request_id(text: &str, lang: Lang) -> Result<RequestId, Failure> {
    RequestId::parse(text).map_err(|e| Failure::usage(&e, lang))
}

/// The given request id, or a fresh one (`void-<nanoseconds>-<pid>`).
pub fn request_id_or_fresh(
    given: Option<String>,
    what: &str,
    lang: Lang,
) -> Result<RequestId, Failure> {
    match given {
        Some(text) => parse_request_id(&text, lang),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let fresh = format!("{what}-{nanos}-{}", std::process::id());
            parse_request_id(&fresh, lang)
        }
    }
}

/// Submits one transaction command, prints its outcome, finishes pending work, and maps the
/// outcome to the exit code (1 when the transaction was not approved).
async fn transact(
    db: &Path,
    links: &LinkOptions,
    lang: Lang,
    request_id: RequestId,
    command: Command,
) -> Result<(), Failure> {
    let outcome = submit_and_finish(db, links, lang, request_id, command, output::outcome).await?;
    match outcome {
        CommandOutcome::Transaction(record) if record.state != TxnState::Approved => {
            Err(Failure::not_approved())
        }
        _ => Ok(()),
    }
}

/// Starts the terminal, shows print progress, submits one command, prints its outcome with
/// `show`, and finishes pending work (reversals, slips) before it returns. A refusal is exit
/// 1; slips held for the printer are reported but do not fail the command.
pub async fn submit_and_finish(
    db: &Path,
    links: &LinkOptions,
    lang: Lang,
    request_id: RequestId,
    command: Command,
    show: fn(&CommandOutcome, Lang) -> String,
) -> Result<CommandOutcome, Failure> {
    let session = session::start(db, links, lang)?;
    report_recovery(&session, lang);
    let handle = session.terminal.handle();
    let progress = Progress::start(handle.events(), lang);
    let outcome = handle.submit(request_id, command).await;
    if let Ok(outcome) = &outcome {
        println!("{}", show(outcome, lang));
    }
    let finished = finish(session, &handle).await;
    progress.stop().await;
    let health = finished?;
    report_waiting(&health, lang);
    match outcome {
        Ok(outcome) => Ok(outcome),
        Err(TerminalError::Refused(error)) => Err(refusal(&error, lang)),
        Err(error) => Err(Failure::journal(&error)),
    }
}

fn refusal(error: &poscore::CommandError, lang: Lang) -> Failure {
    match error {
        poscore::CommandError::Journal(e) => Failure::journal(e),
        other => Failure::refused(other, lang),
    }
}

/// Waits until reversals and slips due now are done, then stops the terminal; returns the
/// printer's figures (slips still waiting, why printing is held).
///
/// Slips held for a printer fault are resumed first when the printer says it can print
/// again. A printer that stays in its fault does not keep the command running: the held
/// slips stay in the journal and print with a later command.
pub async fn finish(session: Session, handle: &TerminalHandle) -> Result<PrinterHealth, Failure> {
    let roll = session.config.printing.roll_length_mm;
    resume_if_ready(&session, handle, roll).await;
    let idle = handle.idle().await;
    let health = handle
        .read(move |journal| journal.printer_health(roll))
        .await;
    session.terminal.shutdown().await;
    idle.map_err(|e| Failure::journal(&e))?;
    health
        .map_err(|e| Failure::journal(&e))?
        .map_err(|e| Failure::journal(&e))
}

/// Printing is held for a printer fault and the printer can print now: resume at once
/// (the driver would too, at its next probe, which may come after the command ended).
async fn resume_if_ready(session: &Session, handle: &TerminalHandle, roll: u32) {
    let held = handle
        .read(move |journal| journal.printer_health(roll).map(|h| h.held_reason))
        .await;
    let Ok(Ok(Some(reason))) = held else { return };
    if reason == TEAR_OFF {
        return;
    }
    let ready = tokio::time::timeout(Duration::from_secs(5), session.printer.condition())
        .await
        .is_ok_and(|c| c.can_print());
    if ready {
        if let Ok(request_id) = request_id_or_fresh(None, "resume", Lang::En) {
            if let Err(e) = handle.submit(request_id, Command::ResumePrinting).await {
                log::warn!("resuming the held slips failed: {e}");
            }
        }
    }
}

/// Says which slips still wait, and why, after a command.
pub fn report_waiting(health: &PrinterHealth, lang: Lang) {
    if health.waiting == 0 {
        return;
    }
    let n = health.waiting;
    match &health.held_reason {
        Some(reason) => {
            let remedy = if reason == TEAR_OFF {
                (
                    "请撕下签购单后执行 resume-printing".to_string(),
                    "tear the slip off, then run resume-printing".to_string(),
                )
            } else {
                let (zh, en) = Condition::from_code(reason)
                    .unwrap_or(Condition::Unknown)
                    .remedy();
                (zh.to_string(), en.to_string())
            };
            let held = crate::progress::held_line(reason, &remedy, lang);
            eprintln!(
                "{}",
                match lang {
                    Lang::Zh => format!(
                        "{n} 张签购单保留在交易日志中等待打印（{held}）：打印机恢复后由下一条命令自动补打（或执行 poscore resume-printing）"
                    ),
                    Lang::En => format!(
                        "{n} slips not printed yet, kept in the journal ({held}): they print by themselves with the next command once the printer is ready (or run poscore resume-printing)"
                    ),
                }
            );
        }
        None => eprintln!(
            "{}",
            match lang {
                Lang::Zh => format!(
                    "{n} 张签购单保留在交易日志中稍后重试（原因见 poscore diagnose 凭证号）"
                ),
                Lang::En => format!(
                    "{n} slips not printed yet, kept in the journal and retried later (see poscore diagnose TRACE)"
                ),
            }
        ),
    }
}

/// Waits until the terminal is idle (no pending reversal or slip it can do now), then shuts
/// it down.
pub async fn finish_terminal(
    terminal: poscore_terminal::Terminal,
    handle: &TerminalHandle,
) -> Result<(), Failure> {
    let idle = handle.idle().await;
    terminal.shutdown().await;
    idle.map_err(|e| Failure::journal(&e))
}

fn report_recovery(session: &Session, lang: Lang) {
    if session.recovery.anything_done() {
        let r = &session.recovery;
        eprintln!(
            "{}",
            match lang {
                Lang::Zh => format!(
                    "已从交易日志恢复：{} 笔结果未知（待冲正），{} 笔未发送，{} 张签购单重新排队打印",
                    r.made_unknown, r.made_not_sent, r.print_jobs_requeued
                ),
                Lang::En => format!("recovered from the journal: {r}"),
            }
        );
    }
}

async fn recover(db: &Path, links: &LinkOptions, lang: Lang) -> Result<(), Failure> {
    let session = session::start(db, links, lang)?;
    let r = session.recovery;
    println!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "恢复完成：{} 笔结果未知（待冲正），{} 笔未发送，{} 条离线通知、{} 张签购单重新排队，{} 次结算重开",
                r.made_unknown,
                r.made_not_sent,
                r.advices_requeued,
                r.print_jobs_requeued,
                r.settlements_reopened
            ),
            Lang::En => format!("recovery done: {r}"),
        }
    );
    let handle = session.terminal.handle();
    let progress = Progress::start(handle.events(), lang);
    let finished = finish(session, &handle).await;
    progress.stop().await;
    report_waiting(&finished?, lang);
    let (engine, _) = session::open_engine(db)?;
    let mut open_reversals = 0;
    let mut failed_reversals = 0;
    let mut unprinted = 0;
    engine
        .journal()
        .for_each(|t: TxnRecord| {
            match t.reversal.as_ref().map(|r| r.state) {
                Some(poscore::txn::ReversalState::Pending) => open_reversals += 1,
                Some(poscore::txn::ReversalState::Failed) => failed_reversals += 1,
                _ => {}
            }
            unprinted += t
                .print_jobs
                .iter()
                .filter(|j| {
                    !matches!(
                        j.state,
                        poscore::txn::PrintJobState::Printed
                            | poscore::txn::PrintJobState::Delivered
                    )
                })
                .count();
            Ok(())
        })
        .map_err(|e| Failure::journal(&e))?;
    println!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "待冲正 {open_reversals} 笔，冲正失败 {failed_reversals} 笔（可用 retry-reversal 重试），未打印签购单 {unprinted} 张"
            ),
            Lang::En => format!(
                "{open_reversals} reversals pending, {failed_reversals} failed (retry with retry-reversal), {unprinted} slips not printed"
            ),
        }
    );
    Ok(())
}

/// Exit code of a backup error: 1 refused (a bad backup, unfinished work, a journal in use),
/// 2 usage (a wrong path), 3 I/O.
fn backup_failure(error: &BackupError, lang: Lang) -> Failure {
    match error {
        BackupError::NotFound { .. }
        | BackupError::IsDirectory { .. }
        | BackupError::SameFile { .. }
        | BackupError::TooLarge { .. } => Failure::usage(error, lang),
        BackupError::Foreign { .. }
        | BackupError::Truncated { .. }
        | BackupError::Corrupt { .. }
        | BackupError::SchemaTooNew { .. }
        | BackupError::JournalInUse { .. }
        | BackupError::WouldLoseWork { .. }
        | BackupError::JournalUnreadable { .. } => Failure::refused(error, lang),
        BackupError::Unreadable { .. } | BackupError::Io { .. } | BackupError::Sqlite { .. } => {
            Failure::journal(error)
        }
    }
}

/// `poscore backup FILE`: a consistent copy of the journal, then verified.
fn backup(db: &Path, file: &Path, lang: Lang) -> Result<(), Failure> {
    if !db.is_file() {
        return Err(Failure::io(format!(
            "no journal at {} (set --db) / 没有交易日志 {}（请用 --db 指定）",
            db.display(),
            db.display()
        )));
    }
    let (engine, _) = session::open_engine(db)?;
    let info =
        journal_backup::backup(engine.journal(), file).map_err(|e| backup_failure(&e, lang))?;
    drop(engine);
    let verified = journal_backup::verify_backup(file).map_err(|e| backup_failure(&e, lang))?;
    println!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "已备份到 {}：{} 笔交易，当前批次 {:06}，{} 字节，校验通过（不含密钥文件 {}.key）",
                file.display(),
                info.transactions,
                info.batch,
                verified.bytes,
                db.display()
            ),
            Lang::En => format!(
                "backed up to {}: {} transactions, batch {:06} open, {} bytes, verified (the key file {}.key is not in it)",
                file.display(),
                info.transactions,
                info.batch,
                verified.bytes,
                db.display()
            ),
        }
    );
    Ok(())
}

/// `poscore restore FILE [--force]`: verifies FILE, replaces the journal, keeps the old one,
/// and opens the restored journal once (migration and recovery).
fn restore(db: &Path, file: &Path, force: bool, lang: Lang) -> Result<(), Failure> {
    let report = journal_backup::restore(file, db, force, SystemClock.now())
        .map_err(|e| backup_failure(&e, lang))?;
    if !report.overridden.is_empty() {
        eprintln!(
            "{}",
            match lang {
                Lang::Zh => format!(
                    "已强制恢复；被替换的日志中尚有未完成的工作（保留在其副本中）：{}",
                    report.overridden.zh()
                ),
                Lang::En => format!(
                    "forced: the replaced journal still held {} (kept in its copy)",
                    report.overridden
                ),
            }
        );
    }
    let (_engine, recovery) = session::open_engine(db)?;
    let kept = report.replaced.as_ref().map(|p| p.display().to_string());
    println!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "已从 {} 恢复交易日志 {}：{} 笔交易，当前批次 {:06}{}",
                file.display(),
                db.display(),
                report.restored.transactions,
                report.restored.batch,
                kept.map(|k| format!("；原日志保留为 {k}"))
                    .unwrap_or_default()
            ),
            Lang::En => format!(
                "restored the journal {} from {}: {} transactions, batch {:06} open{}",
                db.display(),
                file.display(),
                report.restored.transactions,
                report.restored.batch,
                kept.map(|k| format!("; the replaced journal is kept as {k}"))
                    .unwrap_or_default()
            ),
        }
    );
    if recovery.anything_done() {
        println!(
            "{}",
            match lang {
                Lang::Zh => format!(
                    "恢复后处理：{} 笔结果未知（待冲正），{} 张签购单重新排队（下一条命令会处理）",
                    recovery.made_unknown, recovery.print_jobs_requeued
                ),
                Lang::En => format!("recovery on open: {recovery} (the next command finishes it)"),
            }
        );
    }
    Ok(())
}

fn export(
    db: &Path,
    format: ExportFormat,
    batch: Option<poscore::ids::BatchNumber>,
) -> Result<(), Failure> {
    let (engine, _) = session::open_engine(db)?;
    let wanted = move |record: &TxnRecord| batch.is_none_or(|b| record.batch == b);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| Failure::io(format!("writing the export: {e}"));
    let mut write_error = None;
    match format {
        ExportFormat::Json => {
            writeln!(out, "[").map_err(io)?;
            let mut first = true;
            engine
                .journal()
                .for_each(|record| {
                    if !wanted(&record) {
                        return Ok(());
                    }
                    let separator = if first { "" } else { "," };
                    first = false;
                    if let Err(e) = writeln!(out, "{separator}{}", record.to_export_json()) {
                        write_error.get_or_insert(e);
                    }
                    Ok(())
                })
                .map_err(|e| Failure::journal(&e))?;
            writeln!(out, "]").map_err(io)?;
        }
        ExportFormat::Csv => {
            writeln!(out, "{}", TxnRecord::CSV_HEADER).map_err(io)?;
            engine
                .journal()
                .for_each(|record| {
                    if !wanted(&record) {
                        return Ok(());
                    }
                    if let Err(e) = writeln!(out, "{}", record.to_csv_row()) {
                        write_error.get_or_insert(e);
                    }
                    Ok(())
                })
                .map_err(|e| Failure::journal(&e))?;
        }
    }
    if let Some(e) = write_error {
        return Err(io(e));
    }
    out.flush().map_err(io)
}

/// `poscore host-sim`'s options.
struct HostSimArgs<'a> {
    listen: std::net::SocketAddr,
    ledger: Option<&'a Path>,
    script: Option<&'a Path>,
    control: Option<std::net::SocketAddr>,
    /// The certificate chain and the key, PEM files.
    tls: Option<(&'a Path, &'a Path)>,
}

/// `poscore host-sim`: serves until killed. A bad script, certificate or key is a usage error.
async fn host_sim(args: HostSimArgs<'_>, lang: Lang) -> Result<(), Failure> {
    let usage = |message: String| Failure {
        exit_code: 2,
        message,
    };
    let mut sim = poscore_host::HostSim::new(poscore_host::SimConfig::default())
        .map_err(|e| Failure::io(format!("host-sim keys: {e}")))?;
    if let Some(path) = args.script {
        let script = poscore_host::Script::load(path)
            .map_err(|e| usage(format!("host-sim --script {}: {e}", path.display())))?;
        sim = sim.with_script(script);
    }
    if let Some(ledger) = args.ledger {
        sim = sim
            .with_ledger(ledger)
            .map_err(|e| Failure::io(format!("host-sim ledger {}: {e}", ledger.display())))?;
    }
    let listen = args.listen;
    let bound = match args.tls {
        Some((cert, key)) => {
            let read = |path: &Path, what: &str| {
                std::fs::read(path)
                    .map_err(|e| usage(format!("host-sim {what} {}: {e}", path.display())))
            };
            let (cert_pem, key_pem) = (read(cert, "--tls-cert")?, read(key, "--tls-key")?);
            sim.serve_tls(listen, &cert_pem, &key_pem)
                .await
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::InvalidInput => {
                        usage(format!("host-sim --tls-cert/--tls-key: {e}"))
                    }
                    _ => Failure::io(format!("listening on {listen}: {e}")),
                })?
        }
        None => sim
            .serve(listen)
            .await
            .map_err(|e| Failure::io(format!("listening on {listen}: {e}")))?,
    };
    let control = match args.control {
        Some(addr) => Some(
            sim.serve_control(addr)
                .await
                .map_err(|e| Failure::io(format!("control port {addr}: {e}")))?,
        ),
        None => None,
    };
    match control {
        Some(control) => println!("host-sim listening on {bound} control {control}"),
        None => println!("host-sim listening on {bound}"),
    }
    let _ = std::io::stdout().flush();
    let tls = if args.tls.is_some() { ", TLS" } else { "" };
    eprintln!(
        "{}",
        match lang {
            Lang::Zh => format!("主机模拟器运行中（ISO 8583{tls}，测试密钥）；按 Ctrl-C 退出"),
            Lang::En =>
                format!("host simulator running (ISO 8583{tls}, test keys); Ctrl-C to stop"),
        }
    );
    std::future::pending::<()>().await;
    Ok(())
}
