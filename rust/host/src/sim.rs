//! [`HostSim`]: a simulated UnionPay-style acquirer host on a TCP socket, speaking the same
//! framing, codec and MAC as [`crate::TcpHostLink`].
//!
//! It answers by the rules of the in-process `poscore_terminal::SimHost`, so the CLI's
//! documented behaviour stays the same over real TCP:
//!
//! | amount ends in | behaviour |
//! |---|---|
//! | `.05` / `.51` | declined, code 05 / 51 |
//! | `.63` | approved, but the answer's MAC is bad |
//! | `.68` | not processed, no answer (a timeout) |
//! | `.98` | approved, but the answer is never sent (lost) |
//! | anything else | approved, with an auth code (F38) and an RRN (F37) |
//!
//! Reversals of an approval it holds are answered 00 (and the approval released), of anything
//! else 25. Sign-ons are approved with working keys in F62 (encrypted under the configured
//! master key); advices approved; settlements balanced unless told otherwise. A request whose
//! MAC does not check out is answered `A0` and not processed.
//!
//! Faults are switched at runtime through [`HostSim`]'s methods (each applies to the next
//! reply, except [`HostSim::set_settlement_unbalanced`], which stays until cleared):
//! drop the reply, delay it, bad MAC, answer twice, close mid-frame, ask for a new sign-on,
//! decline with a code. The same switches are reachable:
//!
//! - from a fault script ([`HostSim::with_script`], [`crate::script`]): rules such as
//!   `mti 0100 #2 drop`, applied to the requests they name as they arrive;
//! - from a control port ([`HostSim::serve_control`]): one command per line (`drop`,
//!   `delay 5000ms`, `bad-mac`, `twice`, `close-mid-frame`, `sign-on`, `decline 51` for the
//!   next reply; `unbalanced` / `balanced` until changed; `status`), one reply line each.
//!
//! [`HostSim::serve_tls`] (feature `tls`) serves the same protocol over TLS.
//!
//! A ledger of approvals and reversals is kept in memory, and optionally appended to a
//! JSON-lines file (same format as `SimHost::with_ledger`), fsync'd before the answer leaves.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poscore::ids::{BatchNumber, TraceNumber};
use poscore::txn::TxnKind;
use poscore_iso8583::frame::frame;
use poscore_iso8583::{
    FrameReader, Header, Message, ProcessingRequirement, Profile, decode, encode, mac, unionpay_pos,
};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

use crate::keys::{KeyError, MacKey, SoftwareMacKey, check_value, encrypt_key};
use crate::mapping::{WorkingKeys, kind_of, parse_settlement_f48, settlement_f48};
use crate::script::{ACTION_FORMS, Action, Script, ScriptRunner};

/// The simulator's keys.
#[derive(Clone)]
pub struct SimConfig {
    /// The MAC key it checks requests and signs replies with.
    pub mac_key: Vec<u8>,
    /// The terminal master key the sign-on's working keys are encrypted under.
    pub master_key: Vec<u8>,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimConfig { .. }")
    }
}

/// Test keys: a fixed 16-byte MAK and TMK. For tests and demos only.
impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            mac_key: b"\x01\x23\x45\x67\x89\xAB\xCD\xEF\xFE\xDC\xBA\x98\x76\x54\x32\x10".to_vec(),
            master_key: vec![0x11; 16],
        }
    }
}

#[derive(Default)]
struct Switches {
    drop_next: bool,
    delay_next: Option<Duration>,
    bad_mac_next: bool,
    twice_next: bool,
    close_mid_frame_next: bool,
    sign_on_next: bool,
    settlement_unbalanced: bool,
    /// The next reply carries this response code and nothing is approved.
    decline_next: Option<String>,
    /// A settlement reply's balance for this reply only (from a script).
    settlement_once: Option<bool>,
}

impl Switches {
    /// Sets the switch of `action` for the next reply. `unbalanced` / `balanced` stay (the
    /// runtime switch) when `persistent`, else apply to this reply only (a script's rule).
    fn set(&mut self, action: &Action, persistent: bool) {
        match action {
            Action::Drop => self.drop_next = true,
            Action::Delay(d) => self.delay_next = Some(*d),
            Action::BadMac => self.bad_mac_next = true,
            Action::Twice => self.twice_next = true,
            Action::CloseMidFrame => self.close_mid_frame_next = true,
            Action::SignOn => self.sign_on_next = true,
            Action::Unbalanced | Action::Balanced => {
                let unbalanced = *action == Action::Unbalanced;
                if persistent {
                    self.settlement_unbalanced = unbalanced;
                } else {
                    self.settlement_once = Some(unbalanced);
                }
            }
            Action::Decline(code) => self.decline_next = Some(code.clone()),
        }
    }

