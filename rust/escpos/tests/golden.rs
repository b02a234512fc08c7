//! Golden bytes for the encoder: every element kind and every profile variation, with the
//! expected bytes written out by hand from reference/printers.md (not produced by the
//! encoder), plus properties of the layout, QR codes that decode back, and the `GS v 0`
//! byte layout.

use poscore_escpos::barcode;
use poscore_escpos::commands::{self, RasterMode};
use poscore_escpos::document::{QrLevel, Span};
use poscore_escpos::layout::{display_width, wrap};
use poscore_escpos::profile::SingleByteCharset;
use poscore_escpos::qr;
use poscore_escpos::{
    Align, Bitmap, Document, Element, Profile, QrMode, TextEncoding, TextStyle, encode,
};

/// `ESC @` `FS &`: the prologue of every GB18030/GBK job.
const GB: [u8; 4] = [0x1B, 0x40, 0x1C, 0x26];

fn gb(body: &[u8]) -> Vec<u8> {
    [&GB[..], body].concat()
}

fn mm58() -> Profile {
    Profile::mm58()
}

fn mm80() -> Profile {
    Profile::mm80()
}

fn with_encoding(encoding: TextEncoding) -> Profile {
    Profile {
        encoding,
        ..Profile::mm58()
    }
}

// ---------------------------------------------------------------------------------------
// Text

#[test]
fn text_plain_line() {
    assert_eq!(
        encode(&Document::new().line("Hi"), &mm58()).unwrap(),
        [0x1B, 0x40, 0x1C, 0x26, 0x48, 0x69, 0x0A]
    );
}

#[test]
fn text_chinese_gb18030() {
    // 中 = D6 D0, 文 = CE C4 (GB2312 row 54/46).
    assert_eq!(
        encode(&Document::new().line("中文"), &mm58()).unwrap(),
        gb(&[0xD6, 0xD0, 0xCE, 0xC4, 0x0A])
    );
}

#[test]
fn text_styles_and_alignment_then_reset() {
    let style = TextStyle {
        bold: true,
        underline: true,
        double_width: true,
        double_height: true,
    };
    let bytes = encode(
        &Document::new().text("Total", style, Align::Center),
        &mm58(),
    )
    .unwrap();
    assert_eq!(
        bytes,
        gb(&[
            0x1B, 0x61, 0x01, // ESC a 1: center
            0x1B, 0x45, 0x01, // ESC E 1
            0x1B, 0x2D, 0x01, // ESC - 1
            0x1D, 0x21, 0x11, // GS ! 0x11: double width and height
            b'T', b'o', b't', b'a', b'l', 0x0A, //
            0x1B, 0x45, 0x00, 0x1B, 0x2D, 0x00, 0x1D, 0x21, 0x00, // styles off
            0x1B, 0x61, 0x00, // left
        ])
    );
}

#[test]
fn text_double_height_only_and_right() {
    let style = TextStyle {
        double_height: true,
        ..TextStyle::default()
    };
    let bytes = encode(&Document::new().text("A", style, Align::Right), &mm80()).unwrap();
    assert_eq!(
        bytes,
        gb(&[
            0x1B, 0x61, 0x02, 0x1D, 0x21, 0x01, b'A', 0x0A, 0x1D, 0x21, 0x00, 0x1B, 0x61, 0x00
        ])
    );
}

#[test]
fn text_styles_sent_only_on_change() {
    let doc = Document::new()
        .text("a", TextStyle::BOLD, Align::Center)
        .text("b", TextStyle::BOLD, Align::Center)
        .line("c");
    let bytes = encode(&doc, &mm58()).unwrap();
    assert_eq!(
        bytes,
        gb(&[
            0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01, b'a', 0x0A, b'b', 0x0A, 0x1B, 0x61, 0x00, 0x1B,
            0x45, 0x00, b'c', 0x0A
        ])
    );
}

#[test]
fn text_mixed_spans_in_one_line() {
    let doc = Document::new().push(Element::Text {
        spans: vec![
            Span {
                text: "Pay ".into(),
                style: TextStyle::default(),
            },
            Span {
                text: "12".into(),
                style: TextStyle::BOLD,
            },
        ],
        align: Align::Left,
    });
    let bytes = encode(&doc, &mm58()).unwrap();
    assert_eq!(
        bytes,
        gb(&[
            b'P', b'a', b'y', b' ', 0x1B, 0x45, 0x01, b'1', b'2', 0x0A, 0x1B, 0x45, 0x00
        ])
    );
}

