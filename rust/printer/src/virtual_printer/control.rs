//! The control line protocol (TCP, one command per line, one reply line each), for tests in
//! other languages and the CLI:
//!
//! | Command | Reply |
//! |---|---|
//! | `inject <trigger> <fault>` | `ok` |
//! | `clear` | `ok` |
//! | `load-paper` | `ok` |
//! | `close-cover` | `ok` |
//! | `status` | `{"online":…,"paper":"ok\|near_end\|out","cover_open":…,"overheated":…,"pages":N,"confirmed":N,"paper_used_mm":F}` |
//! | anything else | `error <what>; commands: …` |

use std::net::SocketAddr;

use log::{debug, warn};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::VirtualPrinter;
use super::fault::{FAULT_FORMS, Fault, TRIGGER_FORMS, Trigger};
use poscore_escpos::Paper;

/// The commands, for error replies.
pub const COMMANDS: &str = "inject <trigger> <fault>, clear, load-paper, close-cover, status";

/// One control command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlCommand {
    /// Inject a fault.
    Inject(Trigger, Fault),
    /// Clear every fault.
    Clear,
    /// Load paper.
    LoadPaper,
    /// Close the cover.
    CloseCover,
    /// Report the status as JSON.
    Status,
}

impl ControlCommand {
    /// Reads one line; the error is the reply's text after `error `.
    pub fn parse(line: &str) -> Result<ControlCommand, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["inject", trigger, fault] => {
                let trigger: Trigger = trigger.parse().map_err(|e| format!("{e}"))?;
                let fault: Fault = fault.parse().map_err(|e| format!("{e}"))?;
                Ok(ControlCommand::Inject(trigger, fault))
            }
            ["inject", ..] => Err(format!(
                "inject takes a trigger and a fault: inject <{TRIGGER_FORMS}> <{FAULT_FORMS}>; commands: {COMMANDS}"
            )),
            ["clear"] => Ok(ControlCommand::Clear),
            ["load-paper"] => Ok(ControlCommand::LoadPaper),
            ["close-cover"] => Ok(ControlCommand::CloseCover),
            ["status"] => Ok(ControlCommand::Status),
            [] => Err(format!("empty line; commands: {COMMANDS}")),
            _ => Err(format!(
                "unknown command {:?}; commands: {COMMANDS}",
                line.trim()
            )),
        }
    }
}

/// The `status` reply for this printer: one JSON object.
pub fn status_json(printer: &VirtualPrinter) -> String {
    let status = printer.status();
    let paper = match status.paper {
        Paper::Ok => "ok",
        Paper::NearEnd => "near_end",
        Paper::Out => "out",
    };
    serde_json::json!({
        "online": status.online,
        "paper": paper,
        "cover_open": status.cover_open,
        "overheated": status.recoverable_error,
        "pages": printer.pages().len(),
        "confirmed": printer.confirmed().len(),
        "paper_used_mm": printer.paper_used_mm(),
    })
    .to_string()
}

/// Executes one line; returns the reply line (without its newline).
pub fn execute(printer: &VirtualPrinter, line: &str) -> String {
    match ControlCommand::parse(line) {
        Ok(ControlCommand::Inject(trigger, fault)) => {
            printer.inject(trigger, fault);
            "ok".to_string()
        }
        Ok(ControlCommand::Clear) => {
            printer.clear();
            "ok".to_string()
        }
        Ok(ControlCommand::LoadPaper) => {
            printer.load_paper();
            "ok".to_string()
        }
        Ok(ControlCommand::CloseCover) => {
            printer.close_cover();
            "ok".to_string()
        }
        Ok(ControlCommand::Status) => status_json(printer),
        Err(what) => format!("error {what}"),
    }
}

/// Binds the control port and serves it in the background; returns the bound address.
pub(crate) async fn serve(
    printer: VirtualPrinter,
    addr: SocketAddr,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    debug!("virtual printer: control connection from {peer}");
                    tokio::spawn(serve_one(printer.clone(), stream));
                }
                Err(err) => {
                    warn!("virtual printer: control accept failed: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(bound)
}

/// Serves one control connection, line by line.
async fn serve_one(printer: VirtualPrinter, stream: TcpStream) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut reply = execute(&printer, &line);
        debug!("virtual printer: control {line:?} -> {reply}");
        reply.push('\n');
        if writer.write_all(reply.as_bytes()).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn commands_parse() {
        assert_eq!(
            ControlCommand::parse("inject after-bytes=200 overheat=2s"),
            Ok(ControlCommand::Inject(
                Trigger::AfterJobBytes(200),
                Fault::Overheat(Duration::from_secs(2))
            ))
        );
        assert_eq!(
            ControlCommand::parse("  clear \r"),
            Ok(ControlCommand::Clear)
        );
        assert_eq!(
            ControlCommand::parse("load-paper"),
            Ok(ControlCommand::LoadPaper)
        );
        assert_eq!(
            ControlCommand::parse("close-cover"),
            Ok(ControlCommand::CloseCover)
        );
        assert_eq!(ControlCommand::parse("status"), Ok(ControlCommand::Status));
    }

    #[test]
    fn errors_say_what_and_list_the_commands() {
        let unknown = ControlCommand::parse("explode").unwrap_err();
        assert!(
            unknown.contains("explode") && unknown.contains(COMMANDS),
            "{unknown}"
        );
        let short = ControlCommand::parse("inject now").unwrap_err();
        assert!(
            short.contains("before-confirm") && short.contains("never-confirm"),
            "{short}"
        );
        let bad_fault = ControlCommand::parse("inject now jam").unwrap_err();
        assert!(
            bad_fault.contains("jam") && bad_fault.contains("paper-out"),
            "{bad_fault}"
        );
        let bad_trigger = ControlCommand::parse("inject soon drop").unwrap_err();
        assert!(
            bad_trigger.contains("soon") && bad_trigger.contains("after-bytes="),
            "{bad_trigger}"
        );
        assert!(ControlCommand::parse("").unwrap_err().contains(COMMANDS));
    }
}
