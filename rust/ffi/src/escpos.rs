//! ESC/POS printers reached from Kotlin by address (a network printer on port 9100, a
//! serial or USB character device): their status and the self-test page, through
//! `poscore-printer`'s job protocol (a page counts as printed only when the printer
//! confirms it). The self-test page is also available as raw ESC/POS bytes, for vendor SDKs
//! that accept them (Sunmi `sendRAWData`).

use std::sync::Arc;
use std::time::Duration;

use poscore_escpos::profile::{QrMode, SingleByteCharset, TextEncoding};
use poscore_escpos::{Paper, PaperWidth, PrinterStatus, Profile};
use poscore_printer::job::{EscPosPrinter, JobConfig, PrintError};
use poscore_printer::transport::PrinterAddress;
use poscore_printer::{Condition, selftest};

use crate::error::PosError;
use crate::printer::PrinterCondition;
use crate::runtime::run;

/// The paper roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PaperSize {
    /// 58 mm: 384 dots, 32 columns.
    Mm58,
    /// 80 mm: 576 dots, 48 columns.
    Mm80,
}

/// The printer's text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PrinterEncoding {
    /// GB18030 in Chinese mode (most Chinese printers).
    Gb18030,
    /// GBK in Chinese mode.
    Gbk,
    /// UTF-8.
    Utf8,
    /// PC437 (`ESC t 0`), no Chinese.
    Pc437,
}

/// What an ESC/POS printer model can do.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EscPosProfile {
    /// The paper roll.
    pub paper: PaperSize,
    /// The text encoding.
    pub encoding: PrinterEncoding,
    /// Send QR codes as images (printers without `GS ( k`).
    pub raster_qr: bool,
    /// The printer answers `GS ( H` (otherwise jobs are confirmed with `GS r 1`).
    pub process_id: bool,
}

impl EscPosProfile {
    fn to_profile(&self) -> Profile {
        Profile {
            paper: match self.paper {
                PaperSize::Mm58 => PaperWidth::Mm58,
                PaperSize::Mm80 => PaperWidth::Mm80,
            },
            encoding: match self.encoding {
                PrinterEncoding::Gb18030 => TextEncoding::Gb18030,
                PrinterEncoding::Gbk => TextEncoding::Gbk,
                PrinterEncoding::Utf8 => TextEncoding::Utf8,
                PrinterEncoding::Pc437 => TextEncoding::SingleByte {
                    code_page: 0,
                    charset: SingleByteCharset::Pc437,
                },
            },
            qr: if self.raster_qr {
                QrMode::Raster
            } else {
                QrMode::Native
            },
            process_id: self.process_id,
        }
    }
}

/// 58 mm, GB18030, native QR, `GS ( H`: the usual Chinese receipt printer.
#[uniffi::export]
pub fn default_escpos_profile() -> EscPosProfile {
    EscPosProfile {
        paper: PaperSize::Mm58,
        encoding: PrinterEncoding::Gb18030,
        raster_qr: false,
        process_id: true,
    }
}

/// The paper sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PaperState {
    /// Paper present.
    Ok,
    /// Near the end: still prints.
    NearEnd,
    /// Out.
    Out,
}

/// An ESC/POS printer's status, read with `DLE EOT 1–4`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EscPosStatus {
    /// The worst condition the status shows.
    pub condition: PrinterCondition,
    /// Whether a slip can be printed now.
    pub can_print: bool,
    /// Online.
    pub online: bool,
    /// The paper sensor.
    pub paper: PaperState,
    /// The cover is open.
    pub cover_open: bool,
    /// The head overheated (clears by itself).
    pub overheated: bool,
    /// The cutter failed.
    pub cutter_error: bool,
    /// An unrecoverable or mechanical error.
    pub unrecoverable_error: bool,
    /// What to tell the operator, in Chinese.
    pub message_zh: String,
    /// What to tell the operator, in English.
    pub message_en: String,
}

