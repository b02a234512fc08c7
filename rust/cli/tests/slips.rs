//! Slips through `--printer` against `poscore printer-sim` over real TCP: a paper-out holds
//! the queue without hanging the command, `diagnose` names the cause and the remedy,
//! `printer-health` counts it, `e-receipt` writes a PNG whose QR code carries a payload that
//! verifies against the journal, and `resume-printing` and `reprint` print what waits.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use poscore::ids::{BatchNumber, TraceNumber};
use poscore::journal::Journal;
use sha2::Sha256;

mod common;

use common::Sim;

fn sim_start(png_dir: &Path) -> Sim {
    Sim::start(png_dir, &[])
}

/// Runs `poscore --db DB --lang LANG ARGS…`, at most 10 s.
fn poscore_in(db: &Path, lang: &str, args: &[&str]) -> Output {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_poscore"))
        .arg("--db")
        .arg(db)
        .args(["--lang", lang])
        .args(args)
        .env_remove("POSCORE_DB")
        .env("POSCORE_LOG", "error")
        .output()
        .expect("poscore runs");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "poscore {args:?} took {:?}",
        started.elapsed()
    );
    output
}

fn poscore(db: &Path, args: &[&str]) -> Output {
    poscore_in(db, "en", args)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The trace number in an outcome line ("… trace 000001 …").
fn trace_of(output: &Output) -> String {
    let shown = text(output);
    let words: Vec<&str> = shown.split_whitespace().collect();
    words[words
        .iter()
        .position(|w| *w == "trace")
        .unwrap_or_else(|| panic!("no trace in {shown}"))
        + 1]
    .to_string()
}

/// The value after `key: ` on its own line.
fn field(output: &Output, key: &str) -> String {
    let shown = text(output);
    shown
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in {shown}"))
        .trim()
        .to_string()
}

/// The e-receipt MAC key the CLI documents: HMAC-SHA-256(key file, "poscore e-receipt key v1").
fn receipt_key(db: &Path) -> Vec<u8> {
    let key_file = std::fs::read(format!("{}.key", db.display())).unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key_file).unwrap();
    mac.update(b"poscore e-receipt key v1");
    mac.finalize().into_bytes().to_vec()
}

/// Reads a PNG into (width, height, gray bytes).
fn gray_of(path: &Path) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    let gray: Vec<u8> = match (info.color_type, info.bit_depth) {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => buffer[..width * height].to_vec(),
        (png::ColorType::Grayscale, png::BitDepth::One) => {
            let stride = width.div_ceil(8);
            (0..height)
                .flat_map(|y| {
                    let row = &buffer[y * stride..(y + 1) * stride];
                    (0..width).map(move |x| {
                        if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                            255
                        } else {
                            0
                        }
                    })
                })
                .collect()
        }
        other => panic!("unexpected PNG format {other:?}"),
    };
    (width, height, gray)
}

/// Decodes the one QR code on a PNG.
fn qr_of(path: &Path) -> String {
    let (width, height, gray) = gray_of(path);
    assert_eq!(width, 384, "a 58 mm slip");
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| gray[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the receipt");
    grids[0].decode().expect("the QR code decodes").1
}

/// Verifies a payload with the receipt key against the journal (the terminal is closed).
fn verify(
    db: &Path,
    payload: &str,
) -> Result<poscore::ereceipt::VerifiedReceipt, poscore::ereceipt::ReceiptError> {
    let now = poscore::Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    );
    let (journal, _) = Journal::open(db, now).unwrap();
    let find = |batch: BatchNumber, trace: TraceNumber| {
        journal
            .find_by_trace(trace)
            .unwrap()
            .filter(|t| t.batch == batch)
    };
    poscore::ereceipt::verify(payload, &receipt_key(db), find)
}

