//! The read side: byte streams split into commands (the same however they are split),
//! replayed onto pages (text, styles, Chinese, images, codes, cuts), unknown commands
//! listed, random bytes never fatal; and (feature `render`) pages drawn to PNG.

use poscore_escpos::bitmap::Bitmap;
use poscore_escpos::command::{Command, Tokenizer, tokenize};
use poscore_escpos::decode::{DecodeOptions, Page, PageBuilder, PageItem, decode};
use poscore_escpos::document::{Align, TextStyle};
use poscore_escpos::profile::{PaperWidth, SingleByteCharset, TextEncoding};

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn gb18030(text: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(text).0.into_owned()
}

/// A raster command for `bitmap` (mode m).
fn raster(mode: u8, bitmap: &Bitmap) -> Vec<u8> {
    let xb = bitmap.stride() as u16;
    let h = bitmap.height() as u16;
    let mut out = vec![
        GS,
        b'v',
        b'0',
        mode,
        xb as u8,
        (xb >> 8) as u8,
        h as u8,
        (h >> 8) as u8,
    ];
    out.extend_from_slice(bitmap.packed());
    out
}

/// A stream with a bit of everything the tokenizer knows.
fn sample_stream() -> Vec<u8> {
    let mut bitmap = Bitmap::new(16, 3);
    for i in 0..3 {
        bitmap.set(i, i, true);
    }
    // Raster data that looks like DLE EOT and LF must stay data.
    bitmap.set(3, 0, true);
    let mut s = vec![ESC, b'@', FS, b'&'];
    s.extend_from_slice(&[ESC, b'a', 1, ESC, b'E', 1]);
    s.extend_from_slice(b"TITLE\n");
    s.extend_from_slice(&[ESC, b'E', 0, ESC, b'a', 0]);
    s.extend(gb18030("金额 Amount: 12.00"));
    s.push(b'\n');
    s.extend_from_slice(&[ESC, b'!', 0x30]);
    s.extend_from_slice(b"BIG\r\n");
    s.extend_from_slice(&[ESC, b'!', 0x00, GS, b'!', 0x11]);
    s.extend_from_slice(b"big2\n");
    s.extend_from_slice(&[GS, b'!', 0x00, ESC, b'-', 1]);
    s.extend_from_slice(b"under\n");
    s.extend_from_slice(&[
        ESC, b'-', 0, ESC, b'3', 60, ESC, b'2', ESC, b'd', 2, ESC, b'J', 10,
    ]);
    s.extend(raster(0, &bitmap));
    // QR: model, size, level, store, print.
    s.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    s.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, 5]);
    s.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]);
    let data = b"https://example.com/r/1";
    let p = data.len() + 3;
    s.extend_from_slice(&[GS, b'(', b'k', p as u8, (p >> 8) as u8, 49, 80, 48]);
    s.extend_from_slice(data);
    s.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
    // Barcode settings and CODE128 (form 2) and form 1.
    s.extend_from_slice(&[GS, b'h', 80, GS, b'w', 2, GS, b'H', 2, GS, b'f', 0]);
    s.extend_from_slice(&[GS, b'k', 73, 6, b'{', b'B', b'A', b'B', b'C', b'1']);
    s.extend_from_slice(&[GS, b'k', 4, b'C', b'O', b'D', b'E', 0]);
    // Status requests, ESC G (unknown), drawer pulse, process ID, cut.
    s.extend_from_slice(&[
        DLE, 0x04, 1, GS, b'r', 1, GS, b'a', 0xFF, ESC, b'G', 1, ESC, b'p', 0, 50, 50,
    ]);
    s.extend_from_slice(&[GS, b'(', b'H', 6, 0, 48, 48, b'J', b'0', b'0', b'1']);
    s.extend_from_slice(&[GS, b'V', 66, 0]);
    s.extend_from_slice(b"tail");
    s
}

