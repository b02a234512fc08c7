//! Journal benchmarks (see `BENCHMARKS.md` at the repository root).
//!
//! Run with `cargo bench -p poscore --bench journal`. Three parts, in this order:
//!
//! 1. `approval`: the durable "pre-auth approved" transition through the public engine API,
//!    measured against a bare SQLite `INSERT` + `COMMIT` with the same pragmas, on the same
//!    file system, in the same process. Criterion gives mean and median; paired loops
//!    (approval and baseline alternating) give p50/p99 and the ratio, once on a fresh
//!    journal and once after criterion's run has grown it; then the approval's writes in
//!    bare SQL (the floor for this schema) and the engine's per-input queries on it.
//! 2. `journal_1m`: a journal with 1,000,000 finished transactions (built once with raw SQL,
//!    cached under `target/bench-data`): the same approval on it (a few rounds), the query
//!    plans of recovery and of the engine's per-input queries, and then
//!    `recovery`: `Engine::open` with 10 unfinished rows re-inserted before each open.
//! 3. A summary block to copy into `BENCHMARKS.md`.
//!
//! `cargo test --benches` (criterion's test mode) runs everything once on a small journal.
//! A filter argument (`cargo bench -p poscore --bench journal -- recovery`) skips the
//! parts whose name does not contain it.

use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use poscore::card::{CardInput, PanHashKey};
use poscore::host::{ExchangeId, HostReply, HostRequest};
use poscore::ids::RequestId;
use poscore::journal::{RecoveryReport, SCHEMA_VERSION};
use poscore::money::{Currency, Money};
use poscore::txn::TxnState;
use poscore::{Command, CommandOutcome, Config, Engine, Input, Output, Ticket, Timestamp};
use rusqlite::{Connection, TransactionBehavior, params};

/// Finished transactions in the big journal (benchmark mode).
const BIG_ROWS: u64 = 1_000_000;
/// Finished transactions in the journal of criterion's test mode (`cargo test --benches`).
const TEST_ROWS: u64 = 3_000;
/// Transactions per batch in the big journal (so `(batch, trace)` stays unique).
const PER_BATCH: u64 = 1_000;
/// Untimed approvals before timing: each is three commits (submit, send, approval), so 400
/// take the journal past its first checkpoint and into a reused WAL.
const WARM_UP_ROUNDS: usize = 400;
/// Bump when the generated rows change, so a cached journal is rebuilt.
const GENERATOR_VERSION: u32 = 2;

const PAN: &str = "6222021234567890128";
const MASKED_PAN: &str = "622202*********0128";

fn key() -> PanHashKey {
    PanHashKey::new(vec![7; 32]).expect("a 32-byte key")
}

// ---------------------------------------------------------------------------------------
// Command line, places, small statistics
// ---------------------------------------------------------------------------------------

struct Args {
    /// Criterion's benchmark mode (`cargo bench`), as opposed to its test mode.
    bench: bool,
    /// The name filter, if any.
    filter: Option<String>,
}

impl Args {
    fn parse() -> Args {
        const WITH_VALUE: &[&str] = &[
            "--save-baseline",
            "-s",
            "--baseline",
            "-b",
            "--baseline-lenient",
            "--load-baseline",
            "--sample-size",
            "--warm-up-time",
            "--measurement-time",
            "--nresamples",
            "--noise-threshold",
            "--confidence-level",
            "--significance-level",
            "--profile-time",
            "--format",
            "--color",
            "-c",
            "--output-format",
            "--plotting-backend",
        ];
        let args: Vec<String> = std::env::args().skip(1).collect();
        let has = |flag: &str| args.iter().any(|a| a == flag);
        let mut filter = None;
        let mut skip_next = false;
        for arg in &args {
            if skip_next {
                skip_next = false;
            } else if WITH_VALUE.contains(&arg.as_str()) {
                skip_next = true;
            } else if !arg.starts_with('-') {
                filter = Some(arg.clone());
            }
        }
        Args {
            bench: has("--bench") && !has("--test") && !has("--list"),
            filter,
        }
    }

    /// Whether a part whose benchmarks are named `names` runs under the filter.
    fn wants(&self, names: &[&str]) -> bool {
        match &self.filter {
            None => true,
            Some(f) => names.iter().any(|n| n.contains(f.as_str())),
        }
    }
}

/// `target/bench-data`: next to the bench executable's profile directory (so it follows
/// `CARGO_TARGET_DIR`), on the same file system as the build.
fn data_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench executable's path");
    // target/<profile>/deps/journal-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = target.join("bench-data");
    fs::create_dir_all(&dir).expect("creating target/bench-data");
    dir
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}

fn file_system_of(dir: &Path) -> String {
    process::Command::new("df")
        .arg("-T")
        .arg(dir)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.lines()
                .nth(1)
                .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown (df -T failed)".into())
}

