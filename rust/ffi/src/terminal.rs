//! `PosTerminal`: the object Kotlin opens, calls and closes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poscore::card::{CardInput, PanHashKey};
use poscore::config::PrintConfig;
use poscore::ids::{MerchantId, OperatorId, RequestId, TerminalId, TraceNumber};
use poscore::journal::RecoveryReport;
use poscore::money::{Currency, Money};
use poscore::slip::SlipConfig;
use poscore::txn::{PrintJobState, ReversalState};
use poscore::{Command, CommandOutcome, Config, Engine, TxnRecord};
use poscore_escpos::{PaperWidth, Profile};
use poscore_terminal::{Clock, DriverConfig, SimHost, SystemClock, Terminal, TerminalHandle};

use crate::error::PosError;
use crate::escpos::PaperSize;
use crate::host::{KeyedHostLink, SignOnResult, link_config};
use crate::keys::KeyProvider;
use crate::printer::{DevicePrinter, PrinterDevice};
use crate::records::{
    Diagnosis, EReceipt, PrinterHealth, RecoveryInfo, Settlement, Stroke, TerminalConfig,
    TerminalEvent, Transaction,
};
use crate::runtime::{self, run};
use crate::slips::{self, SlipSource};

/// Receives the terminal's events, in order, on a background thread (never the UI thread).
#[uniffi::export(foreign)]
pub trait EventListener: Send + Sync {
    /// One event.
    fn on_event(&self, event: TerminalEvent);
}

/// Live `PosTerminal` objects in this process (for leak checks).
static LIVE_TERMINALS: AtomicI64 = AtomicI64::new(0);

/// How many `PosTerminal` objects are alive. After `use {}` it drops back: a test checks
/// that nothing leaks.
#[uniffi::export]
pub fn live_terminal_count() -> i64 {
    LIVE_TERMINALS.load(Ordering::SeqCst)
}

/// The name of the thread that calls the `EventListener`.
const EVENT_THREAD: &str = "poscore-events";

/// The printer watchdog: a job the device has not answered in this time counts as failed
/// and stays queued (some devices never answer when out of paper).
const PRINTER_WATCHDOG: Duration = Duration::from_secs(60);

struct Running {
    terminal: Terminal,
    handle: TerminalHandle,
    events: Option<std::thread::JoinHandle<()>>,
}

/// A pre-authorization terminal on one journal file.
///
/// Every method that talks to the host or the journal is `suspend` in Kotlin and runs on the
/// core's own threads. `shutdown()` stops it; dropping the object (`use {}`, `close()`) does too.
#[derive(uniffi::Object)]
pub struct PosTerminal {
    running: Mutex<Option<Running>>,
    recovery: RecoveryReport,
    currency: Currency,
    /// How slips look (for previews and e-receipts, as the engine prints them).
    slip_config: Arc<SlipConfig>,
    /// The key of e-receipt verification codes, derived from the PAN-hash key.
    receipt_key: Arc<Vec<u8>>,
    /// The paper roll's length, for the forecast.
    roll_length_mm: u32,
    /// The real host link, when `TerminalConfig.host` is set (outside training).
    link: Option<Arc<KeyedHostLink>>,
    /// The journal file (registered as open until shutdown: no restore replaces it).
    journal_path: PathBuf,
}

/// The e-receipt key: HMAC-SHA-256(PAN-hash key, a fixed label), so the secure module's
/// one terminal key serves both without either revealing the other.
fn receipt_key(pan_hash_key: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(pan_hash_key) else {
        return pan_hash_key.to_vec();
    };
    mac.update(b"poscore e-receipt key v1");
    mac.finalize().into_bytes().to_vec()
}

