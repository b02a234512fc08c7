//! The transports (TCP, a tty through a pseudo-terminal, files) and the job protocol
//! against a small scripted ESC/POS peer over real TCP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use poscore_escpos::{Paper, PrinterStatus, Profile};
use poscore_printer::{
    Condition, Connector, EscPosPrinter, JobConfig, PrintError, PrinterAddress, Stage,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the scripted printer behaves.
#[derive(Clone)]
struct Script {
    /// Its state at the start.
    status: PrinterStatus,
    /// Whether it answers `GS ( H` / `GS r`.
    confirm: bool,
    /// After this many print-data bytes, it switches to this state (and sends an ASB when enabled).
    fault_after: Option<(usize, PrinterStatus, bool)>,
    /// After this many print-data bytes, it closes the connection (once).
    drop_after: Option<usize>,
    /// Sends a process ID no job asked for before the real one.
    stale_id_first: bool,
    /// Answers nothing at all.
    mute: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            status: PrinterStatus::READY,
            confirm: true,
            fault_after: None,
            drop_after: None,
            stale_id_first: false,
            mute: false,
        }
    }
}

/// What the scripted printer saw.
#[derive(Default)]
struct Seen {
    data: Vec<u8>,
    confirmed: Vec<[u8; 4]>,
    connections: usize,
}

struct Peer {
    address: PrinterAddress,
    script: Arc<Mutex<Script>>,
    seen: Arc<Mutex<Seen>>,
}

fn paper_out() -> PrinterStatus {
    PrinterStatus {
        paper: Paper::Out,
        ..PrinterStatus::READY
    }
}

fn cover_open() -> PrinterStatus {
    PrinterStatus {
        cover_open: true,
        ..PrinterStatus::READY
    }
}

async fn peer(script: Script) -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = Arc::new(Mutex::new(script));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (s, v) = (Arc::clone(&script), Arc::clone(&seen));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            v.lock().unwrap().connections += 1;
            tokio::spawn(serve(stream, Arc::clone(&s), Arc::clone(&v)));
        }
    });
    Peer {
        address: format!("tcp:127.0.0.1:{port}").parse().unwrap(),
        script,
        seen,
    }
}

/// Serves one connection: answers DLE EOT, GS a, GS r and GS ( H as scripted; any other
/// byte is print data.
async fn serve(
    mut stream: tokio::net::TcpStream,
    script: Arc<Mutex<Script>>,
    seen: Arc<Mutex<Seen>>,
) {
    let mut pending: Vec<u8> = Vec::new();
    let mut asb = false;
    let mut buf = [0u8; 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut out = Vec::new();
        let mut at = 0;
        while at < pending.len() {
            let rest = &pending[at..];
            let mut s = script.lock().unwrap();
            let need = match rest[0] {
                0x10 | 0x1D if rest.len() < 3 => break,
                0x1D if rest[1] == 0x28 && rest.len() < 11 => break,
                0x10 => {
                    out.push(s.status.realtime_reply(rest[2]));
                    3
                }
                0x1D if rest[1] == 0x61 => {
                    asb = rest[2] != 0;
                    if asb {
                        out.extend_from_slice(&s.status.asb());
                    }
                    3
                }
                0x1D if rest[1] == 0x72 => {
                    if s.confirm && s.status.settled().online {
                        out.push(s.status.paper_sensor_reply());
                    }
                    3
                }
                0x1D if rest[1] == 0x28 => {
                    let id = [rest[7], rest[8], rest[9], rest[10]];
                    if s.stale_id_first {
                        out.extend_from_slice(&[0x37, 0x22, b'o', b'l', b'd', b'!', 0x00]);
                    }
                    if s.confirm && s.status.settled().online {
                        out.extend_from_slice(&[0x37, 0x22, id[0], id[1], id[2], id[3], 0x00]);
                        seen.lock().unwrap().confirmed.push(id);
                    }
                    11
                }
                byte => {
                    let mut v = seen.lock().unwrap();
                    if s.status.settled().online {
                        v.data.push(byte);
                    }
                    let count = v.data.len();
                    if let Some((k, status, send_asb)) = s.fault_after {
                        if count >= k {
                            s.status = status;
                            s.fault_after = None;
                            if asb && send_asb {
                                out.extend_from_slice(&status.asb());
                            }
                        }
                    }
                    if s.drop_after.is_some_and(|k| count >= k) {
                        s.drop_after = None;
                        return;
                    }
                    1
                }
            };
            at += need;
        }
        pending.drain(..at);
        let mute = script.lock().unwrap().mute;
        if !out.is_empty() && !mute && stream.write_all(&out).await.is_err() {
            return;
        }
    }
}

