//! Storage faults (issue 7, part 3): a full storage, a write-protected journal, a damaged or
//! truncated journal, and a journal from a newer poscore. Each test uses real SQLite files in
//! a temporary directory and checks, for its fault:
//! - the error's stable code, and its message in Chinese and English (what, why, what to do);
//! - that the terminal takes no financial transaction it cannot journal (for a fault found
//!   at open, `Engine::open` refuses, so there is no engine to take one; for a full storage
//!   met while running, `Engine::handle` of a `Command::PreAuth` is refused and nothing is
//!   sent to the host);
//! - that everything committed before the fault is still there once the fault is removed.

use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use poscore::card::{CardInput, PanHashKey};
use poscore::host::{HostReply, HostRequest};
use poscore::ids::RequestId;
use poscore::journal::{Journal, SCHEMA_VERSION};
use poscore::money::{Currency, Money};
use poscore::print::PrintOutcome;
use poscore::record::TxnRecord;
use poscore::txn::{PrintJobState, ReversalState, TxnState};
use poscore::{Bilingual, Command, Config, Engine, Input, JournalError, Output, Ticket, Timestamp};

fn now() -> Timestamp {
    Timestamp::from_civil(2026, 11, 26, 9, 0, 0)
}

fn key() -> PanHashKey {
    PanHashKey::new(vec![7; 32]).expect("a 32-byte key")
}

fn rid(text: &str) -> RequestId {
    RequestId::parse(text).expect("a valid request id")
}

fn preauth(request_id: &str) -> Input {
    Input::Command {
        ticket: Ticket(1),
        request_id: rid(request_id),
        command: Command::PreAuth {
            amount: Money::parse("88.00", Currency::CNY).expect("an amount"),
            card: CardInput::parse("6222021234567890128", "3012", now()).expect("a card"),
        },
    }
}

fn open(path: &Path) -> Result<Engine, poscore::OpenError> {
    Engine::open(path, Config::default(), key(), now()).map(|(engine, _)| engine)
}

fn sends(outputs: &[Output]) -> usize {
    outputs
        .iter()
        .filter(|o| matches!(o, Output::Send { .. }))
        .count()
}

/// Answers every request with an approval and confirms every slip, until the engine rests.
fn drive(engine: &mut Engine, first: Vec<Output>) {
    let mut pending: VecDeque<Output> = first.into();
    let mut n = 0u64;
    while let Some(output) = pending.pop_front() {
        let next = match output {
            Output::Send { exchange, .. } => {
                n += 1;
                let reply =
                    HostReply::approved(&format!("{:06}", 100_000 + n), &format!("{n:012}"));
                engine.handle(now(), Input::HostReply { exchange, reply })
            }
            Output::Print(job) => engine.handle(
                now(),
                Input::PrintResult {
                    job_id: job.job_id,
                    outcome: PrintOutcome::Printed { length_mm: 100 },
                },
            ),
            _ => continue,
        };
        pending.extend(next.expect("the journal works"));
    }
}

/// A journal at `dir/journal.db` with three approved pre-auths whose slips all printed; the
/// engine is closed (its WAL copied into the file). Returns the path and the records.
fn journal_with_history(dir: &Path) -> (PathBuf, Vec<TxnRecord>) {
    let path = dir.join("journal.db");
    let mut engine = open(&path).expect("a new journal opens");
    let out = engine
        .handle(
            now(),
            Input::Command {
                ticket: Ticket(1),
                request_id: rid("sign-on"),
                command: Command::SignOn,
            },
        )
        .expect("sign-on");
    drive(&mut engine, out);
    let mut records = Vec::new();
    for i in 1..=3 {
        let out = engine
            .handle(now(), preauth(&format!("before-{i}")))
            .expect("a pre-auth");
        drive(&mut engine, out);
        let record = engine
            .journal()
            .find_by_request_id(&rid(&format!("before-{i}")))
            .unwrap()
            .expect("the pre-auth is journaled");
        assert_eq!(record.state, TxnState::Approved);
        records.push(record);
    }
    drop(engine);
    assert!(
        !Path::new(&format!("{}-wal", path.display())).exists(),
        "closing removes the WAL"
    );
    (path, records)
}

