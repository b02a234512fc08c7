//! [`TcpHostLink`]: the engine's [`HostLink`] over a TCP connection to a UnionPay-style host.
//!
//! One exchange at a time (a mutex around the connection): build the 8583 message
//! ([`crate::mapping`]), MAC it through a [`MacKey`], frame it with the TPDU and header, send it,
//! then read frames until the reply to *this* request arrives or the read timeout passes.
//!
//! - Connect failure or connect timeout: [`LinkError::NotSent`].
//! - Sent, then timeout, reset or a broken frame: [`LinkError::NoAnswer`].
//! - A frame whose TPDU is not the request's swapped, whose MTI is not the request's + 10, or
//!   whose F11/F41/F42 differ (a late reply to an earlier exchange, a duplicate, a foreign
//!   reply) is logged and ignored; reading goes on until the timeout.
//! - A reply whose MAC does not check out comes back with `mac_valid = false`; a header with
//!   处理要求 = 3 sets `sign_on_requested`.
//! - A sign-on reply's working keys are kept ([`TcpHostLink::last_working_keys`]) and, with a
//!   master key configured, the MAC key is decrypted from them and used from then on.
//!
//! The connection is kept between exchanges, so a reply that arrives after its timeout is read
//! (and ignored) during a later exchange. PIN and track data are never logged: only the MTI,
//! F11 and the request's description.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex as StdMutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use poscore::host::{HostReply, HostRequest};
use poscore::ids::{BatchNumber, TraceNumber};
use poscore_iso8583::frame::frame;
use poscore_iso8583::{
    FrameReader, Header, MacAlgorithm, Message, ProcessingRequirement, Profile, Tpdu,
    check_reply_tpdu, decode, mac, unionpay_pos,
};
use poscore_terminal::{HostLink, LinkError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use crate::keys::{MacKey, SoftwareMacKey, decrypt_key};
use crate::mapping::{
    MappingError, WireContext, WorkingKeys, from_message, to_message, working_keys,
};

/// How to reach the host and frame messages for it.
#[derive(Clone)]
pub struct LinkConfig {
    /// `host:port`.
    pub address: String,
    /// How long to wait for the TCP connection.
    pub connect_timeout: Duration,
    /// How long to wait for the reply once the request is sent.
    pub read_timeout: Duration,
    /// The TPDU of requests (the host answers with the addresses swapped).
    pub tpdu: Tpdu,
    /// The header of requests.
    pub header: Header,
    /// The terminal master key: when set, the MAC key of each approved sign-on reply is
    /// decrypted under it and replaces the current one.
    pub master_key: Option<Vec<u8>>,
    /// The MAC algorithm of keys installed from a sign-on.
    pub mac_algorithm: MacAlgorithm,
    /// F60.2 of sign-ons (the current batch).
    pub batch: BatchNumber,
}

impl std::fmt::Debug for LinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkConfig")
            .field("address", &self.address)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("tpdu", &self.tpdu)
            .field("master_key", &self.master_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// The TPDU of requests by default: `60 0003 0000`.
pub fn default_tpdu() -> Tpdu {
    Tpdu::new([0x00, 0x03], [0x00, 0x00])
}

/// The header of requests by default: magnetic stripe (`60`), version `31`, no status.
pub fn default_header() -> Header {
    Header::new(0x60, 0x31, 0, ProcessingRequirement::None, [0, 0, 0])
}

impl LinkConfig {
    /// A configuration for `address` with 5 s connect and 30 s read timeouts, the default
    /// TPDU and header, and the CUP ECB MAC.
    pub fn new(address: impl Into<String>) -> LinkConfig {
        LinkConfig {
            address: address.into(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            tpdu: default_tpdu(),
            header: default_header(),
            master_key: None,
            mac_algorithm: MacAlgorithm::CupEcb,
            batch: BatchNumber::FIRST,
        }
    }
}

struct Connection {
    stream: TcpStream,
    reader: FrameReader,
}

/// The host link over TCP. See the module documentation.
pub struct TcpHostLink {
    config: LinkConfig,
    profile: Profile,
    mac_key: RwLock<Arc<dyn MacKey>>,
    connection: tokio::sync::Mutex<Option<Connection>>,
    settlement_stan: AtomicU32,
    last_keys: StdMutex<Option<WorkingKeys>>,
}

impl std::fmt::Debug for TcpHostLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpHostLink")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn not_sent(what: impl std::fmt::Display) -> LinkError {
    LinkError::NotSent(what.to_string())
}

fn no_answer(what: impl std::fmt::Display) -> LinkError {
    LinkError::NoAnswer(what.to_string())
}

impl TcpHostLink {
    /// A link signing messages with `mac_key` until a sign-on installs another one.
    pub fn new(config: LinkConfig, mac_key: Arc<dyn MacKey>) -> TcpHostLink {
        TcpHostLink {
            config,
            profile: unionpay_pos(),
            mac_key: RwLock::new(mac_key),
            connection: tokio::sync::Mutex::new(None),
            settlement_stan: AtomicU32::new(1),
            last_keys: StdMutex::new(None),
        }
    }

    /// Replaces the MAC key (for a key from a secure module after sign-on).
    pub fn set_mac_key(&self, key: Arc<dyn MacKey>) {
        *self.mac_key.write().unwrap_or_else(|e| e.into_inner()) = key;
    }

    /// The working keys of the last approved sign-on reply, still encrypted.
    pub fn last_working_keys(&self) -> Option<WorkingKeys> {
        self.last_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn key(&self) -> Arc<dyn MacKey> {
        self.mac_key
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn next_settlement_stan(&self) -> TraceNumber {
        let n = self.settlement_stan.fetch_add(1, Ordering::Relaxed);
        TraceNumber::new(n % 999_999 + 1).unwrap_or(TraceNumber::FIRST)
    }

    /// Builds the framed bytes of `request`, and the message (to match the reply against).
    fn build(&self, request: &HostRequest) -> Result<(Message, Vec<u8>, bool), LinkError> {
        let settlement_stan = if matches!(request, HostRequest::Settlement(_)) {
            self.next_settlement_stan()
        } else {
            TraceNumber::FIRST
        };
        let context = WireContext {
            settlement_stan,
            batch: self.config.batch,
        };
        let message = to_message(request, &context).map_err(not_sent)?;
        let signed = !matches!(request, HostRequest::SignOn { .. });
        let body = if signed {
            let key = self.key();
            mac::sign(&message, &self.profile, |data| Ok(key.mac(data))).map_err(not_sent)?
        } else {
            poscore_iso8583::encode(&message, &self.profile).map_err(not_sent)?
        };
        let bytes = frame(&self.config.tpdu, &self.config.header, &body).map_err(not_sent)?;
        Ok((message, bytes, signed))
    }

    async fn connect(&self) -> Result<Connection, LinkError> {
        let stream = match timeout(
            self.config.connect_timeout,
            TcpStream::connect(&self.config.address),
        )
        .await
        {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return Err(not_sent(format!(
                    "cannot connect to {}: {e}",
                    self.config.address
                )));
            }
            Err(_) => {
                return Err(not_sent(format!(
                    "no connection to {} within {:?}",
                    self.config.address, self.config.connect_timeout
                )));
            }
        };
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            reader: FrameReader::default(),
        })
    }

    /// Whether a kept connection is still usable; bytes waiting on it (late replies) go into
    /// its reader, to be recognized and ignored.
    fn still_open(connection: &mut Connection) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match connection.stream.try_read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => connection.reader.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        }
    }

    /// Handles one frame: `Some` if it is the reply to `request`.
    fn accept(
        &self,
        frame: poscore_iso8583::Frame,
        request: &Message,
        signed: bool,
    ) -> Option<Result<HostReply, LinkError>> {
        let trace = request.get_text(11).unwrap_or("?");
        if let Err(e) = check_reply_tpdu(&self.config.tpdu, &frame.tpdu) {
            log::warn!(
                "host link: ignoring a frame while waiting for {} {trace}: {e}",
                request.mti
            );
            return None;
        }
        let reply = match decode(&frame.body, &self.profile) {
            Ok(reply) => reply,
            Err(e) => {
                log::warn!(
                    "host link: ignoring an undecodable frame while waiting for {} {trace}: {e}",
                    request.mti
                );
                return None;
            }
        };
        let mut answer = match from_message(&reply, request) {
            Ok(answer) => answer,
            Err(e) if e.is_foreign_reply() => {
                log::warn!(
                    "host link: late or foreign reply {} {} ignored while waiting for {} {trace}: {e}",
                    reply.mti,
                    reply.get_text(11).unwrap_or("?"),
                    request.mti
                );
                return None;
            }
            Err(e @ MappingError::BadField { .. }) | Err(e @ MappingError::Incomplete { .. }) => {
                return Some(Err(no_answer(format!(
                    "the reply to {} {trace} is unusable: {e}",
                    request.mti
                ))));
            }
            Err(e) => return Some(Err(no_answer(e))),
        };
        if signed {
            let key = self.key();
            answer.mac_valid = mac::verify(&frame.body, |data| Ok(key.mac(data))).is_ok();
            if !answer.mac_valid {
                log::warn!(
                    "host link: the reply to {} {trace} has a bad or missing MAC",
                    request.mti
                );
            }
        }
        answer.sign_on_requested = frame.header.requires_sign_on();
        if request.mti.as_str() == "0800" && answer.response_code.is_approved() {
            self.install_keys(&reply, &mut answer);
        }
        Some(Ok(answer))
    }

    fn install_keys(&self, reply: &Message, answer: &mut HostReply) {
        let Some(keys) = working_keys(reply) else {
            log::warn!("host link: the sign-on reply carries no working keys in F62");
            return;
        };
        if let Some(master) = &self.config.master_key {
            let installed = decrypt_key(master, &keys.mac_key, keys.mac_check)
                .and_then(|clear| SoftwareMacKey::new(self.config.mac_algorithm, &clear));
            match installed {
                Ok(key) => self.set_mac_key(Arc::new(key)),
                Err(e) => {
                    log::error!("host link: the sign-on's MAC key was not installed: {e}");
                    answer.mac_valid = false;
                }
            }
        }
        *self.last_keys.lock().unwrap_or_else(|e| e.into_inner()) = Some(keys);
    }
}

