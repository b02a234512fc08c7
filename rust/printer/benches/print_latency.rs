//! From the approval to the first byte at the printer, in process (see `BENCHMARKS.md`,
//! "Print queue").
//!
//! Run with `cargo bench -p poscore-printer --features virtual-printer --bench print_latency`
//! (`POSCORE_BENCH_N` sets the number of approvals, default 500).
//!
//! Three measurements, interleaved round by round so they see the disk in the same state:
//!
//! 1. **path**: the whole path. A real [`Engine`] on a journal file under the target
//!    directory (a real disk, not tmpfs), run by [`Terminal`] against the in-process
//!    [`SimHost`] (no delay) wrapped in a [`HostLink`] that records `t0` just before it hands
//!    the approval back; [`SlipPrinter`] → [`EscPosPrinter`] → an in-process
//!    [`VirtualPrinter::connect`] link wrapped to record when bytes enter it. `t1` is the
//!    first byte written for the slip (the job's first `DLE EOT` status request), `t2` the
//!    first byte of the print data (`GS a` then the slip). Between `t0` and `t1`: the driver
//!    hands the answer to the engine, the engine commits the approval together with the
//!    merchant copy marked `sending` (one fsync: a slip is on record as going out before any
//!    byte leaves), renders it from the journal, and the print task encodes it and writes.
//! 2. **commit**: the approval commit alone, `Engine::handle` of the host's approval on a
//!    second engine whose printer is kept busy (its first slip is never answered, so no
//!    print starts): one SQLite transaction with fsync, the commit the path starts with.
//! 3. **engine**: `Engine::handle` of the approval on a third engine whose printer is idle:
//!    the approval commit (with the first slip marked `sending`) and the rendering: the
//!    engine's share of the path.
//!
//! The result: p50/p99 of each, and `path - commit`: what printing adds on top of the
//! approval's own commit (target: under 2 ms).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use poscore::card::{CardInput, PanHashKey};
use poscore::host::{HostReply, HostRequest};
use poscore::ids::RequestId;
use poscore::money::{Currency, Money};
use poscore::print::PrintOutcome;
use poscore::txn::TxnState;
use poscore::{Command, CommandOutcome, Config, Engine, Input, Output, Ticket};
use poscore_escpos::Profile;
use poscore_printer::virtual_printer::{VirtualPrinter, VirtualPrinterConfig};
use poscore_printer::{BoxLink, EscPosPrinter, FnConnector, JobConfig, SlipPrinter};
use poscore_terminal::{
    Clock, DriverConfig, HostLink, LinkError, SimHost, SystemClock, Terminal, TerminalHandle,
};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

const PAN: &str = "6222021234567890128";
/// Untimed rounds first (sign-on, caches, the WAL's first growth).
const WARM_UP: usize = 30;

/// The simulated host, noting when it hands each answer back.
struct TimedHost {
    inner: SimHost,
    answered: Mutex<Option<Instant>>,
}

#[async_trait]
impl HostLink for TimedHost {
    async fn exchange(&self, request: &HostRequest) -> Result<HostReply, LinkError> {
        let reply = self.inner.exchange(request).await;
        *self.answered.lock().unwrap() = Some(Instant::now());
        reply
    }
}

/// Writes into the printer link: when, the first byte, how many.
#[derive(Default)]
struct Probe {
    writes: Mutex<Vec<(Instant, u8, usize)>>,
}

/// The in-process link to the virtual printer, noting every write.
struct Stamped {
    inner: DuplexStream,
    probe: Arc<Probe>,
}