/// Reopens the journal and checks every record is there with its state, auth code and
/// printed slips.
fn assert_committed(path: &Path, records: &[TxnRecord]) -> Engine {
    let engine = open(path).expect("the journal opens once the fault is removed");
    for before in records {
        let now = engine
            .journal()
            .find_by_request_id(&before.request_id)
            .unwrap()
            .unwrap_or_else(|| panic!("{} was lost", before.request_id.as_str()));
        assert_eq!(now.state, TxnState::Approved);
        assert_eq!(now.trace, before.trace);
        assert_eq!(now.auth_code, before.auth_code);
        assert_eq!(now.rrn, before.rrn);
        assert_eq!(now.print_jobs.len(), 2, "both slips of {}", now.trace);
        assert!(
            now.print_jobs
                .iter()
                .all(|j| j.state == PrintJobState::Printed)
        );
    }
    engine
}

/// The error's code, and both messages non-empty with the given words.
fn assert_message(error: &dyn Bilingual, code: &str, en: &[&str], zh: &[&str]) {
    assert_eq!(error.code(), code, "{}", error.en());
    for word in en {
        assert!(error.en().contains(word), "{:?} lacks {word:?}", error.en());
    }
    for word in zh {
        assert!(error.zh().contains(word), "{:?} lacks {word:?}", error.zh());
    }
}

// ---------------------------------------------------------------------------------------

/// A real SQLITE_FULL: the journal is capped at its current size (`PRAGMA max_page_count`
/// through a test-only hook; a tiny file system needs root to mount), then pre-auths come
/// until one's commit needs a page more.
#[test]
fn disk_full_during_a_commit_refuses_the_preauth_stops_the_engine_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = journal_with_history(dir.path());
    let mut engine = open(&path).unwrap();
    engine.journal().cap_size_for_tests(0).expect("the cap");

    let mut sent = 0;
    let mut failed = None;
    for i in 0..2_000 {
        match engine.handle(now(), preauth(&format!("full-{i}"))) {
            Ok(out) => sent += sends(&out),
            Err(error) => {
                failed = Some((i, error));
                break;
            }
        }
    }
    let (failed_at, error) = failed.expect("the capped journal fills up");
    // Only the first pre-auth went to the host (one exchange at a time); the one whose
    // commit failed gave no outputs at all, so nothing about it was sent.
    assert!(sent <= 1, "{sent} requests sent");
    assert!(matches!(error, JournalError::DiskFull { .. }), "{error:?}");
    assert_message(
        &error,
        "JOURNAL_DISK_FULL",
        &[
            "storage is full",
            "Nothing committed before is lost",
            "free storage space",
        ],
        &["存储空间已满", "清理存储空间"],
    );

    // The engine stopped: every later input gets the clear error, no panic, nothing sent.
    for input in [preauth("after-full"), Input::Tick] {
        let later = engine
            .handle(now(), input)
            .expect_err("the engine is stopped");
        assert_message(
            &later,
            "JOURNAL_POISONED",
            &["takes no transaction", "free storage space", "restart"],
            &["不接受任何交易", "清理存储空间"],
        );
    }
    drop(engine);

    // Space is back (a new connection has no cap): everything committed is there.
    let mut engine = assert_committed(&path, &records);
    let journal = engine.journal();
    assert!(
        journal
            .find_by_request_id(&rid(&format!("full-{failed_at}")))
            .unwrap()
            .is_none(),
        "the failed commit left nothing"
    );
    assert!(
        journal
            .find_by_request_id(&rid("after-full"))
            .unwrap()
            .is_none()
    );
    for i in 0..failed_at {
        let record = journal
            .find_by_request_id(&rid(&format!("full-{i}")))
            .unwrap()
            .expect("a committed pre-auth");
        if i == 0 && sent == 1 {
            // It may have reached the host: recovery arms its reversal.
            assert_eq!(record.state, TxnState::Unknown);
            assert_eq!(
                record.reversal.map(|r| r.state),
                Some(ReversalState::Pending)
            );
        } else {
            assert_eq!(record.state, TxnState::NotSent, "full-{i} never left");
        }
    }
    // And the terminal works again: the pending reversal goes first, then the new pre-auth.
    let out = engine
        .handle(now(), preauth("after-space-freed"))
        .expect("the journal works again");
    assert_eq!(sends(&out), 1);
    if sent == 1 {
        assert!(out.iter().any(|o| matches!(
            o,
            Output::Send {
                request: HostRequest::Reversal(_),
                ..
            }
        )));
    }
}

