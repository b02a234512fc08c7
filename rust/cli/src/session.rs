//! Opening a terminal for one CLI invocation: the journal, the PAN-hash key beside it, the
//! simulated host and a printer (the ESC/POS printer of `--printer`, a memory printer, or
//! the demo's virtual printer).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use poscore::card::PanHashKey;
use poscore::journal::RecoveryReport;
use poscore::{Bilingual, Config, Engine, Lang};
use poscore_escpos::Profile;
use poscore_printer::job::EscPosPrinter;
use poscore_printer::slip::SlipPrinter;
use poscore_terminal::{
    Clock, DriverConfig, HostLink, MemoryPrinter, Printer, SimHost, SystemClock, Terminal,
};

use crate::Failure;

/// Options of the simulated host, the printer and the driver, from the global flags.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Delay of every simulated host answer.
    pub sim_delay: Duration,
    /// The simulated host's ledger file.
    pub sim_ledger: Option<PathBuf>,
    /// The driver's host timeout.
    pub host_timeout: Duration,
    /// The slip printer's address (`--printer`); `None` prints to memory.
    pub printer: Option<String>,
    /// The printer model (and the slips' paper).
    pub profile: Profile,
    /// How long to wait for the printer's confirmation of a slip.
    pub printer_timeout: Duration,
    /// Training mode.
    pub training: bool,
    /// `--fee-rate`: merchant fee rates for the settlement slip.
    pub fee_rates: Vec<poscore::FeeRate>,
    /// The acquirer host's address (`--host`); `None` uses the in-process simulated host.
    pub host: Option<String>,
    /// `--host-master-key`, hex.
    pub host_master_key: Option<String>,
    /// `--host-mac-key`, hex.
    pub host_mac_key: Option<String>,
    /// `--tls`: TLS to `--host` with the system's CAs.
    pub tls: bool,
    /// `--tls-ca`: trust only this CA (PEM file); implies TLS.
    pub tls_ca: Option<PathBuf>,
    /// `--tls-server-name`: the name to check instead of `--host`'s; implies TLS.
    pub tls_server_name: Option<String>,
}

