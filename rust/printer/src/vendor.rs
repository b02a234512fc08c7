//! Vendor SDK status codes mapped to the one [`Condition`] taxonomy
//! (reference/printers.md §1). Each table lists every code the reference knows; a code
//! outside the table is [`Condition::Unknown`] ("unknown fault (code N)"), never success.
//!
//! Lakala's codes are not published (reference: "no status tables found"); its SDK has
//! the same `onError(int)` shape as the Landi family, so its default table is the Landi
//! one, and [`VendorTables::set`] lets an integrator correct any code per device.

use std::collections::HashMap;

use crate::condition::Condition;

/// Whose status codes a number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// Sunmi `updatePrinterState()` (1 = normal).
    Sunmi,
    /// PAX NeptuneLite `IPrinter.getStatus()` / `start()` (0 = success; negative codes may
    /// arrive as unsigned bytes: 240 = −16).
    Pax,
    /// The Landi / Verifone / uSDK / bank device-service family (0x00 OK, 0xF0 paper ended).
    Landi,
    /// Lakala `AidlPrinter` (`onError(int)`, `getPrinterState()`); table unconfirmed.
    Lakala,
}

impl Vendor {
    /// Every vendor.
    pub const ALL: [Vendor; 4] = [Vendor::Sunmi, Vendor::Pax, Vendor::Landi, Vendor::Lakala];

    /// The vendor's name as shown to people and accepted by the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Sunmi => "sunmi",
            Vendor::Pax => "pax",
            Vendor::Landi => "landi",
            Vendor::Lakala => "lakala",
        }
    }

    /// The vendor of a name (`sunmi`, `pax`, `landi`, `lakala`), any case.
    pub fn from_name(name: &str) -> Option<Vendor> {
        Vendor::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(name))
    }

    /// The vendor's published table: (code, condition, the vendor's own meaning).
    pub fn table(self) -> &'static [(i32, Condition, &'static str)] {
        match self {
            Vendor::Sunmi => SUNMI,
            Vendor::Pax => PAX,
            Vendor::Landi | Vendor::Lakala => LANDI,
        }
    }
}

use Condition as C;

/// Sunmi `updatePrinterState()`.
const SUNMI: &[(i32, Condition, &str)] = &[
    (1, C::Ready, "normal"),
    (2, C::Busy, "preparing / updating"),
    (3, C::CommunicationError, "abnormal communication"),
    (4, C::PaperOut, "out of paper"),
    (5, C::Overheated, "overheated"),
    (6, C::CoverOpen, "cover open"),
    (7, C::CutterError, "cutter error"),
    (8, C::Ready, "cutter recovered"),
    (9, C::HardwareError, "black mark not detected"),
    (505, C::NotFound, "no printer detected"),
    (507, C::HardwareError, "firmware update failed"),
];

/// PAX `getStatus()` / `start()`, both the unsigned and the signed forms.
const PAX: &[(i32, Condition, &str)] = &[
    (0, C::Ready, "success"),
    (1, C::Busy, "busy"),
    (2, C::PaperOut, "out of paper"),
    (3, C::DataError, "print data packet format error"),
    (4, C::HardwareError, "malfunction"),
    (8, C::Overheated, "overheat"),
    (9, C::LowVoltage, "voltage too low"),
    (240, C::Busy, "printing unfinished"),
    (-16, C::Busy, "printing unfinished"),
    (252, C::DataError, "font library not installed"),
    (-4, C::DataError, "font library not installed"),
    (254, C::DataError, "data package too long"),
    (-2, C::DataError, "data package too long"),
    (-5, C::CoverOpen, "cover open (some models)"),
    (-6, C::CutterError, "cutter jam (some models)"),
];

