//! The host fault matrix at the terminal level, on a real loopback link.
//!
//! Every cell runs the real engine and driver (`poscore_terminal::Terminal`) over
//! [`TcpHostLink`] to [`HostSim`] on 127.0.0.1, with a small recording proxy of this file's
//! own between the link and the simulator. The proxy forwards bytes both ways, parses the
//! frames in both directions and keeps an ordered wire log of (connection, direction, MTI,
//! F11, F39, …); it can be switched to *refuse* (nothing listens on its port), *blackhole*
//! (accept and swallow everything, never answer) or *pass*. Ordering is checked on that log:
//! what the terminal put on the wire, in the order it did.
//!
//! | cell | fault | what it proves |
//! |---|---|---|
//! | 1 | connection refused (nothing listening) | the pre-auth fails as `not_sent` with the engine's `HOST_UNREACHABLE`, its reversal cancelled, nothing on the wire, nothing held; the same request id again returns that same transaction (no second authorization); with the host back a new pre-auth is approved |
//! | 2 | reply dropped (`drop_next_reply`) | `unknown`; the 0400 (F39 98) goes out and is answered before the next 0100, even when the cashier submits at once; the host no longer holds the approval; journal `reversed` |
//! | 3 | reply after the read timeout (`delay_next_reply`) | `unknown` → reversed; the late 0110 arrives on the kept connection and is ignored: the lost transaction never gets its auth code, and the next pre-auth carries exactly the auth code/RRN of *its own* 0110 |
//! | 4 | bad MAC on the approval (`bad_mac_next_reply`) | the approval is untrusted: `unknown` (reason A0, no auth code kept), a sign-on (0800) then the 0400 before the next 0100; the host's held approvals equal the journal's approved set |
//! | 5 | reply sent twice (`answer_next_twice`) | the first applies; the duplicate is ignored during the next exchange; the next pre-auth gets its own answer |
//! | 6 | connection reset mid-frame (`close_mid_frame_next`) | `unknown` → reversed over a new connection, before the next 0100 |
//! | 7 | the host asks for a sign-on (处理要求 = 3) | the approval stands, the journal requires a sign-on, and the wire shows 0800 before the next 0100 |
//! | 8 | unbalanced settlement (不平) | 0500, then one 0320 per approved completion of the batch (60.3 = 201), then the 0320 end (60.3 = 207, F48 = count); `Settled` with `balanced == false`, batch closed and incremented |
//! | 9 | a reversal that keeps failing (drop, then blackhole) | after `reversal_max_attempts` sends the reversal is `failed` and kept (the transaction stays `unknown`, never deleted, no further send on its own); the terminal goes on with the next pre-auth (DESIGN promise 3); the operator's retry then reverses it |
//!
//! Set `FAULT_MATRIX_WIRE=1` (with `--nocapture`) to print each cell's wire log.
//!
//! Across all cells ([`check_promises`]): each financial trace goes on the wire at most once
//! (one request, one authorization); the host holds an approval exactly for the journal's
//! approved/completed/voided transactions (no double authorization, nothing left frozen);
//! every approved transaction's auth code and RRN are those of the reply with its own F11;
//! every reversed transaction's 0400 went out, and was answered, before the next financial
//! message (the only exception being cell 9's failed reversal, retried by the operator).
//!
//! Cell 8 checks the engine's batch upload (`HostRequest::BatchUpload` / `BatchUploadEnd`):
//! without it, that cell fails on the wire assertion (no 0320 after the unbalanced 0510).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poscore::ids::{RequestId, TraceNumber};
use poscore::txn::{ReversalReason, ReversalState, TxnKind, TxnState};
use poscore::{Command, CommandError, CommandOutcome, Config, TxnRecord};
use poscore_host::{HostSim, LinkConfig, SimConfig, SoftwareMacKey, TcpHostLink};
use poscore_iso8583::{FrameReader, decode, unionpay_pos};
use poscore_terminal::{Terminal, TerminalError, TerminalHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

mod common;

use common::{money, preauth};

// ---------------------------------------------------------------------------------------
// The recording proxy.
// ---------------------------------------------------------------------------------------

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Terminal → host.
    Up,
    /// Host → terminal.
    Down,
}

/// One frame seen by the proxy.
#[derive(Debug, Clone)]
struct Wire {
    /// The proxy's connection number (one per TCP connection from the link).
    conn: u64,
    dir: Dir,
    mti: String,
    f11: Option<String>,
    f37: Option<String>,
    f38: Option<String>,
    f39: Option<String>,
    f48: Option<String>,
    f60: Option<String>,
    /// Whether the proxy passed it on (false while blackholed).
    forwarded: bool,
}

impl Wire {
    fn is(&self, dir: Dir, mti: &str) -> bool {
        self.dir == dir && self.mti == mti
    }

    fn trace_is(&self, trace: TraceNumber) -> bool {
        self.f11.as_deref() == Some(trace.to_string().as_str())
    }

    /// 60.3, the network management code (positions 8..11 of F60).
    fn f60_3(&self) -> Option<&str> {
        self.f60.as_deref().and_then(|t| t.get(8..11))
    }
}

