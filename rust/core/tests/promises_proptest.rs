//! The promise (DESIGN.md) checked after every step of random runs: commands, host answers,
//! timeouts, link failures, printer results, time passing, and crashes (the engine dropped
//! and the same journal reopened).
//!
//! A model follows what the host approved and what the engine said, and after each step
//! the journal is read back through the public API:
//! - promise 1: whatever was approved (by the host with a trusted answer, or reported
//!   approved by the engine) is in the journal as approved, completed or voided;
//! - promise 2 (its durable half): every approved transaction holds one original slip job
//!   per configured copy;
//! - promise 3: every `unknown` transaction has a pending or failed reversal; a reversal row
//!   never disappears; a financial request never goes while a reversal is pending;
//! - promise 4: (batch, trace) is unique, a request id is one transaction, and no
//!   transaction is sent to the host twice;
//! - promise 6: the journal files never hold a test PAN in full.
//!
//! Runs 64 cases by default; set `PROPTEST_CASES` for more.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use poscore::card::{CardInput, PanHashKey};
use poscore::host::{ExchangeId, HostReply, HostRequest};
use poscore::ids::{RequestId, TraceNumber};
use poscore::money::{Currency, Money};
use poscore::print::{Condition, PrintOutcome};
use poscore::record::TxnRecord;
use poscore::txn::{PrintJobState, PrintKind, ReversalState, SlipCopy, TxnKind, TxnState};
use poscore::{Command, CommandOutcome, Config, Engine, Event, Input, Output, Ticket, Timestamp};
use proptest::prelude::*;

/// Luhn-valid test cards of three lengths.
const PANS: [&str; 3] = [
    "6222021234567890128",
    "4111111111111111",
    "6250941006528599",
];
const AMOUNTS: [u64; 4] = [1, 10_000, 12_345, 250_050];
const PERCENTS: [u64; 5] = [1, 50, 100, 115, 116];
const ADVANCES_MS: [i64; 7] = [0, 1_000, 2_000, 8_000, 65_000, 3_600_000, 16 * 86_400_000];

fn start_time() -> Timestamp {
    Timestamp::from_civil(2026, 11, 26, 9, 0, 0)
}

fn key() -> PanHashKey {
    PanHashKey::new(vec![42; 32]).expect("a 32-byte key")
}

// ---------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------

/// One thing that happens to the terminal.
#[derive(Debug, Clone)]
enum Step {
    /// A pre-auth; `reuse` takes an earlier request id (maybe for other parameters).
    PreAuth {
        pan: usize,
        amount: usize,
        reuse: Option<usize>,
    },
    /// An online (or offline) completion of a random earlier trace.
    Complete {
        target: usize,
        percent: usize,
        offline: bool,
        reuse: Option<usize>,
    },
    /// A pre-auth void of a random earlier trace.
    Void {
        target: usize,
        reuse: Option<usize>,
    },
    /// A completion void of a random earlier trace.
    CompleteVoid {
        target: usize,
        reuse: Option<usize>,
    },
    /// An earlier command again, exactly (a double tap or a driver's retry).
    Repeat {
        index: usize,
    },
    Settle,
    RetryReversal {
        target: usize,
    },
    SignOn,
    /// The host approves whatever is in flight.
    Approve,
    /// The host answers with this code (51 declines; 12 and 25 finish a reversal; 96 refuses).
    Code(&'static str),
    /// The answer's MAC is wrong.
    BadMac,
    /// The host approves, and reports a settlement in flight unbalanced (批上送 follows).
    Unbalanced,
    Timeout,
    LinkFailed,
    PrintOk,
    /// The slip at the printer fails: 0 paper out (held), 1 busy (retried), 2 no
    /// confirmation (it may have printed).
    PrintFault(usize),
    /// The printer reports it is ready again (paper loaded).
    PrinterReady,
    /// Time passes by `ADVANCES_MS[i]`.
    Tick(usize),
    /// The app dies; the journal is reopened.
    Crash,
}

fn reuse() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![4 => Just(None), 1 => any::<usize>().prop_map(Some)]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..PANS.len(), 0..AMOUNTS.len(), reuse()).prop_map(|(pan, amount, reuse)| Step::PreAuth { pan, amount, reuse }),
        4 => (any::<usize>(), 0..PERCENTS.len(), any::<bool>(), reuse())
            .prop_map(|(target, percent, offline, reuse)| Step::Complete { target, percent, offline, reuse }),
        2 => (any::<usize>(), reuse()).prop_map(|(target, reuse)| Step::Void { target, reuse }),
        2 => (any::<usize>(), reuse()).prop_map(|(target, reuse)| Step::CompleteVoid { target, reuse }),
        2 => any::<usize>().prop_map(|index| Step::Repeat { index }),
        2 => Just(Step::Settle),
        1 => any::<usize>().prop_map(|target| Step::RetryReversal { target }),
        1 => Just(Step::SignOn),
        16 => Just(Step::Approve),
        2 => Just(Step::Code("51")),
        1 => Just(Step::Code("12")),
        1 => Just(Step::Code("25")),
        1 => Just(Step::Code("96")),
        2 => Just(Step::BadMac),
        4 => Just(Step::Unbalanced),
        3 => Just(Step::Timeout),
        1 => Just(Step::LinkFailed),
        6 => Just(Step::PrintOk),
        2 => (0..3usize).prop_map(Step::PrintFault),
        1 => Just(Step::PrinterReady),
        4 => (0..ADVANCES_MS.len()).prop_map(Step::Tick),
        1 => Just(Step::Crash),
    ]
}

