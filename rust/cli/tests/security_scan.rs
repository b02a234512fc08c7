//! Security sweep (DESIGN.md promise 6, PCI DSS 3.3.1/3.3.2/3.5.1): a simulated day through
//! the real `poscore` binary over ISO 8583 to a `poscore host-sim`, every process at
//! `POSCORE_LOG=trace` with its output captured; then everything the terminal left behind —
//! the journal, its `-wal` and `-shm` (at rest and copied while a command runs), a backup,
//! the JSON and CSV exports, every log and output line — is scanned for full PANs, track-2
//! data, PIN blocks, keys and CVV-like fields (see `common/scan.rs` for the patterns and how
//! false positives are kept out). None may appear.

#[path = "common/scan.rs"]
mod scan;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use scan::{Finding, Secrets};

/// Luhn-valid test card numbers: 13, 15, 16 and 19 digits, every brand prefix, and the
/// four `poscore simulate` uses.
const PANS: &[&str] = &[
    "4111111111111111",    // Visa, 16
    "5555555555554444",    // Mastercard, 16
    "6222021234567890128", // UnionPay, 19
    "6212261202011584340", // UnionPay, 19
    "4222222222222",       // Visa, 13
    "378282246310005",     // Amex, 15
    "3530111333300000",    // JCB, 16
    "6011111111111117",    // Discover, 16
    "6250941006528599",    // UnionPay, 16
];

/// host-sim's test keys (`poscore_host::SimConfig::default()`, `HostSim`'s PIN key).
const TEST_MAK: &str = "0123456789ABCDEFFEDCBA9876543210";
const TEST_TMK: &str = "11111111111111111111111111111111";
const TEST_PIN_KEY: &str = "5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A";

const HOST_TIMEOUT_MS: &str = "1500";

struct HostSim {
    child: Child,
    address: String,
    _log: PathBuf,
}

impl HostSim {
    fn start(dir: &Path) -> HostSim {
        let log = dir.join("host-sim.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_poscore"))
            .args(["host-sim", "--listen", "127.0.0.1:0"])
            .env("POSCORE_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(File::create(&log).expect("log file")))
            .spawn()
            .expect("host-sim starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut first)
            .expect("host-sim says where it listens");
        let words: Vec<&str> = first.split_whitespace().collect();
        let address = words
            .iter()
            .position(|w| *w == "on")
            .and_then(|i| words.get(i + 1))
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        HostSim {
            child,
            address,
            _log: log,
        }
    }
}

impl Drop for HostSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The terminal side: every command's stdout and stderr are kept as logs.
struct Day {
    dir: PathBuf,
    db: PathBuf,
    host: String,
    /// (name, text) of every command's stdout and stderr.
    logs: Vec<(String, String)>,
    /// Copies of the WAL and shared-memory files taken while a command ran.
    snapshots: Vec<PathBuf>,
}

impl Day {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_poscore"));
        command
            .arg("--db")
            .arg(&self.db)
            .args(["--lang", "en", "--host", &self.host])
            .args(["--host-timeout-ms", HOST_TIMEOUT_MS])
            .args(args)
            .env("POSCORE_LOG", "trace")
            .env_remove("POSCORE_DB")
            .env_remove("POSCORE_HOST");
        command
    }