fn config_of(config: &TerminalConfig) -> Result<Config, PosError> {
    let id_error = |e: poscore::ids::IdError| PosError::invalid(&e);
    let range = |name: &'static str, value: i64, range: &'static str| {
        let e = poscore::config::ConfigError {
            name,
            value: value.to_string(),
            range,
        };
        PosError::invalid(&e)
    };
    let currency = Currency::from_code(&config.currency).ok_or_else(|| PosError::InvalidInput {
        code: "CONFIG_CURRENCY".into(),
        message_zh: format!("不支持的币种 {}", config.currency),
        message_en: format!(
            "unknown currency {}; use an ISO 4217 code such as CNY",
            config.currency
        ),
    })?;
    let small = |name: &'static str, value: i32, allowed: &'static str| {
        u32::try_from(value).map_err(|_| range(name, i64::from(value), allowed))
    };
    let core = Config {
        identity: poscore::host::TerminalIdentity {
            merchant_id: MerchantId::parse(&config.merchant_id).map_err(id_error)?,
            terminal_id: TerminalId::parse(&config.terminal_id).map_err(id_error)?,
            operator_id: OperatorId::parse(&config.operator_id).map_err(id_error)?,
        },
        merchant_name: config.merchant_name.clone(),
        currency,
        slip_copies: u8::try_from(config.slip_copies)
            .map_err(|_| range("slip_copies", i64::from(config.slip_copies), "1 to 3"))?,
        completion_limit_percent: small(
            "completion_limit_percent",
            config.completion_limit_percent,
            "100 to 200",
        )?,
        preauth_valid_days: small("preauth_valid_days", config.preauth_valid_days, "1 to 60")?,
        reversal_max_attempts: small(
            "reversal_max_attempts",
            config.reversal_max_attempts,
            "1 to 3",
        )?,
        training: config.training,
        printing: PrintConfig {
            paper: match config.paper {
                PaperSize::Mm58 => PaperWidth::Mm58,
                PaperSize::Mm80 => PaperWidth::Mm80,
            },
            tear_prompt: config.tear_prompt,
            e_receipt_after_ms: u64::try_from(config.e_receipt_after_ms).map_err(|_| {
                range(
                    "e_receipt_after_ms",
                    config.e_receipt_after_ms,
                    "0 (only on request) or more",
                )
            })?,
            roll_length_mm: small("roll_length_mm", config.roll_length_mm, "1000 to 200000")?,
            ..PrintConfig::default()
        },
        retention_days: small("retention_days", config.retention_days, "30 to 3650")?,
        backup: poscore::config::BackupConfig {
            dir: config.backup_dir.as_ref().map(std::path::PathBuf::from),
            every_ms: u64::try_from(config.backup_every_ms).map_err(|_| {
                range(
                    "backup_every_ms",
                    config.backup_every_ms,
                    "60000 to 604800000",
                )
            })?,
            keep: small("backup_keep", config.backup_keep, "1 to 1000")?,
        },
        ..Config::default()
    };
    core.validate().map_err(|e| PosError::invalid(&e))?;
    if !(1_000..=300_000).contains(&config.host_timeout_ms) {
        return Err(range(
            "host_timeout_ms",
            config.host_timeout_ms,
            "1000 to 300000",
        ));
    }
    if !(0..=60_000).contains(&config.sim_host_delay_ms) {
        return Err(range(
            "sim_host_delay_ms",
            config.sim_host_delay_ms,
            "0 to 60000",
        ));
    }
    Ok(core)
}

fn parse_trace(trace: i32) -> Result<TraceNumber, PosError> {
    u32::try_from(trace)
        .ok()
        .and_then(TraceNumber::new)
        .ok_or_else(|| {
            PosError::invalid(&TraceNumber::parse(&trace.to_string()).expect_err("out of range"))
        })
}

fn parse_request_id(request_id: &str) -> Result<RequestId, PosError> {
    RequestId::parse(request_id).map_err(|e| PosError::invalid(&e))
}

fn transaction(outcome: CommandOutcome) -> Result<Transaction, PosError> {
    match outcome {
        CommandOutcome::Transaction(t) | CommandOutcome::ReversalRequeued(t) => Ok((&t).into()),
        other => Err(PosError::internal(&format!("unexpected outcome {other:?}"))),
    }
}