impl AsyncRead for Stamped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stamped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let at = Instant::now();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &result {
            if *n > 0 {
                this.probe.writes.lock().unwrap().push((at, buf[0], *n));
            }
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

fn preauth(n: usize) -> (RequestId, Command) {
    let command = Command::PreAuth {
        amount: Money::parse(&format!("{}.00", 10 + n % 400), Currency::CNY).unwrap(),
        card: CardInput::parse(PAN, "3012", SystemClock.now()).unwrap(),
    };
    (RequestId::parse(&format!("bench-{n}")).unwrap(), command)
}

fn key() -> PanHashKey {
    PanHashKey::new(vec![7; 32]).unwrap()
}

/// The whole path: one approval through the terminal; returns (t1 - t0, t2 - t0).
async fn path_round(
    handle: &TerminalHandle,
    host: &TimedHost,
    probe: &Probe,
    n: usize,
) -> (Duration, Duration) {
    *host.answered.lock().unwrap() = None;
    probe.writes.lock().unwrap().clear();
    let (request_id, command) = preauth(n);
    match handle.submit(request_id, command).await.unwrap() {
        CommandOutcome::Transaction(txn) => assert_eq!(txn.state, TxnState::Approved),
        other => panic!("{other:?}"),
    }
    // Both copies printed, the queue empty: the next round starts clean.
    handle.idle().await.unwrap();
    let t0 = host.answered.lock().unwrap().expect("the host answered");
    let writes = probe.writes.lock().unwrap().clone();
    let first = writes
        .iter()
        .find(|(at, _, _)| *at >= t0)
        .expect("a byte reached the printer");
    // The print data starts with GS a (Automatic Status Back on), after the status requests.
    let data = writes
        .iter()
        .find(|(at, byte, _)| *at >= t0 && *byte == 0x1D)
        .expect("print data reached the printer");
    (first.0 - t0, data.0 - t0)
}

/// A sans-IO engine answering the host itself, for the commit measurements.
struct Direct {
    engine: Engine,
    ticket: u64,
    /// Answer every slip at once (idle printer) or never (busy printer).
    answer_prints: bool,
    _dir: tempfile::TempDir,
}

impl Direct {
    fn open(answer_prints: bool) -> Direct {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let (engine, _) = Engine::open(
            &dir.path().join("journal.db"),
            Config::default(),
            key(),
            SystemClock.now(),
        )
        .unwrap();
        let mut direct = Direct {
            engine,
            ticket: 0,
            answer_prints,
            _dir: dir,
        };
        // Sign on and print (or leave the printer busy with) a first pre-auth's slip.
        direct.round(usize::MAX / 2);
        direct
    }

    /// Handles outputs untimed: answers host requests with approvals and slips as set.
    fn settle(&mut self, mut outputs: Vec<Output>) {
        while let Some(output) = outputs.pop() {
            let input = match output {
                Output::Send { exchange, .. } => Input::HostReply {
                    exchange,
                    reply: HostReply::approved("123456", &format!("{:012}", self.ticket)),
                },
                Output::Print(job) if self.answer_prints => Input::PrintResult {
                    job_id: job.job_id,
                    outcome: PrintOutcome::Printed { length_mm: 80 },
                },
                _ => continue,
            };
            outputs.extend(self.engine.handle(SystemClock.now(), input).unwrap());
        }
    }

    /// One pre-auth; only the handling of the host's approval is timed.
    fn round(&mut self, n: usize) -> Duration {
        self.ticket += 1;
        let (request_id, command) = preauth(n);
        let mut outputs = self
            .engine
            .handle(
                SystemClock.now(),
                Input::Command {
                    ticket: Ticket(self.ticket),
                    request_id,
                    command,
                },
            )
            .unwrap();
        // A sign-on first, on a fresh journal.
        loop {
            let sends: Vec<_> = outputs
                .iter()
                .filter_map(|o| match o {
                    Output::Send { exchange, request } => Some((*exchange, request.clone())),
                    _ => None,
                })
                .collect();
            assert_eq!(sends.len(), 1, "one request out at a time");
            let (exchange, request) = sends[0].clone();
            let reply = HostReply::approved("123456", &format!("{:012}", self.ticket));
            if matches!(request, HostRequest::SignOn { .. }) {
                outputs = self
                    .engine
                    .handle(SystemClock.now(), Input::HostReply { exchange, reply })
                    .unwrap();
                continue;
            }
            let started = Instant::now();
            let after = self
                .engine
                .handle(SystemClock.now(), Input::HostReply { exchange, reply })
                .unwrap();
            let elapsed = started.elapsed();
            let printing = after.iter().any(|o| matches!(o, Output::Print(_)));
            assert!(
                after.iter().any(|o| matches!(o, Output::Done(_))),
                "the approval is answered"
            );
            if n != usize::MAX / 2 {
                assert_eq!(
                    printing, self.answer_prints,
                    "a print starts exactly when the printer is idle"
                );
            }
            self.settle(after);
            return elapsed;
        }
    }
}

struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
    max: Duration,
}

