//! The real acquirer host behind [`crate::PosTerminal`]: [`HostConfig`] (validated into a
//! [`poscore_host::LinkConfig`]), the MAC through the foreign [`KeyProvider`]
//! ([`KeyProviderMac`], a [`poscore_host::MacKey`]), and [`KeyedHostLink`], the
//! [`poscore_host::TcpHostLink`] that hands each approved sign-on's working keys to the
//! secure module ([`KeyProvider::install_working_keys`]).
//!
//! TLS: `poscore-host` gains TLS behind its `tls` cargo feature; this crate does not enable it
//! yet (the cdylib's size budget), so `HostConfig` has no TLS setting. When it does, the
//! settings go here as an optional record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use poscore::host::{HostReply, HostRequest};
use poscore_host::{LinkConfig, MacKey, TcpHostLink};
use poscore_iso8583::Tpdu;
use poscore_terminal::{HostLink, LinkError};

use crate::error::PosError;
use crate::keys::KeyProvider;

/// How the MAC (field 64) is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MacAlgorithm {
    /// The UnionPay ECB MAC (银联 ECB), single or double-length key.
    CupEcb,
    /// ANSI X9.19 (retail CBC-MAC), single or double-length key.
    X919,
}

impl From<MacAlgorithm> for poscore_iso8583::MacAlgorithm {
    fn from(a: MacAlgorithm) -> poscore_iso8583::MacAlgorithm {
        match a {
            MacAlgorithm::CupEcb => poscore_iso8583::MacAlgorithm::CupEcb,
            MacAlgorithm::X919 => poscore_iso8583::MacAlgorithm::X919,
        }
    }
}

impl From<poscore_iso8583::MacAlgorithm> for MacAlgorithm {
    fn from(a: poscore_iso8583::MacAlgorithm) -> MacAlgorithm {
        match a {
            poscore_iso8583::MacAlgorithm::CupEcb => MacAlgorithm::CupEcb,
            poscore_iso8583::MacAlgorithm::X919 => MacAlgorithm::X919,
        }
    }
}

/// The acquirer host: ISO 8583 over TCP (`TerminalConfig.host`; `null` = the simulated host).
/// `defaultHostConfig(address)` fills in the defaults.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HostConfig {
    /// `host:port`, e.g. `"10.1.2.3:5000"` or `"[::1]:5000"`; a name is resolved at connect.
    pub address: String,
    /// How long to wait for the TCP connection, in ms (100–60000).
    #[uniffi(default = 5000)]
    pub connect_timeout_ms: i64,
    /// How long to wait for the reply once a request is sent, in ms (1000 to
    /// `TerminalConfig.hostTimeoutMs`).
    #[uniffi(default = 30000)]
    pub read_timeout_ms: i64,
    /// The TPDU of requests, 10 hex digits (`60` + destination + source).
    #[uniffi(default = "6000030000")]
    pub tpdu: String,
    /// The MAC algorithm the host expects; passed to the `KeyProvider` with the working keys.
    pub mac_algorithm: MacAlgorithm,
}

/// A `HostConfig` for `address` with the defaults: 5 s to connect, 30 s for the reply, TPDU
/// `6000030000`, the CUP ECB MAC.
#[uniffi::export]
pub fn default_host_config(address: String) -> HostConfig {
    HostConfig {
        address,
        connect_timeout_ms: 5_000,
        read_timeout_ms: 30_000,
        tpdu: "6000030000".into(),
        mac_algorithm: MacAlgorithm::CupEcb,
    }
}

/// The working keys of an approved sign-on (F62), still encrypted under the terminal master
/// key (TMK), for [`KeyProvider::install_working_keys`].
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkingKeys {
    /// The PIN key, encrypted under the TMK (8 or 16 bytes).
    pub pin_key: Vec<u8>,
    /// The clear PIN key's check value (4 bytes: eight zero bytes encrypted under it).
    pub pin_check: Vec<u8>,
    /// The MAC key (MAK), encrypted under the TMK (8 or 16 bytes).
    pub mac_key: Vec<u8>,
    /// The clear MAC key's check value (4 bytes).
    pub mac_check: Vec<u8>,
    /// The track-data key, encrypted, when the host sent one.
    pub track_key: Option<Vec<u8>>,
    /// Its check value.
    pub track_check: Option<Vec<u8>>,
    /// The MAC algorithm to compute field 64 with from now on (`HostConfig.macAlgorithm`).
    pub mac_algorithm: MacAlgorithm,
}

