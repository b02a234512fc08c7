//! Money: an integer count of minor units with an ISO 4217 currency. Never a float.
//!
//! [`Money::parse`] is the one way an amount typed by a cashier enters the system. It is
//! strict: zero, negative, too many decimals, overflow and any stray character are each
//! refused with their own [`AmountError`].

use std::fmt;

use crate::lang::Bilingual;

/// The largest amount ISO 8583 field 4 (n12) can carry, in minor units.
pub const MAX_MINOR_UNITS: u64 = 999_999_999_999;

/// An ISO 4217 currency: alphabetic code, numeric code and number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    alpha: [u8; 3],
    numeric: u16,
    exponent: u8,
}

/// The currencies this terminal knows, as (alpha, numeric, exponent).
const KNOWN_CURRENCIES: &[(&str, u16, u8)] = &[
    ("CNY", 156, 2),
    ("HKD", 344, 2),
    ("MOP", 446, 2),
    ("TWD", 901, 2),
    ("USD", 840, 2),
    ("EUR", 978, 2),
    ("GBP", 826, 2),
    ("SGD", 702, 2),
    ("JPY", 392, 0),
    ("KRW", 410, 0),
];

impl Currency {
    /// Chinese yuan renminbi, the default.
    pub const CNY: Currency = Currency {
        alpha: *b"CNY",
        numeric: 156,
        exponent: 2,
    };

    /// Looks a currency up by its alphabetic code (`"CNY"`), case-insensitively.
    pub fn from_code(code: &str) -> Option<Currency> {
        let upper = code.to_ascii_uppercase();
        KNOWN_CURRENCIES
            .iter()
            .find(|(alpha, _, _)| *alpha == upper)
            .map(|&(alpha, numeric, exponent)| {
                let b = alpha.as_bytes();
                Currency {
                    alpha: [b[0], b[1], b[2]],
                    numeric,
                    exponent,
                }
            })
    }

    /// Looks a currency up by its ISO 4217 numeric code (156 for CNY).
    pub fn from_numeric(numeric: u16) -> Option<Currency> {
        KNOWN_CURRENCIES
            .iter()
            .find(|(_, n, _)| *n == numeric)
            .and_then(|(alpha, _, _)| Currency::from_code(alpha))
    }

    /// The alphabetic code, e.g. `"CNY"`.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.alpha).expect("currency codes are ASCII")
    }

    /// The numeric code, e.g. 156 (ISO 8583 field 49).
    pub fn numeric(&self) -> u16 {
        self.numeric
    }

    /// How many decimal digits the minor unit has (2 for CNY, 0 for JPY).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::CNY
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money: a positive count of minor units (fen for CNY) in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: u64,
    currency: Currency,
}

/// Why an amount typed by an operator was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing was typed.
    #[error("the amount is empty; type an amount such as 12.34")]
    Empty,
    /// A minus sign was typed.
    #[error("the amount is negative; amounts are always positive")]
    Negative,
    /// The amount is zero.
    #[error("the amount is zero; a transaction needs an amount above zero")]
    Zero,
    /// More decimals than the currency's minor unit has.
    #[error("the amount has more than {max} decimal places; {currency} amounts have at most {max}")]
    TooManyDecimals {
        /// The most decimals the currency allows.
        max: u8,
        /// The currency.
        currency: Currency,
    },
    /// Above what the terminal and ISO 8583 can carry.
    #[error("the amount is too large; the most a transaction can carry is {max}")]
    Overflow {
        /// The largest amount, formatted.
        max: String,
    },
    /// A character that is not a digit or the one decimal point.
    #[error(
        "the amount has a stray character {ch:?} at position {position}; use digits and one '.' only"
    )]
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its 1-based position.
        position: usize,
    },
    /// A decimal point with no digits before or after it (`.5`, `12.`).
    #[error(
        "the amount {text:?} needs digits on both sides of the decimal point, e.g. 0.50 or 12.00"
    )]
    Malformed {
        /// What was typed.
        text: String,
    },
}

