//! python-escpos (PyPI, pinned in `tests/peers/requirements.txt`) as a third-party peer.
//!
//! - It prints text, a raster image and a QR code (native and rasterized) to the virtual printer
//!   over TCP; our decoder must give back the same text, line by line, the same pixels, and the
//!   same QR data.
//! - Our `GS v 0` bytes for a bitmap equal python-escpos's for the same bitmap.
//! - python-escpos's own status calls (`query_status`, `is_online`, `paper_status`) give the right
//!   answer against the virtual printer in every fault state.
//!
//! The Python side is `tests/peers/escpos_peer.py`. The interpreter is `$PYTHON` (default
//! `python3`). Without python-escpos the tests FAIL and say how to install it: a peer test that
//! skips itself would pass in CI without having checked anything.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use poscore_escpos::commands::RasterMode;
use poscore_escpos::decode::PageItem;
use poscore_escpos::{Bitmap, PaperWidth, Profile};
use poscore_printer::virtual_printer::{
    Fault, Trigger, VirtualPage, VirtualPrinter, VirtualPrinterConfig,
};

/// The version pinned in `tests/peers/requirements.txt`.
const PINNED_VERSION: &str = "3.1";

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers")
}

/// Fails (never skips) when the interpreter or python-escpos is missing or not the pinned version.
fn require_python_escpos() {
    let python = python();
    let install = format!(
        "run `{python} -m pip install -r tests/peers/requirements.txt` in the repository root \
         (set PYTHON to choose the interpreter)"
    );
    let output = Command::new(&python)
        .args([
            "-c",
            "import escpos, PIL, qrcode; print(escpos.__version__)",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{python}` ({e}): install Python 3, then {install}")
        });
    assert!(
        output.status.success(),
        "python-escpos is not importable by `{python}`: {}\n{install}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert_eq!(
        version, PINNED_VERSION,
        "python-escpos {version} found, {PINNED_VERSION} pinned: {install}"
    );
}

/// Runs `escpos_peer.py <args>` off the runtime's threads (the virtual printer keeps serving) and
/// returns its stdout; fails with its stderr when it fails.
async fn run_peer(args: Vec<String>) -> String {
    let script = peers_dir().join("escpos_peer.py");
    let shown = format!("{} {} {}", python(), script.display(), args.join(" "));
    let output =
        tokio::task::spawn_blocking(move || Command::new(python()).arg(script).args(args).output())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("cannot run `{shown}`: {e}"));
    assert!(
        output.status.success(),
        "`{shown}` failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn start_printer(png_dir: Option<PathBuf>) -> (VirtualPrinter, SocketAddr) {
    let printer = VirtualPrinter::new(VirtualPrinterConfig {
        profile: Profile::mm58(),
        png_dir,
        baud: None,
        paper_out_after_mm: None,
    });
    let addr = printer
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (printer, addr)
}

/// Waits until the printer has finished `count` pages (python-escpos closes its socket right
/// after the cut; the printer may still be working through the bytes).
async fn wait_pages(printer: &VirtualPrinter, count: usize) -> Vec<VirtualPage> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pages = printer.pages();
        if pages.len() >= count {
            return pages;
        }
        assert!(
            Instant::now() < deadline,
            "the virtual printer finished {} pages, {count} expected",
            pages.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic test images
// ---------------------------------------------------------------------------------------------

/// A 1-bit pattern that looks like a slip's picture: text-like strokes (bars, diagonals, a ring,
/// an underline) on the left, a 1-dot checkerboard on the right (any smoothing or dithering
/// would show there), and a solid block.
fn pattern(width: u32, height: u32) -> Bitmap {
    let mut b = Bitmap::new(width, height);
    let text_width = width * 3 / 5;
    for y in 0..height {
        for x in 0..width {
            let black = if x < text_width {
                let cell = x % 20;
                let row = y % 32;
                let glyph = (x / 20 + y / 32) % 4;
                let stroke = match glyph {
                    0 => (cell == 3 || cell == 4 || cell == 13) && (4..26).contains(&row), // "H"-ish bars
                    1 => row + 2 == cell + (row / 3) || (row == 14 && (3..15).contains(&cell)), // diagonal and bar
                    2 => {
                        let (dx, dy) = (cell as i32 - 9, row as i32 - 15);
                        (40..=72).contains(&(dx * dx + dy * dy)) // a ring
                    }
                    _ => (row == 5 || row == 24) && (2..17).contains(&cell), // "=" strokes
                };
                stroke || (y + 3 == height && x % 7 != 0) // a dashed underline
            } else if x + 12 < width {
                (x + y) % 2 == 0 // checkerboard
            } else {
                y < height / 2 // solid block
            };
            b.set(x, y, black);
        }
    }
    b
}

/// Writes a bitmap as an 8-bit grayscale PNG (black = 0, white = 255), for python-escpos.
fn write_png(path: &Path, bitmap: &Bitmap) {
    let gray: Vec<u8> = (0..bitmap.height())
        .flat_map(|y| (0..bitmap.width()).map(move |x| (x, y)))
        .map(|(x, y)| if bitmap.get(x, y) { 0 } else { 255 })
        .collect();
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(
        std::io::BufWriter::new(file),
        bitmap.width(),
        bitmap.height(),
    );
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&gray).unwrap();
    writer.finish().unwrap();
}

/// Decodes a QR code from a bitmap with rqrr, after adding a white quiet zone (python-escpos
/// renders with a border of one module only).
fn decode_qr(bitmap: &Bitmap) -> String {
    let margin = 40usize;
    let (w, h) = (bitmap.width() as usize, bitmap.height() as usize);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(w + 2 * margin, h + 2 * margin, |x, y| {
            let inside = x >= margin && y >= margin && x < w + margin && y < h + margin;
            if inside && bitmap.get((x - margin) as u32, (y - margin) as u32) {
                0
            } else {
                255
            }
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code expected in the {w}x{h} image");
    let (_meta, content) = grids[0].decode().expect("the QR code decodes");
    content
}

// ---------------------------------------------------------------------------------------------
// (a) python-escpos prints to the virtual printer; our decoder reads it back
// ---------------------------------------------------------------------------------------------

/// What python-escpos prints with `text()`. ASCII lines, and lines with Chinese: python-escpos's
/// "magic encode" sends any string containing a CJK ideograph as GB18030 without `FS &`, which
/// the virtual printer (GB18030 Chinese mode at power-on, like most Chinese printers) reads.
/// All lines fit in 32 columns, so the printer does not wrap them.
const LINES: [&str; 9] = [
    "POSCORE PEER TEST",
    "Merchant: Demo Store 001",
    "Terminal: 10000001  Batch 000042",
    "Card: 6222 **** **** 1234",
    "商户名称：演示商户",
    "预授权完成 PRE-AUTH COMP",
    "Amount: CNY 1,234.56",
    "0123456789 !#$%&()*+,-./:;<=>?@",
    "谢谢惠顾 Thank you",
];

const QR_DATA: &str = "https://poscore.example/r/PA-20250101-000123";

async fn print_with_python(native_qr: bool) {
    require_python_escpos();
    let dir = tempfile::tempdir().unwrap();
    let (printer, addr) = start_printer(Some(dir.path().join("png"))).await;
    std::fs::create_dir_all(dir.path().join("png")).unwrap();

    let source = pattern(200, 64);
    let image = dir.path().join("pattern.png");
    write_png(&image, &source);
    let text_file = dir.path().join("lines.txt");
    std::fs::write(&text_file, LINES.join("\n")).unwrap();

    let mut args = vec![
        "print".to_string(),
        "--host".into(),
        addr.ip().to_string(),
        "--port".into(),
        addr.port().to_string(),
        "--text-file".into(),
        text_file.display().to_string(),
        "--image".into(),
        image.display().to_string(),
        "--qr".into(),
        QR_DATA.into(),
    ];
    if native_qr {
        args.push("--native-qr".into());
    }
    run_peer(args).await;

    let pages = wait_pages(&printer, 1).await;
    assert_eq!(pages.len(), 1, "python-escpos printed one page (one cut)");
    let virtual_page = &pages[0];
    assert!(virtual_page.complete, "the page was printed to the end");
    let page = &virtual_page.page;
    assert!(
        page.items.last() == Some(&PageItem::Cut),
        "the page ends with the cut: {:?}",
        page.items.last()
    );

    // Text: the lines python-escpos printed, in order, then only blank lines (the LFs python-escpos
    // puts around a rasterized QR code).
    let text = page.text();
    let decoded: Vec<&str> = text.lines().collect();
    assert!(decoded.len() >= LINES.len(), "decoded text:\n{text}");
    assert_eq!(
        &decoded[..LINES.len()],
        &LINES[..],
        "decoded text:\n{text}\nunknown: {:?}",
        page.unknown
    );
    for extra in &decoded[LINES.len()..] {
        assert!(
            extra.trim().is_empty(),
            "unexpected text line {extra:?} in:\n{text}"
        );
    }

    // The image: the same dots.
    let images = page.images();
    let expected_images = if native_qr { 1 } else { 2 };
    assert_eq!(images.len(), expected_images, "images on the page");
    assert_eq!(images[0].width(), source.width());
    assert_eq!(images[0].height(), source.height());
    assert!(
        *images[0] == source,
        "the decoded image differs from the source bitmap"
    );

    // The QR code.
    if native_qr {
        let stored: Vec<&PageItem> = page
            .items
            .iter()
            .filter(|item| matches!(item, PageItem::Qr { .. }))
            .collect();
        assert_eq!(stored.len(), 1, "one native QR code");
        let PageItem::Qr {
            data, module_size, ..
        } = stored[0]
        else {
            unreachable!()
        };
        assert_eq!(String::from_utf8(data.clone()).unwrap(), QR_DATA);
        assert_eq!(*module_size, 4, "python-escpos's module size (--qr-size 4)");
    } else {
        assert_eq!(
            decode_qr(images[1]),
            QR_DATA,
            "the rasterized QR code decodes to the data"
        );
    }

    // The page was rendered to a PNG a person can look at.
    let png_path = virtual_page
        .png
        .clone()
        .expect("the page was rendered to a PNG");
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let reader = decoder.read_info().unwrap();
    assert_eq!(page.width_dots, PaperWidth::Mm58.dots(), "a 58 mm page");
    assert_eq!(
        reader.info().width,
        page.width_dots,
        "the PNG is one paper width wide"
    );
    assert!(
        reader.info().height > source.height(),
        "the PNG holds the text and the image"
    );
    assert!(
        page.unknown.is_empty(),
        "python-escpos sent commands our decoder does not know: {:?}",
        page.unknown
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_escpos_prints_text_image_and_native_qr() {
    print_with_python(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_escpos_prints_text_image_and_rasterized_qr() {
    print_with_python(false).await;
}

// ---------------------------------------------------------------------------------------------
// (b) GS v 0: our bytes equal python-escpos's bytes
// ---------------------------------------------------------------------------------------------

/// The `GS v 0` commands in a byte stream, each whole (header and data), by their declared size.
fn raster_commands(bytes: &[u8]) -> Vec<&[u8]> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 8 <= bytes.len() {
        if bytes[i..i + 3] == [0x1D, 0x76, 0x30] {
            let width_bytes = usize::from(bytes[i + 4]) + 256 * usize::from(bytes[i + 5]);
            let height = usize::from(bytes[i + 6]) + 256 * usize::from(bytes[i + 7]);
            let end = i + 8 + width_bytes * height;
            assert!(end <= bytes.len(), "a GS v 0 command is cut short");
            found.push(&bytes[i..end]);
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

#[tokio::test]
async fn our_gs_v_0_bytes_equal_python_escpos_bytes() {
    require_python_escpos();
    let dir = tempfile::tempdir().unwrap();
    // Widths that are and are not a multiple of 8 (python-escpos and we both pad rows with white).
    let mut bitmaps = vec![
        pattern(200, 64),
        pattern(203, 17),
        pattern(384, 120),
        pattern(8, 1),
    ];
    let qr = {
        // A QR-like image with an odd width: our own QR rasterizer is not involved here.
        let mut b = Bitmap::new(93, 93);
        for y in 0..93 {
            for x in 0..93 {
                b.set(x, y, ((x / 3) * 7 + (y / 3) * 13) % 5 < 2);
            }
        }
        b
    };
    bitmaps.push(qr);

    for (n, bitmap) in bitmaps.iter().enumerate() {
        let path = dir.path().join(format!("raster-{n}.png"));
        write_png(&path, bitmap);
        let hex = run_peer(vec![
            "raster".into(),
            "--image".into(),
            path.display().to_string(),
        ])
        .await;
        let theirs = decode_hex(hex.trim());
        // python-escpos 3.1's `image(impl="bitImageRaster", center=False)` sends the GS v 0
        // command alone (nothing before or after it) for images up to 960 dots tall; with
        // center=True it would pad the image to the profile's width first, and `qr()` wraps the
        // image in LFs. Only the GS v 0 command itself is compared.
        let commands = raster_commands(&theirs);
        assert_eq!(
            commands.len(),
            1,
            "one GS v 0 command from python-escpos for image {n}"
        );
        let ours = poscore_escpos::commands::raster(bitmap, RasterMode::Normal).unwrap();
        assert_eq!(
            ours.len(),
            commands[0].len(),
            "GS v 0 length for the {}x{} image",
            bitmap.width(),
            bitmap.height()
        );
        assert!(
            ours == commands[0],
            "GS v 0 bytes differ for the {}x{} image: ours start {:02x?}, theirs {:02x?}",
            bitmap.width(),
            bitmap.height(),
            &ours[..ours.len().min(16)],
            &commands[0][..commands[0].len().min(16)]
        );
    }
}

fn decode_hex(hex: &str) -> Vec<u8> {
    assert!(hex.len() % 2 == 0, "odd-length hex from python");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// (c) python-escpos's status calls in every fault state
// ---------------------------------------------------------------------------------------------

/// One state and what python-escpos must say about it.
struct Expected {
    name: &'static str,
    fault: Option<Fault>,
    is_online: bool,
    paper_status: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_escpos_status_calls_in_every_fault_state() {
    require_python_escpos();
    let (printer, addr) = start_printer(None).await;
    let states = [
        Expected {
            name: "ready",
            fault: None,
            is_online: true,
            paper_status: 2,
        },
        Expected {
            name: "paper out",
            fault: Some(Fault::PaperOut),
            is_online: false,
            paper_status: 0,
        },
        Expected {
            name: "cover open",
            fault: Some(Fault::CoverOpen),
            is_online: false,
            paper_status: 2,
        },
        Expected {
            name: "overheat",
            fault: Some(Fault::Overheat(Duration::from_secs(120))),
            is_online: false,
            paper_status: 2,
        },
        Expected {
            name: "ready again",
            fault: None,
            is_online: true,
            paper_status: 2,
        },
    ];
    for state in &states {
        printer.clear();
        if let Some(fault) = &state.fault {
            printer.inject(Trigger::Now, fault.clone());
        }
        let ours = printer.status();
        assert_eq!(
            ours.online, state.is_online,
            "{}: the virtual printer's own status {ours:?}",
            state.name
        );

        let out = run_peer(vec![
            "status".into(),
            "--host".into(),
            addr.ip().to_string(),
            "--port".into(),
            addr.port().to_string(),
        ])
        .await;
        let reply: serde_json::Value =
            serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(
            reply["is_online"], state.is_online,
            "{}: python-escpos is_online(): {reply}",
            state.name
        );
        assert_eq!(
            reply["paper_status"], state.paper_status,
            "{}: python-escpos paper_status(): {reply}",
            state.name
        );

        // The raw bytes python-escpos got back (one each): DLE EOT 1 and DLE EOT 4 replies, with
        // the fixed bits (bit 1 set, bit 4 set, bits 0 and 7 clear).
        let online_raw = decode_hex(reply["online_raw"].as_str().unwrap());
        let paper_raw = decode_hex(reply["paper_raw"].as_str().unwrap());
        assert_eq!(
            online_raw.len(),
            1,
            "{}: one byte for DLE EOT 1: {reply}",
            state.name
        );
        assert_eq!(
            paper_raw.len(),
            1,
            "{}: one byte for DLE EOT 4: {reply}",
            state.name
        );
        for byte in [online_raw[0], paper_raw[0]] {
            assert_eq!(
                byte & 0b1001_0011,
                0b0001_0010,
                "{}: fixed bits of {byte:#04x}",
                state.name
            );
        }
        assert_eq!(
            online_raw[0] & 0x08 != 0,
            !state.is_online,
            "{}: DLE EOT 1 bit 3 (offline)",
            state.name
        );
        assert_eq!(
            paper_raw[0] & 0x60 == 0x60,
            state.paper_status == 0,
            "{}: DLE EOT 4 bits 5-6 (paper end)",
            state.name
        );
    }
}
