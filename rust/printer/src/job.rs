//! The job protocol over an ESC/POS byte link. A job counts as printed only when the
//! printer confirms it:
//!
//! 1. connect, or reuse the live connection (after any failure it is dropped and the next
//!    job opens a new one, so no late reply of a failed attempt is ever read as ours);
//! 2. ask the real-time status (`DLE EOT 1`–`4`, each reply awaited with
//!    [`JobConfig::status_timeout`]) and refuse a printer in a known fault
//!    ([`PrintError::Refused`]: no print data is sent);
//! 3. enable Automatic Status Back (`GS a 0xFF`) and read replies while sending;
//! 4. send the job, then `GS ( H` with a fresh 4-byte process ID (unique per attempt) when
//!    the profile supports it, else `GS r 1`;
//! 5. wait for the reply with our process ID (IDs of earlier attempts are ignored) or the
//!    `GS r` reply: only that makes the job printed ([`PrintReceipt`]);
//! 6. an ASB showing a fault, a closed link, a write error or the confirmation timeout fails
//!    the job with its cause; on a timeout `DLE EOT` is asked to name the cause (paper out,
//!    cover open, overheat, …), else the job is [`PrintError::NotConfirmed`];
//! 7. a watchdog ([`JobConfig::watchdog`]) bounds the whole job whatever happens.
//!
//! **Confirmation timeout.** The printer answers `GS ( H` / `GS r` only once everything
//! before it has printed, so the wait covers the transfer and the printing:
//! `confirm_timeout + bytes × 10 / baud` seconds (8N1: 10 bits a byte) when the link's baud
//! rate is known ([`JobConfig::baud`], else [`Connector::baud`]), else `confirm_timeout`.
//! It runs from the first byte sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use poscore_escpos::commands;
use poscore_escpos::document::DocumentError;
use poscore_escpos::{Document, PrinterStatus, Profile, Reply, ReplyParser, encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::condition::Condition;
use crate::transport::{BoxLink, Connector};

/// Timeouts of the job protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobConfig {
    /// The base wait for the confirmation, to which the transfer time at the link's baud
    /// rate is added (see the module documentation). Default 10 s.
    pub confirm_timeout: Duration,
    /// The wait for each `DLE EOT` reply. Default 2 s.
    pub status_timeout: Duration,
    /// Bounds a whole job, whatever happens. Default 60 s.
    pub watchdog: Duration,
    /// The link's baud rate, when the connector does not know it (e.g. a serial line behind
    /// a TCP bridge, or a simulated slow link).
    pub baud: Option<u32>,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            confirm_timeout: Duration::from_secs(10),
            status_timeout: Duration::from_secs(2),
            watchdog: Duration::from_secs(60),
            baud: None,
        }
    }
}

/// How far a job got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Nothing of the job was sent.
    BeforeSend,
    /// Part of the job may have been sent.
    Sending,
    /// All of it was sent; the confirmation did not come.
    AwaitingConfirmation,
}

impl Stage {
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Stage::BeforeSend => ("发送前", "before sending"),
            Stage::Sending => ("发送中", "while sending"),
            Stage::AwaitingConfirmation => ("等待确认时", "while awaiting the confirmation"),
        }
    }

    fn from_u8(value: u8) -> Stage {
        match value {
            0 => Stage::BeforeSend,
            1 => Stage::Sending,
            _ => Stage::AwaitingConfirmation,
        }
    }
}

