//! Criterion benchmarks of the ESC/POS encoder and decoder on a full pre-auth slip
//! (`support/slip.rs`: ~40 lines of mixed Chinese and English, a 384×120 signature, a QR code).
//!
//! ```sh
//! cargo bench -p poscore-escpos --bench escpos            # full run
//! cargo bench -p poscore-escpos --bench escpos -- --quick # a quick one
//! ```

#[path = "support/slip.rs"]
mod slip;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use poscore_escpos::decode::DecodeOptions;
use poscore_escpos::{Profile, decode, encode};

fn slip_benches(c: &mut Criterion) {
    let document = slip::preauth_slip();
    let profile = Profile::mm58();
    let bytes = encode(&document, &profile).expect("the slip encodes");
    let options = DecodeOptions {
        paper: profile.paper,
        encoding: profile.encoding,
    };
    // Sanity, untimed: the slip decodes to its ~40 lines, the signature and a QR code.
    let page = decode(&bytes, &options);
    let lines = page.text().lines().count();
    assert!(
        (35..=60).contains(&lines),
        "the slip has about 40 lines, decoded {lines}"
    );
    assert_eq!(page.images().len(), 1, "the signature");

    let mut group = c.benchmark_group("slip_58mm_gb18030");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode", |b| {
        b.iter(|| encode(black_box(&document), black_box(&profile)).unwrap())
    });
    group.bench_function("decode", |b| {
        b.iter(|| decode(black_box(&bytes), black_box(&options)))
    });
    group.finish();
}

criterion_group!(benches, slip_benches);
criterion_main!(benches);
