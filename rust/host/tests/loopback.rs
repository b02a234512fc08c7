//! The terminal side ([`TcpHostLink`]) against [`HostSim`] over 127.0.0.1: the fault matrix as
//! far as the link and the simulator go.

use std::sync::Arc;
use std::time::Duration;

use poscore::Timestamp;
use poscore::card::{CardInput, Pan};
use poscore::host::{
    BatchTotals, FinancialRequest, HostRequest, ReversalRequest, SettlementRequest,
    TerminalIdentity,
};
use poscore::ids::{BatchNumber, MerchantId, OperatorId, TerminalId, TraceNumber};
use poscore::money::{Currency, Money};
use poscore::txn::{ReversalReason, TxnKind};
use poscore_host::{HostSim, LinkConfig, SimConfig, SoftwareMacKey, TcpHostLink};
use poscore_terminal::{HostLink, LinkError};

fn identity() -> TerminalIdentity {
    TerminalIdentity {
        merchant_id: MerchantId::parse("898310048990001").unwrap(),
        terminal_id: TerminalId::parse("10000001").unwrap(),
        operator_id: OperatorId::parse("01").unwrap(),
    }
}

fn trace(n: u32) -> TraceNumber {
    TraceNumber::new(n).unwrap()
}

fn batch() -> BatchNumber {
    BatchNumber::FIRST
}

fn pre_auth(n: u32, minor: u64) -> HostRequest {
    let now = Timestamp::from_civil(2026, 11, 26, 0, 0, 0);
    HostRequest::Financial(FinancialRequest {
        kind: TxnKind::PreAuth,
        trace: trace(n),
        batch: batch(),
        amount: Money::from_minor(minor, Currency::CNY).unwrap(),
        card: Some(CardInput::parse("6222021234567890128", "3012", now).unwrap()),
        masked_pan: Pan::parse("6222021234567890128").unwrap().masked(),
        original: None,
        identity: identity(),
    })
}

fn reversal_of(n: u32, minor: u64) -> HostRequest {
    HostRequest::Reversal(ReversalRequest {
        original_kind: TxnKind::PreAuth,
        original_trace: trace(n),
        batch: batch(),
        amount: Money::from_minor(minor, Currency::CNY).unwrap(),
        reason: ReversalReason::NoAnswer,
        original: None,
        identity: identity(),
    })
}

fn settlement(count: u32, amount_minor: u64) -> HostRequest {
    HostRequest::Settlement(SettlementRequest {
        trace: trace(900),
        batch: batch(),
        totals: BatchTotals {
            count,
            amount_minor,
        },
        identity: identity(),
    })
}

fn config(address: String, read_timeout: Duration) -> LinkConfig {
    LinkConfig {
        read_timeout,
        connect_timeout: Duration::from_secs(2),
        master_key: Some(SimConfig::default().master_key),
        ..LinkConfig::new(address)
    }
}

/// A simulator on a free loopback port and a link to it holding the simulator's MAC key.
async fn setup(read_timeout: Duration) -> (HostSim, TcpHostLink) {
    let sim = HostSim::new(SimConfig::default()).unwrap();
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    let key = SoftwareMacKey::cup(&SimConfig::default().mac_key).unwrap();
    (
        sim,
        TcpHostLink::new(config(addr.to_string(), read_timeout), Arc::new(key)),
    )
}

#[tokio::test]
async fn sign_on_installs_the_hosts_mac_key() {
    let sim = HostSim::new(SimConfig::default()).unwrap();
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    // The link starts with a key the host does not know: the host refuses with A0.
    let wrong = SoftwareMacKey::cup(&[0x33; 16]).unwrap();
    let link = TcpHostLink::new(
        config(addr.to_string(), Duration::from_secs(2)),
        Arc::new(wrong),
    );
    let refused = link.exchange(&pre_auth(1, 10_000)).await.unwrap();
    assert_eq!(refused.response_code.as_str(), "A0");
    assert!(
        !refused.mac_valid,
        "the host's reply is MACed with its key, not ours"
    );
    assert!(!sim.holds(batch(), trace(1)));

    let signed_on = link
        .exchange(&HostRequest::SignOn {
            trace: trace(2),
            batch: batch(),
            identity: identity(),
        })
        .await
        .unwrap();
    assert!(signed_on.response_code.is_approved());
    assert!(signed_on.mac_valid);
    let keys = link.last_working_keys().expect("working keys kept");
    assert_eq!(keys.mac_key.len(), 16);

    let approved = link.exchange(&pre_auth(3, 10_000)).await.unwrap();
    assert!(approved.response_code.is_approved());
    assert!(approved.mac_valid);
    assert!(sim.holds(batch(), trace(3)));
}

