//! The engine: a deterministic, sans-IO state machine over the journal.
//!
//! [`Engine::handle`] takes one [`Input`] at a time and returns the [`Output`]s: requests
//! for the host, slips for the printer, command results and UI events. It never touches a
//! socket, a thread or a clock; the time of each input is passed in.
//!
//! ## The rules it enforces
//! - A transaction and its armed reversal are committed before its request is output.
//! - One exchange with the host at a time. Before the next financial request (and before
//!   settlement) go, in order: a required sign-on, then every pending reversal.
//! - An approval is one commit: state, auth code, RRN, reversal disarmed, slip jobs queued.
//! - A timeout makes the transaction `unknown` with its reversal pending (98); an answer
//!   with a bad MAC does the same with reason A0 and forces a sign-on.
//! - A reversal is retried at most `reversal_max_attempts` times (link failures do not
//!   count), then kept as `failed` for the operator, never deleted. 00, 12 and 25 finish it.
//! - Completion advices are queued and sent whenever the link is idle, before settlement.
//! - A settlement the host reports unbalanced is followed by the batch upload (one 0320
//!   per approved completion, then the end message) before the batch closes; nothing else
//!   goes to the host in between.
//! - The same request id returns the same transaction and never authorizes twice.
//!
//! If the journal fails, the engine stops (every later call returns
//! [`JournalError::Poisoned`]): its memory may no longer match the file, and reopening the
//! journal recovers the truth.

mod answers;
mod commands;
mod io;
mod printing;
mod reports;
mod requests;

use std::collections::{HashMap, VecDeque};
use std::path::Path;

pub use io::{
    Command, CommandDone, CommandOutcome, Event, Input, Output, PrintJob, ReportJob,
    SettlementSummary, Ticket,
};

