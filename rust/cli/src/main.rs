//! # `poscore` — the command for people
//!
//! Runs the pre-authorization terminal from a shell: a scripted demo day, single
//! transactions, recovery, slips (reprint, resume, electronic receipt, diagnosis, printer
//! health), and journal tools (list, show, export). Every transaction command opens the
//! journal (which runs recovery), works against the in-process simulated acquirer host, and
//! finishes pending work (reversals, slips) before it exits; slips go to the printer named by
//! `--printer`, or to an in-memory printer without it. The printer commands
//! (`printer-status`, `print-test`, `printer-sim`) talk to an ESC/POS printer directly.
//!
//! Exit codes: 0 ok; 1 declined, not approved, or refused by a rule; 2 usage error;
//! 3 journal or I/O error.

mod commands;
mod demo;
mod ereceipt;
mod inspect;
mod output;
mod printing;
mod progress;
mod session;
mod sign;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use poscore::{Bilingual, Lang};

use crate::session::LinkOptions;

/// poscore: the pre-authorization terminal core, from the command line.
#[derive(Parser, Debug)]
#[command(name = "poscore", version, about, long_about = None)]
struct Cli {
    /// The journal file (SQLite). Default: $POSCORE_DB, else ./poscore.db
    #[arg(long, global = true, env = "POSCORE_DB", default_value = "poscore.db")]
    db: PathBuf,
    /// Language of messages: zh or en. Default: from LANG.
    #[arg(long, global = true, value_enum)]
    lang: Option<LangArg>,
    /// Delay of every simulated host answer, in milliseconds.
    #[arg(long, global = true, default_value_t = 0)]
    sim_delay_ms: u64,
    /// Append every approval and reversal of the simulated host to this JSON-lines file.
    #[arg(long, global = true)]
    sim_ledger: Option<PathBuf>,
    /// How long to wait for the host's answer before the outcome is unknown, in milliseconds.
    #[arg(long, global = true, default_value_t = 30_000)]
    host_timeout_ms: u64,
    /// The acquirer host: HOST:PORT, spoken to in UnionPay-style ISO 8583 over TCP (e.g. a
    /// `poscore host-sim`). Default: the in-process simulated host.
    #[arg(long, global = true, env = "POSCORE_HOST", value_name = "ADDR")]
    host: Option<String>,
    /// The terminal master key for `--host`, 16 bytes in hex (working keys from sign-on are
    /// decrypted with it). Default: host-sim's test key; a terminal's secure module holds the
    /// real one.
    #[arg(long, global = true, value_name = "HEX")]
    host_master_key: Option<String>,
    /// The MAC key for `--host` until a sign-on brings a working key, 16 bytes in hex.
    /// Default: host-sim's test key.
    #[arg(long, global = true, value_name = "HEX")]
    host_mac_key: Option<String>,
    /// Speak TLS to `--host`, trusting the system's CA certificates and checking the host
    /// name of `--host` (or `--tls-server-name`). A failed handshake sends nothing.
    #[arg(long, global = true)]
    tls: bool,
    /// Trust only the CA certificate(s) in this PEM file for `--host` (implies `--tls`).
    #[arg(long, global = true, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// The name the host's TLS certificate must carry, when it is not the host part of
    /// `--host` (e.g. `--host 10.1.2.3:5000 --tls-server-name pos.acquirer.cn`; implies `--tls`).
    #[arg(long, global = true, value_name = "NAME")]
    tls_server_name: Option<String>,
    /// The slip printer: HOST:PORT (TCP, port 9100), tcp:HOST, /dev/ttyS1?baud=9600,
    /// /dev/usb/lp0, file:PATH. Transaction commands print their slips there (default: an
    /// in-memory printer that prints nothing); the printer commands talk to it.
    #[arg(long, global = true, value_name = "ADDR")]
    printer: Option<String>,
    /// How long to wait for the printer to confirm a slip, in milliseconds.
    #[arg(long, global = true, default_value_t = 10_000)]
    printer_timeout_ms: u64,
    /// Training mode (培训): new transactions are training ones, kept apart from real ones
    /// and marked 培训 TRAINING on every slip. Training runs against the in-process simulated
    /// host only, even with `--host`.
    #[arg(long, global = true)]
    training: bool,
    /// A merchant fee rate for the settlement slip's fee estimate: CHANNEL=PERCENT, channel
    /// `card` or `qr`, e.g. `--fee-rate card=0.6 --fee-rate qr=0.38`. Repeatable.
    #[arg(long = "fee-rate", global = true, value_name = "CHANNEL=PERCENT", value_parser = session::parse_fee_rate)]
    fee_rates: Vec<poscore::FeeRate>,
    #[command(flatten)]
    profile: printing::ProfileArgs,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    Zh,
    En,
}