/// Forwards the terminal's events to the listener on one thread, in order.
fn start_event_thread(
    mut events: tokio::sync::broadcast::Receiver<poscore::Event>,
    listener: Arc<dyn EventListener>,
) -> std::thread::JoinHandle<()> {
    let rt = runtime::runtime().handle().clone();
    std::thread::Builder::new()
        .name(EVENT_THREAD.into())
        .spawn(move || {
            runtime::attach_current_thread();
            rt.block_on(async move {
                loop {
                    match events.recv().await {
                        Ok(event) => listener.on_event((&event).into()),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                            log::warn!("the event listener is too slow: {missed} events skipped");
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        })
        .expect("the event thread starts")
}

#[uniffi::export]
impl PosTerminal {
    /// Opens the journal at `journal_path` (creating it), runs recovery, and starts the
    /// terminal against the acquirer host of `config.host` (ISO 8583 over TCP, MACs and
    /// working keys through `keys`), or the simulated acquirer when it is `null` or in
    /// training mode, printing through `printer`.
    #[uniffi::constructor]
    pub fn open(
        config: TerminalConfig,
        journal_path: String,
        keys: Arc<dyn KeyProvider>,
        printer: Arc<dyn PrinterDevice>,
        listener: Option<Arc<dyn EventListener>>,
    ) -> Result<Arc<PosTerminal>, PosError> {
        runtime::init_logging();
        let core = config_of(&config)?;
        // Checked in training mode too, though training never uses it.
        let link_config = config
            .host
            .as_ref()
            .map(|h| link_config(h, config.host_timeout_ms))
            .transpose()?;
        let key_bytes = keys.pan_hash_key()?;
        let receipt_key = Arc::new(receipt_key(&key_bytes));
        let pan_key = PanHashKey::new(key_bytes).ok_or_else(|| PosError::InvalidInput {
            code: "KEY_LENGTH".into(),
            message_zh: "卡号摘要密钥至少需要 16 字节".into(),
            message_en: "the PAN-hash key needs at least 16 bytes".into(),
        })?;
        let currency = core.currency;
        let merchant_name = core.merchant_name.clone();
        let slip_config = Arc::new(SlipConfig::from_config(&core));
        let roll_length_mm = core.printing.roll_length_mm;
        let profile = match core.printing.paper {
            PaperWidth::Mm58 => Profile::mm58(),
            PaperWidth::Mm80 => Profile::mm80(),
        };
        let journal_file = PathBuf::from(&journal_path);
        let (engine, recovery) = crate::backup::opening(&journal_file, || {
            Engine::open(&journal_file, core, pan_key, SystemClock.now())
        })
        .map_err(|e| PosError::storage(&e))?;
        let rt = runtime::runtime();
        let _entered = rt.enter();
        let link = match link_config {
            Some(link_config) if !config.training => {
                Some(Arc::new(KeyedHostLink::new(link_config, Arc::clone(&keys))))
            }
            _ => None,
        };
        let host: Arc<dyn poscore_terminal::HostLink> = match &link {
            Some(link) => Arc::clone(link) as Arc<dyn poscore_terminal::HostLink>,
            None => Arc::new(
                SimHost::new().with_delay(Duration::from_millis(config.sim_host_delay_ms as u64)),
            ),
        };
        let printer = DevicePrinter {
            device: printer,
            merchant_name,
            watchdog: PRINTER_WATCHDOG,
            profile,
        };
        // The driver's own watchdog stays above the device calls' (status, then the job).
        let driver = DriverConfig {
            host_timeout: Duration::from_millis(config.host_timeout_ms as u64),
            print_watchdog: PRINTER_WATCHDOG * 2 + Duration::from_secs(5),
            ..DriverConfig::default()
        };
        let mut terminal = Terminal::start(engine, host, Arc::new(printer), driver);
        let handle = terminal.handle();
        let first_events = terminal
            .take_first_events()
            .expect("a fresh terminal has its first events");
        let events = listener.map(|l| start_event_thread(first_events, l));
        LIVE_TERMINALS.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(PosTerminal {
            running: Mutex::new(Some(Running {
                terminal,
                handle,
                events,
            })),
            recovery,
            currency,
            slip_config,
            receipt_key,
            roll_length_mm,
            link,
            journal_path: journal_file,
        }))
    }

    /// Whether the terminal is open (cheap; no journal access).
    pub fn is_open(&self) -> bool {
        self.running.lock().map(|r| r.is_some()).unwrap_or(false)
    }

    /// 预授权: holds `amount` (e.g. `"100.00"`) on the card. One `request_id` is one
    /// transaction, however often it is sent.
    pub async fn preauth(
        &self,
        request_id: String,
        amount: String,
        pan: String,
        expiry: String,
    ) -> Result<Transaction, PosError> {
        let request_id = parse_request_id(&request_id)?;
        let amount = self.amount(&amount)?;
        let card = CardInput::parse(&pan, &expiry, SystemClock.now())
            .map_err(|e| PosError::invalid(&e))?;
        self.submit(request_id, Command::PreAuth { amount, card })
            .await
            .and_then(transaction)
    }

    /// 预授权完成: completes the pre-auth `trace` for `amount`, online or (`offline`) as an
    /// advice sent later.
    pub async fn complete(
        &self,
        request_id: String,
        trace: i32,
        amount: String,
        offline: bool,
    ) -> Result<Transaction, PosError> {
        let request_id = parse_request_id(&request_id)?;
        let original_trace = parse_trace(trace)?;
        let amount = self.amount(&amount)?;
        let command = if offline {
            Command::CompleteOffline {
                original_trace,
                amount,
            }
        } else {
            Command::Complete {
                original_trace,
                amount,
            }
        };
        self.submit(request_id, command).await.and_then(transaction)
    }

    /// 预授权撤销: voids the pre-auth `trace`.
    pub async fn void_preauth(
        &self,
        request_id: String,
        trace: i32,
    ) -> Result<Transaction, PosError> {
        let request_id = parse_request_id(&request_id)?;
        let original_trace = parse_trace(trace)?;
        self.submit(request_id, Command::Void { original_trace })
            .await
            .and_then(transaction)
    }

    /// 预授权完成撤销: voids the completion `trace`.
    pub async fn complete_void(
        &self,
        request_id: String,
        trace: i32,
    ) -> Result<Transaction, PosError> {
        let request_id = parse_request_id(&request_id)?;
        let original_trace = parse_trace(trace)?;
        self.submit(request_id, Command::CompleteVoid { original_trace })
            .await
            .and_then(transaction)
    }

    /// 签到: signs on to the host. With a real host, the working keys of the approved reply
    /// go to the `KeyProvider` (`installWorkingKeys`) first; if it refuses them the sign-on
    /// fails with `KEY_INSTALL_FAILED` and no financial message is sent until a sign-on
    /// succeeds. A refusal by the host is `SIGN_ON_FAILED`, no answer `HOST_UNREACHABLE`.
    /// (The terminal also signs on by itself before the first transaction when needed.)
    pub async fn sign_on(&self, request_id: String) -> Result<SignOnResult, PosError> {
        let request_id = parse_request_id(&request_id)?;
        match self.submit(request_id, Command::SignOn).await? {
            CommandOutcome::SignedOn => Ok(match &self.link {
                Some(link) => {
                    let check = link.installed_mac_check();
                    let (zh, en) = match &check {
                        Some(check) => (
                            format!("签到成功：工作密钥已装入（MAC 密钥校验值 {check}）"),
                            format!(
                                "signed on: working keys installed (MAC key check value {check})"
                            ),
                        ),
                        None => (
                            "签到成功：主机未下发工作密钥，沿用当前密钥".to_string(),
                            "signed on: the host sent no working keys; the current keys stay"
                                .to_string(),
                        ),
                    };
                    SignOnResult {
                        host: link.address().to_string(),
                        keys_installed: check.is_some(),
                        mac_key_check: check,
                        message_zh: zh,
                        message_en: en,
                    }
                }
                None => SignOnResult {
                    host: "simulated".into(),
                    keys_installed: false,
                    mac_key_check: None,
                    message_zh: "签到成功（模拟主机）".into(),
                    message_en: "signed on (simulated host)".into(),
                },
            }),
            other => Err(PosError::internal(&format!("unexpected outcome {other:?}"))),
        }
    }

    /// 批结算: sends pending reversals and advices, then settles the batch. The result says
    /// whether the host's totals matched (`balanced`), the batch's totals and the next batch.
    pub async fn settle(&self, request_id: String) -> Result<Settlement, PosError> {
        let request_id = parse_request_id(&request_id)?;
        match self.submit(request_id, Command::Settle).await? {
            CommandOutcome::Settled(summary) => Ok((&summary).into()),
            other => Err(PosError::internal(&format!("unexpected outcome {other:?}"))),
        }
    }

    /// Queues a failed reversal again (the operator's retry).
    pub async fn retry_reversal(
        &self,
        request_id: String,
        trace: i32,
    ) -> Result<Transaction, PosError> {
        let request_id = parse_request_id(&request_id)?;
        let trace = parse_trace(trace)?;
        self.submit(request_id, Command::RetryReversal { trace })
            .await
            .and_then(transaction)
    }

    /// Waits until pending work due now is done (reversals sent, slips printed) and says
    /// what recovery found at open and what is still open.
    pub async fn recover(&self) -> Result<RecoveryInfo, PosError> {
        let handle = self.handle()?;
        let report = self.recovery;
        run(async move {
            handle.idle().await?;
            let counts = handle
                .read(|journal| {
                    let (mut pending, mut failed, mut unprinted) = (0, 0, 0);
                    journal.for_each(|t| {
                        match t.reversal.as_ref().map(|r| r.state) {
                            Some(ReversalState::Pending) => pending += 1,
                            Some(ReversalState::Failed) => failed += 1,
                            _ => {}
                        }
                        unprinted += t
                            .print_jobs
                            .iter()
                            .filter(|j| j.state != PrintJobState::Printed)
                            .count() as i32;
                        Ok(())
                    })?;
                    Ok::<_, poscore::JournalError>((pending, failed, unprinted))
                })
                .await??;
            Ok(RecoveryInfo {
                made_unknown: report.made_unknown as i32,
                made_not_sent: report.made_not_sent as i32,
                print_jobs_requeued: report.print_jobs_requeued as i32,
                reversals_pending: counts.0,
                reversals_failed: counts.1,
                slips_unprinted: counts.2,
            })
        })
        .await
    }

    /// Waits until nothing is in flight, queued or printing.
    pub async fn wait_idle(&self) -> Result<(), PosError> {
        let handle = self.handle()?;
        run(async move { handle.idle().await.map_err(PosError::from) }).await
    }

    /// The newest `limit` transactions, newest first.
    pub async fn list(&self, limit: i32) -> Result<Vec<Transaction>, PosError> {
        let handle = self.handle()?;
        let limit = u32::try_from(limit.clamp(0, 10_000)).unwrap_or(0);
        run(async move {
            let records = handle.read(move |j| j.recent(limit)).await??;
            Ok(records.iter().map(Transaction::from).collect())
        })
        .await
    }

    /// The newest transaction with this trace, if any.
    pub async fn show(&self, trace: i32) -> Result<Option<Transaction>, PosError> {
        let handle = self.handle()?;
        let trace = parse_trace(trace)?;
        run(async move {
            let record = handle.read(move |j| j.find_by_trace(trace)).await??;
            Ok(record.as_ref().map(Transaction::from))
        })
        .await
    }

    /// 重打印: prints a slip again, marked REPRINT and counted. `trace: null` is the last slip
    /// printed; `copy: null` the copy last printed of that transaction (`merchant`,
    /// `cardholder` or `bank`). Returns the transaction with the new job queued.
    pub async fn reprint(
        &self,
        request_id: String,
        trace: Option<i32>,
        copy: Option<String>,
    ) -> Result<Transaction, PosError> {
        let request_id = parse_request_id(&request_id)?;
        let trace = trace.map(parse_trace).transpose()?;
        let copy = copy
            .as_deref()
            .map(|c| SlipSource::copy(Some(c)))
            .transpose()?;
        self.submit(request_id, Command::Reprint { trace, copy })
            .await
            .and_then(transaction)
    }

    /// The operator fixed the printer or tore the paper off: every held slip goes back in
    /// the queue. Returns how many.
    pub async fn resume_printing(&self, request_id: String) -> Result<i32, PosError> {
        let request_id = parse_request_id(&request_id)?;
        match self.submit(request_id, Command::ResumePrinting).await? {
            CommandOutcome::PrintingResumed { jobs } => Ok(i32::try_from(jobs).unwrap_or(i32::MAX)),
            other => Err(PosError::internal(&format!("unexpected outcome {other:?}"))),
        }
    }

    /// Delivers the slips of `trace` not yet printed as electronic receipts (`copy: null` =
    /// all of them); a paper copy marked REPRINT still prints when the printer works.
    pub async fn deliver_electronically(
        &self,
        request_id: String,
        trace: i32,
        copy: Option<String>,
    ) -> Result<Transaction, PosError> {
        let request_id = parse_request_id(&request_id)?;
        let trace = parse_trace(trace)?;
        let copy = copy
            .as_deref()
            .map(|c| SlipSource::copy(Some(c)))
            .transpose()?;
        self.submit(request_id, Command::DeliverElectronically { trace, copy })
            .await
            .and_then(transaction)
    }

    /// Stores the cardholder's signature for `trace`: the pad's strokes in pad pixels, on a
    /// pad `width` × `height`. Slips printed from now on (merchant and bank copies) carry it.
    pub async fn save_signature(
        &self,
        request_id: String,
        trace: i32,
        strokes: Vec<Stroke>,
        width: i32,
        height: i32,
    ) -> Result<Transaction, PosError> {
        let request_id = parse_request_id(&request_id)?;
        let trace = parse_trace(trace)?;
        let signature = slips::signature(&strokes, width, height)?;
        let outcome = self
            .submit(
                request_id,
                Command::SaveSignature {
                    trace,
                    signature: signature.to_bytes(),
                },
            )
            .await?;
        transaction(outcome)
    }

    /// Why the slips of `trace` are where they are: the timeline, and for each slip not
    /// printed its cause (one of five) with the remedy in both languages. `null` when no
    /// transaction has this trace.
    pub async fn diagnose(&self, trace: i32) -> Result<Option<Diagnosis>, PosError> {
        let handle = self.handle()?;
        let trace = parse_trace(trace)?;
        run(async move {
            let found = handle.read(move |j| j.diagnose(trace)).await??;
            Ok(found.as_ref().map(Diagnosis::from))
        })
        .await
    }

    /// The printer's counters and the paper forecast.
    pub async fn printer_health(&self) -> Result<PrinterHealth, PosError> {
        let handle = self.handle()?;
        let roll = self.roll_length_mm;
        run(async move {
            let health = handle.read(move |j| j.printer_health(roll)).await??;
            Ok(PrinterHealth::from(&health))
        })
        .await
    }

    /// The electronic receipt of `trace`'s `copy` (`null`: the merchant copy): the slip with
    /// its verification QR code as a PNG, the code's text, and whether the journal counts
    /// this copy as delivered electronically.
    pub async fn e_receipt(&self, trace: i32, copy: Option<String>) -> Result<EReceipt, PosError> {
        let copy = SlipSource::copy(copy.as_deref())?;
        let source = self.slip_source(trace).await?;
        let config = Arc::clone(&self.slip_config);
        let key = Arc::clone(&self.receipt_key);
        run(async move {
            tokio::task::spawn_blocking(move || {
                let payload =
                    poscore::ereceipt::payload(&source.txn, copy, &config.terminal_id, &key);
                let document = poscore::ereceipt::with_verification_code(
                    source.document(copy, &config),
                    &payload,
                    config.language,
                );
                let png = slips::png(&document, &config)?;
                Ok(EReceipt {
                    png,
                    payload,
                    delivered: source.delivered_electronically(copy),
                })
            })
            .await
            .map_err(|e| PosError::internal(&format!("drawing the e-receipt: {e}")))?
        })
        .await
    }

    /// Checks a scanned e-receipt code against this terminal's key and journal; returns the
    /// transaction it stands for.
    pub async fn verify_e_receipt(&self, payload: String) -> Result<Transaction, PosError> {
        let handle = self.handle()?;
        let key = Arc::clone(&self.receipt_key);
        run(async move {
            let verified = handle
                .read(move |j| {
                    poscore::ereceipt::verify(&payload, &key, |batch, trace| {
                        j.find_by_trace(trace)
                            .ok()
                            .flatten()
                            .filter(|t| t.batch == batch)
                    })
                })
                .await?;
            verified
                .map(|v| Transaction::from(&v.txn))
                .map_err(|e| PosError::refused(&e))
        })
        .await
    }

    /// A preview of `trace`'s `copy` (`null`: the merchant copy) as a PNG, drawn as the
    /// printer prints it now (marked REPRINT when that copy was printed already).
    pub async fn slip_preview(
        &self,
        trace: i32,
        copy: Option<String>,
    ) -> Result<Vec<u8>, PosError> {
        let copy = SlipSource::copy(copy.as_deref())?;
        let source = self.slip_source(trace).await?;
        let config = Arc::clone(&self.slip_config);
        run(async move {
            tokio::task::spawn_blocking(move || {
                slips::png(&source.document(copy, &config), &config)
            })
            .await
            .map_err(|e| PosError::internal(&format!("drawing the slip: {e}")))?
        })
        .await
    }

    /// Backs the journal up to the file `path` while the terminal runs (数据备份): one
    /// consistent snapshot taken between two steps of the engine with SQLite's online backup,
    /// written to a temporary file, fsync'd and renamed into place. The PAN-hash key is not in
    /// it. Restore it with `restoreJournal` after `shutdown()`.
    pub async fn backup(&self, path: String) -> Result<crate::backup::JournalBackup, PosError> {
        let handle = self.handle()?;
        run(async move {
            let info = handle
                .read(move |j| poscore::journal::backup::backup(j, std::path::Path::new(&path)))
                .await?
                .map_err(|e| crate::backup::pos_error(&e))?;
            Ok(crate::backup::JournalBackup::from(&info))
        })
        .await
    }

    /// The JSON export (the README's contract): an array, one object per transaction.
    pub async fn export_json(&self) -> Result<String, PosError> {
        let handle = self.handle()?;
        run(async move {
            let rows = handle
                .read(|j| {
                    let mut rows = Vec::new();
                    j.for_each(|t: TxnRecord| {
                        rows.push(t.to_export_json());
                        Ok(())
                    })?;
                    Ok::<_, poscore::JournalError>(rows)
                })
                .await??;
            Ok(serde_json_array(rows))
        })
        .await
    }

    /// Stops the terminal: exchanges in flight are abandoned (the journal reverses them at
    /// the next open). Later calls fail with `PosException.Closed`. Idempotent.
    pub fn shutdown(&self) {
        let running = self.running.lock().map(|mut r| r.take()).unwrap_or(None);
        let Some(Running {
            terminal,
            handle,
            events,
        }) = running
        else {
            return;
        };
        drop(handle);
        // Stop the driver on a thread of its own: the caller may be inside the runtime (an
        // event listener closing the terminal), where blocking on it is not allowed.
        let stopper =
            std::thread::spawn(move || drop(runtime::runtime().block_on(terminal.shutdown())));
        if stopper.join().is_err() {
            log::error!("stopping the terminal panicked; the journal recovers at the next open");
        }
        // The engine (and its SQLite connection) is gone: the journal may be restored now.
        crate::backup::closed(&self.journal_path);
        // The event thread ends once the driver is gone; it cannot wait for itself.
        let on_event_thread = std::thread::current().name() == Some(EVENT_THREAD);
        if let (Some(thread), false) = (events, on_event_thread) {
            let _ = thread.join();
        }
    }
}

fn serde_json_array(rows: Vec<serde_json::Value>) -> String {
    serde_json::Value::Array(rows).to_string()
}

impl PosTerminal {
    fn handle(&self) -> Result<TerminalHandle, PosError> {
        self.running
            .lock()
            .map_err(|_| PosError::internal("terminal lock poisoned"))?
            .as_ref()
            .map(|r| r.handle.clone())
            .ok_or_else(PosError::closed)
    }

    fn amount(&self, text: &str) -> Result<Money, PosError> {
        Money::parse(text, self.currency).map_err(|e| PosError::invalid(&e))
    }

    /// What the slips of `trace` are drawn from; `ORIGINAL_NOT_FOUND` when there is none.
    async fn slip_source(&self, trace: i32) -> Result<SlipSource, PosError> {
        let handle = self.handle()?;
        let trace = parse_trace(trace)?;
        run(async move {
            match handle.read(move |j| SlipSource::read(j, trace)).await?? {
                Some(source) => Ok(source),
                None => Err(PosError::from(poscore::CommandError::OriginalNotFound {
                    trace,
                })),
            }
        })
        .await
    }

    async fn submit(
        &self,
        request_id: RequestId,
        command: Command,
    ) -> Result<CommandOutcome, PosError> {
        let handle = self.handle()?;
        let result = run(async move {
            handle
                .submit(request_id, command)
                .await
                .map_err(PosError::from)
        })
        .await;
        // A sign-on whose keys the secure module refused reads as "refused (code 00)" in the
        // engine: say what really happened.
        match (result, &self.link) {
            (Err(e), Some(link)) if matches!(e.code(), "SIGN_ON_FAILED" | "HOST_UNREACHABLE") => {
                Err(link.install_failure().unwrap_or(e))
            }
            (result, _) => result,
        }
    }
}

impl Drop for PosTerminal {
    fn drop(&mut self) {
        self.shutdown();
        LIVE_TERMINALS.fetch_sub(1, Ordering::SeqCst);
    }
}