#[test]
fn tokenizer_reads_each_command() {
    let commands = tokenize(&sample_stream());
    let expected_head = vec![
        Command::Initialize,
        Command::ChineseMode(true),
        Command::Justify(1),
        Command::Emphasis(true),
        Command::Text(b"TITLE".to_vec()),
        Command::LineFeed,
        Command::Emphasis(false),
        Command::Justify(0),
        Command::Text(gb18030("金额 Amount: 12.00")),
        Command::LineFeed,
        Command::PrintMode(0x30),
        Command::Text(b"BIG".to_vec()),
        Command::CarriageReturn,
        Command::LineFeed,
        Command::PrintMode(0),
        Command::CharacterSize(0x11),
        Command::Text(b"big2".to_vec()),
        Command::LineFeed,
        Command::CharacterSize(0),
        Command::Underline(1),
        Command::Text(b"under".to_vec()),
        Command::LineFeed,
        Command::Underline(0),
        Command::LineSpacing(Some(60)),
        Command::LineSpacing(None),
        Command::FeedLines(2),
        Command::FeedDots(10),
    ];
    assert_eq!(&commands[..expected_head.len()], &expected_head[..]);
    let rest = &commands[expected_head.len()..];
    assert!(
        matches!(&rest[0], Command::Raster { mode: 0, bitmap } if bitmap.width() == 16 && bitmap.height() == 3)
    );
    let tail = vec![
        Command::QrModel(50),
        Command::QrModuleSize(5),
        Command::QrErrorLevel(49),
        Command::QrStore(b"https://example.com/r/1".to_vec()),
        Command::QrPrint,
        Command::BarcodeHeight(80),
        Command::BarcodeWidth(2),
        Command::BarcodeHri(2),
        Command::Unknown(vec![GS, b'f', 0]),
        Command::Barcode {
            system: 73,
            data: b"{BABC1".to_vec(),
        },
        Command::Barcode {
            system: 4,
            data: b"CODE".to_vec(),
        },
        Command::RealtimeStatus(1),
        Command::TransmitStatus(1),
        Command::AutoStatusBack(0xFF),
        Command::Unknown(vec![ESC, b'G', 1]),
        Command::Unknown(vec![ESC, b'p', 0, 50, 50]),
        Command::ProcessId(*b"J001"),
        Command::Cut { partial: true },
        Command::Text(b"tail".to_vec()),
    ];
    assert_eq!(&rest[1..], &tail[..]);
}

#[test]
fn any_split_gives_the_same_commands() {
    let stream = sample_stream();
    let whole = tokenize(&stream);
    // One byte at a time.
    let mut t = Tokenizer::new();
    let mut got: Vec<Command> = stream.iter().flat_map(|b| t.feed(&[*b])).collect();
    got.extend(t.finish());
    assert_eq!(got, whole);
    // Every two-piece split.
    for split in 0..=stream.len() {
        let mut t = Tokenizer::new();
        let mut got = t.feed(&stream[..split]);
        got.extend(t.feed(&stream[split..]));
        got.extend(t.finish());
        assert_eq!(got, whole, "split at {split}");
    }
    // Random chunks.
    let mut rng = Rng(0x5EED);
    for _ in 0..200 {
        let mut t = Tokenizer::new();
        let mut got = Vec::new();
        let mut at = 0;
        while at < stream.len() {
            let n = 1 + rng.below(40);
            let end = (at + n).min(stream.len());
            got.extend(t.feed(&stream[at..end]));
            at = end;
        }
        got.extend(t.finish());
        assert_eq!(got, whole);
    }
}