#[derive(Clone, Copy)]
struct Stats {
    n: usize,
    mean: Duration,
    p50: Duration,
    p99: Duration,
    min: Duration,
    max: Duration,
    /// The (0-based) position of the slowest sample.
    max_at: usize,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        assert!(!samples.is_empty(), "no samples");
        let mut sorted = samples.to_vec();
        sorted.sort();
        // Nearest rank.
        let rank =
            |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        let total: Duration = sorted.iter().sum();
        let max_at = samples
            .iter()
            .enumerate()
            .max_by_key(|(_, d)| **d)
            .map(|(i, _)| i)
            .unwrap_or(0);
        Stats {
            n: sorted.len(),
            mean: total / sorted.len() as u32,
            p50: rank(0.50),
            p99: rank(0.99),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            max_at,
        }
    }

    fn per_second(&self) -> f64 {
        1.0 / self.mean.as_secs_f64()
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what:<44} n={:<5} mean {:>9}  p50 {:>9}  p99 {:>9}  min {:>9}  max {:>9} (#{})  {:>8.1}/s",
            self.n,
            ms(self.mean),
            ms(self.p50),
            ms(self.p99),
            ms(self.min),
            ms(self.max),
            self.max_at + 1,
            self.per_second()
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

// ---------------------------------------------------------------------------------------
// The engine side: pre-auths answered by hand
// ---------------------------------------------------------------------------------------

/// An engine with the printer kept busy: the first slip handed to the printer is never
/// answered, so later approvals only queue their slips (no print-start commit in the same
/// `handle` call).
struct Harness {
    engine: Engine,
    now: Timestamp,
    seq: u64,
    tag: &'static str,
}

impl Harness {
    /// Opens the engine and runs one pre-auth to the end (signing on first if the journal
    /// asks for it), leaving its first slip "printing" for ever.
    fn open(path: &Path, now: Timestamp, tag: &'static str) -> Harness {
        let (engine, _) =
            Engine::open(path, Config::default(), key(), now).expect("opening the engine");
        let mut h = Harness {
            engine,
            now,
            seq: 0,
            tag,
        };
        let request_id = h.next_request_id();
        let mut outputs = h.command(request_id);
        let mut printing = false;
        let mut done = false;
        for _ in 0..8 {
            printing |= outputs.iter().any(|o| matches!(o, Output::Print(_)));
            done |= outputs.iter().any(|o| matches!(o, Output::Done(_)));
            let Some(exchange) = outputs.iter().find_map(|o| match o {
                Output::Send { exchange, .. } => Some(*exchange),
                _ => None,
            }) else {
                break;
            };
            outputs = h
                .engine
                .handle(
                    h.now,
                    Input::HostReply {
                        exchange,
                        reply: h.reply(),
                    },
                )
                .expect("answering");
        }
        assert!(done, "the warm-up pre-auth did not finish");
        assert!(
            printing,
            "the warm-up pre-auth's slip did not go to the printer"
        );
        assert!(!h.engine.is_idle(), "the printer should stay busy");
        h
    }

    fn next_request_id(&mut self) -> RequestId {
        self.seq += 1;
        RequestId::parse(&format!("{}-{:08}", self.tag, self.seq)).expect("a valid request id")
    }

    fn reply(&self) -> HostReply {
        HostReply::approved(
            &format!("{:06}", self.seq % 1_000_000),
            &format!("{:012}", self.seq),
        )
    }

    fn command(&mut self, request_id: RequestId) -> Vec<Output> {
        self.now = self.now.plus_millis(1_000);
        let card = CardInput::parse(PAN, "3012", self.now).expect("a valid card");
        let amount = Money::from_minor(10_000 + (self.seq * 7_919) % 500_000, Currency::CNY)
            .expect("an amount");
        let command = Command::PreAuth { amount, card };
        self.engine
            .handle(
                self.now,
                Input::Command {
                    ticket: Ticket(self.seq),
                    request_id,
                    command,
                },
            )
            .expect("submitting a pre-auth")
    }

    /// Untimed: submits a pre-auth; returns the exchange of its financial request, now out.
    fn submit(&mut self) -> ExchangeId {
        let request_id = self.next_request_id();
        let outputs = self.command(request_id);
        outputs
            .iter()
            .find_map(|o| match o {
                Output::Send {
                    exchange,
                    request: HostRequest::Financial(_),
                } => Some(*exchange),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no financial request went out: {outputs:?}"))
    }

    /// Timed: only the host's approval going through `Engine::handle`.
    fn approve(&mut self, exchange: ExchangeId) -> Duration {
        let reply = self.reply();
        let at = self.now.plus_millis(300);
        let start = Instant::now();
        let outputs = self.engine.handle(at, Input::HostReply { exchange, reply });
        let elapsed = start.elapsed();
        self.check(outputs.expect("the approval"));
        elapsed
    }

    /// Untimed: the approval was journaled, with its two slips queued, and nothing else
    /// happened (no print start, no other request).
    fn check(&self, outputs: Vec<Output>) {
        let record = outputs
            .iter()
            .find_map(|o| match o {
                Output::Done(done) => match &done.outcome {
                    Ok(CommandOutcome::Transaction(record)) => Some(record),
                    other => panic!("the pre-auth ended with {other:?}"),
                },
                _ => None,
            })
            .unwrap_or_else(|| panic!("the pre-auth did not end: {outputs:?}"));
        assert_eq!(record.state, TxnState::Approved);
        assert_eq!(record.print_jobs.len(), 2, "two slips queued");
        assert!(
            outputs
                .iter()
                .all(|o| !matches!(o, Output::Print(_) | Output::Send { .. })),
            "only the approval: {outputs:?}"
        );
    }

    fn round(&mut self) -> Duration {
        let exchange = self.submit();
        self.approve(exchange)
    }
}

// ---------------------------------------------------------------------------------------
// The baseline: one bare INSERT + COMMIT with the journal's pragmas
// ---------------------------------------------------------------------------------------

struct Baseline {
    conn: Connection,
    seq: i64,
}

impl Baseline {
    fn open(path: &Path, warm_up: usize) -> Baseline {
        let conn = Connection::open(path).expect("opening the baseline database");
        conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE;")
            .expect("locking mode");
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .expect("journal mode");
        assert!(mode.eq_ignore_ascii_case("wal"));
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;
             CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, payload TEXT NOT NULL);
             BEGIN EXCLUSIVE; COMMIT;",
        )
        .expect("configuring the baseline database");
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let lock: String = conn
            .query_row("PRAGMA locking_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            (sync, lock.as_str()),
            (2, "exclusive"),
            "synchronous=FULL, locking_mode=EXCLUSIVE"
        );
        let mut baseline = Baseline { conn, seq: 0 };
        // Untimed warm-up: until the WAL has been checkpointed and is being reused, every
        // commit also grows the file (a metadata flush on top of the data flush), which a
        // terminal in service does not pay.
        for _ in 0..warm_up {
            baseline.insert();
        }
        baseline
    }

    /// A ~200-byte row: what a transaction record looks like as text.
    fn payload(&self) -> String {
        let s = self.seq;
        let mut p = format!(
            "{{\"request_id\":\"base-{s:08}\",\"kind\":\"preauth\",\"state\":\"approved\",\"trace\":{},\"batch\":1,\
             \"amount_minor\":{},\"currency\":\"CNY\",\"masked_pan\":\"{MASKED_PAN}\",\"auth_code\":\"{:06}\",\"rrn\":\"{s:012}\"}}",
            s % 999_999 + 1,
            10_000 + (s * 7_919) % 500_000,
            s % 1_000_000,
        );
        while p.len() < 200 {
            p.push(' ');
        }
        p
    }

    /// Timed: `BEGIN IMMEDIATE; INSERT; COMMIT` (as `Journal::write` does).
    fn insert(&mut self) -> Duration {
        self.seq += 1;
        let payload = self.payload();
        let start = Instant::now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        tx.prepare_cached("INSERT INTO log (at, payload) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![self.seq, payload]))
            .expect("insert");
        tx.commit().expect("commit");
        start.elapsed()
    }
}

/// Approval and baseline alternating, `rounds` times each: both see the same disk at the
/// same moments, which keeps the ratio honest when the disk's speed drifts.
fn paired(h: &mut Harness, b: &mut Baseline, rounds: usize) -> (Vec<Duration>, Vec<Duration>) {
    let mut approvals = Vec::with_capacity(rounds);
    let mut bases = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        approvals.push(h.round());
        bases.push(b.insert());
    }
    (approvals, bases)
}

/// The journal's size on disk (database file plus WAL).
/// The approval's writes as bare SQL, on a journal file the engine has closed: the same
/// statements `financial_ended` runs for an approved pre-auth (answer, reversal read and
/// disarm, state change, two slips, four event rows) in one `BEGIN IMMEDIATE … COMMIT`,
/// without the engine's reads (record building, work-queue queries). The floor the engine
/// could reach with this schema.
struct RawApproval {
    conn: Connection,
    seq: i64,
    at: i64,
}

impl RawApproval {
    fn open(path: &Path) -> RawApproval {
        let conn = Connection::open(path).expect("opening the journal");
        conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE;")
            .unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .unwrap();
        assert!(mode.eq_ignore_ascii_case("wal"));
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; BEGIN EXCLUSIVE; COMMIT;",
        )
        .unwrap();
        RawApproval {
            conn,
            seq: 0,
            at: Timestamp::from_civil(2027, 1, 1, 0, 0, 0).as_millis(),
        }
    }

    /// Untimed: a pre-auth `sending` with its armed reversal, committed.
    fn prepare(&mut self) -> i64 {
        self.seq += 1;
        self.at += 1_000;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        let batch: i64 = tx
            .query_row("SELECT value FROM counters WHERE name = 'batch'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let trace: i64 = tx
            .query_row(
                "SELECT value FROM counters WHERE name = 'next_trace'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        tx.execute(
            "UPDATE counters SET value = ?1 WHERE name = 'next_trace'",
            params![trace % 999_999 + 1],
        )
        .unwrap();
        let pan_hash = fake_pan_hash(self.seq as u64);
        tx.execute(
            "INSERT INTO transactions (request_id, fingerprint, kind, state, trace, batch, amount_minor, currency, \
             masked_pan, pan_hash, created_at, updated_at) VALUES (?1, ?2, 'preauth', 'sending', ?3, ?4, 10000, 'CNY', ?5, ?6, ?7, ?7)",
            params![format!("raw-{:08}", self.seq), format!("preauth|10000|CNY|{pan_hash}"), trace, batch, MASKED_PAN, pan_hash, self.at],
        )
        .unwrap();
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, 'transaction', NULL, 'sending', 'accepted from the cashier')",
            params![self.at, id],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO reversals (txn_id, state, reason, attempts, next_attempt_at, created_at, updated_at) VALUES (?1, 'armed', '98', 0, 0, ?2, ?2)",
            params![id, self.at],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, 'reversal', NULL, 'armed', 'armed before sending')",
            params![self.at, id],
        )
        .unwrap();
        tx.commit().unwrap();
        id
    }

    /// Timed: the approval's writes.
    fn approve(&mut self, id: i64) -> Duration {
        let at = self.at + 300;
        let (auth, rrn) = (
            format!("{:06}", self.seq % 1_000_000),
            format!("{:012}", self.seq),
        );
        let event = "INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        let start = Instant::now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        {
            let mut ev = tx.prepare_cached(event).unwrap();
            tx.prepare_cached(
                "UPDATE transactions SET response_code = ?2, auth_code = COALESCE(?3, auth_code), rrn = COALESCE(?4, rrn) WHERE id = ?1",
            )
            .unwrap()
            .execute(params![id, "00", auth, rrn])
            .unwrap();
            let from: String = tx
                .prepare_cached("SELECT state FROM reversals WHERE txn_id = ?1")
                .unwrap()
                .query_row(params![id], |r| r.get(0))
                .unwrap();
            tx.prepare_cached(
                "UPDATE reversals SET state = ?2, reason = COALESCE(?3, reason), attempts = COALESCE(?4, attempts), \
                 last_response = COALESCE(?5, last_response), next_attempt_at = COALESCE(?6, next_attempt_at), updated_at = ?7 WHERE txn_id = ?1",
            )
            .unwrap()
            .execute(params![id, "disarmed", None::<&str>, None::<i64>, None::<&str>, None::<i64>, at])
            .unwrap();
            ev.execute(params![
                at,
                id,
                "reversal",
                from,
                "disarmed",
                "the host answered"
            ])
            .unwrap();
            let changed = tx
                .prepare_cached("UPDATE transactions SET state = ?3, updated_at = ?4 WHERE id = ?1 AND state = ?2")
                .unwrap()
                .execute(params![id, "sending", "approved", at])
                .unwrap();
            assert_eq!(changed, 1);
            ev.execute(params![
                at,
                id,
                "transaction",
                "sending",
                "approved",
                "approved by the host"
            ])
            .unwrap();
            for copy in ["merchant", "cardholder"] {
                tx.prepare_cached("INSERT INTO print_jobs (txn_id, copy, kind, state, created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?4)")
                    .unwrap()
                    .execute(params![id, copy, "original", at])
                    .unwrap();
                ev.execute(params![
                    at,
                    id,
                    "print_job",
                    None::<&str>,
                    "queued",
                    format!("original {copy} copy queued")
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
        start.elapsed()
    }
}

/// The journal's size on disk (database file plus WAL).
fn journal_counts(path: &Path) -> String {
    let size = fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        + fs::metadata(format!("{}-wal", path.display()))
            .map(|m| m.len())
            .unwrap_or(0);
    format!("{:.1} MiB (db + wal)", size as f64 / (1024.0 * 1024.0))
}

// ---------------------------------------------------------------------------------------
// The big journal: 1,000,000 finished transactions, built with raw SQL
// ---------------------------------------------------------------------------------------

/// The time of the first generated transaction; one every minute after it.
fn big_start() -> Timestamp {
    Timestamp::from_civil(2024, 1, 1, 8, 0, 0)
}

/// A deterministic 64-hex-digit stand-in for a card's keyed hash.
fn fake_pan_hash(i: u64) -> String {
    let mut out = String::with_capacity(64);
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    for _ in 0..4 {
        // splitmix64
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let _ = write!(out, "{z:016x}");
    }
    out
}

/// Builds (or finds cached) a journal with `rows` finished transactions: approved
/// pre-auths, each with a disarmed reversal, two printed slips and the ten event rows the
/// engine writes for them; batches of `PER_BATCH`, all settled; the next batch open and
/// empty; signed on. Returns its path. The cached file is never modified: benchmarks work
/// on a copy.
fn big_journal(dir: &Path, rows: u64) -> PathBuf {
    let name = format!("journal-{rows}-s{SCHEMA_VERSION}-g{GENERATOR_VERSION}.db");
    let path = dir.join(&name);
    let marker = dir.join(format!("{name}.ok"));
    if path.exists() && marker.exists() {
        println!(
            "journal_1m: using the cached {} ({})",
            path.display(),
            journal_counts(&path)
        );
        return path;
    }
    let building = dir.join(format!("{name}.building"));
    remove_db(&building);
    let _ = fs::remove_file(&marker);
    let started = Instant::now();
    println!(
        "journal_1m: building {} with {rows} finished transactions (cached for later runs)…",
        path.display()
    );

    // The engine creates the schema (and is then closed).
    drop(
        Engine::open(&building, Config::default(), key(), big_start())
            .expect("creating the journal"),
    );

    let mut conn = Connection::open(&building).expect("opening the journal for the bulk load");
    conn.execute_batch(
        "PRAGMA journal_mode = DELETE; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY;",
    )
    .expect("bulk-load pragmas");
    let tx = conn.transaction().expect("bulk transaction");
    {
        let mut txn = tx
            .prepare(
                "INSERT INTO transactions (id, request_id, fingerprint, kind, state, trace, batch, amount_minor, currency, \
                 masked_pan, pan_hash, auth_code, rrn, response_code, original_id, settled, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, 'preauth', 'approved', ?4, ?5, ?6, 'CNY', ?7, ?8, ?9, ?10, '00', NULL, 1, ?11, ?12)",
            )
            .unwrap();
        let mut reversal = tx
            .prepare(
                "INSERT INTO reversals (txn_id, state, reason, attempts, last_response, next_attempt_at, created_at, updated_at) \
                 VALUES (?1, 'disarmed', '98', 0, NULL, 0, ?2, ?3)",
            )
            .unwrap();
        let mut job = tx
            .prepare(
                "INSERT INTO print_jobs (txn_id, copy, kind, state, attempts, last_error, next_attempt_at, created_at, updated_at) \
                 VALUES (?1, ?2, 'original', 'printed', 1, NULL, 0, ?3, ?4)",
            )
            .unwrap();
        let mut event = tx.prepare("INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, ?3, ?4, ?5, ?6)").unwrap();
        let mut batch_row = tx
            .prepare(
                "INSERT INTO batches (batch, state, opened_at, closed_at, total_count, total_minor, balanced) \
                 VALUES (?1, 'closed', ?2, ?3, 0, 0, 1) \
                 ON CONFLICT (batch) DO UPDATE SET state = 'closed', opened_at = ?2, closed_at = ?3, total_count = 0, total_minor = 0, balanced = 1",
            )
            .unwrap();
        let t0 = big_start().as_millis();
        let minute = 60_000i64;
        let mut sign_on_at = t0 - minute;
        event
            .execute(params![
                sign_on_at,
                None::<i64>,
                "sign_on",
                None::<&str>,
                "done",
                "signed on"
            ])
            .unwrap();
        for i in 0..rows {
            let id = i as i64 + 1;
            let batch = i / PER_BATCH + 1;
            let trace = i % 999_999 + 1;
            let created = t0 + i as i64 * minute;
            let answered = created + 800;
            let printed_1 = answered + 3_000;
            let printed_2 = printed_1 + 3_000;
            let batch_end = t0 + ((batch * PER_BATCH) as i64 - 1) * minute + 10 * minute;
            let amount = 10_000 + (i * 7_919) % 500_000;
            let pan_hash = fake_pan_hash(i % 50_000);
            let fingerprint = format!("preauth|{amount}|CNY|{pan_hash}");
            let request_id = format!("pos-{:04}-{i:08}", 2024 + i / 500_000);
            // A daily sign-on, as a terminal does.
            if created - sign_on_at >= 24 * 60 * minute {
                sign_on_at = created - 1;
                event
                    .execute(params![
                        sign_on_at,
                        None::<i64>,
                        "sign_on",
                        None::<&str>,
                        "done",
                        "signed on"
                    ])
                    .unwrap();
            }
            txn.execute(params![
                id,
                request_id,
                fingerprint,
                trace as i64,
                batch as i64,
                amount as i64,
                MASKED_PAN,
                pan_hash,
                format!("{:06}", (i * 31) % 1_000_000),
                format!("{:012}", 400_000_000_000 + i),
                created,
                batch_end
            ])
            .unwrap();
            reversal.execute(params![id, created, answered]).unwrap();
            event
                .execute(params![
                    created,
                    id,
                    "transaction",
                    None::<&str>,
                    "sending",
                    "accepted from the cashier"
                ])
                .unwrap();
            event
                .execute(params![
                    created,
                    id,
                    "reversal",
                    None::<&str>,
                    "armed",
                    "armed before sending"
                ])
                .unwrap();
            event
                .execute(params![
                    answered,
                    id,
                    "reversal",
                    "armed",
                    "disarmed",
                    "the host answered"
                ])
                .unwrap();
            event
                .execute(params![
                    answered,
                    id,
                    "transaction",
                    "sending",
                    "approved",
                    "approved by the host"
                ])
                .unwrap();
            job.execute(params![id, "merchant", answered, printed_1])
                .unwrap();
            event
                .execute(params![
                    answered,
                    id,
                    "print_job",
                    None::<&str>,
                    "queued",
                    "original merchant copy queued"
                ])
                .unwrap();
            job.execute(params![id, "cardholder", answered, printed_2])
                .unwrap();
            event
                .execute(params![
                    answered,
                    id,
                    "print_job",
                    None::<&str>,
                    "queued",
                    "original cardholder copy queued"
                ])
                .unwrap();
            event
                .execute(params![
                    answered,
                    id,
                    "print_job",
                    "queued",
                    "printing",
                    "handed to the printer"
                ])
                .unwrap();
            event
                .execute(params![
                    printed_1,
                    id,
                    "print_job",
                    "printing",
                    "printed",
                    "the printer confirmed it"
                ])
                .unwrap();
            event
                .execute(params![
                    printed_1,
                    id,
                    "print_job",
                    "queued",
                    "printing",
                    "handed to the printer"
                ])
                .unwrap();
            event
                .execute(params![
                    printed_2,
                    id,
                    "print_job",
                    "printing",
                    "printed",
                    "the printer confirmed it"
                ])
                .unwrap();
            // Settlement at the end of each batch.
            if (i + 1) % PER_BATCH == 0 || i + 1 == rows {
                let opened = t0 + ((batch - 1) * PER_BATCH) as i64 * minute - minute;
                batch_row
                    .execute(params![batch as i64, opened, batch_end])
                    .unwrap();
                event
                    .execute(params![
                        batch_end,
                        None::<i64>,
                        "batch",
                        None::<&str>,
                        "closed",
                        "settled, balanced"
                    ])
                    .unwrap();
                event
                    .execute(params![
                        batch_end,
                        None::<i64>,
                        "batch",
                        None::<&str>,
                        "open",
                        "opened after settlement"
                    ])
                    .unwrap();
            }
        }
        let last_batch = (rows - 1) / PER_BATCH + 1;
        let next_batch = last_batch as i64 + 1;
        let end = t0 + rows as i64 * minute + 10 * minute;
        tx.execute(
            "INSERT INTO batches (batch, state, opened_at) VALUES (?1, 'open', ?2)",
            params![next_batch, end],
        )
        .unwrap();
        tx.execute(
            "UPDATE counters SET value = ?1 WHERE name = 'batch'",
            params![next_batch],
        )
        .unwrap();
        tx.execute(
            "UPDATE counters SET value = ?1 WHERE name = 'next_trace'",
            params![(rows % 999_999) as i64 + 1],
        )
        .unwrap();
        tx.execute(
            "UPDATE counters SET value = 0 WHERE name = 'sign_on_required'",
            [],
        )
        .unwrap();
    }
    tx.commit().expect("bulk commit");
    conn.execute_batch("PRAGMA journal_mode = WAL;")
        .expect("back to WAL");
    drop(conn);

    // The engine opens it cleanly: nothing to recover.
    let (engine, report) =
        Engine::open(&building, Config::default(), key(), big_end(rows)).expect("reopening");
    assert!(
        !report.anything_done(),
        "a freshly built journal has nothing to recover: {report}"
    );
    drop(engine);
    fs::rename(&building, &path).expect("moving the built journal in place");
    remove_db(&building);
    fs::write(
        &marker,
        format!(
            "{rows} finished transactions, schema {SCHEMA_VERSION}, generator {GENERATOR_VERSION}\n"
        ),
    )
    .unwrap();
    println!(
        "journal_1m: built in {:.1} s, {}",
        started.elapsed().as_secs_f64(),
        journal_counts(&path)
    );
    path
}

fn big_end(rows: u64) -> Timestamp {
    big_start().plus_millis(rows as i64 * 60_000 + 60 * 60_000)
}

// ---------------------------------------------------------------------------------------
// Recovery: 10 unfinished rows re-inserted before each open
// ---------------------------------------------------------------------------------------

struct RecoveryRig {
    path: PathBuf,
    round: u64,
    now: Timestamp,
    /// Two finished transactions whose reprints are cut off mid-print.
    reprint_txns: [i64; 2],
    opens: Vec<Duration>,
}

const EXPECTED: RecoveryReport = RecoveryReport {
    made_unknown: 5,
    made_not_sent: 3,
    advices_requeued: 0,
    print_jobs_requeued: 2,
    settlements_reopened: 0,
};

impl RecoveryRig {
    /// Untimed: the state a crash leaves: 5 transactions `sending` with armed reversals,
    /// 3 `queued`, 2 slips `printing` (reprints). Checks that the previous open left
    /// nothing unfinished.
    fn arm(&mut self) {
        self.round += 1;
        self.now = self.now.plus_millis(60_000);
        let at = self.now.as_millis();
        let mut conn = Connection::open(&self.path).expect("opening the journal to break it");
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        // Through the partial indexes (the predicate repeated, so SQLite can use them).
        let left: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM transactions WHERE state IN ('queued', 'sending')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let printing: i64 =
            tx.query_row("SELECT COUNT(*) FROM print_jobs WHERE state IN ('queued', 'printing') AND state = 'printing'", [], |r| r.get(0)).unwrap();
        assert_eq!(
            (left, printing),
            (0, 0),
            "recovery left unfinished rows behind (round {})",
            self.round
        );
        let batch: i64 = tx
            .query_row("SELECT value FROM counters WHERE name = 'batch'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let mut trace: i64 = tx
            .query_row(
                "SELECT value FROM counters WHERE name = 'next_trace'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        for k in 0..8u64 {
            let state = if k < 5 { "sending" } else { "queued" };
            let amount = 10_000 + k * 100;
            let pan_hash = fake_pan_hash(self.round * 8 + k);
            tx.execute(
                "INSERT INTO transactions (request_id, fingerprint, kind, state, trace, batch, amount_minor, currency, \
                 masked_pan, pan_hash, created_at, updated_at) VALUES (?1, ?2, 'preauth', ?3, ?4, ?5, ?6, 'CNY', ?7, ?8, ?9, ?9)",
                params![
                    format!("recovery-{:06}-{k}", self.round),
                    format!("preauth|{amount}|CNY|{pan_hash}"),
                    state,
                    trace,
                    batch,
                    amount as i64,
                    MASKED_PAN,
                    pan_hash,
                    at
                ],
            )
            .expect("inserting an unfinished transaction");
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, 'transaction', NULL, ?3, 'accepted from the cashier')",
                params![at, id, state],
            )
            .unwrap();
            if state == "sending" {
                tx.execute(
                    "INSERT INTO reversals (txn_id, state, reason, attempts, next_attempt_at, created_at, updated_at) VALUES (?1, 'armed', '98', 0, 0, ?2, ?2)",
                    params![id, at],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, 'reversal', NULL, 'armed', 'armed before sending')",
                    params![at, id],
                )
                .unwrap();
            }
            trace = trace % 999_999 + 1;
        }
        tx.execute(
            "UPDATE counters SET value = ?1 WHERE name = 'next_trace'",
            params![trace],
        )
        .unwrap();
        for txn in self.reprint_txns {
            tx.execute(
                "INSERT INTO print_jobs (txn_id, copy, kind, state, created_at, updated_at) VALUES (?1, 'merchant', 'reprint', 'printing', ?2, ?2)",
                params![txn, at],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, 'print_job', NULL, 'queued', 'reprint merchant copy queued')",
                params![at, txn],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, 'print_job', 'queued', 'printing', 'handed to the printer')",
                params![at, txn],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        // Closing checkpoints the WAL into the database file, as after a clean shutdown of
        // the connection; the "crash" is in the rows' states.
        drop(conn);
    }

    /// Timed: `Engine::open`, which runs recovery. Checks what recovery reports.
    fn open(&mut self) -> Duration {
        let now = self.now.plus_millis(5_000);
        let start = Instant::now();
        let opened = Engine::open(&self.path, Config::default(), key(), now);
        let elapsed = start.elapsed();
        let (engine, report) = opened.expect("reopening the journal");
        assert_eq!(
            report, EXPECTED,
            "recovery did not finish the 10 unfinished rows (round {})",
            self.round
        );
        drop(black_box(engine));
        self.opens.push(elapsed);
        elapsed
    }
}

