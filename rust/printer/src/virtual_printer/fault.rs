//! The faults the virtual printer can be put into, when they strike, and their text forms
//! (for the CLI and the control protocol): `paper-out`, `cover-open`, `overheat=5s`,
//! `drop`, `never-confirm`; `now`, `after-bytes=200`, `before-confirm`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A fault the virtual printer can be put into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Paper end: offline, the job in progress is lost, `GS r` / `GS ( H` are not answered.
    PaperOut,
    /// Cover open: offline until closed, the job in progress is lost.
    CoverOpen,
    /// A recoverable error (head overheat) for this long: offline, the job in progress is
    /// lost; it clears by itself.
    Overheat(Duration),
    /// Closes the connection (the job in progress is lost).
    DropConnection,
    /// Prints, but never answers `GS ( H` or `GS r` (until cleared).
    NeverConfirm,
}

/// When an injected fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Immediately (before the next job). For [`Fault::DropConnection`]: every open
    /// connection is closed now; with none open, the next one is closed on its first data.
    Now,
    /// Once this many bytes of print data of the next job have arrived (mid-data). Real-time
    /// requests (`DLE EOT`) are not counted; bytes arriving while offline are not counted.
    AfterJobBytes(usize),
    /// When the next `GS ( H` / `GS r` request arrives (after the data), before answering:
    /// the fault strikes while that data is still printing, so the pages it finished
    /// (since the previous request, fault or connection) are marked cut short, except for
    /// [`Fault::NeverConfirm`], which prints and just does not answer.
    BeforeConfirm,
}

/// The accepted text forms of a [`Fault`], for error messages and help.
pub const FAULT_FORMS: &str =
    "paper-out, cover-open, overheat=<N>s (or overheat=<N>ms), drop, never-confirm";

/// The accepted text forms of a [`Trigger`], for error messages and help.
pub const TRIGGER_FORMS: &str = "now, after-bytes=<N>, before-confirm";

/// A fault or trigger text that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseFaultError {
    /// Not one of the fault forms.
    #[error("unknown fault {given:?}: use one of {FAULT_FORMS}")]
    UnknownFault {
        /// The text given.
        given: String,
    },
    /// An overheat without a readable duration.
    #[error("bad overheat duration {given:?}: write overheat=5s or overheat=500ms")]
    BadDuration {
        /// The text given.
        given: String,
    },
    /// Not one of the trigger forms.
    #[error("unknown trigger {given:?}: use one of {TRIGGER_FORMS}")]
    UnknownTrigger {
        /// The text given.
        given: String,
    },
    /// `after-bytes=` without a whole number.
    #[error("bad byte count in {given:?}: write after-bytes=200 (a whole number of bytes)")]
    BadByteCount {
        /// The text given.
        given: String,
    },
}

/// Reads `5s`, `1.5s`, `500ms` or a bare number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.trim().parse::<u64>().ok().map(Duration::from_millis);
    }
    let secs = text.strip_suffix('s').unwrap_or(text).trim();
    let secs: f64 = secs.parse().ok()?;
    if (0.0..1.0e9).contains(&secs) {
        Some(Duration::from_secs_f64(secs))
    } else {
        None
    }
}

impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Fault, ParseFaultError> {
        let text = s.trim().to_ascii_lowercase();
        let fault = match text.as_str() {
            "paper-out" | "paper_out" | "paperout" => Fault::PaperOut,
            "cover-open" | "cover_open" | "coveropen" => Fault::CoverOpen,
            "drop" | "drop-connection" | "drop_connection" => Fault::DropConnection,
            "never-confirm" | "never_confirm" | "neverconfirm" => Fault::NeverConfirm,
            _ => match text
                .strip_prefix("overheat=")
                .or_else(|| text.strip_prefix("overheat:"))
            {
                Some(duration) => Fault::Overheat(parse_duration(duration).ok_or_else(|| {
                    ParseFaultError::BadDuration {
                        given: s.to_string(),
                    }
                })?),
                None if text == "overheat" => {
                    return Err(ParseFaultError::BadDuration {
                        given: s.to_string(),
                    });
                }
                None => {
                    return Err(ParseFaultError::UnknownFault {
                        given: s.to_string(),
                    });
                }
            },
        };
        Ok(fault)
    }
}

