//! The real-process chaos test: the `poscore` binary against `poscore host-sim` and
//! `poscore printer-sim` on loopback, with the terminal killed, the link cut and the printer
//! faulted at random, over at least 200 transactions; then every fault stops, the terminal is
//! brought back to idle, and every promise of `DESIGN.md` is checked on the JSON export, the
//! host's ledger, the printer's counts and the journal's files.
//!
//! The three processes:
//! - `poscore host-sim --listen 127.0.0.1:0 --control 127.0.0.1:0 --ledger FILE` (its ledger
//!   of approvals and reversals, fsync'd before it answers, is the host's truth);
//! - `poscore printer-sim --listen 127.0.0.1:0 --control 127.0.0.1:0`;
//! - `poscore --host ADDR --printer ADDR --host-timeout-ms 400 --printer-timeout-ms 500 …`,
//!   one process per cashier command, on one journal.
//!
//! Each step (the choices come from a seed: `POSCORE_CHAOS_SEED`, printed on failure; steps
//! run until `POSCORE_CHAOS_TXNS` distinct transactions (request ids) were sent, default 200):
//! 1. maybe a link fault for the next reply through host-sim's control port (`drop`,
//!    `close-mid-frame`, `delay 3000ms`, `bad-mac`, `twice`, `sign-on`), or host-sim killed
//!    and restarted on the same port (it reloads its ledger), between two commands or in the
//!    middle of one;
//! 2. maybe a printer fault through printer-sim's control port (`inject now|after-bytes=N|
//!    before-confirm paper-out|cover-open|overheat=300ms|drop|never-confirm`), cleared a few
//!    steps later;
//! 3. one cashier command with a fixed request id: a pre-auth (some with the amounts that make
//!    the host decline, lose the answer, never answer or sign its answer badly), a completion
//!    (one in five offline) or a void of an approved pre-auth, a completion void, a settlement
//!    now and then (one in three found unbalanced by the host: batch upload), a bare
//!    `recover`, or the same command again with the same request id (a double tap, or the
//!    cashier retrying after a crash: it must come back as the same transaction);
//! 4. in one step in four the terminal is sent SIGKILL a random few milliseconds after its
//!    start (spread over the whole length of a command); the next command recovers.
//!
//! Every 25 steps the export (`poscore export --format json`, which recovers first) is
//! checked against the host's ledger with the promises that hold at any moment
//! ([`check_promises`], [`check_slips`], [`check_print_queue`],
//! [`check_no_double_authorization`], [`check_originals_once`], and the requests asked).
//!
//! At the end the printer is cleared and host-sim restarted plain; `poscore recover`,
//! `resume-printing` and `retry-reversal` run until the terminal is idle, and a last `settle`
//! closes the batch (the count of transactions left unsettled is printed); then the export must
//! keep every promise: every approval the host holds is in the journal and every approval the
//! journal shows is held by the host ([`check_promises`]); every unknown reversed, no reversal
//! open ([`check_resolved`]); no double authorization ([`check_no_double_authorization`], one
//! transaction per request id with the kind and amount asked); each copy printed, originals
//! once, reprints marked ([`check_slips`], [`check_print_queue`], [`check_originals_once`]);
//! the printer confirmed at least every slip the journal has printed; and no full card
//! number in the export, the journal's files or any output or log of the terminal
//! ([`scan_for_pans`]).
//!
//! The seed fixes every choice the test makes, but not what a kill or a cut hits: that depends
//! on the machine's timing (the kill delays are spread over the median length of the recent
//! commands), and the outcomes feed the later choices. So a seed replays the same kind of run,
//! not always the same one; `steps.log` in the kept directory has the exact sequence.
//!
//! `POSCORE_CHAOS_BIN` runs the test against another `poscore` binary than the one it builds.
//!
//! A command that hangs, panics or fails with a journal/I/O error is a violation too. On
//! failure the seed, the violations and the last steps are printed, and the directory (journal,
//! ledger, logs, `steps.log` with every step) is kept.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use poscore_system_tests::{
    LedgerEvent, check_no_double_authorization, check_originals_once, check_print_queue,
    check_promises, check_resolved, check_slips, env_number, killed_by_signal, parse_ledger,
    poscore_binary, scan_for_pans,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// The full test card numbers (never to be found at rest).
const PANS: [&str; 2] = ["6222021234567890128", "4111111111111111"];
/// The copies of every slip (the default configuration prints two).
const COPIES: [&str; 2] = ["merchant", "cardholder"];
/// The cents that make the simulated host misbehave (decline 05 / 51, bad MAC, no answer,
/// answer lost).
const MAGIC_CENTS: [u64; 5] = [5, 51, 63, 68, 98];
/// Link faults for the next reply, in the control port's words.
const HOST_FAULTS: [&str; 6] = [
    "drop",
    "close-mid-frame",
    "delay 3000ms",
    "bad-mac",
    "twice",
    "sign-on",
];
/// Printer faults and when they strike.
const PRINTER_FAULTS: [&str; 5] = [
    "paper-out",
    "cover-open",
    "overheat=300ms",
    "drop",
    "never-confirm",
];
const PRINTER_TRIGGERS: [&str; 3] = ["now", "after-bytes=300", "before-confirm"];
/// How long the terminal waits for the host's answer, and for the printer's confirmation.
const HOST_TIMEOUT_MS: &str = "400";
const PRINTER_TIMEOUT_MS: &str = "500";
/// A command that runs longer than this is hung (a violation).
const COMMAND_LIMIT: Duration = Duration::from_secs(40);
/// How long the final drain may take.
const DRAIN_LIMIT: Duration = Duration::from_secs(100);
/// Steps between two checks of the promises that hold at any moment.
const CHECKPOINT_EVERY: u32 = 25;