impl std::fmt::Debug for WorkingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkingKeys")
            .field("mac_check", &self.mac_check)
            .field("mac_algorithm", &self.mac_algorithm)
            .finish_non_exhaustive()
    }
}

impl WorkingKeys {
    fn from_host(keys: &poscore_host::WorkingKeys, mac_algorithm: MacAlgorithm) -> WorkingKeys {
        WorkingKeys {
            pin_key: keys.pin_key.clone(),
            pin_check: keys.pin_check.to_vec(),
            mac_key: keys.mac_key.clone(),
            mac_check: keys.mac_check.to_vec(),
            track_key: keys.track_key.as_ref().map(|(k, _)| k.clone()),
            track_check: keys.track_key.as_ref().map(|(_, c)| c.to_vec()),
            mac_algorithm,
        }
    }
}

/// What a sign-on (签到) did, for the screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignOnResult {
    /// The host signed on to: `host:port`, or `simulated`.
    pub host: String,
    /// Whether new working keys went to the `KeyProvider` (`installWorkingKeys`).
    pub keys_installed: bool,
    /// The check value of the installed MAC key, 8 hex digits (to compare with the host's).
    pub mac_key_check: Option<String>,
    /// What to show, in Chinese.
    pub message_zh: String,
    /// What to show, in English.
    pub message_en: String,
}

fn bad(code: &str, zh: String, en: String) -> PosError {
    PosError::InvalidInput {
        code: code.into(),
        message_zh: zh,
        message_en: en,
    }
}

/// Checks `host:port`: a non-empty host (a name, an IPv4 address, or `[IPv6]`) and a port
/// 1–65535. Nothing is resolved here.
fn check_address(address: &str) -> Result<(), PosError> {
    let error = || {
        bad(
            "CONFIG_HOST_ADDRESS",
            format!("主机地址 \"{address}\" 无效：应为 主机:端口，例如 10.1.2.3:5000"),
            format!(
                "host address \"{address}\" is not host:port (e.g. 10.1.2.3:5000 or [::1]:5000)"
            ),
        )
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(error)?;
    let port_ok = !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p > 0);
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner
            .strip_suffix(']')
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(error())
    }
}

/// Parses the TPDU: 10 hex digits.
fn parse_tpdu(text: &str) -> Result<Tpdu, PosError> {
    let error = || {
        bad(
            "CONFIG_HOST_TPDU",
            format!("TPDU \"{text}\" 无效：应为 10 位十六进制数字，例如 6000030000"),
            format!("TPDU \"{text}\" must be 10 hex digits, e.g. 6000030000"),
        )
    };
    if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(error());
    }
    let mut bytes = [0u8; 5];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| error())?;
    }
    Ok(Tpdu::from_bytes(bytes))
}

/// Validates `host` (against the driver's `host_timeout_ms`) into the link's configuration.
pub(crate) fn link_config(host: &HostConfig, host_timeout_ms: i64) -> Result<LinkConfig, PosError> {
    let range = |name: &'static str, value: i64, range: &'static str| {
        PosError::invalid(&poscore::config::ConfigError {
            name,
            value: value.to_string(),
            range,
        })
    };
    check_address(&host.address)?;
    if !(100..=60_000).contains(&host.connect_timeout_ms) {
        return Err(range(
            "host.connect_timeout_ms",
            host.connect_timeout_ms,
            "100 to 60000",
        ));
    }
    if !(1_000..=300_000).contains(&host.read_timeout_ms) || host.read_timeout_ms > host_timeout_ms
    {
        return Err(range(
            "host.read_timeout_ms",
            host.read_timeout_ms,
            "1000 to 300000, and at most host_timeout_ms",
        ));
    }
    let tpdu = parse_tpdu(&host.tpdu)?;
    Ok(LinkConfig {
        connect_timeout: Duration::from_millis(host.connect_timeout_ms as u64),
        read_timeout: Duration::from_millis(host.read_timeout_ms as u64),
        tpdu,
        mac_algorithm: host.mac_algorithm.into(),
        // No master key: the working keys go to the secure module, never into this process.
        master_key: None,
        ..LinkConfig::new(host.address.clone())
    })
}

