//! # poscore-sim — deterministic whole-terminal simulation
//!
//! A seed drives a whole terminal day through the real sans-IO [`poscore::Engine`]: every
//! [`Input`] is fed with an explicit timestamp and every [`Output`] is carried out here, by
//! a simulated cashier, acquirer host, printer and clock. No tokio, no sockets, no wall
//! clock: the same seed replays the same run, step for step.
//!
//! ## What a seed does
//! The seed picks a configuration (1–3 slip copies, tear-off prompt or not, electronic
//! receipts after 2 minutes or only on request, 1–3 reversal attempts) and a list of steps:
//! - **cashier**: pre-auth, completion online and offline, pre-auth void, completion void,
//!   settlement, retry of a failed reversal, sign-on, reprint (last slip or a trace),
//!   resume printing, electronic delivery, double taps (the same request id again, also
//!   while the first is in flight), and invalid input (unknown trace, over-limit completion,
//!   expired card, wrong currency, a request id reused for another command, a void of a
//!   completion, a reprint or reversal retry of nothing, amounts that do not parse). Every
//!   refusal must be a [`poscore::CommandError`] in the same output batch, with nothing
//!   journaled;
//! - **host**: approve, decline, timeout (with or without the host having processed the
//!   request), link failure, late reply (an answer to an exchange that already timed out, or
//!   that belonged to an engine that crashed, fed later: ignored), duplicate reply, bad MAC,
//!   sign-on requested, unbalanced settlement (then the batch upload). The host keeps a
//!   ledger of what it approved and did not reverse, and answers reversals from it;
//! - **printer**: confirmation, every non-printing [`Condition`] with `may_have_printed`
//!   true and false, slow answers (the job stays out while other steps run),
//!   [`Input::PrinterReady`];
//! - **crashes**: the engine is dropped and [`Engine::open`]ed on the same journal file at
//!   any step, also right after a `handle()` whose commit is made but whose outputs are lost
//!   (sends and prints never carried out), and while an exchange or a slip is out;
//! - **clock**: small and large steps, over midnight and across days (past the 30-day
//!   validity of a pre-auth), and backward jumps of the wall clock (the engine must keep
//!   every promise; nothing is asserted about timestamps going backward).
//!
//! ## What is checked
//! After every step, against the journal (read through the public API) and the model:
//! 1. every approval the engine received (trusted host answer, or reported approved) is in
//!    the journal as approved, completed or voided;
//! 2. every approved transaction has one slip job per copy; a printed job was confirmed by
//!    the printer; a held job says why; at the end of the seed (faults stop, the host and
//!    printer behave, the operator resumes and retries) every copy is printed or delivered;
//! 3. a financial request never goes out while a reversal is pending; every `unknown`
//!    transaction has a pending or failed reversal; a reversal row never disappears;
//! 4. one request id = one transaction, (batch, trace) unique, no transaction sent twice,
//!    a ticket answered at most once;
//! 5. a job whose attempt may have printed never goes to the printer again as an original,
//!    and no copy is printed twice as an original;
//! 6. at the end of each seed, the journal files (db, -wal, -journal) hold no test PAN.
//!
//! At the end of each seed, after the drain, the host's ledger and the journal agree: a
//! financial transaction is held by the host if and only if the journal has it approved,
//! completed or voided, and every ticket submitted since the last restart was answered.
//!
//! ## Failures
//! A violation (a failed check, or a panic anywhere) is caught; the step list is shrunk
//! (ddmin: drop chunks, then single steps, while the same check still fails) and printed
//! with its seed. `POSCORE_SIM_SEED=N` (or `--from N --seeds 1`) replays it exactly.
//!
//! ## Running
//! ```sh
//! cargo test -p poscore-sim -- --nocapture                  # 2,000 seeds (POSCORE_SIM_SEEDS)
//! cargo run --release -p poscore-sim -- --seeds 2000 [--from S] [--steps N] [--jobs J]
//! POSCORE_SIM_SEED=1234 cargo run --release -p poscore-sim   # one seed, with its trace
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;

use poscore::card::{CardInput, PanHashKey};
use poscore::host::{ExchangeId, HostReply, HostRequest};
use poscore::ids::{RequestId, TraceNumber};
use poscore::money::{Currency, Money};
use poscore::print::{Condition, PrintOutcome};
use poscore::record::TxnRecord;
use poscore::txn::{PrintJobState, PrintKind, ReversalState, SlipCopy, TxnKind, TxnState};
use poscore::{Command, CommandOutcome, Config, Engine, Event, Input, Output, Ticket, Timestamp};

/// Luhn-valid test cards of three lengths; none may ever be found in the journal files.
pub const PANS: [&str; 3] = [
    "6222021234567890128",
    "4111111111111111",
    "6250941006528599",
];
const AMOUNTS: [u64; 5] = [1, 10_000, 12_345, 250_050, 99_999_999];
const PERCENTS: [u64; 5] = [1, 50, 100, 115, 116];
/// Clock advances, in ms: none, small, retry-sized, beyond the e-receipt limit, an hour,
/// and (`NEXT_MIDNIGHT`) just past the next UTC midnight, then days.
const ADVANCES_MS: [i64; 9] = [
    0,
    300,
    2_000,
    8_000,
    65_000,
    130_000,
    3_600_000,
    -1,
    16 * 86_400_000,
];
const NEXT_MIDNIGHT: i64 = -1;
/// Backward jumps of the wall clock, in ms.
const BACKWARD_MS: [i64; 3] = [1_000, 3_600_000, 86_400_000];
/// The printer faults: every condition a slip cannot print in, in `Condition::ALL`'s order.
static FAULTS: std::sync::LazyLock<Vec<Condition>> = std::sync::LazyLock::new(|| {
    Condition::ALL
        .into_iter()
        .filter(|c| !c.can_print())
        .collect()
});

fn start_time() -> Timestamp {
    Timestamp::from_civil(2026, 11, 26, 9, 0, 0)
}

fn key() -> PanHashKey {
    PanHashKey::new(vec![42; 32]).expect("a 32-byte key")
}

// ---------------------------------------------------------------------------------------
// Randomness: a tiny deterministic generator (SplitMix64)
// ---------------------------------------------------------------------------------------

/// SplitMix64: deterministic, seedable, no dependencies.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for this seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    fn any(&mut self) -> usize {
        (self.next_u64() >> 1) as usize
    }

    fn reuse(&mut self) -> Option<usize> {
        self.chance(15).then(|| self.any())
    }
}

// ---------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------

/// Invalid cashier input: the engine must refuse it with a `CommandError`, journaling nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// A completion of a trace that does not exist.
    UnknownTrace,
    /// A completion above 115 % of its pre-auth.
    OverLimit,
    /// A pre-auth with a card that expired (read long ago, submitted now).
    ExpiredCard,
    /// A pre-auth in another currency.
    WrongCurrency,
    /// A request id of an existing transaction, for another command.
    RequestIdConflict,
    /// A pre-auth void of something that is not a pre-auth.
    WrongKind,
    /// A reprint of a trace that does not exist.
    ReprintUnknown,
    /// A reversal retry of a transaction whose reversal did not fail.
    NothingToRetry,
    /// Amount texts that do not parse (refused before the engine: typed `AmountError`).
    BadAmountText,
}

const INVALIDS: [Invalid; 9] = [
    Invalid::UnknownTrace,
    Invalid::OverLimit,
    Invalid::ExpiredCard,
    Invalid::WrongCurrency,
    Invalid::RequestIdConflict,
    Invalid::WrongKind,
    Invalid::ReprintUnknown,
    Invalid::NothingToRetry,
    Invalid::BadAmountText,
];