#[test]
fn text_wraps_at_32_columns_on_58mm_and_48_on_80mm() {
    let text = "The quick brown fox jumps over the lazy dog";
    assert_eq!(
        encode(&Document::new().line(text), &mm58()).unwrap(),
        gb(b"The quick brown fox jumps over\nthe lazy dog\n")
    );
    assert_eq!(
        encode(&Document::new().line(text), &mm80()).unwrap(),
        gb(b"The quick brown fox jumps over the lazy dog\n")
    );
}

#[test]
fn text_cjk_wraps_at_16_characters_on_58mm() {
    // 17 × 中 = 34 columns: 16 on the first line, 1 on the second.
    let text = "中".repeat(17);
    let mut expected = GB.to_vec();
    for _ in 0..16 {
        expected.extend_from_slice(&[0xD6, 0xD0]);
    }
    expected.extend_from_slice(&[0x0A, 0xD6, 0xD0, 0x0A]);
    assert_eq!(
        encode(&Document::new().line(&text), &mm58()).unwrap(),
        expected
    );
}

#[test]
fn text_double_width_halves_the_columns() {
    // 58 mm, double width: 16 columns, so 9 × 中 (18 columns) wrap after 8.
    let style = TextStyle {
        double_width: true,
        ..TextStyle::default()
    };
    let bytes = encode(
        &Document::new().text(&"中".repeat(9), style, Align::Left),
        &mm58(),
    )
    .unwrap();
    let mut expected = gb(&[0x1D, 0x21, 0x10]);
    for _ in 0..8 {
        expected.extend_from_slice(&[0xD6, 0xD0]);
    }
    expected.extend_from_slice(&[0x0A, 0xD6, 0xD0, 0x0A, 0x1D, 0x21, 0x00]);
    assert_eq!(bytes, expected);
}

// ---------------------------------------------------------------------------------------
// Encodings

#[test]
fn encoding_gbk_has_no_four_byte_codes() {
    // ¥ (U+00A5) is 81 30 84 36 in GB18030 and absent from GBK.
    let doc = Document::new().line("中¥");
    assert_eq!(
        encode(&doc, &mm58()).unwrap(),
        gb(&[0xD6, 0xD0, 0x81, 0x30, 0x84, 0x36, 0x0A])
    );
    assert_eq!(
        encode(&doc, &with_encoding(TextEncoding::Gbk)).unwrap(),
        gb(&[0xD6, 0xD0, b'?', 0x0A])
    );
}

#[test]
fn encoding_utf8_cancels_chinese_mode() {
    let bytes = encode(
        &Document::new().line("中é"),
        &with_encoding(TextEncoding::Utf8),
    )
    .unwrap();
    assert_eq!(
        bytes,
        [0x1B, 0x40, 0x1C, 0x2E, 0xE4, 0xB8, 0xAD, 0xC3, 0xA9, 0x0A]
    );
}

#[test]
fn encoding_single_byte_pc437() {
    let profile = with_encoding(TextEncoding::SingleByte {
        code_page: 0,
        charset: SingleByteCharset::Pc437,
    });
    let bytes = encode(&Document::new().line("café 中"), &profile).unwrap();
    assert_eq!(
        bytes,
        [
            0x1B, 0x40, 0x1C, 0x2E, 0x1B, 0x74, 0x00, b'c', b'a', b'f', b'?', b' ', b'?', 0x0A
        ]
    );
}

#[test]
fn encoding_single_byte_windows1252() {
    let profile = with_encoding(TextEncoding::SingleByte {
        code_page: 16,
        charset: SingleByteCharset::Windows1252,
    });
    let bytes = encode(&Document::new().line("café €5 中"), &profile).unwrap();
    assert_eq!(
        bytes,
        [
            0x1B, 0x40, 0x1C, 0x2E, 0x1B, 0x74, 0x10, b'c', b'a', b'f', 0xE9, b' ', 0x80, b'5',
            b' ', b'?', 0x0A
        ]
    );
}