/// Reads a hex key of 8 or 16 bytes.
fn hex_key(text: &str, what: &str) -> Result<Vec<u8>, Failure> {
    let bad = || Failure {
        exit_code: 2,
        message: format!(
            "{what} must be 16 or 32 hex digits, e.g. 0123456789ABCDEFFEDCBA9876543210"
        ),
    };
    if !matches!(text.len(), 16 | 32) {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// The host link: ISO 8583 over TCP to `--host`, or the in-process simulated host. Training
/// mode always uses the simulated host: a training transaction never reaches an acquirer.
fn host_link(links: &LinkOptions) -> Result<Arc<dyn HostLink>, Failure> {
    let address = if links.training {
        None
    } else {
        links.host.as_ref()
    };
    let Some(address) = address else {
        let mut host = SimHost::new().with_delay(links.sim_delay);
        if let Some(ledger) = &links.sim_ledger {
            host = host
                .with_ledger(ledger)
                .map_err(|e| Failure::io(format!("host ledger {}: {e}", ledger.display())))?;
        }
        return Ok(Arc::new(host));
    };
    let test_keys = poscore_host::SimConfig::default();
    let master = match &links.host_master_key {
        Some(text) => hex_key(text, "--host-master-key")?,
        None => test_keys.master_key.clone(),
    };
    let mac = match &links.host_mac_key {
        Some(text) => hex_key(text, "--host-mac-key")?,
        None => test_keys.mac_key.clone(),
    };
    let mac_key = poscore_host::SoftwareMacKey::cup(&mac).map_err(|e| Failure {
        exit_code: 2,
        message: format!("--host-mac-key: {e}"),
    })?;
    let config = poscore_host::LinkConfig {
        master_key: Some(master),
        read_timeout: links.host_timeout,
        tls: tls_settings(links, address)?,
        ..poscore_host::LinkConfig::new(address.clone())
    };
    Ok(Arc::new(poscore_host::TcpHostLink::new(
        config,
        Arc::new(mac_key),
    )))
}

/// TLS for `--host` from `--tls`, `--tls-ca` and `--tls-server-name` (either of the last two
/// implies TLS), checked before anything is journaled: an unreadable or empty CA file, or a
/// bad server name, is a usage error.
fn tls_settings(
    links: &LinkOptions,
    address: &str,
) -> Result<Option<poscore_host::TlsSettings>, Failure> {
    if !links.tls && links.tls_ca.is_none() && links.tls_server_name.is_none() {
        return Ok(None);
    }
    let usage = |message: String| Failure {
        exit_code: 2,
        message,
    };
    let roots = match &links.tls_ca {
        Some(path) => {
            let pem =
                fs::read(path).map_err(|e| usage(format!("--tls-ca {}: {e}", path.display())))?;
            poscore_host::TlsRoots::Pem(pem)
        }
        None => poscore_host::TlsRoots::System,
    };
    let settings = poscore_host::TlsSettings {
        roots,
        server_name: links.tls_server_name.clone(),
    };
    settings
        .check(address)
        .map_err(|e| usage(format!("TLS to {address}: {e}")))?;
    Ok(Some(settings))
}

impl LinkOptions {
    /// The terminal's settings: the defaults, with the paper, training mode and fee rates of
    /// the flags.
    pub fn config(&self) -> Config {
        let mut config = Config {
            training: self.training,
            fee_rates: self.fee_rates.clone(),
            ..Config::default()
        };
        config.printing.paper = self.profile.paper;
        config
    }

    /// The driver's settings: the host timeout, and a print watchdog a little longer than
    /// the printer's own (so the job protocol reports first).
    fn driver_config(&self) -> DriverConfig {
        let job = crate::printing::job_config(self.printer_timeout);
        DriverConfig {
            host_timeout: self.host_timeout,
            print_watchdog: job.watchdog + Duration::from_secs(5),
            ..DriverConfig::default()
        }
    }
}

/// A running terminal for one command.
pub struct Session {
    /// The driver.
    pub terminal: Terminal,
    /// What recovery did when the journal opened.
    pub recovery: RecoveryReport,
    /// The printer the slips go to (asked whether it is ready before the command ends).
    pub printer: Arc<dyn Printer>,
    /// The terminal's settings.
    pub config: Config,
}

/// The key file beside the journal: `journal.db` → `journal.db.key`.
pub fn key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Reads the key file beside the journal, creating it (32 random bytes, mode 0600) the first
/// time. On a device the key comes from the secure module instead.
pub fn load_or_create_key_bytes(db: &Path) -> Result<Vec<u8>, Failure> {
    let path = key_path(db);
    let io = |e: std::io::Error| Failure::io(format!("key file {}: {e}", path.display()));
    match fs::read(&path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = vec![0u8; 32];
            fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(&mut bytes))
                .map_err(io)?;
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&path).map_err(io)?;
            file.write_all(&bytes)
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            Ok(bytes)
        }
        Err(e) => Err(io(e)),
    }
}

/// The PAN-hash key from the key file beside the journal.
fn load_or_create_key(db: &Path) -> Result<PanHashKey, Failure> {
    let bytes = load_or_create_key_bytes(db)?;
    PanHashKey::new(bytes).ok_or_else(|| {
        Failure::io(format!(
            "key file {} is shorter than 16 bytes",
            key_path(db).display()
        ))
    })
}

/// Opens the engine on `db` with the default settings (running recovery), for reads.
pub fn open_engine(db: &Path) -> Result<(Engine, RecoveryReport), Failure> {
    open_engine_with(db, Config::default())
}

/// Opens the engine on `db` with `config` (running recovery).
pub fn open_engine_with(db: &Path, config: Config) -> Result<(Engine, RecoveryReport), Failure> {
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| Failure::io(format!("creating {}: {e}", parent.display())))?;
    }
    let key = load_or_create_key(db)?;
    Engine::open(db, config, key, SystemClock.now()).map_err(|e| Failure::journal(&e))
}

/// The stand-in without `--printer`: a memory printer that "prints" every slip handed to it
/// at once, but has no real printer to ask about a fault. Slips held for a fault of the real
/// printer (in an earlier command with `--printer`) stay held: they print when that printer
/// reports it is ready, or when the operator runs `resume-printing`.
struct NoPrinter(MemoryPrinter);

#[async_trait::async_trait]
impl Printer for NoPrinter {
    async fn print(&self, job: &poscore::PrintJob) -> poscore::print::PrintOutcome {
        self.0.print(job).await
    }

