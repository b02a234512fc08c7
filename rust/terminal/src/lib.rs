//! # poscore-terminal — the engine, running
//!
//! [`Terminal`] runs a [`poscore::Engine`] on a tokio task against a [`HostLink`] and a
//! [`Printer`]. It carries out the engine's outputs (host exchanges bounded by a timeout,
//! print jobs), feeds their results back, and ticks so that due retries go out with the
//! engine's backoff. Callers use a [`TerminalHandle`]: `submit` a command and await its
//! outcome, subscribe to [`poscore::Event`]s, wait until `idle`, or `read` the journal.
//!
//! [`SimHost`] is an in-process simulated acquirer (approves by default; documented amounts
//! or a script make it decline, time out, lose the answer, or send a bad MAC).
//! [`MemoryPrinter`] records slips in memory. Real links come with later layers.

mod driver;
mod link;
mod memory_printer;
mod sim_host;

pub use driver::{Clock, DriverConfig, SystemClock, Terminal, TerminalError, TerminalHandle};
pub use link::{HostLink, LinkError, Printer};
pub use memory_printer::{MemoryPrinter, PrintedSlip};
pub use sim_host::{SimBehaviour, SimHost};
