//! The virtual printer over a real TCP socket (127.0.0.1, port 0) and in process
//! (`connect()`): status replies in every state, confirmations only after the data and
//! only when online, ASB, pages and PNGs, the paper roll, every fault, the slow link and
//! the control port. Requests are raw bytes, as python-escpos sends them.
#![cfg(feature = "virtual-printer")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use poscore_escpos::{Paper, PrinterStatus};
use poscore_printer::virtual_printer::{Fault, Trigger, VirtualPrinter, VirtualPrinterConfig};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const DLE_EOT: [&[u8]; 4] = [
    b"\x10\x04\x01",
    b"\x10\x04\x02",
    b"\x10\x04\x03",
    b"\x10\x04\x04",
];
const GS_R_1: &[u8] = b"\x1d\x72\x01";
const ASB_ON: &[u8] = b"\x1d\x61\xff";
/// How long "no answer" is watched for.
const SILENCE: Duration = Duration::from_millis(300);
/// The longest any expected answer may take before the test fails (not a timing claim).
const PATIENCE: Duration = Duration::from_secs(10);

/// `GS ( H` fn 48 with this process ID.
fn process_id(id: &[u8; 4]) -> Vec<u8> {
    [&b"\x1d\x28\x48\x06\x00\x30\x30"[..], id].concat()
}

/// The printer's answer to that request.
fn process_id_reply(id: &[u8; 4]) -> Vec<u8> {
    [&b"\x37\x22"[..], id, b"\x00"].concat()
}

/// A small job: initialize, two lines, feed, full cut.
fn job(first: &str, second: &str) -> Vec<u8> {
    [
        b"\x1b\x40".as_slice(),
        first.as_bytes(),
        b"\n",
        second.as_bytes(),
        b"\n",
        b"\x1b\x64\x02",
        b"\x1d\x56\x00",
    ]
    .concat()
}

fn printer(config: VirtualPrinterConfig) -> VirtualPrinter {
    VirtualPrinter::new(config)
}

async fn tcp(printer: &VirtualPrinter) -> (TcpStream, SocketAddr) {
    let addr = printer
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (TcpStream::connect(addr).await.unwrap(), addr)
}

async fn read_n<S: AsyncRead + Unpin>(stream: &mut S, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut buf))
        .await
        .expect("the printer answered in time")
        .expect("the link is open");
    buf
}

/// Asserts nothing comes within [`SILENCE`].
async fn assert_silent<S: AsyncRead + Unpin>(stream: &mut S, what: &str) {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(SILENCE, stream.read(&mut buf)).await {
        Err(_) => {}
        Ok(Ok(n)) => panic!("{what}: expected no answer, got {:02X?}", &buf[..n]),
        Ok(Err(err)) => panic!("{what}: link failed: {err}"),
    }
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) {
    stream.write_all(bytes).await.unwrap();
    stream.flush().await.unwrap();
}

/// Asks `DLE EOT 1`–`4` and returns the four reply bytes.
async fn realtime<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> [u8; 4] {
    send(stream, &DLE_EOT.concat()).await;
    let reply = read_n(stream, 4).await;
    [reply[0], reply[1], reply[2], reply[3]]
}