/// Asks the kernel to forget the file's cached pages (GNU dd `iflag=nocache`, i.e.
/// `posix_fadvise(DONTNEED)` on the whole file). Returns whether it worked.
fn drop_page_cache(path: &Path) -> bool {
    process::Command::new("dd")
        .arg(format!("if={}", path.display()))
        .args(["iflag=nocache", "count=0", "status=none"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// Query plans: which of the engine's queries can use the partial indexes
// ---------------------------------------------------------------------------------------

/// The queries recovery (`journal/recovery.rs`) and every `Engine::handle`
/// (`engine/requests.rs`) run, copied as of this writing, each with the same query with
/// the partial index's predicate repeated (the form SQLite can match to the index).
const QUERIES: &[(&str, &str, &str)] = &[
    (
        "recovery: queued transactions",
        "SELECT id FROM transactions WHERE state = 'queued'",
        "SELECT id FROM transactions WHERE state IN ('queued', 'sending') AND state = 'queued'",
    ),
    (
        "recovery: sending transactions",
        "SELECT id FROM transactions WHERE state = 'sending'",
        "SELECT id FROM transactions WHERE state IN ('queued', 'sending') AND state = 'sending'",
    ),
    (
        "recovery: sending advices",
        "SELECT txn_id FROM advices WHERE state = 'sending'",
        "SELECT txn_id FROM advices WHERE state IN ('queued', 'sending') AND state = 'sending'",
    ),
    (
        "recovery: printing slips",
        "SELECT id, txn_id FROM print_jobs WHERE state = 'printing'",
        "SELECT id, txn_id FROM print_jobs WHERE state IN ('queued', 'printing') AND state = 'printing'",
    ),
    (
        "recovery: settling batches",
        "SELECT batch FROM batches WHERE state = 'settling'",
        "SELECT batch FROM batches WHERE state = 'settling'",
    ),
    (
        "handle: next reversal",
        "SELECT txn_id FROM reversals WHERE state = 'pending' AND next_attempt_at <= 9223372036854775807 ORDER BY next_attempt_at, txn_id LIMIT 1",
        "SELECT txn_id FROM reversals WHERE state IN ('armed', 'pending') AND state = 'pending' AND next_attempt_at <= 9223372036854775807 ORDER BY next_attempt_at, txn_id LIMIT 1",
    ),
    (
        "handle: next advice",
        "SELECT txn_id FROM advices WHERE state = 'queued' AND next_attempt_at <= 9223372036854775807 ORDER BY next_attempt_at, txn_id LIMIT 1",
        "SELECT txn_id FROM advices WHERE state IN ('queued', 'sending') AND state = 'queued' AND next_attempt_at <= 9223372036854775807 ORDER BY next_attempt_at, txn_id LIMIT 1",
    ),
    (
        "handle: next slip",
        "SELECT id, txn_id FROM print_jobs WHERE state = 'queued' AND next_attempt_at <= 9223372036854775807 ORDER BY next_attempt_at, id LIMIT 1",
        "SELECT id, txn_id FROM print_jobs WHERE state IN ('queued', 'printing') AND state = 'queued' AND next_attempt_at <= 9223372036854775807 ORDER BY next_attempt_at, id LIMIT 1",
    ),
];

fn plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
    rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
}

fn time_query(conn: &Connection, sql: &str) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.query_map([], |_| Ok(())).unwrap().count();
        black_box(n);
        best = best.min(start.elapsed());
    }
    best
}

