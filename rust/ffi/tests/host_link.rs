//! `PosTerminal` against `poscore-host`'s simulator on a loopback port: the MAC and the
//! sign-on's working keys go through the `KeyProvider`. (android/jvm's HostLinkTest runs the
//! same from Kotlin against the `poscore host-sim` process.)

use std::sync::Arc;

use poscore_ffi::{
    HostConfig, PosTerminal, PrinterDevice, SoftwareKeyProvider, SoftwarePrinter, TerminalConfig,
    TxnState, default_config, default_host_config,
};

const PAN: &str = "6222021234567890128";

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(future)
}

/// Starts the simulator with its test keys on a runtime of its own; returns its address.
fn start_sim() -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = poscore_host::HostSim::new(poscore_host::SimConfig::default()).unwrap();
    let address = rt.block_on(sim.serve("127.0.0.1:0")).unwrap();
    (rt, address.to_string())
}

fn config(address: &str) -> TerminalConfig {
    TerminalConfig {
        host_timeout_ms: 5_000,
        host: Some(HostConfig {
            read_timeout_ms: 2_000,
            connect_timeout_ms: 2_000,
            ..default_host_config(address.into())
        }),
        ..default_config()
    }
}

fn open(
    dir: &std::path::Path,
    config: TerminalConfig,
    tmk: Vec<u8>,
) -> (Arc<PosTerminal>, Arc<SoftwareKeyProvider>) {
    // The MAK the terminal starts with is not the host's: only the sign-on's makes MACs check.
    let keys = SoftwareKeyProvider::with_master_key(vec![9; 32], vec![0x42; 16], tmk).unwrap();
    let terminal = PosTerminal::open(
        config,
        dir.join("j.db").display().to_string(),
        keys.clone(),
        SoftwarePrinter::new() as Arc<dyn PrinterDevice>,
        None,
    )
    .unwrap();
    (terminal, keys)
}

#[test]
fn sign_on_installs_the_hosts_mac_key_and_a_preauth_is_approved() {
    let (_rt, address) = start_sim();
    let dir = tempfile::tempdir().unwrap();
    let (terminal, keys) = open(
        dir.path(),
        config(&address),
        poscore_host::SimConfig::default().master_key,
    );
    let signed_on = block_on(terminal.sign_on("s1".into())).unwrap();
    assert!(signed_on.keys_installed, "{signed_on:?}");
    assert_eq!(signed_on.host, address);
    let sim_mak =
        poscore_host::SoftwareMacKey::cup(&poscore_host::SimConfig::default().mac_key).unwrap();
    let expected: String = sim_mak
        .check_value()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(signed_on.mac_key_check.as_deref(), Some(expected.as_str()));
    assert_eq!(keys.mac_key_check(), expected);
    let txn = block_on(terminal.preauth("r1".into(), "100.00".into(), PAN.into(), "3012".into()))
        .unwrap();
    assert_eq!(txn.state, TxnState::Approved, "{txn:?}");
    assert!(txn.auth_code.is_some());
    terminal.shutdown();
}

#[test]
fn refused_working_keys_fail_the_sign_on_and_nothing_financial_is_sent() {
    let (_rt, address) = start_sim();
    let dir = tempfile::tempdir().unwrap();
    let (terminal, _keys) = open(dir.path(), config(&address), vec![0x22; 16]);
    let e = block_on(terminal.sign_on("s1".into())).unwrap_err();
    assert_eq!(e.code(), "KEY_INSTALL_FAILED", "{e}");
    let e = block_on(terminal.preauth("r1".into(), "100.00".into(), PAN.into(), "3012".into()))
        .unwrap_err();
    assert_eq!(e.code(), "KEY_INSTALL_FAILED", "{e}");
    let listed = block_on(terminal.list(10)).unwrap();
    assert!(
        listed.iter().all(|t| t.state == TxnState::NotSent),
        "{listed:?}"
    );
    terminal.shutdown();
}

#[test]
fn training_never_reaches_the_configured_host() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: training uses the simulated host all the same.
    let config = TerminalConfig {
        training: true,
        ..config("127.0.0.1:9")
    };
    let (terminal, _keys) = open(dir.path(), config, vec![0x11; 16]);
    assert_eq!(
        block_on(terminal.sign_on("s1".into())).unwrap().host,
        "simulated"
    );
    let txn =
        block_on(terminal.preauth("r1".into(), "7.00".into(), PAN.into(), "3012".into())).unwrap();
    assert_eq!(txn.state, TxnState::Approved);
    assert!(txn.training);
    terminal.shutdown();
}
