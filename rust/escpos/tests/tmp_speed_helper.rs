#[path = "../benches/support/slip.rs"]
mod slip;
use poscore_escpos::*;
fn time(name: &str, doc: &Document) {
    let profile = Profile::mm58();
    let n = 3000;
    let t = std::time::Instant::now();
    for _ in 0..n { std::hint::black_box(encode(doc, &profile).unwrap()); }
    println!("{name}: {:?}", t.elapsed() / n);
}
#[test]
fn speed() {
    let doc = slip::preauth_slip();
    time("full", &doc);
    let no_image = Document { elements: doc.elements.iter().filter(|e| !matches!(e, Element::Image{..})).cloned().collect() };
    time("no image", &no_image);
    let rows = Document { elements: doc.elements.iter().filter(|e| matches!(e, Element::Row{..})).cloned().collect() };
    time("rows", &rows);
    let texts = Document { elements: doc.elements.iter().filter(|e| matches!(e, Element::Text{..})).cloned().collect() };
    time("texts", &texts);
    let seps = Document { elements: doc.elements.iter().filter(|e| matches!(e, Element::Separator{..})).cloned().collect() };
    time("seps", &seps);
    let mut big = String::new(); for _ in 0..100 { big.push_str("中文字符测试"); }
    let enc = encoding_rs::GB18030;
    let t = std::time::Instant::now();
    for _ in 0..1000 { std::hint::black_box(enc.encode(&big)); }
    println!("600 hanzi gb18030 encode: {:?}", t.elapsed() / 1000);
}