impl std::fmt::Display for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arrow = if self.dir == Dir::Up { "→" } else { "←" };
        write!(
            f,
            "#{} {arrow} {} F11={} F39={} F38={} F60={}{}",
            self.conn,
            self.mti,
            self.f11.as_deref().unwrap_or("-"),
            self.f39.as_deref().unwrap_or("-"),
            self.f38.as_deref().unwrap_or("-"),
            self.f60.as_deref().unwrap_or("-"),
            if self.forwarded { "" } else { " (swallowed)" }
        )
    }
}

fn show(log: &[Wire]) -> String {
    log.iter()
        .enumerate()
        .map(|(i, w)| format!("\n  {i:>2}: {w}"))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forward both ways.
    Pass,
    /// Nothing listens on the proxy's port (connect is refused); existing connections are
    /// closed.
    Refuse,
    /// Accept and swallow everything, both ways; never answer.
    Blackhole,
}

struct ProxyInner {
    listen: SocketAddr,
    upstream: SocketAddr,
    mode: Mutex<Mode>,
    log: Mutex<Vec<Wire>>,
    listener: Mutex<Option<JoinHandle<()>>>,
    conns: Mutex<Vec<JoinHandle<()>>>,
    next_conn: AtomicU64,
}

/// A recording TCP proxy between the link and the simulator.
#[derive(Clone)]
struct Proxy(Arc<ProxyInner>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = listener.local_addr().unwrap();
        let proxy = Proxy(Arc::new(ProxyInner {
            listen,
            upstream,
            mode: Mutex::new(Mode::Pass),
            log: Mutex::new(Vec::new()),
            listener: Mutex::new(None),
            conns: Mutex::new(Vec::new()),
            next_conn: AtomicU64::new(1),
        }));
        proxy.accept_on(listener);
        proxy
    }

    fn addr(&self) -> SocketAddr {
        self.0.listen
    }

    fn mode(&self) -> Mode {
        *lock(&self.0.mode)
    }

    fn accept_on(&self, listener: TcpListener) {
        let proxy = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let conn = proxy.0.next_conn.fetch_add(1, Ordering::Relaxed);
                let p = proxy.clone();
                let task = tokio::spawn(async move { p.serve(conn, client).await });
                lock(&proxy.0.conns).push(task);
            }
        });
        *lock(&self.0.listener) = Some(task);
    }

    /// Switches the mode. `Refuse` closes the listening socket (connects are refused) and
    /// every open connection; leaving `Refuse` listens again on the same port.
    async fn set_mode(&self, mode: Mode) {
        let before = std::mem::replace(&mut *lock(&self.0.mode), mode);
        if mode == Mode::Refuse && before != Mode::Refuse {
            let listener = lock(&self.0.listener).take();
            let conns: Vec<_> = lock(&self.0.conns).drain(..).collect();
            for task in listener.into_iter().chain(conns) {
                task.abort();
                let _ = task.await;
            }
        } else if mode != Mode::Refuse && before == Mode::Refuse {
            // mio sets SO_REUSEADDR, so the same port can be bound again at once.
            let listener = TcpListener::bind(self.0.listen)
                .await
                .expect("listen again on the proxy's port");
            self.accept_on(listener);
        }
    }

    fn log(&self) -> Vec<Wire> {
        lock(&self.0.log).clone()
    }

    fn record(&self, conn: u64, dir: Dir, reader: &mut FrameReader, forwarded: bool) {
        while let Ok(Some(frame)) = reader.next_frame() {
            let Ok(m) = decode(&frame.body, &unionpay_pos()) else {
                lock(&self.0.log).push(Wire {
                    conn,
                    dir,
                    mti: "????".into(),
                    f11: None,
                    f37: None,
                    f38: None,
                    f39: None,
                    f48: None,
                    f60: None,
                    forwarded,
                });
                continue;
            };
            let text = |n: u8| m.get_text(n).map(str::to_string);
            lock(&self.0.log).push(Wire {
                conn,
                dir,
                mti: m.mti.as_str().to_string(),
                f11: text(11),
                f37: text(37),
                f38: text(38),
                f39: text(39),
                f48: text(48),
                f60: text(60),
                forwarded,
            });
        }
    }

    async fn serve(&self, conn: u64, mut client: TcpStream) {
        let _ = client.set_nodelay(true);
        let Ok(mut upstream) = TcpStream::connect(self.0.upstream).await else {
            return;
        };
        let _ = upstream.set_nodelay(true);
        let (mut up_reader, mut down_reader) = (FrameReader::default(), FrameReader::default());
        let (mut a, mut b) = (vec![0u8; 8192], vec![0u8; 8192]);
        loop {
            tokio::select! {
                read = client.read(&mut a) => {
                    let n = match read { Ok(0) | Err(_) => return, Ok(n) => n };
                    let pass = self.mode() == Mode::Pass;
                    up_reader.push(&a[..n]);
                    self.record(conn, Dir::Up, &mut up_reader, pass);
                    if pass && upstream.write_all(&a[..n]).await.is_err() {
                        return;
                    }
                }
                read = upstream.read(&mut b) => {
                    let n = match read { Ok(0) | Err(_) => return, Ok(n) => n };
                    let pass = self.mode() == Mode::Pass;
                    down_reader.push(&b[..n]);
                    self.record(conn, Dir::Down, &mut down_reader, pass);
                    if pass && client.write_all(&b[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Waits until the log satisfies `ok` (at most `within`).
    async fn wait_for(&self, within: Duration, what: &str, ok: impl Fn(&[Wire]) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            if ok(&self.log()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {within:?} for {what}; wire log:{}",
                show(&self.log())
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The rig: terminal + link + proxy + simulator.
// ---------------------------------------------------------------------------------------

const READ_TIMEOUT: Duration = Duration::from_millis(500);

struct Rig {
    sim: HostSim,
    proxy: Proxy,
    terminal: Terminal,
    handle: TerminalHandle,
    _dir: tempfile::TempDir,
}

/// Background retries fast enough for a test: 50 ms, doubling to 200 ms.
fn fast_config() -> Config {
    Config {
        retry_base_delay_ms: 50,
        retry_max_delay_ms: 200,
        ..Config::default()
    }
}

async fn rig_with(config: Config, read_timeout: Duration) -> Rig {
    let sim = HostSim::new(SimConfig::default()).unwrap();
    let sim_addr = sim.serve("127.0.0.1:0").await.unwrap();
    let proxy = Proxy::start(sim_addr).await;
    let link = TcpHostLink::new(
        LinkConfig {
            read_timeout,
            connect_timeout: Duration::from_millis(500),
            master_key: Some(SimConfig::default().master_key),
            ..LinkConfig::new(proxy.addr().to_string())
        },
        Arc::new(SoftwareMacKey::cup(&SimConfig::default().mac_key).unwrap()),
    );
    let common::Running {
        terminal,
        handle,
        dir,
    } = common::start_terminal(Arc::new(link), config, Duration::from_secs(5));
    Rig {
        sim,
        proxy,
        terminal,
        handle,
        _dir: dir,
    }
}

async fn rig() -> Rig {
    rig_with(fast_config(), READ_TIMEOUT).await
}

fn id(text: &str) -> RequestId {
    RequestId::parse(text).unwrap()
}

fn txn(outcome: Result<CommandOutcome, TerminalError>) -> TxnRecord {
    match outcome {
        Ok(CommandOutcome::Transaction(t)) => t,
        other => panic!("expected a transaction, got {other:?}"),
    }
}

impl Rig {
    async fn sign_on(&self) {
        let outcome = self.handle.submit(id("sign-on"), Command::SignOn).await;
        assert!(
            matches!(outcome, Ok(CommandOutcome::SignedOn)),
            "{outcome:?}"
        );
    }

    async fn submit(
        &self,
        request: &str,
        command: Command,
    ) -> Result<CommandOutcome, TerminalError> {
        self.handle.submit(id(request), command).await
    }

    async fn find(&self, trace: TraceNumber) -> TxnRecord {
        self.handle
            .read(move |j| j.find_by_trace(trace).unwrap().expect("journaled"))
            .await
            .unwrap()
    }

    async fn all(&self) -> Vec<TxnRecord> {
        self.handle
            .read(|j| {
                let mut all = Vec::new();
                j.for_each(|t| {
                    all.push(t);
                    Ok(())
                })
                .unwrap();
                all
            })
            .await
            .unwrap()
    }

    /// Waits until the transaction satisfies `ok` (at most `within`).
    async fn wait_txn(
        &self,
        trace: TraceNumber,
        within: Duration,
        what: &str,
        ok: impl Fn(&TxnRecord) -> bool,
    ) -> TxnRecord {
        let deadline = Instant::now() + within;
        loop {
            let t = self.find(trace).await;
            if ok(&t) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "waited {within:?} for {what}: {t:?}; wire log:{}",
                show(&self.proxy.log())
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn sign_on_required(&self) -> bool {
        self.handle
            .read(|j| j.sign_on_required().unwrap())
            .await
            .unwrap()
    }

    async fn finish(self, exempt_from_ordering: &[TraceNumber]) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.handle.idle()).await;
        if std::env::var_os("FAULT_MATRIX_WIRE").is_some() {
            eprintln!("wire log:{}", show(&self.proxy.log()));
        }
        check_promises(&self, exempt_from_ordering).await;
        self.terminal.shutdown().await;
    }
}

// ---------------------------------------------------------------------------------------
// The promises, checked on the journal, the host's ledger and the wire log.
// ---------------------------------------------------------------------------------------

fn request_mti(kind: TxnKind) -> &'static str {
    match kind {
        TxnKind::PreAuth | TxnKind::PreAuthVoid => "0100",
        TxnKind::CompletionRequest | TxnKind::CompletionVoid => "0200",
        TxnKind::CompletionAdvice => "0220",
    }
}

fn reply_mti(kind: TxnKind) -> &'static str {
    match kind {
        TxnKind::PreAuth | TxnKind::PreAuthVoid => "0110",
        TxnKind::CompletionRequest | TxnKind::CompletionVoid => "0210",
        TxnKind::CompletionAdvice => "0230",
    }
}

/// A message that must wait behind pending reversals.
fn is_financial_or_settlement(w: &Wire) -> bool {
    w.dir == Dir::Up && matches!(w.mti.as_str(), "0100" | "0200" | "0220" | "0500" | "0320")
}

/// Index of the terminal's `mti` request with F11 = `trace`.
fn position(log: &[Wire], dir: Dir, mti: &str, trace: TraceNumber) -> Option<usize> {
    log.iter().position(|w| w.is(dir, mti) && w.trace_is(trace))
}

/// Checks that the reversal of `trace` went out and was answered after its request and
/// before the next financial message.
fn assert_reversed_before_next_financial(log: &[Wire], kind: TxnKind, trace: TraceNumber) {
    let sent = position(log, Dir::Up, request_mti(kind), trace)
        .unwrap_or_else(|| panic!("no {} for {trace}:{}", request_mti(kind), show(log)));
    let next = log
        .iter()
        .enumerate()
        .skip(sent + 1)
        .find(|(_, w)| is_financial_or_settlement(w))
        .map_or(log.len(), |(i, _)| i);
    let between = &log[sent + 1..next];
    assert!(
        between
            .iter()
            .any(|w| w.is(Dir::Up, "0400") && w.trace_is(trace) && w.forwarded),
        "the 0400 of {trace} must go out before the next financial message:{}",
        show(log)
    );
    assert!(
        between.iter().any(|w| w.is(Dir::Down, "0410")
            && w.trace_is(trace)
            && matches!(w.f39.as_deref(), Some("00" | "12" | "25"))),
        "the 0400 of {trace} must be answered before the next financial message:{}",
        show(log)
    );
}

/// The promises every cell keeps at its end.
async fn check_promises(rig: &Rig, exempt_from_ordering: &[TraceNumber]) {
    let log = rig.proxy.log();
    let all = rig.all().await;

    // One request, one authorization: each financial trace is sent at most once.
    for t in &all {
        let sends = log
            .iter()
            .filter(|w| w.is(Dir::Up, request_mti(t.kind)) && w.trace_is(t.trace))
            .count();
        assert!(
            sends <= 1,
            "{} {} was sent {sends} times:{}",
            t.kind,
            t.trace,
            show(&log)
        );
    }

    // No double authorization, nothing left held: the host holds exactly what the journal
    // has as approved (and not reversed).
    let held_by_journal = |t: &TxnRecord| {
        matches!(
            t.state,
            TxnState::Approved | TxnState::Completed | TxnState::Voided
        ) && t.kind != TxnKind::CompletionAdvice
    };
    for t in &all {
        assert_eq!(
            rig.sim.holds(t.batch, t.trace),
            held_by_journal(t),
            "host hold vs journal for {} {} ({}):{}",
            t.kind,
            t.trace,
            t.state,
            show(&log)
        );
    }
    assert_eq!(
        rig.sim.approvals_held(),
        all.iter().filter(|t| held_by_journal(t)).count(),
        "approvals held by the host vs the journal"
    );

    // Nothing left uncertain.
    for t in &all {
        assert_ne!(
            t.state,
            TxnState::Unknown,
            "{} {} is left unknown: {t:?}",
            t.kind,
            t.trace
        );
        assert_ne!(
            t.state,
            TxnState::Sending,
            "{} {} is left sending: {t:?}",
            t.kind,
            t.trace
        );
    }

    // Replies are applied only to their own transaction.
    for t in all
        .iter()
        .filter(|t| t.auth_code.is_some() && t.kind != TxnKind::CompletionAdvice)
    {
        let replies: Vec<&Wire> = log
            .iter()
            .filter(|w| {
                w.is(Dir::Down, reply_mti(t.kind))
                    && w.trace_is(t.trace)
                    && w.f39.as_deref() == Some("00")
            })
            .collect();
        assert!(
            !replies.is_empty(),
            "{} {} has auth code {:?} but no approving reply on the wire:{}",
            t.kind,
            t.trace,
            t.auth_code,
            show(&log)
        );
        for r in replies {
            assert_eq!(
                r.f38, t.auth_code,
                "auth code of {} vs its own reply {r}",
                t.trace
            );
            assert_eq!(r.f37, t.rrn, "RRN of {} vs its own reply {r}", t.trace);
        }
    }

    // Every reversed transaction was reversed before the next financial message.
    for t in all
        .iter()
        .filter(|t| t.state == TxnState::Reversed && !exempt_from_ordering.contains(&t.trace))
    {
        assert_reversed_before_next_financial(&log, t.kind, t.trace);
    }
}

// ---------------------------------------------------------------------------------------
// The cells.
// ---------------------------------------------------------------------------------------

/// Cell 1: nothing listening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_1_connection_refused_is_not_sent_then_the_host_is_back() {
    let rig = rig().await;
    rig.sign_on().await;
    let seen = rig.sim.requests_seen();
    rig.proxy.set_mode(Mode::Refuse).await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let refused = rig.submit("a", preauth("10.00")).await;
    assert!(
        matches!(
            refused,
            Err(TerminalError::Refused(CommandError::HostUnreachable { .. }))
        ),
        "a refused connection is the engine's HOST_UNREACHABLE: {refused:?}"
    );
    let a = rig
        .handle
        .read(|j| j.find_by_request_id(&id("a")).unwrap().expect("journaled"))
        .await
        .unwrap();
    assert_eq!(a.state, TxnState::NotSent, "{a:?}");
    assert_eq!(
        a.reversal.as_ref().map(|r| r.state),
        Some(ReversalState::Cancelled),
        "nothing was sent, nothing to reverse: {a:?}"
    );
    assert!(a.auth_code.is_none() && a.print_jobs.is_empty(), "{a:?}");
    assert_eq!(rig.sim.requests_seen(), seen, "nothing reached the host");
    assert_eq!(rig.sim.approvals_held(), 0);
    assert!(
        !rig.proxy.log().iter().any(|w| w.is(Dir::Up, "0100")),
        "no 0100 on the wire:{}",
        show(&rig.proxy.log())
    );

    rig.proxy.set_mode(Mode::Pass).await;
    // The same request id again is the same (not sent) transaction, never a new authorization.
    let again = txn(rig.submit("a", preauth("10.00")).await);
    assert_eq!((again.trace, again.state), (a.trace, TxnState::NotSent));
    assert_eq!(rig.sim.requests_seen(), seen);

    let b = txn(rig.submit("b", preauth("10.00")).await);
    assert_eq!(b.state, TxnState::Approved, "{b:?}");
    assert!(rig.sim.holds(b.batch, b.trace));
    assert_eq!(rig.sim.approvals_held(), 1);
    rig.finish(&[]).await;
}

/// Cell 2: the reply is dropped after the host approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_2_dropped_reply_is_reversed_before_the_next_preauth() {
    let rig = rig().await;
    rig.sign_on().await;
    rig.sim.drop_next_reply();
    let a = txn(rig.submit("a", preauth("30.00")).await);
    assert_eq!(a.state, TxnState::Unknown, "{a:?}");
    assert_eq!(
        a.reversal.as_ref().map(|r| r.reason),
        Some(ReversalReason::NoAnswer)
    );
    // The cashier goes on at once: the reversal must still go first.
    let b = txn(rig.submit("b", preauth("20.00")).await);
    assert_eq!(b.state, TxnState::Approved, "{b:?}");

    let a = rig.find(a.trace).await;
    assert_eq!(a.state, TxnState::Reversed, "{a:?}");
    assert_eq!(
        a.reversal.as_ref().map(|r| r.state),
        Some(ReversalState::Done)
    );
    assert!(
        a.auth_code.is_none(),
        "the lost approval was never applied: {a:?}"
    );
    assert!(
        !rig.sim.holds(a.batch, a.trace),
        "the reversal released the hold"
    );
    assert_eq!(rig.sim.reversals(), 1);

    let log = rig.proxy.log();
    let order: Vec<String> = log
        .iter()
        .filter(|w| w.dir == Dir::Up && w.mti != "0800")
        .map(|w| format!("{} {}", w.mti, w.f11.as_deref().unwrap_or("-")))
        .collect();
    assert_eq!(
        order,
        vec![
            format!("0100 {}", a.trace),
            format!("0400 {}", a.trace),
            format!("0100 {}", b.trace)
        ],
        "{}",
        show(&log)
    );
    let reversal = &log[position(&log, Dir::Up, "0400", a.trace).unwrap()];
    assert_eq!(
        reversal.f39.as_deref(),
        Some("98"),
        "reversal reason: no answer"
    );
    assert_reversed_before_next_financial(&log, a.kind, a.trace);
    rig.finish(&[]).await;
}

/// Cell 3: the reply comes after the read timeout, on the kept connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_3_late_reply_is_ignored_and_never_applied_to_another_txn() {
    let read_timeout = Duration::from_millis(600);
    let rig = rig_with(fast_config(), read_timeout).await;
    rig.sign_on().await;
    rig.sim.delay_next_reply(Duration::from_millis(900));
    let a = txn(rig.submit("a", preauth("40.00")).await);
    assert_eq!(a.state, TxnState::Unknown, "{a:?}");
    let b = txn(rig.submit("b", preauth("41.00")).await);
    assert_eq!(b.state, TxnState::Approved, "{b:?}");

    let a = rig
        .wait_txn(
            a.trace,
            Duration::from_secs(2),
            "the late one reversed",
            |t| t.state == TxnState::Reversed,
        )
        .await;
    assert!(
        a.auth_code.is_none() && a.rrn.is_none(),
        "the late approval is never applied: {a:?}"
    );
    assert!(!rig.sim.holds(a.batch, a.trace));

    let log = rig.proxy.log();
    let late_at = position(&log, Dir::Down, "0110", a.trace)
        .unwrap_or_else(|| panic!("the late 0110 arrived:{}", show(&log)));
    let late = &log[late_at];
    assert_eq!(
        late.f39.as_deref(),
        Some("00"),
        "the host approved it, late"
    );
    let reversal_at = position(&log, Dir::Up, "0400", a.trace).unwrap();
    assert!(
        reversal_at < late_at,
        "the late 0110 came after the timeout, while the reversal was out:{}",
        show(&log)
    );
    let a_sent = &log[position(&log, Dir::Up, "0100", a.trace).unwrap()];
    assert_eq!(
        late.conn, a_sent.conn,
        "the late reply is read on the kept connection"
    );
    assert_eq!(
        log[reversal_at].conn, a_sent.conn,
        "the connection was kept after the timeout"
    );

    let b_reply = &log[position(&log, Dir::Down, "0110", b.trace).unwrap()];
    assert_eq!(
        (b.auth_code.as_ref(), b.rrn.as_ref()),
        (b_reply.f38.as_ref(), b_reply.f37.as_ref()),
        "B carries its own reply {b_reply}"
    );
    assert_ne!(
        b.auth_code, late.f38,
        "B never took the late reply's auth code"
    );
    assert_ne!(b.rrn, late.f37, "B never took the late reply's RRN");
    assert_reversed_before_next_financial(&log, a.kind, a.trace);
    rig.finish(&[]).await;
}

/// Cell 4: the approval carries a bad MAC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_4_bad_mac_approval_is_untrusted_and_reversed() {
    let rig = rig().await;
    rig.sign_on().await;
    rig.sim.bad_mac_next_reply();
    let a = txn(rig.submit("a", preauth("50.00")).await);
    assert_eq!(
        a.state,
        TxnState::Unknown,
        "an approval with a bad MAC is not trusted: {a:?}"
    );
    assert!(a.auth_code.is_none(), "{a:?}");
    assert_eq!(
        a.reversal.as_ref().map(|r| r.reason),
        Some(ReversalReason::BadMac)
    );
    let b = txn(rig.submit("b", preauth("51.00")).await);
    assert_eq!(b.state, TxnState::Approved, "{b:?}");

    let a = rig.find(a.trace).await;
    assert_eq!(a.state, TxnState::Reversed, "{a:?}");
    assert!(!rig.sim.holds(a.batch, a.trace));
    assert_eq!(
        rig.sim.approvals_held(),
        1,
        "only B is authorized on the host"
    );
    assert!(!rig.sign_on_required().await);

    let log = rig.proxy.log();
    let a_reply =
        position(&log, Dir::Down, "0110", a.trace).expect("the bad-MAC approval was on the wire");
    assert_eq!(log[a_reply].f39.as_deref(), Some("00"));
    let sign_on = log
        .iter()
        .enumerate()
        .skip(a_reply)
        .find(|(_, w)| w.is(Dir::Up, "0800"))
        .map(|(i, _)| i);
    let reversal = position(&log, Dir::Up, "0400", a.trace);
    let b_sent = position(&log, Dir::Up, "0100", b.trace);
    assert!(
        sign_on.is_some() && reversal.is_some() && b_sent.is_some(),
        "{}",
        show(&log)
    );
    assert!(
        sign_on < reversal && reversal < b_sent,
        "0800, then 0400, then the next 0100:{}",
        show(&log)
    );
    assert_eq!(
        log[reversal.unwrap()].f39.as_deref(),
        Some("A0"),
        "reversal reason: bad MAC"
    );
    rig.finish(&[]).await;
}

/// Cell 5: the reply is sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_5_duplicate_reply_is_ignored_by_the_next_exchange() {
    let rig = rig().await;
    rig.sign_on().await;
    rig.sim.answer_next_twice();
    let a = txn(rig.submit("a", preauth("60.00")).await);
    assert_eq!(
        a.state,
        TxnState::Approved,
        "the first reply applies: {a:?}"
    );
    let b = txn(rig.submit("b", preauth("61.00")).await);
    assert_eq!(b.state, TxnState::Approved, "{b:?}");

    let log = rig.proxy.log();
    let a_replies: Vec<&Wire> = log
        .iter()
        .filter(|w| w.is(Dir::Down, "0110") && w.trace_is(a.trace))
        .collect();
    assert_eq!(
        a_replies.len(),
        2,
        "the host answered A twice:{}",
        show(&log)
    );
    let b_reply = &log[position(&log, Dir::Down, "0110", b.trace).unwrap()];
    assert_eq!(b.auth_code, b_reply.f38, "B carries its own reply");
    assert_eq!(b.rrn, b_reply.f37);
    assert_ne!(b.auth_code, a.auth_code, "B never took A's duplicate");
    let a_now = rig.find(a.trace).await;
    assert_eq!(
        (a_now.state, a_now.auth_code.as_ref()),
        (TxnState::Approved, a_replies[0].f38.as_ref())
    );
    assert_eq!(rig.sim.approvals_held(), 2);
    assert_eq!(
        a_now.print_jobs.len(),
        usize::from(fast_config().slip_copies),
        "the duplicate queued no extra slips: {a_now:?}"
    );
    rig.finish(&[]).await;
}

/// Cell 6: the connection is reset in the middle of the reply's frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_6_reset_mid_frame_is_reversed_over_a_new_connection() {
    let rig = rig().await;
    rig.sign_on().await;
    rig.sim.close_mid_frame_next();
    let a = txn(rig.submit("a", preauth("70.00")).await);
    assert_eq!(a.state, TxnState::Unknown, "{a:?}");
    let b = txn(rig.submit("b", preauth("71.00")).await);
    assert_eq!(b.state, TxnState::Approved, "{b:?}");
    let a = rig.find(a.trace).await;
    assert_eq!(a.state, TxnState::Reversed, "{a:?}");
    assert!(!rig.sim.holds(a.batch, a.trace));

    let log = rig.proxy.log();
    assert!(
        position(&log, Dir::Down, "0110", a.trace).is_none(),
        "no whole reply to A:{}",
        show(&log)
    );
    let a_conn = log[position(&log, Dir::Up, "0100", a.trace).unwrap()].conn;
    let reversal = &log[position(&log, Dir::Up, "0400", a.trace).unwrap()];
    assert_ne!(
        reversal.conn,
        a_conn,
        "the reversal goes over a new connection:{}",
        show(&log)
    );
    assert_reversed_before_next_financial(&log, a.kind, a.trace);
    rig.finish(&[]).await;
}