#[test]
fn encoding_single_byte_counts_one_column_per_character() {
    // In a single-byte page 中 prints as one '?': 40 of them wrap at 32, not 16.
    let profile = with_encoding(TextEncoding::SingleByte {
        code_page: 0,
        charset: SingleByteCharset::Pc437,
    });
    let bytes = encode(&Document::new().line(&"中".repeat(40)), &profile).unwrap();
    let mut expected = vec![0x1B, 0x40, 0x1C, 0x2E, 0x1B, 0x74, 0x00];
    expected.extend_from_slice(&[b'?'; 32]);
    expected.push(0x0A);
    expected.extend_from_slice(&[b'?'; 8]);
    expected.push(0x0A);
    assert_eq!(bytes, expected);
}

// ---------------------------------------------------------------------------------------
// Rows

#[test]
fn row_on_58mm_and_80mm() {
    let doc = Document::new().row("Total", "12.00");
    let mut line58 = b"Total".to_vec();
    line58.extend_from_slice(&[b' '; 22]);
    line58.extend_from_slice(b"12.00\n");
    assert_eq!(encode(&doc, &mm58()).unwrap(), gb(&line58));
    let mut line80 = b"Total".to_vec();
    line80.extend_from_slice(&[b' '; 38]);
    line80.extend_from_slice(b"12.00\n");
    assert_eq!(encode(&doc, &mm80()).unwrap(), gb(&line80));
}

#[test]
fn row_chinese_label_and_four_byte_yen() {
    // 金额 = BD F0 B6 EE (4 columns); ¥12.00 = 81 30 84 36 + 5 ASCII (7 columns): 21 spaces.
    let bytes = encode(&Document::new().row("金额", "¥12.00"), &mm58()).unwrap();
    let mut expected = gb(&[0xBD, 0xF0, 0xB6, 0xEE]);
    expected.extend_from_slice(&[b' '; 21]);
    expected.extend_from_slice(&[0x81, 0x30, 0x84, 0x36]);
    expected.extend_from_slice(b"12.00\n");
    assert_eq!(bytes, expected);
}

#[test]
fn row_value_on_its_own_line_when_both_do_not_fit() {
    let label = "Merchant name of some length"; // 28 columns
    let bytes = encode(&Document::new().row(label, "SHOP-01"), &mm58()).unwrap();
    let mut expected = gb(label.as_bytes());
    expected.push(0x0A);
    expected.extend_from_slice(&[b' '; 25]);
    expected.extend_from_slice(b"SHOP-01\n");
    assert_eq!(bytes, expected);
}

#[test]
fn row_big_style_uses_half_the_columns() {
    let doc = Document::new().push(Element::Row {
        label: "Sum".into(),
        value: "9".into(),
        style: TextStyle::BIG,
    });
    let bytes = encode(&doc, &mm58()).unwrap();
    // 16 columns: "Sum" + 12 spaces + "9".
    let mut expected = gb(&[0x1B, 0x45, 0x01, 0x1D, 0x21, 0x11]);
    expected.extend_from_slice(b"Sum");
    expected.extend_from_slice(&[b' '; 12]);
    expected.extend_from_slice(b"9\n");
    expected.extend_from_slice(&[0x1B, 0x45, 0x00, 0x1D, 0x21, 0x00]);
    assert_eq!(bytes, expected);
}

// ---------------------------------------------------------------------------------------
// Separator, feed, cut

#[test]
fn separator_fills_the_line() {
    let mut expected = GB.to_vec();
    expected.extend_from_slice(&[b'-'; 32]);
    expected.push(0x0A);
    assert_eq!(
        encode(&Document::new().separator('-'), &mm58()).unwrap(),
        expected
    );
    let mut expected = GB.to_vec();
    expected.extend_from_slice(&[b'='; 48]);
    expected.push(0x0A);
    assert_eq!(
        encode(&Document::new().separator('='), &mm80()).unwrap(),
        expected
    );
}

#[test]
fn separator_of_a_double_byte_character() {
    // — (U+2014) is A1 AA in GB18030, two columns: 16 of them on 58 mm.
    let mut expected = GB.to_vec();
    for _ in 0..16 {
        expected.extend_from_slice(&[0xA1, 0xAA]);
    }
    expected.push(0x0A);
    assert_eq!(
        encode(&Document::new().separator('—'), &mm58()).unwrap(),
        expected
    );
}

