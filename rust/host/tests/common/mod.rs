//! Shared by the host link's integration tests: the real engine and driver
//! ([`poscore_terminal::Terminal`]) on a fresh journal, over a given host link, and the
//! commands and outcomes the tests use. Each test file uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use poscore::card::{CardInput, PanHashKey};
use poscore::money::{Currency, Money};
use poscore::{Command, CommandOutcome, Config, Engine, TxnRecord};
use poscore_terminal::{
    Clock, DriverConfig, HostLink, MemoryPrinter, SystemClock, Terminal, TerminalHandle,
};
use tempfile::TempDir;

/// A terminal running over a host link, with its journal's directory (removed on drop).
pub struct Running {
    /// The driver.
    pub terminal: Terminal,
    /// A handle on it.
    pub handle: TerminalHandle,
    /// The journal's directory.
    pub dir: TempDir,
}

/// Starts a terminal with `config` over `link`, printing to memory: the host timeout is
/// `host_timeout`, ticks every 20 ms.
pub fn start_terminal(link: Arc<dyn HostLink>, config: Config, host_timeout: Duration) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = PanHashKey::new(vec![9; 32]).expect("key");
    let (engine, _) = Engine::open(
        &dir.path().join("journal.db"),
        config,
        key,
        SystemClock.now(),
    )
    .expect("the journal opens");
    let driver = DriverConfig {
        host_timeout,
        tick_interval: Duration::from_millis(20),
        print_watchdog: Duration::from_secs(5),
    };
    let terminal = Terminal::start(engine, link, Arc::new(MemoryPrinter::new()), driver);
    let handle = terminal.handle();
    Running {
        terminal,
        handle,
        dir,
    }
}

/// An amount in CNY.
pub fn money(text: &str) -> Money {
    Money::parse(text, Currency::CNY).unwrap()
}

/// A pre-auth of `amount` on the test card.
pub fn preauth(amount: &str) -> Command {
    Command::PreAuth {
        amount: money(amount),
        card: CardInput::parse("6222021234567890128", "3012", SystemClock.now()).unwrap(),
    }
}

/// The transaction of an outcome; anything else fails the test.
pub fn txn(outcome: CommandOutcome) -> TxnRecord {
    match outcome {
        CommandOutcome::Transaction(t) => t,
        other => panic!("expected a transaction, got {other:?}"),
    }
}
