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
//!
//! With [`LinkConfig::tls`] set (and the cargo feature `tls`) the connection is TLS (rustls,
//! ring): the connect timeout covers the TCP connection and the handshake, and a handshake that
//! fails (unknown CA, wrong name, no TLS on the other side) is [`LinkError::NotSent`] with
//! rustls' reason. Before each exchange a kept connection is polled once without waiting
//! (plain or TLS alike): bytes already there (late replies) go into the frame reader, an end
//! of stream or an error drops the connection and a new one is made.

use std::pin::Pin;
use std::sync::{Arc, Mutex as StdMutex, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_trait::async_trait;
use poscore::host::{HostReply, HostRequest};

use poscore_iso8583::frame::frame;
use poscore_iso8583::{
    FrameReader, Header, MacAlgorithm, Message, ProcessingRequirement, Profile, Tpdu,
    check_reply_tpdu, decode, mac, unionpay_pos,
};
use poscore_terminal::{HostLink, LinkError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use crate::keys::{MacKey, SoftwareMacKey, decrypt_key};
use crate::mapping::{
    MappingError, WireOptions, WorkingKeys, from_message, to_message, working_keys,
};
use crate::tls::TlsSettings;

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
    /// TLS to the host; `None` (the default) is plain TCP.
    pub tls: Option<TlsSettings>,
    /// The wire details the acquirer decides (the batch-upload end code).
    pub wire: WireOptions,
}

impl std::fmt::Debug for LinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkConfig")
            .field("address", &self.address)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("tpdu", &self.tpdu)
            .field("master_key", &self.master_key.as_ref().map(|_| "<set>"))
            .field("tls", &self.tls)
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
            tls: None,
            wire: WireOptions::default(),
        }
    }
}

/// A byte stream to the host: plain TCP or TLS over it.
trait HostStream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> HostStream for T {}

struct Connection {
    stream: Box<dyn HostStream>,
    reader: FrameReader,
}

/// The host link over TCP. See the module documentation.
pub struct TcpHostLink {
    config: LinkConfig,
    profile: Profile,
    mac_key: RwLock<Arc<dyn MacKey>>,
    connection: tokio::sync::Mutex<Option<Connection>>,
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

    /// Builds the framed bytes of `request`, and the message (to match the reply against).
    fn build(&self, request: &HostRequest) -> Result<(Message, Vec<u8>, bool), LinkError> {
        let message = to_message(request, &self.config.wire).map_err(not_sent)?;
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

    /// Connects (and with TLS, shakes hands) within the connect timeout.
    async fn connect(&self) -> Result<Connection, LinkError> {
        let address = &self.config.address;
        let within = self.config.connect_timeout;
        let stream = match timeout(within, self.open_stream()).await {
            Ok(result) => result?,
            Err(_) if self.config.tls.is_some() => {
                return Err(not_sent(format!(
                    "no TLS connection to {address} within {within:?} (TCP connect and handshake)"
                )));
            }
            Err(_) => {
                return Err(not_sent(format!(
                    "no connection to {address} within {within:?}"
                )));
            }
        };
        Ok(Connection {
            stream,
            reader: FrameReader::default(),
        })
    }

    async fn open_stream(&self) -> Result<Box<dyn HostStream>, LinkError> {
        let address = &self.config.address;
        #[cfg(feature = "tls")]
        let tls = match &self.config.tls {
            Some(settings) => Some(
                crate::tls::client(settings, address)
                    .map_err(|e| not_sent(format!("TLS to {address}: {e}")))?,
            ),
            None => None,
        };
        #[cfg(not(feature = "tls"))]
        if self.config.tls.is_some() {
            return Err(not_sent(crate::tls::NO_TLS));
        }
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| not_sent(format!("cannot connect to {address}: {e}")))?;
        let _ = stream.set_nodelay(true);
        #[cfg(feature = "tls")]
        if let Some((connector, name)) = tls {
            let shown = self
                .config
                .tls
                .as_ref()
                .map(|t| t.name_for(address))
                .unwrap_or_default();
            let stream = connector.connect(name, stream).await.map_err(|e| {
                not_sent(format!(
                    "TLS handshake with {address} (server name {shown:?}) failed: {e}"
                ))
            })?;
            return Ok(Box::new(stream));
        }
        Ok(Box::new(stream))
    }

