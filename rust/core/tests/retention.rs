//! Retention of card data (PCI DSS 3.2.1, `journal::retention`): a settlement purges the
//! card data of settled transactions older than `Config::retention_days`, and only theirs.
//!
//! The engine is driven with explicit timestamps: one batch of transactions of every outcome
//! on day 0, settled at once (nothing is old yet), then a new transaction on day 45 and a
//! second settlement (retention 30 days): the day-0 transactions whose outcome is final are
//! purged, the others are kept. A third settlement purges nothing more (idempotent); a
//! fourth, once the open pre-auth can no longer be completed, purges it too.

use std::path::PathBuf;

use poscore::card::{CardInput, PanHashKey};
use poscore::host::{ExchangeId, HostReply, HostRequest};
use poscore::ids::RequestId;
use poscore::money::{Currency, Money};
use poscore::print::PrintOutcome;
use poscore::record::TxnRecord;
use poscore::signature::Signature;
use poscore::txn::{ReversalState, TxnState};
use poscore::{
    Command, CommandOutcome, Config, Engine, Input, Output, PrintJob, ReportJob, Ticket, Timestamp,
};

const PAN_CUP: &str = "6222021234567890128";
const PAN_VISA: &str = "4111111111111111";
const DAY_MS: i64 = 86_400_000;

fn day0() -> Timestamp {
    Timestamp::from_civil(2026, 1, 5, 9, 0, 0)
}

fn key() -> PanHashKey {
    PanHashKey::new(vec![7; 32]).expect("a 32-byte key")
}

fn cny(text: &str) -> Money {
    Money::parse(text, Currency::CNY).expect("an amount")
}

fn preauth(amount: &str, pan: &str) -> Command {
    Command::PreAuth {
        amount: cny(amount),
        card: CardInput::parse(pan, "3012", day0()).expect("a card"),
    }
}

/// An engine on a temporary journal, its clock, and the exchange and slip in flight.
struct Terminal {
    _dir: tempfile::TempDir,
    path: PathBuf,
    config: Config,
    engine: Option<Engine>,
    now: Timestamp,
    ticket: u64,
    replies: u64,
    in_flight: Option<(ExchangeId, HostRequest)>,
    printing: Option<PrintJob>,
    report: Option<ReportJob>,
}

impl Terminal {
    fn new(config: Config) -> Terminal {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.db");
        let (engine, _) = Engine::open(&path, config.clone(), key(), day0()).expect("opens");
        let mut t = Terminal {
            _dir: dir,
            path,
            config,
            engine: Some(engine),
            now: day0(),
            ticket: 0,
            replies: 0,
            in_flight: None,
            printing: None,
            report: None,
        };
        t.submit("sign-on", Command::SignOn);
        t.approve();
        t
    }

    fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("open")
    }

    fn handle(&mut self, input: Input) -> Vec<Output> {
        let outputs = self
            .engine
            .as_mut()
            .expect("open")
            .handle(self.now, input)
            .expect("the journal works");
        for output in &outputs {
            match output {
                Output::Send { exchange, request } => {
                    assert!(self.in_flight.is_none(), "one exchange at a time");
                    self.in_flight = Some((*exchange, request.clone()));
                }
                Output::Print(job) => self.printing = Some(job.clone()),
                Output::PrintReport(report) => self.report = Some(report.clone()),
                Output::Done(_) | Output::Event(_) => {}
            }
        }
        outputs
    }

    fn submit(&mut self, request_id: &str, command: Command) -> Vec<Output> {
        self.ticket += 1;
        let ticket = Ticket(self.ticket);
        self.handle(Input::Command {
            ticket,
            request_id: RequestId::parse(request_id).expect("a request id"),
            command,
        })
    }

    fn in_flight(&self) -> &HostRequest {
        &self.in_flight.as_ref().expect("an exchange in flight").1
    }

    fn reply(&mut self, reply: HostReply) -> Vec<Output> {
        let (exchange, _) = self.in_flight.take().expect("an exchange in flight");
        self.handle(Input::HostReply { exchange, reply })
    }

    fn approve(&mut self) -> Vec<Output> {
        self.replies += 1;
        let n = self.replies;
        self.reply(HostReply::approved(
            &format!("{:06}", 100_000 + n),
            &format!("{:012}", 600_105_000_000 + n),
        ))
    }

    fn timeout(&mut self) -> Vec<Output> {
        let (exchange, _) = self.in_flight.take().expect("an exchange in flight");
        self.handle(Input::HostTimeout { exchange })
    }

    /// Confirms every slip and report until the printer is idle.
    fn print_all(&mut self) {
        for _ in 0..200 {
            if let Some(report) = self.report.take() {
                self.handle(Input::ReportResult {
                    report_id: report.report_id,
                    outcome: PrintOutcome::Printed { length_mm: 120 },
                });
            } else if let Some(job) = self.printing.take() {
                self.handle(Input::PrintResult {
                    job_id: job.job_id,
                    outcome: PrintOutcome::Printed { length_mm: 100 },
                });
            } else {
                return;
            }
        }
        panic!("the printer never went idle");
    }

    fn set_now(&mut self, at: Timestamp) {
        assert!(at >= self.now);
        self.now = at;
    }

    fn txn(&self, request_id: &str) -> TxnRecord {
        self.engine()
            .journal()
            .find_by_request_id(&RequestId::parse(request_id).unwrap())
            .unwrap()
            .expect("the transaction exists")
    }

    /// A pre-auth answered by `reply` (approved when `None`), its slips printed.
    fn preauth(&mut self, request_id: &str, amount: &str, pan: &str, reply: Option<HostReply>) {
        self.submit(request_id, preauth(amount, pan));
        assert!(matches!(self.in_flight(), HostRequest::Financial(_)));
        match reply {
            None => self.approve(),
            Some(reply) => self.reply(reply),
        };
        self.print_all();
    }

    /// Settles the open batch (approving it), prints the settlement slip.
    fn settle(&mut self, request_id: &str) {
        let outputs = self.submit(request_id, Command::Settle);
        let mut all = outputs;
        for _ in 0..20 {
            if self.in_flight.is_none() {
                break;
            }
            all.extend(self.approve());
        }
        assert!(
            all.iter().any(|o| matches!(o, Output::Done(d)
                if matches!(d.outcome, Ok(CommandOutcome::Settled(_))))),
            "the settlement went through: {all:#?}"
        );
        self.print_all();
    }

    /// Closes the engine, reads `(masked_pan, pan_hash, fingerprint, has signature)` of
    /// every transaction by request id and the `card_data`/`retention` events, reopens.
    fn raw(&mut self) -> Raw {
        self.engine = None;
        let raw = {
            let conn = rusqlite::Connection::open(&self.path).expect("the journal opens");
            let mut stmt = conn
                .prepare(
                    "SELECT request_id, masked_pan, pan_hash, fingerprint, \
                     EXISTS (SELECT 1 FROM signatures s WHERE s.txn_id = t.id) FROM transactions t ORDER BY id",
                )
                .unwrap();
            let rows = stmt
                .query_map([], |r| {
                    Ok(RawTxn {
                        request_id: r.get(0)?,
                        masked_pan: r.get(1)?,
                        pan_hash: r.get(2)?,
                        fingerprint: r.get(3)?,
                        signed: r.get(4)?,
                    })
                })
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let card_data_events: Vec<(Option<String>, String)> = conn
                .prepare(
                    "SELECT t.request_id, e.cause FROM events e LEFT JOIN transactions t ON t.id = e.txn_id \
                     WHERE e.entity IN ('card_data', 'retention') ORDER BY e.id",
                )
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            Raw {
                txns: rows,
                events: card_data_events,
            }
        };
        let (engine, _) =
            Engine::open(&self.path, self.config.clone(), key(), self.now).expect("reopens");
        self.engine = Some(engine);
        raw
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct RawTxn {
    request_id: String,
    masked_pan: String,
    pan_hash: String,
    fingerprint: String,
    signed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Raw {
    txns: Vec<RawTxn>,
    /// (request id of the transaction, or None for the summary row; cause).
    events: Vec<(Option<String>, String)>,
}

impl Raw {
    fn of(&self, request_id: &str) -> &RawTxn {
        self.txns
            .iter()
            .find(|t| t.request_id == request_id)
            .unwrap_or_else(|| panic!("{request_id} in the journal"))
    }

    fn purged_ids(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|(id, _)| id.clone())
            .collect()
    }
}

fn assert_kept(raw: &Raw, request_id: &str) {
    let t = raw.of(request_id);
    assert!(
        t.masked_pan.as_bytes()[0].is_ascii_digit() && t.masked_pan.contains('*'),
        "{request_id} keeps BIN + last 4: {t:?}"
    );
    assert_eq!(
        t.pan_hash.len(),
        64,
        "{request_id} keeps its PAN hash: {t:?}"
    );
}

fn assert_purged(raw: &Raw, request_id: &str, last4: &str) {
    let t = raw.of(request_id);
    assert!(t.pan_hash.is_empty(), "{request_id}: hash cleared: {t:?}");
    let stars = t.masked_pan.len() - 4;
    assert_eq!(
        t.masked_pan,
        format!("{}{last4}", "*".repeat(stars)),
        "{request_id}: last 4 only"
    );
    assert!(!t.signed, "{request_id}: no signature left");
    assert!(
        !t.fingerprint.split('|').any(|part| part.len() == 64),
        "{request_id}: no hash in the fingerprint: {t:?}"
    );
}

fn signature() -> Vec<u8> {
    Signature::Strokes {
        width: 400,
        height: 160,
        strokes: vec![vec![(10, 80), (100, 20), (200, 140), (390, 60)]],
    }
    .to_bytes()
}

#[test]
fn settlement_purges_old_settled_card_data_and_nothing_else() {
    let config = Config {
        retention_days: 30,
        preauth_valid_days: 60,
        ..Config::default()
    };
    config.validate().expect("a valid config");
    let mut t = Terminal::new(config);

    // Day 0, batch 1: every kind of outcome.
    t.preauth("completed", "100.00", PAN_CUP, None); // completed below
    let completed_trace = t.txn("completed").trace;
    t.submit(
        "completion",
        Command::Complete {
            original_trace: completed_trace,
            amount: cny("90.00"),
        },
    );
    t.approve();
    t.print_all();
    let completion_trace = t.txn("completion").trace;
    let outputs = t.submit(
        "sign",
        Command::SaveSignature {
            trace: completion_trace,
            signature: signature(),
        },
    );
    assert!(matches!(&outputs[..], [Output::Done(d)] if d.outcome.is_ok()));
    t.preauth("open", "50.00", PAN_VISA, None); // stays approved: completable for 60 days
    t.preauth(
        "declined",
        "12.00",
        PAN_VISA,
        Some(HostReply::with_code("51")),
    );
    assert_eq!(t.txn("declined").state, TxnState::Declined);

    // A lost answer whose reversal goes through: reversed.
    t.submit("reversed", preauth("20.00", PAN_CUP));
    t.timeout();
    assert!(matches!(t.in_flight(), HostRequest::Reversal(_)));
    t.approve();
    assert_eq!(t.txn("reversed").state, TxnState::Reversed);

    // A lost answer whose reversal keeps failing: unknown, reversal failed.
    t.submit("unknown", preauth("30.00", PAN_VISA));
    t.timeout();
    for _ in 0..20 {
        if t.txn("unknown")
            .reversal
            .is_some_and(|r| r.state == ReversalState::Failed)
        {
            break;
        }
        if t.in_flight.is_some() {
            assert!(matches!(t.in_flight(), HostRequest::Reversal(_)));
            t.reply(HostReply::with_code("96"));
        } else {
            t.set_now(t.now.plus_millis(120_000));
            t.handle(Input::Tick);
        }
    }
    let unknown = t.txn("unknown");
    assert_eq!(unknown.state, TxnState::Unknown);
    assert_eq!(
        unknown.reversal.map(|r| r.state),
        Some(ReversalState::Failed)
    );
    // Its signature stays too (a failed reversal is the operator's, untouched).
    let unknown_trace = t.txn("unknown").trace;
    t.submit(
        "sign-unknown",
        Command::SaveSignature {
            trace: unknown_trace,
            signature: signature(),
        },
    );
    t.print_all();

    // Settled within the hour: nothing is old, nothing is purged.
    t.set_now(day0().plus_millis(3_600_000));
    t.settle("settle-1");
    let raw = t.raw();
    for id in [
        "completed",
        "completion",
        "open",
        "declined",
        "reversed",
        "unknown",
    ] {
        assert_kept(&raw, id);
    }
    assert!(raw.of("completion").signed);
    assert!(
        raw.events.is_empty(),
        "nothing purged yet: {:?}",
        raw.events
    );
    assert!(t.txn("completed").settled && t.txn("unknown").settled);

    // Day 45: a new pre-auth in batch 2, then the second settlement.
    t.set_now(day0().plus_millis(45 * DAY_MS));
    t.preauth("new", "70.00", PAN_CUP, None);
    t.settle("settle-2");
    let raw = t.raw();
    assert_purged(&raw, "completed", "0128");
    assert_purged(&raw, "completion", "0128");
    assert_purged(&raw, "declined", "1111");
    assert_purged(&raw, "reversed", "0128");
    assert_eq!(raw.of("completed").masked_pan, "***************0128");
    assert_eq!(raw.of("declined").masked_pan, "************1111");
    assert_eq!(raw.of("completed").fingerprint, "preauth|10000|CNY|purged");
    // Kept: the pre-auth that can still be completed, the unknown one with its failed
    // reversal (and its signature), the new one.
    assert_kept(&raw, "open");
    assert_kept(&raw, "unknown");
    assert!(raw.of("unknown").signed);
    assert_kept(&raw, "new");
    let mut purged = raw.purged_ids();
    purged.sort();
    assert_eq!(purged, ["completed", "completion", "declined", "reversed"]);
    let summary: Vec<&String> = raw
        .events
        .iter()
        .filter(|(id, _)| id.is_none())
        .map(|(_, cause)| cause)
        .collect();
    assert_eq!(summary.len(), 1, "one summary row: {:?}", raw.events);
    assert!(summary[0].contains("4 settled transactions older than 30 days"));
    assert!(summary[0].contains("1 signatures deleted"));

    // The engine reads purged rows back as usual: the slip shows the last 4 only.
    let completion = t.txn("completion");
    assert_eq!(completion.masked_pan.as_str(), "***************0128");
    assert!(
        t.engine()
            .journal()
            .signature(completion.id)
            .unwrap()
            .is_none()
    );
    let events = t.engine().journal().events_of(completion.id).unwrap();
    let last = events.last().expect("events");
    assert_eq!(
        (last.entity.as_str(), last.to.as_str()),
        ("card_data", "purged")
    );
    assert!(last.cause.contains("signature deleted"), "{last:?}");
    // A request id repeated after the purge is refused, never authorized again.
    let outputs = t.submit("completed", preauth("100.00", PAN_CUP));
    assert!(
        t.in_flight.is_none(),
        "nothing sent for a purged request id"
    );
    assert!(matches!(&outputs[..], [Output::Done(d)] if d.outcome.is_err()));

    // Idempotent: a third settlement the next day changes nothing.
    t.set_now(day0().plus_millis(46 * DAY_MS));
    t.settle("settle-3");
    let again = t.raw();
    assert_eq!(again, raw, "a second purge changes nothing");

    // Day 70: the open pre-auth can no longer be completed (60 days): purged now.
    t.set_now(day0().plus_millis(70 * DAY_MS));
    t.settle("settle-4");
    let raw = t.raw();
    assert_purged(&raw, "open", "1111");
    assert_kept(&raw, "unknown");
    assert_kept(&raw, "new"); // 25 days old: within retention
    assert_eq!(
        raw.purged_ids().iter().filter(|id| *id == "open").count(),
        1
    );
}

#[test]
fn the_default_keeps_card_data_180_days() {
    let mut t = Terminal::new(Config::default());
    t.preauth("a", "10.00", PAN_CUP, None);
    t.submit(
        "v",
        Command::Void {
            original_trace: t.txn("a").trace,
        },
    );
    t.approve();
    t.print_all();
    t.set_now(day0().plus_millis(179 * DAY_MS));
    t.settle("s1");
    let raw = t.raw();
    assert_kept(&raw, "a");
    assert_kept(&raw, "v");
    t.set_now(day0().plus_millis(181 * DAY_MS));
    t.settle("s2");
    let raw = t.raw();
    assert_purged(&raw, "a", "0128");
    assert_purged(&raw, "v", "0128");
    assert_eq!(
        raw.of("v").fingerprint,
        format!("preauth_void|{}", t.txn("a").trace)
    );
}

#[test]
fn retention_days_is_validated() {
    for (days, ok) in [
        (29, false),
        (30, true),
        (180, true),
        (3650, true),
        (3651, false),
        (0, false),
    ] {
        let config = Config {
            retention_days: days,
            ..Config::default()
        };
        match config.validate() {
            Ok(()) => assert!(ok, "{days} accepted"),
            Err(e) => {
                assert!(!ok, "{days} refused: {e}");
                assert_eq!(e.name, "retention_days");
            }
        }
    }
}