    /// Adds a script's switches for one reply to these.
    fn merge(&mut self, other: Switches) {
        self.drop_next |= other.drop_next;
        self.delay_next = other.delay_next.or(self.delay_next);
        self.bad_mac_next |= other.bad_mac_next;
        self.twice_next |= other.twice_next;
        self.close_mid_frame_next |= other.close_mid_frame_next;
        self.sign_on_next |= other.sign_on_next;
    }
}

/// What a script or the switches change in the answer itself.
#[derive(Default)]
struct Overrides {
    /// Answer with this code; nothing approved or released.
    decline: Option<String>,
    /// A settlement's balance, instead of the runtime switch.
    unbalanced: Option<bool>,
}

#[derive(Default)]
struct Ledger {
    approved: HashMap<(BatchNumber, TraceNumber), u64>,
    reversed: u64,
    next_auth: u32,
    next_rrn: u64,
    requests_seen: u64,
    batch_upload_records: u64,
    batch_upload_ends: u64,
    file: Option<File>,
}

struct Shared {
    mac_key: SoftwareMacKey,
    working_keys: WorkingKeys,
    profile: Profile,
    switches: Mutex<Switches>,
    ledger: Mutex<Ledger>,
    script: Mutex<Option<ScriptRunner>>,
}

/// The simulated host. Cheap to clone: clones share state, switches and ledger.
#[derive(Clone)]
pub struct HostSim {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HostSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostSim { .. }")
    }
}

