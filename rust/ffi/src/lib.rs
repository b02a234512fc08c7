//! # poscore-ffi — poscore for Kotlin
//!
//! The only crate that knows about uniffi and Android. It exposes:
//!
//! - [`PosTerminal`]: opened with a [`TerminalConfig`] and a journal path; its methods are
//!   `suspend` in Kotlin and run on this crate's own multi-thread tokio runtime
//!   (`runtime.rs`), never on the caller's thread;
//! - records and enums ([`Transaction`], [`TxnState`], …) and one error, [`PosError`]
//!   (Kotlin: sealed `PosException`), whose variants carry a stable code and the operator's
//!   message in Chinese and English;
//! - the acquirer host: the simulated one in process, or with [`HostConfig`] the real one,
//!   ISO 8583 over TCP through `poscore-host` ([`KeyedHostLink`]); sign-on with working keys
//!   installed in the [`KeyProvider`];
//! - foreign traits implemented in Kotlin: [`PrinterDevice`] (vendor printer SDKs; Rust maps
//!   their raw status codes with its own tables), [`KeyProvider`] (the secure module: PAN-hash
//!   key, MAC, the sign-on's working keys), [`EventListener`] (UI events, in order, on a background thread); with
//!   software implementations [`SoftwarePrinter`] and [`SoftwareKeyProvider`] for tests and
//!   the demo;
//! - the print queue's operator calls on [`PosTerminal`]: reprint, resume after a hold,
//!   electronic delivery, the cardholder's signature, diagnosis, printer health, and slips
//!   drawn as PNGs (preview, e-receipt with its verification code; poscore's `render`
//!   feature);
//! - the emergency plan ([`runbook`]): every fault and what to do, in both languages;
//! - backup and restore of the journal: `PosTerminal::backup` while it runs, and
//!   [`restore_journal`] while no terminal has that journal open;
//! - ESC/POS printers by address ([`escpos_printer_status`], [`escpos_print_self_test`]) and
//!   the self-test page as bytes ([`self_test_escpos_bytes`]), through `poscore-printer`.
//!
//! Panics never cross into Kotlin: the release profile keeps `panic = "unwind"`, exported
//! calls are caught by uniffi, spawned work by [`runtime`]'s `run`, and a hook logs them.
//! Logging goes to logcat (tag `poscore`) on Android and to stderr elsewhere (`POSCORE_LOG`).
//! No full PAN is ever logged: the core's card type prints itself masked.

mod backup;
mod error;
mod escpos;
mod host;
mod keys;
mod printer;
mod records;
mod runbook;
mod runtime;
mod slip_text;
mod slips;
mod terminal;

pub use backup::{JournalBackup, RestoreResult, restore_journal, verify_journal_backup};
pub use error::PosError;
pub use escpos::{
    EscPosProfile, EscPosStatus, PaperSize, PaperState, PrinterEncoding, SelfTestReport,
    default_escpos_profile, escpos_print_self_test, escpos_printer_status, self_test_escpos_bytes,
};
pub use host::{
    HostConfig, KeyProviderMac, KeyedHostLink, MacAlgorithm, SignOnResult, WorkingKeys,
    default_host_config,
};
pub use keys::{KeyProvider, SoftwareKeyProvider};
pub use printer::{
    DeviceStatus, HoldRemedy, PrinterCondition, PrinterDevice, PrinterStatusInfo, PrinterVendor,
    Slip, SoftwarePrinter, condition_of, describe_hold, describe_printer_status,
};
pub use records::{
    Delivery, Diagnosis, EReceipt, FaultCount, Finding, Point, PrintJobInfo, PrintJobState,
    PrinterHealth, RecoveryInfo, Reversal, ReversalState, Settlement, SlipDiagnosis, Stroke,
    TerminalConfig, TerminalEvent, TimelineEntry, Transaction, TxnKind, TxnState, default_config,
};
pub use runbook::{RunbookEntry, runbook};
pub use terminal::{EventListener, PosTerminal, live_terminal_count};

uniffi::setup_scaffolding!();
