//! [`HostSim::with_script`] and [`HostSim::serve_control`] on loopback, against the real
//! [`TcpHostLink`]: a script drops the second pre-auth's reply (the approval stands), every
//! action of the script language reaches the wire, and the control port sets the next reply's
//! fault and reports the counters.

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::Duration;

use poscore::Timestamp;
use poscore::card::{CardInput, Pan};
use poscore::host::{
    BatchTotals, FinancialRequest, HostReply, HostRequest, ReversalRequest, SettlementRequest,
    TerminalIdentity,
};
use poscore::ids::{BatchNumber, MerchantId, OperatorId, TerminalId, TraceNumber};
use poscore::money::{Currency, Money};
use poscore::txn::{ReversalReason, TxnKind};
use poscore_host::{HostSim, LinkConfig, Script, SimConfig, SoftwareMacKey, TcpHostLink};
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

fn sign_on(n: u32) -> HostRequest {
    HostRequest::SignOn {
        trace: trace(n),
        batch: BatchNumber::FIRST,
        identity: identity(),
    }
}

fn pre_auth(n: u32, minor: u64) -> HostRequest {
    let now = Timestamp::from_civil(2026, 11, 26, 0, 0, 0);
    HostRequest::Financial(FinancialRequest {
        kind: TxnKind::PreAuth,
        trace: trace(n),
        batch: BatchNumber::FIRST,
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
        batch: BatchNumber::FIRST,
        amount: Money::from_minor(minor, Currency::CNY).unwrap(),
        reason: ReversalReason::NoAnswer,
        original: None,
        identity: identity(),
    })
}

fn settlement() -> HostRequest {
    HostRequest::Settlement(SettlementRequest {
        trace: trace(900),
        batch: BatchNumber::FIRST,
        totals: BatchTotals {
            count: 1,
            amount_minor: 100,
        },
        identity: identity(),
    })
}

async fn setup(script: &str, read_timeout: Duration) -> (HostSim, TcpHostLink) {
    let script = Script::parse(script).unwrap_or_else(|e| panic!("{e}"));
    let sim = HostSim::new(SimConfig::default())
        .unwrap()
        .with_script(script);
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    let config = LinkConfig {
        read_timeout,
        connect_timeout: Duration::from_secs(2),
        ..LinkConfig::new(addr.to_string())
    };
    (
        sim,
        TcpHostLink::new(
            config,
            Arc::new(SoftwareMacKey::cup(&SimConfig::default().mac_key).unwrap()),
        ),
    )
}

fn approved(result: Result<HostReply, LinkError>) -> HostReply {
    let reply = result.unwrap_or_else(|e| panic!("expected an answer, got {e:?}"));
    assert!(reply.response_code.is_approved(), "{reply:?}");
    reply
}

fn no_answer(result: Result<HostReply, LinkError>) {
    assert!(
        matches!(result, Err(LinkError::NoAnswer(_))),
        "expected no answer, got {result:?}"
    );
}

#[tokio::test]
async fn a_script_drops_the_second_pre_auths_reply() {
    let (sim, link) = setup(
        "# lose the answer to the second pre-auth\nmti 0100 #2 drop\n",
        Duration::from_millis(400),
    )
    .await;
    approved(link.exchange(&pre_auth(1, 10_000)).await);
    no_answer(link.exchange(&pre_auth(2, 20_000)).await);
    assert!(
        sim.holds(BatchNumber::FIRST, trace(2)),
        "the host approved what the terminal never heard"
    );
    approved(link.exchange(&reversal_of(2, 20_000)).await);
    assert!(!sim.holds(BatchNumber::FIRST, trace(2)));
    approved(link.exchange(&pre_auth(3, 30_000)).await);
    assert_eq!(sim.approvals_held(), 2);
    assert_eq!(sim.requests_seen(), 4);
}

#[tokio::test]
async fn every_script_action_reaches_the_wire() {
    let script = "\
request 1        sign-on        # the sign-on's reply asks for another sign-on
amount 12.51     decline 51
mti 0100 #3      bad-mac        # 12.51 counts as the first 0100
next             twice
mti 0500 #1      unbalanced
mti 0500 #2      balanced
request 9        delay 700ms
next             close-mid-frame
";
    let (sim, link) = setup(script, Duration::from_millis(400)).await;
    let reply = approved(link.exchange(&sign_on(900)).await);
    assert!(reply.sign_on_requested);

    let declined = link.exchange(&pre_auth(1, 1_251)).await.unwrap();
    assert_eq!(declined.response_code.as_str(), "51");
    assert!(declined.mac_valid);
    assert!(
        !sim.holds(BatchNumber::FIRST, trace(1)),
        "a scripted decline approves nothing"
    );

    let plain = approved(link.exchange(&pre_auth(2, 100)).await);
    assert!(plain.mac_valid && !plain.sign_on_requested);
    let spoiled = approved(link.exchange(&pre_auth(3, 100)).await);
    assert!(!spoiled.mac_valid, "the third 0100's reply has a bad MAC");
    // The reply to request 5 comes twice; the duplicate is ignored during request 6.
    approved(link.exchange(&pre_auth(4, 100)).await);
    approved(link.exchange(&pre_auth(5, 100)).await);
    assert_eq!(
        link.exchange(&settlement())
            .await
            .unwrap()
            .settlement_balanced,
        Some(false)
    );
    assert_eq!(
        link.exchange(&settlement())
            .await
            .unwrap()
            .settlement_balanced,
        Some(true)
    );
    // Request 9 is answered after 700 ms, past the 400 ms timeout; request 10 is cut.
    no_answer(link.exchange(&pre_auth(6, 100)).await);
    no_answer(link.exchange(&pre_auth(7, 100)).await);
    approved(link.exchange(&pre_auth(8, 100)).await);
    assert_eq!(sim.requests_seen(), 11);
    assert_eq!(sim.approvals_held(), 7);
}