/// Why a job is not printed. `Display` gives the operator's remedy in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    /// The printer was in a fault before the job: nothing was sent.
    #[error("{zh}（未发送）/ not sent: {en}", zh = .0.remedy().0, en = .0.remedy().1)]
    Refused(Condition),
    /// The job failed with this cause at this stage; the slip did not (completely) print.
    #[error(
        "{zh}（{stage_zh}失败）/ {en} (failed {stage_en}: {detail})",
        zh = condition.remedy().0, en = condition.remedy().1,
        stage_zh = stage.describe().0, stage_en = stage.describe().1
    )]
    Failed {
        /// The cause.
        condition: Condition,
        /// How far the job got.
        stage: Stage,
        /// What happened, for logs and support.
        detail: String,
    },
    /// The printer never confirmed the job and named no fault: the slip may or may not have
    /// printed. Check the printer; the job is sent again.
    #[error(
        "打印机在 {secs} 秒内未确认签购单：请检查打印机，签购单会自动补打 / the printer did not confirm the slip within {secs} s: check the printer; the slip will be printed again",
        secs = waited.as_secs_f32()
    )]
    NotConfirmed {
        /// How long the confirmation was awaited.
        waited: Duration,
    },
    /// The link cannot answer (a write-only file): the bytes were written, and the slip may
    /// have printed, but nothing confirms it. Never taken for printed.
    #[error(
        "打印数据已写出 {bytes} 字节，但无法确认是否打印 / {bytes} bytes written to {target}, but nothing can confirm that the slip printed"
    )]
    Unconfirmable {
        /// Bytes written.
        bytes: usize,
        /// Where they went.
        target: String,
    },
    /// The document cannot be encoded for this printer: nothing was sent.
    #[error("打印数据错误：请联系客服 / the slip cannot be printed as it is: {0}")]
    Document(DocumentError),
}

impl PrintError {
    /// The condition behind the error: the printer's fault, `CommunicationError` for a job
    /// the printer never confirmed, `Unknown` for an unconfirmable link, `DataError` for a
    /// document that cannot be encoded.
    pub fn condition(&self) -> Condition {
        match self {
            PrintError::Refused(condition) => *condition,
            PrintError::Failed { condition, .. } => *condition,
            PrintError::NotConfirmed { .. } => Condition::CommunicationError,
            PrintError::Unconfirmable { .. } => Condition::Unknown,
            PrintError::Document(_) => Condition::DataError,
        }
    }

    /// How far the job got (`BeforeSend` for a refusal or a bad document).
    pub fn stage(&self) -> Stage {
        match self {
            PrintError::Refused(_) | PrintError::Document(_) => Stage::BeforeSend,
            PrintError::Failed { stage, .. } => *stage,
            PrintError::NotConfirmed { .. } | PrintError::Unconfirmable { .. } => {
                Stage::AwaitingConfirmation
            }
        }
    }
}

/// A printed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintReceipt {
    /// The process ID the printer confirmed (`None` when confirmed with `GS r`).
    pub process_id: Option<[u8; 4]>,
    /// Bytes sent (the job and the protocol's requests around it).
    pub bytes_sent: usize,
    /// From the start of the job to the confirmation.
    pub elapsed: Duration,
}

/// What the reader task reports.
enum Event {
    Reply(Reply),
    Closed(String),
}

/// A live link: the write half, and the replies read by a task from the read half.
struct Connection {
    writer: WriteHalf<BoxLink>,
    events: mpsc::UnboundedReceiver<Event>,
    reader: JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Connection {
    fn new(link: BoxLink) -> Connection {
        let (reader, writer) = tokio::io::split(link);
        let (tx, events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_replies(reader, tx));
        Connection {
            writer,
            events,
            reader,
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes).await?;
        self.writer.flush().await
    }
}

async fn read_replies(mut reader: ReadHalf<BoxLink>, tx: mpsc::UnboundedSender<Event>) {
    let mut parser = ReplyParser::new();
    let mut buf = [0u8; 256];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => {
                let _ = tx.send(Event::Closed("the printer closed the connection".into()));
                return;
            }
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Event::Closed(format!(
                    "reading from the printer failed: {e}"
                )));
                return;
            }
        };
        for reply in parser.feed(&buf[..n]) {
            match reply {
                Ok(reply) => {
                    if tx.send(Event::Reply(reply)).is_err() {
                        return;
                    }
                }
                Err(e) => log::warn!("printer reply ignored: {e}"),
            }
        }
    }
}

