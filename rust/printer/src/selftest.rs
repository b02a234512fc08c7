//! The self-test page (`poscore print-test`): what an engineer checks when a printer is
//! installed. Paper width and dots, the text encoding and code page, Chinese and English
//! text, bold and double size, a column ruler, a millimetre ruler image, and a QR code
//! that a phone can read.

use poscore_escpos::document::{Element, QrLevel};
use poscore_escpos::profile::{QrMode, TextEncoding};
use poscore_escpos::{Align, Bitmap, Document, Profile, TextStyle};

/// What the self-test page's QR code says (a phone shows it).
pub const QR_TEXT: &str = "poscore self-test 自检 OK";

/// The encoding's name as the page prints it.
pub fn encoding_name(encoding: TextEncoding) -> String {
    match encoding {
        TextEncoding::Gb18030 => "GB18030 (FS &)".to_string(),
        TextEncoding::Gbk => "GBK (FS &)".to_string(),
        TextEncoding::Utf8 => "UTF-8".to_string(),
        TextEncoding::SingleByte { code_page, charset } => {
            format!("{charset:?} (ESC t {code_page})")
        }
    }
}

/// A column ruler: `....+....1....+....2…`, exactly `columns` wide.
pub fn column_ruler(columns: usize) -> String {
    (1..=columns)
        .map(|c| match c % 10 {
            0 => char::from_digit(((c / 10) % 10) as u32, 10).unwrap_or('0'),
            5 => '+',
            _ => '.',
        })
        .collect()
}

/// A millimetre ruler across the paper: a tick every mm (8 dots), longer every 5 and
/// 10 mm, and a baseline, so a person can see the printable width and any dead dots.
pub fn millimetre_ruler(width_dots: u32) -> Bitmap {
    let height = 32;
    let mut ruler = Bitmap::new(width_dots, height);
    for x in 0..width_dots {
        ruler.set(x, height - 1, true);
        ruler.set(x, height - 2, true);
    }
    for mm in 0..=(width_dots / 8) {
        let x = (mm * 8).min(width_dots - 1);
        let tick = if mm % 10 == 0 {
            height
        } else if mm % 5 == 0 {
            20
        } else {
            10
        };
        for y in (height - tick)..height {
            ruler.set(x, y, true);
            ruler.set((x + 1).min(width_dots - 1), y, true);
        }
    }
    ruler
}

/// The self-test page for a printer model.
pub fn document(profile: &Profile) -> Document {
    let columns = profile.paper.columns();
    let qr = match profile.qr {
        QrMode::Native => "native (GS ( k)",
        QrMode::Raster => "raster (GS v 0)",
    };
    let confirm = if profile.process_id {
        "GS ( H process ID"
    } else {
        "GS r 1 paper status"
    };
    let mut page = Document::new()
        .text("打印机自检 SELF-TEST", TextStyle::BIG, Align::Center)
        .separator('=')
        .row("纸宽 Paper", &format!("{} dots", profile.paper.dots()))
        .row("每行 Columns", &format!("{columns}"))
        .row("编码 Encoding", &encoding_name(profile.encoding))
        .row("二维码 QR", qr)
        .row("确认 Confirm", confirm)
        .separator('-')
        .line("中文：银联预授权签购单 商户存根")
        .line("English: pre-authorization slip")
        .text("粗体 Bold", TextStyle::BOLD, Align::Left)
        .text("倍宽倍高 BIG", TextStyle::BIG, Align::Left)
        .text("居中 Centered", TextStyle::default(), Align::Center)
        .text("右对齐 Right", TextStyle::default(), Align::Right)
        .separator('-')
        .line(&column_ruler(columns))
        .image(millimetre_ruler(profile.paper.dots()), Align::Left)
        .line("1 mm ticks; 5 / 10 mm long ticks");
    page = page.push(Element::Qr {
        data: QR_TEXT.to_string(),
        module_size: 6,
        level: QrLevel::M,
        align: Align::Center,
    });
    page.line("扫码应显示 Scan: self-test OK").feed(2).cut()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rulers_fit_the_paper() {
        assert_eq!(column_ruler(32).chars().count(), 32);
        assert_eq!(&column_ruler(32)[..12], "....+....1..");
        assert_eq!(&column_ruler(48)[39..], "4....+...");
        let ruler = millimetre_ruler(384);
        assert_eq!(ruler.width(), 384);
        assert!(ruler.get(0, 0) && ruler.get(80, 0) && !ruler.get(8, 0) && ruler.get(8, 31));
    }

    #[test]
    fn the_page_names_what_it_tests() {
        let page = document(&Profile::mm80());
        let text = format!("{page:?}");
        assert!(text.contains("576 dots") && text.contains("GB18030") && text.contains("GS ( H"));
        assert!(matches!(page.elements.last(), Some(Element::Cut { .. })));
    }
}
