//! Our codec against pyiso8583 in the same run: encode + decode of a UnionPay pre-auth request
//! (0100) and its reply (0110), per second, and the ratio (target ≥ 20×).
//!
//! ```sh
//! pip install -r tests/peers/iso8583/requirements.txt
//! cargo bench -p poscore-iso8583 --bench vs_pyiso8583
//! ```
//!
//! One iteration = encode the request, decode it, encode the reply, decode it. Both sides run
//! batches and report the median per-iteration time. pyiso8583 uses its own spec of the profile
//! (`tests/peers/iso8583/cup_spec.py`), and its encodings must equal ours byte for byte, so both
//! did the same work. `$PYTHON` chooses the interpreter (default `python3`); without pyiso8583
//! the bench fails and says how to install it. `cargo test --benches` runs a quick smoke version.

#[path = "../tests/support/messages.rs"]
mod messages;

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use poscore_iso8583::{decode, encode, unionpay_pos};
use serde_json::{Value, json};

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (batches, per_batch, py_batches, py_per_batch) = if quick {
        (5, 200, 3, 20)
    } else {
        (41, 20_000, 15, 2_000)
    };
    let profile = unionpay_pos();
    let request = messages::preauth();
    let reply = messages::preauth_reply();
    let ours_hex: Vec<String> = [&request, &reply]
        .iter()
        .map(|m| messages::hex(&encode(m, &profile).unwrap()))
        .collect();

    // Ours.
    let mut times = Vec::with_capacity(batches);
    for _ in 0..batches {
        let start = Instant::now();
        for _ in 0..per_batch {
            for m in [&request, &reply] {
                let bytes = encode(black_box(m), &profile).unwrap();
                black_box(decode(black_box(&bytes), &profile).unwrap());
            }
        }
        times.push(start.elapsed().as_secs_f64() / per_batch as f64 * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let ours_us = times[times.len() / 2];

    // pyiso8583.
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/iso8583/bench_pyiso8583.py");
    let install = format!(
        "run `{python} -m pip install -r tests/peers/iso8583/requirements.txt` (set PYTHON to choose the interpreter)"
    );
    let job = json!({
        "messages": [messages::to_json(&request), messages::to_json(&reply)],
        "batches": py_batches,
        "per_batch": py_per_batch,
    });
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run `{python}` ({e}): install Python 3, then {install}")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{} failed:\n{}\n{install}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: Value = serde_json::from_slice(&output.stdout).expect("JSON from the Python bench");
    let their_hex: Vec<String> = theirs["hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        their_hex, ours_hex,
        "pyiso8583 and we encode the pre-auth differently: not the same work"
    );
    let py_us = theirs["median_us"].as_f64().unwrap();

    let sizes: Vec<usize> = ours_hex.iter().map(|h| h.len() / 2).collect();
    println!(
        "ISO 8583 codec: encode + decode of a 0100 pre-auth ({} bytes) and its 0110 reply ({} bytes){}",
        sizes[0],
        sizes[1],
        if quick {
            " [quick run, not a measurement]"
        } else {
            ""
        }
    );
    println!(
        "  poscore-iso8583: {ours_us:8.3} µs per pair, {:>10.0} pairs/s (median of {batches} batches of {per_batch})",
        1e6 / ours_us
    );
    println!(
        "  pyiso8583 4.0.1: {py_us:8.3} µs per pair, {:>10.0} pairs/s (median of {py_batches} batches of {py_per_batch})",
        1e6 / py_us
    );
    let ratio = py_us / ours_us;
    println!(
        "  ratio: {ratio:.1}× (target ≥ 20×: {})",
        if ratio >= 20.0 { "met" } else { "MISSED" }
    );
}