use crate::card::PanHashKey;
use crate::config::{Config, ConfigError};
use crate::error::{CommandError, JournalError};
use crate::host::{ExchangeId, FinancialRequest, HostRequest};
use crate::ids::RequestId;
use crate::journal::{Journal, RecoveryReport, RetryChange, rows};
use crate::lang::Bilingual;
use crate::time::Timestamp;
use crate::txn::TxnState;

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A setting is out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The journal could not be opened.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl Bilingual for OpenError {
    fn code(&self) -> &'static str {
        match self {
            OpenError::Config(e) => e.code(),
            OpenError::Journal(e) => e.code(),
        }
    }
    fn zh(&self) -> String {
        match self {
            OpenError::Config(e) => e.zh(),
            OpenError::Journal(e) => e.zh(),
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

/// What the one exchange in flight is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    SignOn,
    Financial {
        txn_id: i64,
    },
    Reversal {
        txn_id: i64,
    },
    Advice {
        txn_id: i64,
    },
    Settlement,
    /// A record of the batch upload after an unbalanced settlement.
    BatchUpload,
    /// The batch upload's end message.
    BatchUploadEnd,
}

/// How often one batch-upload message is tried before the settlement is given up (the
/// batch stays open and the operator settles again).
const BATCH_UPLOAD_ATTEMPTS: u32 = 3;

/// The batch upload (批上送) in progress after the host reported the settlement unbalanced.
/// Memory only: a restart finds the batch `settling`, reopens it, and the operator settles
/// again (the upload is repeated in full).
#[derive(Debug)]
struct Upload {
    /// The completions the host's totals must include, in journal order.
    records: Vec<crate::host::BatchUploadRecord>,
    /// How many of them the host acknowledged.
    acknowledged: usize,
    /// Failed attempts at the message now due.
    failures: u32,
}

/// A financial request waiting for the link, with its card data (memory only).
struct Queued {
    txn_id: i64,
    /// The original's row id, for voids and completions.
    original_id: Option<i64>,
    request: FinancialRequest,
}

/// Exchange ids are unique in the process, across engines: an answer meant for an engine
/// that was closed can never match an exchange of the one reopened after it.
static NEXT_EXCHANGE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A caller waiting for a command's end.
type Waiter = (Ticket, RequestId);

/// The pre-authorization engine. See the module documentation for its rules.
pub struct Engine {
    journal: Journal,
    config: Config,
    pan_key: PanHashKey,
    now: Timestamp,
    in_flight: Option<(ExchangeId, Purpose)>,
    queue: VecDeque<Queued>,
    waiters: HashMap<i64, Vec<Waiter>>,
    settle_waiters: Vec<Waiter>,
    /// The batch upload of an unbalanced settlement, while it runs.
    upload: Option<Upload>,
    sign_on_waiters: Vec<Waiter>,
    /// No background sign-on before this time (after a failed one).
    sign_on_not_before: Timestamp,
    /// The print job handed to the printer and not yet answered.
    printing: Option<i64>,
    /// Reports (settlement slips) waiting for the printer, memory only.
    reports: VecDeque<ReportJob>,
    /// The report handed to the printer and not yet answered, and its batch.
    printing_report: Option<(u64, crate::ids::BatchNumber)>,
    /// The id of the next report.
    next_report: u64,
    poisoned: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("journal", &self.journal)
            .field("in_flight", &self.in_flight)
            .field("queued", &self.queue.len())
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl Engine {
    /// Opens the journal at `path` (creating it if needed), runs recovery, and returns the
    /// engine with what recovery did. Call [`Engine::handle`] with [`Input::Tick`] next, so
    /// recovered work (pending reversals, queued slips) starts.
    pub fn open(
        path: &Path,
        config: Config,
        pan_key: PanHashKey,
        now: Timestamp,
    ) -> Result<(Engine, RecoveryReport), OpenError> {
        config.validate()?;
        let (journal, report) = Journal::open(path, now)?;
        let mut engine = Engine {
            journal,
            config,
            pan_key,
            now,
            in_flight: None,
            queue: VecDeque::new(),
            waiters: HashMap::new(),
            settle_waiters: Vec::new(),
            upload: None,
            sign_on_waiters: Vec::new(),
            sign_on_not_before: now,
            printing: None,
            reports: VecDeque::new(),
            printing_report: None,
            next_report: 1,
            poisoned: false,
        };
        // The clock may have gone back while the app was not running.
        engine.pull_retries_in_if(true)?;
        Ok((engine, report))
    }

    /// The journal, for reads (list, show, export).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether nothing is in flight or waiting: no exchange, no queued command, no slip
    /// being printed. (Background work that is not yet due may remain.)
    pub fn is_idle(&self) -> bool {
        self.in_flight.is_none()
            && self.queue.is_empty()
            && self.printing.is_none()
            && self.printing_report.is_none()
    }

    /// Handles one input at time `at` and returns what to do. A journal error stops the
    /// engine (see the module documentation).
    pub fn handle(&mut self, at: Timestamp, input: Input) -> Result<Vec<Output>, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        let clock_went_back = at < self.now;
        self.now = at;
        let mut out = Vec::new();
        let is_tick = matches!(input, Input::Tick);
        let result = self
            .pull_retries_in_if(clock_went_back)
            .and_then(|()| self.dispatch(input, &mut out))
            .and_then(|()| self.pump(&mut out));
        match result {
            Ok(()) => {
                if is_tick && out.is_empty() && self.is_idle() {
                    self.journal.checkpoint_if_dirty();
                }
                Ok(out)
            }
            Err(error) => {
                log::error!("engine stopped by a journal error: {error}");
                self.poisoned = true;
                Err(error)
            }
        }
    }

    /// When the wall clock went back (or at open, where the last time is unknown), retries
    /// scheduled further ahead than the longest retry delay are brought forward to now: they
    /// were scheduled by the clock as it was, and must not wait for it to catch up.
    fn pull_retries_in_if(&mut self, clock_went_back: bool) -> Result<(), JournalError> {
        if !clock_went_back {
            return Ok(());
        }
        let latest = self.now.plus_millis(self.config.retry_max_delay_ms as i64);
        let moved = self
            .journal
            .write(self.now, |tx| tx.pull_retries_in(latest))?;
        if moved > 0 {
            log::warn!("the clock went back: {moved} retries brought forward");
        }
        Ok(())
    }

    fn dispatch(&mut self, input: Input, out: &mut Vec<Output>) -> Result<(), JournalError> {
        match input {
            Input::Command {
                ticket,
                request_id,
                command,
            } => self.command(ticket, request_id, command, out),
            Input::HostReply { exchange, reply } => match self.take_in_flight(exchange) {
                Some(purpose) => self.on_reply(purpose, &reply, out),
                None => Ok(()),
            },
            Input::HostTimeout { exchange } => match self.take_in_flight(exchange) {
                Some(purpose) => self.on_timeout(purpose, out),
                None => Ok(()),
            },
            Input::LinkFailed { exchange, why } => match self.take_in_flight(exchange) {
                Some(purpose) => self.on_link_failed(purpose, &why, out),
                None => Ok(()),
            },
            Input::PrintResult { job_id, outcome } => self.on_print_result(job_id, outcome, out),
            Input::ReportResult { report_id, outcome } => {
                self.on_report_result(report_id, outcome, out)
            }
            Input::PrinterReady => self.on_printer_ready(out),
            Input::Tick => self.e_receipt_fallback(out),
        }
    }

    fn take_in_flight(&mut self, exchange: ExchangeId) -> Option<Purpose> {
        match self.in_flight {
            Some((id, purpose)) if id == exchange => {
                self.in_flight = None;
                Some(purpose)
            }
            _ => {
                log::warn!(
                    "ignoring an answer to exchange {} that is no longer in flight",
                    exchange.0
                );
                None
            }
        }
    }

    /// Sends the batch upload's next message: the next record, or the end message once every
    /// record was acknowledged.
    fn send_upload(&mut self, out: &mut Vec<Output>) -> Result<(), JournalError> {
        let Some(upload) = &self.upload else {
            return Ok(());
        };
        let batch = self.journal.current_batch()?;
        let identity = self.config.identity.clone();
        if let Some(record) = upload.records.get(upload.acknowledged) {
            let request = HostRequest::BatchUpload {
                batch,
                record: record.clone(),
                identity,
            };
            self.send(Purpose::BatchUpload, request, out);
        } else {
            let count = upload.records.len() as u32;
            let trace = self.journal.write(self.now, |tx| tx.allocate_trace())?;
            self.send(
                Purpose::BatchUploadEnd,
                HostRequest::BatchUploadEnd {
                    trace,
                    batch,
                    count,
                    identity,
                },
                out,
            );
        }
        Ok(())
    }

    fn send(&mut self, purpose: Purpose, request: HostRequest, out: &mut Vec<Output>) {
        let exchange = ExchangeId(NEXT_EXCHANGE.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        log::info!("sending {} as exchange {}", request.describe(), exchange.0);
        self.in_flight = Some((exchange, purpose));
        out.push(Output::Send { exchange, request });
    }

    /// Ends every waiter of a transaction with the same outcome.
    fn finish_waiters(
        &mut self,
        txn_id: i64,
        outcome: impl Fn() -> Result<CommandOutcome, CommandError>,
        out: &mut Vec<Output>,
    ) {
        for (ticket, request_id) in self.waiters.remove(&txn_id).unwrap_or_default() {
            out.push(Output::Done(CommandDone {
                ticket,
                request_id,
                outcome: outcome(),
            }));
        }
    }

    /// Decides what goes to the host next, and which slip goes to the printer.
    fn pump(&mut self, out: &mut Vec<Output>) -> Result<(), JournalError> {
        self.pump_host(out)?;
        self.pump_printer(out)
    }

    fn pump_host(&mut self, out: &mut Vec<Output>) -> Result<(), JournalError> {
        if self.in_flight.is_some() {
            return Ok(());
        }
        let now = self.now;
        let cashier_waiting = !self.queue.is_empty() || !self.settle_waiters.is_empty();
        let reversal = requests::next_reversal(self.journal.conn(), now, cashier_waiting)?;
        let advice =
            requests::next_advice(self.journal.conn(), now, !self.settle_waiters.is_empty())?;
        let host_needed = cashier_waiting
            || !self.sign_on_waiters.is_empty()
            || reversal.is_some()
            || advice.is_some();
        if !host_needed {
            return Ok(());
        }
        let sign_on_due =
            cashier_waiting || !self.sign_on_waiters.is_empty() || now >= self.sign_on_not_before;
        if !self.sign_on_waiters.is_empty() || self.journal.sign_on_required()? {
            if sign_on_due {
                let trace = self.journal.write(now, |tx| tx.allocate_trace())?;
                let batch = self.journal.current_batch()?;
                let identity = self.config.identity.clone();
                self.send(
                    Purpose::SignOn,
                    HostRequest::SignOn {
                        trace,
                        batch,
                        identity,
                    },
                    out,
                );
            }
            return Ok(());
        }
        if let Some(txn_id) = reversal {
            let request = requests::reversal_request(self.journal.conn(), txn_id, &self.config)?;
            self.send(
                Purpose::Reversal { txn_id },
                HostRequest::Reversal(request),
                out,
            );
            return Ok(());
        }
        // An unbalanced settlement's upload runs to its end before anything else is sent:
        // a completion sent in between would be in neither the host's totals nor the upload.
        if self.upload.is_some() {
            return self.send_upload(out);
        }
        // A completion void of an offline completion must not reach the host before the
        // completion's own advice does.
        if let Some(advice_first) = self.queue.front().and_then(|q| q.original_id) {
            if requests::advice_undelivered(self.journal.conn(), advice_first)? {
                let request =
                    requests::advice_request(self.journal.conn(), advice_first, &self.config)?;
                self.journal.write(now, |tx| {
                    tx.set_advice(
                        advice_first,
                        crate::txn::AdviceState::Queued,
                        crate::txn::AdviceState::Sending,
                        &RetryChange::default(),
                        "sent before a void of it",
                    )
                })?;
                self.send(
                    Purpose::Advice {
                        txn_id: advice_first,
                    },
                    HostRequest::Advice(request),
                    out,
                );
                return Ok(());
            }
        }
        if let Some(mut queued) = self.queue.pop_front() {
            let txn_id = queued.txn_id;
            let record = self.journal.write(now, |tx| {
                tx.set_txn_state(
                    txn_id,
                    TxnState::Queued,
                    TxnState::Sending,
                    "sent to the host",
                )?;
                tx.arm_reversal(txn_id)?;
                Ok(rows::txn_by_id(tx.conn(), txn_id)?.record)
            })?;
            // A settlement may have closed its batch while it waited (see `close_batch`).
            queued.request.batch = record.batch;
            out.push(Output::Event(Event::Transaction(record)));
            self.send(
                Purpose::Financial { txn_id },
                HostRequest::Financial(queued.request),
                out,
            );
            return Ok(());
        }
        if let Some(txn_id) = advice {
            let request = requests::advice_request(self.journal.conn(), txn_id, &self.config)?;
            self.journal.write(now, |tx| {
                tx.set_advice(
                    txn_id,
                    crate::txn::AdviceState::Queued,
                    crate::txn::AdviceState::Sending,
                    &RetryChange::default(),
                    "sent to the host",
                )
            })?;
            self.send(
                Purpose::Advice { txn_id },
                HostRequest::Advice(request),
                out,
            );
            return Ok(());
        }
        if !self.settle_waiters.is_empty() {
            let trace = self.journal.write(now, |tx| tx.allocate_trace())?;
            let request = requests::settlement_request(self.journal.conn(), &self.config, trace)?;
            self.send(Purpose::Settlement, HostRequest::Settlement(request), out);
        }
        Ok(())
    }
}