// ---------------------------------------------------------------------------------------------
// The simulators
// ---------------------------------------------------------------------------------------------

/// A simulator process (`host-sim` or `printer-sim`), killed when dropped.
struct Sim {
    child: Child,
    addr: String,
    control: String,
}

impl Sim {
    /// Starts `poscore ARGS` and reads `… listening on ADDR control ADDR` from its first line.
    /// `None` when the process ended before saying it (the port was not free yet).
    fn start(bin: &Path, args: &[String], log: &Path) -> Option<Sim> {
        let mut child = Command::new(bin)
            .env("POSCORE_LOG", "info")
            .arg("--lang")
            .arg("en")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .expect("simulator log"),
            )
            .spawn()
            .expect("spawn a simulator");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        let words: Vec<&str> = line.split_whitespace().collect();
        let after = |word: &str| {
            words
                .iter()
                .position(|w| *w == word)
                .and_then(|i| words.get(i + 1))
                .map(|s| s.to_string())
        };
        match (after("on"), after("control")) {
            (Some(addr), Some(control)) => Some(Sim {
                child,
                addr,
                control,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }

    /// Sends one control line; returns the reply, or why there is none.
    fn control(&self, command: &str) -> Result<String, String> {
        let mut stream = TcpStream::connect(&self.control).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        writeln!(stream, "{command}").map_err(|e| e.to_string())?;
        let mut reply = String::new();
        BufReader::new(stream)
            .read_line(&mut reply)
            .map_err(|e| e.to_string())?;
        let reply = reply.trim().to_string();
        if reply.starts_with("error") || reply.is_empty() {
            Err(format!("control {command:?} answered {reply:?}"))
        } else {
            Ok(reply)
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.kill();
    }
}

/// host-sim, restartable on the same port.
struct Host {
    sim: Sim,
    bin: PathBuf,
    ledger: PathBuf,
    log: PathBuf,
}

impl Host {
    fn start(bin: &Path, ledger: &Path, log: &Path) -> Host {
        let sim = Self::spawn(bin, "127.0.0.1:0", ledger, log).expect("host-sim did not start");
        Host {
            sim,
            bin: bin.to_path_buf(),
            ledger: ledger.to_path_buf(),
            log: log.to_path_buf(),
        }
    }

    fn spawn(bin: &Path, listen: &str, ledger: &Path, log: &Path) -> Option<Sim> {
        let args = [
            "host-sim".to_string(),
            "--listen".into(),
            listen.into(),
            "--control".into(),
            "127.0.0.1:0".into(),
            "--ledger".into(),
            ledger.display().to_string(),
        ];
        Sim::start(bin, &args, log)
    }

    /// Kills host-sim (SIGKILL) and starts it again on the same port, with its ledger.
    fn restart(&mut self) {
        self.sim.kill();
        let listen = self.sim.addr.clone();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(sim) = Self::spawn(&self.bin, &listen, &self.ledger, &self.log) {
                assert_eq!(sim.addr, listen, "host-sim came back on another address");
                self.sim = sim;
                return;
            }
            assert!(
                Instant::now() < deadline,
                "host-sim could not listen on {listen} again within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The cashier's commands
// ---------------------------------------------------------------------------------------------

/// One cashier command, with its request id (none for settlement).
#[derive(Debug, Clone)]
enum Op {
    PreAuth {
        rid: String,
        amount: u64,
        pan: &'static str,
    },
    Complete {
        rid: String,
        trace: String,
        amount: u64,
        offline: bool,
    },
    Void {
        rid: String,
        trace: String,
        amount: u64,
    },
    CompleteVoid {
        rid: String,
        trace: String,
        amount: u64,
    },
    Settle,
    /// The app restarted with nothing to do but recover.
    Recover,
}

fn money(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

impl Op {
    fn args(&self) -> Vec<String> {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        match self {
            Op::PreAuth { rid, amount, pan } => s(&[
                "preauth",
                "--amount",
                &money(*amount),
                "--pan",
                pan,
                "--expiry",
                "3012",
                "--request-id",
                rid,
            ]),
            Op::Complete {
                rid,
                trace,
                amount,
                offline,
            } => {
                let mut args = s(&[
                    "complete",
                    "--trace",
                    trace,
                    "--amount",
                    &money(*amount),
                    "--request-id",
                    rid,
                ]);
                if *offline {
                    args.push("--offline".into());
                }
                args
            }
            Op::Void { rid, trace, .. } => s(&["void", "--trace", trace, "--request-id", rid]),
            Op::CompleteVoid { rid, trace, .. } => {
                s(&["complete-void", "--trace", trace, "--request-id", rid])
            }
            Op::Settle => s(&["settle"]),
            Op::Recover => s(&["recover"]),
        }
    }

    fn rid(&self) -> Option<&str> {
        match self {
            Op::PreAuth { rid, .. }
            | Op::Complete { rid, .. }
            | Op::Void { rid, .. }
            | Op::CompleteVoid { rid, .. } => Some(rid),
            Op::Settle | Op::Recover => None,
        }
    }

    /// The kind and amount of the transaction the request must be in the export.
    fn expected(&self) -> Option<(&'static str, u64)> {
        match self {
            Op::PreAuth { amount, .. } => Some(("preauth", *amount)),
            Op::Complete {
                amount, offline, ..
            } => Some((
                if *offline {
                    "completion_advice"
                } else {
                    "completion"
                },
                *amount,
            )),
            Op::Void { amount, .. } => Some(("preauth_void", *amount)),
            Op::CompleteVoid { amount, .. } => Some(("completion_void", *amount)),
            Op::Settle | Op::Recover => None,
        }
    }

    /// The pre-auth or completion it refers to.
    fn original(&self) -> Option<&str> {
        match self {
            Op::Complete { trace, .. }
            | Op::Void { trace, .. }
            | Op::CompleteVoid { trace, .. } => Some(trace),
            _ => None,
        }
    }
}

/// What the test knows of a transaction (from the command's own output, or an export).
#[derive(Debug, Clone)]
struct Known {
    trace: String,
    kind: &'static str,
    amount: u64,
    state: String,
}

/// The outcome line of a transaction command: `KIND trace T batch B amount … card …: STATE…`.
fn parse_outcome(stdout: &str) -> Option<(String, String)> {
    for line in stdout.lines() {
        let Some(at) = line.find(" trace ") else {
            continue;
        };
        let trace: String = line[at + 7..].chars().take(6).collect();
        if trace.len() != 6 || !trace.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Some(card) = line.find(" card ") else {
            continue;
        };
        let Some(colon) = line[card..].find(": ") else {
            continue;
        };
        let rest = &line[card + colon + 2..];
        let state = rest
            .split([',', '('])
            .next()
            .unwrap_or("")
            .trim()
            .replace(' ', "_");
        return Some((trace, state));
    }
    None
}

/// How a command ended.
struct Ran {
    status: Option<ExitStatus>,
    killed: bool,
    hung: bool,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[derive(Default, Debug)]
struct Figures {
    steps: u32,
    transaction_commands: u32,
    replays: u32,
    replays_after_kill: u32,
    settlements: u32,
    unbalanced: u32,
    recovers: u32,
    kills: u32,
    kills_ran_out: u32,
    host_faults: BTreeMap<&'static str, u32>,
    host_restarts_between: u32,
    host_restarts_mid_command: u32,
    printer_faults: BTreeMap<&'static str, u32>,
    checkpoints: u32,
    exit_codes: BTreeMap<String, u32>,
}

impl Figures {
    fn link_cuts(&self) -> u32 {
        self.host_faults.values().sum::<u32>()
            + self.host_restarts_between
            + self.host_restarts_mid_command
    }
}

struct Chaos {
    bin: PathBuf,
    dir: PathBuf,
    db: PathBuf,
    host: Host,
    printer: Sim,
    steps_log: fs::File,
    recent: Vec<String>,
    violations: Vec<String>,
    figures: Figures,
    /// Outputs of the terminal scanned for card numbers so far (bytes).
    scanned_output_bytes: usize,
}

impl Chaos {
    fn note(&mut self, line: String) {
        let _ = writeln!(self.steps_log, "{line}");
        self.recent.push(line);
        if self.recent.len() > 40 {
            self.recent.remove(0);
        }
    }

    fn violation(&mut self, what: String) {
        self.note(format!("  VIOLATION: {what}"));
        self.violations.push(what);
    }

    fn terminal(&self, args: &[String]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .env("POSCORE_LOG", "info")
            .args([
                "--lang",
                "en",
                "--host",
                &self.host.sim.addr,
                "--printer",
                &self.printer.addr,
                "--host-timeout-ms",
                HOST_TIMEOUT_MS,
                "--printer-timeout-ms",
                PRINTER_TIMEOUT_MS,
                "--db",
            ])
            .arg(&self.db)
            .args(args)
            .stdin(Stdio::null());
        command
    }

    /// Runs a terminal command; SIGKILLs it after `kill_after`, kills and restarts host-sim
    /// after `host_cut_after` (while the command runs).
    fn run(
        &mut self,
        args: &[String],
        kill_after: Option<Duration>,
        host_cut_after: Option<Duration>,
    ) -> Ran {
        let out_path = self.dir.join("cmd.out");
        let err_path = self.dir.join("cmd.err");
        let started = Instant::now();
        let mut child = self
            .terminal(args)
            .stdout(fs::File::create(&out_path).expect("cmd.out"))
            .stderr(fs::File::create(&err_path).expect("cmd.err"))
            .spawn()
            .expect("spawn poscore");
        let mut host_cut = host_cut_after;
        let mut hung = false;
        let mut kill_sent = false;
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            let elapsed = started.elapsed();
            if kill_after.is_some_and(|k| elapsed >= k) && !kill_sent {
                // Child::kill sends SIGKILL.
                let _ = child.kill();
                kill_sent = true;
            }
            if host_cut.is_some_and(|k| elapsed >= k) {
                host_cut = None;
                self.host.restart();
            }
            if elapsed > COMMAND_LIMIT {
                hung = true;
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        if host_cut.is_some() {
            // The command ended before the cut: cut the link now, between two commands.
            self.host.restart();
        }
        let ran = Ran {
            killed: killed_by_signal(&status) && !hung,
            status: Some(status),
            hung,
            stdout: fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: fs::read_to_string(&err_path).unwrap_or_default(),
            elapsed: started.elapsed(),
        };
        // Promise 6: no card number in anything the terminal wrote.
        for (name, text) in [("stdout", &ran.stdout), ("stderr and log", &ran.stderr)] {
            self.scanned_output_bytes += text.len();
            for found in scan_for_pans(text.as_bytes(), &PANS) {
                self.violation(format!(
                    "card data in the terminal's {name} of `poscore {}`: {found}",
                    args.join(" ")
                ));
            }
        }
        ran
    }

    /// Runs a command that must succeed (exit 0, or 1 when `one_ok`); returns its stdout.
    fn run_checked(&mut self, args: &[&str], one_ok: bool) -> String {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let ran = self.run(&args, None, None);
        let code = ran.status.and_then(|s| s.code());
        if ran.hung || !(code == Some(0) || (one_ok && code == Some(1))) {
            self.violation(format!(
                "`poscore {}` ended with {:?}{}:\n{}{}",
                args.join(" "),
                ran.status,
                if ran.hung { " (hung)" } else { "" },
                ran.stdout,
                ran.stderr
            ));
        }
        ran.stdout
    }

    fn export(&mut self) -> Value {
        let out = self.run_checked(&["export", "--format", "json"], false);
        match serde_json::from_str(&out) {
            Ok(v) => v,
            Err(e) => {
                self.violation(format!("the export is not JSON ({e}): {out}"));
                Value::Array(Vec::new())
            }
        }
    }

    fn ledger(&self) -> poscore_system_tests::Ledger {
        parse_ledger(&fs::read_to_string(&self.host.ledger).unwrap_or_default())
    }

    /// The journal and the files SQLite keeps beside it (not the key file).
    fn journal_files(&self) -> Vec<PathBuf> {
        let name = self.db.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)
            .expect("read the test directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let file = p.file_name().unwrap().to_string_lossy().into_owned();
                (file == name || file.starts_with(&format!("{name}-"))) && !file.ends_with(".key")
            })
            .collect();
        files.sort();
        files
    }

    fn scan_journal(&mut self, when: &str, wal_only: bool) {
        for path in self.journal_files() {
            if wal_only && !path.to_string_lossy().ends_with("-wal") {
                continue;
            }
            let bytes = fs::read(&path).unwrap_or_default();
            for found in scan_for_pans(&bytes, &PANS) {
                self.violation(format!(
                    "card data at rest in {} ({when}): {found}",
                    path.display()
                ));
            }
        }
    }
}

#[test]
fn chaos_of_kills_link_cuts_and_printer_faults_keeps_every_promise() {
    // `POSCORE_CHAOS_BIN` runs another build of poscore (a release build, an older one to
    // bisect); by default the test builds the workspace's.
    let bin = std::env::var_os("POSCORE_CHAOS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(poscore_binary);
    let seed = env_number("POSCORE_CHAOS_SEED", 0x00c4_a055);
    let txns_wanted = env_number("POSCORE_CHAOS_TXNS", 200) as u32;
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("poscore-chaos-")
        .tempdir()
        .expect("tempdir")
        .keep();
    eprintln!(
        "chaos: seed {seed} ({txns_wanted} transactions); journal, ledger and logs in {} (removed if the test passes)",
        dir.display()
    );
    let ledger_path = dir.join("host-ledger.jsonl");
    let host = Host::start(&bin, &ledger_path, &dir.join("host-sim.log"));
    let printer = Sim::start(
        &bin,
        &[
            "printer-sim".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--control".into(),
            "127.0.0.1:0".into(),
        ],
        &dir.join("printer-sim.log"),
    )
    .expect("printer-sim did not start");
    let mut chaos = Chaos {
        bin: bin.clone(),
        db: dir.join("journal.db"),
        steps_log: fs::File::create(dir.join("steps.log")).expect("steps.log"),
        dir: dir.clone(),
        host,
        printer,
        recent: Vec::new(),
        violations: Vec::new(),
        figures: Figures::default(),
        scanned_output_bytes: 0,
    };
    let mut rng = StdRng::seed_from_u64(seed);
    // What the test asked, by request id, and what it learnt of each.
    let mut asked: BTreeMap<String, Op> = BTreeMap::new();
    let mut known: HashMap<String, Known> = HashMap::new();
    // Pre-auths and completions already followed up (completed or voided) as far as known.
    let mut followed: HashMap<String, &'static str> = HashMap::new();
    let mut last_ops: Vec<Op> = Vec::new();
    let mut printer_fault_on = false;
    // The command the last kill cut off (a transaction), to send again.
    let mut killed_op: Option<Op> = None;
    // The lengths of the last commands run without a link fault: their median is a typical
    // command's length, to spread the kills over.
    let mut lengths: Vec<Duration> = Vec::new();
    let typical = |lengths: &[Duration]| {
        let mut sorted = lengths.to_vec();
        sorted.sort();
        sorted
            .get(sorted.len() / 2)
            .copied()
            .unwrap_or(Duration::from_millis(60))
    };
    let mut next_id = 0u32;

    let mut step = 0u32;
    while (asked.len() as u32) < txns_wanted {
        step += 1;
        chaos.figures.steps += 1;
        let mut line = format!("step {step}:");

        // 1. the link
        let mut host_cut_after = None;
        if rng.random_ratio(1, 6) {
            let fault = HOST_FAULTS[rng.random_range(0..HOST_FAULTS.len())];
            match chaos.host.sim.control(fault) {
                Ok(_) => {
                    *chaos.figures.host_faults.entry(fault).or_default() += 1;
                    line += &format!(" host {fault:?};");
                }
                Err(e) => chaos.violation(format!("host-sim control: {e}")),
            }
        } else if rng.random_ratio(1, 25) {
            chaos.host.restart();
            chaos.figures.host_restarts_between += 1;
            line += " host-sim restarted;";
        } else if rng.random_ratio(1, 25) {
            let after =
                Duration::from_millis(rng.random_range(0..=typical(&lengths).as_millis() as u64));
            host_cut_after = Some(after);
            chaos.figures.host_restarts_mid_command += 1;
            line += &format!(" host-sim killed+restarted after {after:?};");
        }

        // 2. the printer
        if printer_fault_on && rng.random_ratio(2, 5) {
            match chaos.printer.control("clear") {
                Ok(_) => line += " printer clear;",
                Err(e) => chaos.violation(format!("printer-sim control: {e}")),
            }
            printer_fault_on = false;
        } else if !printer_fault_on && rng.random_ratio(1, 8) {
            let trigger = PRINTER_TRIGGERS[rng.random_range(0..PRINTER_TRIGGERS.len())];
            let fault = PRINTER_FAULTS[rng.random_range(0..PRINTER_FAULTS.len())];
            match chaos.printer.control(&format!("inject {trigger} {fault}")) {
                Ok(_) => {
                    *chaos.figures.printer_faults.entry(fault).or_default() += 1;
                    line += &format!(" printer {trigger} {fault};");
                }
                Err(e) => chaos.violation(format!("printer-sim control: {e}")),
            }
            printer_fault_on = true;
        }

        // 3. the command
        let approved = |kind: &str, followed: &HashMap<String, &'static str>| {
            known
                .values()
                .filter(|k| {
                    k.kind == kind && k.state == "approved" && !followed.contains_key(&k.trace)
                })
                .cloned()
                .collect::<Vec<Known>>()
        };
        let choice = rng.random_range(0..100u32);
        let op = if let Some(op) = killed_op.take().filter(|_| rng.random_ratio(1, 2)) {
            // The cashier sends the command the crash cut off again, with its request id.
            chaos.figures.replays += 1;
            chaos.figures.replays_after_kill += 1;
            op
        } else if choice < 8 && !last_ops.is_empty() {
            chaos.figures.replays += 1;
            // The same command again, same request id: a double tap, or a retry after a crash.
            let back = rng.random_range(0..last_ops.len().min(5));
            last_ops[last_ops.len() - 1 - back].clone()
        } else if choice < 11 && step > 10 {
            if rng.random_ratio(1, 3) {
                // The host finds the totals unbalanced: the batch is uploaded (0320s).
                match chaos.host.sim.control("unbalanced") {
                    Ok(_) => chaos.figures.unbalanced += 1,
                    Err(e) => chaos.violation(format!("host-sim control: {e}")),
                }
            }
            Op::Settle
        } else if choice < 14 {
            Op::Recover
        } else {
            let preauths = approved("preauth", &followed);
            let mut completions = approved("completion", &followed);
            completions.extend(approved("completion_advice", &followed));
            let pick = rng.random_range(0..100u32);
            next_id += 1;
            let cents = |rng: &mut StdRng| {
                if rng.random_ratio(1, 8) {
                    MAGIC_CENTS[rng.random_range(0..MAGIC_CENTS.len())]
                } else {
                    loop {
                        let c = rng.random_range(0..100u64);
                        if !MAGIC_CENTS.contains(&c) {
                            break c;
                        }
                    }
                }
            };
            if pick < 25 && !preauths.is_empty() {
                let p = &preauths[rng.random_range(0..preauths.len())];
                // At most 115% of the pre-auth.
                let mut amount = p.amount * rng.random_range(50..=115u64) / 100;
                amount = amount - amount % 100 + cents(&mut rng);
                if amount > p.amount * 115 / 100 || amount == 0 {
                    amount = p.amount;
                }
                Op::Complete {
                    rid: format!("cmp-{next_id}"),
                    trace: p.trace.clone(),
                    amount,
                    offline: rng.random_ratio(1, 5),
                }
            } else if pick < 35 && !preauths.is_empty() {
                let p = &preauths[rng.random_range(0..preauths.len())];
                Op::Void {
                    rid: format!("void-{next_id}"),
                    trace: p.trace.clone(),
                    amount: p.amount,
                }
            } else if pick < 42 && !completions.is_empty() {
                let c = &completions[rng.random_range(0..completions.len())];
                Op::CompleteVoid {
                    rid: format!("cvoid-{next_id}"),
                    trace: c.trace.clone(),
                    amount: c.amount,
                }
            } else {
                let amount = rng.random_range(1..800u64) * 100 + cents(&mut rng);
                Op::PreAuth {
                    rid: format!("pa-{next_id}"),
                    amount,
                    pan: PANS[rng.random_range(0..PANS.len())],
                }
            }
        };
        match &op {
            Op::Settle => chaos.figures.settlements += 1,
            Op::Recover => chaos.figures.recovers += 1,
            op => {
                let rid = op.rid().expect("a transaction has a request id");
                asked.entry(rid.to_string()).or_insert_with(|| op.clone());
                chaos.figures.transaction_commands += 1;
            }
        }
        let link_fault = line.contains(" host ") || host_cut_after.is_some();
        let kill_after = rng.random_ratio(1, 4).then(|| {
            let span = typical(&lengths).as_millis() as u64 * 6 / 5;
            Duration::from_millis(rng.random_range(0..=span.max(5)))
        });
        let args = op.args();
        line += &format!(" poscore {}", args.join(" "));
        if let Some(k) = kill_after {
            line += &format!(" (kill -9 after {k:?})");
        }
        chaos.note(line);
        let ran = chaos.run(&args, kill_after, host_cut_after);
        let code = ran.status.and_then(|s| s.code());
        *chaos
            .figures
            .exit_codes
            .entry(if ran.killed {
                "killed".to_string()
            } else {
                format!("{code:?}")
            })
            .or_default() += 1;
        let outcome = parse_outcome(&ran.stdout);
        chaos.note(format!(
            "  -> {} in {:?}: {}",
            if ran.killed {
                "KILLED".to_string()
            } else {
                format!("exit {code:?}")
            },
            ran.elapsed,
            ran.stdout.lines().next().unwrap_or("").trim()
        ));
        if ran.hung {
            chaos.violation(format!(
                "`poscore {}` hung for {COMMAND_LIMIT:?}:\n{}{}",
                args.join(" "),
                ran.stdout,
                ran.stderr
            ));
        } else if ran.killed {
            chaos.figures.kills += 1;
            killed_op = op.rid().map(|_| op.clone());
            // The WAL holds what the killed process wrote.
            chaos.scan_journal("right after a kill", true);
        } else {
            if kill_after.is_some() {
                chaos.figures.kills_ran_out += 1;
            }
            if !link_fault && !printer_fault_on {
                lengths.push(ran.elapsed);
                if lengths.len() > 31 {
                    lengths.remove(0);
                }
            }
            // 0 approved / done, 1 not approved or refused by a rule; anything else (2 usage,
            // 3 journal or I/O, a panic) is a fault of the product under these conditions.
            if !matches!(code, Some(0) | Some(1)) {
                chaos.violation(format!(
                    "`poscore {}` ended with {:?}:\n{}{}",
                    args.join(" "),
                    ran.status,
                    ran.stdout,
                    ran.stderr
                ));
            }
            if code == Some(0) && op.rid().is_some() && outcome.is_none() {
                chaos.violation(format!(
                    "`poscore {}` exited 0 without an outcome line:\n{}",
                    args.join(" "),
                    ran.stdout
                ));
            }
        }
        if let (Some(rid), Some((trace, state)), Some((kind, amount))) =
            (op.rid(), outcome, op.expected())
        {
            // One request, one transaction: the same request id always names the same trace.
            if let Some(before) = known.get(rid) {
                if before.trace != trace {
                    chaos.violation(format!(
                        "request {rid} sent again came back as trace {trace}, it was trace {} before",
                        before.trace
                    ));
                }
            }
            if state == "approved" {
                if let Some(original) = op.original() {
                    followed.insert(original.to_string(), kind);
                }
            }
            known.insert(
                rid.to_string(),
                Known {
                    trace,
                    kind,
                    amount,
                    state,
                },
            );
        }
        if matches!(op, Op::Settle) {
            if let Err(e) = chaos.host.sim.control("balanced") {
                chaos.violation(format!("host-sim control: {e}"));
            }
        }
        if op.rid().is_some() && !last_ops.iter().any(|o| o.rid() == op.rid()) {
            last_ops.push(op.clone());
        }

        // Every so often: the promises that hold at any moment.
        if step % CHECKPOINT_EVERY == 0 {
            chaos.figures.checkpoints += 1;
            let export = chaos.export();
            let ledger = chaos.ledger();
            let mut found = check_promises(&export, &ledger.entries);
            found.extend(check_slips(&export, &COPIES, false));
            found.extend(check_print_queue(&export, &COPIES, false));
            found.extend(check_no_double_authorization(&export));
            found.extend(check_originals_once(&export, &COPIES, true));
            found.extend(check_requests(&export, &asked));
            for v in found {
                chaos.violation(format!("checkpoint at step {step}: {v}"));
            }
            // Learn what the kills hid: the export is the journal's truth.
            refresh_known(&export, &asked, &mut known, &mut followed);
            if !chaos.violations.is_empty() {
                break;
            }
        }
    }

    // ---- the faults stop: printer cleared, host plain, the terminal brought back to idle ----
    let drain_started = Instant::now();
    chaos.note("the end: printer clear, host-sim restarted plain, drain".into());
    if let Err(e) = chaos.printer.control("clear") {
        chaos.violation(format!("printer-sim control: {e}"));
    }
    chaos.host.restart();
    let deadline = Instant::now() + DRAIN_LIMIT;
    let mut drains = 0;
    let mut retried_reversals = 0;
    let _drained = loop {
        drains += 1;
        chaos.run_checked(&["recover"], false);
        let export = chaos.export();
        let txns = export.as_array().cloned().unwrap_or_default();
        let held = txns.iter().any(|t| {
            t["print_jobs"]
                .as_array()
                .is_some_and(|j| j.iter().any(|j| j["state"] == "held"))
        });
        let failed: Vec<String> = txns
            .iter()
            .filter(|t| t["reversal"]["state"] == "failed")
            .filter_map(|t| t["trace"].as_str().map(str::to_string))
            .collect();
        let open = txns.iter().any(|t| {
            matches!(t["state"].as_str(), Some("unknown" | "queued" | "sending"))
                || matches!(
                    t["reversal"]["state"].as_str(),
                    Some("pending" | "failed" | "armed")
                )
                || t["print_jobs"].as_array().is_some_and(|j| {
                    j.iter()
                        .any(|j| !matches!(j["state"].as_str(), Some("printed" | "delivered")))
                })
        });
        if !open {
            break export;
        }
        if Instant::now() > deadline {
            chaos.violation(format!(
                "the terminal is not idle {DRAIN_LIMIT:?} after the faults stopped ({drains} recoveries): see the checks below"
            ));
            break export;
        }
        if held {
            chaos.run_checked(&["resume-printing"], true);
        }
        for trace in failed {
            retried_reversals += 1;
            chaos.run_checked(&["retry-reversal", "--trace", &trace], true);
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let drain_time = drain_started.elapsed();
    // A last settlement against the plain host closes the batch; the journal must stay
    // resolved through it (its reversals and advices go first).
    let settle_out = chaos.run_checked(&["settle"], false);
    chaos.note(format!("final settle: {}", settle_out.trim()));
    let export = chaos.export();
    let unsettled: Vec<String> = export
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["settled"] != true)
        .map(|t| format!("{} {} {} {}", t["batch"], t["trace"], t["kind"], t["state"]))
        .collect();

    // ---- every promise ----
    let ledger = chaos.ledger();
    let mut found = check_promises(&export, &ledger.entries);
    found.extend(check_resolved(&export));
    found.extend(check_no_double_authorization(&export));
    found.extend(check_slips(&export, &COPIES, false));
    found.extend(check_print_queue(&export, &COPIES, true));
    found.extend(check_originals_once(&export, &COPIES, true));
    found.extend(check_requests(&export, &asked));
    // The printer's account: every slip the journal has printed, the printer confirmed.
    let txns = export.as_array().cloned().unwrap_or_default();
    let printed_jobs = txns
        .iter()
        .flat_map(|t| t["print_jobs"].as_array().cloned().unwrap_or_default())
        .filter(|j| j["state"] == "printed")
        .count();
    let attempts: u64 = txns
        .iter()
        .flat_map(|t| t["print_jobs"].as_array().cloned().unwrap_or_default())
        .map(|j| j["attempts"].as_u64().unwrap_or(0))
        .sum();
    let printer_status = chaos
        .printer
        .control("status")
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .unwrap_or(Value::Null);
    let confirmed = printer_status["confirmed"].as_u64().unwrap_or(0) as usize;
    let pages = printer_status["pages"].as_u64().unwrap_or(0) as usize;
    if confirmed < printed_jobs {
        found.push(format!(
            "the journal has {printed_jobs} slips printed but the printer confirmed only {confirmed}"
        ));
    }
    // Write-ahead: an attempt is in the journal before its bytes go out, so the printer
    // cannot have confirmed more slips than the journal counts attempts.
    if confirmed as u64 > attempts {
        found.push(format!(
            "the printer confirmed {confirmed} slips but the journal counts only {attempts} print attempts: a slip went out that the journal did not know of"
        ));
    }
    for v in found {
        chaos.violation(format!("after the drain: {v}"));
    }
    // Promise 6 at rest: the export and every file of the journal.
    let export_text = export.to_string();
    for f in scan_for_pans(export_text.as_bytes(), &PANS) {
        chaos.violation(format!("card data in the export: {f}"));
    }
    chaos.scan_journal("at the end", false);

    // ---- the figures ----
    let count = |f: &dyn Fn(&Value) -> bool| txns.iter().filter(|t| f(t)).count();
    let state = |s: &'static str| move |t: &Value| t["state"] == s;
    let approvals = ledger
        .entries
        .iter()
        .filter(|e| e.event == LedgerEvent::Approved)
        .count();
    let f = &chaos.figures;
    eprintln!(
        "chaos: seed {seed}: {} steps, {} transactions ({} commands: {} sent again with the same request id, {} of them after their kill) and {} settlements ({} unbalanced), {} bare recoveries, in {:.1}s \
         (drain {:.1}s: {drains} recoveries, {retried_reversals} reversals retried); \
         kills: {} landed ({} commands ended before their kill); \
         link cuts: {} ({} host faults {:?}, host-sim killed and restarted {} times between commands and {} times mid-command); \
         printer faults: {} {:?}; {} checkpoints; exit codes {:?}; \
         journal: {} transactions ({} approved, {} completed, {} voided, {} declined, {} not sent, {} reversed, {} unknown), \
         {printed_jobs} slips printed in {attempts} attempts, printer confirmed {confirmed} ({pages} pages); host ledger: {approvals} approvals, {} reversals, {} torn; \
         {} left unsettled after the final settle {:?}; \
         {} bytes of terminal output scanned; violations: {}",
        f.steps,
        asked.len(),
        f.transaction_commands,
        f.replays,
        f.replays_after_kill,
        f.settlements,
        f.unbalanced,
        f.recovers,
        started.elapsed().as_secs_f64(),
        drain_time.as_secs_f64(),
        f.kills,
        f.kills_ran_out,
        f.link_cuts(),
        f.host_faults.values().sum::<u32>(),
        f.host_faults,
        f.host_restarts_between,
        f.host_restarts_mid_command,
        f.printer_faults.values().sum::<u32>(),
        f.printer_faults,
        f.checkpoints,
        f.exit_codes,
        txns.len(),
        count(&state("approved")),
        count(&state("completed")),
        count(&state("voided")),
        count(&state("declined")),
        count(&state("not_sent")),
        count(&state("reversed")),
        count(&state("unknown")),
        ledger.entries.len() - approvals,
        ledger.torn.len(),
        unsettled.len(),
        unsettled.iter().take(5).collect::<Vec<_>>(),
        chaos.scanned_output_bytes,
        chaos.violations.len(),
    );
    if !chaos.violations.is_empty() {
        panic!(
            "chaos: seed {seed} (POSCORE_CHAOS_SEED={seed} POSCORE_CHAOS_TXNS={txns_wanted}): {} violation(s); journal, ledger, logs and steps.log kept in {}\n  - {}\nlast steps:\n{}",
            chaos.violations.len(),
            dir.display(),
            chaos.violations.join("\n  - "),
            chaos.recent.join("\n")
        );
    }
    assert!(
        chaos.figures.kills > 0 && chaos.figures.link_cuts() > 0,
        "seed {seed}: no kill or no link cut landed: the test exercised nothing"
    );
    assert!(
        count(&state("approved")) + count(&state("completed")) + count(&state("voided")) > 0,
        "seed {seed}: nothing was approved: the test exercised nothing"
    );
    drop(chaos);
    let _ = fs::remove_dir_all(&dir);
}

/// Replaces what the test knows with the export's truth (the kills hide outcomes).
fn refresh_known(
    export: &Value,
    asked: &BTreeMap<String, Op>,
    known: &mut HashMap<String, Known>,
    followed: &mut HashMap<String, &'static str>,
) {
    for t in export.as_array().into_iter().flatten() {
        let (Some(rid), Some(trace), Some(state)) = (
            t["request_id"].as_str(),
            t["trace"].as_str(),
            t["state"].as_str(),
        ) else {
            continue;
        };
        let Some((kind, amount)) = asked.get(rid).and_then(Op::expected) else {
            continue;
        };
        known.insert(
            rid.to_string(),
            Known {
                trace: trace.to_string(),
                kind,
                amount,
                state: state.to_string(),
            },
        );
        if matches!(state, "completed" | "voided") {
            followed.insert(trace.to_string(), kind);
        }
    }
}

/// One request, one transaction, the one asked: every request id in the export is one the
/// test sent, with the kind and amount it asked for (voids carry the original's amount).
fn check_requests(export: &Value, asked: &BTreeMap<String, Op>) -> Vec<String> {
    let mut violations = Vec::new();
    for t in export.as_array().into_iter().flatten() {
        let rid = t["request_id"].as_str().unwrap_or("");
        let Some(op) = asked.get(rid) else {
            // Internal requests (settlement, resumes) are not transactions in the export.
            violations.push(format!(
                "the export has a transaction for request {rid:?}, which the test never sent: {t}"
            ));
            continue;
        };
        let Some((kind, amount)) = op.expected() else {
            continue;
        };
        if t["kind"] != kind || t["amount_minor"].as_u64() != Some(amount) {
            violations.push(format!(
                "request {rid} asked a {kind} of {amount}, the export has a {} of {} (trace {})",
                t["kind"], t["amount_minor"], t["trace"]
            ));
        }
        if let Some(original) = op.original() {
            if t["original_trace"].as_str() != Some(original) {
                violations.push(format!(
                    "request {rid} referred to trace {original}, the export's transaction (trace {}) to {}",
                    t["trace"], t["original_trace"]
                ));
            }
        }
    }
    violations
}