// ---------------------------------------------------------------------------------------
// The world: the engine, the clock, the link and printer, and the model
// ---------------------------------------------------------------------------------------

/// What the exchange in flight is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    SignOn,
    Financial { txn_id: i64 },
    Reversal { txn_id: i64 },
    Advice { txn_id: i64 },
    Settlement,
    BatchUpload,
}

struct World {
    _dir: tempfile::TempDir,
    path: PathBuf,
    config: Config,
    engine: Option<Engine>,
    now: Timestamp,
    next_ticket: u64,
    next_request: u32,
    replies: u64,
    in_flight: Option<(ExchangeId, Sent)>,
    printing: Option<i64>,
    /// The report (settlement slip) at the printer, if any.
    report: Option<u64>,
    /// Every command submitted, for repeats.
    submitted: Vec<(RequestId, Command)>,
    /// Every request id used, accepted or not.
    request_ids: Vec<RequestId>,
    // The model.
    /// Transactions the host approved with a trusted answer.
    host_approved: HashSet<i64>,
    /// Transactions the engine reported approved (Done or Event).
    reported_approved: HashSet<i64>,
    /// Transactions that have had a reversal row.
    with_reversal: HashSet<i64>,
    /// The transaction each request id belongs to.
    owner: HashMap<String, i64>,
    /// Financial sends per transaction.
    financial_sends: HashMap<i64, u32>,
    /// Transactions whose send failed on the link (so nothing reached the host).
    link_failed: HashSet<i64>,
    /// Print jobs the printer confirmed.
    confirmed: HashSet<i64>,
    /// Print jobs an attempt of which may have printed (no confirmation, or a crash while at
    /// the printer): they must never print again as an original.
    uncertain: HashSet<i64>,
    /// Advices whose send may have reached the host (answered, timed out or cut off).
    advice_maybe_delivered: HashSet<i64>,
    scanner: PanScanner,
}

/// Searches the journal files for the test PANs. A file is read whole after every step, but
/// only the pages that changed since the last look are searched (with an overlap, so a PAN
/// across a page boundary is found too): comparing pages is fast, searching is not.
#[derive(Default)]
struct PanScanner {
    seen: HashMap<PathBuf, Vec<u8>>,
}

impl PanScanner {
    const PAGE: usize = 4096;
    const OVERLAP: usize = 32;