#[tokio::test]
async fn pre_auth_approved_and_declined() {
    let (sim, link) = setup(Duration::from_secs(2)).await;
    let approved = link.exchange(&pre_auth(1, 10_000)).await.unwrap();
    assert!(approved.response_code.is_approved());
    assert!(approved.mac_valid);
    assert!(!approved.sign_on_requested);
    assert_eq!(approved.auth_code.as_deref(), Some("000001"));
    assert_eq!(approved.rrn.as_deref(), Some("000000000001"));
    assert!(sim.holds(batch(), trace(1)));

    for (n, minor, code) in [(2, 10_005, "05"), (3, 10_051, "51")] {
        let declined = link.exchange(&pre_auth(n, minor)).await.unwrap();
        assert_eq!(declined.response_code.as_str(), code);
        assert_eq!(declined.auth_code, None);
        assert!(declined.mac_valid);
        assert!(!sim.holds(batch(), trace(n)));
    }
    assert_eq!(sim.requests_seen(), 3);
}

#[tokio::test]
async fn a_dropped_reply_is_no_answer_and_the_reversal_releases_the_hold() {
    let (sim, link) = setup(Duration::from_millis(400)).await;
    sim.drop_next_reply();
    let err = link.exchange(&pre_auth(1, 10_000)).await.unwrap_err();
    assert!(matches!(err, LinkError::NoAnswer(_)), "{err}");
    assert!(sim.holds(batch(), trace(1)), "the host approved it");

    let reversed = link.exchange(&reversal_of(1, 10_000)).await.unwrap();
    assert_eq!(reversed.response_code.as_str(), "00");
    assert!(!sim.holds(batch(), trace(1)));
    assert_eq!(sim.reversals(), 1);
    // Reversing again: the host no longer knows it.
    assert_eq!(
        link.exchange(&reversal_of(1, 10_000))
            .await
            .unwrap()
            .response_code
            .as_str(),
        "25"
    );
}

#[tokio::test]
async fn magic_amounts_lost_and_unprocessed() {
    let (sim, link) = setup(Duration::from_millis(300)).await;
    // .98: approved by the host, answer lost.
    assert!(matches!(
        link.exchange(&pre_auth(1, 10_098)).await,
        Err(LinkError::NoAnswer(_))
    ));
    assert!(sim.holds(batch(), trace(1)));
    // .68: never processed.
    assert!(matches!(
        link.exchange(&pre_auth(2, 10_068)).await,
        Err(LinkError::NoAnswer(_))
    ));
    assert!(!sim.holds(batch(), trace(2)));
    assert_eq!(
        link.exchange(&reversal_of(2, 10_068))
            .await
            .unwrap()
            .response_code
            .as_str(),
        "25"
    );
    // .63: approved, bad MAC.
    let bad = link.exchange(&pre_auth(3, 10_063)).await.unwrap();
    assert!(bad.response_code.is_approved());
    assert!(!bad.mac_valid);
}

#[tokio::test]
async fn a_late_reply_is_ignored_by_the_next_exchange() {
    let (sim, link) = setup(Duration::from_millis(600)).await;
    sim.delay_next_reply(Duration::from_millis(900));
    let err = link.exchange(&pre_auth(1, 10_000)).await.unwrap_err();
    assert!(matches!(err, LinkError::NoAnswer(_)), "{err}");

    // The late 0110 for trace 1 arrives during this exchange and must not be taken as its answer.
    let second = link.exchange(&pre_auth(2, 20_000)).await.unwrap();
    assert!(second.response_code.is_approved());
    assert_eq!(
        second.auth_code.as_deref(),
        Some("000002"),
        "the answer is trace 2's, not the late one"
    );
    assert_eq!(second.rrn.as_deref(), Some("000000000002"));

    // Nor as the answer to a reversal with the same F11 (the late 0110 is not an 0410).
    sim.delay_next_reply(Duration::from_millis(900));
    assert!(link.exchange(&pre_auth(3, 30_000)).await.is_err());
    let reversal = link.exchange(&reversal_of(3, 30_000)).await.unwrap();
    assert_eq!(reversal.response_code.as_str(), "00");
    assert!(!sim.holds(batch(), trace(3)));
}