/// The Landi-family `IPrinter` / `UPrinter` codes.
const LANDI: &[(i32, Condition, &str)] = &[
    (0x00, C::Ready, "OK"),
    (0xF0, C::PaperOut, "paper ended"),
    (0xF1, C::DataError, "no content"),
    (0xF2, C::HardwareError, "hardware error"),
    (0xF3, C::Overheated, "overheat"),
    (0xF4, C::PaperLow, "paper ending (still prints)"),
    (0xF5, C::DataError, "buffer overflow"),
    (0xF7, C::Busy, "busy"),
    (0xFB, C::HardwareError, "motor error"),
    (0xEE, C::PaperJam, "paper jam"),
    (0xE1, C::LowVoltage, "low voltage"),
    (0xF6, C::HardwareError, "black-mark / alignment error"),
    (0xF8, C::HardwareError, "black-mark / alignment error"),
    (0xFC, C::HardwareError, "head lifted"),
    (0xE0, C::HardwareError, "cutter position error"),
    (0xE2, C::HardwareError, "low temperature"),
    (0xE3, C::HardwareError, "power-on error"),
    (0xE6, C::HardwareError, "power-on error"),
];

/// One vendor code, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorCode {
    /// Whose code.
    pub vendor: Vendor,
    /// The code as the SDK gave it.
    pub code: i32,
    /// What it means for printing.
    pub condition: Condition,
    /// The vendor's own meaning, or "unknown fault (code N)".
    pub meaning: String,
}

impl VendorCode {
    /// The operator's message: (Chinese, English), with the remedy and the raw code.
    pub fn message(&self) -> (String, String) {
        let (zh, en) = self.condition.remedy();
        let vendor = self.vendor.name();
        (
            format!("{zh}（{vendor} 状态码 {}）", self.code),
            format!("{en} ({vendor} code {}: {})", self.code, self.meaning),
        )
    }
}

/// The vendor tables, with per-device corrections on top.
#[derive(Debug, Clone, Default)]
pub struct VendorTables {
    overrides: HashMap<(Vendor, i32), Condition>,
}

impl VendorTables {
    /// The published tables, no corrections.
    pub fn new() -> VendorTables {
        VendorTables::default()
    }

    /// Corrects (or adds) one code of one vendor, e.g. a Lakala code learned on site.
    pub fn set(&mut self, vendor: Vendor, code: i32, condition: Condition) {
        self.overrides.insert((vendor, code), condition);
    }

    /// Explains a code.
    pub fn explain(&self, vendor: Vendor, code: i32) -> VendorCode {
        let published = vendor.table().iter().find(|(c, _, _)| *c == code);
        let (condition, meaning) = match (self.overrides.get(&(vendor, code)), published) {
            (Some(&condition), _) => (
                condition,
                format!("set by the integrator: {}", condition.code()),
            ),
            (None, Some(&(_, condition, meaning))) => (condition, meaning.to_string()),
            (None, None) => (Condition::Unknown, format!("unknown fault (code {code})")),
        };
        VendorCode {
            vendor,
            code,
            condition,
            meaning,
        }
    }
}