    fn keep(&mut self, args: &[&str], output: &Output) {
        let name = args.join(" ");
        self.logs.push((
            format!("stdout of `{name}`"),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ));
        self.logs.push((
            format!("stderr of `{name}`"),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }

    /// Runs a command to its end, keeping its output.
    fn run(&mut self, args: &[&str]) -> Output {
        let output = self.command(args).output().expect("poscore runs");
        self.keep(args, &output);
        output
    }

    /// Runs a command while copying the journal's `-wal` and `-shm` every 50 ms (what a
    /// thief would find on a terminal that lost power mid-transaction). The WAL only grows
    /// between checkpoints, so one copy is kept per growth cycle: the largest, which holds
    /// every frame of the smaller ones; a shrink (a checkpoint restarted it) starts a new one.
    fn run_snapshotting(&mut self, args: &[&str]) -> Output {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("poscore runs");
        let wait = std::thread::spawn(move || child.wait_with_output());
        let started = Instant::now();
        let mut cycle = self.snapshots.len();
        let mut last_len = [0u64; 2];
        while !wait.is_finished() && started.elapsed() < Duration::from_secs(300) {
            for (k, suffix) in ["-wal", "-shm"].into_iter().enumerate() {
                let from = with_suffix(&self.db, suffix);
                let Ok(len) = std::fs::metadata(&from).map(|m| m.len()) else {
                    continue;
                };
                if len == last_len[k] {
                    continue;
                }
                if len < last_len[k] {
                    cycle += 1;
                }
                last_len[k] = len;
                let to = self.dir.join(format!("snapshot-{cycle}{suffix}"));
                if std::fs::copy(&from, &to).is_ok() && !self.snapshots.contains(&to) {
                    self.snapshots.push(to);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = wait.join().expect("joined").expect("poscore ran");
        self.keep(args, &output);
        output
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The trace number in a command's answer (`… trace 000012 …`).
fn trace_of(output: &Output) -> String {
    let out = String::from_utf8_lossy(&output.stdout);
    let at = out
        .find("trace ")
        .unwrap_or_else(|| panic!("a trace in {}", text(output)));
    out[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

fn secrets(key_file: &Path) -> Secrets {
    let mut binary = vec![
        ("host-sim MAK".to_string(), scan::hex_decode(TEST_MAK)),
        ("host-sim TMK".to_string(), scan::hex_decode(TEST_TMK)),
        (
            "host-sim PIN key".to_string(),
            scan::hex_decode(TEST_PIN_KEY),
        ),
    ];
    for pan in PANS {
        for pin in ["1234", "0000", "123456"] {
            binary.push((
                format!("clear PIN block {pin} for {}", &pan[pan.len() - 4..]),
                scan::pin_block_format0(pin, pan),
            ));
        }
    }
    if let Ok(key) = std::fs::read(key_file) {
        binary.push(("the journal's PAN-hash key".to_string(), key));
    }
    Secrets {
        pans: PANS.iter().map(|p| p.to_string()).collect(),
        binary,
        // Nothing needed so far: every Luhn-valid, brand-prefixed 13–19 digit run the day
        // produces is one of the test PANs. A value added here must say why it is no PAN.
        allowed: Vec::new(),
    }
}

#[test]
fn the_scanner_finds_what_it_must_and_ignores_near_misses() {
    for pan in PANS {
        assert!(scan::luhn_valid(pan.as_bytes()), "{pan} is Luhn-valid");
        assert!(
            scan::has_card_prefix(pan.as_bytes()),
            "{pan} has a card prefix"
        );
    }
    let s = secrets(Path::new("/nonexistent"));
    scan::self_test(&s);
    // ISO 9564 format 0: 041234FFFFFFFFFF XOR 0000111111111111 (PIN 1234, PAN 4111111111111111).
    assert_eq!(
        scan::hex_upper(&scan::pin_block_format0("1234", "4111111111111111")),
        "041225EEEEEEEEEE"
    );
}

#[test]
fn no_card_data_at_rest_or_in_logs_after_a_simulated_day() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().to_path_buf();
    let sim = HostSim::start(&dir);
    let mut day = Day {
        db: dir.join("journal.db"),
        dir: dir.clone(),
        host: sim.address.clone(),
        logs: Vec::new(),
        snapshots: Vec::new(),
    };

    let signed = day.run(&["sign-on"]);
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));

    // A pre-auth on every test card.
    let mut traces = Vec::new();
    for (i, pan) in PANS.iter().enumerate() {
        let amount = format!("{}.00", 100 + i);
        let rid = format!("pa-{i}");
        let out = day.run(&[
            "preauth",
            "--amount",
            &amount,
            "--pan",
            pan,
            "--expiry",
            "3012",
            "--request-id",
            &rid,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        traces.push(trace_of(&out));
    }
    // Completions (online and offline), a void, a completion void.
    let out = day.run(&["complete", "--trace", &traces[0], "--amount", "90.00"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = day.run(&[
        "complete",
        "--trace",
        &traces[1],
        "--amount",
        "80.00",
        "--offline",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = day.run(&["void", "--trace", &traces[2]]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = day.run(&["complete", "--trace", &traces[3], "--amount", "103.00"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let completion = trace_of(&out);
    let out = day.run(&["complete-void", "--trace", &completion]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A decline (host-sim declines amounts ending in .05).
    let out = day.run(&[
        "preauth",
        "--amount",
        "100.05",
        "--pan",
        PANS[1],
        "--expiry",
        "3012",
        "--request-id",
        "declined",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // A lost answer (host-sim approves .98 but drops the answer): unknown, then reversed.
    // The WAL is copied while the terminal waits for the answer.
    let out = day.run_snapshotting(&[
        "preauth",
        "--amount",
        "100.98",
        "--pan",
        PANS[2],
        "--expiry",
        "3012",
        "--request-id",
        "lost",
    ]);
    assert!(text(&out).contains("unknown"), "{}", text(&out));
    let out = day.run(&["recover"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = day.run(&["show", "100"]);
    let _ = out; // any trace: `show` output is scanned too
    let out = day.run(&["settle"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Fifty random commands (simulate's own four cards), the WAL copied while they run.
    let out = day.run_snapshotting(&["simulate", "--count", "50", "--seed", "7"]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", text(&out));
    let out = day.run(&["list", "--limit", "200"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The exports, as files.
    let mut exports = Vec::new();
    for format in ["json", "csv"] {
        let out = day.run(&["export", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let path = dir.join(format!("export.{format}"));
        std::fs::write(&path, &out.stdout).expect("export written");
        exports.push(path);
    }
    let json = std::fs::read_to_string(&exports[0]).unwrap();
    assert!(
        json.contains("622202*********0128") && json.contains("411111******1111"),
        "the export holds masked PANs (so the scan reads real card fields)"
    );

    // At rest, before anything else opens the journal (a later open checkpoints the WAL away).
    let secrets = secrets(&with_suffix(&day.db, ".key"));
    let mut at_rest = vec![
        day.db.clone(),
        with_suffix(&day.db, "-wal"),
        with_suffix(&day.db, "-shm"),
    ];
    at_rest.extend(day.snapshots.iter().cloned());
    at_rest.extend(exports.iter().cloned());
    assert!(
        day.snapshots
            .iter()
            .any(|p| p.to_string_lossy().ends_with("-wal")),
        "a WAL was copied while a command ran"
    );

    // The backup: `poscore backup FILE` where it exists, else SQLite's online backup API
    // through the sqlite3 shell (`.backup`).
    let backup = dir.join("backup.db");
    let help = day.run(&["--help"]);
    let has_backup_command = String::from_utf8_lossy(&help.stdout)
        .lines()
        .any(|l| l.trim_start().starts_with("backup "));
    if has_backup_command {
        let out = day.run(&["backup", backup.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    } else {
        let out = Command::new("sqlite3")
            .arg(&day.db)
            .arg(format!(".backup '{}'", backup.display()))
            .output()
            .expect("sqlite3 (the SQLite shell) is installed for the backup copy");
        assert!(out.status.success(), "{}", text(&out));
    }
    assert!(backup.exists(), "the backup was made");
    at_rest.push(backup);

    let mut findings: Vec<Finding> = Vec::new();
    let mut scanned_bytes = 0;
    for path in &at_rest {
        scanned_bytes += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        findings.extend(scan::scan_file(path, &secrets));
    }
    let mut log_lines = 0;
    for (name, log) in &day.logs {
        log_lines += log.lines().count();
        findings.extend(scan::scan_log(name, log, &secrets));
    }
    // The logger is on (env_logger writes `[LEVEL module] …` to stderr at POSCORE_LOG=trace).
    let terminal_logger_lines = day
        .logs
        .iter()
        .flat_map(|(_, l)| l.lines())
        .filter(|l| {
            ["[TRACE ", "[DEBUG ", "[INFO ", "[WARN ", "[ERROR "]
                .iter()
                .any(|level| l.starts_with(level))
        })
        .count();
    assert!(
        terminal_logger_lines > 20,
        "the terminal's log lines were captured ({terminal_logger_lines})"
    );
    // The acquirer simulator's own log is not the terminal's, but it runs on the same
    // machine in this test: it must not print card data either.
    drop(sim);
    let sim_log = std::fs::read_to_string(dir.join("host-sim.log")).unwrap_or_default();
    log_lines += sim_log.lines().count();
    findings.extend(scan::scan_log("host-sim log", &sim_log, &secrets));

    let existing: Vec<String> = at_rest
        .iter()
        .filter_map(|p| {
            let len = std::fs::metadata(p).ok()?.len();
            Some(format!(
                "{} ({len} bytes)",
                p.file_name()?.to_string_lossy()
            ))
        })
        .collect();
    eprintln!(
        "security scan: {} files [{}] ({scanned_bytes} bytes), {log_lines} output and log \
         lines ({terminal_logger_lines} from the terminal's logger): {} findings",
        existing.len(),
        existing.join(", "),
        findings.len()
    );
    assert!(
        log_lines > 100,
        "the logs were captured ({log_lines} lines)"
    );
    assert!(
        findings.is_empty(),
        "sensitive card data found:\n{}",
        findings
            .iter()
            .take(40)
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