#[async_trait]
impl HostLink for TcpHostLink {
    async fn exchange(&self, request: &HostRequest) -> Result<HostReply, LinkError> {
        let (message, bytes, signed) = self.build(request)?;
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_mut()
            && !Self::still_open(connection)
        {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(self.connect().await?);
        }
        let Some(connection) = slot.as_mut() else {
            return Err(not_sent("no connection"));
        };
        log::info!(
            "host link: → {} ({} {})",
            request.describe(),
            message.mti,
            message.get_text(11).unwrap_or("?")
        );
        let deadline = Instant::now() + self.config.read_timeout;
        let written = timeout_at(deadline, connection.stream.write_all(&bytes)).await;
        if !matches!(written, Ok(Ok(()))) {
            *slot = None;
            return Err(no_answer(format!("sending {} failed", request.describe())));
        }
        let mut buf = vec![0u8; 4096];
        loop {
            match connection.reader.next_frame() {
                Ok(Some(frame)) => {
                    if let Some(result) = self.accept(frame, &message, signed) {
                        if result.is_err() {
                            *slot = None;
                        }
                        return result;
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    *slot = None;
                    return Err(no_answer(format!(
                        "the host's byte stream is out of step: {e}"
                    )));
                }
            }
            match timeout_at(deadline, connection.stream.read(&mut buf)).await {
                Ok(Ok(0)) => {
                    *slot = None;
                    return Err(no_answer(format!(
                        "the host closed the connection before answering {}",
                        request.describe()
                    )));
                }
                Ok(Ok(n)) => connection.reader.push(&buf[..n]),
                Ok(Err(e)) => {
                    *slot = None;
                    return Err(no_answer(format!(
                        "reading the answer to {} failed: {e}",
                        request.describe()
                    )));
                }
                Err(_) => {
                    // Keep the connection: a late reply will be recognized and ignored.
                    return Err(no_answer(format!(
                        "no answer to {} within {:?}",
                        request.describe(),
                        self.config.read_timeout
                    )));
                }
            }
        }
    }
}