fn query_plans(path: &Path, on: &str, queries: &[(&str, &str, &str)], report: &mut Vec<String>) {
    let conn = Connection::open(path).unwrap();
    let version: String = conn
        .query_row("SELECT sqlite_version()", [], |r| r.get(0))
        .unwrap();
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    report.push(format!(
        "query plans on {on}: {} transactions, {} reversals, {} print jobs, {} events (bundled SQLite {version}); best of 3 runs, warm cache:",
        count("transactions"),
        count("reversals"),
        count("print_jobs"),
        count("events")
    ));
    for (what, as_written, with_predicate) in queries {
        let (p1, t1) = (plan(&conn, as_written), time_query(&conn, as_written));
        let (p2, t2) = (
            plan(&conn, with_predicate),
            time_query(&conn, with_predicate),
        );
        report.push(format!("  {what:<32} as written: {:>10}  [{p1}]", ms(t1)));
        if as_written != with_predicate {
            report.push(format!(
                "  {:<32} predicate repeated: {:>10}  [{p2}]",
                "",
                ms(t2)
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------
// The parts
// ---------------------------------------------------------------------------------------

fn approval_part(c: &mut Criterion, args: &Args, report: &mut Vec<String>) {
    let dir = tempfile::Builder::new()
        .prefix("approval-")
        .tempdir_in(data_dir())
        .expect("a temp dir");
    let journal = dir.path().join("journal.db");
    let baseline = dir.path().join("baseline.db");
    report.push(format!(
        "approval: journal and baseline in {} ({})",
        dir.path().display(),
        file_system_of(dir.path())
    ));
    let mut h = Harness::open(
        &journal,
        Timestamp::from_civil(2026, 11, 26, 9, 0, 0),
        "bench",
    );
    let mut b = Baseline::open(&baseline, if args.bench { 1_000 } else { 10 });

    // First on a nearly empty journal (it grows by one pre-auth per round), after an
    // untimed warm-up of more than `CHECKPOINT_EVERY_WRITES` (1,000) commits: the engine
    // has checkpointed once and reuses its WAL, as a terminal in service does, instead of
    // growing the file on every commit (the baseline gets the same warm-up).
    for _ in 0..if args.bench { WARM_UP_ROUNDS } else { 1 } {
        h.round();
    }
    let rounds = if args.bench { 300 } else { 3 };
    let (approvals, bases) = paired(&mut h, &mut b, rounds);
    let (a, s) = (Stats::of(&approvals), Stats::of(&bases));
    report.push(format!(
        "approval: paired loop on a fresh journal, {rounds} rounds alternating (journal: {} to {} pre-auths)",
        h.seq - rounds as u64,
        h.seq
    ));
    report.push(a.line("  pre-auth approved (Engine::handle)"));
    report.push(s.line("  baseline INSERT + COMMIT"));
    report.push(ratio_line(&a, &s));

    let mut group = c.benchmark_group("approval");
    // Flat sampling: every sample has the same number of iterations. The journal grows by
    // one pre-auth per iteration and the cost grows with it, which would bias a linear
    // fit (criterion's "slope") upwards.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(50)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("preauth_approved_commit", |bench| {
        bench.iter_custom(|iters| (0..iters).map(|_| h.round()).sum())
    });
    group.bench_function("sqlite_insert_commit_baseline", |bench| {
        bench.iter_custom(|iters| (0..iters).map(|_| b.insert()).sum())
    });
    group.finish();
    report.push(criterion_estimates(
        args,
        "approval/preauth_approved_commit",
    ));
    report.push(criterion_estimates(
        args,
        "approval/sqlite_insert_commit_baseline",
    ));
    report.push(format!(
        "  (the journal grew to {} pre-auths during criterion's run)",
        h.seq
    ));

    let rounds = if args.bench { 1_000 } else { 5 };
    let before = h.seq;
    let (approvals, bases) = paired(&mut h, &mut b, rounds);
    let (a, s) = (Stats::of(&approvals), Stats::of(&bases));
    report.push(format!(
        "approval: paired loop after criterion, {rounds} rounds alternating (journal: {before} to {} pre-auths, {})",
        h.seq,
        journal_counts(&journal)
    ));
    report.push(a.line("  pre-auth approved (Engine::handle)"));
    report.push(s.line("  baseline INSERT + COMMIT"));
    report.push(ratio_line(&a, &s));

    // Where the difference goes: the same writes in bare SQL on the same journal, and the
    // queries every `handle` runs, at this journal's size.
    drop(h);
    let mut raw = RawApproval::open(&journal);
    let rounds = if args.bench { 300 } else { 3 };
    let mut raws = Vec::with_capacity(rounds);
    let mut bases = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let id = raw.prepare();
        raws.push(raw.approve(id));
        bases.push(b.insert());
    }
    drop(raw);
    let (r, s) = (Stats::of(&raws), Stats::of(&bases));
    report.push(format!("approval: the approval's writes in bare SQL on the same journal, {rounds} rounds alternating with the baseline"));
    report.push(r.line("  approval writes, bare SQL"));
    report.push(s.line("  baseline INSERT + COMMIT"));
    report.push(ratio_line(&r, &s));
    query_plans(&journal, "the approval journal", &QUERIES[5..], report);
}

fn ratio_line(a: &Stats, s: &Stats) -> String {
    format!(
        "  ratio to baseline: mean {:.2}x, p50 {:.2}x, p99 {:.2}x (target <= 1.5x)",
        a.mean.as_secs_f64() / s.mean.as_secs_f64(),
        a.p50.as_secs_f64() / s.p50.as_secs_f64(),
        a.p99.as_secs_f64() / s.p99.as_secs_f64()
    )
}

fn big_part(c: &mut Criterion, args: &Args, report: &mut Vec<String>) {
    let data = data_dir();
    let rows = if args.bench { BIG_ROWS } else { TEST_ROWS };
    let base = if args.bench {
        big_journal(&data, rows)
    } else {
        let scratch = data.join("test-mode");
        fs::create_dir_all(&scratch).unwrap();
        let name = format!("journal-{rows}-s{SCHEMA_VERSION}-g{GENERATOR_VERSION}.db");
        remove_db(&scratch.join(&name));
        let _ = fs::remove_file(scratch.join(format!("{name}.ok")));
        big_journal(&scratch, rows)
    };
    let dir = tempfile::Builder::new()
        .prefix("big-")
        .tempdir_in(&data)
        .expect("a temp dir");
    let work = dir.path().join("journal.db");
    let copy_started = Instant::now();
    fs::copy(&base, &work).expect("copying the big journal");
    report.push(format!(
        "journal_1m: {rows} finished transactions, {}, copied for this run in {:.1} s to {} ({})",
        journal_counts(&base),
        copy_started.elapsed().as_secs_f64(),
        dir.path().display(),
        file_system_of(dir.path())
    ));

    // The approval on the big journal: a few rounds, for comparison with the fresh one.
    if args.wants(&["journal_1m/approval"]) {
        let mut h = Harness::open(&work, big_end(rows), "big");
        let mut b = Baseline::open(
            &dir.path().join("baseline.db"),
            if args.bench { 1_000 } else { 10 },
        );
        // The copied journal starts with an empty WAL: warm it up as above.
        for _ in 0..if args.bench { WARM_UP_ROUNDS } else { 1 } {
            h.round();
        }
        let rounds = if args.bench { 50 } else { 3 };
        let started = Instant::now();
        let (approvals, bases) = paired(&mut h, &mut b, rounds);
        let (a, s) = (Stats::of(&approvals), Stats::of(&bases));
        report.push(format!(
            "journal_1m/approval: paired loop, {rounds} rounds ({:.1} s wall, submits included)",
            started.elapsed().as_secs_f64()
        ));
        report.push(a.line("  pre-auth approved (Engine::handle)"));
        report.push(s.line("  baseline INSERT + COMMIT"));
        report.push(ratio_line(&a, &s));
        // The harness left its first slip `printing`: one untimed open puts it back in
        // the queue, so the recovery benchmark starts from exactly its 10 rows.
        drop(h);
        let (engine, left) = Engine::open(
            &work,
            Config::default(),
            key(),
            big_end(rows).plus_millis(3_600_000),
        )
        .unwrap();
        assert_eq!(
            left,
            RecoveryReport {
                print_jobs_requeued: 1,
                ..Default::default()
            }
        );
        drop(engine);
    }

    query_plans(
        &work,
        &format!("the {rows}-transaction journal"),
        QUERIES,
        report,
    );

    if !args.wants(&[
        "recovery/open_1m_finished_10_unfinished",
        "journal_1m/recovery",
    ]) {
        return;
    }
    // Two finished transactions of the big journal get cut-off reprints.
    let mut rig = RecoveryRig {
        path: work.clone(),
        round: 0,
        now: big_end(rows).plus_millis(24 * 3_600_000),
        reprint_txns: [rows as i64, rows as i64 - 1],
        opens: Vec::new(),
    };
    let mut group = c.benchmark_group("recovery");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15));
    group.bench_function("open_1m_finished_10_unfinished", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                rig.arm();
                total += rig.open();
            }
            total
        })
    });
    group.finish();
    report.push(criterion_estimates(
        args,
        "recovery/open_1m_finished_10_unfinished",
    ));
    let warm = Stats::of(&rig.opens);
    report.push(format!("recovery: Engine::open on {rows} finished + 10 unfinished rows, every timed open (warm-up included), OS page cache warm:"));
    report.push(warm.line("  Engine::open (recovery of 10 rows)"));

    // A few opens with the file's pages dropped from the OS cache first: closer to a
    // terminal that restarts after losing power.
    let mut cold = Vec::new();
    for _ in 0..if args.bench { 3 } else { 1 } {
        rig.arm();
        if !drop_page_cache(&work) {
            break;
        }
        cold.push(rig.open());
    }
    if cold.is_empty() {
        report.push("  cold cache: skipped (dd iflag=nocache did not work here)".into());
    } else {
        report.push(Stats::of(&cold).line("  Engine::open, file dropped from page cache"));
    }
    report.push(format!(
        "  recovery report asserted every open: {EXPECTED}; {} opens in all",
        rig.round
    ));
}