/// The MAC of the link, computed by the secure module through [`KeyProvider::mac`].
///
/// `MacKey::mac` cannot fail, so a failure (the module threw, or returned other than 8 bytes)
/// is logged, gives eight zero bytes, and is remembered: [`KeyedHostLink`] then marks the
/// exchange's reply untrusted (`mac_valid = false`), so the engine reverses a financial
/// request and asks for a new sign-on rather than trust an answer it could not check.
pub struct KeyProviderMac {
    keys: Arc<dyn KeyProvider>,
    failed: AtomicBool,
}

impl KeyProviderMac {
    /// The MAC through `keys`.
    pub fn new(keys: Arc<dyn KeyProvider>) -> KeyProviderMac {
        KeyProviderMac {
            keys,
            failed: AtomicBool::new(false),
        }
    }

    /// Whether a MAC failed since the last call (and clears it).
    pub fn take_failure(&self) -> bool {
        self.failed.swap(false, Ordering::SeqCst)
    }
}

impl MacKey for KeyProviderMac {
    fn mac(&self, data: &[u8]) -> [u8; 8] {
        match self.keys.mac(data.to_vec()) {
            Ok(mac) if mac.len() == 8 => mac.try_into().unwrap_or_default(),
            Ok(mac) => {
                log::error!(
                    "the key provider returned a {}-byte MAC; 8 bytes expected",
                    mac.len()
                );
                self.failed.store(true, Ordering::SeqCst);
                [0; 8]
            }
            Err(e) => {
                log::error!("the key provider could not compute a MAC: {e}");
                self.failed.store(true, Ordering::SeqCst);
                [0; 8]
            }
        }
    }
}

/// [`TcpHostLink`] with the MAC in the secure module: after each approved sign-on it hands the
/// working keys to [`KeyProvider::install_working_keys`]. If that fails, the sign-on's reply
/// is marked untrusted (`mac_valid = false`, as `TcpHostLink` does when it cannot install a
/// key itself): the engine then counts the sign-on as failed, keeps "sign-on required", and
/// sends no financial message until a sign-on installs good keys.
pub struct KeyedHostLink {
    link: TcpHostLink,
    mac: Arc<KeyProviderMac>,
    keys: Arc<dyn KeyProvider>,
    mac_algorithm: MacAlgorithm,
    address: String,
    /// One exchange at a time (the link serializes them too); keeps the MAC failure flag
    /// attributable to this exchange.
    exchange_lock: tokio::sync::Mutex<()>,
    /// The last sign-on's key installation: `Ok(Some(check))` installed, `Ok(None)` no keys
    /// sent, `Err` failed (the error the cashier sees).
    last_install: Mutex<Option<Result<Option<String>, PosError>>>,
}

impl KeyedHostLink {
    /// A link to `config`'s host, with MACs and working keys through `keys`.
    pub fn new(config: LinkConfig, keys: Arc<dyn KeyProvider>) -> KeyedHostLink {
        let mac = Arc::new(KeyProviderMac::new(Arc::clone(&keys)));
        let mac_algorithm = config.mac_algorithm.into();
        let address = config.address.clone();
        KeyedHostLink {
            link: TcpHostLink::new(config, Arc::clone(&mac) as Arc<dyn MacKey>),
            mac,
            keys,
            mac_algorithm,
            address,
            exchange_lock: tokio::sync::Mutex::new(()),
            last_install: Mutex::new(None),
        }
    }

