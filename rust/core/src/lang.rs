//! Operator-facing language selection and bilingual messages.
//!
//! Every error and notice a cashier may see carries Chinese and English text. The
//! [`Bilingual`] trait is how the CLI and the UI ask for it.

/// The language an operator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese (the default on terminals sold in mainland China).
    Zh,
    /// English.
    #[default]
    En,
}

impl Lang {
    /// Picks the language from a POSIX locale string such as the value of `LANG`
    /// (`zh_CN.UTF-8` gives Chinese; anything else, or nothing, gives English).
    pub fn from_locale(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }
}

/// Something with a stable machine code and a message an operator can act on,
/// in both languages: what happened, why, and what to do.
pub trait Bilingual {
    /// A stable code (`AMOUNT_ZERO`, `REVERSAL_PENDING`, …) for logs, tests and the UI.
    fn code(&self) -> &'static str;
    /// The message in Chinese.
    fn zh(&self) -> String;
    /// The message in English.
    fn en(&self) -> String;
    /// The message in the given language.
    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => self.zh(),
            Lang::En => self.en(),
        }
    }
}
