//! Our encoder against python-escpos, in one run, on the same pre-auth slip; and bytes on the
//! wire for the slip in text mode against the same slip fully rasterized.
//!
//! ```sh
//! pip install -r tests/peers/requirements.txt
//! cargo bench -p poscore-escpos --features render --bench vs_python
//! ```
//!
//! 1. Our `encode` of the slip (`support/slip.rs`, 58 mm, GB18030, native QR): batches of many
//!    slips, the median of the per-slip times.
//! 2. The slip is decoded back into printed lines (our decoder) and written as a spec: every
//!    printed line with its runs, styles and alignment, the signature as a PNG, the QR code, the
//!    feeds and the cut. `tests/peers/bench_python_escpos.py` builds the same slip with
//!    python-escpos into `escpos.printer.Dummy` and reports its median per-slip time. Its bytes
//!    are decoded with our decoder and must give the same text and the same signature: the two
//!    built the same slip. The ratio is printed (target ≥ 50×).
//! 3. Bytes on the wire: our text-mode slip against the same page rendered (`render`) and sent
//!    as `GS v 0` bands, and the seconds per slip at 9600 and 115200 baud (10 bits per byte, 8N1).
//!
//! `$PYTHON` chooses the interpreter (default `python3`). Without python-escpos the bench fails
//! and says how to install it. `VS_PYTHON_QUICK=1` (or `cargo test --benches`) runs fewer
//! iterations (a smoke run);
//! `VS_PYTHON_SHOW=1` prints the slip's decoded text.

#[path = "support/slip.rs"]
mod slip;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use poscore_escpos::commands::{self, RasterMode};
use poscore_escpos::decode::{DecodeOptions, Page, PageItem};
use poscore_escpos::document::{Align, Document, Element};
use poscore_escpos::render::{bitmap_png, render};
use poscore_escpos::{Bitmap, Profile, decode, encode};
use serde_json::{Value, json};

