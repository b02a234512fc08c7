//! # `poscore_system_tests` — shared helpers of the system tests
//!
//! The system tests in `tests/` drive the real `poscore` binary (crate `rust/cli`): they run
//! it, kill it, reopen the journal, export it, and compare what the terminal recorded with
//! what the simulated acquirer host recorded in its ledger (`--sim-ledger`, one JSON line per
//! approval or reversal, fsync'd before the host answers).
//!
//! This crate holds what those tests share:
//!
//! - [`poscore_binary`] builds the binary once per test process and gives its path;
//! - [`parse_ledger`] reads the host's ledger;
//! - [`check_promises`], [`check_slips`] and [`check_print_queue`] check the promises of `DESIGN.md` over a parsed
//!   `poscore export --format json` and the ledger, and return the violations found as
//!   sentences a person can act on (an empty list means every promise held);
//! - [`check_resolved`], [`check_originals_once`] and [`check_no_double_authorization`] check
//!   the stronger forms a journal must reach once the faults stop and the terminal is idle
//!   (nothing uncertain left, one original per copy, one standing follow-up per original);
//! - [`scan_for_pans`] looks for full card numbers in a file's bytes.
//!
//! The checkers are plain functions over JSON so that they can be tested on hand-made
//! exports (see the unit tests below: each rule is shown to fail on an export that breaks it).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------

/// The number in environment variable `name`, or `default` when it is not set; a value that
/// is not a number stops the test with a message naming the variable.
pub fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {text:?}")),
        Err(_) => default,
    }
}

/// Whether a process ended by SIGKILL (on other systems: whether it failed).
#[cfg(unix)]
pub fn killed_by_signal(status: &std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

/// Whether a process ended by SIGKILL (on other systems: whether it failed).
#[cfg(not(unix))]
pub fn killed_by_signal(status: &std::process::ExitStatus) -> bool {
    !status.success()
}

/// The path of the `poscore` binary, built once per test process.
///
/// Runs `$CARGO build -p poscore-cli --bin poscore` from the workspace root (`CARGO` is set by
/// cargo for the tests it runs; plain `cargo` otherwise), with the profile of the running
/// test (see [`test_profile`]). `CARGO_TARGET_DIR` and the other cargo settings of the
/// environment are inherited, so the binary lands in the same target directory as the test.
/// The path is read from cargo's own report of the artifact, not guessed.
///
/// # Panics
/// If the build fails (with cargo's diagnostics) or cargo reports no `poscore` executable.
pub fn poscore_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_poscore).clone()
}

/// The cargo profile the running test was built with: `dev` for `target/debug`, `release` for
/// `target/release`, a custom profile's own name otherwise. Read from the test executable's
/// location (`<target>/<profile dir>/deps/<test>`); falls back on `debug_assertions`.
pub fn test_profile() -> String {
    let from_path = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        if deps.file_name()? != "deps" {
            return None;
        }
        Some(deps.parent()?.file_name()?.to_string_lossy().into_owned())
    });
    match from_path.as_deref() {
        Some("debug") => "dev".to_string(),
        Some(name) if !name.is_empty() => name.to_string(),
        _ if cfg!(debug_assertions) => "dev".to_string(),
        _ => "release".to_string(),
    }
}

fn build_poscore() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile = test_profile();
    let output = Command::new(&cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "-p",
            "poscore-cli",
            "--bin",
            "poscore",
            "--profile",
            &profile,
            "--message-format=json-render-diagnostics",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} to build poscore: {e}",
                cargo.to_string_lossy()
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "building poscore ({} build -p poscore-cli --profile {profile}) failed:\n{stderr}",
        cargo.to_string_lossy()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "poscore")
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
        .unwrap_or_else(|| {
            panic!("cargo built poscore-cli but reported no `poscore` executable:\n{stderr}")
        })
}

// ---------------------------------------------------------------------------------------------
// The host's ledger
// ---------------------------------------------------------------------------------------------

/// What the simulated host did to a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerEvent {
    /// The host approved it (and holds the money).
    Approved,
    /// The host reversed an approval it held.
    Reversed,
}

/// One line of the simulated host's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Approved or reversed.
    pub event: LedgerEvent,
    /// The transaction's kind as the export writes it (`preauth`, `completion`, ...).
    pub kind: String,
    /// The batch number, six digits as exported.
    pub batch: String,
    /// The trace number, six digits as exported.
    pub trace: String,
    /// The amount in minor units.
    pub amount_minor: u64,
}

/// A ledger as read from its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// The whole records, in order.
    pub entries: Vec<LedgerEntry>,
    /// Lines that are not a whole record: a record being written when the process was
    /// killed. The host had not answered yet, so such a record never counted.
    pub torn: Vec<String>,
}

/// Reads the host's JSON-lines ledger. Blank lines are skipped; a line that is not a whole
/// record goes to [`Ledger::torn`] (the tests decide what to make of it).
pub fn parse_ledger(text: &str) -> Ledger {
    let mut ledger = Ledger::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match parse_ledger_line(line) {
            Some(entry) => ledger.entries.push(entry),
            None => ledger.torn.push(line.to_string()),
        }
    }
    ledger
}

fn parse_ledger_line(line: &str) -> Option<LedgerEntry> {
    let value: Value = serde_json::from_str(line).ok()?;
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    let event = match text("event")?.as_str() {
        "approved" => LedgerEvent::Approved,
        "reversed" => LedgerEvent::Reversed,
        _ => return None,
    };
    Some(LedgerEntry {
        event,
        kind: text("kind")?,
        batch: text("batch")?,
        trace: text("trace")?,
        amount_minor: value.get("amount_minor")?.as_u64()?,
    })
}

// ---------------------------------------------------------------------------------------------
// The promises
// ---------------------------------------------------------------------------------------------

/// Transaction states in which the terminal shows the host's approval as standing.
const APPROVED_STATES: [&str; 3] = ["approved", "completed", "voided"];
/// Reversal states of a reversal still in progress or waiting for the operator.
const OPEN_REVERSAL: [&str; 2] = ["pending", "failed"];
/// The kind approved by the terminal itself (offline, store-and-forward): never in the ledger.
const OFFLINE_KIND: &str = "completion_advice";