fn stats(samples: &[Duration]) -> Stats {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize];
    let mean = sorted.iter().sum::<Duration>() / sorted.len() as u32;
    Stats {
        p50: at(0.50),
        p99: at(0.99),
        mean,
        max: *sorted.last().unwrap(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo test --benches` runs this too: a few rounds, nothing reported as a result.
    let test_mode =
        std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("POSCORE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if test_mode { 10 } else { 500 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (engine, _) = Engine::open(
        &dir.path().join("journal.db"),
        Config::default(),
        key(),
        SystemClock.now(),
    )
    .unwrap();
    let host = Arc::new(TimedHost {
        inner: SimHost::new(),
        answered: Mutex::new(None),
    });
    let probe = Arc::new(Probe::default());
    let (terminal, handle) = runtime.block_on(async {
        let printer = VirtualPrinter::new(VirtualPrinterConfig::default());
        let link_probe = Arc::clone(&probe);
        let connector = FnConnector::new("virtual printer (in process, stamped)", move || {
            Ok(Box::new(Stamped {
                inner: printer.connect(),
                probe: Arc::clone(&link_probe),
            }) as BoxLink)
        });
        let escpos = EscPosPrinter::new(Arc::new(connector), Profile::mm58(), JobConfig::default());
        let terminal = Terminal::start(
            engine,
            host.clone(),
            Arc::new(SlipPrinter::new(Arc::new(escpos))),
            DriverConfig::default(),
        );
        let handle = terminal.handle();
        (terminal, handle)
    });
    let mut busy = Direct::open(false);
    let mut idle = Direct::open(true);

    let (mut path, mut data, mut commit, mut engine) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    for round in 0..WARM_UP + n {
        let (to_first, to_data) = runtime.block_on(path_round(&handle, &host, &probe, round));
        let c = busy.round(round);
        let e = idle.round(round);
        if round >= WARM_UP {
            path.push(to_first);
            data.push(to_data);
            commit.push(c);
            engine.push(e);
        }
    }
    let elapsed = started.elapsed();
    runtime.block_on(terminal.shutdown());

    let (p, d, c, e) = (stats(&path), stats(&data), stats(&commit), stats(&engine));
    println!(
        "print latency: {n} approvals (+{WARM_UP} warm-up), {elapsed:.1?}; journal files under {}",
        env!("CARGO_TARGET_TMPDIR")
    );
    println!(
        "{:<58} {:>10} {:>10} {:>10} {:>10}",
        "", "p50", "p99", "mean", "max"
    );
    for (name, s) in [
        (
            "path: host answer -> first byte at the printer (t1 - t0)",
            &p,
        ),
        ("path: host answer -> first print data byte (t2 - t0)", &d),
        ("commit: the approval commit alone (Engine::handle)", &c),
        (
            "engine: approval commit with the slip started + rendering",
            &e,
        ),
    ] {
        println!(
            "{name:<58} {:>10} {:>10} {:>10} {:>10}",
            ms(s.p50),
            ms(s.p99),
            ms(s.mean),
            ms(s.max)
        );
    }
    let over = |a: Duration, b: Duration| a.saturating_sub(b);
    println!(
        "on top of the approval commit: p50 {} (t1) / {} (t2), p99 {} (t1) / {} (t2); target < 2 ms: {}",
        ms(over(p.p50, c.p50)),
        ms(over(d.p50, c.p50)),
        ms(over(p.p99, c.p99)),
        ms(over(d.p99, c.p99)),
        if over(p.p50, c.p50) < Duration::from_millis(2)
            && over(p.p99, c.p99) < Duration::from_millis(2)
        {
            "met at p50 and p99"
        } else if over(p.p50, c.p50) < Duration::from_millis(2) {
            "met at p50 only"
        } else {
            "missed"
        }
    );
}