#[test]
fn incomplete_commands_wait_and_text_waits_for_its_end() {
    let mut t = Tokenizer::new();
    assert!(t.feed(&[GS, b'v', b'0', 0, 1, 0, 2]).is_empty());
    assert_eq!(t.pending().len(), 7);
    assert!(t.feed(&[0, 0xFF]).is_empty(), "one data byte of two");
    let out = t.feed(&[0x10, b'h', b'i']);
    assert!(matches!(&out[..], [Command::Raster { .. }]));
    assert_eq!(t.pending(), b"hi");
    assert_eq!(
        t.feed(b"\n"),
        vec![Command::Text(b"hi".to_vec()), Command::LineFeed]
    );
    // At the end of a stream, an incomplete command is unknown.
    assert!(t.feed(&[GS, b'(', b'k', 10, 0, 49]).is_empty());
    assert_eq!(
        t.finish(),
        vec![Command::Unknown(vec![GS, b'(', b'k', 10, 0, 49])]
    );
    assert!(t.pending().is_empty());
}

#[test]
fn parameterized_forms_take_their_declared_lengths() {
    let cases: Vec<(Vec<u8>, Command)> = vec![
        (
            vec![ESC, b'*', 33, 2, 0, 1, 2, 3, 4, 5, 6],
            Command::Unknown(vec![ESC, b'*', 33, 2, 0, 1, 2, 3, 4, 5, 6]),
        ),
        (
            vec![ESC, b'*', 0, 2, 0, 0x0A, 0x0A],
            Command::Unknown(vec![ESC, b'*', 0, 2, 0, 0x0A, 0x0A]),
        ),
        (
            vec![GS, b'(', b'L', 2, 0, 48, 50],
            Command::Unknown(vec![GS, b'(', b'L', 2, 0, 48, 50]),
        ),
        (
            vec![GS, b'(', b'k', 3, 0, 48, 67, 3],
            Command::Unknown(vec![GS, b'(', b'k', 3, 0, 48, 67, 3]),
        ),
        (
            vec![GS, b'(', b'H', 3, 0, 49, 48, 0],
            Command::Unknown(vec![GS, b'(', b'H', 3, 0, 49, 48, 0]),
        ),
        (vec![GS, b'V', 0], Command::Cut { partial: false }),
        (vec![GS, b'V', 48], Command::Cut { partial: false }),
        (vec![GS, b'V', 1], Command::Cut { partial: true }),
        (vec![GS, b'V', 65, 3], Command::Cut { partial: false }),
        (vec![GS, b'L', 0, 0], Command::Unknown(vec![GS, b'L', 0, 0])),
        (
            vec![GS, b'W', 0x80, 1],
            Command::Unknown(vec![GS, b'W', 0x80, 1]),
        ),
        (
            vec![GS, b'*', 1, 1, 1, 2, 3, 4, 5, 6, 7, 8],
            Command::Unknown(vec![GS, b'*', 1, 1, 1, 2, 3, 4, 5, 6, 7, 8]),
        ),
        (vec![GS, b'/', 0], Command::Unknown(vec![GS, b'/', 0])),
        (vec![GS, b'B', 1], Command::Unknown(vec![GS, b'B', 1])),
        (vec![GS, b'H', 50], Command::BarcodeHri(2)),
        (vec![FS, b'!', 4], Command::Unknown(vec![FS, b'!', 4])),
        (vec![FS, b'C', 1], Command::Unknown(vec![FS, b'C', 1])),
        (vec![FS, b'.'], Command::ChineseMode(false)),
        (vec![DLE, 0x05, 1], Command::Unknown(vec![DLE, 0x05, 1])),
        (
            vec![DLE, 0x14, 1, 0, 1],
            Command::Unknown(vec![DLE, 0x14, 1, 0, 1]),
        ),
        (vec![ESC, b'M', 1], Command::Unknown(vec![ESC, b'M', 1])),
        (vec![ESC, b'R', 15], Command::Unknown(vec![ESC, b'R', 15])),
        (vec![ESC, b'{', 1], Command::Unknown(vec![ESC, b'{', 1])),
        (vec![ESC, b'=', 1], Command::Unknown(vec![ESC, b'=', 1])),
        (vec![ESC, b't', 16], Command::CodePage(16)),
        (vec![ESC, b'a', 50], Command::Justify(2)),
        (vec![ESC, b'E', 0xFE], Command::Emphasis(false)),
        (vec![ESC, b'Z'], Command::Unknown(vec![ESC, b'Z'])),
        (vec![GS, 0x01], Command::Unknown(vec![GS, 0x01])),
        (vec![0x09], Command::Unknown(vec![0x09])),
    ];
    for (bytes, expected) in cases {
        let mut with_text = bytes.clone();
        with_text.extend_from_slice(b"x\n");
        let got = tokenize(&with_text);
        assert_eq!(
            got,
            vec![expected, Command::Text(b"x".to_vec()), Command::LineFeed],
            "{bytes:02X?}"
        );
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    for round in 0..300 {
        let len = rng.below(600);
        // Bias towards command prefixes so that parameterized forms are hit.
        let bytes: Vec<u8> = (0..len)
            .map(|_| match rng.below(6) {
                0 => [ESC, GS, FS, DLE, 0x0A][rng.below(5)],
                1 => rng.below(8) as u8,
                _ => rng.next() as u8,
            })
            .collect();
        let whole = tokenize(&bytes);
        let mut t = Tokenizer::new();
        let mut pieces: Vec<Command> = Vec::new();
        for chunk in bytes.chunks(1 + round % 7) {
            pieces.extend(t.feed(chunk));
        }
        pieces.extend(t.finish());
        assert_eq!(pieces, whole);
        for encoding in [TextEncoding::Gb18030, TextEncoding::Utf8] {
            let page = decode(
                &bytes,
                &DecodeOptions {
                    paper: PaperWidth::Mm58,
                    encoding,
                },
            );
            let _ = page.text();
        }
    }
}

fn options() -> DecodeOptions {
    DecodeOptions {
        paper: PaperWidth::Mm58,
        encoding: TextEncoding::Gb18030,
    }
}

#[test]
fn decodes_text_styles_and_alignment() {
    let page = decode(&sample_stream(), &options());
    assert_eq!(page.width_dots, 384);
    assert_eq!(
        page.text(),
        "TITLE\n金额 Amount: 12.00\nBIG\nbig2\nunder\ntail"
    );
    let lines: Vec<&PageItem> = page
        .items
        .iter()
        .filter(|i| matches!(i, PageItem::Line { .. }))
        .collect();
    let line = |i: usize| match lines[i] {
        PageItem::Line { runs, align } => (runs.clone(), *align),
        _ => unreachable!(),
    };
    assert_eq!(
        line(0),
        (vec![("TITLE".to_string(), TextStyle::BOLD)], Align::Center)
    );
    assert_eq!(
        line(1),
        (
            vec![("金额 Amount: 12.00".to_string(), TextStyle::default())],
            Align::Left
        )
    );
    let big = TextStyle {
        bold: false,
        underline: false,
        double_width: true,
        double_height: true,
    };
    assert_eq!(line(2).0, vec![("BIG".to_string(), big)]);
    assert_eq!(line(3).0, vec![("big2".to_string(), big)]);
    let under = TextStyle {
        underline: true,
        ..TextStyle::default()
    };
    assert_eq!(line(4).0, vec![("under".to_string(), under)]);
}

#[test]
fn decodes_images_codes_feeds_and_cuts() {
    let page = decode(&sample_stream(), &options());
    let images = page.images();
    assert_eq!(images.len(), 1);
    assert!(
        images[0].get(0, 0) && images[0].get(1, 1) && images[0].get(2, 2) && images[0].get(3, 0)
    );
    assert_eq!(images[0].black_dots(), 4);
    assert!(page.items.contains(&PageItem::Qr {
        data: b"https://example.com/r/1".to_vec(),
        module_size: 5,
        align: Align::Left
    }));
    assert!(page.items.contains(&PageItem::Barcode {
        system: 73,
        data: b"{BABC1".to_vec(),
        height: 80,
        module_width: 2,
        hri_below: true,
        align: Align::Left
    }));
    // ESC d 2 on an empty buffer feeds 2 lines (60 dots), ESC J 10 10 dots: merged.
    assert!(page.items.contains(&PageItem::Feed(70)), "{:?}", page.items);
    let cut = page.items.iter().position(|i| *i == PageItem::Cut).unwrap();
    assert_eq!(
        page.items.iter().filter(|i| **i == PageItem::Cut).count(),
        1
    );
    // "tail" has no LF: printed at the end of the stream, after the cut.
    assert!(matches!(&page.items[cut + 1], PageItem::Line { runs, .. } if runs[0].0 == "tail"));
    assert_eq!(
        page.unknown,
        vec![
            "1D 66 00".to_string(),
            "1B 47 01".to_string(),
            "1B 70 00 32 32".to_string()
        ]
    );
}

#[test]
fn unknown_commands_are_listed_not_fatal() {
    let mut bytes = b"before\n".to_vec();
    bytes.extend_from_slice(&[ESC, b'Z', GS, b'(', b'L', 40, 0]);
    bytes.extend(std::iter::repeat_n(0x0A, 40)); // graphics data that looks like LFs
    bytes.extend_from_slice(b"after\n");
    let page = decode(&bytes, &options());
    assert_eq!(page.text(), "before\nafter");
    assert_eq!(page.unknown.len(), 2);
    assert_eq!(page.unknown[0], "1B 5A");
    assert!(
        page.unknown[1].starts_with("1D 28 4C 28 00 0A") && page.unknown[1].ends_with("(45 bytes)")
    );
}

#[test]
fn chinese_mode_and_encodings() {
    // GB18030 four-byte sequence (€ is two-byte in GB18030 only as 0x80; use U+00E9 é).
    let text = "收银员 é ¥100";
    let mut bytes = gb18030(text);
    bytes.push(b'\n');
    assert_eq!(decode(&bytes, &options()).text(), text);
    let gbk = DecodeOptions {
        encoding: TextEncoding::Gbk,
        ..options()
    };
    assert_eq!(decode(&bytes, &gbk).text(), text);
    // FS . then UTF-8 bytes on a UTF-8 printer; FS & switches back to GB18030.
    let mut bytes = vec![FS, b'.'];
    bytes.extend_from_slice("商户 UTF-8\n".as_bytes());
    bytes.extend_from_slice(&[FS, b'&']);
    bytes.extend(gb18030("商户 GB\n"));
    let utf8 = DecodeOptions {
        encoding: TextEncoding::Utf8,
        ..options()
    };
    assert_eq!(decode(&bytes, &utf8).text(), "商户 UTF-8\n商户 GB");
    // Chinese mode off and no UTF-8: PC437 read as ASCII, the rest U+FFFD.
    let mut bytes = vec![FS, b'.'];
    bytes.extend(gb18030("A商\n"));
    assert_eq!(decode(&bytes, &options()).text(), "A\u{FFFD}\u{FFFD}");
    // A single-byte profile: its ESC t number reads as its charset.
    let latin = DecodeOptions {
        encoding: TextEncoding::SingleByte {
            code_page: 16,
            charset: SingleByteCharset::Windows1252,
        },
        ..options()
    };
    assert_eq!(
        decode(&[ESC, b't', 16, b'c', b'a', b'f', 0xE9, b'\n'], &latin).text(),
        "café"
    );
    assert_eq!(
        decode(&[b'c', b'a', b'f', 0xE9, b'\n'], &latin).text(),
        "café",
        "power-on page"
    );
    assert_eq!(
        decode(&[ESC, b't', 0, b'c', b'a', b'f', 0xE9, b'\n'], &latin).text(),
        "caf\u{FFFD}"
    );
    // ESC @ returns to the power-on mode.
    let mut bytes = vec![FS, b'.', ESC, b'@'];
    bytes.extend(gb18030("中文\n"));
    assert_eq!(decode(&bytes, &options()).text(), "中文");
}

#[test]
fn raster_modes_scale() {
    let mut bitmap = Bitmap::new(8, 2);
    bitmap.set(1, 1, true);
    for (mode, w, h) in [
        (0u8, 8, 2),
        (1, 16, 2),
        (2, 8, 4),
        (3, 16, 4),
        (48, 8, 2),
        (51, 16, 4),
    ] {
        let page = decode(&raster(mode, &bitmap), &options());
        let image = page.images()[0];
        assert_eq!((image.width(), image.height()), (w, h), "mode {mode}");
        assert_eq!(
            image.black_dots(),
            u64::from((w / 8) * (h / 2)),
            "mode {mode}"
        );
        let (sx, sy) = (w / 8, h / 2);
        assert!(image.get(sx, sy));
    }
}

#[test]
fn line_buffer_is_printed_before_images_and_by_feeds() {
    let mut bytes = b"label".to_vec();
    bytes.extend(raster(0, &Bitmap::new(8, 1)));
    bytes.extend_from_slice(b"x");
    bytes.extend_from_slice(&[ESC, b'd', 3]);
    bytes.extend_from_slice(b"y");
    bytes.extend_from_slice(&[ESC, b'J', 100]);
    bytes.extend_from_slice(b"\n\n");
    let page = decode(&bytes, &options());
    assert!(matches!(&page.items[0], PageItem::Line { runs, .. } if runs[0].0 == "label"));
    assert!(matches!(&page.items[1], PageItem::Image { .. }));
    assert!(matches!(&page.items[2], PageItem::Line { runs, .. } if runs[0].0 == "x"));
    assert_eq!(
        page.items[3],
        PageItem::Feed(60),
        "ESC d 3: the line and 2 more"
    );
    assert!(matches!(&page.items[4], PageItem::Line { runs, .. } if runs[0].0 == "y"));
    assert_eq!(
        page.items[5],
        PageItem::Feed(70),
        "ESC J 100: 30 for the line, 70 more"
    );
    assert_eq!(page.text(), "label\nx\ny\n\n");
    // Wider line spacing shows as feed after each line.
    let page = decode(
        &[ESC, b'3', 50, b'a', b'\n', ESC, b'2', b'b', b'\n'],
        &options(),
    );
    assert_eq!(page.items.len(), 3);
    assert_eq!(page.items[1], PageItem::Feed(20));
}

#[test]
fn page_builder_finishes_a_page_at_each_cut() {
    let mut builder = PageBuilder::new(options());
    let mut tokenizer = Tokenizer::new();
    let mut pages = Vec::new();
    let mut stream = b"one\n".to_vec();
    stream.extend_from_slice(&[GS, b'V', 0]);
    stream.extend_from_slice(b"two\n");
    stream.extend_from_slice(&[ESC, b'E', 1]);
    stream.extend_from_slice(&[GS, b'V', 1]);
    stream.extend_from_slice(b"three\n");
    for byte in &stream {
        for command in tokenizer.feed(&[*byte]) {
            builder.apply(&command);
            while let Some(page) = builder.take_page() {
                pages.push(page);
            }
        }
    }
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].text(), "one");
    assert_eq!(pages[0].items.last(), Some(&PageItem::Cut));
    assert_eq!(pages[1].text(), "two");
    assert!(builder.take_page().is_none());
    assert!(builder.style().bold, "state carries over pages");
    assert_eq!(builder.current().text(), "three");
    let rest: Page = builder.finish();
    assert_eq!(rest.text(), "three");
    // decode keeps everything on one page.
    let all = decode(&stream, &options());
    assert_eq!(all.text(), "one\ntwo\nthree");
    assert_eq!(all.items.iter().filter(|i| **i == PageItem::Cut).count(), 2);
}

