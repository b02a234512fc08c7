//! Transactions over real TCP and real ISO 8583: `poscore --host ADDR` against a
//! `poscore host-sim` process on loopback: sign-on, an approval, a decline, and an answer
//! lost on the way back, reversed by the next command; a fault script and the control port;
//! TLS with a test CA (`--tls-ca` against `host-sim --tls-cert/--tls-key`).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// A running `poscore host-sim`, killed on drop.
struct HostSim {
    child: Child,
    address: String,
    /// The control port, with `--control`.
    control: Option<String>,
}

impl HostSim {
    fn start() -> HostSim {
        HostSim::start_with(&[])
    }

    /// Starts one on a free port with `extra` arguments.
    fn start_with(extra: &[&OsStr]) -> HostSim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_poscore"))
            .args(["host-sim", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("host-sim starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut first)
            .expect("host-sim says where it listens");
        // "host-sim listening on 127.0.0.1:P", then " control 127.0.0.1:Q" with --control
        let words: Vec<&str> = first.split_whitespace().collect();
        let after = |word: &str| {
            words
                .iter()
                .position(|w| *w == word)
                .and_then(|i| words.get(i + 1))
                .map(|w| w.to_string())
        };
        let address = after("on").unwrap_or_else(|| panic!("{first}"));
        HostSim {
            child,
            address,
            control: after("control"),
        }
    }

    /// One control command, its one-line answer.
    fn tell(&self, command: &str) -> String {
        let mut socket = TcpStream::connect(self.control.as_ref().expect("started with --control"))
            .expect("control port");
        socket
            .write_all(format!("{command}\n").as_bytes())
            .expect("control write");
        let mut answer = String::new();
        BufReader::new(socket)
            .read_line(&mut answer)
            .expect("control answer");
        answer.trim().to_string()
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

fn state_of(db: &Path, request_id: &str) -> (serde_json::Value, serde_json::Value) {
    let export = poscore(db, "127.0.0.1:1", &["export", "--format", "json"]);
    let all: serde_json::Value =
        serde_json::from_slice(&export.stdout).expect("the export is JSON");
    all.as_array()
        .unwrap()
        .iter()
        .find(|t| t["request_id"] == request_id)
        .map(|t| (t["state"].clone(), t["reversal"].clone()))
        .unwrap()
}

#[test]
fn a_host_sim_script_drops_a_reply_and_the_control_port_reports() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let script = dir.path().join("faults.script");
    std::fs::write(
        &script,
        "# the first pre-auth's answer is lost on the way back\nmti 0100 #1 drop\n",
    )
    .unwrap();
    let sim = HostSim::start_with(&[
        "--script".as_ref(),
        script.as_os_str(),
        "--control".as_ref(),
        "127.0.0.1:0".as_ref(),
    ]);

    let lost = preauth(&db, &sim.address, "100.00", "s1");
    assert!(text(&lost).contains("unknown"), "{}", text(&lost));
    let recovered = poscore(&db, &sim.address, &["recover"]);
    assert_eq!(recovered.status.code(), Some(0), "{}", text(&recovered));
    let (state, reversal) = state_of(&db, "s1");
    assert_eq!(state, "reversed");
    assert_eq!(reversal["state"], "done");
    assert_eq!(reversal["reason"], "98");

    // The script's rule was for the first 0100 only; the control port spoils the next reply.
    let approved = preauth(&db, &sim.address, "50.00", "s2");
    assert_eq!(approved.status.code(), Some(0), "{}", text(&approved));
    assert_eq!(sim.tell("decline 51"), "ok decline 51 next reply");
    let declined = preauth(&db, &sim.address, "60.00", "s3");
    assert_eq!(declined.status.code(), Some(1), "{}", text(&declined));
    assert_eq!(state_of(&db, "s3").0, "declined");
    let status: serde_json::Value =
        serde_json::from_str(&sim.tell("status")).expect("status is JSON");
    assert_eq!(status["reversals"], 1, "{status}");
    assert_eq!(status["approvals_held"], 1, "{status}");
    assert!(sim.tell("explode").starts_with("error unknown command"));
}

#[test]
fn a_bad_script_line_is_a_usage_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.script");
    std::fs::write(&script, "mti 0100 #2 drop\n# fine so far\nnext dorp\n").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_poscore"))
        .args(["host-sim", "--listen", "127.0.0.1:0", "--script"])
        .arg(&script)
        .output()
        .expect("poscore runs");
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    let said = text(&run);
    assert!(
        said.contains("line 3: unknown action `dorp`") && said.contains("bad.script"),
        "{said}"
    );
}

/// A test CA and a server certificate for 127.0.0.1 it signed, written as PEM files.
fn test_pki(
    dir: &Path,
    ca_name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    let ca = rcgen::CertifiedIssuer::self_signed(params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
    let paths = (
        dir.join(format!("{ca_name}-ca.pem")),
        dir.join(format!("{ca_name}-cert.pem")),
        dir.join(format!("{ca_name}-key.pem")),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[test]
fn tls_ca_against_a_tls_host_sim_approves_a_pre_auth() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let (ca, cert, key) = test_pki(dir.path(), "acquirer");
    let sim = HostSim::start_with(&[
        "--tls-cert".as_ref(),
        cert.as_os_str(),
        "--tls-key".as_ref(),
        key.as_os_str(),
    ]);
    let ca_flag = ca.to_str().unwrap();

    let signed = poscore(&db, &sim.address, &["--tls-ca", ca_flag, "sign-on"]);
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));
    let approved = poscore(
        &db,
        &sim.address,
        &[
            "--tls-ca",
            ca_flag,
            "preauth",
            "--amount",
            "88.00",
            "--pan",
            "6222021234567890128",
            "--expiry",
            "3012",
            "--request-id",
            "t1",
        ],
    );
    assert_eq!(approved.status.code(), Some(0), "{}", text(&approved));
    assert!(text(&approved).contains("approved"), "{}", text(&approved));
    assert_eq!(state_of(&db, "t1").0, "approved");

    // Trusting another CA: the handshake fails, nothing is sent.
    let (other_ca, _, _) = test_pki(dir.path(), "other");
    let refused = poscore(
        &db,
        &sim.address,
        &[
            "--tls-ca",
            other_ca.to_str().unwrap(),
            "preauth",
            "--amount",
            "9.00",
            "--pan",
            "6222021234567890128",
            "--expiry",
            "3012",
            "--request-id",
            "t2",
        ],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert_eq!(state_of(&db, "t2").0, "not_sent");

    // A CA file that holds no certificate is a usage error before anything is journaled.
    let bad = poscore(
        &db,
        &sim.address,
        &["--tls-ca", key.to_str().unwrap(), "sign-on"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("no certificate found"),
        "{}",
        text(&bad)
    );
}