/// A failure inside the protocol, before it is given its stage.
fn failed(condition: Condition, stage: Stage, detail: impl Into<String>) -> PrintError {
    PrintError::Failed {
        condition,
        stage,
        detail: detail.into(),
    }
}

fn link_failed(stage: Stage, detail: impl Into<String>) -> PrintError {
    failed(Condition::CommunicationError, stage, detail)
}

/// Asks `DLE EOT 1`–`4` one at a time and merges the replies.
async fn query_status(
    conn: &mut Connection,
    wait: Duration,
    stage: Stage,
) -> Result<PrinterStatus, PrintError> {
    let mut status = PrinterStatus::READY;
    for n in 1..=4u8 {
        conn.write(&commands::realtime_status(n))
            .await
            .map_err(|e| link_failed(stage, format!("sending DLE EOT {n}: {e}")))?;
        let deadline = tokio::time::Instant::now() + wait;
        let byte = loop {
            match tokio::time::timeout_at(deadline, conn.events.recv()).await {
                Err(_) => {
                    return Err(link_failed(
                        stage,
                        format!("no answer to DLE EOT {n} within {wait:?}"),
                    ));
                }
                Ok(None) => return Err(link_failed(stage, "the reply reader stopped")),
                Ok(Some(Event::Closed(why))) => return Err(link_failed(stage, why)),
                Ok(Some(Event::Reply(Reply::Realtime(byte)))) => break byte,
                Ok(Some(Event::Reply(other))) => {
                    log::debug!("while asking DLE EOT {n}: {other:?} ignored")
                }
            }
        };
        status.apply_realtime(n, byte).map_err(|e| {
            failed(
                Condition::CommunicationError,
                stage,
                format!("DLE EOT {n}: {e}"),
            )
        })?;
    }
    Ok(status)
}

/// The time `bytes` take at `baud` (8N1: 10 bits a byte).
pub fn transfer_time(bytes: usize, baud: u32) -> Duration {
    if baud == 0 {
        return Duration::ZERO;
    }
    Duration::from_micros((bytes as u64).saturating_mul(10_000_000) / u64::from(baud))
}

/// Process IDs: each byte in 0x20..=0x7E, 95⁴ values before they repeat.
const ID_BASE: u32 = 95;
const ID_SPACE: u32 = ID_BASE * ID_BASE * ID_BASE * ID_BASE;

fn process_id(counter: u32) -> [u8; 4] {
    let mut n = counter % ID_SPACE;
    let mut id = [0x20u8; 4];
    for byte in id.iter_mut().rev() {
        *byte = 0x20 + (n % ID_BASE) as u8;
        n /= ID_BASE;
    }
    id
}

/// An ESC/POS printer behind a [`Connector`], driven by the job protocol (module docs).
/// Jobs and status queries are serialized: one at a time on the one connection.
pub struct EscPosPrinter {
    connector: Arc<dyn Connector>,
    profile: Profile,
    config: JobConfig,
    connection: Mutex<Option<Connection>>,
    next_id: AtomicU32,
}

/// How far the job in progress got, readable after the watchdog dropped it.
struct Progress(AtomicU8);

impl Progress {
    fn set(&self, stage: Stage) {
        self.0.store(stage as u8, Ordering::SeqCst);
    }

    fn get(&self) -> Stage {
        Stage::from_u8(self.0.load(Ordering::SeqCst))
    }
}

/// How the send-and-confirm loop ended.
enum Wait {
    Confirmed(Option<[u8; 4]>),
    TimedOut(Stage),
}

impl EscPosPrinter {
    /// A printer reached through `connector`, of model `profile`.
    pub fn new(
        connector: Arc<dyn Connector>,
        profile: Profile,
        config: JobConfig,
    ) -> EscPosPrinter {
        // Start the process-ID counter somewhere new at each start, so that IDs of a
        // previous run are not reused soon.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0);
        EscPosPrinter {
            connector,
            profile,
            config,
            connection: Mutex::new(None),
            next_id: AtomicU32::new(seed % ID_SPACE),
        }
    }