/// A write-protected journal. As a normal user `chmod 0444` (and a read-only folder) makes
/// SQLite open the file read-only; as root chmod protects nothing, which the test detects
/// (it can still open the file for writing) and then uses `open_write_protected_for_tests`,
/// which gives SQLite the same read-only flag it sets by itself on a protected file.
#[test]
fn read_only_journal_is_refused_for_transactions_and_left_as_it_is() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = journal_with_history(dir.path());
    let before = fs::read(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let privileged = fs::OpenOptions::new().append(true).open(&path).is_ok();

    let error = Journal::open_write_protected_for_tests(&path, now()).expect_err("refused");
    assert!(matches!(error, JournalError::ReadOnly { .. }), "{error:?}");
    assert_message(
        &error,
        "JOURNAL_READ_ONLY",
        &["cannot be written", "journal.db", "writable"],
        &["无法写入", "journal.db"],
    );
    if privileged {
        eprintln!("running as root: chmod does not protect the file; the read-only flag was used");
    } else {
        // The real thing: the engine itself cannot open, so it takes no transaction.
        let error = open(&path).expect_err("the engine does not open on a read-only journal");
        assert_message(
            &error,
            "JOURNAL_READ_ONLY",
            &["cannot be written"],
            &["无法写入"],
        );
    }
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(fs::read(&path).unwrap(), before, "the file was not touched");
    assert_committed(&path, &records);
}

/// Garbage over pages, and a file that is not SQLite at all: refused, named, untouched, and
/// never replaced by a new empty journal; restoring the backup brings everything back.
#[test]
fn corrupt_journal_is_refused_with_the_file_named_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = journal_with_history(dir.path());
    let backup = dir.path().join("backup.db");
    fs::copy(&path, &backup).unwrap();
    let good = fs::read(&path).unwrap();
    let page = 4096;
    assert!(good.len() >= 6 * page, "a journal of {} bytes", good.len());

    let mut garbage = good.clone();
    let mut seed = 0x2545_f491_u32;
    for byte in &mut garbage[2 * page..4 * page] {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        *byte = seed as u8;
    }
    let not_sqlite = b"this is a spreadsheet, not a journal\n".repeat(500);
    for (what, bytes) in [("garbage over pages", garbage), ("not SQLite", not_sqlite)] {
        fs::write(&path, &bytes).unwrap();
        let error = open(&path).expect_err(what);
        assert_message(
            &error,
            "JOURNAL_CORRUPT",
            &[
                "damaged",
                "journal.db",
                "restore the last backup",
                "poscore restore",
            ],
            &["已损坏", "journal.db", "恢复最近的备份"],
        );
        let error = Journal::open(&path, now()).expect_err(what);
        assert!(
            matches!(error, JournalError::Corrupt { .. }),
            "{what}: {error:?}"
        );
        assert_eq!(
            fs::read(&path).unwrap(),
            bytes,
            "{what}: the file was not touched"
        );
    }
    fs::copy(&backup, &path).unwrap();
    assert_committed(&path, &records);
}