fn quick() -> JobConfig {
    JobConfig {
        confirm_timeout: Duration::from_millis(300),
        status_timeout: Duration::from_millis(300),
        watchdog: Duration::from_secs(5),
        baud: None,
    }
}

fn printer(peer: &Peer, profile: Profile, config: JobConfig) -> EscPosPrinter {
    let connector: Arc<dyn Connector> = Arc::new(peer.address.clone());
    EscPosPrinter::new(connector, profile, config)
}

#[tokio::test]
async fn a_ready_printer_confirms_the_process_id() {
    let peer = peer(Script::default()).await;
    let printer = printer(&peer, Profile::mm58(), quick());
    let receipt = printer.print_bytes(b"hello slip\n").await.unwrap();
    let id = receipt.process_id.expect("confirmed by GS ( H");
    assert!(id.iter().all(|b| (0x20..=0x7E).contains(b)));
    assert_eq!(peer.seen.lock().unwrap().confirmed, [id]);
    assert_eq!(peer.seen.lock().unwrap().data, b"hello slip\n");
    assert_eq!(receipt.bytes_sent, 3 + 11 + 11);
    // The connection is reused and each attempt has a new ID.
    let second = printer.print_bytes(b"again\n").await.unwrap();
    assert_ne!(second.process_id, Some(id));
    assert_eq!(peer.seen.lock().unwrap().connections, 1);
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::READY);
}

#[tokio::test]
async fn gs_r_confirms_where_gs_paren_h_is_not_supported() {
    let peer = peer(Script::default()).await;
    let profile = Profile {
        process_id: false,
        ..Profile::mm58()
    };
    let receipt = printer(&peer, profile, quick())
        .print_bytes(b"slip\n")
        .await
        .unwrap();
    assert_eq!(receipt.process_id, None);
    assert!(peer.seen.lock().unwrap().confirmed.is_empty());
}

#[tokio::test]
async fn a_known_fault_refuses_the_job_before_any_data() {
    for (status, condition) in [
        (paper_out(), Condition::PaperOut),
        (cover_open(), Condition::CoverOpen),
        (
            PrinterStatus {
                recoverable_error: true,
                ..PrinterStatus::READY
            },
            Condition::Overheated,
        ),
    ] {
        let peer = peer(Script {
            status,
            ..Script::default()
        })
        .await;
        let error = printer(&peer, Profile::mm58(), quick())
            .print_bytes(b"slip\n")
            .await
            .unwrap_err();
        assert_eq!(error, PrintError::Refused(condition));
        assert!(peer.seen.lock().unwrap().data.is_empty());
        assert!(error.to_string().contains(condition.remedy().0));
    }
}

#[tokio::test]
async fn an_asb_fault_mid_data_fails_the_job_then_the_resend_prints_once() {
    let data = vec![b'x'; 4000];
    let peer = peer(Script {
        fault_after: Some((1000, cover_open(), true)),
        ..Script::default()
    })
    .await;
    let printer = printer(&peer, Profile::mm58(), quick());
    let error = printer.print_bytes(&data).await.unwrap_err();
    assert_eq!(error.condition(), Condition::CoverOpen, "{error:?}");
    assert!(matches!(
        error.stage(),
        Stage::Sending | Stage::AwaitingConfirmation
    ));
    assert!(peer.seen.lock().unwrap().confirmed.is_empty());
    // Still open: refused.
    assert_eq!(
        printer.print_bytes(&data).await.unwrap_err(),
        PrintError::Refused(Condition::CoverOpen)
    );
    peer.script.lock().unwrap().status = PrinterStatus::READY;
    let receipt = printer.print_bytes(&data).await.unwrap();
    assert_eq!(
        peer.seen.lock().unwrap().confirmed,
        [receipt.process_id.unwrap()]
    );
}

#[tokio::test]
async fn a_timeout_asks_the_printer_for_the_cause() {
    // The printer runs out of paper mid-job and sends no ASB: the timeout's DLE EOT names it.
    let peer = peer(Script {
        fault_after: Some((3, paper_out(), false)),
        ..Script::default()
    })
    .await;
    let error = printer(&peer, Profile::mm58(), quick())
        .print_bytes(b"long slip\n")
        .await
        .unwrap_err();
    assert_eq!(error.condition(), Condition::PaperOut, "{error:?}");
    assert_eq!(error.stage(), Stage::AwaitingConfirmation);
}

#[tokio::test]
async fn a_printer_that_never_confirms_is_not_confirmed() {
    let peer = peer(Script {
        confirm: false,
        stale_id_first: true,
        ..Script::default()
    })
    .await;
    let started = std::time::Instant::now();
    let error = printer(&peer, Profile::mm58(), quick())
        .print_bytes(b"slip\n")
        .await
        .unwrap_err();
    // The stale ID was not counted.
    assert_eq!(
        error,
        PrintError::NotConfirmed {
            waited: Duration::from_millis(300)
        }
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300)
            && started.elapsed() < Duration::from_secs(3)
    );
}

