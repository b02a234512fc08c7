//! The real engine and driver over [`TcpHostLink`] to a third-party host: jPOS (2.1.10), started
//! from `tests/peers/jpos` as an acquirer host with its own GenericPackager for the UnionPay POS
//! profile, its own TPDU/header channel, its own CUP MAC and working keys. Sign-on (the MAC key
//! from F62 is installed and used), pre-auth, completion, pre-auth void, a lost reply reversed
//! before the next financial message, and settlement, checked in the journal and in jPOS's
//! ledger (JSON lines).
//!
//! Build the peer first: `mvn -B -ntp -q -f tests/peers/jpos/pom.xml package` (scripts/test-all.sh
//! does). `JPOS_PEER_CP` overrides the whole Java classpath; `JAVA` the java binary;
//! `JPOS_PEER_LOG=1` makes jPOS log every message to standard error.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use poscore::ids::{RequestId, TraceNumber};
use poscore::txn::TxnState;
use poscore::{Command, CommandOutcome, Config, TxnRecord};
use poscore_host::keys::check_value;
use poscore_host::{LinkConfig, SimConfig, SoftwareMacKey, TcpHostLink};
use poscore_iso8583::{Header, ProcessingRequirement, Tpdu};
use serde_json::Value;

mod common;

use common::{money, preauth, txn};

const BUILD_HINT: &str = "run `mvn -B -ntp -q -f tests/peers/jpos/pom.xml package` from the workspace root first (scripts/test-all.sh does), or set JPOS_PEER_CP to the peer's classpath";

/// The jPOS host process; killed on drop.
struct JposHost {
    child: Child,
    port: u16,
    _stdout: std::thread::JoinHandle<()>,
}

impl Drop for JposHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

fn classpath() -> String {
    if let Ok(cp) = std::env::var("JPOS_PEER_CP")
        && !cp.trim().is_empty()
    {
        return cp;
    }
    let peer = workspace_root().join("tests/peers/jpos/target");
    let deps = std::fs::read_to_string(peer.join("classpath.txt")).unwrap_or_else(|e| {
        panic!(
            "the jPOS peer is not built ({}: {e}): {BUILD_HINT}",
            peer.join("classpath.txt").display()
        )
    });
    let classes = peer.join("classes");
    assert!(
        classes.join("poscore/jpos/Main.class").is_file(),
        "the jPOS peer is not compiled ({} is missing): {BUILD_HINT}",
        classes.display()
    );
    format!("{}:{}", classes.display(), deps.trim())
}

impl JposHost {
    /// Starts the host on a port of its choosing (0: it binds, then reports the port).
    fn start(ledger: &Path) -> JposHost {
        let java = std::env::var("JAVA").unwrap_or_else(|_| "java".into());
        let mut child = Process::new(&java)
            .arg("-cp")
            .arg(classpath())
            .arg("poscore.jpos.Main")
            .arg("0")
            .arg(ledger)
            .env("JPOS_PEER_STDIN_WATCHDOG", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `{java}` for the jPOS peer: {e} (JDK 17 needed; {BUILD_HINT})")
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("[jpos] {line}");
                let _ = tx.send(line);
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        let port = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("jpos-host listening on 127.0.0.1:") {
                        break addr
                            .trim()
                            .parse::<u16>()
                            .expect("the port in the ready line");
                    }
                }
                Err(_) => {
                    let status = child.try_wait().ok().flatten();
                    let _ = child.kill();
                    panic!(
                        "the jPOS peer did not report `jpos-host listening on …` within 90 s (exit: {status:?}); {BUILD_HINT}"
                    );
                }
            }
        };
        JposHost {
            child,
            port,
            _stdout: reader,
        }
    }
}

fn read_ledger(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad ledger line {l:?}: {e}")))
        .collect()
}

fn event<'a>(ledger: &'a [Value], name: &str) -> Vec<&'a Value> {
    ledger.iter().filter(|e| e["event"] == name).collect()
}