/// The fields of one exported transaction the checks read.
#[derive(Debug)]
struct Txn<'a> {
    index: usize,
    trace: &'a str,
    batch: &'a str,
    kind: &'a str,
    state: &'a str,
    request_id: &'a str,
    amount_minor: Option<u64>,
    /// `None` when the export has `null`, `Some("")` when the object has no state.
    reversal_state: Option<&'a str>,
    print_jobs: Vec<(&'a str, &'a str, &'a str)>,
}

impl Txn<'_> {
    fn key(&self) -> (String, String) {
        (self.batch.to_string(), self.trace.to_string())
    }

    fn name(&self) -> String {
        format!(
            "{} batch {} trace {} (request {}, state {})",
            self.kind, self.batch, self.trace, self.request_id, self.state
        )
    }

    fn shows_approved(&self) -> bool {
        APPROVED_STATES.contains(&self.state)
    }
}

/// Reads the export's transactions; what is malformed becomes a violation.
fn read_export<'a>(export: &'a Value, violations: &mut Vec<String>) -> Vec<Txn<'a>> {
    let Some(items) = export.as_array() else {
        violations.push(format!("the export is not a JSON array: {}", short(export)));
        return Vec::new();
    };
    let mut txns = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let text = |k: &str| item.get(k).and_then(Value::as_str);
        let (Some(trace), Some(batch), Some(kind), Some(state), Some(request_id)) = (
            text("trace"),
            text("batch"),
            text("kind"),
            text("state"),
            text("request_id"),
        ) else {
            violations.push(format!(
                "export item {index} lacks trace, batch, kind, state or request_id: {}",
                short(item)
            ));
            continue;
        };
        let reversal_state = match item.get("reversal") {
            None | Some(Value::Null) => None,
            Some(r) => Some(r.get("state").and_then(Value::as_str).unwrap_or("")),
        };
        let print_jobs = item
            .get("print_jobs")
            .and_then(Value::as_array)
            .map(|jobs| {
                jobs.iter()
                    .map(|j| {
                        let f = |k: &str| j.get(k).and_then(Value::as_str).unwrap_or("");
                        (f("copy"), f("kind"), f("state"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        txns.push(Txn {
            index,
            trace,
            batch,
            kind,
            state,
            request_id,
            amount_minor: item.get("amount_minor").and_then(Value::as_u64),
            reversal_state,
            print_jobs,
        });
    }
    txns
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

/// What the host holds for one (batch, trace), from its ledger.
#[derive(Debug, Default)]
struct HostView<'a> {
    approvals: Vec<&'a LedgerEntry>,
    reversals: usize,
}

impl HostView<'_> {
    /// Approved and not reversed since.
    fn holds(&self) -> bool {
        !self.approvals.is_empty() && self.reversals == 0
    }
}

fn host_view(ledger: &[LedgerEntry]) -> BTreeMap<(String, String), HostView<'_>> {
    let mut view: BTreeMap<(String, String), HostView<'_>> = BTreeMap::new();
    for entry in ledger {
        let slot = view
            .entry((entry.batch.clone(), entry.trace.clone()))
            .or_default();
        match entry.event {
            LedgerEvent::Approved => slot.approvals.push(entry),
            LedgerEvent::Reversed => slot.reversals += 1,
        }
    }
    view
}

/// Checks the promises of `DESIGN.md` that an export taken after recovery and the host's
/// ledger can show, and returns every violation found (empty: all held):
///
/// 1. **No approved transaction is lost.** Every (batch, trace) the host approved and did not
///    reverse is in the export, either as `approved`, `completed` or `voided`, or as
///    `unknown` with a reversal still `pending` or `failed` (the terminal was killed before
///    it saw the answer, and the reversal has not got through yet). A transaction the
///    terminal shows `reversed`, or whose reversal is `done`, while the host still holds the
///    approval is a violation: the terminal believes the hold released and it is not.
///    The host's approval and the export must also agree on kind and amount.
/// 2. **No phantom approval.** Every transaction the export shows `approved`, `completed` or
///    `voided` (but a `completion_advice`, approved offline by the terminal) was approved by
///    the host, and not reversed since.
/// 3. **No uncertain outcome left hanging.** Every `unknown` has a reversal `pending`,
///    `failed` or `done` (never `null`); every `reversed` has its reversal `done`; nothing is
///    left `queued` or `sending` (the export runs recovery first).
/// 4. **One request, one transaction.** (batch, trace) is unique in the export, request ids
///    are unique in the export, and the host never approved the same (batch, trace) twice.
///
/// A malformed export (not an array, an object without its keys) is reported too.
pub fn check_promises(export: &Value, ledger: &[LedgerEntry]) -> Vec<String> {
    let mut violations = Vec::new();
    let txns = read_export(export, &mut violations);
    let host = host_view(ledger);
    check_unique(&txns, &host, &mut violations);
    check_no_lost_approval(&txns, &host, &mut violations);
    check_no_phantom_approval(&txns, &host, &mut violations);
    check_nothing_hanging(&txns, &mut violations);
    violations
}

fn check_unique(
    txns: &[Txn<'_>],
    host: &BTreeMap<(String, String), HostView<'_>>,
    violations: &mut Vec<String>,
) {
    let mut keys: HashMap<(String, String), usize> = HashMap::new();
    let mut request_ids: HashMap<&str, usize> = HashMap::new();
    for t in txns {
        if let Some(first) = keys.insert(t.key(), t.index) {
            violations.push(format!(
                "batch {} trace {} is in the export twice (items {first} and {})",
                t.batch, t.trace, t.index
            ));
        }
        if let Some(first) = request_ids.insert(t.request_id, t.index) {
            violations
                .push(format!("request id {} is in the export twice (items {first} and {}): one request authorized twice", t.request_id, t.index));
        }
    }
    for ((batch, trace), view) in host {
        if view.approvals.len() > 1 {
            violations.push(format!(
                "the host approved batch {batch} trace {trace} {} times: a trace number was reused",
                view.approvals.len()
            ));
        }
    }
}

fn check_no_lost_approval(
    txns: &[Txn<'_>],
    host: &BTreeMap<(String, String), HostView<'_>>,
    violations: &mut Vec<String>,
) {
    let by_key: HashMap<(String, String), &Txn<'_>> = txns.iter().map(|t| (t.key(), t)).collect();
    for ((batch, trace), view) in host {
        let Some(approval) = view.approvals.first() else {
            continue;
        };
        let txn = by_key.get(&(batch.clone(), trace.clone()));
        if let Some(t) = txn {
            if t.kind != approval.kind || t.amount_minor != Some(approval.amount_minor) {
                violations.push(format!(
                    "the host approved {} of {} at batch {batch} trace {trace}, the export has {} of {:?} there",
                    approval.kind, approval.amount_minor, t.kind, t.amount_minor
                ));
            }
        }
        if !view.holds() {
            continue;
        }
        match txn {
            None => violations.push(format!(
                "approved transaction lost: the host approved {} batch {batch} trace {trace} ({} minor units) and holds it, the export does not have it",
                approval.kind, approval.amount_minor
            )),
            Some(t) if t.shows_approved() => {}
            Some(t) if t.state == "unknown" && t.reversal_state.is_some_and(|r| OPEN_REVERSAL.contains(&r)) => {}
            Some(t) if t.state == "reversed" || t.reversal_state == Some("done") => violations.push(format!(
                "{}: the terminal shows it reversed (reversal {}) but the host still holds its approval: the cardholder's money stays frozen",
                t.name(),
                t.reversal_state.unwrap_or("null")
            )),
            Some(t) => violations.push(format!(
                "approved transaction lost: the host approved and holds {}, the export shows it {} with reversal {}",
                t.name(),
                t.state,
                t.reversal_state.unwrap_or("null")
            )),
        }
    }
}

fn check_no_phantom_approval(
    txns: &[Txn<'_>],
    host: &BTreeMap<(String, String), HostView<'_>>,
    violations: &mut Vec<String>,
) {
    for t in txns
        .iter()
        .filter(|t| t.shows_approved() && t.kind != OFFLINE_KIND)
    {
        match host.get(&t.key()) {
            Some(view) if view.holds() => {}
            Some(view) if !view.approvals.is_empty() => {
                violations.push(format!(
                    "phantom approval: the export shows {} as standing, but the host reversed it",
                    t.name()
                ));
            }
            _ => violations.push(format!(
                "phantom approval: the export shows {} as approved, the host never approved it",
                t.name()
            )),
        }
    }
}

fn check_nothing_hanging(txns: &[Txn<'_>], violations: &mut Vec<String>) {
    for t in txns {
        match (t.state, t.reversal_state) {
            ("unknown", Some("pending" | "failed" | "done")) => {}
            ("unknown", r) => violations.push(format!(
                "uncertain outcome left hanging: {} has reversal {} (must be pending, failed or done)",
                t.name(),
                r.unwrap_or("null")
            )),
            ("reversed", Some("done")) => {}
            ("reversed", r) => violations.push(format!("{} is reversed but its reversal is {}, not done", t.name(), r.unwrap_or("null"))),
            ("queued" | "sending", _) => violations.push(format!("{} is still {} after recovery", t.name(), t.state)),
            _ => {}
        }
    }
}

/// Checks promise 2 (every approved transaction ends with its slips) over an export: every
/// transaction shown `approved`, `completed` or `voided` (offline completions included) has a
/// print job for each of `copies` (e.g. `["merchant", "cardholder"]`) that is its original:
/// kind `original`, or kind `reprint` with a failure recorded (an original whose attempt was
/// cut off by a restart or went unconfirmed, so it prints marked REPRINT, promise 5). With
/// `require_printed`, every print job of every transaction must also be `printed` (for a
/// printer that never fails, after `poscore recover` finished the queue).
pub fn check_slips(export: &Value, copies: &[&str], require_printed: bool) -> Vec<String> {
    let mut violations = Vec::new();
    let txns = read_export(export, &mut violations);
    let items = export.as_array().cloned().unwrap_or_default();
    for t in &txns {
        if t.shows_approved() {
            let jobs: Vec<&Value> = items[t.index]
                .get("print_jobs")
                .and_then(Value::as_array)
                .map(|j| j.iter().collect())
                .unwrap_or_default();
            for copy in copies {
                let is_its_original = |job: &&Value| {
                    let field = |name: &str| job.get(name).and_then(Value::as_str);
                    field("copy") == Some(*copy)
                        && (field("kind") == Some("original")
                            || (field("kind") == Some("reprint") && field("last_error").is_some()))
                };
                if !jobs.iter().any(is_its_original) {
                    violations.push(format!(
                        "slip dropped: {} has no original {copy} copy",
                        t.name()
                    ));
                }
            }
        }
        if require_printed {
            for (copy, kind, state) in &t.print_jobs {
                if *state != "printed" {
                    violations.push(format!(
                        "slip not printed: the {kind} {copy} copy of {} is {state}",
                        t.name()
                    ));
                }
            }
        }
    }
    violations
}

/// Checks the durable print queue (promises 2 and 5) over an export taken after recovery, and
/// returns every violation found:
///
/// 1. **No slip dropped.** Every transaction shown `approved`, `completed` or `voided` has a
///    print job for each of `copies` (an original, or the original turned into a reprint
///    because its attempt may have printed).
/// 2. **States say why.** No job is `sending` after recovery; a `printed` job has its
///    `printed_at` and `delivered: "paper"`; a `delivered` job has `delivered:
///    "electronic"`; a `held` job has its `held_reason`.
/// 3. **A reprint says why.** A job of kind `reprint` carries the error that made its first
///    try uncertain (`last_error`), unless another job of its copy was delivered
///    electronically (the paper copy of an electronic receipt). So call this only on a
///    journal where nobody asked for a reprint.
/// 4. **Copies in order.** A transaction's first cardholder job is not printed before its
///    first merchant job is printed (or delivered).
/// 5. With `finished`: every job is `printed` or `delivered` (nothing is left waiting).
pub fn check_print_queue(export: &Value, copies: &[&str], finished: bool) -> Vec<String> {
    let mut violations = Vec::new();
    let txns = read_export(export, &mut violations);
    let Some(items) = export.as_array() else {
        return violations;
    };
    for t in &txns {
        let jobs: Vec<&Value> = items[t.index]
            .get("print_jobs")
            .and_then(Value::as_array)
            .map(|j| j.iter().collect())
            .unwrap_or_default();
        let field = |j: &Value, k: &str| j.get(k).and_then(Value::as_str).map(str::to_string);
        if t.shows_approved() {
            for copy in copies {
                if !jobs
                    .iter()
                    .any(|j| field(j, "copy").as_deref() == Some(copy))
                {
                    violations.push(format!(
                        "slip dropped: {} has no {copy} copy at all",
                        t.name()
                    ));
                }
            }
        }
        for (n, job) in jobs.iter().enumerate() {
            let (copy, kind, state) = (
                field(job, "copy").unwrap_or_default(),
                field(job, "kind").unwrap_or_default(),
                field(job, "state").unwrap_or_default(),
            );
            let what = format!("the {kind} {copy} copy (job {n}) of {}", t.name());
            match state.as_str() {
                "printed" => {
                    if field(job, "printed_at").is_none()
                        || field(job, "delivered").as_deref() != Some("paper")
                    {
                        violations.push(format!(
                            "{what} is printed without printed_at and delivered=paper: {}",
                            short(job)
                        ));
                    }
                }
                "delivered" => {
                    if field(job, "delivered").as_deref() != Some("electronic") {
                        violations.push(format!(
                            "{what} is delivered without delivered=electronic: {}",
                            short(job)
                        ));
                    }
                }
                "held" => {
                    if field(job, "held_reason").is_none() {
                        violations.push(format!("{what} is held for no reason: {}", short(job)));
                    }
                }
                "queued" => {}
                other => violations.push(format!("{what} is {other:?} after recovery")),
            }
            if finished && !matches!(state.as_str(), "printed" | "delivered") {
                violations.push(format!(
                    "slip not printed: {what} is {state} (last error {:?})",
                    field(job, "last_error")
                ));
            }
            let e_receipt = jobs.iter().any(|j| {
                field(j, "copy") == Some(copy.clone())
                    && field(j, "delivered").as_deref() == Some("electronic")
            });
            if kind == "reprint" && field(job, "last_error").is_none() && !e_receipt {
                violations.push(format!(
                    "{what} is marked REPRINT but no failure explains it: {}",
                    short(job)
                ));
            }
        }
        let first = |copy: &str| {
            jobs.iter()
                .find(|j| field(j, "copy").as_deref() == Some(copy))
                .copied()
        };
        if let (Some(merchant), Some(cardholder)) = (first("merchant"), first("cardholder")) {
            if field(cardholder, "state").as_deref() == Some("printed") {
                match field(merchant, "state").as_deref() {
                    Some("printed") => {
                        // RFC 3339 in one format: the text order is the time order.
                        if field(merchant, "printed_at") > field(cardholder, "printed_at") {
                            violations.push(format!(
                                "the cardholder copy of {} printed before the merchant copy",
                                t.name()
                            ));
                        }
                    }
                    Some("delivered") => {}
                    other => violations.push(format!(
                        "the cardholder copy of {} printed while the merchant copy is {other:?}",
                        t.name()
                    )),
                }
            }
        }
    }
    violations
}

// ---------------------------------------------------------------------------------------------
// After the final drain: nothing uncertain left, originals once, no double authorization
// ---------------------------------------------------------------------------------------------

/// Reversal states that mean nothing is left to do: the reversal got through (`done`), or
/// was never needed (`disarmed`: an answer came; `cancelled`: nothing was sent).
const CLOSED_REVERSAL: [&str; 3] = ["done", "disarmed", "cancelled"];

/// Checks promise 3 in its strong form, for an export taken once the terminal is idle against
/// a plain host (every fault stopped, `recover` run until nothing is due, failed reversals
/// retried): no transaction is left `unknown`, `queued` or `sending`, and every reversal is
/// `done`, `disarmed` or `cancelled` (none `armed`, `pending` or `failed`); a transaction
/// whose reversal is `done` is `reversed`.
pub fn check_resolved(export: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    for t in read_export(export, &mut violations) {
        if matches!(t.state, "unknown" | "queued" | "sending") {
            violations.push(format!(
                "uncertain outcome never resolved: {} is still {} (reversal {}) with the host plain and the terminal idle",
                t.name(),
                t.state,
                t.reversal_state.unwrap_or("null")
            ));
        }
        match t.reversal_state {
            None => {}
            Some("done") if t.state != "reversed" => violations.push(format!(
                "{}: its reversal is done but it is {}, not reversed",
                t.name(),
                t.state
            )),
            Some(r) if CLOSED_REVERSAL.contains(&r) => {}
            Some(r) => violations.push(format!(
                "reversal left open: {} has its reversal {r:?} with the host plain and the terminal idle",
                t.name()
            )),
        }
    }
    violations
}

/// Checks promise 5 over an export: no copy of a transaction has more than one job of kind
/// `original` (an original printed twice would be a second original). With
/// `no_reprint_asked` (nobody ran `reprint` or `e-receipt` on this journal), each copy also
/// has at most one job at all: an attempt cut off by a restart turns the same job into a
/// reprint, it does not add one.
pub fn check_originals_once(
    export: &Value,
    copies: &[&str],
    no_reprint_asked: bool,
) -> Vec<String> {
    let mut violations = Vec::new();
    for t in read_export(export, &mut violations) {
        for copy in copies {
            let of_copy: Vec<&(&str, &str, &str)> =
                t.print_jobs.iter().filter(|(c, _, _)| c == copy).collect();
            let originals = of_copy.iter().filter(|(_, k, _)| *k == "original").count();
            if originals > 1 {
                violations.push(format!(
                    "original printed more than once: {} has {originals} {copy} jobs of kind original",
                    t.name()
                ));
            }
            if no_reprint_asked && of_copy.len() > 1 {
                violations.push(format!(
                    "{} has {} {copy} jobs ({:?}) though nobody asked for a reprint",
                    t.name(),
                    of_copy.len(),
                    of_copy
                        .iter()
                        .map(|(_, k, s)| format!("{k}/{s}"))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    violations
}

/// Checks promise 4 across transactions (one original, one outcome) over an export: for each
/// pre-auth, at most one completion stands (`approved`), at most one void stands, and not a
/// completion and a void both; for each completion at most one completion void stands
/// (offline completions count as completions). A follow-up that stands must name an original
/// that is in the export, and whose state agrees (`completed` under a standing completion,
/// `voided` under a standing void).
pub fn check_no_double_authorization(export: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    let txns = read_export(export, &mut violations);
    let items = export.as_array().cloned().unwrap_or_default();
    let original_of = |t: &Txn<'_>| {
        items[t.index]
            .get("original_trace")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let by_trace: HashMap<&str, &Txn<'_>> = txns.iter().map(|t| (t.trace, t)).collect();
    // original trace -> kind -> the standing follow-ups
    let mut standing: BTreeMap<String, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
    for t in txns.iter().filter(|t| t.state == "approved") {
        if !matches!(
            t.kind,
            "completion" | "completion_advice" | "preauth_void" | "completion_void"
        ) {
            continue;
        }
        let Some(original) = original_of(t) else {
            violations.push(format!("{} stands but names no original", t.name()));
            continue;
        };
        let kind = if t.kind == "completion_advice" {
            "completion"
        } else {
            t.kind
        };
        standing
            .entry(original)
            .or_default()
            .entry(kind)
            .or_default()
            .push(t.name());
    }
    for (original, kinds) in &standing {
        for (kind, names) in kinds {
            if names.len() > 1 {
                violations.push(format!(
                    "double authorization: {} {kind}s of trace {original} stand: {}",
                    names.len(),
                    names.join("; ")
                ));
            }
        }
        if kinds.contains_key("completion") && kinds.contains_key("preauth_void") {
            violations.push(format!(
                "pre-auth {original} is both completed and voided: {} / {}",
                kinds["completion"].join("; "),
                kinds["preauth_void"].join("; ")
            ));
        }
        let Some(o) = by_trace.get(original.as_str()) else {
            violations.push(format!(
                "follow-ups of trace {original} stand but trace {original} is not in the export"
            ));
            continue;
        };
        let voided = (o.kind == "preauth" && kinds.contains_key("preauth_void"))
            || (o.kind == "completion" && kinds.contains_key("completion_void"));
        if voided && o.state != "voided" {
            violations.push(format!(
                "{} is {} though a void of it stands (expected voided)",
                o.name(),
                o.state
            ));
        }
        if o.kind == "preauth" && kinds.contains_key("completion") && o.state != "completed" {
            violations.push(format!(
                "{} is {} though a completion of it stands (expected completed)",
                o.name(),
                o.state
            ));
        }
    }
    violations
}

// ---------------------------------------------------------------------------------------------
// Card numbers at rest
// ---------------------------------------------------------------------------------------------

/// Whether ASCII `digits` pass the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Packs decimal digits two per byte (BCD, as ISO 8583 carries field 2); an odd last digit is
/// left out, so the result is a prefix of the packing with either padding.
fn bcd(digits: &str) -> Vec<u8> {
    digits
        .as_bytes()
        .chunks_exact(2)
        .map(|p| ((p[0] - b'0') << 4) | (p[1] - b'0'))
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Full card numbers found in `bytes` (a journal file, a log, an export), each described with
/// its offset. Empty: none found.
///
/// Looks for:
/// - each of the `known` PANs (the ones the test used), as ASCII digits or packed BCD;
/// - any other run of 13–19 ASCII digits that passes the Luhn check, starts with 1–9 (no
///   card number starts with 0: ISO/IEC 7812 major industry identifier 0 is not issued to
///   cards) and is not glued to letters or longer digit runs (a hex digest, an identifier or
///   concatenated numeric columns are not card numbers; a PAN written as text has separators
///   around it).
///
/// Only the masked form (BIN and last four) may appear at rest.
pub fn scan_for_pans(bytes: &[u8], known: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for pan in known {
        if let Some(at) = find(bytes, pan.as_bytes()) {
            found.push(format!(
                "known card number {pan} in plain digits at byte {at}"
            ));
        }
        if let Some(at) = find(bytes, &bcd(pan)) {
            found.push(format!(
                "known card number {pan} packed as BCD at byte {at}"
            ));
        }
    }
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let run = &bytes[start..i];
        let glued = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphabetic);
        if (13..=19).contains(&run.len())
            && run[0] != b'0'
            && !glued(start.checked_sub(1).and_then(|p| bytes.get(p)))
            && !glued(bytes.get(i))
            && luhn_valid(run)
        {
            let text = String::from_utf8_lossy(run);
            if !known.contains(&text.as_ref()) {
                found.push(format!("Luhn-valid card number {text} at byte {start}"));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn txn(trace: &str, kind: &str, state: &str, amount: u64, reversal: Value) -> Value {
        let printed = if APPROVED_STATES.contains(&state) {
            json!([
                {"copy": "merchant", "kind": "original", "state": "printed", "attempts": 1, "last_error": null},
                {"copy": "cardholder", "kind": "original", "state": "printed", "attempts": 1, "last_error": null},
            ])
        } else {
            json!([])
        };
        json!({
            "trace": trace, "batch": "000001", "kind": kind, "state": state, "amount_minor": amount,
            "currency": "CNY", "masked_pan": "411111******1111", "auth_code": null, "rrn": null,
            "response_code": null, "request_id": format!("req-{trace}"), "original_trace": null,
            "settled": false, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "reversal": reversal, "print_jobs": printed,
        })
    }

    fn rev(state: &str) -> Value {
        json!({"state": state, "reason": "98", "attempts": 1, "last_response": null})
    }

    fn entry(event: LedgerEvent, kind: &str, trace: &str, amount: u64) -> LedgerEntry {
        LedgerEntry {
            event,
            kind: kind.into(),
            batch: "000001".into(),
            trace: trace.into(),
            amount_minor: amount,
        }
    }

    use LedgerEvent::{Approved, Reversed};

    /// An export and ledger that keep every promise, with each tolerated case present.
    fn good() -> (Value, Vec<LedgerEntry>) {
        let export = json!([
            txn("000001", "preauth", "completed", 1000, Value::Null),
            txn("000002", "completion", "approved", 1100, Value::Null),
            txn("000003", "preauth", "voided", 500, Value::Null),
            txn("000004", "preauth_void", "approved", 500, Value::Null),
            // killed after the host approved: reversal still pending
            txn("000005", "preauth", "unknown", 700, rev("pending")),
            // lost answer, reversed
            txn("000006", "preauth", "reversed", 800, rev("done")),
            // timeout: the host never saw it, reversal answered 25
            txn("000007", "preauth", "reversed", 968, rev("done")),
            txn("000008", "preauth", "declined", 951, Value::Null),
            txn("000009", "completion_advice", "approved", 900, Value::Null),
            txn("000010", "preauth", "not_sent", 100, Value::Null),
            // unknown, reversal failed and kept for the operator
            txn("000011", "preauth", "unknown", 300, rev("failed")),
        ]);
        let ledger = vec![
            entry(Approved, "preauth", "000001", 1000),
            entry(Approved, "completion", "000002", 1100),
            entry(Approved, "preauth", "000003", 500),
            entry(Approved, "preauth_void", "000004", 500),
            entry(Approved, "preauth", "000005", 700),
            entry(Approved, "preauth", "000006", 800),
            entry(Reversed, "preauth", "000006", 800),
            entry(Approved, "preauth", "000011", 300),
        ];
        (export, ledger)
    }

    fn set(export: &mut Value, trace: &str, key: &str, value: Value) {
        let item = export
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|t| t["trace"] == trace)
            .unwrap();
        item[key] = value;
    }

    fn violations_mentioning(violations: &[String], words: &str) -> usize {
        violations.iter().filter(|v| v.contains(words)).count()
    }

    #[test]
    fn a_good_export_has_no_violations() {
        let (export, ledger) = good();
        assert_eq!(check_promises(&export, &ledger), Vec::<String>::new());
        assert_eq!(
            check_slips(&export, &["merchant", "cardholder"], true),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_host_approval_missing_from_the_export_is_lost() {
        let (export, mut ledger) = good();
        ledger.push(entry(Approved, "preauth", "000042", 4200));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            violations_mentioning(&v, "approved transaction lost"),
            1,
            "{v:?}"
        );
        assert_eq!(violations_mentioning(&v, "000042"), 1, "{v:?}");
    }

    #[test]
    fn a_host_approval_shown_declined_or_not_sent_is_lost() {
        for state in ["declined", "not_sent"] {
            let (mut export, ledger) = good();
            set(&mut export, "000002", "state", json!(state));
            let v = check_promises(&export, &ledger);
            assert_eq!(v.len(), 1, "{state}: {v:?}");
            assert_eq!(
                violations_mentioning(&v, "approved transaction lost"),
                1,
                "{state}: {v:?}"
            );
        }
    }

    #[test]
    fn a_held_approval_shown_reversed_is_a_violation() {
        let (mut export, ledger) = good();
        set(&mut export, "000005", "state", json!("reversed"));
        set(&mut export, "000005", "reversal", rev("done"));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(violations_mentioning(&v, "still holds"), 1, "{v:?}");
    }

    #[test]
    fn kind_or_amount_disagreeing_with_the_host_is_a_violation() {
        let (mut export, ledger) = good();
        set(&mut export, "000002", "amount_minor", json!(1101));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        let (mut export, ledger) = good();
        set(&mut export, "000004", "kind", json!("completion_void"));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
    }

    #[test]
    fn an_approval_the_host_never_made_is_a_phantom() {
        for state in ["approved", "completed", "voided"] {
            let (mut export, ledger) = good();
            set(&mut export, "000008", "state", json!(state));
            let v = check_promises(&export, &ledger);
            assert_eq!(v.len(), 1, "{state}: {v:?}");
            assert_eq!(
                violations_mentioning(&v, "phantom approval"),
                1,
                "{state}: {v:?}"
            );
        }
    }

    #[test]
    fn an_approval_the_host_reversed_is_a_phantom() {
        let (mut export, ledger) = good();
        set(&mut export, "000006", "state", json!("approved"));
        set(&mut export, "000006", "reversal", Value::Null);
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(violations_mentioning(&v, "host reversed it"), 1, "{v:?}");
    }

    #[test]
    fn an_offline_advice_needs_no_host_approval_but_an_online_completion_does() {
        let (mut export, ledger) = good();
        set(&mut export, "000009", "kind", json!("completion"));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(violations_mentioning(&v, "phantom approval"), 1, "{v:?}");
    }

    #[test]
    fn an_unknown_without_an_open_or_done_reversal_is_left_hanging() {
        for reversal in [Value::Null, rev("armed"), rev("disarmed")] {
            let (mut export, ledger) = good();
            set(&mut export, "000005", "reversal", reversal.clone());
            let v = check_promises(&export, &ledger);
            // hanging, and the host's approval is no longer accounted for either
            assert_eq!(
                violations_mentioning(&v, "left hanging"),
                1,
                "{reversal}: {v:?}"
            );
            assert_eq!(
                violations_mentioning(&v, "approved transaction lost"),
                1,
                "{reversal}: {v:?}"
            );
            assert_eq!(v.len(), 2, "{reversal}: {v:?}");
        }
        // an unknown the host never saw (no ledger entry) needs its reversal too
        let (mut export, ledger) = good();
        set(&mut export, "000010", "state", json!("unknown"));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(violations_mentioning(&v, "left hanging"), 1, "{v:?}");
    }

    #[test]
    fn a_reversed_without_a_done_reversal_or_a_sending_is_a_violation() {
        let (mut export, ledger) = good();
        set(&mut export, "000007", "reversal", rev("pending"));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        let (mut export, ledger) = good();
        set(&mut export, "000010", "state", json!("sending"));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(violations_mentioning(&v, "after recovery"), 1, "{v:?}");
    }

    #[test]
    fn duplicates_are_violations() {
        let (mut export, ledger) = good();
        set(&mut export, "000010", "request_id", json!("req-000008"));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            violations_mentioning(&v, "request id req-000008"),
            1,
            "{v:?}"
        );

        let (mut export, ledger) = good();
        set(&mut export, "000010", "trace", json!("000008"));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(violations_mentioning(&v, "in the export twice"), 1, "{v:?}");

        let (export, mut ledger) = good();
        ledger.push(entry(Approved, "preauth", "000001", 1000));
        let v = check_promises(&export, &ledger);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(violations_mentioning(&v, "2 times"), 1, "{v:?}");
    }

    #[test]
    fn a_malformed_export_is_reported() {
        assert_eq!(check_promises(&json!({"not": "an array"}), &[]).len(), 1);
        assert_eq!(check_promises(&json!([{"trace": "000001"}]), &[]).len(), 1);
        assert_eq!(check_slips(&json!("text"), &["merchant"], false).len(), 1);
    }

    #[test]
    fn an_original_cut_off_by_a_restart_counts_as_the_copy_but_a_bare_reprint_does_not() {
        let (mut export, _) = good();
        set(
            &mut export,
            "000002",
            "print_jobs",
            json!([
                {"copy": "merchant", "kind": "reprint", "state": "printed", "last_error": "printing was cut off by a restart; it may have printed"},
                {"copy": "cardholder", "kind": "original", "state": "printed", "last_error": null}
            ]),
        );
        assert!(check_slips(&export, &["merchant", "cardholder"], true).is_empty());
        set(
            &mut export,
            "000002",
            "print_jobs",
            json!([
                {"copy": "merchant", "kind": "reprint", "state": "printed", "last_error": null},
                {"copy": "cardholder", "kind": "original", "state": "printed", "last_error": null}
            ]),
        );
        let v = check_slips(&export, &["merchant", "cardholder"], true);
        assert_eq!(
            violations_mentioning(&v, "no original merchant copy"),
            1,
            "{v:?}"
        );
    }

    #[test]
    fn slips_missing_or_unprinted_are_violations() {
        let (mut export, _) = good();
        set(
            &mut export,
            "000002",
            "print_jobs",
            json!([{"copy": "merchant", "kind": "original", "state": "printed"}]),
        );
        let v = check_slips(&export, &["merchant", "cardholder"], true);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            violations_mentioning(&v, "no original cardholder copy"),
            1,
            "{v:?}"
        );

        let (mut export, _) = good();
        set(
            &mut export,
            "000003",
            "print_jobs",
            json!([
                {"copy": "merchant", "kind": "original", "state": "queued"},
                {"copy": "cardholder", "kind": "reprint", "state": "printed"},
            ]),
        );
        let v = check_slips(&export, &["merchant", "cardholder"], true);
        assert_eq!(v.len(), 2, "{v:?}");
        let v = check_slips(&export, &["merchant", "cardholder"], false);
        assert_eq!(v.len(), 1, "{v:?}");
    }

    #[test]
    fn ledger_lines_parse_and_torn_ones_are_set_apart() {
        let text = concat!(
            r#"{"amount_minor":100,"batch":"000001","event":"approved","kind":"preauth","trace":"000001"}"#,
            "\n\n",
            r#"{"amount_minor":100,"batch":"000001","event":"reversed","kind":"preauth","trace":"000001"}"#,
            "\n",
            r#"{"amount_minor":2"#,
            "\n",
        );
        let ledger = parse_ledger(text);
        assert_eq!(
            ledger.entries,
            vec![
                entry(Approved, "preauth", "000001", 100),
                entry(Reversed, "preauth", "000001", 100)
            ]
        );
        assert_eq!(ledger.torn, vec![r#"{"amount_minor":2"#.to_string()]);
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"6222021234567890128"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(!luhn_valid(b"6212261202011584349"));
        assert!(!luhn_valid(b""));
        assert!(!luhn_valid(b"41111a1111111111"));
    }

    #[test]
    fn print_queue_rules_each_fail_on_an_export_that_breaks_them() {
        let job = |copy: &str, kind: &str, state: &str, extra: Value| {
            let mut j = serde_json::json!({"copy": copy, "kind": kind, "state": state, "attempts": 1, "last_error": null,
                "printed_at": null, "held_reason": null, "delivered": null});
            for (k, v) in extra.as_object().unwrap() {
                j[k] = v.clone();
            }
            j
        };
        let printed = |copy: &str, kind: &str, at: &str| {
            job(
                copy,
                kind,
                "printed",
                serde_json::json!({"printed_at": at, "delivered": "paper"}),
            )
        };
        let txn = |jobs: Vec<Value>| {
            serde_json::json!([{"trace": "000001", "batch": "000001", "kind": "preauth", "state": "approved",
            "request_id": "r1", "amount_minor": 100, "reversal": null, "print_jobs": jobs}])
        };
        let copies = ["merchant", "cardholder"];
        let good = txn(vec![
            job(
                "merchant",
                "reprint",
                "printed",
                serde_json::json!({"printed_at": "2026-01-01T00:00:01.000Z", "delivered": "paper", "last_error": "cut off by a restart"}),
            ),
            printed("cardholder", "original", "2026-01-01T00:00:02.000Z"),
        ]);
        assert_eq!(
            check_print_queue(&good, &copies, true),
            Vec::<String>::new()
        );
        let waiting = txn(vec![
            job(
                "merchant",
                "original",
                "held",
                serde_json::json!({"held_reason": "paper_out"}),
            ),
            job("cardholder", "original", "queued", serde_json::json!({})),
        ]);
        assert_eq!(
            check_print_queue(&waiting, &copies, false),
            Vec::<String>::new()
        );
        assert_eq!(
            check_print_queue(&waiting, &copies, true).len(),
            2,
            "nothing may be left waiting when finished"
        );

        let cases = [
            (
                txn(vec![printed(
                    "merchant",
                    "original",
                    "2026-01-01T00:00:01.000Z",
                )]),
                "slip dropped",
            ),
            (
                txn(vec![
                    job("merchant", "original", "sending", serde_json::json!({})),
                    job("cardholder", "original", "queued", serde_json::json!({})),
                ]),
                "after recovery",
            ),
            (
                txn(vec![
                    job("merchant", "original", "printed", serde_json::json!({})),
                    job("cardholder", "original", "queued", serde_json::json!({})),
                ]),
                "printed_at",
            ),
            (
                txn(vec![
                    job("merchant", "original", "held", serde_json::json!({})),
                    job("cardholder", "original", "queued", serde_json::json!({})),
                ]),
                "held for no reason",
            ),
            (
                txn(vec![
                    printed("merchant", "reprint", "2026-01-01T00:00:01.000Z"),
                    printed("cardholder", "original", "2026-01-01T00:00:02.000Z"),
                ]),
                "no failure explains it",
            ),
            (
                txn(vec![
                    printed("merchant", "original", "2026-01-01T00:00:03.000Z"),
                    printed("cardholder", "original", "2026-01-01T00:00:02.000Z"),
                ]),
                "before the merchant copy",
            ),
            (
                txn(vec![
                    job("merchant", "original", "queued", serde_json::json!({})),
                    printed("cardholder", "original", "2026-01-01T00:00:02.000Z"),
                ]),
                "while the merchant copy",
            ),
        ];
        for (export, expected) in cases {
            let v = check_print_queue(&export, &copies, false);
            assert!(
                v.iter().any(|m| m.contains(expected)),
                "expected {expected:?} in {v:?}"
            );
        }
    }

    #[test]
    fn pans_are_found_and_masked_pans_and_other_numbers_are_not() {
        let known = ["6222021234567890128", "4111111111111111"];
        let clean =
            b"masked 622202*********0128 411111******1111 rrn 000000000012 ts 1764130310072 \
            hash d7dcec43b5a8680eb703624124b51d900001500000000001500 \
            trace 000001 n 00000100000000000105";
        assert_eq!(scan_for_pans(clean, &known), Vec::<String>::new());

        let v = scan_for_pans(b"x 6222021234567890128 y", &known);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].contains("known card number 6222021234567890128"),
            "{v:?}"
        );

        // a known PAN glued to other text is still found
        assert_eq!(scan_for_pans(b"pan4111111111111111end", &known).len(), 1);

        // packed BCD, as in an ISO 8583 field 2
        let mut packed = b"\x00\x10".to_vec();
        packed.extend([0x41, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11]);
        let v = scan_for_pans(&packed, &known);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("BCD"), "{v:?}");

        // a card number the test never used, found by its Luhn check
        let v = scan_for_pans(b"{\"pan\":\"5555555555554444\"}", &known);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].contains("Luhn-valid card number 5555555555554444"),
            "{v:?}"
        );
        // the same digits failing the Luhn check are not a card number
        assert_eq!(
            scan_for_pans(b"\"5555555555554445\"", &known),
            Vec::<String>::new()
        );
    }

    #[test]
    fn after_the_drain_an_open_reversal_or_an_unknown_is_a_violation() {
        let (export, _) = good();
        // `good` has an unknown with its reversal pending and one failed: both still open.
        let v = check_resolved(&export);
        assert_eq!(violations_mentioning(&v, "never resolved"), 2, "{v:?}");
        assert_eq!(violations_mentioning(&v, "reversal left open"), 2, "{v:?}");
        let resolved = json!([
            txn("000001", "preauth", "approved", 1000, rev("disarmed")),
            txn("000002", "preauth", "reversed", 1100, rev("done")),
            txn("000003", "preauth", "not_sent", 1200, rev("cancelled")),
            txn("000004", "preauth", "declined", 1205, Value::Null),
        ]);
        assert_eq!(check_resolved(&resolved), Vec::<String>::new());
        let mut armed = resolved.clone();
        set(&mut armed, "000001", "reversal", rev("armed"));
        set(&mut armed, "000003", "reversal", rev("done"));
        let v = check_resolved(&armed);
        assert_eq!(violations_mentioning(&v, "reversal left open"), 1, "{v:?}");
        assert_eq!(violations_mentioning(&v, "not reversed"), 1, "{v:?}");
    }

    #[test]
    fn a_second_original_or_an_unasked_second_job_is_a_violation() {
        let mut export = json!([txn("000001", "preauth", "approved", 1000, Value::Null)]);
        assert_eq!(
            check_originals_once(&export, &["merchant", "cardholder"], true),
            Vec::<String>::new()
        );
        let cut_off = json!([
            {"copy": "merchant", "kind": "reprint", "state": "printed", "attempts": 2, "last_error": "cut off by a restart"},
            {"copy": "cardholder", "kind": "original", "state": "printed", "attempts": 1, "last_error": null},
        ]);
        set(&mut export, "000001", "print_jobs", cut_off);
        assert_eq!(
            check_originals_once(&export, &["merchant", "cardholder"], true),
            Vec::<String>::new()
        );
        let twice = json!([
            {"copy": "merchant", "kind": "original", "state": "printed", "attempts": 1, "last_error": null},
            {"copy": "merchant", "kind": "original", "state": "printed", "attempts": 1, "last_error": null},
            {"copy": "cardholder", "kind": "original", "state": "printed", "attempts": 1, "last_error": null},
            {"copy": "cardholder", "kind": "reprint", "state": "printed", "attempts": 1, "last_error": null},
        ]);
        set(&mut export, "000001", "print_jobs", twice);
        let v = check_originals_once(&export, &["merchant", "cardholder"], false);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("original printed more than once"), "{v:?}");
        let v = check_originals_once(&export, &["merchant", "cardholder"], true);
        assert_eq!(
            violations_mentioning(&v, "nobody asked for a reprint"),
            2,
            "{v:?}"
        );
    }

    #[test]
    fn two_standing_follow_ups_of_one_original_are_a_double_authorization() {
        let follow = |trace: &str, kind: &str, state: &str, original: &str| {
            let mut t = txn(trace, kind, state, 1000, Value::Null);
            t["original_trace"] = json!(original);
            t
        };
        let good = json!([
            txn("000001", "preauth", "completed", 1000, Value::Null),
            follow("000002", "completion", "reversed", "000001"),
            follow("000003", "completion", "approved", "000001"),
            txn("000004", "preauth", "voided", 1000, Value::Null),
            follow("000005", "preauth_void", "approved", "000004"),
        ]);
        assert_eq!(check_no_double_authorization(&good), Vec::<String>::new());
        let mut twice = good.clone();
        set(&mut twice, "000002", "state", json!("approved"));
        let v = check_no_double_authorization(&twice);
        assert_eq!(
            violations_mentioning(&v, "double authorization"),
            1,
            "{v:?}"
        );
        let mut both = good.clone();
        set(&mut both, "000005", "original_trace", json!("000001"));
        let v = check_no_double_authorization(&both);
        assert_eq!(
            violations_mentioning(&v, "both completed and voided"),
            1,
            "{v:?}"
        );
        assert_eq!(violations_mentioning(&v, "expected voided"), 1, "{v:?}");
        let mut not_completed = good.clone();
        set(&mut not_completed, "000001", "state", json!("approved"));
        let v = check_no_double_authorization(&not_completed);
        assert_eq!(violations_mentioning(&v, "expected completed"), 1, "{v:?}");
    }
}
