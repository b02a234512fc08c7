//! Crash test of the durable print queue: `kill -9` the terminal at every step of printing,
//! restart it, and check that every approved transaction ends with its slips, each copy
//! printed (or delivered), and that a copy whose attempt was cut off prints again marked
//! REPRINT.
//!
//! One `poscore printer-sim` runs for the whole test (a separate long-lived process, over a
//! slowed link so that a slip takes a while to go out, with a control port and a PNG
//! directory). On one journal, round after round (30, or `POSCORE_PRINT_KILL_ROUNDS`; the
//! choices come from a fixed seed, or `POSCORE_PRINT_KILL_SEED`):
//!
//! 1. in one round in three a printer fault is injected through the control port (paper
//!    out, cover open, a short overheat, a dropped link, no confirmation; now, mid-data or
//!    before the confirmation);
//! 2. `poscore --printer tcp:ADDR preauth …` runs and is sent SIGKILL after a seeded random
//!    delay spread over the whole run (start-up, the approval, each copy going out, the
//!    confirmations, between the copies), measured on round 0, which runs to its end; one
//!    round in six runs to its end too;
//! 3. in half of the fault rounds `poscore recover` runs while the fault still lasts (the
//!    copy is held or retried across the restart), in one round in four a `recover` is
//!    killed too; then the fault is cleared and `poscore recover` must exit 0;
//! 4. the export (`poscore export --format json`) and the host's ledger are checked with
//!    [`check_promises`], and the queue with [`check_print_queue`].
//!
//! At the end `recover` runs until every slip is printed (retries wait out their backoff),
//! and the test checks, from the export, `poscore show` of each transaction and the
//! printer's own counts (control `status`, the PNG directory):
//! - every job is printed or delivered, every approved transaction has both copies;
//! - a transaction whose slip was cut off by a restart has a job marked REPRINT;
//! - the printer confirmed at least every job the journal has printed, and at most one more
//!   per attempt cut off by a restart (a slip confirmed just before the kill, before the
//!   journal recorded it, is the honest duplicate, printed again marked REPRINT);
//! - every page the printer finished is in the PNG directory.
//!
//! The control port has no page-text command, so "exactly once as an original" per copy is
//! checked page by page in `rust/printer/tests/print_queue.rs` (in process); here the
//! journal's account is checked against the printer's counts.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use poscore_system_tests::{
    check_print_queue, check_promises, env_number, killed_by_signal, parse_ledger, poscore_binary,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// The card the test uses.
const PAN: &str = "6222021234567890128";
/// The copies of every slip (the default configuration prints two).
const COPIES: [&str; 2] = ["merchant", "cardholder"];
/// The printer link's speed: a 58 mm slip (≈1.5 kB) takes ≈130 ms to go out.
const BAUD: &str = "115200";
/// The faults a round may inject, in the control protocol's words.
const FAULTS: [&str; 5] = [
    "paper-out",
    "cover-open",
    "overheat=300ms",
    "drop",
    "never-confirm",
];
/// When they strike.
const TRIGGERS: [&str; 3] = ["now", "after-bytes=400", "before-confirm"];
/// How long one command may run before the test gives up on it.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);
/// How long the final drain (recover until everything is printed) may take.
const DRAIN_LIMIT: Duration = Duration::from_secs(150);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The simulated printer process; killed when dropped (the test's own child).
struct PrinterSim {
    child: Child,
    print_addr: String,
    control_addr: String,
    png_dir: PathBuf,
}

impl PrinterSim {
    fn start(bin: &Path, dir: &Path) -> PrinterSim {
        let png_dir = dir.join("pages");
        let mut child = Command::new(bin)
            .env("POSCORE_LOG", "info")
            .args([
                "--lang",
                "en",
                "printer-sim",
                "--listen",
                "127.0.0.1:0",
                "--control",
                "127.0.0.1:0",
                "--baud",
                BAUD,
                "--png-dir",
            ])
            .arg(&png_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(dir.join("printer-sim.log")).expect("printer-sim.log"))
            .spawn()
            .expect("spawn poscore printer-sim");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read printer-sim's first line");
        // Keep draining its output, so it never writes into a closed pipe.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        // "printer-sim listening on 127.0.0.1:PORT control 127.0.0.1:PORT"
        let words: Vec<&str> = line.split_whitespace().collect();
        let (Some(print_addr), Some(control_addr)) = (
            words
                .iter()
                .position(|w| *w == "on")
                .and_then(|i| words.get(i + 1)),
            words
                .iter()
                .position(|w| *w == "control")
                .and_then(|i| words.get(i + 1)),
        ) else {
            let _ = child.kill();
            panic!("printer-sim did not say where it listens: {line:?}");
        };
        PrinterSim {
            print_addr: print_addr.to_string(),
            control_addr: control_addr.to_string(),
            child,
            png_dir,
        }
    }

    /// Sends one control command and returns its reply line.
    fn control(&self, command: &str) -> String {
        let mut stream = TcpStream::connect(&self.control_addr)
            .expect("connect to the printer-sim control port");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        writeln!(stream, "{command}").expect("send a control command");
        let mut reply = String::new();
        BufReader::new(stream)
            .read_line(&mut reply)
            .expect("read the control reply");
        assert!(!reply.starts_with("error"), "control {command:?}: {reply}");
        reply.trim().to_string()
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.control("status")).expect("the status reply is JSON")
    }
}