/// Cell 7: the host's reply header asks for a new sign-on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_7_host_asks_for_sign_on_before_the_next_financial_message() {
    let rig = rig().await;
    rig.sign_on().await;
    rig.sim.request_sign_on_next();
    let a = txn(rig.submit("a", preauth("80.00")).await);
    assert_eq!(
        a.state,
        TxnState::Approved,
        "the answer itself is trusted: {a:?}"
    );
    assert!(
        rig.sign_on_required().await,
        "the journal requires a sign-on now"
    );
    let b = txn(rig.submit("b", preauth("81.00")).await);
    assert_eq!(b.state, TxnState::Approved, "{b:?}");
    assert!(!rig.sign_on_required().await);

    let log = rig.proxy.log();
    let a_reply = position(&log, Dir::Down, "0110", a.trace).unwrap();
    let b_sent = position(&log, Dir::Up, "0100", b.trace).unwrap();
    let between: Vec<&Wire> = log[a_reply + 1..b_sent]
        .iter()
        .filter(|w| w.dir == Dir::Up)
        .collect();
    assert!(
        between.len() == 1 && between[0].mti == "0800",
        "exactly a sign-on between A's reply and B's 0100:{}",
        show(&log)
    );
    assert!(
        log[a_reply + 1..b_sent]
            .iter()
            .any(|w| w.is(Dir::Down, "0810") && w.f39.as_deref() == Some("00")),
        "{}",
        show(&log)
    );
    rig.finish(&[]).await;
}

