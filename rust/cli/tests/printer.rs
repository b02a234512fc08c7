//! The printer commands against `poscore printer-sim` over real TCP: `print-test` writes a
//! page a person can read (checked here: its QR code decodes and its Chinese text is drawn),
//! `printer-status` follows injected faults, and the exit codes say what happened.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::Sim;

fn poscore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poscore"))
        .args(["--lang", "en"])
        .args(args)
        .output()
        .expect("poscore runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Reads a PNG into (width, height, gray bytes).
fn read_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let (width, height) = (info.width, info.height);
    let gray: Vec<u8> = match (info.color_type, info.bit_depth) {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => {
            buffer[..(width * height) as usize].to_vec()
        }
        (png::ColorType::Grayscale, png::BitDepth::One) => {
            let stride = width.div_ceil(8) as usize;
            (0..height as usize)
                .flat_map(|y| {
                    let row = &buffer[y * stride..(y + 1) * stride];
                    (0..width as usize).map(move |x| {
                        if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                            255
                        } else {
                            0
                        }
                    })
                })
                .collect()
        }
        other => panic!("unexpected PNG format {other:?}"),
    };
    (width, height, gray)
}

#[test]
fn print_test_writes_a_page_whose_qr_code_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(dir.path(), &[]);
    let run = poscore(&["print-test", "--printer", &sim.printer]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(
        text(&run).contains("confirmed by the printer"),
        "{}",
        text(&run)
    );

    let page = dir.path().join("page-0001.png");
    let (width, height, gray) = read_png(&page);
    assert_eq!(width, 384, "a 58 mm page");
    assert!(height > 600, "a whole self-test page: {height} dots");
    // The QR code on the page decodes to the self-test text.
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |x, y| {
            gray[y * width as usize + x]
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(content, poscore_printer::selftest::QR_TEXT);
    // The title (Chinese, double size) is drawn: its rows near the top are not blank.
    let black_in_top_rows = gray[..(width * 48) as usize]
        .iter()
        .filter(|&&g| g < 128)
        .count();
    assert!(
        black_in_top_rows > 500,
        "title drawn: {black_in_top_rows} black dots"
    );
    assert!(
        sim.tell("status").contains("\"confirmed\":1"),
        "{}",
        sim.tell("status")
    );
}

#[test]
fn printer_status_follows_faults_and_print_test_refuses_into_them() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(dir.path(), &[]);
    let ready = poscore(&["printer-status", "--printer", &sim.printer]);
    assert_eq!(ready.status.code(), Some(0), "{}", text(&ready));
    assert!(
        text(&ready).contains("condition: ready"),
        "{}",
        text(&ready)
    );

    for (fault, condition, words) in [
        ("paper-out", "paper_out", "out of paper"),
        ("cover-open", "cover_open", "cover open"),
        ("overheat=60s", "overheated", "overheated"),
    ] {
        assert_eq!(sim.tell("clear"), "ok");
        assert_eq!(sim.tell(&format!("inject now {fault}")), "ok");
        let status = poscore(&["printer-status", "--printer", &sim.printer]);
        assert_eq!(status.status.code(), Some(1), "{fault}: {}", text(&status));
        assert!(
            text(&status).contains(&format!("condition: {condition}"))
                && text(&status).contains(words),
            "{fault}: {}",
            text(&status)
        );
        let refused = poscore(&["print-test", "--printer", &sim.printer]);
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{fault}: {}",
            text(&refused)
        );
        assert!(
            text(&refused).contains(condition),
            "{fault}: {}",
            text(&refused)
        );
    }
    assert!(
        sim.tell("status").contains("\"confirmed\":0"),
        "nothing printed into a fault"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no page rendered"
    );
}

#[test]
fn bad_addresses_and_unreachable_printers_have_their_own_exit_codes() {
    let bad = poscore(&["printer-status", "--printer", "tcp:"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("HOST:PORT"),
        "the accepted forms are listed: {}",
        text(&bad)
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = poscore(&[
        "printer-status",
        "--printer",
        &format!("127.0.0.1:{port}"),
        "--timeout-ms",
        "500",
    ]);
    assert_eq!(gone.status.code(), Some(3), "{}", text(&gone));

    let bad_fault = Command::new(env!("CARGO_BIN_EXE_poscore"))
        .args([
            "printer-sim",
            "--listen",
            "127.0.0.1:0",
            "--fault",
            "sometimes:paper-out",
        ])
        .output()
        .unwrap();
    assert_eq!(bad_fault.status.code(), Some(2), "{}", text(&bad_fault));
}
