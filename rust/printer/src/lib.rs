//! The slip printer driver. A job counts as printed only when the printer confirms it.
//!
//! - [`condition`]: one fault taxonomy ([`Condition`]) for ESC/POS status bits and vendor
//!   codes, with the operator's remedy in Chinese and English;
//! - [`vendor`]: Sunmi, PAX, Landi-family and Lakala status codes mapped to it;
//! - [`transport`]: byte links to an ESC/POS printer: TCP (port 9100), a character device
//!   (`/dev/ttyS*`, `/dev/usb/lp*`, with a baud rate on a tty), a file;
//! - [`job`]: the job protocol: status before, refuse into a known fault, send, confirm with
//!   `GS ( H` (or `GS r`), fail on a status change or a timeout, a watchdog always running;
//! - [`device`]: the same protocol over a vendor SDK (`VendorDevice`), whose callbacks are
//!   known never to come on paper-out;
//! - [`selftest`]: the self-test page (`poscore print-test`);
//! - [`slip`]: the terminal's `Printer` trait on top of either;
//! - `virtual_printer` (feature `virtual-printer`): an Epson-class printer over TCP or in
//!   process that renders pages to PNG and injects faults.

pub mod condition;
pub mod device;
pub mod job;
pub mod selftest;
pub mod slip;
pub mod transport;
pub mod vendor;
#[cfg(feature = "virtual-printer")]
pub mod virtual_printer;

pub use condition::Condition;
pub use device::{VendorConfig, VendorDevice, VendorPrinter};
pub use job::{EscPosPrinter, JobConfig, PrintError, PrintReceipt, Stage};
pub use slip::SlipPrinter;
pub use transport::{BoxLink, Connector, FnConnector, Link, PrinterAddress};
pub use vendor::{Vendor, VendorCode, VendorTables};
#[cfg(feature = "virtual-printer")]
pub use virtual_printer::{VirtualPrinter, VirtualPrinterConfig};