fn position(ledger: &[Value], name: &str, trace: TraceNumber) -> Option<usize> {
    ledger
        .iter()
        .position(|e| e["event"] == name && e["trace"] == trace.to_string().as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_against_a_jpos_acquirer_host() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_path = dir.path().join("jpos-ledger.jsonl");
    let host = JposHost::start(&ledger_path);
    let keys = SimConfig::default();

    // The terminal starts with a MAC key the host does not know: only the MAK installed from the
    // sign-on's F62 (decrypted under the TMK) makes its later requests pass jPOS's MAC check.
    // Distinct TPDU addresses: the link ignores a reply whose TPDU is not the request's swapped.
    // The requests' header carries 处理要求 3 (sign on again): a host that echoed it instead of
    // answering 0 would make the terminal sign on after every reply (the ledger would show it).
    let link = Arc::new(TcpHostLink::new(
        LinkConfig {
            read_timeout: Duration::from_millis(1500),
            master_key: Some(keys.master_key.clone()),
            tpdu: Tpdu::new([0x01, 0x23], [0x04, 0x56]),
            header: Header::new(
                0x60,
                0x31,
                0,
                ProcessingRequirement::SignOnAgain,
                [0x00, 0x00, 0x01],
            ),
            ..LinkConfig::new(format!("127.0.0.1:{}", host.port))
        },
        Arc::new(SoftwareMacKey::cup(&[0x22; 16]).unwrap()),
    ));
    let common::Running {
        terminal,
        handle,
        dir: _journal_dir,
    } = common::start_terminal(link.clone(), Config::default(), Duration::from_secs(10));
    let id = |t: &str| RequestId::parse(t).unwrap();

    let signed_on = handle.submit(id("sign-on"), Command::SignOn).await.unwrap();
    assert!(
        matches!(signed_on, CommandOutcome::SignedOn),
        "{signed_on:?}"
    );
    let working = link
        .last_working_keys()
        .expect("the 0810 carried working keys in F62");
    assert_eq!(
        working.mac_check,
        check_value(&keys.mac_key).unwrap(),
        "F62's MAK check value is the test MAK's"
    );
    assert_eq!(
        working.pin_key.len(),
        16,
        "double-length keys (40-byte F62)"
    );

    let held = txn(handle.submit(id("a"), preauth("100.00")).await.unwrap());
    assert_eq!(held.state, TxnState::Approved, "{held:?}");
    assert_eq!(
        held.response_code.as_deref(),
        Some("00"),
        "not A0: the installed MAK is jPOS's"
    );
    assert!(
        held.auth_code.as_deref().is_some_and(|a| a.len() == 6),
        "{held:?}"
    );
    assert!(
        held.rrn.as_deref().is_some_and(|r| r.len() == 12),
        "{held:?}"
    );

    let completion = txn(handle
        .submit(
            id("a-done"),
            Command::Complete {
                original_trace: held.trace,
                amount: money("80.00"),
            },
        )
        .await
        .unwrap());
    assert_eq!(completion.state, TxnState::Approved, "{completion:?}");
    assert!(completion.rrn.is_some());

    let voided = txn(handle.submit(id("b"), preauth("50.00")).await.unwrap());
    assert_eq!(voided.state, TxnState::Approved, "{voided:?}");
    let void = txn(handle
        .submit(
            id("b-void"),
            Command::Void {
                original_trace: voided.trace,
            },
        )
        .await
        .unwrap());
    assert_eq!(void.state, TxnState::Approved, "{void:?}");

    // Cents 98: jPOS approves and holds it but never answers.
    let lost = txn(handle.submit(id("d"), preauth("30.98")).await.unwrap());
    assert_eq!(lost.state, TxnState::Unknown, "{lost:?}");

    let next = txn(handle.submit(id("e"), preauth("20.00")).await.unwrap());
    assert_eq!(next.state, TxnState::Approved, "{next:?}");
    let reversed = handle
        .read(move |j| j.find_by_trace(lost.trace).unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(reversed.state, TxnState::Reversed, "{reversed:?}");

    let settled = handle.submit(id("settle"), Command::Settle).await.unwrap();
    let CommandOutcome::Settled(summary) = settled else {
        panic!("expected a settlement, got {settled:?}")
    };
    assert!(summary.balanced, "{summary:?}");
    assert_eq!(summary.totals.count, 1);
    assert_eq!(summary.totals.amount_minor, 8_000);
    assert_eq!(summary.next_batch, summary.batch.next());

    let (original, voided_after) = handle
        .read(move |j| {
            (
                j.find_by_trace(held.trace).unwrap().unwrap(),
                j.find_by_trace(voided.trace).unwrap().unwrap(),
            )
        })
        .await
        .unwrap();
    assert_eq!(original.state, TxnState::Completed);
    assert_eq!(voided_after.state, TxnState::Voided);
    terminal.shutdown().await;

    // The host's view.
    let ledger = read_ledger(&ledger_path);
    let dump = || {
        ledger
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        event(&ledger, "signon").len(),
        1,
        "one sign-on: the replies' 处理要求 is 0:\n{}",
        dump()
    );
    assert!(
        event(&ledger, "mac_rejected").is_empty(),
        "no request was answered A0:\n{}",
        dump()
    );
    assert!(
        event(&ledger, "reversal_unmatched").is_empty(),
        "{}",
        dump()
    );
    let approved = |t: &TxnRecord| {
        let i = position(&ledger, "approved", t.trace).unwrap_or_else(|| {
            panic!(
                "no approval of trace {} in the ledger:\n{}",
                t.trace,
                dump()
            )
        });
        &ledger[i]
    };
    for (t, kind, mti) in [
        (&held, "preauth", "0100"),
        (&completion, "completion", "0200"),
        (&voided, "preauth", "0100"),
        (&void, "preauth_void", "0100"),
        (&lost, "preauth", "0100"),
        (&next, "preauth", "0100"),
    ] {
        let e = approved(t);
        assert_eq!(e["kind"], kind, "{e}");
        assert_eq!(e["mti"], mti, "{e}");
        assert_eq!(e["batch"], t.batch.to_string().as_str(), "{e}");
        assert_eq!(e["amount_minor"], t.amount.minor_units(), "{e}");
        assert_eq!(
            e["reply"],
            if t.trace == lost.trace {
                "withheld"
            } else {
                "sent"
            },
            "{e}"
        );
        if t.trace != lost.trace {
            assert_eq!(e["auth"], t.auth_code.as_deref().unwrap(), "{e}");
            assert_eq!(e["rrn"], t.rrn.as_deref().unwrap(), "{e}");
        }
    }
    // F22: the terminal sends "012", left-justified (01 20) as the CUP field description and the
    // peer's packager have it.
    let modes: Vec<&Value> = event(&ledger, "approved")
        .iter()
        .map(|e| &e["entry_mode"])
        .collect();
    assert!(
        modes.iter().all(|m| *m == "012"),
        "jPOS read F22 (entry mode) as {modes:?}, the terminal meant \"012\""
    );

    let approval = position(&ledger, "approved", lost.trace).unwrap();
    let reversal = position(&ledger, "reversed", lost.trace)
        .unwrap_or_else(|| panic!("jPOS never saw the reversal:\n{}", dump()));
    let next_approval = position(&ledger, "approved", next.trace).unwrap();
    assert!(
        approval < reversal && reversal < next_approval,
        "approval, reversal, then the next pre-auth:\n{}",
        dump()
    );
    assert_eq!(ledger[reversal]["amount_minor"], 3_098);
    assert_eq!(ledger[reversal]["kind"], "preauth");
    assert_eq!(ledger[reversal]["reason"], "98", "no answer in time");
    assert_eq!(event(&ledger, "reversed").len(), 1, "{}", dump());
    let settlements = event(&ledger, "settled");
    assert_eq!(settlements.len(), 1, "{}", dump());
    assert_eq!(settlements[0]["amount_minor"], 8_000);
    assert_eq!(settlements[0]["count"], 1);
    assert_eq!(settlements[0]["batch"], summary.batch.to_string().as_str());
    drop(host);
}