/// A slip copy, as the CLI spells it.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum CopyArg {
    /// 商户存根.
    Merchant,
    /// 持卡人存根.
    Cardholder,
    /// 银行存根.
    Bank,
}

impl CopyArg {
    fn copy(self) -> poscore::txn::SlipCopy {
        match self {
            CopyArg::Merchant => poscore::txn::SlipCopy::Merchant,
            CopyArg::Cardholder => poscore::txn::SlipCopy::Cardholder,
            CopyArg::Bank => poscore::txn::SlipCopy::Bank,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a scripted day on a fresh journal, printing through the virtual printer (paper
    /// runs out on the second slip and is replaced), and print a summary.
    Demo {
        /// Where the demo journal goes (recreated).
        #[arg(long, default_value = "poscore-demo")]
        out: PathBuf,
    },
    /// Pre-authorize an amount on a card (预授权).
    Preauth {
        /// Amount, e.g. 100.00
        #[arg(long)]
        amount: String,
        /// Card number (13–19 digits, Luhn-checked; never stored).
        #[arg(long)]
        pan: String,
        /// Card expiry, YYMM.
        #[arg(long)]
        expiry: String,
        /// Your id for this request: sending it again never authorizes twice.
        #[arg(long)]
        request_id: String,
    },
    /// Complete a pre-auth (预授权完成).
    Complete {
        /// The pre-auth's trace number (凭证号).
        #[arg(long)]
        trace: String,
        /// Final amount (at most 115% of the pre-auth).
        #[arg(long)]
        amount: String,
        /// Complete offline: approved now, sent to the host later as an advice.
        #[arg(long)]
        offline: bool,
        /// Request id (default: a fresh one).
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Void a pre-auth (预授权撤销).
    Void {
        /// The pre-auth's trace number.
        #[arg(long)]
        trace: String,
        /// Request id (default: a fresh one).
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Void a completion (预授权完成撤销).
    CompleteVoid {
        /// The completion's trace number.
        #[arg(long)]
        trace: String,
        /// Request id (default: a fresh one).
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Settle the batch (批结算).
    Settle,
    /// Queue a failed reversal again.
    RetryReversal {
        /// The trace of the transaction whose reversal failed.
        #[arg(long)]
        trace: String,
    },
    /// Open the journal, recover, and finish pending reversals and slips.
    Recover,
    /// List the newest transactions.
    List {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one transaction and its history.
    Show {
        /// Trace number.
        trace: String,
    },
    /// Export every transaction (or one batch's, for reconciliation) to standard output.
    Export {
        /// json (one object per transaction, see README) or csv.
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// Only the transactions of this batch (批次号), e.g. 1 or 000001.
        #[arg(long)]
        batch: Option<String>,
    },
    /// Back the journal up to FILE (数据备份): a consistent copy taken with SQLite's online
    /// backup, fsync'd, renamed into place, then verified. The journal's key file is not in it.
    Backup {
        /// The backup file to write (replaced if it exists).
        file: PathBuf,
    },
    /// Replace the journal (`--db`) with the backup FILE, after verifying it. Refused (exit 1)
    /// while the journal holds pending reversals, transactions with an unknown outcome,
    /// unsent offline completions or unprinted slips, unless `--force`; the replaced journal
    /// is kept as `<db>.before-restore-<YYYYMMDD-HHMMSS>`.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Replace the journal even though it holds unfinished work (it is kept beside).
        #[arg(long)]
        force: bool,
    },
    /// Print a slip again, marked 重打印 REPRINT: the last slip printed, or a transaction's.
    Reprint {
        /// The transaction's trace number (default: the last slip printed).
        #[arg(long)]
        trace: Option<String>,
        /// Which copy (default: the copy last printed of that transaction).
        #[arg(long, value_enum)]
        copy: Option<CopyArg>,
    },
    /// Print the settlement slip (结算单) of a settled batch again: totals by kind, and the
    /// estimated fees when rates are configured. Settlement prints it by itself once.
    SettlementSlip {
        /// The batch number (default: the batch settled last).
        #[arg(long)]
        batch: Option<String>,
    },
    /// Put every held slip back in the queue (after fixing the printer or tearing the paper
    /// off) and print them.
    ResumePrinting,
    /// Why a transaction's slips are (not) printed: its timeline, each slip's state, the cause
    /// and the remedy. Exit 0 when every slip is printed or delivered, 1 when one waits, 2 for
    /// an unknown trace.
    Diagnose {
        /// Trace number.
        trace: String,
    },
    /// The emergency plan (应急预案): every fault the terminal can report (printer, network,
    /// host, storage) and what to do, in the `--lang` language (or both with `--json`). Needs
    /// no journal.
    Runbook {
        /// Every entry as JSON (area, code, cause, zh, en).
        #[arg(long)]
        json: bool,
    },
    /// The printer's maintenance figures from the journal: paper printed, jobs, reprints,
    /// paper changes, the paper-left forecast, faults by kind.
    PrinterHealth {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The length of a new paper roll, in mm (for the forecast).
        #[arg(long, default_value_t = poscore::config::PrintConfig::default().roll_length_mm)]
        roll_length_mm: u32,
    },
    /// Deliver a slip copy as an electronic receipt if it still waits for the printer (or just
    /// produce the receipt of a copy already printed): writes the slip PNG with its
    /// verification QR code to FILE and prints the verification payload.
    EReceipt {
        /// Trace number.
        trace: String,
        /// Where to write the PNG.
        #[arg(long)]
        out: PathBuf,
        /// Which copy (default: the first copy still waiting, else the cardholder copy).
        #[arg(long, value_enum)]
        copy: Option<CopyArg>,
    },
    /// Store the cardholder's electronic signature for a transaction; slips printed from then
    /// on carry it.
    Sign {
        /// Trace number.
        trace: String,
        /// A JSON file: {"width": W, "height": H, "strokes": [[[x, y], …], …]} in pad units.
        #[arg(long)]
        strokes: PathBuf,
    },
    /// Sign on to the host (签到): fetches the working keys.
    SignOn,
    /// Run a host simulator speaking UnionPay-style ISO 8583 over TCP (approves, declines by
    /// the magic amounts, answers reversals and settlements); runs until killed. Faults come
    /// from a script (`--script`) and from a control port (`--control`).
    HostSim {
        /// Where to listen (port 0 picks a free one; the address is printed).
        #[arg(long, default_value = "127.0.0.1:5000")]
        listen: std::net::SocketAddr,
        /// Append every approval and reversal to this JSON-lines file (reloaded on start).
        #[arg(long)]
        ledger: Option<PathBuf>,
        /// A fault script: one rule per line, `WHEN ACTION` (e.g. `mti 0100 #2 drop`); WHEN is
        /// `request N`, `next`, `mti 0100 [#K]` or `amount 12.98 [#K]`; ACTION is `drop`,
        /// `delay 5000ms`, `bad-mac`, `twice`, `close-mid-frame`, `sign-on`, `unbalanced`,
        /// `balanced` or `decline 51`; `#` starts a comment. A bad line is a usage error.
        #[arg(long, value_name = "FILE")]
        script: Option<PathBuf>,
        /// A control port: one command per line (an ACTION for the next reply, or `status`),
        /// one reply line each. Its address is printed after `control`.
        #[arg(long, value_name = "ADDR")]
        control: Option<std::net::SocketAddr>,
        /// Serve TLS with this certificate chain (PEM, the server's certificate first).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of `--tls-cert` (PEM).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Ask the ESC/POS printer (`--printer`) for its status (DLE EOT 1–4). Exit 1 when it
    /// cannot print.
    PrinterStatus {
        /// How long to wait for each reply, in milliseconds.
        #[arg(long, default_value_t = 3_000)]
        timeout_ms: u64,
    },
    /// Print the self-test page (paper width, code page, Chinese and English, QR, ruler) on
    /// the printer (`--printer`) and wait for the printer to confirm it.
    PrintTest {
        /// How long to wait for the printer's confirmation, in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
    },
    /// Run a virtual Epson-class ESC/POS printer over TCP: answers status requests, renders
    /// each page to PNG, injects faults.
    PrinterSim(printing::SimArgs),
    /// Run COUNT random transactions against the simulated host (for soak and crash tests).
    Simulate {
        /// How many commands.
        #[arg(long, default_value_t = 50)]
        count: u32,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

/// Why a command did not succeed, with its exit code.
#[derive(Debug)]
pub struct Failure {
    /// 1 refused or not approved, 2 usage, 3 journal or I/O.
    pub exit_code: u8,
    /// What to print.
    pub message: String,
}

impl Failure {
    /// A rule refused it, or the host did not approve (exit 1).
    pub fn refused(error: &dyn Bilingual, lang: Lang) -> Failure {
        Failure {
            exit_code: 1,
            message: session::describe(error, lang),
        }
    }

    /// The transaction ended without approval (exit 1); the message was printed already.
    pub fn not_approved() -> Failure {
        Failure {
            exit_code: 1,
            message: String::new(),
        }
    }

    /// Bad input (exit 2).
    pub fn usage(error: &dyn Bilingual, lang: Lang) -> Failure {
        Failure {
            exit_code: 2,
            message: session::describe(error, lang),
        }
    }

    /// A journal error (exit 3).
    pub fn journal(error: &dyn Bilingual) -> Failure {
        Failure {
            exit_code: 3,
            message: format!("{} / {} [{}]", error.zh(), error.en(), error.code()),
        }
    }

    /// An I/O error (exit 3).
    pub fn io(message: String) -> Failure {
        Failure {
            exit_code: 3,
            message: format!("I/O error / 读写错误: {message}"),
        }
    }
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().filter_or("POSCORE_LOG", "warn"))
        .init();
    let cli = Cli::parse();
    let lang = match cli.lang {
        Some(LangArg::Zh) => Lang::Zh,
        Some(LangArg::En) => Lang::En,
        None => Lang::from_locale(std::env::var("LANG").ok().as_deref()),
    };
    let links = LinkOptions {
        sim_delay: Duration::from_millis(cli.sim_delay_ms),
        sim_ledger: cli.sim_ledger.clone(),
        host_timeout: Duration::from_millis(cli.host_timeout_ms.max(1)),
        printer: cli.printer.clone(),
        profile: cli.profile.profile(),
        printer_timeout: Duration::from_millis(cli.printer_timeout_ms.max(1)),
        training: cli.training,
        fee_rates: cli.fee_rates.clone(),
        host: cli.host.clone(),
        host_master_key: cli.host_master_key.clone(),
        host_mac_key: cli.host_mac_key.clone(),
        tls: cli.tls,
        tls_ca: cli.tls_ca.clone(),
        tls_server_name: cli.tls_server_name.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::from(3);
        }
    };
    let result = runtime.block_on(commands::run(cli.command, &cli.db, lang, &links));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("{}", failure.message);
            }
            ExitCode::from(failure.exit_code)
        }
    }
}