/// One thing that happens to the terminal.
#[derive(Debug, Clone)]
pub enum Step {
    /// A pre-auth; `reuse` takes an earlier request id (maybe for other parameters).
    PreAuth {
        pan: usize,
        amount: usize,
        reuse: Option<usize>,
    },
    /// An online or offline completion of an earlier trace.
    Complete {
        target: usize,
        percent: usize,
        offline: bool,
        reuse: Option<usize>,
    },
    /// A pre-auth void.
    Void {
        target: usize,
        reuse: Option<usize>,
    },
    /// A completion void.
    CompleteVoid {
        target: usize,
        reuse: Option<usize>,
    },
    /// An earlier command again, exactly (a double tap or a driver's retry).
    Repeat {
        index: usize,
    },
    /// The last command again, at once (a double tap while it is in flight).
    DoubleTap,
    Settle,
    RetryReversal {
        target: usize,
    },
    SignOn,
    /// Reprint: `target == 0` the last slip, else a trace; `copy` 0 = default.
    Reprint {
        target: usize,
        copy: usize,
    },
    ResumePrinting,
    /// Deliver a transaction's waiting slips as electronic receipts.
    DeliverElectronically {
        target: usize,
    },
    /// Invalid input: must be refused.
    Invalid(Invalid, usize),
    /// The host approves whatever is in flight.
    Approve,
    /// The host refuses (51 for financials, 96 for others, 25/12 for reversals it does not hold).
    Decline,
    /// The answer's MAC is wrong (the host processed the request).
    BadMac,
    /// The host approves and asks for a sign-on.
    SignOnRequested,
    /// The host approves; a settlement is reported unbalanced.
    Unbalanced,
    /// No answer in time; `processed`: the host did process the request.
    Timeout {
        processed: bool,
    },
    /// The link failed before anything was sent.
    LinkFailed,
    /// An answer to an exchange that is no longer in flight.
    LateReply {
        pick: usize,
    },
    /// The last answered exchange answered again.
    DuplicateReply,
    PrintOk,
    /// The slip (or report) at the printer fails.
    PrintFault {
        condition: usize,
        may_have_printed: bool,
    },
    PrinterReady,
    /// Time passes by `ADVANCES_MS[i]`.
    Tick(usize),
    /// The wall clock jumps back by `BACKWARD_MS[i]`.
    ClockBack(usize),
    /// The app dies; the journal is reopened.
    Crash,
    /// The inner step runs, its `handle()` commits, its outputs are lost, and the app dies.
    CrashAfter(Box<Step>),
}

impl Step {
    /// Draws a step.
    pub fn random(rng: &mut Rng) -> Step {
        let weights: [(u32, u8); 30] = [
            (7, 0),
            (4, 1),
            (2, 2),
            (2, 3),
            (2, 4),
            (1, 5),
            (2, 6),
            (1, 7),
            (1, 8),
            (1, 9),
            (1, 10),
            (1, 11),
            (3, 12),
            (16, 13),
            (3, 14),
            (2, 15),
            (1, 16),
            (3, 17),
            (3, 18),
            (1, 19),
            (1, 20),
            (1, 21),
            (8, 22),
            (4, 23),
            (2, 24),
            (5, 25),
            (1, 26),
            (1, 27),
            (2, 28),
            (0, 29),
        ];
        let total: u32 = weights.iter().map(|w| w.0).sum();
        let mut roll = (rng.next_u64() % u64::from(total)) as u32;
        let mut which = 0;
        for (w, id) in weights {
            if roll < w {
                which = id;
                break;
            }
            roll -= w;
        }
        match which {
            0 => Step::PreAuth {
                pan: rng.below(PANS.len()),
                amount: rng.below(AMOUNTS.len()),
                reuse: rng.reuse(),
            },
            1 => Step::Complete {
                target: rng.any(),
                percent: rng.below(PERCENTS.len()),
                offline: rng.chance(35),
                reuse: rng.reuse(),
            },
            2 => Step::Void {
                target: rng.any(),
                reuse: rng.reuse(),
            },
            3 => Step::CompleteVoid {
                target: rng.any(),
                reuse: rng.reuse(),
            },
            4 => Step::Repeat { index: rng.any() },
            5 => Step::DoubleTap,
            6 => Step::Settle,
            7 => Step::RetryReversal { target: rng.any() },
            8 => Step::SignOn,
            9 => Step::Reprint {
                target: rng.any() % 4,
                copy: rng.below(4),
            },
            10 => Step::ResumePrinting,
            11 => Step::DeliverElectronically { target: rng.any() },
            12 => Step::Invalid(INVALIDS[rng.below(INVALIDS.len())], rng.any()),
            13 => Step::Approve,
            14 => Step::Decline,
            15 => Step::BadMac,
            16 => Step::SignOnRequested,
            17 => Step::Unbalanced,
            18 => Step::Timeout {
                processed: rng.chance(50),
            },
            19 => Step::LinkFailed,
            20 => Step::LateReply { pick: rng.any() },
            21 => Step::DuplicateReply,
            22 => Step::PrintOk,
            23 => Step::PrintFault {
                condition: rng.below(FAULTS.len()),
                may_have_printed: rng.chance(40),
            },
            24 => Step::PrinterReady,
            25 => Step::Tick(rng.below(ADVANCES_MS.len())),
            26 => Step::ClockBack(rng.below(BACKWARD_MS.len())),
            27 => Step::Crash,
            _ => {
                // A crash right after a commit whose outputs are lost: after a command, a
                // host answer, a printer answer or a tick.
                let inner = match rng.below(5) {
                    0 => Step::PreAuth {
                        pan: rng.below(PANS.len()),
                        amount: rng.below(AMOUNTS.len()),
                        reuse: None,
                    },
                    1 => Step::Approve,
                    2 => Step::PrintOk,
                    3 => Step::Timeout {
                        processed: rng.chance(50),
                    },
                    _ => Step::Tick(rng.below(ADVANCES_MS.len())),
                };
                Step::CrashAfter(Box::new(inner))
            }
        }
    }

    /// The fault this step injects, for the figures (None for ordinary work).
    fn fault_kind(&self) -> Option<String> {
        Some(match self {
            Step::Decline => "host: decline".into(),
            Step::BadMac => "host: bad MAC".into(),
            Step::SignOnRequested => "host: sign-on requested".into(),
            Step::Unbalanced => "host: unbalanced settlement".into(),
            Step::Timeout { processed: true } => "host: timeout (processed)".into(),
            Step::Timeout { processed: false } => "host: timeout (lost)".into(),
            Step::LinkFailed => "host: link failed".into(),
            Step::LateReply { .. } => "host: late reply".into(),
            Step::DuplicateReply => "host: duplicate reply".into(),
            Step::PrintFault {
                condition,
                may_have_printed,
            } => format!(
                "printer: {}{}",
                FAULTS[*condition].code(),
                if *may_have_printed {
                    " (may have printed)"
                } else {
                    ""
                }
            ),
            Step::ClockBack(_) => "clock: backward jump".into(),
            Step::Tick(i) if ADVANCES_MS[*i] == NEXT_MIDNIGHT => "clock: over midnight".into(),
            Step::Tick(i) if ADVANCES_MS[*i] >= 86_400_000 => "clock: days later".into(),
            Step::Invalid(kind, _) => format!("cashier: invalid {kind:?}"),
            Step::DoubleTap => "cashier: double tap".into(),
            Step::Repeat { .. } => "cashier: repeated request".into(),
            Step::PreAuth { reuse: Some(_), .. }
            | Step::Complete { reuse: Some(_), .. }
            | Step::Void { reuse: Some(_), .. }
            | Step::CompleteVoid { reuse: Some(_), .. } => "cashier: reused request id".into(),
            _ => return None,
        })
    }
}