    fn scan(&mut self, file: &PathBuf) {
        let Ok(bytes) = std::fs::read(file) else {
            self.seen.remove(file);
            return;
        };
        let old = self.seen.get(file);
        for start in (0..bytes.len()).step_by(Self::PAGE) {
            let end = (start + Self::PAGE).min(bytes.len());
            if old.is_some_and(|old| old.len() >= end && old[start..end] == bytes[start..end]) {
                continue;
            }
            let window =
                &bytes[start.saturating_sub(Self::OVERLAP)..(end + Self::OVERLAP).min(bytes.len())];
            for pan in PANS {
                let found = window.windows(pan.len()).any(|w| w == pan.as_bytes());
                assert!(
                    !found,
                    "the full PAN {pan} is in {} near byte {start}",
                    file.display()
                );
            }
        }
        self.seen.insert(file.clone(), bytes);
    }
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.db");
        let config = Config::default();
        let now = start_time();
        let (engine, _) =
            Engine::open(&path, config.clone(), key(), now).expect("the engine opens");
        World {
            _dir: dir,
            path,
            config,
            engine: Some(engine),
            now,
            next_ticket: 1,
            next_request: 1,
            replies: 0,
            in_flight: None,
            printing: None,
            report: None,
            submitted: Vec::new(),
            request_ids: Vec::new(),
            host_approved: HashSet::new(),
            reported_approved: HashSet::new(),
            with_reversal: HashSet::new(),
            owner: HashMap::new(),
            financial_sends: HashMap::new(),
            link_failed: HashSet::new(),
            confirmed: HashSet::new(),
            uncertain: HashSet::new(),
            advice_maybe_delivered: HashSet::new(),
            scanner: PanScanner::default(),
        }
    }

    fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("the engine is open")
    }

    fn all_txns(&self) -> Vec<TxnRecord> {
        let mut all = Vec::new();
        self.engine()
            .journal()
            .for_each(|r| {
                all.push(r);
                Ok(())
            })
            .expect("the journal reads");
        all
    }

    fn by_trace(&self, trace: TraceNumber) -> TxnRecord {
        self.engine()
            .journal()
            .find_by_trace(trace)
            .expect("the journal reads")
            .unwrap_or_else(|| panic!("no transaction {trace}"))
    }

    /// A trace picked from the journal: mostly an approved transaction of one of the
    /// `likely` kinds, sometimes any transaction, now and then one that does not exist.
    fn pick_trace(&self, pick: usize, likely: &[TxnKind]) -> TraceNumber {
        let all = self.all_txns();
        let fitting: Vec<&TxnRecord> = all
            .iter()
            .filter(|t| t.state == TxnState::Approved && likely.contains(&t.kind))
            .collect();
        match pick % 8 {
            0 => TraceNumber::new(999_999).expect("valid"),
            1 | 2 if !all.is_empty() => all[pick / 8 % all.len()].trace,
            _ if !fitting.is_empty() => fitting[pick / 8 % fitting.len()].trace,
            _ if !all.is_empty() => all[pick / 8 % all.len()].trace,
            _ => TraceNumber::new(999_999).expect("valid"),
        }
    }

    fn request_id(&mut self, reuse: Option<usize>) -> RequestId {
        match reuse {
            Some(i) if !self.request_ids.is_empty() => {
                self.request_ids[i % self.request_ids.len()].clone()
            }
            _ => {
                let id = RequestId::parse(&format!("req-{}", self.next_request)).expect("valid");
                self.next_request += 1;
                id
            }
        }
    }

    fn submit(&mut self, request_id: RequestId, command: Command) {
        self.submitted.push((request_id.clone(), command.clone()));
        if !self.request_ids.contains(&request_id) {
            self.request_ids.push(request_id.clone());
        }
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        self.handle(Input::Command {
            ticket,
            request_id,
            command,
        });
    }

    fn reply(&mut self, reply: HostReply) {
        let Some((exchange, sent)) = self.in_flight.take() else {
            return;
        };
        self.note_maybe_delivered(sent);
        if let Sent::Financial { txn_id } = sent {
            if reply.mac_valid && reply.response_code.is_approved() {
                self.host_approved.insert(txn_id);
            }
        }
        self.handle(Input::HostReply { exchange, reply });
    }

    fn approve(&mut self) {
        self.replies += 1;
        let n = self.replies;
        self.reply(HostReply::approved(
            &format!("{:06}", n % 1_000_000),
            &format!("{:012}", 700_000_000_000 + n),
        ));
    }

    fn step(&mut self, step: &Step) {
        match *step {
            Step::PreAuth { pan, amount, reuse } => {
                let request_id = self.request_id(reuse);
                let card =
                    CardInput::parse(PANS[pan], "4912", self.now).expect("a valid test card");
                let amount =
                    Money::from_minor(AMOUNTS[amount], Currency::CNY).expect("a valid amount");
                self.submit(request_id, Command::PreAuth { amount, card });
            }
            Step::Complete {
                target,
                percent,
                offline,
                reuse,
            } => {
                let original_trace = self.pick_trace(target, &[TxnKind::PreAuth]);
                let base = self
                    .engine()
                    .journal()
                    .find_by_trace(original_trace)
                    .expect("reads")
                    .map_or(10_000, |t| t.amount.minor_units());
                let amount =
                    Money::from_minor((base * PERCENTS[percent] / 100).max(1), Currency::CNY)
                        .expect("a valid amount");
                let request_id = self.request_id(reuse);
                let command = if offline {
                    Command::CompleteOffline {
                        original_trace,
                        amount,
                    }
                } else {
                    Command::Complete {
                        original_trace,
                        amount,
                    }
                };
                self.submit(request_id, command);
            }
            Step::Void { target, reuse } => {
                let original_trace = self.pick_trace(target, &[TxnKind::PreAuth]);
                let request_id = self.request_id(reuse);
                self.submit(request_id, Command::Void { original_trace });
            }
            Step::CompleteVoid { target, reuse } => {
                let original_trace = self.pick_trace(
                    target,
                    &[TxnKind::CompletionRequest, TxnKind::CompletionAdvice],
                );
                let request_id = self.request_id(reuse);
                self.submit(request_id, Command::CompleteVoid { original_trace });
            }
            Step::Repeat { index } => {
                if !self.submitted.is_empty() {
                    let (request_id, command) =
                        self.submitted[index % self.submitted.len()].clone();
                    self.submit(request_id, command);
                }
            }
            Step::Settle => {
                let request_id = self.request_id(None);
                self.submit(request_id, Command::Settle);
            }
            Step::RetryReversal { target } => {
                let trace = self.pick_trace(target, &[]);
                let request_id = self.request_id(None);
                self.submit(request_id, Command::RetryReversal { trace });
            }
            Step::SignOn => {
                let request_id = self.request_id(None);
                self.submit(request_id, Command::SignOn);
            }
            Step::Approve => self.approve(),
            Step::Code(code) => self.reply(HostReply::with_code(code)),
            Step::BadMac => self.reply(HostReply {
                mac_valid: false,
                ..HostReply::approved("666666", "000000006666")
            }),
            Step::Unbalanced => {
                if self
                    .in_flight
                    .is_some_and(|(_, sent)| sent == Sent::Settlement)
                {
                    self.reply(HostReply {
                        settlement_balanced: Some(false),
                        ..HostReply::with_code("00")
                    });
                } else {
                    self.approve();
                }
            }
            Step::Timeout => {
                if let Some((exchange, sent)) = self.in_flight.take() {
                    self.note_maybe_delivered(sent);
                    self.handle(Input::HostTimeout { exchange });
                }
            }
            Step::LinkFailed => {
                if let Some((exchange, sent)) = self.in_flight.take() {
                    if let Sent::Financial { txn_id } = sent {
                        self.link_failed.insert(txn_id);
                    }
                    self.handle(Input::LinkFailed {
                        exchange,
                        why: "no network".into(),
                    });
                }
            }
            Step::PrintOk => {
                if let Some(job_id) = self.printing.take() {
                    self.confirmed.insert(job_id);
                    self.handle(Input::PrintResult {
                        job_id,
                        outcome: PrintOutcome::Printed { length_mm: 90 },
                    });
                } else if let Some(report_id) = self.report.take() {
                    self.handle(Input::ReportResult {
                        report_id,
                        outcome: PrintOutcome::Printed { length_mm: 120 },
                    });
                }
            }
            Step::PrintFault(kind) => {
                let (condition, may_have_printed) = [
                    (Condition::PaperOut, false),
                    (Condition::Busy, false),
                    (Condition::CommunicationError, true),
                ][kind];
                let outcome = PrintOutcome::Failed {
                    condition,
                    detail: condition.code().into(),
                    may_have_printed,
                };
                if let Some(job_id) = self.printing.take() {
                    if may_have_printed {
                        self.uncertain.insert(job_id);
                    }
                    self.handle(Input::PrintResult { job_id, outcome });
                } else if let Some(report_id) = self.report.take() {
                    self.handle(Input::ReportResult { report_id, outcome });
                }
            }
            Step::PrinterReady => self.handle(Input::PrinterReady),
            Step::Tick(i) => {
                self.now = self.now.plus_millis(ADVANCES_MS[i]);
                self.handle(Input::Tick);
            }
            Step::Crash => self.crash(),
        }
    }

    /// Drops the engine as a crash would, reopens the same journal and ticks, as a driver does.
    fn crash(&mut self) {
        if let Some((_, sent)) = self.in_flight {
            self.note_maybe_delivered(sent);
        }
        self.engine = None;
        self.in_flight = None;
        self.report = None;
        if let Some(job_id) = self.printing.take() {
            self.uncertain.insert(job_id);
        }
        let (engine, _) = Engine::open(&self.path, self.config.clone(), key(), self.now)
            .expect("the engine reopens");
        self.engine = Some(engine);
        self.handle(Input::Tick);
    }

    /// Hands one input to the engine and checks what comes out against the journal.
    fn handle(&mut self, input: Input) {
        let now = self.now;
        let outputs = self
            .engine
            .as_mut()
            .expect("the engine is open")
            .handle(now, input)
            .expect("the journal works");
        for output in outputs {
            match output {
                Output::Send { exchange, request } => {
                    assert!(
                        self.in_flight.is_none(),
                        "{} sent while another exchange is in flight",
                        request.describe()
                    );
                    let sent = self.check_send(&request);
                    self.in_flight = Some((exchange, sent));
                }
                Output::PrintReport(report) => {
                    assert!(
                        self.printing.is_none() && self.report.is_none(),
                        "a report sent while the printer is busy"
                    );
                    self.report = Some(report.report_id);
                }
                Output::Print(job) => {
                    assert!(self.printing.is_none(), "two slips at the printer at once");
                    assert!(
                        self.report.is_none(),
                        "a slip sent while a report is at the printer"
                    );
                    assert_eq!(
                        job.txn
                            .print_jobs
                            .iter()
                            .find(|j| j.id == job.job_id)
                            .map(|j| j.state),
                        Some(PrintJobState::Sending)
                    );
                    // Promise 5: a slip that may have printed never goes out again as an original.
                    if self.uncertain.contains(&job.job_id) {
                        assert_eq!(
                            job.kind,
                            PrintKind::Reprint,
                            "slip {} may have printed but goes again unmarked",
                            job.job_id
                        );
                    }
                    self.printing = Some(job.job_id);
                }
                Output::Done(done) => {
                    if let Ok(CommandOutcome::Transaction(record)) = &done.outcome {
                        assert_eq!(
                            record.request_id, done.request_id,
                            "a Done answers its own request id"
                        );
                        self.note_owner(record);
                        self.note_reported(record);
                    }
                }
                Output::Event(Event::Transaction(record)) => self.note_reported(&record),
                Output::Event(_) => {}
            }
        }
    }

    fn note_maybe_delivered(&mut self, sent: Sent) {
        if let Sent::Advice { txn_id } = sent {
            self.advice_maybe_delivered.insert(txn_id);
        }
    }

    fn note_reported(&mut self, record: &TxnRecord) {
        if matches!(
            record.state,
            TxnState::Approved | TxnState::Completed | TxnState::Voided
        ) {
            self.reported_approved.insert(record.id);
        }
    }

    fn note_owner(&mut self, record: &TxnRecord) {
        let owner = *self
            .owner
            .entry(record.request_id.as_str().to_string())
            .or_insert(record.id);
        assert_eq!(
            owner, record.id,
            "request id {} maps to two transactions",
            record.request_id
        );
    }

    /// Checks a request as it leaves, and says what it is for.
    fn check_send(&mut self, request: &HostRequest) -> Sent {
        match request {
            HostRequest::SignOn { .. } => Sent::SignOn,
            HostRequest::Settlement(_) => Sent::Settlement,
            HostRequest::BatchUpload { batch, record, .. } => {
                let txn = self.by_trace(record.trace);
                assert_eq!(
                    *batch,
                    self.engine().journal().current_batch().expect("reads"),
                    "an upload of another batch"
                );
                assert_eq!(
                    (txn.batch, txn.state, txn.amount),
                    (*batch, TxnState::Approved, record.amount),
                    "only the batch's approved txns are uploaded"
                );
                assert!(
                    matches!(
                        txn.kind,
                        TxnKind::CompletionRequest | TxnKind::CompletionAdvice
                    ),
                    "{} uploaded",
                    txn.kind
                );
                Sent::BatchUpload
            }
            HostRequest::BatchUploadEnd { batch, .. } => {
                assert_eq!(
                    *batch,
                    self.engine().journal().current_batch().expect("reads"),
                    "an upload end of another batch"
                );
                Sent::BatchUpload
            }
            HostRequest::Financial(f) => {
                let txn = self.by_trace(f.trace);
                assert_eq!(
                    (txn.batch, txn.kind, txn.amount),
                    (f.batch, f.kind, f.amount),
                    "the request is the journaled transaction"
                );
                assert_eq!(
                    txn.state,
                    TxnState::Sending,
                    "journaled as sending before the send"
                );
                assert_eq!(
                    txn.reversal.as_ref().map(|r| r.state),
                    Some(ReversalState::Armed),
                    "reversal armed before the send"
                );
                assert_eq!(f.card.is_some(), txn.kind == TxnKind::PreAuth);
                let open_batch = self.engine().journal().current_batch().expect("reads");
                assert_eq!(
                    f.batch, open_batch,
                    "{} goes out in a batch that is not the open one",
                    f.trace
                );
                let count = self.financial_sends.entry(txn.id).or_insert(0);
                *count += 1;
                assert_eq!(
                    *count, 1,
                    "transaction {} sent to the host twice",
                    txn.trace
                );
                assert!(
                    !self.engine().journal().sign_on_required().expect("reads"),
                    "a financial request before the sign-on"
                );
                let pending: Vec<TraceNumber> = self
                    .all_txns()
                    .iter()
                    .filter(|t| {
                        t.reversal
                            .as_ref()
                            .is_some_and(|r| r.state == ReversalState::Pending)
                    })
                    .map(|t| t.trace)
                    .collect();
                assert!(
                    pending.is_empty(),
                    "financial {} sent before the pending reversals of {pending:?}",
                    f.trace
                );
                Sent::Financial { txn_id: txn.id }
            }
            HostRequest::Reversal(r) => {
                let txn = self.by_trace(r.original_trace);
                assert_eq!(
                    txn.state,
                    TxnState::Unknown,
                    "only an uncertain transaction is reversed"
                );
                assert_eq!(
                    txn.reversal.as_ref().map(|r| r.state),
                    Some(ReversalState::Pending)
                );
                assert_ne!(
                    txn.kind,
                    TxnKind::CompletionAdvice,
                    "an advice is never reversed"
                );
                assert_eq!((r.batch, r.amount), (txn.batch, txn.amount));
                Sent::Reversal { txn_id: txn.id }
            }
            HostRequest::Advice(a) => {
                let txn = self.by_trace(a.trace);
                assert_eq!(txn.kind, TxnKind::CompletionAdvice);
                assert!(
                    matches!(txn.state, TxnState::Approved | TxnState::Voided),
                    "advice {} is {}",
                    a.trace,
                    txn.state
                );
                if self.advice_maybe_delivered.contains(&txn.id) {
                    assert!(
                        a.retransmission,
                        "advice {} may have reached the host and goes again unflagged",
                        a.trace
                    );
                }
                Sent::Advice { txn_id: txn.id }
            }
        }
    }

    /// The promise, checked against the journal.
    fn check(&mut self) {
        let all = self.all_txns();
        let by_id: HashMap<i64, &TxnRecord> = all.iter().map(|t| (t.id, t)).collect();
        let approved_states = [TxnState::Approved, TxnState::Completed, TxnState::Voided];

        // Promise 1.
        for id in self.host_approved.iter().chain(&self.reported_approved) {
            let txn = by_id
                .get(id)
                .unwrap_or_else(|| panic!("approved transaction {id} is missing from the journal"));
            assert!(
                approved_states.contains(&txn.state),
                "approved transaction {} is now {}",
                txn.trace,
                txn.state
            );
        }

        let mut keys = HashSet::new();
        let mut request_ids = HashSet::new();
        for txn in &all {
            // Promise 2: an approval's slips are all journaled.
            if approved_states.contains(&txn.state) {
                // The first jobs are one per configured copy (an original, or a reprint once
                // an attempt of it may have printed); later ones are paper copies of
                // electronic receipts.
                let first: Vec<_> = txn
                    .print_jobs
                    .iter()
                    .take(usize::from(self.config.slip_copies))
                    .map(|j| j.copy)
                    .collect();
                assert_eq!(
                    first,
                    SlipCopy::for_count(self.config.slip_copies).to_vec(),
                    "slips of {}: {:?}",
                    txn.trace,
                    txn.print_jobs
                );
                for copy in SlipCopy::for_count(self.config.slip_copies) {
                    let originals = txn
                        .print_jobs
                        .iter()
                        .filter(|j| {
                            j.copy == *copy
                                && j.kind == PrintKind::Original
                                && j.state == PrintJobState::Printed
                        })
                        .count();
                    assert!(
                        originals <= 1,
                        "the {copy} copy of {} printed {originals} times as an original",
                        txn.trace
                    );
                }
            }
            for job in &txn.print_jobs {
                if job.state == PrintJobState::Printed {
                    assert!(
                        self.confirmed.contains(&job.id),
                        "slip {} of {} is printed but the printer never confirmed it",
                        job.id,
                        txn.trace
                    );
                }
                let at_printer = self.printing == Some(job.id);
                assert_eq!(
                    job.state == PrintJobState::Sending,
                    at_printer,
                    "slip {} of {} is {}",
                    job.id,
                    txn.trace,
                    job.state
                );
            }
            // Promise 3.
            let reversal = txn.reversal.as_ref().map(|r| r.state);
            match txn.state {
                TxnState::Unknown => {
                    assert!(
                        matches!(
                            reversal,
                            Some(ReversalState::Pending | ReversalState::Failed)
                        ),
                        "unknown {} has reversal {reversal:?}",
                        txn.trace
                    )
                }
                TxnState::Reversed => assert_eq!(
                    reversal,
                    Some(ReversalState::Done),
                    "reversed {}",
                    txn.trace
                ),
                _ => {}
            }
            if reversal.is_some() {
                self.with_reversal.insert(txn.id);
            }
            if txn.kind == TxnKind::CompletionAdvice {
                assert_eq!(reversal, None, "an advice never has a reversal");
            }
            // Only the exchange in flight is `sending`, with its reversal armed; a request
            // that may have reached the host never becomes `queued` or `not_sent`.
            let in_flight = self
                .in_flight
                .is_some_and(|(_, sent)| sent == Sent::Financial { txn_id: txn.id });
            assert_eq!(
                txn.state == TxnState::Sending,
                in_flight,
                "{} is {} (in flight: {in_flight})",
                txn.trace,
                txn.state
            );
            assert_eq!(
                reversal == Some(ReversalState::Armed),
                in_flight,
                "{} has reversal {reversal:?}",
                txn.trace
            );
            if self.financial_sends.contains_key(&txn.id) && !self.link_failed.contains(&txn.id) {
                assert!(
                    !matches!(txn.state, TxnState::Queued | TxnState::NotSent),
                    "sent {} is now {}",
                    txn.trace,
                    txn.state
                );
            }
            // Promise 4.
            assert!(
                !(txn.settled && matches!(txn.state, TxnState::Queued | TxnState::Sending)),
                "{} was settled before it was sent",
                txn.trace
            );
            assert!(
                keys.insert((txn.batch, txn.trace)),
                "(batch, trace) ({}, {}) twice",
                txn.batch,
                txn.trace
            );
            assert!(
                request_ids.insert(txn.request_id.clone()),
                "request id {} twice",
                txn.request_id
            );
            self.note_owner(txn);
        }
        for id in &self.with_reversal {
            assert!(
                by_id.get(id).is_some_and(|t| t.reversal.is_some()),
                "the reversal of transaction {id} disappeared"
            );
        }
        for id in self.financial_sends.keys() {
            assert!(
                by_id.get(id).is_some_and(|t| t.reversal.is_some()),
                "sent transaction {id} has no reversal row"
            );
        }

        // Promise 6.
        self.check_no_pan_at_rest();
    }

    fn check_no_pan_at_rest(&mut self) {
        for suffix in ["", "-wal", "-journal"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            self.scanner.scan(&PathBuf::from(file));
        }
    }

    /// Lets every piece of work finish: the host approves, the printer prints, time passes.
    fn drain(&mut self) {
        for _ in 0..500 {
            if self.in_flight.is_some() {
                self.approve();
            } else if self.printing.is_some() {
                self.step(&Step::PrintOk);
            } else {
                // The operator loads paper; time passes.
                self.handle(Input::PrinterReady);
                self.now = self.now.plus_millis(120_000);
                self.handle(Input::Tick);
                if self.in_flight.is_none() && self.printing.is_none() {
                    assert!(self.engine().is_idle());
                    return;
                }
            }
            self.check();
        }
        panic!("the engine still had work after 500 answers");
    }

    /// After the drain: nothing is left hanging.
    fn check_settled(&self) {
        for txn in self.all_txns() {
            assert!(
                !matches!(txn.state, TxnState::Queued | TxnState::Sending),
                "{} is still {}",
                txn.trace,
                txn.state
            );
            if let Some(r) = &txn.reversal {
                assert_ne!(
                    r.state,
                    ReversalState::Pending,
                    "the reversal of {} is still pending",
                    txn.trace
                );
                assert_ne!(
                    r.state,
                    ReversalState::Armed,
                    "the reversal of {} is still armed",
                    txn.trace
                );
            }
            assert!(
                txn.print_jobs
                    .iter()
                    .all(|j| matches!(j.state, PrintJobState::Printed | PrintJobState::Delivered)),
                "slips of {} neither printed nor delivered: {:?}",
                txn.trace,
                txn.print_jobs
            );
            if txn.kind == TxnKind::CompletionAdvice {
                let events = self.engine().journal().events_of(txn.id).expect("reads");
                let last = events
                    .iter()
                    .rev()
                    .find(|e| e.entity == "advice")
                    .map(|e| e.to.clone());
                assert_eq!(
                    last.as_deref(),
                    Some("done"),
                    "advice {} was not acknowledged",
                    txn.trace
                );
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_promise_holds_after_every_step(steps in prop::collection::vec(step(), 1..120)) {
        let mut world = World::new();
        world.check();
        for step in &steps {
            world.step(step);
            world.check();
        }
        let mut hist = std::collections::BTreeMap::new();
        for t in world.all_txns() { *hist.entry(format!("{}:{}", t.kind, t.state)).or_insert(0) += 1; if let Some(r) = &t.reversal { *hist.entry(format!("rev:{}", r.state)).or_insert(0) += 1; } }
        eprintln!("STATS steps={} crashes={} host_approved={} {:?}", steps.len(), steps.iter().filter(|s| matches!(s, Step::Crash)).count(), world.host_approved.len(), hist);
        world.crash();
        world.check();
        world.drain();
        world.check_settled();
    }
}
