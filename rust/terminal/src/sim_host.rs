//! An in-process simulated acquirer host.
//!
//! It approves by default. Declines, timeouts, lost replies and bad MACs are triggered by the
//! cents of the amount, or by a script of behaviours for the next financial requests:
//!
//! | amount ends in | behaviour |
//! |---|---|
//! | `.05` | declined, code 05 (do not honour) |
//! | `.51` | declined, code 51 (insufficient funds) |
//! | `.63` | approved, but the answer's MAC is bad |
//! | `.68` | no answer: the host never processed it (timeout) |
//! | `.98` | approved by the host, but the answer is lost on the way back |
//! | anything else | approved |
//!
//! Reversals of a transaction the host approved are answered 00, of one it never saw 25.
//! Sign-ons, advices and settlements are approved. A delay slows every answer (to widen
//! crash windows in tests). An optional ledger file records, fsync'd before the answer
//! leaves, every approval and reversal the host made: a test can compare it with the
//! terminal's journal after killing the terminal.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use poscore::host::{HostReply, HostRequest, ResponseCode};
use poscore::ids::{BatchNumber, TraceNumber};
use serde_json::json;

use crate::link::{HostLink, LinkError};

/// What the simulated host does with one financial request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimBehaviour {
    /// Approve.
    Approve,
    /// Decline with this response code.
    Decline(String),
    /// Never answer, and do not process it (a timeout).
    Timeout,
    /// Approve, then lose the answer (the terminal sees a timeout).
    LostReply,
    /// Approve with a bad MAC on the answer.
    BadMac,
    /// Refuse the connection: nothing is sent.
    LinkDown,
}

impl SimBehaviour {
    /// The behaviour the amount's cents trigger.
    pub fn for_amount(minor_units: u64) -> SimBehaviour {
        match minor_units % 100 {
            5 => SimBehaviour::Decline("05".into()),
            51 => SimBehaviour::Decline("51".into()),
            63 => SimBehaviour::BadMac,
            68 => SimBehaviour::Timeout,
            98 => SimBehaviour::LostReply,
            _ => SimBehaviour::Approve,
        }
    }
}

#[derive(Default)]
struct SimState {
    script: VecDeque<SimBehaviour>,
    /// Financial transactions the host approved and still holds: (batch, trace) → amount.
    approved: HashMap<(BatchNumber, TraceNumber), u64>,
    next_auth: u32,
    next_rrn: u64,
    requests_seen: u64,
    /// Settlements are answered unbalanced (不平) while set.
    settlement_unbalanced: bool,
    /// Batch-upload records and end messages received.
    batch_uploads: u64,
    ledger: Option<File>,
}

/// The simulated acquirer host. See the module documentation.
pub struct SimHost {
    delay: Duration,
    state: Mutex<SimState>,
}

impl std::fmt::Debug for SimHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHost")
            .field("delay", &self.delay)
            .finish()
    }
}

impl Default for SimHost {
    fn default() -> Self {
        SimHost::new()
    }
}

impl SimHost {
    /// A host that answers at once.
    pub fn new() -> SimHost {
        SimHost {
            delay: Duration::ZERO,
            state: Mutex::new(SimState {
                next_auth: 1,
                next_rrn: 1,
                ..SimState::default()
            }),
        }
    }

    /// Answers only after `delay`.
    pub fn with_delay(mut self, delay: Duration) -> SimHost {
        self.delay = delay;
        self
    }