impl Drop for PrinterSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The poscore command on the test's journal, printing to the simulated printer.
fn poscore(bin: &Path, db: &Path, ledger: &Path, printer: &str) -> Command {
    let mut command = Command::new(bin);
    command
        .env("POSCORE_LOG", "info")
        .args([
            "--lang",
            "en",
            "--printer",
            &format!("tcp:{printer}"),
            "--printer-timeout-ms",
            "1500",
            "--db",
        ])
        .arg(db)
        .arg("--sim-ledger")
        .arg(ledger);
    command
}

/// Runs a command to its end (bounded by [`COMMAND_LIMIT`]).
fn run(command: &mut Command, what: &str) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + COMMAND_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {COMMAND_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Starts a command and SIGKILLs it after `delay` (unless it ended before); returns whether
/// the kill landed and its output so far.
fn run_and_kill(
    command: &mut Command,
    delay: Duration,
    dir: &Path,
    what: &str,
) -> (bool, String, String) {
    let out_path = dir.join("killed.out");
    let err_path = dir.join("killed.err");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).expect("killed.out"))
        .stderr(fs::File::create(&err_path).expect("killed.err"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    std::thread::sleep(delay);
    // Child::kill sends SIGKILL on Unix; on a process that already ended it does no harm.
    let _ = child.kill();
    let status = child.wait().expect("wait");
    (
        killed_by_signal(&status),
        fs::read_to_string(&out_path).unwrap_or_default(),
        fs::read_to_string(&err_path).unwrap_or_default(),
    )
}

fn export(bin: &Path, db: &Path, ledger: &Path, printer: &str, context: &str) -> Value {
    let out = run(
        poscore(bin, db, ledger, printer).args(["export", "--format", "json"]),
        "poscore export",
    );
    assert!(
        out.status.success(),
        "{context}: export failed: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{context}: the export is not JSON ({e}): {}",
            text(&out.stdout)
        )
    })
}

