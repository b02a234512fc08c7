//! The emergency plan (应急预案): the operator's guide for every fault the terminal can
//! report — printer, network, host, storage — in Chinese and English.
//!
//! It is generated, not written: printer entries come from [`Condition::remedy`], the
//! network, sync, operator and software entries from the diagnosis's own findings
//! ([`crate::journal::findings`]), and the host and storage entries from the errors the
//! terminal shows ([`CommandError`], [`JournalError`]) — so the guide and what the terminal
//! says at the moment of a fault never drift apart.

use crate::error::{CommandError, JournalError};
use crate::ids::TraceNumber;
use crate::journal::{Finding, findings};
use crate::lang::Bilingual;
use crate::print::{Cause, Condition};

/// Where a fault sits, for grouping the guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area {
    /// The slip printer.
    Printer,
    /// The network between the terminal and the host.
    Network,
    /// The acquirer host's answers (reversals, sign-on, settlement).
    Host,
    /// The journal's storage.
    Storage,
    /// The operator's own steps.
    Operator,
    /// The app itself.
    Software,
}

impl Area {
    /// Every area, in the order of the guide.
    pub const ALL: [Area; 6] = [
        Area::Printer,
        Area::Network,
        Area::Host,
        Area::Storage,
        Area::Operator,
        Area::Software,
    ];

    /// A stable name (`printer`, `network`, …).
    pub fn code(self) -> &'static str {
        match self {
            Area::Printer => "printer",
            Area::Network => "network",
            Area::Host => "host",
            Area::Storage => "storage",
            Area::Operator => "operator",
            Area::Software => "software",
        }
    }

    /// The area's heading: (Chinese, English).
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Area::Printer => ("打印机", "Printer"),
            Area::Network => ("网络", "Network"),
            Area::Host => ("主机", "Host"),
            Area::Storage => ("存储", "Storage"),
            Area::Operator => ("操作员", "Operator"),
            Area::Software => ("软件", "Software"),
        }
    }
}

/// One fault and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it sits.
    pub area: Area,
    /// The code the terminal shows with it (`paper_out`, `HOST_UNREACHABLE`, …).
    pub code: String,
    /// Which of the five causes of a missing slip it is, when it is one.
    pub cause: Option<Cause>,
    /// What to do, in Chinese.
    pub zh: String,
    /// What to do, in English.
    pub en: String,
}

impl Entry {
    fn of_finding(area: Area, code: &str, finding: Finding) -> Entry {
        Entry {
            area,
            code: code.to_string(),
            cause: Some(finding.cause),
            zh: finding.remedy_zh,
            en: finding.remedy_en,
        }
    }

    fn of_error(area: Area, error: &dyn Bilingual) -> Entry {
        Entry {
            area,
            code: error.code().to_string(),
            cause: None,
            zh: error.zh(),
            en: error.en(),
        }
    }
}

/// The whole guide, grouped by [`Area`] in the order of [`Area::ALL`].
pub fn runbook() -> Vec<Entry> {
    let mut entries: Vec<Entry> = Condition::ALL
        .into_iter()
        .filter(|c| *c != Condition::Ready)
        .map(|c| Entry::of_finding(Area::Printer, c.code(), findings::printer(c, String::new())))
        .collect();
    entries.push(Entry::of_finding(
        Area::Network,
        "not_sent",
        findings::not_sent(),
    ));
    entries.push(Entry::of_finding(
        Area::Network,
        "waiting_for_host",
        findings::waiting_for_host(),
    ));
    entries.push(Entry::of_finding(
        Area::Host,
        "answer_lost",
        findings::answer_lost(),
    ));
    entries.push(Entry::of_finding(
        Area::Host,
        "reversal_failed",
        findings::reversal_failed(),
    ));
    for error in host_errors() {
        entries.push(Entry::of_error(Area::Host, &error));
    }
    for error in storage_errors() {
        entries.push(Entry::of_error(Area::Storage, &error));
    }
    entries.push(Entry::of_finding(
        Area::Operator,
        "tear_off",
        findings::tear_off(),
    ));
    entries.push(Entry::of_finding(
        Area::Software,
        "restart",
        findings::app_restarted(),
    ));
    entries.sort_by_key(|e| e.area);
    entries
}

/// The refusals that come from the host or the link, as the cashier sees them.
fn host_errors() -> Vec<CommandError> {
    let why = "…".to_string();
    vec![
        CommandError::HostUnreachable { why: why.clone() },
        CommandError::SignOnFailed { code: "..".into() },
        CommandError::SettlementFailed { why },
        CommandError::NothingToRetry {
            trace: TraceNumber::FIRST,
        },
    ]
}