/// Explains a code with the published tables.
pub fn explain(vendor: Vendor, code: i32) -> VendorCode {
    VendorTables::new().explain(vendor, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of reference/printers.md §1, with the condition it must map to.
    #[test]
    fn every_reference_code_maps() {
        let expected: &[(Vendor, i32, Condition)] = &[
            (Vendor::Sunmi, 1, C::Ready),
            (Vendor::Sunmi, 2, C::Busy),
            (Vendor::Sunmi, 3, C::CommunicationError),
            (Vendor::Sunmi, 4, C::PaperOut),
            (Vendor::Sunmi, 5, C::Overheated),
            (Vendor::Sunmi, 6, C::CoverOpen),
            (Vendor::Sunmi, 7, C::CutterError),
            (Vendor::Sunmi, 8, C::Ready),
            (Vendor::Sunmi, 9, C::HardwareError),
            (Vendor::Sunmi, 505, C::NotFound),
            (Vendor::Sunmi, 507, C::HardwareError),
            (Vendor::Pax, 0, C::Ready),
            (Vendor::Pax, 1, C::Busy),
            (Vendor::Pax, 2, C::PaperOut),
            (Vendor::Pax, 3, C::DataError),
            (Vendor::Pax, 4, C::HardwareError),
            (Vendor::Pax, 8, C::Overheated),
            (Vendor::Pax, 9, C::LowVoltage),
            (Vendor::Pax, 240, C::Busy),
            (Vendor::Pax, -16, C::Busy),
            (Vendor::Pax, 252, C::DataError),
            (Vendor::Pax, -4, C::DataError),
            (Vendor::Pax, 254, C::DataError),
            (Vendor::Pax, -2, C::DataError),
            (Vendor::Pax, -5, C::CoverOpen),
            (Vendor::Pax, -6, C::CutterError),
            (Vendor::Landi, 0x00, C::Ready),
            (Vendor::Landi, 0xF0, C::PaperOut),
            (Vendor::Landi, 0xF1, C::DataError),
            (Vendor::Landi, 0xF2, C::HardwareError),
            (Vendor::Landi, 0xF3, C::Overheated),
            (Vendor::Landi, 0xF4, C::PaperLow),
            (Vendor::Landi, 0xF5, C::DataError),
            (Vendor::Landi, 0xF7, C::Busy),
            (Vendor::Landi, 0xFB, C::HardwareError),
            (Vendor::Landi, 0xEE, C::PaperJam),
            (Vendor::Landi, 0xE1, C::LowVoltage),
            (Vendor::Landi, 0xF6, C::HardwareError),
            (Vendor::Landi, 0xF8, C::HardwareError),
            (Vendor::Landi, 0xFC, C::HardwareError),
            (Vendor::Landi, 0xE0, C::HardwareError),
            (Vendor::Landi, 0xE2, C::HardwareError),
            (Vendor::Landi, 0xE3, C::HardwareError),
            (Vendor::Landi, 0xE6, C::HardwareError),
            (Vendor::Lakala, 0x00, C::Ready),
            (Vendor::Lakala, 0xF0, C::PaperOut),
        ];
        for &(vendor, code, condition) in expected {
            assert_eq!(
                explain(vendor, code).condition,
                condition,
                "{vendor:?} {code}"
            );
        }
        // Every published row is covered by the list above.
        for vendor in [Vendor::Sunmi, Vendor::Pax, Vendor::Landi] {
            for &(code, _, _) in vendor.table() {
                assert!(
                    expected.iter().any(|&(v, c, _)| v == vendor && c == code),
                    "{vendor:?} {code} untested"
                );
            }
        }
    }

    #[test]
    fn unknown_codes_are_never_success() {
        for vendor in Vendor::ALL {
            for code in [-1000, -7, 10, 99, 0x7F, 0xFF, 506, i32::MAX] {
                let known = vendor.table().iter().any(|(c, _, _)| *c == code);
                if !known {
                    let explained = explain(vendor, code);
                    assert_eq!(explained.condition, Condition::Unknown);
                    assert!(
                        explained
                            .meaning
                            .contains(&format!("unknown fault (code {code})"))
                    );
                    assert!(!explained.condition.can_print());
                }
            }
        }
    }

    #[test]
    fn integrator_corrections_win() {
        let mut tables = VendorTables::new();
        tables.set(Vendor::Lakala, 0x2A, Condition::PaperOut);
        assert_eq!(
            tables.explain(Vendor::Lakala, 0x2A).condition,
            Condition::PaperOut
        );
        assert_eq!(
            tables.explain(Vendor::Landi, 0x2A).condition,
            Condition::Unknown
        );
        let (zh, en) = explain(Vendor::Sunmi, 4).message();
        assert!(
            zh.contains("缺纸")
                && zh.contains("4")
                && en.contains("out of paper")
                && en.contains("sunmi code 4")
        );
        assert_eq!(Vendor::from_name("PAX"), Some(Vendor::Pax));
    }
}
