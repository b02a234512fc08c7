//! Identifiers: trace (voucher) and batch numbers, merchant, terminal and operator ids, and
//! the caller-chosen request id that makes commands idempotent.

use std::fmt;

use crate::lang::Bilingual;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not a number in 1..=999999.
    #[error("{what} {text:?} is not a number from 000001 to 999999")]
    SixDigit {
        /// Which identifier ("trace number", "batch number").
        what: &'static str,
        /// What was given.
        text: String,
    },
    /// Wrong length or characters.
    #[error("{what} {text:?} is not valid: it must be {rule}")]
    Format {
        /// Which identifier.
        what: &'static str,
        /// What was given.
        text: String,
        /// The rule, in English.
        rule: &'static str,
    },
}

impl Bilingual for IdError {
    fn code(&self) -> &'static str {
        match self {
            IdError::SixDigit { .. } => "ID_SIX_DIGIT",
            IdError::Format { .. } => "ID_FORMAT",
        }
    }
    fn zh(&self) -> String {
        match self {
            IdError::SixDigit { what, text } => format!(
                "{}“{text}”无效：应为 000001 到 999999 的数字",
                zh_name(what)
            ),
            IdError::Format { what, text, rule } => {
                format!("{}“{text}”格式不对（{rule}）", zh_name(what))
            }
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

fn zh_name(what: &str) -> &'static str {
    match what {
        "trace number" => "凭证号",
        "batch number" => "批次号",
        "merchant id" => "商户编号",
        "terminal id" => "终端编号",
        "operator id" => "操作员号",
        "request id" => "请求号",
        _ => "编号",
    }
}

fn parse_six_digit(what: &'static str, text: &str) -> Result<u32, IdError> {
    let err = || IdError::SixDigit {
        what,
        text: text.to_string(),
    };
    if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let n: u32 = text.parse().map_err(|_| err())?;
    if n == 0 {
        return Err(err());
    }
    Ok(n)
}

macro_rules! six_digit_number {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            /// The first number, 000001.
            pub const FIRST: $name = $name(1);

            /// Wraps a number; `None` unless it is in 1..=999999.
            pub fn new(n: u32) -> Option<$name> {
                (1..=999_999).contains(&n).then_some($name(n))
            }

            /// Parses up to six digits, 000001–999999.
            pub fn parse(text: &str) -> Result<$name, IdError> {
                parse_six_digit($what, text).map($name)
            }

            /// The number.
            pub fn value(self) -> u32 {
                self.0
            }

            /// The next number; 999999 wraps to 000001.
            pub fn next(self) -> $name {
                if self.0 >= 999_999 { $name(1) } else { $name(self.0 + 1) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:06}", self.0)
            }
        }
    };
}

six_digit_number!(
    /// The trace (voucher) number, ISO 8583 field 11 (凭证号): six digits, unique in a batch,
    /// made durable before the message that carries it is sent.
    TraceNumber,
    "trace number"
);
six_digit_number!(
    /// The batch number (批次号, field 60.2): six digits, incremented at each settlement.
    BatchNumber,
    "batch number"
);

fn check_chars(
    what: &'static str,
    text: &str,
    len: std::ops::RangeInclusive<usize>,
    rule: &'static str,
    ok: fn(u8) -> bool,
) -> Result<String, IdError> {
    if len.contains(&text.len()) && text.bytes().all(ok) {
        Ok(text.to_string())
    } else {
        Err(IdError::Format {
            what,
            text: text.to_string(),
            rule,
        })
    }
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $len:expr, $rule:literal, $ok:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses and checks the identifier.
            pub fn parse(text: &str) -> Result<$name, IdError> {
                check_chars($what, text, $len, $rule, $ok).map($name)
            }

            /// The identifier's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_id!(
    /// The merchant id (商户编号, field 42): 15 letters or digits.
    MerchantId, "merchant id", 15..=15, "15 letters or digits", |b| b.is_ascii_alphanumeric()
);
text_id!(
    /// The terminal id (终端编号, field 41): 8 letters or digits.
    TerminalId, "terminal id", 8..=8, "8 letters or digits", |b| b.is_ascii_alphanumeric()
);
text_id!(
    /// The operator id (操作员号): two digits, 01–99.
    OperatorId, "operator id", 2..=2, "two digits, 01 to 99", |b| b.is_ascii_digit()
);
text_id!(
    /// A caller-chosen request id: one id is one transaction, however often it is sent.
    /// 1–64 characters of letters, digits and `-_.:`.
    RequestId,
    "request id",
    1..=64,
    "1 to 64 letters, digits or - _ . :",
    |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_wraps_to_one() {
        assert_eq!(
            TraceNumber::new(999_999).unwrap().next(),
            TraceNumber::FIRST
        );
        assert_eq!(TraceNumber::new(41).unwrap().next().value(), 42);
        assert_eq!(TraceNumber::new(7).unwrap().to_string(), "000007");
        assert_eq!(TraceNumber::new(0), None);
        assert_eq!(TraceNumber::new(1_000_000), None);
    }

    #[test]
    fn trace_parse() {
        assert_eq!(TraceNumber::parse("000123").unwrap().value(), 123);
        assert_eq!(TraceNumber::parse("5").unwrap().value(), 5);
        for bad in ["", "0", "000000", "1234567", "12a", "-1"] {
            assert!(TraceNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_ids() {
        assert!(MerchantId::parse("898310048990001").is_ok());
        assert!(MerchantId::parse("89831004899000").is_err());
        assert!(TerminalId::parse("10000001").is_ok());
        assert!(TerminalId::parse("1000 001").is_err());
        assert!(OperatorId::parse("01").is_ok());
        assert!(OperatorId::parse("1").is_err());
        assert!(RequestId::parse("pos-2026-11-26:0001").is_ok());
        assert!(RequestId::parse("").is_err());
        assert!(RequestId::parse(&"x".repeat(65)).is_err());
        assert!(RequestId::parse("a b").is_err());
        let e = RequestId::parse("a b").unwrap_err();
        assert!(e.zh().contains("请求号"));
    }
}
