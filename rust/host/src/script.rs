//! A fault script for [`crate::HostSim`]: one rule per line, written by hand, applied as the
//! requests arrive.
//!
//! ```text
//! # Lose the answer to the second pre-auth; the terminal reverses it.
//! mti 0100 #2     drop
//! next            delay 3000ms     # and the request after it (the reversal) waits 3 s
//! amount 12.51    decline 51       # every 12.51 is declined 51 (insufficient funds)
//! request 1       sign-on          # the very first reply asks for a new sign-on
//! mti 0500        unbalanced       # every settlement is reported unbalanced
//! ```
//!
//! A line is `WHEN ACTION`; blank lines and everything from a `#` that starts a word are
//! ignored (except the `#K` right after `mti` or `amount`, which picks the K-th match).
//!
//! | WHEN | applies to |
//! |---|---|
//! | `request N` | the N-th request the host receives (1-based, every MTI, every connection) |
//! | `next` | the request right after the one the rule on the line above applied to (on the first line: the first request) |
//! | `mti 0100` | every request with this MTI; `mti 0100 #2`: only the second one |
//! | `amount 12.98` | every pre-auth, sale, completion or advice (0100, 0200, 0220) for this amount (F4); `#K` as for `mti` |
//!
//! | ACTION | effect on the reply to that request |
//! |---|---|
//! | `drop` | not sent (the request is processed: an approval stands) |
//! | `delay 5000ms` / `delay 5s` | sent after the delay (at most 10 minutes) |
//! | `bad-mac` | sent with a broken MAC |
//! | `twice` | sent twice |
//! | `close-mid-frame` | half of it sent, then the connection closed |
//! | `sign-on` | its header asks the terminal to sign on again |
//! | `unbalanced` / `balanced` | a settlement reply says the totals (do not) match |
//! | `decline 51` | answered with this response code instead; nothing approved or released |
//!
//! Several rules may apply to one request: their effects add up. A request the host does not
//! answer at all (amounts ending in .68 and .98) ignores its rules. Limits: 64 KiB, 1000 rules.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// The largest script accepted, in bytes.
pub const MAX_SCRIPT_BYTES: u64 = 64 * 1024;

/// The most rules a script may hold.
pub const MAX_RULES: usize = 1000;

/// The longest delay an action may ask for.
pub const MAX_DELAY: Duration = Duration::from_secs(600);

/// The forms of WHEN, for error messages.
pub const WHEN_FORMS: &str = "request N, next, mti 0100 [#K], amount 12.98 [#K]";

/// The forms of ACTION, for error messages.
pub const ACTION_FORMS: &str = "drop, delay 5000ms, bad-mac, twice, close-mid-frame, sign-on, unbalanced, balanced, decline 51";

/// The request MTIs whose F4 `amount` looks at.
const MONEY_MTIS: [&str; 3] = ["0100", "0200", "0220"];

/// When a rule applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// The N-th request overall (1-based).
    Request(u64),
    /// The request after the one the previous rule applied to.
    Next,
    /// Requests with this MTI: every one, or only the `nth`.
    Mti {
        /// Four digits, e.g. `0100`.
        mti: String,
        /// Only the nth such request (1-based).
        nth: Option<u64>,
    },
    /// Money requests (0100, 0200, 0220) for this amount in minor units: every one, or the `nth`.
    Amount {
        /// F4, in minor units (fen).
        minor: u64,
        /// Only the nth such request (1-based).
        nth: Option<u64>,
    },
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nth = |f: &mut fmt::Formatter<'_>, nth: &Option<u64>| match nth {
            Some(n) => write!(f, " #{n}"),
            None => Ok(()),
        };
        match self {
            When::Request(n) => write!(f, "request {n}"),
            When::Next => f.write_str("next"),
            When::Mti { mti, nth: n } => {
                write!(f, "mti {mti}")?;
                nth(f, n)
            }
            When::Amount { minor, nth: n } => {
                write!(f, "amount {}.{:02}", minor / 100, minor % 100)?;
                nth(f, n)
            }
        }
    }
}

