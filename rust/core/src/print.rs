//! Printing as the engine sees it: one fault taxonomy ([`Condition`]) for ESC/POS status
//! bits and vendor codes, the outcome of one print attempt ([`PrintOutcome`]), and the five
//! causes a slip can be late for ([`Cause`], DESIGN.md), each with the operator's remedy in
//! Chinese and English. The printer driver (`poscore-printer`) produces these; the engine
//! decides from them whether a job is printed, retried, held for the operator, or marked so
//! that its next copy says REPRINT.

use poscore_escpos::{Paper, PrinterStatus};

/// What a printer's state means, whatever reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
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
    /// The print head overheated (clears by itself).
    Overheated,
    /// The cutter jammed.
    CutterError,
    /// Paper jam.
    PaperJam,
    /// Battery or supply voltage too low.
    LowVoltage,
    /// The print data was refused (format, size, missing font).
    DataError,
    /// The link to the printer failed or it did not answer.
    CommunicationError,
    /// No printer was found.
    NotFound,
    /// Offline for no reason the printer gave.
    Offline,
    /// Another hardware fault (mechanical, unrecoverable, black mark, head lifted, …).
    HardwareError,
    /// A code no table knows. Never taken for success.
    Unknown,
}

impl Condition {
    /// Whether a job can be (or was) printed in this condition.
    pub fn can_print(self) -> bool {
        matches!(self, Condition::Ready | Condition::PaperLow)
    }

    /// Every condition.
    pub const ALL: [Condition; 15] = [
        Condition::Ready,
        Condition::PaperLow,
        Condition::Busy,
        Condition::PaperOut,
        Condition::CoverOpen,
        Condition::Overheated,
        Condition::CutterError,
        Condition::PaperJam,
        Condition::LowVoltage,
        Condition::DataError,
        Condition::CommunicationError,
        Condition::NotFound,
        Condition::Offline,
        Condition::HardwareError,
        Condition::Unknown,
    ];

    /// The condition of a stable name (`paper_out`, …).
    pub fn from_code(code: &str) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether a job failing with this condition waits for the operator (held) rather than
    /// being retried with backoff: paper, cover, jams, cutter, power, a missing printer, a
    /// hardware fault. An overheated head, a busy printer or a dropped link clear by
    /// themselves, so those jobs are retried.
    pub fn holds(self) -> bool {
        matches!(
            self,
            Condition::PaperOut
                | Condition::CoverOpen
                | Condition::CutterError
                | Condition::PaperJam
                | Condition::LowVoltage
                | Condition::NotFound
                | Condition::HardwareError
                | Condition::Offline
        )
    }

    /// A stable name for logs, exports and tests (`paper_out`, …).
    pub fn code(self) -> &'static str {
        match self {
            Condition::Ready => "ready",
            Condition::PaperLow => "paper_low",
            Condition::Busy => "busy",
            Condition::PaperOut => "paper_out",
            Condition::CoverOpen => "cover_open",
            Condition::Overheated => "overheated",
            Condition::CutterError => "cutter_error",
            Condition::PaperJam => "paper_jam",
            Condition::LowVoltage => "low_voltage",
            Condition::DataError => "data_error",
            Condition::CommunicationError => "communication_error",
            Condition::NotFound => "not_found",
            Condition::Offline => "offline",
            Condition::HardwareError => "hardware_error",
            Condition::Unknown => "unknown",
        }
    }

    /// What to tell the operator: (Chinese, English), each with what to do.
    pub fn remedy(self) -> (&'static str, &'static str) {
        match self {
            Condition::Ready => ("打印机正常", "printer ready"),
            Condition::PaperLow => ("纸将用完：请准备新纸卷", "paper low: have a new roll ready"),
            Condition::Busy => ("打印机忙：稍后自动重试", "printer busy: it will be retried"),
            Condition::PaperOut => (
                "缺纸：请装入新纸卷并合上盖子，签购单会自动补打",
                "out of paper: load a new roll and close the cover; the slip prints by itself",
            ),
            Condition::CoverOpen => (
                "打印机盖未合上：请合上盖子，签购单会自动补打",
                "cover open: close it; the slip prints by itself",
            ),
            Condition::Overheated => (
                "打印头过热：请等待冷却，签购单会自动补打",
                "print head overheated: let it cool; the slip prints by itself",
            ),
            Condition::CutterError => (
                "切刀故障：请打开盖子清除卡纸后合上",
                "cutter jammed: open the cover, clear it, close it",
            ),
            Condition::PaperJam => (
                "卡纸：请打开盖子取出卡纸后合上",
                "paper jam: open the cover, remove the paper, close it",
            ),
            Condition::LowVoltage => (
                "电量过低：请连接电源后再打印",
                "voltage too low: connect the charger",
            ),
            Condition::DataError => (
                "打印数据错误：请联系客服",
                "print data refused: call support",
            ),
            Condition::CommunicationError => (
                "打印机通讯异常：请检查连接或重启终端",
                "printer link failed: check the cable or network, or restart the terminal",
            ),
            Condition::NotFound => (
                "未检测到打印机：请联系客服",
                "no printer found: call support",
            ),
            Condition::Offline => (
                "打印机离线：请检查打印机",
                "printer offline: check the printer",
            ),
            Condition::HardwareError => (
                "打印机硬件故障：请联系客服",
                "printer hardware fault: call support",
            ),
            Condition::Unknown => (
                "打印机未知故障：请联系客服",
                "unknown printer fault: call support",
            ),
        }
    }

    /// The worst condition an ESC/POS status shows (cover before paper before errors).
    pub fn of_status(status: &PrinterStatus) -> Condition {
        if status.cover_open {
            Condition::CoverOpen
        } else if status.paper == Paper::Out {
            Condition::PaperOut
        } else if status.unrecoverable_error || status.mechanical_error {
            Condition::HardwareError
        } else if status.cutter_error {
            Condition::CutterError
        } else if status.recoverable_error {
            Condition::Overheated
        } else if !status.online {
            Condition::Offline
        } else if status.paper == Paper::NearEnd {
            Condition::PaperLow
        } else {
            Condition::Ready
        }
    }
}