/// A journal cut short: mid-page, at a page boundary, and to nothing.
#[test]
fn truncated_journal_is_refused_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = journal_with_history(dir.path());
    let good = fs::read(&path).unwrap();
    let page = 4096;
    for cut in [
        good.len() / 2 + 123,
        good.len() - 100,
        (good.len() / page / 2) * page,
        50,
        0,
    ] {
        fs::write(&path, &good[..cut]).unwrap();
        let error = open(&path).expect_err("a cut-short journal");
        assert_message(
            &error,
            "JOURNAL_CORRUPT",
            &["damaged", "journal.db", "restore the last backup"],
            &["已损坏", "恢复最近的备份"],
        );
        assert_eq!(
            fs::read(&path).unwrap().len(),
            cut,
            "cut at {cut}: the file was not touched"
        );
    }
    fs::write(&path, &good).unwrap();
    assert_committed(&path, &records);
}

/// A journal from a newer poscore: refused, unchanged, and the message says to update.
#[test]
fn journal_from_a_newer_schema_is_refused_with_update_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = journal_with_history(dir.path());
    let set_version = |v: i64| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", v).unwrap();
    };
    set_version(SCHEMA_VERSION + 7);
    let error = open(&path).expect_err("a newer journal");
    assert_message(
        &error,
        "JOURNAL_SCHEMA_TOO_NEW",
        &["newer poscore", "update the app", "do not downgrade"],
        &["升级", "不要降级"],
    );
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 7, "the file was left as it is");
    set_version(SCHEMA_VERSION);
    assert_committed(&path, &records);
}

/// The cost of the checks at open on a journal of 10,000 finished pre-auths (each with its
/// reversal, two printed slips and eight events), built with raw SQL. Prints the numbers
/// (`cargo test -p poscore --test storage_faults -- --nocapture quick_check`).
#[test]
fn quick_check_cost_on_10k_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(open(&path).unwrap());
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    let tx = conn.transaction().unwrap();
    for i in 0..10_000i64 {
        let id = i + 1;
        let at = now().as_millis() + i * 60_000;
        tx.execute(
            "INSERT INTO transactions (id, request_id, fingerprint, kind, state, trace, batch, amount_minor, currency, \
             masked_pan, pan_hash, auth_code, rrn, response_code, original_id, settled, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 'preauth', 'approved', ?4, ?5, 8800, 'CNY', '622202*********0128', ?6, '123456', ?7, '00', NULL, 1, ?8, ?8)",
            rusqlite::params![id, format!("pos-{i:08}"), format!("preauth|8800|CNY|{i:064}"), i % 999 + 1, i / 999 + 1, format!("{i:064}"), format!("{i:012}"), at],
        )
        .unwrap();
        tx.execute("INSERT INTO reversals (txn_id, state, reason, attempts, last_response, next_attempt_at, created_at, updated_at) VALUES (?1, 'disarmed', '98', 0, NULL, 0, ?2, ?2)", rusqlite::params![id, at]).unwrap();
        for copy in ["merchant", "cardholder"] {
            tx.execute("INSERT INTO print_jobs (txn_id, copy, kind, state, attempts, last_error, next_attempt_at, created_at, updated_at) VALUES (?1, ?2, 'original', 'printed', 1, NULL, 0, ?3, ?3)", rusqlite::params![id, copy, at]).unwrap();
        }
        for (entity, to) in [
            ("transaction", "sending"),
            ("reversal", "armed"),
            ("reversal", "disarmed"),
            ("transaction", "approved"),
            ("print_job", "queued"),
            ("print_job", "queued"),
            ("print_job", "printed"),
            ("print_job", "printed"),
        ] {
            tx.execute("INSERT INTO events (at, txn_id, entity, from_state, to_state, cause) VALUES (?1, ?2, ?3, NULL, ?4, 'bulk')", rusqlite::params![at, id, entity, to]).unwrap();
        }
    }
    tx.commit().unwrap();
    drop(conn);
    let size = fs::metadata(&path).unwrap().len();

    let best = |f: &dyn Fn()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let quick_check = best(&|| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let ok: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    });
    let integrity_check = best(&|| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    });
    let open_all = best(&|| drop(Journal::open(&path, now()).unwrap()));
    eprintln!(
        "10,000 transactions, {:.1} MiB: quick_check {quick_check:?}, integrity_check {integrity_check:?}, Journal::open with its checks {open_all:?}",
        size as f64 / 1_048_576.0
    );
}
