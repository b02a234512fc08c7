//! One test per rule of the engine (DESIGN.md's promise, reference/payments.md's reversal
//! rules), through the crate's public API only: commands and host/printer answers go in,
//! outputs and the journal come out.
//!
//! The [`Harness`] owns an engine on a journal in a temporary directory, a clock, and the
//! one exchange and the one print job in flight. It checks on every call that the engine
//! never has two exchanges (or two print jobs) out at once.

use std::path::PathBuf;

use poscore::card::{CardError, CardInput, PanHashKey};
use poscore::host::{ExchangeId, FinancialRequest, HostReply, HostRequest, ReversalRequest};
use poscore::ids::{BatchNumber, RequestId, TraceNumber};
use poscore::journal::{Journal, RecoveryReport};
use poscore::money::{AmountError, Currency, Money};
use poscore::print::{Cause, Condition, PrintOutcome};
use poscore::record::TxnRecord;
use poscore::txn::{
    PrintJobState, PrintKind, ReversalReason, ReversalState, SlipCopy, TxnKind, TxnState,
};
use poscore::{
    Bilingual, Command, CommandDone, CommandError, CommandOutcome, Config, Engine, Event, Input,
    JournalError, Output, PrintJob, ReportJob, Ticket, Timestamp,
};

// ---------------------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------------------

/// A UnionPay test card (Luhn-valid, 19 digits).
const PAN_CUP: &str = "6222021234567890128";
/// A Visa test card (Luhn-valid, 16 digits).
const PAN_VISA: &str = "4111111111111111";

fn start_time() -> Timestamp {
    Timestamp::from_civil(2026, 11, 26, 9, 0, 0)
}

fn key() -> PanHashKey {
    PanHashKey::new(vec![7; 32]).expect("a 32-byte key")
}

fn rid(text: &str) -> RequestId {
    RequestId::parse(text).expect("a valid request id")
}

fn cny(text: &str) -> Money {
    Money::parse(text, Currency::CNY).expect("a valid CNY amount")
}

fn trace(n: u32) -> TraceNumber {
    TraceNumber::new(n).expect("a valid trace")
}

fn card(pan: &str) -> CardInput {
    CardInput::parse(pan, "3012", start_time()).expect("a valid card")
}

fn preauth(amount: &str, pan: &str) -> Command {
    Command::PreAuth {
        amount: cny(amount),
        card: card(pan),
    }
}

/// Appends the Luhn check digit to `body`.
fn with_check_digit(body: &str) -> String {
    let mut sum = 0;
    for (index, byte) in body.bytes().rev().enumerate() {
        let mut d = u32::from(byte - b'0');
        if index % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn approved(n: u64) -> HostReply {
    HostReply::approved(
        &format!("{:06}", 100_000 + n % 900_000),
        &format!("{:012}", 202_611_260_000 + n),
    )
}

fn bad_mac() -> HostReply {
    HostReply {
        mac_valid: false,
        ..HostReply::approved("999999", "000000009999")
    }
}

// ---------------------------------------------------------------------------------------
// Reading outputs
// ---------------------------------------------------------------------------------------

fn sends(outputs: &[Output]) -> Vec<&HostRequest> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { request, .. } => Some(request),
            _ => None,
        })
        .collect()
}

fn financial_sends(outputs: &[Output]) -> Vec<&FinancialRequest> {
    sends(outputs)
        .into_iter()
        .filter_map(|r| match r {
            HostRequest::Financial(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn dones(outputs: &[Output]) -> Vec<&CommandDone> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Done(done) => Some(done),
            _ => None,
        })
        .collect()
}

fn prints(outputs: &[Output]) -> Vec<&PrintJob> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Print(job) => Some(job),
            _ => None,
        })
        .collect()
}

/// The one Done in `outputs`, which must be a refusal.
fn refusal(outputs: &[Output]) -> &CommandError {
    let dones = dones(outputs);
    assert_eq!(
        dones.len(),
        1,
        "expected exactly one Done, got {outputs:#?}"
    );
    match &dones[0].outcome {
        Err(error) => {
            assert!(!error.zh().is_empty() && !error.en().is_empty());
            error
        }
        Ok(outcome) => panic!("expected a refusal, got {outcome:?}"),
    }
}

/// The transaction of the one Done in `outputs`.
fn done_txn(outputs: &[Output]) -> TxnRecord {
    let dones = dones(outputs);
    assert_eq!(
        dones.len(),
        1,
        "expected exactly one Done, got {outputs:#?}"
    );
    match &dones[0].outcome {
        Ok(CommandOutcome::Transaction(record)) => record.clone(),
        other => panic!("expected a transaction, got {other:?}"),
    }
}

fn is_reversal(request: &HostRequest) -> bool {
    matches!(request, HostRequest::Reversal(_))
}

fn the_reversal(request: &HostRequest) -> &ReversalRequest {
    match request {
        HostRequest::Reversal(r) => r,
        other => panic!("expected a reversal, got {}", other.describe()),
    }
}

// ---------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------

/// An engine on a journal in a temporary directory, with a clock and the work in flight.
struct Harness {
    _dir: tempfile::TempDir,
    path: PathBuf,
    config: Config,
    engine: Option<Engine>,
    now: Timestamp,
    next_ticket: u64,
    replies: u64,
    /// The exchange the engine is waiting on, if any.
    in_flight: Option<(ExchangeId, HostRequest)>,
    /// The slip the printer holds, if any.
    printing: Option<PrintJob>,
    /// The report (settlement slip) at the printer.
    report: Option<ReportJob>,
    /// Every request the engine sent, in order.
    sent: Vec<HostRequest>,
}

impl Harness {
    fn new() -> Harness {
        Harness::with_config(Config::default())
    }

    fn with_config(config: Config) -> Harness {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.db");
        let now = start_time();
        let (engine, report) =
            Engine::open(&path, config.clone(), key(), now).expect("the engine opens");
        assert!(
            !report.anything_done(),
            "a fresh journal has nothing to recover: {report}"
        );
        Harness {
            _dir: dir,
            path,
            config,
            engine: Some(engine),
            now,
            next_ticket: 1,
            replies: 0,
            in_flight: None,
            printing: None,
            report: None,
            sent: Vec::new(),
        }
    }

    /// A harness that has signed on (a fresh journal requires it).
    fn signed_on() -> Harness {
        Harness::signed_on_with(Config::default())
    }

    fn signed_on_with(config: Config) -> Harness {
        let mut h = Harness::with_config(config);
        let outputs = h.submit("sign-on", Command::SignOn);
        assert!(matches!(sends(&outputs)[..], [HostRequest::SignOn { .. }]));
        let outputs = h.approve();
        assert!(matches!(
            dones(&outputs)[0].outcome,
            Ok(CommandOutcome::SignedOn)
        ));
        assert!(!h.journal().sign_on_required().unwrap());
        h
    }

    fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("the engine is open")
    }

    fn journal(&self) -> &Journal {
        self.engine().journal()
    }

    /// Hands one input to the engine at the current time and tracks what it sent/printed.
    fn handle(&mut self, input: Input) -> Vec<Output> {
        let now = self.now;
        let outputs = self
            .engine
            .as_mut()
            .expect("the engine is open")
            .handle(now, input)
            .expect("the journal works");
        for output in &outputs {
            match output {
                Output::Send { exchange, request } => {
                    assert!(
                        self.in_flight.is_none(),
                        "{} was sent while {:?} was still in flight",
                        request.describe(),
                        self.in_flight.as_ref().map(|(_, r)| r.describe())
                    );
                    self.in_flight = Some((*exchange, request.clone()));
                    self.sent.push(request.clone());
                }
                Output::Print(job) => {
                    assert!(
                        self.printing.is_none(),
                        "job {} handed to the printer while another one prints",
                        job.job_id
                    );
                    assert!(
                        self.report.is_none(),
                        "job {} handed to the printer while a report prints",
                        job.job_id
                    );
                    self.printing = Some(job.clone());
                }
                Output::PrintReport(report) => {
                    assert!(
                        self.printing.is_none() && self.report.is_none(),
                        "a report handed to a busy printer"
                    );
                    self.report = Some(report.clone());
                }
                Output::Done(_) | Output::Event(_) => {}
            }
        }
        outputs
    }

    fn submit_with(&mut self, ticket: u64, request_id: &str, command: Command) -> Vec<Output> {
        self.handle(Input::Command {
            ticket: Ticket(ticket),
            request_id: rid(request_id),
            command,
        })
    }

    fn submit(&mut self, request_id: &str, command: Command) -> Vec<Output> {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.submit_with(ticket, request_id, command)
    }

    fn take_exchange(&mut self) -> ExchangeId {
        self.in_flight.take().expect("an exchange in flight").0
    }

    fn in_flight_request(&self) -> &HostRequest {
        &self.in_flight.as_ref().expect("an exchange in flight").1
    }

    fn reply(&mut self, reply: HostReply) -> Vec<Output> {
        let exchange = self.take_exchange();
        self.handle(Input::HostReply { exchange, reply })
    }

    /// Approves the exchange in flight with a fresh auth code and RRN.
    fn approve(&mut self) -> Vec<Output> {
        self.replies += 1;
        let reply = approved(self.replies);
        self.reply(reply)
    }

    fn timeout(&mut self) -> Vec<Output> {
        let exchange = self.take_exchange();
        self.handle(Input::HostTimeout { exchange })
    }

    fn link_failed(&mut self) -> Vec<Output> {
        let exchange = self.take_exchange();
        self.handle(Input::LinkFailed {
            exchange,
            why: "connect refused".into(),
        })
    }

    /// Answers every exchange with `reply` until nothing is in flight.
    fn answer_all_with(&mut self, reply: HostReply) -> Vec<Output> {
        let mut all = Vec::new();
        for _ in 0..100 {
            if self.in_flight.is_none() {
                return all;
            }
            all.extend(self.reply(reply.clone()));
        }
        panic!("the engine kept sending after 100 answers");
    }

    /// Approves every exchange until nothing is in flight.
    fn approve_all(&mut self) -> Vec<Output> {
        let mut all = Vec::new();
        for _ in 0..100 {
            if self.in_flight.is_none() {
                return all;
            }
            all.extend(self.approve());
        }
        panic!("the engine kept sending after 100 answers");
    }

    fn print_result(&mut self, outcome: PrintOutcome) -> Vec<Output> {
        let job = self.printing.take().expect("a slip at the printer");
        self.handle(Input::PrintResult {
            job_id: job.job_id,
            outcome,
        })
    }

    /// The printer confirms the slip out.
    fn printed(&mut self) -> Vec<Output> {
        self.print_result(PrintOutcome::Printed { length_mm: 100 })
    }

    /// The slip out fails with `condition`.
    fn print_fails(&mut self, condition: Condition, may_have_printed: bool) -> Vec<Output> {
        let (zh, en) = condition.remedy();
        self.print_result(PrintOutcome::Failed {
            condition,
            detail: format!("{zh} / {en}"),
            may_have_printed,
        })
    }

    /// Confirms every slip (and report) until the printer is idle; returns the slips.
    fn print_all(&mut self) -> Vec<PrintJob> {
        let mut printed = Vec::new();
        for _ in 0..100 {
            if let Some(report) = self.report.take() {
                self.handle(Input::ReportResult {
                    report_id: report.report_id,
                    outcome: PrintOutcome::Printed { length_mm: 120 },
                });
                continue;
            }
            let Some(job) = self.printing.clone() else {
                return printed;
            };
            self.printed();
            printed.push(job);
        }
        panic!("the engine kept printing after 100 slips");
    }

    fn tick(&mut self) -> Vec<Output> {
        self.handle(Input::Tick)
    }

    fn advance_ms(&mut self, ms: i64) {
        self.now = self.now.plus_millis(ms);
    }

    fn set_now(&mut self, at: Timestamp) {
        assert!(at >= self.now, "the clock does not go back");
        self.now = at;
    }

    /// Drops the engine (as a crash would) and opens the same journal again.
    fn reopen(&mut self) -> RecoveryReport {
        self.engine = None;
        self.in_flight = None;
        self.printing = None;
        let (engine, report) = Engine::open(&self.path, self.config.clone(), key(), self.now)
            .expect("the engine reopens");
        self.engine = Some(engine);
        report
    }

    fn txn(&self, request_id: &str) -> TxnRecord {
        self.journal()
            .find_by_request_id(&rid(request_id))
            .expect("the journal reads")
            .expect("the transaction exists")
    }

    fn maybe_txn(&self, request_id: &str) -> Option<TxnRecord> {
        self.journal()
            .find_by_request_id(&rid(request_id))
            .expect("the journal reads")
    }

    fn all_txns(&self) -> Vec<TxnRecord> {
        let mut all = Vec::new();
        self.journal()
            .for_each(|r| {
                all.push(r);
                Ok(())
            })
            .expect("the journal reads");
        all
    }

    /// An approved pre-auth, its slips printed.
    fn approved_preauth(&mut self, request_id: &str, amount: &str) -> TxnRecord {
        self.submit(request_id, preauth(amount, PAN_CUP));
        self.approve_all();
        self.print_all();
        let record = self.txn(request_id);
        assert_eq!(record.state, TxnState::Approved);
        record
    }

    /// An approved pre-auth whose merchant copy is at the printer, not yet answered.
    fn approved_unprinted(&mut self, request_id: &str, amount: &str) -> TxnRecord {
        self.submit(request_id, preauth(amount, PAN_CUP));
        self.approve_all();
        let record = self.txn(request_id);
        assert_eq!(record.state, TxnState::Approved);
        assert!(
            self.printing.is_some(),
            "the merchant copy went to the printer"
        );
        record
    }

    /// An approved pre-auth taken while printing is held: its slips wait.
    fn approved_preauth_held(&mut self, request_id: &str, amount: &str) -> TxnRecord {
        self.submit(request_id, preauth(amount, PAN_CUP));
        self.approve_all();
        assert!(self.printing.is_none(), "nothing prints while held");
        self.txn(request_id)
    }

    /// An approved online completion of `preauth_trace`, its slips printed.
    fn approved_completion(
        &mut self,
        request_id: &str,
        preauth_trace: TraceNumber,
        amount: &str,
    ) -> TxnRecord {
        let outputs = self.submit(
            request_id,
            Command::Complete {
                original_trace: preauth_trace,
                amount: cny(amount),
            },
        );
        assert_eq!(
            financial_sends(&outputs).len(),
            1,
            "the completion goes out: {outputs:#?}"
        );
        self.approve_all();
        self.print_all();
        let record = self.txn(request_id);
        assert_eq!(record.state, TxnState::Approved);
        record
    }

    fn financial_send_count(&self) -> usize {
        self.sent
            .iter()
            .filter(|r| matches!(r, HostRequest::Financial(_)))
            .count()
    }

    /// (entity, to_state, cause) of each event of a transaction.
    fn events(&self, txn_id: i64) -> Vec<(String, Option<String>, String, String)> {
        self.journal()
            .events_of(txn_id)
            .expect("the event log reads")
            .into_iter()
            .map(|e| (e.entity, e.from, e.to, e.cause))
            .collect()
    }

    /// The journal file's bytes, and the write-ahead log's if there is one.
    fn journal_bytes(&self) -> Vec<u8> {
        let mut bytes = std::fs::read(&self.path).expect("the journal file reads");
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        if let Ok(more) = std::fs::read(&wal) {
            bytes.extend(more);
        }
        bytes
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// Before the send
// ---------------------------------------------------------------------------------------

#[test]
fn a_fresh_journal_signs_on_before_the_first_financial_request() {
    let mut h = Harness::new();
    assert!(h.journal().sign_on_required().unwrap());

    let outputs = h.submit("r1", preauth("100.00", PAN_CUP));
    let sent = sends(&outputs);
    assert_eq!(sent.len(), 1);
    assert!(
        matches!(sent[0], HostRequest::SignOn { .. }),
        "first send is {}",
        sent[0].describe()
    );
    // The pre-auth waits, journaled but not sent: no reversal armed for it yet.
    let queued = h.txn("r1");
    assert_eq!(queued.state, TxnState::Queued);
    assert!(queued.reversal.is_none());

    let outputs = h.approve();
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::Event(Event::SignOnRequired(false))))
    );
    let financial = financial_sends(&outputs);
    assert_eq!(financial.len(), 1);
    assert_eq!(financial[0].trace, queued.trace);
    assert!(!h.journal().sign_on_required().unwrap());
}

