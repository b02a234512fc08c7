//! The one error type Kotlin sees: `PosException`, a sealed class with one subclass per
//! variant. Every variant carries a stable code and the operator's message in Chinese and
//! English.

use poscore::Bilingual;
use poscore_terminal::TerminalError;

/// Why a call failed. Nothing that was committed is lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PosError {
    /// An input was malformed (amount, card number, expiry, trace, request id, settings).
    #[error("{code}: {message_en}")]
    InvalidInput {
        /// Stable code, e.g. `AMOUNT_TOO_MANY_DECIMALS`.
        code: String,
        /// The message in Chinese.
        message_zh: String,
        /// The message in English.
        message_en: String,
    },
    /// A rule refused the command (over the completion limit, already voided, host
    /// unreachable with nothing sent, …). Nothing was sent.
    #[error("{code}: {message_en}")]
    Refused {
        /// Stable code, e.g. `COMPLETION_OVER_LIMIT`.
        code: String,
        /// The message in Chinese.
        message_zh: String,
        /// The message in English.
        message_en: String,
    },
    /// The journal (storage) failed; the terminal stops taking transactions.
    #[error("{code}: {message_en}")]
    Storage {
        /// Stable code, e.g. `JOURNAL_SQLITE`.
        code: String,
        /// The message in Chinese.
        message_zh: String,
        /// The message in English.
        message_en: String,
    },
    /// The terminal object was closed.
    #[error("{code}: {message_en}")]
    Closed {
        /// Always `TERMINAL_CLOSED`.
        code: String,
        /// The message in Chinese.
        message_zh: String,
        /// The message in English.
        message_en: String,
    },
    /// A device implemented on the Kotlin side (printer, key store) failed.
    #[error("{code}: {message_en}")]
    Device {
        /// Stable code, e.g. `DEVICE_CALLBACK`.
        code: String,
        /// The message in Chinese.
        message_zh: String,
        /// The message in English.
        message_en: String,
    },
    /// A bug: a panic inside the core, caught before it crossed into Kotlin.
    #[error("{code}: {message_en}")]
    Internal {
        /// Always `INTERNAL`.
        code: String,
        /// The message in Chinese.
        message_zh: String,
        /// The message in English.
        message_en: String,
    },
}

impl PosError {
    /// The stable code.
    pub fn code(&self) -> &str {
        match self {
            PosError::InvalidInput { code, .. }
            | PosError::Refused { code, .. }
            | PosError::Storage { code, .. }
            | PosError::Closed { code, .. }
            | PosError::Device { code, .. }
            | PosError::Internal { code, .. } => code,
        }
    }

    /// A bad input, from any bilingual error.
    pub fn invalid(error: &dyn Bilingual) -> PosError {
        PosError::InvalidInput {
            code: error.code().into(),
            message_zh: error.zh(),
            message_en: error.en(),
        }
    }

    /// A refusal, from any bilingual error.
    pub fn refused(error: &dyn Bilingual) -> PosError {
        PosError::Refused {
            code: error.code().into(),
            message_zh: error.zh(),
            message_en: error.en(),
        }
    }

    /// A storage failure, from any bilingual error.
    pub fn storage(error: &dyn Bilingual) -> PosError {
        PosError::Storage {
            code: error.code().into(),
            message_zh: error.zh(),
            message_en: error.en(),
        }
    }

    /// The terminal was closed.
    pub fn closed() -> PosError {
        PosError::Closed {
            code: "TERMINAL_CLOSED".into(),
            message_zh: "终端已关闭：请重新打开终端".into(),
            message_en: "the terminal is closed; open it again".into(),
        }
    }

    /// A device on the Kotlin side failed.
    pub fn device(code: &str, zh: String, en: String) -> PosError {
        PosError::Device {
            code: code.into(),
            message_zh: zh,
            message_en: en,
        }
    }

    /// A caught panic.
    pub fn internal(what: &str) -> PosError {
        PosError::Internal {
            code: "INTERNAL".into(),
            message_zh: format!("内部错误（{what}）：交易日志未受影响，请重启应用并联系客服"),
            message_en: format!(
                "internal error ({what}); the journal is unaffected, restart the app and call support"
            ),
        }
    }
}

impl From<poscore::CommandError> for PosError {
    fn from(error: poscore::CommandError) -> PosError {
        use poscore::CommandError as E;
        match &error {
            E::Amount(_) | E::Card(_) | E::Id(_) | E::CurrencyMismatch { .. } => {
                PosError::invalid(&error)
            }
            E::Journal(_) => PosError::storage(&error),
            _ => PosError::refused(&error),
        }
    }
}

impl From<TerminalError> for PosError {
    fn from(error: TerminalError) -> PosError {
        match error {
            TerminalError::Refused(e) => e.into(),
            TerminalError::ShutDown => PosError::closed(),
            stopped @ TerminalError::Stopped { .. } => PosError::storage(&stopped),
        }
    }
}

impl From<poscore::JournalError> for PosError {
    fn from(error: poscore::JournalError) -> PosError {
        PosError::storage(&error)
    }
}

/// A Kotlin implementation of a foreign trait threw something the trait does not declare.
impl From<uniffi::UnexpectedUniFFICallbackError> for PosError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> PosError {
        PosError::device(
            "DEVICE_CALLBACK",
            format!("设备回调出错：{}", error.reason),
            format!("a device callback failed: {}", error.reason),
        )
    }
}
