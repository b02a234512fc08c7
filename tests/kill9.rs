//! Crash test: `kill -9` the terminal at random moments, reopen the journal, check the
//! promises.
//!
//! On one journal, round after round (50, or `POSCORE_KILL_ROUNDS`; the delays come from a
//! fixed seed, or `POSCORE_KILL_SEED`):
//! 1. `poscore simulate` runs 30 random commands (pre-auths, completions, voids, offline
//!    completions, repeated request ids, amounts that make the simulated host decline, lose
//!    its answer, time out or send a bad MAC) against a host that answers after 15 ms and
//!    writes every approval and reversal to its ledger before answering;
//! 2. the test sends it SIGKILL after a seeded random delay: most rounds 20–400 ms (the kill
//!    lands during start-up, recovery, an exchange or a print), one in five rounds only after
//!    the run ended by itself (so the clean path is checked on the same journal too);
//! 3. in one round in four, a first `poscore recover` (host slowed to 15 ms) is killed too,
//!    2–30 ms after its start: a crash during recovery or while a reversal is with the host;
//!    then `poscore recover` must exit 0 (recovery, pending reversals, queued slips), and
//!    `poscore export --format json` must exit 0;
//! 4. the export and the host's ledger are checked with
//!    [`poscore_system_tests::check_promises`] and [`poscore_system_tests::check_slips`], and
//!    the journal's files (right after the kill, while the WAL still holds what the killed
//!    process wrote, and again at the end of the round), the export and every output and log
//!    of the binary are scanned for full card numbers.
//!
//! The first round with a violation fails the test, names the round, its seed and delay,
//! and keeps the directory with the journal and the ledger for a post-mortem. A summary
//! line is printed at the end (`cargo test --test kill9 -- --nocapture` shows it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use poscore_system_tests::{
    check_promises, check_slips, env_number, killed_by_signal, parse_ledger, poscore_binary,
    scan_for_pans,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// The card numbers `poscore simulate` uses (rust/cli/src/simulate.rs).
const PANS: [&str; 4] = [
    "6222021234567890128",
    "4111111111111111",
    "5555555555554444",
    "6212261202011584340",
];
/// The copies of every slip (the default configuration prints two).
const COPIES: [&str; 2] = ["merchant", "cardholder"];
/// How long a run left to finish by itself may take before it is killed anyway.
const FINISH_WAIT: Duration = Duration::from_secs(20);

/// The seed of the kill delays (`POSCORE_KILL_SEED` overrides, to explore other moments).
fn kill_seed() -> u64 {
    env_number("POSCORE_KILL_SEED", 0x006b_696c_6c39)
}

fn rounds() -> u32 {
    u32::try_from(env_number("POSCORE_KILL_ROUNDS", 50))
        .expect("POSCORE_KILL_ROUNDS fits in 32 bits")
}

/// The poscore command on the test's journal, with logging turned all the way up (the logs
/// are scanned for card numbers too).
fn poscore(bin: &Path, db: &Path, ledger: &Path) -> Command {
    let mut command = Command::new(bin);
    command
        .env("POSCORE_LOG", "debug")
        .arg("--lang")
        .arg("en")
        .arg("--db")
        .arg(db)
        .arg("--sim-ledger")
        .arg(ledger);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command to its end; a failure to start is a test failure.
fn run(command: &mut Command, what: &str) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"))
}

