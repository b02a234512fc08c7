//! Criterion: encode and decode of a UnionPay pre-auth request (0100) and its reply (0110),
//! the frame reader on a stream of both, and the CUP ECB MAC over the request.
//!
//! ```sh
//! cargo bench -p poscore-iso8583 --bench codec
//! ```

#[path = "../tests/support/messages.rs"]
mod messages;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use poscore_iso8583::frame::frame;
use poscore_iso8583::mac::mac_data;
use poscore_iso8583::{
    FrameReader, Header, ProcessingRequirement, Tpdu, cup_ecb_mac, decode, encode, unionpay_pos,
};

fn codec(c: &mut Criterion) {
    let profile = unionpay_pos();
    let request = messages::preauth();
    let reply = messages::preauth_reply();
    let request_bytes = encode(&request, &profile).unwrap();
    let reply_bytes = encode(&reply, &profile).unwrap();
    c.bench_function("encode/0100_preauth", |b| {
        b.iter(|| encode(black_box(&request), &profile).unwrap())
    });
    c.bench_function("decode/0100_preauth", |b| {
        b.iter(|| decode(black_box(&request_bytes), &profile).unwrap())
    });
    c.bench_function("encode/0110_reply", |b| {
        b.iter(|| encode(black_box(&reply), &profile).unwrap())
    });
    c.bench_function("decode/0110_reply", |b| {
        b.iter(|| decode(black_box(&reply_bytes), &profile).unwrap())
    });

    let tpdu = Tpdu::new([0x00, 0x03], [0x00, 0x00]);
    let header = Header::new(0x61, 0x31, 0, ProcessingRequirement::None, [0, 0, 0]);
    let stream: Vec<u8> = [&request_bytes, &reply_bytes]
        .iter()
        .flat_map(|b| frame(&tpdu, &header, b).unwrap())
        .collect();
    c.bench_function("frame_reader/two_frames_in_3_pieces", |b| {
        b.iter(|| {
            let mut reader = FrameReader::default();
            let mut n = 0;
            for piece in stream.chunks(stream.len() / 3 + 1) {
                reader.push(piece);
                while reader.next_frame().unwrap().is_some() {
                    n += 1;
                }
            }
            assert_eq!(n, 2);
        })
    });
    let data = mac_data(&request_bytes).unwrap();
    let mak = [0x3B, 0x1C, 0x7F, 0x8A, 0x5D, 0x2E, 0x6B, 0x94];
    c.bench_function("mac/cup_ecb_0100", |b| {
        b.iter(|| cup_ecb_mac(&mak, black_box(data)).unwrap())
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
