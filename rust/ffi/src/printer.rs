//! Printers implemented on the Kotlin side (vendor SDKs) and how Rust reads their status.
//!
//! A vendor adapter (Sunmi, PAX, Landi, …) implements [`PrinterDevice`] and hands Rust the
//! vendor's *raw* status code; Rust maps it with its own tables ([`condition_of`]) to one
//! [`PrinterCondition`] with a remedy in Chinese and English. A job counts as printed only
//! when the device reports a printable condition after it. [`SoftwarePrinter`] is a
//! recording printer for tests and the demo.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use poscore::PrintJob;
use poscore::print::PrintOutcome;
use poscore_escpos::Profile;
use poscore_printer::Condition;
use poscore_printer::slip::document_mm;
use poscore_printer::vendor::{self, Vendor};

use crate::error::PosError;
use crate::slip_text;

/// Whose status codes a [`DeviceStatus`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PrinterVendor {
    /// Sunmi `updatePrinterState()` codes (1 = normal).
    Sunmi,
    /// PAX NeptuneLite `IPrinter.getStatus()`/`start()` codes (0 = success).
    Pax,
    /// Landi-family `IPrinter`/`UPrinter` codes (0x00 = OK, 0xF0 = paper ended, …).
    Landi,
    /// Lakala `AidlPrinter` codes (unpublished: read with the Landi table until corrected).
    Lakala,
    /// A software printer: 0 = OK, anything else a fault.
    Software,
}

/// A device's raw answer, as its vendor SDK gave it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceStatus {
    /// Whose table the code belongs to.
    pub vendor: PrinterVendor,
    /// The vendor's code, unchanged (PAX's negative codes may come as 240/252/254 or −16/−4/−2).
    pub raw_code: i32,
    /// Any text the SDK gave with it.
    pub detail: Option<String>,
}

/// What a printer's status means, whatever the vendor (mirrors `poscore_printer::Condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PrinterCondition {
    /// Ready.
    Ready,
    /// Paper is running low; it still prints.
    PaperLow,
    /// Busy or preparing; try again shortly.
    Busy,
    /// Out of paper.
    PaperOut,
    /// The cover is open.
    CoverOpen,
    /// The print head overheated.
    Overheated,
    /// The cutter jammed.
    CutterError,
    /// Paper jam.
    PaperJam,
    /// Battery or supply voltage too low.
    LowVoltage,
    /// The print data was refused (format, size, missing font).
    DataError,
    /// The link to the printer failed.
    CommunicationError,
    /// No printer was found.
    NotFound,
    /// Offline for no reason the printer gave.
    Offline,
    /// Another hardware fault.
    HardwareError,
    /// A code no table knows: never taken for success.
    Unknown,
}

impl From<Condition> for PrinterCondition {
    fn from(condition: Condition) -> Self {
        use PrinterCondition as P;
        match condition {
            Condition::Ready => P::Ready,
            Condition::PaperLow => P::PaperLow,
            Condition::Busy => P::Busy,
            Condition::PaperOut => P::PaperOut,
            Condition::CoverOpen => P::CoverOpen,
            Condition::Overheated => P::Overheated,
            Condition::CutterError => P::CutterError,
            Condition::PaperJam => P::PaperJam,
            Condition::LowVoltage => P::LowVoltage,
            Condition::DataError => P::DataError,
            Condition::CommunicationError => P::CommunicationError,
            Condition::NotFound => P::NotFound,
            Condition::Offline => P::Offline,
            Condition::HardwareError => P::HardwareError,
            Condition::Unknown => P::Unknown,
        }
    }
}

impl PrinterCondition {
    /// Whether a job can be (or was) printed in this condition.
    pub fn can_print(self) -> bool {
        matches!(self, PrinterCondition::Ready | PrinterCondition::PaperLow)
    }
}