/// Cell 8: the host reports the settlement unbalanced; the batch upload follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_8_unbalanced_settlement_uploads_the_batch() {
    let rig = rig().await;
    rig.sign_on().await;
    let a = txn(rig.submit("a", preauth("100.00")).await);
    assert_eq!(a.state, TxnState::Approved);
    let c = txn(rig
        .submit(
            "c",
            Command::Complete {
                original_trace: a.trace,
                amount: money("80.00"),
            },
        )
        .await);
    assert_eq!(c.state, TxnState::Approved, "{c:?}");
    rig.sim.set_settlement_unbalanced(true);

    let settled = rig.submit("settle", Command::Settle).await;
    let Ok(CommandOutcome::Settled(summary)) = settled else {
        panic!("expected a settlement, got {settled:?}")
    };
    assert!(!summary.balanced, "the host said 不平");
    assert_eq!(
        (summary.totals.count, summary.totals.amount_minor),
        (1, 8_000)
    );
    assert_eq!(summary.next_batch, summary.batch.next());
    assert_eq!(summary.uploaded, 1, "one completion uploaded");
    assert_eq!(
        rig.handle
            .read(|j| j.current_batch().unwrap())
            .await
            .unwrap(),
        summary.next_batch,
        "batch incremented"
    );
    let c_now = rig.find(c.trace).await;
    assert!(c_now.settled, "batch closed: {c_now:?}");
    assert_eq!(rig.find(a.trace).await.state, TxnState::Completed);

    let log = rig.proxy.log();
    let at = log
        .iter()
        .position(|w| w.is(Dir::Up, "0500"))
        .unwrap_or_else(|| panic!("no 0500:{}", show(&log)));
    let after: Vec<&Wire> = log[at + 1..].iter().filter(|w| w.dir == Dir::Up).collect();
    let completions: Vec<String> = rig
        .all()
        .await
        .iter()
        .filter(|t| {
            t.batch == summary.batch
                && t.kind == TxnKind::CompletionRequest
                && t.state == TxnState::Approved
        })
        .map(|t| t.trace.to_string())
        .collect();
    assert_eq!(completions, vec![c.trace.to_string()]);
    assert_eq!(
        after.len(),
        completions.len() + 1,
        "after the 0500: one 0320 per uploaded transaction, then the end:{}",
        show(&log)
    );
    let (records, end) = after.split_at(completions.len());
    for (record, trace) in records.iter().zip(&completions) {
        assert_eq!(record.mti, "0320", "{record}");
        assert_eq!(
            record.f11.as_deref(),
            Some(trace.as_str()),
            "the record carries the completion's own trace: {record}"
        );
        assert_ne!(record.f60_3(), Some("207"), "{record}");
    }
    let end = end[0];
    assert_eq!(
        (end.mti.as_str(), end.f60_3()),
        ("0320", Some("207")),
        "the batch-upload end: {end}"
    );
    assert_eq!(
        end.f48.as_deref().map(|t| t.trim_start_matches('0')),
        Some("1"),
        "F48 = the record count: {end}"
    );
    assert_eq!(rig.sim.batch_upload_records(), completions.len() as u64);
    assert_eq!(rig.sim.batch_upload_ends(), 1);
    // The 0500 and the end message take fresh traces from the journal: no F11 is used twice
    // within the batch (a host may refuse a repeated one as a duplicate).
    let fresh: Vec<&str> = [log[at].f11.as_deref(), end.f11.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let txn_traces: Vec<String> = rig
        .all()
        .await
        .iter()
        .map(|t| t.trace.to_string())
        .collect();
    for f11 in &fresh {
        assert!(
            !txn_traces.iter().any(|t| t == f11),
            "F11 {f11} of the 0500/0320 end repeats a transaction's trace:{}",
            show(&log)
        );
    }
    assert_eq!(fresh.len(), 2);
    assert_ne!(fresh[0], fresh[1]);
    rig.finish(&[]).await;
}