fn export(db: &Path) -> Vec<serde_json::Value> {
    let out = poscore(db, &["export", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn jobs_of<'a>(rows: &'a [serde_json::Value], trace: &str) -> &'a Vec<serde_json::Value> {
    rows.iter().find(|r| r["trace"] == trace).unwrap()["print_jobs"]
        .as_array()
        .unwrap()
}

const PAN: &str = "6222021234567890128";

#[test]
fn a_paper_out_holds_the_slips_and_every_tool_follows_them_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("pages");
    let sim = sim_start(&pages);
    let db = dir.path().join("j.db");
    let printer = sim.printer.clone();
    let with_printer = |args: &[&str]| -> Output {
        let mut all = vec![
            "--printer",
            printer.as_str(),
            "--printer-timeout-ms",
            "3000",
        ];
        all.extend_from_slice(args);
        poscore(&db, &all)
    };

    // Both copies print on the real printer, with progress.
    let first = with_printer(&[
        "preauth",
        "--amount",
        "10.00",
        "--pan",
        PAN,
        "--expiry",
        "3012",
        "--request-id",
        "p1",
    ]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    for progress in [
        "printing copy 1/2",
        "printing copy 2/2",
        "printed: cardholder copy",
    ] {
        assert!(
            text(&first).contains(progress),
            "no {progress:?}: {}",
            text(&first)
        );
    }
    assert_eq!(sim.status()["confirmed"], 2);
    let t1 = trace_of(&first);

    // Paper out: the transaction is approved (exit 0), the slips are held, and the command
    // does not wait for the paper.
    assert_eq!(sim.tell("inject now paper-out"), "ok");
    let second = with_printer(&[
        "preauth",
        "--amount",
        "20.00",
        "--pan",
        PAN,
        "--expiry",
        "3012",
        "--request-id",
        "p2",
    ]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let shown = text(&second);
    assert!(shown.contains("approved"), "{shown}");
    assert!(
        shown.contains("held: paper out — load a new roll"),
        "{shown}"
    );
    assert!(
        shown.contains("2 slips not printed yet, kept in the journal"),
        "{shown}"
    );
    let t2 = trace_of(&second);

    // diagnose names the cause and the remedy, in either language; exit 1 while a slip waits.
    let diagnosis = poscore(&db, &["diagnose", &t2]);
    assert_eq!(diagnosis.status.code(), Some(1), "{}", text(&diagnosis));
    let shown = text(&diagnosis);
    for words in [
        "timeline:",
        "sending -> held",
        "merchant copy: held",
        "cause: printer hardware [printer_hardware]",
        "paper_out",
        "remedy: out of paper: load a new roll",
        "waits until the copies before it are done",
    ] {
        assert!(shown.contains(words), "diagnosis lacks {words:?}: {shown}");
    }
    let zh = poscore_in(&db, "zh", &["diagnose", &t2]);
    assert_eq!(zh.status.code(), Some(1));
    assert!(
        text(&zh).contains("原因：打印机硬件") && text(&zh).contains("处理：缺纸：请装入新纸卷"),
        "{}",
        text(&zh)
    );
    assert_eq!(
        poscore(&db, &["diagnose", &t1]).status.code(),
        Some(0),
        "the first transaction's slips are printed"
    );
    let unknown = poscore(&db, &["diagnose", "999999"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown).contains("ORIGINAL_NOT_FOUND"),
        "{}",
        text(&unknown)
    );
    assert_eq!(poscore(&db, &["diagnose", "12x"]).status.code(), Some(2));

    // printer-health counts the fault, the paper and the slips that wait.
    let health = poscore(&db, &["printer-health", "--json"]);
    assert_eq!(health.status.code(), Some(0), "{}", text(&health));
    let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
    assert_eq!(health["faults"]["paper_out"], 1, "{health}");
    assert_eq!(health["jobs_printed"], 2, "{health}");
    assert_eq!(health["waiting"], 2, "{health}");
    assert_eq!(health["held_reason"], "paper_out", "{health}");
    assert!(health["printed_mm"].as_u64().unwrap() > 50, "{health}");
    assert_eq!(
        health["paper_left_mm"].as_u64().unwrap(),
        19_000 - health["mm_since_paper_change"].as_u64().unwrap()
    );
    let shown = text(&poscore(&db, &["printer-health"]));
    assert!(
        shown.contains("faults: paper_out 1") && shown.contains("held: paper_out"),
        "{shown}"
    );

    // The cardholder copy goes out as an electronic receipt while the printer is out of paper.
    let receipt = dir.path().join("receipt.png");
    let e = with_printer(&[
        "e-receipt",
        &t2,
        "--out",
        receipt.to_str().unwrap(),
        "--copy",
        "cardholder",
    ]);
    assert_eq!(e.status.code(), Some(0), "{}", text(&e));
    assert!(
        text(&e).contains(&format!(
            "electronic receipt for copy cardholder of trace {t2}"
        )),
        "{}",
        text(&e)
    );
    assert_eq!(field(&e, "delivery"), "electronic");
    let payload = field(&e, "payload");
    assert_eq!(qr_of(&receipt), payload, "the PNG's QR code is the payload");
    let verified = verify(&db, &payload).expect("the payload verifies against the journal");
    assert_eq!(verified.txn.trace.to_string(), t2);
    assert_eq!(verified.copy, poscore::txn::SlipCopy::Cardholder);
    let forged = payload.replacen("|2000|", "|2001|", 1);
    assert_eq!(
        verify(&db, &forged),
        Err(poscore::ereceipt::ReceiptError::BadMac)
    );
    // A copy already printed: the receipt is just produced, still on paper.
    let printed_receipt = dir.path().join("printed.png");
    let e1 = poscore(
        &db,
        &[
            "e-receipt",
            &t1,
            "--out",
            printed_receipt.to_str().unwrap(),
            "--copy",
            "merchant",
        ],
    );
    assert_eq!(e1.status.code(), Some(0), "{}", text(&e1));
    assert_eq!(field(&e1, "delivery"), "paper");
    assert!(verify(&db, &field(&e1, "payload")).is_ok());
    assert_eq!(qr_of(&printed_receipt), field(&e1, "payload"));
    assert_eq!(
        poscore(
            &db,
            &["e-receipt", "999999", "--out", receipt.to_str().unwrap()]
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        sim.status()["confirmed"],
        2,
        "nothing printed into the paper-out"
    );

    // Paper replaced: resume-printing prints what waits; the slips are done.
    assert_eq!(sim.tell("clear"), "ok");
    let resumed = with_printer(&["resume-printing"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert!(
        text(&resumed).contains("printing resumed"),
        "{}",
        text(&resumed)
    );
    assert!(
        !text(&resumed).contains("not printed yet"),
        "{}",
        text(&resumed)
    );
    assert_eq!(poscore(&db, &["diagnose", &t2]).status.code(), Some(0));
    let rows = export(&db);
    let jobs = jobs_of(&rows, &t2);
    let merchant = jobs.iter().find(|j| j["copy"] == "merchant").unwrap();
    assert_eq!(
        (
            &merchant["state"],
            &merchant["delivered"],
            &merchant["held_reason"]
        ),
        (&"printed".into(), &"paper".into(), &serde_json::Value::Null)
    );
    assert!(merchant["printed_at"].is_string());
    let e_copy = jobs
        .iter()
        .find(|j| j["copy"] == "cardholder" && j["kind"] == "original")
        .unwrap();
    assert_eq!(
        (&e_copy["state"], &e_copy["delivered"]),
        (&"delivered".into(), &"electronic".into())
    );
    assert!(
        jobs.iter().any(|j| j["copy"] == "cardholder"
            && j["kind"] == "reprint"
            && j["state"] == "printed"),
        "the paper copy of the e-receipt: {jobs:?}"
    );
    assert_eq!(
        sim.status()["confirmed"],
        4,
        "{} {}",
        sim.tell("status"),
        text(&resumed)
    );

    // reprint of one copy of the first transaction: printed, marked REPRINT.
    let reprint = with_printer(&["reprint", "--trace", &t1, "--copy", "cardholder"]);
    assert_eq!(reprint.status.code(), Some(0), "{}", text(&reprint));
    assert!(
        text(&reprint).contains(&format!("reprint queued: cardholder copy of trace {t1}")),
        "{}",
        text(&reprint)
    );
    assert!(
        text(&reprint).contains("copy 3/3") && text(&reprint).contains("REPRINT"),
        "{}",
        text(&reprint)
    );
    assert_eq!(sim.status()["confirmed"], 5);
    let rows = export(&db);
    assert!(
        jobs_of(&rows, &t1)
            .iter()
            .any(|j| j["kind"] == "reprint" && j["state"] == "printed")
    );
    // The reprint page is the cardholder copy again, taller by its two REPRINT markers.
    let page_height = |n: u32| {
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(pages.join(format!("page-{n:04}.png"))).unwrap(),
        ));
        decoder.read_info().unwrap().info().height
    };
    assert!(
        page_height(5) > page_height(2),
        "reprint {} vs original {}",
        page_height(5),
        page_height(2)
    );

    // The last slip, reprinted without a trace.
    let last = with_printer(&["reprint"]);
    assert_eq!(last.status.code(), Some(0), "{}", text(&last));
    assert_eq!(sim.status()["confirmed"], 6);
    let health: serde_json::Value =
        serde_json::from_slice(&poscore(&db, &["printer-health", "--json"]).stdout).unwrap();
    assert_eq!(
        (
            health["waiting"].as_u64(),
            health["paper_changes"].as_u64(),
            health["jobs_printed"].as_u64()
        ),
        (Some(0), Some(1), Some(6)),
        "{health}"
    );
    assert!(health["reprints"].as_u64().unwrap() >= 3, "{health}");
}

#[test]
fn reprint_and_resume_have_their_exit_codes_without_a_printer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let nothing = poscore(&db, &["reprint"]);
    assert_eq!(nothing.status.code(), Some(1), "{}", text(&nothing));
    assert!(
        text(&nothing).contains("NOTHING_TO_REPRINT"),
        "{}",
        text(&nothing)
    );
    let resumed = poscore(&db, &["resume-printing"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert!(
        text(&resumed).contains("printing resumed: 0 held slips"),
        "{}",
        text(&resumed)
    );
    // The memory printer prints at once; a declined transaction has no slip to deliver.
    let declined = poscore(
        &db,
        &[
            "preauth",
            "--amount",
            "10.51",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "d1",
        ],
    );
    assert_eq!(declined.status.code(), Some(1));
    let out = dir.path().join("r.png");
    let none = poscore(
        &db,
        &[
            "e-receipt",
            &trace_of(&declined),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(none.status.code(), Some(1), "{}", text(&none));
    assert!(!out.exists());
    let bad_copy = poscore(&db, &["reprint", "--copy", "shop"]);
    assert_eq!(bad_copy.status.code(), Some(2));
    let no_printer = poscore(&db, &["printer-status"]);
    assert_eq!(no_printer.status.code(), Some(2), "{}", text(&no_printer));
    assert!(
        text(&no_printer).contains("--printer"),
        "{}",
        text(&no_printer)
    );
    let bad_printer = poscore(
        &db,
        &[
            "--printer",
            "tcp:",
            "preauth",
            "--amount",
            "1.00",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "x",
        ],
    );
    assert_eq!(bad_printer.status.code(), Some(2), "{}", text(&bad_printer));
}

#[test]
fn training_transactions_are_marked_in_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let run = poscore(
        &db,
        &[
            "--training",
            "preauth",
            "--amount",
            "5.00",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "t1",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    poscore(
        &db,
        &[
            "preauth",
            "--amount",
            "6.00",
            "--pan",
            PAN,
            "--expiry",
            "3012",
            "--request-id",
            "t2",
        ],
    );
    let rows = export(&db);
    let training: Vec<bool> = rows
        .iter()
        .map(|r| r["training"].as_bool().unwrap())
        .collect();
    assert_eq!(training, vec![true, false]);
}

#[test]
fn a_signature_goes_onto_the_slips_printed_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("pages");
    let sim = sim_start(&pages);
    let db = dir.path().join("j.db");
    let with_printer = |args: &[&str]| -> Output {
        let mut all = vec!["--printer", sim.printer.as_str()];
        all.extend_from_slice(args);
        poscore(&db, &all)
    };
    let sale = with_printer(&[
        "preauth",
        "--amount",
        "30.00",
        "--pan",
        PAN,
        "--expiry",
        "3012",
        "--request-id",
        "s1",
    ]);
    assert_eq!(sale.status.code(), Some(0), "{}", text(&sale));
    let trace = trace_of(&sale);
    assert_eq!(
        with_printer(&["reprint", "--trace", &trace, "--copy", "merchant"])
            .status
            .code(),
        Some(0)
    );

    let strokes = dir.path().join("strokes.json");
    let zigzag: Vec<String> = (0..40)
        .map(|i| format!("[{}, {}]", 10 + i * 9, if i % 2 == 0 { 20 } else { 140 }))
        .collect();
    std::fs::write(
        &strokes,
        format!(
            "{{\"width\": 400, \"height\": 160, \"strokes\": [[{}]]}}",
            zigzag.join(", ")
        ),
    )
    .unwrap();
    let signed = with_printer(&["sign", &trace, "--strokes", strokes.to_str().unwrap()]);
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));
    assert!(
        text(&signed).contains("signature saved"),
        "{}",
        text(&signed)
    );
    assert_eq!(
        with_printer(&["reprint", "--trace", &trace, "--copy", "merchant"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(sim.status()["confirmed"], 4);

    // The same reprint before and after: the signed one has the ink in its signature area.
    let ink = |n: u32| {
        gray_of(&pages.join(format!("page-{n:04}.png")))
            .2
            .iter()
            .filter(|&&g| g < 128)
            .count()
    };
    let (before, after) = (ink(3), ink(4));
    assert!(
        after > before + 500,
        "signed {after} black dots vs unsigned {before}"
    );
    let history = text(&poscore(&db, &["show", &trace]));
    assert!(
        history.contains("the cardholder signed on the pad"),
        "{history}"
    );

    // Refusals: unknown trace, strokes off the pad (exit 1); a file that is no signature (exit 2).
    let unknown = with_printer(&["sign", "999999", "--strokes", strokes.to_str().unwrap()]);
    assert_eq!(unknown.status.code(), Some(1), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("ORIGINAL_NOT_FOUND"),
        "{}",
        text(&unknown)
    );
    std::fs::write(
        &strokes,
        r#"{"width": 100, "height": 50, "strokes": [[[10, 10], [120, 20]]]}"#,
    )
    .unwrap();
    let off_pad = with_printer(&["sign", &trace, "--strokes", strokes.to_str().unwrap()]);
    assert_eq!(off_pad.status.code(), Some(1), "{}", text(&off_pad));
    assert!(
        text(&off_pad).contains("BAD_SIGNATURE"),
        "{}",
        text(&off_pad)
    );
    std::fs::write(&strokes, "not json").unwrap();
    assert_eq!(
        with_printer(&["sign", &trace, "--strokes", strokes.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn settlement_prints_its_slip_with_fee_estimates_and_it_can_be_printed_again() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    let sim = sim_start(&pages);
    let db = dir.path().join("j.db");
    let printer = ["--printer", sim.printer.as_str()];
    let with_printer = |args: &[&str]| poscore(&db, &[&printer[..], args].concat());
    let pre = with_printer(&[
        "preauth",
        "--amount",
        "100.00",
        "--pan",
        PAN,
        "--expiry",
        "3012",
        "--request-id",
        "s1",
    ]);
    assert_eq!(pre.status.code(), Some(0), "{}", text(&pre));
    let done = with_printer(&[
        "complete",
        "--trace",
        &trace_of(&pre),
        "--amount",
        "80.00",
        "--request-id",
        "s1-done",
    ]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    let before = sim.status()["pages"].as_u64().unwrap();

    let settled = with_printer(&["--fee-rate", "card=0.6", "--fee-rate", "qr=0.38", "settle"]);
    assert_eq!(settled.status.code(), Some(0), "{}", text(&settled));
    assert!(
        text(&settled).contains("batch 000001 settled (balanced)"),
        "{}",
        text(&settled)
    );
    assert!(
        text(&settled).contains("batch 000001: settlement slip printed"),
        "{}",
        text(&settled)
    );
    assert_eq!(
        sim.status()["pages"].as_u64().unwrap(),
        before + 1,
        "the settlement slip came out"
    );

    let again = with_printer(&["settlement-slip"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        text(&again).contains("settlement slip of batch 000001 is queued"),
        "{}",
        text(&again)
    );
    assert_eq!(sim.status()["pages"].as_u64().unwrap(), before + 2);

    let open = poscore(&db, &["settlement-slip", "--batch", "000002"]);
    assert_eq!(open.status.code(), Some(1), "{}", text(&open));
    assert!(text(&open).contains("NO_SETTLED_BATCH"), "{}", text(&open));
    let bad = poscore(&db, &["--fee-rate", "card=12", "settlement-slip"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("more than 10%"), "{}", text(&bad));
}