/// The settings a seed runs with.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The seed.
    pub seed: u64,
    /// The engine's configuration.
    pub config: Config,
    /// The steps.
    pub steps: Vec<Step>,
    /// Whether the app dies once more before the final drain.
    pub final_crash: bool,
}

impl Plan {
    /// The plan a seed makes: configuration and `steps` steps.
    pub fn from_seed(seed: u64, steps: usize) -> Plan {
        let mut rng = Rng::new(seed);
        let mut config = Config {
            slip_copies: 1 + rng.below(3) as u8,
            ..Config::default()
        };
        config.printing.tear_prompt = rng.chance(20);
        config.printing.e_receipt_after_ms = if rng.chance(25) { 0 } else { 120_000 };
        config.reversal_max_attempts = 1 + rng.below(3) as u32;
        let n = steps / 2 + rng.below(steps.max(1));
        let steps = (0..n).map(|_| Step::random(&mut rng)).collect();
        Plan {
            seed,
            config,
            steps,
            final_crash: rng.chance(50),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The world: the engine, the clock, the host, the printer, and the model
// ---------------------------------------------------------------------------------------

/// What the exchange in flight is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    SignOn,
    Financial { txn_id: i64, trace: u32 },
    Reversal { txn_id: i64, trace: u32 },
    Advice { txn_id: i64 },
    Settlement,
    BatchUpload,
}

/// Figures of one run.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Seeds run.
    pub seeds: u64,
    /// Steps run (not counting the final drain).
    pub steps: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// Crashes injected (including those that lose a commit's outputs).
    pub crashes: u64,
    /// Crashes right after a commit whose outputs were lost.
    pub crashes_losing_outputs: u64,
    /// Host exchanges carried out.
    pub exchanges: u64,
    /// Slips the printer confirmed.
    pub slips_printed: u64,
    /// Commands the engine refused (CommandError).
    pub refusals: u64,
    /// Violations found (must be 0).
    pub violations: u64,
    /// The failing seeds with the message and the shrunk trace.
    pub failures: Vec<Failure>,
}

impl Figures {
    /// Adds another run's figures.
    pub fn merge(&mut self, other: Figures) {
        self.seeds += other.seeds;
        self.steps += other.steps;
        for (k, v) in other.faults {
            *self.faults.entry(k).or_insert(0) += v;
        }
        self.crashes += other.crashes;
        self.crashes_losing_outputs += other.crashes_losing_outputs;
        self.exchanges += other.exchanges;
        self.slips_printed += other.slips_printed;
        self.refusals += other.refusals;
        self.violations += other.violations;
        self.failures.extend(other.failures);
    }

    /// The figures as text.
    pub fn report(&self) -> String {
        let mut s = format!(
            "seeds {}  steps {}  crashes {} ({} losing a commit's outputs)  exchanges {}  slips printed {}  refusals {}  violations {}\nfaults injected: {}\n",
            self.seeds,
            self.steps,
            self.crashes,
            self.crashes_losing_outputs,
            self.exchanges,
            self.slips_printed,
            self.refusals,
            self.violations,
            self.faults.values().sum::<u64>()
        );
        for (k, v) in &self.faults {
            s.push_str(&format!("  {k:<40} {v}\n"));
        }
        for f in &self.failures {
            s.push_str(&f.to_string());
        }
        s
    }
}

/// A failing seed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// What failed.
    pub message: String,
    /// The shrunk steps that still fail the same way.
    pub minimal: Vec<Step>,
    /// How many steps the seed had.
    pub original_len: usize,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "VIOLATION seed {} (replay: POSCORE_SIM_SEED={}): {}",
            self.seed, self.seed, self.message
        )?;
        writeln!(
            f,
            "minimal trace ({} of {} steps, then the final drain):",
            self.minimal.len(),
            self.original_len
        )?;
        for (i, s) in self.minimal.iter().enumerate() {
            writeln!(f, "  {i:3}: {s:?}")?;
        }
        Ok(())
    }
}

/// Fails the run with a message (caught by [`run_plan`]).
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            panic!($($arg)+);
        }
    };
}

struct World {
    path: PathBuf,
    config: Config,
    engine: Option<Engine>,
    now: Timestamp,
    next_ticket: u64,
    next_request: u32,
    replies: u64,
    in_flight: Option<(ExchangeId, Sent)>,
    printing: Option<i64>,
    report: Option<u64>,
    /// Every command submitted, for repeats.
    submitted: Vec<(RequestId, Command)>,
    request_ids: Vec<RequestId>,
    /// Tickets submitted to this engine (since the last open) and not answered yet.
    open_tickets: HashSet<u64>,
    /// Tickets answered (ever).
    answered: HashSet<u64>,
    /// Tickets of commands that create a transaction.
    financial_tickets: HashSet<u64>,
    /// Exchanges no longer in flight (timed out, or of an engine that crashed).
    stale: Vec<(ExchangeId, Sent)>,
    /// The last exchange answered, and the answer.
    last_answered: Option<(ExchangeId, Sent, HostReply)>,
    // The model.
    host_approved: HashSet<i64>,
    reported_approved: HashSet<i64>,
    with_reversal: HashSet<i64>,
    owner: HashMap<String, i64>,
    financial_sends: HashMap<i64, u32>,
    link_failed: HashSet<i64>,
    confirmed: HashSet<i64>,
    uncertain: HashSet<i64>,
    advice_maybe_delivered: HashSet<i64>,
    /// The host's ledger: traces of financial transactions it approved and did not reverse.
    ledger: HashSet<u32>,
    /// Outputs of the current `handle()` are lost (a crash follows at once).
    losing: bool,
    figures: Figures,
}

