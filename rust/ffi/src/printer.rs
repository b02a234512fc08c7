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
use poscore_printer::vendor::{self, Vendor};
use poscore_printer::Condition;

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
        PrinterVendor::Software if raw_code == 0 => return (Condition::Ready, "OK".into()),
        PrinterVendor::Software => return (Condition::HardwareError, format!("software printer fault {raw_code}")),
    };
    let code = vendor::explain(vendor, raw_code);
    (code.condition, code.meaning)
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

/// One slip to print, as text lines (a later layer renders ESC/POS and images).
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

/// A printer that keeps slips in memory; faults can be injected. For tests and the demo.
#[derive(Debug, Default, uniffi::Object)]
pub struct SoftwarePrinter {
    printed: Mutex<Vec<Slip>>,
    faults: Mutex<Vec<i32>>,
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
            return Ok(DeviceStatus { vendor: PrinterVendor::Software, raw_code, detail: Some("injected fault".into()) });
        }
        self.printed.lock().expect("printer lock").push(slip);
        Ok(DeviceStatus { vendor: PrinterVendor::Software, raw_code: 0, detail: None })
    }

    fn status(&self) -> Result<DeviceStatus, PosError> {
        Ok(DeviceStatus { vendor: PrinterVendor::Software, raw_code: 0, detail: None })
    }
}

/// The terminal's printer, backed by a [`PrinterDevice`]: calls the device on a blocking
/// thread, bounded by a watchdog, and reads its status with the vendor tables.
pub(crate) struct DevicePrinter {
    pub device: Arc<dyn PrinterDevice>,
    pub merchant_name: String,
    pub watchdog: Duration,
}

impl DevicePrinter {
    fn fault_text(status: &DeviceStatus) -> String {
        let info = describe_printer_status(status.clone());
        format!("{} / {}", info.message_zh, info.message_en)
    }
}

#[async_trait::async_trait]
impl poscore_terminal::Printer for DevicePrinter {
    async fn print(&self, job: &PrintJob) -> Result<(), String> {
        // Refuse to send into a known fault: the status first, bounded like the job.
        let device = Arc::clone(&self.device);
        let before = tokio::task::spawn_blocking(move || device.status());
        match tokio::time::timeout(self.watchdog, before).await {
            Err(_) => return Err(format!("打印机状态无应答（{} 秒）/ the printer's status did not come in {} s", self.watchdog.as_secs(), self.watchdog.as_secs())),
            Ok(Err(join)) => return Err(format!("打印机状态回调出错 / the printer's status callback failed: {join}")),
            Ok(Ok(Err(error))) => return Err(format!("{error}")),
            Ok(Ok(Ok(status))) if !condition_of(status.vendor, status.raw_code).can_print() => return Err(Self::fault_text(&status)),
            Ok(Ok(Ok(_))) => {}
        }
        let slip = slip_text::slip(job, &self.merchant_name);
        let device = Arc::clone(&self.device);
        let call = tokio::task::spawn_blocking(move || device.print(slip));
        match tokio::time::timeout(self.watchdog, call).await {
            Err(_) => Err(format!("打印机无应答（{} 秒）/ the printer did not answer in {} s", self.watchdog.as_secs(), self.watchdog.as_secs())),
            Ok(Err(join)) => Err(format!("打印回调出错 / the printer callback failed: {join}")),
            Ok(Ok(Err(error))) => Err(format!("{error}")),
            Ok(Ok(Ok(status))) if condition_of(status.vendor, status.raw_code).can_print() => Ok(()),
            Ok(Ok(Ok(status))) => Err(Self::fault_text(&status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_tables() {
        assert_eq!(condition_of(PrinterVendor::Sunmi, 1), PrinterCondition::Ready);
        assert_eq!(condition_of(PrinterVendor::Sunmi, 4), PrinterCondition::PaperOut);
        assert_eq!(condition_of(PrinterVendor::Sunmi, 6), PrinterCondition::CoverOpen);
        assert_eq!(condition_of(PrinterVendor::Sunmi, 505), PrinterCondition::NotFound);
        assert_eq!(condition_of(PrinterVendor::Pax, 0), PrinterCondition::Ready);
        assert_eq!(condition_of(PrinterVendor::Pax, 2), PrinterCondition::PaperOut);
        assert_eq!(condition_of(PrinterVendor::Pax, 240), PrinterCondition::Busy);
        assert_eq!(condition_of(PrinterVendor::Pax, -16), PrinterCondition::Busy);
        assert_eq!(condition_of(PrinterVendor::Pax, 9), PrinterCondition::LowVoltage);
        assert_eq!(condition_of(PrinterVendor::Landi, 0xF0), PrinterCondition::PaperOut);
        assert_eq!(condition_of(PrinterVendor::Landi, 0xF4), PrinterCondition::PaperLow);
        assert!(condition_of(PrinterVendor::Landi, 0xF4).can_print());
        assert_eq!(condition_of(PrinterVendor::Landi, 0xEE), PrinterCondition::PaperJam);
        assert_eq!(condition_of(PrinterVendor::Landi, 0xFC), PrinterCondition::HardwareError);
        assert_eq!(condition_of(PrinterVendor::Sunmi, 999), PrinterCondition::Unknown);
        assert_eq!(condition_of(PrinterVendor::Lakala, 0xF0), PrinterCondition::PaperOut);
        let unknown = describe_printer_status(DeviceStatus { vendor: PrinterVendor::Pax, raw_code: 77, detail: None });
        assert!(!unknown.can_print && unknown.message_en.contains("unknown fault (code 77)"), "{unknown:?}");
        let info = describe_printer_status(DeviceStatus { vendor: PrinterVendor::Sunmi, raw_code: 4, detail: None });
        assert!(!info.can_print && info.message_zh.contains("缺纸") && info.message_en.contains("out of paper"));
    }
}