/// Explains a vendor's raw status code with the tables of `poscore_printer::vendor`
/// (reference/printers.md §1). An unknown code is [`PrinterCondition::Unknown`].
pub(crate) fn explain(vendor: PrinterVendor, raw_code: i32) -> (Condition, String) {
    let vendor = match vendor {
        PrinterVendor::Sunmi => Vendor::Sunmi,
        PrinterVendor::Pax => Vendor::Pax,
        PrinterVendor::Landi => Vendor::Landi,
        PrinterVendor::Lakala => Vendor::Lakala,
        PrinterVendor::Software => return explain_software(raw_code),
    };
    let code = vendor::explain(vendor, raw_code);
    (code.condition, code.meaning)
}

/// The `Software` table: 0 = ready; the adapters' `SoftwareFault` codes (1001 no
/// confirmation, 1002 job failed while the status reads normal, 1003 status unreadable);
/// anything else a hardware fault.
fn explain_software(raw_code: i32) -> (Condition, String) {
    match raw_code {
        0 => (Condition::Ready, "OK".into()),
        NO_CONFIRMATION => (
            Condition::CommunicationError,
            "no confirmation from the printer".into(),
        ),
        1002 => (
            Condition::Unknown,
            "the job failed while the printer reads normal".into(),
        ),
        STATUS_UNREADABLE => (
            Condition::CommunicationError,
            "the printer's status could not be read".into(),
        ),
        _ => (
            Condition::HardwareError,
            format!("software printer fault {raw_code}"),
        ),
    }
}

/// Maps a vendor's raw status code to a condition.
pub fn condition_of(vendor: PrinterVendor, raw_code: i32) -> PrinterCondition {
    explain(vendor, raw_code).0.into()
}

/// A status explained for the UI.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrinterStatusInfo {
    /// The condition.
    pub condition: PrinterCondition,
    /// Whether it can print.
    pub can_print: bool,
    /// What to tell the operator, in Chinese.
    pub message_zh: String,
    /// What to tell the operator, in English.
    pub message_en: String,
}

/// Explains a device's raw status: condition, whether it prints, and the remedy.
#[uniffi::export]
pub fn describe_printer_status(status: DeviceStatus) -> PrinterStatusInfo {
    let (condition, meaning) = explain(status.vendor, status.raw_code);
    let (zh, en) = condition.remedy();
    let code = format!("{:?} {}", status.vendor, status.raw_code);
    PrinterStatusInfo {
        condition: condition.into(),
        can_print: condition.can_print(),
        message_zh: format!("{zh}（{code}）"),
        message_en: format!("{en} ({code}: {meaning})"),
    }
}

/// What to tell the operator about a hold of the print queue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HoldRemedy {
    /// The hold's reason: a printer condition (`paper_out`, …) or `tear_off`.
    pub reason: String,
    /// Whether a printer fault holds it (it then resumes by itself once the printer is
    /// ready); `false` for `tear_off`, which waits for `resumePrinting`.
    pub printer_fault: bool,
    /// What to do, in Chinese.
    pub message_zh: String,
    /// What to do, in English.
    pub message_en: String,
}

/// The remedy of a hold, from its reason (`PrintJobInfo.heldReason`): the same text as the
/// `PrintingHeld` event's, for a screen that opens while slips are held.
#[uniffi::export]
pub fn describe_hold(reason: String) -> HoldRemedy {
    if reason == poscore::journal::TEAR_OFF {
        return HoldRemedy {
            reason,
            printer_fault: false,
            message_zh: "请撕下签购单，然后继续打印下一联".into(),
            message_en: "tear the slip off, then continue with the next copy".into(),
        };
    }
    let (zh, en) = Condition::from_code(&reason)
        .unwrap_or(Condition::Unknown)
        .remedy();
    HoldRemedy {
        reason,
        printer_fault: true,
        message_zh: zh.into(),
        message_en: en.into(),
    }
}

/// One slip to print: as text lines for SDKs that print text, and as the real layout in
/// ESC/POS bytes for SDKs that take raw data (Sunmi `sendRAWData`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Slip {
    /// The journal's job id.
    pub job_id: i64,
    /// The transaction's trace.
    pub trace: i32,
    /// `merchant`, `cardholder` or `bank`.
    pub copy: String,
    /// Whether this is a reprint (the slip says so).
    pub reprint: bool,
    /// The lines, at most 32 columns (a CJK character takes two).
    pub lines: Vec<String>,
    /// The slip's layout (logo, signature image, QR code, cut) encoded as ESC/POS for a
    /// GB18030 printer with native QR codes on the terminal's paper (58 or 80 mm). Empty
    /// only if the layout could not be encoded (then print `lines`).
    pub escpos: Vec<u8>,
}

