//! Backup, verification, restore and rotation of the journal (`poscore::journal::backup`),
//! through the public API.
//!
//! The main test takes a backup while a day of transactions runs in another thread: the
//! engine loop there commits transaction after transaction and takes the backup between two
//! of its steps when asked (as the driver does), and the backup must restore to a journal
//! that opens, passes `integrity_check` and holds every transaction committed before the
//! backup began.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use poscore::card::{CardInput, PanHashKey};
use poscore::host::HostReply;
use poscore::ids::RequestId;
use poscore::journal::backup::{
    self, AtRisk, BackupError, BackupInfo, rotate, scheduled_backup, scheduled_backups,
    verify_backup,
};
use poscore::money::{Currency, Money};
use poscore::print::PrintOutcome;
use poscore::txn::TxnState;
use poscore::{Bilingual, Command, Config, Engine, Input, Output, Ticket, Timestamp};

fn start_time() -> Timestamp {
    Timestamp::from_civil(2026, 11, 26, 9, 0, 0)
}

fn key() -> PanHashKey {
    PanHashKey::new(vec![7; 32]).expect("a 32-byte key")
}

fn open(path: &Path, now: Timestamp) -> Engine {
    Engine::open(path, Config::default(), key(), now)
        .expect("the engine opens")
        .0
}

fn preauth(amount: &str, now: Timestamp) -> Command {
    Command::PreAuth {
        amount: Money::parse(amount, Currency::CNY).unwrap(),
        card: CardInput::parse("6222021234567890128", "3012", now).unwrap(),
    }
}

/// What the simulated host and printer do with a transaction's requests.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    /// Approved, and its slips printed.
    Approved,
    /// The answer is lost: `unknown`, then reversed (the host answers the reversal).
    Lost,
    /// The answer is lost and the reversal is never answered: `unknown`, reversal pending.
    LostForGood,
    /// Approved, but the printer never answers: its slip stays `sending`.
    Unprinted,
}

/// Runs `input` and everything it leads to. `between` runs before every engine step (the
/// moment a driver would take a backup).
fn run(
    engine: &mut Engine,
    now: Timestamp,
    input: Input,
    fate: Fate,
    n: u64,
    between: &mut dyn FnMut(&Engine),
) {
    let mut queue = vec![input];
    while let Some(input) = queue.pop() {
        between(engine);
        let outputs = engine.handle(now, input).expect("the engine handles it");
        for output in outputs {
            match output {
                Output::Send { exchange, request } => {
                    let is_reversal = matches!(request, poscore::host::HostRequest::Reversal(_));
                    let lost = match fate {
                        Fate::Lost => !is_reversal,
                        Fate::LostForGood => true,
                        _ => is_reversal,
                    };
                    if lost {
                        queue.push(Input::HostTimeout { exchange });
                    } else {
                        queue.push(Input::HostReply {
                            exchange,
                            reply: HostReply::approved(
                                &format!("{:06}", 100_000 + n),
                                &format!("{:012}", 202_611_260_000 + n),
                            ),
                        });
                    }
                }
                Output::Print(job) if fate != Fate::Unprinted => queue.push(Input::PrintResult {
                    job_id: job.job_id,
                    outcome: PrintOutcome::Printed { length_mm: 80 },
                }),
                Output::PrintReport(report) => queue.push(Input::ReportResult {
                    report_id: report.report_id,
                    outcome: PrintOutcome::Printed { length_mm: 60 },
                }),
                _ => {}
            }
        }
    }
}

/// Submits one pre-auth and runs it to its end.
fn transact(engine: &mut Engine, now: Timestamp, n: u64, fate: Fate) -> RequestId {
    let request_id = RequestId::parse(&format!("r{n}")).unwrap();
    let input = Input::Command {
        ticket: Ticket(n),
        request_id: request_id.clone(),
        command: preauth(&format!("{}.{:02}", 10 + n % 90, n % 100), now),
    };
    run(engine, now, input, fate, n, &mut |_| {});
    request_id
}

/// A backup request to the engine's thread: where, and where to answer.
type Ask = (
    PathBuf,
    mpsc::Sender<(Result<BackupInfo, BackupError>, Vec<(String, TxnState)>)>,
);