impl World {
    fn new(path: PathBuf, config: Config) -> World {
        let now = start_time();
        let (engine, _) =
            Engine::open(&path, config.clone(), key(), now).expect("the engine opens");
        World {
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
            open_tickets: HashSet::new(),
            answered: HashSet::new(),
            financial_tickets: HashSet::new(),
            stale: Vec::new(),
            last_answered: None,
            host_approved: HashSet::new(),
            reported_approved: HashSet::new(),
            with_reversal: HashSet::new(),
            owner: HashMap::new(),
            financial_sends: HashMap::new(),
            link_failed: HashSet::new(),
            confirmed: HashSet::new(),
            uncertain: HashSet::new(),
            advice_maybe_delivered: HashSet::new(),
            ledger: HashSet::new(),
            losing: false,
            figures: Figures::default(),
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

    fn fresh_request_id(&mut self) -> RequestId {
        let id = RequestId::parse(&format!("req-{}", self.next_request)).expect("valid");
        self.next_request += 1;
        id
    }

    fn request_id(&mut self, reuse: Option<usize>) -> RequestId {
        match reuse {
            Some(i) if !self.request_ids.is_empty() => {
                self.request_ids[i % self.request_ids.len()].clone()
            }
            _ => self.fresh_request_id(),
        }
    }

    /// Submits a command; returns the outcome if it ended in this same `handle()`.
    fn submit(
        &mut self,
        request_id: RequestId,
        command: Command,
    ) -> Option<Result<String, String>> {
        self.submitted.push((request_id.clone(), command.clone()));
        if !self.request_ids.contains(&request_id) {
            self.request_ids.push(request_id.clone());
        }
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        self.open_tickets.insert(ticket.0);
        if command.creates().is_some() {
            self.financial_tickets.insert(ticket.0);
        }
        let mut done = None;
        let outputs = self.handle_raw(Input::Command {
            ticket,
            request_id,
            command,
        });
        for o in &outputs {
            if let Output::Done(d) = o {
                if d.ticket == ticket {
                    done = Some(match &d.outcome {
                        Ok(o) => Ok(format!("{o:?}")),
                        Err(e) => Err(e.to_string()),
                    });
                }
            }
        }
        self.carry_out(outputs);
        done
    }

    /// The host's ledger, as the exchange in flight ends: `processed` says whether the host
    /// acted on the request, `approved` whether it approved it.
    fn host_books(&mut self, sent: Sent, processed: bool, approved: bool) {
        if !processed {
            return;
        }
        match sent {
            Sent::Financial { trace, .. } if approved => {
                self.ledger.insert(trace);
            }
            Sent::Reversal { trace, .. } if approved => {
                self.ledger.remove(&trace);
            }
            _ => {}
        }
    }

    fn reply(&mut self, reply: HostReply) {
        let Some((exchange, sent)) = self.in_flight.take() else {
            return;
        };
        self.figures.exchanges += 1;
        self.note_maybe_delivered(sent);
        self.host_books(sent, true, reply.response_code.is_approved());
        if let Sent::Financial { txn_id, .. } = sent {
            if reply.mac_valid && reply.response_code.is_approved() {
                self.host_approved.insert(txn_id);
            }
        }
        self.last_answered = Some((exchange, sent, reply.clone()));
        self.handle(Input::HostReply { exchange, reply });
    }

    fn approved_reply(&mut self) -> HostReply {
        self.replies += 1;
        let n = self.replies;
        HostReply::approved(
            &format!("{:06}", n % 1_000_000),
            &format!("{:012}", 700_000_000_000 + n),
        )
    }

    fn approve(&mut self) {
        let reply = self.approved_reply();
        self.reply(reply);
    }

    fn decline(&mut self) {
        let Some((_, sent)) = self.in_flight else {
            return;
        };
        let code = match sent {
            Sent::Financial { .. } => "51",
            // A host that does not hold the original says so; one that does refuses (96).
            Sent::Reversal { trace, .. } if !self.ledger.contains(&trace) => {
                if self.replies % 2 == 0 { "25" } else { "12" }
            }
            _ => "96",
        };
        self.replies += 1;
        // A refused reversal that "finishes" (12/25) means the host holds nothing: books agree.
        self.reply(HostReply::with_code(code));
    }

    /// Timestamps for `ADVANCES_MS[i]`.
    fn advance(&mut self, i: usize) {
        let ms = ADVANCES_MS[i];
        let ms = if ms == NEXT_MIDNIGHT {
            let day = 86_400_000;
            day - self.now.as_millis().rem_euclid(day) + 1_000
        } else {
            ms
        };
        self.now = self.now.plus_millis(ms);
    }

    fn step(&mut self, step: &Step) {
        if let Some(kind) = step.fault_kind().filter(|_| self.takes_effect(step)) {
            *self.figures.faults.entry(kind).or_insert(0) += 1;
        }
        match step {
            Step::PreAuth { pan, amount, reuse } => {
                let request_id = self.request_id(*reuse);
                let card =
                    CardInput::parse(PANS[*pan], "4912", self.now).expect("a valid test card");
                let amount =
                    Money::from_minor(AMOUNTS[*amount], Currency::CNY).expect("a valid amount");
                self.submit(request_id, Command::PreAuth { amount, card });
            }
            Step::Complete {
                target,
                percent,
                offline,
                reuse,
            } => {
                let original_trace = self.pick_trace(*target, &[TxnKind::PreAuth]);
                let base = self
                    .engine()
                    .journal()
                    .find_by_trace(original_trace)
                    .expect("reads")
                    .map_or(10_000, |t| t.amount.minor_units());
                let amount =
                    Money::from_minor((base * PERCENTS[*percent] / 100).max(1), Currency::CNY)
                        .expect("a valid amount");
                let request_id = self.request_id(*reuse);
                let command = if *offline {
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
                let original_trace = self.pick_trace(*target, &[TxnKind::PreAuth]);
                let request_id = self.request_id(*reuse);
                self.submit(request_id, Command::Void { original_trace });
            }
            Step::CompleteVoid { target, reuse } => {
                let original_trace = self.pick_trace(
                    *target,
                    &[TxnKind::CompletionRequest, TxnKind::CompletionAdvice],
                );
                let request_id = self.request_id(*reuse);
                self.submit(request_id, Command::CompleteVoid { original_trace });
            }
            Step::Repeat { index } => {
                if !self.submitted.is_empty() {
                    let (request_id, command) =
                        self.submitted[index % self.submitted.len()].clone();
                    self.submit(request_id, command);
                }
            }
            Step::DoubleTap => {
                if let Some((request_id, command)) = self.submitted.last().cloned() {
                    self.submit(request_id, command);
                }
            }
            Step::Settle => {
                let request_id = self.fresh_request_id();
                self.submit(request_id, Command::Settle);
            }
            Step::RetryReversal { target } => {
                let failed: Vec<TraceNumber> = self
                    .all_txns()
                    .iter()
                    .filter(|t| {
                        t.reversal
                            .as_ref()
                            .is_some_and(|r| r.state == ReversalState::Failed)
                    })
                    .map(|t| t.trace)
                    .collect();
                let trace = if failed.is_empty() || target % 4 == 0 {
                    self.pick_trace(*target, &[])
                } else {
                    failed[target % failed.len()]
                };
                let request_id = self.fresh_request_id();
                self.submit(request_id, Command::RetryReversal { trace });
            }
            Step::SignOn => {
                let request_id = self.fresh_request_id();
                self.submit(request_id, Command::SignOn);
            }
            Step::Reprint { target, copy } => {
                let trace = (*target != 0).then(|| {
                    self.pick_trace(*target, &[TxnKind::PreAuth, TxnKind::CompletionRequest])
                });
                let copy = [
                    None,
                    Some(SlipCopy::Merchant),
                    Some(SlipCopy::Cardholder),
                    Some(SlipCopy::Bank),
                ][*copy];
                let request_id = self.fresh_request_id();
                self.submit(request_id, Command::Reprint { trace, copy });
            }
            Step::ResumePrinting => {
                let request_id = self.fresh_request_id();
                self.submit(request_id, Command::ResumePrinting);
            }
            Step::DeliverElectronically { target } => {
                let trace = self.pick_trace(
                    *target,
                    &[
                        TxnKind::PreAuth,
                        TxnKind::CompletionRequest,
                        TxnKind::CompletionAdvice,
                    ],
                );
                let request_id = self.fresh_request_id();
                self.submit(
                    request_id,
                    Command::DeliverElectronically { trace, copy: None },
                );
            }
            Step::Invalid(kind, pick) => self.invalid(*kind, *pick),
            Step::Approve => self.approve(),
            Step::Decline => self.decline(),
            Step::BadMac => {
                let reply = HostReply {
                    mac_valid: false,
                    ..self.approved_reply()
                };
                self.reply(reply);
            }
            Step::SignOnRequested => {
                let reply = HostReply {
                    sign_on_requested: true,
                    ..self.approved_reply()
                };
                self.reply(reply);
            }
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
            Step::Timeout { processed } => {
                if let Some((exchange, sent)) = self.in_flight.take() {
                    self.figures.exchanges += 1;
                    self.note_maybe_delivered(sent);
                    // A host that processed it approved it (its answer is lost).
                    self.host_books(sent, *processed, true);
                    self.stale.push((exchange, sent));
                    self.handle(Input::HostTimeout { exchange });
                }
            }
            Step::LinkFailed => {
                if let Some((exchange, sent)) = self.in_flight.take() {
                    self.figures.exchanges += 1;
                    if let Sent::Financial { txn_id, .. } = sent {
                        self.link_failed.insert(txn_id);
                    }
                    self.handle(Input::LinkFailed {
                        exchange,
                        why: "no network".into(),
                    });
                }
            }
            Step::LateReply { pick } => {
                if !self.stale.is_empty() {
                    let (exchange, sent) = self.stale[pick % self.stale.len()];
                    let reply = self.approved_reply();
                    self.ignored(exchange, sent, Input::HostReply { exchange, reply });
                }
            }
            Step::DuplicateReply => {
                if let Some((exchange, sent, reply)) = self.last_answered.clone() {
                    self.ignored(exchange, sent, Input::HostReply { exchange, reply });
                }
            }
            Step::PrintOk => {
                if let Some(job_id) = self.printing.take() {
                    self.confirmed.insert(job_id);
                    self.figures.slips_printed += 1;
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
            Step::PrintFault {
                condition,
                may_have_printed,
            } => {
                let condition = FAULTS[*condition];
                let outcome = PrintOutcome::Failed {
                    condition,
                    detail: condition.code().into(),
                    may_have_printed: *may_have_printed,
                };
                if let Some(job_id) = self.printing.take() {
                    if *may_have_printed {
                        self.uncertain.insert(job_id);
                    }
                    self.handle(Input::PrintResult { job_id, outcome });
                } else if let Some(report_id) = self.report.take() {
                    self.handle(Input::ReportResult { report_id, outcome });
                }
            }
            Step::PrinterReady => self.handle(Input::PrinterReady),
            Step::Tick(i) => {
                self.advance(*i);
                self.handle(Input::Tick);
            }
            Step::ClockBack(i) => {
                self.now = self.now.plus_millis(-BACKWARD_MS[*i]);
                self.handle(Input::Tick);
            }
            Step::Crash => self.crash(),
            Step::CrashAfter(inner) => {
                self.figures.crashes_losing_outputs += 1;
                self.losing = true;
                self.step(inner);
                self.losing = false;
                self.crash();
            }
        }
    }

    /// Whether a fault step has something to act on (a host fault needs an exchange out, a
    /// printer fault a slip or report at the printer), for the figures.
    fn takes_effect(&self, step: &Step) -> bool {
        match step {
            Step::Decline
            | Step::BadMac
            | Step::SignOnRequested
            | Step::Timeout { .. }
            | Step::LinkFailed => self.in_flight.is_some(),
            Step::Unbalanced => self
                .in_flight
                .is_some_and(|(_, sent)| sent == Sent::Settlement),
            Step::LateReply { .. } => !self.stale.is_empty(),
            Step::DuplicateReply => self.last_answered.is_some(),
            Step::PrintFault { .. } => self.printing.is_some() || self.report.is_some(),
            Step::DoubleTap => !self.submitted.is_empty(),
            Step::Repeat { .. } => !self.submitted.is_empty(),
            _ => true,
        }
    }

    /// An answer to an exchange that is not in flight: the engine must ignore it.
    fn ignored(&mut self, exchange: ExchangeId, sent: Sent, input: Input) {
        if self.in_flight.is_some_and(|(id, _)| id == exchange) {
            return;
        }
        let txn_id = match sent {
            Sent::Financial { txn_id, .. }
            | Sent::Reversal { txn_id, .. }
            | Sent::Advice { txn_id } => Some(txn_id),
            _ => None,
        };
        let find = |w: &World| {
            txn_id
                .and_then(|id| w.all_txns().into_iter().find(|t| t.id == id))
                .map(|t| {
                    (
                        t.state,
                        t.response_code.clone(),
                        t.auth_code.clone(),
                        t.reversal.clone(),
                    )
                })
        };
        let before = find(self);
        let batch = self.engine().journal().current_batch().expect("reads");
        let outputs = self.handle_raw(input);
        let touched = outputs.iter().any(|o| match o {
            Output::Event(Event::Transaction(r)) => Some(r.id) == txn_id,
            Output::Event(Event::Settled(_)) => true,
            _ => false,
        });
        self.carry_out(outputs);
        if !self.losing {
            let after = find(self);
            ensure!(
                !touched && before == after,
                "an answer to exchange {} (no longer in flight, {sent:?}) changed the journal: {before:?} -> {after:?}",
                exchange.0
            );
            ensure!(
                batch == self.engine().journal().current_batch().expect("reads"),
                "a late settlement answer closed a batch"
            );
        }
    }

    fn invalid(&mut self, kind: Invalid, pick: usize) {
        let all = self.all_txns();
        let command = match kind {
            Invalid::UnknownTrace => Command::Complete {
                original_trace: TraceNumber::new(999_998).expect("valid"),
                amount: Money::from_minor(100, Currency::CNY).expect("valid"),
            },
            Invalid::OverLimit => {
                let original_trace = self.pick_trace(pick, &[TxnKind::PreAuth]);
                let base = all
                    .iter()
                    .find(|t| t.trace == original_trace)
                    .map_or(10_000, |t| t.amount.minor_units());
                let amount = Money::from_minor(base * 115 / 100 + 1, Currency::CNY).expect("valid");
                if pick % 2 == 0 {
                    Command::Complete {
                        original_trace,
                        amount,
                    }
                } else {
                    Command::CompleteOffline {
                        original_trace,
                        amount,
                    }
                }
            }
            Invalid::ExpiredCard => {
                let long_ago = Timestamp::from_civil(2022, 1, 10, 9, 0, 0);
                let card = CardInput::parse(PANS[pick % PANS.len()], "2212", long_ago)
                    .expect("valid in 2022");
                Command::PreAuth {
                    amount: Money::from_minor(5_000, Currency::CNY).expect("valid"),
                    card,
                }
            }
            Invalid::WrongCurrency => {
                let usd = Currency::from_code("USD").expect("USD is known");
                let card =
                    CardInput::parse(PANS[pick % PANS.len()], "4912", self.now).expect("valid");
                Command::PreAuth {
                    amount: Money::from_minor(5_000, usd).expect("valid"),
                    card,
                }
            }
            Invalid::RequestIdConflict => {
                if all.is_empty() {
                    return;
                }
                let existing = all[pick % all.len()].request_id.clone();
                let card =
                    CardInput::parse(PANS[pick % PANS.len()], "4912", self.now).expect("valid");
                // An amount no other command uses: the fingerprint differs.
                let command = Command::PreAuth {
                    amount: Money::from_minor(7_777_777, Currency::CNY).expect("valid"),
                    card,
                };
                let count = all.len();
                let outcome = self.submit(existing.clone(), command);
                self.expect_refused(kind, outcome, count, None);
                return;
            }
            Invalid::WrongKind => {
                let others: Vec<&TxnRecord> =
                    all.iter().filter(|t| t.kind != TxnKind::PreAuth).collect();
                let original_trace = if others.is_empty() {
                    TraceNumber::new(999_997).expect("valid")
                } else {
                    others[pick % others.len()].trace
                };
                Command::Void { original_trace }
            }
            Invalid::ReprintUnknown => Command::Reprint {
                trace: Some(TraceNumber::new(999_996).expect("valid")),
                copy: None,
            },
            Invalid::NothingToRetry => {
                let not_failed: Vec<&TxnRecord> = all
                    .iter()
                    .filter(|t| {
                        !t.reversal
                            .as_ref()
                            .is_some_and(|r| r.state == ReversalState::Failed)
                    })
                    .collect();
                let trace = if not_failed.is_empty() {
                    TraceNumber::new(999_995).expect("valid")
                } else {
                    not_failed[pick % not_failed.len()].trace
                };
                Command::RetryReversal { trace }
            }
            Invalid::BadAmountText => {
                for text in [
                    "",
                    "abc",
                    "1.234",
                    "-5",
                    "1e3",
                    "12.3.4",
                    "9999999999999.99",
                    " 1",
                ] {
                    let parsed = Money::parse(text, Currency::CNY);
                    ensure!(parsed.is_err(), "amount text {text:?} parsed as {parsed:?}");
                }
                ensure!(
                    Money::from_minor(0, Currency::CNY).is_none(),
                    "a zero amount was accepted"
                );
                self.figures.refusals += 1;
                return;
            }
        };
        let count = all.len();
        let request_id = self.fresh_request_id();
        let outcome = self.submit(request_id.clone(), command);
        self.expect_refused(kind, outcome, count, Some(&request_id));
    }

    fn expect_refused(
        &mut self,
        kind: Invalid,
        outcome: Option<Result<String, String>>,
        count_before: usize,
        request_id: Option<&RequestId>,
    ) {
        if self.losing {
            return;
        }
        match outcome {
            Some(Err(_)) => self.figures.refusals += 1,
            other => panic!("invalid input {kind:?} was not refused at once: {other:?}"),
        }
        let all = self.all_txns();
        ensure!(
            all.len() == count_before,
            "invalid input {kind:?} journaled a transaction"
        );
        if let Some(id) = request_id {
            ensure!(
                !all.iter().any(|t| &t.request_id == id),
                "refused request {id} is in the journal"
            );
        }
    }

    /// Drops the engine as a crash would, reopens the same journal and ticks.
    fn crash(&mut self) {
        self.figures.crashes += 1;
        if let Some((exchange, sent)) = self.in_flight.take() {
            // It may have reached the host: half the time the host processed it.
            self.note_maybe_delivered(sent);
            let processed = self.figures.crashes % 2 == 0;
            self.host_books(sent, processed, true);
            self.stale.push((exchange, sent));
        }
        self.engine = None;
        self.report = None;
        self.open_tickets.clear();
        if let Some(job_id) = self.printing.take() {
            self.uncertain.insert(job_id);
        }
        let (engine, _) = Engine::open(&self.path, self.config.clone(), key(), self.now)
            .expect("the engine reopens");
        self.engine = Some(engine);
        self.handle(Input::Tick);
    }

    fn handle_raw(&mut self, input: Input) -> Vec<Output> {
        let now = self.now;
        self.engine
            .as_mut()
            .expect("the engine is open")
            .handle(now, input)
            .expect("the journal works")
    }

    fn handle(&mut self, input: Input) {
        let outputs = self.handle_raw(input);
        self.carry_out(outputs);
    }

    /// Carries out the outputs of one `handle()` (or loses them, before a crash).
    fn carry_out(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send { exchange, request } => {
                    ensure!(
                        self.in_flight.is_none(),
                        "{} sent while another exchange is in flight",
                        request.describe()
                    );
                    let sent = self.check_send(&request);
                    if self.losing {
                        // Never reached the link: the host saw nothing.
                        self.stale.push((exchange, sent));
                    } else {
                        self.in_flight = Some((exchange, sent));
                    }
                }
                Output::PrintReport(report) => {
                    ensure!(
                        self.printing.is_none() && self.report.is_none(),
                        "a report sent while the printer is busy"
                    );
                    if !self.losing {
                        self.report = Some(report.report_id);
                    }
                }
                Output::Print(job) => {
                    ensure!(self.printing.is_none(), "two slips at the printer at once");
                    ensure!(
                        self.report.is_none(),
                        "a slip sent while a report is at the printer"
                    );
                    ensure!(
                        job.txn
                            .print_jobs
                            .iter()
                            .find(|j| j.id == job.job_id)
                            .map(|j| j.state)
                            == Some(PrintJobState::Sending),
                        "slip {} handed to the printer but not journaled as sending",
                        job.job_id
                    );
                    // Promise 5.
                    if self.uncertain.contains(&job.job_id) {
                        ensure!(
                            job.kind == PrintKind::Reprint,
                            "slip {} may have printed but goes again unmarked",
                            job.job_id
                        );
                    }
                    if !self.losing {
                        self.printing = Some(job.job_id);
                    }
                }
                Output::Done(done) => {
                    ensure!(
                        self.answered.insert(done.ticket.0),
                        "ticket {} answered twice",
                        done.ticket.0
                    );
                    self.open_tickets.remove(&done.ticket.0);
                    match &done.outcome {
                        Ok(CommandOutcome::Transaction(record))
                            if self.financial_tickets.contains(&done.ticket.0) =>
                        {
                            ensure!(
                                record.request_id == done.request_id,
                                "a Done answers another request id"
                            );
                            self.note_owner(record);
                            self.note_reported(record);
                        }
                        Ok(_) => {}
                        Err(_) => self.figures.refusals += 1,
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
        ensure!(
            owner == record.id,
            "request id {} maps to two transactions",
            record.request_id
        );
    }

    /// Checks a request as it leaves, and says what it is for.
    fn check_send(&mut self, request: &HostRequest) -> Sent {
        let current_batch = self.engine().journal().current_batch().expect("reads");
        match request {
            HostRequest::SignOn { .. } => Sent::SignOn,
            HostRequest::Settlement(_) => Sent::Settlement,
            HostRequest::BatchUpload { batch, record, .. } => {
                let txn = self.by_trace(record.trace);
                ensure!(*batch == current_batch, "an upload of another batch");
                ensure!(
                    (txn.batch, txn.state, txn.amount)
                        == (*batch, TxnState::Approved, record.amount),
                    "only the batch's approved txns are uploaded"
                );
                ensure!(
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
                ensure!(*batch == current_batch, "an upload end of another batch");
                Sent::BatchUpload
            }
            HostRequest::Financial(f) => {
                let txn = self.by_trace(f.trace);
                ensure!(
                    (txn.batch, txn.kind, txn.amount) == (f.batch, f.kind, f.amount),
                    "the request is not the journaled transaction"
                );
                ensure!(
                    txn.state == TxnState::Sending,
                    "{} not journaled as sending before the send",
                    f.trace
                );
                ensure!(
                    txn.reversal.as_ref().map(|r| r.state) == Some(ReversalState::Armed),
                    "reversal not armed before the send"
                );
                ensure!(
                    f.card.is_some() == (txn.kind == TxnKind::PreAuth),
                    "card data on the wrong request"
                );
                ensure!(
                    f.batch == current_batch,
                    "{} goes out in a batch that is not the open one",
                    f.trace
                );
                let count = self.financial_sends.entry(txn.id).or_insert(0);
                *count += 1;
                ensure!(
                    *count == 1,
                    "transaction {} sent to the host twice",
                    txn.trace
                );
                ensure!(
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
                ensure!(
                    pending.is_empty(),
                    "financial {} sent before the pending reversals of {pending:?}",
                    f.trace
                );
                Sent::Financial {
                    txn_id: txn.id,
                    trace: f.trace.value(),
                }
            }
            HostRequest::Reversal(r) => {
                let txn = self.by_trace(r.original_trace);
                ensure!(
                    txn.state == TxnState::Unknown,
                    "only an uncertain transaction is reversed ({} is {})",
                    txn.trace,
                    txn.state
                );
                ensure!(
                    txn.reversal.as_ref().map(|r| r.state) == Some(ReversalState::Pending),
                    "a reversal sent that is not pending"
                );
                ensure!(
                    txn.kind != TxnKind::CompletionAdvice,
                    "an advice is reversed"
                );
                ensure!(
                    (r.batch, r.amount) == (txn.batch, txn.amount),
                    "the reversal is not of the journaled transaction"
                );
                Sent::Reversal {
                    txn_id: txn.id,
                    trace: r.original_trace.value(),
                }
            }
            HostRequest::Advice(a) => {
                let txn = self.by_trace(a.trace);
                ensure!(
                    txn.kind == TxnKind::CompletionAdvice,
                    "an advice of a {}",
                    txn.kind
                );
                ensure!(
                    matches!(txn.state, TxnState::Approved | TxnState::Voided),
                    "advice {} is {}",
                    a.trace,
                    txn.state
                );
                if self.advice_maybe_delivered.contains(&txn.id) {
                    ensure!(
                        a.retransmission,
                        "advice {} may have reached the host and goes again unflagged",
                        a.trace
                    );
                }
                Sent::Advice { txn_id: txn.id }
            }
        }
    }

    /// The promises, checked against the journal.
    fn check(&mut self) {
        let all = self.all_txns();
        let by_id: HashMap<i64, &TxnRecord> = all.iter().map(|t| (t.id, t)).collect();
        let approved_states = [TxnState::Approved, TxnState::Completed, TxnState::Voided];

        // Promise 1.
        for id in self.host_approved.iter().chain(&self.reported_approved) {
            let txn = by_id
                .get(id)
                .unwrap_or_else(|| panic!("approved transaction {id} is missing from the journal"));
            ensure!(
                approved_states.contains(&txn.state),
                "approved transaction {} is now {}",
                txn.trace,
                txn.state
            );
        }

        let mut keys = HashSet::new();
        let mut request_ids = HashSet::new();
        let copies = SlipCopy::for_count(self.config.slip_copies);
        for txn in &all {
            // Promise 2: every copy journaled; a held one says why; printed means confirmed.
            if approved_states.contains(&txn.state) {
                let first: Vec<_> = txn
                    .print_jobs
                    .iter()
                    .take(copies.len())
                    .map(|j| j.copy)
                    .collect();
                ensure!(
                    first == copies.to_vec(),
                    "slips of {}: {:?}",
                    txn.trace,
                    txn.print_jobs
                );
                for copy in copies {
                    let originals = txn
                        .print_jobs
                        .iter()
                        .filter(|j| {
                            j.copy == *copy
                                && j.kind == PrintKind::Original
                                && j.state == PrintJobState::Printed
                        })
                        .count();
                    ensure!(
                        originals <= 1,
                        "the {copy} copy of {} printed {originals} times as an original",
                        txn.trace
                    );
                }
            } else {
                ensure!(
                    txn.print_jobs.is_empty() || txn.state == TxnState::Approved,
                    "{} ({}) has slips",
                    txn.trace,
                    txn.state
                );
            }
            for job in &txn.print_jobs {
                if job.state == PrintJobState::Printed {
                    ensure!(
                        self.confirmed.contains(&job.id),
                        "slip {} of {} is printed but the printer never confirmed it",
                        job.id,
                        txn.trace
                    );
                }
                if job.state == PrintJobState::Held {
                    ensure!(
                        job.held_reason.is_some(),
                        "slip {} of {} is held without a reason",
                        job.id,
                        txn.trace
                    );
                }
                if job.kind == PrintKind::Original && self.uncertain.contains(&job.id) {
                    ensure!(
                        job.state != PrintJobState::Printed || self.confirmed.contains(&job.id),
                        "uncertain slip {} printed as an original",
                        job.id
                    );
                }
                let at_printer = self.printing == Some(job.id);
                ensure!(
                    (job.state == PrintJobState::Sending) == at_printer,
                    "slip {} of {} is {} (at the printer: {at_printer})",
                    job.id,
                    txn.trace,
                    job.state
                );
            }
            // Promise 3.
            let reversal = txn.reversal.as_ref().map(|r| r.state);
            match txn.state {
                TxnState::Unknown => ensure!(
                    matches!(
                        reversal,
                        Some(ReversalState::Pending | ReversalState::Failed)
                    ),
                    "unknown {} has reversal {reversal:?}",
                    txn.trace
                ),
                TxnState::Reversed => ensure!(
                    reversal == Some(ReversalState::Done),
                    "reversed {} has reversal {reversal:?}",
                    txn.trace
                ),
                _ => {}
            }
            if reversal.is_some() {
                self.with_reversal.insert(txn.id);
            }
            if txn.kind == TxnKind::CompletionAdvice {
                ensure!(reversal.is_none(), "an advice has a reversal");
            }
            let in_flight = self.in_flight.is_some_and(
                |(_, sent)| matches!(sent, Sent::Financial { txn_id, .. } if txn_id == txn.id),
            );
            ensure!(
                (txn.state == TxnState::Sending) == in_flight,
                "{} is {} (in flight: {in_flight})",
                txn.trace,
                txn.state
            );
            ensure!(
                (reversal == Some(ReversalState::Armed)) == in_flight,
                "{} has reversal {reversal:?} (in flight: {in_flight})",
                txn.trace
            );
            if self.financial_sends.contains_key(&txn.id) && !self.link_failed.contains(&txn.id) {
                ensure!(
                    !matches!(txn.state, TxnState::Queued | TxnState::NotSent),
                    "sent {} is now {}",
                    txn.trace,
                    txn.state
                );
            }
            // Promise 4.
            ensure!(
                !(txn.settled && matches!(txn.state, TxnState::Queued | TxnState::Sending)),
                "{} was settled before it was sent",
                txn.trace
            );
            ensure!(
                keys.insert((txn.batch, txn.trace)),
                "(batch, trace) ({}, {}) twice",
                txn.batch,
                txn.trace
            );
            ensure!(
                request_ids.insert(txn.request_id.clone()),
                "request id {} twice",
                txn.request_id
            );
            self.note_owner(txn);
        }
        for id in &self.with_reversal {
            ensure!(
                by_id.get(id).is_some_and(|t| t.reversal.is_some()),
                "the reversal of transaction {id} disappeared"
            );
        }
        for id in self.financial_sends.keys() {
            ensure!(
                by_id.get(id).is_some_and(|t| t.reversal.is_some()),
                "sent transaction {id} has no reversal row"
            );
        }
    }

    /// Promise 6: no test PAN in the journal files.
    fn check_no_pan_at_rest(&self) {
        for suffix in ["", "-wal", "-journal", "-shm"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            for pan in PANS {
                let found = bytes.windows(pan.len()).any(|w| w == pan.as_bytes());
                ensure!(
                    !found,
                    "the full PAN {pan} is in {}",
                    Path::new(&file).display()
                );
            }
        }
    }

    /// Faults stop: the host approves (and answers reversals from its ledger), the printer
    /// prints, the operator loads paper, resumes and retries failed reversals, time passes.
    fn drain(&mut self) {
        for round in 0..800 {
            if let Some((_, sent)) = self.in_flight {
                match sent {
                    Sent::Reversal { trace, .. } if !self.ledger.contains(&trace) => {
                        self.replies += 1;
                        self.reply(HostReply::with_code("25"));
                    }
                    _ => self.approve(),
                }
            } else if self.printing.is_some() || self.report.is_some() {
                self.step(&Step::PrintOk);
            } else {
                let failed: Vec<TraceNumber> = self
                    .all_txns()
                    .iter()
                    .filter(|t| {
                        t.reversal
                            .as_ref()
                            .is_some_and(|r| r.state == ReversalState::Failed)
                    })
                    .map(|t| t.trace)
                    .collect();
                for trace in failed {
                    let request_id = self.fresh_request_id();
                    self.submit(request_id, Command::RetryReversal { trace });
                }
                self.handle(Input::PrinterReady);
                let request_id = self.fresh_request_id();
                self.submit(request_id, Command::ResumePrinting);
                // Retries due after a backward clock jump wait for the clock to catch up:
                // after a while, time passes in hours.
                self.now = self
                    .now
                    .plus_millis(if round < 100 { 120_000 } else { 3_600_000 });
                self.handle(Input::Tick);
                if self.in_flight.is_none()
                    && self.printing.is_none()
                    && self.report.is_none()
                    && self.engine().is_idle()
                    && !self.unfinished()
                {
                    self.check();
                    return;
                }
            }
            self.check();
        }
        panic!("the engine still had work after 800 drain rounds");
    }

    /// Whether the journal still has work: a slip not out, a reversal or transaction not
    /// resolved, an advice not acknowledged.
    fn unfinished(&self) -> bool {
        self.all_txns().iter().any(|txn| {
            matches!(
                txn.state,
                TxnState::Queued | TxnState::Sending | TxnState::Unknown
            ) || txn.reversal.as_ref().is_some_and(|r| {
                matches!(
                    r.state,
                    ReversalState::Pending | ReversalState::Armed | ReversalState::Failed
                )
            }) || txn
                .print_jobs
                .iter()
                .any(|j| !matches!(j.state, PrintJobState::Printed | PrintJobState::Delivered))
                || (txn.kind == TxnKind::CompletionAdvice && {
                    let events = self.engine().journal().events_of(txn.id).expect("reads");
                    events
                        .iter()
                        .rev()
                        .find(|e| e.entity == "advice")
                        .map(|e| e.to.as_str())
                        != Some("done")
                })
        })
    }

    /// After the drain: nothing hangs, every slip is out, host and journal agree.
    fn check_settled(&self) {
        for txn in self.all_txns() {
            ensure!(
                !matches!(
                    txn.state,
                    TxnState::Queued | TxnState::Sending | TxnState::Unknown
                ),
                "{} is still {} after the drain",
                txn.trace,
                txn.state
            );
            if let Some(r) = &txn.reversal {
                ensure!(
                    !matches!(
                        r.state,
                        ReversalState::Pending | ReversalState::Armed | ReversalState::Failed
                    ),
                    "the reversal of {} is still {}",
                    txn.trace,
                    r.state
                );
            }
            ensure!(
                txn.print_jobs
                    .iter()
                    .all(|j| matches!(j.state, PrintJobState::Printed | PrintJobState::Delivered)),
                "slips of {} neither printed nor delivered after the drain: {:?}",
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
                ensure!(
                    last.as_deref() == Some("done"),
                    "advice {} was not acknowledged",
                    txn.trace
                );
            } else {
                let journal_holds = matches!(
                    txn.state,
                    TxnState::Approved | TxnState::Completed | TxnState::Voided
                );
                let host_holds = self.ledger.contains(&txn.trace.value());
                ensure!(
                    journal_holds == host_holds,
                    "host and terminal disagree on {} {}: journal {} (reversal {:?}), host {}",
                    txn.kind,
                    txn.trace,
                    txn.state,
                    txn.reversal.as_ref().map(|r| r.state),
                    if host_holds {
                        "approved it"
                    } else {
                        "holds nothing"
                    }
                );
            }
        }
        ensure!(
            self.open_tickets.is_empty(),
            "tickets never answered: {:?}",
            self.open_tickets
        );
    }
}

// ---------------------------------------------------------------------------------------
// Running seeds
// ---------------------------------------------------------------------------------------

/// Where journals go: a RAM-backed directory when there is one (fsync is then cheap).
fn journal_root() -> PathBuf {
    if let Ok(dir) = std::env::var("POSCORE_SIM_DIR") {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::env::var_os("POSCORE_SIM_VERBOSE").is_some() {
                default(info);
            }
        }));
    });
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "a panic without a message".into()
    }
}

/// Runs a plan; `Err` carries the violation's message.
pub fn run_plan(plan: &Plan) -> (Figures, Result<(), String>) {
    quiet_panics();
    let dir = tempfile::Builder::new()
        .prefix(&format!("poscore-sim-{}-", plan.seed))
        .tempdir_in(journal_root())
        .expect("a temporary directory");
    let path = dir.path().join("journal.db");
    let mut figures = Figures::default();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut world = World::new(path.clone(), plan.config.clone());
        world.check();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for step in &plan.steps {
                world.step(step);
                world.check();
            }
            if plan.final_crash {
                world.crash();
                world.check();
            }
            world.drain();
            world.check_settled();
            world.engine = None;
            world.check_no_pan_at_rest();
        }));
        figures = std::mem::take(&mut world.figures);
        outcome.map_err(panic_message)
    }))
    .map_err(panic_message)
    .and_then(|r| r);
    figures.seeds = 1;
    figures.steps = plan.steps.len() as u64;
    drop(dir);
    (figures, result)
}

