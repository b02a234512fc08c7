//! The real engine and driver (`poscore_terminal::Terminal`) over [`TcpHostLink`] to
//! [`HostSim`] on loopback: pre-auth, completion, void, a reversal after a dropped reply, and
//! settlement, checked in the journal and in the host's ledger.

use std::sync::Arc;
use std::time::Duration;

use poscore::ids::RequestId;
use poscore::txn::TxnState;
use poscore::{Command, CommandOutcome, Config};
use poscore_host::{HostSim, LinkConfig, SimConfig, SoftwareMacKey, TcpHostLink};

mod common;

use common::{money, preauth, txn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_over_real_tcp_and_8583() {
    let sim = HostSim::new(SimConfig::default()).unwrap();
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    let link = TcpHostLink::new(
        LinkConfig {
            read_timeout: Duration::from_millis(800),
            master_key: Some(SimConfig::default().master_key),
            ..LinkConfig::new(addr.to_string())
        },
        Arc::new(SoftwareMacKey::cup(&SimConfig::default().mac_key).unwrap()),
    );
    let common::Running {
        terminal,
        handle,
        dir: _dir,
    } = common::start_terminal(Arc::new(link), Config::default(), Duration::from_secs(5));
    let id = |t: &str| RequestId::parse(t).unwrap();

    let signed_on = handle.submit(id("sign-on"), Command::SignOn).await.unwrap();
    assert!(
        matches!(signed_on, CommandOutcome::SignedOn),
        "{signed_on:?}"
    );

    let held = txn(handle.submit(id("a"), preauth("100.00")).await.unwrap());
    assert_eq!(held.state, TxnState::Approved);
    assert!(sim.holds(held.batch, held.trace));
    let completion = txn(handle
        .submit(
            id("a-done"),
            Command::Complete {
                original_trace: held.trace,
                amount: money("80.00"),
            },
        )
        .await
        .unwrap());
    assert_eq!(completion.state, TxnState::Approved, "{completion:?}");
    assert!(completion.rrn.is_some());

    let voided = txn(handle.submit(id("b"), preauth("50.00")).await.unwrap());
    let void = txn(handle
        .submit(
            id("b-void"),
            Command::Void {
                original_trace: voided.trace,
            },
        )
        .await
        .unwrap());
    assert_eq!(void.state, TxnState::Approved, "{void:?}");

    sim.drop_next_reply();
    let reversals_before = sim.reversals();
    let lost = txn(handle.submit(id("d"), preauth("30.00")).await.unwrap());
    assert_eq!(lost.state, TxnState::Unknown);
    // The host approved what the terminal never saw; the engine reverses it on its own, maybe
    // already now, so the hold is checked through the reversal that releases it (below).

    let next = txn(handle.submit(id("e"), preauth("20.00")).await.unwrap());
    assert_eq!(next.state, TxnState::Approved);
    let reversed = handle
        .read(move |j| j.find_by_trace(lost.trace).unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(reversed.state, TxnState::Reversed);
    assert!(
        !sim.holds(lost.batch, lost.trace),
        "the reversal released the hold before the next pre-auth"
    );
    assert_eq!(
        sim.reversals(),
        reversals_before + 1,
        "the host held the lost approval, and the reversal released it"
    );

    let settled = handle.submit(id("settle"), Command::Settle).await.unwrap();
    let CommandOutcome::Settled(summary) = settled else {
        panic!("expected a settlement, got {settled:?}")
    };
    assert!(summary.balanced);
    assert_eq!(summary.totals.count, 1);
    assert_eq!(summary.totals.amount_minor, 8_000);
    assert_eq!(summary.next_batch, summary.batch.next());

    let (original, voided_after) = handle
        .read(move |j| {
            (
                j.find_by_trace(held.trace).unwrap().unwrap(),
                j.find_by_trace(voided.trace).unwrap().unwrap(),
            )
        })
        .await
        .unwrap();
    assert_eq!(original.state, TxnState::Completed);
    assert_eq!(voided_after.state, TxnState::Voided);
    terminal.shutdown().await;
}