#[test]
fn feed_and_cut() {
    assert_eq!(
        encode(&Document::new().feed(2), &mm58()).unwrap(),
        gb(&[0x1B, 0x64, 0x02])
    );
    assert_eq!(
        encode(&Document::new().cut(), &mm58()).unwrap(),
        gb(&[0x1B, 0x64, 0x03, 0x1D, 0x56, 0x00])
    );
    let partial = Document::new().push(Element::Cut { partial: true });
    assert_eq!(
        encode(&partial, &mm80()).unwrap(),
        gb(&[0x1B, 0x64, 0x03, 0x1D, 0x56, 0x01])
    );
}

// ---------------------------------------------------------------------------------------
// Images

/// A 10×3 bitmap: row 0 dots 0 and 9, row 1 dots 1–8, row 2 empty.
fn ten_by_three() -> Bitmap {
    let mut b = Bitmap::new(10, 3);
    b.set(0, 0, true);
    b.set(9, 0, true);
    for x in 1..=8 {
        b.set(x, 1, true);
    }
    b
}

#[test]
fn raster_10x3_header_and_bytes() {
    // Width 2 bytes (xL xH = 02 00), height 3 dots (yL yH = 03 00), MSB leftmost:
    // row 0: 1000_0000 0100_0000; row 1: 0111_1111 1000_0000; row 2: zeros.
    let expected = [
        0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x03, 0x00, 0x80, 0x40, 0x7F, 0x80, 0x00, 0x00,
    ];
    assert_eq!(
        commands::raster(&ten_by_three(), RasterMode::Normal).unwrap(),
        expected
    );
    let quad = commands::raster(&ten_by_three(), RasterMode::Quadruple).unwrap();
    assert_eq!(&quad[..4], [0x1D, 0x76, 0x30, 0x03]);
}

#[test]
fn image_element_centered() {
    let bytes = encode(
        &Document::new().image(ten_by_three(), Align::Center),
        &mm58(),
    )
    .unwrap();
    assert_eq!(
        bytes,
        gb(&[
            0x1B, 0x61, 0x01, //
            0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x03, 0x00, 0x80, 0x40, 0x7F, 0x80, 0x00,
            0x00, //
            0x1B, 0x61, 0x00,
        ])
    );
}

#[test]
fn image_full_width_on_each_paper() {
    for (profile, bytes_across) in [(mm58(), 48u8), (mm80(), 72u8)] {
        let bitmap = Bitmap::new(profile.paper.dots(), 1);
        let out = encode(&Document::new().image(bitmap, Align::Left), &profile).unwrap();
        assert_eq!(
            &out[4..12],
            [0x1D, 0x76, 0x30, 0x00, bytes_across, 0x00, 0x01, 0x00]
        );
        assert_eq!(out.len(), 12 + usize::from(bytes_across));
    }
}

// ---------------------------------------------------------------------------------------
// QR codes

#[test]
fn qr_native_sequence() {
    let bytes = encode(&Document::new().qr("ABC"), &mm58()).unwrap();
    assert_eq!(
        bytes,
        gb(&[
            0x1B, 0x61, 0x01, // center
            0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00, // model 2
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06, // module size 6
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31, // level M = 49
            0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, b'A', b'B', b'C', // store, 3 + 3
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, // print
            0x1B, 0x61, 0x00,
        ])
    );
}

#[test]
fn qr_native_levels_and_long_data() {
    for (level, byte) in [
        (QrLevel::L, 0x30),
        (QrLevel::M, 0x31),
        (QrLevel::Q, 0x32),
        (QrLevel::H, 0x33),
    ] {
        let data = "9".repeat(300);
        let doc = Document::new().push(Element::Qr {
            data: data.clone(),
            module_size: 3,
            level,
            align: Align::Left,
        });
        let bytes = encode(&doc, &mm80()).unwrap();
        let body = &bytes[4..];
        assert_eq!(
            &body[9..17],
            [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x03]
        );
        assert_eq!(
            &body[17..25],
            [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, byte]
        );
        // 300 + 3 = 303 = 0x012F: pL = 2F, pH = 01.
        assert_eq!(
            &body[25..33],
            [0x1D, 0x28, 0x6B, 0x2F, 0x01, 0x31, 0x50, 0x30]
        );
        assert_eq!(&body[33..333], data.as_bytes());
        assert_eq!(
            &body[333..],
            [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]
        );
    }
}