/// The number in `recovery done: N unknown` of `poscore recover`'s report.
fn made_unknown(recover_stdout: &str) -> Option<u32> {
    let rest = recover_stdout.split("recovery done: ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[derive(Default)]
struct Tally {
    killed_mid_run: u32,
    killed_mid_exchange: u32,
    finished_before_kill: u32,
    commands_before_kill: u32,
    torn_ledger_records: usize,
    recoveries_killed: u32,
}

#[test]
fn kill_9_at_random_moments_keeps_the_promises() {
    let build_started = Instant::now();
    let bin = poscore_binary();
    let build_time = build_started.elapsed();
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("poscore-kill9-")
        .tempdir()
        .expect("tempdir");
    let db = dir.path().join("journal.db");
    let ledger_path = dir.path().join("host-ledger.jsonl");
    let rounds = rounds();
    let kill_seed = kill_seed();
    let mut rng = StdRng::seed_from_u64(kill_seed);
    let mut tally = Tally::default();
    let mut last_export = Value::Null;

    for round in 0..rounds {
        let seed = u64::from(round);
        let let_it_finish = rng.random_ratio(1, 5);
        let delay = Duration::from_millis(rng.random_range(20..=400));
        let sim_out = dir.path().join("simulate.out");
        let sim_err = dir.path().join("simulate.err");

        // 1–2. run and kill
        let mut child = poscore(&bin, &db, &ledger_path)
            .args([
                "--sim-delay-ms",
                "15",
                "--host-timeout-ms",
                "2000",
                "simulate",
                "--count",
                "30",
                "--seed",
                &seed.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&sim_out).expect("simulate.out"))
            .stderr(fs::File::create(&sim_err).expect("simulate.err"))
            .spawn()
            .expect("spawn poscore simulate");
        std::thread::sleep(delay);
        if let_it_finish {
            let deadline = Instant::now() + FINISH_WAIT;
            while child.try_wait().expect("try_wait").is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // Child::kill sends SIGKILL on Unix; on a process that already ended it does no harm.
        let _ = child.kill();
        let status = child.wait().expect("wait for poscore simulate");
        let sim_stdout = fs::read(&sim_out).expect("read simulate.out");
        let sim_stderr = fs::read(&sim_err).expect("read simulate.err");

        let mut violations = Vec::new();
        let context = format!(
            "round {round} (simulate --seed {seed}, kill seed {kill_seed}, killed after {delay:?}{})",
            if let_it_finish {
                " + waiting for the end"
            } else {
                ""
            }
        );
        if killed_by_signal(&status) {
            tally.killed_mid_run += 1;
            tally.commands_before_kill += text(&sim_stdout)
                .lines()
                .filter(|l| l.starts_with("sim-"))
                .count() as u32;
        } else if status.success() {
            tally.finished_before_kill += 1;
        } else {
            violations.push(format!(
                "poscore simulate failed by itself with {status}: {}",
                text(&sim_stderr)
            ));
        }

        // The WAL holds what the killed process wrote and no checkpoint has folded in yet:
        // scan it now, before the next clean close checkpoints and removes it.
        let scan_journal = |when: &str, violations: &mut Vec<String>| {
            for path in journal_files(&db) {
                let bytes = fs::read(&path).unwrap_or_default();
                violations.extend(scan_for_pans(&bytes, &PANS).into_iter().map(|found| {
                    format!("card data at rest in {} ({when}): {found}", path.display())
                }));
            }
        };
        scan_journal("after the kill", &mut violations);

        // A crash during recovery: in some rounds a first `recover` is killed too, while it
        // opens the journal or while its reversals are with the (slowed) host.
        let mut recovered_unknown = 0;
        let mut first_recover_output = Vec::new();
        if rng.random_ratio(1, 4) {
            let first_out = dir.path().join("first-recover.out");
            let mut first = poscore(&bin, &db, &ledger_path)
                .args(["--sim-delay-ms", "15", "recover"])
                .stdin(Stdio::null())
                .stdout(fs::File::create(&first_out).expect("first-recover.out"))
                .stderr(
                    fs::File::create(dir.path().join("first-recover.err"))
                        .expect("first-recover.err"),
                )
                .spawn()
                .expect("spawn poscore recover");
            std::thread::sleep(Duration::from_millis(rng.random_range(2..=30)));
            let _ = first.kill();
            if killed_by_signal(&first.wait().expect("wait for poscore recover")) {
                tally.recoveries_killed += 1;
            }
            first_recover_output = [
                fs::read(&first_out).unwrap_or_default(),
                fs::read(dir.path().join("first-recover.err")).unwrap_or_default(),
            ]
            .concat();
            recovered_unknown += made_unknown(&text(&first_recover_output)).unwrap_or(0);
        }

        // 3. recover, export
        let recover = run(
            poscore(&bin, &db, &ledger_path).arg("recover"),
            "poscore recover",
        );
        if !recover.status.success() {
            violations.push(format!(
                "poscore recover exited with {}: {}{}",
                recover.status,
                text(&recover.stdout),
                text(&recover.stderr)
            ));
        }
        // Recovery commits in one transaction: whichever recover got there first reports the
        // exchanges the kill cut off.
        recovered_unknown += made_unknown(&text(&recover.stdout)).unwrap_or(0);
        if recovered_unknown > 0 {
            tally.killed_mid_exchange += 1;
        }
        let export = run(
            poscore(&bin, &db, &ledger_path).args(["export", "--format", "json"]),
            "poscore export",
        );
        if !export.status.success() {
            violations.push(format!(
                "poscore export exited with {}: {}",
                export.status,
                text(&export.stderr)
            ));
        }

        // 4. check
        let parsed: Value = match serde_json::from_slice(&export.stdout) {
            Ok(value) => value,
            Err(e) => {
                violations.push(format!(
                    "the export is not JSON ({e}): {}",
                    text(&export.stdout)
                ));
                Value::Null
            }
        };
        let ledger = parse_ledger(&fs::read_to_string(&ledger_path).unwrap_or_default());
        tally.torn_ledger_records = ledger.torn.len();
        violations.extend(check_promises(&parsed, &ledger.entries));
        violations.extend(check_slips(&parsed, &COPIES, true));

        scan_journal("after recover and export", &mut violations);
        let outputs = [
            ("simulate's output", sim_stdout),
            ("simulate's log", sim_stderr),
            ("the killed recover's output and log", first_recover_output),
            (
                "recover's output and log",
                [recover.stdout, recover.stderr].concat(),
            ),
            ("the export", export.stdout),
            ("export's log", export.stderr),
        ];
        for (name, bytes) in &outputs {
            violations.extend(
                scan_for_pans(bytes, &PANS)
                    .into_iter()
                    .map(|found| format!("card data at rest in {name}: {found}")),
            );
        }

        if !violations.is_empty() {
            let kept = dir.keep();
            panic!(
                "{context}: {} violation(s) of the promises (journal and host ledger kept in {}):\n  - {}",
                violations.len(),
                kept.display(),
                violations.join("\n  - ")
            );
        }
        last_export = parsed;
    }

    let txns = last_export
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let count = |f: &dyn Fn(&Value) -> bool| txns.iter().filter(|t| f(t)).count();
    let state = |s: &'static str| move |t: &Value| t["state"] == s;
    let reversal = |s: &'static str| move |t: &Value| t["reversal"]["state"] == s;
    let ledger = parse_ledger(&fs::read_to_string(&ledger_path).unwrap_or_default());
    let approvals = ledger
        .entries
        .iter()
        .filter(|e| e.event == poscore_system_tests::LedgerEvent::Approved)
        .count();
    println!(
        "kill9: {rounds} rounds in {:.1}s (building poscore took {:.1}s): {} killed mid-run ({} with an exchange in flight, {} commands done before the kills), \
         {} finished before the kill, {} recoveries killed; journal: {} transactions ({} approved, {} completed, {} voided, {} declined, {} not sent, \
         {} unknown, {} reversed; reversals {} done, {} pending, {} failed); host ledger: {} approvals, {} reversals, {} torn records",
        started.elapsed().as_secs_f64(),
        build_time.as_secs_f64(),
        tally.killed_mid_run,
        tally.killed_mid_exchange,
        tally.commands_before_kill,
        tally.finished_before_kill,
        tally.recoveries_killed,
        txns.len(),
        count(&state("approved")),
        count(&state("completed")),
        count(&state("voided")),
        count(&state("declined")),
        count(&state("not_sent")),
        count(&state("unknown")),
        count(&state("reversed")),
        count(&reversal("done")),
        count(&reversal("pending")),
        count(&reversal("failed")),
        approvals,
        ledger.entries.len() - approvals,
        tally.torn_ledger_records,
    );
    assert!(
        rounds == 0 || tally.killed_mid_run > 0,
        "no kill landed while poscore was running: the test exercised nothing"
    );
}

/// The journal and the files SQLite keeps beside it (`-wal`, `-shm`, `-journal`); not the
/// PAN-hash key file, which is random bytes by design.
fn journal_files(db: &Path) -> Vec<PathBuf> {
    let name = db
        .file_name()
        .expect("journal file name")
        .to_string_lossy()
        .into_owned();
    let mut files: Vec<PathBuf> = fs::read_dir(db.parent().expect("journal directory"))
        .expect("read the journal directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            file == name || (file.starts_with(&format!("{name}-")))
        })
        .collect();
    files.sort();
    assert!(
        files.contains(&db.to_path_buf()),
        "the journal {} does not exist",
        db.display()
    );
    files
}