/// What happens to the reply. The same words are the control port's commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The reply is not sent.
    Drop,
    /// The reply is sent after this delay.
    Delay(Duration),
    /// The reply's MAC is broken.
    BadMac,
    /// The reply is sent twice.
    Twice,
    /// Half the reply is sent, then the connection is closed.
    CloseMidFrame,
    /// The reply's header asks for a new sign-on.
    SignOn,
    /// A settlement reply says unbalanced.
    Unbalanced,
    /// A settlement reply says balanced.
    Balanced,
    /// The reply carries this response code (two characters, not `00`) and nothing is approved.
    Decline(String),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Drop => f.write_str("drop"),
            Action::Delay(d) => write!(f, "delay {}ms", d.as_millis()),
            Action::BadMac => f.write_str("bad-mac"),
            Action::Twice => f.write_str("twice"),
            Action::CloseMidFrame => f.write_str("close-mid-frame"),
            Action::SignOn => f.write_str("sign-on"),
            Action::Unbalanced => f.write_str("unbalanced"),
            Action::Balanced => f.write_str("balanced"),
            Action::Decline(code) => write!(f, "decline {code}"),
        }
    }
}

impl Action {
    /// Reads an action from its words (`["delay", "5000ms"]`).
    pub fn parse(words: &[&str]) -> Result<Action, ScriptErrorKind> {
        let Some((&name, rest)) = words.split_first() else {
            return Err(ScriptErrorKind::NoAction(String::new()));
        };
        let (action, used) = match name {
            "drop" => (Action::Drop, 0),
            "bad-mac" => (Action::BadMac, 0),
            "twice" => (Action::Twice, 0),
            "close-mid-frame" => (Action::CloseMidFrame, 0),
            "sign-on" => (Action::SignOn, 0),
            "unbalanced" => (Action::Unbalanced, 0),
            "balanced" => (Action::Balanced, 0),
            "delay" => {
                let arg = rest.first().ok_or(ScriptErrorKind::MissingArgument {
                    word: "delay",
                    needs: "a duration",
                    example: "delay 5000ms",
                })?;
                (Action::Delay(parse_delay(arg)?), 1)
            }
            "decline" => {
                let arg = rest.first().ok_or(ScriptErrorKind::MissingArgument {
                    word: "decline",
                    needs: "a response code",
                    example: "decline 51",
                })?;
                (Action::Decline(parse_code(arg)?), 1)
            }
            other => return Err(ScriptErrorKind::UnknownAction(other.to_string())),
        };
        if let Some(extra) = rest.get(used..).filter(|r| !r.is_empty()) {
            return Err(ScriptErrorKind::ExtraWords {
                action: action.to_string(),
                extra: extra.join(" "),
            });
        }
        Ok(action)
    }
}

fn parse_delay(text: &str) -> Result<Duration, ScriptErrorKind> {
    let bad = || ScriptErrorKind::BadArgument {
        got: text.to_string(),
        expected: "a duration in ms or s",
        example: "delay 5000ms",
    };
    let (digits, unit) = if let Some(d) = text.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = text.strip_suffix('s') {
        (d, 1000)
    } else {
        return Err(bad());
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
        return Err(bad());
    }
    let ms: u64 = digits.parse::<u64>().map_err(|_| bad())? * unit;
    let delay = Duration::from_millis(ms);
    if delay > MAX_DELAY {
        return Err(ScriptErrorKind::BadArgument {
            got: text.to_string(),
            expected: "a delay of at most 600s (10 minutes)",
            example: "delay 5000ms",
        });
    }
    Ok(delay)
}

fn parse_code(text: &str) -> Result<String, ScriptErrorKind> {
    if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ScriptErrorKind::BadArgument {
            got: text.to_string(),
            expected: "a two-character response code",
            example: "decline 51",
        });
    }
    if text == "00" {
        return Err(ScriptErrorKind::BadArgument {
            got: text.to_string(),
            expected: "a decline code (00 is an approval)",
            example: "decline 05",
        });
    }
    Ok(text.to_ascii_uppercase())
}

fn parse_count(text: &str, example: &'static str) -> Result<u64, ScriptErrorKind> {
    let bad = || ScriptErrorKind::BadArgument {
        got: text.to_string(),
        expected: "a whole number from 1 up",
        example,
    };
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<u64>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(n) => Ok(n),
    }
}