#[test]
fn qr_raster_is_a_scaled_gs_v_0() {
    let profile = Profile {
        qr: QrMode::Raster,
        ..mm58()
    };
    let doc = Document::new().push(Element::Qr {
        data: "ABC".into(),
        module_size: 2,
        level: QrLevel::M,
        align: Align::Left,
    });
    let bytes = encode(&doc, &profile).unwrap();
    let body = &bytes[4..];
    // Version 1: 21 modules × 2 dots = 42 dots: 6 bytes across, 42 rows.
    assert_eq!(&body[..8], [0x1D, 0x76, 0x30, 0x00, 0x06, 0x00, 0x2A, 0x00]);
    assert_eq!(body.len(), 8 + 6 * 42);
    let rows = &body[8..];
    // Rows 0 and 1 (module row 0): finder patterns at modules 0–6 and 14–20, module 7 light.
    for row in [&rows[0..6], &rows[6..12]] {
        assert_eq!(row[0], 0xFF);
        assert_eq!(row[1], 0xFC);
        assert_eq!(row[3] & 0x0F, 0x0F);
        assert_eq!(row[4], 0xFF);
        assert_eq!(row[5], 0xC0);
    }
    // Module row 1 (dot rows 2–3): dark, five light, dark at both finders.
    assert_eq!(&rows[12..14], [0xC0, 0x0C]);
    // The dots are the modules, doubled.
    let modules = qr::modules(b"ABC", QrLevel::M).unwrap();
    let image = Bitmap::from_packed(42, 42, rows.to_vec()).unwrap();
    for y in 0..42 {
        for x in 0..42 {
            assert_eq!(image.get(x, y), modules.get(x / 2, y / 2));
        }
    }
}

#[test]
fn qr_raster_centered_on_80mm() {
    let profile = Profile {
        qr: QrMode::Raster,
        ..mm80()
    };
    let bytes = encode(&Document::new().qr("https://example.com/r/1"), &profile).unwrap();
    // Version 2 at M: 25 modules × 6 dots = 150 dots = 19 bytes across.
    assert_eq!(
        &bytes[..15],
        [
            0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x61, 0x01, 0x1D, 0x76, 0x30, 0x00, 0x13, 0x00, 0x96,
            0x00
        ]
    );
    assert!(bytes.ends_with(&[0x1B, 0x61, 0x00]));
}

/// Decodes a module bitmap with rqrr after drawing it with a 4-module quiet zone.
fn decode_modules(modules: &Bitmap) -> String {
    let image = qr::scale(modules, 4, 4);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        image.width() as usize,
        image.height() as usize,
        |x, y| {
            if image.get(x as u32, y as u32) {
                0
            } else {
                255
            }
        },
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code expected");
    grids[0].decode().unwrap().1
}

#[test]
fn qr_modules_decode_back() {
    let cases = [
        ("HELLO WORLD", QrLevel::L),
        ("https://example.com/receipt?id=42&amount=12.00", QrLevel::M),
        ("0123456789012345678901234567890123456789", QrLevel::Q),
        ("商户 Merchant 12.00 元", QrLevel::H),
        (&"x".repeat(400), QrLevel::M),
    ];
    for (data, level) in cases {
        let modules = qr::modules(data.as_bytes(), level).unwrap();
        assert_eq!(decode_modules(&modules), data, "{level:?}");
    }
}

#[test]
fn qr_raster_from_the_encoder_decodes() {
    let profile = Profile {
        qr: QrMode::Raster,
        ..mm58()
    };
    let data = "poscore 测试 https://example.com";
    let doc = Document::new().push(Element::Qr {
        data: data.into(),
        module_size: 4,
        level: QrLevel::Q,
        align: Align::Left,
    });
    let bytes = encode(&doc, &profile).unwrap();
    let body = &bytes[4..];
    let stride = usize::from(u16::from_le_bytes([body[4], body[5]]));
    let height = u16::from_le_bytes([body[6], body[7]]) as u32;
    let image = Bitmap::from_packed(
        stride as u32 * 8,
        height,
        body[8..8 + stride * height as usize].to_vec(),
    )
    .unwrap();
    // Back to modules (4 dots each), then decode.
    let side = height / 4;
    let mut modules = Bitmap::new(side, side);
    for y in 0..side {
        for x in 0..side {
            modules.set(x, y, image.get(x * 4 + 1, y * 4 + 1));
        }
    }
    assert_eq!(decode_modules(&modules), data);
}