    /// The printer's model.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The protocol's timeouts.
    pub fn config(&self) -> &JobConfig {
        &self.config
    }

    /// What the printer is connected through.
    pub fn describe(&self) -> String {
        self.connector.describe()
    }

    /// The printer's real-time status (`DLE EOT 1`–`4`). A link that cannot answer gives
    /// `Failed { CommunicationError }`.
    pub async fn status(&self) -> Result<PrinterStatus, PrintError> {
        let mut slot = self.connection.lock().await;
        if !self.connector.confirms() {
            return Err(link_failed(
                Stage::BeforeSend,
                format!(
                    "{} cannot answer status requests",
                    self.connector.describe()
                ),
            ));
        }
        let result = match tokio::time::timeout(self.config.watchdog, async {
            let conn = self.connection(&mut slot).await?;
            query_status(conn, self.config.status_timeout, Stage::BeforeSend).await
        })
        .await
        {
            Ok(result) => result,
            Err(_) => Err(link_failed(
                Stage::BeforeSend,
                format!("watchdog: no status within {:?}", self.config.watchdog),
            )),
        };
        if result.is_err() {
            *slot = None;
        }
        result
    }

    /// Encodes `document` for the profile and prints it.
    pub async fn print(&self, document: &Document) -> Result<PrintReceipt, PrintError> {
        let data = encode(document, &self.profile).map_err(PrintError::Document)?;
        self.print_bytes(&data).await
    }

    /// Prints ESC/POS bytes as one job, by the protocol of the module docs.
    pub async fn print_bytes(&self, data: &[u8]) -> Result<PrintReceipt, PrintError> {
        let mut slot = self.connection.lock().await;
        let started = Instant::now();
        let progress = Progress(AtomicU8::new(Stage::BeforeSend as u8));
        let result = match tokio::time::timeout(
            self.config.watchdog,
            self.run(&mut slot, data, &progress, started),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => match progress.get() {
                Stage::BeforeSend => Err(link_failed(
                    Stage::BeforeSend,
                    format!("watchdog: nothing sent within {:?}", self.config.watchdog),
                )),
                _ => Err(PrintError::NotConfirmed {
                    waited: started.elapsed(),
                }),
            },
        };
        match &result {
            Ok(receipt) => log::info!("printed on {}: {receipt:?}", self.connector.describe()),
            Err(error) => {
                log::warn!("print job on {} failed: {error}", self.connector.describe());
                // Whatever the printer still sends about this attempt must not reach the
                // next one: a new connection.
                *slot = None;
            }
        }
        result
    }