/// What to send back for one request.
enum Answer {
    /// Nothing (not processed, or lost).
    Silent,
    /// This reply message, with these header bits.
    Reply { message: Message, bad_mac: bool },
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HostSim {
    /// A host with `config`'s keys.
    pub fn new(config: SimConfig) -> Result<HostSim, KeyError> {
        let mac_key = SoftwareMacKey::cup(&config.mac_key)?;
        let pin_key = [0x5Au8; 16];
        let working_keys = WorkingKeys {
            pin_key: encrypt_key(&config.master_key, &pin_key)?,
            pin_check: check_value(&pin_key)?,
            mac_key: encrypt_key(&config.master_key, &config.mac_key)?,
            mac_check: check_value(&config.mac_key)?,
            track_key: None,
        };
        Ok(HostSim {
            shared: Arc::new(Shared {
                mac_key,
                working_keys,
                profile: unionpay_pos(),
                switches: Mutex::new(Switches::default()),
                ledger: Mutex::new(Ledger {
                    next_auth: 1,
                    next_rrn: 1,
                    ..Ledger::default()
                }),
                script: Mutex::new(None),
            }),
        })
    }

    /// Appends every approval and reversal to a JSON-lines ledger at `path` (the format of
    /// `SimHost::with_ledger`), fsync'd before the answer leaves. An existing ledger is read
    /// first, so a restarted host still answers reversals of its approvals with 00.
    pub fn with_ledger(self, path: &Path) -> std::io::Result<HostSim> {
        let existing = std::fs::read_to_string(path).ok();
        {
            let mut ledger = lock(&self.shared.ledger);
            for entry in existing
                .iter()
                .flat_map(|t| t.lines())
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            {
                let field = |k: &str| {
                    entry
                        .get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string()
                };
                let (Ok(batch), Ok(trace)) = (
                    BatchNumber::parse(&field("batch")),
                    TraceNumber::parse(&field("trace")),
                ) else {
                    continue;
                };
                let amount = entry
                    .get("amount_minor")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                match field("event").as_str() {
                    "approved" => {
                        ledger.approved.insert((batch, trace), amount);
                        ledger.next_auth += 1;
                        ledger.next_rrn += 1;
                    }
                    "reversed" => {
                        ledger.approved.remove(&(batch, trace));
                    }
                    _ => {}
                }
            }
            let mut file = OpenOptions::new().create(true).append(true).open(path)?;
            if existing.is_some_and(|t| !t.is_empty() && !t.ends_with('\n')) {
                file.write_all(b"\n")?;
            }
            ledger.file = Some(file);
        }
        Ok(self)
    }

    /// Applies `script`'s rules to the requests from now on (replacing an earlier script);
    /// its request count starts at the next request.
    pub fn with_script(self, script: Script) -> HostSim {
        *lock(&self.shared.script) = Some(ScriptRunner::new(script));
        self
    }

    /// Listens on `addr` and serves every connection in the background; returns the bound
    /// address (use port 0 for any free port).
    pub async fn serve(&self, addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let sim = self.clone();
        accept_forever(listener, "", move |stream, peer| {
            let sim = sim.clone();
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                if let Err(e) = sim.connection(stream).await {
                    log::info!("host-sim: connection from {peer} ended: {e}");
                }
            });
        });
        Ok(local)
    }

    /// Listens on `addr` and serves every connection over TLS with this certificate chain
    /// (PEM, the server's certificate first) and private key (PEM: PKCS#8, PKCS#1 or SEC1);
    /// returns the bound address. A bad certificate or key is an `InvalidInput` error here;
    /// a client whose handshake fails is logged and dropped.
    #[cfg(feature = "tls")]
    pub async fn serve_tls(
        &self,
        addr: impl ToSocketAddrs,
        cert_chain_pem: &[u8],
        key_pem: &[u8],
    ) -> std::io::Result<SocketAddr> {
        let acceptor = crate::tls::server(cert_chain_pem, key_pem)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let sim = self.clone();
        accept_forever(listener, "", move |stream, peer| {
            let sim = sim.clone();
            let acceptor = acceptor.clone();
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let stream =
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            log::info!("host-sim: TLS handshake with {peer} failed: {e}");
                            return;
                        }
                        Err(_) => {
                            log::info!("host-sim: no TLS handshake from {peer} within 10 s");
                            return;
                        }
                    };
                if let Err(e) = sim.connection(stream).await {
                    log::info!("host-sim: TLS connection from {peer} ended: {e}");
                }
            });
        });
        Ok(local)
    }

    /// Listens on `addr` for control connections (see [`control_reply`]) and serves them in
    /// the background; returns the bound address.
    pub async fn serve_control(&self, addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let sim = self.clone();
        accept_forever(listener, "control ", move |stream, peer| {
            log::debug!("host-sim: control connection from {peer}");
            tokio::spawn(sim.clone().control_connection(stream));
        });
        Ok(local)
    }

    async fn control_connection(self, stream: TcpStream) {
        let (reader, mut writer) = stream.into_split();
        // Commands are a few bytes: a connection is read up to 64 KiB in all, then closed.
        let mut lines = BufReader::new(reader.take(64 * 1024)).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut reply = control_reply(self.clone(), &line);
            log::debug!("host-sim: control {line:?} -> {reply}");
            reply.push('\n');
            if writer.write_all(reply.as_bytes()).await.is_err() {
                break;
            }
        }
    }

    /// Applies `action` to the next reply, as the control port does (`unbalanced` and
    /// `balanced` stay until changed).
    pub fn apply_to_next_reply(&self, action: &Action) {
        lock(&self.shared.switches).set(action, true);
    }

    /// The next reply carries response code `code` (e.g. `51`); nothing is approved.
    pub fn decline_next_reply(&self, code: &str) {
        lock(&self.shared.switches).decline_next = Some(code.to_string());
    }

    /// The counters, as the control port's `status` reply: one JSON object.
    pub fn status_json(&self) -> String {
        let ledger = lock(&self.shared.ledger);
        let unbalanced = lock(&self.shared.switches).settlement_unbalanced;
        serde_json::json!({
            "requests": ledger.requests_seen,
            "approvals_held": ledger.approved.len(),
            "reversals": ledger.reversed,
            "batch_upload_records": ledger.batch_upload_records,
            "batch_upload_ends": ledger.batch_upload_ends,
            "settlement_unbalanced": unbalanced,
        })
        .to_string()
    }

    /// The next reply is not sent (the request is processed: an approval stands).
    pub fn drop_next_reply(&self) {
        lock(&self.shared.switches).drop_next = true;
    }

    /// The next reply is sent only after `delay`.
    pub fn delay_next_reply(&self, delay: Duration) {
        lock(&self.shared.switches).delay_next = Some(delay);
    }

    /// The next reply carries a bad MAC.
    pub fn bad_mac_next_reply(&self) {
        lock(&self.shared.switches).bad_mac_next = true;
    }

    /// The next reply is sent twice.
    pub fn answer_next_twice(&self) {
        lock(&self.shared.switches).twice_next = true;
    }

    /// The next reply is cut in the middle of its frame and the connection closed.
    pub fn close_mid_frame_next(&self) {
        lock(&self.shared.switches).close_mid_frame_next = true;
    }

    /// The next reply's header asks the terminal to sign on again (处理要求 = 3).
    pub fn request_sign_on_next(&self) {
        lock(&self.shared.switches).sign_on_next = true;
    }

    /// Settlements are reported unbalanced (不平) while set.
    pub fn set_settlement_unbalanced(&self, unbalanced: bool) {
        lock(&self.shared.switches).settlement_unbalanced = unbalanced;
    }

    /// Whether the host holds an approval for (batch, trace) that was not reversed.
    pub fn holds(&self, batch: BatchNumber, trace: TraceNumber) -> bool {
        lock(&self.shared.ledger)
            .approved
            .contains_key(&(batch, trace))
    }

    /// How many approvals the host holds.
    pub fn approvals_held(&self) -> usize {
        lock(&self.shared.ledger).approved.len()
    }

    /// How many reversals released an approval.
    pub fn reversals(&self) -> u64 {
        lock(&self.shared.ledger).reversed
    }

    /// How many requests reached the host.
    pub fn requests_seen(&self) -> u64 {
        lock(&self.shared.ledger).requests_seen
    }

    /// How many batch-upload records (0320, 60.3 ≠ end) reached the host.
    pub fn batch_upload_records(&self) -> u64 {
        lock(&self.shared.ledger).batch_upload_records
    }

    /// How many batch-upload end messages (0320, 60.3 = end) reached the host.
    pub fn batch_upload_ends(&self) -> u64 {
        lock(&self.shared.ledger).batch_upload_ends
    }

    /// The switches a script sets for `request` (none without a script).
    fn scripted(&self, request: &Message) -> Switches {
        let mut switches = Switches::default();
        let mut script = lock(&self.shared.script);
        let Some(runner) = script.as_mut() else {
            return switches;
        };
        for rule in runner.on_request(request.mti.as_str(), request.get_numeric(4)) {
            log::info!(
                "host-sim: script line {} ({} {}) applies to {} {}",
                rule.line,
                rule.when,
                rule.action,
                request.mti,
                request.get_text(11).unwrap_or("?")
            );
            switches.set(&rule.action, false);
        }
        switches
    }

    async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut stream: S,
    ) -> std::io::Result<()> {
        let mut reader = FrameReader::default();
        let mut buf = vec![0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            reader.push(&buf[..n]);
            loop {
                let frame = match reader.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
                };
                let request = match decode(&frame.body, &self.shared.profile) {
                    Ok(m) => m,
                    Err(e) => {
                        log::warn!("host-sim: undecodable request ignored: {e}");
                        continue;
                    }
                };
                let mac_ok = request.mti.as_str() == "0800"
                    || mac::verify(&frame.body, |d| Ok(self.shared.mac_key.mac(d))).is_ok();
                let scripted = self.scripted(&request);
                let pending_decline = lock(&self.shared.switches).decline_next.clone();
                let overrides = Overrides {
                    decline: scripted.decline_next.clone().or(pending_decline),
                    unbalanced: scripted.settlement_once,
                };
                let answer = self.answer(&request, mac_ok, &overrides);
                // A request left unanswered keeps the runtime switches for the next reply (a
                // script's rules for it lapse).
                let Answer::Reply { message, bad_mac } = answer else {
                    continue;
                };
                let mut switches = std::mem::take(&mut *lock(&self.shared.switches));
                lock(&self.shared.switches).settlement_unbalanced = switches.settlement_unbalanced;
                switches.merge(scripted);
                if switches.drop_next {
                    log::info!(
                        "host-sim: dropping the reply {} {}",
                        message.mti,
                        message.get_text(11).unwrap_or("?")
                    );
                    continue;
                }
                let requirement = if switches.sign_on_next {
                    ProcessingRequirement::SignOnAgain
                } else {
                    ProcessingRequirement::None
                };
                let h = frame.header;
                let header = Header::new(
                    h.application(),
                    h.0[1],
                    0,
                    requirement,
                    [h.0[3], h.0[4], h.0[5]],
                );
                let body =
                    self.reply_body(&message, request.has(64), bad_mac || switches.bad_mac_next);
                let bytes = frame_bytes(&frame.tpdu.swapped(), &header, &body)?;
                if let Some(delay) = switches.delay_next {
                    tokio::time::sleep(delay).await;
                }
                if switches.close_mid_frame_next {
                    stream.write_all(&bytes[..bytes.len() / 2]).await?;
                    stream.flush().await?;
                    return Ok(());
                }
                stream.write_all(&bytes).await?;
                if switches.twice_next {
                    stream.write_all(&bytes).await?;
                }
                // A TLS stream may hold the records until flushed.
                stream.flush().await?;
            }
        }
    }

    fn reply_body(&self, message: &Message, signed: bool, bad_mac: bool) -> Vec<u8> {
        let body = if signed {
            mac::sign(message, &self.shared.profile, |d| {
                Ok(self.shared.mac_key.mac(d))
            })
        } else {
            encode(message, &self.shared.profile).map_err(Into::into)
        };
        let mut body = body.unwrap_or_else(|e| {
            log::error!("host-sim: cannot encode the reply: {e}");
            Vec::new()
        });
        if bad_mac && let Some(last) = body.last_mut() {
            *last ^= 0x01;
        }
        body
    }

    /// Decides and records the answer to `request`.
    fn answer(&self, request: &Message, mac_ok: bool, overrides: &Overrides) -> Answer {
        let Some(mti) = request.mti.response() else {
            return Answer::Silent;
        };
        let mut reply = Message::new(mti);
        for field in [3, 4, 11, 25, 41, 42, 49, 60, 61] {
            if let Some(v) = request.fields.get(&field) {
                reply.fields.insert(field, v.clone());
            }
        }
        let mut ledger = lock(&self.shared.ledger);
        ledger.requests_seen += 1;
        if !mac_ok {
            log::warn!(
                "host-sim: request {} {} has a bad MAC: A0",
                request.mti,
                request.get_text(11).unwrap_or("?")
            );
            reply.set_text(39, "A0");
            return Answer::Reply {
                message: reply,
                bad_mac: false,
            };
        }
        if let Some(code) = &overrides.decline {
            log::info!(
                "host-sim: answering {} {} with {code} (fault switch)",
                request.mti,
                request.get_text(11).unwrap_or("?")
            );
            reply.set_text(39, code);
            return Answer::Reply {
                message: reply,
                bad_mac: false,
            };
        }
        let batch = request
            .get_text(60)
            .and_then(|t| t.get(2..8))
            .and_then(|t| BatchNumber::parse(t).ok());
        let trace = request
            .get_text(11)
            .and_then(|t| TraceNumber::parse(t).ok());
        let amount = request.get_numeric(4).unwrap_or(0);
        let mut bad_mac = false;
        match request.mti.as_str() {
            "0800" => {
                reply
                    .set_text(39, "00")
                    .set_binary(62, &self.shared.working_keys.to_bytes());
            }
            "0100" | "0200" => {
                let (Some(batch), Some(trace)) = (batch, trace) else {
                    reply.set_text(39, "30");
                    return Answer::Reply {
                        message: reply,
                        bad_mac,
                    };
                };
                let kind = kind_of(request).unwrap_or(TxnKind::PreAuth);
                match amount % 100 {
                    5 => {
                        reply.set_text(39, "05");
                    }
                    51 => {
                        reply.set_text(39, "51");
                    }
                    68 => return Answer::Silent,
                    cents => {
                        let (auth, rrn) = approve(&mut ledger, kind, batch, trace, amount);
                        reply
                            .set_text(39, "00")
                            .set_text(38, &auth)
                            .set_text(37, &rrn);
                        if cents == 98 {
                            return Answer::Silent;
                        }
                        bad_mac = cents == 63;
                    }
                }
            }
            "0220" => {
                reply.set_text(39, "00");
            }
            "0320" => {
                let network = request.get_text(60).and_then(|t| t.get(8..11));
                if crate::mapping::BatchUploadEndCode::ALL
                    .iter()
                    .any(|c| network == Some(c.as_str()))
                {
                    ledger.batch_upload_ends += 1;
                } else {
                    ledger.batch_upload_records += 1;
                }
                reply.set_text(39, "00");
            }
            "0400" => {
                let key = batch.zip(trace);
                match key.and_then(|k| ledger.approved.remove(&k).map(|a| (k, a))) {
                    Some(((batch, trace), amount)) => {
                        ledger.reversed += 1;
                        let kind = kind_of(request).unwrap_or(TxnKind::PreAuth);
                        record(&mut ledger, "reversed", kind, batch, trace, amount);
                        reply.set_text(39, "00");
                    }
                    None => {
                        reply.set_text(39, "25");
                    }
                }
            }
            "0500" => {
                let unbalanced = overrides
                    .unbalanced
                    .unwrap_or_else(|| lock(&self.shared.switches).settlement_unbalanced);
                let totals = request
                    .get_text(48)
                    .and_then(parse_settlement_f48)
                    .map(|(t, _)| t)
                    .unwrap_or_default();
                reply.set_text(39, "00").set_numeric(
                    48,
                    &settlement_f48(&totals, if unbalanced { '2' } else { '1' }),
                );
            }
            _ => {
                reply.set_text(39, "12");
            }
        }
        Answer::Reply {
            message: reply,
            bad_mac,
        }
    }
}