    /// The host's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The failure of the last sign-on's key installation, if it failed.
    pub fn install_failure(&self) -> Option<PosError> {
        match &*self.last_install.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// The check value of the MAC key the last sign-on installed (`None`: no keys installed).
    pub fn installed_mac_check(&self) -> Option<String> {
        match &*self.last_install.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(check)) => check.clone(),
            _ => None,
        }
    }

    fn install(&self) -> Result<Option<String>, PosError> {
        let Some(keys) = self.link.last_working_keys() else {
            log::warn!(
                "host link: the sign-on was approved without working keys; the current MAC key stays"
            );
            return Ok(None);
        };
        let record = WorkingKeys::from_host(&keys, self.mac_algorithm);
        let check = hex(&keys.mac_check);
        match self.keys.install_working_keys(record) {
            Ok(()) => {
                log::info!("host link: working keys installed (MAC key check value {check})");
                Ok(Some(check))
            }
            Err(e) => {
                log::error!("host link: the key provider refused the sign-on's working keys: {e}");
                Err(key_install_failed(&e))
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The error the cashier sees when the secure module could not install a sign-on's keys.
fn key_install_failed(cause: &PosError) -> PosError {
    let (zh, en) = match cause {
        PosError::InvalidInput {
            message_zh,
            message_en,
            ..
        }
        | PosError::Refused {
            message_zh,
            message_en,
            ..
        }
        | PosError::Storage {
            message_zh,
            message_en,
            ..
        }
        | PosError::Closed {
            message_zh,
            message_en,
            ..
        }
        | PosError::Device {
            message_zh,
            message_en,
            ..
        }
        | PosError::Internal {
            message_zh,
            message_en,
            ..
        } => (message_zh.as_str(), message_en.as_str()),
    };
    PosError::device(
        "KEY_INSTALL_FAILED",
        format!(
            "签到成功但工作密钥未能装入安全模块（{}：{zh}）：交易暂停，请检查主密钥后重新签到",
            cause.code()
        ),
        format!(
            "signed on, but the secure module did not install the working keys ({}: {en}); no transactions until a sign-on installs good keys: check the master key and sign on again",
            cause.code()
        ),
    )
}

#[async_trait]
impl HostLink for KeyedHostLink {
    async fn exchange(&self, request: &HostRequest) -> Result<HostReply, LinkError> {
        let _one = self.exchange_lock.lock().await;
        self.mac.take_failure();
        let sign_on = matches!(request, HostRequest::SignOn { .. });
        if sign_on {
            *self.last_install.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        let mut reply = self.link.exchange(request).await?;
        if self.mac.take_failure() {
            log::error!(
                "host link: the MAC of {} could not be computed; its answer is not trusted",
                request.describe()
            );
            reply.mac_valid = false;
        }
        if sign_on && reply.response_code.is_approved() && reply.mac_valid {
            let installed = self.install();
            if installed.is_err() {
                reply.mac_valid = false;
            }
            *self.last_install.lock().unwrap_or_else(|e| e.into_inner()) = Some(installed);
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SoftwareKeyProvider;

    fn config() -> HostConfig {
        default_host_config("127.0.0.1:5000".into())
    }

    fn code(result: Result<LinkConfig, PosError>) -> String {
        result.expect_err("invalid").code().to_string()
    }

    #[test]
    fn a_good_host_config_becomes_the_link_config() {
        let link = link_config(
            &HostConfig {
                tpdu: "6000120034".into(),
                mac_algorithm: MacAlgorithm::X919,
                ..config()
            },
            30_000,
        )
        .unwrap();
        assert_eq!(link.address, "127.0.0.1:5000");
        assert_eq!(link.connect_timeout, Duration::from_secs(5));
        assert_eq!(link.read_timeout, Duration::from_secs(30));
        assert_eq!(link.tpdu.to_bytes(), [0x60, 0x00, 0x12, 0x00, 0x34]);
        assert_eq!(link.mac_algorithm, poscore_iso8583::MacAlgorithm::X919);
        assert!(
            link.master_key.is_none(),
            "the TMK stays in the secure module"
        );
        for address in [
            "host.example.com:443",
            "[::1]:5000",
            "10.0.0.1:65535",
            "localhost:1",
        ] {
            assert!(
                link_config(
                    &HostConfig {
                        address: address.into(),
                        ..config()
                    },
                    30_000
                )
                .is_ok(),
                "{address}"
            );
        }
    }

    #[test]
    fn every_field_is_checked_with_a_clear_error() {
        for address in [
            "",
            "127.0.0.1",
            "127.0.0.1:",
            ":5000",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:+80",
            "a b:5",
            "::1:5000",
            "[zz]:5",
        ] {
            let e = link_config(
                &HostConfig {
                    address: address.into(),
                    ..config()
                },
                30_000,
            )
            .expect_err(address);
            assert_eq!(e.code(), "CONFIG_HOST_ADDRESS", "{address}");
            let PosError::InvalidInput {
                message_zh,
                message_en,
                ..
            } = e
            else {
                panic!("{address}: not InvalidInput")
            };
            assert!(
                message_en.contains("host:port") && message_zh.contains("主机"),
                "{message_en} / {message_zh}"
            );
        }
        assert_eq!(
            code(link_config(
                &HostConfig {
                    connect_timeout_ms: 99,
                    ..config()
                },
                30_000
            )),
            "CONFIG_RANGE"
        );
        assert_eq!(
            code(link_config(
                &HostConfig {
                    connect_timeout_ms: 60_001,
                    ..config()
                },
                30_000
            )),
            "CONFIG_RANGE"
        );
        assert_eq!(
            code(link_config(
                &HostConfig {
                    read_timeout_ms: 999,
                    ..config()
                },
                30_000
            )),
            "CONFIG_RANGE"
        );
        // The link's read timeout must not outlast the driver's own host timeout.
        let late = link_config(
            &HostConfig {
                read_timeout_ms: 40_000,
                ..config()
            },
            30_000,
        )
        .unwrap_err();
        assert!(late.to_string().contains("host.read_timeout_ms"), "{late}");
        for tpdu in ["", "600003000", "60000300000", "60000300GG", "60 0003 00"] {
            assert_eq!(
                code(link_config(
                    &HostConfig {
                        tpdu: tpdu.into(),
                        ..config()
                    },
                    30_000
                )),
                "CONFIG_HOST_TPDU",
                "{tpdu}"
            );
        }
    }

    const MAK16: [u8; 16] = [
        0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32,
        0x10,
    ];

    #[test]
    fn the_key_provider_mac_equals_poscore_hosts() {
        let data = b"0200 message bytes, MTI..F63, longer than one block";
        for mak in [MAK16.to_vec(), MAK16[..8].to_vec()] {
            let provider = SoftwareKeyProvider::new(vec![7; 32], mak.clone()).unwrap();
            let adapter = KeyProviderMac::new(provider);
            let host = poscore_host::SoftwareMacKey::cup(&mak).unwrap();
            assert_eq!(adapter.mac(data), host.mac(data), "{}-byte MAK", mak.len());
            assert!(!adapter.take_failure());
        }
    }

    struct Broken;
    impl KeyProvider for Broken {
        fn pan_hash_key(&self) -> Result<Vec<u8>, PosError> {
            Ok(vec![1; 32])
        }
        fn mac(&self, _data: Vec<u8>) -> Result<Vec<u8>, PosError> {
            Err(PosError::device(
                "KEY_MODULE",
                "密钥模块未就绪".into(),
                "key module not ready".into(),
            ))
        }
        fn install_working_keys(&self, _keys: WorkingKeys) -> Result<(), PosError> {
            Err(PosError::device(
                "KEY_MODULE",
                "密钥模块未就绪".into(),
                "key module not ready".into(),
            ))
        }
    }

    #[test]
    fn a_failing_mac_is_remembered() {
        let adapter = KeyProviderMac::new(Arc::new(Broken));
        assert_eq!(adapter.mac(b"abc"), [0; 8]);
        assert!(adapter.take_failure());
        assert!(!adapter.take_failure(), "cleared once taken");
    }

    #[test]
    fn a_refused_key_installation_is_a_clear_error() {
        let e = key_install_failed(&PosError::device(
            "KEY_CHECK_VALUE",
            "校验值不符".into(),
            "check value mismatch".into(),
        ));
        assert_eq!(e.code(), "KEY_INSTALL_FAILED");
        assert!(
            e.to_string().contains("KEY_CHECK_VALUE") && e.to_string().contains("sign on again"),
            "{e}"
        );
    }
}