/// A printer on the Kotlin side: a vendor SDK adapter, or a software printer.
///
/// Calls come on a background thread, never the UI thread, and may block until the device
/// answers. Return the vendor's raw status *after* the job; Rust decides what it means.
#[uniffi::export(rust, foreign)]
pub trait PrinterDevice: Send + Sync {
    /// Prints a slip and returns the device's status after it.
    fn print(&self, slip: Slip) -> Result<DeviceStatus, PosError>;
    /// The device's status now.
    fn status(&self) -> Result<DeviceStatus, PosError>;
}

/// A printer that keeps slips in memory; faults can be injected and its status set. For
/// tests and the demo.
#[derive(Debug, uniffi::Object)]
pub struct SoftwarePrinter {
    printed: Mutex<Vec<Slip>>,
    faults: Mutex<Vec<i32>>,
    status: Mutex<DeviceStatus>,
}

impl Default for SoftwarePrinter {
    fn default() -> Self {
        SoftwarePrinter {
            printed: Mutex::default(),
            faults: Mutex::default(),
            status: Mutex::new(DeviceStatus {
                vendor: PrinterVendor::Software,
                raw_code: 0,
                detail: None,
            }),
        }
    }
}

#[uniffi::export]
impl SoftwarePrinter {
    /// A printer with no faults.
    #[uniffi::constructor]
    pub fn new() -> Arc<SoftwarePrinter> {
        Arc::new(SoftwarePrinter::default())
    }

    /// The next job fails with this raw code (of the `Software` table: non-zero).
    pub fn inject_fault(&self, raw_code: i32) {
        self.faults.lock().expect("printer lock").push(raw_code);
    }

    /// The printer's status from now on, in any vendor's codes (e.g. PAX 2 = out of paper):
    /// while it cannot print, no slip is sent and held slips stay held.
    pub fn set_status(&self, status: DeviceStatus) {
        *self.status.lock().expect("printer lock") = status;
    }

    /// The slips printed so far, oldest first.
    pub fn printed(&self) -> Vec<Slip> {
        self.printed.lock().expect("printer lock").clone()
    }
}

#[uniffi::export]
impl PrinterDevice for SoftwarePrinter {
    fn print(&self, slip: Slip) -> Result<DeviceStatus, PosError> {
        let mut faults = self.faults.lock().expect("printer lock");
        if !faults.is_empty() {
            let raw_code = faults.remove(0);
            return Ok(DeviceStatus {
                vendor: PrinterVendor::Software,
                raw_code,
                detail: Some("injected fault".into()),
            });
        }
        let status = self.status.lock().expect("printer lock").clone();
        if condition_of(status.vendor, status.raw_code).can_print() {
            self.printed.lock().expect("printer lock").push(slip);
        }
        Ok(status)
    }

    fn status(&self) -> Result<DeviceStatus, PosError> {
        Ok(self.status.lock().expect("printer lock").clone())
    }
}

/// `Software` code: the job's result never came within the adapter's watchdog
/// (`SoftwareFault.NO_CONFIRMATION`): the slip may have come out.
pub(crate) const NO_CONFIRMATION: i32 = 1001;

/// `Software` code: the printer's status could not be read after the job
/// (`SoftwareFault.STATUS_UNREADABLE`): the slip may have come out.
pub(crate) const STATUS_UNREADABLE: i32 = 1003;

/// The terminal's printer, backed by a [`PrinterDevice`]: calls the device on a blocking
/// thread, bounded by a watchdog, and reads its status with the vendor tables.
pub(crate) struct DevicePrinter {
    /// The Kotlin (or software) device.
    pub device: Arc<dyn PrinterDevice>,
    /// The merchant's name, for the text lines.
    pub merchant_name: String,
    /// Bounds every device call.
    pub watchdog: Duration,
    /// How the slip's layout is encoded for [`Slip::escpos`].
    pub profile: Profile,
}

