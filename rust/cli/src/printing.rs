//! The printer commands: `printer-status`, `print-test` and `printer-sim`. They need no
//! journal: they talk to an ESC/POS printer (or the virtual one) directly.
//!
//! Exit codes follow the rest of the CLI: 0 ok; 1 the printer has a fault (or did not
//! confirm the page); 2 usage; 3 the printer cannot be reached.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use poscore::Lang;
use poscore_escpos::profile::{QrMode, SingleByteCharset, TextEncoding};
use poscore_escpos::{Paper, PaperWidth, PrinterStatus, Profile};
use poscore_printer::job::{EscPosPrinter, JobConfig, PrintError};
use poscore_printer::transport::PrinterAddress;
use poscore_printer::virtual_printer::{Fault, Trigger, VirtualPrinter, VirtualPrinterConfig};
use poscore_printer::{Condition, selftest};

use crate::Failure;

/// The paper roll, as the CLI spells it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PaperArg {
    /// 58 mm (384 dots, 32 columns).
    #[value(name = "58")]
    Mm58,
    /// 80 mm (576 dots, 48 columns).
    #[value(name = "80")]
    Mm80,
}

/// The text encoding, as the CLI spells it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EncodingArg {
    /// GB18030 in Chinese mode (FS &).
    Gb18030,
    /// GBK in Chinese mode (FS &).
    Gbk,
    /// UTF-8.
    Utf8,
    /// PC437 selected with `ESC t 0` (no Chinese).
    Pc437,
}

/// What the printer model can do: global flags, for `--printer`, the printer commands and
/// the virtual printers (`printer-sim`, the demo's). The paper is also the slips' paper.
#[derive(Debug, Clone, Args)]
pub struct ProfileArgs {
    /// Paper width in mm (of the printer and of the slips).
    #[arg(long, global = true, value_enum, default_value = "58")]
    paper: PaperArg,
    /// Text encoding of the printer.
    #[arg(long, global = true, value_enum, default_value = "gb18030")]
    encoding: EncodingArg,
    /// Send QR codes as raster images (for printers without `GS ( k`).
    #[arg(long, global = true)]
    raster_qr: bool,
    /// The printer does not answer `GS ( H`: confirm jobs with `GS r 1` instead.
    #[arg(long, global = true)]
    no_process_id: bool,
}

impl ProfileArgs {
    /// The profile these flags describe.
    pub fn profile(&self) -> Profile {
        Profile {
            paper: match self.paper {
                PaperArg::Mm58 => PaperWidth::Mm58,
                PaperArg::Mm80 => PaperWidth::Mm80,
            },
            encoding: match self.encoding {
                EncodingArg::Gb18030 => TextEncoding::Gb18030,
                EncodingArg::Gbk => TextEncoding::Gbk,
                EncodingArg::Utf8 => TextEncoding::Utf8,
                EncodingArg::Pc437 => TextEncoding::SingleByte {
                    code_page: 0,
                    charset: SingleByteCharset::Pc437,
                },
            },
            qr: if self.raster_qr {
                QrMode::Raster
            } else {
                QrMode::Native
            },
            process_id: !self.no_process_id,
        }
    }
}

/// `printer-sim`'s options.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Where to listen for ESC/POS (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:9100")]
    listen: SocketAddr,
    /// Where to listen for control commands (inject, clear, status); none by default.
    #[arg(long)]
    control: Option<SocketAddr>,
    /// Write every finished page here as page-0001.png, page-0002.png, …
    #[arg(long)]
    png_dir: Option<PathBuf>,
    /// Emulate a serial link at this baud rate (10 bits per byte).
    #[arg(long)]
    baud: Option<u32>,
    /// The roll ends after this many mm of paper.
    #[arg(long)]
    paper_out_after_mm: Option<u32>,
    /// Inject a fault: TRIGGER:FAULT, e.g. now:cover-open, after-bytes=200:paper-out,
    /// before-confirm:never-confirm, now:overheat=5s. Repeatable.
    #[arg(long = "fault")]
    faults: Vec<String>,
}

fn say(lang: Lang, zh: &str, en: &str) -> String {
    if lang == Lang::Zh {
        zh.to_string()
    } else {
        en.to_string()
    }
}

/// Reads a printer address; a bad one is a usage error listing the accepted forms.
pub fn parse_address(text: &str, lang: Lang) -> Result<PrinterAddress, Failure> {
    text.parse::<PrinterAddress>().map_err(|e| Failure {
        exit_code: 2,
        message: say(
            lang,
            &format!("打印机地址无效：{e}"),
            &format!("bad printer address: {e}"),
        ),
    })
}

fn config(timeout_ms: u64) -> JobConfig {
    job_config(Duration::from_millis(timeout_ms))
}

/// The job protocol's timeouts for a confirmation timeout: status replies wait at most 2 s
/// (less when the timeout is shorter), and the watchdog bounds a whole job at the
/// confirmation timeout plus 10 s.
pub fn job_config(confirm_timeout: Duration) -> JobConfig {
    JobConfig {
        confirm_timeout,
        status_timeout: confirm_timeout.min(Duration::from_secs(2)),
        watchdog: confirm_timeout + Duration::from_secs(10),
        baud: None,
    }
}

