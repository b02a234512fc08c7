//! Transactions over real TCP and real ISO 8583: `poscore --host ADDR` against a
//! `poscore host-sim` process on loopback: sign-on, an approval, a decline, and an answer
//! lost on the way back, reversed by the next command.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// A running `poscore host-sim`, killed on drop.
struct HostSim {
    child: Child,
    address: String,
}

impl HostSim {
    fn start() -> HostSim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_poscore"))
            .args(["host-sim", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("host-sim starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut first)
            .expect("host-sim says where it listens");
        // "host-sim listening on 127.0.0.1:P"
        let address = first
            .split_whitespace()
            .last()
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        HostSim { child, address }
    }
}

impl Drop for HostSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn poscore(db: &Path, host: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poscore"))
        .arg("--db")
        .arg(db)
        .args(["--lang", "en", "--host", host, "--host-timeout-ms", "1500"])
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

fn preauth(db: &Path, host: &str, amount: &str, request_id: &str) -> Output {
    poscore(
        db,
        host,
        &[
            "preauth",
            "--amount",
            amount,
            "--pan",
            "6222021234567890128",
            "--expiry",
            "3012",
            "--request-id",
            request_id,
        ],
    )
}

#[test]
fn transactions_go_over_iso8583_on_tcp_to_the_host_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let sim = HostSim::start();

    let signed = poscore(&db, &sim.address, &["sign-on"]);
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));
    assert!(text(&signed).contains("signed on"), "{}", text(&signed));

    let approved = preauth(&db, &sim.address, "100.00", "a1");
    assert_eq!(approved.status.code(), Some(0), "{}", text(&approved));
    assert!(text(&approved).contains("approved"), "{}", text(&approved));

    let declined = preauth(&db, &sim.address, "100.05", "a2");
    assert_eq!(declined.status.code(), Some(1), "{}", text(&declined));
    assert!(text(&declined).contains("declined"), "{}", text(&declined));

    // The host approves .98 but its answer is lost: unknown, reversed before the next command.
    let lost = preauth(&db, &sim.address, "100.98", "a3");
    assert!(text(&lost).contains("unknown"), "{}", text(&lost));
    let recovered = poscore(&db, &sim.address, &["recover"]);
    assert_eq!(recovered.status.code(), Some(0), "{}", text(&recovered));

    let export = poscore(&db, &sim.address, &["export", "--format", "json"]);
    let all: serde_json::Value =
        serde_json::from_slice(&export.stdout).expect("the export is JSON");
    let state = |request_id: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|t| t["request_id"] == request_id)
            .map(|t| (t["state"].clone(), t["reversal"].clone()))
            .unwrap()
    };
    assert_eq!(state("a1").0, "approved");
    assert_eq!(state("a2").0, "declined");
    let (lost_state, reversal) = state("a3");
    assert_eq!(lost_state, "reversed");
    assert_eq!(reversal["state"], "done");
    assert_eq!(reversal["reason"], "98");
}

#[test]
fn a_bad_host_key_is_a_usage_error_and_an_unreachable_host_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let bad = poscore(&db, "127.0.0.1:1", &["--host-mac-key", "XYZ", "sign-on"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("hex digits"), "{}", text(&bad));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = preauth(&db, &format!("127.0.0.1:{port}"), "10.00", "n1");
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let export = poscore(&db, "127.0.0.1:1", &["export", "--format", "json"]);
    let all: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    let states: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        vec!["not_sent"],
        "the pre-auth is journaled and never sent to a host that is not there"
    );
    assert!(
        text(&refused).contains("HOST_UNREACHABLE"),
        "{}",
        text(&refused)
    );
}

#[test]
fn training_never_reaches_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    // Nothing listens there: a training pre-auth is approved by the simulated host anyway.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = poscore(
        &db,
        &format!("127.0.0.1:{port}"),
        &[
            "--training",
            "preauth",
            "--amount",
            "10.00",
            "--pan",
            "6222021234567890128",
            "--expiry",
            "3012",
            "--request-id",
            "t1",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let export = poscore(&db, "127.0.0.1:1", &["export", "--format", "json"]);
    let all: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(all[0]["state"], "approved");
    assert_eq!(all[0]["training"], true);
}