/// Why a device call gave no status.
enum CallError {
    /// The watchdog expired.
    Timeout,
    /// The callback failed (a Kotlin exception, a panic).
    Failed(String),
}

impl DevicePrinter {
    fn fault_text(status: &DeviceStatus) -> String {
        let info = describe_printer_status(status.clone());
        format!("{} / {}", info.message_zh, info.message_en)
    }

    /// Runs `call` with the device on a blocking thread, bounded by the watchdog.
    async fn call<F>(&self, call: F) -> Result<DeviceStatus, CallError>
    where
        F: FnOnce(&dyn PrinterDevice) -> Result<DeviceStatus, PosError> + Send + 'static,
    {
        let device = Arc::clone(&self.device);
        let task = tokio::task::spawn_blocking(move || call(device.as_ref()));
        match tokio::time::timeout(self.watchdog, task).await {
            Err(_) => Err(CallError::Timeout),
            Ok(Err(join)) => Err(CallError::Failed(format!("{join}"))),
            Ok(Ok(Err(error))) => Err(CallError::Failed(format!("{error}"))),
            Ok(Ok(Ok(status))) => Ok(status),
        }
    }

    /// The status before a job: `None` when it can print, else why not.
    async fn check_before(&self) -> Option<PrintOutcome> {
        let secs = self.watchdog.as_secs();
        let failed = |condition: Condition, detail: String| {
            Some(PrintOutcome::Failed {
                condition,
                detail,
                may_have_printed: false,
            })
        };
        match self.call(|d| d.status()).await {
            Err(CallError::Timeout) => failed(
                Condition::CommunicationError,
                format!(
                    "打印机状态无应答（{secs} 秒）/ the printer's status did not come in {secs} s"
                ),
            ),
            Err(CallError::Failed(why)) => failed(
                Condition::CommunicationError,
                format!("打印机状态回调出错 / the printer's status callback failed: {why}"),
            ),
            Ok(status) => {
                let (condition, _) = explain(status.vendor, status.raw_code);
                if condition.can_print() {
                    None
                } else {
                    failed(condition, Self::fault_text(&status))
                }
            }
        }
    }
}

/// Whether a device's status after a job leaves open that the slip came out anyway.
fn uncertain(status: &DeviceStatus) -> bool {
    status.vendor == PrinterVendor::Software
        && matches!(status.raw_code, NO_CONFIRMATION | STATUS_UNREADABLE)
}