fn recover(bin: &Path, db: &Path, ledger: &Path, printer: &str, context: &str) -> Output {
    let out = run(
        poscore(bin, db, ledger, printer).arg("recover"),
        "poscore recover",
    );
    assert!(
        out.status.success(),
        "{context}: recover exited {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// Jobs of the export, as (trace, copy, kind, state).
fn jobs(export: &Value) -> Vec<(String, String, String, String)> {
    let mut all = Vec::new();
    for txn in export.as_array().into_iter().flatten() {
        let trace = txn["trace"].as_str().unwrap_or("").to_string();
        for job in txn["print_jobs"].as_array().into_iter().flatten() {
            let f = |k: &str| job[k].as_str().unwrap_or("").to_string();
            all.push((trace.clone(), f("copy"), f("kind"), f("state")));
        }
    }
    all
}

/// Where a kill landed, from the export right after it.
#[derive(Debug, Default)]
struct Tally {
    rounds: u32,
    killed: u32,
    finished: u32,
    before_approval: u32,
    approved_no_slip_printed: u32,
    between_or_during_copies: u32,
    after_both_copies: u32,
    cut_off_prints: u32,
    fault_rounds: u32,
    recoveries_under_fault: u32,
    recoveries_killed: u32,
}

#[test]
fn kill_9_at_every_step_of_printing_keeps_every_slip() {
    let bin = poscore_binary();
    let help = run(Command::new(&bin).arg("--help"), "poscore --help");
    assert!(
        text(&help.stdout).contains("--printer"),
        "poscore has no --printer option yet: {}",
        text(&help.stdout)
    );
    let started = Instant::now();
    // Kept when the test fails (for a post-mortem), removed when it passes.
    let dir = tempfile::Builder::new()
        .prefix("poscore-print-kill9-")
        .tempdir()
        .expect("tempdir")
        .keep();
    eprintln!(
        "print kill -9: journal, ledger, printer log and pages in {} (removed if the test passes)",
        dir.display()
    );
    let db = dir.as_path().join("journal.db");
    let ledger_path = dir.as_path().join("host-ledger.jsonl");
    let sim = PrinterSim::start(&bin, dir.as_path());
    let printer = sim.print_addr.clone();
    let rounds = env_number("POSCORE_PRINT_KILL_ROUNDS", 30) as u32;
    let seed = env_number("POSCORE_PRINT_KILL_SEED", 0x0070_7269_6e74);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let mut full_run = Duration::from_millis(1500);
    let mut violations_seen: Vec<String> = Vec::new();

    for round in 0..rounds {
        tally.rounds += 1;
        let fault = (round > 0 && rng.random_ratio(1, 3)).then(|| {
            (
                TRIGGERS[rng.random_range(0..TRIGGERS.len())],
                FAULTS[rng.random_range(0..FAULTS.len())],
            )
        });
        let let_it_finish = round == 0 || rng.random_ratio(1, 6);
        // Spread over the whole run; one round in four within its first fifth (start-up,
        // recovery, the approval), where the moments are short.
        let span = full_run.as_millis() as u64;
        let span = if rng.random_ratio(1, 4) {
            span / 5
        } else {
            span * 3 / 2
        };
        let delay = Duration::from_millis(rng.random_range(0..=span.max(20)));
        let cents = loop {
            // Amounts whose cents make the simulated host misbehave are left out: this test
            // is about slips of approved transactions.
            let c = rng.random_range(0..100u32);
            if ![5, 51, 63, 68, 98].contains(&c) {
                break c;
            }
        };
        let amount = format!("{}.{cents:02}", rng.random_range(1..500u32));
        let request = format!("print-kill-{round}");
        let context = format!(
            "round {round} (seed {seed}, kill after {delay:?}{}, fault {fault:?})",
            if let_it_finish { ", let finish" } else { "" },
        );

        if let Some((trigger, fault)) = fault {
            tally.fault_rounds += 1;
            sim.control(&format!("inject {trigger} {fault}"));
        }
        let mut preauth = poscore(&bin, &db, &ledger_path, &printer);
        preauth.args([
            "preauth",
            "--amount",
            &amount,
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            &request,
        ]);
        if let_it_finish {
            let began = Instant::now();
            let out = run(&mut preauth, "poscore preauth");
            if round == 0 {
                assert!(
                    out.status.success(),
                    "{context}: the unfaulted pre-auth failed: {}",
                    text(&out.stderr)
                );
                full_run = began.elapsed();
            }
            tally.finished += 1;
        } else {
            let (killed, _, _) =
                run_and_kill(&mut preauth, delay, dir.as_path(), "poscore preauth");
            // Where it landed: the export runs recovery, as any restart does.
            let after = export(&bin, &db, &ledger_path, &printer, &context);
            let txn = after
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["request_id"].as_str() == Some(&request));
            if killed {
                tally.killed += 1;
            } else {
                tally.finished += 1;
            }
            match txn.filter(|_| killed) {
                None if !killed => {}
                None => tally.before_approval += 1,
                Some(txn) if txn["state"] != "approved" => tally.before_approval += 1,
                Some(txn) => {
                    let jobs = txn["print_jobs"].as_array().cloned().unwrap_or_default();
                    let printed = jobs.iter().filter(|j| j["state"] == "printed").count();
                    let cut = jobs
                        .iter()
                        .filter(|j| {
                            j["last_error"]
                                .as_str()
                                .is_some_and(|e| e.contains("restart"))
                        })
                        .count();
                    tally.cut_off_prints += cut as u32;
                    match printed {
                        0 if cut == 0 => tally.approved_no_slip_printed += 1,
                        n if n >= COPIES.len() => tally.after_both_copies += 1,
                        _ => tally.between_or_during_copies += 1,
                    }
                }
            }
        }

        if fault.is_some() && rng.random_ratio(1, 2) {
            // A restart while the fault still lasts: held or retried across it.
            tally.recoveries_under_fault += 1;
            let _ = run(
                poscore(&bin, &db, &ledger_path, &printer).arg("recover"),
                "poscore recover (fault still on)",
            );
        }
        if fault.is_some() {
            sim.control("clear");
        }
        if rng.random_ratio(1, 4) {
            tally.recoveries_killed += 1;
            let kill_after = Duration::from_millis(rng.random_range(10..=600));
            run_and_kill(
                poscore(&bin, &db, &ledger_path, &printer).arg("recover"),
                kill_after,
                dir.as_path(),
                "poscore recover",
            );
        }
        recover(&bin, &db, &ledger_path, &printer, &context);

        let exported = export(&bin, &db, &ledger_path, &printer, &context);
        let ledger = parse_ledger(&fs::read_to_string(&ledger_path).unwrap_or_default());
        let mut violations = check_promises(&exported, &ledger.entries);
        violations.extend(check_print_queue(&exported, &COPIES, false));
        if !violations.is_empty() {
            violations_seen = violations
                .iter()
                .map(|v| format!("{context}: {v}"))
                .collect();
            break;
        }
    }
    if !violations_seen.is_empty() {
        panic!(
            "violations (journal, ledger and printer log kept in {}):\n{}",
            dir.display(),
            violations_seen.join("\n")
        );
    }

    // Drain: recover until nothing waits (failed slips wait out their backoff).
    let context = format!("the final drain (seed {seed})");
    let deadline = Instant::now() + DRAIN_LIMIT;
    let mut drains = 0;
    let exported = loop {
        drains += 1;
        recover(&bin, &db, &ledger_path, &printer, &context);
        let exported = export(&bin, &db, &ledger_path, &printer, &context);
        if jobs(&exported)
            .iter()
            .all(|(_, _, _, state)| state == "printed" || state == "delivered")
        {
            break exported;
        }
        assert!(
            Instant::now() < deadline,
            "{context}: slips still waiting after {drains} recoveries: {:?}",
            jobs(&exported)
        );
        std::thread::sleep(Duration::from_millis(500));
    };

    let ledger = parse_ledger(&fs::read_to_string(&ledger_path).unwrap_or_default());
    let mut violations = check_promises(&exported, &ledger.entries);
    violations.extend(check_print_queue(&exported, &COPIES, true));

    // A transaction whose slip was cut off by a restart has a job marked REPRINT.
    let mut cut_events = 0usize;
    let txns = exported.as_array().cloned().unwrap_or_default();
    let approved: Vec<&Value> = txns.iter().filter(|t| t["state"] == "approved").collect();
    for txn in &txns {
        let trace = txn["trace"].as_str().unwrap_or("");
        let shown = run(
            poscore(&bin, &db, &ledger_path, &printer).args(["show", trace]),
            "poscore show",
        );
        assert!(
            shown.status.success(),
            "{context}: show {trace}: {}",
            text(&shown.stderr)
        );
        let history = text(&shown.stdout);
        let cut = history
            .lines()
            .filter(|l| l.contains("print_job") && l.contains("cut off by a restart"))
            .count();
        cut_events += cut;
        let reprints = txn["print_jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|j| j["kind"] == "reprint")
            .count();
        if cut > 0 && reprints == 0 {
            violations.push(format!("trace {trace}: {cut} print attempt(s) cut off by a restart, but no copy is marked REPRINT:\n{history}"));
        }
    }
    // The printer's account against the journal's.
    let printed_jobs = jobs(&exported)
        .iter()
        .filter(|(_, _, _, state)| state == "printed")
        .count();
    let status = sim.status();
    let confirmed = status["confirmed"].as_u64().unwrap_or(0) as usize;
    let pages = status["pages"].as_u64().unwrap_or(0) as usize;
    if confirmed < printed_jobs {
        violations.push(format!("the journal has {printed_jobs} slips printed but the printer confirmed only {confirmed}"));
    }
    if confirmed > printed_jobs + cut_events {
        violations
            .push(format!("the printer confirmed {confirmed} slips: more than the {printed_jobs} printed plus {cut_events} cut off by a restart"));
    }
    if pages < confirmed {
        violations.push(format!(
            "the printer finished {pages} pages for {confirmed} confirmed slips"
        ));
    }
    let pngs = fs::read_dir(&sim.png_dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".png"))
                .count()
        })
        .unwrap_or(0);
    if pngs != pages {
        violations.push(format!(
            "the printer finished {pages} pages but wrote {pngs} PNGs"
        ));
    }
    if approved.is_empty() {
        violations.push("no transaction was approved: the test exercised nothing".into());
    }
    eprintln!(
        "print kill -9: {} rounds in {:?} (a whole pre-auth with its slips takes {full_run:?}; {} killed, {} ran to the end; kills landed: {} before the approval, {} after it before any slip, {} between or during the copies, {} after both; {} print attempts cut off; {} fault rounds, {} recoveries under a fault, {} recoveries killed); {} approved, {printed_jobs} slips printed, {confirmed} confirmed, {pages} pages, {cut_events} cut-off events, {drains} final recoveries",
        tally.rounds,
        started.elapsed(),
        tally.killed,
        tally.finished,
        tally.before_approval,
        tally.approved_no_slip_printed,
        tally.between_or_during_copies,
        tally.after_both_copies,
        tally.cut_off_prints,
        tally.fault_rounds,
        tally.recoveries_under_fault,
        tally.recoveries_killed,
        approved.len(),
    );
    if !violations.is_empty() {
        panic!(
            "{context}: violations (kept in {}):\n{}",
            dir.display(),
            violations.join("\n")
        );
    }
    drop(sim);
    assert!(
        tally.killed > 0,
        "no kill landed: every run ended before its kill"
    );
    let _ = fs::remove_dir_all(&dir);
}