/// Rows per `GS v 0` band when the whole slip is sent as an image (as the encoder bands tall
/// images: no printer buffer has to hold a whole slip).
const BAND_ROWS: usize = 256;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and gets a quick run.
    // A filter argument is accepted and ignored.
    let quick =
        std::env::var_os("VS_PYTHON_QUICK").is_some() || !std::env::args().any(|a| a == "--bench");
    let document = slip::preauth_slip();
    let profile = Profile::mm58();
    let options = DecodeOptions {
        paper: profile.paper,
        encoding: profile.encoding,
    };
    let ours = encode(&document, &profile).expect("the slip encodes");
    let page = decode(&ours, &options);
    assert!(
        page.unknown.is_empty(),
        "our own slip has commands our decoder does not know: {:?}",
        page.unknown
    );

    // ---- 1. our encoder --------------------------------------------------------------------
    let (iterations, batches) = if quick { (200, 3) } else { (20_000, 9) };
    for _ in 0..iterations / 10 {
        black_box(encode(black_box(&document), black_box(&profile)).unwrap());
    }
    let mut ours_batches = Vec::new();
    for _ in 0..batches {
        let start = Instant::now();
        for _ in 0..iterations {
            black_box(encode(black_box(&document), black_box(&profile)).unwrap());
        }
        ours_batches.push(start.elapsed().as_secs_f64() / f64::from(iterations));
    }
    let ours_per_slip = median(&mut ours_batches);

    // ---- 2. python-escpos on the same slip ---------------------------------------------------
    let dir = tempdir();
    let spec = spec_of(&page, &dir);
    let spec_path = dir.join("slip.json");
    std::fs::write(&spec_path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    let python_out = dir.join("python-slip.bin");
    let (py_iterations, py_batches) = if quick { (10, 3) } else { (300, 7) };
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/bench_python_escpos.py");
    let install =
        "run `pip install -r tests/peers/requirements.txt` (set PYTHON to choose the interpreter)";
    let output = Command::new(&python)
        .arg(&script)
        .arg("--spec")
        .arg(&spec_path)
        .arg("--iterations")
        .arg(py_iterations.to_string())
        .arg("--batches")
        .arg(py_batches.to_string())
        .arg("--out")
        .arg(&python_out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{python}` ({e}): {install}"));
    assert!(
        output.status.success(),
        "{} failed: {}\n{install}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value =
        serde_json::from_slice(&output.stdout).expect("one JSON line from the python bench");
    let python_per_slip = report["per_slip_s"].as_f64().unwrap();
    let python_bytes = std::fs::read(&python_out).unwrap();

    // The two built the same slip: python-escpos's bytes decode to our text and our signature.
    let theirs = decode(&python_bytes, &options);
    assert_eq!(
        theirs.text(),
        page.text(),
        "python-escpos's slip decodes to a different text"
    );
    assert_eq!(
        theirs.images(),
        page.images(),
        "python-escpos's slip has a different signature image"
    );
    let qr_data = |p: &Page| -> Vec<Vec<u8>> {
        p.items
            .iter()
            .filter_map(|i| {
                if let PageItem::Qr { data, .. } = i {
                    Some(data.clone())
                } else {
                    None
                }
            })
            .collect()
    };
    assert_eq!(
        qr_data(&theirs),
        qr_data(&page),
        "python-escpos's slip has a different QR code"
    );

    // ---- 3. bytes on the wire: text mode against fully rasterized ------------------------------
    let raster = rasterized(&page);
    let raster_page = decode(&raster, &options);
    let rendered = render(&without_cuts(&page));

    // ---- report -----------------------------------------------------------------------------
    let lines = page.text().lines().count();
    if std::env::var_os("VS_PYTHON_SHOW").is_some() {
        println!("{}", page.text());
    }
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("\n==================== ESC/POS encoder: vs python-escpos ====================");
    println!(
        "machine: {cpus} CPUs; python {} with python-escpos 3.1 (Dummy, profile Sunmi-V2)",
        report["python"].as_str().unwrap_or("?")
    );
    println!(
        "slip: {lines} printed lines (mixed Chinese/English), signature {}x{}, native QR, 58 mm GB18030",
        slip::SIGNATURE_WIDTH,
        slip::SIGNATURE_HEIGHT
    );
    println!(
        "ours   encode: median {:>10.2} µs/slip  ({batches} batches × {iterations}; batches µs: {})",
        ours_per_slip * 1e6,
        list_us(&ours_batches)
    );
    let py_batches_s: Vec<f64> = report["batches_s"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    println!(
        "python-escpos: median {:>10.2} µs/slip  ({py_batches} batches × {py_iterations}; batches µs: {})",
        python_per_slip * 1e6,
        list_us(&py_batches_s)
    );
    let ratio = python_per_slip / ours_per_slip;
    let verdict = if quick || cfg!(debug_assertions) {
        "not judged: a quick or unoptimized run, not a measurement"
    } else if ratio >= 50.0 {
        "met"
    } else {
        "MISSED"
    };
    println!("ratio: {ratio:.0}x faster (target >= 50x: {verdict})");
    println!(
        "bytes: ours {} B, python-escpos {} B (same decoded text, signature and QR)",
        ours.len(),
        python_bytes.len()
    );
    let signature_bytes: usize = page.images().iter().map(|b| 8 + b.packed().len()).sum();
    println!(
        "text mode: the signature's GS v 0 is {signature_bytes} B of the {} B; the rest (text, styles, QR, cut) {} B",
        ours.len(),
        ours.len() - signature_bytes
    );
    println!();
    println!("bytes on the wire per slip (10 bits per byte, 8N1):");
    println!("| slip | bytes | 9600 baud | 115200 baud |");
    println!("|---|---|---|---|");
    let unsigned = Document {
        elements: document
            .elements
            .iter()
            .filter(|e| !matches!(e, Element::Image { .. }))
            .cloned()
            .collect(),
    };
    let unsigned_bytes = encode(&unsigned, &profile).unwrap().len();
    for (name, bytes) in [
        (
            "text mode (ours: GB18030 text, native QR, signature as GS v 0)",
            ours.len(),
        ),
        ("text mode without the signature image", unsigned_bytes),
        (
            "fully rasterized (the same page rendered, sent as GS v 0 bands)",
            raster.len(),
        ),
    ] {
        println!(
            "| {name} | {bytes} | {:.2} s | {:.3} s |",
            seconds(bytes, 9600),
            seconds(bytes, 115_200)
        );
    }
    println!(
        "rasterized page: {}x{} dots ({} mm of paper), {} bands of {BAND_ROWS} rows; ratio {:.1}x the text-mode bytes",
        rendered.width(),
        rendered.height(),
        rendered.height() / 8,
        rendered.height().div_ceil(BAND_ROWS as u32),
        raster.len() as f64 / ours.len() as f64
    );
    assert_eq!(
        raster_page.images().len(),
        rendered.height().div_ceil(BAND_ROWS as u32) as usize
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The page as it would be printed without the cut's dashed mark: the cut stays a command.
fn without_cuts(page: &Page) -> Page {
    Page {
        items: page
            .items
            .iter()
            .filter(|i| **i != PageItem::Cut)
            .cloned()
            .collect(),
        ..page.clone()
    }
}

/// The whole page rendered and sent as `GS v 0` bands, then the cut: what a driver that
/// rasterizes everything (as many Android print SDK wrappers do) sends for this slip.
fn rasterized(page: &Page) -> Vec<u8> {
    let bitmap = render(&without_cuts(page));
    let mut out = Vec::new();
    out.extend_from_slice(&commands::INITIALIZE);
    for band in bitmap.packed().chunks(BAND_ROWS * bitmap.stride()) {
        commands::raster_rows_into(&mut out, bitmap.stride(), band, RasterMode::Normal).unwrap();
    }
    out.extend_from_slice(&commands::cut(false));
    out
}

/// The decoded slip as a spec for python-escpos: the printed lines in order, with their runs.
fn spec_of(page: &Page, dir: &Path) -> Value {
    let align = |a: &Align| match a {
        Align::Left => "left",
        Align::Center => "center",
        Align::Right => "right",
    };
    let mut items = Vec::new();
    let mut images = 0;
    for item in &page.items {
        match item {
            PageItem::Line { runs, align: a } => items.push(json!({
                "kind": "line",
                "align": align(a),
                "runs": runs.iter().map(|(text, style)| json!({
                    "text": text,
                    "bold": style.bold,
                    "underline": style.underline,
                    "double_width": style.double_width,
                    "double_height": style.double_height,
                })).collect::<Vec<_>>(),
            })),
            PageItem::Image { bitmap, align: a } => {
                images += 1;
                let path = dir.join(format!("image-{images}.png"));
                std::fs::write(&path, gray_png(bitmap)).unwrap();
                items.push(json!({"kind": "image", "align": align(a), "png": path}));
            }
            PageItem::Qr {
                data,
                module_size,
                align: a,
            } => items.push(json!({
                "kind": "qr",
                "align": align(a),
                "data": String::from_utf8(data.clone()).expect("the slip's QR data is text"),
                "module_size": module_size,
            })),
            PageItem::Feed(dots) => {
                items.push(json!({"kind": "feed", "lines": dots.div_ceil(30).max(1)}))
            }
            PageItem::Cut => items.push(json!({"kind": "cut"})),
            PageItem::Barcode { .. } => panic!("the bench slip has no barcode"),
        }
    }
    json!({ "items": items })
}

/// A bitmap as a PNG python-escpos (Pillow) reads dot for dot.
fn gray_png(bitmap: &Bitmap) -> Vec<u8> {
    bitmap_png(bitmap).expect("a non-empty bitmap encodes")
}

fn seconds(bytes: usize, baud: u32) -> f64 {
    bytes as f64 * 10.0 / f64::from(baud)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn list_us(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{:.1}", v * 1e6))
        .collect::<Vec<_>>()
        .join(" ")
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("poscore-vs-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
