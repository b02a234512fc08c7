//! `poscore runbook`: the emergency plan, without a journal, in both languages and as JSON.

use std::process::Command;

fn runbook(args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_poscore"))
        .current_dir(dir.path())
        .args(args)
        .arg("runbook")
        .env_remove("POSCORE_DB")
        .output()
        .expect("poscore runs");
    assert!(
        !dir.path().join("poscore.db").exists(),
        "the runbook opens no journal"
    );
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_runbook_lists_every_area_in_chinese_and_english() {
    let (code, en) = runbook(&["--lang", "en"]);
    assert_eq!(code, 0, "{en}");
    for needle in [
        "== Printer ==",
        "== Network ==",
        "== Host ==",
        "== Storage ==",
        "[paper_out]",
        "[reversal_failed]",
        "[HOST_UNREACHABLE]",
        "[JOURNAL_IN_USE]",
        "[JOURNAL_DISK_FULL]",
        "[JOURNAL_CORRUPT]",
    ] {
        assert!(en.contains(needle), "{needle} missing from\n{en}");
    }
    let (code, zh) = runbook(&["--lang", "zh"]);
    assert_eq!(code, 0);
    assert!(
        zh.contains("应急预案") && zh.contains("== 打印机 ==") && zh.contains("缺纸"),
        "{zh}"
    );
}

#[test]
fn the_runbook_as_json_carries_both_languages() {
    let output = Command::new(env!("CARGO_BIN_EXE_poscore"))
        .args(["runbook", "--json"])
        .output()
        .expect("poscore runs");
    assert_eq!(output.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(rows.len() > 20, "{} entries", rows.len());
    for row in &rows {
        for key in ["area", "code", "zh", "en"] {
            assert!(
                row[key].as_str().is_some_and(|v| !v.is_empty()),
                "{key} in {row}"
            );
        }
    }
    let paper_out = rows
        .iter()
        .find(|r| r["code"] == "paper_out")
        .expect("paper_out");
    assert_eq!(
        (paper_out["area"].as_str(), paper_out["cause"].as_str()),
        (Some("printer"), Some("printer_hardware"))
    );
}