    /// Whether a kept connection is still usable; bytes waiting on it (late replies) go into
    /// its reader, to be recognized and ignored.
    ///
    /// The stream is polled for reading once per chunk with a waker that does nothing: a read
    /// that would have to wait returns `Pending` at once (nothing more is there now: open),
    /// the end of the stream or an error means closed. This works the same for plain TCP and
    /// TLS (whose records only the TLS layer can take apart, so `try_read` on the socket would
    /// not do); a `Pending` leaves the stream ready to be polled again by a real read.
    fn still_open(connection: &mut Connection) -> bool {
        let mut context = Context::from_waker(Waker::noop());
        let mut buf = [0u8; 1024];
        loop {
            let mut read = ReadBuf::new(&mut buf);
            match Pin::new(&mut connection.stream).poll_read(&mut context, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => return false,
                Poll::Ready(Ok(())) => connection.reader.push(read.filled()),
                Poll::Ready(Err(_)) => return false,
                Poll::Pending => return true,
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
        let stream = &mut connection.stream;
        let written = timeout_at(deadline, async move {
            stream.write_all(&bytes).await?;
            stream.flush().await
        })
        .await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncWriteExt, DuplexStream, duplex};

    fn connection(stream: impl HostStream + 'static) -> Connection {
        Connection {
            stream: Box::new(stream),
            reader: FrameReader::default(),
        }
    }

    /// Bytes waiting on the stream go into the reader; an end of stream is "closed".
    async fn late_bytes_are_taken_then_the_close_is_seen(
        mut connection: Connection,
        mut peer: impl AsyncWrite + Unpin,
    ) {
        assert!(
            TcpHostLink::still_open(&mut connection),
            "nothing waiting: open"
        );
        assert_eq!(connection.reader.pending(), 0);
        peer.write_all(b"late reply bytes").await.unwrap();
        peer.flush().await.unwrap();
        tokio::task::yield_now().await;
        assert!(
            TcpHostLink::still_open(&mut connection),
            "bytes waiting: still open"
        );
        assert_eq!(
            connection.reader.pending(),
            16,
            "the late bytes were read into the frame reader"
        );
        peer.shutdown().await.unwrap();
        drop(peer);
        tokio::task::yield_now().await;
        assert!(
            !TcpHostLink::still_open(&mut connection),
            "closed by the peer"
        );
    }

    #[tokio::test]
    async fn still_open_on_a_plain_stream() {
        let (ours, theirs): (DuplexStream, DuplexStream) = duplex(4096);
        late_bytes_are_taken_then_the_close_is_seen(connection(ours), theirs).await;
    }

    #[tokio::test]
    async fn still_open_on_a_tcp_stream() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ours = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (theirs, _) = listener.accept().await.unwrap();
        let mut connection = connection(ours);
        assert!(TcpHostLink::still_open(&mut connection));
        let mut theirs = theirs;
        theirs.write_all(b"late").await.unwrap();
        // The socket's readiness reaches tokio when its driver runs: give it a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpHostLink::still_open(&mut connection));
        assert_eq!(connection.reader.pending(), 4);
        drop(theirs);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!TcpHostLink::still_open(&mut connection));
    }

    #[cfg(feature = "tls")]
    #[tokio::test]
    async fn still_open_on_a_tls_stream() {
        use crate::tls::{TlsSettings, client, server};
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["host.test".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let acceptor = server(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
        let (connector, name) =
            client(&TlsSettings::pem(ca.pem().into_bytes()), "host.test:1").unwrap();
        let (ours, theirs) = duplex(64 * 1024);
        let (ours, theirs) = tokio::join!(connector.connect(name, ours), acceptor.accept(theirs));
        late_bytes_are_taken_then_the_close_is_seen(connection(ours.unwrap()), theirs.unwrap())
            .await;
    }

    #[cfg(not(feature = "tls"))]
    #[tokio::test]
    async fn without_the_feature_tls_is_refused_before_connecting() {
        let config = LinkConfig {
            tls: Some(TlsSettings::system()),
            ..LinkConfig::new("127.0.0.1:1")
        };
        let link = TcpHostLink::new(config, Arc::new(SoftwareMacKey::cup(&[1; 16]).unwrap()));
        let Err(LinkError::NotSent(why)) = link.connect().await else {
            panic!("TLS without the feature must not connect")
        };
        assert_eq!(why, "this build has no TLS; build with feature tls");
    }
}