/// Cell 9: the reply is lost, then every reversal attempt times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_9_a_reversal_that_keeps_failing_is_kept_as_failed() {
    let max = 2;
    let rig = rig_with(
        Config {
            reversal_max_attempts: max,
            ..fast_config()
        },
        READ_TIMEOUT,
    )
    .await;
    rig.sign_on().await;
    rig.sim.drop_next_reply();
    let handle = rig.handle.clone();
    let lost = tokio::spawn(async move { handle.submit(id("a"), preauth("90.00")).await });
    // The 0100 reaches the host (which approves and drops the reply); from then on the
    // network swallows everything.
    rig.proxy
        .wait_for(Duration::from_secs(1), "the 0100", |log| {
            log.iter().any(|w| w.is(Dir::Up, "0100") && w.forwarded)
        })
        .await;
    rig.proxy.set_mode(Mode::Blackhole).await;
    let a = txn(lost.await.unwrap());
    assert_eq!(a.state, TxnState::Unknown, "{a:?}");

    let a = rig
        .wait_txn(
            a.trace,
            Duration::from_secs(3),
            "the reversal to fail",
            |t| {
                t.reversal
                    .as_ref()
                    .is_some_and(|r| r.state == ReversalState::Failed)
            },
        )
        .await;
    assert_eq!(
        a.state,
        TxnState::Unknown,
        "kept as unknown for the operator: {a:?}"
    );
    let reversal = a.reversal.clone().unwrap();
    assert_eq!(
        (reversal.attempts, reversal.reason),
        (max, ReversalReason::NoAnswer),
        "{reversal:?}"
    );
    assert!(
        rig.sim.holds(a.batch, a.trace),
        "the host still holds it: the operator must act"
    );
    // No further attempt on its own once failed.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let log = rig.proxy.log();
    let attempts: Vec<&Wire> = log
        .iter()
        .filter(|w| w.is(Dir::Up, "0400") && w.trace_is(a.trace))
        .collect();
    assert_eq!(
        attempts.len(),
        max as usize,
        "exactly {max} reversal sends:{}",
        show(&log)
    );
    assert!(attempts.iter().all(|w| !w.forwarded), "all swallowed");
    assert_eq!(rig.sim.reversals(), 0);

    // The engine goes on with the next transaction (a failed reversal is the operator's), and
    // the failed one is kept, untouched.
    rig.proxy.set_mode(Mode::Pass).await;
    let b = txn(rig.submit("b", preauth("91.00")).await);
    assert_eq!(b.state, TxnState::Approved, "{b:?}");
    let kept = rig.find(a.trace).await;
    assert_eq!(
        (kept.state, kept.reversal.as_ref().map(|r| r.state)),
        (TxnState::Unknown, Some(ReversalState::Failed)),
        "never deleted: {kept:?}"
    );
    assert_eq!(
        rig.proxy
            .log()
            .iter()
            .filter(|w| w.is(Dir::Up, "0400"))
            .count(),
        max as usize,
        "no silent retry"
    );

    // The operator's retry reverses it.
    let requeued = rig
        .submit("retry-a", Command::RetryReversal { trace: a.trace })
        .await;
    assert!(
        matches!(requeued, Ok(CommandOutcome::ReversalRequeued(_))),
        "{requeued:?}"
    );
    let a = rig
        .wait_txn(
            a.trace,
            Duration::from_secs(2),
            "the operator's retry",
            |t| t.state == TxnState::Reversed,
        )
        .await;
    assert_eq!(
        a.reversal.as_ref().map(|r| r.state),
        Some(ReversalState::Done)
    );
    assert!(!rig.sim.holds(a.batch, a.trace));
    rig.finish(&[a.trace]).await;
}
