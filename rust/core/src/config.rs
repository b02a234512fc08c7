//! The terminal's settings, with their defaults and their checks.

use crate::host::TerminalIdentity;
use crate::ids::{MerchantId, OperatorId, TerminalId};
use crate::lang::Bilingual;
use crate::money::Currency;
use poscore_escpos::{Bitmap, PaperWidth};

/// Settings the engine runs with. [`Config::default`] is a usable demo terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The terminal's identity on every host message.
    pub identity: TerminalIdentity,
    /// The merchant's name, printed on slips.
    pub merchant_name: String,
    /// The currency of every amount.
    pub currency: Currency,
    /// How many slip copies an approval prints (热敏打印联数), 1–3. Default 2.
    pub slip_copies: u8,
    /// The most a completion may be, in percent of its pre-auth. Default 115.
    pub completion_limit_percent: u32,
    /// How many days a pre-auth can be completed. Default 30.
    pub preauth_valid_days: u32,
    /// How many times a reversal is sent before it becomes `failed` (冲正重发次数), 1–3.
    /// Link failures (nothing sent) do not count. Default 3.
    pub reversal_max_attempts: u32,
    /// The first retry delay of background work (reversals, advices, print jobs), in ms.
    /// It doubles with each attempt up to [`Config::retry_max_delay_ms`]. Default 2000.
    pub retry_base_delay_ms: u64,
    /// The longest retry delay, in ms. Default 60000.
    pub retry_max_delay_ms: u64,
    /// Training mode (培训): every new transaction is a training one, kept apart from real
    /// ones in the journal and the totals, and every slip is marked 培训 TRAINING. The driver
    /// runs training terminals against the simulated host only.
    pub training: bool,
    /// How slips are printed.
    pub printing: PrintConfig,
    /// The merchant's fee rates (商户手续费率) per payment channel. When any are set, the
    /// settlement slip shows an estimated fee per channel. Empty by default: the acquirer's
    /// contract decides them.
    pub fee_rates: Vec<FeeRate>,
    /// How many days card data of settled transactions is kept (PCI DSS 3.2.1), 30–3650.
    /// Each settlement then purges older settled transactions: the keyed PAN hash is
    /// cleared, the masked PAN is cut to the last 4 digits (`************1234`) and the
    /// signature is deleted (see `journal::retention`). Default 180.
    pub retention_days: u32,
    /// Scheduled automatic backups of the journal (数据备份). Off by default (no directory).
    pub backup: BackupConfig,
}

/// Scheduled automatic backups: the driver writes `poscore-YYYYMMDD-HHMMSS.db` (UTC) into
/// `dir` when `every_ms` has passed since the newest one there, and after each settlement,
/// then keeps only the newest `keep` (see `journal::backup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    /// Where backups go; `None` turns scheduled backups off. Put it on other storage than
    /// the journal (an SD card, a mounted share) where the device allows it.
    pub dir: Option<std::path::PathBuf>,
    /// How often, in ms: 60000 (a minute) to 604800000 (a week). Default 3600000 (an hour).
    pub every_ms: u64,
    /// How many backups are kept, 1–1000. Default 24.
    pub keep: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: None,
            every_ms: 3_600_000,
            keep: 24,
        }
    }
}

/// A payment channel a fee rate applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeChannel {
    /// Bank cards (银行卡). Every pre-authorization family transaction is a card one.
    Card,
    /// QR-code payments (扫码). This terminal's pre-authorizations never are, so the
    /// channel's base is zero; the line is printed so the merchant sees the rate.
    Qr,
}

impl FeeChannel {
    /// The channel's name on slips: (Chinese, English).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            FeeChannel::Card => ("银行卡", "CARD"),
            FeeChannel::Qr => ("扫码", "QR"),
        }
    }
}

/// A merchant fee rate: `basis_points` hundredths of a percent of the channel's settled
/// amount (0.6 % = 60, 0.38 % = 38).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeRate {
    /// The channel.
    pub channel: FeeChannel,
    /// The rate, in basis points (0–1000, i.e. at most 10 %).
    pub basis_points: u32,
}