#[test]
fn the_transaction_and_its_armed_reversal_are_journaled_before_the_send() {
    let mut h = Harness::signed_on();

    // Sent at once: the Send and the journal row come out of the same call.
    let outputs = h.submit("r1", preauth("100.00", PAN_CUP));
    let financial = financial_sends(&outputs);
    assert_eq!(financial.len(), 1);
    let request = financial[0];
    let record = h.txn("r1");
    assert_eq!(record.state, TxnState::Sending);
    assert_eq!((record.trace, record.batch), (request.trace, request.batch));
    assert_eq!(record.kind, TxnKind::PreAuth);
    assert_eq!(record.amount, cny("100.00"));
    let reversal = record
        .reversal
        .clone()
        .expect("a reversal is armed before the send");
    assert_eq!(reversal.state, ReversalState::Armed);
    assert_eq!(reversal.reason, ReversalReason::NoAnswer);
    assert_eq!(reversal.attempts, 0);
    assert_eq!(record.to_export_json()["reversal"]["state"], "armed");
    let events = h.events(record.id);
    let inserted = events
        .iter()
        .position(|(e, from, to, _)| e == "transaction" && from.is_none() && to == "sending");
    let armed = events
        .iter()
        .position(|(e, _, to, _)| e == "reversal" && to == "armed");
    assert!(
        inserted.is_some() && armed.is_some() && inserted < armed,
        "{events:?}"
    );

    // Queued behind the first: journaled without a reversal, armed when it goes out.
    let outputs = h.submit("r2", preauth("200.00", PAN_VISA));
    assert!(sends(&outputs).is_empty(), "one exchange at a time");
    let queued = h.txn("r2");
    assert_eq!(queued.state, TxnState::Queued);
    assert!(queued.reversal.is_none());

    let outputs = h.approve();
    let financial = financial_sends(&outputs);
    assert_eq!(financial.len(), 1);
    assert_eq!(financial[0].trace, queued.trace);
    let sending = h.txn("r2");
    assert_eq!(sending.state, TxnState::Sending);
    assert_eq!(sending.reversal.expect("armed").state, ReversalState::Armed);
    assert_ne!(h.txn("r1").trace, sending.trace, "trace numbers are unique");
}

// ---------------------------------------------------------------------------------------
// The host's answer
// ---------------------------------------------------------------------------------------

#[test]
fn an_approval_is_one_durable_step() {
    let mut h = Harness::signed_on();
    let submitted = h.submit("r1", preauth("100.00", PAN_CUP));
    let sent_trace = financial_sends(&submitted)[0].trace;

    let outputs = h.reply(HostReply::approved("654321", "202611260001"));
    // What the cashier is told is what the journal holds, read in the approval's commit.
    let told = done_txn(&outputs);
    assert_eq!(told.state, TxnState::Approved);
    assert_eq!(told.auth_code.as_deref(), Some("654321"));
    assert_eq!(told.rrn.as_deref(), Some("202611260001"));
    assert_eq!(told.response_code.as_deref(), Some("00"));
    assert_eq!(
        told.reversal.as_ref().map(|r| r.state),
        Some(ReversalState::Disarmed)
    );
    assert_eq!(
        told.print_jobs.len(),
        2,
        "both slips are queued in the approval's commit"
    );

    let record = h.txn("r1");
    assert_eq!(record.trace, sent_trace);
    assert_eq!(record.state, TxnState::Approved);
    assert_eq!(record.auth_code.as_deref(), Some("654321"));
    assert_eq!(record.rrn.as_deref(), Some("202611260001"));
    assert_eq!(
        record.reversal.as_ref().map(|r| r.state),
        Some(ReversalState::Disarmed)
    );
    let export = record.to_export_json();
    assert!(
        export["reversal"].is_null(),
        "a disarmed reversal is exported as null: {export}"
    );
    assert_eq!(export["state"], "approved");
    assert_eq!(export["auth_code"], "654321");
    let copies: Vec<SlipCopy> = record.print_jobs.iter().map(|j| j.copy).collect();
    assert_eq!(copies, [SlipCopy::Merchant, SlipCopy::Cardholder]);
    assert!(
        record
            .print_jobs
            .iter()
            .all(|j| j.kind == PrintKind::Original)
    );
    // The approval's changes are in the event log: state, reversal, two slips.
    let approval_events: Vec<_> = h
        .journal()
        .events_of(record.id)
        .unwrap()
        .into_iter()
        .filter(|e| {
            (e.entity == "transaction" && e.to == "approved")
                || (e.entity == "reversal" && e.to == "disarmed")
                || (e.entity == "print_job" && e.from.is_none())
        })
        .collect();
    assert_eq!(approval_events.len(), 4, "{approval_events:?}");

    // The merchant copy goes to the printer at once, then the cardholder copy.
    let printed = h.print_all();
    assert_eq!(
        printed.iter().map(|j| j.copy).collect::<Vec<_>>(),
        [SlipCopy::Merchant, SlipCopy::Cardholder]
    );
    assert!(
        printed
            .iter()
            .all(|j| j.txn.auth_code.as_deref() == Some("654321"))
    );
    assert!(
        h.txn("r1")
            .print_jobs
            .iter()
            .all(|j| j.state == PrintJobState::Printed && j.attempts == 1)
    );

    // A crash right after: the approval is still there, nothing to redo.
    let report = h.reopen();
    assert_eq!(report.made_unknown, 0);
    assert_eq!(h.txn("r1").state, TxnState::Approved);
}

#[test]
fn the_slip_copies_setting_decides_how_many_slips_an_approval_queues() {
    let expected: [(u8, &[SlipCopy]); 3] = [
        (1, &[SlipCopy::Merchant]),
        (2, &[SlipCopy::Merchant, SlipCopy::Cardholder]),
        (
            3,
            &[SlipCopy::Merchant, SlipCopy::Cardholder, SlipCopy::Bank],
        ),
    ];
    for (count, copies) in expected {
        let mut h = Harness::signed_on_with(Config {
            slip_copies: count,
            ..Config::default()
        });
        h.submit("r1", preauth("100.00", PAN_CUP));
        h.approve_all();
        let record = h.txn("r1");
        assert_eq!(
            record.print_jobs.iter().map(|j| j.copy).collect::<Vec<_>>(),
            copies,
            "slip_copies = {count}"
        );
        let printed = h.print_all();
        assert_eq!(printed.len(), usize::from(count));
        assert!(
            h.txn("r1")
                .print_jobs
                .iter()
                .all(|j| j.state == PrintJobState::Printed)
        );
    }
}

#[test]
fn a_decline_disarms_the_reversal_and_prints_nothing() {
    let mut h = Harness::signed_on();
    h.submit("r1", preauth("100.00", PAN_CUP));
    let outputs = h.reply(HostReply::with_code("51"));
    let told = done_txn(&outputs);
    assert_eq!(told.state, TxnState::Declined);
    assert!(sends(&outputs).is_empty(), "no reversal for a decline");
    assert!(prints(&outputs).is_empty());

    let record = h.txn("r1");
    assert_eq!(record.state, TxnState::Declined);
    assert_eq!(record.response_code.as_deref(), Some("51"));
    assert_eq!(record.auth_code, None);
    assert_eq!(
        record.reversal.as_ref().map(|r| r.state),
        Some(ReversalState::Disarmed)
    );
    assert!(record.to_export_json()["reversal"].is_null());
    assert!(record.print_jobs.is_empty());
}

#[test]
fn a_timeout_makes_the_outcome_unknown_with_a_pending_reversal_98() {
    let mut h = Harness::signed_on();
    h.submit("r1", preauth("100.00", PAN_CUP));
    let outputs = h.timeout();
    let told = done_txn(&outputs);
    assert_eq!(told.state, TxnState::Unknown);

    let record = h.txn("r1");
    assert_eq!(record.state, TxnState::Unknown);
    let reversal = record.reversal.clone().expect("a reversal");
    assert_eq!(reversal.state, ReversalState::Pending);
    assert_eq!(reversal.reason, ReversalReason::NoAnswer);
    assert_eq!(reversal.attempts, 0);
    let export = record.to_export_json();
    assert_eq!(export["reversal"]["state"], "pending");
    assert_eq!(export["reversal"]["reason"], "98");
    assert!(
        record.print_jobs.is_empty(),
        "no slip for an uncertain outcome"
    );

    // The link is idle, so the reversal goes at once, with the original's fields.
    let sent = sends(&outputs);
    assert_eq!(sent.len(), 1);
    let reversal = the_reversal(sent[0]);
    assert_eq!(reversal.original_trace, record.trace);
    assert_eq!(reversal.batch, record.batch);
    assert_eq!(reversal.original_kind, TxnKind::PreAuth);
    assert_eq!(reversal.amount, cny("100.00"));
    assert_eq!(reversal.reason, ReversalReason::NoAnswer);
}

#[test]
fn a_bad_mac_makes_the_outcome_unknown_reason_a0_and_a_sign_on_goes_before_the_reversal() {
    let mut h = Harness::signed_on();
    h.submit("r1", preauth("100.00", PAN_CUP));
    let outputs = h.reply(bad_mac());
    assert_eq!(done_txn(&outputs).state, TxnState::Unknown);
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::Event(Event::SignOnRequired(true))))
    );

    let record = h.txn("r1");
    assert_eq!(record.state, TxnState::Unknown);
    assert_eq!(
        record.auth_code, None,
        "an untrusted answer is not recorded as an approval"
    );
    let reversal = record.reversal.expect("a reversal");
    assert_eq!(
        (reversal.state, reversal.reason),
        (ReversalState::Pending, ReversalReason::BadMac)
    );
    assert!(h.journal().sign_on_required().unwrap());

    let sent = sends(&outputs);
    assert_eq!(sent.len(), 1);
    assert!(
        matches!(sent[0], HostRequest::SignOn { .. }),
        "sign-on first, got {}",
        sent[0].describe()
    );
    let outputs = h.approve();
    let sent = sends(&outputs);
    assert_eq!(sent.len(), 1);
    assert_eq!(the_reversal(sent[0]).reason, ReversalReason::BadMac);
    h.reply(HostReply::with_code("00"));
    let record = h.txn("r1");
    assert_eq!(record.state, TxnState::Reversed);
    assert_eq!(record.reversal.unwrap().state, ReversalState::Done);
}