    /// The live connection, or a new one.
    async fn connection<'a>(
        &self,
        slot: &'a mut Option<Connection>,
    ) -> Result<&'a mut Connection, PrintError> {
        if let Some(conn) = slot.as_mut() {
            // Replies left from the last job (ASBs, late status) are stale; a hang-up means
            // the link is gone.
            let mut closed = false;
            while let Ok(event) = conn.events.try_recv() {
                if let Event::Closed(why) = event {
                    log::info!("printer link closed between jobs: {why}");
                    closed = true;
                }
            }
            if closed {
                *slot = None;
            }
        }
        if slot.is_none() {
            let link = self.connector.connect().await.map_err(|e| {
                link_failed(
                    Stage::BeforeSend,
                    format!("cannot connect to {}: {e}", self.connector.describe()),
                )
            })?;
            *slot = Some(Connection::new(link));
        }
        slot.as_mut()
            .ok_or_else(|| link_failed(Stage::BeforeSend, "no connection"))
    }

    fn confirm_wait(&self, bytes: usize) -> Duration {
        let transfer = self
            .config
            .baud
            .or(self.connector.baud())
            .map(|baud| transfer_time(bytes, baud))
            .unwrap_or_default();
        self.config.confirm_timeout + transfer
    }

    async fn run(
        &self,
        slot: &mut Option<Connection>,
        data: &[u8],
        progress: &Progress,
        started: Instant,
    ) -> Result<PrintReceipt, PrintError> {
        if !self.connector.confirms() {
            return self.write_unconfirmed(slot, data, progress).await;
        }
        let conn = self.connection(slot).await?;
        let status = query_status(conn, self.config.status_timeout, Stage::BeforeSend).await?;
        let condition = Condition::of_status(&status);
        if !condition.can_print() {
            return Err(PrintError::Refused(condition));
        }

        let id = self
            .profile
            .process_id
            .then(|| process_id(self.next_id.fetch_add(1, Ordering::SeqCst)));
        let mut payload = Vec::with_capacity(data.len() + 16);
        payload.extend_from_slice(&commands::auto_status_back(0xFF));
        payload.extend_from_slice(data);
        match id {
            Some(id) => {
                let request = commands::process_id_request(id).map_err(|e| {
                    failed(
                        Condition::DataError,
                        Stage::BeforeSend,
                        format!("process ID {id:02X?}: {e}"),
                    )
                })?;
                payload.extend_from_slice(&request);
            }
            None => payload.extend_from_slice(&commands::transmit_status(1)),
        }
        let wait = self.confirm_wait(payload.len());

        progress.set(Stage::Sending);
        let outcome = send_and_confirm(conn, &payload, id, wait, progress).await?;
        match outcome {
            Wait::Confirmed(process_id) => Ok(PrintReceipt {
                process_id,
                bytes_sent: payload.len(),
                elapsed: started.elapsed(),
            }),
            Wait::TimedOut(stage) => {
                // Ask the printer why: paper out, cover open, overheat…
                let status = query_status(conn, self.config.status_timeout, stage).await?;
                let condition = Condition::of_status(&status);
                if condition.can_print() {
                    Err(PrintError::NotConfirmed { waited: wait })
                } else {
                    Err(failed(
                        condition,
                        stage,
                        format!(
                            "no confirmation within {wait:?}; the printer reports {}",
                            condition.code()
                        ),
                    ))
                }
            }
        }
    }

    async fn write_unconfirmed(
        &self,
        slot: &mut Option<Connection>,
        data: &[u8],
        progress: &Progress,
    ) -> Result<PrintReceipt, PrintError> {
        let conn = self.connection(slot).await?;
        progress.set(Stage::Sending);
        conn.write(data).await.map_err(|e| {
            link_failed(
                Stage::Sending,
                format!("writing to {}: {e}", self.connector.describe()),
            )
        })?;
        progress.set(Stage::AwaitingConfirmation);
        Err(PrintError::Unconfirmable {
            bytes: data.len(),
            target: self.connector.describe(),
        })
    }
}

/// How much is written between looks at the printer's replies.
const CHUNK: usize = 512;

/// Sends `payload` while reading the replies; returns on the confirmation, a fault, a
/// hang-up or the deadline.
async fn send_and_confirm(
    conn: &mut Connection,
    payload: &[u8],
    id: Option<[u8; 4]>,
    wait: Duration,
    progress: &Progress,
) -> Result<Wait, PrintError> {
    let deadline = tokio::time::Instant::now() + wait;
    let Connection { writer, events, .. } = conn;
    let write = async {
        for chunk in payload.chunks(CHUNK) {
            writer.write_all(chunk).await?;
        }
        writer.flush().await
    };
    tokio::pin!(write);
    let mut written = false;
    loop {
        tokio::select! {
            // Biased: a finished write is noted before a reply that came with it, so the
            // stage a failure reports is where the job really was.
            biased;
            result = &mut write, if !written => {
                result.map_err(|e| link_failed(Stage::Sending, format!("writing the job: {e}")))?;
                written = true;
                progress.set(Stage::AwaitingConfirmation);
            }
            event = events.recv() => {
                if let Some(done) = on_event(event, id, written, progress.get())? {
                    return Ok(done);
                }
            }
            _ = tokio::time::sleep_until(deadline) => return Ok(Wait::TimedOut(progress.get())),
        }
    }
}