#[test]
fn a_backup_taken_while_a_day_of_transactions_runs_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.db");
    let (ask_tx, ask_rx) = mpsc::channel::<Ask>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    const DAY: u64 = 400;

    // The terminal: a loop committing a day of transactions, one every step, in its own
    // thread. Between any two engine steps it takes a backup when asked, and says which
    // transactions were committed (finished, with their final state) before it began.
    let path = journal.clone();
    let terminal = std::thread::spawn(move || {
        let now = start_time();
        let mut engine = open(&path, now);
        let mut committed: Vec<(String, TxnState)> = Vec::new();
        for n in 1..=DAY {
            let now = now.plus_millis(n as i64 * 1_000);
            let fate = if n % 10 == 0 {
                Fate::Lost
            } else {
                Fate::Approved
            };
            let request_id = RequestId::parse(&format!("r{n}")).unwrap();
            let input = Input::Command {
                ticket: Ticket(n),
                request_id: request_id.clone(),
                command: preauth(&format!("{}.{:02}", 10 + n % 90, n % 100), now),
            };
            let done = committed.clone();
            run(&mut engine, now, input, fate, n, &mut |engine: &Engine| {
                if let Ok((dest, answer)) = ask_rx.try_recv() {
                    let before = done.clone();
                    let taken = backup::backup(engine.journal(), &dest);
                    let _ = answer.send((taken, before));
                }
            });
            let record = engine
                .journal()
                .find_by_request_id(&request_id)
                .unwrap()
                .unwrap();
            committed.push((request_id.as_str().to_string(), record.state));
            if n == 25 {
                let _ = started_tx.send(());
            }
        }
        committed
    });

    // Ask for the backup while the day runs.
    started_rx.recv_timeout(Duration::from_secs(120)).unwrap();
    let dest = dir.path().join("mid-day.db");
    let (answer_tx, answer_rx) = mpsc::channel();
    ask_tx.send((dest.clone(), answer_tx)).unwrap();
    let (taken, before) = answer_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the backup is taken before the day ends");
    let taken = taken.expect("the backup succeeds while the terminal runs");
    let all = terminal.join().unwrap();
    assert!(
        before.len() >= 25,
        "the backup was taken mid-day, after some transactions"
    );
    assert!(
        before.len() < all.len(),
        "transactions went on after the backup ({} before, {} in all)",
        before.len(),
        all.len()
    );
    assert!(taken.transactions >= before.len() as u64);
    assert!(before.iter().any(|(_, s)| *s == TxnState::Reversed));
    assert!(before.iter().any(|(_, s)| *s == TxnState::Approved));

    // Restore into a fresh directory.
    let verified = verify_backup(&dest).expect("the backup verifies");
    assert_eq!(verified.transactions, taken.transactions);
    let fresh = dir.path().join("fresh").join("journal.db");
    let report = backup::restore(&dest, &fresh, false, start_time().plus_days(1)).unwrap();
    assert_eq!(report.replaced, None);
    assert_eq!(report.restored.transactions, taken.transactions);

    // integrity_check on the restored file itself.
    {
        let conn = rusqlite::Connection::open(&fresh).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
    // It opens (recovery included), and every transaction committed before the backup began
    // is there, in the state it had.
    let engine = open(&fresh, start_time().plus_days(1));
    for (request_id, state) in &before {
        let record = engine
            .journal()
            .find_by_request_id(&RequestId::parse(request_id).unwrap())
            .unwrap()
            .unwrap_or_else(|| panic!("{request_id} was committed before the backup"));
        assert_eq!(record.state, *state, "{request_id}");
    }
    let mut restored = 0;
    engine
        .journal()
        .for_each(|_| {
            restored += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(restored, taken.transactions);
    // The restored journal keeps working: a new transaction gets the next trace.
    drop(engine);
    let mut engine = open(&fresh, start_time().plus_days(1));
    let id = transact(
        &mut engine,
        start_time().plus_days(1),
        9_001,
        Fate::Approved,
    );
    let record = engine.journal().find_by_request_id(&id).unwrap().unwrap();
    assert_eq!(record.state, TxnState::Approved);
    assert!(record.trace.value() as u64 > taken.transactions);
}

/// A journal with `n` approved, printed transactions; returns its path.
fn journal_with(dir: &Path, name: &str, n: u64) -> PathBuf {
    let path = dir.join(name);
    let mut engine = open(&path, start_time());
    for i in 1..=n {
        transact(&mut engine, start_time(), i, Fate::Approved);
    }
    path
}

/// A verified backup of a journal with `n` transactions.
fn good_backup(dir: &Path, n: u64) -> PathBuf {
    let source = journal_with(dir, "source.db", n);
    let engine = open(&source, start_time());
    let dest = dir.join("good.db");
    backup::backup(engine.journal(), &dest).unwrap();
    dest
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Restoring `bad` over a live journal fails with `code`, and leaves the journal's directory
/// exactly as it was.
fn refused_untouched(bad: &Path, code: &str) {
    let target_dir = bad.parent().unwrap().join(format!("target-{code}"));
    std::fs::create_dir_all(&target_dir).unwrap();
    let journal = journal_with(&target_dir, "journal.db", 2);
    let before_bytes = std::fs::read(&journal).unwrap();
    let before_files = files_in(&target_dir);
    let error = backup::restore(bad, &journal, true, start_time()).unwrap_err();
    assert_eq!(error.code(), code, "{error}");
    assert!(!error.zh().is_empty() && !error.en().is_empty());
    assert_eq!(
        files_in(&target_dir),
        before_files,
        "nothing was added or removed"
    );
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before_bytes,
        "the journal is untouched"
    );
    let engine = open(&journal, start_time());
    assert_eq!(engine.journal().recent(10).unwrap().len(), 2);
}

#[test]
fn a_corrupt_backup_is_refused_before_anything_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_backup(dir.path(), 30);
    let mut bytes = std::fs::read(&good).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    assert!(bytes.len() >= page * 4);
    // Scribble over the second and third pages (b-tree pages of the schema's tables).
    for b in &mut bytes[page..page * 3] {
        *b = 0xA5;
    }
    let bad = dir.path().join("corrupt.db");
    std::fs::write(&bad, &bytes).unwrap();
    let error = verify_backup(&bad).unwrap_err();
    assert_eq!(error.code(), "BACKUP_CORRUPT", "{error}");
    refused_untouched(&bad, "BACKUP_CORRUPT");
}

#[test]
fn a_truncated_backup_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_backup(dir.path(), 30);
    let bytes = std::fs::read(&good).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let bad = dir.path().join("truncated.db");
    // Cut at a page boundary (the header's page count gives it away) and mid-page.
    std::fs::write(&bad, &bytes[..bytes.len() - page]).unwrap();
    refused_untouched(&bad, "BACKUP_TRUNCATED");
    std::fs::write(&bad, &bytes[..bytes.len() / 2 + 7]).unwrap();
    refused_untouched(&bad, "BACKUP_TRUNCATED");
    std::fs::write(&bad, &bytes[..50]).unwrap();
    assert_eq!(verify_backup(&bad).unwrap_err().code(), "BACKUP_TRUNCATED");
}