fn parse_mti(text: &str) -> Result<String, ScriptErrorKind> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScriptErrorKind::BadArgument {
            got: text.to_string(),
            expected: "a message type of four digits",
            example: "mti 0100",
        });
    }
    if (text.as_bytes()[2] - b'0') % 2 == 1 {
        return Err(ScriptErrorKind::BadArgument {
            got: text.to_string(),
            expected: "a request's message type (this one is a reply's; the host sees 0100, 0200, 0220, 0320, 0400, 0500, 0800)",
            example: "mti 0100",
        });
    }
    Ok(text.to_string())
}

fn parse_amount(text: &str) -> Result<u64, ScriptErrorKind> {
    let bad = || ScriptErrorKind::BadArgument {
        got: text.to_string(),
        expected: "an amount in yuan with at most two decimals",
        example: "amount 12.98",
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 10
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
        || text.ends_with('.')
    {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<2}").parse().map_err(|_| bad())?
    };
    Ok(whole * 100 + fraction)
}

/// Why a script line was refused. The text says what is wrong, why, and what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptErrorKind {
    /// The file is larger than [`MAX_SCRIPT_BYTES`].
    #[error(
        "the script is {bytes} bytes, more than the limit of 65536 (64 KiB): split it or remove rules"
    )]
    TooLarge {
        /// Its size.
        bytes: u64,
    },
    /// More than [`MAX_RULES`] rules.
    #[error("more than 1000 rules: a script holds at most 1000; remove some")]
    TooManyRules,
    /// Not UTF-8.
    #[error("the script is not UTF-8 text: save it as plain text (UTF-8)")]
    NotText,
    /// The file could not be read.
    #[error("cannot read the script: {0}")]
    Io(String),
    /// The first word is no WHEN.
    #[error(
        "unknown condition `{0}`: a rule starts with when it applies ({WHEN_FORMS}), then the action ({ACTION_FORMS})"
    )]
    UnknownWhen(String),
    /// A WHEN or ACTION without its argument.
    #[error("`{word}` needs {needs}, e.g. `{example}`")]
    MissingArgument {
        /// The word missing its argument.
        word: &'static str,
        /// What it needs.
        needs: &'static str,
        /// A correct example.
        example: &'static str,
    },
    /// An argument that does not read.
    #[error("`{got}` is not {expected}; write e.g. `{example}`")]
    BadArgument {
        /// The text found.
        got: String,
        /// What was expected.
        expected: &'static str,
        /// A correct example.
        example: &'static str,
    },
    /// A WHEN with nothing to do.
    #[error("`{0}` says when but not what to do: add an action after it ({ACTION_FORMS})")]
    NoAction(String),
    /// The action word is unknown.
    #[error("unknown action `{0}`: the actions are {ACTION_FORMS}")]
    UnknownAction(String),
    /// Words after the action.
    #[error(
        "`{extra}` after the action `{action}`: one action per line; for two, write two lines with the same condition (or a `#` before a comment)"
    )]
    ExtraWords {
        /// The action read.
        action: String,
        /// What followed it.
        extra: String,
    },
}

/// A script that did not load: the line (1-based; 0 for the file as a whole) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The line, 1-based; 0 when the error is about the whole file.
    pub line: usize,
    /// What is wrong.
    pub kind: ScriptErrorKind,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "line {}: {}", self.line, self.kind)
        }
    }
}

impl std::error::Error for ScriptError {}

/// One rule: its line, when, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its line in the script (1-based).
    pub line: usize,
    /// When it applies.
    pub when: When,
    /// What it does.
    pub action: Action,
}

/// A parsed script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// The rules, in the order of the file.
    pub rules: Vec<Rule>,
}

/// The words of a line before its comment: a word starting with `#` begins the comment, except
/// `#K` (digits) right after `mti CODE` or `amount X`.
fn words(line: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for word in line.split_whitespace() {
        if let Some(rest) = word.strip_prefix('#') {
            let after_subject = out.len() == 2 && matches!(out[0], "mti" | "amount");
            if !(after_subject && !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())) {
                break;
            }
        }
        out.push(word);
    }
    out
}