// ---------------------------------------------------------------------------------------
// Barcodes

#[test]
fn barcode_digits_use_code_set_c() {
    let bytes = encode(&Document::new().barcode128("1234"), &mm58()).unwrap();
    assert_eq!(
        bytes,
        gb(&[
            0x1B, 0x61, 0x01, // center
            0x1D, 0x48, 0x02, // HRI below
            0x1D, 0x68, 0x50, // height 80
            0x1D, 0x77, 0x02, // module 2 dots
            0x1D, 0x6B, 0x49, 0x04, 0x7B, 0x43, 0x0C, 0x22, // {C 12 34
            0x1B, 0x61, 0x00,
        ])
    );
}

#[test]
fn barcode_text_uses_code_set_b_and_escapes_braces() {
    let doc = Document::new().push(Element::Barcode128 {
        data: "A{1".into(),
        height: 40,
        hri: false,
        align: Align::Left,
    });
    let bytes = encode(&doc, &mm80()).unwrap();
    assert_eq!(
        bytes,
        gb(&[
            0x1D, 0x48, 0x00, 0x1D, 0x68, 0x28, 0x1D, 0x77, 0x02, //
            0x1D, 0x6B, 0x49, 0x06, 0x7B, 0x42, b'A', 0x7B, 0x7B, b'1',
        ])
    );
}

#[test]
fn barcode_modules_and_text_of_the_payload() {
    // {C 12 34: START C (105), 12, 34, checksum (105 + 12 + 68) % 103 = 82, STOP.
    let payload = barcode::code128_payload("1234").unwrap();
    assert_eq!(
        barcode::code128_values(&payload).unwrap(),
        [105, 12, 34, 82, 106]
    );
    let modules = barcode::code128_modules(&payload).unwrap();
    let expected: Vec<bool> = concat!(
        "11010011100",   // START C 211232
        "10110011100",   // 12 = 112232
        "10001011000",   // 34 = 131123
        "10010011110",   // 82 = 121241
        "1100011101011"  // STOP 2331112
    )
    .bytes()
    .map(|b| b == b'1')
    .collect();
    assert_eq!(modules, expected);
    assert_eq!(barcode::code128_text(&payload), "1234");
}

// ---------------------------------------------------------------------------------------
// Process ID and status requests (the driver's bytes)

#[test]
fn status_and_confirmation_commands() {
    assert_eq!(commands::realtime_status(1), [0x10, 0x04, 0x01]);
    assert_eq!(commands::transmit_status(1), [0x1D, 0x72, 0x01]);
    assert_eq!(commands::auto_status_back(0xFF), [0x1D, 0x61, 0xFF]);
    assert_eq!(
        commands::process_id_request(*b"0001").unwrap(),
        [
            0x1D, 0x28, 0x48, 0x06, 0x00, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31
        ]
    );
    assert_eq!(
        commands::process_id_reply(*b"0001").unwrap(),
        [0x37, 0x22, 0x30, 0x30, 0x30, 0x31, 0x00]
    );
    assert!(commands::process_id_request([b'A', b'B', 0x0A, b'C']).is_err());
}

// ---------------------------------------------------------------------------------------
// A whole slip