/// One control command over TCP, its one-line reply.
fn tell(control: &std::net::SocketAddr, command: &str) -> String {
    let mut socket = std::net::TcpStream::connect(control).unwrap();
    socket.write_all(format!("{command}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(socket).read_line(&mut answer).unwrap();
    answer.trim_end().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_port_sets_the_next_reply_and_reports() {
    let (sim, link) = setup("", Duration::from_millis(400)).await;
    let control = sim.serve_control("127.0.0.1:0").await.unwrap();
    let ask = |command: &'static str| tokio::task::spawn_blocking(move || tell(&control, command));

    let status: serde_json::Value = serde_json::from_str(&ask("status").await.unwrap()).unwrap();
    assert_eq!(status["requests"], 0);

    assert_eq!(ask("drop").await.unwrap(), "ok drop next reply");
    no_answer(link.exchange(&pre_auth(1, 10_000)).await);
    approved(link.exchange(&pre_auth(2, 10_000)).await);

    assert_eq!(ask("decline 05").await.unwrap(), "ok decline 05 next reply");
    assert_eq!(
        link.exchange(&pre_auth(3, 10_000))
            .await
            .unwrap()
            .response_code
            .as_str(),
        "05"
    );
    assert_eq!(ask("bad-mac").await.unwrap(), "ok bad-mac next reply");
    assert!(!link.exchange(&pre_auth(4, 10_000)).await.unwrap().mac_valid);
    assert_eq!(ask("sign-on").await.unwrap(), "ok sign-on next reply");
    assert!(
        link.exchange(&pre_auth(5, 10_000))
            .await
            .unwrap()
            .sign_on_requested
    );
    assert_eq!(
        ask("delay 700ms").await.unwrap(),
        "ok delay 700ms next reply"
    );
    no_answer(link.exchange(&pre_auth(6, 10_000)).await);
    assert_eq!(ask("twice").await.unwrap(), "ok twice next reply");
    approved(link.exchange(&pre_auth(7, 10_000)).await);
    assert_eq!(
        ask("close-mid-frame").await.unwrap(),
        "ok close-mid-frame next reply"
    );
    no_answer(link.exchange(&pre_auth(8, 10_000)).await);
    approved(link.exchange(&reversal_of(8, 10_000)).await);

    assert_eq!(
        ask("unbalanced").await.unwrap(),
        "ok settlements unbalanced"
    );
    assert_eq!(
        link.exchange(&settlement())
            .await
            .unwrap()
            .settlement_balanced,
        Some(false)
    );
    assert_eq!(
        link.exchange(&settlement())
            .await
            .unwrap()
            .settlement_balanced,
        Some(false),
        "until balanced"
    );
    assert_eq!(ask("balanced").await.unwrap(), "ok settlements balanced");
    assert_eq!(
        link.exchange(&settlement())
            .await
            .unwrap()
            .settlement_balanced,
        Some(true)
    );

    let status: serde_json::Value = serde_json::from_str(&ask("status").await.unwrap()).unwrap();
    assert_eq!(status["requests"], 12, "{status}");
    // Approved: 1 (dropped), 2, 4, 5, 6 (late), 7; 8 approved then reversed; 3 declined.
    assert_eq!(status["approvals_held"], 6, "{status}");
    assert_eq!(status["reversals"], 1, "{status}");
    assert_eq!(status["batch_upload_records"], 0, "{status}");
    assert_eq!(status["settlement_unbalanced"], false, "{status}");

    let unknown = ask("explode").await.unwrap();
    assert!(
        unknown.starts_with("error unknown command `explode`; commands: drop, delay 5000ms"),
        "{unknown}"
    );
    let bad = ask("delay soon").await.unwrap();
    assert!(bad.starts_with("error `soon` is not a duration"), "{bad}");
    assert!(ask("").await.unwrap().starts_with("error empty line"));

    // Several commands on one connection, one reply line each.
    let replies = tokio::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(control).unwrap();
        socket.write_all(b"twice\nstatus\n").unwrap();
        let mut reader = BufReader::new(socket);
        let mut lines = vec![String::new(), String::new()];
        for line in lines.iter_mut() {
            reader.read_line(line).unwrap();
        }
        lines
    })
    .await
    .unwrap();
    assert_eq!(replies[0], "ok twice next reply\n");
    let status: serde_json::Value = serde_json::from_str(&replies[1]).unwrap();
    assert_eq!(status["approvals_held"], 6, "{status}");
}