/// The control port's commands, for error replies.
pub const CONTROL_COMMANDS: &str = "drop, delay 5000ms, bad-mac, twice, close-mid-frame, sign-on, decline 51 (the next reply); unbalanced, balanced (until changed); status";

/// Executes one control line on `sim` and returns the reply line (without its newline):
///
/// | command | reply |
/// |---|---|
/// | an action (`drop`, `delay 5000ms`, `bad-mac`, `twice`, `close-mid-frame`, `sign-on`, `decline 51`) | `ok <action> next reply` |
/// | `unbalanced` / `balanced` | `ok settlements unbalanced` / `ok settlements balanced` (until changed) |
/// | `status` | `{"requests":N,"approvals_held":N,"reversals":N,"batch_upload_records":N,"batch_upload_ends":N,"settlement_unbalanced":B}` |
/// | anything else | `error <what>; commands: …` |
pub fn control_reply(sim: HostSim, line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [] => format!("error empty line; commands: {CONTROL_COMMANDS}"),
        ["status"] => sim.status_json(),
        words => match Action::parse(words) {
            Ok(action) => {
                sim.apply_to_next_reply(&action);
                match action {
                    Action::Unbalanced => "ok settlements unbalanced".to_string(),
                    Action::Balanced => "ok settlements balanced".to_string(),
                    action => format!("ok {action} next reply"),
                }
            }
            Err(crate::script::ScriptErrorKind::UnknownAction(word)) => {
                format!("error unknown command `{word}`; commands: {CONTROL_COMMANDS}")
            }
            Err(e) => format!("error {e}; the actions are {ACTION_FORMS}, and status"),
        },
    }
}