/// Every journal error, with placeholder details. The match in [`storage_code`] has no
/// wildcard: a new variant does not compile until it is listed here too.
fn storage_errors() -> Vec<JournalError> {
    let errors = vec![
        JournalError::Sqlite {
            action: "committing",
            source: rusqlite::Error::InvalidQuery,
        },
        JournalError::InUse {
            path: "poscore.db".into(),
        },
        JournalError::SchemaTooNew {
            found: 99,
            supported: 2,
        },
        JournalError::Corrupt {
            what: "poscore.db: …".into(),
        },
        JournalError::DiskFull {
            action: "committing",
        },
        JournalError::ReadOnly {
            path: "poscore.db".into(),
            why: "…".into(),
        },
        JournalError::Io {
            action: "opening",
            path: "poscore.db".into(),
            source: std::io::Error::other("…"),
        },
        JournalError::Poisoned,
    ];
    debug_assert!(errors.iter().all(|e| !storage_code(e).is_empty()));
    errors
}

/// The code of a journal error, matched without a wildcard (see [`storage_errors`]).
fn storage_code(error: &JournalError) -> &'static str {
    match error {
        JournalError::Sqlite { .. }
        | JournalError::InUse { .. }
        | JournalError::SchemaTooNew { .. }
        | JournalError::Corrupt { .. }
        | JournalError::DiskFull { .. }
        | JournalError::ReadOnly { .. }
        | JournalError::Io { .. }
        | JournalError::Poisoned => error.code(),
    }
}

/// The guide as text in one language (`zh` or `en`), for printing or a help screen.
pub fn render(entries: &[Entry], lang: crate::lang::Lang) -> String {
    let zh = lang == crate::lang::Lang::Zh;
    let mut out = String::new();
    out.push_str(if zh {
        "应急预案：终端可能报告的故障及处理方法\n"
    } else {
        "Emergency plan: every fault the terminal can report, and what to do\n"
    });
    for area in Area::ALL {
        let mine: Vec<&Entry> = entries.iter().filter(|e| e.area == area).collect();
        if mine.is_empty() {
            continue;
        }
        let (title_zh, title_en) = area.title();
        out.push_str(&format!(
            "\n== {} ==\n",
            if zh { title_zh } else { title_en }
        ));
        for entry in mine {
            out.push_str(&format!(
                "[{}] {}\n",
                entry.code,
                if zh { &entry.zh } else { &entry.en }
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_area_has_entries_in_both_languages_and_codes_are_unique() {
        let entries = runbook();
        for area in Area::ALL {
            assert!(
                entries.iter().any(|e| e.area == area),
                "{area:?} has no entry"
            );
        }
        let mut codes = std::collections::HashSet::new();
        for e in &entries {
            assert!(codes.insert(e.code.clone()), "{} twice", e.code);
            assert!(
                e.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{}: {:?}",
                e.code,
                e.zh
            );
            assert!(
                e.en.chars().filter(char::is_ascii_alphabetic).count() > 10,
                "{}: {:?}",
                e.code,
                e.en
            );
        }
    }

    #[test]
    fn the_guide_says_what_the_diagnosis_says() {
        let entries = runbook();
        let paper_out = entries
            .iter()
            .find(|e| e.code == "paper_out")
            .expect("paper out is listed");
        assert_eq!(
            (paper_out.zh.as_str(), paper_out.en.as_str()),
            Condition::PaperOut.remedy()
        );
        let lost = entries
            .iter()
            .find(|e| e.code == "answer_lost")
            .expect("the lost answer is listed");
        assert_eq!(lost.en, findings::answer_lost().remedy_en);
        for condition in Condition::ALL
            .into_iter()
            .filter(|c| *c != Condition::Ready)
        {
            assert!(
                entries.iter().any(|e| e.code == condition.code()),
                "{} missing",
                condition.code()
            );
        }
        let text = render(&entries, crate::lang::Lang::En);
        assert!(
            text.contains("== Printer ==")
                && text.contains("[HOST_UNREACHABLE]")
                && text.contains("== Storage =="),
            "{text}"
        );
        let text = render(&entries, crate::lang::Lang::Zh);
        assert!(
            text.contains("== 打印机 ==") && text.contains("缺纸"),
            "{text}"
        );
    }
}