impl FeeRate {
    /// The estimated fee on `amount_minor`, rounded half up to the minor unit.
    pub fn fee_on(&self, amount_minor: u64) -> u64 {
        let fee = (u128::from(amount_minor) * u128::from(self.basis_points) + 5_000) / 10_000;
        u64::try_from(fee).unwrap_or(u64::MAX)
    }
}

/// How slips are printed and delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintConfig {
    /// The paper roll.
    pub paper: PaperWidth,
    /// Lines printed under the logo on every slip (the merchant's header).
    pub header_lines: Vec<String>,
    /// A logo printed at the top of every slip (at most the paper's width in dots).
    pub logo: Option<Bitmap>,
    /// Hold the next copy after each copy until the operator says the paper was torn off
    /// ("tear the paper, then continue"). Default off.
    pub tear_prompt: bool,
    /// A copy whose printer has been failing this long is delivered as an electronic receipt
    /// instead, in ms; 0 = only on request. Default 120000.
    pub e_receipt_after_ms: u64,
    /// After an electronic receipt, still print the paper copy (marked REPRINT) once the
    /// printer works again. Default on.
    pub paper_after_e_receipt: bool,
    /// The length of a new paper roll, in mm, for the paper-low forecast. Default 19000
    /// (a 40 mm roll; measure yours).
    pub roll_length_mm: u32,
    /// The local time's offset from UTC in minutes, for times printed on slips (the journal
    /// keeps UTC). Default +480, China Standard Time.
    pub utc_offset_minutes: i32,
}

impl Default for PrintConfig {
    fn default() -> Self {
        PrintConfig {
            paper: PaperWidth::Mm58,
            header_lines: Vec::new(),
            logo: None,
            tear_prompt: false,
            e_receipt_after_ms: 120_000,
            paper_after_e_receipt: true,
            roll_length_mm: 19_000,
            utc_offset_minutes: 480,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            identity: TerminalIdentity {
                merchant_id: MerchantId::parse("898310048990001").expect("valid default"),
                terminal_id: TerminalId::parse("10000001").expect("valid default"),
                operator_id: OperatorId::parse("01").expect("valid default"),
            },
            merchant_name: "POSCORE DEMO MERCHANT 演示商户".into(),
            currency: Currency::CNY,
            slip_copies: 2,
            completion_limit_percent: 115,
            preauth_valid_days: 30,
            reversal_max_attempts: 3,
            retry_base_delay_ms: 2_000,
            retry_max_delay_ms: 60_000,
            training: false,
            printing: PrintConfig::default(),
            fee_rates: Vec::new(),
            retention_days: 180,
            backup: BackupConfig::default(),
        }
    }
}

/// A setting out of its range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name} = {value} is out of range: it must be {range}")]
pub struct ConfigError {
    /// The setting.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// The allowed range, in words.
    pub range: &'static str,
}