/// The printer address the printer commands need.
fn required_address(printer: Option<&str>, lang: Lang) -> Result<PrinterAddress, Failure> {
    match printer {
        Some(text) => parse_address(text, lang),
        None => Err(Failure {
            exit_code: 2,
            message: say(
                lang,
                "需要 --printer 地址：HOST:PORT、tcp:HOST、/dev/ttyS1?baud=9600、/dev/usb/lp0 或 file:PATH",
                "this command needs --printer ADDR: HOST:PORT, tcp:HOST, /dev/ttyS1?baud=9600, /dev/usb/lp0 or file:PATH",
            ),
        }),
    }
}

fn failure_of(error: &PrintError, lang: Lang) -> Failure {
    let exit_code = match error.condition() {
        Condition::CommunicationError | Condition::NotFound => 3,
        _ => 1,
    };
    let (zh, en) = error.condition().remedy();
    Failure {
        exit_code,
        message: format!(
            "{} [{}]\n{error}",
            say(lang, zh, en),
            error.condition().code()
        ),
    }
}

fn paper_name(paper: Paper) -> &'static str {
    match paper {
        Paper::Ok => "ok",
        Paper::NearEnd => "near_end",
        Paper::Out => "out",
    }
}

/// Prints a status as `key: value` lines.
fn show_status(status: &PrinterStatus, lang: Lang) {
    let condition = Condition::of_status(status);
    let (zh, en) = condition.remedy();
    println!("condition: {}", condition.code());
    println!("online: {}", status.online);
    println!("paper: {}", paper_name(status.paper));
    println!("cover_open: {}", status.cover_open);
    println!("overheated: {}", status.recoverable_error);
    println!("cutter_error: {}", status.cutter_error);
    println!(
        "unrecoverable_error: {}",
        status.unrecoverable_error || status.mechanical_error
    );
    println!("{}", say(lang, zh, en));
}

/// `poscore printer-status --printer ADDR`.
pub async fn status(
    printer: Option<&str>,
    profile: &Profile,
    timeout_ms: u64,
    lang: Lang,
) -> Result<(), Failure> {
    let address = required_address(printer, lang)?;
    let driver = EscPosPrinter::new(std::sync::Arc::new(address), *profile, config(timeout_ms));
    let status = driver.status().await.map_err(|e| failure_of(&e, lang))?;
    show_status(&status, lang);
    if Condition::of_status(&status).can_print() {
        Ok(())
    } else {
        Err(Failure {
            exit_code: 1,
            message: String::new(),
        })
    }
}

/// `poscore print-test --printer ADDR`.
pub async fn print_test(
    printer: Option<&str>,
    profile: &Profile,
    timeout_ms: u64,
    lang: Lang,
) -> Result<(), Failure> {
    let address = required_address(printer, lang)?;
    let profile = *profile;
    let driver = EscPosPrinter::new(std::sync::Arc::new(address), profile, config(timeout_ms));
    let page = selftest::document(&profile);
    let receipt = driver
        .print(&page)
        .await
        .map_err(|e| failure_of(&e, lang))?;
    println!(
        "{}",
        say(
            lang,
            &format!(
                "自检页已打印并经打印机确认（{} 字节，{} 毫秒）",
                receipt.bytes_sent,
                receipt.elapsed.as_millis()
            ),
            &format!(
                "self-test page printed and confirmed by the printer ({} bytes, {} ms)",
                receipt.bytes_sent,
                receipt.elapsed.as_millis()
            )
        )
    );
    Ok(())
}

/// `poscore printer-sim`: runs until killed.
pub async fn simulate(args: &SimArgs, profile: &Profile, lang: Lang) -> Result<(), Failure> {
    let usage = |e: String| Failure {
        exit_code: 2,
        message: e,
    };
    let mut faults = Vec::new();
    for spec in &args.faults {
        let (trigger, fault) = spec
            .split_once(':')
            .ok_or_else(|| usage(format!("--fault {spec}: expected TRIGGER:FAULT, e.g. now:cover-open or after-bytes=200:paper-out")))?;
        let trigger: Trigger = trigger
            .parse()
            .map_err(|e| usage(format!("--fault {spec}: {e}")))?;
        let fault: Fault = fault
            .parse()
            .map_err(|e| usage(format!("--fault {spec}: {e}")))?;
        faults.push((trigger, fault));
    }
    let printer = VirtualPrinter::new(VirtualPrinterConfig {
        profile: *profile,
        png_dir: args.png_dir.clone(),
        baud: args.baud,
        paper_out_after_mm: args.paper_out_after_mm,
    });
    for (trigger, fault) in faults {
        printer.inject(trigger, fault);
    }
    let io = |what: &str, e: std::io::Error| Failure::io(format!("{what}: {e}"));
    let bound = printer
        .listen(args.listen)
        .await
        .map_err(|e| io(&format!("listening on {}", args.listen), e))?;
    let control = match args.control {
        Some(addr) => Some(
            printer
                .serve_control(addr)
                .await
                .map_err(|e| io(&format!("control on {addr}"), e))?,
        ),
        None => None,
    };
    match control {
        Some(control) => println!("printer-sim listening on {bound} control {control}"),
        None => println!("printer-sim listening on {bound}"),
    }
    eprintln!(
        "{}",
        say(
            lang,
            "虚拟打印机运行中；按 Ctrl-C 退出",
            "virtual printer running; Ctrl-C to stop"
        )
    );
    std::future::pending::<()>().await;
    Ok(())
}