impl Bilingual for AmountError {
    fn code(&self) -> &'static str {
        match self {
            AmountError::Empty => "AMOUNT_EMPTY",
            AmountError::Negative => "AMOUNT_NEGATIVE",
            AmountError::Zero => "AMOUNT_ZERO",
            AmountError::TooManyDecimals { .. } => "AMOUNT_TOO_MANY_DECIMALS",
            AmountError::Overflow { .. } => "AMOUNT_OVERFLOW",
            AmountError::InvalidCharacter { .. } => "AMOUNT_INVALID_CHARACTER",
            AmountError::Malformed { .. } => "AMOUNT_MALFORMED",
        }
    }
    fn zh(&self) -> String {
        match self {
            AmountError::Empty => "金额为空：请输入金额，例如 12.34".into(),
            AmountError::Negative => "金额为负数：金额必须为正数".into(),
            AmountError::Zero => "金额为零：请输入大于零的金额".into(),
            AmountError::TooManyDecimals { max, currency } => {
                format!("金额小数位过多：{currency} 金额最多 {max} 位小数")
            }
            AmountError::Overflow { max } => format!("金额过大：单笔最多 {max}"),
            AmountError::InvalidCharacter { ch, position } => {
                format!("金额第 {position} 位有非法字符 {ch:?}：只能输入数字和一个小数点")
            }
            AmountError::Malformed { text } => {
                format!("金额 {text:?} 格式不对：小数点前后都要有数字，例如 0.50 或 12.00")
            }
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

impl Money {
    /// Makes an amount from minor units. `None` if zero or above [`MAX_MINOR_UNITS`].
    pub fn from_minor(minor: u64, currency: Currency) -> Option<Money> {
        (minor > 0 && minor <= MAX_MINOR_UNITS).then_some(Money { minor, currency })
    }

    /// Parses an amount typed by an operator, such as `"12.34"`, in `currency`.
    ///
    /// Accepts digits with at most one decimal point and at most as many decimals as the
    /// currency has minor digits. Refuses everything else with its own error.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, AmountError> {
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        if text.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let max_decimals = currency.exponent();
        let mut whole: u128 = 0;
        let mut fraction: u128 = 0;
        let mut decimals: u8 = 0;
        let mut seen_point = false;
        let mut whole_digits = 0usize;
        for (index, ch) in text.chars().enumerate() {
            match ch {
                '0'..='9' => {
                    let digit = u128::from(ch as u8 - b'0');
                    if seen_point {
                        decimals = decimals.saturating_add(1);
                        if decimals > max_decimals {
                            return Err(AmountError::TooManyDecimals {
                                max: max_decimals,
                                currency,
                            });
                        }
                        fraction = fraction * 10 + digit;
                    } else {
                        whole_digits += 1;
                        whole = whole * 10 + digit;
                        if whole > u128::from(MAX_MINOR_UNITS) {
                            return Err(Self::overflow(currency));
                        }
                    }
                }
                '.' if !seen_point && max_decimals > 0 => seen_point = true,
                '.' if !seen_point => {
                    return Err(AmountError::TooManyDecimals { max: 0, currency });
                }
                other => {
                    return Err(AmountError::InvalidCharacter {
                        ch: other,
                        position: index + 1,
                    });
                }
            }
        }
        if seen_point && (whole_digits == 0 || decimals == 0) {
            return Err(AmountError::Malformed {
                text: text.to_string(),
            });
        }
        let scale = 10u128.pow(u32::from(max_decimals));
        let minor = whole * scale + fraction * 10u128.pow(u32::from(max_decimals - decimals));
        if minor > u128::from(MAX_MINOR_UNITS) {
            return Err(Self::overflow(currency));
        }
        if minor == 0 {
            return Err(AmountError::Zero);
        }
        Ok(Money {
            minor: minor as u64,
            currency,
        })
    }

    fn overflow(currency: Currency) -> AmountError {
        let max = Money {
            minor: MAX_MINOR_UNITS,
            currency,
        };
        AmountError::Overflow {
            max: max.to_string(),
        }
    }

    /// The count of minor units (fen for CNY).
    pub fn minor_units(&self) -> u64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as a plain decimal, `"12.34"`, without the currency.
    pub fn to_decimal_string(&self) -> String {
        let exponent = u32::from(self.currency.exponent());
        if exponent == 0 {
            return self.minor.to_string();
        }
        let scale = 10u64.pow(exponent);
        format!(
            "{}.{:0width$}",
            self.minor / scale,
            self.minor % scale,
            width = exponent as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.to_decimal_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(text: &str) -> Result<u64, AmountError> {
        Money::parse(text, Currency::CNY).map(|m| m.minor_units())
    }

    #[test]
    fn parses_well_formed_amounts() {
        assert_eq!(cny("12.34"), Ok(1234));
        assert_eq!(cny("12.3"), Ok(1230));
        assert_eq!(cny("12"), Ok(1200));
        assert_eq!(cny("0.01"), Ok(1));
        assert_eq!(cny("007.50"), Ok(750));
        assert_eq!(cny("9999999999.99"), Ok(MAX_MINOR_UNITS));
    }

    #[test]
    fn refuses_each_malformed_amount_with_its_own_error() {
        assert_eq!(cny(""), Err(AmountError::Empty));
        assert_eq!(cny("-1.00"), Err(AmountError::Negative));
        assert_eq!(cny("0"), Err(AmountError::Zero));
        assert_eq!(cny("0.00"), Err(AmountError::Zero));
        assert!(matches!(
            cny("1.234"),
            Err(AmountError::TooManyDecimals { max: 2, .. })
        ));
        assert!(matches!(
            cny("10000000000.00"),
            Err(AmountError::Overflow { .. })
        ));
        assert!(matches!(
            cny("99999999999999999999999999"),
            Err(AmountError::Overflow { .. })
        ));
        assert_eq!(
            cny("12a"),
            Err(AmountError::InvalidCharacter {
                ch: 'a',
                position: 3
            })
        );
        assert_eq!(
            cny(" 12"),
            Err(AmountError::InvalidCharacter {
                ch: ' ',
                position: 1
            })
        );
        assert_eq!(
            cny("12.34 "),
            Err(AmountError::InvalidCharacter {
                ch: ' ',
                position: 6
            })
        );
        assert_eq!(
            cny("+12"),
            Err(AmountError::InvalidCharacter {
                ch: '+',
                position: 1
            })
        );
        assert_eq!(
            cny("1,000"),
            Err(AmountError::InvalidCharacter {
                ch: ',',
                position: 2
            })
        );
        assert_eq!(
            cny("1.2.3"),
            Err(AmountError::InvalidCharacter {
                ch: '.',
                position: 4
            })
        );
        assert_eq!(
            cny("1e5"),
            Err(AmountError::InvalidCharacter {
                ch: 'e',
                position: 2
            })
        );
        assert_eq!(
            cny("１２"),
            Err(AmountError::InvalidCharacter {
                ch: '１',
                position: 1
            })
        );
        assert!(matches!(cny(".5"), Err(AmountError::Malformed { .. })));
        assert!(matches!(cny("12."), Err(AmountError::Malformed { .. })));
        assert!(matches!(cny("."), Err(AmountError::Malformed { .. })));
    }

    #[test]
    fn zero_decimal_currencies_take_no_point() {
        let jpy = Currency::from_code("jpy").unwrap();
        assert_eq!(Money::parse("500", jpy).unwrap().minor_units(), 500);
        assert!(matches!(
            Money::parse("5.0", jpy),
            Err(AmountError::TooManyDecimals { max: 0, .. })
        ));
        assert_eq!(Money::parse("500", jpy).unwrap().to_string(), "JPY 500");
    }

    #[test]
    fn formats_with_all_minor_digits() {
        let m = Money::parse("12.3", Currency::CNY).unwrap();
        assert_eq!(m.to_decimal_string(), "12.30");
        assert_eq!(m.to_string(), "CNY 12.30");
        assert_eq!(
            Money::from_minor(5, Currency::CNY)
                .unwrap()
                .to_decimal_string(),
            "0.05"
        );
        assert_eq!(Money::from_minor(0, Currency::CNY), None);
    }

    #[test]
    fn every_error_has_both_languages_and_a_code() {
        for e in [
            cny(""),
            cny("-1"),
            cny("0"),
            cny("1.234"),
            cny("1e9999999999"),
            cny("x"),
            cny("."),
        ] {
            let e = e.unwrap_err();
            assert!(!e.zh().is_empty() && !e.en().is_empty());
            assert!(e.code().starts_with("AMOUNT_"));
        }
    }

    #[test]
    fn currency_lookup() {
        assert_eq!(Currency::from_numeric(156), Some(Currency::CNY));
        assert_eq!(Currency::from_code("XXX"), None);
        assert_eq!(Currency::default().code(), "CNY");
    }
}