    async fn print_report(&self, report: &poscore::ReportJob) -> poscore::print::PrintOutcome {
        self.0.print_report(report).await
    }

    async fn condition(&self) -> poscore::print::Condition {
        poscore::print::Condition::NotFound
    }
}

/// The printer of the flags: the ESC/POS printer at `--printer` through the job protocol, or
/// a memory printer (which "prints" every slip at once) without it.
pub fn printer_of(links: &LinkOptions, lang: Lang) -> Result<Arc<dyn Printer>, Failure> {
    match &links.printer {
        Some(text) => {
            let address = crate::printing::parse_address(text, lang)?;
            let job = crate::printing::job_config(links.printer_timeout);
            let driver = EscPosPrinter::new(Arc::new(address), links.profile, job);
            Ok(Arc::new(SlipPrinter::new(Arc::new(driver))))
        }
        None => Ok(Arc::new(NoPrinter(MemoryPrinter::new()))),
    }
}

/// Opens the journal and starts the terminal against the simulated host, printing to the
/// printer of the flags.
pub fn start(db: &Path, links: &LinkOptions, lang: Lang) -> Result<Session, Failure> {
    let printer = printer_of(links, lang)?;
    start_with_printer(db, links, printer)
}

/// Opens the journal and starts the terminal against the simulated host, printing to
/// `printer`.
pub fn start_with_printer(
    db: &Path,
    links: &LinkOptions,
    printer: Arc<dyn Printer>,
) -> Result<Session, Failure> {
    let config = links.config();
    let (engine, recovery) = open_engine_with(db, config.clone())?;
    let host = host_link(links)?;
    let terminal = Terminal::start(engine, host, Arc::clone(&printer), links.driver_config());
    Ok(Session {
        terminal,
        recovery,
        printer,
        config,
    })
}

/// Describes a journal error for the operator.
pub fn describe(error: &dyn Bilingual, lang: poscore::Lang) -> String {
    format!("{} [{}]", error.message(lang), error.code())
}

/// Reads `--fee-rate CHANNEL=PERCENT` (`card=0.6`, `qr=0.38`): at most two decimals, at most
/// 10 %.
pub fn parse_fee_rate(text: &str) -> Result<poscore::FeeRate, String> {
    let usage =
        "write CHANNEL=PERCENT with channel card or qr and at most two decimals, e.g. card=0.6";
    let (channel, percent) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} has no '=': {usage}"))?;
    let channel = match channel.trim().to_ascii_lowercase().as_str() {
        "card" => poscore::FeeChannel::Card,
        "qr" => poscore::FeeChannel::Qr,
        other => return Err(format!("unknown channel {other:?}: {usage}")),
    };
    let percent = percent.trim().trim_end_matches('%');
    let (whole, fraction) = percent.split_once('.').unwrap_or((percent, ""));
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() > 2 || !(fraction.is_empty() || digits(fraction)) {
        return Err(format!("{percent:?} is not a percentage: {usage}"));
    }
    let basis_points = whole.parse::<u32>().map_err(|e| e.to_string())? * 100
        + format!("{fraction:0<2}")
            .parse::<u32>()
            .map_err(|e| e.to_string())?;
    if basis_points > 1_000 {
        return Err(format!("{percent}% is more than 10%: {usage}"));
    }
    Ok(poscore::FeeRate {
        channel,
        basis_points,
    })
}

#[cfg(test)]
mod fee_rate_tests {
    use super::*;

    #[test]
    fn fee_rates_read_as_basis_points() {
        let rate = |t: &str| parse_fee_rate(t).map(|r| (r.channel, r.basis_points));
        assert_eq!(rate("card=0.6"), Ok((poscore::FeeChannel::Card, 60)));
        assert_eq!(rate("qr=0.38%"), Ok((poscore::FeeChannel::Qr, 38)));
        assert_eq!(rate("CARD=1"), Ok((poscore::FeeChannel::Card, 100)));
        for bad in [
            "card",
            "cash=0.6",
            "card=0.605",
            "card=abc",
            "card=11",
            "card=",
            "card=.5",
        ] {
            let error = parse_fee_rate(bad).unwrap_err();
            assert!(error.contains("card=0.6"), "{bad}: {error}");
        }
    }
}