    /// Appends every approval and reversal to a JSON-lines ledger at `path`, fsync'd before
    /// the answer leaves.
    ///
    /// An existing ledger is read first, so a host restarted with the same ledger still knows
    /// what it approved (and answers reversals of those with 00).
    pub fn with_ledger(self, path: &Path) -> std::io::Result<SimHost> {
        let mut state = self.state.lock().expect("sim lock");
        let existing = std::fs::read_to_string(path).ok();
        if let Some(text) = &existing {
            for entry in text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            {
                let field = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or("");
                let (Ok(batch), Ok(trace)) = (
                    BatchNumber::parse(field("batch")),
                    TraceNumber::parse(field("trace")),
                ) else {
                    continue;
                };
                let amount = entry
                    .get("amount_minor")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                match field("event") {
                    "approved" => {
                        state.approved.insert((batch, trace), amount);
                        state.next_auth += 1;
                        state.next_rrn += 1;
                    }
                    "reversed" => {
                        state.approved.remove(&(batch, trace));
                    }
                    _ => {}
                }
            }
        }
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        // A record torn by a kill (it was never answered, so it never counted) must not
        // swallow the next record: start the next one on a line of its own.
        if existing.is_some_and(|text| !text.is_empty() && !text.ends_with('\n')) {
            file.write_all(b"\n")?;
        }
        state.ledger = Some(file);
        drop(state);
        Ok(self)
    }

    /// Queues behaviours for the next financial requests, overriding the amount rules.
    pub fn script(&self, behaviours: impl IntoIterator<Item = SimBehaviour>) {
        self.state
            .lock()
            .expect("sim lock")
            .script
            .extend(behaviours);
    }

    /// How many requests of any kind reached the host.
    pub fn requests_seen(&self) -> u64 {
        self.state.lock().expect("sim lock").requests_seen
    }

    /// Settlements are answered unbalanced (不平) while `unbalanced` is set, so the terminal
    /// runs the batch upload.
    pub fn set_settlement_unbalanced(&self, unbalanced: bool) {
        self.state.lock().expect("sim lock").settlement_unbalanced = unbalanced;
    }

    /// How many batch-upload messages (records and end messages) reached the host.
    pub fn batch_uploads(&self) -> u64 {
        self.state.lock().expect("sim lock").batch_uploads
    }

    /// Whether the host holds an approval for (batch, trace) that was not reversed.
    pub fn holds(&self, batch: BatchNumber, trace: TraceNumber) -> bool {
        self.state
            .lock()
            .expect("sim lock")
            .approved
            .contains_key(&(batch, trace))
    }

    /// Decides and records the answer. `Err` for link-level behaviours.
    fn answer(&self, request: &HostRequest) -> Result<HostReply, LinkError> {
        let mut state = self.state.lock().expect("sim lock");
        match request {
            HostRequest::Financial(r) => {
                let behaviour = state
                    .script
                    .pop_front()
                    .unwrap_or_else(|| SimBehaviour::for_amount(r.amount.minor_units()));
                if behaviour == SimBehaviour::LinkDown {
                    return Err(LinkError::NotSent(
                        "simulated host: connection refused".into(),
                    ));
                }
                state.requests_seen += 1;
                let approve = |state: &mut SimState| {
                    let auth = format!("{:06}", state.next_auth % 1_000_000);
                    let rrn = format!("{:012}", state.next_rrn);
                    state.next_auth += 1;
                    state.next_rrn += 1;
                    state
                        .approved
                        .insert((r.batch, r.trace), r.amount.minor_units());
                    record(
                        state,
                        "approved",
                        r.kind.as_str(),
                        r.batch,
                        r.trace,
                        r.amount.minor_units(),
                    );
                    HostReply::approved(&auth, &rrn)
                };
                match behaviour {
                    SimBehaviour::Approve => Ok(approve(&mut state)),
                    SimBehaviour::Decline(code) => Ok(HostReply::with_code(&code)),
                    SimBehaviour::Timeout => {
                        Err(LinkError::NoAnswer("simulated host: no answer".into()))
                    }
                    SimBehaviour::LostReply => {
                        approve(&mut state);
                        Err(LinkError::NoAnswer(
                            "simulated host: answer lost on the way back".into(),
                        ))
                    }
                    SimBehaviour::BadMac => {
                        let mut reply = approve(&mut state);
                        reply.mac_valid = false;
                        Ok(reply)
                    }
                    SimBehaviour::LinkDown => unreachable!("handled above"),
                }
            }
            HostRequest::Reversal(r) => {
                state.requests_seen += 1;
                let key = (r.batch, r.original_trace);
                match state.approved.remove(&key) {
                    Some(amount) => {
                        record(
                            &mut state,
                            "reversed",
                            r.original_kind.as_str(),
                            r.batch,
                            r.original_trace,
                            amount,
                        );
                        Ok(HostReply::with_code("00"))
                    }
                    None => Ok(HostReply::with_code("25")),
                }
            }
            HostRequest::SignOn { .. } | HostRequest::Advice(_) => {
                state.requests_seen += 1;
                Ok(HostReply {
                    response_code: ResponseCode::approved(),
                    ..HostReply::with_code("00")
                })
            }
            HostRequest::Settlement(_) => {
                state.requests_seen += 1;
                let mut reply = HostReply::with_code("00");
                reply.settlement_balanced = Some(!state.settlement_unbalanced);
                Ok(reply)
            }
            HostRequest::BatchUpload { .. } | HostRequest::BatchUploadEnd { .. } => {
                state.requests_seen += 1;
                state.batch_uploads += 1;
                Ok(HostReply::with_code("00"))
            }
        }
    }
}