impl From<PrinterStatus> for EscPosStatus {
    fn from(status: PrinterStatus) -> Self {
        let condition = Condition::of_status(&status);
        let (zh, en) = condition.remedy();
        EscPosStatus {
            condition: condition.into(),
            can_print: condition.can_print(),
            online: status.online,
            paper: match status.paper {
                Paper::Ok => PaperState::Ok,
                Paper::NearEnd => PaperState::NearEnd,
                Paper::Out => PaperState::Out,
            },
            cover_open: status.cover_open,
            overheated: status.recoverable_error,
            cutter_error: status.cutter_error,
            unrecoverable_error: status.unrecoverable_error || status.mechanical_error,
            message_zh: zh.to_string(),
            message_en: en.to_string(),
        }
    }
}

/// A self-test page the printer confirmed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SelfTestReport {
    /// Bytes sent, with the protocol's requests.
    pub bytes_sent: u64,
    /// From the start of the job to the printer's confirmation.
    pub elapsed_ms: u64,
}

fn bad_address(error: impl std::fmt::Display) -> PosError {
    PosError::InvalidInput {
        code: "PRINTER_ADDRESS".into(),
        message_zh: format!("打印机地址无效：{error}"),
        message_en: format!("bad printer address: {error}"),
    }
}

fn printer_error(error: PrintError) -> PosError {
    let condition = error.condition();
    let (zh, _) = condition.remedy();
    PosError::device(
        &format!("PRINTER_{}", condition.code().to_uppercase()),
        zh.to_string(),
        error.to_string(),
    )
}

fn driver(
    address: &str,
    profile: &EscPosProfile,
    timeout_ms: u64,
) -> Result<EscPosPrinter, PosError> {
    let address: PrinterAddress = address.parse().map_err(bad_address)?;
    let timeout = Duration::from_millis(timeout_ms.max(1));
    let config = JobConfig {
        confirm_timeout: timeout,
        status_timeout: timeout,
        ..JobConfig::default()
    };
    Ok(EscPosPrinter::new(
        Arc::new(address),
        profile.to_profile(),
        config,
    ))
}

/// Reads an ESC/POS printer's status. `address`: `HOST:PORT`, `tcp:HOST`,
/// `/dev/ttyS1?baud=9600`, `/dev/usb/lp0`. Each reply is awaited `timeout_ms`.
#[uniffi::export]
pub async fn escpos_printer_status(
    address: String,
    profile: EscPosProfile,
    timeout_ms: u64,
) -> Result<EscPosStatus, PosError> {
    let driver = driver(&address, &profile, timeout_ms)?;
    run(async move {
        driver
            .status()
            .await
            .map(EscPosStatus::from)
            .map_err(printer_error)
    })
    .await
}

/// Prints the self-test page (paper width, encoding, Chinese and English, ruler, QR) and
/// waits up to `timeout_ms` for the printer's confirmation. A fault is a
/// `PosException.Device` whose code names it (`PRINTER_PAPER_OUT`, …).
#[uniffi::export]
pub async fn escpos_print_self_test(
    address: String,
    profile: EscPosProfile,
    timeout_ms: u64,
) -> Result<SelfTestReport, PosError> {
    let driver = driver(&address, &profile, timeout_ms)?;
    let page = selftest::document(&profile.to_profile());
    run(async move {
        let receipt = driver.print(&page).await.map_err(printer_error)?;
        Ok(SelfTestReport {
            bytes_sent: receipt.bytes_sent as u64,
            elapsed_ms: receipt.elapsed.as_millis() as u64,
        })
    })
    .await
}

/// The self-test page as ESC/POS bytes, for a vendor SDK's raw-data call.
#[uniffi::export]
pub fn self_test_escpos_bytes(profile: EscPosProfile) -> Result<Vec<u8>, PosError> {
    let profile = profile.to_profile();
    poscore_escpos::encode(&selftest::document(&profile), &profile)
        .map_err(|e| printer_error(PrintError::Document(e)))
}