#[test]
fn whole_slip_on_both_papers() {
    let doc = Document::new()
        .text("收银小票", TextStyle::BIG, Align::Center)
        .separator('-')
        .row("商户", "Shop")
        .cut();
    let mut expected = gb(&[0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01, 0x1D, 0x21, 0x11]);
    // 收银小票 = CA D5 D2 F8 D0 A1 C6 B1.
    expected.extend_from_slice(&[0xCA, 0xD5, 0xD2, 0xF8, 0xD0, 0xA1, 0xC6, 0xB1, 0x0A]);
    expected.extend_from_slice(&[0x1B, 0x61, 0x00, 0x1B, 0x45, 0x00, 0x1D, 0x21, 0x00]);
    let rule = expected.len();
    expected.extend_from_slice(&[b'-'; 32]);
    expected.push(0x0A);
    // 商户 = C9 CC BB A7: 4 + 4 columns, 24 spaces.
    expected.extend_from_slice(&[0xC9, 0xCC, 0xBB, 0xA7]);
    expected.extend_from_slice(&[b' '; 24]);
    expected.extend_from_slice(b"Shop\n");
    expected.extend_from_slice(&[0x1B, 0x64, 0x03, 0x1D, 0x56, 0x00]);
    assert_eq!(encode(&doc, &mm58()).unwrap(), expected);

    // 80 mm: 48 dashes, 40 spaces.
    let mut expected80 = expected[..rule].to_vec();
    expected80.extend_from_slice(&[b'-'; 48]);
    expected80.push(0x0A);
    expected80.extend_from_slice(&[0xC9, 0xCC, 0xBB, 0xA7]);
    expected80.extend_from_slice(&[b' '; 40]);
    expected80.extend_from_slice(b"Shop\n");
    expected80.extend_from_slice(&[0x1B, 0x64, 0x03, 0x1D, 0x56, 0x00]);
    assert_eq!(encode(&doc, &mm80()).unwrap(), expected80);
}

// ---------------------------------------------------------------------------------------
// Layout properties

/// A small deterministic generator (xorshift), so the property loop needs no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn random_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Z",
        "7",
        " ",
        " ",
        "  ",
        "中",
        "文",
        "金额",
        "，",
        "。",
        "（",
        "）",
        "ア",
        "한",
        "Ａ",
        "　",
        "¥",
        "é",
        "e\u{301}",
        "\n",
        "word",
        "longwordwithoutanyspacesatall",
        "12.00",
        "𠀀",
        "-",
    ];
    let len = rng.next() % 40;
    (0..len).map(|_| rng.pick(PIECES)).collect()
}

fn without_breaks(s: &str) -> String {
    s.chars().filter(|c| *c != ' ' && *c != '\n').collect()
}

#[test]
fn wrapping_never_splits_characters_nor_exceeds_the_columns() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let text = random_text(&mut rng);
        let columns = 2 + (round % 47);
        let lines = wrap(&text, columns);
        for line in &lines {
            assert!(
                display_width(line) <= columns,
                "{line:?} wider than {columns} in {text:?}"
            );
            assert!(
                !line.starts_with('\u{301}'),
                "combining mark split from its base in {text:?}"
            );
            assert!(!line.contains('\n'));
        }
        // Only spaces and line breaks are dropped; every other character survives in order.
        assert_eq!(
            without_breaks(&lines.concat()),
            without_breaks(&text),
            "columns {columns}: {text:?}"
        );
    }
}

#[test]
fn encoded_lines_never_exceed_the_paper() {
    // Decode our own GB18030 output naively: text between LFs, commands skipped.
    let mut rng = Rng(7);
    for _ in 0..300 {
        let text = random_text(&mut rng);
        for (profile, columns) in [(mm58(), 32), (mm80(), 48)] {
            let bytes = encode(&Document::new().line(&text), &profile).unwrap();
            let body = &bytes[4..];
            for line in body.split(|&b| b == 0x0A) {
                // GB18030: ASCII one column, a lead byte ≥ 0x81 starts a 2- or 4-byte code, two columns.
                let mut cols = 0;
                let mut i = 0;
                while i < line.len() {
                    if line[i] < 0x80 {
                        cols += 1;
                        i += 1;
                    } else if line.get(i + 1).is_some_and(|b| (0x30..=0x39).contains(b)) {
                        cols += 2;
                        i += 4;
                    } else {
                        cols += 2;
                        i += 2;
                    }
                }
                assert!(cols <= columns, "{text:?}: {line:02X?}");
            }
        }
    }
}

#[test]
fn validate_matches_encode() {
    let good = Document::new().line("ok").qr("data").barcode128("42");
    assert!(good.validate(&mm58()).is_ok());
    let bad = Document::new().image(Bitmap::new(577, 2), Align::Left);
    assert_eq!(
        bad.validate(&mm80()).unwrap_err(),
        encode(&bad, &mm80()).unwrap_err()
    );
}