/// The first line of a message, without numbers that change as steps are dropped, to tell
/// whether a smaller trace fails the same way.
fn signature(message: &str) -> String {
    message
        .split_whitespace()
        .take(4)
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shrinks a failing plan (ddmin over its steps), keeping failures of the same kind.
pub fn shrink(plan: &Plan, message: &str) -> Vec<Step> {
    let want = signature(message);
    let fails = |steps: &[Step]| {
        let candidate = Plan {
            steps: steps.to_vec(),
            ..plan.clone()
        };
        matches!(run_plan(&candidate).1, Err(m) if signature(&m) == want)
    };
    let mut steps = plan.steps.clone();
    let mut n = 2usize;
    let mut runs = 0;
    while steps.len() >= 2 && runs < 4000 {
        let chunk = steps.len().div_ceil(n);
        let mut reduced = false;
        let mut start = 0;
        while start < steps.len() {
            let end = (start + chunk).min(steps.len());
            let mut candidate = steps[..start].to_vec();
            candidate.extend_from_slice(&steps[end..]);
            runs += 1;
            if fails(&candidate) {
                steps = candidate;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if chunk <= 1 {
                break;
            }
            n = (n * 2).min(steps.len());
        }
    }
    steps
}

/// Runs one seed; a failure is shrunk and recorded.
pub fn run_seed(seed: u64, steps: usize) -> Figures {
    let plan = Plan::from_seed(seed, steps);
    let (mut figures, result) = run_plan(&plan);
    if let Err(message) = result {
        figures.violations += 1;
        let minimal = shrink(&plan, &message);
        figures.failures.push(Failure {
            seed,
            message,
            minimal,
            original_len: plan.steps.len(),
        });
    }
    figures
}

/// Runs `count` seeds from `from` on `jobs` threads.
pub fn run_seeds(from: u64, count: u64, steps: usize, jobs: usize) -> Figures {
    let jobs = jobs.max(1) as u64;
    let handles: Vec<_> = (0..jobs)
        .map(|j| {
            std::thread::spawn(move || {
                let mut figures = Figures::default();
                let mut seed = from + j;
                while seed < from + count {
                    figures.merge(run_seed(seed, steps));
                    seed += jobs;
                }
                figures
            })
        })
        .collect();
    let mut total = Figures::default();
    for h in handles {
        total.merge(h.join().expect("a simulation thread"));
    }
    total.failures.sort_by_key(|f| f.seed);
    total
}

/// Steps per seed by default (a seed draws between half and one and a half times this).
pub const DEFAULT_STEPS: usize = 60;

/// The number of threads to use by default.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