// ---------------------------------------------------------------------------------------
// Reversals
// ---------------------------------------------------------------------------------------

#[test]
fn a_pending_reversal_goes_out_before_the_next_financial_request() {
    let mut h = Harness::signed_on();
    h.submit("r1", preauth("100.00", PAN_CUP));
    let outputs = h.timeout();
    assert!(is_reversal(sends(&outputs)[0]));
    // The reversal gets no answer either: it stays pending, due later.
    let outputs = h.timeout();
    assert!(sends(&outputs).is_empty());
    assert!(h.in_flight.is_none());
    assert_eq!(h.txn("r1").reversal.unwrap().state, ReversalState::Pending);

    // A new pre-auth now: the reversal goes first, whatever its schedule.
    let outputs = h.submit("r2", preauth("50.00", PAN_VISA));
    let sent = sends(&outputs);
    assert_eq!(sent.len(), 1);
    assert_eq!(the_reversal(sent[0]).original_trace, h.txn("r1").trace);
    let waiting = h.txn("r2");
    assert_eq!(waiting.state, TxnState::Queued);
    assert!(waiting.reversal.is_none());

    let outputs = h.reply(HostReply::with_code("00"));
    assert_eq!(h.txn("r1").state, TxnState::Reversed);
    let financial = financial_sends(&outputs);
    assert_eq!(
        financial.len(),
        1,
        "the financial request follows the reversal"
    );
    assert_eq!(financial[0].trace, waiting.trace);
    assert_eq!(h.txn("r2").state, TxnState::Sending);

    let order: Vec<&str> = h
        .sent
        .iter()
        .map(|r| match r {
            HostRequest::SignOn { .. } => "sign-on",
            HostRequest::Financial(_) => "financial",
            HostRequest::Reversal(_) => "reversal",
            HostRequest::Advice(_) => "advice",
            HostRequest::Settlement(_) => "settlement",
            HostRequest::BatchUpload { .. } => "batch upload",
            HostRequest::BatchUploadEnd { .. } => "batch upload end",
        })
        .collect();
    assert_eq!(
        order,
        ["sign-on", "financial", "reversal", "reversal", "financial"]
    );
}

#[test]
fn reversal_retries_are_bounded_link_failures_do_not_count_and_a_failed_reversal_is_kept() {
    let config = Config::default();
    assert_eq!(config.reversal_max_attempts, 3, "the default is 3");
    let mut h = Harness::signed_on_with(config.clone());
    h.submit("r1", preauth("100.00", PAN_CUP));
    h.timeout(); // the pre-auth: unknown, reversal sent at once
    let attempts = |h: &Harness| h.txn("r1").reversal.expect("a reversal").attempts;

    // 1st send: no answer (counts).
    assert!(is_reversal(h.in_flight_request()));
    h.timeout();
    assert_eq!(attempts(&h), 1);
    assert!(h.in_flight.is_none(), "the retry waits for its delay");
    assert!(sends(&h.tick()).is_empty());
    h.advance_ms(config.retry_delay_ms(1) as i64);
    assert!(is_reversal(sends(&h.tick())[0]));

    // The link fails before sending (does not count).
    h.link_failed();
    assert_eq!(attempts(&h), 1);
    assert_eq!(h.txn("r1").reversal.unwrap().state, ReversalState::Pending);
    h.advance_ms(config.retry_delay_ms(1) as i64);
    assert!(is_reversal(sends(&h.tick())[0]));

    // 2nd send: refused (counts).
    h.reply(HostReply::with_code("96"));
    let reversal = h.txn("r1").reversal.unwrap();
    assert_eq!(
        (
            reversal.state,
            reversal.attempts,
            reversal.last_response.as_deref()
        ),
        (ReversalState::Pending, 2, Some("96"))
    );
    h.advance_ms(config.retry_delay_ms(2) as i64);
    assert!(is_reversal(sends(&h.tick())[0]));

    // 3rd send: no answer. The limit is reached: failed, kept.
    let outputs = h.timeout();
    assert!(outputs.iter().any(|o| matches!(o, Output::Event(Event::Reversal { reversal, .. }) if reversal.state == ReversalState::Failed)));
    let record = h.txn("r1");
    assert_eq!(record.state, TxnState::Unknown);
    let reversal = record
        .reversal
        .clone()
        .expect("the failed reversal is kept");
    assert_eq!(
        (reversal.state, reversal.attempts),
        (ReversalState::Failed, 3)
    );
    assert_eq!(record.to_export_json()["reversal"]["state"], "failed");
    assert!(
        h.events(record.id)
            .iter()
            .any(|(e, _, to, _)| e == "reversal" && to == "failed")
    );
    h.advance_ms(24 * 3_600_000);
    assert!(
        sends(&h.tick()).is_empty(),
        "a failed reversal waits for the operator"
    );
    assert_eq!(
        h.sent.iter().filter(|r| is_reversal(r)).count(),
        4,
        "three counted sends and one link failure"
    );

    // It survives a restart as it is.
    let report = h.reopen();
    assert!(!report.anything_done());
    assert_eq!(h.txn("r1").reversal.unwrap().state, ReversalState::Failed);
    assert!(sends(&h.tick()).is_empty());

    // A failed reversal does not hold the next transaction back.
    let outputs = h.submit("r2", preauth("20.00", PAN_VISA));
    assert_eq!(financial_sends(&outputs).len(), 1);
    h.approve_all();
    h.print_all();
    let outputs = h.submit(
        "retry-r2",
        Command::RetryReversal {
            trace: h.txn("r2").trace,
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::NothingToRetry { .. }
    ));

    // The operator's retry puts it back to pending and it goes out.
    let outputs = h.submit(
        "retry-r1",
        Command::RetryReversal {
            trace: record.trace,
        },
    );
    let requeued = match &dones(&outputs)[0].outcome {
        Ok(CommandOutcome::ReversalRequeued(r)) => r.clone(),
        other => panic!("expected the reversal requeued, got {other:?}"),
    };
    let reversal = requeued.reversal.expect("a reversal");
    assert_eq!(
        (reversal.state, reversal.attempts),
        (ReversalState::Pending, 0)
    );
    let sent = sends(&outputs);
    assert_eq!(sent.len(), 1);
    assert_eq!(the_reversal(sent[0]).original_trace, record.trace);
    h.reply(HostReply::with_code("00"));
    let record = h.txn("r1");
    assert_eq!(record.state, TxnState::Reversed);
    assert_eq!(record.reversal.unwrap().state, ReversalState::Done);
}

#[test]
fn the_reversal_limit_is_configurable() {
    let mut h = Harness::signed_on_with(Config {
        reversal_max_attempts: 1,
        ..Config::default()
    });
    h.submit("r1", preauth("100.00", PAN_CUP));
    h.timeout();
    h.reply(HostReply::with_code("96"));
    let reversal = h.txn("r1").reversal.unwrap();
    assert_eq!(
        (reversal.state, reversal.attempts),
        (ReversalState::Failed, 1)
    );
}

