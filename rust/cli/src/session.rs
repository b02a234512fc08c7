//! Opening a terminal for one CLI invocation: the journal, the PAN-hash key beside it, the
//! simulated host and a printer (a memory printer, or the demo's virtual ESC/POS printer).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use poscore::card::PanHashKey;
use poscore::journal::RecoveryReport;
use poscore::{Bilingual, Config, Engine};
use poscore_terminal::{Clock, DriverConfig, MemoryPrinter, Printer, SimHost, SystemClock, Terminal};

use crate::Failure;

/// Options of the simulated host and the driver, from the global flags.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Delay of every simulated host answer.
    pub sim_delay: Duration,
    /// The simulated host's ledger file.
    pub sim_ledger: Option<PathBuf>,
    /// The driver's host timeout.
    pub host_timeout: Duration,
}

/// A running terminal for one command.
pub struct Session {
    pub terminal: Terminal,
    pub recovery: RecoveryReport,
}

/// The key file beside the journal: `journal.db` → `journal.db.key`.
pub fn key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Reads the PAN-hash key beside the journal, creating it (32 random bytes, mode 0600) the
/// first time. On a device the key comes from the secure module instead.
fn load_or_create_key(db: &Path) -> Result<PanHashKey, Failure> {
    let path = key_path(db);
    let io = |e: std::io::Error| Failure::io(format!("key file {}: {e}", path.display()));
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = vec![0u8; 32];
            fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).map_err(io)?;
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&path).map_err(io)?;
            file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(io)?;
            bytes
        }
        Err(e) => return Err(io(e)),
    };
    PanHashKey::new(bytes).ok_or_else(|| Failure::io(format!("key file {} is shorter than 16 bytes", path.display())))
}

/// Opens the engine on `db` (running recovery).
pub fn open_engine(db: &Path) -> Result<(Engine, RecoveryReport), Failure> {
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| Failure::io(format!("creating {}: {e}", parent.display())))?;
    }
    let key = load_or_create_key(db)?;
    Engine::open(db, Config::default(), key, SystemClock.now()).map_err(|e| Failure::journal(&e))
}

/// Opens the journal and starts the terminal against the simulated host, printing to a
/// memory printer.
pub fn start(db: &Path, links: &LinkOptions) -> Result<Session, Failure> {
    let (terminal, recovery) = start_with_printer(db, links, Arc::new(MemoryPrinter::new()))?;
    Ok(Session { terminal, recovery })
}

/// Opens the journal and starts the terminal against the simulated host, printing to
/// `printer` (the demo's virtual ESC/POS printer).
pub fn start_with_printer(db: &Path, links: &LinkOptions, printer: Arc<dyn Printer>) -> Result<(Terminal, RecoveryReport), Failure> {
    let (engine, recovery) = open_engine(db)?;
    let mut host = SimHost::new().with_delay(links.sim_delay);
    if let Some(ledger) = &links.sim_ledger {
        host = host.with_ledger(ledger).map_err(|e| Failure::io(format!("host ledger {}: {e}", ledger.display())))?;
    }
    let config = DriverConfig { host_timeout: links.host_timeout, ..DriverConfig::default() };
    let terminal = Terminal::start(engine, Arc::new(host), printer, config);
    Ok((terminal, recovery))
}

/// Describes a journal error for the operator.
pub fn describe(error: &dyn Bilingual, lang: poscore::Lang) -> String {
    format!("{} [{}]", error.message(lang), error.code())
}
