//! The `poscore` binary as an operator uses it: outputs, languages and exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn poscore(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poscore"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("POSCORE_DB")
        .output()
        .expect("poscore runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const PAN: &str = "6222021234567890128";

/// The number before `word` in `text` ("11 slips printed" → 11).
fn number_before(text: &str, word: &str) -> usize {
    let words: Vec<&str> = text.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == word)
        .unwrap_or_else(|| panic!("no {word:?} in {text}"));
    words[at - 1]
        .trim_start_matches('(')
        .parse()
        .unwrap_or_else(|_| panic!("no number before {word:?} in {text}"))
}

fn png_height(path: &Path) -> u32 {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    decoder.read_info().unwrap().info().height
}

#[test]
fn demo_prints_through_the_virtual_printer_holds_for_paper_out_resumes_and_reprints() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let started = std::time::Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_poscore"))
        .args(["--lang", "en", "demo", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the demo took {:?}",
        started.elapsed()
    );
    let shown = text(&run);
    assert_eq!(run.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("All final states are as expected."),
        "{shown}"
    );
    assert!(
        shown.contains("host simulator (ISO 8583 over TCP): 127.0.0.1:"),
        "the demo goes over real TCP: {shown}"
    );
    for state in ["approved", "reversed", "voided"] {
        assert!(shown.contains(state), "summary lacks {state}: {shown}");
    }
    assert!(out.join("journal.db").exists());
    // The hold and the resume are on screen, in order.
    let progress = [
        "printing copy 2/2 (cardholder copy of trace 000001)",
        "held: paper out — load a new roll",
        "paper replaced",
        "resumed: the printer is ready again",
    ];
    for words in progress {
        assert!(shown.contains(words), "no {words:?}: {shown}");
    }
    let stderr = String::from_utf8_lossy(&run.stderr);
    let held_at = stderr.find("held: paper out").unwrap();
    assert!(
        stderr[held_at..].contains("resumed"),
        "resumed after the hold: {stderr}"
    );
    // The summary lists every slip with its final state; the held one shows why it waited.
    assert!(shown.contains("Slips (from the journal):"), "{shown}");
    let slip_rows: Vec<&str> = shown
        .lines()
        .filter(|l| l.starts_with("0000") && (l.contains(" original ") || l.contains(" reprint ")))
        .collect();
    assert_eq!(
        slip_rows.len(),
        11,
        "5 approved transactions × 2 copies + 1 reprint: {shown}"
    );
    assert!(
        slip_rows
            .iter()
            .all(|row| row.contains(" printed ") && row.contains(" paper ")),
        "{slip_rows:#?}"
    );
    assert!(
        slip_rows.iter().any(|row| row.starts_with("000001")
            && row.contains("cardholder")
            && row.ends_with("paper_out")),
        "{slip_rows:#?}"
    );
    assert!(
        slip_rows.iter().any(|row| row.contains(" reprint ")),
        "{slip_rows:#?}"
    );

    // Every page went through the virtual printer: 11 slips confirmed, 1 cut short by the
    // paper-out, each a PNG.
    let pngs = std::fs::read_dir(out.join("slips"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    let summary = shown
        .lines()
        .find(|l| l.contains("slips printed,"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(number_before(summary, "slips"), 11, "{summary}");
    assert_eq!(number_before(summary, "cut"), 1, "{summary}");
    assert_eq!(number_before(summary, "PNGs"), pngs, "{summary}");
    assert_eq!(pngs, 12);
    // The cut-short page is the second slip, shorter than the whole one printed after it.
    let page = |n: usize| out.join("slips").join(format!("page-{n:04}.png"));
    assert!(
        png_height(&page(2)) < png_height(&page(3)) / 2,
        "page 2 is cut short"
    );
    // The reprint page (found by the demo in the page's text) is the last slip again, taller
    // by its REPRINT markers.
    let reprint_line = shown
        .lines()
        .find(|l| l.starts_with("reprint page: "))
        .unwrap_or_else(|| panic!("{shown}"));
    let reprint_page = Path::new(reprint_line.trim_start_matches("reprint page: ").trim());
    assert_eq!(reprint_page, page(12));
    assert!(
        png_height(reprint_page) > png_height(&page(11)),
        "the reprint of page 11 says REPRINT at its top and bottom"
    );

    // The journal agrees: the hold and the resume are in the held slip's history.
    let shown_txn = poscore(&out.join("journal.db"), &["--lang", "en", "show", "000001"]);
    let history = text(&shown_txn);
    assert!(
        history.contains("sending -> held") && history.contains("printer fault paper_out"),
        "{history}"
    );
    assert!(
        history.contains("held -> queued")
            && history.contains("the printer reports it is ready again"),
        "{history}"
    );

    // A second run starts from a fresh journal and passes again, in Chinese.
    let again = Command::new(env!("CARGO_BIN_EXE_poscore"))
        .args(["--lang", "zh", "demo", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    for words in [
        "所有最终状态正确",
        "暂停打印：缺纸",
        "已换纸",
        "已恢复打印",
        "重打印页",
    ] {
        assert!(
            text(&again).contains(words),
            "no {words:?}: {}",
            text(&again)
        );
    }
}

#[test]
fn exit_codes_say_ok_refused_usage_and_journal_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let ok = poscore(
        &db,
        &[
            "--lang",
            "en",
            "preauth",
            "--amount",
            "100.00",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "r1",
        ],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("approved") && text(&ok).contains("622202*********0128"));
    assert!(!text(&ok).contains(PAN), "the full PAN is never printed");

    // The same request id again: the same transaction, still exit 0, no second approval.
    let again = poscore(
        &db,
        &[
            "--lang",
            "en",
            "preauth",
            "--amount",
            "100.00",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "r1",
        ],
    );
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again).contains("trace 000001"), "{}", text(&again));

    let declined = poscore(
        &db,
        &[
            "--lang",
            "en",
            "preauth",
            "--amount",
            "10.51",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "r2",
        ],
    );
    assert_eq!(declined.status.code(), Some(1), "{}", text(&declined));
    assert!(text(&declined).contains("declined"));

    let lost = poscore(
        &db,
        &[
            "--lang",
            "en",
            "preauth",
            "--amount",
            "10.98",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "r3",
        ],
    );
    assert_eq!(lost.status.code(), Some(1));
    assert!(text(&lost).contains("unknown"), "{}", text(&lost));

    let bad_amount = poscore(
        &db,
        &[
            "--lang",
            "en",
            "preauth",
            "--amount",
            "1.234",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "r4",
        ],
    );
    assert_eq!(bad_amount.status.code(), Some(2));
    assert!(text(&bad_amount).contains("AMOUNT_TOO_MANY_DECIMALS"));
    let luhn = poscore(
        &db,
        &[
            "--lang",
            "zh",
            "preauth",
            "--amount",
            "1.00",
            "--pan",
            "6222021234567890127",
            "--expiry",
            "3012",
            "--request-id",
            "r5",
        ],
    );
    assert_eq!(luhn.status.code(), Some(2));
    assert!(text(&luhn).contains("校验位") && text(&luhn).contains("PAN_LUHN"));

    let unknown_trace = poscore(&db, &["--lang", "en", "void", "--trace", "777777"]);
    assert_eq!(unknown_trace.status.code(), Some(1));
    assert!(text(&unknown_trace).contains("ORIGINAL_NOT_FOUND"));
    let over = poscore(
        &db,
        &[
            "--lang", "en", "complete", "--trace", "000001", "--amount", "115.01",
        ],
    );
    assert_eq!(over.status.code(), Some(1));
    assert!(text(&over).contains("COMPLETION_OVER_LIMIT"));
    let usage = poscore(&db, &["preauth", "--amount", "1.00"]);
    assert_eq!(usage.status.code(), Some(2));

    // The lost answer was reversed before this command exited.
    let export = poscore(&db, &["export", "--format", "json"]);
    assert_eq!(export.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    let lost_row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["request_id"] == "r3")
        .unwrap();
    assert_eq!(lost_row["state"], "reversed");
    assert_eq!(lost_row["reversal"]["state"], "done");
    assert_eq!(lost_row["reversal"]["reason"], "98");
    let csv = poscore(&db, &["export", "--format", "csv"]);
    assert!(
        String::from_utf8_lossy(&csv.stdout).lines().count() == 1 + rows.as_array().unwrap().len()
    );

    // A journal that is not a SQLite file is an I/O error with exit 3.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    let broken = poscore(&junk, &["list"]);
    assert_eq!(broken.status.code(), Some(3), "{}", text(&broken));
    assert!(text(&broken).contains("JOURNAL_"), "{}", text(&broken));
}

#[test]
fn show_lists_the_history_of_a_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    poscore(
        &db,
        &[
            "preauth",
            "--amount",
            "8.00",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "s1",
        ],
    );
    let shown = poscore(&db, &["--lang", "en", "show", "000001"]);
    assert_eq!(shown.status.code(), Some(0));
    let shown = text(&shown);
    for step in [
        "accepted from the cashier",
        "armed before sending",
        "approved by the host",
        "the printer confirmed it",
    ] {
        assert!(shown.contains(step), "history lacks {step:?}: {shown}");
    }
    let list = poscore(&db, &["--lang", "zh", "list"]);
    assert!(text(&list).contains("凭证号") && text(&list).contains("成功"));
}

/// `poscore list` on a journal with garbage over its pages: exit 3, the stable code and the
/// file in the message, and the file left as it was (never replaced by a new journal).
#[test]
fn list_on_a_corrupt_journal_exits_3_with_journal_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let made = poscore(
        &db,
        &[
            "preauth",
            "--amount",
            "8.00",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "c1",
        ],
    );
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(
        bytes.len() >= 4 * 4096,
        "a journal of {} bytes",
        bytes.len()
    );
    for (i, byte) in bytes[4096..3 * 4096].iter_mut().enumerate() {
        *byte = (i * 131 % 251) as u8;
    }
    std::fs::write(&db, &bytes).unwrap();
    let listed = poscore(&db, &["--lang", "en", "list"]);
    let said = text(&listed);
    assert_eq!(listed.status.code(), Some(3), "{said}");
    assert!(said.contains("JOURNAL_CORRUPT"), "{said}");
    assert!(
        said.contains("journal.db") && said.contains("restore the last backup"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "the journal was not touched"
    );
}

// ---------------------------------------------------------------------------------------
// Backup, restore and export per batch
// ---------------------------------------------------------------------------------------

fn preauth_ok(db: &Path, amount: &str, request_id: &str) {
    let made = poscore(
        db,
        &[
            "--lang",
            "en",
            "preauth",
            "--amount",
            amount,
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            request_id,
        ],
    );
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
}

/// The transactions of a JSON export: (trace, batch, request id).
fn exported(db: &Path, args: &[&str]) -> Vec<(String, String, String)> {
    let mut all = vec!["--lang", "en", "export", "--format", "json"];
    all.extend_from_slice(args);
    let out = poscore(db, &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["trace"].as_str().unwrap().to_string(),
                t["batch"].as_str().unwrap().to_string(),
                t["request_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn backup_restore_and_export_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    preauth_ok(&db, "10.00", "b1");
    preauth_ok(&db, "20.00", "b2");
    let file = dir.path().join("backup.db");
    let taken = poscore(&db, &["--lang", "en", "backup"]).status.code();
    assert_eq!(taken, Some(2), "FILE is required");
    let taken = poscore(&db, &["--lang", "en", "backup", file.to_str().unwrap()]);
    let said = text(&taken);
    assert_eq!(taken.status.code(), Some(0), "{said}");
    assert!(
        said.contains("backed up to")
            && said.contains("2 transactions")
            && said.contains("verified"),
        "{said}"
    );
    let at_backup = exported(&db, &[]);

    // Settle, then one more in batch 2: the export per batch splits them.
    let settled = poscore(&db, &["--lang", "en", "settle"]);
    assert_eq!(settled.status.code(), Some(0), "{}", text(&settled));
    preauth_ok(&db, "30.00", "b3");
    let first = exported(&db, &["--batch", "1"]);
    assert_eq!(first, at_backup);
    assert!(first.iter().all(|(_, batch, _)| batch == "000001"));
    let second = exported(&db, &["--batch", "000002"]);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].2, "b3");
    assert!(exported(&db, &["--batch", "7"]).is_empty());
    let csv = poscore(&db, &["export", "--format", "csv", "--batch", "2"]);
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    assert_eq!(csv.lines().count(), 2, "header and one row: {csv}");
    assert!(csv.lines().nth(1).unwrap().contains(",000002,"), "{csv}");
    let bad = poscore(&db, &["--lang", "en", "export", "--batch", "abc"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));

    // Restore into a fresh directory: the same transactions.
    let fresh = dir.path().join("fresh").join("journal.db");
    let restored = poscore(&fresh, &["--lang", "en", "restore", file.to_str().unwrap()]);
    let said = text(&restored);
    assert_eq!(restored.status.code(), Some(0), "{said}");
    assert!(
        said.contains("restored the journal") && said.contains("2 transactions"),
        "{said}"
    );
    assert_eq!(exported(&fresh, &[]), at_backup);

    // Restore over the live journal (nothing unfinished in it): allowed, the old one kept.
    let over = poscore(&db, &["--lang", "en", "restore", file.to_str().unwrap()]);
    let said = text(&over);
    assert_eq!(over.status.code(), Some(0), "{said}");
    assert!(said.contains("journal.db.before-restore-"), "{said}");
    assert_eq!(exported(&db, &[]), at_backup);
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("journal.db.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(exported(&dir.path().join(&kept[0]), &[]).len(), 3);
}

#[test]
fn restore_refuses_to_lose_unprinted_slips_without_force_and_bad_backups_always() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    preauth_ok(&db, "10.00", "u1");
    let file = dir.path().join("backup.db");
    let taken = poscore(&db, &["backup", file.to_str().unwrap()]);
    assert_eq!(taken.status.code(), Some(0), "{}", text(&taken));
    // A pre-auth whose slips cannot print: no printer listens there.
    let unprinted = poscore(
        &db,
        &[
            "--lang",
            "en",
            "--printer",
            "127.0.0.1:1",
            "--printer-timeout-ms",
            "500",
            "preauth",
            "--amount",
            "11.00",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "u2",
        ],
    );
    assert_eq!(unprinted.status.code(), Some(0), "{}", text(&unprinted));
    let trace = exported(&db, &[]).last().unwrap().0.clone();
    let before = std::fs::read(&db).unwrap();

    let refused = poscore(&db, &["--lang", "en", "restore", file.to_str().unwrap()]);
    let said = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(said.contains("[RESTORE_WOULD_LOSE_WORK]"), "{said}");
    assert!(
        said.contains(&format!(
            "unprinted slips ({trace} merchant, {trace} cardholder)"
        )),
        "{said}"
    );
    let refused_zh = poscore(&db, &["--lang", "zh", "restore", file.to_str().unwrap()]);
    assert!(
        text(&refused_zh).contains("未打印的签购单"),
        "{}",
        text(&refused_zh)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "refused: untouched");

    // Bad backups are refused even with --force, before anything is touched.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a journal\n".repeat(64)).unwrap();
    let foreign = poscore(
        &db,
        &[
            "--lang",
            "en",
            "restore",
            "--force",
            notes.to_str().unwrap(),
        ],
    );
    assert_eq!(foreign.status.code(), Some(1), "{}", text(&foreign));
    assert!(
        text(&foreign).contains("[BACKUP_FOREIGN]"),
        "{}",
        text(&foreign)
    );
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 100]).unwrap();
    let truncated = poscore(
        &db,
        &["--lang", "en", "restore", "--force", cut.to_str().unwrap()],
    );
    assert_eq!(truncated.status.code(), Some(1), "{}", text(&truncated));
    assert!(
        text(&truncated).contains("[BACKUP_TRUNCATED]"),
        "{}",
        text(&truncated)
    );
    let missing = poscore(&db, &["--lang", "en", "restore", "missing.db"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    let into_dir = poscore(
        &db,
        &["--lang", "en", "backup", dir.path().to_str().unwrap()],
    );
    assert_eq!(into_dir.status.code(), Some(2), "{}", text(&into_dir));
    assert_eq!(std::fs::read(&db).unwrap(), before, "still untouched");

    // --force: restored, and the replaced journal (with the unprinted slips) kept.
    let forced = poscore(
        &db,
        &["--lang", "en", "restore", "--force", file.to_str().unwrap()],
    );
    let said = text(&forced);
    assert_eq!(forced.status.code(), Some(0), "{said}");
    assert!(
        said.contains("forced: the replaced journal still held 2 unprinted slips"),
        "{said}"
    );
    assert_eq!(exported(&db, &[]).len(), 1);
}