#[tokio::test]
async fn a_stale_process_id_is_ignored_and_ours_confirms() {
    let peer = peer(Script {
        stale_id_first: true,
        ..Script::default()
    })
    .await;
    let receipt = printer(&peer, Profile::mm58(), quick())
        .print_bytes(b"slip\n")
        .await
        .unwrap();
    assert_ne!(receipt.process_id, Some(*b"old!"));
    assert_eq!(
        peer.seen.lock().unwrap().confirmed,
        [receipt.process_id.unwrap()]
    );
}

#[tokio::test]
async fn a_dropped_connection_fails_the_job_and_the_next_one_reconnects() {
    let peer = peer(Script {
        drop_after: Some(5),
        ..Script::default()
    })
    .await;
    let printer = printer(&peer, Profile::mm58(), quick());
    let error = printer.print_bytes(b"0123456789\n").await.unwrap_err();
    assert_eq!(
        error.condition(),
        Condition::CommunicationError,
        "{error:?}"
    );
    assert!(!matches!(error, PrintError::NotConfirmed { .. }));
    let receipt = printer.print_bytes(b"0123456789\n").await.unwrap();
    let seen = peer.seen.lock().unwrap();
    assert_eq!(seen.connections, 2);
    assert_eq!(seen.confirmed, [receipt.process_id.unwrap()]);
}

#[tokio::test]
async fn the_confirmation_wait_grows_with_the_transfer_time() {
    // 9600 baud: ~1000 bytes take ~1.04 s; a printer that never confirms is given that long.
    let peer = peer(Script {
        confirm: false,
        ..Script::default()
    })
    .await;
    let config = JobConfig {
        baud: Some(9600),
        ..quick()
    };
    let error = printer(&peer, Profile::mm58(), config)
        .print_bytes(&[b'x'; 1000])
        .await
        .unwrap_err();
    let PrintError::NotConfirmed { waited } = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        waited,
        Duration::from_millis(300) + poscore_printer::job::transfer_time(1000 + 3 + 11, 9600)
    );
}

#[tokio::test]
async fn the_watchdog_bounds_a_silent_printer() {
    let peer = peer(Script {
        mute: true,
        ..Script::default()
    })
    .await;
    let config = JobConfig {
        status_timeout: Duration::from_secs(30),
        watchdog: Duration::from_millis(250),
        ..quick()
    };
    let started = std::time::Instant::now();
    let error = printer(&peer, Profile::mm58(), config)
        .print_bytes(b"slip\n")
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(error.condition(), Condition::CommunicationError);
    assert_eq!(error.stage(), Stage::BeforeSend);
}

#[tokio::test]
async fn nothing_listening_is_a_communication_error_before_sending() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let address: PrinterAddress = format!("127.0.0.1:{port}").parse().unwrap();
    let printer = EscPosPrinter::new(Arc::new(address), Profile::mm58(), quick());
    let error = printer.print_bytes(b"slip\n").await.unwrap_err();
    assert_eq!(
        (error.condition(), error.stage()),
        (Condition::CommunicationError, Stage::BeforeSend)
    );
}

#[tokio::test]
async fn a_write_only_file_is_written_but_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.bin");
    let address: PrinterAddress = format!("file:{}", path.display()).parse().unwrap();
    assert!(!address.confirms());
    let printer = EscPosPrinter::new(Arc::new(address), Profile::mm58(), quick());
    let error = printer.print_bytes(b"\x1b@slip\n").await.unwrap_err();
    assert!(
        matches!(error, PrintError::Unconfirmable { bytes: 7, .. }),
        "{error:?}"
    );
    assert!(!error.condition().can_print());
    assert_eq!(std::fs::read(&path).unwrap(), b"\x1b@slip\n");
}

#[tokio::test]
async fn a_file_with_replies_reads_the_printers_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (out, replies) = (
        dir.path().join("stream.bin"),
        dir.path().join("replies.bin"),
    );
    let status = paper_out();
    std::fs::write(&replies, [1, 2, 3, 4].map(|n| status.realtime_reply(n))).unwrap();
    let address: PrinterAddress = format!("file:{}?replies={}", out.display(), replies.display())
        .parse()
        .unwrap();
    let printer = EscPosPrinter::new(Arc::new(address), Profile::mm58(), quick());
    assert_eq!(
        printer.print_bytes(b"slip\n").await.unwrap_err(),
        PrintError::Refused(Condition::PaperOut)
    );
    // Only the status requests were written.
    assert_eq!(
        std::fs::read(&out).unwrap(),
        [0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 3, 0x10, 0x04, 4]
    );
}