/// Accepts connections on `listener` in the background for as long as the runtime runs,
/// handing each to `serve`; a failed accept is logged (`what` names the port) and retried
/// after 50 ms.
fn accept_forever(
    listener: TcpListener,
    what: &'static str,
    serve: impl Fn(TcpStream, SocketAddr) + Send + 'static,
) {
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => serve(stream, peer),
                Err(e) => {
                    log::error!("host-sim: {what}accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    });
}

fn frame_bytes(
    tpdu: &poscore_iso8583::Tpdu,
    header: &Header,
    body: &[u8],
) -> std::io::Result<Vec<u8>> {
    frame(tpdu, header, body).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn approve(
    ledger: &mut Ledger,
    kind: TxnKind,
    batch: BatchNumber,
    trace: TraceNumber,
    amount: u64,
) -> (String, String) {
    let auth = format!("{:06}", ledger.next_auth % 1_000_000);
    let rrn = format!("{:012}", ledger.next_rrn);
    ledger.next_auth += 1;
    ledger.next_rrn += 1;
    ledger.approved.insert((batch, trace), amount);
    record(ledger, "approved", kind, batch, trace, amount);
    (auth, rrn)
}

fn record(
    ledger: &mut Ledger,
    event: &str,
    kind: TxnKind,
    batch: BatchNumber,
    trace: TraceNumber,
    amount_minor: u64,
) {
    if let Some(file) = ledger.file.as_mut() {
        let line = serde_json::json!({"event": event, "kind": kind.as_str(), "batch": batch.to_string(), "trace": trace.to_string(), "amount_minor": amount_minor});
        let written = file
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            log::error!("host-sim could not write its ledger: {e}");
        }
    }
}