#[test]
fn foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Another application's SQLite database.
    let other = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&other).unwrap();
        conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('hello');")
            .unwrap();
    }
    refused_untouched(&other, "BACKUP_FOREIGN");
    // A database claiming our version but without our tables.
    {
        let conn = rusqlite::Connection::open(&other).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let error = verify_backup(&other).unwrap_err();
    assert_eq!(error.code(), "BACKUP_FOREIGN");
    assert!(error.en().contains("missing tables"), "{error}");
    // Not SQLite at all, and empty.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "trace,amount\n000001,10.00\n".repeat(100)).unwrap();
    refused_untouched(&text, "BACKUP_FOREIGN");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(verify_backup(&empty).unwrap_err().code(), "BACKUP_FOREIGN");
}

#[test]
fn a_backup_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_backup(dir.path(), 3);
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.pragma_update(None, "user_version", poscore::journal::SCHEMA_VERSION + 1)
            .unwrap();
    }
    refused_untouched(&newer, "BACKUP_SCHEMA_TOO_NEW");
}

#[test]
fn input_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.db");
    let missing = dir.path().join("missing.db");
    assert_eq!(
        backup::restore(&missing, &journal, false, start_time())
            .unwrap_err()
            .code(),
        "BACKUP_NOT_FOUND"
    );
    assert_eq!(
        backup::restore(dir.path(), &journal, false, start_time())
            .unwrap_err()
            .code(),
        "BACKUP_IS_DIRECTORY"
    );
    let good = good_backup(dir.path(), 1);
    assert_eq!(
        backup::restore(&good, dir.path(), false, start_time())
            .unwrap_err()
            .code(),
        "BACKUP_IS_DIRECTORY"
    );
    assert_eq!(
        backup::restore(&good, &good, true, start_time())
            .unwrap_err()
            .code(),
        "BACKUP_SAME_FILE"
    );
    // Backing up onto the journal itself, or into a directory, is refused.
    let engine = open(&dir.path().join("source.db"), start_time());
    let same = backup::backup(engine.journal(), &dir.path().join("source.db")).unwrap_err();
    assert_eq!(same.code(), "BACKUP_SAME_FILE");
    let into_dir = backup::backup(engine.journal(), dir.path()).unwrap_err();
    assert_eq!(into_dir.code(), "BACKUP_IS_DIRECTORY");
    assert!(!journal.exists(), "nothing was created");
}