#[cfg(feature = "render")]
mod render {
    use super::*;
    use poscore_escpos::render::{render, render_png};

    fn png_size_and_pixels(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn renders_chinese_and_english_to_png() {
        let mut bytes = vec![ESC, b'@', FS, b'&'];
        bytes.extend(gb18030("中文收据\n"));
        bytes.extend_from_slice(&[ESC, b'a', 2]);
        bytes.extend_from_slice(b"English\n");
        let page = decode(&bytes, &options());
        let bitmap = render(&page);
        assert_eq!(bitmap.width(), 384);
        assert_eq!(bitmap.height(), 60, "two 30-dot lines");
        // Line 1: four 24-dot CJK cells from x = 0; line 2: seven 12-dot cells, right-aligned.
        let black = |x0: u32, x1: u32, y0: u32, y1: u32| {
            (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| bitmap.get(x, y))
                .count()
        };
        assert!(black(0, 96, 0, 24) > 100, "CJK glyphs drawn");
        assert_eq!(black(96, 384, 0, 30), 0, "nothing right of the CJK text");
        assert!(black(384 - 84, 384, 30, 54) > 50, "English right-aligned");
        assert_eq!(black(0, 384 - 84, 30, 60), 0);
        assert_eq!(black(0, 384, 24, 30), 0, "line gap");
        let png_bytes = render_png(&page);
        let (w, h, pixels) = png_size_and_pixels(&png_bytes);
        assert_eq!((w, h), (384, 60));
        // 1-bit gray: a 0 bit is black; the first CJK cell's dots are there.
        let stride = 384 / 8;
        let dark_bits: u32 = pixels[..24 * stride].iter().map(|b| b.count_zeros()).sum();
        assert_eq!(
            u64::from(dark_bits),
            (0..24)
                .map(|y| (0..384).filter(|&x| bitmap.get(x, y)).count() as u64)
                .sum::<u64>()
        );
    }

    #[test]
    fn renders_styles_images_qr_and_cut() {
        let mut bytes = vec![ESC, b'E', 1, ESC, b'-', 1];
        bytes.extend_from_slice(b"B\n");
        bytes.extend_from_slice(&[ESC, b'E', 0, ESC, b'-', 0, GS, b'!', 0x11]);
        bytes.extend_from_slice(b"W\n");
        let mut image = Bitmap::new(16, 10);
        for y in 0..10 {
            image.set(0, y, true);
        }
        bytes.extend_from_slice(&[ESC, b'a', 1]);
        bytes.extend(raster(0, &image));
        bytes.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, 4]);
        bytes.extend_from_slice(&[
            GS, b'(', b'k', 8, 0, 49, 80, 48, b'h', b'e', b'l', b'l', b'o',
        ]);
        bytes.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
        bytes.extend_from_slice(&[GS, b'V', 0]);
        let page = decode(&bytes, &options());
        let bitmap = render(&page);
        // Underline: the 2 bottom rows of the first cell are black across it.
        for x in 0..12 {
            assert!(bitmap.get(x, 22) && bitmap.get(x, 23), "underline at {x}");
        }
        // Double size line: 48 + 6 dots tall, starting at 30.
        let image_top = 30 + 54;
        assert!(bitmap.get((384 - 16) / 2, image_top) && bitmap.get((384 - 16) / 2, image_top + 9));
        assert!(!bitmap.get((384 - 16) / 2 + 1, image_top));
        // The QR code decodes.
        let qr_top = image_top + 10;
        let qr_bottom = bitmap.height() - 16;
        let gray: Vec<u8> = (qr_top..qr_bottom)
            .flat_map(|y| (0..384).map(move |x| (x, y)))
            .map(|(x, y)| if bitmap.get(x, y) { 0 } else { 255 })
            .collect();
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
            384,
            (qr_bottom - qr_top) as usize,
            |x, y| gray[y * 384 + x],
        );
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        assert_eq!(grids[0].decode().unwrap().1, "hello");
        // The cut: a dashed line.
        let y = bitmap.height() - 8;
        assert!(bitmap.get(0, y) && !bitmap.get(8, y) && bitmap.get(16, y));
    }
}