/// The result of one print attempt, as the printer driver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintOutcome {
    /// The printer confirmed the slip came out.
    Printed {
        /// Paper used, in millimetres (for the maintenance counters).
        length_mm: u32,
    },
    /// The slip did not (certainly) print.
    Failed {
        /// Why.
        condition: Condition,
        /// What happened, for the operator and support (bilingual text from the driver).
        detail: String,
        /// The slip may have come out although nothing confirmed it (no confirmation in
        /// time, a link lost after the data was sent): the next copy of this job is marked
        /// REPRINT, so an original is never printed twice unmarked.
        may_have_printed: bool,
    },
}

/// Why a slip is not (yet) printed: the five causes of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Paper out, cover open, overheated head, jam, cutter, power, link to the printer.
    PrinterHardware,
    /// The app was killed or crashed while the slip was printing.
    Software,
    /// Waiting for the operator (tear the paper off, resume), or a training transaction.
    Operator,
    /// The transaction's own message has not (yet) gone through: nothing to print yet.
    Network,
    /// The host may have approved but the terminal never saw the answer: the outcome is
    /// being resolved (reversal) before any slip.
    Sync,
}

impl Cause {
    /// A stable name (`printer_hardware`, `software`, `operator`, `network`, `sync`).
    pub fn code(self) -> &'static str {
        match self {
            Cause::PrinterHardware => "printer_hardware",
            Cause::Software => "software",
            Cause::Operator => "operator",
            Cause::Network => "network",
            Cause::Sync => "sync",
        }
    }

    /// The cause in words: (Chinese, English).
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Cause::PrinterHardware => ("打印机硬件", "printer hardware"),
            Cause::Software => ("软件（应用重启）", "software (the app restarted)"),
            Cause::Operator => ("操作员", "operator"),
            Cause::Network => ("网络", "network"),
            Cause::Sync => ("交易同步", "sync with the host"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bits_map_to_the_worst_condition() {
        let mut s = PrinterStatus::READY;
        assert_eq!(Condition::of_status(&s), Condition::Ready);
        s.paper = Paper::NearEnd;
        assert_eq!(Condition::of_status(&s), Condition::PaperLow);
        assert!(Condition::of_status(&s).can_print());
        s.recoverable_error = true;
        s.online = false;
        assert_eq!(Condition::of_status(&s), Condition::Overheated);
        s.paper = Paper::Out;
        assert_eq!(Condition::of_status(&s), Condition::PaperOut);
        s.cover_open = true;
        assert_eq!(Condition::of_status(&s), Condition::CoverOpen);
        let offline = PrinterStatus {
            online: false,
            ..PrinterStatus::READY
        };
        assert_eq!(Condition::of_status(&offline), Condition::Offline);
        assert!(!Condition::Unknown.can_print());
    }
}