impl Bilingual for ConfigError {
    fn code(&self) -> &'static str {
        "CONFIG_RANGE"
    }
    fn zh(&self) -> String {
        format!(
            "参数 {} = {} 超出范围：应为 {}",
            self.name, self.value, self.range
        )
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

impl Config {
    /// Checks every setting's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn check(
            ok: bool,
            name: &'static str,
            value: impl ToString,
            range: &'static str,
        ) -> Result<(), ConfigError> {
            if ok {
                Ok(())
            } else {
                Err(ConfigError {
                    name,
                    value: value.to_string(),
                    range,
                })
            }
        }
        check(
            (1..=3).contains(&self.slip_copies),
            "slip_copies",
            self.slip_copies,
            "1 to 3",
        )?;
        check(
            (100..=200).contains(&self.completion_limit_percent),
            "completion_limit_percent",
            self.completion_limit_percent,
            "100 to 200",
        )?;
        check(
            (1..=60).contains(&self.preauth_valid_days),
            "preauth_valid_days",
            self.preauth_valid_days,
            "1 to 60",
        )?;
        check(
            (1..=3).contains(&self.reversal_max_attempts),
            "reversal_max_attempts",
            self.reversal_max_attempts,
            "1 to 3",
        )?;
        check(
            (1..=600_000).contains(&self.retry_base_delay_ms),
            "retry_base_delay_ms",
            self.retry_base_delay_ms,
            "1 to 600000",
        )?;
        check(
            self.retry_max_delay_ms >= self.retry_base_delay_ms
                && self.retry_max_delay_ms <= 3_600_000,
            "retry_max_delay_ms",
            self.retry_max_delay_ms,
            "at least retry_base_delay_ms and at most 3600000",
        )?;
        check(
            !self.merchant_name.is_empty() && self.merchant_name.chars().count() <= 40,
            "merchant_name",
            &self.merchant_name,
            "1 to 40 characters",
        )?;
        check(
            (30..=3650).contains(&self.retention_days),
            "retention_days",
            self.retention_days,
            "30 to 3650",
        )?;
        check(
            (60_000..=604_800_000).contains(&self.backup.every_ms),
            "backup.every_ms",
            self.backup.every_ms,
            "60000 (a minute) to 604800000 (a week)",
        )?;
        check(
            (1..=1_000).contains(&self.backup.keep),
            "backup.keep",
            self.backup.keep,
            "1 to 1000",
        )?;
        check(
            self.backup
                .dir
                .as_ref()
                .is_none_or(|dir| !dir.as_os_str().is_empty()),
            "backup.dir",
            "\"\"",
            "a directory path, or none to turn scheduled backups off",
        )?;
        for rate in &self.fee_rates {
            check(
                rate.basis_points <= 1_000,
                "fee_rates.basis_points",
                rate.basis_points,
                "0 to 1000 (at most 10 %)",
            )?;
        }
        check(
            self.fee_rates
                .iter()
                .enumerate()
                .all(|(i, r)| self.fee_rates[..i].iter().all(|o| o.channel != r.channel)),
            "fee_rates",
            format!(
                "{:?}",
                self.fee_rates.iter().map(|r| r.channel).collect::<Vec<_>>()
            ),
            "one rate per channel",
        )?;
        check(
            (1_000..=200_000).contains(&self.printing.roll_length_mm),
            "printing.roll_length_mm",
            self.printing.roll_length_mm,
            "1000 to 200000",
        )?;
        check(
            self.printing
                .logo
                .as_ref()
                .is_none_or(|logo| logo.width() <= self.printing.paper.dots()),
            "printing.logo",
            self.printing.logo.as_ref().map_or(0, |logo| logo.width()),
            "at most the paper's width in dots (384 on 58 mm, 576 on 80 mm)",
        )?;
        check(
            (-720..=840).contains(&self.printing.utc_offset_minutes),
            "printing.utc_offset_minutes",
            self.printing.utc_offset_minutes,
            "-720 to 840",
        )?;
        check(
            self.printing.header_lines.len() <= 8,
            "printing.header_lines",
            self.printing.header_lines.len(),
            "at most 8 lines",
        )?;
        Ok(())
    }

    /// The delay before retry number `attempt` (1-based) of background work.
    pub fn retry_delay_ms(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(20);
        self.retry_base_delay_ms
            .saturating_mul(1u64 << shift)
            .min(self.retry_max_delay_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_ranges_are_checked() {
        assert_eq!(Config::default().validate(), Ok(()));
        let bad = Config {
            slip_copies: 4,
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().name, "slip_copies");
        let bad = Config {
            reversal_max_attempts: 0,
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().name, "reversal_max_attempts");
        let bad = Config {
            completion_limit_percent: 99,
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().name, "completion_limit_percent");
        let bad = Config {
            backup: BackupConfig {
                every_ms: 1_000,
                ..BackupConfig::default()
            },
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().name, "backup.every_ms");
        let bad = Config {
            backup: BackupConfig {
                keep: 0,
                ..BackupConfig::default()
            },
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().name, "backup.keep");
        let bad = Config {
            backup: BackupConfig {
                dir: Some(std::path::PathBuf::new()),
                ..BackupConfig::default()
            },
            ..Config::default()
        };
        assert_eq!(bad.validate().unwrap_err().name, "backup.dir");
    }

    #[test]
    fn retry_delay_doubles_to_a_cap() {
        let c = Config::default();
        assert_eq!(c.retry_delay_ms(1), 2_000);
        assert_eq!(c.retry_delay_ms(2), 4_000);
        assert_eq!(c.retry_delay_ms(30), 60_000);
    }
}