/// Appends one line to the ledger and syncs it.
fn record(
    state: &mut SimState,
    event: &str,
    kind: &str,
    batch: BatchNumber,
    trace: TraceNumber,
    amount_minor: u64,
) {
    if let Some(file) = state.ledger.as_mut() {
        let line = json!({"event": event, "kind": kind, "batch": batch.to_string(), "trace": trace.to_string(), "amount_minor": amount_minor});
        // One `write` for the whole record: `writeln!` would issue one per JSON token, and a
        // kill between them would leave a torn record.
        let written = file
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            log::error!("simulated host could not write its ledger: {e}");
        }
    }
}

#[async_trait]
impl HostLink for SimHost {
    async fn exchange(&self, request: &HostRequest) -> Result<HostReply, LinkError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.answer(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_amounts() {
        assert_eq!(SimBehaviour::for_amount(10_000), SimBehaviour::Approve);
        assert_eq!(
            SimBehaviour::for_amount(10_051),
            SimBehaviour::Decline("51".into())
        );
        assert_eq!(
            SimBehaviour::for_amount(10_005),
            SimBehaviour::Decline("05".into())
        );
        assert_eq!(SimBehaviour::for_amount(10_068), SimBehaviour::Timeout);
        assert_eq!(SimBehaviour::for_amount(10_098), SimBehaviour::LostReply);
        assert_eq!(SimBehaviour::for_amount(10_063), SimBehaviour::BadMac);
    }

    #[test]
    fn a_torn_ledger_record_does_not_swallow_the_next() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.jsonl");
        let whole = r#"{"amount_minor":100,"batch":"000001","event":"approved","kind":"preauth","trace":"000001"}"#;
        std::fs::write(&path, format!("{whole}\n{{\"amount_minor\":2")).expect("write ledger");
        let host = SimHost::new().with_ledger(&path).expect("open ledger");
        let (batch, trace) = (
            BatchNumber::parse("000001").expect("batch"),
            TraceNumber::parse("000002").expect("trace"),
        );
        assert!(host.holds(batch, TraceNumber::parse("000001").expect("trace")));
        record(
            &mut host.state.lock().expect("sim lock"),
            "approved",
            "preauth",
            batch,
            trace,
            200,
        );
        let text = std::fs::read_to_string(&path).expect("read ledger");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(text.ends_with('\n'));
        let last: serde_json::Value =
            serde_json::from_str(lines[2]).expect("the new record is a line of its own");
        assert_eq!(last["trace"], "000002");
        let reopened = SimHost::new().with_ledger(&path).expect("reopen ledger");
        assert!(reopened.holds(batch, trace));
    }
}