/// Checks the reference bits (printers.md §2) of a `DLE EOT 1`–`4` reply set.
fn check_realtime(reply: [u8; 4], offline: bool, cover: bool, paper_end: bool, overheat: bool) {
    for byte in reply {
        assert_eq!(byte & 0x93, 0x12, "fixed bits of {reply:02X?}");
    }
    assert_eq!(
        reply[0] & 0x08 != 0,
        offline,
        "DLE EOT 1 bit 3 (offline) in {reply:02X?}"
    );
    assert_eq!(
        reply[1] & 0x04 != 0,
        cover,
        "DLE EOT 2 bit 2 (cover open) in {reply:02X?}"
    );
    assert_eq!(
        reply[1] & 0x20 != 0,
        paper_end,
        "DLE EOT 2 bit 5 (stopped on paper end) in {reply:02X?}"
    );
    assert_eq!(
        reply[2] & 0x40 != 0,
        overheat,
        "DLE EOT 3 bit 6 (auto-recoverable) in {reply:02X?}"
    );
    assert_eq!(
        reply[3] & 0x60 == 0x60,
        paper_end,
        "DLE EOT 4 bits 5-6 (paper end) in {reply:02X?}"
    );
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dle_eot_answers_in_ready_and_every_fault_state_over_tcp() {
    let p = printer(VirtualPrinterConfig::default());
    let (mut s, _) = tcp(&p).await;
    check_realtime(realtime(&mut s).await, false, false, false, false);

    p.inject(Trigger::Now, Fault::PaperOut);
    check_realtime(realtime(&mut s).await, true, false, true, false);
    p.load_paper();
    check_realtime(realtime(&mut s).await, false, false, false, false);

    p.inject(Trigger::Now, Fault::CoverOpen);
    check_realtime(realtime(&mut s).await, true, true, false, false);
    p.close_cover();

    p.inject(Trigger::Now, Fault::Overheat(Duration::from_secs(60)));
    check_realtime(realtime(&mut s).await, true, false, false, true);
    p.clear();

    // Never-confirm is no status fault: the printer reports ready.
    p.inject(Trigger::Now, Fault::NeverConfirm);
    check_realtime(realtime(&mut s).await, false, false, false, false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dle_eot_answers_in_process_and_mid_job() {
    let p = printer(VirtualPrinterConfig::default());
    let mut s = p.connect();
    check_realtime(realtime(&mut s).await, false, false, false, false);
    p.inject(Trigger::Now, Fault::CoverOpen);
    check_realtime(realtime(&mut s).await, true, true, false, false);
    p.clear();
    // Mid-job (half a line in the buffer, no LF yet) a real-time request is answered at once.
    send(&mut s, b"\x1b\x40half a line").await;
    send(&mut s, DLE_EOT[3]).await;
    assert_eq!(read_n(&mut s, 1).await[0], 0x12, "paper present");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmations_come_after_the_data_when_ready() {
    let p = printer(VirtualPrinterConfig::default());
    let (mut s, _) = tcp(&p).await;
    send(&mut s, &[job("first", "slip"), GS_R_1.to_vec()].concat()).await;
    let reply = read_n(&mut s, 1).await[0];
    assert_eq!(reply, 0x00, "GS r 1: paper present");
    assert_eq!(p.pages().len(), 1, "the page printed before the answer");
    assert_eq!(p.status_replies(), 1);

    send(
        &mut s,
        &[job("second", "slip"), process_id(b"AB01")].concat(),
    )
    .await;
    assert_eq!(read_n(&mut s, 7).await, process_id_reply(b"AB01"));
    let pages = p.pages();
    assert_eq!(pages.len(), 2);
    assert!(pages.iter().all(|page| page.complete));
    assert_eq!(pages[1].page.text(), "second\nslip");
    assert_eq!(p.confirmed(), vec![*b"AB01"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_printer_answers_no_confirmation() {
    for fault in [
        Fault::PaperOut,
        Fault::CoverOpen,
        Fault::Overheat(Duration::from_secs(60)),
    ] {
        let p = printer(VirtualPrinterConfig::default());
        let (mut s, _) = tcp(&p).await;
        p.inject(Trigger::Now, fault.clone());
        send(
            &mut s,
            &[job("lost", "slip"), GS_R_1.to_vec(), process_id(b"LOST")].concat(),
        )
        .await;
        assert_silent(&mut s, &format!("{fault} before the job")).await;
        // The real-time request behind them is answered, and is the first thing that comes.
        send(&mut s, DLE_EOT[0]).await;
        assert_eq!(read_n(&mut s, 1).await[0], 0x1A, "{fault}: offline");
        assert!(p.pages().is_empty(), "{fault}: nothing printed");
        assert!(p.confirmed().is_empty());
        p.clear();
        send(&mut s, &[job("kept", "slip"), process_id(b"KEPT")].concat()).await;
        assert_eq!(
            read_n(&mut s, 7).await,
            process_id_reply(b"KEPT"),
            "{fault}: prints after clearing"
        );
        assert_eq!(p.pages().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asb_on_enable_and_on_every_change() {
    let p = printer(VirtualPrinterConfig::default());
    let (mut s, _) = tcp(&p).await;
    send(&mut s, ASB_ON).await;
    let ready = read_n(&mut s, 4).await;
    assert_eq!(ready[0] & 0x93, 0x10, "ASB first byte pattern 0xx1xx00");
    assert_eq!(
        PrinterStatus::from_asb([ready[0], ready[1], ready[2], ready[3]]).unwrap(),
        PrinterStatus::READY
    );

    p.inject(Trigger::Now, Fault::CoverOpen);
    let open = read_n(&mut s, 4).await;
    assert_ne!(open[0] & 0x08, 0, "offline bit");
    assert_ne!(open[0] & 0x20, 0, "cover open bit");
    p.close_cover();
    let closed = read_n(&mut s, 4).await;
    assert_eq!(closed, ready);

    p.inject(Trigger::Now, Fault::PaperOut);
    let out = read_n(&mut s, 4).await;
    assert_eq!(out[2] & 0x0C, 0x0C, "paper end in byte 3: {out:02X?}");
    assert_eq!(
        PrinterStatus::from_asb([out[0], out[1], out[2], out[3]])
            .unwrap()
            .paper,
        Paper::Out
    );
    p.load_paper();
    assert_eq!(read_n(&mut s, 4).await, ready);

    // A fault striking mid-job sends an ASB too.
    p.inject(Trigger::AfterJobBytes(10), Fault::CoverOpen);
    send(&mut s, &[job("mid", "job"), process_id(b"MID1")].concat()).await;
    let mid = read_n(&mut s, 4).await;
    assert_ne!(
        mid[0] & 0x20,
        0,
        "cover open reported by ASB, not a confirmation: {mid:02X?}"
    );

    // GS a 0 turns it off (the DLE EOT answer shows it was processed).
    send(&mut s, b"\x1d\x61\x00").await;
    check_realtime(realtime(&mut s).await, true, true, false, false);
    p.close_cover();
    assert_silent(&mut s, "ASB off").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_finishes_a_page_and_writes_its_png() {
    let dir = tempfile::tempdir().unwrap();
    let png_dir = dir.path().join("pages");
    let p = printer(VirtualPrinterConfig {
        png_dir: Some(png_dir.clone()),
        ..VirtualPrinterConfig::default()
    });
    let mut s = p.connect();
    // Two lines, a 64×40 all-black raster image, a cut.
    let raster = [&b"\x1d\x76\x30\x00\x08\x00\x28\x00"[..], &[0xFFu8; 8 * 40]].concat();
    send(
        &mut s,
        &[
            b"\x1b\x40line one\nline two\n".as_slice(),
            &raster,
            b"\x1d\x56\x00",
            &process_id(b"PNG1"),
        ]
        .concat(),
    )
    .await;
    assert_eq!(read_n(&mut s, 7).await, process_id_reply(b"PNG1"));
    let pages = p.pages();
    assert_eq!(pages.len(), 1);
    let path = pages[0].png.clone().expect("a PNG was written");
    assert_eq!(path, png_dir.join("page-0001.png"));
    let leftovers: Vec<_> = std::fs::read_dir(&png_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");

    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.width, 384, "58 mm paper is 384 dots wide");
    assert!(
        info.height >= 2 * 30 + 40,
        "two lines and the image fit: {}",
        info.height
    );
    // The image: exactly 40 rows whose first 64 dots are all black (1-bit gray, 0 = black).
    let black_rows = (0..info.height as usize)
        .filter(|&y| {
            buf[y * info.line_size..y * info.line_size + 8]
                .iter()
                .all(|b| *b == 0x00)
        })
        .count();
    assert_eq!(black_rows, 40);
    assert_eq!(pages[0].page.images()[0].height(), 40);
    assert_eq!(pages[0].page.text(), "line one\nline two");
    assert_eq!(p.paper_used_mm(), (60.0 + 40.0) / 8.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_runs_out_mid_job_then_a_resent_job_prints() {
    // 10 mm = 80 dots: two 30-dot lines fit, the third does not.
    let p = printer(VirtualPrinterConfig {
        paper_out_after_mm: Some(10),
        ..VirtualPrinterConfig::default()
    });
    let (mut s, _) = tcp(&p).await;
    let long_job = b"\x1b\x40one\ntwo\nthree\nfour\n\x1d\x56\x00".to_vec();
    send(&mut s, &[long_job.clone(), process_id(b"JOB1")].concat()).await;
    assert_silent(&mut s, "a job cut short is not confirmed").await;
    check_realtime(realtime(&mut s).await, true, false, true, false);
    let pages = p.pages();
    assert_eq!(pages.len(), 1);
    assert!(!pages[0].complete);
    assert_eq!(pages[0].page.text(), "one\ntwo");
    assert!(p.confirmed().is_empty());
    assert_eq!(p.paper_used_mm(), 10.0);

    p.load_paper();
    send(&mut s, &[long_job, process_id(b"JOB2")].concat()).await;
    assert_eq!(read_n(&mut s, 7).await, process_id_reply(b"JOB2"));
    let pages = p.pages();
    assert_eq!(pages.len(), 2);
    assert!(pages[1].complete);
    assert_eq!(pages[1].page.text(), "one\ntwo\nthree\nfour");
    assert_eq!(p.confirmed(), vec![*b"JOB2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overheat_clears_by_itself_with_an_asb() {
    let p = printer(VirtualPrinterConfig::default());
    let (mut s, _) = tcp(&p).await;
    send(&mut s, ASB_ON).await;
    read_n(&mut s, 4).await;
    let start = Instant::now();
    p.inject(Trigger::Now, Fault::Overheat(Duration::from_millis(400)));
    assert!(!p.status().online && p.status().recoverable_error);
    let hot = read_n(&mut s, 4).await;
    assert_ne!(
        hot[1] & 0x40,
        0,
        "recoverable error in ASB byte 2: {hot:02X?}"
    );
    let cool = read_n(&mut s, 4).await;
    assert!(
        start.elapsed() >= Duration::from_millis(350),
        "cleared after its time: {:?}",
        start.elapsed()
    );
    assert_eq!(
        PrinterStatus::from_asb([cool[0], cool[1], cool[2], cool[3]]).unwrap(),
        PrinterStatus::READY
    );
    assert!(p.status().online);
    send(
        &mut s,
        &[job("after", "heat"), process_id(b"COOL")].concat(),
    )
    .await;
    assert_eq!(read_n(&mut s, 7).await, process_id_reply(b"COOL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_connection_closes_the_socket_mid_job() {
    let p = printer(VirtualPrinterConfig::default());
    let (mut s, addr) = tcp(&p).await;
    p.inject(Trigger::AfterJobBytes(200), Fault::DropConnection);
    let mut big = b"\x1b\x40".to_vec();
    for i in 0..100 {
        big.extend_from_slice(format!("line {i:03} of a long slip\n").as_bytes());
    }
    big.extend_from_slice(b"\x1d\x56\x00");
    big.extend_from_slice(&process_id(b"DROP"));
    // The peer may close while we still write: a failed write is part of a dropped link.
    let _ = s.write_all(&big).await;
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(PATIENCE, s.read(&mut buf))
        .await
        .expect("the link closed in time");
    assert_eq!(
        n.expect("a clean end of stream"),
        0,
        "the reader sees EOF, no confirmation"
    );
    wait_until("the cut-short page", || !p.pages().is_empty()).await;
    let page = &p.pages()[0];
    assert!(!page.complete);
    assert!(page.page.text().lines().count() < 100);
    assert!(p.confirmed().is_empty());
    assert!(p.status().online, "a dropped link is no printer fault");

    // The printer takes the next connection and prints.
    let mut again = TcpStream::connect(addr).await.unwrap();
    send(
        &mut again,
        &[job("next", "one"), process_id(b"NEXT")].concat(),
    )
    .await;
    assert_eq!(read_n(&mut again, 7).await, process_id_reply(b"NEXT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_now_closes_the_open_in_process_link() {
    let p = printer(VirtualPrinterConfig::default());
    let mut s = p.connect();
    check_realtime(realtime(&mut s).await, false, false, false, false);
    p.inject(Trigger::Now, Fault::DropConnection);
    let mut buf = [0u8; 4];
    let n = tokio::time::timeout(PATIENCE, s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0, "EOF");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_confirm_prints_but_does_not_answer() {
    let p = printer(VirtualPrinterConfig::default());
    let (mut s, _) = tcp(&p).await;
    p.inject(Trigger::Now, Fault::NeverConfirm);
    send(
        &mut s,
        &[
            job("printed", "unconfirmed"),
            process_id(b"NVR1"),
            GS_R_1.to_vec(),
        ]
        .concat(),
    )
    .await;
    assert_silent(&mut s, "never-confirm").await;
    check_realtime(realtime(&mut s).await, false, false, false, false);
    assert_eq!(p.pages().len(), 1);
    assert!(p.pages()[0].complete);
    assert!(p.confirmed().is_empty());
    p.clear();
    send(&mut s, &process_id(b"NVR2")).await;
    assert_eq!(read_n(&mut s, 7).await, process_id_reply(b"NVR2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_before_confirm_strikes_after_the_data() {
    let p = printer(VirtualPrinterConfig::default());
    let mut s = p.connect();
    p.inject(Trigger::BeforeConfirm, Fault::PaperOut);
    send(
        &mut s,
        &[job("printed", "then paper out"), process_id(b"BC01")].concat(),
    )
    .await;
    assert_silent(&mut s, "paper out before the confirmation").await;
    check_realtime(realtime(&mut s).await, true, false, true, false);
    assert_eq!(p.pages().len(), 1);
    assert!(
        !p.pages()[0].complete,
        "the fault struck before the printing completed"
    );
    assert!(p.confirmed().is_empty());
    p.load_paper();
    send(
        &mut s,
        &[job("printed", "again"), process_id(b"BC02")].concat(),
    )
    .await;
    assert_eq!(read_n(&mut s, 7).await, process_id_reply(b"BC02"));
    let complete: Vec<bool> = p.pages().iter().map(|page| page.complete).collect();
    assert_eq!(complete, vec![false, true]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printer_without_process_id_answers_gs_r_only() {
    let profile = poscore_escpos::Profile {
        process_id: false,
        ..poscore_escpos::Profile::mm58()
    };
    let p = printer(VirtualPrinterConfig {
        profile,
        ..VirtualPrinterConfig::default()
    });
    let mut s = p.connect();
    send(
        &mut s,
        &[
            job("no", "process id"),
            process_id(b"NOPE"),
            GS_R_1.to_vec(),
        ]
        .concat(),
    )
    .await;
    assert_eq!(read_n(&mut s, 1).await, vec![0x00], "only the GS r reply");
    assert!(p.confirmed().is_empty());
    assert_silent(&mut s, "GS ( H ignored").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_link_takes_its_time() {
    let p = printer(VirtualPrinterConfig {
        baud: Some(9600),
        ..VirtualPrinterConfig::default()
    });
    let (mut s, _) = tcp(&p).await;
    // 40 lines of 29 characters and LF: 1200 bytes, 1.25 s at 9600 baud (10 bits a byte).
    let mut data = Vec::new();
    for i in 0..40 {
        data.extend_from_slice(format!("{i:02} slow link test line ......\n").as_bytes());
    }
    assert_eq!(data.len(), 1200);
    let start = Instant::now();
    send(&mut s, &[data, GS_R_1.to_vec()].concat()).await;
    assert_eq!(read_n(&mut s, 1).await, vec![0x00]);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "1200 bytes at 9600 baud took only {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_come_and_go() {
    let p = printer(VirtualPrinterConfig::default());
    let addr = p.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
    for id in [b"CON1", b"CON2", b"CON3"] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        send(&mut s, &[job("one of", "several"), process_id(id)].concat()).await;
        assert_eq!(read_n(&mut s, 7).await, process_id_reply(id));
    }
    assert_eq!(p.confirmed(), vec![*b"CON1", *b"CON2", *b"CON3"]);
    assert_eq!(p.pages().len(), 3);
}

/// Sends one control line and reads the reply line.
async fn control(
    lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    line: &str,
) -> String {
    writer
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .expect("a reply line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_port_injects_clears_and_reports() {
    let p = printer(VirtualPrinterConfig::default());
    let (mut s, _) = tcp(&p).await;
    let control_addr = p
        .serve_control("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (reader, mut writer) = TcpStream::connect(control_addr).await.unwrap().into_split();
    let mut lines = BufReader::new(reader).lines();

    let status: serde_json::Value =
        serde_json::from_str(&control(&mut lines, &mut writer, "status").await).unwrap();
    assert_eq!(status["online"], true);
    assert_eq!(status["paper"], "ok");
    assert_eq!(status["cover_open"], false);
    assert_eq!(status["overheated"], false);
    assert_eq!(status["pages"], 0);
    assert_eq!(status["confirmed"], 0);
    assert_eq!(status["paper_used_mm"], 0.0);

    send(
        &mut s,
        &[job("via", "control"), process_id(b"CTL1")].concat(),
    )
    .await;
    assert_eq!(read_n(&mut s, 7).await, process_id_reply(b"CTL1"));

    assert_eq!(
        control(&mut lines, &mut writer, "inject now cover-open").await,
        "ok"
    );
    check_realtime(realtime(&mut s).await, true, true, false, false);
    let status: serde_json::Value =
        serde_json::from_str(&control(&mut lines, &mut writer, "status").await).unwrap();
    assert_eq!(status["online"], false);
    assert_eq!(status["cover_open"], true);
    assert_eq!(status["pages"], 1);
    assert_eq!(status["confirmed"], 1);
    assert_eq!(status["paper_used_mm"], 15.0);
    assert_eq!(control(&mut lines, &mut writer, "close-cover").await, "ok");
    assert!(p.status().online);

    assert_eq!(
        control(&mut lines, &mut writer, "inject now overheat=60s").await,
        "ok"
    );
    let status: serde_json::Value =
        serde_json::from_str(&control(&mut lines, &mut writer, "status").await).unwrap();
    assert_eq!(status["overheated"], true);
    assert_eq!(
        control(&mut lines, &mut writer, "inject now paper-out").await,
        "ok"
    );
    let status: serde_json::Value =
        serde_json::from_str(&control(&mut lines, &mut writer, "status").await).unwrap();
    assert_eq!(status["paper"], "out");
    assert_eq!(control(&mut lines, &mut writer, "load-paper").await, "ok");
    assert_eq!(control(&mut lines, &mut writer, "clear").await, "ok");
    check_realtime(realtime(&mut s).await, false, false, false, false);

    assert_eq!(
        control(
            &mut lines,
            &mut writer,
            "inject before-confirm never-confirm"
        )
        .await,
        "ok"
    );
    send(
        &mut s,
        &[job("not", "confirmed"), process_id(b"CTL2")].concat(),
    )
    .await;
    assert_silent(&mut s, "never-confirm from the control port").await;

    let error = control(&mut lines, &mut writer, "explode").await;
    assert!(error.starts_with("error "), "{error}");
    for command in ["inject", "clear", "load-paper", "close-cover", "status"] {
        assert!(error.contains(command), "{error} lists {command}");
    }
    let error = control(&mut lines, &mut writer, "inject later drop").await;
    assert!(
        error.starts_with("error ") && error.contains("after-bytes="),
        "{error}"
    );
}
