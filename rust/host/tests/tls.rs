//! TLS on the host link (feature `tls`): [`HostSim::serve_tls`] with a server certificate from
//! a test CA (rcgen), and [`TcpHostLink`] trusting that CA: the real engine signs on and gets a
//! pre-auth approved; a link trusting another CA, or checking another name, sends nothing
//! (NotSent, with the reason); a reply that comes after the timeout is ignored later.

use std::sync::Arc;
use std::time::Duration;

use poscore::Timestamp;
use poscore::card::{CardInput, Pan};
use poscore::host::{FinancialRequest, HostRequest, TerminalIdentity};
use poscore::ids::{BatchNumber, MerchantId, OperatorId, RequestId, TerminalId, TraceNumber};
use poscore::money::{Currency, Money};
use poscore::txn::{TxnKind, TxnState};
use poscore::{Command, CommandOutcome, Config};
use poscore_host::{
    HostSim, LinkConfig, SimConfig, SoftwareMacKey, TcpHostLink, TlsRoots, TlsSettings,
};
use poscore_terminal::{Clock, HostLink, LinkError, SystemClock};

mod common;

/// A CA and a server certificate it signed for `localhost` and 127.0.0.1, all PEM.
struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn pki() -> Pki {
    pki_named("poscore test acquirer CA")
}

