//! The two links the driver runs the engine against: the acquirer host and the printer.
//! Real and simulated ones implement the same traits.

use async_trait::async_trait;
use poscore::host::{HostReply, HostRequest};
use poscore::print::{Condition, PrintOutcome};
use poscore::{PrintJob, ReportJob};

/// How an exchange with the host failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Nothing was sent (no network, connect refused). The engine cancels the request.
    #[error("not sent: {0}")]
    NotSent(String),
    /// The request may have gone out but no answer came (timeout, connection dropped after
    /// sending). The engine makes the transaction `unknown` and reverses it.
    #[error("no answer: {0}")]
    NoAnswer(String),
}

/// A link to the acquirer host: sends one request and waits for its answer.
///
/// The driver bounds every call with its own host timeout, so an implementation may wait as
/// long as its transport allows.
#[async_trait]
pub trait HostLink: Send + Sync {
    /// Sends `request` and returns the host's answer.
    async fn exchange(&self, request: &HostRequest) -> Result<HostReply, LinkError>;
}

/// A slip printer: prints one job and says whether the printer confirmed it.
#[async_trait]
pub trait Printer: Send + Sync {
    /// Prints `job` (its `document` is the slip). [`PrintOutcome::Printed`] only when the
    /// printer confirmed the slip came out; otherwise the cause, and whether the slip may
    /// have come out anyway.
    async fn print(&self, job: &PrintJob) -> PrintOutcome;

    /// Prints a report (the settlement slip: `report.document`), the same way as a slip.
    async fn print_report(&self, report: &ReportJob) -> PrintOutcome;

    /// The printer's condition now. Asked while printing is held for a fault, so held slips
    /// resume by themselves once it can print again.
    async fn condition(&self) -> Condition;
}