impl DevicePrinter {
    /// Sends one slip (text lines plus the ESC/POS of `document`) and reads the outcome.
    async fn send(&self, mut slip: Slip, document: &poscore_escpos::Document) -> PrintOutcome {
        // Refuse to send into a known fault: the status first, bounded like the job.
        if let Some(refused) = self.check_before().await {
            return refused;
        }
        slip.escpos = match poscore_escpos::encode(document, &self.profile) {
            Ok(bytes) => bytes,
            Err(error) => {
                log::error!(
                    "slip {} cannot be encoded as ESC/POS ({error}); the device gets the text lines only",
                    slip.job_id
                );
                Vec::new()
            }
        };
        let secs = self.watchdog.as_secs();
        // From here the slip was handed over: a missing answer means it may have printed.
        match self.call(move |d| d.print(slip)).await {
            Err(CallError::Timeout) => PrintOutcome::Failed {
                condition: Condition::CommunicationError,
                detail: format!(
                    "打印机无应答（{secs} 秒）/ the printer did not answer in {secs} s"
                ),
                may_have_printed: true,
            },
            Err(CallError::Failed(why)) => PrintOutcome::Failed {
                condition: Condition::CommunicationError,
                detail: format!("打印回调出错 / the printer callback failed: {why}"),
                may_have_printed: true,
            },
            Ok(status) => {
                let (condition, _) = explain(status.vendor, status.raw_code);
                if condition.can_print() {
                    PrintOutcome::Printed {
                        length_mm: document_mm(document, &self.profile),
                    }
                } else {
                    PrintOutcome::Failed {
                        condition,
                        detail: Self::fault_text(&status),
                        may_have_printed: uncertain(&status),
                    }
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl poscore_terminal::Printer for DevicePrinter {
    async fn print(&self, job: &PrintJob) -> PrintOutcome {
        self.send(slip_text::slip(job, &self.merchant_name), &job.document)
            .await
    }

    async fn print_report(&self, report: &poscore::ReportJob) -> PrintOutcome {
        self.send(slip_text::report(report), &report.document).await
    }

    async fn condition(&self) -> Condition {
        match self.call(|d| d.status()).await {
            Ok(status) => explain(status.vendor, status.raw_code).0,
            Err(_) => Condition::CommunicationError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_tables() {
        assert_eq!(
            condition_of(PrinterVendor::Sunmi, 1),
            PrinterCondition::Ready
        );
        assert_eq!(
            condition_of(PrinterVendor::Sunmi, 4),
            PrinterCondition::PaperOut
        );
        assert_eq!(
            condition_of(PrinterVendor::Sunmi, 6),
            PrinterCondition::CoverOpen
        );
        assert_eq!(
            condition_of(PrinterVendor::Sunmi, 505),
            PrinterCondition::NotFound
        );
        assert_eq!(condition_of(PrinterVendor::Pax, 0), PrinterCondition::Ready);
        assert_eq!(
            condition_of(PrinterVendor::Pax, 2),
            PrinterCondition::PaperOut
        );
        assert_eq!(
            condition_of(PrinterVendor::Pax, 240),
            PrinterCondition::Busy
        );
        assert_eq!(
            condition_of(PrinterVendor::Pax, -16),
            PrinterCondition::Busy
        );
        assert_eq!(
            condition_of(PrinterVendor::Pax, 9),
            PrinterCondition::LowVoltage
        );
        assert_eq!(
            condition_of(PrinterVendor::Landi, 0xF0),
            PrinterCondition::PaperOut
        );
        assert_eq!(
            condition_of(PrinterVendor::Landi, 0xF4),
            PrinterCondition::PaperLow
        );
        assert!(condition_of(PrinterVendor::Landi, 0xF4).can_print());
        assert_eq!(
            condition_of(PrinterVendor::Landi, 0xEE),
            PrinterCondition::PaperJam
        );
        assert_eq!(
            condition_of(PrinterVendor::Landi, 0xFC),
            PrinterCondition::HardwareError
        );
        assert_eq!(
            condition_of(PrinterVendor::Sunmi, 999),
            PrinterCondition::Unknown
        );
        assert_eq!(
            condition_of(PrinterVendor::Lakala, 0xF0),
            PrinterCondition::PaperOut
        );
        let unknown = describe_printer_status(DeviceStatus {
            vendor: PrinterVendor::Pax,
            raw_code: 77,
            detail: None,
        });
        assert!(
            !unknown.can_print && unknown.message_en.contains("unknown fault (code 77)"),
            "{unknown:?}"
        );
        assert_eq!(
            condition_of(PrinterVendor::Software, 0),
            PrinterCondition::Ready
        );
        assert_eq!(
            condition_of(PrinterVendor::Software, NO_CONFIRMATION),
            PrinterCondition::CommunicationError
        );
        assert_eq!(
            condition_of(PrinterVendor::Software, 1002),
            PrinterCondition::Unknown
        );
        assert_eq!(
            condition_of(PrinterVendor::Software, 3),
            PrinterCondition::HardwareError
        );
        let hold = describe_hold("paper_out".into());
        assert!(
            hold.printer_fault && hold.message_zh.contains("缺纸"),
            "{hold:?}"
        );
        let tear = describe_hold("tear_off".into());
        assert!(
            !tear.printer_fault && tear.message_en.contains("tear"),
            "{tear:?}"
        );
        let info = describe_printer_status(DeviceStatus {
            vendor: PrinterVendor::Sunmi,
            raw_code: 4,
            detail: None,
        });
        assert!(
            !info.can_print
                && info.message_zh.contains("缺纸")
                && info.message_en.contains("out of paper")
        );
    }
}