/// Criterion's mean and median for a benchmark, from the `estimates.json` it just wrote.
fn criterion_estimates(args: &Args, id: &str) -> String {
    if !args.bench {
        return format!("criterion {id}: test mode, nothing measured");
    }
    let path = data_dir().parent().map(|t| {
        t.join("criterion")
            .join(id)
            .join("new")
            .join("estimates.json")
    });
    let read = || -> Option<String> {
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(path.as_ref()?).ok()?).ok()?;
        let est = |k: &str| -> Option<String> {
            let e = &json[k];
            let ns = |v: &serde_json::Value| v.as_f64().map(|x| ms(Duration::from_nanos(x as u64)));
            Some(format!(
                "{k} {} [{} .. {}]",
                ns(&e["point_estimate"])?,
                ns(&e["confidence_interval"]["lower_bound"])?,
                ns(&e["confidence_interval"]["upper_bound"])?
            ))
        };
        Some(format!(
            "criterion {id}: {}, {}, {}",
            est("mean")?,
            est("median")?,
            est("std_dev")?
        ))
    };
    read().unwrap_or_else(|| format!("criterion {id}: no estimates (test mode, or filtered out)"))
}

fn machine() -> Vec<String> {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    vec![format!(
        "machine: {cpus} CPUs, {cpu}, {mem} RAM; bench data on {}",
        file_system_of(&data_dir())
    )]
}

fn main() {
    let args = Args::parse();
    let mut c = Criterion::default().configure_from_args();
    let mut report = machine();
    if args.wants(&[
        "approval/preauth_approved_commit",
        "approval/sqlite_insert_commit_baseline",
        "approval",
    ]) {
        approval_part(&mut c, &args, &mut report);
    }
    if args.wants(&[
        "journal_1m",
        "journal_1m/approval",
        "recovery/open_1m_finished_10_unfinished",
        "query_plans",
    ]) {
        big_part(&mut c, &args, &mut report);
    }
    c.final_summary();
    println!("\n==================== journal benchmarks: summary ====================");
    for line in &report {
        println!("{line}");
    }
}
