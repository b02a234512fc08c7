//! Print progress on stderr, from the terminal's events: "copy 1/2", "held: paper out —
//! load a new roll…", "resumed", electronic receipts, each in the operator's language.
//! It also keeps what it saw (holds per job, resumes) for the callers' summaries.

use std::collections::{BTreeMap, HashMap};

use poscore::txn::{PrintJobState, PrintKind, SlipCopy};
use poscore::{Event, Lang};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// What the progress display saw.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Slips handed to the printer.
    pub printing: u32,
    /// Slips the printer confirmed.
    pub printed: u32,
    /// Holds, in order: (reason, remedy in the operator's language).
    pub holds: Vec<(String, String)>,
    /// Resumes after a hold.
    pub resumed: u32,
    /// Copies delivered as electronic receipts.
    pub e_receipts: u32,
    /// Each print job's hold reasons, in order, by job id.
    pub held_history: BTreeMap<i64, Vec<String>>,
}

/// A running progress display; [`Progress::stop`] ends it after the events already sent.
pub struct Progress {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Seen>,
}

impl Progress {
    /// Shows the events of `events` on stderr from now on.
    pub fn start(events: broadcast::Receiver<Event>, lang: Lang) -> Progress {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(events, stopped, lang));
        Progress { stop, task }
    }

    /// Shows the events sent so far, then stops and says what it saw.
    pub async fn stop(self) -> Seen {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

async fn run(
    mut events: broadcast::Receiver<Event>,
    mut stopped: oneshot::Receiver<()>,
    lang: Lang,
) -> Seen {
    let mut display = Display {
        lang,
        seen: Seen::default(),
        states: HashMap::new(),
    };
    loop {
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Ok(event) => display.show(&event),
                Err(broadcast::error::RecvError::Lagged(missed)) => log::warn!("progress display missed {missed} events"),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = &mut stopped => {
                while let Ok(event) = events.try_recv() {
                    display.show(&event);
                }
                break;
            }
        }
    }
    display.seen
}

struct Display {
    lang: Lang,
    seen: Seen,
    /// The last state seen of each print job.
    states: HashMap<i64, PrintJobState>,
}

/// A copy's name: `商户存根` / `merchant`.
pub fn copy_name(copy: SlipCopy, lang: Lang) -> String {
    match lang {
        Lang::Zh => poscore::slip::copy_names(copy).0.to_string(),
        Lang::En => copy.as_str().to_string(),
    }
}

/// A hold reason and its remedy as one line: `held: paper out — load a new roll and close the
/// cover; the slip prints by itself`.
pub fn held_line(reason: &str, remedy: &(String, String), lang: Lang) -> String {
    match lang {
        Lang::Zh => {
            let (what, todo) = split_remedy(&remedy.0, '：');
            let what = if what.is_empty() {
                reason.to_string()
            } else {
                what
            };
            format!("暂停打印：{what} — {todo}")
        }
        Lang::En => {
            let (_, todo) = split_remedy(&remedy.1, ':');
            format!("held: {} — {todo}", reason.replace('_', " "))
        }
    }
}

/// `"out of paper: load a new roll"` → (`"out of paper"`, `"load a new roll"`); a remedy
/// without the separator is all advice.
fn split_remedy(text: &str, separator: char) -> (String, String) {
    match text.split_once(separator) {
        Some((what, todo)) => (what.trim().to_string(), todo.trim().to_string()),
        None => (String::new(), text.to_string()),
    }
}

impl Display {
    fn show(&mut self, event: &Event) {
        let lang = self.lang;
        match event {
            Event::Printing {
                trace,
                copy,
                kind,
                number,
                of,
            } => {
                self.seen.printing += 1;
                let reprint = *kind == PrintKind::Reprint;
                eprintln!(
                    "{}",
                    match lang {
                        Lang::Zh => format!(
                            "正在打印 第 {number}/{of} 联（凭证号 {trace}，{}）{}",
                            copy_name(*copy, lang),
                            if reprint { " 重打印" } else { "" }
                        ),
                        Lang::En => format!(
                            "printing copy {number}/{of} ({} copy of trace {trace}){}",
                            copy,
                            if reprint { " REPRINT" } else { "" }
                        ),
                    }
                );
            }
            Event::PrintJob { trace, job } => {
                let before = self.states.insert(job.id, job.state);
                if before == Some(job.state) {
                    return;
                }
                match job.state {
                    // Only slips seen going to the printer: every job of a transaction is
                    // reported on each change, those printed earlier too.
                    PrintJobState::Printed if before == Some(PrintJobState::Sending) => {
                        self.seen.printed += 1;
                        eprintln!(
                            "{}",
                            match lang {
                                Lang::Zh => format!(
                                    "  已打印：凭证号 {trace} {}",
                                    copy_name(job.copy, lang)
                                ),
                                Lang::En =>
                                    format!("  printed: {} copy of trace {trace}", job.copy),
                            }
                        );
                    }
                    PrintJobState::Held => {
                        if let Some(reason) = &job.held_reason {
                            self.seen
                                .held_history
                                .entry(job.id)
                                .or_default()
                                .push(reason.clone());
                        }
                    }
                    _ => {}
                }
            }
            Event::PrintingHeld { reason, remedy } => {
                let line = held_line(reason, remedy, lang);
                eprintln!("{line}");
                let advice = if lang == Lang::Zh {
                    remedy.0.clone()
                } else {
                    remedy.1.clone()
                };
                self.seen.holds.push((reason.clone(), advice));
            }
            Event::PrintingResumed => {
                self.seen.resumed += 1;
                eprintln!(
                    "{}",
                    if lang == Lang::Zh {
                        "已恢复打印"
                    } else {
                        "resumed: the printer is ready again"
                    }
                );
            }
            Event::ElectronicReceipt { trace, copy, why } => {
                self.seen.e_receipts += 1;
                eprintln!(
                    "{}",
                    match lang {
                        Lang::Zh => format!(
                            "已出电子签购单：凭证号 {trace} {}（{why}）",
                            copy_name(*copy, lang)
                        ),
                        Lang::En =>
                            format!("electronic receipt for copy {copy} of trace {trace} ({why})"),
                    }
                );
            }
            Event::SettlementSlip {
                batch,
                printed,
                detail,
            } => {
                // `detail` is "中文 / English" (the zh part first).
                let (zh, en) = detail
                    .split_once(" / ")
                    .unwrap_or((detail.as_str(), detail.as_str()));
                let _ = printed;
                eprintln!(
                    "{}",
                    match lang {
                        Lang::Zh => format!("批次 {batch}：{zh}"),
                        Lang::En => format!("batch {batch}: {en}"),
                    }
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_lines_name_the_fault_and_the_remedy() {
        let (zh, en) = poscore::print::Condition::PaperOut.remedy();
        let remedy = (zh.to_string(), en.to_string());
        assert_eq!(
            held_line("paper_out", &remedy, Lang::En),
            "held: paper out — load a new roll and close the cover; the slip prints by itself"
        );
        assert_eq!(
            held_line("paper_out", &remedy, Lang::Zh),
            "暂停打印：缺纸 — 请装入新纸卷并合上盖子，签购单会自动补打"
        );
        let tear = ("请撕下签购单".to_string(), "tear the slip off".to_string());
        assert_eq!(
            held_line("tear_off", &tear, Lang::En),
            "held: tear off — tear the slip off"
        );
        assert_eq!(
            held_line("tear_off", &tear, Lang::Zh),
            "暂停打印：tear_off — 请撕下签购单"
        );
    }
}