#[cfg(unix)]
mod tty {
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};

    use super::*;

    /// A pseudo-terminal pair: (master, slave, slave path).
    fn openpty() -> (OwnedFd, OwnedFd, String) {
        let (mut master, mut slave): (RawFd, RawFd) = (-1, -1);
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: valid out-pointers; name has room for the path; no termios/winsize given.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                name.as_mut_ptr(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty returned two fresh descriptors that nothing else owns; name is
        // NUL-terminated.
        unsafe {
            let path = std::ffi::CStr::from_ptr(name.as_ptr())
                .to_string_lossy()
                .into_owned();
            (
                OwnedFd::from_raw_fd(master),
                OwnedFd::from_raw_fd(slave),
                path,
            )
        }
    }

    #[tokio::test]
    async fn bytes_cross_a_tty_both_ways_in_raw_mode_at_the_baud_rate() {
        use std::io::{Read, Write};
        use std::os::fd::AsRawFd;

        let (master, slave, path) = openpty();
        let address: PrinterAddress = format!("dev:{path}?baud=9600").parse().unwrap();
        assert_eq!(address.baud(), Some(9600));
        let mut link = address.connect().await.unwrap();

        // The baud rate and raw mode are set on the tty.
        // SAFETY: zeroed termios is valid; filled by tcgetattr on an open descriptor.
        let termios = unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(slave.as_raw_fd(), &mut t), 0);
            t
        };
        // SAFETY: reads fields of a valid termios.
        let (ispeed, ospeed) =
            unsafe { (libc::cfgetispeed(&termios), libc::cfgetospeed(&termios)) };
        assert_eq!((ispeed, ospeed), (libc::B9600, libc::B9600));
        assert_eq!(termios.c_lflag & (libc::ICANON | libc::ECHO), 0, "raw mode");
        assert_eq!(termios.c_oflag & libc::OPOST, 0, "no output processing");

        // Driver → printer: every byte value arrives unchanged (no CR/LF translation).
        let sent: Vec<u8> = (0..=255u8).collect();
        link.write_all(&sent).await.unwrap();
        link.flush().await.unwrap();
        let mut master_file = std::fs::File::from(master);
        let mut master_reader = master_file.try_clone().unwrap();
        let received = tokio::task::spawn_blocking(move || {
            let mut got = vec![0u8; 256];
            master_reader.read_exact(&mut got).unwrap();
            got
        })
        .await
        .unwrap();
        assert_eq!(received, sent);

        // Printer → driver.
        master_file
            .write_all(&[0x12, 0x37, 0x22, b'a', b'b', b'c', b'd', 0x00, b'\n'])
            .unwrap();
        let mut back = [0u8; 9];
        tokio::time::timeout(Duration::from_secs(5), link.read_exact(&mut back))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            back,
            [0x12, 0x37, 0x22, b'a', b'b', b'c', b'd', 0x00, b'\n']
        );
        drop(slave);
    }

    #[tokio::test]
    async fn the_job_protocol_runs_over_a_tty() {
        use std::io::{Read, Write};

        let (master, _slave, path) = openpty();
        let address: PrinterAddress = format!("{path}?baud=115200").parse().unwrap();
        let printer = EscPosPrinter::new(Arc::new(address), Profile::mm58(), quick());
        // A printer on the master side: answers DLE EOT with "ready" and GS ( H with its ID.
        let mut master = std::fs::File::from(master);
        // Closing the master hangs the tty up and discards what the driver has not read
        // yet: keep one handle open until the job is done.
        let _keep_open = master.try_clone().unwrap();
        let printer_side = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut byte = [0u8; 1];
            loop {
                if master.read_exact(&mut byte).is_err() {
                    return seen;
                }
                seen.push(byte[0]);
                if seen.ends_with(&[0x10, 0x04]) {
                    master.read_exact(&mut byte).unwrap();
                    seen.push(byte[0]);
                    master
                        .write_all(&[PrinterStatus::READY.realtime_reply(byte[0])])
                        .unwrap();
                }
                if seen.ends_with(&[0x1D, 0x28, 0x48, 0x06, 0x00, 0x30, 0x30]) {
                    let mut id = [0u8; 4];
                    master.read_exact(&mut id).unwrap();
                    seen.extend_from_slice(&id);
                    master
                        .write_all(&[0x37, 0x22, id[0], id[1], id[2], id[3], 0x00])
                        .unwrap();
                    return seen;
                }
            }
        });
        let receipt = printer.print_bytes(b"tty slip\n").await.unwrap();
        let seen = printer_side.join().unwrap();
        let id = receipt.process_id.unwrap();
        assert!(seen.ends_with(&id));
        assert!(seen.windows(9).any(|w| w == b"tty slip\n"));
    }
}