fn parse_line(words: &[&str]) -> Result<Rule, ScriptErrorKind> {
    let missing = |word, needs, example| ScriptErrorKind::MissingArgument {
        word,
        needs,
        example,
    };
    let nth = |word: Option<&&str>| -> Result<(Option<u64>, usize), ScriptErrorKind> {
        match word.and_then(|w| w.strip_prefix('#')) {
            Some(n) => Ok((Some(parse_count(n, "mti 0100 #2 drop")?), 1)),
            None => Ok((None, 0)),
        }
    };
    let (when, used) = match words[0] {
        "request" => {
            let n = words.get(1).ok_or(missing(
                "request",
                "a number (1 is the first request)",
                "request 3 drop",
            ))?;
            (When::Request(parse_count(n, "request 3 drop")?), 2)
        }
        "next" => (When::Next, 1),
        "mti" => {
            let code = words
                .get(1)
                .ok_or(missing("mti", "a message type", "mti 0100 drop"))?;
            let mti = parse_mti(code)?;
            let (nth, extra) = nth(words.get(2))?;
            (When::Mti { mti, nth }, 2 + extra)
        }
        "amount" => {
            let amount = words
                .get(1)
                .ok_or(missing("amount", "an amount", "amount 12.98 drop"))?;
            let minor = parse_amount(amount)?;
            let (nth, extra) = nth(words.get(2))?;
            (When::Amount { minor, nth }, 2 + extra)
        }
        other => return Err(ScriptErrorKind::UnknownWhen(other.to_string())),
    };
    let rest = &words[used..];
    if rest.is_empty() {
        return Err(ScriptErrorKind::NoAction(words.join(" ")));
    }
    let action = Action::parse(rest)?;
    Ok(Rule {
        line: 0,
        when,
        action,
    })
}

impl Script {
    /// Parses a script's text.
    pub fn parse(text: &str) -> Result<Script, ScriptError> {
        if text.len() as u64 > MAX_SCRIPT_BYTES {
            return Err(ScriptError {
                line: 0,
                kind: ScriptErrorKind::TooLarge {
                    bytes: text.len() as u64,
                },
            });
        }
        let mut rules = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let words = words(line);
            if words.is_empty() {
                continue;
            }
            let number = index + 1;
            if rules.len() == MAX_RULES {
                return Err(ScriptError {
                    line: number,
                    kind: ScriptErrorKind::TooManyRules,
                });
            }
            let rule = parse_line(&words).map_err(|kind| ScriptError { line: number, kind })?;
            rules.push(Rule {
                line: number,
                ..rule
            });
        }
        Ok(Script { rules })
    }

    /// Reads and parses the script at `path` (at most 64 KiB, UTF-8).
    pub fn load(path: &Path) -> Result<Script, ScriptError> {
        let whole = |kind| ScriptError { line: 0, kind };
        let file =
            std::fs::File::open(path).map_err(|e| whole(ScriptErrorKind::Io(e.to_string())))?;
        let mut bytes = Vec::new();
        file.take(MAX_SCRIPT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| whole(ScriptErrorKind::Io(e.to_string())))?;
        if bytes.len() as u64 > MAX_SCRIPT_BYTES {
            let size = std::fs::metadata(path)
                .map(|m| m.len())
                .unwrap_or(bytes.len() as u64);
            return Err(whole(ScriptErrorKind::TooLarge { bytes: size }));
        }
        let text = String::from_utf8(bytes).map_err(|_| whole(ScriptErrorKind::NotText))?;
        Script::parse(&text)
    }
}

/// A script being applied: counts requests and matches.
#[derive(Debug)]
pub(crate) struct ScriptRunner {
    script: Script,
    requests: u64,
    matches: Vec<u64>,
    armed: Vec<Option<u64>>,
}

impl ScriptRunner {
    pub(crate) fn new(script: Script) -> ScriptRunner {
        let n = script.rules.len();
        let mut armed = vec![None; n];
        if let Some(first) = armed.first_mut()
            && script.rules[0].when == When::Next
        {
            *first = Some(1);
        }
        ScriptRunner {
            script,
            requests: 0,
            matches: vec![0; n],
            armed,
        }
    }