#[test]
fn replies_00_12_and_25_each_finish_a_reversal() {
    for code in ["00", "12", "25"] {
        let mut h = Harness::signed_on();
        h.submit("r1", preauth("100.00", PAN_CUP));
        h.timeout();
        assert!(is_reversal(h.in_flight_request()));
        let outputs = h.answer_all_with(HostReply::with_code(code));
        assert!(sends(&outputs).is_empty(), "one answer finishes it");
        assert_eq!(h.sent.iter().filter(|r| is_reversal(r)).count(), 1);
        let record = h.txn("r1");
        assert_eq!(record.state, TxnState::Reversed, "code {code}");
        let reversal = record.reversal.unwrap();
        assert_eq!(reversal.state, ReversalState::Done, "code {code}");
        assert_eq!(reversal.last_response.as_deref(), Some(code));
        assert_eq!(reversal.attempts, 1);
        h.advance_ms(3_600_000);
        assert!(
            sends(&h.tick()).is_empty(),
            "a finished reversal is not sent again"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Completion
// ---------------------------------------------------------------------------------------

#[test]
fn completion_needs_an_approved_open_pre_auth_of_at_most_30_days() {
    let mut h = Harness::signed_on();
    let p1 = h.approved_preauth("p1", "100.00");
    let p2 = h.approved_preauth("p2", "100.00");
    h.submit("p3", preauth("100.00", PAN_CUP));
    h.reply(HostReply::with_code("51"));
    let p3 = h.txn("p3");
    assert_eq!(p3.state, TxnState::Declined);
    h.submit("p4", preauth("100.00", PAN_CUP));
    h.timeout(); // p4 is unknown; its reversal is in flight
    let p4 = h.txn("p4");
    assert_eq!(p4.state, TxnState::Unknown);

    let outputs = h.submit(
        "c-p3",
        Command::Complete {
            original_trace: p3.trace,
            amount: cny("10.00"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::OriginalNotApproved {
            state: TxnState::Declined,
            ..
        }
    ));
    let outputs = h.submit(
        "c-p4",
        Command::Complete {
            original_trace: p4.trace,
            amount: cny("10.00"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::OriginalNotApproved {
            state: TxnState::Unknown,
            ..
        }
    ));
    let outputs = h.submit(
        "c-none",
        Command::Complete {
            original_trace: trace(999_999),
            amount: cny("10.00"),
        },
    );
    assert!(
        matches!(refusal(&outputs), CommandError::OriginalNotFound { trace: t } if *t == trace(999_999))
    );
    h.reply(HostReply::with_code("00"));
    let outputs = h.submit(
        "c-p4-reversed",
        Command::Complete {
            original_trace: p4.trace,
            amount: cny("10.00"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::OriginalNotApproved {
            state: TxnState::Reversed,
            ..
        }
    ));
    for refused in ["c-p3", "c-p4", "c-none", "c-p4-reversed"] {
        assert!(
            h.maybe_txn(refused).is_none(),
            "a refused command leaves nothing in the journal"
        );
    }

    // Exactly 30 days later: still open.
    h.set_now(p1.created_at.plus_days(30));
    let c1 = h.approved_completion("c1", p1.trace, "100.00");
    assert_eq!(c1.kind, TxnKind::CompletionRequest);
    assert_eq!(c1.original_trace, Some(p1.trace));
    assert_eq!(h.txn("p1").state, TxnState::Completed);
    let request = h
        .sent
        .iter()
        .rev()
        .find_map(|r| match r {
            HostRequest::Financial(f) if f.trace == c1.trace => Some(f.clone()),
            _ => None,
        })
        .expect("the completion was sent");
    let original = request.original.expect("a completion carries its original");
    assert_eq!(
        (original.trace, original.auth_code.clone()),
        (p1.trace, p1.auth_code.clone())
    );
    assert!(request.card.is_none(), "no card data on a completion");

    // Not twice.
    let outputs = h.submit(
        "c1-again",
        Command::Complete {
            original_trace: p1.trace,
            amount: cny("10.00"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::AlreadyCompleted { .. }
    ));

    // One millisecond past 30 days: expired.
    h.set_now(p2.created_at.plus_days(30).plus_millis(1));
    let outputs = h.submit(
        "c2",
        Command::Complete {
            original_trace: p2.trace,
            amount: cny("100.00"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::PreAuthExpired { days: 30, .. }
    ));
    let outputs = h.submit(
        "c2-offline",
        Command::CompleteOffline {
            original_trace: p2.trace,
            amount: cny("100.00"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::PreAuthExpired { days: 30, .. }
    ));
    assert_eq!(h.txn("p2").state, TxnState::Approved);
}

#[test]
fn a_completion_over_115_percent_is_refused_and_exactly_115_percent_is_accepted() {
    let config = Config::default();
    assert_eq!(config.completion_limit_percent, 115);
    let mut h = Harness::signed_on_with(config);
    let p = h.approved_preauth("p", "100.00");
    let sends_before = h.financial_send_count();

    let outputs = h.submit(
        "c-over",
        Command::Complete {
            original_trace: p.trace,
            amount: cny("115.01"),
        },
    );
    match refusal(&outputs) {
        CommandError::CompletionOverLimit {
            requested,
            max,
            percent,
        } => {
            assert_eq!(
                (requested.as_str(), max.as_str(), *percent),
                ("CNY 115.01", "CNY 115.00", 115)
            );
        }
        other => panic!("expected CompletionOverLimit, got {other:?}"),
    }
    let outputs = h.submit(
        "c-over-offline",
        Command::CompleteOffline {
            original_trace: p.trace,
            amount: cny("115.01"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::CompletionOverLimit { .. }
    ));
    assert_eq!(h.financial_send_count(), sends_before);
    assert!(h.maybe_txn("c-over").is_none());

    let c = h.approved_completion("c", p.trace, "115.00");
    assert_eq!(c.amount.minor_units(), 11_500);
    assert_eq!(h.txn("p").state, TxnState::Completed);

    // The limit rounds down to the fen: 115% of 10.01 is 11.5115.
    let q = h.approved_preauth("q", "10.01");
    let outputs = h.submit(
        "d-over",
        Command::Complete {
            original_trace: q.trace,
            amount: cny("11.52"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::CompletionOverLimit { .. }
    ));
    h.approved_completion("d", q.trace, "11.51");
}

#[test]
fn the_completion_limit_percent_is_configurable() {
    for (percent, over, limit) in [(120, "120.01", "120.00"), (100, "100.01", "100.00")] {
        let mut h = Harness::signed_on_with(Config {
            completion_limit_percent: percent,
            ..Config::default()
        });
        let p = h.approved_preauth("p", "100.00");
        let outputs = h.submit(
            "c-over",
            Command::Complete {
                original_trace: p.trace,
                amount: cny(over),
            },
        );
        match refusal(&outputs) {
            CommandError::CompletionOverLimit {
                percent: got, max, ..
            } => {
                assert_eq!(*got, percent);
                assert_eq!(max, &format!("CNY {limit}"));
            }
            other => panic!("expected CompletionOverLimit, got {other:?}"),
        }
        h.approved_completion("c", p.trace, limit);
    }
}

// ---------------------------------------------------------------------------------------
// Voids
// ---------------------------------------------------------------------------------------

#[test]
fn voiding_an_unknown_trace_is_refused() {
    let mut h = Harness::signed_on();
    let outputs = h.submit(
        "v",
        Command::Void {
            original_trace: trace(4242),
        },
    );
    assert!(
        matches!(refusal(&outputs), CommandError::OriginalNotFound { trace: t } if *t == trace(4242))
    );
    let outputs = h.submit(
        "cv",
        Command::CompleteVoid {
            original_trace: trace(4242),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::OriginalNotFound { .. }
    ));
    assert!(h.all_txns().is_empty());
    assert_eq!(h.financial_send_count(), 0);
}

#[test]
fn a_pre_auth_is_voided_once_and_a_voided_pre_auth_cannot_be_completed() {
    let mut h = Harness::signed_on();
    let p = h.approved_preauth("p", "100.00");

    let outputs = h.submit(
        "v1",
        Command::Void {
            original_trace: p.trace,
        },
    );
    let financial = financial_sends(&outputs);
    assert_eq!(financial.len(), 1);
    assert_eq!(financial[0].kind, TxnKind::PreAuthVoid);
    assert_eq!(financial[0].amount, p.amount);
    assert_eq!(
        financial[0].original.as_ref().map(|o| o.trace),
        Some(p.trace)
    );
    let outputs = h.approve();
    assert_eq!(done_txn(&outputs).state, TxnState::Approved);
    assert_eq!(h.txn("p").state, TxnState::Voided);
    let void = h.txn("v1");
    assert_eq!(
        (void.kind, void.original_trace),
        (TxnKind::PreAuthVoid, Some(p.trace))
    );

    let outputs = h.submit(
        "v2",
        Command::Void {
            original_trace: p.trace,
        },
    );
    assert!(matches!(refusal(&outputs), CommandError::AlreadyVoided { trace: t } if *t == p.trace));
    let outputs = h.submit(
        "c",
        Command::Complete {
            original_trace: p.trace,
            amount: cny("10.00"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::AlreadyVoided { .. }
    ));
    let outputs = h.submit(
        "c-offline",
        Command::CompleteOffline {
            original_trace: p.trace,
            amount: cny("10.00"),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::AlreadyVoided { .. }
    ));
    assert_eq!(h.txn("p").state, TxnState::Voided);
}

#[test]
fn a_completion_is_voided_by_complete_void_and_a_pre_auth_by_void() {
    let mut h = Harness::signed_on();
    let p = h.approved_preauth("p", "100.00");
    let c = h.approved_completion("c", p.trace, "90.00");

    let outputs = h.submit(
        "v",
        Command::Void {
            original_trace: c.trace,
        },
    );
    match refusal(&outputs) {
        CommandError::WrongOriginalKind {
            found, expected, ..
        } => {
            assert_eq!(
                (*found, *expected),
                (TxnKind::CompletionRequest, TxnKind::PreAuth)
            );
        }
        other => panic!("expected WrongOriginalKind, got {other:?}"),
    }
    let outputs = h.submit(
        "cv",
        Command::CompleteVoid {
            original_trace: p.trace,
        },
    );
    match refusal(&outputs) {
        CommandError::WrongOriginalKind {
            found, expected, ..
        } => {
            assert_eq!(
                (*found, *expected),
                (TxnKind::PreAuth, TxnKind::CompletionRequest)
            );
        }
        other => panic!("expected WrongOriginalKind, got {other:?}"),
    }
    // A completed pre-auth cannot be voided either: its completion must be voided first.
    let outputs = h.submit(
        "v-p",
        Command::Void {
            original_trace: p.trace,
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::AlreadyCompleted { .. }
    ));
    assert_eq!(h.txn("c").state, TxnState::Approved);
}

#[test]
fn a_settled_completion_cannot_be_voided() {
    let mut h = Harness::signed_on();
    let p = h.approved_preauth("p", "100.00");
    let c = h.approved_completion("c", p.trace, "80.00");

    let outputs = h.submit("settle", Command::Settle);
    let sent = sends(&outputs);
    assert!(
        matches!(sent[..], [HostRequest::Settlement(s)] if s.totals.count == 1 && s.totals.amount_minor == 8_000)
    );
    let outputs = h.approve();
    let summary = match &dones(&outputs)[0].outcome {
        Ok(CommandOutcome::Settled(summary)) => *summary,
        other => panic!("expected a settlement, got {other:?}"),
    };
    assert_eq!(summary.batch, BatchNumber::FIRST);
    assert_eq!(summary.next_batch, BatchNumber::FIRST.next());
    assert!(h.txn("c").settled);

    let outputs = h.submit(
        "cv",
        Command::CompleteVoid {
            original_trace: c.trace,
        },
    );
    match refusal(&outputs) {
        CommandError::AlreadySettled { trace: t, batch } => {
            assert_eq!(*t, c.trace);
            assert_eq!(batch, "000001");
        }
        other => panic!("expected AlreadySettled, got {other:?}"),
    }
    assert_eq!(h.txn("c").state, TxnState::Approved);
}

#[test]
fn a_completion_void_restores_the_pre_auth_to_approved() {
    let mut h = Harness::signed_on();
    let p = h.approved_preauth("p", "100.00");
    let c = h.approved_completion("c", p.trace, "100.00");
    assert_eq!(h.txn("p").state, TxnState::Completed);

    let outputs = h.submit(
        "cv",
        Command::CompleteVoid {
            original_trace: c.trace,
        },
    );
    let financial = financial_sends(&outputs);
    assert_eq!(financial.len(), 1);
    assert_eq!(financial[0].kind, TxnKind::CompletionVoid);
    assert_eq!(
        financial[0].original.as_ref().map(|o| o.trace),
        Some(c.trace)
    );
    let outputs = h.approve();
    assert_eq!(done_txn(&outputs).state, TxnState::Approved);
    assert_eq!(h.txn("c").state, TxnState::Voided);
    assert_eq!(h.txn("p").state, TxnState::Approved);
    assert!(
        h.events(p.id)
            .iter()
            .any(|(e, from, to, _)| e == "transaction"
                && from.as_deref() == Some("completed")
                && to == "approved")
    );

    let outputs = h.submit(
        "cv2",
        Command::CompleteVoid {
            original_trace: c.trace,
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::AlreadyVoided { .. }
    ));
    // The pre-auth is open again: it can be completed for another amount.
    h.print_all();
    let again = h.approved_completion("c2", p.trace, "60.00");
    assert_eq!(again.original_trace, Some(p.trace));
    assert_eq!(h.txn("p").state, TxnState::Completed);
}

// ---------------------------------------------------------------------------------------
// Completion advice (offline completion)
// ---------------------------------------------------------------------------------------

#[test]
fn a_completion_advice_is_approved_at_once_and_never_reversed() {
    let config = Config::default();
    let mut h = Harness::signed_on_with(config.clone());
    let p = h.approved_preauth("p", "100.00");

    let outputs = h.submit(
        "a",
        Command::CompleteOffline {
            original_trace: p.trace,
            amount: cny("80.00"),
        },
    );
    let told = done_txn(&outputs);
    assert_eq!(
        (told.kind, told.state),
        (TxnKind::CompletionAdvice, TxnState::Approved)
    );
    assert_eq!(
        told.auth_code, p.auth_code,
        "the advice carries the pre-auth's auth code"
    );
    assert_eq!(h.txn("p").state, TxnState::Completed);
    let advice = h.txn("a");
    assert!(advice.reversal.is_none(), "an advice is never reversed");
    assert_eq!(advice.print_jobs.len(), 2);
    assert_eq!(advice.original_trace, Some(p.trace));
    // The link is idle, so the advice goes now.
    let sent = sends(&outputs);
    assert_eq!(sent.len(), 1);
    match sent[0] {
        HostRequest::Advice(a) => {
            assert_eq!(
                (a.trace, a.amount, a.original.trace, a.retransmission),
                (advice.trace, cny("80.00"), p.trace, false)
            );
        }
        other => panic!("expected the advice, got {}", other.describe()),
    }

    // Its send times out: still approved, no reversal, sent again as a retransmission.
    let outputs = h.timeout();
    assert!(sends(&outputs).is_empty());
    let after = h.txn("a");
    assert_eq!(after.state, TxnState::Approved);
    assert!(after.reversal.is_none());
    assert!(after.to_export_json()["reversal"].is_null());
    h.advance_ms(config.retry_delay_ms(1) as i64);
    let outputs = h.tick();
    match sends(&outputs)[..] {
        [HostRequest::Advice(a)] => assert!(a.retransmission && a.trace == advice.trace),
        ref other => panic!("expected the advice again, got {other:?}"),
    }
    h.reply(bad_mac()); // an untrusted acknowledgement does not count either
    assert_eq!(h.txn("a").state, TxnState::Approved);
    h.advance_ms(config.retry_delay_ms(2) as i64);
    let outputs = h.tick();
    assert!(
        matches!(sends(&outputs)[..], [HostRequest::SignOn { .. }]),
        "the bad MAC forces a sign-on first"
    );
    let outputs = h.approve();
    match sends(&outputs)[..] {
        [HostRequest::Advice(a)] => assert!(a.retransmission),
        ref other => panic!("expected the advice again, got {other:?}"),
    }
    h.reply(HostReply::with_code("00"));
    h.advance_ms(3_600_000);
    assert!(
        sends(&h.tick()).is_empty(),
        "an acknowledged advice is not sent again"
    );

    assert!(!h.sent.iter().any(is_reversal), "nothing was ever reversed");
    assert_eq!(h.txn("a").state, TxnState::Approved);
    assert!(
        h.events(advice.id)
            .iter()
            .any(|(e, _, to, _)| e == "advice" && to == "done")
    );
}

#[test]
fn an_advice_waits_for_an_idle_link_and_goes_before_settlement() {
    let config = Config::default();
    let mut h = Harness::signed_on_with(config.clone());
    let p = h.approved_preauth("p", "100.00");

    // The link is busy with a pre-auth: the advice is approved but waits.
    h.submit("r", preauth("30.00", PAN_VISA));
    let outputs = h.submit(
        "a",
        Command::CompleteOffline {
            original_trace: p.trace,
            amount: cny("70.00"),
        },
    );
    assert_eq!(done_txn(&outputs).state, TxnState::Approved);
    assert!(sends(&outputs).is_empty());
    let outputs = h.approve();
    match sends(&outputs)[..] {
        [HostRequest::Advice(a)] => assert_eq!(a.trace, h.txn("a").trace),
        ref other => panic!("expected the advice once the link is idle, got {other:?}"),
    }
    // No answer: it waits for its retry…
    h.timeout();
    assert!(h.in_flight.is_none());

    // …but settlement does not wait for it: the advice goes first, then the settlement.
    let outputs = h.submit("settle", Command::Settle);
    match sends(&outputs)[..] {
        [HostRequest::Advice(a)] => assert!(a.retransmission),
        ref other => panic!("expected the advice before settlement, got {other:?}"),
    }
    let outputs = h.reply(HostReply::with_code("00"));
    match sends(&outputs)[..] {
        [HostRequest::Settlement(s)] => {
            assert_eq!(
                (s.totals.count, s.totals.amount_minor),
                (1, 7_000),
                "the advice is in the batch totals"
            );
        }
        ref other => panic!("expected the settlement, got {other:?}"),
    }
    let outputs = h.approve();
    assert!(matches!(
        dones(&outputs)[0].outcome,
        Ok(CommandOutcome::Settled(_))
    ));
    assert!(h.txn("a").settled);
}

#[test]
fn a_void_of_an_offline_completion_waits_for_its_advice_to_reach_the_host() {
    let config = Config::default();
    let mut h = Harness::signed_on_with(config.clone());
    let p = h.approved_preauth("p", "100.00");
    h.submit(
        "a",
        Command::CompleteOffline {
            original_trace: p.trace,
            amount: cny("60.00"),
        },
    );
    h.timeout(); // the advice's first send gets no answer: it waits for its retry
    let advice = h.txn("a");

    // The void is queued, and the advice it voids goes first (before its retry is due).
    let outputs = h.submit(
        "v",
        Command::CompleteVoid {
            original_trace: advice.trace,
        },
    );
    match sends(&outputs)[..] {
        [HostRequest::Advice(a)] => assert!(a.trace == advice.trace && a.retransmission),
        ref other => panic!("expected the advice before its void, got {other:?}"),
    }
    assert_eq!(h.txn("v").state, TxnState::Queued);
    let outputs = h.reply(HostReply::with_code("00"));
    let void = financial_sends(&outputs);
    assert_eq!(void.len(), 1, "then the void goes: {outputs:#?}");
    assert_eq!(void[0].kind, TxnKind::CompletionVoid);
    h.approve_all();
    assert_eq!(h.txn("a").state, TxnState::Voided);
    assert_eq!(
        h.txn("p").state,
        TxnState::Approved,
        "the pre-auth is open again"
    );

    // When the advice cannot be delivered, the void is refused with nothing sent.
    let q = h.approved_preauth("q", "50.00");
    h.submit(
        "b",
        Command::CompleteOffline {
            original_trace: q.trace,
            amount: cny("40.00"),
        },
    );
    h.link_failed();
    let b = h.txn("b");
    h.submit(
        "w",
        Command::CompleteVoid {
            original_trace: b.trace,
        },
    );
    let outputs = h.link_failed();
    assert!(matches!(
        refusal(&outputs),
        CommandError::HostUnreachable { .. }
    ));
    assert_eq!(h.txn("w").state, TxnState::NotSent);
    assert!(
        h.in_flight.is_none(),
        "no retry loop while the link is down"
    );
    assert_eq!(
        h.txn("b").state,
        TxnState::Approved,
        "the advice stays, to be sent later"
    );
}

// ---------------------------------------------------------------------------------------
// One request, one transaction
// ---------------------------------------------------------------------------------------

#[test]
fn the_same_request_id_returns_the_same_transaction_without_a_second_send() {
    let mut h = Harness::signed_on();
    let first = h.approved_preauth("r1", "100.00");
    assert_eq!(h.financial_send_count(), 1);

    let outputs = h.submit_with(77, "r1", preauth("100.00", PAN_CUP));
    assert!(sends(&outputs).is_empty());
    let finished = dones(&outputs);
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].ticket, Ticket(77));
    match &finished[0].outcome {
        Ok(CommandOutcome::Transaction(record)) => {
            assert_eq!(
                (record.id, record.trace, record.state),
                (first.id, first.trace, TxnState::Approved)
            );
        }
        other => panic!("expected the same transaction, got {other:?}"),
    }
    assert_eq!(h.financial_send_count(), 1);
    assert_eq!(h.all_txns().len(), 1);

    // Also after a restart.
    h.reopen();
    let outputs = h.submit("r1", preauth("100.00", PAN_CUP));
    assert_eq!(done_txn(&outputs).id, first.id);
    assert_eq!(h.financial_send_count(), 1);
}

#[test]
fn a_repeat_while_in_flight_gets_the_same_answer_for_both_tickets() {
    let mut h = Harness::signed_on();
    let outputs = h.submit_with(1, "r1", preauth("100.00", PAN_CUP));
    assert_eq!(financial_sends(&outputs).len(), 1);
    let outputs = h.submit_with(2, "r1", preauth("100.00", PAN_CUP));
    assert!(
        outputs
            .iter()
            .all(|o| !matches!(o, Output::Send { .. } | Output::Done(_))),
        "{outputs:#?}"
    );

    let outputs = h.approve();
    let finished = dones(&outputs);
    let mut tickets: Vec<Ticket> = finished.iter().map(|d| d.ticket).collect();
    tickets.sort();
    assert_eq!(tickets, [Ticket(1), Ticket(2)]);
    for done in &finished {
        match &done.outcome {
            Ok(CommandOutcome::Transaction(r)) => {
                assert_eq!((r.id, r.state), (h.txn("r1").id, TxnState::Approved))
            }
            other => panic!("expected the approval, got {other:?}"),
        }
    }
    assert_eq!(h.financial_send_count(), 1);

    // The same while queued behind the sign-on of a fresh journal.
    let mut h = Harness::new();
    h.submit_with(1, "r1", preauth("100.00", PAN_CUP));
    h.submit_with(2, "r1", preauth("100.00", PAN_CUP));
    let outputs = h.approve_all();
    assert_eq!(dones(&outputs).len(), 2);
    assert_eq!(h.financial_send_count(), 1);
    assert_eq!(h.all_txns().len(), 1);
}

#[test]
fn the_same_request_id_with_other_parameters_is_a_conflict() {
    let mut h = Harness::signed_on();
    let first = h.approved_preauth("r1", "100.00");
    let conflicts = [
        preauth("200.00", PAN_CUP),
        preauth("100.00", PAN_VISA),
        Command::Void {
            original_trace: first.trace,
        },
        Command::Complete {
            original_trace: first.trace,
            amount: cny("100.00"),
        },
    ];
    for command in conflicts {
        let outputs = h.submit("r1", command);
        match refusal(&outputs) {
            CommandError::RequestIdConflict { request_id, trace } => {
                assert_eq!((request_id.as_str(), *trace), ("r1", first.trace));
            }
            other => panic!("expected RequestIdConflict, got {other:?}"),
        }
        assert!(sends(&outputs).is_empty());
    }
    assert_eq!(h.all_txns().len(), 1);
    assert_eq!(h.txn("r1"), first);
    assert_eq!(h.financial_send_count(), 1);
}

// ---------------------------------------------------------------------------------------
// Crash recovery
// ---------------------------------------------------------------------------------------

#[test]
fn a_crash_while_sending_leaves_the_transaction_unknown_with_a_pending_reversal() {
    let mut h = Harness::signed_on();
    h.submit("r1", preauth("100.00", PAN_CUP));
    assert_eq!(h.txn("r1").state, TxnState::Sending);

    let report = h.reopen();
    assert_eq!(report.made_unknown, 1);
    let record = h.txn("r1");
    assert_eq!(record.state, TxnState::Unknown);
    let reversal = record.reversal.clone().expect("a reversal");
    assert_eq!(
        (reversal.state, reversal.reason),
        (ReversalState::Pending, ReversalReason::NoAnswer)
    );
    assert!(
        h.events(record.id)
            .iter()
            .any(|(e, _, to, cause)| e == "transaction"
                && to == "unknown"
                && cause.contains("recovery"))
    );

    // The same request again does not send it twice.
    let outputs = h.submit("r1", preauth("100.00", PAN_CUP));
    assert_eq!(done_txn(&outputs).state, TxnState::Unknown);
    // The reversal is the first thing to go out.
    let sent = sends(&outputs);
    assert_eq!(sent.len(), 1);
    assert_eq!(the_reversal(sent[0]).original_trace, record.trace);
    h.reply(HostReply::with_code("25"));
    assert_eq!(h.txn("r1").state, TxnState::Reversed);
    assert_eq!(h.financial_send_count(), 1);
}

#[test]
fn a_crash_while_queued_leaves_the_transaction_not_sent() {
    let mut h = Harness::signed_on();
    h.submit("r1", preauth("100.00", PAN_CUP));
    h.submit("r2", preauth("200.00", PAN_VISA));
    assert_eq!(h.txn("r2").state, TxnState::Queued);

    let report = h.reopen();
    assert_eq!((report.made_unknown, report.made_not_sent), (1, 1));
    let r2 = h.txn("r2");
    assert_eq!(r2.state, TxnState::NotSent);
    assert!(
        r2.reversal.is_none(),
        "nothing was sent, nothing to reverse"
    );

    let outputs = h.tick();
    assert!(is_reversal(sends(&outputs)[0]));
    h.reply(HostReply::with_code("00"));
    assert!(h.in_flight.is_none());
    // Asking again gives the not_sent transaction back; it is never sent.
    let outputs = h.submit("r2", preauth("200.00", PAN_VISA));
    assert_eq!(done_txn(&outputs).state, TxnState::NotSent);
    assert!(sends(&outputs).is_empty());
    assert!(
        !h.sent
            .iter()
            .any(|r| matches!(r, HostRequest::Financial(f) if f.trace == r2.trace))
    );
}

#[test]
fn a_crash_while_printing_queues_the_slip_again_and_prints_it_after_reopening() {
    let mut h = Harness::signed_on();
    h.submit("r1", preauth("100.00", PAN_CUP));
    h.approve();
    let job = h
        .printing
        .clone()
        .expect("the merchant copy is at the printer");
    assert_eq!(job.copy, SlipCopy::Merchant);
    let state_of = |h: &Harness, id: i64| {
        h.txn("r1")
            .print_jobs
            .iter()
            .find(|j| j.id == id)
            .expect("the job")
            .clone()
    };
    assert_eq!(state_of(&h, job.job_id).state, PrintJobState::Sending);

    let report = h.reopen();
    assert_eq!(report.print_jobs_requeued, 1);
    let requeued = state_of(&h, job.job_id);
    assert_eq!(requeued.state, PrintJobState::Queued);
    assert!(
        requeued
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("restart"))
    );
    // It may have come out before the crash: it prints again marked REPRINT (promise 5).
    assert_eq!(requeued.kind, PrintKind::Reprint);
    let diagnosis = h.journal().diagnose(job.txn.trace).unwrap().unwrap();
    assert_eq!(
        diagnosis.slips[0].finding.as_ref().map(|f| f.cause),
        Some(Cause::Software),
        "{:?}",
        diagnosis.slips
    );

    let outputs = h.tick();
    let printing = prints(&outputs);
    assert_eq!(printing.len(), 1);
    assert_eq!(
        (printing[0].job_id, printing[0].copy, printing[0].kind),
        (job.job_id, SlipCopy::Merchant, PrintKind::Reprint)
    );
    let diagnosis = h.journal().diagnose(job.txn.trace).unwrap().unwrap();
    assert!(
        diagnosis
            .timeline
            .iter()
            .any(|e| e.cause.contains("restart")),
        "the event log explains the reprint"
    );

    let printed = h.print_all();
    assert_eq!(printed.len(), 2);
    let record = h.txn("r1");
    assert!(
        record
            .print_jobs
            .iter()
            .all(|j| j.state == PrintJobState::Printed),
        "{:?}",
        record.print_jobs
    );
    assert_eq!(record.print_jobs.len(), 2, "no extra copy was made");
}

#[test]
fn a_printer_fault_that_clears_by_itself_retries_the_slip_with_backoff() {
    let config = Config::default();
    let mut h = Harness::signed_on_with(config.clone());
    h.submit("r1", preauth("100.00", PAN_CUP));
    h.approve();
    let job = h.printing.clone().expect("a slip at the printer");
    let outputs = h.print_fails(Condition::Overheated, false);
    assert!(
        outputs.iter().any(|o| matches!(o, Output::Event(Event::PrintJob { job: j, .. }) if j.id == job.job_id && j.state == PrintJobState::Queued))
    );
    let record = h.txn("r1");
    let faulted = record
        .print_jobs
        .iter()
        .find(|j| j.id == job.job_id)
        .unwrap();
    assert_eq!(
        (faulted.state, faulted.attempts, faulted.kind),
        (PrintJobState::Queued, 1, PrintKind::Original)
    );
    assert!(
        faulted
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("overheated"))
    );
    // The cardholder copy waits for the merchant copy: nothing prints before the retry.
    assert!(h.printing.is_none());
    h.tick();
    assert!(
        h.printing.is_none(),
        "not due yet, and the cardholder copy waits"
    );
    h.advance_ms(config.retry_delay_ms(1) as i64);
    h.tick();
    h.print_all();
    let record = h.txn("r1");
    assert!(
        record
            .print_jobs
            .iter()
            .all(|j| j.state == PrintJobState::Printed)
    );
    assert_eq!(
        record
            .print_jobs
            .iter()
            .find(|j| j.id == job.job_id)
            .unwrap()
            .attempts,
        2
    );
}

#[test]
fn a_crash_while_an_advice_is_sending_sends_it_again_as_a_retransmission() {
    let mut h = Harness::signed_on();
    let p = h.approved_preauth("p", "100.00");
    let outputs = h.submit(
        "a",
        Command::CompleteOffline {
            original_trace: p.trace,
            amount: cny("50.00"),
        },
    );
    assert!(matches!(sends(&outputs)[..], [HostRequest::Advice(a)] if !a.retransmission));

    // The advice may have reached the host before the crash: the host must be able to
    // tell the next send is the same advice again, not a second completion.
    let report = h.reopen();
    assert_eq!(report.advices_requeued, 1);
    let outputs = h.tick();
    match sends(&outputs)[..] {
        [HostRequest::Advice(a)] => {
            assert_eq!(a.trace, h.txn("a").trace);
            assert!(
                a.retransmission,
                "an advice that may have been sent goes again flagged as a retransmission"
            );
        }
        ref other => panic!("expected the advice again, got {other:?}"),
    }
    h.reply(HostReply::with_code("00"));
    assert_eq!(h.txn("a").state, TxnState::Approved);
    assert!(h.txn("a").reversal.is_none());
}

// ---------------------------------------------------------------------------------------
// Settlement
// ---------------------------------------------------------------------------------------

#[test]
fn a_transaction_taken_while_settlement_is_in_flight_belongs_to_the_next_batch() {
    let mut h = Harness::signed_on();
    let p = h.approved_preauth("p", "100.00");
    let outputs = h.submit("settle", Command::Settle);
    assert!(matches!(sends(&outputs)[..], [HostRequest::Settlement(_)]));

    // The cashier completes the pre-auth while the settlement is out.
    let outputs = h.submit(
        "c",
        Command::Complete {
            original_trace: p.trace,
            amount: cny("100.00"),
        },
    );
    assert!(sends(&outputs).is_empty());
    let outputs = h.approve();
    let summary = match &dones(&outputs)
        .iter()
        .find(|d| d.request_id == rid("settle"))
        .expect("settled")
        .outcome
    {
        Ok(CommandOutcome::Settled(summary)) => *summary,
        other => panic!("expected a settlement, got {other:?}"),
    };
    assert_eq!(
        summary.totals.count, 0,
        "the completion was not approved when batch 1 closed"
    );
    let financial = financial_sends(&outputs);
    assert_eq!(financial.len(), 1);
    assert_eq!(
        financial[0].batch, summary.next_batch,
        "it goes out in the open batch"
    );
    h.approve_all();
    let c = h.txn("c");
    assert_eq!(
        (c.state, c.batch, c.settled),
        (TxnState::Approved, summary.next_batch, false)
    );

    // So the next settlement counts it, and until then it can be voided.
    h.print_all();
    let outputs = h.submit("settle-2", Command::Settle);
    match sends(&outputs)[..] {
        [HostRequest::Settlement(s)] => {
            assert_eq!(
                (s.batch, s.totals.count, s.totals.amount_minor),
                (summary.next_batch, 1, 10_000)
            );
        }
        ref other => panic!("expected the settlement, got {other:?}"),
    }
    h.approve_all();
    assert!(h.txn("c").settled);
    let batches: std::collections::HashSet<(BatchNumber, TraceNumber)> =
        h.all_txns().iter().map(|t| (t.batch, t.trace)).collect();
    assert_eq!(batches.len(), h.all_txns().len());
}

fn unbalanced() -> HostReply {
    HostReply {
        settlement_balanced: Some(false),
        ..HostReply::with_code("00")
    }
}

/// A batch with two approved completions (one online, one offline with its advice
/// delivered), a voided pre-auth and an open pre-auth.
fn batch_with_two_completions(h: &mut Harness) -> (TxnRecord, TxnRecord) {
    let p1 = h.approved_preauth("p1", "100.00");
    let p2 = h.approved_preauth("p2", "50.00");
    let p3 = h.approved_preauth("p3", "20.00");
    let _open = h.approved_preauth("p4", "10.00");
    h.submit(
        "c1",
        Command::Complete {
            original_trace: p1.trace,
            amount: cny("90.00"),
        },
    );
    h.approve_all();
    h.submit(
        "c2",
        Command::CompleteOffline {
            original_trace: p2.trace,
            amount: cny("45.00"),
        },
    );
    h.approve_all();
    h.submit(
        "v3",
        Command::Void {
            original_trace: p3.trace,
        },
    );
    h.approve_all();
    h.print_all();
    (h.txn("c1"), h.txn("c2"))
}

#[test]
fn an_unbalanced_settlement_uploads_each_completion_then_the_end_message_and_closes_the_batch() {
    let mut h = Harness::signed_on();
    let (c1, c2) = batch_with_two_completions(&mut h);
    let batch = h.txn("p1").batch;
    let outputs = h.submit("settle", Command::Settle);
    assert!(
        matches!(sends(&outputs)[..], [HostRequest::Settlement(s)] if s.totals.count == 2 && s.totals.amount_minor == 13_500)
    );

    // 对账不平: the batch stays open, and the first record goes out.
    let outputs = h.reply(unbalanced());
    assert!(
        dones(&outputs).is_empty(),
        "the settlement is not over before the upload"
    );
    match sends(&outputs)[..] {
        [
            HostRequest::BatchUpload {
                batch: b, record, ..
            },
        ] => {
            assert_eq!(
                (*b, record.trace, record.kind, record.amount),
                (batch, c1.trace, TxnKind::CompletionRequest, c1.amount)
            );
            assert_eq!(
                (record.auth_code.as_deref(), record.rrn.as_deref()),
                (c1.auth_code.as_deref(), c1.rrn.as_deref())
            );
        }
        ref other => panic!("expected the first upload record, got {other:?}"),
    }
    assert_eq!(h.engine().journal().current_batch().unwrap(), batch);

    // A cashier's completion taken during the upload waits: it is in neither the host's
    // totals nor the upload, so it must not reach the host before the batch closes.
    h.submit(
        "c4",
        Command::Complete {
            original_trace: h.txn("p4").trace,
            amount: cny("10.00"),
        },
    );
    let outputs = h.reply(HostReply::with_code("00"));
    match sends(&outputs)[..] {
        [HostRequest::BatchUpload { record, .. }] => {
            assert_eq!(
                (record.trace, record.kind),
                (c2.trace, TxnKind::CompletionAdvice)
            )
        }
        ref other => panic!("expected the second upload record, got {other:?}"),
    }
    let outputs = h.reply(HostReply::with_code("00"));
    match sends(&outputs)[..] {
        [
            HostRequest::BatchUploadEnd {
                batch: b, count, ..
            },
        ] => assert_eq!((*b, *count), (batch, 2)),
        ref other => panic!("expected the end message, got {other:?}"),
    }
    let outputs = h.reply(HostReply::with_code("00"));
    let summary = match &dones(&outputs)
        .iter()
        .find(|d| d.request_id == rid("settle"))
        .expect("settled")
        .outcome
    {
        Ok(CommandOutcome::Settled(summary)) => *summary,
        other => panic!("expected a settlement, got {other:?}"),
    };
    assert!(!summary.balanced);
    assert_eq!(
        (
            summary.batch,
            summary.uploaded,
            summary.totals.count,
            summary.totals.amount_minor
        ),
        (batch, 2, 2, 13_500)
    );
    assert_eq!(summary.next_batch, batch.next());
    assert!(h.txn("c1").settled && h.txn("c2").settled);
    // Only now does the waiting completion go, in the new batch.
    assert!(matches!(financial_sends(&outputs)[..], [f] if f.batch == batch.next()));
}

#[test]
fn a_batch_upload_that_keeps_failing_gives_the_settlement_up_and_keeps_the_batch_open() {
    let mut h = Harness::signed_on();
    let (c1, _) = batch_with_two_completions(&mut h);
    let batch = c1.batch;
    h.submit("settle", Command::Settle);
    h.reply(unbalanced());
    // The first record: two timeouts are retried, the third gives up.
    for attempt in 1..=3 {
        let outputs = h.timeout();
        if attempt < 3 {
            assert!(
                matches!(sends(&outputs)[..], [HostRequest::BatchUpload { record, .. }] if record.trace == c1.trace),
                "attempt {attempt}"
            );
            continue;
        }
        match &dones(&outputs)[..] {
            [done] => match &done.outcome {
                Err(CommandError::SettlementFailed { why }) => {
                    assert!(why.contains("record 1 of 2"), "{why}")
                }
                other => panic!("expected SettlementFailed, got {other:?}"),
            },
            other => panic!("expected one outcome, got {other:?}"),
        }
    }
    assert_eq!(
        h.engine().journal().current_batch().unwrap(),
        batch,
        "the batch is still open"
    );
    assert!(!h.txn("c1").settled);
    // Settling again repeats the settlement and the whole upload.
    let outputs = h.submit("settle-2", Command::Settle);
    assert!(matches!(sends(&outputs)[..], [HostRequest::Settlement(_)]));
    h.reply(unbalanced());
    h.approve_all();
    assert!(h.txn("c1").settled && h.txn("c2").settled);
    assert_eq!(h.engine().journal().current_batch().unwrap(), batch.next());
}

#[test]
fn settlement_prints_its_slip_after_the_slips_due_and_it_can_be_printed_again() {
    use poscore::{FeeChannel, FeeRate};
    let config = Config {
        fee_rates: vec![FeeRate {
            channel: FeeChannel::Card,
            basis_points: 60,
        }],
        ..Config::default()
    };
    let mut h = Harness::signed_on_with(config);
    let (c1, _) = batch_with_two_completions(&mut h);
    let batch = c1.batch;
    // A slip still at the printer when the batch closes: the report waits for it.
    h.approved_unprinted("p5", "5.00");
    h.submit("settle", Command::Settle);
    let outputs = h.approve_all();
    assert!(
        !outputs.iter().any(|o| matches!(o, Output::PrintReport(_))),
        "the report waits for the slip at the printer"
    );
    h.printed();
    // The slip's second copy goes before the report too.
    h.printed();
    let report = h
        .report
        .clone()
        .expect("the settlement slip goes to the printer");
    assert_eq!(report.batch, batch);
    let slip = h
        .engine()
        .settlement_slip(batch)
        .unwrap()
        .expect("a closed batch has a slip");
    assert_eq!(
        (slip.count, slip.total_minor, slip.balanced),
        (2, 13_500, true)
    );
    // 135.00 × 0.60 % = 0.81.
    assert_eq!(
        slip.fees.iter().map(|f| f.fee_minor).collect::<Vec<_>>(),
        [81]
    );
    let kinds: Vec<_> = slip.per_kind.iter().map(|&(k, n, m)| (k, n, m)).collect();
    assert!(kinds.contains(&(TxnKind::PreAuth, 5, 18_500)), "{kinds:?}");
    assert!(
        kinds.contains(&(TxnKind::PreAuthVoid, 1, 2_000)),
        "{kinds:?}"
    );
    // The printer fails it: reported with a remedy, not retried.
    let report_id = h.report.take().unwrap().report_id;
    let outputs = h.handle(Input::ReportResult {
        report_id,
        outcome: PrintOutcome::Failed {
            condition: Condition::PaperOut,
            detail: "缺纸 / paper out".into(),
            may_have_printed: false,
        },
    });
    assert!(outputs.iter().any(
        |o| matches!(o, Output::Event(Event::SettlementSlip { batch: b, printed: false, detail }) if *b == batch && detail.contains("print it again"))
    ));
    h.tick();
    assert!(
        h.report.is_none(),
        "a failed report is not retried on its own"
    );
    // The operator prints it again; an open batch has none.
    let outputs = h.submit("again", Command::PrintSettlementSlip { batch: None });
    assert!(
        matches!(dones(&outputs)[0].outcome, Ok(CommandOutcome::SettlementSlipQueued { batch: b }) if b == batch)
    );
    assert_eq!(h.report.as_ref().map(|r| r.batch), Some(batch));
    h.print_all();
    let outputs = h.submit(
        "open",
        Command::PrintSettlementSlip {
            batch: Some(batch.next()),
        },
    );
    assert!(matches!(
        &dones(&outputs)[0].outcome,
        Err(CommandError::NoSettledBatch { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------

#[test]
fn every_malformed_amount_gets_its_own_error() {
    type Case = (&'static str, fn(&AmountError) -> bool);
    let cases: [Case; 9] = [
        ("", |e| matches!(e, AmountError::Empty)),
        ("-5.00", |e| matches!(e, AmountError::Negative)),
        ("0.00", |e| matches!(e, AmountError::Zero)),
        ("1.234", |e| {
            matches!(e, AmountError::TooManyDecimals { max: 2, .. })
        }),
        ("10000000000.00", |e| {
            matches!(e, AmountError::Overflow { .. })
        }),
        ("12a", |e| {
            matches!(
                e,
                AmountError::InvalidCharacter {
                    ch: 'a',
                    position: 3
                }
            )
        }),
        ("1,000", |e| {
            matches!(
                e,
                AmountError::InvalidCharacter {
                    ch: ',',
                    position: 2
                }
            )
        }),
        (".50", |e| matches!(e, AmountError::Malformed { .. })),
        ("12.", |e| matches!(e, AmountError::Malformed { .. })),
    ];
    let mut codes = std::collections::BTreeSet::new();
    for (text, expected) in cases {
        let error = Money::parse(text, Currency::CNY).expect_err(text);
        assert!(expected(&error), "{text:?} gave {error:?}");
        assert!(!error.zh().is_empty() && !error.en().is_empty());
        let command_error = CommandError::from(error);
        assert!(command_error.code().starts_with("AMOUNT_"));
        codes.insert(command_error.code());
    }
    assert_eq!(
        codes.len(),
        7,
        "seven kinds of malformed amount, seven codes: {codes:?}"
    );
    // A zero-decimal currency takes no decimal point.
    let jpy = Currency::from_code("JPY").unwrap();
    assert!(matches!(
        Money::parse("5.0", jpy),
        Err(AmountError::TooManyDecimals { max: 0, .. })
    ));
}

#[test]
fn a_mistyped_card_number_fails_the_luhn_check_and_each_card_error_is_distinct() {
    let now = start_time();
    type Case = (&'static str, &'static str, fn(&CardError) -> bool);
    let cases: [Case; 7] = [
        ("6222021234567890127", "3012", |e| {
            matches!(e, CardError::PanLuhn)
        }),
        ("", "3012", |e| matches!(e, CardError::PanEmpty)),
        ("6222 0212", "3012", |e| {
            matches!(e, CardError::PanNotDigits { position: 5 })
        }),
        ("411111111111", "3012", |e| {
            matches!(e, CardError::PanLength { length: 12 })
        }),
        (PAN_CUP, "30-2", |e| matches!(e, CardError::ExpiryFormat)),
        (PAN_CUP, "3013", |e| {
            matches!(e, CardError::ExpiryMonth { month: 13 })
        }),
        (PAN_CUP, "2610", |e| matches!(e, CardError::Expired { .. })),
    ];
    let mut codes = std::collections::BTreeSet::new();
    for (pan, expiry, expected) in cases {
        let error = CardInput::parse(pan, expiry, now).expect_err(pan);
        assert!(expected(&error), "{pan:?}/{expiry} gave {error:?}");
        if pan.len() >= 8 {
            assert!(
                !error.en().contains(pan) && !error.zh().contains(pan),
                "an error never repeats the card number"
            );
        }
        codes.insert(CommandError::from(error).code());
    }
    assert_eq!(codes.len(), 7, "{codes:?}");
    assert!(CardInput::parse(&with_check_digit("622202123456789012"), "3012", now).is_ok());
    assert_eq!(with_check_digit("622202123456789012"), PAN_CUP);
}

#[test]
fn an_amount_in_another_currency_is_refused() {
    let mut h = Harness::signed_on();
    let usd = Currency::from_code("USD").unwrap();
    let outputs = h.submit(
        "r1",
        Command::PreAuth {
            amount: Money::parse("10.00", usd).unwrap(),
            card: card(PAN_CUP),
        },
    );
    match refusal(&outputs) {
        CommandError::CurrencyMismatch { given, expected } => {
            assert_eq!((given.as_str(), expected.as_str()), ("USD", "CNY"))
        }
        other => panic!("expected CurrencyMismatch, got {other:?}"),
    }
    assert!(sends(&outputs).is_empty());
    assert!(h.maybe_txn("r1").is_none());

    let p = h.approved_preauth("p", "100.00");
    let outputs = h.submit(
        "c",
        Command::Complete {
            original_trace: p.trace,
            amount: Money::parse("10.00", usd).unwrap(),
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::CurrencyMismatch { .. }
    ));
    assert!(h.maybe_txn("c").is_none());
    // The request id was not used up by the refusal.
    let outputs = h.submit("r1", preauth("10.00", PAN_CUP));
    assert_eq!(financial_sends(&outputs).len(), 1);
}

#[test]
fn an_expired_card_is_refused_by_the_engine_at_the_time_of_the_command() {
    let mut h = Harness::signed_on();
    // Valid when read, expired by the time the command reaches the engine.
    let card = CardInput::parse(PAN_CUP, "2611", start_time()).unwrap();
    h.advance_ms(10 * 86_400_000);
    let outputs = h.submit(
        "r1",
        Command::PreAuth {
            amount: cny("10.00"),
            card,
        },
    );
    assert!(matches!(
        refusal(&outputs),
        CommandError::Card(CardError::Expired { .. })
    ));
    assert!(h.maybe_txn("r1").is_none());
}

/// The name of each `CommandError` variant. The match has no wildcard, so a new variant
/// does not compile until it is added to the list below.
fn variant(error: &CommandError) -> &'static str {
    match error {
        CommandError::Amount(_) => "Amount",
        CommandError::Card(_) => "Card",
        CommandError::Id(_) => "Id",
        CommandError::RequestIdConflict { .. } => "RequestIdConflict",
        CommandError::OriginalNotFound { .. } => "OriginalNotFound",
        CommandError::WrongOriginalKind { .. } => "WrongOriginalKind",
        CommandError::OriginalNotApproved { .. } => "OriginalNotApproved",
        CommandError::AlreadyVoided { .. } => "AlreadyVoided",
        CommandError::AlreadyCompleted { .. } => "AlreadyCompleted",
        CommandError::OriginalBusy { .. } => "OriginalBusy",
        CommandError::PreAuthExpired { .. } => "PreAuthExpired",
        CommandError::CompletionOverLimit { .. } => "CompletionOverLimit",
        CommandError::CurrencyMismatch { .. } => "CurrencyMismatch",
        CommandError::AlreadySettled { .. } => "AlreadySettled",
        CommandError::HostUnreachable { .. } => "HostUnreachable",
        CommandError::SignOnFailed { .. } => "SignOnFailed",
        CommandError::NothingToRetry { .. } => "NothingToRetry",
        CommandError::SettlementFailed { .. } => "SettlementFailed",
        CommandError::BatchFull { .. } => "BatchFull",
        CommandError::NothingToReprint { .. } => "NothingToReprint",
        CommandError::NothingToDeliver { .. } => "NothingToDeliver",
        CommandError::NoSettledBatch { .. } => "NoSettledBatch",
        CommandError::BadSignature { .. } => "BadSignature",
        CommandError::Journal(_) => "Journal",
    }
}

#[test]
fn every_command_error_speaks_chinese_and_english() {
    let t = trace(12);
    let all = vec![
        CommandError::Amount(AmountError::Zero),
        CommandError::Card(CardError::PanLuhn),
        CommandError::Id(RequestId::parse("a b").unwrap_err()),
        CommandError::RequestIdConflict {
            request_id: "r1".into(),
            trace: t,
        },
        CommandError::OriginalNotFound { trace: t },
        CommandError::WrongOriginalKind {
            trace: t,
            found: TxnKind::CompletionRequest,
            expected: TxnKind::PreAuth,
            hint: "use complete-void",
        },
        CommandError::OriginalNotApproved {
            trace: t,
            state: TxnState::Declined,
            action: "voided",
        },
        CommandError::NothingToReprint {
            what: "trace 000012".into(),
        },
        CommandError::NothingToDeliver { trace: t },
        CommandError::NoSettledBatch {
            what: "batch 000007".into(),
        },
        CommandError::BadSignature {
            why: "no strokes".into(),
        },
        CommandError::AlreadyVoided { trace: t },
        CommandError::AlreadyCompleted { trace: t },
        CommandError::OriginalBusy {
            trace: t,
            other: trace(13),
            kind: TxnKind::PreAuthVoid,
            state: TxnState::Unknown,
        },
        CommandError::PreAuthExpired { trace: t, days: 30 },
        CommandError::CompletionOverLimit {
            requested: "CNY 115.01".into(),
            max: "CNY 115.00".into(),
            percent: 115,
        },
        CommandError::CurrencyMismatch {
            given: "USD".into(),
            expected: "CNY".into(),
        },
        CommandError::AlreadySettled {
            trace: t,
            batch: "000001".into(),
        },
        CommandError::HostUnreachable {
            why: "connect refused".into(),
        },
        CommandError::SignOnFailed { code: "96".into() },
        CommandError::NothingToRetry { trace: t },
        CommandError::SettlementFailed {
            why: "no answer in time".into(),
        },
        CommandError::BatchFull {
            batch: "000001".into(),
        },
        CommandError::Journal(JournalError::Poisoned),
    ];
    let mut names = std::collections::BTreeSet::new();
    let mut codes = std::collections::BTreeSet::new();
    for error in &all {
        names.insert(variant(error));
        codes.insert(error.code());
        let (zh, en) = (error.zh(), error.en());
        assert!(!zh.trim().is_empty(), "{error:?} has no Chinese text");
        assert!(!en.trim().is_empty(), "{error:?} has no English text");
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{error:?}: {zh:?} is not Chinese"
        );
        assert!(
            en.chars().filter(|c| c.is_ascii_alphabetic()).count() > 10,
            "{error:?}: {en:?} is not English"
        );
        assert_ne!(zh, en);
        assert_eq!(error.message(poscore::Lang::Zh), zh);
        assert_eq!(error.message(poscore::Lang::En), en);
    }
    assert_eq!(names.len(), all.len(), "every variant once");
    assert_eq!(names.len(), 24, "every CommandError variant is listed");
    assert_eq!(
        codes.len(),
        all.len(),
        "each variant has its own code: {codes:?}"
    );
    // Every journal error speaks both languages too.
    for error in [
        JournalError::Poisoned,
        JournalError::Corrupt { what: "x".into() },
        JournalError::InUse {
            path: "/tmp/j.db".into(),
        },
        JournalError::SchemaTooNew {
            found: 9,
            supported: 1,
        },
    ] {
        assert!(!error.zh().is_empty() && !error.en().is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// No card data at rest
// ---------------------------------------------------------------------------------------

#[test]
fn no_full_pan_is_at_rest_after_a_day_of_transactions() {
    let pans: Vec<String> = [
        "622202000000000012",
        "622848001122334455",
        "411111222233334444",
        "625807987654321098",
    ]
    .iter()
    .map(|body| with_check_digit(body))
    .chain([PAN_CUP.to_string(), PAN_VISA.to_string()])
    .collect();
    let mut h = Harness::signed_on();
    let mut n = 0;
    for (i, pan) in pans.iter().cycle().take(24).enumerate() {
        n += 1;
        let id = format!("day-{n}");
        let amount = format!("{}.{:02}", 10 + i * 7, i);
        h.submit(
            &id,
            Command::PreAuth {
                amount: cny(&amount),
                card: card(pan),
            },
        );
        match i % 6 {
            0..=2 => {
                h.approve_all();
            }
            3 => {
                h.reply(HostReply::with_code("51"));
            }
            4 => {
                h.timeout();
                h.approve_all();
            }
            _ => {
                h.reply(bad_mac());
                h.approve_all();
            }
        }
        h.print_all();
        let record = h.txn(&id);
        if record.state == TxnState::Approved {
            match i % 3 {
                0 => {
                    h.submit(
                        &format!("{id}-c"),
                        Command::Complete {
                            original_trace: record.trace,
                            amount: record.amount,
                        },
                    );
                }
                1 => {
                    h.submit(
                        &format!("{id}-a"),
                        Command::CompleteOffline {
                            original_trace: record.trace,
                            amount: record.amount,
                        },
                    );
                }
                _ => {
                    h.submit(
                        &format!("{id}-v"),
                        Command::Void {
                            original_trace: record.trace,
                        },
                    );
                }
            }
            h.approve_all();
            h.print_all();
        }
        if i == 10 {
            // A crash with a pre-auth in flight, its card in memory only.
            h.submit(
                "crash",
                Command::PreAuth {
                    amount: cny("1.00"),
                    card: card(pan),
                },
            );
            h.reopen();
            h.tick();
            h.approve_all();
        }
        h.advance_ms(20 * 60_000);
    }
    h.submit("settle", Command::Settle);
    h.approve_all();

    let check = |bytes: &[u8], when: &str| {
        assert!(bytes.len() > 4096, "the journal has content");
        for pan in &pans {
            assert!(
                !contains(bytes, pan.as_bytes()),
                "the full PAN {pan} is in the journal files {when}"
            );
        }
    };
    check(&h.journal_bytes(), "while open");

    // The export shows the masked PAN, and only it.
    let mut exported = String::new();
    h.journal()
        .for_each(|r| {
            exported.push_str(&r.to_export_json().to_string());
            exported.push_str(&r.to_csv_row());
            Ok(())
        })
        .unwrap();
    for pan in &pans {
        let masked = format!(
            "{}{}{}",
            &pan[..6],
            "*".repeat(pan.len() - 10),
            &pan[pan.len() - 4..]
        );
        assert!(exported.contains(&masked), "{masked} is in the export");
        assert!(!exported.contains(pan.as_str()));
    }
    assert_eq!(
        h.all_txns().len(),
        24 + 12 + 1,
        "24 pre-auths, 12 follow-ups, 1 cut off by the crash"
    );

    h.engine = None;
    check(&h.journal_bytes(), "after closing");
}

// ---- The durable print queue (issue 5) ----

fn events(outputs: &[Output]) -> Vec<&Event> {
    outputs
        .iter()
        .filter_map(|o| {
            if let Output::Event(e) = o {
                Some(e)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn paper_out_holds_printing_until_the_printer_is_ready_and_counts_a_paper_change() {
    let mut h = Harness::signed_on();
    let t = h.approved_unprinted("r1", "100.00");
    let outputs = h.print_fails(Condition::PaperOut, false);
    assert!(
        events(&outputs).iter().any(|e| matches!(e, Event::PrintingHeld { reason, remedy } if reason == "paper_out" && remedy.0.contains("缺纸")))
    );
    let record = h.txn("r1");
    assert_eq!(record.print_jobs[0].state, PrintJobState::Held);
    assert_eq!(
        record.print_jobs[0].held_reason.as_deref(),
        Some("paper_out")
    );
    // Printing pauses: no slip goes out while it is held (short of the electronic receipt
    // fallback, 120 s by default).
    h.advance_ms(100_000);
    h.tick();
    assert!(
        h.printing.is_none(),
        "nothing is sent into a paper-out printer"
    );
    let finding = h.journal().diagnose(t.trace).unwrap().unwrap().slips[0]
        .finding
        .clone()
        .unwrap();
    assert_eq!(finding.cause, Cause::PrinterHardware);
    assert!(finding.remedy_zh.contains("缺纸") && finding.remedy_en.contains("out of paper"));

    let outputs = h.handle(Input::PrinterReady);
    assert!(
        events(&outputs)
            .iter()
            .any(|e| matches!(e, Event::PrintingResumed))
    );
    let printed = h.print_all();
    assert_eq!(
        printed.iter().map(|j| (j.copy, j.kind)).collect::<Vec<_>>(),
        vec![
            (SlipCopy::Merchant, PrintKind::Original),
            (SlipCopy::Cardholder, PrintKind::Original)
        ]
    );
    let record = h.txn("r1");
    assert!(
        record
            .print_jobs
            .iter()
            .all(|j| j.state == PrintJobState::Printed
                && j.printed_at.is_some()
                && j.delivered == Some(poscore::txn::Delivery::Paper))
    );
    let health = h.journal().printer_health(19_000).unwrap();
    assert_eq!(
        (
            health.jobs_printed,
            health.paper_changes,
            health.printed_mm,
            health.mm_since_paper_change
        ),
        (2, 1, 200, 200)
    );
    assert_eq!(health.faults, vec![("paper_out".to_string(), 1)]);
    assert_eq!(health.waiting, 0);
    assert_eq!(health.paper_left_mm, 18_800);
}

#[test]
fn a_slip_that_may_have_printed_prints_again_marked_reprint() {
    let mut h = Harness::signed_on();
    h.approved_unprinted("r1", "100.00");
    h.print_fails(Condition::CommunicationError, true);
    let job = &h.txn("r1").print_jobs[0];
    assert_eq!(
        (job.state, job.kind),
        (PrintJobState::Queued, PrintKind::Reprint)
    );
    h.advance_ms(60_000);
    h.tick();
    let out = h.printing.clone().expect("retried");
    assert_eq!(
        (out.copy, out.kind),
        (SlipCopy::Merchant, PrintKind::Reprint)
    );
    assert!(
        format!("{:?}", out.document).contains("REPRINT"),
        "the slip itself says REPRINT"
    );
    h.print_all();
    // A failure the printer explained (not printed) keeps the original an original.
    let mut h = Harness::signed_on();
    h.approved_unprinted("r2", "100.00");
    h.print_fails(Condition::Overheated, false);
    assert_eq!(h.txn("r2").print_jobs[0].kind, PrintKind::Original);
}

#[test]
fn the_cardholder_copy_waits_for_the_merchant_copy() {
    let mut h = Harness::signed_on();
    h.approved_unprinted("r1", "100.00");
    let first = h.printing.clone().unwrap();
    assert_eq!(
        (first.copy, first.number, first.of),
        (SlipCopy::Merchant, 1, 2)
    );
    h.print_fails(Condition::Busy, false);
    h.tick();
    assert!(
        h.printing.is_none(),
        "the cardholder copy does not overtake the merchant copy"
    );
    h.advance_ms(60_000);
    h.tick();
    assert_eq!(
        h.printing.as_ref().map(|j| j.copy),
        Some(SlipCopy::Merchant)
    );
    h.printed();
    let second = h.printing.clone().expect("then the cardholder copy");
    assert_eq!(
        (second.copy, second.number, second.of),
        (SlipCopy::Cardholder, 2, 2)
    );
}

#[test]
fn the_tear_prompt_holds_the_next_copy_until_the_operator_continues() {
    let mut config = Config::default();
    config.printing.tear_prompt = true;
    let mut h = Harness::signed_on_with(config);
    let t = h.approved_unprinted("r1", "100.00");
    let outputs = h.printed();
    assert!(
        events(&outputs)
            .iter()
            .any(|e| matches!(e, Event::PrintingHeld { reason, .. } if reason == "tear_off"))
    );
    assert!(h.printing.is_none());
    let slips = h.journal().diagnose(t.trace).unwrap().unwrap().slips;
    assert_eq!(
        slips[1].finding.as_ref().map(|f| f.cause),
        Some(Cause::Operator)
    );
    // The printer being ready does not release a tear-off hold: the operator does.
    h.handle(Input::PrinterReady);
    assert!(h.printing.is_none());
    let outputs = h.submit("resume", Command::ResumePrinting);
    assert!(outputs.iter().any(|o| matches!(o, Output::Done(d) if matches!(d.outcome, Ok(CommandOutcome::PrintingResumed { jobs: 1 })))));
    assert_eq!(
        h.printing.as_ref().map(|j| j.copy),
        Some(SlipCopy::Cardholder)
    );
}

#[test]
fn reprints_are_marked_counted_and_refused_without_a_slip() {
    let mut h = Harness::signed_on();
    let nothing = h.submit(
        "rp0",
        Command::Reprint {
            trace: None,
            copy: None,
        },
    );
    assert!(
        matches!(&nothing[..], [Output::Done(d)] if matches!(d.outcome, Err(CommandError::NothingToReprint { .. })))
    );
    let t = h.approved_unprinted("r1", "100.00");
    h.print_all();
    // The last slip printed was the cardholder copy.
    h.submit(
        "rp1",
        Command::Reprint {
            trace: None,
            copy: None,
        },
    );
    let reprint = h.printing.clone().expect("the reprint goes to the printer");
    assert_eq!(
        (reprint.copy, reprint.kind, reprint.txn.trace),
        (SlipCopy::Cardholder, PrintKind::Reprint, t.trace)
    );
    h.print_all();
    h.submit(
        "rp2",
        Command::Reprint {
            trace: Some(t.trace),
            copy: Some(SlipCopy::Merchant),
        },
    );
    assert_eq!(
        h.printing.as_ref().map(|j| (j.copy, j.kind)),
        Some((SlipCopy::Merchant, PrintKind::Reprint))
    );
    h.print_all();
    let jobs = h.txn("r1").print_jobs;
    assert_eq!(
        jobs.iter()
            .filter(|j| j.kind == PrintKind::Original)
            .count(),
        2,
        "originals printed once"
    );
    assert_eq!(
        jobs.iter()
            .filter(|j| j.kind == PrintKind::Reprint && j.state == PrintJobState::Printed)
            .count(),
        2
    );
    assert_eq!(h.journal().printer_health(19_000).unwrap().reprints, 2);
    // A declined transaction has no slip to reprint.
    h.submit("d", preauth("100.05", PAN_CUP));
    h.answer_all_with(HostReply::with_code("51"));
    let declined = h.txn("d");
    let refused = h.submit(
        "rp3",
        Command::Reprint {
            trace: Some(declined.trace),
            copy: None,
        },
    );
    assert!(
        matches!(&refused[..], [Output::Done(d)] if matches!(d.outcome, Err(CommandError::NothingToReprint { .. })))
    );
}

#[test]
fn a_slip_failing_too_long_is_delivered_electronically_and_printed_later_as_a_reprint() {
    let mut config = Config::default();
    config.printing.e_receipt_after_ms = 30_000;
    let mut h = Harness::signed_on_with(config);
    let t = h.approved_unprinted("r1", "100.00");
    h.print_fails(Condition::CoverOpen, false);
    h.advance_ms(29_000);
    let outputs = h.tick();
    assert!(
        !events(&outputs)
            .iter()
            .any(|e| matches!(e, Event::ElectronicReceipt { .. }))
    );
    h.advance_ms(2_000);
    let outputs = h.tick();
    assert!(events(&outputs).iter().any(|e| matches!(e, Event::ElectronicReceipt { trace, copy: SlipCopy::Merchant, .. } if *trace == t.trace)));
    let jobs = h.txn("r1").print_jobs;
    assert_eq!(
        (jobs[0].state, jobs[0].delivered),
        (
            PrintJobState::Delivered,
            Some(poscore::txn::Delivery::Electronic)
        )
    );
    // The paper copy follows, marked REPRINT, once the printer works again.
    assert!(jobs.iter().any(|j| j.copy == SlipCopy::Merchant
        && j.kind == PrintKind::Reprint
        && j.state == PrintJobState::Queued));
    h.handle(Input::PrinterReady);
    let printed = h.print_all();
    assert!(
        printed
            .iter()
            .any(|j| j.copy == SlipCopy::Merchant && j.kind == PrintKind::Reprint)
    );
    assert!(
        !printed
            .iter()
            .any(|j| j.copy == SlipCopy::Merchant && j.kind == PrintKind::Original),
        "the original went electronically"
    );
    // On request; and nothing left to deliver afterwards.
    let t2 = h.approved_unprinted("r2", "50.00");
    h.print_fails(Condition::PaperOut, false);
    let outputs = h.submit(
        "e",
        Command::DeliverElectronically {
            trace: t2.trace,
            copy: None,
        },
    );
    assert!(
        matches!(outputs.iter().find(|o| matches!(o, Output::Done(_))), Some(Output::Done(d)) if d.outcome.is_ok())
    );
    assert!(
        h.txn("r2")
            .print_jobs
            .iter()
            .filter(|j| j.kind == PrintKind::Original)
            .all(|j| j.state == PrintJobState::Delivered)
    );
    let again = h.submit(
        "e2",
        Command::DeliverElectronically {
            trace: t2.trace,
            copy: Some(SlipCopy::Merchant),
        },
    );
    assert!(
        matches!(again.iter().find(|o| matches!(o, Output::Done(_))), Some(Output::Done(d)) if matches!(d.outcome, Err(CommandError::NothingToDeliver { .. })))
    );
}

#[test]
fn signatures_are_checked_stored_and_printed() {
    use poscore::signature::Signature;
    let mut h = Harness::signed_on();
    let t = h.approved_unprinted("r1", "100.00");
    h.print_fails(Condition::PaperOut, false);
    let bad = h.submit(
        "s0",
        Command::SaveSignature {
            trace: t.trace,
            signature: b"not a signature".to_vec(),
        },
    );
    assert!(
        matches!(&bad[..], [Output::Done(d)] if matches!(d.outcome, Err(CommandError::BadSignature { .. })))
    );
    let strokes = Signature::Strokes {
        width: 400,
        height: 160,
        strokes: vec![vec![(10, 80), (100, 20), (200, 140), (390, 60)]],
    };
    let ok = h.submit(
        "s1",
        Command::SaveSignature {
            trace: t.trace,
            signature: strokes.to_bytes(),
        },
    );
    assert!(matches!(&ok[..], [Output::Done(d)] if d.outcome.is_ok()));
    h.handle(Input::PrinterReady);
    let job = h.printing.clone().unwrap();
    let images = job
        .document
        .elements
        .iter()
        .filter(|e| matches!(e, poscore_escpos::Element::Image { .. }))
        .count();
    assert!(images >= 1, "the signature is printed on the slip");
}

#[test]
fn training_transactions_are_marked_and_kept_out_of_the_totals() {
    let mut h = Harness::signed_on_with(Config {
        training: true,
        ..Config::default()
    });
    let t = h.approved_unprinted("r1", "100.00");
    assert!(t.training && h.txn("r1").training);
    let job = h.printing.clone().unwrap();
    assert!(format!("{:?}", job.document).contains("TRAINING"));
    h.print_all();
    h.submit(
        "c1",
        Command::Complete {
            original_trace: t.trace,
            amount: cny("100.00"),
        },
    );
    h.approve_all();
    h.print_all();
    h.submit("settle", Command::Settle);
    let settlement = h
        .sent
        .iter()
        .rev()
        .find_map(|r| {
            if let HostRequest::Settlement(s) = r {
                Some(s.clone())
            } else {
                None
            }
        })
        .expect("settlement sent");
    assert_eq!(
        settlement.totals.count, 0,
        "training completions are not in the totals"
    );
}

#[test]
fn diagnosis_names_the_network_and_sync_causes_for_a_transaction_without_slips() {
    let mut h = Harness::signed_on();
    h.submit("lost", preauth("100.00", PAN_CUP));
    let unknown = h.txn("lost");
    h.timeout();
    let d = h.journal().diagnose(unknown.trace).unwrap().unwrap();
    assert_eq!(d.no_slip.map(|f| f.cause), Some(Cause::Sync));
    assert!(d.slips.is_empty() && !d.timeline.is_empty());
    h.answer_all_with(HostReply::with_code("00"));
    h.submit("gone", preauth("100.00", PAN_VISA));
    let gone = h.txn("gone");
    h.link_failed();
    let d = h.journal().diagnose(gone.trace).unwrap().unwrap();
    assert_eq!(
        d.no_slip.as_ref().map(|f| f.cause),
        Some(Cause::Network),
        "{d:?}"
    );
    assert!(d.no_slip.unwrap().remedy_zh.contains("网络"));
    assert!(
        h.journal()
            .diagnose(TraceNumber::new(999_999).unwrap())
            .unwrap()
            .is_none()
    );
}

#[test]
fn slips_released_from_a_hold_print_before_slips_made_during_it() {
    let mut h = Harness::signed_on();
    let first = h.approved_unprinted("r1", "100.00");
    h.print_fails(Condition::PaperOut, false);
    let second = h.approved_preauth_held("r2", "50.00");
    h.handle(Input::PrinterReady);
    let order: Vec<_> = h
        .print_all()
        .iter()
        .map(|j| (j.txn.trace, j.copy))
        .collect();
    assert_eq!(
        order,
        vec![
            (first.trace, SlipCopy::Merchant),
            (first.trace, SlipCopy::Cardholder),
            (second.trace, SlipCopy::Merchant),
            (second.trace, SlipCopy::Cardholder)
        ]
    );
}

#[test]
fn a_clock_that_goes_back_does_not_leave_retries_waiting_for_it() {
    let config = Config::default();
    let mut h = Harness::signed_on_with(config.clone());
    h.approved_unprinted("r1", "10.00");
    // The printer fails the slip (it may have printed): retried after a backoff…
    h.print_fails(Condition::Overheated, true);
    assert!(h.printing.is_none());
    // …then the wall clock is set back an hour. Without care the retry would wait an hour.
    h.now = h.now.plus_millis(-3_600_000);
    h.tick();
    h.advance_ms(config.retry_max_delay_ms as i64);
    h.tick();
    let job = h
        .printing
        .clone()
        .expect("the retry is due within the longest retry delay");
    assert_eq!(
        job.kind,
        PrintKind::Reprint,
        "it may have printed: the retry is a reprint"
    );
}
