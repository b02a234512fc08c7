//! The benchmark slip: a full pre-auth completion slip as a bank terminal prints it, in mixed
//! Chinese and English (about 40 printed lines), with a 384×120 signature image dithered from a
//! synthetic grayscale pen stroke, a QR code, a footer and a cut. Shared by the `escpos` and
//! `vs_python` benches.

use poscore_escpos::document::{Align, Document, TextStyle};
use poscore_escpos::{Bitmap, Dither};

/// Signature image width in dots (a full 58 mm line).
pub const SIGNATURE_WIDTH: u32 = 384;
/// Signature image height in dots (15 mm).
pub const SIGNATURE_HEIGHT: u32 = 120;
/// The QR code's data (an e-receipt link).
pub const QR_DATA: &str =
    "https://poscore.example/r/PA-20250612-000123?t=10000001&m=898310048161234";

/// A signature: a looping pen stroke with soft, anti-aliased edges and a little pressure
/// variation, on a faintly gray background, as a grayscale image (0 = black, 255 = white),
/// dithered with Floyd–Steinberg.
pub fn signature() -> Bitmap {
    let (w, h) = (SIGNATURE_WIDTH as usize, SIGNATURE_HEIGHT as usize);
    // Background: paper with a slight gradient (dithering turns some of it into sparse dots).
    let mut ink = vec![0f32; w * h];
    // The stroke: a parametric curve sampled densely; each sample stamps a soft disc.
    let samples = 6000;
    for i in 0..samples {
        let t = i as f32 / samples as f32;
        let x = 20.0 + t * 340.0;
        let y = 60.0 + 30.0 * (t * 19.0).sin() * (1.0 - 0.5 * t) + 12.0 * (t * 53.0).cos();
        let radius = 1.6 + 1.2 * (t * 7.0).sin().abs(); // pen pressure
        let (x0, x1) = ((x - 4.0).max(0.0) as usize, ((x + 4.0) as usize).min(w - 1));
        let (y0, y1) = ((y - 4.0).max(0.0) as usize, ((y + 4.0) as usize).min(h - 1));
        for py in y0..=y1 {
            for px in x0..=x1 {
                let d = ((px as f32 - x).powi(2) + (py as f32 - y).powi(2)).sqrt();
                let coverage = (radius + 0.8 - d).clamp(0.0, 1.0);
                let cell = &mut ink[py * w + px];
                *cell = cell.max(coverage);
            }
        }
    }
    // A baseline the customer signed on.
    for x in 10..w - 10 {
        ink[(h - 14) * w + x] = ink[(h - 14) * w + x].max(0.55);
    }
    let gray: Vec<u8> = ink
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            let paper = 250.0 - 14.0 * ((i % w) as f32 / w as f32); // slight gradient
            (paper * (1.0 - a)).round() as u8
        })
        .collect();
    Bitmap::from_grayscale(
        SIGNATURE_WIDTH,
        SIGNATURE_HEIGHT,
        &gray,
        Dither::FloydSteinberg,
    )
    .expect("the grayscale buffer has width × height bytes")
}

/// The pre-auth completion slip (merchant copy).
pub fn preauth_slip() -> Document {
    let centered =
        |doc: Document, text: &str, style: TextStyle| doc.text(text, style, Align::Center);
    let mut doc = Document::new();
    doc = centered(doc, "签购单", TextStyle::BIG);
    doc = centered(doc, "银联商务 UnionPay POS SLIP", TextStyle::BOLD);
    doc = centered(doc, "商户存根 MERCHANT COPY", TextStyle::default());
    doc = doc.separator('-');
    doc = doc
        .line("商户名称 MERCHANT NAME:")
        .line("上海浦东示范便利店 Demo Store")
        .row("商户编号 MER NO.", "898310048161234")
        .row("终端编号 TERMINAL NO.", "10000001")
        .row("操作员号 OPERATOR NO.", "01")
        .separator('-')
        .row("发卡行 ISSUER", "中国工商银行 ICBC")
        .row("收单行 ACQUIRER", "银联商务 UMS")
        .row("卡号 CARD NO.", "6222****1234 /C")
        .row("有效期 EXP. DATE", "**/**")
        .separator('-');
    doc = doc.text("交易类型 TRANS TYPE", TextStyle::BOLD, Align::Left);
    doc = doc.text("预授权完成 PRE-AUTH COMPLETE", TextStyle::BOLD, Align::Left);
    doc = doc
        .row("批次号 BATCH NO.", "000042")
        .row("凭证号 VOUCHER NO.", "000123")
        .row("授权码 AUTH NO.", "A1B2C3")
        .row("参考号 REF. NO.", "250612143055")
        .row("原授权码 ORIG. AUTH NO.", "A1B2C3")
        .row("原交易日期 ORIG. DATE", "2025/06/10")
        .row("日期 DATE", "2025/06/12 14:30:55")
        .separator('-')
        .row("预授权金额 AUTH AMT", "RMB 1,500.00")
        .row("完成金额 AMOUNT", "RMB 1,234.56");
    let tall = TextStyle {
        bold: true,
        underline: false,
        double_width: false,
        double_height: true,
    };
    doc = doc.text("总计 TOTAL: RMB 1,234.56", tall, Align::Left);
    doc = doc
        .separator('-')
        .line("备注 REFERENCE: 房间 Room 1208, 入住 3 晚 / 3 nights, 押金转消费 deposit to sale")
        .separator('-')
        .line("持卡人签名 CARDHOLDER SIGNATURE:")
        .image(signature(), Align::Center)
        .line("本人确认以上交易,同意将其记入本卡账户")
        .line("I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES")
        .separator('=')
        .qr(QR_DATA);
    doc = centered(doc, "扫码查看电子签购单 e-receipt", TextStyle::default());
    doc = centered(doc, "客服热线 Hotline 95534", TextStyle::default());
    doc = centered(doc, "*** 谢谢惠顾 THANK YOU ***", TextStyle::BOLD);
    doc.feed(2).cut()
}