#[tokio::test]
async fn a_bad_mac_is_reported() {
    let (sim, link) = setup(Duration::from_secs(2)).await;
    sim.bad_mac_next_reply();
    let reply = link.exchange(&pre_auth(1, 10_000)).await.unwrap();
    assert!(reply.response_code.is_approved());
    assert!(!reply.mac_valid);
    let next = link.exchange(&pre_auth(2, 10_000)).await.unwrap();
    assert!(next.mac_valid, "only the next reply was spoiled");
}

#[tokio::test]
async fn a_duplicate_reply_is_ignored() {
    let (sim, link) = setup(Duration::from_secs(2)).await;
    sim.answer_next_twice();
    let first = link.exchange(&pre_auth(1, 10_000)).await.unwrap();
    assert_eq!(first.auth_code.as_deref(), Some("000001"));
    let second = link.exchange(&pre_auth(2, 10_000)).await.unwrap();
    assert_eq!(
        second.auth_code.as_deref(),
        Some("000002"),
        "the duplicate of trace 1's answer was skipped"
    );
    assert_eq!(sim.approvals_held(), 2, "no double authorization");
}

#[tokio::test]
async fn a_close_mid_frame_is_no_answer_and_the_link_reconnects() {
    let (sim, link) = setup(Duration::from_secs(2)).await;
    sim.close_mid_frame_next();
    let err = link.exchange(&pre_auth(1, 10_000)).await.unwrap_err();
    assert!(matches!(err, LinkError::NoAnswer(_)), "{err}");
    let next = link.exchange(&pre_auth(2, 10_000)).await.unwrap();
    assert!(next.response_code.is_approved());
}

#[tokio::test]
async fn connection_refused_is_not_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let key = SoftwareMacKey::cup(&SimConfig::default().mac_key).unwrap();
    let link = TcpHostLink::new(
        config(addr.to_string(), Duration::from_secs(1)),
        Arc::new(key),
    );
    let err = link.exchange(&pre_auth(1, 10_000)).await.unwrap_err();
    assert!(matches!(err, LinkError::NotSent(_)), "{err}");
}

#[tokio::test]
async fn the_host_asks_for_a_new_sign_on() {
    let (sim, link) = setup(Duration::from_secs(2)).await;
    sim.request_sign_on_next();
    let reply = link.exchange(&pre_auth(1, 10_000)).await.unwrap();
    assert!(reply.sign_on_requested);
    assert!(reply.mac_valid);
    assert!(
        !link
            .exchange(&pre_auth(2, 10_000))
            .await
            .unwrap()
            .sign_on_requested
    );
}

#[tokio::test]
async fn settlement_balanced_and_unbalanced() {
    let (sim, link) = setup(Duration::from_secs(2)).await;
    let balanced = link.exchange(&settlement(2, 30_000)).await.unwrap();
    assert!(balanced.response_code.is_approved());
    assert_eq!(balanced.settlement_balanced, Some(true));
    sim.set_settlement_unbalanced(true);
    for _ in 0..2 {
        assert_eq!(
            link.exchange(&settlement(2, 30_000))
                .await
                .unwrap()
                .settlement_balanced,
            Some(false)
        );
    }
    sim.set_settlement_unbalanced(false);
    assert_eq!(
        link.exchange(&settlement(2, 30_000))
            .await
            .unwrap()
            .settlement_balanced,
        Some(true)
    );
}

#[tokio::test]
async fn the_ledger_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let sim = HostSim::new(SimConfig::default())
        .unwrap()
        .with_ledger(&path)
        .unwrap();
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    let key = SoftwareMacKey::cup(&SimConfig::default().mac_key).unwrap();
    let link = TcpHostLink::new(
        config(addr.to_string(), Duration::from_secs(2)),
        Arc::new(key.clone()),
    );
    link.exchange(&pre_auth(1, 10_000)).await.unwrap();
    link.exchange(&pre_auth(2, 20_000)).await.unwrap();
    link.exchange(&reversal_of(2, 20_000)).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");

    let restarted = HostSim::new(SimConfig::default())
        .unwrap()
        .with_ledger(&path)
        .unwrap();
    assert!(restarted.holds(batch(), trace(1)));
    assert!(!restarted.holds(batch(), trace(2)));
    let addr = restarted.serve("127.0.0.1:0").await.unwrap();
    let link = TcpHostLink::new(
        config(addr.to_string(), Duration::from_secs(2)),
        Arc::new(key),
    );
    assert_eq!(
        link.exchange(&reversal_of(1, 10_000))
            .await
            .unwrap()
            .response_code
            .as_str(),
        "00"
    );
}