    /// Counts one request and returns the rules that apply to it.
    pub(crate) fn on_request(&mut self, mti: &str, amount_minor: Option<u64>) -> Vec<Rule> {
        self.requests += 1;
        let k = self.requests;
        let mut fired = Vec::new();
        for i in 0..self.script.rules.len() {
            let rule = &self.script.rules[i];
            let applies = match &rule.when {
                When::Request(n) => *n == k,
                When::Next => self.armed[i] == Some(k),
                When::Mti { mti: want, nth } => {
                    want == mti && {
                        self.matches[i] += 1;
                        nth.is_none_or(|n| n == self.matches[i])
                    }
                }
                When::Amount { minor, nth } => {
                    MONEY_MTIS.contains(&mti) && amount_minor == Some(*minor) && {
                        self.matches[i] += 1;
                        nth.is_none_or(|n| n == self.matches[i])
                    }
                }
            };
            if applies {
                fired.push(rule.clone());
                if let Some(next) = self.script.rules.get(i + 1)
                    && next.when == When::Next
                {
                    self.armed[i + 1] = Some(k + 1);
                }
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Rule {
        let script = Script::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(script.rules.len(), 1, "{line}");
        script.rules[0].clone()
    }

    fn error(text: &str) -> ScriptError {
        Script::parse(text).expect_err(text)
    }

    #[test]
    fn every_action_reads() {
        let cases = [
            ("next drop", Action::Drop),
            (
                "next delay 5000ms",
                Action::Delay(Duration::from_millis(5000)),
            ),
            ("next delay 3s", Action::Delay(Duration::from_secs(3))),
            ("next bad-mac", Action::BadMac),
            ("next twice", Action::Twice),
            ("next close-mid-frame", Action::CloseMidFrame),
            ("next sign-on", Action::SignOn),
            ("next unbalanced", Action::Unbalanced),
            ("next balanced", Action::Balanced),
            ("next decline 51", Action::Decline("51".into())),
            ("next decline a0", Action::Decline("A0".into())),
        ];
        for (line, action) in cases {
            let rule = one(line);
            assert_eq!(rule.action, action, "{line}");
            assert_eq!(rule.when, When::Next);
            // Display gives back a line that reads the same.
            assert_eq!(one(&format!("next {}", rule.action)).action, action);
        }
    }

    #[test]
    fn every_condition_reads() {
        assert_eq!(one("request 3 drop").when, When::Request(3));
        assert_eq!(one("next drop").when, When::Next);
        assert_eq!(
            one("mti 0100 drop").when,
            When::Mti {
                mti: "0100".into(),
                nth: None
            }
        );
        assert_eq!(
            one("mti 0100 #2 drop").when,
            When::Mti {
                mti: "0100".into(),
                nth: Some(2)
            }
        );
        assert_eq!(
            one("amount 12.98 drop").when,
            When::Amount {
                minor: 1298,
                nth: None
            }
        );
        assert_eq!(
            one("amount 12.9 #3 drop").when,
            When::Amount {
                minor: 1290,
                nth: Some(3)
            }
        );
        assert_eq!(
            one("amount 7 drop").when,
            When::Amount {
                minor: 700,
                nth: None
            }
        );
        assert_eq!(one("amount 0.05 drop").when.to_string(), "amount 0.05");
        assert_eq!(one("mti 0400 #1 drop").when.to_string(), "mti 0400 #1");
    }

    #[test]
    fn comments_blank_lines_and_line_numbers() {
        let script = Script::parse(
            "# a comment line\n\n   \nmti 0100 #2 drop   # the second pre-auth\nnext delay 10ms #no space needed\n\trequest 1 sign-on\n#2 is a comment too\n",
        )
        .unwrap();
        let lines: Vec<usize> = script.rules.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 5, 6]);
        assert_eq!(
            script.rules[0].when,
            When::Mti {
                mti: "0100".into(),
                nth: Some(2)
            }
        );
        assert!(Script::parse("").unwrap().rules.is_empty());
        assert!(
            Script::parse("# only\r\n# comments\r\n")
                .unwrap()
                .rules
                .is_empty()
        );
        assert_eq!(one("next drop\r").action, Action::Drop);
    }

    #[test]
    fn every_error_names_its_line_and_says_what_to_write() {
        let cases: [(&str, usize, &str); 24] = [
            (
                "next drop\nsometimes drop",
                2,
                "unknown condition `sometimes`",
            ),
            ("request", 1, "`request` needs a number"),
            ("request 0 drop", 1, "`0` is not a whole number from 1 up"),
            ("request x drop", 1, "`x` is not a whole number"),
            ("request 3", 1, "`request 3` says when but not what to do"),
            ("mti", 1, "`mti` needs a message type"),
            ("mti 100 drop", 1, "four digits"),
            ("mti 0110 drop", 1, "a request's message type"),
            ("mti 0100 #0 drop", 1, "`0` is not a whole number"),
            (
                "mti 0100 #x drop",
                1,
                "`mti 0100` says when but not what to do",
            ),
            ("amount", 1, "`amount` needs an amount"),
            ("amount 12.345 drop", 1, "at most two decimals"),
            ("amount -1 drop", 1, "at most two decimals"),
            ("amount 12. drop", 1, "at most two decimals"),
            ("amount 1,00 drop", 1, "at most two decimals"),
            ("next", 1, "`next` says when but not what to do"),
            (
                "next dorp",
                1,
                "unknown action `dorp`: the actions are drop, delay 5000ms",
            ),
            ("next delay", 1, "`delay` needs a duration"),
            ("next delay 5", 1, "`5` is not a duration in ms or s"),
            ("next delay 601s", 1, "at most 600s"),
            ("next decline", 1, "`decline` needs a response code"),
            ("next decline 00", 1, "00 is an approval"),
            ("next decline 123", 1, "two-character response code"),
            ("\n\nnext drop twice", 3, "one action per line"),
        ];
        for (text, line, says) in cases {
            let e = error(text);
            assert_eq!(e.line, line, "{text}: {e}");
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("line {line}: ")), "{shown}");
            assert!(shown.contains(says), "{text}: {shown}");
        }
    }

    #[test]
    fn sizes_are_bounded() {
        let big = "# x\n".repeat(20_000);
        let e = error(&big);
        assert_eq!(e.line, 0);
        assert!(
            matches!(e.kind, ScriptErrorKind::TooLarge { bytes: 80_000 }),
            "{e}"
        );
        assert!(e.to_string().contains("64 KiB"), "{e}");
        let many = "next drop\n".repeat(MAX_RULES);
        assert_eq!(Script::parse(&many).unwrap().rules.len(), MAX_RULES);
        let e = error(&format!("{many}# comment\nnext drop\n"));
        assert_eq!(
            (e.line, e.kind.clone()),
            (MAX_RULES + 2, ScriptErrorKind::TooManyRules),
            "{e}"
        );
    }

    #[test]
    fn load_reads_files_and_refuses_big_or_binary_ones() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.script");
        std::fs::write(&ok, "mti 0100 #2 drop\n").unwrap();
        assert_eq!(Script::load(&ok).unwrap().rules.len(), 1);
        let big = dir.path().join("big.script");
        std::fs::write(&big, vec![b'#'; 70_000]).unwrap();
        assert!(matches!(
            Script::load(&big).unwrap_err().kind,
            ScriptErrorKind::TooLarge { bytes: 70_000 }
        ));
        let binary = dir.path().join("bin.script");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        assert_eq!(
            Script::load(&binary).unwrap_err().kind,
            ScriptErrorKind::NotText
        );
        assert!(matches!(
            Script::load(&dir.path().join("none")).unwrap_err().kind,
            ScriptErrorKind::Io(_)
        ));
    }

    #[test]
    fn the_runner_applies_rules_in_order() {
        let script = Script::parse(
            "next sign-on\nmti 0100 #2 drop\nnext delay 1ms\nnext twice\namount 12.98 bad-mac\nrequest 6 decline 51\nmti 0400 unbalanced\n",
        )
        .unwrap();
        let mut runner = ScriptRunner::new(script);
        let mut step = |mti: &str, amount: Option<u64>| -> Vec<String> {
            runner
                .on_request(mti, amount)
                .iter()
                .map(|r| r.action.to_string())
                .collect()
        };
        assert_eq!(step("0800", None), vec!["sign-on"]); // 1: `next` on the first line
        assert_eq!(step("0100", Some(1000)), Vec::<String>::new()); // 2: first 0100
        assert_eq!(step("0100", Some(1298)), vec!["drop", "bad-mac"]); // 3: second 0100, and 12.98
        assert_eq!(step("0400", Some(1298)), vec!["delay 1ms", "unbalanced"]); // 4: next after it; 0400 ignored by amount
        assert_eq!(step("0100", Some(500)), vec!["twice"]); // 5: next after the next
        assert_eq!(step("0200", Some(1298)), vec!["bad-mac", "decline 51"]); // 6
        assert_eq!(step("0100", Some(1)), Vec::<String>::new()); // 7
    }
}
