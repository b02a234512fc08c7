//! pyiso8583 (PyPI, pinned in `tests/peers/iso8583/requirements.txt`) as a third-party peer,
//! with its own spec of the UnionPay POS profile written by hand in
//! `tests/peers/iso8583/cup_spec.py`:
//!
//! - pyiso8583 decodes each of our encodings to the same fields;
//! - our decoder reads pyiso8583's encodings back to the same message (and the bytes agree).
//!
//! The interpreter is `$PYTHON` (default `python3`). Without pyiso8583 the test FAILS and says
//! how to install it: a peer test that skips itself would pass without checking anything.

#[path = "support/messages.rs"]
mod messages;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use poscore_iso8583::{decode, encode, unionpay_pos};
use serde_json::Value;

const PINNED_VERSION: &str = "4.0.1";

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/iso8583")
}

fn require_pyiso8583() {
    let python = python();
    let install = format!(
        "run `{python} -m pip install -r tests/peers/iso8583/requirements.txt` in the repository root \
         (set PYTHON to choose the interpreter)"
    );
    let output = Command::new(&python)
        .args(["-c", "import iso8583; print(iso8583.__version__)"])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{python}` ({e}): install Python 3, then {install}")
        });
    assert!(
        output.status.success(),
        "pyiso8583 is not importable by `{python}`: {}\n{install}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert_eq!(
        version, PINNED_VERSION,
        "pyiso8583 {version} found, {PINNED_VERSION} pinned: {install}"
    );
}

/// Runs `iso8583_peer.py <command>` with `input` as JSON on stdin; returns its JSON output.
fn run_peer(command: &str, input: &Value) -> Value {
    let script = peer_dir().join("iso8583_peer.py");
    let mut child = Command::new(python())
        .arg(&script)
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "`{} {command}` failed ({}):\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the peer prints JSON")
}

#[test]
fn pyiso8583_decodes_our_encodings_to_the_same_fields() {
    require_pyiso8583();
    let profile = unionpay_pos();
    let all = messages::all();
    let hexes: Vec<Value> = all
        .iter()
        .map(|(_, m)| Value::String(messages::hex(&encode(m, &profile).unwrap())))
        .collect();
    let decoded = run_peer("decode", &Value::Array(hexes));
    let decoded = decoded.as_array().expect("an array");
    assert_eq!(decoded.len(), all.len());
    for ((name, m), theirs) in all.iter().zip(decoded) {
        assert_eq!(
            theirs,
            &messages::to_json(m),
            "{name}: pyiso8583 reads our bytes differently"
        );
    }
}

#[test]
fn we_decode_pyiso8583_encodings_to_the_same_message() {
    require_pyiso8583();
    let profile = unionpay_pos();
    let all = messages::all();
    let json: Vec<Value> = all.iter().map(|(_, m)| messages::to_json(m)).collect();
    let encoded = run_peer("encode", &Value::Array(json));
    let encoded = encoded.as_array().expect("an array");
    assert_eq!(encoded.len(), all.len());
    for ((name, m), theirs) in all.iter().zip(encoded) {
        let bytes = messages::unhex(theirs.as_str().expect("hex"));
        let ours = decode(&bytes, &profile)
            .unwrap_or_else(|e| panic!("{name}: we cannot decode pyiso8583's bytes: {e}"));
        assert_eq!(&ours, m, "{name}: we read pyiso8583's bytes differently");
        assert_eq!(
            messages::from_json(&messages::to_json(&ours), &profile),
            ours
        );
        assert_eq!(
            bytes,
            encode(m, &profile).unwrap(),
            "{name}: the two encoders disagree byte for byte"
        );
    }
}