impl FromStr for Trigger {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Trigger, ParseFaultError> {
        let text = s.trim().to_ascii_lowercase();
        match text.as_str() {
            "now" => Ok(Trigger::Now),
            "before-confirm" | "before_confirm" => Ok(Trigger::BeforeConfirm),
            _ => match text
                .strip_prefix("after-bytes=")
                .or_else(|| text.strip_prefix("after_bytes="))
            {
                Some(n) => n.trim().parse().map(Trigger::AfterJobBytes).map_err(|_| {
                    ParseFaultError::BadByteCount {
                        given: s.to_string(),
                    }
                }),
                None => Err(ParseFaultError::UnknownTrigger {
                    given: s.to_string(),
                }),
            },
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::PaperOut => f.write_str("paper-out"),
            Fault::CoverOpen => f.write_str("cover-open"),
            Fault::Overheat(d) if d.subsec_millis() == 0 && d.subsec_nanos() == 0 => {
                write!(f, "overheat={}s", d.as_secs())
            }
            Fault::Overheat(d) => write!(f, "overheat={}ms", d.as_millis()),
            Fault::DropConnection => f.write_str("drop"),
            Fault::NeverConfirm => f.write_str("never-confirm"),
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Now => f.write_str("now"),
            Trigger::AfterJobBytes(n) => write!(f, "after-bytes={n}"),
            Trigger::BeforeConfirm => f.write_str("before-confirm"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_in_every_form() {
        assert_eq!("paper-out".parse(), Ok(Fault::PaperOut));
        assert_eq!("Cover-Open".parse(), Ok(Fault::CoverOpen));
        assert_eq!(
            "overheat=5s".parse(),
            Ok(Fault::Overheat(Duration::from_secs(5)))
        );
        assert_eq!(
            "overheat=250ms".parse(),
            Ok(Fault::Overheat(Duration::from_millis(250)))
        );
        assert_eq!(
            "overheat=1.5".parse(),
            Ok(Fault::Overheat(Duration::from_millis(1500)))
        );
        assert_eq!("drop".parse(), Ok(Fault::DropConnection));
        assert_eq!("never-confirm".parse(), Ok(Fault::NeverConfirm));
    }

    #[test]
    fn bad_faults_name_the_accepted_forms() {
        let err = "jam".parse::<Fault>().unwrap_err();
        assert!(matches!(err, ParseFaultError::UnknownFault { .. }));
        let text = err.to_string();
        for form in [
            "paper-out",
            "cover-open",
            "overheat=",
            "drop",
            "never-confirm",
        ] {
            assert!(text.contains(form), "{text} lacks {form}");
        }
        assert!(matches!(
            "overheat=hot".parse::<Fault>(),
            Err(ParseFaultError::BadDuration { .. })
        ));
        assert!(matches!(
            "overheat".parse::<Fault>(),
            Err(ParseFaultError::BadDuration { .. })
        ));
        assert!(matches!(
            "overheat=-1s".parse::<Fault>(),
            Err(ParseFaultError::BadDuration { .. })
        ));
    }

    #[test]
    fn triggers_parse_and_bad_ones_name_the_forms() {
        assert_eq!("now".parse(), Ok(Trigger::Now));
        assert_eq!("after-bytes=200".parse(), Ok(Trigger::AfterJobBytes(200)));
        assert_eq!("before-confirm".parse(), Ok(Trigger::BeforeConfirm));
        let err = "later".parse::<Trigger>().unwrap_err().to_string();
        assert!(
            err.contains("now") && err.contains("after-bytes=") && err.contains("before-confirm"),
            "{err}"
        );
        assert!(matches!(
            "after-bytes=x".parse::<Trigger>(),
            Err(ParseFaultError::BadByteCount { .. })
        ));
    }

    #[test]
    fn display_round_trips() {
        for fault in [
            Fault::PaperOut,
            Fault::CoverOpen,
            Fault::Overheat(Duration::from_secs(3)),
            Fault::Overheat(Duration::from_millis(1500)),
            Fault::DropConnection,
            Fault::NeverConfirm,
        ] {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault.clone()));
        }
        for trigger in [
            Trigger::Now,
            Trigger::AfterJobBytes(17),
            Trigger::BeforeConfirm,
        ] {
            assert_eq!(trigger.to_string().parse::<Trigger>(), Ok(trigger));
        }
    }
}
