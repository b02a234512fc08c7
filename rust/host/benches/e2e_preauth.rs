//! An end-to-end pre-authorization over loopback TCP and ISO 8583 (see `BENCHMARKS.md`,
//! "Host link").
//!
//! Run with `cargo bench -p poscore-host --bench e2e_preauth` (`POSCORE_BENCH_N` sets the
//! number of pre-auths, default 500).
//!
//! Two terminals run the same pre-auths, interleaved one by one (alternating which goes
//! first) so they see the disk and the CPU in the same state, each a real [`Engine`] on a journal file under the target
//! directory (a real disk, not tmpfs) driven by [`Terminal`]:
//!
//! 1. **tcp**: the real link, [`TcpHostLink`] → 127.0.0.1 → [`HostSim`]: the request
//!    journaled (commit), built, MACed (CUP ECB), framed, sent; the simulator decodes,
//!    checks the MAC, decides, signs and answers; the link reads, checks the TPDU, decodes,
//!    verifies the MAC; the approval journaled (commit) with its first slip handed to the
//!    (memory) printer.
//! 2. **in-process**: the same engine and driver against [`SimHost`] (domain values, no
//!    bytes): the baseline, i.e. the journal commits and the driver alone.
//!
//! Timed: `submit` → the approved outcome back at the caller, as a cashier's UI sees it.
//! The result: p50/p99/max of each and the TCP + 8583 share (tcp − in-process at p50).

use std::sync::Arc;
use std::time::{Duration, Instant};

use poscore::card::{CardInput, PanHashKey};
use poscore::ids::RequestId;
use poscore::money::{Currency, Money};
use poscore::txn::TxnState;
use poscore::{Command, CommandOutcome, Config, Engine};
use poscore_host::{HostSim, LinkConfig, SimConfig, SoftwareMacKey, TcpHostLink};
use poscore_terminal::{
    Clock, DriverConfig, HostLink, MemoryPrinter, SimHost, SystemClock, Terminal, TerminalHandle,
};

const PAN: &str = "6222021234567890128";
/// Untimed rounds first (sign-on, caches, the WAL's first growth).
const WARM_UP: usize = 30;

fn bench_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/bench-data/e2e_preauth");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

fn start(dir: &std::path::Path, name: &str, host: Arc<dyn HostLink>) -> Terminal {
    let key = PanHashKey::new(vec![7; 32]).expect("key");
    // Slips are answered by the memory printer at once; no retries are due during the run.
    let (engine, _) = Engine::open(
        &dir.join(format!("{name}.db")),
        Config::default(),
        key,
        SystemClock.now(),
    )
    .expect("journal");
    let config = DriverConfig {
        host_timeout: Duration::from_secs(5),
        tick_interval: Duration::from_millis(500),
        print_watchdog: Duration::from_secs(5),
    };
    Terminal::start(engine, host, Arc::new(MemoryPrinter::new()), config)
}

async fn preauth(handle: &TerminalHandle, id: &str) -> Duration {
    let card = CardInput::parse(PAN, "3012", SystemClock.now()).expect("card");
    let command = Command::PreAuth {
        amount: Money::parse("100.00", Currency::CNY).expect("amount"),
        card,
    };
    let started = Instant::now();
    let outcome = handle
        .submit(RequestId::parse(id).expect("id"), command)
        .await
        .expect("submitted");
    let took = started.elapsed();
    match outcome {
        CommandOutcome::Transaction(t) if t.state == TxnState::Approved => took,
        other => panic!("the pre-auth was not approved: {other:?}"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let n: usize = std::env::var("POSCORE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let dir = bench_dir();
        let sim = HostSim::new(SimConfig::default()).expect("sim");
        let addr = sim.serve("127.0.0.1:0").await.expect("listen");
        let link = TcpHostLink::new(
            LinkConfig {
                master_key: Some(SimConfig::default().master_key),
                ..LinkConfig::new(addr.to_string())
            },
            Arc::new(SoftwareMacKey::cup(&SimConfig::default().mac_key).expect("key")),
        );
        let tcp = start(&dir, "tcp", Arc::new(link));
        let local = start(&dir, "in_process", Arc::new(SimHost::new()));
        let (tcp_h, local_h) = (tcp.handle(), local.handle());
        for handle in [&tcp_h, &local_h] {
            let signed = handle
                .submit(RequestId::parse("sign-on").expect("id"), Command::SignOn)
                .await
                .expect("sign-on");
            assert!(matches!(signed, CommandOutcome::SignedOn), "{signed:?}");
        }
        let (mut over_tcp, mut in_process) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..WARM_UP + n {
            // Alternate which goes first, so neither always follows the other's fsync.
            let (t, l) = if i % 2 == 0 {
                let t = preauth(&tcp_h, &format!("tcp-{i}")).await;
                (t, preauth(&local_h, &format!("local-{i}")).await)
            } else {
                let l = preauth(&local_h, &format!("local-{i}")).await;
                (preauth(&tcp_h, &format!("tcp-{i}")).await, l)
            };
            if i >= WARM_UP {
                over_tcp.push(t);
                in_process.push(l);
            }
            // Let the slips print, so every round starts with an idle printer.
            tcp_h.idle().await.expect("idle");
            local_h.idle().await.expect("idle");
        }
        over_tcp.sort();
        in_process.sort();
        println!(
            "end-to-end pre-auth, {n} rounds (after {WARM_UP} warm-up), submit → approved outcome:"
        );
        for (name, v) in [
            ("tcp + ISO 8583 to host-sim", &over_tcp),
            ("in-process SimHost (baseline)", &in_process),
        ] {
            println!(
                "  {name:<32} p50 {}  p99 {}  max {}",
                ms(percentile(v, 0.50)),
                ms(percentile(v, 0.99)),
                ms(*v.last().expect("rounds"))
            );
        }
        let (p50_t, p50_l) = (percentile(&over_tcp, 0.5), percentile(&in_process, 0.5));
        println!(
            "  TCP + 8583 share at p50: {} ({:.2}× the in-process path)",
            ms(p50_t.saturating_sub(p50_l)),
            p50_t.as_secs_f64() / p50_l.as_secs_f64()
        );
        println!("  host-sim saw {} requests", sim.requests_seen());
        tcp.shutdown().await;
        local.shutdown().await;
    });
}