/// What one reply means while a job is sent or awaits its confirmation: `Some` ends the
/// wait, `None` goes on waiting.
fn on_event(
    event: Option<Event>,
    id: Option<[u8; 4]>,
    written: bool,
    stage: Stage,
) -> Result<Option<Wait>, PrintError> {
    match event {
        None => Err(link_failed(stage, "the reply reader stopped")),
        Some(Event::Closed(why)) => Err(link_failed(stage, why)),
        Some(Event::Reply(Reply::ProcessId(got))) if Some(got) == id => {
            Ok(Some(Wait::Confirmed(id)))
        }
        Some(Event::Reply(Reply::ProcessId(got))) => {
            log::info!("process ID {got:02X?} of an earlier attempt ignored");
            Ok(None)
        }
        // Without GS ( H: the printer executes GS r only after everything before it has
        // printed, and not at all while offline, so its reply is the confirmation.
        Some(Event::Reply(Reply::TransmitStatus(byte))) if id.is_none() && written => {
            log::debug!("GS r reply 0x{byte:02X} confirms the job");
            Ok(Some(Wait::Confirmed(None)))
        }
        Some(Event::Reply(Reply::Asb(asb))) => match PrinterStatus::from_asb(asb) {
            Ok(status) => {
                let condition = Condition::of_status(&status);
                if condition.can_print() {
                    Ok(None)
                } else {
                    Err(failed(
                        condition,
                        stage,
                        format!(
                            "the printer reported {} (automatic status back)",
                            condition.code()
                        ),
                    ))
                }
            }
            Err(e) => {
                log::warn!("automatic status back {asb:02X?} ignored: {e}");
                Ok(None)
            }
        },
        Some(Event::Reply(other)) => {
            log::debug!("reply {other:?} ignored while printing");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ids_are_printable_and_distinct() {
        let ids: Vec<[u8; 4]> = (0..2000u32)
            .map(|n| process_id(n.wrapping_mul(7919)))
            .collect();
        for id in &ids {
            assert!(id.iter().all(|b| (0x20..=0x7E).contains(b)), "{id:02X?}");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
        assert_eq!(process_id(0), [0x20; 4]);
        assert_eq!(process_id(ID_SPACE - 1), [0x7E; 4]);
        assert_eq!(process_id(96), [0x20, 0x20, 0x21, 0x21]);
    }

    #[test]
    fn transfer_time_is_ten_bits_a_byte() {
        assert_eq!(transfer_time(960, 9600), Duration::from_secs(1));
        assert_eq!(transfer_time(11520, 115200), Duration::from_secs(1));
        assert_eq!(transfer_time(10, 0), Duration::ZERO);
    }

    #[test]
    fn errors_carry_the_remedy_in_both_languages() {
        let refused = PrintError::Refused(Condition::PaperOut).to_string();
        assert!(
            refused.contains("缺纸")
                && refused.contains("out of paper")
                && refused.contains("not sent"),
            "{refused}"
        );
        let failed = failed(Condition::CoverOpen, Stage::Sending, "asb").to_string();
        assert!(
            failed.contains("盖")
                && failed.contains("cover open")
                && failed.contains("while sending"),
            "{failed}"
        );
        let waited = PrintError::NotConfirmed {
            waited: Duration::from_millis(1500),
        };
        assert!(waited.to_string().contains("1.5 s") && waited.to_string().contains("未确认"));
        assert_eq!(waited.condition(), Condition::CommunicationError);
        let file = PrintError::Unconfirmable {
            bytes: 3,
            target: "file:x".into(),
        };
        assert!(!file.condition().can_print());
        assert!(file.to_string().contains("nothing can confirm"));
    }
}