#[test]
fn restore_refuses_to_lose_work_without_force_and_keeps_the_replaced_journal() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_backup(dir.path(), 5);
    let journal = dir.path().join("live").join("journal.db");
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    {
        let mut engine = open(&journal, start_time());
        transact(&mut engine, start_time(), 1, Fate::Approved);
        transact(&mut engine, start_time(), 2, Fate::Unprinted);
        transact(&mut engine, start_time(), 3, Fate::LostForGood);
    }
    let trace_of = |n: u32| {
        let engine = open(&journal, start_time());
        let record = engine
            .journal()
            .find_by_request_id(&RequestId::parse(&format!("r{n}")).unwrap())
            .unwrap()
            .unwrap();
        format!("{:06}", record.trace.value())
    };
    let (unprinted, lost) = (trace_of(2), trace_of(3));
    let before = std::fs::read(&journal).unwrap();
    let error = backup::restore(&good, &journal, false, start_time()).unwrap_err();
    assert_eq!(error.code(), "RESTORE_WOULD_LOSE_WORK");
    let BackupError::WouldLoseWork { at_risk, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        at_risk,
        &AtRisk {
            pending_reversals: vec![lost.clone()],
            unknown_outcome: vec![lost.clone()],
            unsent_advices: vec![],
            unprinted_slips: vec![
                format!("{unprinted} merchant"),
                format!("{unprinted} cardholder")
            ],
        },
        "{error}"
    );
    assert!(
        error.en().contains(&format!(
            "2 unprinted slips ({unprinted} merchant, {unprinted} cardholder)"
        )),
        "{error}"
    );
    assert!(error.zh().contains("张未打印的签购单"), "{}", error.zh());
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "refused: untouched"
    );
    assert_eq!(files_in(journal.parent().unwrap()), vec!["journal.db"]);

    // With force: restored, the old journal kept beside it and still readable.
    let report = backup::restore(&good, &journal, true, start_time().plus_millis(61_000)).unwrap();
    assert_eq!(&report.overridden, at_risk);
    let kept = report.replaced.clone().unwrap();
    assert!(
        kept.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("journal.db.before-restore-20261126-090101"),
        "{kept:?}"
    );
    verify_backup(&kept).expect("the kept journal is a whole journal");
    let engine = open(&journal, start_time());
    assert_eq!(engine.journal().recent(100).unwrap().len(), 5);
    drop(engine);
    let old = open(&kept, start_time());
    let state = |n: u32| {
        old.journal()
            .find_by_request_id(&RequestId::parse(&format!("r{n}")).unwrap())
            .unwrap()
            .unwrap()
            .state
    };
    assert_eq!(
        state(2),
        TxnState::Approved,
        "the unprinted one is in the kept journal"
    );
    assert_eq!(
        state(3),
        TxnState::Unknown,
        "so is the lost one, with its reversal"
    );
}

#[test]
fn a_journal_open_in_a_terminal_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_backup(dir.path(), 2);
    let journal = journal_with(dir.path(), "journal.db", 1);
    let engine = open(&journal, start_time());
    let error = backup::restore(&good, &journal, true, start_time()).unwrap_err();
    assert_eq!(error.code(), "RESTORE_JOURNAL_IN_USE", "{error}");
    assert_eq!(engine.journal().recent(10).unwrap().len(), 1);
    drop(engine);
    backup::restore(&good, &journal, false, start_time()).unwrap();
    assert_eq!(
        open(&journal, start_time())
            .journal()
            .recent(10)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn rotation_keeps_the_newest_n() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(&dir.path().join("journal.db"), start_time());
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    std::fs::write(backups.join("notes.txt"), "not a backup").unwrap();
    std::fs::write(backups.join("poscore-manual.db"), "not scheduled").unwrap();
    for minute in 0..6 {
        let at = start_time().plus_millis(minute * 60_000);
        scheduled_backup(engine.journal(), &backups, at, 3).unwrap();
    }
    let kept: Vec<String> = scheduled_backups(&backups)
        .unwrap()
        .into_iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        kept,
        vec![
            "poscore-20261126-090500.db",
            "poscore-20261126-090400.db",
            "poscore-20261126-090300.db"
        ]
    );
    assert_eq!(
        files_in(&backups),
        vec![
            "notes.txt",
            "poscore-20261126-090300.db",
            "poscore-20261126-090400.db",
            "poscore-20261126-090500.db",
            "poscore-manual.db"
        ],
        "other files are never touched, no temporary file is left"
    );
    assert_eq!(rotate(&backups, 1).unwrap().len(), 2);
    for (path, _) in scheduled_backups(&backups).unwrap() {
        verify_backup(&path).unwrap();
    }
}