fn pki_named(ca_name: &str) -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
    Pki {
        ca: ca.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

async fn tls_sim(pki: &Pki) -> (HostSim, String) {
    let sim = HostSim::new(SimConfig::default()).unwrap();
    let addr = sim
        .serve_tls("127.0.0.1:0", pki.cert.as_bytes(), pki.key.as_bytes())
        .await
        .unwrap();
    (sim, addr.to_string())
}

fn link(address: &str, tls: TlsSettings, read_timeout: Duration) -> TcpHostLink {
    let config = LinkConfig {
        read_timeout,
        connect_timeout: Duration::from_secs(3),
        master_key: Some(SimConfig::default().master_key),
        tls: Some(tls),
        ..LinkConfig::new(address)
    };
    TcpHostLink::new(
        config,
        Arc::new(SoftwareMacKey::cup(&SimConfig::default().mac_key).unwrap()),
    )
}

fn identity() -> TerminalIdentity {
    TerminalIdentity {
        merchant_id: MerchantId::parse("898310048990001").unwrap(),
        terminal_id: TerminalId::parse("10000001").unwrap(),
        operator_id: OperatorId::parse("01").unwrap(),
    }
}

fn sign_on() -> HostRequest {
    HostRequest::SignOn {
        trace: TraceNumber::new(900).unwrap(),
        batch: poscore::ids::BatchNumber::FIRST,
        identity: identity(),
    }
}

fn pre_auth(n: u32, minor: u64) -> HostRequest {
    let now = Timestamp::from_civil(2026, 11, 26, 0, 0, 0);
    HostRequest::Financial(FinancialRequest {
        kind: TxnKind::PreAuth,
        trace: TraceNumber::new(n).unwrap(),
        batch: BatchNumber::FIRST,
        amount: Money::from_minor(minor, Currency::CNY).unwrap(),
        card: Some(CardInput::parse("6222021234567890128", "3012", now).unwrap()),
        masked_pan: Pan::parse("6222021234567890128").unwrap().masked(),
        original: None,
        identity: identity(),
    })
}

fn not_sent(result: Result<poscore::host::HostReply, LinkError>) -> String {
    match result {
        Err(LinkError::NotSent(why)) => why,
        other => panic!("expected NotSent, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_signs_on_and_gets_a_pre_auth_approved_over_tls() {
    let pki = pki();
    let (sim, address) = tls_sim(&pki).await;
    let link = link(
        &address,
        TlsSettings::pem(pki.ca.clone().into_bytes()),
        Duration::from_millis(800),
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
    let card = CardInput::parse("6222021234567890128", "3012", SystemClock.now()).unwrap();
    let outcome = handle
        .submit(
            id("a"),
            Command::PreAuth {
                amount: Money::parse("100.00", Currency::CNY).unwrap(),
                card,
            },
        )
        .await
        .unwrap();
    let CommandOutcome::Transaction(held) = outcome else {
        panic!("expected a transaction, got {outcome:?}")
    };
    assert_eq!(held.state, TxnState::Approved, "{held:?}");
    assert!(held.auth_code.is_some());
    assert!(sim.holds(held.batch, held.trace));
    assert_eq!(sim.requests_seen(), 2);
    terminal.shutdown().await;
}

#[tokio::test]
async fn a_link_trusting_another_ca_sends_nothing() {
    let pki = pki();
    let (sim, address) = tls_sim(&pki).await;
    let other = pki_named("some other CA");
    let link = link(
        &address,
        TlsSettings::pem(other.ca.into_bytes()),
        Duration::from_secs(2),
    );
    let why = not_sent(link.exchange(&sign_on()).await);
    assert!(
        why.contains("TLS handshake with 127.0.0.1:") && why.contains("failed"),
        "{why}"
    );
    assert!(
        why.contains("invalid peer certificate") && why.contains("UnknownIssuer"),
        "{why}"
    );
    assert_eq!(sim.requests_seen(), 0, "nothing reached the host");

    // A trusted-CA file without any certificate is refused before connecting.
    let empty = link_with_roots(&address, TlsRoots::Pem(b"not a certificate".to_vec()));
    let why = not_sent(empty.exchange(&sign_on()).await);
    assert!(
        why.contains("the trusted CA: no certificate found"),
        "{why}"
    );
}

fn link_with_roots(address: &str, roots: TlsRoots) -> TcpHostLink {
    link(
        address,
        TlsSettings {
            roots,
            server_name: None,
        },
        Duration::from_secs(2),
    )
}

#[tokio::test]
async fn a_wrong_server_name_sends_nothing() {
    let pki = pki();
    let (sim, address) = tls_sim(&pki).await;
    let tls = TlsSettings {
        roots: TlsRoots::Pem(pki.ca.clone().into_bytes()),
        server_name: Some("acquirer.example".into()),
    };
    let why = not_sent(
        link(&address, tls, Duration::from_secs(2))
            .exchange(&sign_on())
            .await,
    );
    assert!(
        why.contains("\"acquirer.example\"") && why.contains("invalid peer certificate"),
        "{why}"
    );
    assert!(why.to_lowercase().contains("name"), "{why}");
    assert_eq!(sim.requests_seen(), 0);

    // The name the certificate carries works, with the address given by IP.
    let tls = TlsSettings {
        roots: TlsRoots::Pem(pki.ca.into_bytes()),
        server_name: Some("localhost".into()),
    };
    let reply = link(&address, tls, Duration::from_secs(2))
        .exchange(&sign_on())
        .await
        .unwrap();
    assert!(reply.response_code.is_approved());
}

#[tokio::test]
async fn a_plain_link_to_a_tls_host_gets_no_answer_and_a_tls_link_to_a_plain_host_sends_nothing() {
    let pki = pki();
    let (_tls_sim, tls_address) = tls_sim(&pki).await;
    let plain_sim = HostSim::new(SimConfig::default()).unwrap();
    let plain_address = plain_sim.serve("127.0.0.1:0").await.unwrap().to_string();

    let why = not_sent(
        link(
            &plain_address,
            TlsSettings::pem(pki.ca.into_bytes()),
            Duration::from_secs(2),
        )
        .exchange(&sign_on())
        .await,
    );
    // The plain host waits for the rest of a "frame" (the ClientHello) and never answers: the
    // handshake does not finish within the connect timeout.
    assert!(
        why.contains("no TLS connection to") && why.contains("handshake"),
        "{why}"
    );
    assert_eq!(plain_sim.requests_seen(), 0);

    let plain = TcpHostLink::new(
        LinkConfig {
            read_timeout: Duration::from_millis(500),
            ..LinkConfig::new(tls_address)
        },
        Arc::new(SoftwareMacKey::cup(&SimConfig::default().mac_key).unwrap()),
    );
    assert!(matches!(
        plain.exchange(&sign_on()).await,
        Err(LinkError::NoAnswer(_))
    ));
}

#[tokio::test]
async fn a_late_reply_on_a_tls_link_is_ignored_during_the_next_exchange() {
    let pki = pki();
    let (sim, address) = tls_sim(&pki).await;
    let link = link(
        &address,
        TlsSettings::pem(pki.ca.into_bytes()),
        Duration::from_millis(300),
    );
    assert!(
        link.exchange(&sign_on())
            .await
            .unwrap()
            .response_code
            .is_approved()
    );

    sim.delay_next_reply(Duration::from_millis(600));
    match link.exchange(&pre_auth(1, 10_000)).await {
        Err(LinkError::NoAnswer(why)) => assert!(why.contains("no answer"), "{why}"),
        other => panic!("expected no answer, got {other:?}"),
    }
    // The late reply arrives on the kept TLS connection; the next exchange takes it in and
    // ignores it (its trace is 1, not 2), then gets its own answer.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let second = link.exchange(&pre_auth(2, 20_000)).await.unwrap();
    assert!(second.response_code.is_approved());
    assert!(second.rrn.is_some());
    assert_eq!(sim.requests_seen(), 3);

    // And again right away, with the late reply still on its way when the request leaves.
    sim.delay_next_reply(Duration::from_millis(450));
    assert!(matches!(
        link.exchange(&pre_auth(3, 30_000)).await,
        Err(LinkError::NoAnswer(_))
    ));
    let fourth = link.exchange(&pre_auth(4, 40_000)).await.unwrap();
    assert!(fourth.response_code.is_approved());
}

#[tokio::test]
async fn a_tls_connection_the_host_cut_is_replaced() {
    let pki = pki();
    let (sim, address) = tls_sim(&pki).await;
    let link = link(
        &address,
        TlsSettings::pem(pki.ca.into_bytes()),
        Duration::from_millis(800),
    );
    assert!(link.exchange(&sign_on()).await.is_ok());
    sim.close_mid_frame_next();
    assert!(matches!(
        link.exchange(&pre_auth(1, 10_000)).await,
        Err(LinkError::NoAnswer(_))
    ));
    let again = link.exchange(&pre_auth(2, 10_000)).await.unwrap();
    assert!(again.response_code.is_approved());
}

#[tokio::test]
async fn a_bad_server_certificate_or_key_is_refused_by_serve_tls() {
    let pki = pki();
    let sim = HostSim::new(SimConfig::default()).unwrap();
    let e = sim
        .serve_tls("127.0.0.1:0", b"junk", pki.key.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("the server certificate"), "{e}");
    let other = self::pki();
    let e = sim
        .serve_tls("127.0.0.1:0", pki.cert.as_bytes(), other.key.as_bytes())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("do not go together"), "{e}");
}
